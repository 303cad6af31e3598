"""MariaDB's and MySQL's fast path: one expression per row builds the whole delimited record, read off
the run's own connection (its snapshot) as raw protocol packets; the client joins them with CR LF.

Each field is the text ``extractor.values`` writes for what PyMySQL hands the exact path, quoted
where it holds ``;``, ``"``, CR or LF (inner quotes doubled), NULL an empty field, empty text ``""``:

- integers (``TINYINT`` … ``BIGINT UNSIGNED``, ``YEAR``, ``DECIMAL(p,0)``) and ``DECIMAL(p,s)``: the
  text of ``c + 0`` (``ZEROFILL`` dropped, as the driver's numbers drop it), every digit of the declared
  scale, with the decimal comma;
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
- ``CHAR``, ``VARCHAR``, ``TEXT`` types, ``ENUM``, ``SET``: the value in ``utf8mb4`` with a binary
  collation (``CHAR`` without trailing blanks). Empty text is told by its length (``PAD SPACE``
  collations find ``' ' = ''``); code lists, blanks at an edge and characters are compared as bytes
  (literals as hex, whatever the ``sql_mode`` says about backslashes). Texts holding NUL go to the exact
  path (which reports them), as do texts over the long-text limit.

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
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from extractor.errors import RenderingRefused, SourceError
from extractor.model import RenderedStatistics, RenderField, RenderRequest, Table
from extractor.values import ARKADE_DECIMAL_MAX

from .rendering import CHUNK, LONG, NONCONFORMING, OUTSIDE_CODES, PYTHON_WHITESPACE, Rendered, Rendering, ServerRendering

_INTEGER = re.compile(r"(TINYINT|SMALLINT|MEDIUMINT|INT|INTEGER|BIGINT)(\(\d+\))?( UNSIGNED)?( ZEROFILL)?|YEAR(\(4\))?"
                      r"|DECIMAL\(\d+, ?0\)( UNSIGNED)?( ZEROFILL)?")
_DECIMAL = re.compile(r"(DECIMAL|NUMERIC)\(\d+, ?\d+\)( UNSIGNED)?( ZEROFILL)?")
_DOUBLE = re.compile(r"DOUBLE( PRECISION)?|REAL")
_TIMESTAMP = re.compile(r"(DATETIME|TIMESTAMP)(\(\d\))?")
_TIME = re.compile(r"TIME(\(\d\))?")
_TEXT = re.compile(r"(VARCHAR\(\d+\)|TINYTEXT|TEXT(\(\d+\))?|MEDIUMTEXT|LONGTEXT|ENUM\(.*\)|SET\(.*\))"
                   r"( CHARACTER SET \w+)?( COLLATE \w+)?", re.DOTALL)
_CHAR = re.compile(r"CHAR(\(\d+\))?( CHARACTER SET \w+)?( COLLATE \w+)?")
_BLANKS = ", ".join(f"X'{chr(c).encode('utf-8').hex()}'" for c in PYTHON_WHITESPACE)
_REFUSED_ERRORS = {1253, 1267, 1270, 1271}
"""Errors that say the SQL cannot treat a column's characters as it must (collations and character
sets): the table is written by the exact path."""


def hex_literal(text: str) -> str:
    """A ``utf8mb4`` string literal that reads the same whatever the ``sql_mode`` (backslashes, quotes)."""
    return f"_utf8mb4 X'{text.encode('utf-8').hex()}'" if text else "_utf8mb4''"


class MysqlRendering(Rendering):
    def binary(self, x: str) -> str:
        return f"CAST({x} AS BINARY)"

    def count_if(self, cond: str) -> str:
        return f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    def any_of(self, cond: str) -> str:
        return f"MAX(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    def edge_blank(self, x: str, n: str) -> str:
        return f"{n} > 0 AND (CAST(LEFT({x}, 1) AS BINARY) IN ({_BLANKS}) OR CAST(RIGHT({x}, 1) AS BINARY) IN ({_BLANKS}))"

    def extra_text_refusals(self, x: str, n: str, request: RenderRequest) -> list[tuple[str, str]]:
        return [(f"LOCATE(CHAR(0 USING utf8mb4), {x}) > 0", "!values holding NUL characters (reported by the exact path)")]

    def code_terms(self, x: str, f: RenderField) -> tuple[tuple[str, str], ...]:
        if f.codes is None:
            return ()
        if not f.codes:
            return ((OUTSIDE_CODES, f"COUNT({x})"),)
        listed = ", ".join(f"X'{c.encode('utf-8').hex()}'" if c else "X''" for c in f.codes)
        return ((OUTSIDE_CODES, self.count_if(f"{self.binary(x)} NOT IN ({listed})")),)

    def column(self, table: Table, f: RenderField, request: RenderRequest, c: str) -> Rendered:
        """The field's text, and its statistics (a number's longest text from its largest or smallest value)."""
        col = table.column(f.column or "")
        native = col.native_type.upper()
        sep = hex_literal(request.decimal_separator)
        kind = f.kind
        codes = self.code_terms
        if kind == "integer" and _INTEGER.fullmatch(native):
            text = f"CAST({c} + 0 AS CHAR)"
            return Rendered(text, (("max_length", f"GREATEST(CHAR_LENGTH(MAX({c}) + 0), CHAR_LENGTH(MIN({c}) + 0))"),
                                   *codes(text, f)))
        if kind == "decimal" and _DECIMAL.fullmatch(native):
            text = f"REPLACE(CAST({c} + 0 AS CHAR), '.', {sep})"
            return Rendered(text, (("max_length", f"GREATEST(CHAR_LENGTH(MAX({c}) + 0), CHAR_LENGTH(MIN({c}) + 0))"),
                                   *codes(text, f)))
        if kind == "float" and _DOUBLE.fullmatch(native) and col.float_bits != 24 and f.scale is None:
            raw = f"CAST({c} AS CHAR)"
            text = f"REPLACE({raw}, '.', {sep})"
            odd = (f"{raw} LIKE '%e%' OR CAST({raw} AS DOUBLE) <> {c} OR ABS({c}) > {ARKADE_DECIMAL_MAX}")
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({raw}))"),
                                   ("!values the server writes with an exponent or other digits than the exact path",
                                    self.count_if(odd)), *codes(text, f)))
        if kind in ("date", "timestamp") and (native == "DATE" if kind == "date" else _TIMESTAMP.fullmatch(native)):
            if col.timezone:
                return Rendered(refusal=f"{native} with a time zone is rendered by the exact path")
            bad = (f"{c} IS NOT NULL AND (YEAR({c}) = 0 OR MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0 OR LAST_DAY({c}) IS NULL "
                   f"OR DAYOFMONTH({c}) > DAYOFMONTH(LAST_DAY({c})))")
            refusal = (NONCONFORMING, self.count_if(bad))
            if kind == "date":
                text = f"CAST({c} AS CHAR)"
                return Rendered(text, (("max_length", f"CASE WHEN COUNT({c}) > 0 THEN 10 END"), refusal,
                                       *codes(text, f)))
            text = f"INSERT({_trimmed(c, 19)}, 11, 1, 'T')"
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({_trimmed(c, 19)}))"), refusal, *codes(text, f)),
                            fraction_above=19)
        if kind == "time" and _TIME.fullmatch(native):
            text = _trimmed(c, 8)
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({text}))"),
                                   (NONCONFORMING, self.count_if(f"{c} < '00:00:00' OR {c} >= '24:00:00'")),
                                   *codes(text, f)), fraction_above=8)
        if kind == "boolean" and native == "TINYINT(1)":
            text = (f"CASE {c} WHEN 1 THEN {hex_literal(request.true_text)} WHEN 0 THEN "
                    f"{hex_literal(request.false_text)} END")
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({text}))"),
                                   (NONCONFORMING, self.count_if(f"{c} NOT IN (0, 1)")), *codes(text, f)))
        if (kind == "string" and _TEXT.fullmatch(native)) or (kind == "char" and _CHAR.fullmatch(native)):
            text = f"CONVERT({c} USING utf8mb4) COLLATE utf8mb4_bin"
            if kind == "char":
                text = f"TRIM(TRAILING ' ' FROM {text})"
            return Rendered(text, self.text_terms(text, f, request))
        return Rendered(refusal=f"{native} as {kind} is rendered by the exact path")


def _trimmed(c: str, whole: int) -> str:
    """The text of a time value without the fraction's trailing zeros (and without a fraction of zeros)."""
    return f"IF(MICROSECOND({c}) = 0, LEFT(CAST({c} AS CHAR), {whole}), TRIM(TRAILING '0' FROM CAST({c} AS CHAR)))"


def _quoted(text: str, kind: str) -> str:
    """A delimited field: NULL empty; a text quoted where it must be, empty text ``""``."""
    if kind not in ("string", "char"):
        return f"IFNULL({text}, '')"
    return (f"CASE WHEN {text} IS NULL THEN '' WHEN CHAR_LENGTH({text}) = 0 THEN '\"\"' "
            f"WHEN LOCATE(';', {text}) > 0 OR LOCATE('\"', {text}) > 0 OR LOCATE(CHAR(13 USING utf8mb4), {text}) > 0 "
            f"OR LOCATE(CHAR(10 USING utf8mb4), {text}) > 0 THEN CONCAT('\"', REPLACE({text}, '\"', '\"\"'), '\"') "
            f"ELSE {text} END")


_RENDERING = MysqlRendering()


class MysqlServerRendering(ServerRendering):
    """The MySQL adapter's fast-path methods (``extractor.source_dialect.SourceDialect``)."""

    rendering = _RENDERING

    label: str
    _rendering_ready: str | None = None

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

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        sql, readers = self._statistics_query(table, request)
        try:
            with self._connection() as conn:  # type: ignore[attr-defined]
                with conn.connection.driver_connection.cursor() as cur:
                    cur.execute(sql)
                    row = cur.fetchone()
        except Exception as exc:  # noqa: BLE001 - PyMySQL's and SQLAlchemy's errors alike
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code in _REFUSED_ERRORS:
                return _refused_statistics(request, f"the server cannot compare its values as text ({exc.args[1]})")
            raise SourceError(f"{self.label}: the statistics of table {table.name} failed: {exc}") from None
        return _RENDERING.read_statistics(row, readers)

    def _record_sql(self, table: Table, request: RenderRequest) -> str:
        fields = []
        for f in request.fields:
            if f.column is None:
                number = self.sql_text(self.record_number(table, request.order_by))  # type: ignore[attr-defined]
                text, kind = f"CAST({number} AS CHAR)", "integer"
            else:
                text, kind = _RENDERING.field_text(table, f, request, self._column_sql(table, f.column)), f.kind
                if f.length_of:
                    text, kind = f"CAST(CHAR_LENGTH({text}) AS CHAR)", "integer"
            if request.fixed:
                w = f.width or 1
                fields.append(f"IFNULL({'LPAD' if f.right else 'RPAD'}({text}, {w}, ' '), '{' ' * w}')")
            else:
                fields.append(_quoted(text, kind))
        record = f"CONCAT({', '.join(fields if request.fixed else _separated(fields))})" if len(fields) > 1 else fields[0]
        query: Any = sa.select(sa.literal_column(record).label("ux_record")).select_from(  # not named like a column
            self._selectable(table))  # type: ignore[attr-defined]
        keys = [k for name in request.order_by for k in self.order_keys(table, name)]  # type: ignore[attr-defined]
        return self.sql_text(query.order_by(*keys) if keys else query)  # type: ignore[attr-defined,no-any-return]

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
                    if latin1 and not data.isascii():
                        data = _latin1(data)
                    yield data, len(records)
            finally:
                packets.close()  # an early stop reads the rest of the result, so the connection stays usable


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
    from extractor.model import RenderedColumn

    return RenderedStatistics(0, {f.column: RenderedColumn(refusal=why) for f in request.fields
                                  if f.column is not None and not f.length_of})


READ = 1 << 20
"""Bytes asked of the socket reader at a time."""

_MORE = 0xFFFFFF
"""A packet of this length continues in the next (records of 16 MB or more)."""


def _packets(raw: Any, table: str, label: str) -> Iterator[list[bytes]]:
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
