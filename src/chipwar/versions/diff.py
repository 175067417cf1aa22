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
  a matched pair lists each field that differs as ``[old, new]``; the rest are added or removed;
- **label count deltas** per set and layer (document labels counted as ``field=value``);
- **schema changes**, each rated by :func:`compare_schema`:

  - *major* (breaking: a file valid before may be invalid now, or an old reader may not read
    the new form): a field, label, definition or schema file removed; a field newly required,
    or no longer required; a ``type``, ``$ref``, ``const``, ``pattern``, ``format``,
    ``allOf``/``if`` or other constraint changed or added; a bound tightened;
    ``additionalProperties`` closed;
  - *minor* (additive): an optional field, a label, a definition, a type or an alternative
    added; a bound loosened; a constraint removed;
  - *patch*: ``description``, ``title``, ``examples`` and ``x-`` keys (definitions, mappings).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..align import align
from ..errors import UsageError
from ..files import loads_json, sha256_text
from ..layers import DOCUMENT_LABELS, LAYERS
from ..report import pointer, short
from .git import BlobReader, Repo, blob_id

#: Levels of change, weakest first; a release must bump at least the strongest one present.
LEVELS = ("patch", "minor", "major")

_MISSING: Any = object()


class DiffError(UsageError):
    """A side cannot be read (unknown revision, malformed JSON at a revision)."""


@dataclass
class Side:
    """One side of a diff: dataset files as ``{path: git blob id}``, and a reader of their bytes."""

    name: str
    files: dict[str, str]
    read: Callable[[str], bytes]


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


def revision_side(repo: Repo, rev: str, blobs: BlobReader) -> Side:
    """The dataset files of a commit or tag."""
    files = {p: oid for p, oid in repo.tree(rev).items() if is_dataset_file(p)}
    return Side(rev, files, lambda path: blobs.read(files[path]))


def worktree_side(root: Path) -> Side:
    """The dataset files on disk, committed or not."""
    files = {}
    for pattern in ("corpus/*.txt", "corpus/*.json", "annotations/*/*.json", "schema/*.json"):
        for path in root.glob(pattern):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and is_dataset_file(rel):
                files[rel] = blob_id(path.read_bytes())
    return Side("working tree", files, lambda rel: (root / rel).read_bytes())


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
    """An annotation file added or removed, or whose file-level fields (annotator, text_sha256, …) changed."""

    set_name: str
    doc_id: str
    change: str
    fields: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class AnnotationChange:
    """One annotation added, removed or changed; for a change, ``fields`` maps each differing field to [old, new].

    ``matched_by`` is ``id``, or ``span`` when the id changed and start, end and label matched.
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


@dataclass(frozen=True)
class SchemaChange:
    """One change in ``schema/``, rated major, minor or patch (see the module docstring)."""

    file: str
    pointer: str
    level: str
    message: str


@dataclass
class DatasetDiff:
    """Everything that differs between two sides."""

    a: str
    b: str
    documents: list[DocumentChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    annotations: list[AnnotationChange] = field(default_factory=list)
    label_deltas: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    schema: list[SchemaChange] = field(default_factory=list)

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
        return {"a": self.a, "b": self.b, "counts": self.counts(), **{k: v for k, v in asdict(self).items() if k not in ("a", "b")}}


def diff_revisions(repo: Repo, a: str | None, b: str | None) -> DatasetDiff:
    """Diff two revisions or tags: ``a=None`` is the empty dataset, ``b=None`` the working tree.

    Raises :class:`chipwar.gitrepo.GitError` for an unknown revision, :class:`DiffError` for unreadable files.
    """
    with repo.blobs() as blobs:
        side_a = revision_side(repo, a, blobs) if a else empty_side()
        side_b = revision_side(repo, b, blobs) if b else worktree_side(repo.root)
        return diff_sides(side_a, side_b)


def diff_sides(a: Side, b: Side) -> DatasetDiff:
    """Compare two sides document by document, then their schemas."""
    result = DatasetDiff(a.name, b.name)
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
                result.schema.extend(compare_schema(path, _json(a, path), _json(b, path)))
    return result


def _json(side: Side, path: str) -> Any:
    try:
        return loads_json(side.read(path))
    except ValueError as exc:
        raise DiffError(f"{path} in {side.name}: not valid JSON ({exc}); `chipwar validate` there shows why") from None


def _diff_document(a: Side, b: Side, doc_id: str, result: DatasetDiff) -> None:
    text, meta = f"corpus/{doc_id}.txt", f"corpus/{doc_id}.json"
    in_a, in_b = text in a.files or meta in a.files, text in b.files or meta in b.files
    if not in_a or not in_b:
        if in_a or in_b:
            result.documents.append(DocumentChange(doc_id, "added" if in_b else "removed"))
        return
    change = DocumentChange(doc_id, "changed")
    if a.files.get(text) != b.files.get(text) and text in a.files and text in b.files:
        old, new = a.read(text).decode("utf-8"), b.read(text).decode("utf-8")
        change.old_sha256, change.new_sha256, change.old_length, change.new_length = sha256_text(old), sha256_text(new), len(old), len(new)
        change.text_edits = [TextEdit(i1, i2, j1, j2, old[i1:i2], new[j1:j2]) for i1, i2, j1, j2 in align(old, new).edits]
    if a.files.get(meta) != b.files.get(meta) and meta in a.files and meta in b.files:
        change.metadata = field_changes(_json(a, meta), _json(b, meta))
    if change.text_edits or change.metadata:
        result.documents.append(change)


def field_changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> dict[str, list[Any]]:
    """``{dotted.field: [old, new]}`` for every differing field; nested objects compared field by field."""
    out: dict[str, list[Any]] = {}
    for key in [*old, *(k for k in new if k not in old)]:
        o, n = old.get(key, _MISSING), new.get(key, _MISSING)
        if o == n:
            continue
        if isinstance(o, dict) and isinstance(n, dict):
            out.update(field_changes(o, n, f"{prefix}{key}."))
        else:
            out[prefix + key] = [None if o is _MISSING else o, None if n is _MISSING else n]
    return out


_PARTS = (*LAYERS, "canonical_entities", "document_labels")


def _diff_annotation_file(a: Side, b: Side, set_name: str, doc_id: str, result: DatasetDiff) -> None:
    path = f"annotations/{set_name}/{doc_id}.json"
    if a.files.get(path) == b.files.get(path):
        return
    old = _json(a, path) if path in a.files else None
    new = _json(b, path) if path in b.files else None
    if old is None or new is None:
        result.files.append(FileChange(set_name, doc_id, "added" if old is None else "removed"))
    else:
        top = field_changes({k: v for k, v in old.items() if k not in _PARTS}, {k: v for k, v in new.items() if k not in _PARTS})
        if top:
            result.files.append(FileChange(set_name, doc_id, "changed", top))
    old, new = old or {}, new or {}
    for layer in LAYERS:
        _diff_spans(set_name, doc_id, layer, old.get(layer) or [], new.get(layer) or [], result)
    _diff_canonical(set_name, doc_id, old.get("canonical_entities") or [], new.get("canonical_entities") or [], result)
    _diff_document_labels(set_name, doc_id, old.get("document_labels"), new.get("document_labels"), result)
    deltas = result.label_deltas.setdefault(set_name, {})
    before = _label_counts(old)
    for layer, counts in _label_counts(new).items():
        counts.subtract(before[layer])
        deltas.setdefault(layer, Counter()).update(counts)


def _nonzero(deltas: dict[str, dict[str, dict[str, int]]]) -> dict[str, dict[str, dict[str, int]]]:
    """Deltas without zeros and empty layers or sets, sorted, as plain dicts."""
    out = {}
    for set_name, layers in sorted(deltas.items()):
        rows = {layer: {k: v for k, v in sorted(row.items()) if v} for layer, row in layers.items()}
        if any(rows.values()):
            out[set_name] = {layer: row for layer, row in rows.items() if row}
    return out


def _label_counts(data: dict[str, Any]) -> dict[str, Counter]:
    counts = {layer: Counter(s.get("label") for s in data.get(layer) or []) for layer in LAYERS}
    labels = data.get("document_labels") or {}
    counts["document_labels"] = Counter(f"{name}={labels[name]}" for name in DOCUMENT_LABELS if labels.get(name) is not None)
    return counts


def _diff_spans(set_name: str, doc_id: str, layer: str, old: list[dict], new: list[dict], result: DatasetDiff) -> None:
    def change(kind: str, span: dict, **extra: Any) -> AnnotationChange:
        return AnnotationChange(set_name, doc_id, layer, kind, span.get("id"), span.get("label"),
                                span.get("start"), span.get("end"), span.get("text"), **extra)

    by_id = {s.get("id"): s for s in new}
    pairs, rest = [], []
    for span in old:
        twin = by_id.pop(span.get("id"), None)
        if twin is None:
            rest.append(span)
        else:
            pairs.append((span, twin, "id"))
    by_span: dict[tuple, list[dict]] = {}
    for span in by_id.values():
        by_span.setdefault((span.get("start"), span.get("end"), span.get("label")), []).append(span)
    for span in rest:
        bucket = by_span.get((span.get("start"), span.get("end"), span.get("label")))
        if bucket:
            pairs.append((span, bucket.pop(0), "span"))
        else:
            result.annotations.append(change("removed", span))
    for o, n, how in pairs:
        fields = field_changes(o, n)
        if fields:
            result.annotations.append(change("changed", n, matched_by=how, fields=fields))
    result.annotations.extend(change("added", span) for bucket in by_span.values() for span in bucket)


def _diff_canonical(set_name: str, doc_id: str, old: list[dict], new: list[dict], result: DatasetDiff) -> None:
    before = {e.get("id"): e for e in old}
    for entity in new:
        was = before.pop(entity.get("id"), None)
        if was is None:
            result.annotations.append(AnnotationChange(set_name, doc_id, "canonical_entities", "added", entity.get("id"), entity.get("label"),
                                                       text=entity.get("name")))
        elif was != entity:
            result.annotations.append(AnnotationChange(set_name, doc_id, "canonical_entities", "changed", entity.get("id"), entity.get("label"),
                                                       text=entity.get("name"), matched_by="id", fields=field_changes(was, entity)))
    result.annotations.extend(AnnotationChange(set_name, doc_id, "canonical_entities", "removed", e.get("id"), e.get("label"), text=e.get("name"))
                              for e in before.values())


def _diff_document_labels(set_name: str, doc_id: str, old: dict | None, new: dict | None, result: DatasetDiff) -> None:
    if old == new:
        return
    kind = "added" if old is None else "removed" if new is None else "changed"
    shown = new if new is not None else old or {}
    result.annotations.append(AnnotationChange(set_name, doc_id, "document_labels", kind, None, None,
                                               text=", ".join(f"{name}={shown.get(name)}" for name in DOCUMENT_LABELS),
                                               fields=field_changes(old or {}, new or {}) if kind == "changed" else {}))


_DOC_KEYWORDS = frozenset({"description", "title", "$comment", "examples", "default", "deprecated"})
_LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"})
_UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"})
_SUBSCHEMAS = frozenset({"items", "contains", "propertyNames", "additionalProperties", "unevaluatedProperties"})


def compare_schema(file: str, old: Any, new: Any) -> list[SchemaChange]:
    """Every change between two versions of one JSON Schema, rated (see the module docstring)."""
    out: list[SchemaChange] = []
    _compare_node(file, [], old, new, out)
    return out


def _compare_node(file: str, path: list, old: Any, new: Any, out: list[SchemaChange]) -> None:
    def add(level: str, message: str, *at: Any) -> None:
        out.append(SchemaChange(file, pointer(*path, *at), level, message))

    if not (isinstance(old, dict) and isinstance(new, dict)):
        if old != new:
            add("major", f"changed from {short(old)} to {short(new)}")
        return
    for key in [*old, *(k for k in new if k not in old)]:
        o, n = old.get(key, _MISSING), new.get(key, _MISSING)
        if o == n:
            continue
        if key in _DOC_KEYWORDS or key.startswith("x-"):
            add("patch", f"{key} changed" + (f" from {short(o)} to {short(n)}" if isinstance(o, str) and isinstance(n, str) else ""), key)
        elif key in ("properties", "$defs") and isinstance(o, dict) and isinstance(n, dict):
            _compare_members(file, [*path, key], o, n, set(new.get("required", ())), out)
        elif key == "required":
            _compare_required(add, set(o if o is not _MISSING else ()), set(n if n is not _MISSING else ()),
                              old.get("properties", {}), new.get("properties", {}))
        elif key in ("oneOf", "anyOf", "enum") and isinstance(o, list) and isinstance(n, list):
            _compare_alternatives(file, [*path, key], o, n, out)
        elif key == "type":
            _compare_types(add, o, n)
        elif key in _SUBSCHEMAS and isinstance(o, dict) and isinstance(n, dict):
            _compare_node(file, [*path, key], o, n, out)
        elif key in ("additionalProperties", "unevaluatedProperties"):
            opened = n is _MISSING or n is True or n == {}
            add("minor" if opened else "major", f"{key} {'opened' if opened else 'closed'}", key)
        elif key in _LOWER_BOUNDS | _UPPER_BOUNDS:
            looser = n is _MISSING or (o is not _MISSING and (n < o if key in _LOWER_BOUNDS else n > o))
            add("minor" if looser else "major", f"{key} {'loosened' if looser else 'tightened'}: {_show(o)} → {_show(n)}", key)
        elif n is _MISSING:
            add("minor", f"{key} removed (was {short(o)})", key)
        else:
            add("major", f"{key} {'added' if o is _MISSING else 'changed'}: {_show(o)} → {short(n)}", key)


def _show(value: Any) -> str:
    return "none" if value is _MISSING else short(value)


def _compare_members(file: str, path: list, old: dict, new: dict, required: set[str], out: list[SchemaChange]) -> None:
    kind = "field" if path[-1] == "properties" else "definition"
    for name in [*old, *(k for k in new if k not in old)]:
        if name not in new:
            out.append(SchemaChange(file, pointer(*path, name), "major", f"{kind} {name!r} removed"))
        elif name not in old:
            needed = kind == "field" and name in required
            out.append(SchemaChange(file, pointer(*path, name), "major" if needed else "minor",
                                    f"{'required' if needed else 'optional' if kind == 'field' else 'new'} {kind} {name!r} added"))
        else:
            _compare_node(file, [*path, name], old[name], new[name], out)


def _compare_required(add: Callable[..., None], old: set[str], new: set[str], old_props: dict, new_props: dict) -> None:
    for name in sorted(new - old):
        if name in old_props:
            add("major", f"field {name!r} is now required", "required")
    for name in sorted(old - new):
        if name in new_props:
            add("major", f"field {name!r} is no longer required (readers may find it missing)", "required")


def _compare_types(add: Callable[..., None], old: Any, new: Any) -> None:
    if old is _MISSING or new is _MISSING:
        add("minor" if new is _MISSING else "major", f"type constraint {'removed' if new is _MISSING else 'added'}", "type")
        return
    o, n = set([old] if isinstance(old, str) else old), set([new] if isinstance(new, str) else new)
    if o - n:
        add("major", f"type {', '.join(sorted(o - n))} no longer allowed", "type")
    if n - o:
        add("minor", f"type {', '.join(sorted(n - o))} now allowed", "type")


def _compare_alternatives(file: str, path: list, old: list, new: list, out: list[SchemaChange]) -> None:
    """Label sets (``oneOf`` of ``const``) compare label by label; other alternatives as wholes."""
    def key(item: Any) -> Any:
        if isinstance(item, dict) and "const" in item:
            return ("label", short(item["const"]))
        return ("value" if path[-1] == "enum" else "alternative", short(item, 200))

    before = {key(x): (i, x) for i, x in enumerate(old)}
    for i, item in enumerate(new):
        k = key(item)
        if k not in before:
            out.append(SchemaChange(file, pointer(*path, i), "minor", f"{k[0]} {k[1]} added"))
        else:
            _compare_node(file, [*path, i], before.pop(k)[1], item, out)
    out.extend(SchemaChange(file, pointer(*path, i), "major", f"{k[0]} {k[1]} removed") for k, (i, _) in before.items())


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
                  + (f"  {', '.join(f.fields)}" if f.fields else "") for f in diff.files]
    if diff.annotations:
        lines.append(f"Annotations: {c.get('annotations_added', 0)} added, {c.get('annotations_removed', 0)} removed, "
                     f"{c.get('annotations_changed', 0)} changed")
        rows = [["set", "document", "layer", "±", "id", "label", "span", "text / what changed"]]
        for a in diff.annotations[:limit]:
            span = f"[{a.start}, {a.end})" if a.start is not None else ""
            what = ("; ".join(f"{k}: {short(o, 30)} → {short(n, 30)}" for k, (o, n) in a.fields.items())
                    if a.change == "changed" else short(a.text, 50) if a.text is not None else "")
            ident = (a.id or "") + (" (matched by span and label)" if a.matched_by == "span" else "")
            rows.append([a.set_name, a.doc_id, a.layer, {"added": "+", "removed": "-"}.get(a.change, "~"), ident, a.label or "", span, what])
        lines += ["  " + row for row in _table(rows)]
        if len(diff.annotations) > limit:
            lines.append(f"  ... and {len(diff.annotations) - limit} more (use --format json for all)")
    if diff.label_deltas:
        lines.append("Label counts (new − old):")
        rows = [["set", "layer", "label", "Δ"]]
        rows += [[s, layer, label, f"{delta:+d}"] for s, layers in diff.label_deltas.items()
                 for layer, labels in layers.items() for label, delta in labels.items()]
        lines += ["  " + row for row in _table(rows)]
    if diff.schema:
        lines.append(f"Schema: {len(diff.schema)} change(s)")
        lines += ["  " + row for row in _table([[s.level, f"{s.file}#{s.pointer}" if s.pointer else s.file, s.message] for s in diff.schema])]
    return "\n".join(lines)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [" ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip() for r in rows]
