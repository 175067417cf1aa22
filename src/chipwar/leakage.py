"""Passages of the annotated texts that leak into what annotators are given.

Guidelines and label definitions must teach with constructed examples: an example taken
from a text the annotator will annotate is an answer key, and agreement measured with it
measures copying. Two tests, on word sequences compared case-insensitively:

- any run of :data:`RUN` words shared with a corpus text;
- any quoted phrase (in '…', "…", ‘…’ or “…”) of three or more words, or holding a
  capitalised word (a name), that occurs in a corpus text. Short quoted cue words
  ("according to", "may") are ordinary language and pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

#: Length of a shared word run that counts as copied.
RUN = 7

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_QUOTED = re.compile(r"(?<!\w)(?:'([^'\n]+?)'|\"([^\"\n]+?)\"|‘([^’\n]+?)’|“([^”\n]+?)”)(?!\w)")


@dataclass(frozen=True)
class Leak:
    """One passage of a guidance text that also occurs in a corpus text."""

    kind: str  # "run" (seven shared words) or "quote" (a quoted phrase)
    passage: str
    doc_id: str
    line: int  # line of the guidance text, 1-based


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _runs(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    first = needle[0]
    return any(haystack[i:i + n] == needle for i, w in enumerate(haystack) if w == first)


def find_leaks(guidance: str, texts: dict[str, str]) -> list[Leak]:
    """Every passage of ``guidance`` copied from one of ``texts`` (doc id -> text), in guidance order."""
    corpus = {doc_id: _words(text) for doc_id, text in texts.items()}
    runs = {doc_id: _runs(words, RUN) for doc_id, words in corpus.items()}
    leaks: list[Leak] = []
    for number, line in enumerate(guidance.splitlines(), start=1):
        words = _words(line)
        for doc_id, doc_runs in runs.items():
            shared = [i for i in range(len(words) - RUN + 1) if tuple(words[i:i + RUN]) in doc_runs]
            if shared:
                start = shared[0]
                leaks.append(Leak("run", " ".join(words[start:shared[-1] + RUN]), doc_id, number))
        for match in _QUOTED.finditer(line):
            phrase = next(g for g in match.groups() if g is not None)
            phrase_words = _words(phrase)
            if not phrase_words or (len(phrase_words) < 3 and not any(w[:1].isupper() for w in _WORD.findall(phrase))):
                continue
            leaks.extend(Leak("quote", phrase, doc_id, number) for doc_id, words in corpus.items() if _contains(words, phrase_words))
    return leaks


def schema_descriptions(node: object) -> Iterable[str]:
    """Every ``description`` and ``x-…`` string of a JSON Schema, the text an annotator reads as label definitions."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key == "description" or key.startswith("x-")):
                yield value
            else:
                yield from schema_descriptions(value)
    elif isinstance(node, list):
        for item in node:
            yield from schema_descriptions(item)
