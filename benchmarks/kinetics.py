"""Kinetics speed against the reference simulators: libRoadRunner (CVODE), SciPy (LSODA/BDF), GillesPy2's C++ SSA.

Every contender runs in this process on the same problem; times are **medians of warm calls** timed in interleaved
rounds (A, B, C, A, B, C, …, so load from other processes hits all alike); JAX compile times are printed apart.
Accuracy is measured against a tight reference (SciPy Radau at rtol 1e-12 for mass action, libRoadRunner at rtol
1e-12 for the SBML models), and the *matched-accuracy* lines compare each peer setting with the fastest labwright
setting that is at least as accurate. Every section asserts agreement, so a fast wrong answer fails the run.

1. **20-species stiff network** (isomerisation chains A1…A10 and D1…D10, dimerisations 2 Ai ⇌ Di, one irreversible
   exchange; 57 directed reactions with constants log-uniform in 1e-2…1e4 (seeded), time scales over ~7 decades),
   t = 0…1000 s at 41 log-spaced outputs. libRoadRunner reads the network through ``network_to_sbml``.
   labwright runs Rodas4 at rtol 1e-4…1e-7, Rodas5P at 3e-6…1e-9 and the NDF at 1e-6…3e-11, in half decades where
   the peers' accuracies fall (``SOLVER_SETTINGS``), atol = rtol × 1e-4.
2. **Curated BioModels** (``examples/data/sbml``): BIOMD0000000010 (Kholodenko 2000 MAPK oscillator, 8 species,
   t = 0…4000 s) and BIOMD0000000009 (Huang–Ferrell 1996 MAPK cascade, 22 species, t = 0…100 s), 101 outputs;
   error relative to each species' range. SciPy LSODA gets labwright's jitted right-hand side and Jacobian.
   libRoadRunner runs CVODE with BDF (its default) and with Adams–Moulton (``stiff = False``, its choice for
   non-stiff models); labwright's explicit Tsit5/Dopri8 (``EXPLICIT_SETTINGS``) join its stiff solvers, and a
   setting that does not finish (a stiff model exhausts an explicit method's step limit) is left out.
3. **Batch of 1,000 parameter sets** on BIOMD0000000010 (V1 of J0 and V10 of J9 log-uniform ×/÷ 1.5, seeded):
   (a) labwright's batch solver (``make_batch_solver`` in auto mode: on CPU chunks of 64 lanes solved by the
   lanes-last program of ``kinetics/_lanes.py`` unless a timed probe finds single solves cheaper per
   lane, over a thread per core) against the same lanes in one vmap and a Python loop of labwright's jitted single
   solves, with and without ``fold_constants`` (the 21 parameters every set shares compiled in); (b) a
   matched-accuracy table like [2]: folded batches at the settings of ``BATCH_SETTINGS`` against loops of
   libRoadRunner simulations (BDF and Adams) at rtol 1e-6 / 1e-8 / 1e-10, errors against libRoadRunner at rtol 1e-12
   for every set; then the matched settings again without folding and on one thread.
4. **PdPC dose–response, 200 signal values**: the vmapped relax-and-Newton sweep vs per-point solves and SciPy.
5. **SSA**: 2A ⇌ B, B → C at Ω = 1000 (A0 = 1000 molecules) over 5 s: labwright's JAX direct method vs
   GillesPy2's C++ SSA (``SSACSolver``, compiled with g++ at first use; GPL-3, so a peer installed by hand with
   ``pip install gillespy2``, not a labwright dependency; same propensities, c·A(A−1) for 2A) at the
   same number of trajectories; trajectories/s, and the mean copy numbers at 5 s must agree within sampling error
   (so both fire the same events in expectation).

Run: ``.venv/bin/python benchmarks/kinetics.py [--repeat 5] [--batch 1000] [--skip stiff sbml batch pdpc ssa]``

Measured 2026-12-04, late (jax 0.10.2, diffrax 0.7.2, libroadrunner 2.10.0, gillespy2 1.8.3; the 2-core development
machine at load ~1, ``--repeat 7 --batch-rounds 3``; medians of warm calls, compile apart), after the XLA:CPU
whole-loop compilation (``tools/_runtime.py``, :mod:`labwright.tools.kinetics._rosenbrock`):

* 20-species network: Rodas4 1.9 ms at error 1.9e-7, 3.3 ms at 9.8e-9; Rodas5P 2.0 ms at 3.2e-9, 3.3 ms at 2.3e-10,
  6.0 ms at 2.8e-11; libRoadRunner 1.44 ms (1.3e-6), 1.47 ms (6.4e-9), 2.42 ms (1.9e-10); LSODA 23 / 37 ms, BDF
  68 ms. Matched accuracy: 0.76×, 0.75× and 0.41× libRoadRunner at its rtol 1e-6 / 1e-8 / 1e-10; 12–19× LSODA,
  35× BDF.
* BIOMD0000000010: Rodas4 0.88 ms (4.6e-6), 1.12 ms (4.8e-7); Rodas5P 1.40 ms (1.8e-7), 3.11 ms (2.2e-9);
  libRoadRunner 1.12 ms (1.9e-5), 1.20 ms (3.3e-7), 2.05 ms (8.1e-9): 1.27×, 0.85× and 0.66× libRoadRunner;
  22–32× LSODA.
* BIOMD0000000009 (22 species): Rodas4 2.3 ms (1.5e-6); Rodas5P 3.1 ms (1.7e-7), 5.0 ms (3.3e-8), 17.5 ms (4.3e-10);
  libRoadRunner 1.48 / 1.97 / 2.85 ms: 0.65×, 0.40× and 0.16×; 8–13× LSODA.
* Batch of 1,000 sets of BIOMD0000000010: the auto batch (mapped chunks on 2 threads) 0.69 s, one vmap 2.22 s, a
  loop of our single solves 1.08 s, a libRoadRunner loop 1.24 s: 1.80× the libRoadRunner loop (target ≥ 10×).
* SSA of 1,000 trajectories: 0.048 s (21,000/s) against GillesPy2's 0.217 s (4,600/s): 4.56× (target 10×).
* Before this round's changes, same machine and day: Rodas4 single solves 14.6 ms (BIOMD0000000010), 11.6 ms
  (BIOMD0000000009), 21 ms (20 species) at rtol 1e-6, i.e. 0.03–0.2× libRoadRunner at matched accuracy; batch
  0.52× a libRoadRunner loop (quiet 16-core host); SSA 2.85×.
* On an H200 (``benchmarks/kinetics_gpu.py``, measured before this round; the vmapped programs it runs are
  unchanged): 1,000 sets of BIOMD0000000010 in 0.124 s, 12× the libRoadRunner loop on a quiet host; 10,000 sets in
  0.265 s (55×); SSA 58,800 trajectories/s at 1,000 runs and 1.3 million/s at 100,000 (13–49× GillesPy2).

Measured 2026-12-05 on the same machine (load ~0.9, same flags), after the lanes-last batch program and the SSA's
SplitMix64 streams, lanes-last chunks and threads; labwright's settings in half decades (``SOLVER_SETTINGS``):

* single solves at matched accuracy against libRoadRunner at its rtol 1e-6 / 1e-8 / 1e-10, with the old LU:
  20 species 1.24×, 0.87×, 0.52×; BIOMD0000000010 1.57×, 0.83×, 0.67×; BIOMD0000000009 0.76×, 0.49×, 0.16×;
* the same after the Gauss–Jordan inverse without row exchanges (:func:`labwright.tools.kinetics._rosenbrock.
  _inverse`): 20 species 1.58× (Rodas4 rtol 3e-5: 0.90 ms at error 7.2e-7 against 1.43 ms at 1.3e-6), 1.08×
  (Rodas5P rtol 1e-6: 1.30 ms at 3.2e-9 against 1.40 ms at 6.4e-9), 0.76×; BIOMD0000000010 1.72×, 0.90×, 0.73×;
  BIOMD0000000009 1.00×, 0.82×, 0.25× (runs differ by ~10 %). LSODA 17–41× and BDF 61× slower than labwright;
* batch of 1,000 sets of BIOMD0000000010: auto batch 0.22–0.31 s over runs (lanes-last chunks on 2 threads; one
  thread 0.42 s), one vmap 2.17 s, a loop of our single solves 1.05 s, a libRoadRunner loop 1.08–1.13 s:
  3.7–4.9× the libRoadRunner loop (target ≥ 10×), max |Δ| to the single solves 1.9e-11 nM;
* SSA of 1,000 trajectories: 0.015–0.016 s (63,000–68,000/s) on 2 threads, 0.024–0.025 s on one, against
  GillesPy2's 0.203–0.214 s (4,700–4,900/s): 13.4–13.8× (8.6–8.7× on one thread; GillesPy2's SSACSolver uses
  one).

Measured 2026-12-05, later (same machine, load ~0.5, ``--repeat 7``), after the in-place Gauss–Jordan inverse and with
the NDF solver (:mod:`labwright.tools.kinetics._bdf`: variable-order multistep reusing its Jacobian and inverse,
Jacobian refreshed as CVODE does) among labwright's settings; ratios are libRoadRunner's time over the fastest
labwright setting at least as accurate, at its rtol 1e-6 / 1e-8 / 1e-10:

* 20 species: **2.12× / 1.18× / 1.20×** (NDF 0.84 ms at 4.0e-7 against 1.77 ms at 1.3e-6; Rodas5P rtol 1e-6
  1.29 ms at 3.2e-9 against 1.52 ms at 6.4e-9; NDF rtol 3e-11 2.03 ms at 1.2e-10 against 2.45 ms at 1.9e-10);
* BIOMD0000000010: **1.92× / 1.17× / 1.21×** (Rodas4 0.56 ms at 1.1e-5 against 1.07 ms at 1.9e-5; NDF 1.02 ms at
  3.1e-7 against 1.19 ms at 3.3e-7; NDF 1.63 ms at 7.7e-9 against 1.98 ms at 8.1e-9);
* BIOMD0000000009 (22 species): **1.55× / 1.61× / 1.41×** (NDF 1.05 / 1.23 / 1.96 ms at 1.3e-6 / 5.6e-8 / 6.6e-10
  against 1.63 / 1.98 / 2.75 ms at 4.8e-6 / 9.8e-8 / 1.6e-9; Rodas5P needed 10.6 ms for 4.3e-10). Before the NDF
  these were 1.00× / 0.82× / 0.25×;
* LSODA 27–50× and BDF 61× slower than labwright.

Measured 2026-12-05, third session (same machine, load ~1, ``--repeat 7 --batch-rounds 3``), after the compressed
Jacobian (:mod:`labwright.tools.kinetics._sparsity`: the structural pattern read from the right-hand side's jaxpr,
columns that share no row pushed as one tangent, the lanes' LU and solves skipping structural zeros):

* lanes-last chunk of 64 on one thread: 0.43 → 0.26–0.30 ms per lane; single Rodas4 solves of BIOMD0000000010
  0.84 → 0.63 ms, Rodas5P at rtol 1e-8 1.52 → 1.29 ms; BIOMD0000000009 5–10 % faster;
* batch of 1,000 sets at matched accuracy (worst set's error against libRoadRunner's, both against libRoadRunner at
  rtol 1e-12), a loop of libRoadRunner at its rtol 1e-6 / 1e-8 / 1e-10 over labwright's batch: **11.4× / 10.2× /
  8.0×** with ``fold_constants=True`` (Rodas4 rtol 3e-5: 65 ms at 2.1e-5 against 738 ms at 6.8e-5; Rodas4 rtol
  1e-6: 111 ms at 7.6e-7 against 1,134 ms at 9.5e-7; Rodas5P rtol 3e-9: 253 ms at 1.5e-8 against 2,024 ms at
  2.1e-8), and 6.1× / 5.7× / 5.2× without (every parameter an input: 0.20 s at rtol 1e-6). Folding compiles a
  program for the batch's shared values (~10 s here, reported apart), so it pays when they come back. The unfolded
  batch is 4.3× a loop of our own single solves and 12× one vmap. Before this session the batch was 3.7–4.9× at the
  1e-8 setting only, and that setting (Rodas4 rtol 1e-6) was compared with libRoadRunner at 1e-8 without checking
  its error (it is 7.6e-7 against 9.5e-7: fair);
* per solve, a full run: 20 species 1.91× / 1.24× / 1.15×, BIOMD0000000010 1.79× / 1.08× / 1.21×, BIOMD0000000009
  1.49× / 1.44× / 1.38× (within the ~10 % run-to-run spread of the previous figures); SSA 13.3× GillesPy2 on two
  threads (in the full run the second core was busy and it fell to 8.1×, the same as one thread).

Measured 2026-12-05, fourth session (same machine, ``--repeat 7 --batch-rounds 3``), after the explicit methods in
the lanes-last batch program (:mod:`labwright.tools.kinetics._explicit`) and with libRoadRunner's Adams–Moulton as a
second peer setting. BIOMD0000000010 is not stiff (no Jacobian eigenvalue below −0.6 s⁻¹ over its course), so
explicit methods suit it, as Adams does for CVODE; BIOMD0000000009 is stiff (explicit methods 27–42 ms a solve,
Adams 87–94 ms), and there the NDF stays labwright's choice:

* batch of 1,000 sets at matched accuracy, libRoadRunner's loop over labwright's batch, at its rtol 1e-6 / 1e-8 /
  1e-10: **14.0× / 16.3× / 19.2×** against BDF and 14.2× / 17.2× / 20.6× against Adams (Tsit5 rtol 1e-6 57 ms at
  1.5e-5 against 798 ms at 6.8e-5; Tsit5 rtol 1e-7 72 ms at 6.8e-7 against 1,177 ms at 9.5e-7; Dopri8 rtol 1e-9
  109 ms at 1.1e-9 against 2,090 ms at 2.1e-8), with the shared constants folded on two threads. The same settings
  unfolded: 10.4× / 11.5× / 12.8× (BDF), 10.6× / 12.2× / 13.8× (Adams); folded on one thread, as libRoadRunner's
  loop runs: 8.1× / 9.5× / 10.5× and 8.3× / 10.0× / 11.3×. The Rosenbrock batches of the previous session are
  unchanged (Rodas4 rtol 1e-6 126 ms, Rodas5P rtol 3e-9 274 ms);
* per solve, BIOMD0000000010 against BDF 2.52× / 2.58× / 2.92× (Rodas4 rtol 3e-5, Tsit5 rtol 1e-6, Dopri8 rtol 1e-8
  at 0.54 / 0.57 / 0.82 ms) and against Adams 1.45× / 1.77× / 2.07× (Adams: 0.83 ms at 7.6e-6, 1.34 ms at 1.3e-7,
  1.78 ms at 2.6e-9); BIOMD0000000009 against BDF 1.70× / 1.52× / 1.46× (NDF), against Adams 57–72×; 20 species
  1.85× / 1.12× / 1.12×;
* SSA: 13.2× GillesPy2 in a run of that section alone, 10.4–12.6× after other sections, 8.8× at the end of the full
  run (the one-thread rate fell from 36,000 to 27,000 trajectories/s there: another process on the second core).

Where labwright loses: per warm solve, nowhere at matched accuracy in these runs (runs differ by ~10 %, so the
closest, 1.12× on the 20-species network at libRoadRunner's rtol 1e-8 and 1e-10, could fall to parity on a busier
machine). An NDF attempt costs 0.5 µs on the 8-species BIOMD0000000010 and 1.1–1.7 µs at 20–22 species, against
CVODE's 0.6–1.4 µs per step; the NDF takes about CVODE's number of steps. The CPU batch's lead rests on the model
being non-stiff: a stiff model needs the Rosenbrock lanes, which on this workload reach 7.6–9.3× folded in this run
(Rodas4 rtol 3e-5 and 1e-6, Rodas5P rtol 3e-9; 8.0–11.4× in the previous one) and 5–6× unfolded, and above 10
species those are no faster than single solves
(:mod:`labwright.tools.kinetics._ode`, ``AUTO_LANES_MAX_SPECIES``; BIOMD0000000009 in chunks of 16: 1.6 ms per lane,
the same as one solve, and 37 s to compile). A lane's pass of the Rosenbrock program costs 250–300 ns unfolded, a
quarter of it libm's scalar ``pow`` for a Hill exponent that is a parameter (XLA:CPU has no vectorised float64 pow).
Explicit methods do not detect stiffness: on a stiff model they run into the step limit (``ok`` False), and the
caller chooses the solver.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import libsbml
import numpy as np
import roadrunner
from _kinetics_workloads import (  # benchmarks/ is the script's folder, so on sys.path
    BATCH_ATOL,
    BATCH_MODEL,
    BATCH_PARAMETERS,
    BATCH_RTOL,
    BATCH_TIMES,
    SBML_DIR,
    batch_parameter_sets,
    ssa_problem,
    stiff_problem,
)
from labwright.tools._runtime import cpu_threads
from labwright.tools.kinetics import (
    PdPCParameters,
    compile_network,
    goldbeter_koshland,
    make_batch_solver,
    make_ode_solver,
    make_sbml_solver,
    make_steady_solver,
    network_to_sbml,
    pdpc_dose_response,
    pdpc_network,
    read_sbml,
)
from labwright.tools.kinetics._pdpc import relaxation_time
from labwright.tools.kinetics._ssa import make_ssa
from scipy.integrate import solve_ivp

RTOL, ATOL = 1e-6, 1e-10
# labwright's settings in the accuracy tables: Rodas4 for loose tolerances, Rodas5P (order 5) and the NDF for tight
# ones.
SOLVER_SETTINGS = (
    ("Rodas4", 1e-4),
    ("Rodas4", 3e-5),
    ("Rodas4", 1e-5),
    ("Rodas4", 1e-6),
    ("Rodas4", 1e-7),
    ("Rodas5P", 3e-6),
    ("Rodas5P", 1e-6),
    ("Rodas5P", 3e-7),
    ("Rodas5P", 1e-7),
    ("Rodas5P", 3e-8),
    ("Rodas5P", 1e-8),
    ("Rodas5P", 3e-9),
    ("Rodas5P", 1e-9),
    # The multistep NDF reuses its Jacobian and inverse (kinetics/_bdf.py): cheaper steps where n³ work dominates.
    ("NDF", 1e-6),
    ("NDF", 1e-7),
    ("NDF", 1e-8),
    ("NDF", 3e-9),
    ("NDF", 1e-9),
    ("NDF", 3e-10),
    ("NDF", 1e-10),
    ("NDF", 3e-11),
)
# Explicit methods (kinetics/_explicit.py) for the SBML models, where they finish: a non-stiff model's best choice.
EXPLICIT_SETTINGS = (
    ("Tsit5", 1e-5),
    ("Tsit5", 1e-6),
    ("Tsit5", 1e-7),
    ("Dopri8", 1e-7),
    ("Dopri8", 1e-8),
    ("Dopri8", 1e-9),
    ("Dopri8", 1e-10),
)


# ---- SciPy peer: the same mass-action model in NumPy ---------------------------------------------------------------
class NumpyMassAction:
    """dx/dt = S v(x), v_j = k_j ∏ x_i^a_ji, with its analytic Jacobian (what a careful SciPy user would write)."""

    def __init__(self, system, k=None):
        self.S = system.net
        self.A = system.orders.astype(float)
        self.k = np.asarray(system.k if k is None else k, dtype=float)

    def _powers(self, x):
        return x[None, :] ** self.A  # integer-valued float exponents: fine for slightly negative solver iterates

    def rhs(self, t, x):
        return self.S @ (self.k * np.prod(self._powers(x), axis=1))

    def jac(self, t, x):
        p = self._powers(x)
        dp = self.A * x[None, :] ** np.maximum(self.A - 1, 0)
        # ∏_{l≠i} p_l from exclusive prefix and suffix products (no division, safe at x = 0).
        ones = np.ones((p.shape[0], 1))
        prefix = np.cumprod(np.hstack([ones, p[:, :-1]]), axis=1)
        suffix = np.cumprod(np.hstack([ones, p[:, :0:-1]]), axis=1)[:, ::-1]
        return self.S @ (self.k[:, None] * dp * prefix * suffix)


def interleaved(fns: dict, repeat: int) -> tuple[dict, dict]:
    """Median time and last output of each contender, timed in alternating rounds (A, B, C, A, B, C, …) so that a
    change in machine load during the run hits every contender alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    outs = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            outs[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}, outs


def block(x):
    return jax.tree_util.tree_map(lambda a: a.block_until_ready() if hasattr(a, "block_until_ready") else a, x)


def warm(fn) -> float:
    """Run once (compiling) and return the seconds it took."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def accuracy_table(
    contenders: dict, reference: np.ndarray, scale: np.ndarray, repeat: int, unit: str, per: str = "solve"
) -> tuple[dict, dict]:
    """Time and error of every contender; then, per peer, the fastest labwright setting at least as accurate.
    Returns the medians and, per peer, that setting's name."""
    med, outs = interleaved(contenders, repeat)
    err = {name: float(np.max(np.abs(outs[name] - reference) / scale)) for name in contenders}
    print(f"    {'contender':46s} {'median/' + per:>13s} {'max error':>11s}  ({unit})")
    for name in contenders:
        print(f"    {name:46s} {med[name] * 1e3:10.2f} ms {err[name]:11.1e}")
        assert err[name] < 1e-3, f"{name} disagrees with the reference ({err[name]:.1e})"
    ours = [n for n in contenders if n.startswith("labwright")]
    print("    matched accuracy (fastest labwright setting with error ≤ the peer's; ratio > 1: labwright faster):")
    matched = {}
    for peer in (n for n in contenders if not n.startswith("labwright")):
        ok = [n for n in ours if err[n] <= err[peer]]
        if not ok:
            print(f"      vs {peer:44s} no labwright setting here is as accurate")
            continue
        matched[peer] = best = min(ok, key=lambda n: med[n])
        print(f"      vs {peer:44s} {best:40s} {med[peer] / med[best]:6.2f}x")
    return med, matched


# libRoadRunner's CVODE with BDF (its default, for stiff models) and with Adams–Moulton (stiff = False: for non-stiff
# ones, and more accurate per tolerance on BIOMD0000000010), each a peer setting in the accuracy tables.
CVODE_METHODS = {"BDF": True, "Adams": False}


def roadrunner_runner(sbml: str, species, ts: np.ndarray, rtol: float, atol: float, stiff: bool = True):
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = 1_000_000
    rr.integrator.stiff = stiff
    rr.timeCourseSelections = ["time", *(f"[{s}]" for s in species)]

    def solve():
        rr.reset()
        return np.asarray(rr.simulate(times=ts))[:, 1:]

    return rr, solve


# ---- 1. stiff 20-species network ---------------------------------------------------------------------------------
def bench_stiff(repeat: int) -> None:
    net, system, x0, ts = stiff_problem()
    model = NumpyMassAction(system)

    def scipy_solve(method, rtol, atol):
        sol = solve_ivp(model.rhs, (0, ts[-1]), x0, method=method, t_eval=ts, rtol=rtol, atol=atol, jac=model.jac)
        assert sol.success, sol.message
        return sol.y.T

    ref = scipy_solve("Radau", 1e-12, 1e-16)
    print(
        f"\n[1] stiff network: {system.n_species} species, {len(system.labels)} directed reactions, "
        f"t = 0…{ts[-1]:g} s, {len(ts)} outputs; error = max |x − x_Radau(1e-12)| in mol/m³"
    )
    args = (jnp.asarray(x0), jnp.asarray(system.k), jnp.asarray(ts))
    contenders = {}
    for solver, rtol in (*SOLVER_SETTINGS, ("Kvaerno5", 1e-6)):
        run = make_ode_solver(system, solver=solver, rtol=rtol, atol=rtol * 1e-4)
        name = f"labwright {solver} rtol {rtol:g}"
        print(f"    compile {name}: {warm(lambda run=run: block(run(*args))):.1f} s")
        contenders[name] = lambda run=run: np.asarray(block(run(*args))[0])
    text = network_to_sbml(net, {net.species[0]: 1.0})
    for rtol in (1e-6, 1e-8, 1e-10):
        _, solve = roadrunner_runner(text, net.species, ts, rtol, rtol * 1e-4)
        contenders[f"libRoadRunner CVODE rtol {rtol:g}"] = solve
    for method, rtol in (("LSODA", 1e-6), ("LSODA", 1e-8), ("BDF", 1e-7)):
        contenders[f"scipy {method} rtol {rtol:g}"] = lambda m=method, r=rtol: scipy_solve(m, r, r * 1e-4)
    accuracy_table(contenders, ref, np.ones(system.n_species), repeat, "mol/m³")


# ---- 2. curated BioModels -------------------------------------------------------------------------------------------
def bench_sbml(repeat: int) -> None:
    for model_id, t_end in (("BIOMD0000000010", 4000.0), ("BIOMD0000000009", 100.0)):
        bench_sbml_model(model_id, t_end, repeat)


def bench_sbml_model(model_id: str, t_end: float, repeat: int) -> None:
    path = str(SBML_DIR / f"{model_id}.xml")
    model = read_sbml(path)
    ts = np.linspace(0.0, t_end, 101)
    _, tight = roadrunner_runner(path, model.species, ts, 1e-12, 1e-16)
    ref = tight()
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-300)
    a_scale = float(scale.max())
    print(
        f"\n[2] {model_id} ({model.name[:60]}): {len(model.state)} state variables, {len(model.reactions)} "
        f"reactions, t = 0…{t_end:g} s, {len(ts)} outputs; error relative to each species' range, reference "
        "libRoadRunner rtol 1e-12"
    )
    p = jnp.asarray(model.parameter_values)
    keep = jnp.full(len(model.state), jnp.nan)
    tj = jnp.asarray(ts)
    contenders = {}
    for solver, rtol in SOLVER_SETTINGS + EXPLICIT_SETTINGS:
        solve = make_sbml_solver(model, solver=solver, rtol=rtol, atol=rtol * 1e-4 * a_scale)
        name = f"labwright {solver} rtol {rtol:g}"
        print(f"    compile {name}: {warm(lambda s=solve: block(s(p, keep, tj))):.1f} s")
        if not bool(solve(p, keep, tj)[1]):
            print(f"      {name} did not finish (step limit: the model is stiff for it); left out")
            continue
        contenders[name] = lambda s=solve: np.asarray(block(s(p, keep, tj))[0])
    for method, stiff in CVODE_METHODS.items():
        for rtol in (1e-6, 1e-8, 1e-10):
            _, solve = roadrunner_runner(path, model.species, ts, rtol, rtol * 1e-4 * a_scale, stiff)
            contenders[f"libRoadRunner CVODE {method} rtol {rtol:g}"] = solve
    x0, q = model.prepare(p)
    f = jax.jit(lambda t, x: model.rhs(t, x, q))
    jac = jax.jit(jax.jacfwd(lambda t, x: model.rhs(t, x, q), argnums=1))
    observe = jax.jit(jax.vmap(lambda t, x: model.observe(t, x, q)))

    def lsoda(rtol, f=f, jac=jac, observe=observe, x0=x0, t_end=t_end, ts=ts):
        sol = solve_ivp(
            lambda t, x: np.asarray(f(t, x)),
            (0.0, t_end),
            np.asarray(x0),
            method="LSODA",
            t_eval=ts,
            rtol=rtol,
            atol=rtol * 1e-4 * a_scale,
            jac=lambda t, x: np.asarray(jac(t, x)),
        )
        assert sol.success, sol.message
        return np.asarray(observe(jnp.asarray(ts), jnp.asarray(sol.y.T)))

    for rtol in (1e-6, 1e-8):
        contenders[f"scipy LSODA rtol {rtol:g} (jitted rhs, jac)"] = lambda r=rtol: lsoda(r)
    accuracy_table(contenders, ref, scale, repeat, "relative to range")


# ---- 3. batch of parameter sets -------------------------------------------------------------------------------------
# labwright's batch settings for the matched-accuracy table of [3]: the lanes-last programs (Rosenbrock and explicit)
# and, for the tightest, NDF solves mapped over chunks.
BATCH_SETTINGS = (
    ("Rodas4", 1e-4),
    ("Rodas4", 3e-5),
    ("Rodas4", 1e-5),
    ("Rodas4", 3e-6),
    ("Rodas4", 1e-6),
    ("Rodas4", 3e-7),
    ("Rodas5P", 3e-8),
    ("Rodas5P", 1e-8),
    ("Rodas5P", 3e-9),
    ("NDF", 1e-10),
    ("NDF", 3e-11),
    *EXPLICIT_SETTINGS,
)


def bench_batch(n_sets: int, rounds: int) -> None:
    path = str(SBML_DIR / f"{BATCH_MODEL}.xml")
    model = read_sbml(path)
    ts, names = BATCH_TIMES, BATCH_PARAMETERS
    p_sets = batch_parameter_sets(model, n_sets)
    idx = np.array([model.parameter_index(n) for n in names])
    a_scale = BATCH_ATOL / BATCH_RTOL  # atol = rtol × 1e-4 × the largest species range (nM), as in [2]
    x0s, qs = jax.vmap(model.prepare)(jnp.asarray(p_sets))
    tj = jnp.asarray(ts)
    observe = jax.jit(jax.vmap(jax.vmap(model.observe, in_axes=(0, 0, None)), in_axes=(None, 0, 0)))
    doc = libsbml.readSBMLFromFile(path)
    props = libsbml.ConversionProperties()
    props.addOption("promoteLocalParameters", True)  # so that libRoadRunner can set J0.V1 as a global 'J0_V1'
    assert doc.convert(props) == libsbml.LIBSBML_OPERATION_SUCCESS
    text = libsbml.writeSBMLToString(doc)

    def rr_loop(rtol, stiff=True):
        rr, _ = roadrunner_runner(text, model.species, ts, rtol, rtol * a_scale, stiff)

        def run():
            out = []
            for row in p_sets[:, idx]:
                rr.resetAll()
                for name, value in zip(names, row):
                    rr[name.replace(".", "_")] = float(value)
                out.append(np.asarray(rr.simulate(times=ts))[:, 1:])
            return np.stack(out)

        return run

    print(
        f"\n[3] batch: BIOMD0000000010 over {n_sets} parameter sets ({', '.join(names)} ×/÷ 1.5), {rounds} round(s), "
        "medians; error relative to each species' range, reference libRoadRunner rtol 1e-12 per set"
    )
    ref = rr_loop(1e-12)()
    scale = np.maximum(np.abs(ref).max(axis=(0, 1)), 1e-300)

    # (a) one setting against loops and vmap: a batch is never slower than a loop of our own solves.
    rtol, atol = BATCH_RTOL, BATCH_ATOL
    batch = make_batch_solver(model, solver="Rodas4", rtol=rtol, atol=atol)
    folded = make_batch_solver(model, solver="Rodas4", rtol=rtol, atol=atol, fold_constants=True)
    vbatch = make_batch_solver(model, mode="vmap", solver="Rodas4", rtol=rtol, atol=atol)
    single = make_ode_solver(model, solver="Rodas4", rtol=rtol, atol=atol)
    print(f"    (a) Rodas4 rtol {rtol:g}: compile batch {warm(lambda: block(batch(x0s[:2], qs[:2], tj))):.1f} s")
    # Folding compiles for the shared values of this batch (lanes program and the probe's single solve).
    print(f"    compile batch with constants folded: {warm(lambda: block(folded(x0s[:130], qs[:130], tj))):.1f} s")
    # vmap compiles for the batch size, so warm it on the full batch (compile + one run).
    print(f"    compile + first run vmap: {warm(lambda: block(vbatch(x0s, qs, tj))):.1f} s")
    warm(lambda: block(single(x0s[0], qs[0], tj)))
    contenders = {
        "labwright batch (make_batch_solver)": lambda: block(batch(x0s, qs, tj)),
        "labwright batch, 21 shared constants folded": lambda: block(folded(x0s, qs, tj)),
        "labwright vmap (all lanes in lock-step)": lambda: block(vbatch(x0s, qs, tj)),
        "labwright loop of jitted single solves": lambda: [block(single(x, q, tj)) for x, q in zip(x0s, qs)],
    }
    med, outs = interleaved(contenders, rounds)
    ys_batch = np.asarray(observe(tj, outs["labwright batch (make_batch_solver)"][0], qs))
    ys_folded = np.asarray(observe(tj, outs["labwright batch, 21 shared constants folded"][0], qs))
    ys_vmap = np.asarray(observe(tj, outs["labwright vmap (all lanes in lock-step)"][0], qs))
    ys_loop = np.stack(
        [np.asarray(observe(tj, y[None], q[None])[0]) for (y, _), q in zip(outs[list(contenders)[3]], qs)]
    )
    t_batch = med["labwright batch (make_batch_solver)"]
    print(f"    {'contender':46s} {'median':>9s} {'per set':>10s} {'batch speed-up':>15s}")
    for name in contenders:
        print(f"    {name:46s} {med[name]:7.2f} s {med[name] / n_sets * 1e3:7.2f} ms {med[name] / t_batch:14.2f}x")
    print(
        f"    max |Δ| batch vs loop {np.max(np.abs(ys_batch - ys_loop)):.1e} nM, folded vs loop "
        f"{np.max(np.abs(ys_folded - ys_loop)):.1e} nM, vmap vs loop "
        f"{np.max(np.abs(ys_vmap - ys_loop)):.1e} nM; batch vs a loop of our own solves "
        f"{med['labwright loop of jitted single solves'] / t_batch:.2f}x (target >= 1x)"
    )
    assert max(np.max(np.abs(ys_batch - ys_loop)), np.max(np.abs(ys_folded - ys_loop))) < 1e-8

    # (b) matched accuracy: each libRoadRunner loop against the fastest labwright batch at least as accurate (constants
    # folded, as a scan that comes back with the same shared values would run; compile apart).
    contenders, settings = {}, {}

    def batch_of(solver, rtol, **variant):
        options = {"solver": solver, "rtol": rtol, "atol": rtol * a_scale, "fold_constants": True, **variant}
        run = make_batch_solver(model, **options)
        return lambda: np.asarray(observe(tj, block(run(x0s, qs, tj))[0], qs))

    for solver, rtol in BATCH_SETTINGS:
        name = f"labwright batch {solver} rtol {rtol:g}"
        contenders[name], settings[name] = batch_of(solver, rtol), (solver, rtol)
        print(f"    (b) compile {name}: {warm(contenders[name]):.1f} s (compile + one run)")
    for method, stiff in CVODE_METHODS.items():
        for rtol in (1e-6, 1e-8, 1e-10):
            contenders[f"libRoadRunner loop {method} rtol {rtol:g}"] = rr_loop(rtol, stiff)
    med, matched = accuracy_table(contenders, ref, scale, rounds, "relative to range", per="batch")
    # The same matched settings without folding (every parameter an input: no compile per set of shared values), and
    # on one thread (libRoadRunner's loop runs on one core, the batch on every core).
    for label, variant in (("unfolded", {"fold_constants": False}), ("one thread", {"threads": 1})):
        runs = {name: batch_of(*settings[name], **variant) for name in sorted(set(matched.values()))}
        for run in runs.values():
            warm(run)
        med_variant, _ = interleaved(runs, rounds)
        for peer, name in matched.items():
            print(f"      vs {peer:44s} {f'{name}, {label}':40s} {med[peer] / med_variant[name]:6.2f}x")
    print("    (target: >= 10x a libRoadRunner loop; an accelerator's batch: benchmarks/kinetics_gpu.py)")


# ---- 2. PdPC dose–response -----------------------------------------------------------------------------------------
def bench_pdpc(repeat: int, n_points: int = 200) -> None:
    p = PdPCParameters()
    u = np.logspace(-2, 2, n_points)
    e1 = u * p.k2 * p.E2_total / p.k1
    system = compile_network(pdpc_network(p))
    t_relax = relaxation_time(p, e1)  # the one pdpc_dose_response chooses
    print(
        f"\n[4] PdPC dose–response: {n_points} kinase totals (u = 0.01…100), J1 = J2 = {p.J1:g}, "
        f"E2_T/W_T = {p.E2_total / p.W_total:g}, relaxation to {t_relax:.3g} s"
    )
    t0 = time.perf_counter()
    pdpc_dose_response(p, e1)
    compile_s = time.perf_counter() - t0
    f_gk = goldbeter_koshland(p.k1 * e1, p.k2 * p.E2_total, p.J1, p.J2)

    def x0_of(e):
        x = np.zeros(6)
        x[0], x[2], x[3] = p.W_total, e, p.E2_total
        return x

    # The same JAX steady-state solver, one jitted call per signal value (no vmap).
    run = make_steady_solver(system)
    k = jnp.asarray(system.k)
    block(run(jnp.asarray(x0_of(e1[0])), k, jnp.asarray(t_relax)))

    def jax_loop():
        xs = [np.asarray(run(jnp.asarray(x0_of(e)), k, jnp.asarray(t_relax))[0]) for e in e1]
        return np.array([x[1] + x[5] for x in xs]) / p.W_total

    model = NumpyMassAction(system)

    def scipy_sweep(method):
        out = []
        for e in e1:
            sol = solve_ivp(
                model.rhs, (0, t_relax), x0_of(e), method=method, rtol=RTOL, atol=ATOL, jac=model.jac, t_eval=[t_relax]
            )
            assert sol.success, sol.message
            x = sol.y[:, -1]
            out.append((x[1] + x[5]) / p.W_total)
        return np.array(out)

    contenders = {
        "labwright vmap (relax + Newton)": lambda: pdpc_dose_response(p, e1)["fraction"],
        "labwright per point (jit, no vmap)": jax_loop,
        "scipy solve_ivp BDF per point": lambda: scipy_sweep("BDF"),
        "scipy solve_ivp LSODA per point": lambda: scipy_sweep("LSODA"),
    }
    rounds = max(1, repeat // 2)
    med, outs = interleaved(contenders, rounds)
    f_jax, t_vmap = outs["labwright vmap (relax + Newton)"], med["labwright vmap (relax + Newton)"]
    print(f"    JAX compile (one-off): {compile_s:.1f} s; medians of {rounds} interleaved rounds")
    print(f"    {'method':44s} {'time':>9s} {'max |Δf| vs vmap':>17s} {'max |f − GK|':>13s} {'speed-up':>9s}")
    for name in contenders:
        f = outs[name]
        print(
            f"    {name:44s} {med[name]:7.2f} s {np.max(np.abs(f - f_jax)):17.1e} "
            f"{np.max(np.abs(f - f_gk)):13.1e} {med[name] / t_vmap:8.2f}x"
        )
        assert np.max(np.abs(f - f_jax)) < 1e-6, f"{name}: steady states disagree with the vmapped sweep"
    assert np.max(np.abs(f_jax - f_gk)) < 5e-4  # GK holds to O(E_T/K) here (see tests/kinetics/test_pdpc.py)


# ---- 5. SSA --------------------------------------------------------------------------------------------------------
def gillespy2_solver(n0, c, ts):
    """GillesPy2's C++ SSA for 2A ⇌ B, B → C (built with g++ and SCons at first use)."""
    # GillesPy2 finds SCons as a `scons` executable on PATH; the venv's bin holds it.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    import gillespy2

    m = gillespy2.Model(name="dimerisation")
    m.add_species([gillespy2.Species(name=s, initial_value=int(v)) for s, v in zip("ABC", n0)])
    # GillesPy2's mass-action propensity for 2A is c·A(A−1)/vol (gillespy2/core/reaction.py, vol = 1), labwright's
    # c·A(A−1): the same constant.
    m.add_parameter(
        [
            gillespy2.Parameter(name="c_dim", expression=repr(float(c[0]))),
            gillespy2.Parameter(name="c_undim", expression=repr(float(c[1]))),
            gillespy2.Parameter(name="c_conv", expression=repr(float(c[2]))),
        ]
    )
    m.add_reaction(
        [
            gillespy2.Reaction(name="dim", reactants={"A": 2}, products={"B": 1}, rate="c_dim"),
            gillespy2.Reaction(name="undim", reactants={"B": 1}, products={"A": 2}, rate="c_undim"),
            gillespy2.Reaction(name="conv", reactants={"B": 1}, products={"C": 1}, rate="c_conv"),
        ]
    )
    m.timespan(np.asarray(ts))
    return gillespy2.SSACSolver(model=m)


def bench_ssa(n_traj: int, repeat: int) -> None:
    system, n0, c, ts, omega = ssa_problem()
    t_end = float(ts[-1])
    threads = cpu_threads()
    ssa, ssa_one = make_ssa(system), make_ssa(system, threads=1)
    keys = jax.random.split(jax.random.PRNGKey(0), n_traj)
    args = (keys, jnp.asarray(n0), jnp.asarray(c), jnp.asarray(ts))
    compile_s = warm(lambda: block(ssa(*args)))
    warm(lambda: block(ssa_one(*args)))
    t0 = time.perf_counter()
    solver = gillespy2_solver(n0, c, ts)
    build_s = time.perf_counter() - t0
    seeds = iter(range(1, 10_000))
    contenders = {
        f"labwright JAX SSA ({threads} threads)": lambda: block(ssa(*args)),
        "labwright JAX SSA (1 thread)": lambda: block(ssa_one(*args)),
        "GillesPy2 SSACSolver (C++)": lambda: solver.run(number_of_trajectories=n_traj, seed=next(seeds)),
    }
    med, outs = interleaved(contenders, repeat)
    ours = f"labwright JAX SSA ({threads} threads)"
    counts, events, ok = outs[ours]
    assert bool(np.all(np.asarray(ok)))
    ours_final = np.asarray(counts)[:, -1, :]
    theirs_final = np.array([[tr[s][-1] for s in "ABC"] for tr in outs["GillesPy2 SSACSolver (C++)"]])
    ev = float(np.mean(np.asarray(events)))
    print(
        f"\n[5] SSA: 2A ⇌ B, B → C, Ω = {omega:g}, A0 = {n0[0]:g} molecules, t = 0…{t_end:g} s, {n_traj} "
        f"trajectories (~{ev:.0f} events each); JAX compile {compile_s:.1f} s, GillesPy2 C++ build {build_s:.1f} s"
    )
    for name in contenders:
        print(f"    {name:36s} {med[name]:7.3f} s = {n_traj / med[name]:10,.0f} trajectories/s")
    ratio = med["GillesPy2 SSACSolver (C++)"] / med[ours]
    ratio_one = med["GillesPy2 SSACSolver (C++)"] / med["labwright JAX SSA (1 thread)"]
    print(
        f"    labwright speed-up (trajectories/s, medians): {ratio:.2f}x on {threads} threads (target >= 10x), "
        f"{ratio_one:.2f}x on one thread (GillesPy2's SSACSolver runs on one)"
    )
    # Same keys, same streams: the thread count changes nothing.
    np.testing.assert_array_equal(np.asarray(counts), np.asarray(outs["labwright JAX SSA (1 thread)"][0]))
    se = np.sqrt(ours_final.var(axis=0) / n_traj + theirs_final.var(axis=0) / n_traj)
    print(f"    mean copy numbers at {t_end:g} s: labwright {ours_final.mean(axis=0)}")
    print(f"    {'':29s}GillesPy2 {theirs_final.mean(axis=0)}")
    # Same model, same law: the means agree within 5 standard errors (so the event counts match in expectation).
    assert np.all(np.abs(ours_final.mean(axis=0) - theirs_final.mean(axis=0)) <= 5 * se + 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timing rounds (medians are reported)")
    parser.add_argument("--batch", type=int, default=1000, help="parameter sets in the batch section")
    parser.add_argument("--batch-rounds", type=int, default=1, help="timing rounds of the batch section")
    parser.add_argument("--ssa-trajectories", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["stiff", "sbml", "batch", "pdpc", "ssa"])
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; float64: {jax.config.jax_enable_x64}")
    if "stiff" not in args.skip:
        bench_stiff(args.repeat)
    if "sbml" not in args.skip:
        bench_sbml(args.repeat)
    if "batch" not in args.skip:
        bench_batch(args.batch, args.batch_rounds)
    if "pdpc" not in args.skip:
        bench_pdpc(args.repeat)
    if "ssa" not in args.skip:
        bench_ssa(args.ssa_trajectories, args.repeat)


if __name__ == "__main__":
    main()
