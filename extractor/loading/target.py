"""Where a load writes: what SQLite and PostgreSQL share, and how ``--into`` picks one.

A target is written in one piece or not at all: SQLite into a new file beside the one named,
renamed into place at the end; PostgreSQL in one transaction, committed at the end. Either way
a target that holds anything is refused before anything is written, and nothing is ever dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .plan import Column


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Constraint:
    """A key to declare: ``kind`` is primary, unique or foreign."""

    kind: str
    name: str
    columns: list[str]
    target: str | None = None
    target_columns: list[str] | None = None


class Target:
    """The operations a load needs; SQL text is shared, types and writing differ."""

    label = ""
    errors: tuple[type[BaseException], ...] = ()
    """The driver's errors: a failure while writing becomes one ``OutputError``."""
    fraction_limit: int | None = None
    nul_in_text = True
    left = "nothing was loaded, the target is left as it was"
    """What a failed load leaves behind, said in its error."""
    TYPES: dict[str, str] = {}

    def clean(self, exc: BaseException) -> str:
        """The error's first line, without a password."""
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__

    def sql_type(self, kind: str) -> str:
        return self.TYPES[kind]

    def column_sql(self, c: Column) -> str:
        return f"{quote(c.name)} {self.sql_type(c.kind)}"

    def create_table(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        cols = ", ".join(f"{quote(n)} {t}" for n, t in columns)
        self.execute(f"CREATE TABLE {quote(name)} ({cols})")

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple[object, ...]]:
        raise NotImplementedError

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[object, ...]]) -> None:
        raise NotImplementedError

    def declare_all(self, work: list[tuple[str, list[str], list[Constraint]]]) -> None:
        """Declare NOT NULL and keys, per table: (table, NOT NULL columns, constraints), all verified."""
        raise NotImplementedError

    def comment(self, table: str, column: str | None, text: str) -> None:
        """PostgreSQL's COMMENT ON; SQLite has none (the descriptions are in ``uttrekk_beskrivelse``)."""

    def finish(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


def open_target(into: str) -> Target:
    """``postgresql://…`` (or ``postgresql+psycopg://…``) is PostgreSQL; anything else is a SQLite file."""
    low = into.lower()
    if low.startswith(("postgresql:", "postgresql+", "postgres:")):
        from .postgres_target import PostgresTarget
        return PostgresTarget(into)
    if "://" in into and not low.startswith("sqlite:"):
        from ..errors import ConfigError
        scheme = into.split("://", 1)[0]
        raise ConfigError(f"--into {scheme}://…: uttrekk loads into SQLite (a file name) or PostgreSQL "
                          f"(postgresql://…), not into {scheme}")
    from .sqlite_target import SqliteTarget
    path = into.split(":///", 1)[1] if low.startswith("sqlite:///") else into
    return SqliteTarget(path)
