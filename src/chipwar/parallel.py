"""Documents in chunks over worker processes, results in order.

Validation and the dataset build do the same work per document, independently; on a
multi-core machine their chunks go to one forked worker per core (at most ``MAX_WORKERS``).
Forking shares what the parent prepared (compiled schemas, layouts) instead of pickling it;
results come back in chunk order, so output is the same for any number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, Iterator, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4

#: The running job: the function and what it shares, inherited by the forked workers.
_JOB: tuple[Callable[[Any, Any], Any], Any] | None = None


def chunked(items: list[T], size: int) -> list[list[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _run(chunk: Any) -> Any:
    assert _JOB is not None
    fn, shared = _JOB
    return fn(shared, chunk)


def ordered_map(fn: Callable[[S, list[T]], R], shared: S, chunks: list[list[T]]) -> Iterator[R]:
    """``fn(shared, chunk)`` for every chunk, in order; across worker processes when there is
    more than one chunk and core. ``fn`` must be a module-level function; ``shared`` reaches
    the workers by fork, never pickled. One job at a time."""
    global _JOB
    workers = min(len(chunks), os.cpu_count() or 1, MAX_WORKERS)
    if workers < 2:
        yield from (fn(shared, chunk) for chunk in chunks)
        return
    _JOB = (fn, shared)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_run, chunks)
    finally:
        _JOB = None
