"""``labwright chat``: a terminal conversation with the supervisor.

Worker progress streams as it happens (plans, tool calls with their governance outcome, reviews). When a run pauses,
every pending question is shown and answered inline: approvals with ``a``/``e``/``r`` (approve, edit the arguments as
JSON, reject), budget pauses with ``x``/``s`` (extend, stop), reviews with ``accept``/``stop``/``replan``. All answers
of one pause go back in a single resume, by id. Commands: ``/runs``, ``/audit [RUN]``, ``/budget``, ``/help``,
``/quit``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ..errors import LabwrightError
from .lab import Lab, LabReply
from .runs import Pending

__all__ = ["ChatSession", "render_event"]

HELP = "Commands: /runs  /audit [RUN]  /budget  /help  /quit. Anything else is a message to the supervisor."


def render_event(console: Console, event: dict[str, Any]) -> None:
    """One line of live progress for a streamed graph event."""
    kind = event.get("event")
    if kind == "plan":
        tasks = ", ".join(f"{t['role']}" for t in event["tasks"]) or "no tasks"
        console.print(f"[bold cyan]supervisor[/] round {event['round']} ({escape(event['planner'])}): {tasks}")
    elif kind == "tool":
        colour = {"ok": "green", "error": "red", "denied": "red", "rejected": "yellow", "stopped": "yellow"}
        c = colour.get(event["status"], "white")
        extra = " (stored result)" if event.get("cached") else ""
        msg = "" if event["status"] == "ok" else f": {escape(event['message'])}"
        console.print(f"  [magenta]{event['role']}[/] {event['tool']} -> [{c}]{event['status']}[/]{extra}{msg}")
    elif kind == "task_done":
        console.print(f"  [magenta]{event['role']}[/] finished ({event['status']})")
    elif kind == "review":
        issues = event.get("issues") or []
        text = "claims match the evidence" if not issues else escape("; ".join(issues))
        console.print("[bold cyan]reviewer[/] " + text)


class ChatSession:
    """The chat loop with injectable input and console (tests drive it with scripted input)."""

    def __init__(self, lab: Lab, *, console: Console | None = None, ask: Callable[[str], str] | None = None):
        self.lab = lab
        self.console = console or Console()
        self.ask = ask or (lambda prompt: self.console.input(prompt))

    def run(self) -> int:
        self.console.print(Panel(f"labwright chat — planner: [bold]{self.lab.planner_label}[/]\n{HELP}"))
        while True:
            try:
                line = self.ask("[bold]you>[/] ").strip()
            except (EOFError, KeyboardInterrupt):
                return 0
            if not line:
                continue
            if line in ("/quit", "/exit"):
                return 0
            try:
                if line.startswith("/"):
                    self.command(line)
                else:
                    self.converse(line)
            except LabwrightError as err:  # bad input, an unreachable model, an unknown run: report and go on
                self.console.print(f"[red]error:[/] {escape(str(err))}")

    def command(self, line: str) -> None:
        name, *rest = line.split()
        if name == "/help":
            self.console.print(HELP)
        elif name == "/runs":
            table = Table("run", "status", "planner", "request")
            for r in self.lab.runs.list()[:20]:
                table.add_row(r["run_id"], r["status"], escape(r["planner"]), escape(r["request"][:60]))
            self.console.print(table)
        elif name == "/audit":
            run_id = rest[0] if rest else self.lab.last_run
            table = Table("seq", "event", "role", "tool", "decision", "approver")
            for r in self.lab.runs.audit.rows(run_id):
                table.add_row(str(r.seq), r.event, r.role or "", r.tool or "", r.decision or "", r.approver or "")
            self.console.print(table)
            self.console.print(self.lab.verify_audit().summary())
        elif name == "/budget":
            if not self.lab.last_run:
                self.console.print("no run yet")
                return
            view = self.lab.runs.view(self.lab.last_run)
            table = Table("limit", "used", "allowed")
            table.add_row("tool calls", str(view.usage.tool_calls), str(view.budget.max_tool_calls))
            table.add_row("tool seconds", f"{view.usage.tool_seconds:.3f}", str(view.budget.max_tool_seconds))
            table.add_row("LLM tokens", str(view.usage.llm_tokens), str(view.budget.max_llm_tokens))
            table.add_row("wall seconds", f"{view.usage.wall_seconds:.1f}", str(view.budget.max_wall_seconds))
            self.console.print(table)
        else:
            self.console.print(f"unknown command {name}. {HELP}")

    def converse(self, message: str) -> LabReply:
        reply = self.lab.chat(message, on_event=lambda e: render_event(self.console, e))
        while reply.pending:
            answers = {p.id: self.answer_for(p) for p in reply.pending}
            reply = self.lab.answer(answers, on_event=lambda e: render_event(self.console, e))
        title = escape(f"answer ({reply.status}) — {reply.planner}")
        self.console.print(Panel(Markdown(reply.answer or ""), title=title))
        return reply

    def answer_for(self, p: Pending) -> Any:
        body = json.dumps(p.payload.get("args") or p.payload.get("breach") or p.payload.get("issues"), indent=2)
        self.console.print(
            Panel(
                escape(f"{p.reason}\n{body}"),
                title=escape(f"{p.kind}: {p.role or ''} {p.tool or ''} [{p.id[:8]}]"),
                style="yellow",
            )
        )
        if p.kind == "approval":
            while True:
                choice = self.ask("approve / edit / reject [a/e/r]: ").strip().lower()
                if choice in ("a", "approve"):
                    return "approve"
                if choice in ("r", "reject"):
                    why = self.ask("reason (optional): ").strip()
                    return {"reject": why} if why else "reject"
                if choice in ("e", "edit"):
                    text = self.ask("new arguments as JSON: ")
                    try:
                        args = json.loads(text)
                    except json.JSONDecodeError as err:
                        self.console.print(f"[red]not JSON:[/] {err.msg}")
                        continue
                    if isinstance(args, dict):
                        return {"edit": args}
                    self.console.print("[red]arguments must be a JSON object[/]")
        if p.kind == "budget":
            choice = self.ask("extend or stop [x/s]: ").strip().lower()
            return "extend" if choice in ("x", "extend", "e") else "stop"
        choice = self.ask("accept / stop / replan [a/s/r]: ").strip().lower()
        if choice in ("r", "replan"):
            return {"replan": self.ask("guidance for the supervisor: ")}
        return "accept" if choice in ("a", "accept") else "stop"
