"""Starlette integration: an ASGI middleware that verifies every request's bearer token.

.. code-block:: python

    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from trustline import AsyncGuard
    from trustline.starlette import TrustlineMiddleware

    guard = AsyncGuard(issuer="https://auth.internal", audience="inventory")
    app = Starlette(routes=..., middleware=[Middleware(TrustlineMiddleware, guard=guard)])

On success the caller's :class:`~trustline.ServiceIdentity` is ``request.state.trustline``.
A failed check gets its status (401 or 403), a ``WWW-Authenticate`` header and
the JSON body ``{"error": code, "message": message}``. It is plain ASGI, so it also
works in FastAPI (``app.add_middleware(TrustlineMiddleware, guard=guard)``).
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Collection, MutableMapping, Sequence

from ._web import bearer_token, error_body, require_scopes, www_authenticate
from .errors import AuthError
from .guard import AsyncGuard

__all__ = ["TrustlineMiddleware"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class TrustlineMiddleware:
    """Rejects HTTP requests without a valid bearer token.

    :param app: the ASGI app to protect.
    :param guard: an :class:`~trustline.AsyncGuard`.
    :param scopes: scopes every request's token must carry, in addition to the guard's.
    :param exclude_paths: exact paths served without a token, such as ``/healthz``.
    """

    def __init__(
        self,
        app: ASGIApp,
        guard: AsyncGuard,
        *,
        scopes: Sequence[str] = (),
        exclude_paths: Collection[str] = (),
    ) -> None:
        if not isinstance(guard, AsyncGuard):
            raise TypeError(f"guard must be an AsyncGuard, got {type(guard).__name__}")
        self.app = app
        self.guard = guard
        self.scopes = tuple(scopes)
        self.exclude_paths = frozenset(exclude_paths)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exclude_paths:
            await self.app(scope, receive, send)
            return

        authorization = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            identity = await self.guard.verify(bearer_token(authorization))
            require_scopes(identity, self.scopes)
        except AuthError as error:
            await _reject(error, send)
            return

        scope.setdefault("state", {})["trustline"] = identity
        await self.app(scope, receive, send)


async def _reject(error: AuthError, send: Any) -> None:
    body = json.dumps(error_body(error)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", www_authenticate(error).encode()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
