"""CV fitting on noisy synthetic data made by the simulator (finer time step and grid than the fit uses).

Issue 4 "Done when": 3 scan rates, 1 % noise -> k0, alpha and D within 5 % with uncertainties that cover the truth
(here: |estimate - truth| <= 3 sigma); the gradient fit reaches a much lower parameter error than Nelder-Mead at the
same number of simulator calls (target 10x, asserted at >= 3x); AIC/BIC pick the generating mechanism (E vs EC);
optax L-BFGS (method="lbfgs") reaches LM's optimum.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from labwright.errors import InvalidInput
from labwright.tools.electrochem._fit import compare_cv_models, fit_cv, prepare_curves, simulate_fit
from labwright.tools.electrochem._fit_tools import compare_cv_models_tool, fit_cv_tool
from labwright.tools.electrochem._grid import GridSpec
from labwright.tools.electrochem._readers import Voltammogram, VoltammogramMetadata, read_voltammogram_file
from labwright.tools.electrochem._simulate import ECParams, cv_current
from labwright.tools.electrochem._waveforms import cv_waveform

TRUE = {"E0": 0.40, "k0": 1.5e-4, "alpha": 0.45, "D": 2.3e-9}
FIXED = {"area": 7.07e-6, "c_bulk": 1.0, "T": 298.15, "n": 1}
RATES = (0.05, 0.2, 0.5)  # V/s
FINE = GridSpec(h0=1e-4, gamma=1.08)


def _synthetic(mechanism: str = "E", k_chem: float = 0.0, seed: int = 7) -> list[Voltammogram]:
    """CVs simulated at 1 mV steps on a fine grid, kept every 4 mV, with 1 % (of peak) Gaussian noise."""
    rng = np.random.default_rng(seed)
    p = ECParams(
        E0=TRUE["E0"], k0=TRUE["k0"], alpha=TRUE["alpha"], D_O=TRUE["D"], D_R=TRUE["D"], k_chem=k_chem, **FIXED
    )
    out = []
    for v in RATES:
        t, E = cv_waveform(0.0, 0.8, v, dE=1e-3)
        I = np.asarray(cv_current(p, E, t[1] - t[0], mechanism=mechanism, grid=FINE))[::4]
        I = I + 0.01 * np.abs(I).max() * rng.standard_normal(I.size)
        meta = VoltammogramMetadata(format="synthetic")
        out.append(Voltammogram(E=E[::4].tolist(), I=I.tolist(), t=t[::4].tolist(), scan_rate=v, metadata=meta))
    return out


@pytest.fixture(scope="module")
def e_data() -> list[Voltammogram]:
    return _synthetic()


def _max_rel_error(result) -> float:
    return max(abs(result.parameters[k].value - TRUE[k]) / TRUE[k] for k in ("k0", "alpha", "D"))


def test_gradient_fit_recovers_k0_alpha_D_with_covering_uncertainties(e_data, tmp_path):
    res = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, plot_dir=tmp_path)
    assert res.converged, res.message
    for name in ("k0", "alpha", "D", "E0"):
        est = res.parameters[name]
        if name != "E0":  # tolerance of the issue: 5 %
            assert est.value == pytest.approx(TRUE[name], rel=0.05), name
        assert abs(est.value - TRUE[name]) <= 3 * est.stderr, (name, est)  # the 3-sigma interval covers the truth
    assert res.rmse_relative == pytest.approx(0.01, rel=0.2)  # residuals at the noise level (1 % of peak)
    assert res.sim_calls < 400 and not res.warnings
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cv_fit.png", "cv_residuals.png"]
    # the fitted model re-simulated for reports leaves the same residuals
    sims = simulate_fit(res, e_data)
    resid = np.concatenate([(np.asarray(v.I) - s) / np.abs(v.I).max() for v, s in zip(e_data, sims)])
    assert np.sqrt(np.mean(resid**2)) == pytest.approx(res.rmse_relative, rel=0.01)
    assert (tmp_path / "cv_fit.png").read_bytes()[:4] == b"\x89PNG"


def test_gradient_beats_nelder_mead_at_equal_simulator_calls(e_data):
    grad = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED)
    budget = grad.sim_calls
    nm = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, method="nelder-mead", max_sim_calls=budget)
    # same budget; Nelder-Mead's total adds the final residual with its covariance Jacobian, 3 curves x (1 + 4 params)
    # (Levenberg-Marquardt reuses the residual and Jacobian it already has)
    assert grad.sim_calls <= nm.sim_calls <= grad.sim_calls + len(RATES) * 5
    # target 10x (ANCHORS "Current targets"); asserted loosely at 3x
    assert _max_rel_error(nm) >= 3 * _max_rel_error(grad)


@pytest.mark.slow  # compiles the EC model and its Jacobian (~20-40 s)
def test_aic_bic_pick_the_generating_mechanism(e_data):
    cands = [
        {"mechanism": "E", "params_to_fit": ["k0", "alpha", "D", "E0"]},
        {"mechanism": "EC", "params_to_fit": ["k0", "alpha", "D", "E0", "k_chem"]},
    ]
    on_e = compare_cv_models(e_data, cands, fixed=FIXED, bounds={"k_chem": (1e-3, 100.0)})
    assert on_e.best_bic == "E/bv"
    ec_data = _synthetic("EC", k_chem=0.5, seed=11)
    on_ec = compare_cv_models(ec_data, cands, fixed=FIXED, bounds={"k_chem": (1e-3, 100.0)})
    assert on_ec.best_aic == "EC/bv" and on_ec.best_bic == "EC/bv"
    assert on_ec.akaike_weights[1] > 0.99
    k_chem = on_ec.fits[1].parameters["k_chem"]
    assert k_chem.value == pytest.approx(0.5, rel=0.2)


def test_lbfgs_reaches_the_levenberg_marquardt_optimum(e_data):
    # optax L-BFGS with reverse-mode gradients on the same weighted least squares: same 5 % of the issue on the noisy
    # 3-rate data, and the same optimum as LM to within a tenth of LM's standard error (both stop once chi-square
    # changes by < 0.01, i.e. the estimates move by <~ 0.1 sigma)
    lm = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED)
    res = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, method="lbfgs")
    assert res.converged and res.method == "lbfgs", res.message
    for name in ("k0", "alpha", "D"):
        assert res.parameters[name].value == pytest.approx(TRUE[name], rel=0.05), name
    for name in ("k0", "alpha", "D", "E0"):
        est, ref = res.parameters[name], lm.parameters[name]
        assert abs(est.value - ref.value) < 0.1 * ref.stderr, (name, est, ref)
        assert est.stderr == pytest.approx(ref.stderr, rel=0.01)  # Gauss-Newton covariance at (nearly) one point
    assert res.rss == pytest.approx(lm.rss, rel=1e-3)
    # honest accounting: each value-and-gradient is 3 calls per curve, plus 3 x (1 + 4) for the covariance Jacobian;
    # L-BFGS learns the curvature LM gets from J^T J, so it needs more calls (why LM is the default)
    assert res.sim_calls % 3 == 0 and res.sim_calls > lm.sim_calls


def test_a_second_fit_of_same_shaped_data_compiles_nothing(e_data):
    # the fit's programs depend on the data's shapes and settings only, not on the values or the fitted names: a
    # second fit (other noise, other parameter set of the same size) must reuse them (jax.monitoring counts every
    # XLA compilation or cache load)
    import jax.monitoring

    fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, max_iterations=2)
    compiled = []

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiled.append(kwargs.get("fun_name", event))

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        other = _synthetic(seed=11)
        fit_cv(other, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, max_iterations=2)
        fit_cv(other, "E", ["k0", "alpha", "E0", "D"], fixed=FIXED, initial={"k0": 3e-4}, max_iterations=2)
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert compiled == []


def test_identifiability_warning_for_confounded_parameters(e_data):
    # area and concentration enter only as their product: the covariance is singular
    fixed = {k: v for k, v in FIXED.items() if k not in ("area", "c_bulk")}
    res = fit_cv(
        e_data, "E", ["k0", "D", "area", "c_bulk"], fixed=fixed | {"alpha": 0.45, "E0": 0.4},
        initial={"area": 5e-6, "c_bulk": 1.3}, max_iterations=3,
    )  # fmt: skip
    assert any("singular" in w or "correlated" in w for w in res.warnings), res.warnings


def test_bad_requests_name_the_field(e_data):
    with pytest.raises(InvalidInput, match="params_to_fit"):
        fit_cv(e_data, "E", ["k0", "kappa"], fixed=FIXED)
    with pytest.raises(InvalidInput, match="params_to_fit"):
        fit_cv(e_data, "E", ["D", "D_O"], fixed=FIXED)
    with pytest.raises(InvalidInput, match="bounds.k0"):
        fit_cv(e_data, "E", ["k0"], fixed=FIXED, bounds={"k0": (1.0, 0.1)})
    with pytest.raises(InvalidInput, match="method"):
        fit_cv(e_data, "E", ["k0"], fixed=FIXED, method="newton")
    with pytest.raises(InvalidInput, match="area"):
        fit_cv(e_data, "E", ["k0"], fixed=FIXED | {"area": -1.0})
    with pytest.raises(InvalidInput, match="fixed must give c_bulk"):
        fit_cv_tool(voltammograms=e_data, fixed={"area": 1e-6})
    with pytest.raises(InvalidInput, match="voltammograms"):
        fit_cv_tool(fixed=FIXED)
    one = e_data[0].model_copy(update={"t": None, "scan_rate": None})
    with pytest.raises(InvalidInput, match="scan_rate"):
        prepare_curves([one])


def test_fit_tool_cost_estimate_grows_with_the_work(e_data):
    from labwright.tools.registry import get_tool

    spec = get_tool("fit_cv")
    assert spec.side_effect == "none"
    small = spec.estimate_cost({"voltammograms": [v.model_dump() for v in e_data], "fixed": FIXED})
    big = spec.estimate_cost(
        {"voltammograms": [v.model_dump() for v in e_data], "fixed": FIXED, "method": "differential-evolution",
         "max_sim_calls": 200_000}
    )  # fmt: skip
    assert 0 < small.seconds < big.seconds and big.sim_calls == 200_000
    assert big.seconds > 60  # long enough for the default approval rule to ask a human
    # the tool takes method="lbfgs"; its estimate allows ~2 value-and-gradients (3 calls each) per iteration
    lbfgs = spec.estimate_cost({"voltammograms": [v.model_dump() for v in e_data], "fixed": FIXED, "method": "lbfgs"})
    assert lbfgs.sim_calls == 50 * 3 * 2 * 3 + 3 * 5 and lbfgs.seconds > small.seconds


def test_differential_evolution_respects_its_budget(e_data):
    res = fit_cv(
        e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, method="differential-evolution", max_sim_calls=90
    )
    # budget + the final residual with its covariance Jacobian (3 curves x (1 + 4 params))
    assert res.method == "differential-evolution" and res.sim_calls <= 90 + 15
    assert not res.converged and any("stopped before converging" in w for w in res.warnings)


def test_fit_tool_on_the_example_files(tmp_path):
    # examples/data/redox_kinetics: SYNTHETIC, 4 scan rates, 1 % noise, truth in truth.json (made by make_data.py)
    import json
    from pathlib import Path

    folder = Path(__file__).parents[2] / "examples" / "data" / "redox_kinetics"
    truth = json.loads((folder / "truth.json").read_text())["parameters_SI"]
    # three of the four rates, thinned to 4 mV: the data shapes of e_data, so the compiled model is reused (fast)
    paths = [str(folder / f"cv_{v:g}Vps.csv") for v in RATES]
    fixed = {k: truth[k] for k in ("area", "c_bulk", "T", "n")}
    out = fit_cv_tool(paths=paths, fixed=fixed, max_points=401, plot_dir=str(tmp_path / "plots"))
    assert out.converged and out.scan_rates == pytest.approx(list(RATES)) and len(out.plots) == 2
    for name in ("k0", "alpha", "D"):
        est = out.parameters[name]
        assert est.value == pytest.approx(truth[name], rel=0.05)
        assert abs(est.value - truth[name]) <= 3 * est.stderr


def test_compare_tool_plumbing_with_a_small_budget(e_data, tmp_path):
    # two candidates with a tiny Nelder-Mead budget: checks arguments, labels and one plot folder per candidate
    # (D tied vs D_O alone with D_R fixed: both fit 4 parameters, so the compiled model of e_data is reused)
    out = compare_cv_models_tool(
        voltammograms=e_data, fixed=FIXED | {"D_R": TRUE["D"]}, method="nelder-mead", max_sim_calls=15,
        plot_dir=str(tmp_path),
        candidates=[{"params_to_fit": ["k0", "alpha", "D", "E0"]}, {"params_to_fit": ["k0", "alpha", "D_O", "E0"]}],
    )  # fmt: skip
    assert out.labels == ["E/bv #1", "E/bv #2"] and len(out.fits) == 2
    assert sum(out.akaike_weights) == pytest.approx(1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["E_bv__1", "E_bv__2"]


def test_cost_estimate_scales_with_grid_steps_and_iterations():
    from labwright.tools.electrochem._fit import COMPILE_SECONDS, estimate_fit_seconds

    def work(**kw) -> float:  # seconds beyond the fixed compilation allowance
        opts = {"method": "gradient", "max_iterations": 10, "max_sim_calls": None} | kw
        return estimate_fit_seconds(3, opts.pop("n_points", 400), 4, **opts)[0] - COMPILE_SECONDS

    fine = GridSpec(gamma=1.06)  # about twice the default grid's nodes
    ratio_nodes = fine.n_nodes / GridSpec().n_nodes
    assert work(grid=fine) == pytest.approx(ratio_nodes * work())
    assert work(n_points=800) == pytest.approx(2 * work())
    assert work(max_iterations=20) == pytest.approx(2 * work())
    seconds, calls = estimate_fit_seconds(3, 400, 4, method="nelder-mead", max_iterations=10, max_sim_calls=None)
    assert calls == 200 * 4 * 3 and seconds > COMPILE_SECONDS


def test_classical_analyses_give_the_first_guesses(e_data):
    # Randles-Sevcik (reversible coefficient) for D, Nicholson psi(dEp) for k0, (Epa + Epc)/2 for E0: rough but in
    # the basin of the fit (tolerances: quasi-reversible peaks make RS underestimate D by ~10-20 %)
    from labwright.tools.electrochem._fit import initial_guesses

    guess = initial_guesses(prepare_curves(e_data), ECParams(**FIXED))
    assert guess["D"] == pytest.approx(TRUE["D"], rel=0.3)
    assert 0.5 < guess["k0"] / TRUE["k0"] < 2.0
    assert guess["E0"] == pytest.approx(TRUE["E0"], abs=0.01) and guess["alpha"] == 0.5


def test_gradient_fit_from_a_far_start_reaches_the_same_optimum(e_data):
    near = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED)
    far = {"k0": TRUE["k0"] * 5, "alpha": 0.62, "D": TRUE["D"] * 0.7, "E0": TRUE["E0"] + 0.02}
    res = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, initial=far)
    assert res.converged and res.parameters["k0"].initial == pytest.approx(far["k0"])
    for name in ("k0", "alpha", "D"):  # same least-squares optimum to well within its standard error
        assert abs(res.parameters[name].value - near.parameters[name].value) < 0.1 * near.parameters[name].stderr


@pytest.mark.slow  # compiles the per-curve (non-vmapped) model: ~20-40 s
def test_curves_with_different_programs_are_fitted_jointly():
    # real data rarely share one potential program: different windows and lengths take the per-curve path
    rng = np.random.default_rng(3)
    p = ECParams(E0=TRUE["E0"], k0=TRUE["k0"], alpha=TRUE["alpha"], D_O=TRUE["D"], D_R=TRUE["D"], **FIXED)
    data = []
    for v, top in ((0.05, 0.8), (0.5, 0.9)):
        t, E = cv_waveform(0.0, top, v, dE=1e-3)
        I = np.asarray(cv_current(p, E, t[1] - t[0], grid=FINE))[::4]
        I = I + 0.01 * np.abs(I).max() * rng.standard_normal(I.size)
        meta = VoltammogramMetadata(format="synthetic")
        data.append(Voltammogram(E=E[::4].tolist(), I=I.tolist(), t=t[::4].tolist(), scan_rate=v, metadata=meta))
    res = fit_cv(data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED)
    assert res.converged and res.n_points == len(data[0].E) + len(data[1].E)
    for name in ("k0", "alpha", "D"):  # two rates only: 3 sigma coverage and 10 %
        est = res.parameters[name]
        assert est.value == pytest.approx(TRUE[name], rel=0.1) and abs(est.value - TRUE[name]) <= 3 * est.stderr


# ------------------------------------------------------------------------------------------- real data ----

DIFFEC = Path(__file__).resolve().parents[2] / "examples" / "data" / "diffec"


def test_ruhex_D_agrees_with_diffecs_published_fit_within_3_percent():
    # REAL measured CVs (0.96 mM RuHex on a 1.5 mm radius glassy-carbon disk, 25-200 mV/s) shipped from
    # BattModels/DiffEC (MIT). DiffEC fits them with a Nernstian planar model (D_O = D_R, E0 free) and reports
    # dA = 0.8627 (x D_ref 1e-9 m^2/s) = 8.63e-10 m^2/s, theta_corr = -0.2936 -> E0 = -0.1775 V vs SCE
    # (history_folder/DiffECDict_1.json). Tolerance of issue 13: D within 3 %; E0 within 2 mV.
    published = json.loads((DIFFEC / "ruhex_diffec_fit.json").read_text())["parameters_SI"]
    files = sorted(DIFFEC.glob("ruhex_*mVps.csv"))
    data = [read_voltammogram_file(f) for f in files]
    assert sorted(v.scan_rate for v in data) == [0.025, 0.05, 0.1, 0.2]  # from each file's header, V/s
    fixed = {"area": math.pi * 1.5e-3**2, "c_bulk": 0.96, "T": 298.0}  # DiffEC's ConvertToDimensionless.py
    res = fit_cv(data, params_to_fit=["D", "E0"], kinetics="nernst", fixed=fixed, max_points=200)
    assert res.converged, res.message
    assert res.parameters["D"].value == pytest.approx(published["D"], rel=0.03)
    assert res.parameters["E0"].value == pytest.approx(published["E0"], abs=2e-3)


# ------------------------------------------------------------------------------------------- fit quality ----


def test_a_good_fit_is_not_flagged_and_its_noise_is_estimated_from_the_data(e_data):
    res = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED)
    q = res.quality
    assert not q.poor_fit and q.reasons == [] and q.at_bounds == []
    assert not res.poor_fit and res.fit_verdict.startswith("good fit")
    # the data carry 1 % (of peak) white noise; the estimate comes from the data alone (tolerance 20 %)
    assert all(n == pytest.approx(0.01, rel=0.2) for n in q.noise_relative)
    assert q.residual_to_noise == pytest.approx(1.0, abs=0.3)
    assert abs(q.lag1_autocorrelation) < 0.2 and q.runs_p > 1e-3


def test_a_wrong_mechanism_is_flagged_as_a_poor_fit():
    # EC data (k_chem = 5 /s) fitted with the plain E mechanism: the optimiser "converges", the residuals do not
    # look like noise
    ec = _synthetic("EC", k_chem=5.0)
    res = fit_cv(ec, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED)
    assert res.quality.poor_fit
    assert any("structured" in r for r in res.quality.reasons) and res.quality.runs_z < -5
    assert any(w.startswith("poor fit:") for w in res.warnings)
    assert res.poor_fit and res.fit_verdict.startswith("POOR FIT: structured residuals")


def test_a_parameter_pinned_at_its_bound_is_flagged(e_data):
    res = fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED, bounds={"alpha": (0.6, 0.95)})  # truth 0.45
    assert res.quality.poor_fit and res.quality.at_bounds == ["alpha"] and res.parameters["alpha"].at_bound
    assert any("alpha at the bound" in r for r in res.quality.reasons)
    assert res.fit_verdict.startswith("POOR FIT: alpha at bound")


def test_unevenly_timed_samples_are_resampled_and_the_fit_says_so(e_data):
    # Every 7th sample dropped (as when an instrument misses readings): times are no longer uniform. The fit
    # resamples onto uniform steps instead of refusing, records it, and still recovers the truth (5 %, issue 4).
    gappy = []
    for v in e_data:
        keep = [i for i in range(len(v.E)) if i % 7 != 3]
        gappy.append(v.model_copy(update={k: [getattr(v, k)[i] for i in keep] for k in ("E", "I", "t")}))
    res = fit_cv(gappy, "E", ["k0", "alpha", "D", "E0"], fixed=FIXED)
    assert len(res.preprocessing) == 3 and all("resampled onto" in n for n in res.preprocessing)
    for name in ("k0", "alpha", "D"):
        assert res.parameters[name].value == pytest.approx(TRUE[name], rel=0.05), name


def test_area_and_concentration_are_never_assumed(e_data):
    # EC-Lab writes a placeholder area; a default would scale D and k0 silently. The fit asks for both instead.
    for missing in ("area", "c_bulk"):
        fixed = {k: v for k, v in FIXED.items() if k != missing}
        with pytest.raises(InvalidInput) as err:
            fit_cv(e_data, "E", ["k0", "alpha", "D", "E0"], fixed=fixed)
        assert err.value.field == f"fixed.{missing}" and "never assumed" in str(err.value)


@pytest.mark.slow  # compiles a 3-parameter Nernstian fit of the four real CVs (~20 s)
def test_a_parameter_the_data_cannot_see_gets_no_interval_instead_of_a_crash():
    # Real RuHex CVs (examples/data/diffec): the planar Nernstian model misses these data by more than their
    # charging current (C_dl v ~ 1 % of the peak, test_baseline.py), so least squares drive C_dl from its
    # baseline start to the lower bound, where its log-scale standard error is so large that exp() of its interval
    # overflowed and the whole fit raised. Now the estimate has no interval and the fit says C_dl sits on its bound.
    data = [read_voltammogram_file(f) for f in sorted(DIFFEC.glob("ruhex_*mVps.csv"))]
    fixed = {"area": math.pi * 1.5e-3**2, "c_bulk": 0.96, "T": 298.0}
    res = fit_cv(data, params_to_fit=["D", "E0", "C_dl"], kinetics="nernst", fixed=fixed, max_points=200)
    c_dl = res.parameters["C_dl"]
    assert c_dl.ci95 is None or all(map(math.isfinite, c_dl.ci95))
    assert "C_dl" in res.quality.at_bounds and res.poor_fit
