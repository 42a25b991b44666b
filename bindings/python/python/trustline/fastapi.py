"""FastAPI integration: the guard as a dependency, with per-route required scopes.

.. code-block:: python

    from fastapi import FastAPI, Security
    from trustline import AsyncGuard, ServiceIdentity
    from trustline.fastapi import ServiceAuth

    service_auth = ServiceAuth(AsyncGuard(issuer="https://auth.internal", audience="inventory"))

    @app.get("/items")
    async def items(caller: ServiceIdentity = Security(service_auth, scopes=["read:items"])):
        return {"caller": caller.client_id}

A failed check gets its status (401 or 403), a ``WWW-Authenticate`` header and
FastAPI's error body ``{"detail": {"error": code, "message": message}}``.
"""

# No `from __future__ import annotations` here: FastAPI reads the annotations of
# ServiceAuth.__call__, and older FastAPI versions cannot resolve them as strings.

from typing import Optional, Sequence, Union

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from starlette.concurrency import run_in_threadpool

from ._web import bearer_token, error_body, require_scopes, www_authenticate
from .errors import AuthError
from .guard import AsyncGuard, Guard
from .models import ServiceIdentity

__all__ = ["ServiceAuth"]

# The bearer scheme of the OpenAPI document. ServiceAuth reads the header itself,
# so that a missing token fails with missing_token like every other check.
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from the trustline provider.")


class ServiceAuth:
    """A FastAPI dependency that verifies the bearer token and returns the caller's
    :class:`~trustline.ServiceIdentity`, also stored as ``request.state.trustline``.

    Use it with ``Depends(service_auth)``, or with ``Security(service_auth,
    scopes=[...])`` to require scopes on one route in addition to ``scopes`` here and
    the guard's own.
    """

    def __init__(self, guard: Union[AsyncGuard, Guard], *, scopes: Sequence[str] = ()) -> None:
        if not isinstance(guard, (AsyncGuard, Guard)):
            raise TypeError(f"guard must be an AsyncGuard or a Guard, got {type(guard).__name__}")
        self.guard = guard
        self.scopes = tuple(scopes)

    async def __call__(
        self,
        request: Request,
        security_scopes: SecurityScopes,
        # Unused: declares the bearer scheme in the OpenAPI document.
        credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer_scheme),
    ) -> ServiceIdentity:
        token = bearer_token(request.headers.get("authorization"))
        try:
            if isinstance(self.guard, AsyncGuard):
                identity = await self.guard.verify(token)
            else:
                identity = await run_in_threadpool(self.guard.verify, token)
            require_scopes(identity, (*self.scopes, *security_scopes.scopes))
        except AuthError as error:
            raise HTTPException(
                status_code=error.status,
                detail=error_body(error),
                headers={"WWW-Authenticate": www_authenticate(error)},
            ) from None
        request.state.trustline = identity
        return identity
