"""The adapter on a loaded dBase/FoxPro source (``dbase_load``): the SQLite adapter, with the tables
and their dBase field types as the files declare them.

Each table is a temporary view named as the table (made on every connection, before the connection
is made read-only) over its loaded rows: the fields by their names, the record number as
``uttrekk_recno``, and either only the live records (the default) or every record with
``uttrekk_slettet`` (J for a record marked deleted). A pointer with ``address = "recno"`` means the
physical record number dBase shows as RECNO(), so it is matched with ``uttrekk_recno``, deleted
records counted, whatever the extract's order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from dialects.sqlite import SQLite
from extractor.errors import SourceError
from extractor.model import Column, Lookup, Schema, Table

from .dbase_load import DELETED, RECNO


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _free(name: str, taken: Collection[str]) -> str:
    low = {t.casefold() for t in taken}
    while name.casefold() in low:
        name += "_"
    return name


class DbaseSource(SQLite):
    name = "dbase"
    long_text_types = frozenset({"M"})
    """A memo (``M (memo)``) holds prose, never a reference."""

    @classmethod
    def open(cls, db: Path, label: str, tables: list[dict[str, Any]], deleted: str, files: tuple[Path, ...],
             stack: ExitStack) -> DbaseSource:
        views = []
        for t in tables:
            names = [c["name"] for c in t["columns"]]
            recno = _free(RECNO, names)
            cols = [f"c{j} AS {_q(n)}" for j, n in enumerate(names)] + [f"recno AS {_q(recno)}"]
            where = " WHERE deleted = 0"
            if deleted == "keep":
                cols.append(f"deleted AS {_q(_free(DELETED, [*names, recno]))}")
                where = ""
            views.append(f"CREATE TEMP VIEW {_q(t['name'])} AS SELECT {', '.join(cols)} FROM main.{t['internal']}{where}")
        uri = f"file:{quote(str(db.resolve()))}?mode=ro"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            for view in views:
                conn.execute(view)
            conn.execute("PRAGMA query_only = ON")
            return conn

        engine = sa.create_engine("sqlite+pysqlite://", creator=connect, poolclass=sa.pool.NullPool)
        stack.callback(engine.dispose)
        dialect = cls(engine, label)
        dialect.counting_connection = (uri, tuple(views))
        dialect.tables_facts, dialect.deleted, dialect.files, dialect._stack = tables, deleted, files, stack
        dialect._probe()
        return dialect

    tables_facts: list[dict[str, Any]]
    deleted = "skip"
    files: tuple[Path, ...] = ()
    _stack: ExitStack | None = None

    @property
    def engine_name(self) -> str:
        return "dbase"

    def source_files(self) -> tuple[Path, ...]:
        return self.files

    def source_details(self) -> dict[str, str]:
        return {"engine": "dbase", **dict(self.provenance)}

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        if schema is not None:
            raise SourceError(f"{self.label}: a dBase/FoxPro source has no schemas; leave --schema out")
        out = []
        for t in self.tables_facts:
            cols = [Column(c["name"], c["native"], c["kind"], nullable=bool(c["nullable"]), length=c.get("length"),
                           precision=c.get("precision"), scale=c.get("scale"), float_bits=c.get("float_bits"))
                    for c in t["columns"]]
            names = [c.name for c in cols]
            recno = _free(RECNO, names)
            cols.append(Column(recno, "record number", "integer", nullable=False,
                               comment="Postens nummer i dBase-fila (RECNO()), fra 1, slettede poster medregnet."))
            if self.deleted == "keep":
                cols.append(Column(_free(DELETED, [*names, recno]), "deletion flag", "boolean", nullable=False,
                                   comment="J når posten er merket som slettet (*) i dBase-fila."))
            out.append(Table(t["name"], tuple(cols)))
        return Schema(tuple(sorted(out, key=lambda t: t.name)), source_label=self.label, engine="dbase")

    def query_columns(self, conn: Any, cursor: Any, sql: str) -> list[Column]:
        """A profile query's columns typed by their values' storage classes (the views live only in
        the run's connections, so the declared types of the generic reading are not there)."""
        names = [d[0] for d in cursor.description]
        out = []
        for name, classes in zip(names, self._storage_classes(conn, sql, names), strict=True):
            kind = {"integer": "integer", "real": "float", "blob": "binary"}.get(classes, "string")
            out.append(Column(name, classes.upper() or "TEXT", kind, float_bits=53 if kind == "float" else None))  # type: ignore[arg-type]
        return out

    def _lookup(self, table: Table, lk: Lookup, i: int) -> tuple[Any, Any]:
        """``address = "recno"``: dBase's record number, ``uttrekk_recno`` (counted from ``recno_start``)."""
        if lk.address != "recno":
            return super()._lookup(table, lk, i)
        recno = next((c.name for c in lk.target.columns if c.native_type == "record number"), RECNO)
        column = self.reflected_name(replace(table, columns=(*table.columns, lk.original)), lk.column)
        key = self.column_expr(lk.target, lk.key) if lk.key else self.record_number(lk.target, lk.order)
        address: Any = sa.column(recno) + (lk.start - 1)
        sub = sa.select(address.label("ux_a"), key.label("ux_k")).select_from(self._selectable(lk.target)).subquery(
            f"ux_l{i}")
        return sub, sa.column(column) == sub.c.ux_a

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        else:
            super().close()
