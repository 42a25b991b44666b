"""Helpers shared by the framework integrations."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from .errors import AuthError, InvalidScopeError
from .models import ServiceIdentity


def bearer_token(authorization: Optional[str]) -> str:
    """Return the token of an ``Authorization: Bearer …`` header, or ``""`` when the
    header is absent or uses another scheme (the guard then raises ``missing_token``)."""
    if not authorization:
        return ""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return token.strip()


def require_scopes(identity: ServiceIdentity, scopes: Iterable[str]) -> None:
    """Raise :class:`InvalidScopeError` unless the identity has every scope."""
    missing = [scope for scope in scopes if scope not in identity.scopes]
    if missing:
        raise InvalidScopeError(f"the token lacks the required scope {' '.join(missing)!r}")


def error_body(error: AuthError) -> Dict[str, Any]:
    """Build the JSON body of a failed check: ``{"error": code, "message": message}``."""
    return {"error": error.code, "message": error.message}


def www_authenticate(error: AuthError) -> str:
    """Build the ``WWW-Authenticate`` value of RFC 6750 section 3 for a failed check."""
    if error.code == "missing_token":
        return "Bearer"
    if error.status == 403:
        return 'Bearer error="insufficient_scope"'
    return 'Bearer error="invalid_token"'
