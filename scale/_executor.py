"""Executors: run independent tasks in this process or on a Ray cluster, with per-task provenance.

Both executors take a module-level function ``fn(payload) -> JSON-able value`` and a list of payloads, and return
one :class:`TaskResult` per payload, in the payloads' order; ``on_result`` sees each result as it arrives (progress).
A task that raises a :class:`~labwright.errors.LabwrightError` becomes a failed row (``ok=False``, the message kept)
and the other tasks go on; any other exception is a bug and propagates.

* :class:`LocalExecutor` runs the tasks one after another here: the single-process reference path.
* :class:`RayExecutor` sends each task to a Ray worker. ``ray.init()`` with no address starts a local cluster (a
  laptop is a cluster of one); ``RAY_ADDRESS`` (or ``LABWRIGHT_RAY_ADDRESS``) joins a real one, whose workers must
  have labwright installed. A worker that dies mid-task (killed, out of memory, its node lost) is retried up to
  ``max_retries`` times by Ray; each attempt is counted in the job's attempt log when the workers share the folder.

The address comes from the environment a person set, never from a tool's arguments: a model cannot point the lab at
another machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from ..errors import InvalidInput, LabwrightError
from ..metering import BudgetExhausted, current_call, tool_call

__all__ = ["TaskResult", "Executor", "LocalExecutor", "RayExecutor", "make_executor", "Backend", "KILL_TASK_ENV"]

Backend = Literal["local", "ray"]

# Test hook (fault injection): a task whose id equals this variable kills its worker process on its first attempt,
# after the attempt is logged, so that a retry can be observed. Never set outside tests.
KILL_TASK_ENV = "LABWRIGHT_TEST_KILL_TASK"


class TaskResult(BaseModel):
    """One task's outcome and where it ran."""

    task_id: str = Field(description="Position-derived id, e.g. 'sweep-0003'.")
    ok: bool = Field(description="False when the task raised a LabwrightError (see 'error').")
    value: Any = Field(default=None, description="What the task returned (JSON-able).")
    error: str | None = Field(default=None, description="The error message of a failed task.")
    input_sha256: str = Field(description="sha256 of the task's payload as canonical JSON.")
    worker: str = Field(description="host:pid of the process that ran it.")
    device: str = Field(description="JAX backend of that process ('cpu', 'gpu'), or 'n/a' if JAX was not used.")
    seconds: float = Field(description="Wall time of the task on its worker, s.")
    attempts: int | None = Field(default=None, description="Attempts Ray made (1 = no retry); None if unknown.")
    llm_requests: list[tuple[int, str]] = Field(
        default_factory=list,
        description="(tokens, label) of each model request the task made on a worker outside this process; the "
        "executor records them in the governed run's budget.",
    )


class _TaskMeter:
    """The meter a task uses on a worker that cannot reach the run's ledger.

    Tasks run in parallel and cannot see each other's spending, so each gets a fixed share of what the run's budget
    left when the job was sent (``share`` tokens, ``None`` = no token limit) and spends only that: the job as a whole
    stays within the budget. Each request is further capped at ``cap`` (the tool's own limit), and its tokens (the
    server's usage) are kept for the caller to record in the run."""

    def __init__(self, cap: int, share: int | None = None):
        self.cap = cap
        self.share = share
        self.spent: list[tuple[int, str]] = []

    def allow(self, max_tokens: int, prompt_tokens: int = 0) -> int:
        room = min(max_tokens, self.cap)
        if self.share is not None:
            left = self.share - sum(t for t, _ in self.spent) - prompt_tokens
            if left <= 0:
                raise BudgetExhausted(
                    f"this task's share of the run's token budget ({self.share} tokens of what was left when the job "
                    f"started, split over its parallel tasks) leaves nothing for a reply after a prompt of "
                    f"~{prompt_tokens} tokens; extend the budget or send fewer tasks"
                )
            room = min(room, left)
        return room

    def record(self, tokens: int, *, label: str) -> None:
        self.spent.append((int(tokens), label))


_PROBE = 2**62  # asks a meter for "everything": it answers with what the run's budget leaves (or this, without a limit)


def _metering(n_tasks: int) -> tuple[str, str, int, int | None] | None:
    """``(key, tool, cap, share)`` for the ``n_tasks`` tasks of the governed call this job runs in (``None`` outside
    one, or unmetered): ``cap`` limits one request (the tool's own cap), ``share`` is each task's part of what the
    run's token budget leaves now (``None`` without a token limit)."""
    from ..settings import get_settings

    scope = current_call()
    if scope is None or scope.meter is None:
        return None
    settings = get_settings()
    cap, share = settings.tool_llm_max_tokens, None
    if settings.llm_configured:
        left = scope.meter.allow(_PROBE)  # BudgetExhausted when nothing is left: the job fails before it starts
        if left < _PROBE:
            share = left // max(n_tasks, 1)
            cap = min(cap, left)
    return scope.key, scope.tool, cap, share


def _record(result: TaskResult) -> None:
    """Count a task's model requests in the run this job is a governed call of."""
    scope = current_call()
    if scope is not None and scope.meter is not None:
        for tokens, label in result.llm_requests:
            scope.meter.record(tokens, label=label)


def payload_sha256(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _device() -> str:
    import sys

    if "jax" not in sys.modules:
        return "n/a"
    import jax

    return jax.default_backend()


def _log_attempt(attempt_dir: str | None, task_id: str) -> int | None:
    """Append this attempt to the task's line in the job's attempt log; the count so far (None without a log)."""
    if not attempt_dir:
        return None
    path = Path(attempt_dir) / f"{task_id}.attempts"
    try:
        with path.open("a") as fh:
            fh.write(f"{socket.gethostname()}:{os.getpid()}\n")
        return len(path.read_text().splitlines())
    except OSError:  # a worker on another host without the shared folder
        return None


def run_task(
    fn_ref: str,
    payload: Any,
    task_id: str,
    attempt_dir: str | None = None,
    metered: tuple[str, str, int, int | None] | None = None,
) -> dict[str, Any]:
    """Run ``module:function`` on ``payload`` here and describe the outcome (the body of every task).

    Module-level and referenced by name so that Ray workers import it instead of unpickling a closure. ``metered``
    (``(key, tool, cap, share)`` from :func:`_metering`) runs the task as that governed call with a
    :class:`_TaskMeter`: its model requests are capped, all of them together within its share of the budget, and
    their tokens returned in ``llm_requests``.
    """
    attempt = _log_attempt(attempt_dir, task_id)
    if os.environ.get(KILL_TASK_ENV) == task_id and attempt == 1:
        os._exit(137)  # the seam the retry test needs: the worker dies after the attempt is on record
    module, _, name = fn_ref.partition(":")
    fn = getattr(importlib.import_module(module), name)
    start = time.perf_counter()
    meter = _TaskMeter(*metered[2:]) if metered else None
    try:
        with tool_call(metered[0], metered[1], meter) if metered else contextlib.nullcontext():
            value, error = fn(payload), None
    except LabwrightError as err:
        value, error = None, str(err)
    return {
        "llm_requests": meter.spent if meter else [],
        "task_id": task_id,
        "ok": error is None,
        "value": value,
        "error": error,
        "input_sha256": payload_sha256(payload),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "device": _device(),
        "seconds": time.perf_counter() - start,
        "attempts": attempt,
    }


def _ref(fn: Callable) -> str:
    if "<" in fn.__qualname__ or fn.__module__ == "__main__":
        # Workers import the task by name: a closure, a lambda or a script's function cannot be found there.
        raise TypeError(f"tasks must be module-level functions of an importable module, got {fn.__qualname__}")
    return f"{fn.__module__}:{fn.__qualname__}"


class Executor(Protocol):
    """Runs ``fn`` on each payload; results in payload order."""

    name: str

    @property
    def workers(self) -> int: ...

    def map(
        self,
        fn: Callable[[Any], Any],
        payloads: Sequence[Any],
        *,
        prefix: str = "task",
        on_result: Callable[[TaskResult, int, int], None] | None = None,
    ) -> list[TaskResult]: ...


def _task_ids(prefix: str, n: int) -> list[str]:
    width = max(4, len(str(n - 1)))
    return [f"{prefix}-{i:0{width}d}" for i in range(n)]


@dataclasses.dataclass
class LocalExecutor:
    """Tasks one after another in this process (the single-process reference)."""

    name: str = "local"

    @property
    def workers(self) -> int:
        return 1

    def map(self, fn, payloads, *, prefix="task", on_result=None) -> list[TaskResult]:
        ref, out = _ref(fn), []
        for i, task_id in enumerate(_task_ids(prefix, len(payloads))):
            res = TaskResult.model_validate(run_task(ref, payloads[i], task_id))
            res.attempts = 1
            out.append(res)
            if on_result:
                on_result(res, i + 1, len(payloads))
        return out


def ray_address() -> str | None:
    """The cluster to join, from the environment a person set (``LABWRIGHT_RAY_ADDRESS`` or ``RAY_ADDRESS``)."""
    from ..settings import get_settings

    return get_settings().ray_address or os.environ.get("RAY_ADDRESS") or None


@dataclasses.dataclass
class RayExecutor:
    """Tasks on a Ray cluster: a local one (``ray.init()`` with ``num_cpus``) or the one at ``ray_address()``.

    Parameters
    ----------
    num_cpus
        CPUs of a *local* cluster started here (default: all); ignored when joining an existing cluster.
    max_retries
        Times Ray re-runs a task whose worker died.
    gpus_per_task
        GPUs each task asks for (0: CPU workers; set it on a GPU cluster so JAX on the worker sees one).
    attempt_dir
        Folder of the attempt log (must be shared by the workers to count retries); None: attempts unknown.
    """

    num_cpus: int | None = None
    max_retries: int = 3
    gpus_per_task: float = 0.0
    attempt_dir: str | None = None
    name: str = "ray"

    def __post_init__(self) -> None:
        try:
            import ray
        except ImportError:
            raise InvalidInput(
                "backend", "the Ray backend needs the optional extra: pip install 'labwright[ray]'"
            ) from None
        if not ray.is_initialized():
            address = ray_address()
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                kwargs.update(num_cpus=self.num_cpus, object_store_memory=256 * 2**20)
            try:
                ray.init(address=address, **kwargs)
            except (OSError, RuntimeError, ConnectionError, ValueError) as err:
                # e.g. a long TMPDIR: Ray's socket paths under it exceed the 107-byte AF_UNIX limit
                ray.shutdown()
                raise InvalidInput(
                    "backend",
                    f"Ray could not start ({type(err).__name__}: {err}); use backend 'local', or a shorter "
                    "RAY_TMPDIR / TMPDIR for a local cluster",
                ) from None
        self._ray = ray
        self._remote = ray.remote(max_retries=self.max_retries, retry_exceptions=False, num_cpus=1)(run_task)
        if self.gpus_per_task:
            self._remote = self._remote.options(num_gpus=self.gpus_per_task)

    @property
    def workers(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def map(self, fn, payloads, *, prefix="task", on_result=None) -> list[TaskResult]:
        ray, ref = self._ray, _ref(fn)
        ids = _task_ids(prefix, len(payloads))
        # Workers cannot reach this run's ledger: their model requests come back in each result and are recorded here.
        metered = _metering(len(payloads))
        refs = {self._remote.remote(ref, payloads[i], tid, self.attempt_dir, metered): i for i, tid in enumerate(ids)}
        out: list[TaskResult | None] = [None] * len(payloads)
        waiting, done = list(refs), 0
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            for r in ready:
                res = TaskResult.model_validate(ray.get(r))
                _record(res)
                out[refs[r]] = res
                done += 1
                if on_result:
                    on_result(res, done, len(payloads))
        return [r for r in out if r is not None]


def make_executor(backend: Backend, *, attempt_dir: str | Path | None = None) -> Executor:
    """The executor for ``backend`` ('local' or 'ray'; a local Ray cluster gets ``settings.ray_num_cpus``)."""
    if backend == "local":
        return LocalExecutor()
    if backend == "ray":
        from ..settings import get_settings

        cpus = get_settings().ray_num_cpus
        return RayExecutor(num_cpus=cpus, attempt_dir=str(attempt_dir) if attempt_dir else None)
    raise InvalidInput("backend", f"backend must be 'local' or 'ray', got {backend!r}")
