"""``chipwar export spacy``: read back with spaCy's own DocBin, every span, attribute and entity equal to gold."""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.tokens import DocBin

from chipwar.exports.spacy_docbin import SPLIT_NAMES, as_json, register_extensions
from chipwar.layers import LAYERS

from .export_data import EMOJI_DOC, export, gold, real_root, synthetic_root  # noqa: F401  (fixtures)

ON_SPAN = ("id", "start", "end", "text", "label")


def _load(out: Path) -> dict[str, object]:
    """Every Doc of an export, by doc id, read as a spaCy user reads it."""
    vocab = spacy.blank("en").vocab
    docs = {}
    for path in sorted(out.glob("*.spacy")):
        for doc in DocBin().from_disk(path).get_docs(vocab):
            docs[doc.user_data["chipwar"]["doc_id"]] = (path.stem, doc)
    return docs


def _check_equal(root: Path, out: Path) -> int:
    """Compare every document of the export with gold; the number of spans compared."""
    register_extensions(["canonical_id", "attribution_chain", "restates", "target_ids", "provenance", "note"])
    docs = _load(out)
    expected = gold(root)
    assert sorted(docs) == [doc_id for doc_id, *_ in expected]
    compared = 0
    for doc_id, meta, text, data in expected:
        split, doc = docs[doc_id]
        assert split == SPLIT_NAMES[meta["split"]]
        assert doc.text == text
        for layer in LAYERS:
            group = doc.spans[layer]
            assert [(s.start_char, s.end_char, s.text, s.label_, s.id_) for s in group] == \
                   [(g["start"], g["end"], g["text"], g["label"], g["id"]) for g in data[layer]]
            for span, want in zip(group, data[layer], strict=True):
                assert span._.chipwar == {"layer": layer, **{k: v for k, v in want.items() if k not in ON_SPAN}}
                assert span._.note == want["note"] and span._.provenance == want["provenance"]
                if layer == "claims":
                    assert span._.attribution_chain == want["attribution_chain"] and span._.restates == want["restates"]
            compared += len(group)
        by_id = {e["id"]: e for e in data["entities"]}
        for ent in doc.ents:
            want = by_id[ent.id_]
            assert (ent.start_char, ent.end_char, ent.label_, ent.kb_id_) == (want["start"], want["end"], want["label"],
                                                                               want["canonical_id"] or "")
        starts = [e.start_char for e in doc.ents]
        assert starts == sorted(starts)
        user = doc.user_data["chipwar"]
        assert user["set"] == "gold" and user["metadata"]["doc_id"] == doc_id
        assert as_json(user["file"]) == {k: v for k, v in data.items() if k not in LAYERS}  # labels, annotator, decisions
    return compared


def test_real_and_planted_documents_equal_gold(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    result = export(real_root, "spacy", tmp_path / "out")
    assert result["exit_code"] == 0, result
    assert result["dropped"] == {}
    n = _check_equal(real_root, tmp_path / "out")
    assert n == result["spans"] > 250
    _, doc = _load(tmp_path / "out")[EMOJI_DOC]
    zone = doc.spans["zones"][0]
    assert "👩\u200d🔬" in zone.text and "q\u0307" in zone.text and "中国芯片" in zone.text


def test_synthetic_corpus_equals_gold(synthetic_root: Path, tmp_path: Path) -> None:  # noqa: F811
    result = export(synthetic_root, "spacy", tmp_path / "out")
    assert result["exit_code"] == 0, result
    assert _check_equal(synthetic_root, tmp_path / "out") == 240


def test_overlapping_entities_stay_in_the_span_group(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """doc.ents cannot overlap: what it leaves out is in doc.spans['entities'] and counted."""
    result = export(real_root, "spacy", tmp_path / "out")
    docs = _load(tmp_path / "out")
    left = sum(len(doc.spans["entities"]) - len(doc.ents) for _, doc in docs.values())
    assert sum(n for key, n in result["counts"].items() if key.startswith("entities only")) == left


def test_every_span_is_a_token_span_whatever_the_white_space() -> None:
    """Spans that start or end on a space, runs of spaces, tabs and line breaks, emoji and combining marks: the
    Doc's text is the text exactly and every span is ``doc.char_span`` of its offsets."""
    import random

    from spacy.vocab import Vocab

    from chipwar.exports.formats import ExportDocument, ExportResult
    from chipwar.exports.spacy_docbin import make_doc

    rng = random.Random(11)
    pieces = ["a", "Huawei", " ", "  ", "\n", "\t", " \n ", "👩\u200d🔬", "q\u0307", "中国", ".", "'s", "-"]
    vocab = Vocab()
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        spans = []
        for n in range(rng.randint(0, 4)):
            start = rng.randrange(len(text))
            end = rng.randint(start + 1, len(text))
            spans.append({"id": f"d:z{n}", "start": start, "end": end, "text": text[start:end], "label": "body",
                          "provenance": None, "note": None})
        doc = ExportDocument("d", {}, text, {"zones": spans, "entities": [], "claims": [], "bias_markers": []})
        made = make_doc(vocab, doc, "gold", ExportResult())
        assert made.text == text
        assert [(s.start_char, s.end_char) for s in made.spans["zones"]] == [(s["start"], s["end"]) for s in spans]
