#!/usr/bin/env python3
"""Speed and peak memory of chipwar commands on synthetic corpora, each against its floor.

Every command is compared with a floor measured in the same run, on the same corpus:

- ``chipwar validate`` against reading every file and parsing every JSON file with orjson
  (target: at most 3x; peak RSS at most 300 MiB and flat in corpus size);
- ``chipwar build`` against parsing the same sources and writing the same tables
  (documents with nested layers, one row per entity, claim and bias marker) as zstd
  Parquet with pyarrow (target: at most 3x);
- ``chipwar review`` (the static review site of the gold set, with the corpus figures) against
  ``chipwar build`` of the same corpus: both read every document and write a folder for
  readers (target: at most 1x);
- a cold ``datasets.load_dataset`` of each config (a new, empty cache) against
  ``pyarrow.parquet.read_table`` of the same files; both in a process that has already
  imported pyarrow and datasets, so only the read is timed (target: at most 2x).

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
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import orjson

EXAMPLE = """\
examples:
  .venv/bin/python scripts/benchmark.py                      # 2,000/50,000 and 20,000/500,000
  .venv/bin/python scripts/benchmark.py --quick              # smoke sizes, about two minutes
  .venv/bin/python scripts/benchmark.py --small 500:10000 --large 5000:100000 --format json
"""


@dataclass(frozen=True)
class Command:
    """One measured command, compared with the floor named in ``floor``."""

    name: str
    argv: Callable[[Path, str], list[str]]  # (corpus root, chipwar executable) -> argv
    floor: str | None = None  # the command whose best time this one is measured against
    max_floor_ratio: float | None = None  # best wall time at most this many times the floor's
    max_rss_mib: float | None = None  # peak RSS at every size
    max_rss_growth: float | None = None  # largest-size RSS / smallest-size RSS
    self_timed: bool = False  # the command prints ``seconds=X`` for the timed part (imports excluded)


#: Every config is loaded: small ones show load_dataset's fixed cost, large ones its per-row cost.
LOAD_CONFIGS = ("documents", "entities", "claims", "bias_markers", "ner")


def _python(snippet: str, *args: str) -> list[str]:
    return [sys.executable, "-c", snippet, *args]


def review_out(root: Path) -> Path:
    """Where ``chipwar review`` writes: beside the corpus, never inside the checkout."""
    return root.parent / f"{root.name}-review"


#: Commands run in this order in every round: the builds come before the loads that read them.
COMMANDS: list[Command] = [
    Command("floor", lambda root, _: _python(FLOOR, str(root))),
    Command("validate", lambda root, chipwar: [chipwar, "validate", str(root)], floor="floor",
            max_floor_ratio=3.0, max_rss_mib=300, max_rss_growth=1.5),
    Command("build_floor", lambda root, _: _python(BUILD_FLOOR, str(root), str(root / "floor-dist"))),
    Command("build", lambda root, chipwar: [chipwar, "build", "--corpus", str(root), "--out", str(root / "dist")],
            floor="build_floor", max_floor_ratio=3.0),
    Command("review", lambda root, chipwar: [chipwar, "review", "--corpus", str(root), "--out", str(review_out(root))],
            floor="build", max_floor_ratio=1.0),
    *(cmd for config in LOAD_CONFIGS for cmd in (
        Command(f"read:{config}", lambda root, _, c=config: _python(LOAD, "floor", str(root / "dist"), c), self_timed=True),
        Command(f"load:{config}", lambda root, _, c=config: _python(LOAD, "load_dataset", str(root / "dist"), c),
                floor=f"read:{config}", max_floor_ratio=2.0, self_timed=True))),
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


#: The build floor, run as ``python -c BUILD_FLOOR ROOT OUT``: parse every document and gold
#: annotation file, and write the same tables (documents with nested layers; one row per
#: entity, claim and bias marker) as zstd Parquet with pyarrow, inferring the types.
BUILD_FLOOR = """
import os, sys, orjson, pyarrow as pa, pyarrow.parquet as pq
root, out = sys.argv[1:3]
os.makedirs(out, exist_ok=True)
corpus, gold = os.path.join(root, "corpus"), os.path.join(root, "annotations", "gold")
layers = ("zones", "entities", "claims", "bias_markers")
docs, rows = [], {"entities": [], "claims": [], "bias_markers": []}
for name in sorted(os.listdir(corpus)):
    if not name.endswith(".json"):
        continue
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
pq.write_table(pa.Table.from_pylist(docs), os.path.join(out, "documents.parquet"), compression="zstd")
for layer, spans in rows.items():
    pq.write_table(pa.Table.from_pylist(spans), os.path.join(out, layer + ".parquet"), compression="zstd")
print(len(docs), "documents")
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


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    rss_mib: float
    exit_code: int
    output: str


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
    for dist in ("chipwar", "orjson", "jsonschema-rs", "click"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 2**20, 1), "os": platform.platform(),
            "python": platform.python_version(), "versions": versions}


def bench_size(label: str, docs: int, anns: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate one corpus, warm the cache, then measure every command ``--repeat`` times, interleaved."""
    from chipwar.synthetic import write_synthetic_corpus

    root = work / f"{label}-{docs}-{anns}"
    t0 = time.perf_counter()
    summary = write_synthetic_corpus(root, docs, anns, seed=args.seed, progress=progress(f"[{label}] generating documents"))
    gen_s = time.perf_counter() - t0
    log(f"[{label}] {summary['bytes'] / 2**20:.0f} MiB written in {gen_s:.1f} s; warming up")
    for cmd in COMMANDS:
        measure(cmd.argv(root, args.chipwar))
    runs: dict[str, list[Run]] = {cmd.name: [] for cmd in COMMANDS}
    for r in range(1, args.repeat + 1):
        for cmd in COMMANDS:
            run = measure(cmd.argv(root, args.chipwar))
            if cmd.self_timed and run.exit_code == 0:
                run.wall_s = float(run.output.split("seconds=", 1)[1].split()[0])
            runs[cmd.name].append(run)
            log(f"[{label}] {cmd.name} run {r}/{args.repeat}: {run.wall_s:.2f} s, {run.rss_mib:.0f} MiB, exit {run.exit_code}")
    if not args.keep:
        shutil.rmtree(root)
        shutil.rmtree(review_out(root), ignore_errors=True)
    results = {}
    for cmd in COMMANDS:
        rs = runs[cmd.name]
        results[cmd.name] = {
            "best_s": min(r.wall_s for r in rs), "median_s": statistics.median(r.wall_s for r in rs),
            "cpu_s": min(r.cpu_s for r in rs), "peak_rss_mib": max(r.rss_mib for r in rs),
            "failed_runs": sum(r.exit_code != 0 for r in rs),
            "failed_output": next((r.output[-2000:] for r in rs if r.exit_code), None),
        }
    for cmd in COMMANDS:
        res = results[cmd.name]
        res["floor"] = cmd.floor
        res["floor_ratio"] = res["best_s"] / results[cmd.floor]["best_s"] if cmd.floor else None
        res["annotations_per_s"] = anns / res["best_s"]
    return {"size": label, "documents": docs, "annotations": anns, "bytes": summary["bytes"], "layers": summary["layers"],
            "generate_s": gen_s, "path": str(root) if args.keep else None, "results": results}


def targets(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every target of every command, met or not."""
    out = []

    def check(what: str, value: float, limit: float) -> None:
        out.append({"target": what, "value": round(value, 3), "limit": limit, "ok": value <= limit})

    for cmd in COMMANDS:
        for size in sizes:
            res = size["results"][cmd.name]
            check(f"{cmd.name} runs that did not exit 0 at {size['size']}", res["failed_runs"], 0)
            if cmd.max_floor_ratio is not None and size is sizes[-1]:  # ratio targets are set for the large size
                check(f"{cmd.name} <= {cmd.max_floor_ratio}x floor at {size['size']}", res["floor_ratio"], cmd.max_floor_ratio)
            if cmd.max_rss_mib is not None:
                check(f"{cmd.name} peak RSS <= {cmd.max_rss_mib} MiB at {size['size']}", res["peak_rss_mib"], cmd.max_rss_mib)
        if cmd.max_rss_growth is not None and len(sizes) > 1:
            growth = sizes[-1]["results"][cmd.name]["peak_rss_mib"] / sizes[0]["results"][cmd.name]["peak_rss_mib"]
            check(f"{cmd.name} peak RSS flat: {sizes[-1]['size']}/{sizes[0]['size']} <= {cmd.max_rss_growth}", growth, cmd.max_rss_growth)
    return out


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_text(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gib']} GiB RAM, Python {m['python']}, "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
             "", f"{'size':<6} {'docs':>7} {'spans':>8} {'command':<18} {'best s':>8} {'median s':>9} {'cpu s':>7} "
             f"{'x floor':>8} {'peak MiB':>9} {'spans/s':>9}"]
    for size in report["sizes"]:
        for name, res in size["results"].items():
            lines.append(f"{size['size']:<6} {size['documents']:>7,} {size['annotations']:>8,} {name:<18} {res['best_s']:>8.2f} "
                         f"{res['median_s']:>9.2f} {res['cpu_s']:>7.2f} {_ratio(res['floor_ratio']):>8} {res['peak_rss_mib']:>9.1f} "
                         f"{res['annotations_per_s']:>9,.0f}")
            if res["failed_output"]:
                lines.append("    failed: " + res["failed_output"].strip().replace("\n", "\n    "))
    lines.append("")
    lines += [f"{'PASS' if t['ok'] else 'FAIL'}  {t['target']}: {t['value']}" for t in report["targets"]]
    lines.append("all targets met" if report["ok"] else "TARGETS MISSED")
    if report["quick"]:
        lines.append("(--quick: smoke sizes, where start-up costs dominate; the targets are set for 20,000/500,000)")
    return "\n".join(lines)


def default_chipwar() -> str:
    beside = Path(sys.executable).parent / "chipwar"
    return str(beside) if beside.exists() else (shutil.which("chipwar") or "chipwar")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=size_spec, default=(2000, 50000), metavar="DOCS:ANNOTATIONS",
                        help="small corpus size (default 2000:50000)")
    parser.add_argument("--large", type=size_spec, default=(20000, 500000), metavar="DOCS:ANNOTATIONS",
                        help="large corpus size (default 20000:500000)")
    parser.add_argument("--quick", action="store_true", help="CI smoke sizes: small 200:5000, large 2000:50000, 2 repeats")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per command and size; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="synthetic corpus seed (default 0)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where to put the corpora (a new temporary folder inside it; default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated corpora and print where they are")
    parser.add_argument("--chipwar", default=default_chipwar(), help="the chipwar executable (default: beside this Python)")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="summary for people or machines")
    args = parser.parse_args(argv)
    if args.quick:
        args.small, args.large, args.repeat = (200, 5000), (2000, 50000), min(args.repeat, 2)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not os.access(GNU_TIME, os.X_OK):
        parser.error(f"{GNU_TIME} not found: install GNU time (apt-get install time); it measures peak RSS")
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="chipwar-bench-", dir=args.work_dir))
    try:
        sizes = [bench_size(label, *size, args, work) for label, size in (("small", args.small), ("large", args.large))]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    checks = targets(sizes)
    report = {"machine": machine(), "command": " ".join([Path(sys.executable).name, *sys.argv]), "repeat": args.repeat,
              "quick": args.quick,
              "sizes": sizes, "targets": checks, "ok": all(t["ok"] for t in checks)}
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() if args.format == "json" else render_text(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
