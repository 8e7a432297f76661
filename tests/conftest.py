"""Shared test setup: offline, isolated LABWRIGHT_HOME, no LLM endpoint unless a test starts its own."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

# JAX's persistent compilation cache for this test session, shared by its worker processes and every labwright
# process a test starts: set before labwright is imported, so tools/_runtime.py leaves it alone instead of writing
# into the developer's own LABWRIGHT_HOME (the per-test homes below come too late for that import-time setting).
# The first pytest process creates it (xdist's workers inherit it) and removes it at exit.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="labwright-test-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own LABWRIGHT_HOME and no configured LLM endpoint."""
    home = tmp_path / "labwright-home"
    monkeypatch.setenv("LABWRIGHT_HOME", str(home))
    # The test's own folder is a root governed calls may read and write (as a person would list a data folder); the
    # confinement tests (tests/agents/test_paths.py) remove it.
    monkeypatch.setenv("LABWRIGHT_ALLOWED_ROOTS", str(tmp_path))
    for var in ("LABWRIGHT_BASE_URL", "LABWRIGHT_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server (pgserver's bundled binaries) in a temporary folder, started once per session and
    stopped at its end; its URL points at the maintenance database ``postgres`` (tests take ``postgres_url``)."""
    import shutil
    import tempfile

    pgserver = pytest.importorskip("pgserver", reason="the PostgreSQL tests need pgserver (the dev extra)")
    pytest.importorskip("psycopg", reason="the PostgreSQL backend needs labwright[postgres]")
    # A folder of its own rather than pytest's tmp_path_factory, whose old sessions' folders another pytest run of
    # the same user may delete while this server still runs; short, as the Unix socket's path is limited (~100 B).
    folder = tempfile.mkdtemp(prefix="labwright-pg-")
    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's PostgreSQL server for this test alone (dropped afterwards)."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, query = postgres_server.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    yield url
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
