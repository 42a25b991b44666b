"""Flask integration: a decorator that verifies the bearer token of a view's requests.

.. code-block:: python

    from flask import Flask, g
    from trustline import Guard
    from trustline.flask import require_service

    guard = Guard(issuer="https://auth.internal", audience="inventory")

    @app.get("/items")
    @require_service(guard, scopes=["read:items"])
    def items():
        return {"caller": g.trustline.client_id}

On success the caller's :class:`~trustline.ServiceIdentity` is ``flask.g.trustline``.
A failed check gets its status (401 or 403), a ``WWW-Authenticate`` header and
the JSON body ``{"error": code, "message": message}``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence, TypeVar

from flask import g, jsonify, request

from ._web import bearer_token, error_body, require_scopes, www_authenticate
from .errors import AuthError
from .guard import Guard

__all__ = ["require_service"]

View = TypeVar("View", bound=Callable[..., Any])


def require_service(guard: Guard, *, scopes: Sequence[str] = ()) -> Callable[[View], View]:
    """Return a view decorator that requires a valid bearer token with ``scopes``
    (in addition to the guard's own)."""
    if not isinstance(guard, Guard):
        raise TypeError(f"guard must be a Guard, got {type(guard).__name__}")
    required = tuple(scopes)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                identity = guard.verify(bearer_token(request.headers.get("Authorization")))
                require_scopes(identity, required)
            except AuthError as error:
                response = jsonify(error_body(error))
                response.status_code = error.status
                response.headers["WWW-Authenticate"] = www_authenticate(error)
                return response
            g.trustline = identity
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
