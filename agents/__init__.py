"""The control plane: governed supervisor-worker agents on LangGraph.

The governance core shared by agents and skills (one mechanism, not a copy):

* :mod:`~labwright.agents.roles` — role -> allowed tools, declared once, checked at call time;
* :mod:`~labwright.agents.policy` — :func:`gate` (allow / ask / deny) and :class:`Policy`;
* :mod:`~labwright.agents.budget` — per-run limits and usage;
* :mod:`~labwright.agents.audit` — the hash-chained :class:`AuditLog`;
* :mod:`~labwright.agents.ledger` — results by idempotency key, questions, budgets, LLM replies;
* :mod:`~labwright.agents.governance` — :func:`governed_call`, the one way a node runs a tool.
"""

from .audit import AuditLog as AuditLog
from .audit import AuditReport as AuditReport
from .audit import AuditRow as AuditRow
from .budget import Budget as Budget
from .budget import Usage as Usage
from .governance import ApprovalRequired as ApprovalRequired
from .governance import RunContext as RunContext
from .governance import ToolOutcome as ToolOutcome
from .governance import context_from_config as context_from_config
from .governance import governed_call as governed_call
from .governance import governed_llm as governed_llm
from .ledger import Ledger as Ledger
from .policy import ApprovalRule as ApprovalRule
from .policy import GateDecision as GateDecision
from .policy import Policy as Policy
from .policy import gate as gate
from .roles import ROLES as ROLES
from .roles import check_role_tools as check_role_tools
