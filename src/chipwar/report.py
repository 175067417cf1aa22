"""Problems as values, and their two renderings (text for people, JSON for machines).

A :class:`Problem` names where (file, JSON pointer), which document and annotation, what
was expected, what was found, and what to do. Library code returns a :class:`Report`;
only the CLI prints it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

import orjson


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

    def location(self) -> str:
        return f"{self.file}#{self.pointer}" if self.pointer else self.file


@dataclass
class Report:
    """What a check found, plus counts of what it looked at."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

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
    """A value as a short, quoted, one-line string for messages."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_text(report: Report, limit: int = 200) -> str:
    """Location first on each line, like a compiler; 'and N more' past ``limit``."""
    lines = []
    for p in report.problems[:limit]:
        who = " ".join(
            part for part in (f"doc={p.doc_id}" if p.doc_id else "", f"ann={p.annotation_id}" if p.annotation_id else "") if part
        )
        line = f"{p.location()} [{p.code}] {who + ': ' if who else ''}{p.message}"
        if p.expected is not None or p.found is not None:
            line += f" (expected {p.expected}, found {p.found})"
        if p.hint:
            line += f"\n    hint: {p.hint}"
        lines.append(line)
    if len(report.problems) > limit:
        lines.append(f"... and {len(report.problems) - limit} more (use --format json for all)")
    return "\n".join(lines)


def render_json(report: Report, **extra: Any) -> str:
    """Every problem, machine-readable."""
    payload = {"ok": report.ok, "problem_count": len(report.problems), "counts": report.counts, **extra,
               "problems": [asdict(p) for p in report.problems]}
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode()
