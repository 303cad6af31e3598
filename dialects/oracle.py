"""Oracle adapter (python-oracledb in thin mode: pure Python, no Oracle client). Written for Oracle
12.2 and later (the compose file runs 23ai Free); the SQL below uses nothing newer except where noted.

URL: ``oracle+oracledb://USER@HOST:1521/?service_name=FREEPDB1``; without a service (or SID) the run
stops with that form (a listener does not tell a client its services). A user whose own schema has
no tables reads the one other schema (not Oracle's own) with tables it can see, said in the report;
with several, uttrekk names them (``dialects/locate.py``; not yet run against a server). Extract as the schema owner or a
user with SELECT on it, not as SYS (Oracle does not give SYS read-only transactions). Names Oracle
stores in upper case are reflected in lower case (SQLAlchemy's convention) and quoted only where
needed, so ``kode`` reads ``KODE`` and a column created as ``"Æøå navn"`` keeps its spelling.

Session: one ``SET TRANSACTION READ ONLY`` transaction for the whole run: every query sees the
database as it was when the transaction began (transaction-level read consistency), and the server
refuses writes (ORA-01456). A very long run can fail with ORA-01555 (snapshot too old) when the undo
retention is shorter than the run; the message then names the table, and the DBA can raise
``UNDO_RETENTION``. ``--jobs`` above 1 is refused: one read-only transaction cannot be shared between
connections (flashback queries ``AS OF SCN`` could; issue 3).

Types: what python-oracledb would return is not always what the database holds, so ``column_expr``
converts these on the server, and they arrive as exact text or exact numbers. What is marked
"noted" is also listed in ``Schema.notes`` by ``reflect``.

- ``NUMBER`` without precision -> decimal with every digit (SQLAlchemy's output handler reads it as
  text, then ``Decimal``); ``NUMBER(p)``, ``NUMBER(p,0)``, ``INTEGER`` -> integer; ``NUMBER(p,s)`` ->
  decimal with scale s. ``NUMBER(p,-s)`` and ``NUMBER(*,s)`` are selected as ``CAST(c AS NUMBER)``:
  the driver would otherwise read them through a binary float.
- ``FLOAT(b)``, ``DOUBLE PRECISION``, ``REAL`` -> float, selected as ``CAST(c AS NUMBER)``: they are
  decimal numbers of up to 38 digits, which a binary float would round (no ``float_bits``: every
  digit is kept). ``BINARY_FLOAT`` and ``BINARY_DOUBLE`` are IEEE values and read as they are, written
  with the shortest digits that read back as the same float32 (``0.1``) or double.
- ``DATE`` -> timestamp (an Oracle date carries a time of day): ``TO_CHAR(c, 'SYYYY-MM-DD"T"HH24:MI:SS')``.
- ``TIMESTAMP`` -> timestamp: ``TO_CHAR`` with ``.FF9``, all nine fraction digits.
- ``TIMESTAMP WITH TIME ZONE`` -> timestamp with offset: ``TO_CHAR`` with ``.FF9TZH:TZM``, because
  python-oracledb returns these without their offset. A value stored with a region (``Europe/Oslo``)
  keeps its instant and the offset in force then, not the region's name.
- ``TIMESTAMP WITH LOCAL TIME ZONE`` -> timestamp with offset ``+00:00``: ``SYS_EXTRACT_UTC``, so the
  text does not depend on the client's time zone.
- ``INTERVAL DAY TO SECOND``, ``INTERVAL YEAR TO MONTH`` -> ISO 8601 duration text (``P1DT2H30M``,
  ``-PT0.5S``, ``P1Y2M``), built from ``EXTRACT`` on the server: exact to the nanosecond, spelt like
  ``values.iso_duration``, and year-month intervals need no driver support.
- ``VARCHAR2``, ``NVARCHAR2``, ``CHAR``, ``NCHAR``, ``LONG`` -> string, char; ``CLOB``, ``NCLOB`` ->
  string (long texts go to files in the core). SQLAlchemy's output handler returns ``str`` for
  ``CLOB`` and ``bytes`` for ``BLOB``; a LOB object that still arrives is read whole in ``iter_rows``.
- ``BLOB``, ``LONG RAW`` -> binary (files).
- ``RAW(n)`` -> string of 2n hex digits: ``RAWTOHEX(c)``, Oracle's own spelling. RAW columns hold keys
  and hashes (``SYS_GUID()``), not documents, so they are not sent to files.
- ``ROWID``, ``UROWID`` -> string: ``ROWIDTOCHAR`` / ``CAST(… AS VARCHAR2)``. These are physical row
  addresses, meaningless outside this database (noted; issue 4 turns them into logical keys).
- ``BFILE`` -> string ``DIRECTORY/file name`` from the locator (``LOB.getfilename()``). The file lies
  outside the database and is not read (noted).
- ``XMLTYPE`` -> string: ``XMLSERIALIZE(CONTENT c AS CLOB)``, whitespace between elements as Oracle
  serialises it (binary XML storage does not keep the original). ``JSON`` (21c) and ``VECTOR`` (23ai) ->
  string: ``JSON_SERIALIZE(c RETURNING CLOB)``, ``FROM_VECTOR(c RETURNING CLOB)``.
- ``BOOLEAN`` (23ai) -> boolean.
- object types (``SDO_GEOMETRY``, user types) -> text: JSON of the attributes, made in ``iter_rows``
  from python-oracledb's objects (noted).
- collection types (``VARRAY``, nested tables; found in ``ALL_COLL_TYPES``) are refused by column:
  uttrekk archives an array only as a child table with each element's index, which it does not
  read from Oracle yet, and JSON text in one field would not be the archive's types. ``extract``
  stops and names each such column; exclude it in the profile (issue 12).

SQLAlchemy does not know ``INTERVAL YEAR TO MONTH``, ``UROWID``, ``LONG RAW``, ``XMLTYPE`` or object
types (it reflects them without a type); ``reflect`` reads their names from ``ALL_TAB_COLS`` in one
query. Oracle cannot sort LOB, ``LONG``, ``BFILE``, XML, JSON, vector or object columns: where the plan
orders by them, ``CLOB``/``BLOB`` are ordered by their length and first 1000 characters / 2000 bytes,
the others are left out of the ORDER BY (rows equal in every other column may then come in either
order). Converted columns are ordered by their text (the select-list alias).

Gaps (issue 3): parallel reading (see Session); ``ANYDATA`` and other opaque types are read as the
driver returns them (noted), untested; dates before year 1 are written with a minus sign, which is
not an ISO 8601 timestamp the archive accepts, so such a column is archived as text (reported).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import types as sat
from sqlalchemy.dialects import oracle

from extractor.errors import SourceError
from extractor.model import ArrayType, Column, Kind, Schema, Table
from extractor.values import SINGLE

from .base import NO_TYPE, Dialect, _short, kind_of, url_label, with_vendor_types

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

"""``native_type`` of a column SQLAlchemy reflected without a type (``base.native_name``)."""

_TS = 'SYYYY-MM-DD"T"HH24:MI:SS'
"""Datetime format: ISO 8601, year signed so a date before year 1 cannot pass for one after it."""

_DS = (
    "CASE WHEN {c} = INTERVAL '0' SECOND THEN 'PT0S' WHEN {c} IS NOT NULL THEN"
    " CASE WHEN {c} < INTERVAL '0' SECOND THEN '-' END || 'P'"
    " || CASE WHEN EXTRACT(DAY FROM {c}) <> 0 THEN ABS(EXTRACT(DAY FROM {c})) || 'D' END"
    " || CASE WHEN EXTRACT(HOUR FROM {c}) <> 0 OR EXTRACT(MINUTE FROM {c}) <> 0"
    " OR EXTRACT(SECOND FROM {c}) <> 0 THEN 'T' END"
    " || CASE WHEN EXTRACT(HOUR FROM {c}) <> 0 THEN ABS(EXTRACT(HOUR FROM {c})) || 'H' END"
    " || CASE WHEN EXTRACT(MINUTE FROM {c}) <> 0 THEN ABS(EXTRACT(MINUTE FROM {c})) || 'M' END"
    " || CASE WHEN EXTRACT(SECOND FROM {c}) <> 0"
    " THEN RTRIM(TO_CHAR(ABS(EXTRACT(SECOND FROM {c})), 'FM90.999999999'), '.') || 'S' END"
    " END"
)
"""INTERVAL DAY TO SECOND as an ISO 8601 duration, spelt like ``values.iso_duration``."""

_YM = (
    "CASE WHEN {c} = INTERVAL '0' MONTH THEN 'P0M' WHEN {c} IS NOT NULL THEN"
    " CASE WHEN {c} < INTERVAL '0' MONTH THEN '-' END || 'P'"
    " || CASE WHEN EXTRACT(YEAR FROM {c}) <> 0 THEN ABS(EXTRACT(YEAR FROM {c})) || 'Y' END"
    " || CASE WHEN EXTRACT(MONTH FROM {c}) <> 0 THEN ABS(EXTRACT(MONTH FROM {c})) || 'M' END"
    " END"
)
"""INTERVAL YEAR TO MONTH as an ISO 8601 duration (``P1Y2M``)."""

CONVERSIONS: dict[str, str] = {
    "DATE": f"LTRIM(TO_CHAR({{c}}, '{_TS}'))",
    "TIMESTAMP": f"LTRIM(TO_CHAR({{c}}, '{_TS}.FF9'))",
    "TIMESTAMP WITH TIME ZONE": f"LTRIM(TO_CHAR({{c}}, '{_TS}.FF9TZH:TZM'))",
    "TIMESTAMP WITH LOCAL TIME ZONE": f"LTRIM(TO_CHAR(SYS_EXTRACT_UTC({{c}}), '{_TS}.FF9\"+00:00\"'))",
    "INTERVAL DAY TO SECOND": _DS,
    "INTERVAL YEAR TO MONTH": _YM,
    "FLOAT": "CAST({c} AS NUMBER)",
    "DOUBLE PRECISION": "CAST({c} AS NUMBER)",
    "REAL": "CAST({c} AS NUMBER)",
    "RAW": "RAWTOHEX({c})",
    "ROWID": "ROWIDTOCHAR({c})",
    "UROWID": "CAST({c} AS VARCHAR2(4000))",
    "XMLTYPE": "XMLSERIALIZE(CONTENT {c} AS CLOB)",
    "JSON": "JSON_SERIALIZE({c} RETURNING CLOB)",
    "VECTOR": "FROM_VECTOR({c} RETURNING CLOB)",
}
"""Base type name -> SQL that selects the column ``{c}`` as exact text (or an exact number)."""

LOB_ORDER = {"CLOB": 1000, "NCLOB": 1000, "BLOB": 2000}
"""LOB types Oracle cannot sort -> how many leading characters/bytes stand in for them in ORDER BY."""

UNORDERABLE = frozenset({"BFILE", "LONG", "LONG RAW", "XMLTYPE", "JSON", "VECTOR", NO_TYPE})
"""Types left out of ORDER BY (object types too: their ``native_type`` is ``OWNER.TYPE``)."""

_VENDOR_TYPES = """
SELECT c.table_name, c.column_name, c.data_type, c.data_type_owner, t.coll_type
FROM all_tab_cols c
LEFT JOIN all_coll_types t ON t.owner = c.data_type_owner AND t.type_name = c.data_type
WHERE c.owner = :owner AND c.hidden_column = 'NO'
"""

_SCHEMAS = """
SELECT o.owner, COUNT(*) FROM all_objects o JOIN all_users u ON u.username = o.owner
WHERE u.oracle_maintained = 'N' AND o.object_type IN :types AND o.object_name NOT LIKE 'BIN$%'
GROUP BY o.owner ORDER BY o.owner
"""


class Oracle(Dialect):
    name = "oracle"
    addresses = {"rowid": ("ROWIDTOCHAR(ROWID)", "CAST({c} AS VARCHAR2(18))")}
    snapshot_note = ("one SET TRANSACTION READ ONLY transaction for the whole run: every query sees the data as of "
                     "its start, and the server refuses writes")

    # -- where the tables are (dialects.locate; not yet run against a server) ---------------------

    @classmethod
    def check_url(cls, url: URL) -> None:
        """A URL without a service (or SID, or a DSN) says how to give one: a listener does not tell
        a client which services it has."""
        if url.host and not url.database and not {"service_name", "sid", "dsn"} & set(url.query):
            raise SourceError(f"{url_label(url)}: the URL names no database service; give it as "
                              f"{url_label(url.set(query={**url.query, 'service_name': 'NAME'}))} (or the SID as the "
                              "path: /SID). The listener does not tell a client its services: ask the DBA (lsnrctl services)")

    def schemas_with_tables(self, views: bool = False) -> dict[str, int] | None:
        """Schemas (users) that are not Oracle's own (``ORACLE_MAINTAINED``, 12c) holding tables this
        login can see; names in SQLAlchemy's lower case, as ``--schema`` takes them."""
        types = ("TABLE", *(("VIEW", "MATERIALIZED VIEW") if views else ()))
        query = sa.text(_SCHEMAS).bindparams(sa.bindparam("types", expanding=True))
        normalize = self.engine.dialect.normalize_name
        with self._connection() as conn:
            return {str(normalize(owner)): int(n) for owner, n in conn.execute(query, {"types": types})}

    # -- session --------------------------------------------------------------------------------

    def begin_snapshot(self, conn: Any) -> None:
        conn.begin()
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # must be the transaction's first statement

    # -- reflection -----------------------------------------------------------------------------

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        """The generic reflection, plus the Oracle types SQLAlchemy does not know (from ALL_TAB_COLS)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Did not recognize type", sa.exc.SAWarning)
            reflected = super().reflect(schema, views)
        found: dict[tuple[str, str], tuple[str, Kind]] = {}
        if any(c.native_type == NO_TYPE for t in reflected.tables for c in t.columns):
            sa_dialect = self.engine.dialect
            owner = sa_dialect.denormalize_name(schema or sa_dialect.default_schema_name or "")
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(sa.text(_VENDOR_TYPES), {"owner": owner}).all()
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"{self.label}: cannot read the column types from ALL_TAB_COLS: {_short(exc)}") from None
            found = {(sa_dialect.normalize_name(r.table_name), sa_dialect.normalize_name(r.column_name)):
                     vendor_type(r.data_type, r.data_type_owner, r.coll_type) for r in rows}
        return collections_refused(with_vendor_types(reflected, found, _note))

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, oracle.NUMBER):  # NUMBER is both Numeric and Integer in SQLAlchemy
            p, s = satype.precision, satype.scale
            if p is not None and s is not None and s <= 0:
                return "integer", {"precision": p, "scale": s}
            return "decimal", {"precision": p, "scale": s if s is not None and s > 0 else None}
        if isinstance(satype, oracle.TIMESTAMP):
            return "timestamp", {"timezone": bool(satype.timezone or satype.local_timezone)}
        if isinstance(satype, oracle.DATE):
            return "timestamp", {}
        if isinstance(satype, oracle.RAW):
            return "string", {"length": 2 * satype.length if satype.length else None}
        if isinstance(satype, oracle.ROWID):
            return "string", {"length": 18}
        if isinstance(satype, oracle.BFILE | oracle.INTERVAL | sat.JSON):
            return "string", {}
        if type(satype).__name__ == "VECTOR":  # SQLAlchemy 2.0.41+
            return "string", {}
        if isinstance(satype, oracle.BINARY_FLOAT):
            return "float", {"float_bits": SINGLE}
        if isinstance(satype, sat.Float) and not isinstance(satype, oracle.BINARY_DOUBLE):
            return "float", {}  # FLOAT(b), REAL, DOUBLE PRECISION: decimal NUMBERs, read exactly
        return kind_of(satype)

    # -- data -----------------------------------------------------------------------------------

    def column_expr(self, table: Table, name: str) -> Any:
        col = table.column(name)
        base = base_type(col.native_type)
        template = CONVERSIONS.get(base)
        if template is None and base == "NUMBER" and _inexact_number(col):
            template = "CAST({c} AS NUMBER)"
        if template is None:
            return self.column_ref(table, name)
        return self.converted(template, col.name)

    def order_keys(self, table: Table, name: str) -> list[Any]:
        col = table.column(name)
        base = base_type(col.native_type)
        if base in LOB_ORDER:
            return [self.converted("DBMS_LOB.GETLENGTH({c})", col.name),
                    self.converted(f"DBMS_LOB.SUBSTR({{c}}, {LOB_ORDER[base]}, 1)", col.name)]
        if base in UNORDERABLE or _is_object(col):
            return []
        return [self.column_ref(table, name)]

    def iter_rows(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Rows as the base reads them; BFILE locators, LOB objects and object types become plain values."""
        fixes = [(i, fix) for i, name in enumerate(columns) if (fix := _python_fix(table.column(name))) is not None]
        rows = super().iter_rows(table, columns, order_by)
        if not fixes:
            yield from rows
            return
        for row in rows:
            values = list(row)
            for i, fix in fixes:
                if values[i] is not None:
                    values[i] = fix(values[i])
            yield tuple(values)


def base_type(native_type: str) -> str:
    """``TIMESTAMP(6) WITH TIME ZONE`` -> ``TIMESTAMP WITH TIME ZONE``, ``NUMBER(10, 0)`` -> ``NUMBER``."""
    return " ".join(re.sub(r"\([^)]*\)", " ", native_type).upper().split())


def vendor_type(data_type: str, owner: str | None, collection: str | None = None) -> tuple[str, Kind]:
    """``native_type`` and kind for a type SQLAlchemy reflected without a type (from ALL_TAB_COLS;
    ``collection`` is ALL_COLL_TYPES.COLL_TYPE, ``VARYING ARRAY`` or ``TABLE``, for a collection)."""
    if collection:
        return f"{owner}.{data_type} ({collection})", "array"
    base = base_type(data_type)
    if base in ("INTERVAL YEAR TO MONTH", "UROWID", "XMLTYPE"):
        return data_type, "string"
    if base == "LONG RAW":
        return data_type, "binary"
    if owner:  # an object or collection type
        return f"{owner}.{data_type}", "unknown"
    return data_type, "unknown"


COLLECTIONS_REFUSED = ("Oracle collection types (VARRAY, nested tables) are not read element by element, and "
                       "uttrekk archives an array only as a table of its elements")


def collections_refused(schema: Schema) -> Schema:
    """Collection columns as refused arrays: ``extract`` stops and names them."""
    def refused(col: Column) -> Column:
        if col.kind != "array" or col.array is not None:
            return col
        return replace(col, array=ArrayType(Column("", "?", "unknown"), refused=COLLECTIONS_REFUSED))
    return replace(schema, tables=tuple(replace(t, columns=tuple(refused(c) for c in t.columns)) for t in schema.tables))


def _note(col: Column) -> str | None:
    base = base_type(col.native_type)
    if base == "BFILE":
        return ("BFILE: only the directory alias and file name are archived; the files lie outside the "
                "database and must be delivered separately")
    if base in ("ROWID", "UROWID"):
        return f"{base}: physical row addresses, meaningless outside this database"
    if col.kind == "array":
        return None  # refused (``collections_refused``)
    if _is_object(col):
        return f"object type {col.native_type}: archived as JSON text of its attributes"
    if col.kind == "unknown":
        return (f"type {col.native_type} is not known to uttrekk; its values are read as the driver returns "
                "them and archived as text")
    return None


def _inexact_number(col: Column) -> bool:
    """NUMBER(p,-s) and NUMBER(*,s): python-oracledb would read them through a binary float."""
    scale = col.scale or 0
    return scale < 0 or (scale > 0 and not col.precision)


def _is_object(col: Column) -> bool:
    return "." in col.native_type


def _python_fix(col: Column) -> Callable[[Any], Any] | None:
    base = base_type(col.native_type)
    if base == "BFILE":
        return bfile_name
    if base in LOB_ORDER or base == NO_TYPE or _is_object(col):
        return plain_value
    return None


def bfile_name(locator: Any) -> str:
    """``DIRECTORY/file name`` of a BFILE locator (python-oracledb ``LOB.getfilename()``)."""
    directory, name = locator.getfilename()
    return f"{directory}/{name}"


def plain_value(value: Any) -> Any:
    """A driver value without driver objects: LOBs read whole, objects as dicts, collections as lists."""
    objtype = getattr(value, "type", None)
    if objtype is not None and hasattr(objtype, "iscollection"):  # oracledb.DbObject
        if objtype.iscollection:
            return [plain_value(v) for v in value.aslist()]
        return {a.name: plain_value(getattr(value, a.name)) for a in objtype.attributes}
    if callable(getattr(value, "read", None)):  # oracledb.LOB
        return value.read()
    return value

