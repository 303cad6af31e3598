"""Value rendering is exact: digits kept, dates and times unchanged, nonconforming values refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractor.values import (
    FLAT_STYLE,
    XML_STYLE,
    Nonconforming,
    render_any_as_text,
    render_char,
    render_timestamp,
    renderer_for,
)


@pytest.mark.parametrize("value,scale,expected", [
    (845.1, 2, "845,10"), (0, 2, "0,00"), (12000, 2, "12000,00"), (Decimal("1.2345"), 2, "1,2345"),
    (Decimal("-0.5"), 1, "-0,5"), (Decimal("123456789012345678901234.5"), 1, "123456789012345678901234,5"),
    ("17.50", 2, "17,50"), (1e22, None, "10000000000000000000000"),
])
def test_decimal_keeps_every_digit(value, scale, expected):
    assert renderer_for("decimal", FLAT_STYLE, scale)(value) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_reads_back_as_the_same_double(x):
    text = renderer_for("float")(x)
    assert "e" not in text.lower()
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
