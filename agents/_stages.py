"""Choose-then-fill: one tool-calling turn as two bounded requests, for small models and small contexts.

With ``tool_choice: "auto"`` a server decides by itself between a text reply and a tool call, and some servers then
ignore ``max_tokens``: llama-cpp-python's ``chatml-function-calling`` handler generates a text reply (and a call's
arguments) with ``max_tokens=None``, i.e. until ``<|im_end|>`` or the end of the context, which a 135M model can take
many minutes to reach. A *named* ``tool_choice`` is honoured by every OpenAI-compatible server that does tool calling
(OpenAI, vLLM, llama.cpp) and is generated under the request's ``max_tokens`` (llama.cpp: with a grammar built from
the tool's schema). So a turn is made of:

1. **choose**: one forced call of :data:`CHOOSE` whose only argument is an enum of the offered tools' names plus
   :data:`REPLY` (the catalogue of what each tool does rides in the argument's description, so a template that shows
   only parameter schemas still shows it); a few tokens;
2. **fill**: a forced call of the chosen tool, offered alone (so with its fullest schema that fits), or, for
   :data:`REPLY`, a plain completion without tools.

Both are bounded by ``max_tokens``; the prompt of each holds one tool instead of all of a role's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ._compact import sentence

__all__ = ["CHOOSE", "REPLY", "CHOOSE_TOKENS", "choice_tool", "forced", "picked"]

CHOOSE = "choose_next_step"
REPLY = "reply_in_text"
# The choice is one enum value inside a small JSON object: a few tokens, plus room for the grammar's whitespace.
CHOOSE_TOKENS = 48


def _name(tool: Mapping[str, Any]) -> str:
    return str(tool["function"]["name"])


def choice_tool(tools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The :data:`CHOOSE` tool for ``tools``: pick one of their names or :data:`REPLY`."""
    lines = [f"{_name(t)}: {sentence(t['function'].get('description', ''), 90)}" for t in tools]
    lines.append(f"{REPLY}: no tool; reply with a short text (the task is done, or no tool fits)")
    catalogue = "; ".join(lines)
    return {
        "type": "function",
        "function": {
            "name": CHOOSE,
            "description": "Choose the next step. " + catalogue,
            "parameters": {
                "type": "object",
                "properties": {
                    "next": {
                        "type": "string",
                        "enum": [*(_name(t) for t in tools), REPLY],
                        "description": catalogue,
                    }
                },
                "required": ["next"],
            },
        },
    }


def forced(name: str) -> dict[str, Any]:
    """A ``tool_choice`` that makes the server call ``name``."""
    return {"type": "function", "function": {"name": name}}


def picked(calls: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str | None:
    """The tool name the choose step picked from ``names``, :data:`REPLY`, or ``None`` (no call, or not one of them:
    a truncated or ungrammatical choice is treated as no choice)."""
    for call in calls:
        if call.get("name") != CHOOSE:
            continue
        args = call.get("arguments")
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                return None
        choice = args.get("next") if isinstance(args, Mapping) else None
        return choice if choice in (*names, REPLY) else None
    return None
