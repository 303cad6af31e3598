"""The command line around dumps: inspect says what SOURCE is and lists a dump's databases,
--database chooses one, the profile's [source] accept_losses lets a restore lose what it names,
and --jobs reaches a restored server through Dialect.worker_source. The dump is the tests' fake
kind (tests/fakedump.py), so this is the plumbing alone, whatever the engine kinds do."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dialects.kinds import KINDS
from extractor.cli import cli
from extractor.profile import parse_profile
from tests import fakedump
from tests.conftest import fails, fresh_database, run, run_sql

TWO = {"arkiv": "CREATE TABLE sak (id INTEGER PRIMARY KEY, tittel TEXT); INSERT INTO sak VALUES (1, 'Áilu');",
       "lonn": "CREATE TABLE utbetaling (id INTEGER PRIMARY KEY, belop TEXT); INSERT INTO utbetaling VALUES (7, '1.50');"}


@pytest.fixture()
def fake_kind(monkeypatch, dump_cache):
    monkeypatch.setitem(KINDS, "fake", "tests.fakedump:FakeDump")
    return dump_cache


def test_inspect_lists_the_databases_of_a_dump_and_how_to_choose(tmp_path, fake_kind):
    dump = tmp_path / "alle.dump"
    dump.write_bytes(fakedump.make(TWO))
    out = fails(run("inspect", dump), "holds 2 databases: arkiv, lonn; choose one with --database NAME")
    assert out.startswith("What: a fake dump for tests (fakedump 1)\nIt holds 2 databases: arkiv, lonn.\n"
                          "Choose one with --database NAME (give the same to profile init and extract).\n")
    r = CliRunner().invoke(cli, ["inspect", str(dump), "--json"])
    info = json.loads(r.stdout)
    assert info["databases"] == ["arkiv", "lonn"] and info["database"] is None and info["kind"] == "fake"
    assert r.exit_code == 1 and "--database NAME" in r.stderr
    r = run("inspect", dump, "--database", "lonn", "--no-scan")
    assert r.exit_code == 0, r.output
    assert "It holds 2 databases: arkiv, lonn.\nDatabase: lonn (chosen with --database)" in r.output
    assert "utbetaling: 1 rows" in r.output
    info = json.loads(run("inspect", dump, "--database", "lonn", "--json", "--no-scan").output)
    assert info["what"]["database"] == "lonn" and info["what"]["provenance"]["file"] == "alle.dump"
    assert [t["table"] for t in info["tables"]] == ["utbetaling"]


def test_database_chooses_in_extract_and_profile_init(tmp_path, fake_kind):
    dump = tmp_path / "alle.dump"
    dump.write_bytes(fakedump.make(TWO))
    fails(run("extract", dump, "--out", tmp_path / "o"), "holds 2 databases: arkiv, lonn", "--database NAME")
    r = run("extract", dump, "--database", "arkiv", "--out", tmp_path / "o", "--charset", "UTF-8")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "content" / "sak.txt").exists()
    assert not (tmp_path / "o" / "content" / "utbetaling.txt").exists()
    r = run("profile", "init", dump, "--database", "lonn")
    assert r.exit_code == 0, r.output
    assert "[tables.utbetaling]" in r.output and "[tables.sak]" not in r.output
    fails(run("inspect", dump, "--database", "lønn"), "holds no database lønn")


def test_database_is_refused_where_there_is_nothing_to_choose(example_db):
    fails(run("inspect", example_db, "--database", "x"), "--database x", "a SQLite database file, which holds one",
          "leave --database out")
    fails(run("extract", "postgresql://u@127.0.0.1:1/db", "--out", "/nonexistent/o", "--database", "x"),
          "a database URL (postgresql://)", "name the database in the URL")


def test_a_restore_loss_stops_the_run_unless_the_profile_accepts_it(tmp_path, fake_kind):
    dump = tmp_path / "tapt.dump"
    dump.write_bytes(fakedump.make({"arkiv": TWO["arkiv"]}, lost={"arkiv": ["logg"]}))
    fails(run("extract", dump, "--out", tmp_path / "o"), "lost table(s) logg", "[source] accept_losses")
    assert not (tmp_path / "o").exists()
    profile = tmp_path / "p.toml"
    profile.write_text('[source]\naccept_losses = ["logg"]\n')
    fails(run("extract", dump, "--profile", profile, "--out", tmp_path / "o"), "source.accept_reason: missing")
    profile.write_text('[source]\naccept_losses = ["logg"]\naccept_reason = "Loggen er kassert etter arkivplan."\n')
    r = run("extract", dump, "--profile", profile, "--out", tmp_path / "o", "--charset", "UTF-8")
    assert r.exit_code == 0, r.output
    summary = (tmp_path / "o" / "report" / "summary.txt").read_text("utf-8")
    assert "accepts these losses in restoring the dump ([source] accept_losses): logg" in summary
    assert "Loggen er kassert etter arkivplan." in summary
    assert "table logg was not restored" in summary


def test_the_source_section_of_a_profile():
    def problems(text: str) -> tuple[str, ...]:
        import tomllib

        return parse_profile(tomllib.loads(text), defer=True).problems

    ok = parse_profile({"source": {"accept_losses": ["public.logg", "tmp"], "accept_reason": "kassert"}})
    assert ok.accept_losses == ("public.logg", "tmp") and ok.accept_reason == "kassert"
    assert ok.accepted_note().endswith("accept_losses): public.logg, tmp; reason: kassert")
    assert parse_profile({}).accept_losses == () and parse_profile({}).accepted_note() == ""
    assert problems('[source]\naccept_losses = ["a"]\n') == (
        "source.accept_reason: missing: say why the archive may lack what the restore lost (bevaringsvurdering)",)
    assert problems('[source]\naccept_reason = "x"\n') == ("source.accept_reason: only applies with accept_losses",)
    assert "names one loss twice" in problems('[source]\naccept_losses = ["a", "a"]\naccept_reason = "x"\n')[0]
    assert "must be a list of names" in problems('[source]\naccept_losses = [1]\naccept_reason = "x"\n')[0]
    assert "unknown key (did you mean 'accept_losses'?)" in problems('[source]\naccept_loss = ["a"]\n')[0]


def test_jobs_workers_open_the_restored_server_not_the_dump(tmp_path, fake_kind, monkeypatch):
    """--jobs 2 on a dump: the parent opens the dump once; each worker opens Dialect.worker_source
    (the fake kind's PostgreSQL URL), never the dump (the workers do not even know the fake kind)."""
    opens = tmp_path / "opens.log"
    monkeypatch.setenv("FAKEDUMP_OPENS", str(opens))
    with fresh_database("postgresql") as url:
        run_sql(url, ["CREATE TABLE a (id int PRIMARY KEY, t text)", "CREATE TABLE b (id int PRIMARY KEY, t text)",
                      "INSERT INTO a SELECT g, 'Čá ' || g FROM generate_series(1, 500) g",
                      "INSERT INTO b SELECT g, 'x' FROM generate_series(1, 300) g"])
        dump = tmp_path / "pg.dump"
        dump.write_bytes(fakedump.PG_MAGIC + url.render_as_string(hide_password=False).encode() + b"\n")
        r = run("extract", dump, "--out", tmp_path / "o", "--jobs", "2", "--charset", "UTF-8", "-q")
        assert r.exit_code == 0, r.output
        assert len(opens.read_text().splitlines()) == 1
        log = json.loads((tmp_path / "o" / "report" / "extraction.json").read_text("utf-8"))
        assert "2 parallel workers" in json.dumps(log)
        # a worker that cannot reach the restored server: one error, not a pool restarting workers forever
        monkeypatch.setenv("FAKEDUMP_WORKER_SOURCE", "postgresql+psycopg://nobody@127.0.0.1:1/borte")
        fails(run("extract", dump, "--out", tmp_path / "o2", "--jobs", "2", "--charset", "UTF-8", "-q"),
              "nobody@127.0.0.1:1/borte: cannot connect")
        assert not (tmp_path / "o2").exists()
