"""A SQLite database file, recognised by its 16-byte header and opened read-only in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Found, OpenOptions, Probe

if TYPE_CHECKING:
    from dialects.base import Dialect

MAGIC = b"SQLite format 3\x00"


class SQLiteFile:
    def recognise(self, probe: Probe) -> Found | None:
        if probe.path is None or probe.wrapping or not probe.head.startswith(MAGIC):
            return None
        return Found("sqlite", "a SQLite database file")

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        from dialects.sqlite import SQLite

        assert probe.path is not None
        return SQLite.from_path(probe.path)
