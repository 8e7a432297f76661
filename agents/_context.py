"""The model's context window: how big it is, how much of it a request fills, and trimming to fit.

A request that does not fit is refused by the server (llama.cpp, vLLM: HTTP 400), so it is made to fit before it is
sent: the prompt is estimated from its characters (``CHARS_PER_TOKEN``, deliberately low so the estimate errs
high for JSON and small-vocabulary tokenizers), ``max_tokens`` is bounded by what the context leaves, and when too
little is left the history is trimmed (:func:`fit_messages`) rather than overflowing.

The context size comes from ``LABWRIGHT_CONTEXT_TOKENS``, else from the server when it says (:func:`discover`:
llama.cpp ``/props``, ``/v1/models`` entries with ``max_model_len`` (vLLM), ``meta.n_ctx_train`` (llama.cpp),
``context_length``), else ``DEFAULT_CONTEXT_TOKENS``. A server's "maximum context length is N tokens" refusal
(:func:`parse_refusal`) corrects it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import LabwrightError

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_CONTEXT_TOKENS",
    "MIN_REPLY_TOKENS",
    "ContextOverflow",
    "prompt_tokens",
    "discover",
    "parse_refusal",
    "fit_messages",
]

CHARS_PER_TOKEN = 3.0
# Assumed when neither the setting nor the server says: small local models (the ones that overflow) serve 8k.
DEFAULT_CONTEXT_TOKENS = 8192
# The least room a reply gets; below it the history is trimmed.
MIN_REPLY_TOKENS = 256
# Per message: role markers and separators of chat templates (ChatML: <|im_start|>role\n ... <|im_end|>\n).
_MESSAGE_OVERHEAD = 8
# The function-calling preamble a template wraps around the tools (llama.cpp chatml-function-calling: ~150 tokens).
_TOOLS_OVERHEAD = 160
_OMITTED = "[earlier turns left out to fit the model's context]"


class ContextOverflow(LabwrightError):
    """A request cannot fit the model's context even with its history trimmed (system prompt and tools too big)."""


def _message_chars(m: Mapping[str, Any]) -> int:
    n = len(str(m.get("content") or ""))
    for call in m.get("tool_calls") or []:
        fn = call.get("function", {})
        n += len(str(fn.get("name", ""))) + len(str(fn.get("arguments", "")))
    return n


def prompt_tokens(messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None) -> int:
    """Estimated prompt tokens of a chat request (an over-estimate for typical tokenizers; see the module doc)."""
    chars = sum(_message_chars(m) for m in messages)
    tokens = chars / CHARS_PER_TOKEN + _MESSAGE_OVERHEAD * len(messages)
    if tools:
        tokens += len(json.dumps(list(tools), separators=(",", ":"))) / CHARS_PER_TOKEN + _TOOLS_OVERHEAD
    return int(tokens) + 1


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _from_models(data: Any, model: str) -> int | None:
    entries = data.get("data", []) if isinstance(data, Mapping) else []
    entries = [e for e in entries if isinstance(e, Mapping)]
    entries.sort(key=lambda e: e.get("id") != model)  # the configured model's entry first
    for e in entries:
        meta = e.get("meta") if isinstance(e.get("meta"), Mapping) else {}
        for value in (e.get("max_model_len"), e.get("context_length"), meta.get("n_ctx"), meta.get("n_ctx_train")):
            if _int(value):
                return value
    return None


def _from_props(data: Any) -> int | None:
    if not isinstance(data, Mapping):
        return None
    settings = data.get("default_generation_settings")
    settings = settings if isinstance(settings, Mapping) else {}
    return _int(settings.get("n_ctx")) or _int(data.get("n_ctx"))


def discover(base_url: str, model: str, api_key: str | None = None, *, timeout: float = 2.0) -> int | None:
    """The context size the server at ``base_url`` advertises, or ``None`` (no such endpoint, no such field, an
    error: never raises). ``/props`` (the context the server runs with) is asked before ``/models`` (which may give
    the model's training context)."""
    import httpx

    root = re.sub(r"/v\d+/?$", "", base_url.rstrip("/"))
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    probes = ((f"{root}/props", _from_props), (f"{base_url.rstrip('/')}/models", lambda d: _from_models(d, model)))
    for url, read in probes:
        try:
            resp = httpx.get(url, headers=headers, timeout=timeout)
            if resp.status_code == 200:
                found = read(resp.json())
                if found:
                    return int(found)
        except Exception:  # an endpoint that does not say (404, HTML, a timeout) is not an error
            continue
    return None


_REFUSAL = re.compile(r"maximum context length is (\d+) tokens.*?(?:\((\d+) in the messages)?", re.IGNORECASE)
_EXCEED = re.compile(r"exceed(?:s|ed)? (?:the )?context (?:window|size|length) of (\d+)", re.IGNORECASE)


def parse_refusal(message: str) -> tuple[int, int | None] | None:
    """``(context, prompt tokens or None)`` from a server's context-length refusal, else ``None``."""
    m = _REFUSAL.search(message)
    if m:
        prompt = re.search(r"\((\d+) in the messages", message)
        return int(m.group(1)), int(prompt.group(1)) if prompt else None
    m = _EXCEED.search(message)
    return (int(m.group(1)), None) if m else None


def _groups(messages: list[dict]) -> list[list[dict]]:
    """Messages after the opening ones, grouped so a tool result never loses the assistant call it answers."""
    groups: list[list[dict]] = []
    for m in messages:
        if m.get("role") == "tool" and groups:
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def _shorten(m: dict, chars: int) -> dict:
    text = str(m.get("content") or "")
    if len(text) <= chars:
        return m
    keep = max(chars - 60, 0)
    return {**m, "content": text[: keep // 2] + " …[shortened to fit the model's context]… " + text[-(keep // 2) :]}


def fit_messages(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None,
    context: int,
    *,
    reply: int = MIN_REPLY_TOKENS,
) -> list[dict]:
    """``messages`` trimmed so the prompt leaves ``reply`` tokens of ``context``; :class:`ContextOverflow` if the
    system prompt, the first user message and the tools alone do not fit.

    In order: long tool results are shortened (4,000 characters, then 1,000), the oldest turns after the opening
    system and user messages are left out (a note says so), and last the longest remaining message is shortened.
    The caller's list is not changed."""
    msgs = [dict(m) for m in messages]
    budget = context - reply

    def fits(ms: list[dict]) -> bool:
        return prompt_tokens(ms, tools) <= budget

    if fits(msgs):
        return msgs
    for cap in (4000, 1000):
        msgs = [_shorten(m, cap) if m.get("role") == "tool" else m for m in msgs]
        if fits(msgs):
            return msgs
    head = 2 if len(msgs) >= 2 and msgs[0].get("role") == "system" else 1
    opening, groups = msgs[:head], _groups(msgs[head:])
    note = {"role": "user", "content": _OMITTED}
    while len(groups) > 1:
        groups.pop(0)
        trimmed = [*opening, note, *[m for g in groups for m in g]]
        if fits(trimmed):
            return trimmed
    msgs = [*opening, *([note] if len(msgs) > head else []), *[m for g in groups for m in g]]
    over = prompt_tokens(msgs, tools) - budget
    longest = max(range(1, len(msgs)), key=lambda i: _message_chars(msgs[i]), default=None)
    if longest is not None and msgs[longest].get("content"):
        chars = len(str(msgs[longest]["content"]))
        msgs[longest] = _shorten(msgs[longest], chars - int(over * CHARS_PER_TOKEN) - 100)
        if fits(msgs):
            return msgs
    raise ContextOverflow(
        f"the request needs about {prompt_tokens(msgs, tools)} prompt tokens plus {reply} for the reply, more than "
        f"the model's context of {context} tokens even with its history trimmed; use a model with a larger context "
        f"or set LABWRIGHT_CONTEXT_TOKENS if the server's context is larger"
    )
