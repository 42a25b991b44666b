"""An inventory service built with FastAPI and trustline.

One process plays two roles, to keep the example short:

- the provider, mounted at /auth: POST /auth/token and GET /auth/.well-known/jwks.json;
- a protected API: GET /items needs the scope read:items, POST /items write:items.

In production the provider usually runs as its own service, and each API only has
the guard. Run it with:

    python examples/fastapi/app.py          # http://127.0.0.1:8000
    python examples/fastapi/caller.py       # registers a client and calls the API
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI, Security
from pydantic import BaseModel

from trustline import AsyncGuard, AsyncProvider, ServiceIdentity, SqliteStorage
from trustline.fastapi import ServiceAuth

HOST = os.environ.get("INVENTORY_HOST", "127.0.0.1")
PORT = int(os.environ.get("INVENTORY_PORT", "8000"))
ISSUER = os.environ.get("TRUSTLINE_ISSUER", f"http://{HOST}:{PORT}/auth")
SQLITE_PATH = os.environ.get("TRUSTLINE_SQLITE_PATH", "trustline-example.sqlite")

provider = AsyncProvider(issuer=ISSUER, storage=SqliteStorage(SQLITE_PATH))
service_auth = ServiceAuth(AsyncGuard(issuer=ISSUER, audience="inventory"))

app = FastAPI(title="inventory")
app.mount("/auth", provider.asgi_app())

ITEMS = {"sku-1": 12, "sku-2": 0}


class Restock(BaseModel):
    sku: str
    quantity: int


@app.get("/items")
async def list_items(caller: ServiceIdentity = Security(service_auth, scopes=["read:items"])) -> dict:
    return {"items": ITEMS, "caller": caller.name}


@app.post("/items")
async def restock(item: Restock, caller: ServiceIdentity = Security(service_auth, scopes=["write:items"])) -> dict:
    ITEMS[item.sku] = ITEMS.get(item.sku, 0) + item.quantity
    return {"sku": item.sku, "quantity": ITEMS[item.sku], "caller": caller.name}


if __name__ == "__main__":
    uvicorn.run(app, host=HOST, port=PORT)
