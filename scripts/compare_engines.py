#!/usr/bin/env python3
"""Dask distributed against Ray (core tasks) for chipwar's per-chunk work, on this machine.

chipwar runs ``fn(shared, chunk_of_doc_ids)`` over chunks of 250 documents and consumes the
results in order (``chipwar.engines.local.ordered_map``, a fork pool). This script measures, on a
synthetic corpus (``chipwar.synthetic.write_synthetic_corpus``, ~25 annotations per document):

- the real validation work, ``chipwar.validation.run.check_chunk``, and
- shipping back a ~2 MB pyarrow Table per chunk (what the build returns),

each case in a fresh subprocess:

``serial``   in-process, one core (the floor);
``fork``     the existing fork pool, ``chipwar.engines.local.ordered_map`` (2 workers);
``dask``     ``distributed.LocalCluster(processes=True, host="127.0.0.1", dashboard_address=None)``
             + ``Client.map``, results in order, W = 1 and 2;
``ray``      ``ray.init(num_cpus=W, include_dashboard=False, _node_ip_address="127.0.0.1")``,
             one ``@ray.remote`` task per chunk, ``ray.get`` in order, W = 1 and 2.

A Job (compiled schemas) may not pickle, so on the engines each task gets the corpus root (a
string) and the worker builds the Job once per process (``functools.lru_cache``).

Ray is not a chipwar dependency: run this in a venv of its own, e.g. ``python -m venv /tmp/engvenv &&
/tmp/engvenv/bin/pip install -e '.[hf,dask]' ray``. The figures behind the README's choice of Dask
came from this script (BENCHMARKS.md).

Reported per case: engine start-up, map wall time (including the driver's listing of the
corpus), CPU time of every process in the tree during the map (psutil, plus reaped children),
peak RSS (sum over the process tree, and the largest single process), the ratio to ``fork`` and
the W=1 -> W=2 speed-up; also import time and install size of each engine. Each case runs
``--repeat`` times; the best wall time is kept.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

EXAMPLE = """\
examples:
  python scripts/compare_engines.py                       # 20,000 documents, every case twice
  python scripts/compare_engines.py --docs 2000 --format json
  python scripts/compare_engines.py --cases fork,dask --workers 2 --payload table
"""

HERE = Path(__file__).resolve().parent
CHUNK_DOCS = 250
CASES = ("serial", "fork", "dask", "ray")
PAYLOADS = ("validate", "table")


# --------------------------------------------------------------------------- the work

def make_job(root: str) -> Any:
    """The Job ``validate_scope`` makes for a whole-corpus run, and the document ids it goes through."""
    from chipwar.corpus import Corpus
    from chipwar.schema import load_schemas
    from chipwar.validation.chunk import Job
    from chipwar.validation.listing import Folder, list_folder, list_sets
    from chipwar.validation.run import _doc_ids
    from chipwar.validation.scope import WHOLE

    corpus = Corpus(Path(root))
    import chipwar.validation.run as run
    if hasattr(run, "plan_run"):  # later trees: the planning step is its own function
        planned = run.plan_run(corpus, WHOLE)
        return planned.job, planned.doc_ids
    schemas = load_schemas(corpus.schema_dir)
    docs = list_folder(root, str(corpus.corpus_dir), "corpus", (".txt", ".json"))
    assert isinstance(docs, Folder)
    sets, _problems = list_sets(corpus, WHOLE, root)
    job = Job(schemas, docs, tuple(sets), True, list_checked=not WHOLE.whole)
    return job, _doc_ids(WHOLE, docs, sets)


@functools.lru_cache(maxsize=4)
def worker_job(root: str) -> Any:
    """The Job, built once per worker process."""
    return make_job(root)[0]


def _chunk_fn() -> Callable[[Any, list[str]], Any]:
    """The validation map, ``chipwar.validation.run.check_chunk``."""
    import chipwar.validation.run as run
    return run.check_chunk


def _ordered_map() -> Any:
    """The fork pool's module, ``chipwar.engines.local``."""
    import chipwar.engines.local as par
    return par


def check_local(job: Any, doc_ids: list[str]) -> Any:
    return _chunk_fn()(job, doc_ids)


def check_remote(root: str, doc_ids: list[str]) -> Any:
    return _chunk_fn()(worker_job(root), doc_ids)


def table_for(_shared: Any, doc_ids: list[str], mib: float = 2.0) -> Any:
    """A ~``mib`` MiB pyarrow Table for a chunk (a stand-in for the build's per-chunk tables)."""
    import numpy as np
    import pyarrow as pa
    n = len(doc_ids)
    per_row = max(1, int(mib * 2 ** 20 / max(n, 1)) - 64)
    rng = np.random.default_rng(abs(hash(doc_ids[0])) % 2 ** 32 if doc_ids else 0)
    blob = rng.integers(97, 123, size=per_row * n, dtype=np.uint8).tobytes().decode("ascii")
    texts = [blob[i * per_row:(i + 1) * per_row] for i in range(n)]
    return pa.table({"doc_id": pa.array(doc_ids), "text": pa.array(texts, pa.large_string()),
                     "n": pa.array(np.arange(n, dtype=np.int64))})


def consume(result: Any, acc: dict[str, int]) -> None:
    """What the caller does with each result, in order: merge counts (validate) or count rows (build)."""
    if hasattr(result, "num_rows"):
        acc["rows"] = acc.get("rows", 0) + result.num_rows
        acc["bytes"] = acc.get("bytes", 0) + result.nbytes
        return
    acc["problems"] = acc.get("problems", 0) + len(result.report.problems)
    for key, n in result.report.counts.items():
        acc[key] = acc.get(key, 0) + n


# --------------------------------------------------------------------------- measuring

class Tree:
    """CPU and RSS of this process and every descendant, sampled in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil
        self.psutil = psutil
        self.me = psutil.Process()
        self.interval = interval
        self.peak_sum = 0
        self.peak_one = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def procs(self) -> list[Any]:
        try:
            return [self.me, *self.me.children(recursive=True)]
        except self.psutil.Error:
            return [self.me]

    def sample_rss(self) -> None:
        total = 0
        for p in self.procs():
            try:
                rss = p.memory_info().rss
            except self.psutil.Error:
                continue
            total += rss
            self.peak_one = max(self.peak_one, rss)
        self.peak_sum = max(self.peak_sum, total)

    def cpu(self) -> dict[int, float]:
        """CPU seconds of each live descendant (not this process), by (pid, create time)."""
        out = {}
        for p in self.procs()[1:]:
            try:
                t = p.cpu_times()
                out[(p.pid, p.create_time())] = t.user + t.system
            except self.psutil.Error:
                continue
        return out

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample_rss()
            self._stop.wait(self.interval)

    def __enter__(self) -> Tree:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.sample_rss()


def own_cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, every process)."""
    import psutil
    t = psutil.cpu_times()
    return t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)


def listening(pids: set[int]) -> list[str]:
    """Listening TCP sockets of these processes, as address:port."""
    import psutil
    out = set()
    try:
        conns = psutil.net_connections("tcp")
    except psutil.Error:
        return ["(could not list sockets)"]
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.pid in pids:
            out.add(f"{c.laddr.ip}:{c.laddr.port}")
    return sorted(out)


# --------------------------------------------------------------------------- one case (in a subprocess)

def run_case(case: str, workers: int, root: str, payload: str, table_mib: float) -> dict[str, Any]:
    import warnings
    caught: list[str] = []
    warnings.simplefilter("always")
    old_show = warnings.showwarning
    warnings.showwarning = lambda msg, cat, *a, **k: caught.append(f"{cat.__name__}: {str(msg)[:160]}")
    out: dict[str, Any] = {"case": case, "workers": workers, "payload": payload}
    tree = Tree()
    t_import = time.perf_counter()
    if case == "dask":
        import distributed  # noqa: F401
    elif case == "ray":
        # Ray 2.60 turns _node_ip_address="127.0.0.1" into the machine's address (services.resolve_ip_for_localhost)
        # and binds its gRPC servers on [::]; with "clusters" off it keeps to 127.0.0.1 (every server, checked below)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        import ray
    out["import_s"] = time.perf_counter() - t_import
    with tree:
        # start-up
        t0 = time.perf_counter()
        client = cluster = None
        if case == "dask":
            from distributed import Client, LocalCluster
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None)
            client = Client(cluster)
            client.wait_for_workers(workers)
        elif case == "ray":
            import ray
            ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1",
                     log_to_driver=True, configure_logging=True, logging_level="warning")
        out["startup_s"] = time.perf_counter() - t0
        pids = {p.pid for p in tree.procs()}
        out["listening"] = listening(pids)
        out["processes_after_startup"] = len(pids)

        # the map: list the corpus, run every chunk, consume in order
        cpu_before, own_before, busy_before = tree.cpu(), own_cpu(), machine_busy()
        t1 = time.perf_counter()
        job, doc_ids = make_job(root)
        chunks = [doc_ids[i:i + CHUNK_DOCS] for i in range(0, len(doc_ids), CHUNK_DOCS)]
        acc: dict[str, int] = {}
        if payload == "validate":
            local_fn, remote_fn, local_shared = check_local, check_remote, job
        else:
            local_fn = functools.partial(_table_shim, mib=table_mib)
            remote_fn, local_shared = table_remote, root
        extra = () if payload == "validate" else (table_mib,)
        if case == "serial":
            for chunk in chunks:
                consume(local_fn(local_shared, chunk), acc)
        elif case == "fork":
            par = _ordered_map()
            old = par.MAX_WORKERS
            par.MAX_WORKERS = workers
            try:
                for result in par.ordered_map(local_fn, local_shared, chunks):
                    consume(result, acc)
            finally:
                par.MAX_WORKERS = old
        elif case == "dask":
            futures = client.map(remote_fn, [root] * len(chunks), chunks, *[[x] * len(chunks) for x in extra], pure=False)
            for i in range(len(futures)):
                consume(futures[i].result(), acc)
                futures[i] = None  # let the worker drop it
        elif case == "ray":
            import ray
            task = ray.remote(num_cpus=1, max_retries=0)(remote_fn)
            refs = [task.remote(root, c, *extra) for c in chunks]
            for i in range(len(refs)):
                consume(ray.get(refs[i]), acc)
                refs[i] = None
        out["map_s"] = time.perf_counter() - t1
        cpu_after = tree.cpu()
        out["cpu_s"] = (own_cpu() - own_before) + sum(v - cpu_before.get(k, 0.0) for k, v in cpu_after.items())
        # CPU that processes outside this tree used meanwhile (another job on the machine skews the timing)
        out["foreign_cpu_s"] = max(0.0, machine_busy() - busy_before - out["cpu_s"])
        out["processes_during_map"] = len(tree.procs())
        out["chunks"] = len(chunks)
        out["acc"] = acc
        tree.sample_rss()

        # shut down
        tree_pids = {p.pid for p in tree.procs()} - {os.getpid()}
        t2 = time.perf_counter()
        if case == "dask":
            client.close()
            cluster.close()
        elif case == "ray":
            import ray
            ray.shutdown()
        out["shutdown_s"] = time.perf_counter() - t2
    import psutil
    time.sleep(1.0)
    left = []
    for pid in tree_pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(p.cmdline())[:100] or p.name())
        except psutil.Error:
            pass
    out["leftover_1s_after_shutdown"] = left
    out["peak_rss_tree_mib"] = tree.peak_sum / 2 ** 20
    out["peak_rss_one_mib"] = tree.peak_one / 2 ** 20
    warnings.showwarning = old_show
    out["warnings"] = sorted(set(caught))
    return out


def _table_shim(shared: Any, chunk: list[str], mib: float = 2.0) -> Any:
    return table_for(shared, chunk, mib)


def table_remote(root: str, chunk: list[str], mib: float) -> Any:
    return table_for(root, chunk, mib)


# --------------------------------------------------------------------------- the driver

def closure(dist: str, extras: tuple[str, ...] = ()) -> set[str]:
    """``dist`` and every distribution it needs (with ``extras``), as installed, normalised names."""
    import re
    from importlib import metadata
    norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()  # noqa: E731
    seen: set[str] = set()
    todo = [(dist, extras)]
    while todo:
        name, ex = todo.pop()
        if norm(name) in seen:
            continue
        try:
            d = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(norm(name))
        from packaging.requirements import Requirement
        for r in d.requires or []:
            req = Requirement(r)
            env = {"extra": ""}
            ok = req.marker is None or req.marker.evaluate(env) or any(req.marker.evaluate({"extra": e}) for e in ex)
            if ok:
                todo.append((req.name, tuple(req.extras)))
    return seen


def dist_size(name: str) -> int:
    from importlib import metadata
    d = metadata.distribution(name)
    total = 0
    for f in d.files or []:
        try:
            total += os.path.getsize(d.locate_file(f))
        except OSError:
            pass
    return total


def install_sizes() -> dict[str, Any]:
    base = closure("chipwar", ("hf",))
    out = {}
    for name, extras in (("distributed", ()), ("ray", ())):
        extra = sorted(closure(name, extras) - base)
        out[name] = {"mib": sum(dist_size(n) for n in extra) / 2 ** 20, "beyond_chipwar_hf": extra}
    return out


def import_time(module: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        best = min(best, float(r.stdout.strip().splitlines()[-1]))
    return best


def spawn_case(case: str, workers: int, root: str, payload: str, table_mib: float, timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    # run as the importable module ``compare_engines`` (not ``__main__``), so the workers can import
    # the task functions by name and their lru_cache memoises per worker process
    code = "import sys, compare_engines; sys.exit(compare_engines.main(sys.argv[1:]))"
    argv = [sys.executable, "-P", "-c", code, "--_case", case, "--_workers", str(workers),
            "--_root", root, "--payload", payload, "--table-mib", str(table_mib)]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        return {"case": case, "workers": workers, "payload": payload, "error": (r.stderr or r.stdout)[-2000:]}
    out = json.loads(lines[-1])
    out["stderr_lines"] = [ln[:200] for ln in r.stderr.splitlines() if ln.strip()][:15]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=EXAMPLE,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000, help="documents in the synthetic corpus (default 20000)")
    ap.add_argument("--annotations-per-doc", type=int, default=25, help="spans per document (default 25)")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated, of " + ", ".join(CASES))
    ap.add_argument("--workers", default="1,2", help="engine worker counts (default 1,2; fork uses 2 only)")
    ap.add_argument("--payload", default="validate,table", help="validate, table or both (default both)")
    ap.add_argument("--table-mib", type=float, default=2.0, help="size of the table per chunk (default 2)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per case; the best wall time is kept (default 2)")
    ap.add_argument("--root", help="an existing synthetic corpus to reuse instead of writing one")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per case run (default 900)")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    ap.add_argument("--_case", help=argparse.SUPPRESS)
    ap.add_argument("--_workers", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--_root", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._case:
        print(json.dumps(run_case(args._case, args._workers, args._root, args.payload, args.table_mib)), flush=True)
        return 0

    cases = [c for c in args.cases.split(",") if c]
    payloads = [p for p in args.payload.split(",") if p]
    ws = [int(w) for w in args.workers.split(",") if w]
    bad = [c for c in cases if c not in CASES] + [p for p in payloads if p not in PAYLOADS]
    if bad:
        ap.error(f"unknown case or payload: {', '.join(bad)}")

    tmp = None
    if args.root:
        root = str(Path(args.root).resolve())
    else:
        from chipwar.synthetic import write_synthetic_corpus
        tmp = tempfile.TemporaryDirectory(prefix="chipwar-engines-")
        root = str(Path(tmp.name) / "corpus-root")
        t = time.perf_counter()
        write_synthetic_corpus(Path(root), args.docs, args.docs * args.annotations_per_doc)
        print(f"# corpus: {args.docs} docs, {args.docs * args.annotations_per_doc} spans, "
              f"{time.perf_counter() - t:.1f}s to write", file=sys.stderr)

    report: dict[str, Any] = {"docs": args.docs, "annotations_per_doc": args.annotations_per_doc, "chunk_docs": CHUNK_DOCS,
                              "cpus": os.cpu_count(), "python": sys.version.split()[0], "results": []}
    try:
        from importlib import metadata
        report["versions"] = {n: metadata.version(n) for n in ("dask", "distributed", "ray", "pyarrow") if _has(n)}
        report["install"] = install_sizes()
        report["import_s"] = {m: import_time(m) for m in ("distributed", "ray") if _has(m)}
    except Exception as exc:  # noqa: BLE001 - informative only
        report["install_error"] = repr(exc)

    plan = []
    for payload in payloads:
        for case in cases:
            for w in ([1] if case == "serial" else [2] if case == "fork" else ws):
                plan.append((payload, case, w))
    for payload, case, w in plan:
        runs = []
        for _ in range(args.repeat):
            res = spawn_case(case, w, root, payload, args.table_mib, args.timeout)
            runs.append(res)
            print(f"# {payload:8} {case:6} W={w}: " + (f"map {res['map_s']:.2f}s startup {res['startup_s']:.2f}s"
                  if "map_s" in res else "ERROR " + res["error"][-300:]), file=sys.stderr, flush=True)
        good = [r for r in runs if "map_s" in r]
        best = min(good, key=lambda r: r["map_s"]) if good else runs[-1]
        best["all_map_s"] = [round(r["map_s"], 3) for r in good]
        best["all_startup_s"] = [round(r["startup_s"], 3) for r in good]
        report["results"].append(best)

    # ratios to the fork pool, and W=1 -> W=2 scaling
    by = {(r["payload"], r["case"], r["workers"]): r for r in report["results"] if "map_s" in r}
    for r in report["results"]:
        if "map_s" not in r:
            continue
        fork = by.get((r["payload"], "fork", 2))
        if fork:
            r["ratio_to_fork"] = r["map_s"] / fork["map_s"]
        one = by.get((r["payload"], r["case"], 1))
        if one and r["workers"] == 2:
            r["speedup_w1_w2"] = one["map_s"] / r["map_s"]
    if tmp is not None:
        tmp.cleanup()

    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.docs} docs x {args.annotations_per_doc} spans, chunks of {CHUNK_DOCS}, {os.cpu_count()} cpus; "
              f"versions {report.get('versions')}")
        print(f"{'payload':8} {'case':6} {'W':>2} {'start s':>8} {'map s':>7} {'cpu s':>7} {'/fork':>6} {'W1->2':>6} "
              f"{'rss tree':>9} {'rss max1':>9} {'stop s':>7} {'other s':>7}")
        for r in report["results"]:
            if "map_s" not in r:
                print(f"{r['payload']:8} {r['case']:6} {r['workers']:>2} ERROR")
                continue
            print(f"{r['payload']:8} {r['case']:6} {r['workers']:>2} {r['startup_s']:8.2f} {r['map_s']:7.2f} {r['cpu_s']:7.2f} "
                  f"{r.get('ratio_to_fork', float('nan')):6.2f} {r.get('speedup_w1_w2', float('nan')):6.2f} "
                  f"{r['peak_rss_tree_mib']:8.0f}M {r['peak_rss_one_mib']:8.0f}M {r['shutdown_s']:7.2f} {r.get('foreign_cpu_s', 0):7.2f}")
        for name, info in report.get("install", {}).items():
            print(f"install {name}: {info['mib']:.0f} MiB beyond chipwar[hf] ({len(info['beyond_chipwar_hf'])} distributions); "
                  f"import {report.get('import_s', {}).get(name, float('nan')):.2f}s")
        for r in report["results"]:
            if r.get("listening") or r.get("leftover_1s_after_shutdown") or r.get("warnings"):
                print(f"{r['payload']} {r['case']} W={r['workers']}: listening {r.get('listening')}; "
                      f"leftover {r.get('leftover_1s_after_shutdown')}; warnings {r.get('warnings')}")
    return 0


def _has(name: str) -> bool:
    from importlib import metadata
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


if __name__ == "__main__":
    sys.exit(main())
