"""Running a workflow: a LangGraph graph of skill subgraphs, checkpointed (SQLite or PostgreSQL), resumable by run id.

:func:`run` starts a run (or resumes one with ``resume=RUN_ID``). Each step is a node; steps that do not depend on
each other run in parallel, and a final ``report`` node writes the run's report. The graph is checkpointed with
``SqliteSaver`` in ``LABWRIGHT_HOME`` (``PostgresSaver`` with ``LABWRIGHT_DATABASE_URL``) under the thread id = run
id, so a run stopped at a checkpoint or killed between steps continues where it was: finished steps are not run again.

Checkpoints (approvals): a step stops before its skill runs when its estimated cost crosses the approval threshold,
when one of its tools writes to a store, or when the workflow marks it ``checkpoint: true``; tool calls inside are
gated again by the agents' policy (:mod:`labwright.agents.governance`). A stopped run answers with status
``"waiting"`` and the pending questions; answer each with ``"approve"``, ``"reject"``, ``{"edit": {...}}`` (new
parameters for the step, or new arguments for a tool call) or ``{"rollback": {"step": ID, "params": {...}}}`` (go
back to an earlier step, change its inputs and run again from there). Non-interactive runs pass an explicit approval
rule, ``approve="all"`` or ``approve="under=60s"``, which the audit log records as the approver of every question it
settles; resuming a run with a rule also settles the questions already pending that the rule approves. A step approved
at its checkpoint covers its own tool calls up to the approved estimate (see ``_governance``).

A skill may decide not to run (``StepSkipped``, e.g. a fit branch the approved plan left out): the step is recorded
as skipped with the reason, and a downstream step that gathers a list from several steps gets the entries of the
steps that ran.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field

from ..agents._checkpoints import checkpointer
from ..errors import InvalidInput, LabwrightError, NotFound
from ..settings import get_settings
from ._governance import Governance
from ._provenance import InputRecord, sha256_json, write_atomic
from ._skill import SkillContext, StepRejected, StepSkipped
from ._workflow import StepSpec, Workflow, WorkflowSpec, load_workflow

__all__ = ["run", "resume", "rollback", "RunResult", "PendingApproval", "run_dir_of", "Answer", "list_runs"]

Answer = str | Mapping[str, Any]
"""An answer to a pending question: "approve", "reject", {"edit": {...}} or {"rollback": {"step": .., "params": ..}}."""


def _merge(a: dict | None, b: dict | None) -> dict:
    return {**(a or {}), **(b or {})}


class RunState(TypedDict, total=False):
    outputs: Annotated[dict[str, Any], _merge]  # step id -> output (JSON) or None
    records: Annotated[dict[str, Any], _merge]  # step id -> StepRecord JSON
    status: Annotated[dict[str, str], _merge]  # step id -> finished | rejected | skipped
    overrides: Annotated[dict[str, Any], _merge]  # step id -> edited input fields
    report: str


class PendingApproval(BaseModel):
    """A question the run is waiting on."""

    id: str = Field(description="Interrupt id; answer it with this id.")
    kind: str = Field(description="'step' (a skill checkpoint), 'tool' (a gated tool call) or 'budget'.")
    step: str | None = None
    tool: str | None = None
    reason: str = ""
    estimate_seconds: float | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class RunResult(BaseModel):
    """Where a run stands."""

    run_id: str
    workflow: str
    status: Literal["finished", "waiting", "failed"]
    run_dir: str
    report_path: str | None = None
    report_json: str | None = None
    pending: list[PendingApproval] = Field(default_factory=list)
    steps: dict[str, str] = Field(default_factory=dict, description="step id -> finished | rejected | skipped")
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    approve: str = Field(default="none", description="The non-interactive approval rule in force.")


def run_dir_of(run_id: str) -> Path:
    """The folder of run ``run_id`` under ``LABWRIGHT_HOME/runs``."""
    return get_settings().runs_dir / run_id


def _new_run_id(name: str) -> str:
    return f"{name}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _step_node(wf: Workflow, step: StepSpec, run_id: str, run_dir: Path, gov: Governance) -> Callable:
    skill = wf.skill_of(step.id)
    deps = wf.dependencies(step)
    optional = wf.list_only_sources(step)  # steps that only feed entries of a gathered list

    def node(state: RunState) -> RunState:
        status = state.get("status") or {}
        records = state.get("records") or {}
        blocked = [
            d for d in deps if status.get(d) != "finished" and not (d in optional and _chose_to_skip(records, d))
        ]
        if not blocked and optional and all(status.get(d) != "finished" for d in optional):
            blocked = list(optional)  # every step feeding the gathered list skipped itself: nothing to gather
        if blocked:
            return {
                "status": {step.id: "skipped"},
                "outputs": {step.id: None},
                "records": {step.id: {"notes": [f"skipped: {', '.join(blocked)} did not finish"]}},
            }
        outputs = state.get("outputs") or {}
        overrides = (state.get("overrides") or {}).get(step.id)
        raw = wf.build_input(step, outputs, overrides)
        upstream = [InputRecord(name=f"step:{d}", sha256=sha256_json(outputs.get(d))) for d in deps]
        params = {**wf.resolved_params(step), **(overrides or {})}
        synthetic_upstream = any(
            (records.get(d) or {}).get("synthetic") or (records.get(d) or {}).get("derived_from_synthetic")
            for d in deps
        )
        ctx = SkillContext(
            run_id=run_id,
            step=step.id,
            skill=skill,
            run_dir=run_dir,
            caller=gov.call_tool,  # with grant= once the step was approved at its checkpoint
            role=step.role or skill.role,
            parameters=params,
            upstream=upstream,
            base_dir=wf.base_dir,
            synthetic_upstream=synthetic_upstream,
        )

        def approve(inp: BaseModel) -> Mapping[str, Any] | None:
            return gov.approve_step(step, skill, inp)

        try:
            result = skill.subgraph(ctx, approve).invoke({"input": raw})
        except StepSkipped as err:
            return {
                "status": {step.id: "skipped"},
                "outputs": {step.id: None},
                "records": {step.id: {**ctx.record.to_json(), "notes": [f"skipped: {err}"], "chose_to_skip": True}},
            }
        except StepRejected as err:
            return {
                "status": {step.id: "rejected"},
                "outputs": {step.id: None},
                "records": {step.id: {**ctx.record.to_json(), "notes": [f"rejected: {err}"]}},
            }
        if result.get("output") is None:
            return {
                "status": {step.id: "rejected"},
                "outputs": {step.id: None},
                "records": {step.id: {"notes": ["rejected at its checkpoint"]}},
            }
        return {
            "status": {step.id: "finished"},
            "outputs": {step.id: result["output"]},
            "records": {step.id: result.get("record", {})},
        }

    return node


def _chose_to_skip(records: Mapping[str, Any], step: str) -> bool:
    """True when ``step`` was skipped by its own skill (not because something upstream of it did not finish)."""
    return bool((records.get(step) or {}).get("chose_to_skip"))


def _report_node(wf: Workflow, run_id: str, run_dir: Path, approve_rule: str) -> Callable:
    def node(state: RunState) -> RunState:
        from ._report import write_report

        path = write_report(wf, run_id, run_dir, dict(state), approve_rule=approve_rule)
        return {"report": str(path)}

    return node


def _build_graph(wf: Workflow, run_id: str, run_dir: Path, gov: Governance, checkpointer: Any):
    from langgraph.graph import END, START, StateGraph

    g = StateGraph(RunState)
    for step in wf.spec.steps:
        g.add_node(step.id, _step_node(wf, step, run_id, run_dir, gov))
        deps = wf.dependencies(step)
        if not deps:
            g.add_edge(START, step.id)
        else:
            g.add_edge(deps if len(deps) > 1 else deps[0], step.id)
    g.add_node("report", _report_node(wf, run_id, run_dir, str(gov.rule)))
    terminals = wf.terminal_steps()
    g.add_edge(terminals if len(terminals) > 1 else terminals[0], "report")
    g.add_edge("report", END)
    return g.compile(checkpointer=checkpointer)


def _pending(graph: Any, config: dict) -> list[PendingApproval]:
    out = []
    for it in graph.get_state(config).interrupts:
        v = it.value if isinstance(it.value, Mapping) else {"value": it.value}
        est = v.get("estimate") or {}
        out.append(
            PendingApproval(
                id=it.id,
                kind=str(v.get("kind", "tool")),
                step=v.get("step"),
                tool=v.get("tool"),
                reason=str(v.get("reason", "")),
                estimate_seconds=est.get("seconds") if isinstance(est, Mapping) else None,
                payload=json.loads(json.dumps(v, default=str)),
            )
        )
    return out


def _stored_workflow(meta: Mapping[str, Any]) -> Workflow:
    """The workflow a run was started with, re-checked (skills may have been imported by the stored spec)."""
    stored = meta["workflow"]
    wf = load_workflow(WorkflowSpec.model_validate(stored["spec"]), base_dir=Path(stored["base_dir"]))
    return dataclasses.replace(wf, source=Path(stored["source"]) if stored.get("source") else None)


def _write_meta(run_dir: Path, meta: Mapping[str, Any]) -> None:
    write_atomic(run_dir / "run.json", json.dumps(meta, indent=2, sort_keys=True, default=str))


def _read_meta(run_id: str) -> dict[str, Any]:
    path = run_dir_of(run_id) / "run.json"
    if not path.is_file():
        raise NotFound(f"no run {run_id!r} under {get_settings().runs_dir}")
    return json.loads(path.read_text())


def _result(
    wf: Workflow, run_id: str, run_dir: Path, graph: Any, config: dict, rule: str, error: str | None = None
) -> RunResult:
    snap = graph.get_state(config)
    values = snap.values or {}
    pending = _pending(graph, config) if error is None else []
    if error is not None:
        status = "failed"
    elif pending or snap.next:
        status = "waiting"
    else:
        status = "finished"
    report = values.get("report")
    return RunResult(
        run_id=run_id,
        workflow=wf.name,
        status=status,
        run_dir=str(run_dir),
        report_path=report,
        report_json=str(Path(report).with_suffix(".json")) if report else None,
        pending=pending,
        steps=dict(values.get("status") or {}),
        outputs=dict(values.get("outputs") or {}),
        error=error,
        approve=rule,
    )


def _note_status(res: RunResult) -> None:
    """Record where the run stands in its ``run.json`` (what ``labwright runs list`` shows without opening the
    checkpoints)."""
    path = Path(res.run_dir) / "run.json"
    if not path.is_file():
        return
    meta = json.loads(path.read_text())
    meta.update(
        status=res.status,
        error=res.error,
        pending=len(res.pending),
        report=res.report_path,
        updated=datetime.now(UTC).isoformat(timespec="microseconds"),
    )
    _write_meta(Path(res.run_dir), meta)


def list_runs() -> list[dict[str, Any]]:
    """Workflow runs under ``LABWRIGHT_HOME/runs``, newest activity first: ``run_id``, ``kind`` ("workflow"),
    ``workflow``, ``status`` (finished / waiting / failed; "unknown" for a run that never got as far as a status),
    ``request`` (the workflow's name), ``created`` and ``updated`` (epoch seconds), ``report``, ``error``."""
    root = get_settings().runs_dir
    out = []
    for path in root.glob("*/run.json") if root.is_dir() else []:
        try:
            meta = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):  # a half-written or foreign folder: not a run
            continue
        name = (meta.get("workflow") or {}).get("spec", {}).get("name") or path.parent.name
        created = _epoch(meta.get("started")) or path.stat().st_mtime
        out.append(
            {
                "run_id": meta.get("run_id", path.parent.name),
                "kind": "workflow",
                "workflow": name,
                "status": meta.get("status", "unknown"),
                "request": f"workflow {name}",
                "planner": "workflow",
                "created": created,
                "updated": _epoch(meta.get("updated")) or path.stat().st_mtime,
                "report": meta.get("report"),
                "error": meta.get("error"),
            }
        )
    return sorted(out, key=lambda r: -r["updated"])


def _epoch(stamp: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(stamp)).timestamp() if stamp else None
    except ValueError:
        return None


def run(
    workflow: str | Path | Mapping[str, Any] | WorkflowSpec | Workflow | None = None,
    *,
    approve: str | None = None,
    resume: str | None = None,
    run_id: str | None = None,
    answers: Mapping[str, Answer] | None = None,
    ask: Callable[[PendingApproval], Answer] | None = None,
    approver: str | None = None,
) -> RunResult:
    """Run a workflow, or resume one, until it finishes, fails or waits for a person.

    Parameters
    ----------
    workflow
        A YAML path, a mapping, a :class:`WorkflowSpec` or a loaded :class:`Workflow`. Not needed with ``resume``.
    approve
        Non-interactive approval rule: ``"all"``, ``"under=60s"`` (read-only work only), ``"under=60s,writes"`` (store
        writes too) or ``"none"`` (default: questions wait for a person); see
        :class:`~labwright.agents.policy.ApprovalRule`. Recorded in the audit log; on resume, a new rule replaces the
        stored one (also recorded).
    resume
        Run id to continue (after a stop at a checkpoint, a crash or a kill).
    run_id
        Id for a new run (default: ``<workflow>-<UTC time>-<random>``).
    answers
        Answers to pending questions by interrupt id (or by step id for step checkpoints).
    ask
        Called for each pending question to get an answer interactively; without it the run returns "waiting".
    approver
        Who answers this session's questions, as the embedding application has established it (audited as
        ``human:<approver>``); default ``LABWRIGHT_APPROVER``, else the OS user. An answer cannot name its approver.

    Returns
    -------
    RunResult
        Status, report paths, step statuses, outputs and any pending questions.
    """
    res = _run(workflow, approve=approve, resume=resume, run_id=run_id, answers=answers, ask=ask, approver=approver)
    _note_status(res)
    return res


def _run(
    workflow: Any,
    *,
    approve: str | None,
    resume: str | None,
    run_id: str | None,
    answers: Mapping[str, Answer] | None,
    ask: Callable[[PendingApproval], Answer] | None,
    approver: str | None,
) -> RunResult:
    if resume is not None:
        meta = _read_meta(resume)
        wf = _stored_workflow(meta)
        rid = resume
        rule_text = approve if approve is not None else meta.get("approve", "none")
    else:
        if workflow is None:
            raise InvalidInput("workflow", "give a workflow to run or a run id to resume")
        wf = workflow if isinstance(workflow, Workflow) else load_workflow(workflow)
        rid = run_id or _new_run_id(wf.name)
        if (run_dir_of(rid) / "run.json").exists():
            raise InvalidInput("run_id", f"run {rid!r} exists already; resume it instead")
        rule_text = approve or "none"
        meta = {
            "run_id": rid,
            "workflow": wf.to_json(),
            "approve": rule_text,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    run_dir = run_dir_of(rid)
    run_dir.mkdir(parents=True, exist_ok=True)
    gov = Governance(rid, rule_text, approver=approver)
    meta["approve"] = str(gov.rule)
    _write_meta(run_dir, meta)
    gov.record_start(wf.name, resumed=resume is not None)
    config = {"configurable": {"thread_id": rid}, "recursion_limit": 200}
    with checkpointer() as saver:
        graph = _build_graph(wf, rid, run_dir, gov, saver)
        started = resume is None or not graph.get_state(config).values
        command: Any = {"outputs": {}, "status": {}, "overrides": {}} if started else None
        pending_answers = dict(answers or {})
        while True:
            try:
                graph.invoke(command, config)
            except LabwrightError as err:
                gov.record_end("failed", str(err))
                return _result(wf, rid, run_dir, graph, config, str(gov.rule), error=str(err))
            except Exception as err:  # a bug in a skill: keep the run resumable, report where it failed
                msg = f"{type(err).__name__}: {err}"
                (run_dir / "error.txt").write_text(traceback.format_exc())
                gov.record_end("failed", msg)
                return _result(wf, rid, run_dir, graph, config, str(gov.rule), error=msg)
            pending = _pending(graph, config)
            if not pending:
                break
            decided: dict[str, Any] = {}
            for p in pending:
                answer = pending_answers.pop(p.id, None)
                if answer is None and p.step is not None and p.kind == "step":
                    answer = pending_answers.pop(p.step, None)
                if answer is None and gov.settle_pending(p):
                    answer = "approve"  # the run's approval rule approves it (recorded in the audit as such)
                if answer is None and ask is not None:
                    answer = ask(p)
                if answer is None:
                    continue
                if isinstance(answer, Mapping) and "rollback" in answer:
                    target = answer["rollback"]
                    _fork(graph, config, wf, target.get("step"), target.get("params") or {})
                    gov.record_rollback(target.get("step"), target.get("params") or {})
                    decided = {"__fork__": True}
                    break
                decided[p.id] = answer
            if "__fork__" in decided:
                command = None  # the fork is now the thread's latest checkpoint
                continue
            if len(decided) < len(pending):
                break  # someone must answer; the run waits
            from langgraph.types import Command

            command = Command(resume=decided)
        res = _result(wf, rid, run_dir, graph, config, str(gov.rule))
        if res.status == "finished":
            gov.record_end("finished", res.report_path or "")
        return res


def _fork(graph: Any, config: dict, wf: Workflow, step: str | None, params: Mapping[str, Any]) -> None:
    """A new checkpoint just before ``step`` last ran, with ``params`` as edited input fields of that step."""
    if step is None:
        raise InvalidInput("rollback.step", "name the step to roll back to")
    wf.step(step)
    base = {"configurable": {"thread_id": config["configurable"]["thread_id"]}}
    for snap in graph.get_state_history(base):
        if step in snap.next:
            overrides = {**((snap.values.get("overrides") or {}).get(step) or {}), **dict(params)}
            skill = wf.skill_of(step)
            bad = [k for k in overrides if k not in skill.input_model.model_fields]
            if bad:
                raise InvalidInput(f"rollback.params.{bad[0]}", f"skill {skill.ref} has no input field {bad[0]!r}")
            graph.update_state(snap.config, {"overrides": {step: overrides}})
            return
    raise InvalidInput("rollback.step", f"step {step!r} has not run yet in this run; nothing to roll back to")


def resume(
    run_id: str,
    *,
    approve: str | None = None,
    answers: Mapping[str, Answer] | None = None,
    ask: Callable[[PendingApproval], Answer] | None = None,
    approver: str | None = None,
) -> RunResult:
    """Continue run ``run_id`` (see :func:`run`)."""
    return run(resume=run_id, approve=approve, answers=answers, ask=ask, approver=approver)


def rollback(
    run_id: str,
    step: str,
    params: Mapping[str, Any] | None = None,
    *,
    approve: str | None = None,
    ask: Callable[[PendingApproval], Answer] | None = None,
) -> RunResult:
    """Go back to ``step`` of run ``run_id``, change its input fields to ``params`` and run on from there."""
    meta = _read_meta(run_id)
    wf = _stored_workflow(meta)
    with checkpointer() as saver:
        gov = Governance(run_id, approve if approve is not None else meta.get("approve", "none"))
        graph = _build_graph(wf, run_id, run_dir_of(run_id), gov, saver)
        _fork(graph, {"configurable": {"thread_id": run_id}}, wf, step, params or {})
        gov.record_rollback(step, dict(params or {}))
    return run(resume=run_id, approve=approve, ask=ask)
