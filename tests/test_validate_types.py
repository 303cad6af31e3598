"""Arkade 5's value rules: .NET date and time patterns, numbers, booleans, check digits.

Expected answers follow .NET's documented exact-parse behaviour and Arkade's DataType classes;
the check-digit examples were verified by hand with the MOD11 weights.
"""

from __future__ import annotations

import pytest

from extractor.validation.datatypes import (
    FormatRejected,
    account_number_ok,
    birth_number_ok,
    blank,
    make_type,
    organisation_number_ok,
)
from extractor.validation.dotnet_formats import date_parser, time_parser


@pytest.mark.parametrize("fmt, value, ok", [
    ("yyyy-MM-dd", "2024-02-29", True),
    ("yyyy-MM-dd", "2023-02-29", False),
    ("yyyy-MM-dd", "2024-2-29", False),         # MM is exactly two digits
    ("yyyy-MM-dd", " 2024-02-29", False),       # no surrounding blanks
    ("yyyy-MM-dd", "2024-02-29 ", False),
    ("yyyy-MM-dd", "24-02-29", False),          # yyyy is exactly four digits
    ("d.M.yyyy", "5.3.2024", True),
    ("dd.MM.yyyy", "05.03.2024", True),
    ("yyyy-MM-ddTHH:mm:ss", "2024-05-02T10:15:00", True),
    ("yyyy-MM-ddTHH:mm:ss", "2024-05-02T24:00:00", False),
    ("yyyy-MM-ddTHH:mm:ss.FFFFFFF", "2024-05-02T10:15:00", True),   # .F... may be absent
    ("yyyy-MM-ddTHH:mm:ss.FFFFFFF", "2024-05-02T10:15:00.12", True),
    ("yyyy-MM-ddTHH:mm:ss.FFFFFFF", "2024-05-02T10:15:00.12345678", False),
    ("yyyy-MM-ddTHH:mm:ss.fff", "2024-05-02T10:15:00.12", False),   # f is exact
    ("yyyy-MM-ddTHH:mm:sszzz", "2024-05-02T10:15:00+01:00", True),
    ("yyyy-MM-ddTHH:mm:sszzz", "2024-05-02T10:15:00+15:00", False),
    ("dd MMM yyyy", "02 May 2024", True),
    ("dddd dd.MM.yyyy", "Thursday 02.05.2024", True),
    ("dddd dd.MM.yyyy", "Friday 02.05.2024", False),  # day name must match the date
    ("yyyy-mm-dd", "2024-05-02", True),         # mm is minutes: .NET reads 2 January, 00:05 - valid, not May
    ("yyyy-mm-dd", "2024-65-02", False),        # ... and minute 65 does not exist
])
def test_dotnet_date_patterns(fmt: str, value: str, ok: bool) -> None:
    assert date_parser(fmt)(value) is ok


@pytest.mark.parametrize("fmt, value, ok", [
    ("HH:mm:ss", "18:00:00", True),
    ("HH:mm:ss", "24:00:00", False),
    ("HH:mm:ss", "8:00:00", False),
    ("HH:mm", "08:30", True),
])
def test_timespan_patterns(fmt: str, value: str, ok: bool) -> None:
    assert time_parser(fmt)(value) is ok


def test_iso_8601_date_formats() -> None:
    t = make_type("d", "date", "YYYY-MM-DD", frozenset())
    assert t.valid("2024-05-02", False) and t.valid("20240502", False)
    assert not t.valid("2024-13-02", False)
    iso = make_type("d", "date", 'YYYY-MM-DD"T"hh":"mm":"ss"Z"', frozenset())
    assert iso.valid("2024-05-02T10:15:00Z", False) and not iso.valid("2024-05-02T25:15:00Z", False)


def test_integer_float_boolean_string() -> None:
    integer = make_type("i", "integer", None, frozenset())
    assert integer.valid("-12", False) and integer.valid(" 1 2 ", False) and not integer.valid("1.5", False)
    assert not integer.valid("", False) and integer.valid("", True)
    exp = make_type("i", "integer", "nnE+exp", frozenset())
    assert exp.valid("12E+3", False) and not exp.valid("12", False)
    comma = make_type("f", "float", "nn,nn", frozenset())
    assert comma.valid("845,10", False) and comma.valid("-0,5", False) and not comma.valid("845.10", False)
    loose = make_type("f", "float", None, frozenset())
    assert loose.valid("845.10", False) and loose.valid("845,10", False) and loose.valid("1 234,5", False)
    boolean = make_type("b", "boolean", "J/N", frozenset({"U"}))
    assert boolean.valid("J", False) and boolean.valid("U", False) and not boolean.valid("j", False)
    text = make_type("s", "string", None, frozenset())
    assert text.valid("x", False) and not text.valid("  ", False) and text.valid("", True) and not text.valid("  ", True)
    assert blank("\u00a0 \t") and not blank(" x ")


@pytest.mark.parametrize("data_type, fmt", [("decimal", None), ("float", "nn;nn"), ("integer", "n'nnn"),
                                            ("boolean", None), ("boolean", "J/J"), ("string", "epost")])
def test_formats_arkade_cannot_load(data_type: str, fmt: str | None) -> None:
    with pytest.raises(FormatRejected):
        make_type("t", data_type, fmt, frozenset())


def test_check_digits() -> None:
    assert birth_number_ok("15076500565") and not birth_number_ok("15076500566") and not birth_number_ok("1507650056")
    assert birth_number_ok("150765 00565")
    assert organisation_number_ok("974760673") and organisation_number_ok("974 760 673")
    assert not organisation_number_ok("974760674")
    assert account_number_ok("86011117947") and account_number_ok("8601.11.17947") and not account_number_ok("86011117948")
    fnr = make_type("s", "string", "fnr", frozenset())
    assert fnr.valid("15076500565", False) and not fnr.valid("15076500566", False)
