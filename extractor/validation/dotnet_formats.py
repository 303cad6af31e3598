""".NET custom date and time patterns, parsed the way Arkade 5 parses date and time values.

Arkade checks a date with ``DateTimeOffset.TryParseExact(value, fieldFormat, InvariantCulture)``
and a time with ``TimeSpan.TryParseExact(value, lower-cased format)``; the format is a .NET custom
pattern (``yyyy-MM-ddTHH:mm:ss.FFFFFFF``, ``dd.MM.yyyy``...). This module compiles such a pattern
into a regular expression plus range checks with .NET's exact-parse rules: ``yyyy`` is exactly four
digits, ``M``/``d``/``H`` one or two, ``f`` an exact number of fraction digits, ``F`` up to that
many (and ``.F`` may be absent altogether), ``zzz`` an offset like ``+01:00``; other characters
must match literally; no surrounding blanks.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from functools import lru_cache

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_D = "[0-9]"


class UnsupportedFormat(ValueError):
    """The pattern uses something this parser (or .NET) does not accept; every value is then invalid."""


def tokens(fmt: str) -> list[tuple[str, str | int]]:
    """Split a .NET custom pattern into (letter, count) and ('lit', text) tokens; what .NET refuses
    (an unterminated quote, a trailing backslash, a lone or doubled ``%``) raises ``UnsupportedFormat``.
    The load (``extractor.loading.convert``) reads its patterns with it too."""
    out: list[tuple[str, str | int]] = []
    i = 0
    n = len(fmt)
    while i < n:
        c = fmt[i]
        if c in "'\"":
            j = fmt.find(c, i + 1)
            if j < 0:
                raise UnsupportedFormat(f"unterminated quote in {fmt!r}")
            out.append(("lit", fmt[i + 1:j]))
            i = j + 1
        elif c == "\\":
            if i + 1 >= n:
                raise UnsupportedFormat(f"trailing backslash in {fmt!r}")
            out.append(("lit", fmt[i + 1]))
            i += 2
        elif c == "%":
            if i + 1 >= n or fmt[i + 1] == "%":
                raise UnsupportedFormat(f"bad % in {fmt!r}")
            i += 1
        elif c in "yMdhHmsfFtzKg":
            j = i
            while j < n and fmt[j] == c:
                j += 1
            out.append((c, j - i))
            i = j
        else:
            out.append(("lit", c))
            i += 1
    return out


def _digits(count: int, one_means_two: bool = True) -> str:
    return f"({_D}{{1,2}})" if count == 1 and one_means_two else f"({_D}{{{count}}})"


@lru_cache(maxsize=256)
def date_parser(fmt: str) -> Callable[[str], bool]:
    """A function telling whether a value parses exactly with the .NET date/time pattern ``fmt``."""
    toks = tokens(fmt)
    parts: list[str] = []
    groups: list[tuple[str, int]] = []  # (component, token count) per capturing group
    i = 0
    while i < len(toks):
        kind, arg = toks[i]
        count = int(arg) if kind != "lit" else 0
        if kind == "lit":
            text = str(arg)
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if text == "." and nxt and nxt[0] == "F":
                # ".FFF": .NET skips the whole fraction when the dot is absent.
                parts.append(f"(?:\\.({_D}{{0,{int(nxt[1])}}}))?")
                groups.append(("F", int(nxt[1])))
                i += 2
                continue
            parts.append(re.escape(text))
        elif kind == "y":
            parts.append(_digits(count))
            groups.append(("y", count))
        elif kind in "MdhHms":
            if kind in "Md" and count >= 3:
                names = _MONTHS if kind == "M" else _DAYS
                alts = [nm[:3] for nm in names] if count == 3 else names
                parts.append("(" + "|".join(alts) + ")")
                groups.append((kind + "name", count))
            else:
                parts.append(_digits(min(count, 2)))
                groups.append((kind, count))
        elif kind in "fF":
            if count > 7:
                raise UnsupportedFormat(f"more than 7 fraction digits in {fmt!r}")
            parts.append(f"({_D}{{{count}}})" if kind == "f" else f"({_D}{{0,{count}}})")
            groups.append((kind, count))
        elif kind == "t":
            parts.append("(AM|PM)" if count >= 2 else "(A|P)")
            groups.append(("t", count))
        elif kind == "z":
            if count <= 2:
                parts.append(f"([+-]){_digits(count)}")
                groups += [("zsign", 0), ("zh", count)]
            else:
                parts.append(f"([+-])({_D}{{1,2}}):?({_D}{{2}})")
                groups += [("zsign", 0), ("zh", count), ("zm", count)]
        elif kind == "K":
            parts.append(f"(Z|[+-]{_D}{{2}}:{_D}{{2}})?")
            groups.append(("K", count))
        else:
            raise UnsupportedFormat(f"unsupported pattern letter {kind!r} in {fmt!r}")
        i += 1
    pattern = re.compile("".join(parts), re.IGNORECASE if any(g[0].endswith("name") or g[0] == "t" for g in groups)
                         else 0)
    comps = [g[0] for g in groups]
    simple = all(c in ("y", "M", "d", "H", "m", "s", "f", "F") for c in comps) and len(set(comps)) == len(comps) \
        and not any(c == "y" and n <= 2 for c, n in groups)
    if simple:
        return _simple_parser(pattern, comps)

    def parse(value: str) -> bool:
        m = pattern.fullmatch(value)
        if m is None:
            return False
        seen: dict[str, int] = {}
        ampm: str | None = None
        weekday: int | None = None
        for (comp, count), text in zip(groups, m.groups(), strict=True):
            if comp in ("F", "K") or text is None:
                continue
            if comp == "t":
                ampm = text.upper()[0]
                continue
            if comp == "zsign":
                continue
            if comp == "Mname":
                val = [nm[:3].lower() if count == 3 else nm.lower() for nm in _MONTHS].index(text.lower()) + 1
                comp = "M"
            elif comp == "dname":
                weekday = [nm[:3].lower() if count == 3 else nm.lower() for nm in _DAYS].index(text.lower())
                continue
            else:
                val = int(text) if comp != "f" else 0
            if comp == "y" and count <= 2:
                val = 2000 + val if val <= 49 else 1900 + val
            key = "H" if comp in "hH" else comp
            if comp == "h":
                if val > 12:
                    return False
            if key in seen and seen[key] != val:
                return False
            seen[key] = val
        if ampm is not None and "H" in seen:
            h = seen["H"]
            if h > 12:
                return False
        year = seen.get("y", 2000)
        month = seen.get("M", 1)
        day = seen.get("d", 1)
        if not (1 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
            return False
        if seen.get("H", 0) > 23 or seen.get("m", 0) > 59 or seen.get("s", 0) > 59:
            return False
        if "zh" in seen and (seen["zh"] > 14 or seen.get("zm", 0) > 59 or seen["zh"] * 60 + seen.get("zm", 0) > 840):
            return False
        if weekday is not None and calendar.weekday(year, month, day) != weekday:
            return False
        return True

    return parse


def _simple_parser(pattern: re.Pattern[str], comps: list[str]) -> Callable[[str], bool]:
    """The common case (each of y M d H m s at most once, numeric): a few int checks after the match."""
    at = {c: i for i, c in enumerate(comps)}
    iy, im, iday = at.get("y"), at.get("M"), at.get("d")
    limits = [(at[c], top) for c, top in (("H", 23), ("m", 59), ("s", 59)) if c in at]

    def parse(value: str) -> bool:
        m = pattern.fullmatch(value)
        if m is None:
            return False
        g = m.groups()
        year = int(g[iy]) if iy is not None else 2000
        month = int(g[im]) if im is not None else 1
        day = int(g[iday]) if iday is not None else 1
        if year < 1 or not 1 <= month <= 12 or day < 1:
            return False
        if day > 28 and day > calendar.monthrange(year, month)[1]:
            return False
        return all(int(g[i]) <= top for i, top in limits)

    return parse


@lru_cache(maxsize=64)
def time_parser(fmt: str) -> Callable[[str], bool]:
    """``TimeSpan.TryParseExact(value, fmt-lower-cased)``, as Arkade checks a ``time`` field."""
    low = fmt.replace(":", "\\:").replace("-", "\\-").lower()
    toks = tokens(low)
    parts: list[str] = []
    comps: list[str] = []
    for kind, arg in toks:
        if kind == "lit":
            parts.append(re.escape(str(arg)))
            continue
        count = int(arg)
        if kind == "d":
            if count > 8:
                raise UnsupportedFormat(f"too many d in {fmt!r}")
            parts.append(f"({_D}{{{count},8}})")
        elif kind in "hms":
            if count > 2:
                raise UnsupportedFormat(f"too many {kind} in {fmt!r}")
            parts.append(_digits(count))
        elif kind == "f":
            parts.append(f"({_D}{{{count}}})")
        elif kind == "F":
            parts.append(f"({_D}{{0,{count}}})")
        else:
            raise UnsupportedFormat(f"{kind!r} is not a TimeSpan pattern letter (format {fmt!r}, lower-cased by Arkade)")
        comps.append(kind)
    pattern = re.compile("".join(parts))

    def parse(value: str) -> bool:
        m = pattern.fullmatch(value)
        if m is None:
            return False
        limits = {"h": 23, "m": 59, "s": 59}
        for comp, text in zip(comps, m.groups(), strict=True):
            if comp in limits and text and int(text) > limits[comp]:
                return False
        return True

    return parse


# --- fast patterns: a regular expression for the common values, checked a whole batch at a time ---
#
# A fast pattern matches only values the exact parser above accepts (a subset: never a value it
# rejects), so a value it matches needs no further look; a value it does not match goes to the exact
# parser. Years 0001-0999, 29 February, offsets of +14:00 and the like are left to the exact parser.

_M31, _M30 = (1, 3, 5, 7, 8, 10, 12), (4, 6, 9, 11)


def _alts(numbers: tuple[int, ...], count: int) -> str:
    """Two-digit numbers as written by a pattern letter repeated ``count`` times (1: the 0 is optional)."""
    return "(?:" + "|".join(f"0?{n}" if count == 1 and n < 10 else f"{n:02d}" for n in numbers) + ")"


def _day(top: int, count: int) -> str:
    first = "0?[1-9]" if count == 1 else "0[1-9]"
    return {28: f"(?:{first}|1[0-9]|2[0-8])", 30: f"(?:{first}|[12][0-9]|30)", 31: f"(?:{first}|[12][0-9]|3[01])"}[top]


def _month_day(month_count: int, day_count: int, between: str, month_first: bool) -> str:
    """Month and day written next to each other (only literals between): each month with its own days."""
    alts = []
    for months, top in ((_M31, 31), (_M30, 30), ((2,), 28)):
        m, d = _alts(months, month_count), _day(top, day_count)
        alts.append(m + between + d if month_first else d + between + m)
    return "(?:" + "|".join(alts) + ")"


_LEAP_YEAR = "(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)"
"""Four-digit years from 1000 with a 29 February."""
_HOUR = {1: "(?:[01]?[0-9]|2[0-3])", 2: "(?:[01][0-9]|2[0-3])"}
_SIXTY = {1: "[0-5]?[0-9]", 2: "[0-5][0-9]"}


@lru_cache(maxsize=256)
def date_fast_pattern(fmt: str) -> str | None:
    """A regular expression (no anchors) for a subset of the values ``date_parser(fmt)`` accepts, or None.

    Handled: yyyy, M/MM, d/dd, H/HH, m/mm, s/ss, f and F fractions, z/zz/zzz offsets up to 13:59 and
    literals, each letter at most once; anything else (names, AM/PM, 12-hour clocks, two-digit years)
    gets None and every value goes to the exact parser.
    """
    try:
        toks = tokens(fmt)
    except UnsupportedFormat:
        return None
    parts: list[str] = []
    literal: list[bool] = []
    slots: dict[str, tuple[int, int]] = {}  # M and d: (position in parts, count)
    seen: set[str] = set()
    i = 0
    while i < len(toks):
        kind, arg = toks[i]
        if kind == "lit":
            text = str(arg)
            if "\x00" in text or "\n" in text:
                return None  # the separators of a batch
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if text == "." and nxt and nxt[0] == "F":
                if "F" in seen or int(nxt[1]) > 7:
                    return None
                seen.add("F")
                parts.append(f"(?:\\.[0-9]{{0,{int(nxt[1])}}})?")
                literal.append(False)
                i += 2
                continue
            parts.append(re.escape(text))
            literal.append(True)
            i += 1
            continue
        count = int(arg)
        if kind in seen:
            return None
        seen.add(kind)
        if kind == "y" and count == 4:
            slots["y"] = (len(parts), count)
            parts.append("[1-9][0-9]{3}")
        elif kind in "Md" and count <= 2:
            slots[kind] = (len(parts), count)
            parts.append(_alts(tuple(range(1, 13)), count) if kind == "M" else _day(28, count))
        elif kind == "H":
            parts.append(_HOUR[min(count, 2)])
        elif kind in "ms":
            parts.append(_SIXTY[min(count, 2)])
        elif kind in "fF" and count <= 7:
            parts.append(f"[0-9]{{{count}}}" if kind == "f" else f"[0-9]{{0,{count}}}")
        elif kind == "z":
            hours = "(?:0?[0-9]|1[0-3])" if count == 1 else "(?:0[0-9]|1[0-3])"
            parts.append(f"[+-]{hours}" + (":?[0-5][0-9]" if count >= 3 else ""))
        else:
            return None
        literal.append(False)
        i += 1
    if not seen:
        return None
    if "M" in slots and "d" in slots:
        (a, month_count), (b, day_count) = slots["M"], slots["d"]
        lo, hi = min(a, b), max(a, b)
        if all(literal[lo + 1:hi]):  # only literals between: days 29-31 by month, and 29 February of leap years
            between = "".join(parts[lo + 1:hi])
            leap = list(parts)
            feb, day = ("0?2" if month_count == 1 else "02"), "29"
            leap[lo:hi + 1] = [feb + between + day if a < b else day + between + feb]
            parts[lo:hi + 1] = [_month_day(month_count, day_count, between, a < b)]
            if "y" in slots:
                y = slots["y"][0]
                leap[y if y < lo else y - (hi - lo)] = _LEAP_YEAR
                return f"(?:{''.join(parts)}|{''.join(leap)})"
    return "".join(parts)


@lru_cache(maxsize=64)
def time_fast_pattern(fmt: str) -> str | None:
    """A regular expression for a subset of the values ``time_parser(fmt)`` accepts, or None."""
    low = fmt.replace(":", "\\:").replace("-", "\\-").lower()
    try:
        toks = tokens(low)
    except UnsupportedFormat:
        return None
    parts: list[str] = []
    letters = 0
    for kind, arg in toks:
        if kind == "lit":
            text = str(arg)
            if "\x00" in text or "\n" in text:
                return None
            parts.append(re.escape(text))
            continue
        count = int(arg)
        letters += 1
        if kind == "d" and count <= 8:
            parts.append(f"[0-9]{{{count},8}}")
        elif kind == "h" and count <= 2:
            parts.append(_HOUR[count])
        elif kind in "ms" and count <= 2:
            parts.append(_SIXTY[count])
        elif kind == "f":
            parts.append(f"[0-9]{{{count}}}")
        elif kind == "F":
            parts.append(f"[0-9]{{0,{count}}}")
        else:
            return None
    return "".join(parts) if letters else None
