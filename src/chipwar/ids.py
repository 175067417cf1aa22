"""The shapes of the names a user types: document ids and annotation set names.

They become file and folder names, so they are checked before anything is read or written:
a document id that is a path (``../corpus/x``), holds a slash, or is too long for a file
name is refused with a :class:`chipwar.errors.UsageError`. The patterns are the schema's
(``schema/document.schema.json`` ``doc_id``, ``schema/annotations.schema.json``
``annotator.name``); the length bound leaves room for a suffix and a staging prefix inside
the usual 255-byte file-name limit.
"""

from __future__ import annotations

import re

from .errors import UsageError

DOC_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
SET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_LENGTH = 200


def _check(kind: str, value: str, pattern: re.Pattern[str], example: str) -> str:
    if not pattern.fullmatch(value) or len(value) > MAX_LENGTH:
        shown = value if len(value) <= 60 else value[:60] + f"… ({len(value)} characters)"
        raise UsageError(f"{kind} {shown!r} is not valid: it must match {pattern.pattern} and be at most {MAX_LENGTH} characters",
                         hint=f"e.g. {example}")
    return value


def check_doc_id(value: str) -> str:
    """``value`` when it is a well-formed document id; else a usage error."""
    return _check("document id", value, DOC_ID, "reg-2023-qiming (lowercase letters, digits, hyphens)")


def check_set_name(value: str) -> str:
    """``value`` when it is a well-formed annotation set name; else a usage error."""
    return _check("annotation set name", value, SET_NAME, "alice or pass-2 (lowercase letters, digits, '-', '_')")
