"""Firebird adapter (firebird-driver + sqlalchemy-firebird). Tested on Firebird 3.0.

Session: one SNAPSHOT (concurrency) transaction with read-only access for the whole run: the scan
and every table see the same data, and the server refuses writes in it.

Types: NUMERIC/DECIMAL keep every digit; ``BLOB SUB_TYPE TEXT`` is text (long values go to files
like any text); ``BLOB SUB_TYPE BINARY`` goes to files; BOOLEAN (Firebird 3) is ``J/N``.
Names are reflected in lower case (SQLAlchemy's convention for case-insensitive engines).

Floats: ``FLOAT`` (and ``REAL``) is single precision; the driver gives its exact value, written with
the shortest digits that read back as the same float32 (``0.1``; ``isql-fb`` shows 8 digits,
``0.10000000``, which is not always enough to tell two float32 values apart). ``DOUBLE PRECISION`` (and
``FLOAT(p)`` with p over 24 on Firebird 4) the shortest that read back as the same double. Firebird
refuses subnormal values and ``NaN``/``Infinity`` on input.

Large blobs (a 200 KiB binary and a 100 000-character text are in the server tests) arrive whole
through SQLAlchemy's fetch and are written to files. Gaps (issue 3): reading very large blobs in
chunks instead of whole; domains and CHECK … IN as code lists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import types as sat

from extractor.model import Kind
from extractor.values import SINGLE

from .base import Dialect, kind_of


class Firebird(Dialect):
    name = "firebird"
    addresses = {"rowid": ("RDB$DB_KEY", "{c}")}
    snapshot_note = "one SNAPSHOT transaction with read-only access for the whole run"

    def begin_snapshot(self, conn: Any) -> None:
        from firebird.driver import Isolation, TraAccessMode, tpb

        manager = conn.connection.dbapi_connection.main_transaction
        if manager.is_active():
            manager.rollback()  # start clean: the parameters apply to the next transaction
        manager.default_tpb = tpb(Isolation.SNAPSHOT, access_mode=TraAccessMode.READ)
        conn.begin()

    def column_kind(self, satype: Any) -> tuple[Kind, dict[str, Any]]:
        if isinstance(satype, sat.Float) and not isinstance(satype, sat.Double):  # FLOAT, REAL: 32 bits
            return "float", {"float_bits": SINGLE}
        return kind_of(satype)
