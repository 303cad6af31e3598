"""MySQL and MariaDB adapter (PyMySQL). Tested on MariaDB 10.11.

Session: ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` at ``REPEATABLE READ``: one
InnoDB snapshot for the scan and every table; the server refuses writes in it.

Types: ``TINYINT(1)`` is archived as boolean (``J/N``; a column holding other numbers is archived
as text and reported); ``BIT(1)`` as boolean and ``BIT(n)`` as an integer (selected with
``CAST(… AS UNSIGNED)``); ``YEAR`` as integer; ``BIGINT UNSIGNED`` keeps its full range. Zero
dates (``0000-00-00``) are kept as written and the column is archived as text (reported).

Gaps (issue 3): ENUM/SET as code lists, zero dates as ADDML ``nullValues``, the server-side fast path.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from extractor.model import Kind, Table

from .base import Dialect, kind_of


class MySQL(Dialect):
    name = "mysql"
    snapshot_note = "one REPEATABLE READ transaction WITH CONSISTENT SNAPSHOT, READ ONLY"

    def begin_snapshot(self, conn: Any) -> None:
        conn.execution_options(isolation_level="REPEATABLE READ")
        conn.begin()
        conn.exec_driver_sql("COMMIT")  # end SQLAlchemy's implicit transaction start on the DBAPI side
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, mysql.TINYINT) and getattr(satype, "display_width", None) == 1:
            return "boolean", {}
        if isinstance(satype, mysql.BIT):
            return ("boolean" if (satype.length or 1) == 1 else "integer"), {}
        if isinstance(satype, mysql.YEAR):
            return "integer", {}
        return kind_of(satype)

    def column_expr(self, table: Table, name: str) -> Any:
        if table.column(name).native_type.upper().startswith("BIT"):
            return sa.cast(sa.column(name), mysql.INTEGER(unsigned=True))
        return sa.column(name)
