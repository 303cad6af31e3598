"""MySQL and MariaDB adapter (PyMySQL). Tested on MariaDB 10.11.

Session: ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` at ``REPEATABLE READ``: one
InnoDB snapshot for the scan and every table; the server refuses writes in it.

Types: ``TINYINT(1)`` is archived as boolean (``J/N``; a column holding other numbers is archived
as text and reported); ``BIT(1)`` as boolean and ``BIT(n)`` as an integer (selected with
``CAST(… AS UNSIGNED)``); ``YEAR`` as integer; ``BIGINT UNSIGNED`` keeps its full range. Zero
dates (``0000-00-00``) are kept as written and the column is archived as text (reported).

Code lists: ``ENUM`` columns and CHECK … IN constraints (table- or column-level, read from
``information_schema`` in one query) give the field an ADDML code list. A lax server
(``sql_mode=''``) stores a bad ENUM value as ``''``: it is kept and reported as outside the list.
``SET`` columns hold several members per value and get no code list (the members are in the type).

Gaps: zero dates could be declared as ADDML ``nullValues`` instead of archiving the column as text;
rows are read through a streaming cursor (no faster bulk path is known for PyMySQL).
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

    def check_constraints(self, inspector: Any, schema: str | None) -> dict[Any, list[dict[str, Any]]]:
        """Table- and column-level CHECKs from the catalogue in one query (SQLAlchemy's parser of
        ``SHOW CREATE TABLE`` misses MariaDB's column-level ones)."""
        sql = sa.text(
            "SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS cc "
            "JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA "
            "AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK' "
            "WHERE cc.CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE()) ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME")
        out: dict[Any, list[dict[str, Any]]] = {}
        try:
            with self._connection() as conn:
                for table, name, clause in conn.execute(sql, {"schema": schema}):
                    out.setdefault((schema, table), []).append({"name": name, "sqltext": clause})
        except sa.exc.DBAPIError:  # servers before MariaDB 10.2 / MySQL 8.0.16 have no such view
            return super().check_constraints(inspector, schema)
        return out

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
