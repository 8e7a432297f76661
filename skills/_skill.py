"""Skills: named, versioned units of a workflow with typed input and output contracts.

A skill is a plain function ``f(ctx: SkillContext, inp: InModel) -> OutModel`` decorated with :func:`skill`. Its
docstring is its description. Inside, it calls registered tools only through ``ctx.call(tool, args)``, which goes
through the same governance as the agents (policy gate, approval interrupt, idempotent result store, audit), and it
records what it makes with ``ctx.save_json`` / ``ctx.save_figure`` / ``ctx.save_table`` and ``ctx.claim``.

When a workflow runs, each step is a LangGraph subgraph built by :meth:`Skill.subgraph`::

    validate (input contract) -> approve (checkpoint, if needed) -> run (the function) -> check (output contract)
"""

from __future__ import annotations

import inspect
import io
import threading
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ValidationError

from ..errors import InvalidInput, LabwrightError, NotFound
from ..tools.registry import Cost, get_tool, invalid_input_from
from ._provenance import Artifact, ArtifactKind, Claim, InputRecord, ToolUse, sha256_file, sha256_json, write_atomic

__all__ = [
    "Skill",
    "SkillContext",
    "StepRecord",
    "skill",
    "get_skill",
    "list_skills",
    "StepRejected",
    "StepSkipped",
    "StepGrant",
    "StepApproval",
]

CheckpointRule = Literal["auto", "always", "never"]


class StepRejected(LabwrightError):
    """A human (or the approval policy) rejected a step at its checkpoint."""


class StepSkipped(LabwrightError):
    """A skill decided not to run (e.g. its branch is not in the approved plan); the message is the reason."""


@dataclass
class StepGrant:
    """What a step's approval covers: the step's own tool calls, up to the cost that was approved.

    When a step stops at its checkpoint and is approved (by a person, with or without edits, or by the ``--approve``
    rule), the approval is for running the skill with that input at its estimated cost. The tool calls the skill then
    makes (only tools it declares) are covered by that approval while their summed estimates stay within the
    approved estimate; a call past it asks again at its own gate.

    Attributes
    ----------
    step, skill
        The approved step and skill ref.
    reference
        Idempotency key of the step's checkpoint (where the approval is recorded).
    approver
        Who approved the step: ``"human:<user>"`` or ``"rule:all"`` etc.
    input_sha256
        sha256 of the approved input (canonical JSON).
    tools
        Tools the grant covers (those the skill declares).
    seconds, tokens
        Approved estimate of the whole step: s, LLM tokens.
    """

    step: str
    skill: str
    reference: str
    approver: str
    input_sha256: str
    tools: tuple[str, ...]
    seconds: float
    tokens: int = 0
    spent_seconds: float = 0.0
    spent_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def approver_ref(self) -> str:
        """The approver recorded on a covered call: the step and who approved it, e.g. ``step:ingest(human:ana)``."""
        return f"step:{self.step}({self.approver})"

    def take(self, tool: str, estimate: Cost) -> bool:
        """Charge one call's estimate to the grant; False (nothing charged) if the tool is not covered or it would
        exceed the approved estimate. Calls are charged in the order the skill makes them, so a re-run of the step
        (which replays the same calls) decides the same way."""
        if tool not in self.tools:
            return False
        slack = 1e-9 * max(1.0, self.seconds)  # sums of the same float estimates in another order
        with self._lock:
            seconds = self.spent_seconds + estimate.seconds
            tokens = self.spent_tokens + estimate.tokens
            if seconds > self.seconds + slack or tokens > self.tokens:
                return False
            self.spent_seconds, self.spent_tokens = seconds, tokens
            return True

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "skill": self.skill,
            "reference": self.reference,
            "approver": self.approver,
            "input_sha256": self.input_sha256,
            "tools": list(self.tools),
            "seconds": self.seconds,
            "tokens": self.tokens,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepGrant:
        """A fresh grant (nothing spent) from :meth:`to_json` output."""
        return cls(**{**data, "tools": tuple(data["tools"])})


@dataclass(frozen=True)
class StepApproval:
    """What a step checkpoint decided: the input to run with and, if the step was approved at a checkpoint, the
    grant that covers its tool calls (None when the step needed no approval)."""

    input: dict[str, Any]
    grant: StepGrant | None = None


@dataclass
class StepRecord:
    """What one step did: tools called, inputs read, artifacts and claims made."""

    tools: list[ToolUse] = field(default_factory=list)
    inputs: list[InputRecord] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    synthetic: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    derived_from_synthetic: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "tools": [t.model_dump() for t in self.tools],
            "inputs": [i.model_dump() for i in self.inputs],
            "artifacts": [a.model_dump() for a in self.artifacts],
            "claims": [c.model_dump() for c in self.claims],
            "synthetic": list(self.synthetic),
            "notes": list(self.notes),
            "derived_from_synthetic": self.derived_from_synthetic,
        }


class SkillContext:
    """What a running skill may touch: governed tool calls, its step folder, and the provenance record.

    Parameters
    ----------
    run_id, step
        The run and the workflow step being executed.
    skill
        The skill being run (for provenance).
    run_dir
        The run folder; artifacts go to ``run_dir / step``.
    caller
        ``caller(role, tool, args, step_key) -> BaseModel``: the governed tool call (see ``_governance``); called
        with ``grant=`` as well once the step was approved at its checkpoint (:class:`StepGrant`).
    role
        The agent role whose allowlist applies to this step's tool calls.
    parameters
        The step's literal parameters, recorded in every artifact's provenance.
    upstream
        ``InputRecord`` of each upstream step output this step consumes.
    base_dir
        Folder that relative data paths are shown relative to (the workflow file's folder).
    synthetic_upstream
        True when an upstream step (directly or further up) used simulated data: this step's artifacts say so too.
    """

    def __init__(
        self,
        *,
        run_id: str,
        step: str,
        skill: Skill,
        run_dir: Path,
        caller: Callable[[str, str, Mapping[str, Any], str], BaseModel],
        role: str,
        parameters: Mapping[str, Any] | None = None,
        upstream: list[InputRecord] | None = None,
        base_dir: Path | None = None,
        synthetic_upstream: bool = False,
    ):
        self.run_id = run_id
        self.step = step
        self.skill = skill
        self.run_dir = Path(run_dir)
        self.role = role
        self.parameters = dict(parameters or {})
        self.base_dir = base_dir
        self.record = StepRecord(inputs=list(upstream or []), derived_from_synthetic=synthetic_upstream)
        self._caller = caller
        self._n_calls = 0
        self.grant: StepGrant | None = None  # set when the step was approved at its checkpoint

    @property
    def step_dir(self) -> Path:
        """Folder for this step's artifacts (created on first use)."""
        path = self.run_dir / self.step
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- tools -------------------------------------------------------------------------------------------------------
    def call(self, tool: str, args: Mapping[str, Any] | BaseModel | None = None, /, **kwargs: Any) -> BaseModel:
        """Call registered tool ``tool`` through the governance gate and return its output model.

        The call key is ``<step>#<n>`` (n counts calls in this step), so a re-executed step finds the stored result of
        a call it already made instead of repeating it.
        """
        if args is not None and kwargs:
            raise TypeError("pass either an argument mapping or keyword arguments, not both")
        spec = get_tool(tool)
        if isinstance(args, BaseModel):
            args = args.model_dump(mode="json")
        payload = spec.validate(dict(args) if args is not None else kwargs).model_dump(mode="json")
        if tool not in self.skill.tools:
            raise InvalidInput(
                "tool",
                f"skill {self.skill.ref} does not declare tool {tool!r}; declared: "
                f"{', '.join(self.skill.tools) or 'none'}",
            )
        self._n_calls += 1
        key = f"{self.step}#{self._n_calls}"
        if self.grant is not None:
            out = self._caller(self.role, tool, payload, key, grant=self.grant)
        else:
            out = self._caller(self.role, tool, payload, key)
        self.record.tools.append(ToolUse(name=tool, version=spec.version, args_sha256=sha256_json(payload)))
        return out

    # -- inputs ------------------------------------------------------------------------------------------------------
    def input_file(self, path: str | Path) -> Path:
        """Record a data file this step reads (its sha256 goes into every later artifact's provenance)."""
        p = Path(path)
        if not p.is_file():
            raise InvalidInput("path", f"data file {str(p)!r} does not exist")
        shown = str(p)
        if self.base_dir is not None:
            try:
                shown = str(p.resolve().relative_to(self.base_dir.resolve()))
            except ValueError:
                pass
        rec = InputRecord(name=shown, sha256=sha256_file(p))
        if rec not in self.record.inputs:
            self.record.inputs.append(rec)
        return p

    def mark_synthetic(self, note: str) -> None:
        """Declare that this step's data were made with our own simulator (shown in the report)."""
        if note not in self.record.synthetic:
            self.record.synthetic.append(note)

    def note(self, text: str) -> None:
        """A free-text remark shown under the step in the report."""
        self.record.notes.append(text)

    # -- artifacts ---------------------------------------------------------------------------------------------------
    def _artifact(self, name: str, kind: ArtifactKind, data: bytes | str, title: str) -> Artifact:
        path = self.step_dir / name
        write_atomic(path, data)
        art = Artifact(
            id=f"{self.step}/{name}",
            kind=kind,
            path=str(path.relative_to(self.run_dir)),
            sha256=sha256_file(path),
            title=title or name,
            run_id=self.run_id,
            step=self.step,
            skill=self.skill.ref,
            inputs=list(self.record.inputs),
            tools=list(self.record.tools),
            parameters=self.parameters,
            synthetic=bool(self.record.synthetic) or self.record.derived_from_synthetic,
        )
        self.record.artifacts = [a for a in self.record.artifacts if a.id != art.id] + [art]
        return art

    def add_file(self, path: Path, *, kind: ArtifactKind = "other", title: str = "") -> Artifact:
        """Record a file a tool wrote into this step's folder as an artifact (with this step's provenance)."""
        path = Path(path).resolve()
        try:
            rel = path.relative_to(self.step_dir.resolve())
        except ValueError:
            raise InvalidInput("path", f"{path} is not inside the step folder {self.step_dir}") from None
        return self._artifact(str(rel), kind, path.read_bytes(), title)

    def save_json(self, name: str, value: Any, *, kind: ArtifactKind = "parameters", title: str = "") -> Artifact:
        """Write ``value`` as JSON (``name`` should end in .json) and return its artifact record."""
        import json

        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        return self._artifact(name, kind, json.dumps(value, indent=2, sort_keys=True, default=str), title)

    def save_table(self, name: str, rows: list[Mapping[str, Any]], *, title: str = "") -> Artifact:
        """Write rows (dicts with the same keys) as CSV and return its artifact record."""
        import csv

        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return self._artifact(name, "table", buf.getvalue(), title)

    def figure(self, *, figsize: tuple[float, float] = (6.0, 4.0)) -> Any:
        """A new matplotlib ``Figure`` outside pyplot's global state, so parallel steps can draw at the same time."""
        from matplotlib.figure import Figure

        return Figure(figsize=figsize)

    def save_figure(self, name: str, fig: Any, *, title: str = "") -> Artifact:
        """Save a matplotlib figure as PNG (``name`` should end in .png), close it and return its record."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        if getattr(fig, "number", None) is not None:  # made with pyplot: release it from pyplot's registry
            import matplotlib.pyplot as plt

            plt.close(fig)
        return self._artifact(name, "figure", buf.getvalue(), title)

    def claim(
        self, text: str, *, value: float | str | None = None, unit: str = "", artifacts: list[Artifact] | None = None
    ) -> Claim:
        """A statement for the report, linked to the artifacts that support it."""
        c = Claim(text=text, value=value, unit=unit, artifacts=[a.id for a in artifacts or []], step=self.step)
        self.record.claims.append(c)
        return c


class _SubState(TypedDict, total=False):
    input: dict[str, Any]
    approved: bool
    output: dict[str, Any] | None
    record: dict[str, Any]
    grant: dict[str, Any] | None


@dataclass(frozen=True)
class Skill:
    """A named, versioned unit of work with pydantic input and output contracts.

    Attributes
    ----------
    name, version
        Identity recorded in provenance (``ref`` is ``name@version``).
    description
        The function's docstring summary.
    input_model, output_model
        The contracts. A workflow checks at load time that upstream outputs validate as this input.
    func
        ``func(ctx, inp) -> out``.
    role
        Agent role whose tool allowlist applies (``"electrochemist"``, ``"librarian"``, ...).
    tools
        Registered tool names the skill may call; anything else is refused.
    checkpoint
        ``"auto"``: stop for approval when the estimated cost crosses the threshold or a declared tool writes to a
        store; ``"always"``; ``"never"`` (tool-level gates still apply).
    estimate
        ``estimate(inp) -> Cost`` of the whole step, for the checkpoint rule.
    """

    name: str
    version: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    func: Callable[[SkillContext, Any], BaseModel]
    role: str = "workflow"
    tools: tuple[str, ...] = ()
    checkpoint: CheckpointRule = "auto"
    estimate: Callable[[Any], Cost] | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def validate_input(self, data: Mapping[str, Any] | BaseModel) -> BaseModel:
        """Validate ``data`` into the input model; :class:`InvalidInput` names the skill and the field."""
        if isinstance(data, self.input_model):
            return data
        if isinstance(data, BaseModel):
            data = data.model_dump(mode="json")
        try:
            return self.input_model.model_validate(dict(data))
        except ValidationError as err:
            raise invalid_input_from(err, tool=f"skill {self.name}") from None

    def writes_store(self) -> bool:
        """True when a declared tool has a side effect (writes a store or reaches outside)."""
        return any(get_tool(t).side_effect != "none" for t in self.tools)

    def estimate_cost(self, inp: BaseModel) -> Cost:
        return self.estimate(inp) if self.estimate is not None else Cost()

    def needs_approval(self, inp: BaseModel, threshold_s: float, forced: bool = False) -> str | None:
        """The reason this step must stop for approval, or None."""
        if self.checkpoint == "never" and not forced:
            return None
        if forced or self.checkpoint == "always":
            return "checkpoint declared by the workflow" if forced else f"skill {self.ref} always asks"
        cost = self.estimate_cost(inp)
        if cost.seconds > threshold_s:
            return f"estimated {cost.seconds:.0f} s > threshold {threshold_s:.0f} s"
        if self.writes_store():
            return "writes to a store"
        return None

    def subgraph(
        self,
        ctx: SkillContext,
        approve: Callable[[BaseModel], StepApproval | Mapping[str, Any] | None],
    ):
        """The step as a compiled LangGraph subgraph: validate -> approve -> run -> check.

        ``approve(inp)`` returns the (possibly edited) input to run with (a mapping, or a :class:`StepApproval` that
        also carries the grant covering the step's tool calls), or None when the step was rejected; it may call
        ``interrupt()``. The grant is kept in the subgraph's state, so a step resumed in another process still has it.
        The subgraph inherits the parent's checkpointer, so a resumed step skips the nodes it
        already finished.
        """
        from langgraph.graph import END, START, StateGraph

        def validate(state: _SubState) -> _SubState:
            return {"input": self.validate_input(state["input"]).model_dump(mode="json")}

        def gate(state: _SubState) -> _SubState:
            decided = approve(self.validate_input(state["input"]))
            if decided is None:
                return {"approved": False, "output": None}
            grant = None
            if isinstance(decided, StepApproval):
                grant = decided.grant.to_json() if decided.grant is not None else None
                decided = decided.input
            return {"approved": True, "input": self.validate_input(decided).model_dump(mode="json"), "grant": grant}

        def run(state: _SubState) -> _SubState:
            if not state.get("approved", True):
                return {}
            grant = state.get("grant")
            ctx.grant = StepGrant.from_json(grant) if grant else None
            out = self.func(ctx, self.validate_input(state["input"]))
            return {"output": out.model_dump(mode="json") if isinstance(out, BaseModel) else out}

        def check(state: _SubState) -> _SubState:
            if state.get("output") is not None:
                try:
                    self.output_model.model_validate(state["output"])
                except ValidationError as err:
                    bad = invalid_input_from(err)
                    raise LabwrightError(
                        f"skill {self.ref} broke its output contract: field '{bad.field}': {bad.reason}"
                    ) from None
            return {"record": ctx.record.to_json()}

        g = StateGraph(_SubState)
        for name, fn in (("validate", validate), ("approve", gate), ("run", run), ("check", check)):
            g.add_node(name, fn)
        g.add_edge(START, "validate")
        g.add_edge("validate", "approve")
        g.add_edge("approve", "run")
        g.add_edge("run", "check")
        g.add_edge("check", END)
        return g.compile()


_SKILLS: dict[str, Skill] = {}


def _models_of(func: Callable) -> tuple[type[BaseModel], type[BaseModel]]:
    hints = typing.get_type_hints(func)
    params = list(inspect.signature(func).parameters.values())
    if len(params) != 2:
        raise TypeError(f"skill {func.__name__} must take (ctx, inp)")
    inp, out = hints.get(params[1].name), hints.get("return")
    for what, model in (("input", inp), ("return", out)):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"skill {func.__name__}: {what} annotation must be a pydantic model, got {model!r}")
    return inp, out


def skill(
    name: str,
    *,
    version: str = "1",
    role: str = "workflow",
    tools: tuple[str, ...] | list[str] = (),
    checkpoint: CheckpointRule = "auto",
    estimate: Callable[[Any], Cost] | None = None,
):
    """Register ``func(ctx, inp) -> out`` as a skill named ``name`` (dotted, e.g. ``"redox.fit_models"``)."""

    def register(func: Callable) -> Skill:
        inp, out = _models_of(func)
        spec = Skill(
            name=name,
            version=version,
            description=inspect.cleandoc(func.__doc__ or name).split("\n\n")[0],
            input_model=inp,
            output_model=out,
            func=func,
            role=role,
            tools=tuple(tools),
            checkpoint=checkpoint,
            estimate=estimate,
        )
        old = _SKILLS.get(name)
        if old is not None and old.func.__qualname__ != func.__qualname__:
            raise ValueError(f"skill name {name!r} is already registered by {old.func!r}")
        _SKILLS[name] = spec
        return spec

    return register


def _ensure_loaded() -> None:
    from . import _domains  # noqa: F401  (imports the shipped skill sets, which register themselves)


def get_skill(name: str) -> Skill:
    """The registered skill ``name``; :class:`NotFound` listing close names otherwise."""
    _ensure_loaded()
    try:
        return _SKILLS[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(_SKILLS), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(_SKILLS))}"
        raise NotFound(f"unknown skill {name!r}{hint}") from None


def list_skills() -> list[str]:
    """Names of all registered skills, sorted."""
    _ensure_loaded()
    return sorted(_SKILLS)
