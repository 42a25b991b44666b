"""A caller of the inventory service in app.py.

It registers a client in the provider's SQLite file (the admin step that the
trustline CLI or an admin endpoint does in production), then calls the API with
httpx, which gets and caches tokens through trustline.httpx.TrustlineAuth. It prints
status codes and names, never the secret or a token.
"""

from __future__ import annotations

import os
import sys

import httpx

from trustline import Client, Provider, SqliteStorage
from trustline.httpx import TrustlineAuth

HOST = os.environ.get("INVENTORY_HOST", "127.0.0.1")
PORT = int(os.environ.get("INVENTORY_PORT", "8000"))
BASE_URL = f"http://{HOST}:{PORT}"
ISSUER = os.environ.get("TRUSTLINE_ISSUER", f"{BASE_URL}/auth")
SQLITE_PATH = os.environ.get("TRUSTLINE_SQLITE_PATH", "trustline-example.sqlite")


def main() -> int:
    admin = Provider(issuer=ISSUER, storage=SqliteStorage(SQLITE_PATH))
    created = admin.clients.create("order-processor", scopes=["read:items"])
    print(f"registered client {created.client_id} with scope read:items")

    client = Client(
        token_url=f"{ISSUER}/token",
        client_id=created.client_id,
        client_secret=created.client_secret,
        audience="inventory",
    )
    with httpx.Client(base_url=BASE_URL, auth=TrustlineAuth(client)) as http:
        listed = http.get("/items")
        print(f"GET /items -> {listed.status_code} {listed.json()}")

        restocked = http.post("/items", json={"sku": "sku-2", "quantity": 5})
        print(f"POST /items -> {restocked.status_code} {restocked.json()['detail']['error']} (read:items only)")

    anonymous = httpx.get(f"{BASE_URL}/items")
    print(f"GET /items without a token -> {anonymous.status_code} {anonymous.json()['detail']['error']}")

    admin.clients.revoke(created.client_id)
    ok = listed.status_code == 200 and restocked.status_code == 403 and anonymous.status_code == 401
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
