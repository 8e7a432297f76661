"""Pausing Python's cyclic garbage collector around bulk work."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block that allocates many container objects.

    A bulk import allocates millions of small acyclic objects (events, concepts, rows), and s-components build
    hundreds of thousands of lists; reference counting frees them, but the cyclic collector would traverse the
    growing live set again and again (about a third of the build time at 160k edges, three quarters of the s = 2
    components time; JAX, imported by the tools, also hooks every collection). Collection resumes (if it was on)
    when the block ends, also on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
