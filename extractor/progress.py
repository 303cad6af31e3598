"""Progress bars: one tqdm bar per table with rows/s, silent off a terminal or with --quiet."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class Progress:
    """Hands out one bar per table; a new bar closes the previous one."""

    def __init__(self, totals: dict[str, int] | None = None, quiet: bool = False) -> None:
        self.totals = totals or {}
        self.disabled = quiet or not sys.stderr.isatty()
        self._bar: Any = None

    def __call__(self, label: str, total: int | None = None) -> Any:
        self.close()
        table = label.split(" ", 1)[-1]
        self._bar = tqdm(total=total if total is not None else self.totals.get(table), desc=label,
                         unit=" rows", unit_scale=True, disable=self.disabled, leave=False, file=sys.stderr)
        return self._bar.update

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
