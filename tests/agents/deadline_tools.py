"""Test-only tools that never finish on their own: JAX compiled code and an SQLite query (C code a thread cannot stop).

Imported by :mod:`test_deadlines` from this file; the worker process that runs them imports the same file. Each
writes its process id first, so a test can check the process was really stopped.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from labwright.metering import current_call
from labwright.tools.fields import ToolModel
from labwright.tools.registry import _REGISTRY, Cost, tool
from pydantic import Field

NAMES = ("lw_spin_jax", "lw_spin_sqlite", "lw_scope")


class SpinIn(ToolModel):
    pid_file: str = Field(description="file the worker's process id is written to")


class SpinOut(ToolModel):
    value: float


def _note_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))


@tool(name="lw_spin_jax", cost=lambda inp: Cost(seconds=0.01))
def spin_jax(inp: SpinIn) -> SpinOut:
    """A jitted while loop whose state converges to 2 and whose condition asks for 10: it never ends."""
    import jax
    import jax.numpy as jnp

    _note_pid(inp.pid_file)
    loop = jax.jit(lambda x: jax.lax.while_loop(lambda v: v < 10.0, lambda v: v * 0.5 + 1.0, x))
    return SpinOut(value=float(loop(jnp.float32(0.0))))


@tool(name="lw_spin_sqlite", cost=lambda inp: Cost(seconds=0.01))
def spin_sqlite(inp: SpinIn) -> SpinOut:
    """An unbounded recursive query counted inside SQLite's C code."""
    _note_pid(inp.pid_file)
    conn = sqlite3.connect(":memory:")
    sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    return SpinOut(value=float(conn.execute(sql).fetchone()[0]))


class ScopeOut(ToolModel):
    key: str = Field(description="idempotency key of the governed call the tool runs in ('' outside one)")
    pid: int


@tool(name="lw_scope", cost=lambda inp: Cost(seconds=0.01))
def scope(inp: SpinIn) -> ScopeOut:
    """The governed call this tool runs in, as the tool sees it, and the process it runs in."""
    del inp
    call = current_call()
    return ScopeOut(key=call.key if call else "", pid=os.getpid())


def unregister() -> None:
    for name in NAMES:
        _REGISTRY.pop(name, None)
