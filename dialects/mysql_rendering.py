"""MariaDB's and MySQL's fast path: one expression per row builds the whole delimited record, read off
the run's own connection (its snapshot) as raw protocol packets; the client joins them with CR LF.

Each field is the text ``extractor.values`` writes for what PyMySQL hands the exact path, quoted
where it holds ``;``, ``"``, CR or LF (inner quotes doubled), NULL an empty field, empty text ``""``:

- integers (``TINYINT`` … ``BIGINT UNSIGNED``, ``YEAR``, ``DECIMAL(p,0)``) and ``DECIMAL(p,s)``: their
  text, every digit of the declared scale, with the decimal comma; ``c + 0`` where the column is
  ``ZEROFILL`` or comes from a profile query (which does not say), as the driver's numbers have no
  leading zeros;
- ``DOUBLE``: the server's text, which is the shortest digits that read back (as ``repr``) unless it
  is written with an exponent (``1e20``, which the exact path writes as digits) or does not read back
  as the same double: such values send the column to the exact path, as do numbers past Arkade's
  largest. ``FLOAT`` (single precision, selected as ``c * 1E0`` and written as float32 digits by the
  exact path) and ``FLOAT(M,D)``/``DOUBLE(M,D)`` are not rendered;
- ``DATE``, ``DATETIME``, ``TIMESTAMP`` (the session's time zone, as for the exact path on the same
  connection): their text with ``T`` for the blank and the fraction without trailing zeros; zero
  dates, zero months or days and days a month does not have (lax ``sql_mode``) are values the driver
  gives as text: the column goes to the exact path, which archives it as text;
- ``TIME``: its text with the fraction trimmed; values below 00:00:00 or from 24:00:00 go to the exact path;
- ``TINYINT(1)``: ``J``/``N``; any other number in it sends the column to the exact path;
- ``CHAR``, ``VARCHAR``, ``TEXT`` types, ``ENUM``, ``SET``: the value (``CHAR`` without trailing
  blanks), converted to ``utf8mb4`` unless the catalogue says it is stored in UTF-8. Empty text is told
  by its length (``PAD SPACE`` collations find ``' ' = ''``); what makes a field quoted and code lists
  are compared as bytes, blanks at an edge by a regular expression of their code points, never by a
  collation (literals as hex, whatever the ``sql_mode`` says about backslashes). A text holding NUL
  (found in the records' bytes) sends the table to the exact path, which reports it, as do texts over
  the long-text limit.

``BIT``, binary strings, spatial types and anything not listed take the exact path. The connection's
character set must be ``utf8mb4`` (never latin1: the server would write ``?`` for what latin1 cannot
hold): the UTF-8 bytes are turned into ISO-8859-1 here, and a character it cannot hold stops the
table (``RenderingRefused``), which the exact path then writes under the charset policy.

Fixed width: the record is the fields padded with ``RPAD``/``LPAD`` to the widths the statistics give
(NULL all blanks).

The rows are read with ``_packets``: PyMySQL parses every row in Python, which costs more than the
server's whole export, so after PyMySQL has sent the query and read its column description, the row
packets are taken from its buffered socket reader in large slices.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from extractor.errors import RenderingRefused, SourceError
from extractor.model import RenderedColumn, RenderedStatistics, RenderField, RenderRequest, Table
from extractor.values import ARKADE_DECIMAL_MAX

from .rendering import (
    CHUNK,
    LONG,
    NONCONFORMING,
    OUTSIDE_CODES,
    PYTHON_WHITESPACE,
    Counted,
    Counting,
    Rendered,
    Rendering,
    ServerRendering,
    SoleReaderSide,
)

_INTEGER = re.compile(r"(TINYINT|SMALLINT|MEDIUMINT|INT|INTEGER|BIGINT)(\(\d+\))?( UNSIGNED)?( ZEROFILL)?|YEAR(\(4\))?"
                      r"|DECIMAL\(\d+, ?0\)( UNSIGNED)?( ZEROFILL)?")
_DECIMAL = re.compile(r"(DECIMAL|NUMERIC)\(\d+, ?\d+\)( UNSIGNED)?( ZEROFILL)?")
_DOUBLE = re.compile(r"DOUBLE( PRECISION)?|REAL")
_TIMESTAMP = re.compile(r"(DATETIME|TIMESTAMP)(\(\d\))?")
_TIME = re.compile(r"TIME(\(\d\))?")
_TEXT = re.compile(r"(VARCHAR\(\d+\)|TINYTEXT|TEXT(\(\d+\))?|MEDIUMTEXT|LONGTEXT|ENUM\(.*\)|SET\(.*\))"
                   r"( CHARACTER SET \w+)?( COLLATE \w+)?", re.DOTALL)
_CHAR = re.compile(r"CHAR(\(\d+\))?( CHARACTER SET \w+)?( COLLATE \w+)?")
_WHITESPACE = "".join(map(chr, PYTHON_WHITESPACE))
_EDGE_BLANK = f"_utf8mb4 X'{f'^[{_WHITESPACE}]|[{_WHITESPACE}]$'.encode().hex()}'"
"""A text starting or ending with a character ``str.isspace`` is true for (PCRE's ``$`` also matches
before a final LF, which is such a character itself)."""
_SPECIAL = "X'5b3b220d0a5d'"
"""``[;"\\r\\n]`` as bytes: what makes a field quoted (ASCII, which no UTF-8 sequence of another character holds)."""
_SPECIAL_OR_EMPTY = "X'5b3b220d0a5d7c0101'"
"""``[;"\\r\\n]|\\x01\\x01``: a row's texts joined by 0x01 hold something to quote or an empty text."""
_REFUSED_ERRORS = {1253, 1267, 1270, 1271}
"""Errors that say the SQL cannot treat a column's characters as it must (collations and character
sets): the table is written by the exact path."""


def hex_literal(text: str) -> str:
    """A ``utf8mb4`` string literal that reads the same whatever the ``sql_mode`` (backslashes, quotes)."""
    return f"_utf8mb4 X'{text.encode('utf-8').hex()}'" if text else "_utf8mb4''"


class MysqlRendering(Rendering):
    def __init__(self, utf8: frozenset[str] = frozenset()) -> None:
        self.utf8 = utf8
        """Columns stored in ``utf8mb4`` (or ``utf8mb3``): their text is used as it is; any other's is
        converted to ``utf8mb4`` first, which costs the server more than the rest of the field."""

    def binary(self, x: str) -> str:
        return f"CAST({x} AS BINARY)"

    def count_if(self, cond: str) -> str:
        return f"SUM({cond})"  # a condition is 1, 0 or NULL

    def any_of(self, cond: str) -> str:
        return f"MAX({cond})"

    def text_terms(self, x: str, f: RenderField, request: RenderRequest) -> tuple[tuple[str, str], ...]:
        """As ``Rendering.text_terms``, cheaper (each function the server runs per row costs about as
        much as reading the row): the longest text over all values (one over the long-text limit
        sends the table to the exact path: ``MysqlServerRendering.rendered_statistics`` tells from the
        longest); blanks at an edge by a regular expression only where the first byte or the last
        character could be one. A NUL character is found in the records (``rendered_records``), for nothing."""
        edge = f"(ASCII({x}) NOT BETWEEN 33 AND 193 OR ORD(RIGHT({x}, 1)) NOT BETWEEN 33 AND 127) AND {x} REGEXP {_EDGE_BLANK}"
        return (("empties", self.count_if(f"LENGTH({x}) = 0")), ("max_length", f"MAX(CHAR_LENGTH({x}))"),
                ("edge_blank", self.any_of(edge)), *self.code_terms(x, f))

    def code_terms(self, x: str, f: RenderField) -> tuple[tuple[str, str], ...]:
        if f.codes is None:
            return ()
        if not f.codes:
            return ((OUTSIDE_CODES, f"COUNT({x})"),)
        listed = ", ".join(f"X'{c.encode('utf-8').hex()}'" if c else "X''" for c in f.codes)
        return ((OUTSIDE_CODES, self.count_if(f"{self.binary(x)} NOT IN ({listed})")),)

    def statistics_source(self, source: str) -> str:
        """A table's name, or a query in parentheses, as it is: MariaDB would copy a derived table of
        the whole table first."""
        return source

    def read_statistics(self, row: Sequence[Any], readers: list[Any]) -> RenderedStatistics:
        """``Rendering.read_statistics``, but a time value's longest text is taken without trailing zeros
        only, so one ending in a lone ``.`` (one character longer than without a fraction, which no
        text with fraction digits is) has none."""
        values = list(row)
        i = 1
        for _, r, names in readers:
            for name in names:
                if name == "max_length" and r.fraction_above is not None and values[i] == r.fraction_above + 1:
                    values[i] = r.fraction_above
                i += 1
        return super().read_statistics(values, readers)

    def column(self, table: Table, f: RenderField, request: RenderRequest, c: str) -> Rendered:
        """The field's text, and its statistics from the typed values where that is exact and cheaper
        (a number's longest text is its largest or smallest value's; a date's is ten characters)."""
        col = table.column(f.column or "")
        native = col.native_type.upper()
        sep = hex_literal(request.decimal_separator)
        kind = f.kind
        codes = self.code_terms
        declared = table.query is None  # a profile query's columns say neither ZEROFILL nor fraction digits
        number = c if declared and "ZEROFILL" not in native else f"({c} + 0)"
        if kind == "integer" and _INTEGER.fullmatch(native):
            return Rendered(number, (("max_length", _longest_number(c)), *codes(number, f)))
        if kind == "decimal" and _DECIMAL.fullmatch(native):
            text = f"REPLACE({number}, '.', {sep})"
            return Rendered(text, (("max_length", _longest_number(c)), *codes(text, f)))
        if kind == "float" and _DOUBLE.fullmatch(native) and col.float_bits != 24 and f.scale is None:
            raw = f"CAST({c} AS CHAR)"
            text = f"REPLACE({raw}, '.', {sep})"
            odd = (f"{raw} LIKE '%e%' OR CAST({raw} AS DOUBLE) <> {c} OR ABS({c}) > {ARKADE_DECIMAL_MAX}")
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({raw}))"),
                                   ("!values the server writes with an exponent or other digits than the exact path",
                                    self.count_if(odd)), *codes(text, f)))
        stamp = _TIMESTAMP.fullmatch(native)
        if kind == "date" and native == "DATE" or kind == "timestamp" and stamp:
            if col.timezone:
                return Rendered(refusal=f"{native} with a time zone is rendered by the exact path")
            # zero dates, zero months or days and days a month does not have (a lax sql_mode) have no
            # TO_DAYS; the year 0 has, but not in Python: the driver gives all of them as text
            bad = (NONCONFORMING, f"COUNT({c}) - COUNT(TO_DAYS({c})) + IFNULL(MIN({c}) < DATE '0001-01-01', 0)")
            if kind == "date":
                return Rendered(c, (("max_length", f"CASE WHEN COUNT({c}) > 0 THEN 10 END"), bad, *codes(c, f)))
            text, longest = _time_text(c, 19, stamp.group(2) or "" if declared and stamp else None)
            text = f"REPLACE({text}, ' ', 'T')"
            return Rendered(text, (("max_length", longest), bad, *codes(text, f)), fraction_above=19)
        clock = _TIME.fullmatch(native)
        if kind == "time" and clock:
            text, longest = _time_text(c, 8, clock.group(1) or "" if declared else None)
            return Rendered(text, (("max_length", longest),
                                   ("!~" + NONCONFORMING[1:], f"MIN({c}) < TIME '00:00:00' OR MAX({c}) >= TIME '24:00:00'"),
                                   *codes(text, f)), fraction_above=8)
        if kind == "boolean" and native == "TINYINT(1)":
            yes, no = request.true_text, request.false_text
            text = f"ELT({c} + 1, {hex_literal(no)}, {hex_literal(yes)})"
            longest = f"GREATEST(IF(MAX({c}) = 1, {len(yes)}, 0), IF(MIN({c}) = 0, {len(no)}, 0))"
            return Rendered(text, (("max_length", longest), ("!~" + NONCONFORMING[1:], f"MIN({c}) < 0 OR MAX({c}) > 1"),
                                   *codes(text, f)))
        if (kind == "string" and _TEXT.fullmatch(native)) or (kind == "char" and _CHAR.fullmatch(native)):
            text = c if f.column in self.utf8 else f"CONVERT({c} USING utf8mb4)"
            if kind == "char":
                text = f"TRIM(TRAILING ' ' FROM {text})"
            return Rendered(text, self.text_terms(text, f, request))
        return Rendered(refusal=f"{native} as {kind} is rendered by the exact path")


def _longest_number(c: str) -> str:
    return f"GREATEST(CHAR_LENGTH(MAX({c}) + 0), CHAR_LENGTH(MIN({c}) + 0))"


def _time_text(c: str, whole: int, fsp: str | None) -> tuple[str, str]:
    """The text of a time value (``whole`` characters before the fraction) without the fraction's
    trailing zeros, and its longest; ``fsp`` is the declared ``(n)`` (``""`` none, ``None`` not known)."""
    if fsp in ("", "(0)"):
        return c, f"CASE WHEN COUNT({c}) > 0 THEN {whole} END"
    if fsp is not None:  # every value has the declared digits: without them the text is one longer, "….")
        text = f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {c}))"
        return text, f"MAX(CHAR_LENGTH(TRIM(TRAILING '0' FROM {c})))"  # ``read_statistics`` drops a lone "."
    else:
        text = f"IF(MICROSECOND({c}) = 0, LEFT(CAST({c} AS CHAR), {whole}), TRIM(TRAILING '0' FROM CAST({c} AS CHAR)))"
    return text, f"MAX(CHAR_LENGTH({text}))"


def _field(text: str, kind: str, quoted: bool) -> str:
    """A delimited field: NULL empty; a text quoted (``quoted``), empty text ``""``."""
    if kind in ("string", "char") and quoted:
        return (f"IF(LENGTH({text}) = 0 OR {text} REGEXP {_SPECIAL}, "
                f"CONCAT('\"', REPLACE({text}, '\"', '\"\"'), '\"'), IFNULL({text}, ''))")
    return f"IFNULL({text}, '')"


_RENDERING = MysqlRendering()


class MysqlServerRendering(SoleReaderSide, ServerRendering):
    """The MySQL adapter's fast-path methods (``extractor.source_dialect.SourceDialect``)."""

    rendering = _RENDERING

    label: str
    engine: Any
    _conn: Any
    _rendering_ready: str | None = None
    sole_reader = False
    """True where the data sit in uttrekk's own throwaway server (a restored dump): no other session
    writes to it, so a second connection with a snapshot of its own reads the same rows, and the
    statistics are counted there beside the records (InnoDB cannot share one snapshot)."""

    def rendered_statistics_beside(self, table: Table, request: RenderRequest) -> Counted | Counting:
        """On a restored dump (``sole_reader``), the statistics counted on a second connection in a
        thread while this one reads the records; elsewhere first, on the run's one connection."""
        if not self._counts_beside(table):
            return Counted(self.rendered_statistics(table, request))
        sql, readers = self._statistics_query(table, request)

        def stop(raw: Any) -> None:  # on a connection of its own: the records' may be in the middle of a result
            with self.engine.connect() as conn:
                conn.exec_driver_sql(f"KILL QUERY {int(raw.thread_id())}")

        return self._side_count(lambda raw: self._counted(table, request, raw, sql, readers), stop)

    def _rendering_refusal(self) -> str:
        """Why this connection cannot render at all ("" when it can): it must send ``utf8mb4``."""
        if self._rendering_ready is None:
            with self._connection() as conn:  # type: ignore[attr-defined]
                results, connection = conn.exec_driver_sql(
                    "SELECT @@character_set_results, @@character_set_connection").one()
            self._rendering_ready = ("" if results == connection == "utf8mb4" else
                                     f"the connection's character set is {results} (the fast path needs utf8mb4)")
        return self._rendering_ready

    def server_rendering(self, table: Table, request: RenderRequest) -> dict[str, str]:
        why = self._rendering_refusal()
        if why:
            return {"": why}
        return super().server_rendering(table, request)

    def _rendering(self, table: Table) -> MysqlRendering:
        """The table's rendering, knowing which of its columns are stored in UTF-8 (a profile query's
        columns are all converted)."""
        if table.query is not None:
            return _RENDERING
        key = (table.schema, table.name)
        known = self.__dict__.setdefault("_utf8_columns", {})
        if key in known:
            return MysqlRendering(known[key])
        with self._connection() as conn:  # type: ignore[attr-defined]
            rows = conn.exec_driver_sql(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(%(s)s, DATABASE()) "
                "AND TABLE_NAME = %(t)s AND CHARACTER_SET_NAME IN ('utf8mb4', 'utf8mb3', 'utf8')",
                {"s": table.schema, "t": table.name}).all()
        known[key] = frozenset(r[0] for r in rows)
        return MysqlRendering(known[key])

    def _statistics_query(self, table: Table, request: RenderRequest) -> tuple[str, list[Any]]:
        if table.query is None and table.row_filter is None:
            source = self._quote(table.name) if table.schema is None else (  # type: ignore[attr-defined]
                f"{self._quote(table.schema)}.{self._quote(table.name)}")  # type: ignore[attr-defined]
        else:
            source = "(" + self.sql_text(sa.select(sa.literal_column("*")).select_from(self._selectable(table))) + ")"  # type: ignore[attr-defined]
        return self._rendering(table).statistics_sql(table, request, lambda n: self._column_sql(table, n), source)

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        sql, readers = self._statistics_query(table, request)
        with self._connection() as conn:  # type: ignore[attr-defined]
            return self._counted(table, request, conn.connection.driver_connection, sql, readers)

    def _counted(self, table: Table, request: RenderRequest, raw: Any, sql: str, readers: list[Any]) -> RenderedStatistics:
        """The statistics query run on ``raw`` (a PyMySQL connection), read."""
        try:
            with raw.cursor() as cur:
                cur.execute(sql)
                row = cur.fetchone()
        except Exception as exc:  # noqa: BLE001 - PyMySQL's and SQLAlchemy's errors alike
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code in _REFUSED_ERRORS:
                return _refused_statistics(request, f"the server cannot compare its values as text ({exc.args[1]})")
            raise SourceError(f"{self.label}: the statistics of table {table.name} failed: {exc}") from None
        stats = _RENDERING.read_statistics(row, readers)
        for f in request.fields:
            col = stats.columns.get(f.column or "")
            if f.kind not in ("string", "char") or col is None or f.length_of or col.refusal:
                continue
            if col.max_length > request.long_text_limit:
                col.refusal = LONG[1:]
        return stats

    def _record_sql(self, table: Table, request: RenderRequest) -> str:
        """The query giving each record as one text. Delimited: a row whose texts hold nothing to quote
        (none empty, none with ``;``, ``"``, CR or LF, told by one regular expression over them all) is
        built without the quoting expressions, which would cost more than the rest of the row."""
        fields: list[tuple[str, str]] = []
        for text, kind, f in self._record_fields(table, request, self._rendering(table), lambda x: x):
            if request.fixed:
                w = f.width or 1
                text = f"IFNULL({'LPAD' if f.right else 'RPAD'}({text}, {w}, ' '), '{' ' * w}')"
            fields.append((text, kind))
        if request.fixed:
            record = _concat([t for t, _ in fields])
        else:
            plain = _concat(_separated([_field(t, k, False) for t, k in fields]))
            texts = [t for t, k in fields if k in ("string", "char")]
            if texts:
                # the texts' bytes joined by 0x01 (NULLs left out): an empty text makes 0x01 0x01 (as
                # does a text holding 0x01, which only costs the quoting expressions)
                joined = f"CONCAT_WS(X'01', X'', {', '.join(texts)}, X'')"
                quoted = _concat(_separated([_field(t, k, True) for t, k in fields]))
                record = f"IF({joined} REGEXP {_SPECIAL_OR_EMPTY}, {quoted}, {plain})"
            else:
                record = plain
        return self._one_text_query(table, request, record)

    def rendered_records(self, table: Table, request: RenderRequest) -> Iterator[tuple[bytes, int]]:
        """Each row one text, the whole record; joined with CR LF, in the table's charset."""
        sql = self._record_sql(table, request)
        latin1 = request.charset == "ISO-8859-1"
        with self._connection() as conn:  # type: ignore[attr-defined]
            raw = conn.connection.driver_connection
            try:
                raw.query(sql, unbuffered=True)
            except Exception as exc:  # noqa: BLE001 - PyMySQL's errors
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
                if code in _REFUSED_ERRORS:
                    raise RenderingRefused(f"the server cannot render the table's texts ({exc.args[1]})") from None
                raise SourceError(f"{self.label}: reading table {table.name} failed: {exc}") from None
            packets = _packets(raw, table.name, self.label)
            try:
                for records in packets:
                    data = b"\r\n".join(records) + b"\r\n"
                    if b"\x00" in data:  # only a text can hold one: the exact path writes and reports it
                        raise RenderingRefused("a text holds a NUL character (U+0000), which the exact path reports")
                    if latin1 and not data.isascii():
                        data = _latin1(data)
                    yield data, len(records)
            finally:
                packets.close()  # an early stop reads the rest of the result, so the connection stays usable


def _concat(parts: list[str]) -> str:
    return f"CONCAT({', '.join(parts)})" if len(parts) > 1 else f"CONCAT({parts[0]}, '')"


def _separated(fields: list[str]) -> list[str]:
    out = [fields[0]]
    for f in fields[1:]:
        out += ["';'", f]
    return out


def _latin1(data: bytes) -> bytes:
    try:
        return data.decode("utf-8").encode("latin-1")
    except UnicodeEncodeError as exc:
        ch = exc.object[exc.start]
        raise RenderingRefused(f"a value holds {ch!r} (U+{ord(ch):04X}), which the charset cannot hold") from None


def _refused_statistics(request: RenderRequest, why: str) -> RenderedStatistics:
    return RenderedStatistics(0, {f.column: RenderedColumn(refusal=why) for f in request.fields
                                  if f.column is not None and not f.length_of})


READ = 1 << 20
"""Bytes asked of the socket reader at a time."""

_MORE = 0xFFFFFF
"""A packet of this length continues in the next (records of 16 MB or more)."""


def _packets(raw: Any, table: str, label: str) -> Generator[list[bytes], None, None]:
    """The rows of the one-column result set PyMySQL has started (``Connection.query(sql,
    unbuffered=True)`` sent the query and read the column description), as lists of their values,
    some 256 KB at a time; read here rather than by PyMySQL, which builds a packet object and
    decodes and converts each value in Python.

    PyMySQL internals this relies on (PyMySQL 1.2.4, ``constraints.txt``; ``tests/test_fast_path_mariadb.py``
    reads results with several packet shapes, an error in the middle and an early stop through it):
    ``Connection._rfile``, the buffered reader of the socket PyMySQL reads every packet from: what its
    buffer holds after the column description is the start of the rows, and ``read1`` returns what has
    arrived without waiting for more; ``Connection._result.unbuffered_active``, which says a result is
    being read (set false at the end, so PyMySQL reads nothing more of it); ``Connection._force_close``
    when the stream cannot be read to its end, so the connection is not used in an unknown state.

    The text protocol's rows (one per packet: 3-byte little-endian length, sequence number, the value
    as a length-encoded string; ``0xFB`` would be NULL, which a record never is) end in an EOF packet
    (``0xFE``, shorter than 9 bytes), or an error packet (``0xFF``: ``SourceError`` with its message;
    the server has then ended the statement, and the connection and its transaction stay usable). When
    the caller stops early, the rest of the result is read and dropped, so the connection stays usable.
    """
    result = raw._result
    if result is None or not result.unbuffered_active or result.field_count != 1:
        if result is not None and result.unbuffered_active:
            result._finish_unbuffered_query()  # nothing of it read here: PyMySQL reads it to its end
        raise SourceError(f"{label}: reading table {table} failed: no one-column result to read")
    rfile = raw._rfile
    buf = b""
    parts: list[bytes] = []
    size = 0
    done = False
    failure: str | None = None
    try:
        while not done:
            data = rfile.read1(READ)
            if not data:
                raise SourceError(f"{label}: reading table {table} failed: the server closed the connection")
            buf = buf + data if buf else data
            size += len(data)
            end = len(buf)
            pos = 0
            append = parts.append
            while pos + 4 <= end:
                n = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
                stop = pos + 4 + n
                if stop > end:
                    break
                lead = buf[pos + 4]
                if lead < 0xFB:
                    append(buf[pos + 5:stop])
                elif lead == 0xFC:
                    append(buf[pos + 7:stop])
                elif lead == 0xFD:
                    append(buf[pos + 8:stop])
                elif lead == 0xFE and n < 9:
                    done = True
                    pos = stop
                    break
                elif lead == 0xFF:
                    code = buf[pos + 5] | buf[pos + 6] << 8
                    message = buf[pos + 13 if buf[pos + 7:pos + 8] == b"#" else pos + 7:stop].decode("utf-8", "replace")
                    failure = f"({code}) {message}"
                    done = True
                    pos = stop
                    break
                elif n == _MORE:
                    raise RenderingRefused("a record of 16 MB or more is written by the exact path")
                else:
                    raise SourceError(f"{label}: reading table {table} failed: an unexpected row packet")
                pos = stop
            buf = buf[pos:]
            if failure is not None:
                raise SourceError(f"{label}: reading table {table} failed: {failure}")
            if parts and (done or size >= CHUNK):
                yield parts
                parts, size = [], 0
    finally:
        if not done:
            _drain(raw, rfile, buf)
        result.unbuffered_active = False
        result.connection = None
        if done and buf:  # the server sends nothing after the result it was asked for
            raw._force_close()


def _drain(raw: Any, rfile: Any, buf: bytes) -> None:
    """Read the rest of the result (up to its EOF or error packet) and drop it; close the connection
    when that fails. ``buf`` starts at a packet."""
    more = False  # the packet before was 16 MB long: this one continues it
    try:
        while True:
            end, pos = len(buf), 0
            while pos + 4 <= end:
                n = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
                if pos + 4 + n > end:
                    break
                if not more and n and (buf[pos + 4] == 0xFF or buf[pos + 4] == 0xFE and n < 9):
                    return
                more = n == _MORE
                pos += 4 + n
            buf = buf[pos:]
            data = rfile.read1(READ)
            if not data:
                raise OSError("the server closed the connection")
            buf += data
    except BaseException:
        raw._force_close()
        raise
