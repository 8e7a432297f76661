"""Gillespie's stochastic simulation algorithm (direct method), vectorised over trajectories in JAX.

Each trajectory is a ``lax.while_loop`` over reaction events (τ = −ln(1 − u₁)/a₀, reaction j the first with
Σ_{l≤j} a_l > u₂ a₀); ``jax.vmap`` runs many trajectories in one compiled loop. Why JAX rather than a NumPy loop: the
event loop is inherently sequential, so NumPy pays Python overhead (~µs) per event, while the jitted loop runs the
whole ensemble in compiled code; the price is a one-off compile (a few seconds) and that vmapped lanes wait for the
slowest one.

Random numbers are drawn in blocks: each pass of the outer loop draws ``block`` × 2 uniforms per trajectory with one
``jax.random`` call and an inner ``fori_loop`` fires up to ``block`` events from them. Splitting the key and drawing
two numbers per event (threefry, one call each) was most of the event loop: 1,000 trajectories of ~1,550 events of
2A ⇌ B, B → C took 373 ms, and 125 ms with blocks of 64 (a quiet 16-core host, same process, interleaved; 0.73 s
→ 0.08 s on 2 cores). ``benchmarks/kinetics.py`` compares GillesPy2's C++ SSA, ``benchmarks/kinetics_gpu.py`` the
same ensemble on a GPU. Reactions are picked by counting partial sums ≤ u₂ a₀ (a short reduction) rather than
by ``searchsorted``, which was slower under ``vmap``.

On CPU the trajectories run vmapped in chunks of 128, one chunk after another (``lax.map`` with a batch size) in
one compiled program: 1,000 trajectories took 51 ms against 73 ms vmapped all at once (each chunk stops at its own
slowest trajectory, and its state stays in cache) and 93 ms one by one (2-core machine, warm medians). What an event
costs once the loop is compiled whole (``tools/_runtime.py``), measured one trajectory at a time: ~60 ns, of which
~16 ns random numbers (threefry; the ``rbg`` generators were no faster) and ~6 ns recording the sample grid. On an
accelerator all trajectories are vmapped at once.

States are recorded on a fixed time grid: when an event moves the clock from t to t + τ, every sample time in
[t, t + τ) gets the state before the jump (exactly the piecewise-constant SSA path). Copy numbers are held as float64
(exact for integers below 2⁵³). Propensities use falling factorials, a_j = c_j ∏ n_i (n_i − 1)…(n_i − a_ji + 1), with
per-molecule constants c_j = k_j Ω^(1 − order_j) so that for large Ω the mean follows the ODE of :mod:`._ode`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import InvalidInput, SimulationFailed
from ._massaction import MassActionSystem

__all__ = ["make_ssa", "simulate_ssa_counts"]

_CACHE: OrderedDict[tuple, Callable] = OrderedDict()
# Trajectories vmapped together on CPU, chunk after chunk (module notes).
_CPU_CHUNK = 128


def make_ssa(system: MassActionSystem, *, max_events: int = 10_000_000, block: int = 64) -> Callable:
    """A jitted ``f(keys, n0, c, ts) -> (counts, events, ok)`` running one trajectory per key.

    Parameters
    ----------
    system
        Compiled network.
    max_events
        Event limit per trajectory (guards against runaway open systems).
    block
        Events fired per draw of random numbers (see the module notes); any value ≥ 1 gives the same law.

    Returns
    -------
    callable
        ``keys`` (n_traj, 2) PRNG keys, ``n0`` (n_s,) initial copy numbers, ``c`` (n_d,) per-molecule constants
        (1/s · molecules^(1−order)), ``ts`` (n_t,) sample times s (≥ 0, increasing) -> ``counts`` (n_traj, n_t,
        n_s), ``events`` (n_traj,) number of reactions fired, ``ok`` (n_traj,) False if the event limit was hit.
    """
    key = (system.key(), int(max_events), int(block))
    if key in _CACHE:
        return _CACHE[key]
    if block < 1:
        raise InvalidInput("block", f"must be >= 1, got {block}")
    net = jnp.asarray(system.net)
    last = len(system.labels) - 1

    def one(rng: jax.Array, n0: jax.Array, c: jax.Array, ts: jax.Array):
        t_end = ts[-1]

        def event(u: jax.Array, state):
            t, n, out, events = state
            a = system.propensities(n, c)
            a0 = jnp.sum(a)
            # Lanes past the end (or at the event limit) idle through the rest of the block unchanged.
            live = (t <= t_end) & (events < max_events)
            tau = jnp.where(a0 > 0, -jnp.log1p(-u[0]) / jnp.where(a0 > 0, a0, 1.0), jnp.inf)  # a0 = 0: final state
            t_next = jnp.where(live, t + tau, t)
            out = jnp.where(((ts >= t) & (ts < t_next))[:, None], n[None, :], out)
            j = jnp.minimum(jnp.sum(jnp.cumsum(a) <= u[1] * a0), last)
            n = jnp.where(live & (a0 > 0), n + net[:, j], n)
            return t_next, n, out, events + live.astype(events.dtype)

        def cond(state):
            t, _, _, _, events = state
            return (t <= t_end) & (events < max_events)

        def body(state):
            t, n, rng, out, events = state
            rng, draw = jax.random.split(rng)
            u = jax.random.uniform(draw, (block, 2), dtype=n.dtype)
            t, n, out, events = jax.lax.fori_loop(0, block, lambda i, st: event(u[i], st), (t, n, out, events))
            return t, n, rng, out, events

        out0 = jnp.zeros((ts.shape[0], n0.shape[0]), dtype=n0.dtype)
        t, _, _, out, events = jax.lax.while_loop(cond, body, (jnp.asarray(0.0), n0, rng, out0, jnp.asarray(0)))
        return out, events, t > t_end

    if jax.default_backend() == "cpu":
        run = jax.jit(lambda keys, n0, c, ts: jax.lax.map(lambda k: one(k, n0, c, ts), keys, batch_size=_CPU_CHUNK))
    else:
        run = jax.jit(jax.vmap(one, in_axes=(0, None, None, None)))
    _CACHE[key] = run
    if len(_CACHE) > 16:
        _CACHE.popitem(last=False)
    return run


def simulate_ssa_counts(
    system: MassActionSystem,
    n0: np.ndarray,
    ts: np.ndarray,
    *,
    n_trajectories: int = 100,
    omega: float = 1.0,
    k: np.ndarray | None = None,
    seed: int = 0,
    max_events: int = 10_000_000,
) -> np.ndarray:
    """SSA copy numbers on a time grid for ``n_trajectories`` independent runs.

    Parameters
    ----------
    n0
        Initial copy numbers (non-negative integers), shape (n_s,).
    ts
        Sample times, s, shape (n_t,), non-negative and increasing.
    omega
        System size Ω, molecules per (mol/m³) (= N_A · volume in m³); 1 means the constants are already
        per-molecule.
    k
        Deterministic rate constants (n_d,); default the network's.
    seed
        Seed of ``jax.random.PRNGKey`` (results are reproducible).

    Returns
    -------
    ndarray, shape (n_trajectories, n_t, n_s)
    """
    n0 = np.asarray(n0, dtype=float)
    if np.any(n0 < 0) or np.any(n0 != np.round(n0)):
        raise InvalidInput("initial", "copy numbers must be non-negative integers")
    ts = np.asarray(ts, dtype=float)
    if ts.ndim != 1 or ts.size == 0 or ts[0] < 0 or np.any(np.diff(ts) < 0):
        raise InvalidInput("times", "sample times must be a non-empty, non-negative, non-decreasing 1-D array")
    k = system.k if k is None else np.asarray(k, dtype=float)
    if not np.all(np.isfinite(k)):
        missing = [lab for lab, v in zip(system.labels, k) if not np.isfinite(v)]
        raise InvalidInput(f"reactions.{missing[0]}", "rate constant required for simulation but not given")
    c = system.stochastic_constants(k, omega)
    keys = jax.random.split(jax.random.PRNGKey(seed), n_trajectories)
    counts, _, ok = make_ssa(system, max_events=max_events)(keys, jnp.asarray(n0), jnp.asarray(c), jnp.asarray(ts))
    if not bool(np.all(np.asarray(ok))):
        raise SimulationFailed(f"SSA hit the limit of {max_events} events per trajectory before t = {ts[-1]:g} s")
    return np.asarray(counts)
