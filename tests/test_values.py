"""Value rendering is exact: digits kept, dates and times unchanged, nonconforming values refused."""

from __future__ import annotations

import datetime as dt
import math
import struct
import sys
from decimal import Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from extractor.values import (
    ARKADE_DECIMAL_MAX,
    FLAT_STYLE,
    SINGLE,
    XML_STYLE,
    Nonconforming,
    _inside,
    float32,
    float_digits,
    render_any_as_text,
    render_char,
    render_timestamp,
    renderer_for,
    shortest_float32,
)
from tests.floatref import F32_MAX_BITS, f32, reference_float32, reference_shortest, same_digits


@pytest.mark.parametrize("value,scale,expected", [
    (845.1, 2, "845,10"), (0, 2, "0,00"), (12000, 2, "12000,00"), (Decimal("1.2345"), 2, "1,2345"),
    (Decimal("-0.5"), 1, "-0,5"), (Decimal("123456789012345678901234.5"), 1, "123456789012345678901234,5"),
    ("17.50", 2, "17,50"), (1e22, None, "10000000000000000000000"),
])
def test_decimal_keeps_every_digit(value, scale, expected):
    assert renderer_for("decimal", FLAT_STYLE, scale)(value) == expected


@given(st.floats(min_value=-7.9e28, max_value=7.9e28))  # beyond, Arkade reads no number (below)
def test_float_text_reads_back_as_the_same_double(x):
    text = renderer_for("float")(x)
    assert "e" not in text.lower() and not text.endswith(",0")
    assert float(text.replace(",", ".")) == x


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_decimal_text_is_the_same_number(d):
    text = renderer_for("decimal", XML_STYLE, 4)(d)
    assert Decimal(text) == d


@pytest.mark.parametrize("kind,value", [
    ("integer", 1.5), ("integer", "12"), ("date", "2021-02-30"), ("date", "01.02.2021"),
    ("timestamp", "2021-13-01 10:00:00"), ("time", "25:00:00"), ("boolean", 2), ("boolean", "ja"),
    ("decimal", "abc"), ("decimal", float("nan")), ("float", float("inf")), ("string", b"\x00"),
    ("date", dt.datetime(2021, 1, 1, 10, 30)),
])
def test_nonconforming_values_are_refused(kind, value):
    with pytest.raises(Nonconforming):
        renderer_for(kind)(value)


@pytest.mark.parametrize("value,expected", [
    ("2020-01-01 10:00:00", "2020-01-01T10:00:00"),
    ("2020-01-01T10:00:00.120000", "2020-01-01T10:00:00.12"),
    ("2020-01-01 10:00", "2020-01-01T10:00:00"),
    ("2020-01-01 10:00:00Z", "2020-01-01T10:00:00+00:00"),
    ("2020-01-01 10:00:00+0130", "2020-01-01T10:00:00+01:30"),
    (dt.datetime(2020, 1, 1, 10, 0, 0, 5), "2020-01-01T10:00:00.000005"),
    (dt.datetime(99, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "0099-01-01T00:00:00-05:00"),
])
def test_timestamps(value, expected):
    assert render_timestamp(value) == expected


def test_booleans_dates_times_chars():
    assert renderer_for("boolean")(1) == "J" and renderer_for("boolean")(False) == "N"
    assert renderer_for("boolean", XML_STYLE)(True) == "true"
    assert renderer_for("date")(dt.date(2020, 2, 29)) == "2020-02-29"
    assert renderer_for("time")("18:00") == "18:00:00"
    assert renderer_for("time")(dt.timedelta(hours=7, minutes=5)) == "07:05:00"
    assert render_char("M ") == "M" and render_char(" M") == " M"


def test_any_as_text_keeps_values_and_refuses_bytes():
    assert render_any_as_text("ukjent") == "ukjent"
    assert render_any_as_text(7) == "7"
    assert render_any_as_text(0.1) == "0.1"
    with pytest.raises(Nonconforming):
        render_any_as_text(b"\x01")


@pytest.mark.parametrize("value,expected", [
    (dt.timedelta(days=1, hours=2), "P1DT2H"), (dt.timedelta(0), "PT0S"), (dt.timedelta(seconds=-0.5), "-PT0.5S"),
    (dt.timedelta(minutes=90, microseconds=10), "PT1H30M0.00001S"),
    ({"a": [1, "Å"]}, '{"a": [1, "Å"]}'), ([1, None, dt.date(2020, 1, 2)], '[1, null, "2020-01-02"]'),
])
def test_any_as_text_is_total_for_driver_values(value, expected):
    assert render_any_as_text(value) == expected


def test_more_fraction_digits_than_the_archive_format_holds_are_nonconforming():
    ts = renderer_for("timestamp", FLAT_STYLE, None)
    assert ts("2020-01-01T10:00:00.123456700") == "2020-01-01T10:00:00.1234567"
    with pytest.raises(Nonconforming, match="8 fraction digits"):
        ts("2020-01-01T10:00:00.12345678")
    with pytest.raises(Nonconforming, match="9 fraction digits"):
        renderer_for("time", FLAT_STYLE, None)("10:00:00.123456789")


# -- floats: the shortest digits in the source's own precision ---------------------------------------------------

@given(st.floats(min_value=5e-324, allow_infinity=False))
def test_the_reference_agrees_with_python_repr_for_doubles(x):
    """The reference gives what CPython's repr (David Gay's proven algorithm) gives for a double, so it
    can stand as the independent judge of the float32 digits below."""
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    above = Fraction(2) ** 1024 if x == sys.float_info.max else Fraction(math.nextafter(x, math.inf))
    ref = reference_shortest(Fraction(x), Fraction(math.nextafter(x, 0)), above, accept_bounds=bits % 2 == 0)
    assert same_digits(ref, Decimal(repr(x)).normalize(Context(prec=30))), (x, ref)


@example(1)  # the smallest subnormal, 1.4e-45
@example(0x007FFFFF)  # the largest subnormal
@example(0x00800000)  # the smallest normal, 1.1754944e-38
@example(F32_MAX_BITS)  # 3.4028235e38
@example(0x3DCCCCCD)  # 0.1, whose double expansion is 0.100000001490116119384765625
@example(0x3EAAAAAB)  # 1/3
@example(0x4B800000)  # 16777216, a power of two: the narrower lower half-interval
@example(0x50DF8476)  # 30000001024: 3e10 lies on a midpoint, so it needs 3.0000001e10
@example(0x50DF8475)  # 29999998976
@example(0x00000003)  # 4e-45, a subnormal with a long expansion
@example(0x4A0796DF)  # 2221495.75: 2221495.7 and 2221495.8 are as close and both read back; the even one
@settings(max_examples=1000)
@given(st.one_of(st.integers(1, F32_MAX_BITS), st.integers(0x48000000, 0x4B000000)))  # there ties are common
def test_float32_digits_are_the_shortest_closest_that_read_back(bits):
    f = f32(bits)
    got = shortest_float32(f)
    assert same_digits(got, reference_float32(bits)), (hex(bits), f, got)
    assert same_digits(float_digits(-f, SINGLE), -got)


def test_a_decimal_whose_double_is_a_midpoint_is_judged_by_its_digits():
    """A decimal a hair inside a midpoint is read as the midpoint's double (no float32 is known whose
    shortest digits do that, but nothing rules it out); only its own digits tell which side it is on."""
    assert _inside("1.00000000000000000001", 1.0, 2.0) and not _inside("1", 1.0, 2.0)
    assert _inside("1.99999999999999999999", 1.0, 2.0) and not _inside("2", 1.0, 2.0)
    assert not _inside("0.99999999999999999999", 1.0, 2.0) and not _inside("2.00000000000000000001", 1.0, 2.0)
    assert _inside("1.5", 1.0, 2.0) and not _inside("2.5", 1.0, 2.0)


def test_float32_powers_of_two_every_one():
    """Powers of two take the exact path (their lower half-interval is half as wide): all 254 of them."""
    for bits in range(0x00800000, F32_MAX_BITS, 0x00800000):
        assert same_digits(shortest_float32(f32(bits)), reference_float32(bits)), hex(bits)


@pytest.mark.parametrize("value,expected", [
    (0.1, "0,1"), (f32(0x3DCCCCCD), "0,1"), (float32(1 / 3), "0,33333334"),
    (16777216.0, "16777216"), (123456792.0, "123456790"), (1.0000001192092896, "1,0000001"),
    (-0.0, "-0"), (0.0, "0"), (652090.0, "652090"), (0.125, "0,125"),
    (f32(1), "0," + "0" * 44 + "1"), (f32(0x00800000), "0," + "0" * 37 + "11754944"),
    (0.333333343, "0,33333334"),  # the nine digits PostgreSQL before 12 sends for a real
])
def test_single_precision_values(value, expected):
    assert renderer_for("float", FLAT_STYLE, None, SINGLE)(value) == expected


@pytest.mark.parametrize("value,expected", [
    (0.1, "0,1"), (1 / 3, "0,3333333333333333"), (16777217.0, "16777217"), (652090.0, "652090"), (-0.0, "-0"),
    (float32(0.1), "0,10000000149011612"), (5e-324, "0," + "0" * 323 + "5"), (1e22, "10000000000000000000000"),
])
def test_double_precision_values(value, expected):
    assert renderer_for("float", FLAT_STYLE, None, 53)(value) == expected
    assert renderer_for("float", FLAT_STYLE)(value) == expected  # no precision known: a double


@pytest.mark.parametrize("value", [16777217.0, 1 / 3, 0.1000000001, 1e-50, 1e39, float("nan"), float("-inf")])
def test_a_value_no_float32_holds_is_nonconforming_in_a_single_precision_column(value):
    with pytest.raises(Nonconforming):
        renderer_for("float", FLAT_STYLE, None, SINGLE)(value)


def test_floats_beyond_what_arkade_reads_are_nonconforming_and_kept_as_text():
    big = float32(3.4028234663852886e38)
    with pytest.raises(Nonconforming, match="Arkade"):
        renderer_for("float", FLAT_STYLE, None, SINGLE)(big)
    with pytest.raises(Nonconforming, match="Arkade"):
        renderer_for("float", FLAT_STYLE, None, 53)(float(ARKADE_DECIMAL_MAX + 2**44))
    assert renderer_for("float", FLAT_STYLE, None, 53)(float(2**96 - 2**43)) == "79228162514264330000000000000"
    text = renderer_for("unknown", FLAT_STYLE, None, SINGLE)
    assert text(big) == "340282350000000000000000000000000000000"
    assert text(float32(0.1)) == "0.1" and text(16777217.0) == "16777217"  # not a float32: its own digits
    assert text(float("nan")) == "NaN" and text(float("-inf")) == "-Infinity" and text("x") == "x"


@pytest.mark.parametrize("value,expected", [
    ("652090.00", "652090,00"), ("1.00", "1,00"), ("-0.01", "-0,01"), (652090.0, "652090,00"), (0.12, "0,12"),
])
def test_a_declared_scale_is_kept(value, expected):
    """MySQL FLOAT(10,2) is read as the server's text; a float value gets zeros up to the scale, never rounding."""
    assert renderer_for("float", FLAT_STYLE, 2, SINGLE)(value) == expected
