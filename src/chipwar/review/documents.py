"""The view of one document in one annotation set: what its page shows, as plain values.

Everything a reviewer reads without opening a JSON file: every span of every layer as a
card (every attribute with its definition, the label's SemEval/PTC/OntoNotes mapping from
``schema/``, the canonical entity, provenance, note, the adjudication decisions naming it),
claims' attribution chains with their cues, restatements, document labels, metadata,
rights and whether the files pass ``chipwar validate``'s checks. The text is cut into
segments (:mod:`.lanes`); nothing here writes HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers import (
    CHAIN_FIELD,
    CHAIN_KIND_DEF,
    DOCUMENT_LABELS,
    LAYER_ATTRIBUTES,
    LAYER_BOOL_FIELDS,
    LAYER_LABEL_SET,
    LAYERS,
    REFERENCE_FIELDS,
    REFERENCE_ROLES,
    RESTATES_FIELD,
)
from ..schema import Label, Schemas
from .lanes import Mark, Segment, assign_lanes, segments

#: Layers drawn as underlines (zones tint the text instead).
UNDERLINED = ("entities", "claims", "bias_markers")
#: Underlines deeper than this share the last lane (the stylesheet draws eight).
MAX_LANE = 7
#: Zones that are page furniture, not article content: shown dimmed.
FURNITURE = ("boilerplate", "related_link")
#: Readable names of the schema's mapping columns (``x-`` keys of a label).
MAPPINGS = {"x-semeval2023": "SemEval-2023 Task 3", "x-semeval2020": "SemEval-2020 Task 11 (PTC)",
            "x-ontonotes": "OntoNotes 5", "x-unmapped-reason": "why unmapped"}


@dataclass(frozen=True)
class Legend:
    """Every label set of ``schema/`` a page explains, looked up by name (built once per site)."""

    layers: dict[str, list[Label]]
    values: dict[str, dict[str, Label]]
    by_layer: dict[str, dict[str, Label]]
    #: Value set -> the fields that take it (``claims.claimant_type``), so the labels page says where each set is used.
    used_by: dict[str, list[str]]

    def label(self, layer: str, name: str) -> Label | None:
        return self.by_layer[layer].get(name)

    def value(self, def_name: str, name: Any) -> Label | None:
        return self.values.get(def_name, {}).get(name) if isinstance(name, str) else None


def legend(schemas: Schemas) -> Legend:
    names = {*LAYER_LABEL_SET.values(), *DOCUMENT_LABELS.values(), CHAIN_KIND_DEF,
             *(d for attrs in LAYER_ATTRIBUTES.values() for d in attrs.values())}
    values = {name: {label.name: label for label in schemas.label_set(name)} for name in sorted(names) if schemas.is_label_set(name)}
    layers = {layer: schemas.label_set(LAYER_LABEL_SET[layer]) for layer in LAYERS}
    used_by: dict[str, list[str]] = {}
    for layer, attrs in LAYER_ATTRIBUTES.items():
        for attr, def_name in attrs.items():
            used_by.setdefault(def_name, []).append(f"{layer}.{attr}")
    for name, def_name in DOCUMENT_LABELS.items():
        used_by.setdefault(def_name, []).append(f"document_labels.{name}")
    used_by.setdefault(CHAIN_KIND_DEF, []).append(f"claims.{CHAIN_FIELD}[].kind")
    return Legend(layers, values, {layer: {label.name: label for label in labels} for layer, labels in layers.items()}, used_by)


def value_href(def_name: str, value: Any, root: str) -> str:
    """Where a value of a closed set is defined: its row on the labels page."""
    return f"{root}labels.html#{def_name}-{value}"


@dataclass(slots=True)
class Row:
    """One line of a card or of the document labels: a field, its value as shown, what the value means
    (document labels) or where it links (a span's attribute value: its definition on the labels page)."""

    name: str
    value: str
    definition: str = ""
    href: str = ""
    card: str = ""  # the anchor of another card on the same page


@dataclass(slots=True)
class ChainLink:
    """One source of a claim's attribution chain, original source first."""

    kind: str
    definition: str
    entity: str | None
    cue: str | None  # the cue's mark key, when the text names the source
    cue_text: str | None
    cue_start: int | None
    cue_end: int | None


@dataclass(slots=True)
class Card:
    """Everything about one span."""

    key: str
    layer: str
    label: str
    definition: str
    mappings: list[tuple[str, str]]
    start: int
    end: int
    text: str | None  # None without texts, and for a zone (its text is the article itself, shown beside)
    rows: list[Row]
    provenance: str
    note: str | None
    decisions: list[int] = field(default_factory=list)
    chain: list[ChainLink] = field(default_factory=list)


@dataclass
class DocumentView:
    """One document's page in one set."""

    doc_id: str
    set_name: str
    meta: dict[str, Any]
    title: str
    problem: str | None  # why the files do not pass validation's checks; None when they do
    with_text: bool
    labels: list[Row] = field(default_factory=list)
    labels_note: str | None = None
    annotator: dict[str, Any] = field(default_factory=dict)
    cards: dict[str, list[Card]] = field(default_factory=lambda: {layer: [] for layer in LAYERS})
    segments: list[Segment] = field(default_factory=list)
    decisions: list[tuple[int, list[tuple[str, str | None]], str]] = field(default_factory=list)  # number, (shown, anchor) per id, text
    entities: list[dict[str, Any]] = field(default_factory=list)
    annotated: bool = False

    def count(self, layer: str) -> int:
        return len(self.cards.get(layer, ()))

    def labels_used(self, layer: str) -> list[tuple[str, str, int]]:
        """(label, definition, spans) for each label of ``layer`` this document uses, in schema order."""
        used: dict[str, list] = {}
        for card in self.cards[layer]:
            entry = used.setdefault(card.label, [card.definition, 0])
            entry[1] += 1
        return [(name, definition, n) for name, (definition, n) in used.items()]


def decision_reference(annotation_id: str) -> tuple[str | None, str]:
    """(set, span id) of an id a decision names: ``SET/ID`` is a span of another set (a blind pass's span that the
    adjudication dropped), a bare id one of the adjudicated file's own (set None)."""
    set_name, slash, span_id = annotation_id.partition("/")
    return (set_name, span_id) if slash else (None, annotation_id)


def _named(annotation_id: str) -> tuple[str, str | None]:
    """What a decision's id shows, and the anchor of the span on this page: none for another set's span (``SET/ID``,
    a blind pass's span the adjudication dropped), which is not on it."""
    set_name, span_id = decision_reference(annotation_id)
    return (f"{set_name} {local(span_id)}", None) if set_name else (local(span_id), local(span_id))


def local(annotation_id: str) -> str:
    """The anchor of an annotation on its document's page: the part after ``<doc_id>:``."""
    return annotation_id.rpartition(":")[2]


def entity_href(entity_id: str, root: str) -> str:
    return f"{root}entity/{entity_id}.html"


def title_of(meta: dict[str, Any] | None, doc_id: str) -> str:
    title = (meta or {}).get("title")
    text = title.get("text") if isinstance(title, dict) else None
    return text if isinstance(text, str) and text else doc_id


def document_view(doc_id: str, set_name: str, meta: Any, text: str | None, data: dict[str, Any] | None, problem: str | None,
                  legend: Legend, *, with_text: bool, root: str = "../") -> DocumentView:
    """The page of ``doc_id`` in ``set_name`` from files that passed the checks (``data`` is
    ``None`` when the set has no file, or one that does not pass: ``problem`` says why)."""
    meta = meta if isinstance(meta, dict) else {}
    view = DocumentView(doc_id, set_name, meta, title_of(meta, doc_id), problem, with_text)
    if data is None:
        if text is not None and with_text:
            view.segments = segments(text, [])
        return view
    view.annotated = True
    view.annotator = data.get("annotator") or {}
    doc_labels = data.get("document_labels")
    if isinstance(doc_labels, dict):
        view.labels = [Row(name, str(doc_labels.get(name)), _meaning(legend.value(def_name, doc_labels.get(name))))
                       for name, def_name in DOCUMENT_LABELS.items()]
        view.labels_note = doc_labels.get("note")
    view.decisions = [(i, [_named(a) for a in d.get("annotation_ids") or ()], d.get("decision", ""))
                      for i, d in enumerate(data.get("decisions") or (), start=1)]
    decided: dict[str, list[int]] = {}
    for number, named, _ in view.decisions:
        for _, key in named:
            if key is not None:
                decided.setdefault(key, []).append(number)
    view.entities = list(data.get("canonical_entities") or ())
    marks: list[Mark] = []
    for layer in LAYERS:
        spans = data.get(layer) or []
        view.cards[layer] = [_card(layer, span, legend, decided, with_text, root) for span in spans]
        marks += [Mark(local(s["id"]), layer, s["label"], s["start"], s["end"]) for s in spans]
    for claim in view.cards["claims"]:
        marks += [Mark(link.cue, "cue", "", link.cue_start, link.cue_end) for link in claim.chain
                  if link.cue and link.cue_start is not None and link.cue_end is not None]
    if with_text and text is not None:
        lanes = assign_lanes((m.key, m.start, m.end) for m in marks if m.kind in UNDERLINED)
        marks = [Mark(m.key, m.kind, m.label, m.start, m.end, min(lanes[m.key], MAX_LANE)) if m.kind in UNDERLINED else m for m in marks]
        view.segments = segments(text, marks)
    return view


def _meaning(label: Label | None) -> str:
    return label.definition if label else ""


def _card(layer: str, span: dict[str, Any], legend: Legend, decided: dict[str, list[int]], with_text: bool, root: str) -> Card:
    key = local(span["id"])
    label = legend.label(layer, span["label"])
    rows = [Row(name, _shown(span.get(name)), href=value_href(def_name, span[name], root) if span.get(name) is not None else "")
            for name, def_name in LAYER_ATTRIBUTES[layer].items()]  # each value links to its definition
    rows += [Row(name, _shown(span.get(name))) for name in LAYER_BOOL_FIELDS[layer]]
    for name, is_list in REFERENCE_FIELDS[layer].items():
        refs = (span.get(name) or []) if is_list else [span.get(name)]
        role = REFERENCE_ROLES.get(name, "canonical entity")
        rows += [Row(f"{name} ({role})", ref, href=entity_href(ref, root)) for ref in refs if ref] or [Row(f"{name} ({role})", "—")]
    rows += [Row(RESTATES_FIELD, local(other), card=local(other)) for other in span.get(RESTATES_FIELD) or ()]
    chain = [_link(key, i, link, legend, with_text) for i, link in enumerate(span.get(CHAIN_FIELD) or ())]
    prov = span.get("provenance") or {}
    provenance = ", ".join(f"{k} {v}" for k, v in prov.items() if v is not None) if isinstance(prov, dict) else str(prov)
    return Card(key, layer, span["label"], _meaning(label), [(MAPPINGS.get(k, k), _shown(v)) for k, v in (label.extra if label else {}).items()],
                span["start"], span["end"], span.get("text") if with_text and layer != "zones" else None, rows, provenance, span.get("note"),
                decided.get(key, []), chain)


def _link(claim: str, index: int, link: dict[str, Any], legend: Legend, with_text: bool) -> ChainLink:
    cue = link.get("cue")
    kind = legend.value(CHAIN_KIND_DEF, link.get("kind"))
    return ChainLink(str(link.get("kind")), _meaning(kind), link.get("entity_id"), f"{claim}-cue{index}" if cue else None,
                     cue.get("text") if cue and with_text else None, cue["start"] if cue else None, cue["end"] if cue else None)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
