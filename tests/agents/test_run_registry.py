"""One run registry: `labwright runs` lists, shows, approves, resumes and prunes chat runs and workflow runs alike."""

from __future__ import annotations

import json

import pytest
from labwright import Lab, skills
from labwright.cli import main

WORKFLOW = "examples/workflows/mechanism_review.yaml"  # stops for approval at its kinetics step


def listed(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["runs", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow  # a workflow run (RDKit scoring, a kinetics check): ~15 s on 2 cores
def test_runs_list_shows_workflow_runs_and_approve_resumes_them(capsys):
    chat = Lab().chat("describe the molecule CCO")
    wf = skills.run(WORKFLOW)
    assert wf.status == "waiting"
    runs = {r["run_id"]: r for r in listed(capsys)}
    assert runs[wf.run_id]["kind"] == "workflow" and runs[wf.run_id]["status"] == "waiting"
    assert runs[chat.run_id]["kind"] == "chat" and runs[chat.run_id]["status"] == "answered"
    assert main(["runs", "show", wf.run_id]) == 0
    assert "waiting" in capsys.readouterr().out
    # `runs resume` without an answer leaves it waiting (exit 3, the question printed), not a silent 0.
    assert main(["runs", "resume", wf.run_id]) == 3
    assert "waiting for approval" in capsys.readouterr().out
    assert main(["runs", "approve", wf.run_id]) == 0
    assert {r["run_id"]: r["status"] for r in listed(capsys)}[wf.run_id] == "finished"
    # Pruning keeps the newest run and removes the other, whatever its kind.
    assert main(["runs", "prune", "--keep", "1"]) == 0
    assert [r["run_id"] for r in listed(capsys)] == [wf.run_id]
