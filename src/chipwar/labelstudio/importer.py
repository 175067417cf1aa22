"""Importing a full JSON export of a Label Studio project into ``annotations/<set>/``.

Nothing in an export is trusted. From it the import takes only what an annotator can change
in the interface: each region's offsets, label, attributes, note and relations, and the
document's choices and note, every value checked for its type and shape. Who made a span
and when, the set's decisions and the canonical-entity records come from the repository:
from the existing file of the set imported into, and from the file of the set the task was
made from, which is used only when its SHA-256 is still the one the task records (see
:mod:`.tasks`). A span that comes back unchanged keeps the provenance the repository
records for it; a new or changed one is the annotator's (``origin: labelstudio``), dated
when Label Studio stored the annotation.

Regions are grouped by id; every span's text is checked against the document (a region
resized after an emoji stores UTF-16 offsets: repaired when unambiguous, and reported); a
task whose text differs from the corpus is refused; and the files must pass every check of
``chipwar validate`` before any is written, all at once. A malformed export gives problems
located by JSON pointer into the export, naming document and region (exit 1), or, when it
is no export at all, a usage error (exit 2); never a crash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..corpus import Corpus
from ..errors import EnvironmentProblem, UsageError
from ..files import dumps_json, loads_json, sha256_text
from ..ids import check_doc_id, check_set_name
from ..layers import DOCUMENT_LABELS, LAYER_BOOL_FIELDS, LAYER_ID_PREFIX, LAYER_SPAN_DEF, LAYERS
from ..offsets import OffsetError, utf16_to_cp
from ..report import Problem, Report, Severity, pointer, short
from ..schema import Schemas, load_schemas
from ..validate import check_annotation_data
from ..writer import write_files
from .config import CONTROLS, DOCUMENT_NOTE, RELATIONS, Control
from .tasks import TASK_KEY, read_document_text, span_digest

#: Longest region id or user name taken from an export (Label Studio's own are ~10 characters).
MAX_NAME = 200
#: The local part of a span id a region may keep: the layer's prefix, then letters, digits, '_' or '-'.
_LOCAL_ID = re.compile(r"[A-Za-z0-9_-]+")
EXPORT_HINT = "import a full JSON export of a project made with `chipwar labelstudio push` (or use `chipwar labelstudio pull`)"


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


@dataclass
class _Task:
    """Where one task's problems are: the export, the task's pointer, its document and the file it becomes."""

    source: str
    base: tuple[str | int, ...]
    report: Report
    doc_id: str | None = None
    rel: str = ""

    def problem(self, code: str, message: str, *parts: str | int, region: str | None = None, expected: str | None = None,
                found: str | None = None, hint: str | None = None, severity: Severity = "error") -> None:
        self.report.add(Problem(code, message, self.source, self.doc_id, region, pointer(*self.base, *parts), expected, found,
                                hint, severity))


def _shown(value: Any) -> str:
    """A value from an export, bounded whatever it holds: lists and objects are only named, never walked."""
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"an object with {len(value)} key(s)"
    return short(value)


def plan_import(corpus: Corpus, export: Any, annotator: str, *, source: str, user: str | None = None,
                kind: str = "person") -> ImportResult:
    """Turn a full Label Studio JSON export into annotation files for ``annotations/<annotator>/``, validated, unwritten."""
    check_set_name(annotator)
    if not isinstance(export, list):
        raise UsageError(f"{source}: not a Label Studio JSON export (expected a list of tasks, found {_shown(export)})",
                         hint="export the project as JSON (not JSON_MIN, which drops relations)")
    if any(isinstance(task, dict) and "data" not in task and "doc_id" in task for task in export):
        raise UsageError(f"{source}: this is a JSON_MIN export, which drops relations and per-region attributes",
                         hint="export the project as JSON (or use `chipwar labelstudio pull`)")
    schemas = load_schemas(corpus.schema_dir)
    result = ImportResult()
    doc_ids = set(corpus.doc_ids())
    seen: set[str] = set()
    for n, task in enumerate(export):
        where = _Task(source, (n,), result.report)
        found = _task_document(corpus, task, where, doc_ids)
        if found is None:
            continue
        doc_id, text = found
        if doc_id in seen:
            where.problem("duplicate_task", "a second task for the same document", "data", "doc_id",
                          hint="delete the duplicate task in Label Studio")
            continue
        seen.add(doc_id)
        where.rel = f"annotations/{annotator}/{doc_id}.json"
        chosen = _choose_annotation(task["annotations"], where, user)
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
        existing = _read(path)
        bases = _bases(corpus, annotator, doc_id, sha, existing, task["data"].get(TASK_KEY), where)
        ann = _annotation_file(schemas, where, chosen, text, sha, bases, annotator, kind, result)
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


def _task_document(corpus: Corpus, task: Any, where: _Task, doc_ids: set[str]) -> tuple[str, str] | None:
    """The task's document id and the corpus's text of it, when the task is one chipwar made for this corpus."""
    if not isinstance(task, dict):
        where.problem("not_a_task", "a task must be an object", expected="an object", found=_shown(task), hint=EXPORT_HINT)
        return None
    data = task.get("data")
    if not isinstance(data, dict):
        where.problem("not_a_chipwar_task", "the task has no data object", "data", expected="an object", found=_shown(data), hint=EXPORT_HINT)
        return None
    doc_id = data.get("doc_id")
    if not isinstance(doc_id, str):
        where.problem("not_a_chipwar_task", "the task's data has no doc_id", "data", "doc_id", expected="a string",
                      found=_shown(doc_id), hint=EXPORT_HINT)
        return None
    try:
        check_doc_id(doc_id)
    except UsageError:
        where.problem("bad_doc_id", "the task's doc_id is not a document id (it could name a file elsewhere); the task is refused",
                      "data", "doc_id", expected="a document id, e.g. reg-2023-qiming", found=short(doc_id),
                      hint="import tasks made by chipwar, whose data nobody edited")
        return None
    where.doc_id = doc_id
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
                      found=f"text with SHA-256 {sha256_text(given)}" if isinstance(given, str) else _shown(given),
                      hint="the task was edited or made for another version of the text; re-push the document")
        return None
    if not isinstance(task.get("annotations"), list):
        where.problem("not_a_chipwar_task", "the task has no annotations list", "annotations", expected="a list",
                      found=_shown(task.get("annotations")),
                      hint=EXPORT_HINT)
        return None
    return doc_id, text


# --------------------------------------------------------------------------- which annotation


def _user_key(ann: dict) -> str:
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


def _choose_annotation(anns: list, where: _Task, user: str | None) -> tuple[int, dict] | None:
    """The latest submitted annotation of the one user who annotated the task (of ``user`` when given)."""
    candidates = []
    for i, ann in enumerate(anns):
        if not isinstance(ann, dict):
            where.problem("not_an_annotation", "an annotation must be an object", "annotations", i, expected="an object",
                          found=_shown(ann), hint=EXPORT_HINT)
            continue
        if ann.get("was_cancelled") is True:
            continue
        if user is not None and user not in (_user_key(ann), _user_id(ann)):
            continue
        candidates.append((i, ann))
    if not candidates:
        return None
    users = sorted({_user_key(ann) for _, ann in candidates})
    if len(users) > 1:
        where.problem("several_annotators", f"the task has annotations by several users: {', '.join(users)}", "annotations",
                      hint="pass --user EMAIL to import one annotator's work")
        return None

    def latest(pair: tuple[int, dict]) -> tuple[str, int]:
        updated, ident = pair[1].get("updated_at"), pair[1].get("id")
        return (updated if isinstance(updated, str) else "", ident if type(ident) is int else 0)

    return max(candidates, key=latest)


def _created(ann: dict, where: _Task, result: ImportResult) -> str:
    """When Label Studio stored the annotation (RFC 3339 UTC); the import time when it gives no sensible time."""
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
    result.notices.append(f"{where.rel}: the annotation has no sensible submission time; new and changed spans are dated now")
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- the repository's records


def _read(path: Path) -> bytes | None:
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


def _bases(corpus: Corpus, annotator: str, doc_id: str, sha: str, existing: bytes | None, carried: Any, where: _Task) -> list[dict]:
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
                      expected='{"set": NAME, "annotations_sha256": HEX}', found=_shown(carried),
                      severity="warning", hint="spans come back as the annotator's own work")
        return bases
    if set_name == annotator:
        return bases
    path = corpus.annotation_path(set_name, doc_id)
    raw = _read(path)
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


def _base_spans(base: dict) -> dict[str, dict]:
    return {s["id"]: s for layer in LAYERS if isinstance(base.get(layer), list)
            for s in base[layer] if isinstance(s, dict) and isinstance(s.get("id"), str)}


def _same(old: dict, new: dict) -> bool:
    """True when a repository record and an imported one agree on everything but provenance."""
    try:
        return span_digest(old) == span_digest(new)
    except (TypeError, orjson.JSONEncodeError):  # a record nested past what can be hashed is not the same
        return False


# --------------------------------------------------------------------------- one annotation file


@dataclass
class _Item:
    """One result item of a region: where it is, the control it belongs to, and its value."""

    parts: tuple[str | int, ...]
    control: Control
    value: dict


@dataclass
class _Region:
    """A labelled region as the export gives it, checked."""

    rid: str
    layers: list[str]
    labels: list[tuple[str, str]]  # (layer, label)
    start: int
    end: int
    surface: str
    attrs: dict[str, str | None]


def _annotation_file(schemas: Schemas, where: _Task, chosen: tuple[int, dict], text: str, sha: str, bases: list[dict],
                     annotator: str, kind: str, result: ImportResult) -> dict | None:
    """Build one annotation file from one Label Studio annotation and the repository's records; problems go to the report."""
    index, ann = chosen
    items = ann.get("result")
    if not isinstance(items, list):
        where.problem("not_an_annotation", "the annotation has no result list", "annotations", index, "result",
                      expected="a list", found=_shown(items),
                      hint=EXPORT_HINT)
        return None
    regions, relations = _group(items, where, ("annotations", index, "result"))
    document_values: dict[str, str | None] = {}
    checked: list[_Region] = []
    for rid, region_items in regions.items():
        if all(not item.control.layers for item in region_items):
            _take_values(region_items, document_values, where, rid)
        elif any(not item.control.layers for item in region_items):
            where.problem("bad_region", "the region mixes document-level and span controls", *region_items[0].parts, region=rid,
                          hint="delete the region in Label Studio and draw it again")
        elif (region := _check_region(rid, region_items, text, where, result)) is not None:
            checked.append(region)
    provenance = {"agent": annotator, "origin": "labelstudio", "created": _created(ann, where, result)}
    spans, region_spans = _make_spans(schemas, where.doc_id or "", checked, bases, provenance, where.rel, result)
    _link(relations, regions, region_spans, where)
    for layer in LAYERS:
        spans[layer].sort(key=lambda s: (s["start"], -s["end"], s["label"]))
    base_spans = [_base_spans(base) for base in bases]
    for layer in LAYERS:
        for span in spans[layer]:
            old = next((b[span["id"]] for b in base_spans if span["id"] in b and _same(b[span["id"]], span)), None)
            if old is not None and "provenance" in old:
                span["provenance"] = old["provenance"]
    return {
        "schema_version": schemas.version, "doc_id": where.doc_id, "text_sha256": sha,
        "annotator": {"name": annotator, "kind": kind,
                      "description": f"Label Studio user {_user_key(ann)}; imported with `chipwar labelstudio import` from {where.source}."},
        "document_labels": _document_labels(document_values, bases, provenance, where),
        "canonical_entities": _canonical(spans["entities"], bases, where.rel, result), **spans,
        "decisions": next((base["decisions"] for base in bases if isinstance(base.get("decisions"), list)), []),
    }


def _group(items: list, where: _Task, parts: tuple[str | int, ...]) -> tuple[dict[str, list[_Item]], list[tuple[tuple, dict]]]:
    """Result items by region id, and the relations; every item that is not one our config makes is a problem."""
    regions: dict[str, list[_Item]] = {}
    relations: list[tuple[tuple, dict]] = []
    for k, item in enumerate(items):
        here = (*parts, k)
        if not isinstance(item, dict):
            where.problem("bad_result_item", "a result item must be an object", *here, expected="an object", found=_shown(item), hint=EXPORT_HINT)
            continue
        if item.get("type") == "relation":
            relations.append((here, item))
            continue
        rid = item.get("id")
        if not isinstance(rid, str) or not 0 < len(rid) <= MAX_NAME:
            where.problem("bad_region_id", f"a result item needs a region id (a string of 1 to {MAX_NAME} characters)", *here, "id",
                          expected="a string", found=_shown(rid), hint="delete the region in Label Studio and draw it again")
            continue
        name = item.get("from_name")
        control = CONTROLS.get(name) if isinstance(name, str) else None
        if control is None:
            where.problem("unknown_control", "the item belongs to a control the labeling config does not have", *here, "from_name",
                          region=rid, expected=", ".join(CONTROLS), found=_shown(name),
                          hint="annotate in a project whose config is `chipwar labelstudio config`")
            continue
        if item.get("type") != control.type:
            where.problem("bad_result_item", f"a {name} item must have type {control.type!r}", *here, "type", region=rid,
                          expected=repr(control.type), found=_shown(item.get("type")), hint=EXPORT_HINT)
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            where.problem("bad_value", "the item's value must be an object", *here, "value", region=rid, expected="an object",
                          found=_shown(value),
                          hint=EXPORT_HINT)
            continue
        regions.setdefault(rid, []).append(_Item(here, control, value))
    return regions, relations


def _one_value(item: _Item, where: _Task, rid: str) -> tuple[bool, str | None]:
    """(True, the value) of a choices or text item, None when it is empty; (False, None) after reporting a malformed one."""
    key = "choices" if item.control.type == "choices" else "text"
    picked = item.value.get(key)
    if not isinstance(picked, list) or not all(isinstance(v, str) for v in picked):
        where.problem("bad_value", f"{item.control.name}: value.{key} must be a list of strings", *item.parts, "value", key,
                      region=rid, expected="a list of strings", found=_shown(picked), hint=EXPORT_HINT)
        return False, None
    if len(picked) > 1:
        where.problem("several_values", f"{item.control.name} has {len(picked)} values and takes one", *item.parts, "value", key,
                      region=rid, hint=f"keep one {item.control.name} on the region in Label Studio")
        return False, None
    return True, (picked[0] if picked else None)


def _take_values(items: list[_Item], into: dict[str, str | None], where: _Task, rid: str) -> bool:
    """Add the choices and texts of ``items`` to ``into``; False when one is malformed or contradicts another."""
    ok = True
    for item in items:
        good, value = _one_value(item, where, rid)
        name = item.control.name
        if not good:
            ok = False
        elif name in into and into[name] != value:
            where.problem("several_values", f"{name} is given twice, with different values", *item.parts, "value", region=rid,
                          expected="one value", found=f"{short(into[name])} and {short(value)}", hint=f"keep one {name} in Label Studio")
            ok = False
        else:
            into[name] = value
    return ok


def _check_region(rid: str, items: list[_Item], text: str, where: _Task, result: ImportResult) -> _Region | None:
    """The region's layers, labels, code-point offsets and attributes, each checked; None after reporting a problem."""
    label_items = [item for item in items if item.control.type == "labels"]
    if not label_items:
        where.problem("region_without_label", "the region has attributes but no layer label", *items[0].parts, region=rid,
                      hint="give the region a label, or delete it in Label Studio")
        return None
    places, labels = set(), []
    for item in label_items:
        start, end, surface, names = (item.value.get(k) for k in ("start", "end", "text", "labels"))
        if type(start) is not int or type(end) is not int or not isinstance(surface, str):
            where.problem("bad_value", "a region needs whole-number start and end and its text", *item.parts, "value", region=rid,
                          expected="start and end integers, text a string", found=f"start {_shown(start)}, end {_shown(end)}, text {_shown(surface)}",
                          hint="delete the region in Label Studio and draw it again")
            return None
        if not isinstance(names, list) or not names or not all(isinstance(v, str) for v in names):
            where.problem("bad_value", "value.labels must be a non-empty list of label names", *item.parts, "value", "labels",
                          region=rid, expected="a list of one label", found=_shown(names), hint="label the region in Label Studio")
            return None
        places.add((start, end, surface))
        labels += [(item.control.name, name) for name in dict.fromkeys(names)]
    if len(places) > 1:
        where.problem("region_offsets_differ", "the region's label items give different offsets or text", *label_items[0].parts,
                      region=rid, hint="delete the region in Label Studio and draw it again")
        return None
    ((start, end, surface),) = places
    offsets = _repair(text, start, end, surface, rid, where, label_items[0].parts, result)
    layers = sorted({layer for layer, _ in labels}, key=LAYERS.index)
    attrs: dict[str, str | None] = {}
    ok = offsets is not None
    for item in items:
        if item.control.type == "labels":
            continue
        if not set(item.control.layers) & set(layers):
            where.problem("attribute_wrong_layer", f"{item.control.name!r} was filled in on a {' / '.join(layers)} region, "
                          "where it does not apply", *item.parts, region=rid, expected=f"no {item.control.name} on this region",
                          found=_shown(item.value.get("choices", item.value.get("text"))),
                          hint=f"clear {item.control.name!r} on that region in Label Studio (it belongs to another layer)")
            ok = False
        elif not _take_values([item], attrs, where, rid):
            ok = False
        elif any(item.control.name in LAYER_BOOL_FIELDS[layer] for layer in layers) and attrs[item.control.name] not in ("true", "false"):
            where.problem("bad_value", f"{item.control.name} must be 'true' or 'false'", *item.parts, "value", "choices", region=rid,
                          expected="'true' or 'false'", found=short(attrs[item.control.name]),
                          hint=f"choose true or false for {item.control.name} in Label Studio")
            ok = False
    if not ok or offsets is None:
        return None
    return _Region(rid, layers, labels, offsets[0], offsets[1], text[offsets[0]:offsets[1]], attrs)


def _repair(text: str, start: int, end: int, surface: str, rid: str, where: _Task, parts: tuple, result: ImportResult
            ) -> tuple[int, int] | None:
    """The region's code-point offsets; UTF-16 offsets (a resized region after an emoji) repaired when unambiguous."""
    if 0 <= start < end <= len(text) and text[start:end] == surface:
        return start, end
    if 0 <= start < end <= 2 * len(text):
        try:
            s16, e16 = utf16_to_cp(text, start), utf16_to_cp(text, end)
        except OffsetError:
            s16 = e16 = -1
        if s16 >= 0 and text[s16:e16] == surface:
            result.repaired.append(f"{where.rel}: region {rid} {short(surface)}: UTF-16 offsets [{start}, {end}) -> code points [{s16}, {e16})")
            return s16, e16
    found = text[start:end] if 0 <= start <= end <= len(text) else f"offsets [{start}, {end}) outside the text of {len(text)} characters"
    where.problem("offset_text_mismatch", "the region's text is not the document's text at its offsets, and no unambiguous "
                  "repair exists", *parts, "value", region=rid, expected=short(surface), found=short(found),
                  hint="fix the region in Label Studio (delete and draw it again), then pull again")
    return None


def _make_spans(schemas: Schemas, doc_id: str, regions: list[_Region], bases: list[dict], provenance: dict, rel: str,
                result: ImportResult) -> tuple[dict[str, list[dict]], dict[str, list[tuple[str, dict]]]]:
    """Spans from checked regions, per layer; a region whose id is one of ours for its layer keeps it, others get the next free id."""
    drafts: list[tuple[_Region, str, str, str | None]] = []  # (region, layer, label, id kept)
    kept: set[str] = set()
    for region in regions:
        for layer, label in region.labels:
            local = region.rid[len(doc_id) + 1:]
            keep = (region.rid.startswith(f"{doc_id}:") and local.startswith(LAYER_ID_PREFIX[layer]) and _LOCAL_ID.fullmatch(local)
                    and region.rid not in kept)
            if keep:
                kept.add(region.rid)
            drafts.append((region, layer, label, region.rid if keep else None))
    known = kept | {sid for base in bases for sid in _base_spans(base)}
    next_number = {}
    for layer, prefix in LAYER_ID_PREFIX.items():
        numbers = (re.fullmatch(rf"{re.escape(doc_id)}:{prefix}(\d{{1,9}})", sid) for sid in known)
        next_number[layer] = 1 + max((int(m.group(1)) for m in numbers if m), default=0)
    spans: dict[str, list[dict]] = {layer: [] for layer in LAYERS}
    region_spans: dict[str, list[tuple[str, dict]]] = {}
    for region, layer, label, sid in drafts:
        if sid is None:
            sid = f"{doc_id}:{LAYER_ID_PREFIX[layer]}{next_number[layer]}"
            next_number[layer] += 1
            result.notices.append(f"{rel}: Label Studio region {region.rid} ({layer} {short(label)}) becomes {sid}")
        span = _span(schemas, layer, sid, region, label, provenance)
        spans[layer].append(span)
        region_spans.setdefault(region.rid, []).append((layer, span))
    return spans, region_spans


def _span(schemas: Schemas, layer: str, sid: str, region: _Region, label: str, provenance: dict) -> dict[str, Any]:
    """A span in file field order (the schema's), its attributes from the region's per-region items."""
    given = {"id": sid, "start": region.start, "end": region.end, "text": region.surface, "label": label,
             "provenance": dict(provenance)}
    span: dict[str, Any] = {}
    for name in schemas.annotations["$defs"][LAYER_SPAN_DEF[layer]]["properties"]:
        if name in given:
            span[name] = given[name]
        elif name in LAYER_BOOL_FIELDS[layer]:
            span[name] = region.attrs.get(name) == "true"
        elif name.endswith("_ids"):
            span[name] = []
        else:
            span[name] = region.attrs.get(name)
    return span


def _link(relations: list[tuple[tuple, dict]], regions: dict[str, list[_Item]], region_spans: dict[str, list[tuple[str, dict]]],
          where: _Task) -> None:
    """Fill each relation's reference field on the claim or marker it starts from with the entity's canonical id."""
    for parts, relation in relations:
        from_id, to_id, names = relation.get("from_id"), relation.get("to_id"), relation.get("labels")
        if not isinstance(from_id, str) or not isinstance(to_id, str):
            where.problem("bad_relation", "a relation's from_id and to_id must be region ids", *parts,
                          expected="two region ids (strings)",
                          found=f"{_shown(from_id)} -> {_shown(to_id)}", hint="delete the relation in Label Studio and draw it again")
            continue
        if from_id not in regions or to_id not in regions:
            where.problem("dangling_relation", "the relation points at a region that does not exist", *parts,
                          region=from_id if len(from_id) <= MAX_NAME else None, expected="ids of regions of this annotation",
                          found=f"{short(from_id)} -> {short(to_id)}",
                          hint="delete the relation in Label Studio and draw it again")
            continue
        if from_id not in region_spans or to_id not in region_spans:
            continue  # a region it joins was refused, and reported
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n in RELATIONS for n in names):
            where.problem("bad_relation", "a relation must be labelled " + " / ".join(RELATIONS), *parts, "labels", region=from_id,
                          expected=" or ".join(RELATIONS),
                          found=", ".join(_shown(n) for n in names[:5]) if isinstance(names, list) else _shown(names),
                          hint="label the relation in Label Studio")
            continue
        for name in names:
            layer, attr, is_list = RELATIONS[name]
            src = next((span for lay, span in region_spans[from_id] if lay == layer), None)
            dst = next((span for lay, span in region_spans[to_id] if lay == "entities"), None)
            if src is None or dst is None:
                where.problem("bad_relation", f"a {name!r} relation goes from a {layer} region to an entity mention", *parts,
                              region=from_id, expected=f"a {layer} region -> an entity mention", found=f"{from_id} -> {to_id}",
                              hint="draw it from the right region to an entity")
                continue
            cid = dst["canonical_id"]
            if cid is None:
                where.problem("bad_relation", f"the {name!r} relation points at an entity mention without a canonical_id", *parts,
                              region=from_id, expected="an entity with a canonical_id", found=f"{from_id} -> {to_id}",
                              hint=f"type the canonical_id of {to_id} in Label Studio")
            elif is_list:
                if cid not in src[attr]:
                    src[attr].append(cid)
            elif src[attr] not in (None, cid):
                where.problem("several_values", f"{src['id']} has two {name!r} relations, to different entities", *parts,
                              region=from_id, expected="one entity", found=f"{short(src[attr])} and {short(cid)}", hint=f"keep one {name!r} relation")
            else:
                src[attr] = cid


def _canonical(entities: list[dict], bases: list[dict], rel: str, result: ImportResult) -> list[dict]:
    """A record per canonical id the mentions use: the repository's, else a new one from its first mention (noticed)."""
    known: dict[str, Any] = {}
    for base in bases:
        for record in base.get("canonical_entities") if isinstance(base.get("canonical_entities"), list) else ():
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                known.setdefault(record["id"], record)
    first_mention: dict[str, dict] = {}
    for ent in entities:
        if ent["canonical_id"] is not None:
            first_mention.setdefault(ent["canonical_id"], ent)
    records = []
    for cid, first in sorted(first_mention.items()):
        if cid not in known:
            result.notices.append(f"{rel}: new canonical entity {short(cid)} (name {short(first['text'])}, label {first['label']}); "
                                  "check its record")
        records.append(known.get(cid) or {"id": cid, "name": first["text"], "label": first["label"], "kb_ids": []})
    return records


def _document_labels(values: dict[str, str | None], bases: list[dict], provenance: dict, where: _Task) -> dict | None:
    """The document's labels from its choices; the repository's provenance when they come back unchanged."""
    if all(values.get(name) is None for name in DOCUMENT_LABELS):
        if values.get(DOCUMENT_NOTE):
            where.problem("document_note_without_labels", "the document note is kept only with the document's labels", "annotations",
                          hint="choose " + ", ".join(DOCUMENT_LABELS) + " in Label Studio, or clear the document note")
        return None
    labels: dict[str, Any] = {name: values.get(name) for name in DOCUMENT_LABELS}
    labels["provenance"] = dict(provenance)
    labels["note"] = values.get(DOCUMENT_NOTE)
    for base in bases:
        old = base.get("document_labels")
        if isinstance(old, dict) and "provenance" in old and _same(old, labels):
            labels["provenance"] = old["provenance"]
            break
    return labels
