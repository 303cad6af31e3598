"""SQLite adapter: the embedded default and the format of the bundled example database.

Versions: whatever the Python ``sqlite3`` module links (3.31+ seen). Opened read-only through a
``file:…?mode=ro`` URI plus ``PRAGMA query_only``, so uttrekk cannot change the file.

Types: SQLite stores any value in any column (type affinity only); the pre-flight scan checks
every value against the declared type (as it does on every engine) and archives a column with
values that do not fit as text, with a report line.
Dates and timestamps are normally text (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS[.fff]``);
DECIMAL columns hold REAL values, written with the shortest digits that round-trip.
Gaps: dates stored as Julian day numbers or Unix times are archived as numbers/text, with a report.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import sqlalchemy as sa

from extractor.errors import SourceError

from .base import Capabilities, Dialect, _short

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


class SQLite(Dialect):
    name = "sqlite"
    addresses = {"rowid": ("rowid", "{c}")}
    capabilities = Capabilities(comments=False)

    @classmethod
    def from_path(cls, path: Path) -> SQLite:
        path = path.expanduser()
        if not path.exists():
            raise SourceError(f"{path}: no such file. Give a SQLite file or a database URL.")
        if path.is_dir():
            raise SourceError(f"{path}: is a directory, not a SQLite database file.")
        with path.open("rb") as fh:
            head = fh.read(16)
        if head != b"SQLite format 3\x00":
            raise SourceError(f"{path}: not a SQLite database (the file does not start with the SQLite header).")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            return conn

        engine = sa.create_engine("sqlite+pysqlite://", creator=connect, poolclass=sa.pool.NullPool)
        dialect = cls(engine, path.name)
        dialect.path = path
        dialect._probe()
        return dialect

    @classmethod
    def from_url(cls, url: URL) -> Dialect:
        if not url.database or url.database == ":memory:":
            raise SourceError("a SQLite URL must name a database file (sqlite:///path/to/file.db)")
        return cls.from_path(Path(url.database))

    path: Path | None = None

    def _probe(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot be read as a SQLite database: {_short(exc)}") from None
