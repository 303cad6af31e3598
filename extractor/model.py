"""Plain, frozen description of a source database, free of SQLAlchemy types.

Dialects translate what they reflect into these classes at the boundary, so every later stage
(plan, extract, describe) works on the same small vocabulary whatever the source engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "integer", "decimal", "float", "date", "timestamp", "time", "boolean",
    "string", "char", "binary", "unknown", "array",
]
"""What a column holds, independent of the engine: the dialect maps native types onto this."""

KINDS: tuple[str, ...] = (
    "integer", "decimal", "float", "date", "timestamp", "time", "boolean",
    "string", "char", "binary", "unknown", "array",
)


@dataclass(frozen=True, slots=True)
class Column:
    """One source column as declared."""

    name: str
    native_type: str
    kind: Kind
    nullable: bool = True
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    float_bits: int | None = None
    """A binary float's significant bits: 24 single precision (float4), 53 double; ``None`` for other
    kinds and for decimal floats (Oracle ``FLOAT``). Values are written with the shortest digits that
    read back as the same float of this precision; ``scale`` set on a float (MySQL ``FLOAT(M,D)``) means
    the source shows it with that many decimals."""
    comment: str | None = None
    timezone: bool = False
    codes: tuple[str, ...] = ()
    """Allowed values the source declares (an enum type, a CHECK … IN list), in declared order."""
    codes_source: str = ""
    """Where ``codes`` come from, in Norwegian for the field description (``enum-typen status``)."""
    array: ArrayType | None = None
    """Set when ``kind`` is ``array``: what the elements are. An array is never archived as a scalar."""


@dataclass(frozen=True, slots=True)
class ArrayType:
    """The elements of an array column: archived as a child table, one record per element, or
    refused (``refused`` says why) so that the column must be excluded.
    """

    element: Column
    """The elements' type (kind, native type, length, precision, scale, nullable); its name is unused."""
    bounds: tuple[tuple[int, int], ...] = ()
    """Declared (lower, upper) index bounds per dimension (Firebird); empty: every value has its own
    (PostgreSQL, where neither the number of dimensions nor the bounds are declared)."""
    refused: str = ""
    """Why uttrekk cannot archive these elements faithfully (empty: it can)."""

    @property
    def size(self) -> int:
        """Elements in a value of the declared bounds."""
        n = 1
        for lower, upper in self.bounds:
            n *= upper - lower + 1
        return n


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A relation from ``columns`` of one table to ``ref_columns`` of ``ref_table``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None = None
    origin: str = "source"
    """Who says so: ``source`` (declared there), ``profile`` (confirmed by a person), ``pointer``
    (a rewritten physical address), ``group`` (a repeating group's child), ``array`` (an array
    column's child) or ``lobs`` (a file path)."""

    @property
    def checked_in_data(self) -> bool:
        """Relations whose values come from the data and may dangle (the others hold by construction)."""
        return self.origin in ("source", "profile")


@dataclass(frozen=True, slots=True)
class Lookup:
    """A pointer column whose value is replaced, on the server, by the key of the row it addresses.

    The join runs in the source database so no address map is held in memory; an address
    without a target row gives NULL.
    """

    column: str
    """Column of the table holding the address."""
    original: Column
    """That column as the source declares it (read again under ``keep_as`` when it is kept)."""
    target: Table
    address: str
    """``rowid``, ``ctid``, ``physloc``, ``recno`` or the name of a target column."""
    key: str | None
    """The target's key column; ``None``: the target's record number in ``order`` (a surrogate key)."""
    order: tuple[str, ...] = ()
    """The target's record order, for ``recno`` addresses and surrogate keys."""
    start: int = 1
    """The number of the first record for ``recno`` addresses."""
    keep_as: str | None = None
    """Name under which the original address is also read, when the profile keeps it."""


@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which rows of a table are extracted: the profile's ``where`` and ``period_column``.

    Kept on the table so that every read of it (rows, counts, key checks, pointer targets,
    relation checks) sees the same rows.
    """

    where: str = ""
    """An SQL condition, sent to the source as written."""
    period_column: str = ""
    """A date or timestamp column that must fall inside the period below."""
    start: str = ""
    """First day of the period (ISO date, inclusive); empty: no lower bound."""
    end: str = ""
    """Last day of the period (ISO date, inclusive; a timestamp is kept up to the next midnight)."""


@dataclass(frozen=True, slots=True)
class Table:
    """One source table (or view, or profile query, extracted as a table)."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    comment: str | None = None
    schema: str | None = None
    lookups: tuple[Lookup, ...] = ()
    """Pointer columns read as the key of the row they address (set by the keys stage)."""
    row_filter: RowFilter | None = None
    """The rows kept (the profile's filter); ``None``: every row."""
    view: bool = False
    """A view (or materialized view) of the source, extracted as a table."""
    query: str | None = None
    """The SELECT (from the profile) whose result is this table; ``None``: a table or view of the source."""
    large_objects: tuple[str, ...] = ()
    """Columns holding references to large objects stored apart from the rows (PostgreSQL ``oid``
    and ``lo``), read as the objects' bytes (set by the large-objects stage)."""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def first_named(owner: Any, name: str) -> Any:
    """The first of ``owner.tables`` named ``name`` (``KeyError`` when none is), by an index made on
    first use and kept in ``owner._by_name`` (a field of the frozen dataclass): a plan of 20,000 tables
    is asked for each of them."""
    index = owner._by_name
    if index is None:
        index = {}
        for t in owner.tables:
            index.setdefault(t.name, t)
        object.__setattr__(owner, "_by_name", index)
    try:
        return index[name]
    except KeyError:
        raise KeyError(name) from None


@dataclass(frozen=True, slots=True)
class Schema:
    """Everything reflected from one source."""

    tables: tuple[Table, ...]
    source_label: str = ""
    engine: str = ""
    notes: tuple[str, ...] = field(default=())

    _by_name: dict[str, Table] | None = field(default=None, init=False, repr=False, compare=False)
    """``table``'s index, made on first use."""

    def table(self, name: str) -> Table:
        table: Table = first_named(self, name)
        return table

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)


PROVENANCE_LABELS: dict[str, str] = {
    "dump_file": "dumpfil", "dump_size": "størrelse", "dump_sha256": "SHA-256", "dump_format": "format",
    "packed_as": "pakket som", "dumped_by": "laget med", "dumped_from": "laget fra", "dump_created": "laget",
    "dump_host": "vert", "dump_database": "database i dumpen", "restored_with": "lest inn med",
    "read_with": "lest med", "restored_at": "lest inn", "restore_notes": "merknader fra innlesingen",
    "source_files": "filer i kilden", "code_page": "kodetabell", "deleted_records": "slettede poster",
    "data_owner": "dataeier", "data_origin_timespan": "dataenes tidsrom",
}
"""The keys a source's ``provenance`` may use (a dump's origin and how it was read), with the
Norwegian label the extraction log gives each; every kind of dump uses these and no others."""


@dataclass(frozen=True)
class RenderField:
    """One field of a table file the server renders into its archival text (the fast path).

    ``column`` None is the record number (the surrogate key ``uttrekk_lopenr``). ``codes`` are
    the texts the field's code list accepts ("" included where the field may be empty); the
    server counts the values outside them.
    """

    column: str | None
    kind: str
    scale: int | None = None
    codes: tuple[str, ...] | None = None
    width: int | None = None
    """Fixed width: the field's width in characters (padded with blanks; NULL is all blanks)."""
    right: bool = False
    """Fixed width: aligned to the right (numbers)."""
    length_of: bool = False
    """The field holds the length of ``column``'s text (the fixed-width ``_lengde`` field)."""


@dataclass(frozen=True)
class RenderRequest:
    """What a table file holds when the server renders it: its fields in order, the record order,
    the charset (``ISO-8859-1`` or ``UTF-8``), the long-text limit and how numbers and booleans are spelt."""

    fields: tuple[RenderField, ...]
    order_by: tuple[str, ...]
    charset: str
    long_text_limit: int
    decimal_separator: str = ","
    true_text: str = "J"
    false_text: str = "N"
    fixed: bool = False
    """Fixed-width records (every field padded to its width, no separators) instead of delimited ones."""


@dataclass
class RenderedColumn:
    """Statistics of one column's rendered text, from one aggregate query per table: what the
    scan counts value by value (``extractor.scan.ColumnStats``), and why the column cannot take
    the fast path (``refusal``; empty when it can)."""

    values: int = 0
    empties: int = 0
    max_length: int = 0
    edge_blank: bool = False
    fraction: bool = False
    refusal: str = ""


@dataclass
class RenderedStatistics:
    """The aggregate of one table: its row count and each rendered column's statistics."""

    rows: int
    columns: dict[str, RenderedColumn]
