"""The FastAPI example runs as its README describes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi"


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the example did not listen on port {port}")


def test_fastapi_example(tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "INVENTORY_PORT": str(port),
        "TRUSTLINE_SQLITE_PATH": str(tmp_path / "example.sqlite"),
    }
    service = subprocess.Popen(
        [sys.executable, str(EXAMPLE / "app.py")], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_port(port, service)
        caller = subprocess.run(
            [sys.executable, str(EXAMPLE / "caller.py")], env=environment, capture_output=True, text=True, timeout=60
        )
    finally:
        service.terminate()
        service.wait(timeout=10)

    assert caller.returncode == 0, caller.stdout + caller.stderr
    lines = caller.stdout.splitlines()
    assert lines[0].startswith("registered client svc_")
    assert lines[1].startswith("GET /items -> 200")
    assert "'caller': 'order-processor'" in lines[1]
    assert lines[2] == "POST /items -> 403 invalid_scope (read:items only)"
    assert lines[3] == "GET /items without a token -> 401 missing_token"
