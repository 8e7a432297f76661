"""The NDF solver (:mod:`labwright.tools.kinetics._bdf`): accuracy against closed forms and references, reuse of its
Jacobian and inverse, failure handling, and the loop structure XLA:CPU compiles whole."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.tools.kinetics import compile_network, make_ode_solver, parse_network
from labwright.tools.kinetics._bdf import ALPHA, ERROR_CONSTANT, _change_step, _interpolate, ndf_solver
from scipy.integrate import solve_ivp

# Robertson's stiff kinetics (Hairer & Wanner II §IV.1, ROBER of the Bari test set).
ROBERTSON = ["A -> B; kf=0.04", "2 B -> B + C; kf=3e7", "B + C -> A + C; kf=1e4"]


def test_coefficients_are_those_of_shampine_and_reichelt():
    # Shampine & Reichelt, SIAM J. Sci. Comput. 18 (1997), Table 1: α_k = (1 − κ_k) γ_k, and the leading error
    # constant of the NDF of order k is κ_k γ_k + 1/(k + 1) (BDF's 1/(k + 1) for κ = 0, e.g. 1/6 at order 5).
    np.testing.assert_allclose(ALPHA[1:], [1.185, 1.5 * (1 + 1 / 9), (1 + 0.0823) * 11 / 6, 1.0415 * 25 / 12, 137 / 60])
    np.testing.assert_allclose(ERROR_CONSTANT[[1, 5]], [-0.185 + 0.5, 1 / 6])


def test_step_change_keeps_the_interpolating_polynomial():
    # Differences of y = t³ on a grid of spacing h, re-expressed for spacing h/3, describe the same cubic: the
    # interpolant at any t is unchanged (to rounding).
    h, t_n, order = 0.2, 1.0, 4
    grid = t_n - h * np.arange(order + 1)
    values = grid**3
    d = np.zeros((8, 1))
    table = values.copy()
    for j in range(order + 1):  # backward differences ∇^j y_n
        d[j, 0] = table[0]
        table = table[:-1] - table[1:]
    d = jnp.asarray(d)
    rescaled = _change_step(d, jnp.asarray(order), jnp.asarray(1 / 3))
    for t in (0.55, 0.9, 1.0, 1.07):
        expected = t**3
        assert float(_interpolate(d, jnp.asarray(order), t_n, h, t)[0]) == pytest.approx(expected, rel=1e-12)
        assert float(_interpolate(rescaled, jnp.asarray(order), t_n, h / 3, t)[0]) == pytest.approx(expected, rel=1e-12)


def test_robertson_against_a_tight_radau_reference_with_tolerance_proportionality():
    # Robertson's stiff kinetics (Hairer & Wanner II §IV.1; y1(40) = 0.71582706871 in their reference solution).
    # Error relative to each species' range within 20 × rtol, and 1000× tighter rtol gives 100–10,000× smaller errors.
    system = compile_network(parse_network(ROBERTSON))
    # "2 B -> B + C" at 3e7 in mass action is the textbook 3e7·y2² (the network's convention for 2B is k·B²).
    x0, ts = np.array([1.0, 0.0, 0.0]), np.concatenate([[0.0], np.logspace(-5, np.log10(40.0), 30)])
    k = jnp.asarray(system.k)
    f = jax.jit(lambda t, x: system.rhs(t, x, k))
    ref = solve_ivp(lambda t, x: np.asarray(f(t, x)), (0.0, 40.0), x0, "Radau", t_eval=ts, rtol=1e-12, atol=1e-20).y.T
    assert ref[-1, 0] == pytest.approx(0.71582706871, rel=1e-9)
    scale = np.abs(ref).max(axis=0)
    errors = []
    for rtol in (1e-6, 1e-9):
        ys, ok = make_ode_solver(system, solver="NDF", rtol=rtol, atol=rtol * 1e-6)(jnp.asarray(x0), k, ts)
        assert bool(ok)
        errors.append(np.max(np.abs(np.asarray(ys) - ref) / scale))
        assert errors[-1] < 20 * rtol
    assert 1e2 < errors[0] / errors[1] < 1e4


def test_jacobian_and_inverse_are_reused_and_the_loop_compiles_whole():
    # The point of the method: on a stiff network at rtol 1e-10 far fewer Jacobians and inverses than steps
    # (measured on the benchmark's 20-species network: 1,517 steps, 32 Jacobians, 273 inverses). And no matrix
    # product, LAPACK call or nested loop keeps XLA:CPU from compiling an output interval into one function.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from _kinetics_workloads import stiff_problem

    _, system, x0, ts = stiff_problem()
    run = jax.jit(ndf_solver(system.rhs, rtol=1e-10, atol=1e-14, max_steps=100_000, stats=True))
    ys, ok, (steps, rejected, jacobians, inverses) = run(jnp.asarray(x0), jnp.asarray(system.k), jnp.asarray(ts))
    assert bool(ok)
    assert int(jacobians) < int(steps) / 20 and int(inverses) < int(steps) / 3
    assert int(rejected) < int(steps) / 20
    if jax.default_backend() == "cpu":
        text = run.lower(jnp.asarray(x0), jnp.asarray(system.k), jnp.asarray(ts)).compile().as_text()
        assert "xla_cpu_small_call" in text


def test_failures_end_the_solve_with_ok_false():
    # A right-hand side that turns NaN at t > 1, and a step limit too small for the span: both end with ok False
    # (and the finite outputs before the failure intact), never a hang.
    def rhs(t, y, args):
        return jnp.where(t > 1.0, jnp.nan, -args * y)

    run = jax.jit(ndf_solver(rhs, rtol=1e-8, atol=1e-12, max_steps=10_000))
    ys, ok = run(jnp.array([1.0]), jnp.asarray(2.0), jnp.array([0.0, 0.5, 2.0]))
    assert not bool(ok)
    assert float(ys[1, 0]) == pytest.approx(np.exp(-1.0), rel=1e-6)
    short = jax.jit(ndf_solver(lambda t, y, a: -a * y, rtol=1e-8, atol=1e-12, max_steps=5))
    assert not bool(short(jnp.array([1.0]), jnp.asarray(2.0), jnp.array([0.0, 10.0]))[1])


def test_repeated_output_times_and_an_empty_span():
    # Outputs at the start time, repeated outputs, and a span of length zero (as event segments produce).
    run = jax.jit(ndf_solver(lambda t, y, a: -a * y, rtol=1e-10, atol=1e-14, max_steps=10_000))
    ts = jnp.array([0.0, 0.0, 1.0, 1.0, 3.0])
    ys, ok = run(jnp.array([2.0]), jnp.asarray(0.7), ts)
    assert bool(ok)
    np.testing.assert_allclose(np.asarray(ys[:, 0]), 2.0 * np.exp(-0.7 * np.asarray(ts)), rtol=1e-8)
    ys, ok = run(jnp.array([2.0]), jnp.asarray(0.7), jnp.array([4.0, 4.0]))
    assert bool(ok)
    np.testing.assert_allclose(np.asarray(ys[:, 0]), 2.0)


def test_robertson_over_seventeen_decades():
    # ROBER to t = 1e11 (Test Set for IVP Solvers, Mazzia & Magherini, Bari 2008: y(1e11) = 2.0833401497e-8,
    # 8.3333607703e-14, 0.99999997917). Outputs log-spaced from 1e-6 s: the NDF steps up to ~1e10 s and reads each
    # output off its polynomial. Global error within 50 × (atol + rtol·|y|) of a Radau reference at rtol 1e-12
    # (measured 8 and 28 at rtol 1e-6 and 1e-8; local control, so the global error may exceed the tolerance), and
    # A + B + C = 1 to 1e-12.
    system = compile_network(parse_network(ROBERTSON))
    x0, ts = np.array([1.0, 0.0, 0.0]), np.concatenate([[0.0], np.logspace(-6, 11, 35)])
    k = jnp.asarray(system.k)

    def rober(t, y):  # the textbook equations, in NumPy: an independent reference
        return [-0.04 * y[0] + 1e4 * y[1] * y[2], 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2]

    def rober_jac(t, y):
        return [[-0.04, 1e4 * y[2], 1e4 * y[1]], [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]], [0.0, 6e7 * y[1], 0.0]]

    ref = solve_ivp(rober, (0.0, 1e11), x0, "Radau", t_eval=ts, rtol=1e-12, atol=1e-22, jac=rober_jac).y.T
    np.testing.assert_allclose(ref[-1], [2.0833401497e-8, 8.3333607703e-14, 0.99999997917], rtol=1e-6)
    for rtol in (1e-6, 1e-8):
        atol = rtol * 1e-6
        ys, ok = make_ode_solver(system, solver="NDF", rtol=rtol, atol=atol)(jnp.asarray(x0), k, jnp.asarray(ts))
        ys = np.asarray(ys)
        assert bool(ok)
        assert np.max(np.abs(ys - ref) / (atol + rtol * np.abs(ref))) < 50
        np.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-12)
