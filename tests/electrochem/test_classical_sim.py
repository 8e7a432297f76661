"""Classical analyses applied to curves from labwright's simulator (fine grid, 0.5 mV steps).

Sources and expected values: Bard & Faulkner, Electrochemical Methods 2nd ed. (2001) §6.2.2 (reversible
i_p = 0.4463 nFAC(nFvD/RT)^½), §6.3.1 (irreversible 0.4958, α), §5.2.1 (Cottrell), §3.4.3 (Tafel); Nicholson,
Anal. Chem. 37 (1965) 1351 (ψ–ΔEp, switching 300 mV past E0 here, which shifts ΔEp by ≈ 1–2 mV vs the table).
"""

from __future__ import annotations

import numpy as np
import pytest
from labwright.tools.electrochem._analysis_tools import nicholson_k0, randles_sevcik, tafel_analysis
from labwright.tools.electrochem._classical import FARADAY, GAS_CONSTANT, cottrell_D, find_cv_peaks
from labwright.tools.electrochem._grid import GridSpec
from labwright.tools.electrochem._peaks import cv_peaks
from labwright.tools.electrochem._readers import Voltammogram
from labwright.tools.electrochem._simulate import ECParams, cv_current
from labwright.tools.electrochem._waveforms import cv_waveform, lsv_waveform, step_waveform

A, C, D = 7.07e-6, 1.0, 1.0e-9  # m^2, mol/m^3, m^2/s
F_RT = FARADAY / (GAS_CONSTANT * 298.15)
GRID = GridSpec(h0=5e-5, gamma=1.05)
RATES = (0.05, 0.1, 0.5)


def _cv(k0: float, v: float, alpha: float = 0.5, window: tuple[float, float] = (-0.3, 0.3)) -> Voltammogram:
    t, E = cv_waveform(window[0], window[1], v, dE=0.5e-3)
    p = ECParams(E0=0.0, k0=k0, alpha=alpha, D_O=D, D_R=D, area=A, c_bulk=C)
    I = np.asarray(cv_current(p, E, t[1] - t[0], grid=GRID))
    return Voltammogram(E=E.tolist(), I=I.tolist(), t=t.tolist(), scan_rate=v)


def test_randles_sevcik_on_simulated_reversible_cvs():
    cvs = [_cv(1.0, v) for v in RATES]
    out = randles_sevcik(voltammograms=cvs, area=A, concentration=C)
    assert out.D == pytest.approx(D, rel=5e-3)  # 0.5 %: grid + 0.5 mV sampling of the peak
    peaks = find_cv_peaks(cvs[1].E, cvs[1].I)
    assert peaks.delta_Ep * 1e3 == pytest.approx(58.5, abs=1.5)  # 57-59 mV for switching 300 mV past E0
    assert (peaks.Epa - 0.0) * 1e3 == pytest.approx(28.5, abs=1.0)  # Ep - E1/2 = +28.5 mV


def test_randles_sevcik_irreversible_regime():
    cvs = [_cv(1e-8, v, alpha=0.4, window=(-0.2, 0.7)) for v in RATES]  # totally irreversible at these rates
    # oxidation: the anodic coefficient is 1 - alpha = 0.6
    out = randles_sevcik(voltammograms=cvs, area=A, concentration=C, regime="irreversible", alpha=0.6)
    assert out.D == pytest.approx(D, rel=0.02)


@pytest.mark.parametrize(("k0", "tolerance"), [(3e-5, 0.05), (1e-4, 0.10)])
def test_nicholson_on_simulated_quasi_reversible_cvs(k0, tolerance):
    # psi = k0 / sqrt(pi D F v / RT) = 0.27 and 0.90 at 0.1 V/s; 1 mV in dEp is ~5 % in k0 near psi = 1
    out = nicholson_k0(voltammograms=[_cv(k0, 0.1)], D=D)
    assert out.regimes == ["table"]
    assert out.k0 == pytest.approx(k0, rel=tolerance)


def test_tafel_on_a_simulated_irreversible_lsv():
    t, E = lsv_waveform(-0.2, 0.6, 0.01, dE=0.5e-3)
    p = ECParams(E0=0.0, k0=1e-8, alpha=0.4, D_O=D, D_R=D, area=A, c_bulk=C)
    I = np.asarray(cv_current(p, E, t[1] - t[0], grid=GRID))
    # the foot of the wave (|i| < 20 % of the peak) is kinetically controlled: alpha within 5 %, k0 within 5 %
    out = tafel_analysis(E=E.tolist(), I=I.tolist(), E_eq=0.0, area=A, concentration=C, forward_sweep_only=False)
    assert out.auto_selected and out.alpha == pytest.approx(0.4, rel=0.05)
    assert out.k0 == pytest.approx(1e-8, rel=0.05)
    chosen = tafel_analysis(
        E=E.tolist(), I=I.tolist(), E_eq=0.0, eta_min=0.05, eta_max=0.1, forward_sweep_only=False
    )  # fmt: skip
    assert chosen.eta_window == (0.05, 0.1) and chosen.alpha == pytest.approx(0.4, rel=0.02)


def test_cottrell_on_a_simulated_potential_step():
    t, E = step_waveform(0.5, 2.0, 1e-3, E_initial=-0.3)
    p = ECParams(E0=0.0, k0=1.0, D_O=D, D_R=D, area=A, c_bulk=C)
    I = np.asarray(cv_current(p, E, t[1] - t[0], grid=GRID))
    res = cottrell_D(t[1:], I[1:], area=A, concentration=C)
    assert res.D == pytest.approx(D, rel=0.01)  # issue 4: Cottrell within 1 %


def test_peaks_hold_on_a_jittery_noisy_sloped_cv():
    # What a potentiostat records: the cell follows the programmed triangle, but the measured potential jitters by
    # ~1 mV (rms 0.6 mV, reversing the measured direction every few samples), the current carries 1 % noise, and
    # the double layer adds a capacitive step (20 uF/cm^2 x v) on a resistive slope. Tolerances: peak heights within
    # 3 % and potentials within 3 mV of the clean curve's; cv_peaks and find_cv_peaks agree within 1 % / 1 mV.
    rng = np.random.default_rng(11)
    clean = _cv(1.0, 0.1)
    E0, I0 = np.asarray(clean.E), np.asarray(clean.I)
    program_dir = np.sign(np.gradient(E0))
    E = E0 + 0.6e-3 * rng.standard_normal(E0.size)
    capacitive = 0.2 * A * 0.1 * program_dir + 2e-6 * E0  # C_dl * area * v (F/m^2 * m^2 * V/s) + 2 uA/V
    I = I0 + capacitive + 0.01 * np.ptp(I0) * rng.standard_normal(I0.size)
    reversals = int(np.sum(np.diff(np.sign(np.diff(E))) != 0))
    assert reversals > 100  # the measured potential turns back many times
    ref = find_cv_peaks(E0, I0)
    got = find_cv_peaks(E, I, baseline="linear")  # the capacitive background removed from the forward peak
    assert got.Epa == pytest.approx(ref.Epa, abs=3e-3) and got.Epc == pytest.approx(ref.Epc, abs=3e-3)
    assert got.forward_current == pytest.approx(ref.forward_current, rel=0.03)
    assert np.isfinite(got.E_half) and got.E_half == pytest.approx(ref.E_half, abs=3e-3)
    both = find_cv_peaks(E, I)  # same baseline (zero) as cv_peaks
    fast = cv_peaks(E, I)
    assert fast.anodic.i_p == pytest.approx(both.ipa, rel=0.01) and fast.anodic.E_p == pytest.approx(both.Epa, abs=1e-3)
    assert fast.cathodic.i_p == pytest.approx(both.ipc, rel=0.01)
    assert np.isfinite(fast.E_half) and fast.E_half == pytest.approx(both.E_half, abs=1e-3)


def test_peaks_of_real_cvs_are_finite():
    # REAL measured CVs (examples/data/diffec, DiffEC, MIT): E_half must be a number on every file, and both peak
    # finders must agree. RuHex and Fe3+ are reduced first (cathodic forward peak).
    from pathlib import Path

    from labwright.tools.electrochem._readers import read_voltammogram_file

    for f in sorted((Path(__file__).resolve().parents[2] / "examples" / "data" / "diffec").glob("*.csv")):
        v = read_voltammogram_file(f)
        p, q = find_cv_peaks(v.E, v.I), cv_peaks(v.E, v.I)
        assert p.first_sweep == "cathodic" and np.isfinite(p.E_half), f.name
        assert q.E_half == pytest.approx(p.E_half, abs=1e-4) and q.cathodic.i_p == pytest.approx(p.ipc, rel=1e-6)
