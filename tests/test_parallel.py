"""Work split over worker processes gives exactly what one process gives: same problems in
the same order, byte-identical builds. Small chunks force several workers on a small corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chipwar.corpus import Corpus
from chipwar.engines import local as parallel
from chipwar.hf import build as hf
from chipwar.hf import shards
from chipwar.synthetic import write_synthetic_corpus
from chipwar.validation import run

from .conftest import files_of


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "syn"
    write_synthetic_corpus(root, 9, 120, seed=5)
    return root



@pytest.mark.parametrize("workers", [1, 3])
def test_validation_reports_the_same_in_any_number_of_workers(corpus: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    for doc in ("syn-000001", "syn-000007"):  # problems in two different chunks
        path = corpus / "annotations" / "gold" / f"{doc}.json"
        data = json.loads(path.read_text("utf-8"))
        data["entities"][0]["start"] += 1
        path.write_text(json.dumps(data), "utf-8")
    monkeypatch.setattr(run, "CHUNK_DOCS", 2)
    monkeypatch.setattr(parallel, "MAX_WORKERS", workers)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 4)
    report = run.validate_corpus(Corpus(corpus))
    assert [(p.doc_id, p.code) for p in report.problems] == [("syn-000001", "offset_text_mismatch"),
                                                             ("syn-000007", "offset_text_mismatch")]
    assert report.counts["documents"] == 9 and report.counts["annotation_files"] == 9


def test_build_is_identical_in_any_number_of_workers(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shards, "ROW_GROUP_DOCS", 2)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 4)
    outputs = []
    for workers in (1, 3):
        monkeypatch.setattr(parallel, "MAX_WORKERS", workers)
        out = tmp_path / f"out-{workers}"
        hf.build_dataset(Corpus(corpus), out, version="0.0.0")
        outputs.append(files_of(out))
    assert outputs[0] == outputs[1] and any(name.startswith("data/ner/") for name in outputs[0])
