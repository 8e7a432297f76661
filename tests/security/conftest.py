"""Fixtures for the security tests: a store-writing tool whose estimate the caller sets, and a role allowed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import pytest
from labwright.tools.fields import ToolModel
from pydantic import Field

SECURE_ROLE = "secure_tester"


class WriteIn(ToolModel):
    seconds: float = Field(gt=0, description="claimed run time, s (the estimate)")
    path: str | None = Field(default=None, description="file to append a line to")


class WriteOut(ToolModel):
    value: float


@pytest.fixture
def costed_write(monkeypatch):
    """Register ``costed_write`` (appends a line to a file; estimate = the ``seconds`` argument) and a role for it."""
    from labwright.agents import roles
    from labwright.tools.registry import _REGISTRY, Cost, tool

    @tool(side_effect="writes_store", cost=lambda inp: Cost(seconds=inp.seconds))
    def costed_write(inp: WriteIn) -> WriteOut:
        """Append a line to ``path`` (a side effect tests can count); the estimate is what the caller claims."""
        if inp.path:
            with Path(inp.path).open("a") as fh:
                fh.write(f"{inp.seconds}\n")
        return WriteOut(value=2 * inp.seconds)

    monkeypatch.setitem(roles.ROLES, SECURE_ROLE, roles.Role(SECURE_ROLE, "test role", frozenset({"costed_write"})))
    yield "costed_write"
    _REGISTRY.pop("costed_write", None)


class State(TypedDict, total=False):
    out: list


def _one_call_graph(tool: str, args: dict[str, Any], role: str = SECURE_ROLE):
    """A one-node LangGraph graph whose node makes one governed call (in-memory checkpoints)."""
    from labwright.agents.governance import context_from_config, governed_call
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, StateGraph

    def node(state: State, config) -> dict[str, Any]:
        return {"out": [governed_call(context_from_config(config), role, tool, args, step_key="n/0").model_dump()]}

    g = StateGraph(State)
    g.add_node("node", node)
    g.add_edge(START, "node")
    return g.compile(checkpointer=InMemorySaver())


def _config_of(ctx) -> dict[str, Any]:
    return {"configurable": {"thread_id": ctx.run_id, "labwright_ctx": ctx}}


@pytest.fixture
def one_call_graph():
    """``one_call_graph(tool, args, role=...)``: a compiled one-node graph making one governed call."""
    return _one_call_graph


@pytest.fixture
def config_of():
    """``config_of(ctx)``: the LangGraph config that carries a RunContext."""
    return _config_of


def _knowledge_conftest():
    """tests/knowledge/conftest.py as a module: its ChatServer (a real OpenAI-compatible HTTP server on 127.0.0.1)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "knowledge" / "conftest.py"
    spec = importlib.util.spec_from_file_location("labwright_knowledge_test_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def chat_server(monkeypatch):
    """``chat_server(reply)``: start the knowledge tests' ChatServer and point LABWRIGHT_BASE_URL/MODEL at it."""
    server_class = _knowledge_conftest().ChatServer
    servers = []

    def start(reply):
        srv = server_class(reply).__enter__()
        servers.append(srv)
        monkeypatch.setenv("LABWRIGHT_BASE_URL", srv.base_url)
        monkeypatch.setenv("LABWRIGHT_MODEL", "local-test-model")
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        return srv

    yield start
    for srv in servers:
        srv.__exit__()


@pytest.fixture
def corpus_store_path(tmp_path) -> Path:
    """The shipped example corpus ingested offline into a new store file; its path."""
    from labwright.knowledge import KnowledgeStore, ingest_documents, read_corpus

    corpus = Path(__file__).resolve().parents[2] / "examples" / "corpus" / "passages.jsonl"
    path = tmp_path / "kg.sqlite"
    with KnowledgeStore(path) as store:
        ingest_documents(store, read_corpus(corpus), extractor="offline")
    return path
