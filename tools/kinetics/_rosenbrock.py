"""Rodas4 and Rodas5P: stiff Rosenbrock solvers on ``lax.while_loop`` (forward solves, batches, forward-mode AD).

Why a hand-written solver next to diffrax: an ESDIRK method (Kvaerno5) solves a nonlinear system per stage by Newton
iteration with a fresh Jacobian and LU each time, inside nested loops whose bookkeeping dominates on small networks
(2–4× slower than LSODA on the 20-species benchmark network). A Rosenbrock method is linearly implicit: one
Jacobian (compressed forward mode over its structural pattern, :mod:`._sparsity`; f and ∂f/∂t from one ``jax.jvp``
in t) and one LU factorisation per step, no iteration and
no branches, so a step is a short straight-line XLA program and ``vmap`` over lanes wastes nothing on divergent Newton
iterations.

Speed on XLA:CPU is set less by arithmetic than by how many separately dispatched kernels a step costs, and three
choices here follow from measurements on BIOMD0000000010 (8 species, 2-core machine, warm medians):

- the loop over steps runs once per output interval inside a ``lax.scan`` over the intervals, so it carries only
  (t, y, h, counters) and not the (n_t, n) output array. XLA:CPU compiles a loop whose estimated memory traffic is
  under a threshold into one function (``tools/_runtime.py`` raises that threshold); otherwise each of the ~120
  fused kernels of a step is a task of its own, and with any buffer over 512 bytes (the output array) they go
  through the thread pool: 16 µs per step against 4.6 µs with small buffers and 1.2 µs compiled whole;
- the inverse of I/(hγ) − J is this module's own (:func:`_inverse`, Gauss–Jordan written pivot by pivot as array
  operations, without row exchanges unless a pivot fails the threshold test) rather than LAPACK's, because a loop
  holding a LAPACK call is never compiled whole. Above ``_UNROLLED_LU_MAX`` unknowns it falls back to LAPACK
  (compile time);
- under ``jax.vmap`` (``lanes=True``, the accelerator batch of :func:`._ode.make_batch_solver`) the one-loop layout
  with the output array and LAPACK is faster (1,000 parameter sets: 2.2 s against 2.9 s with the own LU and 4.5 s
  with per-interval loops, which make every lane wait at every output time for the slowest). Batches on CPU use
  :mod:`._lanes` instead (lanes stored last, 0.3 ms per lane). For single solves, the LU as a
  ``fori_loop`` over pivots (full-size masked updates) compiled in 2.7 s instead of 6.7 s on the 20-species network
  but solved 1.5× slower (4.5 against 3.0 ms), so the pivots stay written out; the LU unrolled to scalars compiled
  too slowly (1.5 s at n = 8, 14 s at n = 12).

Method: RODAS4 of Hairer & Wanner (Solving ODEs II, 2nd ed., Springer 1996, §IV.7; coefficients of their ``rodas.f``,
as tabulated in OrdinaryDiffEq.jl's ``rosenbrock_tableaus.jl``): 6 stages, order 4, embedded order 3, L-stable and
stiffly accurate. With γ = 1/4, for stages i = 1…6

    (I/(hγ) − J) k_i = f(t + c_i h, y + Σ_j a_ij k_j) + Σ_j (C_ij / h) k_j + h d_i ∂f/∂t,

    y₁ = y + Σ_{j<6} a_6j k_j + k_6,   error estimate k_6.

Steps land on every output time (as in :mod:`._ode`), and the step size follows the usual controller
h ← h · clip(0.9 · err^(−1/4), 0.2, 6) with err the RMS of k_6 / (atol + rtol · max(|y|, |y₁|)).

Differentiation: forward mode (``jax.jvp``/``jax.jacfwd``) works through the loops; reverse mode does not
(``lax.while_loop`` has no transpose), so gradients for fits use the diffrax solvers of :mod:`._ode`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ._sparsity import compressed_jacobian, dense_rows

__all__ = ["rosenbrock_solver", "TABLEAUS", "Tableau"]


@dataclass(frozen=True)
class Tableau:
    """A stiffly accurate Rosenbrock method: s stages, γ, A and C (s × (s−1), zero above the diagonal), c and d (s,),
    and the exponent of the step-size controller (−1 / (embedded order + 1)). The last two rows of A end in 1: stage
    s evaluates f at y + Σ_j a_sj k_j, and y₁ = that point + k_s, with k_s the error estimate."""

    gamma: float
    a: np.ndarray
    C: np.ndarray
    c: np.ndarray
    d: np.ndarray
    exponent: float

    @property
    def stages(self) -> int:
        return len(self.c)


def _lower(rows: list[list[float]], stages: int) -> np.ndarray:
    """Strictly lower-triangular coefficients, shape (stages, stages − 1), from their rows (missing rows zero)."""
    out = np.zeros((stages, stages - 1))
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def _stiffly_accurate(rows: list[list[float]], stages: int) -> np.ndarray:
    # Rows given up to the first stage at c = 1; each later stage adds the previous stage's k with weight 1.
    a = _lower(rows, stages)
    for i in range(len(rows), stages):
        a[i] = a[i - 1]
        a[i, i - 1] = 1.0
    return a


# RODAS4 (Hairer & Wanner II §IV.7, ``rodas.f``): order 4, embedded order 3.
RODAS4 = Tableau(
    gamma=0.25,
    a=_stiffly_accurate(
        [
            [],
            [1.544],
            [0.9466785280815826, 0.2557011698983284],
            [3.314825187068521, 2.896124015972201, 0.9986419139977817],
            [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895],
        ],
        6,
    ),
    C=_lower(
        [
            [],
            [-5.6688],
            [-2.430093356833875, -0.2063599157091915],
            [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
            [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
            [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
        ],
        6,
    ),
    c=np.array([0.0, 0.386, 0.21, 0.63, 1.0, 1.0]),
    d=np.array([0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0]),
    exponent=-1.0 / 4.0,
)

# Rodas5P (Steinebach, "Construction of Rosenbrock–Wanner method Rodas5P and numerical benchmarks within the Julia
# Differential Equations package", BIT Numer. Math. 63, 27 (2023); coefficients as tabulated in OrdinaryDiffEq.jl):
# 8 stages, order 5, embedded order 4, stiffly accurate.
RODAS5P = Tableau(
    gamma=0.21193756319429014,
    a=_stiffly_accurate(
        [
            [],
            [3.0],
            [2.849394379747939, 0.45842242204463923],
            [-6.954028509809101, 2.489845061869568, -10.358996098473584],
            [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641],
            [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946],
        ],
        8,
    ),
    C=_lower(
        [
            [],
            [-14.155112264123755],
            [-17.97296035885952, -2.859693295451294],
            [147.12150275711716, -1.41221402718213, 71.68940251302358],
            [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306],
            [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471],
            [
                30.91273214028599,
                -3.1208243349937974,
                77.79954646070892,
                34.28646028294783,
                -19.097331116725623,
                -28.087943162872662,
            ],
            [
                37.80277123390563,
                -3.2571969029072276,
                112.26918849496327,
                66.9347231244047,
                -40.06618937091002,
                -54.66780262877968,
                -9.48861652309627,
            ],
        ],
        8,
    ),
    c=np.array([0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664, 1.0, 1.0, 1.0]),
    d=np.array(
        [0.21193756319429014, -0.42387512638858027, -0.3384627126235924, 1.8046452872882734, 2.325825639765069, 0, 0, 0]
    ),
    exponent=-1.0 / 5.0,
)

TABLEAUS = {"Rodas4": RODAS4, "Rodas5P": RODAS5P}


# Up to this many unknowns the inverse is written out pivot by pivot as array operations (no LAPACK call, so XLA:CPU
# can compile the whole step loop into one function; see the module notes); above it the program grows too large to
# compile quickly, so LAPACK does the factorisation.
_UNROLLED_LU_MAX = 24

# τ of the threshold pivoting test |a_kk| ≥ τ · max_{i>k} |a_ik| that lets an elimination skip row exchanges
# (UMFPACK's default relative pivot tolerance; :func:`_gauss_jordan`, :mod:`._lanes`).
PIVOT_TOLERANCE = 0.1


def _inverse(m: jax.Array, unrolled: bool) -> jax.Array:
    """m⁻¹ for an (n, n) matrix by Gauss–Jordan elimination (``unrolled``), in place and without row exchanges where
    every pivot passes the threshold test, with partial pivoting otherwise; by LAPACK if not ``unrolled``.

    A 22 × 22 inverse (2-core machine, in a loop compiled whole): 2.1 µs in place without exchanges (2.8 µs with the
    augmented [m | I] elimination this module used before; 8 × 8: 0.25 against 0.35 µs), 3.6 µs with partial
    pivoting; the pivot search and the row swaps by dynamic slices are what costs.
    """
    n = m.shape[0]
    if not unrolled or n > _UNROLLED_LU_MAX:
        return jsl.lu_solve(jsl.lu_factor(m), jnp.eye(n, dtype=m.dtype))
    inverse, safe = _gauss_jordan_in_place(m)
    return jax.lax.cond(safe, lambda: inverse, lambda: _gauss_jordan(m, pivoting=True)[0])


def _gauss_jordan_in_place(m: jax.Array, tolerance: float = PIVOT_TOLERANCE) -> tuple[jax.Array, jax.Array]:
    """(m⁻¹ by Gauss–Jordan elimination in place without row exchanges, whether every pivot passed the threshold
    test |a_kk| ≥ τ · max_{i>k} |a_ik|).

    Eliminating column k leaves it a unit vector, so its storage holds column k of the inverse instead (the (n, n)
    array is half the augmented [m | I], and each pivot is one pass over it): with p = a_kk, c = a[:, k] and
    r = a[k] / p, row k becomes r with 1/p at k, column k becomes −c/p, and every other entry a_ij − c_i r_j. The row
    and column are written by selects rather than folded into one rank-1 update, which would compute 1/p as
    p − (p − 1)(p + 1)/p and lose a factor |p|² of precision (p ~ 1/(hγ) is large). Test as in
    :func:`_gauss_jordan`; the columns at elimination are those of the augmented form, so the outcome is the same.
    """
    n = m.shape[0]
    columns = []
    for k in range(n):
        e = np.arange(n) == k
        c = m[:, k]
        columns.append(c)
        inv_p = 1.0 / m[k, k]
        r = jnp.where(e, 0.0, m[k] * inv_p)
        u = jnp.where(e, 0.0, c)
        row = jnp.where(e, inv_p, r)
        m = jnp.where(e[:, None], row[None, :], jnp.where(e[None, :], -u[:, None] * inv_p, m - u[:, None] * r[None, :]))
    return m, _threshold_test(columns, tolerance)


def _gauss_jordan(
    m: jax.Array, pivoting: bool = False, tolerance: float = PIVOT_TOLERANCE
) -> tuple[jax.Array, jax.Array]:
    """(m⁻¹ by Gauss–Jordan elimination of [m | I], whether every pivot passed the threshold test).

    Without ``pivoting`` the rows stay in place and each pivot is tested as in threshold partial pivoting,
    |a_kk| ≥ τ · max_{i>k} |a_ik| with τ = 0.1 (UMFPACK's default relative pivot tolerance; Duff, Erisman & Reid,
    *Direct Methods for Sparse Matrices*, §5.4), which bounds element growth by (1 + 1/τ) per pivot as partial
    pivoting does by 2; eliminating the rows above a pivot too changes no pivot, so the test is the LU's. With
    ``pivoting`` each pivot is the largest remaining entry of its column (rows swapped by dynamic slices), and the
    test is passed by construction.
    """
    n = m.shape[0]
    x = jnp.concatenate([m, jnp.eye(n, dtype=m.dtype)], axis=1)
    columns = []  # column k as it stood when eliminated, for the test
    for k in range(n):
        if pivoting:
            p = k + jnp.argmax(jnp.abs(x[k:, k]))
            row_k, row_p = x[k], x[p]
            x = x.at[p].set(row_k).at[k].set(row_p)
        columns.append(x[:, k])
        row = x[k] / x[k, k]
        x = (x - x[:, k][:, None] * row[None, :]).at[k].set(row)
    return x[:, n:], _threshold_test(columns, tolerance)


def _threshold_test(columns: list[jax.Array], tolerance: float) -> jax.Array:
    """Whether |a_kk| ≥ τ · max_{i>k} |a_ik| for every k, ``columns[k]`` being column k when it was eliminated."""
    # One reduction over all pivots after the loop rather than one per pivot (20 × 20: 2.5 against 2.9 µs).
    c = jnp.abs(jnp.stack(columns, axis=1))  # c[i, k] = |a_ik| at the elimination of column k
    n = c.shape[0]
    below = jnp.max(jnp.where(jnp.tri(n, k=-1, dtype=bool), c, 0.0), axis=0)
    return jnp.all(jnp.diagonal(c) >= tolerance * below)


def _stages(
    tab: Tableau, f: Callable, t: jax.Array, y: jax.Array, h: jax.Array, args, unrolled: bool
) -> tuple[jax.Array, jax.Array]:
    """One step of size h: (y₁, error estimate)."""
    n = y.shape[0]
    # ∂f/∂y by forward mode over groups of columns that share no row (dense jacfwd evaluated all n² entries in full:
    # a Rodas4 solve of BIOMD0000000010 took 0.84 against 0.63 ms), f and ∂f/∂t by one more forward pass in t. One
    # jacfwd over both arguments (n + 1 tangents, f as its auxiliary output) compiled to a program 6× slower on
    # XLA:CPU (2.2 against 0.34 µs for BIOMD0000000010), as it assembles the mixed tangents from pieces.
    _, entries = compressed_jacobian(lambda yy, tt, aa: f(tt, yy, aa), y, t, args)
    jac = dense_rows(entries(y, (t, args)), y)
    fy, dfdt = jax.jvp(lambda tt: f(tt, y, args), (t,), (jnp.ones_like(t),))
    # One inverse per step (Gauss–Jordan): the stage solves become matrix-vector products.
    inverse = _inverse(jnp.eye(n, dtype=y.dtype) / (h * tab.gamma) - jac, unrolled)
    return stage_sum(tab, lambda c, yi: f(t + c * h, yi, args), y, h, fy, dfdt, lambda r: inverse @ r)


def stage_sum(
    tab: Tableau, f_at: Callable, y: jax.Array, h: jax.Array, fy: jax.Array, dfdt: jax.Array, solve: Callable
) -> tuple[jax.Array, jax.Array]:
    """The stages of one step given f(t, y), ∂f/∂t and a solver of (I/(hγ) − J) k = r: (y₁, error estimate).

    ``f_at(c, yi)`` is f at (t + c h, yi). Shapes are the state's: (n,) for one solve, (n, L) for lanes stored last
    (then h is (L,) and broadcasts over the state's first axis).
    """
    ks: list[jax.Array] = []
    inv_h = 1.0 / h  # one division per step, not one per stage coefficient
    for i in range(tab.stages):
        if i == 0:
            rhs = fy
        else:
            yi = y + sum(tab.a[i, j] * ks[j] for j in range(i) if tab.a[i, j] != 0.0)
            rhs = f_at(tab.c[i], yi) + sum((tab.C[i, j] * inv_h) * ks[j] for j in range(i))
        if tab.d[i] != 0.0:
            rhs = rhs + (h * tab.d[i]) * dfdt
        ks.append(solve(rhs))
    last = tab.stages - 1
    y1 = y + sum(tab.a[last, j] * ks[j] for j in range(last)) + ks[last]
    return y1, ks[last]


def error_norm(e: jax.Array, y0: jax.Array, y1: jax.Array, rtol: float, atol: float) -> jax.Array:
    """RMS over the state (axis 0) of e / (atol + rtol · max(|y0|, |y1|)): a scalar, or (L,) for lanes last."""
    scale = atol + rtol * jnp.maximum(jnp.abs(y0), jnp.abs(y1))
    return jnp.sqrt(jnp.mean((e / scale) ** 2, axis=0))


def initial_step(f0: jax.Array, y0: jax.Array, span: jax.Array, rtol: float, atol: float) -> jax.Array:
    """Hairer & Wanner I, §II.4: 1 % of |y| / |f| in the error norm (1e-6 if either is tiny), capped by the span."""
    d0, d1 = error_norm(y0, y0, y0, rtol, atol), error_norm(f0, y0, y0, rtol, atol)
    h0 = jnp.where((d0 > 1e-5) & (d1 > 1e-5), 0.01 * d0 / jnp.maximum(d1, 1e-300), 1e-6)
    return jnp.minimum(h0, span)


def step_alive(t: jax.Array, h_next: jax.Array) -> jax.Array:
    """False once the step size has collapsed below round-off of t (the solve then stops and reports failure)."""
    return h_next > 1e-14 * jnp.maximum(jnp.abs(t), 1.0)


def controller(
    tab: Tableau, e: jax.Array, y1_finite: jax.Array, lands: jax.Array, h_eff: jax.Array, h: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Accept (error norm ≤ 1 and finite) and the next step size, h ← h · clip(0.9 · e^exponent, 0.2, 6)."""
    finite = jnp.isfinite(e) & y1_finite
    accept = finite & (e <= 1.0)
    factor = jnp.where(finite, jnp.clip(0.9 * jnp.maximum(e, 1e-10) ** tab.exponent, 0.2, 6.0), 0.2)
    h_next = h_eff * factor
    # A step cut short to land on an output time says nothing about the step the solution allows.
    return accept, jnp.where(accept & lands & (h_eff < h), jnp.maximum(h_next, h), h_next)


def attempt_step(
    tab: Tableau,
    step: Callable,
    t: jax.Array,
    y: jax.Array,
    h: jax.Array,
    target: jax.Array,
    rtol: float,
    atol: float,
    stepping: jax.Array | bool = True,
) -> tuple:
    """One step towards ``target``, cut short to land on it: (t, y, h_next, accepted, landed, extra).

    ``step(h_eff) -> (y₁, error estimate, *extra)``; ``extra`` (a tuple, as the step returned it) holds what else
    the step computed at y₁, e.g. an explicit method's f(y₁). Shapes as the state's (:func:`stage_sum`); for lanes,
    those not ``stepping`` take a unit step whose result is dropped, and are never accepted. ``tab`` needs only
    ``exponent``.
    """
    lands = t + h >= target - 1e-12 * jnp.abs(target)
    h_eff = jnp.where(stepping, jnp.where(lands, target - t, h), 1.0)
    y1, err, *extra = step(h_eff)
    finite = jnp.all(jnp.isfinite(y1), axis=0)
    accept, h_next = controller(tab, error_norm(err, y, y1, rtol, atol), finite, lands, h_eff, h)
    accept = accept & stepping
    t_new = jnp.where(accept, jnp.where(lands, target, t + h_eff), t)
    return t_new, jnp.where(accept[None], y1, y), h_next, accept, accept & lands, tuple(extra)


def rosenbrock_solver(
    rhs: Callable,
    *,
    rtol: float,
    atol: float,
    max_steps: int,
    stats: bool = False,
    lanes: bool = False,
    method: str = "Rodas4",
) -> Callable[[jax.Array, jax.Array, jax.Array], tuple]:
    """``run(y0, args, ts) -> (ys, ok)`` integrating ``dy/dt = rhs(t, y, args)`` by RODAS4 or Rodas5P (not jitted).

    Parameters
    ----------
    rhs
        ``f(t, y, args)``, as diffrax takes it.
    rtol, atol
        Relative and absolute tolerances of the error controller (atol in the units of y).
    max_steps
        Limit on attempted steps (accepted + rejected); reaching it sets ``ok`` False.
    stats
        Also return the numbers of attempted and rejected steps (for benchmarks).
    lanes
        Build the program for ``jax.vmap`` over many lanes: one loop carrying every output row (a lane that has
        reached an output time does not wait there for the others) and LAPACK for the LU, both measured faster
        under vmap. Default: one short loop per output interval and the unrolled LU (fastest single solves).
    method
        ``"Rodas4"`` or ``"Rodas5P"`` (:data:`TABLEAUS`): Rodas5P's two extra stages buy order 5, fewer steps at
        tight tolerances.

    Returns
    -------
    callable
        ``y0`` (n,), ``args`` (any pytree), ``ts`` (n_t,) increasing with ``ts[0]`` the start time -> ``ys`` (n_t, n)
        and ``ok`` (bool scalar).
    """

    tab = TABLEAUS[method]

    def attempt(t, y, h, target, args):
        return attempt_step(
            tab, lambda h_eff: _stages(tab, rhs, t, y, h_eff, args, not lanes), t, y, h, target, rtol, atol
        )

    def start(y0, args, ts):
        return initial_step(rhs(ts[0], y0, args), y0, ts[-1] - ts[0], rtol, atol)

    def run_intervals(y0, args, ts):
        # One while loop per output interval inside a scan over the intervals: the loop then carries only the
        # state (no (n_t, n) output array), which lets XLA:CPU compile it into one function (module notes).
        def interval(carry, target):
            def cond(s):
                t, _, _, steps, healthy, _ = s
                return (t < target) & (steps < max_steps) & healthy

            def body(s):
                t, y, h, steps, _, rejected = s
                t_new, y_new, h_next, accept, _, _ = attempt(t, y, h, target, args)
                return t_new, y_new, h_next, steps + 1, step_alive(t, h_next), rejected + (~accept)

            carry = jax.lax.while_loop(cond, body, carry)
            return carry, carry[1]

        carry = (ts[0], y0, start(y0, args, ts), jnp.asarray(0), jnp.asarray(True), jnp.asarray(0))
        (t, _, _, steps, _, rejected), ys = jax.lax.scan(interval, carry, ts[1:])
        ys = jnp.concatenate([y0[None], ys])
        return ys, (t >= ts[-1]) & jnp.all(jnp.isfinite(ys)), steps, rejected

    def run_lanes(y0, args, ts):
        ys = jnp.zeros((ts.shape[0], y0.shape[0]), dtype=y0.dtype).at[0].set(y0)
        state = (ts[0], y0, start(y0, args, ts), jnp.asarray(1), ys, jnp.asarray(0), jnp.asarray(True), jnp.asarray(0))

        def cond(s):
            _, _, _, i_out, _, steps, healthy, _ = s
            return (i_out < ts.shape[0]) & (steps < max_steps) & healthy

        def body(s):
            t, y, h, i_out, ys, steps, _, rejected = s
            target = ts[i_out]
            # An output time already reached (repeated, as where an SBML event splits the span) is copied, not
            # stepped to: a zero-length step would shrink h to 0 and end the loop.
            reached = target <= t
            t_new, y_new, h_next, accept, hit, _ = attempt(t, y, h, target, args)
            hit = hit | reached
            # Write row i_out in place (a select over all of ys would copy it every step, per lane under vmap).
            ys = ys.at[i_out].set(jnp.where(hit, jnp.where(reached, y, y_new), ys[i_out]))
            t_new, y_new, h_next = (jnp.where(reached, old, new) for old, new in ((t, t_new), (y, y_new), (h, h_next)))
            healthy = reached | step_alive(t, h_next)
            stepped = (~reached).astype(steps.dtype)
            rejected = rejected + (~accept & ~reached).astype(rejected.dtype)
            return (t_new, y_new, h_next, i_out + hit.astype(i_out.dtype), ys, steps + stepped, healthy, rejected)

        _, _, _, i_out, ys, steps, _, rejected = jax.lax.while_loop(cond, body, state)
        return ys, (i_out == ts.shape[0]) & jnp.all(jnp.isfinite(ys)), steps, rejected

    def run(y0: jax.Array, args, ts: jax.Array) -> tuple:
        y0 = jnp.asarray(y0, dtype=float)
        ts = jnp.asarray(ts, dtype=float)
        ys, ok, steps, rejected = (run_lanes if lanes else run_intervals)(y0, args, ts)
        return (ys, ok, steps, rejected) if stats else (ys, ok)

    return run
