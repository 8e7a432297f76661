"""``labwright tool list`` and ``labwright tool NAME --json '{...}'``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, MalformedFile

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tool",
        help="list tools or call one",
        description="Call a registered tool with JSON arguments and print its output as JSON.",
    )
    p.add_argument("name", help="tool name, or 'list'")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--json", dest="json_args", metavar="JSON", help="arguments as a JSON object")
    src.add_argument("--file", type=Path, help="file holding the arguments as a JSON object")
    p.add_argument("--schema", action="store_true", help="print the tool's input JSON schema instead of calling it")
    p.set_defaults(func=run)


def _arguments(args: argparse.Namespace) -> dict[str, Any]:
    if args.file is not None:
        try:
            text = args.file.read_text()
        except OSError as err:
            raise InvalidInput("--file", f"cannot read {args.file}: {err.strerror}") from None
        where = str(args.file)
    else:
        text, where = args.json_args or "{}", None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        if where:
            raise MalformedFile(where, f"not valid JSON: {err.msg}", line=err.lineno, field="--file") from None
        raise InvalidInput("--json", f"not valid JSON: {err.msg} at column {err.colno}") from None
    if not isinstance(value, dict):
        raise InvalidInput("--json", f"arguments must be a JSON object, got {type(value).__name__}")
    return value


def run(args: argparse.Namespace) -> int:
    from .registry import _REGISTRY, catalog, get_tool, list_tools

    if args.name == "list":  # from the tools' source: no engine is imported to list them
        known = catalog()
        for name in list_tools():
            spec = known.get(name) or _REGISTRY[name]
            print(f"{name:28s} {spec.side_effect:13s} {spec.description.splitlines()[0]}")
        return 0
    spec = get_tool(args.name)
    if args.schema:
        print(json.dumps(spec.openai_schema(), indent=2))
        return 0
    out = spec.run(_arguments(args))
    print(out.model_dump_json(indent=2))
    return 0
