"""Plain, frozen description of a source database, free of SQLAlchemy types.

Dialects translate what they reflect into these classes at the boundary, so every later stage
(plan, extract, describe) works on the same small vocabulary whatever the source engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "integer", "decimal", "float", "date", "timestamp", "time", "boolean",
    "string", "char", "binary", "unknown",
]
"""What a column holds, independent of the engine: the dialect maps native types onto this."""

KINDS: tuple[str, ...] = (
    "integer", "decimal", "float", "date", "timestamp", "time", "boolean",
    "string", "char", "binary", "unknown",
)


@dataclass(frozen=True)
class Column:
    """One source column as declared."""

    name: str
    native_type: str
    kind: Kind
    nullable: bool = True
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    comment: str | None = None
    timezone: bool = False
    codes: tuple[str, ...] = ()
    """Allowed values the source declares (an enum type, a CHECK … IN list), in declared order."""
    codes_source: str = ""
    """Where ``codes`` come from, in Norwegian for the field description (``enum-typen status``)."""


@dataclass(frozen=True)
class ForeignKey:
    """A relation from ``columns`` of one table to ``ref_columns`` of ``ref_table``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None = None
    declared: bool = True


@dataclass(frozen=True)
class Table:
    """One source table (or view extracted as a table)."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    comment: str | None = None
    schema: str | None = None

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Schema:
    """Everything reflected from one source."""

    tables: tuple[Table, ...]
    source_label: str = ""
    engine: str = ""
    notes: tuple[str, ...] = field(default=())

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)
