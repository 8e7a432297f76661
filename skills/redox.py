"""Redox kinetics from cyclic voltammograms at several scan rates.

The ``redox_kinetics`` workflow chains these skills::

    load -> classical (Randles-Sevcik D, Nicholson k0) -> plan (checkpoint) -> fit_* (in parallel: E/EC x BV/MHC)
         -> select (AIC/BIC, parameters with uncertainties, overlay and residual plots)

The plan's model list, as approved (a person may edit it at the checkpoint), decides which fit steps run: a fit whose
model is not in it skips itself with that reason, and ``select`` ranks the fits that ran.

Every number comes from a registered electrochemistry tool (``read_voltammogram``, ``randles_sevcik``,
``nicholson_k0``, ``fit_cv``); the skills only arrange calls, record provenance and draw the summary plots.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from ..errors import InvalidInput
from ..tools.fields import PositiveFloat, PositiveInt, ToolModel
from ..tools.registry import Cost, get_tool
from ._skill import SkillContext, StepSkipped, skill

__all__ = [
    "VoltammogramSet",
    "ClassicalEstimates",
    "FitPlan",
    "FitSummary",
    "ModelSelection",
    "load_voltammograms",
    "classical_estimates",
    "plan_fits",
    "fit_model",
    "select_model",
]

# Parameters fitted per (mechanism, kinetics): BV fits alpha, MHC the reorganisation energy; EC adds k_chem; a
# Nernstian (reversible) couple has no rate constant, only D and E0.
_FIT_PARAMS = {
    ("E", "nernst"): ["D", "E0"],
    ("E", "bv"): ["k0", "alpha", "D", "E0"],
    ("E", "mhc"): ["k0", "lambda_eV", "D", "E0"],
    ("EC", "bv"): ["k0", "alpha", "D", "E0", "k_chem"],
    ("EC", "mhc"): ["k0", "lambda_eV", "D", "E0", "k_chem"],
}


# --------------------------------------------------------------------------------------------------- load ----


class LoadInput(ToolModel):
    directory: Path | None = Field(default=None, description="Folder with one CV file per scan rate.")
    pattern: str = Field(default="cv_*.csv", description="Glob of the CV files inside `directory`.")
    paths: list[Path] | None = Field(default=None, description="CV files (instead of directory + pattern).")
    truth: Path | None = Field(default=None, description="JSON sidecar of true parameters (synthetic data only).")
    reference: Path | None = Field(
        default=None,
        description="JSON of a published fit of these (real) data: {'source': ..., 'parameters_SI': {...}}; the "
        "report compares the best model with it. Not a truth: both are estimates.",
    )


class VoltammogramSet(ToolModel):
    # The scan-rate analyses (Randles-Sevcik slope, Laviron/Nicholson trends) need two scan rates or more.
    paths: list[str] = Field(min_length=2, description="CV files, sorted by scan rate.")
    scan_rates: list[PositiveFloat] = Field(description="Scan rate of each file, V/s.")
    synthetic: bool = Field(description="True if the files say they were made by labwright's simulator.")
    truth: dict[str, float] | None = Field(default=None, description="True parameters (SI) from the sidecar.")
    reference: dict[str, float] | None = Field(default=None, description="A published fit's parameters, SI.")
    reference_source: str | None = Field(default=None, description="Where the published fit comes from.")
    missing: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Quantities the files do not state (area, concentration, ...) -> the files; later steps must be "
        "given them explicitly.",
    )


def _is_synthetic(path: Path) -> bool:
    with open(path, errors="replace") as fh:
        head = "".join(fh.readline() for _ in range(5))
    return "synthetic" in head.lower()


@skill("redox.load_voltammograms", version="1", tools=("read_voltammogram",))
def load_voltammograms(ctx: SkillContext, inp: LoadInput) -> VoltammogramSet:
    """Read CVs at several scan rates (SI units, oxidation positive) and plot them together."""
    if inp.paths:
        files = [Path(p) for p in inp.paths]
    elif inp.directory is not None:
        files = sorted(Path(inp.directory).glob(inp.pattern))
    else:
        raise InvalidInput("directory", "give a directory (with pattern) or a list of paths")
    if len(files) < 2:
        raise InvalidInput("paths", f"need CVs at two or more scan rates, found {len(files)}")
    curves, missing = [], {}
    for f in files:
        ctx.input_file(f)
        out = ctx.call("read_voltammogram", {"path": str(f)})
        for quantity in out.missing:
            missing.setdefault(quantity, []).append(f.name)
        v = out.voltammogram
        if v.scan_rate is None:
            raise InvalidInput("paths", f"{f.name}: scan rate unknown (not in the header, no time column)")
        curves.append((v.scan_rate, str(f), v))
    curves.sort(key=lambda c: c[0])
    synthetic = any(_is_synthetic(Path(p)) for _, p, _ in curves)
    truth = None
    if inp.truth is not None:
        ctx.input_file(inp.truth)
        side = json.loads(Path(inp.truth).read_text())
        truth = {k: float(v) for k, v in side.get("parameters_SI", {}).items()}
        synthetic = synthetic or "synthetic" in str(side.get("note", "")).lower()
    for quantity, names in missing.items():
        # said in the report, never filled in here: the classical and fit steps take them as explicit parameters
        ctx.note(f"the files do not state the {quantity.replace('_', ' ')} ({len(names)} of {len(files)} files)")
    reference = reference_source = None
    if inp.reference is not None:
        ctx.input_file(inp.reference)
        side = json.loads(Path(inp.reference).read_text())
        reference = {k: float(v) for k, v in side.get("parameters_SI", {}).items()}
        reference_source = str(side.get("source", Path(inp.reference).name))
    if synthetic:
        ctx.mark_synthetic(
            "the voltammograms were generated by labwright's own simulator (files labelled "
            "SYNTHETIC); fitted parameters are compared with the known truth"
        )
    fig = ctx.figure(figsize=(6, 4.2))
    ax = fig.subplots()
    for rate, _, v in curves:
        ax.plot(v.E, np.asarray(v.I) * 1e6, lw=1, label=f"{rate:g} V/s")
    ax.set_xlabel("E / V")
    ax.set_ylabel("I / µA (oxidation positive)")
    ax.set_title("Cyclic voltammograms" + (" (synthetic)" if synthetic else ""))
    ax.legend(fontsize=8)
    art = ctx.save_figure("voltammograms.png", fig, title="Input voltammograms")
    ctx.claim("voltammograms loaded", value=len(curves), artifacts=[art])
    return VoltammogramSet(
        paths=[p for _, p, _ in curves], scan_rates=[r for r, _, _ in curves], synthetic=synthetic, truth=truth,
        reference=reference, reference_source=reference_source, missing=missing,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- classical ----


class ClassicalInput(ToolModel):
    # The scan-rate analyses (Randles-Sevcik slope, Laviron/Nicholson trends) need two scan rates or more.
    paths: list[str] = Field(min_length=2, description="CV files, one per scan rate.")
    area: PositiveFloat = Field(description="Electrode area, m^2.")
    concentration: PositiveFloat = Field(description="Bulk concentration, mol/m^3 (mM).")
    temperature: PositiveFloat = Field(default=298.15, description="Temperature, K.")
    n: PositiveInt = Field(default=1, description="Electrons transferred.")


class ClassicalEstimates(ToolModel):
    D_rs: float = Field(description="Randles-Sevcik diffusion coefficient, m^2/s.")
    D_rs_stderr: float = Field(description="Its standard error, m^2/s.")
    k0_nicholson: float | None = Field(description="Nicholson k0 (geometric mean over usable scan rates), m/s.")
    E_half: float | None = Field(description="Mean (Epa + Epc)/2, V: first guess of E0.")
    initial: dict[str, float] = Field(description="First guesses for the fits, SI (D, k0, E0).")


@skill("redox.classical_estimates", version="1", tools=("randles_sevcik", "nicholson_k0"))
def classical_estimates(ctx: SkillContext, inp: ClassicalInput) -> ClassicalEstimates:
    """Classical estimates: D from Randles-Sevcik (peak current vs sqrt(scan rate)), k0 from Nicholson's ΔEp."""
    common = {"paths": inp.paths, "n": inp.n, "temperature": inp.temperature}
    rs = ctx.call("randles_sevcik", {**common, "area": inp.area, "concentration": inp.concentration})
    nic = ctx.call("nicholson_k0", {**common, "D": rs.D})
    E_half = float(np.mean(nic.E_half)) if nic.E_half else None
    initial = {"D": rs.D}
    if nic.k0 is not None:
        initial["k0"] = nic.k0
    if E_half is not None:
        initial["E0"] = E_half
    rows = [
        {"scan_rate_V_per_s": v, "peak_current_A": ip, "delta_Ep_V": dE, "psi": psi, "k0_m_per_s": k,
         "regime": reg}
        for v, ip, dE, psi, k, reg in zip(rs.scan_rates, rs.peak_currents, nic.peak_separations, nic.psi,
                                          nic.k0_values, nic.regimes)
    ]  # fmt: skip
    table = ctx.save_table("classical.csv", rows, title="Peak currents, peak separations, Nicholson psi and k0")
    fig = ctx.figure(figsize=(5, 3.6))
    ax = fig.subplots()
    sq = np.sqrt(rs.scan_rates)
    ax.plot(sq, np.asarray(rs.peak_currents) * 1e6, "o", label="forward peaks")
    ax.plot(sq, rs.slope * sq * 1e6, "-", label=f"Randles-Sevcik line, R² = {rs.r2:.4f}")
    ax.set_xlabel("sqrt(v) / (V/s)^1/2")
    ax.set_ylabel("|i_p| / µA")
    ax.legend(fontsize=8)
    fig_art = ctx.save_figure("randles_sevcik.png", fig, title="Randles-Sevcik plot")
    ctx.claim("Randles-Sevcik diffusion coefficient D", value=rs.D, unit="m²/s", artifacts=[table, fig_art])
    if nic.k0 is not None:
        ctx.claim("Nicholson standard rate constant k0", value=nic.k0, unit="m/s", artifacts=[table])
    for w in [*rs.warnings, *nic.warnings]:
        ctx.note(f"warning: {w}")
    return ClassicalEstimates(D_rs=rs.D, D_rs_stderr=rs.D_stderr, k0_nicholson=nic.k0, E_half=E_half, initial=initial)


# -------------------------------------------------------------------------------------------------- plan ----


class PlanInput(ToolModel):
    # The scan-rate analyses (Randles-Sevcik slope, Laviron/Nicholson trends) need two scan rates or more.
    paths: list[str] = Field(min_length=2, description="CV files, one per scan rate.")
    initial: dict[str, float] = Field(description="First guesses, SI (from the classical estimates).")
    candidates: list[str] = Field(
        default=["E/bv", "E/mhc", "EC/bv", "EC/mhc"],
        min_length=1,
        description="Models to fit, 'mechanism/kinetics'. The approved (possibly edited) list decides which fit "
        "steps run and what the checkpoint's cost estimate counts.",
    )

    @field_validator("candidates")
    @classmethod
    def _known_models(cls, v: list[str]) -> list[str]:
        known = [f"{m}/{k}" for m, k in _FIT_PARAMS]
        bad = [c for c in v if c not in known]
        if bad:
            raise ValueError(f"unknown model {bad[0]!r}; choose from {', '.join(known)}")
        if len(set(v)) != len(v):
            raise ValueError("each model at most once")
        return v

    # These fits converge in tens of iterations; 500 bounds a diverging fit to minutes.
    max_iterations: PositiveInt = Field(default=25, le=500, description="Levenberg-Marquardt iterations per fit.")
    # 50 samples still resolve a peak; 2,000 is a whole +-0.5 V CV at 1 mV steps (more only repeats).
    max_points: int = Field(default=200, ge=50, le=2000, description="Samples kept per curve in the fits.")
    area: PositiveFloat = Field(description="Electrode area, m^2.")
    concentration: PositiveFloat = Field(description="Bulk concentration, mol/m^3.")


class FitPlan(ToolModel):
    candidates: list[str] = Field(description="The approved models, 'mechanism/kinetics': the fits that run.")
    initial: dict[str, float] = Field(description="Starting values for every fit, SI.")
    max_iterations: PositiveInt
    max_points: int
    estimated_seconds: float = Field(description="Summed cost estimate of the planned fits, s.")


def _fit_args(
    paths: list[str],
    mechanism: str,
    kinetics: str,
    *,
    area: float,
    concentration: float,
    temperature: float,
    n: int,
    initial: dict[str, float],
    max_iterations: int,
    max_points: int,
    plot_dir: str | None = None,
) -> dict:
    key = (mechanism, kinetics)
    if key not in _FIT_PARAMS:
        raise InvalidInput(
            "candidates",
            f"unknown model {mechanism}/{kinetics}; choose from {', '.join(f'{m}/{k}' for m, k in _FIT_PARAMS)}",
        )
    start = {k: v for k, v in initial.items() if k in _FIT_PARAMS[key]}
    args = {
        "paths": paths, "mechanism": mechanism, "kinetics": kinetics, "params_to_fit": _FIT_PARAMS[key],
        "fixed": {"area": area, "c_bulk": concentration, "T": temperature, "n": n}, "initial": start,
        "max_iterations": max_iterations, "max_points": max_points,
    }  # fmt: skip
    if plot_dir is not None:
        args["plot_dir"] = plot_dir
    return args


def _plan_cost(inp: PlanInput) -> Cost:
    spec = get_tool("fit_cv")
    total = Cost()
    for cand in inp.candidates:
        mech, _, kin = cand.partition("/")
        args = _fit_args(
            inp.paths,
            mech,
            kin,
            area=inp.area,
            concentration=inp.concentration,
            temperature=298.15,
            n=1,
            initial=inp.initial,
            max_iterations=inp.max_iterations,
            max_points=inp.max_points,
        )
        total = total + spec.estimate_cost(args)
    return total


@skill("redox.plan_fits", version="1", tools=(), checkpoint="always", estimate=_plan_cost)
def plan_fits(ctx: SkillContext, inp: PlanInput) -> FitPlan:
    """Plan the simulator fits (models, starting values, iterations) and stop for approval before running them."""
    cost = _plan_cost(inp)
    art = ctx.save_json(
        "plan.json",
        {**inp.model_dump(mode="json"), "estimated_seconds": cost.seconds, "estimated_sim_calls": cost.sim_calls},
        kind="parameters",
        title="Fit plan",
    )
    ctx.claim("estimated cost of the planned fits", value=cost.seconds, unit="s", artifacts=[art])
    ctx.claim("models to fit (approved plan)", value=", ".join(inp.candidates), artifacts=[art])
    return FitPlan(
        candidates=list(inp.candidates),
        initial=inp.initial,
        max_iterations=inp.max_iterations,
        max_points=inp.max_points,
        estimated_seconds=cost.seconds,
    )


# --------------------------------------------------------------------------------------------------- fit ----


class FitInput(ToolModel):
    # The scan-rate analyses (Randles-Sevcik slope, Laviron/Nicholson trends) need two scan rates or more.
    paths: list[str] = Field(min_length=2, description="CV files, one per scan rate.")
    mechanism: Literal["E", "EC"] = Field(description="E (electron transfer) or EC (followed by a chemical step).")
    kinetics: Literal["bv", "mhc", "nernst"] = Field(
        description="Butler-Volmer or Marcus-Hush-Chidsey electron transfer, or a Nernstian (reversible) couple."
    )
    initial: dict[str, float] = Field(description="Starting values, SI.")
    area: PositiveFloat = Field(description="Electrode area, m^2.")
    concentration: PositiveFloat = Field(description="Bulk concentration, mol/m^3.")
    temperature: PositiveFloat = Field(default=298.15, description="Temperature, K.")
    n: PositiveInt = Field(default=1, description="Electrons transferred.")
    # These fits converge in tens of iterations; 500 bounds a diverging fit to minutes.
    max_iterations: PositiveInt = Field(default=25, le=500, description="Levenberg-Marquardt iterations.")
    # 50 samples still resolve a peak; 2,000 is a whole +-0.5 V CV at 1 mV steps (more only repeats).
    max_points: int = Field(default=200, ge=50, le=2000, description="Samples kept per curve.")
    candidates: list[str] | None = Field(
        default=None,
        description="The approved plan's models; the fit runs only if its 'mechanism/kinetics' is among them "
        "(None: no plan, always run).",
    )


class Estimate(ToolModel):
    value: float = Field(description="Estimate, SI unit of the parameter.")
    stderr: float | None = Field(description="Standard error, same unit.")
    ci95: tuple[float, float] | None = Field(description="95 % interval, same unit.")


class FitSummary(ToolModel):
    label: str = Field(description="'mechanism/kinetics'.")
    mechanism: str
    kinetics: str
    parameters: dict[str, Estimate]
    fixed: dict[str, float | None] = Field(description="Every simulator parameter used, SI.")
    aic: float
    bic: float
    rmse_relative: float = Field(description="rms residual as a fraction of peak current.")
    converged: bool
    sim_calls: int
    wall_time_s: float = Field(description="s")
    plots: list[str] = Field(default_factory=list, description="Run-relative paths of the fit's PNGs.")
    poor_fit: bool = Field(default=False, description="True if the fit's quality checks failed (see quality_reasons).")
    quality_reasons: list[str] = Field(default_factory=list, description="Why the fit is flagged as poor.")
    residual_to_noise: float | None = Field(default=None, description="rms residual / noise estimated from the data.")
    preprocessing: list[str] = Field(default_factory=list, description="What was done to the data (resampling).")


class FitOutput(ToolModel):
    fit: FitSummary


@skill("redox.fit_model", version="1", tools=("fit_cv",))
def fit_model(ctx: SkillContext, inp: FitInput) -> FitOutput:
    """Gradient fit (Levenberg-Marquardt on JAX Jacobians) of one model to all scan rates jointly."""
    label = f"{inp.mechanism}/{inp.kinetics}"
    if inp.candidates is not None and label not in inp.candidates:
        # The plan approved at the checkpoint left this model out: no fit, and model selection ranks the others.
        raise StepSkipped(f"{label} is not in the approved plan (models: {', '.join(inp.candidates)})")
    args = _fit_args(
        inp.paths,
        inp.mechanism,
        inp.kinetics,
        area=inp.area,
        concentration=inp.concentration,
        temperature=inp.temperature,
        n=inp.n,
        initial=inp.initial,
        max_iterations=inp.max_iterations,
        max_points=inp.max_points,
        plot_dir=str(ctx.step_dir),
    )
    res = ctx.call("fit_cv", args)
    plots = [
        ctx.add_file(Path(p), kind="figure", title=f"{label}: {Path(p).stem.replace('_', ' ')}") for p in res.plots
    ]
    params = {k: Estimate(value=e.value, stderr=e.stderr, ci95=e.ci95) for k, e in res.parameters.items()}
    art = ctx.save_json("fit.json", res, kind="parameters", title=f"{label} fit")
    ctx.claim(f"{label}: AIC", value=res.aic, artifacts=[art, *plots])
    q = res.quality
    if q is not None:
        verdict = "POOR FIT: " + "; ".join(q.reasons) if q.poor_fit else "passes the fit-quality checks"
        ctx.claim(
            f"{label}: rms residual / estimated noise ({verdict})", value=round(q.residual_to_noise, 3), artifacts=[art]
        )
    for note in res.preprocessing:
        ctx.note(f"data: {note}")
    for w in res.warnings:
        ctx.note(f"warning: {w}")
    return FitOutput(fit=FitSummary(
        label=label, mechanism=inp.mechanism, kinetics=inp.kinetics, parameters=params, fixed=res.fixed,
        aic=res.aic, bic=res.bic, rmse_relative=res.rmse_relative, converged=res.converged,
        sim_calls=res.sim_calls, wall_time_s=res.wall_time_s, plots=[p.path for p in plots],
        poor_fit=bool(q and q.poor_fit), quality_reasons=list(q.reasons) if q else [],
        residual_to_noise=q.residual_to_noise if q else None, preprocessing=res.preprocessing,
    ))  # fmt: skip


# ------------------------------------------------------------------------------------------------ select ----


class SelectInput(ToolModel):
    fits: list[FitSummary] = Field(min_length=1, description="One fit per candidate model.")
    truth: dict[str, float] | None = Field(default=None, description="True parameters (synthetic data), SI.")
    scan_rates: list[float] | None = Field(default=None, description="V/s (for the report).")
    reference: dict[str, float] | None = Field(default=None, description="A published fit of the same data, SI.")
    reference_source: str | None = Field(default=None, description="Where the published fit comes from.")


class RankedModel(ToolModel):
    label: str
    aic: float
    bic: float
    delta_aic: float
    akaike_weight: float = Field(ge=0, le=1)


class ModelSelection(ToolModel):
    best_aic: str
    best_bic: str
    ranking: list[RankedModel] = Field(description="Models by increasing AIC.")
    parameters: dict[str, Estimate] = Field(description="Parameters of the AIC-best model, SI.")
    recovery: dict[str, float] | None = Field(
        default=None, description="Relative error |fit - truth| / truth per parameter."
    )
    best_is_poor_fit: bool = Field(
        default=False, description="True if even the best model fails the fit-quality checks: treat with care."
    )
    agreement: dict[str, float] | None = Field(
        default=None,
        description="Difference from the published fit per parameter: relative |fit - ref| / |ref| for positive "
        "quantities, absolute (V) for E0.",
    )


_UNITS = {"E0": "V", "k0": "m/s", "D": "m²/s", "alpha": "", "lambda_eV": "eV", "k_chem": "1/s"}


@skill("redox.select_model", version="1")
def select_model(ctx: SkillContext, inp: SelectInput) -> ModelSelection:
    """Rank the fitted models by AIC (Akaike weights) and BIC; report the best model's parameters with uncertainty."""
    fits = sorted(inp.fits, key=lambda f: f.aic)
    best_aic = fits[0].aic
    w = np.array([math.exp(-(f.aic - best_aic) / 2) for f in fits])
    w = w / w.sum()
    ranking = [
        RankedModel(label=f.label, aic=f.aic, bic=f.bic, delta_aic=f.aic - best_aic, akaike_weight=float(x))
        for f, x in zip(fits, w)
    ]
    best = fits[0]
    best_bic = min(inp.fits, key=lambda f: f.bic).label
    table = ctx.save_table(
        "model_selection.csv",
        [r.model_dump() for r in ranking],
        title="Models ranked by AIC with Akaike weights, and BIC",
    )
    rows = []
    recovery = None
    if inp.truth:
        recovery = {}
    agreement = _agreement(best.parameters, inp.reference or {})
    for name, e in best.parameters.items():
        row = {"parameter": name, "value": e.value, "stderr": e.stderr,
               "ci95_low": e.ci95[0] if e.ci95 else None, "ci95_high": e.ci95[1] if e.ci95 else None,
               "unit": _UNITS.get(name, "")}  # fmt: skip
        if recovery is not None and name in inp.truth and inp.truth[name] != 0:
            recovery[name] = abs(e.value - inp.truth[name]) / abs(inp.truth[name])
            row["truth"] = inp.truth[name]
            row["relative_error"] = recovery[name]
        if name in agreement:
            row["published"] = inp.reference[name]
            row["difference_from_published"] = agreement[name]
        rows.append(row)
    params_art = ctx.save_table("parameters.csv", rows, title=f"Parameters of the best model ({best.label})")
    ctx.save_json(
        "parameters.json",
        {
            "model": best.label,
            "parameters": {k: v.model_dump() for k, v in best.parameters.items()},
            "truth": inp.truth,
            "scan_rates_V_per_s": inp.scan_rates,
            "relative_error": recovery,
            "published": inp.reference,
            "published_source": inp.reference_source,
            "difference_from_published": agreement or None,
        },
        title="Best-model parameters",
    )
    ctx.claim("best model by AIC", value=best.label, artifacts=[table])
    if best.poor_fit:
        # AIC ranks models relative to each other; it does not say the best one describes the data
        ctx.claim(
            f"the best model {best.label} is a POOR FIT: {'; '.join(best.quality_reasons)}",
            value=best.residual_to_noise,
            artifacts=[table],
        )
        ctx.note(f"warning: the best model ({best.label}) fails the fit-quality checks; its parameters are suspect")
    ctx.claim("best model by BIC", value=best_bic, artifacts=[table])
    for name, e in best.parameters.items():
        err = f" ± {e.stderr:.3g}" if e.stderr is not None else ""
        text = f"{name} ({best.label}){err}"
        if recovery is not None and name in recovery:
            text += f"; truth {inp.truth[name]:.4g}, relative error {100 * recovery[name]:.2f} %"
        if name in agreement:
            diff = f"{1e3 * agreement[name]:.1f} mV" if name == "E0" else f"{100 * agreement[name]:.2f} %"
            text += f"; published fit {inp.reference[name]:.4g} ({inp.reference_source}), difference {diff}"
        ctx.claim(text, value=e.value, unit=_UNITS.get(name, ""), artifacts=[params_art])
    _plot_selection(ctx, ranking)
    return ModelSelection(
        best_aic=best.label, best_bic=best_bic, ranking=ranking, parameters=best.parameters, recovery=recovery,
        agreement=agreement or None, best_is_poor_fit=best.poor_fit,
    )  # fmt: skip


def _agreement(fitted: dict[str, Estimate], reference: dict[str, float]) -> dict[str, float]:
    """Difference of each fitted parameter from a published fit: in volts for E0 (a potential has no natural scale
    to divide by), relative otherwise."""
    out = {}
    for name, e in fitted.items():
        if name in reference:
            ref = reference[name]
            out[name] = abs(e.value - ref) if name == "E0" or ref == 0 else abs(e.value / ref - 1)
    return out


def _plot_selection(ctx: SkillContext, ranking: list[RankedModel]) -> None:
    fig = ctx.figure(figsize=(5, 3.2))
    ax = fig.subplots()
    ax.bar([r.label for r in ranking], [r.delta_aic for r in ranking], color="tab:blue")
    ax.set_ylabel("ΔAIC (lower is better)")
    ax.set_title("Model selection")
    ctx.save_figure("model_selection.png", fig, title="ΔAIC of the candidate models")
