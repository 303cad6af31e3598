"""Shared fixtures: the bundled example database and a CLI runner."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import build_example_db
import pytest
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
