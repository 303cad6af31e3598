"""PostgreSQL dumps as SOURCE (dialects/kinds/pg_dump.py and the modules beside it), with the real tools.

Dumps are made in the set-up with the machine's pg_dump and pg_dumpall from databases on the test
server (a private cluster for pg_dumpall, whose output would otherwise hold every database on the
shared server): non-Latin-1 text with Sámi letters and en dash, NULL beside empty text, bytea,
numeric, dates and timestamps, a large object, tables in two schemas. The extract of each dump
must equal, file for file, the extract of the live database it came from: every file under
``content/`` byte for byte, and ``addml.xml`` once two things that name the source are normalised
(``assert_same_extract``): the source's label (the URL, or the dump's file name) and the dump's
provenance sentence that ends the dataset's description.

Hostile dumps try each attack of issue 13 point 3 against a canary folder anyone may write in:
each is refused before the server sees it, or fails there because the restoring role is not a
superuser on a server with no network; the report names each with its line (plain) or TOC entry
(archives), and nothing appears in the canary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from dialects.kinds import open_source, recognise
from extractor.model import PROVENANCE_LABELS
from tests.conftest import fails, fresh_database, run, run_sql
from tests.test_parallel_resume import same_tree

ROOT = Path(__file__).resolve().parent.parent
DATE = "2026-01-31"
SAMI = "Áigesáhpán Čđŋšŧž ČĐŊŠŦŽ – sámegiella"

SEED = [
    "CREATE SCHEMA arkiv",
    "CREATE TABLE person (id integer PRIMARY KEY, navn text NOT NULL, merknad varchar(40), bilde bytea, "
    "belop numeric(12,3), fodt date, endret timestamp(3), logget timestamptz, dokument oid)",
    "CREATE TABLE sak (id integer PRIMARY KEY, person_id integer REFERENCES person(id), tittel text NOT NULL)",
    "CREATE TABLE arkiv.logg (id integer PRIMARY KEY, hendelse text, tid timestamptz)",
    "COMMENT ON TABLE person IS 'Personer – med samiske navn'",
    f"INSERT INTO person VALUES (1, '{SAMI}', '', '\\x00ff10', 12345.678, '1950-01-31', '2024-05-01 12:00:00.125', "
    "'2024-05-01 12:00:00+02', lo_from_bytea(0, '\\x255044462d312e34'::bytea))",
    "INSERT INTO person VALUES (2, 'Ola Nordmann', NULL, NULL, -0.001, NULL, NULL, NULL, NULL)",
    "INSERT INTO person VALUES (3, E'Tab\\tog \"sitat\" og \\\\ skr\u00e5strek', E'linje1\\nlinje2', '\\x', 0, "
    "'2000-02-29', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', NULL)",
    "INSERT INTO sak VALUES (1, 1, 'Byggesak – Čđ'), (2, 3, 'Klage'), (3, NULL, 'Uten person')",
    "INSERT INTO arkiv.logg VALUES (1, 'opprettet – ŋ', '2024-01-01 10:00+01'), (2, '', NULL)",
]


def pg_bin(tool: str) -> str:
    """A PostgreSQL tool from the folder uttrekk restores with (pg_dump and pg_restore of one version)."""
    from dialects.kinds.pg_server import binaries

    return str(binaries().folder / tool)


def dump(url: sa.engine.URL, path: Path, fmt: str, *more: str) -> Path:
    """``pg_dump`` (or ``pg_dumpall`` for fmt ``all``) of the test database ``url`` into ``path``."""
    host = url.query.get("host") or url.host or "127.0.0.1"
    argv = ([pg_bin("pg_dumpall"), "-h", str(host), "-U", url.username or "postgres", "-f", str(path)]
            if fmt == "all" else
            [pg_bin("pg_dump"), "-h", str(host), "-p", str(url.port or 5432), "-U", url.username or "postgres",
             "-F", fmt, "-f", str(path), *more, url.database or ""])
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return path


def extract(source: str | Path, out: Path, *args: str) -> Path:
    r = run("extract", source, "--out", out, "--date", DATE, "--charset", "UTF-8", "-q", *args)
    assert r.exit_code == 0, r.output
    return out


def assert_same_extract(from_dump: Path, from_live: Path) -> None:
    """Every file under content/ identical; addml.xml identical once the source's label is replaced
    by SOURCE in both and the dump's provenance sentence is cut from its dataset description."""
    assert same_tree(from_dump / "content", from_live / "content") in ([], ["addml.xml"])
    texts = []
    for out in (from_dump, from_live):
        label = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))["source"]
        text = (out / "content" / "addml.xml").read_text(encoding="utf-8").replace(label, "SOURCE")
        texts.append(text)
    dump_text, live_text = texts
    cut = re.search(r"(<description>Uttrekk fra SOURCE\.)( Uttrekket er laget fra dumpfila [^<]*)(</description>)",
                    dump_text)
    assert cut is not None, "the dump's provenance sentence is missing from addml.xml"
    assert dump_text.replace(cut.group(2), "") == live_text


def report(out: Path) -> dict:
    return json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def live():
    with fresh_database("postgresql", "uttrekk_pgd") as url:
        run_sql(url, SEED)
        yield url


@pytest.fixture(scope="module")
def dumps(live, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pgdumps")
    return {"custom": dump(live, folder / "kunde.dump", "c"), "directory": dump(live, folder / "kunde.dir", "d"),
            "tar": dump(live, folder / "kunde.tar", "t"), "plain": dump(live, folder / "kunde.sql", "p")}


@pytest.fixture(scope="module")
def live_extracts(live, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pglive")
    source = live.render_as_string(hide_password=False)
    return {"public": extract(source, folder / "public"), "arkiv": extract(source, folder / "arkiv", "--schema", "arkiv")}


# -- recognising ------------------------------------------------------------------------------------


def test_recognised_by_content_whatever_the_name(dumps, tmp_path):
    named = {}
    for fmt, path in dumps.items():
        other = tmp_path / f"renamed-{fmt}"
        (shutil.copytree if path.is_dir() else shutil.copyfile)(path, other)
        named[fmt] = other
    whats = {fmt: recognise(str(p))[1] for fmt, p in named.items()}
    assert {f.kind for f in whats.values()} == {"pg_dump"}
    assert re.fullmatch(r"a pg_dump custom-format archive \(pg_dump 1\d\.\d+, archive format 1\.1\d\) of the database "
                        r"uttrekk_pgd_\w+", whats["custom"].what)
    assert whats["tar"].what.startswith("a pg_dump tar-format archive")
    assert whats["directory"].what.startswith("a pg_dump directory-format archive")
    assert whats["plain"].what.startswith("a plain SQL dump (pg_dump 1")
    assert whats["custom"].facts["archive_version"].startswith("1.")
    assert whats["plain"].facts["server_version"].startswith("1")
    alone = tmp_path / "toc-only"
    shutil.copyfile(named["directory"] / "toc.dat", alone)
    fails(run("inspect", alone), "toc.dat of a pg_dump directory-format archive", "give the folder")
    text = tmp_path / "notes.sql"
    text.write_text("-- PostgreSQL database dump, or so it says\nSELECT 1;\n", encoding="utf-8")
    fails(run("inspect", text), "UTF-8 text that is not a database dump", "a PostgreSQL dump")


# -- every format, extracted like the live database ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["custom", "directory", "tar", "plain"])
def test_each_format_extracts_like_the_live_database(fmt, dumps, live_extracts, dump_cache, tmp_path):
    source = dumps[fmt]
    jobs = ("--jobs", "2") if fmt == "custom" else ()  # workers reach the restored server through worker_source
    out = extract(source, tmp_path / "public", *jobs)
    assert_same_extract(out, live_extracts["public"])
    restored = cache_state(dump_cache)
    assert_same_extract(extract(source, tmp_path / "arkiv", "--schema", "arkiv"), live_extracts["arkiv"])
    again = cache_state(dump_cache)  # the second run started the server from the cache, restoring nothing
    assert again["restored_at"] == restored["restored_at"] and again["log"] == restored["log"]
    assert again["starts"] == restored["starts"] + 1
    details = report(out)["source_details"]
    assert details["dump_file"] == source.name
    assert details["dump_format"].startswith(f"pg_dump {fmt}")
    assert details["dumped_by"].startswith("pg_dump 1")
    assert details["restored_with"].startswith("PostgreSQL 1")
    assert set(details) - {"engine", "host", "port", "database", "schema", "user"} <= set(PROVENANCE_LABELS)
    if source.is_file():
        assert details["dump_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
        assert details["dump_size"] == f"{source.stat().st_size} bytes"
    assert report(out)["source"] == source.name  # the dump names the extract, never the throwaway socket
    if jobs:
        assert "2 parallel workers" in report(out)["session"]
    if fmt == "plain":
        assert any(w.startswith("restore: left out on purpose:") and "owner statements" in w
                   for w in report(out)["warnings"])
    if fmt == "custom":
        harmless(source)


def cache_state(cache: Path) -> dict:
    """When the one entry in the cache was restored, when its restore log was written (plain dumps
    have none), how often its server has started."""
    (entry,) = [p for p in (cache / "restored").iterdir() if p.is_dir()]
    log = entry / "server" / "pg_restore.log"
    return {"restored_at": json.loads((entry / "restored.json").read_text())["restored_at"],
            "log": log.stat().st_mtime_ns if log.exists() else None,
            "starts": (entry / "server" / "server.log").read_text().count("ready to accept connections")}


def harmless(source: Path) -> None:
    """The role reading a restored dump is not a superuser; the server listens on no TCP port,
    refuses writes, and its socket folder (the owner's alone) goes when the dialect closes."""
    dialect = open_source(str(source))
    try:
        with dialect.engine.connect() as conn:
            su, createrole = conn.exec_driver_sql(
                "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user").one()
            assert (su, createrole) == (False, False)
            assert conn.exec_driver_sql("SHOW listen_addresses").scalar_one() == ""
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar_one() == "on"
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.exec_driver_sql("SELECT pg_read_file('/etc/hostname')")
        socket = Path(sa.engine.make_url(dialect.worker_source).query["host"])
        assert socket.is_dir() and oct(socket.stat().st_mode & 0o777) == "0o700"
    finally:
        dialect.close()
    assert not socket.exists()


# -- pg_dumpall: several databases ---------------------------------------------------------------------


def as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="module")
def cluster():
    """A private PostgreSQL cluster (socket only) holding two databases: alfa (tables in public and
    arkiv) and beta (tables only in schema fag)."""
    folder = Path(tempfile.mkdtemp(prefix="uttrekk-pgd-cluster-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    subprocess.run(as_postgres([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                "--locale=C.UTF-8", "-N"]), check=True, capture_output=True, timeout=120)
    subprocess.run(as_postgres([str(Path(pg_bin("initdb")).with_name("pg_ctl")), "-D", str(data), "-l",
                                str(folder / "log"), "-w", "-o", f"-c listen_addresses= -k {folder} -c timezone=UTC",
                                "start"]), check=True, capture_output=True, timeout=120)
    base = sa.engine.make_url(f"postgresql+psycopg://postgres@/postgres?host={folder}")
    try:
        eng = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            for name in ("alfa", "beta"):
                conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        eng.dispose()
        run_sql(base.set(database="alfa"), SEED)
        run_sql(base.set(database="beta"), [
            "CREATE SCHEMA fag", "CREATE TABLE fag.vedtak (id integer PRIMARY KEY, tekst text, dato date)",
            f"INSERT INTO fag.vedtak VALUES (1, '{SAMI}', '2020-02-02'), (2, NULL, NULL), (3, '', '1900-01-01')"])
        yield base
    finally:
        subprocess.run(as_postgres([str(Path(pg_bin("initdb")).with_name("pg_ctl")), "-D", str(data), "-m",
                                    "immediate", "stop"]), capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_pg_dumpall_lists_its_databases_and_reads_each(cluster, dump_cache, tmp_path):
    everything = dump(cluster, tmp_path / "klynge.sql", "all")
    found = recognise(str(everything))[1]
    assert found.facts["format"] == "plain (pg_dumpall)"
    assert found.facts["databases"] == "alfa, beta"
    fails(run("inspect", everything, "--no-scan"), "klynge.sql holds several databases: alfa (3 tables), beta (1 table)",
          "--database NAME")
    for name in ("alfa", "beta"):
        live_out = extract(cluster.set(database=name).render_as_string(hide_password=False), tmp_path / f"live-{name}")
        out = extract(everything, tmp_path / f"dump-{name}", "--database", name)
        assert_same_extract(out, live_out)
        assert report(out)["source"] == f"klynge.sql (database {name})"
        if name == "beta":  # the only schema with tables is found, as on the live database
            assert any("schema fag" in w for w in report(out)["warnings"])
        assert any("role and tablespace statements (cluster objects, not data)" in w for w in report(out)["warnings"])
    with pytest.raises(Exception, match="holds no database 'gamma'; its databases: alfa"):
        open_source(str(everything), database="gamma")


# -- hostile dumps ------------------------------------------------------------------------------------------


@pytest.fixture()
def canary():
    """A folder anyone may write in (so an attack that ran would leave its file), with a secret
    file anyone may read and a script that would create a table if included."""
    folder = Path(tempfile.mkdtemp(prefix="uttrekk-canary-", dir="/tmp"))
    os.chmod(folder, 0o777)
    marker = f"SECRET-{uuid.uuid4().hex}"
    (folder / "secret.txt").write_text(marker, encoding="utf-8")
    (folder / "secret.sql").write_text("CREATE TABLE public.stolen (x text);\n", encoding="utf-8")
    for f in folder.iterdir():
        os.chmod(f, 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def untouched(canary: Path) -> None:
    assert sorted(p.name for p in canary.iterdir()) == ["secret.sql", "secret.txt"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small live database and its plain and custom dumps (the base of the hostile dumps)."""
    with fresh_database("postgresql", "uttrekk_pgh") as url:
        run_sql(url, ["CREATE TABLE t (id integer PRIMARY KEY, txt text, a text, b text, c text, d text, e text)",
                      "INSERT INTO t (id, txt) VALUES (1, 'en'), (2, 'to')",
                      *(f"COMMENT ON COLUMN t.{c} IS 'marker-{c}'" for c in ("txt", "a", "b", "c", "d", "e")),
                      "COMMENT ON TABLE t IS 'marker-t'"])
        folder = tmp_path_factory.mktemp("pgsmall")
        yield url, dump(url, folder / "liten.sql", "p"), dump(url, folder / "liten.dump", "c")


def with_lines(plain: Path, target: Path, lines: list[str]) -> dict[str, int]:
    """The plain dump with ``lines`` before pg_dump's closing comment; each line's number."""
    text = plain.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(text) if line == "-- PostgreSQL database dump complete") - 1
    numbers = {line: at + 1 + k for k, line in enumerate(lines)}
    target.write_text("\n".join(text[:at] + lines + text[at:]) + "\n", encoding="utf-8")
    return numbers


PLAIN_ATTACKS = {
    r"\! touch {c}/shell": "refused the psql meta-command \\!",
    r"\o {c}/out": "refused the psql meta-command \\o",
    r"\copy public.t TO '{c}/copy'": "refused the psql meta-command \\copy",
    r"\i {c}/secret.sql": "refused the psql meta-command \\i",
    r"\setenv PGHOST 192.0.2.1": "refused the psql meta-command \\setenv",
    r"SELECT 1 \g {c}/g": "refused the psql meta-command \\g",
    r"\w {c}/w": "refused the psql meta-command \\w",
    r"\set x `touch {c}/backtick`": "refused the psql meta-command \\set",
    r"\connect postgres postgres": "refused the psql meta-command \\connect",
    r'\c -reuse-previous=on "dbname=postgres host=192.0.2.1"': "refused the psql meta-command \\c",
    "COPY public.t FROM PROGRAM 'touch {c}/program';": "COPY … PROGRAM runs a program",
    "COPY (SELECT 1) TO PROGRAM 'touch {c}/program2';": "COPY … PROGRAM runs a program",
    "COPY public.t TO '{c}/copyfile';": "COPY to or from a file",
    "LOAD 'auto_explain';": "LOAD loads a shared library",
    "SELECT pg_read_file('{c}/secret.txt');": "permission denied for function pg_read_file",
    "SELECT lo_import('{c}/secret.txt');": "permission denied for function lo_import",
    "SELECT lo_export(0, '{c}/lo');": "permission denied for function lo_export",
    "CREATE EXTENSION dblink SCHEMA public;": 'permission denied to create extension "dblink"',
    "CREATE EXTENSION postgres_fdw SCHEMA public;": 'permission denied to create extension "postgres_fdw"',
    "CREATE EXTENSION plpython3u;": "plpython3u",
    "CREATE LANGUAGE plperlu HANDLER plpgsql_call_handler;": "must be superuser to create custom procedural language",
    "ALTER SYSTEM SET archive_command = 'touch {c}/system';": 'permission denied to set parameter "archive_command"',
    "SET ROLE uttrekk_bootstrap;": "permission denied to set role",
    "CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 dbname=postgres user=postgres' PUBLICATION p;":
        "must be superuser to create subscriptions",
}


def test_hostile_plain_dump_runs_nothing(small, canary, dump_cache, tmp_path):
    _, plain, _ = small
    lines = [line.format(c=canary) for line in PLAIN_ATTACKS]
    hidden = [  # text that only looks like commands: inside a dollar body, a literal, COPY data
        "CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $body$",
        f"\\! touch {canary}/dollar",
        "SELECT 'x'", "$body$;",
        "COMMENT ON TABLE public.t IS 'first line",
        f"\\! touch {canary}/literal", "';",
        "CREATE TABLE public.vond (txt text);",
        "COPY public.vond (txt) FROM stdin;",
        f"\\! touch {canary}/data", "\\.",
        f"\\! touch {canary}/afterdata",
    ]
    hostile = tmp_path / "vond.sql"
    numbers = with_lines(plain, hostile, lines + hidden)
    out = extract(hostile, tmp_path / "out")
    untouched(canary)
    warnings = report(out)["warnings"]
    for line, expected in zip(lines, PLAIN_ATTACKS.values(), strict=True):
        said = [w for w in warnings if f"line {numbers[line]}:" in w]
        assert said and expected in said[0], (line, said)
    assert any(f"line {numbers[hidden[-1]]}: refused the psql meta-command \\!" in w for w in warnings)
    for line in hidden[:-1]:  # nothing inside the body, the literal or the data was taken for a command
        assert not any(f"line {numbers[line]}:" in w for w in warnings), line
    tables = {t["table"] for t in report(out)["tables"]}
    assert "stolen" not in tables and {"t", "vond"} <= tables
    vond = next(t for t in report(out)["tables"] if t["table"] == "vond")
    assert "! touch" in (out / "content" / vond["file"]).read_text(encoding="utf-8")
    marker = (canary / "secret.txt").read_text()
    assert not any(marker in p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file())


def test_copy_into_a_missing_table_never_runs_its_data(small, canary, dump_cache, tmp_path):
    _, plain, _ = small
    hostile = tmp_path / "tapt.sql"
    copy, data, after = "COPY public.nowhere (a) FROM stdin;", f"\\! touch {canary}/x", f"\\! touch {canary}/z"
    numbers = with_lines(plain, hostile, [copy, data, f"\\o {canary}/y", "\\.", after])
    fails(run("inspect", hostile, "--no-scan"), "tapt.sql: the restore lost data",
          "table public.nowhere was not restored (line", "accept_losses", "'public.nowhere'")
    untouched(canary)
    dialect = open_source(str(hostile), accept_losses=("nowhere",))
    try:
        notes = dialect.source_notes
    finally:
        dialect.close()
    assert any("accepted loss" in n and "public.nowhere" in n for n in notes)
    assert any(f"line {numbers[copy]}: COPY public.nowhere" in n and "does not exist" in n for n in notes)
    assert any(f"line {numbers[after]}: refused" in n for n in notes)
    assert not any(f"line {numbers[data]}:" in n for n in notes)  # data, never a command


def test_rows_the_server_rejects_are_a_loss(small, dump_cache, tmp_path):
    """A table that exists but holds fewer rows than the dump carries stops the run, naming it."""
    _, plain, _ = small
    short = tmp_path / "mangler.sql"
    again = "INSERT INTO public.t (id, txt) VALUES (1, 'igjen');"  # after pg_dump's primary key: refused
    numbers = with_lines(plain, short, [again, "CREATE TABLE public.tall (n integer);", "COPY public.tall (n) FROM stdin;",
                                        "1", "to", "\\."])
    fails(run("inspect", short, "--no-scan"), "table public.t: the dump holds 3 rows, 2 were restored",
          f"(line {numbers[again]}: duplicate key value", "table public.tall: the dump holds 2 rows, 0 were restored",
          'invalid input syntax for type integer: "to"')


def patch_toc(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace one string of a custom archive's table of contents (its length is written before it:
    a sign byte and four bytes, little-endian). Read from a pipe, the archive's offsets do not matter."""
    before = b"\x00" + len(old).to_bytes(4, "little") + old
    assert data.count(before) == 1, old
    return data.replace(before, b"\x00" + len(new).to_bytes(4, "little") + new)


CUSTOM_ATTACKS = {  # a COMMENT entry of the TOC -> what pg_restore sends instead -> what the server says
    "TABLE public.t IS 'marker-t'": ("SELECT pg_read_file('{c}/secret.txt');", "permission denied for function pg_read_file"),
    "COLUMN public.t.txt IS 'marker-txt'": ("COPY (SELECT 1) TO PROGRAM 'touch {c}/program';",
                                            "must be superuser or have privileges of the pg_execute_server_program"),
    "COLUMN public.t.a IS 'marker-a'": ("SELECT lo_export(lo_create(0), '{c}/lo');", "permission denied for function lo_export"),
    "COLUMN public.t.b IS 'marker-b'": ("CREATE EXTENSION dblink SCHEMA public;",
                                        'permission denied to create extension "dblink"'),
    "COLUMN public.t.c IS 'marker-c'": ("ALTER SYSTEM SET archive_command = 'touch {c}/system';",
                                        'permission denied to set parameter "archive_command"'),
    "COLUMN public.t.d IS 'marker-d'": ("SET ROLE uttrekk_bootstrap;", "permission denied to set role"),
    "COLUMN public.t.e IS 'marker-e'": ("COPY public.t TO '{c}/copyfile';",
                                        "must be superuser or have privileges of the pg_write_server_files"),
}


def test_hostile_custom_dump_runs_nothing(small, canary, dump_cache, tmp_path):
    """pg_restore sends whatever SQL the TOC holds: each attack reaches the server and fails there."""
    _, _, custom = small
    data = custom.read_bytes()
    for target, (attack, _) in CUSTOM_ATTACKS.items():
        data = patch_toc(data, f"COMMENT ON {target};\n".encode(), (attack.format(c=canary) + "\n").encode())
    hostile = tmp_path / "vond.dump"
    hostile.write_bytes(data)
    out = extract(hostile, tmp_path / "out")
    untouched(canary)
    warnings = report(out)["warnings"]
    for _, said in CUSTOM_ATTACKS.values():
        assert any(re.match(r"restore: TOC entry \d+: COMMENT public\.", w) and said in w for w in warnings), said
    assert [t["records"] for t in report(out)["tables"]] == [2]


def test_a_toc_whose_copy_runs_a_program_loses_that_table(small, canary, dump_cache, tmp_path):
    _, _, custom = small
    hostile = tmp_path / "program.dump"
    hostile.write_bytes(patch_toc(custom.read_bytes(), b"COPY public.t (id, txt, a, b, c, d, e) FROM stdin;\n",
                                  f"COPY public.t (id) FROM PROGRAM 'touch {canary}/copy';\n".encode()))
    fails(run("inspect", hostile, "--no-scan"), "the rows of table public.t were not restored",
          "pg_execute_server_program", "accept_losses ('public.t')")
    untouched(canary)


# -- losses ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bigger(tmp_path_factory):
    """A database with one table big enough that a restore takes a while, and a small one after it."""
    with fresh_database("postgresql", "uttrekk_pgb") as url:
        run_sql(url, ["CREATE TABLE a_stor (id integer PRIMARY KEY, tekst text)",
                      "INSERT INTO a_stor SELECT i, 'rad ' || i || repeat(' fyll', 8) FROM generate_series(1, 200000) i",
                      "CREATE INDEX a_stor_tekst ON a_stor (tekst)",
                      "CREATE TABLE b_liten (id integer PRIMARY KEY, navn text)",
                      "INSERT INTO b_liten VALUES (1, 'Čđ – en'), (2, 'to')"])
        folder = tmp_path_factory.mktemp("pgbig")
        yield dump(url, folder / "stor.dump", "c", "-Z", "0"), dump(url, folder / "stor.sql", "p")


def test_a_cut_archive_stops_naming_what_is_lost(bigger, dump_cache, tmp_path):
    custom, _ = bigger
    cut = tmp_path / "kuttet.dump"
    cut.write_bytes(custom.read_bytes()[:custom.stat().st_size * 2 // 3])
    fails(run("inspect", cut, "--no-scan"), "kuttet.dump: the restore lost data", "the rows of table public.a_stor",
          "the rows of table public.b_liten", "pg_restore stopped")


def test_a_cut_plain_dump_stops_naming_the_table_it_ends_in(bigger, dump_cache, tmp_path):
    _, plain = bigger
    data = plain.read_bytes()
    cut = tmp_path / "kuttet.sql"
    cut.write_bytes(data[:data.index(b"COPY public.a_stor") + 100_000])
    fails(run("inspect", cut, "--no-scan"), "the dump ends inside the data of table public.a_stor", "'cut short'")
    dialect = open_source(str(cut), accept_losses=("cut short",))
    try:
        with dialect.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM a_stor").scalar_one()
    finally:
        dialect.close()
    assert 0 < rows < 200_000  # the whole rows before the cut, as psql would have restored them


@pytest.fixture(scope="module")
def needy(tmp_path_factory):
    """A database whose dump needs a role and an extension the restore cannot have: table t owned
    by a role and granted to it, and table needs_ext of a type from dblink (superuser only)."""
    role = f"uttrekk_pgd_kari_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sa.engine.make_url("postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role}")
    try:
        with fresh_database("postgresql", "uttrekk_pgn") as url:
            run_sql(url, ["CREATE EXTENSION dblink", "CREATE EXTENSION pgcrypto",
                          "CREATE TABLE t (id integer PRIMARY KEY, txt text)", "INSERT INTO t VALUES (1, 'Čđ')",
                          f"ALTER TABLE t OWNER TO {role}", f"GRANT SELECT ON t TO {role}",
                          "CREATE TABLE needs_ext (id integer PRIMARY KEY, v dblink_pkey_results)",
                          "INSERT INTO needs_ext VALUES (1, ROW(1, 'x'))"])
            folder = tmp_path_factory.mktemp("pgneedy")
            yield dump(url, folder / "trenger.sql", "p"), dump(url, folder / "trenger.dump", "c")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


@pytest.mark.parametrize("fmt", ["plain", "custom"])
def test_missing_role_is_a_note_and_missing_extension_loses_its_table(needy, fmt, dump_cache):
    source = needy[0] if fmt == "plain" else needy[1]
    fails(run("inspect", source, "--no-scan"), "the restore lost data", "table public.needs_ext was not restored",
          "dblink_pkey_results")
    dialect = open_source(str(source), accept_losses=("public.needs_ext",))
    try:
        notes = "\n".join(dialect.source_notes)
        tables = set(dialect.reflect().table_names)
    finally:
        dialect.close()
    assert tables == {"t"}
    assert 'permission denied to create extension "dblink"' in notes
    assert "accepted loss" in notes and "public.needs_ext" in notes
    assert "left out on purpose" in notes  # the role's ownership and grant: cluster matters, skipped


def test_an_archive_newer_than_the_local_pg_restore_is_named(small, dump_cache, tmp_path):
    _, _, custom = small
    data = custom.read_bytes()
    assert data[:8] == b"PGDMP\x01\x0e\x00" and data[8] == 4  # format 1.14, four-byte integers
    end = _header_end(custom)
    # format 1.16 as pg_dump 17 writes it: the compression is one byte (from 1.15) where 1.14 has an integer
    header = b"PGDMP\x01\x10\x00" + data[8:11] + b"\x01" + data[16:end].replace(b"15.", b"17.")
    newer = tmp_path / "ny.dump"
    newer.write_bytes(header + data[end:])
    out = fails(run("inspect", newer, "--no-scan"), "format 1.16", "written by pg_dump 17.", "pg_restore 15.",
                "reads formats up to 1.14", "PostgreSQL 17")
    assert "Traceback" not in out
    assert not list((dump_cache / "restored").glob("*/restored.json")) if (dump_cache / "restored").exists() else True


def _header_end(custom: Path) -> int:
    from dialects.kinds.pg_archive import read_header

    with custom.open("rb") as fh:
        read_header(fh)
        return fh.tell()


def test_a_damaged_cached_copy_is_restored_again(small, dump_cache):
    _, _, custom = small
    assert run("inspect", custom, "--no-scan").exit_code == 0
    before = cache_state(dump_cache)
    (control,) = dump_cache.glob("restored/*/server/data/global/pg_control")
    control.write_bytes(b"damaged")
    r = run("inspect", custom, "--no-scan")
    assert r.exit_code == 0, r.output
    assert "t: 2 rows" in r.output
    assert cache_state(dump_cache)["restored_at"] >= before["restored_at"]
    assert cache_state(dump_cache)["log"] != before["log"]  # pg_restore ran again


# -- kill -9 ---------------------------------------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    return {p for p in pids if Path(f"/proc/{p}").exists() and "(Z)" not in _state(p)}


def _state(pid: int) -> str:
    try:
        return "(Z)" if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z" else ""
    except OSError:
        return ""


def test_kill_9_during_the_restore_leaves_nothing_running_or_looking_whole(bigger, dump_cache):
    custom, _ = bigger
    env = {**os.environ, "PYTHONPATH": str(ROOT), "UTTREKK_CACHE": str(dump_cache)}
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "inspect", str(custom), "--no-scan"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    tree: set[int] = set()
    while time.monotonic() < deadline:
        logs = list((dump_cache / "restored").glob("*/server/pg_restore.log")) if (dump_cache / "restored").exists() else []
        if logs and "processing data" in logs[0].read_text(errors="replace"):
            tree = descendants(proc.pid)
            break
        assert proc.poll() is None, "the restore ended before it could be interrupted"
        time.sleep(0.02)
    assert tree, "the restore never started"
    names = {Path(f"/proc/{p}/comm").read_text().strip() for p in alive(tree)}
    assert {"postgres", "pg_restore"} <= names
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while alive(tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(tree), "a server or restore process outlived uttrekk"
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(dump_cache) not in ps
    assert not list((dump_cache / "restored").glob("*/restored.json"))  # nothing looks restored
    r = run("inspect", custom, "--no-scan")
    assert r.exit_code == 0, r.output
    assert "a_stor: 200000 rows" in r.output
    assert len(list((dump_cache / "restored").glob("*/restored.json"))) == 1
