"""Fixtures for the agent tests: trivial test tools and a scratch role that may call them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def load_testing_tools():
    spec = importlib.util.spec_from_file_location("labwright_agent_testing_tools", HERE / "testing_tools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def test_tools():
    """Register the trivial test tools for one test; remove them afterwards so other areas never see them."""
    module = load_testing_tools()
    names = module.register()
    yield names
    module.unregister()


@pytest.fixture
def tester_role(test_tools, monkeypatch):
    """A role 'tester' allowed the test tools and one real chemistry tool."""
    from labwright.agents import roles

    role = roles.Role("tester", "test role", frozenset({*test_tools, "canonicalize_smiles"}))
    monkeypatch.setitem(roles.ROLES, "tester", role)
    return role


# Which role may call which test tool in the graph tests (one role per tool, so the offline planner's choice is fixed).
EXTRA_TOOLS = {
    "electrochemist": {"estimate_heavy", "flaky_sim", "blocker", "count_files"},
    "kineticist": {"echo_value", "lab_note"},
    "librarian": {"read_note"},
}


def extend_roles(roles_module, extra=None):
    """Replace roles with copies that also allow the test tools (used by fixtures and subprocess scripts)."""
    changed = {}
    for name, tools in (extra or EXTRA_TOOLS).items():
        old = roles_module.ROLES[name]
        changed[name] = old
        roles_module.ROLES[name] = roles_module.Role(old.name, old.description, old.tools | frozenset(tools))
    return changed


@pytest.fixture
def lab_roles(test_tools):
    """Worker roles extended with the test tools for one test."""
    from labwright.agents import roles

    changed = extend_roles(roles)
    yield
    roles.ROLES.update(changed)


# -- a real OpenAI-compatible HTTP server on 127.0.0.1 ------------------------------------------------------------
class ScriptedOpenAI:
    """Speaks POST /v1/chat/completions; ``script(request_json) -> reply`` decides each answer.

    A reply is ``{"content": str}``, ``{"tool_calls": [(name, args_dict), ...]}``, or ``{"status": 500}`` (optionally
    with ``"message"``) for an HTTP error. Every request body is kept in ``requests`` so tests can check what the
    model was shown.
    """

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict] = []
        self.script = None
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                import json

                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer._lock:
                    outer.requests.append(body)
                    reply = outer.script(body)
                if "status" in reply:
                    message = reply.get("message", "scripted failure")
                    data = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
                    self.send_response(reply["status"])
                else:
                    data = json.dumps(outer._completion(body, reply)).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval keeps shutdown (every test's teardown) fast.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @staticmethod
    def _completion(body: dict, reply: dict) -> dict:
        import json

        calls = [
            {
                "id": f"call_{i}_{len(body['messages'])}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for i, (name, args) in enumerate(reply.get("tool_calls", []))
        ]
        message = {"role": "assistant", "content": reply.get("content")}
        if calls:
            message["tool_calls"] = calls
        prompt = sum(len(str(m.get("content") or "")) for m in body["messages"]) // 4
        completion = min(20, body.get("max_tokens") or 20)  # a real server never exceeds max_tokens
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def openai_server(monkeypatch):
    """A scripted OpenAI-compatible server; LABWRIGHT_BASE_URL/MODEL point at it for the test."""
    server = ScriptedOpenAI()
    monkeypatch.setenv("LABWRIGHT_BASE_URL", server.url)
    monkeypatch.setenv("LABWRIGHT_MODEL", "scripted-model")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    yield server
    server.close()
