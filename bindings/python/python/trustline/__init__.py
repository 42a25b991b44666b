"""Trustline: machine-to-machine authentication for internal services.

- :class:`Provider` / :class:`AsyncProvider` register service clients, issue access
  tokens with the OAuth 2.0 client credentials grant and publish a JWKS.
- :class:`Guard` / :class:`AsyncGuard` verify those tokens and return a
  :class:`ServiceIdentity`.
- :class:`Client` / :class:`AsyncClient` fetch and cache tokens for outgoing calls.

All of them run on the trustline Rust core. Framework integrations live in
``trustline.fastapi``, ``trustline.starlette``, ``trustline.flask``,
``trustline.httpx`` and ``trustline.requests``.
"""

from __future__ import annotations

import atexit as _atexit
import os as _os

from . import _native
from .client import AsyncClient, Client, TokenCache
from .errors import (
    AuthError,
    ClientNotFoundError,
    InternalError,
    InvalidArgumentError,
    InvalidAudienceError,
    InvalidEnvError,
    InvalidIssuerError,
    InvalidScopeError,
    InvalidTokenError,
    JwksFetchError,
    MissingTokenError,
    OAuthError,
    StorageError,
    TokenRequestError,
    _from_native,
)
from .guard import AsyncGuard, Guard
from .models import (
    CachedClientToken,
    CreatedClient,
    Event,
    GuardEvent,
    HttpResponse,
    ProviderClient,
    ProviderEvent,
    RevokedToken,
    RotatedKey,
    RotatedSecret,
    ServiceClient,
    ServiceIdentity,
    SigningKey,
    SigningOptions,
)
from .provider import AsyncProvider, Provider
from .storage import MemoryStorage, MySQLStorage, NativeStorage, PostgresStorage, SqliteStorage, Storage

__version__: str = _native.__version__

__all__ = [
    "Provider",
    "AsyncProvider",
    "Guard",
    "AsyncGuard",
    "Client",
    "AsyncClient",
    "TokenCache",
    "Storage",
    "NativeStorage",
    "MemoryStorage",
    "SqliteStorage",
    "PostgresStorage",
    "MySQLStorage",
    "ServiceIdentity",
    "ProviderClient",
    "CreatedClient",
    "RotatedSecret",
    "RotatedKey",
    "SigningOptions",
    "Event",
    "ProviderEvent",
    "GuardEvent",
    "ServiceClient",
    "SigningKey",
    "RevokedToken",
    "CachedClientToken",
    "HttpResponse",
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
    "__version__",
]

# Core errors are raised as the classes of trustline.errors.
_native._set_error_factory(_from_native)

# The runtime's threads must be stopped before the interpreter finalizes, and a child
# process after fork() must not use the parent's runtime.
_atexit.register(_native._shutdown_at_exit)
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_native._after_fork_in_child)
