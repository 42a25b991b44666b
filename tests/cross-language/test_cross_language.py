"""Tokens cross between the Node.js and Python packages: a Python guard accepts tokens
issued by the Node provider, and the Node guard accepts tokens issued by the Python
provider. Both run over HTTP on 127.0.0.1.

Needs Node.js 20+ and the npm package built at the repository root (``npm run build``,
which ``scripts/test.sh`` runs first).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from trustline import (
    AsyncGuard,
    Client,
    Guard,
    InvalidAudienceError,
    InvalidTokenError,
    MemoryStorage,
    Provider,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_PEER = Path(__file__).with_name("node-peer.mjs")

if shutil.which("node") is None:
    pytest.skip("node is not on PATH: install Node.js 20 or later", allow_module_level=True)
if not (REPO_ROOT / "dist" / "index.js").exists():
    pytest.skip("the npm package is not built: run `npm ci && npm run build` first", allow_module_level=True)


@pytest.fixture
def node_provider():
    process = subprocess.Popen(
        ["node", str(NODE_PEER), "provider"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if not line:
        process.kill()
        pytest.fail(f"the Node provider did not start: {process.stderr.read()}")
    yield json.loads(line)
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def node_verify(issuer: str, tokens: list, audience: str = "") -> list:
    result = subprocess.run(
        ["node", str(NODE_PEER), "verify", issuer] + ([audience] if audience else []),
        cwd=REPO_ROOT,
        input="".join(f"{token}\n" for token in tokens),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_python_guard_accepts_node_tokens(node_provider):
    issuer = node_provider["issuer"]
    client = Client(
        token_url=f"{issuer}/token",
        client_id=node_provider["clientId"],
        client_secret=node_provider["clientSecret"],
        audience="inventory",
        scope="read:orders",
    )
    token = client.get_token()

    identity = Guard(issuer=issuer, audience="inventory", scopes=["read:orders"], env="production").verify(token)
    async_identity = asyncio.run(AsyncGuard(issuer=issuer, audience="inventory").verify(token))

    assert identity.client_id == node_provider["clientId"]
    assert identity.name == "node-caller"
    assert identity.scopes == ("read:orders",)
    assert identity.env == "production"
    assert async_identity == identity
    with pytest.raises(InvalidAudienceError):
        Guard(issuer=issuer, audience="billing").verify(token)
    with pytest.raises(InvalidTokenError):
        Guard(issuer=issuer).verify(token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"))


@pytest.fixture
def python_provider():
    server = make_server("127.0.0.1", 0, lambda environ, start: app(environ, start), threaded=True)
    issuer = f"http://127.0.0.1:{server.server_port}"
    provider = Provider(issuer=issuer, storage=MemoryStorage(), env="production")
    app = provider.wsgi_app()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_node_guard_accepts_python_tokens(python_provider, algorithm):
    issuer = python_provider.issuer
    if algorithm == "RS256":
        python_provider.keys.rotate(algorithm="RS256", overlap_seconds=0)
    created = python_provider.clients.create("python-caller", scopes=["read:orders"])
    token = Client(
        token_url=f"{issuer}/token",
        client_id=created.client_id,
        client_secret=created.client_secret,
        audience="inventory",
    ).get_token()
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")

    accepted, rejected = node_verify(issuer, [token, tampered], audience="inventory")

    assert accepted["ok"] is True, accepted
    assert accepted["identity"]["clientId"] == created.client_id
    assert accepted["identity"]["name"] == "python-caller"
    assert accepted["identity"]["scopes"] == ["read:orders"]
    assert accepted["identity"]["env"] == "production"
    assert rejected == {**rejected, "ok": False, "code": "invalid_token", "status": 401}
