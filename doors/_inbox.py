"""``labwright serve``: a local approval inbox and run viewer (Starlette, server-rendered pages and a JSON API).

Every request needs the token printed at start (``Authorization: Bearer TOKEN``, or the cookie the sign-in form sets);
pages change nothing on GET; every form carries a CSRF token derived from the secret (and the cookie is
``SameSite=Strict``). The person answering is the identity the server was started with (``--identity``, else
``LABWRIGHT_APPROVER``, else the OS user): never a name typed into a form or carried by an answer. For a chat or
workflow run the inbox resumes the run as that identity; for an MCP session's question it records the identity in
the ledger beside the answer.

Questions come from the ledger, whichever door asked them: an MCP session's call waits for its answer in the ledger;
a chat or workflow run is resumed with it (in a background thread, so the page returns at once and shows progress).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, LabwrightError, NotFound

__all__ = ["Inbox", "create_app", "serve", "new_token"]

COOKIE = "labwright_token"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _settings():
    from ..settings import get_settings

    return get_settings()


@dataclass
class Inbox:
    """The inbox's view of the ledger and runs, and the one place it answers questions."""

    identity: str
    threads: dict[str, threading.Thread] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def ledger(self):
        from ..agents.ledger import Ledger

        return Ledger(_settings().ledger_target)

    def pending(self) -> list[dict[str, Any]]:
        """Every unanswered question, oldest first: run, key, kind, tool, role, arguments, estimate, reason."""
        out = []
        for run in self.runs():
            for ask in self.ledger.pending_asks(run["run_id"]):
                p = ask["payload"] if isinstance(ask.get("payload"), dict) else {}
                out.append(
                    {
                        "run_id": run["run_id"],
                        "key": ask["key"],
                        "kind": ask["kind"],
                        "tool": p.get("tool"),
                        "role": p.get("role"),
                        "args": p.get("args"),
                        "estimate": p.get("estimate"),
                        "reason": p.get("reason", ""),
                    }
                )
        return out

    def runs(self) -> list[dict[str, Any]]:
        from ._mcp import _runs_listing

        return _runs_listing()

    def answer(self, run_id: str, key: str, kind: str, answer: Any) -> str:
        """Answer one pending question as this inbox's identity; returns what happens next."""
        asks = {a["key"]: a for a in self.ledger.pending_asks(run_id)}
        if key not in asks or asks[key]["kind"] != kind:
            raise NotFound(f"run {run_id!r} has no pending {kind} question {key!r}")
        if kind == "approval":
            _check_approval(asks[key]["payload"], answer)
        run = self.ledger.get_run(run_id)
        if run is not None and run.get("planner") == "mcp":
            # The MCP session waiting on it picks it up; the ledger records who answered, beside the answer.
            self.ledger.answer_ask(key, kind, answer, None, answered_by=self.approver)
            return "answered; the MCP client's call continues"
        worker = threading.Thread(target=self._resume, args=(run_id, key, answer), daemon=True)
        self.threads[run_id] = worker
        worker.start()
        return "answered; the run continues in the background"

    def _resume(self, run_id: str, key: str, answer: Any) -> None:
        try:
            if (_settings().runs_dir / run_id / "run.json").is_file():
                from ..skills import resume

                res = resume(
                    run_id, ask=lambda p: answer if p.payload.get("ask_key") == key else None, approver=self.identity
                )
                if res.status == "failed":
                    self.errors[run_id] = res.error or "failed"
            else:
                from ..agents.runs import Runs

                runs = Runs(_settings().model_copy(update={"approver": self.identity}))
                pid = next(p.id for p in runs.view(run_id).pending if p.payload.get("ask_key") == key)
                runs.approve(run_id, pid, answer)
        except LabwrightError as err:
            self.errors[run_id] = str(err)

    @property
    def approver(self) -> str:
        from ..agents.governance import local_approver

        return local_approver(explicit=self.identity)

    def busy(self, run_id: str) -> bool:
        t = self.threads.get(run_id)
        return t is not None and t.is_alive()


def _check_approval(payload: Any, answer: Any) -> None:
    """An edit must validate against the tool's input model before anything is answered."""
    if isinstance(answer, dict) and "edit" in answer:
        from ..tools.registry import get_tool

        tool = (payload or {}).get("tool")
        if not isinstance(answer["edit"], dict):
            raise InvalidInput("edit", "an edit is a JSON object of the tool's arguments")
        get_tool(tool).validate(answer["edit"])
    elif answer not in ("approve", "reject") and not (isinstance(answer, dict) and "reject" in answer):
        raise InvalidInput("answer", "an approval takes 'approve', 'reject' or {'edit': {...}}")


# --------------------------------------------------------------------------------------------------- web ----


def _csrf(token: str) -> str:
    return hmac.new(token.encode(), b"labwright-inbox-csrf", hashlib.sha256).hexdigest()


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>labwright inbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;
vertical-align:top}pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:20em}.err{color:#a00}
form{display:inline}textarea{width:100%;font-family:monospace}</style></head>
<body><h1><a href="/">labwright</a> inbox</h1><p>signed in as <b>{{ identity }}</b></p>
{% if message %}<p class="{{ 'err' if error else '' }}" id="message">{{ message }}</p>{% endif %}
{% block body %}{% endblock %}</body></html>"""

_INDEX = """{% extends "page" %}{% block body %}
<h2>Waiting for you ({{ pending|length }})</h2>
{% for q in pending %}<div class="question" id="q-{{ loop.index }}"><h3>{{ q.kind }}: {{ q.tool or '' }}
<small>run <a href="/runs/{{ q.run_id }}">{{ q.run_id }}</a>, role {{ q.role }}</small></h3>
<p>{{ q.reason }}</p>{% if q.estimate %}<p>estimate: {{ q.estimate }}</p>{% endif %}
<pre>{{ q.args | tojson(indent=2) }}</pre>
<form method="post" action="/answer"><input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="run_id" value="{{ q.run_id }}"><input type="hidden" name="key" value="{{ q.key }}">
<input type="hidden" name="kind" value="{{ q.kind }}"><button name="verdict" value="approve">Approve</button>
<button name="verdict" value="reject">Reject</button>
<details><summary>Edit the arguments</summary><textarea name="edit" rows="8">{{ q.args | tojson(indent=2) }}</textarea>
<button name="verdict" value="edit">Run with these arguments</button></details></form></div>
{% else %}<p>Nothing is waiting.</p>{% endfor %}
<h2>Runs</h2><table><tr><th>run</th><th>kind</th><th>status</th><th>request</th></tr>
{% for r in runs %}<tr><td><a href="/runs/{{ r.run_id }}">{{ r.run_id }}</a></td><td>{{ r.kind or r.planner }}</td>
<td>{{ r.status }}</td><td>{{ r.request }}</td></tr>{% endfor %}</table>
<p><a href="/audit">Verify the audit log</a></p>{% endblock %}"""

_RUN = """{% extends "page" %}{% block body %}<h2>Run {{ run_id }}</h2>
{% if live %}<p id="progress">running… (this page refreshes)</p><meta http-equiv="refresh" content="2">{% endif %}
{% if report %}<div id="report">{{ report | safe }}</div>{% else %}<p>No report yet.</p>{% endif %}
<h3>Progress (audit log, latest last)</h3><table id="events"><tr><th>time</th><th>who</th><th>event</th><th>tool</th>
<th>decision</th><th>approver</th></tr>{% for e in events %}<tr><td>{{ e.time }}</td><td>{{ e.actor }}</td>
<td>{{ e.event }}</td><td>{{ e.tool or '' }}</td><td>{{ e.decision or '' }}</td><td>{{ e.approver or '' }}</td></tr>
{% endfor %}</table>{% endblock %}"""

_AUDIT = """{% extends "page" %}{% block body %}<h2>Audit log</h2><pre id="audit">{{ verdict }}</pre>{% endblock %}"""

_LOGIN = """{% extends "page" %}{% block body %}<form method="post" action="/login">
<label>Token <input name="token" type="password" autofocus></label><button>Sign in</button></form>{% endblock %}"""


def create_app(token: str, identity: str | None = None):
    """The inbox as an ASGI app; every route needs ``token``."""
    import jinja2
    from markdown_it import MarkdownIt
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
    from starlette.routing import Route

    inbox = Inbox(identity=identity or _settings_identity())
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"page": _PAGE, "index": _INDEX, "run": _RUN, "audit": _AUDIT, "login": _LOGIN}),
        autoescape=True,
    )
    csrf = _csrf(token)

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.cookies.get(COOKIE)
        return bool(given) and hmac.compare_digest(given, token)

    def page(name: str, status: int = 200, **kw: Any) -> HTMLResponse:
        html = env.get_template(name).render(identity=inbox.identity, csrf=csrf, **kw)
        return HTMLResponse(html, status_code=status)

    def guard(handler):
        async def wrapped(request: Request) -> Response:
            if not authorised(request):
                if request.url.path.startswith("/api/"):
                    return JSONResponse({"error": "missing or wrong token"}, status_code=401)
                return page("login", status=401, message="Sign in with the token labwright serve printed.", error=True)
            return await handler(request)

        return wrapped

    async def index(request: Request) -> Response:
        return page("index", pending=inbox.pending(), runs=inbox.runs(), message=request.query_params.get("m"))

    async def answer_form(request: Request) -> Response:
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf):
            return page("index", 403, pending=inbox.pending(), runs=inbox.runs(), message="bad CSRF token", error=True)
        verdict = str(form.get("verdict", ""))
        try:
            if verdict == "edit":
                try:
                    edited = json.loads(str(form.get("edit", "")))
                except json.JSONDecodeError as err:
                    raise InvalidInput("edit", f"not valid JSON: {err.msg}") from None
                ans: Any = {"edit": edited}
            else:
                ans = verdict
            msg = inbox.answer(str(form["run_id"]), str(form["key"]), str(form["kind"]), ans)
        except (LabwrightError, KeyError) as err:
            return page("index", 400, pending=inbox.pending(), runs=inbox.runs(), message=str(err), error=True)
        return RedirectResponse(f"/?m={msg}", status_code=303)

    async def login(request: Request) -> Response:
        form = await request.form()
        if not hmac.compare_digest(str(form.get("token", "")), token):
            return page("login", status=401, message="wrong token", error=True)
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return resp

    async def login_page(request: Request) -> Response:
        return page("login")

    async def run_page(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        path = _run_file(run_id, "report.md")
        report = None
        if path is not None:
            text = path.read_text().replace("](", f"](/runs/{run_id}/files/")
            report = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
        events = _events(run_id)
        live = inbox.busy(run_id) or _recently_active(events)
        return page("run", run_id=run_id, report=report, live=live, events=events, message=inbox.errors.get(run_id))

    async def run_file(request: Request) -> Response:
        path = _run_file(request.path_params["run_id"], request.path_params["name"])
        if path is None or path.suffix.lower() not in (".png", ".json", ".md", ".csv"):
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(path)

    async def audit_page(request: Request) -> Response:
        from ..agents.audit import AuditLog

        report = AuditLog(_settings().audit_target).verify()
        return page("audit", verdict=report.model_dump_json(indent=2))

    async def api_events(request: Request) -> Response:
        rows = _events(request.path_params["run_id"])
        return JSONResponse({"events": [r.model_dump(mode="json", exclude={"prev_hash", "hash"}) for r in rows]})

    async def api_pending(request: Request) -> Response:
        return JSONResponse({"pending": inbox.pending(), "identity": inbox.identity})

    async def api_answer(request: Request) -> Response:
        try:
            body = await request.json()
            msg = inbox.answer(body["run_id"], body["key"], body.get("kind", "approval"), body["answer"])
        except (LabwrightError, KeyError, json.JSONDecodeError) as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse({"ok": True, "message": msg, "approver": inbox.identity})

    routes = [
        Route("/", guard(index)),
        Route("/answer", guard(answer_form), methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/runs/{run_id}", guard(run_page)),
        Route("/runs/{run_id}/files/{name:path}", guard(run_file)),
        Route("/audit", guard(audit_page)),
        Route("/api/pending", guard(api_pending)),
        Route("/api/runs/{run_id}/events", guard(api_events)),
        Route("/api/answer", guard(api_answer), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.inbox = inbox
    return app


EVENTS_SHOWN = 60
ACTIVE_SECONDS = 30.0  # a run with an event this recent is shown as running (another process may drive it)


def _events(run_id: str) -> list:
    """The run's latest audit rows, oldest first: its live progress, whichever process is driving it."""
    from ..agents.audit import AuditLog

    return AuditLog(_settings().audit_target).rows(run_id)[-EVENTS_SHOWN:]


def _recently_active(events: list) -> bool:
    from datetime import UTC, datetime

    if not events or events[-1].event in ("answer", "run_finished", "run_failed"):  # chat and workflow endings
        return False
    try:
        last = datetime.fromisoformat(events[-1].time)
    except ValueError:
        return False
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return (datetime.now(UTC) - last).total_seconds() < ACTIVE_SECONDS


def _run_file(run_id: str, name: str) -> Path | None:
    """A file of a run's folder, or None; names that climb out of the runs folder are refused."""
    runs = _settings().runs_dir.resolve()
    path = (runs / run_id / name).resolve()
    return path if path.is_relative_to(runs) and path.is_file() else None


def _settings_identity() -> str:
    from ..agents.governance import local_approver

    return local_approver(_settings()).removeprefix("human:")


def serve(host: str = "127.0.0.1", port: int = 8766, *, token: str | None = None, identity: str | None = None) -> None:
    """Run the inbox until interrupted; prints the address and token."""
    import uvicorn

    token = token or new_token()
    print(f"labwright inbox on http://{host}:{port}/  token: {token}", flush=True)
    uvicorn.run(create_app(token, identity), host=host, port=port, log_level="warning")
