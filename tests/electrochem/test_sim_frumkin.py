"""Frumkin double-layer correction of the simulator (Gouy–Chapman–Stern phi2), against theory.

Sources:
* Charge balance sigma_M = C_H (E - E_pzc - phi2) = sqrt(8 RT eps eps0 c) sinh(zF phi2 / 2RT) and the diffuse
  capacitance at the pzc C_d0 = sqrt(2 eps eps0 z² F² c / RT): Bard & Faulkner, Electrochemical Methods 2nd ed. (2001),
  eqs. 13.3.20, 13.3.23 and 13.3.26 (compact and diffuse layers in series, 1/C = 1/C_H + 1/C_D). Near the pzc the
  two layers divide the potential like series capacitors: phi2 = (E - E_pzc) C_H / (C_H + C_d0).
* Frumkin correction at a fixed potential (so fixed phi2): Butler–Volmer with the apparent standard rate constant
  k0_app = k0 exp((alpha n - z) F phi2 / RT), z the charge of O (B&F eq. 13.7.6). For a cation reduced negative of the
  pzc (phi2 < 0, z = +1, alpha n = 1/2) the rate rises; for a dianion it falls (the classical Frumkin effect,
  B&F §13.7.1 on the reduction of S2O8²⁻).
* The correction keeps detailed balance (the equilibrium potential does not depend on the double layer), so
  k_ox / k_red = exp(n F (E - E0) / RT) for any phi2, also for Marcus–Hush–Chidsey rates.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem import ECParams, cv_waveform, step_waveform
from labwright.tools.electrochem import cv_current as _cv_current
from labwright.tools.electrochem._double_layer import (
    charge_balance_residual,
    diffuse_capacitance_pzc,
    diffuse_layer_potential,
)
from labwright.tools.electrochem._simulate import SimSettings, _rate_factors_at, check_params
from labwright.tools.electrochem._units import FARADAY, GAS_CONSTANT
from labwright.tools.registry import call_tool

cv_current = partial(_cv_current, unroll=1)  # one-off runs: unroll=1 compiles ~3x faster, same numbers

T = 298.15
F_RT = FARADAY / (GAS_CONSTANT * T)
EPS_R = 78.4


@jax.jit
def _phi2(E, c_el, C_H, z_el=1.0, E_pzc=0.0):
    return diffuse_layer_potential(E, E_pzc, c_el, C_H, z_el, EPS_R, T)


def test_phi2_satisfies_the_charge_balance():
    # |E - E_pzc| up to 1 V, 0.01 mM to 1 M electrolyte, 1:1 and 2:2, C_H from 0 to 1 F/m²: residual <= 1e-10 of the
    # metal charge scale C_H |E - E_pzc| (+1e-300 for C_H = 0, where phi2 must be exactly 0)
    E = jnp.linspace(-1.0, 1.0, 81)[:, None, None, None]
    c_el = jnp.array([1e-2, 1.0, 1e2, 1e3])[None, :, None, None]
    C_H = jnp.array([0.0, 0.05, 0.2, 1.0])[None, None, :, None]
    z_el = jnp.array([1.0, 2.0])[None, None, None, :]
    phi2 = jax.jit(diffuse_layer_potential)(E, 0.0, c_el, C_H, z_el, EPS_R, T)
    res = jax.jit(charge_balance_residual)(phi2, E, 0.0, c_el, C_H, z_el, EPS_R, T)
    scale = C_H * jnp.abs(E) + 1e-300
    assert float(jnp.max(jnp.abs(res) / scale)) < 1e-10
    # the diffuse layer takes part of the drop, with the same sign
    assert bool(jnp.all(phi2 * E >= 0)) and bool(jnp.all(jnp.abs(phi2) <= jnp.abs(E) + 1e-15))
    assert bool(jnp.all(phi2[:, :, 0] == 0.0))


def test_phi2_series_capacitor_limit_near_pzc():
    # |E - E_pzc| = 0.1 mV << RT/F: phi2 = dE C_H / (C_H + C_d0) to 1e-6 relative (sinh x = x (1 + x²/6), x ~ 2e-3)
    dE = 1e-4
    for c_el, C_H in [(1.0, 0.2), (100.0, 0.2), (10.0, 1.0)]:
        C_d0 = float(diffuse_capacitance_pzc(c_el, 1.0, EPS_R, T))
        assert float(_phi2(dE, c_el, C_H)) == pytest.approx(dE * C_H / (C_H + C_d0), rel=1e-6)
    # B&F Fig. 13.3.4-ish magnitude check: C_d0 of 1:1 electrolyte at 0.1 M in water is ~ 72 µF/cm² (= 0.72 F/m²)
    assert float(diffuse_capacitance_pzc(100.0, 1.0, EPS_R, T)) == pytest.approx(0.72, rel=0.02)


def test_phi2_vanishes_for_concentrated_electrolyte_or_no_compact_capacity():
    E = jnp.linspace(-1.0, 1.0, 21)
    assert float(jnp.max(jnp.abs(_phi2(E, 1e16, 0.2)))) < 1e-7  # C_d0 ~ 7e6 F/m² >> C_H: phi2 ~ 3e-8 (E - E_pzc)
    assert float(jnp.max(jnp.abs(_phi2(E, 1.0, 1e-9)))) < 1e-7
    # and tends to the whole drop E - E_pzc when the compact layer is stiff (C_H = 1e4 F/m² >> C_d0 = 0.07 F/m² at
    # 1 mM): the compact drop A sinh(F phi2 / 2RT) / C_H stays < 1e-4 V for |E - E_pzc| <= 0.3 V
    E = jnp.linspace(-0.3, 0.3, 13)
    assert float(jnp.max(jnp.abs(_phi2(E, 1.0, 1e4) - E))) < 1e-4


def test_phi2_gradients_match_finite_differences():
    # implicit-function gradients of phi2 wrt c_el, C_H, E_pzc vs central differences: 1e-6 relative
    E = jnp.array([-0.6, -0.2, 0.05, 0.4])
    args = dict(c_el=5.0, C_H=0.3, E_pzc=0.1)
    for name, h in [("c_el", 1e-4), ("C_H", 1e-6), ("E_pzc", 1e-6)]:

        def f(x, name=name):
            return _phi2(E, **{**args, name: x})

        jac = jax.jacfwd(f)(args[name])
        fd = (f(args[name] + h) - f(args[name] - h)) / (2 * h)
        np.testing.assert_allclose(np.asarray(jac), np.asarray(fd), rtol=1e-6)


# ----------------------------------------------------------------------------------------------- simulator ----

# cation O (z = +1) reduced at E0 = -0.35 V, negative of the pzc (0 V): phi2 < 0; quasi-reversible k0
CATION = ECParams(E0=-0.35, k0=2e-5, alpha=0.5, c_bulk=1.0, z_O=1.0, E_pzc=0.0, C_H=0.2)
E_STEP = -0.40  # V: a step into the foot of the cathodic wave (kinetics and diffusion both matter)


@pytest.fixture(scope="module")
def ca_program():
    t, E = step_waveform([E_STEP], [0.2], 1e-3, E_initial=0.0)
    return E, t[1]


def test_frumkin_at_constant_potential_is_butler_volmer_with_apparent_k0(ca_program):
    # B&F eq. 13.7.6: at fixed E (fixed phi2) the corrected BV rates are those of k0_app = k0 exp((alpha n - z) f phi2).
    # The CA program only ever evaluates rates at E_STEP (sample 0 is the cell at rest), so the runs agree to 1e-9.
    E, dt = ca_program
    c_el = 10.0  # 10 mM supporting electrolyte: a strong diffuse-layer effect
    phi2 = float(_phi2(E_STEP, c_el, 0.2))
    assert -0.2 < phi2 < -0.02  # a sizeable negative phi2 (a few RT/F)

    def run(params, **kw):
        return np.asarray(cv_current(params, E, dt, bulk="O", **kw))

    plain = run(CATION)
    ratios = {}
    for z in (1.0, -2.0):
        corrected = run(CATION.replace(c_el=c_el, z_O=z))
        k0_app = CATION.k0 * np.exp((0.5 - z) * F_RT * phi2)
        expected = run(CATION.replace(k0=k0_app))
        np.testing.assert_allclose(corrected[1:], expected[1:], rtol=1e-9)
        ratios[z] = corrected[-1] / plain[-1]
    # reduction current is negative; the cation (attracted to the negative plane) is reduced faster, the dianion slower
    assert plain[-1] < 0
    assert ratios[1.0] > 1.2 and ratios[-2.0] < 0.5


def test_no_frumkin_effect_when_phi2_vanishes():
    # c_el -> inf or C_H -> 0 gives phi2 -> 0 (< 1e-7 V), so the CV equals the uncorrected one to 1e-5 of its peak
    t, E = cv_waveform(0.0, -0.7, 0.1, dE=2e-3)
    dt = t[1]
    base = CATION.replace(z_O=1.0)
    for kinetics in ("bv", "mhc"):
        plain = np.asarray(cv_current(base, E, dt, bulk="O", kinetics=kinetics))
        for off in (base.replace(c_el=1e16), base.replace(c_el=1.0, C_H=1e-9)):
            corrected = np.asarray(cv_current(off, E, dt, bulk="O", kinetics=kinetics))
            assert np.max(np.abs(corrected - plain)) < 1e-5 * np.max(np.abs(plain))
        # and a real double layer changes the MHC voltammogram (same direction as BV for the cation: larger current)
        on = np.asarray(cv_current(base.replace(c_el=1.0), E, dt, bulk="O", kinetics=kinetics))
        assert np.max(np.abs(on - plain)) > 0.05 * np.max(np.abs(plain))


def test_frumkin_keeps_detailed_balance_for_bv_and_mhc():
    # k_ox / k_red = exp(n f (E - E0)) whatever phi2 is (the equilibrium potential is a bulk property): 1e-10 relative
    E = jnp.linspace(-0.8, 0.3, 23)
    params = CATION.replace(c_el=1.0, n=2.0, z_O=2.0)
    nf = 2.0 * F_RT
    for kinetics in ("bv", "mhc"):
        settings = SimSettings(kinetics=kinetics)
        f_ox, f_red = _rate_factors_at(E, params, settings, nf, 40.0)
        np.testing.assert_allclose(np.asarray(f_ox / f_red), np.exp(nf * (np.asarray(E) - params.E0)), rtol=1e-10)


def test_current_gradient_wrt_c_el_matches_finite_differences(ca_program):
    # d(charge)/d(c_el) through the phi2 solve and the whole simulation: jax.grad vs central differences, 1e-5 relative
    E, dt = ca_program
    E = E[:60]

    def charge(c_el):
        return jnp.sum(cv_current(CATION.replace(c_el=c_el), E, dt, bulk="O")) * dt

    c0, h = 2.0, 1e-4
    grad = float(jax.grad(charge)(c0))
    fd = float((charge(c0 + h) - charge(c0 - h)) / (2 * h))
    assert grad != 0.0
    assert grad == pytest.approx(fd, rel=1e-5)


def test_frumkin_with_ohmic_drop_matches_without_when_R_u_is_tiny(ca_program):
    # the ohmic Newton path evaluates the same corrected rates at the true potential: R_u = 1e-6 ohm shifts E by
    # < 1e-11 V, so the runs agree to 1e-6 relative
    E, dt = ca_program
    params = CATION.replace(c_el=1.0)
    plain = np.asarray(cv_current(params, E, dt, bulk="O"))
    ohmic = np.asarray(cv_current(params.replace(R_u=1e-6), E, dt, bulk="O", ohmic=True))
    np.testing.assert_allclose(ohmic[1:], plain[1:], rtol=1e-6)


@pytest.mark.parametrize("field", ["c_el", "C_H", "z_el", "eps_r"])
def test_invalid_double_layer_values_name_the_field(field):
    with pytest.raises(InvalidInput) as err:
        check_params(CATION.replace(**{"c_el": 1.0, field: -1.0}))
    assert err.value.field == field
    with pytest.raises(InvalidInput) as err:
        check_params(CATION.replace(**{"c_el": 1.0, field: float("nan")}))
    assert err.value.field == field


@pytest.mark.parametrize("field", ["c_el", "C_H", "z_el", "eps_r", "E_pzc", "z_O"])
def test_simulate_tools_reject_bad_double_layer_inputs(field):
    args = {"E_initial": -0.5, "E_steps": [0.5], "durations": [0.1], "dt": 1e-3, field: float("nan")}
    with pytest.raises(InvalidInput) as err:
        call_tool("simulate_ca", args)
    assert field in err.value.field
    if field not in ("E_pzc", "z_O"):  # those two may be negative
        with pytest.raises(InvalidInput) as err:
            call_tool("simulate_cv", {"E_start": -0.4, "E_vertex": 0.4, "scan_rate": 0.1, field: -1.0})
        assert field in err.value.field


def test_simulate_ca_tool_applies_the_frumkin_correction():
    # the tool passes the options through: same numbers as cv_current with the corrected parameters (1e-9)
    args = {"E_initial": 0.0, "E_steps": [E_STEP], "durations": [0.1], "dt": 1e-3, "E0": CATION.E0, "k0": CATION.k0,
            "bulk": "O", "c_el": 1.0, "z_O": 1.0, "C_H": 0.2, "E_pzc": 0.0}  # fmt: skip
    out = call_tool("simulate_ca", args)
    t, E = step_waveform([E_STEP], [0.1], 1e-3, E_initial=0.0)
    ref = np.asarray(cv_current(CATION.replace(c_el=1.0), E, t[1], bulk="O"))
    np.testing.assert_allclose(np.array(out.I)[1:], ref[1:], rtol=1e-9)
    plain = call_tool("simulate_ca", {**args, "c_el": None})
    assert abs(out.I[-1]) > 1.2 * abs(plain.I[-1])
