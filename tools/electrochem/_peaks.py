"""Peaks of simulated or measured voltammograms (anodic maximum, cathodic minimum), sub-sample accurate.

Peak positions come from the parabola through the extreme sample and its two neighbours, so a CV sampled every few
mV still gives Ep to a fraction of a mV; half-peak potentials come from linear interpolation on the rising side.

Measured data need two more things. The sweeps are cut at the switching potentials of the *programmed* triangle, found
with a hysteresis threshold (:func:`sweep_vertices`), so that jitter in the measured potential (which reverses
direction for a sample or two) does not split a sweep into dozens of fragments. And where the current is noisy
(:func:`noise_level` above :data:`SMOOTH_ABOVE` of the current's range) the current of each sweep is smoothed with a
Savitzky–Golay filter, and a jittery measured potential is replaced by its local straight line, before the peak is
located; clean (simulated) data are left untouched, so the textbook checks keep their sub-mV accuracy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.signal import savgol_filter

from ...errors import InvalidInput
from ._baseline import CapacitiveBaseline, capacitive_baseline
from ._sweeps import sweep_bounds

__all__ = ["Peak", "CVPeaks", "find_peak", "cv_peaks", "noise_level", "smooth_sweep"]

SMOOTH_ABOVE = 2e-3  # relative noise (of the current's range) above which sweeps are smoothed before peak finding


@dataclass(frozen=True)
class Peak:
    """One voltammetric peak: potential Ep (V), current ip (A, signed), half-peak potential Ep/2 (V)."""

    E_p: float
    i_p: float
    E_half_peak: float


@dataclass(frozen=True)
class CVPeaks:
    """Anodic and cathodic peaks of a CV (either may be ``None``) and their separation dEp = Epa - Epc (V).

    ``first_sweep`` says which peak is the forward one; ``i_switch`` is the current (A) at the first switching
    potential; ``capacitive`` is the double-layer baseline (C_dl in F, baseline in A) when one was subtracted, in
    which case every current here is measured from it.
    """

    anodic: Peak | None
    cathodic: Peak | None
    first_sweep: Literal["anodic", "cathodic"] | None = None
    i_switch: float = math.nan
    capacitive: CapacitiveBaseline | None = None

    @property
    def delta_Ep(self) -> float:
        if self.anodic is None or self.cathodic is None:
            return math.nan
        return self.anodic.E_p - self.cathodic.E_p

    @property
    def E_half(self) -> float:
        """Midpoint (Epa + Epc) / 2, V: the reversible half-wave potential estimate."""
        if self.anodic is None or self.cathodic is None:
            return math.nan
        return 0.5 * (self.anodic.E_p + self.cathodic.E_p)

    @property
    def reverse_to_forward(self) -> float:
        """|i_p,reverse / i_p,forward| by Nicholson's rule, 1 for a Nernstian couple with a stable product.

        The reverse peak is read from zero current, on top of the decaying forward current; Nicholson's semi-empirical
        relation puts that decay back: |i_pr/i_pf| = |(i_pr)0|/|i_pf| + 0.485 |i_sp|/|i_pf| + 0.086, with i_sp the
        current at the switching potential (R. S. Nicholson, Anal. Chem. 38 (1966) 1406; Bard & Faulkner 2nd ed.
        §6.5.1). Without the capacitive baseline the charging current biases it upward by about 0.57 C_dl v / i_pf.
        """
        if self.anodic is None or self.cathodic is None or self.first_sweep is None or math.isnan(self.i_switch):
            return math.nan
        fwd, rev = (self.anodic, self.cathodic) if self.first_sweep == "anodic" else (self.cathodic, self.anodic)
        return abs(rev.i_p) / abs(fwd.i_p) + 0.485 * abs(self.i_switch) / abs(fwd.i_p) + 0.086


def find_peak(E, i, sign: int = 1, start: int = 0, stop: int | None = None) -> Peak | None:
    """The extremum of ``sign * i`` within samples [start, stop); ``None`` if it sits on an end (no true peak).

    Parameters
    ----------
    E : (n,) potential, V.  i : (n,) current, A.
    sign : +1 for an anodic peak (maximum), -1 for a cathodic one (minimum).
    """
    E = np.asarray(E, dtype=float)
    y = sign * np.asarray(i, dtype=float)
    stop = len(y) if stop is None else stop
    if stop - start < 3:
        return None
    k = start + int(np.argmax(y[start:stop]))
    if k in (start, stop - 1) or y[k] <= 0:
        return None
    y0, y1, y2 = y[k - 1 : k + 2]
    curvature = y0 - 2.0 * y1 + y2
    shift = 0.5 * (y0 - y2) / curvature if curvature < 0 else 0.0
    ip = y1 - 0.25 * (y0 - y2) * shift
    Ep = E[k] + shift * 0.5 * (E[k + 1] - E[k - 1])
    # half-peak potential: last crossing of ip/2 before the peak
    below = np.nonzero(y[start : k + 1] < 0.5 * ip)[0]
    if below.size:
        j = start + int(below[-1])
        frac = (0.5 * ip - y[j]) / (y[j + 1] - y[j])
        E_half = E[j] + frac * (E[j + 1] - E[j])
    else:
        E_half = math.nan
    return Peak(E_p=float(Ep), i_p=float(sign * ip), E_half_peak=float(E_half))


def noise_level(y) -> float:
    """Noise of ``y`` relative to its range: the rms of the high-frequency residual of a local cubic fit.

    The residual of a 7-point Savitzky–Golay cubic keeps white noise (scaled back by its known variance fraction)
    while a smooth voltammetric wave leaves almost nothing, so the estimate does not need a model of the signal.
    """
    y = np.asarray(y, dtype=float)
    top = float(np.max(np.abs(y))) if y.size else 0.0
    if y.size < 9 or top == 0:
        return 0.0
    y = y / top  # a relative measure, so scale first: |y| near 1e308 would overflow the range and the squares
    span = float(np.ptp(y))
    if span == 0:
        return 0.0
    resid = y - savgol_filter(y, 7, 3)
    # for white noise, var(resid) = (1 - h0) var(noise) with h0 = 7/21 (centre weight of the 7-point cubic)
    return float(np.sqrt(np.mean(resid**2) / (1.0 - 7.0 / 21.0))) / span


def smooth_sweep(E, i) -> tuple[np.ndarray, np.ndarray]:
    """One sweep's potential and current, smoothed where the data need it (see the module notes)."""
    E = np.asarray(E, dtype=float)
    i = np.asarray(i, dtype=float)
    window = max(7, (E.size // 25) | 1)
    if E.size <= window:
        return E, i
    if np.any(np.diff(E) * np.sign(E[-1] - E[0]) < 0):  # the measured potential jitters back: use the program's line
        E = savgol_filter(E, window, 1)
    if noise_level(i) > SMOOTH_ABOVE:
        i = savgol_filter(i, window, 3)
    return E, i


def cv_peaks(
    E, i, *, baseline: Literal["none", "capacitive"] = "none", t=None, scan_rate: float | None = None
) -> CVPeaks:
    """Anodic peak on the first sweep that rises in potential, cathodic peak on the first that falls.

    Sweeps are cut at the programmed switching potentials (:func:`sweep_vertices`) and noisy sweeps smoothed first
    (:func:`smooth_sweep`), so the result agrees with :func:`~labwright.tools.electrochem.find_cv_peaks`.

    Parameters
    ----------
    E, i : array_like, shape (n,)
        Potential (V) and current (A, oxidation positive) in time order.
    baseline
        ``"capacitive"`` subtracts the double-layer charging current C_dl dE/dt estimated from the current step at
        the switching potentials (:func:`capacitive_baseline`) before the peaks are read; ``"none"`` reads them
        from zero current.
    t, scan_rate
        Sample times (s) and scan rate (V/s), used only to turn the charging current into C_dl (F).

    Raises
    ------
    InvalidInput
        If ``E`` and ``i`` differ in shape or have fewer than 5 samples; an unknown ``baseline``; with
        ``baseline="capacitive"``, data without a switching potential.
    """
    E = np.asarray(E, dtype=float)
    i = np.asarray(i, dtype=float)
    if E.shape != i.shape or E.ndim != 1 or E.size < 5:
        raise InvalidInput("i", f"E and i must be 1-D of equal length >= 5; got {E.shape} and {i.shape}")
    if baseline not in ("none", "capacitive"):
        raise InvalidInput("baseline", f"must be 'none' or 'capacitive', got {baseline!r}")
    capacitive = None
    if baseline == "capacitive":
        capacitive = capacitive_baseline(E, i, t=t, scan_rate=scan_rate)
        i = i - capacitive.current
    bounds = sweep_bounds(E)
    anodic = cathodic = None
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        rising = E[hi] > E[lo]
        if rising and anodic is None:
            anodic = find_peak(*smooth_sweep(E[lo : hi + 1], i[lo : hi + 1]), +1)
        if not rising and cathodic is None:
            cathodic = find_peak(*smooth_sweep(E[lo : hi + 1], i[lo : hi + 1]), -1)
    first = ("anodic" if E[bounds[1]] > E[0] else "cathodic") if bounds.size > 2 else None
    i_switch = float(i[bounds[1]]) if bounds.size > 2 else math.nan
    return CVPeaks(anodic=anodic, cathodic=cathodic, first_sweep=first, i_switch=i_switch, capacitive=capacitive)
