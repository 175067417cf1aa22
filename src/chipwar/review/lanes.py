"""Spans drawn over a text: the text cut at every span boundary, each span given a lane.

Spans of one document overlap and nest (a claim holds entities and markers; a marker
crosses a claim's edge). Inserting markup into the text string cannot express that, so the
text is cut into *segments* at every start and end, each segment knowing which marks cover
it, and every underlined mark gets the lowest *lane* free over its whole extent, so two
marks that overlap never share an underline. The template escapes each segment's text.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Iterable, Sequence


@dataclass(frozen=True, slots=True)
class Mark:
    """Something drawn over a stretch of the text: a span, a zone or an attribution cue.

    ``key`` is the anchor of the mark on the page; ``kind`` is its layer (``cue`` for a cue,
    whose ``key`` names its claim and link); ``lane`` is ``None`` for marks that are not
    underlined (zones tint the background, cues light up with their claim).
    """

    key: str
    kind: str
    label: str
    start: int
    end: int
    lane: int | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the text between two consecutive boundaries, and the marks over it."""

    start: int
    end: int
    text: str
    zone: Mark | None
    underlines: tuple[Mark, ...]
    cues: tuple[str, ...] = field(default=())


def assign_lanes(spans: Iterable[tuple[str, int, int]]) -> dict[str, int]:
    """The lane of each ``(key, start, end)``: the lowest lane free from its start to its end.

    Longer spans are placed first at equal starts, so an outer span sits below the spans
    nested in it; lanes are reused as soon as a span ends (interval colouring, optimal).
    """
    busy: list[tuple[int, int]] = []  # (end, lane) of spans still open
    free: list[int] = []
    lanes: dict[str, int] = {}
    used = 0
    for key, start, end in sorted(spans, key=lambda s: (s[1], -s[2], s[0])):
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            lane = heapq.heappop(free)
        else:
            lane, used = used, used + 1
        lanes[key] = lane
        heapq.heappush(busy, (end, lane))
    return lanes


def segments(text: str, marks: Sequence[Mark]) -> list[Segment]:
    """The text cut at every boundary of ``marks`` (clipped to the text), in order; each segment
    with the zone over it, its underlines by lane and the keys of the cues over it."""
    length = len(text)
    cuts = sorted({0, length, *(min(max(m.start, 0), length) for m in marks), *(min(max(m.end, 0), length) for m in marks)})
    starting: dict[int, list[Mark]] = {}
    for mark in marks:
        if mark.end > mark.start:
            starting.setdefault(max(mark.start, 0), []).append(mark)
    open_marks: list[Mark] = []
    out: list[Segment] = []
    zone: Mark | None = None
    lines: tuple[Mark, ...] = ()
    cues: tuple[str, ...] = ()
    for start, end in zip(cuts, cuts[1:], strict=False):
        opened = starting.get(start, ())
        if opened or any(m.end <= start for m in open_marks):  # what covers the text changed at this cut
            open_marks = [m for m in open_marks if m.end > start] + list(opened)
            zone = next((m for m in open_marks if m.kind == "zones"), None)
            lines = tuple(sorted((m for m in open_marks if m.lane is not None), key=_lane))
            cues = tuple(m.key for m in open_marks if m.kind == "cue")
        out.append(Segment(start, end, text[start:end], zone, lines, cues))
    return out


def _lane(mark: Mark) -> int:
    return mark.lane or 0
