"""The text form rules: how the bytes of a received article become a corpus text.

One place for them, used by ``chipwar intake`` (a new document), ``chipwar reanchor`` (a
corrected text) and ``chipwar rehydrate`` (a reader's own copy, which must hash like the
stored text did), so the three can never disagree:

1. the bytes are decoded as UTF-8 (nothing else is guessed);
2. a leading byte-order mark is removed (``bom_removed``);
3. CRLF and lone CR line ends become LF (``crlf_to_lf``);
4. the text is put in Unicode NFC (``nfc``);
5. refused: a text that is empty or only white space, and a text holding a C0 control
   character other than tab and line feed (NUL, form feed, escape…), which no article has
   and which means the file is not the article's text (a binary, a word-processor file).

Each normalisation applied is named in the returned steps, which the metadata records.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from .errors import EnvironmentProblem, UsageError

#: C0 control characters a text may not hold: all but tab (U+0009) and line feed (U+000A).
#: CR (U+000D) never reaches the check: rule 3 has turned it into LF.
FORBIDDEN_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f]")

CONTROL_NAMES = {0x00: "NUL", 0x08: "backspace", 0x0B: "vertical tab", 0x0C: "form feed", 0x1B: "escape"}


class TextFormError(UsageError):
    """Received bytes that are not an article's text under the text form rules; ``reason`` is
    the message without the file name."""

    code = "text_form"

    def __init__(self, name: str, reason: str, *, hint: str) -> None:
        super().__init__(f"{name}: {reason}", hint=hint)
        self.reason = reason


def normalise(raw: bytes, name: str) -> tuple[str, list[str]]:
    """The corpus text of received bytes, and the normalisations applied (in order).

    Raises :class:`TextFormError` naming ``name`` and what to do when the bytes are not
    UTF-8, hold no text, or hold a forbidden control character.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TextFormError(name, f"not UTF-8 at byte {exc.start}",
                            hint="convert it to UTF-8 first (e.g. iconv) and record the source encoding in a note") from None
    steps = []
    if text.startswith("\ufeff"):
        text, steps = text[1:], steps + ["bom_removed"]
    if "\r" in text:
        text, steps = text.replace("\r\n", "\n").replace("\r", "\n"), steps + ["crlf_to_lf"]
    if not unicodedata.is_normalized("NFC", text):
        text, steps = unicodedata.normalize("NFC", text), steps + ["nfc"]
    problem = refusal(text)
    if problem:
        raise TextFormError(name, problem,
                            hint="give the article's plain text (UTF-8); a binary or word-processor file is not one")
    return text, steps


def refusal(text: str) -> str | None:
    """Why a (decoded, normalised) text is refused by rule 5, or ``None`` when it is not."""
    if not text.strip():
        return "holds no text (it is empty or only white space)"
    found = FORBIDDEN_CONTROLS.search(text)
    if found:
        at = found.start()
        code = ord(found.group())
        name = CONTROL_NAMES.get(code, "a control character")
        line = text.count("\n", 0, at) + 1
        return f"holds U+{code:04X} ({name}) at code point {at} (line {line}); a text may hold no control character but tab and line feed"
    return None


def read_received(path: Path, what: str = "received file") -> bytes:
    """The bytes of a file a user hands in, or a clear error: missing, a folder, not a regular
    file (a pipe would block for ever), or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise EnvironmentProblem(f"{path}: no such {what}", hint="check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not a {what}", hint="pass the text file itself") from None
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot read the {what} ({exc.strerror})", hint="check its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{path}: is a folder, not a {what}", hint="pass the text file itself")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{path}: not a regular file (a pipe, socket or device)", hint="save the text to a file and pass that")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot read the {what} ({exc.strerror})", hint="check the file") from None
    finally:
        os.close(fd)
