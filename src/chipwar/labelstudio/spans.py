"""One annotation file from one Label Studio annotation: our spans, relations, canonical records and document labels.

A region whose id is one of ours keeps it, others get the next free id of their layer; cue
regions are parts of claims, not spans. Relations fill the reference fields, chains and
restatements of claims and markers (:mod:`.links`). A span or document label that comes
back unchanged keeps the provenance the repository records for it (:mod:`.records`); a new
or changed one is the annotator's, dated when Label Studio stored the annotation. The
annotator block records the Label Studio user; what an import cannot know (a model, a
packet given, when one was prepared or submitted) is null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..layers import DOCUMENT_LABELS, LAYER_BOOL_FIELDS, LAYER_ID_PREFIX, LAYER_SPAN_DEF, LAYERS
from ..report import short
from ..schema import Schemas
from .config import CUES, DOCUMENT_NOTE
from .export import EXPORT_HINT, TaskLocation, created, shown, user_key
from .links import Links, link_spans, order_restates
from .records import base_spans, same_record
from .regions import Item, Region, check_region, group, take_values

#: The local part of a span id a region may keep: the layer's prefix, then letters, digits, '_' or '-'.
_LOCAL_ID = re.compile(r"[A-Za-z0-9_-]+")


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
                     annotator: str, kind: str, notices: list[str], repaired: list[str]) -> Built | None:
    """Build one annotation file from one Label Studio annotation and the repository's records; problems go to the report."""
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
    spans, region_spans = _make_spans(schemas, where.doc_id or "", list(checked.values()), bases, provenance, where.rel, notices)
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
        "document_labels": _document_labels(document_values, bases, provenance, where),
        "canonical_entities": _canonical(spans["entities"], bases, where.rel, notices), **spans,
        "decisions": next((base["decisions"] for base in bases if isinstance(base.get("decisions"), list)), []),
    }, ("annotations", index), sources, document_items, links)


def _make_spans(schemas: Schemas, doc_id: str, regions: list[Region], bases: list[dict], provenance: dict, rel: str,
                notices: list[str]) -> tuple[dict[str, list[dict]], dict[str, list[tuple[str, dict]]]]:
    """Spans from checked regions, per layer; a region whose id is one of ours for its layer keeps it, others get the next free id."""
    drafts: list[tuple[Region, str, str, str | None]] = []  # (region, layer, label, id kept)
    kept: set[str] = set()
    for region in regions:
        for layer, label in region.labels:
            if layer == CUES:
                continue
            local = region.rid[len(doc_id) + 1:]
            keep = (region.rid.startswith(f"{doc_id}:") and local.startswith(LAYER_ID_PREFIX[layer]) and _LOCAL_ID.fullmatch(local)
                    and region.rid not in kept)
            if keep:
                kept.add(region.rid)
            drafts.append((region, layer, label, region.rid if keep else None))
    known = kept | {sid for base in bases for sid in base_spans(base)}
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
        elif name in LAYER_BOOL_FIELDS[layer]:
            span[name] = region.attrs.get(name) == "true"
        elif prop.get("type") == "array":  # references, chain and restatements, filled from the relations
            span[name] = []
        else:
            span[name] = region.attrs.get(name)
    return span


def _canonical(entities: list[dict], bases: list[dict], rel: str, notices: list[str]) -> list[dict]:
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
            notices.append(f"{rel}: new canonical entity {short(cid)} (name {short(first['text'])}, label {first['label']}); "
                           "check its record")
        records.append(known.get(cid) or {"id": cid, "name": first["text"], "label": first["label"], "kb_ids": []})
    return records


def _document_labels(values: dict[str, str | None], bases: list[dict], provenance: dict, where: TaskLocation) -> dict | None:
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
        if isinstance(old, dict) and "provenance" in old and same_record(old, labels):
            labels["provenance"] = old["provenance"]
            break
    return labels
