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


#: Up to this many documents the ``documents`` block has a row per document; past it, a row per group of
#: documents sharing publisher, year, genre, split and rights (the block, and the card that carries the
#: datasheet, would otherwise grow with the corpus).
LISTED_DOCUMENTS = 50


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
    documents: int = 0
    listed: list[str] = field(default_factory=list)  # a row per document, while there are at most LISTED_DOCUMENTS
    groups: dict[tuple, list] = field(default_factory=dict)  # group -> [documents, first id, code points]
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
            self.documents += 1
            self.listed = self.listed + [document_cells(doc_id, kept.meta)] if self.documents <= LISTED_DOCUMENTS else []
            self._group(_group_of(kept.meta), 1, doc_id, kept.meta["intake"]["length_codepoints"])
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

    def _group(self, key: tuple, n: int, first: str, points: int) -> None:
        group = self.groups.setdefault(key, [0, first, 0])
        group[0] += n
        group[1] = min(group[1], first)
        group[2] += points

    def document_rows(self) -> list[str]:
        """The ``documents`` block's rows: one per document, or past :data:`LISTED_DOCUMENTS` one per group,
        most documents first, each with its count, an example id and its code points."""
        if self.documents <= LISTED_DOCUMENTS:
            return self.listed
        ordered = sorted(self.groups.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        return [_row([f"{n:,} documents, e.g. `{first}`", *key[:4], f"{points:,}", key[4]]) for key, (n, first, points) in ordered]

    def merge(self, other: BlockFacts) -> None:
        """Add the documents ``other`` counted (all after these in doc-id order)."""
        self.documents += other.documents
        self.listed = self.listed + other.listed if self.documents <= LISTED_DOCUMENTS else []
        for key, (n, first, points) in other.groups.items():
            self._group(key, n, first, points)
        for set_name, counts in self.labels.items():
            for layer, counter in counts.items():
                counter.update(other.labels[set_name][layer])
        for sets, tally in self.agreements.items():
            tally.merge(other.agreements[sets])
