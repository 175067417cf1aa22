"""What the generated blocks count, gathered during the validation pass (one read of the corpus).

``chipwar validate`` checks the Markdown blocks of :mod:`chipwar.generated` against the data.
Their data-driven kinds — ``documents`` (a row per document, or per group past 50), ``label-counts SET`` and
``agreement SET SET …`` — need every document and annotation file, which validation reads
anyway: each chunk of a run gathers a :class:`BlockFacts` from the files it parsed, the parts
are merged in chunk order, and the blocks are rendered from the merged facts. Only documents
whose files passed every check are counted; the blocks are compared only when the whole
corpus is clean, so then every file is counted, as the standalone renderers count them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .agreement.run import SetsTally
from .grouped import Grouped
from .layers import LAYERS

#: Block kinds whose content is counted from the data (the others read only ``schema/``).
DATA_KINDS = ("documents", "label-counts", "agreement")


def data_specs(specs: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    """The distinct, well-formed data-driven specs among blocks' specs (a malformed one is
    left to its renderer, which reports it)."""
    out: dict[tuple[str, ...], None] = {}
    for kind, *args in specs:
        if (kind == "documents" and not args) or (kind == "label-counts" and len(args) == 1) or \
                (kind == "agreement" and len(args) >= 2 and len(set(args)) == len(args)):
            out[(kind, *args)] = None
    return tuple(out)


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join("unknown" if c is None else str(c) for c in cells) + " |"


def document_cells(doc_id: str, meta: dict[str, Any]) -> str:
    """A document's row of the ``documents`` block; unknown values show as "unknown", never guessed."""
    return _row([f"`{doc_id}`", meta["publisher"], meta["published"], meta["genre"], meta["split"],
                 f"{meta['intake']['length_codepoints']:,}", _yes_no(meta["rights"]["redistributable"])])


def _yes_no(value: bool | None) -> str | None:
    return {True: "yes", False: "no"}.get(value)  # type: ignore[call-overload]


def _group_of(meta: dict[str, Any]) -> tuple:
    published = meta["published"]
    return (meta["publisher"], published[:4] if published else None, meta["genre"], meta["split"],
            _yes_no(meta["rights"]["redistributable"]))


@dataclass
class BlockFacts:
    """The counts some blocks need, over the documents added so far (picklable and mergeable)."""

    specs: tuple[tuple[str, ...], ...]
    documents: Grouped[str] = field(default_factory=Grouped)  # the ``documents`` block: rows, or groups by publisher,
    # year, genre, split and rights with their code points
    labels: dict[str, dict[str, Counter]] = field(default_factory=dict)  # set -> layer -> label -> count
    agreements: dict[tuple[str, ...], SetsTally] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, *args in self.specs:
            if kind == "label-counts":
                self.labels.setdefault(args[0], {layer: Counter() for layer in LAYERS})
            elif kind == "agreement":
                self.agreements.setdefault(tuple(args), SetsTally(args))

    def add(self, doc_id: str, kept: Any, present: set[str]) -> None:
        """One document that passed every check: its parsed files (:class:`chipwar.validation.chunk.Kept`),
        and the set folders that have a file of it."""
        if ("documents",) in self.specs:
            self.documents.add(document_cells(doc_id, kept.meta), _group_of(kept.meta), doc_id,
                               kept.meta["intake"]["length_codepoints"])
        for set_name, counts in self.labels.items():
            data = kept.sets.get(f"annotations/{set_name}")
            if isinstance(data, dict):
                for layer in LAYERS:
                    counts[layer].update(span["label"] for span in data[layer])
        for sets, tally in self.agreements.items():
            have = [name for name in sets if f"annotations/{name}" in present]
            if len(have) == len(sets):
                tally.add(doc_id, [kept.sets[f"annotations/{name}"] for name in sets], len(kept.text))
            elif have:
                tally.missing[doc_id] = have

    def document_rows(self) -> list[str]:
        """The ``documents`` block's rows: one per document, or past 50 documents one per group, most
        documents first, each with its count, an example id and its code points (:mod:`chipwar.grouped`)."""
        if not self.documents.many:
            return self.documents.listed
        return [_row([f"{g.documents:,} documents, e.g. `{g.first}`", *key[:4], f"{g.total:,}", key[4]])
                for key, g in self.documents.ordered()]

    def merge(self, other: BlockFacts) -> None:
        """Add the documents ``other`` counted (all after these in doc-id order)."""
        self.documents.merge(other.documents)
        for set_name, counts in self.labels.items():
            for layer, counter in counts.items():
                counter.update(other.labels[set_name][layer])
        for sets, tally in self.agreements.items():
            tally.merge(other.agreements[sets])
