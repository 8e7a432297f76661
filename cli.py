"""The ``labwright`` console script.

Each subsystem owns its subcommands in a ``cli`` module exposing ``add_parser(subparsers)``; the parser it adds sets
``func(args) -> int``. Bad input exits with status 2 and a one-line message on stderr.

Only the module of the command given is imported (``labwright tool list`` never loads LangGraph or the knowledge
store); the others appear in ``--help`` from ``COMMANDS``, which a test keeps equal to what the modules declare.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import InvalidInput, LabwrightError, UnknownRole, UnknownTool

__all__ = ["main", "build_parser"]

# Modules that contribute subcommands, in the order `labwright --help` lists them.
COMMAND_MODULES = [
    "labwright.agents.cli",  # chat, runs, audit, db
    "labwright.tools.cli",  # tool
    "labwright.skills.cli",  # run
    "labwright.knowledge.cli",  # kg
    "labwright.doors.cli",  # mcp, serve
]
# command -> (module that defines it, its one-line help), for --help without importing every module.
COMMANDS = {
    "chat": ("labwright.agents.cli", "talk to the supervisor agent"),
    "runs": ("labwright.agents.cli", "list, show, resume, approve or prune runs (chat and workflow runs alike)"),
    "audit": ("labwright.agents.cli", "show or verify the hash-chained audit log"),
    "db": ("labwright.agents.cli", "move the audit log, ledger and checkpoints from the SQLite files to PostgreSQL"),
    "tool": ("labwright.tools.cli", "list tools or call one"),
    "run": ("labwright.skills.cli", "run a workflow (YAML) or resume one"),
    "kg": ("labwright.knowledge.cli", "hypergraph knowledge store"),
    "mcp": ("labwright.doors.cli", "serve labwright's tools over MCP (stdio or streamable HTTP) for one role"),
    "serve": ("labwright.doors.cli", "the approval inbox and run viewer in a browser (127.0.0.1)"),
}

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def _version() -> str:
    """The installed distribution's version (the source tree's ``__version__`` when run uninstalled)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("labwright")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        from . import __version__

        return __version__


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command's module imported, or (``command`` given) only that command's module: the
    other commands are listed by name and help."""
    parser = argparse.ArgumentParser(
        prog="labwright", description="Governed, agentic scientific discovery for chemistry and biology."
    )
    parser.add_argument("--version", action="version", version=f"labwright {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = COMMAND_MODULES if command is None else [COMMANDS[command][0]] if command in COMMANDS else []
    for name in COMMAND_MODULES:
        if name in wanted:
            importlib.import_module(name).add_parser(sub)
        else:
            for cmd, (module, text) in COMMANDS.items():
                if module == name:
                    sub.add_parser(cmd, help=text, add_help=False)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_of(argv) or "")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or EXIT_OK)
    except (InvalidInput, UnknownTool, UnknownRole) as err:
        print(f"labwright: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except LabwrightError as err:
        print(f"labwright: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("labwright: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
