"""``chipwar diff``: what changed in the dataset between two versions, annotation by annotation.

A side is a git revision or tag, the working tree, or nothing (before the first release).
Only dataset files are compared: ``corpus/<doc_id>.txt|json``, ``annotations/<set>/<doc_id>.json``
and ``schema/*.json``. Files are listed with their git blob ids, so an unchanged file is never
read, and the comparison goes document by document: memory follows the size of the change,
not of the corpus.

- **documents**: added, removed, text changed (with the changed regions, code-point offsets),
  metadata fields changed;
- **annotations**, per set, document and layer (plus ``canonical_entities`` and
  ``document_labels``): matched by id, then — where ids changed — by start, end and label;
  a matched pair lists each field that differs as ``[old, new]``, nested ones by their path
  (``provenance.created``, ``attribution_chain[1].cue.start``), and the fields one side
  lacks (a file of an older schema); the rest are added or removed;
- **label count deltas** per set and layer (document labels counted as ``field=value``);
- **schema changes**, rated by :func:`chipwar.versions.compat.compare_schema`.

Either side may hold anything: an old revision holds files as they were committed, and the
working tree whatever is on disk. A file that cannot be compared — not UTF-8, not JSON, not
an object, nested beyond reason — is a problem in :attr:`DatasetDiff.report` naming the file
and the side, and the rest is still compared.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

from ..align import align
from ..files import loads_json, sha256_text
from ..layers import DOCUMENT_LABELS, LAYERS
from ..report import Problem, Report, cut, short
from .compat import SchemaChange, compare_schema
from .git import BlobReader, Repo, blob_id

#: JSON nested deeper than this is not compared: no dataset file comes near it, and comparing
#: (and showing) values that deep would exhaust Python's stack.
MAX_DEPTH = 100

_MISSING: Any = object()
#: What a file that cannot be compared reads as (its problem is already recorded).
_UNREADABLE: Any = object()


@dataclass
class Side:
    """One side of a diff: dataset files as ``{path: git blob id}``, a reader of their bytes, and
    the files that could not even be listed."""

    name: str
    files: dict[str, str]
    read: Callable[[str], bytes]
    problems: list[Problem] = field(default_factory=list)
    #: What to do about an unreadable file of this side.
    hint: str = "fix the file (`chipwar validate` says how), then compare again"


def is_dataset_file(path: str) -> bool:
    """Whether a path (relative to the corpus root) is data or schema that a diff compares."""
    parts = path.split("/")
    if any(p.startswith(".") for p in parts):
        return False
    match parts:
        case ["corpus", name]:
            return name.endswith((".txt", ".json"))
        case ["annotations", _, name] | ["schema", name]:
            return name.endswith(".json")
    return False


def revision_side(repo: Repo, rev: str, blobs: BlobReader, name: str | None = None) -> Side:
    """The dataset files of a commit or tag (shown as ``name``, by default the revision)."""
    files = {p: oid for p, oid in repo.tree(rev).items() if is_dataset_file(p)}
    return Side(name or rev, files, lambda path: blobs.read(files[path]),
                hint=f"the file is in the history as committed at {short(rev)}; compare from another revision, or fix it and commit")


def worktree_side(root: Path) -> Side:
    """The dataset files on disk, committed or not."""
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for pattern in ("corpus/*.txt", "corpus/*.json", "annotations/*/*.json", "schema/*.json"):
        for path in root.glob(pattern):
            rel = path.relative_to(root).as_posix()
            if not is_dataset_file(rel) or not path.is_file():
                continue
            try:
                rel.encode("utf-8")
                files[rel] = blob_id(path.read_bytes())
            except UnicodeEncodeError:
                problems.append(Problem("diff_unreadable", f"{short(rel)} in the working tree: its name is not UTF-8; not compared", short(rel),
                                        hint="rename it (file names in the corpus are ASCII ids)"))
            except OSError as exc:
                problems.append(Problem("diff_unreadable", f"{rel} in the working tree: cannot be read ({exc.strerror}); not compared", rel,
                                        hint="check the file's permissions"))
    return Side("working tree", files, lambda rel: (root / rel).read_bytes(), problems)


def empty_side() -> Side:
    """No dataset at all: the base of the first release."""
    return Side("nothing (no release yet)", {}, lambda path: b"")


@dataclass(frozen=True)
class TextEdit:
    """One changed region of a text: old ``[old_start, old_end)`` became new ``[new_start, new_end)``."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int
    old: str
    new: str


@dataclass
class DocumentChange:
    """A document added, removed or changed (``text_edits`` and ``metadata`` say how)."""

    doc_id: str
    change: str
    old_sha256: str | None = None
    new_sha256: str | None = None
    old_length: int | None = None
    new_length: int | None = None
    text_edits: list[TextEdit] = field(default_factory=list)
    metadata: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def text_changed(self) -> bool:
        return self.change == "changed" and self.old_sha256 != self.new_sha256


@dataclass
class FileChange:
    """An annotation file added or removed, or whose file-level fields (annotator, text_sha256, …) changed;
    ``absent`` names the fields one side lacks, as :func:`field_changes` does."""

    set_name: str
    doc_id: str
    change: str
    fields: dict[str, list[Any]] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)


@dataclass
class AnnotationChange:
    """One annotation added, removed or changed; for a change, ``fields`` maps each differing field to [old, new].

    ``matched_by`` is ``id``, or ``span`` when the id changed and start, end and label matched;
    ``absent`` names the changed fields one side lacks (see :func:`field_changes`).
    Position and text are the new side's, the old side's for a removal.
    """

    set_name: str
    doc_id: str
    layer: str
    change: str
    id: str | None
    label: str | None
    start: int | None = None
    end: int | None = None
    text: str | None = None
    matched_by: str | None = None
    fields: dict[str, list[Any]] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)


@dataclass
class DatasetDiff:
    """Everything that differs between two sides; ``report`` holds the files that could not be compared."""

    a: str
    b: str
    documents: list[DocumentChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    annotations: list[AnnotationChange] = field(default_factory=list)
    label_deltas: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    schema: list[SchemaChange] = field(default_factory=list)
    report: Report = field(default_factory=Report)

    @property
    def empty(self) -> bool:
        return not (self.documents or self.files or self.annotations or self.schema)

    def counts(self) -> dict[str, int]:
        """How many of each kind of change, for summaries."""
        out: Counter = Counter()
        for d in self.documents:
            out[f"documents_{d.change}"] += 1
            out["texts_changed"] += d.text_changed
            out["metadata_changed"] += bool(d.metadata)
        for f in self.files:
            out[f"annotation_files_{f.change}"] += 1
        for a in self.annotations:
            out[f"annotations_{a.change}"] += 1
        for s in self.schema:
            out[f"schema_{s.level}"] += 1
        return {k: v for k, v in sorted(out.items()) if v}

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "counts": self.counts(),
                **{k: v for k, v in asdict(self).items() if k not in ("a", "b", "report")}}


def diff_revisions(repo: Repo, a: str | None, b: str | None, a_name: str | None = None, b_name: str | None = None) -> DatasetDiff:
    """Diff two revisions or tags: ``a=None`` is the empty dataset, ``b=None`` the working tree.

    Raises :class:`chipwar.versions.git.GitError` for an unknown revision; files that cannot be
    compared are problems in the result's report.
    """
    with repo.blobs() as blobs:
        side_a = revision_side(repo, a, blobs, a_name) if a else empty_side()
        side_b = revision_side(repo, b, blobs, b_name) if b else worktree_side(repo.root)
        return diff_sides(side_a, side_b)


def diff_sides(a: Side, b: Side) -> DatasetDiff:
    """Compare two sides document by document, then their schemas."""
    result = DatasetDiff(a.name, b.name)
    result.report.extend(a.problems + b.problems)
    names = a.files.keys() | b.files.keys()
    sets = sorted({p.split("/")[1] for p in names if p.startswith("annotations/")})
    doc_ids = sorted({p.rsplit("/", 1)[1].rsplit(".", 1)[0] for p in names if not p.startswith("schema/")})
    for doc_id in doc_ids:
        _diff_document(a, b, doc_id, result)
        for set_name in sets:
            _diff_annotation_file(a, b, set_name, doc_id, result)
    result.label_deltas = _nonzero(result.label_deltas)
    for path in sorted(p for p in names if p.startswith("schema/")):
        if a.files.get(path) != b.files.get(path):
            if path not in b.files:
                result.schema.append(SchemaChange(path, "", "major", "schema file removed"))
            elif path not in a.files:
                result.schema.append(SchemaChange(path, "", "minor", "schema file added"))
            else:
                old, new = _load(a, path, result), _load(b, path, result)
                if old is not _UNREADABLE and new is not _UNREADABLE:
                    result.schema.extend(compare_schema(path, old, new))
    return result


def _unreadable(side: Side, path: str, why: str, result: DatasetDiff, doc_id: str | None = None, found: str | None = None) -> Any:
    result.report.add(Problem("diff_unreadable", f"{path} in {side.name}: {why}; not compared", path, doc_id=doc_id,
                              expected="a file of the corpus's format", found=found, hint=side.hint))
    return _UNREADABLE


def _raw(side: Side, path: str, result: DatasetDiff, doc_id: str | None) -> bytes | None:
    try:
        return side.read(path)
    except OSError as exc:
        _unreadable(side, path, f"cannot be read ({exc.strerror})", result, doc_id)
        return None


def _text(side: Side, path: str, result: DatasetDiff, doc_id: str | None) -> str | None:
    """A file's text, or None (a problem recorded) when it cannot be read or is not UTF-8."""
    data = _raw(side, path, result, doc_id)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _unreadable(side, path, f"not UTF-8 text (byte {exc.start:,})", result, doc_id, found=short(data[exc.start:exc.start + 4]))
        return None


def _load(side: Side, path: str, result: DatasetDiff, doc_id: str | None = None) -> Any:
    """A JSON file's value, or ``_UNREADABLE`` (a problem recorded)."""
    text = _text(side, path, result, doc_id)
    if text is None:
        return _UNREADABLE
    try:
        value = loads_json(text)
    except ValueError as exc:
        return _unreadable(side, path, f"not valid JSON ({cut(str(exc), 120)})", result, doc_id, found=short(text[:40]))
    if _deeper_than(value, MAX_DEPTH):
        return _unreadable(side, path, f"JSON nested deeper than {MAX_DEPTH} levels", result, doc_id)
    return value


def _load_object(side: Side, path: str, result: DatasetDiff, doc_id: str) -> dict[str, Any] | None:
    """A JSON object file, or None (a problem recorded) when it is anything else."""
    value = _load(side, path, result, doc_id)
    if value is _UNREADABLE:
        return None
    if not isinstance(value, dict):
        found = "null" if value is None else type(value).__name__
        _unreadable(side, path, f"holds {short(value, 40)}, not a JSON object", result, doc_id, found=found)
        return None
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _key(value: Any) -> Hashable:
    """A value as a dictionary key: itself when it can be one, else its JSON (ids and labels may be anything)."""
    return value if value is None or isinstance(value, str | int | float | bool) else short(value, 200)


def _shown(value: Any) -> str | None:
    """An id, label or text as the diff shows it: a string, or None."""
    return value if value is None or isinstance(value, str) else short(value)


def _offset(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _diff_document(a: Side, b: Side, doc_id: str, result: DatasetDiff) -> None:
    text, meta = f"corpus/{doc_id}.txt", f"corpus/{doc_id}.json"
    in_a, in_b = text in a.files or meta in a.files, text in b.files or meta in b.files
    if not in_a or not in_b:
        if in_a or in_b:
            result.documents.append(DocumentChange(doc_id, "added" if in_b else "removed"))
        return
    change = DocumentChange(doc_id, "changed")
    if a.files.get(text) != b.files.get(text) and text in a.files and text in b.files:
        old, new = _text(a, text, result, doc_id), _text(b, text, result, doc_id)
        if old is not None and new is not None:
            change.old_sha256, change.new_sha256, change.old_length, change.new_length = sha256_text(old), sha256_text(new), len(old), len(new)
            change.text_edits = [TextEdit(i1, i2, j1, j2, old[i1:i2], new[j1:j2]) for i1, i2, j1, j2 in align(old, new).edits]
    if a.files.get(meta) != b.files.get(meta) and meta in a.files and meta in b.files:
        old_meta, new_meta = _load_object(a, meta, result, doc_id), _load_object(b, meta, result, doc_id)
        if old_meta is not None and new_meta is not None:
            change.metadata = field_changes(old_meta, new_meta)
    if change.text_edits or change.metadata:
        result.documents.append(change)


def field_changes(old: dict[str, Any], new: dict[str, Any], absent: dict[str, str] | None = None) -> dict[str, list[Any]]:
    """``{path: [old, new]}`` for every field that differs, in file order.

    Objects are compared field by field (``provenance.created``) and lists of objects item by
    item (``attribution_chain[1].entity_id``, an item one side lacks as a whole); other lists and
    values as wholes. A field one side lacks reads as null there, and ``absent`` (when given)
    gets its path with the side that lacks it, ``old`` or ``new``: a removed field is not a null one.
    """
    out: dict[str, list[Any]] = {}
    _compare(old, new, "", out, absent)
    return out


def _compare(o: Any, n: Any, path: str, out: dict[str, list[Any]], absent: dict[str, str] | None) -> None:
    if o == n:
        return
    if isinstance(o, dict) and isinstance(n, dict):
        for key in [*o, *(k for k in n if k not in o)]:
            _compare(o.get(key, _MISSING), n.get(key, _MISSING), f"{path}.{key}" if path else key, out, absent)
    elif isinstance(o, list) and isinstance(n, list) and any(isinstance(item, dict) for item in (*o, *n)):
        for i in range(max(len(o), len(n))):
            _compare(o[i] if i < len(o) else _MISSING, n[i] if i < len(n) else _MISSING, f"{path}[{i}]", out, absent)
    else:
        out[path] = [None if o is _MISSING else o, None if n is _MISSING else n]
        if absent is not None and (o is _MISSING or n is _MISSING):
            absent[path] = "old" if o is _MISSING else "new"


_PARTS = (*LAYERS, "canonical_entities", "document_labels")


def _records(side: Side, path: str, data: dict[str, Any], part: str, result: DatasetDiff, doc_id: str) -> list[dict]:
    """The objects of one layer (or ``canonical_entities``); a non-list, or items that are not objects, is a problem."""
    value = data.get(part)
    if value is None:
        return []
    items = value if isinstance(value, list) else []
    kept = [item for item in items if isinstance(item, dict)]
    if len(kept) != len(items) or not isinstance(value, list):
        _unreadable(side, path, f"{part} is not a list of objects ({short(value, 60)})", result, doc_id)
    return kept


def _labels(side: Side, path: str, data: dict[str, Any], result: DatasetDiff, doc_id: str) -> dict | None:
    value = data.get("document_labels")
    if value is None or isinstance(value, dict):
        return value
    _unreadable(side, path, f"document_labels is not an object ({short(value, 60)})", result, doc_id)
    return None


def _diff_annotation_file(a: Side, b: Side, set_name: str, doc_id: str, result: DatasetDiff) -> None:
    path = f"annotations/{set_name}/{doc_id}.json"
    if a.files.get(path) == b.files.get(path):
        return
    old = _load_object(a, path, result, doc_id) if path in a.files else {}
    new = _load_object(b, path, result, doc_id) if path in b.files else {}
    if old is None or new is None:
        return
    if path not in a.files or path not in b.files:
        result.files.append(FileChange(set_name, doc_id, "added" if path in b.files else "removed"))
    else:
        absent: dict[str, str] = {}
        top = field_changes({k: v for k, v in old.items() if k not in _PARTS}, {k: v for k, v in new.items() if k not in _PARTS}, absent)
        if top:
            result.files.append(FileChange(set_name, doc_id, "changed", top, absent))
    before, after = {}, {}
    for part in (*LAYERS, "canonical_entities"):
        before[part], after[part] = _records(a, path, old, part, result, doc_id), _records(b, path, new, part, result, doc_id)
    for layer in LAYERS:
        _diff_spans(set_name, doc_id, layer, before[layer], after[layer], result)
    _diff_canonical(set_name, doc_id, before["canonical_entities"], after["canonical_entities"], result)
    old_labels, new_labels = _labels(a, path, old, result, doc_id), _labels(b, path, new, result, doc_id)
    _diff_document_labels(set_name, doc_id, old_labels, new_labels, result)
    deltas = result.label_deltas.setdefault(set_name, {})
    counts_before = _label_counts(before, old_labels)
    for layer, counts in _label_counts(after, new_labels).items():
        counts.subtract(counts_before[layer])
        deltas.setdefault(layer, Counter()).update(counts)


def _nonzero(deltas: dict[str, dict[str, dict[str, int]]]) -> dict[str, dict[str, dict[str, int]]]:
    """Deltas without zeros and empty layers or sets, sorted, as plain dicts."""
    out = {}
    for set_name, layers in sorted(deltas.items()):
        rows = {layer: {k: v for k, v in sorted(row.items(), key=lambda kv: str(kv[0])) if v} for layer, row in layers.items()}
        if any(rows.values()):
            out[set_name] = {layer: row for layer, row in rows.items() if row}
    return out


def _label_counts(records: dict[str, list[dict]], labels: dict | None) -> dict[str, Counter]:
    counts = {layer: Counter(_key(s.get("label")) for s in records[layer]) for layer in LAYERS}
    labels = labels or {}
    counts["document_labels"] = Counter(f"{name}={_shown(labels[name])}" for name in DOCUMENT_LABELS if labels.get(name) is not None)
    return counts


def _diff_spans(set_name: str, doc_id: str, layer: str, old: list[dict], new: list[dict], result: DatasetDiff) -> None:
    def change(kind: str, span: dict, **extra: Any) -> AnnotationChange:
        return AnnotationChange(set_name, doc_id, layer, kind, _shown(span.get("id")), _shown(span.get("label")),
                                _offset(span.get("start")), _offset(span.get("end")), _shown(span.get("text")), **extra)

    def place(span: dict) -> tuple:
        return _key(span.get("start")), _key(span.get("end")), _key(span.get("label"))

    by_id: dict[Hashable, dict] = {}
    unmatched_new: list[dict] = []
    for span in new:
        if by_id.setdefault(_key(span.get("id")), span) is not span:
            unmatched_new.append(span)  # a second span with one id: matched by its place, if at all
    pairs, rest = [], []
    for span in old:
        twin = by_id.pop(_key(span.get("id")), None)
        if twin is None:
            rest.append(span)
        else:
            pairs.append((span, twin, "id"))
    by_span: dict[tuple, list[dict]] = {}
    for span in [*by_id.values(), *unmatched_new]:
        by_span.setdefault(place(span), []).append(span)
    for span in rest:
        bucket = by_span.get(place(span))
        if bucket:
            pairs.append((span, bucket.pop(0), "span"))
        else:
            result.annotations.append(change("removed", span))
    for o, n, how in pairs:
        absent: dict[str, str] = {}
        fields = field_changes(o, n, absent)
        if fields:
            result.annotations.append(change("changed", n, matched_by=how, fields=fields, absent=absent))
    result.annotations.extend(change("added", span) for bucket in by_span.values() for span in bucket)


def _diff_canonical(set_name: str, doc_id: str, old: list[dict], new: list[dict], result: DatasetDiff) -> None:
    def change(kind: str, entity: dict, **extra: Any) -> AnnotationChange:
        return AnnotationChange(set_name, doc_id, "canonical_entities", kind, _shown(entity.get("id")), _shown(entity.get("label")),
                                text=_shown(entity.get("name")), **extra)

    before: dict[Hashable, dict] = {}
    for entity in old:
        before.setdefault(_key(entity.get("id")), entity)
    for entity in new:
        was = before.pop(_key(entity.get("id")), None)
        if was is None:
            result.annotations.append(change("added", entity))
        elif was != entity:
            absent: dict[str, str] = {}
            fields = field_changes(was, entity, absent)
            result.annotations.append(change("changed", entity, matched_by="id", fields=fields, absent=absent))
    result.annotations.extend(change("removed", e) for e in before.values())


def _diff_document_labels(set_name: str, doc_id: str, old: dict | None, new: dict | None, result: DatasetDiff) -> None:
    if old == new:
        return
    kind = "added" if old is None else "removed" if new is None else "changed"
    shown = new if new is not None else old or {}
    result.annotations.append(AnnotationChange(set_name, doc_id, "document_labels", kind, None, None,
                                               text=", ".join(f"{name}={_shown(shown.get(name))}" for name in DOCUMENT_LABELS),
                                               fields=field_changes(old or {}, new or {}) if kind == "changed" else {}))


def render_diff(diff: DatasetDiff, limit: int = 500) -> str:
    """The diff as readable tables; 'and N more' past ``limit`` annotation rows."""
    c = diff.counts()
    lines = [f"Dataset diff: {diff.a} → {diff.b}"]
    if diff.empty:
        return lines[0] + "\nNo differences in corpus/, annotations/ or schema/."
    if diff.documents:
        lines.append(f"Documents: {c.get('documents_added', 0)} added, {c.get('documents_removed', 0)} removed, "
                     f"{c.get('texts_changed', 0)} text(s) changed, {c.get('metadata_changed', 0)} metadata changed")
    for d in diff.documents:
        if d.change != "changed":
            lines.append(f"  {'+' if d.change == 'added' else '-'} {d.doc_id}")
            continue
        if d.text_changed:
            edits = "; ".join(f"[{e.old_start}, {e.old_end}) {short(e.old, 40)} → {short(e.new, 40)}" for e in d.text_edits[:5])
            more = f"; and {len(d.text_edits) - 5} more" if len(d.text_edits) > 5 else ""
            lines.append(f"  ~ {d.doc_id}  text: {d.old_length} → {d.new_length} code points, {len(d.text_edits)} edit(s): {edits}{more}")
        if d.metadata:
            lines.append(f"  ~ {d.doc_id}  metadata: {', '.join(d.metadata)}")
    if diff.files:
        lines.append(f"Annotation files: {c.get('annotation_files_added', 0)} added, {c.get('annotation_files_removed', 0)} removed, "
                     f"{c.get('annotation_files_changed', 0)} changed")
        lines += [f"  {'+' if f.change == 'added' else '-' if f.change == 'removed' else '~'} annotations/{f.set_name}/{f.doc_id}.json"
                  + (f"  {', '.join(name + _ABSENT_NOTE.get(f.absent.get(name), '') for name in f.fields)}" if f.fields else "")
                  for f in diff.files]
    if diff.annotations:
        lines.append(f"Annotations: {c.get('annotations_added', 0)} added, {c.get('annotations_removed', 0)} removed, "
                     f"{c.get('annotations_changed', 0)} changed")
        rows = [["set", "document", "layer", "±", "id", "label", "span", "text / what changed"]]
        for a in diff.annotations[:limit]:
            span = f"[{a.start}, {a.end})" if a.start is not None else ""
            what = ("; ".join(f"{k}: {_side(a, k, 'old', o)} → {_side(a, k, 'new', n)}" for k, (o, n) in a.fields.items())
                    if a.change == "changed" else short(a.text, 50) if a.text is not None else "")
            ident = (a.id or "") + (" (matched by span and label)" if a.matched_by == "span" else "")
            rows.append([a.set_name, a.doc_id, a.layer, {"added": "+", "removed": "-"}.get(a.change, "~"), ident, a.label or "", span, what])
        lines += ["  " + row for row in _table(rows)]
        if len(diff.annotations) > limit:
            lines.append(f"  ... and {len(diff.annotations) - limit} more (use --format json for all)")
    if diff.label_deltas:
        lines.append("Label counts (new − old):")
        rows = [["set", "layer", "label", "Δ"]]
        rows += [[s, layer, str(label), f"{delta:+d}"] for s, layers in diff.label_deltas.items()
                 for layer, labels in layers.items() for label, delta in labels.items()]
        lines += ["  " + row for row in _table(rows)]
    if diff.schema:
        lines.append(f"Schema: {len(diff.schema)} change(s)")
        lines += ["  " + row for row in _table([[s.level, f"{s.file}#{s.pointer}" if s.pointer else s.file, s.message] for s in diff.schema])]
    return "\n".join(lines)


#: How a file-level field one side lacks is named: absent from the old side means added.
_ABSENT_NOTE = {"old": " (added)", "new": " (removed)"}


def _side(change: AnnotationChange, path: str, side: str, value: Any) -> str:
    """One side of a changed field, as shown: ``(absent)`` when that side lacks the field."""
    return "(absent)" if change.absent.get(path) == side else short(value, 30)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [" ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip() for r in rows]
