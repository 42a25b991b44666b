"""The provider as an ASGI application (FastAPI, Starlette, or any ASGI server)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, List, MutableMapping, Tuple

from . import _native
from ._bridge import await_native

__all__ = ["ProviderASGI", "MAX_BODY_BYTES"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024
"""The largest request body accepted, in bytes; a token request is well under 1 KiB."""


def request_path(scope: Scope) -> str:
    """Return the full request path, including the path the app is mounted at."""
    path: str = scope.get("path", "/")
    root_path: str = scope.get("root_path", "")
    # Starlette's Mount keeps the full path in `path`; ASGI servers started with a
    # root path may leave it out.
    if root_path and not path.startswith(root_path):
        path = root_path.rstrip("/") + path
    return path


def request_url(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    host = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    query = scope.get("query_string", b"").decode("latin-1")
    url = f"{scheme}://{host}{request_path(scope)}"
    return f"{url}?{query}" if query else url


def _json_error(status: int, error: str, description: str) -> Tuple[int, List[Tuple[str, str]], str]:
    import json

    body = json.dumps({"error": error, "error_description": description})
    return status, [("content-type", "application/json")], body


class ProviderASGI:
    """Serves a provider's token and JWKS endpoints over ASGI.

    Build it with ``provider.asgi_app()``. Lifespan events are accepted and ignored.
    """

    def __init__(self, native: _native.Provider) -> None:
        self._native = native

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the trustline provider app serves HTTP only, not {scope['type']}")

        body, too_large = await _read_body(receive)
        if too_large:
            status, headers, text = _json_error(413, "invalid_request", f"the request body exceeds {MAX_BODY_BYTES} bytes")
        else:
            request_headers = [
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope.get("headers", ())
            ]
            status, headers, text = await await_native(
                self._native.handle_async, scope["method"], request_url(scope), request_headers, body
            )

        payload = text.encode()
        response_headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        response_headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload})


async def _read_body(receive: Receive) -> Tuple[bytes, bool]:
    chunks: List[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), size > MAX_BODY_BYTES


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
