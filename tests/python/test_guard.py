"""Every check of the guard, blocking and asyncio, against a provider on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import free_port, make_issuer
from trustline import (
    AsyncGuard,
    Guard,
    GuardEvent,
    InvalidAudienceError,
    InvalidEnvError,
    InvalidIssuerError,
    InvalidScopeError,
    InvalidTokenError,
    JwksFetchError,
    MemoryStorage,
    MissingTokenError,
    ServiceIdentity,
)


def test_verify_returns_identity(issuer):
    created = issuer.client()
    token = issuer.token(created, audience="inventory")

    identity = issuer.guard(audience="inventory", scopes=["read:orders"], env="production").verify(token)

    assert isinstance(identity, ServiceIdentity)
    assert identity.client_id == created.client_id
    assert identity.name == "orders"
    assert identity.scopes == ("read:orders", "write:orders")
    assert identity.env == "production"
    assert identity.raw["aud"] == "inventory"
    assert identity.raw["iss"] == issuer.url


def test_async_verify_returns_identity(issuer):
    created = issuer.client()
    token = issuer.token(created)
    guard = AsyncGuard(issuer=issuer.url)

    async def verify_twice():
        first = await guard.verify(token)  # fetches the JWKS
        second = await guard.verify(token)  # verified on the loop's thread
        return first, second

    first, second = asyncio.run(verify_twice())

    assert first == second
    assert first.client_id == created.client_id
    assert issuer.server.count("/jwks.json") == 1


@pytest.mark.parametrize(
    ("options", "error", "code", "status"),
    [
        ({"audience": "billing"}, InvalidAudienceError, "invalid_audience", 403),
        ({"scopes": ["admin"]}, InvalidScopeError, "invalid_scope", 403),
        ({"env": "staging"}, InvalidEnvError, "invalid_env", 403),
    ],
)
def test_claim_checks(issuer, options, error, code, status):
    token = issuer.token(issuer.client(), audience="inventory")

    with pytest.raises(error) as raised:
        issuer.guard(**options).verify(token)

    assert raised.value.code == code
    assert raised.value.status == status


def test_issuer_mismatch(issuer):
    token = issuer.token(issuer.client())
    guard = Guard(issuer="https://other.internal", jwks_url=issuer.jwks_url)

    with pytest.raises(InvalidIssuerError) as raised:
        guard.verify(token)

    assert raised.value.status == 401


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_token(issuer, token):
    with pytest.raises(MissingTokenError) as raised:
        issuer.guard().verify(token)

    assert raised.value.status == 401


@pytest.mark.parametrize("token", ["abc", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_malformed_token(issuer, token):
    with pytest.raises(InvalidTokenError):
        issuer.guard().verify(token)


def test_token_type_is_checked(issuer):
    with pytest.raises(TypeError, match="token must be a str"):
        issuer.guard().verify(b"bytes")


def test_tampered_signature_is_rejected(issuer):
    token = issuer.token(issuer.client())
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["scope"] = "admin"
    forged = ".".join([header, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature])

    with pytest.raises(InvalidTokenError, match="signature"):
        issuer.guard().verify(forged)


def test_foreign_key_with_known_kid_is_rejected(issuer):
    token = issuer.token(issuer.client())
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid})

    with pytest.raises(InvalidTokenError):
        issuer.guard().verify(forged)


def test_hs256_and_none_are_rejected(issuer):
    token = issuer.token(issuer.client())
    claims = jwt.decode(token, options={"verify_signature": False})
    hs256 = jwt.encode(claims, "secret-secret-secret-secret-secret", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")

    for forged in (hs256, unsigned):
        with pytest.raises(InvalidTokenError, match="not accepted|alg"):
            issuer.guard().verify(forged)


def test_expired_token_is_rejected(server):
    # iat is rounded down to the second, so a 3-second token is valid for 2 s or more.
    issuer = make_issuer(server, MemoryStorage(), token_ttl=3)
    token = issuer.token(issuer.client())
    guard = issuer.guard(clock_tolerance=0)
    guard.verify(token)

    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires_at - time.time()) + 0.2)

    with pytest.raises(InvalidTokenError, match="expired"):
        guard.verify(token)


def test_unreachable_jwks_fails_with_jwks_fetch_failed(issuer):
    token = issuer.token(issuer.client())
    guard = Guard(issuer=issuer.url, jwks_url=f"http://127.0.0.1:{free_port()}/jwks.json")

    with pytest.raises(JwksFetchError) as raised:
        guard.verify(token)

    assert raised.value.code == "jwks_fetch_failed"
    assert raised.value.status == 401


def test_jwks_fetched_once_for_many_verifications(issuer):
    token = issuer.token(issuer.client())
    guard = issuer.guard()

    for _ in range(20):
        guard.verify(token)

    assert issuer.server.count("/jwks.json") == 1


def test_unknown_kid_refetches_jwks_once(issuer):
    guard = issuer.guard()
    guard.verify(issuer.token(issuer.client()))

    issuer.provider.keys.rotate(key_id="second", overlap_seconds=60)
    identity = guard.verify(issuer.token(issuer.client("billing")))

    assert identity.name == "billing"
    assert issuer.server.count("/jwks.json") == 2


class TestGuardWithStorage:
    def setup_issuer(self, server):
        storage = MemoryStorage()
        issuer = make_issuer(server, storage)
        created = issuer.client()
        return issuer, created, issuer.guard(storage=storage)

    def test_revoked_jti_is_rejected(self, server):
        issuer, created, guard = self.setup_issuer(server)
        token = issuer.token(created)
        identity = guard.verify(token)

        issuer.provider.tokens.revoke(identity.raw["jti"], datetime.now(timezone.utc) + timedelta(minutes=5))

        with pytest.raises(InvalidTokenError, match="revoked"):
            guard.verify(token)

    def test_disabled_client_is_rejected(self, server):
        issuer, created, guard = self.setup_issuer(server)
        token = issuer.token(created)

        issuer.provider.clients.disable(created.client_id)

        with pytest.raises(InvalidTokenError, match="disabled"):
            guard.verify(token)

    def test_deleted_client_is_rejected(self, server):
        issuer, created, guard = self.setup_issuer(server)
        token = issuer.token(created)

        issuer.provider.clients.revoke(created.client_id)

        with pytest.raises(InvalidTokenError, match="no longer exists"):
            guard.verify(token)

    def test_cutoff_rejects_older_tokens(self, server):
        issuer, created, guard = self.setup_issuer(server)
        token = issuer.token(created)

        issuer.provider.clients.invalidate_tokens_before(created.client_id, datetime.now(timezone.utc) + timedelta(seconds=2))

        with pytest.raises(InvalidTokenError, match="cutoff"):
            guard.verify(token)

    def test_async_guard_with_sql_storage(self, server, backend):
        storage = backend.make()
        issuer = make_issuer(server, storage)
        created = issuer.client()
        token = issuer.token(created)
        guard = AsyncGuard(issuer=issuer.url, storage=backend.make())

        async def verify_then_disable_then_verify():
            identity = await guard.verify(token)
            issuer.provider.clients.disable(created.client_id)
            with pytest.raises(InvalidTokenError, match="disabled"):
                await guard.verify(token)
            return identity

        assert asyncio.run(verify_then_disable_then_verify()).client_id == created.client_id


def test_guard_events(issuer):
    events = []
    guard = issuer.guard(on_event=events.append)
    token = issuer.token(issuer.client())

    guard.verify(token)
    with pytest.raises(InvalidTokenError):
        guard.verify("abc")

    types = [event.type for event in events]
    assert types == ["jwks.refreshed", "token.verified", "token.verification_failed"]
    assert all(isinstance(event, GuardEvent) for event in events)
    assert events[1].outcome == "success"
    assert events[2].reason_code == "invalid_token"
    assert events[2].timestamp.tzinfo is timezone.utc
    assert token not in repr(events)


def test_hook_that_raises_does_not_break_verification(issuer, caplog):
    def broken_hook(event):
        raise RuntimeError("hook failed")

    token = issuer.token(issuer.client())

    identity = issuer.guard(on_event=broken_hook).verify(token)

    assert identity.client_id
    assert "hook failed" in caplog.text
    assert token not in caplog.text


def test_async_hook_coroutine_runs_on_loop(issuer):
    events = []

    async def hook(event):
        events.append(event.type)

    guard = AsyncGuard(issuer=issuer.url, on_event=hook)
    token = issuer.token(issuer.client())

    async def main():
        await guard.verify(token)
        await guard.verify(token)
        await asyncio.sleep(0.05)

    asyncio.run(main())

    assert events.count("token.verified") == 2
    assert "jwks.refreshed" in events


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"issuer": "nope"}, Exception),
        ({"audience": []}, ValueError),
        ({"audience": ""}, ValueError),
        ({"audience": 5}, TypeError),
        ({"scopes": "read"}, TypeError),
        ({"clock_tolerance": -1}, ValueError),
        ({"clock_tolerance": 1.5}, ValueError),
        ({"jwks_url": "/relative"}, ValueError),
    ],
)
def test_guard_options_are_checked(options, error):
    with pytest.raises(error):
        Guard(**{"issuer": "https://auth.internal", **options})


def run_without_suspending(coroutine):
    """Run a coroutine that must finish without awaiting anything (no loop round trip)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise AssertionError("the coroutine suspended: it waited for the event loop")


def test_async_verify_with_cached_jwks_does_not_suspend(issuer):
    token = issuer.token(issuer.client())
    guard = AsyncGuard(issuer=issuer.url)
    asyncio.run(guard.verify(token))

    identity = run_without_suspending(guard.verify(token))

    assert identity.name == "orders"
