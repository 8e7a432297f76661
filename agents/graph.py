"""The supervisor-worker graph (LangGraph ``StateGraph``).

::

    START -> supervisor --Send(task)--> worker (x N, parallel) -> reviewer --> answer -> END
                 ^                                                    |
                 +------------- replan (bounded, reason recorded) ----+--> ask a person (interrupt "review")

* **supervisor** asks the planner (LLM or offline) for a few tasks, each with a role, audits the plan and one
  delegation per task, and fans out with ``Send`` (one ``worker`` task per planned task, run in parallel);
* **worker** is a tool-calling loop for one role. Every tool the model asks for goes through
  :func:`~labwright.agents.governance.governed_call` (role allowlist, validation, cost, approval, budget, idempotency,
  audit); errors and denials are returned to the model with a request to reflect and fix or change approach. Each
  model reply is stored in the ledger, so a worker re-run after an interrupt or a crash replays its earlier turns
  (same tool calls, no tokens, no repeated side effects) instead of asking the model again;
* **reviewer** checks every number a worker claims against the evidence its tools returned (arguments and outputs)
  and that some call succeeded; problems trigger a replan with the reason recorded, at most ``max_rounds`` rounds,
  after which a person is asked (accept / stop / ``{"replan": "guidance"}``);
* **answer** writes the final answer from the summaries (LLM) or by quoting them (offline planner).

Nodes get their :class:`LabDeps` (run context, planner, limits) from ``config["configurable"]["labwright_deps"]``;
without it (e.g. under ``langgraph dev``) they open a context for the thread id and pick the planner from settings.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Required

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send
from typing_extensions import TypedDict  # not typing's: LangGraph's schema export (Studio) needs it before 3.12

from .governance import RunContext, ask_human, governed_call, governed_llm
from .llm import Planner, estimate_tokens, make_planner, worker_messages
from .policy import idempotency_key

__all__ = [
    "LabState",
    "LabInput",
    "LabOutput",
    "Task",
    "TaskResult",
    "Evidence",
    "LabDeps",
    "build_graph",
    "review_results",
    "DEPS_KEY",
]

DEPS_KEY = "labwright_deps"

# Token estimates for budgets: the fixed part of the supervisor's and the answer's prompts (system prompt, role list,
# the delegate tool) and the allowance for one reply (also the least a reply may be capped to).
_PLAN_PROMPT_TOKENS = 350
_ANSWER_PROMPT_TOKENS = 100
_REPLY_TOKENS = 300


class Call(TypedDict):
    """A planned tool call (the offline planner plans them; an LLM worker chooses its own)."""

    tool: str
    args: dict[str, Any]


class Task(TypedDict):
    """One delegated task: ``role`` from ``roles.WORKER_ROLES``."""

    id: str
    role: str
    goal: str
    calls: list[Call]


class Evidence(TypedDict):
    """One governed call as the reviewer sees it: status ``ok``/``error``/``denied``/``rejected``/``stopped``."""

    tool: str
    args: dict[str, Any]
    status: str
    result: dict[str, Any] | None
    message: str
    key: str | None
    approver: str | None


class TaskResult(TypedDict):
    """What a worker returns: status ``done``/``stopped``/``turn_limit``, its summary and the evidence behind it."""

    task_id: str
    role: str
    goal: str
    round: int
    status: str
    summary: str
    evidence: list[Evidence]


class LabState(TypedDict, total=False):
    """Graph state (plain JSON, so every checkpointer can store it)."""

    request: str
    context: list[str]
    round: int
    tasks: list[Task]
    results: Annotated[list[TaskResult], operator.add]
    replans: list[str]
    notes: list[str]
    answer: str
    status: str
    planner: str


class LabInput(TypedDict, total=False):
    """What a run starts from (the input form in LangGraph Studio): the request, and earlier lines of the
    conversation as context."""

    request: Required[str]
    context: list[str]


class LabOutput(TypedDict, total=False):
    """What a finished run returns: the answer, its status (answered, needs_input, failed, stopped) and the
    planner that wrote it."""

    answer: str
    status: str
    planner: str
    results: list[TaskResult]


@dataclass
class LabDeps:
    """What nodes need that is not state: the run context, the planner and loop limits."""

    ctx: RunContext
    planner: Planner
    max_rounds: int = 2
    max_turns: int = 8


def _deps(config: Mapping[str, Any]) -> LabDeps:
    conf = config.get("configurable", {})
    deps = conf.get(DEPS_KEY)
    if isinstance(deps, LabDeps):
        return deps
    thread = conf.get("thread_id") or "studio"
    return LabDeps(ctx=RunContext.open(str(thread)), planner=make_planner())


def _emit(event: dict[str, Any]) -> None:
    """Progress for ``stream_mode="custom"`` (chat shows it live); silently dropped when nobody streams."""
    try:
        from langgraph.config import get_stream_writer

        get_stream_writer()(event)
    except Exception:  # outside a streaming run there is no writer
        pass


# -- supervisor ----------------------------------------------------------------------------------------------------
def supervisor(state: LabState, config) -> Command[Literal["worker", "answer"]]:
    deps = _deps(config)
    ctx, planner = deps.ctx, deps.planner
    rnd = state.get("round", 0) + 1
    replans = state.get("replans", [])
    reason = replans[-1] if rnd > 1 and replans else None
    previous = [r for r in state.get("results", []) if r["round"] == rnd - 1]
    request = state["request"]
    reply = governed_llm(
        ctx,
        "supervisor",
        f"plan/r{rnd}",
        lambda cap: planner.plan(
            request, context=state.get("context", []), replan=reason, previous=previous, max_tokens=cap
        ),
        estimate_tokens=estimate_tokens(request, state.get("context", []), previous) + _PLAN_PROMPT_TOKENS,
        reply_tokens=_REPLY_TOKENS,
        label=planner.label,
    )
    if reply is None:
        return Command(update={"round": rnd, "tasks": [], "status": "stopped"}, goto="answer")
    tasks = reply["tasks"]
    ctx.log(
        "plan",
        actor="supervisor",
        role="supervisor",
        detail={
            "round": rnd,
            "planner": planner.label,
            "replan_reason": reason,
            "tasks": [{"id": t["id"], "role": t["role"], "goal": t["goal"]} for t in tasks],
            "notes": reply.get("notes", []),
        },
        dedupe=f"{ctx.run_id}:plan:r{rnd}",
    )
    _emit({"event": "plan", "round": rnd, "planner": planner.label, "tasks": tasks})
    if not tasks:
        text = reply.get("content") or "No task was planned."
        if rnd > 1:
            # A replan with nothing new to do: answer from the last round's results, with the review's notes and
            # the supervisor's reason, rather than dropping those results.
            notes = [*state.get("notes", []), f"supervisor: {text}"]
            return Command(update={"notes": notes, "planner": planner.label}, goto="answer")
        return Command(update={"round": rnd, "tasks": [], "answer": text, "planner": planner.label}, goto="answer")
    for t in tasks:
        ctx.log(
            "delegation",
            actor="supervisor",
            role=t["role"],
            detail={"round": rnd, "task": t["id"], "goal": t["goal"], "calls": [c["tool"] for c in t.get("calls", [])]},
            dedupe=f"{ctx.run_id}:delegation:r{rnd}:{t['id']}",
        )
    sends = [Send("worker", {"task": t, "round": rnd, "request": request}) for t in tasks]
    return Command(update={"round": rnd, "tasks": tasks, "planner": planner.label}, goto=sends)


# -- worker --------------------------------------------------------------------------------------------------------
def _assistant_message(reply: Mapping[str, Any]) -> dict[str, Any]:
    # Content is a string even beside tool calls: servers such as llama.cpp refuse ``null`` there.
    msg: dict[str, Any] = {"role": "assistant", "content": reply.get("content") or ""}
    if reply.get("tool_calls"):
        msg["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {
                    "name": c["name"],
                    "arguments": c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"]),
                },
            }
            for c in reply["tool_calls"]
        ]
    return msg


_REFLECT = (
    "The call(s) above did not succeed: {what}. Reflect before going on: what was wrong (arguments, units, "
    "a tool outside your role)? Fix the arguments, choose another tool of your role, or stop and report the problem."
)


def worker(payload: dict[str, Any], config) -> dict[str, Any]:
    """One role's tool-calling loop for one task (turns replayed from the ledger on a re-run)."""
    deps = _deps(config)
    ctx, planner = deps.ctx, deps.planner
    task, rnd, request = payload["task"], payload["round"], payload["request"]
    role = task["role"]
    messages = worker_messages(role, task, request)
    # Tool schemas are part of every prompt a model sees (the offline planner sends none).
    offered = getattr(planner, "role_tools", None)
    schema_tokens = 0 if planner.offline or offered is None else estimate_tokens(offered(role))
    evidence: list[Evidence] = []
    status, summary = "turn_limit", f"stopped after {deps.max_turns} turns without a final summary"
    for turn in range(deps.max_turns):
        step = f"r{rnd}/{task['id']}/turn{turn}"
        reply = governed_llm(
            ctx,
            role,
            step,
            lambda cap: planner.worker_turn(role, task, messages, max_tokens=cap),
            estimate_tokens=estimate_tokens(messages) + schema_tokens,
            reply_tokens=_REPLY_TOKENS,
            label=planner.label,
        )
        if reply is None:
            status, summary = "stopped", "stopped by a person at a budget pause"
            break
        messages.append(_assistant_message(reply))
        if not reply["tool_calls"]:
            status, summary = "done", reply.get("content") or ""
            break
        failed, stopped = [], False
        for i, call in enumerate(reply["tool_calls"]):
            out = governed_call(ctx, role, str(call["name"]), call["arguments"], step_key=f"{step}/call{i}")
            evidence.append(
                {
                    "tool": out.tool,
                    "args": out.args,
                    "status": out.status,
                    "result": out.result,
                    "message": out.message,
                    "key": out.key,
                    "approver": out.approver,
                }
            )
            _emit(
                {
                    "event": "tool",
                    "role": role,
                    "task": task["id"],
                    "tool": out.tool,
                    "status": out.status,
                    "message": out.message[:200],
                    "cached": out.cached,
                }
            )
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": out.for_model()})
            if out.status in ("error", "denied"):
                failed.append(f"{out.tool}: {out.message}")
            if out.status == "stopped":
                stopped = True
                break
        if stopped:
            status, summary = "stopped", "stopped by a person at a budget pause"
            break
        if failed and not planner.offline:
            messages.append({"role": "user", "content": _REFLECT.format(what="; ".join(failed))})
            ctx.log(
                "reflection",
                actor=role,
                role=role,
                detail={"step": step, "failed": failed},
                dedupe=f"{ctx.run_id}:reflect:{step}",
            )
    result: TaskResult = {
        "task_id": task["id"],
        "role": role,
        "goal": task["goal"],
        "round": rnd,
        "status": status,
        "summary": summary,
        "evidence": evidence,
    }
    ctx.log(
        "task_result",
        actor=role,
        role=role,
        result=result,
        detail={"task": task["id"], "round": rnd, "status": status, "tool_calls": len(evidence)},
        dedupe=f"{ctx.run_id}:task_result:r{rnd}:{task['id']}",
    )
    _emit({"event": "task_done", "role": role, "task": task["id"], "status": status, "summary": summary[:300]})
    return {"results": [result]}


# -- reviewer ------------------------------------------------------------------------------------------------------
_NUM = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w|\.\d)")


def _numbers(value: Any) -> list[float]:
    out: list[float] = []
    if isinstance(value, bool):
        return out
    if isinstance(value, (int, float)):
        out.append(float(value))
    elif isinstance(value, str):
        out.extend(float(m) for m in _NUM.findall(value))
    elif isinstance(value, Mapping):
        for v in value.values():
            out.extend(_numbers(v))
    elif isinstance(value, (list, tuple)):
        for v in value:
            out.extend(_numbers(v))
    return out


def _supported(claim: str, evidence: Sequence[float]) -> bool:
    c = float(claim)
    mantissa = claim.lower().split("e")[0].lstrip("+-")
    digits = len(mantissa.replace(".", "").lstrip("0")) or 1
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    for e in evidence:
        if math.isclose(c, e, rel_tol=1e-9, abs_tol=1e-12):
            return True
        if float(f"{e:.{digits}g}") == c or ("e" not in claim.lower() and round(e, decimals) == c):
            return True
    return False


def review_results(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """Problems with a round's results: claims not backed by tool evidence, and tasks where nothing succeeded.

    A number in a worker's summary must appear in (or be a rounding of a number in) the arguments or outputs of that
    worker's successful calls, or in the error message of a failed call it quotes; integers 0-10 without a decimal
    point are exempt (counts and ordinals in prose).
    Calls a person rejected are not problems (the person decided), calls that failed or were denied are.
    """
    issues = []
    for r in results:
        who = f"{r['role']} ({r['task_id']})"
        if r["status"] == "turn_limit":
            issues.append(f"{who}: {r['summary']}")
        ev = r.get("evidence", [])
        ok = [e for e in ev if e["status"] == "ok"]
        bad = [e for e in ev if e["status"] in ("error", "denied")]
        if ev and not ok and bad:
            issues.append(
                f"{who}: no tool call succeeded (" + "; ".join(f"{e['tool']}: {e['message']}" for e in bad) + ")"
            )
        # A summary may quote a failure message (numbers included) without claiming a result.
        backing = _numbers([[e["args"], e["result"]] for e in ok] + [e["message"] for e in bad])
        summary = r.get("summary") or ""
        for claim in _NUM.findall(summary):
            if "." not in claim and "e" not in claim.lower() and abs(float(claim)) <= 10:
                continue
            if not _supported(claim, backing):
                issues.append(f"{who}: the claim {claim} is not in the tool outputs")
    return issues


def reviewer(state: LabState, config) -> Command[Literal["supervisor", "answer"]]:
    deps = _deps(config)
    ctx = deps.ctx
    rnd = state.get("round", 1)
    results = [r for r in state.get("results", []) if r["round"] == rnd]
    issues = review_results(results)
    stopped = any(r["status"] == "stopped" for r in results) or bool(ctx.ledger.stopped(ctx.run_id))
    ctx.log(
        "review",
        actor="reviewer",
        role="reviewer",
        decision="ok" if not issues else "issues",
        detail={"round": rnd, "issues": issues, "stopped": stopped},
        dedupe=f"{ctx.run_id}:review:r{rnd}",
    )
    _emit({"event": "review", "round": rnd, "issues": issues})
    if stopped:
        return Command(update={"notes": issues, "status": "stopped"}, goto="answer")
    if not issues:
        return Command(update={"notes": []}, goto="answer")
    replans = list(state.get("replans", []))
    if rnd < deps.max_rounds:
        reason = "; ".join(issues)
        ctx.log(
            "replan",
            actor="reviewer",
            role="reviewer",
            detail={"round": rnd, "reason": reason},
            dedupe=f"{ctx.run_id}:replan:r{rnd}",
        )
        return Command(update={"replans": [*replans, reason], "notes": issues}, goto="supervisor")
    payload = {
        "kind": "review",
        "run_id": ctx.run_id,
        "round": rnd,
        "issues": issues,
        "reason": f"{len(issues)} problem(s) remain after {rnd} round(s)",
        "options": ["accept", "stop", {"replan": "guidance for the supervisor"}],
    }
    answer = ask_human(ctx, idempotency_key(ctx.run_id, f"review/r{rnd}", ""), "review", payload)
    ctx.log(
        "review_answer",
        actor="reviewer",
        role="reviewer",
        approver=ctx.approver,
        decision=answer if isinstance(answer, str) else "replan",
        detail={"answer": answer},
        dedupe=f"{ctx.run_id}:review_answer:r{rnd}",
    )
    if isinstance(answer, Mapping) and answer.get("replan"):
        return Command(
            update={"replans": [*replans, f"a person asked: {answer['replan']}"], "notes": issues}, goto="supervisor"
        )
    if answer == "accept":
        return Command(update={"notes": issues}, goto="answer")
    return Command(update={"notes": issues, "status": "stopped"}, goto="answer")


# -- answer --------------------------------------------------------------------------------------------------------
def answer(state: LabState, config) -> dict[str, Any]:
    deps = _deps(config)
    ctx, planner = deps.ctx, deps.planner
    rnd = state.get("round", 1)
    status = state.get("status") or "answered"
    text = state.get("answer")
    if not text:
        results = [r for r in state.get("results", []) if r["round"] == rnd]
        notes = state.get("notes", [])
        request = state["request"]
        reply = governed_llm(
            ctx,
            "supervisor",
            f"answer/r{rnd}",
            lambda cap: planner.compose_answer(request, results, notes, max_tokens=cap),
            estimate_tokens=estimate_tokens(request, results, notes) + _ANSWER_PROMPT_TOKENS,
            reply_tokens=_REPLY_TOKENS,
            label=planner.label,
        )
        if reply is None:
            status = "stopped"
            text = "Stopped at a budget pause before the answer was written. Results:\n" + "\n".join(
                f"- {r['role']}: {r['summary']}" for r in results
            )
        else:
            text = reply["content"]
    status = _outcome(status, state, deps.planner.offline)
    if status == "stopped" and not text.lower().startswith("stopped"):
        text = "Stopped before finishing (budget or a person's decision).\n" + text
    ctx.log(
        "answer",
        actor="supervisor",
        role="supervisor",
        result={"answer": text},
        detail={"status": status, "planner": state.get("planner")},
        dedupe=f"{ctx.run_id}:answer",
    )
    _emit({"event": "answer", "status": status})
    return {"answer": text, "status": status}


def _outcome(status: str, state: LabState, offline: bool) -> str:
    """The run's status from what happened: ``needs_input`` when the offline planner could plan no call (the request
    lacks what a tool needs), ``failed`` when calls were made and none succeeded (calls a person rejected do not
    count: the answer reports the decision), else ``status`` (``answered``, or ``stopped``)."""
    if status != "answered":
        return status
    rnd = state.get("round", 1)
    results = [r for r in state.get("results", []) if r["round"] == rnd]
    if not results:
        return "needs_input" if offline and not state.get("tasks") else status
    evidence = [e for r in results for e in r.get("evidence", []) if e["status"] != "rejected"]
    if not evidence or any(e["status"] == "ok" for e in evidence):
        return status
    return "failed"


def build_graph(checkpointer: Any = None):
    """Compile the lab graph; pass a checkpointer (e.g. :func:`labwright.agents.runs.open_checkpointer`) for
    interrupts and resume."""
    g = StateGraph(LabState, input_schema=LabInput, output_schema=LabOutput)
    g.add_node("supervisor", supervisor)
    g.add_node("worker", worker)
    g.add_node("reviewer", reviewer)
    g.add_node("answer", answer)
    g.add_edge(START, "supervisor")
    g.add_edge("worker", "reviewer")
    g.add_edge("answer", END)
    return g.compile(checkpointer=checkpointer)
