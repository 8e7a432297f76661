"""Issue 12 item 5: an edited approval is validated, estimated, gated and budgeted again."""

from __future__ import annotations

from labwright.agents.budget import Budget
from labwright.agents.governance import RunContext
from labwright.agents.policy import Policy
from langgraph.types import Command


def test_edit_that_raises_the_estimate_is_asked_about_again(costed_write, tmp_path, one_call_graph, config_of):
    """Approved at 2 s, edited to 402 s: the edited call exceeds the threshold and what the person saw, so it is put
    to them again (reserving its new estimate) and never runs unasked."""
    note = tmp_path / "n.txt"
    ctx = RunContext.open("r-regate", budget=Budget(max_tool_seconds=1000), policy=Policy(approval_seconds=5))
    g = one_call_graph(costed_write, {"seconds": 2, "path": str(note)})
    first = g.invoke({}, config_of(ctx))["__interrupt__"][0]
    assert first.value["estimate"]["seconds"] == 2 and first.value["reason"] == "side effect 'writes_store'"
    second = g.invoke(Command(resume={first.id: {"edit": {"seconds": 402, "path": str(note)}}}), config_of(ctx))
    (again,) = second["__interrupt__"]
    assert again.value["kind"] == "approval" and again.value["args"]["seconds"] == 402
    assert again.value["estimate"]["seconds"] == 402 and again.value["reason"].startswith("edited call: estimated")
    assert ctx.usage().tool_seconds == 402 and not note.exists()  # the reservation follows the edit
    res = g.invoke(Command(resume={again.id: "reject"}), config_of(ctx))
    assert res["out"][0]["status"] == "rejected" and not note.exists()
    assert ctx.usage().tool_calls == 0


def test_edit_within_what_was_shown_runs_without_a_second_question(costed_write, tmp_path, one_call_graph, config_of):
    note = tmp_path / "n.txt"
    ctx = RunContext.open("r-regate-small", policy=Policy(approval_seconds=5))
    g = one_call_graph(costed_write, {"seconds": 3, "path": str(note)})
    first = g.invoke({}, config_of(ctx))["__interrupt__"][0]
    res = g.invoke(Command(resume={first.id: {"edit": {"seconds": 4, "path": str(note)}}}), config_of(ctx))
    assert res["out"][0]["status"] == "ok" and note.read_text() == "4.0\n"


def test_edit_past_the_budget_pauses_for_the_budget(costed_write, tmp_path, one_call_graph, config_of):
    note = tmp_path / "n.txt"
    ctx = RunContext.open("r-regate-budget", budget=Budget(max_tool_seconds=5), policy=Policy(approval_seconds=5))
    g = one_call_graph(costed_write, {"seconds": 2, "path": str(note)})
    first = g.invoke({}, config_of(ctx))["__interrupt__"][0]
    pause = g.invoke(Command(resume={first.id: {"edit": {"seconds": 402, "path": str(note)}}}), config_of(ctx))
    (pause,) = pause["__interrupt__"]
    assert pause.value["kind"] == "budget" and pause.value["breach"]["limit"] == "max_tool_seconds"
    assert pause.value["breach"]["needed"] == 402
    res = g.invoke(Command(resume={pause.id: "stop"}), config_of(ctx))
    assert res["out"][0]["status"] == "stopped" and not note.exists() and ctx.usage().tool_calls == 0


def test_approver_comes_from_the_session_never_from_the_answer(costed_write, tmp_path, one_call_graph, config_of):
    """``{"approve": true, "by": "the-lab-director"}`` is audited as the local session's identity, with the claim
    kept beside it as unverified."""
    ctx = RunContext.open("r-spoof", approver="alice")
    g = one_call_graph(costed_write, {"seconds": 1, "path": str(tmp_path / "n.txt")})
    ask = g.invoke({}, config_of(ctx))["__interrupt__"][0]
    res = g.invoke(Command(resume={ask.id: {"approve": True, "by": "the-lab-director"}}), config_of(ctx))
    assert res["out"][0]["status"] == "ok" and res["out"][0]["approver"] == "human:alice"
    (dec,) = [r for r in ctx.audit.rows("r-spoof") if r.event == "decision"]
    assert dec.approver == "human:alice" and dec.detail["claimed_by"] == "the-lab-director"
    assert all("the-lab-director" not in (r.approver or "") for r in ctx.audit.rows("r-spoof"))


def test_approver_from_labwright_approver_setting(costed_write, tmp_path, monkeypatch, one_call_graph, config_of):
    monkeypatch.setenv("LABWRIGHT_APPROVER", "bob")
    ctx = RunContext.open("r-env")
    g = one_call_graph(costed_write, {"seconds": 1, "path": str(tmp_path / "n.txt")})
    ask = g.invoke({}, config_of(ctx))["__interrupt__"][0]
    res = g.invoke(Command(resume={ask.id: "approve"}), config_of(ctx))
    assert res["out"][0]["approver"] == "human:bob"
