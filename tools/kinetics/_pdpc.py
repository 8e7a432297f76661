"""Phosphorylation–dephosphorylation cycle (PdPC): full mass-action model, Goldbeter–Koshland function, thermodynamics.

Model (Qian, Biophys. Chem. 105 (2003) 585; Goldbeter & Koshland, PNAS 78 (1981) 6840), kinase E1, phosphatase E2,
substrate W and its phosphorylated form W* (ATP, ADP and Pi held constant and absorbed into the constants)::

    W  + E1 <-> E1W     (a1 m³/(mol·s), d1 1/s)      E1W  -> W* + E1   (k1 1/s; reverse km1 m³/(mol·s) if > 0)
    W* + E2 <-> E2W*    (a2, d2)                      E2W* -> W  + E2   (k2;     reverse km2)

Goldbeter–Koshland (enzymes ≪ substrate, irreversible catalysis): with v1 = k1·E1_T, v2 = k2·E2_T (mol/(m³·s)),
K_i = (d_i + k_i)/a_i (mol/m³) and J_i = K_i/W_T, the modified fraction f = W*/W_T solves
v1 (1 − f)/(J1 + 1 − f) = v2 f/(J2 + f), i.e. f = G(v1, v2, J1, J2) with

    G = 2 v1 J2 / (B + √(B² − 4 (v2 − v1) v1 J2)),   B = v2 − v1 + J1 v2 + J2 v1.

Inverting, the signal ratio u = v1/v2 needed for a fraction f is u(f) = f (J1 + 1 − f) / ((1 − f)(J2 + f)), so the
response coefficient R = u(0.9)/u(0.1) = 81 (J1 + 0.1)(J2 + 0.1) / ((J1 + 0.9)(J2 + 0.9)): 81 in the first-order
regime (J → ∞, a Michaelis–Menten hyperbola) and → 1 in the zero-order regime (J → 0, ultrasensitivity). The
effective Hill coefficient is n_H = ln 81 / ln R (Goldbeter & Koshland 1981).

Thermodynamics (Qian 2003; Qian et al., the seed paper): the cycle's phosphorylation potential is
ΔG = RT ln γ with γ = (a1 k1 a2 k2)/(d1 km1 d2 km2). A chemical equilibrium exists iff ΔG = 0 (γ = 1, the
Wegscheider condition of the cycle); then W*/W = a1 k1/(d1 km1) whatever the enzyme amounts, so the kinase signal
moves nothing and amplification vanishes. Irreversible catalysis (km = 0) is the ΔG → ∞ limit.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import Field, model_validator
from scipy.interpolate import PchipInterpolator

from ...errors import InvalidInput, SimulationFailed
from ..fields import NonNegativeFloat, PositiveFloat, ToolModel
from ._massaction import compile_network
from ._network import ReactionNetwork, parse_network
from ._steady import make_steady_solver

__all__ = [
    "PdPCParameters",
    "GAS_CONSTANT",
    "PDPC_SPECIES",
    "pdpc_network",
    "goldbeter_koshland",
    "gk_signal_for_fraction",
    "gk_response_coefficient",
    "hill_coefficient",
    "response_coefficient",
    "phosphorylation_potential",
    "pdpc_dose_response",
]

GAS_CONSTANT = 8.314462618  # J/(mol·K), CODATA 2018 exact value
PDPC_SPECIES = ["W", "W*", "E1", "E2", "E1W", "E2W*"]
PDPC_RANGE = (1e-30, 1e30)
"""Every PdPC constant and total (SI) lies in this range (or is 0 where allowed): see ``PdPCParameters``."""


class PdPCParameters(ToolModel):
    """Elementary constants and totals of the PdPC (SI: concentrations mol/m³ = mM, time s)."""

    a1: PositiveFloat = Field(default=100.0, description="Kinase–W association, m³/(mol·s).")
    d1: PositiveFloat = Field(default=5.0, description="E1W dissociation, 1/s.")
    k1: PositiveFloat = Field(default=5.0, description="Kinase catalytic constant, 1/s.")
    a2: PositiveFloat = Field(default=100.0, description="Phosphatase–W* association, m³/(mol·s).")
    d2: PositiveFloat = Field(default=5.0, description="E2W* dissociation, 1/s.")
    k2: PositiveFloat = Field(default=5.0, description="Phosphatase catalytic constant, 1/s.")
    km1: NonNegativeFloat = Field(default=0.0, description="Reverse of kinase catalysis E1 + W* -> E1W, m³/(mol·s).")
    km2: NonNegativeFloat = Field(
        default=0.0, description="Reverse of phosphatase catalysis E2 + W -> E2W*, m³/(mol·s)."
    )
    W_total: PositiveFloat = Field(default=1.0, description="Total substrate W_T, mol/m³.")
    E2_total: PositiveFloat = Field(default=1e-4, description="Total phosphatase E2_T, mol/m³.")

    @model_validator(mode="after")
    def _representable(self) -> PdPCParameters:
        # The cycle's derived quantities (Michaelis constants, relaxation time, ΔG) multiply and divide up to four of
        # these; beyond [1e-30, 1e30] they over- or underflow double precision, and no enzyme cycle needs more.
        for name, value in self:
            if value != 0 and not PDPC_RANGE[0] <= value <= PDPC_RANGE[1]:
                raise InvalidInput(
                    name, f"{name} = {value:g} is outside [{PDPC_RANGE[0]:g}, {PDPC_RANGE[1]:g}] (SI units)"
                )
        return self

    @property
    def K1(self) -> float:
        """Kinase Michaelis constant (d1 + k1)/a1, mol/m³."""
        return (self.d1 + self.k1) / self.a1

    @property
    def K2(self) -> float:
        return (self.d2 + self.k2) / self.a2

    @property
    def J1(self) -> float:
        return self.K1 / self.W_total

    @property
    def J2(self) -> float:
        return self.K2 / self.W_total


def pdpc_network(p: PdPCParameters) -> ReactionNetwork:
    """The full mass-action PdPC as a :class:`ReactionNetwork` (species order :data:`PDPC_SPECIES`)."""
    cat1 = f"E1W <-> W* + E1; kf={p.k1!r}, kr={p.km1!r}" if p.km1 > 0 else f"E1W -> W* + E1; kf={p.k1!r}"
    cat2 = f"E2W* <-> W + E2; kf={p.k2!r}, kr={p.km2!r}" if p.km2 > 0 else f"E2W* -> W + E2; kf={p.k2!r}"
    return parse_network(
        [
            f"kinase_binding: W + E1 <-> E1W; kf={p.a1!r}, kr={p.d1!r}",
            f"kinase_catalysis: {cat1}",
            f"phosphatase_binding: W* + E2 <-> E2W*; kf={p.a2!r}, kr={p.d2!r}",
            f"phosphatase_catalysis: {cat2}",
        ],
        species=PDPC_SPECIES,
    )


def goldbeter_koshland(v1, v2, J1, J2):
    """Goldbeter–Koshland function: steady-state modified fraction W*/W_T (dimensionless, in [0, 1]).

    Parameters
    ----------
    v1, v2
        Maximal kinase and phosphatase rates (any common unit, e.g. mol/(m³·s)); arrays broadcast.
    J1, J2
        Michaelis constants divided by total substrate (dimensionless).

    Notes
    -----
    The physical root of (v2 − v1) f² − B f + v1 J2 = 0, B = v2 − v1 + J1 v2 + J2 v1, is taken in whichever of its two
    algebraic forms adds terms of one sign: 2 v1 J2 / (B + √D) for B ≥ 0, (B − √D) / (2 (v2 − v1)) for B < 0 (then
    v1 > v2). One form alone cancels to 0/0 on the other side, e.g. v1 > v2 with J → 0 (W_T = 6e16 mol/m³).
    Works with NumPy or JAX arrays (differentiable: each branch divides by a denominator that is safe where unused).
    """
    xp = jnp if any(isinstance(a, jax.Array) for a in (v1, v2, J1, J2)) else np
    B = v2 - v1 + J1 * v2 + J2 * v1
    root = xp.sqrt(xp.maximum(B * B - 4.0 * (v2 - v1) * v1 * J2, 0.0))  # D >= 0 exactly; round-off may dip below
    upper = B >= 0
    plus = 2.0 * v1 * J2 / xp.where(upper, B + root, 1.0)
    minus = (B - root) / xp.where(upper, 1.0, 2.0 * (v2 - v1))
    return xp.where(upper, plus, minus)


def gk_signal_for_fraction(f, J1, J2):
    """Signal ratio u = v1/v2 at which the GK steady state has modified fraction ``f`` (0 < f < 1)."""
    return f * (J1 + 1.0 - f) / ((1.0 - f) * (J2 + f))


def gk_response_coefficient(J1: float, J2: float) -> float:
    """Closed-form R = u(0.9)/u(0.1) of the GK function: 81 (J1+0.1)(J2+0.1)/((J1+0.9)(J2+0.9))."""
    return float(gk_signal_for_fraction(0.9, J1, J2) / gk_signal_for_fraction(0.1, J1, J2))


def hill_coefficient(R: float | None) -> float | None:
    """Effective Hill coefficient n_H = ln 81 / ln R (None if R is None or R ≤ 1)."""
    if R is None or not math.isfinite(R) or R <= 1.0:
        return None
    return math.log(81.0) / math.log(R)


def response_coefficient(signal: np.ndarray, fraction: np.ndarray) -> float | None:
    """R = s90/s10 from a sampled monotone dose–response (None if 10 % and 90 % are not both crossed).

    Interpolates ln(signal) as a monotone cubic (PCHIP) function of the fraction.
    """
    s, f = np.asarray(signal, dtype=float), np.asarray(fraction, dtype=float)
    order = np.argsort(f)
    f, s = f[order], s[order]
    keep = np.concatenate([[True], np.diff(f) > 0])
    f, s = f[keep], s[keep]
    if f.size < 2 or f[0] > 0.1 or f[-1] < 0.9:
        return None
    interp = PchipInterpolator(f, np.log(s))
    return float(np.exp(interp(0.9) - interp(0.1)))


def phosphorylation_potential(p: PdPCParameters, temperature: float = 298.15) -> float:
    """ΔG = RT ln[(a1 k1 a2 k2)/(d1 km1 d2 km2)] in J/mol (+inf for irreversible catalysis)."""
    if p.km1 == 0 or p.km2 == 0:
        return math.inf
    gamma = (p.a1 * p.k1 * p.a2 * p.k2) / (p.d1 * p.km1 * p.d2 * p.km2)
    return GAS_CONSTANT * temperature * math.log(gamma)


def relaxation_time(p: PdPCParameters, e1_totals: np.ndarray) -> float:
    """Default ODE relaxation time of :func:`pdpc_dose_response`, s: 200 × the slowest cycle time plus binding."""
    slowest = min(p.k1 * np.min(e1_totals), p.k2 * p.E2_total)
    binding = 1.0 / min(p.a1 * p.E2_total, p.a2 * p.E2_total, p.d1, p.d2)
    return 200.0 * (p.W_total + p.K1 + p.K2) / slowest + 200.0 * binding


def pdpc_dose_response(
    p: PdPCParameters, e1_totals: np.ndarray, *, t_relax: float | None = None, accept: float = 1e-7
) -> dict[str, np.ndarray]:
    """Steady states of the full mass-action PdPC for many kinase totals in one vmapped solve.

    Parameters
    ----------
    p
        Parameters (totals W_T and E2_T, constants).
    e1_totals
        Kinase totals E1_T (the signal), mol/m³, shape (n,).
    t_relax
        ODE relaxation time before Newton, s (default: 200 × the slowest cycle time W_T/min(v1, v2) plus binding).

    Returns
    -------
    dict
        ``"states"`` (n, 6) mol/m³ in :data:`PDPC_SPECIES` order, ``"fraction"`` (n,) = (W* + E2W*)/W_T (the
        phosphorylated share, free or bound), ``"residual"`` (n,).

    Raises
    ------
    SimulationFailed
        If any steady state misses the residual target.
    """
    e1 = np.asarray(e1_totals, dtype=float)
    if e1.ndim != 1 or e1.size == 0 or np.any(~np.isfinite(e1)) or np.any(e1 <= 0):
        raise InvalidInput("signal", "kinase totals must be a non-empty 1-D array of finite values > 0 (mol/m³)")
    system = compile_network(pdpc_network(p))
    if t_relax is None:
        t_relax = relaxation_time(p, e1)
    # Well-posed lanes relax in under ~120 steps; a stiff one whose implicit stages stall at round-off (k ~ 1e12 next
    # to W_T / v ~ 1e8 s) rejects step after step up to the limit, and vmap makes every lane wait for it. 1,000 steps
    # keep ~8× headroom and bound the worst case at ~40 ms per signal value instead of ~0.9 s; Newton still polishes
    # whatever the relaxation reached, and a lane it cannot finish is reported below.
    run = make_steady_solver(system, max_relax_steps=1_000)
    x0 = np.zeros((e1.size, 6))
    x0[:, 0] = p.W_total
    x0[:, 2] = e1
    x0[:, 3] = p.E2_total
    states, res = jax.vmap(run, in_axes=(0, None, None))(jnp.asarray(x0), jnp.asarray(system.k), jnp.asarray(t_relax))
    states, res = np.asarray(states), np.asarray(res)
    bad = ~(np.isfinite(res) & (res < accept))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise SimulationFailed(f"PdPC steady state not found at E1_T = {e1[i]:.3g} mol/m³ (residual {res[i]:.2e})")
    fraction = (states[:, 1] + states[:, 5]) / p.W_total
    return {"states": states, "fraction": fraction, "residual": res}
