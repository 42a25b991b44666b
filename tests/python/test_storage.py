"""Storage: the protocol methods on every backend, a storage class written in Python,
and the SQLite database written by the TypeScript package 0.1."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import make_issuer
from trustline import (
    AsyncProvider,
    Guard,
    InvalidTokenError,
    MemoryStorage,
    Provider,
    RevokedToken,
    ServiceClient,
    SigningKey,
    SqliteStorage,
    StorageError,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reference-0.1"
NOW = datetime(2026, 1, 31, 12, 0, 0, 123000, tzinfo=timezone.utc)


def sample_client(client_id="svc_0123456789abcdef0123456789abcdef"):
    return ServiceClient(
        id="01a2429b-604d-7426-949e-23dac1edcb77",
        client_id=client_id,
        name="orders",
        scopes=("read:orders",),
        created_at=NOW,
        updated_at=NOW,
        last_seen_at=None,
        current_secret_hash="sha256:abc",
        current_secret_created_at=NOW,
        current_secret_last_used_at=None,
        next_secret_hash=None,
        next_secret_created_at=None,
        next_secret_expires_at=None,
        next_secret_last_used_at=None,
        secret_last_rotated_at=None,
        active=True,
        tokens_invalid_before=None,
    )


def test_client_records_round_trip(backend):
    storage = backend.make()
    client = sample_client()

    storage.create_client(client)
    found = storage.find_client(client.client_id)
    storage.update_client(client.client_id, {"name": "orders-v2", "next_secret_hash": "sha256:def"})
    storage.touch_client(client.client_id, NOW + timedelta(seconds=1))
    storage.set_client_active(client.client_id, False)
    storage.set_tokens_invalid_before(client.client_id, NOW)
    updated = storage.find_client(client.client_id)

    assert found == client
    assert updated == replace(
        client,
        name="orders-v2",
        next_secret_hash="sha256:def",
        last_seen_at=NOW + timedelta(seconds=1),
        active=False,
        tokens_invalid_before=NOW,
        updated_at=updated.updated_at,  # set by set_client_active and the cutoff
    )
    assert updated.updated_at >= NOW
    assert storage.list_clients() == [updated]
    assert "sha256:abc" not in repr(updated)


def test_delete_and_missing_client(backend):
    storage = backend.make()
    storage.create_client(sample_client())

    storage.delete_client(sample_client().client_id)

    assert storage.find_client(sample_client().client_id) is None
    assert storage.list_clients() == []


def test_signing_keys_and_revocations(backend):
    storage = backend.make()
    key = SigningKey(
        key_id="k1",
        algorithm="ES256",
        private_key="-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
        public_key="-----BEGIN PUBLIC KEY-----\ny\n-----END PUBLIC KEY-----\n",
        created_at=NOW,
        not_before=NOW,
        not_after=None,
    )
    future = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)

    storage.add_signing_key(key)
    storage.set_signing_key_not_after("k1", NOW + timedelta(days=1))
    storage.revoke_token(RevokedToken(jti="j1", expires_at=future))

    assert storage.get_signing_keys() == [replace(key, not_after=NOW + timedelta(days=1))]
    assert "PRIVATE" not in repr(storage.get_signing_keys())
    assert storage.find_revoked_token("j1") == RevokedToken(jti="j1", expires_at=future)
    assert storage.find_revoked_token("j2") is None


def test_two_instances_share_state(backend):
    first = Provider(issuer="https://auth.internal", storage=backend.make())
    second = Provider(issuer="https://auth.internal", storage=backend.make())

    created = first.clients.create("orders")

    assert second.clients.get(created.client_id).name == "orders"


def test_async_provider_on_sql_storage(backend):
    provider = AsyncProvider(issuer="https://auth.internal", storage=backend.make())

    async def scenario():
        created = await provider.clients.create("orders", scopes=["read:orders"])
        await provider.clients.rename(created.client_id, "orders-v2")
        return await provider.clients.list()

    clients = asyncio.run(scenario())

    assert [client.name for client in clients] == ["orders-v2"]


def test_table_names_are_configurable(tmp_path):
    import sqlite3

    path = tmp_path / "custom.sqlite"
    provider = Provider(
        issuer="https://auth.internal",
        storage=SqliteStorage(path, table_prefix="auth_", tables={"revoked_tokens": "revocations"}),
    )
    provider.clients.create("orders")

    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
    assert tables == {"auth_clients", "auth_signing_keys", "revocations"}


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"path_or_connection": ""}, ValueError),
        ({"path_or_connection": 42}, TypeError),
        ({"path_or_connection": "x.sqlite", "table_prefix": "bad-prefix"}, ValueError),
        ({"path_or_connection": "x.sqlite", "tables": {"users": "x"}}, TypeError),
    ],
)
def test_sqlite_storage_arguments_are_checked(tmp_path, monkeypatch, arguments, error):
    monkeypatch.chdir(tmp_path)

    with pytest.raises(error):
        SqliteStorage(**arguments)


def test_sqlite3_connection_bound_to_its_thread_is_rejected(tmp_path):
    import sqlite3

    connection = sqlite3.connect(tmp_path / "x.sqlite")

    with pytest.raises(ValueError, match="check_same_thread=False"):
        SqliteStorage(connection)


class DictStorage:
    """A storage class written in Python, implementing the documented protocol."""

    def __init__(self):
        self.clients = {}
        self.keys = []
        self.revoked = {}
        self.lock = threading.Lock()

    def find_client(self, client_id):
        return self.clients.get(client_id)

    def create_client(self, client):
        self.clients[client.client_id] = client

    def delete_client(self, client_id):
        self.clients.pop(client_id, None)

    def list_clients(self):
        return sorted(self.clients.values(), key=lambda client: client.created_at)

    def update_client(self, client_id, updates):
        with self.lock:
            if client_id in self.clients:
                self.clients[client_id] = replace(self.clients[client_id], **updates)

    def touch_client(self, client_id, last_seen_at):
        self.update_client(client_id, {"last_seen_at": last_seen_at})

    def set_client_active(self, client_id, active):
        self.update_client(client_id, {"active": active})

    def set_tokens_invalid_before(self, client_id, at):
        self.update_client(client_id, {"tokens_invalid_before": at})

    def get_signing_keys(self):
        return list(self.keys)

    def add_signing_key(self, key):
        self.keys.append(key)

    def set_signing_key_not_after(self, key_id, not_after):
        self.keys = [replace(key, not_after=not_after) if key.key_id == key_id else key for key in self.keys]

    def find_revoked_token(self, jti):
        return self.revoked.get(jti)

    def revoke_token(self, token):
        self.revoked[token.jti] = token


def test_python_storage_class_serves_provider_and_guard(server):
    storage = DictStorage()
    issuer = make_issuer(server, storage)
    created = issuer.client()
    token = issuer.token(created)
    guard = Guard(issuer=issuer.url, storage=storage)

    identity = guard.verify(token)
    issuer.provider.tokens.revoke(identity.raw["jti"], datetime.now(timezone.utc) + timedelta(minutes=5))

    assert identity.client_id == created.client_id
    assert isinstance(storage.clients[created.client_id].last_seen_at, datetime)
    assert storage.keys[0].algorithm == "ES256"
    with pytest.raises(InvalidTokenError, match="revoked"):
        guard.verify(token)


def test_python_storage_that_raises_gives_storage_error(server):
    class FailingStorage(DictStorage):
        def find_client(self, client_id):
            raise ConnectionError("database is down")

    provider = Provider(issuer="https://auth.internal", storage=FailingStorage())

    with pytest.raises(StorageError, match="database is down") as raised:
        provider.clients.get("svc_x")

    assert raised.value.status == 503


def test_incomplete_storage_class_is_rejected():
    class Incomplete:
        def find_client(self, client_id):
            return None

    with pytest.raises(TypeError, match="lacks the methods"):
        Provider(issuer="https://auth.internal", storage=Incomplete())


def test_reference_database_keeps_working(tmp_path):
    credentials = json.loads((FIXTURES / "credentials.json").read_text())
    fixture = credentials["backends"]["sqlite"]
    path = tmp_path / "trustline.sqlite"
    shutil.copy(FIXTURES / fixture["file"], path)
    storage = SqliteStorage(path)
    provider = Provider(issuer=credentials["issuer"], storage=storage)
    orders = fixture["clients"]["orders-api"]
    billing = fixture["clients"]["billing-worker"]
    import base64

    def token_status(client_id, secret):
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        response = provider.handle(
            "POST",
            f"{credentials['issuer']}/token",
            {"authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"},
            "grant_type=client_credentials",
        )
        return response.status

    assert token_status(orders["clientId"], orders["secrets"]["current"]) == 200
    assert token_status(orders["clientId"], orders["secrets"]["next"]) == 200
    assert token_status(billing["clientId"], billing["secrets"]["current"]) == 401
    assert {client.name for client in provider.clients.list()} == {"orders-api", "billing-worker"}
    assert storage.find_revoked_token(fixture["revokedJti"]) is not None


def test_memory_storage_repr():
    assert repr(MemoryStorage()) == "MemoryStorage()"
