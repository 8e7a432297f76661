"""The bridge from skills to the agents' governance: one mechanism for tool calls, approvals and audit.

Tool calls go through :func:`labwright.agents.governance.governed_call` (policy gate -> ``interrupt()`` for approval
-> idempotent result store -> audit), exactly as an agent's tool calls do, under the role ``"workflow"`` unless the
step names another. Step checkpoints use the same :class:`~labwright.agents.policy.ApprovalRule` and
:class:`~labwright.agents.audit.AuditLog`; the rule that settled a question is recorded as its approver
(``"rule:all"``, ``"rule:under=60s"``) and a person's answer as ``"human:<the session's identity>"`` (never a name the
answer itself gives).

A step approved at its checkpoint gets a :class:`~labwright.skills._skill.StepGrant`: the tool calls the step then
makes that would ask at their own gate (a store write, a long call) are approved by that grant instead of asking
again, while their summed estimates stay within the approved estimate of the step. Each such call is recorded in the
ledger and the audit log as approved, with approver ``step:<step>(<who approved the step>)`` and the reason; a call
past the approved estimate, or any call of a step that was not approved at a checkpoint, still asks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..agents.audit import sha256_of
from ..agents.policy import ApprovalRule
from ..errors import InvalidInput, LabwrightError, PermissionDenied
from ..tools.registry import Cost, get_tool
from ._skill import StepApproval, StepGrant, StepRejected

# Ledger namespace of approvals settled by a step's grant: never a LangGraph task namespace, so re-running the node
# does not replay an interrupt() for them (see labwright.agents.governance.ask_human).
_GRANT_NS = "labwright:step-grant"

__all__ = ["Governance", "ToolFailed", "parse_step_answer"]


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


def _grant(step: Any, skill: Any, key: str, approver: str, data: Mapping[str, Any], estimate: Cost) -> StepGrant:
    """The grant a step approved with input ``data`` at estimated cost ``estimate`` gives its own tool calls."""
    return StepGrant(
        step=step.id,
        skill=skill.ref,
        reference=key,
        approver=approver,
        input_sha256=sha256_of(dict(data)),
        tools=tuple(skill.tools),
        seconds=float(estimate.seconds),
        tokens=int(estimate.tokens),
    )


class Governance:
    """Governance for one workflow run: the agents' :class:`~labwright.agents.governance.RunContext` (policy with the
    approval rule, audit log, ledger, budget) plus step checkpoints.

    Parameters
    ----------
    run_id
        The run (also the LangGraph thread id and the ledger's run id).
    approve
        Approval rule text: ``"none"`` (a person answers), ``"all"``, ``"under=60s"`` (read-only work),
        ``"under=60s,writes"`` (store writes too); see :class:`~labwright.agents.policy.ApprovalRule`.
    approver
        Identity of the person answering in this session (default ``LABWRIGHT_APPROVER``, else the OS user).
    """

    def __init__(self, run_id: str, approve: str | None, approver: str | None = None):
        from ..agents.governance import RunContext

        self.run_id = run_id
        self.rule = ApprovalRule.parse(approve)
        self.ctx = RunContext.open(run_id, auto_approve=str(self.rule), approver=approver)
        self.policy = self.ctx.policy
        # ask key -> approver, for pending questions this process answered by the approval rule (on resume)
        self._settled: dict[str, str] = {}

    # -- tool calls --------------------------------------------------------------------------------------------------
    def call_tool(
        self, role: str, tool: str, args: Mapping[str, Any], step_key: str, grant: StepGrant | None = None
    ) -> BaseModel:
        """Run ``tool`` through :func:`~labwright.agents.governance.governed_call`; return its output model.

        ``grant``: the approval of the calling step; a call that would ask is approved by it when it fits (see the
        module docstring). A denial raises :class:`PermissionDenied`; a rejection or a budget stop raises
        :class:`StepRejected` (the step ends as "rejected"); a tool error raises :class:`ToolFailed` with the tool's
        message.
        """
        from ..agents.governance import governed_call

        ctx = self._context_for(role, tool, args, step_key, grant)
        out = governed_call(ctx, role, tool, dict(args), step_key)
        if out.ok:
            return get_tool(tool).output_model.model_validate(out.result)
        if out.status == "denied":
            raise PermissionDenied(f"{tool}: {out.message}")
        if out.status in ("rejected", "stopped"):
            raise StepRejected(f"{tool}: {out.message}")
        raise ToolFailed(f"{tool}: {out.message}")

    def _context_for(
        self, role: str, tool: str, args: Mapping[str, Any], step_key: str, grant: StepGrant | None
    ) -> Any:
        """The run context to call ``tool`` with: the run's own, or a copy whose approver is the step's grant (its
        approval already recorded in the ledger) or the rule that settled this call's pending question."""
        from ..agents.policy import gate

        dec = gate(role, tool, args, self.policy, run_id=self.run_id, step_key=step_key)
        if dec.decision != "ask" or dec.idempotency_key is None:
            return self.ctx
        key = dec.idempotency_key
        if key in self._settled:
            return dataclasses.replace(self.ctx, approver=self._settled[key])
        if grant is None or dec.auto_approver is not None:
            return self.ctx  # no step approval to lean on, or the rule approves the call itself
        # Charge every call that needs approval, also one whose result is stored, so a re-run decides the same way.
        if not grant.take(tool, dec.estimate):
            return self.ctx  # past what was approved (or a tool the skill does not declare): the gate asks
        asked = self.ctx.ledger.get_ask(key, "approval")
        if asked is not None and asked["ns"] != _GRANT_NS:
            return self.ctx  # a person was asked about this call before: their answer (or the question) stands
        if asked is None and self.ctx.ledger.get_result(key) is None:
            self._record_grant(dec, key, step_key, grant)
        return dataclasses.replace(self.ctx, approver=grant.approver_ref)

    def _record_grant(self, dec: Any, key: str, step_key: str, grant: StepGrant) -> None:
        """Store the call's approval by ``grant`` in the ledger, where governed_call reads it as answered."""
        reason = (
            f"covered by the approval of step {grant.step!r} by {grant.approver} (checkpoint {grant.reference[:12]}): "
            f"{dec.reason}; estimates so far {grant.spent_seconds:.3g} s of the approved {grant.seconds:.3g} s"
        )
        from ..agents.governance import approval_payload

        payload = {**approval_payload(self.run_id, dec, key, step_key), "covered_by": grant.to_json()}
        ledger = self.ctx.ledger
        ledger.put_ask(key=key, kind="approval", run_id=self.run_id, payload=payload, ns=_GRANT_NS)
        ledger.answer_ask(key, "approval", {"decision": "approve", "reason": reason}, _GRANT_NS)

    def settle_pending(self, pending: Any) -> bool:
        """Answer one pending question by this run's approval rule if it approves it; record that in the audit.

        Used when a run is resumed with a rule (``approve="all"``) while questions asked earlier are still open.
        Budget questions are not approvals and are never settled this way. True if settled.
        """
        if pending.kind not in ("step", "approval"):
            return False
        estimate = pending.payload.get("estimate")
        cost = Cost.model_validate(estimate) if isinstance(estimate, Mapping) else Cost()
        # A question from before side effects were recorded in step payloads counts as a write (never under= alone).
        if not self.policy.rule_approves(cost, pending.payload.get("side_effect", "writes_store")):
            return False
        approver = f"rule:{self.rule}"
        key = pending.payload.get("ask_key")
        if key:
            self._settled[key] = approver
        self.ctx.log(
            "approval_settled",
            actor="workflow",
            role="workflow",
            tool=pending.tool or (f"skill:{pending.payload.get('skill')}" if pending.kind == "step" else None),
            decision="approve",
            approver=approver,
            detail={"interrupt": pending.id, "kind": pending.kind, "step": pending.step, "reason": pending.reason},
            dedupe=f"{key or pending.id}:settled",
        )
        return True

    # -- step checkpoints --------------------------------------------------------------------------------------------
    def approve_step(self, step: Any, skill: Any, inp: BaseModel) -> StepApproval | None:
        """Stop ``step`` for approval if its rule says so; return the input to run with and the grant covering the
        step's tool calls (None when the step needs no approval), or None if rejected."""
        from ..agents.policy import idempotency_key

        data = inp.model_dump(mode="json")
        reason = skill.needs_approval(inp, self.policy.approval_seconds, forced=step.checkpoint)
        if reason is None:
            return StepApproval(data)
        estimate = skill.estimate_cost(inp)
        key = idempotency_key(self.run_id, f"{step.id}/checkpoint", sha256_of(data))
        common = {"role": "workflow", "tool": f"skill:{skill.ref}", "args": data}
        # A question already put to a person stays theirs: on resume it is answered by id (or step id) if an answer is
        # given, else settled by the rule in the run loop (``settle_pending``, audited), never skipped by a re-run.
        side_effect = "writes_store" if skill.writes_store() else "none"
        if self.policy.rule_approves(estimate, side_effect) and self.ctx.ledger.get_ask(key, "step") is None:
            self.ctx.log(
                "decision",
                actor="workflow",
                decision="approve",
                approver=f"rule:{self.rule}",
                detail={"step": step.id, "reason": reason, "estimate": estimate.model_dump(), "kind": "step"},
                dedupe=f"{key}:decision",
                **common,
            )
            return StepApproval(data, _grant(step, skill, key, f"rule:{self.rule}", data, estimate))
        return self._ask_step(step, skill, key, reason, data, estimate, side_effect)

    def _ask_step(
        self, step: Any, skill: Any, key: str, reason: str, data: dict[str, Any], estimate: Cost, side_effect: str
    ) -> StepApproval | None:
        """Put ``step`` to a person until approved or rejected. An edit is validated and estimated again: an invalid
        one re-asks the same question with the error; one that now costs more than the question showed (and than the
        approval threshold) is asked about as edited. Each question has its own ledger key (replayed in order)."""
        from ..agents.governance import _claim_detail, ask_human

        shown, cost, why, error, n = data, estimate, reason, None, 0
        while True:
            ask_key = key if n == 0 else f"{key}/ask{n}"
            common = {"role": "workflow", "tool": f"skill:{skill.ref}", "args": shown}
            payload = {
                "kind": "step",
                "run_id": self.run_id,
                "step": step.id,
                "skill": skill.ref,
                "reason": why,
                "estimate": cost.model_dump(),
                "side_effect": side_effect,
                "input": _short(shown),
                "options": [
                    "approve",
                    "reject",
                    {"edit": "{field: value}"},
                    {"rollback": {"step": "...", "params": {}}},
                ],
            }
            detail: dict[str, Any] = {"step": step.id, "reason": why}
            if error:
                payload["error"] = detail["error"] = error
            self.ctx.log(
                "approval_request", actor="workflow", decision="ask", detail=detail, dedupe=f"{ask_key}:ask", **common
            )
            answer = ask_human(self.ctx, ask_key, "step", payload)
            approver = self._settled.get(ask_key, self.ctx.approver)
            claim = _claim_detail(answer.get("by") if isinstance(answer, Mapping) else None)
            try:
                decided = parse_step_answer(answer, shown)
                edited = None if decided is None or decided == shown else skill.validate_input(decided)
            except InvalidInput as err:
                error, n = f"invalid answer: {err}; answer again", n + 1
                self.ctx.log(
                    "decision", actor="workflow", decision="invalid", approver=approver,
                    detail={"step": step.id, "error": error, **claim}, dedupe=f"{ask_key}:decision", **common,
                )  # fmt: skip
                continue
            verdict = "reject" if decided is None else ("edit" if edited is not None else "approve")
            self.ctx.log(
                "decision", actor="workflow", decision=verdict, approver=approver,
                detail={"step": step.id, "reason": why, "edited": decided if edited is not None else None, **claim},
                dedupe=f"{ask_key}:decision", **common,
            )  # fmt: skip
            if decided is None:
                return None
            if edited is None:
                return StepApproval(decided, _grant(step, skill, key, approver, decided, cost))
            new_cost, n, error = skill.estimate_cost(edited), n + 1, None
            if new_cost.seconds <= max(self.policy.approval_seconds, cost.seconds) and new_cost.tokens <= max(
                self.policy.approval_tokens, cost.tokens
            ):
                # An edit is approved as edited: the grant covers the cost estimated for the input the step runs with.
                return StepApproval(decided, _grant(step, skill, key, approver, decided, new_cost))
            shown, cost = decided, new_cost
            why = f"edited step: estimated {new_cost.seconds:.3g} s, more than the {estimate.seconds:.3g} s approved"

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
