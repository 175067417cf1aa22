"""Canonical-entity records across the files of a set: one canonical id has one record (label and name)."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from ..report import Problem, pointer, short

#: Canonical-entity records seen in a set: canonical id -> (label, name) -> (file, index) where first seen.
Records = dict[str, dict[tuple[Any, Any], tuple[str, int]]]

_TRIPLE = itemgetter("id", "label", "name")


def collect_records(data: dict, rel: str, records: Records, firsts: set[tuple[Any, Any, Any]], typed: bool) -> None:
    """Note each canonical entity's record (label, name) where first seen in this set.

    ``firsts`` holds (id, label, name) of each id's first record. ``typed``: the file passed
    the schema, so a file whose every record is its id's first one is recognised with one set
    comparison in C (the usual case in a large set).
    """
    entities = data.get("canonical_entities")
    if type(entities) is not list:
        return
    if typed:
        try:
            if firsts.issuperset(map(_TRIPLE, entities)):
                return
        except (KeyError, TypeError):  # an edited schema let an odd entity through: look at each
            pass
    for i, ent in enumerate(entities):
        if not isinstance(ent, dict):
            continue
        cid, label, name = ent.get("id"), ent.get("label"), ent.get("name")
        if isinstance(cid, str) and isinstance(label, str) and isinstance(name, str):
            recs = records.setdefault(cid, {})
            if not recs:
                firsts.add((cid, label, name))
            recs.setdefault((label, name), (rel, i))


def record_conflicts(records: dict[str, Records]) -> list[Problem]:
    """One problem per record of a canonical id that differs from its first record in the set:
    an error when the label differs, a warning when only the name does."""
    out = []
    for _set_rel, by_id in records.items():
        for cid, recs in by_id.items():
            (first, (first_rel, _)), *others = recs.items()
            for (label, name), (rel, i) in others:
                what = "label" if label != first[0] else "name"
                out.append(Problem(
                    "canonical_conflict", f"canonical entity {short(cid)} is {label} {short(name)} here but {first[0]} {short(first[1])} "
                    f"in {first_rel}", rel, rel.rsplit("/", 1)[-1].removesuffix(".json"), cid, pointer("canonical_entities", i, what),
                    expected=f"{first[0]} {short(first[1])} (as in {first_rel})", found=f"{label} {short(name)}",
                    hint="one canonical id is one real-world entity: give every file of the set the same record, or use a new id",
                    severity="error" if what == "label" else "warning"))
    return out
