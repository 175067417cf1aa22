"""The checks of one document: its text (UTF-8, NFC, not empty, no CR, BOM or control characters) and its metadata."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import partial
from typing import Any

from ..report import Problem, Report, pointer, short
from ..schema import Schemas
from ..splits import split_for
from .chunk import BROKEN, Job, Kept, Part, load, read_or_report
from .schema_problems import schema_problems, whole_float_problems

#: C0 controls a text may not hold (the text form rules of :mod:`chipwar.textform`): all but tab and line feed; CR has its own check.
_C0 = bytes(b for b in range(32) if b not in b"\t\n\r")
_CONTROL = re.compile("[" + re.escape(_C0.decode("ascii")) + "]")


def check_document(job: Job, doc_id: str, part: Part) -> tuple[str | None, str | None]:
    """Check a document's text and metadata; return its text and SHA-256 when usable."""
    report, docs = part.report, job.docs
    report.count("documents")
    text_name, meta_name = doc_id + ".txt", doc_id + ".json"
    (text_path, text_rel), (meta_path, meta_rel) = docs.file(text_name), docs.file(meta_name)
    text = sha = None
    follow = docs.files.get(text_name)
    if follow is not None:
        raw = read_or_report(text_path, follow, text_rel, doc_id, part, job.list_checked)
        if raw is not None:
            text, sha = check_text(raw, text_rel, doc_id, report)
    elif text_name not in docs.refused:
        report.add(Problem("missing_text", "metadata has no text file beside it", meta_rel, doc_id,
                           expected=text_rel, found="no such file", hint="restore the text (git checkout) or remove the metadata"))
    follow = docs.files.get(meta_name)
    if follow is None:
        if meta_name not in docs.refused:
            report.add(Problem("missing_metadata", "text has no metadata file beside it", text_rel, doc_id,
                               expected=meta_rel, found="no such file", hint="create it with `chipwar intake`"))
        return text, sha
    meta = load(meta_path, follow, meta_rel, doc_id, part, job.list_checked)
    if meta is not BROKEN:
        check_metadata(job.schemas, meta, meta_rel, text_rel, doc_id, text, sha, report)
        if job.keeps:
            part.kept[doc_id] = Kept(meta, text)
    return text, sha


def check_text(raw: bytes, rel: str, doc_id: str, report: Report) -> tuple[str | None, str | None]:
    """Every check of a document's text bytes; return the text and its SHA-256 when it is UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add(Problem("text_not_utf8", f"text is not UTF-8 at byte {exc.start}", rel, doc_id,
                           expected="UTF-8", found=repr(raw[exc.start:exc.start + 8]),
                           hint="re-run intake on the received file; intake decodes and records the encoding"))
        return None, None
    _check_text_form(raw, text, rel, doc_id, report)
    return text, hashlib.sha256(raw).hexdigest()  # = sha256_text(text): valid UTF-8 decodes and encodes back to the same bytes


def check_metadata(schemas: Schemas, meta: Any, rel: str, text_rel: str, doc_id: str,
                   text: str | None, sha: str | None, report: Report) -> None:
    """Every check of a document's parsed metadata: the schema, its id and split, and the text's
    SHA-256 and length against ``text`` (skipped when the text is not usable: ``None``)."""
    problems = schema_problems(schemas, schemas.document_validator, meta, rel, doc_id)
    report.extend(problems)
    if not isinstance(meta, dict) or (problems and problems[0].code == "too_deep"):
        return
    report.extend(whole_float_problems("document", meta, rel, doc_id))
    if meta.get("doc_id") != doc_id:
        report.add(Problem("doc_id_mismatch", "metadata doc_id differs from the file name", rel, doc_id,
                           pointer=pointer("doc_id"), expected=repr(doc_id), found=short(meta.get("doc_id")),
                           hint="the file name stem is the document id; make them equal"))
    split, assigned = meta.get("split"), split_for(doc_id)
    if isinstance(split, str) and split != assigned and not any(p.pointer == pointer("split") for p in problems):
        report.add(Problem("split_changed", "split differs from the one assigned from the document id", rel, doc_id,
                           pointer=pointer("split"), expected=repr(assigned), found=short(split),
                           hint=f'set "split" back to {assigned!r}: a document\'s split is fixed by its id '
                                "(chipwar.splits.split_for) and never changes between versions"))
    intake = meta.get("intake") if isinstance(meta.get("intake"), dict) else {}
    recorded = intake.get("text_sha256")
    if sha is not None and isinstance(recorded, str) and recorded != sha:
        report.add(Problem("text_sha256_mismatch", "text differs from the one recorded at intake", text_rel, doc_id,
                           pointer=pointer("intake", "text_sha256"), expected=short(recorded), found=sha,
                           hint=f"texts are immutable: restore it (git checkout -- {text_rel}), "
                                "or re-anchor the annotations to a corrected text"))
    length = intake.get("length_codepoints")
    if text is not None and type(length) is int and length != len(text):
        report.add(Problem("text_length_mismatch", "text length differs from the one recorded at intake", rel, doc_id,
                           pointer=pointer("intake", "length_codepoints"), expected=str(length), found=str(len(text)),
                           hint=f"set intake.length_codepoints back to {len(text)}, the text's length in code points"
                                if recorded == sha else
                                f"the text changed since intake: restore it (git checkout -- {text_rel}), or correct it "
                                "with `chipwar reanchor`, which records the new length"))


def _check_text_form(raw: bytes, text: str, rel: str, doc_id: str, report: Report) -> None:
    if text.startswith("\ufeff"):
        report.add(Problem("text_has_bom", "text starts with a byte-order mark", rel, doc_id, expected="no BOM", found="U+FEFF at 0",
                           hint="intake removes a BOM once and records it; re-run `chipwar intake` on the received file"))
    cr = text.find("\r")
    if cr >= 0:
        line = text.count("\n", 0, cr) + 1
        report.add(Problem("text_has_cr", f"text has a carriage return (line {line}, code point {cr})", rel, doc_id,
                           expected="LF line ends", found="CR" + ("LF" if text[cr + 1:cr + 2] == "\n" else ""),
                           hint="intake turns CRLF into LF once and records it; re-run `chipwar intake` on the received file"))
    if not _is_nfc(text):
        at = next(i for i, ch in enumerate(text) if unicodedata.normalize("NFC", text[i:i + 2]) != text[i:i + 2])
        report.add(Problem("text_not_nfc", f"text is not in Unicode NFC (first at code point {at})", rel, doc_id,
                           expected="NFC", found=short(text[at:at + 2]), hint="intake normalises to NFC once and records it"))
    if not text or text.isspace():
        report.add(Problem("text_empty", "text is empty" if not text else "text is only white space", rel, doc_id,
                           expected="the article's text", found=f"{len(text)} white-space characters" if text else "0 characters",
                           hint="restore the text (git checkout), or remove the document's .txt and .json"))
    if len(raw.translate(None, _C0)) != len(raw):  # in UTF-8 these bytes stand only for themselves
        found = _CONTROL.search(text)
        assert found is not None
        at = found.start()
        report.add(Problem("text_has_control", f"text holds a control character (line {text.count(chr(10), 0, at) + 1}, code point {at})",
                           rel, doc_id, expected="no control characters but tab and line feed", found=f"U+{ord(found[0]):04X}",
                           hint="remove it from the received file and re-run `chipwar intake`, or correct the text with `chipwar reanchor`"))


_is_nfc_line = partial(unicodedata.is_normalized, "NFC")


def _is_nfc(text: str) -> bool:
    """``unicodedata.is_normalized("NFC", text)``, line by line: the same answer, because no
    canonical mapping involves a line feed and it is a starter, so nothing composes or
    reorders across it. The gain: one combining mark (a "maybe" for the quick check) makes
    CPython normalise its own line in full rather than the whole text."""
    return all(map(_is_nfc_line, text.split("\n")))
