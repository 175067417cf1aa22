"""Validate and build on a real two-worker Dask cluster give exactly what the local pool gives.

The cluster is started the way the README tells users to: ``dask scheduler`` and two ``dask
worker`` processes, all bound to 127.0.0.1, on a free port. The per-document work (the map) and
the corpus-wide checks (the reduce) are the same code on both engines, so the problems are the
same, in the same order, and the dataset folders are byte-identical.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from chipwar.corpus import Corpus
from chipwar.engines import engine_for
from chipwar.errors import EnvironmentProblem, UsageError
from chipwar.hf.build import build_dataset
from chipwar.synthetic import write_synthetic_corpus
from chipwar.validation import run
from chipwar.validation.scope import scope_of

from .conftest import files_of, flat, run_chipwar

pytest.importorskip("distributed")

BIN = Path(sys.executable).parent
CLUSTER_PIDS: list[int] = []


def _listening(pids: list[int]) -> list[str]:
    """Every address a process of ``pids`` (or a child of one) listens on."""
    import psutil

    family = set(pids)
    for pid in pids:
        family |= {c.pid for c in psutil.Process(pid).children(recursive=True)}
    return sorted(f"{c.laddr.ip}:{c.laddr.port}" for c in psutil.net_connections("inet") if c.status == "LISTEN" and c.pid in family)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers on 127.0.0.1 (as the README starts them)."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", "127.0.0.1:0"],
                              stdout=open(logs / "scheduler.log", "w"), stderr=subprocess.STDOUT, env=env)]
    for i in range(2):
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                       "--nworkers", "1", "--dashboard-address", "127.0.0.1:0", "--name", f"w{i}"],
                                      stdout=open(logs / f"worker{i}.log", "w"), stderr=subprocess.STDOUT, env=env))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=max(deadline - time.monotonic(), 1))
                    break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        CLUSTER_PIDS[:] = [p.pid for p in procs]
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("engines") / "syn"
    write_synthetic_corpus(root, 40, 900, seed=11)
    return root


def _break(root: Path, doc_ids: tuple[str, ...]) -> None:
    """A wrong offset in two documents (two chunks apart) and a canonical entity named two ways across documents."""
    for doc in doc_ids:
        path = root / "annotations" / "gold" / f"{doc}.json"
        data = json.loads(path.read_text("utf-8"))
        data["entities"][0]["start"] += 1
        path.write_text(json.dumps(data), "utf-8")


def test_cluster_has_two_workers_and_listens_on_loopback_only(cluster: str) -> None:
    engine = engine_for("dask", cluster)
    try:
        assert engine.workers() == 2
        assert "2 worker(s)" in engine.describe()
    finally:
        engine.close()
    listening = _listening(CLUSTER_PIDS)
    assert len(listening) >= 3 and all(addr.startswith("127.0.0.1:") for addr in listening), listening


def test_a_cluster_the_engine_starts_listens_on_loopback_only_and_stops(corpus: Path) -> None:
    import os as _os

    engine = engine_for("dask")
    try:
        assert engine.workers() == (_os.cpu_count() or 1)
        listening = _listening([_os.getpid()])
        assert listening and all(addr.startswith("127.0.0.1:") for addr in listening), listening
        report = run.validate_scope(Corpus(corpus), scope_of(Corpus(corpus), None), engine=engine).report
        assert report.ok
    finally:
        engine.close()


def test_validation_on_the_cluster_finds_what_the_local_pool_finds(cluster: str, corpus: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(corpus, broken)
    _break(broken, ("syn-000003", "syn-000031"))
    monkeypatch.setattr(run, "CHUNK_DOCS", 4)  # ten chunks: both workers get several
    local = run.validate_scope(Corpus(broken), scope_of(Corpus(broken), None)).report
    engine = engine_for("dask", cluster)
    try:
        remote = run.validate_scope(Corpus(broken), scope_of(Corpus(broken), None), engine=engine).report
    finally:
        engine.close()
    assert remote.problems == local.problems
    assert [(p.doc_id, p.code) for p in local.errors] == [("syn-000003", "offset_text_mismatch"), ("syn-000031", "offset_text_mismatch")]
    assert remote.counts == local.counts


def test_build_on_the_cluster_is_byte_identical_to_the_local_build(cluster: str, corpus: Path, tmp_path: Path) -> None:
    local_out, remote_out = tmp_path / "local", tmp_path / "remote"
    build_dataset(Corpus(corpus), local_out, version="1.0.0", docs_per_shard=15)
    engine = engine_for("dask", cluster)
    try:
        result = build_dataset(Corpus(corpus), remote_out, version="1.0.0", docs_per_shard=15, engine=engine)
    finally:
        engine.close()
    assert result.chunks == 3 and len({rel.rsplit("-", 1)[0] for rel in result.shards}) > 5
    assert files_of(remote_out) == files_of(local_out)


def test_cli_on_the_cluster(cluster: str, corpus: Path, tmp_path: Path) -> None:
    ran = run_chipwar("validate", str(corpus), "--engine", "dask", "--address", cluster, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    assert flat(ran.stdout)["ok"]
    out = tmp_path / "cli"
    ran = run_chipwar("build", "--corpus", str(corpus), "--out", str(out), "--engine", "dask", "--address", cluster)
    assert ran.returncode == 0, ran.stderr
    local = tmp_path / "cli-local"
    assert run_chipwar("build", "--corpus", str(corpus), "--out", str(local)).returncode == 0
    assert files_of(out) == files_of(local)


def test_a_build_that_fails_on_the_cluster_writes_nothing(cluster: str, corpus: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(corpus, broken)
    _break(broken, ("syn-000020",))
    out = tmp_path / "out"
    ran = run_chipwar("build", "--corpus", str(broken), "--out", str(out), "--engine", "dask", "--address", cluster)
    assert ran.returncode == 1
    assert "syn-000020" in ran.stderr and "chipwar validate" in ran.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_wrong_engine_arguments_are_clear_errors(tmp_path: Path, corpus: Path) -> None:
    with pytest.raises(UsageError, match="only with --engine dask"):
        engine_for("local", "tcp://127.0.0.1:1")
    with pytest.raises(UsageError, match="no such engine"):
        engine_for("spark")
    ran = run_chipwar("validate", str(corpus), "--address", "tcp://127.0.0.1:1")
    assert ran.returncode == 2 and "--address" in ran.stderr and "Traceback" not in ran.stderr
    ran = run_chipwar("validate", str(corpus), "--engine", "ray")
    assert ran.returncode == 2 and "ray" in ran.stderr


def test_no_scheduler_at_the_address_is_a_clear_error(corpus: Path) -> None:
    port = _free_port()  # nothing listens there
    with pytest.raises(EnvironmentProblem, match="no Dask scheduler"):
        engine_for("dask", f"tcp://127.0.0.1:{port}")
    ran = run_chipwar("build", "--corpus", str(corpus), "--engine", "dask", "--address", f"tcp://127.0.0.1:{port}",
                      "--out", str(corpus.parent / "never"))
    assert ran.returncode == 2 and "dask scheduler --host 127.0.0.1" in ran.stderr and "Traceback" not in ran.stderr
    assert not (corpus.parent / "never").exists()
