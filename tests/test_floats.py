"""Floats written as the source means them, on every engine here (issue 12, point 5).

A single-precision column (PostgreSQL ``real``, MySQL/MariaDB and Firebird ``FLOAT``) is written with
the shortest digits that read back as the same float32, a double with the shortest that read back as
the same double, a MySQL ``FLOAT(M,D)``/``DOUBLE(M,D)`` with exactly D decimals as the server shows
it. Each extract is read back with the independent reader and compared value by value with what the
engine's own client shows (``psql``, ``mariadb -B``, ``isql-fb``) and with ``tests.floatref``, an
exact judge that shares no code with uttrekk; then ``uttrekk validate`` runs on it.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tests.readback as rb
from extractor.validation import validate_path
from tests.conftest import fresh_database, run
from tests.floatref import f32, float32_text, nearest_float32
from tests.test_servers import ADMIN_URLS, _drop_firebird, _fresh_firebird

ARKADE_LIMIT_BITS = 0x6F800000
"""The float32 bits of 2**96: Arkade reads no number beyond (see the tables ``stor``)."""

PROFILE = """[metadata]
archive_creator = "Testkommune"
system_name = "Flyttall"
period_start = "2020-01-01"
period_end = "2024-12-31"
"""


QUERY = """
[queries.q_flyt]
sql = "SELECT f.id, f.enkel, f.dobbel{scaled} FROM flyt f{join}"
primary_key = ["id"]
"""
"""A profile query over the float columns: its result types are read from the driver, not the catalogue."""


def extract(source: str | Path, out: Path, profile_text: str = "") -> dict[str, list[dict[str, Any]]]:
    """Extract ``source`` (UTF-8 files), check that it validates without errors, read every table back."""
    profile = out.parent / f"{out.name}.toml"
    profile.write_text(PROFILE + profile_text, encoding="utf-8")
    r = run("extract", source, "--out", out, "--charset", "UTF-8", "--profile", profile, "-q")
    assert r.exit_code == 0, r.output
    content = out / "content"
    assert rb.validate_addml(content) == []
    report = validate_path(out)
    assert report.errors == 0, {c.id: [f.message for f in c.examples] for c in report.checks if c.errors}
    tables = rb.read_addml(content / "addml.xml")
    return {name: rb.read_table(content, td, "delimited") for name, td in tables.items()}


def by_id(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(r["id"]): r for r in records}


def plain(text: str) -> str:
    """A client's number (``1.6777216e+07``, ``0.10000000``) in plain notation, no trailing zeros."""
    d = Decimal(text)
    out = format(d, "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


def written(text: str | None) -> str | None:
    """A float field of a delimited file with '.' for the decimal comma."""
    return None if text is None else text.replace(",", ".")


def compare_with_client(got: dict[int, dict[str, Any]], shown: dict[int, list[str]], expected: dict[int, str | None],
                        null: str, client_shows: Callable[[str, str, float], bool]) -> None:
    """Each float4 (``enkel``) as expected and as the judge says from its exact value (``shown``: the
    client's text of it, of the double ``dobbel`` and of the float4's exact value), the client's own
    text agreeing by ``client_shows``; each double as the client shows it."""
    for i, want in expected.items():
        enkel, dobbel, exact = shown[i]
        assert written(got[i]["enkel"]) == want, (i, got[i]["enkel"])
        if want is None:
            assert enkel == dobbel == null and got[i]["dobbel"] is None
            continue
        assert float32_text(float(exact)) == want, i
        assert client_shows(enkel, want, float(exact)), (i, enkel, want)
        assert written(got[i]["dobbel"]) == plain(dobbel), (i, got[i]["dobbel"], dobbel)


def table_notes(out: Path) -> str:
    return (out / "report" / "deviations.tsv").read_text(encoding="utf-8")


def described(out: Path) -> str:
    return (out / "content" / "addml.xml").read_text(encoding="utf-8")


# -- PostgreSQL ---------------------------------------------------------------------------------------------

PG_ROWS = [  # id, real, double precision: SQL literals as an application would send them
    (1, "0.1", "0.1"), (2, "1.0/3", "1.0/3"), (3, "16777217", "16777217"), (4, "'1.4e-45'", "'5e-324'"),
    (5, "'-0'", "'-0'"), (6, "'1.1754944e-38'", "'2.2250738585072014e-308'"), (7, "123456789", "123456789"),
    (8, "2221495.75", "'0.30000000000000004'"), (9, "30000001024", "'1e22'"), (10, "652090.00", "652090.00"),
    (11, "NULL", "NULL"),
]

PG_EXPECTED = {  # what the float4 column must hold, as text: PostgreSQL's own (Ryu) in plain notation
    1: "0.1", 2: "0.33333334", 3: "16777216", 4: "0." + "0" * 44 + "1", 5: "-0", 6: "0." + "0" * 37 + "11754944",
    7: "123456790", 8: "2221495.8", 9: "30000001000", 10: "652090", 11: None,
}


def _psql(url: Any, sql: str, extra_float_digits: int | None = 1) -> list[list[str]]:
    """What ``psql`` shows (unaligned, ';' between fields); with the session's ``extra_float_digits``."""
    env = {**os.environ, "PGOPTIONS": f"-c extra_float_digits={extra_float_digits}" if extra_float_digits is not None
           else ""}
    cmd = ["psql", "-X", "-A", "-t", "-F", ";", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username,
           "-d", url.database, "-c", sql]
    text = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return [line.split(";") for line in text.splitlines() if line]


@pytest.fixture(scope="module")
def pg_floats():
    with fresh_database("postgresql", "uttrekk_f") as url:
        eng = sa.create_engine(url)
        rnd = random.Random(2026)
        with eng.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE flyt (id integer PRIMARY KEY, enkel real, dobbel double precision)")
            for i, r4, r8 in PG_ROWS:
                conn.exec_driver_sql(f"INSERT INTO flyt VALUES ({i}, {r4}, {r8})")
            conn.exec_driver_sql("CREATE TABLE stor (id integer PRIMARY KEY, enkel real)")
            conn.exec_driver_sql("INSERT INTO stor VALUES (1, '3.4028235e38'), (2, 1.5)")
            conn.exec_driver_sql("CREATE TABLE rar (id integer PRIMARY KEY, enkel real, dobbel double precision)")
            conn.exec_driver_sql("INSERT INTO rar VALUES (1, 'NaN', '-Infinity'), (2, 'Infinity', 2.5), (3, 0.1, 0.1)")
            conn.exec_driver_sql("CREATE TABLE mange (id integer PRIMARY KEY, enkel real)")
            picked = [rnd.randrange(1, ARKADE_LIMIT_BITS) for _ in range(1500)] + list(range(1, 40))
            values = [f32(b) * rnd.choice((1, -1)) for b in picked]
            conn.execute(sa.text("INSERT INTO mange VALUES (:i, CAST(:v AS real))"),
                         [{"i": i, "v": v} for i, v in enumerate(values, 1)])
            # a database set to lose digits: psql would show 0.333333; the extract must not
            conn.exec_driver_sql(f"ALTER DATABASE {url.database} SET extra_float_digits = 0")
        eng.dispose()
        yield url


@pytest.fixture(scope="module")
def pg_extract(pg_floats, tmp_path_factory) -> tuple[Path, dict[str, list[dict[str, Any]]]]:
    out = tmp_path_factory.mktemp("pgf") / "o"
    return out, extract(pg_floats.render_as_string(hide_password=False), out, QUERY.format(scaled="", join=""))


def test_postgresql_real_and_double_as_psql_shows_them(pg_floats, pg_extract):
    out, tables = pg_extract
    got = by_id(tables["flyt"])
    shown = {int(r[0]): r[1:] for r in _psql(pg_floats, "SELECT id, enkel, dobbel, enkel::float8 FROM flyt")}
    compare_with_client(got, shown, PG_EXPECTED, "", lambda text, want, exact: (  # psql writes -0 too
        plain(text) == want and text.startswith("-") == want.startswith("-")))
    assert "32-bits flyttallet" in described(out)  # the field says how its digits read back
    assert tables["q_flyt"] == tables["flyt"]  # a profile query's real column is a float4 too


def test_postgresql_session_sets_extra_float_digits(pg_floats, pg_extract):
    """The database is set to extra_float_digits = 0, where PostgreSQL rounds real to 6 digits: what
    psql shows there. The extract has every digit, because its session sets the value itself."""
    _, tables = pg_extract
    rounded = {int(r[0]): r[1] for r in _psql(pg_floats, "SELECT id, enkel FROM flyt", extra_float_digits=None)}
    assert rounded[2] == "0.333333" and rounded[3] == "1.67772e+07"
    assert written(by_id(tables["flyt"])[2]["enkel"]) == "0.33333334"


def test_postgresql_many_float4_values_as_psql_shows_them(pg_floats, pg_extract):
    """1500 random float32 bit patterns (subnormals too), both signs: PostgreSQL's own text, and the judge."""
    _, tables = pg_extract
    got = by_id(tables["mange"])
    shown = _psql(pg_floats, "SELECT id, enkel, enkel::float8 FROM mange")
    assert len(shown) == len(got) == 1539
    for i, text, exact in shown:
        assert written(got[int(i)]["enkel"]) == plain(text) == float32_text(float(exact)), (i, text, exact)


def test_postgresql_values_arkade_cannot_read_make_the_column_text_with_a_report_line(pg_extract):
    out, tables = pg_extract
    assert [r["enkel"] for r in tables["stor"]] == ["340282350000000000000000000000000000000", "1.5"]
    assert [(r["enkel"], r["dobbel"]) for r in tables["rar"]] == [
        ("NaN", "-Infinity"), ("Infinity", "2.5"), ("0.1", "0.1")]
    notes = table_notes(out)
    assert "stor\t\t\ttable_note\tkolonne enkel: deklarert som float, men 1 verdi(er) passer ikke (første: id=1:" in notes
    assert "Arkade" in notes
    for column, count in (("enkel", 2), ("dobbel", 1)):
        assert f"rar\t\t\ttable_note\tkolonne {column}: deklarert som float, men {count} verdi(er)" in notes


def test_postgresql_copy_and_cursor_give_the_same_bytes(pg_floats, pg_extract, tmp_path, monkeypatch):
    from dialects.postgresql import PostgreSQL

    out, _ = pg_extract
    monkeypatch.setattr(PostgreSQL, "use_copy", False)
    extract(pg_floats.render_as_string(hide_password=False), tmp_path / "o")
    for name in ("flyt.txt", "mange.txt", "stor.txt", "rar.txt"):
        assert (tmp_path / "o" / "content" / name).read_bytes() == (out / "content" / name).read_bytes(), name


# -- MariaDB ----------------------------------------------------------------------------------------------------

MARIA_ROWS = [  # id, FLOAT, DOUBLE
    (1, "0.1", "0.1"), (2, "1/3", "1/3"), (3, "16777217", "16777217"), (4, "1.4e-45", "5e-324"),
    (5, "-0e0", "-0e0"), (6, "1.1754944e-38", "2.2250738585072014e-308"), (7, "123456789", "123456789"),
    (8, "2221495.75", "0.1e0 + 0.2e0"), (9, "30000001024", "1e22"), (10, "652090.00", "652090.00"),
    (11, "NULL", "NULL"),
]

SCALED = ("f2 FLOAT(10,2)", "d2 DOUBLE(10,2)", "f4 FLOAT(7,4)", "d5 DOUBLE(30,5)", "f0 FLOAT(12,0)")


def _scaled_values(rnd: random.Random) -> list[tuple[str, str, str, str, str]]:
    """Values for the columns with a declared scale: the brief's, ties at every scale, and random ones up
    to the largest each column takes, both signs."""
    rows = [("652090.00", "652090.00", "1.005", "652090.00", "652090"), ("1.005", "1.005", "0.125", "1.005", "0.5"),
            ("0.125", "0.125", "0.00005", "0.125", "1.5"), ("0.005", "0.005", "-0.00005", "2.675", "2.5"),
            ("-0.005", "-0.005", "999.99994", "1e19", "-0.5"), ("99999999.99", "99999999.99", "0.0001", "-1e-6", "1e11"),
            ("2.675", "2.675", "1.23456", "123456789.123455", "16777217"), ("1.015", "1.015", "-999.9999", "0", "0")]
    for _ in range(400):
        rows.append((
            f"{rnd.choice((1, -1)) * rnd.randrange(0, 10 ** rnd.randrange(1, 11)) / 100:.3f}",
            f"{rnd.choice((1, -1)) * rnd.randrange(0, 10 ** rnd.randrange(1, 11)) / 100:.3f}",
            f"{rnd.choice((1, -1)) * rnd.randrange(0, 10 ** rnd.randrange(1, 8)) / 10000:.5f}",
            f"{rnd.choice((1, -1)) * rnd.random() * 10 ** rnd.randrange(-6, 25):.8g}",
            f"{rnd.choice((1, -1)) * rnd.randrange(0, 10 ** 11) + rnd.choice((0, 0.5, 0.25)):.2f}",
        ))
    return rows


def _mariadb(url: Any, sql: str) -> list[list[str]]:
    """What the ``mariadb`` client shows in batch mode (``-B -N``: tab-separated, no header)."""
    cmd = ["mariadb", "-B", "-N", "-h", url.host, "-P", str(url.port or 3306), "-u", url.username, url.database,
           "-e", sql]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in text.splitlines()]


@pytest.fixture(scope="module")
def maria_floats():
    with fresh_database("mariadb", "uttrekk_f") as url:
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE flyt (id int PRIMARY KEY, enkel FLOAT, dobbel DOUBLE)")
            for i, f, d in MARIA_ROWS:
                conn.exec_driver_sql(f"INSERT INTO flyt VALUES ({i}, {f}, {d})")
            conn.exec_driver_sql(f"CREATE TABLE skala (id int PRIMARY KEY, {', '.join(SCALED)})")
            for i, row in enumerate(_scaled_values(random.Random(12)), 1):
                conn.exec_driver_sql(f"INSERT INTO skala VALUES ({i}, {', '.join(row)})")
            conn.exec_driver_sql("INSERT INTO skala (id) VALUES (0)")
            # no key: ordered by every column, a FLOAT(M,D) by its number (not by the text it is read as)
            conn.exec_driver_sql("CREATE TABLE uten_nokkel (f2 FLOAT(10,2), navn varchar(10))")
            conn.exec_driver_sql("INSERT INTO uten_nokkel VALUES (10, 'a'), (9.5, 'a'), (100, 'b'), (-1, 'b'), (10, 'b')")
            conn.exec_driver_sql("CREATE TABLE stor (id int PRIMARY KEY, enkel FLOAT)")
            conn.exec_driver_sql("INSERT INTO stor VALUES (1, 3.4028234663852886e38), (2, 1.5)")
        eng.dispose()
        yield url


@pytest.fixture(scope="module")
def maria_extract(maria_floats, tmp_path_factory) -> tuple[Path, dict[str, list[dict[str, Any]]]]:
    out = tmp_path_factory.mktemp("mariaf") / "o"
    query = QUERY.format(scaled=", s.f2, s.d5", join=" JOIN skala s ON s.id = f.id")
    return out, extract(maria_floats.render_as_string(hide_password=False), out, query)


def test_mariadb_float_and_double(maria_floats, maria_extract):
    """The client shows FLOAT rounded to 6 digits (0.333333): it is read as its exact value and written
    with the shortest digits that read back as the same float32. DOUBLE as the client shows it."""
    out, tables = maria_extract
    got = by_id(tables["flyt"])
    shown = {int(r[0]): r[1:] for r in _mariadb(maria_floats, "SELECT id, enkel, dobbel, enkel * 1e0 FROM flyt")}
    assert shown[2][0] == "0.333333" and written(got[2]["enkel"]) == "0.33333334"
    expected_enkel = {1: "0.1", 2: "0.33333334", 3: "16777216", 4: "0." + "0" * 44 + "1", 5: "0", 7: "123456790",
                      6: "0." + "0" * 37 + "11754944", 8: "2221495.8", 9: "30000001000", 10: "652090", 11: None}
    compare_with_client(got, shown, expected_enkel, "NULL", lambda text, want, exact: (  # 6 digits of the float32
        Decimal(text) == Decimal(f"{exact:.6g}")))
    assert written(got[8]["dobbel"]) == "0.30000000000000004"
    assert "32-bits flyttallet" in described(out)
    scaled = by_id(tables["skala"])  # a profile query's FLOAT and FLOAT(M,D), as the driver describes them
    assert tables["q_flyt"] == [{**r, "f2": scaled[int(r["id"])]["f2"], "d5": scaled[int(r["id"])]["d5"]}
                                for r in tables["flyt"]]


def test_mariadb_declared_scale_as_the_client_shows_it(maria_floats, maria_extract):
    """FLOAT(M,D) and DOUBLE(M,D): exactly D decimals, the very text the client shows, for ties (0.125,
    2.675, 1.005: the server rounds the binary value), the largest values each column holds (99999999.99
    in FLOAT(10,2) is the float32 100000000) and hundreds of random ones."""
    out, tables = maria_extract
    columns = [c.split()[0] for c in SCALED]
    got = by_id(tables["skala"])
    shown = _mariadb(maria_floats, f"SELECT id, {', '.join(columns)} FROM skala")
    assert len(shown) == len(got) > 400
    for row in shown:
        for name, text in zip(columns, row[1:], strict=True):
            want = None if text == "NULL" else text
            assert written(got[int(row[0])][name]) == want, (row[0], name, text)
    first = {name: written(got[1][name]) for name in columns}
    assert first == {"f2": "652090.00", "d2": "652090.00", "f4": "1.0050", "d5": "652090.00000", "f0": "652090"}
    assert [written(got[i]["f2"]) for i in (2, 3, 4, 5, 6, 7, 8)] == [
        "1.00", "0.12", "0.00", "0.00", "100000000.00", "2.67", "1.01"]
    assert "Flyttall (FLOAT(10, 2)) skrevet med 2 desimaler" in described(out)
    assert 'name="f2"' in described(out)


def test_mariadb_table_without_key_is_ordered_by_the_number(maria_extract):
    _, tables = maria_extract
    assert [(r["uttrekk_lopenr"], written(r["f2"]), r["navn"]) for r in tables["uten_nokkel"]] == [
        ("1", "-1.00", "b"), ("2", "9.50", "a"), ("3", "10.00", "a"), ("4", "10.00", "b"), ("5", "100.00", "b")]


def test_mariadb_float_beyond_arkade_is_text_with_a_report_line(maria_extract):
    out, tables = maria_extract
    assert [r["enkel"] for r in tables["stor"]] == ["340282350000000000000000000000000000000", "1.5"]
    assert "stor\t\t\ttable_note\tkolonne enkel: deklarert som float, men 1 verdi(er) passer ikke (første: id=1:" \
        in table_notes(out)


# -- Firebird ---------------------------------------------------------------------------------------------------

FB_ROWS = [  # id, FLOAT, DOUBLE PRECISION (Firebird 3 refuses subnormals, NaN and Infinity)
    (1, "0.1", "0.1"), (2, "1e0/3", "1e0/3"), (3, "16777217", "16777217"), (4, "1.1754944e-38", "1e-300"),
    (5, "-0e0", "-0e0"), (6, "123456789", "123456789"), (7, "2221495.75", "0.30000000000000004"),
    (8, "30000001024", "1e22"), (9, "652090.00", "652090.00"), (10, "NULL", "NULL"),
]

FB_EXPECTED = {  # FLOAT, DOUBLE PRECISION
    1: ("0.1", "0.1"), 2: ("0.33333334", "0.3333333333333333"), 3: ("16777216", "16777217"),
    4: ("0." + "0" * 37 + "11754944", "0." + "0" * 299 + "1"), 5: ("-0", "-0"), 6: ("123456790", "123456789"),
    7: ("2221495.8", "0.30000000000000004"), 8: ("30000001000", "10000000000000000000000"), 9: ("652090", "652090"),
    10: (None, None),
}


def _isql(url: Any, sql: str) -> list[dict[str, str]]:
    """What ``isql-fb`` shows with ``SET LIST ON`` (a name and a value per line, a blank line between rows)."""
    script = (f"CONNECT '{url.host}/{url.port or 3050}:{url.database}' USER '{url.username}' PASSWORD "
              f"'{url.password}';\nSET LIST ON;\n{sql};\n")
    text = subprocess.run(["isql-fb", "-q"], input=script, capture_output=True, text=True, check=True).stdout
    rows = []
    for block in text.strip().split("\n\n"):
        rows.append({line.split()[0].lower(): line.split(None, 1)[1].strip() for line in block.splitlines() if line})
    return rows


@pytest.fixture(scope="module")
def fb_floats():
    if "firebird" not in ADMIN_URLS:
        pytest.skip("no Firebird server")
    path, url = _fresh_firebird()
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE flyt (id integer NOT NULL PRIMARY KEY, enkel float, dobbel double precision)")
            conn.exec_driver_sql("CREATE TABLE stor (id integer NOT NULL PRIMARY KEY, enkel real)")
        with eng.begin() as conn:
            for i, f, d in FB_ROWS:
                conn.exec_driver_sql(f"INSERT INTO flyt VALUES ({i}, {f}, {d})")
            conn.exec_driver_sql("INSERT INTO stor VALUES (1, 3.4028234e38)")
            conn.exec_driver_sql("INSERT INTO stor VALUES (2, 1.5)")
        eng.dispose()
        yield url
    finally:
        eng.dispose()
        _drop_firebird(path)


def test_firebird_float_and_double_as_isql_shows_them(fb_floats, tmp_path):
    """isql shows a FLOAT in 8 digits and a DOUBLE PRECISION in 16: the same numbers, where they need
    no more (0.30000000000000004 needs 17, so isql shows 0.3000000000000000)."""
    out = tmp_path / "o"
    tables = extract(fb_floats.render_as_string(hide_password=False), out)
    got = by_id(tables["flyt"])
    shown = {int(r["id"]): r for r in _isql(fb_floats, "SELECT id, enkel, dobbel, CAST(enkel AS DOUBLE PRECISION) "
                                                       "AS eksakt FROM flyt")}
    for i, (enkel, dobbel) in FB_EXPECTED.items():
        assert (written(got[i]["enkel"]), written(got[i]["dobbel"])) == (enkel, dobbel), i
        if enkel is None:
            assert shown[i]["enkel"] == shown[i]["dobbel"] == "<null>"
            continue
        assert float32_text(nearest_float32(float(shown[i]["eksakt"]))) == enkel  # the judge
        for text, want, digits in ((shown[i]["enkel"], enkel, 8), (shown[i]["dobbel"], dobbel, 16)):
            assert Decimal(text) == Decimal(f"{Decimal(want):.{digits}g}"), (i, text, want)
            assert text.startswith("-") == want.startswith("-")  # -0 too
    assert [r["enkel"] for r in tables["stor"]] == ["340282350000000000000000000000000000000", "1.5"]
    assert "stor\t\t\ttable_note\tkolonne enkel:" in table_notes(out)


# -- SQLite -----------------------------------------------------------------------------------------------------


def test_sqlite_real_is_a_double_whatever_it_is_declared(tmp_path):
    db = tmp_path / "f.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE flyt (id INTEGER PRIMARY KEY, tall REAL, kort FLOAT(10), stor DOUBLE, uendelig REAL)")
    rows = [(1, 0.1, 0.1, 1.7976931348623157e308, math.inf), (2, 1 / 3, 1 / 3, 1.0, -math.inf),
            (3, 16777217.0, 16777217.0, 2.5, 2.5), (4, 5e-324, 5e-324, None, None), (5, 652090.0, 652090.0, None, None),
            (6, 1e22, 1e22, None, None), (7, 0.1 + 0.2, 0.1 + 0.2, None, None), (8, None, None, None, None)]
    con.executemany("INSERT INTO flyt VALUES (?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    out = tmp_path / "o"
    got = by_id(extract(db, out)["flyt"])
    expected = {1: "0.1", 2: "0.3333333333333333", 3: "16777217", 4: "0." + "0" * 323 + "5", 5: "652090",
                6: "10000000000000000000000", 7: "0.30000000000000004", 8: None}
    for i, want in expected.items():
        assert written(got[i]["tall"]) == want == written(got[i]["kort"]), (i, got[i]["tall"], got[i]["kort"])
    assert [got[i]["stor"] for i in (1, 2, 3)] == ["1" + "7976931348623157" + "0" * 292, "1", "2.5"]
    assert [got[i]["uendelig"] for i in (1, 2, 3)] == ["Infinity", "-Infinity", "2.5"]
    notes = table_notes(out)
    assert "kolonne stor:" in notes and "kolonne uendelig:" in notes
    assert "kolonne tall" not in notes and "kolonne kort" not in notes  # FLOAT(10) is no float32 in SQLite
