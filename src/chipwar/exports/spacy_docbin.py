"""spaCy ``DocBin``: one ``Doc`` per document, every layer as a span group, everything else in user data.

Layout: ``<split>.spacy`` per split, named as spaCy's training config names them
(``train``, ``dev``, ``test``); read with ``DocBin().from_disk(path).get_docs(nlp.vocab)``.

Tokens are chipwar's own (:mod:`chipwar.sentences`), cut further at every span edge, so
every span of every layer is a token span (``doc.char_span(start, end)``) and ``doc.text``
is the stored text exactly: spaCy counts offsets in code points, as chipwar stores them, so
none is converted. ``doc.spans["zones" | "entities" | "claims" | "bias_markers"]`` hold every
span (overlaps kept) with its label and its annotation id as ``span.id_``; ``doc.ents`` holds the
entities that do not overlap (the first by start, then the longest: the ``ner`` config's rule)
with the canonical id as ``kb_id_``. Every other field of a span (attributes, references,
attribution chain, restatements, provenance, note) is stored with the user data,
``doc.user_data["chipwar"]["spans"][span.id_]`` (``DocBin`` reads its lists back as tuples), and
read as JSON values through span extensions that :func:`register_extensions` declares (``span._.chipwar`` for all, ``span._.<field>`` for one):
spaCy keys extension values by character offsets, which two spans of one place would share,
so the values live under the annotation id instead. The metadata, document labels, canonical
entities, annotator and decisions are in ``doc.user_data["chipwar"]`` too.

Keeps: everything in the annotation file and the metadata. Cannot hold: overlapping entities
in ``doc.ents`` (they stay in ``doc.spans["entities"]``; counted in the report, not dropped).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..layers import LAYERS
from ..sentences import token_offsets
from .formats import ExportDocument, ExportFormat, ExportInput, ExportResult

if TYPE_CHECKING:
    from spacy.tokens import Doc

#: spaCy's names for the splits (its training config reads ``train.spacy`` and ``dev.spacy``).
SPLIT_NAMES = {"train": "train", "validation": "dev", "test": "test"}
#: The user-data key holding everything chipwar adds to a ``Doc``.
KEY = "chipwar"
#: Span fields that the ``Span`` itself holds.
ON_SPAN = ("id", "start", "end", "text", "label")


def register_extensions(fields: list[str] | tuple[str, ...] = ()) -> None:
    """Declare ``span._.chipwar`` (every field of the span) and ``span._.<field>`` for each of
    ``fields``, read from the user data by annotation id. Safe to call again."""
    from spacy.tokens import Span

    def whole(span: Any) -> dict[str, Any] | None:
        return as_json(span.doc.user_data.get(KEY, {}).get("spans", {}).get(span.id_))

    Span.set_extension(KEY, getter=whole, force=True)
    for name in fields:
        Span.set_extension(name, getter=lambda span, name=name: (whole(span) or {}).get(name), force=True)


def as_json(value: Any) -> Any:
    """User data as the annotation file has it: ``DocBin`` reads lists back as tuples."""
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


def words_of(text: str, doc: ExportDocument) -> list[tuple[str, bool]]:
    """Words and trailing-space flags covering ``text`` exactly, with a token edge at every span edge.

    A single space after a word is its trailing space (spaCy's way) unless a span starts or
    ends on it; any other white space is a token of its own."""
    starts, ends = token_offsets(text)
    edges = {0, len(text), *starts, *ends}
    span_edges = {p for layer in LAYERS for s in doc.annotations[layer] for p in (s["start"], s["end"])}
    edges |= span_edges
    points = sorted(edges)
    words: list[tuple[str, bool]] = []
    for a, b in zip(points, points[1:], strict=False):
        piece = text[a:b]
        if piece == " " and words and not words[-1][1] and a not in span_edges and b not in span_edges:
            words[-1] = (words[-1][0], True)
        elif piece.isspace() and len(piece) > 1 and piece[0] == " " and words and not words[-1][1] \
                and a + 1 not in span_edges and a not in span_edges:
            words[-1] = (words[-1][0], True)
            words.append((piece[1:], False))
        else:
            words.append((piece, False))
    return words


def make_doc(vocab: Any, doc: ExportDocument, set_name: str, result: ExportResult) -> Doc:
    """The ``Doc`` of one document, with its span groups, entities and user data."""
    from spacy.tokens import Doc

    words = words_of(doc.text, doc)
    sdoc = Doc(vocab, words=[w for w, _ in words], spaces=[s for _, s in words])
    assert sdoc.text == doc.text  # the words cover the text exactly, by construction
    fields: dict[str, dict[str, Any]] = {}
    for layer in LAYERS:
        group = []
        for span in doc.annotations[layer]:
            made = sdoc.char_span(span["start"], span["end"], label=span["label"], span_id=span["id"])
            assert made is not None  # every span edge is a token edge, by construction
            group.append(made)
            fields[span["id"]] = {"layer": layer, **{k: v for k, v in span.items() if k not in ON_SPAN}}
        sdoc.spans[layer] = group
        result.spans += len(group)
    ents, last_end = [], -1
    for span in sorted(doc.annotations["entities"], key=lambda e: (e["start"], -e["end"])):
        if span["start"] < last_end:
            result.report.count("entities only in doc.spans['entities'] (they overlap another; doc.ents cannot)")
            continue
        ents.append(sdoc.char_span(span["start"], span["end"], label=span["label"], kb_id=span["canonical_id"] or "",
                                   span_id=span["id"]))
        last_end = span["end"]
    sdoc.ents = ents
    sdoc.user_data[KEY] = {
        "set": set_name, "doc_id": doc.doc_id, "metadata": doc.metadata, "spans": fields,
        "file": {k: v for k, v in doc.annotations.items() if k not in LAYERS},
    }
    return sdoc


def write(inp: ExportInput, out: Path) -> ExportResult:
    """``<split>.spacy`` per split present, documents in doc-id order."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    vocab = Vocab()
    bins: dict[str, DocBin] = {}
    result = ExportResult()
    for doc in inp.documents():
        split = SPLIT_NAMES.get(doc.metadata["split"], doc.metadata["split"])
        bins.setdefault(split, DocBin(store_user_data=True)).add(make_doc(vocab, doc, inp.set_name, result))
        result.documents += 1
    for split, doc_bin in sorted(bins.items()):
        doc_bin.to_disk(out / f"{split}.spacy")
    return result


FORMAT = ExportFormat(
    name="spacy",
    summary="spaCy DocBin per split: doc.ents, a span group per layer, every field in span extensions",
    keeps="every span of every layer (span groups, overlaps kept), non-overlapping entities in doc.ents with canonical ids "
          "as kb_id_, every attribute, chain and note (span._.chipwar), metadata, document labels and decisions (user data)",
    cannot_hold="overlapping entities in doc.ents (they stay in doc.spans['entities'])",
    write=write,
    needs=("spacy",),
)
