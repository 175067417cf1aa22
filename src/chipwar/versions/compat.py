"""Compatibility rules: how much a change breaks, and the least version bump a set of changes needs.

Schema changes, each rated by :func:`compare_schema`:

- *major* (breaking: a file valid before may be invalid now, or an old reader may not read
  the new form): a field, label, definition or schema file removed; a field newly required,
  or no longer required; a ``type``, ``$ref``, ``const``, ``pattern``, ``format``,
  ``allOf``/``if`` or other constraint changed or added; a bound tightened;
  ``additionalProperties`` closed;
- *minor* (additive): an optional field, a label, a definition, a type or an alternative
  added; a bound loosened; a constraint removed;
- *patch*: ``description``, ``title``, ``examples`` and ``x-`` keys (definitions, mappings).

The bump a release needs (:func:`required_bump`), from every change since the last release:

- **major**: a breaking schema change;
- **minor**: documents added or removed; annotation files, annotations, canonical entities
  or document labels added; an additive schema change;
- **patch**: anything else — corrected texts (``chipwar reanchor``), changed metadata,
  annotations changed or removed, schema descriptions — and a release of tool changes only.

The rules take any JSON on either side (a schema file may be hand-edited into anything):
an unexpected shape is rated as a change, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ..report import pointer, short

#: Levels of change, weakest first; a release must bump at least the strongest one present.
LEVELS = ("patch", "minor", "major")

_MISSING: Any = object()


@dataclass(frozen=True)
class SchemaChange:
    """One change in ``schema/``, rated major, minor or patch (see the module docstring)."""

    file: str
    pointer: str
    level: str
    message: str


class Changes(Protocol):
    """What :func:`required_bump` reads of a diff (:class:`chipwar.versions.diff.DatasetDiff`)."""

    schema: list[SchemaChange]
    documents: list[Any]
    files: list[Any]
    annotations: list[Any]


def required_bump(diff: Changes) -> tuple[str, list[str]]:
    """The least bump the changes in ``diff`` need, and the changes that need it (see the module docstring)."""
    reasons: dict[str, list[str]] = {level: [] for level in LEVELS}
    for s in diff.schema:
        reasons[s.level].append(f"{s.file}{'#' + s.pointer if s.pointer else ''}: {s.message}")
    for d in diff.documents:
        if d.change != "changed":
            reasons["minor"].append(f"document {d.doc_id} {d.change}")
        if d.text_changed:
            reasons["patch"].append(f"text of {d.doc_id} changed")
        if d.metadata:
            reasons["patch"].append(f"metadata of {d.doc_id} changed")
    for f in diff.files:
        reasons["minor" if f.change == "added" else "patch"].append(f"annotation file {f.set_name}/{f.doc_id} {f.change}")
    for a in diff.annotations:
        reasons["minor" if a.change == "added" else "patch"].append(f"{a.set_name} {a.layer} {a.id or a.doc_id} {a.change}")
    level = next((lv for lv in reversed(LEVELS) if reasons[lv]), "patch")
    return level, reasons[level]


_DOC_KEYWORDS = frozenset({"description", "title", "$comment", "examples", "default", "deprecated"})
_LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"})
_UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"})
_SUBSCHEMAS = frozenset({"items", "contains", "propertyNames", "additionalProperties", "unevaluatedProperties"})


def compare_schema(file: str, old: Any, new: Any) -> list[SchemaChange]:
    """Every change between two versions of one JSON Schema, rated (see the module docstring)."""
    out: list[SchemaChange] = []
    _compare_node(file, [], old, new, out)
    return out


def _names(value: Any) -> set[str]:
    """The field names a ``required`` list gives (anything else in it, or a non-list, gives none)."""
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _members(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
            _compare_members(file, [*path, key], o, n, _names(new.get("required")), out)
        elif key == "required":
            _compare_required(add, _names(o if o is not _MISSING else []), _names(n if n is not _MISSING else []),
                              _members(old.get("properties")), _members(new.get("properties")))
            if o is not _MISSING and n is not _MISSING and not (isinstance(o, list) and isinstance(n, list)):
                add("major", f"{key} changed: {short(o)} → {short(n)}", key)
        elif key in ("oneOf", "anyOf", "enum") and isinstance(o, list) and isinstance(n, list):
            _compare_alternatives(file, [*path, key], o, n, out)
        elif key == "type":
            _compare_types(add, o, n)
        elif key in _SUBSCHEMAS and isinstance(o, dict) and isinstance(n, dict):
            _compare_node(file, [*path, key], o, n, out)
        elif key in ("additionalProperties", "unevaluatedProperties"):
            opened = n is _MISSING or n is True or n == {}
            add("minor" if opened else "major", f"{key} {'opened' if opened else 'closed'}", key)
        elif key in _LOWER_BOUNDS | _UPPER_BOUNDS and (n is _MISSING or (_number(o) or o is _MISSING) and _number(n)):
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
            out.append(SchemaChange(file, pointer(*path, name), "major", f"{kind} {short(name)} removed"))
        elif name not in old:
            needed = kind == "field" and name in required
            out.append(SchemaChange(file, pointer(*path, name), "major" if needed else "minor",
                                    f"{'required' if needed else 'optional' if kind == 'field' else 'new'} {kind} {short(name)} added"))
        else:
            _compare_node(file, [*path, name], old[name], new[name], out)


def _compare_required(add: Callable[..., None], old: set[str], new: set[str], old_props: dict, new_props: dict) -> None:
    for name in sorted(new - old):
        if name in old_props:
            add("major", f"field {short(name)} is now required", "required")
    for name in sorted(old - new):
        if name in new_props:
            add("major", f"field {short(name)} is no longer required (readers may find it missing)", "required")


def _type_names(value: Any) -> set[str]:
    """The type names a ``type`` keyword allows; anything that is not a name is kept as its JSON."""
    items = value if isinstance(value, list) else [value]
    return {item if isinstance(item, str) else short(item) for item in items}


def _compare_types(add: Callable[..., None], old: Any, new: Any) -> None:
    if old is _MISSING or new is _MISSING:
        add("minor" if new is _MISSING else "major", f"type constraint {'removed' if new is _MISSING else 'added'}", "type")
        return
    o, n = _type_names(old), _type_names(new)
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
