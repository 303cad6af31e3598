"""SQL Server adapter (pyodbc). Written for SQL Server 2016 and later (the compose file runs 2022).

URL: ``mssql+pyodbc://USER@HOST:1433/DATABASE?driver=ODBC+Driver+18+for+SQL+Server&TrustServerCertificate=yes``.
FreeTDS works too (``driver=FreeTDS&TDS_Version=7.4``). pyodbc needs unixODBC at run time (Debian:
``apt-get install unixodbc``) and an ODBC driver; without them the run stops with that advice.
A host URL without a database (which SQLAlchemy would read as an ODBC data source name) stops with
the databases the login can open (read through ``master``). When the default schema (``dbo``) has
no tables and one other schema has, that one is read and the report says so (``dialects/locate.py``).
These two, and a database the server does not have (its own error, no list), have not yet run
against a server.

Session: when the database has ``ALLOW_SNAPSHOT_ISOLATION ON`` (``sys.databases.snapshot_isolation_state``),
the whole run is one ``SNAPSHOT`` transaction: the scan and every table see the data as of the run's
first read, while the system is in use. Otherwise the run falls back to ``READ COMMITTED`` and the
report (``snapshot_note``) says so in a warning: each statement sees committed data, but tables read a
minute apart may disagree. Ask the DBA for ``ALTER DATABASE … SET ALLOW_SNAPSHOT_ISOLATION ON``, or
extract while the system is stopped. SQL Server has no per-session read-only switch: uttrekk never
writes, but the server refuses writes only when the login lacks write permission (use a login with
only ``db_datareader``), the database is ``READ_ONLY``, or the URL says ``ApplicationIntent=ReadOnly``
and reaches a readable secondary of an availability group (on a lone server that keyword changes
nothing). The report says whether the database is ``READ_ONLY``, and otherwise that only permissions
stop writes. ``--jobs`` above 1 is refused: SQL Server cannot share one snapshot between connections.

Types: what pyodbc would return is not always what the database holds, so ``column_expr`` converts
these on the server, and they arrive as exact text or exact numbers:

- ``datetimeoffset`` -> timestamp with offset: ``CONVERT(NVARCHAR(34), c, 126)`` keeps all 7 fraction
  digits and the offset. Style 127 would convert to UTC (``Z``) and lose the offset; pyodbc's own value
  (SQLAlchemy's output converter) stops at microseconds.
- ``datetime2`` -> timestamp, ``time`` -> time: ISO text (``CONVERT(…, 126)``, ``CAST``), because
  pyodbc cuts the 7th fraction digit. ``datetime``, ``smalldatetime`` and ``date`` are read as they are.
- ``money``, ``smallmoney`` -> decimal with scale 4: ``CAST(c AS DECIMAL(19, 4))`` / ``(10, 4)``.
- ``uniqueidentifier`` -> string(36): ``CONVERT(CHAR(36), c)``, SQL Server's upper-case spelling.
- ``rowversion``/``timestamp`` -> string(18): ``CONVERT(CHAR(18), c, 1)``, ``0x`` and 16 hex digits. It
  is a row version counter, not a document, so it is not sent to a file like binary values.
- ``varchar``, ``char``, ``text`` -> string, char: ``CAST`` to ``NVARCHAR``/``NCHAR``. The server converts
  from the column's code page; without it the ODBC driver converts to the client's locale, and a
  C/POSIX locale turns letters outside ASCII into ``?``.
- ``ntext``, ``xml`` -> string: ``CAST(c AS NVARCHAR(max))``.
- ``sql_variant`` -> string: the text of the value by its base type (``SQL_VARIANT_PROPERTY``): dates in
  ISO form, ``float`` with 17 digits (style 3, SQL Server 2016+), ``money`` with 4 decimals, binary as
  ``0x`` hex. The base type itself is not kept. pyodbc cannot read ``sql_variant`` at all.
- ``hierarchyid`` -> string: ``c.ToString()`` (``/1/3/``). ``geography``, ``geometry`` -> string:
  ``'SRID=' + c.STSrid + ';' + c.ToString()``, extended WKT with Z and M. Other CLR types:
  ``c.ToString()``.
- ``image``, ``binary``, ``varbinary`` -> binary (files); ``bit`` -> boolean; ``tinyint`` and the other
  integers -> integer; ``float``, ``real`` -> float: as they are (pyodbc reads both as a C double, so
  a ``real`` arrives with its exact value). ``real`` (``float(n)`` with n up to 24, which SQL Server
  stores as ``real``) is single precision and written with the shortest digits that read back as the
  same float32 (``0.1``), ``float`` the shortest for a double.

SQLAlchemy does not know the CLR types (it reflects them without a type); ``reflect`` looks their
names up in ``sys.types`` in one query, and lists in ``Schema.notes`` the ``sql_variant`` columns and
any type still unknown. ``text``, ``ntext``, ``image``, ``xml`` and the spatial types cannot be
sorted: where the plan orders by them, the order uses the converted text (SQL Server resolves
``ORDER BY name`` to the select-list alias first) or ``CAST(image AS VARBINARY(max))``.

Gaps (issue 3): the ``bcp`` fast path; reading two tables at once on the one connection would need
``MARS_Connection=yes`` in the URL (uttrekk reads one table at a time); the base type of
``sql_variant`` values; alias types are archived as their base type.

Arrays: SQL Server has no array column type (a table-valued type cannot be a column), so there is
nothing to unnest; array-like data kept as delimited text or XML is archived as that text.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from extractor.errors import SourceError
from extractor.model import Column, Kind, Schema, Table

from .base import NO_TYPE, Dialect, _short, kind_of, read_catalogue, with_vendor_types
from .locate import no_database

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

"""``native_type`` of a column SQLAlchemy reflected without a type (``base.native_name``)."""

_VARIANT = (
    "CASE CAST(SQL_VARIANT_PROPERTY({c}, 'BaseType') AS NVARCHAR(128))"
    " WHEN 'datetimeoffset' THEN CONVERT(NVARCHAR(34), CAST({c} AS DATETIMEOFFSET(7)), 126)"
    " WHEN 'datetime2' THEN CONVERT(NVARCHAR(27), CAST({c} AS DATETIME2(7)), 126)"
    " WHEN 'datetime' THEN CONVERT(NVARCHAR(23), CAST({c} AS DATETIME), 126)"
    " WHEN 'smalldatetime' THEN CONVERT(NVARCHAR(19), CAST({c} AS SMALLDATETIME), 126)"
    " WHEN 'date' THEN CONVERT(NVARCHAR(10), CAST({c} AS DATE), 23)"
    " WHEN 'time' THEN CAST(CAST({c} AS TIME(7)) AS NVARCHAR(16))"
    " WHEN 'float' THEN CONVERT(NVARCHAR(30), CAST({c} AS FLOAT), 3)"
    " WHEN 'real' THEN CONVERT(NVARCHAR(30), CAST({c} AS REAL), 3)"
    " WHEN 'money' THEN CONVERT(NVARCHAR(30), CAST({c} AS MONEY), 2)"
    " WHEN 'smallmoney' THEN CONVERT(NVARCHAR(30), CAST({c} AS SMALLMONEY), 2)"
    " WHEN 'binary' THEN CONVERT(NVARCHAR(max), CAST({c} AS VARBINARY(8000)), 1)"
    " WHEN 'varbinary' THEN CONVERT(NVARCHAR(max), CAST({c} AS VARBINARY(8000)), 1)"
    " ELSE CAST({c} AS NVARCHAR(max)) END"
)

_SPATIAL = "'SRID=' + CAST({c}.STSrid AS VARCHAR(11)) + ';' + {c}.ToString()"

CONVERSIONS: dict[str, str] = {
    "DATETIMEOFFSET": "CONVERT(NVARCHAR(34), {c}, 126)",
    "DATETIME2": "CONVERT(NVARCHAR(27), {c}, 126)",
    "TIME": "CAST({c} AS NVARCHAR(16))",
    "MONEY": "CAST({c} AS DECIMAL(19, 4))",
    "SMALLMONEY": "CAST({c} AS DECIMAL(10, 4))",
    "UNIQUEIDENTIFIER": "CONVERT(CHAR(36), {c})",
    "TIMESTAMP": "CONVERT(CHAR(18), {c}, 1)",
    "ROWVERSION": "CONVERT(CHAR(18), {c}, 1)",
    "TEXT": "CAST({c} AS NVARCHAR(max))",
    "NTEXT": "CAST({c} AS NVARCHAR(max))",
    "XML": "CAST({c} AS NVARCHAR(max))",
    "SQL_VARIANT": _VARIANT,
    "HIERARCHYID": "{c}.ToString()",
    "GEOGRAPHY": _SPATIAL,
    "GEOMETRY": _SPATIAL,
}
"""Base type name -> SQL that selects the column ``{c}`` as exact text (or an exact number)."""

CLR = " (CLR)"
"""Suffix of the ``native_type`` of a user-defined CLR type; selected with ``ToString()``."""

_VENDOR_TYPES = """
SELECT o.name AS table_name, c.name AS column_name, t.name AS type_name, t.is_assembly_type
FROM sys.columns AS c
JOIN sys.objects AS o ON o.object_id = c.object_id
JOIN sys.types AS t ON t.user_type_id = c.user_type_id
WHERE o.schema_id = SCHEMA_ID(:schema) AND o.type IN ('U', 'V')
"""

_SESSION_FACTS = (
    "SELECT snapshot_isolation_state, is_read_committed_snapshot_on, "
    "CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS NVARCHAR(20)) "
    "FROM sys.databases WHERE name = DB_NAME()"
)

_DATABASES = "SELECT name FROM sys.databases WHERE database_id > 4 AND HAS_DBACCESS(name) = 1 ORDER BY name"
"""The databases this login can open, without master, tempdb, model and msdb."""

_SCHEMAS = ("SELECT s.name, COUNT(*) FROM sys.objects AS o JOIN sys.schemas AS s ON s.schema_id = o.schema_id "
            "WHERE o.type IN :types AND o.is_ms_shipped = 0 GROUP BY s.name ORDER BY s.name")

NO_READ_ONLY = ("SQL Server has no read-only session: uttrekk only reads, and the server refuses writes only "
                "if the login has no write permission or the URL says ApplicationIntent=ReadOnly to a read-only replica")


class MSSQL(Dialect):
    name = "mssql"
    addresses = {"physloc": ("%%physloc%%", "{c}")}
    snapshot_note = ("SNAPSHOT transaction if the database allows snapshot isolation, else READ COMMITTED "
                     "(decided when the session opens)")

    @classmethod
    def from_url(cls, url: URL) -> Dialect:
        try:
            return super().from_url(url)
        except ImportError as exc:
            if "libodbc" not in str(exc):
                raise
            raise SourceError(
                f"pyodbc is installed but cannot load unixODBC ({exc}); install it (Debian: apt-get install "
                "unixodbc) and an ODBC driver for SQL Server (Microsoft's ODBC Driver 18, or tdsodbc for FreeTDS)"
            ) from None

    # -- where the tables are (dialects.locate; not yet run against a server) ---------------------

    @classmethod
    def check_url(cls, url: URL) -> None:
        """A host URL without a database (SQLAlchemy would take the host for an ODBC data source
        name) lists the server's databases, read through ``master``."""
        keys = {k.lower() for k in url.query}
        if not url.database and "driver" in keys and not {"odbc_connect", "dsn"} & keys:
            found = {str(r[0]): None for r in read_catalogue(url.set(database="master"), _DATABASES)}
            raise no_database(url, found, None)

    def schemas_with_tables(self, views: bool = False) -> dict[str, int] | None:
        types = ("U", *(("V",) if views else ()))
        query = sa.text(_SCHEMAS).bindparams(sa.bindparam("types", expanding=True))
        with self._connection() as conn:
            return {str(name): int(n) for name, n in conn.execute(query, {"types": types})}

    # -- session --------------------------------------------------------------------------------

    def begin_snapshot(self, conn: Any) -> None:
        state, rcsi, updateability = conn.exec_driver_sql(_SESSION_FACTS).one()
        conn.rollback()  # the isolation level can only change outside a transaction
        if state == 1:
            conn.execution_options(isolation_level="SNAPSHOT")
            note = "one SNAPSHOT transaction for the whole run (ALLOW_SNAPSHOT_ISOLATION is ON)"
        else:
            conn.execution_options(isolation_level="READ COMMITTED")
            note = ("WARNING: no snapshot: ALLOW_SNAPSHOT_ISOLATION is OFF, so the run reads at READ COMMITTED"
                    + (" (with row versioning)" if rcsi else "")
                    + "; each statement sees committed data, but tables read at different times may disagree "
                    "while the system is in use (ask the DBA to run ALTER DATABASE ... SET "
                    "ALLOW_SNAPSHOT_ISOLATION ON, or extract while the system is stopped)")
        if updateability == "READ_ONLY":
            note += "; the database is READ_ONLY, so the server refuses writes"
        else:
            note += "; " + NO_READ_ONLY
        self.snapshot_note = note
        conn.begin()

    # -- reflection -----------------------------------------------------------------------------

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        """The generic reflection, plus the names of the CLR types SQLAlchemy does not know."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
            reflected = super().reflect(schema, views)
        found: dict[tuple[str, str], tuple[str, Kind]] = {}
        if any(c.native_type == NO_TYPE for t in reflected.tables for c in t.columns):
            owner = schema or self.engine.dialect.default_schema_name
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(sa.text(_VENDOR_TYPES), {"schema": owner}).all()
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"{self.label}: cannot read the column types from sys.types: {_short(exc)}") from None
            found = {(r.table_name, r.column_name): vendor_type(r.type_name, bool(r.is_assembly_type)) for r in rows}
        return with_vendor_types(reflected, found, _note)

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, mssql.DATETIMEOFFSET):
            return "timestamp", {"timezone": True}
        if isinstance(satype, mssql.MONEY):
            return "decimal", {"precision": 19, "scale": 4}
        if isinstance(satype, mssql.SMALLMONEY):
            return "decimal", {"precision": 10, "scale": 4}
        if isinstance(satype, mssql.UNIQUEIDENTIFIER):
            return "string", {"length": 36}
        if isinstance(satype, mssql.TIMESTAMP):  # rowversion
            return "string", {"length": 18}
        if isinstance(satype, mssql.SQL_VARIANT):
            return "string", {}
        return kind_of(satype)

    # -- data -----------------------------------------------------------------------------------

    def column_expr(self, table: Table, name: str) -> Any:
        col = table.column(name)
        base = base_type(col.native_type)
        template = CONVERSIONS.get(base)
        if template is None and col.native_type.endswith(CLR):
            template = "{c}.ToString()"
        if template is None and base in ("VARCHAR", "CHAR"):
            n = col.length
            unicode = "NCHAR" if base == "CHAR" and n is not None and n <= 4000 else "NVARCHAR"
            template = f"CAST({{c}} AS {unicode}({n if n is not None and n <= 4000 else 'max'}))"
        if template is None:
            return self.column_ref(table, name)
        return self.converted(template, col.name)

    def order_keys(self, table: Table, name: str) -> list[Any]:
        """ORDER BY terms for one column; ``image`` cannot be sorted, its bytes as varbinary(max) can.

        A converted column is ordered by its select-list alias (the exact text), which SQL Server
        resolves before the table's column of the same name. A type still unknown is left out.
        """
        native = table.column(name).native_type
        if base_type(native) == "IMAGE":
            return [self.converted("CAST({c} AS VARBINARY(max))", name)]
        if native == NO_TYPE:
            return []
        return [self.column_ref(table, name)]


def base_type(native_type: str) -> str:
    """``VARCHAR(20) COLLATE X`` -> ``VARCHAR``."""
    return re.sub(r"\([^)]*\)", "", native_type).split(" COLLATE ")[0].strip().upper()


def vendor_type(type_name: str, is_assembly: bool) -> tuple[str, Kind]:
    """``native_type`` and kind for a type SQLAlchemy reflected without a type."""
    if type_name.upper() in CONVERSIONS:
        return type_name.upper(), "string"
    if is_assembly:
        return type_name + CLR, "string"
    return type_name, "unknown"


def _note(c: Column) -> str | None:
    if base_type(c.native_type) == "SQL_VARIANT":
        return "sql_variant: each value is written as its text; its base type is not kept"
    if c.kind == "unknown":
        return (f"type {c.native_type} is not known to uttrekk; its values are read as the driver returns them "
                "and archived as text (binary as hex, reported)")
    return None

