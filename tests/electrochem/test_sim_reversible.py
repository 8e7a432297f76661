"""Reversible (Nernstian) planar CV and chronoamperometry against closed-form theory.

Sources: Bard & Faulkner, Electrochemical Methods, 2nd ed. (2001): Randles–Ševčík eq. 6.2.19
(i_p = 0.4463 nFAC (nFvD/RT)^1/2), Ep - E1/2 = 28.5/n mV (eq. 6.2.21 at 25 °C), E1/2 = E0' + (RT/nF) ln (D_R/D_O)^1/2
(eq. 5.4.22), Table 6.5.1 for dEp vs switching potential, and the Cottrell equation (eq. 5.2.11).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from labwright.tools.electrochem import ECParams, cv_peaks, cv_waveform, step_waveform
from labwright.tools.electrochem import cv_current as _cv_current
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT

# one-off simulations: unroll=1 compiles ~3x faster (identical numbers; the default 8 is for speed)
cv_current = partial(_cv_current, unroll=1)

T = 298.15
F_RT = FARADAY / (GAS_CONSTANT * T)
D = 1e-9  # m²/s
AREA = 1e-6  # m²
C = 1.0  # mol/m³
V = 0.1  # V/s


def randles_sevcik(D_bulk: float) -> float:
    return 0.4463 * FARADAY * AREA * C * np.sqrt(F_RT * V * D_bulk)


@pytest.fixture(scope="module")
def reversible_cv():
    """One CV, bulk R, E0 = 0, -0.5 V -> +0.5 V -> -0.5 V (switching 500 mV past E0), 1 mV per sample."""
    t, E = cv_waveform(-0.5, 0.5, V, dE=1e-3)
    i = np.asarray(cv_current(ECParams(E0=0.0, D_O=D, D_R=D, area=AREA, c_bulk=C), E, t[1], kinetics="nernst"))
    return E, i


def test_randles_sevcik_peak_current(reversible_cv):
    # Tolerance 0.1 % (issue asks 0.5 %): the default grid converges to ~0.06 %.
    E, i = reversible_cv
    peaks = cv_peaks(E, i)
    assert peaks.anodic.i_p == pytest.approx(randles_sevcik(D), rel=1e-3)


def test_peak_minus_half_wave_is_28_5_mV(reversible_cv):
    # Ep - E1/2 = +28.5 mV for an oxidation (n = 1, 25 °C), E1/2 = E0 for D_O = D_R; tolerance 0.3 mV.
    E, i = reversible_cv
    peaks = cv_peaks(E, i)
    assert peaks.anodic.E_p * 1e3 == pytest.approx(28.5, abs=0.3)
    assert peaks.cathodic.E_p * 1e3 == pytest.approx(-28.5, abs=1.0)  # reverse peak sits on the decaying tail
    # |Ep - Ep/2| = 56.5 mV for the reversible wave (Bard & Faulkner eq. 6.2.22); tolerance 0.5 mV.
    assert (peaks.anodic.E_p - peaks.anodic.E_half_peak) * 1e3 == pytest.approx(56.5, abs=0.5)


def test_peak_separation_depends_on_switching_potential(reversible_cv):
    # Bard & Faulkner Table 6.5.1: n dEp = 57.8 mV at E_lambda - E1/2 = 271.5 mV and 57.0 mV at infinity, so a
    # switch 500 mV past E0 lies between; 141 mV past gives ~59 mV (between 59.2 at 121.5 and 58.3 at 171.5 mV).
    E, i = reversible_cv
    assert 57.0 <= cv_peaks(E, i).delta_Ep * 1e3 <= 57.8
    t, E2 = cv_waveform(-0.5, 0.141, V, dE=1e-3)
    i2 = np.asarray(cv_current(ECParams(D_O=D, D_R=D, area=AREA), E2, t[1], kinetics="nernst"))
    assert 58.3 <= cv_peaks(E2, i2).delta_Ep * 1e3 <= 59.5


def test_unequal_diffusion_coefficients_shift_half_wave_and_scale_current():
    # D_O = 4 D_R: E1/2 = E0 + (RT/F) ln sqrt(D_R/D_O) = -17.8 mV, Ep = E1/2 + 28.5 mV, ip uses D_R (species in bulk).
    t, E = cv_waveform(-0.5, 0.5, V, dE=1e-3)
    D_R = 0.5e-9
    p = ECParams(E0=0.0, D_O=4 * D_R, D_R=D_R, area=AREA)
    i = np.asarray(cv_current(p, E, t[1], kinetics="nernst"))
    peaks = cv_peaks(E, i)
    E_half = np.log(np.sqrt(1 / 4)) / F_RT
    assert peaks.anodic.E_p == pytest.approx(E_half + 0.0285, abs=3e-4)
    assert peaks.anodic.i_p == pytest.approx(randles_sevcik(D_R), rel=1e-3)


def test_cottrell_after_a_potential_step():
    # Step from -0.5 V (no reaction) to +0.5 V (diffusion limited): i = nFAc sqrt(D / (pi t)), Bard & Faulkner eq.
    # 5.2.11. Tolerance 1 % for t >= 20 dt (BDF2 needs a few steps to resolve the initial singularity).
    dt = 1e-3
    t, E = step_waveform(0.5, 1.0, dt, E_initial=-0.5)
    i = np.asarray(cv_current(ECParams(D_O=D, D_R=D, area=AREA), E, dt, kinetics="nernst"))
    cottrell = FARADAY * AREA * C * np.sqrt(D / (np.pi * t[20:]))
    assert np.max(np.abs(i[20:] / cottrell - 1)) < 0.01
