"""From a value's text in the extract to its typed form, by the ADDML dataType and fieldFormat.

Each converter takes the text (NULL is decided before, in ``rows.py``) and returns the value a
target stores, or raises ``Unconvertible`` saying why; it never guesses. The forms are exact:

- ``integer``: a Python int (thousands separators and ``nnE+exp`` as Arkade reads them);
  one beyond 64 bits is refused (both targets store 64-bit integers);
- ``decimal`` (ADDML ``float``): the digits as written, in plain text with ``.`` as the decimal
  sign (``845,10`` -> ``"845.10"``): PostgreSQL parses it into NUMERIC, SQLite keeps the text;
- ``date``, ``timestamp``, ``timestamptz``, ``time``: ISO 8601 text (``2024-05-02``,
  ``2024-05-02 10:15:00.1234567``, ``…+01:00``, ``18:00:00``), fraction digits as written;
  the .NET pattern of the fieldFormat is compiled to a regular expression with .NET's exact rules;
- ``boolean``: True or False by the ``<true>/<false>`` fieldFormat;
- ``text``: unchanged.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..validation.datatypes import decimal_separators
from ..validation.dotnet_formats import UnsupportedFormat, tokens

INT64 = (-(1 << 63), (1 << 63) - 1)
_WS = "\t\n\v\f\r "
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Unconvertible(ValueError):
    """The text does not hold a value of the column's type; the message says why."""


class UnsupportedPattern(ValueError):
    """A fieldFormat this module cannot read: the column is loaded as text instead (and the report says so)."""


Converter = Callable[[str], object]


@dataclass(frozen=True)
class ColumnType:
    """What a field becomes: its kind and the converter from text."""

    kind: str
    convert: Converter
    note: str | None = None
    """Why the field is loaded as another kind than its dataType suggests."""


def _text(value: str) -> str:
    return value


# --- integers ---

_INTEGER = re.compile(rf"[{_WS}]*([+-]?[0-9]+)[{_WS}]*")
_EXP = re.compile(r"([+-]?)([0-9]+)[eE]\+?([0-9]+)")


def _fit(n: int) -> int:
    if not INT64[0] <= n <= INT64[1]:
        raise Unconvertible("whole number beyond 64 bits; the value is kept only in the report")
    return n


def integer_converter(fmt: str | None) -> Converter:
    if fmt in ("n.nnn", "n,nnn", "n nnn"):
        sep = fmt[1]

        def grouped(value: str) -> int:
            s = value.strip(_WS)
            body = s.lstrip("+-")
            groups = body.split(sep) if sep != " " else body.split(" ")
            if not groups[0].isdigit() or len(groups[0]) > 3 or any(len(g) != 3 or not g.isdigit() for g in groups[1:]):
                if not (len(groups) == 1 and body.isdigit()):
                    raise Unconvertible(f"not a whole number in the format {fmt}")
            if not body.replace(sep, "").isascii():
                raise Unconvertible(f"not a whole number in the format {fmt}")
            return _fit(int(s[: len(s) - len(body)] + body.replace(sep, "")))
        return grouped
    if fmt == "nnE+exp":
        def exponent(value: str) -> int:
            m = _EXP.fullmatch(value.replace(" ", ""))
            if m is None:
                raise Unconvertible("not a whole number in the format nnE+exp")
            return _fit(int(m.group(1) + m.group(2)) * 10 ** int(m.group(3)))
        return exponent

    def plain(value: str) -> int:
        m = _INTEGER.fullmatch(value)
        if m is None or not m.group(1).isascii():
            raise Unconvertible("not a whole number")
        return _fit(int(m.group(1)))
    return plain


# --- decimals ---

def _decimal_pattern(dec: str, group: str | None) -> re.Pattern[str]:
    d = re.escape(dec)
    if group is None:
        body = rf"(?P<whole>[0-9]*)(?:{d}(?P<frac>[0-9]*))?"
    else:
        body = rf"(?P<whole>[0-9](?:[0-9]|{re.escape(group)})*|)(?:{d}(?P<frac>[0-9]*))?"
    return re.compile(rf"[{_WS}]*(?P<sign>[+-]?){body}[{_WS}]*")


def decimal_converter(fmt: str | None) -> Converter:
    patterns = [(_decimal_pattern(d, g), g) for d, g in decimal_separators(fmt)]

    def convert(value: str) -> str:
        for pattern, group in patterns:
            m = pattern.fullmatch(value)
            if m is None or not value.isascii():
                continue
            whole = m.group("whole") or ""
            frac = m.group("frac") or ""
            if group:
                whole = whole.replace(group, "")
            if not whole and not frac:
                continue
            whole = whole.lstrip("0") or "0"
            sign = "-" if m.group("sign") == "-" else ""
            return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"
        raise Unconvertible("not a decimal number" + (f" in the format {fmt}" if fmt else ""))
    return convert


# --- booleans ---

def boolean_converter(fmt: str | None) -> Converter:
    parts = (fmt or "").split("/")
    if len(parts) != 2 or not parts[0] or parts[0] == parts[1]:
        raise UnsupportedPattern(f"boolean fieldFormat {fmt!r} is not '<true>/<false>'")
    true, false = parts

    def convert(value: str) -> bool:
        if value == true:
            return True
        if value == false:
            return False
        raise Unconvertible(f"neither {true!r} nor {false!r}")
    return convert


# --- dates and times ---

@dataclass
class _Pattern:
    regex: re.Pattern[str]
    has_date: bool
    has_time: bool
    has_zone: bool


def _digits(count: int) -> str:
    return "[0-9]{1,2}" if count == 1 else f"[0-9]{{{count}}}"


def compile_pattern(fmt: str, time_only: bool = False) -> _Pattern:
    """A .NET custom date/time pattern as a regular expression with named groups."""
    try:
        toks = tokens(fmt)
    except UnsupportedFormat as exc:
        raise UnsupportedPattern(str(exc)) from None
    parts: list[str] = []
    seen: set[str] = set()
    for k, (kind, arg) in enumerate(toks):
        if kind == "lit":
            text = str(arg)
            nxt = toks[k + 1] if k + 1 < len(toks) else None
            if text == "." and nxt is not None and nxt[0] == "F":
                continue  # '.FFF': the point is optional with the fraction (below)
            parts.append(re.escape(text))
            continue
        count = int(arg)
        name = {"y": "y", "M": "M", "d": "d", "h": "h", "H": "H", "m": "m", "s": "s", "f": "f", "F": "f",
                "t": "t", "z": "z", "K": "z"}.get(kind)
        if name is None or (name in seen and not (kind == "d" and count >= 3)):
            raise UnsupportedPattern(f"the pattern {fmt!r} uses {kind * count!r}, which is not read here")
        if kind == "d" and count >= 3:
            parts.append("(?:" + "|".join(d[:3] if count == 3 else d for d in _DAYS) + ")")
            continue
        seen.add(name)
        if time_only and kind == "h":
            kind = "H"
        if kind == "y":
            if count not in (2, 4) and count < 5:
                raise UnsupportedPattern(f"year {'y' * count!r} in {fmt!r} is not read here")
            parts.append(f"(?P<y>[0-9]{{{max(count, 4) if count != 2 else 2}}})")
        elif kind == "M" and count >= 3:
            names = [m[:3] if count == 3 else m for m in _MONTHS]
            parts.append("(?P<Mn>" + "|".join(names) + ")")
        elif kind in "MdhHms":
            parts.append(f"(?P<{name}>{_digits(count)})")
        elif kind == "f":
            parts.append(f"(?P<f>[0-9]{{{count}}})")
        elif kind == "F":
            point = k > 0 and toks[k - 1] == ("lit", ".")
            parts.append(f"(?:{re.escape('.') if point else ''}(?P<f>[0-9]{{1,{count}}}))?")
        elif kind == "t":
            parts.append("(?P<t>AM|PM)" if count == 2 else "(?P<t>A|P)")
        elif kind == "z" or kind == "K":
            if kind == "K":
                parts.append(r"(?P<z>Z|[+-][0-9]{2}:[0-9]{2})?")
            elif count >= 3:
                parts.append(r"(?P<z>[+-][0-9]{1,2}:[0-9]{2})")
            else:
                parts.append(r"(?P<z>[+-][0-9]{1,2})" if count == 1 else r"(?P<z>[+-][0-9]{2})")
        else:
            raise UnsupportedPattern(f"{kind * count!r} in {fmt!r} is not read here")
    return _Pattern(re.compile("".join(parts), re.IGNORECASE if "Mn" in "".join(parts) else 0),
                    bool(seen & {"y", "M", "d"}), bool(seen & {"h", "H", "m", "s"}), "z" in seen)


def _zone(z: str | None) -> str:
    if not z:
        return ""
    if z == "Z":
        return "+00:00"
    sign, rest = z[0], z[1:]
    hours, _, minutes = rest.partition(":")
    if int(hours) > 14 or int(minutes or 0) > 59:
        raise Unconvertible("time zone offset out of range")
    return f"{sign}{int(hours):02d}:{int(minutes or 0):02d}"


def _fraction(f: str | None, limit: int | None) -> str:
    if not f:
        return ""
    if limit is not None and len(f) > limit:
        if f[limit:].strip("0"):
            raise Unconvertible(f"{len(f)} fraction digits; the target keeps {limit}, so the value would be rounded")
        f = f[:limit]
    return "." + f


def date_converter(fmt: str, fraction_limit: int | None) -> tuple[str, Converter]:
    """The kind (date, timestamp, timestamptz) and converter for a date fieldFormat."""
    iso = _ISO.get(fmt)
    if iso is not None:
        return iso, _iso_converter(iso, fraction_limit)
    fast = _FAST.get(fmt)
    if fast is not None:
        return fast[0], _fast_converter(fast[0], fast[1], _pattern_converter(fmt, fraction_limit)[1], fraction_limit)
    return _pattern_converter(fmt, fraction_limit)


def _pattern_converter(fmt: str, fraction_limit: int | None) -> tuple[str, Converter]:
    pat = compile_pattern(fmt)
    if not pat.has_date:
        raise UnsupportedPattern(f"the date pattern {fmt!r} has no date")
    kind = "timestamptz" if pat.has_zone else "timestamp" if pat.has_time else "date"
    regex = pat.regex

    def convert(value: str) -> str:
        m = regex.fullmatch(value)
        if m is None:
            raise Unconvertible(f"not a date in the format {fmt}")
        g = m.groupdict()
        year = int(g["y"]) if g.get("y") else 1
        if g.get("y") and len(g["y"]) == 2:
            year += 2000 if year <= 49 else 1900  # .NET's two-digit year window (TwoDigitYearMax 2049)
        name = (g.get("Mn") or "").lower()
        month = ([x[:len(name)] for x in _MONTHS].index(name) + 1) if name else int(g.get("M") or 1)
        day = int(g.get("d") or 1)
        try:
            dt.date(year, month, day)
        except ValueError:
            raise Unconvertible(f"no such date in the format {fmt}") from None
        out = f"{year:04d}-{month:02d}-{day:02d}"
        if kind == "date":
            return out
        return out + " " + _clock(g, fraction_limit) + _zone(g.get("z"))
    return kind, convert


_FAST = {
    "yyyy-MM-dd": ("date", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")),
    "yyyy-MM-ddTHH:mm:ss": ("timestamp", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")),
    "yyyy-MM-ddTHH:mm:ss.FFFFFFF": ("timestamp", re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.([0-9]{1,7}))?")),
    "yyyy-MM-ddTHH:mm:sszzz": ("timestamptz", re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}")),
    "yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz": ("timestamptz", re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.([0-9]{1,7}))?[+-][0-9]{2}:[0-9]{2}")),
}
"""uttrekk's own date formats: the value is already ISO 8601, checked by shape here and by range in C."""


def _fast_converter(kind: str, shape: re.Pattern[str], slow: Converter, fraction_limit: int | None) -> Converter:
    check = dt.date.fromisoformat if kind == "date" else dt.datetime.fromisoformat

    def convert(value: str) -> object:
        m = shape.fullmatch(value)
        if m is None:
            return slow(value)  # the exact .NET reading says what is wrong
        try:
            check(value)
        except ValueError:
            return slow(value)
        if kind == "date":
            return value
        fraction = m.group(1) if m.groups() else None
        if fraction and fraction_limit is not None and len(fraction) > fraction_limit:
            return slow(value)
        return value.replace("T", " ", 1)
    return convert


def _clock(g: dict[str, str | None], fraction_limit: int | None) -> str:
    if g.get("h") is not None:
        hour = int(g["h"] or 0)
        if not 1 <= hour <= 12:
            raise Unconvertible("hour out of range")
        hour %= 12
        if (g.get("t") or "").upper().startswith("P"):
            hour += 12
    else:
        hour = int(g.get("H") or 0)
    minute, second = int(g.get("m") or 0), int(g.get("s") or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise Unconvertible("time of day out of range")
    return f"{hour:02d}:{minute:02d}:{second:02d}" + _fraction(g.get("f"), fraction_limit)


def time_converter(fmt: str | None, fraction_limit: int | None) -> Converter:
    pat = compile_pattern(fmt or "HH:mm:ss", time_only=True)
    if pat.has_date or not pat.has_time:
        raise UnsupportedPattern(f"the time pattern {fmt!r} is not a time of day")
    regex = pat.regex

    def convert(value: str) -> str:
        m = regex.fullmatch(value)
        if m is None:
            raise Unconvertible(f"not a time of day in the format {fmt}")
        return _clock(m.groupdict(), fraction_limit)
    return convert


_ISO = {"YYYY-MM-DD": "date", "YYYYMMDD": "date", "YYYYDDD": "date", "YYYY-DDD": "date",
        'YYYY"W"WWD': "date", 'YYYY-"W"WW-D': "date"}
for _d in ("YYYYMMDD", "YYYY-MM-DD", "YYYYDDD", "YYYY-DDD", 'YYYY"W"WWD', 'YYYY-"W"WW-D'):
    for _t in ('"T"hhmmss±hhmm', '"T"hhmmss±hh', '"T"hhmmss"Z"', '"T"hh":"mm":"ss±hh":"mm', '"T"hh":"mm":"ss±hh',
               '"T"hh":"mm":"ss"Z"'):
        _ISO[_d + _t] = "timestamptz"
_ORDINAL = re.compile(r"([0-9]{4})-?([0-9]{3})")


def _iso_converter(kind: str, fraction_limit: int | None) -> Converter:
    def convert(value: str) -> str:
        v = value.strip()
        try:
            head, sep, rest = v.partition("T")
            m = _ORDINAL.fullmatch(head)
            if m is not None:
                year, ordinal = int(m.group(1)), int(m.group(2))
                if not 1 <= ordinal <= (366 if calendar.isleap(year) else 365):
                    raise ValueError
                day = dt.date(year, 1, 1) + dt.timedelta(days=ordinal - 1)
                v = day.isoformat() + sep + rest
            if kind == "date":
                return dt.date.fromisoformat(v).isoformat()
            stamp = dt.datetime.fromisoformat(v)
        except ValueError:
            raise Unconvertible("not an ISO 8601 date") from None
        if stamp.tzinfo is None:
            raise Unconvertible("an ISO 8601 timestamp without the time zone its format requires")
        return stamp.isoformat(sep=" ")
    return convert


def column_type(data_type: str, fmt: str | None, fraction_limit: int | None) -> ColumnType:
    """The kind and converter for an ADDML dataType and fieldFormat; text (with a note) when unreadable."""
    kind = data_type.strip().lower()
    try:
        if kind == "integer":
            return ColumnType("integer", integer_converter(fmt))
        if kind == "float":
            return ColumnType("decimal", decimal_converter(fmt))
        if kind == "boolean":
            return ColumnType("boolean", boolean_converter(fmt))
        if kind == "date":
            if not fmt:
                raise UnsupportedPattern("a date without fieldFormat")
            sub, conv = date_converter(fmt, fraction_limit)
            return ColumnType(sub, conv)
        if kind == "time":
            return ColumnType("time", time_converter(fmt, fraction_limit))
    except UnsupportedPattern as exc:
        return ColumnType("text", _text, f"loaded as text: {exc}")
    return ColumnType("text", _text)


XSD_KINDS = {"integer": "integer", "int": "integer", "long": "integer", "short": "integer", "byte": "integer",
             "nonNegativeInteger": "integer", "positiveInteger": "integer", "negativeInteger": "integer",
             "nonPositiveInteger": "integer", "unsignedLong": "integer", "unsignedInt": "integer",
             "unsignedShort": "integer", "unsignedByte": "integer", "decimal": "decimal", "date": "date",
             "dateTime": "timestamp", "time": "time", "boolean": "boolean"}


def xsd_column_type(xsd_type: str | None, fraction_limit: int | None, kind: str | None = None) -> ColumnType:
    """The kind and converter for a field of an XML extract, by its XML Schema built-in type (or ``kind``)."""
    kind = kind or XSD_KINDS.get((xsd_type or "").split(":")[-1], "text")
    if kind == "integer":
        return ColumnType(kind, integer_converter(None))
    if kind == "decimal":
        return ColumnType(kind, decimal_converter("nn.nn"))
    if kind == "boolean":
        def boolean(value: str) -> bool:
            v = value.strip()
            if v in ("true", "1"):
                return True
            if v in ("false", "0"):
                return False
            raise Unconvertible("not an xs:boolean")
        return ColumnType(kind, boolean)
    if kind == "date":
        return ColumnType(kind, _xsd_temporal("date", fraction_limit))
    if kind == "timestamp":
        return ColumnType(kind, _xsd_temporal("timestamp", fraction_limit))
    if kind == "timestamptz":
        return ColumnType(kind, _xsd_temporal("timestamptz", fraction_limit))
    if kind == "time":
        return ColumnType(kind, _xsd_temporal("time", fraction_limit))
    return ColumnType("text", _text)


_XSD_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_XSD_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?")


def _xsd_temporal(kind: str, fraction_limit: int | None) -> Converter:
    def convert(value: str) -> str:
        v = value.strip()
        stamp = kind in ("timestamp", "timestamptz")
        date_part, _, time_part = v.partition("T") if stamp else (v, "", v)
        out = ""
        if kind == "date" or stamp:
            m = _XSD_DATE.fullmatch(date_part)
            if m is None or (stamp and m.group(4)):
                raise Unconvertible(f"not an xs:{'date' if kind == 'date' else 'dateTime'}")
            try:
                out = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                raise Unconvertible("no such date") from None
            if kind == "date":
                if m.group(4):
                    raise Unconvertible("a date with a time zone; the target's DATE has none")
                return out
            out += " "
        t = _XSD_TIME.fullmatch(time_part)
        if t is None:
            raise Unconvertible("not an xs:dateTime" if kind == "timestamp" else "not an xs:time")
        if t.group(5) and kind != "timestamptz":
            raise Unconvertible("a time zone offset; the column holds times without one")
        if not t.group(5) and kind == "timestamptz":
            raise Unconvertible("no time zone offset; the column's other values have one")
        hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3))
        if hour > 23 or minute > 59 or second > 59:
            raise Unconvertible("time of day out of range")
        zone = _zone(t.group(5)) if kind == "timestamptz" else ""
        return out + f"{hour:02d}:{minute:02d}:{second:02d}" + _fraction(t.group(4), fraction_limit) + zone
    return convert
