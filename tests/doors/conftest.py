"""Shared by the front-door tests: the approval inbox served on 127.0.0.1 in this process."""

from __future__ import annotations

import socket
import threading
import time

import pytest

TOKEN = "test-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox_token() -> str:
    return TOKEN


@pytest.fixture
def inbox(isolated_home):
    """The inbox's HTTP API on 127.0.0.1, in this process (same LABWRIGHT_HOME as the MCP server)."""
    import uvicorn
    from labwright.doors._inbox import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(TOKEN, "dr-approver"), host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
