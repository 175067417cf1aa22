"""Bad input at document level: each case breaks a copy of a real document and must be
reported with exit 1, the right code, the file and the document id; the clean corpus passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from .conftest import flat, run_chipwar

DOC = "reg-2023-qiming"


def _edit_json(path: Path, fn: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text("utf-8"))
    fn(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _text(root: Path) -> Path:
    return root / "corpus" / f"{DOC}.txt"


def _meta(root: Path) -> Path:
    return root / "corpus" / f"{DOC}.json"


CASES: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    # name: (break it, problem code, file named, JSON pointer or "")
    "crlf_text": (lambda r: _text(r).write_bytes(_text(r).read_bytes().replace(b"\n", b"\r\n")), "text_has_cr", f"corpus/{DOC}.txt", ""),
    "bom_text": (lambda r: _text(r).write_bytes(b"\xef\xbb\xbf" + _text(r).read_bytes()), "text_has_bom", f"corpus/{DOC}.txt", ""),
    "not_nfc": (lambda r: _text(r).write_text(_text(r).read_text("utf-8").replace("China", "Chine\u0301", 1), "utf-8"),
                "text_not_nfc", f"corpus/{DOC}.txt", ""),
    "not_utf8": (lambda r: _text(r).write_bytes(_text(r).read_bytes() + b"\xff"), "text_not_utf8", f"corpus/{DOC}.txt", ""),
    "edited_text": (lambda r: _text(r).write_text(_text(r).read_text("utf-8").replace("Huawei", "Huawai", 1), "utf-8"),
                    "text_sha256_mismatch", f"corpus/{DOC}.txt", "/intake/text_sha256"),
    "missing_metadata": (lambda r: _meta(r).unlink(), "missing_metadata", f"corpus/{DOC}.txt", ""),
    "missing_text": (lambda r: _text(r).unlink(), "missing_text", f"corpus/{DOC}.json", ""),
    "malformed_metadata": (lambda r: _meta(r).write_text(_meta(r).read_text("utf-8")[:-5], "utf-8"), "json_malformed", f"corpus/{DOC}.json", ""),
    "unknown_metadata_field": (lambda r: _edit_json(_meta(r), lambda d: d.update(author_guess="someone")), "unknown_field",
                               f"corpus/{DOC}.json", "/author_guess"),
    "missing_metadata_field": (lambda r: _edit_json(_meta(r), lambda d: d.pop("published")), "missing_field", f"corpus/{DOC}.json", "/published"),
    "bad_date": (lambda r: _edit_json(_meta(r), lambda d: d.update(published="24/08/2023")), "bad_format", f"corpus/{DOC}.json", "/published"),
    "unknown_split": (lambda r: _edit_json(_meta(r), lambda d: d.update(split="dev")), "unknown_label", f"corpus/{DOC}.json", "/split"),
    "doc_id_mismatch": (lambda r: _edit_json(_meta(r), lambda d: d.update(doc_id="reg-2023-other")), "doc_id_mismatch",
                        f"corpus/{DOC}.json", "/doc_id"),
    "length_mismatch": (lambda r: _edit_json(_meta(r), lambda d: d["intake"].update(length_codepoints=1)), "text_length_mismatch",
                        f"corpus/{DOC}.json", "/intake/length_codepoints"),
}


def test_clean_repository_validates() -> None:
    result = run_chipwar("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "clean" in result.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_document_is_reported(case: str, corpus_copy: Path) -> None:
    breaker, code, file, ptr = CASES[case]
    breaker(corpus_copy)
    result = run_chipwar("validate", str(corpus_copy), "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    problems = flat(result.stdout)["problems"]
    hits = [p for p in problems if p["code"] == code]
    assert hits, f"expected {code}, got {[p['code'] for p in problems]}"
    assert hits[0]["file"] == file and hits[0]["doc_id"] == DOC
    assert hits[0]["pointer"] == ptr
    text = run_chipwar("validate", str(corpus_copy))
    assert text.returncode == 1 and f"[{code}] doc={DOC}" in text.stdout


def test_validate_writes_nothing(corpus_copy: Path) -> None:
    CASES["edited_text"][0](corpus_copy)
    before = {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}
    run_chipwar("validate", str(corpus_copy))
    after = {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}
    assert before == after


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_chipwar("validate", str(tmp_path)).returncode == 2
    assert run_chipwar("validate", "--format", "xml").returncode == 2


def test_all_problems_in_one_pass(corpus_copy: Path) -> None:
    CASES["crlf_text"][0](corpus_copy)
    CASES["unknown_metadata_field"][0](corpus_copy)
    (corpus_copy / "corpus" / "tfi-2021-chip-crisis.json").unlink()
    codes = {p["code"] for p in flat(run_chipwar("validate", str(corpus_copy), "--format", "json").stdout)["problems"]}
    assert {"text_has_cr", "unknown_field", "missing_metadata"} <= codes
