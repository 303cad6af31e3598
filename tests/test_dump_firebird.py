"""Firebird backups (gbak) and database files as SOURCE (dialects/kinds/firebird_file.py).

The files are made in the test set-up with the machine's own tools from databases built on the
test Firebird server: ``gbak -b`` through the server, and the ``.fdb`` copied out of the server's
folder. The extract of each equals, file for file, the extract of the live database through its
server URL. uttrekk reads a Firebird file with the embedded engine in its own process, whose
configuration the client library reads once per process (firebird_engine.configure_client), so
every run that opens one is a process of its own (``python -m extractor``), as it is in use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa

from dialects.kinds import recognise
from dialects.kinds.firebird_restore import read_log
from extractor.errors import ConfigError, SourceError
from extractor.model import PROVENANCE_LABELS
from tests.conftest import ROOT, run
from tests.test_servers import ADMIN_URLS, FIREBIRD_DIR, _drop_firebird, _fresh_firebird

pytestmark = pytest.mark.skipif("firebird" not in ADMIN_URLS, reason="no Firebird server")

DATE = "2026-01-01"

DDL = [
    "CREATE TABLE person (id INTEGER NOT NULL PRIMARY KEY, navn VARCHAR(60), latin VARCHAR(40) CHARACTER SET ISO8859_1, "
    "tom VARCHAR(10), belop NUMERIC(12,2), presis NUMERIC(18,6), tid TIMESTAMP, dato DATE, aktiv BOOLEAN, "
    "bilde BLOB SUB_TYPE BINARY, notat BLOB SUB_TYPE TEXT, tall INTEGER[3])",
    "COMMENT ON TABLE person IS 'Personer – med samiske navn'",
    "CREATE TABLE logg (hendelse VARCHAR(100), person_id INTEGER)",
]
PEOPLE = [
    (1, "Áilu Čuđežáš – Ŋŧ Sámi", "Æøå Ü ß", "", Decimal("1234.50"), Decimal("-0.000001"),
     dt.datetime(2024, 2, 29, 13, 45, 7, 123400), dt.date(1999, 12, 31), True, bytes(range(256)) * 3,
     "Lang tekst – ŋ " * 300, [1, 2, 3]),
    (2, "", "", None, None, None, None, None, False, b"", "", None),
    (3, None, None, "x", Decimal("0.01"), Decimal("123456789012.123456"), dt.datetime(1900, 1, 1),
     dt.date(2100, 1, 1), None, None, None, [0, -1, 2147483647]),
]
LOGG = [("opprettet", 1), ("opprettet", 1), ("endret – ŋ", None), (None, 3)]


def _dsn(path: str, url: sa.engine.URL) -> str:
    return f"{url.host}/{url.port}:{path}"


def _connect(path: str, url: sa.engine.URL, **kwargs):
    from firebird.driver import connect

    return connect(_dsn(path, url), user=url.username, password=url.password, charset="UTF8", **kwargs)


def _gbak(path: str, url: sa.engine.URL, out: Path) -> Path:
    """``gbak -b`` through the server (the password in the environment, not in ``ps``)."""
    env = {**os.environ, "ISC_USER": url.username, "ISC_PASSWORD": url.password}
    subprocess.run(["gbak", "-b", "-nodbtriggers", _dsn(path, url), str(out)], env=env, check=True,
                   capture_output=True)
    return out


def _copy_out(path: str, out: Path) -> Path:
    """The database file itself, copied out of the server's folder."""
    if not os.access(path, os.R_OK):
        pytest.skip(f"the test server's database folder {FIREBIRD_DIR} is not readable here")
    shutil.copyfile(path, out)
    return out


def uttrekk(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """uttrekk in a process of its own (as in use: the client library is configured per process)."""
    return subprocess.run([sys.executable, "-m", "extractor", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def fails_with(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "Traceback" not in out and out.count("uttrekk: error:") == 1, out
    for fragment in fragments:
        assert fragment in out, (fragment, out)
    return out


def _written(root: Path) -> int:
    """Bytes in the table files under a run's partial folder so far (the run makes and empties its
    work folder meanwhile: what vanishes while it is looked at is not counted)."""
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".txt"):
                try:
                    total += os.stat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    pass
    return total


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def normalised_addml(data: bytes, label: str) -> str:
    """addml.xml with what names the source taken out: the source label (in the addml and dataset
    names and the description) and the provenance sentence a Firebird file adds to the description."""
    text = data.decode("utf-8")
    text = re.sub(r" Kilden er Firebird-[^<]*(?=</description>)", "", text)
    return text.replace(escape(label, {'"': "&quot;"}), "SOURCE")


def assert_same_extract(a: Path, label_a: str, b: Path, label_b: str) -> None:
    """``content/`` of two extracts, file for file, byte for byte (addml.xml normalised)."""
    tree_a, tree_b = _tree(a / "content"), _tree(b / "content")
    assert sorted(tree_a) == sorted(tree_b)
    for name in tree_a:
        if name == "addml.xml":
            assert normalised_addml(tree_a[name], label_a) == normalised_addml(tree_b[name], label_b)
        else:
            assert tree_a[name] == tree_b[name], name


def _label(url: sa.engine.URL) -> str:
    from dialects.base import url_label
    from dialects.drivers import with_driver

    return url_label(with_driver(url))


@pytest.fixture(scope="module")
def fb_source(tmp_path_factory):
    """A database on the test server, its gbak backup, its file, and its extract through the server."""
    path, url = _fresh_firebird()
    with _connect(path, url) as con:
        cur = con.cursor()
        for stmt in DDL:
            cur.execute(stmt)
        con.commit()
        cur.executemany("INSERT INTO person VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", PEOPLE)
        cur.executemany("INSERT INTO logg VALUES (?, ?)", LOGG)
        con.commit()
    files = tmp_path_factory.mktemp("fbfiles")
    fbk = _gbak(path, url, files / "kunde.fbk")
    fdb = _copy_out(path, files / "kunde.fdb")
    live = files / "live"
    source = url.render_as_string(hide_password=False)
    r = run("extract", source, "--out", live, "--date", DATE, "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    yield {"fbk": fbk, "fdb": fdb, "live": live, "label": _label(url), "path": path, "url": url}
    _drop_firebird(path)


def _entries(cache: Path) -> list[Path]:
    root = cache / "restored"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


@pytest.mark.parametrize("kind", ["fbk", "fdb"])
def test_a_backup_and_a_database_file_extract_like_the_live_database(fb_source, dump_cache, tmp_path, kind):
    """The extract of the gbak backup and of the database file equal, file for file, the extract of
    the database through its server (UTF8 and ISO8859_1 text with Sámi letters and an en dash, NULL
    and empty, binary and text blobs, NUMERIC, TIMESTAMP, BOOLEAN, an array)."""
    source = fb_source[kind]
    r = uttrekk("extract", source, "--out", tmp_path / "x", "--date", DATE, "--charset", "UTF-8", "-q")
    assert r.returncode == 0, r.stderr
    assert_same_extract(tmp_path / "x", str(source), fb_source["live"], fb_source["label"])
    person = (tmp_path / "x" / "content" / "person.txt").read_text(encoding="utf-8")
    assert "Áilu Čuđežáš – Ŋŧ Sámi" in person and "Æøå Ü ß" in person
    assert "no_db_triggers" in (tmp_path / "x" / "report" / "summary.txt").read_text(encoding="utf-8")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    details = json.loads((tmp_path / "x" / "report" / "extraction.json").read_text(encoding="utf-8"))["source_details"]
    assert details["dump_sha256"] == digest and details["dump_file"] == source.name
    assert details["dump_format"] == ("gbak backup format 10 (Firebird 3.0)" if kind == "fbk"
                                      else "database file, ODS 12.0 (Firebird 3.0)")
    assert set(details) - {"engine", "host", "port", "database", "schema", "user", "file", "machine"} \
        <= set(PROVENANCE_LABELS)
    for f in (tmp_path / "x").rglob("*"):  # the extract names the file, never uttrekk's cache
        assert not f.is_file() or str(dump_cache).encode() not in f.read_bytes(), f
    addml = (tmp_path / "x" / "content" / "addml.xml").read_text(encoding="utf-8")
    assert f"SHA-256 {digest}" in addml
    assert ("Firebird-sikkerhetskopien kunde.fbk" if kind == "fbk" else "Firebird-databasefilen kunde.fdb") in addml
    assert "lest med Firebird 3.0" in addml or "kopi med Firebird 3.0" in addml
    entry, = _entries(dump_cache)
    assert entry.name == f"firebird1-{digest}"
    assert (entry / "db" / "database.fdb").read_bytes()[42] & 0x20  # restored read-only (hdr_read_only)


def test_recognised_by_content_never_by_name(fb_source, tmp_path):
    """A backup and a database file under misleading names are what their first bytes say; a text
    file named .fbk is not a backup, and the message lists Firebird files among what uttrekk reads."""
    backup = tmp_path / "notes.txt"
    shutil.copyfile(fb_source["fbk"], backup)
    database = tmp_path / "backup.bak"
    shutil.copyfile(fb_source["fdb"], database)
    _, found = recognise(str(backup))
    assert found.kind == "firebird" and found.what.startswith("a Firebird gbak backup (format 10: Firebird 3.0; made ")
    assert found.facts["made from"].endswith(fb_source["path"])
    _, found = recognise(str(database))
    assert found.kind == "firebird" and found.what == "a Firebird database file (ODS 12.0: Firebird 3.0; page size 8192)"
    fake = tmp_path / "kunde.fbk"
    fake.write_text("gbak -b kunde.fdb kunde.fbk\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"UTF-8 text that is not a database dump.*a Firebird backup \(gbak, \.fbk\)"):
        recognise(str(fake))


def test_the_database_file_is_read_through_a_copy_and_the_cache_restores_once(fb_source, dump_cache, tmp_path):
    """The original .fdb keeps its bytes and mtime; the copy is in the cache entry, read-only and the
    server account's; inspect, profile init and extract of one file copy it once."""
    original = tmp_path / "kunde.fdb"
    shutil.copyfile(fb_source["fdb"], original)
    os.utime(original, (1_600_000_000, 1_600_000_000))
    before = hashlib.sha256(original.read_bytes()).hexdigest()
    assert uttrekk("inspect", original, "--no-scan").returncode == 0
    entry, = _entries(dump_cache)
    copy = entry / "db" / "database.fdb"
    marker = (entry / "restored.json").read_text(encoding="utf-8")
    first = copy.stat()
    assert copy.read_bytes()[:16] != b"" and first.st_uid != 0 and first.st_mode & 0o077 == 0
    assert copy.read_bytes()[42] & 0x20  # the copy's header says read-only (hdr_read_only)
    r = uttrekk("profile", "init", original, "-o", tmp_path / "p.toml")
    assert r.returncode == 0, r.stderr
    r = uttrekk("extract", original, "--out", tmp_path / "x", "--date", DATE, "--charset", "UTF-8", "-q")
    assert r.returncode == 0, r.stderr
    assert (entry / "restored.json").read_text(encoding="utf-8") == marker
    assert copy.stat().st_ino == first.st_ino and copy.stat().st_mtime == first.st_mtime
    assert hashlib.sha256(original.read_bytes()).hexdigest() == before
    assert original.stat().st_mtime == 1_600_000_000
    assert _entries(dump_cache) == [entry]


def test_a_process_that_loaded_the_client_library_otherwise_is_refused(fb_source, dump_cache):
    """The client library reads its configuration once per process: this one (the test process)
    loaded it to talk to the test server, so it cannot read a Firebird file with uttrekk's."""
    from dialects import open_source

    with pytest.raises(SourceError, match="loaded Firebird's client library already"):
        open_source(str(fb_source["fbk"]))


# -- hostile files ---------------------------------------------------------------------------------

CANARY = "hemmelig-kanari"


def _database(statements: list[str]) -> tuple[str, sa.engine.URL]:
    """A new database on the test server made of ``statements``, each committed."""
    path, url = _fresh_firebird()
    with _connect(path, url) as con:
        for stmt in statements:
            con.cursor().execute(stmt)
            con.commit()
    return path, url


@pytest.fixture(scope="module")
def fb_victim():
    """A database on the test server that hostile files try to write into over the network."""
    victim, url = _database(["CREATE TABLE victim (hva VARCHAR(100))"])
    remote = f"'{url.host}/{url.port}:{victim}' AS USER '{url.username}' PASSWORD '{url.password}'"
    yield {"path": victim, "url": url, "remote": remote}
    _drop_firebird(victim)


def _victims(fb_victim) -> list[str]:
    with _connect(fb_victim["path"], fb_victim["url"]) as con:
        cur = con.cursor()
        cur.execute("SELECT hva FROM victim")
        found = [r[0] for r in cur.fetchall()]
        cur.execute("DELETE FROM victim")
        con.commit()
    return sorted(found)


def _hostile(statements: list[str], folder: Path, name: str) -> dict[str, Path | str]:
    """A database made of ``statements`` on the test server, its gbak backup and its file."""
    path, url = _database(statements)
    return {"fbk": _gbak(path, url, folder / f"{name}.fbk"), "fdb": _copy_out(path, folder / f"{name}.fdb"),
            "path": path}


@pytest.fixture(scope="module")
def fb_hostile(tmp_path_factory, fb_victim):
    """A UDF declared on libc's system(), an ON CONNECT trigger that writes a row and inserts into
    the victim database over the network, a procedure that would too, and an external table on a
    canary file."""
    folder = tmp_path_factory.mktemp("fbhostile")
    canary = folder / "canary.txt"
    canary.write_text(CANARY, encoding="ascii")
    os.utime(canary, (1_600_000_000, 1_600_000_000))
    remote = fb_victim["remote"]
    made = _hostile([
        "DECLARE EXTERNAL FUNCTION sys_call CSTRING(255) RETURNS INTEGER BY VALUE ENTRY_POINT 'system' "
        "MODULE_NAME 'libc.so.6'",
        "CREATE TABLE logg (id INTEGER, hva VARCHAR(100))",
        "CREATE TABLE data (id INTEGER NOT NULL PRIMARY KEY, navn VARCHAR(20))",
        "INSERT INTO data VALUES (1, 'Sápmi – ŋ')",
        f"CREATE TABLE ext EXTERNAL FILE '{canary}' (c CHAR({len(CANARY)}))",
        f"CREATE PROCEDURE reach AS BEGIN EXECUTE STATEMENT 'INSERT INTO victim VALUES (''procedure'')' "
        f"ON EXTERNAL {remote} WITH AUTONOMOUS TRANSACTION; END",
        f"CREATE TRIGGER on_connect ON CONNECT AS BEGIN INSERT INTO logg VALUES (1, 'connect'); EXECUTE STATEMENT "
        f"'INSERT INTO victim VALUES (''connect'')' ON EXTERNAL {remote} WITH AUTONOMOUS TRANSACTION; END",
    ], folder, "fiendtlig")
    yield {**made, "canary": canary}
    _drop_firebird(str(made["path"]))
    _victims(fb_victim)


@pytest.fixture(scope="module")
def fb_reaching(tmp_path_factory, fb_victim):
    """Computed columns whose PSQL inserts into the victim database, over the network and by its path."""
    victim = fb_victim["path"]
    made = _hostile([
        f"CREATE FUNCTION reach_remote RETURNS INTEGER AS BEGIN EXECUTE STATEMENT "
        f"'INSERT INTO victim VALUES (''remote'')' ON EXTERNAL {fb_victim['remote']} WITH AUTONOMOUS TRANSACTION; "
        "RETURN 1; END",
        f"CREATE FUNCTION reach_local RETURNS INTEGER AS BEGIN EXECUTE STATEMENT "
        f"'INSERT INTO victim VALUES (''local'')' ON EXTERNAL '{victim}' WITH AUTONOMOUS TRANSACTION; RETURN 1; END",
        "CREATE TABLE nett (id INTEGER NOT NULL PRIMARY KEY, fjern COMPUTED BY (reach_remote()))",
        "CREATE TABLE lokal (id INTEGER NOT NULL PRIMARY KEY, naer COMPUTED BY (reach_local()))",
        "INSERT INTO nett (id) VALUES (1)",
        "INSERT INTO lokal (id) VALUES (1)",
    ], tmp_path_factory.mktemp("fbreaching"), "rekkevidde")
    yield made
    _drop_firebird(str(made["path"]))


@pytest.mark.parametrize("kind", ["fbk", "fdb"])
def test_a_hostile_file_runs_nothing_and_reads_nothing_outside_it(fb_hostile, fb_victim, dump_cache, tmp_path, kind):
    """Restored and read whole, the file's ON CONNECT trigger did not run (its log table is empty, the
    victim database got nothing), no UDF was loaded, the external table was left out and its canary
    file neither read nor changed, and the report names each and what was switched off. Then the
    same database on the server: connecting runs the trigger, so the attack is real."""
    r = uttrekk("extract", fb_hostile[kind], "--out", tmp_path / "x", "--date", DATE, "--charset", "UTF-8", "-q")
    assert r.returncode == 0, r.stderr
    content = tmp_path / "x" / "content"
    assert (content / "logg.txt").read_bytes() == b""
    assert "Sápmi – ŋ" in (content / "data.txt").read_text(encoding="utf-8")
    assert not (content / "ext.txt").exists()
    summary = (tmp_path / "x" / "report" / "summary.txt").read_text(encoding="utf-8")
    for said in ("no external function (UDF) or UDR library loaded", "no database trigger run",
                 "no other database and no network reachable", "SYS_CALL (libc.so.6!system)",
                 "ON_CONNECT (ON CONNECT)", f"EXT ({fb_hostile['canary']})", "ON EXTERNAL) could not reach them: "
                 "ON_CONNECT, REACH"):
        assert said in summary, (said, summary)
    assert fb_hostile["canary"].read_text(encoding="ascii") == CANARY
    assert fb_hostile["canary"].stat().st_mtime == 1_600_000_000
    for f in (tmp_path / "x").rglob("*"):
        assert not f.is_file() or CANARY.encode() not in f.read_bytes(), f
    assert _victims(fb_victim) == []
    with _connect(str(fb_hostile["path"]), fb_victim["url"]):
        pass
    assert _victims(fb_victim) == ["connect"]


@pytest.mark.parametrize("kind", ["fbk", "fdb"])
def test_computed_columns_that_reach_other_databases_are_refused(fb_reaching, fb_victim, dump_cache, tmp_path, kind):
    """A computed column whose PSQL inserts into another database, over the network or by its local
    path, stops the run with one line saying why; the victim got nothing. On the server it does."""
    for table in ("nett", "lokal"):
        fails_with(uttrekk("extract", fb_reaching[kind], "--out", tmp_path / table, "--table", table, "-q"),
                   f"reading table {table} failed", "connects to another database, EXECUTE STATEMENT … ON EXTERNAL")
    assert _victims(fb_victim) == []
    with _connect(str(fb_reaching["path"]), fb_victim["url"]) as con:
        cur = con.cursor()
        cur.execute("SELECT n.fjern, l.naer FROM nett n CROSS JOIN lokal l")
        assert cur.fetchall() == [(1, 1)]
        con.commit()
    assert _victims(fb_victim) == ["local", "remote"]


# -- what cannot be read ---------------------------------------------------------------------------


def test_a_cut_backup_and_a_cut_database_file_get_one_error_and_leave_nothing_complete(fb_source, dump_cache,
                                                                                      tmp_path):
    cut = tmp_path / "kunde.fbk"
    data = fb_source["fbk"].read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    fails_with(uttrekk("inspect", cut, "--no-scan"), "gbak could not restore the backup", "cut short")
    cut_db = tmp_path / "kunde.fdb"
    data = fb_source["fdb"].read_bytes()
    cut_db.write_bytes(data[:len(data) // 2])
    fails_with(uttrekk("inspect", cut_db, "--no-scan"), "gfix could not validate the copy (the file is cut short)")
    assert [list(e.iterdir()) for e in _entries(dump_cache)] == [[], []]  # nothing half-restored is kept


def test_a_damaged_database_file_gets_one_error(fb_source, dump_cache, tmp_path):
    """The record directory of the data pages of the tables (page type 5, relation 128 and up: ods.h's
    data_page) overwritten: the file opens, and gfix -validate finds the damage."""
    damaged = tmp_path / "kunde.fdb"
    data = bytearray(fb_source["fdb"].read_bytes())
    size = int.from_bytes(data[16:18], "little")
    pages = [n * size for n in range(len(data) // size)
             if data[n * size] == 5 and int.from_bytes(data[n * size + 20:n * size + 22], "little") >= 128]
    assert pages
    for at in pages:
        data[at + 24:at + 40] = b"\xde\xad" * 8
    damaged.write_bytes(bytes(data))
    fails_with(uttrekk("inspect", damaged, "--no-scan"), "the database file is damaged (gfix -validate found")


def _patched(source: Path, out: Path, at: int, value: bytes) -> Path:
    data = bytearray(source.read_bytes())
    data[at:at + len(value)] = value
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(("at", "value", "fragments"), [
    (18, (13 | 0x8000).to_bytes(2, "little") + b"\0\0", ["ODS 13.0 (Firebird 4.0), newer than this machine's "
                                                          "Firebird 3.0, which opens ODS 12.0 only",
                                                          "install Firebird 4.0 or newer"]),
    (18, (11 | 0x8000).to_bytes(2, "little"), ["ODS 11.2 (Firebird 2.5), older than this machine's Firebird 3.0",
                                               "back it up with the gbak of Firebird 2.5"]),
    (42, (0x12 | 0x40).to_bytes(2, "little"), ["the database file is encrypted"]),
    (42, (0x12 | 0x400).to_bytes(2, "little"), ["locked by nbackup (state stalled)", "delta file"]),
    (24, (7).to_bytes(4, "little"), ["multi-file database"]),
], ids=["ods-too-new", "ods-too-old", "encrypted", "nbackup", "multi-file"])
def test_a_database_file_this_firebird_cannot_read_alone_is_refused_before_copying(fb_source, dump_cache, tmp_path,
                                                                                     at, value, fragments):
    patched = _patched(fb_source["fdb"], tmp_path / "kunde.fdb", at, value)
    if at == 18 and value[0] == 11:  # ODS 11.2 (Firebird 2.5) keeps its minor version at 62
        patched = _patched(patched, patched, 62, (2).to_bytes(2, "little"))
    if at == 18 and value[0] == 13:  # and ODS 13.1 (Firebird 5.0)
        patched = _patched(patched, patched, 64, (1).to_bytes(2, "little"))
        fragments = ["ODS 13.1 (Firebird 5.0), newer than this machine's Firebird 3.0, which opens ODS 12.0 only",
                     "install Firebird 5.0 or newer"]
    fails_with(uttrekk("inspect", patched, "--no-scan"), *fragments)
    assert _entries(dump_cache) == []


def test_a_backup_newer_than_this_gbak_is_refused(fb_source, dump_cache, tmp_path):
    patched = _patched(fb_source["fbk"], tmp_path / "kunde.fbk", 3, (11).to_bytes(4, "little"))
    fails_with(uttrekk("inspect", patched, "--no-scan"), "gbak backup of format 11 (Firebird 4.0 or 5.0), newer than "
               "this machine's gbak restores (Firebird 3.0: format 10 and older)", "install Firebird 5.0 or newer")
    assert _entries(dump_cache) == []


# -- losses ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fb_lossy(tmp_path_factory):
    """A backup one of whose rows gbak cannot store: a UTF8 text made malformed in the backup file."""
    path, url = _database(["CREATE TABLE sak (id INTEGER NOT NULL PRIMARY KEY, tittel VARCHAR(40))",
                           "INSERT INTO sak VALUES (1, 'Sápmi')", "INSERT INTO sak VALUES (2, 'Oslo')",
                           "INSERT INTO sak VALUES (3, 'Tromsø')"])
    folder = tmp_path_factory.mktemp("fblossy")
    fbk = _gbak(path, url, folder / "tap.fbk")
    data = fbk.read_bytes()
    at = data.index("Sápmi".encode())
    fbk.write_bytes(data[:at + 1] + b"\xff\xfe" + data[at + 3:])  # 'á' (C3 A1) -> two bytes no UTF-8 starts with
    yield fbk
    _drop_firebird(path)


def test_a_restore_that_loses_rows_stops_unless_the_profile_accepts_the_loss(fb_lossy, dump_cache, tmp_path):
    fails_with(uttrekk("extract", fb_lossy, "--out", tmp_path / "x", "-q"),
               "the restore lost data", "table SAK: 1 record(s) not restored (Malformed string",
               "accept the loss")
    assert not (tmp_path / "x").exists()
    script = ("from dialects.kinds import open_source\n"
              f"d = open_source({str(fb_lossy)!r}, accept_losses=('sak',))\n"
              "print('\\n'.join(d.source_notes))\n"
              "d.close()\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "the restore lost data the profile accepts: table SAK: 1 record(s) not restored (Malformed string" in r.stdout
    assert len(_entries(dump_cache)) == 1  # restored once: the second open found it in the cache


GBAK_LOG_METADATA_LOST = """\
gbak:restoring table T
gbak:committing metadata for table T
gbak:error committing metadata for table T
gbak: ERROR:unsuccessful metadata update
gbak: ERROR:    T
gbak: ERROR:    CHARACTER SET ISO8859_1 is not installed
gbak:committing metadata
   0 blr_version4,
  36             blr_relation, 1, 'T', 0,
gbak: ERROR:table T is not defined
gbak:     2 records ignored
gbak:restoring table U
gbak:restoring data for table U
gbak:   5 records restored
gbak:creating indexes
gbak:    activating and creating deferred index RDB$PRIMARY2
gbak: ERROR:attempt to store duplicate value (visible to active transactions) in unique index "RDB$PRIMARY2"
gbak:finishing, closing, and going home
"""
"""gbak 3.0's verbose log of a restore (-one_at_a_time) whose table T could not be created, as
gbak wrote it when fbintl was missing, and an index it could not activate (which loses no row)."""


def test_gbak_log_says_which_table_and_rows_were_lost_and_what_only_needs_a_note():
    restored = read_log(GBAK_LOG_METADATA_LOST)
    assert restored.tables == ["T", "U"]
    assert restored.lost == {"T": "table not restored; 2 record(s) not restored (unsuccessful metadata update; T; "
                                  "CHARACTER SET ISO8859_1 is not installed; table T is not defined)"}
    assert restored.notes == ["gbak: activating and creating deferred index RDB$PRIMARY2: attempt to store "
                              "duplicate value (visible to active transactions) in unique index \"RDB$PRIMARY2\""]


# -- kill -9 -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fb_big(tmp_path_factory):
    """A backup whose restore takes long enough to be killed in the middle."""
    path, url = _database([
        "CREATE TABLE stor (id INTEGER NOT NULL PRIMARY KEY, t VARCHAR(200))",
        "EXECUTE BLOCK AS DECLARE i INTEGER = 0; BEGIN WHILE (i < 400000) DO BEGIN "
        "INSERT INTO stor VALUES (:i, 'Sámi – ' || :i || LPAD('', 150, 'x')); i = i + 1; END END"])
    fbk = _gbak(path, url, tmp_path_factory.mktemp("fbbig") / "stor.fbk")
    _drop_firebird(path)
    return fbk


def _processes(fragment: str) -> list[str]:
    """Command lines of the running processes that hold ``fragment`` (what ``ps`` shows, unabridged)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:  # ended meanwhile, or not a process
            continue
        if fragment in args:
            found.append(f"{proc.name} {args}")
    return found


def test_kill_9_during_the_restore_leaves_no_process_and_nothing_complete(fb_big, dump_cache, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "inspect", str(fb_big), "--no-scan"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _processes(f"{dump_cache}/restored/firebird1-"):
        assert proc.poll() is None and time.monotonic() < deadline, "gbak never started"
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _processes(str(dump_cache)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes(str(dump_cache)) == []
    entry, = _entries(dump_cache)
    assert not (entry / "restored.json").exists()
    r = uttrekk("inspect", fb_big, "--no-scan")
    assert r.returncode == 0 and "stor: 400000 rows" in r.stdout, r.stdout + r.stderr
    assert (entry / "restored.json").exists()


@pytest.mark.parametrize(("sig", "status", "said"), [(signal.SIGTERM, 143, "uttrekk: terminated (SIGTERM)"),
                                                     (signal.SIGINT, 130, "uttrekk: interrupted")])
def test_sigterm_and_ctrl_c_while_reading_end_in_one_line(fb_big, dump_cache, tmp_path, sig, status, said):
    """Stopped while it reads a table, uttrekk ends as it does for any source: one line, the
    finished tables kept, no traceback and no crash of the embedded engine at exit (firebird_engine:
    the client library's own signal handlers, and a connection sqlalchemy-firebird cannot terminate)."""
    assert uttrekk("inspect", fb_big, "--no-scan").returncode == 0  # restored before the run that is stopped
    out = tmp_path / "x"
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "extract", str(fb_big), "--out", str(out),
                             "--charset", "UTF-8"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.monotonic() + 120
    while _written(tmp_path / ".x.uttrekk-partial") < 4 << 20:
        assert proc.poll() is None and time.monotonic() < deadline, "the extract never wrote 4 MiB"
        time.sleep(0.02)
    proc.send_signal(sig)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == status, output
    assert said in output and "Traceback" not in output and "Exception" not in output, output


def test_database_option_is_refused_for_a_firebird_file(fb_source):
    """A Firebird file holds one database: --database NAME cannot choose among several."""
    from dialects import open_source

    with pytest.raises(ConfigError, match="which holds one database; leave --database out"):
        open_source(str(fb_source["fbk"]), database="kunde")


def test_sigterm_while_reading_a_firebird_server_ends_in_one_line(tmp_path):
    """The same two client-library fixes hold for a Firebird URL (dialects/firebird.py): without them
    SIGTERM in the middle of a fetch crashed the process (exit 139) instead of one line and 143."""
    path, url = _database([
        "CREATE TABLE stor (id INTEGER NOT NULL PRIMARY KEY, t VARCHAR(200))",
        "EXECUTE BLOCK AS DECLARE i INTEGER = 0; BEGIN WHILE (i < 400000) DO BEGIN "
        "INSERT INTO stor VALUES (:i, 'Sámi – ' || :i || LPAD('', 150, 'x')); i = i + 1; END END"])
    try:
        out = tmp_path / "x"
        proc = subprocess.Popen([sys.executable, "-m", "extractor", "extract", url.render_as_string(hide_password=False),
                                 "--out", str(out), "--charset", "UTF-8"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while _written(tmp_path / ".x.uttrekk-partial") < 4 << 20:
            assert proc.poll() is None and time.monotonic() < deadline, "the extract never wrote 4 MiB"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=120)[0]
        assert proc.returncode == 143, output
        assert "uttrekk: terminated (SIGTERM)" in output and "Traceback" not in output, output
    finally:
        _drop_firebird(path)


def test_a_firebird_file_counts_statistics_beside_the_records(dump_cache, tmp_path):
    """uttrekk's copy of a Firebird file is read-only, so the fast path counts a table's statistics on a
    second attachment while the first reads the records: a record the charset cannot hold stops the
    reading and cancels the count (``fb_cancel_operation``), a count that refuses a table (a long
    text in its last row) drops what was read, and the next table's count works on that attachment;
    every file as the exact path writes it, and extraction.json says how the statistics were counted."""
    path, url = _fresh_firebird()
    try:
        with _connect(path, url) as con:
            cur = con.cursor()
            for stmt in ("CREATE TABLE a_emoji (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(40))",
                         "CREATE TABLE b_late_long (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(3000))",
                         "CREATE TABLE c_after (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(20), n NUMERIC(8,2))"):
                cur.execute(stmt)
            con.commit()
            cur.execute("EXECUTE BLOCK AS DECLARE i INTEGER = 1; BEGIN WHILE (i <= 60000) DO BEGIN "
                        "INSERT INTO a_emoji VALUES (:i, IIF(:i = 1, 'smil \U0001F600', 'rad ' || :i)); "
                        "INSERT INTO b_late_long VALUES (:i, IIF(:i = 60000, LPAD('', 2100, 'x'), 'rad ' || :i)); "
                        "IF (i <= 5000) THEN INSERT INTO c_after VALUES (:i, 'etter ' || :i, :i / 100.0); "
                        "i = i + 1; END END")
            con.commit()
        fbk = _gbak(path, url, tmp_path / "beside.fbk")
    finally:
        _drop_firebird(path)
    reports = {}
    for name, output in (("server", ""), ("exact", '[output]\nrendering = "exact"\n')):
        profile = tmp_path / f"{name}.toml"
        profile.write_text(output + "[charset]\nutf8_fallback = true\n", encoding="utf-8")
        r = uttrekk("extract", fbk, "--out", tmp_path / name, "--date", DATE, "--charset", "ISO-8859-1", "-q",
                    "--profile", profile)
        assert r.returncode == 0, r.stdout + r.stderr
        reports[name] = json.loads((tmp_path / name / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert _tree(tmp_path / "server" / "content") == _tree(tmp_path / "exact" / "content")
    paths = {t["table"]: (t["rendering"], json.dumps(t.get("exact_path_reasons", {})))
             for t in reports["server"]["tables"] if "rendering" in t}
    assert paths["c_after"] == ("server", "{}"), paths
    assert paths["a_emoji"][0] == "exact" and "cannot hold" in paths["a_emoji"][1], paths
    assert paths["b_late_long"][0] == "exact" and "long-text limit" in paths["b_late_long"][1], paths
    assert "second attachment" in reports["server"]["snapshot"]["statistics_connection"]
