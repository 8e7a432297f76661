"""The bridge from skills to the agents' governance: one mechanism for tool calls, approvals and audit.

Tool calls go through :func:`labwright.agents.governance.governed_call` (policy gate -> ``interrupt()`` for approval
-> idempotent result store -> audit), exactly as an agent's tool calls do, under the role ``"workflow"`` unless the
step names another. Step checkpoints use the same :class:`~labwright.agents.policy.ApprovalRule` and
:class:`~labwright.agents.audit.AuditLog`; the rule that settled a question is recorded as its approver
(``"rule:all"``, ``"rule:under=60s"``) and a person's answer as ``"human"``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..agents.audit import sha256_of
from ..agents.policy import ApprovalRule
from ..errors import InvalidInput, LabwrightError, PermissionDenied
from ..tools.registry import get_tool
from ._skill import StepRejected

__all__ = ["Governance", "ToolFailed", "parse_step_answer", "sync_cpu_dispatch"]


def sync_cpu_dispatch() -> bool:
    """Make XLA's CPU client run computations on the calling thread; True if that is (or already was) in force.

    Why: parallel workflow branches call jitted tools from several Python threads at once. With XLA's default
    asynchronous CPU dispatch this can hang for good, every worker of the small CPU pool blocked on a buffer that a
    computation queued behind it would produce (jax-ml/jax#25861; seen here with four parallel CV fits on 2 cores).
    Synchronous dispatch avoids it. The flag only counts before the CPU backend starts, so it returns False when JAX
    already ran in this process with asynchronous dispatch; tool calls are then serialised (see ``_TOOL_GUARD``).
    """
    import jax

    try:
        from jax._src.xla_bridge import backends_are_initialized
    except ImportError:  # a JAX without this helper: assume the worst
        return not jax.config.values.get("jax_cpu_enable_async_dispatch", True)
    if not jax.config.values.get("jax_cpu_enable_async_dispatch", True):
        return True
    if backends_are_initialized():
        return False
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    return True


# Serialises tool calls across threads only when asynchronous CPU dispatch could not be turned off in time.
_TOOL_GUARD: Any = contextlib.nullcontext() if sync_cpu_dispatch() else threading.Lock()


class ToolFailed(LabwrightError):
    """A tool called by a skill raised; the message is the tool's."""


def _short(value: Any, limit: int = 12) -> Any:
    """A preview of an input for a person: long lists are cut to their first items."""
    if isinstance(value, Mapping):
        return {k: _short(v, limit) for k, v in value.items()}
    if isinstance(value, list) and len(value) > limit:
        return [_short(v, limit) for v in value[:limit]] + [f"... {len(value) - limit} more"]
    return value


def parse_step_answer(answer: Any, inp: Mapping[str, Any]) -> dict[str, Any] | None:
    """The input to run a step with after ``answer`` ("approve" / "reject" / {"edit": {...}}), or None if rejected."""
    if isinstance(answer, bool):
        return dict(inp) if answer else None
    if isinstance(answer, str):
        a = answer.strip().lower()
        if a in ("approve", "approved", "yes", "y", "ok"):
            return dict(inp)
        if a in ("reject", "rejected", "no", "n", "stop"):
            return None
    if isinstance(answer, Mapping):
        if "edit" in answer and isinstance(answer["edit"], Mapping):
            return {**inp, **answer["edit"]}
        if answer.get("decision") in ("approve", "reject"):
            return dict(inp) if answer["decision"] == "approve" else None
    raise InvalidInput("answer", f"a step checkpoint takes 'approve', 'reject' or {{'edit': {{...}}}}, got {answer!r}")


class Governance:
    """Governance for one workflow run: the agents' :class:`~labwright.agents.governance.RunContext` (policy with the
    approval rule, audit log, ledger, budget) plus step checkpoints.

    Parameters
    ----------
    run_id
        The run (also the LangGraph thread id and the ledger's run id).
    approve
        Approval rule text: ``"none"`` (a person answers), ``"all"``, ``"under=60s"``.
    """

    def __init__(self, run_id: str, approve: str | None):
        from ..agents.governance import RunContext

        self.run_id = run_id
        self.rule = ApprovalRule.parse(approve)
        self.ctx = RunContext.open(run_id, auto_approve=str(self.rule))
        self.policy = self.ctx.policy

    # -- tool calls --------------------------------------------------------------------------------------------------
    def call_tool(self, role: str, tool: str, args: Mapping[str, Any], step_key: str) -> BaseModel:
        """Run ``tool`` through :func:`~labwright.agents.governance.governed_call`; return its output model.

        A denial raises :class:`PermissionDenied`; a rejection or a budget stop raises :class:`StepRejected` (the step
        ends as "rejected"); a tool error raises :class:`ToolFailed` with the tool's message.
        """
        from ..agents.governance import governed_call

        with _TOOL_GUARD:
            out = governed_call(self.ctx, role, tool, dict(args), step_key)
        if out.ok:
            return get_tool(tool).output_model.model_validate(out.result)
        if out.status == "denied":
            raise PermissionDenied(f"{tool}: {out.message}")
        if out.status in ("rejected", "stopped"):
            raise StepRejected(f"{tool}: {out.message}")
        raise ToolFailed(f"{tool}: {out.message}")

    # -- step checkpoints --------------------------------------------------------------------------------------------
    def approve_step(self, step: Any, skill: Any, inp: BaseModel) -> dict[str, Any] | None:
        """Stop ``step`` for approval if its rule says so; return the input to run with, or None if rejected."""
        from ..agents.governance import ask_human
        from ..agents.policy import idempotency_key

        data = inp.model_dump(mode="json")
        reason = skill.needs_approval(inp, self.policy.approval_seconds, forced=step.checkpoint)
        if reason is None:
            return data
        estimate = skill.estimate_cost(inp)
        key = idempotency_key(self.run_id, f"{step.id}/checkpoint", sha256_of(data))
        common = {"role": "workflow", "tool": f"skill:{skill.ref}", "args": data}
        if self.rule.approves(estimate):
            self.ctx.log(
                "decision",
                actor="workflow",
                decision="approve",
                approver=f"rule:{self.rule}",
                detail={"step": step.id, "reason": reason, "estimate": estimate.model_dump(), "kind": "step"},
                dedupe=f"{key}:decision",
                **common,
            )
            return data
        payload = {
            "kind": "step",
            "run_id": self.run_id,
            "step": step.id,
            "skill": skill.ref,
            "reason": reason,
            "estimate": estimate.model_dump(),
            "input": _short(data),
            "options": ["approve", "reject", {"edit": "{field: value}"}, {"rollback": {"step": "...", "params": {}}}],
        }
        self.ctx.log(
            "approval_request",
            actor="workflow",
            decision="ask",
            detail={"step": step.id, "reason": reason},
            dedupe=f"{key}:ask",
            **common,
        )
        answer = ask_human(self.ctx, key, "step", payload)
        decided = parse_step_answer(answer, data)
        verdict = "reject" if decided is None else ("edit" if decided != data else "approve")
        self.ctx.log(
            "decision",
            actor="workflow",
            decision=verdict,
            approver=self.ctx.approver,
            detail={"step": step.id, "reason": reason, "edited": decided if verdict == "edit" else None},
            dedupe=f"{key}:decision",
            **common,
        )
        return decided

    # -- run events --------------------------------------------------------------------------------------------------
    def record_start(self, workflow: str, *, resumed: bool) -> None:
        self.ctx.log(
            "run_resume" if resumed else "run_start",
            actor="workflow",
            role="workflow",
            detail={"workflow": workflow, "approve": str(self.rule), "approval_seconds": self.policy.approval_seconds},
        )

    def record_end(self, status: str, detail: str) -> None:
        self.ctx.log(f"run_{status}", actor="workflow", role="workflow", detail={"detail": detail})

    def record_rollback(self, step: str | None, params: Mapping[str, Any]) -> None:
        self.ctx.log(
            "rollback",
            actor="workflow",
            role="workflow",
            approver=self.ctx.approver,
            detail={"step": step, "params": dict(params)},
        )
