"""Label Studio: the labeling config, tasks with pre-annotations, and importing full JSON exports.

The config is generated from ``schema/``: one ``<Text>`` shown with its white space, a
``<Labels>`` control per layer, per-region ``<Choices>``/``<TextArea>`` for each layer's
attributes (shown only for that layer's regions), ``<Relations>`` for the links to
canonical entities (claimant, source, target, speaker: each points at one mention of the
entity), and document-level ``<Choices>``.

A task carries the text, the doc id and its SHA-256, and under ``chipwar`` what regions cannot
hold: the canonical-entity records, the set's decisions, and per span a digest of its content
with its provenance, so that a span that comes back unchanged keeps who made it and when.
Spans themselves are rebuilt only from the export's regions.

Import never trusts the server (it validates nothing): regions are grouped by id, every span's
text is checked against the document (a region resized after an emoji stores UTF-16 offsets;
that is repaired when unambiguous, and reported), a task whose text differs from the corpus
is refused, and the resulting files must pass every check of ``chipwar validate`` before any
is written, all at once.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..corpus import Corpus
from ..errors import EnvironmentProblem
from ..files import dumps_json, sha256_text
from ..layers import (
    DOCUMENT_LABELS,
    LAYER_ATTRIBUTES,
    LAYER_ID_PREFIX,
    LAYER_LABEL_SET,
    LAYER_SPAN_DEF,
    LAYERS,
)
from ..offsets import OffsetError, utf16_to_cp
from ..report import Problem, Report
from ..schema import Schemas, load_schemas
from ..validate import check_annotation_data

TEXT_NAME = "text"
#: Relation label -> (layer of the region it starts from, field it fills with the entity's canonical id, is a list).
RELATIONS: dict[str, tuple[str, str, bool]] = {
    "claimant": ("claims", "claimant_id", False),
    "source": ("claims", "source_ids", True),
    "target": ("bias_markers", "target_ids", True),
    "speaker": ("bias_markers", "quote_speaker_id", False),
}
#: Free-text per-region fields, per layer (``note`` is on every layer).
TEXT_ATTRIBUTES: dict[str, tuple[str, ...]] = {"entities": ("canonical_id",), "claims": ("attribution_cue",)}
BOOL_ATTRIBUTES: dict[str, tuple[str, ...]] = {"bias_markers": ("in_quote",)}
NOTE = "note"
DOCUMENT_NOTE = "document_note"


class LabelStudioError(EnvironmentProblem):
    """A usage problem (missing set, unreadable export); the message says what to do."""


# --------------------------------------------------------------------------- config


def label_config(schemas: Schemas) -> str:
    """The labeling config (XML) for every layer, attribute and document label in ``schemas``."""
    view = ET.Element("View")
    for field_name, def_name in DOCUMENT_LABELS.items():
        ET.SubElement(view, "Header", value=field_name.replace("_", " "))
        _choices(view, field_name, schemas.label_names(def_name), per_region=False)
    ET.SubElement(view, "TextArea", name=DOCUMENT_NOTE, toName=TEXT_NAME, placeholder="document note", maxSubmissions="1",
                  editable="true")
    for layer in LAYERS:
        labels = ET.SubElement(view, "Labels", name=layer, toName=TEXT_NAME, choice="single")
        for label in schemas.label_names(LAYER_LABEL_SET[layer]):
            ET.SubElement(labels, "Label", value=label)
    text_view = ET.SubElement(view, "View", style="white-space: pre-wrap")
    ET.SubElement(text_view, "Text", name=TEXT_NAME, value="$text")
    relations = ET.SubElement(view, "Relations")
    for name in RELATIONS:
        ET.SubElement(relations, "Relation", value=name)
    for layer in LAYERS:  # each layer's attributes in a view shown only while a region of that layer is selected
        group = ET.SubElement(view, "View", visibleWhen="region-selected", whenTagName=layer)
        for attr, def_name in LAYER_ATTRIBUTES[layer].items():
            ET.SubElement(group, "Header", value=attr, size="6")
            _choices(group, attr, schemas.label_names(def_name), per_region=True, layer=layer)
        for attr in BOOL_ATTRIBUTES.get(layer, ()):
            ET.SubElement(group, "Header", value=attr, size="6")
            _choices(group, attr, ["true", "false"], per_region=True, layer=layer)
        for attr in TEXT_ATTRIBUTES.get(layer, ()):
            ET.SubElement(group, "Header", value=attr, size="6")
            ET.SubElement(group, "TextArea", name=attr, toName=TEXT_NAME, perRegion="true", maxSubmissions="1",
                          editable="true", placeholder=attr)
    ET.SubElement(view, "TextArea", name=NOTE, toName=TEXT_NAME, perRegion="true", visibleWhen="region-selected",
                  maxSubmissions="1", editable="true", placeholder="note on this region")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def _choices(parent: ET.Element, name: str, values: list[str], *, per_region: bool, layer: str | None = None) -> None:
    attrs = {"name": name, "toName": TEXT_NAME, "choice": "single", "showInline": "true"}
    if per_region:
        attrs.update(perRegion="true", visibleWhen="region-selected", whenTagName=layer or "")
    node = ET.SubElement(parent, "Choices", **attrs)
    for value in values:
        ET.SubElement(node, "Choice", value=value)


# --------------------------------------------------------------------------- tasks


def span_digest(span: dict[str, Any]) -> str:
    """What a region can carry of a span (all but provenance), hashed: equal digests, unchanged span."""
    content = {k: v for k, v in span.items() if k != "provenance"}
    return hashlib.sha256(dumps_json(dict(sorted(content.items())))).hexdigest()[:16]


def build_tasks(corpus: Corpus, set_name: str | None) -> list[dict[str, Any]]:
    """One task per document; with ``set_name``, that set's annotations as predictions, ids kept."""
    if set_name is not None and not (corpus.annotations_dir / set_name).is_dir():
        raise LabelStudioError(f"annotations/{set_name}/: no such annotation set (sets: {', '.join(corpus.set_names()) or 'none'})")
    tasks = []
    for doc_id in corpus.doc_ids():
        text = corpus.read_text(doc_id)
        data: dict[str, Any] = {"text": text, "doc_id": doc_id, "text_sha256": sha256_text(text), "chipwar": None}
        task: dict[str, Any] = {"data": data}
        if set_name is not None and corpus.annotation_path(set_name, doc_id).is_file():
            ann = corpus.read_annotations(set_name, doc_id)
            data["chipwar"] = {
                "set": set_name,
                "canonical_entities": ann["canonical_entities"],
                "decisions": ann["decisions"],
                "document_labels": {"provenance": (ann["document_labels"] or {}).get("provenance"),
                                    "digest": span_digest(ann["document_labels"] or {})},
                "spans": {s["id"]: {"digest": span_digest(s), "provenance": s["provenance"]} for layer in LAYERS for s in ann[layer]},
            }
            task["predictions"] = [{"model_version": f"chipwar:{set_name}", "result": to_results(ann)}]
        tasks.append(task)
    return tasks


def to_results(ann: dict[str, Any]) -> list[dict[str, Any]]:
    """An annotation file as Label Studio result items (region ids = our ids)."""
    results: list[dict[str, Any]] = []
    mentions: dict[str, list[dict]] = {}
    for ent in ann["entities"]:
        mentions.setdefault(ent["canonical_id"], []).append(ent)
    for layer in LAYERS:
        for span in ann[layer]:
            where = {"start": span["start"], "end": span["end"], "text": span["text"]}
            item = {"id": span["id"], "to_name": TEXT_NAME}
            results.append({**item, "from_name": layer, "type": "labels", "value": {**where, "labels": [span["label"]]}})
            for attr in LAYER_ATTRIBUTES[layer]:
                if span[attr] is not None:
                    results.append({**item, "from_name": attr, "type": "choices", "value": {**where, "choices": [span[attr]]}})
            for attr in BOOL_ATTRIBUTES.get(layer, ()):
                results.append({**item, "from_name": attr, "type": "choices",
                                "value": {**where, "choices": ["true" if span[attr] else "false"]}})
            for attr in (*TEXT_ATTRIBUTES.get(layer, ()), NOTE):
                if span[attr] is not None:
                    results.append({**item, "from_name": attr, "type": "textarea",
                                    "value": {"start": span["start"], "end": span["end"], "text": [span[attr]]}})
    for layer in ("claims", "bias_markers"):
        for span in ann[layer]:
            for rel, (rel_layer, attr, is_list) in RELATIONS.items():
                if rel_layer != layer:
                    continue
                for cid in (span[attr] or []) if is_list else ([span[attr]] if span[attr] else []):
                    if cid not in mentions:
                        raise LabelStudioError(f"{ann['doc_id']}: {span['id']} {attr} refers to {cid!r}, which has no mention "
                                               "in the document; a Label Studio relation needs a mention to point at")
                    target = min(mentions[cid], key=lambda e: abs(e["start"] - span["start"]))
                    results.append({"from_id": span["id"], "to_id": target["id"], "type": "relation",
                                    "direction": "right", "labels": [rel]})
    labels = ann.get("document_labels")
    if labels:
        for name in DOCUMENT_LABELS:
            results.append({"id": f"document-{name}", "from_name": name, "to_name": TEXT_NAME, "type": "choices",
                            "value": {"choices": [labels[name]]}})
        if labels.get("note"):
            results.append({"id": "document-note", "from_name": DOCUMENT_NOTE, "to_name": TEXT_NAME, "type": "textarea",
                            "value": {"text": [labels["note"]]}})
    return results


# --------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    """What an import would write (path -> file content), what it repaired, and every problem found."""

    files: dict[Path, dict[str, Any]] = field(default_factory=dict)
    unchanged: list[Path] = field(default_factory=list)
    conflicts: list[Path] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    report: Report = field(default_factory=Report)


def plan_import(corpus: Corpus, export: Any, annotator: str, *, source: str, user: str | None = None,
                kind: str = "person") -> ImportResult:
    """Turn a full Label Studio JSON export into annotation files for ``annotations/<annotator>/``, validated, unwritten."""
    if not isinstance(export, list):
        raise LabelStudioError(f"{source}: not a Label Studio JSON export (expected a list of tasks); "
                               "export the project as JSON (not JSON_MIN, which drops relations)")
    schemas = load_schemas(corpus.schema_dir)
    result = ImportResult()
    doc_ids = set(corpus.doc_ids())
    seen_docs: set[str] = set()
    for n, task in enumerate(export):
        data = task.get("data", {}) if isinstance(task, dict) else {}
        doc_id = data.get("doc_id")
        where = f"{source} task {task.get('id', n) if isinstance(task, dict) else n}"
        if isinstance(task, dict) and "data" not in task and "doc_id" in task:
            raise LabelStudioError(f"{source}: this is a JSON_MIN export, which drops relations and per-region attributes; "
                                   "export the project as JSON (or use `chipwar labelstudio pull`)")
        if not isinstance(doc_id, str) or "annotations" not in task:
            result.report.add(Problem("not_a_chipwar_task", "task has no doc_id or no annotations list", where,
                                      hint="import a full JSON export of a project made with `chipwar labelstudio push`"))
            continue
        rel = f"annotations/{annotator}/{doc_id}.json"
        if doc_id not in doc_ids:
            result.report.add(Problem("missing_document", f"task refers to document {doc_id!r}, which is not in corpus/", rel, doc_id,
                                      hint="intake the document first, or import into the right corpus"))
            continue
        text = corpus.read_text(doc_id)
        sha = sha256_text(text)
        if data.get("text_sha256") != sha or data.get("text") != text:
            result.report.add(Problem("task_text_changed", "the task's text is not the document's text in corpus/", rel, doc_id,
                                      pointer="/data/text", expected=f"text with SHA-256 {sha}",
                                      found=f"text with SHA-256 {sha256_text(str(data.get('text')))}",
                                      hint="the task was edited or made for another version of the text; re-push the document"))
            continue
        if doc_id in seen_docs:
            result.report.add(Problem("duplicate_task", "two tasks for the same document", rel, doc_id,
                                      hint="delete the duplicate task in Label Studio"))
            continue
        seen_docs.add(doc_id)
        chosen = _choose_annotation(task, user, rel, doc_id, result.report)
        if chosen is None:
            continue
        ann = _annotation_file(schemas, doc_id, text, sha, data.get("chipwar") or {}, chosen, annotator, kind, source, rel, result)
        check_annotation_data(schemas, ann, rel, doc_id, text, sha, result.report)
        path = corpus.annotation_path(annotator, doc_id)
        if path.is_file():
            if path.read_bytes() == dumps_json(ann):
                result.unchanged.append(path)
                continue
            result.conflicts.append(path)
        result.files[path] = ann
    return result


def _choose_annotation(task: dict, user: str | None, rel: str, doc_id: str, report: Report) -> dict | None:
    anns = [a for a in task["annotations"] if not a.get("was_cancelled")]
    if user is not None:
        anns = [a for a in anns if user in (_user_key(a), str(_user_id(a)))]
    if not anns:
        return None
    users = {_user_key(a) for a in anns}
    if len(users) > 1:
        report.add(Problem("several_annotators", f"task has annotations by several users: {', '.join(sorted(users))}", rel, doc_id,
                           hint="pass --user EMAIL to import one annotator's work"))
        return None
    return max(anns, key=lambda a: (a.get("updated_at") or "", a.get("id") or 0))


def _user_id(ann: dict) -> Any:
    who = ann.get("completed_by")
    return who.get("id") if isinstance(who, dict) else who


def _user_key(ann: dict) -> str:
    who = ann.get("completed_by")
    if isinstance(who, dict):
        return who.get("email") or str(who.get("id"))
    return str(who)


def _timestamp(value: str | None) -> str:
    """Label Studio's ISO time as our RFC 3339 UTC with seconds."""
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            pass
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_LOCAL_ID = re.compile(r"^[a-z](\d+)$")


def _annotation_file(schemas: Schemas, doc_id: str, text: str, sha: str, carried: dict, chosen: dict, annotator: str,
                     kind: str, source: str, rel: str, result: ImportResult) -> dict:
    """Build one annotation file from one Label Studio annotation; problems go to ``result.report``."""
    report = result.report
    who = _user_key(chosen)
    created = _timestamp(chosen.get("updated_at") or chosen.get("created_at"))
    provenance = {"agent": annotator, "origin": "labelstudio", "created": created}
    regions: dict[str, list[dict]] = {}
    relations: list[dict] = []
    for item in chosen.get("result") or []:
        if item.get("type") == "relation":
            relations.append(item)
        elif isinstance(item.get("id"), str):
            regions.setdefault(item["id"], []).append(item)
    doc_items = {items[0]["from_name"]: items[0] for rid, items in regions.items()
                 if items[0].get("from_name") in (*DOCUMENT_LABELS, DOCUMENT_NOTE)}
    spans: dict[str, list[dict]] = {layer: [] for layer in LAYERS}
    region_spans: dict[str, tuple[str, dict]] = {}  # Label Studio region id -> (layer, our span), for relations
    next_number = {layer: 1 + max((int(m.group(1)) for s in carried.get("spans", {})
                                   if s.startswith(f"{doc_id}:{LAYER_ID_PREFIX[layer]}")
                                   and (m := _LOCAL_ID.match(s.split(":", 1)[1]))), default=0) for layer in LAYERS}
    for rid, items in regions.items():
        label_items = [i for i in items if i.get("type") == "labels" and i.get("from_name") in LAYERS]
        if not label_items:
            if not any(i.get("from_name") in (*DOCUMENT_LABELS, DOCUMENT_NOTE) for i in items):
                report.add(Problem("region_without_label", "region has attributes but no layer label", rel, doc_id, rid,
                                   hint="give the region a label, or delete it in Label Studio"))
            continue
        value = label_items[0]["value"]
        start, end = _repair(text, value, rid, rel, doc_id, result)
        if start is None:
            continue
        attrs = {i["from_name"]: i["value"] for i in items if i.get("type") in ("choices", "textarea")}
        layers = {i["from_name"] for i in label_items}
        fields = {f for layer in layers for f in schemas.annotations["$defs"][LAYER_SPAN_DEF[layer]]["properties"]}
        for stray in sorted(set(attrs) - fields):
            report.add(Problem("attribute_wrong_layer", f"{stray!r} was filled in on a {' / '.join(sorted(layers))} region, "
                               "where it does not apply", rel, doc_id, rid, found=repr(attrs[stray]),
                               hint=f"clear {stray!r} on that region in Label Studio (it belongs to another layer)"))
        for label_item in label_items:
            layer = label_item["from_name"]
            for label in label_item["value"].get("labels") or []:
                sid = rid if rid.startswith(f"{doc_id}:{LAYER_ID_PREFIX[layer]}") and rid not in region_spans else None
                if sid is None:
                    sid = f"{doc_id}:{LAYER_ID_PREFIX[layer]}{next_number[layer]}"
                    next_number[layer] += 1
                    result.notices.append(f"{rel}: Label Studio region {rid} ({layer} {label!r}) becomes {sid}")
                span = _span(schemas, layer, sid, start, end, text[start:end], label, attrs, provenance)
                spans[layer].append(span)
                region_spans.setdefault(rid, (layer, span))
    for relation in relations:
        name = (relation.get("labels") or [None])[0]
        src_layer, src = region_spans.get(relation.get("from_id"), (None, None))
        dst_layer, dst = region_spans.get(relation.get("to_id"), (None, None))
        if dst_layer != "entities":
            dst = None
        if relation.get("from_id") not in regions or relation.get("to_id") not in regions:
            report.add(Problem("dangling_relation", "relation points at a region that does not exist", rel, doc_id,
                               relation.get("from_id"), found=f"{relation.get('from_id')} -> {relation.get('to_id')}",
                               hint="delete the relation in Label Studio and draw it again"))
            continue
        if name not in RELATIONS or src is None or dst is None:
            report.add(Problem("bad_relation", "a relation must go from a claim or bias marker to an entity, labelled "
                               + " / ".join(RELATIONS), rel, doc_id, (src or {}).get("id") or relation.get("from_id"),
                               found=f"{name!r}: {relation.get('from_id')} -> {relation.get('to_id')}",
                               hint="label the relation and draw it from the claim or marker to an entity mention"))
            continue
        layer, attr, is_list = RELATIONS[name]
        if src_layer != layer:
            report.add(Problem("bad_relation", f"a {name!r} relation must start at a {layer} region", rel, doc_id, src["id"],
                               found=f"{relation.get('from_id')} -> {relation.get('to_id')}", hint="draw it from the right region"))
            continue
        if is_list:
            if dst["canonical_id"] not in src[attr]:
                src[attr].append(dst["canonical_id"])
        else:
            src[attr] = dst["canonical_id"]
    for layer in LAYERS:
        spans[layer].sort(key=lambda s: (s["start"], -s["end"], s["label"]))
    known = {e["id"]: e for e in carried.get("canonical_entities") or []}
    first_mention: dict[str, dict] = {}
    for ent in spans["entities"]:
        if ent["canonical_id"]:
            first_mention.setdefault(ent["canonical_id"], ent)
    canonical = []
    for cid, first in sorted(first_mention.items()):
        if cid not in known:
            result.notices.append(f"{rel}: new canonical entity {cid!r} (name {first['text']!r}, label {first['label']}); check its record")
        canonical.append(known.get(cid) or {"id": cid, "name": first["text"], "label": first["label"], "kb_ids": []})
    _keep_provenance(spans, carried)
    document_labels = _document_labels(doc_items, carried, provenance)
    return {
        "schema_version": schemas.version, "doc_id": doc_id, "text_sha256": sha,
        "annotator": {"name": annotator, "kind": kind,
                      "description": f"Label Studio user {who}; imported with `chipwar labelstudio import` from {source}."},
        "document_labels": document_labels, "canonical_entities": canonical, **spans,
        "decisions": carried.get("decisions") or [],
    }


def _repair(text: str, value: dict, rid: str, rel: str, doc_id: str, result: ImportResult) -> tuple[int | None, int | None]:
    """The region's code-point offsets; UTF-16 offsets (a resized region after an emoji) repaired when unambiguous."""
    start, end, surface = value.get("start"), value.get("end"), value.get("text")
    if type(start) is int and type(end) is int and 0 <= start < end <= len(text) and text[start:end] == surface:
        return start, end
    if type(start) is int and type(end) is int and isinstance(surface, str):
        try:
            s16, e16 = utf16_to_cp(text, start), utf16_to_cp(text, end)
        except OffsetError:
            s16 = e16 = None
        if s16 is not None and text[s16:e16] == surface:
            result.repaired.append(f"{rel}: region {rid} {surface!r}: UTF-16 offsets [{start}, {end}) -> code points [{s16}, {e16})")
            return s16, e16
    found = text[start:end] if type(start) is int and type(end) is int else None
    result.report.add(Problem("offset_text_mismatch", "the region's text is not the document's text at its offsets, "
                              "and no unambiguous repair exists", rel, doc_id, rid, pointer="/value",
                              expected=repr(surface), found=repr(found),
                              hint="fix the region in Label Studio (delete and draw it again), then pull again"))
    return None, None


def _span(schemas: Schemas, layer: str, sid: str, start: int, end: int, surface: str, label: str, attrs: dict[str, dict],
          provenance: dict) -> dict[str, Any]:
    """A span in file field order (the schema's), its attributes from the region's per-region items."""
    def one(name: str) -> Any:
        value = attrs.get(name, {})
        picked = value.get("choices") if "choices" in value else value.get("text")
        return picked[0] if isinstance(picked, list) and picked else None

    span: dict[str, Any] = {}
    for name in schemas.annotations["$defs"][LAYER_SPAN_DEF[layer]]["properties"]:
        if name in ("id", "start", "end", "text", "label"):
            span[name] = {"id": sid, "start": start, "end": end, "text": surface, "label": label}[name]
        elif name == "provenance":
            span[name] = dict(provenance)
        elif name in BOOL_ATTRIBUTES.get(layer, ()):
            span[name] = one(name) == "true"
        elif name.endswith("_ids"):
            span[name] = []
        else:
            span[name] = one(name)
    return span


def _keep_provenance(spans: dict[str, list[dict]], carried: dict) -> None:
    """A span that comes back exactly as it was pushed keeps its provenance."""
    before = carried.get("spans") or {}
    for layer in LAYERS:
        for span in spans[layer]:
            old = before.get(span["id"])
            if old and old["digest"] == span_digest(span):
                span["provenance"] = old["provenance"]


def _document_labels(items: dict[str, dict], carried: dict, provenance: dict) -> dict | None:
    if not any(name in items for name in DOCUMENT_LABELS):
        return None
    labels: dict[str, Any] = {}
    for name in DOCUMENT_LABELS:
        picked = items.get(name, {}).get("value", {}).get("choices") or [None]
        labels[name] = picked[0]
    note = items.get(DOCUMENT_NOTE, {}).get("value", {}).get("text") or [None]
    labels["provenance"] = dict(provenance)
    labels["note"] = note[0]
    old = carried.get("document_labels") or {}
    if old.get("provenance") and old.get("digest") == span_digest(labels):
        labels["provenance"] = old["provenance"]
    return labels


def rendered(result: ImportResult) -> dict[Path, bytes]:
    """The files an import writes, in the repository's JSON style."""
    return {path: dumps_json(data) for path, data in result.files.items()}
