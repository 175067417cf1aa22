"""CoNLL (IOB2): the ``ner`` config of ``chipwar build`` as token-per-line files.

Layout: ``<split>.conll`` per split (train, validation, test) — one ``TOKEN<TAB>TAG`` line per
token, a blank line after each sentence, and the line ``-DOCSTART- -X- O O`` before each
document (doc-id order), as spaCy's ``spacy convert`` and CoNLL-2003 readers expect. Tokens,
sentences and tags are made by the same code as the ``ner`` config
(:func:`chipwar.hf.configs.ner_rows`), so the file equals it row for row.

Keeps: entity mentions with their labels, sentences and tokens.
Cannot hold: overlapping or nested entities, an entity crossing a sentence or a token
boundary (each counted by reason), canonical ids, attributes, offsets, and the zones, claims
and bias markers (counted).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from ..layers import LAYERS
from ..sentences import split_sentences
from .formats import ExportFormat, ExportInput, ExportResult

DOCSTART = "-DOCSTART- -X- O O"


def write(inp: ExportInput, out: Path) -> ExportResult:
    """One ``<split>.conll`` per split present, documents in doc-id order, written as they are read."""
    from ..hf.configs import NER_TAG_NAMES, Unaligned, layouts, ner_rows

    tags = layouts(inp.schemas).ner_tags
    result = ExportResult()
    with ExitStack() as stack:
        files: dict[str, TextIO] = {}
        for doc in inp.documents():
            split = doc.metadata["split"]
            if split not in files:
                files[split] = stack.enter_context(open(out / f"{split}.conll", "w", encoding="utf-8", newline="\n"))
            fh = files[split]
            fh.write(DOCSTART + "\n\n")
            unaligned: list[Unaligned] = []
            for row in ner_rows(doc.doc_id, doc.text, split_sentences(doc.text), doc.annotations["entities"], tags, unaligned):
                fh.writelines(f"{tok}\t{tag}\n" for tok, tag in zip(row["tokens"], row[NER_TAG_NAMES], strict=True))
                fh.write("\n")
            result.documents += 1
            result.spans += len(doc.annotations["entities"]) - len(unaligned)
            for u in unaligned:
                result.drop(f"entity: {_reason(u.reason)}")
            for layer in LAYERS:
                if layer != "entities" and doc.annotations[layer]:
                    result.drop(f"{layer} (CoNLL holds entities only)", len(doc.annotations[layer]))
    return result


def _reason(reason: str) -> str:
    """A reason of :class:`chipwar.hf.configs.Unaligned` without the other span's id, to count by."""
    return "overlaps another entity (BIO cannot nest)" if reason.startswith("overlaps ") else reason


FORMAT = ExportFormat(
    name="conll",
    summary="CoNLL IOB2 token-per-line files per split, equal to the `ner` config",
    keeps="entity mentions and labels as IOB2 tags over the `ner` config's sentences and tokens",
    cannot_hold="overlapping or nested entities, entities off token or sentence boundaries, canonical ids, attributes, "
                "offsets, and the zones, claims and bias markers",
    write=write,
    needs=("datasets",),
)
