"""Batch jobs on the local and the Ray executor: same results, retried tasks, one governed call per job.

The Ray tests start a real local Ray cluster with 2 CPUs (``ray.init()`` with no address), as a laptop would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from labwright import call_tool
from labwright.agents.governance import RunContext, governed_call
from labwright.errors import InvalidInput
from labwright.knowledge import open_store
from labwright.scale import LocalExecutor, batch_fit_cv, kg_ingest_batch, sweep_cv
from labwright.scale._executor import KILL_TASK_ENV
from labwright.tools.electrochem import simulate_cv

ROOT = Path(__file__).resolve().parents[2]
CELL = {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "dE": 2e-3}
VARY = {"k0": [1e-5, 1e-3, 1e-1], "alpha": [0.35, 0.5, 0.65]}


def _double(x):  # a task must be module-level: Ray workers import it by name
    return {"twice": 2 * x}


def test_local_executor_keeps_order_and_provenance():
    seen = []
    out = LocalExecutor().map(_double, [1, 2, 3], prefix="t", on_result=lambda r, done, total: seen.append(done))
    assert [r.value["twice"] for r in out] == [2, 4, 6]
    assert [r.task_id for r in out] == ["t-0000", "t-0001", "t-0002"] and seen == [1, 2, 3]
    assert all(r.attempts == 1 and r.worker and len(r.input_sha256) == 64 for r in out)


def test_sweep_matches_single_simulations():
    out = sweep_cv(cell=CELL, vary=VARY, chunk_size=4)  # 9 CVs in chunks of 4: the last chunk is padded
    assert out.n_cvs == 9 and len(out.tasks) == 3
    for k0, alpha in [(1e-5, 0.35), (1e-1, 0.65)]:
        i = next(j for j in range(9) if out.values["k0"][j] == k0 and out.values["alpha"][j] == alpha)
        ref = simulate_cv(**CELL, k0=k0, alpha=alpha, report_peaks=False, max_points=100_000)
        assert out.i_pa[i] == pytest.approx(max(ref.I), rel=1e-10)
        assert out.E_pa[i] == pytest.approx(ref.E[int(np.argmax(ref.I))], abs=1e-12)
        assert out.i_pc[i] == pytest.approx(min(ref.I), rel=1e-10)
    # Physics: a fast couple gives the reversible Randles-Sevcik peak, i_p = 0.4463 nFAC sqrt(nFvD/RT)
    # (Bard & Faulkner 2nd ed., eq. 6.2.19); 1 mM, 1e-6 m^2, D = 1e-9 m^2/s, 0.1 V/s; within 1 % on a 2 mV grid.
    F, R, T = 96485.33212, 8.314462618, 298.15
    rs = 0.4463 * F * 1e-6 * 1.0 * np.sqrt(F * 0.1 * 1e-9 / (R * T))
    fast = [out.i_pa[j] for j in range(9) if out.values["k0"][j] == 1e-1]
    assert fast == pytest.approx([rs] * 3, rel=0.01)


@pytest.mark.parametrize(
    ("vary", "field"),
    [({"alpha": [0.5, 1.5]}, "vary.alpha.1"), ({"n": [1, 2]}, "vary.n"), ({"k0": [-1.0]}, "vary.k0.0")],
)
def test_sweep_rejects_bad_values_naming_the_field(vary, field):
    with pytest.raises(InvalidInput, match=field.replace(".", r"\.")):
        sweep_cv(cell=CELL, vary=vary)


def test_sweep_rejects_huge_and_plotting_jobs():
    with pytest.raises(InvalidInput, match="1,000,000 combinations"):
        sweep_cv(cell=CELL, vary={"k0": [1e-3] * 1001, "alpha": [0.5] * 1001})
    with pytest.raises(InvalidInput, match="cell.plot_path"):
        sweep_cv(cell={**CELL, "plot_path": "x.png"}, vary={"k0": [1e-3]})


def _datasets(n: int) -> list[dict]:
    """n synthetic single-scan-rate CVs (k0 from 1e-5 to 1e-3 m/s) to fit for k0 and E0."""
    out = []
    for k0 in np.geomspace(1e-5, 1e-3, n):
        sim = simulate_cv(**CELL, k0=float(k0), report_peaks=False, max_points=151)
        out.append(
            {
                "voltammograms": [{"E": sim.E, "I": sim.I, "t": sim.t, "scan_rate": 0.1}],
                "params_to_fit": ["k0", "E0"],
                "fixed": {"alpha": 0.5, "D_O": 1e-9, "D_R": 1e-9, "c_bulk": 1.0, "area": 1e-6},
                "initial": {"k0": 1e-4, "E0": 0.01},
                "max_points": 150,
            }
        )
    return out


def test_batch_fit_rows_follow_datasets_and_failures_stay_rows():
    data = _datasets(2)
    bad = {**data[1], "voltammograms": [{**data[1]["voltammograms"][0], "scan_rate": None, "t": None}]}
    out = batch_fit_cv(datasets=[data[0], bad])
    assert out.table[0].ok and out.table[0].estimates["k0"] == pytest.approx(1e-5, rel=0.05)
    assert not out.table[1].ok and out.table[1].error and out.fits[1] is None


def test_batch_fit_names_the_bad_dataset_field():
    with pytest.raises(InvalidInput, match=r"datasets\.1\.params_to_fit"):
        batch_fit_cv(datasets=[_datasets(1)[0], {**_datasets(1)[0], "params_to_fit": ["nonsense"]}])


def _corpus(n: int) -> list[dict]:
    lines = (ROOT / "examples/corpus/passages.jsonl").read_text().splitlines()[:n]
    return [{"id": d["id"], "text": d["text"]} for d in map(json.loads, lines)]


def _store_rows(path: Path) -> dict:
    with open_store(path) as store:
        c = store.conn
        return {
            "nodes": sorted(r[0] for r in c.execute("SELECT key FROM nodes")),
            "edges": sorted(c.execute("SELECT key, relation FROM edges").fetchall()),
            "documents": sorted(c.execute("SELECT id, sha256 FROM documents").fetchall()),
            "counts": store.counts(),
        }


# ------------------------------------------------------------------------------------------------- on Ray ----


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="the Ray backend needs labwright[ray]")
    old = {k: os.environ.get(k) for k in ("LABWRIGHT_RAY_NUM_CPUS", KILL_TASK_ENV, "RAY_ADDRESS")}
    os.environ["LABWRIGHT_RAY_NUM_CPUS"] = "2"
    os.environ.pop("RAY_ADDRESS", None)
    # Workers inherit this environment: the fourth fit task kills its worker on its first attempt.
    os.environ[KILL_TASK_ENV] = "fit-0003"
    yield ray
    ray.shutdown()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.mark.slow
def test_ray_sweep_equals_local(ray_cluster):
    local = sweep_cv(cell=CELL, vary=VARY, chunk_size=4)
    remote = sweep_cv(cell=CELL, vary=VARY, chunk_size=4, backend="ray")
    assert remote.backend == "ray" and remote.workers == 2
    for key in ("i_pa", "E_pa", "i_pc", "E_pc"):
        assert getattr(remote, key) == pytest.approx(getattr(local, key), rel=1e-12, abs=1e-15)
    assert [t.input_sha256 for t in remote.tasks] == [t.input_sha256 for t in local.tasks]
    assert {t.worker for t in remote.tasks} != {t.worker for t in local.tasks}  # really elsewhere
    assert all(t.device == "cpu" and t.attempts == 1 for t in remote.tasks)


@pytest.mark.slow
def test_ray_batch_fit_of_eight_equals_local_and_retries_a_killed_task(ray_cluster):
    data = _datasets(8)
    local = batch_fit_cv(datasets=data)
    ctx = RunContext.open("batch-fit-run", auto_approve="all")
    outcome = governed_call(ctx, "electrochemist", "batch_fit_cv", {"datasets": data, "backend": "ray"}, "fit/1")
    assert outcome.ok, outcome.message
    remote = outcome.result
    assert [r["ok"] for r in remote["table"]] == [True] * 8
    for a, b in zip(local.table, remote["table"], strict=True):
        for name, value in a.estimates.items():
            assert b["estimates"][name] == pytest.approx(value, rel=1e-8)
    attempts = {t["task_id"]: t["attempts"] for t in remote["tasks"]}
    assert attempts.pop("fit-0003") == 2  # its worker was killed mid-way and Ray ran it again
    assert set(attempts.values()) == {1}
    # The job is one governed call: one request, one decision, one result in the audit log.
    rows = [r for r in ctx.audit.rows(run_id="batch-fit-run") if r.tool == "batch_fit_cv"]
    assert [r.event for r in rows].count("tool_request") == 1
    assert [r.event for r in rows].count("tool_result") == 1


@pytest.mark.slow
def test_ray_parallel_ingestion_builds_the_same_store(ray_cluster, tmp_path):
    docs = _corpus(12)
    a = kg_ingest_batch(documents=docs, extractor="offline", store_path=str(tmp_path / "local.sqlite"))
    b = kg_ingest_batch(documents=docs, extractor="offline", store_path=str(tmp_path / "ray.sqlite"), backend="ray")
    assert b.backend == "ray" and len(b.tasks) == 12 and all(t.ok for t in b.tasks)
    assert (a.events, a.edges_created, a.nodes_after) == (b.events, b.edges_created, b.nodes_after)
    assert _store_rows(tmp_path / "local.sqlite") == _store_rows(tmp_path / "ray.sqlite")
    # The same documents through the one-at-a-time tool give the same store too.
    for d in docs:
        one = {
            "text": d["text"],
            "document_id": d["id"],
            "extractor": "offline",
            "store_path": str(tmp_path / "one.sqlite"),
        }
        call_tool("kg_ingest_text", one)
    assert _store_rows(tmp_path / "one.sqlite") == _store_rows(tmp_path / "ray.sqlite")
