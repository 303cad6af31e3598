"""Issue 12, point 10: a profile query or filter that would do more than read is refused before any
row is read, on the real servers; harmless ones (``now()``, ``random()``, a string naming a
dangerous function) are extracted. The source is checked afterwards: nothing ran."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import tests.readback as rb
from tests.conftest import fails, fresh_database, run, run_sql

PG_SETUP = [
    "CREATE TABLE sak (id integer PRIMARY KEY, tittel text)",
    "INSERT INTO sak VALUES (1, 'Søknad'), (2, 'Klage')",
    "CREATE SEQUENCE lopenr",
    # an argument default runs a volatile function the call never names
    "CREATE FUNCTION nummer(n bigint DEFAULT nextval('lopenr')) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT n'",
    # an operator backed by a function that reads server files into large objects
    "CREATE OPERATOR ### (RIGHTARG = text, FUNCTION = pg_catalog.lo_import)",
    # a language without a validator whose handler runs anything: untrusted, whatever volatility is declared
    "CREATE LANGUAGE plfarlig HANDLER plpgsql_call_handler",
    "CREATE FUNCTION utrygg() RETURNS integer LANGUAGE plfarlig IMMUTABLE AS 'begin return 1; end'",
    "CREATE VIEW lurevisning AS SELECT pg_read_file('/etc/hostname') AS x",
    "CREATE EXTENSION dblink",
    "CREATE EXTENSION file_fdw",
    "CREATE SERVER filer FOREIGN DATA WRAPPER file_fdw",
    "CREATE FOREIGN TABLE vertsnavn (linje text) SERVER filer OPTIONS (filename '/etc/hostname')",
]

PG_ATTACKS = {
    "plain": ("SELECT lo_import('/etc/hostname') AS x", "calls lo_import(), which reads or writes a file"),
    "qualified_quoted": ('SELECT pg_catalog."lo_import"(\'/etc/hostname\') AS x', "calls lo_import()"),
    "upper_case": ("SELECT LO_IMPORT('/etc/hostname') AS x", "calls lo_import()"),
    "cte": ("WITH x AS (SELECT pg_read_file('/etc/hostname') AS t) SELECT t FROM x",
            "calls pg_read_file(), which reads the database server's files"),
    "subquery": ("SELECT id FROM sak WHERE EXISTS (SELECT pg_sleep(0))", "calls pg_sleep(), which sleeps"),
    "lateral": ("SELECT s.id, f.x FROM sak s CROSS JOIN LATERAL (SELECT set_config('search_path', 'x', false) AS x) f",
                "calls set_config(), which changes the session's settings"),
    "srf_from": ("SELECT * FROM pg_ls_dir('.') AS f", "calls pg_ls_dir()"),
    "values": ("SELECT * FROM (VALUES (lo_import('/etc/hostname'))) AS v(x)", "calls lo_import()"),
    "operator": ("SELECT ### '/etc/hostname' AS x", "calls lo_import() (behind the operator ###)"),
    "default": ("SELECT nummer() AS x", "calls nextval(), which advances a sequence"),
    "untrusted": ("SELECT utrygg() AS x", "calls public.utrygg(), which is written in the untrusted language plfarlig"),
    "view": ("SELECT x FROM lurevisning", "calls pg_read_file()"),
    "dblink": ("SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(x integer)",
               "calls public.dblink(), which connects to another database"),
    "foreign_table": ("SELECT linje FROM vertsnavn", "reads the foreign table vertsnavn"),
    "lock": ("SELECT id FROM sak WHERE pg_try_advisory_lock(1)", "calls pg_try_advisory_lock(), which takes a lock"),
    "text_sql": ("SELECT query_to_xml('SELECT lo_import(''/etc/hostname'')', true, false, '') AS x",
                 "calls query_to_xml(), which runs SQL given as text"),
    "xid": ("SELECT txid_current() AS x", "calls txid_current(), which assigns a transaction id"),
    "own_queries": ("SELECT table_to_xml('lurevisning', true, false, '') AS x",
                    "calls table_to_xml(), which runs queries of its own on whole tables and views"),
    "row_lock": ("SELECT id FROM sak FOR SHARE", "locks the rows it reads"),
}


def _profile(queries: dict[str, str], where: str = "") -> str:
    text = "".join(f"[queries.q_{name}]\nsql = '''{sql}'''\n" for name, sql in queries.items())
    if where:
        text += f"[tables.sak]\nwhere = '''{where}'''\nfilter_reason = \"prøve\"\n"
    return text


def _state(url: sa.engine.URL) -> tuple[int, int]:
    """Large objects in the source, and the sequence's last value: what a call that ran would change."""
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        found = conn.exec_driver_sql("SELECT (SELECT count(*) FROM pg_largeobject_metadata), last_value FROM lopenr").one()
    eng.dispose()
    return int(found[0]), int(found[1])


@pytest.fixture(scope="module")
def pg_source():
    with fresh_database("postgresql", "uttrekk_se") as url:
        run_sql(url, PG_SETUP)
        yield url


def test_every_postgresql_attack_is_refused_by_name_and_nothing_runs(pg_source, tmp_path):
    before = _state(pg_source)
    prof = tmp_path / "p.toml"
    prof.write_text(_profile({k: sql for k, (sql, _) in PG_ATTACKS.items()},
                             where="length(pg_read_file('/etc/hostname')) > 0"), encoding="utf-8")
    r = run("extract", pg_source.render_as_string(hide_password=False), "--profile", prof, "--out", tmp_path / "o")
    out = fails(r, *[f"queries.q_{name}.sql: {why}" for name, (_, why) in PG_ATTACKS.items()],
                "tables.sak.where: calls pg_read_file()")
    assert out.count("nothing was read") == len(PG_ATTACKS) + 1
    assert not (tmp_path / "o").exists() and not (tmp_path / ".o.uttrekk-partial").exists()
    assert _state(pg_source) == before  # no large object imported, the sequence not advanced


def test_a_second_statement_cannot_be_smuggled_into_a_filter_or_query(pg_source, tmp_path):
    before = _state(pg_source)
    prof = tmp_path / "p.toml"
    prof.write_text(_profile(
        {"dollar": "SELECT $a$ ' $a$ AS x; SELECT lo_import('/etc/hostname') AS y --'"},
        where="1=1)) AS sak; SELECT lo_import('/etc/hostname'); SELECT * FROM (SELECT ((1"), encoding="utf-8")
    r = run("inspect", pg_source.render_as_string(hide_password=False), "--profile", prof, "--no-scan")
    fails(r, 'queries.q_dollar.sql: the source refuses the query: syntax error at or near ";"',
          "tables.sak.where: the source refuses the condition: syntax error")
    assert _state(pg_source) == before


def test_harmless_postgresql_queries_and_filters_are_extracted(pg_source, tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text(_profile({
        "tid": "SELECT id, now() AS na, random() AS tilfeldig, clock_timestamp() AS klokke, "
               "'SELECT lo_import(''/etc/passwd'')' AS tekst FROM sak -- pg_sleep(10)",
        "antall": "SELECT count(*) AS n, string_agg(tittel, ', ' ORDER BY id) AS titler FROM sak",
    }, where="id > 0 AND tittel <> 'lo_import(x)' AND now() > '2000-01-01'"), encoding="utf-8")
    r = run("extract", pg_source.render_as_string(hide_password=False), "--profile", prof, "--out", tmp_path / "o",
            "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    content = tmp_path / "o" / "content"
    tables = rb.read_addml(content / "addml.xml")
    rows = rb.read_table(content, tables["q_tid"], "delimited")
    assert [row["tekst"] for row in rows] == ["SELECT lo_import('/etc/passwd')"] * 2
    assert rb.read_table(content, tables["q_antall"], "delimited") == [
        {"uttrekk_lopenr": "1", "n": "2", "titler": "Søknad, Klage"}]
    assert len(rb.read_table(content, tables["sak"], "delimited")) == 2


MARIADB_ATTACKS = {
    "load_file": ("SELECT LOAD_FILE('/etc/hostname') AS x", "calls LOAD_FILE(), which reads a file on the database server"),
    "backticks": ("SELECT `sleep`(0) AS x", "calls SLEEP()"),
    "spaced_lower": ("SELECT sleep /* pause */ (0) AS x", "calls SLEEP()"),
    "executable_comment": ("SELECT 1 /*!50000 + BENCHMARK(1, 1) */ AS x", "calls BENCHMARK()"),
    "mariadb_comment": ("SELECT 1 /*M! + SLEEP(0) */ AS x", "calls SLEEP()"),
    "not_a_comment": ("SELECT 1 --SLEEP(0)\n AS x", "calls SLEEP()"),
    "lock": ("SELECT GET_LOCK('uttrekk', 0) AS x", "calls GET_LOCK(), which takes or inspects a named lock"),
    "variable": ("SELECT @teller := 1 AS x", "assigns a user variable (:=)"),
    "row_lock": ("SELECT id FROM sak LOCK IN SHARE MODE", "locks the rows it reads"),
    "stored_function": ("SELECT vent() AS x", "calls vent(), a stored function, which MySQL cannot tell"),
    "no_backslash_escapes": ("SELECT 'a\\' , SLEEP(0) AS x, '\\' AS y", "calls SLEEP()"),
}


@pytest.fixture(scope="module")
def mariadb_source():
    with fresh_database("mariadb", "uttrekk_se") as url:
        run_sql(url, ["CREATE TABLE sak (id integer PRIMARY KEY, tittel text) CHARACTER SET utf8mb4",
                      "INSERT INTO sak VALUES (1, 'Søknad'), (2, 'Klage')",
                      "CREATE FUNCTION vent() RETURNS integer DETERMINISTIC RETURN SLEEP(0)"])
        yield url


def test_every_mariadb_attack_is_refused_by_name(mariadb_source, tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text(_profile({k: sql for k, (sql, _) in MARIADB_ATTACKS.items()}, where="1=1 INTO OUTFILE '/tmp/x'"),
                    encoding="utf-8")
    r = run("extract", mariadb_source.render_as_string(hide_password=False), "--profile", prof, "--out", tmp_path / "o")
    out = fails(r, *[f"queries.q_{name}.sql: {why}" for name, (_, why) in MARIADB_ATTACKS.items()],
                "tables.sak.where: writes with SELECT … INTO")
    assert out.count("nothing was read") == len(MARIADB_ATTACKS) + 1
    assert not (tmp_path / "o").exists()


def test_harmless_mariadb_queries_are_extracted(mariadb_source, tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text(_profile({
        "tid": "SELECT id, NOW() AS na, RAND() AS tilfeldig, 'SLEEP(10); LOAD_FILE(x)' AS tekst, `id` AS `sleep` "
               "FROM sak -- SLEEP(10)\n# GET_LOCK('x', 1)\n",
    }, where="tittel <> 'sleep(1)' /* SLEEP(1) */"), encoding="utf-8")
    r = run("extract", mariadb_source.render_as_string(hide_password=False), "--profile", prof, "--out", tmp_path / "o",
            "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    content = tmp_path / "o" / "content"
    tables = rb.read_addml(content / "addml.xml")
    rows = rb.read_table(content, tables["q_tid"], "delimited")
    assert [row["tekst"] for row in rows] == ["SLEEP(10); LOAD_FILE(x)"] * 2
    assert len(rb.read_table(content, tables["sak"], "delimited")) == 2
