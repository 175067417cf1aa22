"""Offsets in code points, UTF-16 units and UTF-8 bytes, on the characters that break tools."""

import pytest

from chipwar.offsets import OffsetError, cp_to_utf8, cp_to_utf16, has_astral, utf8_to_cp, utf16_to_cp

TEXTS = [
    "plain ascii text",
    "emoji 😀 before Acme Corp",
    "ZWJ 👩‍🔬 scientist, flag 🇨🇳 China",
    "CJK 中国芯片 chips",
    "combining q̇ and कि before Huawei",
    "mixed 😀中e\u0301🇹🇼 end",
]


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip_every_boundary(text: str) -> None:
    for cp in range(len(text) + 1):
        u16 = cp_to_utf16(text, cp)
        assert u16 == len(text[:cp].encode("utf-16-le")) // 2
        assert utf16_to_cp(text, u16) == cp
        b = cp_to_utf8(text, cp)
        assert b == len(text[:cp].encode("utf-8"))
        assert utf8_to_cp(text, b) == cp


def test_span_after_emoji_differs_by_unit() -> None:
    text = "Sometimes 😀 Acme Corp"
    start = text.index("Acme")
    assert cp_to_utf16(text, start) == start + 1
    assert cp_to_utf8(text, start) == start + 3
    assert has_astral(text) and not has_astral("中文 e\u0301")


def test_offset_inside_a_character_is_an_error() -> None:
    text = "a😀b"
    with pytest.raises(OffsetError, match="surrogate pair"):
        utf16_to_cp(text, 2)
    with pytest.raises(OffsetError, match="multi-byte"):
        utf8_to_cp(text, 2)
    with pytest.raises(OffsetError, match="outside"):
        cp_to_utf16(text, 4)
    with pytest.raises(OffsetError, match="past the end"):
        utf16_to_cp(text, 5)
