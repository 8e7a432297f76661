"""Rodas4 internals: the solver's own LU (partial pivoting) and the loop structure XLA:CPU compiles whole."""

from __future__ import annotations

import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.tools.kinetics import compile_network, make_ode_solver, parse_network
from labwright.tools.kinetics._rosenbrock import _UNROLLED_LU_MAX, _gauss_jordan, _gauss_jordan_in_place, _inverse


def _matrices():
    rng = np.random.default_rng(11)
    yield "swap", np.array([[0.0, 1.0], [1.0, 0.0]])  # no LU without a row exchange
    yield "one", np.array([[4.0]])
    # Largest entry of the first column in the last row, a zero on the diagonal, and a near-singular pivot later.
    m = rng.normal(size=(8, 8))
    m[:, 0] = [1e-12, 0.1, -0.2, 0.3, 0.0, 0.2, -0.1, 5.0]
    m[3, 3] = 0.0
    yield "pivots", m
    for n in (3, 8, 20, _UNROLLED_LU_MAX):
        yield f"random{n}", rng.normal(size=(n, n)) + np.diag(rng.uniform(-1, 1, n))
    # I/(hγ) − J of a stiff network: tiny diagonal shift against entries of 1e4.
    j = rng.normal(size=(12, 12)) * 10 ** rng.uniform(-2, 4, size=(12, 12))
    yield "stiff", np.eye(12) / 1e-3 - j


@pytest.mark.parametrize("name,m", list(_matrices()), ids=lambda v: v if isinstance(v, str) else "")
def test_unrolled_inverse_matches_numpy(name, m):
    # Gauss–Jordan with partial pivoting, and the solver's inverse (without exchanges where the threshold test
    # passes, pivoted otherwise), agree with NumPy's (LAPACK) to the backward-stable bound, ~ n · eps · cond(m).
    n = m.shape[0]
    expected = np.linalg.inv(m)
    tol = 50 * n * np.finfo(float).eps * np.linalg.cond(m) * np.abs(expected).max()
    pivoted, _ = jax.jit(lambda a: _gauss_jordan(a, pivoting=True))(jnp.asarray(m))
    np.testing.assert_allclose(np.asarray(pivoted), expected, rtol=0, atol=tol)
    inv = np.asarray(jax.jit(lambda a: _inverse(a, True))(jnp.asarray(m)))
    np.testing.assert_allclose(inv, expected, rtol=0, atol=tol)


def test_gauss_jordan_skips_row_exchanges_only_where_the_pivots_pass_the_threshold_test():
    # A diagonally dominant matrix (every |a_kk| > 0.1 max_{i>k} |a_ik| at every stage) is inverted without exchanges,
    # to round-off; a tiny (0, 0) pivot (1e-12 against 5.0 below it) fails the test, and _inverse then pivots.
    rng = np.random.default_rng(4)
    dominant = rng.normal(size=(10, 10)) + 10.0 * np.eye(10)
    inverse, safe = jax.jit(_gauss_jordan)(jnp.asarray(dominant))
    assert bool(safe)
    np.testing.assert_allclose(np.asarray(inverse) @ dominant, np.eye(10), atol=1e-13)
    tiny = dict(_matrices())["pivots"]
    assert not bool(jax.jit(_gauss_jordan)(jnp.asarray(tiny))[1])
    np.testing.assert_allclose(np.asarray(_inverse(jnp.asarray(tiny), True)) @ tiny, np.eye(8), atol=1e-9)


def test_in_place_elimination_keeps_full_precision_with_large_pivots_and_tests_as_the_augmented_one():
    # I/(hγ) − J at a tiny step (1/(hγ) = 1e8 against entries of 1): every entry of the inverse, the ~1e-8 diagonal
    # and the ~1e-16 off-diagonal ones alike, to ~10 ulp relative; folding row and column k into one rank-1 update
    # would lose a factor 1/(hγ)² there (module notes). The threshold test decides as the [m | I] elimination's.
    rng = np.random.default_rng(8)
    m = 1e8 * np.eye(12) - rng.normal(size=(12, 12))
    inverse, safe = jax.jit(_gauss_jordan_in_place)(jnp.asarray(m))
    np.testing.assert_allclose(np.asarray(inverse), np.linalg.inv(m), rtol=1e-14, atol=0)
    assert bool(safe)
    for name, a in _matrices():
        in_place, augmented = (bool(jax.jit(f)(jnp.asarray(a))[1]) for f in (_gauss_jordan_in_place, _gauss_jordan))
        assert in_place == augmented, name


def test_large_systems_fall_back_to_lapack():
    m = np.random.default_rng(2).normal(size=(_UNROLLED_LU_MAX + 1,) * 2) + 5 * np.eye(_UNROLLED_LU_MAX + 1)
    inv = jax.jit(lambda a: _inverse(a, True))(jnp.asarray(m))
    assert "lapack" in jax.jit(lambda a: _inverse(a, True)).lower(jnp.asarray(m)).as_text().lower()
    np.testing.assert_allclose(np.asarray(inv) @ m, np.eye(len(m)), atol=1e-10)


def test_single_solve_loop_is_compiled_whole_and_lanes_agree():
    # tools/_runtime.py raises XLA:CPU's small-loop threshold so that a Rodas4 output interval compiles into one
    # function (no per-kernel dispatch); a LAPACK call, scatter or sort in the loop would silently undo that.
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_small_while_loop_byte_threshold" not in flags and "xla_backend_extra_options" in flags:
        pytest.skip("XLA_FLAGS sets xla_backend_extra_options itself, and _runtime leaves it alone")
    assert "xla_cpu_small_while_loop_byte_threshold" in flags
    system = compile_network(parse_network(["2 A <-> B; kf=50, kr=1", "B -> C; kf=0.3", "C + A -> D; kf=2"]))
    x0, ts = jnp.array([1.0, 0.0, 0.0, 0.0]), jnp.linspace(0.0, 20.0, 21)
    single = make_ode_solver(system, solver="Rodas4", rtol=1e-8, atol=1e-12)
    if jax.default_backend() == "cpu":
        assert "xla_cpu_small_call" in single.lower(x0, jnp.asarray(system.k), ts).compile().as_text()
    lanes = make_ode_solver(system, solver="Rodas4", rtol=1e-8, atol=1e-12, lanes=True)
    (ys, ok), (ys_lanes, ok_lanes) = single(x0, jnp.asarray(system.k), ts), lanes(x0, jnp.asarray(system.k), ts)
    assert bool(ok) and bool(ok_lanes)
    # Same steps, LU by a different route: agreement to rounding.
    np.testing.assert_allclose(np.asarray(ys), np.asarray(ys_lanes), rtol=1e-10, atol=1e-15)
    # A atoms: A + 2B + 2C + 3D is conserved (C holds two, D three).
    np.testing.assert_allclose(np.asarray(ys) @ np.array([1.0, 2.0, 2.0, 3.0]), 1.0, rtol=1e-8)


@pytest.mark.parametrize("method,order", [("Rodas4", 4), ("Rodas5P", 5)])
def test_fixed_step_convergence_order(method, order):
    # Classical order of the tableau (Hairer & Wanner II §IV.7 for RODAS4; Steinebach, BIT 63, 27 (2023) for
    # Rodas5P) on a non-autonomous problem, so the ∂f/∂t terms count: y1' = −2 y1² (y1 = 1/(1 + 2t)),
    # y2' = cos(t) y2 (y2 = exp(sin t)), fixed steps h = 1/32 and 1/64 to t = 1. Observed order within 0.3 of the
    # design order (measured 4.02 and 4.89).
    from labwright.tools.kinetics._rosenbrock import TABLEAUS, _stages

    def f(t, y, args):
        return jnp.stack([-2 * y[0] ** 2, jnp.cos(t) * y[1]])

    errors = []
    for n in (32, 64):
        step = jax.jit(lambda t, y, h=1.0 / n: _stages(TABLEAUS[method], f, t, y, jnp.asarray(h), None, True)[0])
        y = jnp.array([1.0, 1.0])
        for i in range(n):
            y = step(jnp.asarray(i / n), y)
        errors.append(np.max(np.abs(np.asarray(y) - [1 / 3, np.exp(np.sin(1.0))])))
    assert abs(np.log2(errors[0] / errors[1]) - order) < 0.3


def test_runtime_adds_the_loop_threshold_unless_backend_options_are_set(monkeypatch):
    from labwright.tools import _runtime

    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    # With JAX running (started here, whatever ran before), the option comes too late, and the user is told so.
    jnp.zeros(1).block_until_ready()
    with pytest.warns(RuntimeWarning, match="imported after JAX started"):
        _runtime._compile_small_loops_whole()
    flags = os.environ["XLA_FLAGS"].split()
    assert flags[0] == "--xla_cpu_enable_fast_math=false"
    assert f"--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold={_runtime._WHOLE_LOOP_BYTES}" in flags
    # The user's own backend options win, untouched.
    mine = "--xla_backend_extra_options=some_llvm_flag=1"
    monkeypatch.setenv("XLA_FLAGS", mine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and without a warning: nothing was attempted
        _runtime._compile_small_loops_whole()
    assert os.environ["XLA_FLAGS"] == mine


def test_importing_labwright_after_jax_started_warns_and_before_does_not():
    # Fresh interpreters: JAX run first, then labwright's kinetics (the notebook order), against labwright first.
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    late = "import jax.numpy as jnp; jnp.zeros(1).block_until_ready(); import labwright.tools.kinetics"
    early = "import labwright.tools.kinetics; import jax.numpy as jnp; jnp.zeros(1).block_until_ready()"
    for code, warned in ((late, True), (early, False)):
        out = subprocess.run([sys.executable, "-W", "always", "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert ("imported after JAX started" in out.stderr) == warned, out.stderr
