"""MariaDB's fast path (``dialects/mysql_rendering.py``) against the exact path: byte-identical files
and identical statistics on a database of edge cases, each table on the path the report says, the
rendered file read in the run's own snapshot, and the bulk reader of PyMySQL's packets (which reads
PyMySQL internals: these tests break if they change).

Edge cases: every integer type with its extremes (``BIGINT UNSIGNED`` max), ``DECIMAL`` with scale and
negative and zero values, ``ZEROFILL``, ``DOUBLE`` (17 digits, -0, exponents), ``DATE``/``DATETIME(6)``/
``TIMESTAMP(3)``/``TIME`` with fractions and years before 1000, ``TINYINT(1)`` (and one holding 2),
``YEAR``, texts with ``;`` ``"`` CR LF, blanks at an edge (NBSP, tab), empty text against NULL,
``CHAR`` padding, ``ENUM`` and CHECK code lists, a lax table's bad ENUM value and zero dates, latin1
columns, characters latin1 cannot hold (mapped and not), NUL, texts over the long-text limit,
records over 250 bytes, a table without a key, a filter and a profile query.
"""

from __future__ import annotations

import json
from pathlib import Path

import pymysql
import pytest

from tests.conftest import fresh_database, run_sql
from tests.test_fast_path import _same_statistics, both_paths

MD_TABLES = [
    "CREATE TABLE a_plain (id int PRIMARY KEY, ti tinyint, si smallint, mi mediumint, bi bigint,"
    " bu bigint unsigned, n decimal(12,2), n0 decimal(20,0), n5 decimal(10,5), dbl double, d date, dt datetime(6),"
    " dt0 datetime, ts timestamp(3) NULL, t time, t6 time(6), bo tinyint(1), y year, v varchar(20), tx text,"
    " c char(6), e enum('rod','gronn'), k varchar(4) CHECK (k IN ('A', 'B'))) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    "INSERT INTO a_plain VALUES"
    " (1, -128, -32768, -8388608, -9223372036854775808, 18446744073709551615, -0.50, 12345678901234567890, 0.00001,"
    " 0.30000000000000004, '0999-12-31', '0999-12-31 23:59:59.000001', '2024-02-29 10:00:00', '2024-02-29 10:00:00.120',"
    " '23:59:59', '00:00:00.500000', 1, 2024, '', 'x;y\"z', 'ab  ', 'rod', 'A'),"
    " (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL),"
    " (3, 0, 0, 0, 0, 0, 0.00, 0, -1.5, -2.5e-5, '2024-02-29', '1970-01-01 00:00:00', '1970-01-01 00:00:00',"
    " '1970-01-02 00:00:00', '00:00:00', '12:34:56.123456', 0, 1901, ' kant', CONCAT('linje1', CHAR(13), CHAR(10),"
    " 'linje2', CHAR(10), '\"sitat\"'), '      ', 'gronn', 'B'),"
    " (4, 127, 7, 7, 7, 7, 1234567890.10, -1, 0, 123456789012345.6, '1000-01-01', '2024-06-01 12:00:00.500000',"
    " '9999-12-31 23:59:59', '2038-01-19 03:14:07.999', '12:00:00', '23:59:59.999999', 1, 2155,"
    " CONCAT('tab', CHAR(9), 'x', _utf8mb4 X'C2A0'), 'é ÿ', 'c', NULL, NULL),"
    " (5, 1, 1, 1, 1, 1, 0.01, 1, 99999.99999, 1e14, '2000-01-01', '2000-01-01 00:00:00.100000', NULL, NULL, NULL,"
    " NULL, NULL, NULL, '   ', ' ', 'x', 'rod', 'A')",
    "CREATE TABLE b_floats (id int PRIMARY KEY, f float, d double)",
    "INSERT INTO b_floats VALUES (1, 0.1, 0.1), (2, 1.5, 2.5)",
    "CREATE TABLE c_exponent (id int PRIMARY KEY, d double)",
    "INSERT INTO c_exponent VALUES (1, 1e20), (2, 1.5), (3, 1.5e-300), (4, 5e-324)",
    "CREATE TABLE d_nokey (v varchar(10), n int)",
    "INSERT INTO d_nokey VALUES ('b', 2), ('a', 1), ('a', 1), (NULL, NULL), ('', 0)",
    "CREATE TABLE e_long (id int PRIMARY KEY, v text)",
    "INSERT INTO e_long VALUES (1, REPEAT('x', 2100)), (2, 'kort')",
    "CREATE TABLE f_foreign (id int PRIMARY KEY, v varchar(40))",
    "INSERT INTO f_foreign VALUES (1, 'Čapek'), (2, 'ren')",
    "CREATE TABLE g_bool (id int PRIMARY KEY, b tinyint(1))",
    "INSERT INTO g_bool VALUES (1, 2), (2, 1)",
    "CREATE TABLE h_bytes (id int PRIMARY KEY, b varbinary(10), bt bit(3))",
    "INSERT INTO h_bytes VALUES (1, X'00FF', b'101'), (2, NULL, NULL)",
    "CREATE TABLE i_nul (id int PRIMARY KEY, v varchar(10))",
    "INSERT INTO i_nul VALUES (1, CONCAT('a', CHAR(0), 'b')), (2, 'c')",
    "CREATE TABLE j_time (id int PRIMARY KEY, t time)",
    "INSERT INTO j_time VALUES (1, '25:00:00'), (2, '-01:00:00')",
    "CREATE TABLE k_latin (id int PRIMARY KEY, v varchar(20) CHARACTER SET latin1, c char(4) CHARACTER SET latin1)",
    "INSERT INTO k_latin VALUES (1, 'blåbær', 'æ'), (2, 'ok', NULL), (3, 'a;b \"c\" x', ''), (4, '', 'ø ')",
    "CREATE TABLE l_order (id int PRIMARY KEY, d date, v varchar(10))",
    "INSERT INTO l_order SELECT seq, DATE_ADD('2020-01-01', INTERVAL MOD(seq * 3, 5) DAY), CONCAT('v', 100 - seq)"
    " FROM seq_1_to_12",
    "CREATE TABLE m_empty (id int PRIMARY KEY, v text, d date)",
    "CREATE TABLE r_dash (id int PRIMARY KEY, v varchar(20))",
    "INSERT INTO r_dash VALUES (1, 'tankestrek – her'), (2, 'ren')",
    "CREATE TABLE s_doubles (id int PRIMARY KEY, d double)",
    "INSERT INTO s_doubles VALUES (1, 0.1), (2, -2.5e-5), (3, 123456789012345.6), (4, 0.30000000000000004),"
    " (5, '-0'), (6, NULL), (7, 1e14), (8, -1.5)",
    "CREATE TABLE t_wide (id int PRIMARY KEY, v text)",
    "INSERT INTO t_wide SELECT seq, REPEAT(CONCAT('ø', seq, ';'), 150) FROM seq_1_to_30",
    "CREATE TABLE n_zerofill (id int PRIMARY KEY, z int(5) zerofill, dz decimal(6,2) zerofill)",
    "INSERT INTO n_zerofill VALUES (1, 42, 1.5)",
    "CREATE TABLE o_json (id int PRIMARY KEY, j json)",
    "INSERT INTO o_json VALUES (1, '{\"a\": 1}')",
    "CREATE TABLE u_nbsp (id int PRIMARY KEY, v varchar(10), l varchar(10) CHARACTER SET latin1)",
    "INSERT INTO u_nbsp VALUES (1, CONCAT('a', _utf8mb4 X'C2A0'), 'x'), (2, 'b', CONCAT('y', _utf8mb4 X'C2A0'))",
    "CREATE TABLE v_tab (id int PRIMARY KEY, v text)",
    "INSERT INTO v_tab VALUES (1, CONCAT(CHAR(9), 'a')), (2, CONCAT('b', _utf8mb4 X'C285'))",
    "SET SESSION sql_mode = ''",
    "CREATE TABLE p_zero (id int PRIMARY KEY, d date, dt datetime)",
    "INSERT INTO p_zero VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '2024-01-01', '2024-01-01 00:00:00')",
    "CREATE TABLE q_badenum (id int PRIMARY KEY, e enum('x','y'))",
    "INSERT INTO q_badenum VALUES (1, 'z'), (2, 'x')",
]

MD_PROFILE = """
[charset]
utf8_fallback = true

[charset.map]
"\\u2013" = "-"

[tables.d_nokey]
where = "n IS NULL OR n < 5"
filter_reason = "testing a filter"

[queries.q_sum]
sql = "SELECT id, CONCAT(v, '!') AS v, n, dt FROM a_plain"
primary_key = ["id"]
"""

SERVER = {"a_plain", "d_nokey", "k_latin", "l_order", "m_empty", "n_zerofill", "o_json", "q_badenum", "q_sum",
          "s_doubles", "t_wide", "u_nbsp", "v_tab"}


@pytest.fixture(scope="module")
def md_edges():
    with fresh_database("mariadb", "uttrekk_fastmd") as url:
        run_sql(url, MD_TABLES)
        yield url.render_as_string(hide_password=False)


def _paths(paths: dict) -> tuple[set[str], dict[str, str]]:
    return ({t for t, (p, _) in paths.items() if p == "server"},
            {t: json.dumps(why) for t, (p, why) in paths.items() if p == "exact"})


@pytest.mark.parametrize("charset", ["ISO-8859-1", "UTF-8"])
def test_mariadb_edge_cases(md_edges: str, tmp_path: Path, charset: str) -> None:
    server, exact = _paths(both_paths(md_edges, tmp_path, MD_PROFILE, "--charset", charset))
    expected = SERVER | ({"f_foreign", "r_dash"} if charset == "UTF-8" else set())
    assert server == expected, exact
    assert "FLOAT" in exact["b_floats"]  # single precision: the exact path's float32 digits
    assert "exponent" in exact["c_exponent"]
    assert "long-text limit" in exact["e_long"]
    assert "do not fit" in exact["g_bool"] and "do not fit" in exact["j_time"] and "do not fit" in exact["p_zero"]
    assert "binary" in exact["h_bytes"]
    assert "NUL" in exact["i_nul"]
    if charset == "ISO-8859-1":  # the exact path maps the dash (and writes Č in UTF-8): the server only refuses
        assert "cannot hold" in exact["f_foreign"] and "cannot hold" in exact["r_dash"]
    content = tmp_path / "server" / "content"
    first = (content / "a_plain.txt").read_bytes().splitlines()[0].split(b";")
    assert first[:6] == [b"1", b"-128", b"-32768", b"-8388608", b"-9223372036854775808", b"18446744073709551615"]
    assert first[6:12] == [b"-0,50", b"12345678901234567890", b"0,00001", b"0,30000000000000004", b"0999-12-31",
                           b"0999-12-31T23:59:59.000001"]
    assert b'"x;y""z"' in (content / "a_plain.txt").read_bytes()
    assert (content / "n_zerofill.txt").read_bytes() == b"1;42;1,50\r\n"


def test_mariadb_fixed_width(md_edges: str, tmp_path: Path) -> None:
    """Fixed width: widths (and ``_lengde`` fields) from the statistics, fields padded by the server."""
    server, exact = _paths(both_paths(md_edges, tmp_path, MD_PROFILE, "--format", "fixed"))
    assert server == SERVER, exact


def test_mariadb_statistics_are_the_same_on_both_paths(md_edges: str) -> None:
    assert _same_statistics(md_edges, MD_PROFILE) == len(SERVER)


def test_the_rendered_file_is_read_in_the_runs_snapshot(md_edges: str) -> None:
    """Rows another session commits after the run's snapshot began are in neither the statistics nor the
    file: both are read on the snapshot's connection."""
    from sqlalchemy.engine import make_url

    from dialects import open_source
    from extractor.extract import extracted_tables
    from extractor.pipeline import Options, open_profile, reflect_and_plan
    from extractor.rendered import render_request

    url = make_url(md_edges)
    dialect = open_source(md_edges)
    other = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                            database=url.database, autocommit=True)
    try:
        with dialect.snapshot():
            _, plan = reflect_and_plan(dialect, open_profile(None), Options(tables=("l_order",)))
            tp = next(iter(extracted_tables(plan)))
            request, why = render_request(plan, tp)
            assert request is not None and tp.source is not None, why
            other.cursor().execute("INSERT INTO l_order VALUES (100, '2020-01-01', 'ny')")
            stats = dialect.rendered_statistics(tp.source, request)
            records = b"".join(data for data, _ in dialect.rendered_records(tp.source, request))
            assert stats.rows == 12 and records.count(b"\r\n") == 12 and b"ny" not in records
    finally:
        other.cursor().execute("DELETE FROM l_order WHERE id = 100")
        other.close()
        dialect.close()


# -- the bulk reader of PyMySQL's packets ---------------------------------------------------------------


@pytest.fixture()
def md_connection(md_edges: str):
    from sqlalchemy.engine import make_url

    url = make_url(md_edges)
    conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                           database=url.database, charset="utf8mb4")
    conn.begin()
    yield conn
    conn.close()


def _read(conn, sql: str, stop: int | None = None) -> list[bytes]:
    from dialects.mysql_rendering import _packets

    conn.query(sql, unbuffered=True)
    out: list[bytes] = []
    packets = _packets(conn, "t", "test")
    for part in packets:
        out += part
        if stop is not None and len(out) >= stop:
            packets.close()
            break
    return out


def _still_usable(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM l_order")
        assert cur.fetchone() == (12,)


def test_packets_of_every_length(md_connection) -> None:
    """Values under 251 bytes, up to 64 KB and over (one-, two- and three-byte lengths), each whole,
    in order, over many socket reads; the connection serves the next statement."""
    sizes = [0, 1, 250, 251, 252, 65535, 65536, 300000, 3]
    sql = " UNION ALL ".join(f"SELECT {i} AS k, REPEAT('ø', {n}) AS v" for i, n in enumerate(sizes))
    values = _read(md_connection, f"SELECT v FROM ({sql}) AS s ORDER BY k")
    assert values == ["ø".encode() * n for n in sizes]
    many = _read(md_connection, "SELECT CONCAT(seq, ';x') FROM seq_1_to_200000")
    assert len(many) == 200000 and many[-1] == b"200000;x" and many[0] == b"1;x"
    _still_usable(md_connection)


def test_an_error_in_the_middle_is_one_clear_error(md_connection) -> None:
    """The server stops after some rows (an error packet): ``SourceError`` with its message; the
    connection and its transaction stay usable."""
    from extractor.errors import SourceError

    with md_connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM d_nokey")  # the transaction has read something
    sql = "SELECT CONCAT(seq, IF(seq = 150000, (SELECT v FROM d_nokey), '')) FROM seq_1_to_200000"
    with pytest.raises(SourceError, match="more than 1 row"):
        _read(md_connection, sql)
    _still_usable(md_connection)


def test_an_early_stop_reads_the_rest(md_connection) -> None:
    values = _read(md_connection, "SELECT CONCAT('rad ', seq) FROM seq_1_to_300000", stop=10)
    assert values[:2] == [b"rad 1", b"rad 2"]
    _still_usable(md_connection)


def test_a_result_of_several_columns_is_refused_cleanly(md_connection) -> None:
    from extractor.errors import SourceError

    with pytest.raises(SourceError, match="one-column"):
        _read(md_connection, "SELECT id, v FROM l_order")
    _still_usable(md_connection)
