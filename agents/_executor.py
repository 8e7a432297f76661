"""Where a governed tool call actually runs: a warm worker process that can be killed at the call's deadline.

A deadline stops the call, it does not merely stop waiting for it. A thread cannot be stopped while it sits in
JAX's compiled code or inside an SQLite query, so every tool whose function can be imported by name runs in a
*worker process* (``spawn``, never ``fork``: JAX starts threads a forked child would inherit half-locked). Workers are
kept warm and reused, one call at a time each; a worker past its deadline is killed with ``SIGKILL`` together with
any processes it started (it leads its own process group), and the next call gets a fresh one.

The deadline is ``clamp(factor × estimated seconds, floor, cap)`` from :class:`~labwright.settings.Settings`
(``LABWRIGHT_DEADLINE_FACTOR``, ``LABWRIGHT_DEADLINE_FLOOR_S``, ``LABWRIGHT_DEADLINE_CAP_S``); the clock starts when
the worker has imported the tool, so a cold worker's imports never count against the tool.

A tool defined inside a function (a closure: test fixtures, plugins registering on the fly) cannot be imported by a
worker; it runs in the caller's thread, and at its deadline a :class:`ToolTimeout` is raised inside it. That stops
Python code at its next bytecode, but not a call blocked in C — which is why every labwright tool is defined at
module level.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import LabwrightError
from ..metering import BudgetExhausted, CallScope, current_call, tool_call
from ..tools._paths import current_settings
from ..tools.registry import Cost, ToolSpec, get_tool, list_tools

__all__ = ["ToolTimeout", "ToolRaised", "Deadline", "deadline_for", "run_tool", "shutdown_workers"]


class ToolTimeout(LabwrightError):
    """A tool call ran past its deadline and was stopped."""

    def __init__(self, tool: str, seconds: float, estimate: float):
        self.tool = tool
        self.seconds = seconds
        self.estimate = estimate
        super().__init__(
            f"timed out: {tool} was stopped after {seconds:.3g} s, its deadline (estimated {estimate:.3g} s); "
            "the input is probably larger or harder than the estimate assumed — try a smaller problem, or ask a "
            "person to raise LABWRIGHT_DEADLINE_FACTOR / LABWRIGHT_DEADLINE_FLOOR_S"
        )


@dataclass(frozen=True)
class Deadline:
    """Wall-clock limit of one call, s, and how it was derived (recorded in the audit log)."""

    seconds: float
    estimate: float
    factor: float
    floor: float
    cap: float

    def as_dict(self) -> dict[str, float]:
        return {"seconds": self.seconds, "estimate": self.estimate, "factor": self.factor, "floor": self.floor,
                "cap": self.cap}  # fmt: skip


def deadline_for(estimate: Cost, settings: Any = None) -> Deadline:
    """The deadline of a call with cost ``estimate``: ``clamp(factor × estimate.seconds, floor, cap)``, s."""
    if settings is None:
        settings = current_settings()
    f, lo, hi = settings.deadline_factor, settings.deadline_floor_s, settings.deadline_cap_s
    seconds = min(max(f * max(estimate.seconds, 0.0), lo), max(hi, lo))
    return Deadline(seconds=seconds, estimate=estimate.seconds, factor=f, floor=lo, cap=hi)


# -- the worker process --------------------------------------------------------------------------------------------
def _set_parent_death_signal() -> None:
    # Linux: the worker dies with the process that governs it (a killed run leaves no tool running behind it).
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _import_tool(name: str, module: str, file: str | None) -> ToolSpec:
    """The tool as registered in this worker: import its module (by name, else from its file under that name)."""
    if module not in sys.modules:
        try:
            importlib.import_module(module)
        except ImportError:
            if file is None:
                raise
            spec = importlib.util.spec_from_file_location(module, file)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[module] = mod
            spec.loader.exec_module(mod)
    return get_tool(name)


def _sync(env: dict[str, str], cwd: str, path: list[str]) -> None:
    # The caller's environment (LABWRIGHT_HOME, ...) as it is at this call: tests and servers change it between calls.
    if dict(os.environ) != env:
        os.environ.clear()
        os.environ.update(env)
    if os.getcwd() != cwd:
        os.chdir(cwd)
    if sys.path != path:
        sys.path[:] = path


class _PipeMeter:
    """The run's :class:`~labwright.metering.Meter` seen from a worker: each question goes to the caller, which asks
    the run's meter (ledger, budget) and answers while it waits for the tool."""

    def __init__(self, conn: Any):
        self.conn = conn

    def _ask(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self.conn.send(("meter", method, args, kwargs))
        kind, value = self.conn.recv()
        if kind == "exhausted":
            raise BudgetExhausted(value)
        return value

    def allow(self, max_tokens: int, prompt_tokens: int = 0) -> int:
        return self._ask("allow", max_tokens, prompt_tokens)

    def record(self, tokens: int, *, label: str) -> None:
        self._ask("record", tokens, label=label)


def _answer_meter(conn: Any, question: tuple, scope: CallScope | None) -> None:
    """Answer a worker's meter question with the run's meter (none: the tool's own cap, nothing recorded)."""
    _, method, args, kwargs = question
    meter = scope.meter if scope is not None else None
    try:
        if meter is not None:
            value = getattr(meter, {"allow": "allow", "record": "record"}[method])(*args, **kwargs)
        else:
            value = args[0] if method == "allow" else None
    except BudgetExhausted as err:
        conn.send(("exhausted", str(err)))
        return
    conn.send(("ok", value))


def _worker_main(conn: Any) -> None:
    """Serve calls from ``conn`` until it closes: ``(tool, module, file, args, env, cwd, path, scope, announce)`` in,
    ``("started",)`` when ``announce``, any ``("meter", ...)`` questions, then ``("ok", json)`` /
    ``("error", type, message)`` out; ``scope`` is ``(key, tool, metered, confined)`` of the governed call (see
    :mod:`labwright.metering`) or ``None``."""
    os.setsid()  # own process group: a kill takes whatever the tool started with it
    _set_parent_death_signal()
    list_tools()  # import every labwright tool (JAX, RDKit) now, while no call waits
    while True:
        try:
            name, module, file, args, env, cwd, path, scope, announce = conn.recv()
        except (EOFError, OSError):
            return
        try:
            _sync(env, cwd, path)
            spec = _import_tool(name, module, file)
        except BaseException as err:  # the tool cannot be loaded here: say so; the caller reports it
            conn.send(("error", type(err).__name__, str(err)))
            continue
        if announce:
            conn.send(("started",))
        try:
            if scope is None:
                reply = ("ok", spec.run(args).model_dump(mode="json"))
            else:  # the tool runs as the caller's governed call: same key, its model requests on the run's meter
                with tool_call(scope[0], scope[1], _PipeMeter(conn) if scope[2] else None, scope[3]):
                    reply = ("ok", spec.run(args).model_dump(mode="json"))
        except BaseException as err:  # any failure is an outcome the caller reads, as in-process
            reply = ("error", type(err).__name__, str(err))
        conn.send(reply)


class _Worker:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="labwright-tool-worker")
        self.proc.start()
        child.close()
        # Modules of tools this worker has run: calls into them start at once (no "started" message to wait for).
        self.loaded: set[str] = set()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # not yet its own group leader, or gone
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


_IDLE: list[_Worker] = []
_LOCK = threading.Lock()
_KEEP_IDLE = 3  # parallel workers of one run rarely exceed this; each holds JAX and RDKit (~0.3 GB)


def _take() -> _Worker:
    """A warm worker if one is idle, else a new one; either way one spare stays warming up for the next (parallel)
    call, so parallel workers and the call after a kill rarely wait for a worker's imports."""
    found = None
    with _LOCK:
        while _IDLE and found is None:
            w = _IDLE.pop()
            found = w if w.proc.is_alive() else None
        spare = not _IDLE
    if spare:
        w = _Worker()
        with _LOCK:
            _IDLE.insert(0, w)
    return found or _Worker()


def _give_back(w: _Worker) -> None:
    with _LOCK:
        if len(_IDLE) < _KEEP_IDLE:
            _IDLE.append(w)
            return
    w.kill()


def shutdown_workers() -> None:
    """Stop the idle workers (they also end with this process)."""
    with _LOCK:
        workers, _IDLE[:] = list(_IDLE), []
    for w in workers:
        w.kill()


class ToolRaised(Exception):
    """A tool raised in a worker: ``kind`` is the name of its exception, the message is its message."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


def _run_in_worker(spec: ToolSpec, args: Mapping[str, Any], deadline: Deadline) -> dict[str, Any]:
    w = _take()
    try:
        file = getattr(sys.modules.get(spec.func.__module__), "__file__", None)
        scope = current_call()
        carried = None if scope is None else (scope.key, scope.tool, scope.meter is not None, scope.confined)
        module = spec.func.__module__
        call = (spec.name, module, file, dict(args), dict(os.environ), os.getcwd(), list(sys.path))
        # A worker that has run this module's tools imports nothing new: its deadline starts now. Otherwise imports
        # may take a while in a cold worker; they do not count against the tool, which starts at "started".
        warm = module in w.loaded
        w.conn.send((*call, carried, not warm))
        first = ("started",) if warm else w.conn.recv()
        if first[0] == "started":
            t0 = time.perf_counter()
            first = ("meter",)
            while first[0] == "meter":
                if not w.conn.poll(max(deadline.seconds - (time.perf_counter() - t0), 0.0)):
                    w.kill()
                    raise ToolTimeout(spec.name, time.perf_counter() - t0, deadline.estimate)
                first = w.conn.recv()
                if first[0] == "meter":
                    _answer_meter(w.conn, first, scope)
    except (EOFError, OSError, BrokenPipeError):
        w.kill()
        raise ToolRaised("WorkerDied", f"the worker running {spec.name} died (exit code {w.proc.exitcode})") from None
    except BaseException:
        if w.proc.is_alive() and not isinstance(sys.exc_info()[1], ToolTimeout):
            w.kill()  # interrupted mid-call (KeyboardInterrupt): never hand back a busy worker
        raise
    w.loaded.add(module)
    _give_back(w)
    if first[0] == "ok":
        return first[1]
    raise ToolRaised(first[1], first[2])


# -- in the caller's thread (closures) -----------------------------------------------------------------------------
def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    # None clears an exception set but not yet raised.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), None if exc is None else ctypes.py_object(exc)
    )


class _InlineTimeout(BaseException):
    """Raised inside an in-thread tool at its deadline (a BaseException, so the tool's own ``except Exception``
    cannot swallow it)."""


def _run_inline(spec: ToolSpec, args: Mapping[str, Any], deadline: Deadline) -> dict[str, Any]:
    lock, state = threading.Lock(), {"done": False, "fired": False}
    tid = threading.get_ident()

    def expire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _raise_in(tid, _InlineTimeout)

    timer = threading.Timer(deadline.seconds, expire)
    timer.daemon = True
    t0 = time.perf_counter()
    try:
        timer.start()
        try:
            out = spec.run(args).model_dump(mode="json")
        finally:
            with lock:
                state["done"] = True
            timer.cancel()
    except _InlineTimeout:
        raise ToolTimeout(spec.name, time.perf_counter() - t0, deadline.estimate) from None
    if state["fired"]:  # the exception was set as the tool returned: clear it before it lands elsewhere
        _raise_in(tid, None)
    return out


def _importable(spec: ToolSpec) -> bool:
    return "<locals>" not in spec.func.__qualname__ and spec.func.__module__ in sys.modules


def run_tool(tool: str, args: Mapping[str, Any], deadline: Deadline) -> dict[str, Any]:
    """Run ``tool`` with validated ``args`` under ``deadline``; return its output as JSON.

    Raises
    ------
    ToolTimeout
        The call ran past ``deadline.seconds`` and was stopped (its worker killed).
    ToolRaised
        The tool raised in its worker (``kind``: the exception's name).
    Exception
        Whatever a tool that runs in this thread raised.
    """
    spec = get_tool(tool)
    if not _importable(spec):
        return _run_inline(spec, args, deadline)
    return _run_in_worker(spec, args, deadline)
