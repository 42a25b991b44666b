"""The token client, blocking and asyncio, against a provider on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from conftest import free_port
from trustline import (
    AsyncClient,
    CachedClientToken,
    Client,
    InvalidArgumentError,
    OAuthError,
    TokenRequestError,
)


def client_for(issuer, created, **options):
    return Client(token_url=issuer.token_url, client_id=created.client_id, client_secret=created.client_secret, **options)


def test_get_token_caches_until_refresh(issuer):
    client = client_for(issuer, issuer.client())

    tokens = {client.get_token() for _ in range(5)}

    assert len(tokens) == 1
    assert issuer.server.count("/token") == 1


def test_get_headers(issuer):
    client = client_for(issuer, issuer.client())

    headers = client.get_headers()

    assert headers == {"Authorization": f"Bearer {client.get_token()}"}


def test_audience_and_scope_are_requested(issuer):
    client = client_for(issuer, issuer.client(), audience="inventory", scope=["read:orders"])

    claims = jwt.decode(client.get_token(), options={"verify_signature": False})

    assert claims["aud"] == "inventory"
    assert claims["scope"] == "read:orders"


def test_scope_as_space_separated_string(issuer):
    client = client_for(issuer, issuer.client(), scope="read:orders write:orders")

    claims = jwt.decode(client.get_token(), options={"verify_signature": False})

    assert claims["scope"] == "read:orders write:orders"


def test_concurrent_callers_share_one_request(issuer):
    client = client_for(issuer, issuer.client())
    results = []
    barrier = threading.Barrier(8)

    def fetch():
        barrier.wait()
        results.append(client.get_token())

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1
    assert issuer.server.count("/token") == 1


def test_async_concurrent_callers_share_one_request(issuer):
    created = issuer.client("billing")
    client = AsyncClient(token_url=issuer.token_url, client_id=created.client_id, client_secret=created.client_secret)

    async def fetch_many():
        return await asyncio.gather(*(client.get_token() for _ in range(10)))

    tokens = asyncio.run(fetch_many())

    assert len(set(tokens)) == 1
    assert issuer.server.count("/token") == 1


def test_wrong_secret_raises_oauth_error(issuer):
    created = issuer.client()
    client = Client(token_url=issuer.token_url, client_id=created.client_id, client_secret="wrong-secret")

    with pytest.raises(OAuthError) as raised:
        client.get_token()

    assert raised.value.code == "invalid_client"
    assert raised.value.status == 401
    assert isinstance(raised.value, TokenRequestError)
    assert "wrong-secret" not in str(raised.value)
    assert "wrong-secret" not in repr(raised.value)


def test_async_wrong_scope_raises_oauth_error(issuer):
    created = issuer.client()
    client = AsyncClient(
        token_url=issuer.token_url, client_id=created.client_id, client_secret=created.client_secret, scope="admin"
    )

    with pytest.raises(OAuthError) as raised:
        asyncio.run(client.get_token())

    assert raised.value.code == "invalid_scope"
    assert raised.value.status == 400


def test_unreachable_endpoint_raises_token_request_error():
    client = Client(token_url=f"http://127.0.0.1:{free_port()}/token", client_id="svc_x", client_secret="secret")

    with pytest.raises(TokenRequestError) as raised:
        client.get_token()

    assert raised.value.code == "token_request_failed"
    assert raised.value.status == 502


class DictCache:
    def __init__(self):
        self.entries = {}
        self.calls = []

    def get(self, key):
        self.calls.append(("get", key))
        return self.entries.get(key)

    def set(self, key, entry):
        self.calls.append(("set", key))
        self.entries[key] = entry

    def delete(self, key):
        self.calls.append(("delete", key))
        self.entries.pop(key, None)


def test_shared_cache_between_instances(issuer):
    created = issuer.client()
    cache = DictCache()
    first = client_for(issuer, created, cache=cache)
    second = client_for(issuer, created, cache=cache)

    token = first.get_token()

    assert second.get_token() == token
    assert issuer.server.count("/token") == 1
    (key, entry), = cache.entries.items()
    assert isinstance(entry, CachedClientToken)
    assert created.client_secret not in key
    assert entry.refresh_at > datetime.now(timezone.utc)
    assert token not in repr(entry)


@pytest.mark.parametrize("entry", ["garbage", {"token": 5}, {"refresh_at": 1}])
def test_malformed_cache_entry_is_deleted_and_refetched(issuer, entry):
    created = issuer.client()
    cache = DictCache()
    client = client_for(issuer, created, cache=cache)
    key = client._native.cache_key
    cache.entries[key] = entry

    token = client.get_token()

    assert token.count(".") == 2
    assert ("delete", key) in cache.calls
    assert isinstance(cache.entries[key], CachedClientToken)


def test_expired_cache_entry_is_replaced(issuer):
    created = issuer.client()
    cache = DictCache()
    client = client_for(issuer, created, cache=cache)
    stale = CachedClientToken(token="stale", refresh_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    cache.entries[client._native.cache_key] = stale

    assert client.get_token() != "stale"


def test_cache_that_raises_fails_the_request(issuer):
    class BrokenCache(DictCache):
        def get(self, key):
            raise ConnectionError("redis is down")

    client = client_for(issuer, issuer.client(), cache=BrokenCache())

    with pytest.raises(TokenRequestError, match="redis is down"):
        client.get_token()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"token_url": "/token"}, InvalidArgumentError),
        ({"client_id": ""}, InvalidArgumentError),
        ({"client_secret": ""}, InvalidArgumentError),
        ({"client_secret": None}, TypeError),
        ({"scope": 5}, TypeError),
        ({"scope": ["a b"]}, InvalidArgumentError),
        ({"refresh_skew_seconds": -5}, InvalidArgumentError),
        ({"cache": object()}, TypeError),
    ],
)
def test_client_options_are_checked(options, error):
    arguments = {"token_url": "https://auth.internal/token", "client_id": "svc_x", "client_secret": "secret", **options}

    with pytest.raises(error):
        Client(**arguments)


def test_client_repr_hides_secret():
    client = Client(token_url="https://auth.internal/token", client_id="svc_x", client_secret="very-secret-value")

    assert "very-secret-value" not in repr(client)
    assert "svc_x" in repr(client)


def test_async_cached_token_does_not_suspend(issuer):
    from test_guard import run_without_suspending

    created = issuer.client()
    client = AsyncClient(token_url=issuer.token_url, client_id=created.client_id, client_secret=created.client_secret)
    token = asyncio.run(client.get_token())

    assert run_without_suspending(client.get_token()) == token
