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

import labwright
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
            # Every 25th swap the real folder stays in place for 50 ms, so some calls run start to end without a
            # swap (the tests also check that the real file is used); the others race the swaps. With the folder
            # in place only ~0.2 ms at a time, all 60 calls of a CI run once failed on a swap.
            time.sleep(0.05 if self.swaps % 25 == 0 else 0.0002)

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


# ---- knowledge stores: SQLite opens the file by name itself --------------------------------------------------------


def test_sqlite_opening_a_file_swapped_in_after_the_check_is_refused(places):
    # The race itself, made deterministic: between the checks and SQLite's own open the store is swapped for a
    # symlink to a store outside. The descriptor SQLite got is not the file checked: closed, refused, nothing written.
    import sqlite3

    from labwright.tools._confined import open_sqlite

    data, outside = places
    store, secret = data / "real" / "kg.sqlite", outside / "kg.sqlite"
    sqlite3.connect(store).close()
    sqlite3.connect(secret).execute("CREATE TABLE t(x)").connection.commit()
    before = secret.read_bytes()

    def swap_then_connect():
        store.unlink()
        store.symlink_to(secret)
        return sqlite3.connect(store)

    with tool_call("k", "kg_ingest_text", confined=(str(store),)):
        with pytest.raises(InvalidInput, match="'store_path'.*SQLite opened another file"):
            open_sqlite(store, swap_then_connect, readonly=False)
    assert secret.read_bytes() == before


@pytest.mark.parametrize("companion", ["", "-wal", "-journal"])
def test_a_store_or_companion_that_is_a_symlink_is_refused(places, companion):
    import sqlite3

    from labwright.knowledge._sqlite import SQLITE

    data, outside = places
    store, victim = data / "real" / "kg.sqlite", outside / "victim.sqlite"
    sqlite3.connect(victim).execute("CREATE TABLE t(x)").connection.commit()
    if companion:
        sqlite3.connect(store).close()
    Path(f"{store}{companion}").symlink_to(victim)  # SQLite would write WAL frames or the journal into the victim
    before = victim.read_bytes()
    with tool_call("k", "kg_ingest_text", confined=(str(store),)):
        for readonly in (True, False):
            with pytest.raises(InvalidInput, match="'store_path'.*symlink"):
                SQLITE.connect(store, readonly=readonly)
    assert victim.read_bytes() == before


@pytest.mark.parametrize("mode", [0o777, 0o1777])
def test_a_store_in_a_folder_others_can_change_is_refused(places, mode):
    # Another user who can write the folder could swap it under SQLite's by-name opens; a sticky folder (/tmp) is
    # fine: others cannot rename what is not theirs.
    data, _ = places
    shared = data / "shared"
    shared.mkdir()
    shared.chmod(mode)
    ctx = RunContext.open("strict-modes", auto_approve="all")
    args = {"text": "AKT inhibits FOXO1.", "document_id": "d", "store_path": str(shared / "kg.sqlite")}
    out = governed_call(ctx, None, "kg_ingest_text", args, step_key="s")
    if mode & 0o1000:
        assert out.ok, out.message
    else:
        assert not out.ok and "'store_path'" in out.message and "can be changed by everyone (mode 777)" in out.message
        assert not (shared / "kg.sqlite").exists()


@pytest.mark.slow
def test_a_folder_swapped_for_a_symlink_never_lets_a_store_open_escape(places):
    # Governed ingests and reads of a store whose folder keeps being swapped for a link to a folder holding another
    # store: the outside store is never written or read. A swap by this same user while a store is open can still
    # redirect SQLite's by-name open of a companion file (-wal, -shm, -journal) there: the residue the README names.
    import hashlib

    data, outside = places
    (data / "real" / "cv.csv").unlink()
    secret = outside / "kg.sqlite"
    seed = {"text": "Nanoceria removes reactive oxygen species.", "document_id": "s", "store_path": str(secret)}
    labwright.call_tool("kg_ingest_text", seed)  # a direct Python call: not governed, not confined
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    listing = sorted(p.name for p in outside.iterdir())
    ctx = RunContext.open("toctou-store", auto_approve="all")
    outcomes = []
    with _Swapper(data / "real", data / "parked", outside) as swapper:
        for i in range(CALLS // 2):
            store = str(data / "real" / "kg.sqlite")
            text = f"AKT{i} inhibits FOXO{i}."
            ingest = {"text": text, "document_id": f"d{i}", "store_path": store}
            outcomes.append(governed_call(ctx, None, "kg_ingest_text", ingest, step_key=f"ingest/{i}"))
            outcomes.append(governed_call(ctx, None, "kg_stats", {"store_path": store}, step_key=f"stats/{i}"))
    assert swapper.swaps > 0
    assert hashlib.sha256(secret.read_bytes()).hexdigest() == digest
    residue = {p.name for p in outside.iterdir()} - set(listing)
    assert residue <= {"kg.sqlite-wal", "kg.sqlite-shm", "kg.sqlite-journal"}, residue
    assert any(o.ok for o in outcomes)
    for o in outcomes:
        assert o.ok or "'store_path'" in o.message, o.message
        if o.ok and "nodes" in (o.result or {}):  # a read of the outside store would count its nanoceria nodes
            assert o.result["nodes"] < 1000


def test_a_store_folder_renamed_away_while_in_use_is_an_error_naming_store_path(tmp_path, monkeypatch):
    # The race the swap test above once lost in CI: Python's os.path.realpath (non-strict) lstat()s a folder, sees a
    # symlink, and its readlink() then finds the name gone (renamed away meanwhile): a bare FileNotFoundError from
    # inside kg_stats. Made deterministic here by a readlink that always finds the name gone; the tool must answer
    # with an error naming store_path, as for any other unusable store.
    from labwright.knowledge import _store

    store = tmp_path / "kg.sqlite"
    labwright.call_tool(
        "kg_ingest_text", {"text": "AKT1 inhibits FOXO3.", "document_id": "a", "store_path": str(store)}
    )
    _store._INDEX_CACHE.clear()
    link = tmp_path / "moved"
    link.symlink_to(tmp_path)

    def gone(path, *args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", os.fspath(path))

    monkeypatch.setattr(os, "readlink", gone)
    with pytest.raises(InvalidInput) as err:
        labwright.call_tool("kg_stats", {"store_path": str(link / "kg.sqlite")})
    assert err.value.field == "store_path"
