"""SQLite's fast path: one expression per row builds the whole delimited record (each field's archival
text, quoted where it holds ``;``, ``"``, CR or LF, NULL empty, empty text ``""``); the client joins
the records with CR LF and encodes them.

SQLite stores any value in any column, so every expression holds only for the storage class the
exact path would accept, and the statistics query counts the rest, which sends the column's table
to the exact path (a text in an INTEGER column, a REAL where its digits cannot be given exactly):

- integers: their text (storage class integer);
- DECIMAL/NUMERIC with a declared scale: an integer with the scale's zeros; a REAL below 10^13 as
  ``printf('%.Nf')`` when that text reads back as the same REAL (then it is the shortest decimal's
  digits, which the exact path pads to the scale); a zero REAL, a larger one, or one without a scale
  take the exact path (Python's ``repr`` digits);
- dates ``YYYY-MM-DD`` and timestamps ``YYYY-MM-DD[ T]HH:MM:SS[.fff…]`` that SQLite's own ``date()``
  and ``datetime()`` give back unchanged through a ``'+0 days'`` modifier (without one, SQLite keeps
  ``2024-02-30``), so the day and time exist, from year 1; fraction digits without
  trailing zeros, at most seven;
- booleans 0/1 as ``J``/``N``; texts as they are (CHAR without trailing blanks), none holding NUL.

A character the table's charset cannot hold stops the encoding (``RenderingRefused``): the table
is then written by the exact path, where the charset policy applies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from extractor.errors import RenderingRefused, SourceError
from extractor.model import RenderedStatistics, RenderField, RenderRequest, Table

from .rendering import (
    NONCONFORMING,
    PYTHON_WHITESPACE,
    Counted,
    Counting,
    Rendered,
    Rendering,
    ServerRendering,
    literal,
    padded,
    record_chunks,
)

_CODES = ", ".join(map(str, PYTHON_WHITESPACE))
FETCH = 5000


class SqliteRendering(Rendering):
    def length(self, x: str) -> str:
        return f"length({x})"

    def binary(self, x: str) -> str:
        return f"({x}) COLLATE BINARY"

    def any_of(self, cond: str) -> str:
        return f"max(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    def edge_blank(self, x: str, n: str) -> str:
        """Trimming the blanks changes the text exactly when it starts or ends with one (the set is a
        constant SQLite computes once; ``unicode``/``substr(x, -1)`` per value cost more)."""
        return f"trim({x}, char({_CODES})) IS NOT {x}"

    def extra_text_refusals(self, x: str, n: str, request: RenderRequest) -> list[tuple[str, str]]:
        return [(f"instr({x}, char(0)) > 0", "!values holding NUL characters (reported by the exact path)")]

    def column(self, table: Table, f: RenderField, request: RenderRequest, c: str) -> Rendered:
        sep = literal(request.decimal_separator)
        kind = f.kind
        codes = self.code_terms

        def typed(storage: str, text: str, *extra: tuple[str, str], length: str = "") -> Rendered:
            """``length``: the text's length as a function of a value; the longest is then the largest or
            the smallest value's (the texts grow with the magnitude), two calls instead of one a row."""
            longest = (f"max({length.format(v=f'max({c})')}, {length.format(v=f'min({c})')})" if length
                       else f"max(length({text}))")
            other = self.count_if(f"typeof({c}) NOT IN ('null', {storage})")
            return Rendered(text, (("max_length", longest),
                                   ("!values stored as another type (the exact path decides)", other),
                                   *extra, *codes(text, f)))

        integer_length = "length(CAST({v} AS TEXT))"
        if kind == "integer":
            return typed("'integer'", f"CAST({c} AS TEXT)", length=integer_length)
        if kind in ("decimal", "float") and f.scale and f.scale > 0:
            printed = f"printf('%.{f.scale}f', {c})"
            text = (f"CASE typeof({c}) WHEN 'integer' THEN CAST({c} AS TEXT) || {sep} || '{'0' * f.scale}' "
                    f"WHEN 'real' THEN replace({printed}, '.', {sep}) END")
            inexact = (f"typeof({c}) = 'real' AND ({c} = 0 OR abs({c}) >= 1e13 OR CAST({printed} AS REAL) <> {c})")
            scaled_length = (f"CASE typeof({{v}}) WHEN 'integer' THEN length(CAST({{v}} AS TEXT)) + {1 + f.scale} "
                             f"WHEN 'real' THEN length(printf('%.{f.scale}f', {{v}})) END")
            return typed("'integer', 'real'", text,
                         ("!REAL values whose digits only the exact path gives", self.count_if(inexact)),
                         length=scaled_length)
        if kind in ("decimal", "float"):
            return typed("'integer'", f"CAST({c} AS TEXT)", length=integer_length)
        if kind == "date":  # date() always gives YYYY-MM-DD: the same text back is that shape and a day that exists
            good = f"typeof({c}) = 'text' AND date({c}, '+0 days') IS {c} AND {c} >= '0001'"
            return Rendered(f"{c}", (("max_length", f"max(length({c}))"),
                                     (NONCONFORMING, self.count_if(f"{c} IS NOT NULL AND NOT ({good})")),
                                     *codes(c, f)))
        if kind == "timestamp" and not table.column(f.column or "").timezone:
            frac = f"rtrim(substr({c}, 21), '0')"
            text = (f"CASE WHEN {c} IS NULL THEN NULL ELSE substr({c}, 1, 10) || 'T' || substr({c}, 12, 8) || "
                    f"CASE WHEN {frac} <> '' THEN '.' || {frac} ELSE '' END END")
            # datetime() always gives YYYY-MM-DD HH:MM:SS: the same text back is that shape and a time
            # that exists; then a blank or T between, and nothing or a point and 1-9 digits after
            fraction = (f"length({c}) BETWEEN 21 AND 29 AND substr({c}, 20, 1) = '.' "
                        f"AND substr({c}, 21) NOT GLOB '*[^0-9]*' AND length({frac}) <= 7")
            good = (f"typeof({c}) = 'text' AND substr({c}, 11, 1) IN (' ', 'T') AND datetime(substr({c}, 1, 19), "
                    f"'+0 days') IS substr({c}, 1, 10) || ' ' || substr({c}, 12, 8) AND {c} >= '0001' "
                    f"AND (length({c}) = 19 OR ({fraction}))")
            # the text's length without building it: the fraction's trailing zeros (and a bare point) go
            longest = f"max(CASE WHEN length({c}) > 19 THEN length(rtrim(rtrim({c}, '0'), '.')) ELSE length({c}) END)"
            return Rendered(text, (("max_length", longest),
                                   ("!values in a form only the exact path reads",
                                    self.count_if(f"{c} IS NOT NULL AND NOT ({good})")),
                                   *codes(text, f)), fraction_above=19)
        if kind == "boolean":
            text = (f"CASE {c} WHEN 1 THEN {literal(request.true_text)} WHEN 0 THEN {literal(request.false_text)} END")
            bad = f"{c} IS NOT NULL AND NOT (typeof({c}) = 'integer' AND {c} IN (0, 1))"
            return Rendered(text, (("max_length", f"max(length({text}))"), (NONCONFORMING, self.count_if(bad)),
                                   *codes(text, f)))
        if kind in ("string", "char"):
            text = c if kind == "string" else f"rtrim({c}, ' ')"
            other = self.count_if(f"typeof({c}) NOT IN ('null', 'text')")
            return Rendered(text, (("!values stored as another type (the exact path decides)", other),
                                   *self.text_terms(text, f, request)))
        return Rendered(refusal=f"{kind} values are rendered by the exact path")


_RENDERING = SqliteRendering()


def _quoted(text: str, kind: str) -> str:
    """A field of the record: NULL empty; a text quoted where it must be, empty text ``""``."""
    if kind not in ("string", "char"):
        return f"coalesce({text}, '')"
    return (f"CASE WHEN {text} IS NULL THEN '' WHEN length({text}) = 0 THEN '\"\"' WHEN instr({text}, ';') > 0 "
            f"OR instr({text}, '\"') > 0 OR instr({text}, char(13)) > 0 OR instr({text}, char(10)) > 0 "
            f"THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE {text} END")


class SqliteServerRendering(ServerRendering):
    """The SQLite adapter's fast-path methods (``extractor.source_dialect.SourceDialect``)."""

    rendering = _RENDERING

    label: str
    engine: Any
    _counter: ThreadPoolExecutor | None = None

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        sql, readers = self._statistics_query(table, request)
        try:
            with self._connection() as conn:  # type: ignore[attr-defined]
                row = conn.connection.driver_connection.execute(sql).fetchone()
        except Exception as exc:  # noqa: BLE001 - sqlite3's and SQLAlchemy's errors alike
            raise SourceError(f"{self.label}: the statistics of table {table.name} failed: {exc}") from None
        return _RENDERING.read_statistics(row, readers)

    def rendered_statistics_beside(self, table: Table, request: RenderRequest) -> Counted | Counting:
        """The statistics counted by SQLite on a connection of their own (read-only, like every
        connection to the file) in a thread while this one reads the records: sqlite3 lets go of the
        interpreter's lock while SQLite works, so the two queries use two cores. SQLite keeps no
        snapshot across statements here in any case (pysqlite begins no transaction for a SELECT):
        the records' count is checked against the statistics' as it always was."""
        sql, readers = self._statistics_query(table, request)
        raw = self.engine.raw_connection()  # NullPool: a connection of its own
        conn = raw.driver_connection
        open_ = [True]
        lock = threading.Lock()  # an interrupt never meets the connection while it closes

        def count() -> RenderedStatistics:
            try:
                row = conn.execute(sql).fetchone()
            except Exception as exc:  # noqa: BLE001 - sqlite3's errors, an interrupt among them
                raise SourceError(f"{self.label}: the statistics of table {table.name} failed: {exc}") from None
            finally:
                with lock:
                    open_[0] = False
                    raw.close()
            return _RENDERING.read_statistics(row, readers)

        def stop() -> None:
            with lock:
                if open_[0]:
                    conn.interrupt()

        if self._counter is None:
            self._counter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uttrekk-statistics")
        return Counting(self._counter.submit(count), stop)

    def rendered_records(self, table: Table, request: RenderRequest) -> Iterator[tuple[bytes, int]]:
        """Each row one text, the whole record; joined with CR LF and encoded here."""
        fields = [padded(text, f, f"length({text})", literal(" " * (f.width or 1))) if request.fixed
                  else _quoted(text, kind)
                  for text, kind, f in self._record_fields(table, request, _RENDERING, lambda x: f"CAST({x} AS TEXT)")]
        sql = self._one_text_query(table, request, (" || " if request.fixed else " || ';' || ").join(fields))
        try:
            with self._connection() as conn:  # type: ignore[attr-defined]
                cur = conn.connection.driver_connection.execute(sql)
                try:
                    yield from record_chunks(iter(lambda: cur.fetchmany(FETCH), []), request.charset)
                finally:
                    cur.close()
        except RenderingRefused:
            raise
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{self.label}: reading table {table.name} failed: {exc}") from None
