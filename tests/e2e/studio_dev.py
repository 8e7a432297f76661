"""labwright's graph under a real ``langgraph dev`` server (the LangGraph Studio back end), checked over its HTTP API.

Run by ``make studio-check`` (an environment with ``langgraph-cli[inmem]``) and by the slow test in
``tests/agents/test_studio.py`` when the running Python has it. Offline: the server binds 127.0.0.1, opens no browser,
sends no analytics or traces, and the graph uses the offline planner. Checks:

* the assistant's input and output schemas are not null (``typing.TypedDict`` state made them null on Python 3.11);
* a tool call with invalid arguments is denied with the field named and no approval question;
* a valid call that needs approval (a store write) pauses with the *validated* arguments (defaults filled in), and
  ``Command(resume="approve")`` through the API finishes the run.

Prints one line per check; exits 1 if any fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))  # also when loaded by path from a test
from _serve import free_port, wait_until_up  # noqa: E402

GRAPH = "labwright"
# A store write asks a person; the text is short so the offline extractor answers at once.
VALID = 'kg_ingest_text(text="Cerium oxide nanoparticles catalyse the hydrolysis of PCL.", document_id="note-1")'
INVALID = 'kg_ingest_text(text="Cerium oxide nanoparticles catalyse the hydrolysis of PCL.")'  # no document_id
_CLI = "from langgraph_cli.cli import cli; cli()"


def start(python: str, home: Path, port: int, log: Path, timeout: float = 240.0) -> subprocess.Popen:
    """``langgraph dev`` on 127.0.0.1:``port`` for the repository's langgraph.json, labwright's files under ``home``;
    returns once ``/ok`` answers. It runs in the repository root: langgraph-api resolves the graph's path against the
    working directory, not the config's folder (it keeps ``.langgraph_api/`` there, which git ignores)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABWRIGHT_", "OPENAI_", "LANGSMITH_"))}
    env.update(
        LABWRIGHT_HOME=str(home / "labwright"),
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGSMITH_TRACING="false",
        LANGCHAIN_TRACING_V2="false",
    )
    cmd = [python, "-c", _CLI, "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--config", str(ROOT / "langgraph.json")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return wait_until_up(proc, f"http://127.0.0.1:{port}/ok", timeout, log)


def _run(client: httpx.Client, body: dict, thread: str | None = None) -> tuple[str, dict]:
    if thread is None:
        thread = client.post("/threads", json={}).raise_for_status().json()["thread_id"]
    out = client.post(f"/threads/{thread}/runs/wait", json={"assistant_id": GRAPH, **body}).raise_for_status()
    return thread, out.json()


def checks(base: str) -> list[tuple[str, str | None]]:
    """``(check, problem or None)`` for each check against the server at ``base``."""
    results: list[tuple[str, str | None]] = []
    with httpx.Client(base_url=base, timeout=300) as client:
        (assistant,) = client.post("/assistants/search", json={"graph_id": GRAPH}).raise_for_status().json()
        schemas = client.get(f"/assistants/{assistant['assistant_id']}/schemas").raise_for_status().json()
        inp, out = schemas.get("input_schema"), schemas.get("output_schema")
        problem = None
        if not inp or "request" not in inp.get("properties", {}) or inp.get("required") != ["request"]:
            problem = f"input schema {inp}"
        elif not out or not {"answer", "status"} <= set(out.get("properties", {})):
            problem = f"output schema {out}"
        results.append(("input and output schemas", problem))

        _, res = _run(client, {"input": {"request": INVALID}})
        problem = None
        if "__interrupt__" in res:
            problem = f"asked before validating: {res['__interrupt__']}"
        elif res.get("status") != "failed" or "document_id" not in (res.get("answer") or ""):
            problem = f"status {res.get('status')}: {(res.get('answer') or '')[:300]}"
        results.append(("invalid arguments denied, no approval asked", problem))

        thread, res = _run(client, {"input": {"request": VALID}})
        asks = [i["value"] for i in res.get("__interrupt__", [])]
        problem = None
        if len(asks) != 1 or asks[0].get("kind") != "approval" or asks[0].get("tool") != "kg_ingest_text":
            problem = f"no approval question: {res}"
        elif asks[0]["args"].get("extractor") != "auto":  # the tool's default: the question shows validated args
            problem = f"the question shows unvalidated arguments: {asks[0]['args']}"
        results.append(("valid store write pauses at approval with validated arguments", problem))
        if problem is None:
            _, res = _run(client, {"command": {"resume": "approve"}}, thread)
            ok = res.get("status") == "answered" and '"note-1":"new"' in (res.get("answer") or "")
            results.append(("approved through the API: run answered", None if ok else f"{res}"[:400]))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable, help="python of an environment with langgraph-cli[inmem]")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="labwright-studio-"))
    port = free_port()
    proc = start(args.python, home, port, home / "langgraph-dev.log")
    try:
        results = checks(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for name, problem in results:
        print(f"{'ok    ' if problem is None else 'FAILED'} {name}{'' if problem is None else ': ' + problem}")
    ok = all(p is None for _, p in results)
    print(f"studio-check: {'OK' if ok else 'FAILED'} (log {home / 'langgraph-dev.log'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
