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

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from extractor.errors import RenderingRefused, SourceError
from extractor.model import RenderedStatistics, RenderField, RenderRequest, Table

from .rendering import (
    LONG,
    NONCONFORMING,
    PYTHON_WHITESPACE,
    Counting,
    Rendered,
    Rendering,
    ServerRendering,
    literal,
    padded,
    utf8_record_chunks,
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
        constant SQLite computes once; ``unicode``/``substr(x, -1)`` per value cost more), compared as bytes: in
        an RTRIM collation ``'a '`` is ``'a'``."""
        return f"trim({x}, char({_CODES})) IS NOT {self.binary(x)}"

    def extra_text_refusals(self, x: str, n: str, request: RenderRequest) -> list[tuple[str, str]]:
        return [(f"instr({x}, char(0)) > 0", "!values holding NUL characters (reported by the exact path)")]

    def long_term(self, n: str, size: str, limit: int) -> tuple[str, str]:
        """From the longest text, which the statistics count anyway (SQLite computes the same aggregate
        once): no count of its own a row. The exact path counts and reports them."""
        return "!~" + LONG[1:], f"max({n}) > {limit}"

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
            good = f"typeof({c}) = 'text' AND date({c}, '+0 days') IS {self.binary(c)} AND {c} >= '0001'"
            return Rendered(f"{c}", (("max_length", f"max(length({c}))"),
                                     (NONCONFORMING, self.count_if(f"{c} IS NOT NULL AND NOT ({good})")),
                                     *codes(c, f)))
        if kind == "timestamp" and not table.column(f.column or "").timezone:
            # for the values the check below lets through: the one blank made T, and the fraction's
            # trailing zeros (and then a bare point) trimmed; fewer calls a row than cutting it apart
            text = (f"CASE WHEN length({c}) > 19 THEN rtrim(rtrim(replace({c}, ' ', 'T'), '0'), '.') "
                    f"ELSE replace({c}, ' ', 'T') END")
            # datetime() always gives YYYY-MM-DD HH:MM:SS: the same text back is that shape and a time
            # that exists; then a blank or T between, and nothing or a point and 1-9 digits after
            # at most seven digits without the trailing zeros: the eighth and ninth, if any, are zeros
            fraction = (f"length({c}) BETWEEN 21 AND 29 AND substr({c}, 20, 1) = '.' "
                        f"AND substr({c}, 21) NOT GLOB '*[^0-9]*' AND (length({c}) <= 27 OR rtrim(substr({c}, 28), '0') = '')")
            # SQLite's length() and substr() stop at a NUL character, and so does the record's printf
            good = (f"typeof({c}) = 'text' AND instr({c}, char(0)) = 0 AND substr({c}, 11, 1) IN (' ', 'T') "
                    f"AND datetime(substr({c}, 1, 19), "
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
    """A field of the record, NULL when the value is (``printf``'s ``%s`` makes it empty): a text quoted
    where it must be, an empty text ``""`` (compared as bytes: an RTRIM or NOCASE collation would
    call blanks empty)."""
    if kind not in ("string", "char"):
        return text
    return (f"CASE WHEN {text} COLLATE BINARY = '' THEN '\"\"' WHEN instr({text}, ';') OR instr({text}, '\"') "
            f"OR instr({text}, char(13)) OR instr({text}, char(10)) "
            f"THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE {text} END")


PRINTF_ARGUMENTS = 100
"""Fields per ``printf`` call (SQLite allows 127 arguments to a function by default)."""


def _record(fields: list[str], separator: str) -> str:
    """The whole record in as few calls as SQLite allows: ``printf`` with one ``%s`` a field (a NULL
    is empty), cheaper than a chain of ``||``; wide tables in groups, joined with ``||``."""
    groups = [fields[i:i + PRINTF_ARGUMENTS] for i in range(0, len(fields), PRINTF_ARGUMENTS)]
    calls = [f"printf('{separator.join(['%s'] * len(g))}', {', '.join(g)})" for g in groups]
    return f" || '{separator}' || ".join(calls) if separator else " || ".join(calls)


STATISTICS_PROCESSES = 4
"""At most this many statistics queries on one table at once, each by a counting process (each reads
the whole table again)."""


def _shares(request: RenderRequest, n: int, cost: Callable[[RenderField], int]) -> list[RenderRequest]:
    """The columns split into at most ``n`` requests of about equal ``cost``, for one statistics query
    each (the costliest first, each to the lightest share). The record's other fields stay in the first."""
    counted = [i for i, f in enumerate(request.fields) if f.column is not None and not f.length_of]
    costs = {i: cost(request.fields[i]) for i in counted}
    shares: list[list[int]] = [[] for _ in range(max(1, min(n, len(counted))))]
    weights = [0] * len(shares)
    for i in sorted(counted, key=lambda i: -costs[i]):
        k = weights.index(min(weights))
        shares[k].append(i)
        weights[k] += costs[i]
    rest = [i for i in range(len(request.fields)) if i not in costs]
    return [replace(request, fields=tuple(request.fields[i] for i in sorted(rest + share if k == 0 else share)))
            for k, share in enumerate(shares)]


class _Processes:
    """The processes that count statistics (``sqlite_counter``), one a share, started as needed and
    kept for the run; one that was stopped is killed and replaced at the next table."""

    SCRIPT = Path(__file__).with_name("sqlite_counter.py")

    def __init__(self) -> None:
        self._procs: dict[int, subprocess.Popen[str]] = {}
        self._lock = threading.Lock()

    def ready(self, k: int) -> subprocess.Popen[str]:
        with self._lock:
            proc = self._procs.get(k)
            if proc is None or proc.poll() is not None:
                proc = subprocess.Popen([sys.executable, "-I", "-S", str(self.SCRIPT), str(os.getpid())],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, encoding="utf-8", start_new_session=True, close_fds=True)
                self._procs[k] = proc
            return proc

    def ask(self, proc: subprocess.Popen[str], connection: tuple[str, tuple[str, ...]], sql: str) -> list[Any]:
        """The query's one row, from ``proc`` connected as ``connection`` says (``counting_connection``);
        ``SourceError`` when SQLite refused it or the process ended."""
        assert proc.stdin is not None and proc.stdout is not None
        uri, setup = connection
        try:
            proc.stdin.write(json.dumps({"uri": uri, "setup": list(setup), "sql": sql}) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except (OSError, ValueError):  # killed (stopped) while it was asked
            line = ""
        if not line:
            raise SourceError(f"the counting process ended (exit status {proc.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise SourceError(str(answer["error"]))
        return list(answer["row"])

    def kill(self, k: int, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            if self._procs.get(k) is proc:
                del self._procs[k]
        if proc.poll() is None:
            proc.kill()

    def close(self) -> None:
        with self._lock:
            procs, self._procs = list(self._procs.values()), {}
        for proc in procs:
            try:
                assert proc.stdin is not None
                proc.stdin.close()  # it ends at the end of its input
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()


class SqliteServerRendering(ServerRendering):
    """The SQLite adapter's fast-path methods (``extractor.source_dialect.SourceDialect``)."""

    rendering = _RENDERING

    label: str
    engine: Any
    _counter: ThreadPoolExecutor | None = None

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        return self.rendered_statistics_beside(table, request).result()

    def rendered_statistics_beside(self, table: Table, request: RenderRequest) -> Counting:
        """The statistics counted while this connection reads the records, each share of the columns
        (``_shares``) by a process of its own (``sqlite_counter``: SQLite's process-wide allocation
        lock makes queries in threads of one process wait for each other), so the queries use the
        cores there are. SQLite keeps no snapshot across statements here in any case (pysqlite begins
        no transaction for a SELECT): the shares' row counts must agree, and the records' count is
        checked against them as it always was."""

        def cost(f: RenderField) -> int:  # SQLite's time goes to the calls a row, which grow with the terms' text
            rendered = _RENDERING.column(table, f, request, self._column_sql(table, f.column or ""))
            return sum(len(sql) for _, sql in rendered.terms)

        shares = _shares(request, self._workers(), cost)
        if self._counter is None:
            self._counter = ThreadPoolExecutor(max_workers=self._workers(), thread_name_prefix="uttrekk-statistics")
        if self.counting_connection is None:  # every SQLite source sets it (``SQLite.from_path``, dBase's views)
            raise SourceError(f"{self.label}: no database file to count the statistics of table {table.name} in")
        if self._processes is None:
            self._processes = _Processes()
        counts = [self._process_share(table, share, k) for k, share in enumerate(shares)]
        futures = [self._counter.submit(count) for count, _ in counts]
        whole: Future[RenderedStatistics] = Future()
        left = [len(futures)]
        lock = threading.Lock()

        def one_done(_: Future[RenderedStatistics]) -> None:
            with lock:
                left[0] -= 1
                if left[0]:
                    return
            if any(f.cancelled() for f in futures):
                whole.set_exception(SourceError(f"{self.label}: the statistics of table {table.name} were cancelled"))
                return
            failed = next((f.exception() for f in futures if f.exception() is not None), None)
            if failed is not None:
                whole.set_exception(failed)
                return
            parts = [f.result() for f in futures]
            if len({p.rows for p in parts}) > 1:
                whole.set_exception(SourceError(
                    f"{self.label}: table {table.name} changed while its statistics were counted "
                    f"({', '.join(str(p.rows) for p in parts)} rows); extract again from a copy no one writes to"))
                return
            whole.set_result(RenderedStatistics(parts[0].rows, {k: v for p in parts for k, v in p.columns.items()}))

        for f in futures:
            f.add_done_callback(one_done)

        def stop() -> None:
            for _, interrupt in counts:
                interrupt()

        return Counting(whole, stop)

    _processes: _Processes | None = None
    counting_connection: tuple[str, tuple[str, ...]] | None = None
    """How a counting process connects as this adapter does: the file's read-only URI, and the
    statements each connection runs first (a dBase source's views)."""

    def snapshot_ended(self) -> None:
        self.close_counters()

    def close_counters(self) -> None:
        """End the statistics processes (when the run's snapshot ends, or the adapter is closed)."""
        processes, self._processes = self._processes, None
        if processes is not None:
            processes.close()

    def close(self) -> None:
        self.close_counters()
        super().close()  # type: ignore[misc]

    def _process_share(self, table: Table, request: RenderRequest,
                       k: int) -> tuple[Callable[[], RenderedStatistics], Callable[[], None]]:
        """One statistics query, by the ``k``-th counting process (started here, in the thread that
        reads the tables, which its life is tied to), and how to stop it: the process is killed, and
        the next table gets a new one."""
        assert self._processes is not None
        sql, readers = self._statistics_query(table, request)
        processes, connection = self._processes, self.counting_connection
        assert connection is not None
        proc = processes.ready(k)

        def count() -> RenderedStatistics:
            try:
                row = processes.ask(proc, connection, sql)
            except SourceError as exc:
                raise SourceError(f"{self.label}: the statistics of table {table.name} failed: {exc}") from None
            return _RENDERING.read_statistics(row, readers)

        return count, lambda: processes.kill(k, proc)

    def _workers(self) -> int:
        """How many statistics queries at once: the cores uttrekk may use, a counting process each (two
        beat one even on two cores, beside the records' query: docs/performance.md)."""
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on every platform
            cores = os.cpu_count() or 1
        return max(1, min(cores, STATISTICS_PROCESSES))

    def rendered_records(self, table: Table, request: RenderRequest) -> Iterator[tuple[bytes, int]]:
        """Each row one text, the whole record; joined with CR LF and encoded here."""
        fields = [padded(text, f, f"length({text})", literal(" " * (f.width or 1))) if request.fixed
                  else _quoted(text, kind)
                  for text, kind, f in self._record_fields(table, request, _RENDERING, lambda x: f"CAST({x} AS TEXT)")]
        sql = self._one_text_query(table, request, _record(fields, "" if request.fixed else ";"))
        try:
            with self._connection() as conn:  # type: ignore[attr-defined]
                raw = conn.connection.driver_connection
                factory, raw.text_factory = raw.text_factory, bytes  # each record's UTF-8 as it is: no text a row
                try:
                    cur = raw.execute(sql)
                    try:
                        yield from utf8_record_chunks(iter(lambda: cur.fetchmany(FETCH), []), request.charset)
                    finally:
                        cur.close()
                finally:
                    raw.text_factory = factory
        except RenderingRefused:
            raise
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{self.label}: reading table {table.name} failed: {exc}") from None
