"""Loaders for readers that trust the data (stats, agreement, generated figures): only files that pass are given.

A file passes when it passes every check ``chipwar validate`` makes of it, by the same code
(:func:`.documents.check_text`, :func:`.documents.check_metadata`,
:func:`.annotations.check_annotation_data`): an annotation file is checked against its
document's text, so a span past the end of the text or whose text is not the slice never
reaches a figure. What does not pass is left out and named with the first reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..corpus import Corpus, refusal
from ..files import loads_json
from ..report import Problem, Report, printable
from ..schema import Schemas
from .annotations import check_annotation_data
from .chunk import json_problem
from .documents import check_metadata, check_text
from .listing import folder_refusal, list_folder, list_sets, refused
from .scope import WHOLE


@dataclass(frozen=True)
class SoundDocument:
    """A document for a trusting reader: its metadata, text and SHA-256 when both files pass; else why not."""

    doc_id: str
    rel: str
    meta: Any
    text: str | None
    sha: str | None
    why: str | None  # why it does not pass; None when it does

    @property
    def problem(self) -> Problem | None:
        """The metadata file left out, and why; ``None`` when the document passes."""
        return None if self.why is None else _skipped(self.rel, self.doc_id, self.why)


def load_document(corpus: Corpus, schemas: Schemas, doc_id: str) -> SoundDocument:
    """A document's text and metadata, checked as ``chipwar validate`` checks them."""
    meta_path, text_path = corpus.metadata_path(doc_id), corpus.text_path(doc_id)
    meta_rel, text_rel = printable(corpus.rel(meta_path)), printable(corpus.rel(text_path))
    report = Report()
    raw, why = _read(corpus, text_path)
    if why is not None:
        return SoundDocument(doc_id, meta_rel, None, None, None, f"its text {text_rel}: {why}")
    text, sha = check_text(raw, text_rel, doc_id, report)
    meta, why = _parse(corpus, meta_path, meta_rel, doc_id)
    if why is None:
        check_metadata(schemas, meta, meta_rel, text_rel, doc_id, text, sha, report)
        why = _first_error(report, meta_rel)
    if why is not None:
        return SoundDocument(doc_id, meta_rel, None, None, None, why)
    return SoundDocument(doc_id, meta_rel, meta, text, sha, None)


def load_annotations(corpus: Corpus, schemas: Schemas, path: Path, doc: SoundDocument) -> tuple[Any, Problem | None]:
    """An annotation file of ``doc``, checked as ``chipwar validate`` checks it against the
    document's text; its value, or ``None`` and a problem saying it was left out and why."""
    rel = printable(corpus.rel(path))
    data, why = _parse(corpus, path, rel, doc.doc_id)
    if why is None:
        report = Report()
        check_annotation_data(schemas, data, rel, doc.doc_id, doc.text, doc.sha, report)  # without a text: its own checks only
        why = _first_error(report, rel)
    if why is None and doc.why is not None:
        why = f"its document {doc.rel} does not pass: {doc.why}"
    return (data, None) if why is None else (None, _skipped(rel, doc.doc_id, why))


def _read(corpus: Corpus, path: Path) -> tuple[bytes, None] | tuple[None, str]:
    """A file's bytes, or why it may not be read (a symlink out of the repository, not a file, missing)."""
    why = refusal(corpus.root, path)
    if why is not None:
        return None, why
    try:
        return path.read_bytes(), None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"


def _parse(corpus: Corpus, path: Path, rel: str, doc_id: str) -> tuple[Any, str | None]:
    """A JSON file's value, or why it has none."""
    raw, why = _read(corpus, path)
    if why is not None:
        return None, why
    try:
        return loads_json(raw), None
    except ValueError as exc:
        return None, json_problem(exc, rel, doc_id).message


def _first_error(report: Report, rel: str) -> str | None:
    """The first error of a check, in words and where (naming the file when it is another one); None when clean."""
    if report.ok:
        return None
    first = report.errors[0]
    where = "" if first.file == rel else f"{first.file}: "
    return f"{where}{first.message} [{first.code}] (at {first.pointer or 'the top'})"


def _skipped(rel: str, doc_id: str, why: str) -> Problem:
    return Problem("file_skipped", f"skipped: {why}", rel, doc_id,
                   hint="run `chipwar validate` for every problem in it; the figures leave this file out")


def readable_files(corpus: Corpus, folder: Path, suffix: str) -> tuple[list[str], list[Problem]]:
    """Ids of the files of a corpus folder (``corpus/``, a set) that may be read, sorted, and a
    problem for each that may not (a symlink out of the repository, a folder, a bad name)."""
    root, rel = str(corpus.root), printable(corpus.rel(folder))
    why = folder_refusal(root, str(folder))
    if why is not None:
        return [], [refused(rel, None, why)]
    listed = list_folder(root, str(folder), rel, (suffix,))
    return sorted(name.removesuffix(suffix) for name in listed.files), [p for _, p in sorted(listed.refused.items())]


def readable_sets(corpus: Corpus) -> tuple[list[str], list[Problem]]:
    """Names of the annotation sets that may be read, sorted, and a problem for each folder that may not."""
    folders, problems = list_sets(corpus, WHOLE, str(corpus.root))
    return [f.rel.removeprefix("annotations/") for f in folders], problems
