"""``labwright mcp`` (an MCP server for one role) and ``labwright serve`` (the approval inbox and run viewer)."""

from __future__ import annotations

import argparse
import os

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser(
        "mcp",
        help="serve labwright's tools over MCP (stdio or streamable HTTP) for one role",
        description="An MCP server: every tool of ROLE, each call governed (allowlist, approvals, budget, audit).",
    )
    m.add_argument("--role", required=True, help="the role the client acts as, e.g. electrochemist")
    m.add_argument("--client", help="client identity for the audit log (default: 'mcp-client')", default="mcp-client")
    m.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    m.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1: this machine only)")
    m.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    m.add_argument("--approval-timeout", type=float, default=3600.0, help="seconds a call waits for a person")
    m.set_defaults(func=_mcp)

    s = sub.add_parser(
        "serve",
        help="the approval inbox and run viewer in a browser (127.0.0.1)",
        description="A local web page: pending approvals (approve / edit / reject), runs, reports, audit verify.",
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8766)
    s.add_argument("--identity", help="who answers (default: LABWRIGHT_APPROVER or the OS user)")
    s.add_argument("--token", help="access token (default: LABWRIGHT_INBOX_TOKEN or a new random one, printed)")
    s.set_defaults(func=_serve)


def _mcp(args: argparse.Namespace) -> int:
    from ._mcp import McpSession, serve_http, serve_stdio

    session = McpSession(args.role, args.client, approval_timeout_s=args.approval_timeout)
    if args.http:
        serve_http(session, args.host, args.port)
    else:
        serve_stdio(session)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ._inbox import serve

    serve(args.host, args.port, token=args.token or os.environ.get("LABWRIGHT_INBOX_TOKEN"), identity=args.identity)
    return 0
