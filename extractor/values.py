"""Turn source values into archival text, exactly, or refuse.

Each archive kind has a strict renderer: it returns the text written to the extract, or raises
``Nonconforming`` when the value does not fit the declared type (SQLite stores anything anywhere).
A column with nonconforming values is archived as text instead, and the report says so; a value
is never coerced, rounded or dropped.

Numbers never pass through a binary float on the way out: exact numerics keep every digit,
floats are written with the shortest digits that read back as the same float in the source's own
precision (``float_bits``: 24 for single precision, 53 for double; see ``float_digits``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation


@dataclass(frozen=True)
class Style:
    """How numbers and booleans are spelt in one output format."""

    decimal_separator: str = ","
    true_text: str = "J"
    false_text: str = "N"
    utc: bool = False
    """Time stamps with an offset written as the same instant in UTC, with Z (SIARD, T_6.3-2)."""


FLAT_STYLE = Style()
"""Flat files: decimal comma (ADDML ``nn,nn``, the Arkivverket profile's preference) and ``J/N``."""

XML_STYLE = Style(".", "true", "false")
"""XML files: the lexical forms of ``xs:decimal`` and ``xs:boolean``."""

SIARD_STYLE = Style(".", "true", "false", utc=True)
"""SIARD table files: XML's forms, and date and time in UTC."""


class Nonconforming(ValueError):
    """A value does not fit the column's declared kind."""


Renderer = Callable[[object], str]

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")


def exact_decimal(value: object) -> Decimal:
    """The exact decimal a source number stands for (floats by their shortest repr)."""
    if isinstance(value, bool):
        raise Nonconforming("boolean where a number was expected")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Nonconforming(f"{value!r} is not a finite number")
        d = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if text != value or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            raise Nonconforming(f"text {value!r} is not a number")
        try:
            d = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - regex guards this
            raise Nonconforming(f"text {value!r} is not a number") from exc
    else:
        raise Nonconforming(f"{type(value).__name__} where a number was expected")
    if not d.is_finite():
        raise Nonconforming(f"{value!r} is not a finite number")
    return d


def plain_number(d: Decimal, scale: int | None = None, separator: str = ".") -> str:
    """Fixed-point text of ``d`` (no exponent), padded with zeros up to ``scale`` decimals."""
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    if scale is not None and scale > 0 and -exponent < scale:
        d = d.quantize(Decimal(1).scaleb(-scale))  # only appends zeros: exact
    text = format(d, "f")
    return text if separator == "." else text.replace(".", separator)


SINGLE = 24
"""``float_bits`` of IEEE 754 single precision (PostgreSQL ``real``, MySQL and Firebird ``FLOAT``, SQL Server
``REAL``, Oracle ``BINARY_FLOAT``): 24 significant bits. Any other value means a double (53)."""

ARKADE_DECIMAL_MAX = 2**96 - 1
"""The largest whole part Arkade 5 reads in a ``float`` field (it parses numbers as .NET ``decimal``:
79228162514264337593543950335); a float beyond it does not fit the archive type."""

_EXACT = Context(prec=200)
"""Exact sums of float32 values and their midpoints (2**-150 has 105 significant digits)."""

_ROUNDED = {(p, mode): Context(prec=p, rounding=mode)
            for p in range(1, 10) for mode in (ROUND_HALF_EVEN, ROUND_FLOOR, ROUND_CEILING)}
_FLOAT32_INFINITY = 0x7F800000


def float32(x: float) -> float:
    """The single-precision value nearest ``x`` (ties to even), as a double; ``OverflowError`` past its range."""
    return struct.unpack("<f", struct.pack("<f", x))[0]  # type: ignore[no-any-return]


def shortest_float32(f: float) -> Decimal:
    """The shortest decimal that reads back as the float32 ``f`` (positive, finite, exactly a float32),
    the closest to ``f`` of those (of two as close, the one ending in an even digit): what PostgreSQL
    12+ (Ryu) writes for a ``real``.

    It lies strictly between the midpoints to ``f``'s neighbours, never on one: a midpoint reads back
    only through round-half-even parsing, and PostgreSQL leaves it out too. This is decided exactly
    (``_inside``), not by parsing the decimal as a float32 through a double, which can round twice. For
    a power of two, whose lower half-interval is narrower, ``_shortest_exact`` tries both sides.
    """
    bits = _bits(f)
    if bits & 0x7FFFFF == 0:
        return _shortest_exact(f, bits)
    low, high = (f + _float(bits - 1)) / 2, (f + _above(bits)) / 2  # exact: 25 significant bits
    fewest, most = 1, 9  # nine digits always read back; a nearer decimal (more digits) does if a farther one does
    while fewest < most:
        digits = (fewest + most) // 2
        if _inside(f"{f:.{digits - 1}e}", low, high):  # the decimal of that many digits nearest f (a tie: the even one)
            most = digits
        else:
            fewest = digits + 1
    return Decimal(f"{f:.{most - 1}e}")


def _inside(text: str, low: float, high: float) -> bool:
    """Whether the decimal ``text`` lies strictly between two doubles: its correctly rounded double
    says so, as rounding keeps order, except where it lands on one of them; there the digits decide."""
    x = float(text)
    if x == low:
        return Decimal(text) > Decimal(low)
    if x == high:
        return Decimal(text) < Decimal(high)
    return low < x < high


def _shortest_exact(f: float, bits: int) -> Decimal:
    """``shortest_float32`` in exact decimals, trying the nearest p-digit decimals on both sides of ``f``."""
    exact = Decimal(f)
    low = _EXACT.divide(_EXACT.add(exact, Decimal(_float(bits - 1))), 2)
    high = _EXACT.divide(_EXACT.add(exact, Decimal(_above(bits))), 2)
    for p in range(1, 10):
        near = _ROUNDED[p, ROUND_HALF_EVEN].plus(exact)
        if low < near < high:
            return near
        other = _ROUNDED[p, ROUND_FLOOR if near > exact else ROUND_CEILING].plus(exact)
        if low < other < high:
            return other
    raise AssertionError(f"no decimal of 9 digits reads back as {f!r}")  # pragma: no cover - 9 always do


def _bits(f: float) -> int:
    return struct.unpack("<I", struct.pack("<f", f))[0]  # type: ignore[no-any-return]


def _float(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]  # type: ignore[no-any-return]


def _above(bits: int) -> float:
    """The next float32 up; past the largest, 2**128, where rounding to infinity starts from."""
    return 2.0**128 if bits + 1 == _FLOAT32_INFINITY else _float(bits + 1)


def float_digits(value: float, float_bits: int | None = None) -> Decimal:
    """The number a source float stands for: the shortest decimal that reads back as the same float
    in the column's precision (``SINGLE``: float32; otherwise a double, by ``repr``), with no trailing
    ``.0``; ``-0`` keeps its sign.

    A single-precision column yields a float32, or the double a driver parsed from the server's text of
    it (its shortest digits; nine digits from PostgreSQL before 12). Any other double would be changed by
    writing it as a float32, so it is ``Nonconforming`` (the column is then archived as text).
    """
    if math.isnan(value) or math.isinf(value):
        raise Nonconforming(f"{value!r} is not a finite number")
    if value == 0:
        return Decimal("-0") if math.copysign(1.0, value) < 0 else Decimal(0)
    if float_bits != SINGLE:
        return _trimmed(Decimal(repr(value)))
    try:
        f = float32(value)
    except OverflowError:
        raise Nonconforming(f"{value!r} is beyond the range of a single-precision float") from None
    if f == 0:
        raise Nonconforming(f"{value!r} is below the smallest single-precision float")
    d = shortest_float32(abs(f)).copy_negate() if f < 0 else shortest_float32(f)
    if value != f and value != float(d) and value != float(f"{f:.9g}"):
        raise Nonconforming(f"{value!r} is no single-precision float (the nearest is {d})")
    return d


def _trimmed(d: Decimal) -> Decimal:
    """``652090.0`` -> ``652090``: ``repr`` marks a whole float with ``.0``, which is no digit of its value."""
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return Decimal((sign, digits, exponent))


def render_integer(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    raise Nonconforming(f"{_show(value)} is not an integer")


def make_number_renderer(scale: int | None, style: Style) -> Renderer:
    sep = style.decimal_separator

    def render(value: object) -> str:
        return plain_number(exact_decimal(value), scale, sep)

    return render


def make_float_renderer(scale: int | None, style: Style, float_bits: int | None) -> Renderer:
    """Floats by ``float_digits`` in the column's precision; exact numbers and text (a server's own
    spelling, as MySQL's ``FLOAT(M,D)`` is read) digit for digit; zeros added up to a declared scale."""
    sep = style.decimal_separator

    def render(value: object) -> str:
        d = float_digits(value, float_bits) if isinstance(value, float) else exact_decimal(value)
        if d.copy_abs() > ARKADE_DECIMAL_MAX:
            raise Nonconforming(f"{_show(value)} is beyond {ARKADE_DECIMAL_MAX}, the largest number Arkade 5 "
                                "reads in a float field")
        return plain_number(d, scale, sep)

    return render


def render_date(value: object) -> str:
    if type(value) is dt.date:
        return value.isoformat()
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise Nonconforming(f"{_show(value)} has a time of day; not a plain date")
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        m = _DATE_RE.match(value)
        if m:
            try:
                dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                raise Nonconforming(f"text {value!r} is not a valid date") from exc
            return value
    raise Nonconforming(f"{_show(value)} is not a date (YYYY-MM-DD)")


MAX_FRACTION_DIGITS = 7
"""The ADDML format ``.FFFFFFF`` (a .NET pattern) reads at most seven fraction digits."""


def _fraction(digits: str | None) -> str:
    digits = (digits or "").rstrip("0")
    if len(digits) > MAX_FRACTION_DIGITS:
        raise Nonconforming(f"{len(digits)} fraction digits; the archive format holds at most {MAX_FRACTION_DIGITS}")
    return f".{digits}" if digits else ""


def _offset(delta: dt.timedelta) -> str:
    total = int(delta.total_seconds())
    if total % 60:
        raise Nonconforming("time-zone offset with seconds cannot be written as +HH:MM")
    sign = "-" if total < 0 else "+"
    total = abs(total) // 60
    return f"{sign}{total // 60:02d}:{total % 60:02d}"


def render_timestamp(value: object) -> str:
    """ISO 8601 ``YYYY-MM-DDTHH:MM:SS`` plus fraction digits and offset when the value has them."""
    if type(value) is dt.datetime and value.tzinfo is None:  # the common case, in C: four-digit year
        text = value.isoformat()
        return text if len(text) == 19 else text[:20] + text[20:].rstrip("0")
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if len(text) != 19:  # years before 1000 are not zero-padded by every platform
            text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        text += _fraction(f"{value.microsecond:06d}")
        off = value.utcoffset()
        if off is not None:
            text += _offset(off)
        return text
    if isinstance(value, dt.date):
        raise Nonconforming(f"{_show(value)} is a date without time")
    if isinstance(value, str):
        m = _TS_RE.match(value)
        if m:
            y, mo, d, h, mi, s, frac, tz = m.groups()
            try:
                dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
            except ValueError as exc:
                raise Nonconforming(f"text {value!r} is not a valid timestamp") from exc
            text = f"{y}-{mo}-{d}T{h}:{mi}:{s or '00'}{_fraction(frac)}"
            if tz:
                if tz == "Z":
                    tz = "+00:00"
                elif ":" not in tz:
                    tz = f"{tz[:3]}:{tz[3:]}"
                if int(tz[1:3]) > 23 or int(tz[4:6]) > 59:
                    raise Nonconforming(f"text {value!r} has an impossible offset")
                text += tz
            return text
    raise Nonconforming(f"{_show(value)} is not a timestamp")


def render_time(value: object) -> str:
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise Nonconforming(f"{_show(value)} carries a time zone")
        return value.strftime("%H:%M:%S") + _fraction(f"{value.microsecond:06d}")
    if isinstance(value, dt.timedelta):
        total = value.total_seconds()
        if not 0 <= total < 86400:
            raise Nonconforming(f"duration {value} is not a time of day")
        micro = value.microseconds
        secs = int(value.total_seconds())
        return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}" + _fraction(f"{micro:06d}")
    if isinstance(value, str):
        m = _TIME_RE.match(value)
        if m and int(m[1]) < 24 and int(m[2]) < 60 and int(m[3] or 0) < 60:
            return f"{m[1]}:{m[2]}:{m[3] or '00'}{_fraction(m[4])}"
    raise Nonconforming(f"{_show(value)} is not a time of day (HH:MM:SS)")


def make_boolean_renderer(style: Style) -> Renderer:
    def render(value: object) -> str:
        if isinstance(value, bool | int | Decimal) and value in (0, 1):
            return style.true_text if value == 1 else style.false_text
        raise Nonconforming(f"{_show(value)} is not a boolean (true/false, 1/0)")

    return render


def render_string(value: object) -> str:
    if isinstance(value, str):
        return value
    raise Nonconforming(f"{_show(value)} is not text")


def render_char(value: object) -> str:
    """CHAR(n) values lose their trailing blank padding, which SQL itself treats as insignificant."""
    if isinstance(value, str):
        return value.rstrip(" ")
    raise Nonconforming(f"{_show(value)} is not text")


def iso_duration(value: dt.timedelta) -> str:
    """ISO 8601 duration (``P1DT2H30M``, ``-PT0.5S``) for an interval, exact to the microsecond."""
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    days, secs, micro = value.days, value.seconds, value.microseconds
    hours, rest = divmod(secs, 3600)
    minutes, seconds = divmod(rest, 60)
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if seconds or micro:
        time += f"{seconds}{_fraction(f'{micro:06d}')}S"
    text = f"P{days}D" if days else "P"
    if time:
        text += "T" + time
    return sign + (text if text != "P" else "PT0S")


def _json_default(value: object) -> str:
    return render_any_as_text(value)


def render_any_as_text(value: object) -> str:
    """Text for a value of any type, used where a column is archived as string.

    Total for every value a driver returns except raw bytes, which raise ``Nonconforming`` so the
    caller writes them as hex and reports it. Intervals become ISO 8601 durations, JSON documents
    and arrays JSON text, UUIDs and network addresses their standard spelling.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(Decimal(value))  # NaN, Infinity, -Infinity: as SQL engines and Decimal spell them
        return format(float_digits(value), "f")
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, dt.datetime):
        try:
            return render_timestamp(value)
        except Nonconforming:  # an offset with seconds (a historic local mean time): ISO 8601 as Python gives it
            return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        try:
            return render_time(value)
        except Nonconforming:
            return value.isoformat()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raise Nonconforming("binary value in a text column")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


def make_text_renderer(float_bits: int | None) -> Renderer:
    """``render_any_as_text`` for a column archived as text; a single-precision column's floats keep
    their float32 digits (a value that is no float32 keeps its double's)."""
    if float_bits != SINGLE:
        return render_any_as_text

    def render(value: object) -> str:
        if isinstance(value, float) and math.isfinite(value):
            try:
                return format(float_digits(value, SINGLE), "f")
            except Nonconforming:
                pass
        return render_any_as_text(value)

    return render


def hex_text(value: object) -> str:
    """Hex digits of a binary value, the documented fallback for bytes in a text column."""
    return bytes(value).hex().upper()  # type: ignore[call-overload]


def _show(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return f"binary value of {len(bytes(value))} bytes"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_FIXED_RENDERERS: dict[str, Renderer] = {
    "integer": render_integer,
    "date": render_date,
    "timestamp": render_timestamp,
    "time": render_time,
    "string": render_string,
    "char": render_char,
}


def renderer_for(kind: str, style: Style = FLAT_STYLE, scale: int | None = None,
                 float_bits: int | None = None) -> Renderer:
    """The strict renderer for a column kind in an output style, with the column's declared scale and
    float precision (``model.Column.float_bits``)."""
    if kind == "decimal":
        return make_number_renderer(scale, style)
    if kind == "float":
        return make_float_renderer(scale, style, float_bits)
    if kind == "boolean":
        return make_boolean_renderer(style)
    if kind == "unknown":
        return make_text_renderer(float_bits)
    if kind == "timestamp" and style.utc:
        plain = _FIXED_RENDERERS[kind]
        return lambda value: utc_timestamp(plain(value))
    return _FIXED_RENDERERS[kind]


_OFFSET = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d):(\d\d)$")


def utc_timestamp(text: str) -> str:
    """``2024-03-01T10:00:00.5+01:00`` -> ``2024-03-01T09:00:00.5Z``: the same instant in UTC; text without offset unchanged."""
    m = _OFFSET.match(text)
    if not m:
        return text
    y, mo, d, h, mi, s, frac, sign, oh, om = m.groups()
    local = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))
    delta = dt.timedelta(hours=int(oh), minutes=int(om))
    try:
        utc = local - delta if sign == "+" else local + delta
    except OverflowError:
        raise Nonconforming(f"{text} is outside the years 0001-9999 in UTC") from None
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}{frac or ''}Z"
