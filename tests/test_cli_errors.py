"""Bad input: one clear message, a non-zero exit, and never a directory that looks finished."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import EXAMPLE_PROFILE, fails, make_db, run

UTTREKK = [sys.executable, "-m", "extractor"]


def test_missing_file(tmp_path):
    fails(run("extract", tmp_path / "none.sqlite", "--out", tmp_path / "o"), "no such file")
    assert not (tmp_path / "o").exists()


def test_not_a_database(tmp_path):
    """Whatever SOURCE is, by its content not its name: one line saying what it looks like and what uttrekk reads."""
    import zipfile


    f = tmp_path / "x.sqlite"
    f.write_text("hello")
    fails(run("extract", f, "--out", tmp_path / "o"), "UTF-8 text that is not a database dump", "SOURCE may be",
          "a SQLite database file")
    fails(run("inspect", tmp_path), "a folder of 1 entries")
    (tmp_path / "tom").mkdir()
    fails(run("inspect", tmp_path / "tom"), "an empty folder")
    (tmp_path / "tom.db").write_bytes(b"")
    fails(run("inspect", tmp_path / "tom.db"), "an empty file")
    with zipfile.ZipFile(tmp_path / "a.sqlite", "w") as z:
        z.writestr("readme.txt", "x")
    fails(run("inspect", tmp_path / "a.sqlite"), "a ZIP archive")
    (tmp_path / "b.dump").write_bytes(bytes(range(256)) * 4)
    fails(run("inspect", tmp_path / "b.dump"), "binary data")
    (tmp_path / "c.txt").write_bytes("blåbær".encode("latin-1"))
    fails(run("inspect", tmp_path / "c.txt"), "text that is not UTF-8")
    fails(run("inspect", tmp_path / "borte.fdb"), "no such file or folder")


def test_unknown_table_and_column_in_profile(tmp_path, example_db):
    prof = tmp_path / "p.toml"
    prof.write_text('[tables.NOPE]\ndescription = "x"\n[tables.SAK.columns.bogus]\ndescription = "y"\n'
                    '[tables.SAK]\nfoo = 1\n')
    out = fails(run("extract", example_db, "--profile", prof, "--out", tmp_path / "o"),
                 "tables.NOPE: no such table", "tables.SAK.columns.bogus: no such column",
                 "tables.SAK.foo: unknown key", "3 problem(s)")
    assert str(prof) in out
    assert not (tmp_path / "o").exists()


def test_unencodable_without_policy_stops_before_writing(tmp_path, example_db):
    out = fails(run("extract", example_db, "--out", tmp_path / "o"),
                 "cannot be written as ISO-8859-1", "SAK.tittel [id=5]: U+2013",
                 "TILTAKSHAVER.navn", "U+010C", "[charset.map]")
    assert "nothing was written" in out
    assert not (tmp_path / "o").exists()
    assert not list(tmp_path.glob(".o*"))


def test_existing_output_is_refused_unless_overwrite(tmp_path, example_db):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    fails(run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", out), "exists and is not empty")
    assert (out / "keep.txt").exists()
    r = run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", out, "--overwrite", "-q")
    assert r.exit_code == 0, r.output
    assert not (out / "keep.txt").exists() and (out / "content" / "addml.xml").exists()


def test_empty_existing_output_is_used(tmp_path, example_db):
    out = tmp_path / "o"
    out.mkdir()
    assert run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", out, "-q").exit_code == 0
    assert (out / "content" / "addml.xml").exists()


def test_unknown_url_scheme_suggests(tmp_path):
    fails(run("inspect", "postgresq://u@h/db"), "Did you mean 'postgresql'")


def test_bad_date_option(tmp_path, example_db):
    fails(run("extract", example_db, "--out", tmp_path / "o", "--date", "2020-13-40"), "--date")


def test_nonconforming_value_in_xml_control_char(tmp_path):
    db = make_db(tmp_path / "c.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);",
                 {"t": [(1, "bell\x07")]})
    fails(run("extract", db, "--out", tmp_path / "o", "--format", "xml"), "t.v [id=1]: U+0007", "XML 1.0")
    assert run("extract", db, "--out", tmp_path / "o2", "-q").exit_code == 0


def test_source_is_never_written(tmp_path, example_db):
    before = example_db.read_bytes()
    assert run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", tmp_path / "o", "-q").exit_code == 0
    assert example_db.read_bytes() == before
    assert not Path(str(example_db) + "-journal").exists()


def test_read_only_connection_refuses_writes(example_db):
    from dialects import open_source
    d = open_source(str(example_db))
    try:
        with d.engine.connect() as conn:
            try:
                conn.exec_driver_sql("DELETE FROM SAK")
            except Exception as exc:  # sqlite3.OperationalError wrapped by SQLAlchemy
                assert "readonly" in str(exc).lower() or "read-only" in str(exc).lower()
            else:
                raise AssertionError("a write through uttrekk's connection was accepted")
    finally:
        d.close()


def test_killed_run_leaves_no_finished_looking_output(tmp_path):
    db = tmp_path / "big.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b REAL)")
    con.executemany("INSERT INTO t VALUES (?,?,?)", ((i, f"rad {i} ;\"x\"", i / 7) for i in range(400_000)))
    con.commit()
    con.close()
    out = tmp_path / "o"
    proc = subprocess.Popen([*UTTREKK, "extract", str(db), "--out", str(out), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    partial = tmp_path / ".o.uttrekk-partial"
    deadline = time.time() + 60
    while not (partial / "content").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, "the run finished before it could be killed; make the table bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert partial.exists()  # clearly named as unfinished
    r = run("extract", db, "--out", out, "-q")  # a new run starts clean
    assert r.exit_code == 0, r.output
    assert not partial.exists() and (out / "content" / "t.txt").exists()


def test_unseen_database_with_odd_names_and_mixed_storage(tmp_path):
    """Identifiers with spaces, reserved words and æøå; untyped and mixed-type columns; no PK."""
    db = make_db(tmp_path / "w.sqlite", '''
        CREATE TABLE "Order Details" ("select" INTEGER PRIMARY KEY, "Navn på person" TEXT, "from" DATE, x);
        CREATE TABLE "æøå" (id INTEGER PRIMARY KEY, "Verdi" REAL);
        CREATE TABLE wr (a TEXT NOT NULL, b INTEGER NOT NULL, c BLOB, PRIMARY KEY (a, b)) WITHOUT ROWID;
        CREATE TABLE tom (id INTEGER PRIMARY KEY);
        CREATE TABLE notype (a, b);
        CREATE VIEW v AS SELECT * FROM wr;
    ''', {"Order Details": [(1, "Åse", "2020-01-01", 1), (2, "Per", "ukjent", 2.5), (3, None, None, "t"),
                            (4, "", "2021-02-29", b"\x00\x01")],
          "æøå": [(1, 1.5), (2, None)], "wr": [("k", 1, b"abc"), ("k", 2, None)],
          "notype": [(1, "x"), (1, "x"), (2.5, b"\xff")]})
    r = run("extract", db, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    content = tmp_path / "o" / "content"
    assert sorted(p.name for p in content.glob("*.txt")) == [
        "LOBFILER.txt", "Order_Details.txt", "aeoa.txt", "notype.txt", "tom.txt", "wr.txt"]
    assert (content / "Order_Details.txt").read_bytes() == (
        "1;Åse;2020-01-01;1\r\n2;Per;ukjent;2.5\r\n3;;;t\r\n4;\"\";2021-02-29;0001\r\n".encode("latin-1"))
    assert (content / "notype.txt").read_bytes() == b"1;1;x\r\n2;1;x\r\n3;2.5;FF\r\n"  # uttrekk_lopenr first
    report = (tmp_path / "o" / "report" / "deviations.tsv").read_text(encoding="utf-8")
    assert "kolonne from: deklarert som date, men 2 verdi(er) passer ikke" in report
    assert "Order Details\tx\tselect=4\tbinary_as_hex" in report and "notype\tb\tuttrekk_lopenr=3\tbinary_as_hex" in report
    assert "deklarert som unknown" not in report
    assert (content / "lob" / "wr" / "c" / "1.bin").read_bytes() == b"abc"


def test_expected_arkade_findings_follow_the_data(tmp_path):
    """A.16 is predicted only for foreign keys whose field is really empty in some record."""
    db = make_db(tmp_path / "f.sqlite", """
        CREATE TABLE person (id INTEGER PRIMARY KEY);
        CREATE TABLE full (id INTEGER PRIMARY KEY, bilde BLOB NOT NULL, person_id INTEGER NOT NULL REFERENCES person(id));
        CREATE TABLE sparse (id INTEGER PRIMARY KEY, bilde BLOB, person_id INTEGER REFERENCES person(id));
    """, {"person": [(1,)], "full": [(1, b"x", 1)], "sparse": [(1, b"y", 1), (2, None, None)]})
    r = run("extract", db, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    summary = (tmp_path / "o" / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "sparse(bilde) -> LOBFILER" in summary and "sparse(person_id) -> person" in summary
    assert "full(" not in summary
    assert "AH.02 will list the 2 file(s)" in summary


def test_nul_characters_are_kept_and_reported(tmp_path):
    db = make_db(tmp_path / "nul.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)",
                 {"t": [(1, "før\x00etter"), (2, "vanlig")]})
    r = run("extract", db, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "content" / "t.txt").read_bytes() == "1;før\x00etter\r\n2;vanlig\r\n".encode("latin-1")
    lines = (tmp_path / "o" / "report" / "deviations.tsv").read_text(encoding="utf-8").splitlines()
    assert "t\ta\tid=1\tnul_kept\t1 NUL character(s) (U+0000) in the value, kept as they are" in lines
    assert not [ln for ln in lines if "id=2" in ln]


def test_jobs_out_of_range_is_a_clear_error(example_db, tmp_path):
    r = run("extract", example_db, "--out", tmp_path / "o", "--jobs", "0")
    assert r.exit_code == 2 and "--jobs" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_reflection_notes_reach_the_summary(tmp_path, monkeypatch):
    """What an adapter notes about the source (unreadable types, physical pointers) is in summary.txt."""
    from dialects.sqlite import SQLite
    from extractor.pipeline import Options, run_extract

    db = make_db(tmp_path / "n.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)", {"t": [(1, "x")]})
    real = SQLite.reflect

    def noting(self, schema=None, views=False):
        reflected = real(self, schema, views)
        return type(reflected)(reflected.tables, reflected.source_label, reflected.engine,
                               ("t.a: BFILE: only the file name is archived",))

    monkeypatch.setattr(SQLite, "reflect", noting)
    run_extract(str(db), tmp_path / "o", None, Options(quiet=True))
    summary = (tmp_path / "o" / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "- t.a: BFILE: only the file name is archived" in summary
