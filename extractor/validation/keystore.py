"""Key sets that stay in memory while small and spill to a temporary SQLite database when large.

Uniqueness, primary keys, foreign-key values and frequency lists are the only things validation
must remember across records. Each set lives in a dict until the store's budget of in-memory
entries is spent; then the largest set moves to a table in one temporary SQLite file (appended
in batches, indexed once at the end), so a 100-million-row extract validates in bounded memory.
The temporary folder is removed when the store closes; it also holds the side databases
(``side_db``) of tables that are not key sets, such as a tar's member list (file_index.py).

Keys are mostly integers written in increasing order (the extract is sorted by its key). Such
values are kept as a compact run: two arrays of 64-bit integers (value, first record), 16 bytes
an entry against some 130 for a string in a dict, and looked up by bisection. A value goes to the
run while it is a plain decimal (``str(int(v)) == v``, not negative, under 19 digits) greater than
the run's last; everything else goes to the dict. So a value above the run's last is in neither
(a plain decimal went to the dict only when it was not above the last, and the last only grows),
and any other plain decimal is looked for in both. A run entry counts as ``1 / RUN_WEIGHT`` of an
entry in the memory budget, which is checked after each batch of ``add_many``.
"""

from __future__ import annotations

import sqlite3
import tempfile
from array import array
from bisect import bisect_left
from collections import Counter as _Tally
from collections.abc import Iterator
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Any

from ..errors import OutputError

DEFAULT_MEMORY_KEYS = 2_000_000
"""Key entries kept in memory across all sets before the largest set spills to disk."""
_BATCH = 50_000
RUN_WEIGHT = 8
"""Run entries that count as one entry of the memory budget (16 bytes each against about 130 in a dict)."""
_RUN_LIMIT = 10 ** 18


def _int_of(value: str) -> int | None:
    """The value as an int if it may live in a run: a plain non-negative decimal under 19 digits."""
    if value.isdigit() and value.isascii() and len(value) < 19 and (value[0] != "0" or len(value) == 1):
        return int(value)
    return None


def _increasing(values: list[str], after: int, strict: bool) -> list[int] | None:
    """The values as ints if every one may live in a run and they rise (strictly or not) from ``after``.

    Decided in C for the batch: ``int`` and ``str`` both ways tell a plain decimal, the ends bound
    the rest once the order holds.
    """
    try:
        ints = list(map(int, values))
    except ValueError:
        return None
    if not ints or ints[0] < 0 or ints[-1] >= _RUN_LIMIT or list(map(str, ints)) != values:
        return None
    if strict:
        ok = ints[0] > after and all(map(lt, ints, islice(ints, 1, None)))
    else:
        ok = ints[0] >= after and not any(map(lt, islice(ints, 1, None), ints))
    return ints if ok else None


class _Run:
    """Increasing int values with the record each first occurs in."""

    __slots__ = ("values", "records")

    def __init__(self) -> None:
        self.values = array("q")
        self.records = array("q")

    def __len__(self) -> int:
        return len(self.values)

    @property
    def last(self) -> int:
        return self.values[-1] if self.values else -1

    def find(self, n: int) -> int | None:
        """The first record of ``n``, or None."""
        values = self.values
        if not values or n > values[-1]:
            return None
        i = bisect_left(values, n)
        return self.records[i] if i < len(values) and values[i] == n else None

    def items(self) -> Iterator[tuple[str, int]]:
        return zip(map(str, self.values), self.records, strict=True)

    def weight(self) -> int:
        return len(self.values) // RUN_WEIGHT


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
        self._side: list[sqlite3.Connection] = []
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

    def _grew(self, n: int = 1) -> None:
        self.in_memory += n
        while self.in_memory > self.memory_keys:
            biggest = max((s for s in self._sets if not s.spilled), key=lambda s: s.memory_size(), default=None)
            if biggest is None or biggest.memory_size() <= 0:
                return
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
            self._db = self._connect("keys.sqlite", 65536)
        return self._db

    def side_db(self, name: str, cache_kib: int = 8192) -> sqlite3.Connection:
        """Another database in the run's temporary folder, with a small page cache: for tables that are
        not key sets (a tar's member list), so they neither share the key sets' cache nor grow memory."""
        db = self._connect(f"{name}.sqlite", cache_kib)
        self._side.append(db)
        return db

    @property
    def folder(self) -> str:
        """Where the temporary databases go (for messages)."""
        return self.tmpdir or tempfile.gettempdir()

    def _connect(self, name: str, cache_kib: int) -> sqlite3.Connection:
        if self._dir is None:
            try:
                self._dir = tempfile.TemporaryDirectory(prefix="uttrekk-validate-", dir=self.tmpdir)
            except OSError as exc:
                raise OutputError(f"{self.folder}: cannot make a temporary folder for validation: "
                                  f"{exc.strerror or exc}; give --tmpdir a folder you can write to") from None
        db = sqlite3.connect(Path(self._dir.name) / name, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{cache_kib}",
                       f"temp_store_directory='{self._dir.name}'"):
            try:
                db.execute(f"PRAGMA {pragma}")
            except sqlite3.DatabaseError:
                pass
        db.execute("BEGIN")
        return db

    def new_table(self, columns: str) -> str:
        self._tables += 1
        name = f"t{self._tables}"
        self.db.execute(f"CREATE TABLE {name} ({columns})")
        return name

    def close(self) -> None:
        for db in self._side:
            db.close()
        self._side = []
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


class _FirstRecords(_Spillable):
    """Values with the record each first occurs in: a dict, plus increasing integers packed in a
    ``_Run``; both spill to one (value, record) table."""

    def __init__(self, store: KeyStore) -> None:
        super().__init__(store)
        self._first: dict[str, int] = {}
        self._run = _Run()

    def memory_size(self) -> int:
        return len(self._first) + self._run.weight()

    def spill(self) -> None:
        self.table = self.store.new_table("v BLOB, r INTEGER")
        self._batch = [(_b(v), r) for v, r in self._first.items()]
        self._batch.extend((v.encode(), r) for v, r in self._run.items())
        self._first = {}
        self._run = _Run()
        self._flush()


class UniqueTracker(_FirstRecords):
    """Values with the record they first occur in; tells which records repeat an earlier value.

    ``add`` returns the first record of a repeated value while in memory; after a spill the
    repeats are found by ``spilled_repeats`` at the end.
    """

    def add(self, value: str, record: int) -> int | None:
        if self.table is not None:
            self._append((_b(value), record))
            return None
        size = self.memory_size()
        first = self._add(value, record)
        if self.memory_size() > size:  # a new dict entry, or a run that grew by a whole RUN_WEIGHT
            self.store._grew()
        return first

    def _add(self, value: str, record: int) -> int | None:
        """``add`` in memory without the budget (``add_many`` counts it once for the batch)."""
        run = self._run
        n = _int_of(value)
        if n is not None:
            if n > run.last:
                run.values.append(n)
                run.records.append(record)
                return None
            first = run.find(n)
            if first is not None:
                return first
        first = self._first.get(value)
        if first is not None:
            return first
        self._first[value] = record
        return None

    def add_many(self, values: list[str], records: list[int]) -> list[tuple[int, int]]:
        """``add`` for each value in turn; returns (position, first record) of every repeat ``add`` would report.

        A batch of rising integers joins the run in one step; the budget is checked after the batch.
        """
        if self.table is not None:
            self._batch.extend(zip(map(_b, values), records, strict=True))
            if len(self._batch) >= _BATCH:
                self._flush()
            return []
        before = self.memory_size()
        repeats: list[tuple[int, int]] = []
        ints = _increasing(values, self._run.last, strict=True)
        if ints is not None:
            self._run.values.extend(ints)
            self._run.records.extend(records)
        else:
            add = self._add
            for k, value in enumerate(values):
                first = add(value, records[k])
                if first is not None:
                    repeats.append((k, first))
        self.store._grew(self.memory_size() - before)
        return repeats

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


class ValueSet(_FirstRecords):
    """Distinct values with the record each first occurs in."""

    def __init__(self, store: KeyStore) -> None:
        super().__init__(store)
        self._indexed = False

    def add(self, value: str, record: int) -> None:
        if self.table is not None:
            self._append((_b(value), record))
            return
        grown = self._add(value, record)
        if grown:
            self.store._grew(grown)

    def _add(self, value: str, record: int) -> int:
        """Add in memory; return by how much the budget grew (0 or 1)."""
        n = _int_of(value)
        if n is not None:
            run = self._run
            last = run.last
            if n > last:
                run.values.append(n)
                run.records.append(record)
                return 1 if len(run.values) % RUN_WEIGHT == 0 else 0
            if n == last or run.find(n) is not None:
                return 0
        if value in self._first:
            return 0
        self._first[value] = record
        return 1

    def add_many(self, values: list[str], records: list[int]) -> None:
        """``add`` for each value in turn; the budget is checked after the batch."""
        if not values:
            return
        if self.table is not None:
            self._batch.extend(zip(map(_b, values), records, strict=True))
            if len(self._batch) >= _BATCH:
                self._flush()
            return
        before = self.memory_size()
        ints = _increasing(values, self._run.last, strict=False)
        if ints is not None:
            run = self._run
            last = run.last
            for n, r in zip(ints, records, strict=True):  # rising: only the first of equal neighbours is new
                if n != last:
                    run.values.append(n)
                    run.records.append(r)
                    last = n
        elif self._run or any(map(str.isdigit, values)):  # ints may belong in the run
            add = self._add
            for value, record in zip(values, records, strict=True):
                add(value, record)
        else:
            # No ints anywhere: the first record of each new value in one pass in C.
            first = self._first
            batch = dict(zip(reversed(values), reversed(records), strict=True))
            for value in batch.keys() - first.keys():
                first[value] = batch[value]
        grown = self.memory_size() - before
        if grown:
            self.store._grew(grown)

    def _has(self, value: str) -> bool:
        n = _int_of(value)
        if n is not None and self._run.find(n) is not None:
            return True
        return value in self._first

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
            return self._has(value)
        table = self._index()
        return self.store.db.execute(f"SELECT 1 FROM {table} WHERE v = ? LIMIT 1", (_b(value),)).fetchone() is not None

    def __len__(self) -> int:
        if self.table is None:
            return len(self._first) + len(self._run)
        table = self._index()
        return int(self.store.db.execute(f"SELECT COUNT(DISTINCT v) FROM {table}").fetchone()[0])

    def missing_from(self, other: ValueSet) -> Iterator[tuple[str, int]]:
        """(value, first record) of the values in this set that ``other`` lacks, in record order."""
        if self.table is None:
            # In memory (against a spilled set: each value looked up there).
            has = other._has if other.table is None else other.__contains__
            found = [(v, r) for v, r in self._first.items() if not has(v)]
            if other.table is None and not other._first:
                their_run = other._run  # only a run: no dict to look in
                found += [(str(n), r) for n, r in zip(self._run.values, self._run.records, strict=True)
                          if their_run.find(n) is None]
            else:
                found += [(v, r) for v, r in self._run.items() if not has(v)]
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

    def add_many(self, values: list[str]) -> None:
        """``add`` for each value: each distinct value of the batch once, with its count."""
        counts = self._counts
        grown = 0
        for value, n in _Tally(values).items():
            if self.table is not None:
                self._append((_b(value), n))
                continue
            old = counts.get(value)
            if old is None:
                counts[value] = n
                grown += 1
            else:
                counts[value] = old + n
        if grown:
            self.store._grew(grown)

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
