"""An untrusted Label Studio export, read and shape-checked: the file, its tasks, and the annotation of one user.

Every value is checked for its type and shape before it is used; a problem is located by
JSON pointer into the export (:class:`TaskLocation`), and values are shown bounded
(:func:`shown`), whatever the export holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..corpus import Corpus
from ..errors import EnvironmentProblem, UsageError
from ..files import loads_json, sha256_text
from ..ids import check_doc_id
from ..report import Problem, Report, Severity, pointer, short
from .tasks import read_document_text

#: Longest region id or user name taken from an export (Label Studio's own are ~10 characters).
MAX_NAME = 200
EXPORT_HINT = "import a full JSON export of a project made with `chipwar labelstudio push` (or use `chipwar labelstudio pull`)"


def read_export(path: Path) -> Any:
    """The parsed export file; a usage or environment error for anything that is not a readable JSON file."""
    if not path.exists():
        raise EnvironmentProblem(f"{path}: no such file", hint="pass the JSON file Label Studio's Export button saved")
    if not path.is_file():
        raise UsageError(f"{path}: is a folder or a device, not an export file", hint="pass the JSON file Label Studio's Export button saved")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot read ({exc.strerror})", hint="check the file's permissions") from None
    try:
        return loads_json(raw)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})", hint="export the project again as JSON (not JSON_MIN)") from None


def check_export(export: Any, source: str) -> list:
    """The export's tasks; a usage error when it is no full JSON export at all."""
    if not isinstance(export, list):
        raise UsageError(f"{source}: not a Label Studio JSON export (expected a list of tasks, found {shown(export)})",
                         hint="export the project as JSON (not JSON_MIN, which drops relations)")
    if not export:
        raise UsageError(f"{source}: the export holds no tasks; there is nothing to import",
                         hint="push the documents (`chipwar labelstudio push`), annotate and submit them, then export or pull again")
    if any(isinstance(task, dict) and "data" not in task and "doc_id" in task for task in export):
        raise UsageError(f"{source}: this is a JSON_MIN export, which drops relations and per-region attributes",
                         hint="export the project as JSON (or use `chipwar labelstudio pull`)")
    return export


@dataclass
class TaskLocation:
    """Where one task's problems are: the export, the task's pointer, its document and the file it becomes."""

    source: str
    base: tuple[str | int, ...]
    report: Report
    doc_id: str | None = None
    rel: str = ""
    #: The task's id in Label Studio (its ID column), when the export gives one.
    task_id: int | None = None
    #: Region id -> (its label, its text): what the annotator sees of a region a problem names.
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)

    def problem(self, code: str, message: str, *parts: str | int, region: str | None = None, expected: str | None = None,
                found: str | None = None, hint: str | None = None, severity: Severity = "error") -> None:
        """Report a problem; one of a region says where the annotator finds it: the task, the region's id, label and text."""
        if region is not None and region in self.seen:
            label, surface = self.seen[region]
            task = f"task {self.task_id}" if self.task_id is not None else "the task"
            message = f"{message} [Label Studio {task} ({self.doc_id}), region {region}: {label} {short(surface, 60)}]"
        self.report.add(Problem(code, message, self.source, self.doc_id, region, pointer(*self.base, *parts), expected, found,
                                hint, severity))


def shown(value: Any) -> str:
    """A value from an export, bounded whatever it holds: lists and objects are only named, never walked."""
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"an object with {len(value)} key(s)"
    return short(value)


def task_document(corpus: Corpus, task: Any, where: TaskLocation, doc_ids: set[str]) -> tuple[str, str] | None:
    """The task's document id and the corpus's text of it, when the task is one chipwar made for this corpus."""
    if not isinstance(task, dict):
        where.problem("not_a_task", "a task must be an object", expected="an object", found=shown(task), hint=EXPORT_HINT)
        return None
    data = task.get("data")
    if not isinstance(data, dict):
        where.problem("not_a_chipwar_task", "the task has no data object", "data", expected="an object", found=shown(data), hint=EXPORT_HINT)
        return None
    doc_id = data.get("doc_id")
    if not isinstance(doc_id, str):
        where.problem("not_a_chipwar_task", "the task's data has no doc_id", "data", "doc_id", expected="a string",
                      found=shown(doc_id), hint=EXPORT_HINT)
        return None
    try:
        check_doc_id(doc_id)
    except UsageError:
        where.problem("bad_doc_id", "the task's doc_id is not a document id (it could name a file elsewhere); the task is refused",
                      "data", "doc_id", expected="a document id, e.g. reg-2023-qiming", found=short(doc_id),
                      hint="import tasks made by chipwar, whose data nobody edited")
        return None
    where.doc_id = doc_id
    where.task_id = task.get("id") if type(task.get("id")) is int else None
    text = read_document_text(corpus, doc_id) if doc_id in doc_ids else None
    if text is None:
        where.problem("missing_document", f"the task is for document {doc_id!r}, which has no text in corpus/", "data", "doc_id",
                      hint="intake the document first, or import into the right corpus")
        return None
    sha = sha256_text(text)
    given = data.get("text")
    if given != text or data.get("text_sha256") != sha:
        where.problem("task_text_changed", "the task's text is not the document's text in corpus/", "data", "text",
                      expected=f"text with SHA-256 {sha}",
                      found=f"text with SHA-256 {sha256_text(given)}" if isinstance(given, str) else shown(given),
                      hint="the task was edited or made for another version of the text; re-push the document")
        return None
    if not isinstance(task.get("annotations"), list):
        where.problem("not_a_chipwar_task", "the task has no annotations list", "annotations", expected="a list",
                      found=shown(task.get("annotations")),
                      hint=EXPORT_HINT)
        return None
    return doc_id, text


# --------------------------------------------------------------------------- which annotation


def user_key(ann: dict) -> str:
    """The Label Studio user of an annotation as shown and matched: e-mail, else id, else 'unknown'."""
    who = ann.get("completed_by")
    if isinstance(who, dict):
        email = who.get("email")
        if isinstance(email, str) and 0 < len(email) <= MAX_NAME and email.isprintable():
            return email
        who = who.get("id")
    if type(who) is int or (isinstance(who, str) and 0 < len(who) <= MAX_NAME and who.isprintable()):
        return str(who)
    return "unknown"


def _user_id(ann: dict) -> str | None:
    who = ann.get("completed_by")
    who = who.get("id") if isinstance(who, dict) else who
    return str(who) if type(who) is int else None


def user_shown(ann: dict) -> str:
    """The user of an annotation as a list of users shows it: e-mail and id, either one alone when the export has only it."""
    key, number = user_key(ann), _user_id(ann)
    return f"{key} (id {number})" if number is not None and number != key else key


def choose_annotation(anns: list, where: TaskLocation, user: str | None, seen: set[str]) -> tuple[int, dict] | None:
    """The latest submitted annotation of the one user who annotated the task (of ``user`` when given: e-mail or numeric id);
    every user who submitted one is added to ``seen``."""
    candidates = []
    for i, ann in enumerate(anns):
        if not isinstance(ann, dict):
            where.problem("not_an_annotation", "an annotation must be an object", "annotations", i, expected="an object",
                          found=shown(ann), hint=EXPORT_HINT)
            continue
        if ann.get("was_cancelled") is True:
            continue
        seen.add(user_shown(ann))
        if user is not None and user not in (user_key(ann), _user_id(ann)):
            continue
        candidates.append((i, ann))
    if not candidates:
        return None
    users = sorted({user_key(ann) for _, ann in candidates})
    if len(users) > 1:
        where.problem("several_annotators", f"the task has annotations by several users: {', '.join(users)}", "annotations",
                      hint="pass --user with one of them (an e-mail or a numeric id) to import that annotator's work")
        return None

    def latest(pair: tuple[int, dict]) -> tuple[str, int]:
        updated, ident = pair[1].get("updated_at"), pair[1].get("id")
        return (updated if isinstance(updated, str) else "", ident if type(ident) is int else 0)

    return max(candidates, key=latest)


def created(ann: dict, where: TaskLocation, notices: list[str]) -> str | None:
    """When Label Studio stored the annotation (RFC 3339 UTC): a time its program recorded. None (noticed) when it gives
    no sensible time: the import's own time is not when the work was done."""
    now = datetime.now(UTC)
    for key in ("updated_at", "created_at"):
        value = ann.get(key)
        if not isinstance(value, str) or len(value) > 64:
            continue
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, OverflowError):
            continue
        if 1970 <= moment.year and moment <= now + timedelta(days=1):
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    notices.append(f"{where.rel}: the annotation has no sensible submission time; new and changed spans get created null")
    return None
