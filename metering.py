"""Metered model requests and the governed call a tool runs in, for code below the agents (tools/, knowledge/).

Tools and the knowledge store never import :mod:`labwright.agents` (the layering rule), yet a tool that calls a
language model must spend the *run's* token budget, and a store write must know which governed call it belongs to.
This module is the seam: the governed executor (:func:`labwright.agents.governance.governed_call`) enters
:func:`tool_call` around every tool it runs, and code underneath asks :func:`current_call` for

* ``key`` — the call's idempotency key (:mod:`labwright.knowledge` records it in the same transaction as a store
  write, so a resumed call finds its effect instead of repeating it);
* ``meter`` — a :class:`Meter` that caps each model request's ``max_tokens`` to what the run's budget leaves and
  records the tokens the reply reports in the run's ledger.

:func:`metered_request` is the one way a tool sends a model request: ``max_tokens`` is always set (the tool's own
cap, lowered by the meter), and the tokens are counted. Outside a governed run there is no meter and only the cap
applies.

The scope is a :class:`contextvars.ContextVar`: it follows the tool into code it calls, and into a thread only if the
thread is started with :func:`contextvars.copy_context`. A :class:`CallScope` pickles (the run's meter opens the
run's ledger by path in whatever process it is used), so an executor that runs the tool in another process sends
``current_call()`` along with the arguments and runs the tool inside ``entered(scope)`` there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .errors import LabwrightError

__all__ = [
    "Meter",
    "CallScope",
    "BudgetExhausted",
    "current_call",
    "tool_call",
    "entered",
    "metered_request",
    "crash_point",
]

T = TypeVar("T")


class BudgetExhausted(LabwrightError):
    """A tool's model request found the run's token budget spent; the call fails and the run's budget pause follows."""


class Meter(Protocol):
    """What a run offers tools for model requests."""

    def allow(self, max_tokens: int, prompt_tokens: int = 0) -> int:
        """The ``max_tokens`` the next request may use (at most ``max_tokens``) once its prompt (estimated at
        ``prompt_tokens``) is paid; :class:`BudgetExhausted` if nothing is left."""
        ...

    def record(self, tokens: int, *, label: str) -> None:
        """Count ``tokens`` (prompt + completion, as the reply reports) against the run."""
        ...


@dataclass(frozen=True)
class CallScope:
    """The governed call a tool is running in; ``confined`` lists the paths its gate resolved and checked (opened
    without following symlinks, see :mod:`labwright.tools._confined`)."""

    key: str
    tool: str
    meter: Meter | None = None
    confined: tuple[str, ...] = ()


_CURRENT: ContextVar[CallScope | None] = ContextVar("labwright_tool_call", default=None)


def current_call() -> CallScope | None:
    """The governed call the current code runs in, or ``None`` outside one."""
    return _CURRENT.get()


@contextlib.contextmanager
def tool_call(key: str, tool: str, meter: Meter | None = None, confined: tuple[str, ...] = ()) -> Iterator[CallScope]:
    """Run the body as governed call ``key`` of ``tool`` (used by the governed executor)."""
    scope = CallScope(key=key, tool=tool, meter=meter, confined=tuple(confined))
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def entered(scope: CallScope | None) -> Iterator[CallScope | None]:
    """Run the body inside ``scope`` (one received from another process); ``None`` leaves the context as it is."""
    if scope is None:
        yield None
        return
    with tool_call(scope.key, scope.tool, scope.meter, scope.confined) as inner:
        yield inner


def metered_request(send: Callable[[int], tuple[T, int]], *, max_tokens: int, label: str, prompt_tokens: int = 0) -> T:
    """Send one model request under the current run's meter.

    Parameters
    ----------
    send
        ``send(max_tokens) -> (reply, tokens_used)``; it must pass ``max_tokens`` on to the endpoint.
    max_tokens
        The caller's own cap on the reply (always sent; the meter may lower it).
    label
        What the request is for (recorded with the tokens).
    prompt_tokens
        Estimated size of the prompt: the reply may use only what the budget leaves after it.
    """
    if max_tokens <= 0:
        raise ValueError("max_tokens must be positive")
    scope = current_call()
    meter = scope.meter if scope is not None else None
    cap = meter.allow(max_tokens, prompt_tokens) if meter is not None else max_tokens
    reply, tokens = send(cap)
    if meter is not None:
        meter.record(int(tokens), label=label)
    return reply


def crash_point(name: str) -> None:
    """Test hook: end the process at once (``os._exit``, no clean-up) when ``LABWRIGHT_TEST_CRASH_AT`` is ``name``.

    It marks the seams where a crash must not break exactly-once side effects; tests kill the process there and
    resume in another one. Unset in production, it costs one environment lookup.
    """
    if os.environ.get("LABWRIGHT_TEST_CRASH_AT") == name:
        os._exit(86)
