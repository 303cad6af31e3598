"""The files of the input by path, kept in a table on disk: a tar or a folder may hold millions.

Every member of a tar (and every file of an extract folder) is one row: name, kind, where its
bytes are, size. Rows are appended in batches to a table of a small SQLite database in the run's
temporary folder (``KeyStore.side_db``), never kept in Python lists or dicts, so memory stays flat
whatever the member count. Lookups go through the primary key; the DIAS checks join their
listings against the table. Names are stored as exact UTF-8 bytes (a tar name may hold undecodable
bytes), so they sort and compare as code points, the way Python sorts the same strings.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

FILE, FOLDER, OTHER = 0, 1, 2
"""Kinds: a regular file; a folder; anything else (a link or device in an extract folder, never opened)."""
_BATCH = 10_000


class IndexedFile(NamedTuple):
    name: str
    kind: int
    offset: int
    size: int


class DuplicateName(Exception):
    """Two members with the same (normalised) name."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def blob(name: str) -> bytes:
    return name.encode("utf-8", "surrogatepass")


def text(value: bytes) -> str:
    return value.decode("utf-8", "surrogatepass")


def prefix_range(prefix: str) -> tuple[bytes, bytes]:
    """Byte bounds of the names that start with ``prefix`` (which ends with ``/``): [prefix, prefix with '/' -> '0')."""
    low = blob(prefix)
    return low, low[:-1] + b"0"


class FileIndex:
    """Names with kind, offset and size, in insertion order ``seq``; ``add`` then ``done``, then look up."""

    def __init__(self, db: sqlite3.Connection, table: str = "files") -> None:
        self.db = db
        self.table = table
        self.count = 0
        self._batch: list[tuple[bytes, int, int, int, int]] = []
        db.execute(f"CREATE TABLE {table} (name BLOB PRIMARY KEY, seq INTEGER, kind INTEGER, "
                   "offset INTEGER, size INTEGER) WITHOUT ROWID")

    def add(self, name: str, kind: int, offset: int, size: int) -> None:
        """Append one name; raises ``DuplicateName`` (at the latest in ``done``) when a name comes twice."""
        self.count += 1
        self._batch.append((blob(name), self.count, kind, offset, size))
        if len(self._batch) >= _BATCH:
            self._flush()

    def done(self) -> None:
        self._flush()

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        before = self.db.total_changes
        self.db.executemany(f"INSERT OR IGNORE INTO {self.table} VALUES (?, ?, ?, ?, ?)", batch)
        if self.db.total_changes - before == len(batch):
            return
        for name, seq, *_ in batch:  # the first occurrence was kept: a row whose seq differs is the repeat
            (kept,) = self.db.execute(f"SELECT seq FROM {self.table} WHERE name = ?", (name,)).fetchone()
            if kept != seq:
                raise DuplicateName(text(name))

    def get(self, name: str) -> IndexedFile | None:
        row = self.db.execute(f"SELECT kind, offset, size FROM {self.table} WHERE name = ?", (blob(name),)).fetchone()
        return IndexedFile(name, *row) if row else None

    def is_folder(self, name: str) -> bool:
        """A folder entry, or a folder only implied by the names under it."""
        found = self.get(name)
        if found is not None:
            return found.kind == FOLDER
        low, high = prefix_range(name + "/")
        return self.db.execute(f"SELECT 1 FROM {self.table} WHERE name >= ? AND name < ? LIMIT 1",
                               (low, high)).fetchone() is not None

    def under(self, prefix: str) -> Iterator[IndexedFile]:
        """Every entry whose name starts with ``prefix`` ('' for all, else ending in ``/``), sorted by name."""
        if prefix:
            rows = self.db.execute(f"SELECT name, kind, offset, size FROM {self.table} WHERE name >= ? AND name < ? "
                                   "ORDER BY name", prefix_range(prefix))
        else:
            rows = self.db.execute(f"SELECT name, kind, offset, size FROM {self.table} ORDER BY name")
        for name, kind, offset, size in rows:
            yield IndexedFile(text(name), kind, offset, size)
