"""The guard: verifies access tokens against the issuer's JWKS.

:class:`Guard` blocks; :class:`AsyncGuard` has a coroutine ``verify``. Both verify on
the calling thread, with no thread hop or event-loop round trip, whenever no I/O is
needed: the JWKS is cached and has the token's key, and storage is absent or
:class:`~trustline.MemoryStorage` or a SQLite file. Otherwise the JWKS is fetched or
storage is read first.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

from . import _native
from ._bridge import LoopRef, await_native, event_dispatch
from ._validate import optional_seconds, optional_str, require_str, str_list, type_name
from .models import GuardEvent, ServiceIdentity
from .storage import native_storage

__all__ = ["Guard", "AsyncGuard"]

EventHook = Callable[[GuardEvent], Any]


def _audience(audience: Any) -> Optional[list]:
    """Normalize ``audience`` to a list. An empty one is rejected rather than read as
    "no audience check", which would accept tokens for any audience."""
    if audience is None:
        return None
    audiences = [audience] if isinstance(audience, str) else str_list(audience, "audience")
    if not audiences or any(not item for item in audiences):
        raise ValueError("audience must not be empty: leave it out to skip the audience check")
    return audiences


def _native_guard(
    issuer: Any,
    jwks_url: Any,
    audience: Any,
    scopes: Any,
    env: Any,
    clock_tolerance: Any,
    storage: Any,
    on_event: Any,
    loops: Optional[LoopRef],
) -> _native.Guard:
    return _native.Guard(
        require_str(issuer, "issuer"),
        jwks_url=optional_str(jwks_url, "jwks_url"),
        audience=_audience(audience),
        scopes=None if scopes is None else str_list(scopes, "scopes"),
        env=optional_str(env, "env"),
        clock_tolerance=optional_seconds(clock_tolerance, "clock_tolerance"),
        storage=None if storage is None else native_storage(storage),
        on_event=event_dispatch(on_event, GuardEvent, loops),
    )


def _token(token: Any) -> str:
    # A missing header often arrives as None; it fails like an empty token, with
    # missing_token (401).
    if token is None:
        return ""
    if type(token) is not str and not isinstance(token, str):
        raise TypeError(f"token must be a str, got {type_name(token)}")
    return token


class _GuardBase:
    _native: _native.Guard
    _issuer: str

    @property
    def issuer(self) -> str:
        return self._issuer

    def __repr__(self) -> str:
        return f"{type(self).__name__}(issuer={self._issuer!r})"


class Guard(_GuardBase):
    """Verifies access tokens. Safe to share between threads.

    :param issuer: the expected ``iss`` claim.
    :param jwks_url: where the JWKS is; default ``{issuer}/.well-known/jwks.json``.
        It is fetched on first use and kept for 10 minutes.
    :param audience: when set, the ``aud`` claim must name this one (or one of these).
    :param scopes: scopes every token must carry.
    :param env: when set, the ``env`` claim must equal it.
    :param clock_tolerance: allowed clock skew in seconds for ``exp``, ``nbf`` and
        ``iat``, default 5. Larger values accept expired tokens for longer.
    :param storage: the provider's storage; enables revocation, disabled-client and
        cutoff checks.
    :param on_event: called with each :class:`~trustline.GuardEvent`; what it raises is
        logged and ignored.
    """

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: Optional[str] = None,
        audience: Union[str, Sequence[str], None] = None,
        scopes: Optional[Sequence[str]] = None,
        env: Optional[str] = None,
        clock_tolerance: int = 5,
        storage: Any = None,
        on_event: Optional[EventHook] = None,
    ) -> None:
        self._issuer = require_str(issuer, "issuer")
        self._native = _native_guard(issuer, jwks_url, audience, scopes, env, clock_tolerance, storage, on_event, None)

    def verify(self, token: Optional[str]) -> ServiceIdentity:
        """Verify a bearer token and return who sent it.

        Raises an :class:`~trustline.AuthError` subclass naming the failed check:
        ``MissingTokenError``, ``InvalidTokenError``, ``InvalidIssuerError``,
        ``InvalidAudienceError``, ``InvalidScopeError``, ``InvalidEnvError`` or
        ``JwksFetchError``.
        """
        return ServiceIdentity(*self._native.verify(_token(token)))


class AsyncGuard(_GuardBase):
    """The asyncio form of :class:`Guard`: the same options, and ``await guard.verify(token)``."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: Optional[str] = None,
        audience: Union[str, Sequence[str], None] = None,
        scopes: Optional[Sequence[str]] = None,
        env: Optional[str] = None,
        clock_tolerance: int = 5,
        storage: Any = None,
        on_event: Optional[EventHook] = None,
    ) -> None:
        self._issuer = require_str(issuer, "issuer")
        self._loops = LoopRef()
        self._native = _native_guard(
            issuer, jwks_url, audience, scopes, env, clock_tolerance, storage, on_event, self._loops
        )

    async def verify(self, token: Optional[str]) -> ServiceIdentity:
        """Verify a bearer token and return who sent it; see :meth:`Guard.verify`."""
        token = _token(token)
        result = self._native.verify_local(token)
        if result is None:
            self._loops.remember()
            result = await await_native(self._native.verify_async, token)
        return ServiceIdentity(*result)
