"""The PostgreSQL foundation (labwright._postgres) on a real server started by the tests (pgserver)."""

from __future__ import annotations

import pytest
from labwright._postgres import PostgresFile, connect, is_postgres_url, namespace_lock_id, redact_url
from labwright.agents._sqlite import SqliteFile
from labwright.errors import InvalidInput

_COUNTER = "CREATE TABLE IF NOT EXISTS counter (n INTEGER PRIMARY KEY, who TEXT NOT NULL);"


class _Counter(PostgresFile):
    schema = _COUNTER
    namespace = "counter_test"

    def bump(self, who: str) -> int:
        # read-then-insert: without the write lock two writers would read the same max and collide on the key
        with self._tx() as conn:
            (last,) = conn.execute("SELECT COALESCE(MAX(n), 0) FROM counter").fetchone()
            conn.execute("INSERT INTO counter VALUES (?, ?)", (last + 1, who))
            return last + 1


def test_url_detection_and_redaction():
    assert is_postgres_url("postgresql://u@h/db") and is_postgres_url("postgres://u@h/db")
    assert not is_postgres_url("/tmp/ledger.sqlite") and not is_postgres_url(None)
    assert redact_url("postgresql://lab:s3cret@db:5432/x") == "postgresql://lab:***@db:5432/x"
    assert redact_url("postgresql://lab@db/x") == "postgresql://lab@db/x"
    assert namespace_lock_id("audit") == namespace_lock_id("audit") != namespace_lock_id("ledger")


def test_bad_urls_raise_invalid_input_naming_the_field_without_the_password(tmp_path):
    with pytest.raises(InvalidInput, match="database_url"):
        connect("sqlite:///x.db")
    # Nothing listens on this socket folder: a refused connection, reported without the password.
    with pytest.raises(InvalidInput, match="database_url") as err:
        connect(f"postgresql://lab:s3cret@/db?host={tmp_path}&connect_timeout=2")
    assert "s3cret" not in str(err.value)


@pytest.mark.postgres
def test_sqlite_placeholders_rollback_and_namespaces(postgres_url):
    store = _Counter(postgres_url)
    assert store.bump("a") == 1
    with pytest.raises(RuntimeError), store._tx() as conn:
        conn.execute("INSERT INTO counter VALUES (?, ?)", (2, "100% rolled back"))
        raise RuntimeError("abort")
    assert store._all("SELECT n, who FROM counter ORDER BY n") == [(1, "a")]
    # Another namespace of the same database has its own table of the same name.
    other = PostgresFile(postgres_url, schema=_COUNTER, namespace="other_test")
    assert other._one("SELECT COUNT(*) FROM counter") == (0,)
    with other._snapshot() as conn:
        assert conn.execute("SELECT current_schema()").fetchone() == ("other_test",)
    store.close()
    other.close()


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_opened_again(postgres_url):
    """A restart or a terminated backend breaks the connection; the next read and the next transaction work (the
    4-process serialisation is tested on the audit chain, tests/security/test_audit_postgres.py)."""
    import psycopg

    store = _Counter(postgres_url)
    store.bump("a")

    def terminate() -> None:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.raw.info.backend_pid,))

    terminate()
    assert store._one("SELECT COUNT(*) FROM counter") == (1,)
    terminate()
    assert store.bump("b") == 2
    terminate()
    with store._snapshot() as conn:
        assert conn.execute("SELECT who FROM counter ORDER BY n").fetchall() == [("a",), ("b",)]
    store.close()


def test_sqlite_file_takes_its_schema_as_an_argument(tmp_path):
    db = SqliteFile(tmp_path / "c.sqlite", schema=_COUNTER)
    with db._tx() as conn:
        conn.execute("INSERT INTO counter VALUES (?, ?)", (1, "a"))
    with db._snapshot() as conn:
        assert conn.execute("SELECT who FROM counter").fetchall() == [("a",)]


@pytest.mark.postgres
def test_a_write_lock_that_times_out_leaves_no_transaction_open(postgres_url):
    """Another writer holds the namespace's lock past this session's lock_timeout: the write fails cleanly and the
    next one, once the lock is free, succeeds on the same connection."""
    import psycopg

    store = _Counter(postgres_url)
    store._conn.execute("SET lock_timeout = '200ms'")  # this session only
    with psycopg.connect(postgres_url) as holder:  # a transaction holding the counter's write lock
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (namespace_lock_id("counter_test"),))
        with pytest.raises(psycopg.errors.LockNotAvailable):
            store.bump("late")
    assert store.bump("next") == 1
    assert store._all("SELECT who FROM counter") == [("next",)]
