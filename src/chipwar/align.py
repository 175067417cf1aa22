"""Aligning an old and a new text, code point by code point: which runs they share and what changed.

Used by ``chipwar reanchor`` (moving spans onto a corrected text) and ``chipwar diff``
(showing a text edit). Offsets are code points, as everywhere.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property

from .report import short

#: Tokens for aligning changed lines: words, runs of white space, single other characters.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")

#: A run of shared code points: (old start, new start, length).
Block = tuple[int, int, int]


@dataclass
class Alignment:
    """Runs of code points an old and a new text share, as (old start, new start, length), in order."""

    blocks: list[Block]
    _starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._starts = [b[0] for b in self.blocks]

    def map_start(self, start: int) -> int | None:
        """New offset of a span start: its first code point kept, or the text just before it."""
        k = bisect_right(self._starts, start) - 1
        if k >= 0:
            i, j, n = self.blocks[k]
            if start <= i + n:
                return j + start - i
        return None

    def map_end(self, end: int) -> int | None:
        """New offset of a span end: its last code point kept, or the text just after it."""
        k = bisect_right(self._starts, end - 1) - 1
        if k >= 0:
            i, j, n = self.blocks[k]
            if end - 1 < i + n:
                return j + end - i
        k = bisect_left(self._starts, end)
        if k < len(self.blocks) and self.blocks[k][0] == end:
            return self.blocks[k][1]
        return None

    @cached_property
    def edits(self) -> list[tuple[int, int, int, int]]:
        """Changed regions as (old start, old end, new start, new end): the gaps between kept runs."""
        return [(i + n, i2, j + n, j2) for (i, j, n), (i2, j2, _) in zip(self.blocks, self.blocks[1:], strict=False)
                if i + n < i2 or j + n < j2]

    def edit_covering(self, start: int, end: int) -> tuple[int, int, int, int] | None:
        """The changed region that holds all of old ``[start, end)``, if one does."""
        return next((edit for edit in self.edits if edit[0] <= start and end <= edit[1]), None)

    def shared(self, old: str, new: str, span: tuple[int, int], target: tuple[int, int]) -> int:
        """Code points old ``span`` and new ``target`` share: kept runs, plus characters matched
        inside the changed regions between them (so a fixed typo still shares most of its word)."""
        (start, end), (s, e) = span, target
        n = sum(max(0, min(end, i + k) - max(start, i)) for i, _, k in self.blocks)
        for oi, oj, ni, nj in self.edits:
            a, b, c, d = max(oi, start), min(oj, end), max(ni, s), min(nj, e)
            if a < b and c < d:
                n += sum(k for *_, k in SequenceMatcher(None, old[a:b], new[c:d], autojunk=False).get_matching_blocks())
        return n


def align(old: str, new: str) -> Alignment:
    """Align two texts: lines first (cheap, and most corrections touch few lines), then tokens."""
    blocks: list[Block] = [(0, 0, 0)]
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    old_at, new_at = _line_starts(old_lines), _line_starts(new_lines)
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            blocks.append((old_at[i1], new_at[j1], old_at[i2] - old_at[i1]))
        elif tag == "replace":
            blocks.extend(_align_tokens(old, new, old_at[i1], old_at[i2], new_at[j1], new_at[j2]))
    blocks.append((len(old), len(new), 0))
    return Alignment(_merge(blocks))


def describe_edits(old: str, new: str, limit: int = 3) -> str:
    """What changed from ``old`` to ``new``, as 'old' → 'new' pieces, for people."""
    edits = align(old, new).edits
    shown = "; ".join(f"{short(old[i1:i2], 30)} → {short(new[j1:j2], 30)}" for i1, i2, j1, j2 in edits[:limit])
    return shown + (f"; and {len(edits) - limit} more" if len(edits) > limit else "")


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _align_tokens(old: str, new: str, a: int, b: int, c: int, d: int) -> list[Block]:
    old_tokens = [(m.start(), m[0]) for m in _TOKEN.finditer(old, a, b)]
    new_tokens = [(m.start(), m[0]) for m in _TOKEN.finditer(new, c, d)]
    matcher = SequenceMatcher(None, [t for _, t in old_tokens], [t for _, t in new_tokens], autojunk=False)
    out = []
    for i, j, n in matcher.get_matching_blocks():
        if n:
            length = sum(len(t) for _, t in old_tokens[i:i + n])
            out.append((old_tokens[i][0], new_tokens[j][0], length))
    return out


def _merge(blocks: list[Block]) -> list[Block]:
    """Join touching runs, so lookups see one run per unchanged stretch."""
    out: list[Block] = []
    for i, j, n in blocks:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j and n:
            pi, pj, pn = out[-1]
            out[-1] = (pi, pj, pn + n)
        else:
            out.append((i, j, n))
    return out
