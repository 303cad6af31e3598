"""What a new user meets first: the URL and the driver (issue 12, point 7).

A URL without a driver uses the driver uttrekk's extra installs, and says which extra to install
when it is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import fails, fresh_database, run
from tests.test_servers import _drop_firebird, _fresh_firebird

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


def _bare(url: Any) -> str:
    """The URL as a new user writes it: no driver (``mysql://``, ``postgresql://``)."""
    return _text(url.set(drivername=url.get_backend_name()))


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
