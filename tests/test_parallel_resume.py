"""--resume after kill -9 and a dropped connection, --jobs inside one shared snapshot, the COPY fast path.

Every comparison is byte for byte against an uninterrupted run of the same source.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import tests.readback as rb
from tests.conftest import fresh_database, run

ROOT = Path(__file__).resolve().parent.parent
UTTREKK = [sys.executable, "-m", "extractor"]
MARIADB_ADMIN = os.environ.get("UTTREKK_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")
DATE = "2026-01-31"


def same_tree(a: Path, b: Path) -> list[str]:
    """Paths under a and b whose bytes differ, or that exist on one side only."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    diff = sorted(str(p) for p in files_a ^ files_b)
    diff += [str(p) for p in sorted(files_a & files_b) if not filecmp.cmp(a / p, b / p, shallow=False)]
    return diff


# -- SQLite: kill -9 and resume ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_tables(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("resume") / "tre.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE a_liten (id INTEGER PRIMARY KEY, navn TEXT)")
    con.execute("CREATE TABLE b_stor (id INTEGER PRIMARY KEY, tekst TEXT, tall REAL, vedlegg BLOB)")
    con.execute("CREATE TABLE c_liten (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a_liten(id), merknad TEXT)")
    con.executemany("INSERT INTO a_liten VALUES (?,?)", [(i, f"Ærlig navn {i}") for i in range(1, 200)])
    con.executemany("INSERT INTO b_stor VALUES (?,?,?,?)",
                    ((i, f"rad {i}; \"sitat\"", i / 7, b"%PDF-1.4 " + bytes([i % 256]) if i % 5000 == 0 else None)
                     for i in range(300_000)))
    con.executemany("INSERT INTO c_liten VALUES (?,?,?)", [(i, i % 199 + 1, "x" * 3000 if i == 3 else "kort")
                                                           for i in range(1, 50)])
    con.commit()
    con.close()
    return db


@pytest.fixture(scope="module")
def uninterrupted(three_tables, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "o"
    r = run("extract", three_tables, "--out", out, "--date", DATE, "-q")
    assert r.exit_code == 0, r.output
    return out


def test_resume_after_kill_9_is_byte_identical(three_tables, uninterrupted, tmp_path):
    out = tmp_path / "o"
    proc = subprocess.Popen([*UTTREKK, "extract", str(three_tables), "--out", str(out), "--date", DATE, "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    work = tmp_path / ".o.uttrekk-partial" / "work"
    deadline = time.time() + 120
    while not (work / "a_liten.done.json").exists() and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; make b_stor bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert not (work / "b_stor.done.json").exists(), "killed too late to test a half-written table"
    kept = (work / "a_liten.done.json").stat().st_mtime_ns
    r = run("extract", three_tables, "--out", out, "--date", DATE, "-q", "--resume")
    assert r.exit_code == 0, r.output
    assert "Resumed: 1 table(s) reused" in r.output
    assert same_tree(out / "content", uninterrupted / "content") == []
    assert (out / "report" / "deviations.tsv").read_bytes() == (uninterrupted / "report" / "deviations.tsv").read_bytes()
    assert not (out / "work").exists() and not work.parent.exists()
    session = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))["session"]
    assert session.startswith("resumed: 1 table(s) (a_liten)"), session
    assert kept  # the reused table was not redone: its marker was never rewritten
    assert rb.validate_addml(out / "content") == []


def test_resume_with_other_options_starts_afresh(three_tables, uninterrupted, tmp_path):
    out = tmp_path / "o"
    partial = tmp_path / ".o.uttrekk-partial"
    proc = subprocess.Popen([*UTTREKK, "extract", str(three_tables), "--out", str(out), "--format", "fixed", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 120
    while not (partial / "work" / "a_liten.done.json").exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    r = run("extract", three_tables, "--out", out, "--date", DATE, "-q", "--resume")  # delimited this time
    assert r.exit_code == 0, r.output
    assert "nothing could be reused" in r.output and "options differ" in r.output
    assert same_tree(out / "content", uninterrupted / "content") == []


def test_resume_without_an_earlier_run_is_a_plain_run(three_tables, uninterrupted, tmp_path):
    r = run("extract", three_tables, "--out", tmp_path / "o", "--date", DATE, "-q", "--resume")
    assert r.exit_code == 0, r.output
    assert same_tree(tmp_path / "o" / "content", uninterrupted / "content") == []


def test_jobs_refused_where_no_snapshot_can_be_shared(three_tables, tmp_path):
    r = run("extract", three_tables, "--out", tmp_path / "o", "--jobs", "2", "-q")
    assert r.exit_code != 0
    assert "sqlite cannot share one snapshot" in r.output and "--jobs 1" in r.output
    assert not (tmp_path / "o").exists() and not (tmp_path / ".o.uttrekk-partial").exists()


# -- PostgreSQL: fast path, jobs, dropped connection ------------------------------------------------

PG_SEED = [
    "CREATE TABLE a_kode (kode varchar(4) PRIMARY KEY, tekst text NOT NULL)",
    """CREATE TABLE b_sak (id integer PRIMARY KEY, kode varchar(4) REFERENCES a_kode, tittel text, belop numeric(12,2),
         tall numeric, flyt double precision, dato date, tid timestamp(6), tidtz timestamptz, varighet interval,
         data bytea, aktiv boolean, enkel real)""",
    "CREATE TABLE c_logg (id bigserial PRIMARY KEY, sak_id integer REFERENCES b_sak, hendelse text)",
    "CREATE TABLE d_rare (id integer PRIMARY KEY, tall numeric, flyt double precision, dato date, tid timestamp, "
    "enkel real)",
    "CREATE TABLE e_dok (id integer PRIMARY KEY, fil oid)",  # PostgreSQL large objects, read with lo_get
]


def _pg_rows(n: int) -> list[dict]:
    out = []
    for i in range(1, n + 1):
        out.append(dict(id=i, kode="A" if i % 3 else None, tittel=f"Søknad {i}; \"tilbygg\"", belop=Decimal(i) / 4,
                        tall=Decimal("123456789012345678901234567890.12") + i, flyt=i / 3,
                        dato=dt.date(2000, 1, 1) + dt.timedelta(days=i), tid=dt.datetime(2020, 1, 1, 0, 0, 0, i % 1000000),
                        tidtz=dt.datetime(2020, 6, 1, 12, tzinfo=dt.UTC) + dt.timedelta(seconds=i),
                        varighet="1 year 2 mons 3 days 04:05:06.5" if i == 1 else dt.timedelta(seconds=i),
                        data=b"%PDF-1.4\x00" + bytes([i % 256]) if i % 1000 == 0 else None, aktiv=bool(i % 2),
                        enkel=i / 7 if i % 5 else -i * 1e-30))
    return out


@pytest.fixture(scope="module")
def pg_db():
    with fresh_database("postgresql", "uttrekk_p") as url:
        yield _seeded(url)


def _seeded(url):
    src = sa.create_engine(url)
    with src.begin() as conn:
        for stmt in PG_SEED:
            conn.exec_driver_sql(stmt)
        conn.execute(sa.text("INSERT INTO a_kode VALUES ('A', 'Åpen'), ('L', 'Lukket')"))
        cols = "id, kode, tittel, belop, tall, flyt, dato, tid, tidtz, varighet, data, aktiv, enkel"
        conn.execute(sa.text(f"INSERT INTO b_sak ({cols}) VALUES ({', '.join(':' + c.strip() for c in cols.split(','))})"),
                     _pg_rows(20_000))
        conn.exec_driver_sql("INSERT INTO c_logg (sak_id, hendelse) SELECT mod(id, 20000) + 1, 'hendelse ' || id "
                             "FROM generate_series(1, 30000) AS id")
        conn.exec_driver_sql("INSERT INTO d_rare VALUES (1, 'NaN', 'Infinity', 'infinity', '-infinity', 'NaN'), "
                             "(2, 1.5, 2.5, '2020-01-01', '2020-01-01 10:00', 0.1), "
                             "(3, NULL, '-Infinity', '0044-03-15 BC', NULL, '-Infinity')")
        conn.exec_driver_sql("INSERT INTO e_dok SELECT i, CASE WHEN mod(i, 10) <> 0 THEN lo_from_bytea(0, "
                             "decode(repeat(lpad(to_hex(i), 2, '0'), i * 97), 'hex')) END FROM generate_series(1, 120) AS i")
        conn.execute(sa.text("INSERT INTO e_dok VALUES (0, lo_from_bytea(0, :b))"), {"b": bytes(range(256)) * 9})
    src.dispose()
    return url


def _url(url) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def pg_whole(pg_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pgwhole") / "o"
    r = run("extract", _url(pg_db), "--out", out, "--date", DATE, "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    return out


def test_copy_fast_path_and_cursor_path_write_the_same_bytes(pg_db, pg_whole, tmp_path, monkeypatch):
    from dialects.postgresql import PostgreSQL

    monkeypatch.setattr(PostgreSQL, "use_copy", False)
    r = run("extract", _url(pg_db), "--out", tmp_path / "o", "--date", DATE, "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    assert same_tree(tmp_path / "o" / "content", pg_whole / "content") == []
    objects = pg_whole / "content" / "lob" / "e_dok" / "fil"  # the large objects, several cursor fetches of them
    assert len(list(objects.iterdir())) == 109 and (objects / "1.bin").read_bytes() == bytes(range(256)) * 9


def test_vendor_values_that_python_cannot_hold_are_kept_and_reported(pg_whole):
    content = pg_whole / "content"
    assert rb.validate_addml(content) == []
    tables = rb.read_addml(content / "addml.xml")
    rare = rb.read_table(content, tables["d_rare"], "delimited")
    assert [r["tall"] for r in rare] == ["NaN", "1.5", None]
    assert [r["flyt"] for r in rare] == ["Infinity", "2.5", "-Infinity"]
    assert [r["dato"] for r in rare] == ["infinity", "2020-01-01", "0044-03-15 BC"]
    assert [r["tid"] for r in rare] == ["-infinity", "2020-01-01T10:00:00", None]
    assert [r["enkel"] for r in rare] == ["NaN", "0.1", "-Infinity"]  # a float4's digits, as text
    devs = (pg_whole / "report" / "deviations.tsv").read_text(encoding="utf-8")
    for col in ("tall", "flyt", "dato", "tid", "enkel"):
        assert f"d_rare\t\t\ttable_note\tkolonne {col}:" in devs, col
    sak = rb.read_table(content, tables["b_sak"], "delimited")
    assert sak[0]["varighet"] == "P1Y2M3DT4H5M6.5S"  # months stay months
    assert sak[1]["varighet"] == "PT2S"
    assert [(sak[i]["enkel"], sak[i]["flyt"]) for i in (0, 2, 4)] == [  # float4 and float8 digits
        ("0,14285715", "0,3333333333333333"), ("0,42857143", "1"), ("-0,000000000000000000000000000005", "1,6666666666666667")]


def test_jobs_give_the_same_bytes_from_one_shared_snapshot(pg_db, pg_whole, tmp_path):
    r = run("extract", _url(pg_db), "--out", tmp_path / "o", "--date", DATE, "--charset", "UTF-8", "-q", "--jobs", "3")
    assert r.exit_code == 0, r.output
    assert same_tree(tmp_path / "o" / "content", pg_whole / "content") == []
    session = json.loads((tmp_path / "o" / "report" / "extraction.json").read_text(encoding="utf-8"))["session"]
    assert "3 parallel workers joined its exported snapshot" in session


def test_parallel_workers_read_the_exported_snapshot(pg_db, tmp_path):
    """Rows committed after the run's snapshot began are invisible to every worker."""
    from dialects import open_source
    from extractor.parallel import process_tables, workers_for
    from extractor.pipeline import Options, reflect_and_plan
    from extractor.profile import Profile

    d = open_source(_url(pg_db))
    writer = sa.create_engine(pg_db)
    try:
        _, plan0 = reflect_and_plan(d, Profile(), Options(charset="UTF-8"))
        with d.snapshot():
            workers = workers_for(d, 2, _url(pg_db), None)
            assert d.count_rows(plan0.table("c_logg").source) == 30_000
            with writer.begin() as conn:
                conn.exec_driver_sql("INSERT INTO c_logg (sak_id, hendelse) VALUES (1, 'skrevet under uttrekket')")
                conn.exec_driver_sql("DELETE FROM c_logg WHERE id = 1")
            tables = [plan0.table("c_logg"), plan0.table("a_kode")]
            (tmp_path / "content").mkdir()
            done = {tp.name: td for tp, _, td in process_tables(plan0, tables, d, workers, tmp_path / "content", tmp_path)}
        assert done["c_logg"].file.records == 30_000
        text = (tmp_path / "content" / "c_logg.txt").read_bytes().decode("utf-8")
        assert "skrevet under uttrekket" not in text and text.startswith("1;2;hendelse 1\r\n")
    finally:
        with writer.begin() as conn:
            conn.exec_driver_sql("DELETE FROM c_logg WHERE hendelse = 'skrevet under uttrekket'")
            conn.exec_driver_sql("INSERT INTO c_logg (id, sak_id, hendelse) VALUES (1, 2, 'hendelse 1')")
        writer.dispose()
        d.close()


def test_dropped_connection_mid_table_then_resume(pg_db, pg_whole, tmp_path, monkeypatch):
    """The server ends uttrekk's session in the middle of a table; --resume redoes only the rest."""
    from dialects.postgresql import PostgreSQL

    real = PostgreSQL.iter_rows
    calls: dict[str, int] = {}
    admin = sa.create_engine(pg_db, isolation_level="AUTOCOMMIT")

    def dropping(self, table, columns, order_by):
        calls[table.name] = calls.get(table.name, 0) + 1
        for n, row in enumerate(real(self, table, columns, order_by)):
            if table.name == "c_logg" and calls[table.name] == 1 and n == 500:
                pid = self._conn.connection.driver_connection.info.backend_pid
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            yield row

    monkeypatch.setattr(PostgreSQL, "iter_rows", dropping)
    out = tmp_path / "o"
    exact = tmp_path / "exact.toml"  # rows through iter_rows (the fast path reads through COPY of rendered text)
    exact.write_text('[output]\nrendering = "exact"\n', encoding="utf-8")
    r = run("extract", _url(pg_db), "--out", out, "--date", DATE, "--charset", "UTF-8", "-q", "--profile", exact)
    admin.dispose()
    assert r.exit_code != 0
    # the driver may have buffered the rest of c_logg; then the next table's read is the one that fails
    assert re.search(r"reading table (c_logg|d_rare) failed", r.output), r.output
    assert "--resume" in r.output and "Traceback" not in r.output and r.output.count("uttrekk: error:") == 1
    assert not out.exists()
    work = tmp_path / ".o.uttrekk-partial" / "work"
    assert (work / "b_sak.done.json").exists() and not (work / "d_rare.done.json").exists()
    monkeypatch.setattr(PostgreSQL, "iter_rows", real)
    r = run("extract", _url(pg_db), "--out", out, "--date", DATE, "--charset", "UTF-8", "-q", "--resume",
            "--profile", exact)
    assert r.exit_code == 0, r.output
    assert re.search(r"Resumed: [23] table\(s\) reused", r.output), r.output
    assert same_tree(out / "content", pg_whole / "content") == []


def test_jobs_refused_on_mariadb(tmp_path):
    r = run("extract", MARIADB_ADMIN.replace("/?", "/mysql?"), "--out", tmp_path / "o", "--jobs", "2", "-q",
            "--table", "db")
    assert r.exit_code != 0
    assert "cannot share one snapshot" in r.output


def test_clean_tables_are_read_once_and_surprises_cost_one_more_pass(tmp_path, monkeypatch):
    """Scan and write share one pass; a table whose data change its layout is written again."""
    from dialects.sqlite import SQLite

    db = tmp_path / "p.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE ren (id INTEGER PRIMARY KEY, navn TEXT, dato DATE)")
    con.execute("CREATE TABLE rar (id INTEGER PRIMARY KEY, dato DATE, notat TEXT)")
    con.executemany("INSERT INTO ren VALUES (?,?,?)", [(i, f"navn {i}", "2020-01-02") for i in range(1, 50)])
    con.executemany("INSERT INTO rar VALUES (?,?,?)", [(1, "2020-01-02", "kort"), (2, "ikke en dato", "x" * 3000)])
    con.commit()
    con.close()
    calls: dict[str, int] = {}
    real = SQLite.iter_rows

    def counting(self, table, columns, order_by):
        calls[table.name] = calls.get(table.name, 0) + 1
        return real(self, table, columns, order_by)

    monkeypatch.setattr(SQLite, "iter_rows", counting)
    r = run("extract", db, "--out", tmp_path / "server", "-q")
    assert r.exit_code == 0, r.output
    assert calls == {"rar": 2}  # ren: rendered by the server; rar: not (a value that is no date), so two passes
    calls.clear()
    exact = tmp_path / "exact.toml"
    exact.write_text('[output]\nrendering = "exact"\n', encoding="utf-8")
    r = run("extract", db, "--out", tmp_path / "o", "-q", "--profile", exact)
    assert r.exit_code == 0, r.output
    assert calls == {"ren": 1, "rar": 2}
    content = tmp_path / "o" / "content"
    assert (content / "rar.txt").read_bytes() == b"1;2020-01-02;kort;\r\n2;ikke en dato;;lob/rar/notat/2.txt\r\n"
    assert (content / "lob" / "rar" / "notat" / "2.txt").read_bytes() == b"x" * 3000
    devs = (tmp_path / "o" / "report" / "deviations.tsv").read_text(encoding="utf-8")
    assert "kolonne dato: deklarert som date, men 1 verdi(er) passer ikke" in devs
    calls.clear()
    r = run("extract", db, "--out", tmp_path / "f", "--format", "fixed", "-q", "--profile", exact)
    assert r.exit_code == 0, r.output
    assert calls == {"ren": 2, "rar": 3}  # fixed width: scan (and rescan as text), then write
