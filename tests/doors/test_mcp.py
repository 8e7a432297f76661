"""The MCP server over stdio, driven by the official SDK's client, with approvals answered through the inbox API."""

from __future__ import annotations

import json
import os
import sys
import time

import anyio
import httpx
import pytest

pytest.importorskip("mcp", reason="the MCP door needs labwright[mcp]")

from labwright.agents.audit import AuditLog  # noqa: E402
from labwright.settings import get_settings  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402


def _server_params(home) -> StdioServerParameters:
    env = {**os.environ, "LABWRIGHT_HOME": str(home), "LABWRIGHT_APPROVAL_SECONDS": "1"}
    args = ["-m", "labwright.cli", "mcp", "--role", "electrochemist", "--client", "test-desktop"]
    return StdioServerParameters(command=sys.executable, args=args, env=env)


async def _approve_when_asked(base: str, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        for _ in range(600):
            pending = (await http.get("/api/pending")).json()["pending"]
            if pending:
                q = pending[0]
                res = await http.post("/api/answer", json={"run_id": q["run_id"], "key": q["key"], "answer": "approve"})
                assert res.status_code == 200, res.text
                return q
            await anyio.sleep(0.2)
    raise AssertionError("no question reached the inbox")


@pytest.mark.slow
def test_mcp_tools_denial_and_an_approved_costly_call(isolated_home, inbox, inbox_token):
    async def scenario():
        async with Client(_server_params(isolated_home)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"simulate_cv", "fit_cv", "canonicalize_smiles"} <= names
            assert "validate_mechanism" not in names and "kg_ingest_text" not in names
            schema = next(t for t in (await client.list_tools()).tools if t.name == "simulate_cv").input_schema
            assert "scan_rate" in schema["properties"]

            cheap = await client.call_tool("canonicalize_smiles", {"smiles": "OCC"})
            assert not cheap.is_error and json.loads(cheap.content[0].text)["result"]["canonical_smiles"] == "CCO"

            denied = await client.call_tool("validate_mechanism", {"mechanism": {"steps": []}})
            assert denied.is_error and "not permitted" in denied.content[0].text

            # Estimated above the 1 s threshold: the call waits until the inbox approves it, then runs.
            args = {"E_start": -0.3, "E_vertex": 0.3, "scan_rate": 0.1, "dE": 0.005, "max_points": 10}
            result = {}
            async with anyio.create_task_group() as tg:

                async def call():
                    result["out"] = await client.call_tool("simulate_cv", args)

                tg.start_soon(call)
                result["question"] = await _approve_when_asked(inbox, inbox_token)
            assert not result["out"].is_error, result["out"].content[0].text
            assert result["question"]["tool"] == "simulate_cv"
            peaks = json.loads(result["out"].content[0].text)["result"]["peaks"]
            assert peaks["i_pa"] > 0 > peaks["i_pc"]

    anyio.run(scenario)
    rows = AuditLog(get_settings().audit_path).rows()
    mcp_rows = [r for r in rows if r.run_id.startswith("mcp-")]
    assert {r.actor for r in mcp_rows if r.event == "tool_request"} == {"mcp:test-desktop"}
    decision = next(r for r in mcp_rows if r.tool == "simulate_cv" and r.event == "decision")
    assert "dr-approver" in decision.approver
    assert any(r.event == "tool_denied" or "denied" in r.event for r in mcp_rows if r.tool == "validate_mechanism")


def test_inbox_refuses_requests_without_the_token(inbox, inbox_token):
    assert httpx.get(f"{inbox}/api/pending").status_code == 401
    assert httpx.get(f"{inbox}/api/pending", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{inbox}/", follow_redirects=False).status_code == 401
    ok = httpx.get(f"{inbox}/api/pending", headers={"Authorization": f"Bearer {inbox_token}"})
    assert ok.status_code == 200 and ok.json() == {"pending": [], "identity": "dr-approver"}
    # A form post without the CSRF token changes nothing, even with the session cookie.
    cookies = {"labwright_token": inbox_token}
    bad = httpx.post(f"{inbox}/answer", data={"run_id": "x", "key": "y", "kind": "approval", "verdict": "approve"},
                     cookies=cookies)  # fmt: skip
    assert bad.status_code == 403


@pytest.mark.slow
def test_inbox_pages_approve_a_waiting_workflow_and_show_its_report(inbox, inbox_token):
    from labwright.skills import run

    res = run("mechanism_review")  # no approval rule: it stops at its checkpoint
    assert res.status == "waiting"
    with httpx.Client(base_url=inbox, follow_redirects=False, timeout=30) as web:
        assert web.post("/login", data={"token": "wrong"}).status_code == 401
        assert web.post("/login", data={"token": inbox_token}).status_code == 303  # sets the session cookie
        page = web.get("/").text
        assert res.run_id in page and 'name="csrf"' in page and "Approve" in page
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        key = page.split('name="key" value="')[1].split('"')[0]
        kind = page.split('name="kind" value="')[1].split('"')[0]
        form = {"csrf": csrf, "run_id": res.run_id, "key": key, "kind": kind, "verdict": "approve"}
        assert web.get("/answer").status_code == 405  # no state-changing GET
        assert web.post("/answer", data=form).status_code == 303
        deadline = time.time() + 120
        while "running" in (run_page := web.get(f"/runs/{res.run_id}").text) and time.time() < deadline:
            time.sleep(0.5)
        assert 'id="report"' in run_page, run_page[-2000:]
        # Live progress: the run's own audit events, whichever process drives the run (here: the inbox's resume).
        assert 'id="events"' in run_page and "run_finished" in run_page and "human:dr-approver" in run_page
        events = web.get(f"/api/runs/{res.run_id}/events").json()["events"]
        assert events[-1]["event"] == "run_finished" and all(e["run_id"] == res.run_id for e in events)
        images = [s.split('"')[0] for s in run_page.split('<img src="')[1:]]
        assert images, "the report shows its plots"
        png = web.get(images[0])
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert web.get(f"/runs/{res.run_id}/files/..%2F..%2Faudit.sqlite").status_code == 404


@pytest.mark.slow
def test_mcp_over_streamable_http_on_loopback(isolated_home):
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LABWRIGHT_HOME": str(isolated_home)}
    cmd = [sys.executable, "-m", "labwright.cli", "mcp", "--role", "mechanist", "--client", "ide", "--http"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:

        async def scenario():
            url = f"http://127.0.0.1:{port}/mcp"
            for _ in range(300):  # the server imports labwright first
                try:
                    async with Client(url) as client:
                        names = {t.name for t in (await client.list_tools()).tools}
                        out = await client.call_tool("canonicalize_smiles", {"smiles": "C(=O)O"})
                        return names, out
                except Exception:  # not listening yet
                    await anyio.sleep(0.2)
            raise AssertionError("the HTTP server never answered")

        names, out = anyio.run(scenario)
        assert "validate_mechanism" in names and "simulate_cv" not in names
        assert not out.is_error and json.loads(out.content[0].text)["result"]["canonical_smiles"] == "O=CO"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
