"""requests integration: an auth object that adds the client's bearer token.

.. code-block:: python

    import requests
    from trustline import Client
    from trustline.requests import TrustlineAuth

    session = requests.Session()
    session.auth = TrustlineAuth(Client(token_url=..., client_id=..., client_secret=...))
    session.get("https://inventory.internal/items")
"""

from __future__ import annotations

import requests.auth

from .client import Client

__all__ = ["TrustlineAuth"]


class TrustlineAuth(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer <token>`` on each request, with a token from a
    :class:`~trustline.Client` (cached, refreshed before it expires)."""

    def __init__(self, client: Client) -> None:
        if not isinstance(client, Client):
            raise TypeError(f"client must be a trustline Client, got {type(client).__name__}")
        self.client = client

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.client.get_token()}"
        return request
