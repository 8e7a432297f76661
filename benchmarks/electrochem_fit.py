"""Benchmark: fitting CVs at 3 scan rates for k0, α, D (and E0) — gradient vs gradient-free vs cvsim's curve_fit.

Run: ``.venv/bin/python benchmarks/electrochem_fit.py [--rates 0.05 0.2 0.5] [--seeds 8] [--repeats 3] [--no-cvsim]``;
from another script call ``main([])`` (or with those options as a list): it prints the tables and returns the headline
numbers.

Timing: every wall time in the tables is the MEDIAN over ``--repeats`` warm runs of the same fit (same data, same
start, so the same result), for labwright and for every peer alike, in this one process; the first labwright fit
(which compiles) is reported apart as the cold time. "Equal wall time" gives Nelder–Mead as many simulator calls as it
makes, at its own median rate, in the gradient fit's median wall time.

Data: the SYNTHETIC example set ``examples/data/redox_kinetics`` (1 % noise, made by ``make_data.py`` with a finer time
step and grid than the fit uses), plus further noise realisations of the same noise-free curves (``--seeds``) and the
noise-free curves themselves. Every labwright fit runs behind the same interface (``fit_cv(method=...)``) with the
same residual, transforms and simulator-call accounting (one CV at one scan rate = 1 call; a forward-mode Jacobian with
p parameters, its primal included, = 1 + p calls; a reverse-mode value-and-gradient (L-BFGS) = 3 calls per curve;
L-BFGS, Nelder–Mead and differential evolution also pay 3·(1 + p) calls for the final covariance).

Parameter error = the largest relative error over k0, α and D. With 1 % noise the gradient fit's error *is* the
statistical error of the data (its optimisation error is far below it), so the ratio to Nelder–Mead on noisy data is
bounded by how far Nelder–Mead still is from the optimum; the table therefore also gives the distance to the
least-squares optimum and the noise-free case. Targets (ANCHORS "Current targets"): ≥ 10× lower parameter error than
Nelder–Mead at equal simulator calls; ≤ 5 s per fit (warm).

cvsim 1.0 (benchmark extra) fits one CV at a time with SciPy ``curve_fit`` on its semi-analytical E_q model; its α is
the transfer coefficient of the forward (here anodic) reaction, so it is reported as 1 − α_cvsim for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import time
from pathlib import Path

import numpy as np
from labwright.tools.electrochem._fit import (
    GRADIENT_CALLS,
    CVFitResult,
    _Problem,
    fit_cv,
    initial_guesses,
    prepare_curves,
)
from labwright.tools.electrochem._readers import Voltammogram, VoltammogramMetadata, read_voltammogram_file
from labwright.tools.electrochem._simulate import ECParams, SimSettings

DATA = Path(__file__).resolve().parent.parent / "examples" / "data" / "redox_kinetics"
PARAMS = ["k0", "alpha", "D", "E0"]
KEYS = ("k0", "alpha", "D")


def errors(values: dict[str, float], truth: dict[str, float]) -> dict[str, float]:
    return {k: abs(values[k] - truth[k]) / abs(truth[k]) for k in KEYS}


def values_of(res: CVFitResult) -> dict[str, float]:
    return {k: p.value for k, p in res.parameters.items()}


def worst(values: dict[str, float], ref: dict[str, float]) -> float:
    return max(errors(values, ref).values())


def row(label: str, calls: int | str, seconds: float, err: dict[str, float], ref: float | None) -> str:
    top = max(err.values())
    ratio = f"{top / ref:8.1f}x" if ref else "       —"
    return (
        f"{label:52s} {calls!s:>6} {seconds:8.2f} {err['k0'] * 100:8.3f} {err['alpha'] * 100:8.3f} "
        f"{err['D'] * 100:8.3f} {top * 100:8.3f} {ratio}"
    )


def median_of(run, repeats: int) -> tuple[CVFitResult, float]:
    """``run()`` repeated ``repeats`` times (warm): the last result and the median of the results' wall times, s."""
    results = [run() for _ in range(max(1, repeats))]
    return results[-1], float(np.median([r.wall_time_s for r in results]))


def _make_data_module():
    spec = importlib.util.spec_from_file_location("make_data", DATA / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean_curves(rates: list[float]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Noise-free (t, E, I) of make_data.py at the example files' samples."""
    make_data = _make_data_module()
    return [make_data.simulate(v) for v in rates]


def as_voltammograms(curves, rates, *, noise: float = 0.0, seed: int = 0) -> list[Voltammogram]:
    rng = np.random.default_rng(seed)
    out = []
    for (t, E, I), v in zip(curves, rates):
        noisy = I + noise * np.max(np.abs(I)) * rng.standard_normal(I.size) if noise else I
        meta = VoltammogramMetadata(format="synthetic")
        out.append(Voltammogram(E=E.tolist(), I=noisy.tolist(), t=t.tolist(), scan_rate=v, metadata=meta))
    return out


def run_cvsim(
    curve, guess: dict[str, float], fixed: dict[str, float], repeats: int = 1
) -> tuple[dict[str, float], float, int]:
    """cvsim FitE_q on one CV: E0, D_reactant, D_product, alpha, k0 by scipy curve_fit, from labwright's first
    guesses (cvsim's default k0 bound, 1e-3 cm/s, would exclude this couple's k0)."""
    from cvsim.fit_curve import FitE_q

    E, I, _ = curve.arrays()
    radius_mm = float(np.sqrt(fixed["area"] / np.pi)) * 1e3
    step_mv = float(np.median(np.abs(np.diff(E)))) * 1e3
    fitter = FitE_q(E, I, curve.scan_rate, fixed["c_bulk"], step_mv, radius_mm, temperature=fixed["T"])
    walls = []
    for _ in range(max(1, repeats)):  # cvsim is pure Python (nothing to compile): every run is a warm run
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
        walls.append(time.perf_counter() - t0)
    seconds = float(np.median(walls))
    calls = log.getvalue().count("trying values")
    values = {
        "k0": fit["k0"] * 1e-2,  # cm/s -> m/s
        "alpha": 1.0 - fit["alpha"],  # forward (anodic) coefficient -> cathodic alpha
        "D": fit["diffusion_reactant"] * 1e-4,  # cm^2/s -> m^2/s
    }
    return values, seconds, calls


def _cost_ratio(data: list[Voltammogram], fixed: dict[str, float], guess: dict[str, float], method: str) -> float:
    """Wall time of one call of ``_Problem.<method>`` / one residual (all curves), warm, each over 10 calls."""
    problem = _Problem(prepare_curves(data), ECParams(**fixed), PARAMS, SimSettings(bulk="R"))
    theta = np.array([np.log(guess["k0"]), 0.0, np.log(guess["D"]), guess["E0"]])
    work = getattr(problem, method)
    problem.residual(theta), work(theta)  # compiled already by the fits; warm the caches anyway
    t0 = time.perf_counter()
    for _ in range(10):
        problem.residual(theta)
    t_r = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(10):
        work(theta)
    return (time.perf_counter() - t0) / t_r


def jacobian_cost_ratio(data: list[Voltammogram], fixed: dict[str, float], guess: dict[str, float]) -> float:
    """Wall time of one forward-mode Jacobian / one residual (all curves), warm: what a Jacobian really costs in
    simulator calls, next to the 1 + p the accounting charges."""
    return _cost_ratio(data, fixed, guess, "jacobian")


def gradient_cost_ratio(data: list[Voltammogram], fixed: dict[str, float], guess: dict[str, float]) -> float:
    """Wall time of one reverse-mode value-and-gradient / one residual (all curves), warm (compiled already by the
    L-BFGS fits): next to the 1 + GRADIENT_CALLS calls the accounting charges for it."""
    return _cost_ratio(data, fixed, guess, "cost_and_gradient")


def table(data, truth, fixed, far, repeats: int = 3) -> dict[str, float]:
    """The main table on the example files. Returns headline numbers."""
    header = f"{'method (start)':52s} {'calls':>6} {'wall s':>8} {'k0 %':>8} {'alpha %':>8} {'D %':>8} {'max %':>8}"
    header += f" {'vs grad':>9}"
    print(header)
    print("-" * len(header))
    cold = fit_cv(data, "E", PARAMS, fixed=fixed)
    # warm: compiled functions are reused; median of `repeats` runs, as for every timing below
    grad, grad_wall = median_of(lambda: fit_cv(data, "E", PARAMS, fixed=fixed), repeats)
    grad = grad.model_copy(update={"wall_time_s": grad_wall})
    g_err = worst(values_of(grad), truth)
    print(
        row(
            "gradient LM (classical guess, cold/compile)",
            cold.sim_calls,
            cold.wall_time_s,
            errors(values_of(cold), truth),
            None,
        )
    )  # noqa: E501
    print(
        row(
            "gradient LM (classical guess, warm)",
            grad.sim_calls,
            grad.wall_time_s,
            errors(values_of(grad), truth),
            None,
        )
    )  # noqa: E501
    out = {"grad_calls": grad.sim_calls, "grad_wall_s": grad.wall_time_s, "grad_cold_s": cold.wall_time_s}
    out["grad_err"] = g_err
    # optax L-BFGS on reverse-mode gradients, same objective and accounting (a value-and-gradient = 3 calls per
    # curve); its first run compiles the reverse-mode simulation, so the warm row is the best of 3 later runs
    fit_cv(data, "E", PARAMS, fixed=fixed, method="lbfgs")
    lbfgs, wall = median_of(lambda: fit_cv(data, "E", PARAMS, fixed=fixed, method="lbfgs"), repeats)
    lbfgs = lbfgs.model_copy(update={"wall_time_s": wall})
    lb_err = errors(values_of(lbfgs), truth)
    print(row("L-BFGS (optax) (classical guess, warm)", lbfgs.sim_calls, lbfgs.wall_time_s, lb_err, g_err))
    out["lbfgs_calls"], out["lbfgs_wall_s"], out["lbfgs_err"] = lbfgs.sim_calls, lbfgs.wall_time_s, max(lb_err.values())
    out["lbfgs (to optimum)"] = worst(values_of(lbfgs), values_of(grad))
    # compile the model alone (the gradient-free methods' function) before timing them: warm against warm
    fit_cv(data, "E", PARAMS, fixed=fixed, method="nelder-mead", max_sim_calls=3)
    for label, method, mult in [
        ("nelder-mead, equal calls", "nelder-mead", 1),
        ("nelder-mead, 10x calls", "nelder-mead", 10),
        ("diff. evolution, equal calls", "differential-evolution", 1),
        ("diff. evolution, 10x calls", "differential-evolution", 10),
    ]:
        budget = mult * grad.sim_calls
        res, wall = median_of(
            lambda m=method, b=budget: fit_cv(data, "E", PARAMS, fixed=fixed, method=m, max_sim_calls=b), repeats
        )
        err = errors(values_of(res), truth)
        out[label] = max(err.values())
        out[label + " (to optimum)"] = worst(values_of(res), values_of(grad))
        out[label + " wall_s"] = wall
        out[label + " calls"] = res.sim_calls
        print(row(label + " (classical guess)", res.sim_calls, wall, err, g_err))
    # equal wall time (warm): a Jacobian costs more than 1 + p residuals in time, and Nelder-Mead's own overhead is
    # tiny, so give it as many calls as it makes, at its median rate of the 10x run, in the gradient fit's median time
    rate = out["nelder-mead, 10x calls calls"] / out["nelder-mead, 10x calls wall_s"]  # calls per second
    budget = max(int(rate * grad.wall_time_s), grad.sim_calls)
    res, wall = median_of(
        lambda: fit_cv(data, "E", PARAMS, fixed=fixed, method="nelder-mead", max_sim_calls=budget), repeats
    )
    out["nelder-mead, equal wall time calls"] = res.sim_calls
    out["nelder-mead, equal wall time"] = worst(values_of(res), truth)
    out["nelder-mead, equal wall time wall_s"] = wall
    print(row("nelder-mead, equal wall time", res.sim_calls, wall, errors(values_of(res), truth), g_err))
    # differential evolution samples its whole box: with the wide default bounds its population is hopeless at these
    # budgets, so also give it a box around the classical first guesses (x/÷ 3, alpha 0.3-0.7, E0 ± 30 mV)
    guess = initial_guesses(prepare_curves(data), ECParams(**fixed))
    box = {"k0": (guess["k0"] / 3, guess["k0"] * 3), "D": (guess["D"] / 3, guess["D"] * 3), "alpha": (0.3, 0.7)}
    box["E0"] = (guess["E0"] - 0.03, guess["E0"] + 0.03)
    for mult in (1, 10):
        res = fit_cv(
            data, "E", PARAMS, box, fixed=fixed, method="differential-evolution", max_sim_calls=mult * grad.sim_calls
        )
        label = f"diff. evolution, {'equal' if mult == 1 else '10x'} calls (narrow box)"
        print(row(label, res.sim_calls, res.wall_time_s, errors(values_of(res), truth), g_err))
    gfar = fit_cv(data, "E", PARAMS, fixed=fixed, initial=far)
    gfar_err = errors(values_of(gfar), truth)
    print(row("gradient LM (far start)", gfar.sim_calls, gfar.wall_time_s, gfar_err, None))
    nmfar = fit_cv(data, "E", PARAMS, fixed=fixed, initial=far, method="nelder-mead", max_sim_calls=gfar.sim_calls)
    nm_err = errors(values_of(nmfar), truth)
    print(
        row("nelder-mead, equal calls (far start)", nmfar.sim_calls, nmfar.wall_time_s, nm_err, max(gfar_err.values()))
    )  # noqa: E501
    out["far: nelder-mead / gradient"] = max(nm_err.values()) / max(gfar_err.values())
    print()
    print("uncertainties of the warm gradient fit (estimate ± 1 sigma; truth):")
    for k, p in grad.parameters.items():
        print(
            f"  {k:6s} {p.value:.5g} ± {p.stderr:.2g}  (truth {truth[k]:.5g}; {(p.value - truth[k]) / p.stderr:+.1f} σ)"
        )
    return out


def peer_cvsim(data, fixed, truth, g_err: float, repeats: int = 3) -> dict[str, float]:
    guess = initial_guesses(prepare_curves(data), ECParams(**fixed))
    total_s, total_calls, fits = 0.0, 0, []
    for curve in data:
        values, seconds, calls = run_cvsim(curve, guess, fixed, repeats)
        total_s, total_calls = total_s + seconds, total_calls + calls
        fits.append(values)
        label = f"cvsim FitE_q curve_fit (one CV, {curve.scan_rate:g} V/s)"
        print(row(label, calls, seconds, errors(values, truth), g_err))
    mean = {k: float(np.mean([f[k] for f in fits])) for k in KEYS}
    print(row(f"cvsim, mean of the {len(data)} single-CV fits", total_calls, total_s, errors(mean, truth), g_err))
    return {"cvsim_wall_s": total_s, "cvsim_err": worst(mean, truth)}


def seeds_study(clean, rates, truth, fixed, n_seeds: int, nm_rate: float) -> dict[str, float]:
    """Gradient vs Nelder-Mead vs differential evolution over fresh 1 % noise realisations, at equal calls and (for
    Nelder-Mead, at its measured rate of ``nm_rate`` calls/s) at equal wall time."""
    ratios_nm, ratios_de, opt_nm, g_errs, walls, z, ratios_wall = [], [], [], [], [], [], []
    for seed in range(1, n_seeds + 1):
        data = as_voltammograms(clean, rates, noise=0.01, seed=1000 + seed)
        g = fit_cv(data, "E", PARAMS, fixed=fixed)
        nm = fit_cv(data, "E", PARAMS, fixed=fixed, method="nelder-mead", max_sim_calls=g.sim_calls)
        de = fit_cv(data, "E", PARAMS, fixed=fixed, method="differential-evolution", max_sim_calls=g.sim_calls)
        ge = worst(values_of(g), truth)
        z += [(g.parameters[k].value - truth[k]) / g.parameters[k].stderr for k in KEYS]
        g_errs.append(ge)
        walls.append(g.wall_time_s)
        ratios_nm.append(worst(values_of(nm), truth) / ge)
        ratios_de.append(worst(values_of(de), truth) / ge)
        opt_nm.append(worst(values_of(nm), values_of(g)))
        budget = max(int(nm_rate * g.wall_time_s), g.sim_calls)
        nm_wall = fit_cv(data, "E", PARAMS, fixed=fixed, method="nelder-mead", max_sim_calls=budget)
        ratios_wall.append(worst(values_of(nm_wall), truth) / ge)
    print(
        f"over {n_seeds} fresh 1 % noise realisations (equal simulator calls, error vs truth): "
        f"gradient max error median {np.median(g_errs) * 100:.2f} % (the noise floor); "
        f"Nelder-Mead / gradient median {np.median(ratios_nm):.1f}x (range {min(ratios_nm):.1f}-{max(ratios_nm):.1f}); "
        f"differential evolution / gradient median {np.median(ratios_de):.1f}x; "
        f"at equal wall time Nelder-Mead / gradient median {np.median(ratios_wall):.1f}x "
        f"(range {min(ratios_wall):.1f}-{max(ratios_wall):.1f}); "
        f"Nelder-Mead's distance to the least-squares optimum median {np.median(opt_nm) * 100:.2f} %; "
        f"gradient fit warm wall median {np.median(walls):.3f} s"
    )
    z = np.abs(np.array(z))
    print(
        f"uncertainty calibration over {z.size} estimates (k0, alpha, D x {n_seeds}): |error| <= 1 sigma in "
        f"{np.mean(z <= 1) * 100:.0f} % (Gaussian 68 %), <= 2 sigma in {np.mean(z <= 2) * 100:.0f} % (95 %), "
        f"<= 3 sigma in {np.mean(z <= 3) * 100:.0f} % (99.7 %)"
    )
    return {
        "seeds_nm_ratio_median": float(np.median(ratios_nm)),
        "seeds_de_ratio_median": float(np.median(ratios_de)),
        "seeds_nm_wall_ratio_median": float(np.median(ratios_wall)),
        "seeds_coverage_2sigma": float(np.mean(z <= 2)),
    }


def noise_free(clean, rates, truth, fixed, nm_rate: float) -> float:
    """Same comparison on the noise-free curves: error = optimisation error + the fit grid's discretisation bias."""
    data = as_voltammograms(clean, rates)
    grad = fit_cv(data, "E", PARAMS, fixed=fixed)
    g_err = errors(values_of(grad), truth)
    print()
    print("noise-free curves (error = optimisation + discretisation bias of the fit's coarser grid):")
    print(row("gradient LM (classical guess)", grad.sim_calls, grad.wall_time_s, g_err, None))
    ratios = []
    wall_calls = max(int(nm_rate * grad.wall_time_s), grad.sim_calls)
    for label, budget in [
        ("nelder-mead, equal calls", grad.sim_calls),
        ("nelder-mead, equal wall time", wall_calls),
        ("nelder-mead, 10x calls", 10 * grad.sim_calls),
    ]:
        res = fit_cv(data, "E", PARAMS, fixed=fixed, method="nelder-mead", max_sim_calls=budget)
        err = errors(values_of(res), truth)
        ratios.append(max(err.values()) / max(g_err.values()))
        print(row(label, res.sim_calls, res.wall_time_s, err, max(g_err.values())))
    print(
        f"noise-free: Nelder-Mead / gradient parameter error {ratios[0]:.1f}x at equal calls, {ratios[1]:.1f}x at "
        f"equal wall time, {ratios[2]:.1f}x at 10x calls"
    )
    return ratios[0]


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark, print the tables, return the headline numbers (ratios, seconds, calls)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.2, 0.5], help="scan rates, V/s")
    parser.add_argument("--seeds", type=int, default=8, help="fresh noise realisations for the ratio study")
    parser.add_argument("--no-cvsim", action="store_true", help="skip the cvsim peer")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per timed fit (medians are reported)")
    args = parser.parse_args(argv)

    truth = json.loads((DATA / "truth.json").read_text())["parameters_SI"]
    fixed = {k: truth[k] for k in ("area", "c_bulk", "T", "n")}
    data = [read_voltammogram_file(DATA / f"cv_{v:g}Vps.csv") for v in args.rates]
    far = {"k0": truth["k0"] * 5, "alpha": 0.62, "D": truth["D"] * 0.7, "E0": truth["E0"] + 0.02}
    print(f"CV fit benchmark: {len(data)} scan rates {args.rates} V/s, fitted {PARAMS}, SYNTHETIC data (1 % noise)")
    print(
        f"truth: k0 = {truth['k0']:.3g} m/s, alpha = {truth['alpha']}, D = {truth['D']:.3g} m^2/s, E0 = {truth['E0']} V"
    )
    out = table(data, truth, fixed, far, args.repeats)
    if not args.no_cvsim:
        print()
        try:
            out |= peer_cvsim(data, fixed, truth, out["grad_err"], args.repeats)
        except ImportError:
            print("cvsim not installed (pip install '.[benchmark]'): peer skipped")
    guess = initial_guesses(prepare_curves(data), ECParams(**fixed))
    jac = jacobian_cost_ratio(data, fixed, guess)
    out["jacobian_over_residual_time"] = jac
    print()
    print(
        f"a Jacobian (p = {len(PARAMS)}) is charged 1 + p = {1 + len(PARAMS)} calls; its warm wall time is "
        f"{jac:.1f}x one residual"
    )
    grad_ratio = gradient_cost_ratio(data, fixed, guess)
    out["gradient_over_residual_time"] = grad_ratio
    print(
        f"a reverse-mode value-and-gradient is charged 1 + {GRADIENT_CALLS} calls; its warm wall time is "
        f"{grad_ratio:.1f}x one residual; L-BFGS (optax) warm: {out['lbfgs_calls']} calls, "
        f"{out['lbfgs_wall_s']:.3f} s, "
        f"max error {out['lbfgs_err'] * 100:.2f} %, distance to the LM optimum {out['lbfgs (to optimum)'] * 100:.4f} %"
    )
    ratio = out["nelder-mead, equal calls"] / out["grad_err"]
    out["nm_ratio"] = ratio
    print(
        f"example files: parameter error Nelder-Mead / gradient at equal calls {ratio:.1f}x vs truth (target >= 10x); "
        f"Nelder-Mead's distance to the optimum {out['nelder-mead, equal calls (to optimum)'] * 100:.2f} % vs "
        f"gradient's ~0; at equal wall time {out['nelder-mead, equal wall time'] / out['grad_err']:.1f}x"
    )
    print(
        f"warm gradient fit: median {out['grad_wall_s']:.3f} s over {args.repeats} runs, {out['grad_calls']} simulator "
        f"calls (target <= 0.1 s warm); cold first fit in this process (compiling) {out['grad_cold_s']:.1f} s "
        "(target <= 5 s)"
    )
    peers = [
        ("Nelder-Mead (equal calls)", out["nelder-mead, equal calls wall_s"]),
        ("Nelder-Mead (equal wall time)", out["nelder-mead, equal wall time wall_s"]),
        ("differential evolution (equal calls)", out["diff. evolution, equal calls wall_s"]),
        ("L-BFGS (optax)", out["lbfgs_wall_s"]),
    ]
    if "cvsim_wall_s" in out:
        peers.append((f"cvsim curve_fit ({len(data)} single-CV fits)", out["cvsim_wall_s"]))
    print("warm medians side by side: labwright LM " + f"{out['grad_wall_s']:.3f} s; " + "; ".join(
        f"{name} {wall:.3f} s" for name, wall in peers
    ))  # fmt: skip
    clean = clean_curves(args.rates)
    print()
    nm_rate = out["nelder-mead, 10x calls calls"] / out["nelder-mead, 10x calls wall_s"]  # calls/s, median run
    out |= seeds_study(clean, args.rates, truth, fixed, args.seeds, nm_rate)
    out["noise_free_nm_ratio"] = noise_free(clean, args.rates, truth, fixed, nm_rate)
    return out


if __name__ == "__main__":
    main()
