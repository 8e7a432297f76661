"""``labwright mcp``: every tool of one role over the Model Context Protocol (stdio or streamable HTTP).

An MCP client (a desktop assistant, an IDE, another agent) acts as a *role* named when the server starts, under a
*client identity* that every audit row of the session carries. Each ``tools/call`` goes through the same governed
path as the agents and the workflows (:func:`labwright.agents.governance.governed_call`): the role's allowlist,
validation, the cost estimate, the approval policy, budgets, idempotency and the hash-chained audit. A call that
needs a person waits — the question is in the ledger, where the approval inbox (``labwright serve``) or
``labwright runs approve`` answers it — and then runs, or comes back rejected; a denial comes back as a tool error the
model can read. One server session is one run (``mcp-<client>-<time>``).

Resources: ``labwright://runs`` (runs, newest first), ``labwright://runs/{id}`` (a run's status and pending
questions), ``labwright://runs/{id}/report`` (a workflow run's Markdown report) and ``labwright://knowledge/stats``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import anyio

from ..agents.governance import ApprovalRequired, RunContext, ToolOutcome, governed_call
from ..agents.roles import get_role
from ..errors import InvalidInput, NotFound
from ..tools.registry import get_tool, list_tools

__all__ = ["McpSession", "build_server", "serve_stdio", "serve_http"]

POLL_SECONDS = 0.25


@dataclass
class McpSession:
    """One client's session: its role, identity and run, and the governed calls it makes.

    Parameters
    ----------
    role
        The role the client acts as (its allowlist applies to every call).
    client
        The client's identity, written into the audit log with each call.
    approval_timeout_s
        How long a call that needs a person waits for the answer before it comes back as an error.
    """

    role: str
    client: str
    approval_timeout_s: float = 3600.0
    ctx: RunContext = field(init=False)
    calls: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        get_role(self.role)  # UnknownRole names the roles that exist
        if not self.client or len(self.client) > 200 or not self.client.isprintable():
            raise InvalidInput("client", "a client identity is 1-200 printable characters")
        run_id = f"mcp-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.ctx = RunContext.open(run_id, principal=f"mcp:{self.client}")
        self.ctx.ledger.register_run(
            run_id,
            request=f"MCP session of {self.client} as {self.role}",
            planner="mcp",
            policy={**self.ctx.policy.model_dump(mode="json"), "auto_approve": str(self.ctx.policy.auto_approve)},
        )
        self.ctx.log(
            "session_start",
            actor=f"mcp:{self.client}",
            role=self.role,
            detail={"door": "mcp", "client": self.client, "role": self.role},
        )

    @property
    def run_id(self) -> str:
        return self.ctx.run_id

    def tool_names(self) -> list[str]:
        """Registered tools this role may call, sorted."""
        allowed = get_role(self.role).tools
        return [n for n in list_tools() if n in allowed or "*" in allowed]

    def describe_tools(self) -> list[dict[str, Any]]:
        """Name, description and JSON schema of each tool the client may call."""
        out = []
        for name in self.tool_names():
            spec = get_tool(name)
            out.append({"name": name, "description": spec.description, "input_schema": spec.input_schema})
        return out

    def call(self, name: str, args: dict[str, Any] | None, *, wait: bool = True) -> ToolOutcome:
        """A governed call; waits (blocking) for a person's answer when the policy asks for one."""
        step_key = f"mcp/{self.calls}"
        self.calls += 1
        deadline = time.monotonic() + self.approval_timeout_s
        while True:
            try:
                return governed_call(self.ctx, self.role, name, args or {}, step_key)
            except ApprovalRequired as req:
                key, kind = req.payload.get("ask_key"), req.payload.get("kind", "approval")
                if not wait or not key:
                    raise
                while (rec := self.ctx.ledger.get_ask(key, kind)) is None or rec["answer"] is None:
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"no answer to the {kind} question for {name} within {self.approval_timeout_s:g} s; "
                            f"it waits in run {self.run_id} (labwright serve, or labwright runs show {self.run_id})"
                        ) from None
                    time.sleep(POLL_SECONDS)


def _outcome_json(outcome: ToolOutcome) -> str:
    body = {"status": outcome.status, "message": outcome.message, "result": outcome.result}
    return json.dumps(body, default=str)


def _runs_listing() -> list[dict[str, Any]]:
    """Chat, MCP and workflow runs, newest activity first: the ledger's runs plus the workflow registry's."""
    from ..agents.ledger import Ledger
    from ..settings import get_settings
    from ..skills._run import list_runs

    ledger = Ledger(get_settings().ledger_target).list_runs()
    runs = [{**r, "kind": "mcp" if r.get("planner") == "mcp" else "chat"} for r in ledger]
    return sorted([*runs, *list_runs()], key=lambda r: -float(r.get("updated") or 0))


def _report(run_id: str) -> str:
    from ..settings import get_settings

    runs = get_settings().runs_dir.resolve()
    path = (runs / run_id / "report.md").resolve()
    if not path.is_relative_to(runs) or not path.is_file():
        raise NotFound(f"no report for run {run_id!r}")
    return path.read_text()


def build_server(session: McpSession):
    """An MCP low-level ``Server`` whose handlers call through ``session``."""
    import mcp_types as types
    from mcp.server.lowlevel import Server

    async def list_tools_(ctx, params):
        del ctx, params
        tools = [types.Tool(name=t["name"], description=t["description"], input_schema=t["input_schema"])
                 for t in session.describe_tools()]  # fmt: skip
        return types.ListToolsResult(tools=tools)

    async def call_tool_(ctx, params):
        del ctx
        try:
            outcome = await anyio.to_thread.run_sync(session.call, params.name, params.arguments)
        except TimeoutError as err:
            return types.CallToolResult(content=[types.TextContent(text=str(err))], is_error=True)
        return types.CallToolResult(
            content=[types.TextContent(text=_outcome_json(outcome))],
            is_error=not outcome.ok,
        )

    static = [
        ("labwright://runs", "runs", "Runs (chat, workflow, MCP), newest first", "application/json"),
        ("labwright://knowledge/stats", "knowledge", "Knowledge store statistics", "application/json"),
    ]

    async def list_resources_(ctx, params):
        del ctx, params
        resources = [types.Resource(uri=u, name=n, description=d, mime_type=m) for u, n, d, m in static]
        return types.ListResourcesResult(resources=resources)

    async def read_resource_(ctx, params):
        del ctx
        uri = str(params.uri)
        if uri == "labwright://runs":
            text, mime = json.dumps(_runs_listing(), default=str), "application/json"
        elif uri == "labwright://knowledge/stats":
            out = await anyio.to_thread.run_sync(session.call, "kg_stats", {}, False)
            text, mime = _outcome_json(out), "application/json"
        elif uri.startswith("labwright://runs/") and uri.endswith("/report"):
            text, mime = _report(uri.removeprefix("labwright://runs/").removesuffix("/report")), "text/markdown"
        elif uri.startswith("labwright://runs/"):
            run_id = uri.removeprefix("labwright://runs/")
            match = [r for r in _runs_listing() if r.get("run_id") == run_id]
            if not match:
                raise NotFound(f"no run {run_id!r}")
            text, mime = json.dumps(match[0], default=str), "application/json"
        else:
            raise NotFound(f"unknown resource {uri!r}")
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, text=text, mime_type=mime)])

    from .. import __version__

    return Server(
        "labwright",
        version=__version__,
        instructions=f"labwright tools for the {session.role} role; costly or writing calls wait for a person.",
        on_list_tools=list_tools_,
        on_call_tool=call_tool_,
        on_list_resources=list_resources_,
        on_read_resource=read_resource_,
    )


def serve_stdio(session: McpSession) -> None:
    """Serve over stdin/stdout until the client closes the pipe."""
    from mcp.server.stdio import stdio_server

    server = build_server(session)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def serve_http(session: McpSession, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp`` (127.0.0.1 by default: this machine only)."""
    import uvicorn

    app = build_server(session).streamable_http_app()
    uvicorn.run(app, host=host, port=port, log_level="warning")
