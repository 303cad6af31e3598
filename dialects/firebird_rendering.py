"""Firebird's fast path: one expression per row builds the whole delimited (or fixed-width) record,
read as one text column through firebird-driver; the client joins the records with CR LF and
encodes them in the table's charset.

Each field's text is what ``extractor.values`` writes for the value the driver gives, checked on
Firebird 3 (``tests/test_fast_path_firebird.py``); the column's type is taken from the catalogue
(``RDB$FIELDS``: type code, scale, character set, collation, computed or not), not from its
reflected name:

- SMALLINT, INTEGER, BIGINT, and NUMERIC/DECIMAL stored in them: ``CAST(c AS VARCHAR)``, every digit
  of the declared scale (``-0.50``), the point made the decimal comma;
- DATE ``YYYY-MM-DD``; TIMESTAMP and TIME: Firebird's text (always four fraction digits) with ``T``
  for the blank and the fraction's trailing zeros (and a bare point) trimmed, as the exact path
  writes the driver's microseconds; Firebird's years are 1 to 9999, as Python's;
- BOOLEAN ``J``/``N``; VARCHAR as it is, CHAR without its trailing blanks, both in UTF8 (the
  connection's charset, so the same characters the driver reads), compared by code point in UTF8's
  default collation (``COLLATE UTF8`` where the column has another; ``CAST`` from ISO8859_1).

Refused per column, with the reason: floats (Firebird's text is not the shortest digits), BLOBs
(text or binary), arrays, computed columns, texts in a character set other than UTF8 and
ISO8859_1, code lists, and anything whose kind and type do not pair as above; profile queries as a
whole (their types are not in the catalogue), and a table whose statements would pass the 64 KB
Firebird 3 takes (some 80 text columns). A connection whose charset is not UTF8 renders nothing.
Values that send a table to the exact path: texts over the long-text limit, texts holding NUL (the
exact path reports them). A record longer than Firebird's longest string (32 765 bytes)
makes the server stop with a truncation error, and a character the table's charset cannot hold
stops the encoding: both are ``RenderingRefused``, and the table is written by the exact path.

Statistics: one aggregate query, counted before the records, on the run's own connection inside
its SNAPSHOT transaction (Firebird 3 cannot share a snapshot with a second connection).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from extractor.errors import RenderingRefused, SourceError
from extractor.model import RenderedStatistics, RenderField, RenderRequest, Table

from .base import _short
from .rendering import (
    PYTHON_WHITESPACE,
    Counted,
    Counting,
    Rendered,
    Rendering,
    ServerRendering,
    SoleReaderSide,
    literal,
    record_chunks,
)

FETCH = 2000
STATEMENT_LIMIT = 60_000
"""Bytes of SQL text the fast path sends at most (Firebird 3 takes statements up to 64 KB)."""

STRING_TRUNCATION = 335544914
"""isc_string_truncation: a record longer than Firebird's longest string."""

_CATALOGUE = """
SELECT TRIM(rf.RDB$RELATION_NAME), TRIM(rf.RDB$FIELD_NAME), f.RDB$FIELD_TYPE, f.RDB$FIELD_SCALE,
       TRIM(cs.RDB$CHARACTER_SET_NAME), f.RDB$COMPUTED_BLR IS NOT NULL, COALESCE(f.RDB$DIMENSIONS, 0),
       COALESCE(rf.RDB$COLLATION_ID, f.RDB$COLLATION_ID, 0)
FROM RDB$RELATION_FIELDS rf
JOIN RDB$FIELDS f ON f.RDB$FIELD_NAME = rf.RDB$FIELD_SOURCE
LEFT JOIN RDB$CHARACTER_SETS cs ON cs.RDB$CHARACTER_SET_ID = f.RDB$CHARACTER_SET_ID
"""

_SMALLINT, _INTEGER, _BIGINT, _DATE, _TIME, _CHAR, _BOOLEAN, _TIMESTAMP, _VARCHAR = 7, 8, 16, 12, 13, 14, 23, 35, 37
_TYPE_NAMES = {10: "FLOAT", 27: "DOUBLE PRECISION", 261: "BLOB", 26: "INT128", 24: "DECFLOAT(16)", 25: "DECFLOAT(34)"}
_TEXT_CHARSETS = ("UTF8", "ISO8859_1")
_BLANKS = ", ".join(f"_UTF8 {literal(chr(c))}" for c in PYTHON_WHITESPACE)


class FieldFacts:
    """A column's type as Firebird's catalogue has it."""

    __slots__ = ("charset", "collation", "computed", "dimensions", "scale", "type")

    def __init__(self, type_code: int, scale: int | None, charset: str | None, computed: bool, dimensions: int,
                 collation: int) -> None:
        self.type, self.scale, self.charset = type_code, scale or 0, charset
        self.computed, self.dimensions, self.collation = computed, dimensions, collation


def _utf8(x: str, n: int, facts: FieldFacts) -> str:
    """A text as UTF8 (the connection's charset: the characters the driver reads), compared in UTF8's
    default collation, by code point (``edge_blank`` relies on that); as it is when it is so already."""
    if facts.charset == "UTF8":
        return x if facts.collation == 0 else f"({x} COLLATE UTF8)"
    return f"(CAST({x} AS VARCHAR({n}) CHARACTER SET UTF8) COLLATE UTF8)"


def _text(x: str, width: int = 20) -> str:
    return f"CAST({x} AS VARCHAR({width}) CHARACTER SET UTF8)"


def _trimmed_fraction(x: str) -> str:
    """Firebird's ``… HH:MM:SS.ffff`` without the fraction's trailing zeros, nor a bare point."""
    return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {x}))"


class FirebirdRendering(Rendering):
    """The SQL of one database's tables: ``catalogue`` is table -> column -> ``FieldFacts``."""

    def __init__(self, catalogue: dict[str, dict[str, FieldFacts]]) -> None:
        self.catalogue = catalogue

    def count_if(self, cond: str) -> str:
        return f"COUNT(CASE WHEN {cond} THEN 1 END)"  # Firebird has no FILTER clause

    def any_of(self, cond: str) -> str:
        return f"MAX(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    def length(self, x: str) -> str:
        return f"CHAR_LENGTH({x})"

    def edge_blank(self, x: str, n: str) -> str:
        """No blank lies between ``!`` and ``~`` (in code point order): one comparison settles most
        characters, the list only the rest (ten times cheaper than the list alone)."""
        def blank(ch: str) -> str:
            return f"({ch} NOT BETWEEN '!' AND '~' AND {ch} IN ({_BLANKS}))"

        return f"{n} > 0 AND ({blank(f'LEFT({x}, 1)')} OR {blank(f'RIGHT({x}, 1)')})"

    def extra_text_refusals(self, x: str, n: str, request: RenderRequest) -> list[tuple[str, str]]:
        return [(f"POSITION(ASCII_CHAR(0) IN {x}) > 0", "!values holding NUL characters (reported by the exact path)")]

    def column(self, table: Table, f: RenderField, request: RenderRequest, c: str) -> Rendered:
        col = table.column(f.column or "")
        facts = None if table.query is not None else self.catalogue.get(table.name, {}).get(f.column or "")
        kind = f.kind
        if facts is None:
            return Rendered(refusal="a column Firebird's catalogue does not describe (a profile query's)")
        if facts.dimensions or col.array is not None:
            return Rendered(refusal="arrays are read by the exact path")
        if facts.computed:
            return Rendered(refusal="a computed column is read by the exact path")
        if f.codes is not None:
            return Rendered(refusal="a code list is checked by the exact path")
        code = facts.type

        def longest(text: str) -> str:  # a number's longest text is its largest or smallest value's
            return f"MAXVALUE(CHAR_LENGTH({text.format(v=f'MAX({c})')}), CHAR_LENGTH({text.format(v=f'MIN({c})')}))"

        if kind == "integer" and code in (_SMALLINT, _INTEGER, _BIGINT) and facts.scale == 0:
            return Rendered(_text(c), (("max_length", longest(_text("{v}"))),))
        if kind == "decimal" and code in (_SMALLINT, _INTEGER, _BIGINT) and -facts.scale == (f.scale or 0):
            sep = literal(request.decimal_separator)
            text = f"REPLACE({_text(c, 40)}, '.', {sep})"
            return Rendered(text, (("max_length", longest(_text("{v}", 40))),))
        if kind == "date" and code == _DATE:
            return Rendered(_text(c, 10), (("max_length", f"CASE WHEN COUNT({c}) > 0 THEN 10 END"),))
        if kind == "timestamp" and code == _TIMESTAMP and not col.timezone:
            text = _trimmed_fraction(f"REPLACE({_text(c, 24)}, ' ', 'T')")
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({text}))"),), fraction_above=19)
        if kind == "time" and code == _TIME and not col.timezone:
            text = _trimmed_fraction(_text(c, 13))
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({text}))"),), fraction_above=8)
        if kind == "boolean" and code == _BOOLEAN:
            # a VARCHAR: literals are CHAR, and a CHAR would be padded (NULL made '' a blank)
            text = _text(f"CASE {c} WHEN TRUE THEN {literal(request.true_text)} "
                         f"WHEN FALSE THEN {literal(request.false_text)} END")
            return Rendered(text, (("max_length", f"MAX(CHAR_LENGTH({text}))"),))
        if kind in ("string", "char") and code in (_VARCHAR, _CHAR):
            if facts.charset not in _TEXT_CHARSETS:
                return Rendered(refusal=f"texts in character set {facts.charset} are read by the exact path "
                                        f"(the fast path renders {' and '.join(_TEXT_CHARSETS)})")
            if (kind == "char") != (code == _CHAR) or not col.length:
                return Rendered(refusal=f"{col.native_type} as {kind} is rendered by the exact path")
            text = _utf8(c if kind == "string" else f"TRIM(TRAILING FROM {c})", col.length, facts)
            return Rendered(text, self.text_terms(text, f, request))
        native = _TYPE_NAMES.get(code, col.native_type)
        return Rendered(refusal=f"{native} as {kind} is rendered by the exact path")


def _quoted(text: str, kind: str) -> str:
    """A field of the record: NULL empty; a text quoted where it must be, empty text ``""``."""
    if kind not in ("string", "char"):
        return f"COALESCE({text}, '')"
    special = " OR ".join(f"POSITION({ch} IN {text}) > 0" for ch in ("';'", "'\"'", "ASCII_CHAR(13)", "ASCII_CHAR(10)"))
    return (f"CASE WHEN {text} IS NULL THEN '' WHEN CHAR_LENGTH({text}) = 0 THEN '\"\"' WHEN {special} "
            f"THEN '\"' || REPLACE({text}, '\"', '\"\"') || '\"' ELSE {text} END")


def _padded(text: str, f: RenderField) -> str:
    """A fixed-width field: padded with blanks to its width (the statistics' widths: no text is
    longer), all blanks when NULL."""
    w = f.width or 1
    pad = "LPAD" if f.right else "RPAD"
    return f"COALESCE({pad}({text}, {w}, ' '), {literal(' ' * w)})"


class FirebirdServerRendering(SoleReaderSide, ServerRendering):
    """The Firebird adapter's fast-path methods (``extractor.source_dialect.SourceDialect``)."""

    label: str
    engine: Any
    _rendering: FirebirdRendering | None = None
    _connection_charset: str | None = None

    @property
    def rendering(self) -> FirebirdRendering:  # type: ignore[override]
        """The SQL for this database's tables, from its catalogue (read once, in the run's snapshot)."""
        if self._rendering is None:
            self._read_catalogue()
        assert self._rendering is not None
        return self._rendering

    def _read_catalogue(self) -> None:
        normalize = self.engine.dialect.normalize_name
        catalogue: dict[str, dict[str, FieldFacts]] = {}
        try:
            with self._connection() as conn:  # type: ignore[attr-defined]
                driver = conn.connection.driver_connection
                cur = driver.cursor()
                try:
                    cur.execute(_CATALOGUE)
                    for rel, name, code, scale, charset, computed, dims, collation in cur.fetchall():
                        catalogue.setdefault(normalize(rel), {})[normalize(name)] = FieldFacts(
                            int(code), scale, charset, bool(computed), int(dims), int(collation))
                finally:
                    cur.close()
                self._connection_charset = str(driver.charset or "NONE").upper()
        except Exception as exc:  # noqa: BLE001 - firebird-driver's and SQLAlchemy's errors alike
            raise SourceError(f"{self.label}: cannot read column types from RDB$FIELDS: {_short(exc)}") from None
        self._rendering = FirebirdRendering(catalogue)

    def server_rendering(self, table: Table, request: RenderRequest) -> dict[str, str]:
        if table.query is not None:
            return {"": "a profile query's columns are not in Firebird's catalogue; the exact path reads them"}
        if self._rendering is None:
            self._read_catalogue()
        if self._connection_charset != "UTF8":
            return {"": f"the connection's character set is {self._connection_charset} (the fast path needs UTF8: "
                        "add ?charset=UTF8 to the URL)"}
        reasons = super().server_rendering(table, request)
        if reasons:
            return reasons
        statistics, _ = self._statistics_query(table, request)
        if max(len(statistics.encode()), len(self._records_sql(table, request).encode())) > STATEMENT_LIMIT:
            return {"": "the fast path's SQL would be longer than Firebird 3 takes (64 KB)"}
        return {}

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        sql, readers = self._statistics_query(table, request)
        with self._connection() as conn:  # type: ignore[attr-defined]
            return self._counted(table, conn.connection.driver_connection, sql, readers)

    def rendered_statistics_beside(self, table: Table, request: RenderRequest) -> Counted | Counting:
        """On uttrekk's own read-only copy of a Firebird file (``sole_reader``), the statistics counted
        on a second attachment in a thread while this one reads the records (the driver waits for the
        engine without the interpreter's lock); through a server, first, in the run's one snapshot
        (Firebird 3 cannot share a snapshot between attachments)."""
        if not self._counts_beside(table):
            return Counted(self.rendered_statistics(table, request))
        sql, readers = self._statistics_query(table, request)

        def stop(raw: Any) -> None:
            """``fb_cancel_operation`` from this thread, as Firebird means it to be used (the driver keeps
            its status vectors per thread); firebird-driver has it on the attachment's interface only."""
            from firebird.driver import CancelType

            raw._att.cancel_operation(CancelType.RAISE)

        return self._side_count(lambda raw: self._counted(table, raw, sql, readers), stop)

    def _counted(self, table: Table, raw: Any, sql: str, readers: list[Any]) -> RenderedStatistics:
        """The statistics query run on ``raw`` (a firebird-driver connection), read."""
        try:
            cur = raw.cursor()
            try:
                cur.execute(sql)
                row = cur.fetchone()
            finally:
                cur.close()
        except Exception as exc:  # noqa: BLE001 - firebird-driver's and SQLAlchemy's errors alike
            raise SourceError(f"{self.label}: the statistics of table {table.name} failed: {_short(exc)}") from None
        return self.rendering.read_statistics(row, readers)

    def _records_sql(self, table: Table, request: RenderRequest) -> str:
        """One text per row, the whole record, in the extract's order."""
        fields = [_padded(text, f) if request.fixed else _quoted(text, kind)
                  for text, kind, f in self._record_fields(table, request, self.rendering, _text)]
        return self._one_text_query(table, request, (" || " if request.fixed else " || ';' || ").join(fields))

    def rendered_records(self, table: Table, request: RenderRequest) -> Iterator[tuple[bytes, int]]:
        """Each row one text, the whole record, fetched in batches; joined with CR LF and encoded here
        (in the table's charset, never through a lossy connection charset)."""
        sql = self._records_sql(table, request)
        try:
            with self._connection() as conn:  # type: ignore[attr-defined]
                cur = conn.connection.driver_connection.cursor()
                try:
                    cur.execute(sql)
                    yield from record_chunks(iter(lambda: cur.fetchmany(FETCH), []), request.charset)
                finally:
                    cur.close()
        except RenderingRefused:
            raise
        except Exception as exc:  # noqa: BLE001 - firebird-driver's and SQLAlchemy's errors alike
            if STRING_TRUNCATION in (getattr(exc, "gds_codes", None) or ()):
                raise RenderingRefused("a record is longer than Firebird's longest string (32 765 bytes)") from None
            raise SourceError(f"{self.label}: reading table {table.name} failed: {_short(exc)}") from None

