"""Tools for the electrochemist role: read data files and run the classical analyses.

Each tool takes and returns pydantic models in SI units (V, A, s, m², mol m⁻³, m² s⁻¹, m s⁻¹, K). Data can be passed
inline (a :class:`Voltammogram`) or as file paths read with :func:`read_voltammogram_file` (format detected).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ...errors import InvalidInput
from .._confined import save_figure
from .._files import write_errors
from ..fields import MAX_CURVES, Capped, Diffusivity, FiniteFloat, PathStr, PositiveFloat, ScanRate, ToolModel, Trace
from ..registry import Cost, tool
from ._classical import cottrell_D, find_cv_peaks, nicholson_k0_values, randles_sevcik_D, tafel_fit
from ._readers import Voltammogram, read_voltammogram_file

__all__ = [
    "ReadVoltammogramInput",
    "ReadVoltammogramOutput",
    "RandlesSevcikInput",
    "RandlesSevcikOutput",
    "NicholsonInput",
    "NicholsonOutput",
    "TafelInput",
    "TafelOutput",
    "CottrellInput",
    "CottrellOutput",
    "read_voltammogram",
    "randles_sevcik",
    "nicholson_k0",
    "tafel_analysis",
    "cottrell_analysis",
    "load_voltammograms",
    "line_plot",
]

_CHEAP = Cost(seconds=0.05)
# 1-5000 K: below 1 K or above 5000 K the RT/F factors in the analyses overflow, and no cell runs there.
Temperature = Field(default=298.15, ge=1.0, le=5000.0, allow_inf_nan=False, description="Temperature, K (1-5000).")
# One wave of a molecular couple rarely moves more than 2-4 electrons; 6 also refuses typos (60).
Electrons = Field(default=1, ge=1, le=6, description="Electrons transferred per molecule, n.")


def load_voltammograms(voltammograms: list[Voltammogram] | None, paths: list[str] | None) -> list[Voltammogram]:
    """Inline voltammograms followed by those read from ``paths`` (format auto-detected; of a multi-cycle file, the
    last complete cycle)."""
    out = list(voltammograms or [])
    for k, p in enumerate(paths or []):
        try:
            out.append(read_voltammogram_file(p).with_default_cycle())
        except InvalidInput as err:
            raise InvalidInput(f"paths.{k}", err.reason) from None
    return out


PlotDir = Field(default=None, description="Folder for a PNG of the data, the fitted line and its residuals.")
Plots = Field(default_factory=list, description="PNG files written (when plot_dir was given).")


@write_errors("plot_dir")
def line_plot(
    path: Path,
    x: np.ndarray,
    y: np.ndarray,
    used: np.ndarray,
    slope: float,
    intercept: float,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
) -> str:
    """Write a two-panel PNG: points (those used by the fit highlighted) with the fitted line y = slope·x + intercept
    over the used range, and the residuals of the used points. Returns the path."""
    from .._figures import subplots

    x, y, used = np.asarray(x, float), np.asarray(y, float), np.asarray(used, bool)
    fig, (top, bottom) = subplots(2, 1, figsize=(6, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    if (~used).any():
        top.plot(x[~used], y[~used], ".", color="0.65", ms=3, label="not fitted")
    top.plot(x[used], y[used], "o", ms=3.5, label="fitted")
    xs = np.linspace(min(0.0, x[used].min()) if intercept == 0 else x[used].min(), x[used].max(), 50)
    top.plot(xs, slope * xs + intercept, "-", lw=1.5, label="line")
    top.set_ylabel(ylabel)
    top.set_title(title)
    top.legend(fontsize=8)
    bottom.axhline(0.0, color="0.5", lw=0.8)
    bottom.plot(x[used], y[used] - (slope * x[used] + intercept), "o", ms=3)
    bottom.set_xlabel(xlabel)
    bottom.set_ylabel("residual")
    fig.tight_layout()
    save_figure(fig, path, field="plot_dir")
    return str(path)


# -------------------------------------------------------------------------------------------------- reading ----


class ReadVoltammogramInput(ToolModel):
    path: PathStr = Field(description="Data file: CSV/TSV, BioLogic .mpt, CH Instruments .txt or Gamry .DTA.")
    format: Literal["auto", "csv", "mpt", "mpr", "chi", "dta"] = Field(default="auto", description="File layout.")
    potential_column: str | int | None = Field(default=None, description="CSV: potential column name or index.")
    current_column: str | int | None = Field(default=None, description="CSV: current column name or index.")
    time_column: str | int | None = Field(default=None, description="CSV: time column name or index.")
    potential_unit: str | None = Field(default=None, description="CSV: 'V' or 'mV' (default from header, else V).")
    current_unit: str | None = Field(
        default=None, description="CSV: 'A', 'mA', 'uA', 'nA' or a density like 'mA/cm2' (then give area)."
    )
    time_unit: str | None = Field(default=None, description="CSV: 's', 'ms' or 'min'.")
    area: PositiveFloat | None = Field(default=None, description="Electrode area, m^2 (for current densities).")
    scan_rate: PositiveFloat | None = Field(default=None, description="CSV: scan rate, V/s, if not in the file.")
    invert_current: bool = Field(default=False, description="Flip the current sign (files with cathodic positive).")
    cycle: int | Literal["last_complete", "all"] = Field(
        default="last_complete",
        description="Cycle (curve/segment number) to keep: a number, 'last_complete' (the last cycle that sweeps the "
        "whole window; files with one cycle are kept whole) or 'all'.",
    )
    summary_only: bool = Field(default=False, description="Return the summary and metadata without the arrays.")


class ReadVoltammogramOutput(ToolModel):
    voltammogram: Voltammogram | None = Field(description="The data (None when summary_only).")
    metadata: dict = Field(description="Source path, SHA-256, format, columns, units, header settings.")
    scan_rate: float | None = Field(description="Scan rate, V/s (from the file or estimated from t).")
    n_points: int = Field(description="Number of points kept.")
    E_range: tuple[float, float] = Field(description="Minimum and maximum potential, V.")
    I_range: tuple[float, float] = Field(description="Minimum and maximum current, A.")
    cycles: list[int] = Field(default_factory=list, description="Cycle numbers present in the file.")
    cycle_used: int | None = Field(default=None, description="The cycle kept (None: all points, or no cycles).")
    missing: dict[str, str] = Field(
        default_factory=dict, description="Area, concentration or scan rate the file does not give -> why."
    )


@tool(cost=lambda inp: _CHEAP)
def read_voltammogram(inp: ReadVoltammogramInput) -> ReadVoltammogramOutput:
    """Read a voltammogram or chronoamperogram file into SI units (V, A, s; oxidation current positive).

    Records the source path and the file's SHA-256; malformed or truncated files are rejected with the line number.
    """
    options = inp.model_dump(exclude={"path", "format", "cycle", "summary_only"})
    data = read_voltammogram_file(inp.path, format=inp.format, **options)
    cycles = sorted(set(data.cycle)) if data.cycle is not None else []
    if inp.cycle == "last_complete":
        data = data.with_default_cycle()
    elif inp.cycle != "all":
        data = data.select_cycle(inp.cycle)
    E, I, _ = data.arrays()
    return ReadVoltammogramOutput(
        voltammogram=None if inp.summary_only else data,
        metadata=data.metadata.model_dump(),
        scan_rate=data.scan_rate,
        n_points=E.size,
        E_range=(float(E.min()), float(E.max())),
        I_range=(float(I.min()), float(I.max())),
        cycles=cycles,
        cycle_used=data.cycle[0] if data.cycle is not None and len(set(data.cycle)) == 1 and cycles else None,
        missing=data.metadata.missing,
    )


# ------------------------------------------------------------------------------------------- Randles–Ševčík ----


Curves = Annotated[list[Voltammogram], Capped(MAX_CURVES, "one per scan rate; studies use 3-10")]
CurvePaths = Annotated[list[PathStr], Capped(MAX_CURVES, "one per scan rate; studies use 3-10")]


class _CVData(ToolModel):
    voltammograms: Curves | None = Field(
        default=None, description="CVs (each with scan_rate), one per scan rate; first cycle is used."
    )
    paths: CurvePaths | None = Field(default=None, description="CV files, one per scan rate (format auto-detected).")


class RandlesSevcikInput(_CVData):
    scan_rates: list[ScanRate] | None = Field(
        default=None, min_length=1, description="Scan rates, V/s (with peak_currents)."
    )
    peak_currents: list[FiniteFloat] | None = Field(default=None, description="Forward peak currents, A.")
    area: PositiveFloat = Field(description="Electrode area, m^2.")
    concentration: PositiveFloat = Field(description="Bulk concentration of the electroactive species, mol/m^3 (mM).")
    n: int = Electrons
    temperature: float = Temperature
    regime: Literal["reversible", "irreversible"] = Field(
        default="reversible", description="0.4463 (reversible) or 0.4958 with alpha (totally irreversible)."
    )
    alpha: float = Field(default=0.5, gt=0, lt=1, description="Transfer coefficient (irreversible regime only).")
    baseline: Literal["zero", "linear", "capacitive"] = Field(
        default="zero",
        description="Peak-height baseline for CV data: zero current, a line through the start of the forward sweep, "
        "or the double-layer charging current C_dl*v read from the current step at the switching potential.",
    )
    plot_dir: PathStr | None = PlotDir

    @model_validator(mode="after")
    def _one_source(self) -> RandlesSevcikInput:
        if (self.scan_rates is None) != (self.peak_currents is None):
            raise InvalidInput("peak_currents", "give scan_rates and peak_currents together")
        if self.scan_rates is None and not (self.voltammograms or self.paths):
            raise InvalidInput("voltammograms", "give voltammograms, paths, or scan_rates with peak_currents")
        if self.scan_rates is not None and len(self.scan_rates) != len(self.peak_currents or []):
            raise InvalidInput("peak_currents", "peak_currents needs one value per scan rate")
        return self


class RandlesSevcikOutput(ToolModel):
    D: float = Field(description="Diffusion coefficient, m^2/s.")
    D_stderr: float = Field(description="Standard error of D from the slope, m^2/s.")
    slope: float = Field(description="Slope of |i_p| vs sqrt(v), A s^1/2 V^-1/2.")
    r2: float = Field(description="R^2 of the line.")
    scan_rates: list[float] = Field(description="V/s.")
    peak_currents: list[float] = Field(description="Forward peak currents used, A.")
    peak_potentials: list[float] | None = Field(default=None, description="Forward peak potentials, V (CV data).")
    C_dl: list[float] | None = Field(
        default=None,
        description="Double-layer capacitance of each CV, F, from the capacitive baseline (baseline='capacitive').",
    )
    regime: str
    warnings: list[str] = Field(default_factory=list)
    plots: list[str] = Plots
    reference: str = "Bard & Faulkner, Electrochemical Methods 2nd ed. (2001), sections 6.2.2 and 6.3.1"


def _scan_rate_of(v: Voltammogram, k: int) -> float:
    if v.scan_rate is None:
        raise InvalidInput(f"voltammograms.{k}.scan_rate", "scan rate unknown; set it (V/s)")
    return v.scan_rate


@tool(cost=lambda inp: _CHEAP)
def randles_sevcik(inp: RandlesSevcikInput) -> RandlesSevcikOutput:
    """Diffusion coefficient from forward peak current vs the square root of scan rate (Randles–Ševčík)."""
    potentials = capacitances = None
    if inp.scan_rates is not None:
        v, ip = inp.scan_rates, inp.peak_currents
    else:
        data = load_voltammograms(inp.voltammograms, inp.paths)
        peaks = [find_cv_peaks(d.E, d.I, baseline=inp.baseline, require_reverse=False) for d in data]
        v = [_scan_rate_of(d, k) for k, d in enumerate(data)]
        ip = [p.forward_current for p in peaks]
        potentials = [p.Epa if p.first_sweep == "anodic" else p.Epc for p in peaks]
        if inp.baseline == "capacitive":
            capacitances = [p.charging_current / rate for p, rate in zip(peaks, v, strict=True)]
    res = randles_sevcik_D(
        v,
        ip,
        n=inp.n,
        area=inp.area,
        concentration=inp.concentration,
        temperature=inp.temperature,
        regime=inp.regime,
        alpha=inp.alpha,
    )
    plots = []
    if inp.plot_dir is not None:
        x, y = np.sqrt(np.asarray(v, float)), np.abs(np.asarray(ip, float))
        plots.append(
            line_plot(
                Path(inp.plot_dir) / "randles_sevcik.png", x, y, np.ones(x.size, bool), res.fit.slope,
                res.fit.intercept, xlabel="sqrt(v) / (V/s)^1/2", ylabel="|i_p| / A",
                title=f"Randles-Sevcik ({res.regime}): D = {res.D:.3g} m^2/s",
            )
        )  # fmt: skip
    return RandlesSevcikOutput(
        D=res.D,
        D_stderr=res.D_stderr,
        slope=res.fit.slope,
        r2=res.fit.r2,
        scan_rates=list(v),
        peak_currents=[abs(x) for x in ip],
        peak_potentials=potentials,
        C_dl=capacitances,
        regime=res.regime,
        warnings=res.warnings,
        plots=plots,
    )


# ---------------------------------------------------------------------------------------------------- Nicholson ----


class NicholsonInput(_CVData):
    scan_rates: list[ScanRate] | None = Field(
        default=None, min_length=1, description="Scan rates, V/s (with peak_separations)."
    )
    peak_separations: list[PositiveFloat] | None = Field(default=None, description="ΔEp = Epa − Epc, V.")
    D: Diffusivity = Field(description="Diffusion coefficient of the starting species D_O, m^2/s.")
    D_R: Diffusivity | None = Field(default=None, description="Diffusion coefficient of the product, m^2/s.")
    alpha: float = Field(default=0.5, gt=0, lt=1, description="Transfer coefficient (working curve assumes ~0.5).")
    n: int = Electrons
    temperature: float = Temperature
    method: Literal["table", "lavagnini"] = Field(
        default="table", description="Interpolate Nicholson's 1965 table, or Lavagnini's 2004 fit of it."
    )

    @model_validator(mode="after")
    def _one_source(self) -> NicholsonInput:
        if (self.scan_rates is None) != (self.peak_separations is None):
            raise InvalidInput("peak_separations", "give scan_rates and peak_separations together")
        if self.scan_rates is None and not (self.voltammograms or self.paths):
            raise InvalidInput("voltammograms", "give voltammograms, paths, or scan_rates with peak_separations")
        if self.scan_rates is not None and len(self.scan_rates) != len(self.peak_separations or []):
            raise InvalidInput("peak_separations", "peak_separations needs one value per scan rate")
        return self


class NicholsonOutput(ToolModel):
    k0: float | None = Field(description="Standard rate constant (geometric mean over usable points), m/s.")
    k0_values: list[float | None] = Field(description="k0 per scan rate, m/s (None at the reversible limit).")
    psi: list[float] = Field(description="Nicholson's kinetic parameter per scan rate.")
    regimes: list[str] = Field(description="'reversible' (lower bound only), 'table', 'lavagnini' or 'irreversible'.")
    peak_separations: list[float] = Field(description="ΔEp, V.")
    E_half: list[float] | None = Field(default=None, description="(Epa + Epc)/2 per CV, V (CV data).")
    scan_rates: list[float] = Field(description="V/s.")
    warnings: list[str] = Field(default_factory=list)
    reference: str = (
        "Nicholson, Anal. Chem. 37 (1965) 1351; Lavagnini et al., Electroanalysis 16 (2004) 505; "
        "Klingler & Kochi, J. Phys. Chem. 85 (1981) 1731"
    )


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@tool(cost=lambda inp: _CHEAP)
def nicholson_k0(inp: NicholsonInput) -> NicholsonOutput:
    """Standard heterogeneous rate constant k0 from CV peak separations (Nicholson ψ–ΔEp working curve).

    Valid for 61 < nΔEp < 212 mV at α ≈ 0.5 with negligible iR drop; larger ΔEp switch to Klingler–Kochi, smaller
    ones give only a lower bound.
    """
    E_half = None
    if inp.scan_rates is not None:
        v, dEp = inp.scan_rates, inp.peak_separations
    else:
        data = load_voltammograms(inp.voltammograms, inp.paths)
        peaks = [find_cv_peaks(d.E, d.I) for d in data]
        v = [_scan_rate_of(d, k) for k, d in enumerate(data)]
        dEp = [p.delta_Ep for p in peaks]
        E_half = [p.E_half for p in peaks]
        for k, d in enumerate(dEp):
            if d <= 0:
                raise InvalidInput(f"voltammograms.{k}", "anodic peak below the cathodic one; check the current sign")
    res = nicholson_k0_values(
        v, dEp, D_O=inp.D, D_R=inp.D_R, alpha=inp.alpha, n=inp.n, temperature=inp.temperature, method=inp.method
    )
    return NicholsonOutput(
        k0=_finite_or_none(res.k0),
        k0_values=[_finite_or_none(k) for k in res.k0_values],
        psi=res.psi,
        regimes=res.regimes,
        peak_separations=res.delta_Ep,
        E_half=E_half,
        scan_rates=res.scan_rates,
        warnings=res.warnings,
    )


# ------------------------------------------------------------------------------------------------------ Tafel ----


class TafelInput(ToolModel):
    voltammogram: Voltammogram | None = Field(default=None, description="Polarisation curve or CV (forward sweep).")
    path: str | None = Field(default=None, description="Data file instead of an inline voltammogram.")
    E: Trace | None = Field(default=None, description="Potentials, V (instead of a voltammogram).")
    I: Trace | None = Field(default=None, description="Currents, A, oxidation positive.")
    E_eq: FiniteFloat | None = Field(
        default=None, description="Equilibrium/formal potential, V; default (Epa+Epc)/2 of the CV."
    )
    branch: Literal["anodic", "cathodic"] = Field(default="anodic", description="Which branch to fit.")
    eta_min: float | None = Field(default=None, ge=0, description="Lower |overpotential| of the window, V.")
    eta_max: float | None = Field(default=None, gt=0, description="Upper |overpotential| of the window, V.")
    limiting_current: FiniteFloat | None = Field(
        default=None, description="Mass-transport limiting current, A (same sign as the branch) for correction."
    )
    forward_sweep_only: bool = Field(default=True, description="Use only the first sweep of a CV.")
    n: int = Electrons
    temperature: float = Temperature
    area: PositiveFloat | None = Field(default=None, description="Electrode area, m^2 (to report k0).")
    concentration: PositiveFloat | None = Field(default=None, description="Bulk concentration, mol/m^3 (for k0).")
    plot_dir: PathStr | None = PlotDir

    @model_validator(mode="after")
    def _one_source(self) -> TafelInput:
        sources = sum(x is not None for x in (self.voltammogram, self.path, self.E))
        if sources != 1:
            raise InvalidInput("voltammogram", "give exactly one of voltammogram, path, or E with I")
        if self.E is not None and (self.I is None or len(self.I) != len(self.E)):
            raise InvalidInput("I", "give one current I per potential E")
        if (self.eta_min is None) != (self.eta_max is None):
            raise InvalidInput("eta_max", "give eta_min and eta_max together (or neither for automatic selection)")
        if self.eta_min is not None and self.eta_max is not None and self.eta_max <= self.eta_min:
            raise InvalidInput("eta_max", "eta_max must exceed eta_min")
        return self


class TafelOutput(ToolModel):
    branch: str
    tafel_slope: float = Field(description="Tafel slope, V per decade of current.")
    transfer_coefficient: float = Field(description="(1-α) for the anodic branch, α for the cathodic one.")
    alpha: float = Field(description="Cathodic transfer coefficient α implied by the branch.")
    exchange_current: float = Field(description="i0 extrapolated to η = 0, A.")
    k0: float | None = Field(default=None, description="i0/(nFAC), m/s (if area and concentration were given).")
    E_eq: float = Field(description="Equilibrium potential used, V.")
    eta_window: tuple[float, float] = Field(description="|η| window used, V.")
    auto_selected: bool = Field(description="True if the window was chosen automatically.")
    n_points: int
    r2: float
    warnings: list[str] = Field(default_factory=list)
    plots: list[str] = Plots
    reference: str = "Bard & Faulkner, Electrochemical Methods 2nd ed. (2001), section 3.4.3"


@tool(cost=lambda inp: _CHEAP)
def tafel_analysis(inp: TafelInput) -> TafelOutput:
    """Tafel slope, transfer coefficient and exchange current from log|i| vs overpotential on one branch.

    The |η| window is exposed (eta_min, eta_max); without it the widest straight window past 40 mV is chosen and
    reported. A CV's forward sweep is affected by diffusion: give the limiting current, or use slow LSV data.
    """
    if inp.E is not None:
        E, I = np.asarray(inp.E), np.asarray(inp.I)
        data = None
    else:
        data = inp.voltammogram or read_voltammogram_file(inp.path)
        E, I, _ = data.arrays()
    E_eq = inp.E_eq
    if E_eq is None:
        if data is None:
            raise InvalidInput("E_eq", "needed when E and I are given directly")
        E_eq = find_cv_peaks(E, I).E_half
    if inp.forward_sweep_only:
        direction = np.sign(E[min(E.size - 1, 3)] - E[0])
        k = int(np.argmax(E * direction >= np.max(E * direction) - 1e-12))
        E, I = E[: k + 1], I[: k + 1]
    window = (inp.eta_min, inp.eta_max) if inp.eta_min is not None else None
    res = tafel_fit(
        E,
        I,
        E_eq=E_eq,
        branch=inp.branch,
        eta_window=window,
        limiting_current=inp.limiting_current,
        n=inp.n,
        temperature=inp.temperature,
        area=inp.area,
        concentration=inp.concentration,
    )
    plots = []
    if inp.plot_dir is not None:
        plots.append(_tafel_plot(Path(inp.plot_dir) / "tafel.png", E, I, E_eq, res, inp.limiting_current))
    return TafelOutput(
        branch=res.branch,
        tafel_slope=res.slope,
        transfer_coefficient=res.transfer_coefficient,
        alpha=res.alpha,
        exchange_current=res.i0,
        k0=res.k0,
        E_eq=float(E_eq),
        eta_window=res.eta_window,
        auto_selected=res.auto_selected,
        n_points=res.n_points,
        r2=res.r2,
        warnings=res.warnings,
        plots=plots,
    )


def _tafel_plot(path: Path, E: np.ndarray, I: np.ndarray, E_eq: float, res, limiting_current: float | None) -> str:
    """log10|i| vs η on the branch, the selected window highlighted, with the Tafel line (mass-transport corrected
    currents when a limiting current was given, as in the fit)."""
    sgn = 1.0 if res.branch == "anodic" else -1.0
    eta, i = E - E_eq, I
    keep = (sgn * eta > 0) & (sgn * i > 0)
    eta, i = eta[keep], i[keep]
    if limiting_current is not None:
        ok = np.abs(i) < 0.98 * abs(limiting_current)
        eta, i = eta[ok], i[ok] * limiting_current / (limiting_current - i[ok])
    lo, hi = res.eta_window
    used = (np.abs(eta) >= lo) & (np.abs(eta) <= hi)
    how = "auto" if res.auto_selected else "given"
    return line_plot(
        path, eta, np.log10(np.abs(i)), used, 1.0 / res.slope, float(np.log10(res.i0)), xlabel="η / V",
        ylabel="log10 |i / A|", title=f"Tafel {res.branch}: {res.slope * 1e3:.1f} mV/dec, window {how}",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------- Cottrell ----


class CottrellInput(ToolModel):
    voltammogram: Voltammogram | None = Field(default=None, description="Chronoamperogram (with t).")
    path: str | None = Field(default=None, description="Chronoamperogram file instead of inline data.")
    t: Trace | None = Field(default=None, description="Time since the step, s.")
    I: Trace | None = Field(default=None, description="Current, A.")
    area: PositiveFloat = Field(description="Electrode area, m^2.")
    concentration: PositiveFloat = Field(description="Bulk concentration, mol/m^3.")
    n: int = Electrons
    t_min: float | None = Field(default=None, ge=0, description="Start of the fitted window, s (default 5 % in).")
    t_max: PositiveFloat | None = Field(default=None, description="End of the fitted window, s.")
    t_step: FiniteFloat = Field(default=0.0, description="Time of the potential step in the record, s.")
    fit_intercept: bool = Field(default=False, description="Fit a constant background current too.")
    plot_dir: PathStr | None = PlotDir

    @model_validator(mode="after")
    def _one_source(self) -> CottrellInput:
        sources = sum(x is not None for x in (self.voltammogram, self.path, self.t))
        if sources != 1:
            raise InvalidInput("voltammogram", "give exactly one of voltammogram, path, or t with I")
        if self.t is not None and (self.I is None or len(self.I) != len(self.t)):
            raise InvalidInput("I", "give one current I per time t")
        return self


class CottrellOutput(ToolModel):
    D: float = Field(description="Diffusion coefficient, m^2/s.")
    D_stderr: float = Field(description="Standard error of D, m^2/s.")
    slope: float = Field(description="Slope of |i| vs t^-1/2, A s^1/2.")
    intercept: float = Field(description="Background current, A (0 unless fit_intercept).")
    r2: float
    t_window: tuple[float, float] = Field(description="Time window used, s (after the step).")
    n_points: int
    warnings: list[str] = Field(default_factory=list)
    plots: list[str] = Plots
    reference: str = "Bard & Faulkner, Electrochemical Methods 2nd ed. (2001), section 5.2.1 (Cottrell equation)"


@tool(cost=lambda inp: _CHEAP)
def cottrell_analysis(inp: CottrellInput) -> CottrellOutput:
    """Diffusion coefficient from a diffusion-limited potential step: |i| vs t^-1/2 (Cottrell)."""
    if inp.t is not None:
        t, I = np.asarray(inp.t), np.asarray(inp.I)
    else:
        data = inp.voltammogram or read_voltammogram_file(inp.path)
        _, I, t = data.arrays()
        if t is None:
            raise InvalidInput("voltammogram.t", "chronoamperometry needs times")
    t = t - inp.t_step
    window = None
    if inp.t_min is not None or inp.t_max is not None:
        window = (inp.t_min if inp.t_min is not None else 0.0, inp.t_max if inp.t_max is not None else float(t.max()))
    res = cottrell_D(
        t,
        I,
        n=inp.n,
        area=inp.area,
        concentration=inp.concentration,
        t_window=window,
        fit_intercept=inp.fit_intercept,
    )
    plots = []
    if inp.plot_dir is not None:
        pos = t > 0
        lo, hi = res.t_window
        x, y = 1.0 / np.sqrt(t[pos]), np.abs(I[pos])
        used = (t[pos] >= lo) & (t[pos] <= hi)
        plots.append(
            line_plot(
                Path(inp.plot_dir) / "cottrell.png", x, y, used, res.fit.slope, res.fit.intercept,
                xlabel="t^-1/2 / s^-1/2", ylabel="|i| / A", title=f"Cottrell: D = {res.D:.3g} m^2/s",
            )
        )  # fmt: skip
    return CottrellOutput(
        D=res.D,
        D_stderr=res.D_stderr,
        slope=res.fit.slope,
        intercept=res.fit.intercept,
        r2=res.fit.r2,
        t_window=res.t_window,
        n_points=res.fit.n,
        warnings=res.warnings,
        plots=plots,
    )
