"""Reverse-mode gradients through whole simulations against central finite differences (issue 4: 1e-5 relative).

Finite differences: central, step h = 1e-5 in log k0 / log D and in alpha (truncation ~h² ~ 1e-10, round-off
~1e-16 / h ~ 1e-11 relative in float64), so a 1e-5 disagreement would be a wrong derivative, not FD noise.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.tools.electrochem import ECParams, GridSpec, cv_current, cv_waveform, step_waveform

D, AREA = 1e-9, 1e-6
GRID = GridSpec(h0=1e-3, gamma=1.15)  # coarse is fine: the check is derivative vs FD of the same discrete model


def _central_difference(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        g[k] = (float(f(jnp.asarray(x + e))) - float(f(jnp.asarray(x - e)))) / (2 * h)
    return g


def _loss_factory(E, dt, data, **settings):
    def loss(x):
        log_k0, alpha, log_D = x
        p = ECParams(k0=jnp.exp(log_k0), alpha=alpha, D_O=jnp.exp(log_D), D_R=jnp.exp(log_D), area=AREA)
        i = cv_current(p, E, dt, grid=GRID, unroll=1, **settings) / 1e-6  # µA
        return jnp.sum((i - data) ** 2)

    return loss


@pytest.fixture(scope="module")
def quasi_reversible():
    t, E = cv_waveform(-0.4, 0.4, 0.1, dE=4e-3)
    truth = ECParams(k0=1e-4, alpha=0.5, D_O=D, D_R=D, area=AREA)
    data = np.asarray(cv_current(truth, E, t[1], grid=GRID)) / 1e-6
    x = np.array([np.log(2e-4), 0.42, np.log(1.3e-9)])  # away from the truth: a nonzero gradient
    return E, t[1], data, x


def test_gradient_matches_finite_differences_and_checkpointing_changes_nothing(quasi_reversible):
    E, dt, data, x = quasi_reversible
    loss = jax.jit(_loss_factory(E, dt, data))
    grad = np.asarray(jax.grad(loss)(jnp.asarray(x)))
    np.testing.assert_allclose(grad, _central_difference(loss, x), rtol=1e-5)
    # bounded-memory gradients (jax.checkpoint over chunks of 37 steps, not dividing n_t) give the same numbers
    chunked = jax.jit(_loss_factory(E, dt, data, checkpoint_every=37))
    np.testing.assert_allclose(np.asarray(jax.grad(chunked)(jnp.asarray(x))), grad, rtol=1e-10)


@pytest.mark.slow  # ~25 s on a busy 2-core machine: reverse mode through 8 Newton iterations per step compiles slowly
def test_gradient_with_ohmic_drop(quasi_reversible):
    # the implicit Newton solve for the true potential E - R_u i is differentiated through; tolerance 1e-5
    E, dt, data, _ = quasi_reversible

    def loss(x):
        log_k0, alpha, R_u = x
        p = ECParams(k0=jnp.exp(log_k0), alpha=alpha, D_O=D, D_R=D, area=AREA, R_u=R_u)
        i = cv_current(p, E, dt, grid=GRID, ohmic=True, unroll=1) / 1e-6
        return jnp.sum((i - data) ** 2)

    x = np.array([np.log(2e-4), 0.45, 2e3])
    f = jax.jit(loss)
    np.testing.assert_allclose(np.asarray(jax.grad(f)(jnp.asarray(x))), _central_difference(f, x), rtol=1e-5)


def test_gradient_through_mhc_quadrature(quasi_reversible):
    # d/d lambda and d/d k0 through the Chidsey quadrature; tolerance 1e-5
    E, dt, data, _ = quasi_reversible

    def loss(x):
        log_k0, lam = x
        p = ECParams(k0=jnp.exp(log_k0), lambda_eV=lam, D_O=D, D_R=D, area=AREA)
        i = cv_current(p, E, dt, grid=GRID, kinetics="mhc", unroll=1) / 1e-6
        return jnp.sum((i - data) ** 2)

    x = np.array([np.log(2e-4), 0.8])
    f = jax.jit(loss)
    np.testing.assert_allclose(np.asarray(jax.grad(f)(jnp.asarray(x))), _central_difference(f, x), rtol=1e-5)


def test_gradient_through_spherical_modes():
    # spherical diffusion: the grid's modes come from a traced eigendecomposition in the radius; tolerance 1e-5
    dt = 2e-3
    _, E = step_waveform(0.3, 0.2, dt, E_initial=-0.3)

    def total_charge(x):
        log_r, log_D = x
        r = jnp.exp(log_r)
        p = ECParams(D_O=jnp.exp(log_D), D_R=jnp.exp(log_D), area=4 * jnp.pi * r**2, radius=r)
        return jnp.sum(cv_current(p, E, dt, kinetics="nernst", geometry="spherical", grid=GRID, unroll=1)) * dt / 1e-12

    x = np.array([np.log(5e-6), np.log(1e-9)])
    f = jax.jit(total_charge)
    np.testing.assert_allclose(np.asarray(jax.grad(f)(jnp.asarray(x))), _central_difference(f, x), rtol=1e-5)
