"""The source boundary (``extractor/source_dialect.py``): every adapter is a ``SourceDialect``, and
``extractor`` uses no more of a dialect than the protocol lists.

Two checks. At run time, an instance of every adapter in ``dialects.REGISTRY`` has every member of
the protocol, and exactly the ones with large objects are a ``LargeObjectSource``; an opened source
is one. Statically, mypy checks each adapter class against the protocol (``_adapters`` below) and
every module of ``extractor`` that takes a ``SourceDialect`` against what it calls on it; errors in
modules those import are not this test's business (``--follow-imports=silent``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from dialects import REGISTRY, _load, open_source
from extractor.source_dialect import LargeObjectSource, SourceDialect, large_objects_of
from tests.conftest import fresh_database

ROOT = Path(__file__).resolve().parent.parent

if TYPE_CHECKING:  # read by mypy only (test_mypy_holds_the_boundary)
    from dialects.base import Dialect
    from dialects.firebird import Firebird
    from dialects.mssql import MSSQL
    from dialects.mysql import MySQL
    from dialects.oracle import Oracle
    from dialects.postgresql import PostgreSQL
    from dialects.sqlite import SQLite

    def _adapters(generic: Dialect, sqlite: SQLite, pg: PostgreSQL, my: MySQL, fb: Firebird, ms: MSSQL,
                  ora: Oracle) -> None:
        each: tuple[SourceDialect, ...] = (generic, sqlite, pg, my, fb, ms, ora)  # checked item by item
        lobs: LargeObjectSource = pg
        assert each and lobs


@pytest.mark.parametrize("backend", sorted(REGISTRY))
def test_every_adapter_has_the_whole_protocol(backend):
    adapter = _load(REGISTRY[backend])(sa.create_engine("sqlite://"), "label")
    assert isinstance(adapter, SourceDialect)
    assert isinstance(adapter, LargeObjectSource) == adapter.capabilities.large_objects


def test_opened_sources_are_source_dialects(example_db):
    source = open_source(str(example_db))
    try:
        assert isinstance(source, SourceDialect) and large_objects_of(source) is None
        details = source.source_details()
        assert details["engine"] == "sqlite" and details["file"] == str(example_db.resolve())
    finally:
        source.close()
    with fresh_database("postgresql") as url:
        source = open_source(url.render_as_string(hide_password=False))
        try:
            assert large_objects_of(source) is source
            details = source.source_details()
            assert details["database"] == url.database and "password" not in details
        finally:
            source.close()


def _users_of_the_protocol() -> list[str]:
    files = [p for p in sorted((ROOT / "extractor").rglob("*.py")) if "source_dialect" in p.read_text(encoding="utf-8")]
    return [str(p.relative_to(ROOT)) for p in files]


def test_mypy_holds_the_boundary(tmp_path):
    files = _users_of_the_protocol()
    assert {"extractor/source_dialect.py", "extractor/pipeline.py", "extractor/keys.py",
            "extractor/relations/find.py"} <= set(files)
    run = subprocess.run([sys.executable, "-m", "mypy", "--follow-imports=silent", "--cache-dir", str(tmp_path),
                          "--no-error-summary", *files, "tests/test_source_dialect.py"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
