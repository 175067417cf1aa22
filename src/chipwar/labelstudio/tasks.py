"""Tasks: one per document, with an annotation set's spans as predictions (Label Studio result items, our ids).

A task's ``data`` holds the text, the doc id and the text's SHA-256, and under ``chipwar``
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
from ..layers import DOCUMENT_LABELS, LAYER_ATTRIBUTES, LAYER_BOOL_FIELDS, LAYER_TEXT_FIELDS, LAYERS
from ..report import Report
from ..schema import load_schemas
from ..validation.annotations import check_annotation_data
from . import LabelStudioError
from .config import DOCUMENT_NOTE, NOTE, RELATIONS, TEXT_NAME

#: The key of a task's ``data`` that says which set (and which version of its file) the predictions came from.
TASK_KEY = "chipwar"


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
    tasks = []
    for doc_id in corpus.doc_ids():
        text = read_document_text(corpus, doc_id)
        if text is None:
            raise DataError(f"corpus/{doc_id}.txt: missing or not UTF-8", hint="run `chipwar validate` and fix the corpus first")
        data: dict[str, Any] = {"text": text, "doc_id": doc_id, "text_sha256": sha256_text(text), TASK_KEY: None}
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
            for attr in LAYER_BOOL_FIELDS[layer]:
                results.append({**item, "from_name": attr, "type": "choices",
                                "value": {**where, "choices": ["true" if span[attr] else "false"]}})
            for attr in (*LAYER_TEXT_FIELDS[layer], NOTE):
                if span[attr] is not None:
                    results.append({**item, "from_name": attr, "type": "textarea",
                                    "value": {"start": span["start"], "end": span["end"], "text": [span[attr]]}})
    for layer in LAYERS:
        for span in ann[layer]:
            for rel, (rel_layer, attr, is_list) in RELATIONS.items():
                if rel_layer != layer:
                    continue
                for cid in (span[attr] or []) if is_list else ([span[attr]] if span[attr] else []):
                    if cid not in mentions:
                        raise DataError(f"{ann['doc_id']}: {span['id']} {attr} refers to {cid!r}, which has no mention "
                                        "in the document; a Label Studio relation needs a mention to point at",
                                        hint=f"add a mention of {cid!r} to the set, or send the tasks without it (--set '')")
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
