"""MySQL/MariaDB dumps as SOURCE: made with the machine's real mariadb-dump from databases on the
MariaDB test server, restored by uttrekk into a throwaway server, extracted, and compared file for
file with the extract of the live database they came from; hostile, cut and killed restores."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa

from dialects.kinds import open_source, recognise
from extractor.model import PROVENANCE_LABELS
from tests.conftest import MARIADB_ADMIN, ROOT, fails, fresh_database, run, run_sql

DATE = "2026-01-02"
ALL_BYTES = bytes(range(256))
SAMI = "Áŋŋá Čáđđi Šŧeinn – ǯ ŋ ŧ"


def _seed_main(url: sa.engine.URL) -> None:
    run_sql(url, [
        "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(60), note TEXT, nick CHAR(10))",
        "CREATE TABLE blobs (id INT PRIMARY KEY, data LONGBLOB, small VARBINARY(300))",
        "CREATE TABLE amounts (id INT PRIMARY KEY, amount DECIMAL(14,3), at DATETIME, kind ENUM('a','b','c'), "
        "ok TINYINT(1), day DATE, part_of INT, FOREIGN KEY (part_of) REFERENCES people(id))",
        "CREATE VIEW people_named AS SELECT id, name FROM people WHERE name IS NOT NULL",
    ])
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO people VALUES (:i, :n, :t, :k)"), [
            {"i": 1, "n": SAMI, "t": "linje 1\nlinje 2\ttab 'sitat' \"dobbel\" \\ bakstrek", "k": "æøå"},
            {"i": 2, "n": "", "t": None, "k": ""},
            {"i": 3, "n": None, "t": "", "k": None},
            {"i": 4, "n": "Ærlig Østby Ålesund", "t": "€ ½ ‰ — “sitert”", "k": "x"},
        ])
        conn.execute(sa.text("INSERT INTO blobs VALUES (:i, :d, :s)"), [
            {"i": 1, "d": ALL_BYTES * 3, "s": ALL_BYTES},
            {"i": 2, "d": b"", "s": b""},
            {"i": 3, "d": None, "s": None},
            {"i": 4, "d": b"\x00\r\n\x1a'\\\"" * 10, "s": b";\n-- x\n/*!*/"},
        ])
        conn.execute(sa.text("INSERT INTO amounts VALUES (:i, :a, :t, :k, :o, :d, :p)"), [
            {"i": 1, "a": "12345678901.234", "t": "2024-02-29 23:59:59", "k": "a", "o": 1, "d": "1970-01-01", "p": 1},
            {"i": 2, "a": "-0.001", "t": "1000-01-01 00:00:00", "k": "c", "o": 0, "d": "9999-12-31", "p": 4},
            {"i": 3, "a": None, "t": None, "k": None, "o": None, "d": None, "p": None},
        ])
    eng.dispose()


def _seed_lax(url: sa.engine.URL) -> None:
    """A latin1 table from a lax server: æøå, zero dates, a bad ENUM stored as ''."""
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.exec_driver_sql("SET SESSION sql_mode = ''")
        conn.exec_driver_sql("CREATE TABLE gamle (id INT PRIMARY KEY, navn VARCHAR(40), fodt DATE, endret DATETIME, "
                             "status ENUM('aktiv','slettet')) CHARACTER SET latin1")
        conn.exec_driver_sql("CREATE TABLE utf8gammel (id INT PRIMARY KEY, tekst VARCHAR(20)) CHARACTER SET utf8mb3")
        conn.exec_driver_sql("INSERT INTO gamle VALUES (1, 'Blåbær Ærø Øst', '0000-00-00', '0000-00-00 00:00:00', "
                             "'aktiv'), (2, 'æøå ÆØÅ', '2020-00-15', '2020-05-00 10:00:00', 'ukjent'), "
                             "(3, NULL, NULL, NULL, NULL)")
        conn.exec_driver_sql("INSERT INTO utf8gammel VALUES (1, 'Sámi – ŋ'), (2, '')")
    eng.dispose()


def mariadb_dump(out: Path, *args: str) -> Path:
    """A dump made by the machine's mariadb-dump from the MariaDB test server."""
    admin = sa.engine.make_url(MARIADB_ADMIN)
    cmd = ["mariadb-dump", "--no-defaults", f"--host={admin.host}", f"--port={admin.port or 3306}",
           f"--user={admin.username}", *args]
    with out.open("wb") as fh:
        subprocess.run(cmd, stdout=fh, check=True)
    return out


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Two databases on the test server, and dumps of them in every form the tests need."""
    folder = tmp_path_factory.mktemp("mydumps")
    with fresh_database("mysql", "uttrekk_myd") as main, fresh_database("mysql", "uttrekk_myl") as lax:
        _seed_main(main)
        _seed_lax(lax)
        a, b = main.database, lax.database
        dumps = {
            "plain": mariadb_dump(folder / "plain.sql", "--routines", "--triggers", a),
            "hex": mariadb_dump(folder / "hex.sql", "--hex-blob", a),
            "nocomments": mariadb_dump(folder / "nocomments.sql", "--skip-comments", a),
            "lax": mariadb_dump(folder / "lax.sql", b),
            "databases": mariadb_dump(folder / "databases.sql", "--databases", a, b),
        }
        yield {"main": main, "lax": lax, "dumps": dumps, "folder": folder}


def extract(source: str | Path, out: Path) -> Path:
    result = run("extract", source, "--out", out, "--date", DATE, "--charset", "UTF-8", "-q")
    assert result.exit_code == 0, result.output
    return out


def _normalised_addml(path: Path, labels: tuple[str, ...]) -> str:
    """addml.xml with what names the source removed: the source labels (URL or dump file) and the
    dataset description (which ends with the dump's provenance sentence)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<description>Uttrekk fra .*?</description>", "<description/>", text, count=1, flags=re.S)
    for label in labels:
        text = text.replace(escape(label, {'"': "&quot;"}), "SOURCE").replace(label, "SOURCE")
    return text


def assert_same_extract(live_out: Path, dump_out: Path, labels: tuple[str, ...]) -> None:
    """The content/ trees are equal file for file; addml.xml up to what names the source."""
    files = sorted(p.relative_to(live_out / "content") for p in (live_out / "content").rglob("*") if p.is_file())
    dumped = sorted(p.relative_to(dump_out / "content") for p in (dump_out / "content").rglob("*") if p.is_file())
    assert files == dumped
    for rel in files:
        if rel.name == "addml.xml":
            assert (_normalised_addml(live_out / "content" / rel, labels)
                    == _normalised_addml(dump_out / "content" / rel, labels))
        else:
            assert (live_out / "content" / rel).read_bytes() == (dump_out / "content" / rel).read_bytes(), rel


def _live_label(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=True)


@pytest.mark.parametrize("form", ["plain", "hex", "nocomments"])
def test_dump_extracts_as_the_live_database(live, dump_cache, tmp_path, form):
    dump = live["dumps"][form]
    probe, found = recognise(str(dump))
    assert found.kind == "mysql_dump"
    live_out = extract(live["main"].render_as_string(hide_password=False), tmp_path / "live")
    dump_out = extract(dump, tmp_path / "dump")
    assert_same_extract(live_out, dump_out, (_live_label(live["main"]), str(dump)))
    addml = (dump_out / "content" / "addml.xml").read_text(encoding="utf-8")
    assert "databasedumpen" in addml and found.facts.get("charset") == "utf8mb4"
    log = (dump_out / "report" / "extraction.json").read_text(encoding="utf-8")
    details = json.loads(log)["source_details"]
    assert details["dump_sha256"] and details["restored_with"].startswith("MariaDB")
    assert set(details) - {"engine", "host", "port", "database", "schema", "user"} <= set(PROVENANCE_LABELS)
    # the restored server has no other sessions: the statistics were counted beside the records, and the
    # files are the live database's (whose statistics were counted first, on its one connection)
    report = json.loads(log)
    assert "second read-only connection" in report["snapshot"]["statistics_connection"]
    assert "statistics_connection" not in json.loads(
        (live_out / "report" / "extraction.json").read_text(encoding="utf-8"))["snapshot"]
    assert any(t.get("rendering") == "server" for t in report["tables"]), report["tables"]


def test_lax_latin1_dump_keeps_zero_dates_and_letters(live, dump_cache, tmp_path):
    live_out = extract(live["lax"].render_as_string(hide_password=False), tmp_path / "live")
    dump_out = extract(live["dumps"]["lax"], tmp_path / "dump")
    assert_same_extract(live_out, dump_out, (_live_label(live["lax"]), str(live["dumps"]["lax"])))
    table = next((dump_out / "content").glob("*gamle*"))
    text = table.read_bytes().decode("utf-8")
    assert "Blåbær Ærø Øst" in text and "0000-00-00" in text


def test_several_databases_list_and_choose(live, dump_cache, tmp_path):
    dump = live["dumps"]["databases"]
    _, found = recognise(str(dump))
    assert found.facts["databases"] == f"{live['main'].database},{live['lax'].database}"
    out = fails(run("inspect", dump, "--no-scan"), "give --database NAME", live["main"].database,
                live["lax"].database)
    assert "2 databases" in out
    for url in (live["main"], live["lax"]):
        dialect = open_source(str(dump), database=url.database, quiet=True)
        try:
            assert dialect.label == f"{dump} (database {url.database})"
            restored = dialect.engine.url.render_as_string(hide_password=False)
            live_out = extract(url.render_as_string(hide_password=False), tmp_path / f"live-{url.database}")
            dump_out = extract(restored, tmp_path / f"dump-{url.database}")
        finally:
            dialect.close()
        assert_same_extract(live_out, dump_out, (_live_label(url), dialect.engine.url.render_as_string()))
    with pytest.raises(Exception, match="holds no database nosuch"):
        open_source(str(dump), database="nosuch", quiet=True)


def test_all_databases_skips_the_servers_own(live, dump_cache, tmp_path):
    dump = mariadb_dump(tmp_path / "all.sql", "--all-databases")
    dialect = open_source(str(dump), database=live["lax"].database, quiet=True)
    try:
        notes = "\n".join(dialect.source_notes)
        assert "mysql database (the server's own" in notes
        with dialect.engine.connect() as conn:
            users = {r[0] for r in conn.exec_driver_sql("SELECT User FROM mysql.user")}
            assert users <= {"root", "mariadb.sys", os.environ.get("USER", "root"), "nobody"}
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM gamle").scalar() == 3
    finally:
        dialect.close()


# -- the cache, a cut dump, kill -9 -------------------------------------------------------------


def test_restored_once_per_dump_content(live, dump_cache, tmp_path):
    dump = live["dumps"]["plain"]
    assert run("inspect", dump, "--no-scan").exit_code == 0
    entries = [p for p in (dump_cache / "restored").iterdir() if p.is_dir()]
    assert len(entries) == 1
    marker = (entries[0] / "restored.json").read_text(encoding="utf-8")
    data = (entries[0] / "data").stat().st_ino
    extract(dump, tmp_path / "out")
    assert (entries[0] / "restored.json").read_text(encoding="utf-8") == marker
    assert (entries[0] / "data").stat().st_ino == data
    copy = tmp_path / "copy-of-plain.sql"
    shutil.copyfile(dump, copy)
    assert run("inspect", copy, "--no-scan").exit_code == 0
    assert len([p for p in (dump_cache / "restored").iterdir() if p.is_dir()]) == 1  # same content, same entry
    assert not _servers(dump_cache)


def _servers(cache: Path) -> list[str]:
    """Processes of throwaway servers or restore clients for this cache (``ps``): named by the cache's
    path, or by a socket folder one of its entries uses (other runs on the machine are not ours)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    marks = [str(cache), *_socket_dirs(cache)]
    return [line for line in out.splitlines() if ("mariadbd" in line or "mariadb " in line)
            and any(mark in line for mark in marks)]


def _socket_dirs(cache: Path) -> list[str]:
    """The socket folders outside the cache that its entries' servers use (``run/socket-dir``)."""
    return [f.read_text(encoding="utf-8").strip() for f in cache.glob("restored/*/run/socket-dir")]


def test_cut_dump_stops_naming_the_end(live, dump_cache, tmp_path):
    whole = live["dumps"]["plain"].read_bytes()
    inside = tmp_path / "cut-inside.sql"
    inside.write_bytes(whole[:whole.index(b"INSERT INTO `blobs`") + 200])
    fails(run("extract", inside, "--out", tmp_path / "o1"), "cut short", "dump-end")
    at_end = tmp_path / "cut-between.sql"
    at_end.write_bytes(whole[:whole.index(b"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */")])
    fails(run("extract", at_end, "--out", tmp_path / "o2"), "without mysqldump's closing lines", "dump-end")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    dialect = open_source(str(at_end), accept_losses=("dump-end",), quiet=True)
    try:
        assert any("accepted by the profile" in n for n in dialect.source_notes)
    finally:
        dialect.close()


def _big_dump(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n--\n"
                 "-- Host: localhost    Database: big\n-- Server version\t10.11.6-MariaDB\n\n"
                 "/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `t` (id INT PRIMARY KEY, txt VARCHAR(100));\n")
        for start in range(0, rows, 5000):
            fh.write("INSERT INTO `t` VALUES " + ",".join(f"({i},'rad {i} – ŋ')" for i in range(start, min(rows, start + 5000)))
                     + ";\n")
        fh.write("-- Dump completed on 2026-01-01 00:00:00\n")
    return path


def test_kill_9_during_restore_leaves_nothing(dump_cache, tmp_path):
    dump = _big_dump(tmp_path / "big.sql", 1_500_000)
    env = {**os.environ, "UTTREKK_CACHE": str(dump_cache), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "inspect", str(dump), "--no-scan"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 120
    while not list(dump_cache.glob("restored/*/run/client-errors.log")):  # the restore is under way
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = [Path(d) for d in _socket_dirs(dump_cache)]
    assert killed  # the cache's paths are too long for a socket: its server's folder is in /tmp
    deadline = time.monotonic() + 30
    while _servers(dump_cache) and time.monotonic() < deadline:  # the kernel's SIGKILL takes a moment
        time.sleep(0.1)
    assert not _servers(dump_cache)
    assert not list(dump_cache.glob("restored/*/restored.json"))
    result = run("inspect", dump, "--no-scan")
    assert result.exit_code == 0, result.output
    assert "1500000 rows" in result.output
    assert not _servers(dump_cache)
    assert not any(d.exists() for d in killed)  # swept by the next run


# -- hostile dumps --------------------------------------------------------------------------------


@pytest.fixture()
def canary():
    """A folder the server's account could write to, and a secret it could read, were an attack to work."""
    folder = Path(tempfile.mkdtemp(prefix="uttrekk-canary-", dir="/tmp"))
    os.chmod(folder, 0o777)
    secret = folder / "secret.txt"
    secret.write_text("HEMMELIG-7f3a9\n", encoding="utf-8")
    os.chmod(secret, 0o644)
    source = folder / "more.sql"
    source.write_text("CREATE TABLE sourced (id INT);\n", encoding="utf-8")
    os.chmod(source, 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


HEADER = ("-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n--\n"
          "-- Host: localhost    Database: vond\n-- Server version\t10.11.6-MariaDB\n\n"
          "/*!40101 SET NAMES utf8mb4 */;\n"
          "CREATE TABLE `ok` (id INT PRIMARY KEY, txt VARCHAR(100));\n"
          "INSERT INTO `ok` VALUES (1,'first'),(2,'second; system touch x');\n")


def _attacks(c: Path) -> list[tuple[str, str]]:
    """(statement, what the report says) for each attack that loses no rows."""
    return [
        (f"system touch {c}/system", "a client command"),
        (f"\\! touch {c}/bang", "a client command"),
        (f"select 1; \\! touch {c}/bang2\n;", "the client command \\!"),
        (f"source {c}/more.sql", "a client command"),
        (f"\\. {c}/more.sql", "a client command"),
        (f"tee {c}/tee", "a client command"),
        (f"\\T {c}/tee2", "a client command"),
        (f"pager touch {c}/pager", "a client command"),
        ("connect vond 127.0.0.1", "a client command"),
        (f"SELECT 'x' INTO OUTFILE '{c}/outfile';", "INTO OUTFILE"),
        (f"SELECT 'x' INTO DUMPFILE '{c}/dumpfile';", "INTO DUMPFILE"),
        (f"LOAD DATA INFILE '{c}/secret.txt' INTO TABLE ok;", "LOAD DATA"),
        (f"LOAD DATA LOCAL INFILE '{c}/secret.txt' INTO TABLE ok;", "LOAD DATA"),
        (f"SET @s = LOAD_FILE('{c}/secret.txt');", "LOAD_FILE"),
        ("INSTALL PLUGIN connect SONAME 'ha_connect';", "INSTALL PLUGIN"),
        ("INSTALL SONAME 'ha_federatedx';", "INSTALL SONAME"),
        ("CREATE FUNCTION sys_exec RETURNS INTEGER SONAME 'lib_mysqludf_sys.so';", "SONAME"),
        ("CREATE SERVER fjern FOREIGN DATA WRAPPER mysql OPTIONS (HOST '127.0.0.1', USER 'root');", "CREATE SERVER"),
        ("GRANT ALL PRIVILEGES ON *.* TO 'vond'@'%' IDENTIFIED BY 'x' WITH GRANT OPTION;", "GRANT"),
        ("CREATE USER 'vond'@'localhost' IDENTIFIED BY 'x';", "CREATE USER"),
        (f"SET GLOBAL general_log_file = '{c}/general.log';", "SET GLOBAL"),
        ("SET @@GLOBAL.general_log = 1;", "SET @@GLOBAL"),
        ("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';", "NO_BACKSLASH_ESCAPES"),
        ("SET NAMES sjis;", "sjis"),
        (f"/*M!999999 ' */ ; SELECT LOAD_FILE('{c}/secret.txt') ; -- ' */;", "version comment"),
        ("USE mysql;\nINSERT INTO global_priv VALUES ('%','vond','{}');\nUSE vond;", "server's own"),
        ("INSERT INTO mysql.global_priv VALUES ('%','vond2','{}');", "server's own database"),
        (f"DELIMITER //\nsystem touch {c}/delim //\nDELIMITER ;", "+1 SYSTEM TOUCH is not"),
        ("DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;", ""),
        (f"CREATE PROCEDURE q() BEGIN SELECT 'x' INTO OUTFILE '{c}/proc'; END;", "INTO OUTFILE"),
        ("CREATE EVENT e ON SCHEDULE EVERY 1 SECOND DO INSERT INTO ok VALUES (99, 'event');", ""),
        ("FLUSH PRIVILEGES;", "FLUSH"),
        ("CHANGE MASTER TO MASTER_HOST='127.0.0.1';", "CHANGE MASTER"),
        ("PREPARE s FROM 'SELECT 1';", "PREPARE"),
    ]


def test_hostile_dump_is_refused_statement_by_statement(dump_cache, canary, tmp_path):
    attacks = _attacks(canary)
    lines = HEADER.count("\n") + 1
    text, expected = HEADER, []
    for statement, said in attacks:
        skip, _, rest = said.partition(" ") if said.startswith("+") else ("+0", "", said)
        expected.append((lines + int(skip), rest))
        text += statement + "\n"
        lines += statement.count("\n") + 1
    text += "INSERT INTO `ok` VALUES (3,'last');\n-- Dump completed on 2026-01-01\n"
    dump = tmp_path / "vond.sql"
    dump.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = run("extract", dump, "--out", out, "--date", DATE, "-q")
    assert result.exit_code == 0, result.output
    report = (out / "report" / "summary.txt").read_text(encoding="utf-8")
    for line, said in expected:
        if said:
            assert re.search(rf"(line {line}: refused|lines {line}-).*{re.escape(said)}", report), (line, said, report)
    assert not re.search(r"line \d+: ERROR", report)  # the client and server never saw a refused statement
    for name in ("system", "bang", "bang2", "tee", "tee2", "pager", "outfile", "dumpfile", "general.log", "delim",
                 "proc"):
        assert not (canary / name).exists(), name
    content = b"".join(p.read_bytes() for p in (out / "content").rglob("*") if p.is_file())
    assert b"HEMMELIG" not in content and b"sourced" not in content
    table = next((out / "content").glob("*ok*.*"))
    assert table.read_text(encoding="iso-8859-1").count("\n") == 3  # the event never ran, nothing loaded
    dialect = open_source(str(dump), quiet=True)
    try:
        with dialect.engine.connect() as conn:
            users = {r[0] for r in conn.exec_driver_sql("SELECT User FROM mysql.user")}
            assert not users & {"vond", "vond2"}
            assert conn.exec_driver_sql("SELECT @@event_scheduler").scalar() == "OFF"
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM mysql.plugin").scalar() == 0
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM mysql.servers").scalar() == 0
    finally:
        dialect.close()
    assert not _servers(dump_cache)


def test_hostile_rows_are_lost_and_stop_the_run(dump_cache, canary, tmp_path):
    text = (HEADER + f"INSERT INTO `ok` VALUES (3, LOAD_FILE('{canary}/secret.txt'));\n"
            "CREATE TABLE `pynt` (id INT, v VARCHAR(20));\n"
            "CREATE TRIGGER pynt_bi BEFORE INSERT ON pynt FOR EACH ROW SET NEW.v = 'endret';\n"
            "INSERT INTO `pynt` VALUES (1,'original');\n"
            "CREATE TABLE fed (id INT) ENGINE=FEDERATED CONNECTION='mysql://root@127.0.0.1:3306/x/y';\n"
            f"CREATE TABLE csvfile (a TEXT) ENGINE=CONNECT table_type=CSV file_name='{canary}/secret.txt';\n"
            f"CREATE TABLE dd (id INT) DATA DIRECTORY = '{canary}';\n"
            "-- Dump completed on 2026-01-01\n")
    dump = tmp_path / "tap.sql"
    dump.write_text(text, encoding="utf-8")
    out = fails(run("extract", dump, "--out", tmp_path / "out"), "lost data", "vond.ok", "vond.pynt", "vond.fed",
                "FEDERATED", "vond.csvfile", "CONNECT", "vond.dd", "DATA DIRECTORY")
    assert "LOAD_FILE" in out and "trigger pynt_bi" in out and "HEMMELIG" not in out
    dialect = open_source(str(dump), accept_losses=("ok", "vond.pynt", "fed", "csvfile", "dd"), quiet=True)
    try:
        with dialect.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM ok").scalar() == 2
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM pynt").scalar() == 0
        assert sum("accepted by the profile" in n for n in dialect.source_notes) == 5
        assert not list(canary.glob("*.MYD")) and not list(canary.glob("*.ibd"))
    finally:
        dialect.close()


def test_recognises_by_content_not_name(tmp_path):
    pg = tmp_path / "dump.sql"
    pg.write_text("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\nCREATE TABLE public.t (id integer);\n",
                  encoding="utf-8")
    plain = tmp_path / "plain.sql"
    plain.write_text("CREATE TABLE t (id INTEGER);\nINSERT INTO t VALUES (1);\n", encoding="utf-8")
    assert recognise(str(pg))[1].kind == "pg_dump"  # PostgreSQL's own kind, never this one
    with pytest.raises(Exception, match="not something uttrekk reads") as err:
        recognise(str(plain))
    assert "MySQL or MariaDB dump" in str(err.value)
    compact = tmp_path / "whatever.bin"
    compact.write_text("/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
                       "CREATE TABLE `t` (`id` int(11) NOT NULL);\n", encoding="utf-8")
    assert recognise(str(compact))[1].kind == "mysql_dump"


def test_a_sweep_leaves_the_socket_folder_of_a_run_still_starting():
    """A run's sweep removes the socket folders killed runs left, never one another run holds
    (two restores at once used to take each other's folder before the server listened)."""
    from dialects.kinds import mariadb_server as ms

    def folder(age: float) -> Path:
        path = Path(tempfile.mkdtemp(prefix="uttrekk-mariadb-"))
        (path / "mariadbd.pid").write_text("1")
        os.utime(path, (time.time() - age, time.time() - age))
        return path

    held, left, new, killed = folder(3600), folder(3600), folder(0), folder(0)
    lock = ms._hold(held)
    os.close(ms._hold(killed))  # its run held it, then died
    try:
        ms._sweep()
        assert held.is_dir() and new.is_dir()  # a living run's, and one a run is making now
        assert not left.exists() and not killed.exists()
    finally:
        os.close(lock)
    ms._sweep()  # its run is gone: now it is left behind
    assert not held.exists()
    ms._remove_socket_dir(new)


def test_restored_dump_counts_statistics_beside_the_records(dump_cache, tmp_path):
    """On the restored dump the statistics run on a second connection while the records stream: a record
    the charset cannot hold stops the reading and kills the count still running (``KILL QUERY``), a
    count that refuses a table drops what was read, and the next table's count works on that
    connection; every file as the exact path writes it."""
    from tests.test_fast_path import both_paths

    with fresh_database("mysql", "uttrekk_myb") as url:
        run_sql(url, [
            "CREATE TABLE a_emoji (id INT PRIMARY KEY, v VARCHAR(40)) CHARACTER SET utf8mb4",
            "INSERT INTO a_emoji SELECT seq, IF(seq = 1, 'smil \U0001F600', CONCAT('rad ', seq)) FROM seq_1_to_60000",
            "CREATE TABLE b_late_long (id INT PRIMARY KEY, v TEXT) CHARACTER SET utf8mb4",
            "INSERT INTO b_late_long SELECT seq, IF(seq = 60000, REPEAT('x', 2100), CONCAT('rad ', seq))"
            " FROM seq_1_to_60000",
            "CREATE TABLE c_after (id INT PRIMARY KEY, v VARCHAR(20), n DECIMAL(8,2)) CHARACTER SET utf8mb4",
            "INSERT INTO c_after SELECT seq, CONCAT('etter ', seq), seq / 100 FROM seq_1_to_5000",
        ])
        dump = mariadb_dump(tmp_path / "beside.sql", url.database)
    paths = both_paths(dump, tmp_path / "x", "[charset]\nutf8_fallback = true\n", "--charset", "ISO-8859-1")
    assert paths["c_after"] == ("server", {}), paths
    assert paths["a_emoji"][0] == "exact" and "cannot hold" in json.dumps(paths["a_emoji"][1])
    assert paths["b_late_long"][0] == "exact" and "long-text limit" in json.dumps(paths["b_late_long"][1])
    report = json.loads((tmp_path / "x" / "server" / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert "second read-only connection" in report["snapshot"]["statistics_connection"]
