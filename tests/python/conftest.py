"""Fixtures of the Python tests: real HTTP servers on 127.0.0.1, providers on every
storage backend, and helpers to obtain tokens over HTTP.

PostgreSQL and MariaDB tests run when TRUSTLINE_TEST_POSTGRES_URL and
TRUSTLINE_TEST_MYSQL_URL are set (``eval "$(bash scripts/databases.sh)"`` starts
both servers and prints them). Otherwise they are skipped with that reason, or fail
when TRUSTLINE_TEST_REQUIRE_DATABASES=1 (as scripts/test.sh sets it).
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional
from urllib.parse import urlparse

import pytest
import requests
from werkzeug.serving import make_server

import trustline
from trustline import MemoryStorage, MySQLStorage, PostgresStorage, Provider, SqliteStorage

POSTGRES_URL = os.environ.get("TRUSTLINE_TEST_POSTGRES_URL")
MYSQL_URL = os.environ.get("TRUSTLINE_TEST_MYSQL_URL")
NO_POSTGRES = "TRUSTLINE_TEST_POSTGRES_URL is not set: run `eval \"$(bash scripts/databases.sh)\"` first"
NO_MYSQL = "TRUSTLINE_TEST_MYSQL_URL is not set: run `eval \"$(bash scripts/databases.sh)\"` first"
REQUIRE_DATABASES = os.environ.get("TRUSTLINE_TEST_REQUIRE_DATABASES") == "1"


def skip_without_database(reason: str) -> None:
    if REQUIRE_DATABASES:
        pytest.fail(f"{reason} (TRUSTLINE_TEST_REQUIRE_DATABASES=1 requires the database)")
    pytest.skip(reason)


class WsgiServer:
    """A threaded werkzeug server on 127.0.0.1 whose app can be set after it binds,
    so that an issuer URL can name its port."""

    def __init__(self) -> None:
        self.app: Optional[Callable[..., Any]] = None
        self.requests: list = []
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _dispatch(self, environ: Dict[str, Any], start_response: Any) -> Any:
        self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        if self.app is None:
            start_response("503 Service Unavailable", [("content-type", "text/plain")])
            return [b"no app yet"]
        return self.app(environ, start_response)

    def count(self, path: str) -> int:
        return sum(1 for _, requested in self.requests if requested.endswith(path))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[WsgiServer]:
    http_server = WsgiServer()
    yield http_server
    http_server.stop()


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------
# Storage backends


def _unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}_"


def _mysql_connection() -> Any:
    import pymysql

    url = urlparse(MYSQL_URL or "")
    return pymysql.connect(
        host=url.hostname,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        database=url.path.lstrip("/"),
    )


def _drop_tables(execute: Callable[[str], Any], prefix: str) -> None:
    for table in ("clients", "signing_keys", "revoked_tokens"):
        execute(f"DROP TABLE IF EXISTS {prefix}{table}")


@dataclass
class Backend:
    name: str
    make: Callable[[], Any]
    """Returns a new storage object on the same database (for a second instance)."""


def _backend(name: str, tmp_path: Any) -> Iterator[Backend]:
    if name == "memory":
        storage = MemoryStorage()
        yield Backend(name, lambda: storage)
    elif name == "sqlite-file":
        path = tmp_path / "trustline.sqlite"
        yield Backend(name, lambda: SqliteStorage(path))
    elif name == "sqlite3-connection":
        import sqlite3

        connections = []

        def make() -> Any:
            connection = sqlite3.connect(tmp_path / "shared.sqlite", check_same_thread=False)
            connections.append(connection)
            return SqliteStorage(connection)

        yield Backend(name, make)
        for connection in connections:
            connection.close()
    elif name in ("postgres-connection", "postgres-pool"):
        if not POSTGRES_URL:
            skip_without_database(NO_POSTGRES)
        import psycopg
        from psycopg_pool import ConnectionPool

        prefix = _unique_prefix()
        closers = []

        def make() -> Any:
            if name == "postgres-pool":
                pool = ConnectionPool(POSTGRES_URL, min_size=1, max_size=4, open=True)
                closers.append(pool.close)
                return PostgresStorage(pool, table_prefix=prefix)
            connection = psycopg.connect(POSTGRES_URL)
            closers.append(connection.close)
            return PostgresStorage(connection, table_prefix=prefix)

        yield Backend(name, make)
        for close in closers:
            close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            _drop_tables(connection.execute, prefix)
    elif name == "mysql":
        if not MYSQL_URL:
            skip_without_database(NO_MYSQL)
        prefix = _unique_prefix()
        connections = []

        def make() -> Any:
            connection = _mysql_connection()
            connections.append(connection)
            return MySQLStorage(connection, table_prefix=prefix)

        yield Backend(name, make)
        for connection in connections:
            connection.close()
        cleanup = _mysql_connection()
        with cleanup.cursor() as cursor:
            _drop_tables(cursor.execute, prefix)
        cleanup.commit()
        cleanup.close()
    else:  # pragma: no cover
        raise ValueError(name)


ALL_BACKENDS = ["memory", "sqlite-file", "sqlite3-connection", "postgres-connection", "postgres-pool", "mysql"]


@pytest.fixture(params=ALL_BACKENDS)
def backend(request: Any, tmp_path: Any) -> Iterator[Backend]:
    yield from _backend(request.param, tmp_path)


@pytest.fixture(params=["memory", "sqlite-file"])
def local_backend(request: Any, tmp_path: Any) -> Iterator[Backend]:
    """The backends that need no database server."""
    yield from _backend(request.param, tmp_path)


# ---------------------------------------------------------------------------
# A provider served over HTTP


@dataclass
class Issuer:
    """A provider served on 127.0.0.1, with helpers to obtain tokens from it."""

    provider: Provider
    server: WsgiServer
    storage: Any

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token_url(self) -> str:
        return f"{self.server.url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.server.url}/.well-known/jwks.json"

    def client(self, name: str = "orders", scopes: Any = ("read:orders", "write:orders")) -> trustline.CreatedClient:
        return self.provider.clients.create(name, scopes=list(scopes))

    def token(self, created: trustline.CreatedClient, **form: str) -> str:
        response = self.request_token(created.client_id, created.client_secret, **form)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def request_token(self, client_id: str, client_secret: str, **form: str) -> requests.Response:
        return requests.post(
            self.token_url,
            data={"grant_type": "client_credentials", **form},
            headers={"Authorization": basic_auth(client_id, client_secret)},
            timeout=10,
        )

    def guard(self, **options: Any) -> trustline.Guard:
        return trustline.Guard(issuer=self.url, **options)


def basic_auth(client_id: str, client_secret: str) -> str:
    from urllib.parse import quote_plus

    credentials = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def make_issuer(server: WsgiServer, storage: Any, **options: Any) -> Issuer:
    provider = Provider(issuer=server.url, storage=storage, **options)
    server.app = provider.wsgi_app()
    return Issuer(provider, server, storage)


@pytest.fixture
def issuer(server: WsgiServer) -> Issuer:
    return make_issuer(server, MemoryStorage(), env="production")
