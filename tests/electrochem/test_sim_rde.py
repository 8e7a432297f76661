"""Linear-sweep voltammetry at a rotating disk electrode against Levich and Koutecký–Levich.

Source: Bard & Faulkner, Electrochemical Methods, 2nd ed. (2001), §9.3: with Levich's velocity v_x = -0.51023
omega^3/2 nu^-1/2 x² the limiting current is i_L = 0.620 n F A D^2/3 omega^1/2 nu^-1/6 c (eq. 9.3.22; the constant
is (0.51023/3)^1/3 / Gamma(4/3) = 0.62045); with finite kinetics and bulk R only the steady current is
i = n F A c k_ox / (1 + (k_ox + k_red) / m_L), m_L = i_L / (n F A c), i.e. 1/i = 1/i_k + 1/i_L (Koutecký–Levich,
eq. 9.3.38) once k_red << k_ox.
"""

from __future__ import annotations

from functools import partial
from math import gamma as gamma_fn

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem import ECParams, lsv_waveform, step_waveform
from labwright.tools.electrochem import cv_current as _cv_current
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT
from labwright.tools.registry import call_tool

cv_current = partial(_cv_current, unroll=1, geometry="rde")

T = 298.15
F_RT = FARADAY / (GAS_CONSTANT * T)
D, NU, AREA, C = 1e-9, 1e-6, 1e-6, 1.0
LEVICH = (0.51023 / 3.0) ** (1.0 / 3.0) / gamma_fn(4.0 / 3.0)  # 0.62045


def levich(omega):
    return LEVICH * FARADAY * AREA * D ** (2 / 3) * np.sqrt(omega) * NU ** (-1 / 6) * C


def test_levich_plateau_of_a_slow_sweep():
    # Nernstian LSV at 10 mV/s, 400-2500 rpm: the current 0.3 V past E0 within 0.1 % of Levich (measured 1e-5) and of
    # the textbook's rounded 0.620 within 0.2 %; i_L / omega^1/2 constant.
    t, E = lsv_waveform(-0.3, 0.3, 0.01, dE=1e-3)
    omegas = 2 * np.pi * np.array([400.0, 900.0, 2500.0]) / 60
    currents = jax.vmap(lambda w: cv_current(ECParams(D_O=D, D_R=D, omega=w, nu=NU), E, t[1], kinetics="nernst"))(
        jnp.asarray(omegas)
    )
    for w, i in zip(omegas, np.asarray(currents), strict=True):
        assert i[-1] == pytest.approx(levich(w), rel=1e-3)
        assert i[-1] == pytest.approx(0.620 * levich(w) / LEVICH, rel=2e-3)
    # the steady reversible wave has its half-wave potential at E0 (D_O = D_R). A sweep lags the steady state by
    # ~ v delta² / D (2.3 mV at 10 mV/s and 400 rpm), so this takes 1 mV/s at 900 rpm (lag ~0.1 mV); tolerance 0.3 mV.
    t, E = lsv_waveform(-0.3, 0.3, 0.001, dE=1e-3)
    i = np.asarray(cv_current(ECParams(D_O=D, D_R=D, omega=omegas[1], nu=NU), E, t[1], kinetics="nernst"))
    assert np.interp(0.5 * i[-1], i, E) == pytest.approx(0.0, abs=3e-4)


def test_koutecky_levich_steady_currents():
    # BV, k0 = 2e-5 m/s, alpha = 0.5: potential holds 20 s (steady by ~1 s) at 0.05-0.2 V for 400-3600 rpm.
    # Tolerance 0.3 % on the exact steady current; the 1/i vs omega^-1/2 line at 0.2 V has intercept 1/i_k (1 %).
    k0, alpha = 2e-5, 0.5
    omegas = 2 * np.pi * np.array([400.0, 1600.0, 3600.0]) / 60
    for E_hold in (0.05, 0.1, 0.2):
        t, E = step_waveform([E_hold], [20.0], 0.02, E_initial=-0.3)
        cell = ECParams(k0=k0, alpha=alpha, D_O=D, D_R=D, nu=NU)
        run = jax.vmap(lambda w, E=E, dt=t[1], cell=cell: cv_current(cell.replace(omega=w), E, dt))
        i_end = np.asarray(run(jnp.asarray(omegas)))[:, -1]
        theta = F_RT * E_hold
        k_ox, k_red = k0 * np.exp((1 - alpha) * theta), k0 * np.exp(-alpha * theta)
        m = levich(omegas) / (FARADAY * AREA * C)
        exact = FARADAY * AREA * C * k_ox / (1 + (k_ox + k_red) / m)
        np.testing.assert_allclose(i_end, exact, rtol=3e-3)
    slope, intercept = np.polyfit(omegas**-0.5, 1.0 / i_end, 1)
    i_k = FARADAY * AREA * C * k_ox
    assert 1.0 / intercept == pytest.approx(i_k / (1 + k_red / k_ox), rel=0.01)
    assert slope > 0


def test_rde_needs_rotation_and_equal_diffusion():
    t, E = lsv_waveform(-0.3, 0.3, 0.01, dE=1e-2)
    with pytest.raises(InvalidInput, match="omega"):
        cv_current(ECParams(), E, t[1])
    with pytest.raises(InvalidInput, match="D_O"):
        cv_current(ECParams(D_O=2e-9, D_R=1e-9, omega=100.0), E, t[1])
    with pytest.raises(InvalidInput, match="omega"):
        cv_current(ECParams(omega=-5.0), E, t[1])


def test_simulate_cv_tool_on_a_rotating_disk():
    # the tool with geometry "rde", 1600 rpm (omega in rad/s): the plateau within 0.5 % of Levich
    w = 2 * np.pi * 1600 / 60
    out = call_tool("simulate_cv", {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.01, "kinetics": "nernst",
                                    "geometry": "rde", "omega": w, "report_peaks": False})  # fmt: skip
    i = np.array(out.I)
    assert i[np.argmax(out.E)] == pytest.approx(levich(w), rel=5e-3)
