"""Client, key and token administration of the provider, on every storage backend."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from trustline import (
    ClientNotFoundError,
    InvalidArgumentError,
    MemoryStorage,
    Provider,
    ProviderClient,
    RotatedKey,
)


def provider_on(backend, **options) -> Provider:
    return Provider(issuer="https://auth.internal", storage=backend.make(), **options)


def test_create_returns_id_and_secret_formats(backend):
    provider = provider_on(backend)

    created = provider.clients.create("orders", scopes=["read:orders"])

    assert re.fullmatch(r"svc_[0-9a-f]{32}", created.client_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", created.client_secret)
    assert created.client_secret not in repr(created)


def test_get_and_list_show_no_secret(backend):
    provider = provider_on(backend)
    created = provider.clients.create("orders", scopes=["read:orders", "write:orders"])

    client = provider.clients.get(created.client_id)
    listed = provider.clients.list()

    assert isinstance(client, ProviderClient)
    assert client.client_id == created.client_id
    assert client.name == "orders"
    assert client.scopes == ("read:orders", "write:orders")
    assert client.active is True
    assert client.has_pending_secret_rotation is False
    assert client.created_at.tzinfo is timezone.utc
    assert [item.client_id for item in listed] == [created.client_id]
    assert not hasattr(client, "current_secret_hash")


def test_get_unknown_client_returns_none(backend):
    provider = provider_on(backend)

    assert provider.clients.get("svc_00000000000000000000000000000000") is None


@pytest.mark.parametrize(
    "operation",
    [
        lambda clients, unknown: clients.rename(unknown, "x"),
        lambda clients, unknown: clients.update_scopes(unknown, ["a"]),
        lambda clients, unknown: clients.rotate_secret(unknown),
        lambda clients, unknown: clients.revoke(unknown),
        lambda clients, unknown: clients.disable(unknown),
        lambda clients, unknown: clients.enable(unknown),
        lambda clients, unknown: clients.invalidate_tokens_before(unknown),
        lambda clients, unknown: clients.clear_tokens_invalid_before(unknown),
    ],
    ids=["rename", "update_scopes", "rotate_secret", "revoke", "disable", "enable", "invalidate", "clear"],
)
def test_unknown_client_id_raises_naming_it(local_backend, operation):
    provider = provider_on(local_backend)
    unknown = "svc_0123456789abcdef0123456789abcdef"

    with pytest.raises(ClientNotFoundError) as raised:
        operation(provider.clients, unknown)

    assert raised.value.code == "client_not_found"
    assert raised.value.status == 404
    assert unknown in str(raised.value)


def test_rename_update_disable_enable(backend):
    provider = provider_on(backend)
    client_id = provider.clients.create("orders").client_id

    provider.clients.rename(client_id, "orders-v2")
    provider.clients.update_scopes(client_id, ["read:items"])
    provider.clients.disable(client_id)
    disabled = provider.clients.get(client_id)
    provider.clients.enable(client_id)
    enabled = provider.clients.get(client_id)

    assert disabled.name == "orders-v2"
    assert disabled.scopes == ("read:items",)
    assert disabled.active is False
    assert enabled.active is True


def test_rotate_secret_with_overlap_is_pending(backend):
    provider = provider_on(backend)
    client_id = provider.clients.create("orders").client_id

    rotated = provider.clients.rotate_secret(client_id, overlap_seconds=600)
    client = provider.clients.get(client_id)

    assert rotated.client_id == client_id
    assert rotated.expires_at is not None
    assert timedelta(seconds=590) < rotated.expires_at - datetime.now(timezone.utc) <= timedelta(seconds=600)
    assert client.has_pending_secret_rotation is True
    assert rotated.client_secret not in repr(rotated)


def test_rotate_secret_without_overlap_replaces_at_once(local_backend):
    provider = provider_on(local_backend)
    client_id = provider.clients.create("orders").client_id

    rotated = provider.clients.rotate_secret(client_id, overlap_seconds=0)

    assert rotated.expires_at is None
    assert provider.clients.get(client_id).has_pending_secret_rotation is False


def test_rotate_secret_rejects_past_expiry(local_backend):
    provider = provider_on(local_backend)
    client_id = provider.clients.create("orders").client_id

    with pytest.raises(InvalidArgumentError):
        provider.clients.rotate_secret(client_id, expires_at=datetime.now(timezone.utc) - timedelta(hours=1))


def test_revoke_deletes_client(backend):
    provider = provider_on(backend)
    client_id = provider.clients.create("orders").client_id

    provider.clients.revoke(client_id)

    assert provider.clients.get(client_id) is None
    assert provider.clients.list() == []


def test_invalidate_and_clear_cutoff(backend):
    provider = provider_on(backend)
    client_id = provider.clients.create("orders").client_id
    cutoff = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)

    provider.clients.invalidate_tokens_before(client_id, cutoff)
    set_cutoff = provider.clients.get(client_id).tokens_invalid_before
    provider.clients.clear_tokens_invalid_before(client_id)

    assert set_cutoff == cutoff
    assert provider.clients.get(client_id).tokens_invalid_before is None


def test_keys_rotate_keeps_old_key_for_overlap(backend):
    provider = provider_on(backend)
    first_kid = provider.jwks()["keys"][0]["kid"]

    rotated = provider.keys.rotate(key_id="second", overlap_seconds=120)
    kids = [key["kid"] for key in provider.jwks()["keys"]]

    assert rotated == RotatedKey(key_id="second")
    assert sorted(kids) == sorted([first_kid, "second"])


def test_keys_rotate_rs256_publishes_rsa_jwk(local_backend):
    provider = provider_on(local_backend)

    provider.keys.rotate(algorithm="RS256", key_id="rsa-key", overlap_seconds=0)
    keys = {key["kid"]: key for key in provider.jwks()["keys"]}

    assert keys["rsa-key"]["kty"] == "RSA"
    assert keys["rsa-key"]["alg"] == "RS256"
    assert keys["rsa-key"]["use"] == "sig"


def test_tokens_revoke_twice_is_no_error(backend):
    storage = backend.make()
    provider = Provider(issuer="https://auth.internal", storage=storage)
    expires_at = datetime.now(timezone.utc) + timedelta(minutes=5)

    provider.tokens.revoke("jti-1", expires_at)
    provider.tokens.revoke("jti-1", expires_at)

    revoked = storage.find_revoked_token("jti-1")
    assert revoked.jti == "jti-1"
    assert abs(revoked.expires_at - expires_at) < timedelta(milliseconds=1)


def test_naive_datetime_is_rejected(local_backend):
    provider = provider_on(local_backend)

    with pytest.raises(InvalidArgumentError, match="timezone-aware"):
        provider.tokens.revoke("jti-1", datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"issuer": "not a url"}, InvalidArgumentError),
        ({"issuer": 42}, TypeError),
        ({"token_ttl": -1}, InvalidArgumentError),
        ({"token_ttl": "300"}, TypeError),
        ({"signing": {"algorithm": "HS256"}}, InvalidArgumentError),
        ({"signing": {"private_key": "not a pem"}}, InvalidArgumentError),
        ({"signing": {"unknown": 1}}, TypeError),
        ({"storage": None}, TypeError),
        ({"storage": object()}, TypeError),
        ({"on_event": "not callable"}, TypeError),
    ],
    ids=["issuer-url", "issuer-type", "ttl-negative", "ttl-type", "algorithm", "pem", "signing-key", "no-storage",
         "not-storage", "hook"],
)
def test_provider_options_are_checked(options, error):
    arguments = {"issuer": "https://auth.internal", "storage": MemoryStorage(), **options}

    with pytest.raises(error):
        Provider(**arguments)


def test_create_rejects_bad_name_and_scope(local_backend):
    provider = provider_on(local_backend)

    with pytest.raises(InvalidArgumentError):
        provider.clients.create("   ")
    with pytest.raises(InvalidArgumentError):
        provider.clients.create("orders", scopes=['bad"scope'])
    with pytest.raises(TypeError):
        provider.clients.create("orders", scopes="read:orders")
