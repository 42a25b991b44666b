"""The provider's HTTP endpoints, served by its WSGI app on 127.0.0.1."""

from __future__ import annotations

import jwt
import pytest
import requests

from conftest import basic_auth, make_issuer


def post_token(issuer, data, headers=None):
    return requests.post(issuer.token_url, data=data, headers=headers or {}, timeout=10)


def test_token_with_basic_auth(issuer):
    created = issuer.client()

    response = issuer.request_token(created.client_id, created.client_secret, audience="inventory")
    body = response.json()

    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "read:orders write:orders"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == created.client_id
    assert claims["aud"] == "inventory"
    assert claims["iss"] == issuer.url
    assert claims["env"] == "production"
    assert claims["name"] == "orders"
    assert claims["exp"] - claims["iat"] == 300


def test_token_with_client_secret_post(issuer):
    created = issuer.client()

    response = post_token(
        issuer,
        {"grant_type": "client_credentials", "client_id": created.client_id, "client_secret": created.client_secret},
    )

    assert response.status_code == 200


def test_token_narrower_scope(issuer):
    created = issuer.client()

    response = issuer.request_token(created.client_id, created.client_secret, scope="read:orders")

    assert response.json()["scope"] == "read:orders"


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("wrong-secret", 401, "invalid_client"),
        ("unknown-client", 401, "invalid_client"),
        ("no-credentials", 401, "invalid_client"),
        ("disabled-client", 401, "invalid_client"),
        ("foreign-scope", 400, "invalid_scope"),
        ("grant-type", 400, "unsupported_grant_type"),
        ("no-grant-type", 400, "invalid_request"),
        ("repeated-parameter", 400, "invalid_request"),
        ("both-credentials", 400, "invalid_request"),
        ("json-body", 400, "invalid_request"),
    ],
)
def test_token_errors(issuer, case, status, error):
    created = issuer.client()
    auth = {"Authorization": basic_auth(created.client_id, created.client_secret)}
    form = {"grant_type": "client_credentials"}
    if case == "wrong-secret":
        response = post_token(issuer, form, {"Authorization": basic_auth(created.client_id, "wrong")})
    elif case == "unknown-client":
        response = post_token(issuer, form, {"Authorization": basic_auth("svc_" + "0" * 32, "x")})
    elif case == "no-credentials":
        response = post_token(issuer, form)
    elif case == "disabled-client":
        issuer.provider.clients.disable(created.client_id)
        response = post_token(issuer, form, auth)
    elif case == "foreign-scope":
        response = post_token(issuer, {**form, "scope": "admin"}, auth)
    elif case == "grant-type":
        response = post_token(issuer, {"grant_type": "password"}, auth)
    elif case == "no-grant-type":
        response = post_token(issuer, {}, auth)
    elif case == "repeated-parameter":
        response = post_token(issuer, "grant_type=client_credentials&grant_type=client_credentials", {
            **auth, "Content-Type": "application/x-www-form-urlencoded"})
    elif case == "both-credentials":
        response = post_token(
            issuer, {**form, "client_id": created.client_id, "client_secret": created.client_secret}, auth
        )
    else:
        response = requests.post(issuer.token_url, json=form, headers=auth, timeout=10)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert "error_description" in response.json()
    assert created.client_secret not in response.text


def test_jwks_document_and_cache_header(issuer):
    response = requests.get(issuer.jwks_url, timeout=10)
    key = response.json()["keys"][0]

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=600"
    assert {"kid", "alg", "use", "kty", "crv", "x", "y"} <= set(key)
    assert key["alg"] == "ES256"
    assert key["use"] == "sig"
    assert "d" not in key


def test_unknown_path_is_json_404(issuer):
    response = requests.get(f"{issuer.url}/nothing-here", timeout=10)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_handle_without_server(issuer):
    response = issuer.provider.handle("GET", f"{issuer.url}/.well-known/jwks.json")

    assert response.status == 200
    assert response.header("Cache-Control") == "public, max-age=600"
    assert response.json()["keys"]


def test_endpoints_under_issuer_path(server):
    from trustline import MemoryStorage, Provider

    provider = Provider(issuer=f"{server.url}/auth", storage=MemoryStorage())
    server.app = _mounted(provider.wsgi_app(), "/auth")
    created = provider.clients.create("orders")

    response = requests.post(
        f"{server.url}/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(created.client_id, created.client_secret)},
        timeout=10,
    )

    assert response.status_code == 200
    assert requests.get(f"{server.url}/auth/.well-known/jwks.json", timeout=10).status_code == 200


def _mounted(app, prefix):
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.wrappers import Response

    return DispatcherMiddleware(Response("not mounted", status=404), {prefix: app})


def test_rs256_provider_issues_rs256_tokens(server):
    from trustline import MemoryStorage

    issuer = make_issuer(server, MemoryStorage(), signing={"algorithm": "RS256"})
    token = issuer.token(issuer.client())

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert issuer.guard().verify(token).client_id
