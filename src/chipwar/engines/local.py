"""The local engine: chunks of documents over forked worker processes, results in order.

Validation and the dataset build do the same work per document, independently; on a
multi-core machine their chunks go to one forked worker per core (at most ``MAX_WORKERS``).
Forking shares what the parent prepared (compiled schemas, layouts) instead of pickling it;
results come back in chunk order, so output is the same for any number of workers. At most
``AHEAD`` chunks per worker are in flight, so a parent slower than its workers (writing
Parquet) never piles up results in memory.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from typing import Any, Callable, Iterator, Sequence, TypeVar

from . import run_chunk

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4
AHEAD = 2

#: The running job: the function and what it shares, inherited by the forked workers.
_JOB: tuple[Callable[[Any, Any], Any], Any] | None = None


class Chunks(Sequence[list[T]]):
    """Chunks of ``items`` by (start, end) bounds, each made only when it is taken: a corpus's
    ids are held once, compactly, never as a second list of lists."""

    def __init__(self, items: Sequence[T], bounds: list[tuple[int, int]]) -> None:
        self.items, self.bounds = items, bounds

    def __len__(self) -> int:
        return len(self.bounds)

    def __getitem__(self, i: int) -> list[T]:  # type: ignore[override]
        a, b = self.bounds[i]
        return list(self.items[a:b])


def bounds(n: int, size: int, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) of consecutive pieces of ``size`` over ``start .. start + n``."""
    return [(i, min(i + size, start + n)) for i in range(start, start + n, size)]


def chunked(items: Sequence[T], size: int) -> Chunks[T]:
    return Chunks(items, bounds(len(items), size))


def _start_worker() -> None:
    """What the parent holds is never garbage: freezing it keeps the collector from walking (and
    copy-on-write from duplicating) it in every collection of the worker's own short-lived rows."""
    gc.freeze()


def _run(chunk: Any) -> Any:
    assert _JOB is not None
    fn, shared = _JOB
    return run_chunk(fn, shared, chunk)


def workers_for(n_chunks: int) -> int:
    return min(n_chunks, os.cpu_count() or 1, MAX_WORKERS)


def ordered_map(fn: Callable[[S, list[T]], R], shared: S, chunks: Sequence[list[T]]) -> Iterator[R]:
    """``fn(shared, chunk)`` for every chunk, in order; across worker processes when there is
    more than one chunk and core. ``fn`` must be a module-level function; ``shared`` reaches
    the workers by fork, never pickled. One job at a time."""
    global _JOB
    workers = workers_for(len(chunks))
    if workers < 2:
        yield from (run_chunk(fn, shared, chunk) for chunk in chunks)
        return
    _JOB = (fn, shared)
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker) as pool:
            pending: deque = deque()
            todo = iter(chunks)
            for chunk in todo:
                pending.append(pool.apply_async(_run, (chunk,)))
                if len(pending) >= workers * AHEAD:
                    break
            while pending:
                result = pending.popleft().get()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_run, (nxt,)))
                yield result
    finally:
        _JOB = None


class LocalEngine:
    """This machine's cores (:func:`ordered_map`)."""

    name = "local"

    def map(self, fn: Callable[[S, list[T]], R], shared: S, chunks: Sequence[list[T]]) -> Iterator[R]:
        return ordered_map(fn, shared, chunks)

    def describe(self) -> str:
        return f"local, up to {min(os.cpu_count() or 1, MAX_WORKERS)} worker process(es) on this machine (one per chunk of documents)"

    def close(self) -> None:
        """Nothing to release: the pool lives only while a map runs."""
