"""Property-based round trip: hypothesis builds small SQLite databases with awkward values,
uttrekk extracts them, and tests/readback.py reads the output back and compares every value
with the source according to the output spec.

Plus a few deterministic edge cases the generator deliberately does not produce (values that do
not fit their declared type, time-zone offsets, refusal without a charset policy).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parent))
import readback as rb  # noqa: E402

DATE = "2024-05-17"

LATIN1_CHARS = "abcXYZ019 ;\"\r\n\t,.-'æøåÆØÅé"
FOREIGN_CHARS = "ČŋŧžЖ€–“”😀"
MAPPED = {"–": "-", "“": '"', "”": '"', "€": "E"}  # one character for one, so lengths stay put
UNMAPPED_FOREIGN = "Čŋž"
AWKWARD = ["", " ", "  x ", "x  ", '""', '"', ";", "\r\n", "\n", "\r", "a;b", 'a"b', "line1\r\nline2", "æøå"]

COLUMN_NAMES = ["navn", "belop", "dato", "tekst", "kategori", "antall", "notat", "vekt", "pris", "merknad",
                "flagg", "innhold", "adresse", "verdi", "tidspunkt", "epost", "beskrivelse", "nummer"]
TABLE_NAMES = ["alfa", "Beta", "GAMMA"]
TYPES = ["INTEGER", "DECIMAL(10,2)", "REAL", "DATE", "TIMESTAMP", "TIME", "BOOLEAN", "VARCHAR", "TEXT",
         "CHAR", "BLOB"]


@dataclass
class TableSpec:
    name: str
    pk: str  # none | id | composite | text
    columns: list[tuple[str, str]]  # (name, declared type)
    rows: list[tuple] = field(default_factory=list)

    def all_columns(self) -> list[tuple[str, str]]:
        if self.pk == "id":
            return [("id", "INTEGER")] + self.columns
        if self.pk == "composite":
            return [("aar", "INTEGER"), ("nr", "INTEGER")] + self.columns
        if self.pk == "text":
            return [("kode", "VARCHAR(8)")] + self.columns
        return self.columns

    def ddl(self) -> str:
        cols = [f'"{n}" {t}' for n, t in self.all_columns()]
        if self.pk == "id":
            cols[0] += " PRIMARY KEY"
        elif self.pk == "composite":
            cols.append('PRIMARY KEY ("aar", "nr")')
        elif self.pk == "text":
            cols[0] += " PRIMARY KEY"
        return f'CREATE TABLE "{self.name}" ({", ".join(cols)})'


@dataclass
class DbSpec:
    tables: list[TableSpec]
    charset_mode: str  # latin1 | utf8 | map
    long_limit: int

    def build(self, path: Path) -> None:
        con = sqlite3.connect(path)
        try:
            for t in self.tables:
                con.execute(t.ddl())
                if t.rows:
                    marks = ", ".join("?" * len(t.rows[0]))
                    con.executemany(f'INSERT INTO "{t.name}" VALUES ({marks})', t.rows)
            con.commit()
        finally:
            con.close()


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------


def text_values(alphabet: str, max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(alphabet=alphabet, max_size=max_size),
        st.sampled_from([a for a in AWKWARD if len(a) <= max_size and all(ch in alphabet for ch in a)] or [""]),
    )


def declared_types() -> st.SearchStrategy[str]:
    def concrete(t: str) -> st.SearchStrategy[str]:
        if t == "VARCHAR":
            return st.integers(1, 30).map(lambda n: f"VARCHAR({n})")
        if t == "CHAR":
            return st.integers(1, 8).map(lambda n: f"CHAR({n})")
        return st.just(t)

    return st.sampled_from(TYPES).flatmap(concrete)


def dates() -> st.SearchStrategy[str]:
    import datetime as dt
    return st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(lambda d: d.isoformat())


def timestamps() -> st.SearchStrategy[str]:
    import datetime as dt

    def fmt(t: Any) -> str:
        d, frac, sep = t
        s = f"{d.year:04d}-{d.month:02d}-{d.day:02d}{sep}{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        return s + (f".{frac}" if frac is not None else "")

    return st.tuples(
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
        st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=6),
                  st.sampled_from(["000000", "120000", "5", "000"])),
        st.sampled_from([" ", " ", "T"]),
    ).map(fmt)


def times() -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)).map(
        lambda t: f"{t[0]:02d}:{t[1]:02d}:{t[2]:02d}")


def decimals() -> st.SearchStrategy[str]:
    # DECIMAL(10,2): up to 8 digits before the point and 0-2 after, given as text as an
    # application would; SQLite's NUMERIC affinity stores it as INTEGER or REAL.
    def fmt(t: tuple[int, int]) -> str:
        places, unscaled = t
        return format(Decimal(unscaled).scaleb(-places), "f")

    return st.integers(0, 2).flatmap(
        lambda p: st.tuples(st.just(p), st.integers(-(10 ** (8 + p) - 1), 10 ** (8 + p) - 1))).map(fmt)


def floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([0.1, 1e-10, 1e22, 123456.789, -2.5e-7, 3.0, 1 / 3, 5e-324, 1.7976931348623157e308]),
    ).map(lambda x: 0.0 if x == 0 else x)


def values_for(declared: str, alphabet: str, long_limit: int) -> st.SearchStrategy[Any]:
    ct = rb.col_type(declared)
    k = ct.kind
    if k == "integer":
        v: st.SearchStrategy[Any] = st.one_of(st.integers(-1000, 1000), st.integers(-(2 ** 63), 2 ** 63 - 1))
    elif k == "decimal":
        v = decimals()
    elif k == "float":
        v = floats()
    elif k == "date":
        v = dates()
    elif k == "timestamp":
        v = timestamps()
    elif k == "time":
        v = times()
    elif k == "boolean":
        v = st.sampled_from([0, 1])
    elif k == "blob":
        v = st.one_of(st.binary(max_size=40), st.just(b""), st.just(b"\x00\xff\r\n;\""))
    elif k == "char":
        v = text_values(alphabet, ct.length or 1)
    elif ct.length is not None:  # VARCHAR(n)
        v = text_values(alphabet, ct.length)
    else:  # TEXT: sometimes longer than the long-text limit
        v = st.one_of(text_values(alphabet, 30),
                      st.integers(long_limit - 1, long_limit + 3).flatmap(
                          lambda n: st.text(alphabet=alphabet, min_size=n, max_size=n)) if long_limit < 100
                      else st.text(alphabet=alphabet, min_size=long_limit - 1, max_size=long_limit + 2))
    return st.one_of(st.none(), v)


@st.composite
def databases(draw: Any, charset_modes: tuple[str, ...] = ("latin1", "utf8", "map")) -> DbSpec:
    mode = draw(st.sampled_from(charset_modes))
    alphabet = LATIN1_CHARS
    if mode == "utf8":
        alphabet += FOREIGN_CHARS
    elif mode == "map":
        alphabet += "".join(MAPPED) + draw(st.sampled_from(["", UNMAPPED_FOREIGN]))
    long_limit = draw(st.sampled_from([12, 40, 2047]))
    n_tables = draw(st.integers(1, 3))
    tables = []
    for i in range(n_tables):
        pk = draw(st.sampled_from(["none", "id", "composite", "text"]))
        n_cols = draw(st.integers(1, 5))
        names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=n_cols, max_size=n_cols, unique=True))
        cols = [(n, draw(declared_types())) for n in names]
        t = TableSpec(TABLE_NAMES[i], pk, cols)
        n_rows = draw(st.integers(0, 7))
        if pk == "id":
            keys = draw(st.lists(st.one_of(st.integers(1, 50), st.integers(-(2 ** 63), 2 ** 63 - 1)),
                                 min_size=n_rows, max_size=n_rows, unique=True))
            keys = [(k,) for k in keys]
        elif pk == "composite":
            keys = draw(st.lists(st.tuples(st.integers(2000, 2003), st.integers(1, 4)),
                                 min_size=n_rows, max_size=n_rows, unique=True))
        elif pk == "text":
            keys = draw(st.lists(st.text("abcXYZ09", min_size=1, max_size=6), min_size=n_rows, max_size=n_rows,
                                 unique=True))
            keys = [(k,) for k in keys]
        else:
            keys = [()] * n_rows
        strategies = [values_for(d, alphabet, long_limit) for _, d in cols]
        for key in keys:
            t.rows.append(tuple(key) + tuple(draw(s) for s in strategies))
        if pk == "none" and t.rows and draw(st.booleans()):
            t.rows.append(t.rows[0])  # an exact duplicate row
        tables.append(t)
    return DbSpec(tables, mode, long_limit)


# ---------------------------------------------------------------------------
# Running and checking
# ---------------------------------------------------------------------------


def profile_text(spec: DbSpec) -> str:
    text = f"[output]\nlong_text_limit = {spec.long_limit}\n"
    if spec.charset_mode == "map":
        text += '\n[charset]\nencoding = "ISO-8859-1"\nutf8_fallback = true\n\n[charset.map]\n'
        for k, v in MAPPED.items():
            text += f'"\\u{ord(k):04x}" = "{v if v != chr(34) else chr(92) + chr(34)}"\n'
    return text


def policy_for(spec: DbSpec, fmt: str) -> rb.Policy:
    return rb.Policy(fmt=fmt, charset="UTF-8" if spec.charset_mode == "utf8" else "ISO-8859-1",
                     charmap=dict(MAPPED) if spec.charset_mode == "map" else {},
                     utf8_fallback=spec.charset_mode == "map", long_text_limit=spec.long_limit,
                     allow_fallback=False)


def extract_and_check(spec: DbSpec, fmt: str) -> None:
    with tempfile.TemporaryDirectory(prefix="uttrekk_rt_") as tmp:
        tmpd = Path(tmp)
        db = tmpd / "src.sqlite"
        spec.build(db)
        prof = tmpd / "profile.toml"
        prof.write_text(profile_text(spec), encoding="utf-8")
        out = tmpd / "out"
        args = ["extract", str(db), "--out", str(out), "--profile", str(prof), "--format", fmt, "--date", DATE, "-q"]
        if spec.charset_mode == "utf8":
            args += ["--charset", "UTF-8"]
        res = CliRunner().invoke(cli, args)
        if res.exit_code != 0:
            import traceback
            tb = "".join(traceback.format_exception(res.exception)) if res.exception and not isinstance(
                res.exception, SystemExit) else ""
            pytest.fail(f"extract exited {res.exit_code}:\n{res.output[-2000:]}\n{tb[-3000:]}\n"
                        f"DDL: {[t.ddl() for t in spec.tables]}")
        checked = rb.compare_extract(db, out, policy_for(spec, fmt))
        problems = list(checked.problems)
        problems += rb.validate_addml(out / "content")
        if fmt == "delimited":
            problems += rb.csv_cross_check(out / "content", checked.addml, checked.records)
        if fmt == "xml":
            problems += rb.validate_xml_tables(out / "content", checked.addml)
        described = {"addml.xml", "addml.xsd"}
        for td in checked.addml.values():
            described.add(td.file_name)
            if fmt == "xml":
                described.add(td.file_name[:-4] + ".xsd")
        described |= {str(r["fil"]) for r in checked.records.get("LOBFILER", [])}
        extra = rb.content_inventory(out / "content") - described
        if extra:
            problems.append(f"files in content/ not described: {sorted(extra)}")
        for t in spec.tables:
            if t.name not in checked.records:
                problems.append(f"table {t.name} not read back")
        assert problems == [], "\n".join(problems[:30]) + f"\nDDL: {[t.ddl() for t in spec.tables]}"


HYP = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])


@HYP
@given(databases())
def test_generated_delimited_round_trip(spec: DbSpec) -> None:
    extract_and_check(spec, "delimited")


@HYP
@given(databases())
def test_generated_fixed_round_trip(spec: DbSpec) -> None:
    extract_and_check(spec, "fixed")


@settings(HYP, max_examples=15)
@given(databases())
def test_generated_xml_round_trip(spec: DbSpec) -> None:
    extract_and_check(spec, "xml")


# ---------------------------------------------------------------------------
# The readers themselves must be able to fail (they are the measuring instrument).


def test_parser_distinguishes_null_and_empty_and_rejects_bad_input() -> None:
    assert rb.parse_delimited('a;;"";"x""y;\r\nz"\r\n\r\n') == [["a", None, "", 'x"y;\r\nz'], [None]]
    for bad in ["a;b", "a\nb\r\n", 'a"b\r\n', '"a"b\r\n', '"abc\r\n', "a\rb\r\n"]:
        with pytest.raises(rb.ReadbackError):
            rb.parse_delimited(bad)


def test_expected_text_follows_the_spec_examples() -> None:
    dec = rb.col_type("DECIMAL(12,2)")
    assert rb.expected_text(845.1, dec) == "845,10"
    assert rb.expected_text(12000, dec) == "12000,00"
    assert rb.expected_text(0.1, rb.col_type("REAL")) == "0,1"
    assert rb.expected_text(1e-10, rb.col_type("REAL")) == "0,0000000001"
    assert rb.expected_text("2020-01-01 10:00:00", rb.col_type("TIMESTAMP")) == "2020-01-01T10:00:00"
    assert rb.expected_text("2020-01-01 12:00:00.120000", rb.col_type("TIMESTAMP")) == "2020-01-01T12:00:00.12"
    assert rb.expected_text(1, rb.col_type("BOOLEAN")) == "J"
    assert rb.expected_text("ab  ", rb.col_type("CHAR(4)")) == "ab"
    assert rb.expected_text(-12, rb.col_type("INTEGER")) == "-12"


# ---------------------------------------------------------------------------
# Deterministic edge cases


def sqlite_file(db: Path, script: str, rows: dict[str, list[tuple]]) -> Path:
    """A SQLite database made by ``script``, with ``rows`` inserted per table (also used by test_fast_path)."""
    con = sqlite3.connect(db)
    con.executescript(script)
    for t, vals in rows.items():
        con.executemany(f'INSERT INTO "{t}" VALUES ({", ".join("?" * len(vals[0]))})', vals)
    con.commit()
    con.close()
    return db


def _run(tmp: Path, script: str, rows: dict[str, list[tuple]], *extra: str, profile: str | None = None) -> tuple[Any, Path, Path]:
    db = sqlite_file(tmp / "src.sqlite", script, rows)
    out = tmp / "out"
    args = ["extract", str(db), "--out", str(out), "--date", DATE, "-q", *extra]
    if profile is not None:
        (tmp / "p.toml").write_text(profile, encoding="utf-8")
        args += ["--profile", str(tmp / "p.toml")]
    return CliRunner().invoke(cli, args), db, out


@pytest.mark.parametrize("fmt", ["delimited", "fixed", "xml"])
def test_values_that_do_not_fit_are_archived_as_text_and_noted(tmp_path: Path, fmt: str) -> None:
    res, db, out = _run(tmp_path, "CREATE TABLE t (id INTEGER PRIMARY KEY, fodt DATE, antall INTEGER, frist DATE);",
                        {"t": [(1, "2020-01-01", 7, "2020-02-02"), (2, "ukjent", 1.5, None),
                               (3, None, None, "2021-03-03")]}, "--format", fmt)
    assert res.exit_code == 0, res.output
    checked = rb.compare_extract(db, out, rb.Policy(fmt=fmt))
    assert checked.problems == [], "\n".join(checked.problems)
    td = checked.addml["t"]
    assert td.field("fodt").data_type == "string"
    assert td.field("antall").data_type == "string"
    assert td.field("frist").data_type == "date"  # a fitting column is not degraded
    recs = [{k: (None if v is rb.BLANK else v) for k, v in r.items()} for r in checked.records["t"]]
    assert [r["fodt"] for r in recs] == ["2020-01-01", "ukjent", None]
    assert [r["antall"] for r in recs] == ["7", "1.5", None]
    notes = [d for d in checked.deviations if d.table == "t" and d.action == "table_note"]
    for col in ("fodt", "antall"):
        assert any(d.column == col or col in d.detail for d in notes), (col, notes)
    assert not any(d.column == "frist" or "frist" in d.detail for d in notes), notes


@pytest.mark.parametrize("fmt", ["delimited", "fixed", "xml"])
def test_timestamps_with_offset_keep_it(tmp_path: Path, fmt: str) -> None:
    res, db, out = _run(tmp_path, "CREATE TABLE t (id INTEGER PRIMARY KEY, ts TIMESTAMP);",
                        {"t": [(1, "2020-01-01 10:00:00+02:00"), (2, "2020-06-30 23:59:59.250+00:00"),
                               (3, "1999-12-31 00:00:00.000000-05:30")]}, "--format", fmt)
    assert res.exit_code == 0, res.output
    checked = rb.compare_extract(db, out, rb.Policy(fmt=fmt, allow_fallback=False))
    assert checked.problems == [], "\n".join(checked.problems)
    assert [r["ts"] for r in checked.records["t"]] == [
        "2020-01-01T10:00:00+02:00", "2020-06-30T23:59:59.25+00:00", "1999-12-31T00:00:00-05:30"]


@pytest.mark.parametrize("fmt", ["delimited", "fixed", "xml"])
def test_char_and_fixed_ambiguity(tmp_path: Path, fmt: str) -> None:
    """CHAR loses trailing blanks; NULL, '' and blank-only values stay apart in every format."""
    res, db, out = _run(tmp_path, "CREATE TABLE t (id INTEGER PRIMARY KEY, c CHAR(4), v VARCHAR(6));",
                        {"t": [(1, "ab  ", " x "), (2, "    ", ""), (3, None, None), (4, "", "  "),
                               (5, " a", "x;\r\ny")]}, "--format", fmt)
    assert res.exit_code == 0, res.output
    checked = rb.compare_extract(db, out, rb.Policy(fmt=fmt, allow_fallback=False))
    assert checked.problems == [], "\n".join(checked.problems)
    recs = checked.records["t"]
    assert [r["c"] for r in recs] == ["ab", "", None, "", " a"]
    assert [r["v"] for r in recs] == [" x ", "", None, "  ", "x;\r\ny"]


def test_order_without_pk_includes_blobs(tmp_path: Path) -> None:
    """Spec: a table without a primary key is ordered by all its columns, so the order depends
    on the data alone. Rows that differ only in a BLOB must still come in a defined order."""
    rows = [(1, b"\x02"), (1, b"\x01"), (1, None)]  # inserted in reverse of the sorted order
    res, db, out = _run(tmp_path, "CREATE TABLE t (a INTEGER, b BLOB);", {"t": rows})
    assert res.exit_code == 0, res.output
    checked = rb.compare_extract(db, out, rb.Policy(allow_fallback=False))
    assert checked.problems == [], "\n".join(checked.problems)


def test_blob_column_without_values(tmp_path: Path) -> None:
    """A BLOB column that holds no value (empty table, or only NULLs) still extracts."""
    res, db, out = _run(tmp_path, "CREATE TABLE t (a INTEGER, b BLOB); CREATE TABLE u (id INTEGER PRIMARY KEY, c BLOB);",
                        {"u": [(1, None)]})
    assert res.exit_code == 0, res.output + (repr(res.exception) if res.exception else "")
    checked = rb.compare_extract(db, out, rb.Policy(allow_fallback=False))
    assert checked.problems == [], "\n".join(checked.problems)
    assert rb.validate_addml(out / "content") == []


def test_without_policy_a_foreign_character_stops_the_extract(tmp_path: Path) -> None:
    res, _db, out = _run(tmp_path, "CREATE TABLE t (aar INTEGER, nr INTEGER, navn TEXT, PRIMARY KEY (aar, nr));",
                         {"t": [(2020, 1, "Ola"), (2020, 3, "Máret Čuđežáš")]})
    assert res.exit_code != 0
    assert not out.exists()
    text = res.output
    assert "Traceback" not in text
    assert "t" in text and "navn" in text and "aar=2020, nr=3" in text, text
    assert "010C" in text.upper(), text


def test_mapped_value_in_table_without_pk_names_the_record(tmp_path: Path) -> None:
    prof = '[charset]\nencoding = "ISO-8859-1"\n\n[charset.map]\n"\\u2013" = "-"\n'
    res, db, out = _run(tmp_path, "CREATE TABLE t (a TEXT, b INTEGER);",
                        {"t": [("x", 1), ("a – b", 1), ("a – b", 0)]}, profile=prof)
    assert res.exit_code == 0, res.output
    checked = rb.compare_extract(db, out, rb.Policy(charmap={"\u2013": "-"}, allow_fallback=False))
    assert checked.problems == [], "\n".join(checked.problems)
    lines = [(d.table, d.column, d.row_key, d.action) for d in checked.deviations if d.action == "mapped"]
    # no column is unique: a surrogate key numbers the records in the order of all columns:
    # ('a – b', 0), ('a – b', 1), ('x', 1)
    assert sorted(lines) == [("t", "a", "uttrekk_lopenr=1", "mapped"), ("t", "a", "uttrekk_lopenr=2", "mapped")]
