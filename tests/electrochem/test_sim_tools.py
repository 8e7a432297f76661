"""Tools simulate_cv and simulate_ca: registered, SI in and out, cost estimates, PNG plots.

Expected values: Randles–Ševčík 0.4463 nFAC(nFvD/RT)^1/2 and Cottrell nFAc(D/(pi t))^1/2 (Bard & Faulkner,
Electrochemical Methods 2nd ed., eqs. 6.2.19 and 5.2.11), here only to 1 % (the physics is tested elsewhere).
"""

from __future__ import annotations

import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT
from labwright.tools.registry import call_tool, get_tool

F_RT = FARADAY / (GAS_CONSTANT * 298.15)


def test_simulate_cv_tool(tmp_path):
    spec = get_tool("simulate_cv")
    args = {"E_start": -0.4, "E_vertex": 0.4, "scan_rate": 0.1, "kinetics": "nernst", "area": 1e-6,
            "plot_path": str(tmp_path / "cv.png"), "max_points": 500}  # fmt: skip
    cost = spec.estimate_cost(args)
    assert cost.sim_calls == 1 and 0 < cost.seconds < 60
    out = call_tool("simulate_cv", args)
    assert len(out.E) == len(out.I) == len(out.t) <= 500 and out.n_steps == 1600
    i_rs = 0.4463 * FARADAY * 1e-6 * 1.0 * np.sqrt(F_RT * 0.1 * 1e-9)
    assert out.peaks.i_pa == pytest.approx(i_rs, rel=0.01)
    assert out.peaks.i_pc < 0 < out.peaks.i_pa  # oxidation positive
    assert out.peaks.delta_Ep * 1e3 == pytest.approx(58.0, abs=1.5)
    assert (tmp_path / "cv.png").read_bytes()[:4] == b"\x89PNG"


def test_simulate_ca_tool(tmp_path):
    args = {"E_initial": -0.5, "E_steps": [0.5], "durations": [0.5], "dt": 1e-3, "kinetics": "nernst",
            "plot_path": str(tmp_path / "ca.png")}  # fmt: skip
    assert get_tool("simulate_ca").estimate_cost(args).sim_calls == 1
    out = call_tool("simulate_ca", args)
    t, i = np.array(out.t), np.array(out.I)
    cottrell = FARADAY * 1e-6 * np.sqrt(1e-9 / (np.pi * t[50:]))
    assert np.max(np.abs(i[50:] / cottrell - 1)) < 0.01
    assert (tmp_path / "ca.png").exists()


def test_cost_grows_with_grid_and_steps():
    base = {"E_start": -0.4, "E_vertex": 0.4, "scan_rate": 0.1}
    spec = get_tool("simulate_cv")
    coarse = spec.estimate_cost(base).seconds
    assert spec.estimate_cost({**base, "dE": 1e-4}).seconds > coarse
    assert spec.estimate_cost({**base, "grid_h0": 1e-6, "grid_gamma": 1.01}).seconds > coarse


def test_simulate_ca_sphere_defaults_area_from_radius():
    # sphere: area defaults to 4 pi r0²; i = F A D c (1/(pi D t)^1/2 + 1/r0) (B&F eq. 5.2.18), 1 % at the end
    r0 = 5e-6
    out = call_tool("simulate_ca", {"E_initial": -0.5, "E_steps": [0.5], "durations": [0.5], "dt": 2e-3,
                                    "kinetics": "nernst", "geometry": "spherical", "radius": r0})  # fmt: skip
    t_end, i_end = out.t[-1], out.I[-1]
    area = 4 * np.pi * r0**2
    assert i_end == pytest.approx(FARADAY * area * 1e-9 * (1 / np.sqrt(np.pi * 1e-9 * t_end) + 1 / r0), rel=0.01)
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_ca", {"E_initial": -0.5, "E_steps": [0.5], "durations": [0.5], "dt": 2e-3,
                                  "geometry": "spherical"})  # fmt: skip
    assert err.value.field == "radius"
