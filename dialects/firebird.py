"""Firebird adapter (firebird-driver + sqlalchemy-firebird). Tested on Firebird 3.0.

URL: ``firebird://USER@HOST:3050//path/on/the/server/file.fdb`` (two slashes before an absolute
path) or ``…/ALIAS`` from the server's ``databases.conf``. A Firebird server cannot list its
databases, so a URL without one, or with a file the server cannot open, stops with the form to
give (and says when a path is relative, the usual slip).

Session: one SNAPSHOT (concurrency) transaction with read-only access for the whole run: the scan
and every table see the same data, and the server refuses writes in it.

Types: NUMERIC/DECIMAL keep every digit; ``BLOB SUB_TYPE TEXT`` is text (long values go to files
like any text); ``BLOB SUB_TYPE BINARY`` goes to files; BOOLEAN (Firebird 3) is ``J/N``.
Names are reflected in lower case (SQLAlchemy's convention for case-insensitive engines).

Large blobs (a 200 KiB binary and a 100 000-character text are in the server tests) arrive whole
through SQLAlchemy's fetch and are written to files. Gaps (issue 3): reading very large blobs in
chunks instead of whole; domains and CHECK … IN as code lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from extractor.errors import SourceError

from .base import Dialect, _short, url_label

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

IO_ERROR = 335544344
"""Firebird's error code (isc_io_error) for a database file it cannot open."""

EXAMPLE_PATH = "/path/to/file.fdb"


class Firebird(Dialect):
    name = "firebird"
    addresses = {"rowid": ("RDB$DB_KEY", "{c}")}
    snapshot_note = "one SNAPSHOT transaction with read-only access for the whole run"

    @classmethod
    def check_url(cls, url: URL) -> None:
        """A URL without a database file says what to give: a Firebird server cannot list its
        databases, so the path (or alias) must come from whoever runs it."""
        if not url.database:
            raise SourceError(f"{url_label(url)}: the URL names no database; give the database file: {_form(url)}. "
                              "A Firebird server cannot list its databases: ask whoever runs it for the path")

    def check_database(self) -> None:
        """A database the server cannot open says what to give (see ``check_url``)."""
        url = self.engine.url
        try:
            with self.engine.connect():
                pass
        except sa.exc.DBAPIError as exc:
            if IO_ERROR not in (getattr(exc.orig, "gds_codes", None) or ()):
                raise SourceError(f"{self.label}: cannot connect: {_short(exc)}") from None
            relative = "" if url.database.startswith("/") or ":" in url.database else (
                f"; '{url.database}' is no alias the server knows, and as a path it is relative")
            raise SourceError(f"{self.label}: the server cannot open the database '{url.database}' ({_short(exc)})"
                              f"{relative}; give the database file: {_form(url)}") from None

    def begin_snapshot(self, conn: Any) -> None:
        from firebird.driver import Isolation, TraAccessMode, tpb

        manager = conn.connection.dbapi_connection.main_transaction
        if manager.is_active():
            manager.rollback()  # start clean: the parameters apply to the next transaction
        manager.default_tpb = tpb(Isolation.SNAPSHOT, access_mode=TraAccessMode.READ)
        conn.begin()


def _form(url: URL) -> str:
    return (f"{url_label(url.set(database=EXAMPLE_PATH))} (the path on the server's machine, after two slashes), "
            "or an alias from the server's databases.conf")
