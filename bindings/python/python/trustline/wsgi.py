"""The provider as a WSGI application (Flask, Django, or any WSGI server)."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Callable, Iterable, List, Tuple
from urllib.parse import quote

from . import _native

__all__ = ["ProviderWSGI", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 64 * 1024
"""The largest request body accepted, in bytes; a token request is well under 1 KiB."""


def request_url(environ: dict) -> str:
    """Rebuild the request URL, including ``SCRIPT_NAME`` (the mount path)."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/;=,:@!$&'()*+~")
    query = environ.get("QUERY_STRING", "")
    return f"{scheme}://{host}{path}?{query}" if query else f"{scheme}://{host}{path}"


def request_headers(environ: dict) -> List[Tuple[str, str]]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").lower(), value))
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append((key.replace("_", "-").lower(), environ[key]))
    return headers


class ProviderWSGI:
    """Serves a provider's token and JWKS endpoints over WSGI.

    Build it with ``provider.wsgi_app()``. With Flask, mount it with werkzeug's
    ``DispatcherMiddleware``; with Django, route its path to it in ``wsgi.py``.
    """

    def __init__(self, native: _native.Provider) -> None:
        self._native = native

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1

        if length < 0 or length > MAX_BODY_BYTES:
            status, headers, text = 413, [("content-type", "application/json")], json.dumps(
                {"error": "invalid_request", "error_description": f"the request body exceeds {MAX_BODY_BYTES} bytes"}
            )
        else:
            body = environ["wsgi.input"].read(length) if length else b""
            status, headers, text = self._native.handle(method, request_url(environ), request_headers(environ), body)

        payload = text.encode()
        start_response(
            f"{status} {_reason(status)}",
            [(name, value) for name, value in headers] + [("Content-Length", str(len(payload)))],
        )
        return [b"" if method == "HEAD" else payload]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
