"""Does a fitted model describe the data? Checks every CV fit reports, so that a poor fit says so.

Three questions, each answered from the data alone:

* **Parameters on their bounds.** An estimate within :data:`BOUND_TOLERANCE` of the width of its (transformed) range
  from a bound did not find an interior optimum: the data want a value the model or the range does not allow.
* **Residuals against the noise.** The noise of each curve is estimated from the high-frequency residual of a local
  cubic (Savitzky–Golay) fit of the measured current itself (:func:`~labwright.tools.electrochem._peaks.noise_level`),
  with a floor of :data:`NOISE_FLOOR` of the peak current for the simulator's own discretisation error. A fit whose rms
  residual is more than :data:`MAX_RESIDUAL_TO_NOISE` times that noise leaves signal unexplained.
* **Residual structure.** Residuals of a good fit look like noise: their lag-1 autocorrelation is near 0 and a
  Wald–Wolfowitz runs test of their signs finds as many runs as chance gives. Long runs of one sign mean a systematic
  misfit (wrong mechanism, missing background, a fixed parameter that is wrong). Flagged when the runs test rejects
  randomness at p < :data:`RUNS_P` *and* the lag-1 autocorrelation exceeds :data:`MAX_LAG1`.

References
----------
.. [WW40] A. Wald, J. Wolfowitz, *Ann. Math. Statist.* 11 (1940) 147: runs test; mean 2n₊n₋/n + 1, variance
   2n₊n₋(2n₊n₋ − n)/(n²(n − 1)).
.. [SG64] A. Savitzky, M. J. E. Golay, *Anal. Chem.* 36 (1964) 1627.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import Field
from scipy import linalg
from scipy.stats import norm

from ..fields import ToolModel
from ._peaks import noise_level

__all__ = [
    "BOUND_TOLERANCE",
    "NOISE_FLOOR",
    "MAX_RESIDUAL_TO_NOISE",
    "MAX_LAG1",
    "RUNS_P",
    "FitQuality",
    "runs_test",
    "lag1_autocorrelation",
    "assess_fit",
]

BOUND_TOLERANCE = 1e-3  # fraction of a parameter's (transformed) range
NOISE_FLOOR = 2e-3  # fraction of the peak current: below this the simulator's own error dominates
MAX_RESIDUAL_TO_NOISE = 3.0
MAX_REPORTED_RATIO = 1e300  # residual/noise ratios above this are reported as this
MAX_LAG1 = 0.5
RUNS_P = 1e-3


class FitQuality(ToolModel):
    """How well the fitted model describes the data, and whether the fit should be trusted."""

    poor_fit: bool = Field(description="True if any check failed; `reasons` says which.")
    reasons: list[str] = Field(default_factory=list, description="Why the fit is flagged (empty if it is not).")
    at_bounds: list[str] = Field(default_factory=list, description="Parameters at (or within tolerance of) a bound.")
    noise_relative: list[float] = Field(description="Estimated noise of each curve, fraction of its peak current.")
    residual_to_noise: float = Field(description="rms residual / rms estimated noise (about 1 for a good fit).")
    lag1_autocorrelation: float = Field(description="Lag-1 autocorrelation of the residuals, per curve, averaged.")
    runs_z: float = Field(description="Wald-Wolfowitz runs test z of the residual signs (very negative: structured).")
    runs_p: float = Field(description="Two-sided p-value of the runs test.")


def runs_test(r: np.ndarray) -> tuple[float, float]:
    """Wald–Wolfowitz runs test on the signs of ``r`` ([WW40]): ``(z, two-sided p)``; ``(0, 1)`` if undefined."""
    s = np.sign(np.asarray(r, dtype=float))
    s = s[s != 0]
    n_pos, n_neg = int(np.sum(s > 0)), int(np.sum(s < 0))
    n = n_pos + n_neg
    if n_pos == 0 or n_neg == 0 or n < 3:
        return 0.0, 1.0
    runs = 1 + int(np.sum(s[1:] != s[:-1]))
    mean = 2.0 * n_pos * n_neg / n + 1.0
    var = 2.0 * n_pos * n_neg * (2.0 * n_pos * n_neg - n) / (n * n * (n - 1.0))
    if var <= 0:
        return 0.0, 1.0
    z = (runs - mean) / math.sqrt(var)
    return float(z), float(2.0 * norm.sf(abs(z)))


def _unit_scaled(r: np.ndarray) -> np.ndarray:
    """``r`` divided by its largest magnitude (unchanged if all zero): sums of squares then cannot overflow."""
    top = float(np.max(np.abs(r))) if r.size else 0.0
    return r / top if top > 0 else r


def _rms(r: np.ndarray) -> float:
    """Root mean square of ``r`` without overflow for entries near 1e308 (BLAS nrm2 scales as it sums)."""
    r = np.asarray(r, dtype=float)
    return float(linalg.norm(r, check_finite=False)) / math.sqrt(r.size) if r.size else 0.0


def lag1_autocorrelation(r: np.ndarray) -> float:
    """Lag-1 autocorrelation of ``r`` about its mean (0 for a constant)."""
    r = _unit_scaled(np.asarray(r, dtype=float))  # scale-free, so scale first: no overflow in the sums
    r = r - np.mean(r)
    denom = float(r @ r)
    return float(r[1:] @ r[:-1]) / denom if denom > 0 else 0.0


def assess_fit(
    residuals: Sequence[np.ndarray],
    currents: Sequence[np.ndarray],
    scales: Sequence[float],
    names: Sequence[str],
    theta: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> FitQuality:
    """Quality checks of one fit (see the module notes).

    Parameters
    ----------
    residuals
        Per curve, (model − data)/scale at the fitted parameters (dimensionless).
    currents
        Per curve, the measured current, A.
    scales
        Per curve, the scale (peak |I|, A) the residuals were divided by.
    names, theta, lo, hi
        Fitted parameter names and their estimate and bounds on the transformed (log/logit/identity) scale.
    """
    reasons = []
    width = np.maximum(np.asarray(hi) - np.asarray(lo), 1e-12)
    near = np.minimum(np.abs(theta - lo), np.abs(hi - theta)) <= BOUND_TOLERANCE * width
    at_bounds = [n for n, flag in zip(names, near, strict=True) if flag]
    if at_bounds:
        reasons.append(
            f"{', '.join(at_bounds)} at the bound of the allowed range: the data want a value the model or the "
            "range does not allow (widen the bounds, or fit another model)"
        )
    noise = [
        max(noise_level(I) * float(np.ptp(np.asarray(I, dtype=float) / s)), NOISE_FLOOR)
        for I, s in zip(currents, scales, strict=True)
    ]
    sizes = np.array([r.size for r in residuals], dtype=float)
    rms_res = _rms(np.concatenate(list(residuals)))
    rms_noise = math.sqrt(float(np.sum(sizes * np.square(noise))) / sizes.sum())
    # an absurd model (residuals near 1e306 of the peak current) would overflow the ratio: cap it, it is poor anyway
    ratio = rms_res / rms_noise if rms_res < MAX_REPORTED_RATIO * rms_noise else MAX_REPORTED_RATIO
    if ratio > MAX_RESIDUAL_TO_NOISE:
        reasons.append(
            f"rms residual is {ratio:.1f}x the noise estimated from the data ({100 * rms_res:.2g} % vs "
            f"{100 * rms_noise:.2g} % of peak current): the model leaves signal unexplained"
        )
    lag1 = float(np.average([lag1_autocorrelation(r) for r in residuals], weights=sizes))
    z, p = runs_test(np.concatenate(list(residuals)))
    if p < RUNS_P and lag1 > MAX_LAG1:
        reasons.append(
            f"residuals are structured (runs test z = {z:.1f}, p = {p:.1g}; lag-1 autocorrelation {lag1:.2f}): "
            "a systematic misfit, not noise"
        )
    return FitQuality(
        poor_fit=bool(reasons), reasons=reasons, at_bounds=at_bounds, noise_relative=noise,
        residual_to_noise=ratio, lag1_autocorrelation=lag1, runs_z=z, runs_p=p,
    )  # fmt: skip
