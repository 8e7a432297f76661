"""The lanes-last batch program (tools/kinetics/_lanes.py): linear algebra, fallback, ring, explicit methods."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.tools.kinetics import compile_network, make_ode_solver, parse_network
from labwright.tools.kinetics._lanes import lanes_solver, lu_rows, lu_rows_pivoted, solve_rows
from scipy.linalg import expm, lu_factor


def lanes_last(mats: np.ndarray) -> jnp.ndarray:
    return jnp.asarray(np.moveaxis(mats, 0, -1))  # (L, n, n) -> (n, n, L)


def test_lu_without_exchanges_solves_and_flags_unsafe_pivots():
    # 16 diagonally dominant 6 x 6 matrices (every pivot passes |u_kk| >= 0.1 max |a_ik|) and one with a zero in
    # the (0, 0) corner: solutions match NumPy to 1e-12; only the last lane is flagged.
    rng = np.random.default_rng(0)
    mats = rng.normal(size=(17, 6, 6)) + 8.0 * np.eye(6)
    mats[-1, 0, 0] = 0.0
    b = rng.normal(size=(17, 6))
    rows, safe = lu_rows(lanes_last(mats))
    np.testing.assert_array_equal(np.asarray(safe), [True] * 16 + [False])
    x = np.asarray(solve_rows(rows, jnp.asarray(b.T))).T
    np.testing.assert_allclose(x[:16], np.linalg.solve(mats[:16], b[:16, :, None])[..., 0], rtol=1e-12, atol=1e-12)
    assert not np.all(np.isfinite(x[16]))  # the zero pivot: no exchanges, no answer


def test_pivoted_lu_matches_lapack_on_matrices_that_need_exchanges():
    # Random 7 x 7 matrices with zero diagonals (no LU without exchanges exists) and a permutation matrix: each
    # lane's partial pivoting (largest |entry| of the column) gives P·A = L·U exactly as LAPACK's getrf chooses,
    # and the solve of A x = b matches NumPy.
    rng = np.random.default_rng(1)
    mats = rng.normal(size=(9, 7, 7))
    mats[:, np.arange(7), np.arange(7)] = 0.0
    mats[-1] = np.eye(7)[rng.permutation(7)]
    b = rng.normal(size=(9, 7))
    rows, perm = lu_rows_pivoted(lanes_last(mats))
    lu = np.moveaxis(np.stack([np.asarray(r) for r in rows]), -1, 0)  # (L, n, n)
    for lane in range(9):
        lower = np.tril(lu[lane], -1) + np.eye(7)
        np.testing.assert_allclose(lower @ np.triu(lu[lane]), mats[lane][np.asarray(perm)[:, lane]], atol=1e-12)
        order = np.arange(7)  # LAPACK's row interchanges as a permutation
        for i, p in enumerate(lu_factor(mats[lane])[1]):
            order[[i, p]] = order[[p, i]]
        np.testing.assert_array_equal(np.asarray(perm)[:, lane], order)
    x = sum(jnp.where(perm == j, jnp.asarray(b.T)[j][None], 0.0) for j in range(7))  # b permuted per lane
    x = np.asarray(solve_rows(rows, x)).T
    np.testing.assert_allclose(x, np.linalg.solve(mats, b[..., None])[..., 0], rtol=1e-10, atol=1e-12)


def test_always_pivoting_gives_the_same_solution_as_the_exchange_free_lu():
    # A linear stiff system y' = A y with eigenvalues ≈ -101 and -9899 whose W = I/(hγ) - A fails the threshold
    # test once h > 0.04 s (|w_11| = 1/(hγ) against |w_21| = 1000): solved by the lanes program with the default
    # tolerance (pivoting when a lane needs it) and with τ = inf (pivoting at every step), both against the exact
    # solution expm(A t) y0 to 1e-6 relative (rtol 1e-8) and against each other to 1e-9.
    a = np.array([[0.0, -1e3], [1e3, -1e4]])

    def rhs(t, y, scale):
        return scale * (jnp.asarray(a) @ y)

    ts = jnp.linspace(0.0, 1.0, 11)
    scales = jnp.array([1.0, 0.5, 2.0])
    y0s = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    outs = []
    for tau in (0.1, np.inf):
        run = jax.jit(lanes_solver(rhs, rtol=1e-8, atol=1e-14, max_steps=100_000, pivot_tolerance=tau))
        ys, ok = run(y0s, scales, ts)
        assert bool(np.all(np.asarray(ok)))
        outs.append(np.asarray(ys))
    exact = np.stack([[expm(float(s) * a * float(t)) @ np.asarray(y0) for t in ts] for s, y0 in zip(scales, y0s)])
    for ys in outs:
        np.testing.assert_allclose(ys, exact, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("ring", [1, 4])
def test_lanes_with_very_different_step_counts_each_match_their_single_solve(ring):
    # Constants of A <-> B -> C spread over four decades, so some lanes need several times the steps of others and
    # run outputs ahead of the slowest (up to `ring` of them); output times include a repeat (copied, not stepped
    # to). Every lane equals its own single Rodas4 solve (same steps; the LU differs only in round-off).
    system = compile_network(parse_network(["A <-> B; kf=1, kr=1", "B -> C; kf=1"]))
    rng = np.random.default_rng(2)
    ks = system.k[None, :] * 10 ** rng.uniform(-2, 2, size=(12, len(system.k)))
    x0s = np.tile([1.0, 0.0, 0.0], (12, 1))
    ts = jnp.asarray([0.0, 0.1, 0.5, 0.5, 1.0, 2.0, 5.0, 10.0])
    run = jax.jit(lanes_solver(system.rhs, rtol=1e-8, atol=1e-12, max_steps=100_000, ring=ring, stats=True))
    ys, ok, attempts, _ = run(jnp.asarray(x0s), jnp.asarray(ks), ts)
    assert bool(np.all(np.asarray(ok))) and np.ptp(np.asarray(attempts)) > 20
    single = make_ode_solver(system, solver="Rodas4", rtol=1e-8, atol=1e-12)
    loop = np.stack([np.asarray(single(jnp.asarray(x), jnp.asarray(k), ts)[0]) for x, k in zip(x0s, ks)])
    np.testing.assert_allclose(np.asarray(ys), loop, rtol=1e-9, atol=1e-14)


def test_a_lane_that_runs_out_of_passes_fails_alone():
    # Lane 0 is slow (k = 1e4: a long stiff transient at tight tolerance), lane 1 fast. With a pass limit between
    # their step counts, lane 1 finishes with every output right (still in the ring when the loop stopped, then
    # written out) and lane 0 reports failure.
    system = compile_network(parse_network(["A <-> B; kf=1, kr=1"]))
    ks = jnp.array([[1e4, 3e3], [1.0, 1.0]])
    x0s = jnp.array([[1.0, 0.0], [1.0, 0.0]])
    ts = jnp.linspace(0.0, 3.0, 4)
    counting = jax.jit(lanes_solver(system.rhs, rtol=1e-10, atol=1e-14, max_steps=100_000, stats=True))
    _, _, attempts, _ = counting(x0s, ks, ts)
    slow, fast = (int(a) for a in np.asarray(attempts))
    assert slow > fast + 10
    limited = jax.jit(lanes_solver(system.rhs, rtol=1e-10, atol=1e-14, max_steps=fast + 5))
    ys, ok = limited(x0s, ks, ts)
    np.testing.assert_array_equal(np.asarray(ok), [False, True])
    single = make_ode_solver(system, solver="Rodas4", rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(np.asarray(ys[1]), np.asarray(single(x0s[1], ks[1], ts)[0]), rtol=1e-9, atol=1e-14)


def test_a_lane_with_nan_constants_fails_without_harming_the_others():
    # Hostile input inside a batch: one lane's rate constant is NaN. Its steps are never finite, its step size
    # collapses and it stops with ok False; the other lanes still equal their single solves.
    system = compile_network(parse_network(["A <-> B; kf=2, kr=1", "B -> C; kf=0.5"]))
    ks = np.tile(system.k, (4, 1)) * np.array([[1.0], [2.0], [0.5], [1.0]])
    ks[3, 0] = np.nan
    x0s = jnp.tile(jnp.array([1.0, 0.0, 0.0]), (4, 1))
    ts = jnp.linspace(0.0, 4.0, 5)
    ys, ok = jax.jit(lanes_solver(system.rhs, rtol=1e-8, atol=1e-12, max_steps=10_000))(x0s, jnp.asarray(ks), ts)
    np.testing.assert_array_equal(np.asarray(ok), [True, True, True, False])
    single = make_ode_solver(system, solver="Rodas4", rtol=1e-8, atol=1e-12)
    for lane in range(3):
        expected = np.asarray(single(x0s[lane], jnp.asarray(ks[lane]), ts)[0])
        np.testing.assert_allclose(np.asarray(ys[lane]), expected, rtol=1e-9, atol=1e-14)


def test_the_lane_loop_compiles_into_one_function_on_cpu():
    # The speed of the lanes-last program rests on XLA:CPU compiling its step loop whole (tools/_runtime.py raises
    # the byte threshold). A regression would not change any number, only the speed, so check the compiled program.
    from labwright.tools.kinetics._lanes import LANES_COMPILER_OPTIONS

    if jax.default_backend() != "cpu":
        pytest.skip("an XLA:CPU property")
    system = compile_network(parse_network(["A <-> B; kf=2, kr=1", "B -> C; kf=0.5"]))
    run = jax.jit(
        lanes_solver(system.rhs, rtol=1e-8, atol=1e-12, max_steps=1000), compiler_options=LANES_COMPILER_OPTIONS
    )
    x0s, ks = jnp.tile(jnp.array([1.0, 0.0, 0.0]), (64, 1)), jnp.tile(jnp.asarray(system.k), (64, 1))
    assert "xla_cpu_small_call" in run.lower(x0s, ks, jnp.linspace(0.0, 1.0, 3)).compile().as_text()


def test_the_lanes_compiler_options_keep_reductions_out_of_ynnpack():
    # A (8, 8, 64) reduction (32 KiB, the size of a BIOMD0000000010 Jacobian in a 64-lane chunk) goes to a YNNPACK
    # library fusion by default, which would split the step loop into dispatched kernels; LANES_COMPILER_OPTIONS
    # keeps it in XLA's own code.
    from labwright.tools.kinetics._lanes import LANES_COMPILER_OPTIONS

    if jax.default_backend() != "cpu":
        pytest.skip("an XLA:CPU property")

    def loop(y):
        return jax.lax.fori_loop(0, 3, lambda i, y: y - 1e-3 * jnp.sum(y[:, None, :] * y[None, :, :], axis=1), y)

    y = jnp.ones((8, 64))
    default = jax.jit(loop).lower(y).compile().as_text()
    if "ynn_fusion" not in default:
        pytest.skip("this XLA does not use YNNPACK fusions")
    assert "ynn_fusion" not in jax.jit(loop, compiler_options=LANES_COMPILER_OPTIONS).lower(y).compile().as_text()


@pytest.mark.parametrize(("method", "order", "h"), [("Tsit5", 5, 0.4), ("Dopri5", 5, 0.4), ("Dopri8", 8, 1.0)])
def test_explicit_steps_have_at_least_their_published_orders(method, order, h):
    # One step of y' = -y from 1 (against e^(-h)) and of y' = cos t from 0 (against sin h, which tests the nodes c):
    # a method of order p has local error O(h^(p+1)) (Hairer, Nørsett & Wanner, Solving ODEs I, §II.1), so halving
    # h divides it by at least ~2^(p+1) (asserted to within a factor 1.6; on these simple problems some methods do
    # better); the embedded estimate, the error of the order p - 1 method, by at least ~2^p. FSAL: the third output
    # is f at the new point. (Dopri8 from h = 1: below 0.25 its error is round-off.)
    from labwright.tools.kinetics._explicit import explicit_stages, explicit_tableau

    tab = explicit_tableau(method)
    problems = (  # (f(c, y) for a step of size hh from t = 0, y0, exact solution at hh)
        (lambda hh: lambda c, yi: -yi, 1.0, lambda hh: np.exp(-hh)),
        (lambda hh: lambda c, yi: jnp.cos(c * hh) + 0.0 * yi, 0.0, np.sin),
    )
    for f_for, y0, exact in problems:
        out = []
        for hh in (h, h / 2):
            f_at, y = f_for(hh), jnp.full(1, y0)
            y1, est, f1 = explicit_stages(tab, f_at, y, jnp.asarray(hh), f_at(0.0, y))
            np.testing.assert_allclose(np.asarray(f1), np.asarray(f_at(1.0, y1)), rtol=1e-15)
            out.append((abs(float(y1[0]) - exact(hh)), abs(float(est[0]))))
        (e1, est1), (e2, est2) = out
        assert e1 > 1e-15 and e1 / e2 > 2 ** (order + 1) / 1.6
        assert est1 / est2 > 2**order / 1.6


def test_an_explicit_lane_on_a_stiff_network_reports_failure_instead_of_an_answer():
    # Robertson's problem: Dopri5's steps shrink to its stability limit (|h λ| ≲ 3.3 with λ ~ -1e4), so 2,000 passes
    # cover ~1 s of 1e5; every lane must come back with ok False, and the stiff lanes (Rodas4) finish.
    net = parse_network(["A -> B; kf=0.04", "2 B -> B + C; kf=3e7", "B + C -> A + C; kf=1e4"])
    system = compile_network(net)
    x0s = jnp.tile(jnp.array([1.0, 0.0, 0.0]), (3, 1))
    ks = jnp.tile(jnp.asarray(system.k), (3, 1))
    ts = jnp.array([0.0, 1.0, 1e5])
    _, ok = jax.jit(lanes_solver(system.rhs, rtol=1e-6, atol=1e-10, max_steps=2000, method="Dopri5"))(x0s, ks, ts)
    assert not np.any(np.asarray(ok))
    _, ok = jax.jit(lanes_solver(system.rhs, rtol=1e-6, atol=1e-10, max_steps=2000, method="Rodas4"))(x0s, ks, ts)
    assert np.all(np.asarray(ok))


def test_batch_modes_name_the_methods_lanes_can_run():
    from labwright.errors import InvalidInput
    from labwright.tools.kinetics import make_batch_solver

    system = compile_network(parse_network(["A <-> B; kf=1, kr=2"]))
    with pytest.raises(InvalidInput, match="Dopri8") as err:
        make_batch_solver(system, mode="lanes", solver="Kvaerno5")
    assert err.value.field == "mode"
