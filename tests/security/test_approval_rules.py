"""Issue 12 item 9: ``under=Ns`` approves costly read-only work only; writes need a rule that names them."""

from __future__ import annotations

import pytest
from labwright.agents.policy import ApprovalRule, Policy, gate
from labwright.errors import InvalidInput
from labwright.tools.registry import Cost


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("under=60s", "under=60s"),
        ("Under=60, writes", "under=60s,writes"),
        ("writes,tokens=5000", "tokens=5000,writes"),
    ],
)
def test_rule_syntax_round_trips(text, canonical):
    rule = ApprovalRule.parse(text)
    assert str(rule) == canonical and ApprovalRule.parse(str(rule)) == rule


def test_unknown_clause_is_named():
    with pytest.raises(InvalidInput, match="auto_approve.*'sometimes'"):
        ApprovalRule.parse("under=60s,sometimes")


def test_under_alone_never_approves_a_write_even_a_cheap_one():
    p = Policy(approval_seconds=30, auto_approve=ApprovalRule.parse("under=60s"))
    assert p.rule_approves(Cost(seconds=40), "none")
    assert not p.rule_approves(Cost(seconds=0.01), "writes_store")
    assert not p.rule_approves(Cost(seconds=0.01), "external")
    assert not p.rule_approves(Cost(seconds=70), "none")


def test_writes_clause_approves_writes_within_its_time():
    p = Policy(approval_seconds=30, auto_approve=ApprovalRule.parse("under=60s,writes"))
    assert p.rule_approves(Cost(seconds=40), "writes_store")
    assert not p.rule_approves(Cost(seconds=70), "writes_store")
    assert not p.rule_approves(Cost(seconds=1), "external")
    alone = Policy(approval_seconds=30, auto_approve=ApprovalRule.parse("writes"))
    assert alone.rule_approves(Cost(seconds=1), "writes_store") and not alone.rule_approves(Cost(seconds=40), "none")


def test_token_estimates_ask_and_need_a_tokens_clause():
    p = Policy(approval_tokens=1000, auto_approve=ApprovalRule.parse("under=60s"))
    assert not p.rule_approves(Cost(seconds=1, tokens=5000), "none")
    assert Policy(approval_tokens=1000, auto_approve=ApprovalRule.parse("tokens=8000")).rule_approves(
        Cost(seconds=1, tokens=5000), "none"
    )


def test_gate_on_a_real_store_write_with_under_asks_a_person():
    import labwright.knowledge  # noqa: F401  (registers the kg_* tools)

    p = Policy(auto_approve=ApprovalRule.parse("under=60s"))
    args = {"events": [{"source": ["a"], "relation": "binds", "target": ["b"]}], "store_path": "kg.sqlite"}
    dec = gate("librarian", "kg_ingest_events", args, p)
    assert dec.decision == "ask" and dec.auto_approver is None
    named = Policy(auto_approve=ApprovalRule.parse("under=60s,writes"))
    assert gate("librarian", "kg_ingest_events", args, named).auto_approver == "rule:under=60s,writes"
