"""PostgreSQL's fast path: ``COPY (SELECT <archival text of each field> … ORDER BY key) TO STDOUT
WITH (FORMAT csv, DELIMITER ';', ENCODING …)``.

PostgreSQL's CSV quoting is the extract's (a field holding ``;``, ``"``, CR or LF in quotes, inner
quotes doubled; NULL an empty field, empty text ``""``), except that it quotes a lone ``\\.`` (such a
column takes the exact path) and ends records with LF (made CR LF outside quoted fields,
``rendering.crlf``). Each expression gives the text ``extractor.values`` writes:

- integers: their text; ``numeric``: its text (every digit, the declared scale's zeros) with the
  decimal comma; NaN and ±Infinity do not fit (the exact path archives the column as text);
- ``real`` and ``double precision`` (PostgreSQL 12 or later, ``extra_float_digits = 3``: the
  shortest digits that read back, as ``values.float_digits`` gives): that text read as ``numeric``
  for plain notation (``1e+20`` -> ``100000000000000000000``); ``-0`` keeps its sign; NaN,
  ±Infinity and numbers past Arkade's largest do not fit;
- ``date``, ``timestamp``, ``timestamptz`` (DateStyle ISO): their text with ``T`` for the blank,
  an offset ``+01`` as ``+01:00``; infinity, BC, years past 9999 and offsets with seconds do not fit;
- ``time``: its text (``24:00:00`` does not fit);
- ``boolean``: ``J``/``N``; ``varchar``/``text``: the value; ``char(n)``: without trailing blanks;
- the surrogate key: ``ROW_NUMBER()`` in the extract's order.

Any other type (``money``, ``interval``, ``json``, ``uuid``, enums, domains, arrays, ``bytea``,
large objects), a pointer column, a database not in UTF8 or a server before 12 takes the exact path.
A character the table's charset cannot hold makes the COPY's ``ENCODING`` stop with an error (never
a wrong byte); the COPY runs inside a savepoint, so the run's transaction and snapshot survive it,
and the table is written again by the exact path, where the charset policy applies (mapping, UTF-8
fallback, or a refusal naming table, column and row key).

Fixed width: the whole record is one expression (each field padded to the width the statistics
give, NULL all blanks) read as one CSV field whose delimiter and quote are the control characters 1
and 2; a table with a text holding CR, LF or those takes the exact path, as does one whose records
are two characters long (one could be ``\\.``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from extractor.errors import RenderingRefused, SourceError
from extractor.model import RenderedStatistics, RenderField, RenderRequest, Table
from extractor.values import ARKADE_DECIMAL_MAX, SINGLE

from .base import _short
from .rendering import (
    CHUNK,
    NONCONFORMING,
    PYTHON_WHITESPACE,
    Counted,
    Counting,
    Rendered,
    Rendering,
    ServerRendering,
    crlf,
    literal,
    padded,
)

_INTEGERS = {"SMALLINT", "INTEGER", "BIGINT"}
_TEXTS = ("VARCHAR", "TEXT", "CHARACTER VARYING")
_CHARS = ("CHAR(", "CHARACTER(", "CHAR", "BPCHAR")
_ENCODINGS = {"ISO-8859-1": "LATIN1", "UTF-8": "UTF8"}
_NOT_FINITE = "IN ('NaN', 'Infinity', '-Infinity')"
_CODES = ", ".join(map(str, PYTHON_WHITESPACE))


class PgRendering(Rendering):
    def binary(self, x: str) -> str:
        return f'({x}) COLLATE "C"'

    def octets(self, x: str) -> str:
        return f"octet_length({x})"  # from the value's header; char_length walks a UTF-8 text

    def edge_blank(self, x: str, n: str) -> str:
        return f"octet_length({x}) > 0 AND (ascii({x}) IN ({_CODES}) OR ascii(right({x}, 1)) IN ({_CODES}))"

    def extra_text_refusals(self, x: str, n: str, request: RenderRequest) -> list[tuple[str, str]]:
        if request.fixed:  # the record is one CSV field: these would be quoted
            return [(f"strpos({x}, chr(10)) > 0 OR strpos({x}, chr(13)) > 0 OR strpos({x}, chr(1)) > 0 "
                     f"OR strpos({x}, chr(2)) > 0", "!values holding CR, LF or the control characters 1 and 2")]
        return [(f"octet_length({x}) = 2 AND {self.binary(x)} = '\\.'",
                 "!values that are a lone \\. (PostgreSQL's CSV quotes them)")]

    def column(self, table: Table, f: RenderField, request: RenderRequest, c: str) -> Rendered:
        """The field's text, and its statistics from the typed values where that is exact and cheaper
        (a number's longest text is its largest or smallest value's; a date's is ten characters)."""
        col = table.column(f.column or "")
        native = col.native_type.upper()
        sep = literal(request.decimal_separator)
        kind = f.kind
        codes = self.code_terms
        if col.array is not None or f.column in table.large_objects:
            return Rendered(refusal=f"{native} is read by the exact path")
        if kind == "integer" and native in _INTEGERS:
            return Rendered(f"{c}::text", (("max_length", f"greatest(char_length(max({c})::text), "
                                                          f"char_length(min({c})::text))"),
                                           *codes(f"{c}::text", f)))
        if kind == "decimal" and (native == "NUMERIC" or native.startswith(("NUMERIC(", "DECIMAL"))):
            text = f"replace({c}::text, '.', {sep})"
            scaled = "," in native  # a declared scale: every value has its digits, the longest is the largest or smallest
            longest = (f"greatest(char_length(max({c})::text), char_length(min({c})::text))" if scaled
                       else f"max(char_length({c}::text))")
            return Rendered(text, (("max_length", longest),
                                   (NONCONFORMING, f"max({c})::text {_NOT_FINITE} OR min({c})::text {_NOT_FINITE}"),
                                   *codes(text, f)))
        if kind == "float" and native in ("REAL", "DOUBLE PRECISION", "FLOAT") and f.scale is None:
            if native == "REAL" and col.float_bits != SINGLE:
                return Rendered(refusal="a real not marked single precision")
            text = (f"CASE WHEN {c} IS NULL THEN NULL WHEN {c}::text {_NOT_FINITE} THEN {c}::text WHEN {c} = 0 THEN "
                    f"CASE WHEN {c}::text LIKE '-%' THEN '-0' ELSE '0' END ELSE replace({c}::text::numeric::text, '.', "
                    f"{sep}) END")
            past = f"{c}::text NOT {_NOT_FINITE} AND abs({c}::text::numeric) > {ARKADE_DECIMAL_MAX}"
            beyond = f"{self.count_if(f'{c}::text {_NOT_FINITE}')} + {self.count_if(past)}"
            return Rendered(text, (("max_length", f"max(char_length({text}))"), (NONCONFORMING, beyond),
                                   *codes(text, f)))
        if kind == "date" and native == "DATE":  # infinity, BC dates and years past 9999 lie outside
            return Rendered(f"{c}::text", (("max_length", f"CASE WHEN count({c}) > 0 THEN 10 END"),
                                           (NONCONFORMING, f"min({c}) < '0001-01-01' OR max({c}) > '9999-12-31'"),
                                           *codes(f"{c}::text", f)))
        if kind == "timestamp" and native.startswith("TIMESTAMP") and native.endswith("WITHOUT TIME ZONE"):
            text = f"replace({c}::text, ' ', 'T')"
            return Rendered(text, (("max_length", f"max(char_length({c}::text))"),
                                   (NONCONFORMING, f"min({c}) < '0001-01-01' OR max({c}) >= '10000-01-01'"),
                                   *codes(text, f)), fraction_above=19)
        if kind == "timestamp" and native.startswith("TIMESTAMP") and native.endswith("WITH TIME ZONE"):
            text = (f"replace({c}::text, ' ', 'T') || CASE WHEN {c}::text ~ '[+-][0-9]{{2}}$' THEN ':00' ELSE '' END")
            bad = (f"substr({c}::text, 5, 1) <> '-' OR {c}::text LIKE '% BC' "
                   f"OR {c}::text ~ '[+-][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}$'")
            return Rendered(text, (("max_length", f"max(char_length({text}))"), (NONCONFORMING, self.count_if(bad)),
                                   *codes(text, f)), fraction_above=25)
        if kind == "time" and native.startswith("TIME") and native.endswith("WITHOUT TIME ZONE"):
            return Rendered(f"{c}::text", (("max_length", f"max(char_length({c}::text))"),
                                           (NONCONFORMING, f"max({c}) >= '24:00:00'"), *codes(f"{c}::text", f)),
                            fraction_above=8)
        if kind == "boolean" and native == "BOOLEAN":
            text = (f"CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN {literal(request.true_text)} "
                    f"ELSE {literal(request.false_text)} END")
            return Rendered(text, (("max_length", f"max(char_length({text}))"), *codes(text, f)))
        if kind == "string" and native.startswith(_TEXTS):
            return Rendered(f"{c}::text", self.text_terms(f"{c}::text", f, request))
        if kind == "char" and native.startswith(_CHARS):
            text = f"rtrim({c}::text, ' ')"
            return Rendered(text, self.text_terms(text, f, request))
        return Rendered(refusal=f"{native} as {kind} is rendered by the exact path")


_RENDERING = PgRendering()


class PgServerRendering(ServerRendering):
    """The PostgreSQL adapter's fast-path methods (``extractor.source_dialect.SourceDialect``)."""

    rendering = _RENDERING

    label: str
    engine: Any
    _snapshot_id: str | None
    _rendering_ready: str | None = None
    _beside: _Beside | None = None
    beside_refused = ""
    """Why the statistics are counted on the reading connection (a second one could not be opened)."""

    def _rendering_refusal(self) -> str:
        """Why this server cannot render at all ("" when it can): PostgreSQL 12+ in UTF8."""
        if self._rendering_ready is None:
            with self._connection() as conn:  # type: ignore[attr-defined]
                version, encoding = conn.exec_driver_sql(
                    "SELECT current_setting('server_version_num')::int, current_setting('server_encoding')").one()
            self._rendering_ready = ("" if version >= 120000 and encoding == "UTF8" else
                                     f"the server is PostgreSQL {version} with encoding {encoding} (the fast path "
                                     "needs 12 or later, UTF8)")
        return self._rendering_ready

    def server_rendering(self, table: Table, request: RenderRequest) -> dict[str, str]:
        why = self._rendering_refusal()
        if why:
            return {"": why}
        return super().server_rendering(table, request)

    def _expressions(self, table: Table, request: RenderRequest) -> list[str]:
        out = []
        for f in request.fields:
            if f.column is None:
                number = self.sql_text(self.record_number(table, request.order_by))  # type: ignore[attr-defined]
                text = f"({number})::text"
            else:
                text = _RENDERING.field_text(table, f, request, self._column_sql(table, f.column))
                if f.length_of:
                    text = f"char_length({text})::text"
            if request.fixed:
                text = padded(text, f, f"char_length({text})", literal(" " * (f.width or 1)))
            out.append(text)
        return [" || ".join(out)] if request.fixed else out

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        sql, readers = self._statistics_query(table, request)
        try:
            with self._connection() as conn:  # type: ignore[attr-defined]
                with conn.connection.driver_connection.cursor() as cur:
                    cur.execute(sql)
                    row = cur.fetchone()
        except Exception as exc:  # noqa: BLE001 - psycopg's and SQLAlchemy's errors alike
            raise SourceError(f"{self.label}: the statistics of table {table.name} failed: {_short(exc)}") from None
        return _RENDERING.read_statistics(row, readers)

    def rendered_statistics_beside(self, table: Table, request: RenderRequest) -> Counted | Counting:
        """The statistics counted on a second connection in the run's snapshot while this one reads
        the file: the server then works on both at once, and the table costs one pass of wall time,
        not two. Outside a shared snapshot (no run) they are counted now."""
        if self._snapshot_id is None or self.beside_refused:
            return Counted(self.rendered_statistics(table, request))
        if self._beside is None:
            try:
                self._beside = _Beside(self, self._snapshot_id)
            except sa.exc.SQLAlchemyError as exc:  # a connection limit, say: count on this connection instead
                self.beside_refused = _short(exc)
                return Counted(self.rendered_statistics(table, request))
        sql, readers = self._statistics_query(table, request)
        return self._beside.count(table.name, sql, lambda row: _RENDERING.read_statistics(row, readers))

    def close_beside(self) -> None:
        """End the second connection (when the run's snapshot ends)."""
        beside, self._beside = self._beside, None
        if beside is not None:
            beside.close()

    def rendered_records(self, table: Table, request: RenderRequest) -> Iterator[tuple[bytes, int]]:
        """The table file's bytes in chunks of whole records (and the number of records in each)."""
        # each field labelled apart: an output column named like a source column (``id::text`` is
        # called ``id``) would be what ORDER BY id sorts, as text
        query: Any = sa.select(*[sa.literal_column(e).label(f"ux_field{i}")
                                 for i, e in enumerate(self._expressions(table, request))]).select_from(
            self._selectable(table))  # type: ignore[attr-defined]
        keys = [k for name in request.order_by for k in self.order_keys(table, name)]  # type: ignore[attr-defined]
        sql = self.sql_text(query.order_by(*keys) if keys else query)  # type: ignore[attr-defined]
        encoding = _ENCODINGS[request.charset]
        if not request.fixed:
            copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER ';', ENCODING '{encoding}')"
            yield from crlf(self._copy_chunks(table, copy_sql))
            return
        if sum(f.width or 1 for f in request.fields) == 2:  # a record could be \. , which COPY quotes
            raise RenderingRefused("records of two characters are written by the exact path")
        # one field per record, with a delimiter and a quote no value holds (the statistics made sure)
        copy_sql = (f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02', "
                    f"ENCODING '{encoding}')")
        for data, n in self._copy_chunks(table, copy_sql):
            yield data.replace(b"\n", b"\r\n"), n

    def _copy_chunks(self, table: Table, sql: str) -> Iterator[tuple[bytes, int]]:
        """COPY's rows straight from libpq (``PGconn.get_copy_data``), joined into chunks: psycopg's
        own COPY reader waits on the socket in Python once per row, which costs more than the rows.
        Inside the run's transaction a savepoint keeps it (and its snapshot) usable when the server
        stops at a character the charset cannot hold (``RenderingRefused``)."""
        from psycopg import pq

        with self._connection() as conn:  # type: ignore[attr-defined]
            raw = conn.connection.driver_connection
            with raw.lock:
                pg = raw.pgconn
                saved = pg.transaction_status == pq.TransactionStatus.INTRANS
                if saved:
                    _command(pg, b"SAVEPOINT ux_render")
                pg.send_query(sql.encode("utf-8"))
                res = pg.get_result()
                if res is None or res.status != pq.ExecStatus.COPY_OUT:
                    why = _drain(pg, res)
                    self._stopped(pg, saved, table, why)
                finished = False
                try:
                    parts: list[bytes] = []
                    size = 0
                    while True:
                        nbytes, data = pg.get_copy_data(0)
                        if nbytes < 0:
                            break
                        parts.append(data)
                        size += nbytes
                        if size >= CHUNK:
                            yield b"".join(parts), len(parts)
                            parts, size = [], 0
                    finished = True
                    why = _drain(pg, None)
                    if why:
                        self._stopped(pg, saved, table, why)
                    if saved:
                        _command(pg, b"RELEASE SAVEPOINT ux_render")
                    if parts:
                        yield b"".join(parts), len(parts)
                finally:
                    if not finished:  # the reader stopped early: end the COPY before the connection is used again
                        raw.cancel()
                        while pg.get_copy_data(0)[0] >= 0:
                            pass
                        _drain(pg, None)
                        if saved:
                            _command(pg, b"ROLLBACK TO SAVEPOINT ux_render")

    def _stopped(self, pg: Any, saved: bool, table: Table, why: str) -> None:
        if saved:
            _command(pg, b"ROLLBACK TO SAVEPOINT ux_render")
        if "has no equivalent in encoding" in why:
            raise RenderingRefused(f"the server met a character the charset cannot hold ({why})")
        raise SourceError(f"{self.label}: reading table {table.name} failed: {why}")


class _Beside:
    """A second connection that imports the run's snapshot and counts one table's statistics at a
    time in a thread, while the first streams the table's COPY. Like the first, it ends its reading
    transaction and begins another in the same snapshot every ``max_locks_per_transaction`` / 8
    statements, so the locks it holds stay few; after a stopped or failed count it begins afresh."""

    def __init__(self, dialect: Any, snapshot_id: str) -> None:
        """Open the connection in the snapshot now, so that a server that refuses it (a connection
        limit) is known before any count is wanted of it."""
        self._dialect, self._snapshot_id = dialect, snapshot_id
        self._statements = 0
        self._per_transaction = 1
        self._lock = threading.Lock()
        self._conn: Any = dialect.engine.connect()
        try:
            dialect.begin_snapshot(self._conn)
            dialect.join_snapshot(self._conn, snapshot_id)
            self._per_transaction = dialect.statements_per_transaction(self._conn)
        except BaseException:
            self._conn.invalidate()
            raise
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uttrekk-statistics")

    def count(self, name: str, sql: str, read: Callable[[Any], RenderedStatistics]) -> Counting:
        return Counting(self._pool.submit(self._count, name, sql, read), self._stop)

    def _count(self, name: str, sql: str, read: Callable[[Any], RenderedStatistics]) -> RenderedStatistics:
        d = self._dialect
        try:
            with self._lock:
                self._begin()
            with self._conn.connection.driver_connection.cursor() as cur:
                cur.execute(sql)
                row = cur.fetchone()
            self._statements += 1
        except Exception as exc:  # noqa: BLE001 - psycopg's and SQLAlchemy's errors alike
            self._statements = self._per_transaction  # begin afresh: the transaction may be aborted
            raise SourceError(f"{d.label}: the statistics of table {name} failed: {_short(exc)}") from None
        return read(row)

    def _begin(self) -> None:
        """Begin the next reading transaction in the snapshot when due."""
        if self._statements >= self._per_transaction:
            self._dialect.read_on(self._conn, self._snapshot_id)
            self._statements = 0

    def _stop(self) -> None:
        """Cancel the statement running on the connection (psycopg's ``cancel`` is for another thread)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.connection.driver_connection.cancel()
                except Exception:  # noqa: BLE001 - nothing running, or the connection is gone
                    pass

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._conn is not None:
            try:
                self._conn.rollback()
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                self._conn.invalidate()
            self._conn = None


def _command(pg: Any, sql: bytes) -> None:
    pg.send_query(sql)
    why = _drain(pg, None)
    if why:
        raise SourceError(f"{sql.decode()} failed: {why}")


def _drain(pg: Any, res: Any) -> str:
    """Read the results left on the connection; the first error message, or ""."""
    from psycopg import pq

    why = ""
    while True:
        if res is None:
            res = pg.get_result()
            if res is None:
                return why
        if res.status == pq.ExecStatus.FATAL_ERROR and not why:
            primary = res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or res.error_message or b"error"
            why = primary.decode("utf-8", "replace").strip().splitlines()[0]
        res = None

