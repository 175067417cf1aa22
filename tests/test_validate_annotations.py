"""Bad input in annotation files: each case breaks a copy of a real annotation file and
must be reported with exit 1, its code, the file, the document, the annotation and the
JSON pointer; nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from .conftest import flat, run_chipwar

DOC = "reg-2023-qiming"
FILE = f"annotations/gold/{DOC}.json"


def _load(root: Path) -> dict:
    return json.loads((root / FILE).read_text("utf-8"))


def _save(root: Path, data: dict) -> None:
    (root / FILE).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _edit(fn: Callable[[dict], object]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        data = _load(root)
        fn(data)
        _save(root, data)
    return apply


def _first(layer: str, pred: Callable[[dict], bool] = lambda s: True) -> Callable[[dict], dict]:
    return lambda d: next(s for s in d[layer] if pred(s))


E0 = _first("entities")
NON_ORG = _first("entities", lambda s: s["label"] != "ORG")
C_ENTITY = _first("claims", lambda s: s["claimant_type"] == "entity")
B0 = _first("bias_markers", lambda s: s["target_ids"])


def _dup(d: dict) -> None:
    d["entities"][1]["id"] = d["entities"][0]["id"]


# name: (break it, code, which annotation (function of the ORIGINAL file) or None, pointer suffix)
CASES: dict[str, tuple[Callable[[Path], None], str, Callable[[dict], dict] | None, str]] = {
    "offset_off_by_one": (_edit(lambda d: E0(d).update(start=E0(d)["start"] + 1)), "offset_text_mismatch", E0, "/start"),
    "span_text_mismatch": (_edit(lambda d: E0(d).update(text=E0(d)["text"] + "x")), "offset_text_mismatch", E0, "/start"),
    "unknown_label": (_edit(lambda d: E0(d).update(label="COMPANY")), "unknown_label", E0, "/label"),
    "unknown_attribute_value": (_edit(lambda d: B0(d).update(polarity="hostile")), "unknown_label", B0, "/polarity"),
    "attribute_on_wrong_label": (_edit(lambda d: NON_ORG(d).update(org_type="company")), "wrong_type", NON_ORG, "/org_type"),
    "duplicate_id": (_edit(_dup), "duplicate_id", lambda d: d["entities"][0], "/entities/1/id"),
    "id_prefix": (_edit(lambda d: E0(d).update(id="other-doc:e1")), "id_prefix_mismatch", None, "/id"),
    "dangling_reference": (_edit(lambda d: B0(d)["target_ids"].append("no-such-entity")), "dangling_reference", B0, "/target_ids"),
    "dangling_claimant": (_edit(lambda d: C_ENTITY(d).update(claimant_id="nobody")), "dangling_reference", C_ENTITY, "/claimant_id"),
    "end_before_start": (_edit(lambda d: E0(d).update(end=E0(d)["start"])), "offset_order", E0, "/end"),
    "end_past_text": (_edit(lambda d: E0(d).update(end=10**6)), "offset_out_of_range", E0, "/end"),
    "negative_start": (_edit(lambda d: E0(d).update(start=-1)), "schema_violation", E0, "/start"),
    "unknown_field": (_edit(lambda d: E0(d).update(confidence=0.9)), "unknown_field", E0, "/confidence"),
    "missing_field": (_edit(lambda d: E0(d).pop("provenance")), "missing_field", E0, "/provenance"),
    "bad_origin": (_edit(lambda d: E0(d)["provenance"].update(origin="guess")), "unknown_label", E0, "/provenance/origin"),
    "doc_id_mismatch": (_edit(lambda d: d.update(doc_id="tfi-2021-chip-crisis")), "doc_id_mismatch", None, "/doc_id"),
    "wrong_schema_version": (_edit(lambda d: d.update(schema_version="0.9")), "wrong_value", None, "/schema_version"),
}


@pytest.fixture
def gold_copy(corpus_copy: Path) -> Path:
    assert (corpus_copy / FILE).is_file(), "the gold annotations of the repository are the fixture"
    return corpus_copy


def _problems(root: Path) -> tuple[int, list[dict], str]:
    js = run_chipwar("validate", str(root), "--format", "json")
    text = run_chipwar("validate", str(root))
    assert text.returncode == js.returncode
    return js.returncode, flat(js.stdout)["problems"], text.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_annotation_is_reported(case: str, gold_copy: Path) -> None:
    breaker, code, which, ptr_suffix = CASES[case]
    original = _load(gold_copy)
    expected_id = which(original)["id"] if which else None
    breaker(gold_copy)
    rc, problems, text = _problems(gold_copy)
    assert rc == 1
    hits = [p for p in problems if p["code"] == code]
    assert hits, f"expected {code}, got {[(p['code'], p['pointer']) for p in problems]}"
    hit = hits[0]
    assert hit["file"] == FILE and hit["doc_id"] == DOC
    assert hit["pointer"].endswith(ptr_suffix)
    if expected_id:
        assert hit["annotation_id"] == expected_id
        assert f"doc={DOC} ann={expected_id}" in text
    assert f"{FILE}#{hit['pointer']} [{code}]" in text


def test_whitespace_at_span_edge(gold_copy: Path) -> None:
    data = _load(gold_copy)
    text = (gold_copy / "corpus" / f"{DOC}.txt").read_text("utf-8")
    span = next(s for s in data["entities"] if s["start"] > 0 and text[s["start"] - 1] == " ")
    span["start"] -= 1
    span["text"] = text[span["start"]:span["end"]]
    _save(gold_copy, data)
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1
    assert [(p["code"], p["annotation_id"]) for p in problems] == [("span_whitespace_edge", span["id"])]


def test_stale_annotations_after_text_edit(gold_copy: Path) -> None:
    path = gold_copy / "corpus" / f"{DOC}.txt"
    path.write_text(path.read_text("utf-8").replace("Huawei", "HUAWEI"), "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1
    codes = {(p["code"], p["file"]) for p in problems}
    assert ("stale_annotations", FILE) in codes and ("text_sha256_mismatch", f"corpus/{DOC}.txt") in codes
    assert "offset_text_mismatch" not in {c for c, _ in codes}


def test_malformed_json(gold_copy: Path) -> None:
    (gold_copy / FILE).write_text((gold_copy / FILE).read_text("utf-8").replace('"start"', "'start'", 1), "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1 and problems[0]["code"] == "json_malformed" and problems[0]["file"] == FILE
    assert "line" in problems[0]["message"] or "char" in problems[0]["message"]


def test_annotation_without_document(gold_copy: Path) -> None:
    (gold_copy / "corpus" / f"{DOC}.txt").rename(gold_copy / "elsewhere.txt")
    (gold_copy / "corpus" / f"{DOC}.json").unlink()
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1
    assert ("missing_document", FILE, DOC) in {(p["code"], p["file"], p["doc_id"]) for p in problems}


def test_generated_file_out_of_date(gold_copy: Path) -> None:
    guide = gold_copy / "annotations" / "GUIDELINES.md"
    guide.write_text(guide.read_text("utf-8").replace("| `ORG` |", "| `ORGANISATION` |", 1), "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1 and [p["code"] for p in problems] == ["generated_stale"]
    assert "chipwar generate" in text


def test_every_problem_in_one_pass(gold_copy: Path) -> None:
    for case in ("offset_off_by_one", "unknown_label", "dangling_reference", "unknown_field"):
        CASES[case][0](gold_copy)
    rc, problems, _ = _problems(gold_copy)
    assert {"offset_text_mismatch", "unknown_label", "dangling_reference", "unknown_field"} <= {p["code"] for p in problems}
