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

    Like llama.cpp's server it refuses, before the script sees them, an assistant tool-call message whose ``content``
    is ``null`` (HTTP 500, as llama-cpp-python's chat template fails on it) and a prompt plus ``max_tokens`` beyond
    its context of ``context`` tokens (HTTP 400 with llama.cpp's "maximum context length" message; prompt tokens
    counted as :meth:`prompt_tokens`), a ``tool_choice`` naming a tool that is not offered (HTTP 500, llama.cpp's
    "Tool with name ... not found in tools") and tools without a ``tool_choice`` (llama-cpp-python then silently drops
    the tools; refused here with HTTP 400 so the omission shows); refused bodies go to ``refused``. Requests that
    llama-cpp-python's ``chatml-function-calling`` would answer without honouring ``max_tokens`` (tools offered with
    ``tool_choice: "auto"``: its text replies and call arguments are generated to the end of the context) are
    accepted, as there, and also kept in ``unbounded``. It advertises the context at ``GET /props`` (llama.cpp) and
    in ``GET /v1/models`` (``meta.n_ctx_train``) unless ``advertise`` is False.
    """

    def __init__(self, context: int = 8192, advertise: bool = True):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict] = []
        self.refused: list[tuple[int, dict]] = []
        self.unbounded: list[dict] = []
        self.gets: list[str] = []
        self.script = None
        self.context = context
        self.advertise = advertise
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _send(self, status: int, payload: dict) -> None:
                import json

                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def do_GET(self):
                outer.gets.append(self.path)
                if outer.advertise and self.path == "/props":
                    self._send(200, {"default_generation_settings": {"n_ctx": outer.context}})
                elif outer.advertise and self.path == "/v1/models":
                    meta = {"n_ctx_train": outer.context}
                    self._send(200, {"object": "list", "data": [{"id": "scripted-model", "meta": meta}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                import json

                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                refusal = outer.refusal(body)
                with outer._lock:
                    if refusal is not None:
                        outer.refused.append((refusal[0], body))
                    else:
                        outer.requests.append(body)
                        if body.get("tools") and body.get("tool_choice") == "auto":
                            outer.unbounded.append(body)
                        reply = outer.script(body)
                if refusal is not None:
                    status, message = refusal
                    self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})
                elif "status" in reply:
                    message = reply.get("message", "scripted failure")
                    self._send(reply["status"], {"error": {"message": message, "type": "server_error"}})
                else:
                    self._send(200, outer._completion(body, reply))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval keeps shutdown (every test's teardown) fast.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @staticmethod
    def prompt_tokens(body: dict) -> int:
        """The server's prompt count: 4 characters a token over message contents, tool calls and tool schemas."""
        import json

        chars = 0
        for m in body["messages"]:
            chars += len(str(m.get("content") or ""))
            chars += sum(len(json.dumps(c)) for c in m.get("tool_calls") or [])
        chars += len(json.dumps(body.get("tools") or [], separators=(",", ":")))
        return chars // 4

    def refusal(self, body: dict) -> tuple[int, str] | None:
        """What llama.cpp would refuse in ``body``: ``(HTTP status, message)``, else None."""
        for m in body["messages"]:
            if m.get("role") == "assistant" and m.get("tool_calls") and m.get("content") is None:
                return 500, "TypeError: object of type 'NoneType' has no len()"
        choice = body.get("tool_choice")
        if body.get("tools") and choice is None:
            # OpenAI reads a missing tool_choice as "auto"; llama-cpp-python's chatml-function-calling as "none": it
            # drops the tools from the prompt and the model can never call one. Refused here so a client that relies
            # on the default shows it.
            return 400, "tools were offered without tool_choice (llama-cpp-python would not show them to the model)"
        if isinstance(choice, dict):
            name = choice.get("function", {}).get("name")
            if name not in {t["function"]["name"] for t in body.get("tools") or []}:
                return 500, f"Tool with name '{name}' not found in tools"
        prompt = self.prompt_tokens(body)
        completion = body.get("max_tokens") or body.get("max_completion_tokens") or 0
        if prompt + completion > self.context:
            return 400, (
                f"This model's maximum context length is {self.context} tokens. However, you requested "
                f"{prompt + completion} tokens ({prompt} in the messages, {completion} in the completion). "
                "Please reduce the length of the messages or completion."
            )
        return None

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
    # Scripts answer a turn in one reply (a call or a text); the two-stage protocol of small contexts has its own
    # tests (test_llm_protocol.py), which set the mode themselves.
    monkeypatch.setenv("LABWRIGHT_TOOL_MODE", "native")
    yield server
    server.close()
