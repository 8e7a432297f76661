"""Surface-confined (adsorbed) couple against Laviron's analytic voltammetry.

Source: E. Laviron, J. Electroanal. Chem. 101 (1979) 19 (and Bard & Faulkner, 2nd ed., §14.3.1):
* reversible (Nernstian) surface wave: i_p = n² F² v A Gamma / (4 R T), E_pa = E_pc = E0', full width at half height
  3.53 RT/(nF) = 90.6/n mV at 25 °C;
* totally irreversible: E_pa = E0 + RT/((1 - alpha) n F) ln[(1 - alpha) n F v / (R T k_s)], and the cathodic mirror
  with alpha; i_p = (1 - alpha) n² F² A v Gamma / (e R T) (the anodic peak); hence E_p moves by
  2.303 RT/((1 - alpha) n F) per decade of v.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem import adsorbed_cv_current, cv_peaks, cv_waveform
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT
from labwright.tools.registry import call_tool

T = 298.15
F_RT = FARADAY / (GAS_CONSTANT * T)
GAMMA, AREA = 2e-6, 1e-6  # mol/m² (2e-10 mol/cm²), m²


@pytest.mark.parametrize("kinetics", ["nernst", "bv"])
def test_reversible_surface_wave(kinetics):
    # Nernst, and BV with k_s = 1e5 1/s at 0.1 V/s (m = RT k_s / (F v) ~ 2.6e4, reversible). 0.5 mV steps.
    # Tolerances: i_p 0.5 %, peak separation < 1 mV, half-width 90.6 mV within 1 mV.
    v = 0.1
    t, E = cv_waveform(-0.3, 0.3, v, dE=5e-4)
    i = np.asarray(adsorbed_cv_current(E, t[1], k_s=1e5, gamma=GAMMA, area=AREA, kinetics=kinetics))
    peaks = cv_peaks(E, i)
    theory = FARADAY**2 * v * AREA * GAMMA / (4 * GAS_CONSTANT * T)
    assert peaks.anodic.i_p == pytest.approx(theory, rel=5e-3)
    assert peaks.cathodic.i_p == pytest.approx(-theory, rel=5e-3)
    assert abs(peaks.delta_Ep) < 1e-3
    forward = slice(0, int(np.argmax(E)) + 1)
    above = E[forward][i[forward] >= 0.5 * peaks.anodic.i_p]
    assert (above[-1] - above[0]) * 1e3 == pytest.approx(90.6, abs=1.0)


def test_irreversible_laviron_peak_potential_and_current():
    # k_s = 1 1/s, alpha = 0.5 and 0.3, v = 10, 100, 1000 V/s: RT k_s / (F v) <= 2.6e-3, deep in Laviron's
    # irreversible regime. Tolerances: E_pa within 0.1 mV of the formula, i_p within 0.1 %, 0.2 mV steps (measured
    # <= 0.02 mV and 2e-4; at 1 V/s the neglected back reaction already shows: +0.3 mV and +1.1 % for alpha = 0.5).
    for alpha in (0.5, 0.3):
        for v in (10.0, 100.0, 1000.0):
            t, E = cv_waveform(-0.4, 0.8, v, dE=2e-4)
            i = np.asarray(adsorbed_cv_current(E, t[1], k_s=1.0, alpha=alpha, gamma=GAMMA, area=AREA))
            peak = cv_peaks(E, i).anodic
            a = 1.0 - alpha  # the anodic transfer coefficient
            E_theory = np.log(a * F_RT * v / 1.0) / (a * F_RT)
            i_theory = a * FARADAY**2 * AREA * v * GAMMA / (np.e * GAS_CONSTANT * T)
            assert peak.E_p == pytest.approx(E_theory, abs=1e-4), f"alpha {alpha}, v {v}"
            assert peak.i_p == pytest.approx(i_theory, rel=1e-3), f"alpha {alpha}, v {v}"


def test_peak_separation_grows_with_log_scan_rate():
    # Laviron: at high v, dEp / dlog10(v) = 2.303 RT/F (1/alpha + 1/(1 - alpha)) = 236.6 mV for alpha = 1/2;
    # tolerance 3 % on the slope between 10 and 100 V/s.
    sep = []
    for v in (10.0, 100.0):
        t, E = cv_waveform(-0.6, 0.6, v, dE=2e-4)
        sep.append(cv_peaks(E, np.asarray(adsorbed_cv_current(E, t[1], k_s=1.0, gamma=GAMMA, area=AREA))).delta_Ep)
    assert (sep[1] - sep[0]) * 1e3 == pytest.approx(2.303 * 4 / F_RT * 1e3, rel=0.03)


def test_gradients_and_vmap_are_finite():
    t, E = cv_waveform(-0.3, 0.3, 1.0, dE=2e-3)

    def loss(log_ks):
        return jnp.sum(adsorbed_cv_current(E, t[1], k_s=jnp.exp(log_ks), gamma=GAMMA, area=AREA) ** 2) * 1e12

    g = jax.grad(loss)(jnp.log(5.0))
    fd = (loss(jnp.log(5.0) + 1e-5) - loss(jnp.log(5.0) - 1e-5)) / 2e-5
    assert float(g) == pytest.approx(float(fd), rel=1e-5)
    batch = jax.vmap(lambda k: adsorbed_cv_current(E, t[1], k_s=k, gamma=GAMMA))(jnp.array([0.1, 1.0, 10.0]))
    assert batch.shape == (3, E.size) and bool(jnp.all(jnp.isfinite(batch)))


def test_bad_input_names_the_field():
    t, E = cv_waveform(-0.3, 0.3, 1.0, dE=2e-3)
    with pytest.raises(InvalidInput, match="gamma"):
        adsorbed_cv_current(E, t[1], gamma=-1e-6)
    with pytest.raises(InvalidInput, match="k_s"):
        adsorbed_cv_current(E, t[1], k_s=float("nan"))
    with pytest.raises(InvalidInput, match="alpha"):
        adsorbed_cv_current(E, t[1], alpha=1.2)
    with pytest.raises(InvalidInput, match="gamma"):
        call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "mechanism": "adsorbed"})


def test_simulate_cv_tool_adsorbed():
    # The tool with mechanism "adsorbed": reversible peak n²F²vAΓ/(4RT) within 1 %, no peak separation (< 1.5 mV).
    out = call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "mechanism": "adsorbed",
                                    "kinetics": "nernst", "gamma": GAMMA, "area": AREA})  # fmt: skip
    theory = FARADAY**2 * 0.1 * AREA * GAMMA / (4 * GAS_CONSTANT * T)
    assert out.peaks.i_pa == pytest.approx(theory, rel=0.01)
    assert abs(out.peaks.delta_Ep) < 1.5e-3
    assert out.n_nodes == 0
