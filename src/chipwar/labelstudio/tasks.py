"""Tasks: one per document, with an annotation set's spans as predictions (Label Studio result items, our ids).

A task's ``data`` holds the text, the doc id and the text's SHA-256, the document's title
and publisher (what the task list shows; null when the metadata has none), the repository's
canonical entities to pick a mention's from (:mod:`.entities`), and under ``chipwar``
only which set its predictions came from and the SHA-256 of that set's file as it was
then. Everything else the repository knows about a span (its provenance, the set's
decisions, the canonical-entity records) stays in the repository: the importer reads it
from there, after checking that file still has that digest, and never from a task.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..corpus import Corpus
from ..errors import DataError
from ..files import dumps_json, read_json, sha256_text
from ..ids import check_set_name
from ..layers import CHAIN_FIELD, DOCUMENT_LABELS, LAYER_ATTRIBUTES, LAYER_BOOL_FIELDS, LAYERS, RESTATES_FIELD
from ..report import Report
from ..schema import load_schemas
from ..validation.annotations import check_annotation_data
from . import LabelStudioError
from .config import (
    CANONICAL,
    CANONICAL_OPTIONS,
    CUE_KIND,
    CUE_LABEL,
    CUES,
    DOCUMENT_NOTE,
    IS,
    MAX_CHAIN,
    NOTE,
    RELATIONS,
    RESTATES,
    SOURCE_LABELS,
    TEXT_NAME,
    UNCUED_KINDS,
)
from .entities import canonical_options, canonical_registry

#: The key of a task's ``data`` that says which set (and which version of its file) the predictions came from.
TASK_KEY = "chipwar"
#: The keys of a task's ``data`` that the task list shows.
LIST_TITLE, LIST_PUBLISHER = "title", "publisher"


def span_digest(span: dict[str, Any]) -> str:
    """What a region can carry of a span (all but provenance), hashed: equal digests, unchanged span."""
    content = {k: v for k, v in span.items() if k != "provenance"}
    return hashlib.sha256(dumps_json(dict(sorted(content.items())))).hexdigest()[:16]


def read_document_text(corpus: Corpus, doc_id: str) -> str | None:
    """A document's text, or None when it has no readable UTF-8 text file."""
    try:
        return corpus.read_text(doc_id)
    except (OSError, UnicodeDecodeError):
        return None


def build_tasks(corpus: Corpus, set_name: str | None) -> list[dict[str, Any]]:
    """One task per document; with ``set_name``, that set's annotations as predictions, ids kept.

    The set's files must pass every check of ``chipwar validate``: a task made from a broken
    file would come back broken.
    """
    if set_name is not None:
        check_set_name(set_name)
        if not (corpus.annotations_dir / set_name).is_dir():
            raise LabelStudioError(f"annotations/{set_name}/: no such annotation set (sets: {', '.join(corpus.set_names()) or 'none'})",
                                   hint="pass --set with one of the sets, or --set '' for tasks without predictions")
    schemas = load_schemas(corpus.schema_dir) if set_name is not None else None
    options = canonical_options(canonical_registry(corpus))
    tasks = []
    for doc_id in corpus.doc_ids():
        text = read_document_text(corpus, doc_id)
        if text is None:
            raise DataError(f"corpus/{doc_id}.txt: missing or not UTF-8", hint="run `chipwar validate` and fix the corpus first")
        data: dict[str, Any] = {"text": text, "doc_id": doc_id, "text_sha256": sha256_text(text),
                                **list_fields(corpus, doc_id), CANONICAL_OPTIONS: options,
                                TASK_KEY: None}
        task: dict[str, Any] = {"data": data}
        path = corpus.annotation_path(set_name, doc_id) if set_name is not None else None
        if schemas is not None and path is not None and path.is_file():
            raw = path.read_bytes()
            rel = corpus.rel(path)
            report = Report()
            try:
                ann = read_json(path)
            except ValueError as exc:
                raise DataError(f"{rel}: not valid JSON ({exc})", hint="run `chipwar validate` and fix the file first") from None
            check_annotation_data(schemas, ann, rel, doc_id, text, data["text_sha256"], report)
            if report.errors:
                first = report.errors[0]
                raise DataError(f"{rel}: {len(report.errors)} problem(s), first [{first.code}] {first.message}",
                                hint=f"run `chipwar validate {corpus.rel(path.parent)}` and fix them before making tasks")
            data[TASK_KEY] = {"set": set_name, "annotations_sha256": hashlib.sha256(raw).hexdigest()}
            task["predictions"] = [{"model_version": f"chipwar:{set_name}", "result": to_results(ann)}]
        tasks.append(task)
    return tasks


def list_fields(corpus: Corpus, doc_id: str) -> dict[str, str | None]:
    """The document's title and publisher from its metadata, for the task list; a missing one stays null."""
    try:
        meta = corpus.read_metadata(doc_id)
    except (OSError, ValueError):
        raise DataError(f"corpus/{doc_id}.json: missing or not valid JSON",
                        hint="run `chipwar validate` and fix the corpus first") from None
    if not isinstance(meta, dict):
        raise DataError(f"corpus/{doc_id}.json: not a metadata object (found {type(meta).__name__})",
                        hint="run `chipwar validate` and fix the corpus first")
    title, publisher = meta.get("title"), meta.get("publisher")
    text = title.get("text") if isinstance(title, dict) else None
    return {LIST_TITLE: text if isinstance(text, str) else None, LIST_PUBLISHER: publisher if isinstance(publisher, str) else None}


def region_id(span_id: str) -> str:
    """The Label Studio region id of a span: its id without the document's prefix (``e6`` for ``reg-2023-qiming:e6``).

    Label Studio puts region ids into CSS class names, where a colon voids the rule that colours
    the region; the local part is a valid identifier, and the task names the document."""
    return span_id.rpartition(":")[2]


def to_results(ann: dict[str, Any]) -> list[dict[str, Any]]:
    """An annotation file as Label Studio result items (region ids: :func:`region_id`; cue regions ``cueN``).

    Relations as :mod:`.config` draws them, one per pair of regions carrying every label of that pair.
    """
    results: list[dict[str, Any]] = []
    for layer in LAYERS:
        for span in ann[layer]:
            results += _region(span, layer, span["label"])
            for attr in LAYER_ATTRIBUTES[layer]:
                if span[attr] is not None:
                    results.append(_value(span, attr, "choices", [span[attr]]))
            for attr in LAYER_BOOL_FIELDS[layer]:
                results.append(_value(span, attr, "choices", ["true" if span[attr] else "false"]))
            if layer == "entities":
                results.append(_value(span, CANONICAL, "choices", [span[CANONICAL]]))
            if span[NOTE] is not None:
                results.append(_value(span, NOTE, "textarea", [span[NOTE]]))
    pairs = _Pairs(ann)
    for layer in LAYERS:
        for span in ann[layer]:
            for rel, (rel_layer, attr, is_list) in RELATIONS.items():
                if rel_layer == layer:
                    for cid in (span[attr] or []) if is_list else ([span[attr]] if span[attr] else []):
                        pairs.to_mention(span, cid, rel, attr)
    results += _chains(ann, pairs)
    results += pairs.relations()
    labels = ann.get("document_labels")
    if labels:
        for name in DOCUMENT_LABELS:
            results.append({"id": f"document-{name}", "from_name": name, "to_name": TEXT_NAME, "type": "choices",
                            "value": {"choices": [labels[name]]}})
        if labels.get("note"):
            results.append({"id": "document-note", "from_name": DOCUMENT_NOTE, "to_name": TEXT_NAME, "type": "textarea",
                            "value": {"text": [labels["note"]]}})
    return results


def _region(span: dict[str, Any], control: str, label: str) -> list[dict[str, Any]]:
    """The labels item of a region (a span, or a cue with its own id)."""
    return [{"id": region_id(span["id"]), "to_name": TEXT_NAME, "from_name": control, "type": "labels",
             "value": {"start": span["start"], "end": span["end"], "text": span["text"], "labels": [label]}}]


def _value(span: dict[str, Any], control: str, kind: str, values: list[str]) -> dict[str, Any]:
    """A per-region choices or textarea item."""
    where = {"start": span["start"], "end": span["end"]}
    value = {**where, "text": span["text"], "choices": values} if kind == "choices" else {**where, "text": values}
    return {"id": region_id(span["id"]), "to_name": TEXT_NAME, "from_name": control, "type": kind, "value": value}


class _Pairs:
    """Relations by (from region, to region), each with its labels in order: Label Studio keeps one per pair."""

    def __init__(self, ann: dict[str, Any]) -> None:
        self.doc_id = ann["doc_id"]
        self.mentions: dict[str, list[dict]] = {}
        for ent in ann["entities"]:
            self.mentions.setdefault(ent["canonical_id"], []).append(ent)
        self.labels: dict[tuple[str, str], list[str]] = {}

    def add(self, from_id: str, to_id: str, label: str) -> None:
        labels = self.labels.setdefault((region_id(from_id), region_id(to_id)), [])
        if label not in labels:
            labels.append(label)

    def to_mention(self, span: dict[str, Any], cid: str, label: str, what: str) -> None:
        """A relation from ``span`` to the mention of ``cid`` nearest it."""
        if cid not in self.mentions:
            raise DataError(f"{self.doc_id}: {span['id']} {what} refers to {cid!r}, which has no mention "
                            "in the document; a Label Studio relation needs a mention to point at",
                            hint=f"add a mention of {cid!r} to the set, or send the tasks without it (--set '')")
        self.add(span["id"], min(self.mentions[cid], key=lambda e: abs(e["start"] - span["start"]))["id"], label)

    def relations(self) -> list[dict[str, Any]]:
        return [{"from_id": a, "to_id": b, "type": "relation", "direction": "bi" if labels == [RESTATES] else "right",
                 "labels": labels} for (a, b), labels in self.labels.items()]


def _chains(ann: dict[str, Any], pairs: _Pairs) -> list[dict[str, Any]]:
    """Cue regions with their kind, the claims' uncued kinds, and the chains' and restatements' relations."""
    results: list[dict[str, Any]] = []
    cues: dict[tuple, dict[str, Any]] = {}  # one cue region per (offsets, kind, entity): a cue has one kind and one entity
    order = {claim["id"]: i for i, claim in enumerate(ann["claims"])}
    for claim in ann["claims"]:
        chain = claim[CHAIN_FIELD]
        if len(chain) > MAX_CHAIN:
            raise DataError(f"{ann['doc_id']}: {claim['id']} has a chain of {len(chain)} sources; the Label Studio config "
                            f"draws at most {MAX_CHAIN}", hint="raise MAX_CHAIN in chipwar/labelstudio/config.py, or send the "
                            "tasks without this set (--set '')")
        for label, uncued, link in zip(SOURCE_LABELS, UNCUED_KINDS, chain, strict=False):  # the chain is no longer, checked above
            cue = link["cue"]
            if cue is None:
                results.append(_value(claim, uncued, "choices", [link["kind"]]))
                if link["entity_id"] is not None:
                    pairs.to_mention(claim, link["entity_id"], label, CHAIN_FIELD)
                continue
            key = (cue["start"], cue["end"], link["kind"], link["entity_id"])
            if key not in cues:
                cues[key] = {"id": f"cue{len(cues) + 1}", **cue}
                results += _region(cues[key], CUES, CUE_LABEL)
                results.append(_value(cues[key], CUE_KIND, "choices", [link["kind"]]))
                if link["entity_id"] is not None:
                    pairs.to_mention(cues[key], link["entity_id"], IS, CHAIN_FIELD)
            pairs.add(claim["id"], cues[key]["id"], label)
        for other in claim[RESTATES_FIELD]:
            first, second = sorted((claim["id"], other), key=lambda sid: order.get(sid, len(order)))
            pairs.add(first, second, RESTATES)
    return results
