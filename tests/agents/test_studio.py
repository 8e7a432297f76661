"""langgraph.json points at a loadable graph that runs (LangGraph Studio loads the file by path)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

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
