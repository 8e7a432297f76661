"""roles.py and the tool registry agree exactly: every tool a role names exists, every product tool has a role.

Strict on purpose: a tool added without a role, a role naming a tool that is not registered (a typo, or a tool not
written yet) or a deliberately unassigned tool that is not listed in ``UNASSIGNED_TOOLS`` fails here.
"""

from __future__ import annotations

from labwright.agents.roles import ANY_TOOL, ROLES, UNASSIGNED_TOOLS, WORKER_ROLES, WORKFLOW_ROLE, check_role_tools
from labwright.tools.registry import _REGISTRY, _ensure_loaded

# `import labwright` no longer imports the tool modules (fast start), so load them all here: otherwise this file
# passed only after another test had happened to load them.
_ensure_loaded()

# The tools each area promised (issue 8 brief); roles.py must give them to these roles.
EXPECTED = {
    "electrochemist": {
        "simulate_cv",
        "simulate_ca",
        "fit_cv",
        "compare_cv_models",
        "randles_sevcik",
        "nicholson_k0",
        "tafel_analysis",
        "cottrell_analysis",
        "read_voltammogram",
    },
    "mechanist": {"validate_mechanism", "score_mechanism", "compare_mechanisms", "omes_score"},
    "kineticist": {
        "simulate_network",
        "steady_state",
        "fit_rate_constants",
        "check_detailed_balance",
        "pdpc_response",
        "simulate_ssa",
        "cme_stationary",
    },
    "librarian": {"kg_stats", "kg_neighbors", "kg_paths", "kg_hypotheses", "kg_export"},
}
CHEM = {"canonicalize_smiles", "describe_molecule", "molecular_similarity"}


def product_tools() -> set[str]:
    """Tools registered by labwright's own modules (tests register scratch tools and remove them; ignore any)."""
    return {
        name
        for name, spec in _REGISTRY.items()
        if getattr(spec.func, "__module__", "").startswith(("labwright.tools.", "labwright.knowledge."))
    }


def test_every_tool_named_in_a_role_is_registered():
    registered = set(_REGISTRY)
    missing = {
        name: sorted(t for t in role.tools if t != ANY_TOOL and t not in registered) for name, role in ROLES.items()
    }
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"roles.py names tools that are not registered: {missing}"
    assert check_role_tools().complete


def test_every_registered_tool_belongs_to_a_role_or_is_listed_as_unassigned():
    tools = product_tools()
    assert len(tools) >= 25, sorted(tools)  # the whole package was imported
    agent_roles = [r for n, r in ROLES.items() if n != WORKFLOW_ROLE]
    orphans = sorted(t for t in tools if not any(r.allows(t) for r in agent_roles))
    assert orphans == sorted(UNASSIGNED_TOOLS), (
        f"registered tools in no agent role: {orphans}; give each a role in roles.py or list it, with a reason, in "
        "UNASSIGNED_TOOLS"
    )
    assert all(reason.strip() for reason in UNASSIGNED_TOOLS.values())


def test_each_area_tool_goes_to_its_role_and_chemistry_helpers_to_every_worker():
    for role, names in EXPECTED.items():
        assert names <= ROLES[role].tools, (role, sorted(names - ROLES[role].tools))
    for role in WORKER_ROLES:
        assert CHEM <= ROLES[role].tools, role
    assert ANY_TOOL not in {t for r in WORKER_ROLES for t in ROLES[r].tools}  # only skills may call anything
    assert not ROLES["supervisor"].tools  # the supervisor plans and delegates; it calls no tool


def test_reviewer_gets_read_only_tools_and_only_the_librarian_writes_the_knowledge_store():
    for tool in ROLES["reviewer"].tools:
        assert _REGISTRY[tool].side_effect == "none", tool
    store_writers = {t for t in product_tools() if t.startswith("kg_") and _REGISTRY[t].side_effect != "none"}
    assert store_writers  # kg_ingest_* and kg_export write
    for role in WORKER_ROLES:
        assert bool(ROLES[role].tools & store_writers) == (role == "librarian"), role
