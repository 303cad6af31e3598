"""Load the tables of a dBase/FoxPro source, exactly typed, into a SQLite file in uttrekk's cache.

Why SQLite and not a reader that streams the .dbf straight into the extract: everything downstream
asks the source questions in SQL (keys proven in the data, relations found from the data, pointer
lookups as joins, dangling references as anti-joins, code lists, counts, profile filters and
queries). Loading once into SQLite gives every one of them without a second engine, and the load is
a single sequential pass over the file with bounded memory.

Each table becomes ``ux_tN(recno INTEGER PRIMARY KEY, deleted, c0, c1, …)``: the record number,
the deletion flag, and each visible field untyped (no affinity), so a value is stored as
``dbase_fields`` gives it: digits as text, dates as ISO text, and a value that does not fit its type
as its text, for the scan to report. ``dbase_source`` shows each as a view with the field names.
"""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.errors import SourceError

from . import dbase_codepages as cp
from .dbase_files import Layout, TableFile
from .dbase_memo import MemoFile
from .dbase_table import Finding, TableReader, Undecodable

BATCH = 2000
SAMPLES = 12
"""Undecodable values listed in the error that asks for the code page."""
FINDINGS_SHOWN = 25
"""Findings listed per table (memo blocks missing or cut); the rest are counted."""
RECNO = "uttrekk_recno"
DELETED = "uttrekk_slettet"


@dataclass(frozen=True)
class CodePage:
    codec: str | None
    """``None``: the header names none and none was given (text must be ASCII)."""
    source: str
    """Where it came from, for the report: ``header (0x17, Norwegian OEM)``, ``profile``."""
    note: str = ""


def code_page(table: TableFile, given: str | None, override: bool) -> CodePage:
    """The code page of a table: the header's, unless the profile overrides it; the profile's or
    ``--codepage`` when the header names none; ``None`` (ask) when neither does."""
    h = table.header
    byte, name = h.language_driver, h.language_name
    own: tuple[str, str] | None = None
    if byte in cp.DRIVERS:
        codec, what = cp.DRIVERS[byte]
        own = (codec, f"header (language driver 0x{byte:02X}, {what})")
    elif name and cp.from_driver_name(name):
        own = (cp.from_driver_name(name) or "", f"header (language driver {name})")
    elif byte in cp.NO_CODEC or byte:
        what = cp.NO_CODEC.get(byte, "a language driver uttrekk does not know")
        if given is None:
            raise SourceError(f"{table.path.name}: the header names language driver 0x{byte:02X} ({what}), which "
                              "uttrekk cannot decode; give the code page the text is in with --codepage (or [source] "
                              "codepage in the profile)")
        return CodePage(given, "profile or --codepage", f"{table.name}: the header's language driver 0x{byte:02X} "
                                                        f"({what}) is read as {cp.shown(given)}, as the profile says")
    if own is None:
        if given is None:
            return CodePage(None, "none (the header names no code page: the text is plain ASCII)")
        return CodePage(given, "profile or --codepage (the header names none)")
    if given is None or given == own[0]:
        return CodePage(own[0], own[1])
    if override:
        return CodePage(given, "profile or --codepage (codepage_override)",
                        f"{table.name}: read as {cp.shown(given)} as the profile says (codepage_override), although "
                        f"its {own[1]} names {cp.shown(own[0])}")
    return CodePage(own[0], own[1], f"{table.name}: read as {cp.shown(own[0])}, as its {own[1]} says; the profile's "
                                    f"or --codepage's {cp.shown(given)} is not used (set [source] codepage_override = "
                                    "true to read it so)")


@dataclass
class Loaded:
    tables: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Collector:
    def __init__(self) -> None:
        self.undecodable: list[Undecodable] = []
        self.undecodable_count = 0
        self.findings: dict[str, list[Finding]] = {}
        self.finding_count: dict[str, int] = {}

    def finding(self, f: Finding) -> None:
        self.finding_count[f.table] = self.finding_count.get(f.table, 0) + 1
        shown = self.findings.setdefault(f.table, [])
        if len(shown) < FINDINGS_SHOWN:
            shown.append(f)

    def bad_text(self, u: Undecodable) -> None:
        self.undecodable_count += 1
        if len(self.undecodable) < SAMPLES:
            self.undecodable.append(u)


def load(layout: Layout, db: Path, given: str | None, override: bool, quiet: bool) -> Loaded:
    """Read every table into ``db`` (a new SQLite file); ``SourceError`` asking for the code page
    when text cannot be decoded, listing samples by table, record and field."""
    out = Loaded()
    pages = {t.name: code_page(t, given, override) for t in layout.tables}
    out.notes += [p.note for p in pages.values() if p.note]
    seen = _Collector()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        for i, table in enumerate(layout.tables, 1):
            out.tables.append(_load_table(conn, f"ux_t{i}", table, pages[table.name], seen, quiet, out.notes))
            if len(seen.undecodable) >= SAMPLES:
                break
        conn.execute("COMMIT")
    finally:
        conn.close()
    if seen.undecodable:
        raise SourceError(_ask_for_code_page(seen, pages))
    for name, shown in seen.findings.items():
        out.notes += [f"{f.table} record {f.recno}, field {f.field}: {f.what}" for f in shown]
        more = seen.finding_count[name] - len(shown)
        if more:
            out.notes.append(f"{name}: {more} more memo value(s) could not be read and are left empty (only the "
                             f"first {FINDINGS_SHOWN} are listed)")
    return out


def _load_table(conn: sqlite3.Connection, internal: str, table: TableFile, page: CodePage, seen: _Collector,
                quiet: bool, notes: list[str]) -> dict[str, Any]:
    h = table.header
    memo = None
    missing = ""
    if h.needs_memo:
        if table.memo is None:
            missing = f"the memo file ({table.name}.{h.memo_kind}) is not beside {table.path.name}"
            notes.append(f"{table.name}: {missing}: every memo value that points into it is left empty and listed")
        else:
            memo = MemoFile(table.memo, h.memo_kind, dbase3=h.version == 0x83)
    try:
        reader = TableReader(table.name, table.path, h, page.codec, memo, missing, seen.finding, seen.bad_text)
        names = [c.name for c in reader.columns]
        twice = sorted({n for n in names if [m.casefold() for m in names].count(n.casefold()) > 1})
        if twice:
            raise SourceError(f"{table.path.name}: the header names field(s) {', '.join(twice)} more than once; "
                              "the table is damaged")
        cols = ", ".join(f"c{j}" for j in range(len(names)))
        conn.execute(f"CREATE TABLE {internal} (recno INTEGER PRIMARY KEY, deleted INTEGER NOT NULL"
                     f"{', ' + cols if cols else ''})")
        marks = ", ".join("?" for _ in range(len(names) + 2))
        insert = f"INSERT INTO {internal} VALUES ({marks})"
        batch: list[list[Any]] = []
        deleted = 0
        rows = reader.rows()
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            rows = tqdm(rows, total=h.records, desc=f"reading {table.path.name}", unit=" records", leave=False,
                        file=sys.stderr)
        for recno, gone, values in rows:
            deleted += gone
            batch.append([recno, int(gone), *values])
            if len(batch) >= BATCH:
                conn.executemany(insert, batch)
                batch.clear()
        if batch:
            conn.executemany(insert, batch)
    except OSError as exc:
        raise SourceError(f"{table.path}: cannot be read ({exc.strerror or exc})") from None
    finally:
        if memo is not None:
            memo.close()
    return {"name": table.name, "internal": internal, "file": table.path.name,
            "memo": table.memo.name if table.memo else "", "what": h.what, "version": h.version,
            "updated": h.updated, "records": h.records, "deleted": deleted, "codepage": page.codec or "",
            "codepage_source": page.source, "container": h.container,
            "columns": [_column_facts(c) for c in reader.columns]}


def _column_facts(c: Any) -> dict[str, Any]:
    return {"name": c.name, "native": c.native_type, "kind": c.kind, "nullable": c.nullable, "length": c.length,
            "precision": c.precision, "scale": c.scale, "float_bits": c.float_bits}


def _ask_for_code_page(seen: _Collector, pages: dict[str, CodePage]) -> str:
    first = seen.undecodable[0]
    page = pages[first.table]
    samples = "; ".join(f"table {u.table} record {u.recno} field {u.field}: bytes "
                        f"{' '.join(f'{b:02X}' for b in sorted({b for b in u.data if b > 0x7F})[:6])} "
                        f"({cp.readings(u.data)})" for u in seen.undecodable)
    count = f"{seen.undecodable_count} value(s) found before uttrekk stopped looking"
    if page.codec is None:
        return (f"the header of {first.table} names no code page (language driver byte 0) and its text is not plain "
                "ASCII, so uttrekk cannot know which letters the bytes are and will not guess; give the code page with "
                f"--codepage NAME (or [source] codepage = \"NAME\" in the profile), e.g. cp865 (Norwegian DOS), cp850, "
                f"cp437, cp1252 (Windows) or iso-8859-1. What the bytes would be: {samples} ({count}). Nothing was read.")
    return (f"text in {first.table} holds bytes its code page {cp.shown(page.codec)} ({page.source}) does not "
            f"define, so the header's code page cannot be right for it; give the code page it was written in with "
            f"[source] codepage and codepage_override = true in the profile. Samples: {samples} ({count}). Nothing "
            "was read.")
