"""Kinetics on an accelerator: batch throughput (parameter sets/s) and SSA trajectories/s, with ``vmap``.

The workloads are those of ``benchmarks/kinetics.py`` (``_kinetics_workloads.py``): the BIOMD0000000010 scan of two
rate parameters (×/÷ 1.5, Rodas4 at the rtol that matches libRoadRunner at 1e-8) and the 20-species stiff network with
every constant ×/÷ 1.5, each at 1,000 and 10,000 parameter sets; the SSA of 2A ⇌ B, B → C (Ω = 1000, ~1,550 events
per trajectory). The CPU peers (libRoadRunner loop, GillesPy2's C++ SSA) are timed in the CPU run of
``benchmarks/kinetics.py``; compare per-set and per-trajectory rates across the two outputs.

Needs only JAX (with its accelerator plugin), diffrax, equinox, optimistix, NumPy, SciPy and labwright's own
dependencies; libRoadRunner, RDKit and LangGraph are not imported. The SBML batch also needs python-libsbml and is
skipped without it. Times are medians of warm calls (``--repeat``); the first call (compile + run) is printed apart.
Every batch checks a few lanes against single solves of the same lanes on the same device.

Run: ``python benchmarks/kinetics_gpu.py [--sets 1000 10000] [--trajectories 1000 10000 100000] [--repeat 3]``.
Without an accelerator it prints a note and exits (``--allow-cpu`` runs it anyway, slowly).

Measured 2026-12-04 on one H200 (jax 0.11.2 CUDA, float64; medians of 3 warm calls, first call incl. compile apart):

* BIOMD0000000010 scan: 1,000 sets 0.124 s (8,080 sets/s; first call 2.4 s), 10,000 sets 0.265 s (37,700 sets/s),
  100,000 sets 1.85 s (54,200 sets/s); every lane checked equals its single solve to 3e-14. The same 1,000 sets
  on that machine's 16 host CPU cores: vmap 2.8–4.2 s, libRoadRunner loop 1.47 s (``kinetics.py --batch 1000``
  there), so the H200 batch is 12× a libRoadRunner loop at 1,000 sets and 55× at 10,000 (0.265 s vs 14.7 s
  extrapolated at 1.47 ms per set).
* 20-species stiff network, all 57 constants ×/÷ 1.5: 1,000 sets 0.345 s (2,900 sets/s), 10,000 sets 2.85 s
  (3,500 sets/s): lanes differ more in step counts here and each step is a 20×20 LU per lane.
* SSA (~1,550 events per run): 1,000 runs 0.017 s (58,800 trajectories/s), 10,000 runs 0.019 s (521,000/s),
  100,000 runs 0.077 s (1.3 million/s, 2.0e9 events/s). On the 16 host cores 7,500–7,700/s; GillesPy2's C++ SSA
  on the 2-core development machine 1,200–4,500/s (``kinetics.py`` [5]). Measured with ``jax.random`` (threefry)
  and the runs vmapped; the SSA now draws SplitMix64 streams with the runs stored lanes-last (same law, not
  re-measured on an accelerator since).
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import jax
import jax.numpy as jnp
import numpy as np
from _kinetics_workloads import (  # benchmarks/ is the script's folder, so on sys.path
    BATCH_ATOL,
    BATCH_MODEL,
    BATCH_RTOL,
    BATCH_TIMES,
    SBML_DIR,
    batch_parameter_sets,
    ssa_problem,
    stiff_constant_sets,
    stiff_problem,
)
from labwright.tools.kinetics import make_batch_solver, make_ode_solver, read_sbml
from labwright.tools.kinetics._ssa import make_ssa

CHECKED_LANES = (0, 1, -1)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(first-call seconds, median warm seconds, last output) of ``fn`` (which must block until done)."""
    t0 = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return cold, float(np.median(times)), out


def lanes_error(single, x0s, ks, ts, ys) -> float:
    """Largest |batch − single solve| over :data:`CHECKED_LANES`, relative to each lane's largest value."""
    worst = 0.0
    for i in CHECKED_LANES:
        ref = np.asarray(jax.block_until_ready(single(x0s[i], ks[i], ts))[0])
        worst = max(worst, float(np.max(np.abs(np.asarray(ys[i]) - ref)) / max(np.max(np.abs(ref)), 1e-300)))
    return worst


def batch_rows(name: str, make_lanes, system, ts: np.ndarray, sizes, repeat: int, rtol: float, atol: float) -> None:
    batch = make_batch_solver(system, mode="vmap", solver="Rodas4", rtol=rtol, atol=atol)
    single = make_ode_solver(system, solver="Rodas4", rtol=rtol, atol=atol)
    tj = jnp.asarray(ts)
    print(
        f"    {'sets':>7s} {'first call':>11s} {'warm median':>12s} {'per set':>10s} {'sets/s':>11s} {'all ok':>7s} "
        f"{'max rel |Δ| vs single':>22s}"
    )
    for n in sizes:
        x0s, ks = make_lanes(n)
        cold, warm, (ys, ok) = timed(lambda x0s=x0s, ks=ks: jax.block_until_ready(batch(x0s, ks, tj)), repeat)
        err = lanes_error(single, x0s, ks, tj, ys)
        print(
            f"    {n:7d} {cold:9.2f} s {warm:10.3f} s {warm / n * 1e6:7.1f} µs {n / warm:11,.0f} "
            f"{str(bool(np.all(np.asarray(ok)))):>7s} {err:22.1e}  ({name})"
        )
        assert bool(np.all(np.asarray(ok))), f"{name}: some lanes failed"
        assert err < 1e-6, f"{name}: batch lanes disagree with single solves ({err:.1e})"


def bench_sbml_batch(sizes, repeat: int) -> None:
    if importlib.util.find_spec("libsbml") is None:
        print("\n[1] SBML batch skipped: python-libsbml is not installed here")
        return
    model = read_sbml(str(SBML_DIR / f"{BATCH_MODEL}.xml"))
    print(f"\n[1] batch: {BATCH_MODEL} parameter scan, Rodas4 rtol {BATCH_RTOL:g} (vmap, all lanes in lock-step)")

    def lanes(n):
        return jax.vmap(model.prepare)(jnp.asarray(batch_parameter_sets(model, n)))

    batch_rows(BATCH_MODEL, lanes, model, BATCH_TIMES, sizes, repeat, BATCH_RTOL, BATCH_ATOL)


def bench_stiff_batch(sizes, repeat: int) -> None:
    _, system, x0, ts = stiff_problem()
    rtol = 1e-6
    print(f"\n[2] batch: 20-species stiff network, every constant ×/÷ 1.5, Rodas4 rtol {rtol:g} (vmap)")

    def lanes(n):
        return jnp.broadcast_to(jnp.asarray(x0), (n, len(x0))), jnp.asarray(stiff_constant_sets(system, n))

    batch_rows("stiff network", lanes, system, ts, sizes, repeat, rtol, rtol * 1e-4)


def bench_ssa(sizes, repeat: int) -> None:
    system, n0, c, ts, omega = ssa_problem()
    ssa = make_ssa(system)
    print(
        f"\n[3] SSA: 2A ⇌ B, B → C, Ω = {omega:g}, A0 = {n0[0]:g} molecules, t = 0…{ts[-1]:g} s (all runs in one call)"
    )
    print(
        f"    {'runs':>7s} {'first call':>11s} {'warm median':>12s} {'trajectories/s':>15s} {'events/run':>11s} "
        f"{'events/s':>12s}  mean copy numbers at t_end"
    )
    for n in sizes:
        keys = jax.random.split(jax.random.PRNGKey(0), n)
        args = (keys, jnp.asarray(n0), jnp.asarray(c), jnp.asarray(ts))
        cold, warm, (counts, events, ok) = timed(lambda args=args: jax.block_until_ready(ssa(*args)), repeat)
        ev = float(np.mean(np.asarray(events)))
        assert bool(np.all(np.asarray(ok)))
        print(
            f"    {n:7d} {cold:9.2f} s {warm:10.3f} s {n / warm:15,.0f} {ev:11.0f} {n * ev / warm:12.3g}  "
            f"{np.round(np.asarray(counts)[:, -1].mean(axis=0), 1)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, nargs="+", default=[1000, 10000], help="parameter sets per batch")
    parser.add_argument("--trajectories", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=3, help="warm calls timed (median reported)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["sbml", "stiff", "ssa"])
    parser.add_argument("--allow-cpu", action="store_true", help="run even without an accelerator")
    args = parser.parse_args()
    device = jax.devices()[0]
    print(f"jax {jax.__version__} on {device.platform} ({device.device_kind}); float64: {jax.config.jax_enable_x64}")
    if device.platform == "cpu" and not args.allow_cpu:
        print("no accelerator: nothing run (benchmarks/kinetics.py is the CPU benchmark; --allow-cpu to force)")
        return
    if "sbml" not in args.skip:
        bench_sbml_batch(args.sets, args.repeat)
    if "stiff" not in args.skip:
        bench_stiff_batch(args.sets, args.repeat)
    if "ssa" not in args.skip:
        bench_ssa(args.trajectories, args.repeat)


if __name__ == "__main__":
    main()
