"""The token client: fetches access tokens from a provider's token endpoint with the
client credentials grant, and caches them until shortly before they expire.

:class:`Client` blocks; :class:`AsyncClient` has coroutine methods. Concurrent callers
of one object share one token request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Protocol, Sequence, Union, runtime_checkable


from . import _native
from ._bridge import await_native
from ._time import from_millis, to_millis
from ._validate import optional_seconds, optional_str, require_str, scope_list, type_name
from .models import CachedClientToken

__all__ = ["Client", "AsyncClient", "TokenCache"]


@runtime_checkable
class TokenCache(Protocol):
    """A token cache shared between client objects or processes (Redis, say).

    Methods are plain (blocking) functions; the asyncio client calls them on a worker
    thread. ``get`` returns the entry, or ``None`` when there is none. Entries that
    cannot be read are deleted and the token is fetched again.
    """

    def get(self, key: str) -> Optional[CachedClientToken]: ...

    def set(self, key: str, entry: CachedClientToken) -> None: ...

    def delete(self, key: str) -> None: ...


class _CacheDispatch:
    """Calls a user's :class:`TokenCache` with Python values for the native module."""

    def __init__(self, cache: Any) -> None:
        missing = [name for name in ("get", "set", "delete") if not callable(getattr(cache, name, None))]
        if missing:
            raise TypeError(f"cache {type_name(cache)} is not a TokenCache: it lacks the methods {', '.join(missing)}")
        self._cache = cache

    def __call__(self, operation: str, key: str, entry: Any) -> Any:
        if operation == "get":
            return _entry_to_wire(self._cache.get(key))
        if operation == "set":
            self._cache.set(key, CachedClientToken(token=entry["token"], refresh_at=from_millis(entry["refreshAt"])))
            return None
        if operation == "delete":
            self._cache.delete(key)
            return None
        raise ValueError(f"unknown token cache operation {operation!r}")


def _entry_to_wire(entry: Any) -> Any:
    """Convert a cache entry into its wire dict. Entries of another shape go to the core
    unchanged (or as their text), which deletes them as malformed."""
    if entry is None:
        return None
    if isinstance(entry, CachedClientToken):
        return {"token": entry.token, "refreshAt": to_millis(entry.refresh_at, "refresh_at")}
    if isinstance(entry, Mapping):
        refresh_at = entry.get("refresh_at", entry.get("refreshAt"))
        if isinstance(refresh_at, datetime) and refresh_at.tzinfo is not None:
            refresh_at = to_millis(refresh_at, "refresh_at")
        return {"token": entry.get("token"), "refreshAt": refresh_at}
    return str(entry)


def _native_client(
    token_url: Any,
    client_id: Any,
    client_secret: Any,
    audience: Any,
    scope: Any,
    cache: Any,
    refresh_skew_seconds: Any,
) -> _native.Client:
    return _native.Client(
        require_str(token_url, "token_url"),
        require_str(client_id, "client_id"),
        require_str(client_secret, "client_secret"),
        audience=optional_str(audience, "audience"),
        scope=scope_list(scope, "scope"),
        refresh_skew_seconds=optional_seconds(refresh_skew_seconds, "refresh_skew_seconds"),
        cache=None if cache is None else _CacheDispatch(cache),
    )


class _ClientBase:
    _native: _native.Client
    _token_url: str
    _client_id: str

    @property
    def token_url(self) -> str:
        return self._token_url

    @property
    def client_id(self) -> str:
        return self._client_id

    def __repr__(self) -> str:
        # The secret is never shown.
        return f"{type(self).__name__}(token_url={self._token_url!r}, client_id={self._client_id!r})"


class Client(_ClientBase):
    """Fetches and caches access tokens. Safe to share between threads.

    :param token_url: the provider's token endpoint, e.g. ``https://auth.internal/token``.
    :param client_id: the client id from ``provider.clients.create``.
    :param client_secret: its secret. It is sent with HTTP Basic authentication and
        never appears in ``repr()``, logs or exceptions.
    :param audience: sent as the ``audience`` parameter when set.
    :param scope: a narrower set of scopes to request (a space-separated str or a
        list); default all of the client's scopes.
    :param cache: a :class:`TokenCache` shared between instances; default in memory.
    :param refresh_skew_seconds: a cached token is replaced this many seconds before it
        expires, default 30.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: Optional[str] = None,
        scope: Union[str, Sequence[str], None] = None,
        cache: Optional[TokenCache] = None,
        refresh_skew_seconds: int = 30,
    ) -> None:
        self._native = _native_client(token_url, client_id, client_secret, audience, scope, cache, refresh_skew_seconds)
        self._token_url = token_url
        self._client_id = client_id

    def get_token(self) -> str:
        """Return a cached access token, or fetch a new one.

        Raises :class:`~trustline.OAuthError` when the endpoint rejects the request
        (``code`` such as ``invalid_client``, ``status`` from the response) and
        :class:`~trustline.TokenRequestError` when it cannot be reached or read.
        """
        return self._native.get_token()

    def get_headers(self) -> Dict[str, str]:
        """Return ``{"Authorization": "Bearer <token>"}`` for an outgoing request."""
        return {"Authorization": f"Bearer {self.get_token()}"}


class AsyncClient(_ClientBase):
    """The asyncio form of :class:`Client`: the same options, and coroutine methods."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: Optional[str] = None,
        scope: Union[str, Sequence[str], None] = None,
        cache: Optional[TokenCache] = None,
        refresh_skew_seconds: int = 30,
    ) -> None:
        self._native = _native_client(token_url, client_id, client_secret, audience, scope, cache, refresh_skew_seconds)
        self._token_url = token_url
        self._client_id = client_id

    async def get_token(self) -> str:
        """Return a cached access token, or fetch a new one; see :meth:`Client.get_token`.

        A token in the default in-memory cache is returned without a thread hop.
        """
        token = self._native.get_token_local()
        if token is not None:
            return token
        return await await_native(self._native.get_token_async)

    async def get_headers(self) -> Dict[str, str]:
        """Return ``{"Authorization": "Bearer <token>"}`` for an outgoing request."""
        return {"Authorization": f"Bearer {await self.get_token()}"}
