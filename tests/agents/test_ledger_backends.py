"""The ledger behaves the same on its two backends: the embedded SQLite file and PostgreSQL (issue 18 item 2)."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from labwright.agents.budget import Budget
from labwright.agents.ledger import Ledger


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request, tmp_path):
    return str(tmp_path / "ledger.sqlite") if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def _reserve_many(target: str, worker: int) -> None:
    ledger = Ledger(target)
    for i in range(10):
        ledger.reserve(key=f"{worker}-{i}", run_id="run", step_key="s", role="r", tool="t", seconds=1.0)
    ledger.close()


def test_results_first_write_wins_and_reservations_count(target):
    ledger = Ledger(target)
    ledger.set_budget("run", Budget(max_tool_calls=2))
    assert ledger.reserve(key="k1", run_id="run", step_key="s1", role="r", tool="t", seconds=2.5) is None
    assert ledger.get_result("k1") is None  # a reservation is not an outcome
    assert ledger.usage("run").tool_calls == 1 and ledger.usage("run").tool_seconds == 2.5
    common = dict(run_id="run", step_key="s1", role="r", tool="t", args={"x": 1}, approver=None)
    first = ledger.put_result(key="k1", status="ok", result={"y": "100%"}, message="done", seconds=0.5, **common)
    again = ledger.put_result(key="k1", status="error", result=None, message="other", seconds=9.0, **common)
    assert first == again and again["result"] == {"y": "100%"} and again["seconds"] == 0.5
    assert ledger.reserve(key="k2", run_id="run", step_key="s2", role="r", tool="t", seconds=1.0) is None
    breach = ledger.reserve(key="k3", run_id="run", step_key="s3", role="r", tool="t", seconds=1.0)
    assert breach is not None and breach.limit == "max_tool_calls"
    ledger.release("k2")
    assert ledger.usage("run").tool_calls == 1


def test_questions_answers_replies_and_runs(target):
    ledger = Ledger(target)
    asked = ledger.put_ask(key="q", kind="approval", run_id="run", payload={"tool": "t"}, ns="n1")
    assert ledger.put_ask(key="q", kind="approval", run_id="run", payload={"tool": "other"}, ns="n2") == asked
    assert [a["key"] for a in ledger.pending_asks("run")] == ["q"]
    ledger.answer_ask("q", "approval", {"decision": "approve"}, "n1", answered_by="human:ada")
    ledger.answer_ask("q", "approval", {"decision": "reject"}, "n1", answered_by="human:bob")
    assert ledger.get_ask("q", "approval")["answer"] == {"decision": "approve"}
    assert ledger.answered_by("q", "approval") == "human:ada" and ledger.pending_asks("run") == []
    ledger.put_reply(key="m", run_id="run", reply={"text": "hi"}, tokens=120)
    assert ledger.get_reply("m") == {"text": "hi"} and ledger.usage("run").llm_tokens == 120
    ledger.register_run("run", request="why?", planner="offline", policy={"approve": "none"})
    before = time.time()
    ledger.set_run_status("run", "answered")
    run = ledger.get_run("run")
    assert run["status"] == "answered" and run["policy"] == {"approve": "none"}
    assert abs(run["updated"] - before) < 1.0  # a double, not PostgreSQL's 4-byte REAL (2-minute steps)
    ledger.mark_stopped("run", "budget")
    assert ledger.stopped("run") == "budget"
    ledger.forget(["run"])
    assert ledger.get_run("run") is None and ledger.get_ask("q", "approval") is None


def test_parallel_reservations_never_overrun_the_budget(target):
    Ledger(target).set_budget("run", Budget(max_tool_calls=15))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_reserve_many, args=(target, w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert Ledger(target).usage("run").tool_calls == 15  # 30 tried, exactly the limit granted
