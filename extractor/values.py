"""Turn source values into archival text, exactly, or refuse.

Each archive kind has a strict renderer: it returns the text written to the extract, or raises
``Nonconforming`` when the value does not fit the declared type (SQLite stores anything anywhere).
A column with nonconforming values is archived as text instead, and the report says so; a value
is never coerced, rounded or dropped.

Numbers never pass through a binary float on the way out: exact numerics keep every digit,
floats are written with the shortest digits that read back as the same double.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Style:
    """How numbers and booleans are spelt in one output format."""

    decimal_separator: str = ","
    true_text: str = "J"
    false_text: str = "N"


FLAT_STYLE = Style()
"""Flat files: decimal comma (ADDML ``nn,nn``, the Arkivverket profile's preference) and ``J/N``."""

XML_STYLE = Style(".", "true", "false")
"""XML files: the lexical forms of ``xs:decimal`` and ``xs:boolean``."""


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
        return plain_number(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, dt.datetime):
        return render_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return render_time(value)
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raise Nonconforming("binary value in a text column")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


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
    "unknown": render_any_as_text,
}


def renderer_for(kind: str, style: Style = FLAT_STYLE, scale: int | None = None) -> Renderer:
    """The strict renderer for a column kind in an output style."""
    if kind == "decimal":
        return make_number_renderer(scale, style)
    if kind == "float":
        return make_number_renderer(None, style)
    if kind == "boolean":
        return make_boolean_renderer(style)
    return _FIXED_RENDERERS[kind]
