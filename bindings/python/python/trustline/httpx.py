"""httpx integration: an ``httpx.Auth`` that adds the client's bearer token.

.. code-block:: python

    import httpx
    from trustline import AsyncClient
    from trustline.httpx import TrustlineAuth

    auth = TrustlineAuth(AsyncClient(token_url=..., client_id=..., client_secret=...))
    async with httpx.AsyncClient(auth=auth) as http:
        await http.get("https://inventory.internal/items")

With a blocking :class:`~trustline.Client` it works with ``httpx.Client`` too (and with
``httpx.AsyncClient``, fetching tokens on a worker thread).
"""

from __future__ import annotations

from typing import AsyncGenerator, Generator, Union

import anyio.to_thread
import httpx

from .client import AsyncClient, Client

__all__ = ["TrustlineAuth"]


class TrustlineAuth(httpx.Auth):
    """Sets ``Authorization: Bearer <token>`` on each request, with a token from a
    :class:`~trustline.Client` or :class:`~trustline.AsyncClient` (cached, refreshed
    before it expires)."""

    def __init__(self, client: Union[Client, AsyncClient]) -> None:
        if not isinstance(client, (Client, AsyncClient)):
            raise TypeError(f"client must be a trustline Client or AsyncClient, got {type(client).__name__}")
        self.client = client

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not isinstance(self.client, Client):
            raise TypeError("an AsyncClient cannot authenticate httpx.Client requests: use trustline.Client")
        request.headers["Authorization"] = f"Bearer {self.client.get_token()}"
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if isinstance(self.client, AsyncClient):
            token = await self.client.get_token()
        else:
            token = await anyio.to_thread.run_sync(self.client.get_token)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request
