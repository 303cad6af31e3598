"""SIARD's SQL:2008 type names (``<type>`` in metadata.xml) as uttrekk's kinds.

SIARD writes the standard's names (``CHARACTER VARYING(256)``, ``NUMERIC(10, 3)``, ``TIMESTAMP(9)``,
``INTERVAL DAY TO MINUTE``, ``BINARY LARGE OBJECT``…) and, in ``typeOriginal``, the source engine's.
Each maps to the kind that renders its values exactly (``extractor.values``); an interval, a
DATALINK or a type uttrekk does not know is text, never guessed at. What a value looks like in the
table XML follows from the same name (``SqlType.encoding``): hex for binary, ``true``/``false`` for
BOOLEAN, xs:date/xs:time/xs:dateTime for the temporal types, text otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..model import Kind


@dataclass(frozen=True)
class SqlType:
    """One SQL:2008 type as SIARD names it."""

    name: str
    """As written in metadata.xml."""
    kind: Kind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    float_bits: int | None = None
    timezone: bool = False
    large: bool = False
    """A large object type (BLOB, CLOB, NCLOB, XML, DATALINK): values may live in files."""
    known: bool = True
    """False: a type uttrekk does not know, read as text."""

    @property
    def encoding(self) -> str:
        """How a value is written in the table XML: ``hex``, ``boolean``, ``integer`` or ``text``."""
        if self.kind == "binary":
            return "hex"
        if self.kind == "boolean":
            return "boolean"
        if self.kind == "integer":
            return "integer"
        return "text"


_ARGS = re.compile(r"^(?P<base>[A-Z ]+?)\s*(?:\(\s*(?P<a>\d+)\s*(?P<unit>[KMG])?\s*(?:,\s*(?P<b>-?\d+)\s*)?\))?"
                   r"(?P<rest>\s+WITH(?:OUT)?\s+TIME\s+ZONE)?$")
_UNITS = {None: 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

_CHAR = {"CHARACTER", "CHAR", "NATIONAL CHARACTER", "NATIONAL CHAR", "NCHAR"}
_VARCHAR = {"CHARACTER VARYING", "CHAR VARYING", "VARCHAR", "NATIONAL CHARACTER VARYING", "NATIONAL CHAR VARYING",
            "NCHAR VARYING", "NVARCHAR"}
_CLOB = {"CHARACTER LARGE OBJECT", "CHAR LARGE OBJECT", "CLOB", "NATIONAL CHARACTER LARGE OBJECT",
         "NCHAR LARGE OBJECT", "NCLOB", "XML"}
_BINARY = {"BINARY", "BINARY VARYING", "VARBINARY", "BIT", "BIT VARYING"}
_BLOB = {"BINARY LARGE OBJECT", "BLOB"}
_INTEGER = {"SMALLINT", "INTEGER", "INT", "BIGINT"}
_DECIMAL = {"NUMERIC", "DECIMAL", "DEC"}


def sql_type(text: str) -> SqlType:
    """The kind of a SIARD type name; an unknown name is text (``known`` False)."""
    name = " ".join(text.upper().split())
    if name.startswith("INTERVAL"):
        return SqlType(text, "string")
    if name == "DATALINK":
        return SqlType(text, "string", large=True)
    m = _ARGS.match(name)
    if m is None:
        return SqlType(text, "string", known=False)
    base, a, unit, b = m["base"].strip(), m["a"], m["unit"], m["b"]
    n = int(a) * _UNITS[unit] if a is not None else None
    zone = bool(m["rest"]) and "WITHOUT" not in m["rest"]
    if m["rest"] and base not in ("TIME", "TIMESTAMP"):
        return SqlType(text, "string", known=False)
    if base in _CHAR:
        return SqlType(text, "char", length=n or 1)
    if base in _VARCHAR:
        return SqlType(text, "string", length=n)
    if base in _CLOB:
        return SqlType(text, "string", large=True)
    if base in _BLOB:
        return SqlType(text, "binary", large=True)
    if base in _BINARY:
        bits = base.startswith("BIT")
        length = (n + 7) // 8 if bits and n else (n if n else (None if "VARYING" in base else 1))
        return SqlType(text, "binary", length=length)
    if base in _INTEGER:
        return SqlType(text, "integer", precision={"SMALLINT": 5, "BIGINT": 19}.get(base, 10))
    if base in _DECIMAL:
        return SqlType(text, "decimal", precision=n, scale=int(b) if b is not None else (0 if n else None))
    if base == "REAL":
        return SqlType(text, "float", float_bits=24)
    if base in ("DOUBLE PRECISION", "DOUBLE"):
        return SqlType(text, "float", float_bits=53)
    if base == "FLOAT":
        return SqlType(text, "float", precision=n, float_bits=24 if n is not None and n <= 24 else 53)
    if base == "BOOLEAN":
        return SqlType(text, "boolean")
    if base == "DATE":
        return SqlType(text, "date")
    if base == "TIME":
        return SqlType(text, "time", precision=n, timezone=zone)
    if base == "TIMESTAMP":
        return SqlType(text, "timestamp", precision=n, timezone=zone)
    return SqlType(text, "string", known=False)


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")


def unescape(text: str) -> str:
    r"""SIARD's escapes (``\uXXXX``: control characters, the backslash itself, a second space) decoded."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


_INT = re.compile(r"^[+-]?\d+$")
_DIGITS = re.compile(r"^[0-9A-Fa-f]*$")
INT64 = (-(1 << 63), (1 << 63) - 1)


def decode(t: SqlType, text: str) -> object:
    """A cell's text as the value uttrekk archives: an int for an integer that fits, 1/0 for a
    boolean, bytes for hex, a date or time of a type without time zone without SIARD's UTC mark
    ``Z`` (xs:date, xs:time and xs:dateTime in SIARD are UTC by definition), the unescaped text
    otherwise. Text that does not fit the type is given
    back as text, so the scan reports it and the column is archived as text (never coerced)."""
    if t.encoding == "text":
        if t.kind in ("date", "time", "timestamp") and not t.timezone and text.endswith("Z"):
            return text[:-1]  # SIARD writes these in UTC, marked Z; the SQL type has no zone
        return unescape(text)
    value = text.strip()
    if t.encoding == "integer":
        if _INT.match(value):
            n = int(value)
            if INT64[0] <= n <= INT64[1]:
                return n
        return unescape(text)
    if t.encoding == "boolean":
        low = value.lower()
        if low in ("true", "1"):
            return 1
        if low in ("false", "0"):
            return 0
        return unescape(text)
    if len(value) % 2 == 0 and _DIGITS.match(value):
        return bytes.fromhex(value)
    return unescape(text)


def decoder(t: SqlType) -> Callable[[str], object]:
    """``decode`` for one type, with the type's branch chosen once (it runs for every cell)."""
    if t.encoding == "text":
        if t.kind in ("date", "time", "timestamp") and not t.timezone:
            return lambda text: text[:-1] if text.endswith("Z") else unescape(text)
        return unescape
    return lambda text: decode(t, text)
