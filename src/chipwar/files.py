"""Reading and writing corpus files: one JSON style, atomic writes, text hashing.

Every file the project writes goes through :func:`write_bytes_atomic`, so a crash or an
error never leaves a half-written file behind (temporary file in the same folder, then
``os.replace``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson


def sha256_text(text: str) -> str:
    """SHA-256 (hex) of a text's UTF-8 bytes: the identity of a document's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing."""
    write_files_atomic({path: data})


def write_files_atomic(files: dict[Path, bytes]) -> None:
    """Write several files all or none: every temporary file is complete before the first rename.

    A failure while writing leaves every target as it was; what remains after that is a
    rename per file, which fails only with the file system itself.
    """
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON in the repository style, all or nothing."""
    write_bytes_atomic(path, dumps_json(obj))


def write_text_atomic(path: Path, text: str) -> None:
    """Write a UTF-8 text file exactly (no newline translation), all or nothing."""
    write_bytes_atomic(path, text.encode("utf-8"))
