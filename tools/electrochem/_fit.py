"""Fitting simulated cyclic voltammograms to data: gradient (Levenberg–Marquardt on jax.jacfwd) and gradient-free.

The residual of all scan rates together is r(θ) = (I_sim(θ) − I_data)/s_k, with s_k the peak |I| of curve k (so each
scan rate weighs alike and a noise level proportional to the peak current gives equal variances). θ holds the fitted
parameters in unconstrained form: log for positive quantities (k0, D, k_chem, ...), logit for α, identity for E0.

* ``method="gradient"``: Levenberg–Marquardt (Marquardt's diagonal scaling, Nielsen's damping update) with the exact
  Jacobian from forward-mode differentiation through the whole simulation (``jax.jacfwd``; r and J from one pass),
  stopping once an accepted step changes χ² by less than 0.01 (the estimates have settled well within their errors).
* ``method="lbfgs"``: optax L-BFGS (``optax.scale_by_lbfgs``, memory 10) on ½‖r‖² with the gradient from
  reverse mode through the whole simulation (``jax.value_and_grad``), a host-side backtracking (Armijo) line search
  and steps projected onto the box; it stops on the same χ² rule (two accepted steps in a row, since a quasi-Newton
  step can stall briefly far from the optimum). The host-side line search because optax's zoom line search traces the
  objective into a ``lax.while_loop``: every fit shape would compile the reverse-mode simulation a second time
  (measured on the 2-core dev machine, 3 CVs x 201 points: 10.6 s to jit one ``optax.lbfgs()`` update on top of 6.0 s
  for ``value_and_grad`` itself), and the simulator calls it makes are hidden inside the compiled loop.
* ``method="nelder-mead"`` / ``"differential-evolution"``: SciPy's gradient-free optimisers on ½‖r‖², the baselines
  (Nelder–Mead from a simplex of ±10 % in positive parameters, ±0.05 in α, 10 mV in E0).

Levenberg–Marquardt stays the default: the objective is a sum of squares, so JᵀJ is a good Hessian from first
derivatives alone, and LM converges in a handful of iterations (quadratically near a small-residual optimum), whereas
L-BFGS must learn the curvature from successive gradients and so needs more evaluations; with p ≈ 4 parameters a
forward-mode Jacobian (1 + p calls) is not much dearer than a reverse-mode gradient. L-BFGS is there for fits with
many parameters, where one gradient beats p tangents, and as the quasi-Newton reference of the issue.

All curves run as one vmapped simulation (programs padded to a common length), and the fitted parameter set is an
index array rather than part of the compiled program, so fits of the same data shapes share one compilation.

Every method reports the same things: estimates, standard errors from the Gauss–Newton covariance
Σ = s² (JᵀJ)⁻¹ with s² = ‖r‖²/(N − p) (delta method back to SI units), correlations, identifiability warnings,
AIC/BIC, and the number of simulator calls. One simulator call is one CV at one scan rate; a forward-mode Jacobian
with p parameters is counted as 1 + p calls (its primal plus p tangents cost about that much); a reverse-mode
value-and-gradient as 1 + :data:`GRADIENT_CALLS` calls (the primal, then the backward pass, which re-runs the forward
sweep to rebuild what it needs and solves the transposed systems: measured ≈ 2 CVs, see the benchmark).

References
----------
.. [M63] D. W. Marquardt, *J. SIAM* 11 (1963) 431.  .. [N99] H. B. Nielsen, IMM-REP-1999-05 (DTU), damping update.
.. [LN89] D. C. Liu, J. Nocedal, *Math. Program.* 45 (1989) 503: L-BFGS.
.. [BA02] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel Inference*, 2nd ed., Springer 2002:
   AIC = N ln(RSS/N) + 2p, BIC = N ln(RSS/N) + p ln N for Gaussian errors; Akaike weights.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize
import scipy.special
from pydantic import Field

from ...errors import FitDidNotConverge, InvalidInput, SimulationFailed
from .._confined import save_figure
from .._files import write_errors
from ..fields import ToolModel
from ._baseline import capacitive_baseline
from ._classical import find_cv_peaks, nicholson_k0_values, randles_sevcik_D
from ._fit_quality import MAX_RESIDUAL_TO_NOISE, FitQuality, assess_fit
from ._grid import GridSpec
from ._readers import Voltammogram
from ._simulate import ECParams, SimSettings, check_params, cv_current
from ._waveforms import uniform_steps

__all__ = [
    "FITTABLE",
    "Method",
    "METHODS",
    "CVCurve",
    "ParameterEstimate",
    "CVFitResult",
    "ModelComparison",
    "prepare_curves",
    "initial_guesses",
    "initial_simplex",
    "fit_cv",
    "compare_cv_models",
    "simulate_fit",
    "plot_fit",
    "estimate_fit_seconds",
]

Method = Literal["gradient", "lbfgs", "nelder-mead", "differential-evolution"]
METHODS: tuple[str, ...] = ("gradient", "lbfgs", "nelder-mead", "differential-evolution")

# parameter -> transform: "log" (positive), "logit" (in (0, 1)), "id" (any real)
FITTABLE: dict[str, str] = {
    "E0": "id",
    "k0": "log",
    "alpha": "logit",
    "D": "log",  # sets D_O = D_R
    "D_O": "log",
    "D_R": "log",
    "k_chem": "log",
    "K_eq": "log",
    "lambda_eV": "log",
    "R_u": "log",
    "C_dl": "log",
    "c_bulk": "log",
    "area": "log",
}

_DEFAULT_BOUNDS: dict[str, tuple[float, float]] = {
    "k0": (1e-9, 10.0),
    "alpha": (0.05, 0.95),
    "D": (1e-12, 1e-7),
    "D_O": (1e-12, 1e-7),
    "D_R": (1e-12, 1e-7),
    "k_chem": (1e-4, 1e5),
    "K_eq": (1e-6, 1e6),
    "lambda_eV": (0.05, 3.0),
    "R_u": (1e-3, 1e5),
    "C_dl": (1e-12, 1e-2),
    "c_bulk": (1e-6, 1e4),
    "area": (1e-14, 1e-1),
}


# ---------------------------------------------------------------------------------------------------- data ----


@dataclass(frozen=True)
class CVCurve:
    """One CV ready for fitting: the potential program (V) sampled every ``dt`` s, with the measured current (A).

    The program is the measured potential itself, so the cell is taken to be at rest at ``E[0]`` when the data start.
    """

    E: np.ndarray
    I: np.ndarray
    dt: float
    scan_rate: float
    scale: float  # A, peak |I|; residuals are divided by it
    note: str | None = None  # preprocessing done to this curve (resampling), for the result and the report


def prepare_curves(data: Sequence[Voltammogram], *, max_points: int = 800) -> list[CVCurve]:
    """Programs and currents of ``data``, thinned to at most ``max_points`` samples each (every k-th point).

    The time step comes from ``t`` when present (median spacing), else from |ΔE|/scan_rate. Samples unevenly spaced
    in time (jitter of the instrument's clock, dropped points) are resampled by linear interpolation of E and I onto a
    uniform time grid at the median spacing, since the simulator steps uniformly in time; the curve's ``note`` says so.

    Raises
    ------
    InvalidInput
        Empty data, a curve without scan rate or times, or a curve with fewer than 10 points.
    """
    if not data:
        raise InvalidInput("data", "give at least one voltammogram")
    curves = []
    for k, v in enumerate(data):
        E, I, t = v.arrays()
        if E.size < 10:
            raise InvalidInput(f"data.{k}", f"needs at least 10 points, got {E.size}")
        note = None
        if t is not None:
            if np.any(np.diff(t) <= 0):
                raise InvalidInput(f"data.{k}.t", "times must increase")
            dt = float(np.median(np.diff(t)))
            if np.ptp(np.diff(t)) > 0.01 * dt:
                E, I, note = _resample_uniform(E, I, t, dt, k)
        elif v.scan_rate is not None:
            dt = float(np.median(np.abs(np.diff(E)))) / v.scan_rate
        else:
            raise InvalidInput(f"data.{k}.scan_rate", "needs a scan rate (V/s) or sample times")
        scan_rate = v.scan_rate or float(np.median(np.abs(np.diff(E)))) / dt
        scale = float(np.max(np.abs(I)))
        if scale <= 0:
            raise InvalidInput(f"data.{k}.I", "current is zero everywhere")
        stride = max(1, math.ceil(E.size / max_points))
        curves.append(CVCurve(E[::stride].copy(), I[::stride].copy(), dt * stride, scan_rate, scale, note))
    return curves


def _resample_uniform(E: np.ndarray, I: np.ndarray, t: np.ndarray, dt: float, k: int):
    """E and I linearly interpolated onto ``t[0] + dt * j`` (the simulator's uniform steps), with a note."""
    grid = t[0] + uniform_steps(t[-1] - t[0], dt, f"data.{k}.t")
    spread = np.ptp(np.diff(t)) / dt
    note = (
        f"curve {k}: {t.size} samples unevenly spaced in time (spacing varies by {100 * spread:.0f} % of the median "
        f"{dt:.4g} s) resampled onto {grid.size} uniform steps by linear interpolation"
    )
    return np.interp(grid, t, E), np.interp(grid, t, I), note


# ----------------------------------------------------------------------------------------------- transforms ----


def _forward(name: str, value: float) -> float:
    kind = FITTABLE[name]
    if kind == "log":
        return math.log(value)
    if kind == "logit":
        return math.log(value / (1.0 - value))
    return float(value)


def _backward(name: str, theta: float) -> float:
    """SI value of the unconstrained ``theta`` (host arithmetic: an eager JAX op would compile a program per call site
    in a fresh process); inf where exp overflows."""
    kind = FITTABLE[name]
    if kind == "log":
        with np.errstate(over="ignore"):
            return float(np.exp(theta))
    if kind == "logit":
        return float(scipy.special.expit(theta))
    return float(theta)


def _derivative(name: str, value: float) -> float:
    """d(value)/d(theta) at ``value`` (for the delta method)."""
    kind = FITTABLE[name]
    if kind == "log":
        return value
    if kind == "logit":
        return value * (1.0 - value)
    return 1.0


def _apply(base: ECParams, names: Sequence[str], values) -> ECParams:
    changes = {}
    for k, name in enumerate(names):
        if name == "D":
            changes["D_O"] = values[k]
            changes["D_R"] = values[k]
        else:
            changes[name] = values[k]
    return base.replace(**changes)


# ------------------------------------------------------------------------------------------------- problem ----


# The full parameter vector in a fixed order: which parameters a fit varies is data (an index array), not part of the
# compiled program, so fits of different parameter sets with the same count, data shapes and settings share one
# compilation (compiling the forward-mode Jacobian of a CV run costs seconds).
_SLOTS: tuple[str, ...] = tuple(FITTABLE)
_KIND_CODE = np.array([{"id": 0, "log": 1, "logit": 2}[FITTABLE[n]] for n in _SLOTS])


def _slot_indices(names: Sequence[str]) -> np.ndarray:
    return np.array([_SLOTS.index(n) for n in names], dtype=np.int32)


def _params_at(theta, idx, base: ECParams) -> ECParams:
    """``base`` with the parameters at slots ``idx`` set from the unconstrained ``theta`` (shape (p,))."""
    # a one-hot product rather than ``.at[idx].set``: scatters (and their derivatives) are slow to compile on CPU
    onehot = (idx[:, None] == jnp.arange(len(_SLOTS))[None, :]).astype(theta.dtype)
    full = theta @ onehot
    chosen = jnp.sum(onehot, axis=0) > 0
    kind = jnp.asarray(_KIND_CODE)
    # exp/sigmoid of the unchosen zeros are finite, so jnp.where passes no NaN into the gradients
    values = jnp.where(kind == 1, jnp.exp(full), jnp.where(kind == 2, jax.nn.sigmoid(full), full))
    changes = {n: jnp.where(chosen[j], values[j], getattr(base, n)) for j, n in enumerate(_SLOTS) if n != "D"}
    d = _SLOTS.index("D")  # "D" ties D_O = D_R
    changes["D_O"] = jnp.where(chosen[d], values[d], changes["D_O"])
    changes["D_R"] = jnp.where(chosen[d], values[d], changes["D_R"])
    return base.replace(**changes)


def _weighted_model(theta, idx, base, programs, dts, scales, settings):
    """Simulated currents of every curve divided by their scales, concatenated (shape (n_curves * L,)).

    ``programs`` (n_curves, L) holds each curve's potentials padded to a common length by repeating the last one; the
    caller keeps the real samples (on the host: a gather and its derivative in the program would only add compile
    time). One vmapped simulation then serves any mix of windows and lengths and compiles once per
    (curves, L, p, settings). The simulation is causal, so padding changes the kept
    samples only through the space grid, which scales with √(duration): measured ≤ 1.4e-6 of the peak current for
    a 4× longer padded program (default grid), far below noise and discretisation error.
    """
    params = _params_at(theta, idx, base)
    sims = jax.vmap(lambda E, dt: cv_current(params, E, dt, settings=settings))(programs, dts)
    return (sims / scales[:, None]).reshape(-1)


# Compilation choices of every fit's simulator (cold start, benchmarks/cold_start.py). checks=False: the bounds
# transforms keep fitted values valid and fit_cv checks the fixed ones, so the compiled programs hold no host callback
# and JAX's persistent cache (tools/_runtime.py) can store them. unroll=1: compiles ~3x faster than the default 8
# (first fit with an empty cache 9 s instead of 27 s on a loaded 2-core box) for a small cost per warm fit.
FIT_COMPILE = {"checks": False, "unroll": 1}

# XLA's older (non-"fusion emitter") CPU code generator for the fit's programs: measured on the 2-core box (load ~10)
# for the 3-curve Jacobian program, 1.2 s of compile CPU instead of 2.1-2.2 s, for ~30 % more time per warm Jacobian
# (1.9 ms instead of 1.45 ms, minimum of 60), i.e. a few ms per warm fit against ~1 s (more under load) per cold one.
# The standalone simulator (cv_current) keeps the default, where warm speed is what counts.
_FIT_XLA_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


@functools.cache
def _fit_compiler_options() -> dict[str, bool]:
    """:data:`_FIT_XLA_OPTIONS` if this jaxlib knows them, else none (XLA refuses unknown options)."""
    try:
        jax.jit(lambda x: x + 1.0, compiler_options=_FIT_XLA_OPTIONS).lower(np.zeros(1)).compile()
    except Exception:  # noqa: BLE001 -- XlaRuntimeError/JaxRuntimeError: the option is gone in this jaxlib
        return {}
    return dict(_FIT_XLA_OPTIONS)


def _model_and_model(*args, **kwargs):
    m = _weighted_model(*args, **kwargs)
    return m, m


@functools.cache
def _jitted() -> dict[str, Callable]:
    """The fit's jitted functions, made once per process (repeated fits of same-shaped data with the same settings
    reuse their compilations). The Jacobian carries the model's value as auxiliary output: forward mode computes the
    primal anyway, so Levenberg-Marquardt gets r and J from one evaluation (charged 1 + p calls) and a gradient fit
    compiles one function, not two."""
    options = _fit_compiler_options()
    jit = functools.partial(jax.jit, static_argnames=("settings",), compiler_options=options or None)
    return {
        "model": jit(_weighted_model),
        "jacobian": jit(jax.jacfwd(_model_and_model, has_aux=True)),
        "value_and_grad": jit(jax.value_and_grad(_half_sum_squares)),
    }


# One reverse-mode pass = the forward recomputation + the transposed solves, charged as this many simulator calls
# beyond the primal. Measured on the 2-core dev machine (3 curves x 201 points, default grid, warm): value_and_grad
# takes ~3x one residual, i.e. 1 + 2.
GRADIENT_CALLS = 2


def _half_sum_squares(theta, data, mask, *args, **kwargs):
    """½‖r‖² with r = weighted model − weighted data on the real samples (``mask`` 1, padding 0): the objective the
    line search and L-BFGS see. ``data`` is padded like the model."""
    r = (_weighted_model(theta, *args, **kwargs) - data) * mask
    return 0.5 * jnp.sum(r * r)


class _Problem:
    """The weighted residual r(θ) of all curves, jitted, with a counter of simulator calls."""

    def __init__(self, curves: list[CVCurve], base: ECParams, names: Sequence[str], settings: SimSettings):
        self.curves, self.base, self.names, self.settings = curves, base, list(names), settings
        self.n_curves = len(curves)
        self.calls = 0
        self.data = np.concatenate([c.I / c.scale for c in curves])
        length = max(c.E.size for c in curves)
        programs = np.stack([np.pad(c.E, (0, length - c.E.size), mode="edge") for c in curves])
        self.keep = np.concatenate([k * length + np.arange(c.E.size) for k, c in enumerate(curves)])
        # device_put, not jnp.asarray: the latter compiles a small program per array shape in a fresh process
        put = jax.device_put
        base = jax.tree_util.tree_map(lambda x: put(np.asarray(x, dtype=np.float64)), base)
        dts, scales = put(np.array([c.dt for c in curves])), put(np.array([c.scale for c in curves]))
        args = (put(_slot_indices(names)), base, put(programs), dts, scales)
        static = {"settings": settings}
        fns = _jitted()
        self._model = lambda theta: fns["model"](put(theta), *args, **static)
        self._jac = lambda theta: fns["jacobian"](put(theta), *args, **static)
        data, mask = np.zeros(len(curves) * length), np.zeros(len(curves) * length)
        data[self.keep], mask[self.keep] = self.data, 1.0
        data, mask = put(data), put(mask)
        self._value_grad = lambda theta: fns["value_and_grad"](put(theta), data, mask, *args, **static)

    def residual(self, theta: np.ndarray) -> np.ndarray:
        self.calls += self.n_curves
        r = np.asarray(self._model(np.asarray(theta, dtype=float)))[self.keep] - self.data
        return r if np.all(np.isfinite(r)) else np.full_like(r, np.inf)

    def residual_and_jacobian(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """r(θ) (inf where the simulation failed) and its Jacobian (N, p) from one forward-mode pass."""
        self.calls += self.n_curves * (1 + len(self.names))
        J, model = self._jac(np.asarray(theta, dtype=float))
        r = np.asarray(model)[self.keep] - self.data
        return (r if np.all(np.isfinite(r)) else np.full_like(r, np.inf)), np.asarray(J)[self.keep]

    def cost_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """½‖r(θ)‖² (inf where the simulation failed) and its gradient (p,) by reverse mode, charged
        1 + GRADIENT_CALLS calls per curve."""
        self.calls += self.n_curves * (1 + GRADIENT_CALLS)
        value, grad = self._value_grad(np.asarray(theta, dtype=float))
        value, grad = float(value), np.asarray(grad)
        return (value, grad) if np.isfinite(value) and np.all(np.isfinite(grad)) else (np.inf, grad)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        return self.residual_and_jacobian(theta)[1]

    def currents(self, theta: np.ndarray) -> list[np.ndarray]:
        """Simulated currents (A) per curve at ``theta`` (not counted: used for reporting). Goes through the Jacobian
        function, which every fit has compiled (for its covariance): a few ms more than the model alone, but a
        gradient fit never compiles the model alone."""
        out = np.asarray(self._jac(np.asarray(theta, dtype=float))[1])[self.keep]
        parts = np.split(out, np.cumsum([c.E.size for c in self.curves])[:-1])
        return [p * c.scale for p, c in zip(parts, self.curves)]


class _Budget(Exception):
    pass


# --------------------------------------------------------------------------------------------- optimisers ----


def _levenberg_marquardt(
    problem: _Problem, theta0, lo, hi, *, max_iter: int, max_calls: int | None, ftol: float, chi2_tol: float
):
    """Bounded LM (steps clipped to the box). Returns (theta, r, J, iterations, converged, message) with r and J at
    theta, so the covariance needs no further simulation.

    Every point (start and trial) is evaluated with its Jacobian in one forward-mode pass (1 + p calls): most trial
    steps are accepted, and an accepted step needs that Jacobian next. Stops when an accepted step lowers
    χ² = ‖r‖²/s² by less than ``chi2_tol`` (s² = ‖r‖²/(N − p), the residual variance): the parameters then moved by
    about √chi2_tol standard errors or less, so further iterations cannot change the estimates beyond their
    uncertainty. ``ftol`` (relative cost change) covers noise-free data, where s² is tiny and the χ² rule would
    never fire.
    """
    theta = np.clip(np.asarray(theta0, float), lo, hi)
    r, J = problem.residual_and_jacobian(theta)
    cost = 0.5 * float(r @ r)
    lam, nu = 1e-3, 2.0
    it, converged, message = 0, False, "maximum iterations reached"
    dof = max(r.size - theta.size, 1)
    while it < max_iter:
        it += 1
        if max_calls is not None and problem.calls >= max_calls:
            message = "simulator-call budget reached"
            break
        A = J.T @ J
        g = J.T @ r
        if np.max(np.abs(g)) < 1e-14 * max(1.0, cost):
            converged, message = True, "gradient vanished"
            break
        D = np.diag(np.maximum(np.diag(A), 1e-12))
        try:
            step = np.linalg.solve(A + lam * D, -g)
        except np.linalg.LinAlgError:
            lam *= nu
            nu *= 2
            continue
        trial = np.clip(theta + step, lo, hi)
        r_new, J_new = problem.residual_and_jacobian(trial)
        cost_new = 0.5 * float(r_new @ r_new)
        predicted = -(g @ (trial - theta)) - 0.5 * (trial - theta) @ A @ (trial - theta)
        rho = (cost - cost_new) / predicted if predicted > 0 else -1.0
        if np.isfinite(cost_new) and cost_new < cost and np.all(np.isfinite(J_new)):
            rel = (cost - cost_new) / max(cost, 1e-300)
            d_chi2 = 2.0 * (cost - cost_new) / max(2.0 * cost_new / dof, 1e-300)
            theta, r, J, cost = trial, r_new, J_new, cost_new
            lam *= max(1 / 3, 1 - (2 * rho - 1) ** 3) if rho > 0 else 1.0
            nu = 2.0
            if d_chi2 < chi2_tol:
                converged, message = True, f"chi-square change below {chi2_tol:g} (estimates settled within errors)"
                break
            if rel < ftol or np.max(np.abs(step)) < 1e-10:
                converged, message = True, "relative cost change below tolerance"
                break
        else:
            lam *= nu
            nu *= 2
            if lam > 1e12:
                converged, message = True, "no further decrease possible (damping at its limit)"
                break
    return theta, r, J, it, converged, message


@functools.cache
def _lbfgs_direction():
    """optax's L-BFGS preconditioner (memory 10): ``init`` and a jitted ``update`` (run op by op, its two-loop
    recursion costs ~0.25 s per iteration in dispatch, 100x a simulation)."""
    import optax  # only this method needs it

    transform = optax.scale_by_lbfgs(memory_size=10)
    return transform.init, jax.jit(transform.update)


def _lbfgs(problem: _Problem, theta0, lo, hi, *, max_iter: int, max_calls: int | None, ftol: float, chi2_tol: float):
    """L-BFGS (optax ``scale_by_lbfgs`` for the direction) with a backtracking Armijo line search on the host and
    trial points projected onto the box. Returns (theta, iterations, converged, message).

    optax keeps the curvature pairs (s, y) of accepted steps and scales its very first direction to a unit-norm step
    (a tenth of a decade in the log parameters is then reached after ≤ 4 halvings). Every trial point costs one
    value-and-gradient: an accepted trial's gradient is the next iteration's. Stops when two accepted steps in a row
    each lower χ² = ‖r‖²/s² by less than ``chi2_tol`` (or the cost by less than ``ftol`` relative), as LM does.
    """
    theta = np.clip(np.asarray(theta0, float), lo, hi)
    cost, grad = problem.cost_and_gradient(theta)
    if not np.isfinite(cost):
        return theta, 0, False, "simulation failed at the starting point"
    dof = max(problem.data.size - theta.size, 1)
    init, update = _lbfgs_direction()
    state = init(jnp.asarray(theta))
    it, small, converged, message = 0, 0, False, "maximum iterations reached"
    while it < max_iter:
        it += 1
        if np.max(np.abs(grad)) < 1e-14 * max(1.0, cost):
            converged, message = True, "gradient vanished"
            break
        # the preconditioner learns from (theta, grad) pairs of accepted points only
        d, state = update(jnp.asarray(grad), state, jnp.asarray(theta))
        d = -np.asarray(d)
        if not grad @ d < 0:  # not a descent direction (curvature pair went bad): fall back to steepest descent
            d = -grad / max(np.linalg.norm(grad), 1e-300)
        step, accepted = 1.0, False
        for _ in range(30):
            if max_calls is not None and problem.calls >= max_calls:
                break
            trial = np.clip(theta + step * d, lo, hi)
            cost_new, grad_new = problem.cost_and_gradient(trial)
            # Armijo on the projected step: sufficient decrease relative to the first-order prediction
            if np.isfinite(cost_new) and cost_new <= cost + 1e-4 * float(grad @ (trial - theta)):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            if max_calls is not None and problem.calls >= max_calls:
                message = "simulator-call budget reached"
            else:
                converged, message = True, "line search found no further decrease"
            break
        rel = (cost - cost_new) / max(cost, 1e-300)
        d_chi2 = 2.0 * (cost - cost_new) / max(2.0 * cost_new / dof, 1e-300)
        moved = np.max(np.abs(trial - theta))
        theta, cost, grad = trial, cost_new, grad_new
        small = small + 1 if d_chi2 < chi2_tol else 0
        if small >= 2:
            converged, message = True, f"chi-square change below {chi2_tol:g} twice (estimates settled within errors)"
            break
        if rel < ftol or moved < 1e-10:
            converged, message = True, "relative cost change below tolerance"
            break
    return theta, it, converged, message


# Nelder–Mead's first simplex, per transform: ±10 % for positive quantities, ±0.05 in α near ½, 10 mV in E0. SciPy's
# default (5 % of each coordinate, 0.00025 for a zero one) would leave α = ½ (logit 0) almost fixed: an unfair baseline.
_SIMPLEX_STEP = {"log": 0.1, "logit": 0.2, "id": 0.01}


def initial_simplex(names: Sequence[str], theta0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Nelder–Mead's starting simplex in the transformed coordinates, shape (p + 1, p); steps that would leave the
    box go the other way."""
    theta0 = np.asarray(theta0, float)
    simplex = np.tile(theta0, (len(names) + 1, 1))
    for k, name in enumerate(names):
        step = _SIMPLEX_STEP[FITTABLE[name]]
        simplex[k + 1, k] = theta0[k] + step if theta0[k] + step <= hi[k] else theta0[k] - step
    return np.clip(simplex, lo, hi)


def _gradient_free(problem: _Problem, method: str, theta0, lo, hi, *, max_calls: int, seed: int, ftol: float):
    best = {"cost": np.inf, "theta": np.asarray(theta0, float)}

    def objective(theta):
        if problem.calls + problem.n_curves > max_calls:
            raise _Budget
        r = problem.residual(np.clip(theta, lo, hi))
        c = 0.5 * float(r @ r)
        if c < best["cost"]:
            best["cost"], best["theta"] = c, np.clip(np.asarray(theta, float), lo, hi)
        return c

    converged, message, it = False, "simulator-call budget reached", 0
    try:
        if method == "nelder-mead":
            res = scipy.optimize.minimize(
                objective,
                best["theta"],
                method="Nelder-Mead",
                bounds=list(zip(lo, hi)),
                options={
                    "maxfev": max_calls // problem.n_curves,
                    "xatol": 1e-9,
                    "fatol": ftol * best_cost(problem),
                    "initial_simplex": initial_simplex(problem.names, best["theta"], lo, hi),
                },
            )
            it, converged, message = res.nit, bool(res.success), str(res.message)
        else:
            res = scipy.optimize.differential_evolution(
                objective,
                list(zip(lo, hi)),
                seed=seed,
                popsize=10,
                maxiter=10_000,
                tol=1e-10,
                polish=False,
                init="latinhypercube",
                x0=best["theta"],
            )
            it, converged, message = res.nit, bool(res.success), str(res.message)
    except _Budget:
        pass
    return best["theta"], it, converged, message


def best_cost(problem: _Problem) -> float:
    # Nelder-Mead's fatol is absolute; scale it by the data's size so that it means "relative"
    return 0.5 * float(problem.data @ problem.data)


# -------------------------------------------------------------------------------------------------- results ----


class ParameterEstimate(ToolModel):
    value: float = Field(description="Estimate, SI units of the parameter (V, m/s, m^2/s, 1/s, ...).")
    stderr: float | None = Field(description="Standard error (Gauss-Newton covariance, delta method), same unit.")
    ci95: tuple[float, float] | None = Field(description="95 % interval from the transformed scale, same unit.")
    initial: float = Field(description="Starting value, same unit.")
    at_bound: bool = Field(default=False, description="True if the estimate sits on a bound.")


class CVFitResult(ToolModel):
    """Estimates, uncertainties and diagnostics of one CV fit."""

    method: str
    mechanism: str
    kinetics: str
    # first among the results, so that a summary cut short (a chat answer) still says whether to trust the fit
    poor_fit: bool = Field(default=False, description="True if the fit-quality checks failed (see quality.reasons).")
    fit_verdict: str = Field(default="", description="'good fit' or 'POOR FIT: <short reasons>'.")
    parameters: dict[str, ParameterEstimate] = Field(description="Fitted parameters by name.")
    fixed: dict[str, float | None] = Field(description="Every ECParams field used (SI), fitted ones at their estimate.")
    correlation: list[list[float]] | None = Field(description="Correlation matrix of the fitted parameters.")
    rss: float = Field(description="Weighted residual sum of squares (currents scaled by each curve's peak |I|).")
    rmse_relative: float = Field(description="sqrt(rss/N): rms residual as a fraction of peak current.")
    n_points: int
    n_params: int
    aic: float = Field(description="N ln(rss/N) + 2p.")
    bic: float = Field(description="N ln(rss/N) + p ln N.")
    sim_calls: int = Field(description="Simulator calls (one CV at one scan rate; a Jacobian counts 1 + p).")
    iterations: int
    wall_time_s: float = Field(description="Wall time of the fit including compilation, s.")
    converged: bool
    message: str
    scan_rates: list[float] = Field(description="V/s, one per curve.")
    warnings: list[str] = Field(default_factory=list)
    plots: list[str] = Field(default_factory=list, description="PNG files written.")
    quality: FitQuality | None = Field(
        default=None, description="Parameters at bounds, residual vs estimated noise, residual structure; poor_fit."
    )
    preprocessing: list[str] = Field(
        default_factory=list, description="What was done to the data before fitting (e.g. resampling), per curve."
    )


def _covariance(J: np.ndarray, r: np.ndarray) -> tuple[np.ndarray | None, float, list[str]]:
    n, p = J.shape
    warnings = []
    s2 = float(r @ r) / max(n - p, 1)
    A = J.T @ J
    d = np.sqrt(np.maximum(np.diag(A), 1e-300))
    As = A / np.outer(d, d)  # scale-free conditioning
    if not np.all(np.isfinite(As)):  # LAPACK's SVD does not converge on inf/NaN: say so instead of raising
        warnings.append("covariance not available: the Jacobian at the estimate is not finite")
        return None, s2, warnings
    cond = np.linalg.cond(As)
    if not np.isfinite(cond) or cond > 1e12:
        warnings.append(f"covariance is singular (condition number {cond:.2g}): parameters not identifiable together")
        return None, s2, warnings
    if cond > 1e8:
        warnings.append(f"covariance is nearly singular (condition number {cond:.2g}): weak identifiability")
    cov = s2 * np.linalg.inv(As) / np.outer(d, d)
    return cov, s2, warnings


def _result(
    problem, theta, theta0, lo, hi, *, method, it, converged, message, t0, warnings, r=None, J=None
) -> CVFitResult:
    """Estimates and diagnostics at ``theta``; ``r`` and ``J`` are reused when the optimiser already has them."""
    names = problem.names
    if r is None or J is None:
        r, J = problem.residual_and_jacobian(theta)
    if not np.all(np.isfinite(r)):
        # e.g. potentials far outside the couple's window: exp(F·η/RT) overflows, so no estimate can be judged
        raise FitDidNotConverge(
            f"the simulated current is not finite at the estimate ({int(np.sum(~np.isfinite(r)))} of {r.size} "
            "points); check the potentials and parameter bounds"
        )
    cov, _, cov_warn = _covariance(J, r)
    warnings = list(warnings) + cov_warn
    sizes = np.cumsum([c.E.size for c in problem.curves])[:-1]
    quality = assess_fit(
        np.split(r, sizes), [c.I for c in problem.curves], [c.scale for c in problem.curves], names, theta, lo, hi
    )
    params, corr = {}, None
    if cov is not None:
        sd = np.sqrt(np.maximum(np.diag(cov), 0))
        corr = (cov / np.outer(np.maximum(sd, 1e-300), np.maximum(sd, 1e-300))).tolist()
        for i in range(len(names)):
            for j in range(i):
                if abs(corr[i][j]) > 0.95:
                    warnings.append(
                        f"{names[i]} and {names[j]} are strongly correlated (r = {corr[i][j]:+.3f}): "
                        "fix one or add data that separates them (e.g. more scan rates)"
                    )
    for k, name in enumerate(names):
        value = float(_backward(name, theta[k]))
        stderr = ci = None
        if cov is not None:
            s = float(np.sqrt(max(cov[k, k], 0.0)))
            stderr = abs(_derivative(name, value)) * s
            ci = (float(_backward(name, theta[k] - 1.96 * s)), float(_backward(name, theta[k] + 1.96 * s)))
            if not np.isfinite([stderr, *ci]).all():  # exp() of a huge log-scale interval: the data do not bound it
                stderr = ci = None
                warnings.append(f"{name} has no finite 95 % interval: these data do not bound it")
            if FITTABLE[name] != "id" and s > 1.0:
                warnings.append(f"{name} is not identified by these data (relative uncertainty > 100 %)")
        at_bound = name in quality.at_bounds
        if at_bound:
            warnings.append(f"{name} = {value:.4g} sits on its bound")
        params[name] = ParameterEstimate(
            value=value, stderr=stderr, ci95=ci, initial=float(_backward(name, theta0[k])), at_bound=at_bound
        )
    n, p = r.size, len(names)
    rss = float(r @ r)
    if not math.isfinite(rss):
        raise SimulationFailed(
            "the fitted curves' residuals overflow float64 (rss = inf): the fixed values put the simulated currents "
            "hundreds of orders of magnitude away from the data; check area, concentration and the units"
        )
    fitted = _apply(problem.base, names, [params[nm].value for nm in names])
    fixed = {f: (None if getattr(fitted, f) is None else float(getattr(fitted, f))) for f in _PARAM_FIELDS}
    return CVFitResult(
        method=method,
        mechanism=problem.settings.mechanism,
        kinetics=problem.settings.kinetics,
        parameters=params,
        fixed=fixed,
        correlation=corr,
        rss=rss,
        rmse_relative=math.sqrt(rss / n),
        n_points=n,
        n_params=p,
        aic=n * math.log(rss / n) + 2 * p,
        bic=n * math.log(rss / n) + p * math.log(n),
        sim_calls=problem.calls,
        iterations=int(it),
        wall_time_s=time.perf_counter() - t0,
        converged=bool(converged),
        message=message,
        scan_rates=[c.scan_rate for c in problem.curves],
        warnings=warnings + [f"poor fit: {why}" for why in quality.reasons],
        quality=quality,
        poor_fit=quality.poor_fit,
        fit_verdict=_verdict(quality),
        preprocessing=[c.note for c in problem.curves if c.note],
    )


def _verdict(q: FitQuality) -> str:
    """A one-line verdict: 'good fit', or 'POOR FIT: ' and each failed check in a few words."""
    if not q.poor_fit:
        return f"good fit (residual {q.residual_to_noise:.2g}x the estimated noise, unstructured)"
    short = [f"{', '.join(q.at_bounds)} at bound"] if q.at_bounds else []
    if q.residual_to_noise > MAX_RESIDUAL_TO_NOISE:
        short.append(f"residual {q.residual_to_noise:.2g}x the estimated noise")
    if any(r.startswith("residuals are structured") for r in q.reasons):
        short.append(f"structured residuals (lag-1 autocorrelation {q.lag1_autocorrelation:.2f})")
    return "POOR FIT: " + "; ".join(short)


_PARAM_FIELDS = (
    "E0", "k0", "alpha", "D_O", "D_R", "c_bulk", "area", "T", "n",
    "lambda_eV", "k_chem", "K_eq", "R_u", "C_dl", "radius",
)  # fmt: skip


# ------------------------------------------------------------------------------------------------ guesses ----


def initial_guesses(curves: Sequence[CVCurve], base: ECParams) -> dict[str, float]:
    """First guesses from the classical analyses: E0 from (Epa+Epc)/2, D from Randles–Ševčík (reversible
    coefficient), k0 from Nicholson's ψ(ΔEp) with that D; α = 0.5; C_dl from the current step at the switching
    potentials (:func:`capacitive_baseline`, median over curves). Falls back to ``base`` where a curve has no peaks."""
    guess: dict[str, float] = {"alpha": 0.5, "k_chem": 1.0, "lambda_eV": 0.8}
    C_dl = _capacitance_guess(curves)
    if C_dl is not None:
        guess["C_dl"] = C_dl
    peaks = []
    for c in curves:
        try:
            peaks.append((c.scan_rate, find_cv_peaks(c.E, c.I)))
        except InvalidInput:
            continue
    if peaks:
        guess["E0"] = float(np.mean([p.E_half for _, p in peaks]))
    if len(peaks) >= 2:
        v = [s for s, _ in peaks]
        ip = [p.forward_current for _, p in peaks]
        n = float(base.n)
        try:
            D = randles_sevcik_D(v, ip, n=round(n), area=float(base.area), concentration=float(base.c_bulk)).D
            guess["D"] = guess["D_O"] = guess["D_R"] = D
            nich = nicholson_k0_values(v, [max(p.delta_Ep, 1e-4) for _, p in peaks], D_O=D, n=round(n))
            if np.isfinite(nich.k0):
                guess["k0"] = nich.k0
            else:  # reversible at every scan rate: start well above the measurable bound
                f = 96485.33212 / (8.314462618 * float(base.T))
                guess["k0"] = 10 * max(20 * np.sqrt(np.pi * D * n * f * s) for s in v)
        except InvalidInput:
            pass
    return guess


def _capacitance_guess(curves: Sequence[CVCurve]) -> float | None:
    """Median C_dl (F) of the curves' capacitive baselines; ``None`` when no curve gives a positive one."""
    values = []
    for c in curves:
        try:
            values.append(capacitive_baseline(c.E, c.I, scan_rate=c.scan_rate).C_dl)
        except InvalidInput:  # a single sweep: no switching potential to read the step at
            continue
    values = [v for v in values if v > 0]
    return float(np.median(values)) if values else None


# ---------------------------------------------------------------------------------------------------- fit ----


def fit_cv(
    data: Sequence[Voltammogram],
    mechanism: str = "E",
    params_to_fit: Sequence[str] = ("k0", "alpha", "D", "E0"),
    bounds: Mapping[str, tuple[float, float]] | None = None,
    *,
    kinetics: str = "bv",
    fixed: Mapping[str, float] | None = None,
    initial: Mapping[str, float] | None = None,
    method: Method = "gradient",
    max_iterations: int = 50,
    max_sim_calls: int | None = None,
    grid: GridSpec | None = None,
    max_points: int = 800,
    bulk: Literal["R", "O"] | None = None,
    seed: int = 0,
    ftol: float = 1e-10,
    chi2_tol: float = 1e-2,
    plot_dir: str | Path | None = None,
    raise_on_failure: bool = False,
) -> CVFitResult:
    """Fit simulated CVs (all scan rates jointly) to measured ones.

    Parameters
    ----------
    data
        Voltammograms (V, A, s; each with ``scan_rate`` or ``t``), one per scan rate; each is simulated from rest at
        its first potential.
    mechanism, kinetics
        ``"E"``, ``"EC"``, ``"CE"``; ``"bv"``, ``"nernst"``, ``"mhc"``.
    params_to_fit
        Names from :data:`FITTABLE` (``"D"`` ties D_O = D_R). ``"C_dl"`` (F) fits the double-layer charging
        current C_dl dE/dt (±C_dl v on the sweeps) as a nuisance term; it starts from the capacitive baseline read
        at the switching potentials (:func:`initial_guesses`).
    bounds
        ``name -> (low, high)`` in SI; defaults are wide physical ranges (E0: first guess ± 0.3 V).
    fixed
        Known :class:`ECParams` fields in SI (``area`` m², ``c_bulk`` mol/m³, ``T`` K, ``n``, ...). ``area`` and
        ``c_bulk`` are required unless fitted: they are never taken from a default or a file's placeholder.
    initial
        Starting values in SI; missing ones come from :func:`initial_guesses` (classical analyses).
    method
        ``"gradient"`` (Levenberg–Marquardt with forward-mode Jacobians), ``"lbfgs"`` (optax L-BFGS with
        reverse-mode gradients), ``"nelder-mead"``,
        ``"differential-evolution"``.
    max_iterations, max_sim_calls
        Limits; gradient-free methods default to 200·p·(number of curves) simulator calls.
    ftol, chi2_tol
        Gradient method stops when an accepted step lowers the cost by less than ``ftol`` (relative) or lowers
        χ² = RSS/s² by less than ``chi2_tol`` (estimates then move by ≲ √chi2_tol standard errors).
    grid, max_points
        Simulator space grid and the largest number of samples kept per curve (thinning).
    plot_dir
        If given, writes ``cv_fit.png`` (data vs fit) and ``cv_residuals.png`` there.
    raise_on_failure
        Raise :class:`FitDidNotConverge` instead of returning ``converged=False``.

    Returns
    -------
    CVFitResult
    """
    t0 = time.perf_counter()
    unknown = [p for p in params_to_fit if p not in FITTABLE]
    if unknown:
        raise InvalidInput("params_to_fit", f"unknown parameter {unknown[0]!r}; choose from {sorted(FITTABLE)}")
    if not params_to_fit or len(set(params_to_fit)) != len(params_to_fit):
        raise InvalidInput("params_to_fit", "give at least one parameter, each once")
    if "D" in params_to_fit and ("D_O" in params_to_fit or "D_R" in params_to_fit):
        raise InvalidInput("params_to_fit", "'D' ties D_O = D_R; do not fit it together with D_O or D_R")
    if method not in METHODS:
        raise InvalidInput("method", f"must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    curves = prepare_curves(data, max_points=max_points)
    fixed = dict(fixed or {})
    bad = [k for k in fixed if k not in _PARAM_FIELDS]
    if bad:
        raise InvalidInput(f"fixed.{bad[0]}", f"not a parameter; choose from {list(_PARAM_FIELDS)}")
    for need, what in (("area", "electrode area (m^2)"), ("c_bulk", "bulk concentration (mol/m^3)")):
        # never a default or a file's placeholder: either scales the current, and so D and k0, without a trace
        if need not in fixed and need not in params_to_fit:
            raise InvalidInput(f"fixed.{need}", f"give the {what}, or fit it; it is never assumed")
    if bulk is None:  # the first sweep's direction says which form is in solution
        bulk = "R" if curves[0].E[min(3, curves[0].E.size - 1)] > curves[0].E[0] else "O"
    base = ECParams(**{k: float(v) for k, v in fixed.items()})
    if kinetics == "nernst" and {"k0", "alpha", "lambda_eV"} & set(params_to_fit):
        raise InvalidInput("params_to_fit", "Nernstian kinetics has no k0, alpha or lambda_eV to fit")
    if kinetics != "mhc" and "lambda_eV" in params_to_fit:
        raise InvalidInput("params_to_fit", "lambda_eV is a Marcus-Hush-Chidsey parameter; use kinetics='mhc'")
    if mechanism == "E" and {"k_chem", "K_eq"} & set(params_to_fit):
        raise InvalidInput("params_to_fit", "mechanism 'E' has no chemical step (k_chem, K_eq); use 'EC' or 'CE'")
    ohmic = "R_u" in params_to_fit or float(fixed.get("R_u", 0.0)) != 0.0
    settings = SimSettings(
        mechanism=mechanism, kinetics=kinetics, bulk=bulk, grid=grid or GridSpec(), ohmic=ohmic, **FIT_COMPILE
    )
    try:  # concrete checks here: inside the fit the parameters are traced
        check_params(base, settings)
    except InvalidInput as err:
        raise InvalidInput(f"fixed.{err.field}", err.reason) from None
    guesses = initial_guesses(curves, base) | {k: float(v) for k, v in (initial or {}).items()}
    guesses.setdefault("C_dl", 0.2 * float(base.area))  # 20 uF/cm^2
    guesses.setdefault("R_u", 10.0)  # ohm
    names = list(params_to_fit)
    start, lo, hi = [], [], []
    for name in names:
        default = getattr(base, "D_O" if name == "D" else name, None)
        value = guesses.get(name, default)
        if value is None:
            raise InvalidInput(f"initial.{name}", "no starting value; give one")
        b = (bounds or {}).get(name)
        if b is None:
            b = (value - 0.3, value + 0.3) if name == "E0" else _DEFAULT_BOUNDS[name]
        if not b[0] < b[1]:
            raise InvalidInput(f"bounds.{name}", f"low must be below high, got {b}")
        if FITTABLE[name] == "log" and b[0] <= 0:
            raise InvalidInput(f"bounds.{name}", "must be positive")
        if FITTABLE[name] != "id" and not value > 0:
            raise InvalidInput(f"initial.{name}", f"starting value must be positive, got {value!r}")
        value = min(max(value, b[0]), b[1])
        start.append(_forward(name, value))
        lo.append(_forward(name, b[0]) if FITTABLE[name] != "logit" else _forward(name, max(b[0], 1e-6)))
        hi.append(_forward(name, b[1]) if FITTABLE[name] != "logit" else _forward(name, min(b[1], 1 - 1e-6)))
    start, lo, hi = np.array(start), np.array(lo), np.array(hi)
    problem = _Problem(curves, base, names, settings)
    warnings: list[str] = []
    if method == "gradient":
        theta, r, J, it, converged, message = _levenberg_marquardt(
            problem, start, lo, hi, max_iter=max_iterations, max_calls=max_sim_calls, ftol=ftol, chi2_tol=chi2_tol
        )
    elif method == "lbfgs":
        r = J = None  # the covariance takes the Gauss-Newton Jacobian at the optimum (1 + p calls per curve)
        theta, it, converged, message = _lbfgs(
            problem, start, lo, hi, max_iter=max_iterations, max_calls=max_sim_calls, ftol=ftol, chi2_tol=chi2_tol
        )
    else:
        r = J = None
        budget = max_sim_calls if max_sim_calls is not None else 200 * len(names) * len(curves)
        theta, it, converged, message = _gradient_free(
            problem, method, start, lo, hi, max_calls=budget, seed=seed, ftol=ftol
        )
    if not converged:
        warnings.append(f"optimiser stopped before converging: {message}")
        if raise_on_failure:
            raise FitDidNotConverge(f"{method} fit stopped: {message}; raise max_iterations or max_sim_calls")
    result = _result(
        problem, theta, start, lo, hi, method=method, it=it, converged=converged, message=message, t0=t0,
        warnings=warnings, r=r, J=J,
    )  # fmt: skip
    if plot_dir is not None:
        paths = plot_fit(curves, problem.currents(theta), Path(plot_dir), title=f"{mechanism}/{kinetics} ({method})")
        result = result.model_copy(update={"plots": [str(p) for p in paths]})
    return result


def simulate_fit(
    result: CVFitResult, data: Sequence[Voltammogram], *, max_points: int = 800, grid: GridSpec | None = None
) -> list[np.ndarray]:
    """Currents (A) of the fitted model at the (thinned) samples of each curve, for plots and reports.

    Give the ``grid`` and ``max_points`` the fit used (defaults match :func:`fit_cv`'s)."""
    curves = prepare_curves(data, max_points=max_points)
    base = ECParams(**{k: v for k, v in result.fixed.items() if v is not None})
    bulk = "R" if curves[0].E[min(3, curves[0].E.size - 1)] > curves[0].E[0] else "O"
    ohmic = float(result.fixed.get("R_u") or 0.0) != 0.0
    settings = SimSettings(
        mechanism=result.mechanism, kinetics=result.kinetics, bulk=bulk, grid=grid or GridSpec(), ohmic=ohmic,
        **FIT_COMPILE,
    )  # fmt: skip
    # through the fit's own (compiled) model: same padding and parameter handling as during the fit
    names = list(result.parameters)
    theta = np.array([_forward(n, result.parameters[n].value) for n in names])
    return _Problem(curves, base, names, settings).currents(theta)


@write_errors("plot_dir")
def plot_fit(curves: Sequence[CVCurve], fitted: Sequence[np.ndarray], folder: Path, *, title: str = "") -> list[Path]:
    """Write ``cv_fit.png`` (data as points, fit as lines, per scan rate) and ``cv_residuals.png`` into ``folder``."""
    from .._figures import subplots

    fig, ax = subplots(figsize=(6, 4.5))
    for c, f in zip(curves, fitted):
        line = ax.plot(c.E, f * 1e6, lw=1.5, label=f"fit {c.scan_rate:g} V/s")[0]
        ax.plot(c.E, c.I * 1e6, ".", ms=2, color=line.get_color(), alpha=0.5)
    ax.set_xlabel("E / V")
    ax.set_ylabel("I / µA (oxidation positive)")
    ax.set_title(f"CV fit {title}".strip())
    ax.legend(fontsize=8)
    fit_png = folder / "cv_fit.png"
    fig.tight_layout()
    save_figure(fig, fit_png, field="plot_dir")
    fig, ax = subplots(figsize=(6, 3.5))
    for c, f in zip(curves, fitted):
        ax.plot(np.arange(c.I.size), (c.I - f) / c.scale * 100, lw=0.8, label=f"{c.scan_rate:g} V/s")
    ax.set_xlabel("sample")
    ax.set_ylabel("residual / % of peak current")
    ax.legend(fontsize=8)
    res_png = folder / "cv_residuals.png"
    fig.tight_layout()
    save_figure(fig, res_png, field="plot_dir")
    return [fit_png, res_png]


# ------------------------------------------------------------------------------------------ model selection ----


class CandidateModel(ToolModel):
    mechanism: str = Field(default="E", description="'E', 'EC' or 'CE'.")
    kinetics: str = Field(default="bv", description="'bv', 'nernst' or 'mhc'.")
    params_to_fit: list[str] = Field(description="Parameters fitted for this candidate.")
    label: str | None = Field(default=None, description="Name shown in the ranking.")


class ModelComparison(ToolModel):
    """Candidates ranked by AIC (Akaike weights) and BIC."""

    labels: list[str]
    aic: list[float]
    bic: list[float]
    akaike_weights: list[float] = Field(description="exp(-ΔAIC/2), normalised: relative support of each candidate.")
    best_aic: str
    best_bic: str
    fits: list[CVFitResult]


def compare_cv_models(
    data: Sequence[Voltammogram],
    candidates: Sequence[CandidateModel | Mapping],
    *,
    fit: Callable[..., CVFitResult] = fit_cv,
    **options,
) -> ModelComparison:
    """Fit each candidate (mechanism / kinetics law / fitted set) to the same data and rank by AIC and BIC [BA02].

    ``options`` (fixed, bounds, method, grid, ...) are passed to :func:`fit_cv` for every candidate.
    """
    if len(candidates) < 2:
        raise InvalidInput("candidates", "give at least two models to compare")
    cands = [c if isinstance(c, CandidateModel) else CandidateModel(**c) for c in candidates]
    labels = [c.label or f"{c.mechanism}/{c.kinetics}" for c in cands]
    if len(set(labels)) != len(labels):
        labels = [f"{lab} #{k + 1}" for k, lab in enumerate(labels)]
    plot_dir = options.pop("plot_dir", None)
    fits = []
    for c, label in zip(cands, labels):
        folder = None if plot_dir is None else Path(plot_dir) / "".join(ch if ch.isalnum() else "_" for ch in label)
        fits.append(fit(data, c.mechanism, c.params_to_fit, kinetics=c.kinetics, plot_dir=folder, **options))
    aic = np.array([f.aic for f in fits])
    bic = np.array([f.bic for f in fits])
    w = np.exp(-(aic - aic.min()) / 2)
    return ModelComparison(
        labels=labels,
        aic=aic.tolist(),
        bic=bic.tolist(),
        akaike_weights=(w / w.sum()).tolist(),
        best_aic=labels[int(np.argmin(aic))],
        best_bic=labels[int(np.argmin(bic))],
        fits=fits,
    )


# Cost model of one simulator call: time ∝ grid nodes × time steps. 2e-8 s per node-step is ~4x the warm cost measured
# on a busy 2-core machine (0.27 ms for an 801-step CV on the 64-node default grid), to stay on the safe side for the
# approval policy. A cold process first compiles the model (its residual + Jacobian function): measured on that box
# (load average ~4), 2026-11-29, fresh process per model, redox_kinetics example (4 CVs x 120 points, 12 LM
# iterations), a cold fit_cv took 5.9-8.7 s CPU and 6.7-13.5 s wall for E/bv, E/mhc, EC/bv, EC/mhc, of which the fit
# itself, once compiled, was 0.1 s; 12 s sits above every CPU time and the typical wall time.
SECONDS_PER_NODE_STEP = 2e-8
COMPILE_SECONDS = 12.0


def estimate_fit_seconds(
    n_curves: int,
    n_points: int,
    n_params: int,
    *,
    method: str,
    max_iterations: int,
    max_sim_calls: int | None,
    grid: GridSpec | None = None,
) -> tuple[float, int]:
    """Rough (seconds, simulator calls) of a fit, for the approval policy: grid nodes × time steps × simulator calls
    × :data:`SECONDS_PER_NODE_STEP`, plus compilation.

    Calls: the gradient method at most ``max_iterations`` · curves · (2 + p) (a residual and a Jacobian of 1 + p per
    iteration); gradient-free ones their budget (default 200 · p · curves). ``n_points`` is the samples (time steps)
    per curve after thinning.
    """
    nodes = (grid or GridSpec()).n_nodes
    per_call = SECONDS_PER_NODE_STEP * nodes * n_points
    if method == "gradient":
        calls = max_iterations * n_curves * (2 + n_params)
    elif method == "lbfgs":  # ~2 value-and-gradients per iteration (line search), plus the covariance Jacobian
        calls = max_iterations * n_curves * 2 * (1 + GRADIENT_CALLS) + n_curves * (1 + n_params)
    else:
        calls = max_sim_calls if max_sim_calls is not None else 200 * n_params * n_curves
    if max_sim_calls is not None:
        calls = min(calls, max_sim_calls)
    return COMPILE_SECONDS + calls * per_call, int(calls)
