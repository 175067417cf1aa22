"""One annotation file from one Label Studio annotation: our spans, relations, canonical records and document labels.

A region's span id is made from its Label Studio id (:func:`span_id`), so it is stable across
pulls and never reused; cue regions are parts of claims, not spans. A mention's canonical_id
is picked from the repository's canonical entities, or typed as a new one in its own field
(:mod:`.entities`). Relations fill the
reference fields, chains and restatements of claims and markers (:mod:`.links`). A span or document label that comes
back unchanged keeps the provenance the repository records for it (:mod:`.records`); a new
or changed one is the annotator's, dated when Label Studio stored the annotation. The
annotator block records the Label Studio user; what an import cannot know (a model, a
packet given, when one was prepared or submitted) is null.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ..layers import DOCUMENT_LABELS, LAYER_BOOL_FIELDS, LAYER_ID_PREFIX, LAYER_SPAN_DEF, LAYERS
from ..report import short
from ..schema import Schemas
from .config import CANONICAL, CUES, DOCUMENT_NOTE, NEW_CANONICAL
from .export import EXPORT_HINT, TaskLocation, created, shown, user_key
from .links import Links, link_spans, order_restates
from .records import base_spans, same_record
from .regions import Item, Region, check_region, group, take_values


@dataclass
class Built:
    """An annotation file made from one Label Studio annotation, and where in the export each part of it came from,
    so that a problem found in the file can be shown where the annotator can fix it."""

    data: dict[str, Any]
    #: The annotation's place in its task: ``("annotations", index)``.
    parts: tuple[str | int, ...]
    #: ``(layer, index of the span in the file)`` -> the region it was made from: its id and its result items.
    spans: dict[tuple[str, int], tuple[str, list[Item]]]
    #: The result items of the document's own choices and note.
    document: list[Item]
    #: Where each chain link and restatement was given, and which chains could not be built.
    links: Links


def build_annotation(schemas: Schemas, where: TaskLocation, chosen: tuple[int, dict], text: str, sha: str, bases: list[dict],
                     registry: dict[str, dict], annotator: str, kind: str, notices: list[str], repaired: list[str]) -> Built | None:
    """Build one annotation file from one Label Studio annotation and the repository's records (``registry``: the canonical
    entities of :func:`.entities.canonical_registry`); problems go to the report."""
    index, ann = chosen
    items = ann.get("result")
    if not isinstance(items, list):
        where.problem("not_an_annotation", "the annotation has no result list", "annotations", index, "result",
                      expected="a list", found=shown(items),
                      hint=EXPORT_HINT)
        return None
    regions, relations = group(items, where, ("annotations", index, "result"))
    document_values: dict[str, str | None] = {}
    document_items: list[Item] = []
    checked: dict[str, Region] = {}
    for rid, region_items in regions.items():
        if all(not item.control.layers for item in region_items):
            take_values(region_items, document_values, where, rid)
            document_items += region_items
        elif any(not item.control.layers for item in region_items):
            where.problem("bad_region", "the region mixes document-level and span controls", *region_items[0].parts, region=rid,
                          hint="delete the region in Label Studio and draw it again")
        elif (region := check_region(rid, region_items, text, where, repaired)) is not None:
            checked[rid] = region
    provenance = {"agent": annotator, "origin": "labelstudio", "created": created(ann, where, notices)}
    spans, region_spans = _make_spans(schemas, where.doc_id or "", list(checked.values()), provenance, where.rel, notices)
    records = {**registry, **{r["id"]: r for base in reversed(bases) for r in _records(base)}}
    _resolve_canonical_ids(region_spans, checked, regions, set(records), where, notices)
    links = link_spans(relations, regions, checked, region_spans, where)
    for layer in LAYERS:
        spans[layer].sort(key=lambda s: (s["start"], -s["end"], s["label"]))
    order_restates(spans["claims"])
    place = {id(span): (layer, i) for layer in LAYERS for i, span in enumerate(spans[layer])}
    sources = {place[id(span)]: (rid, regions[rid]) for rid, made in region_spans.items() for _, span in made}
    known = [base_spans(base) for base in bases]
    for layer in LAYERS:
        for span in spans[layer]:
            old = next((b[span["id"]] for b in known if span["id"] in b and same_record(b[span["id"]], span)), None)
            if old is not None and "provenance" in old:
                span["provenance"] = old["provenance"]
    return Built({
        "schema_version": schemas.version, "doc_id": where.doc_id, "text_sha256": sha,
        "annotator": {"name": annotator, "kind": kind,
                      "description": f"Label Studio user {user_key(ann)}; imported with `chipwar labelstudio import` from {where.source}.",
                      "model": None, "given": None, "prepared": None, "submitted": None},
        "document_labels": _document_labels(document_values, bases, provenance, where, ("annotations", index, "result")),
        "canonical_entities": _canonical(spans["entities"], records, where.rel, notices), **spans,
        "decisions": next((base["decisions"] for base in bases if isinstance(base.get("decisions"), list)), []),
    }, ("annotations", index), sources, document_items, links)


def span_id(doc_id: str, rid: str, layer: str) -> str:
    """Our id of a region's span in ``layer``: the document's prefix and the region id when that is one of the layer's
    (as :func:`.tasks.region_id` pushed it), else the layer's prefix, ``-`` and the region id. Label Studio keeps a region's
    id and never gives a deleted one again, so a span keeps its id from pull to pull and a new one is never reused."""
    local = rid.removeprefix(f"{doc_id}:")  # regions of projects pushed when region ids still held the document's id
    prefix = LAYER_ID_PREFIX[layer]
    return f"{doc_id}:{local if local.startswith(prefix) else f'{prefix}-{local}'}"


def _make_spans(schemas: Schemas, doc_id: str, regions: list[Region], provenance: dict, rel: str,
                notices: list[str]) -> tuple[dict[str, list[dict]], dict[str, list[tuple[str, dict]]]]:
    """Spans from checked regions, per layer, each with its :func:`span_id`; a new one noticed."""
    spans: dict[str, list[dict]] = {layer: [] for layer in LAYERS}
    region_spans: dict[str, list[tuple[str, dict]]] = {}
    for region in regions:
        for layer, label in region.labels:
            if layer == CUES:
                continue
            sid = span_id(doc_id, region.rid, layer)
            if sid.rpartition(":")[2] != region.rid.rpartition(":")[2]:
                notices.append(f"{rel}: Label Studio region {region.rid} ({layer} {short(label)}) becomes {sid}")
            span = _span(schemas, layer, sid, region, label, provenance)
            spans[layer].append(span)
            region_spans.setdefault(region.rid, []).append((layer, span))
    return spans, region_spans


def _span(schemas: Schemas, layer: str, sid: str, region: Region, label: str, provenance: dict) -> dict[str, Any]:
    """A span in file field order (the schema's), its attributes from the region's per-region items."""
    given = {"id": sid, "start": region.start, "end": region.end, "text": region.surface, "label": label,
             "provenance": dict(provenance)}
    span: dict[str, Any] = {}
    for name, prop in schemas.annotations["$defs"][LAYER_SPAN_DEF[layer]]["properties"].items():
        if name in given:
            span[name] = given[name]
        elif name in LAYER_BOOL_FIELDS[layer]:  # unset stays null: the file's check then asks for it, never a default
            span[name] = {"true": True, "false": False}.get(region.attrs.get(name) or "")
        elif prop.get("type") == "array":  # references, chain and restatements, filled from the relations
            span[name] = []
        else:
            span[name] = region.attrs.get(name)
    return span


def _records(base: dict) -> list[dict]:
    """A repository file's canonical-entity records that have an id."""
    records = base.get("canonical_entities")
    return [r for r in records if isinstance(r, dict) and isinstance(r.get("id"), str)] if isinstance(records, list) else []


def _resolve_canonical_ids(region_spans: dict[str, list[tuple[str, dict]]], checked: dict[str, Region],
                           regions: dict[str, list[Item]], known: set[str], where: TaskLocation, notices: list[str]) -> None:
    """Each mention's canonical entity: the id typed as a new entity when there is one (typed on purpose, it replaces the
    pick), else the one picked from the task's list, which must still be one of the repository's: an id the list no longer
    has is a problem naming the nearest existing ones."""
    for rid, made in region_spans.items():
        for layer, span in made:
            if layer != "entities":
                continue
            typed = (checked[rid].attrs.get(NEW_CANONICAL) or "").strip()
            if typed:
                if span[CANONICAL] not in (None, typed):
                    notices.append(f"{where.rel}: region {rid} ({short(span['text'])}): the new canonical id {short(typed)} "
                                   f"replaces the picked {short(span[CANONICAL])}")
                span[CANONICAL] = typed
                continue
            cid = span[CANONICAL]
            if cid is None or cid in known:
                continue
            nearest = difflib.get_close_matches(cid, sorted(known), n=3, cutoff=0.6)
            item = next(i for i in regions[rid] if i.control.name == CANONICAL)
            where.problem("unknown_canonical_id", f"canonical_id {short(cid)} is no existing canonical entity", *item.parts, "value",
                          "choices", region=rid, expected=f"an existing id{', e.g. ' + ', '.join(nearest) if nearest else ''}",
                          found=short(cid), hint=f"in Label Studio, select region {rid} and pick its canonical id from the list"
                          f"{' (nearest: ' + ', '.join(nearest) + ')' if nearest else ''}, or type {cid} under 'New canonical "
                          "entity' to create it; press Update, then pull again")


def _canonical(entities: list[dict], records: dict[str, dict], rel: str, notices: list[str]) -> list[dict]:
    """A record per canonical id the mentions use: the repository's, else a new one from its first mention (noticed)."""
    first_mention: dict[str, dict] = {}
    for ent in entities:
        if ent[CANONICAL] is not None:
            first_mention.setdefault(ent[CANONICAL], ent)
    made = []
    for cid, first in sorted(first_mention.items()):
        if cid not in records:
            notices.append(f"{rel}: new canonical entity {short(cid)} (name {short(first['text'])}, label {first['label']}); "
                           "check its record")
        made.append(records.get(cid) or {"id": cid, "name": first["text"], "label": first["label"], "kb_ids": []})
    return made


def _document_labels(values: dict[str, str | None], bases: list[dict], provenance: dict, where: TaskLocation,
                     parts: tuple[str | int, ...]) -> dict | None:
    """The document's labels from its choices, all or none of them; the repository's provenance when they come back unchanged."""
    task = f"task {where.task_id}" if where.task_id is not None else "the task"
    unset = [name for name in DOCUMENT_LABELS if values.get(name) is None]
    if len(unset) == len(DOCUMENT_LABELS):
        if values.get(DOCUMENT_NOTE):
            where.problem("document_note_without_labels", "the document note is kept only with the document's labels", *parts,
                          hint=f"in Label Studio, open {task} and choose its " + ", ".join(DOCUMENT_LABELS) + ", or clear the "
                          "document note; press Update, then pull again")
        return None
    if unset:
        where.problem("attribute_unset", f"the document's {', '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set; "
                      "its labels are chosen all or none", *parts,
                      expected=", ".join(DOCUMENT_LABELS), found="not set: " + ", ".join(unset),
                      hint=f"in Label Studio, open {task}, choose its {' and '.join(unset)} in the Document choices, press Update, "
                           "then pull again")
        return None
    labels: dict[str, Any] = {name: values.get(name) for name in DOCUMENT_LABELS}
    labels["provenance"] = dict(provenance)
    labels["note"] = values.get(DOCUMENT_NOTE)
    for base in bases:
        old = base.get("document_labels")
        if isinstance(old, dict) and "provenance" in old and same_record(old, labels):
            labels["provenance"] = old["provenance"]
            break
    return labels
