"""The repository's file formats: one JSON style, reading JSON, and hashing texts.

Writing goes through :mod:`chipwar.writer` (staged, all or nothing).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson


def sha256_bytes(data: bytes) -> str:
    """SHA-256 (hex) of a file's bytes: what a packet records of each file it gives."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 (hex) of a text's UTF-8 bytes: the identity of a document's text."""
    return sha256_bytes(text.encode("utf-8"))


def dumps_json(obj: Any) -> bytes:
    """The one JSON style of the repository: UTF-8, two-space indent, final newline.

    Key order is the caller's, so equal objects built the same way give equal bytes.
    """
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n"


def loads_json(data: bytes | str) -> Any:
    """Parse JSON; raises ``orjson.JSONDecodeError`` (a ``ValueError``) with position."""
    return orjson.loads(data)


def read_json(path: Path) -> Any:
    """Parse a JSON file."""
    return orjson.loads(path.read_bytes())
