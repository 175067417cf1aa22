"""Documents in chunks over worker processes, results in order.

Validation and the dataset build do the same work per document, independently; on a
multi-core machine their chunks go to one forked worker per core (at most ``MAX_WORKERS``).
Forking shares what the parent prepared (compiled schemas, layouts) instead of pickling it;
results come back in chunk order, so output is the same for any number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4


def chunked(items: list[T], size: int) -> list[list[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def ordered_map(fn: Callable[[list[T]], R], chunks: list[list[T]]) -> Iterator[R]:
    """``map(fn, chunks)``, across worker processes when there is more than one chunk and core.

    ``fn`` must be a module-level function that reads what it shares from module state set
    before this call."""
    workers = min(len(chunks), os.cpu_count() or 1, MAX_WORKERS)
    if workers < 2:
        yield from map(fn, chunks)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(fn, chunks)
