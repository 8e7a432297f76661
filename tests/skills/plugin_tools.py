"""Trivial tools and skills registered by test workflows (imported through a workflow's ``imports:``).

``lw_test_count`` appends its label to a log file, so tests can count how often each step really called a tool,
across processes (a run killed with SIGKILL and resumed in another process).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from labwright.skills import SkillContext, skill
from labwright.skills._skill import StepSkipped
from labwright.tools.fields import ToolModel
from labwright.tools.registry import Cost, tool
from pydantic import Field


class CountIn(ToolModel):
    label: str
    log_path: str
    sleep_s: float = Field(default=0.0, ge=0)


class CountOut(ToolModel):
    label: str
    n: int = Field(description="calls with this label so far, this one included")


def _log(path: str, text: str) -> None:
    with open(path, "a") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@tool(name="lw_test_count", cost=lambda inp: Cost(seconds=inp.sleep_s))
def count(inp: CountIn) -> CountOut:
    """Append the label to a log (started, then done after sleeping) and return the call count."""
    _log(inp.log_path, f"start {inp.label} {time.time():.6f}")
    time.sleep(inp.sleep_s)
    # A test holds the call labelled LW_TEST_HOLD_LABEL here while the file LW_TEST_HOLD exists (then kills us).
    hold = os.environ.get("LW_TEST_HOLD") if os.environ.get("LW_TEST_HOLD_LABEL") == inp.label else None
    deadline = time.time() + 60
    while hold and Path(hold).exists() and time.time() < deadline:
        time.sleep(0.05)
    _log(inp.log_path, f"done {inp.label} {time.time():.6f}")
    n = sum(1 for line in Path(inp.log_path).read_text().splitlines() if line.startswith(f"done {inp.label} "))
    return CountOut(label=inp.label, n=n)


@tool(name="lw_test_store", side_effect="writes_store", cost=lambda inp: Cost(seconds=0.001))
def store(inp: CountIn) -> CountOut:
    """Like lw_test_count but declared as writing to a store (so the policy asks before it runs)."""
    return count(inp)


class StepIn(ToolModel):
    label: str
    log_path: str
    sleep_s: float = Field(default=0.0, ge=0)
    value: float = 1.0


class StepOut(ToolModel):
    value: float = Field(description="input value + 1")
    log_path: str


@skill("test.count", version="2", tools=("lw_test_count",))
def count_step(ctx: SkillContext, inp: StepIn) -> StepOut:
    """Count one call, add one to the value."""
    out = ctx.call("lw_test_count", {"label": inp.label, "log_path": inp.log_path, "sleep_s": inp.sleep_s})
    art = ctx.save_json("count.json", {"label": out.label, "n": out.n, "value": inp.value + 1})
    ctx.claim(f"{inp.label} value", value=inp.value + 1, artifacts=[art])
    return StepOut(value=inp.value + 1, log_path=inp.log_path)


@skill("test.store", version="1", tools=("lw_test_store",))
def store_step(ctx: SkillContext, inp: StepIn) -> StepOut:
    """Write to a (pretend) store: asks for approval through the tool-level gate."""
    ctx.call("lw_test_store", {"label": inp.label, "log_path": inp.log_path})
    return StepOut(value=inp.value, log_path=inp.log_path)


class StoreManyIn(ToolModel):
    label: str
    log_path: str
    calls: int = Field(default=1, ge=1, description="lw_test_store calls the step makes")
    estimated_calls: int = Field(default=1, ge=0, description="calls the step's estimate counts")


def _store_many_cost(inp: StoreManyIn) -> Cost:
    return Cost(seconds=0.001 * inp.estimated_calls)  # lw_test_store's own estimate per call


@skill("test.store_many", version="1", tools=("lw_test_store",), estimate=_store_many_cost)
def store_many_step(ctx: SkillContext, inp: StoreManyIn) -> StepOut:
    """Write to a (pretend) store ``calls`` times; its estimate covers ``estimated_calls`` of them."""
    for i in range(inp.calls):
        ctx.call("lw_test_store", {"label": f"{inp.label}{i}", "log_path": inp.log_path})
    return StepOut(value=float(inp.calls), log_path=inp.log_path)


class MaybeIn(StepIn):
    skip: bool = False


@skill("test.maybe", version="1", tools=("lw_test_count",))
def maybe_step(ctx: SkillContext, inp: MaybeIn) -> StepOut:
    """Like test.count, but skips itself (with a reason) when told to."""
    if inp.skip:
        raise StepSkipped(f"{inp.label} was told to skip")
    ctx.call("lw_test_count", {"label": inp.label, "log_path": inp.log_path})
    return StepOut(value=inp.value + 1, log_path=inp.log_path)


class TextOut(ToolModel):
    value: str
    log_path: str


@skill("test.text", version="1")
def text_step(ctx: SkillContext, inp: StepIn) -> TextOut:
    """Emit the value as text (to make a contract mismatch with test.count downstream)."""
    return TextOut(value=str(inp.value), log_path=inp.log_path)


class SumIn(ToolModel):
    values: list[float] = Field(min_length=1)


class SumOut(ToolModel):
    value: float


@skill("test.sum", version="1")
def sum_step(ctx: SkillContext, inp: SumIn) -> SumOut:
    """Add up values gathered from several upstream steps (a list of sources fills an array field)."""
    art = ctx.save_json("sum.json", {"values": inp.values, "sum": sum(inp.values)})
    ctx.claim("sum", value=sum(inp.values), artifacts=[art])
    return SumOut(value=sum(inp.values))
