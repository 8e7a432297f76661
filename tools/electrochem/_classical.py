"""Classical voltammetric analyses: peaks, Randles–Ševčík, Nicholson ψ–ΔEp, Tafel and Cottrell.

Plain NumPy functions on SI arrays (V, A, s, m², mol m⁻³, m² s⁻¹, m s⁻¹, K); results are frozen dataclasses with
regression statistics. They are the textbook answers an electrochemist checks first, and they give the first guesses
for :func:`labwright.tools.electrochem.fit_cv`.

References
----------
.. [BF] A. J. Bard, L. R. Faulkner, *Electrochemical Methods*, 2nd ed., Wiley 2001: Randles–Ševčík (§6.2.2,
   i_p = 0.4463 nFAC(nFvD/RT)^½), totally irreversible peak (§6.3.1, i_p = 0.4958 nFAC(αFvD/RT)^½), Cottrell (§5.2.1,
   i = nFAC D^½/(π t)^½), Tafel (§3.4.3).
.. [N65] R. S. Nicholson, *Anal. Chem.* 37 (1965) 1351, Table I: ψ vs nΔEp at 25 °C, α = 0.5, switching 141 mV
   past E½ (ψ = γ^α k0 / (π a D_O)^½, a = nFv/RT, γ = (D_O/D_R)^½).
.. [L04] I. Lavagnini, R. Antiochia, F. Magno, *Electroanalysis* 16 (2004) 505: ψ = (−0.6288 + 0.0021 X)/(1 − 0.017 X),
   X = nΔEp in mV, a fit of the working curve usable up to X ≈ 200 mV.
.. [KK81] R. J. Klingler, J. K. Kochi, *J. Phys. Chem.* 85 (1981) 1731: for large ΔEp,
   k0 = 2.18 (αDnFv/RT)^½ exp(−α²nFΔEp/RT).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ...errors import InvalidInput
from ._baseline import capacitive_baseline
from ._peaks import find_peak, smooth_sweep
from ._sweeps import sweep_bounds
from ._units import FARADAY, GAS_CONSTANT

__all__ = [
    "FARADAY",
    "GAS_CONSTANT",
    "NICHOLSON_TABLE",
    "SweepPeaks",
    "LinearFit",
    "RandlesSevcikResult",
    "NicholsonResult",
    "TafelResult",
    "CottrellResult",
    "find_cv_peaks",
    "linear_fit",
    "randles_sevcik_D",
    "randles_sevcik_peak_current",
    "nicholson_psi",
    "nicholson_k0_values",
    "tafel_fit",
    "cottrell_D",
    "cottrell_current",
]


# [N65] Table I: (psi, n*dEp in mV) at 25 degC, alpha = 0.5.
NICHOLSON_TABLE: tuple[tuple[float, float], ...] = (
    (20.0, 61.0),
    (7.0, 63.0),
    (6.0, 64.0),
    (5.0, 65.0),
    (4.0, 66.0),
    (3.0, 68.0),
    (2.0, 72.0),
    (1.0, 84.0),
    (0.75, 92.0),
    (0.5, 105.0),
    (0.35, 121.0),
    (0.25, 141.0),
    (0.1, 212.0),
)


def _f(temperature: float) -> float:
    """F/RT, V^-1."""
    return FARADAY / (GAS_CONSTANT * temperature)


def _positive(name: str, value: float | None) -> None:
    if value is None or not np.isfinite(value) or value <= 0:
        raise InvalidInput(name, f"must be a finite positive number, got {value!r}")


def _arrays(**arrays: Sequence[float] | np.ndarray) -> list[np.ndarray]:
    out = []
    n = None
    for name, values in arrays.items():
        a = np.asarray(values, dtype=float)
        if a.ndim != 1:
            raise InvalidInput(name, f"must be 1-D, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InvalidInput(name, "contains NaN or infinite values")
        if n is not None and a.size != n:
            raise InvalidInput(name, f"has {a.size} values but {next(iter(arrays))} has {n}")
        n = a.size
        out.append(a)
    return out


# -------------------------------------------------------------------------------------------- regression ----


@dataclass(frozen=True)
class LinearFit:
    """Least-squares line y = slope·x + intercept with standard errors and R²."""

    slope: float
    intercept: float
    slope_stderr: float
    intercept_stderr: float
    r2: float
    n: int


def linear_fit(x: np.ndarray, y: np.ndarray, *, through_origin: bool = False) -> LinearFit:
    """Ordinary least squares of ``y`` on ``x``; standard errors from the residual variance.

    With ``through_origin`` the intercept is fixed at 0 (its standard error is reported as 0).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = x.size
    X = x[:, None] if through_origin else np.column_stack([x, np.ones(n)])
    k = X.shape[1]
    if n < k + 1:
        raise InvalidInput("x", f"need at least {k + 1} points for a line fit, got {n}")
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    dof = n - k
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(X.T @ X)
    ss_tot = float(np.sum((y - (0.0 if through_origin else y.mean())) ** 2))
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 1.0
    slope = float(coef[0])
    intercept = 0.0 if through_origin else float(coef[1])
    return LinearFit(
        slope=slope,
        intercept=intercept,
        slope_stderr=float(np.sqrt(cov[0, 0])),
        intercept_stderr=0.0 if through_origin else float(np.sqrt(cov[1, 1])),
        r2=r2,
        n=n,
    )


# ---------------------------------------------------------------------------------------------------- peaks ----


@dataclass(frozen=True)
class SweepPeaks:
    """Peak positions (V) and heights (A) of the first cycle of a CV; oxidation current positive.

    ``forward`` is the peak of the first sweep (anodic if the sweep starts towards positive potentials); its height is
    measured from the chosen baseline. ``reverse`` is the opposite-sign peak of the return sweep, measured from zero
    (enough for ΔEp; not a Nicholson-corrected height).
    """

    Epa: float
    ipa: float
    Epc: float
    ipc: float
    first_sweep: Literal["anodic", "cathodic"]
    switch_index: int
    charging_current: float = float("nan")  # A, C_dl v of the capacitive baseline when one was subtracted

    @property
    def delta_Ep(self) -> float:
        """Peak separation Epa − Epc, V."""
        return self.Epa - self.Epc

    @property
    def E_half(self) -> float:
        """Mid-peak potential (Epa + Epc)/2, V (≈ E0′ for equal diffusivities)."""
        return 0.5 * (self.Epa + self.Epc)

    @property
    def forward_current(self) -> float:
        """|i_p| of the first sweep's peak, A."""
        return abs(self.ipa if self.first_sweep == "anodic" else self.ipc)


def find_cv_peaks(
    E: Sequence[float] | np.ndarray,
    I: Sequence[float] | np.ndarray,
    *,
    baseline: Literal["zero", "linear", "capacitive"] = "zero",
    baseline_fraction: float = 0.1,
    require_reverse: bool = True,
) -> SweepPeaks:
    """Anodic and cathodic peaks of the first cycle of a cyclic voltammogram.

    Parameters
    ----------
    E, I
        Potential (V) and current (A, oxidation positive), shape (n,), in time order.
    baseline
        ``"zero"``: forward peak height from i = 0. ``"linear"``: from a line fitted to the first
        ``baseline_fraction`` of the forward sweep (capacitive background), extrapolated to the peak potential.
        ``"capacitive"``: both peaks from the double-layer charging current ±C_dl v estimated from the current step
        at the switching potentials (:func:`~labwright.tools.electrochem.capacitive_baseline`).
    require_reverse
        If False, a reverse sweep without a peak (irreversible or chemically coupled systems) gives NaN for the
        reverse peak instead of an error.

    Raises
    ------
    InvalidInput
        Fewer than 5 points, no switching point, or no peak inside a sweep (current still rising at the vertex).
    """
    E, I = _arrays(E=E, I=I)
    if E.size < 5:
        raise InvalidInput("E", f"need at least 5 points, got {E.size}")
    if np.ptp(E) == 0:
        raise InvalidInput("E", "potential does not move")
    if baseline not in ("zero", "linear", "capacitive"):
        raise InvalidInput("baseline", f"must be 'zero', 'linear' or 'capacitive', got {baseline!r}")
    charging = float("nan")
    if baseline == "capacitive":
        cap = capacitive_baseline(E, I)
        I, charging = I - cap.current, cap.charging_current
    # switching potentials of the programmed sweep (robust to jitter in the measured potential)
    bounds = sweep_bounds(E)
    if bounds.size < 3 or bounds[1] < 2 or bounds[1] > E.size - 3:
        raise InvalidInput("E", "no switching potential found: the data hold only one sweep")
    k, end = int(bounds[1]), int(bounds[2])  # first vertex; the second (or the last point) ends the first cycle
    sgn = 1.0 if E[k] > E[0] else -1.0
    # sub-sample peak positions (parabola through the extreme sample and its neighbours), noisy sweeps smoothed first
    E_fwd, I_fwd = smooth_sweep(E[: k + 1], I[: k + 1])
    forward = find_peak(E_fwd, I_fwd, int(sgn))
    if forward is None:
        raise InvalidInput("E", "the forward peak lies at the switching potential; widen the potential window")
    reverse = find_peak(*smooth_sweep(E[k : end + 1], I[k : end + 1]), -int(sgn))
    if reverse is None:
        if require_reverse:
            raise InvalidInput("E", "no reverse peak inside the window; widen it (or require_reverse=False)")
        E_r, I_r = float("nan"), float("nan")
    else:
        E_r, I_r = reverse.E_p, reverse.i_p
    E_f, ip_f = forward.E_p, forward.i_p
    if baseline == "linear":
        m = max(3, int(baseline_fraction * (k + 1)))
        line = linear_fit(E_fwd[:m], I_fwd[:m])
        ip_f = ip_f - (line.slope * E_f + line.intercept)
    if sgn > 0:
        return SweepPeaks(E_f, float(ip_f), E_r, I_r, "anodic", k, charging)
    return SweepPeaks(E_r, I_r, E_f, float(ip_f), "cathodic", k, charging)


# ------------------------------------------------------------------------------------------- Randles–Ševčík ----


@dataclass(frozen=True)
class RandlesSevcikResult:
    """D from the slope of |i_p| vs √v ([BF] §6.2.2 / §6.3.1)."""

    D: float  # m^2 s^-1
    D_stderr: float  # m^2 s^-1, from the slope's standard error
    fit: LinearFit  # |i_p| (A) vs sqrt(v) (V^1/2 s^-1/2)
    regime: str
    coefficient: float
    warnings: list[str] = field(default_factory=list)


def randles_sevcik_peak_current(
    scan_rate: float,
    D: float,
    *,
    n: int = 1,
    area: float,
    concentration: float,
    temperature: float = 298.15,
    regime: Literal["reversible", "irreversible"] = "reversible",
    alpha: float = 0.5,
) -> float:
    """Peak current (A) of a planar CV: 0.4463 nFAC(nFvD/RT)^½, or 0.4958 nFAC(αFvD/RT)^½ if irreversible [BF]."""
    f = _f(temperature)
    if regime == "reversible":
        return 0.4463 * n * FARADAY * area * concentration * np.sqrt(n * f * scan_rate * D)
    return 0.4958 * n * FARADAY * area * concentration * np.sqrt(alpha * f * scan_rate * D)


def randles_sevcik_D(
    scan_rates: Sequence[float] | np.ndarray,
    peak_currents: Sequence[float] | np.ndarray,
    *,
    n: int = 1,
    area: float,
    concentration: float,
    temperature: float = 298.15,
    regime: Literal["reversible", "irreversible"] = "reversible",
    alpha: float = 0.5,
    through_origin: bool = True,
) -> RandlesSevcikResult:
    """Diffusion coefficient from forward peak currents at several scan rates.

    Fits |i_p| = b·√v (through the origin by default, as the equation has no intercept) and inverts
    b = c·nFAC(n'FD/RT)^½ with c = 0.4463, n' = n (reversible) or c = 0.4958, n' = α (irreversible).

    Parameters
    ----------
    scan_rates
        V/s, shape (k,), k ≥ 2.
    peak_currents
        A, shape (k,); the sign is ignored.
    area, concentration
        Electrode area (m²) and bulk concentration (mol m⁻³ = mM).

    Returns
    -------
    RandlesSevcikResult
        D (m² s⁻¹) with its standard error (propagated from the slope: σ_D = 2 D σ_b / b) and the line fit.
    """
    v, ip = _arrays(scan_rates=scan_rates, peak_currents=peak_currents)
    for name, value in (("area", area), ("concentration", concentration), ("temperature", temperature)):
        _positive(name, value)
    if np.any(v <= 0):
        raise InvalidInput("scan_rates", "scan rates must be positive (V/s)")
    if v.size < 2:
        raise InvalidInput("scan_rates", "need at least 2 scan rates")
    if regime not in ("reversible", "irreversible"):
        raise InvalidInput("regime", f"must be 'reversible' or 'irreversible', got {regime!r}")
    fit = linear_fit(np.sqrt(v), np.abs(ip), through_origin=through_origin or v.size < 3)
    f = _f(temperature)
    coeff = 0.4463 if regime == "reversible" else 0.4958
    n_eff = n if regime == "reversible" else alpha
    _rising(fit, "peak_currents", "|i_p| does not rise with sqrt(v)")
    D = _finite_result("D", (fit.slope / _charge_scale(coeff * n, area, concentration)) ** 2 / (n_eff * f))
    warnings = []
    if fit.r2 < 0.99:
        warnings.append(f"|i_p| vs sqrt(v) is not linear (R^2 = {fit.r2:.4f}): adsorption, kinetics or iR drop?")
    if not through_origin and abs(fit.intercept) > 3 * fit.intercept_stderr:
        warnings.append("intercept differs from 0 by > 3 standard errors: check the baseline")
    return RandlesSevcikResult(
        D=float(D),
        D_stderr=float(_finite_result("D_stderr", 2 * D * fit.slope_stderr / fit.slope)),
        fit=fit,
        regime=regime,
        coefficient=coeff,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------------- Nicholson ----


def nicholson_psi(
    delta_Ep: float, *, n: int = 1, temperature: float = 298.15, method: Literal["table", "lavagnini"] = "table"
) -> tuple[float, str]:
    """ψ for a peak separation ΔEp (V), and which regime produced it.

    ``"table"`` interpolates log ψ linearly in nΔEp between the rows of [N65] (61–212 mV); ``"lavagnini"`` uses the
    [L04] fit. ΔEp is first scaled to 25 °C (ΔEp·298.15/T, since ΔEp scales with RT/F). Returns ``(psi, regime)``
    with regime ``"reversible"`` (nΔEp ≤ 61 mV: ψ ≥ 20 is only a lower bound, returned as 20), ``"table"``,
    ``"lavagnini"`` or ``"irreversible"`` (nΔEp > 212 mV: outside the working curve; ψ returned as NaN; use
    :func:`nicholson_k0_values`, which switches to Klingler–Kochi there).
    """
    if not np.isfinite(delta_Ep) or delta_Ep <= 0:
        raise InvalidInput("delta_Ep", f"peak separation must be positive (V), got {delta_Ep!r}")
    x = n * delta_Ep * 1e3 * 298.15 / temperature  # mV at 25 degC
    psi_tab = np.array([p for p, _ in NICHOLSON_TABLE])
    x_tab = np.array([x for _, x in NICHOLSON_TABLE])
    if x <= x_tab[0]:
        return float(psi_tab[0]), "reversible"
    if x > x_tab[-1]:
        return float("nan"), "irreversible"
    if method == "lavagnini":
        return float((-0.6288 + 0.0021 * x) / (1.0 - 0.017 * x)), "lavagnini"
    if method != "table":
        raise InvalidInput("method", f"must be 'table' or 'lavagnini', got {method!r}")
    return float(10 ** np.interp(x, x_tab, np.log10(psi_tab))), "table"


@dataclass(frozen=True)
class NicholsonResult:
    """k0 from ψ(ΔEp) at each scan rate ([N65], [L04], [KK81])."""

    k0: float  # m/s, geometric mean over the points inside the working curve
    k0_values: list[float]  # m/s per scan rate (NaN where not determinable)
    psi: list[float]
    regimes: list[str]
    delta_Ep: list[float]  # V
    scan_rates: list[float]  # V/s
    warnings: list[str] = field(default_factory=list)


def nicholson_k0_values(
    scan_rates: Sequence[float] | np.ndarray,
    delta_Ep: Sequence[float] | np.ndarray,
    *,
    D_O: float,
    D_R: float | None = None,
    alpha: float = 0.5,
    n: int = 1,
    temperature: float = 298.15,
    method: Literal["table", "lavagnini"] = "table",
) -> NicholsonResult:
    """Standard rate constant k0 (m/s) from CV peak separations at several scan rates.

    k0 = ψ (π D_O a)^½ / γ^α with a = nFv/RT and γ = (D_O/D_R)^½ [N65]. Points with nΔEp > 212 mV use
    Klingler–Kochi [KK81]; points with nΔEp ≤ 61 mV (reversible) give only a lower bound and are left out of the
    mean. The working curve assumes α ≈ 0.5 (0.3 < α < 0.7 changes ΔEp by < 5 % [N65]) and negligible iR drop.

    Raises
    ------
    InvalidInput
        Non-positive scan rates, peak separations, D or temperature; α outside (0, 1).
    """
    v, dEp = _arrays(scan_rates=scan_rates, delta_Ep=delta_Ep)
    _positive("D_O", D_O)
    _positive("temperature", temperature)
    if D_R is not None:
        _positive("D_R", D_R)
    if not 0 < alpha < 1:
        raise InvalidInput("alpha", f"must lie in (0, 1), got {alpha!r}")
    if np.any(v <= 0):
        raise InvalidInput("scan_rates", "scan rates must be positive (V/s)")
    gamma = np.sqrt(D_O / (D_R if D_R is not None else D_O))
    f = _f(temperature)
    k0s, psis, regimes, warnings = [], [], [], []
    for vi, d in zip(v, dEp):
        psi, regime = nicholson_psi(float(d), n=n, temperature=temperature, method=method)
        a = n * f * vi
        if regime == "irreversible":
            k0 = 2.18 * np.sqrt(alpha * D_O * a) * np.exp(-(alpha**2) * n * f * d)
            psi = k0 * gamma**alpha / np.sqrt(np.pi * D_O * a)
        else:
            k0 = psi * np.sqrt(np.pi * D_O * a) / gamma**alpha
        if not (np.isfinite(psi) and np.isfinite(k0)):  # e.g. v·D so small that √(π D a) underflows to 0
            raise InvalidInput(
                "peak_separations",
                f"ψ or k0 is not finite for ΔEp = {d:g} V at v = {vi:g} V/s with D = {D_O:g} m²/s: "
                "the values lie beyond floating point (check the units)",
            )
        psis.append(float(psi))
        regimes.append(regime)
        k0s.append(float(k0) if regime != "reversible" else float("nan"))
    good = np.array([r in ("table", "lavagnini", "irreversible") for r in regimes])
    if not good.any():
        warnings.append(
            "every ΔEp is at the reversible limit (≤ 61 mV): k0 is larger than can be measured here; "
            "use faster scan rates"
        )
        k0_mean = float("nan")
        lower = max(psi * np.sqrt(np.pi * D_O * n * f * vi) / gamma**alpha for psi, vi in zip(psis, v))
        warnings.append(f"lower bound k0 > {lower:.3g} m/s")
    else:
        k0_mean = float(np.exp(np.mean(np.log(np.array(k0s)[good]))))
    if any(r == "irreversible" for r in regimes):
        warnings.append("some ΔEp > 212 mV: Klingler–Kochi irreversible formula used there (needs α)")
    if any(r == "reversible" for r in regimes) and good.any():
        warnings.append("some ΔEp ≤ 61 mV (reversible limit) were left out of the mean")
    spread = np.ptp(np.log10(np.array(k0s)[good])) if good.sum() > 1 else 0.0
    if spread > 0.3:
        warnings.append(f"k0 varies by {10**spread:.1f}x across scan rates: iR drop or a coupled reaction?")
    return NicholsonResult(k0_mean, k0s, psis, regimes, dEp.tolist(), v.tolist(), warnings)


# ------------------------------------------------------------------------------------------------------ Tafel ----


@dataclass(frozen=True)
class TafelResult:
    """log10|i| vs η line on one branch ([BF] §3.4.3)."""

    branch: Literal["anodic", "cathodic"]
    slope: float  # V per decade of current (positive for the anodic, negative for the cathodic branch)
    transfer_coefficient: float  # (1-α) for the anodic branch, α for the cathodic one (times n)
    alpha: float  # cathodic transfer coefficient α implied by the branch
    i0: float  # exchange current, A (extrapolated to η = 0)
    eta_window: tuple[float, float]  # |η| range used, V
    n_points: int
    r2: float
    auto_selected: bool
    k0: float | None = None  # m/s, i0/(nFAC) if area and concentration were given
    warnings: list[str] = field(default_factory=list)


def _tafel_line(eta: np.ndarray, i: np.ndarray, lo: float, hi: float) -> LinearFit | None:
    m = (np.abs(eta) >= lo) & (np.abs(eta) <= hi) & (np.abs(i) > 0)
    if m.sum() < 4:
        return None
    return linear_fit(eta[m], np.log10(np.abs(i[m])))


def tafel_fit(
    E: Sequence[float] | np.ndarray,
    I: Sequence[float] | np.ndarray,
    *,
    E_eq: float,
    branch: Literal["anodic", "cathodic"] = "anodic",
    eta_window: tuple[float, float] | None = None,
    limiting_current: float | None = None,
    n: int = 1,
    temperature: float = 298.15,
    area: float | None = None,
    concentration: float | None = None,
) -> TafelResult:
    """Tafel slope, transfer coefficient and exchange current from one branch of a polarisation curve.

    Parameters
    ----------
    E, I
        Potential (V) and current (A, oxidation positive), shape (n,); e.g. a slow LSV or steady-state curve.
    E_eq
        Equilibrium (or formal) potential, V; η = E − E_eq.
    branch
        ``"anodic"`` uses η > 0 and i > 0; ``"cathodic"`` uses η < 0 and i < 0.
    eta_window
        ``(|η|_min, |η|_max)`` in V. ``None`` selects it automatically: among windows starting at 40–150 mV and at
        least 40 mV wide (and, without mass-transport correction, where |i| ≤ 20 % of the branch maximum), the widest
        one whose R² is within 2·10⁻⁴ of the best; the chosen window is returned.
    limiting_current
        If given (A, same sign as the branch), currents are corrected for mass transport, i_k = i·i_L/(i_L − i).

    Raises
    ------
    InvalidInput
        Bad arrays, too few points in the window, or a window outside the data.
    """
    E, I = _arrays(E=E, I=I)
    _positive("temperature", temperature)
    if branch not in ("anodic", "cathodic"):
        raise InvalidInput("branch", f"must be 'anodic' or 'cathodic', got {branch!r}")
    sgn = 1.0 if branch == "anodic" else -1.0
    eta = E - E_eq
    keep = (sgn * eta > 0) & (sgn * I > 0)
    eta, i = eta[keep], I[keep]
    warnings = []
    if limiting_current is not None:
        if sgn * limiting_current <= 0:
            raise InvalidInput("limiting_current", "must have the sign of the branch's current")
        ok = np.abs(i) < 0.98 * abs(limiting_current)
        eta, i = eta[ok], i[ok] * limiting_current / (limiting_current - i[ok])
    if eta.size < 4:
        raise InvalidInput("E", f"fewer than 4 points on the {branch} branch")
    auto = eta_window is None
    if auto:
        cap = np.inf if limiting_current is not None else 0.2 * np.max(np.abs(i))
        small = np.abs(i) <= cap
        eta_s, i_s = eta[small], i[small]
        top = float(np.max(np.abs(eta_s))) if eta_s.size else 0.0
        best: list[tuple[float, float, float, LinearFit]] = []
        for lo in np.arange(0.04, 0.1501, 0.005):
            for hi in np.arange(lo + 0.04, top + 1e-9, 0.005):
                line = _tafel_line(eta_s, i_s, lo, hi)
                if line is not None:
                    best.append((line.r2, hi - lo, lo, line))
        if not best:
            raise InvalidInput("eta_window", "no Tafel window found automatically (need |η| ≥ 40 mV); give one")
        r2_max = max(b[0] for b in best)
        r2, width, lo, line = max((b for b in best if b[0] >= r2_max - 2e-4), key=lambda b: (b[1], b[0]))
        window = (float(lo), float(lo + width))
    else:
        lo, hi = eta_window
        if not 0 <= lo < hi:
            raise InvalidInput("eta_window", f"need 0 <= |η|_min < |η|_max, got {eta_window!r}")
        line = _tafel_line(eta, i, lo, hi)
        if line is None:
            raise InvalidInput("eta_window", f"fewer than 4 points with {lo} <= |η| <= {hi} V on the {branch} branch")
        window = (float(lo), float(hi))
    f = _f(temperature)
    slope = 1.0 / line.slope  # V/decade
    tc = abs(line.slope * np.log(10) / f) / n  # d log10(i)/d eta = tc n F/(2.303 RT)
    alpha = 1.0 - tc if branch == "anodic" else tc
    i0 = 10**line.intercept
    if min(window) < 0.118 / n:
        warnings.append("window starts below 118/n mV: the back reaction bends the line (> 1 % of the current)")
    if line.r2 < 0.999:
        warnings.append(f"R^2 = {line.r2:.5f}: the selected region is not straight")
    k0 = None
    if area is not None and concentration is not None:
        _positive("area", area)
        _positive("concentration", concentration)
        k0 = float(_finite_result("k0", i0 / _charge_scale(n, area, concentration)))
    return TafelResult(
        branch, float(slope), float(tc), float(alpha), float(i0), window, line.n, float(line.r2), auto, k0, warnings
    )


# ---------------------------------------------------------------------------------------------------- Cottrell ----


@dataclass(frozen=True)
class CottrellResult:
    """D from i vs t^-½ of a potential step ([BF] §5.2.1)."""

    D: float  # m^2 s^-1
    D_stderr: float
    fit: LinearFit  # |i| (A) vs t^-1/2 (s^-1/2)
    t_window: tuple[float, float]  # s
    warnings: list[str] = field(default_factory=list)


def cottrell_current(t, D: float, *, n: int = 1, area: float, concentration: float):
    """Cottrell current nFAC (D/(π t))^½, A (sign: positive; shape of ``t``)."""
    return n * FARADAY * area * concentration * np.sqrt(D / (np.pi * np.asarray(t, float)))


def _charge_scale(n: float, area: float, concentration: float) -> np.float64:
    # n·F·A·c in NumPy float64: with Python floats, area·c = 1e-300 raised ZeroDivisionError or OverflowError (x**2).
    return np.float64(n) * FARADAY * np.float64(area) * np.float64(concentration)


def _rising(fit, field: str, why: str) -> None:
    # D comes from the square of the slope and its error from stderr/slope: a flat or falling line has no D.
    if not fit.slope > 0:
        raise InvalidInput(field, f"{why}: fitted slope {fit.slope:.3g}, so no diffusion coefficient follows")


def _finite_result(name: str, value) -> np.float64:
    """``value`` if finite; otherwise the area and concentration are too small (or the currents too large) to invert."""
    with np.errstate(all="ignore"):
        value = np.float64(value)
    if not np.isfinite(value):
        raise InvalidInput(
            "area", f"{name} is not finite: these currents are too large for area × concentration (check the units)"
        )
    return value


def cottrell_D(
    t: Sequence[float] | np.ndarray,
    I: Sequence[float] | np.ndarray,
    *,
    n: int = 1,
    area: float,
    concentration: float,
    t_window: tuple[float, float] | None = None,
    fit_intercept: bool = False,
) -> CottrellResult:
    """Diffusion coefficient from a chronoamperogram after a diffusion-limited potential step.

    Fits |i| = b·t^-½ (+ c if ``fit_intercept``; a non-zero c signals background or non-planar diffusion) and
    inverts b = nFAC (D/π)^½. ``t_window`` (s) defaults to t ≥ 5 % of the record (skips the double-layer charging
    and the potentiostat's rise time).
    """
    t, I = _arrays(t=t, I=I)
    _positive("area", area)
    _positive("concentration", concentration)
    if t_window is None:
        t_window = (float(t.min() + 0.05 * np.ptp(t)), float(t.max()))
    lo, hi = t_window
    m = (t > 0) & (t >= lo) & (t <= hi)
    if m.sum() < 3:
        raise InvalidInput("t_window", f"fewer than 3 points with t in {t_window!r} s")
    fit = linear_fit(1 / np.sqrt(t[m]), np.abs(I[m]), through_origin=not fit_intercept)
    _rising(fit, "I", "|i| does not fall as t^-1/2 (no diffusion-limited decay)")
    D = _finite_result("D", np.pi * (fit.slope / _charge_scale(n, area, concentration)) ** 2)
    warnings = []
    if fit.r2 < 0.995:
        warnings.append(f"|i| vs t^-1/2 is not linear (R^2 = {fit.r2:.4f}): convection, edge diffusion or kinetics?")
    D_stderr = float(_finite_result("D_stderr", 2 * D * fit.slope_stderr / fit.slope))
    return CottrellResult(float(D), D_stderr, fit, (float(lo), float(hi)), warnings)
