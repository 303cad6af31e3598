"""An independent judge of float digits: every decimal inside a float's rounding interval, in exact
fractions. It shares no code with ``extractor.values``; ``test_values`` checks it against CPython's
``repr`` for doubles before it judges uttrekk's float32 digits, and the server tests use it to say
what a float4 column's values must be written as."""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from fractions import Fraction

F32_MAX_BITS = 0x7F7FFFFF


def f32(bits: int) -> float:
    """The float32 with these bits, as a double."""
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def nearest_float32(x: float) -> float:
    """The float32 nearest a double (a 16-digit text of a float32 read as a double gives it back)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _floor_log10(x: Fraction) -> int:
    e = len(str(x.numerator)) - len(str(x.denominator))
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    return e


def reference_shortest(value: Fraction, below: Fraction, above: Fraction, accept_bounds: bool) -> Decimal:
    """Every decimal of 1, 2, … significant digits inside the rounding interval of ``value`` (between the
    midpoints to its neighbours; on them too with ``accept_bounds``), in exact fractions; the closest to
    ``value`` of the first length that has one, of two as close the even one. Independent of uttrekk's
    code and of Python's float text."""
    low, high = (value + below) / 2, (value + above) / 2

    def inside(d: Fraction) -> bool:
        return low < d < high or (accept_bounds and d in (low, high))

    for p in range(1, 18):
        found = []
        for k in range(_floor_log10(low) - p + 1, _floor_log10(high) - p + 2):
            unit = Fraction(10) ** k
            first, last = max(math.ceil(low / unit), 10 ** (p - 1)), min(math.floor(high / unit), 10 ** p - 1)
            found += [(abs(m * unit - value), m % 2, m, k) for m in range(first, last + 1) if inside(m * unit)]
        if found:
            *_, m, k = min(found)  # the closest; of two as close, the one ending in an even digit
            return Decimal(m).scaleb(k)
    raise AssertionError(value)


def reference_float32(bits: int) -> Decimal:
    """PostgreSQL's rule for a float4 (Ryu without its bounds): strictly inside the interval."""
    above = Fraction(2) ** 128 if bits == F32_MAX_BITS else Fraction(f32(bits + 1))
    return reference_shortest(Fraction(f32(bits)), Fraction(f32(bits - 1)), above, accept_bounds=False)


def same_digits(a: Decimal, b: Decimal) -> bool:
    return a == b and len(a.as_tuple().digits) == len(b.as_tuple().digits)


def float32_text(x: float) -> str:
    """The plain decimal a float32 value (given as a double) must be written as, with '.'."""
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    bits = struct.unpack("<I", struct.pack("<f", abs(x)))[0]
    assert f32(bits) == abs(x), f"{x!r} is no float32"
    return ("-" if x < 0 else "") + format(reference_float32(bits), "f")
