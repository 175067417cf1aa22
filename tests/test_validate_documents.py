"""Bad input at document level: each case breaks a copy of a real document and must be
reported with exit 1, the right code, the file and the document id; the clean corpus passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from chipwar.corpus import Corpus
from chipwar.splits import split_for

from .conftest import REPO, flat, run_chipwar

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
    "split_changed": (lambda r: _edit_json(_meta(r), lambda d: d.update(split="test")), "split_changed", f"corpus/{DOC}.json", "/split"),
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
    assert hits[0]["hint"], f"{code} says what is wrong but not what to do"
    text = run_chipwar("validate", str(corpus_copy))
    assert text.returncode == 1 and f"[{code}] doc={DOC}" in text.stdout


def test_every_problem_validation_reports_says_what_to_do() -> None:
    """Each ``Problem(...)`` made in chipwar/validation/ carries a hint (the cases above show some of them to a user)."""
    import ast

    missing = []
    for path in sorted((REPO / "src" / "chipwar" / "validation").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem":
                if len(node.args) < 9 and not any(k.arg == "hint" for k in node.keywords):
                    missing.append(f"{path.name}:{node.lineno} {ast.unparse(node.args[0])}")
    assert missing == []


# --- split: assigned from the id at intake, never changed ----------------------------------------------------------


def test_a_changed_split_is_reported_and_blocks_generate(corpus_copy: Path) -> None:
    """The reported bug: a split edited by hand, then `generate` and `validate`, was clean."""
    assert split_for(DOC) == "train"
    _edit_json(_meta(corpus_copy), lambda d: d.update(split="test"))
    before = {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}
    generated = run_chipwar("generate", "--corpus", str(corpus_copy))
    assert generated.returncode == 1 and "[split_changed]" in generated.stdout and "no block written" in generated.stderr
    rc, problems = _errors(corpus_copy)
    assert rc == 1 and [(p["code"], p["pointer"], p["expected"], p["found"]) for p in problems] == [
        ("split_changed", "/split", "'train'", "'test'")]
    assert "set \"split\" back to 'train'" in problems[0]["hint"]
    text = run_chipwar("validate", str(corpus_copy))
    assert text.returncode == 1 and "hint: set \"split\" back to 'train'" in text.stdout
    stats = flat(run_chipwar("stats", "--corpus", str(corpus_copy), "--format", "json").stdout)
    assert stats["exit_code"] == 1 and f"corpus/{DOC}.json" in stats["skipped"]
    assert before == {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}


def test_a_split_outside_the_schema_is_reported_once(corpus_copy: Path) -> None:
    _edit_json(_meta(corpus_copy), lambda d: d.update(split="dev"))
    assert [p["code"] for p in _errors(corpus_copy)[1]] == ["unknown_label"]


def test_repository_documents_keep_their_assigned_split(repo: Path) -> None:
    corpus = Corpus(repo)
    assert {d: corpus.read_metadata(d)["split"] for d in corpus.doc_ids()} == {d: split_for(d) for d in corpus.doc_ids()}


def test_a_length_edited_in_the_metadata_gets_the_true_length_as_hint(corpus_copy: Path) -> None:
    _edit_json(_meta(corpus_copy), lambda d: d["intake"].update(length_codepoints=5))
    length = len(_text(corpus_copy).read_text("utf-8"))
    rc, problems = _errors(corpus_copy)
    assert rc == 1 and [p["code"] for p in problems] == ["text_length_mismatch"]
    assert problems[0]["hint"] == f"set intake.length_codepoints back to {length}, the text's length in code points"
    assert f"hint: set intake.length_codepoints back to {length}" in run_chipwar("validate", str(corpus_copy)).stdout


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


# --- text content ------------------------------------------------------------------------------------------------


def _errors(root: Path, *args: str) -> tuple[int, list[dict]]:
    """Exit code and the errors of validating ``root`` (warnings about the real annotator sets left out)."""
    result = run_chipwar("validate", str(root), *args, "--format", "json")
    return result.returncode, [p for p in flat(result.stdout)["problems"] if p["severity"] == "error"]


@pytest.mark.parametrize(("content", "code", "found"), [
    (b"", "text_empty", "0 characters"),
    (b" \n\t\n", "text_empty", "4 white-space characters"),
    (b"Huawei\x00 is building", "text_has_control", "U+0000"),
    (b"line one\nline\x0btwo", "text_has_control", "U+000B"),
    (b"escape \x1b[31m red", "text_has_control", "U+001B"),
])
def test_empty_text_and_control_characters(content: bytes, code: str, found: str, corpus_copy: Path) -> None:
    _text(corpus_copy).write_bytes(content)
    rc, problems = _errors(corpus_copy)
    assert rc == 1
    hits = [p for p in problems if p["code"] == code]
    assert hits and hits[0]["file"] == f"corpus/{DOC}.txt" and hits[0]["found"] == found, problems


def test_tab_and_line_feed_are_not_control_problems(corpus_copy: Path) -> None:
    _text(corpus_copy).write_bytes(b"a\tb\nc\n")
    codes = {p["code"] for p in _errors(corpus_copy)[1]}
    assert "text_has_control" not in codes and "text_empty" not in codes


@pytest.mark.parametrize("content", ["null", "[]", '"metadata"', "0"])
def test_metadata_that_is_not_an_object(content: str, corpus_copy: Path) -> None:
    _meta(corpus_copy).write_text(content, "utf-8")
    rc, problems = _errors(corpus_copy)
    assert rc == 1 and problems[0]["code"] == "wrong_type" and problems[0]["file"] == f"corpus/{DOC}.json"


@pytest.mark.parametrize("literal", ["5.0", "1e30", "18446744073709551616"])
def test_length_written_as_float(literal: str, corpus_copy: Path) -> None:
    _edit_json(_meta(corpus_copy), lambda d: d["intake"].update(length_codepoints=987654321))
    _meta(corpus_copy).write_text(_meta(corpus_copy).read_text("utf-8").replace("987654321", literal), "utf-8")
    rc, problems = _errors(corpus_copy)
    assert rc == 1 and [(p["code"], p["pointer"]) for p in problems] == [("wrong_type", "/intake/length_codepoints")]


@pytest.mark.parametrize("make", ["folder", "fifo", "bad_name", "symlink_out"])
def test_odd_entries_in_corpus_are_refused_unread(make: str, corpus_copy: Path, tmp_path: Path) -> None:
    import os

    target = corpus_copy / "corpus" / "odd-doc.txt"
    if make == "folder":
        target.mkdir()
    elif make == "fifo":
        os.mkfifo(target)  # were it opened, validate would block forever
    elif make == "bad_name":
        target = corpus_copy / "corpus" / "Odd Doc.txt"
        target.write_text("text", "utf-8")
    else:
        (tmp_path / "secret.txt").write_text("not the corpus's", "utf-8")
        target.symlink_to(tmp_path / "secret.txt")
    rc, problems = _errors(corpus_copy)
    assert rc == 1
    code = {"folder": "not_a_file", "fifo": "not_a_file", "bad_name": "bad_file_name", "symlink_out": "symlink_outside"}[make]
    assert (code, f"corpus/{target.name}") in {(p["code"], p["file"]) for p in problems}


def test_undecodable_file_name_is_reported_not_a_crash(corpus_copy: Path) -> None:
    import os

    name = os.fsdecode(b"odd-\xff.txt")
    (corpus_copy / "corpus" / name).write_text("text", "utf-8")
    rc, problems = _errors(corpus_copy)
    assert rc == 1 and [p["code"] for p in problems] == ["bad_file_name"]
    assert "\\udcff" in problems[0]["file"] or "\\xff" in problems[0]["file"]
    assert run_chipwar("validate", str(corpus_copy)).returncode == 1


# --- validate PATH: reads exactly what it is given, says so, refuses what it cannot check -------------------------


def _scoped(root: Path, rel: str) -> tuple[int, dict, str]:
    js = run_chipwar("validate", str(root / rel), "--format", "json")
    text = run_chipwar("validate", str(root / rel))
    return js.returncode, flat(js.stdout) if js.stdout else {}, text.stdout + text.stderr


@pytest.mark.parametrize("rel", ["README.md", "schema", "schema/annotations.schema.json", "annotations/GUIDELINES.md",
                                 "corpus/notes.md", "annotations/gold/sub/x.json"])
def test_path_validate_cannot_check_is_a_usage_error(rel: str, corpus_copy: Path) -> None:
    path = corpus_copy / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("{}", "utf-8")
    before = {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}
    rc, out, text = _scoped(corpus_copy, rel)
    assert rc == 2, text
    assert out["error"]["code"] == "usage_error" and "validate checks" in out["error"]["message"]
    assert "clean" not in text
    assert before == {p: p.read_bytes() for p in corpus_copy.rglob("*") if p.is_file()}


def test_path_that_does_not_exist_is_a_usage_error(corpus_copy: Path) -> None:
    result = run_chipwar("validate", str(corpus_copy / "corpus" / "no-such-doc.txt"))
    assert result.returncode == 2 and "does not exist" in result.stderr


#: The repository's annotation sets, in the order validate reads them.
SETS = sorted(p.name for p in (REPO / "annotations").iterdir() if p.is_dir())


@pytest.mark.parametrize(("rel", "read"), [
    (f"corpus/{DOC}.txt", [f"corpus/{DOC}.txt", f"corpus/{DOC}.json", *(f"annotations/{s}/{DOC}.json" for s in SETS)]),
    (f"annotations/gold/{DOC}.json", [f"corpus/{DOC}.txt", f"corpus/{DOC}.json", f"annotations/gold/{DOC}.json"]),
    ("annotations/gold", [f"corpus/{DOC}.txt", f"corpus/{DOC}.json", f"annotations/gold/{DOC}.json",
                          "corpus/tfi-2021-chip-crisis.txt", "corpus/tfi-2021-chip-crisis.json", "annotations/gold/tfi-2021-chip-crisis.json"]),
])
def test_path_reads_exactly_what_it_names_and_says_so(rel: str, read: list[str], corpus_copy: Path) -> None:
    rc, out, text = _scoped(corpus_copy, rel)
    assert rc == 0, text
    assert out["checked_files"] == read and out["scope"].startswith(rel)
    assert f"{rel}" in text and read[-1] in text


def test_path_to_a_broken_file_is_not_clean(corpus_copy: Path) -> None:
    """The reported bug: a path could report clean without reading the file it named."""
    (corpus_copy / "annotations" / "gold" / f"{DOC}.json").write_text("null", "utf-8")
    rc, out, _ = _scoped(corpus_copy, f"annotations/gold/{DOC}.json")
    assert rc == 1 and [p["code"] for p in out["problems"]] == ["wrong_type"]


def test_path_to_annotations_without_document(corpus_copy: Path) -> None:
    lone = corpus_copy / "annotations" / "gold" / "no-such-doc.json"
    lone.write_text((corpus_copy / "annotations" / "gold" / f"{DOC}.json").read_text("utf-8"), "utf-8")
    rc, out, _ = _scoped(corpus_copy, "annotations/gold/no-such-doc.json")
    assert rc == 1
    codes = [(p["code"], p["file"]) for p in out["problems"]]
    assert codes[0] == ("missing_document", "annotations/gold/no-such-doc.json")
    assert ("doc_id_mismatch", "annotations/gold/no-such-doc.json") in codes  # the file itself was read and checked
    assert out["checked_files"] == ["annotations/gold/no-such-doc.json"]


def test_path_that_is_a_symlink_out_of_the_repository(corpus_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}", "utf-8")
    link = corpus_copy / "annotations" / "gold" / "linked-doc.json"
    link.symlink_to(outside)
    rc, out, _ = _scoped(corpus_copy, "annotations/gold/linked-doc.json")
    assert rc == 1 and [p["code"] for p in out["problems"]] == ["symlink_outside"] and out["checked_files"] == []


def test_undecodable_path_argument_is_a_usage_error_in_both_formats(corpus_copy: Path) -> None:
    import os

    odd = corpus_copy / "corpus" / os.fsdecode(b"\xff.txt")
    odd.write_text("text", "utf-8")
    for fmt in ("text", "json"):
        result = run_chipwar("validate", str(odd), "--format", fmt)
        assert result.returncode == 2, result.stdout + result.stderr
        out = flat(result.stdout)["error"]["message"] if fmt == "json" else result.stderr
        assert "\\udcff" in out and "not a valid document id" in out
