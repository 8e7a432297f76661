"""ECE mechanism of the simulator (O1 + e ⇌ R1, R1 -> O2 at k, O2 + e ⇌ R2 at E0_2), against closed forms.

Sources:
* Potential step to the diffusion limit of both couples (E0_2 much easier than E0_1, so O2 is reduced as soon as it
  forms), equal D, first-order k: i(t) = F A C (D / (pi t))^1/2 [n1 + n2 (1 - exp(-k t))] (Alberts & Shain,
  Anal. Chem. 35 (1963) 1859; Bard & Faulkner, Electrochemical Methods 2nd ed. (2001), ch. 12, ECE in
  chronoamperometry). Derivation used here as the check: with s = c_R1 + c_O2 (pure diffusion) and c_O2(0, t) = 0,
  the Laplace transforms give j2 = j1 (1 - (p / (p + k))^1/2), i.e. j2(t) = j1(t) (1 - exp(-k t)) for the Cottrell
  j1. So n_app goes from 1 (k t << 1) to 2 (k t >> 1): Cottrell with n = 2 at long times.
* k = 0: R1 never becomes O2, so the voltammogram is that of the single E couple (any kinetics, any D_O / D_R).

Tolerance: 0.1 % from t = 50 dt on (the E-mechanism Cottrell test of this grid and time step reaches ~0.03 %).
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem import ECParams, cv_waveform, step_waveform
from labwright.tools.electrochem import cv_current as _cv_current
from labwright.tools.electrochem._units import FARADAY
from labwright.tools.registry import call_tool

cv_current = partial(_cv_current, unroll=1)  # one-off runs: unroll=1 compiles ~3x faster, same numbers

D, AREA, C = 1e-9, 1e-6, 1.0  # m²/s, m², mol/m³


def _alberts_shain(t, k, sign):
    """Total current (A) of the diffusion-limited ECE step, n1 = n2 = 1; sign -1 for reduction."""
    return sign * FARADAY * AREA * C * np.sqrt(D / (np.pi * t)) * (2.0 - np.exp(-k * t))


@pytest.mark.parametrize(("bulk", "E0_2", "E_step"), [("O", 0.5, -0.5), ("R", -0.5, 0.5)])
def test_ece_step_follows_alberts_shain_from_one_to_two_electrons(bulk, E0_2, E_step):
    t, E = step_waveform([E_step], [1.0], 1e-3, E_initial=0.0)
    sign = -1.0 if bulk == "O" else 1.0
    ks = np.array([0.0, 3.0, 1e3])  # 1/s: no follow-up, k t ~ 0.15-3 over the run, k t >> 1 (n_app = 2)

    def run(k):
        p = ECParams(E0=0.0, E0_2=E0_2, k_chem=k, D_O=D, D_R=D, area=AREA, c_bulk=C)
        return cv_current(p, E, t[1], mechanism="ECE", kinetics="nernst", bulk=bulk)

    currents = np.asarray(jax.vmap(run)(ks))
    late = slice(50, None)
    for k, i in zip(ks, currents, strict=True):
        expected = _alberts_shain(t[late], k, sign)
        assert np.max(np.abs(i[late] / expected - 1.0)) < 1e-3, k
    # the fast case is Cottrell with n_app = 2 at long times (within 0.1 %), twice the k = 0 (one-electron) current
    assert currents[2][-1] / currents[0][-1] == pytest.approx(2.0, rel=1e-3)


def test_ece_without_chemistry_is_the_single_e_wave():
    # k = 0: equal to the E mechanism to 1e-12 of the peak, quasi-reversible BV and Nernst, unequal D, both bulks
    t, E = cv_waveform(0.3, -0.4, 0.1, dE=2e-3)
    for bulk, E0_2, kinetics in (("O", -0.2, "bv"), ("R", 0.2, "nernst")):
        program = E if bulk == "O" else -E
        p = ECParams(E0=0.0, E0_2=E0_2, k0=1e-5, D_O=1e-9, D_R=2e-9, area=AREA, k_chem=0.0)
        ece = np.asarray(cv_current(p, program, t[1], mechanism="ECE", kinetics=kinetics, bulk=bulk))
        single = np.asarray(cv_current(p, program, t[1], mechanism="E", kinetics=kinetics, bulk=bulk))
        assert np.max(np.abs(ece - single)) < 1e-12 * np.max(np.abs(single))


def test_ece_cv_fast_follow_up_gives_twice_the_kinetic_zone_peak():
    # E0_2 easier than E0_1 (reduction: more positive) and fast chemistry, lambda = k RT/(F v) ~ 2600 (kinetic zone):
    # the first electron gives the EC kinetic-zone wave, i_p = 0.4958 FAC (FvD/RT)^1/2 (Nicholson & Shain, Anal. Chem.
    # 36 (1964) 706), and every R1 becomes O2 in the thin reaction layer and takes a second electron at once
    # (Nicholson & Shain, Anal. Chem. 37 (1965) 178, ECE), so the peak is 2 x 0.4958 / 0.4463 = 2.222 times the k = 0
    # (reversible one-electron) peak. Measured 2.212 at this lambda (2.190 at 260, 2.220 at 26000): 1 %.
    t, E = cv_waveform(0.3, -0.4, 0.1, dE=2e-3)
    base = ECParams(E0=0.0, E0_2=0.3, D_O=D, D_R=D, area=AREA)
    slow, fast = (np.asarray(cv_current(base.replace(k_chem=k), E, t[1], mechanism="ECE", kinetics="nernst",
                                        bulk="O")) for k in (0.0, 1e4))  # fmt: skip
    assert fast.min() / slow.min() == pytest.approx(2 * 0.4958 / 0.4463, rel=0.01)


def test_ece_gradient_wrt_k_chem_matches_finite_differences():
    # jax.grad through both couples vs central differences (h = 1e-4 relative): 1e-6 relative
    t, E = step_waveform([-0.5], [0.05], 1e-3, E_initial=0.0)

    def charge(k):
        p = ECParams(E0=0.0, E0_2=0.5, k_chem=k, D_O=D, D_R=D, area=AREA, k0=1e-4)
        return cv_current(p, E, t[1], mechanism="ECE", bulk="O").sum() * t[1]

    k0, h = 20.0, 2e-3
    grad = float(jax.grad(charge)(k0))
    fd = float((charge(k0 + h) - charge(k0 - h)) / (2 * h))
    assert grad < 0  # faster chemistry: more reduction charge (negative)
    assert grad == pytest.approx(fd, rel=1e-6)


def test_ece_input_errors_name_the_field():
    t, E = step_waveform([-0.5], [0.01], 1e-3)
    with pytest.raises(InvalidInput) as err:
        cv_current(ECParams(), E, t[1], mechanism="ECE")
    assert err.value.field == "E0_2"
    with pytest.raises(InvalidInput) as err:
        cv_current(ECParams(E0_2=0.1, R_u=10.0), E, t[1], mechanism="ECE")
    assert err.value.field == "ohmic"
    with pytest.raises(InvalidInput) as err:
        cv_current(ECParams(E0_2=0.1, c_el=1.0), E, t[1], mechanism="ECE")
    assert err.value.field == "c_el"
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_ca", {"E_initial": 0.0, "E_steps": [-0.5], "durations": [0.01], "dt": 1e-3,
                                  "mechanism": "ECE"})  # fmt: skip
    assert err.value.field == "E0_2"


def test_simulate_ca_tool_runs_ece():
    args = {"E_initial": 0.0, "E_steps": [-0.5], "durations": [0.5], "dt": 1e-3, "kinetics": "nernst", "bulk": "O",
            "mechanism": "ECE", "E0_2": 0.5, "k_chem": 1e3}  # fmt: skip
    out = call_tool("simulate_ca", args)
    t, i = np.array(out.t), np.array(out.I)
    np.testing.assert_allclose(i[50:], _alberts_shain(t[50:], 1e3, -1.0), rtol=1e-3)
