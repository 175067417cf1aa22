"""``chipwar export conll``: equal to the ``ner`` config row for row, and read back by spaCy's CoNLL converter."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from chipwar.exports.conll import DOCSTART
from chipwar.hf.configs import Unaligned, layouts, ner_rows
from chipwar.schema import load_schemas
from chipwar.sentences import split_sentences

from .export_data import export, gold, real_root, synthetic_root  # noqa: F401  (fixtures)


def _expected(root: Path) -> tuple[dict[str, list[list[tuple[str, str]]]], list[Unaligned]]:
    """The ``ner`` config's sentences per split, as (token, tag) lists, and what it leaves out."""
    tags = layouts(load_schemas(root / "schema")).ner_tags
    unaligned: list[Unaligned] = []
    splits: dict[str, list] = {}
    for doc_id, meta, text, data in gold(root):
        rows = ner_rows(doc_id, text, split_sentences(text), data["entities"], tags, unaligned)
        splits.setdefault(meta["split"], []).append([list(zip(r["tokens"], (tags[t] for t in r["ner_tags"]), strict=True))
                                                     for r in rows])
    return splits, unaligned


def _read(path: Path) -> list[list[list[tuple[str, str]]]]:
    """Documents -> sentences -> (token, tag), read from the file as the format defines it."""
    docs = []
    for block in path.read_text("utf-8").split(DOCSTART + "\n")[1:]:
        sentences = [s for s in block.split("\n\n") if s.strip()]
        docs.append([[tuple(line.split("\t")) for line in s.strip("\n").split("\n")] for s in sentences])
    return docs


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_equals_the_ner_config(which: str, real_root: Path, synthetic_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = real_root if which == "real" else synthetic_root
    result = export(root, "conll", tmp_path / "out")
    assert result["exit_code"] == 0, result
    splits, unaligned = _expected(root)
    assert sorted(result["files"]) == sorted(f"{s}.conll" for s in splits)
    for split, docs in splits.items():
        assert _read(tmp_path / "out" / f"{split}.conll") == [[s for s in doc if s] for doc in docs]
    reasons = Counter("entity: " + ("overlaps another entity (BIO cannot nest)" if u.reason.startswith("overlaps") else u.reason)
                      for u in unaligned)
    assert {k: v for k, v in result["dropped"].items() if k.startswith("entity:")} == dict(reasons)
    assert result["spans"] == sum(len(d["entities"]) for *_, d in gold(root)) - len(unaligned)
    others = {k for k in result["dropped"] if not k.startswith("entity:")}
    assert others <= {f"{layer} (CoNLL holds entities only)" for layer in ("zones", "claims", "bias_markers")}


def test_spacy_reads_it_back(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """spaCy's own CoNLL-2003 converter reads the file: same tokens, same entities, one Doc per document."""
    import spacy.training.converters as spacy_conll
    export(real_root, "conll", tmp_path / "out")
    splits, _ = _expected(real_root)
    text = (tmp_path / "out" / "train.conll").read_text("utf-8")
    docs = list(spacy_conll.conll_ner_to_docs(text, no_print=True))
    assert len(docs) == len(splits["train"])
    for doc, sentences in zip(docs, splits["train"], strict=True):
        pairs = [pair for sentence in sentences for pair in sentence]
        assert [t.text for t in doc] == [tok for tok, _ in pairs]
        assert [t.ent_iob_ + ("-" + t.ent_type_ if t.ent_type_ else "") for t in doc] == [tag for _, tag in pairs]
