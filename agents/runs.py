"""Durable runs: checkpoints under ``LABWRIGHT_HOME`` (or PostgreSQL), listing, resume, approvals and retention.

A run is a LangGraph thread whose id is the run id. Its checkpoints live in ``settings.checkpoint_target`` (SqliteSaver
on ``settings.checkpoint_path``, or PostgresSaver when ``LABWRIGHT_DATABASE_URL`` is set), written before each step
runs on (``durability="sync"``); its results, questions, budget and model replies in the
ledger, and its events in the audit log. A process killed at any point (even ``kill -9``) resumes with
:meth:`Runs.resume`: LangGraph restarts from the last checkpoint and the ledger replays what had already happened
inside the interrupted step, so no tool call with a stored result runs again.

Retention: :meth:`Runs.prune` deletes the checkpoints and ledger rows of old runs (``--keep N`` newest,
``--older-than`` an age) and compacts the file; the audit log is append-only and keeps their events.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.types import Command
from pydantic import BaseModel, Field

from ..errors import InvalidInput, NotFound
from ._checkpoints import compact, disk_bytes, open_checkpointer, stored_bytes
from .audit import AuditLog
from .budget import Budget, Usage
from .governance import RunContext, local_approver, new_run_id, parse_approval
from .graph import DEPS_KEY, LabDeps, build_graph
from .ledger import Ledger
from .llm import Planner, make_planner
from .policy import Policy

__all__ = ["open_checkpointer", "Runs", "RunView", "Pending", "parse_age"]

# Keys of a structured answer (as opposed to a mapping from pending ids to answers).
_ANSWER_KEYS = frozenset({"edit", "reject", "approve", "decision", "extend", "replan", "by", "args", "reason"})


class Pending(BaseModel):
    """A question a paused run waits on; answer it by ``id``."""

    id: str
    kind: str = Field(description="'approval', 'budget' or 'review'")
    role: str | None = None
    tool: str | None = None
    args: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    reason: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)


class RunView(BaseModel):
    """A run as it stands: status, answer, pending questions, usage and limits."""

    run_id: str
    status: str = Field(
        description="'answered', 'needs_input' (nothing could run without more from the user), 'failed' (see the "
        "answer for why; resumable), 'waiting' (questions pending), 'stopped', 'incomplete' or 'running'"
    )
    request: str = ""
    planner: str = ""
    answer: str | None = None
    pending: list[Pending] = Field(default_factory=list)
    tasks: list[dict[str, Any]] = Field(default_factory=list)
    results: list[dict[str, Any]] = Field(default_factory=list)
    replans: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    budget: Budget = Field(default_factory=Budget)


def parse_age(text: str) -> float:
    """Seconds in ``"90s"``, ``"30m"``, ``"12h"``, ``"7d"`` or a bare number; :class:`InvalidInput` else."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smhd]?)\s*", text or "")
    if not m:
        raise InvalidInput("older_than", f"expected an age like 90s, 30m, 12h or 7d, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


class Runs:
    """Start, inspect, resume and prune runs of the lab graph.

    Parameters
    ----------
    settings
        Where files live and the LLM endpoint; default :func:`labwright.settings.get_settings`.
    planner
        Overrides the planner chosen from settings (LLM if configured, else the offline planner).
    max_rounds, max_turns
        Reviewer replan rounds and worker turns per task.
    """

    def __init__(
        self, settings: Any = None, *, planner: Planner | None = None, max_rounds: int = 2, max_turns: int = 8
    ):
        if settings is None:
            from ..settings import get_settings

            settings = get_settings()
        self.settings = settings
        self.planner = planner or make_planner(settings)
        self.max_rounds = max_rounds
        self.max_turns = max_turns
        self.saver = open_checkpointer(settings.checkpoint_target)
        self.graph = build_graph(self.saver)
        self.audit = AuditLog(settings.audit_target)
        self.ledger = Ledger(settings.ledger_target)
        self._contexts: dict[str, RunContext] = {}

    # -- contexts --
    def context(self, run_id: str, *, policy: Policy | None = None, budget: Budget | None = None) -> RunContext:
        """The run's context; a known run gets back the policy it was started with."""
        if run_id in self._contexts:
            return self._contexts[run_id]
        ctx = RunContext(
            run_id=run_id,
            audit=self.audit,
            ledger=self.ledger,
            policy=policy or Policy.from_settings(self.settings),
            budget=budget or Budget(),
            approver=local_approver(self.settings),
        )
        record = ctx.ledger.get_run(run_id)
        if record is not None and policy is None:
            ctx.policy = Policy.from_record(record["policy"])
        self._contexts[run_id] = ctx
        return ctx

    def _config(self, ctx: RunContext) -> dict[str, Any]:
        deps = LabDeps(ctx=ctx, planner=self.planner, max_rounds=self.max_rounds, max_turns=self.max_turns)
        return {"configurable": {"thread_id": ctx.run_id, DEPS_KEY: deps}, "recursion_limit": 100}

    def _drive(self, ctx: RunContext, inp: Any, on_event: Callable[[dict], None] | None) -> RunView:
        """Run the graph until it answers, waits or fails. A failure (the model's endpoint refused or stayed down,
        a bug) ends the run as ``failed`` with the reason in the ledger and the audit log, never left ``running``;
        the checkpoint stays, so :meth:`resume` can try again from it."""
        cfg = self._config(ctx)
        ctx.ledger.set_run_status(ctx.run_id, "running")
        try:
            if on_event is None:
                self.graph.invoke(inp, cfg, durability="sync")
            else:
                for chunk in self.graph.stream(inp, cfg, stream_mode="custom", durability="sync"):
                    on_event(chunk)
        except Exception as err:  # every error becomes a visible, terminal state (the reason says which)
            reason = f"{type(err).__name__}: {err}"
            ctx.ledger.set_run_status(ctx.run_id, "failed")
            ctx.log("run_failed", actor="system", role=None, detail={"reason": reason})
            if on_event is not None:
                on_event({"event": "failed", "reason": reason})
            return self.view(ctx.run_id)
        view = self.view(ctx.run_id)
        ctx.ledger.set_run_status(ctx.run_id, view.status)
        return view

    def _failure(self, run_id: str) -> str | None:
        """The reason of the run's latest failure, if its last drive failed."""
        record = self.ledger.get_run(run_id)
        if record is None or record.get("status") != "failed":
            return None
        rows = [r for r in self.audit.rows(run_id) if r.event == "run_failed"]
        return rows[-1].detail.get("reason", "unknown error") if rows else "unknown error"

    # -- starting and resuming --
    def start(
        self,
        request: str,
        *,
        run_id: str | None = None,
        context: list[str] | None = None,
        policy: Policy | None = None,
        budget: Budget | None = None,
        on_event: Callable[[dict], None] | None = None,
    ) -> RunView:
        """Start a run for ``request`` and drive it until it answers or waits for a person."""
        if not request or not request.strip():
            raise InvalidInput("request", "empty request")
        run_id = run_id or new_run_id()
        ctx = self.context(run_id, policy=policy or Policy.from_settings(self.settings), budget=budget)
        ctx.ledger.register_run(
            run_id,
            request=request,
            planner=self.planner.label,
            policy=ctx.policy.to_record(),
        )
        ctx.limits()  # stores the budget and starts the wall clock
        ctx.log(
            "run_start",
            actor="user",
            role=None,
            detail={
                "request": request,
                "planner": self.planner.label,
                "policy": str(ctx.policy.auto_approve),
                "budget": ctx.limits().model_dump(),
            },
            dedupe=f"{run_id}:run_start",
        )
        return self._drive(ctx, {"request": request, "context": list(context or [])}, on_event)

    def resume(self, run_id: str, answers: Any = None, *, on_event: Callable[[dict], None] | None = None) -> RunView:
        """Continue a run: answer its pending questions, or (``answers=None`` and nothing pending) pick up after a
        crash from the last checkpoint.

        ``answers`` is a dict ``{pending_id: answer}`` or one answer for every pending question.
        """
        view = self.view(run_id)
        ctx = self.context(run_id)
        recorded = self._recorded_answers(ctx, run_id)
        if view.pending:
            if answers is None:
                raise InvalidInput("answers", f"run {run_id} waits on {len(view.pending)} question(s); answer them")
            resume = {**recorded, **self._resume_map(view.pending, answers)}
            return self._drive(ctx, Command(resume=resume), on_event)
        if answers is not None:
            raise InvalidInput("answers", f"run {run_id} has no pending question")
        if view.status in ("answered", "stopped"):
            return view
        # After a crash, questions answered before it are re-delivered with the answers recorded in the ledger.
        return self._drive(ctx, Command(resume=recorded) if recorded else None, on_event)

    def _interrupts(self, run_id: str) -> list[tuple[str, Any]]:
        snap = self.graph.get_state({"configurable": {"thread_id": run_id}})
        return [(i.id, i.value) for i in snap.interrupts]

    def _recorded_answers(self, ctx: RunContext, run_id: str) -> dict[str, Any]:
        """Answers already in the ledger for questions the checkpoint still shows as open (a crash came between)."""
        out = {}
        for iid, value in self._interrupts(run_id):
            if isinstance(value, dict) and value.get("ask_key"):
                rec = ctx.ledger.get_ask(value["ask_key"], value.get("kind", ""))
                if rec is not None and rec["answer"] is not None:
                    out[iid] = rec["answer"]
        return out

    def approve(self, run_id: str, pending_id: str | None = None, answer: Any = "approve", **kw: Any) -> RunView:
        """Answer one pending question (or, with no id, every pending one) with ``answer``."""
        return self.resume(run_id, {pending_id: answer} if pending_id else answer, **kw)

    @staticmethod
    def _resume_map(pending: list[Pending], answers: Any) -> dict[str, Any]:
        ids = {p.id: p for p in pending}
        if isinstance(answers, Mapping) and answers and not set(answers) & _ANSWER_KEYS:
            unknown = sorted(set(answers) - set(ids))
            if unknown:
                raise InvalidInput("answers", f"no pending question with id {', '.join(map(str, unknown))}")
            chosen = dict(answers)
        else:
            chosen = {pid: answers for pid in ids}
        for pid, value in chosen.items():
            _check_answer(ids[pid].kind, value)
        return chosen

    # -- looking at runs --
    def view(self, run_id: str) -> RunView:
        """The run's state, pending questions, usage and limits; :class:`NotFound` for an unknown run."""
        ctx = self.context(run_id)
        record = ctx.ledger.get_run(run_id)
        snap = self.graph.get_state({"configurable": {"thread_id": run_id}})
        if record is None and not snap.values:
            raise NotFound(f"no run {run_id!r}; see `labwright runs list`")
        values = snap.values or {}
        answered = self._recorded_answers(ctx, run_id)
        pending = [_pending(i.id, i.value) for i in snap.interrupts if i.id not in answered]
        failure = None if pending else self._failure(run_id)
        if pending:
            status = "waiting"
        elif failure is not None:
            status = "failed"
        elif snap.next:
            status = "incomplete"
        elif values.get("answer") is not None:
            status = values.get("status") or "answered"
        else:
            status = "running"
        return RunView(
            run_id=run_id,
            status=status,
            request=values.get("request") or (record or {}).get("request", ""),
            planner=values.get("planner") or (record or {}).get("planner", ""),
            answer=f"The run failed: {failure}" if failure is not None else values.get("answer"),
            pending=pending,
            tasks=values.get("tasks", []),
            results=values.get("results", []),
            replans=values.get("replans", []),
            usage=ctx.usage(),
            budget=ctx.limits(),
        )

    def list(self) -> list[dict[str, Any]]:
        """Known runs, newest activity first (id, status, request, planner, created, updated)."""
        return self.ledger.list_runs()

    def checkpoint_bytes(self, run_id: str | None = None) -> int:
        """Bytes of checkpoint and write blobs stored (for one run, or all)."""
        return stored_bytes(self.saver, run_id)

    # -- retention --
    def prune(self, *, keep: int | None = None, older_than: float | None = None) -> list[str]:
        """Delete checkpoints and ledger rows of runs beyond the ``keep`` newest or idle longer than ``older_than``
        seconds; returns the pruned run ids. The audit log keeps their events (it is append-only)."""
        if keep is None and older_than is None:
            raise InvalidInput("keep", "give --keep N and/or --older-than AGE")
        if keep is not None and keep < 0:
            raise InvalidInput("keep", f"must be >= 0, got {keep}")
        runs = self.list()
        now = time.time()
        doomed = []
        for i, r in enumerate(runs):
            if (keep is not None and i >= keep) or (older_than is not None and now - r["updated"] > older_than):
                doomed.append(r["run_id"])
        return self.prune_ids(doomed)

    def prune_ids(self, doomed: list[str]) -> list[str]:
        """Delete the checkpoints and ledger rows of the runs ``doomed`` and compact the file; returns them."""
        for run_id in doomed:
            self.saver.delete_thread(run_id)
            self._contexts.pop(run_id, None)
        self.ledger.forget(doomed)
        if doomed:
            compact(self.saver)
        return list(doomed)

    def checkpoint_file_bytes(self) -> int:
        """Bytes on disk of the checkpoint database and its write-ahead log (the checkpoint tables on PostgreSQL)."""
        return disk_bytes(self.saver, self.settings.checkpoint_path)


def _pending(interrupt_id: str, value: Any) -> Pending:
    v = value if isinstance(value, dict) else {"reason": str(value)}
    return Pending(
        id=interrupt_id,
        kind=v.get("kind", "question"),
        role=v.get("role"),
        tool=v.get("tool"),
        args=v.get("args"),
        estimate=v.get("estimate"),
        reason=v.get("reason", ""),
        payload=v,
    )


def _check_answer(kind: str, value: Any) -> None:
    """Refuse answers the paused step would not understand, before resuming (a bad answer is a user error)."""
    if kind == "approval":
        verdict, _, why, _ = parse_approval(value)
        if verdict == "reject" and why and why.startswith("unrecognised"):
            raise InvalidInput("answer", f"an approval takes 'approve', 'reject' or {{'edit': {{...}}}}; {why}")
    elif kind == "budget":
        ok = (
            isinstance(value, str) and value.lower() in ("extend", "stop", "approve", "reject", "yes", "no", "continue")
        ) or (isinstance(value, Mapping) and "extend" in value)
        if not ok:
            raise InvalidInput(
                "answer", f"a budget pause takes 'extend', 'stop' or {{'extend': {{...}}}}, got {value!r}"
            )
    elif kind == "review":
        ok = value in ("accept", "stop") or (isinstance(value, Mapping) and isinstance(value.get("replan"), str))
        if not ok:
            raise InvalidInput("answer", f"a review takes 'accept', 'stop' or {{'replan': '...'}}, got {value!r}")
