"""The scope of a run: what ``chipwar validate PATH`` reads, as the path names it, and the id checks on the path."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..corpus import Corpus
from ..errors import UsageError
from ..ids import DOC_ID, MAX_LENGTH, SET_NAME
from ..report import printable, short


@dataclass(frozen=True)
class Scope:
    """What one run reads, as the path it was given names it."""

    what: str
    whole: bool = False
    docs: tuple[str, ...] | None = None  # these documents; None: as corpus_docs and sets say
    sets: tuple[str, ...] | None = None  # these annotation sets; None: every set
    corpus_docs: bool = True  # every document of corpus/ (else only those the sets annotate)


WHOLE = Scope("the whole corpus", whole=True)

_WHAT_CAN_BE_CHECKED = ("validate checks the corpus checkout, corpus/, a document (corpus/<doc_id>.txt or .json), "
                        "annotations/, a set folder (annotations/<set>/) or an annotation file (annotations/<set>/<doc_id>.json)")


def scope_of(corpus: Corpus, path: Path | None) -> Scope:
    """The scope a path names; a :class:`UsageError` for a path validate cannot check."""
    if path is None:
        return WHOLE
    if not os.path.lexists(path):
        raise UsageError(f"{printable(path)}: no such file or folder", hint="check the path; `chipwar validate` with no path checks everything")
    parts = _relative(corpus, path).parts
    if not parts:
        return WHOLE
    top, rest = parts[0], parts[1:]
    if top == "corpus" and not rest:
        return Scope("corpus/ (every document)", sets=())
    if top == "corpus" and len(rest) == 1 and rest[0].endswith((".txt", ".json")):
        doc_id = _checked_id(path, rest[0].rpartition(".")[0], DOC_ID, "document id")
        return Scope(f"corpus/{rest[0]}", docs=(doc_id,))
    if top == "annotations" and not rest:
        return Scope("annotations/ (every set)", corpus_docs=False)
    if top == "annotations" and len(rest) == 1 and os.path.isdir(path):
        set_name = _checked_id(path, rest[0], SET_NAME, "annotation set name")
        return Scope(f"annotations/{set_name}/", sets=(set_name,), corpus_docs=False)
    if top == "annotations" and len(rest) == 2 and rest[1].endswith(".json"):
        set_name = _checked_id(path, rest[0], SET_NAME, "annotation set name")
        doc_id = _checked_id(path, rest[1].removesuffix(".json"), DOC_ID, "document id")
        return Scope(f"annotations/{set_name}/{doc_id}.json", docs=(doc_id,), sets=(set_name,))
    raise UsageError(f"{printable(path)}: not something validate can check; {_WHAT_CAN_BE_CHECKED}",
                     hint="run `chipwar validate` with no path to check everything")


def _relative(corpus: Corpus, path: Path) -> Path:
    """``path`` relative to the corpus root, as written (a symlink names where it sits, not where it points)."""
    written = Path(os.path.normpath(os.path.abspath(path)))
    for candidate in (written, Path(os.path.realpath(path))):
        if candidate.is_relative_to(corpus.root):
            return candidate.relative_to(corpus.root)
    raise UsageError(f"{printable(path)}: outside the corpus at {printable(corpus.root)}", hint="pass a path inside the corpus checkout")


def _checked_id(path: Path, value: str, pattern: re.Pattern[str], kind: str) -> str:
    if valid(value, pattern):
        return value
    raise UsageError(f"{printable(path)}: {short(printable(value), 60)} is not a valid {kind} (it must match {pattern.pattern})",
                     hint=_WHAT_CAN_BE_CHECKED)


def valid(value: str, pattern: re.Pattern[str]) -> bool:
    """Whether ``value`` is a valid id of the kind ``pattern`` matches (and not too long)."""
    return len(value) <= MAX_LENGTH and pattern.fullmatch(value) is not None
