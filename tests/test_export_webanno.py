"""``chipwar export webanno``: the W3C Web Annotation model's required shape, every span equal to gold, and every
quote selector re-anchored on the text."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from chipwar.exports.web_annotation import CONTEXT
from chipwar.layers import LAYERS

from .export_data import EMOJI_DOC, FIRST_LINE, export, gold, real_root, synthetic_root  # noqa: F401  (fixtures)

ANNO = "http://www.w3.org/ns/anno.jsonld"
#: The model's motivations (section 3.3.5), which bodies' purposes come from too.
MOTIVATIONS = {"assessing", "bookmarking", "classifying", "commenting", "describing", "editing", "highlighting",
               "identifying", "linking", "moderating", "questioning", "replying", "tagging"}
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
SAID = {"id", "start", "end", "text", "label", "provenance", "note"}


def check_shape(annotation: dict) -> None:
    """The model's MUSTs for an annotation: an IRI id, type Annotation, at least one target with a source IRI, bodies
    that are TextualBody with a string value, selectors of the right shape, a creator, an xsd:dateTime created."""
    assert IRI.match(annotation["id"]) and annotation["type"] == "Annotation"
    assert annotation["motivation"] in MOTIVATIONS
    for body in annotation["body"]:
        assert body["type"] == "TextualBody" and isinstance(body["value"], str) and body["purpose"] in MOTIVATIONS
    target = annotation["target"]
    assert IRI.match(target["source"])
    for selector in target.get("selector", []):
        if selector["type"] == "TextPositionSelector":
            assert isinstance(selector["start"], int) and isinstance(selector["end"], int) and 0 <= selector["start"] <= selector["end"]
        else:
            assert selector["type"] == "TextQuoteSelector" and isinstance(selector["exact"], str)
            assert all(isinstance(selector.get(k, ""), str) for k in ("prefix", "suffix"))
    assert isinstance(annotation["creator"]["name"], str)
    assert annotation["generator"]["type"] == "Software"
    if "created" in annotation:
        datetime.fromisoformat(annotation["created"].replace("Z", "+00:00"))


def reanchor(text: str, quote: dict) -> int:
    """Where a TextQuoteSelector anchors in ``text``: the one place ``prefix + exact + suffix`` occurs (else fail)."""
    whole = quote["prefix"] + quote["exact"] + quote["suffix"]
    hits = [m.start() + len(quote["prefix"]) for m in re.finditer(f"(?={re.escape(whole)})", text)]
    assert len(hits) == 1, f"{quote['exact']!r} anchors at {hits}"
    return hits[0]


def _check_export(root: Path, out: Path) -> int:
    """Every document's collection against gold; the number of span annotations checked."""
    checked = 0
    for doc_id, meta, text, data in gold(root):
        assert (out / "texts" / f"{doc_id}.txt").read_bytes() == text.encode()
        coll = json.loads((out / f"{doc_id}.jsonld").read_text("utf-8"))
        assert coll["@context"][0] == ANNO and coll["type"] == "AnnotationCollection" and IRI.match(coll["id"])
        items = coll["first"]["items"]
        assert coll["first"]["type"] == "AnnotationPage" and coll["total"] == len(items)
        assert coll["attributes"]["annotator"] == data["annotator"]
        assert len({a["id"] for a in items}) == len(items)
        source = "ni:///sha-256;" + base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        for a in items:
            check_shape(a)
            assert a["target"]["source"] == source and a["target"].get("scope") == meta["url"]
        head, spans = items[0], items[1:]
        assert "selector" not in head["target"]
        labels = data["document_labels"]
        if labels:
            assert [b["value"] for b in head["body"][:3]] == [labels[k] for k in ("genre", "primary_frame", "tone")]
        assert head["body"][3 if labels else 0]["attributes"]["canonical_entities"] == data["canonical_entities"]
        want = [(layer, s) for layer in LAYERS for s in data[layer]]
        assert len(spans) == len(want)
        for a, (layer, span) in zip(spans, want, strict=True):
            body = a["body"][0]
            assert (body["layer"], body["annotationId"], body["value"]) == (layer, span["id"], span["label"])
            assert body["attributes"] == {k: v for k, v in span.items() if k not in SAID}
            assert [b["value"] for b in a["body"][1:]] == ([span["note"]] if span["note"] else [])
            position, quote = a["target"]["selector"]
            assert (position["start"], position["end"]) == (span["start"], span["end"])
            assert quote["exact"] == span["text"] and len(quote["prefix"]) <= CONTEXT and len(quote["suffix"]) <= CONTEXT
            assert reanchor(text, quote) == span["start"]
            assert a["creator"]["name"] == span["provenance"]["agent"]
            assert a.get("created") == span["provenance"]["created"]
            checked += 1
    return checked


def test_real_and_planted_documents(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    result = export(real_root, "webanno", tmp_path / "out")
    assert result["exit_code"] == 0, result
    assert _check_export(real_root, tmp_path / "out") == result["spans"] > 250
    assert set(result["dropped"]) == {"adjudication decisions (not annotations of the text)"}
    planted = json.loads((tmp_path / "out" / f"{EMOJI_DOC}.jsonld").read_text("utf-8"))
    zone = next(a for a in planted["first"]["items"] if a["body"][0]["layer"] == "zones")
    assert zone["target"]["selector"][1]["exact"] == FIRST_LINE  # emoji, CJK and a combining mark inside, code points


def test_synthetic_corpus(synthetic_root: Path, tmp_path: Path) -> None:  # noqa: F811
    result = export(synthetic_root, "webanno", tmp_path / "out")
    assert result["exit_code"] == 0, result
    assert _check_export(synthetic_root, tmp_path / "out") == 240


def test_reanchoring_fails_loudly_on_an_ambiguous_quote() -> None:
    """The re-anchoring check is not vacuous: a quote whose context occurs twice is refused."""
    with pytest.raises(AssertionError):
        reanchor("ab ab", {"exact": "ab", "prefix": "", "suffix": ""})
