"""Tool definitions small enough for a small model's context.

The registry's JSON schemas are written for people and validators: titles, defaults, nested ``$defs``, long
descriptions. Offered as they are, one role's tools fill 20-50 kB, more than an 8,192-token context. Here a role's
tools are rewritten in tiers, the first tier whose size fits the share of the context given to tools is offered:

0. every field, each with the first sentence of its description;
1. every field; optional plain values (numbers, strings, flags) without a description;
2. required fields and optional structured fields (paths, lists, dicts); the other optional fields are *named* in the
   tool's description ("optional: k0, alpha, ...") so a model can still pass them;
3. required fields only, the optional ones named;
4. required fields only, the tool's description cut to 60 characters.

Nested models are shown one level deep. Whatever is offered, the gate validates the call against the tool's full
input model, so a shortened schema never lets a bad call through; it only tells the model less.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["compact_tools", "tools_chars", "sentence", "TIERS"]

TIERS = (0, 1, 2, 3, 4)
_SCALARS = frozenset({"number", "integer", "string", "boolean"})


def sentence(text: str, limit: int) -> str:
    """The first sentence of ``text`` (a period followed by a space ends it), at most ``limit`` characters."""
    text = " ".join(str(text).split())
    m = re.match(r"(.+?)\.(?:\s|$)", text)
    text = m.group(1) if m else text.rstrip(".")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    return defs.get(prop["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in prop else prop


def _branches(prop: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]


def _is_scalar(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> bool:
    return all(_resolve(b, defs).get("type") in _SCALARS for b in _branches(prop))


def _node(prop: Mapping[str, Any], defs: Mapping[str, Any], depth: int, describe: bool) -> dict[str, Any]:
    """``prop`` without titles, defaults and ``null`` branches; objects shown ``depth`` < 1 levels down."""
    branches = _branches(prop)
    if "anyOf" in prop:
        if len(branches) == 1:
            out = _node(branches[0], defs, depth, False)
        else:
            out = {"anyOf": [_node(b, defs, depth, False) for b in branches]}
    else:
        r = _resolve(prop, defs)
        out = {k: r[k] for k in ("type", "enum") if k in r}
        if "properties" in r:
            out["type"] = "object"
            if depth < 1:
                out["properties"] = {k: _node(v, defs, depth + 1, False) for k, v in r["properties"].items()}
                if r.get("required"):
                    out["required"] = list(r["required"])
        elif "items" in r:
            out["items"] = _node(r["items"], defs, depth + 1, False)
        elif isinstance(r.get("additionalProperties"), dict):
            out["additionalProperties"] = _node(r["additionalProperties"], defs, depth + 1, False)
    if describe and prop.get("description"):
        out["description"] = sentence(prop["description"], 60)
    return out


def _compact_tool(name: str, description: str, schema: Mapping[str, Any], tier: int) -> dict[str, Any]:
    defs = schema.get("$defs", {})
    required = list(schema.get("required", []))
    props: dict[str, Any] = {}
    named: list[str] = []
    for key, prop in schema.get("properties", {}).items():
        scalar = _is_scalar(prop, defs)
        if key in required or tier == 0:
            props[key] = _node(prop, defs, 0, True)
        elif tier == 1:
            props[key] = _node(prop, defs, 0, not scalar)
        elif tier == 2 and not scalar:
            props[key] = _node(prop, defs, 0, True)
        else:
            named.append(key)
    text = sentence(description, 60 if tier >= 4 else 100)
    if named and tier < 4:
        text += "; optional: " + ", ".join(named)
    params: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        params["required"] = required
    return {"type": "function", "function": {"name": name, "description": text, "parameters": params}}


def tools_chars(tools: Sequence[Mapping[str, Any]]) -> int:
    """Characters of the tool definitions as sent (compact JSON), the basis of their token estimate."""
    return len(json.dumps(list(tools), separators=(",", ":"), ensure_ascii=False))


def compact_tools(names: Sequence[str], max_chars: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """OpenAI tool definitions for ``names`` in the first tier (see the module docstring) whose JSON fits in
    ``max_chars`` characters (``None``: tier 0); returns ``(tools, tier)``. The last tier is returned when none fits
    (the caller's context guard then decides)."""
    from ..tools.registry import get_tool

    specs = [get_tool(n) for n in names]
    tools: list[dict[str, Any]] = []
    for tier in TIERS:
        tools = [_compact_tool(s.name, s.description, s.input_schema, tier) for s in specs]
        if max_chars is None or tools_chars(tools) <= max_chars:
            return tools, tier
    return tools, TIERS[-1]
