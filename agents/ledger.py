"""The run ledger: results stored by idempotency key, pending questions, budgets and LLM replies, in SQLite (or
PostgreSQL when ``LABWRIGHT_DATABASE_URL`` is set).

LangGraph re-runs an interrupted node from its top, and a process killed mid-node re-runs it too. The ledger is what
makes that safe: a tool call whose result is stored under its key is not repeated, a question already put to a
person is put again with the *same* payload (so resume values still line up), and an LLM reply already received is
replayed instead of re-requested (same tool calls, no tokens counted twice). Usage for budgets is summed from it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ._tables import Tables
from .audit import canonical_json
from .budget import Breach, Budget, Usage, check

__all__ = ["Ledger", "StoredResult", "StoredAsk"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    step_key TEXT NOT NULL,
    role TEXT,
    tool TEXT NOT NULL,
    args TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    message TEXT NOT NULL,
    approver TEXT,
    seconds REAL NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS results_run ON results(run_id);
CREATE TABLE IF NOT EXISTS asks (
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    run_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    answer TEXT,
    ns TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (key, kind)
);
CREATE INDEX IF NOT EXISTS asks_run ON asks(run_id);
-- Who answered a question, when a local front door (the approval inbox) recorded the answer on a person's behalf:
-- written by that process beside the answer, never read from the answer itself.
CREATE TABLE IF NOT EXISTS ask_answerers (
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    answered_by TEXT NOT NULL,
    PRIMARY KEY (key, kind)
);
CREATE TABLE IF NOT EXISTS budgets (
    run_id TEXT PRIMARY KEY,
    budget TEXT NOT NULL,
    started REAL NOT NULL,
    stopped TEXT
);
CREATE TABLE IF NOT EXISTS llm (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    reply TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_run ON llm(run_id);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    planner TEXT NOT NULL,
    policy TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
"""


class StoredResult(dict):
    """A stored call outcome (a dict with keys of the ``results`` table, JSON fields decoded)."""


class StoredAsk(dict):
    """A stored question: ``payload``, ``answer`` (``None`` while pending), ``ns`` (LangGraph task namespace)."""


class Ledger(Tables):
    """The ledger in the SQLite file at ``path``, or in the PostgreSQL database when ``path`` is a
    ``postgresql://`` URL (default ``settings.ledger_target``: the URL when ``LABWRIGHT_DATABASE_URL`` is set, else
    ``LABWRIGHT_HOME/ledger.sqlite``); thread-, process- and host-safe like
    :class:`~labwright.agents.audit.AuditLog`."""

    schema = _SCHEMA
    # time.time() needs a double: PostgreSQL's REAL is 4 bytes (about 2-minute steps at today's epoch seconds).
    pg_schema = _SCHEMA.replace(" REAL ", " DOUBLE PRECISION ")
    namespace = "ledger"

    def __init__(self, path: str | Path | None = None):
        if path is None:
            from ..settings import get_settings

            path = get_settings().ledger_target
        super().__init__(path)

    # -- results -------------------------------------------------------------------------------------------------
    def get_result(self, key: str) -> StoredResult | None:
        row = self._one(
            "SELECT key, run_id, step_key, role, tool, args, status, result, message, approver, seconds "
            "FROM results WHERE key = ?",
            (key,),
        )
        if row is None or row[6] == "running":  # a reservation, not an outcome
            return None
        names = ("key", "run_id", "step_key", "role", "tool", "args", "status", "result", "message", "approver")
        out = StoredResult(zip(names, row[:10]))
        out["seconds"] = row[10]
        out["args"] = json.loads(out["args"])
        out["result"] = json.loads(out["result"]) if out["result"] is not None else None
        return out

    def put_result(
        self,
        *,
        key: str,
        run_id: str,
        step_key: str,
        role: str,
        tool: str,
        args: Any,
        status: str,
        result: Any,
        message: str,
        approver: str | None,
        seconds: float,
    ) -> StoredResult:
        """Store an outcome unless one is stored under ``key`` already; return the stored one (first write wins).

        A reservation (status ``running``, see :meth:`reserve`) is replaced by the outcome."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "args = excluded.args, status = excluded.status, result = excluded.result, "
                "message = excluded.message, approver = excluded.approver, seconds = excluded.seconds "
                "WHERE results.status = 'running'",
                (
                    key,
                    run_id,
                    step_key,
                    role,
                    tool,
                    canonical_json(args),
                    status,
                    None if result is None else canonical_json(result),
                    message,
                    approver,
                    float(seconds),
                    time.time(),
                ),
            )
        stored = self.get_result(key)
        assert stored is not None
        return stored

    def reserve(
        self,
        *,
        key: str,
        run_id: str,
        step_key: str,
        role: str,
        tool: str,
        seconds: float,
        tokens: int = 0,
        force: bool = False,
    ) -> Breach | None:
        """Claim budget for one tool call before it runs: atomically check the run's limits against its usage
        (reservations included) and record a ``running`` row, so parallel workers can never overrun a limit
        together. Returns the :class:`Breach` instead when the call would cross a limit (unless ``force``, used once a
        person extended the budget). A key already reserved or finished is not counted again. ``tokens``, the LLM
        tokens the call is estimated to spend, are checked against what the token budget leaves (they are counted
        when the tool's metered requests report them, see :mod:`labwright.metering`)."""
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone():
                return None
            if not force:
                limits = self._limits(conn, run_id)
                usage = self._usage(conn, run_id)
                breach = check(limits, usage, tool_calls=1, tool_seconds=seconds, llm_tokens=tokens)
                if breach is not None:
                    return breach
            conn.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, '{}', 'running', NULL, 'running', NULL, ?, ?)",
                (key, run_id, step_key, role, tool, float(seconds), time.time()),
            )
        return None

    def resize(self, key: str, *, seconds: float, tokens: int = 0, force: bool = False) -> Breach | None:
        """Change a reservation to a new estimate (an approval edited the call's arguments): checked against the
        limits like :meth:`reserve`, with the call's old share taken out first. No-op once an outcome is stored."""
        with self._tx() as conn:
            row = conn.execute("SELECT run_id, seconds FROM results WHERE key = ? AND status = 'running'", (key,))
            row = row.fetchone()
            if row is None:
                return None
            run_id, old = row
            if not force:
                limits = self._limits(conn, run_id)
                used = self._usage(conn, run_id)
                used = used.model_copy(
                    update={"tool_calls": used.tool_calls - 1, "tool_seconds": used.tool_seconds - float(old)}
                )
                breach = check(limits, used, tool_calls=1, tool_seconds=seconds, llm_tokens=tokens)
                if breach is not None:
                    return breach
            conn.execute("UPDATE results SET seconds = ? WHERE key = ? AND status = 'running'", (float(seconds), key))
        return None

    @staticmethod
    def _limits(conn: Any, run_id: str) -> Budget:
        row = conn.execute("SELECT budget FROM budgets WHERE run_id = ?", (run_id,)).fetchone()
        return Budget.model_validate_json(row[0]) if row else Budget()

    def release(self, key: str) -> None:
        """Drop a reservation that will not be used (an outcome, once stored, is never dropped)."""
        with self._tx() as conn:
            conn.execute("DELETE FROM results WHERE key = ? AND status = 'running'", (key,))

    def results(self, run_id: str) -> list[StoredResult]:
        keys = [r[0] for r in self._all("SELECT key FROM results WHERE run_id = ? ORDER BY created", (run_id,))]
        return [r for k in keys if (r := self.get_result(k)) is not None]

    # -- questions put to a person ---------------------------------------------------------------------------------
    def get_ask(self, key: str, kind: str) -> StoredAsk | None:
        row = self._one("SELECT payload, answer, ns FROM asks WHERE key = ? AND kind = ?", (key, kind))
        if row is None:
            return None
        return StoredAsk(payload=json.loads(row[0]), answer=None if row[1] is None else json.loads(row[1]), ns=row[2])

    def put_ask(self, *, key: str, kind: str, run_id: str, payload: Any, ns: str | None) -> StoredAsk:
        """Record a question (first write wins, so a re-run asks with the original payload) and return it."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO asks (key, kind, run_id, payload, answer, ns, created) "
                "VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT DO NOTHING",
                (key, kind, run_id, canonical_json(payload), ns, time.time()),
            )
        stored = self.get_ask(key, kind)
        assert stored is not None
        return stored

    def answer_ask(self, key: str, kind: str, answer: Any, ns: str | None, *, answered_by: str | None = None) -> None:
        """Record the answer (first answer wins); ``answered_by``: the identity a local front door vouches for."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE asks SET answer = ?, ns = ? WHERE key = ? AND kind = ? AND answer IS NULL",
                (canonical_json(answer), ns, key, kind),
            )
            if answered_by and cur.rowcount:
                conn.execute(
                    "INSERT INTO ask_answerers (key, kind, answered_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (key, kind, answered_by),
                )

    def answered_by(self, key: str, kind: str) -> str | None:
        """The identity recorded with the answer by the front door that took it, if any."""
        row = self._one("SELECT answered_by FROM ask_answerers WHERE key = ? AND kind = ?", (key, kind))
        return row[0] if row else None

    def pending_asks(self, run_id: str) -> list[StoredAsk]:
        rows = self._all(
            "SELECT key, kind, payload FROM asks WHERE run_id = ? AND answer IS NULL ORDER BY created", (run_id,)
        )
        return [StoredAsk(key=k, kind=kind, payload=json.loads(p)) for k, kind, p in rows]

    # -- budgets and usage -----------------------------------------------------------------------------------------
    def budget(self, run_id: str, default: Budget | None = None) -> Budget:
        """The run's current limits; the first call stores ``default`` (and starts the wall clock)."""
        row = self._one("SELECT budget FROM budgets WHERE run_id = ?", (run_id,))
        if row is None:
            with self._tx() as conn:
                conn.execute(
                    "INSERT INTO budgets (run_id, budget, started) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (run_id, (default or Budget()).model_dump_json(), time.time()),
                )
            row = self._one("SELECT budget FROM budgets WHERE run_id = ?", (run_id,))
        return Budget.model_validate_json(row[0])

    def set_budget(self, run_id: str, budget: Budget) -> None:
        self.budget(run_id, budget)
        with self._tx() as conn:
            conn.execute("UPDATE budgets SET budget = ? WHERE run_id = ?", (budget.model_dump_json(), run_id))

    def mark_stopped(self, run_id: str, reason: str) -> None:
        self.budget(run_id)
        with self._tx() as conn:
            conn.execute("UPDATE budgets SET stopped = ? WHERE run_id = ? AND stopped IS NULL", (reason, run_id))

    def stopped(self, run_id: str) -> str | None:
        row = self._one("SELECT stopped FROM budgets WHERE run_id = ?", (run_id,))
        return row[0] if row else None

    def usage(self, run_id: str) -> Usage:
        """Tool calls and tool-seconds of calls that ran or hold a reservation, LLM tokens, wall time."""
        with self._snapshot() as conn:
            return self._usage(conn, run_id)

    @staticmethod
    def _usage(conn: Any, run_id: str) -> Usage:
        # A reservation counts its estimated seconds until the outcome replaces them with the measured ones.
        calls, secs = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(seconds), 0) FROM results "
            "WHERE run_id = ? AND status IN ('ok', 'error', 'running')",
            (run_id,),
        ).fetchone()
        (tokens,) = conn.execute("SELECT COALESCE(SUM(tokens), 0) FROM llm WHERE run_id = ?", (run_id,)).fetchone()
        started = conn.execute("SELECT started FROM budgets WHERE run_id = ?", (run_id,)).fetchone()
        wall = time.time() - started[0] if started else 0.0
        return Usage(tool_calls=calls, tool_seconds=secs, llm_tokens=tokens, wall_seconds=wall)

    # -- LLM replies -----------------------------------------------------------------------------------------------
    def get_reply(self, key: str) -> dict[str, Any] | None:
        row = self._one("SELECT reply FROM llm WHERE key = ?", (key,))
        return json.loads(row[0]) if row else None

    def put_reply(self, *, key: str, run_id: str, reply: Any, tokens: int) -> dict[str, Any]:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO llm VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (key, run_id, canonical_json(reply), int(tokens), time.time()),
            )
        stored = self.get_reply(key)
        assert stored is not None
        return stored

    # -- runs ------------------------------------------------------------------------------------------------------
    def register_run(self, run_id: str, *, request: str, planner: str, policy: Any) -> None:
        """Record a run (first write wins: resuming keeps the original request and policy)."""
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, 'running', ?, ?) ON CONFLICT DO NOTHING",
                (run_id, request, planner, canonical_json(policy), now, now),
            )

    def set_run_status(self, run_id: str, status: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE runs SET status = ?, updated = ? WHERE run_id = ?", (status, time.time(), run_id))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        row = self._one(
            "SELECT run_id, request, planner, policy, status, created, updated FROM runs WHERE run_id = ?", (run_id,)
        )
        return None if row is None else _run_dict(row)

    def list_runs(self) -> list[dict[str, Any]]:
        """Runs, newest activity first."""
        rows = self._all(
            "SELECT run_id, request, planner, policy, status, created, updated FROM runs ORDER BY updated DESC"
        )
        return [_run_dict(r) for r in rows]

    # -- retention -------------------------------------------------------------------------------------------------
    def forget(self, run_ids: list[str]) -> None:
        """Delete everything stored for ``run_ids`` (used by ``runs prune``; the audit log is kept)."""
        if not run_ids:
            return
        marks = ", ".join("?" * len(run_ids))
        with self._tx() as conn:
            for table in ("results", "asks", "budgets", "llm", "runs"):
                conn.execute(f"DELETE FROM {table} WHERE run_id IN ({marks})", tuple(run_ids))


def _run_dict(row: tuple) -> dict[str, Any]:
    keys = ("run_id", "request", "planner", "policy", "status", "created", "updated")
    out = dict(zip(keys, row))
    out["policy"] = json.loads(out["policy"])
    return out
