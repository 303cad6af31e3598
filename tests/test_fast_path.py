"""The fast path (the server renders each value's archival text) against the exact path
(``[output] rendering = "exact"``, every value rendered by uttrekk): byte-identical files and
identical statistics on every test database, and each table on the path the report says.

Edge cases are built into the databases: timestamptz offsets (whole hours, half hours, a historic
offset with seconds), float exponents, -0, NaN/Infinity, numbers past Arkade's largest, infinite and
BC dates, years before 1000, CHAR padding, a lone ``\\.``, NUL characters (SQLite), more than seven
fraction digits, empty text against NULL, blanks at an edge, texts long enough for LOB files,
binary values, characters the charset cannot hold (mapped, UTF-8 fallback), code lists, tables
without a key, filters and profile queries.
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLE_PROFILE, fresh_database, run, run_sql
from tests.test_parallel_resume import same_tree
from tests.test_roundtrip_generated import HYP, DbSpec, databases, profile_text, sqlite_file

DATE = "2024-05-17"


def _extract(source: str | Path, out: Path, profile: str, *extra: str) -> dict[str, Any]:
    prof = out.parent / f"{out.name}.toml"
    prof.write_text(profile, encoding="utf-8")
    r = run("extract", source, "--out", out, "--date", DATE, "-q", "--profile", prof, *extra)
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))
    return {t["table"]: (t["rendering"], t.get("exact_path_reasons", {})) for t in report["tables"] if "rendering" in t}


def _exact(profile: str) -> str:
    """The same profile with ``[output] rendering = "exact"``."""
    if "[output]\n" in profile:
        return profile.replace("[output]\n", '[output]\nrendering = "exact"\n', 1)
    return '[output]\nrendering = "exact"\n' + profile


def both_paths(source: str | Path, tmp: Path, profile: str = "", *extra: str) -> dict[str, Any]:
    """Extract with both paths; the content folders must be byte-identical (addml.xml too).
    Returns each table's path and reasons from the fast run's extraction.json."""
    tmp.mkdir(parents=True, exist_ok=True)
    paths = _extract(source, tmp / "server", profile, *extra)
    exact = _extract(source, tmp / "exact", _exact(profile), *extra)
    assert same_tree(tmp / "server" / "content", tmp / "exact" / "content") == []
    assert all(path == "exact" for path, _ in exact.values())
    assert all(why == {"": '[output] rendering = "exact"'} for _, why in exact.values())
    for name in ("deviations.tsv",):
        assert (tmp / "server" / "report" / name).read_bytes() == (tmp / "exact" / "report" / name).read_bytes()
    return paths


@pytest.mark.parametrize("fmt", ["delimited", "fixed"])
def test_example_database(example_db: Path, tmp_path: Path, fmt: str) -> None:
    paths = both_paths(example_db, tmp_path, EXAMPLE_PROFILE.read_text(encoding="utf-8"), "--format", fmt)
    server = {t for t, (p, _) in paths.items() if p == "server"}
    assert {"HENDELSESLOGG", "SAKSTYPE", "STATUSKODE"} <= server, paths
    assert "binary field" in json.dumps(paths["DOKUMENT"][1])  # a lobpath field: the exact path, saying why


# -- PostgreSQL ---------------------------------------------------------------------------------------

PG_TABLES = [
    "CREATE TYPE farge AS ENUM ('rod', 'gronn')",
    "CREATE TABLE a_plain (id int PRIMARY KEY, s smallint, b bigint, n numeric(12,2), n2 numeric, d date,"
    " ts timestamp(6), t time, bo boolean, v varchar(20), tx text, c char(6))",
    "INSERT INTO a_plain VALUES (1, -32768, 9223372036854775807, -0.5, 0.000000001, '0999-12-31',"
    " '0999-12-31 23:59:59.000001', '23:59:59.999999', true, '', 'x;y\"z', 'ab  '),"
    " (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
    " (3, 0, -1, 1234567890.10, 12345678901234567890.1234567890, '2024-02-29', '2024-02-29 10:00:00.5',"
    " '00:00:00', false, ' kant', E'linje1\\r\\nlinje2\\n\"sitat\"', '      '),"
    " (4, 7, 7, 0, 1.50, '1970-01-01', '1970-01-01 00:00:00', '12:00:00.1', true, E'tab\\tx\\u00a0', 'é\u0085ÿ', 'c')",
    "CREATE TABLE b_floats (id int PRIMARY KEY, r real, d double precision)",
    "INSERT INTO b_floats VALUES (1, 0.1, 0.1), (2, 1e20, 1e-7), (3, -0, '-0'), (4, 3.4028235e20, 1.5e-300),"
    " (5, 1.17549435e-38, 123456789012345680000), (6, NULL, 2.5), (7, 16777216, -1e22)",
    "CREATE TABLE c_rare (id int PRIMARY KEY, n numeric, f double precision, d date, ts timestamp, r real)",
    "INSERT INTO c_rare VALUES (1, 'NaN', 'Infinity', 'infinity', '-infinity', 'NaN'),"
    " (2, 1.5, 1e30, '0044-03-15 BC', '2020-01-01 10:00', 1)",
    "CREATE TABLE d_tz (id int PRIMARY KEY, tz timestamptz)",
    "INSERT INTO d_tz VALUES (1, '2024-06-01 12:00:00+00'), (2, '2024-01-01 00:00:00.25+05:30'), (3, NULL)",
    "CREATE TABLE e_lmt (id int PRIMARY KEY, tz timestamptz)",
    "INSERT INTO e_lmt VALUES (1, '1800-01-01 00:00:00+00'), (2, '2024-01-01 00:00:00+00')",
    "CREATE TABLE f_nokey (v varchar(10), n int)",
    "INSERT INTO f_nokey VALUES ('b', 2), ('a', 1), ('a', 1), (NULL, NULL), ('', 0)",
    "CREATE TABLE g_dot (id int PRIMARY KEY, v text)",
    "INSERT INTO g_dot VALUES (1, E'\\\\.'), (2, 'x')",
    "CREATE TABLE h_dot_alone (v text PRIMARY KEY)",
    "INSERT INTO h_dot_alone VALUES (E'\\\\.'), ('y')",
    "CREATE TABLE i_long (id int PRIMARY KEY, v text)",
    "INSERT INTO i_long VALUES (1, repeat('x', 2100)), (2, 'kort')",
    "CREATE TABLE j_bytes (id int PRIMARY KEY, b bytea)",
    "INSERT INTO j_bytes VALUES (1, '\\x00ff'), (2, NULL)",
    "CREATE TABLE k_foreign (id int PRIMARY KEY, v text)",
    "INSERT INTO k_foreign VALUES (1, 'Čapek'), (2, 'tankestrek – her'), (3, 'ren')",
    "CREATE TABLE l_enum (id int PRIMARY KEY, f farge, k varchar(4) CHECK (k IN ('A', 'B')))",
    "INSERT INTO l_enum VALUES (1, 'rod', 'A'), (2, NULL, 'B')",
    "CREATE TABLE m_codes (id int PRIMARY KEY, k varchar(4) CHECK (k IN ('A', 'B')))",
    "INSERT INTO m_codes VALUES (1, 'A'), (2, NULL)",
    "CREATE TABLE n_time24 (id int PRIMARY KEY, t time)",
    "INSERT INTO n_time24 VALUES (1, '24:00:00')",
    "CREATE TABLE o_money (id int PRIMARY KEY, m money, j json, u uuid)",
    "INSERT INTO o_money VALUES (1, 12.5, '{\"a\": 1}', '00000000-0000-0000-0000-000000000001')",
    "CREATE TABLE p_empty (id int PRIMARY KEY, v text, d date)",
    "CREATE TABLE r_order (id int PRIMARY KEY, d date, v text)",  # ORDER BY id: numbers, not their text
    "INSERT INTO r_order SELECT i, DATE '2020-01-01' + mod(7 - i, 5), 'v' || (20 - i) FROM generate_series(1, 12) AS i",
]

PG_PROFILE = """
[charset]
utf8_fallback = true

[charset.map]
"\\u2013" = "-"

[tables.f_nokey]
where = "n IS NULL OR n < 5"
filter_reason = "testing a filter"

[queries.q_sum]
sql = "SELECT id, v || '!' AS v FROM a_plain"
primary_key = ["id"]
"""


@pytest.fixture(scope="module")
def pg_edges():
    with fresh_database("postgresql", "uttrekk_fast") as url:
        run_sql(url, PG_TABLES)
        run_sql(url, [f"ALTER DATABASE {url.database} SET timezone = 'Europe/Amsterdam'"])
        yield url.render_as_string(hide_password=False)


@pytest.mark.parametrize("fmt", ["fixed", "delimited"])
def test_postgresql_fixed_width(pg_edges: str, tmp_path: Path, fmt: str) -> None:
    """Fixed width: the widths (and ``_lengde`` fields) from the statistics, each record one COPY field."""
    paths = both_paths(pg_edges, tmp_path, PG_PROFILE, "--format", fmt)
    server = {t for t, (p, _) in paths.items() if p == "server"}
    assert {"b_floats", "d_tz", "f_nokey", "p_empty", "q_sum", "r_order"} <= server, paths
    if fmt == "fixed":
        assert "CR, LF" in json.dumps(paths["a_plain"][1])  # one CSV field per record: such a value would be quoted


@pytest.mark.parametrize("charset", ["ISO-8859-1", "UTF-8"])
def test_postgresql_edge_cases(pg_edges: str, tmp_path: Path, charset: str) -> None:
    paths = both_paths(pg_edges, tmp_path, PG_PROFILE, "--charset", charset)
    server = {t for t, (p, _) in paths.items() if p == "server"}
    assert {"a_plain", "b_floats", "d_tz", "f_nokey", "m_codes", "p_empty", "q_sum", "r_order"} <= server, paths
    exact = {t: json.dumps(why) for t, (p, why) in paths.items() if p == "exact"}
    assert "do not fit the column's type" in exact["c_rare"]
    assert "do not fit the column's type" in exact["e_lmt"]  # an offset with seconds (+00:19:32)
    assert "do not fit the column's type" in exact["n_time24"]
    assert "lone" in exact["g_dot"] and "lone" in exact["h_dot_alone"]
    assert "long-text limit" in exact["i_long"]
    assert "bytea" in exact["j_bytes"] or "binary" in exact["j_bytes"]
    assert "FARGE" in exact["l_enum"].upper()
    assert "unknown values" in exact["o_money"]
    if charset == "ISO-8859-1":
        assert "cannot hold" in exact["k_foreign"]
    else:
        assert "k_foreign" in server
    content = tmp_path / "server" / "content"
    assert (content / "b_floats.txt").read_bytes().splitlines()[1] == b"2;100000000000000000000;0,0000001"
    assert (content / "d_tz.txt").read_bytes().splitlines()[1] == b"2;2023-12-31T19:30:00.25+01:00"


def test_postgresql_benchmark_shape_takes_the_fast_path(pg_edges: str, tmp_path: Path) -> None:
    """A table of the benchmark's column types goes all the way through the server (the fast path
    is not vacuous), and the summary says so."""
    paths = both_paths(pg_edges, tmp_path, "[output]\nlong_text_limit = 2047\n", "--table", "a_plain")
    assert paths == {"a_plain": ("server", {})}
    assert "rendered by the server (fast path)" in (tmp_path / "server" / "report" / "summary.txt").read_text()


BESIDE_TABLES = [
    # the COPY stops at the first row (a character LATIN1 cannot hold) while the statistics still run
    "CREATE TABLE a_emoji (id int PRIMARY KEY, v text)",
    "INSERT INTO a_emoji SELECT i, CASE WHEN i = 1 THEN 'smil \U0001F600' ELSE 'rad ' || i END"
    " FROM generate_series(1, 150000) AS i",
    # the statistics send it to the exact path (its last text is over the limit) while the COPY streams
    "CREATE TABLE b_late_long (id int PRIMARY KEY, v text)",
    "INSERT INTO b_late_long SELECT i, CASE WHEN i = 150000 THEN repeat('x', 2100) ELSE 'rad ' || i END"
    " FROM generate_series(1, 150000) AS i",
    "CREATE TABLE c_after (id int PRIMARY KEY, v text, n numeric(8,2))",
    "INSERT INTO c_after SELECT i, 'etter ' || i, i / 100.0 FROM generate_series(1, 5000) AS i",
]


def test_postgresql_statistics_beside_the_copy(tmp_path: Path) -> None:
    """The statistics are counted on a second connection in the run's snapshot while the COPY reads the
    file: a COPY the charset stops abandons a count still running (cancelled), statistics that refuse
    the table drop the file read so far, and the next table's count works on that connection."""
    with fresh_database("postgresql", "uttrekk_beside") as url:
        run_sql(url, BESIDE_TABLES)
        paths = both_paths(url.render_as_string(hide_password=False), tmp_path, "[charset]\nutf8_fallback = true\n")
    assert paths["c_after"] == ("server", {}), paths
    assert paths["a_emoji"][0] == "exact" and "cannot hold" in json.dumps(paths["a_emoji"][1])
    assert paths["b_late_long"][0] == "exact" and "1 texts over the long-text limit" in json.dumps(paths["b_late_long"][1])
    report = json.loads((tmp_path / "server" / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert "second connection" in report["snapshot"]["statistics_connection"]
    assert sorted(p.name for p in (tmp_path / "server" / "content").iterdir() if p.suffix == ".txt") == [
        "LOBFILER.txt", "a_emoji.txt", "b_late_long.txt", "c_after.txt"]


def test_postgresql_statistics_on_the_reading_connection_when_no_second_is_allowed(tmp_path: Path) -> None:
    """A login the server allows two connections (the snapshot's coordinator and the reader) gets no
    third for the statistics: they are counted on the reading connection, the files are the same,
    and the report says why."""
    import uuid

    import sqlalchemy as sa

    role = f"uttrekk_lim_{uuid.uuid4().hex[:8]}"
    with fresh_database("postgresql", "uttrekk_limit") as url:
        run_sql(url, BESIDE_TABLES[-2:] + [f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 2",
                                            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"])
        try:
            limited = url.set(username=role).render_as_string(hide_password=False)
            paths = both_paths(limited, tmp_path)
            report = json.loads((tmp_path / "server" / "report" / "extraction.json").read_text(encoding="utf-8"))
        finally:
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
            admin.dispose()
            run_sql(url.set(database="postgres"), [f"DROP ROLE {role}"])
    assert paths == {"c_after": ("server", {})}
    assert "could not be opened" in report["snapshot"]["statistics_connection"], report["snapshot"]


# -- SQLite -------------------------------------------------------------------------------------------

SQLITE_SCRIPT = """
CREATE TABLE a_typed (id INTEGER PRIMARY KEY, n DECIMAL(10,2), d DATE, ts TIMESTAMP, b BOOLEAN, v VARCHAR(20),
                      c CHAR(5), k TEXT COLLATE NOCASE CHECK (k IN ('A', 'B')));
CREATE TABLE b_mixed (id INTEGER PRIMARY KEY, n INTEGER, v TEXT);
CREATE TABLE c_nul (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE d_frac (id INTEGER PRIMARY KEY, ts TIMESTAMP);
CREATE TABLE e_baddate (id INTEGER PRIMARY KEY, d DATE);
CREATE TABLE f_reals (id INTEGER PRIMARY KEY, n DECIMAL(10,2));
CREATE TABLE g_nokey (v TEXT, n INTEGER);
CREATE TABLE h_bool (id INTEGER PRIMARY KEY, b BOOLEAN);
CREATE TABLE i_foreign (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE j_nocase (id INTEGER PRIMARY KEY, k TEXT COLLATE NOCASE CHECK (k IN ('A', 'B')));
CREATE TABLE k_order (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE l_stamps (id INTEGER PRIMARY KEY, ts TIMESTAMP, d DATE, n DECIMAL(8,3), i INTEGER);
CREATE TABLE m_stamp_sep (id INTEGER PRIMARY KEY, ts TIMESTAMP);
CREATE TABLE n_stamp_point (id INTEGER PRIMARY KEY, ts TIMESTAMP);
CREATE TABLE o_stamp_24 (id INTEGER PRIMARY KEY, ts TIMESTAMP);
CREATE TABLE p_date_short (id INTEGER PRIMARY KEY, d DATE);
CREATE TABLE q_frac_zeros (id INTEGER PRIMARY KEY, ts TIMESTAMP);
CREATE TABLE r_frac_eight (id INTEGER PRIMARY KEY, ts TIMESTAMP);
CREATE TABLE s_rtrim (id INTEGER PRIMARY KEY, v TEXT COLLATE RTRIM, c CHAR(3) COLLATE RTRIM);
CREATE TABLE s_rtrim_date (id INTEGER PRIMARY KEY, d DATE COLLATE RTRIM);
CREATE TABLE u_long (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE v_stamp_nul (id INTEGER PRIMARY KEY, ts TIMESTAMP);
CREATE TABLE w_rtrim_edge (id INTEGER PRIMARY KEY, v TEXT COLLATE RTRIM NOT NULL);
""" + f"CREATE TABLE t_wide (id INTEGER PRIMARY KEY, {', '.join(f'v{i} TEXT, n{i} INTEGER' for i in range(70))});\n"
SQLITE_ROWS: dict[str, list[tuple[Any, ...]]] = {
    "a_typed": [(1, 845.1, "2024-02-29", "2024-02-29 10:00:00", 1, "", "ab   ", "A"),
                (2, 12, "0999-01-01", "0999-01-01T00:00:00.120000", 0, " kant\xa0", "     ", "B"),
                (3, None, None, None, None, None, None, None),
                (4, -0.5, "1970-01-01", "1970-01-01 23:59:59.1234567", 1, 'x;"y"\r\nz', "c", "B")],
    "b_mixed": [(1, 5, "tekst"), (2, "fem", 7)],
    "c_nul": [(1, "a\x00b"), (2, "c")],
    "d_frac": [(1, "2024-01-01 10:00:00.123456789")],
    "e_baddate": [(1, "2024-02-30"), (2, "2024-01-01")],
    "f_reals": [(1, 0.30000000000000004), (2, 1e15), (3, 2.5)],
    "g_nokey": [("b", 2), ("a", 1), ("a", 1), (None, None), ("", 0)],
    "h_bool": [(1, 2), (2, 1)],
    "i_foreign": [(1, "Čapek"), (2, "ren")],
    "j_nocase": [(1, "b"), (2, "A")],
    "k_order": [(i, f"v{20 - i}") for i in range(1, 13)],
    # the longest timestamp text is not the longest stored one (zeros of a fraction go); numbers whose
    # longest text is the smallest (most negative) value's, integers mixed with REALs
    "l_stamps": [(1, "2024-01-01 10:00:00.000000", "0001-01-01", -99.5, -12345),
                 (2, "2024-01-01T10:00:00.5", "2024-12-31", 999.25, 99999),
                 (3, "0001-01-01 00:00:00", None, 5, None)],
    "m_stamp_sep": [(1, "2024-01-01X10:00:00")],
    "n_stamp_point": [(1, "2024-01-01 10:00:00.")],
    "o_stamp_24": [(1, "2024-01-01 24:00:00")],
    "p_date_short": [(1, "2024-1-01")],
    # eight or nine fraction digits whose last are zeros (seven or fewer without them); an all-zero fraction
    "q_frac_zeros": [(1, "2024-01-01 10:00:00.12345670"), (2, "2024-01-01 10:00:00.100000000"),
                     (3, "2024-01-01T10:00:00.000"), (4, "2024-01-01 10:00:00")],
    "r_frac_eight": [(1, "2024-01-01 10:00:00.12345678")],
    # blanks equal the empty text in an RTRIM collation, not in the archive
    "s_rtrim": [(1, "  ", "   "), (2, "", ""), (3, None, None), (4, "a ", " b ")],
    "s_rtrim_date": [(1, "2024-01-01 "), (2, "2024-01-02")],
    "u_long": [(1, "kort"), (2, "lang " * 600), (3, None)],
    # SQLite's length() and substr() stop at a NUL: a time stamp that only looks whole to them
    "v_stamp_nul": [(1, "2024-01-01 10:00:00\x00 etter"), (2, "2024-01-01 10:00:00.5\x00x")],
    # a blank at the edge, which an RTRIM collation does not see (fixed width: the field is ambiguous)
    "w_rtrim_edge": [(1, "a "), (2, "b")],
    # more fields than one SQLite function takes arguments (a record is built in groups)
    "t_wide": [(r, *(v for i in range(70)
                     for v in ((f"t{r};{i}" if (r + i) % 3 else None), (None if (r + i) % 4 == 0 else r * i))))
               for r in range(1, 6)],
}


@pytest.fixture(scope="module")
def sqlite_edges(tmp_path_factory) -> Path:
    return sqlite_file(tmp_path_factory.mktemp("fastsqlite") / "kanter.sqlite", SQLITE_SCRIPT, SQLITE_ROWS)


@pytest.mark.parametrize("charset", ["ISO-8859-1", "UTF-8"])
def test_sqlite_edge_cases(sqlite_edges: Path, tmp_path: Path, charset: str) -> None:
    paths = both_paths(sqlite_edges, tmp_path, "[charset]\nutf8_fallback = true\n", "--charset", charset)
    fixed = both_paths(sqlite_edges, tmp_path / "fixed", "[charset]\nutf8_fallback = true\n", "--charset", charset,
                       "--format", "fixed")
    assert {t for t, (p, _) in fixed.items() if p == "server"} == {t for t, (p, _) in paths.items() if p == "server"}
    server = {t for t, (p, _) in paths.items() if p == "server"}
    assert {"a_typed", "g_nokey", "k_order", "l_stamps", "q_frac_zeros", "s_rtrim", "t_wide", "w_rtrim_edge"} <= server, paths
    assert {"m_stamp_sep", "n_stamp_point", "o_stamp_24", "p_date_short"}.isdisjoint(server), paths
    exact = {t: json.dumps(why) for t, (p, why) in paths.items() if p == "exact"}
    assert "another type" in exact["b_mixed"]
    assert "NUL" in exact["c_nul"]
    assert "texts over the long-text limit" in exact["u_long"]
    assert "do not fit" in exact["s_rtrim_date"]  # a blank after the date, which RTRIM would not see
    assert "only the exact path reads" in exact["v_stamp_nul"]
    assert "d_frac" in exact and "r_frac_eight" in exact  # more than seven digits: only the exact path reads them
    assert "do not fit" in exact["e_baddate"] and "do not fit" in exact["h_bool"]
    assert "REAL" in exact["f_reals"]
    assert "code list" in exact["j_nocase"]  # 'b' = 'B' in its collation, not in the archive's
    assert ("cannot hold" in exact["i_foreign"]) if charset == "ISO-8859-1" else "i_foreign" in server


@pytest.mark.parametrize("charset", ["ISO-8859-1", "UTF-8"])
def test_sqlite_bytes_that_are_not_utf8(tmp_path: Path, charset: str) -> None:
    """SQLite keeps whatever bytes a text was given; the fast path reads each record's bytes as they
    are, so it proves them UTF-8 itself: bytes that are not send the table to the exact path, which
    stops with one error naming table, column and row key and what to do, and no file is written."""
    import sqlite3

    db = tmp_path / "bad.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, navn TEXT)")
    con.execute("INSERT INTO t VALUES (1, 'ok'), (2, CAST(x'41804142' AS TEXT)), (3, 'ærlig')")
    con.commit()
    con.close()
    outputs = []
    for name, profile in (("server", ""), ("exact", _exact(""))):
        prof = tmp_path / f"{name}.toml"
        prof.write_text(profile, encoding="utf-8")
        r: Any = run("extract", db, "--out", tmp_path / name, "--date", DATE, "-q", "--profile", prof, "--charset", charset)
        assert r.exit_code != 0 and "t.navn [id=2]" in r.output and "b'A\\x80AB'" in r.output, r.output
        assert "[tables.t.columns.navn] exclude" in r.output, r.output
        assert not (tmp_path / name / "content" / "t.txt").exists()
        outputs.append(r.output)
    assert outputs[0] == outputs[1]


def test_sqlite_statistics_shares() -> None:
    """The statistics of a table are counted in shares of its columns, one query each: every column
    in exactly one share, the fields that are not counted (the record number, a length) in the first,
    the fields in their order, the costliest spread first."""
    from dialects.sqlite_rendering import _shares
    from extractor.model import RenderField, RenderRequest

    fields = (RenderField(None, "integer"), *(RenderField(f"c{i}", "string") for i in range(7)),
              RenderField("c3", "integer", length_of=True))
    request = RenderRequest(fields, ("c0",), "UTF-8", 2047)
    cost = {f"c{i}": c for i, c in enumerate((50, 10, 10, 40, 5, 5, 30))}
    for n in range(1, 10):
        shares = _shares(request, n, lambda f: cost[f.column])
        assert len(shares) == min(n, 7)
        counted = [f.column for s in shares for f in s.fields if f.column is not None and not f.length_of]
        assert sorted(counted) == sorted(cost)
        assert all(s.fields == tuple(f for f in fields if f in s.fields) for s in shares)
        assert fields[0] in shares[0].fields and fields[-1] in shares[0].fields
        assert all(s.charset == "UTF-8" and s.order_by == ("c0",) for s in shares)
    weights = sorted(sum(cost[f.column] for f in s.fields if f.column and not f.length_of)
                     for s in _shares(request, 2, lambda f: cost[f.column]))
    assert weights == [75, 75]


def _counting_processes(parent: int) -> list[int]:
    """The pids of ``sqlite_counter`` processes started by ``parent``."""
    out = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"sqlite_counter.py") for a in argv) and str(parent).encode() in argv:
            out.append(int(entry.name))
    return out


def _cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (-1 when it is gone, or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    if fields[0] == "Z":
        return -1
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def sqlite_big(tmp_path_factory) -> Path:
    """A table whose statistics take a while to count."""
    import sqlite3

    db = tmp_path_factory.mktemp("fastbig") / "stor.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE stor (id INTEGER PRIMARY KEY, a TEXT, b TEXT, ts TIMESTAMP)")
    con.execute("CREATE TABLE liten (id INTEGER PRIMARY KEY, a TEXT)")
    con.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
                "INSERT INTO stor SELECT i, 'rad ' || i, ' kant ' || i, '2024-01-01 10:00:00.' || (i % 1000) FROM n")
    con.execute("INSERT INTO liten VALUES (1, 'en'), (2, 'to')")
    con.commit()
    con.close()
    return db


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_sqlite_statistics_processes_stop_and_end(sqlite_big: Path) -> None:
    """The statistics of a SQLite table are counted by processes of their own (``sqlite_counter``; in
    threads, SQLite's process-wide allocation lock made them wait for each other): a count that is
    stopped kills its process and fails, the next table's count gets a new one, a query SQLite
    refuses is one clear error, and none is left once the adapter is closed."""
    from dialects import open_source
    from dialects.rendering import Counting
    from dialects.sqlite_rendering import _Processes
    from extractor.errors import SourceError
    from extractor.extract import extracted_tables
    from extractor.pipeline import Options, open_profile, reflect_and_plan
    from extractor.rendered import render_request

    dialect = open_source(str(sqlite_big))
    try:
        with dialect.snapshot():
            _, plan = reflect_and_plan(dialect, open_profile(None), Options())
            tables = {}
            for tp in extracted_tables(plan):
                request, why = render_request(plan, tp)
                assert request is not None and tp.source is not None, why
                tables[tp.name] = (tp.source, request)
            pending = dialect.rendered_statistics_beside(*tables["stor"])
            assert isinstance(pending, Counting)
            started = _counting_processes(os.getpid())
            assert started, "no counting process"
            pending.abandon()
            with pytest.raises(SourceError, match="counting process ended"):
                pending.result()
            assert dialect.rendered_statistics_beside(*tables["liten"]).result().rows == 2
            again = _counting_processes(os.getpid())
            assert not set(started) & set(again) or len(started) > 1, (started, again)
            stats = dialect.rendered_statistics_beside(*tables["stor"]).result()
            assert stats.rows == 2000000 and stats.columns["b"].edge_blank and stats.columns["ts"].max_length == 23
            processes = dialect._processes  # type: ignore[attr-defined]
            assert isinstance(processes, _Processes)
            with pytest.raises(SourceError, match="no such table"):
                processes.ask(processes.ready(0), (f"file:{sqlite_big}?mode=ro", ()), "SELECT count(*) FROM ingen")
        assert _counting_processes(os.getpid()) == []
    finally:
        dialect.close()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_sqlite_statistics_processes_die_with_uttrekk(sqlite_big: Path, tmp_path: Path) -> None:
    """``kill -9`` of uttrekk while a count runs leaves no counting process behind (the kernel ends
    it with the thread that started it: ``PR_SET_PDEATHSIG``)."""
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    proc = subprocess.Popen([sys.executable, "-m", "extractor", "extract", str(sqlite_big), "--out", str(tmp_path / "x"),
                             "-q"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (counting := [pid for pid in _counting_processes(proc.pid) if _cpu_seconds(pid) > 0.2]):
            assert proc.poll() is None and time.monotonic() < deadline, "no count was seen running"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # the count has some seconds left: it is in the query, not starting
        proc.wait()
        deadline = time.monotonic() + 1
        while any(_cpu_seconds(pid) >= 0 for pid in counting):
            assert time.monotonic() < deadline, f"counting processes {counting} outlived uttrekk"
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- statistics: one computation, two paths ----------------------------------------------------------


def _scans(source: str, profile: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each table's statistics as ``extract_scanning`` gathers them, with the path it took."""
    from dialects import open_source
    from extractor.extract import extract_scanning, extracted_tables
    from extractor.keys import settle
    from extractor.large_objects import settle_large_objects
    from extractor.pipeline import Options, open_profile, reflect_and_plan
    from extractor.scan import rows_of

    out: dict[str, tuple[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="uttrekk_scan_") as tmp:
        prof = Path(tmp) / "p.toml"
        prof.write_text(profile, encoding="utf-8")
        dialect = open_source(source)
        try:
            with dialect.snapshot():
                _, plan = reflect_and_plan(dialect, open_profile(prof), Options())
                plan = settle_large_objects(settle(plan, dialect), dialect)
                for tp in extracted_tables(plan):
                    content, work = Path(tmp) / tp.file_name / "c", Path(tmp) / tp.file_name / "w"
                    content.mkdir(parents=True)
                    work.mkdir(parents=True)
                    scanned, done = extract_scanning(plan, tp, rows_of(dialect), content, work)
                    out[tp.name] = (done.rendering, {"scan": asdict(scanned.scan), "codes": scanned.codes,
                                                     "lobs": (scanned.lob_count, scanned.lob_widths)})
        finally:
            dialect.close()
    return out


def _same_statistics(source: str, profile: str) -> int:
    """The two paths' statistics are equal, table by table; returns how many the server rendered."""
    fast, exact = _scans(source, profile), _scans(source, _exact(profile))
    assert {t: s for t, (_, s) in fast.items()} == {t: s for t, (_, s) in exact.items()}
    assert all(p == "exact" for p, _ in exact.values())
    return sum(p == "server" for p, _ in fast.values())


def test_statistics_are_the_same_on_both_paths(pg_edges: str, sqlite_edges: Path, example_db: Path) -> None:
    assert _same_statistics(pg_edges, PG_PROFILE) >= 6
    assert _same_statistics(str(sqlite_edges), "[charset]\nutf8_fallback = true\n") >= 2
    assert _same_statistics(str(example_db), EXAMPLE_PROFILE.read_text(encoding="utf-8")) >= 2


@settings(HYP, max_examples=30)
@given(databases(), st.sampled_from(["ISO-8859-1", "UTF-8"]), st.sampled_from(["delimited", "fixed"]))
def test_generated_tables_give_the_same_files_and_statistics(spec: DbSpec, charset: str, fmt: str) -> None:
    with tempfile.TemporaryDirectory(prefix="uttrekk_fastgen_") as tmp:
        db = Path(tmp) / "src.sqlite"
        spec.build(db)
        profile = profile_text(spec) + ("\n[charset]\nutf8_fallback = true\n" if spec.charset_mode != "map" else "")
        if charset == "UTF-8":
            profile = profile.replace('encoding = "ISO-8859-1"', 'encoding = "UTF-8"')
            if "encoding" not in profile:
                profile = profile.replace("[charset]\n", '[charset]\nencoding = "UTF-8"\n')
        profile = profile.replace("[output]\n", f'[output]\nformat = "{fmt}"\n', 1)
        _same_statistics(str(db), profile)
        both_paths(db, Path(tmp), profile)


def test_the_whitespace_list_is_pythons() -> None:
    import sys

    from dialects.rendering import PYTHON_WHITESPACE

    assert PYTHON_WHITESPACE == tuple(ord(c) for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


# -- statistics: one computation, the scan and the writing pass -----------------------------------------


def _scan_and_watch(source: str, profile: str) -> list[str]:
    """Tables whose statistics differ between the scan run alone (``scan_table``, as before fixed width and
    in ``inspect``) and the statistics gathered while writing (``extract_scanning`` on the exact path)."""
    from dialects import open_source
    from extractor.extract import extract_scanning, extracted_tables
    from extractor.keys import settle
    from extractor.large_objects import settle_large_objects
    from extractor.pipeline import Options, open_profile, reflect_and_plan
    from extractor.scan import rows_of, scan_table

    differ: list[str] = []
    with tempfile.TemporaryDirectory(prefix="uttrekk_watch_") as tmp:
        prof = Path(tmp) / "p.toml"
        prof.write_text(_exact(profile), encoding="utf-8")
        dialect = open_source(source)
        try:
            with dialect.snapshot():
                _, plan = reflect_and_plan(dialect, open_profile(prof), Options())
                plan = settle_large_objects(settle(plan, dialect), dialect)
                assert plan.format != "fixed"  # fixed width scans first: there is nothing to compare
                for tp in extracted_tables(plan):
                    content, work = Path(tmp) / tp.file_name / "c", Path(tmp) / tp.file_name / "w"
                    content.mkdir(parents=True)
                    work.mkdir(parents=True)
                    alone = scan_table(plan, tp, rows_of(dialect))
                    written, _ = extract_scanning(plan, tp, rows_of(dialect), content, work)
                    a, w = asdict(alone.scan), asdict(written.scan)
                    differ += [f"{tp.name}.{c}: {a['columns'][c]} != {w['columns'][c]}"
                               for c in a["columns"] if a["columns"][c] != w["columns"][c]]
                    differ += [f"{tp.name} {k}: {a[k]} != {w[k]}" for k in a if k != "columns" and a[k] != w[k]]
                    if alone.codes != written.codes:
                        differ.append(f"{tp.name} codes: {alone.codes} != {written.codes}")
        finally:
            dialect.close()
    return differ


@pytest.mark.parametrize("fmt", ["delimited", "xml", "siard"])
def test_the_scan_and_the_writing_pass_count_alike(pg_edges: str, sqlite_edges: Path, example_db: Path,
                                                  fmt: str) -> None:
    """Both count with ``scan.ColumnWatch``: the same statistics whether a table is scanned first or while
    written, values that stop the run included (characters XML cannot carry, unmappable ones). SIARD too:
    its time stamps are rendered in UTC by the style both use (the PostgreSQL edges hold offsets)."""
    out = f'[output]\nformat = "{fmt}"\n'
    if fmt == "siard":  # its time stamps, offsets included, must agree; its binary cells are files of their own
        # (no LOB path field), which the scan still measures as a path: that length alone may differ
        differ = _scan_and_watch(pg_edges, PG_PROFILE + out)
        assert [d.split(":")[0] for d in differ] == ["j_bytes.b"], differ
        scanned, written = (ast.literal_eval(side) for side in differ[0].split(": ", 1)[1].split(" != "))
        assert {k for k in scanned if scanned[k] != written[k]} == {"max_length"}, differ
        return
    assert _scan_and_watch(pg_edges, PG_PROFILE + out) == []
    assert _scan_and_watch(str(sqlite_edges), "[charset]\nutf8_fallback = true\n" + out) == []
    assert _scan_and_watch(str(example_db), out + EXAMPLE_PROFILE.read_text(encoding="utf-8")) == []


@settings(HYP, max_examples=20)
@given(databases(), st.sampled_from(["delimited", "xml"]))
def test_generated_tables_count_alike_scanned_or_written(spec: DbSpec, fmt: str) -> None:
    with tempfile.TemporaryDirectory(prefix="uttrekk_watchgen_") as tmp:
        db = Path(tmp) / "src.sqlite"
        spec.build(db)
        profile = profile_text(spec) + ("\n[charset]\nutf8_fallback = true\n" if spec.charset_mode != "map" else "")
        profile = profile.replace("[output]\n", f'[output]\nformat = "{fmt}"\n', 1)
        assert _scan_and_watch(str(db), profile) == []
