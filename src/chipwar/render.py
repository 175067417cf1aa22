"""The two reporters: text for people, JSON for machines — the same for every command.

Text puts the location first on each line, like a compiler, and says "and N more" past a
limit. JSON is one envelope for every command::

    {"command": "validate", "ok": true, "exit_code": 0, "counts": {...},
     "problem_count": 0, "problems": [...], "result": {...}, "error": null}

``result`` holds what the command produced (its own fields); ``error`` is set when the
command could not run (then ``exit_code`` is 2 or 3). Every field of a problem is cut to a
bounded length, so a hostile 100 MB value never reaches a terminal whole.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson

from .report import Problem, Report, cut, printable

#: Longest a single problem field may be when rendered.
FIELD_LIMIT = 500


def _bounded(p: Problem) -> dict[str, Any]:
    return {k: printable(cut(v, FIELD_LIMIT)) if isinstance(v, str) else v for k, v in asdict(p).items()}


def _printable_tree(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): _printable_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable_tree(v) for v in value]
    return value


def render_problem(p: Problem) -> str:
    """One problem as text: location, code, who, message, expected/found, and the hint on its own line."""
    b = _bounded(p)
    who = " ".join(part for part in (f"doc={b['doc_id']}" if p.doc_id else "",
                                     f"ann={b['annotation_id']}" if p.annotation_id else "") if part)
    where = f"{b['file']}#{b['pointer']}" if p.pointer else b["file"]
    level = "" if p.severity == "error" else f"{p.severity}: "
    line = f"{where} [{p.code}] {level}{who + ': ' if who else ''}{b['message']}"
    shown = [f"{what} {b[what]}" for what in ("expected", "found") if getattr(p, what) is not None]
    if shown:
        line += f" ({', '.join(shown)})"
    if p.hint:
        line += f"\n    hint: {b['hint']}"
    return line


def render_text(report: Report, limit: int = 200) -> str:
    """Every problem a line (errors first), at most ``limit``; 'and N more' after that."""
    ordered = report.errors + report.warnings
    lines = [render_problem(p) for p in ordered[:limit]]
    if len(ordered) > limit:
        lines.append(f"... and {len(ordered) - limit} more (use --format json for all)")
    return "\n".join(lines)


def envelope(command: str, exit_code: int, report: Report | None = None, result: dict[str, Any] | None = None,
             error: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one JSON shape every command prints with ``--format json``."""
    report = report or Report()
    return {
        "command": command,
        "ok": exit_code == 0,
        "exit_code": exit_code,
        "counts": report.counts,
        "problem_count": len(report.problems),
        "problems": [_bounded(p) for p in report.problems],
        "result": result,
        "error": error,
    }


def render_json(payload: dict[str, Any]) -> str:
    """The payload as indented JSON; strings that JSON cannot hold (lone surrogates) escaped first."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    try:
        return orjson.dumps(payload, option=option, default=str).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(_printable_tree(payload), option=option, default=str).decode()
