"""PostgreSQL large objects: which columns refer to them, their bytes, and objects nobody refers to.

A large object lives apart from the rows (``pg_largeobject``); a row holds its number in a column
of type ``oid``, of the ``lo`` extension's domain ``lo``, or of another domain over ``oid``. Every
statement here reads inside the run's read-only snapshot: ``lo_get`` and ``lo_open`` in read mode
work in a read-only transaction and see the objects as of the snapshot. ``lo_open`` and
``lo_lseek64`` measure an object without reading it (each descriptor is closed in the same row).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from extractor.errors import SourceError
from extractor.model import Column, Table

from .base import Dialect

METADATA = Table("pg_largeobject_metadata", (Column("oid", "oid", "integer", nullable=False),), ("oid",),
                 schema="pg_catalog")
"""The catalogue of large objects (readable by every role, unlike ``pg_largeobject``)."""

_OID_TYPES = """WITH RECURSIVE oid_types(oid, lo) AS (
    SELECT CAST(CAST('oid' AS regtype) AS oid), false
    UNION SELECT t.oid, o.lo OR t.typname = 'lo' FROM pg_catalog.pg_type t JOIN oid_types o ON t.typbasetype = o.oid
        WHERE t.typtype = 'd')
"""
"""``oid`` and every domain over it; ``lo``: the ``lo`` extension's domain (or a domain over it)."""

_COLUMNS = _OID_TYPES + """SELECT n.nspname, c.relname, a.attname, bool_or(o.lo),
    has_column_privilege(c.oid, a.attnum, 'SELECT')
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN oid_types o ON o.oid = a.atttypid
WHERE a.attnum > 0 AND NOT a.attisdropped AND {where}
GROUP BY n.nspname, c.relname, a.attname, c.oid, a.attnum ORDER BY 1, 2, 3"""

INV_READ = 0x40000


def size_sql(oid: str) -> str:
    """The size in bytes of the large object ``oid`` (an SQL expression), measured without reading it."""
    return (f"(SELECT s.size FROM (SELECT pg_catalog.lo_open({oid}, {INV_READ}) AS fd OFFSET 0) AS f CROSS JOIN "
            "LATERAL (SELECT pg_catalog.lo_lseek64(f.fd, 0, 2) AS size, pg_catalog.lo_close(f.fd) AS closed "
            "OFFSET 0) AS s)")


def exists_sql(oid: str) -> str:
    return f"EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata AS ux_m WHERE ux_m.oid = {oid})"


_READABLE = ("(current_setting('lo_compat_privileges') = 'on' OR pg_catalog.pg_has_role(m.lomowner, 'USAGE') OR "
             "EXISTS (SELECT 1 FROM pg_catalog.aclexplode(m.lomacl) AS a WHERE a.privilege_type = 'SELECT' AND "
             "CASE WHEN a.grantee = 0 THEN true ELSE pg_catalog.pg_has_role(a.grantee, 'USAGE') END))")
"""Whether this role may read the large object ``m`` (the server's own rule: owner, a grant, or PUBLIC)."""


class LargeObjects(Dialect):
    """Large-object support, the part of the PostgreSQL adapter that knows them."""

    def large_object_columns(self, tables: Sequence[Table]) -> dict[str, dict[str, bool]]:
        """Per table, its columns that may refer to large objects: name -> True when the type says
        so (``lo``), False when only the data can tell (``oid`` and other domains over it)."""
        names = [f"{self._quote(t.schema)}.{self._quote(t.name)}" if t.schema else self._quote(t.name) for t in tables]
        query = sa.text(_COLUMNS.format(where="c.oid = ANY(CAST(:names AS regclass[]))")).bindparams(names=names)
        found: dict[str, dict[str, bool]] = {}
        for row in self._scalar_rows(query, "reading which columns may refer to large objects"):
            found.setdefault(row[1], {})[row[2]] = bool(row[3])
        return found

    def large_object_facts(self, table: Table, column: str) -> tuple[int, int]:
        """The column's non-NULL values, and how many of them name a large object that exists."""
        col = self._lo_column(table, column)
        query = sa.select(sa.func.count(sa.literal_column(col)),
                          sa.func.count(sa.case((sa.literal_column(exists_sql(col)), 1)))
                          ).select_from(self._selectable(table))
        row = self._scalar_rows(query, f"checking the large objects of {table.name}.{column}")[0]
        return int(row[0]), int(row[1])

    def large_objects_over(self, table: Table, column: str, order_by: Sequence[str], pk: Sequence[str],
                           size: int, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows whose large object is larger than ``size`` bytes: record number in
        the extract's order, ``pk`` values, the object's number and its size."""
        rn = self.record_number(table, order_by).label("ux_rn")
        keys: list[sa.Label[Any]] = [sa.column(c).label(f"ux_k{i}") for i, c in enumerate(pk)]
        rows = sa.select(rn, *keys, sa.literal_column(self._lo_column(table, column)).label("ux_o")).select_from(
            self._selectable(table)).subquery("ux_r")
        measured = sa.select(rows, sa.literal_column(size_sql("ux_r.ux_o")).label("ux_size")).where(
            sa.literal_column(exists_sql("ux_r.ux_o"))).subquery("ux_z")
        query = sa.select(measured).where(measured.c.ux_size > size).order_by(measured.c.ux_rn).limit(limit)
        try:
            return [tuple(r) for r in self._scalar_rows(query, f"measuring the large objects of {table.name}.{column}")]
        except SourceError as exc:
            if "permission denied" not in str(exc):
                raise
            raise SourceError(f"{exc}. The role must be able to read every large object the column names: grant it "
                              "SELECT on them (GRANT SELECT ON LARGE OBJECT …) or run as their owner") from None

    def missing_large_objects(self, table: Table, column: str, order_by: Sequence[str],
                              pk: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Rows whose ``column`` names a large object that does not exist: record number, ``pk``
        values and the number, in record order."""
        return self.dangling(table, (column,), order_by, METADATA, ("oid",), pk)

    def orphan_large_objects(self, limit: int) -> tuple[int, int, list[tuple[int, int | None]], list[str]]:
        """Large objects no ``oid`` or ``lo`` column of any table of the database refers to (the rule
        of PostgreSQL's ``vacuumlo``): their count, total size, the first ``limit`` as (number, size;
        None when this role may not read it), and the columns this role cannot read (objects
        they refer to would be listed here too)."""
        where = "c.relkind IN ('r', 'm') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
        columns = self._scalar_rows(sa.text(_COLUMNS.format(where=where)), "listing the oid and lo columns")
        unreadable = [f"{r[0]}.{r[1]}.{r[2]}" for r in columns if not r[4]]
        refs = [f"NOT EXISTS (SELECT 1 FROM {self._quote(r[0])}.{self._quote(r[1])} AS x "
                f"WHERE x.{self._quote(r[2])} = m.oid)" for r in columns if r[4]]
        size = f"CASE WHEN {_READABLE} THEN {size_sql('m.oid')} END"
        query = sa.text(f"SELECT o.oid, o.size, count(*) OVER (), sum(o.size) OVER () FROM (SELECT m.oid, {size} AS size "
                        f"FROM pg_catalog.pg_largeobject_metadata AS m WHERE {' AND '.join(refs) or 'true'} "
                        "OFFSET 0) AS o ORDER BY o.oid LIMIT :limit").bindparams(limit=limit)
        rows = self._scalar_rows(query, "listing large objects no column refers to")
        count, total = (int(rows[0][2]), int(rows[0][3] or 0)) if rows else (0, 0)
        return count, total, [(int(r[0]), None if r[1] is None else int(r[1])) for r in rows], unreadable

    def large_object_bytes(self, table: Table, column: str) -> Any:
        """The bytes of the large object the column names; NULL when it names none that exists. A
        literal column gets no label in ``select_sql``, so ORDER BY the column's name still sorts by
        the number (as every other statement of the run does), not by the bytes."""
        col = self._lo_column(table, column)
        return sa.literal_column(f"(SELECT pg_catalog.lo_get(ux_m.oid) FROM pg_catalog.pg_largeobject_metadata AS ux_m "
                                 f"WHERE ux_m.oid = {col})")

    def _lo_column(self, table: Table, column: str) -> str:
        """The table's own column, qualified so that no output column or catalogue column of the same name hides it."""
        return f"{self._quote(table.name)}.{self._quote(column)}"
