"""The signalling_switch workflow, offline, from Python and the CLI: numbers from the kinetics tools against theory.

Theory checked (Goldbeter & Koshland, PNAS 78 (1981) 6840): for the irreversible cycle with enzymes ≪ substrate the
response coefficient is R = s90/s10 = 81 (J1 + 0.1)(J2 + 0.1) / ((J1 + 0.9)(J2 + 0.9)) with J = K_M/W_T, so R → 81
(n_H → 1) when the enzymes are far from saturation and R → 1 (n_H → ∞) when they are saturated. Thermodynamics (Qian,
Biophys. Chem. 105 (2003) 585): with ΔG = RT ln γ = 0 the cycle obeys detailed balance and the signal cannot move
the modified fraction (no amplification).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from labwright.agents.audit import AuditLog
from labwright.cli import main
from labwright.skills import load_workflow, run

WF = Path(__file__).resolve().parents[2] / "examples" / "workflows" / "signalling_switch.yaml"
RT = 8.314462618 * 298.15  # J/mol


def _gk_R(J: float) -> float:
    """Closed-form Goldbeter–Koshland response coefficient for J1 = J2 = J (computed here, not by the tool)."""
    return 81 * (J + 0.1) ** 2 / (J + 0.9) ** 2


def test_shipped_signalling_workflow_loads_with_its_contracts_checked():
    wf = load_workflow(WF)
    assert [s.id for s in wf.spec.steps] == ["model", "dose_response", "saturation", "thermodynamics"]
    assert sorted(wf.terminal_steps()) == ["dose_response", "saturation", "thermodynamics"]  # three parallel branches


def test_signalling_switch_stops_at_its_checkpoint_then_finishes_from_the_cli(capsys):
    res = run(WF)  # no approval rule: the saturation sweep waits for a person
    assert res.status == "waiting", res.error
    assert [(p.kind, p.step) for p in res.pending] == [("step", "saturation")]
    assert res.steps == {"model": "finished", "dose_response": "finished", "thermodynamics": "finished"}

    # The CLI's entry point, in this process (the JAX programs compiled above are reused).
    assert main(["run", "--resume", res.run_id, "--approve", "all", "--no-input"]) == 0
    printed = capsys.readouterr().out
    assert "Findings" in printed and "report:" in printed
    report = Path(printed.split("report:")[-1].strip())
    doc = json.loads(report.with_suffix(".json").read_text())
    assert {s: v["status"] for s, v in doc["steps"].items()} == dict.fromkeys(
        ["model", "dose_response", "saturation", "thermodynamics"], "finished"
    )
    for fig in ("model/time_course.png", "dose_response/dose_response.png", "saturation/saturation.png"):
        assert (report.parent / fig).is_file()
    # Simulated, not measured: the report says so, and so does every artifact down the chain.
    assert doc["synthetic"] is True and "**Synthetic data.**" in report.read_text()
    assert all(a["synthetic"] for a in doc["artifacts"])

    # Finished branches were not repeated on resume: every tool ran exactly as often as the skills call it.
    rows = AuditLog().rows(res.run_id)
    results = Counter(r.tool for r in rows if r.event == "tool_result")
    assert results == {
        "check_detailed_balance": 3,
        "simulate_network": 1,
        "pdpc_saturation_scan": 2,
        "pdpc_response": 8,
    }
    approvals = [r for r in rows if r.event == "decision" and r.detail.get("step") == "saturation"]
    assert [a.approver for a in approvals] == ["rule:all"]

    steps = {s: v["output"] for s, v in doc["steps"].items()}
    # Model: the irreversible cycle is driven; after 10 cycle times at u = 1 (J1 = J2) the modified fraction is 1/2.
    assert steps["model"]["driven"] is True
    assert steps["model"]["fraction_end"] == pytest.approx(0.5, abs=0.005)

    # Dose-response at J = 0.1: R_GK = 81 (0.2/1.0)^2 = 3.24; mass action with E/W = 1e-4 agrees within 1 %.
    dose = steps["dose_response"]
    assert dose["response_coefficient_gk"] == pytest.approx(3.24, rel=1e-9)
    assert dose["response_coefficient_mass_action"] == pytest.approx(3.24, rel=0.01)
    assert dose["hill_coefficient_mass_action"] == pytest.approx(math.log(81) / math.log(3.24), rel=0.02)

    # Saturation: R -> 81 first order (J = 1e3: within 0.2 %), -> 1 zero order (J = 1e-3: within 2 %), monotone.
    sat = steps["saturation"]
    J, R = sat["J"], sat["response_coefficient"]
    assert J[0] == pytest.approx(1e-3) and J[-1] == pytest.approx(1e3) and len(J) >= 13  # six decades
    assert R[-1] == pytest.approx(81, rel=2e-3) and R[0] == pytest.approx(1, rel=0.02)
    assert all(b > a for a, b in zip(R, R[1:]))
    for j, r in zip(J, R):
        assert r == pytest.approx(_gk_R(j), rel=1e-9)
    hill = sat["hill_coefficient"]
    assert hill[0] > 100 and hill[-1] == pytest.approx(1, abs=0.01)
    # Full mass-action sweeps at five J values match the closed form within 1 % (enzymes 1e-4 of substrate).
    assert [pt["J1"] for pt in sat["mass_action"]] == pytest.approx([0.01, 0.1, 1.0, 10.0, 100.0])
    for pt in sat["mass_action"]:
        assert pt["response_coefficient_mass_action"] == pytest.approx(_gk_R(pt["J1"]), rel=0.01)
    assert sat["max_relative_difference"] < 0.01

    # Thermodynamics: ΔG = 0 -> detailed balance and (almost) no response; ΔG = 50 kJ/mol -> a switch like GK.
    th = steps["thermodynamics"]
    eq, dr = th["equilibrium"], th["driven"]
    assert eq["at_equilibrium"] and eq["detailed_balance"] is True and eq["delta_G"] == pytest.approx(0, abs=1e-6)
    assert eq["response_span"] < 0.01  # only enzyme sequestration (E1_T ≤ 1 % of W_T) moves it
    assert dr["delta_G"] == pytest.approx(50e3, rel=1e-9) and dr["detailed_balance"] is False
    assert abs(dr["log_deviation"]) == pytest.approx(50e3 / RT, rel=1e-6)  # Σ ln(k+/k-) around the cycle = ln γ
    assert dr["response_span"] > 0.95
    assert dr["response_coefficient_mass_action"] == pytest.approx(3.24, rel=0.02)
    assert th["amplification_needs_free_energy"] is True
