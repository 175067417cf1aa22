"""Annotation sets compared on one document: each unit of matched spans, what differs, and where gold decided it.

Spans of the sets are matched into units exactly as ``chipwar agree`` matches them
(:func:`chipwar.agreement.matching.units_by_overlap`) and compared on the same fields
(:func:`chipwar.agreement.fields.layer_fields`), so what the page marks is what the figures
count. A unit is ``same`` when every set has a span there with the same offsets and fields;
otherwise it is marked by its first difference: ``only`` (some set has no span there),
``offsets``, ``label`` or ``attributes``. Each marked unit links to the decisions of the
adjudicated set (``--set``, gold) that name one of its spans overlapping the unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

from ..agreement.fields import empty, layer_fields
from ..agreement.matching import unit_keys, units_by_overlap
from ..layers import CHAIN_FIELD, LAYER_ID_PREFIX, LAYERS, RESTATES_FIELD
from .documents import MAX_LANE, UNDERLINED, decision_reference, local
from .lanes import Mark, Segment, assign_lanes, segments

STATUSES = ("same", "only", "offsets", "label", "attributes")


@dataclass(frozen=True)
class Version:
    """One set's span in a unit (``None`` fields when the set has none)."""

    set_name: str
    key: str | None
    start: int | None
    end: int | None
    text: str | None
    values: dict[str, str]


@dataclass(frozen=True)
class Unit:
    """Spans of the compared sets matched as one unit, and how they differ."""

    key: str
    layer: str
    start: int
    end: int
    status: str
    differs: tuple[str, ...]
    versions: tuple[Version, ...]
    decisions: tuple[int, ...]
    adjudicated: tuple[str, ...]  # the key of the adjudicated set's span matched to the unit, if any


@dataclass
class LayerSummary:
    """One layer of one document compared: how many units, and how many of each status."""

    layer: str
    units: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def agreement(self) -> float | None:
        """The share of units on which every set agrees on span and every field."""
        return self.statuses["same"] / self.units if self.units else None


@dataclass
class CompareView:
    """One document's compare page: every unit, the summary per layer, the text cut for the merged view."""

    doc_id: str
    sets: list[str]
    missing: dict[str, str]  # set -> why its file is not compared
    units: list[Unit] = field(default_factory=list)
    summary: list[LayerSummary] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def disagreements(self) -> int:
        return sum(unit.status != "same" for unit in self.units)


def compare_view(doc_id: str, sets: Sequence[str], files: Sequence[dict[str, Any] | None], problems: Sequence[str | None],
                 text: str | None, adjudicated: dict[str, Any] | None, *, with_text: bool) -> CompareView:
    """The sets' files of ``doc_id`` compared; a set whose file is missing or does not pass is
    named in ``missing`` and the view is empty (a partial comparison would mark every span)."""
    view = CompareView(doc_id, list(sets), {s: why or "no file" for s, f, why in zip(sets, files, problems, strict=True) if f is None})
    if view.missing:
        return view
    decided: dict[tuple[str | None, str], list[int]] = {}
    for number, decision in enumerate((adjudicated or {}).get("decisions") or (), start=1):
        for annotation_id in decision.get("annotation_ids") or ():
            set_name, span_id = decision_reference(annotation_id)
            decided.setdefault((set_name, local(span_id)), []).append(number)
    for layer in LAYERS:
        summary = LayerSummary(layer)
        spans_by_set = [list(f.get(layer) or ()) for f in files]  # type: ignore[union-attr]
        units = units_by_overlap(spans_by_set)
        keys = unit_keys(units, len(sets))
        gold = _gold_of_units(units, list((adjudicated or {}).get(layer) or ()))
        for n, unit in enumerate(units, start=1):
            made = _unit(f"u{LAYER_ID_PREFIX[layer]}{n}", layer, unit, sets, keys, gold[n - 1], decided, with_text)
            summary.units += 1
            summary.statuses[made.status] += 1
            view.units.append(made)
        view.summary.append(summary)
    if with_text and text is not None:
        drawn = [u for u in view.units if u.layer in UNDERLINED]
        lanes = assign_lanes((u.key, u.start, u.end) for u in drawn)
        view.segments = segments(text, [Mark(u.key, u.layer, u.status, u.start, u.end, min(lanes[u.key], MAX_LANE)) for u in drawn])
    return view


def _gold_of_units(units: Sequence[tuple[dict | None, ...]], gold: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """The adjudicated span of each unit, one to one and most alike first (as the units themselves are matched): a gold
    span merely overlapping a unit (a word nested in a long marker) is not its adjudication."""
    def stand_in(unit: tuple[dict | None, ...]) -> dict[str, Any]:
        first = next(span for span in unit if span is not None)
        return {"start": first["start"], "end": first["end"], "label": first.get("label")}
    stand_ins = [stand_in(unit) for unit in units]
    matched: dict[int, dict[str, Any]] = {}
    for pair in units_by_overlap([stand_ins, gold]):
        if pair[0] is not None and pair[1] is not None:
            matched[id(pair[0])] = pair[1]
    return [matched.get(id(s)) for s in stand_ins]


def _unit(key: str, layer: str, unit: tuple[dict | None, ...], sets: Sequence[str], keys: list[dict[str, int]],
          gold: dict[str, Any] | None, decided: dict[tuple[str | None, str], list[int]], with_text: bool) -> Unit:
    present = [span for span in unit if span is not None]
    start, end = min(s["start"] for s in present), max(s["end"] for s in present)
    fields = layer_fields(layer)
    values = [{f.name: f.read(span, keys[i]) for f in fields} if span is not None else None for i, span in enumerate(unit)]
    differs = tuple(f.name for f in fields if len({v[f.name] for v in values if v is not None}) > 1
                    and not all(empty(v[f.name]) for v in values if v is not None))
    if len(present) < len(unit):
        status = "only"
    elif len({(s["start"], s["end"]) for s in present}) > 1:
        status = "offsets"
    else:
        status = "label" if "label" in differs else "attributes" if differs else "same"
    versions = tuple(Version(set_name, local(span["id"]), span["start"], span["end"], span.get("text") if with_text else None,
                             {name: _shown(name, value) for name, value in (values[i] or {}).items()})
                     if span is not None else Version(set_name, None, None, None, None, {})
                     for i, (set_name, span) in enumerate(zip(sets, unit, strict=True)))
    over = (local(gold["id"]),) if gold is not None else ()
    named = [(None, k) for k in over] + [(set_name, local(span["id"])) for set_name, span in zip(sets, unit, strict=True) if span is not None]
    decisions = tuple(sorted({n for key in named for n in decided.get(key, ())}))
    return Unit(key, layer, start, end, status, differs, versions, decisions, over)


def _shown(name: str, value: Hashable) -> str:
    """A compared value as text: a chain as its links in order, a restatement as the units it points to."""
    if empty(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == RESTATES_FIELD and isinstance(value, frozenset):
        return ", ".join(sorted(f"u{LAYER_ID_PREFIX['claims']}{v + 1}" if isinstance(v, int) else str(v) for v in value))
    if isinstance(value, frozenset):
        return ", ".join(sorted(map(str, value)))
    if name == CHAIN_FIELD:
        return " → ".join(" ".join(str(part) for part in link if part is not None) for link in value)  # type: ignore[union-attr]
    if isinstance(value, tuple):
        return (" → " if name.endswith(".kinds") else " ").join(str(part) for part in value if part is not None)
    return str(value)
