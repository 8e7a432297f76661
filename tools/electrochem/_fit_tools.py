"""Tools ``fit_cv`` and ``compare_cv_models``: CV fitting for the electrochemist role, with a cost estimate.

Both have no side effect (plots go to a folder the caller names) but can run for seconds to minutes, so their cost
estimate (simulator calls and seconds) lets the approval policy ask a human before long fits.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...errors import InvalidInput
from ..fields import PathStr, PositiveInt, Seed, ToolModel
from ..registry import Cost, tool
from ._analysis_tools import CurvePaths, Curves, load_voltammograms
from ._fit import (
    FITTABLE,
    CandidateModel,
    CVFitResult,
    ModelComparison,
    compare_cv_models,
    estimate_fit_seconds,
)
from ._fit import fit_cv as fit_cv_function
from ._readers import Voltammogram

__all__ = ["FitCVInput", "CompareCVModelsInput", "fit_cv_tool", "compare_cv_models_tool"]


class _FitOptions(ToolModel):
    voltammograms: Curves | None = Field(
        default=None, description="CVs (V, A, s; each with scan_rate or t), one per scan rate, fitted jointly."
    )
    paths: CurvePaths | None = Field(default=None, description="CV files instead of inline data (format detected).")
    fixed: dict[str, float] = Field(
        description="Known parameters in SI: must include area (m^2) and c_bulk (mol/m^3) unless fitted; "
        "optional T (K), n, D_O/D_R (m^2/s), E0 (V), k_chem (1/s), lambda_eV (eV), R_u (ohm), C_dl (F)."
    )
    bounds: dict[str, tuple[float, float]] | None = Field(
        default=None, description="Bounds (low, high) per fitted parameter, SI units."
    )
    initial: dict[str, float] | None = Field(
        default=None, description="Starting values, SI; default from Randles-Sevcik / Nicholson first guesses."
    )
    method: Literal["gradient", "lbfgs", "nelder-mead", "differential-evolution"] = Field(
        default="gradient",
        description="Levenberg-Marquardt on exact JAX Jacobians (default, fewest simulator calls), optax L-BFGS on "
        "reverse-mode gradients, or a gradient-free baseline.",
    )
    # The fits converge in tens to hundreds of steps; 1,000 bounds a fit that does not converge.
    max_iterations: PositiveInt = Field(
        default=50, le=1000, description="Iteration limit (gradient and lbfgs methods)."
    )
    max_sim_calls: PositiveInt | None = Field(
        default=None, description="Simulator-call budget (one CV at one scan rate = 1 call)."
    )
    # 50 samples still resolve a peak; 5,000 bounds each residual's simulation cost.
    max_points: int = Field(default=1000, ge=50, le=5000, description="Samples kept per curve (thinning).")
    seed: Seed = Field(default=0, description="Seed of differential evolution, 0 to 2**63 - 1.")
    plot_dir: PathStr | None = Field(default=None, description="Folder for cv_fit.png and cv_residuals.png.")

    @model_validator(mode="after")
    def _check(self):
        if not (self.voltammograms or self.paths):
            raise InvalidInput("voltammograms", "give voltammograms or paths")
        return self

    def data(self) -> list[Voltammogram]:
        return load_voltammograms(self.voltammograms, self.paths)

    def n_curves(self) -> int:
        return len(self.voltammograms or []) + len(self.paths or [])


def _check_fit_names(params: list[str], fixed: dict[str, float], field: str) -> None:
    for name in params:
        if name not in FITTABLE:
            raise InvalidInput(field, f"unknown parameter {name!r}; choose from {sorted(FITTABLE)}")
    for need in ("area", "c_bulk"):
        if need not in fixed and need not in params:
            unit = "m^2" if need == "area" else "mol/m^3"
            raise InvalidInput(f"fixed.{need}", f"fixed must give {need} ({unit}) unless it is fitted")


class FitCVInput(_FitOptions):
    mechanism: Literal["E", "EC", "CE"] = Field(default="E", description="Reaction mechanism.")
    kinetics: Literal["bv", "nernst", "mhc"] = Field(default="bv", description="Electron-transfer law.")
    params_to_fit: list[str] = Field(
        default_factory=lambda: ["k0", "alpha", "D", "E0"],
        description=f"Parameters to fit, from {sorted(FITTABLE)}; 'D' ties D_O = D_R.",
    )

    @model_validator(mode="after")
    def _names(self):
        _check_fit_names(self.params_to_fit, self.fixed, "params_to_fit")
        return self


def _points(inp: _FitOptions) -> int:
    """Time steps per curve after thinning: known for inline data; for files, the thinning limit (an upper bound)."""
    if inp.voltammograms and not inp.paths:
        return min(inp.max_points, max(len(v.E) for v in inp.voltammograms))
    return inp.max_points


def _fit_seconds(inp: _FitOptions, n_params: int) -> tuple[float, int]:
    """(seconds, simulator calls) of one fit, from ``estimate_fit_seconds``."""
    return estimate_fit_seconds(
        inp.n_curves(), _points(inp), n_params, method=inp.method,
        max_iterations=inp.max_iterations, max_sim_calls=inp.max_sim_calls,
    )  # fmt: skip


def _fit_cost(inp: FitCVInput) -> Cost:
    seconds, calls = _fit_seconds(inp, len(inp.params_to_fit))
    return Cost(seconds=seconds, sim_calls=calls)


def _run_fit(inp: FitCVInput, mechanism: str, kinetics: str, params: list[str]) -> CVFitResult:
    return fit_cv_function(
        inp.data(), mechanism, params, inp.bounds, kinetics=kinetics, fixed=inp.fixed, initial=inp.initial,
        method=inp.method, max_iterations=inp.max_iterations, max_sim_calls=inp.max_sim_calls,
        max_points=inp.max_points, seed=inp.seed, plot_dir=inp.plot_dir,
    )  # fmt: skip


@tool(name="fit_cv", cost=_fit_cost)
def fit_cv_tool(inp: FitCVInput) -> CVFitResult:
    """Fit simulated cyclic voltammograms (several scan rates jointly) to data: k0, alpha, D, E0 and more.

    Returns estimates with standard errors and 95 % intervals (Gauss-Newton covariance), correlations,
    identifiability warnings, AIC/BIC, simulator calls and wall time; writes data-vs-fit and residual PNGs if
    plot_dir is given.
    """
    return _run_fit(inp, inp.mechanism, inp.kinetics, inp.params_to_fit)


class CompareCVModelsInput(_FitOptions):
    # A comparison needs two models or more.
    candidates: list[CandidateModel] = Field(
        min_length=2, description="Models to compare: mechanism, kinetics, params_to_fit, optional label."
    )

    @model_validator(mode="after")
    def _names(self):
        for k, c in enumerate(self.candidates):
            _check_fit_names(c.params_to_fit, self.fixed, f"candidates.{k}.params_to_fit")
            if c.mechanism not in ("E", "EC", "CE"):
                raise InvalidInput(f"candidates.{k}.mechanism", f"candidate {k}: mechanism must be 'E', 'EC' or 'CE'")
            if c.kinetics not in ("bv", "nernst", "mhc"):
                raise InvalidInput(f"candidates.{k}.kinetics", f"candidate {k}: kinetics must be bv, nernst or mhc")
        return self


def _compare_cost(inp: CompareCVModelsInput) -> Cost:
    total = Cost()
    for c in inp.candidates:
        seconds, calls = _fit_seconds(inp, len(c.params_to_fit))
        total = total + Cost(seconds=seconds, sim_calls=calls)
    return total


@tool(name="compare_cv_models", cost=_compare_cost)
def compare_cv_models_tool(inp: CompareCVModelsInput) -> ModelComparison:
    """Fit several mechanisms / kinetics laws to the same CVs and rank them by AIC (with Akaike weights) and BIC."""
    return compare_cv_models(
        inp.data(), inp.candidates, fixed=inp.fixed, bounds=inp.bounds, initial=inp.initial, method=inp.method,
        max_iterations=inp.max_iterations, max_sim_calls=inp.max_sim_calls, max_points=inp.max_points,
        seed=inp.seed, plot_dir=inp.plot_dir,
    )  # fmt: skip
