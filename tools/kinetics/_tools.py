"""Kinetics tools for the kineticist role: pydantic in/out, SI units, registered in the tool registry.

Tools: ``simulate_network``, ``steady_state``, ``fit_rate_constants``, ``check_detailed_balance``, ``pdpc_response``,
``pdpc_saturation_scan``, ``simulate_ssa``, ``cme_stationary``. Reactions are given as strings
(``"E + S <-> ES; kf=100, kr=1"``) or as objects ``{equation, k_forward, k_reverse, name}``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import Field, model_validator

from ...errors import InvalidInput, SimulationFailed
from ..fields import (
    MAX_LIST_ITEMS,
    Capped,
    FiniteFloat,
    Name,
    NonNegativeFloat,
    PathStr,
    PositiveFloat,
    Seed,
    ToolModel,
)
from ..registry import Cost, tool
from ._balance import DetailedBalanceReport, extended_detailed_balance
from ._cme import cme_stationary_distribution
from ._fit import fit_constants
from ._massaction import MassActionSystem, compile_network
from ._network import ReactionNetwork, ReactionSpec, parse_network, rate_constant_unit
from ._ode import solve_ode
from ._pdpc import (
    PdPCParameters,
    gk_response_coefficient,
    gk_signal_for_fraction,
    goldbeter_koshland,
    hill_coefficient,
    pdpc_dose_response,
    phosphorylation_potential,
    response_coefficient,
)
from ._plot import check_png_path, plot_dose_response, plot_time_course
from ._ssa import simulate_ssa_counts
from ._steady import make_steady_solver

__all__ = [
    "NetworkInput",
    "SimulateNetworkInput",
    "TimeCourse",
    "SteadyStateInput",
    "SteadyStateResult",
    "FitRateConstantsInput",
    "FitResult",
    "DetailedBalanceInput",
    "PdPCResponseInput",
    "PdPCResponse",
    "SaturationScanInput",
    "SaturationScan",
    "SSAInput",
    "SSAResult",
    "CMEInput",
    "CMEResult",
    "simulate_network",
    "steady_state",
    "fit_rate_constants",
    "check_detailed_balance",
    "pdpc_response",
    "pdpc_saturation_scan",
    "simulate_ssa",
    "cme_stationary",
]

Reactions = Annotated[list[ReactionSpec | Name], Capped(MAX_LIST_ITEMS, "a genome-scale network has ~10⁴ reactions")]
SpeciesNames = Annotated[list[Name], Capped(MAX_LIST_ITEMS, "one per species of a genome-scale network")]

MAX_SSA_EVENTS = 20_000_000
"""Simulated events per simulate_ssa call, all trajectories together (measured: 2e8 took 43 s on 2 busy CPU cores)."""


class NetworkInput(ToolModel):
    """A reaction network given as reaction strings or specs."""

    reactions: Reactions = Field(
        min_length=1,
        description="Reactions, e.g. 'E + S <-> ES; kf=100, kr=1' (kf units (m³/mol)^(n-1)/s for order n; "
        "'0' for an empty side) or objects {equation, k_forward, k_reverse, name}.",
    )
    species: SpeciesNames | None = Field(
        default=None, description="Optional declared species (fixes the order); undeclared species are an error."
    )

    def network(self) -> ReactionNetwork:
        return parse_network(self.reactions, species=self.species)


MAX_INITIAL = 1e15
"""Largest initial amount (mol/m³, or copies for the stochastic tools): pure water is 5.5e4 mol/m³, and beyond this
the products mass action forms (rate constant × amounts) leave float64 and the compiled solvers stop on a non-finite
state instead of answering (an initial 1e308 did)."""


def _initial_vector(net: ReactionNetwork, initial: dict[str, float], field: str = "initial") -> np.ndarray:
    x0 = np.zeros(net.n_species)
    for name, value in initial.items():
        if name not in net.index:
            raise InvalidInput(f"{field}.{name}", f"unknown species; network species are {net.species}")
        if value > MAX_INITIAL:
            raise InvalidInput(f"{field}.{name}", f"{value:g} is above {MAX_INITIAL:g} (SI), beyond any real amount")
        x0[net.index[name]] = value
    return x0


def _constants(system: MassActionSystem, k: np.ndarray) -> dict[str, float]:
    return {lab: float(v) for lab, v in zip(system.labels, k)}


def _units(net: ReactionNetwork) -> dict[str, str]:
    out = {}
    for r in net.reactions:
        out[f"{r.name}.k_forward"] = rate_constant_unit(r.order)
        if r.reversible:
            out[f"{r.name}.k_reverse"] = rate_constant_unit(r.reverse_order)
    return out


def _laws(net: ReactionNetwork, x0: np.ndarray) -> dict[str, float]:
    return {net.describe_law(row): float(row @ x0) for row in net.conservation_laws()}


# ---- simulate_network ---------------------------------------------------------------------------------------------
SolverName = Literal["Kvaerno5", "Kvaerno3", "Tsit5", "Dopri5", "Dopri8", "Rodas4", "Rodas5P", "NDF"]


def time_course_fields() -> dict:
    """Fresh ``Field`` objects shared by the time-course tools (network and SBML): n_points, solver, rtol."""
    return {
        # Every species is returned at every output time: 20,000 times bounds the reply.
        "n_points": Field(default=101, ge=2, le=20_000, description="Number of equally spaced output times."),
        "solver": Field(
            default="Kvaerno5",
            description="Kvaerno5/3: stiff (implicit ESDIRK); Tsit5 / Dopri5 / Dopri8: non-stiff explicit (Dopri8 at "
            "tight tolerances; a stiff model exhausts their step limit); Rodas4 / Rodas5P: stiff "
            "Rosenbrock, the fastest for forward simulation of small networks (Rodas5P at tight tolerances); NDF: "
            "variable-order multistep reusing its Jacobian, the fastest at tight tolerances and from ~20 species.",
        ),
        # A relative tolerance above 10 % is no longer a solution of the ODE.
        "rtol": Field(default=1e-8, le=0.1, description="Relative tolerance."),
    }


_COURSE = time_course_fields()


class SimulateNetworkInput(NetworkInput):
    initial: dict[str, NonNegativeFloat] = Field(description="Initial concentrations, mol/m³; unlisted species 0.")
    t_end: PositiveFloat = Field(description="End time, s.")
    n_points: int = _COURSE["n_points"]
    solver: SolverName = _COURSE["solver"]
    rtol: PositiveFloat = _COURSE["rtol"]
    atol: PositiveFloat = Field(default=1e-10, description="Absolute tolerance, mol/m³.")
    plot_path: PathStr | None = Field(default=None, description="If given, write the time course as a PNG here.")


class TimeCourse(ToolModel):
    times: list[float] = Field(description="Output times, s.")
    concentrations: dict[str, list[float]] = Field(description="Species -> concentration at each time, mol/m³.")
    final: dict[str, float] = Field(description="Concentrations at t_end, mol/m³.")
    conservation_laws: dict[str, float] = Field(description="Conserved combination -> its constant value, mol/m³.")
    rate_constant_units: dict[str, str] = Field(description="Unit of each rate constant.")
    plot: str | None = Field(default=None, description="PNG path, if a plot was requested.")
    plot_sha256: str | None = Field(default=None, description="sha256 of the PNG.")


@tool(cost=lambda inp: Cost(seconds=3.0, sim_calls=1))
def simulate_network(inp: SimulateNetworkInput) -> TimeCourse:
    """Deterministic mass-action time course of a reaction network (stiff diffrax solver, float64)."""
    net = inp.network()
    net.require_constants()
    png = check_png_path(inp.plot_path)
    system = compile_network(net)
    x0 = _initial_vector(net, inp.initial)
    ts = np.linspace(0.0, inp.t_end, inp.n_points)
    ys = solve_ode(system, x0, ts, solver=inp.solver, rtol=inp.rtol, atol=inp.atol)
    conc = {s: ys[:, i].tolist() for i, s in enumerate(net.species)}
    out = TimeCourse(
        times=ts.tolist(),
        concentrations=conc,
        final={s: float(ys[-1, i]) for i, s in enumerate(net.species)},
        conservation_laws=_laws(net, x0),
        rate_constant_units=_units(net),
    )
    if png is not None:
        digest = plot_time_course(png, ts, {s: ys[:, i] for i, s in enumerate(net.species)}, title="mass action")
        out = out.model_copy(update={"plot": str(png), "plot_sha256": digest})
    return out


# ---- steady_state -------------------------------------------------------------------------------------------------
class SteadyStateInput(NetworkInput):
    initial: dict[str, NonNegativeFloat] = Field(
        description="Initial concentrations, mol/m³ (they fix the conserved totals); unlisted species 0."
    )
    t_relax: PositiveFloat = Field(default=1e4, description="ODE relaxation time before Newton polishing, s.")
    sensitivities: bool = Field(
        default=False, description="Also return log-sensitivities ∂ln x_i*/∂ln k_j (implicit-function theorem)."
    )


class SteadyStateResult(ToolModel):
    concentrations: dict[str, float] = Field(description="Steady-state concentrations, mol/m³.")
    relative_residual: float = Field(description="Largest |net flux|/gross flux over species (dimensionless).")
    conservation_laws: dict[str, float] = Field(description="Conserved combination -> total, mol/m³.")
    log_sensitivities: dict[str, dict[str, float]] | None = Field(
        default=None, description="species -> constant label -> ∂ln x*/∂ln k (dimensionless); None if not asked."
    )


@tool(cost=lambda inp: Cost(seconds=4.0 + 2.0 * inp.sensitivities, sim_calls=1))
def steady_state(inp: SteadyStateInput) -> SteadyStateResult:
    """Steady state reached from the initial concentrations: ODE relaxation, then damped Newton with conservation
    laws; optional parameter sensitivities by implicit differentiation."""
    net = inp.network()
    net.require_constants()
    system = compile_network(net)
    x0 = _initial_vector(net, inp.initial)
    run = make_steady_solver(system)
    k = jnp.asarray(system.k)
    x, res = run(jnp.asarray(x0), k, jnp.asarray(inp.t_relax))
    x, res = np.asarray(x), float(res)
    if not (np.all(np.isfinite(x)) and res < 1e-7):
        raise SimulationFailed(
            f"no steady state found (relative residual {res:.2e}); the network may grow without bound, or t_relax "
            "is too short"
        )
    sens = None
    if inp.sensitivities:
        jac = np.asarray(jax.jacfwd(lambda kk: run(jnp.asarray(x0), kk, jnp.asarray(inp.t_relax))[0])(k))
        scale = np.asarray(system.k)[None, :] / np.where(x > 0, x, np.nan)[:, None]
        logs = jac * scale
        sens = {
            s: {lab: (float(v) if np.isfinite(v) else 0.0) for lab, v in zip(system.labels, logs[i])}
            for i, s in enumerate(net.species)
        }
    return SteadyStateResult(
        concentrations={s: float(x[i]) for i, s in enumerate(net.species)},
        relative_residual=res,
        conservation_laws=_laws(net, x0),
        log_sensitivities=sens,
    )


# ---- fit_rate_constants -------------------------------------------------------------------------------------------
class FitRateConstantsInput(NetworkInput):
    initial: dict[str, NonNegativeFloat] = Field(description="Initial concentrations, mol/m³; unlisted species 0.")
    # A fit to a time course needs two observation times or more.
    times: list[NonNegativeFloat] = Field(min_length=2, description="Observation times, s, strictly increasing.")
    observed: dict[str, list[FiniteFloat]] = Field(
        min_length=1, description="Species -> observed concentrations (mol/m³), one per time."
    )
    fit: list[str] | None = Field(
        default=None, description="Constants to fit ('r1', 'r1.k_forward', 'r1.k_reverse'); default all."
    )
    sigma: dict[str, PositiveFloat] | None = Field(default=None, description="Noise level per species, mol/m³.")
    # L-BFGS converges in tens to hundreds of iterations; 5,000 bounds a fit that does not converge.
    max_iter: int = Field(default=200, ge=1, le=5000, description="L-BFGS iteration limit.")
    solver: Literal["Kvaerno5", "Kvaerno3", "Tsit5", "Dopri5", "Dopri8"] = Field(
        default="Kvaerno5",
        description="Kvaerno5/3: stiff (implicit ESDIRK); Tsit5 / Dopri5 / Dopri8: non-stiff explicit.",
    )
    plot_path: PathStr | None = Field(default=None, description="If given, write data and fit as a PNG here.")


class FitResult(ToolModel):
    rate_constants: dict[str, float] = Field(description="Fitted constants (units in rate_constant_units).")
    initial_constants: dict[str, float] = Field(description="Starting constants.")
    rate_constant_units: dict[str, str] = Field(description="Unit of each constant.")
    fitted: list[str] = Field(description="Labels of the constants that were fitted.")
    loss: float = Field(description="Final ½·mean squared scaled residual (dimensionless).")
    initial_loss: float = Field(description="Loss at the starting constants.")
    r_squared: float = Field(description="Coefficient of determination over all observed species.")
    iterations: int
    converged: bool = Field(description="Gradient norm fell below tolerance.")
    plot: str | None = None
    plot_sha256: str | None = None


@tool(cost=lambda inp: Cost(seconds=20.0, sim_calls=3 * inp.max_iter))
def fit_rate_constants(inp: FitRateConstantsInput) -> FitResult:
    """Fit mass-action rate constants (log scale, L-BFGS through the stiff ODE solver) to time-course data."""
    net = inp.network()
    net.require_constants()
    png = check_png_path(inp.plot_path)
    system = compile_network(net)
    x0 = _initial_vector(net, inp.initial)
    for key in inp.sigma or {}:
        if key not in inp.observed:
            raise InvalidInput(f"sigma.{key}", "noise level given for a species that is not observed")
    out = fit_constants(
        system,
        x0,
        np.asarray(inp.times),
        inp.observed,
        fit=inp.fit,
        sigma=inp.sigma,
        max_iter=inp.max_iter,
        solver=inp.solver,
    )
    result = FitResult(
        rate_constants=_constants(system, out.k),
        initial_constants=_constants(system, system.k),
        rate_constant_units=_units(net),
        fitted=list(out.fitted),
        loss=out.loss,
        initial_loss=out.initial_loss,
        r_squared=out.r_squared,
        iterations=out.iterations,
        converged=out.converged,
    )
    if png is not None:
        t_fine = np.linspace(0.0, max(inp.times), 200)
        ys = solve_ode(system, x0, t_fine, k=out.k, solver=inp.solver)
        series = {s: ys[:, net.index[s]] for s in inp.observed}
        obs = {s: (np.asarray(inp.times), np.asarray(v)) for s, v in inp.observed.items()}
        digest = plot_time_course(png, t_fine, series, observed=obs, title="fit (lines) vs data (points)")
        result = result.model_copy(update={"plot": str(png), "plot_sha256": digest})
    return result


# ---- check_detailed_balance ---------------------------------------------------------------------------------------
class DetailedBalanceInput(NetworkInput):
    # A relative tolerance above 1 accepts any cycle: the check would say nothing.
    rtol: PositiveFloat = Field(default=1e-6, le=1.0, description="Tolerance on |Σ c ln(k+/k-)| around a cycle.")


@tool(cost=lambda inp: Cost(seconds=0.05))
def check_detailed_balance(inp: DetailedBalanceInput) -> DetailedBalanceReport:
    """Extended detailed balance (Gorban & Yablonsky): structural condition by linear programming (names the
    oriented cycle through irreversible steps) and Wegscheider cycle conditions (names the violated cycle)."""
    return extended_detailed_balance(inp.network(), rtol=inp.rtol)


# ---- PdPC ---------------------------------------------------------------------------------------------------------
class PdPCResponseInput(ToolModel):
    parameters: PdPCParameters = Field(default_factory=PdPCParameters, description="Constants and totals (SI).")
    # u beyond 1e±12 is far into saturation on either side, and the E1 totals it implies underflow the steady-state
    # solve (a swept u of 1e-308 gave non-finite slopes in the response curve).
    signal_ratio_min: float = Field(
        default=0.01,
        ge=1e-12,
        le=1e12,
        allow_inf_nan=False,
        description="Lowest kinase/phosphatase capacity ratio u = k1·E1_T/(k2·E2_T) swept (1e-12 to 1e12).",
    )
    signal_ratio_max: float = Field(  # the same range as signal_ratio_min, for the same reason
        default=100.0, ge=1e-12, le=1e12, allow_inf_nan=False, description="Highest ratio u swept (1e-12 to 1e12)."
    )
    # 10 points still show a switch; each point is one steady state, 2,000 bounds the vmapped batch.
    n_points: int = Field(default=200, ge=10, le=2000, description="Signal values (log-spaced), solved in one vmap.")
    temperature: float = Field(
        default=298.15,
        ge=1.0,
        le=5000.0,  # as the electrochemistry tools: beyond it no enzyme cycle exists, and RT ln γ loses meaning
        allow_inf_nan=False,
        description="Temperature for ΔG, K (1-5000: liquids and enzymes).",
    )
    plot_path: PathStr | None = Field(default=None, description="If given, write the dose–response as a PNG here.")


class PdPCResponse(ToolModel):
    kinase_total: list[float] = Field(description="Signal E1_T at each point, mol/m³.")
    signal_ratio: list[float] = Field(description="u = k1·E1_T/(k2·E2_T) at each point (dimensionless).")
    fraction_mass_action: list[float] = Field(description="(W* + E2W*)/W_T from the full mass-action steady state.")
    fraction_goldbeter_koshland: list[float] = Field(description="Goldbeter–Koshland W*/W_T at the same signals.")
    max_deviation_from_gk: float = Field(description="max |mass action − GK| over the sweep (fraction).")
    K1: float = Field(description="Kinase Michaelis constant (d1 + k1)/a1, mol/m³.")
    K2: float = Field(description="Phosphatase Michaelis constant, mol/m³.")
    J1: float = Field(description="K1/W_T (dimensionless saturation measure; small = zero-order).")
    J2: float = Field(description="K2/W_T.")
    response_coefficient_gk: float = Field(description="Closed-form GK R = s90/s10 (81 first-order, → 1 zero-order).")
    hill_coefficient_gk: float | None = Field(description="ln 81 / ln R of the GK function.")
    response_coefficient_mass_action: float | None = Field(
        description="R of the mass-action sweep (None if it does not cross both 10 % and 90 %)."
    )
    hill_coefficient_mass_action: float | None = Field(description="ln 81 / ln R of the mass-action sweep.")
    response_span: float = Field(description="max − min modified fraction over the sweep (0 = no response).")
    delta_G: float | None = Field(description="Phosphorylation potential RT ln γ, J/mol (None = +∞, irreversible).")
    at_equilibrium: bool = Field(description="ΔG = 0 (γ = 1): detailed balance, no amplification.")
    message: str
    plot: str | None = None
    plot_sha256: str | None = None


def _pdpc_cost(inp: PdPCResponseInput) -> Cost:
    return Cost(seconds=5.0 + 0.02 * inp.n_points, sim_calls=inp.n_points)


@tool(cost=_pdpc_cost)
def pdpc_response(inp: PdPCResponseInput) -> PdPCResponse:
    """Dose–response of the phosphorylation–dephosphorylation cycle: full mass-action steady states (vmapped) vs the
    Goldbeter–Koshland function, response coefficient R = s90/s10, Hill coefficient, and the ΔG = 0 check."""
    p = inp.parameters
    if inp.signal_ratio_max <= inp.signal_ratio_min:
        raise InvalidInput("signal_ratio_max", "must exceed signal_ratio_min")
    png = check_png_path(inp.plot_path)
    u = np.logspace(math.log10(inp.signal_ratio_min), math.log10(inp.signal_ratio_max), inp.n_points)
    e1 = u * p.k2 * p.E2_total / p.k1
    sweep = pdpc_dose_response(p, e1)
    f_ma = sweep["fraction"]
    f_gk = goldbeter_koshland(p.k1 * e1, p.k2 * p.E2_total, p.J1, p.J2)
    r_gk = gk_response_coefficient(p.J1, p.J2)
    r_ma = response_coefficient(e1, f_ma)
    dg = phosphorylation_potential(p, inp.temperature)
    at_eq = math.isfinite(dg) and abs(dg) < 1e-6 * 8.314462618 * inp.temperature
    span = float(np.ptp(f_ma))
    if at_eq:
        msg = (
            f"ΔG = 0: the cycle is at chemical equilibrium (detailed balance); the modified fraction moves by only "
            f"{span:.2e} over the sweep, so there is no amplification"
        )
    else:
        regime = (
            "zero-order (ultrasensitive)"
            if min(p.J1, p.J2) < 0.1
            else ("first-order (hyperbolic)" if min(p.J1, p.J2) > 10 else "intermediate")
        )
        msg = f"{regime} regime: GK R = {r_gk:.3g} (n_H = {hill_coefficient(r_gk) or float('nan'):.3g})"
        if r_ma is not None:
            msg += f"; mass action R = {r_ma:.3g}"
        if not math.isfinite(dg):
            msg += "; irreversible catalysis (ΔG → +∞)"
        else:
            msg += f"; ΔG = {dg / 1000:.3g} kJ/mol"
    out = PdPCResponse(
        kinase_total=e1.tolist(),
        signal_ratio=u.tolist(),
        fraction_mass_action=f_ma.tolist(),
        fraction_goldbeter_koshland=np.asarray(f_gk).tolist(),
        max_deviation_from_gk=float(np.max(np.abs(f_ma - f_gk))),
        K1=p.K1,
        K2=p.K2,
        J1=p.J1,
        J2=p.J2,
        response_coefficient_gk=r_gk,
        hill_coefficient_gk=hill_coefficient(r_gk),
        response_coefficient_mass_action=r_ma,
        hill_coefficient_mass_action=hill_coefficient(r_ma),
        response_span=span,
        delta_G=dg if math.isfinite(dg) else None,
        at_equilibrium=at_eq,
        message=msg,
    )
    if png is not None:
        digest = plot_dose_response(
            png,
            u,
            {"Goldbeter–Koshland": np.asarray(f_gk), "mass action": f_ma},
            xlabel="signal u = k1·E1_T / (k2·E2_T)",
            title=f"PdPC, J1 = {p.J1:.3g}, J2 = {p.J2:.3g}",
            markers=("mass action",),
        )
        out = out.model_copy(update={"plot": str(png), "plot_sha256": digest})
    return out


class SaturationScanInput(ToolModel):
    J: list[PositiveFloat] = Field(
        default_factory=lambda: [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0],
        min_length=1,
        description="Michaelis constant / total substrate, J1 = J2 = J (dimensionless); small = saturated enzymes.",
    )


class SaturationScan(ToolModel):
    J: list[float] = Field(description="K/W_T values scanned.")
    response_coefficient: list[float] = Field(description="GK R = s90/s10 at each J.")
    hill_coefficient: list[float | None] = Field(description="ln 81 / ln R at each J.")
    signal_at_half: list[float] = Field(description="Signal ratio u at 50 % modification (1 for J1 = J2).")


@tool(cost=lambda inp: Cost(seconds=0.01))
def pdpc_saturation_scan(inp: SaturationScanInput) -> SaturationScan:
    """Response coefficient and Hill coefficient of the Goldbeter–Koshland switch against enzyme saturation
    (J = K_M/W_T): R → 81 (n_H → 1) first-order, R → 1 (n_H → ∞) zero-order."""
    rs = [gk_response_coefficient(j, j) for j in inp.J]
    return SaturationScan(
        J=list(inp.J),
        response_coefficient=rs,
        hill_coefficient=[hill_coefficient(r) for r in rs],
        signal_at_half=[float(gk_signal_for_fraction(0.5, j, j)) for j in inp.J],
    )


# ---- stochastic ---------------------------------------------------------------------------------------------------
class SSAInput(NetworkInput):
    initial: dict[str, int] = Field(description="Initial copy numbers (molecules, integers ≥ 0); unlisted 0.")
    t_end: PositiveFloat = Field(description="End time, s.")
    # Start and end at least; samples x trajectories is the array one reply carries.
    n_points: int = Field(default=51, ge=2, le=5000, description="Equally spaced sample times from 0 to t_end.")
    # Trajectories x samples is the array one reply carries; the event cap bounds the time.
    n_trajectories: int = Field(default=200, ge=1, le=100_000, description="Independent SSA runs.")
    omega: PositiveFloat = Field(
        default=1.0, description="System size Ω, molecules per (mol/m³) = N_A·V[m³]; 1: constants are per molecule."
    )
    seed: Seed = Field(default=0, description="PRNG seed (reproducible), 0 to 2**63 - 1.")
    # The event budget of the whole ensemble (MAX_SSA_EVENTS: what the cost estimate still prices in seconds).
    max_events: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SSA_EVENTS,
        description=f"Event limit per trajectory; default {MAX_SSA_EVENTS:.0e} / n_trajectories (the whole ensemble "
        f"may simulate at most {MAX_SSA_EVENTS:.0e} events).",
    )

    @model_validator(mode="after")
    def _bounded_events(self) -> SSAInput:
        # The vmapped ensemble runs in lockstep for as long as its busiest trajectory, ~0.2 µs per event and
        # trajectory on 2 busy CPU cores: 2e7 events is ~4 s. Unbounded, t_end = 1e308 simulated 2e9 events (69 s).
        if self.max_events is None:
            self.max_events = max(1, MAX_SSA_EVENTS // self.n_trajectories)
        elif self.max_events * self.n_trajectories > MAX_SSA_EVENTS:
            raise InvalidInput(
                "max_events",
                f"{self.n_trajectories} trajectories × {self.max_events:,} events exceed the limit of "
                f"{MAX_SSA_EVENTS:.0e} simulated events per call (~4 s); lower max_events or n_trajectories",
            )
        return self


class SSAResult(ToolModel):
    times: list[float] = Field(description="Sample times, s.")
    mean: dict[str, list[float]] = Field(description="Ensemble mean copy number per species and time.")
    std: dict[str, list[float]] = Field(description="Ensemble standard deviation per species and time (molecules).")
    final_counts: dict[str, list[int]] = Field(description="Copy numbers at t_end, one per trajectory (≤ 1000 kept).")
    n_trajectories: int


def _ssa_cost(inp: SSAInput) -> Cost:
    return Cost(seconds=2.0 + 1e-4 * inp.n_trajectories * inp.n_points, sim_calls=inp.n_trajectories)


@tool(cost=_ssa_cost)
def simulate_ssa(inp: SSAInput) -> SSAResult:
    """Gillespie SSA (direct method) for the chemical master equation, many trajectories in one vmapped JAX loop."""
    net = inp.network()
    net.require_constants()
    for name, v in inp.initial.items():
        if v < 0:
            raise InvalidInput(f"initial.{name}", "copy numbers must be ≥ 0")
    n0 = _initial_vector(net, {k: float(v) for k, v in inp.initial.items()})
    ts = np.linspace(0.0, inp.t_end, inp.n_points)
    counts = simulate_ssa_counts(
        compile_network(net),
        n0,
        ts,
        n_trajectories=inp.n_trajectories,
        omega=inp.omega,
        seed=inp.seed,
        max_events=inp.max_events,
    )
    return SSAResult(
        times=ts.tolist(),
        mean={s: counts[:, :, i].mean(axis=0).tolist() for i, s in enumerate(net.species)},
        std={s: counts[:, :, i].std(axis=0).tolist() for i, s in enumerate(net.species)},
        final_counts={s: counts[:1000, -1, i].astype(int).tolist() for i, s in enumerate(net.species)},
        n_trajectories=inp.n_trajectories,
    )


class CMEInput(NetworkInput):
    initial: dict[str, int] = Field(description="Initial copy numbers (fix conserved totals); unlisted 0.")
    max_counts: dict[str, int] = Field(
        default_factory=dict, description="Truncation cap per species (molecules); default 100 for unlisted species."
    )
    omega: PositiveFloat = Field(default=1.0, description="System size Ω, molecules per (mol/m³).")
    # The direct solve costs ~1e-7 s x n^2 and n^2 memory: past 2e5 states it takes hours.
    max_states: int = Field(
        default=200_000, ge=1, le=200_000, description="Refuse larger state spaces (a direct solve beyond is hours)."
    )


class CMEResult(ToolModel):
    n_states: int = Field(description="Reachable states within the caps.")
    mean: dict[str, float] = Field(description="Stationary mean copy number per species.")
    variance: dict[str, float] = Field(description="Stationary variance per species (molecules²).")
    fano_factor: dict[str, float | None] = Field(description="variance/mean (1 for a Poisson distribution).")
    marginals: dict[str, list[float]] = Field(description="Species -> P(n = 0, 1, …, cap).")
    boundary_mass: float = Field(description="Probability on states cut by the caps (truncation error indicator).")


def _cme_cost(inp: CMEInput) -> Cost:
    # The sparse direct solve fills in badly once 2+ species vary: 9,261 states (3 species) took 6 s and 68,921 more
    # than 5 min on 2 busy cores, so price it as ~n² (1e-7 s·n²) with n bounded by the caps and by max_states.
    net = inp.network()
    n = 1
    for name in net.species:
        n = min(n * (inp.max_counts.get(name, 100) + 1), inp.max_states)
    return Cost(seconds=1.0 + 1e-7 * n**2)


@tool(cost=_cme_cost)
def cme_stationary(inp: CMEInput) -> CMEResult:
    """Stationary distribution of the chemical master equation on a truncated state space (sparse direct solve)."""
    net = inp.network()
    net.require_constants()
    for name, v in inp.initial.items():
        if v < 0:
            raise InvalidInput(f"initial.{name}", "copy numbers must be ≥ 0")
    n0 = _initial_vector(net, {k: float(v) for k, v in inp.initial.items()})
    caps = np.full(net.n_species, 100, dtype=np.int64)
    for name, cap in inp.max_counts.items():
        if name not in net.index:
            raise InvalidInput(f"max_counts.{name}", "unknown species")
        if cap < 1:
            raise InvalidInput(f"max_counts.{name}", "cap must be ≥ 1")
        caps[net.index[name]] = cap
    out = cme_stationary_distribution(compile_network(net), n0, caps, omega=inp.omega, max_states=inp.max_states)
    states, p = out["states"], out["p"]
    marg = {}
    for i, s in enumerate(net.species):
        marg[s] = np.bincount(states[:, i], weights=p, minlength=int(caps[i]) + 1).tolist()
    mean, var = out["mean"], out["variance"]
    return CMEResult(
        n_states=len(states),
        mean={s: float(mean[i]) for i, s in enumerate(net.species)},
        variance={s: float(var[i]) for i, s in enumerate(net.species)},
        fano_factor={s: (float(var[i] / mean[i]) if mean[i] > 0 else None) for i, s in enumerate(net.species)},
        marginals=marg,
        boundary_mass=out["boundary_mass"],
    )
