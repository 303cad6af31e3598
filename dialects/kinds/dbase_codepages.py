"""Which code page a .dbf's text is in: the language driver byte (header byte 29), dBase 7's
language driver name, or what the profile or ``--codepage`` says.

The table is the one the Visual FoxPro documentation ("Code Pages Supported by Visual FoxPro") and
dBase's language drivers (DB437US0, DB865NO0 …) give. Kamenicky (895) and Mazovia (620) have no
codec in Python: such a table is refused with what to do (give an equivalent with ``--codepage``).
"""

from __future__ import annotations

import codecs
import re

from extractor.errors import ConfigError

DRIVERS: dict[int, tuple[str, str]] = {
    0x01: ("cp437", "US MS-DOS"),
    0x02: ("cp850", "International MS-DOS"),
    0x03: ("cp1252", "Windows ANSI"),
    0x04: ("mac_roman", "Standard Macintosh"),
    0x08: ("cp865", "Danish OEM"),
    0x09: ("cp437", "Dutch OEM"),
    0x0A: ("cp850", "Dutch OEM (secondary)"),
    0x0B: ("cp437", "Finnish OEM"),
    0x0D: ("cp437", "French OEM"),
    0x0E: ("cp850", "French OEM (secondary)"),
    0x0F: ("cp437", "German OEM"),
    0x10: ("cp850", "German OEM (secondary)"),
    0x11: ("cp437", "Italian OEM"),
    0x12: ("cp850", "Italian OEM (secondary)"),
    0x13: ("cp932", "Japanese Shift-JIS"),
    0x14: ("cp850", "Spanish OEM (secondary)"),
    0x15: ("cp437", "Swedish OEM"),
    0x16: ("cp850", "Swedish OEM (secondary)"),
    0x17: ("cp865", "Norwegian OEM"),
    0x18: ("cp437", "Spanish OEM"),
    0x19: ("cp437", "English OEM (Britain)"),
    0x1A: ("cp850", "English OEM (Britain, secondary)"),
    0x1B: ("cp437", "English OEM (US)"),
    0x1C: ("cp863", "French OEM (Canada)"),
    0x1D: ("cp850", "French OEM (secondary)"),
    0x1F: ("cp852", "Czech OEM"),
    0x22: ("cp852", "Hungarian OEM"),
    0x23: ("cp852", "Polish OEM"),
    0x24: ("cp860", "Portuguese OEM"),
    0x25: ("cp850", "Portuguese OEM (secondary)"),
    0x26: ("cp866", "Russian OEM"),
    0x37: ("cp850", "English OEM (US, secondary)"),
    0x40: ("cp852", "Romanian OEM"),
    0x4D: ("cp936", "Chinese GBK (PRC)"),
    0x4E: ("cp949", "Korean (ANSI/OEM)"),
    0x4F: ("cp950", "Chinese Big 5 (Taiwan)"),
    0x50: ("cp874", "Thai (ANSI/OEM)"),
    0x57: ("cp1252", "ANSI"),
    0x58: ("cp1252", "Western European ANSI"),
    0x59: ("cp1252", "Spanish ANSI"),
    0x64: ("cp852", "Eastern European MS-DOS"),
    0x65: ("cp866", "Russian MS-DOS"),
    0x66: ("cp865", "Nordic MS-DOS"),
    0x67: ("cp861", "Icelandic MS-DOS"),
    0x6A: ("cp737", "Greek MS-DOS (437G)"),
    0x6B: ("cp857", "Turkish MS-DOS"),
    0x78: ("cp950", "Traditional Chinese Windows"),
    0x79: ("cp949", "Korean Windows"),
    0x7A: ("cp936", "Chinese Simplified Windows"),
    0x7B: ("cp932", "Japanese Windows"),
    0x7C: ("cp874", "Thai Windows"),
    0x7D: ("cp1255", "Hebrew Windows"),
    0x7E: ("cp1256", "Arabic Windows"),
    0x96: ("mac_cyrillic", "Russian Macintosh"),
    0x97: ("mac_latin2", "Macintosh Eastern European"),
    0x98: ("mac_greek", "Greek Macintosh"),
    0xC8: ("cp1250", "Eastern European Windows"),
    0xC9: ("cp1251", "Russian Windows"),
    0xCA: ("cp1254", "Turkish Windows"),
    0xCB: ("cp1253", "Greek Windows"),
}
"""Language driver byte -> (Python codec, what the documentation calls it)."""

NO_CODEC = {0x68: "Kamenicky (Czech) MS-DOS, code page 895", 0x69: "Mazovia (Polish) MS-DOS, code page 620"}
"""Language drivers Python has no codec for."""

CANDIDATES = ("cp865", "cp850", "cp437", "cp1252", "iso8859-1")
"""Code pages met in the Nordics: what a byte would be in each is shown when the header names none."""


def codec_name(given: str, where: str = "--codepage") -> str:
    """A code page as a person writes it (``cp865``, ``865``, ``ISO-8859-1``, ``latin1``,
    ``windows-1252``) as Python's codec name; ``ConfigError`` for one Python does not know or that
    is not a single-byte or DOS/Windows code page (UTF-16 and the like are no dBase code page)."""
    text = given.strip()
    if re.fullmatch(r"\d{3,5}", text):
        text = f"cp{text}"
    try:
        info = codecs.lookup(text)
    except LookupError:
        raise ConfigError(f"{where} {given!r}: not a code page Python knows; give one such as cp865, cp850, cp437, "
                          "cp1252 or iso-8859-1") from None
    if info.name.startswith(("utf-16", "utf-32")) or info.name in ("base64", "hex", "rot-13", "zlib", "bz2"):
        raise ConfigError(f"{where} {given!r}: not a code page a .dbf can be written in")
    return info.name


def from_driver_name(name: str) -> str | None:
    """dBase 7's language driver name: ``DB865NO0`` -> cp865, ``DBWINUS0`` -> cp1252."""
    m = re.match(r"DB(\d{3})", name.upper())
    if m:
        return codec_name(m[1])
    if name.upper().startswith(("DBWIN", "ANSI")):
        return "cp1252"
    return None


def shown(codec: str) -> str:
    """What the report says a codec is (``cp865``, ``ISO 8859-1``)."""
    return {"iso8859-1": "ISO 8859-1", "latin-1": "ISO 8859-1"}.get(codec, codec)


def readings(data: bytes) -> str:
    """What non-ASCII bytes would be in each Nordic candidate code page, for a person to choose."""
    odd = bytes(sorted({b for b in data if b > 0x7F}))[:6]
    parts = []
    for name in CANDIDATES:
        parts.append(f"{shown(name)} {odd.decode(name, errors='replace')!r}")
    return "; ".join(parts)
