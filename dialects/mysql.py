"""MySQL and MariaDB adapter (PyMySQL). Tested on MariaDB 10.11.

URL: ``mysql://USER@HOST/DATABASE`` (or ``mariadb://``). A URL without a database, or with one the
server does not have (or the login may not open), stops with the databases the login can see,
their table counts and the nearest named. A database without tables is never swapped for another:
a MySQL schema is a database of its own, often another system, so uttrekk names the databases that
have tables and the URL (or ``--schema``) to give (``dialects/locate.py``).

Session: ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` at ``REPEATABLE READ``: one
InnoDB snapshot for the scan and every table; the server refuses writes in it. InnoDB's read view
cannot be exported to another transaction (hence no ``--jobs``), so the run keeps this one
transaction to the end. The server keeps a shared metadata lock on every table the transaction
has read until it ends: another session's ``ALTER TABLE``, ``TRUNCATE`` or ``DROP`` of such a
table waits for the run (and, waiting, holds up later statements on that table), which also keeps
DDL from changing a table between its read and the checks at the end. These locks live in the
server's memory, a few hundred bytes each, with no fixed table to run out of (unlike PostgreSQL's
``max_locks_per_transaction``): a run over 20,000 tables holds 20,000 of them
(``docs/performance.md``). A row read takes no lock (a consistent read).

Types: ``TINYINT(1)`` is archived as boolean (``J/N``; a column holding other numbers is archived
as text and reported); ``BIT(1)`` as boolean and ``BIT(n)`` as an integer (selected with
``CAST(… AS UNSIGNED)``); ``YEAR`` as integer; ``BIGINT UNSIGNED`` keeps its full range. Zero
dates (``0000-00-00``) are kept as written and the column is archived as text (reported).

Floats: ``FLOAT`` is single precision and is sent by the server rounded to 6 digits (the ``mariadb``
client shows ``0.333333`` for the float32 0.33333334), so it is selected as ``c * 1E0``: a DOUBLE
with its exact value (``CAST … AS DOUBLE`` would need MySQL 8.0.17), written with the shortest digits
that read back as the same float32. ``DOUBLE`` is sent in its shortest exact digits. ``FLOAT(M,D)``
and ``DOUBLE(M,D)`` are selected as ``CAST(c AS CHAR)``: the server's own text with exactly D
decimals, as its client shows them (the server rounds a value to D decimals when it stores it, and
formats the stored binary value with D decimals); such a column is ordered by its number, not that
text. ``FLOAT(p)`` with p over 24 is a DOUBLE in the catalogue.

Code lists: ``ENUM`` columns and CHECK … IN constraints (table- or column-level, read from
``information_schema`` in one query) give the field an ADDML code list. A lax server
(``sql_mode=''``) stores a bad ENUM value as ``''``: it is kept and reported as outside the list.
``SET`` columns hold several members per value and get no code list (the members are in the type).

Profile SQL (``[queries]`` and ``where``) is read token by token before anything runs
(``mysql_calls``), since MySQL cannot tell which functions have side effects: ``LOAD_FILE``,
``SLEEP``, ``BENCHMARK``, lock and replication-wait functions, sequences, ``SELECT … INTO``, ``:=``,
locking reads, a second statement and calls of stored functions are refused by name.

Fast path (``mysql_rendering``): the server renders each record as one text on the run's own
connection, in its snapshot (integers, ``DECIMAL``, ``DOUBLE`` without an exponent, dates and times,
``TINYINT(1)``, texts, ``ENUM``, ``SET``), read as raw protocol packets; the statistics come from one
aggregate query, before the records on the run's one connection (InnoDB's snapshot cannot be
shared), and beside them on a second connection where the data sit in uttrekk's own throwaway
server (a restored dump, ``sole_reader``: no other session can change them). ``FLOAT``, ``BIT``,
binary and spatial values, zero dates and a connection character set other than ``utf8mb4`` leave
the table to the exact path (its report says which and why).

Gaps: zero dates could be declared as ADDML ``nullValues`` instead of archiving the column as text;
the exact path reads rows through PyMySQL's streaming cursor, which parses each row in Python; the
fast path's server work (its rendering expressions and the statistics query, a second pass over the
table) costs the server more than the ``mariadb`` client's export (``docs/performance.md``); a
loadable function (UDF, ``CREATE FUNCTION … SONAME``) is not recognised as one: the server's
administrator decides which are installed.

Arrays: MySQL and MariaDB have no array column type; a JSON array in a ``JSON`` column is archived
as its JSON text, like any JSON value, and ``SET`` values as their text.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from extractor.errors import SourceError
from extractor.model import Column, ForeignKey, Kind, Schema, Table
from extractor.values import SINGLE

from .base import Dialect, _short, kind_of, read_catalogue
from .locate import no_database
from .mysql_calls import FUNCTIONS, called, refused
from .mysql_rendering import MysqlServerRendering

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

UNKNOWN_DATABASE = 1049
NO_ACCESS_TO_DATABASE = 1044
"""The server's error numbers for a database it does not have, and for one the login may not open
(the server tells such a login no more: the database may not exist at all)."""

SYSTEM_DATABASES = ("information_schema", "mysql", "performance_schema", "sys")
TABLE_TYPES = ("BASE TABLE", "SYSTEM VERSIONED")
"""``information_schema.TABLES.TABLE_TYPE`` of what uttrekk extracts as tables (MariaDB's versioned tables too)."""

_DATABASES = (
    "SELECT s.SCHEMA_NAME, COUNT(t.TABLE_NAME) FROM information_schema.SCHEMATA s "
    "LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME AND t.TABLE_TYPE IN :types "
    f"WHERE s.SCHEMA_NAME NOT IN ({', '.join(repr(n) for n in SYSTEM_DATABASES)}) "
    "GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME")
"""The databases this login can see (MySQL shows only those it has a privilege on), each with its
number of tables of the given ``TABLE_TYPE``s."""

BINARY_CHARSET = 63
"""The character set number MySQL gives binary strings and BLOBs."""

NOT_FIXED_DEC = 31
"""The decimals the wire protocol reports for a float without a declared scale."""

_FIELD_TYPES: dict[int, tuple[str, Kind]] = {
    0: ("DECIMAL", "decimal"), 246: ("DECIMAL", "decimal"), 1: ("TINYINT", "integer"), 2: ("SMALLINT", "integer"),
    3: ("INT", "integer"), 8: ("BIGINT", "integer"), 9: ("MEDIUMINT", "integer"), 13: ("YEAR", "integer"),
    4: ("FLOAT", "float"), 5: ("DOUBLE", "float"), 10: ("DATE", "date"), 14: ("DATE", "date"),
    7: ("TIMESTAMP", "timestamp"), 12: ("DATETIME", "timestamp"), 11: ("TIME", "time"),
    15: ("VARCHAR", "string"), 253: ("VARCHAR", "string"), 254: ("CHAR", "char"), 245: ("JSON", "string"),
    249: ("TINYTEXT", "string"), 250: ("MEDIUMTEXT", "string"), 251: ("LONGTEXT", "string"), 252: ("TEXT", "string"),
    16: ("BIT", "integer"), 255: ("GEOMETRY", "binary"), 6: ("NULL", "string"),
}
"""The wire protocol's column types (``FIELD_TYPE``) -> a native type name and kind, for query results."""


class MySQL(MysqlServerRendering, Dialect):
    name = "mysql"
    snapshot_note = "one REPEATABLE READ transaction WITH CONSISTENT SNAPSHOT, READ ONLY"
    schemas_are_databases = True

    def check_database(self) -> None:
        """A URL without a database, or with one the server does not have or the login may not open,
        lists the databases this login can see, with their table counts."""
        url = self.engine.url
        if not url.database:
            raise no_database(url, self.server_databases(), None)
        try:
            with self.engine.connect():
                pass
        except sa.exc.DBAPIError as exc:
            code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
            if code not in (UNKNOWN_DATABASE, NO_ACCESS_TO_DATABASE):
                raise SourceError(f"{self.label}: cannot connect: {_short(exc)}") from None
            why = " that this login may open" if code == NO_ACCESS_TO_DATABASE else ""
            raise no_database(url, self.server_databases(url._replace(database=None)), url.database, why) from None

    def server_databases(self, url: URL | None = None) -> dict[str, int | None]:
        rows = read_catalogue(url or self.engine.url, _DATABASES, types=TABLE_TYPES)
        return {str(name): int(n) for name, n in rows}

    def schemas_with_tables(self, views: bool = False) -> dict[str, int] | None:
        types = (*TABLE_TYPES, *(("VIEW",) if views else ()))
        with self._connection() as conn:
            rows = conn.execute(sa.text(_DATABASES).bindparams(sa.bindparam("types", expanding=True)), {"types": types})
            return {str(name): int(n) for name, n in rows if n}

    def begin_snapshot(self, conn: Any) -> None:
        conn.execution_options(isolation_level="REPEATABLE READ")
        conn.begin()
        conn.exec_driver_sql("COMMIT")  # end SQLAlchemy's implicit transaction start on the DBAPI side
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def snapshot_details(self) -> dict[str, Any]:
        details = {"kept_by": "one transaction", "isolation": "REPEATABLE READ WITH CONSISTENT SNAPSHOT, READ ONLY",
                   "locks": "a shared metadata lock on each table read, held until the run ends (no row locks)"}
        if self.sole_reader:
            details["statistics_connection"] = (
                "the fast path's statistics are counted on a second read-only connection while each file is read: "
                "the data sit in uttrekk's own throwaway server, which no other session reads or writes")
        return details

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        """The generic reflection; where a name holds a backtick, names and foreign keys are taken
        from ``information_schema``. SQLAlchemy reads them from ``SHOW CREATE TABLE``, keeps a
        backtick in a column name doubled and drops a foreign key whose table or columns hold one."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Unknown schema content", sa.exc.SAWarning)
            reflected = super().reflect(schema, views)
        if not any("`" in t.name or any("`" in c for c in t.column_names) for t in reflected.tables):
            return reflected
        columns: dict[str, list[str]] = {}
        fks: dict[str, dict[str, ForeignKey]] = {}
        try:
            with self._connection() as conn:
                for table, column in conn.execute(sa.text(_COLUMN_NAMES), {"schema": schema}):
                    columns.setdefault(table, []).append(column)
                for table, name, column, ref_table, ref_column in conn.execute(sa.text(_FOREIGN_KEYS), {"schema": schema}):
                    fk = fks.setdefault(table, {}).setdefault(name, ForeignKey((), ref_table, (), name))
                    fks[table][name] = replace(fk, columns=(*fk.columns, column), ref_columns=(*fk.ref_columns, ref_column))
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot read the database catalogue: {_short(exc)}") from None
        return replace(reflected, tables=tuple(_named(t, columns.get(t.name, []), fks.get(t.name, {}))
                                               for t in reflected.tables))

    def check_constraints(self, inspector: Any, schema: str | None) -> dict[Any, list[dict[str, Any]]]:
        """Table- and column-level CHECKs from the catalogue in one query (SQLAlchemy's parser of
        ``SHOW CREATE TABLE`` misses MariaDB's column-level ones)."""
        sql = sa.text(
            "SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS cc "
            "JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA "
            "AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK' "
            "WHERE cc.CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE()) ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME")
        out: dict[Any, list[dict[str, Any]]] = {}
        try:
            with self._connection() as conn:
                for table, name, clause in conn.execute(sql, {"schema": schema}):
                    out.setdefault((schema, table), []).append({"name": name, "sqltext": clause})
        except sa.exc.DBAPIError:  # servers before MariaDB 10.2 / MySQL 8.0.16 have no such view
            return super().check_constraints(inspector, schema)
        return out

    def query_columns(self, conn: Any, cursor: Any, sql: str) -> list[Column]:
        """A query's columns from the wire protocol's field descriptions: type, character set
        (binary strings are binary), length in characters, scale and NOT NULL, as the server
        reports them for the result (outer joins included)."""
        fields = getattr(getattr(cursor, "_result", None), "fields", None) or []
        charsets = {int(i): int(n) for i, n in conn.exec_driver_sql(
            "SELECT c.ID, s.MAXLEN FROM information_schema.COLLATIONS c JOIN information_schema.CHARACTER_SETS s "
            "ON s.CHARACTER_SET_NAME = c.CHARACTER_SET_NAME")}
        out = []
        for i, d in enumerate(cursor.description):
            name, code, length, scale, null_ok = d[0], d[1], d[3], d[5], d[6]
            charset = fields[i].charsetnr if i < len(fields) else None
            native, kind = _FIELD_TYPES.get(code, ("(unknown)", "unknown"))
            facts: dict[str, Any] = {}
            if kind in ("string", "char"):
                if charset == BINARY_CHARSET:
                    native, kind = native.replace("TEXT", "BLOB").replace("CHAR", "BINARY"), "binary"
                else:
                    length = (length or 0) // charsets.get(charset or 0, 1) or None
                    facts["length"] = length
                    native = f"{native}({length})" if native in ("VARCHAR", "CHAR") else native
            elif native == "TINYINT" and length == 1 or native == "BIT" and length == 1:
                kind = "boolean"
                native = f"{native}(1)"
            elif native == "BIT":
                native = f"BIT({length})"
            elif kind == "float":
                facts = {"float_bits": SINGLE if native == "FLOAT" else 53}
                if scale is not None and scale < NOT_FIXED_DEC:
                    facts |= {"precision": length, "scale": scale}
                    native = f"{native}({length},{scale})"
            elif native == "DECIMAL":
                precision = (length or 0) - (1 if scale else 0) - 1
                facts = {"precision": precision, "scale": scale}
                native = f"DECIMAL({precision},{scale})"
                if scale == 0:
                    kind = "integer"
            out.append(Column(name, native, kind, nullable=bool(null_ok), **facts))
        return out

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, mysql.TINYINT) and getattr(satype, "display_width", None) == 1:
            return "boolean", {}
        if isinstance(satype, mysql.BIT):
            return ("boolean" if (satype.length or 1) == 1 else "integer"), {}
        if isinstance(satype, mysql.YEAR):
            return "integer", {}
        if isinstance(satype, mysql.FLOAT | mysql.DOUBLE | mysql.REAL):
            facts: dict[str, int | None] = {"float_bits": SINGLE if isinstance(satype, mysql.FLOAT) else 53}
            if satype.scale is not None:
                facts |= {"precision": satype.precision, "scale": satype.scale}
            return "float", facts
        return kind_of(satype)

    def column_expr(self, table: Table, name: str) -> Any:
        col = table.column(name)
        if col.native_type.upper().startswith("BIT"):
            return sa.cast(sa.column(name), mysql.INTEGER(unsigned=True))
        if col.kind == "float" and col.scale is not None:  # the server's text: exactly its decimals
            return self.converted("CAST({c} AS CHAR)", name)
        if col.float_bits == SINGLE:  # the exact float32 as a DOUBLE (the column alone is sent in 6 digits)
            return self.converted("{c} * 1E0", name)
        return sa.column(name)

    def refused_calls(self, table: Table) -> list[str]:
        """What the profile's query or filter would do besides reading, from its tokens
        (``mysql_calls``), plus calls of the database's stored functions, whose effects MySQL
        cannot tell."""
        statement = self.probe_sql(table)
        found = refused(statement)
        names = sorted(called(statement) - set(FUNCTIONS))
        if names:
            query = sa.text("SELECT DISTINCT LOWER(ROUTINE_NAME) FROM information_schema.ROUTINES WHERE "
                            "ROUTINE_TYPE = 'FUNCTION' AND LOWER(ROUTINE_NAME) IN :names "
                            "ORDER BY 1").bindparams(sa.bindparam("names", expanding=True))
            try:
                with self.snapshot(), self._connection() as conn:
                    stored = conn.execute(query, {"names": names}).all()
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"cannot check what the SQL calls: {_short(exc)}") from None
            found += [f"calls {name}(), a stored function, which MySQL cannot tell is free of side effects"
                      for (name,) in stored]
        return found

    def order_keys(self, table: Table, name: str) -> list[Any]:
        """A ``FLOAT(M,D)`` is ordered by its number: the bare name would mean the text it is selected as."""
        col = table.column(name)
        if col.kind == "float" and col.scale is not None:
            return [sa.literal_column(f"{self._quote(table.name)}.{self._quote(name)}")]
        return [sa.column(name)]

_COLUMN_NAMES = ("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
                 "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) ORDER BY TABLE_NAME, ORDINAL_POSITION")
_FOREIGN_KEYS = ("SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
                 "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) "
                 "AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION")


def _named(table: Table, names: list[str], fks: dict[str, ForeignKey]) -> Table:
    """``table`` with the catalogue's column names (matched by position) and foreign keys."""
    if len(names) != len(table.columns):
        return table
    real = dict(zip(table.column_names, names, strict=True))
    return replace(table, columns=tuple(replace(c, name=real[c.name]) for c in table.columns),
                   primary_key=tuple(real[c] for c in table.primary_key),
                   unique_keys=tuple(tuple(real[c] for c in u) for u in table.unique_keys),
                   foreign_keys=tuple(fks.values()))
