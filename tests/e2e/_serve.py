"""Starting a local server for the end-to-end scripts: a free port on 127.0.0.1, and waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, url: str, timeout: float, log: Path) -> subprocess.Popen:
    """``proc`` once ``GET url`` answers 200; RuntimeError with the log's tail if it exits or ``timeout`` s pass."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.kill()
    raise RuntimeError(f"the server did not answer {url} in {timeout:.0f} s: {log.read_text()[-2000:]}")
