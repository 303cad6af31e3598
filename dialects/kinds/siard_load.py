"""Load a SIARD file's tables into a SQLite file in uttrekk's cache, values typed by their SIARD types.

Why SQLite, as for Access and dBase: everything downstream asks the source in SQL (keys proven in the
data, relations found from the data, dangling references, counts, profile filters and queries). The
load is one pass over each table's XML (``extractor.siard.rows``: streamed, one row in memory, every
LOB read and checked, each table file validated against its own XSD), in batches of ``BATCH`` rows or
``BATCH_BYTES``. Each table is created with its fields untyped (no affinity), so a value is stored as
``extractor.siard.types.decode`` gives it: an int, 1/0, bytes, or the exact text.

The description (``schema.json`` beside it) holds what the adapter reflects: tables under the names
they are archived by (a name two schemas share gets its schema's name in front), columns with their
SQL:2008 and original types and descriptions, keys, foreign keys, check constraints and views, the
archive's provenance, and every place the file does not match its metadata (``problems``).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

from extractor.siard import metadata as md
from extractor.siard.archive import SiardZip
from extractor.siard.layout import Leaf
from extractor.siard.rows import LobPlaces, LobReader, Problem, reading, rows

BATCH, BATCH_BYTES = 2000, 32 << 20
PROBLEMS_KEPT = 200
"""Problems listed by table, row and column; the rest are counted per table and check."""
ROW = "ux siard row"
"""The hidden first column of each loaded table: the row's number in the table file, from 1."""
READER = "uttrekk siard 1"
"""The reader's name and version, in the provenance; raise it when what is loaded changes."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(meta: md.Archive) -> dict[tuple[str, str], str]:
    """(schema, table) -> the name it is archived by: its own, or ``SCHEMA_TABLE`` when two schemas
    hold a table of the same name (compared without regard to case, as SQLite does)."""
    counts: dict[str, int] = {}
    for s in meta.schemas:
        for t in s.tables:
            counts[t.name.casefold()] = counts.get(t.name.casefold(), 0) + 1
    names: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for s in meta.schemas:
        for t in s.tables:
            name = t.name if counts[t.name.casefold()] == 1 else f"{s.name}_{t.name}"
            while name.casefold() in taken:
                name += "_"
            taken.add(name.casefold())
            names[(s.name, t.name)] = name
    return names


class _Problems:
    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    def __call__(self, p: Problem) -> None:
        key = f"{p.table}.{p.column}" if p.column else p.table
        self.counts[key] = self.counts.get(key, 0) + 1
        if len(self.kept) < PROBLEMS_KEPT:
            self.kept.append({"check": p.check, "table": p.table, "row": p.row, "column": p.column,
                              "message": p.message, "text": str(p)})


def load(path: Path, archive: SiardZip, meta: md.Archive, out: Path, quiet: bool) -> dict[str, Any]:
    names = table_names(meta)
    places = LobPlaces(path, meta.lob_folder)
    lobs = LobReader(archive, places)
    problems = _Problems()
    tables: list[dict[str, Any]] = []
    db = sqlite3.connect(out, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        for s in meta.schemas:
            for t in s.tables:
                tr = reading(meta, s, t)
                name = names[(s.name, t.name)]
                n = _load_table(db, name, tr, archive, lobs, problems, quiet)
                tables.append(_described(meta, s, t, tr.leaves, name, names, n))
        db.execute("COMMIT")
    finally:
        db.close()
    views = [{"schema": s.name, "name": v.name, "query": v.query or "", "query_original": v.query_original or "",
              "description": v.description or "", "rows": v.rows,
              "columns": [{"name": c.name, "type": c.type or c.type_name or "", "description": c.description or ""}
                          for c in v.columns]} for s in meta.schemas for v in s.views]
    return {"reader": READER, "version": meta.version, "dbname": meta.dbname, "description": meta.description or "",
            "producer": meta.producer or "", "data_owner": meta.data_owner or "",
            "data_origin_timespan": meta.data_origin_timespan or "", "archival_date": meta.archival_date or "",
            "archiver": meta.archiver or "", "archiver_contact": meta.archiver_contact or "",
            "database_product": meta.database_product or "", "digests": [list(d) for d in meta.digests],
            "schemas": [{"name": s.name, "description": s.description or "", "tables": len(s.tables)}
                        for s in meta.schemas],
            "tables": tables, "views": views, "problems": problems.kept, "problem_counts": problems.counts,
            "outside": lobs.outside}


def array_table(name: str, leaf: Leaf) -> str:
    """The side table of an array column's elements: (row of the parent, index from 1, value)."""
    return f"ux_array {name} {leaf.name}"


def _load_table(db: sqlite3.Connection, name: str, tr: Any, archive: SiardZip, lobs: LobReader,
                problems: _Problems, quiet: bool) -> int:
    cols = ", ".join([f"{_q(ROW)} INTEGER PRIMARY KEY", *(_q(leaf.name) for leaf in tr.leaves)])
    db.execute(f"CREATE TABLE {_q(name)} ({cols})")
    insert = f"INSERT INTO {_q(name)} VALUES ({', '.join('?' * (len(tr.leaves) + 1))})"
    arrays = [(i, array_table(name, leaf)) for i, leaf in enumerate(tr.leaves) if leaf.array]
    for _, side in arrays:
        db.execute(f"CREATE TABLE {_q(side)} (parent INTEGER NOT NULL, idx INTEGER NOT NULL, value, "
                   "PRIMARY KEY (parent, idx)) WITHOUT ROWID")
    elements: dict[str, list[tuple[int, int, object]]] = {side: [] for _, side in arrays}
    batch: list[list[object]] = []
    held = n = 0
    stream: Any = rows(archive, lobs, tr, problems, validate=True)
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        stream = tqdm(stream, total=tr.table.rows, desc=f"reading {name}", unit=" rows", leave=False, file=sys.stderr)
    for values in stream:
        n += 1
        for i, side in arrays:
            items = values[i]
            if isinstance(items, list):
                elements[side] += [(n, k, v) for k, v in enumerate(items, 1)]
                held += sum(len(v) for v in items if isinstance(v, bytes | str))
                values[i] = len(items)
        batch.append([n, *values])
        held += sum(len(v) for v in values if isinstance(v, bytes | str))
        if len(batch) >= BATCH or held > BATCH_BYTES:
            _flush(db, insert, batch, elements)
            held = 0
    _flush(db, insert, batch, elements)
    return n


def _flush(db: sqlite3.Connection, insert: str, batch: list[list[object]],
           elements: dict[str, list[tuple[int, int, object]]]) -> None:
    if batch:
        db.executemany(insert, batch)
        batch.clear()
    for side, items in elements.items():
        if items:
            db.executemany(f"INSERT INTO {_q(side)} VALUES (?, ?, ?)", items)
            items.clear()


def _comment(*parts: str | None) -> str | None:
    text = " ".join(p.strip() for p in parts if p and p.strip())
    return text or None


def _described(meta: md.Archive, s: md.Schema, t: md.Table, leaves: tuple[Leaf, ...], name: str,
               names: dict[tuple[str, str], str], count: int) -> dict[str, Any]:
    columns = []
    plain = {c.name for c in t.columns}
    for leaf in leaves:
        ty = leaf.type
        col = leaf.column
        nullable = col.nullable if leaf.name in plain else True
        part = f"Del av kolonnen {col.name}: {leaf.part}." if leaf.part else None
        default = f"Standardverdi: {col.default}." if col.default and not leaf.part else None
        original = col.type_original if not leaf.part else None
        typed = f"Type i SIARD-filen: {leaf.native_type.split(' (original ')[0]}" + (
            f"; i kildedatabasen: {original}." if original else ".")
        columns.append({"name": leaf.name, "native_type": leaf.native_type, "kind": ty.kind, "nullable": nullable,
                        "length": ty.length, "precision": ty.precision, "scale": ty.scale,
                        "float_bits": ty.float_bits, "timezone": ty.timezone,
                        "comment": _comment(col.description, part, default, typed),
                        "unknown_type": not ty.known, "array": leaf.array, "refused": leaf.refused,
                        "array_table": array_table(name, leaf) if leaf.array else ""})
    checks = [f"Kontrollregel {c.name}: {c.condition}." + (f" {c.description}" if c.description else "")
              for c in t.checks]
    fks = []
    for f in t.foreign_keys:
        target = names.get((f.referenced_schema or s.name, f.referenced_table))
        fks.append({"name": f.name, "columns": list(f.columns), "ref_table": target or f.referenced_table,
                    "ref_columns": list(f.referenced), "ref_schema": f.referenced_schema, "found": target is not None,
                    "description": f.description or ""})
    return {"name": name, "schema": s.name, "siard_name": t.name, "folder": t.folder, "rows": count,
            "declared_rows": t.rows, "comment": _comment(t.description, *checks),
            "primary_key": list(t.primary_key.columns) if t.primary_key else [],
            "primary_key_name": t.primary_key.name if t.primary_key else "",
            "unique_keys": [list(k.columns) for k in t.candidate_keys],
            "foreign_keys": fks, "checks": [{"name": c.name, "condition": c.condition} for c in t.checks],
            "columns": columns}
