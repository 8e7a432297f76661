"""Issue 12 item 6, the remaining gaps: embeddings requests (``/v1/embeddings``, the knowledge pipeline's name merging)
and model requests made inside Ray tasks are counted in the run's budget, with the tokens the server's ``usage``
reports. Against the real local OpenAI-compatible HTTP server of the knowledge tests (127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from labwright.agents.budget import Budget
from labwright.agents.governance import RunContext, governed_call

_NAMES = ("nanoceria", "cerium oxide nanoparticles", "reactive oxygen species", "lipid peroxidation")


def _reply(body: dict) -> str:
    """The pipeline's three requests: the rewrite echoes the chunk, pass 1 finds two events, pass 2 nothing more."""
    if "response_format" not in body:
        return body["messages"][-1]["content"].strip("`")
    if "Events already extracted" in body["messages"][-1]["content"]:
        return json.dumps({"events": []})
    events = [
        {"source": [_NAMES[0]], "relation": "removes", "target": [_NAMES[2]]},
        {"source": [_NAMES[1]], "relation": "inhibits", "target": [_NAMES[3]]},
    ]
    return json.dumps({"events": events})


def _embed(text: str) -> list[float]:
    v = [0.0] * 4
    v[_NAMES.index(text) if text in _NAMES else 3] = 1.0
    return v


def _spent(server) -> int:
    """Tokens the server reported: 15 per chat reply, one per embedded text (see tests/knowledge/conftest.py)."""
    return 15 * len(server.requests) + sum(len(r["input"]) for r in server.embedding_requests)


_TEXT = "Nanoceria removes reactive oxygen species. Cerium oxide nanoparticles inhibit lipid peroxidation."


def test_embedding_tokens_are_counted_in_the_run(chat_server, tmp_path):
    server = chat_server(_reply, _embed)
    ctx = RunContext.open("r-embed", budget=Budget(max_llm_tokens=100_000), auto_approve="all")
    args = {"text": _TEXT, "document_id": "d1", "extractor": "llm", "store_path": str(tmp_path / "kg.sqlite")}
    out = governed_call(ctx, "librarian", "kg_ingest_text", args, "s1")
    assert out.ok, out.message
    assert len(server.embedding_requests) == 1 and len(server.requests) == 3
    assert ctx.usage().llm_tokens == _spent(server) == 45 + 4
    labels = [r.detail["label"] for r in ctx.audit.rows("r-embed") if r.event == "tool_llm_call"]
    assert labels.count("knowledge-embeddings") == 1 and len(labels) == 4


RAY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import labwright.scale  # registers kg_ingest_batch
    from labwright.agents.budget import Budget
    from labwright.agents.governance import RunContext, governed_call

    ctx = RunContext.open("r-ray", budget=Budget(max_llm_tokens=100_000), auto_approve="all")
    docs = [{"id": f"d{i}", "text": sys.argv[2]} for i in range(2)]
    args = {"documents": docs, "extractor": "llm", "store_path": sys.argv[1], "backend": "ray"}
    out = governed_call(ctx, "librarian", "kg_ingest_batch", args, "s1")
    rows = [r for r in ctx.audit.rows("r-ray") if r.event == "tool_llm_call"]
    print(json.dumps({"ok": out.ok, "message": out.message, "used": ctx.usage().llm_tokens,
                      "metered": [[r.tool, r.detail["label"]] for r in rows]}))
    """
)


@pytest.mark.slow
def test_model_requests_inside_ray_tasks_are_counted_in_the_run(chat_server, tmp_path, monkeypatch):
    """A local Ray cluster of its own (in a fresh process, so its workers inherit the test server's endpoint and no
    other test's cluster is disturbed) runs the extraction; its tokens land in the run that made the call."""
    pytest.importorskip("ray", reason="the Ray backend needs labwright[ray]")
    server = chat_server(_reply, _embed)
    monkeypatch.setenv("LABWRIGHT_RAY_NUM_CPUS", "2")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    cmd = [sys.executable, "-c", RAY_SCRIPT, str(tmp_path / "kg.sqlite"), _TEXT]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ok"], out["message"]
    assert len(server.requests) == 6 and len(server.embedding_requests) == 2  # both documents, on Ray workers
    assert out["used"] == _spent(server) == 2 * (45 + 4)
    assert len(out["metered"]) == 8 and {tool for tool, _ in out["metered"]} == {"kg_ingest_batch"}
    assert sorted(label for _, label in out["metered"]).count("knowledge-embeddings") == 2


def test_parallel_tasks_share_what_the_budget_leaves(monkeypatch):
    """Ray tasks cannot see each other's spending, so each gets its part of what the run's budget left when the job
    started and the job as a whole stays within it. (Each task used to be capped per request at everything left, and
    never counted its own requests: four tasks could spend the budget four times over, and more.)"""
    from labwright.agents.governance import _RunMeter
    from labwright.metering import BudgetExhausted, tool_call
    from labwright.scale._executor import _metering, _TaskMeter

    monkeypatch.setenv("LABWRIGHT_BASE_URL", "http://127.0.0.1:9/v1")  # configured; no request is made here
    monkeypatch.setenv("LABWRIGHT_MODEL", "m")
    ctx = RunContext.open("r-share", budget=Budget(max_llm_tokens=100), auto_approve="all")
    assert ctx.limits().max_llm_tokens == 100  # stores the run's budget, as a governed call does first
    with tool_call("k1", "kg_ingest_batch", _RunMeter.of(ctx, "k1", "librarian", "kg_ingest_batch")):
        key, tool, cap, share = _metering(4)
    assert (key, tool, share) == ("k1", "kg_ingest_batch", 25) and cap <= 100
    spent = []
    for meter in (_TaskMeter(cap, share) for _ in range(4)):
        with pytest.raises(BudgetExhausted, match="share of the run's token budget"):
            for _ in range(100):  # a task that keeps asking is refused once its share is gone
                meter.record(meter.allow(1000, prompt_tokens=4) + 4, label="chat")
        spent.append(sum(t for t, _ in meter.spent))
    assert spent == [25, 25, 25, 25]
