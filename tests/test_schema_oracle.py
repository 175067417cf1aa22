"""The reference ``jsonschema`` package as an oracle for our validator (jsonschema-rs, through chipwar.schema).

Every schema in schema/ is a valid Draft 2020-12 schema, and both validators give the same
verdict on the real files and on a broad set of broken variants of them, generated here: every
field (every item's field once per list) replaced by a value of every JSON type, removed, or
joined by an unknown field. Values travel as files do (JSON text parsed by orjson), so a huge
integer arrives as the float our reader gets.

Two differences are known and checked to go the strict way, ours:

- the reference checks only some formats (``date``, not ``date-time`` or ``uri`` without extra
  packages); for the comparison, our validator is built as chipwar.schema builds it (same
  engine, registry and format checking) but with those formats accepting anything;
- the reference matches ``pattern`` with Python's ``re.search``, whose ``$`` also matches before
  a final newline; JSON Schema specifies ECMA-262, where it does not. ``"doc\\n"`` fails ours.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import orjson
import pytest
from referencing import Registry, Resource

from chipwar.schema import load_schemas

from .conftest import REPO

SCHEMA_FILES = sorted((REPO / "schema").glob("*.json"))
SCHEMAS = load_schemas(REPO / "schema")
KINDS = {"document": (SCHEMAS.document, SCHEMAS.document_validator), "annotations": (SCHEMAS.annotations, SCHEMAS.annotations_validator)}

#: A value of every JSON type, and the edges of each: written as JSON text, read back by orjson.
VALUES = ["null", "true", "0", "-1", "1.5", "1.0", "1e30", "18446744073709551616", "-9223372036854775809",
          '""', '"x"', '"NaN"', '"2024-01-01"', '"x\\n"', '"' + "y" * 2000 + '"', "[]", "[null]", '["x"]', "{}", '{"x": 1}',
          "[[[[[[[[1]]]]]]]]"]

#: Real files: every document's metadata and every annotation file of every set.
REAL = [("document", p) for p in sorted((REPO / "corpus").glob("*.json"))] + \
       [("annotations", p) for p in sorted((REPO / "annotations").glob("*/*.json"))]


def _reference() -> dict[str, jsonschema.Draft202012Validator]:
    registry = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s, _ in KINDS.values()])
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return {kind: jsonschema.Draft202012Validator(schema, registry=registry, format_checker=checker) for kind, (schema, _) in KINDS.items()}


REFERENCE = _reference()
CHECKED_FORMATS = set(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers)


def _formats(node: Any) -> set[str]:
    """Every ``format`` a schema uses."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            found.add(node["format"])
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            found |= _formats(item)
    return found


UNCHECKED_FORMATS = set().union(*(_formats(s) for s, _ in KINDS.values())) - CHECKED_FORMATS


def _compared() -> dict[str, Any]:
    """Our validators as chipwar.schema builds them, the formats the reference cannot check accepting anything."""
    registry = jsonschema_rs.Registry([(s["$id"], s) for s, _ in KINDS.values()])
    accept = {name: (lambda _value: True) for name in UNCHECKED_FORMATS}
    return {kind: jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True, formats=accept)
            for kind, (schema, _) in KINDS.items()}


COMPARED = _compared()


def _verdicts(kind: str, value: Any) -> tuple[bool, bool, list[Any]]:
    """(reference valid, ours valid, our errors)."""
    ours = list(COMPARED[kind].iter_errors(value))
    return REFERENCE[kind].is_valid(value), not ours, ours


def _ecma_dollar(errors: list[Any]) -> bool:
    """Every error is a pattern that fails only because ECMA-262's ``$`` does not match before a final newline."""
    return bool(errors) and all(e.kind.name == "pattern" and isinstance(e.instance, str) and e.instance.endswith("\n") for e in errors)


def _agree(kind: str, value: Any, what: str) -> bool:
    """Assert both give the same verdict (or ours the stricter, for the known reason); return the reference's."""
    reference, ours, errors = _verdicts(kind, value)
    if reference != ours:
        assert reference and _ecma_dollar(errors), (what, "reference" if reference else "ours", [e.message[:200] for e in errors])
    return reference


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert [p.name for p in SCHEMA_FILES] == ["annotations.schema.json", "document.schema.json"]
    for path in SCHEMA_FILES:
        schema = json.loads(path.read_text("utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize(("kind", "path"), REAL, ids=[p.relative_to(REPO).as_posix() for _, p in REAL])
def test_real_files_are_valid_for_both(kind: str, path: Path) -> None:
    value = orjson.loads(path.read_bytes())
    assert _verdicts(kind, value)[:2] == (True, True) and KINDS[kind][1].is_valid(value)


def _trimmed(value: Any) -> Any:
    """The file with every list cut to its first item: the same shapes, a fraction of the time to validate."""
    if isinstance(value, list):
        return [_trimmed(v) for v in value[:1]]
    if isinstance(value, dict):
        return {k: _trimmed(v) for k, v in value.items()}
    return value


def _base(kind: str, path: Path) -> Any:
    """A real file, trimmed, with every optional shape filled: for an annotation file, a claim whose attribution chain's
    link has a cue and whose restates holds an id, an annotator with a model and the packet it was given."""
    value = orjson.loads(path.read_bytes())
    if kind == "annotations":
        claim = next(c for c in value["claims"] if any(link["cue"] for link in c["attribution_chain"]))
        link = next(link for link in claim["attribution_chain"] if link["cue"])
        value["claims"] = [{**claim, "attribution_chain": [link], "restates": [claim["id"].replace(":c", ":c9")]}]
        value["annotator"] = {**value["annotator"], "model": {"name": "a-model", "version": None},
                              "given": {k: "0" * 64 for k in ("guidelines_sha256", "annotations_schema_sha256", "document_schema_sha256",
                                                              "text_sha256")},
                              "prepared": "2026-12-01T10:00:00Z", "submitted": None}
    return _trimmed(value)


def _paths(value: Any, where: tuple = ()) -> Iterator[tuple]:
    """Every node's path."""
    yield where
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*where, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*where, i))


def _replace(value: Any, where: tuple, new: Any) -> Any:
    """``value`` with the node at ``where`` replaced (a ``LookupError`` when an earlier change removed the path)."""
    if not where:
        return new
    if not isinstance(value, (list, dict)) or isinstance(value, list) is not isinstance(where[0], int):
        raise LookupError(where)
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[where[0]] = _replace(value[where[0]], where[1:], new)
    return copy


def _variants(value: Any) -> Iterator[tuple[str, Any]]:
    """Every field replaced by every value, every object field removed, every object given an unknown field."""
    for where in _paths(value):
        shown = "/" + "/".join(map(str, where))
        for literal in VALUES:
            yield f"{shown} = {literal[:20]}", _replace(value, where, orjson.loads(json.dumps(json.loads(literal))))
        node = value
        for part in where:
            node = node[part]
        if isinstance(node, dict):
            yield f"{shown} + unknown", _replace(value, where, {**node, "confidence": 0.9})
            for key in node:
                yield f"{shown} - {key}", _replace(value, where, {k: v for k, v in node.items() if k != key})


@pytest.mark.parametrize(("kind", "path"), [REAL[0], next(r for r in REAL if "gold" in r[1].parts)],
                         ids=["document", "gold-annotations"])
def test_both_agree_on_broken_variants(kind: str, path: Path) -> None:
    base = _base(kind, path)
    assert _verdicts(kind, base)[:2] == (True, True)
    seen = {"valid": 0, "invalid": 0}
    for what, variant in _variants(base):
        seen["valid" if _agree(kind, variant, what) else "invalid"] += 1
    assert seen["invalid"] > 500 and seen["valid"] > 50, seen  # broad: both verdicts well represented
    if kind == "annotations":  # the nested shapes of schema 2.0.0 are among the variants
        assert {"/claims/0/attribution_chain/0/cue/start", "/claims/0/attribution_chain/0/entity_id", "/claims/0/restates/0",
                "/annotator/model/version", "/annotator/given/text_sha256"} <= {what.split(" ")[0] for what, _ in _variants(base)}


def test_both_agree_on_random_combinations() -> None:
    """Several fields broken at once (seeded): verdicts must not depend on which error a validator meets first."""
    rng = random.Random(2024)
    for kind, path in (REAL[0], next(r for r in REAL if "gold" in r[1].parts)):
        base = _base(kind, path)
        paths = [p for p in _paths(base) if p]
        for n in range(300):
            variant = base
            for where in rng.sample(paths, 3):
                try:
                    variant = _replace(variant, where, orjson.loads(json.dumps(json.loads(rng.choice(VALUES)))))
                except LookupError:
                    continue  # an earlier replacement removed this path's parent
            _agree(kind, variant, f"{kind} combination {n}")


def test_the_known_differences_are_real() -> None:
    """Guards the two exemptions above: if the reference ever checks these, the exemptions must go."""
    doc = orjson.loads(REAL[0][1].read_bytes())
    reference, ours, errors = _verdicts("document", {**doc, "doc_id": doc["doc_id"] + "\n"})
    assert reference and not ours and _ecma_dollar(errors)
    assert UNCHECKED_FORMATS == {"date-time", "uri"}
    gold = orjson.loads(next(p for k, p in REAL if "gold" in p.parts).read_bytes())
    gold["entities"][0]["provenance"]["created"] = "yesterday"
    assert REFERENCE["annotations"].is_valid(gold) and COMPARED["annotations"].is_valid(gold)
    assert not SCHEMAS.annotations_validator.is_valid(gold)  # the validator chipwar uses does check date-time


def _integer_paths(node: Any, schema: dict, where: tuple = (), seen: frozenset = frozenset()) -> set[tuple]:
    """Paths of every ``"type": "integer"`` property, ``*`` for list items, following local ``$ref``s."""
    if not isinstance(node, dict):
        return set()
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/") and ref not in seen:
        return _integer_paths(schema["$defs"][ref.rsplit("/", 1)[1]], schema, where, seen | {ref})
    found = {where} if node.get("type") == "integer" else set()
    for key, sub in (node.get("properties") or {}).items():
        found |= _integer_paths(sub, schema, (*where, key), seen)
    found |= _integer_paths(node.get("items"), schema, (*where, "*"), seen)
    for combinator in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(combinator) or ():
            found |= _integer_paths(sub, schema, where, seen)
    return found


def test_every_integer_field_of_the_schema_is_checked_for_floats() -> None:
    """JSON Schema's ``integer`` admits 1.0 and 1e30; validate finds those in exactly the fields the schema types integer."""
    from chipwar.validation.schema_problems import INTEGER_FIELDS

    for kind, (schema, _) in KINDS.items():
        assert _integer_paths(schema, schema) == set(INTEGER_FIELDS[kind]), kind
