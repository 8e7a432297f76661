"""The shipped ``mechanism_review`` workflow, offline: from Python and from the CLI, checkpoint, ranking, provenance.

The review set (examples/data/mechanisms/review/manifest.yaml) holds a reference Fischer esterification and four
candidates: ``good`` (the reference in other SMILES), ``missing_water`` (step 4 drops H2O), ``swapped_steps`` (steps
1 and 2 exchanged) and ``alternative_route`` (the AAC1 acylium route, valid but a different mechanism).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import yaml
from labwright.agents.audit import AuditLog
from labwright.cli import main
from labwright.skills import load_workflow, rollback, run
from labwright.skills._provenance import sha256_file
from labwright.skills.mechanism_review import CandidateScore, CandidateValidation, rank_order
from labwright.tools import call_tool

ROOT = Path(__file__).resolve().parents[2]
WF = ROOT / "examples/workflows/mechanism_review.yaml"
REVIEW = ROOT / "examples/data/mechanisms/review"


def test_runs_stops_at_its_checkpoint_ranks_the_reference_like_candidate_first_and_rolls_back():
    res = run(WF)
    assert res.status == "waiting"
    assert [(p.kind, p.step) for p in res.pending] == [("step", "kinetics")]
    # The branches that do not depend on the checkpoint ran in parallel with it and are finished.
    assert res.steps == {"load": "finished", "validate": "finished", "score": "finished"}

    done = run(resume=res.run_id, approve="all")
    assert done.status == "finished", done.error
    ranking = done.outputs["rank"]
    labels = [r["label"] for r in ranking["ranking"]]
    assert labels[0] == "good" and ranking["best"] == "good"
    # The two flawed candidates sit below the reference-like one, the different route (1 of 5 steps shared) last.
    assert labels == ["good", "missing_water", "swapped_steps", "alternative_route"]
    rows = {r["label"]: r for r in ranking["ranking"]}
    assert rows["good"]["valid"] and rows["good"]["errors"] == []
    assert "step 4: products lack H2O" in rows["missing_water"]["errors"]
    assert rows["swapped_steps"]["continuous"] is False

    # Every score in the report is the tools' number, not recomputed: call the tools directly and compare exactly.
    ref = {"path": str(REVIEW / "reference.yaml")}
    manifest = yaml.safe_load((REVIEW / "manifest.yaml").read_text())
    for c in manifest["candidates"]:
        pred = {"path": str(REVIEW / c["path"])}
        direct = call_tool("score_mechanism", {"prediction": pred, "reference": ref})
        omes = call_tool("omes_score", {"gold": ref, "prediction": pred})
        assert rows[c["label"]]["total"] == direct.total
        assert rows[c["label"]]["S_total"] == omes.S_total

    # The kinetic scheme follows the reference step by step and, closed by the uncatalysed overall reaction
    # (K = 5 = K1...K5, kinetics.yaml), obeys detailed balance.
    kin = done.outputs["kinetics"]["detailed_balance"]
    assert kin["satisfied"] is True and kin["steps_match_reference"] == [True] * 5 and kin["scheme_valid"]
    assert len(kin["cycle_conditions"]) == 1 and kin["illustrative"] is True
    assert ranking["kinetics_consistent"] is True

    # Report: claims link to artifacts; artifacts carry provenance (file hashes, tools with versions).
    run_dir = Path(done.run_dir)
    report = Path(done.report_path).read_text()
    assert "rank 1: good (no chemical errors); score: **1**" in report
    assert "[rank/ranking.json](rank/ranking.json)" in report and "![Score components per candidate]" in report
    doc = json.loads(Path(done.report_json).read_text())
    arts = {a["id"]: a for a in doc["artifacts"]}
    assert (run_dir / arts["rank/scores.png"]["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    scores = arts["score/scores.json"]
    assert {t["name"] for t in scores["tools"]} == {"score_mechanism", "omes_score", "compare_mechanisms"}
    assert scores["sha256"] == sha256_file(run_dir / scores["path"])
    loaded = arts["load/review_set.json"]["inputs"]
    assert any(i["name"].endswith("candidate_missing_water.yaml") for i in loaded)
    assert {i["name"] for i in arts["rank/ranking.json"]["inputs"]} == {"step:validate", "step:score", "step:kinetics"}

    # Roll back to the kinetics step with an overall K of 50 instead of 5: the Wegscheider condition on the one
    # cycle fails by ln(5/50) = -ln 10 (sign follows the tool's cycle orientation), and the ranking says so.
    bad = rollback(
        done.run_id, "kinetics", {"extra_reactions": ["uncatalysed: AcOH + MeOH <-> AcOMe + H2O; kf=5e-8, kr=1e-9"]}
    )
    assert bad.status == "finished", bad.error
    kin = bad.outputs["kinetics"]["detailed_balance"]
    assert kin["satisfied"] is False and kin["algebraic_ok"] is False
    assert math.isclose(abs(kin["log_deviation"]), math.log(10.0), rel_tol=1e-9)
    assert any("uncatalysed" in t for t in kin["violated_cycle"])
    assert bad.outputs["rank"]["kinetics_consistent"] is False
    assert bad.outputs["rank"]["best"] == "good"
    # Only the kinetics step's tools ran again: the four candidates were scored once (tool requests in the audit).
    requests = [r.tool for r in AuditLog().rows(done.run_id) if r.event == "tool_request"]
    assert requests.count("score_mechanism") == 4 and requests.count("check_detailed_balance") == 2


def test_runs_from_the_cli_with_an_approval_flag(capsys):
    code = main(["run", str(WF), "--approve", "all", "--no-input", "--run-id", "mr-cli"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "report:" in out
    report = Path(out.split("report:")[-1].strip().split()[0])
    assert report.is_file() and "| rank | `mech.rank@1` | finished |" in report.read_text()


def test_runs_from_the_cli_without_approval_waits_at_the_checkpoint(capsys):
    code = main(["run", str(WF), "--no-input", "--run-id", "mr-wait"])
    out = capsys.readouterr().out
    assert code == 3, out  # EXIT_WAITING
    assert "step kinetics" in out and "resume with: labwright run --resume mr-wait" in out


def _score(label: str, total: float, s_total: float = 0.5) -> CandidateScore:
    return CandidateScore(
        label=label,
        total=total,
        breakdown={},
        summary="",
        S_total=s_total,
        S_partial=s_total,
        V=1.0,
        L=1.0,
        alignment=[],
        similarity=0.5,
        diagnostics=[],
    )


def _valid(label: str, ok: bool) -> CandidateValidation:
    return CandidateValidation(
        label=label, valid=ok, smiles_valid=True, balanced=ok, continuous=True, products_formed=True, n_steps=3
    )


def test_rank_order_sorts_by_score_then_breaks_ties_by_validity_and_omes():
    scores = [_score("a", 0.7), _score("b", 0.9), _score("c", 0.7), _score("d", 0.7, s_total=0.9)]
    vals = [_valid("a", False), _valid("b", False), _valid("c", True), _valid("d", False)]
    # b has the best score even though invalid; among the 0.7 ties the valid c comes first, then d (higher S_total).
    assert rank_order(scores, vals) == ["b", "c", "d", "a"]


def test_missing_candidate_file_fails_the_run_naming_it(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "reaction": "x",
                "reference": str(REVIEW / "reference.yaml"),
                "candidates": [{"path": str(tmp_path / "nope.yaml"), "label": "ghost"}],
            }
        )
    )
    spec = yaml.safe_load(WF.read_text())
    spec["steps"][0]["params"]["manifest"] = str(manifest)
    res = run(load_workflow(spec, base_dir=WF.parent), approve="all")
    assert res.status == "failed" and "nope.yaml" in res.error and "does not exist" in res.error


def test_load_step_needs_a_manifest_or_files():
    spec = yaml.safe_load(WF.read_text())
    spec["steps"][0]["params"] = {}
    res = run(load_workflow(spec, base_dir=WF.parent), approve="all")
    assert res.status == "failed" and "manifest" in res.error
