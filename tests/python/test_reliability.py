"""Interpreter exit with the runtime in use, thread safety, fork, and secrets kept out
of repr, logs and exceptions."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import make_issuer
from trustline import AuthError, Client, Guard, InvalidTokenError, MemoryStorage, OAuthError, Provider

SCENARIO = Path(__file__).with_name("exit_scenario.py")
EXIT_RUNS = int(os.environ.get("TRUSTLINE_EXIT_RUNS", "12"))


@pytest.mark.parametrize("mode", ["clean", "pending", "daemon", "all"])
def test_interpreter_exit_is_clean(mode):
    for run in range(EXIT_RUNS):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-X", "dev", str(SCENARIO), mode],
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started

        assert result.returncode == 0, f"run {run}: exit status {result.returncode}\n{result.stderr}"
        assert result.stdout.strip() == "scenario finished", f"run {run}: {result.stdout}"
        assert result.stderr == "", f"run {run}: stderr not empty:\n{result.stderr}"
        assert elapsed < 20, f"run {run}: exit took {elapsed:.1f} s"


def test_guard_shared_by_threads(issuer):
    tokens = [issuer.token(issuer.client(f"client-{index}")) for index in range(4)]
    guard = issuer.guard()
    failures = []

    def verify_many(token):
        try:
            for _ in range(300):
                guard.verify(token)
            with pytest.raises(InvalidTokenError):
                guard.verify(token + "x")
        except BaseException as error:  # collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=verify_many, args=(tokens[index % 4],)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []


def test_provider_shared_by_threads(tmp_path):
    from trustline import SqliteStorage

    provider = Provider(issuer="https://auth.internal", storage=SqliteStorage(tmp_path / "t.sqlite"))
    created = []

    def create_many(worker):
        for index in range(20):
            created.append(provider.clients.create(f"worker-{worker}-{index}").client_id)

    threads = [threading.Thread(target=create_many, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(created)) == 120
    assert len(provider.clients.list()) == 120


def test_blocking_call_inside_storage_callback(issuer):
    """A storage class that calls blocking trustline methods from its own methods."""
    inner = MemoryStorage()

    class Delegating:
        def __getattr__(self, name):
            return getattr(inner, name)

    provider = Provider(issuer="https://auth.internal", storage=Delegating())
    client_id = provider.clients.create("orders").client_id

    assert provider.clients.get(client_id).name == "orders"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_child_process_after_fork(issuer):
    created = issuer.client()
    Client(token_url=issuer.token_url, client_id=created.client_id, client_secret=created.client_secret).get_token()

    pid = os.fork()
    if pid == 0:  # the child: a new runtime serves new objects
        status = 1
        try:
            client = Client(token_url=issuer.token_url, client_id=created.client_id, client_secret=created.client_secret)
            issuer.guard().verify(client.get_token())
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)

    assert os.WEXITSTATUS(status) == 0


def test_secrets_stay_out_of_repr_logs_and_errors(server, caplog):
    caplog.set_level(logging.DEBUG)
    events = []
    issuer = make_issuer(server, MemoryStorage(), on_event=events.append)
    created = issuer.client()
    secret = created.client_secret
    client = Client(token_url=issuer.token_url, client_id=created.client_id, client_secret=secret)
    token = client.get_token()
    rotated = issuer.provider.clients.rotate_secret(created.client_id)
    guard_events = []
    guard = issuer.guard(on_event=guard_events.append, audience="elsewhere")
    errors = []
    for attempt in (
        lambda: guard.verify(token),
        lambda: guard.verify(token[:-4] + "AAAA"),
        lambda: Client(token_url=issuer.token_url, client_id=created.client_id, client_secret=secret + "x").get_token(),
    ):
        with pytest.raises(AuthError) as raised:
            attempt()
        errors.append(raised.value)

    texts = [repr(created), repr(rotated), repr(client), repr(issuer.provider), repr(guard)]
    texts += [repr(event) for event in events + guard_events]
    texts += [str(error) for error in errors] + [repr(error) for error in errors]
    texts.append(caplog.text)
    for text in texts:
        assert secret not in text
        assert rotated.client_secret not in text
        assert token not in text
        assert token.split(".")[2] not in text
    assert isinstance(errors[2], OAuthError)


def test_storage_records_hide_hashes_and_keys():
    storage = MemoryStorage()
    provider = Provider(issuer="https://auth.internal", storage=storage)
    created = provider.clients.create("orders")
    provider.jwks()

    client_record = storage.find_client(created.client_id)
    key_record = storage.get_signing_keys()[0]

    assert client_record.current_secret_hash not in repr(client_record)
    assert "PRIVATE KEY" not in repr(key_record)
    assert "PRIVATE KEY" in key_record.private_key


def test_error_pickles_with_code_and_status():
    import pickle

    error = pickle.loads(pickle.dumps(InvalidTokenError("the token has expired", code="invalid_token", status=401)))

    assert isinstance(error, InvalidTokenError)
    assert (error.code, error.status, error.message) == ("invalid_token", 401, "the token has expired")


def test_expiry_dates_are_timezone_aware_utc():
    provider = Provider(issuer="https://auth.internal", storage=MemoryStorage())
    client_id = provider.clients.create("orders").client_id
    local = timezone(timedelta(hours=2))
    at = datetime(2031, 5, 1, 14, 0, tzinfo=local)

    provider.clients.invalidate_tokens_before(client_id, at)
    stored = provider.clients.get(client_id).tokens_invalid_before

    assert stored == at
    assert stored.tzinfo is timezone.utc


def test_guard_with_unused_runtime_needs_no_threads(issuer):
    """verify_local needs no runtime: a cached guard verifies without new threads."""
    token = issuer.token(issuer.client())
    guard = issuer.guard()
    guard.verify(token)
    before = threading.active_count()

    for _ in range(100):
        guard.verify(token)

    assert threading.active_count() == before
    assert isinstance(guard, Guard)
