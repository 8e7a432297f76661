"""Load-time contract checks: does what one skill emits validate as what the next one takes?

The check compares JSON schemas (pydantic's ``model_json_schema``), so it needs no data: an upstream field is
compatible with a downstream field when every value the upstream schema allows is also allowed downstream, as far
as types and object shapes go (numeric bounds and string patterns are left to run-time validation).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["field_schema", "incompatibility"]

Schema = dict[str, Any]


def field_schema(model: type[BaseModel], path: list[str]) -> tuple[Schema, Schema] | None:
    """The JSON schema of ``model``'s (nested) field ``path`` and the model's ``$defs``; None if there is none."""
    full = model.model_json_schema()
    defs = full.get("$defs", {})
    node: Schema = full
    for part in path:
        node = _resolve(node, defs)
        props = node.get("properties", {})
        if part not in props:
            return None
        node = props[part]
    return node, defs


def _resolve(s: Schema, defs: Schema) -> Schema:
    while "$ref" in s:
        s = defs[s["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in s and len(s["allOf"]) == 1:
        s = _resolve(s["allOf"][0], defs)
    return s


def _options(s: Schema, defs: Schema) -> list[Schema]:
    s = _resolve(s, defs)
    if "anyOf" in s:
        return [o for sub in s["anyOf"] for o in _options(sub, defs)]
    if "oneOf" in s:
        return [o for sub in s["oneOf"] for o in _options(sub, defs)]
    if isinstance(s.get("type"), list):
        return [{**s, "type": t} for t in s["type"]]
    return [s]


def _describe(s: Schema, defs: Schema) -> str:
    opts = _options(s, defs)
    parts = []
    for o in opts:
        t = o.get("type")
        if t == "array":
            parts.append(f"array of {_describe(o.get('items', {}), defs)}")
        elif t == "object" and "title" in o:
            parts.append(f"object {o['title']}")
        elif "enum" in o:
            parts.append("one of " + ", ".join(map(repr, o["enum"])))
        elif "const" in o:
            parts.append(repr(o["const"]))
        else:
            parts.append(str(t or "any"))
    return " | ".join(parts)


def _one(up: Schema, down: Schema, ud: Schema, dd: Schema, where: str) -> str | None:
    """Reason why a value of (single-option) schema ``up`` may fail ``down``'s options, or None."""
    reasons = []
    for d in _options(down, dd):
        r = _single(up, d, ud, dd, where)
        if r is None:
            return None
        reasons.append(r)
    return reasons[0]


def _single(up: Schema, down: Schema, ud: Schema, dd: Schema, where: str) -> str | None:
    ut, dt = up.get("type"), down.get("type")
    if not down or (dt is None and "enum" not in down and "const" not in down):
        return None  # downstream accepts anything
    if "enum" in down or "const" in down:
        allowed = set(map(repr, down.get("enum", [down.get("const")])))
        given = up.get("enum", [up["const"]] if "const" in up else None)
        if given is None or not set(map(repr, given)) <= allowed:
            return f"{where}: expected {_describe(down, dd)}, got {_describe(up, ud)}"
        return None
    if ut is None and ("enum" in up or "const" in up):
        vals = up.get("enum", [up.get("const")])
        names = {bool: "boolean", int: "integer", float: "number", str: "string"}
        ut = names.get(type(vals[0]), "any")
    if ut == dt or (ut == "integer" and dt == "number"):
        if dt == "array":
            return _compatible(up.get("items", {}), down.get("items", {}), ud, dd, f"{where}[]")
        if dt == "object":
            return _objects(up, down, ud, dd, where)
        return None
    return f"{where}: expected {_describe(down, dd)}, got {_describe(up, ud)}"


def _objects(up: Schema, down: Schema, ud: Schema, dd: Schema, where: str) -> str | None:
    uprops, dprops = up.get("properties", {}), down.get("properties", {})
    if not dprops:  # a free-form mapping downstream
        extra = down.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            vals = up.get("additionalProperties") if not uprops else None
            if isinstance(vals, dict):
                return _compatible(vals, extra, ud, dd, f"{where}.*")
            for k, v in uprops.items():
                r = _compatible(v, extra, ud, dd, f"{where}.{k}")
                if r:
                    return r
        return None
    for name in down.get("required", []):
        if name not in uprops:
            return f"{where}.{name}: required downstream but not produced upstream"
    for name, sch in uprops.items():
        if name in dprops:
            r = _compatible(sch, dprops[name], ud, dd, f"{where}.{name}")
            if r:
                return r
        elif down.get("additionalProperties") is False:
            return f"{where}.{name}: produced upstream but not accepted downstream (extra fields forbidden)"
    return None


def _compatible(up: Schema, down: Schema, ud: Schema, dd: Schema, where: str) -> str | None:
    for u in _options(up, ud):
        r = _one(u, down, ud, dd, where)
        if r:
            return r
    return None


def incompatibility(up: Schema, up_defs: Schema, down: Schema, down_defs: Schema, where: str) -> str | None:
    """Why values of schema ``up`` may not validate as ``down`` (a message starting with ``where``), or None."""
    return _compatible(up, down, up_defs, down_defs, where)
