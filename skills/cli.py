"""``labwright run WORKFLOW.yaml [--approve RULE] [--resume RUN_ID]``: run a workflow and print its report path."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..settings import APPROVAL_RULE_HELP

__all__ = ["add_parser", "EXIT_WAITING", "report_result"]

EXIT_WAITING = 3  # the run stopped at a checkpoint and waits for an answer


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a workflow (YAML) or resume one",
        description="Run a scripted workflow of skills. Steps stop for approval at checkpoints; without --approve "
        "and without a terminal the run stops there and can be resumed by id.",
    )
    p.add_argument(
        "workflow",
        nargs="?",
        type=Path,
        help="workflow YAML file, or the name of a packaged workflow such as redox_kinetics (omit with --resume)",
    )
    p.add_argument(
        "--approve",
        metavar="RULE",
        help=APPROVAL_RULE_HELP,
    )
    p.add_argument("--resume", metavar="RUN_ID", help="continue a stopped or crashed run")
    p.add_argument("--run-id", metavar="ID", help="id for a new run (default: <workflow>-<time>-<random>)")
    p.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="ID=ANSWER",
        help="answer a pending question (interrupt id or step id): approve | reject | JSON such as "
        '\'{"edit": {...}}\' or \'{"rollback": {"step": "fit", "params": {...}}}\'; repeatable',
    )
    p.add_argument("--no-input", action="store_true", help="never prompt, even on a terminal")
    p.add_argument("--json", action="store_true", help="print the run result as JSON instead of a table")
    p.set_defaults(func=run_command)


def _parse_answer(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise InvalidInput("--answer", f"expected ID=ANSWER, got {text!r}")
    key, value = text.split("=", 1)
    value = value.strip()
    if value.startswith(("{", "[", '"')):
        try:
            return key.strip(), json.loads(value)
        except json.JSONDecodeError as err:
            raise InvalidInput("--answer", f"not valid JSON: {err.msg}") from None
    return key.strip(), value


def _prompt(pending: Any) -> Any:
    """Ask on the terminal: approve / reject / edit / rollback."""
    from rich.console import Console
    from rich.prompt import Prompt

    con = Console(stderr=True)
    con.print(
        f"[bold yellow]Approval needed[/] ({pending.kind}) step [bold]{pending.step}[/]"
        + (f" tool [bold]{pending.tool}[/]" if pending.tool else "")
        + f": {pending.reason}"
    )
    shown = pending.payload.get("input") or pending.payload.get("args")
    if shown:
        con.print_json(json.dumps(shown, default=str)[:4000])
    choice = Prompt.ask(
        "approve / reject / edit / rollback / quit", choices=["a", "r", "e", "b", "q"], default="a", console=con
    )
    if choice == "a":
        return "approve"
    if choice == "r":
        return "reject"
    if choice == "e":
        return {"edit": json.loads(Prompt.ask("new values as a JSON object", console=con))}
    if choice == "b":
        step = Prompt.ask("roll back to step", console=con)
        params = json.loads(Prompt.ask("changed inputs as a JSON object", default="{}", console=con))
        return {"rollback": {"step": step, "params": params}}
    return None


def _print_summary(res: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]{res.workflow}[/] · run {res.run_id} · [bold]{res.status}[/]")
    table = Table()
    table.add_column("step")
    table.add_column("status")
    table.add_column("summary", overflow="fold")
    for step, status in res.steps.items():
        table.add_row(step, status, _summary(res.outputs.get(step)))
    con.print(table)


def _print_findings(res: Any, limit: int = 14) -> None:
    """The claims of the workflow's final steps (those nothing else consumes), from report.json."""
    from rich.console import Console
    from rich.table import Table

    from ._report import format_value

    path = Path(res.report_json) if res.report_json else None
    if path is None or not path.is_file():
        return
    doc = json.loads(path.read_text())
    final = set(doc.get("terminal_steps") or [])
    claims = [c for c in doc.get("claims", []) if c.get("step") in final]
    if not claims:
        return
    table = Table(title="Findings" + (" (synthetic data)" if doc.get("synthetic") else ""))
    table.add_column("step")
    table.add_column("finding", overflow="fold")
    table.add_column("value", justify="right")
    for c in claims[:limit]:
        table.add_row(c["step"], c["text"], format_value(c.get("value"), c.get("unit", "")))
    Console().print(table)
    if len(claims) > limit:
        print(f"... {len(claims) - limit} more findings in the report")


def _summary(output: Any, width: int = 90) -> str:
    if not isinstance(output, dict):
        return ""
    if len(output) == 1 and isinstance(next(iter(output.values())), dict):
        output = next(iter(output.values()))  # a step that wraps one record (e.g. {"fit": {...}})
    parts = []
    for k, v in output.items():
        if isinstance(v, (int, float, str, bool)) and len(str(v)) < 40:
            parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    text = ", ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def run_command(args: argparse.Namespace) -> int:
    from ._run import run

    if args.workflow is None and args.resume is None:
        raise InvalidInput("workflow", "give a workflow file or --resume RUN_ID")
    answers = dict(_parse_answer(a) for a in args.answer)
    interactive = not args.no_input and args.approve is None and sys.stdin.isatty()
    res = run(
        args.workflow,
        approve=args.approve,
        resume=args.resume,
        run_id=args.run_id,
        answers=answers,
        ask=_prompt if interactive else None,
    )
    if args.json:
        print(res.model_dump_json(indent=2))
        return {"finished": 0, "failed": 1}.get(res.status, EXIT_WAITING)
    return report_result(res)


def report_result(res: Any) -> int:
    """Print a workflow run's summary, questions or report path; the exit status (0, 1 failed, 3 waiting)."""
    _print_summary(res)
    if res.status == "failed":
        print(f"labwright: error: run {res.run_id} failed: {res.error}", file=sys.stderr)
        print(f"resume with: labwright run --resume {res.run_id}", file=sys.stderr)
        return 1
    if res.status == "waiting":
        for p in res.pending:
            where = f"step {p.step}" + (f", tool {p.tool}" if p.tool else "")
            print(f"waiting for approval [{p.id}] ({p.kind}, {where}): {p.reason}")
        print(f"run id: {res.run_id}")
        print(f"resume with: labwright run --resume {res.run_id} --approve all   (or --answer ID=approve|reject|JSON)")
        return EXIT_WAITING
    _print_findings(res)
    print(f"report: {res.report_path}")
    return 0
