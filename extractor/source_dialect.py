"""The source boundary: everything ``extractor`` asks of an open SOURCE, as a typed protocol.

``dialects.base.Dialect`` and its engine adapters implement it (``tests/test_source_dialect.py``
proves it, and mypy checks every call). Only plain values and ``extractor.model`` types cross it:
rows as tuples, SQL as text, never a SQLAlchemy engine, connection or statement, so that every SQL
statement and engine quirk stays inside ``dialects/``. ``extractor`` opens a source only through
``dialects.open_source`` (``tests/test_layering.py`` says where) and works with what it returns
through these protocols alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from .model import Column, RenderedStatistics, RenderRequest, Schema, Table


class SourceCapabilities(Protocol):
    """What the source can do beyond reading (``dialects.base.Capabilities``)."""

    @property
    def shared_snapshot(self) -> bool:
        """Other connections can join this run's snapshot (``--jobs`` above 1)."""

    @property
    def large_objects(self) -> bool:
        """Rows may refer to large objects stored apart from them (``LargeObjectSource``)."""


class Located(Protocol):
    """Which schema to read and what to say about it (``dialects.locate.Location``)."""

    @property
    def schema(self) -> str | None: ...

    @property
    def note(self) -> str:
        """For the report, inspect and profile init: a schema chosen for the user, or others not read."""

    @property
    def nothing(self) -> str:
        """The error when the schema read has no tables."""


class PendingStatistics(Protocol):
    """A table's statistics being counted beside the reading of its file (``rendered_statistics_beside``)."""

    def done(self) -> bool:
        """Counted (``result`` will not wait)."""

    def result(self) -> RenderedStatistics:
        """The statistics, waiting for them; the count's error (``SourceError``) is raised here."""

    def abandon(self) -> None:
        """Not wanted any more (the file took the exact path): stop the count, wait until it has stopped."""


@runtime_checkable
class SourceDialect(Protocol):
    """An open, read-only SOURCE: its description, its session, its rows, and the checks that run
    on the server. Each method's contract is its docstring in ``dialects/base.py``."""

    # -- what the source is ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The adapter's name (``postgresql``, ``sqlite``, ``generic``…), for messages."""

    @property
    def label(self) -> str:
        """SOURCE as reports show it: a URL with every secret masked, or a file's name."""

    @property
    def capabilities(self) -> SourceCapabilities: ...

    @property
    def snapshot_note(self) -> str: ...

    @property
    def provenance(self) -> tuple[tuple[str, str], ...]:
        """A dump's file, size, SHA-256, format, tools (the kinds' contract; ``source_details`` holds it too)."""

    @property
    def provenance_text(self) -> str: ...

    @property
    def source_notes(self) -> tuple[str, ...]: ...

    @property
    def worker_source(self) -> str | None: ...

    def source_details(self) -> dict[str, str]: ...

    def source_files(self) -> tuple[Path, ...]: ...

    def close(self) -> None: ...

    # -- session and catalogue -------------------------------------------------------------------

    def snapshot(self, join: str | None = None) -> AbstractContextManager[None]: ...

    def export_snapshot(self) -> str: ...

    def snapshot_details(self) -> dict[str, Any]: ...

    def locate(self, schema: str | None = None, views: bool = False) -> Located: ...

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema: ...

    def reflect_query(self, name: str, sql: str) -> Table: ...

    def check_filter(self, table: Table) -> None: ...

    def refused_calls(self, table: Table) -> list[str]: ...

    # -- rows --------------------------------------------------------------------------------------

    def count_rows(self, table: Table) -> int: ...

    def iter_rows(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Iterator[tuple[Any, ...]]: ...

    def select_text(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> str: ...

    # -- the fast path: the server renders each value's archival text ------------------------------

    def server_rendering(self, table: Table, request: RenderRequest) -> dict[str, str]:
        """Columns the server cannot render identically, with why ("" for the whole table)."""

    def rendered_statistics(self, table: Table, request: RenderRequest) -> RenderedStatistics:
        """One aggregate query's statistics of the rendered fields, with reasons to take the exact path."""

    def rendered_statistics_beside(self, table: Table, request: RenderRequest) -> PendingStatistics:
        """``rendered_statistics`` counted while this session goes on (another connection in the same
        snapshot), so that the file can be read at the same time; or counted now where it cannot."""

    def rendered_records(self, table: Table, request: RenderRequest) -> Iterator[tuple[bytes, int]]:
        """The delimited file's bytes in chunks of whole records, with the record count of each."""

    def array_dimensions(self, table: Table, name: str) -> tuple[int, ...]: ...

    def array_elements(self, parent: Table, key: Sequence[str], order_by: Sequence[str], name: str,
                       child: Table) -> Table: ...

    # -- checks on the server: keys, relations, dates ---------------------------------------------

    def key_facts(self, table: Table, columns: Sequence[str], text_limit: int | None = None,
                  texts: Sequence[str] = ()) -> tuple[int, dict[str, tuple[int, int]]]: ...

    def key_violations(self, table: Table, key: Sequence[str], limit: int = 10) -> tuple[int, list[tuple[Any, ...]]]: ...

    def dangling(self, table: Table, columns: Sequence[str], order_by: Sequence[str], target: Table,
                 ref_columns: Sequence[str], pk: Sequence[str]) -> Iterator[tuple[Any, ...]]: ...

    def date_spans(self, table: Table, columns: Sequence[str], low: dt.date,
                   high: dt.date) -> dict[str, tuple[Any, Any, Any, Any]]: ...

    @property
    def typed_values(self) -> bool: ...

    def comparable_as(self, column: Column) -> Literal["integer", "text"] | None: ...

    def column_statistics(self, table: Table, columns: Sequence[str], known_unique: Collection[str] = ()
                          ) -> tuple[int, dict[str, tuple[int, int, Any, Any]]]: ...

    def key_inclusion(self, table: Table, column: str,
                      keys: Sequence[tuple[Table, str]]) -> list[tuple[int, int, int, int]]: ...

    def values_not_in(self, table: Table, column: str, target: Table, key: str, limit: int) -> list[Any]: ...


@runtime_checkable
class LargeObjectSource(SourceDialect, Protocol):
    """A source whose rows may refer to large objects stored apart from them (PostgreSQL's)."""

    def large_object_columns(self, tables: Sequence[Table]) -> dict[str, dict[str, bool]]: ...

    def large_object_facts(self, table: Table, column: str) -> tuple[int, int]: ...

    def large_objects_over(self, table: Table, column: str, order_by: Sequence[str], pk: Sequence[str],
                           size: int, limit: int) -> list[tuple[Any, ...]]: ...

    def missing_large_objects(self, table: Table, column: str, order_by: Sequence[str],
                              pk: Sequence[str]) -> Iterator[tuple[Any, ...]]: ...

    def orphan_large_objects(self, limit: int) -> tuple[int, int, list[tuple[int, int | None]], list[str]]: ...


def large_objects_of(source: SourceDialect) -> LargeObjectSource | None:
    """The source as a reader of large objects when it has them (``capabilities.large_objects``)."""
    if not source.capabilities.large_objects:
        return None
    if not isinstance(source, LargeObjectSource):
        raise TypeError(f"{source.name} says it has large objects but has no large-object methods")
    return source
