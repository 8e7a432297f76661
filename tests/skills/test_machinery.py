"""The workflow machinery with real (cheap) tools: contracts, checkpoints, parallel steps, rollback, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from labwright.agents.audit import AuditLog
from labwright.errors import InvalidInput
from labwright.skills import ContractMismatch, load_workflow, rollback, run
from labwright.skills._provenance import sha256_file

PLUGIN = str(Path(__file__).with_name("plugin_tools.py"))


def _wf(tmp_path: Path, steps: list[dict], name: str = "t") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "imports": [PLUGIN], "steps": steps}))
    return path


def _calls(log: Path, label: str) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if line.startswith(f"done {label} "))


def _count_step(id_: str, log: Path, **extra) -> dict:
    return {
        "id": id_,
        "skill": "test.count",
        "params": {"label": id_, "log_path": str(log), **extra.pop("params", {})},
        **extra,
    }


def test_mismatched_contract_fails_at_load_naming_both_skills_and_field(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(
        tmp_path,
        [
            {"id": "a", "skill": "test.text", "params": {"label": "a", "log_path": str(log)}},
            {"id": "b", "skill": "test.count", "after": ["a"], "params": {"label": "b"}},
        ],
    )
    with pytest.raises(ContractMismatch) as err:
        load_workflow(path)
    msg = str(err.value)
    assert "test.text@1" in msg and "test.count@2" in msg and "'value'" in msg
    assert "expected number, got string" in msg
    assert not log.exists()  # nothing ran


def test_explicit_adapter_path_is_checked_too(tmp_path):
    path = _wf(
        tmp_path,
        [
            {"id": "a", "skill": "chem.identify", "params": {"smiles": ["CCO"]}},
            {
                "id": "b",
                "skill": "chem.rank_similarity",
                "inputs": {"molecules": "a.molecules"},
                "params": {"reference": "CCO"},
            },
            {"id": "c", "skill": "chem.identify", "inputs": {"smiles": "a.molecules"}},
        ],
    )
    with pytest.raises(ContractMismatch, match=r"a \(chem.identify@1\) -> c \(chem.identify@1\).*smiles\[\]"):
        load_workflow(path)


def test_a_list_of_sources_fills_an_array_field_and_each_source_is_checked(tmp_path):
    log = tmp_path / "calls.log"
    steps = [
        _count_step("a", log, params={"value": 1.0}),
        _count_step("b", log, params={"value": 10.0}),
        {"id": "s", "skill": "test.sum", "inputs": {"values": ["a.value", "b.value"]}},
    ]
    res = run(_wf(tmp_path, steps), approve="all")
    assert res.status == "finished", res.error
    assert res.outputs["s"]["value"] == pytest.approx(2.0 + 11.0)  # (1 + 1) + (10 + 1), from the two count steps
    bad = [*steps[:2], {"id": "t", "skill": "test.text", "params": {"label": "t", "log_path": str(log)}}]
    bad.append({"id": "s", "skill": "test.sum", "inputs": {"values": ["a.value", "t.value"]}})
    with pytest.raises(ContractMismatch, match=r"t \(test.text@1\) -> s \(test.sum@1\): values\[1\]: expected number"):
        load_workflow(_wf(tmp_path, bad, name="bad"))
    not_array = [
        steps[0],
        {"id": "c", "skill": "test.count", "inputs": {"value": ["a.value"]}, "params": steps[0]["params"]},
    ]
    with pytest.raises(InvalidInput, match="needs an array field") as err:
        load_workflow(_wf(tmp_path, not_array, name="notarray"))
    assert err.value.field == "steps.c.inputs.value"


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"id": "b", "skill": "test.count", "params": {"label": "b"}}, "steps.b.params.log_path"),
        (
            {"id": "b", "skill": "test.count", "params": {"label": "b", "log_path": "x", "sleep_s": -1}},
            "steps.b.params.sleep_s",
        ),
        (
            {"id": "b", "skill": "test.count", "params": {"label": "b", "log_path": "x", "nope": 1}},
            "steps.b.params.nope",
        ),
        (
            {"id": "b", "skill": "test.count", "after": ["zz"], "params": {"label": "b", "log_path": "x"}},
            "steps.b.after",
        ),
        ({"id": "b", "skill": "test.cuont", "params": {}}, None),
    ],
)
def test_bad_steps_fail_at_load_naming_the_field(tmp_path, step, field):
    path = _wf(tmp_path, [step])
    with pytest.raises(Exception) as err:
        load_workflow(path)
    if field is None:
        assert "did you mean test.count" in str(err.value)
    else:
        assert isinstance(err.value, InvalidInput) and err.value.field == field


def test_chain_runs_and_report_links_claims_to_artifacts_with_provenance(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(
        tmp_path,
        [
            _count_step("a", log, params={"value": 1.5}),
            _count_step("b", log, after=["a"]),
        ],
    )
    res = run(path, approve="all")
    assert res.status == "finished", res.error
    assert res.outputs["b"]["value"] == pytest.approx(3.5)  # 1.5 + 1 + 1, computed by the skills
    report = Path(res.report_path).read_text()
    assert "[b/count.json](b/count.json)" in report and "**3.5**" in report
    doc = json.loads(Path(res.report_json).read_text())
    art = next(a for a in doc["artifacts"] if a["id"] == "b/count.json")
    assert art["sha256"] == sha256_file(Path(res.run_dir) / art["path"])
    assert art["tools"][0]["name"] == "lw_test_count" and art["tools"][0]["version"] == "1"
    assert art["skill"] == "test.count@2" and art["run_id"] == res.run_id and art["step"] == "b"
    assert art["inputs"][0]["name"] == "step:a"
    assert art["parameters"]["label"] == "b"


def test_independent_steps_run_in_parallel(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(
        tmp_path,
        [
            _count_step("a", log),
            _count_step("b", log, after=["a"], params={"sleep_s": 0.6}),
            _count_step("c", log, after=["a"], params={"sleep_s": 0.6}),
            {
                "id": "d",
                "skill": "test.count",
                "after": ["b"],
                "inputs": {"value": "c.value"},
                "params": {"label": "d"},
            },
        ],
    )
    res = run(path, approve="all")
    assert res.status == "finished", res.error
    times = {}
    for line in log.read_text().splitlines():
        kind, label, t = line.split()
        times[(kind, label)] = float(t)
    # b and c overlap in time: each starts before the other is done.
    assert times[("start", "c")] < times[("done", "b")] and times[("start", "b")] < times[("done", "c")]
    assert times[("start", "d")] > max(times[("done", "b")], times[("done", "c")])


def test_checkpoint_stops_without_approval_then_resumes(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(tmp_path, [_count_step("a", log), _count_step("b", log, after=["a"], checkpoint=True)])
    res = run(path)
    assert res.status == "waiting"
    assert [(p.kind, p.step) for p in res.pending] == [("step", "b")]
    assert _calls(log, "a") == 1 and _calls(log, "b") == 0
    again = run(resume=res.run_id)  # still no answer: still waiting, nothing repeated
    assert again.status == "waiting" and _calls(log, "a") == 1
    done = run(resume=res.run_id, answers={"b": {"edit": {"value": 10.0}}})
    assert done.status == "finished"
    assert done.outputs["b"]["value"] == pytest.approx(11.0)
    assert _calls(log, "a") == 1 and _calls(log, "b") == 1
    rows = AuditLog().rows(res.run_id)
    assert any(r.event == "decision" and r.decision == "edit" and r.approver.startswith("human") for r in rows)


def test_rejected_step_skips_downstream_and_report_says_so(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(tmp_path, [_count_step("a", log, checkpoint=True), _count_step("b", log, after=["a"])])
    res = run(path, answers={"a": "reject"})
    assert res.status == "finished"
    assert res.steps == {"a": "rejected", "b": "skipped"}
    assert _calls(log, "a") == 0 and _calls(log, "b") == 0
    assert "| a | `test.count@2` | rejected |" in Path(res.report_path).read_text()


def test_approval_rule_is_recorded_in_the_audit(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(
        tmp_path,
        [
            {"id": "s", "skill": "test.store", "params": {"label": "s", "log_path": str(log)}},
        ],
    )
    waiting = run(path)
    assert waiting.status == "waiting"  # the step writes to a store: the checkpoint asks
    # `under=` approves read-only work only: a store write still waits for a person ...
    cheap = run(path, approve="under=5s")
    assert cheap.status == "waiting" and [p.step for p in cheap.pending] == ["s"] and _calls(log, "s") == 0
    # ... unless the rule names writes.
    res = run(path, approve="under=5s,writes")
    assert res.status == "finished"
    rows = AuditLog().rows(res.run_id)
    assert rows[0].event == "run_start" and rows[0].detail["approve"] == "under=5s,writes"
    approvers = {r.approver for r in rows if r.event == "decision"}
    assert approvers == {"rule:under=5s,writes"}  # both the step checkpoint and the tool-level ask
    assert _calls(log, "s") == 1


def _store_many(log: Path, calls: int, estimated_calls: int, **extra) -> dict:
    params = {"label": "s", "log_path": str(log), "calls": calls, "estimated_calls": estimated_calls}
    return {"id": "s", "skill": "test.store_many", "params": params, **extra}


def test_step_approval_covers_its_own_store_writes_and_the_audit_names_it(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(tmp_path, [_store_many(log, calls=3, estimated_calls=3)])
    res = run(path)
    assert [(p.kind, p.step) for p in res.pending] == [("step", "s")]
    done = run(resume=res.run_id, answers={"s": "approve"})  # one answer: the three writes do not ask again
    assert done.status == "finished", done.pending
    assert [_calls(log, f"s{i}") for i in range(3)] == [1, 1, 1]
    rows = AuditLog().rows(res.run_id)
    (step,) = [r for r in rows if r.event == "decision" and r.tool == "skill:test.store_many@1"]
    assert step.decision == "approve" and step.approver.startswith("human:")
    writes = [r for r in rows if r.event == "decision" and r.tool == "lw_test_store"]
    assert [(r.decision, r.approver) for r in writes] == [("approve", f"step:s({step.approver})")] * 3
    assert all("covered by the approval of step 's'" in r.detail["reason"] for r in writes)
    results = [r for r in rows if r.event == "tool_result" and r.tool == "lw_test_store"]
    assert [r.approver for r in results] == [f"step:s({step.approver})"] * 3


def test_a_write_past_the_approved_estimate_asks_at_its_own_gate_and_can_be_rejected(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(tmp_path, [_store_many(log, calls=2, estimated_calls=1)])
    res = run(path, answers={"s": "approve"})  # the approval covers one write; the second one asks
    assert res.status == "waiting" and [(p.kind, p.tool) for p in res.pending] == [("approval", "lw_test_store")]
    assert res.pending[0].payload["args"]["label"] == "s1" and _calls(log, "s0") == 1
    done = run(resume=res.run_id, answers={res.pending[0].id: "reject"})
    assert done.steps == {"s": "rejected"} and (_calls(log, "s0"), _calls(log, "s1")) == (1, 0)


def test_calls_of_a_step_that_was_not_approved_still_ask(tmp_path):
    # test.count declares no estimate and writes nothing, so its step has no checkpoint and no grant; a call whose
    # own estimate (40 s) crosses the 30 s threshold asks at its gate. Rejected, so nothing sleeps.
    log = tmp_path / "calls.log"
    path = _wf(tmp_path, [_count_step("a", log, params={"sleep_s": 40.0})])
    res = run(path)
    assert res.status == "waiting" and [(p.kind, p.tool) for p in res.pending] == [("approval", "lw_test_count")]
    done = run(resume=res.run_id, answers={res.pending[0].id: "reject"})
    assert done.steps == {"a": "rejected"} and _calls(log, "a") == 0
    rows = AuditLog().rows(res.run_id)
    assert not any(r.approver and r.approver.startswith("step:") for r in rows)


def test_resume_with_a_rule_settles_pending_questions_and_records_it(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(tmp_path, [_store_many(log, calls=2, estimated_calls=1)])
    res = run(path, answers={"s": "approve"})
    assert res.status == "waiting" and len(res.pending) == 1
    done = run(resume=res.run_id, approve="all")  # no answer by id: the rule settles the pending question
    assert done.status == "finished", done.pending
    assert (_calls(log, "s0"), _calls(log, "s1")) == (1, 1)
    rows = AuditLog().rows(res.run_id)
    settled = [r for r in rows if r.event == "approval_settled"]
    assert [(r.tool, r.approver, r.detail["interrupt"]) for r in settled] == [
        ("lw_test_store", "rule:all", res.pending[0].id)
    ]
    writes = [(r.decision, r.approver) for r in rows if r.event == "decision" and r.tool == "lw_test_store"]
    assert writes[0][0] == "approve" and writes[0][1].startswith("step:s(human:")  # covered by the step approval
    assert writes[1] == ("approve", "rule:all")  # the one past it, settled by the rule on resume


def test_an_explicit_answer_on_resume_wins_over_the_rule_which_settles_the_rest(tmp_path):
    log = tmp_path / "calls.log"
    steps = [_count_step("a", log, checkpoint=True), _count_step("b", log, checkpoint=True)]
    res = run(_wf(tmp_path, steps))
    assert sorted(p.step for p in res.pending) == ["a", "b"]  # two parallel checkpoints wait
    done = run(resume=res.run_id, approve="all", answers={"a": {"edit": {"value": 10.0}}})
    assert done.status == "finished" and done.outputs["a"]["value"] == pytest.approx(11.0)
    rows = AuditLog().rows(res.run_id)
    steps = {r.detail["step"]: (r.decision, r.approver.split(":")[0]) for r in rows if r.event == "decision"
             and r.tool.startswith("skill:")}  # fmt: skip
    assert steps == {"a": ("edit", "human"), "b": ("approve", "rule")}
    assert [r.detail["step"] for r in rows if r.event == "approval_settled"] == ["b"]


def _maybe(id_: str, log: Path, skip: bool, **extra) -> dict:
    return {"id": id_, "skill": "test.maybe", "params": {"label": id_, "log_path": str(log), "skip": skip}, **extra}


def test_a_step_that_skips_itself_leaves_its_entry_out_of_a_gathered_list(tmp_path):
    log = tmp_path / "calls.log"
    gather = {"id": "total", "skill": "test.sum", "inputs": {"values": ["a.value", "b.value", "c.value"]}}
    path = _wf(tmp_path, [_maybe("a", log, False), _maybe("b", log, True), _maybe("c", log, False), gather])
    res = run(path, approve="all")
    assert res.steps == {"a": "finished", "b": "skipped", "c": "finished", "total": "finished"}
    assert res.outputs["total"]["value"] == pytest.approx(4.0)  # 2 + 2: b's entry is left out, not counted as 0
    assert (_calls(log, "a"), _calls(log, "b"), _calls(log, "c")) == (1, 0, 1)
    assert "_skipped: b was told to skip_" in Path(res.report_path).read_text()
    # Nothing to gather when every source skipped itself: the gathering step is skipped too, not run on [].
    none = run(_wf(tmp_path, [_maybe("a", log, True), _maybe("b", log, True), gather | {"inputs": {
        "values": ["a.value", "b.value"]}}], name="none"), approve="all")  # fmt: skip
    assert none.steps == {"a": "skipped", "b": "skipped", "total": "skipped"}


def test_a_step_downstream_of_a_rejected_step_is_not_run_even_when_gathered(tmp_path):
    log = tmp_path / "calls.log"
    gather = {"id": "total", "skill": "test.sum", "inputs": {"values": ["a.value", "b.value"]}}
    path = _wf(tmp_path, [_maybe("a", log, False, checkpoint=True), _maybe("b", log, False), gather])
    res = run(path, answers={"a": "reject"})
    assert res.steps == {"a": "rejected", "b": "finished", "total": "skipped"}  # only a skill's own skip is tolerated


def test_rollback_changes_an_earlier_step_and_reruns_only_what_depends_on_it(tmp_path):
    log = tmp_path / "calls.log"
    path = _wf(
        tmp_path,
        [
            _count_step("a", log),
            _count_step("b", log, after=["a"]),
            _count_step("c", log),
        ],
    )
    res = run(path, approve="all")
    assert res.outputs["b"]["value"] == pytest.approx(3.0)
    again = rollback(res.run_id, "a", {"value": 5.0, "sleep_s": 0.01})
    assert again.status == "finished"
    assert again.outputs["a"]["value"] == pytest.approx(6.0) and again.outputs["b"]["value"] == pytest.approx(7.0)
    # Steps a and b ran again. a's tool got new arguments, so it was called again; b's tool call (same arguments)
    # and c's came from the idempotent result store, so they were not repeated.
    assert (_calls(log, "a"), _calls(log, "b"), _calls(log, "c")) == (2, 1, 1)
    rows = AuditLog().rows(res.run_id)
    assert any(r.event == "rollback" and r.detail["step"] == "a" for r in rows)


@pytest.mark.parametrize("rule", ["all", "under=60s"])
def test_cli_approval_rule_settles_a_checkpoint_and_is_recorded_in_the_audit(tmp_path, capsys, rule):
    from labwright.cli import main

    log = tmp_path / "calls.log"
    path = _wf(tmp_path, [_count_step("a", log, checkpoint=True), _count_step("b", log, after=["a"])])
    assert main(["run", str(path), "--run-id", "w1", "--no-input"]) == 3  # no rule: waits at the checkpoint
    assert "waiting for approval" in capsys.readouterr().out and not log.exists()
    assert main(["run", "--resume", "w1", "--approve", rule, "--no-input"]) == 0
    assert "report:" in capsys.readouterr().out
    rows = AuditLog().rows("w1")
    assert [(r.event, r.detail["approve"]) for r in rows if r.event in ("run_start", "run_resume")] == [
        ("run_start", "none"),
        ("run_resume", rule),
    ]
    steps = [
        (r.detail["step"], r.decision, r.approver)
        for r in rows
        if r.event == "decision" and r.tool.startswith("skill:")
    ]
    assert steps == [("a", "approve", f"rule:{rule}")]
    assert (_calls(log, "a"), _calls(log, "b")) == (1, 1)
