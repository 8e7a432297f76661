"""Workflow specs: skills, parameters, data paths and wiring, from YAML or Python, checked when loaded.

A workflow is a list of steps. Each step names a skill and gets its input from three places, later ones winning:

1. by name, from the outputs of the steps listed in ``after`` (like a pipe: an output field feeds the input field of
   the same name);
2. ``inputs``: explicit adapters, ``{field: "step.field.sub"}`` or ``{field: {from: "step.field", adapter: NAME}}``
   where NAME is a registered :func:`adapter` that converts the format;
3. ``params``: literal values. Input fields typed as paths are resolved relative to the workflow file.

:func:`load_workflow` checks every contract before anything runs: each required input field must be provided, and
the schema of what feeds it must validate as the field's schema. A mismatch raises :class:`ContractMismatch` naming
both skills and the field. Steps that do not depend on each other run in parallel.

Example (YAML)::

    name: redox_kinetics
    steps:
      - id: load
        skill: redox.load_voltammograms
        params: {directory: ../data/redox_kinetics}
      - id: classical
        skill: redox.classical_estimates
        after: [load]
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..errors import InvalidInput, MalformedFile
from ..tools.registry import invalid_input_from
from ._contracts import field_schema, incompatibility
from ._skill import Skill, get_skill

__all__ = [
    "ContractMismatch",
    "InputSource",
    "StepSpec",
    "WorkflowSpec",
    "Workflow",
    "Adapter",
    "adapter",
    "get_adapter",
    "load_workflow",
]

_ID = r"^[A-Za-z_][A-Za-z0-9_]*$"


class ContractMismatch(InvalidInput):
    """An upstream output cannot validate as a downstream input; names both skills and the field."""

    def __init__(self, upstream: str, downstream: str, field: str, reason: str):
        self.upstream, self.downstream = upstream, downstream
        super().__init__(field, f"contract mismatch {upstream} -> {downstream}: {reason}")


class InputSource(BaseModel):
    """Where one input field comes from: ``step.field[.sub...]``, optionally through a named adapter."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
    adapter: str | None = None

    @property
    def step(self) -> str:
        return self.from_.split(".", 1)[0]

    @property
    def path(self) -> list[str]:
        return self.from_.split(".")[1:]


class StepSpec(BaseModel):
    """One step of a workflow."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID, description="Unique step id (also the step's folder name).")
    skill: str = Field(description="Registered skill name.")
    after: list[str] = Field(default_factory=list, description="Steps whose outputs feed this one by field name.")
    inputs: dict[str, InputSource | list[InputSource]] = Field(
        default_factory=dict, description="Explicit sources (and adapters) per input field; a list fills an array."
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Literal input values.")
    checkpoint: bool = Field(default=False, description="Always stop for approval before this step.")
    role: str | None = Field(default=None, description="Override the skill's agent role.")


class WorkflowSpec(BaseModel):
    """A workflow as written in YAML (or built in Python)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    version: str = "1"
    imports: list[str] = Field(default_factory=list, description="Modules or .py files that register extra skills.")
    steps: list[StepSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Adapter:
    """A registered converter between two formats used on a workflow edge."""

    name: str
    func: Callable[[Any], Any]
    input_type: Any
    output_type: Any


_ADAPTERS: dict[str, Adapter] = {}


def adapter(name: str | None = None):
    """Register ``func(value: A) -> B`` as an adapter for a workflow's ``inputs`` (type hints are the contract)."""

    def register(func: Callable) -> Callable:
        hints = typing.get_type_hints(func)
        params = [p for p in hints if p != "return"]
        if len(params) != 1 or "return" not in hints:
            raise TypeError(f"adapter {func.__name__} needs one annotated argument and a return annotation")
        _ADAPTERS[name or func.__name__] = Adapter(name or func.__name__, func, hints[params[0]], hints["return"])
        return func

    return register


def get_adapter(name: str) -> Adapter:
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise InvalidInput("adapter", f"unknown adapter {name!r}; known: {', '.join(sorted(_ADAPTERS))}") from None


@dataclass(frozen=True)
class Workflow:
    """A loaded, contract-checked workflow."""

    spec: WorkflowSpec
    base_dir: Path
    source: Path | None

    @property
    def name(self) -> str:
        return self.spec.name

    def skill_of(self, step: str) -> Skill:
        return get_skill(self.step(step).skill)

    def step(self, step_id: str) -> StepSpec:
        for s in self.spec.steps:
            if s.id == step_id:
                return s
        raise InvalidInput("step", f"workflow {self.name} has no step {step_id!r}")

    def dependencies(self, step: StepSpec) -> list[str]:
        """Steps ``step`` waits for: ``after`` plus every step an explicit input reads from."""
        deps = list(step.after)
        for src in _sources(step):
            if src.step not in deps:
                deps.append(src.step)
        return deps

    def list_only_sources(self, step: StepSpec) -> list[str]:
        """Steps that feed ``step`` only as entries of a list input (not through ``after`` or a single input).

        Such a step may skip itself (:class:`~labwright.skills._skill.StepSkipped`): ``step`` then runs with the
        entries of the steps that ran.
        """
        single = {s.step for v in step.inputs.values() if not isinstance(v, list) for s in [v]}
        listed = [s.step for v in step.inputs.values() if isinstance(v, list) for s in v]
        return [d for d in dict.fromkeys(listed) if d not in step.after and d not in single]

    def terminal_steps(self) -> list[str]:
        used = {d for s in self.spec.steps for d in self.dependencies(s)}
        return [s.id for s in self.spec.steps if s.id not in used]

    def build_input(
        self, step: StepSpec, outputs: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The raw input of ``step`` from upstream ``outputs`` (step id -> output dict), adapters and params."""
        skill = self.skill_of(step.id)
        fields = skill.input_model.model_fields
        data: dict[str, Any] = {}
        for dep in step.after:
            out = outputs.get(dep) or {}
            for name in fields:
                if name in out:
                    data[name] = out[name]
        optional = set(self.list_only_sources(step))
        for name, src in step.inputs.items():
            if isinstance(src, list):
                # An entry from a step that skipped itself (no output) is left out of the list.
                ran = [s for s in src if not (s.step in optional and outputs.get(s.step) is None)]
                data[name] = [_fetch(s, outputs) for s in ran]
            else:
                data[name] = _fetch(src, outputs)
        data.update(self.resolved_params(step))
        data.update(overrides or {})
        return data

    def resolved_params(self, step: StepSpec) -> dict[str, Any]:
        """``step.params`` with path-typed fields made absolute relative to the workflow file."""
        fields = self.skill_of(step.id).input_model.model_fields
        out = dict(step.params)
        for name, value in step.params.items():
            if name in fields and _is_path(fields[name].annotation):
                out[name] = _resolve_path(value, self.base_dir)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec.model_dump(mode="json", by_alias=True),
            "base_dir": str(self.base_dir),
            "source": str(self.source) if self.source else None,
        }


def _sources(step: StepSpec) -> list[InputSource]:
    return [s for v in step.inputs.values() for s in (v if isinstance(v, list) else [v])]


def _fetch(src: InputSource, outputs: Mapping[str, Any]) -> Any:
    value: Any = outputs.get(src.step) or {}
    for part in src.path:
        value = value[part]
    if src.adapter:
        value = get_adapter(src.adapter).func(value)
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
    return value


def _coerce_inputs(data: Any) -> Any:
    """Accept the short form ``inputs: {field: "step.field"}`` for ``{field: {from: "step.field"}}``."""
    if isinstance(data, Mapping) and isinstance(data.get("inputs"), Mapping):
        data = dict(data)
        one = lambda v: {"from": v} if isinstance(v, str) else v  # noqa: E731
        data["inputs"] = {
            k: ([one(x) for x in v] if isinstance(v, list) else one(v)) for k, v in data["inputs"].items()
        }
    return data


def _is_path(annotation: Any) -> bool:
    if annotation is Path:
        return True
    return any(_is_path(a) for a in typing.get_args(annotation))


def _resolve_path(value: Any, base: Path) -> Any:
    if isinstance(value, str):
        return str((base / value).resolve()) if not Path(value).is_absolute() else value
    if isinstance(value, list):
        return [_resolve_path(v, base) for v in value]
    return value


def _import(entry: str, base: Path) -> None:
    if entry.endswith(".py"):
        path = (base / entry).resolve()
        if not path.is_file():
            raise InvalidInput("imports", f"no such file {str(path)!r}")
        mod_name = "labwright_workflow_plugin_" + re.sub(r"\W", "_", path.stem)
        if mod_name in sys.modules:
            return
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    else:
        try:
            importlib.import_module(entry)
        except ImportError as err:
            raise InvalidInput("imports", f"cannot import {entry!r}: {err}") from None


def _check_param(skill: Skill, step: StepSpec, name: str, value: Any) -> None:
    info = skill.input_model.model_fields[name]
    ann = typing.Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    try:
        TypeAdapter(ann).validate_python(value)
    except ValidationError as err:
        bad = invalid_input_from(err)
        raise InvalidInput(f"steps.{step.id}.params.{name}", f"{bad.reason} (skill {skill.ref})") from None


def _check_step(wf: Workflow, step: StepSpec, seen: dict[str, StepSpec]) -> None:
    skill = get_skill(step.skill)
    fields = skill.input_model.model_fields
    for dep in wf.dependencies(step):
        if dep not in seen:
            where = "is not defined" if dep not in {s.id for s in wf.spec.steps} else "comes later (no cycles)"
            raise InvalidInput(f"steps.{step.id}.after", f"step {dep!r} {where}")
    for name, value in step.params.items():
        if name not in fields:
            raise InvalidInput(
                f"steps.{step.id}.params.{name}",
                f"skill {skill.ref} has no input field {name!r}; fields: {', '.join(fields)}",
            )
        if not _is_path(fields[name].annotation):
            _check_param(skill, step, name, value)
    for name in step.inputs:
        if name not in fields:
            raise InvalidInput(f"steps.{step.id}.inputs.{name}", f"skill {skill.ref} has no input field {name!r}")
    # Which upstream step feeds each remaining field by name; two feeders for one field is ambiguous.
    feeders: dict[str, str] = {}
    for dep in step.after:
        up = get_skill(seen[dep].skill)
        for name in up.output_model.model_fields:
            if name in fields and name not in step.inputs and name not in step.params:
                if name in feeders:
                    raise InvalidInput(
                        f"steps.{step.id}.inputs.{name}",
                        f"both {feeders[name]} and {dep} provide {name!r}; pick one with an explicit 'inputs' entry",
                    )
                feeders[name] = dep
    down_full = skill.input_model.model_json_schema()
    dd = down_full.get("$defs", {})
    for name, info in fields.items():
        provided = name in step.params or name in step.inputs or name in feeders
        if not provided and info.is_required():
            raise InvalidInput(
                f"steps.{step.id}.params.{name}",
                f"skill {skill.ref} needs input {name!r}: no upstream "
                f"output of that name (after: {', '.join(step.after) or 'none'}), no input, no param",
            )
        down = down_full["properties"][name]
        if name in feeders:
            up_skill = get_skill(seen[feeders[name]].skill)
            up, ud = field_schema(up_skill.output_model, [name])  # type: ignore[misc]
            _raise_if(incompatibility(up, ud, down, dd, name), up_skill, feeders[name], skill, step.id, name)
        elif name in step.inputs:
            sources = step.inputs[name]
            if isinstance(sources, list):
                # A list of sources fills an array field: each source must validate as one item.
                target = _resolve_items(down, dd)
                if target is None:
                    raise InvalidInput(
                        f"steps.{step.id}.inputs.{name}",
                        f"a list of sources needs an array field; {skill.ref}.{name} is not one",
                    )
                for k, src in enumerate(sources):
                    _check_source(src, seen, skill, step.id, name, target, dd, where=f"{name}[{k}]")
            else:
                _check_source(sources, seen, skill, step.id, name, down, dd)


def _resolve_items(down: dict, dd: dict) -> dict | None:
    node = down
    while "$ref" in node:
        node = dd[node["$ref"].rsplit("/", 1)[-1]]
    return node.get("items", {}) if node.get("type") == "array" else None


def _check_source(
    src: InputSource,
    seen: dict[str, StepSpec],
    skill: Skill,
    step_id: str,
    name: str,
    down: dict,
    dd: dict,
    where: str | None = None,
) -> None:
    """Check that ``src`` (through its adapter, if any) validates as schema ``down`` of ``skill``'s field ``name``.

    ``where`` names the place in messages (``values[1]`` for the second source of a list).
    """
    up_skill = get_skill(seen[src.step].skill)
    found = field_schema(up_skill.output_model, src.path)
    if found is None:
        raise ContractMismatch(
            f"{src.step} ({up_skill.ref})",
            f"{step_id} ({skill.ref})",
            name,
            f"field '{src.from_}' does not exist upstream",
        )
    up, ud = found
    if src.adapter:
        ad = get_adapter(src.adapter)
        a_in = TypeAdapter(ad.input_type).json_schema()
        _raise_if(
            incompatibility(up, ud, a_in, a_in.get("$defs", {}), src.from_),
            up_skill,
            src.step,
            skill,
            step_id,
            name,
            via=f"adapter {ad.name} input",
        )
        up = TypeAdapter(ad.output_type).json_schema()
        ud = up.get("$defs", {})
    _raise_if(incompatibility(up, ud, down, dd, where or name), up_skill, src.step, skill, step_id, name)


def _raise_if(reason: str | None, up: Skill, up_step: str, down: Skill, down_step: str, field: str, via: str = ""):
    if reason:
        extra = f" ({via})" if via else ""
        raise ContractMismatch(f"{up_step} ({up.ref})", f"{down_step} ({down.ref})", field, reason + extra)


PACKAGED_WORKFLOWS = Path(__file__).resolve().parent.parent / "examples" / "workflows"


def packaged_workflows() -> dict[str, Path]:
    """Workflows shipped with labwright, by name (``redox_kinetics`` -> its YAML file inside the package)."""
    return {p.stem: p for p in sorted(PACKAGED_WORKFLOWS.glob("*.yaml"))}


def find_workflow(source: str | Path) -> Path:
    """The workflow file ``source`` names: an existing file, else a packaged workflow of that name.

    Raises
    ------
    InvalidInput
        Neither a file nor a packaged workflow; the message lists the packaged names.
    """
    path = Path(source)
    if path.is_file():
        return path
    shipped = packaged_workflows()
    name = path.name.removesuffix(".yaml").removesuffix(".yml")
    if path.parent == Path(".") and name in shipped:
        return shipped[name]
    names = ", ".join(shipped) or "none"
    reason = f"no such workflow file {str(path)!r}, nor a packaged workflow of that name ({names})"
    raise InvalidInput("workflow", reason)


def load_workflow(source: str | Path | Mapping[str, Any] | WorkflowSpec, *, base_dir: Path | None = None) -> Workflow:
    """Load a workflow from a YAML file, a mapping or a :class:`WorkflowSpec`, and check every contract.

    Raises
    ------
    MalformedFile
        The YAML does not parse.
    InvalidInput
        Bad structure, unknown skill, missing input, bad literal parameter.
    ContractMismatch
        An upstream output does not validate as a downstream input (names both skills and the field).
    """
    path: Path | None = None
    if isinstance(source, (str, Path)):
        path = find_workflow(source)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            raise MalformedFile(
                str(path),
                f"not valid YAML: {getattr(err, 'problem', err)}",
                line=mark.line + 1 if mark else None,
                field="workflow",
            ) from None
        if not isinstance(raw, Mapping):
            raise MalformedFile(str(path), "a workflow must be a YAML mapping", field="workflow")
        base = base_dir or path.resolve().parent
    else:
        raw = source
        base = (base_dir or Path.cwd()).resolve()
    if isinstance(raw, WorkflowSpec):
        spec = raw
    else:
        raw = dict(raw)
        raw["steps"] = [_coerce_inputs(s) for s in raw.get("steps", []) or []]
        try:
            spec = WorkflowSpec.model_validate(raw)
        except ValidationError as err:
            raise invalid_input_from(err, tool="workflow") from None
    for entry in spec.imports:
        _import(entry, base)
    wf = Workflow(spec=spec, base_dir=base, source=path.resolve() if path else None)
    seen: dict[str, StepSpec] = {}
    for step in spec.steps:
        if step.id in seen or step.id == "report":
            raise InvalidInput(f"steps.{step.id}.id", "step ids must be unique and not 'report'")
        _check_step(wf, step, seen)
        seen[step.id] = step
    return wf
