"""Agreement on hand-made sets whose agreement is known."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipwar.agree import agree_sets, cohen_kappa, match_overlap
from chipwar.corpus import Corpus
from chipwar.validation.run import validate_corpus

from .conftest import annotation_file, entity, flat, run_chipwar, span_at, write_set

DOC = "reg-2023-qiming"


def _text(root: Path) -> str:
    return (root / "corpus" / f"{DOC}.txt").read_text("utf-8")


def test_kappa_known_values() -> None:
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    pairs = [("ORG", "ORG"), ("GPE", "ORG"), ("PROGRAM", "PROGRAM"), ("ORG", "ORG")]
    assert cohen_kappa(pairs) == pytest.approx((0.75 - 7 / 16) / (1 - 7 / 16))
    assert cohen_kappa([("a", "a"), ("a", "a")]) is None
    assert cohen_kappa([]) is None


def test_overlap_matching_is_one_to_one_largest_first() -> None:
    a = [{"start": 0, "end": 10}, {"start": 8, "end": 12}]
    b = [{"start": 5, "end": 12}]
    assert match_overlap(a, b) == [(a[0], b[0])]


def test_entity_agreement_known(corpus_copy: Path) -> None:
    text = _text(corpus_copy)
    a = [entity(text, DOC, "e1", "Huawei", "ORG", "huawei"), entity(text, DOC, "e2", "Washington", "GPE", "us"),
         entity(text, DOC, "e3", "Qiming", "PROGRAM", "qiming")]
    b = [entity(text, DOC, "e1", "Huawei", "ORG", "huawei"), entity(text, DOC, "e2", "Washington tries", "GPE", "us"),
         entity(text, DOC, "e3", "Reuters", "ORG", "reuters")]
    write_set(corpus_copy, "hand-a", annotation_file(DOC, text, entities=a))
    write_set(corpus_copy, "hand-b", annotation_file(DOC, text, entities=b))
    assert validate_corpus(Corpus(corpus_copy)).ok
    result = agree_sets(Corpus(corpus_copy), "hand-a", "hand-b")
    ent = next(la for la in result.layers if la.layer == "entities")
    assert (ent.count_a, ent.count_b, ent.exact_matches, ent.overlap_matches) == (3, 3, 1, 2)
    assert ent.exact_f1 == pytest.approx(1 / 3) and ent.overlap_f1 == pytest.approx(2 / 3)
    assert ent.label.agreement == 1.0 and ent.label.kappa == pytest.approx(1.0)
    claims = next(la for la in result.layers if la.layer == "claims")
    assert claims.exact_f1 is None and claims.label.pairs == 0


def test_label_disagreement_and_attributes(corpus_copy: Path) -> None:
    text = _text(corpus_copy)
    claim = dict(check_worthiness="check_worthy", claimant_type="author", claimant_id=None, attribution_form="none",
                 attribution_cue=None, sourcing="none", source_ids=[], certainty="certain")
    sentence = "Huawei is building out a covert network of semiconductor facilities across China"
    a = [span_at(text, DOC, "c1", sentence, "event_property", **claim)]
    b = [span_at(text, DOC, "c1", sentence, "causal", **{**claim, "certainty": "probable"})]
    write_set(corpus_copy, "hand-a", annotation_file(DOC, text, claims=a))
    write_set(corpus_copy, "hand-b", annotation_file(DOC, text, claims=b))
    result = run_chipwar("agree", "hand-a", "hand-b", "--corpus", str(corpus_copy), "--format", "json")
    assert result.returncode == 0, result.stderr
    claims = next(la for la in flat(result.stdout)["layers"] if la["layer"] == "claims")
    assert claims["exact_f1"] == 1.0 and claims["label"]["agreement"] == 0.0
    assert claims["attributes"]["certainty"]["agreement"] == 0.0
    assert claims["attributes"]["sourcing"]["agreement"] == 1.0
    table = run_chipwar("agree", "hand-a", "hand-b", "--corpus", str(corpus_copy))
    assert "| claims | 1 | 1 | 1.00 | 1.00 | 0.00 |" in table.stdout


def test_unknown_set_is_a_usage_error(corpus_copy: Path) -> None:
    result = run_chipwar("agree", "nobody", "gold", "--corpus", str(corpus_copy))
    assert result.returncode == 2 and "nobody" in result.stderr


@pytest.mark.parametrize("content", ["null", "[1]", '{"entities": 5}', "{nope"])
def test_broken_file_is_left_out_and_named(content: str, corpus_copy: Path) -> None:
    """Agreement over a set with a broken file: figures over the rest, the file named with why, exit 1; nothing written."""
    broken = corpus_copy / "annotations" / "ann-a" / f"{DOC}.json"
    broken.write_text(content, "utf-8")
    before = {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}
    result = run_chipwar("agree", "ann-a", "ann-b", "--corpus", str(corpus_copy), "--format", "json")
    assert result.returncode == 1, result.stdout
    out = flat(result.stdout)
    assert out["skipped"] == [DOC] and out["documents"] == ["tfi-2021-chip-crisis"]
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("file_skipped", f"annotations/ann-a/{DOC}.json")]
    assert "chipwar validate" in out["problems"][0]["hint"]
    text = run_chipwar("agree", "ann-a", "ann-b", "--corpus", str(corpus_copy))
    assert text.returncode == 1 and f"annotations/ann-a/{DOC}.json" in text.stdout and "left out" in text.stderr
    assert before == {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}


def test_set_folder_symlinked_out_of_the_repository_is_not_read(corpus_copy: Path, tmp_path: Path) -> None:
    import shutil

    shutil.move(corpus_copy / "annotations" / "ann-a", tmp_path / "elsewhere")
    (corpus_copy / "annotations" / "ann-a").symlink_to(tmp_path / "elsewhere")
    result = run_chipwar("agree", "ann-a", "ann-b", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(result.stdout)
    assert result.returncode == 1 and out["documents"] == []
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("symlink_outside", "annotations/ann-a"),
                                                                ("nothing_compared", "annotations/ann-a")]


def _snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


#: name: (break the first entity of a copied file, code validate reports for it)
REJECTED: dict[str, tuple[object, str]] = {
    "end_past_text": (lambda d: d["entities"][0].update(end=99999), "offset_out_of_range"),
    "text_not_the_slice": (lambda d: d["entities"][0].update(text="Huawei?"), "offset_text_mismatch"),
    "end_before_start": (lambda d: d["entities"][0].update(end=d["entities"][0]["start"]), "offset_order"),
    "stale": (lambda d: d.update(text_sha256="0" * 64), "stale_annotations"),
    "dangling_reference": (lambda d: d["entities"][0].update(canonical_id="nobody"), "dangling_reference"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_a_file_validate_rejects_is_left_out_of_agree_and_stats(case: str, corpus_copy: Path) -> None:
    """The reported bug: stats and agree counted a span whose end is past the text, and exited 0."""
    import json

    breaker, code = REJECTED[case]
    data = json.loads((corpus_copy / "annotations" / "ann-a" / f"{DOC}.json").read_text("utf-8"))
    breaker(data)
    write_set(corpus_copy, "one", data)
    rel = f"annotations/one/{DOC}.json"
    assert code in {p.code for p in validate_corpus(Corpus(corpus_copy)).errors}
    before = _snapshot(corpus_copy)
    agree = run_chipwar("agree", "one", "gold", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(agree.stdout)
    assert agree.returncode == 1 and out["documents"] == [] and out["skipped"] == [DOC]
    assert [p["code"] for p in out["problems"]] == ["file_skipped", "nothing_compared"]
    assert out["problems"][0]["file"] == rel and f"[{code}]" in out["problems"][0]["message"]
    assert all(la["count_a"] == 0 for la in out["layers"])
    text = run_chipwar("agree", "one", "gold", "--corpus", str(corpus_copy))
    assert text.returncode == 1 and f"{rel} [file_skipped]" in text.stdout and "nothing was compared" in text.stdout
    stats = run_chipwar("stats", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(stats.stdout)
    assert stats.returncode == 1 and out["skipped"] == [rel] and out["sets"]["one"]["files"] == 0
    assert sum(sum(c.values()) for c in out["sets"]["one"]["layers"].values()) == 0
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("file_skipped", rel)] and f"[{code}]" in out["problems"][0]["message"]
    assert _snapshot(corpus_copy) == before


def test_agree_with_an_empty_set_says_nothing_was_compared(corpus_copy: Path) -> None:
    (corpus_copy / "annotations" / "empty").mkdir()
    before = _snapshot(corpus_copy)
    result = run_chipwar("agree", "empty", "gold", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(result.stdout)
    assert result.returncode == 1 and out["documents"] == []
    assert [(p["code"], p["file"]) for p in out["problems"]] == [("nothing_compared", "annotations/empty")]
    assert "holds no annotation file" in out["problems"][0]["message"] and "--annotator empty" in out["problems"][0]["hint"]
    text = run_chipwar("agree", "empty", "gold", "--corpus", str(corpus_copy))
    assert text.returncode == 1 and "nothing was compared: annotations/empty holds no annotation file" in text.stdout
    assert _snapshot(corpus_copy) == before


def test_agree_over_sets_that_share_no_document_says_nothing_was_compared(corpus_copy: Path) -> None:
    (corpus_copy / "annotations" / "ann-a" / f"{DOC}.json").unlink()
    (corpus_copy / "annotations" / "ann-b" / "tfi-2021-chip-crisis.json").unlink()
    result = run_chipwar("agree", "ann-a", "ann-b", "--corpus", str(corpus_copy), "--format", "json")
    out = flat(result.stdout)
    assert result.returncode == 1 and out["documents"] == [] and out["only_in_a"] == ["tfi-2021-chip-crisis"]
    assert [(p["code"], p["found"]) for p in out["problems"]] == [("nothing_compared", "1 only in ann-a, 1 only in ann-b")]
    assert "no document is annotated in both ann-a and ann-b" in out["problems"][0]["message"]
