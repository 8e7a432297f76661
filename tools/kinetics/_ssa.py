"""Gillespie's stochastic simulation algorithm (direct method), vectorised over trajectories in JAX.

Each trajectory is a ``lax.while_loop`` over reaction events (draw τ ~ Exp(a₀), pick reaction j with probability
a_j/a₀); ``jax.vmap`` runs many trajectories in one compiled loop. Why JAX rather than a NumPy loop: the event loop is
inherently sequential, so NumPy pays Python overhead (~µs) per event, while the jitted loop runs the whole ensemble
in compiled code; the price is a one-off compile (a second or two) and that vmapped lanes wait for the slowest one.

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


def make_ssa(system: MassActionSystem, *, max_events: int = 10_000_000) -> Callable:
    """A jitted ``f(keys, n0, c, ts) -> (counts, events, ok)`` running one trajectory per key.

    Parameters
    ----------
    system
        Compiled network.
    max_events
        Event limit per trajectory (guards against runaway open systems).

    Returns
    -------
    callable
        ``keys`` (n_traj, 2) PRNG keys, ``n0`` (n_s,) initial copy numbers, ``c`` (n_d,) per-molecule constants
        (1/s · molecules^(1−order)), ``ts`` (n_t,) sample times s (≥ 0, increasing) -> ``counts`` (n_traj, n_t,
        n_s), ``events`` (n_traj,) number of reactions fired, ``ok`` (n_traj,) False if the event limit was hit.
    """
    key = (system.key(), int(max_events))
    if key in _CACHE:
        return _CACHE[key]
    net = jnp.asarray(system.net)

    def one(rng: jax.Array, n0: jax.Array, c: jax.Array, ts: jax.Array):
        out0 = jnp.zeros((ts.shape[0], n0.shape[0]))

        def cond(state):
            t, _, _, _, events = state
            return (t <= ts[-1]) & (events < max_events)

        def body(state):
            t, n, rng, out, events = state
            rng, k_tau, k_pick = jax.random.split(rng, 3)
            a = system.propensities(n, c)
            a0 = jnp.sum(a)
            tau = jnp.where(a0 > 0, jax.random.exponential(k_tau) / a0, jnp.inf)
            t_next = t + tau
            out = jnp.where(((ts >= t) & (ts < t_next))[:, None], n[None, :], out)
            j = jnp.searchsorted(jnp.cumsum(a), jax.random.uniform(k_pick) * a0, side="right")
            j = jnp.minimum(j, a.shape[0] - 1)
            n_next = jnp.where(a0 > 0, n + net[:, j], n)
            return t_next, n_next, rng, out, events + 1

        t, _, _, out, events = jax.lax.while_loop(cond, body, (jnp.asarray(0.0), n0, rng, out0, 0))
        return out, events, t > ts[-1]

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
