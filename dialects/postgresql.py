"""PostgreSQL adapter (psycopg 3). Tested on PostgreSQL 15; any version SQLAlchemy 2 supports.

Session: one ``REPEATABLE READ, READ ONLY`` transaction for the whole run, so the scan and every
table see the same snapshot and foreign keys hold while the system is in use; PostgreSQL refuses
any write in it.

Types: ``numeric`` without precision keeps every digit (``decimal``); ``money`` is selected as
``numeric`` (its text form depends on the server's locale); ``interval`` becomes an ISO 8601
duration, ``json``/``jsonb`` and arrays JSON text, ``uuid``/``inet`` their standard text, all
archived as ``string``; ``bytea`` goes to files like any binary value; ``timestamptz`` is written
with its offset (the session's time zone, UTC unless the server says otherwise).

Gaps (issue 3): the ``COPY … TO STDOUT`` fast path, an exported snapshot shared by parallel
workers, enums and CHECK … IN as code lists, domains.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from extractor.model import Kind, Table

from .base import Dialect, kind_of


class PostgreSQL(Dialect):
    name = "postgresql"
    snapshot_note = "one REPEATABLE READ, READ ONLY transaction for the whole run"

    def begin_snapshot(self, conn: Any) -> None:
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        conn.begin()

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, pg.MONEY):
            return "decimal", {"scale": None}
        if isinstance(satype, pg.INTERVAL | pg.UUID | pg.JSON | pg.JSONB | pg.ARRAY):
            return "unknown", {}
        return kind_of(satype)

    def column_expr(self, table: Table, name: str) -> Any:
        if table.column(name).native_type.upper() == "MONEY":
            return sa.cast(sa.column(name), sa.Numeric)
        return sa.column(name)
