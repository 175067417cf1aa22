"""The one place where offsets change units.

Stored offsets are Unicode code points, end-exclusive (Python ``str`` indices). Browsers
and Label Studio's front end count UTF-16 code units; Arrow, Rust and many tokenizers count
UTF-8 bytes. A code point above U+FFFF (an emoji, some CJK) is 2 UTF-16 units and 4 bytes;
a combining mark is its own code point. An offset that falls inside a character in the
other unit is an error, never rounded silently.
"""

from __future__ import annotations


class OffsetError(ValueError):
    """An offset outside the text, or inside one character."""


def _check_cp(text: str, cp: int) -> None:
    if not 0 <= cp <= len(text):
        raise OffsetError(f"code point offset {cp} is outside the text (length {len(text)})")


def cp_to_utf16(text: str, cp: int) -> int:
    """UTF-16 code units before code point ``cp``."""
    _check_cp(text, cp)
    return cp + sum(1 for ch in text[:cp] if ord(ch) > 0xFFFF)


def utf16_to_cp(text: str, u16: int) -> int:
    """Code point index at UTF-16 offset ``u16``; raises inside a surrogate pair."""
    if u16 < 0:
        raise OffsetError(f"UTF-16 offset {u16} is negative")
    units = 0
    for i, ch in enumerate(text):
        if units == u16:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > u16:
            raise OffsetError(f"UTF-16 offset {u16} falls inside the surrogate pair of {ch!r} at code point {i}")
    if units == u16:
        return len(text)
    raise OffsetError(f"UTF-16 offset {u16} is past the end of the text ({units} units)")


def cp_to_utf8(text: str, cp: int) -> int:
    """UTF-8 bytes before code point ``cp``."""
    _check_cp(text, cp)
    return len(text[:cp].encode("utf-8"))


def utf8_to_cp(text: str, byte: int) -> int:
    """Code point index at UTF-8 byte offset ``byte``; raises inside a multi-byte character."""
    data = text.encode("utf-8")
    if not 0 <= byte <= len(data):
        raise OffsetError(f"UTF-8 offset {byte} is outside the text ({len(data)} bytes)")
    if byte < len(data) and data[byte] & 0xC0 == 0x80:
        raise OffsetError(f"UTF-8 offset {byte} falls inside a multi-byte character")
    return len(data[:byte].decode("utf-8"))


def has_astral(text: str) -> bool:
    """Whether UTF-16 and code-point offsets can differ anywhere in ``text``."""
    return any(ord(ch) > 0xFFFF for ch in text)
