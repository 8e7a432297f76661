"""Tools ``simulate_cv`` and ``simulate_ca``: the JAX simulator for the electrochemist role.

Inputs and outputs are SI (V, A, s, m², m²/s, mol/m³, m/s, K, eV, ohm, F); oxidation current is positive. Each tool
prices a call from the grid size times the number of time steps (plus compilation), and can write a PNG plot
(a bare matplotlib Figure, no pyplot) to a path the caller names.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from ...errors import InvalidInput, SimulationFailed
from .._confined import save_figure
from .._files import write_errors
from ..fields import FiniteFloat, NonNegativeFloat, PathStr, PositiveFloat, PositiveInt, ToolModel
from ..registry import Cost, tool
from ._adsorbed import adsorbed_cv_current
from ._grid import GridSpec
from ._peaks import cv_peaks
from ._simulate import ECParams, SimSettings, cv_current
from ._waveforms import cv_waveform, step_waveform

__all__ = [
    "CellInput",
    "SimulateCVInput",
    "SimulateCVOutput",
    "SimulateCAInput",
    "SimulateCAOutput",
    "CVPeaksOut",
    "simulate_cv",
    "simulate_ca",
    "estimate_sim_seconds",
]

# Measured on this project's CI-class CPU (benchmarks/electrochem.py): ~0.15 ns per node per variable per step after
# compilation, ~2 s to compile a new program length or setting. The estimate is rounded up 3x for busy machines.
_SECONDS_PER_NODE_STEP = 5e-10
_COMPILE_SECONDS = 3.0
_N_VAR = {"E": 2, "EC": 2, "CE": 3, "ECE": 4, "ECcat": 2, "adsorbed": 0}


def estimate_sim_seconds(n_nodes: int, n_steps: int, mechanism: str = "E") -> float:
    """Rough wall time (s) of one simulation: compilation plus grid nodes x time steps x transported variables."""
    return _COMPILE_SECONDS + _SECONDS_PER_NODE_STEP * n_nodes * n_steps * _N_VAR.get(mechanism, 3)


class CellInput(ToolModel):
    """Cell, chemistry and numerics shared by both tools (SI units)."""

    E0: FiniteFloat = Field(default=0.0, description="Formal potential E0', V vs reference.")
    k0: PositiveFloat = Field(default=1e-2, description="Standard rate constant, m/s (ignored for nernst).")
    alpha: float = Field(default=0.5, gt=0, lt=1, description="Butler-Volmer transfer coefficient.")
    D_O: PositiveFloat = Field(default=1e-9, description="Diffusion coefficient of O, m^2/s.")
    D_R: PositiveFloat = Field(default=1e-9, description="Diffusion coefficient of R, m^2/s.")
    c_bulk: PositiveFloat = Field(default=1.0, description="Bulk concentration of the `bulk` species, mol/m^3 (= mM).")
    c_other: NonNegativeFloat = Field(
        default=0.0,
        description="Bulk concentration of the other form of the couple (O when bulk='R', R when bulk='O'), "
        "mol/m^3; mechanism E only. The cell rests at E0 + (RT/nF) ln(c_O/c_R).",
    )
    area: PositiveFloat | None = Field(
        default=None, description="Electrode area, m^2 (default 1e-6 planar, 4 pi radius^2 spherical)."
    )
    T: PositiveFloat = Field(default=298.15, description="Temperature, K.")
    # One wave of a molecular couple rarely moves more than 2-4 electrons; 6 also refuses typos (60).
    n: int = Field(default=1, ge=1, le=6, description="Electrons transferred.")
    lambda_eV: PositiveFloat = Field(default=1.0, description="Marcus reorganisation energy, eV (mhc only).")
    k_chem: NonNegativeFloat = Field(
        default=0.0, description="Chemical step rate, 1/s (EC: decay; CE: k_f; ECcat: k' c_Z of the catalyst)."
    )
    K_eq: PositiveFloat = Field(default=1.0, description="CE pre-equilibrium constant [B]/[Y].")
    R_u: NonNegativeFloat = Field(default=0.0, description="Uncompensated resistance, ohm (0: no ohmic drop).")
    C_dl: NonNegativeFloat = Field(default=0.0, description="Double-layer capacitance, F (total).")
    radius: PositiveFloat | None = Field(default=None, description="Electrode radius, m (spherical geometry).")
    c_el: PositiveFloat | None = Field(
        default=None,
        description="Supporting electrolyte concentration, mol/m^3; set it to apply the Frumkin double-layer "
        "correction (Gouy-Chapman-Stern phi2) to bv/mhc rates. None: no correction.",
    )
    z_O: FiniteFloat = Field(default=0.0, description="Charge number of O (R has z_O - n); Frumkin only.")
    z_el: PositiveFloat = Field(default=1.0, description="Charge number of the z:z electrolyte ions; Frumkin only.")
    E_pzc: FiniteFloat = Field(default=0.0, description="Potential of zero charge, V vs reference; Frumkin only.")
    C_H: NonNegativeFloat = Field(default=0.2, description="Compact-layer capacitance, F/m^2; Frumkin only.")
    eps_r: PositiveFloat = Field(default=78.4, description="Relative permittivity of the solvent; Frumkin only.")
    mechanism: Literal["E", "EC", "CE", "ECE", "ECcat", "adsorbed"] = Field(
        default="E",
        description="Reaction mechanism (ECcat: EC' catalytic regeneration; adsorbed: a "
        "surface-confined couple of coverage gamma and rate k_s, no diffusion, Laviron).",
    )
    gamma: PositiveFloat | None = Field(
        default=None, description="adsorbed: total surface coverage of the couple, mol/m^2 (1e-6 = 1e-10 mol/cm^2)."
    )
    k_s: PositiveFloat | None = Field(
        default=None, description="adsorbed: standard rate constant of the surface reaction, 1/s (not for nernst)."
    )
    E0_2: FiniteFloat | None = Field(default=None, description="ECE: formal potential of the second couple, V.")
    k0_2: PositiveFloat | None = Field(default=None, description="ECE: k0 of the second couple, m/s (None: k0).")
    kinetics: Literal["nernst", "bv", "mhc"] = Field(default="bv", description="Electron-transfer law.")
    geometry: Literal["planar", "spherical", "rde"] = Field(
        default="planar",
        description="Transport: planar or spherical diffusion, or rde (a rotating disk: convective diffusion with "
        "Levich's flow; set omega; needs D_O = D_R).",
    )
    omega: PositiveFloat | None = Field(default=None, description="rde: rotation rate, rad/s (= 2 pi rpm / 60).")
    nu: PositiveFloat = Field(default=1e-6, description="rde: kinematic viscosity of the solution, m^2/s (water 1e-6).")
    bulk: Literal["R", "O"] = Field(default="R", description="Species in solution at the start.")
    mhc_method: Literal["quadrature", "zeng"] = Field(default="quadrature", description="MHC integral.")
    grid_h0: PositiveFloat = Field(default=5e-4, description="First grid spacing, in units of sqrt(D t_total).")
    # 1 is a uniform grid; at 2 the spacing doubles from node to node, beyond it the diffusion layer gets too few nodes.
    grid_gamma: float = Field(default=1.12, ge=1.0, le=2.0, description="Grid expansion factor.")
    # What one reply carries: 100,000 samples is ~2 MB of JSON.
    max_points: PositiveInt = Field(default=2000, le=100_000, description="Samples returned (evenly thinned).")
    plot_path: PathStr | None = Field(default=None, description="Write a PNG plot of the result to this path.")

    # Cross-field checks live in check() (called by the tools), not in a pydantic model validator, so that the
    # InvalidInput keeps the name of the field at fault.
    def check(self) -> None:
        if self.geometry == "spherical" and self.radius is None:
            raise InvalidInput("radius", "spherical geometry needs the electrode radius in m")
        if self.plot_path is not None and not self.plot_path.lower().endswith(".png"):
            raise InvalidInput("plot_path", f"must end in .png, got {self.plot_path!r}")
        if self.mechanism == "ECE" and self.E0_2 is None:
            raise InvalidInput("E0_2", "the ECE mechanism needs the formal potential of its second couple in V")
        if self.geometry == "rde" and self.omega is None and self.mechanism != "adsorbed":
            raise InvalidInput("omega", "the rotating disk (geometry rde) needs its rotation rate in rad/s")
        if self.mechanism == "adsorbed":
            if self.gamma is None:
                raise InvalidInput("gamma", "the adsorbed mechanism needs the surface coverage in mol/m^2")
            if self.k_s is None and self.kinetics != "nernst":
                raise InvalidInput("k_s", "the adsorbed mechanism needs k_s in 1/s for bv or mhc kinetics")
            if self.R_u > 0:
                raise InvalidInput("R_u", "the ohmic drop is not modelled for the adsorbed mechanism; set R_u = 0")
        if self.mechanism != "E" and self.c_other > 0:
            raise InvalidInput(
                "c_other", f"both forms in the bulk is modelled for mechanism E only, not {self.mechanism}"
            )
        if self.mechanism == "ECE" and self.R_u > 0:
            raise InvalidInput("R_u", "the ohmic-drop solve is not available for the ECE mechanism; set R_u = 0")

    def electrode_area(self) -> float:
        if self.area is not None:
            return self.area
        if self.geometry != "spherical":
            return 1e-6
        area = 4.0 * np.pi * float(np.float64(self.radius) ** 2)  # NumPy: inf for r = 1e308, not OverflowError
        if not math.isfinite(area):
            raise InvalidInput("radius", f"{self.radius:g} m gives an electrode area beyond floating point")
        return area

    def params(self) -> ECParams:
        return ECParams(
            E0=self.E0, k0=self.k0, alpha=self.alpha, D_O=self.D_O, D_R=self.D_R, c_bulk=self.c_bulk,
            c_other=self.c_other, area=self.electrode_area(), T=self.T, n=float(self.n), lambda_eV=self.lambda_eV,
            k_chem=self.k_chem, omega=self.omega, nu=self.nu,
            K_eq=self.K_eq, R_u=self.R_u, C_dl=self.C_dl, radius=self.radius, c_el=self.c_el, z_O=self.z_O,
            z_el=self.z_el, E_pzc=self.E_pzc, C_H=self.C_H, eps_r=self.eps_r, E0_2=self.E0_2, k0_2=self.k0_2,
        )  # fmt: skip

    def grid(self) -> GridSpec:
        try:
            return GridSpec(h0=self.grid_h0, gamma=self.grid_gamma)
        except InvalidInput as err:
            raise InvalidInput(err.field.replace("grid.", "grid_"), err.reason) from None

    def current(self, E: np.ndarray, dt: float) -> np.ndarray:
        """The simulated current (A) of this cell under the program ``E`` (V) sampled every ``dt`` s."""
        if self.mechanism == "adsorbed":
            start = 1.0 if self.bulk == "R" else 0.0
            i = adsorbed_cv_current(
                E, dt, E0=self.E0, k_s=self.k_s or 1.0, alpha=self.alpha, gamma=self.gamma,
                area=self.electrode_area(), T=self.T, n=float(self.n), lambda_eV=self.lambda_eV, C_dl=self.C_dl,
                start_reduced=start, kinetics=self.kinetics, mhc_method=self.mhc_method,
            )  # fmt: skip
            return np.asarray(i)
        return np.asarray(cv_current(self.params(), E, dt, settings=self.settings()))

    def n_nodes(self) -> int:
        return 0 if self.mechanism == "adsorbed" else self.grid().n_nodes

    def settings(self) -> SimSettings:
        return SimSettings(
            mechanism=self.mechanism,
            kinetics=self.kinetics,
            geometry=self.geometry,
            bulk=self.bulk,
            grid=self.grid(),
            mhc_method=self.mhc_method,
            ohmic=self.R_u > 0,
            unroll=1,  # a tool call is one-off: unroll=1 compiles ~3x faster, which dominates its wall time
        )


def _finite_current(current, E: np.ndarray) -> np.ndarray:
    """The simulated current as an array, or :class:`SimulationFailed` saying where and why it is not finite."""
    current = np.asarray(current)
    bad = ~np.isfinite(current)
    if bad.any():
        k = int(np.argmax(bad))
        raise SimulationFailed(
            f"the simulated current is not finite from sample {k} on (E = {E[k]:.4g} V): a rate or an exponential of "
            "the overpotential overflowed float64; narrow the potential window or use less extreme rate constants"
        )
    return current


def _thin(n: int, max_points: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


@write_errors("plot_path")
def _plot(path: str, x, y, xlabel: str, title: str) -> str:
    from .._figures import subplots

    out = Path(path)
    fig, ax = subplots(figsize=(6, 4))
    ax.plot(x, np.asarray(y) * 1e6, lw=1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("current / µA (oxidation positive)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, out)
    return str(out)


# ------------------------------------------------------------------------------------------------------ CV ----


class SimulateCVInput(CellInput):
    E_start: FiniteFloat = Field(description="Starting potential, V.")
    E_vertex: FiniteFloat | list[FiniteFloat] = Field(description="Switching potential(s), V.")
    scan_rate: PositiveFloat = Field(description="Scan rate, V/s.")
    # Cycles multiply the time steps: 100 cycles at 1 mV over +-0.5 V are 200,000 steps.
    n_cycles: PositiveInt = Field(default=1, le=100, description="Number of cycles.")
    # A 50 mV step already blurs a peak ~60-90 mV wide: coarser steps give a wrong CV.
    dE: PositiveFloat = Field(default=1e-3, le=0.05, description="Potential increment per time step, V.")
    report_peaks: bool = Field(default=True, description="Find the anodic and cathodic peaks of the first cycle.")

    def check(self) -> None:
        super().check()
        if self.report_peaks:
            vertices = self.E_vertex if isinstance(self.E_vertex, list) else [self.E_vertex]
            lo, hi = min([self.E_start, *vertices]), max([self.E_start, *vertices])
            if not lo < self.E0 < hi:
                raise InvalidInput(
                    "E_vertex",
                    f"the window [{lo:g}, {hi:g}] V never crosses E0 = {self.E0:g} V, so there is no peak to report; "
                    "widen the window or set report_peaks=false",
                )

    def program(self) -> tuple[np.ndarray, np.ndarray]:
        return cv_waveform(self.E_start, self.E_vertex, self.scan_rate, n_cycles=self.n_cycles, dE=self.dE)


class CVPeaksOut(ToolModel):
    E_pa: float | None = Field(description="Anodic peak potential, V.")
    i_pa: float | None = Field(description="Anodic peak current, A.")
    E_pc: float | None = Field(description="Cathodic peak potential, V.")
    i_pc: float | None = Field(description="Cathodic peak current, A (negative).")
    delta_Ep: float | None = Field(description="Peak separation E_pa - E_pc, V.")
    E_half: float | None = Field(description="Midpoint (E_pa + E_pc) / 2, V.")


class SimulateCVOutput(ToolModel):
    t: list[float] = Field(description="Time, s.")
    E: list[float] = Field(description="Applied potential, V.")
    I: list[float] = Field(description="Current, A (oxidation positive).")
    peaks: CVPeaksOut | None = Field(description="Peaks of the first cycle (None unless report_peaks).")
    n_steps: int = Field(description="Implicit time steps simulated.")
    n_nodes: int = Field(description="Space grid nodes (0 for the adsorbed mechanism, which has no diffusion).")
    plot_path: str | None = Field(description="PNG written, if asked.")


def _sim_cost(inp: CellInput, n_steps: int) -> Cost:
    return Cost(seconds=estimate_sim_seconds(max(inp.n_nodes(), 1), n_steps, inp.mechanism), sim_calls=1)


def _cv_cost(inp: SimulateCVInput) -> Cost:
    return _sim_cost(inp, inp.program()[0].size - 1)


def _finite_or_none(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


@tool(name="simulate_cv", cost=_cv_cost)
def simulate_cv(inp: SimulateCVInput) -> SimulateCVOutput:
    """Simulate a cyclic voltammogram (E, EC, CE, ECE or catalytic EC'; Nernst, Butler-Volmer or Marcus-Hush-Chidsey).

    Planar or spherical diffusion, optional ohmic drop, double-layer charging and Frumkin correction (c_el).
    Returns t, E, I (SI, oxidation positive), the first cycle's peaks, and optionally a PNG of I vs E.
    """
    inp.check()
    t, E = inp.program()
    current = _finite_current(inp.current(E, t[1] - t[0]), E)
    peaks = None
    if inp.report_peaks:
        found = cv_peaks(E, current)
        a, c = found.anodic, found.cathodic
        peaks = CVPeaksOut(
            E_pa=a.E_p if a else None, i_pa=a.i_p if a else None, E_pc=c.E_p if c else None,
            i_pc=c.i_p if c else None, delta_Ep=_finite_or_none(found.delta_Ep), E_half=_finite_or_none(found.E_half),
        )  # fmt: skip
    plot = None
    if inp.plot_path:
        title = f"CV {inp.mechanism}/{inp.kinetics}, {inp.scan_rate:g} V/s"
        plot = _plot(inp.plot_path, E, current, "E / V", title)
    keep = _thin(E.size, inp.max_points)
    return SimulateCVOutput(
        t=t[keep].tolist(), E=E[keep].tolist(), I=current[keep].tolist(), peaks=peaks, n_steps=E.size - 1,
        n_nodes=inp.n_nodes(), plot_path=plot,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------------ CA ----


class SimulateCAInput(CellInput):
    E_initial: FiniteFloat = Field(description="Rest potential before the first step, V.")
    E_steps: list[FiniteFloat] = Field(min_length=1, description="Potential of each step, V.")
    durations: list[PositiveFloat] = Field(min_length=1, description="Duration of each step, s.")
    dt: PositiveFloat = Field(description="Time step (and sampling interval), s.")

    def check(self) -> None:
        super().check()
        if len(self.durations) != len(self.E_steps):
            raise InvalidInput(
                "durations", f"need one duration per step ({len(self.E_steps)}), got {len(self.durations)}"
            )

    def program(self) -> tuple[np.ndarray, np.ndarray]:
        return step_waveform(self.E_steps, self.durations, self.dt, E_initial=self.E_initial)


class SimulateCAOutput(ToolModel):
    t: list[float] = Field(description="Time since the program started, s.")
    E: list[float] = Field(description="Applied potential, V.")
    I: list[float] = Field(description="Current, A (oxidation positive).")
    n_steps: int = Field(description="Implicit time steps simulated.")
    n_nodes: int = Field(description="Space grid nodes (0 for the adsorbed mechanism, which has no diffusion).")
    plot_path: str | None = Field(description="PNG written, if asked.")


def _ca_cost(inp: SimulateCAInput) -> Cost:
    return _sim_cost(inp, inp.program()[0].size - 1)


@tool(name="simulate_ca", cost=_ca_cost)
def simulate_ca(inp: SimulateCAInput) -> SimulateCAOutput:
    """Simulate chronoamperometry: current after one or more potential steps (same mechanisms and kinetics as CV).

    Returns t, E, I (SI, oxidation positive) and optionally a PNG of I vs t.
    """
    inp.check()
    t, E = inp.program()
    current = _finite_current(inp.current(E, inp.dt), E)
    plot = _plot(inp.plot_path, t, current, "t / s", f"CA {inp.mechanism}/{inp.kinetics}") if inp.plot_path else None
    keep = _thin(E.size, inp.max_points)
    return SimulateCAOutput(
        t=t[keep].tolist(), E=E[keep].tolist(), I=current[keep].tolist(), n_steps=E.size - 1,
        n_nodes=inp.n_nodes(), plot_path=plot,
    )  # fmt: skip
