"""The shared governance core: audit chain, roles, policy gate, budgets, governed_call inside LangGraph nodes."""

from __future__ import annotations

import sqlite3
from typing import Any, TypedDict

import pytest
from labwright.agents.audit import AuditLog
from labwright.agents.budget import Budget, Usage, check, parse_budget_answer
from labwright.agents.governance import ApprovalRequired, RunContext, context_from_config, governed_call
from labwright.agents.policy import ApprovalRule, Policy, gate
from labwright.agents.roles import check_role_tools, is_allowed, tools_for
from labwright.errors import InvalidInput
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command


# -- audit ---------------------------------------------------------------------------------------------------------
def _filled_log(tmp_path, n=5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.sqlite")
    for i in range(n):
        log.append(run_id="r1" if i % 2 else "r2", actor="supervisor", event="plan", args={"i": i}, detail={"i": i})
    return log


def test_audit_chain_verifies_and_lists_by_run(tmp_path):
    log = _filled_log(tmp_path)
    report = log.verify()
    assert report.ok and report.rows == 5, report.problems
    assert [r.seq for r in log.rows("r1")] == [2, 4]
    assert log.rows()[1].prev_hash == log.rows()[0].hash
    assert log.run_ids() == ["r2", "r1"]


def test_audit_is_append_only_by_trigger(tmp_path):
    log = _filled_log(tmp_path)
    conn = sqlite3.connect(log.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET decision = 'allow' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq = 2")


def _tamper(path, sql):
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("sql", "first_bad"),
    [
        ("UPDATE audit SET decision = 'allow' WHERE seq = 3", 3),
        ("UPDATE audit SET detail = '{\"i\":99}' WHERE seq = 4", 4),
        ("DELETE FROM audit WHERE seq = 2", 2),
        ("DELETE FROM audit WHERE seq = 5", 5),
    ],
)
def test_audit_verify_detects_edits_and_deletions(tmp_path, sql, first_bad):
    log = _filled_log(tmp_path)
    assert log.verify().ok
    _tamper(log.path, sql)
    report = AuditLog(log.path).verify()
    assert not report.ok
    assert report.first_bad_seq == first_bad, report.problems


def test_audit_dedupe_key_skips_second_append(tmp_path):
    log = AuditLog(tmp_path / "a.sqlite")
    assert log.append(run_id="r", actor="x", event="e", dedupe_key="k") is not None
    assert log.append(run_id="r", actor="x", event="e", dedupe_key="k") is None
    assert len(log.rows()) == 1 and log.verify().ok


# -- roles and policy ----------------------------------------------------------------------------------------------
def test_roles_declared_tools_are_reported_registered_or_not():
    report = check_role_tools()
    for name in ("canonicalize_smiles", "describe_molecule", "molecular_similarity"):
        assert name in report.registered["electrochemist"]
    assert not report.registered["supervisor"] and not report.unregistered["supervisor"]
    # Every name reported as registered really is callable by the role.
    for role, names in report.registered.items():
        assert set(names) <= set(tools_for(role))
    # Exact agreement with the registry is checked strictly in test_roles_registry.py.
    assert is_allowed(None, "canonicalize_smiles") and not is_allowed("supervisor", "canonicalize_smiles")


def test_gate_denies_out_of_role_unknown_tool_and_bad_args():
    p = Policy()
    assert gate("supervisor", "canonicalize_smiles", {"smiles": "CCO"}, p).decision == "deny"
    d = gate("mechanist", "simulate_network", {}, p)
    assert d.decision == "deny" and "not permitted for role 'mechanist'" in d.reason
    assert gate("nobody", "canonicalize_smiles", {"smiles": "CCO"}, p).decision == "deny"
    bad = gate("electrochemist", "canonicalize_smiles", {"smiles": "C1CC"}, p)
    assert bad.decision == "deny" and "smiles" in bad.reason
    ok = gate("electrochemist", "canonicalize_smiles", {"smiles": "OCC"}, p, run_id="r", step_key="s")
    assert ok.decision == "allow" and ok.idempotency_key and ok.estimate.seconds > 0


def test_gate_asks_on_side_effect_and_cost_and_rules(tester_role):
    p = Policy(approval_seconds=30)
    assert gate("tester", "lab_note", {"path": "x", "text": "t"}, p).decision == "ask"
    assert gate("tester", "estimate_heavy", {"seconds": 10}, p).decision == "allow"
    heavy = gate("tester", "estimate_heavy", {"seconds": 100}, p)
    assert heavy.decision == "ask" and "100 s exceeds" in heavy.reason and heavy.auto_approver is None
    rule = Policy(approval_seconds=30, auto_approve=ApprovalRule.parse("under=120s"))
    assert gate("tester", "estimate_heavy", {"seconds": 100}, rule).auto_approver == "rule:under=120s"
    assert gate("tester", "estimate_heavy", {"seconds": 200}, rule).auto_approver is None
    assert str(ApprovalRule.parse("all")) == "all" and ApprovalRule.parse(None).kind == "none"
    with pytest.raises(InvalidInput, match="auto_approve"):
        ApprovalRule.parse("sometimes")


def test_budget_check_and_answers():
    b = Budget(max_tool_calls=2, max_llm_tokens=None)
    assert check(b, Usage(tool_calls=1), tool_calls=1) is None
    breach = check(b, Usage(tool_calls=2), tool_calls=1)
    assert breach.limit == "max_tool_calls"
    assert parse_budget_answer("extend", b, breach).max_tool_calls == 4
    assert parse_budget_answer({"extend": {"max_tool_calls": 10}}, b, breach).max_tool_calls == 10
    assert parse_budget_answer("stop", b, breach) is None
    with pytest.raises(InvalidInput):
        parse_budget_answer(42, b, breach)
    wall = check(Budget(max_wall_seconds=60), Usage(wall_seconds=61.0))
    assert wall.limit == "max_wall_seconds" and parse_budget_answer("extend", Budget(), wall).max_wall_seconds == 120
    seconds = check(Budget(max_tool_seconds=10), Usage(tool_seconds=9.5), tool_seconds=1.0)
    assert seconds.limit == "max_tool_seconds" and seconds.needed == 1.0


def test_review_checks_numbers_against_evidence():
    from labwright.agents.graph import review_results

    ev = [{"tool": "t", "args": {"x": 0.1}, "status": "ok", "result": {"k0": 1.2345e-5, "ep": 0.4321}, "message": ""}]
    good = {
        "task_id": "t1",
        "role": "r",
        "status": "done",
        "evidence": ev,
        "summary": "k0 = 1.23e-5 m/s and Ep = 0.432 V (2 scans), from x = 0.1.",
    }
    assert review_results([good]) == []
    bad = {**good, "summary": "k0 = 2.5e-5 m/s and Ep = 0.44 V."}
    issues = review_results([bad])
    assert len(issues) == 2 and "2.5e-5" in issues[0] and "0.44" in issues[1]
    failed = {**good, "summary": "done", "evidence": [{**ev[0], "status": "error", "message": "boom"}]}
    assert "no tool call succeeded" in review_results([failed])[0]


# -- governed_call in a LangGraph node -----------------------------------------------------------------------------
class S(TypedDict, total=False):
    out: list


def _graph(calls: list[tuple[str, dict]], role="tester"):
    def node(state: S, config) -> dict[str, Any]:
        ctx = context_from_config(config)
        outs = [governed_call(ctx, role, t, a, step_key=f"n/{i}").model_dump() for i, (t, a) in enumerate(calls)]
        return {"out": outs}

    g = StateGraph(S)
    g.add_node("node", node)
    g.add_edge(START, "node")
    return g.compile(checkpointer=InMemorySaver())


def _cfg(ctx):
    return {"configurable": {"thread_id": ctx.run_id, "labwright_ctx": ctx}}


def test_governed_call_allow_runs_and_audits(tester_role):
    ctx = RunContext.open("r-allow")
    res = _graph([("canonicalize_smiles", {"smiles": "OCC"})]).invoke({}, _cfg(ctx))
    out = res["out"][0]
    assert out["status"] == "ok" and out["result"]["canonical_smiles"] == "CCO"
    events = [r.event for r in ctx.audit.rows("r-allow")]
    assert events == ["tool_request", "decision", "tool_result"]
    assert ctx.audit.rows("r-allow")[-1].result_sha256
    assert ctx.usage().tool_calls == 1


@pytest.mark.parametrize(
    ("answer", "status", "lines"),
    [("approve", "ok", 1), ({"edit": {"path": None, "text": "edited"}}, "ok", 1), ("reject", "rejected", 0)],
)
def test_governed_call_approval_approve_edit_reject(tester_role, tmp_path, answer, status, lines):
    note = tmp_path / "notes.txt"
    if isinstance(answer, dict):
        answer = {"edit": {"path": str(note), "text": "edited"}}
    ctx = RunContext.open("r-ask")
    g = _graph([("lab_note", {"path": str(note), "text": "hello"})])
    first = g.invoke({}, _cfg(ctx))
    (intr,) = first["__interrupt__"]
    assert intr.value["kind"] == "approval" and intr.value["tool"] == "lab_note"
    assert intr.value["reason"] == "side effect 'writes_store'" and not note.exists()
    res = g.invoke(Command(resume={intr.id: answer}), _cfg(ctx))
    assert res["out"][0]["status"] == status
    assert (len(note.read_text().splitlines()) if note.exists() else 0) == lines
    if isinstance(answer, dict):
        assert note.read_text() == "edited\n"
    decisions = [r for r in ctx.audit.rows("r-ask") if r.event == "decision"]
    assert decisions[0].decision == ("edit" if isinstance(answer, dict) else answer)
    assert decisions[0].approver.startswith("human:")
    assert ctx.audit.verify().ok


def test_governed_call_bad_edit_reasks_with_the_error_and_runs_nothing(tester_role, tmp_path):
    ctx = RunContext.open("r-bad-edit")
    g = _graph([("estimate_heavy", {"seconds": 100})])
    intr = g.invoke({}, _cfg(ctx))["__interrupt__"][0]
    again = g.invoke(Command(resume={intr.id: {"edit": {"seconds": "lots"}}}), _cfg(ctx))["__interrupt__"][0]
    # The same question again, now carrying the validation error that names the field; nothing ran.
    assert again.value["kind"] == "approval" and again.value["args"] == {"seconds": 100.0}
    assert "edited arguments are invalid" in again.value["error"] and "seconds" in again.value["error"]
    assert ctx.usage().tool_calls == 1 and not ctx.ledger.results("r-bad-edit")  # a reservation, no outcome
    res = g.invoke(Command(resume={again.id: {"edit": {"seconds": 7}}}), _cfg(ctx))
    assert res["out"][0]["status"] == "ok" and res["out"][0]["result"] == {"value": 14.0}
    asks = [r for r in ctx.audit.rows("r-bad-edit") if r.event == "approval_request"]
    assert len(asks) == 2 and "seconds" in asks[1].detail["error"]
    assert ctx.audit.verify().ok


def test_two_asks_in_one_node_keep_order_and_do_not_repeat(tester_role, tmp_path):
    """A node that asks twice: the first call's side effect happens once although the node runs three times."""
    note = tmp_path / "n.txt"
    ctx = RunContext.open("r-two")
    g = _graph([("lab_note", {"path": str(note), "text": "a"}), ("lab_note", {"path": str(note), "text": "b"})])
    i1 = g.invoke({}, _cfg(ctx))["__interrupt__"][0]
    assert i1.value["args"]["text"] == "a"
    i2 = g.invoke(Command(resume=i1.id and {i1.id: "approve"}), _cfg(ctx))["__interrupt__"][0]
    assert i2.value["args"]["text"] == "b"
    assert note.read_text() == "a\n"
    res = g.invoke(Command(resume={i2.id: "reject"}), _cfg(ctx))
    assert [o["status"] for o in res["out"]] == ["ok", "rejected"]
    assert note.read_text() == "a\n"


def test_auto_approve_rule_is_recorded(tester_role, tmp_path):
    note = tmp_path / "n.txt"
    ctx = RunContext.open("r-auto", auto_approve="all")
    res = _graph([("lab_note", {"path": str(note), "text": "x"})]).invoke({}, _cfg(ctx))
    assert res["out"][0]["status"] == "ok" and "__interrupt__" not in res
    (dec,) = [r for r in ctx.audit.rows("r-auto") if r.event == "decision"]
    assert dec.approver == "rule:all" and dec.decision == "approve"


def test_denied_call_is_audited_and_nothing_runs(tester_role, tmp_path):
    note = tmp_path / "n.txt"
    ctx = RunContext.open("r-deny", auto_approve="all")
    res = _graph([("lab_note", {"path": str(note), "text": "x"})], role="mechanist").invoke({}, _cfg(ctx))
    out = res["out"][0]
    assert out["status"] == "denied" and "not permitted for role 'mechanist'" in out["message"]
    assert not note.exists()
    (denial,) = [r for r in ctx.audit.rows("r-deny") if r.event == "denial"]
    assert denial.tool == "lab_note" and denial.decision == "deny"
    assert ctx.usage().tool_calls == 0


def test_budget_pause_extend_and_stop(tester_role):
    for answer, expect in (("extend", ["ok", "ok", "ok"]), ("stop", ["ok", "ok", "stopped"])):
        ctx = RunContext.open(f"r-budget-{answer}", budget=Budget(max_tool_calls=2))
        g = _graph([("echo_value", {"value": float(i)}) for i in range(3)])
        intr = g.invoke({}, _cfg(ctx))["__interrupt__"][0]
        assert intr.value["kind"] == "budget" and intr.value["breach"]["limit"] == "max_tool_calls"
        res = g.invoke(Command(resume={intr.id: answer}), _cfg(ctx))
        assert [o["status"] for o in res["out"]] == expect
        assert ctx.usage().tool_calls == expect.count("ok")
        if answer == "extend":
            assert ctx.limits().max_tool_calls == 4


def test_outside_a_graph_an_ask_raises_and_allow_runs(tester_role, tmp_path):
    ctx = RunContext.open("r-plain")
    assert governed_call(ctx, None, "echo_value", {"value": 2.0}, "s1").result == {"value": 2.0}
    with pytest.raises(ApprovalRequired, match="lab_note"):
        governed_call(ctx, None, "lab_note", {"path": str(tmp_path / "x"), "text": "t"}, "s2")
    again = governed_call(ctx, None, "echo_value", {"value": 2.0}, "s1")
    assert again.cached and ctx.usage().tool_calls == 1


def test_budget_pause_then_approval_in_the_same_node_keep_their_answers(tester_role):
    """Two interrupts from one call (budget, then approval): the second resume must not hand the approval answer to
    the budget question (LangGraph matches resume values by position within the node)."""
    ctx = RunContext.open("r-both", budget=Budget(max_tool_calls=0))
    g = _graph([("estimate_heavy", {"seconds": 100})])
    i1 = g.invoke({}, _cfg(ctx))["__interrupt__"][0]
    assert i1.value["kind"] == "budget"
    i2 = g.invoke(Command(resume={i1.id: "extend"}), _cfg(ctx))["__interrupt__"][0]
    assert i2.value["kind"] == "approval"
    res = g.invoke(Command(resume={i2.id: {"edit": {"seconds": 7}}}), _cfg(ctx))
    out = res["out"][0]
    assert out["status"] == "ok" and out["result"] == {"value": 14.0}
    assert ctx.limits().max_tool_calls == 1 and ctx.usage().tool_calls == 1
    assert ctx.audit.verify().ok
