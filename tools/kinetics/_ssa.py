"""Gillespie's stochastic simulation algorithm (direct method), vectorised over trajectories in JAX.

Each trajectory is a ``lax.while_loop`` over reaction events (τ = −ln(1 − u₁)/a₀, reaction j the first with
Σ_{l≤j} a_l > u₂ a₀), many trajectories side by side in one compiled loop. Why JAX rather than a NumPy loop: the
event loop is inherently sequential, so NumPy pays Python overhead (~µs) per event, while the jitted loop runs the
whole ensemble in compiled code; the price is a one-off compile (a few seconds) and that the trajectories of one
call wait for the slowest.

Random numbers come from SplitMix64 (:mod:`._random`), one stream per trajectory seeded by its JAX key, drawn
``block`` × 2 at a time by the outer loop while an inner ``fori_loop`` fires up to ``block`` events from them. With
``jax.random`` (threefry) the numbers were most of an event's cost on CPU: 1,000 trajectories of ~1,550 events of
2A ⇌ B, B → C took 373 ms splitting a key and drawing twice per event, 48 ms with threefry blocks of 64, and 24.5 ms
with SplitMix64 blocks (2-core machine, one thread, warm medians; threefry alone was 18 of 22.5 ns per event).
Reactions are picked by counting partial sums ≤ u₂ a₀ (a short reduction) rather than by ``searchsorted``.

Trajectories are stored lanes-last (copy numbers (n_s, L)), so every per-event operation is one vector operation
across lanes. On CPU the trajectories run in chunks of 64 per compiled call (each call runs until its slowest
trajectory is done, and its state stays in cache), the chunks spread over a thread per core: a compiled loop runs
on the thread that calls it (``tools/_runtime.py``), so two threads took 13.6 ms where one took 24.5 ms. Chunks of 16
cost 30 ns per event against 16 ns for 64 or 128. A trajectory's path depends only on its key. On an accelerator
all trajectories run in one call. ``benchmarks/kinetics.py`` compares GillesPy2's C++ SSA,
``benchmarks/kinetics_gpu.py`` the same ensemble on a GPU.

States are recorded on a fixed time grid: when an event moves the clock from t to t + τ, every sample time in
[t, t + τ) gets the state before the jump (exactly the piecewise-constant SSA path). Copy numbers are held as float64
(exact for integers below 2⁵³). Propensities use falling factorials, a_j = c_j ∏ n_i (n_i − 1)…(n_i − a_ji + 1), with
per-molecule constants c_j = k_j Ω^(1 − order_j) so that for large Ω the mean follows the ODE of :mod:`._ode`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import InvalidInput, SimulationFailed
from .._runtime import cpu_threads
from ._massaction import MassActionSystem
from ._random import seeds_from_keys, uniforms

__all__ = ["make_ssa", "simulate_ssa_counts"]

_CACHE: OrderedDict[tuple, Callable] = OrderedDict()
# Trajectories per compiled call on CPU (module notes).
_CPU_CHUNK = 64


def _ensemble(system: MassActionSystem, max_events: int, block: int) -> Callable:
    """``f(keys, n0, c, ts) -> (counts, events, ok)`` for L trajectories stored lanes-last (not jitted)."""
    net = np.asarray(system.net)
    last = len(system.labels) - 1
    propensities = jax.vmap(system.propensities, in_axes=(1, None), out_axes=1)  # n (n_s, L) -> a (n_r, L)

    def run(keys: jax.Array, n0: jax.Array, c: jax.Array, ts: jax.Array):
        lanes, t_end = keys.shape[0], ts[-1]

        def event(u: jax.Array, state):
            t, n, out, events = state
            a = propensities(n, c)
            a0 = jnp.sum(a, axis=0)
            # Lanes past the end (or at the event limit) idle unchanged until every lane is done.
            live = (t <= t_end) & (events < max_events)
            tau = jnp.where(a0 > 0, -jnp.log1p(-u[0]) / jnp.where(a0 > 0, a0, 1.0), jnp.inf)  # a0 = 0: final state
            t_next = jnp.where(live, t + tau, t)
            out = jnp.where(((ts[:, None] >= t) & (ts[:, None] < t_next))[:, None, :], n[None], out)
            j = jnp.minimum(jnp.sum(jnp.cumsum(a, axis=0) <= (u[1] * a0)[None], axis=0), last)
            fire = live & (a0 > 0)
            # n + net[:, j] per lane, as a sum over reactions (an indexed column would be a gather per event).
            change = sum(jnp.where(fire & (j == r), 1.0, 0.0)[None] * net[:, r][:, None] for r in range(net.shape[1]))
            return t_next, n + change, out, events + live.astype(events.dtype)

        def cond(state):
            t, _, _, _, events = state
            return jnp.any((t <= t_end) & (events < max_events))

        def body(state):
            t, n, stream, out, events = state
            u, stream = uniforms(stream, 2 * block)
            u = u.reshape(block, 2, lanes)
            t, n, out, events = jax.lax.fori_loop(0, block, lambda i, st: event(u[i], st), (t, n, out, events))
            return t, n, stream, out, events

        n = jnp.broadcast_to(n0[:, None], (n0.shape[0], lanes))
        out0 = jnp.zeros((ts.shape[0], n0.shape[0], lanes), dtype=n0.dtype)
        start = (jnp.zeros(lanes), n, seeds_from_keys(keys), out0, jnp.zeros(lanes, dtype=int))
        t, _, _, out, events = jax.lax.while_loop(cond, body, start)
        return jnp.transpose(out, (2, 0, 1)), events, t > t_end

    return run


def make_ssa(
    system: MassActionSystem,
    *,
    max_events: int = 10_000_000,
    block: int = 64,
    chunk: int = _CPU_CHUNK,
    threads: int | None = None,
) -> Callable:
    """``f(keys, n0, c, ts) -> (counts, events, ok)`` running one trajectory per key.

    Parameters
    ----------
    system
        Compiled network.
    max_events
        Event limit per trajectory (guards against runaway open systems).
    block
        Events fired per draw of random numbers (see the module notes); any value ≥ 1 gives the same paths, as
        each trajectory reads its own stream in order.
    chunk
        CPU only: trajectories per compiled call (each call runs until its slowest trajectory is done).
    threads
        CPU only: calls running at once; default the cores this process may use.

    Returns
    -------
    callable
        ``keys`` (n_traj, 2) PRNG keys (``jax.random.split``), ``n0`` (n_s,) initial copy numbers, ``c`` (n_d,)
        per-molecule constants (1/s · molecules^(1−order)), ``ts`` (n_t,) sample times s (≥ 0, increasing) ->
        ``counts`` (n_traj, n_t, n_s), ``events`` (n_traj,) number of reactions fired, ``ok`` (n_traj,) False if the
        event limit was hit. A trajectory's path depends only on its key, not on the chunk or thread it ran in.
    """
    for name, value in (("block", block), ("chunk", chunk), ("threads", 1 if threads is None else threads)):
        if value < 1:
            raise InvalidInput(name, f"must be >= 1, got {value}")
    key = (system.key(), int(max_events), int(block), int(chunk), threads)
    if key in _CACHE:
        return _CACHE[key]
    program = jax.jit(_ensemble(system, int(max_events), int(block)))
    run = program if jax.default_backend() != "cpu" else _chunked(program, int(chunk), threads or cpu_threads())
    _CACHE[key] = run
    if len(_CACHE) > 16:
        _CACHE.popitem(last=False)
    return run


def _chunked(program: Callable, chunk: int, threads: int) -> Callable:
    """Run ``program`` on chunks of ``chunk`` keys (the last padded by repeating a key), ``threads`` at a time."""

    def run(keys, n0, c, ts):
        keys = np.asarray(jax.random.key_data(keys) if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key) else keys)
        n0, c, ts = jnp.asarray(n0, dtype=float), jnp.asarray(c, dtype=float), jnp.asarray(ts, dtype=float)
        total = keys.shape[0]
        starts = range(0, total, chunk)

        def one(lo: int):
            idx = np.minimum(np.arange(lo, lo + chunk), total - 1)
            return [np.asarray(part) for part in program(keys[idx], n0, c, ts)]

        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(starts)))) as pool:
            parts = list(pool.map(one, starts))
        return tuple(jnp.asarray(np.concatenate([p[i] for p in parts])[:total]) for i in range(3))

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
