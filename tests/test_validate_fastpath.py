"""The validator's fast paths give exactly the answers of the exact rules they stand in for.

Validation checks a batch of a field's values at a time: one regular expression over the whole
batch for dates, numbers and booleans (the exact, value-by-value .NET rule only for what it does
not match), whole-batch tests in C for blank, length and code checks, compact integer runs in the
key sets, and a record cutter with a shortcut for records without quotes. Hypothesis generates
values around every edge (leap days, 24:00, second 60, signs, exponents, blanks, Latin-1 letters,
empty text, separators inside values) and each fast answer is compared with the exact one: the
exact rule value by value, a plain dict or set for the key sets, and for the cutter the rows the
file was written from.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import io
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from extractor.validation.addml_model import FieldDef, FileType, FlatFileDef, RecordDef
from extractor.validation.analyses import CountChars, CountNull, FindExtremeValues
from extractor.validation.controls import Codes, MaxLength, MinLength, NotNull
from extractor.validation.datatypes import DataType, blank, make_type, net_len
from extractor.validation.dotnet_formats import date_fast_pattern
from extractor.validation.findings import Findings
from extractor.validation.flatfile_read import FlatFileReader, Record
from extractor.validation.keystore import KeyStore
from extractor.validation.own_checks import NullAndEmpty
from extractor.validation.processes import RunState

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EACH = settings(SETTINGS, max_examples=50)
"""For tests run once per format: many formats, each with 50 lists of up to 40 values."""

# --- values around the edges ------------------------------------------------------------------------

YEARS = ["0000", "0001", "0400", "0999", "1000", "1600", "1900", "2000", "2023", "2024", "2100", "2400", "9999", "99",
         "12345", "+2024", "２０２４"]
MONTHS = ["00", "01", "02", "04", "09", "1", "2", "10", "11", "12", "13", "002"]
DAYS = ["00", "01", "1", "9", "28", "29", "30", "31", "32"]
HOURS = ["00", "0", "7", "09", "12", "19", "20", "23", "24", "25"]
SIXTY = ["00", "0", "5", "09", "59", "60", "99"]
FRACTIONS = ["", ".", ".0", ".5", ".123", ".1234567", ".12345678", ",5"]
OFFSETS = ["", "Z", "+01:00", "-01:00", "+0100", "+1", "+01", "+13:59", "+14:00", "-14:00", "+14:01", "+15:00",
           "+01:60", "±01:00"]
NOISE = ["", " ", "\t", "\n", "\xa0", "\u3000", "\x00", "-", "+", "e", "E+5", "æ", "Ø", "å", "é", "\U0001f600"]

TEMPLATES = {
    "yyyy-MM-dd": "{y}-{M}-{d}",
    "yyyy-MM-ddTHH:mm:ss": "{y}-{M}-{d}T{H}:{m}:{s}",
    "yyyy-MM-ddTHH:mm:ss.FFFFFFF": "{y}-{M}-{d}T{H}:{m}:{s}{F}",
    "yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz": "{y}-{M}-{d}T{H}:{m}:{s}{F}{z}",
    "yyyy-MM-ddTHH:mm:sszz": "{y}-{M}-{d}T{H}:{m}:{s}{z}",
    "yyyy-MM-ddTHH:mm:ss.fff": "{y}-{M}-{d}T{H}:{m}:{s}{F}",
    "dd.MM.yyyy": "{d}.{M}.{y}",
    "d.M.yyyy": "{d}.{M}.{y}",
    "HH:mm dd.MM.yyyy": "{H}:{m} {d}.{M}.{y}",
    "yyyyMMdd": "{y}{M}{d}",
    "yyyy-mm-dd": "{y}-{m}-{d}",  # mm is minutes in .NET
    "MM/dd/yyyy HH:mm": "{M}/{d}/{y} {H}:{m}",
    "YYYY-MM-DD": "{y}-{M}-{d}",  # ISO 8601 spellings (Arkade's own reading, or the .NET one)
    "YYYYMMDD": "{y}{M}{d}",
}
TIME_TEMPLATES = {
    "HH:mm:ss": "{H}:{m}:{s}",
    "HH:mm": "{H}:{m}",
    "HH:mm:ss.FFFFFFF": "{H}:{m}:{s}{F}",
    "d.hh:mm": "{d}.{H}:{m}",
    "hh\\:mm\\:ss\\.fff": "{H}:{m}:{s}{F}",
}


@st.composite
def shaped(draw: st.DrawFn, template: str) -> str:
    """A value in the template's shape from edge-case parts, sometimes with noise added."""
    value = template.format(y=draw(st.sampled_from(YEARS)), M=draw(st.sampled_from(MONTHS)),
                            d=draw(st.sampled_from(DAYS)), H=draw(st.sampled_from(HOURS)),
                            m=draw(st.sampled_from(SIXTY)), s=draw(st.sampled_from(SIXTY)),
                            F=draw(st.sampled_from(FRACTIONS)), z=draw(st.sampled_from(OFFSETS)))
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(value)))
        value = value[:at] + draw(st.sampled_from(NOISE)) + value[at:]
    return value


def real_dates(fmt: str) -> st.SearchStrategy[str]:
    """Valid calendar dates and times in the template's shape (the common case the fast path is for)."""
    template = TEMPLATES.get(fmt) or TIME_TEMPLATES[fmt]

    def render(t: dt.datetime) -> str:
        return template.format(y=f"{t.year:04d}", M=f"{t.month:02d}", d=f"{t.day:02d}", H=f"{t.hour:02d}",
                               m=f"{t.minute:02d}", s=f"{t.second:02d}", F=f".{t.microsecond:06d}", z="+01:00")
    return st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9999, 12, 31)).map(render)


@st.composite
def number(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "", "-", "+", "--", " -"]))
    whole = draw(st.sampled_from(["", "0", "00", "7", "12", "1000", "1 000", "1.000", "1,000", "9" * 28, "9" * 29,
                                  "79228162514264337593543950335", "79228162514264337593543950336"]))
    frac = draw(st.sampled_from(["", ".", ",", ".5", ",5", ".25", ",0000001", ".1.2"]))
    exp = draw(st.sampled_from(["", "", "E+5", "e5", "E-3", "E"]))
    pad = draw(st.sampled_from(["", " ", "\t", "\n", "\xa0"]))
    value = pad + sign + whole + frac + exp + draw(st.sampled_from(["", pad]))
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(value)))
        value = value[:at] + draw(st.sampled_from(NOISE)) + value[at:]
    return value


ANY_TEXT = st.text(alphabet="0123456789-+.,:/ TtZzEeJNjn\t\n\x00\xa0\x85æøåÆØÅé\u3000\U0001f600", max_size=24)


def exact_failures(dtype: DataType, values: list[str]) -> list[int]:
    rule = dtype.rule
    return [k for k, v in enumerate(values) if not rule(v)]


def check_type(dtype: DataType, values: list[str]) -> None:
    """``failures`` (fast path) agrees with the rule value by value, and the fast pattern never accepts a bad value."""
    assert dtype.failures(values) == exact_failures(dtype, values)
    if dtype.fast is not None:
        fast = re.compile(dtype.fast)
        for v in values:
            if fast.fullmatch(v):
                assert dtype.rule(v), (dtype.fmt, v)


# --- data types --------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(TEMPLATES))
@EACH
@given(data=st.data())
def test_date_fast_path_agrees_with_the_exact_rule(fmt: str, data: st.DataObject) -> None:
    dtype = make_type("d", "date", fmt, frozenset())
    values = data.draw(st.lists(st.one_of(shaped(TEMPLATES[fmt]), real_dates(fmt), ANY_TEXT), max_size=40))
    check_type(dtype, values)


@pytest.mark.parametrize("fmt", sorted(TEMPLATES))
def test_every_edge_date_agrees_with_the_exact_rule(fmt: str) -> None:
    """Every combination of the edge years, months and days (leap days of 1900, 2000, 2100 ...), and of hours,
    minutes, seconds, fractions and offsets, in batches of valid dates so the batch path is tried too."""
    dtype = make_type("d", "date", fmt, frozenset())
    template = TEMPLATES[fmt]
    values = [template.format(y=y, M=m, d=d, H="12", m="30", s="45", F=".5", z="+01:00")
              for y in YEARS for m in MONTHS for d in DAYS]
    values += [template.format(y="2024", M="02", d="29", H=h, m=m, s=s, F=".5", z="Z")
               for h in HOURS for m in SIXTY for s in SIXTY]
    values += [template.format(y="2000", M="12", d="31", H="23", m="59", s="59", F=f, z=z)
               for f in FRACTIONS for z in OFFSETS]
    good = template.format(y="2001", M="03", d="04", H="05", m="06", s="07", F=".8", z="+01:00")
    for k in range(0, len(values), 50):
        check_type(dtype, [good] * 20 + values[k:k + 50] + [good] * 20)


@pytest.mark.parametrize("fmt", sorted(TIME_TEMPLATES))
@EACH
@given(data=st.data())
def test_time_fast_path_agrees_with_the_exact_rule(fmt: str, data: st.DataObject) -> None:
    dtype = make_type("t", "time", fmt, frozenset())
    values = data.draw(st.lists(st.one_of(shaped(TIME_TEMPLATES[fmt]), real_dates(fmt), ANY_TEXT), max_size=40))
    check_type(dtype, values)


@pytest.mark.parametrize("kind, fmt", [("float", None), ("float", "nn,nn"), ("float", "nn.nn"), ("float", "n.nnn,nn"),
                                       ("float", "n nnn,nn"), ("float", "n,nnn.nn"), ("float", "n nnn.nn"),
                                       ("integer", None), ("integer", "n.nnn"), ("integer", "nnE+exp")])
@EACH
@given(values=st.lists(st.one_of(number(), ANY_TEXT), max_size=40))
def test_number_fast_path_agrees_with_the_exact_rule(kind: str, fmt: str | None, values: list[str]) -> None:
    check_type(make_type("n", kind, fmt, frozenset()), values)


@pytest.mark.parametrize("fmt", ["J/N", "true/false", "Ja/Nei", "1/0", " J/N"])
@EACH
@given(values=st.lists(st.one_of(st.sampled_from(["J", "N", "j", "n", "J ", " J", "", "true", "True", "false", "1", "0",
                                                  "Ja", "Nei", "JN", "J|N"]), ANY_TEXT), max_size=40))
def test_boolean_fast_path_agrees_with_the_exact_rule(fmt: str, values: list[str]) -> None:
    check_type(make_type("b", "boolean", fmt, frozenset()), values)


@SETTINGS
@given(values=st.lists(st.one_of(st.sampled_from(["", " ", "\t", "\xa0", "\u3000", " a", "a ", "æ", "\x00"]), ANY_TEXT),
                       max_size=40))
def test_string_fast_path_agrees_with_the_exact_rule(values: list[str]) -> None:
    check_type(make_type("s", "string", None, frozenset()), values)


def test_common_values_take_the_fast_path() -> None:
    """Every calendar day 1890-2110 (29 February included), leap days of other centuries and common numbers
    match the batch pattern."""
    day, days = dt.date(1890, 1, 1), ["1000-01-01", "1004-02-29", "1600-02-29", "2400-02-29", "9996-02-29"]
    while day.year <= 2110:
        days.append(day.isoformat())
        day += dt.timedelta(days=1)
    for fmt, values in [("yyyy-MM-dd", days), ("yyyy-MM-ddTHH:mm:ss.FFFFFFF", [d + "T23:59:59.1234567" for d in days]),
                        ("dd.MM.yyyy", [f"{d[8:]}.{d[5:7]}.{d[:4]}" for d in days])]:
        dtype = make_type("d", "date", fmt, frozenset())
        assert dtype._all is not None and dtype._all.fullmatch("\x00".join(values)), fmt
        assert dtype.failures(values) == []
    for kind, fmt, values in [("integer", None, ["0", "-12", "+7", "123456789012345678901234567890"]),
                              ("float", "nn,nn", ["0", "-0,5", "79,19", "9" * 28 + ",99"]),
                              ("boolean", "J/N", ["J", "N"])]:
        dtype = make_type("x", kind, fmt, frozenset())
        assert dtype._all is not None and dtype._all.fullmatch("\x00".join(values)), (kind, fmt)


def test_a_separator_inside_a_value_is_not_a_batch_boundary() -> None:
    dtype = make_type("d", "date", "yyyy-MM-dd", frozenset())
    values = ["2024-01-01", "2024-01-02\x002024-01-03"]
    assert dtype.failures(values) == [1]
    dtype = make_type("b", "boolean", "J/N", frozenset())
    assert dtype.failures(["J", "J\x00N"]) == [1]


@pytest.mark.parametrize("fmt", ["dddd dd.MM.yyyy", "hh:mm tt", "yy-MM-dd", "yyyy-MM-ddK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFF",
                                 "yyyy-MM-dd-yyyy", "MMM yyyy", "'unterminated"])
def test_formats_without_a_fast_pattern_go_to_the_exact_parser(fmt: str) -> None:
    """Names, AM/PM, 12-hour clocks, two-digit years, K, a letter twice, bad patterns: every value checked exactly."""
    assert date_fast_pattern(fmt) is None
    assert make_type("d", "date", fmt, frozenset()).fast is None


# --- whole-batch checks on lengths, blanks and codes -----------------------------------------------------

TEXTS = st.lists(st.one_of(st.sampled_from(["", " ", "\t", "\xa0x", "\u3000", "a", "æøå", "\U0001f600", "x\U0001f600",
                                            "abcdefgh", "ÆØÅ" * 3]), ANY_TEXT), min_size=1, max_size=30)


def _state() -> RunState:
    return RunState(Findings(), KeyStore())


@SETTINGS
@given(values=TEXTS, limit=st.integers(0, 12))
@example(values=["x\U0001f600", "a"], limit=2)  # two characters, three UTF-16 code units
@example(values=["\U0001f600\U0001f600"], limit=3)
def test_length_candidates_hold_every_failing_value(values: list[str], limit: int) -> None:
    fd = FieldDef("f", 0, "t", None, min_length=limit, max_length=limit)
    state = _state()
    too_long = set(MaxLength(state).candidates(fd, values) or [])
    too_short = set(MinLength(state).candidates(fd, values) or [])
    assert {k for k, v in enumerate(values) if net_len(v) > limit} <= too_long
    assert {k for k, v in enumerate(values) if net_len(v) < limit} <= too_short


@SETTINGS
@given(values=TEXTS)
def test_blank_and_code_candidates_hold_every_failing_value(values: list[str]) -> None:
    codes = frozenset(["a", "æøå", ""])
    fd = FieldDef("f", 0, "t", None, not_null=True, codes=codes)
    state = _state()
    assert {k for k, v in enumerate(values) if blank(v)} <= set(NotNull(state).candidates(fd, values) or [])
    assert [k for k, v in enumerate(values) if v not in codes] == Codes(state).candidates(fd, values)
    u04 = NullAndEmpty(state)
    u04.fixed = False  # U.04 on a delimited file: every empty value; on a fixed-width one: every all-blank value
    assert {k for k, v in enumerate(values) if v == ""} <= set(u04.candidates(fd, values) or [])
    u04.fixed = True
    assert {k for k, v in enumerate(values) if not v.strip(" ")} <= set(u04.candidates(fd, values) or [])


@SETTINGS
@given(batches=st.lists(TEXTS, min_size=1, max_size=4))
def test_analyses_by_batch_count_as_value_by_value(batches: list[list[str]]) -> None:
    """A.02 characters, A.07 empty or blank values and A.08 shortest/longest value, by batch and one at a time."""
    fd = FieldDef("f", 0, "t", None)
    by_batch, one_by_one = _state(), _state()
    procs = [(CountChars(by_batch), CountChars(one_by_one)), (CountNull(by_batch), CountNull(one_by_one)),
             (FindExtremeValues(by_batch), FindExtremeValues(one_by_one))]
    for a, b in procs:
        a.n = b.n = 0  # type: ignore[attr-defined]  # CountChars counts from on_file
    for values in batches:
        recs = [Record(k + 1, RecordDef("r", "f", None, None, [fd], []), [v], None, len(v), False)
                for k, v in enumerate(values)]
        for a, b in procs:
            a.on_column(fd, values, recs)
            for v, rec in zip(values, recs, strict=True):
                b.on_field(fd, v, rec)
    assert procs[0][0].n == procs[0][1].n == sum(net_len(v) for vs in batches for v in vs)
    assert procs[1][0].per == procs[1][1].per
    assert procs[2][0].per == procs[2][1].per


# --- key sets: compact integer runs against a dict -----------------------------------------------------

KEYS = st.one_of(
    st.integers(0, 40).map(str),
    st.integers(0, 10 ** 19).map(str),
    st.sampled_from(["007", "00", "-5", "-0", "+5", " 5", "5 ", "١٢", "abc", "", "1_0", "999999999999999999",
                     "1000000000000000000"]),
)
RISING = st.lists(st.integers(0, 3000), max_size=60).map(lambda xs: [str(x) for x in sorted(xs)])
BATCHES = st.lists(st.one_of(st.lists(KEYS, max_size=30), RISING), max_size=8)


@SETTINGS
@given(batches=BATCHES, budget=st.sampled_from([1, 5, 40, 10 ** 9]), single=st.booleans())
def test_unique_tracker_reports_the_repeats_a_dict_finds(batches: list[list[str]], budget: int, single: bool) -> None:
    first: dict[str, int] = {}
    expected: list[tuple[str, int, int]] = []
    got: list[tuple[str, int, int]] = []
    record = 0
    with KeyStore(budget) as store:
        tracker = store.unique()
        for batch in batches:
            records = list(range(record + 1, record + 1 + len(batch)))
            record += len(batch)
            for v, r in zip(batch, records, strict=True):
                if v in first:
                    expected.append((v, first[v], r))
                else:
                    first[v] = r
            if single:
                found = [(k, f) for k, (v, r) in enumerate(zip(batch, records, strict=True))
                         if (f := tracker.add(v, r)) is not None]
            else:
                found = tracker.add_many(batch, records)
            got += [(batch[k], f, records[k]) for k, f in found]
        later_total = len(got)
        for value, f, later, count in tracker.spilled_repeats():
            got += [(value, f, r) for r in later]
            later_total += count
        tracker.close()
    assert later_total == len(expected)
    if budget == 10 ** 9:
        assert got == expected  # never spilled: every repeat reported as it comes
    else:
        assert set(got) <= set(expected)


@SETTINGS
@given(batches=BATCHES, other=st.lists(KEYS, max_size=40), budget=st.sampled_from([1, 5, 10 ** 9]),
       single=st.booleans())
def test_value_set_holds_what_a_dict_holds(batches: list[list[str]], other: list[str], budget: int, single: bool) -> None:
    first: dict[str, int] = {}
    record = 0
    with KeyStore(budget) as store:
        values, theirs = store.values(), store.values()
        for batch in batches:
            records = list(range(record + 1, record + 1 + len(batch)))
            record += len(batch)
            for v, r in zip(batch, records, strict=True):
                first.setdefault(v, r)
            if single:
                for v, r in zip(batch, records, strict=True):
                    values.add(v, r)
            else:
                values.add_many(batch, records)
        theirs.add_many(sorted(other, key=lambda v: (len(v), v)), list(range(1, len(other) + 1)))
        assert len(values) == len(first)
        for probe in [*first, *other, "424242", "x"]:
            assert (probe in values) == (probe in first)
        expected = sorted(((v, r) for v, r in first.items() if v not in set(other)), key=lambda x: x[1])
        assert list(values.missing_from(theirs)) == expected
        values.close()
        theirs.close()


@SETTINGS
@given(batches=st.lists(st.lists(st.sampled_from(["a", "b", "", "1", "2", "æ"]), max_size=30), max_size=6),
       budget=st.sampled_from([1, 3, 10 ** 9]))
def test_counter_by_batch_counts_as_one_by_one(batches: list[list[str]], budget: int) -> None:
    tally = collections.Counter(v for batch in batches for v in batch)
    with KeyStore(budget) as store:
        counter = store.counter()
        for batch in batches:
            counter.add_many(batch)
        distinct, top = counter.top(3)
        counter.close()
    assert distinct == len(tally)
    assert top == sorted(tally.items(), key=lambda x: (-x[1], x[0]))[:3]


# --- cutting records ----------------------------------------------------------------------------------

FIELD = st.one_of(st.none(), st.text(alphabet='ab;"\r\n æ\x96', max_size=6))


def _write(value: str | None, force_quotes: bool) -> str:
    if value is None:
        return ""
    if force_quotes or value == "" or any(c in value for c in ';"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@SETTINGS
@given(rows=st.lists(st.tuples(st.lists(FIELD, min_size=3, max_size=3), st.booleans()), max_size=25),
       chunk=st.sampled_from([1, 3, 7, 64, 1 << 20]), extra=st.booleans())
def test_records_are_cut_as_they_were_written(rows: list[tuple[list[str | None], bool]], chunk: int,
                                              extra: bool) -> None:
    """Quoted and unquoted records, separators inside quotes, NULL and empty text, C1 bytes, any chunk size."""
    lines = [";".join(_write(v, force) for v in values) for values, force in rows]
    if extra:
        lines.append("x;y;z;w")  # one field too many: a broken record
    data = "".join(line + "\r\n" for line in lines).encode("latin-1")
    ftype = FileType("t", "ISO-8859-1", "latin-1", False, "\r\n", ";", '"')
    rdef = RecordDef("r", "f", None, None, [FieldDef(f"f{i}", i, "t", None) for i in range(3)], [])
    fdef = FlatFileDef("f", "t", ftype, None, [rdef])
    reader = FlatFileReader(io.BytesIO(data), fdef, ftype, "sha256", chunk_bytes=chunk)
    items = list(reader)
    assert len(items) == len(lines)
    for number, ((values, force), item) in enumerate(zip(rows, items, strict=False), start=1):
        assert isinstance(item, Record) and item.number == number
        assert item.values == [v or "" for v in values]
        quoted = item.quoted or [False] * 3
        assert quoted == [v is not None and (force or v == "" or any(c in v for c in ';"\r\n')) for v in values]
        if any(v and "\x96" in v for v in values):
            assert item.suspect
    if extra:
        assert not isinstance(items[-1], Record) and items[-1].number == len(lines)
    assert reader.digest == hashlib.sha256(data).hexdigest()
    assert reader.bytes == len(data)
