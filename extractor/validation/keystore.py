"""Key sets that stay in memory while small and spill to a temporary SQLite database when large.

Uniqueness, primary keys, foreign-key values and frequency lists are the only things validation
must remember across records. Each set lives in a dict until the store's budget of in-memory
entries is spent; then the largest set moves to a table in one temporary SQLite file (appended
in batches, indexed once at the end), so a 100-million-row extract validates in bounded memory.
The temporary folder is removed when the store closes.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_MEMORY_KEYS = 2_000_000
"""Key entries kept in memory across all sets before the largest set spills to disk."""
_BATCH = 50_000


def _b(value: str) -> bytes:
    """Values may hold undecodable bytes (lone surrogates); SQLite gets them as exact UTF-8 bytes."""
    return value.encode("utf-8", "surrogatepass")


def _s(value: bytes) -> str:
    return value.decode("utf-8", "surrogatepass")


class KeyStore:
    """Owns the temporary database and the memory budget shared by every set."""

    def __init__(self, memory_keys: int = DEFAULT_MEMORY_KEYS, tmpdir: str | None = None) -> None:
        self.memory_keys = max(1, memory_keys)
        self.tmpdir = tmpdir
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._db: sqlite3.Connection | None = None
        self._sets: list[_Spillable] = []
        self._tables = 0
        self.in_memory = 0
        self.spilled = 0

    # --- sets ---

    def unique(self) -> UniqueTracker:
        return self._register(UniqueTracker(self))

    def values(self) -> ValueSet:
        return self._register(ValueSet(self))

    def counter(self) -> Counter:
        return self._register(Counter(self))

    def _register(self, s: Any) -> Any:
        self._sets.append(s)
        return s

    def _grew(self) -> None:
        self.in_memory += 1
        if self.in_memory > self.memory_keys:
            biggest = max((s for s in self._sets if not s.spilled), key=lambda s: s.memory_size(), default=None)
            if biggest is not None and biggest.memory_size() > 0:
                biggest.to_disk()

    def _forget(self, s: _Spillable) -> None:
        if not s.spilled:
            self.in_memory -= s.memory_size()
        if s in self._sets:
            self._sets.remove(s)
        if s.table:
            self.db.execute(f"DROP TABLE IF EXISTS {s.table}")

    # --- database ---

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._dir = tempfile.TemporaryDirectory(prefix="uttrekk-validate-", dir=self.tmpdir)
            self._db = sqlite3.connect(Path(self._dir.name) / "keys.sqlite", isolation_level=None)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", "cache_size=-65536",
                           f"temp_store_directory='{self._dir.name}'"):
                try:
                    self._db.execute(f"PRAGMA {pragma}")
                except sqlite3.DatabaseError:
                    pass
            self._db.execute("BEGIN")
        return self._db

    def new_table(self, columns: str) -> str:
        self._tables += 1
        name = f"t{self._tables}"
        self.db.execute(f"CREATE TABLE {name} ({columns})")
        return name

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Spillable:
    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self.table: str | None = None
        self._batch: list[tuple[Any, ...]] = []

    @property
    def spilled(self) -> bool:
        return self.table is not None

    def memory_size(self) -> int:
        raise NotImplementedError

    def spill(self) -> None:
        raise NotImplementedError

    def to_disk(self) -> None:
        if self.table is None:
            self.store.in_memory -= self.memory_size()
            self.store.spilled += 1
            self.spill()

    def _append(self, row: tuple[Any, ...]) -> None:
        self._batch.append(row)
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch and self.table:
            marks = ",".join("?" * len(self._batch[0]))
            self.store.db.executemany(f"INSERT INTO {self.table} VALUES ({marks})", self._batch)
        self._batch = []

    def close(self) -> None:
        self._batch = []
        self.store._forget(self)


class UniqueTracker(_Spillable):
    """Values with the record they first occur in; tells which records repeat an earlier value.

    ``add`` returns the first record of a repeated value while in memory; after a spill the
    repeats are found by ``spilled_repeats`` at the end.
    """

    def __init__(self, store: KeyStore) -> None:
        super().__init__(store)
        self._first: dict[str, int] = {}

    def memory_size(self) -> int:
        return len(self._first)

    def add(self, value: str, record: int) -> int | None:
        if self.table is not None:
            self._append((_b(value), record))
            return None
        first = self._first.get(value)
        if first is not None:
            return first
        self._first[value] = record
        self.store._grew()
        return None

    def add_many(self, values: list[str], records: list[int]) -> list[tuple[int, int]]:
        """``add`` for each value in turn; returns (position, first record) of every repeat ``add`` would report.

        While the store's budget has room the values go straight into the dict; the value that
        would pass the budget, and all after it, go through ``add`` (which spills as it would).
        """
        repeats: list[tuple[int, int]] = []
        k, n = 0, len(values)
        if self.table is None:
            store = self.store
            room = store.memory_keys - store.in_memory
            first_of = self._first
            get = first_of.get
            added = 0
            while k < n and added < room:
                value = values[k]
                first = get(value)
                if first is None:
                    first_of[value] = records[k]
                    added += 1
                else:
                    repeats.append((k, first))
                k += 1
            store.in_memory += added
        add = self.add
        while k < n:
            first = add(values[k], records[k])
            if first is not None:
                repeats.append((k, first))
            k += 1
        return repeats

    def spill(self) -> None:
        self.table = self.store.new_table("v BLOB, r INTEGER")
        self._batch = [(_b(v), r) for v, r in self._first.items()]
        self._first = {}
        self._flush()

    def spilled_repeats(self) -> Iterator[tuple[str, int, list[int], int]]:
        """(value, first record, some later records, number of later records) for values repeated after the spill."""
        if self.table is None:
            return
        self._flush()
        db = self.store.db
        db.execute(f"CREATE INDEX {self.table}_v ON {self.table}(v, r)")
        query = f"SELECT v, MIN(r), COUNT(*) FROM {self.table} GROUP BY v HAVING COUNT(*) > 1"
        for value, first, count in db.execute(query).fetchall():
            later = [r for (r,) in db.execute(f"SELECT r FROM {self.table} WHERE v = ? AND r > ? ORDER BY r LIMIT 20",
                                               (value, first))]
            yield _s(value), first, later, count - 1


class ValueSet(_Spillable):
    """Distinct values with the record each first occurs in."""

    def __init__(self, store: KeyStore) -> None:
        super().__init__(store)
        self._first: dict[str, int] = {}
        self._indexed = False

    def memory_size(self) -> int:
        return len(self._first)

    def add(self, value: str, record: int) -> None:
        if self.table is not None:
            self._append((_b(value), record))
            return
        if value not in self._first:
            self._first[value] = record
            self.store._grew()

    def spill(self) -> None:
        self.table = self.store.new_table("v BLOB, r INTEGER")
        self._batch = [(_b(v), r) for v, r in self._first.items()]
        self._first = {}
        self._flush()

    def _index(self) -> str:
        self.to_disk()
        assert self.table is not None
        self._flush()
        if not self._indexed:
            self.store.db.execute(f"CREATE INDEX {self.table}_v ON {self.table}(v)")
            self._indexed = True
        return self.table

    def __contains__(self, value: str) -> bool:
        if self.table is None:
            return value in self._first
        table = self._index()
        return self.store.db.execute(f"SELECT 1 FROM {table} WHERE v = ? LIMIT 1", (_b(value),)).fetchone() is not None

    def __len__(self) -> int:
        if self.table is None:
            return len(self._first)
        table = self._index()
        return int(self.store.db.execute(f"SELECT COUNT(DISTINCT v) FROM {table}").fetchone()[0])

    def missing_from(self, other: ValueSet) -> Iterator[tuple[str, int]]:
        """(value, first record) of the values in this set that ``other`` lacks, in record order."""
        if self.table is None and other.table is None:
            found = [(v, r) for v, r in self._first.items() if v not in other._first]
            yield from sorted(found, key=lambda x: x[1])
            return
        if self.table is None:
            # Small set against a spilled one: look each value up.
            found = [(v, r) for v, r in self._first.items() if v not in other]
            yield from sorted(found, key=lambda x: x[1])
            return
        mine = self._index()
        theirs = other._index()
        query = (f"SELECT a.v, MIN(a.r) FROM {mine} a WHERE NOT EXISTS (SELECT 1 FROM {theirs} b WHERE b.v = a.v) "
                 "GROUP BY a.v ORDER BY MIN(a.r)")
        for value, record in self.store.db.execute(query):
            yield _s(value), record


class Counter(_Spillable):
    """How often each value occurs."""

    def __init__(self, store: KeyStore) -> None:
        super().__init__(store)
        self._counts: dict[str, int] = {}

    def memory_size(self) -> int:
        return len(self._counts)

    def add(self, value: str) -> None:
        if self.table is not None:
            self._append((_b(value), 1))
            return
        n = self._counts.get(value)
        if n is None:
            self._counts[value] = 1
            self.store._grew()
        else:
            self._counts[value] = n + 1

    def spill(self) -> None:
        self.table = self.store.new_table("v BLOB, n INTEGER")
        self._batch = [(_b(v), n) for v, n in self._counts.items()]
        self._counts = {}
        self._flush()

    def top(self, limit: int) -> tuple[int, list[tuple[str, int]]]:
        """(number of distinct values, the ``limit`` most frequent values with counts)."""
        if self.table is None:
            items = sorted(self._counts.items(), key=lambda x: (-x[1], x[0]))
            return len(items), items[:limit]
        self._flush()
        db = self.store.db
        distinct = db.execute(f"SELECT COUNT(DISTINCT v) FROM {self.table}").fetchone()[0]
        rows = db.execute(f"SELECT v, SUM(n) c FROM {self.table} GROUP BY v ORDER BY c DESC, v LIMIT ?", (limit,))
        return int(distinct), [(_s(v), int(c)) for v, c in rows]
