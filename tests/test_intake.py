"""Intake: the text exactly as received, normalisations recorded, unknowns null."""

from pathlib import Path

import pytest

from chipwar.checks import check_all
from chipwar.corpus import Corpus
from chipwar.intake import IntakeError, IntakeRequest, intake_document, split_for

from .conftest import run_chipwar


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
    assert check_all(Corpus(corpus_copy)).codes() == ["generated_stale"]  # DATASHEET counts documents
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
    with pytest.raises(IntakeError, match="not UTF-8 at byte 3"):
        intake_document(Corpus(corpus_copy), _request(received))
    assert not (corpus_copy / "corpus/new-doc.txt").exists()


def test_bad_metadata_is_refused_before_writing(corpus_copy: Path, tmp_path: Path) -> None:
    received = tmp_path / "in.txt"
    received.write_text("hello", "utf-8")
    result = run_chipwar("intake", str(received), "--doc-id", "Bad_Id", "--rights", "x", "--corpus", str(corpus_copy))
    assert result.returncode == 2
    assert "doc_id" in result.stderr and "nothing written" in result.stderr
    assert not list((corpus_copy / "corpus").glob("Bad_Id*"))


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
