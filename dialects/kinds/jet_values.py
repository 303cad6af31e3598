"""Access values from their stored bytes, exactly, as the text or number uttrekk archives.

Each decoder takes the bytes a row holds for one column and returns what goes into the cache's
SQLite table: exact text for what no SQLite type holds exactly (Currency, Decimal, Date/Time,
Replication ID), ``int``, ``float`` or ``bytes`` for the rest. The encodings are those of mdbtools'
HACKING.md and Jackcess; the readers that get them wrong are listed in docs/dumps.md.

- **Date/Time** is a double: days since 1899-12-30, the fraction the time of day. Before that day
  the whole part counts back and the fraction still counts *forward* from midnight (-1.25 is
  1899-12-29 06:00, not 1899-12-28 18:00). Written as ``YYYY-MM-DDTHH:MM:SS`` with the fewest
  fraction digits (none, 3, 6 or 7) that give back the very same double; a value outside Access's
  own range (years 100 to 9999) is kept as the double's text, which the extract reports.
- **Currency** is a 64-bit integer of 1/10000: four decimals, always.
- **Decimal** is a sign byte and a 128-bit integer stored as four little-endian 32-bit words, most
  significant word first, scaled by the column's scale.
- **Replication ID** (GUID) is Windows' GUID layout: three little-endian fields, then eight bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from fractions import Fraction

EPOCH = dt.datetime(1899, 12, 30)
FIRST_DAY, LAST_DAY = -657434, 2958465
"""Access's own range of dates: 100-01-01 and 9999-12-31 as day numbers."""
DAY = 86400


class JetValueError(ValueError):
    """Bytes that are no value of the column's type."""


def text_jet4(data: bytes) -> str:
    """Jet 4/ACE text: UCS-2, or Access's compression (``FF FE``, then runs of one-byte characters
    with a 0x00 switching to two-byte characters and back)."""
    if len(data) >= 2 and data[0] == 0xFF and data[1] == 0xFE:
        out = bytearray()
        compressed, i = True, 2
        while i < len(data):
            if data[i] == 0:
                compressed = not compressed
                i += 1
            elif compressed:
                out += bytes((data[i], 0))
                i += 1
            elif i + 1 < len(data):
                out += data[i:i + 2]
                i += 2
            else:
                raise JetValueError("compressed text ends inside a character")
        data = bytes(out)
    if len(data) % 2:
        raise JetValueError(f"UCS-2 text of an odd number of bytes ({len(data)})")
    return data.decode("utf-16-le", errors="surrogatepass")


CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
"""Bytes code page 1252 leaves undefined; Windows (and so Access) reads them as U+0081 … U+009D."""


def text_jet3(data: bytes, code_page: str) -> str:
    """Jet 3 text, in the database's code page (1252's five undefined bytes as Windows reads them)."""
    try:
        return data.decode(code_page)
    except UnicodeDecodeError as exc:
        if code_page == "cp1252":
            return "".join(chr(b) if b in CP1252_UNDEFINED else bytes((b,)).decode(code_page) for b in data)
        raise JetValueError(f"byte {data[exc.start]:#04x} is no character of {code_page}") from None


def currency(data: bytes) -> str:
    n = struct.unpack_from("<q", data)[0]
    sign = "-" if n < 0 else ""
    whole, frac = divmod(abs(n), 10000)
    return f"{sign}{whole}.{frac:04d}"


def numeric(data: bytes, scale: int) -> str:
    if len(data) < 17:
        raise JetValueError(f"a Decimal of {len(data)} bytes (17 expected)")
    words = struct.unpack_from("<4I", data, 1)
    n = (words[0] << 96) | (words[1] << 64) | (words[2] << 32) | words[3]
    sign = "-" if data[0] & 0x80 and n else ""
    if scale <= 0:
        return f"{sign}{n}"
    digits = str(n).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def guid(data: bytes) -> str:
    if len(data) < 16:
        raise JetValueError(f"a GUID of {len(data)} bytes (16 expected)")
    a, b, c = struct.unpack_from("<IHH", data)
    rest = data[8:16].hex().upper()
    return f"{{{a:08X}-{b:04X}-{c:04X}-{rest[:4]}-{rest[4:]}}}"


def single(data: bytes) -> float | str:
    return _finite(struct.unpack_from("<f", data)[0])


def double(data: bytes) -> float | str:
    return _finite(struct.unpack_from("<d", data)[0])


def _finite(value: float) -> float | str:
    """SQLite stores NaN as NULL: a value that is no number is kept as its text (and reported)."""
    return value if math.isfinite(value) else repr(value)


def date_time(data: bytes) -> str:
    """A Date/Time double as ISO text that encodes back to the same double (see the module docstring)."""
    x = struct.unpack_from("<d", data)[0]
    if not math.isfinite(x) or not FIRST_DAY <= math.trunc(x) <= LAST_DAY:
        return repr(x)
    day = math.trunc(x)
    exact = abs(Fraction(x) - day) * DAY  # seconds after midnight, exactly
    for digits in (0, 3, 6, 7):
        unit = Fraction(1, 10**digits)
        ticks = round(exact / unit)
        if _encode(day, ticks * unit, x) == x:
            return _iso(day, ticks, digits)
    return repr(x)


def _encode(day: int, seconds: Fraction, original: float) -> float:
    """The double Access stores for ``day`` and ``seconds`` after midnight (the sign of ``original``
    for day 0, where -0.5 and 0.5 are the same moment)."""
    fraction = seconds / DAY
    negative = day < 0 or (day == 0 and math.copysign(1.0, original) < 0)
    return float(Fraction(day) - fraction) if negative else float(Fraction(day) + fraction)


def _iso(day: int, ticks: int, digits: int) -> str:
    whole, part = divmod(ticks, 10**digits)
    if whole >= DAY:  # rounded up to the next midnight
        day, whole = day + (1 if day >= 0 else -1), whole - DAY
    moment = EPOCH + dt.timedelta(days=day, seconds=whole)
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment:%H:%M:%S}"
    return text + (f".{part:0{digits}d}" if digits else "")


def date_time_extended(data: bytes) -> str:
    """ACE 16's Date/Time Extended: ASCII days since 0001-01-01 (19 digits), seconds (12) and
    100-nanosecond units (7), as ISO text with seven fraction digits."""
    try:
        text = data[:42].decode("ascii")
        days, seconds, ticks = int(text[0:19]), int(text[20:32]), int(text[32:39])
    except (UnicodeDecodeError, ValueError):
        raise JetValueError("a Date/Time Extended that is not the 42 digits of its format") from None
    try:
        moment = dt.datetime(1, 1, 1) + dt.timedelta(days=days, seconds=seconds)
    except OverflowError:
        raise JetValueError(f"a Date/Time Extended of day {days}, outside the calendar") from None
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{ticks:07d}"
