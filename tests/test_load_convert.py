"""``uttrekk load``'s reading of values by ADDML dataType and fieldFormat (extractor/loading/convert.py).

Expected values are written out by hand from the .NET rules Arkade applies (docs/validate.md).
"""

from __future__ import annotations

import pytest

from extractor.loading.convert import Unconvertible, column_type, xsd_column_type


def conv(data_type: str, fmt: str | None, value: str, limit: int | None = None) -> object:
    return column_type(data_type, fmt, limit).convert(value)


@pytest.mark.parametrize(("data_type", "fmt", "value", "expected"), [
    ("integer", None, "-12", -12),
    ("integer", None, " 42 ", 42),
    ("integer", "n.nnn", "1.234.567", 1234567),
    ("integer", "n nnn", "-1 234", -1234),
    ("integer", "nnE+exp", "12E+3", 12000),
    ("integer", None, "9223372036854775807", 9223372036854775807),
    ("float", "nn,nn", "845,10", "845.10"),
    ("float", "nn,nn", "-0,05", "-0.05"),
    ("float", "nn.nn", "007.50", "7.50"),
    ("float", "n.nnn,nn", "1.234,50", "1234.50"),
    ("float", "n,nnn.nn", "1,234.50", "1234.50"),
    ("float", None, "3,5", "3.5"),
    ("float", None, "12", "12"),
    ("boolean", "J/N", "J", True),
    ("boolean", "Ja/Nei", "Nei", False),
    ("date", "yyyy-MM-dd", "2024-02-29", "2024-02-29"),
    ("date", "dd.MM.yyyy", "05.01.1950", "1950-01-05"),
    ("date", "d.M.yy", "5.1.49", "2049-01-05"),
    ("date", "d.M.yy", "5.1.50", "1950-01-05"),
    ("date", "yyyyMMdd", "19891231", "1989-12-31"),
    ("date", "dd MMM yyyy", "05 Jan 2019", "2019-01-05"),
    ("date", "yyyy-MM-ddTHH:mm:ss", "2024-05-02T10:15:00", "2024-05-02 10:15:00"),
    ("date", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "2024-05-02T10:15:00", "2024-05-02 10:15:00"),
    ("date", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "2024-05-02T10:15:00.1234567", "2024-05-02 10:15:00.1234567"),
    ("date", "yyyy-MM-ddTHH:mm:sszzz", "2024-05-02T10:15:00+01:00", "2024-05-02 10:15:00+01:00"),
    ("date", "dd.MM.yyyy hh:mm tt", "02.05.2024 12:15 AM", "2024-05-02 00:15:00"),
    ("date", "dd.MM.yyyy hh:mm tt", "02.05.2024 01:15 PM", "2024-05-02 13:15:00"),
    ("date", "YYYY-MM-DD", "2024-05-02", "2024-05-02"),
    ("date", "YYYYDDD", "2024060", "2024-02-29"),
    ("time", "HH:mm:ss", "18:00:00", "18:00:00"),
    ("time", "HH:mm:ss.FFF", "18:00:00.5", "18:00:00.5"),
    ("string", None, " as is ", " as is "),
])
def test_values_read_by_type_and_format(data_type: str, fmt: str | None, value: str, expected: object) -> None:
    assert conv(data_type, fmt, value) == expected


@pytest.mark.parametrize(("data_type", "fmt", "value", "why"), [
    ("integer", None, "1.5", "not a whole number"),
    ("integer", None, "9223372036854775808", "beyond 64 bits"),
    ("integer", "n.nnn", "1.23", "format n.nnn"),
    ("integer", None, "１２", "not a whole number"),  # fullwidth digits are digits to Python, not to .NET
    ("float", "nn,nn", "845.10", "not a decimal"),
    ("float", "nn,nn", "1e5", "not a decimal"),
    ("boolean", "J/N", "j", "neither"),
    ("date", "yyyy-MM-dd", "2023-02-29", "no such date"),
    ("date", "yyyy-MM-dd", "2023-2-28", "not a date"),
    ("date", "yyyyMMdd", "19891340", "no such date"),
    ("date", "yyyy-MM-ddTHH:mm:ss", "2024-05-02T24:00:00", "out of range"),
    ("time", "HH:mm:ss", "25:00:00", "out of range"),
])
def test_values_that_break_their_type_are_refused_with_a_reason(data_type: str, fmt: str | None, value: str,
                                                                why: str) -> None:
    with pytest.raises(Unconvertible, match=why):
        conv(data_type, fmt, value)


def test_fraction_digits_beyond_the_target_are_refused_not_rounded() -> None:
    fmt = "yyyy-MM-ddTHH:mm:ss.FFFFFFF"
    assert conv("date", fmt, "2024-05-02T10:15:00.1234560", 6) == "2024-05-02 10:15:00.123456"
    with pytest.raises(Unconvertible, match="7 fraction digits"):
        conv("date", fmt, "2024-05-02T10:15:00.1234567", 6)


def test_kinds_and_unreadable_formats() -> None:
    assert column_type("date", "yyyy-MM-dd", None).kind == "date"
    assert column_type("date", "yyyy-MM-ddTHH:mm:ss", None).kind == "timestamp"
    assert column_type("date", "yyyy-MM-ddTHH:mm:sszzz", None).kind == "timestamptz"
    odd = column_type("date", "yyyy gg", None)  # an era: not read, so the column is text and says why
    assert odd.kind == "text" and odd.note and "gg" in odd.note
    assert column_type("boolean", "J", None).kind == "text"
    assert column_type("link", None, None).kind == "text"


@pytest.mark.parametrize(("fmt", "why"), [("yyyy-MM-dd'", "unterminated quote"), ("yyyy-MM-dd\\", "trailing backslash"),
                                          ("yyyy-MM-dd%", "bad %"), ("%%yyyy-MM-dd", "bad %")])
def test_patterns_net_refuses_load_as_text(fmt: str, why: str) -> None:
    """The patterns the validator refuses (as .NET does) are not guessed at by the load either: it reads
    them with the validator's tokens, and the column is text with a note saying why."""
    loaded = column_type("date", fmt, None)
    assert loaded.kind == "text" and loaded.note and why in loaded.note
    assert loaded.convert("2024-05-02") == "2024-05-02"


def test_xml_schema_types() -> None:
    assert xsd_column_type("xs:decimal", None).convert("-845.10") == "-845.10"
    assert xsd_column_type("xs:boolean", None).convert("true") is True
    assert xsd_column_type("xs:dateTime", 6).convert("2024-05-02T10:15:00.25") == "2024-05-02 10:15:00.25"
    assert xsd_column_type(None, 6, "timestamptz").convert("2024-05-02T10:15:00Z") == "2024-05-02 10:15:00+00:00"
    with pytest.raises(Unconvertible, match="offset"):
        xsd_column_type("xs:dateTime", 6).convert("2024-05-02T10:15:00+01:00")
    assert xsd_column_type("xs:string", None).kind == "text"
