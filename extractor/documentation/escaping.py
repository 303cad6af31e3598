"""Escaping text from the database and the profile, for plain ISO 8859-1 text and for HTML/SVG.

Descriptions and names come from the source and from people; they may hold any character,
markup included (``<script>``). Here they become text and only text, with nothing dropped.
"""

from __future__ import annotations

import html
import unicodedata


def _control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" and ch not in "\n\t"


def code_point(ch: str) -> str:
    """``\\uXXXX`` (``\\UXXXXXXXX`` above FFFF): how a character that cannot be shown is written."""
    code = ord(ch)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def latin1(text: str) -> tuple[str, int]:
    """The text with what ISO 8859-1 cannot show (and control characters) as ``\\uXXXX``, and how many.

    A backslash in the text is doubled, so that every escape reads back without doubt.
    """
    out = []
    n = 0
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ord(ch) > 0xFF or _control(ch):
            out.append(code_point(ch))
            n += 1
        else:
            out.append(ch)
    return "".join(out), n


def h(text: object) -> str:
    """Text for HTML or SVG content and attribute values: markup escaped, control characters visible."""
    s = str(text)
    if any(_control(ch) for ch in s):
        s = "".join(code_point(ch) if _control(ch) else ch for ch in s)
    return html.escape(s, quote=True)
