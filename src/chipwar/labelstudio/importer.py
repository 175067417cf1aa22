"""Importing a full JSON export of a Label Studio project into ``annotations/<set>/``.

Nothing in an export is trusted. From it the import takes only what an annotator can change
in the interface: each region's offsets, label, attributes, note and relations, and the
document's choices and note, every value checked for its type and shape (:mod:`.export`,
:mod:`.regions`). Who made a span and when, the set's decisions and the canonical-entity
records come from the repository: from the existing file of the set imported into, and from
the file of the set the task was made from, which is used only when its SHA-256 is still the
one the task records (:mod:`.records`). A span that comes back unchanged keeps the provenance
the repository records for it; a new or changed one is the annotator's (``origin:
labelstudio``), dated when Label Studio stored the annotation (:mod:`.spans`).

Regions are grouped by id; every span's text is checked against the document (a region
resized after an emoji stores UTF-16 offsets: repaired when unambiguous, and reported); a
task whose text differs from the corpus is refused; and the files must pass every check of
``chipwar validate`` before any is written, all at once. A malformed export gives problems
located by JSON pointer into the export, naming document and region (exit 1), or, when it
is no export at all, a usage error (exit 2); never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..corpus import Corpus
from ..files import dumps_json, sha256_text
from ..ids import check_set_name
from ..report import Problem, Report
from ..schema import load_schemas
from ..validation.annotations import check_annotation_data
from ..writer import write_files
from .export import TaskLocation, check_export, choose_annotation, read_export, task_document
from .records import read_existing, trusted_bases
from .spans import build_annotation
from .tasks import TASK_KEY


@dataclass
class ImportResult:
    """What an import would write (path -> file content), what it wrote, repaired and noticed, and every problem."""

    files: dict[Path, dict[str, Any]] = field(default_factory=dict)
    unchanged: list[Path] = field(default_factory=list)
    conflicts: list[Path] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    blocked: bool = False
    report: Report = field(default_factory=Report)


def import_file(corpus: Corpus, path: Path, annotator: str, *, user: str | None = None, kind: str = "person",
                replace: bool = False) -> ImportResult:
    """Import an export file into ``annotations/<annotator>/`` (see :func:`import_tasks`)."""
    check_set_name(annotator)
    return import_tasks(corpus, read_export(path), annotator, source=str(path), user=user, kind=kind, replace=replace)


def import_tasks(corpus: Corpus, export: Any, annotator: str, *, source: str, user: str | None = None, kind: str = "person",
                 replace: bool = False) -> ImportResult:
    """Plan the import and write every file at once when there is no error and no conflict (or ``replace``)."""
    result = plan_import(corpus, export, annotator, source=source, user=user, kind=kind)
    result.blocked = bool(result.conflicts) and not replace
    if result.report.ok and not result.blocked and result.files:
        result.written = write_files(corpus.root, rendered(result))
    return result


def rendered(result: ImportResult) -> dict[Path, bytes]:
    """The files an import writes, in the repository's JSON style."""
    return {path: dumps_json(data) for path, data in result.files.items()}


def plan_import(corpus: Corpus, export: Any, annotator: str, *, source: str, user: str | None = None,
                kind: str = "person") -> ImportResult:
    """Turn a full Label Studio JSON export into annotation files for ``annotations/<annotator>/``, validated, unwritten."""
    check_set_name(annotator)
    tasks = check_export(export, source)
    schemas = load_schemas(corpus.schema_dir)
    result = ImportResult()
    doc_ids = set(corpus.doc_ids())
    seen: set[str] = set()
    for n, task in enumerate(tasks):
        where = TaskLocation(source, (n,), result.report)
        found = task_document(corpus, task, where, doc_ids)
        if found is None:
            continue
        doc_id, text = found
        if doc_id in seen:
            where.problem("duplicate_task", "a second task for the same document", "data", "doc_id",
                          hint="delete the duplicate task in Label Studio")
            continue
        seen.add(doc_id)
        where.rel = f"annotations/{annotator}/{doc_id}.json"
        chosen = choose_annotation(task["annotations"], where, user)
        if chosen is None:
            continue
        sha = sha256_text(text)
        path = corpus.annotation_path(annotator, doc_id)
        if path.resolve() != corpus.root.resolve() / "annotations" / annotator / f"{doc_id}.json":
            result.report.add(Problem("target_is_a_link", "the file to write is, or lies in, a symbolic link; writing it would change "
                                      "the file the link points at", where.rel, doc_id, found=str(path.resolve()),
                                      expected="a regular file under annotations/",
                                      hint="replace the link with a regular file or folder, or import under another --annotator"))
            continue
        existing = read_existing(path)
        bases = trusted_bases(corpus, annotator, doc_id, sha, existing, task["data"].get(TASK_KEY), where)
        ann = build_annotation(schemas, where, chosen, text, sha, bases, annotator, kind, result.notices, result.repaired)
        if ann is None:
            continue
        check_annotation_data(schemas, ann, where.rel, doc_id, text, sha, result.report)
        if path.exists() or path.is_symlink():
            if existing == dumps_json(ann):
                result.unchanged.append(path)
                continue
            result.conflicts.append(path)
        result.files[path] = ann
    return result
