"""EC and CE mechanisms and spherical diffusion in the simulator, in limits with closed-form answers.

Sources:
* EC (E_r C_i), kinetic (pure-kinetic) zone, lambda = k RT/(F v) >> 1: the reverse peak vanishes, the forward wave
  has the irreversible shape with i_p = 0.4958 nFAC (nFvD/RT)^1/2 and, for an oxidation,
  Ep = E1/2 + (RT/F)(0.780 - ln(lambda)/2) (Nicholson & Shain, Anal. Chem. 36 (1964) 706; Bard & Faulkner,
  Electrochemical Methods 2nd ed. (2001) §12.3; Savéant's KP zone).
* CE, Y ⇌ B (K = [B]/[Y]) then B -> P + e⁻: with no chemistry only the B present at the start reacts (c_B = c K/(1+K));
  with fast equilibration the whole material reacts at E0' + (RT/F) ln((1+K)/K); with small K and fast
  interconversion the sweep gives the S-shaped kinetic plateau i_k = F A c K/(1+K) (D (k_f + k_b))^1/2 from a
  reaction layer of thickness (D/(k_f + k_b))^1/2 (Koutecký–Brdička reaction-layer result; B&F ch. 12).
* Sphere of radius r0 after a diffusion-limited step: i = nFADc (1/(pi D t)^1/2 + 1/r0) (B&F eq. 5.2.18); its
  steady state nFADc/r0 = 4 pi nFDc r0 is also the plateau of a slow sweep.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.tools.electrochem import (
    ECParams,
    GridSpec,
    cv_peaks,
    cv_waveform,
    lsv_waveform,
    step_waveform,
)
from labwright.tools.electrochem import cv_current as _cv_current
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT

# one-off simulations: unroll=1 compiles ~3x faster (identical numbers; the default 8 is for speed)
cv_current = partial(_cv_current, unroll=1)

T = 298.15
F_RT = FARADAY / (GAS_CONSTANT * T)
D, AREA, C, V = 1e-9, 1e-6, 1.0, 0.1  # m²/s, m², mol/m³, V/s
RANDLES_SEVCIK = 0.4463 * FARADAY * AREA * C * np.sqrt(F_RT * V * D)


@pytest.fixture(scope="module")
def cv_program():
    t, E = cv_waveform(-0.4, 0.4, V, dE=1e-3)
    return E, t[1]


def test_ec_fast_follow_up_loses_the_reverse_peak(cv_program):
    E, dt = cv_program
    lam = np.array([0.0, 1e3, 1e4])  # k RT/(F v)
    k_chem = lam * F_RT * V
    base = ECParams(D_O=D, D_R=D, area=AREA)
    currents = jax.vmap(lambda k: cv_current(base.replace(k_chem=k), E, dt, kinetics="nernst", mechanism="EC"))(
        jnp.asarray(k_chem)
    )
    currents = np.asarray(currents)
    slow = cv_peaks(E, currents[0])  # k = 0: plain reversible E
    assert slow.anodic.i_p == pytest.approx(RANDLES_SEVCIK, rel=2e-3)
    assert slow.cathodic is not None
    for lam_k, i in zip(lam[1:], currents[1:], strict=True):
        peaks = cv_peaks(E, i)
        assert peaks.cathodic is None  # no reverse peak: O is gone before the sweep comes back
        assert i.min() > -1e-3 * peaks.anodic.i_p  # not even a cathodic current
        # KP zone: tolerances 1 % in i_p, 1 mV in Ep (default grid; measured 0.03 % and 0.4 mV)
        assert peaks.anodic.i_p == pytest.approx(0.4958 * RANDLES_SEVCIK / 0.4463, rel=0.01)
        Ep = (0.780 - 0.5 * np.log(lam_k)) / F_RT
        assert peaks.anodic.E_p * 1e3 == pytest.approx(Ep * 1e3, abs=1.0)


def test_ce_without_chemistry_and_with_fast_equilibrium(cv_program):
    E, dt = cv_program
    # inert pre-equilibrium, K = 1: half the material is B; tolerance 0.5 % in i_p, 0.3 mV in Ep
    i_slow = np.asarray(cv_current(ECParams(D_O=D, D_R=D, area=AREA, k_chem=0.0, K_eq=1.0), E, dt,
                                   kinetics="nernst", mechanism="CE"))  # fmt: skip
    slow = cv_peaks(E, i_slow)
    assert slow.anodic.i_p == pytest.approx(0.5 * RANDLES_SEVCIK, rel=5e-3)
    assert slow.anodic.E_p * 1e3 == pytest.approx(28.5, abs=0.3)
    # fast equilibrium, K = 0.1: all material reacts, wave shifted by (RT/F) ln((1+K)/K) = 61.6 mV; same tolerances
    K = 0.1
    i_fast = np.asarray(cv_current(ECParams(D_O=D, D_R=D, area=AREA, k_chem=1e6, K_eq=K), E, dt,
                                   kinetics="nernst", mechanism="CE"))  # fmt: skip
    fast = cv_peaks(E, i_fast)
    assert fast.anodic.i_p == pytest.approx(RANDLES_SEVCIK, rel=5e-3)
    assert fast.anodic.E_p * 1e3 == pytest.approx((np.log((1 + K) / K) / F_RT + 0.0285) * 1e3, abs=0.3)


def test_ce_kinetic_plateau():
    # K = 1e-4, k_f + k_b = 1e6 /s at 10 V/s: the reaction layer (30 nm) limits the current. The plateau is flat
    # and within 3 % of i_k (the slow depletion of Y over the sweep lowers it by ~2 %).
    K, k_sum = 1e-4, 1e6
    t, E = lsv_waveform(-0.2, 0.4, 10.0, dE=1e-3)
    p = ECParams(D_O=D, D_R=D, area=AREA, k_chem=k_sum * K / (1 + K), K_eq=K)
    i = np.asarray(cv_current(p, E, t[1], kinetics="nernst", mechanism="CE", grid=GridSpec(h0=5e-5, gamma=1.1)))
    i_k = FARADAY * AREA * C * K / (1 + K) * np.sqrt(D * k_sum)
    plateau = i[E > 0.3]
    assert np.all(np.abs(plateau / i_k - 1) < 0.03)
    assert np.ptp(plateau) < 0.01 * i_k  # S-shaped, no diffusion peak
    assert i_k < 0.05 * 0.4463 * FARADAY * AREA * C * np.sqrt(F_RT * 10.0 * D)  # far below the diffusion peak


def test_sphere_potential_step_and_steady_state():
    r0 = 5e-6  # m
    area = 4 * np.pi * r0**2
    p = ECParams(D_O=D, D_R=D, area=area, radius=r0)
    dt = 1e-3
    t, E = step_waveform(0.5, 1.0, dt, E_initial=-0.5)
    i = np.asarray(cv_current(p, E, dt, kinetics="nernst", geometry="spherical"))
    theory = FARADAY * area * D * C * (1 / np.sqrt(np.pi * D * t[20:]) + 1 / r0)
    assert np.max(np.abs(i[20:] / theory - 1)) < 0.01  # tolerance 1 % from 20 dt on (as for Cottrell)
    # slow sweep at a 1 µm sphere, 2 mV/s (sigma = F v r0²/(RT D) = 8e-5): a sigmoidal wave whose plateau is the
    # steady state 4 pi F D c r0 plus the decaying transient r0 / (pi D t)^1/2 (0.1-0.2 % here), so the plateau must
    # lie 0-1 % above steady state and the current at E1/2 = E0 (D_O = D_R) be half of it within 1 % (measured
    # 0.3 %, a sweep-rate effect that vanishes as sigma -> 0, not a grid error).
    r1 = 1e-6
    p1 = ECParams(D_O=D, D_R=D, area=4 * np.pi * r1**2, radius=r1)
    t2, E2 = lsv_waveform(-0.25, 0.25, 0.002, dE=2e-3)
    i2 = np.asarray(cv_current(p1, E2, t2[1], kinetics="nernst", geometry="spherical", grid=GridSpec(h0=2e-5)))
    steady = 4 * np.pi * FARADAY * D * C * r1
    assert 0.0 < i2[-1] / steady - 1 < 0.01
    assert np.interp(0.0, E2, i2) == pytest.approx(0.5 * steady, rel=0.01)
