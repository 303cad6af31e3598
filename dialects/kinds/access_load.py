"""Load an Access file into a SQLite database in uttrekk's cache: run as a child process.

``python -m dialects.kinds.access_load OUT MEMORY`` reads the Access file on its standard input
(opened read-only by the parent, read here with ``pread``), caps its own address space at MEMORY
bytes (the parent caps its time), and writes ``OUT/access.sqlite`` (one table per user table, values
as ``jet_values`` gives them, rows in the file's order, in batches of ``BATCH`` rows or
``BATCH_BYTES``, so memory holds one batch) and ``OUT/schema.json`` (tables, columns with Access's
types and uttrekk's kinds, keys, relations, descriptions, code lists, the system tables left out and
notes). A damaged or hostile file ends it with one line on standard error and exit status 2;
running out of the memory allowed, with status 3.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
from pathlib import Path
from typing import Any

BATCH, BATCH_BYTES = 500, 16 << 20
"""Rows written at a time: 500, or fewer when they hold more than 16 MiB of text and binary."""
READER = "uttrekk jet 1"
"""The reader's name and version, in the provenance; raise it when what is read changes."""


def load(fd: int, out: Path) -> dict[str, Any]:
    from .jet_catalog import attachment_file, describe, time_of_day
    from .jet_header import jet_header, refusal
    from .jet_pages import JetError, JetFile
    from .jet_tables import rows

    header = jet_header(os.pread(fd, 4096, 0))
    if isinstance(header, str):
        raise JetError(header)
    refused = refusal(header)
    if refused:
        raise JetError(refused)
    jet = JetFile(fd, header)
    described = describe(jet)
    db = sqlite3.connect(out / "access.sqlite")
    counts = {}
    try:
        for table, spec in described.tables:
            cols = ", ".join(f"{_quote(c['name'])} {c['sqlite']}" for c in spec["columns"])
            db.execute(f"CREATE TABLE {_quote(table.name)} ({cols})")
            insert = f"INSERT INTO {_quote(table.name)} VALUES ({', '.join('?' * len(spec['columns']))})"
            batch: list[list[Any]] = []
            n = held = 0
            unwrap = [i for i, c in enumerate(spec["columns"]) if c.get("decode") == "attachment"]
            clock = [i for i, c in enumerate(spec["columns"]) if c.get("decode") == "time_of_day"]
            for values in rows(jet, table):
                for i in clock:
                    if values[i] is not None:
                        values[i] = time_of_day(values[i])
                for i in unwrap:
                    if values[i] is not None:
                        try:
                            values[i] = attachment_file(values[i], jet.size * 1000)
                        except JetError as exc:
                            raise JetError(f"row {n + 1} of table {table.name}, column "
                                           f"{spec['columns'][i]['name']}: {exc}") from None
                batch.append(values)
                n += 1
                held += sum(len(v) for v in values if isinstance(v, bytes | str))
                if len(batch) >= BATCH or held > BATCH_BYTES:
                    db.executemany(insert, batch)
                    batch.clear()
                    held = 0
            db.executemany(insert, batch)
            counts[table.name] = n
            if n != table.rows:
                described.notes.append(f"table {table.name}: {n} rows read; its definition says {table.rows} (Access "
                                       "updates that count only when the file is closed cleanly or compacted)")
        db.commit()
    finally:
        db.close()
    schema = {"format": header.what, "engine": header.engine, "version": header.format, "reader": READER,
              "tables": [spec for _, spec in described.tables], "rows": counts, "system_tables": described.system,
              "notes": described.notes, "lost": described.lost}
    (out / "schema.json").write_text(json.dumps(schema, indent=1, ensure_ascii=False), encoding="utf-8")
    return schema


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def main(argv: list[str]) -> int:
    out, memory = Path(argv[1]), int(argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from .jet_pages import JetError

    try:
        load(0, out)
    except JetError as exc:
        print(exc, file=sys.stderr)
        return 2
    except MemoryError:
        print(f"reading the file needs more than the {memory >> 20} MiB of memory uttrekk allows it (a value "
              "declared larger than the file can hold?)", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
