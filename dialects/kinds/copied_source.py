"""The adapter on a file's SQLite copy in the cache (``access_file``, ``siard_file``): what the
kinds loaded into a copy share.

The copy is read like any SQLite database (read-only, streaming); what the adapter reports as its
source is the original file, and closing it releases the cache entry it holds (``stack``). Each
kind adds its own reflection from the load's description (``facts``, its ``schema.json``).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any, ClassVar, Self

from ..sqlite import SQLite
from . import Probe


class CopiedSource(SQLite):
    engine_label: ClassVar[str]
    """How the source details name the original file's engine (``SIARD``, ``MS Access``)."""
    file: Path
    """The original file (the copy is ``path``)."""
    facts: dict[str, Any]
    """The load's description of the file (its ``schema.json``)."""
    _stack: ExitStack

    @classmethod
    def open_copy(cls, copy: Path, probe: Probe, facts: dict[str, Any], stack: ExitStack) -> Self:
        assert probe.path is not None
        source = cls.from_path(copy)
        assert isinstance(source, cls)
        source.label = probe.text
        source.file = probe.path
        source.facts = facts
        source._stack = stack
        return source

    @property
    def engine_name(self) -> str:
        return self.name

    def source_files(self) -> tuple[Path, ...]:
        return (self.file,)

    def source_details(self) -> dict[str, str]:
        return {"engine": self.engine_label, "file": str(self.file.expanduser().resolve()),
                "machine": os.uname().nodename, **dict(self.provenance)}

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._stack.close()
