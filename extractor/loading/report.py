"""What a load could not do as the extract says, value by value: written as it happens, never kept in memory.

Every line goes to the report file (tab-separated, UTF-8, with ``\\t``, ``\\n``, ``\\r`` and
``\\\\`` escaped) and to the table ``uttrekk_avvik`` in the loaded database (through ``sink``), so
the raw text of a value that could not be loaded typed is kept in both. Counts per table, column
and kind of problem, with a few examples, are kept for the summary on the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

EXAMPLES = 3
NOTES_SHOWN = 20
MAX_TALLIES = 10_000
"""Distinct (table, field, kind) counted apart for the summary; beyond, they are counted as one."""


@dataclass(frozen=True, slots=True)
class Line:
    table: str
    record: int | None
    key: str | None
    column: str | None
    value: str | None
    what: str


def escape(text: str | None) -> str:
    if text is None:
        return ""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class Tally:
    count: int = 0
    examples: list[Line] = field(default_factory=list)


@dataclass
class TableResult:
    name: str
    origin: str
    records: int = 0
    loaded: int = 0
    declared: int | None = None


class LoadReport:
    """Lines as they come; counts and a few examples for the summary."""

    HEADER = "tabell\tpost\tnokkel\tfelt\tverdi\thva\n"

    def __init__(self, out: TextIO, sink: Callable[[Line], None]) -> None:
        self.out = out
        self.sink = sink
        self.tallies: dict[tuple[str, str | None, str], Tally] = {}
        self.tables: dict[str, TableResult] = {}
        self.notes: list[str] = []
        self.keys: list[str] = []
        self.lines = 0
        out.write(self.HEADER)

    def add(self, line: Line) -> None:
        self.lines += 1
        self.out.write("\t".join([escape(line.table), "" if line.record is None else str(line.record),
                                  escape(line.key), escape(line.column), escape(line.value), escape(line.what)]) + "\n")
        self.sink(line)
        kind = line.what.split(";", 1)[0]
        key = (line.table, line.column, kind)
        if key not in self.tallies and len(self.tallies) >= MAX_TALLIES:
            key = ("…", None, "other problems")
        tally = self.tallies.setdefault(key, Tally())
        tally.count += 1
        if len(tally.examples) < EXAMPLES:
            tally.examples.append(line)

    def note(self, text: str) -> None:
        """Something the load did otherwise than the extract says, not about one value (a renamed table)."""
        self.notes.append(text)
        self.out.write("\t".join(["", "", "", "", "", escape("note: " + text)]) + "\n")

    def summary(self, target: str, report_path: str) -> str:
        rows = sum(t.loaded for t in self.tables.values())
        out = [f"Loaded {len(self.tables)} table(s), {rows:,} row(s) into {target}."]
        for t in self.tables.values():
            extra = ""
            if t.declared is not None and t.declared != t.records:
                extra = f" (addml.xml declares {t.declared:,})"
            skipped = f", {t.records - t.loaded:,} record(s) not loaded" if t.records != t.loaded else ""
            out.append(f"  {t.name}: {t.loaded:,} row(s){skipped}{extra}  [{t.origin}]")
        if self.keys:
            out.append("Keys:")
            out += [f"  {k}" for k in self.keys]
        if self.notes:
            out.append("Notes:")
            out += [f"  {n}" for n in self.notes[:NOTES_SHOWN]]
            if len(self.notes) > NOTES_SHOWN:
                out.append(f"  … and {len(self.notes) - NOTES_SHOWN:,} more in {report_path}")
        if self.tallies:
            out.append(f"Not loaded as the extract says ({self.lines:,} line(s) in {report_path} and in the table "
                       "uttrekk_avvik):")
            for (table, column, kind), tally in sorted(self.tallies.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
                where = f"{table}.{column}" if column else table
                shown = ", ".join(f"record {ex.record}: {ex.value!r}" if ex.record is not None else repr(ex.value)
                                  for ex in tally.examples)
                out.append(f"  {where}: {tally.count:,} x {kind} ({shown})")
        else:
            out.append(f"Every value was loaded as the extract says (report: {report_path}).")
        return "\n".join(out)
