"""Phosphorylation–dephosphorylation cycle: Goldbeter–Koshland limits, mass action vs GK, ΔG = 0 equilibrium.

Sources: Goldbeter & Koshland, PNAS 78 (1981) 6840 (GK function, R = 81 first-order, R → 1 zero-order);
Qian, Biophys. Chem. 105 (2003) 585 and the seed paper (Qian et al., PdPC temporal cooperativity): equilibrium iff
ΔG = 0, and then no amplification.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from labwright.tools.kinetics import (
    PdPCParameters,
    gk_response_coefficient,
    gk_signal_for_fraction,
    goldbeter_koshland,
    hill_coefficient,
    pdpc_dose_response,
    pdpc_response,
    phosphorylation_potential,
    response_coefficient,
)


def gk_numeric_R(J: float) -> float:
    """R from a sampled GK curve (independent of the closed form): 4001 log-spaced signals, PCHIP in ln u."""
    u = np.logspace(-6, 6, 4001)
    return response_coefficient(u, goldbeter_koshland(u, 1.0, J, J))


def test_gk_function_solves_the_steady_state_balance():
    # v1 (1 − f)/(J1 + 1 − f) = v2 f/(J2 + f) at f = G(v1, v2, J1, J2): residual at round-off level.
    v1, v2 = np.logspace(-2, 2, 50), 1.0
    for J1, J2 in [(0.01, 0.05), (1.0, 1.0), (50.0, 0.2)]:
        f = goldbeter_koshland(v1, v2, J1, J2)
        assert np.all((f > 0) & (f < 1))
        np.testing.assert_allclose(v1 * (1 - f) / (J1 + 1 - f), v2 * f / (J2 + f), rtol=1e-10)
        np.testing.assert_allclose(gk_signal_for_fraction(f, J1, J2), v1 / v2, rtol=1e-8)


def test_first_order_regime_R_tends_to_81():
    # J → ∞: Michaelis–Menten-like response, R = 81, n_H = 1 (Goldbeter & Koshland 1981).
    Js = [1.0, 10.0, 100.0, 1e4]
    Rs = [gk_response_coefficient(J, J) for J in Js]
    assert all(a < b for a, b in zip(Rs, Rs[1:]))  # increases towards 81
    assert Rs[-1] == pytest.approx(81.0, abs=0.02)
    assert gk_numeric_R(1e4) == pytest.approx(Rs[-1], rel=1e-3)  # sampled curve agrees with the closed form
    assert hill_coefficient(Rs[-1]) == pytest.approx(1.0, abs=1e-3)


def test_zero_order_regime_R_falls_towards_1():
    # J → 0: both enzymes saturated, R → 1 (ultrasensitive switch). Closed form 81(J+0.1)²/(J+0.9)².
    Js = [0.1, 0.01, 1e-3, 1e-4]
    Rs = [gk_response_coefficient(J, J) for J in Js]
    assert all(a > b for a, b in zip(Rs, Rs[1:]))
    assert Rs[0] == pytest.approx(81 * 0.04 / 1.0, rel=1e-12)  # J = 0.1: R = 3.24
    assert Rs[1] < 1.2 and Rs[-1] < 1.002
    assert gk_numeric_R(0.01) == pytest.approx(Rs[1], rel=1e-3)
    assert hill_coefficient(Rs[1]) > 25


@pytest.mark.slow
def test_mass_action_steady_state_agrees_with_gk_when_enzyme_is_scarce():
    # E_T/W_T = 1e-4 (GK's assumption: complexes negligible); J = 0.1. Deviations are O(E_T/K) ~ 1e-3 at most;
    # measured ~1e-4. Tolerance 5e-4 on the fraction, 1 % on R.
    p = PdPCParameters()  # a = 100 m³/(mol·s), d = k = 5 1/s: K = 0.1 mol/m³, W_T = 1 mol/m³, E2_T = 1e-4 mol/m³
    u = np.logspace(-1, 1, 120)
    e1 = u * p.k2 * p.E2_total / p.k1
    sweep = pdpc_dose_response(p, e1)
    f_gk = goldbeter_koshland(p.k1 * e1, p.k2 * p.E2_total, p.J1, p.J2)
    assert np.max(np.abs(sweep["fraction"] - f_gk)) < 5e-4
    assert np.max(sweep["residual"]) < 1e-9
    # Conservation: W_T, E1_T, E2_T are kept exactly by the Newton constraints.
    s = sweep["states"]
    np.testing.assert_allclose(s[:, 0] + s[:, 1] + s[:, 4] + s[:, 5], p.W_total, rtol=1e-12)
    np.testing.assert_allclose(s[:, 2] + s[:, 4], e1, rtol=1e-10)
    assert response_coefficient(e1, sweep["fraction"]) == pytest.approx(gk_response_coefficient(0.1, 0.1), rel=0.01)


@pytest.mark.slow
def test_zero_phosphorylation_potential_abolishes_amplification():
    # γ = a1 k1 a2 k2 / (d1 k−1 d2 k−2) = 1 ⇒ ΔG = 0 ⇒ detailed balance: free W*/W = a1 k1/(d1 k−1) for every kinase
    # level, so the 10 000-fold signal sweep moves the modified fraction only through enzyme sequestration (≤ E_T/W_T).
    km2 = 1.0
    p = PdPCParameters(km2=km2, km1=100 * 5 * 100 * 5 / (5 * 5 * km2))
    assert phosphorylation_potential(p) == pytest.approx(0.0, abs=1e-9)
    out = pdpc_response(parameters=p, signal_ratio_min=0.01, signal_ratio_max=100.0, n_points=40)
    assert out.at_equilibrium and out.delta_G == pytest.approx(0.0, abs=1e-9)
    assert out.response_span < 1e-3
    assert out.response_coefficient_mass_action is None  # never crosses both 10 % and 90 %
    e1 = np.asarray(out.kinase_total)
    s = pdpc_dose_response(p, e1)["states"]
    np.testing.assert_allclose(s[:, 1] / s[:, 0], p.a1 * p.k1 / (p.d1 * p.km1), rtol=1e-8)
    # Away from equilibrium the same enzymes do switch: irreversible catalysis, same binding constants.
    driven = pdpc_response(parameters=PdPCParameters(), n_points=40)
    assert driven.response_span > 0.9 and driven.delta_G is None and not driven.at_equilibrium
    assert driven.response_coefficient_mass_action == pytest.approx(3.24, rel=0.02)


def test_phosphorylation_potential_sign_and_units():
    # ΔG = RT ln γ, J/mol; γ = 10 at 298.15 K gives 5.708 kJ/mol.
    p = PdPCParameters(km1=1.0, km2=100 * 5 * 100 * 5 / (5 * 5 * 10.0))
    assert phosphorylation_potential(p) == pytest.approx(8.314462618 * 298.15 * math.log(10.0), rel=1e-12)
    assert math.isinf(phosphorylation_potential(PdPCParameters()))
