"""Benchmark: fitting CVs at 3 scan rates for k0, α, D (and E0) — gradient vs gradient-free vs cvsim's curve_fit.

Run: ``.venv/bin/python benchmarks/electrochem_fit.py [--rates 0.05 0.2 0.5] [--no-cvsim]``

Data: the SYNTHETIC example set ``examples/data/redox_kinetics`` (1 % noise, made by ``make_data.py`` with a finer time
step and grid than the fit uses). Every labwright fit runs behind the same interface (``fit_cv(method=...)``) with the
same residual, the same transforms and the same simulator-call accounting (one CV at one scan rate = 1 call; a
forward-mode Jacobian with p parameters = 1 + p calls; totals include the final covariance evaluation). Parameter error
= the largest relative error over k0, α and D. Targets (ANCHORS "Current targets"): ≥ 10× lower parameter error than
Nelder–Mead at equal simulator calls; ≤ 5 s per fit.

cvsim 1.0 (benchmark extra) fits one CV at a time with SciPy ``curve_fit`` on its semi-analytical E_q model; its α is
the transfer coefficient of the forward (here anodic) reaction, so it is reported as 1 − α_cvsim for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

import numpy as np
from labwright.tools.electrochem._fit import fit_cv, initial_guesses, prepare_curves
from labwright.tools.electrochem._readers import Voltammogram, VoltammogramMetadata, read_voltammogram_file
from labwright.tools.electrochem._simulate import ECParams

DATA = Path(__file__).resolve().parent.parent / "examples" / "data" / "redox_kinetics"
PARAMS = ["k0", "alpha", "D", "E0"]


def errors(values: dict[str, float], truth: dict[str, float]) -> dict[str, float]:
    return {k: abs(values[k] - truth[k]) / abs(truth[k]) for k in ("k0", "alpha", "D")}


def row(label: str, calls: int | str, seconds: float, err: dict[str, float], ref: float | None) -> str:
    worst = max(err.values())
    ratio = f"{worst / ref:8.1f}x" if ref else "       —"
    return (
        f"{label:52s} {calls!s:>6} {seconds:8.2f} {err['k0'] * 100:8.3f} {err['alpha'] * 100:8.3f} "
        f"{err['D'] * 100:8.3f} {worst * 100:8.3f} {ratio}"
    )


def run_cvsim(curve, guess: dict[str, float], fixed: dict[str, float]) -> tuple[dict[str, float], float, int]:
    """cvsim FitE_q on one CV: E0, D_reactant, D_product, alpha, k0 by scipy curve_fit, from labwright's first
    guesses (cvsim's default k0 bound, 1e-3 cm/s, would exclude this couple's k0)."""
    from cvsim.fit_curve import FitE_q

    E, I, _ = curve.arrays()
    radius_mm = float(np.sqrt(fixed["area"] / np.pi)) * 1e3
    step_mv = float(np.median(np.abs(np.diff(E)))) * 1e3
    fitter = FitE_q(E, I, curve.scan_rate, fixed["c_bulk"], step_mv, radius_mm, temperature=fixed["T"])
    log = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(log):
        _, _, fit = fitter.fit(
            reduction_potential=(guess["E0"], guess["E0"] - 0.1, guess["E0"] + 0.1),
            diffusion_reactant=(guess["D"] * 1e4, 1e-7, 1e-3),
            diffusion_product=(guess["D"] * 1e4, 1e-7, 1e-3),
            alpha=(0.5, 0.05, 0.95),
            k0=(guess["k0"] * 1e2, 1e-6, 10.0),
        )
    seconds = time.perf_counter() - t0
    calls = log.getvalue().count("trying values")
    values = {
        "k0": fit["k0"] * 1e-2,  # cm/s -> m/s
        "alpha": 1.0 - fit["alpha"],  # forward (anodic) coefficient -> cathodic alpha
        "D": fit["diffusion_reactant"] * 1e-4,  # cm^2/s -> m^2/s
    }
    return values, seconds, calls


def noise_free(rates: list[float], truth: dict[str, float], fixed: dict[str, float]) -> None:
    """Same comparison on the noise-free curves of make_data.py: here the error is optimisation error + the fit
    grid's discretisation bias, not noise."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_data", DATA / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    data = []
    for v in rates:
        t, E, I = make_data.simulate(v)
        meta = VoltammogramMetadata(format="synthetic")
        data.append(Voltammogram(E=E.tolist(), I=I.tolist(), t=t.tolist(), scan_rate=v, metadata=meta))
    grad = fit_cv(data, "E", PARAMS, fixed=fixed)
    g_err = errors({k: p.value for k, p in grad.parameters.items()}, truth)
    print()
    print("noise-free curves (error = optimisation + discretisation bias):")
    print(row("gradient LM (classical guess)", grad.sim_calls, grad.wall_time_s, g_err, None))
    ratios = []
    for label, budget in [
        ("nelder-mead, equal calls", grad.sim_calls),
        ("nelder-mead, 10x calls", 10 * grad.sim_calls),
    ]:
        res = fit_cv(data, "E", PARAMS, fixed=fixed, method="nelder-mead", max_sim_calls=budget)
        err = errors({k: p.value for k, p in res.parameters.items()}, truth)
        ratios.append(max(err.values()) / max(g_err.values()))
        print(row(label, res.sim_calls, res.wall_time_s, err, max(g_err.values())))
    print(
        f"noise-free: Nelder-Mead / gradient parameter error {ratios[0]:.1f}x at equal calls, {ratios[1]:.1f}x at 10x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.2, 0.5], help="scan rates, V/s")
    parser.add_argument("--no-cvsim", action="store_true", help="skip the cvsim peer")
    args = parser.parse_args()

    truth_doc = json.loads((DATA / "truth.json").read_text())
    truth = truth_doc["parameters_SI"]
    fixed = {k: truth[k] for k in ("area", "c_bulk", "T", "n")}
    data = [read_voltammogram_file(DATA / f"cv_{v:g}Vps.csv") for v in args.rates]
    far = {"k0": truth["k0"] * 5, "alpha": 0.62, "D": truth["D"] * 0.7, "E0": truth["E0"] + 0.02}

    print(f"CV fit benchmark: {len(data)} scan rates {args.rates} V/s, fitted {PARAMS}, SYNTHETIC data (1 % noise)")
    print(
        f"truth: k0 = {truth['k0']:.3g} m/s, alpha = {truth['alpha']}, D = {truth['D']:.3g} m^2/s, E0 = {truth['E0']} V"
    )
    header = f"{'method (start)':52s} {'calls':>6} {'wall s':>8} {'k0 %':>8} {'alpha %':>8} {'D %':>8} {'max %':>8}"
    header += f" {'vs grad':>9}"
    print(header)
    print("-" * len(header))

    cold = fit_cv(data, "E", PARAMS, fixed=fixed)
    grad = fit_cv(data, "E", PARAMS, fixed=fixed)  # warm: compiled functions are reused
    g_err = max(errors({k: p.value for k, p in grad.parameters.items()}, truth).values())
    g_err_vals = errors({k: p.value for k, p in grad.parameters.items()}, truth)
    print(row("gradient LM (classical guess, cold/compile)", cold.sim_calls, cold.wall_time_s, g_err_vals, None))
    print(row("gradient LM (classical guess, warm)", grad.sim_calls, grad.wall_time_s, g_err_vals, None))
    results = {}
    for label, method, budget in [
        ("nelder-mead, equal calls", "nelder-mead", grad.sim_calls),
        ("nelder-mead, 10x calls", "nelder-mead", 10 * grad.sim_calls),
        ("diff. evolution, equal calls", "differential-evolution", grad.sim_calls),
        ("diff. evolution, 10x calls", "differential-evolution", 10 * grad.sim_calls),
    ]:
        res = fit_cv(data, "E", PARAMS, fixed=fixed, method=method, max_sim_calls=budget)
        err = errors({k: p.value for k, p in res.parameters.items()}, truth)
        results[label] = max(err.values())
        print(row(label + " (classical guess)", res.sim_calls, res.wall_time_s, err, g_err))

    gfar = fit_cv(data, "E", PARAMS, fixed=fixed, initial=far)
    gfar_err = errors({k: p.value for k, p in gfar.parameters.items()}, truth)
    print(row("gradient LM (far start)", gfar.sim_calls, gfar.wall_time_s, gfar_err, None))
    nmfar = fit_cv(data, "E", PARAMS, fixed=fixed, initial=far, method="nelder-mead", max_sim_calls=gfar.sim_calls)
    nmfar_err = errors({k: p.value for k, p in nmfar.parameters.items()}, truth)
    print(
        row(
            "nelder-mead, equal calls (far start)",
            nmfar.sim_calls,
            nmfar.wall_time_s,
            nmfar_err,
            max(gfar_err.values()),
        )
    )

    if not args.no_cvsim:
        try:
            mid = data[len(data) // 2]
            guess = initial_guesses(prepare_curves(data), ECParams(**fixed))
            values, seconds, calls = run_cvsim(mid, guess, fixed)
            print(
                row(
                    f"cvsim FitE_q curve_fit (one CV, {mid.scan_rate:g} V/s)",
                    calls,
                    seconds,
                    errors(values, truth),
                    g_err,
                )
            )
        except ImportError:
            print("cvsim not installed (pip install '.[benchmark]'): peer skipped")

    print()
    print("uncertainties of the warm gradient fit (estimate ± 1 sigma; truth):")
    for k, p in grad.parameters.items():
        print(f"  {k:6s} {p.value:.5g} ± {p.stderr:.2g}  (truth {truth[k if k != 'D' else 'D']:.5g})")
    ratio = results["nelder-mead, equal calls"] / g_err
    print()
    print(f"parameter error, Nelder-Mead / gradient at equal simulator calls: {ratio:.1f}x (target >= 10x)")
    print(f"warm gradient fit wall time: {grad.wall_time_s:.2f} s (target <= 5 s); cold {cold.wall_time_s:.2f} s")
    noise_free(args.rates, truth, fixed)


if __name__ == "__main__":
    main()
