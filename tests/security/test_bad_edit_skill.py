"""Issue 12 item 5 / issue 14: a bad edit at a workflow step's checkpoint re-asks instead of failing the run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from labwright.agents.audit import AuditLog
from labwright.skills import run

PLUGIN = str(Path(__file__).resolve().parents[1] / "skills" / "plugin_tools.py")


def _workflow(tmp_path: Path, log: Path) -> Path:
    step = {"id": "a", "skill": "test.count", "checkpoint": True, "params": {"label": "a", "log_path": str(log)}}
    path = tmp_path / "wf.yaml"
    path.write_text(yaml.safe_dump({"name": "badedit", "imports": [PLUGIN], "steps": [step]}))
    return path


def test_bad_edit_at_a_step_checkpoint_reasks_with_the_error(tmp_path):
    log = tmp_path / "calls.log"
    first = run(_workflow(tmp_path, log))
    assert first.status == "waiting" and [p.step for p in first.pending] == ["a"]
    bad = run(resume=first.run_id, answers={"a": {"edit": {"value": "lots"}, "by": "the-lab-director"}})
    # Not failed: the same step is asked again, the question carrying the validation error naming the field.
    assert bad.status == "waiting", bad.error
    (again,) = bad.pending
    assert again.step == "a" and "value" in again.payload["error"] and not log.exists()
    done = run(resume=first.run_id, answers={"a": {"edit": {"value": 10.0}}})
    assert done.status == "finished" and done.outputs["a"]["value"] == pytest.approx(11.0)
    rows = [r for r in AuditLog().rows(first.run_id) if r.event == "decision" and r.tool == "skill:test.count@2"]
    assert [r.decision for r in rows] == ["invalid", "edit"]
    # The answer's "by" is kept as an unverified claim; the approver is the local session.
    assert rows[0].detail["claimed_by"] == "the-lab-director" and "the-lab-director" not in rows[0].approver
    assert AuditLog().verify().ok
