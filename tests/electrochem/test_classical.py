"""Classical analyses against their analytic expressions.

Sources: Bard & Faulkner, Electrochemical Methods 2nd ed. (2001): Randles–Ševčík §6.2.2 (0.4463) and §6.3.1
(0.4958), Cottrell §5.2.1, Butler–Volmer/Tafel §3.3–3.4; Nicholson, Anal. Chem. 37 (1965) 1351, Table I;
Lavagnini et al., Electroanalysis 16 (2004) 505; Klingler & Kochi, J. Phys. Chem. 85 (1981) 1731.
"""

from __future__ import annotations

import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem._analysis_tools import cottrell_analysis, nicholson_k0, randles_sevcik, tafel_analysis
from labwright.tools.electrochem._classical import (
    FARADAY,
    GAS_CONSTANT,
    NICHOLSON_TABLE,
    cottrell_current,
    cottrell_D,
    find_cv_peaks,
    nicholson_k0_values,
    nicholson_psi,
    randles_sevcik_D,
    randles_sevcik_peak_current,
    tafel_fit,
)

T = 298.15
F_RT = FARADAY / (GAS_CONSTANT * T)
AREA, CONC, D = 7.07e-6, 1.0, 1.0e-9  # m^2 (3 mm disc), mol/m^3 (1 mM), m^2/s
RATES = np.array([0.05, 0.1, 0.2, 0.5])


def test_randles_sevcik_inverts_its_equation():
    # exact data: D recovered to 1e-10 relative
    ip = [randles_sevcik_peak_current(v, D, area=AREA, concentration=CONC) for v in RATES]
    assert ip[1] == pytest.approx(0.4463 * FARADAY * AREA * CONC * np.sqrt(F_RT * 0.1 * D))
    res = randles_sevcik_D(RATES, ip, area=AREA, concentration=CONC)
    assert res.D == pytest.approx(D, rel=1e-10)
    assert res.fit.r2 == pytest.approx(1.0) and not res.warnings


def test_randles_sevcik_irreversible_and_noise():
    rng = np.random.default_rng(0)
    ip = np.array(
        [
            randles_sevcik_peak_current(v, D, area=AREA, concentration=CONC, regime="irreversible", alpha=0.4)
            for v in RATES
        ]
    )
    noisy = ip * (1 + 0.01 * rng.standard_normal(ip.size))  # 1 % noise -> D within 3 sigma
    res = randles_sevcik_D(RATES, noisy, area=AREA, concentration=CONC, regime="irreversible", alpha=0.4)
    assert abs(res.D - D) < 3 * res.D_stderr + 1e-12
    assert res.D == pytest.approx(D, rel=0.05)


def test_randles_sevcik_rejects_bad_input():
    with pytest.raises(InvalidInput, match="area"):
        randles_sevcik_D(RATES, RATES, area=-1.0, concentration=CONC)
    with pytest.raises(InvalidInput, match="scan_rates"):
        randles_sevcik_D([0.1, 0.0], [1e-6, 1e-6], area=AREA, concentration=CONC)
    with pytest.raises(InvalidInput, match="peak_currents"):
        randles_sevcik_D(RATES, [1e-6, np.nan, 1e-6, 1e-6], area=AREA, concentration=CONC)


@pytest.mark.parametrize(("psi", "dEp_mV"), NICHOLSON_TABLE[1:])
def test_nicholson_table_rows_round_trip(psi, dEp_mV):
    got, regime = nicholson_psi(dEp_mV * 1e-3)
    assert regime == "table" and got == pytest.approx(psi, rel=1e-9)


def test_lavagnini_fit_tracks_the_table():
    # Lavagnini's fit reproduces Nicholson's rows within 15 % for 0.25 <= psi <= 5 (63-141 mV; at 212 mV, beyond the
    # ~200 mV range the authors state, it gives 0.07 instead of 0.1)
    for psi, dEp in NICHOLSON_TABLE[3:-1]:
        got, regime = nicholson_psi(dEp * 1e-3, method="lavagnini")
        assert regime == "lavagnini" and got == pytest.approx(psi, rel=0.15)


def test_nicholson_k0_round_trip_and_limits():
    # choose k0 so that psi = 1 at 0.1 V/s -> dEp = 84 mV; the same k0 gives psi = 0.5 (105 mV) at 0.4 V/s
    k0 = 1.0 * np.sqrt(np.pi * D * F_RT * 0.1)
    res = nicholson_k0_values([0.1, 0.4], [0.084, 0.105], D_O=D)
    assert res.k0_values[0] == pytest.approx(k0, rel=1e-9)
    assert res.k0_values[1] == pytest.approx(k0, rel=1e-9)
    assert res.k0 == pytest.approx(k0, rel=1e-9)
    # reversible limit: only a lower bound
    rev = nicholson_k0_values([0.1], [0.059], D_O=D)
    assert np.isnan(rev.k0) and any("lower bound" in w for w in rev.warnings)
    # beyond 212 mV: Klingler–Kochi, k0 = 2.18 (alpha D F v/RT)^1/2 exp(-alpha^2 F dEp/RT)
    kk = nicholson_k0_values([1.0], [0.3], D_O=D, alpha=0.5)
    expected = 2.18 * np.sqrt(0.5 * D * F_RT * 1.0) * np.exp(-0.25 * F_RT * 0.3)
    assert kk.regimes == ["irreversible"] and kk.k0 == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InvalidInput, match="D_O"):
        nicholson_k0_values([0.1], [0.08], D_O=-1.0)


def _bv(eta, i0, alpha):
    return i0 * (np.exp((1 - alpha) * F_RT * eta) - np.exp(-alpha * F_RT * eta))


def test_tafel_recovers_alpha_and_i0_from_butler_volmer():
    eta = np.linspace(-0.35, 0.35, 281)
    i0, alpha = 2e-7, 0.4
    I = _bv(eta, i0, alpha)
    # window 120-300 mV: back reaction < 1 %, so alpha within 0.5 % and i0 within 2 %
    res = tafel_fit(eta + 0.2, I, E_eq=0.2, branch="anodic", eta_window=(0.12, 0.3))
    assert res.alpha == pytest.approx(alpha, rel=5e-3)
    assert res.i0 == pytest.approx(i0, rel=2e-2)
    assert res.slope == pytest.approx(np.log(10) / ((1 - alpha) * F_RT), rel=5e-3)
    cat = tafel_fit(eta, I, E_eq=0.0, branch="cathodic", eta_window=(0.12, 0.3))
    assert cat.alpha == pytest.approx(alpha, rel=5e-3) and cat.slope < 0
    auto = tafel_fit(eta, I, E_eq=0.0, branch="anodic")
    assert auto.auto_selected and auto.eta_window[0] >= 0.04
    assert auto.alpha == pytest.approx(alpha, rel=2e-2)


def test_tafel_mass_transport_correction():
    eta = np.linspace(0.0, 0.4, 161)
    i0, alpha, iL = 1e-7, 0.5, 5e-6
    ik = _bv(eta, i0, alpha)
    I = ik * iL / (ik + iL)  # 1/i = 1/i_k + 1/i_L (Koutecky-Levich form)
    res = tafel_fit(eta, I, E_eq=0.0, eta_window=(0.12, 0.35), limiting_current=iL)
    assert res.alpha == pytest.approx(alpha, rel=5e-3) and res.i0 == pytest.approx(i0, rel=2e-2)
    with pytest.raises(InvalidInput, match="eta_window"):
        tafel_fit(eta, I, E_eq=0.0, eta_window=(0.5, 0.6))


def test_cottrell_exact_and_noisy():
    t = np.linspace(0.01, 2.0, 200)
    I = cottrell_current(t, D, area=AREA, concentration=CONC)
    assert cottrell_D(t, I, area=AREA, concentration=CONC).D == pytest.approx(D, rel=1e-10)
    rng = np.random.default_rng(1)
    noisy = I * (1 + 0.01 * rng.standard_normal(t.size))
    res = cottrell_D(t, noisy, area=AREA, concentration=CONC)
    assert abs(res.D - D) < 3 * res.D_stderr and res.D == pytest.approx(D, rel=0.01)


def test_find_cv_peaks_orientation():
    up, down = np.linspace(0, 0.5, 51), np.linspace(0.5, 0, 51)[1:]
    E = np.concatenate([up, down])
    I = np.concatenate([np.exp(-(((up - 0.28) / 0.03) ** 2)), -np.exp(-(((down - 0.22) / 0.03) ** 2))])
    p = find_cv_peaks(E, I)
    assert p.first_sweep == "anodic" and p.Epa == pytest.approx(0.28) and p.Epc == pytest.approx(0.22)
    assert p.delta_Ep == pytest.approx(0.06)
    q = find_cv_peaks(-E, -I)
    assert q.first_sweep == "cathodic" and q.Epc == pytest.approx(-0.28) and q.Epa == pytest.approx(-0.22)
    with pytest.raises(InvalidInput, match="switching"):
        find_cv_peaks(E[:51], I[:51])


def test_tools_validate_and_run():
    ip = [randles_sevcik_peak_current(v, D, area=AREA, concentration=CONC) for v in RATES]
    out = randles_sevcik(scan_rates=list(RATES), peak_currents=ip, area=AREA, concentration=CONC)
    assert out.D == pytest.approx(D, rel=1e-9)
    with pytest.raises(InvalidInput, match="'concentration'"):
        randles_sevcik(scan_rates=list(RATES), peak_currents=ip, area=AREA, concentration=-1)
    with pytest.raises(InvalidInput, match="peak_currents"):
        randles_sevcik(scan_rates=list(RATES), area=AREA, concentration=CONC)
    k = nicholson_k0(scan_rates=[0.1], peak_separations=[0.084], D=D)
    assert k.k0 == pytest.approx(np.sqrt(np.pi * D * F_RT * 0.1), rel=1e-9)
    t = np.linspace(0.01, 1.0, 50)
    c = cottrell_analysis(
        t=list(t), I=list(cottrell_current(t, D, area=AREA, concentration=CONC)), area=AREA, concentration=CONC
    )
    assert c.D == pytest.approx(D, rel=1e-9)
    eta = np.linspace(-0.3, 0.3, 121)
    ta = tafel_analysis(
        E=list(eta),
        I=list(_bv(eta, 1e-7, 0.5)),
        E_eq=0.0,
        eta_min=0.12,
        eta_max=0.3,
        forward_sweep_only=False,
        area=AREA,
        concentration=CONC,
    )
    assert ta.alpha == pytest.approx(0.5, rel=5e-3)
    assert ta.k0 == pytest.approx(1e-7 / (FARADAY * AREA * CONC), rel=2e-2)
    with pytest.raises(InvalidInput, match="eta_max"):
        tafel_analysis(E=list(eta), I=list(eta), E_eq=0.0, eta_min=0.1)


def test_tools_write_plots_when_asked(tmp_path):
    ip = [randles_sevcik_peak_current(v, D, area=AREA, concentration=CONC) for v in RATES]
    rs = randles_sevcik(scan_rates=list(RATES), peak_currents=ip, area=AREA, concentration=CONC, plot_dir=str(tmp_path))
    assert rs.plots == [str(tmp_path / "randles_sevcik.png")]
    t = np.linspace(0.01, 1.0, 50)
    I = cottrell_current(t, D, area=AREA, concentration=CONC)
    c = cottrell_analysis(t=list(t), I=list(I), area=AREA, concentration=CONC, plot_dir=str(tmp_path / "ca"))
    assert c.plots == [str(tmp_path / "ca" / "cottrell.png")]
    eta = np.linspace(-0.3, 0.3, 121)
    ta = tafel_analysis(
        E=list(eta), I=list(_bv(eta, 1e-7, 0.5)), E_eq=0.0, forward_sweep_only=False, plot_dir=str(tmp_path)
    )
    assert ta.plots == [str(tmp_path / "tafel.png")]
    for png in (*rs.plots, *c.plots, *ta.plots):
        assert open(png, "rb").read(4) == b"\x89PNG"
    # no folder, no files
    assert randles_sevcik(scan_rates=list(RATES), peak_currents=ip, area=AREA, concentration=CONC).plots == []
