"""Fixtures for the agent tests: trivial test tools and a scratch role that may call them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def load_testing_tools():
    spec = importlib.util.spec_from_file_location("labwright_agent_testing_tools", HERE / "testing_tools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def test_tools():
    """Register the trivial test tools for one test; remove them afterwards so other areas never see them."""
    module = load_testing_tools()
    names = module.register()
    yield names
    module.unregister()


@pytest.fixture
def tester_role(test_tools, monkeypatch):
    """A role 'tester' allowed the test tools and one real chemistry tool."""
    from labwright.agents import roles

    role = roles.Role("tester", "test role", frozenset({*test_tools, "canonicalize_smiles"}))
    monkeypatch.setitem(roles.ROLES, "tester", role)
    return role
