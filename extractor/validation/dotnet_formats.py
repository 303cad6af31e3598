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


def _tokens(fmt: str) -> list[tuple[str, str | int]]:
    """Split a .NET custom pattern into ('spec', letter, count) and ('lit', text) tokens."""
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
    toks = _tokens(fmt)
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
    toks = _tokens(low)
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
