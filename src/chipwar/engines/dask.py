"""The Dask engine: chunks as tasks on a Dask distributed cluster (the ``chipwar[dask]`` extra).

With an ``address`` it joins a running scheduler (``dask scheduler`` and ``dask worker`` started
by the user); without one it starts a cluster of this machine's cores, bound to 127.0.0.1,
for the run and stops it after. ``shared`` is scattered to every worker once; at most
``AHEAD`` chunks per worker are in flight and results are taken in chunk order, so the
reduce sees exactly what the local engine gives.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any, Callable, Iterator, Sequence, TypeVar

from ..errors import EnvironmentProblem, require
from . import run_chunk

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

AHEAD = 2
CONNECT_SECONDS = 10


class DaskEngine:
    """A Dask distributed client, on a cluster it started or one at ``address``."""

    name = "dask"

    def __init__(self, address: str | None = None) -> None:
        require("--engine dask", ["distributed"], "dask")
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        try:
            if address is None:
                self._cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                             dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
                                             silence_logs=40)
                self._client = Client(self._cluster)
            else:
                self._client = Client(address, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError, RuntimeError) as exc:
            self.close()
            where = address or "a local cluster on 127.0.0.1"
            raise EnvironmentProblem(f"--address {where}: no Dask scheduler could be reached ({exc})",
                                     hint="start one with `dask scheduler --host 127.0.0.1 --dashboard-address 127.0.0.1:0` and "
                                          "`dask worker tcp://127.0.0.1:8786 --host 127.0.0.1 --dashboard-address 127.0.0.1:0`, then pass "
                                          "--address tcp://127.0.0.1:8786 (a script that starts a cluster itself needs `if __name__ == "
                                          "'__main__':`)") from None
        self.address = address

    def workers(self) -> int:
        return max(len(self._client.scheduler_info(n_workers=-1).get("workers", {})), 1)

    def describe(self) -> str:
        where = self.address or "a cluster started on 127.0.0.1"
        return f"dask, {self.workers()} worker(s) at {where}"

    def map(self, fn: Callable[[S, list[T]], R], shared: S, chunks: Sequence[list[T]]) -> Iterator[R]:
        if not chunks:
            return
        from distributed import KilledWorker

        job = self._client.scatter(shared, broadcast=True, hash=False)
        pending: deque = deque()
        todo = iter(chunks)
        limit = self.workers() * AHEAD
        for chunk in todo:
            pending.append(self._client.submit(run_chunk, fn, job, chunk, pure=False))
            if len(pending) >= limit:
                break
        try:
            while pending:
                result = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(self._client.submit(run_chunk, fn, job, nxt, pure=False))
                yield result
        except KilledWorker as exc:
            raise EnvironmentProblem(f"a Dask worker died while running {fn.__name__} ({exc}); nothing written",
                                     hint="check the workers' memory and logs, then run it again") from None
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        client, cluster = getattr(self, "_client", None), self._cluster
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
