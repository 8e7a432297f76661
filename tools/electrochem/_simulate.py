"""Public simulator API: parameters in SI, a potential program in V, current in A (oxidation positive).

``cv_current(params, E, dt, ...)`` is pure, jit-compiled (settings are static), differentiable with ``jax.grad`` /
``jax.jacfwd`` with respect to every field of :class:`ECParams`, and ``jax.vmap``-able over batches of parameters.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...errors import InvalidInput
from ._double_layer import diffuse_layer_potential, frumkin_scale
from ._grid import Geometry, GridSpec
from ._kinetics import Kinetics, MHCMethod
from ._mechanisms import MECHANISMS, Bulk, Mechanism, transport_of
from ._solver import (
    MAX_NEWTON_STEP,
    NEWTON_ITERATIONS,
    UNROLL,
    Operators,
    factor_flux,
    planar_modes,
    rate_factors,
    rate_of_change,
    rde_modes,
    scan_steps,
    spherical_modes,
)
from ._types import Current, Potential
from ._units import chem_to_dimless, lambda_to_kt, make_scales, rate_to_dimless

__all__ = ["ECParams", "SimSettings", "cv_current", "check_params", "KINETICS", "GEOMETRIES"]

KINETICS: tuple[str, ...] = ("nernst", "bv", "mhc")
GEOMETRIES: tuple[str, ...] = ("planar", "spherical", "rde")


class ECParams(eqx.Module):
    """Physical parameters of one electrochemical cell, SI units; a JAX pytree (differentiate or vmap over fields).

    Attributes
    ----------
    E0 : formal potential of O + n e⁻ ⇌ R, V vs reference.
    k0 : standard heterogeneous rate constant, m/s (unused for Nernstian kinetics).
    alpha : Butler–Volmer transfer coefficient, dimensionless in (0, 1).
    D_O, D_R : diffusion coefficients of O and R, m²/s.
    c_bulk : bulk concentration (mol/m³ = mM) of the ``bulk`` species (for CE: its precursor Y plus itself).
    c_other : bulk concentration of the other member of the couple, mol/m³ (O when ``bulk="R"``, R when ``"O"``);
        mechanism ``"E"`` only. With both present the cell rests at the Nernst potential
        E_eq = E0 + (RT / nF) ln(c_O / c_R) (for equal D; Bard & Faulkner, 2nd ed., §5.4.1).
    area : electrode area, m² (for a sphere 4 pi r0², a hemisphere 2 pi r0²).
    T : temperature, K.
    n : electrons transferred.
    lambda_eV : Marcus reorganisation energy, eV (MHC kinetics only).
    k_chem : first-order rate constant of the chemical step, 1/s (EC: decay of the product; CE: forward k_f).
    K_eq : equilibrium constant of the CE pre-equilibrium, [B]/[Y], dimensionless.
    R_u : uncompensated resistance, ohm (used when ``ohmic`` is on).
    C_dl : double-layer capacitance, F (total, not per area).
    radius : electrode radius r0, m (spherical geometry only; ``None`` for planar).
    omega : rotation rate of a rotating disk electrode, rad/s (geometry ``"rde"`` only; 2 pi rpm / 60).
    nu : kinematic viscosity of the solution, m²/s (rotating disk only; 1e-6 for water at 20 °C).
    c_el : supporting electrolyte concentration, mol/m³; ``None`` (default) switches the Frumkin double-layer
        correction off. When set, rates (Butler–Volmer, MHC) feel the diffuse-layer potential phi2(E) of a
        Gouy–Chapman–Stern interface (:mod:`._double_layer`); Nernstian surfaces are unaffected.
    z_O : charge number of O (R carries z_O - n); Frumkin only.
    z_el : charge number of the z:z supporting electrolyte ions; Frumkin only.
    E_pzc : potential of zero charge, V vs reference; Frumkin only.
    C_H : compact (Stern) layer capacitance, F/m² (0.2 F/m² = 20 µF/cm²); Frumkin only.
    eps_r : relative permittivity of the solvent in the diffuse layer (78.4: water, 25 °C); Frumkin only.
    E0_2 : formal potential of the second couple of the ECE mechanism, V (required for ``"ECE"``, else unused).
    k0_2 : standard rate constant of the second ECE couple, m/s; ``None``: the same as ``k0`` (alpha, lambda and n
        are shared by both couples).
    """

    E0: float = 0.0
    k0: float = 1e-2
    alpha: float = 0.5
    D_O: float = 1e-9
    D_R: float = 1e-9
    c_bulk: float = 1.0
    c_other: float = 0.0
    area: float = 1e-6
    T: float = 298.15
    n: float = 1.0
    lambda_eV: float = 1.0
    k_chem: float = 0.0
    K_eq: float = 1.0
    R_u: float = 0.0
    C_dl: float = 0.0
    radius: float | None = None
    omega: float | None = None
    nu: float = 1e-6
    c_el: float | None = None
    z_O: float = 0.0
    z_el: float = 1.0
    E_pzc: float = 0.0
    C_H: float = 0.2
    eps_r: float = 78.4
    E0_2: float | None = None
    k0_2: float | None = None

    def replace(self, **changes) -> ECParams:
        """A copy with some fields changed (``params.replace(k0=1e-5)``)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class SimSettings:
    """Static choices of one simulation (hashable: a jit static argument; changing one recompiles).

    Attributes
    ----------
    mechanism : ``"E"``, ``"EC"``, ``"CE"``, ``"ECE"`` or ``"ECcat"`` (EC′, catalytic; see :mod:`._mechanisms`).
    kinetics : ``"nernst"``, ``"bv"`` (Butler–Volmer) or ``"mhc"`` (Marcus–Hush–Chidsey).
    geometry : ``"planar"`` (linear diffusion), ``"spherical"`` (radial diffusion to a sphere of ``radius``) or
        ``"rde"`` (convective diffusion to a disk rotating at ``omega``, Levich's velocity profile; needs
        D_O = D_R; the grid is read in units of the diffusion layer and ends at 3 of them, :mod:`._grid`).
    bulk : ``"R"`` (reduced form in solution; oxidation first) or ``"O"``.
    grid : the expanding space grid.
    mhc_method : ``"quadrature"`` (the Chidsey integral, within ~1e-5 for lambda 0.05-100 eV) or ``"zeng"`` (the
        Zeng–Smith–Bai–Bazant closed form; 4-30 % off below 1 eV, worse above: see :func:`._kinetics.mhc_zeng_log`).
    ohmic : solve for the ohmic drop R_u i at every step (implicit); off, R_u must be 0.
    checkpoint_every : if set, gradients recompute the scan in chunks of this many steps (bounded memory).
    scheme : ``"bdf2"`` (second order in time, default) or ``"euler"`` (backward Euler, first order).
    unroll : time steps unrolled per loop iteration; numerics are identical, 8 runs ~2x faster than 1 on CPU but
        takes ~3x longer to compile (use 1 for one-off runs and tests).
    checks : attach the value checks of traced parameters to the compiled program (``equinox`` runtime errors
        naming the field). They are host callbacks, and JAX's persistent compilation cache refuses programs that
        hold one, so callers that guarantee valid values themselves (the fits, whose transforms keep every parameter
        inside its bounds) pass ``False`` to make their programs cacheable. :func:`cv_current` drops them itself when
        every input is concrete, since :func:`check_params` has then checked the same rules before compiling.
    """

    mechanism: Mechanism = "E"
    kinetics: Kinetics = "bv"
    geometry: Geometry = "planar"
    bulk: Bulk = "R"
    grid: GridSpec = GridSpec()
    mhc_method: MHCMethod = "quadrature"
    ohmic: bool = False
    checkpoint_every: int | None = None
    scheme: Literal["bdf2", "euler"] = "bdf2"
    unroll: int = UNROLL
    checks: bool = True

    def __post_init__(self) -> None:
        choices = {
            "mechanism": MECHANISMS,
            "kinetics": KINETICS,
            "geometry": GEOMETRIES,
            "bulk": ("R", "O"),
            "mhc_method": ("zeng", "quadrature"),
            "scheme": ("bdf2", "euler"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise InvalidInput(name, f"must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if not isinstance(self.grid, GridSpec):
            raise InvalidInput("grid", f"must be a GridSpec, got {type(self.grid).__name__}")
        if int(self.unroll) < 1:
            raise InvalidInput("unroll", f"must be a positive number of steps, got {self.unroll}")
        if self.mechanism == "ECE" and self.ohmic:
            raise InvalidInput("ohmic", "the ohmic-drop solve is not available for the ECE mechanism; set R_u = 0")
        if self.checkpoint_every is not None and int(self.checkpoint_every) < 1:
            raise InvalidInput("checkpoint_every", f"must be a positive number of steps, got {self.checkpoint_every}")


# (field, lowest allowed, strict?) -- None: any finite value. alpha is also capped at 1 below.
_RULES: dict[str, tuple[float | None, bool]] = {
    "E0": (None, False),
    "k0": (0.0, True),
    "alpha": (0.0, True),
    "D_O": (0.0, True),
    "D_R": (0.0, True),
    "c_bulk": (0.0, True),
    "c_other": (0.0, False),
    "area": (0.0, True),
    "T": (0.0, True),
    "n": (0.0, True),
    "lambda_eV": (0.0, True),
    "k_chem": (0.0, False),
    "K_eq": (0.0, True),
    "R_u": (0.0, False),
    "C_dl": (0.0, False),
    "radius": (0.0, True),
    "omega": (0.0, True),
    "nu": (0.0, True),
    "c_el": (0.0, True),
    "z_O": (None, False),
    "z_el": (0.0, True),
    "E_pzc": (None, False),
    "C_H": (0.0, False),
    "eps_r": (0.0, True),
    "E0_2": (None, False),
    "k0_2": (0.0, True),
}


def _violation(name: str, x) -> str | None:
    lo, strict = _RULES[name]
    if not math.isfinite(x):
        return f"must be finite, got {x}"
    if lo is not None and (x <= lo if strict else x < lo):
        return f"must be {'>' if strict else '>='} {lo:g}, got {x:g}"
    if name == "alpha" and x >= 1.0:
        return f"must be < 1, got {x:g}"
    return None


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def check_params(params: ECParams, settings: SimSettings = SimSettings()) -> None:
    """Raise :class:`InvalidInput` naming the first physically impossible field of ``params``.

    Only concrete values (Python or NumPy numbers, concrete arrays) are checked here; traced values are checked
    inside the compiled simulator with ``equinox.error_if``.
    """
    for name in _RULES:
        value = getattr(params, name)
        if name == "omega" and settings.geometry == "rde" and value is None:
            raise InvalidInput("omega", "the rotating disk (geometry 'rde') needs its rotation rate in rad/s")
        if name == "radius":
            if settings.geometry != "spherical":
                continue
            if value is None:
                raise InvalidInput("radius", "spherical geometry needs the electrode radius r0 in m")
        if value is None:  # an option that is off (c_el: no Frumkin correction)
            continue
        if not _is_concrete(value):
            continue
        for x in np.ravel(np.asarray(value, dtype=float)):
            reason = _violation(name, float(x))
            if reason:
                raise InvalidInput(name, reason)
    if settings.mechanism != "E" and _is_concrete(params.c_other) and np.any(np.asarray(params.c_other) != 0):
        raise InvalidInput(
            "c_other", f"both members of the couple in the bulk is modelled for mechanism 'E' only, not "
            f"{settings.mechanism!r} (its chemical step would consume the other member in the bulk); set it to 0"
        )  # fmt: skip
    equal_D = {"rde": "the rotating disk (geometry 'rde')"}  # why: _grid.rde_geometry
    for need in (settings.mechanism, settings.geometry):
        if need in equal_D and all(_is_concrete(x) for x in (params.D_O, params.D_R)):
            if not np.allclose(np.asarray(params.D_O), np.asarray(params.D_R), rtol=1e-12, atol=0):
                raise InvalidInput("D_O", f"{equal_D[need]} needs D_O = D_R")
    if settings.mechanism == "ECE":
        if params.E0_2 is None:
            raise InvalidInput("E0_2", "the ECE mechanism needs the formal potential of its second couple in V")
        if params.c_el is not None:
            raise InvalidInput("c_el", "the Frumkin correction is not available for the ECE mechanism; set c_el=None")
    if not settings.ohmic and _is_concrete(params.R_u) and np.any(np.asarray(params.R_u) != 0):
        raise InvalidInput("R_u", "is nonzero but the ohmic-drop solve is off; pass ohmic=True")


def _check_program(E, dt) -> None:
    if _is_concrete(E):
        arr = np.asarray(E, dtype=float)
        if arr.ndim != 1 or arr.shape[0] < 3:
            raise InvalidInput("E", f"must be a 1-D potential program with >= 3 samples, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InvalidInput("E", f"contains non-finite values at sample {int(np.argmin(np.isfinite(arr)))}")
    elif jnp.ndim(E) != 1:
        raise InvalidInput("E", f"must be 1-D, got shape {jnp.shape(E)}")
    if _is_concrete(dt):
        step = float(np.asarray(dt))
        if not (math.isfinite(step) and step > 0):
            raise InvalidInput("dt", f"time step must be positive and finite, got {step}")


def _traced_checks(current, params: ECParams, E, dt, settings: SimSettings):
    """Attach value checks that survive jit/vmap/grad (``eqx.branched_error_if`` names the failing field).

    Every checked number goes into one vector and is compared with per-element bounds at once: a separate check per
    field compiles to ~25 tiny programs that XLA runs one by one, about 0.1 ms per CV (a fifth of a standard CV).
    """
    parts, lows, strict, upper, owner, names = [], [], [], [], [], []
    for name, (lo, is_strict) in _RULES.items():
        value = getattr(params, name)
        if value is None:
            continue
        v = jnp.ravel(jnp.asarray(value, dtype=jnp.float64))
        parts.append(v)
        lows.append(np.full(v.size, -np.inf if lo is None else lo))
        strict.append(np.full(v.size, is_strict))
        upper.append(np.full(v.size, 1.0 if name == "alpha" else np.inf))
        owner.append(np.full(v.size, len(names)))
        names.append(f"invalid input for field '{name}': out of its physical range or not finite")
    values = jnp.concatenate(parts)
    lows, strict, upper = np.concatenate(lows), np.concatenate(strict), np.concatenate(upper)
    bad = ~jnp.isfinite(values) | jnp.where(strict, values <= lows, values < lows) | (values >= upper)
    flags = [bad]
    owner.append(np.array([len(names)]))
    names.append("invalid input for field 'dt': must be positive and finite")
    flags.append(~(jnp.isfinite(dt) & (dt > 0))[None])
    owner.append(np.array([len(names)]))
    names.append("invalid input for field 'E': contains non-finite values")
    flags.append(~jnp.all(jnp.isfinite(E))[None])
    if not settings.ohmic:
        owner.append(np.array([len(names)]))
        names.append("invalid input for field 'R_u': nonzero but the ohmic-drop solve is off; pass ohmic=True")
        flags.append(jnp.any(jnp.asarray(params.R_u) != 0)[None])
    flags = jnp.concatenate(flags)
    return eqx.branched_error_if(current, jnp.any(flags), jnp.asarray(np.concatenate(owner))[jnp.argmax(flags)], names)


def _rate_factors_at(E, params: ECParams, settings: SimSettings, nf, lam):
    """Rate factors of the flux law at electrode potential(s) ``E`` (V), with the Frumkin correction when on.

    Without it: the law at theta = n F (E - E0) / RT. With it (``params.c_el`` set, BV or MHC): the law at the
    driving force n F (E - E0 - phi2) / RT, times exp(-z F phi2 / RT) for the reacting species' charge
    (:func:`._double_layer.frumkin_scale`). Elementwise over ``E``.
    """
    if params.c_el is None or settings.kinetics == "nernst":
        return rate_factors(settings.kinetics, nf * (E - params.E0), params.alpha, lam, settings.mhc_method)
    phi2 = diffuse_layer_potential(E, params.E_pzc, params.c_el, params.C_H, params.z_el, params.eps_r, params.T)
    f_ox, f_red = rate_factors(settings.kinetics, nf * (E - params.E0 - phi2), params.alpha, lam, settings.mhc_method)
    g_ox, g_red = frumkin_scale(phi2, params.z_O, params.n, params.T)
    return f_ox * g_ox, f_red * g_red


def _simulate(params: ECParams, E, dt, settings: SimSettings):
    E = jnp.asarray(E, dtype=jnp.float64)
    dt = jnp.asarray(dt, dtype=jnp.float64)
    n_t = E.shape[0]
    sc = make_scales(params, dt, n_t, settings.geometry)
    if settings.geometry == "planar":
        modes = planar_modes(settings.grid)
    elif settings.geometry == "rde":
        modes = rde_modes(settings.grid)
    else:
        modes = spherical_modes(settings.grid, params.radius / sc.L)
    tr = transport_of(
        settings.mechanism,
        settings.bulk,
        params.D_R / sc.D_max,
        params.D_O / sc.D_max,
        chem_to_dimless(params.k_chem, sc),
        jnp.asarray(params.K_eq, dtype=jnp.float64),
        params.c_other / params.c_bulk,
    )
    dtau = dt / sc.T_tot  # 1 / (n_t - 1) but for the rotating disk, whose time scale is delta² / D
    euler = Operators(tr, modes, dtau, 1.0)
    bdf2 = euler if settings.scheme == "euler" else Operators(tr, modes, dtau, 1.5)
    K0 = rate_to_dimless(params.k0, sc)
    lam = lambda_to_kt(params.lambda_eV, params.T)
    C0 = jnp.zeros_like(euler.G)  # modal amplitudes of the deviation from bulk: the cell starts at rest

    def history(C, C_prev):
        return C if settings.scheme == "euler" else 2.0 * C - 0.5 * C_prev

    def known_potentials(faradaic, factors):
        """The time loop when the potential of every step is known: ``factors`` (arrays over the steps, any pytree)
        are the rate factors of all steps, evaluated outside the loop; ``faradaic(ops, S, factors_of_one_step)``."""
        C1, J1 = faradaic(euler, C0, jax.tree.map(lambda f: f[1], factors))

        def step(carry, fac):
            C, C_prev = carry
            C_next, J = faradaic(bdf2, history(C, C_prev), fac)
            return (C_next, C), J

        rest = jax.tree.map(lambda f: f[2:], factors)
        J = scan_steps(step, (C1, C0), rest, settings.checkpoint_every, settings.unroll)
        i_far = jnp.concatenate([jnp.zeros(1), J1[None], J]) * sc.i_scale
        return i_far + params.C_dl * rate_of_change(E, dt, settings.scheme)

    if settings.mechanism == "ECE":
        # two couples, two fluxes: J1 does not depend on J2 (the first couple's species never see the second couple),
        # so J1 is the E-mechanism flux and J2 follows from the surface left by J1. Ohmic drop is refused upstream.
        fac1 = _rate_factors_at(E, params, settings, sc.nf, lam)
        fac2 = rate_factors(settings.kinetics, sc.nf * (E - params.E0_2), params.alpha, lam, settings.mhc_method)
        K0_2 = K0 if params.k0_2 is None else rate_to_dimless(params.k0_2, sc)

        def faradaic2(ops, S, facs):
            f1, f2 = facs
            u, surface = ops.propagate_two(S)
            J1 = factor_flux(settings.kinetics, K0, f1, ops.to_R @ surface, ops.to_O @ surface, ops.a, ops.b)
            u_R2, u_O2 = ops.second_couple(surface, J1)
            J2 = factor_flux(settings.kinetics, K0_2, f2, u_R2, u_O2, ops.a2, ops.b2)
            return u - J1 * ops.sw - J2 * ops.sw2, J1 + J2

        return known_potentials(faradaic2, (tuple(fac1), tuple(fac2)))

    if not settings.ohmic:
        # the potential of every step is known: evaluate the rate factors for all steps outside the time loop
        def faradaic(ops, S, fac):
            u, u_R, u_O = ops.propagate(S)
            J = factor_flux(settings.kinetics, K0, fac, u_R, u_O, ops.a, ops.b)
            return u - J * ops.sw, J

        return known_potentials(faradaic, tuple(_rate_factors_at(E, params, settings, sc.nf, lam)))

    def ohmic(ops, S, E_app, E_prev, i_prev, dE_dt):
        """Faradaic + charging current with the true electrode potential E_app - R_u i solved by Newton."""
        u, u_R, u_O = ops.propagate(S)

        def total(E_true):
            fac = _rate_factors_at(E_true, params, settings, sc.nf, lam)
            J = factor_flux(settings.kinetics, K0, fac, u_R, u_O, ops.a, ops.b)
            return J * sc.i_scale + params.C_dl * dE_dt(E_true), J

        def residual(E_true):
            return E_true - E_app + params.R_u * total(E_true)[0]

        E_true = E_app - params.R_u * i_prev
        for _ in range(NEWTON_ITERATIONS):
            r, dr = jax.jvp(residual, (E_true,), (jnp.ones_like(E_true),))
            E_true = E_true - jnp.clip(r / dr, -MAX_NEWTON_STEP, MAX_NEWTON_STEP)
        i, J = total(E_true)
        return u - J * ops.sw, E_true, i

    zero = jnp.zeros_like(sc.i_scale)
    E_start = E[0] + zero
    C1, E1, i1 = ohmic(euler, C0, E[1], E_start, zero, lambda x: (x - E_start) / dt)

    def ohmic_step(carry, E_app):
        C, C_prev, E_prev, E_prev2, i_prev = carry
        if settings.scheme == "euler":
            dE_dt = lambda x: (x - E_prev) / dt  # noqa: E731
        else:
            dE_dt = lambda x: (1.5 * x - 2.0 * E_prev + 0.5 * E_prev2) / dt  # noqa: E731
        C_next, E_true, i = ohmic(bdf2, history(C, C_prev), E_app, E_prev, i_prev, dE_dt)
        return (C_next, C, E_true, E_prev, i), i

    i = scan_steps(ohmic_step, (C1, C0, E1, E_start, i1), E[2:], settings.checkpoint_every, settings.unroll)
    return jnp.concatenate([jnp.zeros(1), i1[None], i])


@jax.jit(static_argnames=("settings",))
def _simulate_checked(params: ECParams, E, dt, settings: SimSettings):
    current = _simulate(params, E, dt, settings)
    return _traced_checks(current, params, E, dt, settings) if settings.checks else current


def cv_current(
    params: ECParams,
    E: Potential,
    dt,
    *,
    mechanism: Mechanism = "E",
    kinetics: Kinetics = "bv",
    geometry: Geometry = "planar",
    bulk: Bulk = "R",
    grid: GridSpec | None = None,
    mhc_method: MHCMethod = "quadrature",
    ohmic: bool | None = None,
    checkpoint_every: int | None = None,
    scheme: Literal["bdf2", "euler"] = "bdf2",
    unroll: int = UNROLL,
    settings: SimSettings | None = None,
) -> Current:
    """Current (A, oxidation positive) of a cell driven by the potential program ``E`` sampled every ``dt`` s.

    Works for any program: cyclic or linear sweeps (:func:`cv_waveform`), potential steps (:func:`step_waveform`),
    or measured arrays. The solution is uniform at ``bulk`` composition at t = 0 (the cell at rest), so
    ``current[0]`` is 0 apart from charging; sample k is reached by k implicit steps of ``dt``.

    Parameters
    ----------
    params : :class:`ECParams` (SI). Fields may be Python floats or JAX arrays; differentiable, vmap-able.
    E : (n_t,) applied potential, V vs reference; n_t >= 3.
    dt : time between samples, s.
    mechanism, kinetics, geometry, bulk, grid, mhc_method, checkpoint_every, scheme, unroll
        Static settings, see :class:`SimSettings` (or pass ``settings=`` directly).
    ohmic : solve the ohmic drop; ``None`` turns it on when ``params.R_u`` is a concrete nonzero number.

    Returns
    -------
    (n_t,) current in A.

    Raises
    ------
    InvalidInput
        For a concrete impossible value (negative D, NaN, dt <= 0, alpha outside (0, 1), ...), naming the field.
        Traced values are checked in the compiled code (an ``equinox`` runtime error naming the field).
    """
    if settings is None:
        if ohmic is None:
            ohmic = _is_concrete(params.R_u) and bool(np.any(np.asarray(params.R_u) != 0))
        settings = SimSettings(
            mechanism=mechanism,
            kinetics=kinetics,
            geometry=geometry,
            bulk=bulk,
            grid=grid or GridSpec(),
            mhc_method=mhc_method,
            ohmic=bool(ohmic),
            checkpoint_every=checkpoint_every,
            scheme=scheme,
            unroll=unroll,
        )
    check_params(params, settings)
    _check_program(E, dt)
    if settings.checks and all(_is_concrete(x) for x in jax.tree.leaves((params, E, dt))):
        settings = dataclasses.replace(settings, checks=False)  # checked above, on the host
    return _simulate_checked(params, E, dt, settings)
