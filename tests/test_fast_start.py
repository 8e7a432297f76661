"""`import labwright`, `labwright --help` and `labwright tool list` load no engine (JAX, RDKit, LangGraph); the
lazy pieces (tool catalog, command table) agree with what the modules declare. Timing lives in
benchmarks/cli_start.py, not here."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

HEAVY = ("jax", "rdkit", "langgraph", "hypernetx", "scipy")


def loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_and_listing_tools_load_no_engine():
    assert loaded_after("import labwright") == []
    assert loaded_after("import labwright\nnames = labwright.list_tools()\nassert 'fit_cv' in names") == []
    code = "import contextlib, io\nfrom labwright.cli import main\n"
    code += "with contextlib.redirect_stdout(io.StringIO()) as f:\n    assert main(['tool', 'list']) == 0\n"
    code += "assert 'simulate_cv' in f.getvalue()"
    assert loaded_after(code) == []
    code = "import contextlib, io\nfrom labwright.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    code += "    try:\n        main(['--help'])\n    except SystemExit:\n        pass"
    assert loaded_after(code) == []


def test_skills_and_tools_are_reachable_from_the_package():
    code = "import labwright\nassert callable(labwright.skills.run) and callable(labwright.Lab)\n"
    code += "assert labwright.describe_molecule(smiles='CCO').formula == 'C2H6O'"
    assert "rdkit" in loaded_after(code)  # loaded on use, as it should be


def test_the_catalog_read_from_source_equals_the_registry():
    from labwright.tools import registry

    registry._ensure_loaded()
    listed = registry.catalog()
    registered = {n: s for n, s in registry._REGISTRY.items() if s.func.__module__.startswith("labwright.")}
    assert set(listed) == set(registered)
    for name, entry in listed.items():
        spec = registered[name]
        assert (entry.side_effect, entry.description) == (spec.side_effect, spec.description), name
        assert spec.func.__module__ == entry.module


def test_the_command_table_matches_the_modules():
    from labwright import cli

    full = cli.build_parser()
    (sub,) = [a for a in full._actions if isinstance(a, argparse._SubParsersAction)]
    declared = {c.dest: (c.help or "") for c in sub._choices_actions}
    assert declared == {name: text for name, (_, text) in cli.COMMANDS.items()}
