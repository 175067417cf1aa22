"""Intake: the text exactly as received, normalisations recorded, unknowns null."""

import os
from pathlib import Path

import pytest

from chipwar.checks import check_all
from chipwar.corpus import Corpus
from chipwar.intake import IntakeError, IntakeRequest, intake_document
from chipwar.splits import split_for
from chipwar.textform import TextFormError

from .conftest import flat, run_chipwar, tree


def _request(received: Path, doc_id: str = "new-doc") -> IntakeRequest:
    return IntakeRequest(received=received, doc_id=doc_id, url=None, publisher=None, published=None, title=None,
                         title_source="unknown", language="en", genre=None, rights_statement="Unknown rights; not redistributable.",
                         notes={"publisher": "not known"})


def test_exact_bytes_are_kept(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_bytes("Tabs\tand  spaces \n\n😀 q\u0307 中国 ®\n".encode())
    meta = intake_document(Corpus(corpus_copy), _request(received))
    assert (corpus_copy / "corpus/new-doc.txt").read_bytes() == received.read_bytes()
    assert meta["intake"]["normalised"] == []
    assert meta["publisher"] is None and meta["notes"]["publisher"] == "not known"
    assert meta["intake"]["length_codepoints"] == len(received.read_text("utf-8"))
    assert [p.code for p in check_all(Corpus(corpus_copy)).errors] == ["generated_stale"]  # DATASHEET counts documents
    assert run_chipwar("generate", "--corpus", str(corpus_copy)).returncode == 0
    assert check_all(Corpus(corpus_copy)).ok


def test_crlf_and_bom_are_normalised_once_and_recorded(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_bytes(b"\xef\xbb\xbfline one\r\nline two\r\n")
    meta = intake_document(Corpus(corpus_copy), _request(received))
    assert (corpus_copy / "corpus/new-doc.txt").read_bytes() == b"line one\nline two\n"
    assert meta["intake"]["normalised"] == ["bom_removed", "crlf_to_lf"]


def test_refuses_to_replace_a_document(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_text("hello", "utf-8")
    before = (corpus_copy / "corpus/reg-2023-qiming.txt").read_bytes()
    with pytest.raises(IntakeError, match="already exists"):
        intake_document(Corpus(corpus_copy), _request(received, "reg-2023-qiming"))
    assert (corpus_copy / "corpus/reg-2023-qiming.txt").read_bytes() == before


def test_not_utf8_is_refused_and_nothing_written(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_bytes(b"caf\xe9")
    with pytest.raises(TextFormError, match="not UTF-8 at byte 3"):
        intake_document(Corpus(corpus_copy), _request(received))
    assert not (corpus_copy / "corpus/new-doc.txt").exists()


def test_bad_metadata_is_refused_before_writing(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_text("hello", "utf-8")
    before = tree(corpus_copy)
    result = run_chipwar("intake", str(received), "--doc-id", "new-doc", "--rights", "x", "--published", "yesterday",
                         "--corpus", str(corpus_copy))
    assert result.returncode == 2
    assert "published" in result.stderr and "nothing written" in result.stderr
    assert tree(corpus_copy) == before



def _intake(corpus: Path, received: Path, doc_id: str = "new-doc", *extra: str):
    return run_chipwar("intake", str(received), "--doc-id", doc_id, "--rights", "Test.", "--corpus", str(corpus), *extra)


@pytest.mark.parametrize("doc_id", ["../corpus/x", "a/b", "/tmp/x", "Bad_Id", "-x", "x" * 201, ""])
def test_a_bad_id_is_refused_before_the_file_is_read(corpus_copy: Path, tmp_path: Path, doc_id: str) -> None:
    before = tree(corpus_copy)
    result = _intake(corpus_copy, tmp_path / "never-read.txt", doc_id)  # missing: the id is checked first
    assert result.returncode == 2 and "document id" in result.stderr and "is not valid" in result.stderr
    assert tree(corpus_copy) == before and not (tmp_path / "corpus").exists()


def test_an_id_at_the_length_limit_gives_both_files(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_text("A long-named article.\n", "utf-8")
    doc_id = "x" * 200
    assert _intake(corpus_copy, received, doc_id).returncode == 0
    assert (corpus_copy / "corpus" / f"{doc_id}.txt").is_file() and (corpus_copy / "corpus" / f"{doc_id}.json").is_file()


#: name: (bytes received, what the refusal says)
REFUSED_TEXTS = {
    "empty": (b"", "holds no text (it is empty or only white space)"),
    "only_white_space": (b" \n\t\r\n", "holds no text"),
    "bom_only": (b"\xef\xbb\xbf", "holds no text"),
    "nul": (b"Chip\x00war", "holds U+0000 (NUL) at code point 4 (line 1)"),
    "form_feed": (b"page one\n\x0cpage two", "holds U+000C (form feed) at code point 9 (line 2)"),
    "escape": (b"\x1b[1mbold\x1b[0m", "holds U+001B (escape)"),
    "utf16": ("Chip war".encode("utf-16"), "not UTF-8 at byte 0"),
    "latin1": ("café".encode("latin-1"), "not UTF-8 at byte 3"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_TEXTS))
def test_texts_that_are_not_article_texts_are_refused(corpus_copy: Path, tmp_path: Path, case: str) -> None:
    raw, says = REFUSED_TEXTS[case]
    received = tmp_path / "in.txt"
    received.write_bytes(raw)
    before = tree(corpus_copy)
    result = _intake(corpus_copy, received, "new-doc", "--format", "json")
    assert result.returncode == 2
    error = flat(result.stdout)["error"]
    assert error["code"] == "text_form" and error["message"] == f"{received}: {says}" or says in error["message"]
    assert str(received) in error["message"] and error["hint"]
    assert tree(corpus_copy) == before


def test_received_files_that_cannot_be_read_are_refused(corpus_copy: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "a-pipe"
    os.mkfifo(pipe)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "gone.txt")
    before = tree(corpus_copy)
    for path, says in ((folder, "is a folder, not a received file"), (pipe, "not a regular file"),
                       (dangling, "no such received file"), (tmp_path / "missing.txt", "no such received file")):
        result = _intake(corpus_copy, path)
        assert result.returncode == 2 and f"{path}: {says}" in result.stderr and "hint:" in result.stderr
    assert tree(corpus_copy) == before


def test_a_second_intake_of_an_id_changes_nothing(corpus_copy: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("The first text.\n", "utf-8")
    second.write_text("The second text.\n", "utf-8")
    assert _intake(corpus_copy, first).returncode == 0
    before = tree(corpus_copy)
    again = _intake(corpus_copy, second)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert tree(corpus_copy) == before


def test_split_is_stable_and_depends_only_on_the_id() -> None:
    assert split_for("reg-2023-qiming") == split_for("reg-2023-qiming")
    splits = [split_for(f"doc-{i}") for i in range(1000)]
    assert 0.7 < splits.count("train") / 1000 < 0.9
    assert splits.count("test") > 50 and splits.count("validation") > 50


def test_repository_documents_record_their_intake(repo: Path) -> None:
    corpus = Corpus(repo)
    for _doc_id, meta, _text in corpus.iter_documents():
        assert meta["intake"]["normalised"] == []
        assert meta["authors"] is None and "authors" in meta["notes"]
        assert meta["rights"]["redistributable"] is False
    tfi = corpus.read_metadata("tfi-2021-chip-crisis")
    assert tfi["title"]["source"] == "url_slug" and "slug" in tfi["notes"]["title"]
    reg_text = corpus.read_text("reg-2023-qiming")
    assert reg_text.splitlines()[2] == corpus.read_metadata("reg-2023-qiming")["title"]["text"]


def test_the_next_steps_it_prints_lead_to_a_clean_validate(corpus_copy: Path, tmp_path: Path) -> None:
    """The reported bug: "Next: `chipwar validate`" right after intake failed with generated_stale."""
    received = tmp_path / "in.txt"
    received.write_text("A new article about chips.\n", "utf-8")
    added = _intake(corpus_copy, received, "new-doc", "--note", "publisher=Not in the received file")
    assert added.returncode == 0, added.stderr
    assert "Next: `chipwar generate`" in added.stdout and added.stdout.index("generate") < added.stdout.index("validate")
    assert run_chipwar("generate", "--corpus", str(corpus_copy)).returncode == 0
    validated = run_chipwar("validate", str(corpus_copy))
    assert validated.returncode == 0, validated.stdout + validated.stderr


@pytest.mark.parametrize("note", ["nosuchfield=foo", "Authors=none given", "notes=about the notes", "intake.x=y"])
def test_a_note_on_something_that_is_not_a_metadata_field_is_refused(corpus_copy: Path, tmp_path: Path, note: str) -> None:
    received = tmp_path / "in.txt"
    received.write_text("A new article about chips.\n", "utf-8")
    before = tree(corpus_copy)
    for fmt in ("text", "json"):
        result = _intake(corpus_copy, received, "new-doc", "--note", "authors=No byline", "--note", note, "--format", fmt)
        assert result.returncode == 2
        error = flat(result.stdout)["error"] if fmt == "json" else {"message": result.stderr, "hint": result.stderr}
        key = note.partition("=")[0]
        assert f"--note {key!r}=…: not a metadata field" in error["message"] and "nothing written" in error["message"]
        assert "authors, language, genre, rights" in error["hint"] and "notes," not in error["hint"]
    assert tree(corpus_copy) == before


def test_notes_on_metadata_fields_are_kept(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_text("A new article about chips.\n", "utf-8")
    result = _intake(corpus_copy, received, "new-doc", "--note", "authors=No byline", "--note", "published=Not given",
                     "--format", "json")
    assert result.returncode == 0, result.stdout
    assert flat(result.stdout)["metadata"]["notes"] == {"authors": "No byline", "published": "Not given"}
