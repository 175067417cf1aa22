"""JSON Schema errors as problems, in words; integers written as floats; the nesting bound before any of it."""

from __future__ import annotations

from typing import Any, Literal

from ..layers import CHAIN_FIELD, LAYERS
from ..report import Problem, cut, pointer, short
from ..schema import Schemas

#: Deepest nesting looked into. No field of either schema nests past 5 levels; a deeper value
#: is reported as one problem before anything recursive (the schema checker, message
#: formatting) meets it.
MAX_DEPTH = 32

#: Schema errors listed per file; a file broken everywhere says how many more there were.
MAX_SCHEMA_PROBLEMS = 200

#: Which kind of file a JSON value was read from.
Kind = Literal["document", "annotations"]

_CODES = {"additionalProperties": "unknown_field", "required": "missing_field", "type": "wrong_type",
          "pattern": "bad_format", "format": "bad_format", "const": "wrong_value"}


def too_deep(rel: str, doc_id: str | None) -> Problem:
    """The one problem for a value nested deeper than :data:`MAX_DEPTH`."""
    return Problem("too_deep", f"JSON nested deeper than {MAX_DEPTH} levels; no field of the schema nests that deep", rel, doc_id,
                   expected=f"at most {MAX_DEPTH} levels", found="deeper", hint="restore the file (git checkout) or rebuild it")


def _depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (without recursion, so any depth is safe)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


def schema_problems(schemas: Schemas, validator: Any, obj: Any, rel: str, doc_id: str | None) -> list[Problem]:
    """JSON Schema errors as problems; label-set errors say which labels are allowed.

    A value nested deeper than :data:`MAX_DEPTH` gives one ``too_deep`` problem and nothing
    else: the checker and message formatting recurse.
    """
    try:
        if validator.is_valid(obj):
            return []
    except ValueError:  # jsonschema-rs: "Recursion limit reached"
        pass
    if _depth_over(obj, MAX_DEPTH):
        return [too_deep(rel, doc_id)]
    out: list[Problem] = []
    try:
        for n, err in enumerate(validator.iter_errors(obj)):
            if n == MAX_SCHEMA_PROBLEMS:
                out.append(Problem("too_many_problems", f"more schema errors than the {MAX_SCHEMA_PROBLEMS} listed", rel, doc_id,
                                   hint="fix those listed and run it again"))
                break
            out.append(_schema_problem(schemas, err, obj, rel, doc_id))
    except ValueError as exc:
        out.append(Problem("schema_violation", f"could not be checked against the schema: {cut(str(exc), 200)}", rel, doc_id,
                           hint="restore the file (git checkout) or rebuild it"))
    return out


def _schema_problem(schemas: Schemas, err: Any, obj: Any, rel: str, doc_id: str | None) -> Problem:
    path = list(err.instance_path)
    kind = err.kind.name
    code, expected, found = _CODES.get(kind, "schema_violation"), _expected(err), short(err.instance)
    schema_path = list(err.schema_path)
    if kind == "oneOf" and len(schema_path) >= 2 and schema_path[-3:-2] == ["$defs"] and schemas.is_label_set(schema_path[-2]):
        code, expected = "unknown_label", f"one of {', '.join(schemas.label_names(schema_path[-2]))} ({schema_path[-2]})"
    elif kind == "oneOf" and isinstance(err.instance, str):
        nested = _label_set_under(schemas, schema_path)
        if nested:
            code, expected = "unknown_label", f"null or one of {', '.join(schemas.label_names(nested[0]))} ({nested[0]})"
    if kind == "additionalProperties":
        unexpected = list(err.kind.unexpected)
        path, expected = path + [unexpected[0]], "only the fields the schema defines"
        found = ", ".join(short(k, 40) for k in unexpected[:5]) + (f" and {len(unexpected) - 5} more" if len(unexpected) > 5 else "")
    elif kind == "required":
        path, found, expected = path + [err.kind.property], "nothing", f"field {err.kind.property!r}"
    return Problem(code, cut(err.message, 300), rel, doc_id, _annotation_id(obj, path), pointer(*path), expected, found,
                   hint="see schema/ for the allowed fields and labels")


def _expected(err: Any) -> str | None:
    """What the schema wanted, in words, for the errors that say it plainly."""
    kind = err.kind
    if kind.name == "type":
        return " or ".join(map(str, kind.types))
    if kind.name in ("minimum", "minLength"):
        return f">= {kind.limit}" if kind.name == "minimum" else f"at least {kind.limit} character(s)"
    return None


def _label_set_under(schemas: Schemas, schema_path: list) -> list[str]:
    """Label sets reachable from a ``oneOf`` of null-or-label (e.g. org_type)."""
    node: Any = schemas.annotations
    for part in schema_path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return []
    if not isinstance(node, list):
        return []
    refs = [o.get("$ref", "") for o in node if isinstance(o, dict)]
    return [r.rsplit("/", 1)[1] for r in refs if r.startswith("#/$defs/") and schemas.is_label_set(r.rsplit("/", 1)[1])]


def _annotation_id(obj: Any, path: list) -> str | None:
    """The id of the annotation a JSON path points into, if any."""
    if len(path) >= 2 and (path[0] in LAYERS or path[0] == "canonical_entities") and isinstance(path[1], int) and isinstance(obj, dict):
        items = obj.get(path[0])
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            value = items[path[1]].get("id")
            return value if isinstance(value, str) else None
    return None


#: Fields the schemas type ``integer``, as paths (``*``: every item of a list). JSON Schema counts
#: ``1.0`` and ``1e30`` as integers, so the schema lets them through, and they arrive as Python
#: floats (so does an integer past 64 bits); :func:`_whole_floats` finds them. The span fast path
#: checks offsets itself, so this runs only on files that path does not clear.
INTEGER_FIELDS: dict[Kind, tuple[tuple[str, ...], ...]] = {
    "document": (("intake", "length_codepoints"),),
    "annotations": (*((layer, "*", name) for layer in LAYERS for name in ("start", "end")),
                    *(("claims", "*", CHAIN_FIELD, "*", "cue", name) for name in ("start", "end"))),
}


def _whole_floats(kind: Kind, data: Any) -> list[tuple[list[str | int], float]]:
    """(path, value) of every field of :data:`INTEGER_FIELDS` that holds a float with an integer value."""
    out: list[tuple[list[str | int], float]] = []
    for field_path in INTEGER_FIELDS[kind]:
        nodes: list[tuple[list[str | int], Any]] = [([], data)]
        for part in field_path:
            step: list[tuple[list[str | int], Any]] = []
            for where, node in nodes:
                if part == "*" and isinstance(node, list):
                    step += [([*where, i], item) for i, item in enumerate(node)]
                elif isinstance(node, dict) and part in node:
                    step.append(([*where, part], node[part]))
            nodes = step
        out += [(where, value) for where, value in nodes if type(value) is float and value.is_integer()]
    order = {layer: n for n, layer in enumerate(LAYERS)}
    return sorted(out, key=lambda found: (order.get(found[0][0], -1), found[0][1:2]))  # file order: layer, span, start, end


def whole_float_problems(kind: Kind, data: Any, rel: str, doc_id: str) -> list[Problem]:
    """A ``wrong_type`` problem for each integer field that holds a float (see :data:`INTEGER_FIELDS`)."""
    return [Problem("wrong_type", f"{where[-1]} must be an integer written without fraction or exponent, within 64 bits",
                    rel, doc_id, _annotation_id(data, where), pointer(*where), "an integer written without fraction or exponent",
                    short(value), hint="write it as a plain integer (e.g. 1000, not 1000.0 or 1e3)")
            for where, value in _whole_floats(kind, data)]
