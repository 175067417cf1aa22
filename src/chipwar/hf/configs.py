"""The configs of the dataset and the row layout of each, derived from ``schema/``.

``documents`` (one row per document: metadata, text and every layer nested — lossless),
``entities`` / ``claims`` / ``bias_markers`` (one row per span, with its sentence) and ``ner``
(sentence tokens with BIO tags). :func:`layouts` gives every config's features; the row
functions turn corpus files into rows and back. The build (:mod:`.build`), the card
(:mod:`.card`) and rehydration read these; nothing here writes.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa
from datasets import ClassLabel, Features, List, Value

from ..layers import CHAIN_FIELD, LAYER_LABEL_SET, LAYER_SPAN_DEF, LAYERS
from ..schema import Schemas
from ..sentences import SentenceIndex, token_offsets
from .features import Field, SchemaWalker, struct_of

#: Layers with a config of their own, one row per span (zones travel only inside ``documents``).
SPAN_CONFIGS = tuple(layer for layer in LAYERS if layer != "zones")
CONFIGS = ("documents", *SPAN_CONFIGS, "ner")


@dataclass(frozen=True)
class Unaligned:
    """An entity span left out of the ``ner`` config, and why."""

    doc_id: str
    annotation_id: str
    text: str | None
    reason: str


@dataclass
class BuildResult:
    """What a build wrote: ``replaced`` says whether an earlier build was there; ``recovered``
    what a killed build had left and this one cleaned up."""

    out: Path
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    unaligned: list[Unaligned] = field(default_factory=list)
    with_text: bool = True
    replaced: bool = False
    recovered: list[str] = field(default_factory=list)
    shards: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path -> rows, row groups, bytes, sha256
    chunks: int = 0  # chunks of documents (row groups per shard)
    reused: int = 0  # of them, taken unchanged from the earlier build in --out
    docs_per_shard: int = 0
    row_group_docs: int = 0
    example_doc: str | None = None  # the first document, for the card's query examples


@dataclass(frozen=True)
class Layouts:
    """Row layout (feature + codecs) of every config, derived from the schema; ``named``: by
    config, the ``ClassLabel`` columns that have a readable ``<column>_name`` string column beside them."""

    documents: Field
    spans: dict[str, Field]
    ner: Features
    ner_tags: list[str]
    named: dict[str, tuple[str, ...]]


NAME_SUFFIX = "_name"
#: The string twin of ``ner_tags`` (a list of ``ClassLabel``).
NER_TAG_NAMES = "ner_tag_names"


def _with_names(fields: dict[str, Field]) -> tuple[dict[str, Field], tuple[str, ...]]:
    """``fields`` with a string column after each top-level ``ClassLabel``: SQL engines and
    DataFrames (DuckDB, Polars) see the label, not its number."""
    out: dict[str, Field] = {}
    named = []
    for key, f in fields.items():
        out[key] = f
        if isinstance(f.feature, ClassLabel):
            out[key + NAME_SUFFIX] = Field(Value("string"), None, None)
            named.append(key)
    return out, tuple(named)


def with_label_names(row: dict[str, Any], named: tuple[str, ...]) -> dict[str, Any]:
    """A row (before encoding) with each named label also as its ``<column>_name`` string."""
    for key in named:
        row[key + NAME_SUFFIX] = row.get(key)
    return row


def layouts(schemas: Schemas) -> Layouts:
    """Derive every config's features from ``schema/``."""
    walker = SchemaWalker(schemas)
    doc, ann = schemas.document, schemas.annotations
    fields: dict[str, Field] = {k: walker.field(v, doc) for k, v in doc["properties"].items()}
    fields["text"] = Field(Value("string"), None, None)
    fields["annotation_set"] = Field(Value("string"), None, None)
    fields.update({k: walker.field(v, ann) for k, v in ann["properties"].items() if k != "doc_id"})
    fields, named_docs = _with_names(fields)
    named = {"documents": named_docs}
    spans = {}
    for layer in SPAN_CONFIGS:
        item = ann["$defs"][LAYER_SPAN_DEF[layer]]
        span_fields = {"doc_id": Field(Value("string"), None, None)}
        span_fields.update({k: walker.field(v, ann) for k, v in item["properties"].items()})
        span_fields.update({k: Field(Value(t), None, None) for k, t in
                            (("sentence", "string"), ("sentence_start", "int32"), ("sentence_end", "int32"))})
        span_fields, named[layer] = _with_names(span_fields)
        spans[layer] = struct_of(span_fields)
    tags = ["O"] + [f"{p}-{name}" for name in schemas.label_names(LAYER_LABEL_SET["entities"]) for p in ("B", "I")]
    ner = Features({
        "id": Value("string"), "doc_id": Value("string"), "sentence_index": Value("int32"),
        "tokens": List(Value("string")), "token_starts": List(Value("int32")), "token_ends": List(Value("int32")),
        "ner_tags": List(ClassLabel(names=tags)), NER_TAG_NAMES: List(Value("string")),
    })
    return Layouts(struct_of(fields), spans, ner, tags, named)


def document_row(meta: dict, text: str | None, set_name: str, annotations: dict | None) -> dict[str, Any]:
    """One ``documents`` row (before encoding) from a document's files."""
    row: dict[str, Any] = dict(meta)
    row["text"] = text
    row["annotation_set"] = set_name if annotations is not None else None
    for key, value in (annotations or {}).items():
        if key != "doc_id":
            row[key] = value
    return row


def from_document_row(decoded: dict[str, Any], schemas: Schemas) -> tuple[dict, str | None, str | None, dict | None]:
    """(metadata, text, set name, annotation file) back from a decoded ``documents`` row."""
    meta = {k: decoded[k] for k in schemas.document["properties"]}
    set_name = decoded["annotation_set"]
    annotations = None
    if set_name is not None:
        annotations = {k: (decoded["doc_id"] if k == "doc_id" else decoded[k]) for k in schemas.annotations["properties"]}
    return meta, decoded["text"], set_name, annotations


def strip_texts(span: dict) -> dict:
    """A span holding no article text, for the annotations-only build: its ``text`` and every
    attribution cue's ``text`` are null; offsets stay, so :func:`restore_texts` gives them back."""
    return _texts_at(span, lambda start, end: None)


def restore_texts(span: dict, text: str) -> dict:
    """A span of the annotations-only build with its texts back, sliced from the document ``text``."""
    return _texts_at(span, lambda start, end: text[start:end])


def _texts_at(span: dict, text_at: Callable[[int, int], str | None]) -> dict:
    out = {**span, "text": text_at(span["start"], span["end"])}
    if CHAIN_FIELD in span:
        out[CHAIN_FIELD] = [{**link, "cue": None if (cue := link["cue"]) is None else {**cue, "text": text_at(cue["start"], cue["end"])}}
                            for link in span[CHAIN_FIELD]]
    return out


def span_rows(layer: str, doc_id: str, spans: list[dict], text: str | None, index: SentenceIndex | None) -> Iterator[dict]:
    """One row per span of ``layer``, with its sentence; with no ``text``, no article text at all (:func:`strip_texts`)."""
    for span in spans:
        if text is not None and index is not None and index.sentences:
            s, e = index.covering(span["start"], span["end"])
            yield {"doc_id": doc_id, **span, "sentence": text[s:e], "sentence_start": s, "sentence_end": e}
        else:
            yield {"doc_id": doc_id, **strip_texts(span), "sentence": None, "sentence_start": None, "sentence_end": None}


@dataclass
class DocumentTokens:
    """A document's ``ner`` rows as flat columns: every token of its sentences, in order, with its
    offsets and BIO tag index, and where each sentence's tokens begin (``bounds``, one past the end last)."""

    doc_id: str
    tokens: list[str]
    starts: list[int]
    ends: list[int]
    tags: list[int]
    bounds: list[int]


def ner_document(doc_id: str, text: str, sentences: list, entities: list[dict], tags_of: list[str],
                 unaligned: list[Unaligned]) -> DocumentTokens:
    """A document's BIO-tagged sentences (``tags_of``: the tag names in ``ClassLabel`` order); an
    entity that cannot be tagged is recorded in ``unaligned``."""
    tag_index = {t: i for i, t in enumerate(tags_of)}
    placed: list[tuple[int, int, dict]] = []
    for ent in sorted(entities, key=lambda e: (e["start"], -e["end"])):
        if placed and ent["start"] < placed[-1][1]:
            unaligned.append(Unaligned(doc_id, ent["id"], ent["text"], f"overlaps {placed[-1][2]['id']}; BIO cannot nest"))
            continue
        placed.append((ent["start"], ent["end"], ent))
    index = SentenceIndex(sentences)
    ends_of = {sent.start: sent.end for sent in sentences}
    all_starts, all_ends = token_offsets(text)
    spans = [(bisect_left(all_starts, sent.start), bisect_left(all_starts, sent.end)) for sent in sentences]
    if all(hi == spans[i + 1][0] for i, (_, hi) in enumerate(spans[:-1])):  # sentences cover every token: one slice
        lo, hi = (spans[0][0], spans[-1][1]) if spans else (0, 0)
        starts, ends = all_starts[lo:hi], all_ends[lo:hi]
        bounds = [a - lo for a, _ in spans] + [hi - lo]
    else:
        starts = [x for a, b in spans for x in all_starts[a:b]]
        ends = [x for a, b in spans for x in all_ends[a:b]]
        bounds = [0]
        for a, b in spans:
            bounds.append(bounds[-1] + b - a)
        bounds = bounds[:-1] + [bounds[-1]]
    tags = [0] * len(starts)
    if placed:
        for start, end, ent in placed:
            s, e = index.covering(start, end)
            if ends_of[s] != e:
                unaligned.append(Unaligned(doc_id, ent["id"], ent["text"], "crosses a sentence boundary"))
                continue
            a, b = bisect_left(starts, start), bisect_left(ends, end)  # tokens in order: offsets ascend
            if a == len(starts) or starts[a] != start or b == len(ends) or ends[b] != end:
                unaligned.append(Unaligned(doc_id, ent["id"], ent["text"], "does not start and end on token boundaries"))
                continue
            tags[a] = tag_index["B-" + ent["label"]]
            for k in range(a + 1, b + 1):
                tags[k] = tag_index["I-" + ent["label"]]
    tokens = list(map(text.__getitem__, map(slice, starts, ends)))
    return DocumentTokens(doc_id, tokens, starts, ends, tags, bounds if sentences else [0])


def ner_rows(doc_id: str, text: str, sentences: list, entities: list[dict], tags_of: list[str],
             unaligned: list[Unaligned]) -> Iterator[dict]:
    """The ``ner`` rows of a document, one dict per sentence (see :func:`ner_document`)."""
    doc = ner_document(doc_id, text, sentences, entities, tags_of, unaligned)
    for i, (lo, hi) in enumerate(zip(doc.bounds, doc.bounds[1:], strict=False)):
        tags = doc.tags[lo:hi]
        yield {"id": f"{doc_id}:s{i}", "doc_id": doc_id, "sentence_index": i, "tokens": doc.tokens[lo:hi],
               "token_starts": doc.starts[lo:hi], "token_ends": doc.ends[lo:hi], "ner_tags": tags,
               NER_TAG_NAMES: [tags_of[t] for t in tags]}


class NerColumns:
    """``ner`` rows gathered column by column, a document at a time: Arrow makes a list column from
    flat values and offsets far faster than from millions of small Python lists, row by row."""

    def __init__(self, tags_of: list[str]) -> None:
        self.tags_of = tags_of
        self.ids: list[str] = []
        self.doc_ids: list[str] = []
        self.index: list[int] = []
        self.tokens: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.tags: list[int] = []
        self.offsets = [0]

    def add(self, doc: DocumentTokens) -> None:
        base = len(self.tokens)
        n = len(doc.bounds) - 1
        self.ids += [f"{doc.doc_id}:s{i}" for i in range(n)]
        self.doc_ids += [doc.doc_id] * n
        self.index += range(n)
        self.tokens += doc.tokens
        self.starts += doc.starts
        self.ends += doc.ends
        self.tags += doc.tags
        self.offsets += [base + b for b in doc.bounds[1:]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def table(self, schema: pa.Schema) -> pa.Table:
        import pyarrow.compute as pc

        offsets = pa.array(self.offsets, pa.int32())
        tags = pa.array(self.tags, schema.field("ner_tags").type.value_type)
        lists = {"tokens": pa.array(self.tokens, pa.string()), "token_starts": pa.array(self.starts, pa.int32()),
                 "token_ends": pa.array(self.ends, pa.int32()), "ner_tags": tags,
                 NER_TAG_NAMES: pc.take(pa.array(self.tags_of, pa.string()), tags)}
        flat = {"id": pa.array(self.ids, pa.string()), "doc_id": pa.array(self.doc_ids, pa.string()),
                "sentence_index": pa.array(self.index, pa.int32())}
        columns = [pa.ListArray.from_arrays(offsets, lists[f.name]) if f.name in lists else flat[f.name] for f in schema]
        return pa.Table.from_arrays(columns, schema=schema)
