"""Batch tools: a CV parameter sweep, many CV fits, many documents ingested — each one governed call.

Each tool splits its job into tasks, runs them on the chosen backend (``"local"``: this process, the reference;
``"ray"``: a Ray cluster, see :mod:`._executor`) and returns one table with every task's provenance (its inputs'
sha256, worker, device, wall time, attempts). The job as a whole is estimated, approved, budgeted and audited like
any tool call; the tasks inside it are not separate calls.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ..errors import InvalidInput
from ..tools.fields import ToolModel
from ..tools.registry import Cost, invalid_input_from, tool
from ._executor import Backend, Executor, TaskResult, make_executor
from ._tasks import SWEEPABLE, cv_sweep_chunk, extract_one_document, fit_one_dataset

__all__ = ["sweep_cv", "batch_fit_cv", "kg_ingest_batch", "TaskProvenance", "BATCH_TOOLS"]

BATCH_TOOLS = ("sweep_cv", "batch_fit_cv", "kg_ingest_batch")
MAX_SWEEP_CVS = 1_000_000  # results alone are ~7 floats per CV; a million is ~60 MB in memory and the limit here
MAX_DATASETS = 10_000
MAX_DOCUMENTS = 10_000
RAY_START_SECONDS = 10.0  # starting a local cluster and its first workers, measured 4-7 s on 2 cores

log = logging.getLogger("labwright.scale")

_BACKEND = Field(default="local", description="'local' (this process) or 'ray' (a Ray cluster; labwright[ray]).")


class TaskProvenance(ToolModel):
    """Where and how one task of a batch job ran."""

    task_id: str
    ok: bool
    error: str | None = None
    input_sha256: str = Field(description="sha256 of the task's inputs as canonical JSON.")
    worker: str = Field(description="host:pid of the worker process.")
    device: str = Field(description="JAX backend of the worker ('cpu', 'gpu'), or 'n/a'.")
    seconds: float = Field(description="Wall time on the worker, s.")
    attempts: int | None = Field(description="Attempts (1 = no retry); None where the attempt log is not shared.")


class _JobOut(ToolModel):
    backend: Backend
    workers: int = Field(description="Worker processes available to the job.")
    wall_seconds: float = Field(description="Wall time of the whole job, s.")
    tasks: list[TaskProvenance] = Field(description="One entry per task, in task order.")


def _run_job(
    backend: Backend, fn: Callable[[Any], Any], payloads: list[Any], prefix: str
) -> tuple[Executor, list[TaskResult], float]:
    from ..settings import get_settings

    attempt_dir = None
    if backend == "ray":
        attempt_dir = get_settings().home_dir / "scale" / f"{prefix}-{uuid.uuid4().hex[:12]}"
        attempt_dir.mkdir(parents=True, exist_ok=True)
    executor = make_executor(backend, attempt_dir=attempt_dir)
    start = time.perf_counter()

    def progress(res: TaskResult, done: int, total: int) -> None:
        log.info("%s: %d/%d tasks done (%s on %s, %.2f s)", prefix, done, total, res.task_id, res.worker, res.seconds)

    results = executor.map(fn, payloads, prefix=prefix, on_result=progress)
    return executor, results, time.perf_counter() - start


def _provenance(results: list[TaskResult]) -> list[TaskProvenance]:
    return [TaskProvenance.model_validate(r.model_dump(exclude={"value", "llm_requests"})) for r in results]


# Per-task bookkeeping (dispatch, result transfer, provenance, progress log): ~6 ms a task on a 16-core host and
# more on 2 cores, measured on sweeps of 1-CV tasks; Ray adds its scheduling and object store.
TASK_SECONDS = {"local": 0.02, "ray": 0.05}


def _startup(backend: Backend, n_tasks: int = 0) -> float:
    """Seconds a job spends outside its tasks' own work: starting Ray, and each task's overhead."""
    if backend == "ray":
        return RAY_START_SECONDS + n_tasks * TASK_SECONDS["ray"]
    return n_tasks * TASK_SECONDS["local"]


# --------------------------------------------------------------------------------------------------- sweep ----


def _simulate_cv_input():
    # Imported here: the electrochemistry engine (JAX) loads when a batch tool is first validated, not at import.
    from ..tools.electrochem._sim_tools import SimulateCVInput

    return SimulateCVInput


class SweepCVInput(ToolModel):
    cell: dict[str, Any] = Field(
        description="The cell and CV program every simulation shares: the arguments of simulate_cv (SI units; "
        "E_start, E_vertex, scan_rate required)."
    )
    vary: dict[str, list[float]] = Field(
        min_length=1,
        description=f"Parameters to sweep and their values (SI); every combination runs. Names from {SWEEPABLE}.",
    )
    # One vmapped batch per task: 8,192 CVs of ~2,000 samples is ~130 MB of float64 current per task.
    chunk_size: int = Field(default=256, ge=1, le=8192, description="CVs per task (one vmapped batch each).")
    backend: Backend = _BACKEND

    @field_validator("cell")
    @classmethod
    def _cell(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("plot_path"):
            raise InvalidInput("cell.plot_path", "a sweep writes no per-CV plots; leave plot_path unset")
        cell = _simulate_cv_input().model_validate({**value, "report_peaks": False})
        cell.check()
        return cell.model_dump()

    @model_validator(mode="after")
    def _vary(self) -> SweepCVInput:
        n = 1
        for name, values in self.vary.items():
            if name not in SWEEPABLE:
                raise InvalidInput(f"vary.{name}", f"cannot sweep {name!r}; sweepable: {', '.join(SWEEPABLE)}")
            if not values:
                raise InvalidInput(f"vary.{name}", "give at least one value")
            n *= len(values)
            if n > MAX_SWEEP_CVS:
                raise InvalidInput("vary", f"more than {MAX_SWEEP_CVS:,} combinations; sweep fewer values")
            model = _simulate_cv_input()
            for k, v in enumerate(dict.fromkeys(values)):  # each distinct value must be a valid cell on its own
                try:
                    model.model_validate({**self.cell, name: v})
                except ValidationError as err:
                    raise InvalidInput(f"vary.{name}.{k}", invalid_input_from(err).reason) from None
        return self

    def n_cvs(self) -> int:
        return math.prod(len(v) for v in self.vary.values())

    def task_size(self) -> int:
        """CVs per task: ``chunk_size``, or all of them when there are fewer."""
        return min(self.chunk_size, self.n_cvs())


class SweepCVOutput(_JobOut):
    n_cvs: int
    values: dict[str, list[float]] = Field(description="The swept parameters, one entry per CV (SI).")
    i_pa: list[float | None] = Field(description="Largest anodic current of each CV's first cycle, A (raw).")
    E_pa: list[float | None] = Field(description="Its potential, V.")
    i_pc: list[float | None] = Field(description="Largest cathodic current (negative), A (raw).")
    E_pc: list[float | None] = Field(description="Its potential, V.")


def _sweep_cost(inp: SweepCVInput) -> Cost:
    from ..tools.electrochem._sim_tools import _COMPILE_SECONDS, estimate_sim_seconds

    cell = _simulate_cv_input().model_validate(inp.cell)
    n_steps = cell.program()[0].size - 1
    per_cv = estimate_sim_seconds(cell.grid().n_nodes, n_steps, cell.mechanism) - _COMPILE_SECONDS
    # One worker assumed (an upper bound): a compile, then every CV.
    n_tasks = math.ceil(inp.n_cvs() / inp.task_size())
    seconds = _startup(inp.backend, n_tasks) + _COMPILE_SECONDS + inp.n_cvs() * per_cv
    return Cost(seconds=seconds, sim_calls=inp.n_cvs())


@tool(name="sweep_cv", cost=_sweep_cost)
def sweep_cv(inp: SweepCVInput) -> SweepCVOutput:
    """Simulate a CV for every combination of swept parameters (vmapped in chunks, locally or on Ray).

    Returns the swept values and each CV's first-cycle extreme anodic and cathodic currents with their potentials,
    plus per-task provenance (worker, device, time, retries).
    """
    names = list(inp.vary)
    rows = [list(r) for r in itertools.product(*(inp.vary[n] for n in names))]
    size = inp.task_size()
    payloads = [
        {"cell": inp.cell, "fields": names, "rows": rows[i : i + size], "pad_to": size}
        for i in range(0, len(rows), size)
    ]
    executor, results, wall = _run_job(inp.backend, cv_sweep_chunk, payloads, "sweep")
    cols: dict[str, list[float | None]] = {k: [] for k in ("i_pa", "E_pa", "i_pc", "E_pc")}
    for payload, res in zip(payloads, results, strict=True):
        for k in cols:
            cols[k] += res.value[k] if res.ok else [None] * len(payload["rows"])
    return SweepCVOutput(
        backend=inp.backend,
        workers=executor.workers,
        wall_seconds=wall,
        tasks=_provenance(results),
        n_cvs=len(rows),
        values={n: [r[k] for r in rows] for k, n in enumerate(names)},
        **cols,
    )


# ---------------------------------------------------------------------------------------------- batch fits ----


class BatchFitCVInput(ToolModel):
    # One job's result table and task list hold every dataset: split larger batches.
    datasets: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_DATASETS,
        description="One fit_cv input per dataset (its voltammograms or paths, fixed values, parameters to fit).",
    )
    backend: Backend = _BACKEND

    @field_validator("datasets")
    @classmethod
    def _datasets(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from ..tools.electrochem._fit_tools import FitCVInput

        out = []
        for k, ds in enumerate(value):
            try:
                out.append(FitCVInput.model_validate(ds).model_dump(mode="json", exclude_unset=True))
            except ValidationError as err:
                inner = invalid_input_from(err)
                raise InvalidInput(f"datasets.{k}.{inner.field}", inner.reason) from None
        return out


class FitRow(ToolModel):
    dataset: int = Field(description="Index in 'datasets'.")
    ok: bool
    error: str | None = None
    estimates: dict[str, float] = Field(default_factory=dict, description="Fitted values by parameter (SI).")
    stderr: dict[str, float | None] = Field(default_factory=dict, description="Their standard errors (SI).")
    rmse_relative: float | None = Field(default=None, description="rms residual / peak current.")
    converged: bool | None = None


class BatchFitCVOutput(_JobOut):
    table: list[FitRow] = Field(description="One row per dataset, in order.")
    fits: list[dict[str, Any] | None] = Field(description="Each full fit_cv result (None where the fit failed).")


def _batch_fit_cost(inp: BatchFitCVInput) -> Cost:
    from ..tools.electrochem._fit import COMPILE_SECONDS
    from ..tools.electrochem._fit_tools import FitCVInput, _fit_cost

    costs = [_fit_cost(FitCVInput.model_validate(ds)) for ds in inp.datasets]
    warm = sum(max(c.seconds - COMPILE_SECONDS, 0.0) for c in costs)
    seconds = _startup(inp.backend, len(costs)) + COMPILE_SECONDS + warm
    return Cost(seconds=seconds, sim_calls=sum(c.sim_calls for c in costs))


def _fit_row(k: int, res: TaskResult) -> FitRow:
    if not res.ok:
        return FitRow(dataset=k, ok=False, error=res.error)
    fit = res.value
    params = fit["parameters"]
    return FitRow(
        dataset=k,
        ok=True,
        estimates={n: p["value"] for n, p in params.items()},
        stderr={n: p.get("stderr") for n, p in params.items()},
        rmse_relative=fit["rmse_relative"],
        converged=fit["converged"],
    )


@tool(name="batch_fit_cv", cost=_batch_fit_cost)
def batch_fit_cv(inp: BatchFitCVInput) -> BatchFitCVOutput:
    """Fit many CV datasets (each as fit_cv would), in parallel locally or on Ray; one table of estimates.

    Returns a row per dataset (estimates, standard errors, relative rms residual, convergence or the error), the
    full fits, and per-task provenance.
    """
    executor, results, wall = _run_job(inp.backend, fit_one_dataset, inp.datasets, "fit")
    return BatchFitCVOutput(
        backend=inp.backend,
        workers=executor.workers,
        wall_seconds=wall,
        tasks=_provenance(results),
        table=[_fit_row(k, r) for k, r in enumerate(results)],
        fits=[r.value if r.ok else None for r in results],
    )


# --------------------------------------------------------------------------------------------- ingestion ----


class DocumentIn(ToolModel):
    # An id, not a text: 512 characters hold any DOI, URL or file name.
    id: str = Field(min_length=1, max_length=512, description="Document id that provenance will cite.")
    # 2 MB of text is a 300-page book; longer documents are split before ingesting.
    text: str = Field(min_length=1, max_length=2_000_000, description="Plain text (UTF-8).")
    # A title, not a text.
    title: str | None = Field(default=None, max_length=1000)


class IngestBatchInput(ToolModel):
    # One job's result lists every document: split larger corpora.
    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS, description="Texts to ingest.")
    extractor: Literal["auto", "offline", "llm"] = Field(default="auto", description="As for kg_ingest_text.")
    store_path: str | None = Field(
        default=None, description="SQLite file or postgresql:// URL of the store; default: settings."
    )
    backend: Backend = _BACKEND

    @field_validator("documents")
    @classmethod
    def _unique(cls, docs: list[DocumentIn]) -> list[DocumentIn]:
        seen: set[str] = set()
        for k, d in enumerate(docs):
            if d.id in seen:
                raise InvalidInput(f"documents.{k}.id", f"duplicate document id {d.id!r}")
            seen.add(d.id)
        return docs


class IngestBatchOutput(_JobOut):
    store_path: str
    extractor: str = Field(description="Extractor used (offline rules or llm:<model>).")
    documents: dict[str, str] = Field(description="Document id -> 'new' | 'unchanged' | 'changed'.")
    events: int
    edges_created: int
    provenance_added: int
    nodes_before: int
    nodes_after: int
    tokens: int
    chemical_names: str = Field(
        default="", description="Offline extraction: 'opsin' when chemical names were resolved, else 'off: why'."
    )


def _ingest_cost(inp: IngestBatchInput) -> Cost:
    chars = sum(len(d.text) for d in inp.documents)
    tokens = 0 if inp.extractor == "offline" else chars // 3
    return Cost(
        seconds=_startup(inp.backend, len(inp.documents)) + 0.05 * len(inp.documents) + chars / 2e5, tokens=tokens
    )


@tool(name="kg_ingest_batch", side_effect="writes_store", cost=_ingest_cost)
def kg_ingest_batch(inp: IngestBatchInput) -> IngestBatchOutput:
    """Ingest many documents into the knowledge store: extraction in parallel (locally or on Ray), writing here in
    one transaction, with the same provenance as kg_ingest_text."""

    from ..knowledge._ingest import Document, extraction_from_json, ingest_documents
    from ..knowledge._once import exactly_once
    from ..knowledge._store import open_store
    from ..knowledge._tools import store_location

    state: dict[str, Any] = {}

    def extract_many(docs: list[Document]) -> list:
        payloads = [{"id": d.id, "text": d.text, "title": d.title, "extractor": inp.extractor} for d in docs]
        executor, results, wall = _run_job(inp.backend, extract_one_document, payloads, "ingest")
        state.update(executor=executor, results=results, wall=wall)
        failed = [r for r in results if not r.ok]
        if failed:  # nothing is written when any document fails: the ingestion is all or nothing
            raise InvalidInput("documents", f"{failed[0].task_id}: {failed[0].error}")
        return [extraction_from_json(r.value) for r in results]

    docs = [Document(d.id, d.text, d.title) for d in inp.documents]

    def write(store: Any) -> IngestBatchOutput:
        report = ingest_documents(store, docs, extractor=inp.extractor, extract_many=extract_many)
        results = state.get("results", [])
        return IngestBatchOutput(
            backend=inp.backend,
            workers=state["executor"].workers if "executor" in state else 1,
            wall_seconds=state.get("wall", 0.0),
            tasks=_provenance(results),
            store_path=str(store.path),
            **report.as_dict(),
        )

    with open_store(store_location(inp.store_path)) as store:
        # In a governed run the write and the call's outcome commit together (a resumed call does not ingest twice).
        return exactly_once(store, IngestBatchOutput, lambda: write(store))
