"""The PostgreSQL adapter on a restored dump (``pg_dump``): it names the dump, never the socket,
and its ``close`` stops the throwaway server and releases the cache entry."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from dialects.base import url_label
from dialects.postgresql import PostgreSQL


class RestoredPostgreSQL(PostgreSQL):
    def __init__(self, engine: Any, label: str, *, dump: Path, stack: ExitStack, notes: tuple[str, ...],
                 worker_source: str, provenance: tuple[tuple[str, str], ...], provenance_text: str) -> None:
        super().__init__(engine, label)
        self.dump = dump
        self.stack = stack
        self.source_notes = notes
        self.worker_source = worker_source
        self.provenance = provenance
        self.provenance_text = provenance_text

    def source_files(self) -> tuple[Path, ...]:
        return (self.dump,)

    def server_databases(self, url: Any = None) -> dict[str, int | None]:
        return {}  # the throwaway cluster's other databases are not the customer's

    def locate(self, schema: str | None = None, views: bool = False) -> Any:
        where = super().locate(schema, views)
        shown = url_label(self.engine.url)
        return replace(where, note=where.note.replace(shown, self.label), nothing=where.nothing.replace(shown, self.label))

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.stack.close()
