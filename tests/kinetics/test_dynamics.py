"""Deterministic dynamics: ODE vs closed forms, Newton steady state vs an independent root, IFT gradients, fitting."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from labwright.tools.kinetics import (
    compile_network,
    fit_constants,
    make_batch_solver,
    make_ode_solver,
    make_steady_solver,
    parse_network,
    solve_ode,
    solve_steady_state,
)
from scipy.optimize import brentq

# E + S <-> ES -> E + P, with P recycled to S: a closed system with a non-trivial steady state.
MM_RECYCLE = ["E + S <-> ES; kf=100, kr=1", "ES -> E + P; kf=10", "P -> S; kf=0.5"]
E_T, S_T = 0.01, 1.0  # mol/m³


def mm_recycle_steady_P(a=100.0, d=1.0, kcat=10.0, kr=0.5) -> float:
    """Independent steady state: ES = E_T S/(K_M + S) exactly at steady state, kcat·ES = kr·P, S + ES + P = S_T."""
    km = (d + kcat) / a

    def g(s):
        es = E_T * s / (km + s)
        return kcat * es - kr * (S_T - s - es)

    s = brentq(g, 0.0, S_T, xtol=1e-15, rtol=1e-14)
    return S_T - s - E_T * s / (km + s)


def test_reversible_isomerisation_matches_closed_form():
    # A <-> B: A(t) = A_eq + (A0 − A_eq) e^{−(kf+kr)t}, A_eq = kr/(kf+kr) (first-order relaxation, any kinetics text).
    # Kvaerno5 at rtol 1e-8, stepping onto every output time: global error < 5e-8 mol/m³ (measured 3e-9).
    system = compile_network(parse_network(["A <-> B; kf=2, kr=0.5"]))
    ts = np.linspace(0.0, 5.0, 21)
    ys = solve_ode(system, np.array([1.0, 0.0]), ts)
    a_exact = 0.2 + 0.8 * np.exp(-2.5 * ts)
    np.testing.assert_allclose(ys[:, 0], a_exact, atol=5e-8)
    np.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-10)  # conservation A + B


def test_second_order_dimerisation_matches_closed_form():
    # 2 A -> B with rate k A²: dA/dt = −2k A², A(t) = A0/(1 + 2 k A0 t) (units m³/(mol·s)).
    # rtol 1e-8 bounds the local error per step; the global error at the output times measured 2.9e-8 relative, so
    # the test allows 2e-7. (Before the solver stepped onto the output times, cubic Hermite interpolation between
    # long steps gave 1.2e-6.)
    system = compile_network(parse_network(["2 A -> B; kf=3"]))
    ts = np.linspace(0.0, 2.0, 11)
    ys = solve_ode(system, np.array([0.5, 0.0]), ts)
    np.testing.assert_allclose(ys[:, 0], 0.5 / (1 + 2 * 3 * 0.5 * ts), rtol=2e-7)
    np.testing.assert_allclose(ys[:, 0] + 2 * ys[:, 1], 0.5, atol=1e-10)


def test_steady_state_matches_independent_root_and_conservation():
    system = compile_network(parse_network(MM_RECYCLE))
    x, res = solve_steady_state(system, np.array([E_T, S_T, 0.0, 0.0]))
    assert res < 1e-9
    assert x[3] == pytest.approx(mm_recycle_steady_P(), rel=1e-9)
    assert x[0] + x[2] == pytest.approx(E_T, rel=1e-12) and x[1] + x[2] + x[3] == pytest.approx(S_T, rel=1e-12)


def test_steady_state_gradient_matches_finite_differences():
    # Implicit-function-theorem gradient of P* w.r.t. every constant vs central differences (h = 1e-5 relative):
    # agreement to 1e-6 relative; also vs differentiating the independent brentq root in kcat.
    system = compile_network(parse_network(MM_RECYCLE))
    run = make_steady_solver(system)
    x0 = jnp.array([E_T, S_T, 0.0, 0.0])

    def p_star(k):
        return run(x0, k, jnp.asarray(1e4))[0][3]

    k = jnp.asarray(system.k)
    grad = np.asarray(jax.grad(p_star)(k))
    h = 1e-5
    fd = np.array(
        [(p_star(k.at[i].multiply(1 + h)) - p_star(k.at[i].multiply(1 - h))) / (2 * h * k[i]) for i in range(4)]
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    fd_exact = (mm_recycle_steady_P(kcat=10 * (1 + h)) - mm_recycle_steady_P(kcat=10 * (1 - h))) / (2 * h * 10)
    assert grad[2] == pytest.approx(fd_exact, rel=1e-6)
    # Forward mode (jacfwd through the same custom_jvp rule) is exercised by the steady_state tool's sensitivities.


@pytest.mark.slow
def test_fit_recovers_rate_constants_from_noisy_time_course():
    # Data from A <-> B -> C with kf = 2, kr = 0.5, k2 = 0.3 (1/s) plus Gaussian noise σ = 2e-3 mol/m³ (seeded);
    # starting 4× off, L-BFGS on ln k must land within 3 % of the truth (noise-limited; measured < 0.7 %).
    # Tsit5: the problem is not stiff, and the explicit solver compiles fastest.
    truth = compile_network(parse_network(["A <-> B; kf=2, kr=0.5", "B -> C; kf=0.3"]))
    ts = np.linspace(0.25, 15.0, 30)
    x0 = np.array([1.0, 0.0, 0.0])
    ys = solve_ode(truth, x0, np.concatenate([[0.0], ts]))[1:]
    noisy = ys + 2e-3 * np.random.default_rng(0).standard_normal(ys.shape)
    guess = compile_network(parse_network(["A <-> B; kf=0.5, kr=2", "B -> C; kf=1.2"]))
    out = fit_constants(
        guess, x0, ts, {"A": noisy[:, 0], "B": noisy[:, 1], "C": noisy[:, 2]}, solver="Tsit5", rtol=1e-7, atol=1e-10
    )
    assert out.converged
    np.testing.assert_allclose(out.k, [2.0, 0.5, 0.3], rtol=0.03)
    assert out.loss < 1e-3 * out.initial_loss and out.r_squared > 0.999


# Robertson's stiff autocatalytic kinetics (Robertson 1966; Hairer & Wanner, Solving ODEs II, §IV.1, "ROBER" of the
# Bari/CWI IVP test set): A -> B (0.04 1/s), 2 B -> B + C (3e7), B + C -> A + C (1e4). Reference values from the
# test set (t = 1e11 s) and from Hairer & Wanner (t = 40 s); reproduced here by scipy Radau at rtol 1e-12.
ROBERTSON = ["A -> B; kf=0.04", "2 B -> B + C; kf=3e7", "B + C -> A + C; kf=1e4"]
ROBERTSON_REF = {
    40.0: [0.7158270687193587, 9.185534764557e-06, 0.2841637457458597],
    1e11: [0.2083340149701255e-07, 0.8333360770334713e-13, 0.9999999791665050],
}


@pytest.mark.parametrize("solver", ["Kvaerno5", "Rodas4", "NDF"])
def test_stiff_robertson_matches_reference_solution(solver):
    # Eigenvalues span ~1e-2 to ~1e4 1/s over 0…1e11 s: an explicit method would need ~1e15 steps. At rtol 1e-8,
    # atol 1e-14 mol/m³: A and C within 1e-5 relative, the tiny intermediate B (down to 8e-14) within 1e-4
    # relative; measured ≤ 2.1e-6 for all three with Kvaerno5.
    system = compile_network(parse_network(ROBERTSON))
    ts = np.array([0.0, 40.0, 1e11])
    ys = solve_ode(system, np.array([1.0, 0.0, 0.0]), ts, rtol=1e-8, atol=1e-14, solver=solver)
    for t, row in zip(ts[1:], ys[1:]):
        ref = ROBERTSON_REF[t]
        np.testing.assert_allclose(row[[0, 2]], [ref[0], ref[2]], rtol=1e-5)
        assert row[1] == pytest.approx(ref[1], rel=1e-4)
    np.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-12)  # A + B + C is the conservation law


@pytest.mark.slow
def test_time_course_gradient_matches_closed_form_sensitivity():
    # A <-> B from A0 = 1: A(t) = r + (1 − r) e^{−s t}, s = kf + kr, r = kr/s. The exact sensitivities ∂A(t)/∂k come
    # from differentiating this closed form (no solver involved); reverse mode through Kvaerno5 (discretise-then-
    # optimise) must agree to 1e-5 relative (the forward global error is ~2e-7).
    system = compile_network(parse_network(["A <-> B; kf=2, kr=0.5"]))
    run = make_ode_solver(system)
    ts = jnp.linspace(0.0, 2.0, 5)
    x0 = jnp.array([1.0, 0.0])

    def a_at_1s(k):
        return run(x0, k, ts)[0][2, 0]  # A at t = 1 s

    def closed(k):
        s, r = k[0] + k[1], k[1] / (k[0] + k[1])
        return r + (1 - r) * jnp.exp(-s * 1.0)

    k = jnp.array([2.0, 0.5])
    np.testing.assert_allclose(np.asarray(jax.grad(a_at_1s)(k)), np.asarray(jax.grad(closed)(k)), rtol=1e-5)


def test_parallel_reversible_and_irreversible_routes_reach_the_analytic_steady_state():
    # A ⇌ B (k1, k−1) with a parallel A → B (k2): dA/dt = −(k1 + k2) A + k−1 B, A + B = T conserved, so
    # A(t) = A∞ + (A0 − A∞) exp(−(k1 + k2 + k−1) t) with A∞ = k−1 T / (k1 + k2 + k−1) (linear ODE, closed form).
    k1, km1, k2, a0, b0 = 2.0, 0.5, 1.5, 1.0, 0.25
    net = parse_network([f"A <-> B; kf={k1}, kr={km1}", f"A -> B; kf={k2}"])
    system = compile_network(net)
    ts = np.linspace(0.0, 3.0, 13)
    ys = solve_ode(system, np.array([a0, b0]), ts, rtol=1e-10, atol=1e-13)
    lam, total = k1 + k2 + km1, a0 + b0
    a_inf = km1 * total / lam
    np.testing.assert_allclose(ys[:, 0], a_inf + (a0 - a_inf) * np.exp(-lam * ts), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(ys.sum(axis=1), total, rtol=1e-10)


@pytest.mark.parametrize("solver,rtol,atol,sens_rtol", [("Rodas4", 1e-9, 1e-13, 1e-6), ("NDF", 1e-10, 1e-14, 1e-5)])
def test_second_order_decay_and_forward_mode_sensitivity(solver, rtol, atol, sens_rtol):
    # 2 A -> B: A(t) = A0/(1 + 2 k A0 t); ∂A/∂k = −2 A0² t/(1 + 2 k A0 t)² (closed form). RODAS4 (order 4) at rtol
    # 1e-9, the NDF at 1e-10: values within 1e-7 relative; forward mode through the while loop (jacfwd) within 1e-6
    # (Rodas4) and 1e-5 (NDF) relative.
    system = compile_network(parse_network(["2 A -> B; kf=3"]))
    run = make_ode_solver(system, solver=solver, rtol=rtol, atol=atol)
    ts = jnp.linspace(0.0, 2.0, 11)
    x0 = jnp.array([0.5, 0.0])
    ys, ok = run(x0, jnp.array([3.0]), ts)
    assert bool(ok)
    np.testing.assert_allclose(np.asarray(ys[:, 0]), 0.5 / (1 + 3.0 * ts), rtol=1e-7)
    sens = jax.jacfwd(lambda k: run(x0, k, ts)[0][:, 0])(jnp.array([3.0]))[:, 0]
    np.testing.assert_allclose(np.asarray(sens), -2 * 0.25 * ts / (1 + 3.0 * ts) ** 2, rtol=sens_rtol, atol=1e-12)


@pytest.mark.parametrize(
    "mode,solver",
    [("loop", "Rodas4"), ("vmap", "Rodas4"), ("lanes", "Rodas4"), ("map", "Rodas4"), ("auto", "Rodas4"),
     ("vmap", "NDF"), ("auto", "NDF")],
)  # fmt: skip
def test_batch_solves_equal_a_loop_of_single_solves(mode, solver):
    # Lanes differ in initial state *and* constants, so their adaptive step sequences differ; each lane of a batch
    # must reproduce its own single solve (loop: the same program per lane, so exactly; vmap: batched
    # linear algebra rounds differently, and the lock-step loop only masks finished lanes).
    system = compile_network(parse_network(MM_RECYCLE))
    rng = np.random.default_rng(3)
    n = 11
    x0s = np.column_stack([np.full(n, E_T), rng.uniform(0.2, 1.0, n), np.zeros(n), np.zeros(n)])  # E, S, ES, P
    ks = system.k[None, :] * 10 ** rng.uniform(-0.5, 0.5, size=(n, len(system.k)))
    ts = jnp.linspace(0.0, 5.0, 6)
    # chunk = 2: auto solves lanes 0-1 lanes-last, timed against single solves of lanes 2-5 (the probe), and the
    # rest, lane 10 in a padded chunk, the cheaper way on two threads.
    # (The NDF has no lanes program: under vmap its conds run as selects, and auto maps it in chunks.)
    batch = make_batch_solver(system, mode=mode, chunk=2, threads=2, solver=solver, rtol=1e-8, atol=1e-12)
    ys, ok = batch(jnp.asarray(x0s), jnp.asarray(ks), ts)
    single = make_ode_solver(system, solver=solver, rtol=1e-8, atol=1e-12)
    loop = np.stack([np.asarray(single(jnp.asarray(x), jnp.asarray(k), ts)[0]) for x, k in zip(x0s, ks)])
    assert bool(np.all(np.asarray(ok)))
    np.testing.assert_allclose(np.asarray(ys), loop, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("mode", ["lanes", "map"])
def test_folded_constants_give_each_lane_its_single_solve(mode):
    # fold_constants: columns of ks equal in every lane are compiled in. Three cases in one batch solver: every
    # constant shared (only the initial states differ: all columns folded), one constant varied, and a NaN in an
    # otherwise shared column (NaN never equals itself, so that column stays an input; its lane fails alone).
    system = compile_network(parse_network(MM_RECYCLE))
    rng = np.random.default_rng(8)
    n = 5
    x0s = np.column_stack([np.full(n, E_T), rng.uniform(0.2, 1.0, n), np.zeros(n), np.zeros(n)])
    ts = jnp.linspace(0.0, 5.0, 6)
    options = {"solver": "Rodas4", "rtol": 1e-8, "atol": 1e-12}
    batch = make_batch_solver(system, mode=mode, chunk=2, threads=2, fold_constants=True, **options)
    single = make_ode_solver(system, **options)
    shared = np.repeat(system.k[None, :], n, axis=0)
    varied = shared.copy()
    varied[:, 1] *= 10 ** rng.uniform(-0.5, 0.5, n)
    poisoned = shared.copy()
    poisoned[3, 2] = np.nan
    for ks in (shared, varied, poisoned):
        ys, ok = batch(jnp.asarray(x0s), jnp.asarray(ks), ts)
        fine = np.isfinite(ks).all(axis=1)
        np.testing.assert_array_equal(np.asarray(ok), fine)
        for lane in np.flatnonzero(fine):
            expected = np.asarray(single(jnp.asarray(x0s[lane]), jnp.asarray(ks[lane]), ts)[0])
            np.testing.assert_allclose(np.asarray(ys[lane]), expected, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"mode": "fast"}, "mode"),
        ({"chunk": 0}, "chunk"),
        ({"threads": 0}, "threads"),
        ({"mode": "lanes", "solver": "Kvaerno5"}, "mode"),
        ({"mode": "lanes", "solver": "NDF"}, "mode"),
    ],
)
def test_batch_solver_options_are_checked(kwargs, field):
    from labwright.errors import InvalidInput

    system = compile_network(parse_network(MM_RECYCLE))
    with pytest.raises(InvalidInput) as info:
        make_batch_solver(system, **{"solver": "Rodas4", **kwargs})
    assert info.value.field == field
