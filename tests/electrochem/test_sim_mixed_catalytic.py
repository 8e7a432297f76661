"""Both members of the couple in the bulk, and the catalytic EC′ mechanism, against their analytic limits.

Sources:
* Bard & Faulkner, Electrochemical Methods, 2nd ed. (2001), §5.4.1 (sampled-current voltammetry, reversible wave
  with both O and R present, D_O = D_R = D): after a step to E from rest, the surface holds c_O/c_R = exp(theta) and
  c_O + c_R = c_O* + c_R*, so i(t) = nFA (D/(pi t))^1/2 [c_R* - (c_O* + c_R*) / (1 + exp(theta))]; zero current at the
  Nernst potential E_eq = E0 + (RT/nF) ln(c_O*/c_R*) and the Cottrell limits nFA c* (D/(pi t))^1/2 (eq. 5.2.11).
* Catalytic EC′ (Savéant & Vianello, Electrochim. Acta 10 (1965) 905; Bard & Faulkner §12.3.2): at a large kinetic
  parameter k'c_Z / (F v / RT) the wave is S-shaped with the plateau i = nFA c* (D k'c_Z)^1/2, independent of v.
  With D_B ≠ D_P (bulk and electrogenerated forms) the steady reaction layer, P = P0 exp(-x (k/D_P)^1/2) and
  D_B B'' = -k P with B(0) = 0, B(inf) = c*, gives i = nFA c* D_B (k/D_P)^1/2 (derived in electrochem/_mechanisms).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem import ECParams, lsv_waveform, step_waveform
from labwright.tools.electrochem import cv_current as _cv_current
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT
from labwright.tools.registry import call_tool

cv_current = partial(_cv_current, unroll=1)

T = 298.15
F_RT = FARADAY / (GAS_CONSTANT * T)
D, AREA = 1e-9, 1e-6
C_R, C_O = 1.0, 0.4  # mol/m³


def test_mixed_bulk_sampled_current_wave_and_limits():
    # Steps from the rest potential to E - E0 = -0.3 ... +0.3 V (Nernst). Tolerance 0.5 % of the limiting current
    # nFA c_R* (D/(pi t))^1/2 for t in [0.2, 1] s; at E_eq itself |i| < 1e-9 of it.
    E_eq = np.log(C_O / C_R) / F_RT
    params = ECParams(D_O=D, D_R=D, area=AREA, c_bulk=C_R, c_other=C_O)
    targets = np.array([-0.3, -0.06, E_eq, 0.0, 0.03, 0.3])
    dt = 1e-3
    t, E = step_waveform([0.0], [1.0], dt, E_initial=E_eq)
    late = t >= 0.2

    E_dev = jnp.asarray(E)  # rest at E_eq at t = 0, then the step (replaced below for each target)
    currents = jax.vmap(lambda e: cv_current(params, jnp.where(t > 0, e, E_dev), dt, kinetics="nernst"))(
        jnp.asarray(targets)
    )
    scale = FARADAY * AREA * np.sqrt(D / (np.pi * t[late]))
    for E_step, i in zip(targets, np.asarray(currents), strict=True):
        theta = F_RT * E_step
        expected = scale * (C_R - (C_O + C_R) / (1.0 + np.exp(theta)))
        assert np.max(np.abs(i[late] - expected) / (scale * C_R)) < 5e-3, f"step to {E_step:+.3f} V"
    rest = np.asarray(currents)[2]
    assert np.max(np.abs(rest)) < 1e-9 * FARADAY * AREA * C_R * np.sqrt(D / np.pi)


def test_mixed_bulk_butler_volmer_rests_at_nernst_potential():
    # A quasi-reversible (BV, k0 = 1e-5 m/s) cell held at E_eq for 0.1 s, then swept: no current during the hold
    # (< 1e-9 of the later peak), while the same program 50 mV off E_eq draws current at once (> 1 % of the peak).
    E_eq = np.log(C_O / C_R) / F_RT
    params = ECParams(k0=1e-5, D_O=D, D_R=D, area=AREA, c_bulk=C_R, c_other=C_O)
    t, sweep = lsv_waveform(E_eq, E_eq + 0.4, 0.1, dE=1e-3)
    E = np.concatenate([np.full(100, E_eq), sweep])
    i = np.asarray(cv_current(params, E, t[1]))
    assert np.max(np.abs(i[:100])) < 1e-9 * np.max(np.abs(i))
    i_off = np.asarray(cv_current(params, E - 0.05, t[1]))
    assert np.min(np.abs(i_off[1:100])) > 1e-2 * np.max(np.abs(i))


def test_catalytic_plateau_is_saveant_limit():
    # k'c_Z = 400 1/s at 0.1 V/s: lambda = k / (F v / RT) ~ 100, far into the pure-kinetic zone. The current at the
    # end of the sweep (0.5 V past E0) within 1 % of nFAc (D k)^1/2, and the wave is flat there (< 0.5 % over 0.1 V).
    k = 400.0
    params = ECParams(D_O=D, D_R=D, area=AREA, k_chem=k)
    t, E = lsv_waveform(-0.3, 0.5, 0.1, dE=1e-3)
    i = np.asarray(cv_current(params, E, t[1], mechanism="ECcat", kinetics="nernst"))
    plateau = FARADAY * AREA * 1.0 * np.sqrt(D * k)
    assert i[-1] == pytest.approx(plateau, rel=0.01)
    assert abs(i[-101] / i[-1] - 1) < 5e-3
    # bulk O (reduction): the mirror image
    i_red = np.asarray(cv_current(params, -E, t[1], mechanism="ECcat", kinetics="nernst", bulk="O"))
    assert i_red[-1] == pytest.approx(-plateau, rel=0.01)


def test_catalytic_without_catalyst_is_the_E_mechanism():
    # k_chem = 0: s = R + O only diffuses and O is never regenerated, so the CV equals mechanism E to round-off.
    params = ECParams(k0=1e-4, D_O=D, D_R=D, area=AREA)
    t, E = lsv_waveform(-0.3, 0.3, 0.1, dE=2e-3)
    e = np.asarray(cv_current(params, E, t[1]))
    cat = np.asarray(cv_current(params, E, t[1], mechanism="ECcat"))
    assert np.max(np.abs(cat - e)) < 1e-10 * np.max(np.abs(e))


@pytest.mark.parametrize("D_B,D_P", [(1e-9, 2.5e-9), (2e-9, 0.5e-9)])
def test_catalytic_plateau_with_unequal_diffusion_coefficients(D_B, D_P):
    # A potential step deep into the plateau (0.5 V past E0, Nernstian), k'c_Z = 400 1/s, held 40 s. With D_B ≠ D_P the
    # sum B + P is not conserved locally, so an outer region relaxes diffusively and the current approaches the
    # steady plateau as t^-1/2 (measured: 2.7 % off at 1 s, 0.9 % at 10 s, 0.5 % at 40 s). Extrapolated in t^-1/2 over
    # 10-40 s it must meet nFA c D_B (k/D_P)^1/2 within 0.5 % (measured +0.07 % and +0.2 %); the equal-D formula
    # (D_B k)^1/2 would be 58 % / 50 % off.
    k = 400.0
    t, E = step_waveform([0.5], [40.0], dt=0.01, E_initial=-0.3)
    for bulk, sign, params in (
        ("R", 1.0, ECParams(D_R=D_B, D_O=D_P, area=AREA, k_chem=k)),
        ("O", -1.0, ECParams(D_O=D_B, D_R=D_P, area=AREA, k_chem=k)),  # reduction: the mirror image
    ):
        i = sign * np.asarray(cv_current(params, sign * E, t[1], mechanism="ECcat", kinetics="nernst", bulk=bulk))
        late = t > 10.0
        slope, plateau = np.polyfit(t[late] ** -0.5, i[late], 1)
        assert plateau == pytest.approx(FARADAY * AREA * 1.0 * D_B * np.sqrt(k / D_P), rel=5e-3), bulk
        assert np.sign(slope) == np.sign(D_P - D_B)  # P outruns B: an excess of B relaxes from above, and back


def test_invalid_combinations_name_the_field():
    t, E = lsv_waveform(-0.3, 0.3, 0.1, dE=2e-3)
    with pytest.raises(InvalidInput, match="D_O"):  # the rotating disk still needs D_O = D_R (_grid.rde_geometry)
        cv_current(ECParams(D_O=2e-9, D_R=1e-9, omega=100.0), E, t[1], geometry="rde")
    with pytest.raises(InvalidInput, match="c_other"):
        cv_current(ECParams(c_other=0.5, k_chem=1.0), E, t[1], mechanism="EC")
    with pytest.raises(InvalidInput, match="c_other"):
        cv_current(ECParams(c_other=-0.5), E, t[1])
    with pytest.raises(InvalidInput, match="c_other"):
        call_tool("simulate_ca", {"E_initial": 0.0, "E_steps": [0.3], "durations": [0.1], "dt": 1e-3,
                                  "mechanism": "EC", "c_other": 1.0})  # fmt: skip


def test_tools_expose_mixed_bulk_and_catalysis():
    # simulate_ca with both forms present: the anodic Cottrell limit carries c_R only (1 % at t >= 0.05 s);
    # simulate_cv with mechanism ECcat reaches the catalytic plateau (2 %).
    out = call_tool("simulate_ca", {"E_initial": 0.0, "E_steps": [0.4], "durations": [0.3], "dt": 1e-3,
                                    "kinetics": "nernst", "c_bulk": 2.0, "c_other": 1.0})  # fmt: skip
    t, i = np.array(out.t), np.array(out.I)
    sel = t >= 0.05
    cottrell = FARADAY * 1e-6 * 2.0 * np.sqrt(1e-9 / (np.pi * t[sel]))
    assert np.max(np.abs(i[sel] / cottrell - 1)) < 0.01
    cv = call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.4, "scan_rate": 0.1, "kinetics": "nernst",
                                   "mechanism": "ECcat", "k_chem": 400.0, "report_peaks": False})  # fmt: skip
    plateau = FARADAY * 1e-6 * np.sqrt(1e-9 * 400.0)
    assert max(cv.I) == pytest.approx(plateau, rel=0.02)
