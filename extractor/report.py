"""The extraction report: every change to a value, named by table, column and row key.

``deviations.tsv`` (UTF-8, tab-separated, one line per change) is streamed to disk, so a million
substitutions cost no memory; the summary counts them.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

HEADER = ("table", "column", "row_key", "action", "detail")


def _clean(text: str) -> str:
    return text.replace("\t", " ").replace("\r", "\\r").replace("\n", "\\n")


class DeviationLog:
    """Append-only log of what was done to values, written as it happens."""

    def __init__(self, path: Path, header: bool = True, append: bool = False) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("a" if append else "w", encoding="utf-8", newline="")
        if header:
            self._fh.write("\t".join(HEADER) + "\n")
        self.counts: Counter[tuple[str, str]] = Counter()

    def __enter__(self) -> DeviationLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append_file(self, path: Path, table: str, counts: dict[str, int]) -> None:
        """Append the lines another log wrote for ``table`` (a finished table's own log)."""
        with path.open(encoding="utf-8", newline="") as fh:
            shutil.copyfileobj(fh, self._fh)
        for action, n in counts.items():
            self.counts[(table, action)] += n

    def add(self, table: str, column: str, row_key: str, action: str, detail: str) -> None:
        self._fh.write("\t".join(_clean(x) for x in (table, column, row_key, action, detail)) + "\n")
        self.counts[(table, action)] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        self._fh.close()
