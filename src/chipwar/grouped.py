"""Tables of documents that stay small: a row per document while there are few, then a row per group.

The datasheet's ``documents`` block and the card's Data Statement list documents. Past
:data:`LISTED_DOCUMENTS` a row per document would make them grow with the corpus (the Hub and
``load_dataset`` read a card whole), so documents that share a table's values share a row,
with how many they are and an example id. Counted document by document and mergeable: a
validation or a build counts each chunk of documents apart and merges the chunks in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

#: Up to this many documents a table has a row per document.
LISTED_DOCUMENTS = 50


@dataclass
class Group:
    """Documents sharing a table's values: how many, the first id, and a sum the table shows (code points)."""

    documents: int
    first: str
    total: int = 0


@dataclass
class Grouped(Generic[T]):
    """One table's documents: every row while there are at most :data:`LISTED_DOCUMENTS`, and the groups always."""

    documents: int = 0
    listed: list[T] = field(default_factory=list)
    groups: dict[tuple, Group] = field(default_factory=dict)

    @property
    def many(self) -> bool:
        """Past :data:`LISTED_DOCUMENTS`: the table shows groups."""
        return self.documents > LISTED_DOCUMENTS

    def add(self, row: T, key: tuple, doc_id: str, amount: int = 0) -> None:
        """One document: its row, the values it is grouped by, and what it adds to its group's total."""
        self.documents += 1
        if self.many:
            self.listed.clear()
        else:
            self.listed.append(row)
        self._group(key, Group(1, doc_id, amount))

    def _group(self, key: tuple, other: Group) -> None:
        group = self.groups.setdefault(key, Group(0, other.first))
        group.documents += other.documents
        group.first = min(group.first, other.first)
        group.total += other.total

    def merge(self, other: Grouped[T]) -> None:
        """Add the documents ``other`` counted (all after these in doc-id order)."""
        self.documents += other.documents
        self.listed = [] if self.many else self.listed + other.listed
        for key, group in other.groups.items():
            self._group(key, group)

    def ordered(self) -> list[tuple[tuple, Group]]:
        """The groups, most documents first (then by first id)."""
        return sorted(self.groups.items(), key=lambda kv: (-kv[1].documents, kv[1].first))
