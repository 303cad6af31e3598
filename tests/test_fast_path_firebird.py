"""Firebird's fast path (``dialects/firebird_rendering.py``) against the exact path on the real
Firebird server: byte-identical content folders in both charsets and both flat formats, the tables
the server renders on the server path, the others with their reason.

Edge cases: integers at their limits, negative, zero and large scaled decimals, years 1 and 999,
timestamps and times with and without fractions, booleans, texts holding ``;`` ``"`` CR LF, blanks
at an edge (a no-break space too), empty text against NULL, CHAR padding, an ISO8859_1 column, a
character LATIN1 cannot hold, a NUL, a text over the long-text limit, a record longer than
Firebird's longest string, BLOBs, floats, an array, a computed column, an empty table, a table
without a key and one of 120 texts (more SQL than Firebird 3 takes).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.test_fast_path import _same_statistics, both_paths
from tests.test_servers import ADMIN_URLS, _drop_firebird, _fresh_firebird

pytestmark = pytest.mark.skipif("firebird" not in ADMIN_URLS, reason="no Firebird server")

NL, CR, NUL = "ASCII_CHAR(10)", "ASCII_CHAR(13)", "ASCII_CHAR(0)"

DDL = [
    "CREATE TABLE a_plain (id INTEGER NOT NULL PRIMARY KEY, sm SMALLINT, i INTEGER, bi BIGINT, n NUMERIC(12,2), "
    "n6 NUMERIC(18,6), n4 NUMERIC(4,1), n0 NUMERIC(18,0), d DATE, ts TIMESTAMP, tm TIME, b BOOLEAN, v VARCHAR(40), "
    "c CHAR(6), l VARCHAR(20) CHARACTER SET ISO8859_1, lc CHAR(4) CHARACTER SET ISO8859_1)",
    "CREATE TABLE b_foreign (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(30))",
    "CREATE TABLE c_long (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(3000))",
    "CREATE TABLE d_blob (id INTEGER NOT NULL PRIMARY KEY, b BLOB SUB_TYPE BINARY)",
    "CREATE TABLE m_textblob (id INTEGER NOT NULL PRIMARY KEY, t BLOB SUB_TYPE TEXT)",
    "CREATE TABLE e_nokey (v VARCHAR(10), n INTEGER, d DATE)",
    "CREATE TABLE f_float (id INTEGER NOT NULL PRIMARY KEY, dp DOUBLE PRECISION, f FLOAT)",
    "CREATE TABLE g_nul (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10))",
    "CREATE TABLE h_wide (id INTEGER NOT NULL PRIMARY KEY, a VARCHAR(1900), b VARCHAR(1900), c VARCHAR(1900), "
    "d VARCHAR(1900), e VARCHAR(1900))",
    "CREATE TABLE i_array (id INTEGER NOT NULL PRIMARY KEY, a INTEGER[3])",
    "CREATE TABLE j_computed (id INTEGER NOT NULL PRIMARY KEY, x INTEGER, y COMPUTED BY (x * 2))",
    "CREATE TABLE k_empty (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10), ts TIMESTAMP)",
    "CREATE TABLE l_stamps (id INTEGER NOT NULL PRIMARY KEY, ts TIMESTAMP, tm TIME)",
    "CREATE TABLE n_collate (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10) CHARACTER SET UTF8 COLLATE UNICODE_CI_AI)",
    "CREATE TABLE o_edges (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10), l VARCHAR(10) CHARACTER SET ISO8859_1, "
    "t VARCHAR(10), u CHAR(3))",
    "CREATE TABLE p_no_edges (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10), l VARCHAR(10) CHARACTER SET ISO8859_1)",
    "CREATE TABLE q_many (id INTEGER NOT NULL PRIMARY KEY, " + ", ".join(f"v{i} VARCHAR(10)" for i in range(120)) + ")",
]
ROWS = [
    "INSERT INTO a_plain VALUES (1, -32768, -2147483648, -9223372036854775808, -0.5, -0.000001, -999.9, "
    "-999999999999999999, '0001-01-01', '0001-01-01 00:00:00', '00:00:00', TRUE, 'x;y\"z', 'ab', 'æøå', 'é')",
    "INSERT INTO a_plain VALUES (2, 32767, 2147483647, 9223372036854775807, 0, 0, 0, 0, '9999-12-31', "
    "'9999-12-31 23:59:59.9999', '23:59:59.9999', FALSE, '', '', '', '')",
    "INSERT INTO a_plain VALUES (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL)",
    f"INSERT INTO a_plain VALUES (4, 0, 7, -1, 1234567890.1, 123456789012.123456, 0.1, 5, '0999-02-28', "
    f"'0999-02-28 10:00:00.1', '12:00:00.5', TRUE, 'linje1' || {CR} || {NL} || 'linje2' || {NL} || '\"sitat\"', "
    f"'      ', ' kant ', '  ')",
    "INSERT INTO a_plain VALUES (5, 1, 1, 1, 0.01, 0.000001, -0.1, -5, '2024-02-29', '2024-02-29 13:45:07.1234', "
    "'13:45:07.012', FALSE, ' kant' || _UTF8 '\u00a0', 'c  d', ';', '\"')",
]
OTHER_ROWS = [
    "INSERT INTO b_foreign VALUES (1, 'Čapek')",
    "INSERT INTO b_foreign VALUES (2, 'ren')",
    "INSERT INTO c_long VALUES (1, 'kort')",
    "UPDATE c_long SET v = RPAD('x', 2100, 'x') WHERE id = 1",
    "INSERT INTO c_long VALUES (2, 'kort')",
    "INSERT INTO d_blob VALUES (1, x'00FF')",
    "INSERT INTO m_textblob VALUES (1, 'tekst')",
    "INSERT INTO e_nokey VALUES ('b', 2, '2020-01-01')",
    "INSERT INTO e_nokey VALUES ('a', 1, NULL)",
    "INSERT INTO e_nokey VALUES ('a', 1, NULL)",
    "INSERT INTO e_nokey VALUES (NULL, NULL, '1900-01-01')",
    "INSERT INTO e_nokey VALUES ('', 0, '0001-01-01')",
    "INSERT INTO f_float VALUES (1, 0.1, 0.1)",
    f"INSERT INTO g_nul VALUES (1, 'a' || {NUL} || 'b')",
    "INSERT INTO g_nul VALUES (2, 'c')",
    "INSERT INTO h_wide VALUES (1, 'a', 'b', 'c', 'd', 'e')",
    "INSERT INTO h_wide VALUES (2, RPAD('a', 1900, 'a'), RPAD('b', 1900, 'b'), RPAD('c', 1900, 'c'), "
    "RPAD('d', 1900, 'd'), RPAD('e', 1900, 'e'))",
    "INSERT INTO i_array (id) VALUES (1)",
    "INSERT INTO j_computed (id, x) VALUES (1, 21)",
    "INSERT INTO l_stamps VALUES (1, '2024-01-01 10:00:00', '10:00:00')",
    "INSERT INTO n_collate VALUES (1, 'A;b')",
    "INSERT INTO n_collate VALUES (2, ' é ')",
    "INSERT INTO n_collate VALUES (3, '')",
    "INSERT INTO n_collate VALUES (4, ASCII_CHAR(9) || 'x' || _UTF8 '\u3000')",
    # each column one kind of blank at an edge, in one value
    "INSERT INTO o_edges VALUES (1, 'x' || _UTF8 '\u3000', 'x', ASCII_CHAR(11) || 'x', 'x')",
    "INSERT INTO o_edges VALUES (2, 'y', _UTF8 '\u00a0x', 'y', _UTF8 'x\u0085')",
    "INSERT INTO o_edges VALUES (3, NULL, NULL, NULL, NULL)",
    "INSERT INTO q_many (id, v0, v119) VALUES (1, 'a', 'b')",
    "INSERT INTO p_no_edges VALUES (1, _UTF8 'x\u3000x', 'x' || ASCII_CHAR(9) || 'x')",
    "INSERT INTO p_no_edges VALUES (2, _UTF8 '\u00e9~!\u0086', '!x~')",
    "INSERT INTO l_stamps VALUES (2, '2024-01-01 10:00:00.0500', '10:00:00.0001')",
]

PROFILE = """
[charset]
utf8_fallback = true

[tables.e_nokey]
where = "n IS NULL OR n < 2"
filter_reason = "testing a filter"
"""
SERVER_TABLES = {"a_plain", "e_nokey", "k_empty", "l_stamps"}
UNICODE_TABLES = {"b_foreign", "n_collate", "o_edges", "p_no_edges"}
"""Tables holding characters LATIN1 cannot hold: the server's in UTF-8, the exact path's in ISO-8859-1."""


@pytest.fixture(scope="module")
def fb_edges():
    from firebird.driver import connect

    path, url = _fresh_firebird()
    with connect(f"{url.host}/{url.port}:{path}", user=url.username, password=url.password, charset="UTF8") as con:
        cur = con.cursor()
        for stmt in DDL:
            cur.execute(stmt)
        con.commit()
        for stmt in ROWS + OTHER_ROWS:
            cur.execute(stmt)
        con.commit()
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _drop_firebird(path)


def _exact_reasons(paths: dict[str, tuple[str, dict[str, str]]]) -> dict[str, str]:
    return {t: json.dumps(why, ensure_ascii=False) for t, (p, why) in paths.items() if p == "exact"}


@pytest.mark.parametrize("charset", ["ISO-8859-1", "UTF-8"])
def test_firebird_edge_cases(fb_edges: str, tmp_path: Path, charset: str) -> None:
    paths = both_paths(fb_edges, tmp_path, PROFILE, "--charset", charset)
    server = {t for t, (p, _) in paths.items() if p == "server"}
    assert SERVER_TABLES <= server, paths
    exact = _exact_reasons(paths)
    if charset == "ISO-8859-1":
        assert all("cannot hold" in exact[t] for t in UNICODE_TABLES), exact
    else:
        assert UNICODE_TABLES <= server, paths
    assert "long-text limit" in exact["c_long"]
    assert "binary field" in exact["d_blob"]
    assert "BLOB as string" in exact["m_textblob"]
    assert "DOUBLE PRECISION" in exact["f_float"] and "FLOAT" in exact["f_float"]
    assert "NUL" in exact["g_nul"]
    assert "longest string" in exact["h_wide"]
    assert "arrays" in exact["i_array"]
    assert "computed" in exact["j_computed"]
    assert "64 KB" in exact["q_many"]  # the statistics of 120 texts: more SQL than Firebird 3 takes
    content = tmp_path / "server" / "content"
    lines = (content / "a_plain.txt").read_bytes().split(b"\r\n")
    assert lines[0].startswith(b"1;-32768;-2147483648;-9223372036854775808;-0,50;-0,000001;-99")
    assert b";0001-01-01;0001-01-01T00:00:00;00:00:00;J;\"x;y\"\"z\";ab;" in lines[0]
    assert b";9999-12-31T23:59:59.9999;23:59:59.9999;N;\"\";\"\";\"\";\"\"" in lines[1]
    assert lines[2] == b"3" + b";" * 15
    stamps = (content / "l_stamps.txt").read_bytes()
    assert stamps == b"1;2024-01-01T10:00:00;10:00:00\r\n2;2024-01-01T10:00:00.05;10:00:00.0001\r\n"


def test_firebird_fixed_width(fb_edges: str, tmp_path: Path) -> None:
    """Fixed width: the widths (and ``_lengde`` fields) from the statistics, each field padded on the server."""
    paths = both_paths(fb_edges, tmp_path, PROFILE, "--format", "fixed", "--charset", "UTF-8")
    server = {t for t, (p, _) in paths.items() if p == "server"}
    assert SERVER_TABLES | UNICODE_TABLES <= server, paths


def test_firebird_connection_charset_must_be_utf8(fb_edges: str, tmp_path: Path) -> None:
    """A connection in another charset renders nothing on the server, and says so."""
    url = sa.engine.make_url(fb_edges)
    latin = url.set(query={**url.query, "charset": "ISO8859_1"}).render_as_string(hide_password=False)
    paths = both_paths(latin, tmp_path, PROFILE, "--table", "l_stamps")
    assert paths["l_stamps"][0] == "exact" and "UTF8" in json.dumps(paths["l_stamps"][1]), paths


def test_firebird_statistics_are_the_same_on_both_paths(fb_edges: str) -> None:
    """Blanks at an edge (ASCII and not, in UTF8, ISO8859_1 and a UNICODE_CI_AI collation) among them."""
    assert _same_statistics(fb_edges, PROFILE.replace("[charset]\n", '[charset]\nencoding = "UTF-8"\n')) >= len(
        SERVER_TABLES | UNICODE_TABLES)


def _statistics_running(con: Any) -> bool:
    """A statement of another attachment is running (MON$STATE 1) that counts statistics."""
    con.begin()
    try:
        cur = con.cursor()
        cur.execute("SELECT count(*) FROM MON$STATEMENTS WHERE MON$STATE = 1 AND MON$ATTACHMENT_ID <> "
                    "CURRENT_CONNECTION AND MON$SQL_TEXT CONTAINING 'count(*)'")
        return bool(cur.fetchone()[0])
    finally:
        con.commit()


def test_a_count_beside_that_is_stopped_is_cancelled_and_the_next_gets_a_fresh_attachment() -> None:
    """The second attachment of a Firebird file (``SoleReaderSide``), here on a server database no one
    writes to while the test runs: a count stopped while it runs fails as cancelled
    (``fb_cancel_operation``) rather than running to its end, and the next count runs on a fresh
    attachment (a cancel that reaches an attachment just after its statement ended would stop the
    next statement there); a view is counted first, on the run's own attachment."""
    from dialects import open_source
    from dialects.rendering import Counted, Counting
    from extractor.errors import SourceError
    from extractor.extract import extracted_tables
    from extractor.pipeline import Options, open_profile, reflect_and_plan
    from extractor.rendered import render_request

    path, url = _fresh_firebird()
    dialect = None
    try:
        from firebird.driver import connect

        with connect(f"{url.host}/{url.port}:{path}", user=url.username, password=url.password, charset="UTF8") as con:
            cur = con.cursor()
            cur.execute("CREATE TABLE big (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(40), w VARCHAR(40))")
            cur.execute("CREATE TABLE small (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10))")
            cur.execute("CREATE VIEW small_view AS SELECT id, v FROM small")
            con.commit()
            cur.execute("EXECUTE BLOCK AS DECLARE i INTEGER = 1; BEGIN WHILE (i <= 1000000) DO BEGIN "
                        "INSERT INTO big VALUES (:i, 'rad ' || :i, ' kant ' || :i); "
                        "IF (i <= 10) THEN INSERT INTO small VALUES (:i, 'r' || :i); i = i + 1; END END")
            con.commit()
        dialect = open_source(url.render_as_string(hide_password=False))
        dialect.sole_reader = True  # type: ignore[attr-defined]
        with dialect.snapshot():
            _, plan = reflect_and_plan(dialect, open_profile(None), Options(views=True))
            tables = {}
            for tp in extracted_tables(plan):
                request, why = render_request(plan, tp)
                assert request is not None and tp.source is not None, why
                tables[tp.name.lower()] = (tp.source, request)
            pending = dialect.rendered_statistics_beside(*tables["big"])
            assert isinstance(pending, Counting)
            first = dialect._side  # type: ignore[attr-defined]
            with connect(f"{url.host}/{url.port}:{path}", user=url.username, password=url.password) as watcher:
                deadline = time.monotonic() + 30
                while not _statistics_running(watcher):  # stopped while it runs, not before it reached the engine
                    assert not pending.done() and time.monotonic() < deadline, "the count never ran"
                    time.sleep(0.005)
            pending.abandon()
            with pytest.raises(SourceError, match="cancel"):
                pending.result()
            after = dialect.rendered_statistics_beside(*tables["small"])
            assert after.result().rows == 10
            assert dialect._side is not first  # type: ignore[attr-defined]
            assert dialect.rendered_statistics_beside(*tables["big"]).result().rows == 1000000
            view = dialect.rendered_statistics_beside(*tables["small_view"])
            assert isinstance(view, Counted) and view.result().rows == 10
    finally:
        if dialect is not None:
            dialect.close()
        _drop_firebird(path)
