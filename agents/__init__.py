"""The control plane: governed supervisor-worker agents on LangGraph.

The governance core shared by agents and skills (one mechanism, not a copy):

* :mod:`~labwright.agents.roles` — role -> allowed tools, declared once, checked at call time;
* :mod:`~labwright.agents.policy` — :func:`gate` (allow / ask / deny) and :class:`Policy`;
* :mod:`~labwright.agents.budget` — per-run limits and usage;
* :mod:`~labwright.agents.audit` — the hash-chained :class:`AuditLog`;
* :mod:`~labwright.agents.ledger` — results by idempotency key, questions, budgets, LLM replies;
* :mod:`~labwright.agents.governance` — :func:`governed_call`, the one way a node runs a tool.

The names below load on first access (LangGraph comes with the governance module), so ``labwright.agents.cli``
and the roles stay light.
"""

import importlib
from typing import Any

_LAZY = {
    "AuditLog": "audit",
    "AuditReport": "audit",
    "AuditRow": "audit",
    "Budget": "budget",
    "Usage": "budget",
    "ApprovalRequired": "governance",
    "RunContext": "governance",
    "ToolOutcome": "governance",
    "context_from_config": "governance",
    "governed_call": "governance",
    "governed_llm": "governance",
    "Ledger": "ledger",
    "ApprovalRule": "policy",
    "GateDecision": "policy",
    "Policy": "policy",
    "gate": "policy",
    "ROLES": "roles",
    "check_role_tools": "roles",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
