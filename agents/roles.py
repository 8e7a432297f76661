"""Agent roles: the one place where permissions are declared.

Each role names the tools it may call. The list is enforced when a tool is *called*
(:func:`labwright.agents.policy.gate`
checks it on every request), not only when tools are offered to a model, so a model that asks for a tool outside its
role, for instance because a document told it to, gets a denial and nothing runs.

Skills (the workflow plane) run under the role ``"workflow"``. A skill's tool list is fixed in reviewed code and
launched by a person, not chosen by a model, so the allowlist check (whose job is to stop injected requests) lets a
skill call any registered tool; everything else (validation, cost estimate, approval, budget, idempotency, audit) is
the same as for agents. ``None`` as a role means ``"workflow"``.

Tool names are listed even where the tool is still being written; :func:`check_role_tools` reports names that are
not registered so an integrator can tell a typo from a tool that does not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from ..errors import UnknownRole

__all__ = [
    "Role",
    "ROLES",
    "WORKER_ROLES",
    "ANY_TOOL",
    "WORKFLOW_ROLE",
    "UNASSIGNED_TOOLS",
    "get_role",
    "role_names",
    "is_allowed",
    "tools_for",
    "check_role_tools",
    "RoleToolReport",
    "register_role",
]

ANY_TOOL = "*"
WORKFLOW_ROLE = "workflow"

_CHEM = ("canonicalize_smiles", "describe_molecule", "molecular_similarity")


@dataclass(frozen=True)
class Role:
    """A role: its name, what it is for (shown to models and in plans) and the tools it may call."""

    name: str
    description: str
    tools: frozenset[str] = field(default_factory=frozenset)

    def allows(self, tool_name: str) -> bool:
        return ANY_TOOL in self.tools or tool_name in self.tools


_ELECTROCHEM = (
    "simulate_cv",
    "simulate_ca",
    "fit_cv",
    "compare_cv_models",
    "randles_sevcik",
    "nicholson_k0",
    "tafel_analysis",
    "cottrell_analysis",
    "read_voltammogram",
    "sweep_cv",
    "batch_fit_cv",
)
_MECHANISM = ("validate_mechanism", "score_mechanism", "compare_mechanisms", "omes_score")
_KINETICS = (
    "simulate_network",
    "steady_state",
    "fit_rate_constants",
    "check_detailed_balance",
    "pdpc_response",
    "pdpc_saturation_scan",
    "simulate_ssa",
    "cme_stationary",
    "load_sbml",
    "simulate_sbml",
    "export_sbml",
)
_KNOWLEDGE_READ = ("kg_stats", "kg_neighbors", "kg_paths", "kg_hypotheses")
# kg_export writes a HIF file, so it is a writing tool: the librarian's, not the read-only reviewer's.
_KNOWLEDGE_WRITE = ("kg_ingest_text", "kg_ingest_events", "kg_ingest_batch", "kg_export")

# Registered tools deliberately given to no agent role (only skills may call them), with the reason. Empty today:
# every registered tool belongs to a role; tests fail when a new tool is in neither a role nor this list.
UNASSIGNED_TOOLS: dict[str, str] = {}

ROLES: dict[str, Role] = {}


def register_role(role: Role) -> Role:
    """Add (or replace) a role. Used by the declarations below and by tests that need a scratch role."""
    ROLES[role.name] = role
    return role


register_role(Role("supervisor", "Plans the work, delegates tasks to roles and writes the answer; calls no tools."))
register_role(
    Role(
        "electrochemist",
        "Cyclic voltammetry and chronoamperometry: simulate, fit, classical analyses (Randles-Sevcik, Nicholson, "
        "Tafel, Cottrell), read voltammogram files.",
        frozenset((*_ELECTROCHEM, *_CHEM)),
    )
)
register_role(
    Role(
        "mechanist",
        "Organic reaction mechanisms: validate steps, score against a reference (oMeS), compare mechanisms.",
        frozenset((*_MECHANISM, *_CHEM)),
    )
)
register_role(
    Role(
        "kineticist",
        "Reaction-network kinetics: ODE and stochastic simulation, steady states, rate-constant fits, detailed "
        "balance.",
        frozenset((*_KINETICS, *_CHEM)),
    )
)
register_role(
    Role(
        "librarian",
        "The hypergraph knowledge store: ingest text and events, statistics, neighbours, paths, hypotheses, export.",
        frozenset((*_KNOWLEDGE_WRITE, *_KNOWLEDGE_READ, *_CHEM)),
    )
)
register_role(
    Role(
        "reviewer",
        "Checks claims against the evidence tools returned; read-only tools only.",
        frozenset((*_KNOWLEDGE_READ, *_CHEM, "read_voltammogram", "validate_mechanism", "check_detailed_balance")),
    )
)
register_role(Role(WORKFLOW_ROLE, "Scripted skills (reviewed code, launched by a person).", frozenset({ANY_TOOL})))

WORKER_ROLES = ("electrochemist", "mechanist", "kineticist", "librarian", "reviewer")


def role_names() -> list[str]:
    return sorted(ROLES)


def get_role(name: str | None) -> Role:
    """The role called ``name`` (``None`` means ``"workflow"``); :class:`UnknownRole` otherwise."""
    key = WORKFLOW_ROLE if name is None else name
    try:
        return ROLES[key]
    except KeyError:
        raise UnknownRole(key, ROLES) from None


def is_allowed(role: str | None, tool_name: str) -> bool:
    """Whether ``role`` may call ``tool_name`` (unknown roles may call nothing)."""
    key = WORKFLOW_ROLE if role is None else role
    return key in ROLES and ROLES[key].allows(tool_name)


def tools_for(role: str | None) -> list[str]:
    """The registered tools ``role`` may call, sorted (what is offered to a model playing the role)."""
    from ..tools import list_tools

    r = get_role(role)
    return [name for name in list_tools() if r.allows(name)]


class RoleToolReport(BaseModel):
    """Which declared tool names are registered, per role."""

    registered: dict[str, list[str]] = Field(default_factory=dict)
    unregistered: dict[str, list[str]] = Field(default_factory=dict)
    unassigned: list[str] = Field(
        default_factory=list, description="registered tools no agent role may call (only skills can)"
    )

    @property
    def complete(self) -> bool:
        return not any(self.unregistered.values())

    def summary(self) -> str:
        missing = {r: names for r, names in self.unregistered.items() if names}
        parts = []
        if missing:
            parts.append(
                "not registered (yet): " + "; ".join(f"{r}: {', '.join(n)}" for r, n in sorted(missing.items()))
            )
        else:
            parts.append("every tool named in roles.py is registered")
        if self.unassigned:
            parts.append("registered but in no agent role: " + ", ".join(self.unassigned))
        return "; ".join(parts) if len(parts) > 1 else parts[0]


def check_role_tools() -> RoleToolReport:
    """Split each role's declared tool names into registered and not (yet) registered ones."""
    from ..tools import list_tools

    known = set(list_tools())
    report = RoleToolReport()
    for name, role in sorted(ROLES.items()):
        declared = sorted(t for t in role.tools if t != ANY_TOOL)
        report.registered[name] = [t for t in declared if t in known]
        report.unregistered[name] = [t for t in declared if t not in known]
    agents = [r for n, r in ROLES.items() if n != WORKFLOW_ROLE]
    report.unassigned = sorted(t for t in known if not any(r.allows(t) for r in agents))
    return report
