"""Mechanism scoring speed: steps scored per second on the shipped mechanisms.

Columns, all run in this process on the same (gold, prediction) pairs:

* ``labwright oMeS (cold)`` - :func:`labwright.tools.mechanism.omes` with its species caches emptied before each pass;
* ``labwright oMeS (warm)`` - the same with caches filled (the steady state when scoring many predictions);
* ``naive oMeS`` - the same definition written without caches: every cell of the alignment parses both SMILES,
  canonicalises them and builds two fingerprints (as a straightforward implementation would);
* ``labwright score_mechanism`` - the richer score (validation, balance, continuity, diagnostics);
* ``oMeBench reference`` - ``scripts/utils_eval.py`` of a local oMeBench checkout, if given with ``--omebench DIR``
  or the ``OMEBENCH_DIR`` environment variable (skipped otherwise); its results are also compared with ours.

Predictions are the gold mechanisms themselves and deterministic corruptions of them (a step dropped, two steps
swapped, a methyl added, a SMILES broken). Target: >= 1,000 steps/s on 2 cores.

Run: ``.venv/bin/python benchmarks/mechanism_scoring.py [--omebench /path/to/oMeBench] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

from labwright.tools.chem import without_rdkit_log
from labwright.tools.mechanism import align, clear_caches, load_mechanism, load_omebench, omes, score_mechanism
from labwright.tools.mechanism._omes import _reference_entry
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples/data/mechanisms"
_GEN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def naive_omes(gold, pred, tau=0.6):
    """oMeS without any cache: canonicalise and fingerprint inside the alignment loop."""

    def canon(s):
        mol = Chem.MolFromSmiles(s)
        return "" if mol is None else Chem.MolToSmiles(mol)

    def pair_score(i, j):
        g, p = gold[i][1], pred[j][1]
        gc, pc = canon(g), canon(p)
        if not (gc and pc):
            return False, None
        sim = DataStructs.TanimotoSimilarity(
            _GEN.GetFingerprint(Chem.MolFromSmiles(g)), _GEN.GetFingerprint(Chem.MolFromSmiles(p))
        )
        return gc == pc, sim

    res = align([t for t, _, _ in gold], [w for _, _, w in gold], [t for t, _ in pred], pair_score, tau=tau)
    v = sum(1 for _, s in pred if canon(s)) / max(1, len(pred))
    return round(res.total, 2), round(res.partial, 2), round(v, 2), round(res.n_match / max(1, len(gold)), 2)


def workload():
    """(gold mechanism, predicted mechanism) pairs built from the shipped data."""
    mechs = load_omebench(DATA / "omebench_gold_sample.json")
    mechs += [load_mechanism(p) for p in sorted((DATA / "textbook").glob("*.yaml"))]
    pairs = []
    for m in mechs:
        steps = list(m.steps)
        variants = [steps]
        if len(steps) > 1:
            variants.append(steps[1:])
            variants.append([steps[1], steps[0], *steps[2:]])
        variants.append([steps[0].model_copy(update={"intermediate": steps[0].key_smiles + "C"}), *steps[1:]])
        variants.append([*steps[:-1], steps[-1].model_copy(update={"intermediate": steps[-1].key_smiles + "(("})])
        for v in variants:
            pairs.append((m, m.model_copy(update={"steps": v})))
    return pairs


def _tuples(gold, pred):
    g = [(s.subtype, s.key_smiles, w) for s, w in zip(gold.steps, gold.weights())]
    return g, [(s.subtype, s.key_smiles) for s in pred.steps]


def _time(fn, repeat, before=None):
    best = []
    for _ in range(repeat):
        if before:
            before()
        t0 = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t0)
    return min(best), statistics.median(best)


def _as_tuple(r):
    return (r.S_total, r.S_partial, r.V, r.L, list(r.alignment))


def _load_reference(path):
    script = Path(path) / "scripts" / "utils_eval.py"
    if not script.is_file():
        print(f"(no oMeBench scorer at {script}; reference column skipped)")
        return None
    spec = importlib.util.spec_from_file_location("omebench_utils_eval", script)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except ImportError as err:  # it imports pandas
        print(f"(cannot import the oMeBench scorer: {err}; reference column skipped)")
        return None
    return mod


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--omebench", default=os.environ.get("OMEBENCH_DIR"), help="oMeBench checkout (scripts/ inside)")
    ap.add_argument("--repeat", type=int, default=5, help="timed passes per column (best is reported)")
    args = ap.parse_args(argv)

    pairs = workload()
    tuples = [_tuples(g, p) for g, p in pairs]
    n_steps = sum(len(p.steps) for _, p in pairs)
    print(
        f"workload: {len(pairs)} (gold, prediction) pairs, {n_steps} predicted steps, "
        f"{len({g.id for g, _ in pairs})} reactions; best of {args.repeat} passes; cpus={os.cpu_count()}"
    )

    def clear():
        clear_caches()
        _reference_entry.cache_clear()

    rows = []
    with without_rdkit_log():
        rows.append(("labwright oMeS (cold)", *_time(lambda: [omes(g, p) for g, p in tuples], args.repeat, clear)))
        rows.append(("labwright oMeS (warm)", *_time(lambda: [omes(g, p) for g, p in tuples], args.repeat)))
        rows.append(("naive oMeS (no caches)", *_time(lambda: [naive_omes(g, p) for g, p in tuples], args.repeat)))
        rows.append(
            (
                "labwright score_mechanism (cold)",
                *_time(lambda: [score_mechanism(p, g) for g, p in pairs], args.repeat, clear),
            )
        )
        # Same answers from the cached and the naive implementation.
        for g, p in tuples:
            r = omes(g, p)
            assert naive_omes(g, p) == (r.S_total, r.S_partial, r.V, r.L)
        ref = _load_reference(args.omebench) if args.omebench else None
        if ref is not None:
            rows.append(("oMeBench reference scorer", *_time(lambda: [ref.oMeS(g, p) for g, p in tuples], args.repeat)))
            same = all(_as_tuple(ref.oMeS(g, p)) == _as_tuple(omes(g, p)) for g, p in tuples)
            print(f"reference and labwright oMeS identical on all {len(tuples)} pairs: {same}")
        elif not args.omebench:
            print("(reference column skipped: pass --omebench DIR or set OMEBENCH_DIR)")

    naive = next(best for name, best, _ in rows if name.startswith("naive"))
    print(f"\n{'scorer':36s} {'best s':>9s} {'median s':>9s} {'steps/s':>10s} {'vs naive':>9s}")
    for name, best, med in rows:
        print(f"{name:36s} {best:9.4f} {med:9.4f} {n_steps / best:10.0f} {naive / best:8.1f}x")
    cold = next(best for name, best, _ in rows if name == "labwright oMeS (cold)")
    ok = n_steps / cold >= 1000
    print(f"\ntarget >= 1,000 steps/s (oMeS, cold caches): {'met' if ok else 'NOT met'} ({n_steps / cold:.0f} steps/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
