"""The ``labwright`` console script.

Each subsystem owns its subcommands in a ``cli`` module exposing ``add_parser(subparsers)``; the parser it adds sets
``func(args) -> int``. Bad input exits with status 2 and a one-line message on stderr.
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
    "labwright.agents.cli",  # chat, runs, audit
    "labwright.tools.cli",  # tool
    "labwright.skills.cli",  # run
    "labwright.knowledge.cli",  # kg
    "labwright.doors.cli",  # mcp, serve
]

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def _version() -> str:
    """The installed distribution's version (the source tree's ``__version__`` when run uninstalled)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("labwright")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        from . import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labwright", description="Governed, agentic scientific discovery for chemistry and biology."
    )
    parser.add_argument("--version", action="version", version=f"labwright {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
