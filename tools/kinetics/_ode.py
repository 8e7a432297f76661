"""Deterministic time courses with diffrax (stiff, adaptive, differentiable).

The default solver is ``Kvaerno5`` (an L-stable ESDIRK method of order 5 with an embedded error estimate) under a
``PIDController``: enzyme kinetics and combustion-like networks have time scales spanning many decades, which
explicit methods cannot step over.

The stage equations of the implicit solvers are solved by a full Newton iteration (``optimistix.Newton``, Jacobian
refreshed every iteration) instead of diffrax's default ``VeryChord`` (Jacobian frozen at the start of the step).
On mass-action networks with fast bimolecular steps the frozen Jacobian often fails to converge, and every failure
rejects the step: on the 20-species network of ``benchmarks/kinetics.py`` at rtol 1e-6 VeryChord took 2,258 steps
(1,095 rejected) where Newton took 171 (6 rejected), about 5× less time for the same accuracy; it also compiles
faster. The root finder's tolerances are those of the step-size controller.

Reverse-mode gradients use diffrax's default ``RecursiveCheckpointAdjoint`` (the discretise-then-optimise gradient of
exactly the computed solution). ``Tsit5`` is offered for non-stiff problems.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ...errors import InvalidInput, SimulationFailed
from ._massaction import MassActionSystem
from ._rosenbrock import rodas4_solver

__all__ = ["SOLVERS", "FORWARD_ONLY", "build_solver", "make_ode_solver", "make_batch_solver", "solve_ode"]

SOLVERS: dict[str, type[dfx.AbstractSolver]] = {
    "Kvaerno5": dfx.Kvaerno5,
    "Kvaerno3": dfx.Kvaerno3,
    "Tsit5": dfx.Tsit5,
}


# Hand-written solvers (not diffrax): forward solves and forward-mode AD only (see :mod:`._rosenbrock`).
FORWARD_ONLY = ("Rodas4",)


def build_solver(name: str, rtol: float, atol: float) -> dfx.AbstractSolver:
    """The diffrax solver ``name``; implicit ones get a full-Newton stage solver at the given tolerances."""
    if name not in SOLVERS:
        raise InvalidInput("solver", f"unknown solver {name!r}; choose one of {sorted([*SOLVERS, *FORWARD_ONLY])}")
    cls = SOLVERS[name]
    if issubclass(cls, dfx.AbstractImplicitSolver):
        return cls(root_finder=optx.Newton(rtol=rtol, atol=atol))
    return cls()


# Explicit cache of jitted solvers keyed by network structure and options (bounded, least recently used dropped).
_CACHE: OrderedDict[tuple, Callable] = OrderedDict()
_CACHE_SIZE = 32


def make_ode_solver(
    system: MassActionSystem,
    *,
    solver: str = "Kvaerno5",
    rtol: float = 1e-8,
    atol: float = 1e-12,
    max_steps: int = 100_000,
    lanes: bool = False,
) -> Callable[[jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """A jitted, differentiable ``f(x0, k, ts) -> (ys, ok)`` for one network.

    Parameters
    ----------
    system
        Compiled network.
    solver
        ``"Kvaerno5"`` (default, stiff), ``"Kvaerno3"``, ``"Tsit5"`` (non-stiff), or ``"Rodas4"`` (stiff Rosenbrock,
        :mod:`._rosenbrock`: the fastest forward solver here, but no reverse-mode gradients).
    rtol, atol
        Relative and absolute (mol/m³) tolerances of the step-size controller.
    max_steps
        Step limit; hitting it makes ``ok`` False.
    lanes
        Rodas4 only: the program to ``jax.vmap`` over many lanes (see :func:`._rosenbrock.rodas4_solver`), as
        :func:`make_batch_solver` does; the default program is the faster one for single solves.

    Returns
    -------
    callable
        ``x0`` (n_s,) mol/m³, ``k`` (n_d,) rate constants, ``ts`` (n_t,) s increasing with ``ts[0]`` the start
        time -> ``ys`` (n_t, n_s) mol/m³ and ``ok`` (bool scalar). Works under ``jax.vmap`` and ``jax.grad``.
        The solver steps onto every output time, so n_t is also a lower bound on the number of steps.

    Notes
    -----
    Under ``jax.vmap`` all lanes step in lock-step until the slowest is done, and on CPU the per-lane Jacobian and
    LU work does not get cheaper when batched. So vmap pays off for small networks (the 6-species PdPC sweep in
    ``benchmarks/kinetics.py``: 2–7× over a loop of calls) but not for larger stiff ones (20 species: a Python loop of
    calls was 4–7× faster than vmap on 2 CPU cores).
    """
    _refuse_events(system)
    lanes = bool(lanes) and solver in FORWARD_ONLY
    key = (system.key(), solver, float(rtol), float(atol), int(max_steps), lanes)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    if solver in FORWARD_ONLY:
        run = rodas4_solver(system.rhs, rtol=rtol, atol=atol, max_steps=max_steps, lanes=lanes)
        return _remember(key, jax.jit(run))
    return _remember(key, _diffrax_solver(system, solver, rtol, atol, max_steps))


def _diffrax_solver(system, solver: str, rtol: float, atol: float, max_steps: int) -> Callable:
    term = dfx.ODETerm(system.rhs)
    method = build_solver(solver, rtol, atol)

    @jax.jit
    def run(x0: jax.Array, k: jax.Array, ts: jax.Array) -> tuple[jax.Array, jax.Array]:
        # Steps land on every output time (step_ts): Kvaerno's dense output is a cubic Hermite interpolant, whose error
        # between long stiff steps dominated the result (2.5e-5 vs 6e-7 mol/m³ on a benchmark lane at rtol 1e-6, for
        # 11 % more steps).
        controller = dfx.PIDController(rtol=rtol, atol=atol, step_ts=ts)
        sol = dfx.diffeqsolve(
            term,
            method,
            t0=ts[0],
            t1=ts[-1],
            dt0=None,
            y0=x0,
            args=k,
            saveat=dfx.SaveAt(ts=ts),
            stepsize_controller=controller,
            max_steps=max_steps,
            throw=False,
        )
        ok = sol.result == dfx.RESULTS.successful
        return sol.ys, ok & jnp.all(jnp.isfinite(sol.ys))

    return run


def _refuse_events(system) -> None:
    # An SBML model's events reset the state between solves; solving its right-hand side alone would ignore them.
    if getattr(system, "events", ()):
        raise InvalidInput(
            "events",
            f"the model has events ({', '.join(system.events)}); solve it with make_sbml_solver, which applies them "
            "(vmap that for a batch)",
        )


def _remember(key: tuple, run: Callable) -> Callable:
    _CACHE[key] = run
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return run


# Lanes solved one by one in "auto" mode to time the loop against a vmapped chunk.
_LOOP_PROBE = 8


def make_batch_solver(
    system, *, mode: str = "auto", chunk: int = 64, **options
) -> Callable[[jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """``f(x0s, ks, ts) -> (ys, ok)`` solving many lanes (initial states and/or constants) in one call.

    Parameters
    ----------
    system
        Compiled network (or any system with ``rhs(t, y, args)`` and ``key()``, e.g. an SBML model).
    mode
        ``"loop"``: the jitted single solver called lane by lane; ``"vmap"``: all lanes in lock-step in one jitted
        call; ``"auto"`` (default): on an accelerator vmap; on CPU a timed choice: the first ``chunk`` lanes are
        solved vmapped, the next 8 lane by lane, and the rest in chunks by whichever was faster per lane.
    chunk
        Lanes per vmapped chunk in ``"auto"`` mode on CPU (the last chunk is padded by repeating a lane).
    **options
        Passed to :func:`make_ode_solver`.

    Returns
    -------
    callable
        ``x0s`` (B, n_s), ``ks`` (B, n_k), ``ts`` (n_t,) -> ``ys`` (B, n_t, n_s) and ``ok`` (B,).

    Notes
    -----
    Under ``vmap`` every lane takes as many steps as the slowest one, and on CPU the per-lane Jacobian and LU work
    does not get cheaper when batched: on the 20-species benchmark network vmap over 64 initial states was 1.75×
    slower than a loop of jitted solves (Rodas4; 4.7× with Kvaerno5, whose Newton branches vmap turns into
    selects). Where lanes need similar step counts (a scan of two parameters of BIOMD0000000010 over 200 sets)
    vmap was 5× *faster* than the loop on CPU: it amortises XLA's per-operation dispatch over the lanes (1,000
    sets: vmap 12.4 s, auto with 16-lane chunks 35 s, loop 66.5 s; hence chunks of 64 by default). Which
    case a batch is cannot be told from its inputs, so ``"auto"`` measures it on the first two chunks (compile time
    excluded: both programs are compiled ahead of time) and is never slower than the loop of our own solves by
    more than one chunk. One XLA program mapping the single solve over lanes (``lax.map``) was slower than the
    loop on CPU, so it is not offered.

    Tried and dropped: solving chunks in a thread pool, one per core. With JAX's asynchronous CPU dispatch off
    (``tools/_runtime.py``) calls from several threads ran one after another (2 cores: no gain; the 16-core host of
    an H200 machine: auto 5.4 s against 2.8 s for one vmap over 1,000 sets). A jitted while loop uses one core, so
    a CPU batch does not scale with cores here; on an accelerator one vmapped call is far faster
    (``benchmarks/kinetics_gpu.py``: 10,000 sets of BIOMD0000000010 in 0.27 s on an H200).
    """
    if mode not in ("auto", "vmap", "loop"):
        raise InvalidInput("mode", f"unknown batch mode {mode!r}; choose auto, vmap or loop")
    if chunk < 1:
        raise InvalidInput("chunk", f"must be >= 1, got {chunk}")
    run = make_ode_solver(system, **options)
    vrun = jax.jit(jax.vmap(make_ode_solver(system, lanes=True, **options), in_axes=(0, 0, None)))
    if mode == "auto" and jax.default_backend() != "cpu":
        mode = "vmap"
    if mode == "vmap":
        return vrun

    def loop_with(single, x0s, ks, ts) -> list[tuple[jax.Array, jax.Array]]:
        # Wait for each lane: queueing hundreds of while-loop programs asynchronously oversubscribed the CPU
        # thread pool and took longer.
        return [jax.block_until_ready(single(x0, k, ts)) for x0, k in zip(x0s, ks)]

    def stacked(lanes: list[tuple[jax.Array, jax.Array]]) -> tuple[jax.Array, jax.Array]:
        return jnp.stack([ys for ys, _ in lanes]), jnp.stack([ok for _, ok in lanes])

    if mode == "loop":
        return lambda x0s, ks, ts: stacked(loop_with(run, x0s, ks, ts))

    def vmapped_chunk(compiled, x0s, ks, ts, lo, hi) -> tuple[list, float]:
        idx = np.minimum(np.arange(lo, lo + chunk), hi - 1)  # pad the last chunk by repeating its last lane
        t0 = time.perf_counter()
        ys, ok = jax.block_until_ready(compiled(x0s[idx], ks[idx], ts))
        return [(ys[i], ok[i]) for i in range(hi - lo)], time.perf_counter() - t0

    compiled_for: dict[tuple, tuple] = {}  # lane shapes -> (single, vmapped chunk) executables, compiled once

    def executables(x0s: jax.Array, ks: jax.Array, ts: jax.Array) -> tuple:
        shape = (x0s.shape[1:], ks.shape[1:], ts.shape)
        if shape not in compiled_for:
            pad = np.zeros(chunk, dtype=np.int64)
            compiled_for[shape] = (
                run.lower(x0s[0], ks[0], ts).compile(),
                vrun.lower(x0s[pad], ks[pad], ts).compile(),
            )
        return compiled_for[shape]

    def auto(x0s: jax.Array, ks: jax.Array, ts: jax.Array) -> tuple[jax.Array, jax.Array]:
        x0s, ks, ts = jnp.asarray(x0s), jnp.asarray(ks), jnp.asarray(ts)
        n = x0s.shape[0]
        single, compiled = executables(x0s, ks, ts)
        if n <= chunk:
            return stacked(loop_with(single, x0s, ks, ts))
        lanes, t_vmap = vmapped_chunk(compiled, x0s, ks, ts, 0, chunk)
        # The loop is timed on a few lanes only: a whole chunk of single solves was a quarter of an auto batch (1,000
        # sets of BIOMD0000000010 on 16 cores: 1.5 of 5.4 s) when vmap then won anyway.
        hi = min(chunk + _LOOP_PROBE, n)
        t0 = time.perf_counter()
        lanes += loop_with(single, x0s[chunk:hi], ks[chunk:hi], ts)
        t_loop = (time.perf_counter() - t0) * chunk / (hi - chunk)  # per chunk of lanes
        use_vmap = t_vmap < t_loop
        for lo in range(hi, n, chunk):
            top = min(lo + chunk, n)
            if use_vmap:
                lanes += vmapped_chunk(compiled, x0s, ks, ts, lo, top)[0]
            else:
                lanes += loop_with(single, x0s[lo:top], ks[lo:top], ts)
        return stacked(lanes)

    return auto


def solve_ode(
    system: MassActionSystem,
    x0: np.ndarray,
    ts: np.ndarray,
    k: np.ndarray | None = None,
    **options,
) -> np.ndarray:
    """Integrate the mass-action ODE and return concentrations at ``ts``; raise on failure.

    Parameters
    ----------
    system
        Compiled network.
    x0
        Initial concentrations, mol/m³, shape (n_s,).
    ts
        Output times, s, shape (n_t,), strictly increasing; integration starts at ``ts[0]``.
    k
        Rate constants (n_d,); default the network's own.
    **options
        Passed to :func:`make_ode_solver` (solver, rtol, atol, max_steps).

    Returns
    -------
    ndarray, shape (n_t, n_s)

    Raises
    ------
    SimulationFailed
        Step limit reached or non-finite values.
    """
    k = system.k if k is None else np.asarray(k, dtype=float)
    if not np.all(np.isfinite(k)):
        missing = [lab for lab, v in zip(system.labels, k) if not np.isfinite(v)]
        raise InvalidInput(f"reactions.{missing[0]}", "rate constant required for simulation but not given")
    ts = np.asarray(ts, dtype=float)
    if ts.ndim != 1 or ts.size < 2 or np.any(np.diff(ts) <= 0):
        raise InvalidInput("times", "need at least two strictly increasing output times")
    ys, ok = make_ode_solver(system, **options)(jnp.asarray(x0, dtype=float), jnp.asarray(k), jnp.asarray(ts))
    if not bool(ok):
        raise SimulationFailed(
            "ODE integration failed (step limit or non-finite values); raise max_steps, loosen rtol, or check for "
            "unbounded growth in an open network"
        )
    return np.asarray(ys)
