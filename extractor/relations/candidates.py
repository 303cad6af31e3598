"""What ``find_relations`` compares and finds: column statistics, keys, candidates, the whole result."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

CONFIDENCES = ("high", "medium", "low")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ColumnStats:
    """One column's facts from the statistics query."""

    table: str
    column: str
    kind: str
    """``integer`` or ``text``: only columns of the same family are compared."""
    native_type: str
    rows: int
    non_null: int
    distinct: int
    low: Any
    high: Any

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class Key:
    """A single column that identifies the rows of its table: what a reference can point at."""

    stats: ColumnStats
    origin: str
    weak: bool = False
    """Only the first unique column of a table without any other key: referred to only by a name."""


@dataclass
class Candidate:
    """A column whose values are (nearly all) found in a key of another or the same table."""

    table: str
    column: str
    ref_table: str
    ref_column: str
    distinct: int
    rows: int
    orphan_values: int
    orphan_rows: int
    name_level: int
    name_reason: str
    key_origin: str
    key_distinct: int
    same_type: bool
    chance: float | None = None
    examples: tuple[str, ...] = ()
    confidence: str = ""
    ambiguous: tuple[str, ...] = ()
    """Other keys that hold its values just as well: the relation is one of these or none."""
    also_in: tuple[str, ...] = ()
    """Other keys that hold its values, judged less likely."""

    @property
    def found(self) -> int:
        return self.distinct - self.orphan_values

    @property
    def coverage(self) -> float:
        return self.found / self.distinct if self.distinct else 0.0

    @property
    def target(self) -> str:
        return f"{self.ref_table}.{self.ref_column}"

    @property
    def arrow(self) -> str:
        return f"{self.table}.{self.column} -> {self.ref_table}({self.ref_column})"

    def evidence(self) -> str:
        """One line a person can check: coverage, counts, orphans, name and key."""
        parts = [f"{_percent(self.found, self.distinct)} of {self.distinct:,} distinct value(s) found in "
                 f"{self.target} ({self.rows:,} rows), "
                 + (f"{self.orphan_values:,} orphan value(s) in {self.orphan_rows:,} row(s)"
                    + (f" (e.g. {', '.join(self.examples)})" if self.examples else "")
                    if self.orphan_values else "0 orphans")]
        if self.name_level:
            parts.append(f"name: {self.name_reason}")
        else:
            parts.append(f"no name evidence; values this spread fit the key by chance about {self.chance:.0e}"
                         if self.chance is not None else "no name evidence; distinct text values all in the key")
        if self.same_type:
            parts.append("same type")
        parts.append(f"key: {self.key_origin}")
        if self.ambiguous:
            parts.append(f"ambiguous: also fully in {listed(self.ambiguous)}")
        elif self.also_in:
            parts.append(f"also in {listed(self.also_in)} (less likely)")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table, "column": self.column, "references": self.ref_table, "ref_column": self.ref_column,
            "confidence": self.confidence, "coverage": round(self.coverage, 6), "distinct": self.distinct,
            "found": self.found, "orphan_values": self.orphan_values, "rows": self.rows,
            "orphan_rows": self.orphan_rows, "orphan_examples": list(self.examples),
            "name": {"level": self.name_level, "evidence": self.name_reason}, "key": self.key_origin,
            "key_distinct": self.key_distinct, "same_type": self.same_type, "chance": self.chance,
            "ambiguous_with": list(self.ambiguous), "also_in": list(self.also_in), "evidence": self.evidence(),
        }


@dataclass
class Relations:
    """What ``find_relations`` found, and what it took."""

    source: str
    engine: str
    tables: int
    rows: int
    columns: int
    """Source columns compared with at least one key."""
    keys: int
    pairs: int
    """(column, key) pairs checked on the server."""
    settled: int
    """(column, key) pairs the statistics settle: the key holds every integer of its range, and the
    column's values lie in that range."""
    queries: int
    seconds: float
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "engine": self.engine, "tables": self.tables, "rows": self.rows,
                "columns_compared": self.columns, "keys": self.keys, "pairs_checked": self.pairs,
                "pairs_settled_by_statistics": self.settled,
                "queries": self.queries, "seconds": round(self.seconds, 3),
                "relations": [c.as_dict() for c in self.candidates], "notes": list(self.notes)}


def listed(items: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def _percent(found: int, total: int) -> str:
    if total == 0:
        return "0%"
    if found == total:
        return "100%"
    return f"{math.floor(1000 * found / total) / 10:g}%"
