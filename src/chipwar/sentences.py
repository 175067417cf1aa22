"""Sentences and tokens over a document text, with code-point offsets.

Deliberately simple and documented, so users can reproduce it: a sentence ends at a line
break, or after ``.``, ``!``, ``?`` or ``…`` (and any closing quote or bracket) followed by
white space and not by a lower-case letter ("the U.K. in" stays one). Tokens are runs of word characters, a possessive ``'s``/``’s``, or any other
single non-space character (so hyphens, ``#`` and ``@`` are tokens of their own, as in
OntoNotes).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+(?![a-z])|\n+")
_TOKEN = re.compile(r"\w+|['’]s\b|\S")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence: ``text[start:end]`` with no white space at either edge."""

    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences covering every non-space character of ``text``, in order."""
    out: list[Sentence] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        _add(text, pos, m.start() + len(m.group().rstrip()), out)
        pos = m.end()
    _add(text, pos, len(text), out)
    return out


def _add(text: str, start: int, end: int, out: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end))


def token_offsets(text: str) -> tuple[list[int], list[int]]:
    """Start and end offsets of every token of ``text``, in order.

    Tokenizing the whole text once gives the same tokens as tokenizing sentence by sentence:
    no token holds white space and every sentence boundary lies in white space."""
    spans = list(map(re.Match.span, _TOKEN.finditer(text)))
    if not spans:
        return [], []
    starts, ends = zip(*spans, strict=False)
    return list(starts), list(ends)


class SentenceIndex:
    """Finds the sentence(s) a span lies in."""

    def __init__(self, sentences: list[Sentence]) -> None:
        self.sentences = sentences
        self._starts = [s.start for s in sentences]

    def covering(self, start: int, end: int) -> tuple[int, int]:
        """(start, end) of the sentence holding the span, widened over every sentence it touches."""
        first = max(bisect_right(self._starts, start) - 1, 0)
        last = max(bisect_right(self._starts, max(end - 1, start)) - 1, first)
        return self.sentences[first].start, self.sentences[last].end
