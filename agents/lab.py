"""``Lab``: the agent graph from Python.

>>> from labwright import Lab
>>> lab = Lab(auto_approve="under=60s")                         # doctest: +SKIP
>>> reply = lab.chat("describe the molecule c1ccccc1O")         # doctest: +SKIP
>>> reply.answer, reply.pending                                 # doctest: +SKIP
>>> lab.answer("approve")            # answers every pending question of the last run and continues

Each message starts a run (a LangGraph thread with durable checkpoints); earlier questions and answers of the
conversation are passed to the supervisor as context. Without ``LABWRIGHT_BASE_URL``/``LABWRIGHT_MODEL`` the
deterministic offline planner drives the run and says so in every answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from ..errors import InvalidInput
from .audit import AuditReport, AuditRow
from .budget import Budget, Usage
from .llm import Planner
from .policy import ApprovalRule, Policy
from .runs import Pending, Runs, RunView

__all__ = ["Lab", "LabReply"]


class LabReply(BaseModel):
    """What :meth:`Lab.chat` returns: the answer (if the run finished) and the questions it waits on."""

    run_id: str
    status: str
    answer: str | None = None
    pending: list[Pending] = Field(default_factory=list)
    planner: str = ""
    usage: Usage = Field(default_factory=Usage)
    budget: Budget = Field(default_factory=Budget, description="the run's limits (as extended at budget pauses)")
    results: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def from_view(cls, view: RunView) -> LabReply:
        return cls(
            run_id=view.run_id,
            status=view.status,
            answer=view.answer,
            pending=view.pending,
            planner=view.planner,
            usage=view.usage,
            budget=view.budget,
            results=view.results,
        )

    def __str__(self) -> str:
        if self.pending:
            return f"[{self.run_id}] waiting on {len(self.pending)} question(s): " + "; ".join(
                f"{p.id[:8]} {p.kind} {p.tool or ''} ({p.reason})" for p in self.pending
            )
        return self.answer or f"[{self.run_id}] {self.status}"


class Lab:
    """A conversation with the supervisor agent.

    Parameters
    ----------
    auto_approve
        Non-interactive approval rule: ``None``/``"none"`` (questions wait for :meth:`answer`), ``"all"`` or
        ``"under=60s"``; recorded in the audit log as the approver.
    budget
        Per-run limits (a :class:`~labwright.agents.budget.Budget` or a dict of its fields).
    planner
        A planner to use instead of the one chosen from settings.
    settings
        :class:`~labwright.settings.Settings`; default from the environment.
    approver
        Who answers this lab's questions, as the embedding application has established it (audited as
        ``human:<approver>``); default ``LABWRIGHT_APPROVER``, else the OS user. Answers cannot name their approver.
    """

    def __init__(
        self,
        *,
        auto_approve: str | None = None,
        budget: Budget | Mapping[str, Any] | None = None,
        planner: Planner | None = None,
        settings: Any = None,
        max_rounds: int = 2,
        max_turns: int = 8,
        approver: str | None = None,
    ):
        if approver is not None:
            from ..settings import get_settings

            settings = (settings or get_settings()).model_copy(update={"approver": approver})
        self.runs = Runs(settings, planner=planner, max_rounds=max_rounds, max_turns=max_turns)
        rule = ApprovalRule.parse(auto_approve) if auto_approve is not None else None
        base = Policy.from_settings(self.runs.settings)
        self.policy = base.model_copy(update={"auto_approve": rule}) if rule is not None else base
        self.budget = budget if isinstance(budget, Budget) or budget is None else Budget.model_validate(dict(budget))
        self.history: list[str] = []
        self.last_run: str | None = None

    @property
    def planner_label(self) -> str:
        return self.runs.planner.label

    def chat(self, message: str, *, on_event: Callable[[dict], None] | None = None) -> LabReply:
        """Send a message; returns the answer, or the pending approvals if the run paused."""
        view = self.runs.start(
            message, context=self.history[-6:], policy=self.policy, budget=self.budget, on_event=on_event
        )
        self.last_run = view.run_id
        return self._done(message, view)

    def answer(
        self, answers: Any, *, run_id: str | None = None, on_event: Callable[[dict], None] | None = None
    ) -> LabReply:
        """Answer pending questions (``{pending_id: answer}`` or one answer for all) and continue the run."""
        run_id = run_id or self.last_run
        if run_id is None:
            raise InvalidInput("run_id", "no run to answer; call chat() first")
        view = self.runs.resume(run_id, answers, on_event=on_event)
        return self._done(view.request, view)

    def approve(self, pending_id: str | None = None, *, run_id: str | None = None) -> LabReply:
        """Approve one pending question (or all of them)."""
        return self.answer({pending_id: "approve"} if pending_id else "approve", run_id=run_id)

    def reject(self, pending_id: str | None = None, *, reason: str = "", run_id: str | None = None) -> LabReply:
        value = {"reject": reason} if reason else "reject"
        return self.answer({pending_id: value} if pending_id else value, run_id=run_id)

    def resume(self, run_id: str, answers: Any = None) -> LabReply:
        """Continue any run (after a crash: ``answers=None``)."""
        self.last_run = run_id
        view = self.runs.resume(run_id, answers)
        return self._done(view.request, view)

    def pending(self, run_id: str | None = None) -> list[Pending]:
        rid = run_id or self.last_run
        return self.runs.view(rid).pending if rid else []

    def audit(self, run_id: str | None = None) -> list[AuditRow]:
        return self.runs.audit.rows(run_id or self.last_run)

    def verify_audit(self) -> AuditReport:
        return self.runs.audit.verify()

    def _done(self, message: str, view: RunView) -> LabReply:
        if view.answer is not None and view.status in ("answered", "stopped"):
            self.history += [f"user: {message}", f"lab: {view.answer[:500]}"]
        return LabReply.from_view(view)
