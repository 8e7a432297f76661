"""Signalling switch: the phosphorylation–dephosphorylation cycle (PdPC) as an ultrasensitive switch.

The ``signalling_switch`` workflow chains these skills::

    model (mass-action scheme, time course, detailed-balance structure)
      -> dose_response (mass action vs Goldbeter-Koshland)      \\
      -> saturation (R and n_H vs K_M/W_T, checkpoint)           } in parallel
      -> thermodynamics (ΔG = 0: no amplification; ΔG > 0: switch) /

Every number comes from a registered kinetics tool (``simulate_network``, ``check_detailed_balance``,
``pdpc_response``, ``pdpc_saturation_scan``); the skills choose the parameters, arrange the calls, record provenance
and draw the summary plots. Units: concentrations mol/m³ (= mM), time s, energies J/mol.

References: Goldbeter & Koshland, PNAS 78 (1981) 6840 (zero-order ultrasensitivity, R = 81 for a Michaelis–Menten
hyperbola); Qian, Biophys. Chem. 105 (2003) 585 (ΔG = 0 gives detailed balance and no amplification).
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import Field

from ..tools.fields import PositiveFloat, ToolModel
from ..tools.kinetics import PdPCParameters
from ..tools.registry import Cost, get_tool
from ._skill import SkillContext, skill

__all__ = [
    "CycleModel",
    "DoseResponse",
    "SaturationResult",
    "ThermodynamicCheck",
    "pdpc_model",
    "dose_response",
    "saturation_sweep",
    "thermodynamic_check",
    "cycle_reactions",
]

GAS_CONSTANT = 8.314462618  # J/(mol·K), CODATA 2018 exact


def cycle_reactions(p: PdPCParameters) -> list[str]:
    """The PdPC as reaction strings for the kinetics tools (catalysis reversible only where km > 0).

    Species: W, W* (substrate, phosphorylated), E1 (kinase), E2 (phosphatase), E1W, E2W* (complexes).
    """
    fmt = repr  # full float precision, so ΔG = 0 survives the round trip exactly

    def catalysis(name: str, lhs: str, rhs: str, kf: float, kr: float) -> str:
        if kr > 0:
            return f"{name}: {lhs} <-> {rhs}; kf={fmt(kf)}, kr={fmt(kr)}"
        return f"{name}: {lhs} -> {rhs}; kf={fmt(kf)}"

    return [
        f"kinase_binding: W + E1 <-> E1W; kf={fmt(p.a1)}, kr={fmt(p.d1)}",
        catalysis("kinase_catalysis", "E1W", "W* + E1", p.k1, p.km1),
        f"phosphatase_binding: W* + E2 <-> E2W*; kf={fmt(p.a2)}, kr={fmt(p.d2)}",
        catalysis("phosphatase_catalysis", "E2W*", "W + E2", p.k2, p.km2),
    ]


# ----------------------------------------------------------------------------------------------------- model ----


class ModelInput(ToolModel):
    parameters: PdPCParameters = Field(default_factory=PdPCParameters, description="Constants and totals (SI).")
    signal_ratio: PositiveFloat = Field(
        default=1.0, description="Kinase/phosphatase capacity u = k1·E1_T/(k2·E2_T) for the example time course."
    )
    # Each cycle time costs ODE steps: 1,000 bounds the time course's run time.
    cycle_times: PositiveFloat = Field(
        default=10.0, le=1000, description="Length of the time course in cycle times W_T/(k2·E2_T)."
    )


class CycleModel(ToolModel):
    parameters: PdPCParameters = Field(description="The cycle's constants and totals (SI).")
    reactions: list[str] = Field(description="The mass-action scheme as reaction strings.")
    driven: bool = Field(description="True when an oriented cycle runs through irreversible steps (no equilibrium).")
    fraction_end: float = Field(description="(W* + E2W*)/W_T at the end of the example time course.")
    conservation_laws: dict[str, float] = Field(description="Conserved totals of the time course, mol/m³.")


@skill("signalling.pdpc_model", version="1", tools=("check_detailed_balance", "simulate_network"))
def pdpc_model(ctx: SkillContext, inp: ModelInput) -> CycleModel:
    """Build the mass-action PdPC, check its detailed-balance structure and relax one example to steady state."""
    p = inp.parameters
    ctx.mark_synthetic(
        "every curve is simulated from the mass-action model by labwright's own kinetics solvers; no measured data"
    )
    reactions = cycle_reactions(p)
    db = ctx.call("check_detailed_balance", {"reactions": reactions})
    e1 = inp.signal_ratio * p.k2 * p.E2_total / p.k1
    t_end = inp.cycle_times * p.W_total / (p.k2 * p.E2_total)
    tc = ctx.call(
        "simulate_network",
        {
            "reactions": reactions,
            "initial": {"W": p.W_total, "E1": e1, "E2": p.E2_total},
            "t_end": t_end,
            "n_points": 201,
            "plot_path": str(ctx.step_dir / "time_course.png"),
        },
    )
    fig = ctx.add_file(Path(tc.plot), kind="figure", title=f"Relaxation at u = {inp.signal_ratio:g} (mass action)")
    fraction = (tc.final["W*"] + tc.final["E2W*"]) / p.W_total
    scheme = ctx.save_json(
        "model.json",
        {"reactions": reactions, "parameters": p.model_dump(), "detailed_balance": db.model_dump()},
        title="PdPC scheme and detailed-balance structure",
    )
    ctx.claim(
        "mass-action scheme: " + ("driven cycle (irreversible catalysis)" if not db.structural_ok else db.message),
        value=len(reactions),
        unit="reactions",
        artifacts=[scheme],
    )
    ctx.claim(
        f"modified fraction after {inp.cycle_times:g} cycle times at u = {inp.signal_ratio:g}",
        value=fraction,
        artifacts=[fig],
    )
    return CycleModel(
        parameters=p,
        reactions=reactions,
        driven=not db.structural_ok or db.algebraic_ok is False,
        fraction_end=fraction,
        conservation_laws=tc.conservation_laws,
    )


# --------------------------------------------------------------------------------------------- dose response ----


class DoseInput(ToolModel):
    parameters: PdPCParameters = Field(description="Constants and totals (SI).")
    signal_ratio_min: PositiveFloat = Field(default=0.01, description="Lowest u swept.")
    signal_ratio_max: PositiveFloat = Field(default=100.0, description="Highest u swept.")
    # 10 points still show a switch; each point is one steady state, 2,000 bounds the sweep's time.
    n_points: int = Field(default=80, ge=10, le=2000, description="Signal values (log-spaced).")


class DoseResponse(ToolModel):
    J1: float = Field(description="K1/W_T (dimensionless).")
    J2: float = Field(description="K2/W_T (dimensionless).")
    response_coefficient_gk: float = Field(description="Goldbeter–Koshland R = s90/s10.")
    response_coefficient_mass_action: float | None = Field(description="R of the full mass-action sweep.")
    hill_coefficient_gk: float | None = Field(description="ln 81 / ln R (GK).")
    hill_coefficient_mass_action: float | None = Field(description="ln 81 / ln R (mass action).")
    max_deviation_from_gk: float = Field(description="max |mass action − GK| of the modified fraction.")


def _dose_cost(inp: DoseInput) -> Cost:
    return get_tool("pdpc_response").estimate_cost({"n_points": inp.n_points})


@skill("signalling.dose_response", version="1", tools=("pdpc_response",), estimate=_dose_cost)
def dose_response(ctx: SkillContext, inp: DoseInput) -> DoseResponse:
    """Dose–response of the cycle: full mass-action steady states against the Goldbeter–Koshland function."""
    r = ctx.call(
        "pdpc_response",
        {
            "parameters": inp.parameters.model_dump(),
            "signal_ratio_min": inp.signal_ratio_min,
            "signal_ratio_max": inp.signal_ratio_max,
            "n_points": inp.n_points,
            "plot_path": str(ctx.step_dir / "dose_response.png"),
        },
    )
    fig = ctx.add_file(Path(r.plot), kind="figure", title="Dose–response: mass action (points) vs GK (line)")
    table = ctx.save_table(
        "dose_response.csv",
        [
            {"signal_ratio": u, "kinase_total_mol_per_m3": e, "fraction_mass_action": f, "fraction_gk": g}
            for u, e, f, g in zip(r.signal_ratio, r.kinase_total, r.fraction_mass_action, r.fraction_goldbeter_koshland)
        ],
        title="Modified fraction against signal",
    )
    ctx.claim(f"response coefficient R = s90/s10 (GK, J1 = {r.J1:.3g})", value=r.response_coefficient_gk,
              artifacts=[fig, table])  # fmt: skip
    if r.response_coefficient_mass_action is not None:
        ctx.claim("response coefficient R (mass action)", value=r.response_coefficient_mass_action, artifacts=[table])
    if r.hill_coefficient_mass_action is not None:
        ctx.claim("effective Hill coefficient n_H (mass action)", value=r.hill_coefficient_mass_action,
                  artifacts=[table])  # fmt: skip
    ctx.claim("largest |mass action − GK| of the modified fraction", value=r.max_deviation_from_gk, artifacts=[table])
    ctx.note(r.message)
    return DoseResponse(
        J1=r.J1,
        J2=r.J2,
        response_coefficient_gk=r.response_coefficient_gk,
        response_coefficient_mass_action=r.response_coefficient_mass_action,
        hill_coefficient_gk=r.hill_coefficient_gk,
        hill_coefficient_mass_action=r.hill_coefficient_mass_action,
        max_deviation_from_gk=r.max_deviation_from_gk,
    )


# ------------------------------------------------------------------------------------------------ saturation ----


def _decades(lo: float, hi: float, per_decade: int) -> list[float]:
    n = round(math.log10(hi / lo) * per_decade)
    return [lo * 10 ** (k / per_decade) for k in range(n + 1)]


class SaturationInput(ToolModel):
    parameters: PdPCParameters = Field(description="Constants (K1, K2) and the enzyme/substrate ratio E2_T/W_T.")
    # A scan shows a trend only with two values or more.
    J: list[PositiveFloat] = Field(
        default_factory=lambda: _decades(1e-3, 1e3, 4),
        min_length=2,
        description="K_M/W_T values for the closed-form GK scan (dimensionless).",
    )
    J_mass_action: list[PositiveFloat] = Field(
        default=[0.01, 0.1, 1.0, 10.0, 100.0],
        description="K1/W_T values re-checked with full mass-action sweeps (W_T = K1/J, enzymes scaled with W_T).",
    )
    # 10 points still show a switch; each point is one steady state, 2,000 bounds the sweep's time.
    n_points: int = Field(default=80, ge=10, le=2000, description="Signal values per mass-action sweep.")


class SaturationPoint(ToolModel):
    J1: float
    J2: float
    response_coefficient_gk: float
    response_coefficient_mass_action: float | None
    hill_coefficient_mass_action: float | None


class SaturationResult(ToolModel):
    J: list[float] = Field(description="K_M/W_T of the closed-form scan.")
    response_coefficient: list[float] = Field(description="GK R at each J (81 first-order, → 1 zero-order).")
    hill_coefficient: list[float | None] = Field(description="ln 81 / ln R at each J.")
    mass_action: list[SaturationPoint] = Field(description="Full mass-action sweeps at J_mass_action.")
    max_relative_difference: float | None = Field(
        description="max |R_mass action / R_GK − 1| over the mass-action points (None if none crossed 10-90 %)."
    )


def _window(R: float) -> tuple[float, float]:
    """Signal window (u_min, u_max) around u = 1 that crosses 10 % and 90 % for a switch with response R.

    The 10-90 % span is a factor R in u; 1.3 decades of ln R either side plus a margin keeps both crossings inside
    without wasting points on the flat tails (which matter when R is close to 1).
    """
    half = 1.3 * math.log10(R) + 0.05
    return 10**-half, 10**half


def _saturation_cost(inp: SaturationInput) -> Cost:
    one = get_tool("pdpc_response").estimate_cost({"n_points": inp.n_points})
    total = Cost(seconds=0.01)
    for _ in inp.J_mass_action:
        total = total + one
    return total


@skill(
    "signalling.saturation_sweep",
    version="1",
    tools=("pdpc_saturation_scan", "pdpc_response"),
    estimate=_saturation_cost,
)
def saturation_sweep(ctx: SkillContext, inp: SaturationInput) -> SaturationResult:
    """Response coefficient and Hill number against enzyme saturation K_M/W_T, closed form and full mass action."""
    p = inp.parameters
    scan = ctx.call("pdpc_saturation_scan", {"J": list(inp.J)})
    gk_at = ctx.call("pdpc_saturation_scan", {"J": list(inp.J_mass_action)}) if inp.J_mass_action else None
    enzyme_ratio = p.E2_total / p.W_total  # kept fixed: GK assumes enzymes ≪ substrate at every J
    points = []
    for J, R in zip(inp.J_mass_action, gk_at.response_coefficient if gk_at else []):
        w_total = p.K1 / J
        lo, hi = _window(R)
        q = p.model_copy(update={"W_total": w_total, "E2_total": enzyme_ratio * w_total})
        r = ctx.call(
            "pdpc_response",
            {"parameters": q.model_dump(), "signal_ratio_min": lo, "signal_ratio_max": hi, "n_points": inp.n_points},
        )
        points.append(
            SaturationPoint(
                J1=r.J1,
                J2=r.J2,
                response_coefficient_gk=r.response_coefficient_gk,
                response_coefficient_mass_action=r.response_coefficient_mass_action,
                hill_coefficient_mass_action=r.hill_coefficient_mass_action,
            )
        )
    diffs = [
        abs(pt.response_coefficient_mass_action / pt.response_coefficient_gk - 1)
        for pt in points
        if pt.response_coefficient_mass_action is not None
    ]
    rows = [
        {"J": J, "R_gk": R, "n_H_gk": n, "source": "Goldbeter-Koshland closed form"}
        for J, R, n in zip(scan.J, scan.response_coefficient, scan.hill_coefficient)
    ] + [
        {"J": pt.J1, "R_gk": pt.response_coefficient_gk, "n_H_gk": None, "source": "mass action",
         "R_mass_action": pt.response_coefficient_mass_action, "n_H_mass_action": pt.hill_coefficient_mass_action}
        for pt in points
    ]  # fmt: skip
    keys = ["J", "source", "R_gk", "n_H_gk", "R_mass_action", "n_H_mass_action"]
    table = ctx.save_table("saturation.csv", [{k: r.get(k) for k in keys} for r in rows], title="R and n_H vs J")
    fig = _plot_saturation(ctx, scan, points)
    ctx.claim(
        f"first-order limit: R at K_M/W_T = {scan.J[-1]:g} (→ 81 as J → ∞)",
        value=scan.response_coefficient[-1],
        artifacts=[table, fig],
    )
    ctx.claim(
        f"zero-order limit: R at K_M/W_T = {scan.J[0]:g} (→ 1 as J → 0)",
        value=scan.response_coefficient[0],
        artifacts=[table, fig],
    )
    if scan.hill_coefficient[0] is not None:
        ctx.claim(f"effective Hill coefficient at K_M/W_T = {scan.J[0]:g}", value=scan.hill_coefficient[0],
                  artifacts=[table])  # fmt: skip
    worst = max(diffs) if diffs else None
    if worst is not None:
        ctx.claim("largest |R_mass action / R_GK − 1| over the mass-action points", value=worst, artifacts=[table])
    return SaturationResult(
        J=scan.J,
        response_coefficient=scan.response_coefficient,
        hill_coefficient=scan.hill_coefficient,
        mass_action=points,
        max_relative_difference=worst,
    )


def _plot_saturation(ctx: SkillContext, scan, points: list[SaturationPoint]):
    fig = ctx.figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.semilogx(scan.J, scan.response_coefficient, "-", label="Goldbeter–Koshland")
    ma = [(pt.J1, pt.response_coefficient_mass_action) for pt in points if pt.response_coefficient_mass_action]
    if ma:
        ax1.semilogx(*zip(*ma), "o", label="mass action")
    ax1.axhline(81, color="grey", lw=0.8, ls=":")
    ax1.set_xlabel("K_M / W_T")
    ax1.set_ylabel("R = s90 / s10")
    ax1.set_yscale("log")
    ax1.legend(fontsize=8)
    nh = [(J, n) for J, n in zip(scan.J, scan.hill_coefficient) if n is not None]
    ax2.loglog(*zip(*nh), "-", label="Goldbeter–Koshland")
    mh = [(pt.J1, pt.hill_coefficient_mass_action) for pt in points if pt.hill_coefficient_mass_action]
    if mh:
        ax2.loglog(*zip(*mh), "o", label="mass action")
    ax2.axhline(1, color="grey", lw=0.8, ls=":")
    ax2.set_xlabel("K_M / W_T")
    ax2.set_ylabel("effective Hill coefficient n_H")
    ax2.legend(fontsize=8)
    fig.suptitle("Zero-order ultrasensitivity: saturation sharpens the switch")
    return ctx.save_figure("saturation.png", fig, title="R and n_H against enzyme saturation")


# -------------------------------------------------------------------------------------------- thermodynamics ----


class ThermoInput(ToolModel):
    parameters: PdPCParameters = Field(description="Binding and catalytic constants and totals (SI).")
    # ATP hydrolysis in cells gives ~50-60 kJ/mol; 200 kJ/mol is past any biological phosphoryl donor.
    delta_G_driven: PositiveFloat = Field(
        default=50e3, le=200e3, description="Phosphorylation potential of the driven variant, J/mol (ATP: ~50e3)."
    )
    temperature: PositiveFloat = Field(default=298.15, description="K")
    # 10 points still show a switch; each point is one steady state, 2,000 bounds the sweep's time.
    n_points: int = Field(default=80, ge=10, le=2000, description="Signal values per sweep.")


class CycleVariant(ToolModel):
    label: str
    km1: float = Field(description="Reverse kinase catalysis, m³/(mol·s).")
    km2: float = Field(description="Reverse phosphatase catalysis, m³/(mol·s).")
    delta_G: float | None = Field(description="RT ln γ from the tool, J/mol.")
    at_equilibrium: bool
    detailed_balance: bool | None = Field(description="check_detailed_balance verdict on the scheme.")
    log_deviation: float | None = Field(description="Σ c ln(k+/k−) on the violated cycle (ln γ).")
    response_span: float = Field(description="max − min modified fraction over the sweep.")
    response_coefficient_mass_action: float | None


class ThermodynamicCheck(ToolModel):
    equilibrium: CycleVariant
    driven: CycleVariant
    amplification_needs_free_energy: bool = Field(
        description="True when the ΔG = 0 cycle does not switch and the driven one does."
    )


def _reverse_constants(p: PdPCParameters, gamma: float) -> tuple[float, float]:
    """km1, km2 giving γ = a1 k1 a2 k2 / (d1 km1 d2 km2), split evenly between the two catalytic steps.

    An even split keeps both reverse fluxes small for a driven cycle (each carries √γ), so the driven variant stays
    close to the irreversible Goldbeter–Koshland switch; γ = 1 puts W*/W = 1 at equilibrium.
    """
    root = math.sqrt(gamma)
    return p.a1 * p.k1 / (p.d1 * root), p.a2 * p.k2 / (p.d2 * root)


def _thermo_cost(inp: ThermoInput) -> Cost:
    one = get_tool("pdpc_response").estimate_cost({"n_points": inp.n_points})
    return one + one


@skill(
    "signalling.thermodynamic_check",
    version="1",
    tools=("pdpc_response", "check_detailed_balance"),
    estimate=_thermo_cost,
)
def thermodynamic_check(ctx: SkillContext, inp: ThermoInput) -> ThermodynamicCheck:
    """Thermodynamic check: at ΔG = 0 (detailed balance) the cycle cannot amplify; with ΔG > 0 it switches."""
    p = inp.parameters
    gamma_driven = math.exp(inp.delta_G_driven / (GAS_CONSTANT * inp.temperature))
    variants = []
    curves = {}
    for label, gamma in (("ΔG = 0", 1.0), (f"ΔG = {inp.delta_G_driven / 1000:g} kJ/mol", gamma_driven)):
        km1, km2 = _reverse_constants(p, gamma)
        q = p.model_copy(update={"km1": km1, "km2": km2})
        db = ctx.call("check_detailed_balance", {"reactions": cycle_reactions(q)})
        r = ctx.call(
            "pdpc_response",
            {"parameters": q.model_dump(), "n_points": inp.n_points, "temperature": inp.temperature},
        )
        curves[label] = (r.signal_ratio, r.fraction_mass_action)
        variants.append(
            CycleVariant(
                label=label,
                km1=km1,
                km2=km2,
                delta_G=r.delta_G,
                at_equilibrium=r.at_equilibrium,
                detailed_balance=db.satisfied,
                log_deviation=db.log_deviation,
                response_span=r.response_span,
                response_coefficient_mass_action=r.response_coefficient_mass_action,
            )
        )
        ctx.note(f"{label}: {r.message}; detailed balance: {db.message}")
    eq, dr = variants
    table = ctx.save_table("thermodynamics.csv", [v.model_dump() for v in variants], title="ΔG = 0 vs driven cycle")
    fig = ctx.figure(figsize=(5.5, 3.8))
    ax = fig.subplots()
    for label, (u, f) in curves.items():
        ax.semilogx(u, f, label=label)
    ax.set_xlabel("signal u = k1·E1_T / (k2·E2_T)")
    ax.set_ylabel("modified fraction (W* + E2W*)/W_T")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("No free energy, no switch")
    fig_art = ctx.save_figure("thermodynamics.png", fig, title="Dose–response at ΔG = 0 and with ATP-like ΔG")
    ctx.claim("span of the modified fraction at ΔG = 0 (detailed balance)", value=eq.response_span,
              artifacts=[table, fig_art])  # fmt: skip
    ctx.claim(f"span of the modified fraction at {dr.label}", value=dr.response_span, artifacts=[table, fig_art])
    if dr.response_coefficient_mass_action is not None:
        ctx.claim(f"response coefficient R at {dr.label}", value=dr.response_coefficient_mass_action,
                  artifacts=[table])  # fmt: skip
    ok = eq.at_equilibrium and eq.detailed_balance is True and dr.detailed_balance is False
    ok = ok and eq.response_span < 0.05 < dr.response_span
    ctx.claim("amplification needs free energy (ΔG = 0 gives no switch)", value="yes" if ok else "no",
              artifacts=[table])  # fmt: skip
    return ThermodynamicCheck(equilibrium=eq, driven=dr, amplification_needs_free_energy=ok)
