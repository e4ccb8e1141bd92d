"""Text that is safe to show: control characters escaped, user values shortened.

A project file can hold any string; printed as is, an ANSI escape in a title repaints the
terminal and a lone surrogate stops the print with an encoding error. :func:`terminal_safe`
escapes them; :func:`brief` quotes a user value in a message without copying megabytes into it.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

__all__ = ["brief", "terminal_safe"]

# C0 and C1 controls, DEL, bidirectional overrides and isolates, lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, limit: int | None = None) -> str:
    """``text`` with control, bidi and surrogate characters escaped (``\\x1b``), cut to ``limit`` chars."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return _UNSAFE.sub(_escape, text)


class _Brief(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 64:
            return f"a {'negative ' if x < 0 else ''}number of about {int(x.bit_length() * 0.30103)} digits"
        return repr(x)


_REPR = _Brief()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 4


def brief(value: Any) -> str:
    """A short, terminal-safe ``repr`` of ``value`` for a message (long text and huge numbers cut)."""
    try:
        return terminal_safe(_REPR.repr(value))
    except (ValueError, RecursionError, MemoryError):  # pragma: no cover - reprlib bounds depth and size
        return f"a {type(value).__name__}"
