"""TOCTOU: a symlink swapped in between the gate's confinement check and the tool's open never lets a call escape.

A thread keeps swapping a folder (or the file itself) on a confined path between a real one inside LABWRIGHT_HOME
and a symlink to a folder outside every allowed root, while governed calls read or write through that path in a
loop (in the tool worker process, as every labwright tool runs). Each call must either use the real file or fail
with an error naming the field; the outside file is never read and nothing is ever written outside.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import pytest
from labwright.agents.governance import RunContext, governed_call
from labwright.errors import InvalidInput
from labwright.metering import tool_call
from labwright.settings import get_settings
from labwright.tools._confined import open_path, write_file
from labwright.tools._files import read_user_file

CALLS = 60

_INSIDE = "E / V,I / A\n" + "".join(f"{0.01 * i:.2f},{1e-6 * i:.3e}\n" for i in range(40))
_SECRET = "E / V,I / A\n" + "".join(f"{0.01 * i:.2f},{7.77e-3:.3e}\n" for i in range(40))  # a distinctive current


class _Swapper:
    """Alternate ``at`` between its real content (``parked``) and a symlink to ``outside``, as fast as it can."""

    def __init__(self, at: Path, parked: Path, outside: Path):
        self.at, self.parked, self.outside = at, parked, outside
        self.stop = threading.Event()
        self.swaps = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError):
                os.rename(self.at, self.parked)
                os.symlink(self.outside, self.at)
                time.sleep(0.0002)
                os.unlink(self.at)
                os.rename(self.parked, self.at)
                self.swaps += 1
            time.sleep(0.0002)

    def __enter__(self) -> _Swapper:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)
        if self.at.is_symlink():
            self.at.unlink()
        if self.parked.exists() and not self.at.exists():  # (a write may have made the folder while it was away)
            os.rename(self.parked, self.at)


@pytest.fixture
def places(tmp_path, monkeypatch):
    monkeypatch.delenv("LABWRIGHT_ALLOWED_ROOTS")  # only LABWRIGHT_HOME (and the working directory) may be read
    home = get_settings().home_dir
    outside = tmp_path / "outside"  # not LABWRIGHT_HOME, not an allowed root, not the working directory
    outside.mkdir()
    (outside / "cv.csv").write_text(_SECRET)
    data = home / "data"
    (data / "real").mkdir(parents=True)
    (data / "real" / "cv.csv").write_text(_INSIDE)
    return data, outside


def _seen_secret(result: dict | None) -> bool:
    return result is not None and result["I_range"][1] > 1e-3  # the inside file's currents stay below 40 µA


@pytest.mark.slow
def test_a_folder_swapped_for_a_symlink_never_lets_a_read_escape(places):
    data, outside = places
    ctx = RunContext.open("toctou-read")
    outcomes = []
    with _Swapper(data / "real", data / "parked", outside) as swapper:
        for i in range(CALLS):
            args = {"path": str(data / "real" / "cv.csv")}
            outcomes.append(governed_call(ctx, None, "read_voltammogram", args, step_key=f"read/{i}"))
    assert swapper.swaps > 0
    assert not any(_seen_secret(o.result) for o in outcomes)
    assert any(o.ok for o in outcomes)  # the real file was read while the folder was in place
    for o in outcomes:  # a refusal names the field: at the gate (resolved outside) or at the open (swapped in)
        assert o.ok or o.status in ("error", "denied") and "'path'" in o.message, o.message


@pytest.mark.slow
def test_a_folder_swapped_for_a_symlink_never_lets_a_write_escape(places, tmp_path):
    data, outside = places
    run_dir = get_settings().runs_dir / "toctou-write"
    (run_dir / "out").mkdir(parents=True)
    ctx = RunContext.open("toctou-write", auto_approve="all")
    statuses = []
    with _Swapper(run_dir / "out", run_dir / "parked", outside) as swapper:
        for i in range(CALLS):
            args = {"reactions": ["A -> B; kf=1"], "path": str(run_dir / "out" / f"m{i}.xml")}
            statuses.append(governed_call(ctx, None, "export_sbml", args, step_key=f"write/{i}").status)
    assert swapper.swaps > 0
    assert sorted(p.name for p in outside.iterdir()) == ["cv.csv"]  # nothing written outside
    assert "ok" in statuses
    written = [p for folder in ("out", "parked") for p in (run_dir / folder).glob("m*.xml")]
    assert len(written) == statuses.count("ok")


def test_the_file_itself_swapped_for_a_symlink_is_refused_on_open(places):
    data, outside = places
    target = data / "real" / "cv.csv"
    target.unlink()
    target.symlink_to(outside / "cv.csv")  # as if swapped in right after the gate resolved the real file
    assert read_user_file(target).decode() == _SECRET  # outside a governed call nothing was checked: followed
    with tool_call("k", "read_voltammogram", confined=(str(target),)):
        with pytest.raises(InvalidInput, match="'path'.*symlink appeared"):
            read_user_file(target)
        write_file(target, b"x")  # the rename replaces the link itself, never the file it points to
    assert (outside / "cv.csv").read_text() == _SECRET
    assert not target.is_symlink() and target.read_bytes() == b"x"


def test_a_confined_write_makes_missing_folders_without_following_links(tmp_path):
    root = tmp_path / "run"
    target = root / "a" / "b" / "plot.png"
    with tool_call("k", "t", confined=(str(root),)):
        write_file(target, b"png")
        fd = open_path(target, os.O_RDONLY)
        os.close(fd)
    assert target.read_bytes() == b"png"
    assert [p.name for p in target.parent.iterdir()] == ["plot.png"]  # no temporary file left
