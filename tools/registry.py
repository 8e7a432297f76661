"""The tool registry: every capability as a plain function with pydantic models.

A tool is a function ``f(inp: InModel) -> OutModel`` decorated with :func:`tool`. The decorator reads the models from
the type hints, registers a :class:`ToolSpec` under the tool's name and returns a wrapper that accepts either the
input model or keyword arguments::

    @tool(side_effect="none", cost=lambda inp: Cost(seconds=0.001))
    def canonicalize_smiles(inp: SmilesInput) -> CanonicalSmiles:
        \"\"\"Canonical SMILES, InChIKey and formula of a molecule.\"\"\"

    canonicalize_smiles(smiles="OCC")            # keyword arguments, validated
    call_tool("canonicalize_smiles", {"smiles": "OCC"})

Validation errors become :class:`~labwright.errors.InvalidInput` naming the field. The registry is the one explicit
module-level cache in labwright (see DESIGN.md); it is filled when the tool modules are imported.

Tool modules (``TOOL_MODULES``) load their engines (JAX, RDKit, HyperNetX) when imported, so they are imported on
first need: :func:`list_tools` and :func:`catalog` read names, side effects and descriptions from the modules' source
(``ast``, no import), and :func:`get_tool` imports the one module that defines the tool asked for.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib
import inspect
import re
import threading
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import InvalidInput, UnknownTool

__all__ = [
    "Cost",
    "SideEffect",
    "ToolSpec",
    "tool",
    "list_tools",
    "get_tool",
    "call_tool",
    "openai_tools",
    "invalid_input_from",
    "catalog",
    "ToolEntry",
    "TOOL_MODULES",
]

SideEffect = Literal["none", "writes_store", "external"]


class Cost(BaseModel):
    """Estimated cost of one call, used by the approval policy and budgets."""

    model_config = ConfigDict(frozen=True)

    seconds: float = 0.0
    sim_calls: int = 0
    tokens: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            seconds=self.seconds + other.seconds,
            sim_calls=self.sim_calls + other.sim_calls,
            tokens=self.tokens + other.tokens,
        )


def _default_cost(inp: BaseModel) -> Cost:
    del inp
    return Cost(seconds=0.01)


def invalid_input_from(err: ValidationError, *, tool: str | None = None) -> InvalidInput:
    """Turn a pydantic ``ValidationError`` into an :class:`InvalidInput` naming the (first) bad field.

    If the validator itself raised an :class:`InvalidInput` (e.g. an RDKit parse failure), that error's own field and
    reason are kept, prefixed with the location inside the model.
    """
    errors = err.errors(include_url=False, include_input=False) if err.error_count() > 1 else []
    first = err.errors(include_url=False)[0]  # only the first error's input is shown
    loc = ".".join(str(p) for p in first["loc"]) or "<input>"
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, InvalidInput):
        reason = cause.reason
        # A model validator has no location of its own, and a field validator may name a part of its field
        # ('cell' -> 'cell.plot_path'): then the field the InvalidInput names is the more precise one.
        if cause.field and (loc == "<input>" or cause.field.startswith(loc + ".")):
            loc = cause.field
    else:
        msg = first["msg"]
        if first["type"] == "missing":
            reason = "required field is missing"
        elif first["type"] == "extra_forbidden":
            reason = "unexpected field"
        else:
            got = first.get("input")
            shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
            if len(shown) > 80:  # a 100,000-character value must not become a 100,000-character message
                shown = f"{shown[:60]}... ({len(shown):,} characters)"
            reason = f"{msg} (got {shown})"
    if len(errors) > 1:
        others = sorted({".".join(str(p) for p in e["loc"]) for e in errors[1:]} - {loc})
        if others:  # a list of 100,000 bad items is 100,000 errors; name a few
            more = f" and {len(others) - 10:,} more" if len(others) > 10 else ""
            reason += f"; also invalid: {', '.join(others[:10])}{more}"
    return InvalidInput(loc, reason, tool=tool)


def _summary(doc: str | None) -> str:
    """The docstring up to its first NumPy section header (Parameters, Returns, ...)."""
    doc = inspect.cleandoc(doc or "")
    parts = re.split(r"\n\s*\n(?=[A-Z][A-Za-z ]+\n\s*-{3,})", doc, maxsplit=1)
    return parts[0].strip()


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: the function, its contract and how to price a call."""

    name: str
    description: str
    func: Callable[[Any], BaseModel]
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    side_effect: SideEffect
    cost_model: Callable[[Any], Cost]
    version: str

    def validate(self, args: Mapping[str, Any] | BaseModel | None = None) -> BaseModel:
        """Validate ``args`` into the input model; raise :class:`InvalidInput` naming the field."""
        if isinstance(args, self.input_model):
            return args
        if isinstance(args, BaseModel):
            args = args.model_dump()
        if args is not None and not isinstance(args, Mapping):
            raise InvalidInput("<input>", f"arguments must be a JSON object, got {type(args).__name__}", tool=self.name)
        try:
            return self.input_model.model_validate(dict(args or {}))
        except ValidationError as err:
            raise invalid_input_from(err, tool=self.name) from None
        except InvalidInput as err:  # raised by a model validator outside pydantic's wrapping
            raise InvalidInput(err.field, err.reason, tool=self.name) from None

    def estimate_cost(self, args: Mapping[str, Any] | BaseModel) -> Cost:
        return self.cost_model(self.validate(args))

    def run(self, args: Mapping[str, Any] | BaseModel | None = None) -> BaseModel:
        """Validate, call the function, and check its result against the output model."""
        inp = self.validate(args)
        try:
            out = self.func(inp)
        except InvalidInput as err:
            if err.tool is None:
                raise InvalidInput(err.field, err.reason, tool=self.name) from err
            raise
        if isinstance(out, self.output_model):
            return out
        return self.output_model.model_validate(out)

    @functools.cached_property
    def input_schema(self) -> dict[str, Any]:
        """JSON schema of the input model, built once: planners and model adapters read it on every turn.

        Shared by every caller; read it, do not modify it (:meth:`openai_schema` hands out a copy).
        """
        return self.input_model.model_json_schema()

    def openai_schema(self) -> dict[str, Any]:
        """The tool as an OpenAI function-calling definition (``{"type": "function", ...}``)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.input_schema),
            },
        }


_REGISTRY: dict[str, ToolSpec] = {}


def _models_of(func: Callable) -> tuple[type[BaseModel], type[BaseModel]]:
    hints = typing.get_type_hints(func)
    params = [p for p in inspect.signature(func).parameters.values() if p.name != "self"]
    if len(params) != 1:
        raise TypeError(f"tool {func.__name__} must take exactly one argument (its input model)")
    inp, out = hints.get(params[0].name), hints.get("return")
    for what, model in (("input", inp), ("return", out)):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"tool {func.__name__}: {what} annotation must be a pydantic model, got {model!r}")
    return inp, out


def tool(
    func: Callable | None = None,
    *,
    name: str | None = None,
    side_effect: SideEffect = "none",
    cost: Callable[[Any], Cost] | None = None,
    version: str = "1",
    description: str | None = None,
):
    """Register ``func`` as a tool; usable bare (``@tool``) or with options (``@tool(side_effect=...)``).

    Parameters
    ----------
    name
        Registry name; defaults to the function's name. Must be unique.
    side_effect
        ``"none"``, ``"writes_store"`` or ``"external"``; anything but ``"none"`` asks a human by default.
    cost
        ``estimate_cost(inp) -> Cost`` for the approval policy and budgets.
    version
        Recorded in provenance of every artifact the tool makes.
    description
        Overrides the docstring summary shown to language models.
    """

    def register(f: Callable) -> Callable:
        inp, out = _models_of(f)
        spec = ToolSpec(
            name=name or f.__name__,
            description=description or _summary(f.__doc__) or f.__name__,
            func=f,
            input_model=inp,
            output_model=out,
            side_effect=side_effect,
            cost_model=cost or _default_cost,
            version=version,
        )
        if spec.name in _REGISTRY and _REGISTRY[spec.name].func.__qualname__ != f.__qualname__:
            raise ValueError(f"tool name {spec.name!r} is already registered by {_REGISTRY[spec.name].func!r}")
        _REGISTRY[spec.name] = spec

        @functools.wraps(f)
        def wrapper(inp_: BaseModel | Mapping[str, Any] | None = None, /, **kwargs: Any) -> BaseModel:
            if inp_ is not None and kwargs:
                raise TypeError(f"{spec.name}: pass either an input model or keyword arguments, not both")
            return spec.run(inp_ if inp_ is not None else kwargs)

        wrapper.spec = spec  # type: ignore[attr-defined]
        return wrapper

    return register(func) if func is not None else register


# Packages and modules whose import registers tools (each imports its engine).
TOOL_MODULES = (
    "labwright.tools.chem",
    "labwright.tools.electrochem",
    "labwright.tools.kinetics",
    "labwright.tools.mechanism",
    "labwright.knowledge._tools",
    "labwright.scale._tools",
)
_loaded = False


@dataclass(frozen=True)
class ToolEntry:
    """What is known of a tool without importing it: its name, side effect, description and defining module."""

    name: str
    side_effect: str
    description: str
    module: str


def _literal(node: ast.expr | None, default: Any) -> Any:
    try:
        return ast.literal_eval(node) if node is not None else default
    except ValueError:  # not a literal (a variable): the import will tell
        return default


def _entries_in(path: Path, module: str) -> list[ToolEntry]:
    """Tools a module's source registers with ``@tool`` or ``@tool(...)`` (name, side effect, description)."""
    text = path.read_text(encoding="utf-8")
    if "@tool" not in text:
        return []
    out = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            call = dec if isinstance(dec, ast.Call) else None
            target = call.func if call else dec
            if not (isinstance(target, ast.Name) and target.id == "tool"):
                continue
            kw = {k.arg: k.value for k in (call.keywords if call else [])}
            description = _literal(kw.get("description"), None) or _summary(ast.get_docstring(node))
            out.append(
                ToolEntry(
                    name=_literal(kw.get("name"), None) or node.name,
                    side_effect=_literal(kw.get("side_effect"), "none"),
                    description=description or node.name,
                    module=module,
                )
            )
    return out


_catalog_lock = threading.Lock()


def catalog() -> dict[str, ToolEntry]:
    """Every tool the modules of ``TOOL_MODULES`` define, read from their source without importing them (so
    listing tools loads no engine). A test keeps it equal to the registry after import."""
    # One thread builds it: workflow steps and agent workers ask in parallel, and CPython's ast.parse is not safe to
    # run in several threads at once ("AST constructor recursion depth mismatch").
    with _catalog_lock:
        return _catalog()


@functools.cache
def _catalog() -> dict[str, ToolEntry]:
    root = Path(__file__).resolve().parent.parent  # the package root: labwright/
    found: dict[str, ToolEntry] = {}
    for mod in TOOL_MODULES:
        rel = Path(*mod.split(".")[1:])
        paths = sorted((root / rel).rglob("*.py")) if (root / rel).is_dir() else [root / rel.with_suffix(".py")]
        for path in paths:
            sub = ".".join(("labwright", *path.relative_to(root).with_suffix("").parts))
            for entry in _entries_in(path, sub.removesuffix(".__init__")):
                found.setdefault(entry.name, entry)
    return found


def _ensure_loaded() -> None:
    """Import every tool module (their engines load with them)."""
    global _loaded
    if not _loaded:
        for mod in TOOL_MODULES:
            importlib.import_module(mod)
        _loaded = True


def list_tools() -> list[str]:
    """Names of all registered tools, sorted (from the catalog until the tool modules are imported)."""
    if _loaded:
        return sorted(_REGISTRY)
    return sorted(set(catalog()) | set(_REGISTRY))


def get_tool(name: str) -> ToolSpec:
    """The :class:`ToolSpec` registered as ``name`` (importing the module that defines it); :class:`UnknownTool`
    (with close names) otherwise."""
    if name not in _REGISTRY:
        entry = catalog().get(name)
        if entry is not None:
            importlib.import_module(entry.module)
        if name not in _REGISTRY:
            _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownTool(name, _REGISTRY) from None


def call_tool(name: str, args: Mapping[str, Any] | None = None) -> BaseModel:
    """Validate ``args`` for tool ``name``, run it and return its output model."""
    return get_tool(name).run(args)


def openai_tools(names: list[str] | None = None) -> list[dict[str, Any]]:
    """OpenAI function-calling definitions for ``names`` (default: every tool)."""
    return [get_tool(n).openai_schema() for n in (names if names is not None else list_tools())]
