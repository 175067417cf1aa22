"""Which spans of different sets are the same unit: one-to-one matching by exact offsets or by overlap.

A *unit* holds at most one span of each set. Units are formed by greedy clustering: every
pair of overlapping spans of two different sets is a candidate, taken most alike first —
the largest overlap *relative to the two spans* (shared code points over the code points
either covers, so identical offsets come first and a short span nested in a long one is
not taken for it), then the same label, then the larger overlap, then position and set
order; a candidate joins the two units its spans are in when no set would then have two
spans in one unit. For two sets this is one-to-one matching, most alike first; for more it
is the same rule applied across all sets at once, so a unit may gather a span that
overlaps only another member (A with B, B with C).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from fractions import Fraction
from itertools import combinations
from typing import Any, Iterator, Sequence

Span = dict[str, Any]
Unit = tuple[Span | None, ...]


def match_exact(a: Sequence[Span], b: Sequence[Span]) -> int:
    """How many spans of ``a`` and ``b`` pair one to one with identical start and end."""
    free: dict[tuple[int, int], int] = {}
    for span in b:
        key = (span["start"], span["end"])
        free[key] = free.get(key, 0) + 1
    matched = 0
    for span in a:
        key = (span["start"], span["end"])
        if free.get(key):
            free[key] -= 1
            matched += 1
    return matched


def overlaps(a: Sequence[Span], b: Sequence[Span]) -> Iterator[tuple[int, int, int]]:
    """(shared code points, index in a, index in b) for every pair of spans that overlap."""
    order = sorted(range(len(b)), key=lambda j: b[j]["start"])
    starts = [b[j]["start"] for j in order]
    longest = max((y["end"] - y["start"] for y in b), default=0)
    for i, x in enumerate(a):
        for k in range(bisect_right(starts, x["start"] - longest), bisect_left(starts, x["end"])):
            y = b[order[k]]
            shared = min(x["end"], y["end"]) - max(x["start"], y["start"])
            if shared > 0:
                yield shared, i, order[k]


def _alike(shared: int, a: Span, b: Span) -> Fraction:
    """Shared code points over those either span covers (1 for identical offsets), exact so the order never depends on rounding."""
    return Fraction(shared, (a["end"] - a["start"]) + (b["end"] - b["start"]) - shared)


def units_by_overlap(spans_by_set: Sequence[Sequence[Span]]) -> list[Unit]:
    """Every span of every set in exactly one unit (see the module's rule), units in order of their first span."""
    candidates = []
    for s, t in combinations(range(len(spans_by_set)), 2):
        a, b = spans_by_set[s], spans_by_set[t]
        candidates += [(-_alike(shared, a[i], b[j]), a[i].get("label") != b[j].get("label"), -shared, a[i]["start"], b[j]["start"],
                        s, t, i, j) for shared, i, j in overlaps(a, b)]
    candidates.sort()
    owner = {(s, i): (s, i) for s, spans in enumerate(spans_by_set) for i in range(len(spans))}
    members: dict[tuple[int, int], dict[int, int]] = {key: {key[0]: key[1]} for key in owner}
    for *_, s, t, i, j in candidates:
        one, other = owner[s, i], owner[t, j]
        if one == other or members[one].keys() & members[other].keys():
            continue
        for member in members[other].items():
            owner[member] = one
        members[one].update(members.pop(other))
    units = [tuple(spans_by_set[s][members[key][s]] if s in members[key] else None for s in range(len(spans_by_set)))
             for key in members]
    return sorted(units, key=lambda unit: min((span["start"], span["end"]) for span in unit if span is not None))


def unit_keys(units: Sequence[Unit], width: int) -> list[dict[str, int]]:
    """Per set: span id -> index of its unit (to compare links between spans, e.g. ``restates``, across sets)."""
    keys: list[dict[str, int]] = [{} for _ in range(width)]
    for index, unit in enumerate(units):
        for s, span in enumerate(unit):
            if span is not None:
                keys[s][span["id"]] = index
    return keys
