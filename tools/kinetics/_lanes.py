"""Many lanes at once, stored lanes-last: the CPU batch program of :func:`._ode.make_batch_solver`, for Rodas4/Rodas5P
(stiff) and explicit Runge–Kutta methods (non-stiff, :mod:`._explicit`).

``jax.vmap`` of a single solve puts the lane axis first, so every per-lane quantity (a state entry, a Jacobian entry)
sits in a short row of its own and XLA:CPU gains nothing from batching: 2.2 µs per lane and step for 1,000 lanes of
BIOMD0000000010 against 1.2 µs for one solve. Here the state is (n, L) and the Jacobian (n, n, L), so each
arithmetic operation is one vector operation over L lanes, and the lane loop is one ``lax.while_loop`` compiled whole
(``tools/_runtime.py``). Four choices make that pay, measured on BIOMD0000000010 (8 species, 32–64 lanes, 2-core
machine, warm):

- **LU without row exchanges when it is safe.** Partial pivoting per lane needs a data-dependent row swap, which
  lanes-last is a select over all candidate rows: 190 ns per lane for an 8 × 8 LU written as array operations
  against 60 ns without exchanges (rows as a Python list, 8 × 8 written out). The LU is therefore first computed
  without exchanges and each pivot checked against the threshold-pivoting test |u_kk| ≥ τ · max_{i>k} |a_ik| with
  τ = 0.1 (the default relative pivot tolerance of UMFPACK; Duff, Erisman & Reid, *Direct Methods for Sparse
  Matrices*, 2nd ed., OUP 2017, §5.4: element growth is bounded by (1 + 1/τ) per step, as 2 is for partial
  pivoting). If any lane fails the test, the chunk's LU is recomputed with partial pivoting (``lax.cond``, a
  ``fori_loop`` over columns: slow but compact), and the right-hand sides are permuted before each solve.
- **Only the structural nonzeros.** The Jacobian's pattern is read from the right-hand side's jaxpr and its columns
  are pushed in groups that share no row (:mod:`._sparsity`: 4 tangents instead of 8, 26 entries instead of 64);
  the LU and the solves skip, at trace time, every operation on an entry that is zero in W = I/(hγ) − J and in its
  fill-in. Dense ``jacfwd`` evaluated each of the n² entries in full (a 99-operation expression per entry): 0.43
  against 0.30 ms per lane in chunks of 64.
- **Triangular solves per stage** (2n² flops, as the matrix–vector product with an inverse is) instead of forming
  the inverse (2n³ more): 200 against 440 ns per lane and step for the linear algebra of a Rodas4 step.
- **Lanes do not wait for each other at output times.** Each lane steps towards its own next output time; outputs
  go to a ring of ``ring`` slots per lane, and output k is written to the result once every lane has passed it. A
  lane at most ``ring`` outputs ahead of the slowest waits. Lock-step per output interval took 1,517 loop passes for
  32 lanes that need ~890 steps each; with a ring of 4, 957 passes.

Together, in chunks of 64 lanes: 0.30 ms per lane against 0.63 ms for one solve, and the same results to 2e-11
(``benchmarks/kinetics.py`` [3]). Chunks of 32, 64, 96 and 128 lanes took 0.33, 0.29, 0.29 and 0.66 ms per lane (at
128 the loop's estimated traffic passed the whole-loop threshold of the time, 4 MiB, ``tools/_runtime.py``; at
today's 64 MiB, Rodas5P takes 0.46 ms per lane in chunks of 128 as of 64). Tried and dropped: reciprocal pivots
instead of divisions in the solves (9 % slower); x ** y as exp(y · log x) with the logarithm written out from
``frexp`` and a series, which XLA vectorises, instead of libm's scalar ``pow`` (the Hill exponent of BIOMD0000000010
is a quarter of a perf profile of this loop, yet the replacement was 7 % slower); exp/log or two square roots for
the controller's e^(−1/4) (no difference). XLA's YNNPACK reduction fusion, which takes over reductions of more than
32 KiB, is switched off for this program: a library call in the loop splits it into separately dispatched kernels
(2.5 against 0.7 µs per pass of a small test loop at 64 lanes).

The LU, the stages and the solves are written out as array operations over the state's entries, so compile time
grows with the model (BIOMD0000000010: 6–11 s cold), and above ~10 species XLA:CPU's code for it swings with the
chunk size (12 species: 3.4× a single solve per lane in chunks of 16, 0.86× in chunks of 32; 20 species: 0.44×).
:func:`._ode.make_batch_solver` therefore picks it by itself up to ``AUTO_LANES_MAX_SPECIES`` species and on
request up to 24 (as the single solver unrolls its LU).

The step, error norm and step-size controller are those of :mod:`._rosenbrock`, so a lane takes the same steps as
its single solve, up to round-off of the different LU. The explicit methods (Tsit5, Dopri5, Dopri8) run in the same
loop with the same controller; they carry f at each lane's current point from step to step (FSAL). Their single
solves are diffrax's, with its own controller, so there a lane and a single solve agree to the tolerance, not to
round-off.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from ._explicit import EXPLICIT, explicit_stages, explicit_tableau
from ._rosenbrock import PIVOT_TOLERANCE, TABLEAUS, attempt_step, initial_step, stage_sum, step_alive
from ._sparsity import compressed_jacobian, dense_rows

__all__ = ["lanes_solver", "LANES_COMPILER_OPTIONS"]

# Keep reductions in XLA's own code so the loop stays one compiled function (module notes).
LANES_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


Rows = list[list[jax.Array | None]]


def lu_rows(w: Rows, tolerance: float = PIVOT_TOLERANCE) -> tuple[Rows, jax.Array]:
    """LU without row exchanges of a lanes-last matrix given as rows of entries ((L,) arrays, None where zero):
    the rows of L\\U (None where no fill-in reached) and, per lane, whether every pivot passed the threshold test
    |u_kk| ≥ tolerance · max_{i>k} |a_ik| (bool (L,)). Operations on structural zeros are skipped at trace time."""
    n = len(w)
    rows = [list(row) for row in w]
    safe = None
    for k in range(n):
        pivot = rows[k]
        below = [jnp.abs(rows[i][k]) for i in range(k + 1, n) if rows[i][k] is not None]
        if below:
            passed = jnp.abs(pivot[k]) >= tolerance * functools.reduce(jnp.maximum, below)
            safe = passed if safe is None else safe & passed
        inv_pivot = 1.0 / pivot[k]
        for i in range(k + 1, n):
            if rows[i][k] is None:
                continue
            factor = rows[i][k] * inv_pivot
            rows[i][k] = factor
            for j in range(k + 1, n):
                if pivot[j] is not None:
                    rows[i][j] = -factor * pivot[j] if rows[i][j] is None else rows[i][j] - factor * pivot[j]
        # Materialise the rows after each pivot: fused across pivots, XLA recomputed every factor for each entry it
        # updates (8 × 8: 50 against 37 ns per lane; 20 × 20: 2.6 against 1.25 µs and 5.8 against 1.8 s to compile).
        rows, safe = jax.lax.optimization_barrier((rows, safe))
    return rows, jnp.ones(rows[0][0].shape, dtype=bool) if safe is None else safe


def lu_rows_pivoted(w: jax.Array) -> tuple[list[jax.Array], jax.Array]:
    """LU with partial pivoting per lane: rows of L\\U of P·w and ``perm`` (n, L) int with (P·w)_i = w_{perm_i}.

    A ``fori_loop`` over columns with full-size masked updates (the fallback of :func:`lu_rows`: compact to compile).
    """
    n, _, lanes = w.shape
    idx = jnp.arange(n)

    def column(k, carry):
        m, perm = carry
        col = jax.lax.dynamic_index_in_dim(m, k, axis=1, keepdims=False)  # (n, L)
        p = jnp.argmax(jnp.where((idx >= k)[:, None], jnp.abs(col), -1.0), axis=0)
        at_p, at_k = idx[:, None] == p[None, :], (idx == k)[:, None]
        row_k = jax.lax.dynamic_index_in_dim(m, k, axis=0, keepdims=False)
        row_p = jnp.sum(jnp.where(at_p[:, None, :], m, 0.0), axis=0)
        m = jnp.where(at_k[:, :, None], row_p[None], jnp.where(at_p[:, None, :], row_k[None], m))
        perm_k = jax.lax.dynamic_index_in_dim(perm, k, axis=0, keepdims=False)
        perm_p = jnp.sum(jnp.where(at_p, perm, 0), axis=0)
        perm = jnp.where(at_k, perm_p[None], jnp.where(at_p, perm_k[None], perm))
        after = (idx > k)[:, None]
        factors = jnp.where(after, jax.lax.dynamic_index_in_dim(m, k, axis=1, keepdims=False) / row_p[k][None], 0.0)
        m = m - factors[:, None, :] * jnp.where(after[None], row_p[None], 0.0)
        col = jnp.where(after, factors, jax.lax.dynamic_index_in_dim(m, k, axis=1, keepdims=False))
        return jax.lax.dynamic_update_index_in_dim(m, col, k, axis=1), perm

    start = (w, jnp.broadcast_to(idx[:, None], (n, lanes)))
    m, perm = jax.lax.fori_loop(0, n - 1, column, start)
    return [m[i] for i in range(n)], perm


def solve_rows(rows: Rows, r: jax.Array) -> jax.Array:
    """Solve L U x = r lanes-last: ``rows`` from :func:`lu_rows` or :func:`lu_rows_pivoted` (None where zero),
    r (n, L)."""
    n = len(rows)
    x = [r[i] for i in range(n)]
    for i in range(1, n):
        terms = [rows[i][j] * x[j] for j in range(i) if rows[i][j] is not None]
        if terms:
            x[i] = x[i] - sum(terms[1:], terms[0])
    for i in range(n - 1, -1, -1):
        terms = [rows[i][j] * x[j] for j in range(i + 1, n) if rows[i][j] is not None]
        if terms:
            x[i] = x[i] - sum(terms[1:], terms[0])
        x[i] = x[i] / rows[i][i]
    return jnp.stack(x)


def _permute(r: jax.Array, perm: jax.Array) -> jax.Array:
    """r[perm] per lane: (n, L) values and (n, L) int indices -> (n, L), as selects (no gather in the loop)."""
    return sum(jnp.where(perm == j, r[j][None], 0.0) for j in range(r.shape[0]))


def _pivoted_solver(w: jax.Array) -> Callable[[jax.Array], jax.Array]:
    """A solver of w x = r by :func:`lu_rows_pivoted` (the right-hand side permuted first)."""
    rows, perm = lu_rows_pivoted(w)
    return lambda r: solve_rows(rows, _permute(r, perm))


def lanes_solver(
    rhs: Callable,
    *,
    rtol: float,
    atol: float,
    max_steps: int,
    method: str = "Rodas4",
    ring: int = 4,
    pivot_tolerance: float = PIVOT_TOLERANCE,
    stats: bool = False,
) -> Callable[[jax.Array, jax.Array, jax.Array], tuple]:
    """``run(y0s, args, ts) -> (ys, ok)`` solving L lanes of ``dy/dt = rhs(t, y, args)`` at once (not jitted).

    Parameters
    ----------
    rhs
        ``f(t, y, args)`` of one lane, y (n,).
    rtol, atol
        As :func:`._rosenbrock.rosenbrock_solver`.
    method
        ``"Rodas4"`` or ``"Rodas5P"`` (stiff), or an explicit method of :data:`._explicit.EXPLICIT` (``"Tsit5"``,
        ``"Dopri5"``, ``"Dopri8"``: non-stiff models, :mod:`._explicit`).
    max_steps
        Limit on passes of the lane loop (each lane attempts at most one step per pass); lanes not done by then
        get ``ok`` False.
    ring
        Outputs a lane may run ahead of the slowest lane (module notes).
    pivot_tolerance
        Rosenbrock methods: τ of the threshold test that decides when the LU needs row exchanges (``inf``: always
        pivot).
    stats
        Also return each lane's attempted and rejected steps.

    Returns
    -------
    callable
        ``y0s`` (L, n), ``args`` (pytree, leading axis L), ``ts`` (n_t,) increasing with ``ts[0]`` the start time
        -> ``ys`` (L, n_t, n) and ``ok`` (L,).
    """
    lane_axes = (0, 1, 0)  # t (L,), y (n, L), args with leading L
    f = jax.vmap(rhs, in_axes=lane_axes, out_axes=1)
    if method in EXPLICIT:
        prepare = _explicit_prepare(f, explicit_tableau(method), rtol, atol)
        return _lane_loop(f, prepare, rtol, atol, max_steps, ring, stats)
    tab = TABLEAUS[method]

    def f_and_dfdt(t, y, args):
        def one(tt, yy, aa):
            return jax.jvp(lambda s: rhs(s, yy, aa), (tt,), (jnp.ones_like(tt),))

        return jax.vmap(one, in_axes=lane_axes, out_axes=1)(t, y, args)

    def step(t, y, h, args, stepping, jac):
        """One step of each lane (h (L,)): (y₁, error estimate), both (n, L)."""
        n = y.shape[0]
        fy, dfdt = f_and_dfdt(t, y, args)
        w = [[None if e is None else -e for e in row] for row in jac(y, (t, args))]
        for i in range(n):
            w[i][i] = 1.0 / (h * tab.gamma) if w[i][i] is None else 1.0 / (h * tab.gamma) + w[i][i]
        rows, safe = lu_rows(w, pivot_tolerance)

        def stages(solve):
            return stage_sum(tab, lambda c, yi: f(t + c * h, yi, args), y, h, fy, dfdt, solve)

        # The stages sit inside both branches: written once after a cond over the LU alone, XLA fused the triangular
        # solves into the stage arithmetic and recomputed them (640 against 430 ns per lane and step).
        return jax.lax.cond(
            jnp.all(safe | ~stepping),
            lambda: stages(lambda r: solve_rows(rows, r)),
            lambda: stages(_pivoted_solver(dense_rows(w, y))),
        )

    def prepare(y0, args, ts):
        one_args = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), args)
        _, jac = compressed_jacobian(lambda yy, tt, aa: rhs(tt, yy, aa), y0[:, 0], ts[0], one_args)

        def attempt(t, y, h, target, stepping, carry):
            def step_at(h_eff):
                return step(t, y, h_eff, args, stepping, jac)

            return attempt_step(tab, step_at, t, y, h, target, rtol, atol, stepping)[:5] + (carry,)

        return attempt, ()

    return _lane_loop(f, prepare, rtol, atol, max_steps, ring, stats)


def _explicit_prepare(f: Callable, tab, rtol: float, atol: float) -> Callable:
    """:func:`_lane_loop`'s ``prepare`` for an explicit method: the loop carries f(t, y) of each lane (FSAL)."""

    def prepare(y0, args, ts):
        def attempt(t, y, h, target, stepping, fy):
            def step_at(h_eff):
                return explicit_stages(tab, lambda c, yi: f(t + c * h_eff, yi, args), y, h_eff, fy)

            t, y, h_next, accept, landed, (f1,) = attempt_step(tab, step_at, t, y, h, target, rtol, atol, stepping)
            return t, y, h_next, accept, landed, jnp.where(accept[None], f1, fy)

        return attempt, f(jnp.full(y0.shape[1], ts[0]), y0, args)

    return prepare


def _lane_loop(f: Callable, prepare: Callable, rtol, atol, max_steps: int, ring: int, stats: bool) -> Callable:
    """The lane loop of :func:`lanes_solver` around one method's step.

    ``prepare(y0 (n, L), args, ts) -> (attempt, carry)``, where ``attempt(t, y, h, target, stepping, carry) -> (t,
    y, h_next, accepted, landed, carry)`` tries one step of every lane (:func:`._rosenbrock.attempt_step`) and
    ``carry`` is whatever the method keeps from step to step.
    """

    def run(y0s: jax.Array, args, ts: jax.Array) -> tuple:
        y0 = jnp.asarray(y0s, dtype=float).T
        ts = jnp.asarray(ts, dtype=float)
        (n, lanes), n_t = y0.shape, ts.shape[0]
        attempt, carry = prepare(y0, args, ts)
        slots = jnp.arange(ring)[:, None]
        windows = jnp.concatenate([ts, jnp.full(ring, ts[-1])])  # so a window of `ring` targets never runs off

        def cond(s):
            written, passes = s[0], s[-1]
            return (written < n_t) & (passes < max_steps)

        def body(s):
            written, t, y, h, next_out, alive, slots_y, ys, attempts, rejected, carry, passes = s
            ahead = next_out - written  # 0 … ring: which slot this lane fills next (ring: it waits)
            slot = slots == ahead[None, :]
            target = jnp.sum(jnp.where(slot, jax.lax.dynamic_slice(windows, (written,), (ring,))[:, None], 0.0), 0)
            active = alive & (next_out < n_t) & (ahead < ring)
            # An output time already reached (repeated times, as where an SBML event splits the span) is copied.
            reached = active & (target <= t)
            stepping = active & ~reached
            t, y, h_next, accept, landed, carry = attempt(t, y, h, target, stepping, carry)
            hit = landed | reached
            alive = alive & (~stepping | step_alive(t, h_next))
            slots_y = jnp.where((slot & hit[None])[:, None, :], y[None], slots_y)
            next_out = next_out + hit.astype(next_out.dtype)
            # Output `written` is complete once every live lane is past it: store slot 0, rotate the ring.
            complete = jnp.all((next_out > written) | ~alive)
            old = jax.lax.dynamic_index_in_dim(ys, written, 0, keepdims=False)
            ys = jax.lax.dynamic_update_index_in_dim(ys, jnp.where(complete, slots_y[0], old), written, 0)
            slots_y = jnp.where(complete, jnp.roll(slots_y, -1, axis=0), slots_y)
            attempts = attempts + stepping.astype(attempts.dtype)
            rejected = rejected + (stepping & ~accept).astype(rejected.dtype)
            h = jnp.where(stepping, h_next, h)
            written = written + complete.astype(written.dtype)
            return written, t, y, h, next_out, alive, slots_y, ys, attempts, rejected, carry, passes + 1

        h0 = initial_step(f(jnp.full(lanes, ts[0]), y0, args), y0, ts[-1] - ts[0], rtol, atol)
        counters = jnp.zeros(lanes, dtype=int)
        state = (
            jnp.asarray(1),
            jnp.full(lanes, ts[0]),
            y0,
            h0,
            jnp.ones(lanes, dtype=int),
            jnp.ones(lanes, dtype=bool),
            jnp.zeros((ring, n, lanes), dtype=y0.dtype),
            jnp.zeros((n_t, n, lanes), dtype=y0.dtype).at[0].set(y0),
            counters,
            counters,
            carry,
            jnp.asarray(0),
        )
        loop = jax.lax.while_loop(cond, body, state)
        written, _, _, _, next_out, _, slots_y, ys, attempts, rejected, _, _ = loop
        # Stopped by the pass limit: lanes that finished still hold their last outputs in the ring.
        for j in range(ring):
            row = jnp.minimum(written + j, n_t - 1)
            keep = (next_out > written + j) & (written + j < n_t)
            old = jax.lax.dynamic_index_in_dim(ys, row, 0, keepdims=False)
            ys = jax.lax.dynamic_update_index_in_dim(ys, jnp.where(keep[None], slots_y[j], old), row, 0)
        ys = jnp.transpose(ys, (2, 0, 1))
        ok = (next_out == n_t) & jnp.all(jnp.isfinite(ys), axis=(1, 2))
        return (ys, ok, attempts, rejected) if stats else (ys, ok)

    return run
