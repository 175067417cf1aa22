#!/usr/bin/env python3
"""Speed and peak memory of chipwar commands on synthetic corpora, each against its floor.

Every command is compared with a floor measured in the same run, on the same corpus, in wall
time and in CPU time (``floor_ratio`` and ``cpu_floor_ratio``):

- ``chipwar validate`` against reading every file and parsing every JSON file with orjson
  (target at 20,000/500,000: at most 1.3x, wall and CPU; peak RSS at most 300 MiB and flat in
  corpus size: large/small at most 1.5, huge/large at most 1.2);
- ``chipwar build --full`` against parsing the same sources and writing the same tables
  (documents with nested layers; one row per entity, claim and bias marker; one ``ner`` row of
  tokens with their code-point offsets per document) as zstd Parquet with pyarrow, one file per
  2,000 documents (target at 20,000/500,000: at most 1.5x, wall and CPU; peak RSS huge/large at
  most 1.2). Every build here runs with ``--docs-per-shard 2000``, so the large corpus has ten
  shards per config and split (the default, 20,000, would make it one);
- ``build_incremental``: one annotation's ``note`` changed in one gold file, then ``chipwar
  build`` into the previous build (no ``--full``: the unchanged chunks are reused), against the
  full build; the build's own ``reused``/``chunks`` counts are kept (target: one chunk rebuilt);
- ``chipwar review`` (the static review site of the gold set, with the corpus figures) against
  ``chipwar build`` of the same corpus: both read every document and write a folder for
  readers (target: at most 1x);
- ``validate`` and ``build`` on a Dask cluster of one and of two workers (``--engine dask
  --address``; the clusters are started by this script, on 127.0.0.1) against the local engine:
  the overhead, and the scaling from one worker to two. The cluster's CPU time (scheduler,
  workers and their nannies, read from ``/proc``) is added to the client's;
- a cold ``datasets.load_dataset`` of each config (a new, empty cache) against
  ``pyarrow.parquet.read_table`` of the same files; both in a process that has already
  imported pyarrow and datasets, so only the read is timed (target: at most 2x);
- SQL engines and DataFrames on the built folder: a count of entities per label with DuckDB
  and with Polars, against ``pyarrow.parquet.read_table`` of the label column and
  ``value_counts``; the entities of one document with DuckDB and Polars, against reading the
  ``doc_id`` column of every file and filtering it (no pushdown). Only the query is timed.

Sizes: small (2,000/50,000) and large (20,000/500,000) run every command; the Dask, incremental
and query runs are made at the large size only (queries also at huge). Huge (200,000/5,000,000)
runs the floors, ``validate``, ``build`` and the queries once each, after one read of the files
(``floor``) to warm the page cache. Each corpus carries a ``DATASHEET.md`` with generated blocks
(``documents``, ``label-counts gold``, ``labels EntityLabel``), filled by ``chipwar generate``
before anything is timed, so ``validate`` checks them as it does in the real repository.

Each command runs as a fresh subprocess under GNU time (``/usr/bin/time``, Debian package
``time``) for its peak RSS (of the largest single process: validate and build fork one
worker per core, each holding one chunk of documents); wall time is the best of
``--repeat`` runs, after one warm-up run of each so that all see the same warm page cache.
Exit 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import orjson

EXAMPLE = """\
examples:
  .venv/bin/python scripts/benchmark.py                      # 2,000/50,000, 20,000/500,000 and 200,000/5,000,000
  .venv/bin/python scripts/benchmark.py --no-huge            # without the huge corpus
  .venv/bin/python scripts/benchmark.py --quick              # smoke sizes (huge: 20,000/500,000), a few minutes
  .venv/bin/python scripts/benchmark.py --small 500:10000 --large 5000:100000 --huge 50000:1000000 --format json
"""

SIZES = ("small", "large", "huge")
#: Documents per Parquet shard in every build (and per file in the build floor): ten shards per split at 20,000.
DOCS_PER_SHARD = 2000
#: Dask clusters started for the engine runs: this many workers of one thread each.
CLUSTER_WORKERS = (1, 2)


@dataclass(frozen=True)
class Ctx:
    """What a command's argv is made from."""

    root: Path  # the corpus
    chipwar: str  # the chipwar executable
    docs: int  # documents in the corpus
    addresses: dict[int, str]  # workers -> scheduler address of the Dask clusters running for this size

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def doc_id(self) -> str:
        """A document in the middle of the corpus (the synthetic ids are ``syn-NNNNNN``)."""
        return f"syn-{self.docs // 2:06d}"


@dataclass(frozen=True)
class Command:
    """One measured command, compared with the floor named in ``floor``."""

    name: str
    argv: Callable[[Ctx], list[str]]
    floor: str | None = None  # the command whose best time this one is measured against
    max_floor_ratio: float | None = None  # best wall time at most this many times the floor's (at the large size)
    max_cpu_floor_ratio: float | None = None  # CPU time at most this many times the floor's (at the large size)
    max_rss_mib: float | None = None  # peak RSS at every size
    max_rss_growth: float | None = None  # large-size RSS / small-size RSS
    max_rss_growth_huge: float | None = None  # huge-size RSS / large-size RSS
    self_timed: bool = False  # the command prints ``seconds=X`` for the timed part (imports excluded)
    sizes: tuple[str, ...] = ("small", "large")  # where it runs
    cluster: int | None = None  # runs on the Dask cluster of this many workers, whose CPU time is added


#: Every config is loaded: small ones show load_dataset's fixed cost, large ones its per-row cost.
LOAD_CONFIGS = ("documents", "entities", "claims", "bias_markers", "ner")


def _python(snippet: str, *args: str) -> list[str]:
    return [sys.executable, "-c", snippet, *args]


def review_out(root: Path) -> Path:
    """Where ``chipwar review`` writes: beside the corpus, never inside the checkout."""
    return root.parent / f"{root.name}-review"


def _build(ctx: Ctx, out: Path, *extra: str) -> list[str]:
    return [ctx.chipwar, "build", "--corpus", str(ctx.root), "--out", str(out), "--full", "--docs-per-shard", str(DOCS_PER_SHARD), *extra]


def _dask(ctx: Ctx, workers: int) -> list[str]:
    return ["--engine", "dask", "--address", ctx.addresses[workers]]


def _query(mode: str, sizes: tuple[str, ...] = ("large", "huge"), **kw: Any) -> Command:
    return Command(f"query_{mode}" if not mode.startswith("read_") else mode,
                   lambda ctx: _python(QUERY, mode, str(ctx.dist), ctx.doc_id), self_timed=True, sizes=sizes, **kw)


ALL = SIZES
#: Commands run in this order in every round: the builds come before the loads and queries that read them.
COMMANDS: list[Command] = [
    Command("floor", lambda ctx: _python(FLOOR, str(ctx.root)), sizes=ALL),
    Command("validate", lambda ctx: [ctx.chipwar, "validate", str(ctx.root)], floor="floor", max_floor_ratio=1.3,
            max_cpu_floor_ratio=1.3, max_rss_mib=300, max_rss_growth=1.5, max_rss_growth_huge=1.2, sizes=ALL),
    Command("build_floor", lambda ctx: _python(BUILD_FLOOR, str(ctx.root), str(ctx.root / "floor-dist"), str(DOCS_PER_SHARD)), sizes=ALL),
    Command("build", lambda ctx: _build(ctx, ctx.dist), floor="build_floor", max_floor_ratio=1.5, max_cpu_floor_ratio=1.5,
            max_rss_growth_huge=1.2, sizes=ALL),
    Command("build_incremental", lambda ctx: _python(INCREMENTAL, str(ctx.root), ctx.chipwar, ctx.doc_id, str(DOCS_PER_SHARD)),
            floor="build", self_timed=True, sizes=("large",)),
    Command("review", lambda ctx: [ctx.chipwar, "review", "--corpus", str(ctx.root), "--out", str(review_out(ctx.root))],
            floor="build", max_floor_ratio=1.0),
    *(Command(f"validate_dask{n}", lambda ctx, n=n: [ctx.chipwar, "validate", *_dask(ctx, n), str(ctx.root)],
              floor="validate", sizes=("large",), cluster=n) for n in CLUSTER_WORKERS),
    *(Command(f"build_dask{n}", lambda ctx, n=n: _build(ctx, ctx.root / "dist-dask", *_dask(ctx, n)),
              floor="build", sizes=("large",), cluster=n) for n in CLUSTER_WORKERS),
    *(cmd for config in LOAD_CONFIGS for cmd in (
        Command(f"read:{config}", lambda ctx, c=config: _python(LOAD, "floor", str(ctx.dist), c), self_timed=True),
        Command(f"load:{config}", lambda ctx, c=config: _python(LOAD, "load_dataset", str(ctx.dist), c),
                floor=f"read:{config}", max_floor_ratio=2.0, self_timed=True))),
    _query("read_labels"),
    _query("duckdb_labels", floor="read_labels"),
    _query("polars_labels", floor="read_labels"),
    _query("read_doc"),
    _query("duckdb_doc", floor="read_doc"),
    _query("polars_doc", floor="read_doc"),
]


#: The floor, run as ``python -c FLOOR ROOT``: read and decode every text, parse every JSON
#: file with orjson, keep nothing. It imports nothing else, so its start-up is Python's own.
FLOOR = """
import os, sys, orjson
root = sys.argv[1]
folders = [os.path.join(root, "corpus")]
annotations = os.path.join(root, "annotations")
folders += sorted(e.path for e in os.scandir(annotations) if e.is_dir())
files = size = 0
for folder in folders:
    for entry in os.scandir(folder):
        with open(entry.path, "rb") as fh:
            raw = fh.read()
        if entry.name.endswith(".json"):
            orjson.loads(raw)
        else:
            raw.decode("utf-8")
        files, size = files + 1, size + len(raw)
print(files, "files", size, "bytes")
"""


#: The build floor, run as ``python -c BUILD_FLOOR ROOT OUT DOCS_PER_FILE``: parse every document
#: and gold annotation file, and write the same tables (documents with nested layers; one row per
#: entity, claim and bias marker; ``ner``: each document's tokens, by chipwar's token pattern
#: ``chipwar.sentences._TOKEN`` copied here, with code-point offsets, built columnar) as zstd
#: Parquet with pyarrow, inferring the types, one file per table and DOCS_PER_FILE documents (the
#: build's shards), so memory stays bounded at any size. One process, and no chipwar import.
BUILD_FLOOR = r"""
import os, re, sys, orjson, pyarrow as pa, pyarrow.parquet as pq
root, out, per_file = sys.argv[1], sys.argv[2], int(sys.argv[3])
TOKEN = re.compile(r"\w+|['’]s\b|\S")
os.makedirs(out, exist_ok=True)
corpus, gold = os.path.join(root, "corpus"), os.path.join(root, "annotations", "gold")
layers = ("zones", "entities", "claims", "bias_markers")
names = sorted(name for name in os.listdir(corpus) if name.endswith(".json"))
def write(table, name, part):
    pq.write_table(table, os.path.join(out, f"{name}-{part:05d}.parquet"), compression="zstd")
for part, first in enumerate(range(0, len(names), per_file)):
    docs, rows = [], {"entities": [], "claims": [], "bias_markers": []}
    ner_ids, tokens, starts, ends, offsets = [], [], [], [], [0]
    for name in names[first:first + per_file]:
        doc_id = name[:-5]
        with open(os.path.join(corpus, name), "rb") as fh:
            meta = orjson.loads(fh.read())
        with open(os.path.join(corpus, doc_id + ".txt"), "rb") as fh:
            text = fh.read().decode("utf-8")
        with open(os.path.join(gold, name), "rb") as fh:
            ann = orjson.loads(fh.read())
        docs.append({"doc_id": doc_id, "title": meta.get("title"), "url": meta.get("url"), "split": meta.get("split"),
                     "text": text, **{layer: ann[layer] for layer in layers}})
        for layer in rows:
            rows[layer].extend({"doc_id": doc_id, **span} for span in ann[layer])
        for m in TOKEN.finditer(text):
            tokens.append(m.group())
            starts.append(m.start())
            ends.append(m.end())
        ner_ids.append(doc_id)
        offsets.append(len(tokens))
    write(pa.Table.from_pylist(docs), "documents", part)
    for layer, spans in rows.items():
        write(pa.Table.from_pylist(spans), layer, part)
    offs = pa.array(offsets, pa.int32())
    write(pa.table({"doc_id": pa.array(ner_ids, pa.string()),
                    "tokens": pa.ListArray.from_arrays(offs, pa.array(tokens, pa.string())),
                    "token_starts": pa.ListArray.from_arrays(offs, pa.array(starts, pa.int32())),
                    "token_ends": pa.ListArray.from_arrays(offs, pa.array(ends, pa.int32()))}), "ner", part)
print(len(names), "documents")
"""

#: The incremental build, run as ``python -c INCREMENTAL ROOT CHIPWAR DOC_ID DOCS_PER_SHARD``:
#: change the ``note`` of the first span of one gold file (two values in turn, so every run
#: changes something), then time ``chipwar build`` into the earlier build in ROOT/dist (no
#: ``--full``: unchanged chunks are reused) and print its ``reused``/``chunks`` counts.
INCREMENTAL = """
import subprocess, sys, time, orjson
root, chipwar, doc_id, per_shard = sys.argv[1:5]
path = f"{root}/annotations/gold/{doc_id}.json"
with open(path, "rb") as fh:
    ann = orjson.loads(fh.read())
target = next((ann[layer][0] for layer in ("entities", "claims", "bias_markers", "zones") if ann[layer]), ann["document_labels"])
target["note"] = "benchmark edit b" if target.get("note") == "benchmark edit a" else "benchmark edit a"
with open(path, "wb") as fh:
    fh.write(orjson.dumps(ann, option=orjson.OPT_INDENT_2) + b"\\n")
argv = [chipwar, "build", "--corpus", root, "--out", f"{root}/dist", "--docs-per-shard", per_shard, "--format", "json"]
t0 = time.perf_counter()
proc = subprocess.run(argv, capture_output=True)
seconds = time.perf_counter() - t0
if proc.returncode:
    sys.stdout.write(proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace"))
    sys.exit(proc.returncode)
result = orjson.loads(proc.stdout)["result"]
print(f"seconds={seconds:.6f} reused={result['reused']} chunks={result['chunks']}")
"""

#: Loading, run as ``python -c LOAD MODE DIST CONFIG``: both modes import pyarrow and datasets
#: first and time only the read: ``floor`` reads the config's Parquet files with
#: ``pyarrow.parquet.read_table``; ``load_dataset`` loads the config with a new, empty cache
#: (a cold load: Parquet to Arrow cache, features from the card).
LOAD = """
import glob, os, shutil, sys, tempfile, time
import pyarrow.parquet as pq
import datasets
datasets.disable_progress_bars()
mode, dist, config = sys.argv[1:4]
files = sorted(glob.glob(os.path.join(dist, "data", config, "*.parquet")))
assert files, "no Parquet files for " + config
cache = tempfile.mkdtemp(prefix="chipwar-bench-cache-")
try:
    t0 = time.perf_counter()
    if mode == "floor":
        rows = sum(pq.read_table(f).num_rows for f in files)
    else:
        rows = sum(len(split) for split in datasets.load_dataset(dist, config, cache_dir=cache).values())
    print(f"seconds={time.perf_counter() - t0:.6f} rows={rows}")
finally:
    shutil.rmtree(cache, ignore_errors=True)
"""

#: Queries on the built folder, run as ``python -c QUERY MODE DIST DOC_ID``: the library is
#: imported (and DuckDB connected) first, only the query is timed, and its result is fetched into
#: Python. ``*_labels``: entities per label; ``*_doc``: the entities of DOC_ID. The floors read
#: with pyarrow: the label column and ``value_counts``; the doc_id column of every file, filtered.
QUERY = """
import glob, os, sys, time
mode, dist, doc_id = sys.argv[1:4]
pattern = os.path.join(dist, "data", "entities", "*.parquet")
files = sorted(glob.glob(pattern))
assert files, "no Parquet files for entities"
if mode.startswith("duckdb"):
    import duckdb
    con = duckdb.connect()
elif mode.startswith("polars"):
    import polars as pl
else:
    import pyarrow.compute as pc
    import pyarrow.dataset  # read_table of a list of files imports it: not a cost of the read
    import pyarrow.parquet as pq
t0 = time.perf_counter()
if mode == "duckdb_labels":
    rows = len(con.sql(f"SELECT label_name, count(*) FROM '{pattern}' GROUP BY 1").fetchall())
elif mode == "polars_labels":
    rows = len(pl.scan_parquet(pattern).group_by("label_name").agg(pl.len()).collect().rows())
elif mode == "read_labels":
    rows = len(pc.value_counts(pq.read_table(files, columns=["label"])["label"]).to_pylist())
elif mode == "duckdb_doc":
    rows = len(con.execute(f"SELECT * FROM '{pattern}' WHERE doc_id = ?", [doc_id]).fetchall())
elif mode == "polars_doc":
    rows = len(pl.scan_parquet(pattern).filter(pl.col("doc_id") == doc_id).collect().rows())
elif mode == "read_doc":
    table = pq.read_table(files, columns=["doc_id"])
    rows = table.filter(pc.equal(table["doc_id"], doc_id)).num_rows
else:
    sys.exit("unknown mode " + mode)
print(f"seconds={time.perf_counter() - t0:.6f} rows={rows}")
"""

#: The DATASHEET.md of every synthetic corpus: generated blocks as in the real repository, filled
#: by ``chipwar generate`` before anything is timed (``chipwar validate`` checks them).
DATASHEET = """\
# Datasheet: synthetic benchmark corpus

Written by `scripts/benchmark.py` with `chipwar.synthetic`; the blocks below are filled by
`chipwar generate`, as in the real repository.

## Documents

<!-- BEGIN GENERATED: documents -->
<!-- END GENERATED -->

## Gold labels

<!-- BEGIN GENERATED: label-counts gold -->
<!-- END GENERATED -->

## Entity labels

<!-- BEGIN GENERATED: labels EntityLabel -->
<!-- END GENERATED -->
"""


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    rss_mib: float
    exit_code: int
    output: str
    extra: dict[str, float] = field(default_factory=dict)  # key=value figures a self-timed command printed


#: GNU time reports the peak RSS of the command alone. ``os.wait4`` on our own child would
#: not: Linux carries the parent's high-water RSS over into a child at fork and exec.
GNU_TIME = "/usr/bin/time"


def measure(argv: list[str]) -> Run:
    """Run ``argv`` once under GNU time: wall time, CPU time and peak RSS of that command."""
    with tempfile.TemporaryDirectory() as tmp:
        out, rss_file = Path(tmp, "out"), Path(tmp, "rss")
        full = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv]
        with open(out, "wb") as fh:
            t0 = time.perf_counter()
            pid = os.posix_spawn(GNU_TIME, full, os.environ, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, fh.fileno(), 1), (os.POSIX_SPAWN_DUP2, fh.fileno(), 2)])
            _, status, usage = os.wait4(pid, 0)  # CPU times include the command, which time waited for
            wall = time.perf_counter() - t0
        peak_kib = int(rss_file.read_text().split()[-1])
        output = out.read_bytes().decode("utf-8", "replace")
    return Run(wall, usage.ru_utime + usage.ru_stime, peak_kib / 1024, os.waitstatus_to_exitcode(status), output)


def _self_timed(run: Run) -> None:
    """Take the ``seconds=X key=Y ...`` line a self-timed command printed: the wall time and the rest."""
    line = next((ln for ln in reversed(run.output.splitlines()) if ln.startswith("seconds=")), None)
    if line is None:
        run.exit_code = run.exit_code or 1
        return
    for word in line.split():
        key, _, value = word.partition("=")
        try:
            run.extra[key] = float(value)
        except ValueError:
            pass
    run.wall_s = run.extra.pop("seconds")


# --- Dask clusters -----------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its reaped children), from /proc."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        table[int(entry.name)] = (int(fields[1]), (utime + stime + cutime + cstime) / CLK_TCK)
    return table


def _descendants(pids: list[int], table: dict[int, tuple[int, float]]) -> set[int]:
    """``pids`` and every process below them."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [p for p in pids if p in table]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


class Cluster:
    """A Dask scheduler and ``workers`` single-threaded workers on 127.0.0.1, each its own process group."""

    def __init__(self, workers: int, log_dir: Path) -> None:
        self.workers, self.procs = workers, []
        dask = str(Path(sys.executable).parent / "dask")
        with socket.socket() as s:  # a free port (the scheduler binds it a moment later)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        self._log = open(log_dir / f"dask-{workers}-workers.log", "ab")
        try:
            self._start([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
            for _ in range(workers):
                self._start([dask, "worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1", "--no-dashboard"])
            from distributed import Client

            with Client(self.address, timeout=60) as client:
                client.wait_for_workers(workers, timeout=120)
        except BaseException:
            self.stop()
            raise

    def _start(self, argv: list[str]) -> None:
        self.procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                           start_new_session=True))  # Ctrl-C reaches us, and we stop them

    def cpu_s(self) -> float:
        """CPU seconds used so far by the scheduler, the workers (nanny and worker process) and their children."""
        table = _proc_table()
        return sum(table[pid][1] for pid in _descendants([p.pid for p in self.procs], table))

    def stop(self) -> None:
        """Stop every process of the cluster: SIGTERM to each process group, then SIGKILL to what is left."""
        left = _descendants([p.pid for p in self.procs], _proc_table())
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for proc in self.procs:
            proc.wait()
        self.procs = []
        self._log.close()


# --- the run -----------------------------------------------------------------------------

def log(msg: str, end: str = "\n") -> None:
    print(msg, file=sys.stderr, end=end, flush=True)


def progress(label: str) -> Callable[[int, int], None]:
    """A progress line on stderr, rewritten in place every 5%."""
    def show(done: int, total: int) -> None:
        if done == total or done % max(1, total // 20) == 0:
            log(f"\r{label}: {done}/{total}", end="\n" if done == total else "")
    return show


def size_spec(value: str) -> tuple[int, int]:
    """``DOCS:ANNOTATIONS`` -> (docs, annotations)."""
    try:
        docs, anns = (int(v.replace(",", "").replace("_", "")) for v in value.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected DOCS:ANNOTATIONS, e.g. 2000:50000") from None
    if docs < 1 or anns < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: need at least one document")
    return docs, anns


def machine() -> dict[str, Any]:
    """What the figures depend on: cores, CPU, memory, Python and library versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal:")), 0)
    versions = {}
    for dist in ("chipwar", "orjson", "jsonschema-rs", "click", "pyarrow", "duckdb", "polars", "distributed"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 2**20, 1), "os": platform.platform(),
            "python": platform.python_version(), "versions": versions}


def make_corpus(label: str, root: Path, docs: int, anns: int, args: argparse.Namespace) -> tuple[dict[str, Any], float]:
    """The synthetic corpus with its DATASHEET.md, blocks filled by ``chipwar generate``: nothing here is timed."""
    from chipwar.synthetic import write_synthetic_corpus

    t0 = time.perf_counter()
    summary = write_synthetic_corpus(root, docs, anns, seed=args.seed, progress=progress(f"[{label}] generating documents"))
    (root / "DATASHEET.md").write_text(DATASHEET, "utf-8")
    gen_s = time.perf_counter() - t0
    log(f"[{label}] {summary['bytes'] / 2**20:.0f} MiB written in {gen_s:.1f} s; `chipwar generate` for DATASHEET.md")
    proc = subprocess.run([args.chipwar, "generate", "--corpus", str(root)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"[{label}] chipwar generate failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return summary, gen_s


def bench_size(label: str, docs: int, anns: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate one corpus, warm the cache, then measure every command of this size ``--repeat`` times, interleaved."""
    root = work / f"{label}-{docs}-{anns}"
    summary, gen_s = make_corpus(label, root, docs, anns, args)
    commands = [cmd for cmd in COMMANDS if label in cmd.sizes]
    repeat = 1 if label == "huge" else args.repeat
    clusters: dict[int, Cluster] = {}
    runs: dict[str, list[Run]] = {cmd.name: [] for cmd in commands}
    try:
        for n in sorted({cmd.cluster for cmd in commands if cmd.cluster}):
            log(f"[{label}] starting a Dask cluster of {n} worker(s)")
            clusters[n] = Cluster(n, work)
        ctx = Ctx(root, args.chipwar, docs, {n: c.address for n, c in clusters.items()})

        def one(cmd: Command) -> Run:
            before = clusters[cmd.cluster].cpu_s() if cmd.cluster else 0.0
            run = measure(cmd.argv(ctx))
            if cmd.cluster:
                run.extra["cluster_cpu_s"] = clusters[cmd.cluster].cpu_s() - before
                run.cpu_s += run.extra["cluster_cpu_s"]
            if cmd.self_timed and run.exit_code == 0:
                _self_timed(run)
            return run

        if label == "huge":  # one read of every file, so the page cache is warm; nothing else is run twice
            log(f"[{label}] warming up (floor)")
            one(commands[0])
        else:
            log(f"[{label}] warming up")
            for cmd in commands:
                one(cmd)
        for r in range(1, repeat + 1):
            for cmd in commands:
                run = one(cmd)
                runs[cmd.name].append(run)
                log(f"[{label}] {cmd.name} run {r}/{repeat}: {run.wall_s:.2f} s, cpu {run.cpu_s:.2f} s, {run.rss_mib:.0f} MiB, "
                    f"exit {run.exit_code}" + "".join(f", {k} {v:g}" for k, v in run.extra.items()))
    finally:
        for cluster in clusters.values():
            cluster.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(review_out(root), ignore_errors=True)
    results: dict[str, dict[str, Any]] = {}
    for cmd in commands:
        failed = [r for r in runs[cmd.name] if r.exit_code]
        rs = [r for r in runs[cmd.name] if not r.exit_code] or failed  # a run that failed early is no best time
        best = min(rs, key=lambda r: r.wall_s)
        results[cmd.name] = {
            "best_s": best.wall_s, "median_s": statistics.median(r.wall_s for r in rs),
            "cpu_s": min(r.cpu_s for r in rs), "peak_rss_mib": max(r.rss_mib for r in runs[cmd.name]),
            "failed_runs": len(failed),
            "failed_output": failed[0].output[-2000:] if failed else None,
            **{k: (int(v) if v == int(v) else v) for k, v in best.extra.items()},
        }
    for cmd in commands:
        res = results[cmd.name]
        res["floor"] = cmd.floor
        floor = results[cmd.floor] if cmd.floor else None
        res["floor_ratio"] = res["best_s"] / floor["best_s"] if floor else None
        res["cpu_floor_ratio"] = res["cpu_s"] / floor["cpu_s"] if floor else None
        res["annotations_per_s"] = anns / res["best_s"] if res["best_s"] else None
    for name in ("validate", "build"):  # Dask: one worker against two
        one_w, two_w = results.get(f"{name}_dask1"), results.get(f"{name}_dask2")
        if one_w and two_w:
            two_w["scaling_from_dask1"] = one_w["best_s"] / two_w["best_s"]
    return {"size": label, "documents": docs, "annotations": anns, "bytes": summary["bytes"], "layers": summary["layers"],
            "generate_s": gen_s, "repeat": repeat, "docs_per_shard": DOCS_PER_SHARD, "path": str(root) if args.keep else None,
            "results": results}


def targets(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every target of every command, met or not."""
    out = []
    by_label = {size["size"]: size for size in sizes}

    def check(what: str, value: float, limit: float) -> None:
        out.append({"target": what, "value": round(value, 3), "limit": limit, "ok": value <= limit})

    def growth(cmd: Command, big: str, small: str, limit: float | None) -> None:
        if limit is not None and big in by_label and small in by_label:
            value = by_label[big]["results"][cmd.name]["peak_rss_mib"] / by_label[small]["results"][cmd.name]["peak_rss_mib"]
            check(f"{cmd.name} peak RSS flat: {big}/{small} <= {limit}", value, limit)

    for cmd in COMMANDS:
        for size in sizes:
            res = size["results"].get(cmd.name)
            if res is None:
                continue
            check(f"{cmd.name} runs that did not exit 0 at {size['size']}", res["failed_runs"], 0)
            if size["size"] == "large":  # ratio targets are set for the large size
                if cmd.max_floor_ratio is not None:
                    check(f"{cmd.name} <= {cmd.max_floor_ratio}x {cmd.floor} at large (wall)", res["floor_ratio"], cmd.max_floor_ratio)
                if cmd.max_cpu_floor_ratio is not None:
                    check(f"{cmd.name} <= {cmd.max_cpu_floor_ratio}x {cmd.floor} at large (CPU)", res["cpu_floor_ratio"],
                          cmd.max_cpu_floor_ratio)
                if "chunks" in res and not res["failed_runs"]:
                    check(f"{cmd.name} chunks rebuilt (of {res['chunks']}) <= 1 at large", res["chunks"] - res["reused"], 1)
            if cmd.max_rss_mib is not None:
                check(f"{cmd.name} peak RSS <= {cmd.max_rss_mib} MiB at {size['size']}", res["peak_rss_mib"], cmd.max_rss_mib)
        growth(cmd, "large", "small", cmd.max_rss_growth)
        growth(cmd, "huge", "large", cmd.max_rss_growth_huge)
    return out


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_text(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
             "", f"{'size':<6} {'docs':>7} {'spans':>9} {'command':<20} {'best s':>8} {'median s':>9} {'cpu s':>8} "
             f"{'x floor':>8} {'cpu x':>7} {'peak MiB':>9} {'spans/s':>10}"]
    notes = []
    for size in report["sizes"]:
        for name, res in size["results"].items():
            lines.append(f"{size['size']:<6} {size['documents']:>7,} {size['annotations']:>9,} {name:<20} {res['best_s']:>8.2f} "
                         f"{res['median_s']:>9.2f} {res['cpu_s']:>8.2f} {_ratio(res['floor_ratio']):>8} "
                         f"{_ratio(res['cpu_floor_ratio']):>7} {res['peak_rss_mib']:>9.1f} {res['annotations_per_s'] or 0:>10,.0f}")
            if res["failed_output"]:
                lines.append("    failed: " + res["failed_output"].strip().replace("\n", "\n    "))
            if "chunks" in res:
                notes.append(f"{size['size']}: {name}: {res['reused']} of {res['chunks']} chunks reused, "
                             f"{_ratio(res['floor_ratio'])}x the full build")
            if "cluster_cpu_s" in res:
                notes.append(f"{size['size']}: {name}: {_ratio(res['floor_ratio'])}x local, cluster CPU {res['cluster_cpu_s']:.2f} s"
                             + (f", {res['scaling_from_dask1']:.2f}x faster than 1 worker" if "scaling_from_dask1" in res else ""))
    lines.append("")
    if notes:
        lines += [*notes, ""]
    lines += [f"{'PASS' if t['ok'] else 'FAIL'}  {t['target']}: {t['value']}" for t in report["targets"]]
    lines.append("all targets met" if report["ok"] else "TARGETS MISSED")
    lines.append(f"(every build: --docs-per-shard {DOCS_PER_SHARD}; build and the Dask builds with --full; huge: one run, no warm-up "
                 "but one read of the files)")
    if report["quick"]:
        lines.append("(--quick: smoke sizes, where start-up costs dominate; the targets are set for 20,000/500,000)")
    return "\n".join(lines)


def default_chipwar() -> str:
    beside = Path(sys.executable).parent / "chipwar"
    return str(beside) if beside.exists() else (shutil.which("chipwar") or "chipwar")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # so the clusters and corpora are cleaned up by the finally blocks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=size_spec, default=(2000, 50000), metavar="DOCS:ANNOTATIONS",
                        help="small corpus size (default 2000:50000)")
    parser.add_argument("--large", type=size_spec, default=(20000, 500000), metavar="DOCS:ANNOTATIONS",
                        help="large corpus size (default 20000:500000)")
    parser.add_argument("--huge", type=size_spec, default=(200000, 5000000), metavar="DOCS:ANNOTATIONS",
                        help="huge corpus size, for floor, validate, build and the queries, one run each (default 200000:5000000)")
    parser.add_argument("--no-huge", action="store_true", help="skip the huge corpus")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke sizes: small 200:5000, large 2000:50000, huge 20000:500000 (unless --no-huge), 2 repeats")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per command and size; the best counts (default 3; 1 at huge)")
    parser.add_argument("--seed", type=int, default=0, help="synthetic corpus seed (default 0)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where to put the corpora (a new temporary folder inside it; default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated corpora and print where they are")
    parser.add_argument("--chipwar", default=default_chipwar(), help="the chipwar executable (default: beside this Python)")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="summary for people or machines")
    args = parser.parse_args(argv)
    if args.quick:
        args.small, args.large, args.huge, args.repeat = (200, 5000), (2000, 50000), (20000, 500000), min(args.repeat, 2)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not os.access(GNU_TIME, os.X_OK):
        parser.error(f"{GNU_TIME} not found: install GNU time (apt-get install time); it measures peak RSS")
    if not (Path(sys.executable).parent / "dask").exists():
        parser.error(f"{Path(sys.executable).parent / 'dask'} not found: install chipwar[dask] (the engine runs start a Dask cluster)")
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    work = Path(tempfile.mkdtemp(prefix="chipwar-bench-", dir=args.work_dir))
    plan = [("small", args.small), ("large", args.large), *([] if args.no_huge else [("huge", args.huge)])]
    try:
        sizes = [bench_size(label, *size, args, work) for label, size in plan]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    checks = targets(sizes)
    report = {"machine": machine(), "command": " ".join([Path(sys.executable).name, *sys.argv]), "repeat": args.repeat,
              "quick": args.quick, "docs_per_shard": DOCS_PER_SHARD,
              "sizes": sizes, "targets": checks, "ok": all(t["ok"] for t in checks)}
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() if args.format == "json" else render_text(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted: the Dask clusters are stopped and the corpora removed (unless --keep)")
        sys.exit(130)
