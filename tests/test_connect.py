"""What a new user meets first: the URL, the driver, and where the tables are (issue 12, points 7 and 8).

A URL without a database, or with one the server does not have, is one line that lists the
server's databases and the URL that names one. A URL without a driver uses the driver uttrekk's
extra installs, and says which extra to install when it is missing. A dump restored as
docs/guide.md says puts its tables where uttrekk looks for them, or uttrekk says where they are:
real dumps (pg_dump, mariadb-dump --databases) restored with the real clients, on the test servers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dialects.base import url_label
from tests.conftest import MARIADB_ADMIN, PG_ADMIN, fails, fresh_database, run
from tests.test_servers import ADMIN_URLS, _drop_firebird, _fresh_firebird

ROOT = Path(__file__).resolve().parent.parent


def _text(url: Any) -> str:
    return url.render_as_string(hide_password=False)


def _execute(url: Any, *statements: str) -> None:
    """Each statement committed on its own (DROP DATABASE cannot run in a transaction; sqlalchemy-firebird
    has no autocommit)."""
    firebird = url.get_backend_name() == "firebird"
    eng = sa.create_engine(url) if firebird else sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        for stmt in statements:
            with eng.begin() as conn:
                conn.exec_driver_sql(stmt)
    finally:
        eng.dispose()


def _rows(url: Any, *tables: str) -> dict[str, list[tuple[Any, ...]]]:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            return {t: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}
    finally:
        eng.dispose()


def _bare(url: Any) -> str:
    """The URL as a new user writes it: no driver (``mysql://``, ``postgresql://``)."""
    return _text(url.set(drivername=url.get_backend_name()))


# -- 1. a URL without a database, or with one the server does not have ----------------------------


def test_mysql_url_without_database_lists_the_databases():
    with fresh_database("mariadb", "uttrekk_cn") as url:
        _execute(url, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)")
        server = _text(url).split(f"/{url.database}")[0]
        for source in (server + "/", server, _bare(url._replace(database=None))):
            out = fails(run("inspect", source), "the URL names no database", f"{url.database} (2 tables)",
                        "name one at the end of the URL: mysql+pymysql://")
            assert "Traceback" not in out and "mysql (" not in out and "information_schema" not in out


def test_unknown_database_is_listed_with_the_nearest(tmp_path):
    with fresh_database("mariadb", "uttrekk_cn") as url:
        _execute(url, "CREATE TABLE a (id int PRIMARY KEY)")
        typo = url.database[:-1]
        out = fails(run("extract", _text(url.set(database=typo)), "--out", tmp_path / "o"),
                    f"the server has no database '{typo}'", f"did you mean '{url.database}'?",
                    f"{url.database} (1 table)", f"/{url.database}?charset=utf8mb4")
        assert not (tmp_path / "o").exists() and out.count("\n") == 1
    with fresh_database("postgresql", "uttrekk_cn") as url:
        typo = url.database + "x"
        fails(run("inspect", _text(url.set(database=typo))), f"the server has no database '{typo}'",
              f"did you mean '{url.database}'?", url_label(url))


def test_database_lists_never_show_the_password(monkeypatch):
    """A login with a password sees only its own database; the list and the URL in it mask the password,
    given in the URL or through $UTTREKK_PASSWORD."""
    secret = "Hemmelig-" + uuid.uuid4().hex[:8]
    user = f"u{uuid.uuid4().hex[:8]}"
    with fresh_database("mariadb", "uttrekk_cn") as url:
        _execute(url, "CREATE TABLE a (id int PRIMARY KEY)",
                 f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{secret}'",
                 f"GRANT SELECT ON {url.database}.* TO '{user}'@'127.0.0.1'")
        try:
            login = url.set(username=user, password=secret)
            for source in (_text(login._replace(database=None)), _text(login.set(database="nei"))):
                out = fails(run("inspect", source), f"the databases on this server: {url.database} (1 table)")
                assert secret not in out and f"{user}:***@" in out, out
            monkeypatch.setenv("UTTREKK_PASSWORD", secret)
            out = fails(run("inspect", _text(login._replace(password=None, database=None))), f"{url.database} (1 table)")
            assert secret not in out
        finally:
            _execute(url, f"DROP USER '{user}'@'127.0.0.1'")
    with fresh_database("postgresql", "uttrekk_cn") as url:  # the test server trusts 127.0.0.1: any password passes
        out = fails(run("inspect", _text(url.set(password=secret, database="nei"))), url.database)
        assert secret not in out


def test_postgresql_without_database_looks_for_the_users_own():
    role = f"u{uuid.uuid4().hex[:8]}"
    _execute(sa.engine.make_url(PG_ADMIN), f"CREATE ROLE {role} LOGIN")
    try:
        with fresh_database("postgresql", "uttrekk_cn") as url:
            out = fails(run("inspect", _text(url.set(username=role)._replace(database=None))),
                        f"the server has no database '{role}'", "the URL names none, so PostgreSQL looked for its default",
                        url.database)
            assert "postgres" in out
    finally:
        _execute(sa.engine.make_url(PG_ADMIN), f"DROP ROLE {role}")


def test_postgresql_database_without_tables_lists_the_others():
    with fresh_database("postgresql", "uttrekk_cn") as full, fresh_database("postgresql", "uttrekk_cn") as empty:
        _execute(full, "CREATE TABLE a (id int PRIMARY KEY)")
        fails(run("inspect", _text(empty)), f"the database {empty.database} has no tables in any schema",
              "other databases on this server: ", full.database, url_label(full.set(database="NAME")))


def test_firebird_url_without_a_database_file_says_how_to_write_it(tmp_path):
    admin = sa.engine.make_url(ADMIN_URLS["firebird"])
    out = fails(run("inspect", _text(admin)), "the URL names no database",
                f"@{admin.host}:{admin.port}//path/to/file.fdb", "cannot list its databases")
    assert admin.password not in out
    relative = _text(admin.set(database="tmp/finnes-ikke.fdb"))
    fails(run("extract", relative, "--out", tmp_path / "o"), "cannot open the database 'tmp/finnes-ikke.fdb'",
          "as a path it is relative", "//path/to/file.fdb")
    path, url = _fresh_firebird()
    try:
        r = run("inspect", _text(url).replace("firebird+firebird://", "firebird://"), "--no-scan")
        assert "the database has no tables to extract" in r.output  # the file is found; it is empty
    finally:
        _drop_firebird(path)


def test_oracle_url_without_a_service_says_how_to_write_it():
    """Checked before any connection (there is no Oracle server here; the rule needs none)."""
    from dialects.oracle import Oracle
    from extractor.errors import SourceError

    with pytest.raises(SourceError) as caught:
        Oracle.check_url(sa.engine.make_url("oracle+oracledb://lese:topphemmelig@db.example:1521/"))
    assert "?service_name=NAME" in str(caught.value) and "topphemmelig" not in str(caught.value)
    Oracle.check_url(sa.engine.make_url("oracle+oracledb://lese@db.example:1521/?service_name=FREEPDB1"))


# -- 2. a URL without a driver --------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["mariadb", "postgresql"])
def test_bare_scheme_uses_the_installed_driver(engine):
    with fresh_database(engine, "uttrekk_cn") as url:
        _execute(url, "CREATE TABLE a (id int PRIMARY KEY)", "INSERT INTO a VALUES (1)")
        backend = url.get_backend_name()
        schemes = ["mysql", "mariadb"] if backend == "mysql" else ["postgresql"]
        for scheme in schemes:
            r = run("inspect", _text(url.set(drivername=scheme)), "--no-scan")
            assert r.exit_code == 0, r.output
            assert f"Source: {scheme}+{'pymysql' if backend == 'mysql' else 'psycopg'}://" in r.output
            assert "a: 1 rows" in r.output


def test_bare_firebird_uses_the_installed_driver():
    path, url = _fresh_firebird()
    try:
        _execute(url, "CREATE TABLE a (id integer NOT NULL PRIMARY KEY)")
        r = run("inspect", _bare(url), "--no-scan")
        assert r.exit_code == 0 and "Source: firebird+firebird://" in r.output and "a: 0 rows" in r.output, r.output
    finally:
        _drop_firebird(path)


def test_another_driver_than_the_adapters_is_refused_with_the_url_to_give():
    fails(run("inspect", "mysql+mysqldb://root@127.0.0.1/x"), "uttrekk reads mysql through PyMySQL, not mysqldb",
          "mysql+pymysql://")
    fails(run("inspect", "postgresql+psycopg2://postgres@127.0.0.1/x"), "through psycopg, not psycopg2",
          "postgresql+psycopg://")


def _without_drivers(tmp_path: Path) -> Path:
    """A folder that holds every installed package except the database drivers: Python started
    with it alone (``-S``) is an installation of uttrekk without any extra."""
    import sqlalchemy

    site = Path(sqlalchemy.__file__).resolve().parent.parent
    drivers = ("pymysql", "psycopg", "firebird", "sqlalchemy_firebird", "pyodbc", "oracledb", "mysqldb", "psycopg2")
    folder = tmp_path / "site"
    folder.mkdir()
    for entry in site.iterdir():
        if not entry.name.lower().startswith(drivers) and not entry.name.lower().startswith(("mysqlclient",)):
            (folder / entry.name).symlink_to(entry)
    return folder


def test_missing_driver_names_the_extra_to_install(tmp_path):
    site = _without_drivers(tmp_path)
    code = ("import sys; sys.path[:0] = [sys.argv.pop(1), sys.argv.pop(1)]; "
            "from extractor.cli import main; sys.argv[0] = 'uttrekk'; main()")
    for source, extra, package in (("mysql://root@127.0.0.1/x", "mysql", "PyMySQL"),
                                   ("mariadb://root@127.0.0.1/x", "mysql", "PyMySQL"),
                                   ("postgresql://postgres@127.0.0.1/x", "postgresql", "psycopg"),
                                   ("firebird://SYSDBA:masterkey@127.0.0.1//tmp/x.fdb", "firebird", "firebird-driver"),
                                   ("mssql+pyodbc://sa@127.0.0.1/x", "mssql", "pyodbc"),
                                   ("oracle://lese@127.0.0.1/?service_name=X", "oracle", "oracledb")):
        done = subprocess.run([sys.executable, "-S", "-c", code, str(site), str(ROOT), "inspect", source],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""}, timeout=60)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.count("uttrekk: error:") == 1, done.stderr
        assert f"pip install 'uttrekk[{extra}]' ({package}" in done.stderr, done.stderr
        assert "masterkey" not in done.stderr


# -- 4. found where the data is: real dumps restored as docs/guide.md says ------------------------


def _pg_tools(url: Any) -> list[str]:
    return ["-h", url.host, "-p", str(url.port), "-U", url.username]


@pytest.fixture
def restored_pg_dump(tmp_path):
    """A database with its tables in schema fagsys, dumped with pg_dump and restored into a new
    database as docs/guide.md says (createdb NAME && pg_restore --no-owner -d NAME dump)."""
    admin = sa.engine.make_url(PG_ADMIN)
    dump = tmp_path / "sak.dump"
    with fresh_database("postgresql", "uttrekk_src") as src:
        _execute(src, "CREATE SCHEMA fagsys",
                 "CREATE TABLE fagsys.sak (id integer PRIMARY KEY, tittel text NOT NULL)",
                 "CREATE TABLE fagsys.dokument (id integer PRIMARY KEY, sak_id integer REFERENCES fagsys.sak, navn text)",
                 "INSERT INTO fagsys.sak VALUES (1, 'Byggesøknad'), (2, 'Klage')",
                 "INSERT INTO fagsys.dokument VALUES (1, 1, 'tegning.pdf'), (2, 2, NULL)")
        subprocess.run(["pg_dump", *_pg_tools(admin), "-Fc", "-f", str(dump), src.database], check=True)
    name = f"uttrekk_sak_{uuid.uuid4().hex[:10]}"
    subprocess.run(["createdb", *_pg_tools(admin), name], check=True)
    try:
        subprocess.run(["pg_restore", *_pg_tools(admin), "--no-owner", "-d", name, str(dump)], check=True)
        yield admin.set(database=name)
    finally:
        _execute(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_pg_dump_restored_as_the_guide_says_is_found_in_its_schema(restored_pg_dump, tmp_path):
    url = restored_pg_dump
    before = _rows(url, "fagsys.sak", "fagsys.dokument")
    said = "the schema public (the connection's default) has no tables, so uttrekk read schema fagsys"

    r = run("inspect", _text(url))
    assert r.exit_code == 0, r.output
    assert "sak: 2 rows" in r.output and "dokument: 2 rows" in r.output and f"warning: {said}" in r.output
    r = run("inspect", _text(url), "--keys")
    assert r.exit_code == 0 and said in r.output, r.output
    r = run("profile", "init", _text(url), "-o", tmp_path / "p.toml")
    assert r.exit_code == 0 and f"note: {said}" in r.output, r.output
    assert "[tables.sak]" in (tmp_path / "p.toml").read_text(encoding="utf-8")

    out = tmp_path / "o"
    r = run("extract", _text(url), "--profile", tmp_path / "p.toml", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    assert (out / "content" / "sak.txt").read_bytes() == "1;Byggesøknad\r\n2;Klage\r\n".encode("latin-1")
    assert said in (out / "report" / "summary.txt").read_text(encoding="utf-8")
    report = (out / "report" / "extraction.json").read_text(encoding="utf-8")
    assert said in report and '"schema": "fagsys"' in report
    assert "skjema fagsys" in (out / "documentation" / "uttrekkslogg.txt").read_text(encoding="latin-1")

    r = run("inspect", _text(url), "--schema", "fagsys", "--no-scan")  # chosen explicitly: nothing to say
    assert r.exit_code == 0 and "warning:" not in r.output, r.output
    assert _rows(url, "fagsys.sak", "fagsys.dokument") == before


def test_two_candidate_schemas_are_named_in_one_line(restored_pg_dump, tmp_path):
    url = restored_pg_dump
    _execute(url, "CREATE SCHEMA arkiv", "CREATE TABLE arkiv.vedtak (id integer PRIMARY KEY)", "CREATE SCHEMA tom")
    for command in (["inspect"], ["inspect", "--keys"], ["profile", "init"], ["extract", "--out", tmp_path / "o"]):
        out = fails(run(*command[:-2 if command[0] == "extract" else None], _text(url),
                        *(command[-2:] if command[0] == "extract" else ())),
                    "the schema public (the connection's default) has no tables",
                    "arkiv (1 table), fagsys (2 tables)", "--schema NAME")
        assert out.count("\n") == 1, out
    assert not (tmp_path / "o").exists()
    fails(run("inspect", _text(url), "--schema", "tom"), "the schema tom has no tables",
          "schemas with tables: arkiv (1 table), fagsys (2 tables)")
    r = run("inspect", _text(url), "--schema", "arkiv", "--no-scan")
    assert r.exit_code == 0 and "vedtak: 0 rows" in r.output
    _execute(url, "CREATE TABLE public.innstilling (id integer PRIMARY KEY)")
    r = run("inspect", _text(url), "--no-scan")
    assert r.exit_code == 0 and "innstilling: 0 rows" in r.output
    assert ("warning: only the schema public is read (1 table); other schemas of this database have tables too: "
            "arkiv (1 table), fagsys (2 tables)") in r.output


def test_mariadb_dump_with_databases_is_named_not_read(tmp_path):
    """``mariadb-dump --databases`` recreates its own database; restored as the guide says (into a new
    database ``sak``), the tables are beside it. uttrekk does not read another database than the URL
    names: it stops and names the one with the tables, with the URL to give."""
    admin = sa.engine.make_url(MARIADB_ADMIN)
    tools = ["-h", admin.host, "-P", str(admin.port), "-u", admin.username, "--protocol=tcp"]
    dump = tmp_path / "sak.sql"
    with fresh_database("mariadb", "uttrekk_src") as src:
        _execute(src, "CREATE TABLE sak (id int PRIMARY KEY, tittel text NOT NULL)",
                 "CREATE TABLE dokument (id int PRIMARY KEY, sak_id int REFERENCES sak(id))",
                 "INSERT INTO sak VALUES (1, 'Byggesøknad'), (2, 'Klage')")
        subprocess.run(["mariadb-dump", *tools, "--databases", src.database, f"--result-file={dump}"], check=True)
        _execute(admin, f"DROP DATABASE {src.database}")
        with fresh_database("mariadb", "uttrekk_sak") as sak:
            with dump.open("rb") as fh:
                subprocess.run(["mariadb", *tools, sak.database], stdin=fh, check=True)
            before = _rows(src, "sak", "dokument")
            for command in (["inspect"], ["inspect", "--keys"], ["profile", "init"]):
                out = fails(run(*command, _text(sak)), f"the database {sak.database} has no tables",
                            f"{src.database} (2 tables)", "name one in the URL (mysql+pymysql://root@", "--schema ")
                assert out.count("\n") == 1
            r = run("inspect", _text(src), "--no-scan")
            assert r.exit_code == 0 and "sak: 2 rows" in r.output and "warning" not in r.output, r.output
            r = run("extract", _text(sak), "--schema", src.database, "--out", tmp_path / "o", "-q")
            assert r.exit_code == 0, r.output
            assert (tmp_path / "o" / "content" / "sak.txt").read_bytes() == "1;Byggesøknad\r\n2;Klage\r\n".encode("latin-1")
            assert f'"schema": "{src.database}"' in (tmp_path / "o" / "report" / "extraction.json").read_text()
            assert _rows(src, "sak", "dokument") == before
