"""The policy gate every tool call passes: role check, validation, cost estimate, allow / ask / deny.

:func:`gate` is pure (no I/O besides reading the tool registry): it returns a :class:`GateDecision` that the governed
executor (:mod:`labwright.agents.governance`) acts on. The rules, in order:

1. the role must exist and list the tool (``roles.py``) — else **deny** ("not permitted for role");
2. the tool must be registered — else **deny** (with close names);
3. a tool named in :attr:`Policy.deny_tools` — **deny**;
4. the arguments must validate against the tool's input model — else **deny** with the field-naming message, which
   the model sees so it can correct itself;
5. the cost is estimated; **ask** when the estimated seconds exceed :attr:`Policy.approval_seconds`, the estimated
   LLM tokens exceed :attr:`Policy.approval_tokens`, or the tool's side effect is not ``"none"``; otherwise **allow**.

An *ask* can be settled without a person by the non-interactive approval rule (:class:`ApprovalRule`, from strings
``"none"`` (default: a person answers), ``"all"``, ``"under=60s"`` (read-only work only), ``"under=60s,writes"``
(store writes too), ...); the audit log records such approvals with approver ``"rule:all"`` / ``"rule:under=60s"``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput, UnknownRole, UnknownTool
from ..tools._paths import confine_args, roots_from_settings
from ..tools.registry import Cost, get_tool
from .audit import sha256_of
from .roles import WORKFLOW_ROLE, get_role

__all__ = ["ApprovalRule", "Policy", "GateDecision", "gate", "idempotency_key"]

Decision = Literal["allow", "ask", "deny"]


_EFFECT_WORDS = {"writes": "writes_store", "external": "external"}


class ApprovalRule(BaseModel):
    """A non-interactive answer to approval requests.

    Syntax (case-insensitive): ``none`` (ask a person; the default), ``all`` (approve everything), or a
    comma-separated list of clauses, each widening what is approved without a person:

    ``under=60s``
        read-only calls estimated to run under 60 s (the policy's own threshold always counts as covered);
    ``tokens=20000``
        calls estimated to spend up to 20,000 LLM tokens (default: up to the policy's token threshold);
    ``writes``
        calls that write a store (side effect ``writes_store``) — never approved by ``under=`` alone;
    ``external``
        calls with an effect outside labwright (side effect ``external``).

    So ``under=60s`` approves a 40 s fit but not a knowledge-store ingest, ``under=60s,writes`` approves both, and
    ``writes`` approves store writes whose estimate is within the approval threshold. The audit log records the
    approver as ``rule:<the rule as text>``.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["none", "all", "rule"] = "none"
    seconds: float | None = Field(default=None, description="approve calls estimated under this, s")
    tokens: int | None = Field(default=None, description="approve calls estimated to spend up to this many tokens")
    effects: frozenset[str] = Field(default=frozenset(), description="side-effect classes the rule approves")

    @classmethod
    def parse(cls, text: str | None) -> ApprovalRule:
        """Parse the syntax in the class docstring; :class:`InvalidInput` naming ``auto_approve`` else."""
        if text is None:
            return cls()
        t = text.strip().lower()
        if t in ("", "none", "ask"):
            return cls()
        if t == "all":
            return cls(kind="all")
        fields: dict[str, Any] = {"kind": "rule", "effects": set()}
        for clause in (c.strip() for c in t.split(",")):
            if m := re.fullmatch(r"under\s*=\s*([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)\s*s?", clause):
                fields["seconds"] = float(m.group(1))
            elif m := re.fullmatch(r"tokens\s*=\s*(\d+)", clause):
                fields["tokens"] = int(m.group(1))
            elif clause in _EFFECT_WORDS:
                fields["effects"].add(_EFFECT_WORDS[clause])
            else:
                raise InvalidInput(
                    "auto_approve",
                    f"unknown clause {clause!r} in {text!r}: expected 'none', 'all' or clauses "
                    "'under=<seconds>s', 'tokens=<n>', 'writes', 'external' separated by commas",
                )
        return cls(**fields)

    def __str__(self) -> str:
        if self.kind != "rule":
            return self.kind
        parts = [f"under={self.seconds:g}s"] if self.seconds is not None else []
        parts += [f"tokens={self.tokens}"] if self.tokens is not None else []
        parts += [w for w, effect in _EFFECT_WORDS.items() if effect in self.effects]
        return ",".join(parts)

    def approves(
        self,
        estimate: Cost,
        side_effect: str | None = "none",
        *,
        threshold_seconds: float = 0.0,
        threshold_tokens: float = float("inf"),
    ) -> bool:
        """True when this rule settles a question about a call with ``estimate`` and ``side_effect``.

        ``threshold_seconds``/``threshold_tokens``: the policy's own thresholds; an estimate within them needs no
        clause of its own (the question was then asked for another reason, e.g. a side effect).
        """
        if self.kind != "rule":
            return self.kind == "all"
        if side_effect not in (None, "none") and side_effect not in self.effects:
            return False
        seconds_ok = estimate.seconds <= threshold_seconds or (
            self.seconds is not None and estimate.seconds < self.seconds
        )
        tokens_ok = estimate.tokens <= threshold_tokens or (self.tokens is not None and estimate.tokens <= self.tokens)
        return seconds_ok and tokens_ok


class Policy(BaseModel):
    """Approval policy for one run."""

    model_config = ConfigDict(frozen=True)

    approval_seconds: float = Field(default=30.0, ge=0, description="ask when the estimate exceeds this, s")
    approval_tokens: int = Field(default=20_000, ge=0, description="ask when a call's estimated LLM tokens exceed this")
    ask_on_side_effects: bool = Field(default=True, description="ask when side_effect != 'none'")
    auto_approve: ApprovalRule = Field(default_factory=ApprovalRule)
    deny_tools: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Any = None, *, auto_approve: str | None = None, **overrides: Any) -> Policy:
        """Threshold from ``settings.approval_seconds``; ``auto_approve`` parsed by :meth:`ApprovalRule.parse`
        (default: ``settings.auto_approve`` if that field exists)."""
        if settings is None:
            from ..settings import get_settings

            settings = get_settings()
        rule_text = auto_approve if auto_approve is not None else getattr(settings, "auto_approve", None)
        fields: dict[str, Any] = {"approval_seconds": settings.approval_seconds}
        if getattr(settings, "approval_tokens", None) is not None:
            fields["approval_tokens"] = settings.approval_tokens
        return cls(**fields, auto_approve=ApprovalRule.parse(rule_text), **overrides)

    def to_record(self) -> dict[str, Any]:
        """JSON of this policy with the rule as its text (what a run's record keeps; see :meth:`from_record`)."""
        return {**self.model_dump(mode="json"), "auto_approve": str(self.auto_approve)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Policy:
        """The policy a run was started with, from :meth:`to_record` (fields it lacks keep their defaults)."""
        data = {k: v for k, v in record.items() if k in cls.model_fields and k != "auto_approve"}
        return cls(**data, auto_approve=ApprovalRule.parse(record.get("auto_approve")))

    def rule_approves(self, estimate: Cost, side_effect: str | None) -> bool:
        """True when :attr:`auto_approve` settles a question about a call (see :meth:`ApprovalRule.approves`)."""
        return self.auto_approve.approves(
            estimate, side_effect, threshold_seconds=self.approval_seconds, threshold_tokens=self.approval_tokens
        )


class GateDecision(BaseModel):
    """What the gate decided about one call, and everything the executor needs to carry it out."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    decision: Decision
    reason: str
    role: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict, description="validated arguments (JSON) when valid")
    args_sha256: str
    estimate: Cost = Field(default_factory=Cost)
    side_effect: str | None = None
    idempotency_key: str | None = None
    auto_approver: str | None = Field(default=None, description="'rule:...' when the policy's rule approves an ask")

    @property
    def validated(self) -> bool:
        return self.side_effect is not None


def idempotency_key(run_id: str, step_key: str, args_sha256: str) -> str:
    """Key of one call: sha256 of run id, step and argument hash (DESIGN.md "Idempotency")."""
    return hashlib.sha256(f"{run_id}\x1f{step_key}\x1f{args_sha256}".encode()).hexdigest()


def gate(
    role: str | None,
    tool_name: str,
    args: Mapping[str, Any] | None,
    policy: Policy,
    budget: Any = None,
    *,
    run_id: str | None = None,
    step_key: str | None = None,
) -> GateDecision:
    """Decide allow / ask / deny for ``role`` calling ``tool_name`` with ``args``.

    ``budget`` is accepted for the documented signature but budgets are checked by the executor, which knows the
    run's usage (:func:`labwright.agents.budget.check`). With ``run_id`` and ``step_key`` the decision carries the
    call's idempotency key.
    """
    del budget
    role_name = WORKFLOW_ROLE if role is None else role
    raw = dict(args or {}) if isinstance(args, Mapping) else {"<input>": args}
    base = {"role": role_name, "tool": tool_name, "args": raw, "args_sha256": sha256_of(raw)}
    try:
        r = get_role(role_name)
    except UnknownRole as err:
        return GateDecision(decision="deny", reason=str(err), **base)
    if not r.allows(tool_name):
        return GateDecision(
            decision="deny", reason=f"tool {tool_name!r} is not permitted for role {role_name!r}", **base
        )
    if tool_name in policy.deny_tools:
        return GateDecision(decision="deny", reason=f"tool {tool_name!r} is denied by policy", **base)
    try:
        spec = get_tool(tool_name)
    except UnknownTool as err:
        return GateDecision(decision="deny", reason=str(err), **base)
    try:
        inp = spec.validate(args)
        estimate = spec.cost_model(inp)
        # Every path resolved and confined to where this run may read and write (tools/_paths.py).
        valid = confine_args(tool_name, inp.model_dump(mode="json"), roots_from_settings(run_id))
    except InvalidInput as err:
        return GateDecision(decision="deny", reason=str(err), **base)
    sha = sha256_of(valid)
    key = idempotency_key(run_id, step_key, sha) if run_id is not None and step_key is not None else None
    common = {
        "role": role_name,
        "tool": tool_name,
        "args": valid,
        "args_sha256": sha,
        "estimate": estimate,
        "side_effect": spec.side_effect,
        "idempotency_key": key,
    }
    reasons = []
    if estimate.seconds > policy.approval_seconds:
        reasons.append(f"estimated {estimate.seconds:g} s exceeds the approval threshold {policy.approval_seconds:g} s")
    if estimate.tokens > policy.approval_tokens:
        reasons.append(f"estimated {estimate.tokens} LLM tokens exceed the approval threshold {policy.approval_tokens}")
    if policy.ask_on_side_effects and spec.side_effect != "none":
        reasons.append(f"side effect {spec.side_effect!r}")
    if not reasons:
        return GateDecision(decision="allow", reason="within policy", **common)
    rule = policy.auto_approve
    return GateDecision(
        decision="ask",
        reason="; ".join(reasons),
        auto_approver=f"rule:{rule}" if policy.rule_approves(estimate, spec.side_effect) else None,
        **common,
    )
