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

import inspect
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ...errors import InvalidInput, SimulationFailed
from .._runtime import cpu_threads
from ._bdf import ndf_solver
from ._explicit import EXPLICIT
from ._lanes import LANES_COMPILER_OPTIONS, lanes_solver
from ._massaction import MassActionSystem
from ._rosenbrock import _UNROLLED_LU_MAX, rosenbrock_solver

__all__ = ["SOLVERS", "FORWARD_ONLY", "build_solver", "make_ode_solver", "make_batch_solver", "solve_ode"]

SOLVERS: dict[str, type[dfx.AbstractSolver]] = {
    "Kvaerno5": dfx.Kvaerno5,
    "Kvaerno3": dfx.Kvaerno3,
    **EXPLICIT,  # Tsit5, Dopri5, Dopri8: non-stiff models
}


# Hand-written solvers (not diffrax): forward solves and forward-mode AD only (:mod:`._rosenbrock`, :mod:`._bdf`).
ROSENBROCK = ("Rodas4", "Rodas5P")
FORWARD_ONLY = (*ROSENBROCK, "NDF")
# Methods the lanes-last batch program (:mod:`._lanes`) runs.
LANE_METHODS = (*ROSENBROCK, *EXPLICIT)


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
        ``"Kvaerno5"`` (default, stiff), ``"Kvaerno3"``, ``"Tsit5"`` / ``"Dopri5"`` / ``"Dopri8"`` (explicit, for
        non-stiff models; Dopri8 at tight tolerances), ``"Rodas4"`` / ``"Rodas5P"``
        (stiff Rosenbrock, :mod:`._rosenbrock`: the fastest forward solvers here on small networks, Rodas5P at tight
        tolerances) or ``"NDF"`` (variable-order multistep with Jacobian and inverse reuse, :mod:`._bdf`: the fastest
        at tight tolerances, and at any tolerance from ~20 species). The last three have no reverse-mode gradients.
    rtol, atol
        Relative and absolute (mol/m³) tolerances of the step-size controller.
    max_steps
        Step limit; hitting it makes ``ok`` False.
    lanes
        Rodas4/Rodas5P only: the program to ``jax.vmap`` over many lanes (see
        :func:`._rosenbrock.rosenbrock_solver`), as :func:`make_batch_solver` does; the default program is the faster
        one for single solves.

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
    lanes = bool(lanes) and solver in ROSENBROCK

    def build() -> Callable:
        if solver == "NDF":
            return jax.jit(ndf_solver(system.rhs, rtol=rtol, atol=atol, max_steps=max_steps))
        if solver in ROSENBROCK:
            run = rosenbrock_solver(system.rhs, rtol=rtol, atol=atol, max_steps=max_steps, lanes=lanes, method=solver)
            return jax.jit(run)
        return _diffrax_solver(system, solver, rtol, atol, max_steps)

    return _cached((system.key(), solver, float(rtol), float(atol), int(max_steps), lanes), build)


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


def _cached(key: tuple, build: Callable[[], Callable], cache: OrderedDict | None = None) -> Callable:
    """The program under ``key`` in a bounded cache (default the module's), built by ``build()`` on a miss (least
    recently used dropped)."""
    cache = _CACHE if cache is None else cache
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    cache[key] = run = build()
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return run


# Largest model "auto" solves lanes-last. Measured per lane against single solves (64-lane chunks unless noted,
# mass-action chains of benchmarks/kinetics.py cut to size): 8 species 3.9x (BIOMD0000000010 2.6x), 12 species 1.1x
# (3.4x in chunks of 16, 0.86x in chunks of 32), 16 species 0.74x (1.9x in chunks of 8, 0.41x in chunks of 16),
# 20 species 0.44-0.7x; XLA:CPU's code for the larger programs swung with the chunk size and takes 8-43 s to
# compile, so above 10 species "auto" keeps to mapped chunks unless asked for lanes. (Those figures predate the
# 64 MiB whole-loop threshold of tools/_runtime.py, under which the bigger programs had run kernel by kernel:
# BIOMD0000000009 in chunks of 64 now takes 1.06 ms per lane against 2.2 ms mapped, after 44 s of compiling.)
AUTO_LANES_MAX_SPECIES = 10

# make_ode_solver's keyword defaults (solver, rtol, atol, max_steps), for the lanes-last program of a batch.
_SOLVER_DEFAULTS = {
    name: p.default for name, p in inspect.signature(make_ode_solver).parameters.items() if p.kind is p.KEYWORD_ONLY
}


def _lanes_program(system, solver: str, rtol: float, atol: float, max_steps: int) -> Callable:
    """The jitted lanes-last program of :mod:`._lanes`: ``(x0s (L, n), ks, ts) -> (ys, ok)``."""

    def build() -> Callable:
        run = lanes_solver(system.rhs, rtol=rtol, atol=atol, max_steps=max_steps, method=solver)
        return jax.jit(run, compiler_options=LANES_COMPILER_OPTIONS if jax.default_backend() == "cpu" else None)

    return _cached((system.key(), solver, float(rtol), float(atol), int(max_steps), "lanes-last"), build)


class _FoldedConstants:
    """``system`` with the constants that are equal in every lane of a batch compiled in as numbers: ``rhs(t, y,
    varying)`` takes only the other columns, and XLA folds whatever depends on the fixed ones alone (a Hill power
    with exponent 1 becomes its base)."""

    def __init__(self, system, values: np.ndarray, varying: np.ndarray):
        self.system = system
        self.values = tuple(float(v) for v in values)
        self.varying = tuple(int(j) for j in varying)
        self._position = {j: i for i, j in enumerate(self.varying)}

    def rhs(self, t: jax.Array, y: jax.Array, varying: jax.Array) -> jax.Array:
        columns = [
            varying[self._position[j]] if j in self._position else jnp.asarray(v) for j, v in enumerate(self.values)
        ]
        return self.system.rhs(t, y, jnp.stack(columns) if columns else jnp.zeros(0))

    def key(self) -> tuple:
        fixed = tuple(v for j, v in enumerate(self.values) if j not in self._position)
        return ("folded", self.system.key(), self.varying, fixed)


def _fold(system, ks: np.ndarray):
    """(system, ks) with the columns of ``ks`` that are equal in every lane folded in (:class:`_FoldedConstants`)."""
    same = np.all(ks == ks[:1], axis=0)  # a NaN column never counts as the same
    if len(ks) < 2 or not same.any():
        return system, ks
    return _FoldedConstants(system, ks[0], np.flatnonzero(~same)), ks[:, ~same]


def make_batch_solver(
    system,
    *,
    mode: str = "auto",
    chunk: int = 64,
    threads: int | None = None,
    fold_constants: bool = False,
    **options,
) -> Callable[[jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """``f(x0s, ks, ts) -> (ys, ok)`` solving many lanes (initial states and/or constants) in one call.

    Parameters
    ----------
    system
        Compiled network (or any system with ``rhs(t, y, args)`` and ``key()``, e.g. an SBML model).
    mode
        ``"loop"``: the jitted single solver called lane by lane from Python; ``"vmap"``: all lanes in lock-step in
        one jitted call; ``"lanes"`` (Rodas4/Rodas5P up to 24 species, or an explicit method: Tsit5, Dopri5,
        Dopri8): chunks of ``chunk`` lanes, each solved by one program that stores lanes last and lets each lane
        step on its own (:mod:`._lanes`);
        ``"map"``: chunks of ``chunk`` lanes, each one compiled program solving its lanes one after another
        (``lax.map``); chunks of both run ``threads`` at a time. ``"auto"`` (default): on an accelerator vmap; on
        CPU mapped chunks above ``AUTO_LANES_MAX_SPECIES`` species; up to it the first chunk is solved by lanes and
        timed while four lanes are timed as single solves, and the other chunks go lanes or mapped, whichever costs
        less per lane.
    chunk
        Lanes per chunk in ``"lanes"``, ``"map"`` and ``"auto"`` modes (the last chunk is padded by repeating a lane).
    threads
        Threads solving chunks at once in those modes; default the cores this process may use.
    fold_constants
        In the chunked modes, compile the columns of ``ks`` that are equal in every lane into the programs as
        numbers, so that XLA folds what depends on them alone (BIOMD0000000010 with two of its 23 parameters varied:
        its Hill power with exponent 1 vanishes, and the lanes program takes 0.19 instead of 0.30 ms per lane).
        A new set of such values compiles new programs (seconds), so this pays when the same values come back, as
        in fits and repeated scans. Default False.
    **options
        Passed to :func:`make_ode_solver`.

    Returns
    -------
    callable
        ``x0s`` (B, n_s), ``ks`` (B, n_k), ``ts`` (n_t,) -> ``ys`` (B, n_t, n_s) and ``ok`` (B,).

    Notes
    -----
    1,000 parameter sets of BIOMD0000000010 (Rodas4 rtol 1e-6, 2-core machine, warm; ``benchmarks/kinetics.py``
    [3]): one vmap 2.1–2.5 s, a Python loop of single solves 0.69–0.85 s, lanes-last chunks of 64 0.26–0.30 s on one
    thread and 0.16–0.20 s on two, 0.11 s with ``fold_constants`` (earlier, before the compressed Jacobian: mapped
    chunks 1.08 s and lanes-last chunks 0.40 s on one thread). The model is not stiff, and an explicit method in the
    lanes is cheaper still: Tsit5 at rtol 1e-6 0.06 s folded and 0.10 s not (error 1.5e-5 of each species' range,
    against Rodas4's 7.6e-7 at rtol 1e-6); Dopri8 at rtol 1e-9 0.10–0.12 s folded (1.1e-9). ``vmap`` puts the lane
    axis first, so XLA:CPU does each lane's arithmetic in short rows of its own and every lane waits for the
    slowest; the lanes-last program does each operation once over all lanes of a chunk and lets lanes run ahead
    (:mod:`._lanes`). Lanes pays for the lanes that finish early (they wait for the slowest, at most a
    few outputs ahead), so with step counts that spread more than ~3-fold within a chunk mapped chunks win, hence
    the timed choice in ``"auto"`` (compile time excluded). The probe costs four single solves on a second thread
    while the first chunk is solved; timing a whole mapped chunk instead cost 25 % of the batch.

    Threads: a compiled solve runs on the thread that calls it (asynchronous CPU dispatch is off,
    ``tools/_runtime.py``), so chunks on two threads take about half the time of one. On an accelerator one vmapped
    call is far faster (``benchmarks/kinetics_gpu.py``: 10,000 sets of BIOMD0000000010 in 0.27 s on an H200).
    """
    if mode not in ("auto", "vmap", "lanes", "map", "loop"):
        raise InvalidInput("mode", f"unknown batch mode {mode!r}; choose auto, vmap, lanes, map or loop")
    if chunk < 1:
        raise InvalidInput("chunk", f"must be >= 1, got {chunk}")
    if threads is not None and threads < 1:
        raise InvalidInput("threads", f"must be >= 1, got {threads}")
    settings = {**_SOLVER_DEFAULTS, **options}
    if mode == "lanes" and settings["solver"] not in LANE_METHODS:
        raise InvalidInput("mode", f"lanes needs solver {', '.join(LANE_METHODS)}, not {settings['solver']!r}")
    n_threads = threads or cpu_threads()
    run = make_ode_solver(system, **options)
    if mode == "auto" and jax.default_backend() != "cpu":
        mode = "vmap"
    if mode == "vmap":
        return jax.jit(jax.vmap(make_ode_solver(system, lanes=True, **options), in_axes=(0, 0, None)))
    if mode == "loop":

        def loop(x0s, ks, ts):
            # Wait for each lane: queueing hundreds of while-loop programs asynchronously oversubscribed the CPU.
            lanes = [jax.block_until_ready(run(x0, k, ts)) for x0, k in zip(x0s, ks)]
            return jnp.stack([ys for ys, _ in lanes]), jnp.stack([ok for _, ok in lanes])

        return loop

    # (program name, system, lane shapes) -> executable, compiled once; bounded, as folded constants make one program
    # per set of shared values
    compiled_for: OrderedDict[tuple, Callable] = OrderedDict()

    def executable(name: str, lanes_of, x0s: np.ndarray, ks: np.ndarray, ts: jax.Array) -> Callable:
        def build() -> Callable:
            if name == "lanes":
                solver, rtol, atol, max_steps = (settings[k] for k in ("solver", "rtol", "atol", "max_steps"))
                program = _lanes_program(lanes_of, solver, rtol, atol, max_steps)
            else:  # "map": one program solving its lanes one after another
                one = make_ode_solver(lanes_of, **options)
                program = jax.jit(lambda x0s, ks, ts: jax.lax.map(lambda lane: one(lane[0], lane[1], ts), (x0s, ks)))
            pad = np.zeros(chunk, dtype=np.int64)
            return program.lower(x0s[pad], ks[pad], ts).compile()

        return _cached((name, lanes_of.key(), x0s.shape[1:], ks.shape[1:], ts.shape), build, compiled_for)

    def first_choice(n_species: int) -> str:
        if mode == "lanes" and settings["solver"] in ROSENBROCK and n_species > _UNROLLED_LU_MAX:
            raise InvalidInput("mode", f"lanes handles up to {_UNROLLED_LU_MAX} species, the model has {n_species}")
        if mode == "map":
            return "map"
        auto_lanes = settings["solver"] in LANE_METHODS and n_species <= AUTO_LANES_MAX_SPECIES
        return "lanes" if mode == "lanes" or auto_lanes else "map"

    def solve_chunk(compiled, x0s, ks, ts, lo: int) -> tuple[np.ndarray, np.ndarray, float]:
        idx = np.minimum(np.arange(lo, lo + chunk), len(x0s) - 1)  # pad the last chunk by repeating its last lane
        t0 = time.perf_counter()
        ys, ok = jax.block_until_ready(compiled(x0s[idx], ks[idx], ts))
        return np.asarray(ys), np.asarray(ok), time.perf_counter() - t0

    def single_lane_seconds(lanes_of, x0s, ks, ts, lanes: range) -> float:
        """Per-lane time of the jitted single solve (compiled on first use), the cost of a lane in a mapped chunk."""
        one = make_ode_solver(lanes_of, **options)
        jax.block_until_ready(one(x0s[lanes[0]], ks[lanes[0]], ts))
        t0 = time.perf_counter()
        for i in lanes:
            jax.block_until_ready(one(x0s[i], ks[i], ts))
        return (time.perf_counter() - t0) / len(lanes)

    def batch(x0s: jax.Array, ks: jax.Array, ts: jax.Array) -> tuple[jax.Array, jax.Array]:
        x0s, ks, ts = np.asarray(x0s, dtype=float), np.asarray(ks, dtype=float), jnp.asarray(ts)
        n = x0s.shape[0]
        lanes_of, ks = _fold(system, ks) if fold_constants else (system, ks)
        first = first_choice(x0s.shape[1])
        choice = [executable(first, lanes_of, x0s, ks, ts)]
        chunks = iter(range(0, n, chunk))
        lock = threading.Lock()
        done: dict[int, tuple] = {}

        def work() -> None:
            while True:
                with lock:
                    lo = next(chunks, None)
                if lo is None:
                    return
                done[lo] = solve_chunk(choice[0], x0s, ks, ts, lo)

        workers = max(1, min(n_threads, -(-n // chunk)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            if mode == "auto" and first == "lanes" and n > 2 * chunk:
                # This thread solves the first chunk by the first choice, timed, while a pool thread times a few
                # lanes of the second as single solves (a mapped chunk costs about `chunk` of them) and then joins
                # the work; the chunks taken after the decision go the cheaper way.
                per_lane = pool.submit(single_lane_seconds, lanes_of, x0s, ks, ts, range(chunk, min(chunk + 4, n)))
                jobs = [pool.submit(work) for _ in range(workers - 1)]
                with lock:
                    lo = next(chunks, None)
                if lo is not None:  # (None: the pool took every chunk first)
                    done[lo] = solve_chunk(choice[0], x0s, ks, ts, lo)
                    if per_lane.result() * chunk < done[lo][2]:
                        choice[0] = executable("map", lanes_of, x0s, ks, ts)
                    work()
            else:
                jobs = [pool.submit(work) for _ in range(workers)]
            for job in jobs:
                job.result()
        ys = np.concatenate([done[lo][0] for lo in sorted(done)])[:n]
        ok = np.concatenate([done[lo][1] for lo in sorted(done)])[:n]
        return jnp.asarray(ys), jnp.asarray(ok)

    return batch


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
