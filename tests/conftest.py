"""Shared test setup: offline, isolated LABWRIGHT_HOME, no LLM endpoint unless a test starts its own."""

from __future__ import annotations

import pytest


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
