"""Fixtures for the knowledge tests: stores on each backend (an SQLite file; a schema of a real PostgreSQL server,
marked ``postgres``), the shipped corpus in a fresh store, and a local OpenAI-compatible server."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from labwright.knowledge import KnowledgeStore, ingest_documents, migrate_store, read_corpus

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus" / "passages.jsonl"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
STORE_TABLES = ("nodes", "aliases", "edges", "incidences", "documents", "provenance")


def with_schema(url: str, name: str) -> str:
    """``url`` naming the PostgreSQL schema ``name`` (libpq's ``options=-csearch_path=``): one store per schema."""
    schema = re.sub(r"\W", "_", name)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The store backend a test runs on: every test taking ``store_at`` or ``corpus_store`` runs on both."""
    return request.param


@pytest.fixture
def store_at(backend, tmp_path, request) -> Callable[..., str | Path]:
    """``store_at(name)``: where a fresh store ``name`` lives on the test's backend, a file in ``tmp_path`` or a
    schema of the test's own PostgreSQL database."""
    if backend == "sqlite":
        return lambda name="kg": tmp_path / f"{name}.sqlite"
    url = request.getfixturevalue("postgres_url")
    return lambda name="kg": with_schema(url, name)


def dump_rows(location: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every committed row of the store at ``location`` but its meta rows, read through a second connection (so
    uncommitted writes of the store under test are invisible), in a fixed order."""
    with KnowledgeStore(location, readonly=True) as other:
        return {t: sorted(map(tuple, other.conn.execute(f"SELECT * FROM {t}"))) for t in STORE_TABLES}


@pytest.fixture(scope="session")
def _corpus_file(tmp_path_factory) -> Path:
    """The shipped example corpus ingested offline once per session (extraction takes about a second)."""
    path = tmp_path_factory.mktemp("corpus") / "kg.sqlite"
    with KnowledgeStore(path) as store:
        ingest_documents(store, read_corpus(CORPUS), extractor="offline")
    return path


@pytest.fixture
def corpus_store(_corpus_file, store_at, backend) -> Iterator[KnowledgeStore]:
    """A private copy of the offline-ingested example corpus on the test's backend (tests may write to it)."""
    where = store_at("kg")
    if backend == "sqlite":
        src = sqlite3.connect(_corpus_file)
        dst = sqlite3.connect(where)
        src.backup(dst)  # a consistent copy whatever the journal mode
        src.close()
        dst.close()
    else:
        migrate_store(_corpus_file, where)
    store = KnowledgeStore(where)
    yield store
    store.close()


class ChatServer:
    """A tiny threaded HTTP server speaking the OpenAI chat-completions and embeddings protocols on 127.0.0.1.

    ``reply(request_json) -> str`` produces the assistant message content; ``embed(text) -> list[float]`` the vector
    of one input of ``/v1/embeddings`` (without it that path answers 404, like a server with no embedding model).
    Every chat request body is kept in ``requests``, every embeddings request body in ``embedding_requests``.
    """

    def __init__(self, reply: Callable[[dict], str], embed: Callable[[str], list[float]] | None = None):
        self.reply = reply
        self.embed = embed
        self.requests: list[dict] = []
        self.embedding_requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path.endswith("/embeddings"):
                    server.embedding_requests.append(body)
                    self._embeddings(body)
                    return
                server.requests.append(body)
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                content = server.reply(body)
                payload = json.dumps(
                    {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "test"),
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                ).encode()
                self._send(payload)

            def _send(self, payload: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _embeddings(self, body: dict) -> None:
                if server.embed is None:
                    self.send_error(404)
                    return
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [{"object": "embedding", "index": i, "embedding": server.embed(t)} for i, t in enumerate(texts)]
                usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
                self._send(
                    json.dumps({"object": "list", "data": data, "model": body["model"], "usage": usage}).encode()
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat_server(monkeypatch):
    """Start a ChatServer with a given reply function and point LABWRIGHT_BASE_URL/MODEL at it."""
    servers: list[ChatServer] = []

    def start(reply: Callable[[dict], str], embed: Callable[[str], list[float]] | None = None) -> ChatServer:
        srv = ChatServer(reply, embed).__enter__()
        servers.append(srv)
        monkeypatch.setenv("LABWRIGHT_BASE_URL", srv.base_url)
        monkeypatch.setenv("LABWRIGHT_MODEL", "local-test-model")
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        return srv

    yield start
    for srv in servers:
        srv.__exit__()
