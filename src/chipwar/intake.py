"""Bringing a received article into the corpus, exactly once.

The stored text is the received bytes under the text form rules (:mod:`chipwar.textform`):
decoded as UTF-8, only a BOM, CR/CRLF line ends and non-NFC sequences normalised, each
normalisation recorded in the metadata; empty texts and texts with control characters are
refused. Facts that are not known are stored as null with a note, never guessed.

The document id is checked before anything is read, and the two files are created together
and exclusively (:func:`chipwar.writer.write_files` with ``create_only``): of two intakes of
one id at once, exactly one writes both files and the other fails with "already exists".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .corpus import Corpus
from .errors import UsageError
from .files import dumps_json, sha256_text
from .ids import check_doc_id
from .report import short
from .schema import Schemas, load_schemas
from .splits import split_for
from .textform import normalise, read_received
from .writer import write_files


class IntakeError(UsageError):
    """The received file cannot be taken in as given."""


@dataclass(frozen=True)
class IntakeRequest:
    """What is known about a received article. ``None`` means unknown."""

    received: Path
    doc_id: str
    url: str | None
    publisher: str | None
    published: str | None
    title: str | None
    title_source: str
    language: str
    genre: str | None
    rights_statement: str
    license: str | None = None
    redistributable: bool = False
    authors: list[str] | None = None
    notes: dict[str, str] = field(default_factory=dict)
    intake_date: str = field(default_factory=lambda: date.today().isoformat())


def build_metadata(req: IntakeRequest, text: str, steps: list[str]) -> dict[str, Any]:
    """Metadata in schema field order."""
    return {
        "doc_id": req.doc_id,
        "title": {"text": req.title, "source": req.title_source},
        "publisher": req.publisher,
        "url": req.url,
        "published": req.published,
        "authors": req.authors,
        "language": req.language,
        "genre": req.genre,
        "rights": {"statement": req.rights_statement, "license": req.license, "redistributable": req.redistributable},
        "intake": {
            "received_file": req.received.name,
            "intake_date": req.intake_date,
            "text_sha256": sha256_text(text),
            "length_codepoints": len(text),
            "normalised": steps,
        },
        "split": split_for(req.doc_id),
        "notes": dict(req.notes),
        "corrections": [],
    }


def metadata_errors(corpus: Corpus, meta: dict[str, Any]) -> list[str]:
    """Where and why metadata breaks ``schema/document.schema.json``, a line each; empty when valid."""
    return [f"{'/'.join(map(str, e.instance_path)) or '(top)'}: {e.message}"
            for e in load_schemas(corpus.schema_dir).document_validator.iter_errors(meta)]


def check_note_fields(schemas: Schemas, notes: dict[str, str]) -> None:
    """Refuse a note on anything but a metadata field: notes are keyed by the field they explain
    (why it is null, how it was established), so a misspelt key would explain nothing."""
    properties = schemas.document.get("properties")
    fields = [name for name in properties if name != "notes"] if isinstance(properties, dict) else []
    unknown = [key for key in notes if key not in fields]
    if unknown:
        raise IntakeError(f"--note {short(unknown[0])}=…: not a metadata field (schema/document.schema.json); nothing written",
                          hint=f"key each note by the field it explains, one of: {', '.join(fields)}")


def intake_document(corpus: Corpus, req: IntakeRequest) -> dict[str, Any]:
    """Write ``corpus/<doc_id>.txt`` and ``.json``; refuse to replace an existing document.

    Nothing is read before the id and the notes' fields are checked, and nothing is written unless both files can be.
    """
    check_doc_id(req.doc_id)
    check_note_fields(load_schemas(corpus.schema_dir), req.notes)
    txt, meta_path = corpus.text_path(req.doc_id), corpus.metadata_path(req.doc_id)
    if txt.exists() or meta_path.exists():
        raise IntakeError(f"{corpus.rel(txt)}: document {req.doc_id!r} already exists; texts are immutable, "
                          "so pick another doc id, or correct the text with `chipwar reanchor`")
    text, steps = normalise(read_received(req.received), str(req.received))
    meta = build_metadata(req, text, steps)
    errors = metadata_errors(corpus, meta)
    if errors:
        raise IntakeError(f"{req.received}: metadata would not validate, nothing written:\n  " + "\n  ".join(errors))
    write_files(corpus.root, {txt: text.encode("utf-8"), meta_path: dumps_json(meta)}, create_only=True)
    return meta
