"""Synthetic corpora: valid in the real layout, the counts asked for, hard characters before
spans, and the same bytes for the same seed (benchmarks compare runs on them)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import orjson
import pytest

from chipwar.corpus import Corpus
from chipwar.layers import LAYERS
from chipwar.synthetic import write_synthetic_corpus
from chipwar.validation.run import validate_corpus

from .conftest import files_of, run_chipwar


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synthetic") / "corpus-a"
    return root, write_synthetic_corpus(root, 5, 200, seed=3)



def test_validates_clean(small: tuple[Path, dict]) -> None:
    root, _ = small
    report = validate_corpus(Corpus(root))
    assert report.ok, report.problems[:5]
    result = run_chipwar("validate", str(root))
    assert result.returncode == 0 and "clean" in result.stdout, result.stdout + result.stderr


def test_has_the_requested_counts(small: tuple[Path, dict]) -> None:
    root, summary = small
    assert len(list((root / "corpus").glob("*.txt"))) == len(list((root / "corpus").glob("*.json"))) == 5
    files = sorted((root / "annotations" / "gold").glob("*.json"))
    per_layer = {layer: sum(len(orjson.loads(f.read_bytes())[layer]) for f in files) for layer in LAYERS}
    assert len(files) == 5 and sum(per_layer.values()) == 200
    assert per_layer == summary["layers"] and all(per_layer.values())
    report = validate_corpus(Corpus(root))
    assert report.counts["documents"] == 5 and sum(report.counts[layer] for layer in LAYERS) == 200


def test_hard_characters_come_before_spans(small: tuple[Path, dict]) -> None:
    """Astral emoji, CJK and a combining mark with no precomposed form precede annotated spans."""
    root, _ = small
    for f in sorted((root / "annotations" / "gold").glob("*.json")):
        data = orjson.loads(f.read_bytes())
        text = (root / "corpus" / f"{data['doc_id']}.txt").read_text("utf-8")
        assert unicodedata.is_normalized("NFC", text)
        last = max(span["start"] for layer in LAYERS for span in data[layer])
        before = text[:last]
        assert any(ord(ch) > 0xFFFF for ch in before), "astral character"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in before), "CJK"
        assert "q\u0307" in before and "\u0915\u093f" in before, "combining marks"


def _annotation_files(root: Path) -> list[dict]:
    return [orjson.loads(f.read_bytes()) for f in sorted((root / "annotations" / "gold").glob("*.json"))]


def test_claims_have_attribution_chains_and_restatements(small: tuple[Path, dict]) -> None:
    """Chains of 0 to 3 links, cues in the claim's own sentence, in another one, or none; restatement pairs (validated above)."""
    root, _ = small
    claims = [claim for data in _annotation_files(root) for claim in data["claims"]]
    assert {len(c["attribution_chain"]) for c in claims} == {0, 1, 2, 3}
    cues = [(c, link["cue"]) for c in claims for link in c["attribution_chain"]]
    assert any(cue is None for _, cue in cues)
    assert any(cue and c["start"] <= cue["start"] and cue["end"] <= c["end"] for c, cue in cues)
    assert any(cue and not (c["start"] <= cue["start"] < c["end"]) for c, cue in cues)
    assert {link["kind"] for c in claims for link in c["attribution_chain"]} >= {"named_organization", "anonymous", "vague_collective"}
    by_id = {c["id"]: c for c in claims}
    paired = [c for c in claims if c["restates"]]
    assert paired and all(c["id"] in by_id[other]["restates"] for c in paired for other in c["restates"])


def test_no_time_is_invented(small: tuple[Path, dict]) -> None:
    """Every provenance time is null and the annotator block records none: a random time would pass for a recorded one."""
    root, _ = small
    for data in _annotation_files(root):
        assert (data["annotator"]["prepared"], data["annotator"]["submitted"]) == (None, None)
        assert data["document_labels"]["provenance"]["created"] is None
        assert all(span["provenance"]["created"] is None for layer in LAYERS for span in data[layer])


def test_same_seed_same_bytes(small: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = small
    again = tmp_path / "corpus-b"
    write_synthetic_corpus(again, 5, 200, seed=3)
    assert files_of(again) == files_of(root)
    other = tmp_path / "corpus-c"
    write_synthetic_corpus(other, 5, 200, seed=4)
    assert files_of(other) != files_of(root)


def test_refuses_a_folder_that_holds_a_corpus(small: tuple[Path, dict]) -> None:
    root, _ = small
    with pytest.raises(FileExistsError):
        write_synthetic_corpus(root, 1, 1)
