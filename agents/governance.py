"""Governed execution: the one way any LangGraph node (agent worker or skill step) runs a tool.

:func:`governed_call` puts a tool call through, in order:

1. **stored result** — if the call's idempotency key (run id + step key + argument hash) already has an outcome in
   the ledger, that outcome is returned and nothing runs again (a node re-run on resume, or after ``kill -9``);
2. **gate** (:func:`labwright.agents.policy.gate`) — role allowlist, registration, validation, cost estimate;
   a denial is audited and returned as an outcome whose ``message`` is meant for the model; nothing runs;
3. **budget** — if the call would cross a limit, ``interrupt({"kind": "budget", ...})``; answer ``"extend"``,
   ``{"extend": {...}}`` or ``"stop"``;
4. **approval** — for an *ask*, unless the policy's non-interactive rule approves it,
   ``interrupt({"kind": "approval", "role", "tool", "args", "estimate", "reason", ...})``; answer ``"approve"``,
   ``{"edit": {...new args...}}`` or ``"reject"`` / ``{"reject": "why"}``. An edit is gated again: an invalid one
   re-asks with the validation error, a valid one is re-estimated and re-budgeted and asked about again when it now
   costs more than the question showed. The approver audited is the session's identity (:func:`local_approver`),
   never a name in the answer;
5. **run** — the tool runs in a worker process and is stopped at its deadline (:mod:`._executor`; audited as
   ``tool_timeout``), inside :func:`labwright.metering.tool_call` (its model requests spend the run's token budget;
   its store writes record the idempotency key in the same transaction, so a crash before step 6 does not repeat
   them);
6. **outcome** — result or error message is stored under the key and audited with the sha256 of the result.

Every request, decision (with approver), result, error and denial is a row in the audit log. Questions are recorded in
the ledger before ``interrupt()`` is called and re-asked with the same payload on a re-run, so resume values line up
with LangGraph's per-node interrupt order. Several pending approvals (parallel workers) are answered at once with
``Command(resume={interrupt_id: answer, ...})``.

Usage from any node (agents use role names from ``roles.py``; skills use ``"workflow"`` or ``None``)::

    from labwright.agents.governance import RunContext, governed_call, context_from_config

    ctx = RunContext.open("run-42", auto_approve="under=60s")   # audit, ledger, policy, budget under LABWRIGHT_HOME

    def fit_node(state, config):
        ctx = context_from_config(config)                        # the RunContext passed in config["configurable"]
        out = governed_call(ctx, "workflow", "fit_cv", {"path": state["file"]}, step_key="fit/1")
        if not out.ok:                                           # denied, rejected, stopped or the tool failed
            return {"error": out.message}
        return {"fit": out.result}                               # JSON dict of the tool's output model

    graph.invoke(inputs, {"configurable": {"thread_id": "run-42", "labwright_ctx": ctx}})

Outside a graph (plain Python), a call that needs a person raises :class:`ApprovalRequired` instead of pausing.
"""

from __future__ import annotations

import getpass
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.config import get_config
from langgraph.types import interrupt
from pydantic import BaseModel, Field

from ..errors import InvalidInput, PermissionDenied
from ..metering import BudgetExhausted, crash_point, tool_call
from ..tools._paths import confined_paths
from ..tools.registry import Cost
from ._executor import Deadline, ToolTimeout, deadline_for, run_tool
from .audit import AuditLog, canonical_json, sha256_of
from .budget import Breach, Budget, Usage, check, parse_budget_answer
from .ledger import Ledger
from .policy import GateDecision, Policy, gate, idempotency_key

__all__ = [
    "RunContext",
    "ToolOutcome",
    "ApprovalRequired",
    "governed_call",
    "governed_llm",
    "ask_human",
    "parse_approval",
    "context_from_config",
    "CTX_KEY",
    "new_run_id",
    "local_approver",
]

CTX_KEY = "labwright_ctx"
Status = Literal["ok", "error", "denied", "rejected", "stopped"]


class ApprovalRequired(PermissionDenied):
    """A call needs a person's answer but runs outside a LangGraph graph, where it cannot pause."""

    def __init__(self, payload: Mapping[str, Any]):
        self.payload = dict(payload)
        super().__init__(f"{payload.get('kind', 'approval')} needed for {payload.get('tool')}: {payload.get('reason')}")


def new_run_id() -> str:
    """A fresh run id (also the LangGraph thread id)."""
    return f"run-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


@dataclass
class RunContext:
    """Everything governed execution needs for one run; pass it to nodes in ``config["configurable"]["labwright_ctx"]``.

    Attributes
    ----------
    run_id : str
        Run (and LangGraph thread) id; part of every idempotency key.
    audit : AuditLog
        Where every event goes.
    ledger : Ledger
        Stored results, questions, budgets and LLM replies.
    policy : Policy
        Approval threshold, side-effect rule and the optional non-interactive approval rule.
    budget : Budget
        Limits for a *new* run; once a run has started its (possibly extended) limits live in the ledger.
    approver : str
        Who answers this session's questions, recorded as the approver of human answers: ``human:<name>`` from the
        identity the embedding application passes, else ``LABWRIGHT_APPROVER``, else the OS user
        (:func:`local_approver`). An answer's own ``"by"`` field is never trusted as the approver; it is audited as an
        unverified claim beside it.
    principal : str or None
        Who is acting when it is not an agent role: the client of a front door (``"mcp:claude-desktop"``); the
        audit log records it as the actor of the run's tool calls. ``None``: the role acts.
    """

    run_id: str
    audit: AuditLog
    ledger: Ledger
    policy: Policy = field(default_factory=Policy)
    budget: Budget = field(default_factory=Budget)
    approver: str = field(default_factory=lambda: local_approver())
    principal: str | None = None
    # Audit rows held back until the next row is written (per thread: parallel workers share a context).
    _deferred: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        run_id: str | None = None,
        *,
        settings: Any = None,
        policy: Policy | None = None,
        budget: Budget | None = None,
        auto_approve: str | None = None,
        approver: str | None = None,
        principal: str | None = None,
    ) -> RunContext:
        """A context whose audit log and ledger live under ``LABWRIGHT_HOME`` (from ``settings``)."""
        if settings is None:
            from ..settings import get_settings

            settings = get_settings()
        ctx = cls(
            run_id=run_id or new_run_id(),
            audit=AuditLog(settings.audit_target),
            ledger=Ledger(settings.ledger_target),
            policy=policy or Policy.from_settings(settings, auto_approve=auto_approve),
            budget=budget or Budget(),
            approver=local_approver(settings, approver),
            principal=principal,
        )
        return ctx

    def limits(self) -> Budget:
        return self.ledger.budget(self.run_id, self.budget)

    def usage(self) -> Usage:
        self.ledger.budget(self.run_id, self.budget)
        return self.ledger.usage(self.run_id)

    def log(
        self,
        event: str,
        *,
        actor: str,
        role: str | None = None,
        dedupe: str | None = None,
        defer: bool = False,
        **kw: Any,
    ) -> None:
        """Append an audit row for this run (``dedupe``: skip if a row with this key exists).

        ``defer=True`` holds the row back and writes it in one transaction with the next row this thread logs (or at
        :meth:`flush`): a governed call's request and its decision cost one commit. Only for a row that another row
        always follows before anything acts on it (the decision precedes every tool run, pause and question).
        """
        row = {"run_id": self.run_id, "actor": actor, "role": role, "event": event, "dedupe_key": dedupe, **kw}
        pending = self._pending()
        pending.append(row)
        if not defer:
            self.flush()

    def _pending(self) -> list[dict[str, Any]]:
        rows = getattr(self._deferred, "rows", None)
        if rows is None:
            rows = self._deferred.rows = []
        return rows

    def flush(self) -> None:
        """Write the rows this thread deferred (see :meth:`log`)."""
        pending = self._pending()
        if pending:
            rows, pending[:] = list(pending), []
            self.audit.append_many(rows)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return "unknown"


def local_approver(settings: Any = None, explicit: str | None = None) -> str:
    """The approver of this session's human answers, as ``human:<name>``.

    ``explicit`` (an identity the embedding application vouches for) wins, then ``settings.approver``
    (``LABWRIGHT_APPROVER``), then the OS user. Only the local session decides who answered: nothing in an answer's
    payload can change it.
    """
    name = explicit
    if not name:
        if settings is None:
            from ..settings import get_settings

            settings = get_settings()
        name = getattr(settings, "approver", None) or _user()
    name = str(name).strip()
    if not name:
        raise InvalidInput("approver", "must not be blank")
    return name if name.startswith(("human:", "app:")) else f"human:{name}"


def context_from_config(config: Mapping[str, Any] | None = None) -> RunContext:
    """The :class:`RunContext` in ``config["configurable"]["labwright_ctx"]`` (``config`` defaults to the current
    LangGraph config); if absent, one is opened for the config's ``thread_id``."""
    if config is None:
        config = get_config()
    conf = config.get("configurable", {})
    ctx = conf.get(CTX_KEY)
    if isinstance(ctx, RunContext):
        return ctx
    thread = conf.get("thread_id")
    if not thread:
        raise InvalidInput("configurable.thread_id", "a governed run needs a thread id or a labwright_ctx")
    return RunContext.open(str(thread))


class ToolOutcome(BaseModel):
    """What happened to one governed call.

    ``status``: ``ok`` (``result`` holds the output as JSON), ``error`` (the tool raised; ``message`` says why),
    ``denied`` (role, validation or policy; nothing ran), ``rejected`` (a person said no) or ``stopped`` (budget
    stop). ``message`` is written for the model and is what a worker passes back as the tool message.
    """

    status: Status
    role: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    message: str = ""
    key: str | None = None
    approver: str | None = None
    estimate: Cost | None = None
    seconds: float = 0.0
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def result_sha256(self) -> str | None:
        return None if self.result is None else sha256_of(self.result)

    def for_model(self) -> str:
        """The text a tool-calling model receives: the JSON result, or the status and reason."""
        if self.ok:
            return canonical_json(self.result)
        return canonical_json({"status": self.status, "error": self.message})


# -- asking a person -----------------------------------------------------------------------------------------------
def _task_ns() -> str | None:
    try:
        return get_config().get("configurable", {}).get("checkpoint_ns")
    except RuntimeError:  # not inside a graph
        return None


def ask_human(ctx: RunContext, key: str, kind: str, payload: Mapping[str, Any]) -> Any:
    """Put a question to a person with ``interrupt()`` in a way that survives node re-runs.

    The question is stored in the ledger first (the first payload wins, so a re-run asks exactly the same thing); once
    answered, the answer is stored and a re-run of the same task replays ``interrupt()`` (which returns the same value
    from LangGraph's resume list) so later interrupts in the node keep their positions. Outside a graph it raises
    :class:`ApprovalRequired`.
    """
    ns = _task_ns()
    rec = ctx.ledger.get_ask(key, kind)
    if rec is not None and rec["answer"] is not None:
        if ns is not None and rec["ns"] == ns:
            interrupt(rec["payload"])
        return rec["answer"]
    # The key travels in the payload so a run resumed after a crash can re-deliver an answer already recorded.
    rec = ctx.ledger.put_ask(key=key, kind=kind, run_id=ctx.run_id, payload={**payload, "ask_key": key}, ns=ns)
    if ns is None:
        raise ApprovalRequired(rec["payload"])
    answer = interrupt(rec["payload"])
    ctx.ledger.answer_ask(key, kind, answer, ns)
    stored = ctx.ledger.get_ask(key, kind)
    return stored["answer"] if stored else answer


def parse_approval(answer: Any) -> tuple[str, dict[str, Any] | None, str | None, str | None]:
    """``(verdict, edited_args, reason, by)`` from an approval answer.

    ``verdict`` is ``"approve"``, ``"edit"`` or ``"reject"``. Accepted: ``"approve"``/``"yes"``/``True``,
    ``"reject"``/``"no"``/``False``, ``{"edit": {...}}``, ``{"reject": "reason"}``, ``{"approve": true}``, and
    ``{"decision": ..., "args": ..., "reason": ..., "by": ...}``. Anything else is a rejection (never a silent yes).
    ``by`` is what the answer *claims* about who answered; callers audit it as an unverified claim, never as the
    approver (that is :attr:`RunContext.approver`).
    """
    by = None
    if isinstance(answer, Mapping):
        by = answer.get("by")
        if "edit" in answer and isinstance(answer["edit"], Mapping):
            return "edit", dict(answer["edit"]), None, by
        if "reject" in answer:
            return "reject", None, str(answer["reject"]) if answer["reject"] not in (True, None) else None, by
        if answer.get("approve") is True:
            return "approve", None, None, by
        decision = str(answer.get("decision", "")).lower()
        if decision == "edit" and isinstance(answer.get("args"), Mapping):
            return "edit", dict(answer["args"]), None, by
        if decision in ("approve", "reject"):
            return decision, None, answer.get("reason"), by
        return "reject", None, f"unrecognised answer {canonical_json(answer)}", by
    if answer is True or (isinstance(answer, str) and answer.strip().lower() in ("approve", "approved", "yes", "y")):
        return "approve", None, None, None
    if answer is False or (isinstance(answer, str) and answer.strip().lower() in ("reject", "rejected", "no", "n")):
        return "reject", None, None, None
    return "reject", None, f"unrecognised answer {answer!r}", None


# -- budgets -------------------------------------------------------------------------------------------------------
def _merge_limits(current: Budget, new: Budget) -> Budget:
    # Parallel workers may extend at the same time: never lower a limit another answer raised.
    merged = {}
    for name in Budget.model_fields:
        a, b = getattr(current, name), getattr(new, name)
        merged[name] = None if a is None or b is None else max(a, b)
    return Budget(**merged)


def _log_budget_answer(
    ctx: RunContext, key: str, role: str, what: str, event: str, decision: str, detail: dict[str, Any]
) -> None:
    """Audit a person's answer at a budget pause (``budget_stop`` or ``budget_extend``) once per pause."""
    ctx.log(
        event,
        actor=role,
        role=role,
        tool=what,
        decision=decision,
        approver=ctx.approver,
        detail=detail,
        dedupe=f"{key}:budget_answer",
    )


def _budget_gate(ctx: RunContext, key: str, role: str, what: str, claim: Callable[[bool], Breach | None]) -> str | None:
    """Pause for a budget answer if the next step crosses a limit; ``None`` to go on, else the stop reason.

    ``claim(force)`` checks the limits (and, for tool calls, reserves the call); it returns the breach or ``None``.
    """
    stopped = ctx.ledger.stopped(ctx.run_id)
    if stopped:
        return stopped
    rec = ctx.ledger.get_ask(key, "budget")
    if rec is None:
        breach = claim(False)
        if breach is None:
            return None
        payload = {
            "kind": "budget",
            "run_id": ctx.run_id,
            "role": role,
            "tool": what,
            "breach": breach.model_dump(),
            "budget": ctx.limits().model_dump(),
            "reason": breach.message(),
        }
        ctx.log("budget_pause", actor=role, role=role, tool=what, detail=payload, dedupe=f"{key}:budget_pause")
    else:
        payload = rec["payload"]  # a re-run: the question as it was first asked
    breach = Breach.model_validate(payload["breach"])
    answer = ask_human(ctx, key, "budget", payload)
    try:
        new = parse_budget_answer(answer, Budget.model_validate(payload["budget"]), breach)
    except InvalidInput as err:
        new, reason = None, f"invalid budget answer: {err}"
    else:
        reason = "stopped by a person at a budget pause"
    if new is None:
        ctx.ledger.mark_stopped(ctx.run_id, reason)
        stop = {"breach": breach.model_dump(), "reason": reason}
        _log_budget_answer(ctx, key, role, what, "budget_stop", "stop", stop)
        return reason
    ctx.ledger.set_budget(ctx.run_id, _merge_limits(ctx.limits(), new))
    _log_budget_answer(ctx, key, role, what, "budget_extend", "extend", {"budget": new.model_dump()})
    claim(True)
    return None


# -- model requests made by tools ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RunMeter:
    """The :class:`labwright.metering.Meter` of one governed call: a tool's model requests are capped by, and
    counted in, the run's token budget (ledger ``llm`` rows, audited as ``tool_llm_call``).

    It holds paths, not connections, so it pickles: a tool run in a worker process meters into the same run."""

    ledger: str
    audit: str
    anchor: str
    anchor_key: str
    run_id: str
    key: str
    role: str
    tool: str
    actor: str

    @classmethod
    def of(cls, ctx: RunContext, key: str, role: str, tool: str) -> _RunMeter:
        a = ctx.audit.anchor
        paths = (ctx.ledger.target, ctx.audit.target, str(a.path), str(a.key_path))
        return cls(*paths, ctx.run_id, key, role, tool, ctx.principal or role)

    def allow(self, max_tokens: int, prompt_tokens: int = 0) -> int:
        ledger = Ledger(self.ledger)
        try:
            limit = ledger.budget(self.run_id).max_llm_tokens
            left = None if limit is None else limit - ledger.usage(self.run_id).llm_tokens - prompt_tokens
        finally:
            ledger.close()
        if left is None:
            return max_tokens
        if left <= 0:
            raise BudgetExhausted(
                f"{self.tool}: the run's token budget max_llm_tokens = {limit} leaves nothing for a reply after a "
                f"prompt of ~{prompt_tokens} tokens; extend it to go on"
            )
        return min(max_tokens, left)

    def record(self, tokens: int, *, label: str) -> None:
        # Every request is counted, also one a re-run repeats (its tokens were spent again): a fresh key each time.
        req = f"tool-llm:{self.key}:{uuid.uuid4().hex}"
        ledger = Ledger(self.ledger)
        try:
            ledger.put_reply(key=req, run_id=self.run_id, reply={"tool": self.tool, "call": self.key}, tokens=tokens)
        finally:
            ledger.close()
        audit = AuditLog(self.audit, anchor=self.anchor, key=self.anchor_key)
        try:
            audit.append(
                run_id=self.run_id,
                actor=self.actor,
                role=self.role,
                event="tool_llm_call",
                tool=self.tool,
                detail={"key": self.key, "tokens": int(tokens), "label": label},
            )
        finally:
            audit.close()


# -- the governed call ---------------------------------------------------------------------------------------------
def _from_stored(stored: Mapping[str, Any], dec: GateDecision, cached: bool) -> ToolOutcome:
    return ToolOutcome(
        status=stored["status"],
        role=dec.role,
        tool=stored["tool"],
        args=stored["args"],
        result=stored["result"],
        message=stored["message"],
        key=stored["key"],
        approver=stored["approver"],
        estimate=dec.estimate,
        seconds=stored["seconds"],
        cached=cached,
    )


def _finish(
    ctx: RunContext,
    dec: GateDecision,
    key: str,
    step_key: str,
    *,
    status: Status,
    args: Mapping[str, Any],
    message: str,
    result: Any = None,
    approver: str | None = None,
    seconds: float = 0.0,
) -> ToolOutcome:
    if status == "ok":
        crash_point("tool_returned")  # test hook: the seam between a tool's effect and its stored outcome
    stored = ctx.ledger.put_result(
        key=key,
        run_id=ctx.run_id,
        step_key=step_key,
        role=dec.role,
        tool=dec.tool,
        args=dict(args),
        status=status,
        result=result,
        message=message,
        approver=approver,
        seconds=seconds,
    )
    event = {"ok": "tool_result", "error": "tool_error"}.get(status, f"tool_{status}")
    ctx.log(
        event,
        actor=ctx.principal or dec.role,
        role=dec.role,
        tool=dec.tool,
        args=dict(args),
        result=stored["result"],
        decision=status,
        approver=approver,
        detail={"step": step_key, "key": key, "message": message[:500], "seconds": round(seconds, 6)},
        dedupe=f"{key}:result",
    )
    return _from_stored(stored, dec, cached=False)


def approval_payload(run_id: str, dec: GateDecision, key: str, step_key: str) -> dict[str, Any]:
    """The question a person answers before ``dec``'s call runs (also what a step grant stores as answered).

    Returns a JSON object: kind, run_id, role, tool, args, estimate, side_effect, reason, key and step.
    """
    return {
        "kind": "approval",
        "run_id": run_id,
        "role": dec.role,
        "tool": dec.tool,
        "args": dec.args,
        "estimate": dec.estimate.model_dump(),
        "side_effect": dec.side_effect,
        "reason": dec.reason,
        "key": key,
        "step": step_key,
    }


def _log_decision(
    ctx: RunContext,
    dec: GateDecision,
    key: str,
    verdict: str,
    approver: str,
    detail: dict[str, Any],
    *,
    args: dict[str, Any] | None = None,
    event: str = "decision",
) -> None:
    """Audit the verdict on ``dec``'s call once per idempotency key (a re-run logs nothing new)."""
    ctx.log(
        event,
        actor=ctx.principal or dec.role,
        role=dec.role,
        tool=dec.tool,
        args=dec.args if args is None else args,
        decision=verdict,
        approver=approver,
        detail=detail,
        dedupe=f"{key}:decision",
    )


def _claim_detail(claimed: Any) -> dict[str, Any]:
    """Audit detail for an answer's own ``by`` field: kept as an unverified claim, never as the approver."""
    if claimed is None:
        return {}
    return {"claimed_by": str(claimed)[:200], "claim": "unverified; the approver is the local session's identity"}


def _edit_needs_asking(shown: GateDecision, edited: GateDecision, policy: Policy) -> bool:
    """True when an edited call costs more than the question its author answered covered: above the policy's
    thresholds and above the estimate that question showed (the side-effect class cannot change: same tool)."""
    seconds = edited.estimate.seconds > max(policy.approval_seconds, shown.estimate.seconds)
    tokens = edited.estimate.tokens > max(policy.approval_tokens, shown.estimate.tokens)
    return seconds or tokens


def _ask_until_settled(
    ctx: RunContext, dec: GateDecision, key: str, step_key: str
) -> ToolOutcome | tuple[dict[str, Any], str]:
    """Put ``dec``'s call to a person until it is approved (then ``(args, approver)``) or ends (a rejection or a
    budget stop, as a stored :class:`ToolOutcome`).

    An edit is gated again like a new call: invalid arguments re-ask the same question with the validation error;
    valid ones are re-estimated and their budget reservation resized (a budget pause if that crosses a limit); if the
    edited call now costs more than the answered question covered, the edited call is asked about in turn (the
    policy's rule did not cover the cheaper question, so it cannot cover this one). Each question has its own ledger
    key, so a re-run of the node replays them in order.
    """
    shown, error, n = dec, None, 0
    while True:
        ask_key = key if n == 0 else f"{key}/ask{n}"
        payload = approval_payload(ctx.run_id, shown, key, step_key)
        detail = {"reason": shown.reason, "estimate": shown.estimate.model_dump()}
        if error:
            payload["error"] = detail["error"] = error
        ctx.log(
            "approval_request",
            actor=dec.role,
            role=dec.role,
            tool=dec.tool,
            args=shown.args,
            decision="ask",
            detail=detail,
            dedupe=f"{ask_key}:ask",
        )
        try:
            verdict, edited, why, claimed = parse_approval(ask_human(ctx, ask_key, "approval", payload))
        except ApprovalRequired:
            ctx.ledger.release(key)  # outside a graph nothing waits: give the reserved budget back
            raise
        # A front door that took the answer for a person (the inbox) recorded who it was; else this session answers.
        approver = ctx.ledger.answered_by(ask_key, "approval") or ctx.approver
        info = {"reason": why or shown.reason, **_claim_detail(claimed)}
        _log_decision(ctx, shown, ask_key, verdict, approver, info, args=edited)
        if verdict == "reject":
            msg = f"rejected by {approver}" + (f": {why}" if why else "") + "; choose another approach"
            return _finish(ctx, dec, key, step_key, status="rejected", args=shown.args, message=msg, approver=approver)
        if verdict == "approve":
            return shown.args, approver
        n += 1
        new = gate(dec.role, dec.tool, edited, ctx.policy, run_id=ctx.run_id, step_key=step_key)
        if new.decision == "deny":
            error = f"edited arguments are invalid: {new.reason}; answer again"
            continue  # the same question again, with the error

        def resize(force: bool, new: GateDecision = new) -> Breach | None:
            return ctx.ledger.resize(key, seconds=new.estimate.seconds, tokens=new.estimate.tokens, force=force)

        stop = _budget_gate(ctx, f"{key}/budget{n}", dec.role, dec.tool, resize)
        if stop:
            msg = f"stopped: {stop}"
            return _finish(ctx, dec, key, step_key, status="stopped", args=new.args, message=msg, approver=approver)
        if not _edit_needs_asking(shown, new, ctx.policy):
            return new.args, approver
        shown, error = new.model_copy(update={"reason": f"edited call: {new.reason}"}), None


def governed_call(
    ctx: RunContext, role: str | None, tool: str, args: Mapping[str, Any] | None, step_key: str
) -> ToolOutcome:
    """Run ``tool`` with ``args`` for ``role`` under policy, budget, idempotency and audit (see module docstring).

    Parameters
    ----------
    ctx
        The run's :class:`RunContext`.
    role
        A role from ``roles.py``; ``None`` or ``"workflow"`` for skills.
    tool, args
        Registered tool name and its arguments as a JSON object.
    step_key
        Unique, *deterministic* name of this call within the run (e.g. ``"electrochemist/t1/turn2/call0"``):
        the same step re-run must pass the same key, different calls different keys.

    Returns
    -------
    ToolOutcome
        Never raises for a denial, rejection, stop or tool failure; those are outcomes the caller (or model) reads.
        Raises :class:`ApprovalRequired` only outside a graph when a person must answer.
    """
    dec = gate(role, tool, args, ctx.policy, run_id=ctx.run_id, step_key=step_key)
    key = dec.idempotency_key or idempotency_key(ctx.run_id, step_key, dec.args_sha256)
    stored = ctx.ledger.get_result(key)
    if stored is not None:
        # Keep interrupt positions aligned for a task that asked before it stored this result.
        for kind in ("budget", "approval"):
            rec = ctx.ledger.get_ask(key, kind)
            ns = _task_ns()
            if rec is not None and rec["answer"] is not None and ns is not None and rec["ns"] == ns:
                interrupt(rec["payload"])
        return _from_stored(stored, dec, cached=True)

    try:
        return _governed_call(ctx, dec, key, tool, step_key)
    finally:
        ctx.flush()  # a row held back for the decision is never left behind (an interrupt, an error)


def _governed_call(ctx: RunContext, dec: GateDecision, key: str, tool: str, step_key: str) -> ToolOutcome:
    """:func:`governed_call` once the gate has decided and no stored outcome exists."""
    actor = ctx.principal or dec.role
    ctx.log(
        "tool_request",
        actor=actor,
        role=dec.role,
        tool=tool,
        args=dec.args,
        detail={"step": step_key, "key": key, "estimate": dec.estimate.model_dump(), "side_effect": dec.side_effect},
        dedupe=f"{key}:request",
        defer=True,  # written with the decision, budget pause or question that always follows it
    )
    if dec.decision == "deny":
        _log_decision(ctx, dec, key, "deny", "policy", {"reason": dec.reason, "step": step_key}, event="denial")
        return _finish(
            ctx, dec, key, step_key, status="denied", args=dec.args, message=f"denied: {dec.reason}", approver="policy"
        )

    def claim(force: bool) -> Breach | None:
        return ctx.ledger.reserve(
            key=key, run_id=ctx.run_id, step_key=step_key, role=dec.role, tool=tool,
            seconds=dec.estimate.seconds, tokens=dec.estimate.tokens, force=force,
        )  # fmt: skip

    ctx.limits()  # a new run's limits are stored before the first reservation reads them
    stop = _budget_gate(ctx, key, dec.role, tool, claim)
    if stop:
        return _finish(
            ctx, dec, key, step_key, status="stopped", args=dec.args, message=f"stopped: {stop}", approver=ctx.approver
        )

    run_args: dict[str, Any] = dec.args
    if dec.decision == "allow":
        approver = "policy"
        _log_decision(ctx, dec, key, "allow", approver, {"reason": dec.reason})
    elif dec.auto_approver and ctx.ledger.get_ask(key, "approval") is None:
        approver = dec.auto_approver
        _log_decision(ctx, dec, key, "approve", approver, {"reason": dec.reason, "rule": str(ctx.policy.auto_approve)})
    else:
        settled = _ask_until_settled(ctx, dec, key, step_key)
        if isinstance(settled, ToolOutcome):
            return settled
        run_args, approver = settled
    # The tool runs as this governed call: its store writes carry the key, its model requests spend the run's budget.
    # Its confined paths are opened without following symlinks (none can be swapped in after the gate's check).
    with tool_call(key, tool, _RunMeter.of(ctx, key, dec.role, tool), confined_paths(tool, run_args)):
        return _execute(ctx, dec, key, step_key, run_args, approver)


def _log_timeout(
    ctx: RunContext,
    dec: GateDecision,
    key: str,
    step_key: str,
    args: dict[str, Any],
    deadline: Deadline,
    err: Exception,
) -> None:
    """Audit a call stopped at its deadline (before its error outcome is stored)."""
    ctx.log(
        "tool_timeout",
        actor=ctx.principal or dec.role,
        role=dec.role,
        tool=dec.tool,
        args=args,
        decision="timeout",
        detail={"step": step_key, "key": key, "deadline": deadline.as_dict(), "message": str(err)[:500]},
        dedupe=f"{key}:timeout",
    )


def _execute(
    ctx: RunContext, dec: GateDecision, key: str, step_key: str, args: dict[str, Any], approver: str
) -> ToolOutcome:
    deadline = deadline_for(dec.estimate)
    t0 = time.perf_counter()
    try:
        result = run_tool(dec.tool, args, deadline)  # in a worker process, stopped at its deadline
    except Exception as err:  # bad input, a failed simulation, a tool bug or a timeout: the worker reflects on it
        if isinstance(err, ToolTimeout):
            _log_timeout(ctx, dec, key, step_key, args, deadline, err)
        return _finish(
            ctx,
            dec,
            key,
            step_key,
            status="error",
            args=args,
            message=str(err) if isinstance(err, ToolTimeout) else f"{getattr(err, 'kind', type(err).__name__)}: {err}",
            approver=approver,
            seconds=time.perf_counter() - t0,
        )
    seconds = time.perf_counter() - t0
    return _finish(
        ctx, dec, key, step_key, status="ok", args=args, message="ok", result=result, approver=approver, seconds=seconds
    )


# -- governed LLM requests -----------------------------------------------------------------------------------------
def governed_llm(
    ctx: RunContext,
    role: str,
    step_key: str,
    request: Callable[[int | None], tuple[dict[str, Any], int]],
    *,
    estimate_tokens: int = 0,
    reply_tokens: int = 0,
    label: str = "llm",
) -> dict[str, Any] | None:
    """Make one model request under the token budget; replay the stored reply on a re-run.

    ``estimate_tokens`` is the prompt's estimated size and ``reply_tokens`` the allowance for the reply; together
    they must fit in what the budget has left, or the run pauses first. ``request(max_tokens)`` returns
    ``(reply_as_json_dict, tokens_used)``; ``max_tokens`` is what the budget leaves for the reply once the prompt is
    paid (``None`` without a token limit), so the model cannot spend past the limit (up to the error of the prompt
    estimate). Returns the reply, or ``None`` when a person chose to stop at a budget pause.
    """
    key = idempotency_key(ctx.run_id, f"llm:{step_key}", "")
    cached = ctx.ledger.get_reply(key)
    if cached is not None:
        rec = ctx.ledger.get_ask(key, "budget")
        ns = _task_ns()
        if rec is not None and rec["answer"] is not None and ns is not None and rec["ns"] == ns:
            interrupt(rec["payload"])
        return cached

    def claim(force: bool) -> Breach | None:
        # Tokens are known only after the reply: checked against the estimate, recorded when the reply arrives.
        need = max(estimate_tokens + reply_tokens, 1)
        return None if force else check(ctx.limits(), ctx.ledger.usage(ctx.run_id), llm_tokens=need)

    if _budget_gate(ctx, key, role, label, claim):
        return None
    limit = ctx.limits().max_llm_tokens
    cap = None
    if limit is not None:
        left = limit - ctx.ledger.usage(ctx.run_id).llm_tokens - estimate_tokens
        cap = max(left, reply_tokens, 1)  # an extension at the pause covered prompt + allowance
    reply, tokens = request(cap)
    stored = ctx.ledger.put_reply(key=key, run_id=ctx.run_id, reply=reply, tokens=tokens)
    ctx.log(
        "planner_call",
        actor=role,
        role=role,
        result=stored,
        detail={"step": step_key, "tokens": int(tokens), "source": label},
        dedupe=f"{key}:llm",
    )
    return stored
