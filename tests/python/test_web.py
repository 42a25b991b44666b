"""The web integrations under real servers on 127.0.0.1: the provider as ASGI (uvicorn)
and WSGI (werkzeug) app, the FastAPI dependency, the Starlette middleware, the Flask
decorator, and the httpx and requests auth objects."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import pytest
import requests
import uvicorn
from fastapi import Depends, FastAPI, Request, Security
from flask import Flask, g
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route
from werkzeug.middleware.dispatcher import DispatcherMiddleware

import trustline.httpx
import trustline.requests
from conftest import WsgiServer, basic_auth
from trustline import AsyncClient, AsyncGuard, AsyncProvider, Client, Guard, MemoryStorage, Provider, ServiceIdentity
from trustline.fastapi import ServiceAuth
from trustline.flask import require_service
from trustline.starlette import TrustlineMiddleware


class UvicornServer:
    """A uvicorn server on a socket bound before the app exists, so the issuer can name its port."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server: Any = None
        self.thread: Any = None

    def start(self, app: Any) -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture
def uvicorn_server():
    server = UvicornServer()
    yield server
    server.stop()


def fetch_token(token_url, created, **form):
    response = requests.post(
        token_url,
        data={"grant_type": "client_credentials", **form},
        headers={"Authorization": basic_auth(created.client_id, created.client_secret)},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_asgi_provider_mounted_in_starlette(uvicorn_server):
    issuer = f"{uvicorn_server.url}/auth"
    provider = AsyncProvider(issuer=issuer, storage=MemoryStorage())
    app = Starlette(routes=[Mount("/auth", app=provider.asgi_app())])
    uvicorn_server.start(app)
    created = asyncio.run(provider.clients.create("orders", scopes=["read:orders"]))

    token = fetch_token(f"{issuer}/token", created)
    jwks = requests.get(f"{issuer}/.well-known/jwks.json", timeout=10)
    head = requests.head(f"{issuer}/.well-known/jwks.json", timeout=10)
    missing = requests.get(f"{issuer}/elsewhere", timeout=10)

    assert Guard(issuer=issuer).verify(token).client_id == created.client_id
    assert jwks.json()["keys"]
    assert jwks.headers["cache-control"] == "public, max-age=600"
    assert head.status_code == 200
    assert head.content == b""
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_asgi_provider_rejects_large_body(uvicorn_server):
    provider = Provider(issuer=uvicorn_server.url, storage=MemoryStorage())
    uvicorn_server.start(provider.asgi_app())

    response = requests.post(f"{uvicorn_server.url}/token", data=b"x" * 70_000, timeout=10)

    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


@pytest.fixture
def fastapi_service(uvicorn_server):
    issuer = f"{uvicorn_server.url}/auth"
    provider = AsyncProvider(issuer=issuer, storage=MemoryStorage())
    service_auth = ServiceAuth(AsyncGuard(issuer=issuer, audience="inventory"))
    app = FastAPI()
    app.mount("/auth", provider.asgi_app())

    @app.get("/items")
    async def items(request: Request, caller: ServiceIdentity = Security(service_auth, scopes=["read:orders"])):
        return {"caller": caller.client_id, "state": request.state.trustline.client_id}

    @app.get("/admin")
    async def admin(caller: ServiceIdentity = Security(service_auth, scopes=["admin"])):
        return {"caller": caller.client_id}

    @app.get("/whoami")
    async def whoami(caller: ServiceIdentity = Depends(service_auth)):
        return {"name": caller.name, "scopes": list(caller.scopes)}

    uvicorn_server.start(app)
    created = asyncio.run(provider.clients.create("orders", scopes=["read:orders"]))
    token = fetch_token(f"{issuer}/token", created, audience="inventory")
    return uvicorn_server.url, created, token


def test_fastapi_dependency_accepts_token(fastapi_service):
    url, created, token = fastapi_service

    response = requests.get(f"{url}/items", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    whoami = requests.get(f"{url}/whoami", headers={"Authorization": f"bearer {token}"}, timeout=10)

    assert response.status_code == 200
    assert response.json() == {"caller": created.client_id, "state": created.client_id}
    assert whoami.json() == {"name": "orders", "scopes": ["read:orders"]}


@pytest.mark.parametrize(
    ("path", "authorization", "status", "error", "challenge"),
    [
        ("/items", None, 401, "missing_token", "Bearer"),
        ("/items", "Basic abc", 401, "missing_token", "Bearer"),
        ("/items", "Bearer not-a-jwt", 401, "invalid_token", 'Bearer error="invalid_token"'),
        ("/admin", "token", 403, "invalid_scope", 'Bearer error="insufficient_scope"'),
    ],
)
def test_fastapi_dependency_rejects(fastapi_service, path, authorization, status, error, challenge):
    url, _, token = fastapi_service
    headers = {}
    if authorization == "token":
        headers["Authorization"] = f"Bearer {token}"
    elif authorization:
        headers["Authorization"] = authorization

    response = requests.get(f"{url}{path}", headers=headers, timeout=10)

    assert response.status_code == status
    assert response.json()["detail"]["error"] == error
    assert response.json()["detail"]["message"]
    assert response.headers["www-authenticate"] == challenge


def test_fastapi_openapi_declares_bearer(fastapi_service):
    url, _, _ = fastapi_service

    schema = requests.get(f"{url}/openapi.json", timeout=10).json()

    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_starlette_middleware(uvicorn_server):
    provider = Provider(issuer=f"{uvicorn_server.url}/auth", storage=MemoryStorage())
    guard = AsyncGuard(issuer=f"{uvicorn_server.url}/auth")

    async def whoami(request):
        return JSONResponse({"caller": request.state.trustline.client_id})

    async def health(request):
        return PlainTextResponse("ok")

    protected = Starlette(
        routes=[Route("/whoami", whoami), Route("/healthz", health)],
        middleware=[Middleware(TrustlineMiddleware, guard=guard, scopes=["read:orders"], exclude_paths=["/healthz"])],
    )
    app = Starlette(routes=[Mount("/auth", app=provider.asgi_app()), Mount("/", app=protected)])
    uvicorn_server.start(app)
    reader = provider.clients.create("reader", scopes=["read:orders"])
    writer = provider.clients.create("writer", scopes=["write:orders"])

    allowed = requests.get(
        f"{uvicorn_server.url}/whoami",
        headers={"Authorization": f"Bearer {fetch_token(provider.issuer + '/token', reader)}"},
        timeout=10,
    )
    forbidden = requests.get(
        f"{uvicorn_server.url}/whoami",
        headers={"Authorization": f"Bearer {fetch_token(provider.issuer + '/token', writer)}"},
        timeout=10,
    )
    anonymous = requests.get(f"{uvicorn_server.url}/whoami", timeout=10)
    health = requests.get(f"{uvicorn_server.url}/healthz", timeout=10)

    assert allowed.json() == {"caller": reader.client_id}
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "invalid_scope"
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": "missing_token", "message": "the bearer token is missing"}
    assert health.text == "ok"


@pytest.fixture
def flask_service():
    server = WsgiServer()
    issuer = f"{server.url}/auth"
    provider = Provider(issuer=issuer, storage=MemoryStorage())
    guard = Guard(issuer=issuer)
    app = Flask(__name__)

    @app.get("/items")
    @require_service(guard, scopes=["read:orders"])
    def items():
        return {"caller": g.trustline.client_id}

    server.app = DispatcherMiddleware(app, {"/auth": provider.wsgi_app()})
    yield server, provider
    server.stop()


def test_flask_decorator_and_wsgi_provider(flask_service):
    server, provider = flask_service
    reader = provider.clients.create("reader", scopes=["read:orders"])
    writer = provider.clients.create("writer", scopes=["write:orders"])

    allowed = requests.get(
        f"{server.url}/items",
        headers={"Authorization": f"Bearer {fetch_token(provider.issuer + '/token', reader)}"},
        timeout=10,
    )
    forbidden = requests.get(
        f"{server.url}/items",
        headers={"Authorization": f"Bearer {fetch_token(provider.issuer + '/token', writer)}"},
        timeout=10,
    )
    anonymous = requests.get(f"{server.url}/items", timeout=10)

    assert allowed.json() == {"caller": reader.client_id}
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "invalid_scope"
    assert forbidden.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "missing_token"


def test_requests_auth(flask_service):
    server, provider = flask_service
    reader = provider.clients.create("reader", scopes=["read:orders"])
    session = requests.Session()
    session.auth = trustline.requests.TrustlineAuth(
        Client(token_url=f"{provider.issuer}/token", client_id=reader.client_id, client_secret=reader.client_secret)
    )

    responses = [session.get(f"{server.url}/items", timeout=10) for _ in range(3)]

    assert [response.json() for response in responses] == [{"caller": reader.client_id}] * 3
    assert server.count("/token") == 1


def test_httpx_auth_sync_and_async(flask_service):
    server, provider = flask_service
    reader = provider.clients.create("reader", scopes=["read:orders"])
    options = {"token_url": f"{provider.issuer}/token", "client_id": reader.client_id, "client_secret": reader.client_secret}

    with httpx.Client(auth=trustline.httpx.TrustlineAuth(Client(**options))) as http:
        sync_response = http.get(f"{server.url}/items")

    async def fetch_async():
        async with httpx.AsyncClient(auth=trustline.httpx.TrustlineAuth(AsyncClient(**options))) as http:
            return await http.get(f"{server.url}/items")

    async_response = asyncio.run(fetch_async())

    assert sync_response.json() == {"caller": reader.client_id}
    assert async_response.json() == {"caller": reader.client_id}


def test_httpx_auth_rejects_async_client_in_sync_flow():
    auth = trustline.httpx.TrustlineAuth(
        AsyncClient(token_url="https://auth.internal/token", client_id="svc_x", client_secret="secret")
    )

    with httpx.Client(auth=auth) as http, pytest.raises(TypeError, match="use trustline.Client"):
        http.get("http://127.0.0.1:9/")
