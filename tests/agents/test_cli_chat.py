"""`labwright chat`, `labwright runs ...`, `labwright audit ...` and the chat loop with scripted input."""

from __future__ import annotations

import io
import json
import sqlite3

from labwright.agents.chat import ChatSession
from labwright.agents.lab import Lab
from labwright.agents.runs import parse_age
from labwright.cli import main
from labwright.settings import get_settings
from rich.console import Console


def _session(inputs, **lab_options):
    out = io.StringIO()
    feed = iter(inputs)
    session = ChatSession(Lab(**lab_options), console=Console(file=out, width=120), ask=lambda prompt: next(feed))
    return session, out


def test_chat_loop_streams_progress_and_answers_an_approval_inline_with_an_edit(lab_roles):
    session, out = _session(
        ["estimate_heavy(seconds=100)", "e", "not json", "e", '{"seconds": 40}', "/budget", "/audit", "/runs", "/quit"]
    )
    assert session.run() == 0
    text = out.getvalue()
    assert "supervisor round 1 (offline planner): electrochemist" in text
    assert "approval: electrochemist estimate_heavy" in text
    assert "not JSON" in text
    assert "value=80.0" in text  # ran with the edited arguments
    assert "tool calls" in text and "audit log OK" in text and "answered" in text


def test_chat_budget_pause_prompt_extends(lab_roles):
    session, out = _session(["echo_value(value=1) and echo_value(value=2)", "x", "/quit"], budget={"max_tool_calls": 1})
    assert session.run() == 0
    assert "budget:" in out.getvalue() and "value=2.0" in out.getvalue()


def test_cli_runs_and_audit_commands(lab_roles, capsys):
    assert main(["chat", "--auto-approve", "all", "-m", "echo_value(value=2.5)"]) == 0
    run_id = Lab().runs.list()[0]["run_id"]
    capsys.readouterr()
    assert main(["runs", "list"]) == 0
    assert run_id in capsys.readouterr().out
    assert main(["runs", "show", run_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "answered" and "2.5" in shown["answer"]
    assert main(["audit", "show", run_id]) == 0
    assert "tool_result" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0
    assert main(["audit", "show", "no-such-run"]) == 1
    assert main(["runs", "show", "no-such-run"]) == 1
    assert main(["runs", "prune"]) == 2
    assert main(["runs", "prune", "--older-than", "soon"]) == 2
    assert main(["runs", "prune", "--keep", "0"]) == 0
    assert "pruned 1 run(s)" in capsys.readouterr().out


def test_cli_approve_and_resume_a_paused_run(lab_roles, capsys):
    lab = Lab()
    first = lab.chat("estimate_heavy(seconds=100)")
    assert first.status == "waiting"
    assert main(["runs", "approve", first.run_id, "--answer", "maybe"]) == 2
    assert main(["runs", "resume", first.run_id, "--answer", '{"edit": {"seconds": 31}}']) == 0
    assert "value=62.0" in capsys.readouterr().out
    assert main(["runs", "resume", first.run_id]) == 0  # nothing left to do: shows the answer


def test_audit_verify_fails_after_a_row_of_a_real_run_is_edited(lab_roles, capsys):
    lab = Lab()
    lab.chat("estimate_heavy(seconds=100)")
    lab.answer("reject")
    assert main(["audit", "verify"]) == 0
    conn = sqlite3.connect(get_settings().audit_path)
    conn.execute("DROP TRIGGER audit_no_update")
    # Someone rewrites history: the rejected call now looks approved.
    conn.execute("UPDATE audit SET decision = 'approve' WHERE event = 'decision' AND decision = 'reject'")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    assert "edited" in capsys.readouterr().err


def test_audit_verify_fails_after_a_row_of_a_real_run_is_deleted(lab_roles, capsys):
    lab = Lab()
    lab.chat("echo_value(value=1)")
    conn = sqlite3.connect(get_settings().audit_path)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE event = 'tool_request'")
    conn.commit()
    conn.close()
    assert main(["audit", "verify"]) == 1
    assert "missing" in capsys.readouterr().err


def test_parse_age():
    assert parse_age("90s") == 90 and parse_age("2h") == 7200 and parse_age("1.5d") == 129600


def test_cli_answers_two_parallel_approvals_one_id_at_a_time(lab_roles, tmp_path, capsys):
    note = tmp_path / "notebook.txt"
    first = Lab().chat(f"estimate_heavy(seconds=100) and lab_note(path={note}, text=hi)")
    by_tool = {p.tool: p.id for p in first.pending}
    assert set(by_tool) == {"estimate_heavy", "lab_note"}
    capsys.readouterr()
    assert main(["runs", "show", first.run_id]) == 0
    shown = capsys.readouterr().out
    assert by_tool["estimate_heavy"] in shown and by_tool["lab_note"] in shown  # every pending question is listed
    assert main(["runs", "approve", first.run_id, "--id", by_tool["lab_note"], "--answer", "reject"]) == 0
    view = Lab().runs.view(first.run_id)
    assert view.status == "waiting" and [p.id for p in view.pending] == [by_tool["estimate_heavy"]]
    assert main(["runs", "approve", first.run_id, "--id", by_tool["estimate_heavy"]]) == 0
    done = Lab().runs.view(first.run_id)
    assert done.status == "answered" and "value=200.0" in done.answer and not note.exists()
