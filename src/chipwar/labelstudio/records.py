"""The repository's records an import may keep: the annotation files it trusts for a task, and their spans.

Provenance, decisions and canonical-entity records never come from an export. They come
from the file of the set imported into, and from the file of the set the task was made
from, which is used only when its SHA-256 is still the one the task records (see
:mod:`.tasks`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from ..corpus import Corpus
from ..errors import UsageError
from ..files import loads_json
from ..ids import check_set_name
from ..layers import LAYERS
from ..report import short
from .export import TaskLocation, shown
from .tasks import TASK_KEY, span_digest


def read_existing(path: Path) -> bytes | None:
    """A regular file's bytes; None when there is none or it cannot be read."""
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _parse_base(raw: bytes, doc_id: str, sha: str) -> dict | None:
    """An annotation file's content when it parses and describes this document's text."""
    try:
        data = loads_json(raw)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("doc_id") == doc_id and data.get("text_sha256") == sha:
        return data
    return None


def trusted_bases(corpus: Corpus, annotator: str, doc_id: str, sha: str, existing: bytes | None, carried: Any,
                  where: TaskLocation) -> list[dict]:
    """The repository's files whose provenance, decisions and canonical records an import may keep, in order of precedence:
    the file of the set imported into (``existing``), then the file of the set the task was made from, if its SHA-256
    still matches the one the task records."""
    bases = []
    target = corpus.annotation_path(annotator, doc_id)
    if existing is not None or target.exists():
        base = _parse_base(existing, doc_id, sha) if existing is not None else None
        if base is None:
            where.problem("base_unusable", f"{corpus.rel(target)} exists but is not this document's annotation file for its current "
                          "text; nothing of it is kept", severity="warning", hint=f"run `chipwar validate {corpus.rel(target)}`")
        else:
            bases.append(base)
    if carried is None:
        return bases
    set_name = carried.get("set") if isinstance(carried, dict) else None
    digest = carried.get("annotations_sha256") if isinstance(carried, dict) else None
    try:
        check_set_name(set_name if isinstance(set_name, str) else "")
    except UsageError:
        set_name = None
    if set_name is None or not isinstance(digest, str):
        where.problem("task_source_unverified", "the task's record of the set it was made from is not one chipwar writes; "
                      "no provenance, decisions or canonical records are taken from it", "data", TASK_KEY,
                      expected='{"set": NAME, "annotations_sha256": HEX}', found=shown(carried),
                      severity="warning", hint="spans come back as the annotator's own work")
        return bases
    if set_name == annotator:
        return bases
    path = corpus.annotation_path(set_name, doc_id)
    raw = read_existing(path)
    found = hashlib.sha256(raw).hexdigest() if raw is not None else None
    if found != digest:
        where.problem("task_source_unverified", f"the task was made from {corpus.rel(path)} as it was then, and the repository's "
                      "copy differs now; its provenance, decisions and canonical records are not used", "data", TASK_KEY,
                      expected=f"SHA-256 {short(digest)}", found=f"SHA-256 {found}" if found else "no such file", severity="warning",
                      hint=f"spans come back as {annotator}'s own work; to keep the set's records, import with {corpus.rel(path)} "
                           "restored to the version the tasks were made from")
        return bases
    base = _parse_base(raw, doc_id, sha)
    if base is not None:
        bases.append(base)
    return bases


def base_spans(base: dict) -> dict[str, dict]:
    """A repository file's spans of every layer, by id (what is not a span with a string id is passed over)."""
    return {s["id"]: s for layer in LAYERS if isinstance(base.get(layer), list)
            for s in base[layer] if isinstance(s, dict) and isinstance(s.get("id"), str)}


def same_record(old: dict, new: dict) -> bool:
    """True when a repository record and an imported one agree on everything but provenance."""
    try:
        return span_digest(old) == span_digest(new)
    except (TypeError, orjson.JSONEncodeError):  # a record nested past what can be hashed is not the same
        return False
