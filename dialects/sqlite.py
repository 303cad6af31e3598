"""SQLite adapter: the embedded default and the format of the bundled example database.

Versions: whatever the Python ``sqlite3`` module links (3.31+ seen). Opened read-only through a
``file:…?mode=ro`` URI plus ``PRAGMA query_only``, so uttrekk cannot change the file.

Types: SQLite stores any value in any column (type affinity only); the pre-flight scan checks
every value against the declared type (as it does on every engine) and archives a column with
values that do not fit as text, with a report line.
Dates and timestamps are normally text (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS[.fff]``);
DECIMAL columns hold REAL values, written with the shortest digits that round-trip. A REAL value is
always a double (8 bytes), whatever the declared type (``FLOAT``, ``REAL``, ``FLOAT(10)``).
Gaps: dates stored as Julian day numbers or Unix times are archived as numbers/text, with a report.

Profile queries: SQLite tells the declared type of a result column only when it comes straight
from a table column; it is read through a temporary view in a separate in-memory database that
attaches the source read-only, so the source file is never written. A computed column
(``count(*)``, ``a || b``) has no declared type: it is typed by the storage classes its values
have (``typeof``), integer, real or text, and as text when they are mixed.

Server rendering (``sqlite_rendering``, the default for delimited files): one expression per row
builds the record; columns whose values SQLite cannot render as the exact path does take it.

Arrays: SQLite has no array type; a value that looks like one is text (or a BLOB) and is archived so.
"""

from __future__ import annotations

import os
import sqlite3
import warnings
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sqlalchemy as sa

from extractor.errors import SourceError
from extractor.model import Column, Kind, Schema, Table

from .base import Capabilities, Dialect, _short, kind_of, native_name
from .sqlite_rendering import SqliteServerRendering

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


STORAGE_TYPES = {"integer": "INTEGER", "real": "REAL", "real,integer": "REAL", "integer,real": "REAL", "text": "TEXT",
                 "blob": "BLOB"}
"""A computed query column's storage classes -> the type it is read as (mixed or unknown: none, so text)."""


class SQLite(SqliteServerRendering, Dialect):
    name = "sqlite"
    addresses = {"rowid": ("rowid", "{c}")}
    capabilities = Capabilities(comments=False)
    long_text_types = Dialect.long_text_types - {"TEXT"}
    """``TEXT`` is SQLite's one string type."""
    typed_values = False
    """Any column holds any value (type affinity only)."""

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
        dialect.counting_connection = (uri, ())
        dialect._probe()
        return dialect

    @classmethod
    def from_url(cls, url: URL) -> Dialect:
        if not url.database or url.database == ":memory:":
            raise SourceError("a SQLite URL must name a database file (sqlite:///path/to/file.db)")
        return cls.from_path(Path(url.database))

    path: Path | None = None

    def iter_rows(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The generic reading; a text SQLite holds as bytes that are not UTF-8 (it checks nothing it
        is given) is one error naming table, column and row key, and what to do."""
        try:
            yield from super().iter_rows(table, columns, order_by)
        except SourceError as exc:
            if "Could not decode to UTF-8" not in str(exc):
                raise
            raise SourceError(self._not_utf8(table, columns, order_by) or str(exc)) from None

    def _not_utf8(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> str:
        """The first text (in the extract's order) whose bytes are not UTF-8, said as an error."""
        keys = list(order_by) or list(columns[:1])
        quoted = {n: self._quote(self.reflected_name(table, n)) for n in {*keys, *columns}}
        texts: list[Any] = [sa.literal_column(f"CASE WHEN typeof({quoted[n]}) = 'text' THEN {quoted[n]} END") for n in columns]
        query: Any = sa.select(*[sa.literal_column(quoted[k]) for k in keys], *texts).select_from(self._selectable(table))
        order = [o for name in order_by for o in self.order_keys(table, name)]
        sql = self.sql_text(query.order_by(*order) if order else query)
        with self._connection() as conn:
            raw = conn.connection.driver_connection
            factory, raw.text_factory = raw.text_factory, bytes
            try:
                for row in raw.execute(sql):
                    for name, value in zip(columns, row[len(keys):], strict=True):
                        if value is None:
                            continue
                        try:
                            value.decode("utf-8")
                        except UnicodeDecodeError as exc:
                            key = ", ".join(f"{k}={_shown(v)}" for k, v in zip(keys, row[:len(keys)], strict=True))
                            return (f"{self.label}: {table.name}.{name} [{key}]: the text holds bytes that are not UTF-8 "
                                    f"({value[max(exc.start - 8, 0):exc.end + 8]!r}); SQLite keeps whatever it is "
                                    "given. Correct the value in a copy of the file and extract the copy (the "
                                    f"original stays as it is), or leave the column out in the profile "
                                    f"([tables.{table.name}.columns.{name}] exclude = \"the reason\")")
            finally:
                raw.text_factory = factory
        return ""

    def source_files(self) -> tuple[Path, ...]:
        """The database file and the journal files SQLite keeps beside it."""
        if self.path is None:
            return ()
        return (self.path, *(self.path.with_name(self.path.name + end) for end in ("-wal", "-shm", "-journal")))

    def source_details(self) -> dict[str, str]:
        """The database file and the machine that read it, for the extraction log."""
        if self.path is None:
            return super().source_details()
        return {"engine": self.engine_name, "file": str(self.path.expanduser().resolve()),
                "machine": os.uname().nodename, **dict(self.provenance)}

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        """The generic reflection, without SQLAlchemy's warning that it could not match a foreign
        key it parsed from ``CREATE TABLE`` (a quoted name holding ``"``): the key itself comes
        from ``PRAGMA foreign_key_list`` and is complete."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "WARNING: SQL-parsed foreign key constraint", sa.exc.SAWarning)
            return super().reflect(schema, views)

    def _storage_classes(self, conn: Any, sql: str, names: list[str]) -> list[str]:
        """The storage classes (``typeof``) of each named column's non-NULL values, sorted, comma-joined."""
        quoted = [self._quote(n) for n in names]
        parts = ", ".join(f"(SELECT group_concat(t, ',') FROM (SELECT DISTINCT typeof({q}) AS t FROM ux_r "
                          f"WHERE {q} IS NOT NULL ORDER BY t))" for q in quoted)
        row = conn.exec_driver_sql(f"WITH ux_r AS (SELECT * FROM (\n{sql}\n)) SELECT {parts}").one()
        return [v or "" for v in row]

    def query_columns(self, conn: Any, cursor: Any, sql: str) -> list[Column]:
        """Declared types of a query's result columns, from ``PRAGMA table_info`` of a temporary
        view over it in an in-memory database that attaches the source read-only."""
        names = [d[0] for d in cursor.description]
        declared = [""] * len(names)
        if self.path is not None:
            mem = sqlite3.connect("file::memory:", uri=True)
            try:
                mem.execute("ATTACH DATABASE ? AS src", (f"file:{quote(str(self.path.resolve()))}?mode=ro",))
                mem.execute(f"CREATE TEMP VIEW ux_q AS SELECT * FROM (\n{sql}\n)")
                declared = [row[2] or "" for row in mem.execute("PRAGMA temp.table_info(ux_q)")]
            except sqlite3.Error:
                pass  # no declared types: every column is read as text
            finally:
                mem.close()
        if len(declared) != len(names):
            declared = [""] * len(names)
        untyped = [i for i, decl in enumerate(declared) if not decl]
        if untyped:
            stored = self._storage_classes(conn, sql, [names[i] for i in untyped])
            for i, classes in zip(untyped, stored, strict=True):
                declared[i] = STORAGE_TYPES.get(classes, "")
        out = []
        for name, decl in zip(names, declared, strict=True):
            resolve = self.engine.dialect._resolve_type_affinity  # type: ignore[attr-defined]  # SQLAlchemy's own reading
            satype = resolve(decl.upper()) if decl else sa.types.NULLTYPE
            kind, facts = self.column_kind(satype)
            out.append(Column(name, native_name(satype, self.engine), kind, length=facts.get("length"),
                              precision=facts.get("precision"), scale=facts.get("scale"),
                              float_bits=facts.get("float_bits")))
        return out

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        """A REAL value is a double whatever the declared type (``FLOAT(10)``, ``REAL``) says."""
        kind, facts = kind_of(satype)
        return kind, ({"float_bits": 53} if kind == "float" else facts)

    def _probe(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot be read as a SQLite database: {_short(exc)}") from None


def _shown(value: Any) -> str:
    """A row key's value for a message (a text read as bytes shown as text)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)
