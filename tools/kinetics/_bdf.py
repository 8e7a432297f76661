"""Variable-order NDF with Jacobian and inverse reuse, on ``lax.while_loop`` (forward solves, tight tolerances).

Why next to the Rosenbrock solvers: a Rosenbrock step needs a fresh Jacobian and a fresh inverse of I/(hγ) − J, n³
work per step, and at tight tolerances the steps are many (BIOMD0000000009, 22 species, rtol 1e-9: 2,400 steps of
~3.5 µs, ~3 µs of it the inverse). A multistep method solves its implicit equation by a simplified Newton iteration
whose matrix I − (h/α_k) J may be old: it is rebuilt only when h or the order changed, and the Jacobian when Newton
fails with an old one, after an error-test failure, or every 50 steps. Between those, a step costs a right-hand side
or two and as many matrix-vector products (what CVODE, inside libRoadRunner, does).

Method: the numerical differentiation formulas (NDF) of orders 1–5 of Klopfenstein as modified by Shampine & Reichelt
(*The MATLAB ODE suite*, SIAM J. Sci. Comput. 18, 1997, §2; ``ode15s``): BDF with a correction κ_k γ_k (y_{n+1} −
y⁽⁰⁾_{n+1}) that buys up to 26 % larger steps at the same error with the same stability (κ = −0.185, −1/9, −0.0823,
−0.0415, 0 for orders 1–5). The history is held as backward differences D (rows 0…k+2) in the quasi-constant step
form: after a change of h by a factor r the differences are re-expressed on the new grid, D ← (R(r) U)ᵀ D, and h
stays fixed for at least k + 1 steps before it may change again; then the order moves by at most one, to whichever
of k − 1, k, k + 1 allows the largest step. Error estimate (k + 1)⁻¹ + κ_k γ_k times the Newton correction; outputs
come from the interpolating polynomial of the differences (no step lands on an output time). SciPy's ``BDF`` (the
same formulas) was read for the bookkeeping; constants as in the paper. Where this differs from SciPy, it follows
CVODE (Hindmarsh et al., ACM TOMS 31, 2005), measured on ``benchmarks/kinetics.py``'s models:

- the Newton iteration may stop after its first correction, judged with the contraction factor measured on earlier
  steps (smoothed as CVODE does, reset with each new Jacobian), where SciPy always takes two;
- the Jacobian is also replaced every ``JACOBIAN_MAX_AGE`` accepted steps and after an error-test failure under an
  old one, so the Newton tolerance can stay at 0.03 of the error tolerance (SciPy tightens it to √rtol). Without
  these refreshes a loose tolerance let a stale Jacobian through: BIOMD0000000009 took 50× the steps.

Together they took BIOMD0000000010 at rtol 1e-10 from 3.6 to 1.8 ms (0.49 µs per attempt; 3,673 steps with 106
Jacobians and 673 inverses) and BIOMD0000000009 from 2.6 to 1.7 ms (1,055 steps, 24 Jacobians, 200 inverses;
Rodas5P needs 10.6 ms for that accuracy), at the same or slightly larger errors.

XLA:CPU compiles the step loop into one function only if it holds no matrix-matrix ``dot``, LAPACK call or scatter
(its small-loop pass excludes them; ``tools/_runtime.py``): with the two 6 × 6 products of a step change written as
``dot`` a BIOMD0000000010 attempt took 9 µs instead of 1.1 µs, hence :func:`_product`.

Forward solves only (reverse mode cannot pass ``lax.while_loop``), like :mod:`._rosenbrock`.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ._rosenbrock import _inverse, initial_step, step_alive

MAX_ORDER = 5
NEWTON_MAX_ITERATIONS = 4
JACOBIAN_MAX_AGE = 50  # accepted steps (CVODE's MSBJ)
MIN_FACTOR, MAX_FACTOR = 0.2, 10.0

# Shampine & Reichelt (1997), Table 1: κ_k of the NDFs; γ_k = Σ_{j≤k} 1/j, α_k = (1 − κ_k) γ_k.
KAPPA = np.array([0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0])
GAMMA = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, MAX_ORDER + 1))])
ALPHA = (1.0 - KAPPA) * GAMMA
ERROR_CONSTANT = KAPPA * GAMMA + 1.0 / np.arange(1, MAX_ORDER + 2)

_ROWS = MAX_ORDER + 3  # differences 0…k and the two the order change and the update need


def _rms(x: jax.Array) -> jax.Array:
    return jnp.sqrt(jnp.mean(x**2))


def _cumprod(x: jax.Array) -> jax.Array:
    """Cumulative product along axis 0, written out as a few multiplies (at most six rows here)."""
    out = [x[0]]
    for row in x[1:]:
        out.append(out[-1] * row)
    return jnp.stack(out)


def _product(a: jax.Array, b: jax.Array) -> jax.Array:
    """a @ b for small matrices as a broadcast product and sum: XLA:CPU never compiles a loop holding a matrix-matrix
    ``dot`` whole (it may call Eigen); matrix-vector products are rewritten as such sums by XLA itself."""
    return jnp.sum(a[:, :, None] * b[None, :, :], axis=1)


def _pick(table: np.ndarray, index: jax.Array) -> jax.Array:
    """``table[index]`` for a small constant table, as a select-sum rather than a gather."""
    return jnp.sum(jnp.where(np.arange(table.size) == index, table, 0.0))


def _r_matrix(order: jax.Array, factor: jax.Array) -> jax.Array:
    """R(r) of the quasi-constant step form, (MAX_ORDER + 1, MAX_ORDER + 1), identity beyond row/column ``order``.

    R_0j = 1, R_i0 = 0 below, R_ij = Π_{m≤i} (m − 1 − r j) / m: column j re-expresses difference j on a grid r
    times as wide.
    """
    i = np.arange(1, MAX_ORDER + 1)[:, None]
    j = np.arange(1, MAX_ORDER + 1)[None, :]
    m = jnp.zeros((MAX_ORDER + 1, MAX_ORDER + 1)).at[0].set(1.0).at[1:, 1:].set((i - 1 - factor * j) / i)
    r = _cumprod(m)
    idx = np.arange(MAX_ORDER + 1)
    inside = (idx[:, None] <= order) & (idx[None, :] <= order)
    return jnp.where(inside, r, np.eye(MAX_ORDER + 1))


def _change_step(d: jax.Array, order: jax.Array, factor: jax.Array) -> jax.Array:
    """Differences (rows 0…order of ``d``) re-expressed for a step ``factor`` times the old one."""
    ru = _product(_r_matrix(order, factor), _r_matrix(order, jnp.asarray(1.0)))
    return d.at[: MAX_ORDER + 1].set(_product(ru.T, d[: MAX_ORDER + 1]))


def _interpolate(d: jax.Array, order: jax.Array, t_n: jax.Array, h: jax.Array, t: jax.Array) -> jax.Array:
    """y(t) from the polynomial through the last ``order`` + 1 points, spacing h, ending at t_n: (n,)."""
    j = np.arange(MAX_ORDER)
    # h = 0 only for an empty span (all outputs at t_n), where y(t_n) = D_0.
    x = jnp.where(h > 0.0, (t - (t_n - h * j)) / jnp.where(h > 0.0, h * (1 + j), 1.0), 0.0)
    p = jnp.where(j < order, _cumprod(x), 0.0)
    return d[0] + p @ d[1 : MAX_ORDER + 1]


def ndf_solver(
    rhs: Callable, *, rtol: float, atol: float, max_steps: int, stats: bool = False
) -> Callable[[jax.Array, jax.Array, jax.Array], tuple]:
    """``run(y0, args, ts) -> (ys, ok)`` integrating ``dy/dt = rhs(t, y, args)`` by the NDFs of orders 1–5.

    Parameters
    ----------
    rhs
        ``f(t, y, args)``, as diffrax takes it.
    rtol, atol
        Relative and absolute tolerances (atol in the units of y); the local error of each step, in the RMS norm
        weighted by atol + rtol · |y|, is kept below 1.
    max_steps
        Limit on attempted steps (accepted + rejected + Newton failures); reaching it sets ``ok`` False.
    stats
        Also return (attempted steps, rejected steps, Jacobians, inverses) for benchmarks.

    Returns
    -------
    callable
        ``y0`` (n,), ``args`` (any pytree), ``ts`` (n_t,) increasing with ``ts[0]`` the start time -> ``ys`` (n_t, n)
        and ``ok`` (bool scalar).
    """
    # Newton stops when the distance to the root is below this, in units of the error tolerance: SciPy's value at
    # loose tolerances (it tightens it to √rtol below rtol 1e-3; with the Jacobian kept fresh below, that bought no
    # accuracy and cost 1.5–2× the time at rtol 1e-10).
    newton_tol = max(10 * np.finfo(float).eps / rtol, 0.03)

    def jacobian(t, y, args):
        # Dense jacfwd, not the compressed Jacobian of the Rosenbrock solvers (kinetics/_sparsity.py): the NDF takes a
        # Jacobian every ~50 steps, so that saves nothing at run time, and its three call sites compiled 3 s slower
        # (BIOMD0000000009: 10.9 against 7.9 s cold).
        return jax.jacfwd(lambda yy: rhs(t, yy, args))(y)

    def newton(t_new, y_predict, psi, c, inverse, scale, rate, args):
        """Simplified Newton on y − c f(t, y) − ψ = 0 from y_predict, ``rate`` the contraction factor the last steps
        measured: (converged, iterations, y, d = y − y_predict, contraction factor for the next step)."""

        def iterate(it: int, s):
            # Iteration ``it`` runs only after iterations 0…it−1 ran without converging, so it is a Python int here.
            _, y, d, norm_old, rate, _, _ = s
            f = rhs(t_new, y, args)
            dy = inverse @ (c * f - psi - d)
            norm = _rms(dy / scale)
            failed = ~jnp.all(jnp.isfinite(dy))
            if it > 0:
                measured = norm / norm_old
                rate = jnp.maximum(0.3 * rate, measured)  # smoothed as CVODE does
                failed |= (measured >= 1.0) | (
                    measured ** (NEWTON_MAX_ITERATIONS - it) / (1.0 - measured) * norm > newton_tol
                )
            # Distance to the root ≤ r/(1 − r) · |last correction|; on the first iteration with the carried r.
            converged = ~failed & ((norm == 0.0) | ((rate < 1.0) & (rate / (1.0 - rate) * norm < newton_tol)))
            y, d = jnp.where(failed, y, y + dy), jnp.where(failed, d, d + dy)
            return jnp.asarray(it + 1), y, d, norm, rate, converged, failed

        # Written out, each iteration behind a cond rather than in a nested while loop, so that each knows its index
        # (the divergence test's power has a constant exponent) and a converged step skips the rest.
        s = (jnp.asarray(0), y_predict, jnp.zeros_like(y_predict), jnp.asarray(jnp.inf), rate, jnp.asarray(False),
             jnp.asarray(False))  # fmt: skip
        for it in range(NEWTON_MAX_ITERATIONS):
            s = jax.lax.cond(~s[5] & ~s[6], lambda s, it=it: iterate(it, s), lambda s: s, s)
        it, y, d, _, rate, converged, _ = s
        return converged, it, y, d, rate

    def run(y0: jax.Array, args, ts: jax.Array) -> tuple:
        y0 = jnp.asarray(y0, dtype=float)
        ts = jnp.asarray(ts, dtype=float)
        n = y0.shape[0]
        t0, t_end = ts[0], ts[-1]
        eye = jnp.eye(n, dtype=y0.dtype)
        f0 = rhs(t0, y0, args)
        h0 = initial_step(f0, y0, t_end - t0, rtol, atol)
        d0 = jnp.zeros((_ROWS, n), dtype=y0.dtype).at[0].set(y0).at[1].set(h0 * f0)
        counters = jnp.zeros(4, dtype=int)  # attempts, rejections, Jacobians, inverses
        state = dict(
            t=t0, h=h0, d=d0, order=jnp.asarray(1), equal=jnp.asarray(0), jac=jacobian(t0, y0, args),
            jac_fresh=jnp.asarray(True), age=jnp.asarray(0), redo=jnp.asarray(False), rate=jnp.asarray(1.0),
            inverse=eye, c_inverse=jnp.asarray(jnp.nan),
            counters=counters.at[2].add(1), healthy=jnp.asarray(True),
        )  # fmt: skip

        def body(s):
            t, h, d, order, equal = s["t"], s["h"], s["d"], s["order"], s["equal"]
            # Never step past the last output time (the right-hand side may not be defined beyond it).
            past = t + h > t_end
            h_new = jnp.where(past, t_end - t, h)
            d = jax.lax.cond(past, lambda: _change_step(d, order, h_new / h), lambda: d)
            equal = jnp.where(past, 0, equal)
            h, t_new = h_new, jnp.where(past, t_end, t + h_new)

            # A Jacobian JACOBIAN_MAX_AGE accepted steps old, or one under which the last step failed the error test,
            # is replaced before the step (CVODE's rules): an old one can still let Newton converge, slowly and to a
            # worse point, which the carried contraction factor would not notice.
            aged = (s["age"] >= JACOBIAN_MAX_AGE) | s["redo"]
            jac_now = jax.lax.cond(aged, lambda: jacobian(t, d[0], args), lambda: s["jac"])
            fresh = s["jac_fresh"] | aged
            alpha = _pick(ALPHA, order)
            c = h / alpha
            stale = (c != s["c_inverse"]) | aged
            inverse = jax.lax.cond(stale, lambda: _inverse(eye - c * jac_now, True), lambda: s["inverse"])
            rows = np.arange(_ROWS)
            y_predict = jnp.where((rows <= order)[:, None], d, 0.0).sum(axis=0)
            weights = jnp.where((rows >= 1) & (rows <= order), np.pad(GAMMA, (0, _ROWS - GAMMA.size)), 0.0)
            psi = weights @ d / alpha
            scale = atol + rtol * jnp.abs(y_predict)
            converged, iterations, y_new, dy, rate = newton(t_new, y_predict, psi, c, inverse, scale, s["rate"], args)

            # Newton failed: first with an old Jacobian take a fresh one at this step; with a fresh one halve h.
            refresh = ~converged & ~fresh
            jac = jax.lax.cond(refresh, lambda: jacobian(t_new, y_predict, args), lambda: jac_now)
            halve = ~converged & fresh

            safety = 0.9 * (2 * NEWTON_MAX_ITERATIONS + 1) / (2 * NEWTON_MAX_ITERATIONS + iterations)
            scale = atol + rtol * jnp.abs(y_new)
            error = _rms(_pick(ERROR_CONSTANT, order) * dy / scale)
            reject = converged & ~(error <= 1.0)
            accept = converged & (error <= 1.0)

            # Accepted: new differences (rows order+1, order+2 and the sums below them).
            d_acc = d.at[order + 2].set(dy - d[order + 1]).at[order + 1].set(dy)
            below = jnp.where((rows <= order + 1)[:, None], d_acc, 0.0)
            d_acc = jnp.where((rows <= order)[:, None], _product(np.triu(np.ones((_ROWS, _ROWS))), below), d_acc)

            # After k + 1 equal steps, the order (±1) and step that allow the largest next step.
            equal_acc = equal + 1
            may_change = accept & (equal_acc >= order + 1)

            def new_step():
                # Powers with a traced exponent are costly on XLA:CPU, so they are taken only when h may change.
                e_minus = jnp.where(order > 1, _rms(_pick(ERROR_CONSTANT, order - 1) * d_acc[order] / scale), jnp.inf)
                e_plus = jnp.where(
                    order < MAX_ORDER, _rms(_pick(ERROR_CONSTANT, order + 1) * d_acc[order + 2] / scale), jnp.inf
                )
                factors = jnp.stack([e_minus, error, e_plus]) ** (-1.0 / (order + jnp.arange(3)))
                change = jnp.minimum(MAX_FACTOR, safety * jnp.max(factors))
                shrink = jnp.maximum(MIN_FACTOR, safety * factors[1])
                factor = jnp.where(halve, 0.5, jnp.where(reject, shrink, change))
                return factor, jnp.where(may_change, order + jnp.argmax(factors) - 1, order)

            factor, new_order = jax.lax.cond(may_change | reject | halve, new_step, lambda: (jnp.asarray(1.0), order))
            d_next = jnp.where(accept, d_acc, d)
            d_next = jax.lax.cond(factor != 1.0, lambda: _change_step(d_next, new_order, factor), lambda: d_next)
            h_next = h * factor
            counters = s["counters"] + jnp.stack([1, reject | halve, refresh | aged, stale]).astype(int)
            new_jacobian = refresh | aged
            return dict(
                t=jnp.where(accept, t_new, t), h=h_next, d=d_next, order=new_order,
                equal=jnp.where(factor != 1.0, 0, jnp.where(accept, equal_acc, equal)), jac=jac,
                jac_fresh=jnp.where(accept, False, fresh | refresh), inverse=inverse,
                age=jnp.where(new_jacobian, 0, s["age"] + accept.astype(int)), redo=reject & ~fresh,
                c_inverse=jnp.where(refresh, jnp.nan, c), rate=jnp.where(new_jacobian, 1.0, rate), counters=counters,
                healthy=step_alive(t, h_next) & jnp.isfinite(h_next),
            )  # fmt: skip

        # One while loop per output interval inside a scan, carrying no output array (so XLA:CPU compiles it whole,
        # :mod:`._rosenbrock`); a step may pass several output times, and each is read off the polynomial of the
        # last step (its differences already rescaled to the next h, which leaves the polynomial unchanged).
        def interval(s, target):
            def cond(s):
                return (s["t"] < target) & (s["counters"][0] < max_steps) & s["healthy"]

            s = jax.lax.while_loop(cond, body, s)
            return s, _interpolate(s["d"], s["order"], s["t"], s["h"], target)

        s, ys = jax.lax.scan(interval, state, ts[1:])
        ys = jnp.concatenate([y0[None], ys])
        ok = (s["t"] >= t_end) & jnp.all(jnp.isfinite(ys))
        return (ys, ok, s["counters"]) if stats else (ys, ok)

    return run
