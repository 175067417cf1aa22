"""W3C Web Annotation (JSON-LD): one annotation per span, one collection per document.

Layout: ``<doc_id>.jsonld`` — an ``AnnotationCollection`` whose one ``AnnotationPage`` holds
the document's annotations — and ``texts/<doc_id>.txt``, the text the selectors count in.
Each span is an ``Annotation`` whose target is the text (``source``: its SHA-256 as an RFC 6920
``ni:`` URI; ``scope``: the article's address) with a ``TextPositionSelector`` (code points,
end-exclusive, as the Recommendation requires, so the stored offsets go out unchanged) and a
``TextQuoteSelector`` (``exact`` plus up to :data:`CONTEXT` code points of ``prefix`` and
``suffix``). The body is a ``TextualBody`` classifying the span with its label, carrying the
layer, the chipwar annotation id and every other field of the span (attributes, references,
attribution chain, restatements) as the JSON literal ``attributes``; a note is a second,
``describing`` body. ``creator`` is the provenance agent (typed from the file's annotator
kind when it made the span), ``created`` the provenance time when known, ``generator`` chipwar.
The document labels and the canonical entities are one more annotation targeting the whole text;
the file's annotator block rides on the collection.

Keeps: every span of every layer with all its fields, the document labels and the canonical
entities. Cannot hold: the adjudication ``decisions`` (counted), and a provenance time that
was never recorded (left out, as the model allows).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path
from typing import Any

import orjson

from .. import __version__
from ..errors import ISSUES_URL
from ..layers import LAYERS
from .formats import ExportDocument, ExportFormat, ExportInput, ExportResult

#: Code points of text kept before and after a quote, as Hypothesis keeps them.
CONTEXT = 32
ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
HOMEPAGE = ISSUES_URL.removesuffix("/issues")
#: The terms chipwar adds to the model (JSON-LD 1.1; ``attributes`` is a JSON literal).
CHIPWAR_CONTEXT = {
    "cw": f"{HOMEPAGE}/blob/main/schema/annotations.schema.json#",
    "layer": "cw:layer",
    "annotationId": "cw:annotationId",
    "attributes": {"@id": "cw:attributes", "@type": "@json"},
}
#: Web Annotation agent types for the annotator kinds of ``schema/``.
AGENT_TYPE = {"person": "Person", "model": "Software", "team": "Organization", "import": "Software"}
#: Span fields the selectors and bodies already say.
SAID = {"id", "start", "end", "text", "label", "provenance", "note"}
GENERATOR = {"id": HOMEPAGE, "type": "Software", "name": f"chipwar {__version__}", "homepage": HOMEPAGE}


def text_uri(text: str) -> str:
    """The text's SHA-256 as an RFC 6920 named-information URI."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode("utf-8")).digest()).rstrip(b"=").decode()
    return f"ni:///sha-256;{digest}"


def annotation_uri(set_name: str, annotation_id: str) -> str:
    """A stable URN for a chipwar annotation (UUID v5 of set and id: the same annotation, the same id)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{HOMEPAGE}#{set_name}/{annotation_id}").urn


def quote_selector(text: str, start: int, end: int) -> dict[str, str]:
    """A ``TextQuoteSelector`` for ``text[start:end]`` with its context."""
    return {"type": "TextQuoteSelector", "exact": text[start:end],
            "prefix": text[max(0, start - CONTEXT):start], "suffix": text[end:end + CONTEXT]}


def span_annotation(doc: ExportDocument, set_name: str, layer: str, span: dict[str, Any]) -> dict[str, Any]:
    """One span as a Web Annotation."""
    body: list[dict[str, Any]] = [{
        "type": "TextualBody", "purpose": "classifying", "value": span["label"], "layer": layer,
        "annotationId": span["id"], "attributes": {k: v for k, v in span.items() if k not in SAID},
    }]
    if span.get("note"):
        body.append({"type": "TextualBody", "purpose": "describing", "value": span["note"]})
    target = {"source": text_uri(doc.text), "selector": [
        {"type": "TextPositionSelector", "start": span["start"], "end": span["end"]},
        quote_selector(doc.text, span["start"], span["end"])]}
    if doc.metadata.get("url"):
        target["scope"] = doc.metadata["url"]
    return {"id": annotation_uri(set_name, span["id"]), "type": "Annotation", "motivation": "classifying",
            **_made(doc.annotations, span["provenance"]), "body": body, "target": target}


def _made(annotations: dict[str, Any], provenance: dict[str, Any]) -> dict[str, Any]:
    """``creator``, ``created`` and ``generator`` from a provenance block."""
    annotator = annotations["annotator"]
    creator: dict[str, Any] = {"name": provenance["agent"]}
    if provenance["agent"] == annotator["name"]:
        creator["type"] = AGENT_TYPE[annotator["kind"]]
    made: dict[str, Any] = {"creator": creator, "generator": GENERATOR}
    if provenance.get("created"):
        made["created"] = provenance["created"]
    return made


def document_annotation(doc: ExportDocument, set_name: str) -> dict[str, Any]:
    """The document labels and canonical entities, as an annotation of the whole text."""
    labels = doc.annotations["document_labels"]
    body: list[dict[str, Any]] = [{
        "type": "TextualBody", "purpose": "classifying", "value": labels[name], "layer": "document_labels",
        "annotationId": f"{doc.doc_id}:{name}", "attributes": {"field": name}} for name in ("genre", "primary_frame", "tone")]
    body.append({"type": "TextualBody", "purpose": "identifying", "value": "canonical entities", "layer": "canonical_entities",
                 "annotationId": f"{doc.doc_id}:canonical_entities",
                 "attributes": {"canonical_entities": doc.annotations["canonical_entities"]}})
    if labels.get("note"):
        body.append({"type": "TextualBody", "purpose": "describing", "value": labels["note"]})
    target: dict[str, Any] = {"source": text_uri(doc.text)}
    if doc.metadata.get("url"):
        target["scope"] = doc.metadata["url"]
    return {"id": annotation_uri(set_name, f"{doc.doc_id}:document"), "type": "Annotation", "motivation": "classifying",
            **_made(doc.annotations, labels["provenance"]), "body": body, "target": target}


def collection(doc: ExportDocument, set_name: str) -> dict[str, Any]:
    """A document's annotations as one ``AnnotationCollection`` with one page."""
    items = [document_annotation(doc, set_name)]
    items += [span_annotation(doc, set_name, layer, span) for layer in LAYERS for span in doc.annotations[layer]]
    return {"@context": [ANNO_CONTEXT, CHIPWAR_CONTEXT], "id": annotation_uri(set_name, doc.doc_id),
            "type": "AnnotationCollection", "label": f"chipwar annotation set {set_name}: {doc.doc_id}",
            "attributes": {k: doc.annotations[k] for k in ("schema_version", "doc_id", "text_sha256", "annotator")},
            "total": len(items),
            "first": {"id": annotation_uri(set_name, f"{doc.doc_id}#page1"), "type": "AnnotationPage", "startIndex": 0,
                      "items": items}}


def write(inp: ExportInput, out: Path) -> ExportResult:
    """``<doc_id>.jsonld`` and ``texts/<doc_id>.txt`` per document."""
    result = ExportResult()
    (out / "texts").mkdir()
    for doc in inp.documents():
        data = collection(doc, inp.set_name)
        (out / f"{doc.doc_id}.jsonld").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        (out / "texts" / f"{doc.doc_id}.txt").write_bytes(doc.text.encode("utf-8"))
        result.documents += 1
        result.spans += data["total"] - 1
        if doc.annotations.get("decisions"):
            result.drop("adjudication decisions (not annotations of the text)", len(doc.annotations["decisions"]))
    return result


FORMAT = ExportFormat(
    name="webanno",
    summary="W3C Web Annotation JSON-LD: one annotation per span, with position and quote selectors",
    keeps="every span of every layer with all its fields, document labels and canonical entities; creator, times from provenance",
    cannot_hold="the adjudication decisions",
    write=write,
)
