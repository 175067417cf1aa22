"""The offsets and surface text of one span or cue: in range, in order, equal to the document's text, trimmed."""

from __future__ import annotations

from typing import Any

from ..report import Problem, Report, pointer, short


def check_offsets(where: tuple[str | int, ...], sid: str | None, start: int, end: int, surface: Any, text: str, n: int,
                  rel: str, doc_id: str, report: Report) -> None:
    """Offsets and surface text of one span (or cue) at JSON path ``where`` in its file."""
    if end <= start or end > n:
        at = _nearest(text, surface, start) if isinstance(surface, str) else None
        advice = (f"the span text occurs at start={at}, end={at + len(surface)}" if at is not None
                 else "offsets count code points from 0; end is the position after the span's last code point")
        if end <= start:
            report.add(Problem("offset_order", "span ends before or where it starts", rel, doc_id, sid, pointer(*where, "end"),
                               expected=f"end > start ({_number(start)})", found=_number(end), hint=advice))
        else:
            report.add(Problem("offset_out_of_range", "span ends past the end of the text", rel, doc_id, sid, pointer(*where, "end"),
                               expected=f"end <= {n} (text length in code points)", found=_number(end), hint=advice))
        return
    if not isinstance(surface, str):
        return
    actual = text[start:end]
    if actual != surface:
        at = _nearest(text, surface, start)
        report.add(Problem("offset_text_mismatch", "text[start:end] differs from the span's text", rel, doc_id, sid,
                           pointer(*where, "start"), expected=short(surface), found=short(actual),
                           hint=(f"the span text occurs at start={at}, end={at + len(surface)}" if at is not None
                                 else "the span text does not occur in the document; fix text or offsets")))
    elif surface[:1].isspace() or surface[-1:].isspace():
        report.add(Problem("span_whitespace_edge", "span starts or ends with white space", rel, doc_id, sid, pointer(*where, "text"),
                           expected="no white space at span edges", found=short(surface), hint="trim the span and its offsets"))


def _number(value: int) -> str:
    """An integer for a message, bounded (Python refuses to print integers past 4,300 digits)."""
    return str(value) if abs(value) < 10**30 else f"an integer of {value.bit_length()} bits"


def _nearest(text: str, needle: str, near: int) -> int | None:
    """Offset of the occurrence of ``needle`` closest to ``near``, to suggest a fix."""
    if not needle:
        return None
    best, pos = None, text.find(needle)
    while pos >= 0:
        if best is None or abs(pos - near) < abs(best - near):
            best = pos
        pos = text.find(needle, pos + 1)
    return best
