"""A .dbf field's bytes as an exact value, and the field as a column (``model.Column``).

Values are what the archive writes, never through a float where the file holds digits:

- ``N``/``F`` as their digits (``Decimal`` text; an integer when the field has no decimals and at most
  18 digits), blank as NULL; anything else (``*****`` an overflowing write left, ``1,5``) kept as
  its text, which the scan reports and archives as text;
- ``D`` as ISO text; blank as NULL; an impossible date (``00000000``, ``20010231``) kept as its text;
- ``L`` as 1/0, ``?`` or blank as NULL; ``Y`` (currency) as exact text with 4 decimals; ``T`` and
  dBase 7's ``@`` as ``YYYY-MM-DD HH:MM:SS.fff``; ``I``/``+`` as integers; ``B`` (Visual FoxPro)
  and ``O`` (dBase 7) as doubles;
- ``C`` without its trailing blanks (CHAR semantics, as SQL has them); ``V`` and ``Q`` (Visual
  FoxPro 9) to their length in ``_NullFlags``; ``M`` text, ``G``/``P``/``W``/``B`` (dBase) bytes from
  the memo file;
- a set bit in ``_NullFlags`` is NULL; ``_NullFlags`` itself is never shown.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from extractor.model import Column, Kind

from .dbase_header import BINARY, NULLABLE, Field, Header

JULIAN_ORDINAL = 1721425
"""Julian day number minus ``date.toordinal()`` (Visual FoxPro ``T`` and dBase 7 ``@`` count Julian days)."""
DAY_MS = 86_400_000
FIRST_DAY, LAST_DAY = dt.date.min.toordinal() + JULIAN_ORDINAL, dt.date.max.toordinal() + JULIAN_ORDINAL
_INTEGER = re.compile(rb"[+-]?\d+")
_DECIMAL = re.compile(rb"[+-]?(\d+\.?\d*|\.\d+)")
INT64 = 1 << 63

NAMES = {"C": "character", "N": "numeric", "F": "float", "D": "date", "L": "logical", "M": "memo",
         "I": "integer", "Y": "currency", "T": "datetime", "G": "general/OLE", "V": "varchar", "P": "picture",
         "Q": "varbinary", "W": "blob", "+": "autoincrement", "@": "timestamp", "O": "double"}


@dataclass(frozen=True)
class Slot:
    """How one visible field is read: the field, and its bits in ``_NullFlags`` (-1: none)."""

    field: Field
    null_bit: int = -1
    length_bit: int = -1
    """Visual FoxPro ``V``/``Q``: set when the value is shorter than the field (length in its last byte)."""


def slots(header: Header) -> tuple[tuple[Slot, ...], Field | None]:
    """The visible fields with their ``_NullFlags`` bits (a varchar's length bit comes before its
    null bit, as Visual FoxPro assigns them), and the ``_NullFlags`` field if any."""
    flags = next((f for f in header.fields if f.type == "0" or f.name.upper() == "_NULLFLAGS"), None)
    out, bit = [], 0
    for f in header.fields:
        if f is flags or f.hidden:
            continue
        length_bit = null_bit = -1
        if flags is not None and header.visual_foxpro and f.type in "VQ":
            length_bit, bit = bit, bit + 1
        if flags is not None and header.visual_foxpro and f.flags & NULLABLE:
            null_bit, bit = bit, bit + 1
        out.append(Slot(f, null_bit, length_bit))
    return tuple(out), flags


def native_type(header: Header, f: Field) -> str:
    """The field's type as dBase writes it, with a word for people: ``C(40)``, ``N(10,2)``, ``Y (currency)``."""
    if f.type in "CNFVQ":
        size = f"{f.length},{f.decimals}" if f.type in "NF" and f.decimals else str(f.length)
        text = f"{f.type}({size})"
    else:
        word = "binary memo" if f.type == "B" and not header.visual_foxpro else (
            "double" if f.type == "B" else NAMES.get(f.type, "unknown type"))
        text = f"{f.type} ({word})"
    if f.flags & BINARY and f.type in "CMV":
        text += " binary"
    return text


def column(header: Header, slot: Slot) -> Column:
    f = slot.field
    nullable = slot.null_bit >= 0
    kind: Kind
    length = precision = scale = bits = None
    if f.type in "NF":
        if f.decimals == 0 and f.length <= 18:
            kind, precision = "integer", f.length
        else:
            kind, precision, scale = "decimal", f.length, f.decimals
        nullable = True
    elif f.type in "I+":
        kind, nullable = "integer", nullable or header.dbase7
    elif f.type == "Y":
        kind, precision, scale = "decimal", 19, 4
    elif f.type == "O" or f.type == "B" and header.visual_foxpro:
        kind, bits, nullable = "float", 53, nullable or f.type == "O"
    elif f.type == "D":
        kind, nullable = "date", True
    elif f.type in "T@":
        kind, nullable = "timestamp", True
    elif f.type == "L":
        kind, nullable = "boolean", True
    elif f.type in "CV" and not f.flags & BINARY:
        kind, length = ("char" if f.type == "C" else "string"), f.length
    elif f.type == "M" and not f.flags & BINARY:
        kind = "string"
    else:  # G P W Q, binary C/V/M, a dBase B memo, a type uttrekk does not know
        kind, nullable = "binary", True
        length = f.length if f.type in "CVQ" else None
    return Column(f.name, native_type(header, f), kind, nullable=nullable, length=length, precision=precision,
                  scale=scale, float_bits=bits)


# -- values -----------------------------------------------------------------------------------------


def number(raw: bytes, integer: bool) -> Any:
    """``N``/``F`` digits: NULL when blank, an ``int`` for an integer field, else the exact digits as
    text; anything that is no number is kept as its text (the scan reports it)."""
    text = raw.strip(b" \x00")
    if not text:
        return None
    if integer and _INTEGER.fullmatch(text):
        value = int(text)
        return value if -INT64 <= value < INT64 else text.decode("ascii")
    if _DECIMAL.fullmatch(text):
        return text.decode("ascii").lstrip("+")
    return raw.decode("latin-1")


def date(raw: bytes) -> Any:
    if not raw.strip(b" \x00"):
        return None
    if raw.isdigit():
        try:
            return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8])).isoformat()
        except ValueError:
            pass
    return raw.decode("latin-1")


def logical(raw: bytes) -> Any:
    c = raw[:1]
    if c in (b"T", b"t", b"Y", b"y"):
        return 1
    if c in (b"F", b"f", b"N", b"n"):
        return 0
    if c in (b"?", b" ", b"\x00", b""):
        return None
    return raw.decode("latin-1")


def currency(raw: bytes) -> str:
    return format(Decimal(struct.unpack("<q", raw)[0]).scaleb(-4), "f")


def julian(day: int, ms: int) -> Any:
    """A Julian day and milliseconds since midnight as timestamp text; impossible ones as text."""
    if day == 0 and ms == 0:
        return None
    if FIRST_DAY <= day <= LAST_DAY and 0 <= ms < DAY_MS:
        moment = dt.datetime.fromordinal(day - JULIAN_ORDINAL)
        secs, milli = divmod(ms, 1000)
        return f"{moment.date().isoformat()} {secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}.{milli:03d}"
    return f"Julian day {day}, {ms} ms"


def vfp_datetime(raw: bytes) -> Any:
    if not raw.strip(b" \x00"):
        return None
    day, ms = struct.unpack("<ii", raw)
    return julian(day, ms)


def dbase7_double(raw: bytes) -> float | None:
    """dBase 7 stores ``O`` (and ``@``) big-endian with the sign bit flipped (so bytes sort as numbers)."""
    if not raw.strip(b"\x00"):
        return None
    b = bytearray(raw)
    if b[0] & 0x80:
        b[0] &= 0x7F
    else:
        b = bytearray(x ^ 0xFF for x in b)
    return float(struct.unpack(">d", bytes(b))[0])


def dbase7_timestamp(raw: bytes) -> Any:
    value = dbase7_double(raw)
    if value is None:
        return None
    if value != value or not 0 <= value < (LAST_DAY + 1) * DAY_MS or value != int(value):
        return f"dBase 7 timestamp {value!r}"
    day, ms = divmod(int(value), DAY_MS)
    return julian(day, ms) if day else f"dBase 7 timestamp {value!r}"


def integer(raw: bytes, dbase7: bool) -> int | None:
    if dbase7:
        if not raw.strip(b"\x00"):
            return None
        return int(struct.unpack(">I", raw)[0]) - 0x80000000
    return int(struct.unpack("<i", raw)[0])


def memo_block(raw: bytes) -> int | str | None:
    """The memo's block number (``None``: no memo), or the pointer's text when it is no number: four
    bytes little-endian (Visual FoxPro), else ten ASCII digits (dBase, Clipper, FoxPro 2)."""
    if len(raw) == 4:
        block = int(struct.unpack("<I", raw)[0])
        return block or None
    text = raw.strip(b" \x00")
    if not text:
        return None
    if text.isdigit():
        return int(text) or None
    return raw.decode("latin-1")


