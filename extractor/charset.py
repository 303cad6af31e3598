"""Charset policy: which characters can be written, and what the profile says to do with the rest.

ISO 8859-1 is the depot default. A character outside it is never dropped or replaced on the quiet:
either the profile maps it explicitly (every substitution is reported with table, column, row key
and code points), the table falls back to UTF-8 (reported), or the run stops and publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LATIN1 = "ISO-8859-1"
UTF8 = "UTF-8"
CHARSETS: dict[str, str] = {LATIN1: "latin-1", UTF8: "utf-8"}
"""ADDML charset name -> Python codec; the two charsets Arkade 5 is known to decode."""

_ALIASES = {"iso-8859-1": LATIN1, "iso_8859_1": LATIN1, "latin-1": LATIN1, "latin1": LATIN1,
            "utf-8": UTF8, "utf8": UTF8}

SAMI_LETTERS = frozenset("ČčĐđŊŋŠšŦŧŽžǤǥǦǧǨǩƷʒǮǯ")
"""Sami letters outside Latin-1; mapping them loses meaning, so the report names them apart."""


def canonical_charset(name: str) -> str:
    """The ADDML spelling of a charset name, or ValueError listing the supported ones."""
    key = name.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unsupported charset {name!r}; use one of {', '.join(CHARSETS)}")


def codepoints(chars: str) -> str:
    """``U+2013 U+010C`` for the given characters, for reports that stay readable in any charset."""
    return " ".join(f"U+{ord(c):04X}" for c in chars)


@dataclass(frozen=True)
class CharsetPolicy:
    """What to do with characters the output charset cannot hold."""

    encoding: str = LATIN1
    mapping: tuple[tuple[str, str], ...] = ()
    utf8_fallback: bool = False
    _table: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._table.update({ord(src): dst for src, dst in self.mapping})

    def with_encoding(self, encoding: str) -> CharsetPolicy:
        return CharsetPolicy(encoding, self.mapping, self.utf8_fallback)


def foreign_chars(text: str, encoding: str) -> str:
    """The distinct characters of ``text`` that ``encoding`` cannot hold, in order of appearance."""
    if text.isascii():
        return ""
    if encoding == LATIN1:
        if max(text) <= "\xff":
            return ""
        return "".join(dict.fromkeys(c for c in text if c > "\xff"))
    # UTF-8 holds every code point except lone surrogates.
    return "".join(dict.fromkeys(c for c in text if "\ud800" <= c <= "\udfff"))


def apply_mapping(text: str, policy: CharsetPolicy, encoding: str) -> tuple[str, str]:
    """Map the characters ``encoding`` cannot hold; return the new text and the characters mapped."""
    bad = foreign_chars(text, encoding)
    if not bad:
        return text, ""
    mapped = "".join(c for c in bad if ord(c) in policy._table)
    if not mapped:
        return text, ""
    return text.translate({ord(c): policy._table[ord(c)] for c in mapped}), mapped
