"""The Firebird adapter on the restored copy of a Firebird file (``firebird_file``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dialects.firebird import Firebird
from extractor.errors import SourceError

if TYPE_CHECKING:
    from extractor.model import Table


class FirebirdFileSource(Firebird):
    """Names the file it came from (never the cache), and releases the cache entry when closed.
    (External tables are not listed by sqlalchemy-firebird, here as through a server URL.)"""

    sole_reader = True
    """The copy in the cache is read-only: every attachment reads the same rows, so the fast path
    counts a table's statistics on a second one beside the records (``FirebirdServerRendering``)."""

    def __init__(self, engine: Any, label: str, path: Path, stack: ExitStack) -> None:
        super().__init__(engine, label)
        self.file = path
        self._stack = stack

    def source_files(self) -> tuple[Path, ...]:
        return (self.file,)

    def iter_rows(self, table: Table, columns: Sequence[str], order_by: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The adapter's reading, with the reason when a computed column's PSQL tried to reach another database."""
        try:
            yield from super().iter_rows(table, columns, order_by)
        except SourceError as exc:
            if "Execute statement error at attach" not in str(exc):
                raise
            raise SourceError(f"{exc} (a computed column runs PSQL that connects to another database, EXECUTE "
                              "STATEMENT … ON EXTERNAL, which uttrekk does not let a Firebird file do; leave the "
                              "column out in the profile)") from None

    def close(self) -> None:
        self._stack.close()
