"""The provider: registers service clients, issues access tokens with the OAuth 2.0
client credentials grant, and publishes its public keys as a JWKS.

:class:`Provider` blocks; :class:`AsyncProvider` has the same methods as coroutines.
Both serve HTTP through :meth:`~Provider.handle`, :meth:`~Provider.asgi_app` and
:meth:`~Provider.wsgi_app`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native
from ._bridge import LoopRef, await_native, event_dispatch
from ._time import from_millis, optional_millis, to_millis
from ._validate import optional_seconds, optional_str, require_str, str_list, type_name
from .models import (
    CreatedClient,
    HttpResponse,
    ProviderClient,
    ProviderEvent,
    RotatedKey,
    RotatedSecret,
    SigningOptions,
    from_wire,
)
from .storage import native_storage

__all__ = ["Provider", "AsyncProvider"]

Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]]]
EventHook = Callable[[ProviderEvent], Any]


def _signing(signing: Any) -> SigningOptions:
    if signing is None:
        return SigningOptions()
    if isinstance(signing, SigningOptions):
        return signing
    if isinstance(signing, Mapping):
        unknown = set(signing) - {"algorithm", "private_key", "key_id"}
        if unknown:
            raise TypeError(f"unknown signing options {sorted(unknown)}: use algorithm, private_key and key_id")
        return SigningOptions(**signing)
    raise TypeError(f"signing must be a SigningOptions or a dict, got {type_name(signing)}")


def _native_provider(
    issuer: Any,
    storage: Any,
    signing: Any,
    token_ttl: Any,
    env: Any,
    on_event: Any,
    loops: Optional[LoopRef],
) -> _native.Provider:
    options = _signing(signing)
    return _native.Provider(
        require_str(issuer, "issuer"),
        native_storage(storage),
        algorithm=optional_str(options.algorithm, "signing.algorithm"),
        private_key=optional_str(options.private_key, "signing.private_key"),
        key_id=optional_str(options.key_id, "signing.key_id"),
        token_ttl=optional_seconds(token_ttl, "token_ttl"),
        env=optional_str(env, "env"),
        on_event=event_dispatch(on_event, ProviderEvent, loops),
    )


def _request(method: Any, url: Any, headers: Optional[Headers], body: Any) -> Tuple[str, str, List[Tuple[str, str]], bytes]:
    require_str(method, "method")
    require_str(url, "url")
    pairs: List[Tuple[str, str]] = []
    if headers is not None:
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            pairs.append((require_str(name, "header name"), require_str(value, f"header {name}")))
    if isinstance(body, str):
        body = body.encode()
    elif body is None:
        body = b""
    elif not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be bytes or str, got {type_name(body)}")
    return method, url, pairs, bytes(body)


def _response(result: Tuple[int, List[Tuple[str, str]], str]) -> HttpResponse:
    status, headers, body = result
    return HttpResponse(status=status, headers=tuple(headers), body=body)


# Each admin operation: a function that checks arguments and returns
# (operation, wire arguments), and one that converts the wire result.


def _client_id(client_id: Any) -> str:
    return require_str(client_id, "client_id")


def _created(wire: Mapping[str, Any]) -> CreatedClient:
    return CreatedClient(client_id=wire["clientId"], client_secret=wire["clientSecret"])


def _rotated(wire: Mapping[str, Any]) -> RotatedSecret:
    return RotatedSecret(
        client_id=wire["clientId"], client_secret=wire["clientSecret"], expires_at=from_millis(wire["expiresAt"])
    )


def _client(wire: Optional[Mapping[str, Any]]) -> Optional[ProviderClient]:
    return None if wire is None else from_wire(ProviderClient, wire)


def _clients(wires: Sequence[Mapping[str, Any]]) -> List[ProviderClient]:
    return [from_wire(ProviderClient, wire) for wire in wires]


def _none(_: Any) -> None:
    return None


def _rotate_key_args(
    activate_at: Optional[datetime],
    algorithm: Optional[str],
    key_id: Optional[str],
    overlap_seconds: Optional[int],
    private_key: Optional[str],
) -> List[Any]:
    return [
        optional_millis(activate_at, "activate_at"),
        optional_str(algorithm, "algorithm"),
        optional_str(key_id, "key_id"),
        optional_seconds(overlap_seconds, "overlap_seconds"),
        optional_str(private_key, "private_key"),
    ]


class _ProviderBase:
    _native: _native.Provider
    _issuer: str

    @property
    def issuer(self) -> str:
        """The issuer URL, as configured."""
        return self._issuer

    def __repr__(self) -> str:
        return f"{type(self).__name__}(issuer={self._issuer!r})"

    def asgi_app(self) -> Any:
        """Return an ASGI app that serves ``POST …/token`` and ``GET …/.well-known/jwks.json``.

        Mount it under the path of the issuer URL, e.g. ``app.mount("/auth", …)`` for
        the issuer ``https://auth.internal/auth``.
        """
        from .asgi import ProviderASGI

        return ProviderASGI(self._native)

    def wsgi_app(self) -> Any:
        """Return a WSGI app that serves the token and JWKS endpoints (see :meth:`asgi_app`)."""
        from .wsgi import ProviderWSGI

        return ProviderWSGI(self._native)


class Provider(_ProviderBase):
    """An OAuth 2.0 client credentials provider. Every method blocks the calling thread
    (other Python threads keep running) and is safe to call from several threads.

    :param issuer: the issuer URL, copied into the ``iss`` claim; its path prefixes the
        endpoints (``{issuer}/token``, ``{issuer}/.well-known/jwks.json``).
    :param storage: where clients, keys and revocations live.
    :param signing: how the first signing key is created (ES256 by default).
    :param token_ttl: access token lifetime in seconds, default 300.
    :param env: copied into the ``env`` claim when set.
    :param on_event: called with each :class:`~trustline.ProviderEvent`; what it raises
        is logged and ignored. It runs on the thread of the operation, so keep it short.
    """

    def __init__(
        self,
        *,
        issuer: str,
        storage: Any,
        signing: Union[SigningOptions, Mapping[str, str], None] = None,
        token_ttl: int = 300,
        env: Optional[str] = None,
        on_event: Optional[EventHook] = None,
    ) -> None:
        self._issuer = require_str(issuer, "issuer")
        self._native = _native_provider(issuer, storage, signing, token_ttl, env, on_event, None)
        self.clients = Clients(self._native)
        self.keys = Keys(self._native)
        self.tokens = Tokens(self._native)

    def handle(self, method: str, url: str, headers: Optional[Headers] = None, body: Union[bytes, str, None] = None) -> HttpResponse:
        """Handle one HTTP request: the token endpoint, the JWKS, or a 404 JSON error."""
        return _response(self._native.handle(*_request(method, url, headers, body)))

    def jwks(self) -> dict:
        """Return the JWKS document, creating the first signing key if there is none."""
        return self._native.call("jwks", [])


class AsyncProvider(_ProviderBase):
    """The asyncio form of :class:`Provider`: the same options, and coroutine methods.

    Storage methods and event hooks run on trustline's worker threads, never on the
    event loop. An ``on_event`` hook may be a coroutine function; it is then run on
    the event loop the provider was last awaited from.
    """

    def __init__(
        self,
        *,
        issuer: str,
        storage: Any,
        signing: Union[SigningOptions, Mapping[str, str], None] = None,
        token_ttl: int = 300,
        env: Optional[str] = None,
        on_event: Optional[EventHook] = None,
    ) -> None:
        self._issuer = require_str(issuer, "issuer")
        self._loops = LoopRef()
        self._native = _native_provider(issuer, storage, signing, token_ttl, env, on_event, self._loops)
        self.clients = AsyncClients(self._native, self._loops)
        self.keys = AsyncKeys(self._native, self._loops)
        self.tokens = AsyncTokens(self._native, self._loops)

    async def handle(
        self, method: str, url: str, headers: Optional[Headers] = None, body: Union[bytes, str, None] = None
    ) -> HttpResponse:
        """Handle one HTTP request: the token endpoint, the JWKS, or a 404 JSON error."""
        self._loops.remember()
        return _response(await await_native(self._native.handle_async, *_request(method, url, headers, body)))

    async def jwks(self) -> dict:
        """Return the JWKS document, creating the first signing key if there is none."""
        self._loops.remember()
        return await await_native(self._native.call_async, "jwks", [])


class Clients:
    """Client administration of a :class:`Provider` (``provider.clients``)."""

    def __init__(self, native: _native.Provider) -> None:
        self._native = native

    def create(self, name: str, *, scopes: Sequence[str] = ()) -> CreatedClient:
        """Register a client and return its id and secret. The secret is shown only once."""
        return _created(self._native.call("create_client", [require_str(name, "name"), str_list(scopes, "scopes")]))

    def list(self) -> List[ProviderClient]:
        """Return every client, oldest first."""
        return _clients(self._native.call("list_clients", []))

    def get(self, client_id: str) -> Optional[ProviderClient]:
        """Return a client, or ``None`` when the id is unknown."""
        return _client(self._native.call("get_client", [_client_id(client_id)]))

    def rename(self, client_id: str, name: str) -> None:
        self._native.call("rename_client", [_client_id(client_id), require_str(name, "name")])

    def update_scopes(self, client_id: str, scopes: Sequence[str]) -> None:
        """Replace the scopes a client may request."""
        self._native.call("update_scopes", [_client_id(client_id), str_list(scopes, "scopes")])

    def rotate_secret(
        self, client_id: str, *, expires_at: Optional[datetime] = None, overlap_seconds: Optional[int] = None
    ) -> RotatedSecret:
        """Issue a new secret. Both secrets work until the overlap ends (default 3600 s,
        or ``expires_at``); ``overlap_seconds=0`` replaces the old secret at once."""
        args = [
            _client_id(client_id),
            optional_millis(expires_at, "expires_at"),
            optional_seconds(overlap_seconds, "overlap_seconds"),
        ]
        return _rotated(self._native.call("rotate_secret", args))

    def revoke(self, client_id: str) -> None:
        """Delete a client."""
        self._native.call("revoke_client", [_client_id(client_id)])

    def disable(self, client_id: str) -> None:
        """Stop issuing tokens to a client; guards with storage reject its tokens."""
        self._native.call("disable_client", [_client_id(client_id)])

    def enable(self, client_id: str) -> None:
        self._native.call("enable_client", [_client_id(client_id)])

    def invalidate_tokens_before(self, client_id: str, at: Optional[datetime] = None) -> None:
        """Make guards with storage reject the client's tokens issued before ``at`` (default now)."""
        self._native.call("invalidate_tokens_before", [_client_id(client_id), optional_millis(at, "at")])

    def clear_tokens_invalid_before(self, client_id: str) -> None:
        self._native.call("clear_tokens_invalid_before", [_client_id(client_id)])


class Keys:
    """Signing key administration of a :class:`Provider` (``provider.keys``)."""

    def __init__(self, native: _native.Provider) -> None:
        self._native = native

    def rotate(
        self,
        *,
        activate_at: Optional[datetime] = None,
        algorithm: Optional[str] = None,
        key_id: Optional[str] = None,
        overlap_seconds: Optional[int] = None,
        private_key: Optional[str] = None,
    ) -> RotatedKey:
        """Add a key that signs from ``activate_at`` (default now). Older keys stay in the
        JWKS for ``overlap_seconds`` after that (default token TTL + 60), then drop out."""
        args = _rotate_key_args(activate_at, algorithm, key_id, overlap_seconds, private_key)
        return RotatedKey(key_id=self._native.call("rotate_key", args)["keyId"])


class Tokens:
    """Token revocation of a :class:`Provider` (``provider.tokens``)."""

    def __init__(self, native: _native.Provider) -> None:
        self._native = native

    def revoke(self, jti: str, expires_at: datetime) -> None:
        """Revoke a token by its ``jti`` until ``expires_at``. Revoking twice is no error."""
        self._native.call("revoke_token", [require_str(jti, "jti"), to_millis(expires_at, "expires_at")])


class AsyncClients:
    """Client administration of an :class:`AsyncProvider`; see :class:`Clients`."""

    def __init__(self, native: _native.Provider, loops: LoopRef) -> None:
        self._native = native
        self._loops = loops

    async def _call(self, operation: str, args: List[Any]) -> Any:
        self._loops.remember()
        return await await_native(self._native.call_async, operation, args)

    async def create(self, name: str, *, scopes: Sequence[str] = ()) -> CreatedClient:
        return _created(await self._call("create_client", [require_str(name, "name"), str_list(scopes, "scopes")]))

    async def list(self) -> List[ProviderClient]:
        return _clients(await self._call("list_clients", []))

    async def get(self, client_id: str) -> Optional[ProviderClient]:
        return _client(await self._call("get_client", [_client_id(client_id)]))

    async def rename(self, client_id: str, name: str) -> None:
        await self._call("rename_client", [_client_id(client_id), require_str(name, "name")])

    async def update_scopes(self, client_id: str, scopes: Sequence[str]) -> None:
        await self._call("update_scopes", [_client_id(client_id), str_list(scopes, "scopes")])

    async def rotate_secret(
        self, client_id: str, *, expires_at: Optional[datetime] = None, overlap_seconds: Optional[int] = None
    ) -> RotatedSecret:
        args = [
            _client_id(client_id),
            optional_millis(expires_at, "expires_at"),
            optional_seconds(overlap_seconds, "overlap_seconds"),
        ]
        return _rotated(await self._call("rotate_secret", args))

    async def revoke(self, client_id: str) -> None:
        await self._call("revoke_client", [_client_id(client_id)])

    async def disable(self, client_id: str) -> None:
        await self._call("disable_client", [_client_id(client_id)])

    async def enable(self, client_id: str) -> None:
        await self._call("enable_client", [_client_id(client_id)])

    async def invalidate_tokens_before(self, client_id: str, at: Optional[datetime] = None) -> None:
        await self._call("invalidate_tokens_before", [_client_id(client_id), optional_millis(at, "at")])

    async def clear_tokens_invalid_before(self, client_id: str) -> None:
        await self._call("clear_tokens_invalid_before", [_client_id(client_id)])


class AsyncKeys:
    """Signing key administration of an :class:`AsyncProvider`; see :class:`Keys`."""

    def __init__(self, native: _native.Provider, loops: LoopRef) -> None:
        self._native = native
        self._loops = loops

    async def rotate(
        self,
        *,
        activate_at: Optional[datetime] = None,
        algorithm: Optional[str] = None,
        key_id: Optional[str] = None,
        overlap_seconds: Optional[int] = None,
        private_key: Optional[str] = None,
    ) -> RotatedKey:
        self._loops.remember()
        args = _rotate_key_args(activate_at, algorithm, key_id, overlap_seconds, private_key)
        result = await await_native(self._native.call_async, "rotate_key", args)
        return RotatedKey(key_id=result["keyId"])


class AsyncTokens:
    """Token revocation of an :class:`AsyncProvider`; see :class:`Tokens`."""

    def __init__(self, native: _native.Provider, loops: LoopRef) -> None:
        self._native = native
        self._loops = loops

    async def revoke(self, jti: str, expires_at: datetime) -> None:
        self._loops.remember()
        args = [require_str(jti, "jti"), to_millis(expires_at, "expires_at")]
        await await_native(self._native.call_async, "revoke_token", args)
