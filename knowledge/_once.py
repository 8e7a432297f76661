"""Exactly-once store writes for governed calls: the effect and its recorded outcome commit in one transaction.

A governed call stores its outcome in the run's ledger only after the tool returns. A process killed between the
store's commit and that ledger write would, on resume, run the tool again — a second ingest (at-least-once). Here a
writing tool runs its whole write inside one store transaction that also records the call's idempotency key and its
output (:meth:`KnowledgeStore.record_call`); a resumed call with the same key finds the record and returns the stored
output without writing anything. Outside a governed call (no key) the tool just runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from ..metering import current_call
from ._store import KnowledgeStore

__all__ = ["exactly_once"]

M = TypeVar("M", bound=BaseModel)


def exactly_once(store: KnowledgeStore, output_model: type[M], write: Callable[[], M]) -> M:
    """Run ``write`` (which writes ``store`` and returns the tool's output) at most once per governed call."""
    scope = current_call()
    if scope is None:
        return write()
    done = store.applied_call(scope.key)
    if done is not None:
        return output_model.model_validate(done)
    # One transaction around the tool's own (nested) transactions: the writes and the record commit together. It
    # holds the store's write lock for the whole call, extraction included; readers are not blocked (WAL).
    with store.transaction():
        done = store.applied_call(scope.key)  # another process may have finished the same call meanwhile
        if done is not None:
            return output_model.model_validate(done)
        out = write()
        store.record_call(scope.key, scope.tool, out.model_dump(mode="json"))
    return out
