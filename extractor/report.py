"""The extraction report: every change to a value, named by table, column and row key.

``deviations.tsv`` (UTF-8, tab-separated, one line per change) is streamed to disk, so a million
substitutions cost no memory; the summary counts them. A backslash, tab, CR or LF inside a field is
written ``\\``, ``\t``, ``\r``, ``\n`` (``unescape`` reverses it), so every row key reads back
exactly.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

HEADER = ("table", "column", "row_key", "action", "detail")


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\n": "\\n"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}


def _clean(text: str) -> str:
    if not any(c in text for c in _ESCAPES):
        return text
    return "".join(_ESCAPES.get(c, c) for c in text)


def unescape(field: str) -> str:
    """A deviations.tsv field as it was before ``_clean``."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field) and field[i + 1] in _UNESCAPES:
            out.append(_UNESCAPES[field[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


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
