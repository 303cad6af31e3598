"""Load into a SQLite file: written as a new file beside it, renamed into place when complete.

Exactness: SQLite stores a value by its column's affinity, and NUMERIC affinity would turn
``845.10`` into the float 845.1. So a decimal column is declared ``DECIMAL TEXT`` (TEXT affinity)
and holds the digits exactly as the extract writes them (``845.10``; compare with
``CAST(x AS REAL)`` or in Python with ``decimal.Decimal``). Dates, timestamps and times are ISO 8601
text (``DATE``, ``TIMESTAMP``, ``TIMESTAMPTZ``, ``TIME``: text always holding ``-`` or ``:``, so the
affinity leaves it alone), fraction digits as written; booleans are ``BOOLEAN`` 0/1; whole numbers
``INTEGER``; LOB files ``BLOB``.

SQLite cannot add a key to an existing table, so each table is loaded without constraints, and
the keys the data allow are declared by writing the table again with them (``declare``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ..errors import OutputError
from .target import Constraint, Target, quote


class SqliteTarget(Target):
    TYPES = {"text": "TEXT", "integer": "INTEGER", "decimal": "DECIMAL TEXT", "date": "DATE", "timestamp": "TIMESTAMP",
             "timestamptz": "TIMESTAMPTZ", "time": "TIME", "boolean": "BOOLEAN", "blob": "BLOB"}
    fraction_limit = None
    nul_in_text = True
    errors = (sqlite3.Error, OSError)

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.label = str(self.path)
        self._refuse_used()
        self.partial = self.path.with_name(f".{self.path.name}.uttrekk-partial")
        try:
            if self.partial.exists():
                self.partial.unlink()  # uttrekk's own leftover of an interrupted load
            self.conn = sqlite3.connect(self.partial, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise OutputError(f"{self.partial}: cannot create the database ({exc})") from None
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.execute("PRAGMA legacy_alter_table=ON")
        self.conn.execute("BEGIN")

    def _refuse_used(self) -> None:
        p = self.path
        if not p.exists() and not p.is_symlink():
            if not p.parent.is_dir():
                raise OutputError(f"{p}: the folder {p.parent} does not exist")
            return
        if p.is_symlink() or not p.is_file():
            raise OutputError(f"{p} exists and is not a plain file; give a new file name (nothing was written)")
        if p.stat().st_size == 0:
            return
        try:
            conn = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
            try:
                names = [r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 5")]
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            raise OutputError(f"{p} exists and is not a SQLite database; give a new file name "
                              "(nothing was written)") from None
        if names:
            raise OutputError(f"{p} is not empty (it holds {', '.join(names)}); uttrekk load writes only into a new "
                              "or empty database and never replaces anything: give a new file name")

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def query(self, sql: str) -> list[tuple[object, ...]]:
        return list(self.conn.execute(sql))

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[object, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        self.conn.executemany(f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES ({marks})", rows)

    def declare_all(self, work: list[tuple[str, list[str], list[Constraint]]]) -> None:
        for table, not_null, constraints in work:
            self._rewrite(table, not_null, constraints)

    def _rewrite(self, table: str, not_null: list[str], constraints: list[Constraint]) -> None:
        info = self.conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
        keep = {c for k in constraints if k.kind == "primary" for c in k.columns} | set(not_null)
        cols = [f"{quote(r[1])} {r[2]}{' NOT NULL' if r[1] in keep else ''}" for r in info]
        for k in constraints:
            names = ", ".join(map(quote, k.columns))
            if k.kind == "primary":
                cols.append(f"CONSTRAINT {quote(k.name)} PRIMARY KEY ({names})")
            elif k.kind == "unique":
                cols.append(f"CONSTRAINT {quote(k.name)} UNIQUE ({names})")
            else:
                assert k.target is not None and k.target_columns is not None
                cols.append(f"CONSTRAINT {quote(k.name)} FOREIGN KEY ({names}) REFERENCES {quote(k.target)} "
                            f"({', '.join(map(quote, k.target_columns))})")
        staging = f"{table}__uttrekk_ny"
        self.conn.execute(f"CREATE TABLE {quote(staging)} ({', '.join(cols)})")
        self.conn.execute(f"INSERT INTO {quote(staging)} SELECT * FROM {quote(table)}")
        self.conn.execute(f"DROP TABLE {quote(table)}")
        self.conn.execute(f"ALTER TABLE {quote(staging)} RENAME TO {quote(table)}")

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        bad = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        if bad:  # keys are verified before they are declared: this would be a bug
            raise RuntimeError(f"foreign_key_check found {len(bad)} violations after the load")
        self.conn.execute("PRAGMA journal_mode=DELETE")
        self.conn.close()
        self._refuse_used()  # nothing appeared there while the load ran
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        try:
            self.conn.close()
        finally:
            self.partial.unlink(missing_ok=True)
