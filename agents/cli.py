"""``labwright chat``, ``labwright runs list|show|resume|approve|prune`` and ``labwright audit show|verify``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import InvalidInput
from ..settings import APPROVAL_RULE_HELP

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    chat = sub.add_parser("chat", help="talk to the supervisor agent", description="Terminal chat with the lab.")
    chat.add_argument("--auto-approve", metavar="RULE", help=APPROVAL_RULE_HELP)
    chat.add_argument("--max-tool-calls", type=int, help="tool calls per run before a budget pause")
    chat.add_argument("--max-llm-tokens", type=int, help="LLM tokens per run before a budget pause")
    chat.add_argument("--message", "-m", help="send one message, answer pauses interactively, then exit")
    chat.set_defaults(func=_chat)

    runs = sub.add_parser(
        "runs",
        help="list, show, resume, approve or prune runs (chat and workflow runs alike)",
        description="One list of runs: chat runs (`labwright chat`, Lab) and workflow runs (`labwright run`).",
    )
    rs = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    p = rs.add_parser("list", help="runs, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_runs_list)
    p = rs.add_parser("show", help="a run's status, answer, pending questions and usage")
    p.add_argument("run_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_runs_show)
    p = rs.add_parser("resume", help="continue a run (after a crash, or answering its questions)")
    p.add_argument("run_id")
    p.add_argument("--answer", help="JSON: one answer for all pending questions, or {id: answer}")
    p.set_defaults(func=_runs_resume)
    p = rs.add_parser("approve", help="answer pending questions (default: approve all)")
    p.add_argument("run_id")
    p.add_argument("--id", dest="pending_id", help="pending question id (default: all)")
    p.add_argument("--answer", default="approve", help="approve | reject | extend | stop | accept | JSON")
    p.set_defaults(func=_runs_approve)
    p = rs.add_parser("prune", help="delete old runs: checkpoints, and a workflow run's folder (the audit log is kept)")
    p.add_argument("--keep", type=int, help="keep the N most recent runs")
    p.add_argument("--older-than", help="delete runs idle longer than AGE (90s, 30m, 12h, 7d)")
    p.set_defaults(func=_runs_prune)

    audit = sub.add_parser("audit", help="show or verify the hash-chained audit log")
    au = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = au.add_parser("show", help="a run's audit events")
    p.add_argument("run_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_audit_show)
    p = au.add_parser(
        "verify",
        help="recompute the hash chain and check it against its anchor outside the database; list every problem "
        "(edited, deleted, forged rows, an emptied or replaced log, a damaged anchor) and exit 1 if there is one",
    )
    p.set_defaults(func=_audit_verify)

    db = sub.add_parser("db", help="move the audit log, ledger and checkpoints from the SQLite files to PostgreSQL")
    dbs = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = dbs.add_parser(
        "migrate",
        help="copy the SQLite audit log (chain verified before and after, hashes unchanged), ledger and checkpoints "
        "under LABWRIGHT_HOME into a PostgreSQL database, in one transaction",
    )
    p.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/db (then set it as "
                   "LABWRIGHT_DATABASE_URL)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="replace what a non-empty target database holds")
    p.set_defaults(func=_db_migrate)


def _db_migrate(args: argparse.Namespace) -> int:
    from ._migrate import migrate_to_postgres

    report = migrate_to_postgres(args.to, force=args.force)
    ledger = sum(report.ledger_rows.values())
    print(
        f"migrated to {report.target}: {report.audit_rows} audit rows (head {report.audit_head[:16] or '-'}, "
        f"verified), {ledger} ledger rows, {report.checkpoints} checkpoints of {report.threads} run(s) with "
        f"{report.checkpoint_writes} pending writes"
    )
    if report.anchor:
        print(f"audit anchor: {report.anchor}")
    print(f"knowledge store: {report.knowledge}")
    return 0


def _console():
    from rich.console import Console

    return Console()


def _json_or_word(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if text.strip().startswith(("{", "[")):
            raise InvalidInput("--answer", "not valid JSON") from None
        return text.strip()


def _chat(args: argparse.Namespace) -> int:
    from .chat import ChatSession
    from .lab import Lab

    budget = {
        k: v
        for k, v in (("max_tool_calls", args.max_tool_calls), ("max_llm_tokens", args.max_llm_tokens))
        if v is not None
    }
    lab = Lab(auto_approve=args.auto_approve, budget=budget or None)
    session = ChatSession(lab, console=_console())
    if args.message:
        reply = session.converse(args.message)
        return 0 if reply.status == "answered" else 1
    return session.run()


def _runs() -> Any:
    from .runs import Runs

    return Runs()


def _print_view(view: Any, as_json: bool) -> None:
    if as_json:
        print(view.model_dump_json(indent=2))
        return
    from rich.markup import escape

    console = _console()
    console.print(f"[bold]{view.run_id}[/] {view.status} — {escape(view.planner)}")
    console.print(f"request: {escape(view.request)}", highlight=False)
    u, b = view.usage, view.budget
    console.print(
        f"usage: {u.tool_calls}/{b.max_tool_calls} tool calls, {u.tool_seconds:.3f}/{b.max_tool_seconds} tool-s, "
        f"{u.llm_tokens}/{b.max_llm_tokens} tokens"
    )
    for p in view.pending:
        console.print(
            f"pending [yellow]{p.id}[/] {p.kind} {p.role or ''} {p.tool or ''} {escape(str(p.args or ''))}: "
            f"{escape(p.reason)}"
        )
    if view.answer:
        console.print(view.answer, markup=False, highlight=False)


def _workflow_ids() -> set[str]:
    from ..skills._run import list_runs

    return {r["run_id"] for r in list_runs()}


def all_runs() -> list[dict[str, Any]]:
    """Chat runs and workflow runs in one list, newest activity first (each with ``kind``: chat | workflow)."""
    from ..skills._run import list_runs

    chat = [{**r, "kind": "chat"} for r in _runs().list()]
    return sorted([*chat, *list_runs()], key=lambda r: -float(r["updated"]))


def _runs_list(args: argparse.Namespace) -> int:
    runs = all_runs()
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return 0
    for r in runs:
        print(f"{r['run_id']:40s} {r['kind']:8s} {r['status']:11s} {r['planner'][:24]:24s} {r['request'][:60]}")
    return 0


def _workflow_answers(pending_id: str | None, answer: Any) -> dict[str, Any]:
    """``runs resume/approve`` answers for a workflow run: by id, or the same answer for every pending question."""
    if pending_id is not None:
        return {"answers": {pending_id: answer}}
    if isinstance(answer, dict) and answer and not ({"edit", "reject", "approve", "rollback"} & set(answer)):
        return {"answers": answer}
    return {"ask": (lambda p: answer) if answer is not None else None}


def _resume_workflow(run_id: str, pending_id: str | None, answer: Any) -> int:
    from ..skills import resume
    from ..skills.cli import report_result

    return report_result(resume(run_id, **_workflow_answers(pending_id, answer)))


def _runs_show(args: argparse.Namespace) -> int:
    if args.run_id in _workflow_ids():
        (run,) = [r for r in all_runs() if r["run_id"] == args.run_id]
        if args.json:
            print(json.dumps(run, indent=2, default=str))
            return 0
        print(f"{run['run_id']} workflow {run['workflow']}: {run['status']}")
        for key in ("report", "error"):
            if run.get(key):
                print(f"{key}: {run[key]}")
        if run["status"] == "waiting":
            print(f"answer with: labwright runs approve {run['run_id']} (or runs resume {run['run_id']} --answer ...)")
        from ..skills._run import run_dir_of

        for store in sorted(run_dir_of(run["run_id"]).rglob("*.sqlite")):
            # A store the workflow built in its folder; chat reads the store LABWRIGHT_KNOWLEDGE_DB names.
            print(f"knowledge store: {store}  (ask about it: LABWRIGHT_KNOWLEDGE_DB={store} labwright chat)")
        return 0
    _print_view(_runs().view(args.run_id), args.json)
    return 0


def _runs_resume(args: argparse.Namespace) -> int:
    answer = _json_or_word(args.answer)
    if args.run_id in _workflow_ids():
        return _resume_workflow(args.run_id, None, answer)
    view = _runs().resume(args.run_id, answer)
    _print_view(view, False)
    return 0


def _runs_approve(args: argparse.Namespace) -> int:
    answer = _json_or_word(args.answer)
    if args.run_id in _workflow_ids():
        return _resume_workflow(args.run_id, args.pending_id, answer)
    view = _runs().approve(args.run_id, args.pending_id, answer)
    _print_view(view, False)
    return 0


def _runs_prune(args: argparse.Namespace) -> int:
    import shutil
    import time

    from ..skills._run import run_dir_of
    from .runs import parse_age

    older = parse_age(args.older_than) if args.older_than else None
    if args.keep is None and older is None:
        raise InvalidInput("keep", "give --keep N and/or --older-than AGE")
    if args.keep is not None and args.keep < 0:
        raise InvalidInput("keep", f"must be >= 0, got {args.keep}")
    runs, now = all_runs(), time.time()
    doomed = [
        r
        for i, r in enumerate(runs)
        if (args.keep is not None and i >= args.keep) or (older is not None and now - float(r["updated"]) > older)
    ]
    chat = _runs()
    pruned = chat.prune_ids([r["run_id"] for r in doomed if r["kind"] == "chat"])
    for r in doomed:
        if r["kind"] == "workflow":
            chat.saver.delete_thread(r["run_id"])
            shutil.rmtree(run_dir_of(r["run_id"]), ignore_errors=True)
            pruned.append(r["run_id"])
    print(f"pruned {len(pruned)} run(s)" + (": " + ", ".join(pruned) if pruned else ""))
    return 0


def _audit_log() -> Any:
    from ..settings import get_settings
    from .audit import AuditLog

    return AuditLog(get_settings().audit_target)


def _audit_show(args: argparse.Namespace) -> int:
    rows = _audit_log().rows(args.run_id)
    if not rows:
        from ..errors import NotFound

        raise NotFound(f"no audit events for run {args.run_id!r}")
    if args.json:
        print(json.dumps([r.model_dump() for r in rows], indent=2))
        return 0
    for r in rows:
        who = f"{r.actor}/{r.role}" if r.role and r.role != r.actor else r.actor
        print(
            f"{r.seq:6d} {r.time[11:23]} {r.event:16s} {who:22s} {r.tool or '':22s} {r.decision or '':8s} "
            f"{r.approver or ''}"
        )
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    del args
    log = _audit_log()
    report = log.verify()
    out = sys.stdout if report.ok else sys.stderr
    if report.ok:
        print(report.summary(), file=out)
    else:
        print(
            f"audit log BROKEN: {len(report.problems)} problem(s) in {log.where} (anchor {log.anchor.path})", file=out
        )
        for problem in report.problems:
            print(f"  - {problem}", file=out)
    for note in report.notes:
        print(f"  note: {note}", file=out)
    return 0 if report.ok else 1
