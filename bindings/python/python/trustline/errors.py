"""The exceptions of trustline: one ``AuthError`` hierarchy with stable codes.

Every failure carries ``code`` (the same strings in every trustline binding, such as
``invalid_token``), ``status`` (the HTTP status a server responds with) and
``message``. Branch on the class or on ``code``, never on the message.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "MissingTokenError",
    "InvalidTokenError",
    "InvalidIssuerError",
    "InvalidAudienceError",
    "InvalidScopeError",
    "InvalidEnvError",
    "JwksFetchError",
    "ClientNotFoundError",
    "InvalidArgumentError",
    "StorageError",
    "TokenRequestError",
    "OAuthError",
    "InternalError",
]


class AuthError(Exception):
    """A trustline failure with a stable ``code``, an HTTP ``status`` and a ``message``."""

    code: str = "internal_error"
    status: int = 500

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.code, self.status))


def _rebuild(cls: type[AuthError], message: str, code: str, status: int) -> AuthError:
    return cls(message, code=code, status=status)


class MissingTokenError(AuthError):
    """The bearer token is empty or absent (401)."""

    code = "missing_token"
    status = 401


class InvalidTokenError(AuthError):
    """The token is malformed, badly signed, expired, revoked, or its client is
    disabled, deleted or cut off (401)."""

    code = "invalid_token"
    status = 401


class InvalidIssuerError(AuthError):
    """The token's ``iss`` claim is not the guard's issuer (401)."""

    code = "invalid_issuer"
    status = 401


class InvalidAudienceError(AuthError):
    """The token's ``aud`` claim does not name the guard's audience (403)."""

    code = "invalid_audience"
    status = 403


class InvalidScopeError(AuthError):
    """The token lacks a required scope (403)."""

    code = "invalid_scope"
    status = 403


class InvalidEnvError(AuthError):
    """The token's ``env`` claim is not the guard's environment (403)."""

    code = "invalid_env"
    status = 403


class JwksFetchError(AuthError):
    """The issuer's JWKS could not be fetched or parsed (code ``jwks_fetch_failed``, 401)."""

    code = "jwks_fetch_failed"
    status = 401


class ClientNotFoundError(AuthError, LookupError):
    """An admin call named a client id that does not exist (404)."""

    code = "client_not_found"
    status = 404


class InvalidArgumentError(AuthError, ValueError):
    """A call received a value it cannot use; the message names the value (400)."""

    code = "invalid_argument"
    status = 400


class StorageError(AuthError):
    """The storage backend failed or is unavailable (code ``storage_unavailable``, 503)."""

    code = "storage_unavailable"
    status = 503


class TokenRequestError(AuthError):
    """A token request could not be sent, or its response could not be read
    (code ``token_request_failed``, 502)."""

    code = "token_request_failed"
    status = 502


class OAuthError(TokenRequestError):
    """The token endpoint returned an OAuth 2.0 error (RFC 6749 section 5.2).

    ``code`` is the ``error`` field of the response, such as ``invalid_client``, and
    ``status`` is the HTTP status of the response.
    """


class InternalError(AuthError):
    """An unexpected failure inside trustline: a bug (500)."""

    code = "internal_error"
    status = 500


_BY_KIND: dict[str, type[AuthError]] = {
    cls.code: cls
    for cls in (
        MissingTokenError,
        InvalidTokenError,
        InvalidIssuerError,
        InvalidAudienceError,
        InvalidScopeError,
        InvalidEnvError,
        JwksFetchError,
        ClientNotFoundError,
        InvalidArgumentError,
        StorageError,
        TokenRequestError,
        InternalError,
    )
}
_BY_KIND["oauth"] = OAuthError


def _from_native(kind: str, code: str, status: int, message: str) -> AuthError:
    """Build the exception for a core error. The native module calls this."""
    cls = _BY_KIND.get(kind, AuthError)
    return cls(message, code=code, status=status)
