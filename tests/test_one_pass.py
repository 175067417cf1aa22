"""`chipwar validate` and `chipwar build` read every source file exactly once.

Validation is the build's map, and what the generated blocks of DATASHEET.md count (documents,
label counts, agreement) and what the card says (document and annotator facts, the agreement
figure) is gathered in that same pass. The test counts every read of a corpus or annotation file
and makes every other way of reading the corpus fail.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from chipwar import corpus as corpus_module
from chipwar.checks import check_all
from chipwar.corpus import Corpus
from chipwar.engines import local
from chipwar.generated import update_generated
from chipwar.hf.build import build_dataset
from chipwar.schema import load_schemas
from chipwar.synthetic import write_synthetic_corpus
from chipwar.validation import chunk, sound

DATASHEET = """# Datasheet

<!-- BEGIN GENERATED: documents -->
<!-- END GENERATED -->

<!-- BEGIN GENERATED: label-counts gold -->
<!-- END GENERATED -->

<!-- BEGIN GENERATED: agreement pass-1 pass-2 -->
<!-- END GENERATED -->
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Twelve documents, a gold set and two passes (one label changed), a datasheet with data blocks, up to date."""
    root = tmp_path / "syn"
    write_synthetic_corpus(root, 12, 300, seed=4)
    for name in ("pass-1", "pass-2"):
        shutil.copytree(root / "annotations" / "gold", root / "annotations" / name)
    path = root / "annotations" / "pass-2" / "syn-000005.json"
    data = json.loads(path.read_text("utf-8"))
    data["document_labels"]["primary_frame"] = "legality" if data["document_labels"]["primary_frame"] != "legality" else "economic"
    path.write_text(json.dumps(data), "utf-8")
    (root / "DATASHEET.md").write_text(DATASHEET, "utf-8")
    corpus = Corpus(root)
    assert not update_generated(corpus, load_schemas(corpus.schema_dir)).problems
    assert "primary_frame" in (root / "DATASHEET.md").read_text("utf-8")  # the agreement tables were filled in
    return root


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every source file read through validation, counted; any other reader of the corpus fails the test."""
    counted: Counter = Counter()
    real = chunk._read

    def counting(path: str, follow: bool) -> bytes:
        counted[path] += 1
        return real(path, follow)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the corpus was read a second time, outside the validation pass")

    monkeypatch.setattr(chunk, "_read", counting)
    for name in ("read_text", "read_metadata", "read_annotations"):
        monkeypatch.setattr(corpus_module.Corpus, name, refuse)
    monkeypatch.setattr(sound, "load_document", refuse)
    monkeypatch.setattr(sound, "load_annotations", refuse)
    monkeypatch.setattr(local, "MAX_WORKERS", 1)  # in this process, where the counter is
    return counted


def _sources(root: Path) -> set[str]:
    return {str(p) for p in (root / "corpus").iterdir()} | {str(p) for p in (root / "annotations").glob("*/*.json")}


def test_validate_reads_every_file_once_generated_blocks_included(corpus: Path, reads: Counter) -> None:
    report = check_all(Corpus(corpus))
    assert report.ok, [p.location() for p in report.problems]
    assert set(reads) == _sources(corpus) and set(reads.values()) == {1}


def test_validate_still_finds_a_stale_block_in_that_one_pass(corpus: Path, reads: Counter) -> None:
    path = corpus / "annotations" / "pass-1" / "syn-000003.json"
    data = json.loads(path.read_text("utf-8"))
    data["document_labels"]["tone"] = "mixed" if data["document_labels"]["tone"] != "mixed" else "neutral"
    path.write_text(json.dumps(data), "utf-8")
    report = check_all(Corpus(corpus))
    assert [(p.code, p.file) for p in report.problems] == [("generated_stale", "DATASHEET.md")]
    assert "agreement pass-1 pass-2" in report.problems[0].message
    assert set(reads.values()) == {1}


def test_build_reads_every_file_once(corpus: Path, reads: Counter, tmp_path: Path) -> None:
    result = build_dataset(Corpus(corpus), tmp_path / "out", version="1.0.0")
    assert result.rows["documents"]
    assert set(reads) == _sources(corpus) and set(reads.values()) == {1}
    assert (tmp_path / "out" / "figures" / "agreement.svg").is_file()  # the agreement figure, from the same pass
