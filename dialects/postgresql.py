"""PostgreSQL adapter (psycopg 3). Tested on PostgreSQL 15; any version SQLAlchemy 2 supports.

Session: one ``REPEATABLE READ, READ ONLY`` transaction for the whole run, so the scan and every
table see the same snapshot and foreign keys hold while the system is in use; PostgreSQL refuses
any write in it.

Types: ``numeric`` without precision keeps every digit (``decimal``); ``money`` is selected as
``numeric`` (its text form depends on the server's locale); ``interval`` is selected as text in
the session's ``iso_8601`` interval style (``1 year 2 mons`` stays ``P1Y2M``, where psycopg would
make 425 days of it); ``json``/``jsonb`` and arrays become JSON text, ``uuid``/``inet`` their
standard text, all archived as ``string``; ``bytea`` goes to files like any binary value;
large objects too (below);
``timestamptz`` is written with its offset (the session's time zone, UTC unless the server says
otherwise).

Parallel workers (``--jobs N``): the run's transaction exports its snapshot
(``pg_export_snapshot()``) and each worker's REPEATABLE READ, READ ONLY transaction starts with
``SET TRANSACTION SNAPSHOT``, so every table is read at the same moment.

Large objects (``pg_large_objects``, decided by ``extractor.large_objects``): a column of the
``lo`` extension's type, one the profile declares ``large_object = true``, or an ``oid`` column
whose every non-NULL value names an existing large object is selected as the object's bytes
(``lo_get`` in the SELECT, so COPY and the cursor read them alike, inside the run's snapshot); a
number naming no object gives NULL and is reported. Memory: an object is read whole, so the cursor
path holds at most ``lob_fetch_size`` (50) rows of them and COPY one row; an object over 500 MiB
stops the run before anything is written (``lo_get`` returns one ``bytea``, whose hex text must
stay below 1 GB). Objects no ``oid``/``lo`` column of the database refers to are listed with their
sizes (measured with ``lo_open``/``lo_lseek64``, not read), not archived. Reading an object needs
SELECT on it (``GRANT SELECT ON LARGE OBJECT``); a refusal stops the run naming the column.

Fast path: rows are read with ``COPY (SELECT …) TO STDOUT`` in text format, parsed by psycopg's C
loaders chosen from the query's result types: the same Python values as a cursor's fetch (the same
text loaders), without cursor round trips. A test checks both paths give byte-identical files.

Invalid or out-of-range values never stop the run: ``NaN`` and ``±Infinity`` in numeric and float
columns, and ``infinity``, BC dates or years past 9999 in date and timestamp columns, are kept as
written; the column is archived as text and the report names each one.

Code lists: enum types, domains whose CHECK is an IN list, and CHECK … IN constraints on one
column give the field an ADDML code list (the labels; explanations come from the profile).
Domains are archived as their base type.

Profile SQL (``[queries]`` and ``where``) is refused before anything runs when it would do more
than read (``pg_calls``): the server parses and analyses the statement as the run will send it,
never plans or runs it, and every function it calls (directly, behind an operator, an aggregate,
an argument default or a view) is matched against ``pg_proc``: VOLATILE functions but a short
allow-list, functions in untrusted languages, ``txid_current()``, foreign tables and row locks are
refused by name. The parse sends its tree as a LOG notice (``debug_print_rewritten``), so the
server's log gets one LOG line per profile statement. Gaps: a function the database declares STABLE
or IMMUTABLE is taken at its word, as the planner takes it; large objects are not streamed in
chunks (hence the 500 MiB limit), and a large-object column inside a repeating group or a profile
query keeps its numbers (a query can select ``lo_get(oid)`` itself).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from extractor.errors import SourceError
from extractor.model import Column, Kind, Schema, Table

from .base import NO_TYPE, Capabilities, Dialect, _short, kind_of, native_name, with_vendor_types
from .checks import in_list
from .pg_calls import Unparsable, refused_calls
from .pg_large_objects import LargeObjects

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?")


class PostgreSQL(LargeObjects, Dialect):
    name = "postgresql"
    addresses = {"ctid": ("CAST(ctid AS text)", "CAST({c} AS text)")}
    capabilities = Capabilities(shared_snapshot=True, large_objects=True)
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

    def refused_calls(self, table: Table) -> list[str]:
        """Functions the profile's query or filter calls that do more than read, as the server
        resolves them (``pg_calls``); the statement is parsed, never planned or run."""
        import psycopg

        statement = self.probe_sql(table)
        try:
            with self.snapshot(), self._connection() as conn:
                return refused_calls(conn.connection.driver_connection, statement)
        except Unparsable as exc:
            raise SourceError(str(exc)) from None
        except (psycopg.Error, sa.exc.SQLAlchemyError) as exc:
            raise SourceError(f"cannot check what the SQL calls: {_short(exc)}") from None

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
        if name in table.large_objects:
            return self.large_object_bytes(table, name)
        native = table.column(name).native_type.upper()
        if native == "MONEY":
            return sa.cast(sa.column(name), sa.Numeric)
        if native.startswith("INTERVAL"):  # ISO 8601 text: months stay months (a timedelta would not)
            return sa.cast(sa.column(name), sa.Text)
        return sa.column(name)


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
