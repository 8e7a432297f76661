"""Confined paths: what a governed call may name (tools/_paths.py, applied by the policy gate).

Each hole from issue 12: escape by ``..``, by an absolute path and by a symlink; labwright's own records (audit,
ledger, checkpoints) as a target; an export onto a store; a read-only tool creating folders; plots outside the run.
"""

from __future__ import annotations

import sqlite3
import typing
from pathlib import Path

import labwright
import pytest
from labwright.agents.governance import RunContext, governed_call
from labwright.agents.policy import Policy, gate
from labwright.errors import InvalidInput
from labwright.knowledge import KnowledgeStore, ingest_events
from labwright.settings import get_settings
from labwright.tools._paths import _NOT_OPENED, path_use
from labwright.tools.fields import ReadPath, ToolModel
from labwright.tools.registry import _REGISTRY, get_tool, list_tools, tool
from pydantic import BaseModel, Field


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LABWRIGHT_HOME", str(home))
    monkeypatch.delenv("LABWRIGHT_ALLOWED_ROOTS", raising=False)
    monkeypatch.chdir(tmp_path / "home")  # the working directory is a read root: keep it inside the test's folder
    return home


def _denied(tool: str, args: dict, field: str, why: str, run_id: str = "r1") -> None:
    dec = gate(None, tool, args, Policy(), run_id=run_id, step_key="s1")
    assert dec.decision == "deny", dec
    assert f"field '{field}'" in dec.reason and why in dec.reason, dec.reason


def test_dot_dot_absolute_and_symlink_escapes_are_denied(home, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.csv").write_text("E,I\n0,1\n")
    _denied("kg_stats", {"store_path": "../outside/kg.sqlite"}, "store_path", "outside LABWRIGHT_HOME")
    _denied("kg_export", {"path": "../../../outside/graph.json"}, "path", "outside the run folder")
    _denied("read_voltammogram", {"path": str(outside / "data.csv")}, "path", "outside LABWRIGHT_HOME")
    _denied("read_voltammogram", {"path": "/etc/passwd"}, "path", "outside LABWRIGHT_HOME")
    (home / "link").symlink_to(outside, target_is_directory=True)
    _denied("read_voltammogram", {"path": str(home / "link" / "data.csv")}, "path", str(outside))
    run = home / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "plots").symlink_to(outside, target_is_directory=True)
    _denied("simulate_cv", _cv({"plot_path": "plots/cv.png"}), "plot_path", "outside the run folder")
    rs = {"paths": [str(home / "a.csv"), "/etc/hosts"], "area": 1e-6, "concentration": 1.0}
    _denied("randles_sevcik", rs, "paths.1", "outside")
    assert not (outside / "cv.png").exists() and not (outside / "graph.json").exists()


def _cv(extra: dict) -> dict:
    return {"E_start": 0.3, "E_vertex": -0.3, "scan_rate": 0.1, **extra}


def test_audit_ledger_and_checkpoints_are_never_a_target(home):
    s = get_settings()
    ctx = RunContext.open("r1", auto_approve="all")
    governed_call(ctx, None, "kg_stats", {}, step_key="warm")  # the audit log and ledger now exist
    for target in (s.audit_path, home / "ledger.sqlite", s.checkpoint_path, Path(str(s.audit_path) + "-wal")):
        _denied("kg_stats", {"store_path": str(target)}, "store_path", "labwright's own record")
        _denied(
            "kg_ingest_text",
            {"store_path": str(target), "text": "EGF binds EGFR.", "document_id": "d1"},
            "store_path",
            "own",
        )
        _denied("kg_export", {"path": str(target)}, "path", "labwright's own record")
    out = governed_call(ctx, None, "kg_stats", {"store_path": str(s.audit_path)}, step_key="attack")
    assert out.status == "denied" and "store_path" in out.message
    assert ctx.audit.verify().ok
    tables = {r[0] for r in sqlite3.connect(s.audit_path).execute("SELECT name FROM sqlite_master")}
    assert "edges" not in tables and "nodes" not in tables  # no knowledge tables were put into the audit database
    with pytest.raises(InvalidInput, match="store_path"):  # and even a direct read-only open refuses it
        KnowledgeStore(s.audit_path, readonly=True)


def test_an_export_never_replaces_a_store(home):
    _denied("kg_export", {"path": str(home / "knowledge.sqlite")}, "path", "outside the run folder")
    store = home / "runs" / "r1" / "kg.sqlite"  # a store the run made in its own folder
    with KnowledgeStore(store) as kg:
        ingest_events(kg, [{"source": ["EGF"], "relation": "binds", "target": ["EGFR"]}], document_id="d")
    _denied("kg_export", {"path": str(store)}, "path", "existing SQLite database")


def test_read_only_tools_create_nothing(home):
    ctx = RunContext.open("r2")
    nested = home / "nested" / "deeper" / "kg.sqlite"
    for step, (name, args) in enumerate(
        [("kg_stats", {"store_path": str(nested)}), ("kg_neighbors", {"store_path": str(nested), "concept": "EGF"})]
    ):
        governed_call(ctx, None, name, args, step_key=f"read/{step}")
    assert not (home / "nested").exists()


def test_plots_and_exports_go_into_the_run_folder(home):
    dec = gate(None, "simulate_cv", _cv({"plot_path": "cv.png"}), Policy(), run_id="r3", step_key="s")
    assert dec.decision == "allow" and dec.args["plot_path"] == str(home.resolve() / "runs" / "r3" / "cv.png")
    _denied("simulate_cv", _cv({"plot_path": str(home / "cv.png")}), "plot_path", "outside the run folder", "r3")
    ctx = RunContext.open("r3", auto_approve="all")
    out = governed_call(ctx, None, "kg_export", {"path": "graph.json"}, step_key="export")
    assert out.ok, out.message
    assert Path(out.result["path"]) == home.resolve() / "runs" / "r3" / "graph.json"
    assert Path(out.result["path"]).is_file()


def test_allowed_roots_and_the_working_directory_are_readable(home, tmp_path, monkeypatch):
    data = tmp_path / "lab-data"
    data.mkdir()
    csv = data / "cv.csv"
    csv.write_text("E,I\n0,1\n")
    _denied("read_voltammogram", {"path": str(csv)}, "path", "outside")
    monkeypatch.setenv("LABWRIGHT_ALLOWED_ROOTS", str(data))
    assert gate(None, "read_voltammogram", {"path": str(csv)}, Policy(), run_id="r", step_key="s").decision == "allow"
    monkeypatch.delenv("LABWRIGHT_ALLOWED_ROOTS")
    monkeypatch.chdir(tmp_path)
    dec = gate(None, "read_voltammogram", {"path": "lab-data/cv.csv"}, Policy(), run_id="r", step_key="s")
    assert dec.decision == "allow" and dec.args["path"] == str(csv.resolve())
    _denied("read_voltammogram", {"path": "bad\x00name.csv"}, "path", "NUL byte")


def _path_like_fields(model: type[BaseModel], prefix: str = ""):
    for name, field in model.model_fields.items():
        if any(k in name for k in ("path", "dir", "file", "folder", "store", "sbml")):
            yield prefix + name, name
        for arg in typing.get_args(field.annotation) or (field.annotation,):
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    yield from _path_like_fields(inner, f"{prefix}{name}.")


def test_every_path_like_argument_of_every_tool_is_classified():
    unclassified = [
        f"{tool}.{dotted}"
        for tool in list_tools()
        if get_tool(tool).func.__module__.startswith("labwright.")
        for dotted, name in _path_like_fields(get_tool(tool).input_model)
        if name not in _NOT_OPENED and path_use(tool, name) is None
    ]
    assert unclassified == []


class _NoteIn(ToolModel):
    note: ReadPath = Field(description="a plugin's data file, typed as a path")
    log: str = Field(description="an untyped string: a plugin's own business")


class _NoteOut(ToolModel):
    n: int


@pytest.fixture
def plugin_tool():
    @tool(name="lw_test_typed_path")
    def typed(inp: _NoteIn) -> _NoteOut:
        """A plugin tool whose path field is typed."""
        return _NoteOut(n=len(inp.note))

    yield "lw_test_typed_path"
    _REGISTRY.pop("lw_test_typed_path", None)


def test_a_plugin_path_typed_as_readpath_is_confined(home, plugin_tool):
    _denied(plugin_tool, {"note": "/etc/passwd", "log": "x"}, "note", "outside LABWRIGHT_HOME")
    dec = gate(None, plugin_tool, {"note": "data.csv", "log": "/anywhere"}, Policy(), run_id="r", step_key="s")
    assert dec.decision == "allow" and dec.args == {"note": str(home.resolve() / "data.csv"), "log": "/anywhere"}


def test_shipped_example_data_is_readable_but_never_written(home):
    # A packaged workflow reads labwright's own examples wherever the package is installed (not under the cwd).
    shipped = Path(labwright.__file__).resolve().parent / "examples"
    cv = shipped / "data" / "redox_kinetics" / "cv_0.1Vps.csv"
    dec = gate(None, "read_voltammogram", {"path": str(cv)}, Policy(), run_id="r", step_key="s")
    assert dec.decision == "allow" and dec.args["path"] == str(cv.resolve())
    _denied("kg_export", {"path": str(shipped / "data" / "out.hif.json")}, "path", "outside")
