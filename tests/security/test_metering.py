"""Issue 12 item 6: model requests a tool makes (``kg_hypotheses`` with an endpoint) are metered by the run: tokens
counted in its budget, ``max_tokens`` always sent, approval when the estimate says so. Against a real local
OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import re

from labwright.agents.budget import Budget
from labwright.agents.governance import RunContext, governed_call
from labwright.agents.policy import Policy, gate
from labwright.knowledge import KnowledgeStore, generate_hypotheses


def _prose(body: dict) -> str:
    n = len(re.findall(r"^\[E\d+\]", body["messages"][-1]["content"], flags=re.M))
    return f"Ceria scavenges reactive oxygen species [E1]. Chitosan coats PCL scaffolds [E{n}]."


def _args(store, k=3) -> dict:
    return {"a": "cerium oxide", "b": "PCL", "s": 1, "k": k, "store_path": str(store)}


def test_tokens_a_tool_spends_are_counted_in_the_run(chat_server, corpus_store_path):
    server = chat_server(_prose)
    ctx = RunContext.open("r-meter", budget=Budget(max_llm_tokens=100_000))
    assert ctx.usage().llm_tokens == 0
    out = governed_call(ctx, "librarian", "kg_hypotheses", _args(corpus_store_path), "s1")
    assert out.ok and out.result["llm_used"]
    n = len(server.requests)
    assert n >= 2  # one request per path found
    # The server reports 15 tokens per reply: every one of them is in the run's usage, as the tool reported.
    assert ctx.usage().llm_tokens == 15 * n == out.result["tokens"]
    assert all(r["max_tokens"] == 1024 for r in server.requests)  # settings.tool_llm_max_tokens, always sent
    metered = [r for r in ctx.audit.rows("r-meter") if r.event == "tool_llm_call"]
    assert len(metered) == n and {r.tool for r in metered} == {"kg_hypotheses"}
    assert sum(r.detail["tokens"] for r in metered) == 15 * n


def test_max_tokens_is_lowered_to_what_the_budget_leaves(chat_server, corpus_store_path, monkeypatch):
    server = chat_server(_prose)
    monkeypatch.setenv("LABWRIGHT_TOOL_LLM_MAX_TOKENS", "4096")
    ctx = RunContext.open("r-cap", budget=Budget(max_llm_tokens=1600))
    out = governed_call(ctx, "librarian", "kg_hypotheses", _args(corpus_store_path, k=1), "s1")
    assert out.ok
    assert [r["max_tokens"] for r in server.requests] == [1600]


def test_a_costly_token_estimate_asks_for_approval():
    import labwright.knowledge  # noqa: F401  (registers the kg_* tools)

    dec = gate("librarian", "kg_hypotheses", {"a": "x", "b": "y", "k": 20}, Policy(approval_tokens=20_000))
    assert dec.decision == "ask" and "30000 LLM tokens exceed the approval threshold 20000" in dec.reason
    assert gate("librarian", "kg_hypotheses", {"a": "x", "b": "y", "k": 3}, Policy()).decision == "allow"


def test_outside_a_run_max_tokens_is_still_sent(chat_server, corpus_store_path):
    server = chat_server(_prose)
    with KnowledgeStore(corpus_store_path) as store:
        out = generate_hypotheses(store, "cerium oxide", "PCL", s=1, k=1)
    assert out.llm_used and [r["max_tokens"] for r in server.requests] == [1024]
