"""Where chunks of per-document work run: this machine's cores, or a Dask cluster.

Validation and the build are written once as a map and a reduce: a module-level function
``fn(shared, chunk)`` checks (and builds) one chunk of documents, and the caller merges the
results in chunk order (corpus-wide checks: ids, canonical entities). An engine runs only the
map, so every engine gives the same problems and byte-identical output.

``local`` forks one worker per core (:mod:`.local`); ``dask`` sends the chunks to a Dask
distributed cluster (:mod:`.dask`, the ``chipwar[dask]`` extra): ``shared`` is pickled once
per worker (compiled schemas are rebuilt there from their JSON), and every worker reads the
corpus at the same path, so the corpus must be on a file system all machines mount.
"""

from __future__ import annotations

import gc
from typing import Callable, Iterator, Protocol, Sequence, TypeVar

from ..errors import UsageError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("local", "dask")


class Engine(Protocol):
    """Runs ``fn(shared, chunk)`` over chunks and yields the results in chunk order."""

    name: str

    def map(self, fn: Callable[[S, list[T]], R], shared: S, chunks: Sequence[list[T]]) -> Iterator[R]: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


def run_chunk(fn: Callable[[S, list[T]], R], shared: S, chunk: list[T]) -> R:
    """``fn(shared, chunk)`` with the cyclic garbage collector paused: a chunk makes millions of
    short-lived objects (parsed JSON, rows) that reference counting frees, and collections walking
    them took a third of a build's time. What a chunk leaves is collected after it, so memory
    stays bounded by one chunk. Every engine runs chunks through here."""
    was = gc.isenabled()
    gc.disable()
    try:
        return fn(shared, chunk)
    finally:
        if was:
            gc.enable()


def engine_for(name: str = "local", address: str | None = None) -> Engine:
    """The engine called ``name``; ``address`` (a scheduler, ``tcp://HOST:PORT``) only for ``dask``,
    which without one starts a cluster of this machine's cores on 127.0.0.1 for the run."""
    if name == "local":
        if address is not None:
            raise UsageError("--address: only with --engine dask", hint="drop --address, or add --engine dask")
        from .local import LocalEngine

        return LocalEngine()
    if name == "dask":
        from .dask import DaskEngine

        return DaskEngine(address)
    raise UsageError(f"--engine {name!r}: no such engine", hint=f"use one of: {', '.join(ENGINES)}")
