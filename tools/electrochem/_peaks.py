"""Peaks of simulated or measured voltammograms (anodic maximum, cathodic minimum), sub-sample accurate.

Peak positions come from the parabola through the extreme sample and its two neighbours, so a CV sampled every few
mV still gives Ep to a fraction of a mV; half-peak potentials come from linear interpolation on the rising side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InvalidInput

__all__ = ["Peak", "CVPeaks", "find_peak", "cv_peaks"]


@dataclass(frozen=True)
class Peak:
    """One voltammetric peak: potential Ep (V), current ip (A, signed), half-peak potential Ep/2 (V)."""

    E_p: float
    i_p: float
    E_half_peak: float


@dataclass(frozen=True)
class CVPeaks:
    """Anodic and cathodic peaks of a CV (either may be ``None``) and their separation dEp = Epa - Epc (V)."""

    anodic: Peak | None
    cathodic: Peak | None

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


def cv_peaks(E, i) -> CVPeaks:
    """Anodic peak on the first sweep that rises in potential, cathodic peak on the first that falls.

    Raises
    ------
    InvalidInput
        If ``E`` and ``i`` differ in shape or have fewer than 5 samples.
    """
    E = np.asarray(E, dtype=float)
    i = np.asarray(i, dtype=float)
    if E.shape != i.shape or E.ndim != 1 or E.size < 5:
        raise InvalidInput("i", f"E and i must be 1-D of equal length >= 5; got {E.shape} and {i.shape}")
    direction = np.sign(np.diff(E))
    turns = np.nonzero(direction[1:] * direction[:-1] < 0)[0] + 1
    bounds = np.concatenate([[0], turns, [E.size - 1]])
    anodic = cathodic = None
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        rising = E[hi] > E[lo]
        if rising and anodic is None:
            anodic = find_peak(E, i, +1, int(lo), int(hi) + 1)
        if not rising and cathodic is None:
            cathodic = find_peak(E, i, -1, int(lo), int(hi) + 1)
    return CVPeaks(anodic=anodic, cathodic=cathodic)
