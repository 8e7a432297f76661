"""Steady states: ODE relaxation, then damped Newton with conservation constraints; implicit-function gradients.

A steady state of dx/dt = S v(x) inside the stoichiometric class of ``x0`` solves the square system

    F(x) = [ S_I v(x, k) ; L x − L x0 ] = 0

where S_I are rank(S) linearly independent species rows of S and L is the conservation-law basis. Newton's method on
F uses ``jax.jacfwd`` and a backtracking line search over a fixed ladder of step lengths (evaluated in one batch so
the whole solve is a ``lax.while_loop`` that works under ``jit`` and ``vmap``); iterates are kept non-negative.
The starting point is the ODE solution at ``t_relax`` (a stiff solver reaches the basin of the stable steady state
cheaply even over long times).

Derivatives: the solution map is wrapped in ``jax.custom_jvp`` with the implicit-function theorem,
dx* = −(∂F/∂x)⁻¹ (∂F/∂k dk + ∂F/∂T dT), so neither the Newton iterations nor the ODE relaxation are differentiated;
reverse mode follows by JAX transposing the linear solve.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np

from ...errors import InvalidInput, SimulationFailed
from ._massaction import MassActionSystem
from ._ode import build_solver

__all__ = ["make_steady_solver", "solve_steady_state", "steady_residual"]

_ALPHAS = 0.5 ** np.arange(0, 40)
# Explicit cache of jitted steady-state solvers keyed by network structure and options (least recently used dropped).
_CACHE: OrderedDict[tuple, Callable] = OrderedDict()


def steady_residual(system: MassActionSystem) -> Callable[[jax.Array, jax.Array, jax.Array], jax.Array]:
    """``F(x, k, T)`` of the module docstring, shape (n_s,)."""
    s_rows = jnp.asarray(system.net[list(system.independent_rows)])
    laws = jnp.asarray(system.conservation, dtype=float).reshape(-1, system.n_species)

    def F(x: jax.Array, k: jax.Array, T: jax.Array) -> jax.Array:
        return jnp.concatenate([s_rows @ system.rates(x, k), laws @ x - T])

    return F


def _scaled_residual(system: MassActionSystem) -> Callable[[jax.Array, jax.Array, jax.Array], jax.Array]:
    """Largest relative imbalance: |net flux| / gross flux per species, |Lx − T| / (|L||x|) per law."""
    net = jnp.asarray(system.net)
    laws = jnp.asarray(system.conservation, dtype=float).reshape(-1, system.n_species)

    def r(x: jax.Array, k: jax.Array, T: jax.Array) -> jax.Array:
        v = system.rates(x, k)
        flux = jnp.abs(net @ v) / (jnp.abs(net) @ jnp.abs(v) + 1e-300)
        cons = jnp.abs(laws @ x - T) / (jnp.abs(laws) @ jnp.abs(x) + 1e-300)
        return jnp.max(jnp.concatenate([flux, cons, jnp.zeros(1)]))

    return r


def _newton(F: Callable, scaled: Callable, tol: float, max_iter: int) -> Callable:
    def solve(x0: jax.Array, k: jax.Array, T: jax.Array) -> jax.Array:
        def merit(x):
            f = F(x, k, T)
            return jnp.sum(f * f)

        def body(state):
            x, it, _ = state
            f = F(x, k, T)
            J = jax.jacfwd(F)(x, k, T)
            dx = jnp.linalg.solve(J, -f)
            dx = jnp.where(jnp.isfinite(dx), dx, 0.0)
            trials = jnp.maximum(x[None, :] + jnp.asarray(_ALPHAS)[:, None] * dx[None, :], 0.0)
            m = jax.vmap(merit)(trials)
            m0 = jnp.sum(f * f)
            good = m <= (1.0 - 1e-4 * jnp.asarray(_ALPHAS)) * m0
            pick = jnp.where(jnp.any(good), jnp.argmax(good), jnp.argmin(jnp.where(jnp.isfinite(m), m, jnp.inf)))
            x_new = trials[pick]
            return x_new, it + 1, scaled(x_new, k, T) < tol

        def cond(state):
            _, it, done = state
            return (it < max_iter) & ~done

        x, _, _ = jax.lax.while_loop(cond, body, (x0, 0, scaled(x0, k, T) < tol))
        return x

    return solve


def make_steady_solver(
    system: MassActionSystem,
    *,
    tol: float = 1e-10,
    max_iter: int = 60,
    rtol: float = 1e-6,
    atol: float = 1e-10,
    solver: str = "Kvaerno5",
    max_relax_steps: int = 20_000,
) -> Callable[[jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """A differentiable ``f(x0, k, t_relax) -> (x_ss, residual)``.

    Parameters
    ----------
    system
        Compiled network (needs all rate constants when called).
    tol
        Newton stops when the largest relative imbalance (net/gross flux per species) falls below ``tol``.
    max_iter
        Newton iteration limit.
    rtol, atol, solver
        Options of the relaxation ODE solve (loose on purpose: Newton polishes).
    max_relax_steps
        Step limit of the relaxation; when reached, Newton starts from wherever it got.

    Returns
    -------
    callable
        ``x0`` (n_s,) mol/m³ (fixes the conserved totals), ``k`` (n_d,), ``t_relax`` s (scalar) ->
        steady state (n_s,) mol/m³ and the achieved relative residual (scalar). Differentiable in ``x0`` and ``k``
        (implicit function theorem); works under ``vmap``.
    """
    key = (system.key(), float(tol), int(max_iter), float(rtol), float(atol), solver, int(max_relax_steps))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    F = steady_residual(system)
    scaled = _scaled_residual(system)
    newton = _newton(F, scaled, tol, max_iter)
    term = dfx.ODETerm(system.rhs)
    method = build_solver(solver, rtol, atol)
    controller = dfx.PIDController(rtol=rtol, atol=atol)
    # Stop the relaxation once |dx/dt| is negligible: at steady state a stiff solver's steps grow until its implicit
    # stage equations stall at round-off (many rejected steps), so integrating "to infinity" is both slow and fragile.
    event = dfx.Event(dfx.steady_state_event(rtol=1e-6, atol=1e-12))

    def relax(x0: jax.Array, k: jax.Array, t_relax: jax.Array) -> jax.Array:
        sol = dfx.diffeqsolve(
            term,
            method,
            t0=0.0,
            t1=t_relax,
            dt0=None,
            y0=x0,
            args=k,
            saveat=dfx.SaveAt(t1=True),
            stepsize_controller=controller,
            max_steps=max_relax_steps,
            event=event,
            throw=False,
        )
        y = sol.ys[-1]
        return jnp.where(jnp.all(jnp.isfinite(y)), jnp.maximum(y, 0.0), x0)

    laws = jnp.asarray(system.conservation, dtype=float).reshape(-1, system.n_species)

    @jax.custom_jvp
    def root(k: jax.Array, T: jax.Array, guess: jax.Array) -> jax.Array:
        return newton(guess, k, T)

    @root.defjvp
    def _root_jvp(primals, tangents):
        k, T, guess = primals
        dk, dT, _ = tangents
        x = root(k, T, guess)
        J = jax.jacfwd(F)(x, k, T)
        _, dF = jax.jvp(lambda k_, T_: F(x, k_, T_), (k, T), (dk, dT))
        return x, -jnp.linalg.solve(J, dF)

    @jax.jit
    def run(x0: jax.Array, k: jax.Array, t_relax: jax.Array) -> tuple[jax.Array, jax.Array]:
        T = laws @ x0
        guess = relax(jax.lax.stop_gradient(x0), jax.lax.stop_gradient(k), t_relax)
        x = root(k, T, guess)
        return x, scaled(x, k, T)

    _CACHE[key] = run
    if len(_CACHE) > 16:
        _CACHE.popitem(last=False)
    return run


def solve_steady_state(
    system: MassActionSystem,
    x0: np.ndarray,
    k: np.ndarray | None = None,
    *,
    t_relax: float = 1e4,
    tol: float = 1e-10,
    accept: float = 1e-7,
    **options,
) -> tuple[np.ndarray, float]:
    """Steady state reached from ``x0`` (NumPy in/out); raise :class:`SimulationFailed` if not found.

    Parameters
    ----------
    x0
        Initial concentrations, mol/m³, shape (n_s,); fixes the conserved totals.
    k
        Rate constants (n_d,); default the network's.
    t_relax
        Relaxation time, s, integrated before Newton.
    tol, accept
        Newton target and the largest relative residual accepted as a steady state.

    Returns
    -------
    (x_ss, residual)
    """
    k = system.k if k is None else np.asarray(k, dtype=float)
    if not np.all(np.isfinite(k)):
        missing = [lab for lab, v in zip(system.labels, k) if not np.isfinite(v)]
        raise InvalidInput(f"reactions.{missing[0]}", "rate constant required but not given")
    run = make_steady_solver(system, tol=tol, **options)
    x, res = run(jnp.asarray(x0, dtype=float), jnp.asarray(k), jnp.asarray(float(t_relax)))
    x, res = np.asarray(x), float(res)
    if not (np.all(np.isfinite(x)) and res < accept):
        raise SimulationFailed(
            f"no steady state found (relative residual {res:.2e}); the network may be open with unbounded growth, "
            "or t_relax too short for the Newton start"
        )
    return x, res
