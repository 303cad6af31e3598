"""PostgreSQL adapter (psycopg 3). Tested on PostgreSQL 15; any version SQLAlchemy 2 supports.

URL: ``postgresql://USER@HOST/DATABASE``. Without a database PostgreSQL opens its default (named
like the user); a database the server does not have stops with the server's databases listed
(``pg_database``, names only) and the nearest named. When the default schema (``public``) has no
tables and one other schema has (a restored ``pg_dump``), that schema is read and the report says
so; with several, uttrekk names them with their table counts (``dialects/locate.py``).

Session: one ``REPEATABLE READ, READ ONLY`` transaction for the whole run, so the scan and every
table see the same snapshot and foreign keys hold while the system is in use; PostgreSQL refuses
any write in it.

Types: ``numeric`` without precision keeps every digit (``decimal``); ``money`` is selected as
``numeric`` (its text form depends on the server's locale); ``interval`` is selected as text in
the session's ``iso_8601`` interval style (``1 year 2 mons`` stays ``P1Y2M``, where psycopg would
make 425 days of it); ``json``/``jsonb`` and arrays become JSON text, ``uuid``/``inet`` their
standard text, all archived as ``string``; ``bytea`` goes to files like any binary value;
``timestamptz`` is written with its offset (the session's time zone, UTC unless the server says
otherwise).

Parallel workers (``--jobs N``): the run's transaction exports its snapshot
(``pg_export_snapshot()``) and each worker's REPEATABLE READ, READ ONLY transaction starts with
``SET TRANSACTION SNAPSHOT``, so every table is read at the same moment.

Fast path: rows are read with ``COPY (SELECT …) TO STDOUT`` in text format, parsed by psycopg's C
loaders chosen from the query's result types: the same Python values as a cursor's fetch (the same
text loaders), without cursor round trips. A test checks both paths give byte-identical files.

Invalid or out-of-range values never stop the run: ``NaN`` and ``±Infinity`` in numeric and float
columns, and ``infinity``, BC dates or years past 9999 in date and timestamp columns, are kept as
written; the column is archived as text and the report names each one.

Code lists: enum types, domains whose CHECK is an IN list, and CHECK … IN constraints on one
column give the field an ADDML code list (the labels; explanations come from the profile).
Domains are archived as their base type.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from extractor.errors import SourceError
from extractor.model import Column, Kind, Schema, Table

from .base import NO_TYPE, Capabilities, Dialect, _short, kind_of, native_name, read_catalogue, with_vendor_types
from .checks import in_list
from .locate import no_database

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?")


class PostgreSQL(Dialect):
    name = "postgresql"
    addresses = {"ctid": ("CAST(ctid AS text)", "CAST({c} AS text)")}
    capabilities = Capabilities(shared_snapshot=True)
    snapshot_note = "one REPEATABLE READ, READ ONLY transaction for the whole run"
    use_copy = True
    """Read through ``COPY … TO STDOUT`` (the fast path); False reads through a server-side cursor."""

    def __init__(self, engine: Any, label: str) -> None:
        super().__init__(engine, label)
        sa.event.listen(engine, "connect", _prepare_session)

    def begin_snapshot(self, conn: Any) -> None:
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        conn.begin()

    def export_snapshot(self) -> str:
        with self._connection() as conn:
            return str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())

    def join_snapshot(self, conn: Any, snapshot_id: str) -> None:
        if not _SNAPSHOT_ID.fullmatch(snapshot_id):
            raise SourceError(f"{self.label}: {snapshot_id!r} is not a PostgreSQL snapshot id")
        conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")

    def iter_rows(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        if not self.use_copy:
            yield from super().iter_rows(table, columns, order_by)
            return
        import psycopg

        sql = self.sql_text(self.select_sql(table, columns, order_by))
        try:
            with self._connection() as conn:
                raw = conn.connection.driver_connection
                with raw.cursor() as cur:
                    cur.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
                    types = [d.type_code for d in cur.description or ()]
                    with cur.copy(f"COPY ({sql}) TO STDOUT") as copy:
                        copy.set_types(types)
                        yield from copy.rows()
        except (psycopg.Error, sa.exc.SQLAlchemyError) as exc:
            raise SourceError(f"{self.label}: reading table {table.name} failed: {_short(exc)}") from None

    def query_columns(self, conn: Any, cursor: Any, sql: str) -> list[Column]:
        """A query's columns from the types psycopg reports (``numeric(10,2)``, ``varchar(40)``,
        ``timestamptz``…), mapped like reflected columns. PostgreSQL does not say whether a result
        column can be NULL (an outer join can make any column NULL), so every one may be."""
        out = []
        for d in cursor.description:
            satype = _described_type(d.type_display)
            kind, facts = self.column_kind(satype)
            out.append(Column(d.name, native_name(satype, self.engine) if satype is not None else d.type_display, kind,
                              length=facts.get("length"), precision=facts.get("precision"), scale=facts.get("scale"),
                              timezone=facts.get("timezone", False)))
        return out

    _domains: dict[str, tuple[str, ...]] = {}

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        """The generic reflection, plus the catalogue's name for types SQLAlchemy does not know
        (``tid``, ``pg_lsn``, extension types…); their values are read as PostgreSQL's text output."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
            reflected = super().reflect(schema, views)
        found: dict[tuple[str, str], tuple[str, Kind]] = {}
        if any(c.native_type == NO_TYPE for t in reflected.tables for c in t.columns):
            query = sa.text(
                "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = COALESCE(:schema, current_schema()) AND a.attnum > 0 AND NOT a.attisdropped")
            try:
                with self.engine.connect() as conn:
                    found = {(r[0], r[1]): (r[2], "unknown") for r in conn.execute(query, {"schema": schema})}
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"{self.label}: cannot read column types from pg_attribute: {_short(exc)}") from None
        return with_vendor_types(reflected, found, lambda c: None)

    def reflect_types(self, inspector: Any, schema: str | None) -> None:
        """Domains whose CHECK is an IN list give their columns a code list."""
        self._domains = {}
        for domain in inspector.get_domains(schema=schema if schema is not None else "*"):
            for check in domain.get("constraints") or ():
                found = in_list(check.get("check") or "")
                if found and found[0].upper() == "VALUE":
                    self._domains[domain["name"]] = found[1]

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, pg.DOMAIN):
            kind, facts = self.column_kind(satype.data_type)
            if satype.name in self._domains:
                facts = {**facts, "codes": self._domains[satype.name], "codes_source": f"domenet {satype.name}"}
            return kind, facts
        if isinstance(satype, pg.MONEY):
            return "decimal", {"scale": None}
        if isinstance(satype, pg.INTERVAL | pg.UUID | pg.JSON | pg.JSONB | pg.ARRAY):
            return "unknown", {}
        return kind_of(satype)

    def column_expr(self, table: Table, name: str) -> Any:
        native = table.column(name).native_type.upper()
        if native == "MONEY":
            return sa.cast(sa.column(name), sa.Numeric)
        if native.startswith("INTERVAL"):  # ISO 8601 text: months stay months (a timedelta would not)
            return sa.cast(sa.column(name), sa.Text)
        return sa.column(name)

    # -- where the tables are (dialects.locate) ---------------------------------------------------

    def check_database(self) -> None:
        """A database the server does not have (a URL without one means the one named like the
        user) lists the server's databases, read through the ``postgres`` database."""
        try:
            with self.engine.connect():
                pass
        except sa.exc.DBAPIError as exc:
            missing = re.search(r'database "(.*)" does not exist', str(exc.orig))
            if missing is None:  # (psycopg gives no SQLSTATE for a refused connection)
                raise SourceError(f"{self.label}: cannot connect: {_short(exc)}") from None
            url = self.engine.url
            why = "" if url.database else (" (the URL names none, so PostgreSQL looked for its default: $PGDATABASE, "
                                           "else the user's name)")
            found = (self.server_databases(url.set(database="postgres"))
                     or self.server_databases(url.set(database="template1")))
            raise no_database(url, found, missing.group(1), why) from None

    def database_name(self) -> str | None:
        with self._connection() as conn:
            return str(conn.exec_driver_sql("SELECT current_database()").scalar_one())

    def server_databases(self, url: URL | None = None) -> dict[str, int | None]:
        """Names only: a table count would need a connection to each database."""
        return {str(r[0]): None for r in read_catalogue(url or self.engine.url, _DATABASES)}

    def schemas_with_tables(self, views: bool = False) -> dict[str, int] | None:
        kinds = ("r", "p", *(("v", "m") if views else ()))
        query = sa.text(_SCHEMAS).bindparams(sa.bindparam("kinds", expanding=True))
        with self._connection() as conn:
            return {str(name): int(n) for name, n in conn.execute(query, {"kinds": kinds})}


_DATABASES = "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname"
_SCHEMAS = (
    "SELECT n.nspname, count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN :kinds AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
    "AND has_schema_privilege(n.oid, 'USAGE') GROUP BY n.nspname ORDER BY n.nspname")
"""Schemas this login may use that hold tables (``relkind`` r, p; with views v, m), not the catalogue's own."""

_INTERNAL_NAMES = {"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
                   "float8": "double precision", "bool": "boolean", "varchar": "character varying",
                   "bpchar": "character", "timestamptz": "timestamp with time zone", "timetz": "time with time zone"}
"""psycopg's short type names -> the catalogue names SQLAlchemy's PostgreSQL types are filed under."""

_DISPLAYED = re.compile(r"^([a-z0-9_ ]+?)(?:\((\d+)(?:,(\d+))?\))?(\[\])?$")


def _described_type(display: str) -> Any:
    """The SQLAlchemy type of a result column psycopg describes as ``display``; None when unknown
    (an enum or extension type: its values are archived as their text)."""
    m = _DISPLAYED.match(display)
    if m is None or m.group(4):
        return None  # arrays and anything odd: text, like a reflected ARRAY column
    name = _INTERNAL_NAMES.get(m.group(1), m.group(1))
    cls = pg.base.ischema_names.get(name)
    if cls is None:
        return None
    args = [int(x) for x in m.group(2, 3) if x is not None]
    if name.startswith(("timestamp", "time")):
        return cls(timezone=name.endswith("with time zone"))
    if name in ("character varying", "character", "numeric"):
        return cls(*args)
    return cls()


def _prepare_session(dbapi_conn: Any, _record: Any) -> None:
    """Every connection: intervals as ISO 8601 text; out-of-range dates read as text, not an error."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET intervalstyle = 'iso_8601'")
    dbapi_conn.commit()
    for name in ("date", "timestamp", "timestamptz"):
        _lenient_loader(dbapi_conn, name)


def _lenient_loader(dbapi_conn: Any, type_name: str) -> None:
    """Python cannot hold ``infinity``, BC dates or years past 9999: such values arrive as their
    text, so the scan archives the column as text and reports it instead of stopping the run."""
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    oid = dbapi_conn.adapters.types[type_name].oid
    inner_cls = dbapi_conn.adapters.get_loader(oid, Format.TEXT)

    class Lenient(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._inner = inner_cls(oid, context)

        def load(self, data: Any) -> Any:
            try:
                return self._inner.load(data)
            except psycopg.DataError:
                return bytes(data).decode("utf-8")

    dbapi_conn.adapters.register_loader(oid, Lenient)
