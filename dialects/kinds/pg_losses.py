"""What a restore lost: what the dump says it holds against what the restored databases hold.

A half-restored database must never look like a whole extract, so after every restore uttrekk
compares: each table the dump creates must exist, and each table whose rows the dump carries
(COPY blocks and ``INSERT … VALUES`` of a plain dump, counted while it was read) must hold that
many. Archive formats do not count their rows, so there a table is lost when it is missing, when
``pg_restore`` reported an error for its data, or when it stopped before or while restoring them.
A loss stops the run (one ``SourceError``) unless ``accept_losses`` names it: by table (``schema.table``
or ``table``), ``large objects``, or ``cut short`` for a dump whose end is missing. Everything
else the restore said (missing roles or extensions no table needs, skipped owners and grants) is a
note for the report, grouped so that one cause is one line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

SHOWN = 8

LARGE_OBJECTS = "large objects"
CUT_SHORT = "cut short"


@dataclass(frozen=True)
class Loss:
    key: str
    """What ``accept_losses`` names to accept it: ``schema.table``, ``large objects``, ``cut short``."""
    database: str
    what: str
    """One line: what is missing and why."""

    def accepted_by(self, accept: Iterable[str]) -> bool:
        names = {a.strip().lower() for a in accept}
        return self.key.lower() in names or self.key.rpartition(".")[2].lower() in names

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def from_dict(data: dict[str, Any]) -> Loss:
    return Loss(str(data.get("key", "")), str(data.get("database", "")), str(data.get("what", "")))


def check_tables(conn: Any, database: str, tables: Mapping[tuple[str, str], tuple[int | None, str]]) -> list[Loss]:
    """``tables``: (schema, table) -> (rows the dump carries or None, why it may be missing); the
    tables that are missing or hold fewer rows, read through ``conn`` (psycopg, on ``database``)."""
    from psycopg import sql

    losses = []
    for (schema, table), (rows, why) in sorted(tables.items()):
        key = f"{schema}.{table}"
        found = conn.execute("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p', 'f', 'm')",
                             (schema, table)).fetchone()
        if found is None:
            losses.append(Loss(key, database, f"table {key} was not restored" + (f" ({why})" if why else "")))
            continue
        if rows is None or found[0] == "f":
            continue
        only = sql.SQL("ONLY ") if found[0] == "r" else sql.SQL("")
        held = conn.execute(sql.SQL("SELECT count(*) FROM {}{}").format(only, sql.Identifier(schema, table))).fetchone()[0]
        if held < rows:
            losses.append(Loss(key, database, f"table {key}: the dump holds {rows} rows, {held} were restored"
                                              + (f" ({why})" if why else "")))
    return losses


def grouped(failures: Iterable[tuple[int | str, str, str]], where: str = "line") -> list[str]:
    """Failed statements as notes, one per message: ``message: N statements (lines 3, 9, …)``, or
    with one statement ``line 3: CREATE EXTENSION dblink: message``."""
    by_message: dict[str, list[tuple[int | str, str]]] = defaultdict(list)
    for at, what, message in failures:
        by_message[message].append((at, what))
    notes = []
    for message, items in by_message.items():
        if len(items) == 1:
            at, what = items[0]
            notes.append(f"{where} {at}: {what}: {message}" if at != "" else f"{what}: {message}")
            continue
        places = ", ".join(str(at) for at, _ in items[:SHOWN]) + (", …" if len(items) > SHOWN else "")
        notes.append(f"{message}: {len(items)} statements ({where}s {places}; the first: {items[0][1]})")
    return notes


def skipped_note(skipped: list[str], owners: set[str]) -> str:
    """One line for what was left out on purpose: ``skipped`` (``3 privilege statements`` …) and
    the roles that own objects in the dump (none of them exists in the throwaway server)."""
    if owners:
        names = sorted(owners)
        skipped = [*skipped, "the owners (" + ", ".join(names[:SHOWN]) + (", …" if len(names) > SHOWN else "") + ")"]
    if not skipped:
        return ""
    return ("left out on purpose: " + ", ".join(skipped)
            + "; roles are not restored and every restored object belongs to the restoring role, which changes no value")
