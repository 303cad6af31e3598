"""Arkade 5's data types: which fieldFormats it accepts and which values it finds valid.

Each type answers ``valid(value, nullable)`` exactly as Arkade's ``DataType.IsValid`` does
(``Base/Addml/Definitions/DataTypes/*.cs``): a value listed in the type's ``nullValues`` is always
valid, an empty value is valid when the field has no ``notNull``, and otherwise the type's own rule
decides. A ``fieldFormat`` Arkade does not accept makes ``make_type`` raise ``FormatRejected``:
Arkade cannot load such an addml.xml at all.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from . import dotnet_formats

NET_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
                 "\u2028\u2029\u202f\u205f\u3000"
"""Characters .NET's ``char.IsWhiteSpace`` accepts (``string.IsNullOrWhiteSpace``)."""
_NUMBER_WS = "\t\n\v\f\r "
"""Blanks .NET number parsing skips before and after a number."""

_INTEGER = re.compile(rf"[{_NUMBER_WS}]*[+-]?[0-9]+[{_NUMBER_WS}]*")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
SEP = "\x00"
"""Joins a batch of values for one pass of a regular expression over them all (see ``joined``)."""
_EXPONENT = re.compile(r"[+-]?[0-9]+[eE][+-]?[0-9]+")
_DECIMAL_LIMIT = 79228162514264337593543950335


class FormatRejected(ValueError):
    """Arkade 5 rejects this dataType/fieldFormat pair and cannot load the addml.xml."""


def blank(value: str) -> bool:
    """``string.IsNullOrWhiteSpace``."""
    return not value or (value[0] in NET_WHITESPACE and not value.strip(NET_WHITESPACE))


def net_len(value: str) -> int:
    """Length in UTF-16 code units, as .NET counts a string (characters beyond U+FFFF count twice)."""
    if value.isascii() or _ASTRAL.search(value) is None:
        return len(value)
    return len(value) + len(_ASTRAL.findall(value))


_last_join: tuple[list[str], str] | None = None


def joined(values: list[str]) -> str:
    """The batch joined by ``SEP``, so that one regular expression (in C) can look at every value.

    Several checks look at the same batch of a field's values; the last join is kept with the list
    itself (so its identity cannot be reused while kept).
    """
    global _last_join
    last = _last_join
    if last is not None and last[0] is values:
        return last[1]
    text = SEP.join(values)
    _last_join = (values, text)
    return text


def astral_free(values: list[str]) -> bool:
    """No value holds a character beyond U+FFFF: then ``net_len`` is ``len`` for all of them."""
    text = joined(values)
    if text.isascii():
        return True
    try:
        text.encode("latin-1")  # a copy, where a search would look at every character
        return True
    except UnicodeEncodeError:
        return _ASTRAL.search(text) is None


def none_blank_start(values: list[str]) -> bool:
    """No value is empty or starts with white space (so none is blank), decided in C for the batch.

    Python's white space (``str.lstrip``) includes all of .NET's.
    """
    return all(values) and list(map(str.lstrip, values)) == values


def parse_big_integer(value: str) -> int | None:
    """``BigInteger.TryParse(value)`` with the default (Integer) style, or None."""
    return int(value) if _INTEGER.fullmatch(value) else None


@dataclass
class DataType:
    """A fieldType as Arkade sees it.

    ``fast`` is a regular expression for the common spellings of valid values: every value it
    matches passes the rule (never one the rule rejects), so a batch it matches as a whole needs
    no value-by-value look; values it does not match go to the exact rule.
    """

    name: str
    data_type: str
    fmt: str | None
    null_values: frozenset[str] = frozenset()
    _rule: Callable[[str], bool] = field(default=lambda s: True, repr=False)
    fast: str | None = field(default=None, repr=False)

    def is_null_value(self, value: str) -> bool:
        return value in self.null_values

    def __post_init__(self) -> None:
        self.rule: Callable[[str], bool] = self._rule
        """The type's own rule, without null values (a value that passes it is valid whatever the field)."""
        self._last: tuple[list[str], list[int]] | None = None
        self._one: re.Pattern[str] | None = None
        self._all: re.Pattern[str] | None = None
        if self.fast is not None:
            assert SEP not in self.fast
            self._one = re.compile(self.fast)
            # Atomic groups: a value once matched up to the next separator is never matched again
            # another way, so a batch that fails does so in one pass.
            one = f"(?>(?:{self.fast})(?={SEP}|\\Z))"
            self._all = re.compile(f"{one}(?:{SEP}{one})*+")

    def failures(self, values: list[str]) -> list[int]:
        """Positions of the values that fail the type's own rule.

        A.19 and A.35/A.36 ask this of the same batch of a field's values; the last answer is kept
        (with the list itself, so its identity cannot be reused) and the rule runs once per value.
        """
        last = self._last
        if last is not None and last[0] is values:
            return last[1]
        found = self._failures(values)
        self._last = (values, found)
        return found

    def _failures(self, values: list[str]) -> list[int]:
        rule = self.rule
        one = self._one
        if one is None or self._all is None:
            if self.data_type == "string" and self.fmt is None and none_blank_start(values):
                return []
            return [k for k, v in enumerate(values) if not rule(v)]
        if not values:
            return []
        text = joined(values)
        # The fast pattern never matches SEP, so a match of the whole text is a match of every value,
        # unless a value holds SEP itself (then there are more separators than gaps).
        if self._all.fullmatch(text) is not None and text.count(SEP) == len(values) - 1:
            return []
        match = one.fullmatch
        return [k for k, v in enumerate(values) if match(v) is None and not rule(v)]

    def valid(self, value: str, nullable: bool) -> bool:
        return self._rule(value) or value in self.null_values or (nullable and value == "")


def _string_rule(fmt: str | None) -> Callable[[str], bool]:
    if fmt == "fnr":
        return birth_number_ok
    if fmt == "org":
        return organisation_number_ok
    if fmt == "knr":
        return account_number_ok
    return lambda s: not blank(s)


def _integer_rule(fmt: str | None) -> Callable[[str], bool]:
    if fmt in ("n.nnn", "n,nnn", "n nnn"):
        sep = fmt[1]

        def thousands(s: str) -> bool:
            s = s.replace(" ", "")
            kept = []
            rev = s[::-1]
            for i, c in enumerate(rev):
                # Arkade removes every fourth character from the end, separator or digit.
                if i != len(rev) - 1 and (i + 1) % 4 == 0:
                    if c != sep and not c.isdigit():
                        return False
                else:
                    kept.append(c)
            return _INTEGER.fullmatch("".join(reversed(kept))) is not None
        return thousands
    if fmt == "nnE+exp":
        return lambda s: "E+" in s.replace(" ", "") and _EXPONENT.fullmatch(s.replace(" ", "")) is not None
    return lambda s: _INTEGER.fullmatch(s.replace(" ", "")) is not None


def _decimal_pattern(dec: str, group: str | None) -> re.Pattern[str]:
    d = re.escape(dec)
    ws = f"[{_NUMBER_WS}]*"
    if group is None:
        body = rf"(?:[0-9]+(?:{d}[0-9]*)?|{d}[0-9]+)"
    else:
        g = re.escape(group)
        body = rf"(?:[0-9](?:[0-9]|{g})*(?:{d}[0-9]*)?|{d}[0-9]+)"
    return re.compile(rf"{ws}([+-]?){body}{ws}")


def _decimal_ok(pattern: re.Pattern[str], dec: str, group: str | None, s: str) -> bool:
    if pattern.fullmatch(s) is None:
        return False
    digits = s.strip(_NUMBER_WS).lstrip("+-")
    if group:
        digits = digits.replace(group, "")
    whole = digits.split(dec, 1)[0] or "0"
    return int(whole) <= _DECIMAL_LIMIT


def decimal_separators(fmt: str | None) -> list[tuple[str, str | None]]:
    """The (decimal sign, group separator) pairs a float's fieldFormat allows (``nn,nn``, ``n.nnn,nn``…;
    without one, any of Arkade's six). The load (``extractor.loading.convert``) reads decimals by them too."""
    if fmt is None:
        return [(".", None), (",", None), (".", ","), (".", " "), (",", "."), (",", " ")]
    if fmt in ("nn,nn", "nn.nn"):
        return [(fmt[2], None)]
    return [(fmt[5], fmt[1])]


def _float_rule(fmt: str | None) -> Callable[[str], bool]:
    compiled = [(_decimal_pattern(d, g), d, g) for d, g in decimal_separators(fmt)]
    if len(compiled) == 1:
        pattern, dec, group = compiled[0]
        return lambda s: _decimal_ok(pattern, dec, group, s)
    return lambda s: any(_decimal_ok(p, d, g, s) for p, d, g in compiled)


def _boolean_rule(fmt: str) -> Callable[[str], bool]:
    true, false = fmt.split("/")
    return lambda s: s == true or s == false


def _date_rule(fmt: str | None) -> Callable[[str], bool]:
    if fmt is None:
        return lambda s: False
    if fmt in ISO_CALENDAR or fmt in ISO_ORDINAL or fmt in ISO_WEEK:
        kind = "calendar" if fmt in ISO_CALENDAR else "ordinal" if fmt in ISO_ORDINAL else "week"
        net = dotnet_formats.date_parser("yyyy-MM-ddTHH:mm:ss.fffffffzzz")
        return lambda s: iso8601_ok(s, kind) or net(s)
    try:
        return dotnet_formats.date_parser(fmt)
    except dotnet_formats.UnsupportedFormat:
        return lambda s: False


def _time_rule(fmt: str | None) -> Callable[[str], bool]:
    try:
        return dotnet_formats.time_parser(fmt or "")
    except dotnet_formats.UnsupportedFormat:
        return lambda s: False


STRING_FORMATS = (None, "fnr", "org", "knr")
INTEGER_FORMATS = (None, "n.nnn", "n,nnn", "n nnn", "nnE+exp")
FLOAT_FORMATS = (None, "nn,nn", "nn.nn", "n.nnn,nn", "n nnn,nn", "n,nnn.nn", "n nnn.nn")
KNOWN_TYPES = ("string", "integer", "float", "date", "time", "boolean", "link")


def make_type(name: str, data_type: str, fmt: str | None, null_values: frozenset[str]) -> DataType:
    """The Arkade data type for a fieldType; FormatRejected where Arkade refuses to load it."""
    kind = data_type.strip().lower()
    rule: Callable[[str], bool]
    fast: str | None = None
    if kind == "string":
        if fmt not in STRING_FORMATS:
            raise FormatRejected(f"fieldFormat {fmt!r} is not accepted for string (Arkade accepts none, fnr, org, knr)")
        rule = _string_rule(fmt)
    elif kind == "integer":
        if fmt not in INTEGER_FORMATS:
            raise FormatRejected(f"fieldFormat {fmt!r} is not accepted for integer (Arkade accepts none, "
                                 + ", ".join(str(f) for f in INTEGER_FORMATS[1:]) + ")")
        rule = _integer_rule(fmt)
        fast = "[+-]?[0-9]+" if fmt is None else None
    elif kind == "float":
        if fmt not in FLOAT_FORMATS:
            raise FormatRejected(f"fieldFormat {fmt!r} is not accepted for float (Arkade accepts none, "
                                 + ", ".join(str(f) for f in FLOAT_FORMATS[1:]) + ")")
        rule = _float_rule(fmt)
        fast = _float_fast(fmt)
    elif kind == "date":
        rule = lru_cache(maxsize=8192)(_date_rule(fmt))  # dates repeat; A.19 and A.35 ask twice
        fast = _date_fast(fmt)
    elif kind == "time":
        rule = lru_cache(maxsize=8192)(_time_rule(fmt))
        fast = dotnet_formats.time_fast_pattern(fmt or "")
    elif kind == "boolean":
        parts = (fmt or "").split("/")
        if len(parts) != 2 or blank(parts[0]) or blank(parts[1]) or parts[0] == parts[1]:
            raise FormatRejected(f"a boolean needs a fieldFormat '<true>/<false>' such as J/N; got {fmt!r}")
        rule = _boolean_rule(fmt or "")
        if SEP not in (fmt or ""):
            fast = f"{re.escape(parts[0])}|{re.escape(parts[1])}"
    elif kind == "link":
        rule = lambda s: False  # noqa: E731 - Arkade's link type accepts only null values
    else:
        raise FormatRejected(f"unknown dataType {data_type!r} (Arkade 5 knows {', '.join(KNOWN_TYPES)}; "
                             "use float for decimals)")
    return DataType(name, kind, fmt, null_values, rule, fast)


def _float_fast(fmt: str | None) -> str:
    """Plain decimals: up to 28 whole digits stay below .NET's decimal limit whatever the digits."""
    dec = "[.,]" if fmt is None else re.escape(fmt[2] if fmt in ("nn,nn", "nn.nn") else fmt[5])
    return f"[+-]?[0-9]{{1,28}}(?:{dec}[0-9]+)?"


def _date_fast(fmt: str | None) -> str | None:
    if fmt is None:
        return None
    if fmt in ("YYYY-MM-DD", "YYYYMMDD"):
        return dotnet_formats.date_fast_pattern(fmt.replace("Y", "y").replace("D", "d"))
    if fmt in ISO_CALENDAR or fmt in ISO_ORDINAL or fmt in ISO_WEEK:
        return None
    return dotnet_formats.date_fast_pattern(fmt)


# --- ISO 8601 spellings Arkade recognises as date fieldFormats (Util/Iso8601Format.cs) ---

def _iso(date: str, time_basic: str, time_ext: str) -> list[str]:
    t = '"T"'
    return [date + t + time_basic + "±hhmm", date + t + time_basic + "±hh", date + t + time_basic + '"Z"',
            date + t + time_ext + '±hh":"mm', date + t + time_ext + "±hh", date + t + time_ext + '"Z"']


_TB, _TE = "hhmmss", 'hh":"mm":"ss'
ISO_CALENDAR = frozenset(["YYYYMMDD", "YYYY-MM-DD", *_iso("YYYYMMDD", _TB, _TE)[:3], *_iso("YYYY-MM-DD", _TB, _TE)[3:]])
ISO_ORDINAL = frozenset(["YYYYDDD", "YYYY-DDD", *_iso("YYYYDDD", _TB, _TE)[:3], *_iso("YYYY-DDD", _TB, _TE)[3:]])
ISO_WEEK = frozenset(['YYYY"W"WWD', 'YYYY-"W"WW-D', *_iso('YYYY"W"WWD', _TB, _TE)[:3], *_iso('YYYY-"W"WW-D', _TB, _TE)[3:]])

_COLON = re.compile(r"(?<=\d{2}):(?=\d{2})")
_HYPHEN = re.compile(r"(?<=\d)-(?=\d)")


def _iso_time_ok(t: str) -> bool:
    try:
        if len(t) in (4, 6, 7, 9, 11):
            if len(t) == 7 and t[6] != "Z":
                return False
            hour, minute = int(t[:2]), int(t[2:4])
            second = int(t[4:6]) if len(t) >= 6 else 0
            tz_h = int(t[6:9]) if len(t) >= 9 else 0
            tz_m = int(t[9:11]) if len(t) == 11 else 0
            return hour < 24 and minute < 60 and second < 60 and abs(tz_h) <= 14 and tz_m < 60
    except ValueError:
        return False
    return False


def iso8601_ok(value: str, kind: str) -> bool:
    """Arkade's reading of an ISO 8601 date: the value in basic form, date then an optional time."""
    b = _HYPHEN.sub("", _COLON.sub("", value))
    try:
        if kind == "calendar":
            if len(b) < 8 or not b[:8].isdigit():
                return False
            dt.date(int(b[:4]), int(b[4:6]), int(b[6:8]))
            rest = b[9:] if len(b) > 8 else None
        elif kind == "ordinal":
            if len(b) < 7 or not b[:7].isdigit():
                return False
            year, day = int(b[:4]), int(b[4:7])
            if not 1 <= day <= (366 if calendar.isleap(year) else 365):
                return False
            rest = b[8:] if len(b) > 7 else None
        else:
            if len(b) < 8 or not (b[:4].isdigit() and b[5:7].isdigit() and b[7].isdigit()):
                return False
            dt.date.fromisocalendar(int(b[:4]), int(b[5:7]), int(b[7]))
            rest = b[9:] if len(b) > 8 else None
    except ValueError:
        return False
    return rest is None or _iso_time_ok(rest)


# --- Norwegian check digits (Util/Norwegian*Number.cs) ---

def _mod11(digits: str, weights: tuple[int, ...]) -> str:
    r = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return str(0 if r == 11 else r)


def birth_number_ok(value: str) -> bool:
    s = value.replace(" ", "")
    if len(s) != 11 or not s.isascii() or not s.isdigit():
        return False
    first = _mod11(s[:9], (3, 7, 6, 1, 8, 9, 4, 5, 2))
    second = _mod11(s[:9] + first[-1], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) if len(first) == 1 else "x"
    return s[9:] == first + second


def organisation_number_ok(value: str) -> bool:
    s = value.replace(".", "").replace(" ", "")
    if len(s) != 9 or not s.isascii() or not s.isdigit():
        return False
    return s[8] == _mod11(s[:8], (3, 2, 7, 6, 5, 4, 3, 2))


def account_number_ok(value: str) -> bool:
    s = value.replace(".", "").replace(" ", "")
    if len(s) != 11 or not s.isascii() or not s.isdigit():
        return False
    return s[10] == _mod11(s[:10], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
