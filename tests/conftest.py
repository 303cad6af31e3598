"""Shared fixtures: the bundled example database and a CLI runner."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import build_example_db
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from extractor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PROFILE = ROOT / "profiles" / "example-kommune.toml"


@pytest.fixture(scope="session")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exampledb") / "example.sqlite"
    build_example_db.build(path)
    return path


def run(*args: str | Path) -> object:
    """Run the uttrekk CLI in-process; returns click's Result."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


PG_ADMIN = os.environ.get("UTTREKK_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("UTTREKK_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")


@contextmanager
def fresh_database(engine: str, prefix: str = "uttrekk_t") -> Iterator[sa.engine.URL]:
    """A new, empty UTF-8 database on the local PostgreSQL or MariaDB test server, dropped afterwards."""
    admin = sa.engine.make_url(PG_ADMIN if engine == "postgresql" else MARIADB_ADMIN)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}" + (" ENCODING 'UTF8' TEMPLATE template0"
                                                               if engine == "postgresql" else " CHARACTER SET utf8mb4"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"{engine} test server not reachable ({exc.orig}); run scripts/test-services.sh")
    try:
        yield admin.set(database=name)
    finally:
        with eng.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if engine == "postgresql" else ""))
        eng.dispose()


def run_sql(url: sa.engine.URL, statements: list[str]) -> None:
    """Run statements on a test database, in one transaction."""
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)
    eng.dispose()


@contextmanager
def seeded_source(engine: str, seed, tmp_path_factory, prefix: str) -> Iterator[str]:
    """A source for ``engine`` (a new SQLite file, or a fresh database on the PostgreSQL or MariaDB
    test server) filled by ``seed(url, engine)``; yields the URL (or path) to give uttrekk."""
    if engine == "sqlite":
        path = tmp_path_factory.mktemp(prefix) / f"{prefix}.sqlite"
        seed(sa.engine.make_url(f"sqlite:///{path}"), engine)
        yield str(path)
        return
    with fresh_database(engine, prefix) as url:
        seed(url, engine)
        yield url.render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def _session_cache() -> Iterator[Path]:
    """No test restores into the user's own cache: ``$UTTREKK_CACHE`` points at a folder of the
    session's (``dump_cache`` gives a test one of its own)."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="uttrekk-session-cache-", dir="/tmp"))
    os.chmod(root, 0o711)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UTTREKK_CACHE", str(root))
        yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def dump_cache(monkeypatch) -> Iterator[Path]:
    """A private cache for restored dumps (``$UTTREKK_CACHE``), removed afterwards. Under /tmp with
    mode 0711, not in pytest's own folders: a throwaway server run by root runs as 'nobody', which
    must pass through every folder above its own (dialects/kinds/throwaway.py)."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="uttrekk-cache-", dir="/tmp"))
    os.chmod(root, 0o711)
    monkeypatch.setenv("UTTREKK_CACHE", str(root))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fails(result, *fragments: str) -> str:
    """The output of a run that must end in exactly one clear error naming every fragment, no traceback."""
    assert result.exit_code != 0
    out = result.output
    assert "Traceback" not in out
    assert out.count("uttrekk: error:") == 1, out
    for f in fragments:
        assert f in out, (f, out)
    return out


def make_db(path: Path, script: str, rows: dict[str, list[tuple]] | None = None) -> Path:
    """A SQLite database from a DDL script and rows per table."""
    con = sqlite3.connect(path)
    con.executescript(script)
    for table, values in (rows or {}).items():
        if values:
            marks = ",".join("?" * len(values[0]))
            con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
    con.commit()
    con.close()
    return path
