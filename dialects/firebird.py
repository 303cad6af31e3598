"""Firebird adapter (firebird-driver + sqlalchemy-firebird). Tested on Firebird 3.0.

URL: ``firebird://USER@HOST:3050//path/on/the/server/file.fdb`` (two slashes before an absolute
path) or ``…/ALIAS`` from the server's ``databases.conf``. A Firebird server cannot list its
databases, so a URL without one, or with a file the server cannot open, stops with the form to
give (and says when a path is relative, the usual slip).

Session: one SNAPSHOT (concurrency) transaction with read-only access for the whole run: the scan
and every table see the same data, and the server refuses writes in it.

Types: NUMERIC/DECIMAL keep every digit; ``BLOB SUB_TYPE TEXT`` is text (long values go to files
like any text); ``BLOB SUB_TYPE BINARY`` goes to files; BOOLEAN (Firebird 3) is ``J/N``.
Names are reflected in lower case (SQLAlchemy's convention for case-insensitive engines).

Arrays (``INTEGER[5]``, ``VARCHAR(10)[0:3]``, ``NUMERIC(9,2)[2,3]``): sqlalchemy-firebird reflects
them as their element type, so ``reflect`` finds them in the catalogue (``RDB$FIELDS.RDB$DIMENSIONS``,
bounds from ``RDB$FIELD_DIMENSIONS``). Each becomes a child table, one record per element with the
parent's key and one index per dimension within the declared bounds; the parent's field holds the
number of elements (empty for a NULL array; a Firebird array that is not NULL always has every
element, and an element cannot be NULL). The elements are read on the server as ``c[i, j]``, one
scalar each, so they are loaded, transliterated and rendered like columns of their type:
firebird-driver's own array reading (``isc_array_get_slice``) fails on text elements in a character
set other than the connection's, and cuts text at a NUL. Subscripts work only on a table's own
column: on a derived table's column Firebird ignores them and returns the whole array, and it
cannot sort rows that carry an array. So a filtered table with arrays is read from the table itself
with the filter in the WHERE clause (not from a filtered subquery), and the record numbers of a
table without a key are numbered by ``RDB$DB_KEY`` and joined back to the table.

Floats: ``FLOAT`` (and ``REAL``) is single precision; the driver gives its exact value, written with
the shortest digits that read back as the same float32 (``0.1``; ``isql-fb`` shows 8 digits,
``0.10000000``, which is not always enough to tell two float32 values apart). ``DOUBLE PRECISION`` (and
``FLOAT(p)`` with p over 24 on Firebird 4) the shortest that read back as the same double. Firebird
refuses subnormal values and ``NaN``/``Infinity`` on input.

Fast path (``firebird_rendering``): the server builds each record from the column types the
catalogue gives (``RDB$FIELDS``): integers, NUMERIC/DECIMAL (Firebird's text of the scaled integer,
decimal comma), DATE, TIMESTAMP and TIME (the four fraction digits without trailing zeros), BOOLEAN,
VARCHAR and CHAR (without trailing blanks) in UTF8 or ISO8859_1; one text column per row, fetched in
batches, joined with CR LF and encoded in the table's charset here. Statistics from one aggregate
query first, on the run's connection in its snapshot. Floats, BLOBs, arrays, computed columns, other
character sets, code lists and profile queries take the exact path, each with its reason; so does a
table whose connection is not UTF8, whose record passes Firebird's longest string, or which holds a
character the charset cannot hold (the charset policy then applies).

Large blobs (a 200 KiB binary and a 100 000-character text are in the server tests) arrive whole
through SQLAlchemy's fetch and are written to files. Gaps (issue 3): reading very large blobs in
chunks instead of whole; domains and CHECK … IN as code lists. A table without a key is ordered by
all its columns, an array by each element: Firebird sorts by at most 255 terms, so such a table
with an array of more than 255 elements is refused with a message (give it a key in the profile, or
exclude the column). Arrays in a profile query's result are refused (their bounds are known only
for a table's column).
"""

from __future__ import annotations

import itertools
import signal
import threading
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import types as sat

from extractor.errors import ConfigError, SourceError
from extractor.model import ArrayType, Column, Kind, Schema, Table
from extractor.values import SINGLE

from .base import Dialect, _short, kind_of, url_label
from .firebird_rendering import FirebirdServerRendering

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

IO_ERROR = 335544344
"""Firebird's error code (isc_io_error) for a database file it cannot open."""

EXAMPLE_PATH = "/path/to/file.fdb"

ORDER_TERMS = 255
"""Most ORDER BY terms Firebird accepts."""

_ARRAYS = """
SELECT TRIM(rf.RDB$RELATION_NAME), TRIM(rf.RDB$FIELD_NAME), d.RDB$DIMENSION, d.RDB$LOWER_BOUND, d.RDB$UPPER_BOUND
FROM RDB$RELATION_FIELDS rf
JOIN RDB$FIELDS f ON f.RDB$FIELD_NAME = rf.RDB$FIELD_SOURCE
JOIN RDB$FIELD_DIMENSIONS d ON d.RDB$FIELD_NAME = f.RDB$FIELD_NAME
WHERE f.RDB$DIMENSIONS > 0
ORDER BY 1, 2, 3
"""

_DIGITS = " UNION ALL ".join(f"SELECT {d} AS ux_d FROM RDB$DATABASE" for d in range(10))


class Firebird(FirebirdServerRendering, Dialect):
    name = "firebird"
    addresses = {"rowid": ("RDB$DB_KEY", "{c}")}
    snapshot_note = "one SNAPSHOT transaction with read-only access for the whole run"
    array_refusal = "arrays in a query's result cannot be read (their bounds are known only for a table's column)"

    def __init__(self, engine: Any, label: str) -> None:
        super().__init__(with_python_signals(engine), label)

    @classmethod
    def check_url(cls, url: URL) -> None:
        """A URL without a database file says what to give: a Firebird server cannot list its
        databases, so the path (or alias) must come from whoever runs it."""
        if not url.database:
            raise SourceError(f"{url_label(url)}: the URL names no database; give the database file: {_form(url)}. "
                              "A Firebird server cannot list its databases: ask whoever runs it for the path")

    def check_database(self) -> None:
        """A database the server cannot open says what to give (see ``check_url``)."""
        url = self.engine.url
        try:
            with self.engine.connect():
                pass
        except sa.exc.DBAPIError as exc:
            if IO_ERROR not in (getattr(exc.orig, "gds_codes", None) or ()):
                raise SourceError(f"{self.label}: cannot connect: {_short(exc)}") from None
            relative = "" if url.database.startswith("/") or ":" in url.database else (
                f"; '{url.database}' is no alias the server knows, and as a path it is relative")
            raise SourceError(f"{self.label}: the server cannot open the database '{url.database}' ({_short(exc)})"
                              f"{relative}; give the database file: {_form(url)}") from None

    def begin_snapshot(self, conn: Any) -> None:
        from firebird.driver import Isolation, TraAccessMode, tpb

        manager = conn.connection.dbapi_connection.main_transaction
        if manager.is_active():
            manager.rollback()  # start clean: the parameters apply to the next transaction
        manager.default_tpb = tpb(Isolation.SNAPSHOT, access_mode=TraAccessMode.READ)
        conn.begin()

    def snapshot_details(self) -> dict[str, Any]:
        details = {"kept_by": "one transaction", "isolation": "SNAPSHOT (concurrency), read-only access",
                   "locks": "no table reservations (SNAPSHOT, not TABLE STABILITY): the transaction reads record "
                            "versions and blocks no writer"}
        if self.sole_reader:
            details["statistics_connection"] = (
                "the fast path's statistics are counted on a second attachment while each file is read: the data "
                "sit in uttrekk's own read-only copy of the file, which no session can write to")
        return details

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, sat.Float) and not isinstance(satype, sat.Double):  # FLOAT, REAL: 32 bits
            return "float", {"float_bits": SINGLE}
        return kind_of(satype)

    # -- arrays ----------------------------------------------------------------------------------

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        """The generic reflection, with array columns (reflected as their element type) made arrays."""
        reflected = super().reflect(schema, views)
        try:
            with self.engine.connect() as conn:
                rows = conn.exec_driver_sql(_ARRAYS).all()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot read array bounds from RDB$FIELD_DIMENSIONS: {_short(exc)}") from None
        normalize = self.engine.dialect.normalize_name
        bounds: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for table, column, _, lower, upper in rows:
            bounds.setdefault((normalize(table), normalize(column)), []).append((int(lower), int(upper)))
        tables = []
        for t in reflected.tables:
            cols = tuple(_as_array(c, tuple(bounds[(t.name, c.name)])) if (t.name, c.name) in bounds else c
                         for c in t.columns)
            tables.append(replace(t, columns=cols))
        return replace(reflected, tables=tuple(tables))

    def query_columns(self, conn: Any, cursor: Any, sql: str) -> list[Column]:
        """The generic reading; an array in the result (firebird-driver says ``list``) is refused."""
        out = super().query_columns(conn, cursor, sql)
        return [replace(c, kind="array", native_type="ARRAY", array=ArrayType(Column("", "?", "unknown"),
                                                                              refused=self.array_refusal))
                if d[1] is list else c for c, d in zip(out, cursor.description, strict=True)]

    def select_sql(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Any:
        """A filtered table with arrays is read from the table itself, the filter in the WHERE
        clause: Firebird sorts no row of a derived table that carries an array."""
        if table.row_filter is None or table.query is not None or not _arrays(table):
            return super().select_sql(table, columns, order_by)
        query = super().select_sql(replace(table, row_filter=None), columns, order_by)
        return query.where(self.filter_condition(table.row_filter, table))

    def order_keys(self, table: Table, name: str) -> list[Any]:
        """An array is ordered by its elements (Firebird cannot sort arrays)."""
        array = table.column(name).array
        if array is None:
            return super().order_keys(table, name)
        if array.size > ORDER_TERMS:
            raise ConfigError(
                f"{table.name}.{name}: the table has no key, so its records are ordered by every column, and Firebird "
                f"cannot order by the {array.size} elements of this array (at most {ORDER_TERMS} terms). Give the "
                f"table a key in the profile ([tables.{table.name}] primary_key = [...]), or exclude the column "
                f"([tables.{table.name}.columns.{name}] exclude = \"…\").")
        column = self._quote(self.reflected_name(table, name))
        return [sa.literal_column(f"{column}[{', '.join(map(str, index))}]") for index in _indices(array)]

    def array_elements(self, parent: Table, key: Sequence[str], order_by: Sequence[str], name: str,
                       child: Table) -> Table:
        """Each element as ``t.c[i, j]`` with the indices from a generated set per dimension; the
        subscripts refer to the table itself (see the module docstring)."""
        array = parent.column(name).array
        if parent.query is not None or array is None or array.refused:
            return super().array_elements(parent, key, order_by, name, child)
        table = self._quote(parent.name)
        names = [self._quote(c.name) for c in child.columns]
        column = self._quote(self.reflected_name(parent, name))
        where = [f"{table}.{column} IS NOT NULL"]
        condition = (self.sql_text(self.filter_condition(parent.row_filter, parent)) if parent.row_filter is not None
                     else "")
        if key:
            selected = [f"{table}.{self._quote(self.reflected_name(parent, k))} AS {n}"
                        for k, n in zip(key, names, strict=False)]
            source = table
            where += [f"({condition})"] if condition else []
        else:
            numbered = (f"SELECT {self.sql_text(self.record_number(parent, order_by))} AS ux_rn, RDB$DB_KEY AS ux_dbk "
                        f"FROM {table}" + (f" WHERE {condition}" if condition else ""))
            selected = [f"ux_p.ux_rn AS {names[0]}"]
            source = f"({numbered}) AS ux_p JOIN {table} ON {table}.RDB$DB_KEY = ux_p.ux_dbk"
        heads = len(selected)
        indices = [f"ux_g{d}.ux_i" for d in range(1, len(array.bounds) + 1)]
        selected += [f"{i} AS {n}" for i, n in zip(indices, names[heads:-1], strict=True)]
        selected.append(f"{table}.{column}[{', '.join(indices)}] AS {names[-1]}")
        sets = "".join(f" CROSS JOIN ({_index_set(lower, upper)}) AS ux_g{d}"
                       for d, (lower, upper) in enumerate(array.bounds, 1))
        return replace(child, query=f"SELECT {', '.join(selected)} FROM {source}{sets} WHERE {' AND '.join(where)}")


def _as_array(col: Column, bounds: tuple[tuple[int, int], ...]) -> Column:
    """A column reflected as its element type, made the array it is."""
    element = replace(col, name="", nullable=False, comment=None)  # an element of a set array is never NULL
    shape = ",".join(f"{lo}:{hi}" for lo, hi in bounds)
    return replace(col, native_type=f"{col.native_type} [{shape}]", kind="array", length=None, precision=None,
                   scale=None, codes=(), codes_source="", array=ArrayType(element, bounds))


def _arrays(table: Table) -> bool:
    return any(c.array is not None for c in table.columns)


def _indices(array: ArrayType) -> Any:
    """Every index of an array in row-major order (the last dimension fastest)."""
    return itertools.product(*(range(lo, hi + 1) for lo, hi in array.bounds))


def _index_set(lower: int, upper: int) -> str:
    """SQL for the integers ``lower`` to ``upper`` as column ``ux_i``: one digit set per decimal place."""
    n = upper - lower + 1
    places = len(str(n - 1))
    offset = " + ".join(f"{10 ** p} * ux_d{p}.ux_d" for p in range(places))
    digits = " CROSS JOIN ".join(f"({_DIGITS}) AS ux_d{p}" for p in range(places))
    return f"SELECT {lower} + {offset} AS ux_i FROM {digits} WHERE {offset} < {n}"

def _form(url: URL) -> str:
    return (f"{url_label(url.set(database=EXAMPLE_PATH))} (the path on the server's machine, after two slashes), "
            "or an alias from the server's databases.conf")


def with_python_signals(engine: Any) -> Any:
    """``engine`` with two fixes for the Firebird client library under uttrekk's signal handling:
    SIGINT and SIGTERM go back to Python after each connection attaches (see
    ``keep_python_signal_handlers``), and a connection SQLAlchemy gives up on (Ctrl-C in the middle
    of a fetch) is closed: sqlalchemy-firebird would call a ``terminate()`` that firebird-driver's
    connections lack, and the connection outlived the engine and crashed the process at exit."""
    if not sa.event.contains(engine, "connect", _signals_back):
        sa.event.listen(engine, "connect", _signals_back)
    engine.dialect.do_terminate = engine.dialect.do_close
    return engine


def _signals_back(*_: Any) -> None:
    keep_python_signal_handlers()


def keep_python_signal_handlers() -> None:
    """Give SIGINT and SIGTERM back to Python after the client library attached a database.

    The library installs handlers of its own on first attachment, which shut every connection
    down under the running program: uttrekk's own handling (one line, the finished tables kept for
    ``--resume``) then met dead connections and printed tracebacks. Python's handlers close the
    connections in order instead."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if handler is not None:  # None: not Python's to give back
            signal.signal(sig, handler)
