"""Generic SQLAlchemy adapter: reflection through the inspector, rows through a streaming cursor.

Engine adapters subclass ``Dialect`` and override only what differs (speed paths and quirks).
Values are read raw from the driver (no SQLAlchemy result processing), so the extract sees what
the database holds, not what an ORM type would make of it.

Arrays: an array column is selected as its number of elements (``element_count``) and its elements
are a child table made by the adapter (``array_elements``); an engine without such an adapter
refuses its array columns (``array_refusal``) rather than write them as something else.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy import types as sat

from extractor.errors import ConfigError, SourceError
from extractor.model import (
    ArrayType,
    Column,
    ForeignKey,
    Kind,
    Lookup,
    RenderedStatistics,
    RenderRequest,
    RowFilter,
    Schema,
    Table,
)
from extractor.values import SINGLE

from .checks import in_list
from .rendering import Counted, Counting

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from .locate import Location


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do; tests ask for capabilities, not engine names."""

    comments: bool = True
    shared_snapshot: bool = False
    """Other connections can join this run's snapshot (needed for ``--jobs`` above 1)."""
    large_objects: bool = False
    """Rows may refer to large objects stored apart from them (``dialects.pg_large_objects``)."""


def kind_of(satype: Any) -> tuple[Kind, dict[str, Any]]:
    """Map a reflected SQLAlchemy type to a column kind plus its length/precision facts."""
    facts: dict[str, Any] = {}
    if isinstance(satype, sat.Boolean):
        return "boolean", facts
    if isinstance(satype, sat.Integer):
        return "integer", facts
    if isinstance(satype, sat.Float):
        return "float", {"float_bits": float_bits(satype)}
    if isinstance(satype, sat.Numeric):
        facts = {"precision": satype.precision, "scale": satype.scale}
        if satype.scale == 0 and satype.precision is not None:
            return "integer", facts
        return "decimal", facts
    if isinstance(satype, sat.DateTime):
        return "timestamp", {"timezone": bool(getattr(satype, "timezone", False))}
    if isinstance(satype, sat.Date):
        return "date", facts
    if isinstance(satype, sat.Time):
        return "time", facts
    if isinstance(satype, sat.Enum) and satype.enums:
        name = getattr(satype, "name", None)
        return "string", {"length": max(len(v) for v in satype.enums), "codes": tuple(satype.enums),
                          "codes_source": f"enum-typen {name}" if name else "kolonnens ENUM-type"}
    if isinstance(satype, sat.String):
        facts = {"length": satype.length}
        if isinstance(satype, sat.CHAR | sat.NCHAR):
            return "char", facts
        return "string", facts
    if isinstance(satype, sat.LargeBinary | sat._Binary):
        return "binary", {"length": getattr(satype, "length", None)}
    if isinstance(satype, sat.ARRAY):
        return "array", {"item_type": satype.item_type}
    return "unknown", facts


def float_bits(satype: Any) -> int:
    """A binary float type's significant bits by the SQL standard's ``FLOAT(p)``: up to 24 is single
    precision, anything else (no precision given: ``DOUBLE``, ``FLOAT``) a double. Engines whose names
    mean otherwise (PostgreSQL ``real``, MySQL and Firebird ``FLOAT``) say so in their ``column_kind``."""
    precision = getattr(satype, "precision", None)
    return SINGLE if precision is not None and precision <= SINGLE else 53


def _interned(name: Any) -> Any:
    """One object for a column name that many tables share (``id``…); SQLAlchemy's ``quoted_name``
    (a str subclass, which cannot be interned) is kept as it is."""
    return sys.intern(name) if type(name) is str else name


def native_name(satype: Any, engine: Engine) -> str:
    if isinstance(satype, sat.NullType):
        return NO_TYPE
    try:
        return sys.intern(str(satype.compile(dialect=engine.dialect)))  # one text per type, not per column
    except Exception:
        return type(satype).__name__


SECRET_PARAMETERS = re.compile(r"pass|pwd|secret|token|credential|key", re.IGNORECASE)
"""URL query parameters whose values are secrets (``?password=``, ``?sslpassword=``, ``?api_key=``)."""


def url_label(url: URL) -> str:
    """The URL as reports and logs show it: the password and every secret-looking query value masked."""
    query = {k: ("***" if SECRET_PARAMETERS.search(k) else v) for k, v in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True)


class Dialect:
    """Generic adapter for any database SQLAlchemy can reflect."""

    name = "generic"
    capabilities = Capabilities()
    fetch_size = 5000
    lob_fetch_size = 50
    array_refusal = ("uttrekk reads the elements of array columns only from PostgreSQL and Firebird, so this "
                     "column cannot be archived faithfully from this engine")
    """Why this adapter cannot archive array columns (empty: it can, as child tables)."""

    def __init__(self, engine: Engine, label: str) -> None:
        self.engine = engine
        self.label = label
        self._conn: Any = None
        self._located: dict[tuple[str | None, bool], Location] = {}

    # -- session --------------------------------------------------------------------------------

    @contextmanager
    def snapshot(self, join: str | None = None) -> Iterator[None]:
        """One read-only transaction for everything read inside: scan and extract see the same data.

        Adapters set the engine's strongest read-only, repeatable isolation in ``begin_snapshot``;
        the generic base only opens a transaction (and says so in ``snapshot_note``). With ``join``
        (an id from ``export_snapshot`` in another process) the transaction reads that snapshot.
        """
        if self._conn is not None:
            yield
            return
        try:
            conn = self.engine.connect()
            self.begin_snapshot(conn)
            if join is not None:
                self.join_snapshot(conn, join)
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot open a read-only session: {_short(exc)}") from None
        self._conn = conn
        try:
            yield
        finally:
            self._conn = None
            try:
                conn.rollback()  # nothing was written; end the read transaction
                conn.close()
            except sa.exc.SQLAlchemyError:
                conn.invalidate()  # the session is gone already (server ended it); nothing to undo
            finally:
                self.snapshot_ended()

    def snapshot_ended(self) -> None:
        """What an adapter keeps for one run's snapshot ends with it (the fast path's side connection
        or counting processes)."""

    snapshot_note = "no engine-specific snapshot: reads share one transaction at the server's default isolation"
    """What ``begin_snapshot`` guarantees, for the extraction report."""

    def begin_snapshot(self, conn: Any) -> None:
        conn.begin()

    def snapshot_details(self) -> dict[str, Any]:
        """How the run's snapshot was kept, for extraction.json's ``snapshot`` (``snapshot_note`` in words)."""
        return {"kept_by": "one transaction", "isolation": "the server's default",
                "locks": "whatever the engine holds for a read until the transaction ends"}

    def export_snapshot(self) -> str:
        """An id other connections can join (``capabilities.shared_snapshot`` engines only)."""
        raise NotImplementedError(f"{self.name} cannot share a snapshot between connections")

    def join_snapshot(self, conn: Any, snapshot_id: str) -> None:
        raise NotImplementedError(f"{self.name} cannot share a snapshot between connections")

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """The snapshot's connection inside ``snapshot``, else a connection of its own. Between two
        statements on the snapshot's connection (none of them still streaming rows) the adapter may
        end its transaction and start another in the same snapshot (``between_statements``)."""
        if self._conn is not None:
            if not self._open_statements:
                self.between_statements(self._conn)
            self._open_statements += 1
            try:
                yield self._conn
            finally:
                self._open_statements -= 1
        else:
            with self.engine.connect() as conn:
                yield conn

    _open_statements = 0
    """Statements on the snapshot's connection not finished yet (a generator still streaming rows)."""

    def between_statements(self, conn: Any) -> None:
        """Called before a statement on the snapshot's connection when no other is open: where an
        engine keeps a lock for every table its transaction has read (PostgreSQL), the adapter
        ends the transaction here now and then and starts another in the same snapshot."""

    @classmethod
    def from_url(cls, url: URL) -> Dialect:
        cls.check_url(url)
        engine = sa.create_engine(url, query_cache_size=QUERY_CACHE_SIZE)
        dialect = cls(engine, url_label(url))
        try:
            dialect.check_database()
        except BaseException:
            engine.dispose()
            raise
        return dialect

    @classmethod
    def check_url(cls, url: URL) -> None:
        """``SourceError`` for a URL that lacks what the engine must have before it can connect
        (Firebird's database file, Oracle's service), saying how to write it."""

    def check_database(self) -> None:
        """``SourceError`` listing the server's databases when the URL names none, or one the server
        does not have (``dialects.locate.no_database``); adapters of servers with several databases
        check, the generic base does not."""

    def server_databases(self, url: URL | None = None) -> dict[str, int | None]:
        """The server's databases this login can see, without system databases, each with its
        number of tables where that is cheap to know; read through ``url`` (default: the source's)."""
        return {}

    # -- where the tables are ---------------------------------------------------------------------

    schemas_are_databases = False
    """A schema is a database of its own on the server (MySQL): never read one the URL did not name."""

    def schemas_with_tables(self, views: bool = False) -> dict[str, int] | None:
        """Every schema (not the engine's own) holding tables, or views too, with how many; ``None``
        when the engine has no schemas (SQLite, Firebird) or the adapter cannot tell (the generic base)."""
        return None

    def database_name(self) -> str | None:
        """The database the session reads (the URL's, or the server's default when it names none)."""
        return self.engine.url.database

    def default_schema(self) -> str | None:
        """The schema read when none is given (PostgreSQL's ``current_schema()``, MySQL's database…)."""
        return sa.inspect(self.engine).default_schema_name  # type: ignore[no-any-return]

    def locate(self, schema: str | None = None, views: bool = False) -> Location:
        """Which schema to read and what to say about it (``dialects.locate.Location``; the rules are
        in that module's docstring); asked once per run, so every stage reads the same schema."""
        from .locate import choose

        if (schema, views) not in self._located:
            try:
                found = self.schemas_with_tables(views)
                default = self.default_schema() if found is not None and schema is None else None
            except sa.exc.SQLAlchemyError as exc:  # a help, not a step: the default schema is read as before
                self._located[schema, views] = replace(
                    choose(self.engine.url, schema, None, None, False),
                    note=f"could not look for tables in other schemas: {_short(exc)}")
                return self._located[schema, views]
            server, here = None, None
            if found is not None and not found and schema is None and not self.schemas_are_databases:
                here = self.database_name()
                server = {n: c for n, c in self.server_databases().items() if n != here}
            self._located[schema, views] = choose(self.engine.url, schema, default, found,
                                                  self.schemas_are_databases, server, here)
        return self._located[schema, views]

    @property
    def engine_name(self) -> str:
        """The SQLAlchemy backend name (``postgresql``, ``mysql``, ``sqlite``…)."""
        return str(self.engine.url.get_backend_name())

    def source_details(self) -> dict[str, str]:
        """Where the data came from, for the extraction log: engine, host, port, database, schema,
        user (never the password); for a dump, its ``provenance`` instead of the throwaway server's
        connection, whose socket and cache paths say nothing about the data."""
        if self.provenance:
            return {"engine": self.engine_name, "schema": str(self.schema_read or ""), **dict(self.provenance)}
        url = self.engine.url
        return {"engine": self.engine_name, "host": str(url.host or ""), "port": str(url.port or ""),
                "database": str(url.database or ""), "schema": str(self.schema_read or ""),
                "user": str(url.username or ""), **dict(self.provenance)}

    # -- reflection ---------------------------------------------------------------------------

    schema_read: str | None = None
    """The schema ``reflect`` last read when it was not the connection's default (for the report)."""
    reflect_batch = 1000
    """Tables reflected per round of catalogue queries: SQLAlchemy's answers for 20,000 tables at
    once took some 5 KB a table until the last was read; a batch's are dropped once its tables are made."""

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        """Tables (and with ``views`` views, extracted as tables) of one schema, in bulk queries.

        ``views`` may name the views wanted (those a profile describes); ``True`` takes them all.
        """
        from sqlalchemy.engine.reflection import ObjectKind

        from .locate import counted

        self.schema_read = schema

        try:
            inspector = sa.inspect(self.engine)
            if schema is not None and schema not in inspector.get_schema_names():
                with_tables = self.schemas_with_tables(bool(views))
                known = (", ".join(inspector.get_schema_names()) if with_tables is None
                         else f"schemas with tables: {counted(with_tables)}")
                raise SourceError(f"{self.label}: no schema '{schema}' ({known}); choose one with --schema NAME")
            names = inspector.get_table_names(schema=schema)
            view_names: list[str] = []
            if views:
                view_names = inspector.get_view_names(schema=schema)
                try:
                    view_names += inspector.get_materialized_view_names(schema=schema)
                except NotImplementedError:  # engines without materialized views
                    pass
                if views is not True:
                    view_names = [v for v in view_names if v in views and v not in names]
                names = names + view_names
            kind = ObjectKind.ANY if views else ObjectKind.TABLE
            self.reflect_types(inspector, schema)
            checks = self.check_constraints(inspector, schema)
            with_comments = self.capabilities.comments and self.engine.dialect.supports_comments
            ordered = sorted(names)
            tables = []
            for start in range(0, len(ordered), self.reflect_batch):
                batch = ordered[start:start + self.reflect_batch]
                columns = inspector.get_multi_columns(schema=schema, filter_names=batch, kind=kind)
                pks = inspector.get_multi_pk_constraint(schema=schema, filter_names=batch)
                fks = inspector.get_multi_foreign_keys(schema=schema, filter_names=batch)
                uniques = inspector.get_multi_unique_constraints(schema=schema, filter_names=batch)
                comments: dict[Any, Any] = {}
                if with_comments:
                    comments = inspector.get_multi_table_comment(schema=schema, filter_names=batch)
                for name in batch:
                    key = (schema, name)
                    comment = (comments.get(key) or {}).get("text")
                    table = self._table(name, schema, columns.get(key, []), pks.get(key) or {},
                                        fks.get(key, []), uniques.get(key, []), comment, checks.get(key, []))
                    tables.append(replace(table, view=True) if name in view_names else table)
                inspector.info_cache.clear()  # what SQLAlchemy keeps of the batch, a few KB a table
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot read the database catalogue: {_short(exc)}") from None
        return Schema(tuple(tables), source_label=self.label, engine=self.engine_name)

    def _table(self, name: str, schema: str | None, cols: list[Any], pk: Any, fks: list[Any],
               uniques: list[Any], comment: str | None, checks: list[Any] | None = None) -> Table:
        lists = {}
        for check in checks or ():
            found = in_list(check.get("sqltext") or "")
            if found:
                lists[found[0].lower()] = (found[1], f"CHECK-regelen {check.get('name') or ''}".strip())
        out = []
        for c in cols:
            kind, facts = self.column_kind(c["type"])
            codes, source = facts.get("codes", ()), facts.get("codes_source", "")
            if c["name"].lower() in lists:
                codes, source = lists[c["name"].lower()]
            out.append(Column(
                name=_interned(c["name"]), native_type=native_name(c["type"], self.engine), kind=kind,
                nullable=bool(c.get("nullable", True)), comment=c.get("comment"),
                length=facts.get("length"), precision=facts.get("precision"),
                scale=facts.get("scale"), float_bits=facts.get("float_bits"), timezone=facts.get("timezone", False),
                codes=tuple(codes), codes_source=source,
                array=self.array_type(facts["item_type"]) if kind == "array" else None,
            ))
        fk_list = tuple(
            ForeignKey(tuple(fk["constrained_columns"]), fk["referred_table"],
                       tuple(fk["referred_columns"]), fk.get("name"))
            for fk in fks if fk.get("referred_table") and fk.get("constrained_columns")
        )
        return Table(
            name=name, columns=tuple(out),
            primary_key=tuple(pk.get("constrained_columns") or ()),
            unique_keys=tuple(tuple(u["column_names"]) for u in uniques),
            foreign_keys=fk_list, comment=comment, schema=schema,
        )

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        """Kind of a reflected type and its facts (length, precision, ``codes``…); adapters add vendor types."""
        return kind_of(satype)

    def array_type(self, item_type: Any) -> ArrayType:
        """The elements of an array column from their reflected type; refused where this adapter
        cannot read them (``array_refusal``) or they are arrays themselves."""
        kind, facts = self.column_kind(item_type)
        element = Column("", native_name(item_type, self.engine), kind, length=facts.get("length"),
                         precision=facts.get("precision"), scale=facts.get("scale"),
                         timezone=facts.get("timezone", False), codes=tuple(facts.get("codes", ())),
                         codes_source=facts.get("codes_source", ""))
        nested = "the elements are arrays themselves" if kind == "array" else ""
        return ArrayType(element, refused=self.array_refusal or nested)

    def check_constraints(self, inspector: Any, schema: str | None) -> dict[Any, list[dict[str, Any]]]:
        """CHECK constraints per ``(schema, table)``: ``{"name", "sqltext"}`` each, in one query."""
        try:
            return inspector.get_multi_check_constraints(schema=schema)  # type: ignore[no-any-return]
        except NotImplementedError:  # engines whose SQLAlchemy dialect cannot list them
            return {}

    def reflect_types(self, inspector: Any, schema: str | None) -> None:
        """Read user-defined types (domains…) before columns are mapped; adapters override."""

    # -- data -----------------------------------------------------------------------------------

    def _selectable(self, table: Table, alias: str | None = None) -> Any:
        """What a table is read from: the table itself, its filtered rows (the profile's filter), or
        a profile query, as a subquery named like the table (or ``alias``)."""
        if table.query is not None:
            return self._query_source(table.query, alias or table.name, [c.name for c in table.columns])
        base = sa.table(table.name, schema=table.schema)
        if table.row_filter is None:
            return base.alias(alias) if alias else base
        return (sa.select(sa.literal_column("*")).select_from(base)
                .where(self.filter_condition(table.row_filter, table)).subquery(alias or table.name))

    def _query_source(self, sql: str, name: str, columns: Sequence[str] = ()) -> Any:
        """A profile's SELECT as a subquery. Colons are escaped (``:x`` is no bind parameter here),
        and the query ends on its own line so that a trailing ``--`` comment stays a comment."""
        text = sa.text(sql.replace(":", "\\:") + "\n")
        return text.columns(*[sa.column(c) for c in columns]).subquery(name)

    def filter_condition(self, row_filter: RowFilter, table: Table | None = None) -> Any:
        """The profile's filter as one condition: its ``where`` as written, and the period on
        ``period_column`` (of ``table``) as [start, end + 1 day), so a timestamp on the last day is inside."""
        parts: list[Any] = []
        if row_filter.where:
            parts.append(sa.literal_column(f"({row_filter.where})"))
        if row_filter.period_column:
            column: Any = self.column_ref(table, row_filter.period_column) if table else sa.column(row_filter.period_column)
            if row_filter.start:
                parts.append(column >= self.date_literal(dt.date.fromisoformat(row_filter.start)))
            if row_filter.end:
                parts.append(column < self.date_literal(dt.date.fromisoformat(row_filter.end) + dt.timedelta(days=1)))
        return sa.and_(*parts)

    def date_literal(self, day: dt.date) -> Any:
        """A date to compare a date or timestamp column with (SQLite: its text, which sorts as dates do)."""
        return sa.literal(day, sa.Date)

    def reflect_query(self, name: str, sql: str) -> Table:
        """A profile query as a table: its result columns (names, types and nullability as far as
        the driver tells), read without rows in a read-only session. ``SourceError`` names what
        the server said when it refuses the query."""
        probe: Any = sa.select(sa.literal_column("*")).select_from(self._query_source(sql, "ux_q")).where(sa.false())
        try:
            with self.snapshot(), self._connection() as conn:
                result = conn.execute(probe)
                description = list(result.cursor.description or ())
                columns = self.query_columns(conn, result.cursor, sql)
                result.close()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(_short(exc)) from None
        names = [d[0] for d in description]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise SourceError(f"the result has more than one column named {', '.join(twice)}; give each its own "
                              "name with AS")
        return Table(name, tuple(columns), query=sql)

    def query_columns(self, conn: Any, cursor: Any, sql: str) -> list[Column]:
        """Columns from the cursor description after a query ran. The generic reading uses the
        DB-API type objects (engine adapters read the exact types their drivers report)."""
        dbapi = self.engine.dialect.loaded_dbapi
        out = []
        for d in cursor.description:
            name, code = d[0], d[1]
            precision, scale = (d[4], d[5]) if len(d) > 5 else (None, None)
            null_ok = d[6] if len(d) > 6 and isinstance(d[6], bool) else True
            kind: Kind = "unknown"
            facts: dict[str, Any] = {}
            if code == getattr(dbapi, "STRING", object()):
                kind = "string"
            elif code == getattr(dbapi, "BINARY", object()):
                kind = "binary"
            elif code == getattr(dbapi, "NUMBER", object()):
                kind = "integer" if scale == 0 and precision else "decimal"
                facts = {"precision": precision, "scale": scale}
            elif code == getattr(dbapi, "DATETIME", object()):
                kind = "timestamp"
            out.append(Column(name, str(getattr(code, "__name__", code)), kind, nullable=null_ok, **facts))
        return out

    def check_filter(self, table: Table) -> None:
        """Run the table's filter once without reading rows: ``SourceError`` when the server refuses it."""
        query: Any = sa.select(sa.literal_column("1")).select_from(self._selectable(table)).where(sa.false())
        try:
            with self.snapshot(), self._connection() as conn:
                conn.execute(query).close()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(_short(exc)) from None

    def refused_calls(self, table: Table) -> list[str]:
        """What reading ``table`` (a profile query, or a table with the profile's filter) would do
        besides reading, each as ``calls f(), which …``; asked before any row is read, since a
        read-only session still runs functions. The generic adapter knows no engine's functions
        and relies on the read-only session alone."""
        return []

    def probe_sql(self, table: Table) -> str:
        """The SQL text that reads ``table`` as every statement of the run embeds it (the profile's
        query or filter in place), for checks that must see exactly what the server will."""
        return self.sql_text(sa.select(sa.literal_column("*")).select_from(self._selectable(table)))

    def sql_text(self, query: Any) -> str:
        """A statement as SQL text with its values written in (what a person reads in addml.xml;
        what the PostgreSQL COPY path sends)."""
        text = str(query.compile(self.engine, compile_kwargs={"literal_binds": True}))
        if self.engine.dialect.paramstyle in ("format", "pyformat"):
            text = text.replace("%%", "%")  # the compiler doubles every % for a driver that will not see it
        return text

    def column_expr(self, table: Table, name: str) -> Any:
        """How one column is selected; adapters cast vendor types the driver would return oddly."""
        return self.column_ref(table, name)

    def column_ref(self, table: Table, name: str) -> Any:
        """A column of ``table`` in a statement, quoted as the engine needs whatever its name holds.

        The name is taken from the table's reflected column: for Firebird and Oracle SQLAlchemy
        marks there a name the engine stores in lower case (``quoted_name``); the same name from
        the profile is a plain string, which would be sent unquoted and read in upper case.
        """
        return sa.column(self.reflected_name(table, name))

    @staticmethod
    def reflected_name(table: Table, name: str) -> str:
        """``name`` as ``table``'s reflected column carries it (see ``column_ref``)."""
        return next((c.name for c in table.columns if c.name == name), name)

    def select_text(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> str:
        """``select_sql`` as the SQL text addml.xml shows for the table's data."""
        return self.sql_text(self.select_sql(table, columns, order_by))

    def select_sql(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Any:
        """SELECT of raw values (untyped columns, so no SQLAlchemy result processing).

        Pointer columns (``table.lookups``) are read as the key of the row they address, through
        a LEFT JOIN to the target; the joined values get labels of their own, so ORDER BY a
        column name still means the table's own column.
        """
        source = self._selectable(table)
        joined: dict[str, Any] = {}
        for i, lk in enumerate(table.lookups):
            sub, on = self._lookup(table, lk, i)
            source = source.outerjoin(sub, on)
            joined[lk.column] = sub.c.ux_k.label(f"ux_v{i}")
            if lk.keep_as:
                expr = self.column_expr(replace(table, columns=(lk.original,)), lk.column)
                joined[lk.keep_as] = expr.label(f"ux_o{i}")
        cols: list[Any] = []
        for name in columns:
            if name in joined:
                cols.append(joined[name])
                continue
            if table.column(name).array is not None:  # the elements are read into a child table
                cols.append(self.element_count(table, name).label(name))
                continue
            expr = self.column_expr(table, name)
            cols.append(expr if isinstance(expr, sa.sql.expression.ColumnClause) else expr.label(name))
        query = sa.select(*cols).select_from(source)
        keys = [key for name in order_by for key in self.order_keys(table, name)]
        return query.order_by(*keys) if keys else query

    # -- arrays: each array column's elements are a child table ------------------------------------

    def element_count(self, table: Table, name: str) -> Any:
        """What the parent's file holds for an array column: the number of elements, NULL for a
        NULL array. Here from the declared bounds, which every value of such a column has."""
        array = table.column(name).array
        assert array is not None
        return sa.case((sa.column(name).is_(None), sa.null()), else_=sa.literal_column(str(array.size)))

    def array_dimensions(self, table: Table, name: str) -> tuple[int, ...]:
        """The numbers of dimensions the non-empty values of an array column have (one number
        when they agree): the child table has one index field per dimension."""
        array = table.column(name).array
        assert array is not None
        return (len(array.bounds),)

    def array_elements(self, parent: Table, key: Sequence[str], order_by: Sequence[str], name: str,
                       child: Table) -> Table:
        """The child table of the array column ``name`` as a query on ``parent``: one row per element
        with ``child``'s columns (the parent's ``key``, or its record number in ``order_by`` when
        ``key`` is empty; one index per dimension, the source's own; the value). Read it with
        ``iter_rows`` like any table."""
        raise SourceError(f"{self.label}: {parent.name}.{name}: {self.array_refusal}; exclude the column in the "
                          f"profile ([tables.{parent.name}.columns.{name}] exclude = \"…\")")

    addresses: dict[str, tuple[str, str]] = {}
    """Physical addresses this engine has: name -> (SQL for a row's own address, template turning
    a stored address ``{c}`` into something comparable with it)."""

    def record_number(self, table: Table, order: Sequence[str]) -> Any:
        """Each row's number (from 1) in the extract's order of ``table``: the surrogate key."""
        keys = [k for name in order for k in self.order_keys(table, name)]
        return sa.over(sa.literal_column("ROW_NUMBER()"), order_by=keys)  # type: ignore[arg-type]  # Firebird drops func ()

    def _lookup(self, table: Table, lk: Lookup, i: int) -> tuple[Any, Any]:
        """The target's (address, key) pairs as a subquery, and the join condition."""
        column = self.reflected_name(replace(table, columns=(*table.columns, lk.original)), lk.column)
        stored: Any = sa.column(column)
        if lk.address == "recno":
            address: Any = self.record_number(lk.target, lk.order) + (lk.start - 1)
        elif lk.address in self.addresses:
            own, template = self.addresses[lk.address]
            address = sa.literal_column(own)
            stored = self.converted(template, column)
        elif lk.address in lk.target.column_names:
            address = self.column_ref(lk.target, lk.address)
        else:
            known = ", ".join([*self.addresses, "recno"])
            raise ConfigError(f"pointer {lk.column} -> {lk.target.name}: {self.name} has no address '{lk.address}' "
                              f"(addresses here: {known}, or a column of {lk.target.name})")
        key = self.column_expr(lk.target, lk.key) if lk.key else self.record_number(lk.target, lk.order)
        if lk.target.row_filter is None:
            sub = sa.select(address.label("ux_a"), key.label("ux_k")).select_from(
                self._selectable(lk.target)).subquery(f"ux_l{i}")
        else:  # the address is a row of the whole table; only rows the filter keeps give a key
            every = sa.select(address.label("ux_a"), sa.literal_column(f"{self._quote(lk.target.name)}.*")).select_from(
                sa.table(lk.target.name, schema=lk.target.schema)).subquery(lk.target.name)
            sub = sa.select(every.c.ux_a, key.label("ux_k")).select_from(every).where(
                self.filter_condition(lk.target.row_filter, lk.target)).subquery(f"ux_l{i}")
        return sub, stored == sub.c.ux_a

    def order_keys(self, table: Table, name: str) -> list[Any]:
        """ORDER BY terms for one column of the stable order; adapters replace types the engine cannot sort."""
        return [self.column_ref(table, name)]

    def converted(self, template: str, name: str) -> Any:
        """A server-side conversion of one column (``{c}`` is the quoted name; give the reflected
        name, ``reflected_name``), untyped so the driver's value is read raw."""
        return sa.type_coerce(sa.literal_column(template.replace("{c}", self._quote(name))), sat.NULLTYPE)

    def count_rows(self, table: Table) -> int:
        query = sa.select(sa.func.count()).select_from(self._selectable(table))
        try:
            with self._connection() as conn:
                return int(conn.execute(query).scalar_one())
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: cannot count rows of table {table.name}: {_short(exc)}") from None

    def _scalar_rows(self, query: Any, what: str) -> list[Any]:
        try:
            with self._connection() as conn:  # each statement differs: caching them would only hold memory
                return list(conn.execute(query, execution_options={"compiled_cache": None}))
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: {what} failed: {_short(exc)}") from None

    def key_facts(self, table: Table, columns: Sequence[str], text_limit: int | None = None,
                  texts: Sequence[str] = ()) -> tuple[int, dict[str, tuple[int, int]]]:
        """Rows of the table, and per column its usable non-NULL and its distinct values, in one
        query: which single columns could serve as a key.

        For the ``texts`` columns a value counts as usable only when it is 1 to ``text_limit``
        characters long: an empty key cannot be told from NULL in a flat file, and a longer text
        leaves its field for a file of its own, so neither can be a key."""
        parts: list[Any] = [sa.func.count()]
        for name in columns:
            col: Any = self.column_ref(table, name)
            usable = sa.func.count(col)
            if name in texts and text_limit is not None:
                length = sa.func.char_length(col)
                usable = sa.func.count(sa.case((sa.and_(length >= 1, length <= text_limit), 1)))
            parts += [usable, sa.func.count(sa.distinct(col))]
        row = self._scalar_rows(sa.select(*parts).select_from(self._selectable(table)),
                                f"checking key candidates of table {table.name}")[0]
        return int(row[0]), {name: (int(row[1 + 2 * i]), int(row[2 + 2 * i])) for i, name in enumerate(columns)}

    def date_spans(self, table: Table, columns: Sequence[str], low: dt.date,
                   high: dt.date) -> dict[str, tuple[Any, Any, Any, Any]]:
        """Per date or timestamp column: its earliest and latest value, and the earliest and latest
        between ``low`` and ``high`` (placeholders like 0001-01-01 and 9999-12-31 left out), in one
        query: what ``profile init`` suggests the archival period from."""
        parts: list[Any] = []
        lo, hi = self.date_literal(low), self.date_literal(high + dt.timedelta(days=1))
        for name in columns:
            col: Any = sa.column(name)
            inside = sa.case((sa.and_(col >= lo, col < hi), col))
            parts += [sa.func.min(col), sa.func.max(col), sa.func.min(inside), sa.func.max(inside)]
        if not parts:
            return {}
        row = self._scalar_rows(sa.select(*parts).select_from(self._selectable(table)),
                                f"reading the date span of table {table.name}")[0]
        return {name: tuple(row[4 * i:4 * i + 4]) for i, name in enumerate(columns)}  # type: ignore[misc]

    def key_violations(self, table: Table, key: Sequence[str], limit: int = 10) -> tuple[int, list[tuple[Any, ...]]]:
        """Rows with a NULL in ``key``, and up to ``limit`` key values held by more than one row
        (each with its count): what keeps ``key`` from being a primary key."""
        cols: list[Any] = [self.column_ref(table, c) for c in key]
        nulls = self._scalar_rows(sa.select(sa.func.count()).select_from(self._selectable(table))
                                  .where(sa.or_(*[c.is_(None) for c in cols])), f"checking the key of {table.name}")
        dupes = self._scalar_rows(sa.select(*cols, sa.func.count()).select_from(self._selectable(table))
                                  .where(sa.and_(*[c.is_not(None) for c in cols]))
                                  .group_by(*cols).having(sa.func.count() > 1).order_by(*cols).limit(limit),
                                  f"checking the key of {table.name}")
        return int(nulls[0][0]), [tuple(r) for r in dupes]

    def dangling(self, table: Table, columns: Sequence[str], order_by: Sequence[str], target: Table,
                 ref_columns: Sequence[str], pk: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Rows whose ``columns`` (all non-NULL) match no row of ``target``: each as its record
        number in the extract's order, its ``pk`` values and its ``columns`` values, in record order."""
        query = self.dangling_sql(table, columns, order_by, target, ref_columns, pk)
        try:
            with self._connection() as conn:
                for row in conn.execution_options(stream_results=True, yield_per=1000).execute(query):
                    yield tuple(row)
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: checking the relation {table.name}({', '.join(columns)}) -> "
                              f"{target.name} failed: {_short(exc)}") from None

    def dangling_sql(self, table: Table, columns: Sequence[str], order_by: Sequence[str], target: Table,
                     ref_columns: Sequence[str], pk: Sequence[str]) -> Any:
        rn = self.record_number(table, order_by).label("ux_rn")
        wanted = list(dict.fromkeys([*pk, *columns]))
        inner = sa.select(rn, *[self.column_ref(table, c).label(f"ux_c{i}") for i, c in enumerate(wanted)]).select_from(
            self._selectable(table)).subquery("ux_s")
        own = {c: inner.c[f"ux_c{i}"] for i, c in enumerate(wanted)}
        tgt = self._selectable(target, "ux_t")
        ref: dict[str, Any] = {r: sa.literal_column(f"ux_t.{self._quote(self.reflected_name(target, r))}") for r in ref_columns}
        match = sa.exists().where(sa.and_(*[ref[r] == own[c]
                                            for c, r in zip(columns, ref_columns, strict=True)])).select_from(tgt)
        return (sa.select(inner.c.ux_rn, *[own[c] for c in pk], *[own[c] for c in columns])
                .where(sa.and_(*[own[c].is_not(None) for c in columns]), ~match).order_by(inner.c.ux_rn))

    # -- relations in the data (``inspect --keys``): one statistics query per table, one per column --

    long_text_types = frozenset({"TEXT", "MEDIUMTEXT", "LONGTEXT", "CLOB", "NCLOB", "NTEXT", "LONG", "LONG VARCHAR"})
    """Native types (without length) that hold prose as a large object on this engine, never a
    reference; engines whose ``TEXT`` is the everyday string type leave it out."""
    typed_values = True
    """Every value of a column is of the column's type, so statistics can settle a comparison
    (SQLite's integer column may hold text: there the server decides every one)."""

    def comparable_as(self, column: Column) -> Literal["integer", "text"] | None:
        """``integer`` or ``text`` when the column's values can be compared with a key's as
        references (integers that are no bit strings; text that is neither binary nor a large
        object here); ``None`` for anything else."""
        base = column.native_type.upper().split("(")[0].strip()
        if column.kind == "integer":
            return None if base.startswith("BIT") else "integer"
        if column.kind not in ("string", "char") or "BLOB" in base or base in self.long_text_types:
            return None
        return "text"

    def _compared(self, table: Table, name: str) -> Any:
        """A column as its values are compared: an enum type as plain text, so it compares with text columns."""
        col = table.column(name)
        if "enum" in col.codes_source.casefold():
            return sa.cast(sa.column(col.name), sa.String(max((len(c) for c in col.codes), default=1)))
        return sa.column(col.name)

    def column_statistics(self, table: Table, columns: Sequence[str], known_unique: Collection[str] = ()
                          ) -> tuple[int, dict[str, tuple[int, int, Any, Any]]]:
        """Rows of the table, and per column (``comparable_as`` one) its non-NULL values, distinct
        values, lowest and highest value, in one query. A column in ``known_unique`` (a declared
        key) is not counted again: its distinct values are its non-NULL ones. An integer column's
        bounds are ``int`` whatever the driver returns (``Decimal``), else ``None``."""
        parts: list[Any] = [sa.func.count()]
        for name in columns:
            c = self._compared(table, name)
            parts += [sa.func.count(c), sa.func.min(c), sa.func.max(c)]
            if name not in known_unique:
                parts.append(sa.func.count(sa.distinct(c)))
        row = self._scalar_rows(sa.select(*parts).select_from(self._selectable(table)),
                                f"statistics of table {table.name}")[0]
        total, i, out = int(row[0]), 1, {}
        for name in columns:
            non_null, low, high = int(row[i] or 0), row[i + 1], row[i + 2]
            i += 3
            distinct = non_null
            if name not in known_unique:
                distinct, i = int(row[i] or 0), i + 1
            if self.comparable_as(table.column(name)) == "integer":
                low, high = _whole(low), _whole(high)
            out[name] = (non_null, distinct, low, high)
        return total, out

    def key_inclusion(self, table: Table, column: str, keys: Sequence[tuple[Table, str]]) -> list[tuple[int, int, int, int]]:
        """For each key (its table and column): the column's distinct non-NULL values, their rows,
        and of those the values the key does not hold and their rows, from one grouping of the
        column joined with every key."""
        v = self._compared(table, column)
        grouped = (sa.select(v.label("v"), sa.func.count().label("n")).select_from(self._selectable(table))
                   .where(v.is_not(None)).group_by(v).subquery("s"))
        joined: Any = grouped
        aggs: list[Any] = [sa.func.count(), sa.func.sum(grouped.c.n)]
        for i, (kt, kc) in enumerate(keys):
            target = sa.select(self._compared(kt, kc).label("k")).select_from(self._selectable(kt)).subquery(f"t{i}")
            joined = joined.outerjoin(target, target.c.k == grouped.c.v)
            missing = target.c.k.is_(None)
            aggs += [sa.func.sum(sa.case((missing, sa.literal_column("1")), else_=sa.literal_column("0"))),
                     sa.func.sum(sa.case((missing, grouped.c.n), else_=sa.literal_column("0")))]
        names = ", ".join(f"{kt.name}.{kc}" for kt, kc in keys)
        row = self._scalar_rows(sa.select(*aggs).select_from(joined), f"comparing {table.name}.{column} with {names}")[0]
        distinct, rows = int(row[0] or 0), int(row[1] or 0)
        return [(distinct, rows, int(row[2 + 2 * i] or 0), int(row[3 + 2 * i] or 0)) for i in range(len(keys))]

    def values_not_in(self, table: Table, column: str, target: Table, key: str, limit: int) -> list[Any]:
        """The lowest ``limit`` distinct non-NULL values of ``column`` that ``target.key`` does not hold."""
        v = self._compared(table, column)
        values = (sa.select(v.label("v")).select_from(self._selectable(table)).where(v.is_not(None))
                  .distinct().subquery("s"))
        keys = sa.select(self._compared(target, key).label("k")).select_from(self._selectable(target)).subquery("t")
        query = (sa.select(values.c.v).select_from(values.outerjoin(keys, keys.c.k == values.c.v))
                 .where(keys.c.k.is_(None)).order_by(values.c.v).limit(limit))
        return [r[0] for r in self._scalar_rows(query, f"orphan values of {table.name}.{column} in {target.name}.{key}")]

    def _quote(self, name: str) -> str:
        """``name`` quoted for SQL text (``literal_column``, a driver statement). SQLAlchemy's quoting
        doubles ``%`` for drivers with ``%`` parameters, and so does its compiler for literal text,
        so here it is undone: a ``%`` in a name reaches the server once."""
        preparer = self.engine.dialect.identifier_preparer
        quoted = str(preparer.quote(name))
        return quoted.replace("%%", "%") if preparer._double_percents else quoted

    def fetch_rows(self, table: Table, columns: Sequence[str]) -> int:
        """Rows per fetch: fewer where a row may carry a large value, so memory stays bounded by
        a few such values rather than thousands of them."""
        for name in columns:
            col = table.column(name)
            if col.kind in ("binary", "unknown") or (col.kind in ("string", "char") and (col.length or 1 << 30) > 4000):
                return self.lob_fetch_size
        return self.fetch_size

    def server_rendering(self, table: Table, request: RenderRequest) -> dict[str, str]:
        """Why columns of ``table`` cannot be rendered by the server (column -> reason; ``""``: the
        whole table); empty when every field can (``dialects.rendering``). The generic adapter renders nothing."""
        return {"": f"{self.name} has no server rendering; every value is rendered by uttrekk"}

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        """The statistics of the rendered fields, from one aggregate query (``server_rendering`` first)."""
        raise NotImplementedError(f"{self.name} has no server rendering")

    def rendered_statistics_beside(self, table: Table, request: RenderRequest) -> Counted | Counting:
        """``rendered_statistics``, counted now: an engine whose snapshot a second connection can
        share counts them there while the file is read (``pg_rendering``)."""
        return Counted(self.rendered_statistics(table, request))

    def rendered_records(self, table: Table, request: RenderRequest) -> Iterator[tuple[bytes, int]]:
        """The table's delimited file as the server renders it: chunks of whole records, CR LF after
        each, in the request's charset, with the number of records in each chunk."""
        raise NotImplementedError(f"{self.name} has no server rendering")

    def iter_rows(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Stream rows in a stable order, ``fetch_rows`` rows at a time."""
        query = self.select_sql(table, columns, order_by)
        try:
            with self._connection() as conn:
                per = self.fetch_rows(table, columns)
                result = conn.execution_options(stream_results=True, yield_per=per).execute(query)
                for part in result.partitions():
                    yield from part
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self.label}: reading table {table.name} failed: {_short(exc)}") from None

    provenance: tuple[tuple[str, str], ...] = ()
    """Where the data came from beyond the connection (a dump's file name, size, SHA-256, format,
    the tool that wrote it, the server that restored it), as (key, value) for the reports and log."""
    provenance_text: str = ""
    """The same in one Norwegian sentence, for addml.xml's dataset description."""
    source_notes: tuple[str, ...] = ()
    """What opening the source had to say (a restore's warnings), for the report's warnings."""
    worker_source: str | None = None
    """What a ``--jobs`` worker process opens to reach the same data (a restored dump's server by
    its socket); ``None``: the SOURCE as given."""

    def source_files(self) -> tuple[Path, ...]:
        """The files or folders this source is read from (none for a server): nothing the run
        writes or removes may hold them."""
        return ()

    def close(self) -> None:
        self.engine.dispose()


QUERY_CACHE_SIZE = 50
"""Compiled statements SQLAlchemy keeps per engine (its default: 500). Nearly every statement of a
run names its own table, so a statement is seldom compiled twice; 500 of them held some 8 MB."""


def read_catalogue(url: URL, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a catalogue query through a connection of its own (the server's list of databases
    is read from another database than the one the URL names); empty when it cannot be read."""
    statement = sa.text(sql)
    for name, value in params.items():
        if isinstance(value, tuple):
            statement = statement.bindparams(sa.bindparam(name, expanding=True))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(statement, params)]
    except sa.exc.SQLAlchemyError:
        return []
    finally:
        engine.dispose()


NO_TYPE = "(no type)"
"""``native_type`` of a column SQLAlchemy reflected without a type."""


def with_vendor_types(reflected: Schema, found: dict[tuple[str, str], tuple[str, Kind]],
                      note: Callable[[Column], str | None]) -> Schema:
    """Fill in the vendor type of every column reflected without one (``found``: read from the
    engine's catalogue), and add ``note(column)`` to the schema notes where it says something."""
    tables, notes = [], list(reflected.notes)
    for t in reflected.tables:
        cols: list[Column] = []
        for c in t.columns:
            if c.native_type == NO_TYPE:
                native, kind = found.get((t.name, c.name), (NO_TYPE, "unknown"))
                c = replace(c, native_type=native, kind=kind)
            text = note(c)
            if text:
                notes.append(f"{t.name}.{c.name}: {text}")
            cols.append(c)
        tables.append(replace(t, columns=tuple(cols)))
    return replace(reflected, tables=tuple(tables), notes=tuple(notes))


def _whole(value: Any) -> int | None:
    """An integer aggregate as ``int`` (drivers give ``Decimal`` or ``float`` for some); ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float) and value == value and value == int(value):
        return int(value)
    return None


def _short(exc: BaseException) -> str:
    """The driver's message in one line. Firebird gives the reason on lines of their own after the
    first (``Dynamic SQL Error`` / ``-Column unknown`` / ``-PEKER``); they are joined to it."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).splitlines()
    if not lines:
        return type(exc).__name__
    more = [line.lstrip("-").strip() for line in lines[1:] if line.startswith("-")]
    return "; ".join([lines[0], *more])
