"""Terminal-safe text and brief quoting of user values in messages."""

from __future__ import annotations

from convstudio.core.text import brief, terminal_safe


def test_terminal_safe_escapes_controls_bidi_and_surrogates():
    raw = "a\x1b[31mb\x00c\x07d\x9be\u202ef\ud800g\nh\ti"
    shown = terminal_safe(raw)
    assert shown == "a\\x1b[31mb\\x00c\\x07d\\x9be\\u202ef\\ud800g\\x0ah\\x09i"
    shown.encode("utf-8")


def test_terminal_safe_keeps_ordinary_text_and_cuts_to_a_limit():
    assert terminal_safe("Réseau 中文 \U0001F600") == "Réseau 中文 \U0001F600"
    assert terminal_safe("x" * 50, limit=10) == "x" * 10 + "..."


def test_brief_shortens_long_text_huge_numbers_and_deep_data():
    assert len(brief("x" * 10**6)) < 80
    assert brief(10**5000) == "a number of about 5000 digits"
    assert brief(-(10**30)) == "a negative number of about 30 digits"
    nested: list = []
    for _ in range(10_000):
        nested = [nested]
    assert len(brief(nested)) < 40
    assert brief("\x1b]0;t\x07") == "'\\x1b]0;t\\x07'"
