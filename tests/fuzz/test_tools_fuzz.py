"""Every registered tool, driven by Hypothesis with schema-valid and hostile arguments (issue 12, item 1).

A call may return or raise a ``LabwrightError``; anything else, a call past its deadline, a file written outside the
sandbox or a replaced device fails the test. CI runs ``LABWRIGHT_FUZZ_EXAMPLES`` (default 200) derandomised
examples per tool; ``make fuzz`` runs 10,000 per tool through ``tests/fuzz/fuzz_report.py`` and writes a table.
"""

from __future__ import annotations

import os
from pathlib import Path

import labwright
import pytest
from fuzz_harness import REPO, Sandbox, devices_intact, run_call, snapshot, tool_args, watched_roots
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("LABWRIGHT_FUZZ_EXAMPLES", "200"))
# CI validates and prices every call but runs only those the tool itself estimates under this (the analyses, chemistry,
# mechanism and knowledge tools; a JAX simulation compiles for seconds per new shape): `make fuzz` runs up to 30 s.
RUN_CAP_SECONDS = float(os.environ.get("LABWRIGHT_FUZZ_RUN_CAP", "1"))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Sandbox:
    root = tmp_path_factory.mktemp("fuzz")
    box = Sandbox.create(root)
    box.before = snapshot(watched_roots(REPO), exclude=root)  # type: ignore[attr-defined]
    return box


@pytest.mark.parametrize("name", labwright.list_tools())
def test_tool_raises_only_labwright_errors(name: str, sandbox: Sandbox) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,  # the harness judges each call against its own estimate instead
        derandomize=True,  # the same examples on every CI run; `make fuzz` explores
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one(data) -> None:
        args = data.draw(tool_args(name, sandbox), label="args")
        with sandbox.active():
            outcome = run_call(name, args, run_cap_seconds=RUN_CAP_SECONDS)
        assert outcome.finding is None, outcome.finding

    one()


def test_nothing_written_outside_the_sandbox(sandbox: Sandbox) -> None:
    """Runs after the tool tests in this module: no new file in the repository, the real HOME or /, no device lost."""
    created = sorted(snapshot(watched_roots(REPO), exclude=sandbox.root) - sandbox.before)  # type: ignore[attr-defined]
    assert not [p for p in created if not Path(p).is_relative_to(sandbox.root)]
    assert devices_intact() == []
