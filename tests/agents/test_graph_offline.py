"""The whole graph driven by the offline planner: fan-out, approvals, budgets, audit, runs."""

from __future__ import annotations

import pytest
from labwright import Lab
from labwright.agents.llm import OfflinePlanner
from labwright.errors import InvalidInput


def _events(lab, run_id=None):
    return [(r.event, r.role, r.tool) for r in lab.audit(run_id)]


def test_offline_planner_answers_a_chemistry_question_and_says_what_it_is():
    lab = Lab()
    reply = lab.chat("describe the molecule c1ccccc1O")
    assert reply.status == "answered" and reply.planner == "offline planner"
    assert reply.answer.startswith("[offline planner]")
    assert "C6H6O" in reply.answer and "ISWSIDIOOBJBQZ-UHFFFAOYSA-N" in reply.answer
    events = [e for e, _, _ in _events(lab)]
    for needed in ("run_start", "plan", "delegation", "tool_request", "decision", "tool_result", "review", "answer"):
        assert needed in events
    calls = [r for r in lab.audit() if r.event == "planner_call"]
    assert calls and all(r.detail["source"] == "offline planner" and r.detail["tokens"] == 0 for r in calls)
    assert lab.verify_audit().ok


def test_offline_intent_rules_pick_tools_and_arguments():
    reply, _ = OfflinePlanner().plan("molecular similarity of CCO and CCN, and canonicalize_smiles(smiles=OCC)")
    calls = [c for t in reply["tasks"] for c in t["calls"]]
    assert {"tool": "canonicalize_smiles", "args": {"smiles": "OCC"}} in calls
    assert {"tool": "molecular_similarity", "args": {"smiles_a": "CCO", "smiles_b": "CCN"}} in calls
    nothing, _ = OfflinePlanner().plan("what is the meaning of life")
    assert nothing["tasks"] == [] and nothing["content"].startswith("[offline planner]")


def test_offline_rules_fill_list_and_json_arguments(lab_roles):
    reply, _ = OfflinePlanner().plan('count the files data/a.csv and data/b.csv with fixed={"area": 1e-6, "c": 1.0}')
    (task,) = reply["tasks"]
    assert task["role"] == "electrochemist"
    assert task["calls"] == [
        {"tool": "count_files", "args": {"paths": ["data/a.csv", "data/b.csv"], "fixed": {"area": 1e-6, "c": 1.0}}}
    ]
    missing, _ = OfflinePlanner().plan("count the files please")
    assert (
        missing["tasks"] == []
        and "count_files (electrochemist) needs fixed (known parameters, SI); paths" in missing["content"]
    )


def test_parallel_fan_out_runs_workers_in_one_step(lab_roles):
    lab = Lab()
    reply = lab.chat("echo_value(value=3.5) and estimate_heavy(seconds=5)")
    assert reply.status == "answered", reply
    assert {r["role"] for r in reply.results} == {"kineticist", "electrochemist"}
    assert "3.5" in reply.answer and "10.0" in reply.answer
    cfg = {"configurable": {"thread_id": reply.run_id}}
    steps = [s.next for s in lab.runs.graph.get_state_history(cfg)]
    assert ("worker", "worker") in steps  # both workers were scheduled in the same superstep
    delegations = [r for r in lab.audit() if r.event == "delegation"]
    assert sorted(d.role for d in delegations) == ["electrochemist", "kineticist"]


@pytest.mark.parametrize(
    ("answer", "expect"),
    [("approve", "value=200.0"), ({"edit": {"seconds": 50}}, "value=100.0"), ("reject", "rejected")],
)
def test_approval_approve_edit_reject(lab_roles, answer, expect):
    lab = Lab()
    first = lab.chat("estimate_heavy(seconds=100)")
    assert first.status == "waiting" and first.answer is None
    (p,) = first.pending
    assert p.kind == "approval" and p.tool == "estimate_heavy" and p.role == "electrochemist"
    assert p.args == {"seconds": 100.0} and p.estimate["seconds"] == 100.0 and "exceeds" in p.reason
    done = lab.answer({p.id: answer})
    assert done.status == "answered", done
    assert expect in done.answer
    (decision,) = [r for r in lab.audit() if r.event == "decision"]
    assert decision.decision == (answer if isinstance(answer, str) else "edit")
    assert decision.approver.startswith("human:")
    assert lab.verify_audit().ok


def test_two_parallel_approvals_answered_by_id_in_one_resume(lab_roles, tmp_path):
    note = tmp_path / "notebook.txt"
    lab = Lab()
    first = lab.chat(f"estimate_heavy(seconds=100) and lab_note(path={note}, text=hello)")
    assert first.status == "waiting"
    by_tool = {p.tool: p for p in first.pending}
    assert set(by_tool) == {"estimate_heavy", "lab_note"}
    assert by_tool["lab_note"].reason == "side effect 'writes_store'"
    done = lab.answer({by_tool["estimate_heavy"].id: "approve", by_tool["lab_note"].id: {"reject": "not today"}})
    assert done.status == "answered", done
    assert "value=200.0" in done.answer and "not today" in done.answer
    assert not note.exists()
    with pytest.raises(InvalidInput, match="no pending question"):
        lab.answer({"0123456789abcdef": "approve"})


def test_budget_pause_then_extend(lab_roles):
    lab = Lab(budget={"max_tool_calls": 1})
    first = lab.chat("echo_value(value=1) and echo_value(value=2)")
    (p,) = first.pending
    assert p.kind == "budget" and p.payload["breach"]["limit"] == "max_tool_calls"
    assert first.usage.tool_calls == 1  # paused before the second call, not after
    with pytest.raises(InvalidInput, match="budget pause"):
        lab.answer("maybe")
    done = lab.answer("extend")
    assert done.status == "answered" and done.usage.tool_calls == 2
    assert lab.runs.view(done.run_id).budget.max_tool_calls == 2
    events = [e for e, _, _ in _events(lab)]
    assert "budget_pause" in events and "budget_extend" in events


def test_budget_stop_is_never_silent(lab_roles):
    lab = Lab(budget={"max_tool_calls": 1})
    assert lab.chat("echo_value(value=1) and echo_value(value=2)").pending[0].kind == "budget"
    done = lab.answer("stop")
    assert done.status == "stopped" and done.answer.lower().startswith("stopped")
    assert done.usage.tool_calls == 1


def test_auto_approve_rule_runs_without_asking_and_is_audited(lab_roles, tmp_path):
    note = tmp_path / "n.txt"
    lab = Lab(auto_approve="under=60s,writes")
    reply = lab.chat(f"lab_note(path={note}, text=hi) and estimate_heavy(seconds=100)")
    # lab_note is a cheap write the rule names (auto-approved); estimate_heavy claims 100 s, over the rule: asked.
    (p,) = reply.pending
    assert p.tool == "estimate_heavy"
    assert note.read_text() == "hi\n"
    approvers = {r.tool: r.approver for r in lab.audit() if r.event == "decision"}
    assert approvers["lab_note"] == "rule:under=60s,writes"


def test_runs_list_show_and_prune(lab_roles):
    lab = Lab()
    ids = [lab.chat(f"echo_value(value={i})").run_id for i in range(3)]
    listed = [r["run_id"] for r in lab.runs.list()]
    assert set(ids) <= set(listed)
    assert lab.runs.view(ids[0]).status == "answered"
    before, on_disk = lab.runs.checkpoint_bytes(), lab.runs.checkpoint_file_bytes()
    pruned = lab.runs.prune(keep=1)
    assert set(pruned) == set(ids[:2])
    assert [r["run_id"] for r in lab.runs.list()] == [ids[2]]
    assert lab.runs.checkpoint_bytes() < before
    assert lab.runs.checkpoint_file_bytes() < on_disk  # the files shrink too (VACUUM, WAL truncated)
    assert lab.verify_audit().ok  # pruning never touches the audit log
    with pytest.raises(InvalidInput):
        lab.runs.prune()


def test_parallel_workers_cannot_overrun_a_budget_together(lab_roles):
    """Budget checks reserve the call atomically, so two workers racing for the last call cannot both get it."""
    lab = Lab(budget={"max_tool_calls": 1})
    first = lab.chat("echo_value(value=1) and estimate_heavy(seconds=5)")
    assert [p.kind for p in first.pending] == ["budget"]
    assert first.usage.tool_calls == 1
    done = lab.answer("stop")
    assert done.status == "stopped" and done.usage.tool_calls == 1


def test_tool_seconds_budget_reserves_the_estimate_and_pauses_before_the_call(lab_roles):
    lab = Lab(budget={"max_tool_seconds": 3.0})
    first = lab.chat("estimate_heavy(seconds=5)")  # estimated 5 s: under the approval threshold, over the budget
    (p,) = first.pending
    assert p.kind == "budget" and p.payload["breach"]["limit"] == "max_tool_seconds"
    assert p.payload["breach"]["needed"] == 5.0 and first.usage.tool_calls == 0
    done = lab.answer({p.id: {"extend": {"max_tool_seconds": 10}}})
    assert done.status == "answered" and "value=10.0" in done.answer
    assert done.budget.max_tool_seconds == 10 and done.usage.tool_seconds < 10


def test_runs_prune_older_than(lab_roles):
    lab = Lab()
    run_id = lab.chat("echo_value(value=1)").run_id
    assert lab.runs.prune(older_than=3600) == []
    assert lab.runs.prune(older_than=0) == [run_id]
    assert lab.runs.list() == [] and lab.runs.checkpoint_bytes() == 0


def test_offline_tool_error_is_reviewed_and_the_replan_drops_the_failed_call(lab_roles):
    """The offline planner cannot reason about an error: its replan (reason recorded) keeps what did not fail."""
    lab = Lab()
    reply = lab.chat("flaky_sim(x=-4) and echo_value(value=2)")
    assert reply.status == "answered", reply
    first = [r for r in reply.results if r["round"] == 1]
    assert {e["status"] for r in first for e in r["evidence"]} == {"error", "ok"}
    (replan,) = [r for r in lab.audit() if r.event == "replan"]
    assert "flaky_sim" in replan.detail["reason"] and "SimulationFailed" in replan.detail["reason"]
    assert "claim" not in replan.detail["reason"]  # quoting the error's numbers is not an unbacked claim
    second = [r for r in reply.results if r["round"] == 2]
    assert [e["tool"] for r in second for e in r["evidence"]] == ["echo_value"]
    assert [e["status"] for r in second for e in r["evidence"]] == ["ok"]
    assert "echo_value returned value=2.0" in reply.answer


def test_a_replan_with_nothing_new_answers_from_the_last_results(lab_roles):
    lab = Lab()
    reply = lab.chat("flaky_sim(x=-4)")
    assert reply.status == "failed", reply  # no call succeeded: not "answered"
    assert "flaky_sim did not run to a result (error): SimulationFailed" in reply.answer  # round 1 is kept
    assert "supervisor: [offline planner] no other plan" in reply.answer
    assert [e for e, _, _ in _events(lab)].count("plan") == 2


def test_offline_summaries_never_cut_a_number():
    from labwright.agents.graph import review_results
    from labwright.agents.offline import _brief

    data = {f"value_{i}": 1.234567890123 * 10**-i for i in range(40)}
    text = _brief(data, limit=120)
    assert text.endswith("...") and len(text) <= 125
    evidence = [{"tool": "t", "args": {}, "status": "ok", "result": data, "message": "ok"}]
    result = {"task_id": "t1", "role": "kineticist", "round": 1, "status": "done", "summary": text}
    assert review_results([{**result, "evidence": evidence}]) == []
