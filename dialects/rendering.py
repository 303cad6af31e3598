"""The fast path's SQL: the server renders each value into its archival text, the client moves bytes.

An engine adapter that can render says, per column, the SQL expression that gives exactly the text
``extractor.values`` would write (``Rendering.column``) and the condition under which a value would
not fit its archive kind (the exact path archives such a column as text and reports it). From
these, this module builds the one aggregate query per table that gives the statistics the scan
counts value by value (values, NULLs, empty texts, the longest text, texts over the long-text limit,
blanks at an edge, fraction digits, values outside a code list, characters the charset cannot hold),
and the reasons a column must take the exact path instead. A column is either rendered here, byte for
byte as the exact path writes it, or the table takes the exact path: nothing is rendered twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from extractor.errors import RenderingRefused, SourceError
from extractor.model import RenderedColumn, RenderedStatistics, RenderField, RenderRequest, Table

PYTHON_WHITESPACE = (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198,
                     8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)
"""The code points ``str.isspace`` is true for (in this Python's Unicode database; a test checks it): a text
starting or ending with one is "edge blank"."""

CHUNK = 256 * 1024
"""Bytes handed to the writer at a time."""


@dataclass(frozen=True)
class Rendered:
    """One field's SQL: its archival text (NULL exactly when the value is NULL), and the aggregate
    terms that give its statistics: ``(name, SQL)`` with name ``max_length``, ``empties``,
    ``edge_blank``, ``fraction``, or ``!why`` for a count (or truth) of values that send the column to
    the exact path (``!~why``: a truth that is not a count). ``fraction_above``: the field has fraction
    digits when its longest text is longer than this. ``refusal``: the engine cannot render the column
    identically at all."""

    text: str = ""
    terms: tuple[tuple[str, str], ...] = ()
    fraction_above: int | None = None
    refusal: str = ""


NONCONFORMING = "!values that do not fit the column's type (archived as text by the exact path)"
LONG = "!texts over the long-text limit (files under lob/)"
OUTSIDE_CODES = "!values outside the code list"


class Rendering:
    """The SQL of one engine's server rendering; adapters subclass it (``pg_rendering``, ``sqlite_rendering``)."""

    def length(self, x: str) -> str:
        return f"char_length({x})"

    def octets(self, x: str) -> str:
        """A length that is 0 exactly when ``length`` is and never less than it: an engine whose
        text knows its size in bytes tests that first and counts characters only when needed."""
        return self.length(x)

    def binary(self, x: str) -> str:
        """``x`` compared character by character, whatever the column's collation."""
        return x

    def count_if(self, cond: str) -> str:
        return f"count(*) FILTER (WHERE {cond})"

    def any_of(self, cond: str) -> str:
        return f"bool_or({cond})"

    def edge_blank(self, x: str, n: str) -> str:
        """``x`` (of length ``n``) starts or ends with a character ``str.isspace`` is true for."""
        codes = ", ".join(map(str, PYTHON_WHITESPACE))
        return f"{n} > 0 AND (ascii({x}) IN ({codes}) OR ascii(substr({x}, {n}, 1)) IN ({codes}))"

    def extra_text_refusals(self, x: str, n: str, request: RenderRequest) -> list[tuple[str, str]]:
        """(condition, reason) pairs that send a text column to the exact path although every value fits."""
        return []

    def column(self, table: Table, f: RenderField, request: RenderRequest, quoted: str) -> Rendered:
        raise NotImplementedError

    def refusals(self, table: Table, request: RenderRequest, quote: Any) -> dict[str, str]:
        """Why each column the server cannot render goes to the exact path (``server_rendering``):
        a table with pointer columns (read through a join) as a whole, else the columns refused."""
        if table.lookups:
            return {lk.column: "a pointer column, read through a join" for lk in table.lookups}
        out = {}
        for f in request.fields:
            if f.column is not None:
                r = self.column(table, f, request, quote(f.column))
                if r.refusal:
                    out[f.column] = r.refusal
        return out

    def field_text(self, table: Table, f: RenderField, request: RenderRequest, quoted: str) -> str:
        """The archival text of a column's field; a length field (``length_of``) takes its column's text."""
        main = next(m for m in request.fields if m.column == f.column and not m.length_of)
        return self.column(table, main, request, quoted).text

    def text_terms(self, x: str, f: RenderField, request: RenderRequest) -> tuple[tuple[str, str], ...]:
        """The statistics of a text field whose archival text is ``x``: what the exact path counts
        (empty texts, the longest within the limit, blanks at an edge), and what sends it there
        (texts over the limit, values outside the code list, the engine's own cases)."""
        n, size = self.length(x), self.octets(x)
        limit = request.long_text_limit
        # the longest of all texts: one over the limit sends the table to the exact path, which counts again
        terms = [("empties", self.count_if(f"{size} = 0")), ("max_length", f"max({n})"),
                 ("edge_blank", self.any_of(self.edge_blank(x, n)))]
        terms.append(self.long_term(n, size, limit))
        terms += [(why, self.count_if(cond)) for cond, why in self.extra_text_refusals(x, n, request)]
        return (*terms, *self.code_terms(x, f))

    def long_term(self, n: str, size: str, limit: int) -> tuple[str, str]:
        """The term that sends a text column with a text over the long-text limit to the exact path
        (``n`` a text's length, ``size`` a cheaper bound of it): how many there are."""
        over = f"{n} > {limit}" if size == n else f"{size} > {limit} AND {n} > {limit}"
        return LONG, self.count_if(over)

    def code_terms(self, x: str, f: RenderField) -> tuple[tuple[str, str], ...]:
        if f.codes is None:
            return ()
        if not f.codes:
            return ((OUTSIDE_CODES, f"count({x})"),)
        listed = ", ".join(_literal(c) for c in f.codes)
        return ((OUTSIDE_CODES, self.count_if(f"{self.binary(x)} NOT IN ({listed})")),)

    # -- the statistics query --------------------------------------------------------------------

    def statistics_sql(self, table: Table, request: RenderRequest, quote: Any, source: str) -> tuple[str, list[Any]]:
        """The one aggregate query over ``source`` (the table's rows), and how to read its row."""
        terms = ["count(*)"]
        readers: list[Any] = []
        for f in request.fields:
            if f.column is None or f.length_of:
                continue
            c = quote(f.column)
            r = self.column(table, f, request, c)
            if r.refusal:
                readers.append((f, r, []))
                continue
            names = ["values", *(name for name, _ in r.terms)]
            terms += [f"count({c})", *(sql for _, sql in r.terms)]
            readers.append((f, r, names))
        return f"SELECT {', '.join(terms)} FROM {self.statistics_source(source)} AS ux_s", readers

    def statistics_source(self, source: str) -> str:
        """``source`` in the statistics query's FROM (an engine that would copy a derived table first
        takes the table's name as it is)."""
        return f"({source})"

    def read_statistics(self, row: Sequence[Any], readers: list[Any]) -> RenderedStatistics:
        """The statistics from the aggregate's row; a column with values for the exact path has
        ``refusal`` set, saying how many and why."""
        rows = int(row[0])
        out: dict[str, RenderedColumn] = {}
        i = 1
        for f, r, names in readers:
            col = RenderedColumn(refusal=r.refusal)
            reasons = []
            for name in names:
                value = row[i]
                i += 1
                if name.startswith("!~"):  # a truth, no count to show
                    if value:
                        reasons.append(name[2:])
                elif name.startswith("!"):
                    if value:
                        reasons.append(name[1:] if value is True else f"{int(value)} {name[1:]}")
                elif name in ("edge_blank", "fraction"):
                    setattr(col, name, bool(value))
                else:
                    setattr(col, name, int(value or 0))
            if r.fraction_above is not None:
                col.fraction = col.max_length > r.fraction_above
            if reasons:
                col.refusal = "; ".join(reasons)
            out[f.column] = col
        return RenderedStatistics(rows, out)


class Counted:
    """Statistics counted before the file is read (``SourceDialect.rendered_statistics_beside``)."""

    def __init__(self, stats: RenderedStatistics) -> None:
        self._stats = stats

    def done(self) -> bool:
        return True

    def result(self) -> RenderedStatistics:
        return self._stats

    def abandon(self) -> None:
        pass


class Counting:
    """Statistics being counted on another connection, in a thread of this process (the driver
    waits for the server without the interpreter's lock): ``stop`` cancels the count's statement."""

    def __init__(self, future: Future[RenderedStatistics], stop: Callable[[], None]) -> None:
        self._future, self._stop = future, stop

    def done(self) -> bool:
        return self._future.done()

    def result(self) -> RenderedStatistics:
        return self._future.result()

    def abandon(self) -> None:
        if not self._future.done():
            try:
                self._stop()
            except Exception:  # noqa: BLE001 - the count ended (and closed its connection) meanwhile
                pass
        try:
            self._future.result()
        except Exception:  # noqa: BLE001 - the count was stopped or failed: it is not wanted
            pass


class SoleReaderSide:
    """For a source no other session writes to (uttrekk's own restored copy): a second connection
    with a snapshot of its own reads the same rows as the run's, so the statistics are counted there,
    in a thread, while the run's connection reads the records (for engines that cannot share one
    snapshot between connections). Mixed into the adapter before ``Dialect``; the side connection
    ends with the run's snapshot."""

    sole_reader = False
    """True where the data sit in uttrekk's own copy, which no other session writes to."""
    engine: Any
    _conn: Any
    _side: Any = None
    _counter: ThreadPoolExecutor | None = None

    def snapshot_ended(self) -> None:
        self._close_side()

    _side_stopped = False

    def _counts_beside(self, table: Table) -> bool:
        """Only a table's own rows: a view's or a query's could differ between sessions (a value from
        the session itself, such as its connection number), and the statistics must be the records'."""
        return self.sole_reader and self._conn is not None and not table.view and table.query is None

    def _side_count(self, count: Callable[[Any], RenderedStatistics], stop: Callable[[Any], None]) -> Counting:
        """``count(driver connection)`` on the side connection (opened at the first table, in the
        engine's read-only snapshot), in the thread; ``stop(driver connection)`` ends it early. A stop
        may reach the connection just after its statement ended, where an engine keeps it for the next
        one (Firebird's pending cancel): the next table's count gets a fresh connection."""
        if self._side_stopped:
            self._close_side()  # the stopped count has ended: ``Counting.abandon`` waited for it
        if self._side is None:
            side = self.engine.connect()
            self.begin_snapshot(side)  # type: ignore[attr-defined]
            self._side, self._counter = side, ThreadPoolExecutor(max_workers=1, thread_name_prefix="uttrekk-statistics")
            self._side_stopped = False
        assert self._counter is not None
        raw = self._side.connection.driver_connection
        state = {"running": False, "stopped": False}
        lock = threading.Lock()

        def counted() -> RenderedStatistics:
            with lock:
                if state["stopped"]:  # stopped before it began (an engine has nothing to cancel then)
                    raise SourceError("the statistics were stopped before they began")
                state["running"] = True
            try:
                return count(raw)
            finally:
                with lock:
                    state["running"] = False

        def stopped() -> None:
            """Until the count ends: a statement that has not reached the engine yet has nothing to
            cancel (Firebird says so), so a refused stop is tried again."""
            with lock:
                state["stopped"] = True
                self._side_stopped = True
                running = state["running"]
            while running:
                try:
                    stop(raw)
                    return
                except Exception:  # noqa: BLE001 - the driver's "nothing to cancel", or the count just ended
                    time.sleep(0.01)
                with lock:
                    running = state["running"]

        return Counting(self._counter.submit(counted), stopped)

    def _close_side(self) -> None:
        side, counter, self._side, self._counter = self._side, self._counter, None, None
        if counter is not None:
            counter.shutdown(wait=True, cancel_futures=True)
        if side is not None:
            try:
                side.rollback()
                side.close()
            except sa.exc.SQLAlchemyError:
                side.invalidate()


CODECS = {"ISO-8859-1": "latin-1", "UTF-8": "utf-8"}
"""The Python codec of each output charset."""


def encoded(records: list[str], codec: str) -> bytes:
    """Records joined with CR LF (one after each) in ``codec``; a character it cannot hold is
    ``RenderingRefused`` (the exact path then applies the charset policy)."""
    return _encode("\r\n".join(records) + "\r\n", codec)


def _encode(text: str, codec: str) -> bytes:
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        raise RenderingRefused(f"a value holds {exc.object[exc.start]!r} (U+{ord(exc.object[exc.start]):04X}), "
                               "which the charset cannot hold") from None


def record_chunks(batches: Iterable[Sequence[Sequence[str]]], charset: str) -> Iterator[tuple[bytes, int]]:
    """Rows of one text each (the whole record), fetched in batches, as chunks of about ``CHUNK``
    bytes of encoded records with their count."""
    codec = CODECS[charset]
    return _chunks(batches, lambda parts: encoded(parts, codec))


def utf8_record_chunks(batches: Iterable[Sequence[Sequence[bytes]]], charset: str) -> Iterator[tuple[bytes, int]]:
    """``record_chunks`` for records fetched as their UTF-8 bytes (no text object a row): each chunk
    is decoded once, which also proves it UTF-8 (SQLite does not: bytes that are not are
    ``RenderingRefused``, for the exact path to report), and encoded in the charset."""
    codec = CODECS[charset]

    def chunk(parts: list[bytes]) -> bytes:
        data = b"\r\n".join(parts) + b"\r\n"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RenderingRefused(f"a value holds bytes that are not UTF-8 ({data[exc.start:exc.end]!r})") from None
        return data if codec == "utf-8" else _encode(text, codec)

    return _chunks(batches, chunk)


def _chunks(batches: Iterable[Sequence[Sequence[Any]]], join: Callable[[list[Any]], bytes]) -> Iterator[tuple[bytes, int]]:
    """Each row's one value gathered until about ``CHUNK`` bytes, then ``join``ed, with the count."""
    parts: list[Any] = []
    for rows in batches:
        parts.extend(r[0] for r in rows)
        if len(parts) * 64 >= CHUNK:
            yield join(parts), len(parts)
            parts = []
    if parts:
        yield join(parts), len(parts)


class ServerRendering:
    """What the adapters' fast-path methods share (``pg_rendering``, ``sqlite_rendering``): the refusals
    and the statistics query, by the engine's ``Rendering``; mixed into the adapter before ``Dialect``."""

    rendering: ClassVar[Rendering]

    def server_rendering(self, table: Table, request: RenderRequest) -> dict[str, str]:
        return self.rendering.refusals(table, request, self._quote)  # type: ignore[attr-defined]

    def _column_sql(self, table: Table, name: str) -> str:
        return self._quote(self.reflected_name(table, name))  # type: ignore[attr-defined]

    def _record_fields(self, table: Table, request: RenderRequest, rendering: Rendering,
                       as_text: Callable[[str], str]) -> list[tuple[str, str, RenderField]]:
        """Each field's archival text and kind, for a record built in one expression: the surrogate
        key's number and a length field's length as ``as_text`` makes a number text."""
        out = []
        for f in request.fields:
            if f.column is None:
                number = self.sql_text(self.record_number(table, request.order_by))  # type: ignore[attr-defined]
                out.append((as_text(number), "integer", f))
                continue
            text = rendering.field_text(table, f, request, self._column_sql(table, f.column))
            out.append((as_text(rendering.length(text)), "integer", f) if f.length_of else (text, f.kind, f))
        return out

    def _one_text_query(self, table: Table, request: RenderRequest, record: str) -> str:
        """The query giving each row as the one text ``record``, in the extract's order (labelled apart:
        an output column named like a source column would be what ORDER BY sorts)."""
        query: Any = sa.select(sa.literal_column(record).label("ux_record")).select_from(
            self._selectable(table))  # type: ignore[attr-defined]
        keys = [k for name in request.order_by for k in self.order_keys(table, name)]  # type: ignore[attr-defined]
        return self.sql_text(query.order_by(*keys) if keys else query)  # type: ignore[attr-defined,no-any-return]

    def _statistics_query(self, table: Table, request: RenderRequest) -> tuple[str, list[Any]]:
        """The one aggregate query over the table's rows, and how to read its row (``Rendering.read_statistics``)."""
        source = self.sql_text(sa.select(sa.literal_column("*")).select_from(self._selectable(table)))  # type: ignore[attr-defined]
        return self.rendering.statistics_sql(table, request, lambda n: self._column_sql(table, n), source)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def literal(text: str) -> str:
    """A SQL string literal (standard quoting: a quote doubled)."""
    return _literal(text)


def padded(text: str, f: RenderField, length: str, blanks: str) -> str:
    """A fixed-width field: ``text`` padded to the field's width (``length`` its length, ``blanks``
    an expression of ``width`` blanks), all blanks when NULL. The widths come from the statistics,
    so no text is longer than its field."""
    w = f.width or 1
    if f.right:
        return f"coalesce(substr({blanks}, 1, {w} - {length}) || {text}, {blanks})"
    return f"coalesce({text} || substr({blanks}, 1, {w} - {length}), {blanks})"


def crlf(chunks: Iterable[tuple[bytes, int]]) -> Iterator[tuple[bytes, int]]:
    """Records ending in LF (PostgreSQL's CSV) as records ending in CR LF; a LF inside a quoted
    field is part of the value and stays. Each chunk holds whole records, so quotes balance in it."""
    for data, n in chunks:
        if data.count(b"\n") == n:  # every LF ends a record (none inside a value): no need to find the quotes
            yield data.replace(b"\n", b"\r\n"), n
            continue
        parts = data.split(b'"')
        for k in range(0, len(parts), 2):  # outside quotes: the even parts
            parts[k] = parts[k].replace(b"\n", b"\r\n")
        yield b'"'.join(parts), n
