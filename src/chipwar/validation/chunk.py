"""One chunk of a run: what every chunk shares, what it finds, and how it reads a file (bytes, then JSON)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..files import loads_json
from ..report import Problem, Report, cut
from ..schema import Schemas
from .canonical import Records
from .listing import Folder
from .schema_problems import too_deep


@dataclass(frozen=True)
class Job:
    """What every chunk needs (shared with local workers by fork; pickled once per worker on a cluster).

    ``keep``: each document's parsed metadata, text and annotation files are kept in
    :attr:`Part.kept` for a build to go on with, so it reads every source once. ``facts``:
    what the generated blocks count is gathered from them (:mod:`chipwar.generated_facts`), so
    checking those blocks reads nothing again.
    """

    schemas: Schemas
    docs: Folder
    sets: tuple[Folder, ...]
    fast: bool
    list_checked: bool
    keep: bool = False
    facts: tuple[tuple[str, ...], ...] | None = None

    @property
    def keeps(self) -> bool:
        return self.keep or self.facts is not None


@dataclass
class Kept:
    """A document's sources as validation parsed them; ``sets``: set folder (``annotations/gold``) -> its file."""

    meta: Any = None
    text: str | None = None
    sets: dict[str, Any] = field(default_factory=dict)


@dataclass
class Part:
    """One chunk's findings."""

    report: Report = field(default_factory=Report)
    records: dict[str, Records] = field(default_factory=dict)  # by set folder
    firsts: dict[str, set[tuple[Any, Any, Any]]] = field(default_factory=dict)  # by set folder: (id, label, name) of each first record
    checked: list[str] = field(default_factory=list)
    kept: dict[str, Kept] = field(default_factory=dict)  # by document id, only with Job.keep
    facts: Any = None  # chipwar.generated_facts.BlockFacts, only with Job.facts


#: What :func:`load` gives for a file that could not be read or parsed (``None`` is JSON ``null``).
BROKEN: Any = object()


def _read(path: str, follow: bool) -> bytes:
    """A file's bytes; a plain file is opened without following a symlink that replaced it since it was listed."""
    fd = os.open(path, os.O_RDONLY if follow else os.O_RDONLY | os.O_NOFOLLOW)
    with open(fd, "rb") as fh:
        return fh.read()


def read_or_report(path: str, follow: bool, rel: str, doc_id: str, part: Part, list_checked: bool) -> bytes | None:
    """A file's bytes, or ``None`` with the problem reported; ``list_checked``: note it as read."""
    try:
        raw = _read(path, follow)
    except OSError as exc:
        part.report.add(Problem("unreadable", f"cannot read it ({exc.strerror})", rel, doc_id,
                                hint="check that it is a regular file you may read"))
        return None
    if list_checked:
        part.checked.append(rel)
    return raw


def load(path: str, follow: bool, rel: str, doc_id: str, part: Part, list_checked: bool) -> Any:
    """A JSON file's value, or ``BROKEN`` with the problem reported."""
    raw = read_or_report(path, follow, rel, doc_id, part, list_checked)
    if raw is None:
        return BROKEN
    try:
        return loads_json(raw)
    except ValueError as exc:
        part.report.add(json_problem(exc, rel, doc_id))
        return BROKEN


def json_problem(exc: ValueError, rel: str, doc_id: str | None) -> Problem:
    """The problem for JSON that does not parse: nested too deep, or malformed."""
    if "depth limit" in str(exc):
        return too_deep(rel, doc_id)
    return Problem("json_malformed", f"not valid JSON: {cut(str(exc), 300)}", rel, doc_id,
                   hint="fix the syntax at the position given (or restore the file with git checkout)")
