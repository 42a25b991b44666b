"""Interoperability with independent libraries: PyJWT verifies our tokens with our
JWKS, and authlib's OAuth 2 client obtains tokens from our provider."""

from __future__ import annotations

import jwt
import pytest
from authlib.integrations.requests_client import OAuth2Session

from conftest import make_issuer
from trustline import MemoryStorage


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_pyjwt_verifies_tokens_with_our_jwks(server, algorithm):
    issuer = make_issuer(server, MemoryStorage(), signing={"algorithm": algorithm}, env="production")
    created = issuer.client()
    token = issuer.token(created, audience="inventory")

    signing_key = jwt.PyJWKClient(issuer.jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=[algorithm],
        audience="inventory",
        issuer=issuer.url,
        options={"require": ["exp", "iat", "iss", "sub", "jti"]},
    )

    assert claims["sub"] == created.client_id
    assert claims["scope"] == "read:orders write:orders"
    assert claims["env"] == "production"
    assert jwt.get_unverified_header(token)["typ"]


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_requests_client_obtains_token(issuer, auth_method):
    created = issuer.client()
    session = OAuth2Session(
        client_id=created.client_id,
        client_secret=created.client_secret,
        token_endpoint_auth_method=auth_method,
        scope="read:orders",
    )

    token = session.fetch_token(issuer.token_url, grant_type="client_credentials")
    identity = issuer.guard(scopes=["read:orders"]).verify(token["access_token"])

    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read:orders"
    assert identity.client_id == created.client_id


def test_authlib_client_sees_oauth_error(issuer):
    from authlib.integrations.base_client import OAuthError

    created = issuer.client()
    session = OAuth2Session(client_id=created.client_id, client_secret="wrong")

    with pytest.raises(OAuthError) as raised:
        session.fetch_token(issuer.token_url, grant_type="client_credentials")

    assert raised.value.error == "invalid_client"
