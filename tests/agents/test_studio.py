"""langgraph.json points at a loadable graph that runs (LangGraph Studio loads the file by path)."""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_langgraph_json_graph_loads_by_path_and_runs():
    config = json.loads((ROOT / "langgraph.json").read_text())
    target = config["graphs"]["labwright"]
    path, attr = target.split(":")
    spec = importlib.util.spec_from_file_location("studio_graph", ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph = getattr(module, attr)
    assert {"supervisor", "worker", "reviewer", "answer"} <= set(graph.get_graph().nodes)
    out = graph.invoke({"request": "describe the molecule CCO"}, {"configurable": {"thread_id": "studio-1"}})
    assert out["status"] == "answered" and out["answer"].startswith("[offline planner]")


def test_input_and_output_schemas_are_exported_for_studio():
    """`langgraph dev` shows these as the run form and the result; typing.TypedDict made them null on Python 3.11."""
    from labwright.agents.graph import build_graph

    graph = build_graph()
    inp = graph.get_input_jsonschema()
    assert inp["required"] == ["request"] and {"request", "context"} <= set(inp["properties"])
    out = graph.get_output_jsonschema()
    assert {"answer", "status"} <= set(out["properties"])


@pytest.mark.slow
def test_the_graph_under_a_real_langgraph_dev_server():
    """`langgraph dev` (langgraph-cli[inmem]) serves langgraph.json on 127.0.0.1: non-null input and output schemas,
    invalid arguments denied before any approval question, a store write paused with its validated arguments and
    approved through the HTTP API. `make studio-check` runs the same checks in an environment of their own."""
    pytest.importorskip("langgraph_cli", reason="langgraph-cli[inmem] is not installed here (make studio-check)")
    pytest.importorskip("langgraph_api", reason="langgraph-cli[inmem] is not installed here (make studio-check)")
    spec = importlib.util.spec_from_file_location("studio_dev", ROOT / "tests" / "e2e" / "studio_dev.py")
    studio = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(studio)
    home = Path(tempfile.mkdtemp(prefix="labwright-studio-"))
    port = studio.free_port()
    proc = studio.start(sys.executable, home, port, home / "langgraph-dev.log")
    try:
        results = studio.checks(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert [p for _, p in results] == [None] * 4, results
