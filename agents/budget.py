"""Per-run budgets: tool calls, tool-seconds, LLM tokens and (optionally) wall time.

A :class:`Budget` holds the limits (``None`` = unlimited), :class:`Usage` what the run has used so far. Before every
tool call and every LLM request the governed executor asks :func:`check` whether the *next* step would cross a limit;
if so it pauses the run with an ``interrupt()`` of kind ``"budget"`` and the human answers ``"extend"`` (raise the
crossed limit enough for the step, at least doubling it), ``{"extend": {"max_tool_calls": 100, ...}}`` (set limits) or
``"stop"``. A run is never stopped silently and never allowed past a limit without an answer.

Usage is not kept in graph state: it is summed from the run's ledger (stored results and LLM responses), so parallel
workers see one total and a node re-run on resume does not count twice. A tool call *reserves* its share (one call,
its estimated seconds) in the same transaction that checks the limits, so parallel workers cannot overrun a limit
together. A model request is sent with ``max_tokens`` set to what the token budget leaves once the (estimated) prompt
is paid, so a reply cannot spend past the limit. What is known only afterwards is checked against estimates: a call
that runs longer than its estimate, or a prompt larger than estimated, can carry usage past a limit by that one step;
the next step then pauses.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput

__all__ = ["Budget", "Usage", "Breach", "check", "extended", "parse_budget_answer", "BudgetLimit"]

BudgetLimit = Literal["max_tool_calls", "max_tool_seconds", "max_llm_tokens", "max_wall_seconds"]


class Budget(BaseModel):
    """Limits for one run; ``None`` means no limit."""

    model_config = ConfigDict(extra="forbid")

    max_tool_calls: int | None = Field(default=100, ge=0, description="tool calls per run")
    max_tool_seconds: float | None = Field(default=3600.0, ge=0, description="summed tool run time per run, s")
    max_llm_tokens: int | None = Field(default=500_000, ge=0, description="prompt + completion tokens per run")
    max_wall_seconds: float | None = Field(default=None, ge=0, description="wall time since the run started, s")


class Usage(BaseModel):
    """What a run has used so far."""

    tool_calls: int = 0
    tool_seconds: float = 0.0
    llm_tokens: int = 0
    wall_seconds: float = 0.0


class Breach(BaseModel):
    """A limit the next step would cross: which, its value, what is used and what the step needs."""

    limit: BudgetLimit
    value: float
    used: float
    needed: float

    def message(self) -> str:
        return (
            f"budget {self.limit} = {self.value:g} would be crossed (used {self.used:g}, next step needs "
            f"{self.needed:g}); answer 'extend' or 'stop'"
        )


_USED = {
    "max_tool_calls": "tool_calls",
    "max_tool_seconds": "tool_seconds",
    "max_llm_tokens": "llm_tokens",
    "max_wall_seconds": "wall_seconds",
}


def check(
    budget: Budget, usage: Usage, *, tool_calls: int = 0, tool_seconds: float = 0.0, llm_tokens: int = 0
) -> Breach | None:
    """The first limit that ``usage`` plus the next step's needs would cross, or ``None``.

    Wall time has no "next step" amount: it is breached once the run is older than the limit.
    """
    needs = {"max_tool_calls": tool_calls, "max_tool_seconds": tool_seconds, "max_llm_tokens": llm_tokens}
    for limit, used_name in _USED.items():
        value = getattr(budget, limit)
        if value is None:
            continue
        used = getattr(usage, used_name)
        need = needs.get(limit, 0.0)
        if limit == "max_wall_seconds":
            if used > value:
                return Breach(limit=limit, value=value, used=used, needed=0.0)
        elif need > 0 and used + need > value:
            return Breach(limit=limit, value=value, used=used, needed=need)
    return None


def extended(budget: Budget, breach: Breach) -> Budget:
    """``budget`` with the breached limit raised enough for the step and at least doubled (never lowered)."""
    value = max(2 * breach.value, breach.used + breach.needed, 1.0)
    if breach.limit in ("max_tool_calls", "max_llm_tokens"):
        value = math.ceil(value)
    return budget.model_copy(update={breach.limit: value})


def parse_budget_answer(answer: Any, budget: Budget, breach: Breach) -> Budget | None:
    """Interpret a human's answer to a budget pause: the new :class:`Budget`, or ``None`` for stop.

    Accepts ``"extend"``, ``"stop"``, ``{"extend": {limit: value, ...}}``; an explicit extension that still does
    not cover the step is raised to cover it (the answer asked to go on).
    """
    if isinstance(answer, str) and answer.strip().lower() in ("stop", "reject", "no"):
        return None
    if isinstance(answer, str) and answer.strip().lower() in ("extend", "approve", "yes", "continue"):
        return extended(budget, breach)
    if isinstance(answer, dict) and "extend" in answer:
        changes = answer["extend"]
        if not isinstance(changes, dict):
            return extended(budget, breach)
        try:
            new = Budget.model_validate({**budget.model_dump(), **changes})
        except ValueError as err:
            raise InvalidInput("extend", str(err).splitlines()[0]) from None
        if check(new, Usage(**{_USED[breach.limit]: breach.used}), **_need(breach)) is not None:
            new = extended(new, breach.model_copy(update={"value": getattr(new, breach.limit) or 0}))
        return new
    raise InvalidInput("answer", f"a budget pause takes 'extend', 'stop' or {{'extend': {{...}}}}, got {answer!r}")


def _need(breach: Breach) -> dict[str, float]:
    name = {"max_tool_calls": "tool_calls", "max_tool_seconds": "tool_seconds", "max_llm_tokens": "llm_tokens"}
    return {name[breach.limit]: breach.needed} if breach.limit in name else {}
