"""Importing a full JSON export of a Label Studio project into ``annotations/<set>/``.

Nothing in an export is trusted. From it the import takes only what an annotator can change
in the interface: each region's offsets, label, attributes, note and relations (claims'
attribution chains with their cues, and restatements: :mod:`.links`), and the document's
choices and note, every value checked for its type and shape (:mod:`.export`,
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
located by JSON pointer into the export, naming document and region (exit 1) — also those
found in the file an import would write, traced back to the region they came from — or, when
it is no export at all, a usage error (exit 2); never a crash.

Conflicts (a file of the set that exists and differs) are decided on the files as they are
when the write happens: each target is recorded as read while planning
(:meth:`chipwar.writer.Transaction.expect`), and the write, or the decision to write nothing,
is checked against them under the lock. A file that meanwhile came to hold exactly what the
import makes is unchanged, never a conflict; one that came to differ is a conflict (or, with
``--replace``, stops the import: its content was planned from the file as it was).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..corpus import Corpus
from ..files import dumps_json, sha256_text
from ..ids import check_set_name
from ..layers import CHAIN_FIELD, LAYERS, RESTATES_FIELD
from ..report import Problem, Report, pointer
from ..schema import load_schemas
from ..validation.annotations import check_annotation_data
from ..writer import NOT_A_FILE, ChangedMeanwhile, Content, Transaction, current, reading
from .config import SOURCE_LABELS, UNCUED_KINDS
from .entities import canonical_registry
from .export import TaskLocation, check_export, choose_annotation, read_export, task_document
from .records import trusted_bases
from .spans import Built, build_annotation
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
    #: Every target file as read while planning (``None``: absent), checked again when writing.
    read: dict[Path, Content] = field(default_factory=dict)

    def plan(self, path: Path, data: dict[str, Any], existing: Content) -> None:
        """Plan ``data`` for ``path``: unchanged when the file already holds it, else to be written (a conflict when a
        different file is there)."""
        if isinstance(existing, bytes):
            if existing == dumps_json(data):
                self.unchanged.append(path)
                return
            self.conflicts.append(path)
        self.files[path] = data


def import_file(corpus: Corpus, path: Path, annotator: str, *, user: str | None = None, kind: str = "person",
                replace: bool = False) -> ImportResult:
    """Import an export file into ``annotations/<annotator>/`` (see :func:`import_tasks`)."""
    check_set_name(annotator)
    return import_tasks(corpus, read_export(path), annotator, source=str(path), user=user, kind=kind, replace=replace)


def import_tasks(corpus: Corpus, export: Any, annotator: str, *, source: str, user: str | None = None, kind: str = "person",
                 replace: bool = False) -> ImportResult:
    """Plan the import and write every file at once when there is no error and no conflict (or ``replace``).

    Raises :class:`chipwar.writer.ChangedMeanwhile` when a target changed after planning in a
    way that is no conflict to list (it was removed, or changed under ``replace``).
    """
    return write_import(corpus, plan_import(corpus, export, annotator, source=source, user=user, kind=kind), replace)


def write_import(corpus: Corpus, result: ImportResult, replace: bool) -> ImportResult:
    """Write every file of a planned import at once, when it has no error and no conflict (or ``replace``); used by every
    import into an annotation set (Label Studio's, brat's).

    Raises :class:`chipwar.writer.ChangedMeanwhile` when a target changed after planning in a
    way that is no conflict to list (it was removed, or changed under ``replace``).
    """
    if not result.report.ok:
        return result
    result.blocked = bool(result.conflicts) and not replace
    tx = Transaction(corpus.root)
    for path, raw in result.read.items():
        tx.expect(path, raw)
    if not result.blocked:
        for path, data in rendered(result).items():
            tx.write(path, data)
    try:
        result.written = tx.commit()
    except ChangedMeanwhile as exc:
        if replace or not _conflicts_now(result, exc.found):
            raise
        return result
    result.unchanged += tx.unchanged
    return result


def _conflicts_now(result: ImportResult, found: dict[Path, Content]) -> bool:
    """Recount the conflicts on the files as the lock found them; False when a change is no conflict (a file removed)."""
    targets = {path: result.read[path] for path in result.unchanged} | rendered(result)
    unchanged, conflicts = [], []
    if set(found) - set(targets):
        return False  # a document's text changed: the spans were checked against the old one
    for path, data in targets.items():
        now = found.get(path, result.read[path])
        if now is None and result.read[path] is None:
            continue
        if not isinstance(now, bytes):
            return False
        (unchanged if now == data else conflicts).append(path)
    if not conflicts:
        return False
    result.unchanged, result.conflicts, result.blocked = unchanged, conflicts, True
    result.files = {path: data for path, data in result.files.items() if path not in unchanged}
    return True


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
    with reading(corpus.root):  # an import or correction being written is waited for: never half of it read
        doc_ids = set(corpus.doc_ids())
        registry = canonical_registry(corpus)
        seen: set[str] = set()
        users: set[str] = set()
        chose = 0
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
            reported = len(result.report.problems)
            chosen = choose_annotation(task["annotations"], where, user, users)
            if chosen is None:
                if len(result.report.problems) == reported:
                    by = f" by {user}" if user is not None else ""
                    result.notices.append(f"{where.rel}: Label Studio task {where.task_id if where.task_id is not None else '?'} "
                                          f"has no submitted annotation{by}; this document is not imported")
                continue
            chose += 1
            sha = sha256_text(text)
            result.read[corpus.text_path(doc_id)] = text.encode("utf-8")  # the spans are checked against it: it must stay
            path = corpus.annotation_path(annotator, doc_id)
            if path.resolve() != corpus.root.resolve() / "annotations" / annotator / f"{doc_id}.json":
                result.report.add(Problem("target_is_a_link", "the file to write is, or lies in, a symbolic link; writing it would change "
                                          "the file the link points at", where.rel, doc_id, found=str(path.resolve()),
                                          expected="a regular file under annotations/",
                                          hint="replace the link with a regular file or folder, or import under another --annotator"))
                continue
            existing = result.read[path] = current(path)
            if existing == NOT_A_FILE:
                result.report.add(Problem("target_not_a_file", "the file to write is a folder or another thing that is not a regular file",
                                          where.rel, doc_id, expected="a regular file, or nothing", found="not a regular file",
                                          hint="move it out of the way, or import under another --annotator"))
                continue
            bases = trusted_bases(corpus, annotator, doc_id, sha, existing, task["data"].get(TASK_KEY), where)
            built = build_annotation(schemas, where, chosen, text, sha, bases, registry, annotator, kind, result.notices,
                                     result.repaired)
            if built is None:
                continue
            ann = built.data
            checked = Report()
            check_annotation_data(schemas, ann, where.rel, doc_id, text, sha, checked)
            for problem in checked.problems:
                if not built.links.follows(problem):
                    in_export(problem, built, where)
            result.plan(path, ann, existing)
    if not chose and result.report.ok:
        result.report.add(_nothing_chosen(source, pointer(0, "annotations"), user, users))
    return result


def _nothing_chosen(source: str, where: str, user: str | None, users: set[str]) -> Problem:
    """Why an import found no annotation to take: nobody submitted one, or ``--user`` is none of those who did."""
    if not users:
        return Problem("no_annotations", "no task of the export has a submitted annotation", source, pointer=where,
                       expected="at least one submitted annotation", found="none",
                       hint="in Label Studio, open each task, review it and press Submit (pre-annotations are predictions "
                            "until submitted; the button then reads Update), then pull again")
    return Problem("unknown_user", f"no annotation of the export is by user {user!r}", source, pointer=where,
                   expected="an e-mail or numeric id of a user who submitted annotations", found=", ".join(sorted(users)),
                   hint="pass --user with one of the users found (an export saved from the browser names users by id only)")


def in_export(problem: Problem, built: Built, where: TaskLocation) -> None:
    """Report a problem found in the file an import would write where the annotator can fix it: the region (or the
    annotation) of the export it came from — for a chain link or restatement, the relation or choice that gave it. An
    attribute left unset is said to be unset, not a schema's complaint about null."""
    parts = problem.pointer.split("/")[1:]
    layer, field_name = (parts[0], parts[2] if len(parts) > 2 else None) if parts else (None, None)
    index = int(parts[1]) if layer in LAYERS and len(parts) > 1 and parts[1].isdigit() else None
    source = built.spans.get((layer, index)) if index is not None else None
    link = _link_origin(built, parts) if source is not None else None
    region, code, message = None, problem.code, problem.message
    if source is not None and link is not None:
        region, place = source[0], link[0]
        what = f"{link[1]} of region {region}"
    elif source is not None:
        region, items = source
        item = next((i for i in items if i.control.name == field_name), None)
        if item is None and field_name is not None and built.data[layer][index].get(field_name) is None:
            code, message = "attribute_unset", f"{field_name} is not set; the schema requires it on this region"
        elif field_name is not None:
            message = f"{field_name}: {message}"
        item = item or next(i for i in items if i.control.name == layer)
        place = (*item.parts, "value", "labels" if item.control.type == "labels" else
                 "choices" if item.control.type == "choices" else "text")
        what = f"the {field_name} of region {region}" if field_name else f"region {region}"
    elif layer == "document_labels":
        item = next((i for i in built.document if i.control.name == field_name), None)
        place = (*item.parts, "value") if item is not None else (*built.parts, "result")
        what = f"the document's {field_name or 'labels'}"
    else:
        place = built.parts
        what = "this annotation"
    task = f"task {where.task_id}" if where.task_id is not None else f"the task of document {problem.doc_id}"
    do = f"select region {region}, choose its {field_name}" if code == "attribute_unset" else f"fix {what}"
    where.problem(code, message, *place, region=region or problem.annotation_id, expected=problem.expected,
                  found="not set" if code == "attribute_unset" else problem.found,
                  hint=f"in Label Studio, open {task}, {do}, press Update (Submit the first time), then pull again (the labels "
                       "and values allowed are those of `chipwar labelstudio config`)", severity=problem.severity)


def _link_origin(built: Built, parts: list[str]) -> tuple[tuple[str | int, ...], str] | None:
    """Where a claim's chain link or restatement named by a pointer's ``parts`` was given, and what it is."""
    if parts[0] != "claims" or len(parts) < 4 or parts[2] not in (CHAIN_FIELD, RESTATES_FIELD) or not parts[3].isdigit():
        return None
    claim, k = built.data["claims"][int(parts[1])], int(parts[3])
    if parts[2] == CHAIN_FIELD:
        origin = built.links.origins.get((claim["id"], CHAIN_FIELD, k))
        return (origin, f"{SOURCE_LABELS[k]} (a relation to its cue or entity, or {UNCUED_KINDS[k]})") if origin else None
    other = claim[RESTATES_FIELD][k] if k < len(claim[RESTATES_FIELD]) else None
    origin = built.links.origins.get((claim["id"], RESTATES_FIELD, other)) if isinstance(other, str) else None
    return (origin, f"the restates relation to {other}") if origin else None
