"""PostgreSQL adapter (psycopg 3). Tested on PostgreSQL 15; any version SQLAlchemy 2 supports.

URL: ``postgresql://USER@HOST/DATABASE``. Without a database PostgreSQL opens its default (named
like the user); a database the server does not have stops with the server's databases listed
(``pg_database``, names only) and the nearest named. When the default schema (``public``) has no
tables and one other schema has (a restored ``pg_dump``), that schema is read and the report says
so; with several, uttrekk names them with their table counts (``dialects/locate.py``).

Session: one snapshot for the whole run, so the scan and every table see the same data and foreign
keys hold while the system is in use. A coordinating ``REPEATABLE READ, READ ONLY`` transaction
exports it (``pg_export_snapshot()``) and reads no table; every statement runs in a ``REPEATABLE
READ, READ ONLY`` transaction that imports it (``SET TRANSACTION SNAPSHOT``), and that transaction
is ended and another begun in the same snapshot after a few statements (``max_locks_per_transaction``
/ 8 of them, 8 at the default 64). PostgreSQL keeps a lock on every table (and index) a
transaction has read until it ends, in a lock table shared by the server (``max_locks_per_transaction``
x ``max_connections`` slots): one transaction over 8,000 tables ran out of it ("out of shared
memory"), while these hold a few dozen locks whatever the table count. PostgreSQL refuses any write
in them. What a lock held to the end would also have done: made ``TRUNCATE`` or ``ALTER TABLE``
from another session wait until the run ends. Both are not MVCC-safe (a table truncated after the
snapshot began reads as empty in it); now they wait only while a table is being read, as they
always did for tables not read yet. The coordinator sets ``idle_in_transaction_session_timeout``
to 0 for its own session, since it waits idle for the whole run. The report's ``session`` and
``snapshot`` say how it went.

Types: ``numeric`` without precision keeps every digit (``decimal``); ``money`` is selected as
``numeric`` (its text form depends on the server's locale); ``interval`` is selected as text in
the session's ``iso_8601`` interval style (``1 year 2 mons`` stays ``P1Y2M``, where psycopg would
make 425 days of it); ``json``/``jsonb`` become JSON text, ``uuid``/``inet`` their
standard text, all archived as ``string``; ``bytea`` goes to files like any binary value;
large objects too (below);
``timestamptz`` is written with its offset (the session's time zone, UTC unless the server says
otherwise).

Parallel workers (``--jobs N``): each worker's transactions import the coordinator's snapshot the
same way (and end after as few statements), so every table is read at the same moment.

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

Server rendering (``pg_rendering``, the default for delimited files): the server writes each
value's archival text in ``COPY … (FORMAT csv)``; columns it cannot render identically take the
exact path below.

Fast path: rows are read with ``COPY (SELECT …) TO STDOUT`` in text format, parsed by psycopg's C
loaders chosen from the query's result types: the same Python values as a cursor's fetch (the same
text loaders), without cursor round trips. A test checks both paths give byte-identical files.

Floats: ``real`` (float4) is single precision, written with the shortest digits that read back as
the same float4 (``0.1``, not the ``0.10000000149011612`` of its double); ``double precision`` the
shortest that read back as the same float8. Every session sets ``extra_float_digits = 3``: from
PostgreSQL 12 any value above 0 sends the shortest exact text (Ryu), before 12 the value 3 sends 9
and 17 digits, also exact; a server, database or role set to 0 would send real rounded to 6 digits
and lose the rest. COPY and the cursor read the same text.

Invalid or out-of-range values never stop the run: ``NaN`` and ``±Infinity`` in numeric and float
columns, and ``infinity``, BC dates or years past 9999 in date and timestamp columns, are kept as
written; the column is archived as text and the report names each one.

Arrays (any element type, a domain over an array too): each array column becomes a child table,
one record per element (NULL elements too) with the parent's key, one index per dimension and the
element typed as a column of the element type would be; the parent's field holds the number of
elements (``cardinality``: empty for a NULL array, 0 for an empty one). PostgreSQL declares neither
the number of dimensions nor the bounds (``int[]`` may hold ``'[0:2]={1,2,3}'`` and ``'{{1,2}}'``):
the index fields are as many as the values' dimensions (asked with ``array_ndims``; a column whose
values differ in that is refused by column), and each element's indices are the value's own
(``generate_subscripts``), so lower bounds other than 1 are kept. The elements are unnested on the
server and read as scalars, so they take the same path as columns of their type (``money``,
``interval``, ``bytea`` to files, ``infinity`` dates kept as text). A table without a key orders
its rows by an array's text (``json[]`` has no order; equal-looking numbers can differ). Arrays of
a composite or unknown type are archived element by element as PostgreSQL's text of them. Arrays
in a profile query's result are handled the same way (the type named from ``pg_type``).

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
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from extractor.errors import SourceError
from extractor.model import ArrayType, Column, Kind, Schema, Table
from extractor.values import SINGLE

from .base import NO_TYPE, Capabilities, Dialect, _short, kind_of, native_name, read_catalogue, with_vendor_types
from .checks import in_list
from .locate import no_database
from .pg_calls import Unparsable, refused_calls
from .pg_large_objects import LargeObjects
from .pg_rendering import PgServerRendering

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?")

SNAPSHOT_NOTE = ("one snapshot for the whole run, exported by a REPEATABLE READ, READ ONLY transaction that reads "
                 "no table and imported by {transactions}REPEATABLE READ, READ ONLY transactions that read, each ended "
                 "after {per}statements so that the table locks held stay bounded")
"""``snapshot_note``: how the snapshot was kept (with this process's counts once a statement ran)."""


class PostgreSQL(PgServerRendering, LargeObjects, Dialect):
    name = "postgresql"
    addresses = {"ctid": ("CAST(ctid AS text)", "CAST({c} AS text)")}
    capabilities = Capabilities(shared_snapshot=True, large_objects=True)
    snapshot_note = "one REPEATABLE READ, READ ONLY transaction for the whole run"
    use_copy = True
    """Read through ``COPY … TO STDOUT`` (the fast path); False reads through a server-side cursor."""
    array_refusal = ""
    long_text_types = Dialect.long_text_types - {"TEXT"}
    """``text`` is PostgreSQL's everyday string type (a code or a name as often as prose)."""

    def __init__(self, engine: Any, label: str) -> None:
        super().__init__(engine, label)
        sa.event.listen(engine, "connect", _prepare_session)

    snapshot_note = SNAPSHOT_NOTE.format(transactions="", per="")
    _snapshot_id: str | None = None
    _per_transaction: int | None = None
    _statements = 0
    _transactions = 0

    @contextmanager
    def snapshot(self, join: str | None = None) -> Iterator[None]:
        """The run's snapshot, exported by a coordinating transaction that reads no table and
        imported by the transactions that read (see the module docstring); with ``join`` (a
        worker) the coordinator is another process's."""
        if self._conn is not None:
            yield
            return
        if join is not None:
            with self._reading(join):
                yield
            return
        try:
            coordinator = self.engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot open a read-only session: {_short(exc)}") from None
        try:
            self.begin_snapshot(coordinator)
            # it waits idle for the whole run: a server's idle timeout would end the snapshot under the readers
            coordinator.exec_driver_sql("SET idle_in_transaction_session_timeout = 0")
            snapshot_id = str(coordinator.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
        except sa.exc.SQLAlchemyError as exc:
            coordinator.invalidate()
            coordinator.close()
            raise SourceError(f"{self.label}: cannot open a read-only session: {_short(exc)}") from None
        try:
            with self._reading(snapshot_id):
                yield
        finally:
            try:
                coordinator.rollback()  # ends the snapshot: nothing was written
                coordinator.close()
            except sa.exc.SQLAlchemyError:
                coordinator.invalidate()

    @contextmanager
    def _reading(self, snapshot_id: str) -> Iterator[None]:
        self._snapshot_id, self._statements, self._transactions = snapshot_id, 0, 1
        try:
            with super().snapshot(join=snapshot_id):
                try:
                    yield
                finally:
                    self.close_beside()
        finally:
            self._snapshot_id = None

    def begin_snapshot(self, conn: Any) -> None:
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        conn.begin()

    def export_snapshot(self) -> str:
        """The coordinator's snapshot (it stays importable until the run ends)."""
        if self._snapshot_id is None:
            raise SourceError(f"{self.label}: no snapshot to share outside the run's session (a bug)")
        return self._snapshot_id

    def join_snapshot(self, conn: Any, snapshot_id: str) -> None:
        if not _SNAPSHOT_ID.fullmatch(snapshot_id):
            raise SourceError(f"{self.label}: {snapshot_id!r} is not a PostgreSQL snapshot id")
        _session_statement(conn, f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")

    def between_statements(self, conn: Any) -> None:
        """End the reading transaction after ``max_locks_per_transaction`` / 8 statements and begin
        another in the same snapshot, so that the locks it holds stay few whatever the table count."""
        if self._snapshot_id is None:
            return
        try:
            if self._per_transaction is None:
                self._per_transaction = self.statements_per_transaction(conn)
            if self._statements >= self._per_transaction:
                self.read_on(conn, self._snapshot_id)
                self._statements = 0
                self._transactions += 1
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot continue the read-only session in the run's snapshot: "
                              f"{_short(exc)}") from None
        self._statements += 1
        self.snapshot_note = SNAPSHOT_NOTE.format(
            transactions=f"{self._transactions} ", per=f"{self._per_transaction} ")

    def statements_per_transaction(self, conn: Any) -> int:
        """Statements a reading transaction on ``conn`` may run before it is ended (``read_on``)."""
        return _per_transaction(conn)

    def read_on(self, conn: Any, snapshot_id: str) -> None:
        """End ``conn``'s reading transaction (nothing was written; the locks of the tables read so far
        go) and begin another in the snapshot ``snapshot_id``."""
        conn.rollback()
        self.begin_snapshot(conn)
        self.join_snapshot(conn, snapshot_id)

    def snapshot_details(self) -> dict[str, Any]:
        return {"kept_by": "exported snapshot", "isolation": "REPEATABLE READ, READ ONLY",
                "exported_by": "a coordinating transaction that reads no table (pg_export_snapshot)",
                "imported_by": "SET TRANSACTION SNAPSHOT in every reading transaction",
                "reading_transactions": self._transactions, "statements_per_transaction": self._per_transaction,
                "locks": "each reading transaction holds the locks of at most that many statements' tables "
                         "and ends; none is held for the whole run",
                "statistics_connection": (
                    f"the fast path's statistics are counted on the reading connection, before each file: a second "
                    f"connection could not be opened ({self.beside_refused})" if self.beside_refused else
                    "the fast path's statistics are counted on a second connection that imports the same snapshot "
                    "(in transactions bounded the same way), while the table's file is read on the first")}

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
        column can be NULL (an outer join can make any column NULL), so every one may be. A type
        psycopg does not know (an enum or composite type, an array of one) is named from pg_type."""
        unknown = [d.type_code for d in cursor.description if d.type_display.isdigit()]
        named: dict[int, str] = {}
        if unknown:
            query = sa.text("SELECT oid, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(:oids)")
            named = {int(r[0]): str(r[1]) for r in conn.execute(query, {"oids": unknown})}
        out = []
        for d in cursor.description:
            display = named.get(d.type_code, d.type_display)
            satype = _described_type(display)
            kind, facts = self.column_kind(satype)
            array = _unknown_array(display) if satype is None else None
            out.append(Column(d.name, native_name(satype, self.engine) if satype is not None else display,
                              "array" if array else kind,
                              length=facts.get("length"), precision=facts.get("precision"), scale=facts.get("scale"),
                              float_bits=facts.get("float_bits"), timezone=facts.get("timezone", False),
                              array=array or (self.array_type(facts["item_type"]) if kind == "array" else None)))
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
        return _unknown_arrays(with_vendor_types(reflected, found, lambda c: None))

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
        if isinstance(satype, pg.REAL):  # float4; float(p) with p <= 24 is stored as real too
            return "float", {"float_bits": SINGLE}
        if isinstance(satype, pg.INTERVAL | pg.UUID | pg.JSON | pg.JSONB):
            return "unknown", {}
        return kind_of(satype)

    def order_keys(self, table: Table, name: str) -> list[Any]:
        if table.column(name).array is not None:  # as text: json[] has no order, and bounds are kept
            return [sa.cast(sa.column(name), sa.Text)]
        return super().order_keys(table, name)

    def element_count(self, table: Table, name: str) -> Any:
        return sa.func.cardinality(sa.column(name))

    def array_dimensions(self, table: Table, name: str) -> tuple[int, ...]:
        """PostgreSQL does not hold an array column to its declared dimensions: ask the values."""
        ndims = sa.func.array_ndims(sa.column(name))
        rows = self._scalar_rows(sa.select(ndims).distinct().select_from(self._selectable(table))
                                 .where(ndims.is_not(None)).order_by(ndims), f"reading the dimensions of {table.name}.{name}")
        return tuple(int(r[0]) for r in rows)

    def array_elements(self, parent: Table, key: Sequence[str], order_by: Sequence[str], name: str,
                       child: Table) -> Table:
        """``generate_subscripts`` per dimension gives each element's own indices (lower bounds
        other than 1 are kept); the element is read as a scalar of its type, so it is loaded and
        converted exactly like a column of that type. NULL and empty arrays give no rows."""
        heads = list(key) or [child.columns[0].name]
        dims = len(child.columns) - len(heads) - 1
        inner: list[Any] = [sa.column(k) for k in key] or [self.record_number(parent, order_by).label(heads[0])]
        parents = self.sql_text(sa.select(*inner, sa.column(name).label("ux_a")).select_from(self._selectable(parent)))
        indices = [f"ux_g{d}.ux_i" for d in range(1, dims + 1)]
        names = [self._quote(c.name) for c in child.columns]
        selected = [f"ux_p.{self._quote(h)} AS {n}" for h, n in zip(heads, names, strict=False)]
        selected += [f"{i} AS {n}" for i, n in zip(indices, names[len(heads):-1], strict=True)]
        selected.append(f"ux_p.ux_a{''.join(f'[{i}]' for i in indices)} AS {names[-1]}")
        subscripts = "".join(f" CROSS JOIN LATERAL generate_subscripts(ux_p.ux_a, {d}) AS ux_g{d}(ux_i)"
                             for d in range(1, dims + 1))
        return replace(child, query=f"SELECT {', '.join(selected)} FROM ({parents}) AS ux_p{subscripts}")

    def column_expr(self, table: Table, name: str) -> Any:
        if name in table.large_objects:
            return self.large_object_bytes(table, name)
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
    (an enum or extension type: its values are archived as their text; an array of one, see
    ``_unknown_array``)."""
    m = _DISPLAYED.match(display)
    if m is None:
        return None
    if m.group(4):
        item = _described_type(display[:-2])
        return pg.ARRAY(item) if item is not None else None
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


def _unknown_array(native: str) -> ArrayType | None:
    """An array of a type SQLAlchemy does not know (a composite or extension type, ``par[]``):
    its elements are archived as PostgreSQL's text of them, like a column of that type."""
    if not native.endswith("[]"):
        return None
    return ArrayType(Column("", native[:-2], "unknown"))


def _unknown_arrays(schema: Schema) -> Schema:
    """Columns whose catalogue type is an array of an unknown type, as array columns."""
    tables = []
    for t in schema.tables:
        cols = tuple(replace(c, kind="array", array=array) if c.kind == "unknown" and (array := _unknown_array(c.native_type))
                     else c for c in t.columns)
        tables.append(replace(t, columns=cols))
    return replace(schema, tables=tuple(tables))


def _per_transaction(conn: Any) -> int:
    """Statements a reading transaction may run before it is ended: ``max_locks_per_transaction`` / 8,
    so the locks one session holds stay far below the server's lock table."""
    return max(1, int(_session_statement(conn, "SHOW max_locks_per_transaction")[0]) // 8)


def _session_statement(conn: Any, sql: str) -> tuple[Any, ...]:
    """A statement about the session (no table), on the driver's plain cursor: a streaming read
    leaves ``stream_results`` set on the SQLAlchemy connection, which would declare a cursor for it."""
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(sql)
        return tuple(cur.fetchone() or ()) if cur.description else ()


def _prepare_session(dbapi_conn: Any, _record: Any) -> None:
    """Every connection: intervals as ISO 8601 text; floats in digits that give back the exact value
    whatever the server's or role's ``extra_float_digits`` (0 rounds real to 6 digits); out-of-range
    dates read as text, not an error."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET intervalstyle = 'iso_8601'")
        cur.execute("SET extra_float_digits = 3")
        cur.execute("SET datestyle = 'ISO, YMD'")  # the fast path's dates and timestamps are the server's text
    dbapi_conn.commit()
    for name in ("date", "timestamp", "timestamptz", "time"):  # time: 24:00:00
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
