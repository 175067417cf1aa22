"""Problems as values: what every library call reports, and how values are shown in messages.

A :class:`Problem` names where (file, JSON pointer), which document and annotation, what
was expected, what was found, and what to do, with a severity (``error`` stops a clean
exit, ``warning`` does not). Library code returns results holding a :class:`Report`; only
the CLI renders them (:mod:`chipwar.render`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

import orjson

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the corpus."""

    code: str
    message: str
    file: str
    doc_id: str | None = None
    annotation_id: str | None = None
    pointer: str = ""
    expected: str | None = None
    found: str | None = None
    hint: str | None = None
    severity: Severity = "error"

    def location(self) -> str:
        return f"{self.file}#{self.pointer}" if self.pointer else self.file


@dataclass
class Report:
    """What a check found, plus counts of what it looked at."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem is an error (warnings alone leave a report clean)."""
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def short(value: Any, limit: int = 80) -> str:
    """A value as a short, quoted, one-line string for messages; a long one is cut and its length said.

    Bounded in time and output whatever the value: a 100 MB string is cut before it is quoted.
    """
    if isinstance(value, str):
        text = repr(value[:limit])
        return text if len(value) <= limit else f"{text[: limit - 1]}… ({len(value):,} characters)"
    try:
        text = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        try:
            text = repr(value)[: limit * 4]
        except RecursionError:
            text = f"<{type(value).__name__} nested too deep to show>"
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters)"


def printable(text: str | Path) -> str:
    """Text (or a path) safe to print and to put in JSON: a lone surrogate, from a file name
    that is not UTF-8, is shown as its escape (``\\udcff``) instead of crashing the output."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def cut(text: str, limit: int = 500) -> str:
    """A message field cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters in all)"
