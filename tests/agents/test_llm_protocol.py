"""The LLM path against a server that refuses what llama.cpp refuses (see ``ScriptedOpenAI`` in conftest).

Protocol: assistant tool-call messages carry a string content; every request fits the advertised context (the
roles' tool schemas are compacted for an 8k context, ``max_tokens`` is bounded, the history is trimmed); 4xx refusals
are not retried; a run that errors ends ``failed`` with the reason, never ``running``; the supervisor routes by tools.
"""

from __future__ import annotations

import json

import pytest
from labwright import Lab
from labwright.agents import _context, _stages
from labwright.agents._compact import compact_tools, tools_chars
from labwright.agents.llm import ChatModel, LLMPlanner, LLMUnavailable, role_catalogue
from labwright.agents.roles import WORKER_ROLES, tools_for

from .test_graph_llm import one_worker, requests_of, tool_messages, who


def test_tool_call_history_is_sent_with_string_content_and_nothing_is_refused(openai_server, lab_roles):
    def kineticist(done, body):
        if len(done) < 2:
            return {"tool_calls": [("echo_value", {"value": 1.5 + len(done)})]}
        return {"content": "Echoed 1.5 and 2.5."}

    openai_server.script = one_worker("kineticist", "echo", kineticist, "1.5 and 2.5")
    reply = Lab().chat("echo twice")
    assert reply.status == "answered", reply
    assert openai_server.refused == []  # llama.cpp answers HTTP 500 to content: null on these messages
    last = requests_of(openai_server, "kineticist")[-1]
    calls = [m for m in last["messages"] if m.get("tool_calls")]
    assert len(calls) == 2 and all(m["content"] == "" for m in calls)
    assert all(isinstance(c["function"]["arguments"], str) for m in calls for c in m["tool_calls"])


def test_the_scripted_server_refuses_what_llama_cpp_refuses(openai_server):
    """The server side of the check above, so a regression in either shows."""
    import httpx

    bad = {"model": "m", "messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]}]}
    assert httpx.post(openai_server.url + "/chat/completions", json=bad).status_code == 500
    huge = {"model": "m", "messages": [{"role": "user", "content": "x" * 40_000}], "max_tokens": 10}
    resp = httpx.post(openai_server.url + "/chat/completions", json=huge)
    assert resp.status_code == 400 and "maximum context length is 8192" in resp.text


@pytest.mark.parametrize("context", [8192, 6144])
def test_each_roles_tools_fit_a_third_of_a_small_context(context):
    """Bytes and estimated tokens per role (printed with -s): the registry's schemas are 8-52 kB per role; what is
    offered must fit a third of the context, leaving the rest for the conversation and the reply."""
    budget_chars = int(context / 3 * _context.CHARS_PER_TOKEN)
    for role in WORKER_ROLES:
        names = tools_for(role)
        tools, tier = compact_tools(names, budget_chars)
        size = tools_chars(tools)
        tokens = _context.prompt_tokens([], tools)
        print(f"{role:15s} context {context}: {size:6d} chars, ~{tokens} tokens, tier {tier}")
        assert size <= budget_chars, (role, size, tier)
        # Two-stage mode: the choose step's catalogue and each fill step's single tool (at its fullest tier) fit too.
        assert tools_chars([_stages.choice_tool(tools)]) <= budget_chars, role
        assert all(tools_chars(compact_tools([n], budget_chars)[0]) <= budget_chars for n in names), role
        assert [t["function"]["name"] for t in tools] == names  # every tool still offered
        for t in tools:  # required fields always keep their schema
            from labwright.tools.registry import get_tool

            required = get_tool(t["function"]["name"]).input_schema.get("required", [])
            assert set(required) <= set(t["function"]["parameters"]["properties"])


def test_a_real_role_stays_inside_an_8k_context_with_a_long_history(openai_server):
    """The electrochemist's real tools (52 kB as registered) with a history of long tool results: every request
    fits the 8,192-token context the server advertises and max_tokens is bounded by what is left."""
    openai_server.script = lambda body: {"content": "ok"}
    planner = LLMPlanner(ChatModel(openai_server.url, "scripted-model", "k", tool_mode="native"))
    messages = [{"role": "system", "content": "You are the electrochemist."}, {"role": "user", "content": "fit"}]
    for i in range(40):  # forty turns, each with a 6 kB tool result
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": f"c{i}", "type": "function", "function": {"name": "fit_cv", "arguments": "{}"}}],
            }
        )
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps({"I": [1e-6] * 600})})
    reply, _ = planner.worker_turn("electrochemist", {"goal": "fit"}, messages)
    assert reply["content"] == "ok" and openai_server.refused == []
    (body,) = openai_server.requests
    assert "/props" in openai_server.gets  # the context was read from the server
    assert openai_server.prompt_tokens(body) + body["max_tokens"] <= 8192
    # The opening messages and the latest turn survive; the oldest turns are left out, with a note saying so.
    assert body["messages"][:2] == [{**m, "content": m["content"]} for m in messages[:2]]
    assert any("left out to fit" in m["content"] for m in body["messages"])
    assert body["messages"][-1]["tool_call_id"] == "c39"
    ids = [m["tool_call_id"] for m in body["messages"] if m["role"] == "tool"]
    calls = [c["id"] for m in body["messages"] for c in m.get("tool_calls") or []]
    assert ids == calls  # no tool result lost the call it answers


def test_context_from_setting_server_or_default_and_a_refusal_corrects_it(openai_server, monkeypatch):
    openai_server.script = lambda body: {"content": "ok"}
    openai_server.context = 3000
    model = ChatModel(openai_server.url, "scripted-model", "k")
    assert model.context_tokens == 3000
    openai_server.advertise = False
    assert ChatModel(openai_server.url, "scripted-model", "k").context_tokens == _context.DEFAULT_CONTEXT_TOKENS
    monkeypatch.setenv("LABWRIGHT_CONTEXT_TOKENS", "2048")
    assert Lab().runs.planner.model.context_tokens == 2048
    # Told a larger context than the server has: the first request is refused (HTTP 400), the refusal's numbers
    # correct the estimate and the same request goes through once, not retried blindly.
    wrong = ChatModel(openai_server.url, "scripted-model", "k", context_tokens=8192)
    long = [{"role": "system", "content": "s"}, {"role": "user", "content": "word " * 2000}]
    reply, _ = wrong.complete(long)
    assert reply["content"] == "ok" and len(openai_server.refused) == 1 and wrong.context_tokens == 3000
    body = openai_server.requests[-1]
    assert openai_server.prompt_tokens(body) + body["max_tokens"] <= 3000


def test_a_request_that_cannot_fit_fails_without_a_request():
    system = {"role": "system", "content": "x" * 30_000}
    with pytest.raises(_context.ContextOverflow, match="context of 2048 tokens"):
        _context.fit_messages([system, {"role": "user", "content": "hi"}], None, 2048)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_not_retried(openai_server, status):
    openai_server.script = lambda body: {"status": status, "message": "invalid request: bad field"}
    model = ChatModel(openai_server.url, "m", "k", max_retries=3, backoff=0.01, context_tokens=8192)
    with pytest.raises(LLMUnavailable, match="refused the request"):
        model.complete([{"role": "user", "content": "hi"}])
    assert len(openai_server.requests) == 1


def test_an_endpoint_error_ends_the_run_failed_with_the_reason(openai_server, lab_roles):
    from labwright.cli import main

    def script(body):
        if who(body) == "supervisor":
            return {"tool_calls": [("delegate", {"tasks": [{"role": "kineticist", "goal": "echo"}]})]}
        return {"status": 400, "message": "grammar error in tool schema"}

    openai_server.script = script
    lab = Lab()
    reply = lab.chat("echo 1")
    assert reply.status == "failed" and "grammar error in tool schema" in reply.answer
    assert lab.runs.view(reply.run_id).status == "failed"
    (row,) = [r for r in lab.runs.list() if r["run_id"] == reply.run_id]
    assert row["status"] == "failed"
    assert [r.event for r in lab.audit()][-1] == "run_failed"
    # Once the endpoint works again the run resumes from its checkpoint and finishes.
    openai_server.script = lambda body: (
        {"tool_calls": [("echo_value", {"value": 1.0})]}
        if who(body) == "kineticist" and not tool_messages(body)
        else {"content": "The value is 1.0."}
    )
    assert main(["runs", "resume", reply.run_id]) == 0
    assert lab.runs.view(reply.run_id).status == "answered"


def test_the_supervisor_is_shown_each_roles_tools_to_route_by(openai_server):
    text = role_catalogue()
    kinetics = next(line for line in text.splitlines() if line.startswith("- kineticist"))
    assert "pdpc_response" in kinetics and "phosphorylation" in kinetics.lower()
    assert "pdpc_response" not in next(line for line in text.splitlines() if line.startswith("- electrochemist"))
    openai_server.script = lambda body: {"content": "none needed"}
    Lab().chat("how does the phosphorylation cycle respond to the kinase signal?")
    system = openai_server.requests[0]["messages"][0]["content"]
    assert kinetics in system


def test_offline_routing_sends_a_phosphorylation_question_to_the_kineticist():
    from labwright.agents.offline import OfflinePlanner

    reply, _ = OfflinePlanner().plan("dose-response of the phosphorylation-dephosphorylation cycle (pdpc_response {})")
    assert [t["role"] for t in reply["tasks"]] == ["kineticist"]


def two_stage_script(body):
    """What a server that honours a named tool_choice answers: the supervisor delegates to the kineticist, who echoes
    2.5 once and then replies in text; a forced call is always a call of the named tool."""
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        return {"content": "The value is 2.5."}
    name = choice["function"]["name"]
    if name == _stages.CHOOSE:
        if who(body) == "supervisor":
            return {"tool_calls": [(name, {"next": "delegate"})]}
        return {"tool_calls": [(name, {"next": _stages.REPLY if tool_messages(body) else "echo_value"})]}
    if name == "delegate":
        return {"tool_calls": [(name, {"tasks": [{"role": "kineticist", "goal": "echo 2.5"}]})]}
    return {"tool_calls": [(name, {"value": 2.5})]}


def test_a_small_context_asks_choose_then_fill_and_every_request_is_bounded(openai_server, lab_roles, monkeypatch):
    """llama-cpp-python's chatml-function-calling ignores max_tokens under tool_choice "auto" (text replies and call
    arguments run to the end of the context); with the server's 8,192-token context the 'auto' mode asks each turn
    as a forced choice, then a forced call of the chosen tool (offered alone) or a plain completion."""
    monkeypatch.setenv("LABWRIGHT_TOOL_MODE", "auto")
    openai_server.script = two_stage_script
    lab = Lab()
    reply = lab.chat("echo 2.5")
    assert reply.status == "answered", reply
    assert openai_server.refused == [] and openai_server.unbounded == []
    assert all(1 <= b["max_tokens"] <= 1024 for b in openai_server.requests)  # DEFAULT_REPLY_TOKENS
    chooses = [b for b in openai_server.requests if b.get("tool_choice", {}) == _stages.forced(_stages.CHOOSE)]
    assert [who(b) for b in chooses] == ["supervisor", "kineticist", "kineticist"]
    assert all(b["max_tokens"] <= _stages.CHOOSE_TOKENS for b in chooses)
    enum = chooses[1]["tools"][0]["function"]["parameters"]["properties"]["next"]["enum"]
    assert enum == [*tools_for("kineticist"), _stages.REPLY]
    fills = [b for b in openai_server.requests if b.get("tools") and b not in chooses]
    assert [[t["function"]["name"] for t in b["tools"]] for b in fills] == [["delegate"], ["echo_value"]]
    # The chosen tool is offered alone, with its fullest schema (descriptions of its fields kept).
    assert "description" in fills[1]["tools"][0]["function"]["parameters"]["properties"]["value"]
    events = [(r.event, r.tool) for r in lab.audit(reply.run_id) if r.tool == "echo_value"]
    assert ("tool_request", "echo_value") in events and ("tool_result", "echo_value") in events


@pytest.mark.parametrize(
    ("choice", "expect"),
    [({"next": "not_a_tool"}, None), ('{"next": "echo_va', None), ({"next": _stages.REPLY}, _stages.REPLY)],
)
def test_a_cut_or_unknown_choice_is_no_choice(choice, expect):
    assert _stages.picked([{"name": _stages.CHOOSE, "arguments": choice}], ["echo_value"]) == expect


def test_a_server_that_answers_the_choice_in_text_is_taken_at_its_word(openai_server):
    """Servers that do not force a named tool_choice (some Ollama versions) may answer the choose step in text: that
    text is the turn's reply, with no second request."""
    openai_server.script = lambda body: {"content": "No tool is needed."}
    model = ChatModel(openai_server.url, "scripted-model", "k", tool_mode="two_stage")
    tools, _ = compact_tools(["canonicalize_smiles"])
    reply, _ = model.complete([{"role": "user", "content": "hi"}], tools)
    assert reply == {"content": "No tool is needed.", "tool_calls": []} and len(openai_server.requests) == 1


def test_the_scripted_server_refuses_tool_choices_llama_cpp_mishandles(openai_server):
    """llama-cpp-python answers HTTP 500 ('Tool with name ... not found in tools'), which a client retries as transient:
    the fill step must offer the tool it forces."""
    import httpx

    tools, _ = compact_tools(["canonicalize_smiles"])
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": tools}
    resp = httpx.post(openai_server.url + "/chat/completions", json={**body, "tool_choice": _stages.forced("nope")})
    assert resp.status_code == 500 and "not found in tools" in resp.text
    # Tools without tool_choice: llama-cpp-python's chatml-function-calling reads it as "none" and drops the tools.
    resp = httpx.post(openai_server.url + "/chat/completions", json=body)
    assert resp.status_code == 400 and "without tool_choice" in resp.text


def test_bad_tool_mode_and_reply_tokens_are_refused_by_name():
    from labwright.errors import InvalidInput

    with pytest.raises(InvalidInput, match="tool_mode"):
        ChatModel("http://127.0.0.1:9/v1", "m", tool_mode="sometimes")
    with pytest.raises(InvalidInput, match="reply_tokens"):
        ChatModel("http://127.0.0.1:9/v1", "m", reply_tokens=0)


def test_a_request_past_its_timeout_fails_once_and_the_run_ends_failed(openai_server, lab_roles, monkeypatch):
    """A local server still generating keeps working after the client gives up: a retry would queue the same work
    behind it, so a timeout is not retried; the run ends failed with the reason."""
    import time

    def slow(body):
        time.sleep(2.0)
        return {"content": "late"}

    openai_server.script = slow
    model = ChatModel(openai_server.url, "m", "k", timeout=0.5, max_retries=3, backoff=0.01, context_tokens=8192)
    with pytest.raises(LLMUnavailable, match=r"no reply within 0.5 s"):
        model.complete([{"role": "user", "content": "hi"}])
    assert len(openai_server.requests) == 1
    monkeypatch.setenv("LABWRIGHT_LLM_TIMEOUT_S", "0.5")
    lab = Lab()
    reply = lab.chat("echo 1")
    assert reply.status == "failed" and "no reply within 0.5 s" in reply.answer, reply
    assert lab.runs.view(reply.run_id).status == "failed"
    assert [r.event for r in lab.audit()][-1] == "run_failed"
