"""The staging folder's work area: what an interrupted run leaves so ``--resume`` can go on.

A record of the run holds a fingerprint of everything that shapes the output (tool version,
source structure, profile, options). Each finished table leaves its scan statistics and a
done marker, written last and atomically after its files are flushed to disk. ``--resume`` reuses
every table whose marker and files are intact, and redoes the rest; as every file is
written in a stable order, the result is byte-identical to an uninterrupted run when the source
has not changed in between. The folder is removed before the extract is published.

Everything here is plain data (JSON and the table's own files), never pickle: the folder is input
from outside like any other. On ``--resume`` each finished table is checked before it is reused:
its marker and scan must decode to exactly the declared types, name the file the plan gives the
table, and match the files on disk byte for byte (size and SHA-256; LOB files inside the table's
own LOB folder, at the size listed). A table that fails any check is redone, and the report says
which and why (``WorkDir.redone``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from . import __version__
from .errors import ExtractionError
from .extract import TableDone, extracted_tables, work_files
from .plaindata import dump, load
from .plan import LOB_DIR, LOB_TABLE, Plan, TablePlan
from .scan import TableScan, TableScanned
from .writers.hashing import sha256_file

RUN_FILE = "run.json"


def fingerprint(plan: Plan) -> str:
    """What the output depends on before the data is read: the provisional plan (source structure,
    profile and options are all in it) and the tool version."""
    digest = hashlib.sha256(repr(__version__).encode("utf-8"))
    for tp in plan.tables:  # one table at a time: the plan's whole text is some 10 KB a table
        digest.update(repr(tp).encode("utf-8"))
    digest.update(repr(replace(plan, tables=())).encode("utf-8"))
    return digest.hexdigest()


class WorkDir:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.redone: list[str] = []
        """Tables the earlier run had finished whose files did not pass the checks, each with why."""

    def reset(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)

    # -- the run ----------------------------------------------------------------------------------

    def save_run(self, print_: str, started: dt.datetime) -> None:
        data = {"version": __version__, "fingerprint": print_, "started": started.isoformat(timespec="seconds")}
        _atomic_write(self.path / RUN_FILE, json.dumps(data).encode("utf-8"))

    def earlier_run(self, print_: str) -> tuple[bool, str]:
        """Whether the folder's tables can be reused, with the earlier run's start time, or why not."""
        try:
            data = json.loads((self.path / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False, "the earlier run left no readable record of itself"
        if data.get("version") != __version__:
            return False, f"the earlier run was made by uttrekk {data.get('version')}"
        if data.get("fingerprint") != print_:
            return False, "the source structure, the profile or the options differ from the earlier run"
        return True, str(data.get("started"))

    @property
    def has_done(self) -> bool:
        """Some table was finished: worth keeping for ``--resume``."""
        return any(self.path.glob("*.done.json"))

    # -- tables ---------------------------------------------------------------------------------

    def _marker(self, tp: TablePlan) -> Path:
        return self.path / f"{tp.file_name}.done.json"

    def mark_done(self, tp: TablePlan, done: TableDone, scanned: TableScanned, content: Path) -> None:
        """Flush the table's files to disk, then record it as finished."""
        _fsync(content / done.file.name)
        for path in work_files(self.path, tp):
            _fsync(path)
        _atomic_write(self._scan(tp), json.dumps(dump(scanned), sort_keys=True).encode("utf-8"))
        _atomic_write(self._marker(tp), json.dumps(done.to_json(), sort_keys=True).encode("utf-8"))

    def _scan(self, tp: TablePlan) -> Path:
        return self.path / f"{tp.file_name}.scan.json"

    def done(self, tp: TablePlan, content: Path) -> tuple[TableScanned, TableDone] | None:
        """The finished table, if its marker, its scan and every file it wrote pass the checks;
        else ``None`` (redo it), with the reason in ``redone`` when the earlier run had finished it."""
        if not self._marker(tp).exists():
            return None
        why = ""
        try:
            found = self._check(tp, content)
        except (OSError, ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            found, why = None, str(exc) or type(exc).__name__
        if found is None:
            self.redone.append(f"{tp.name}: {why}")
        return found

    def _check(self, tp: TablePlan, content: Path) -> tuple[TableScanned, TableDone] | None:
        td = TableDone.from_json(json.loads(self._marker(tp).read_bytes()))
        scanned = load(TableScanned, json.loads(self._scan(tp).read_bytes()))
        if scanned.name != tp.name:
            raise ValueError(f"the kept scan is of table {scanned.name!r}")
        if PurePosixPath(td.file.name).name != td.file.name or not td.file.name.startswith(tp.file_name + "."):
            raise ValueError(f"the kept record names the file {td.file.name!r}, not this table's")
        path = content / td.file.name
        if not path.is_file() or path.stat().st_size != td.file.size:
            raise ValueError(f"{td.file.name} is missing or not the size recorded")
        if sha256_file(path) != td.file.sha256:
            raise ValueError(f"{td.file.name} is not the file that was written (SHA-256 differs)")
        lob_list, devs = work_files(self.path, tp)
        if not devs.is_file() or not lob_list.is_file():
            raise ValueError("its LOB list or deviation lines are missing")
        own = PurePosixPath(LOB_DIR, tp.file_name)
        with lob_list.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                entry: dict[str, Any] = json.loads(line)
                rel = PurePosixPath(str(entry["fil"]))
                if rel.is_absolute() or ".." in rel.parts or own not in rel.parents or entry.get("tabell") != tp.name:
                    raise ValueError(f"LOB list line {n} names {str(entry['fil'])!r}, outside {own}/")
                lob = content / rel
                if lob.is_symlink() or not lob.is_file() or lob.stat().st_size != int(entry["bytes"]):
                    raise ValueError(f"{rel} is missing or not the size listed")
        return scanned, td

    def forget(self, tp: TablePlan) -> None:
        """Forget an unfinished attempt at this table (``extract_table`` clears its files)."""
        self._marker(tp).unlink(missing_ok=True)


class KeptScans(Mapping[str, TableScan]):
    """The finished tables' scans as the work folder keeps them (``WorkDir.mark_done``), read back
    one at a time when asked for: held together until the final plan they took some 2 KB a table.
    The last one read is kept, as a caller often asks for it twice in a row."""

    def __init__(self, work: WorkDir, plan: Plan) -> None:
        self._work, self._plan = work, plan
        self._names = [tp.name for tp in extracted_tables(plan)]
        self._last: tuple[str, TableScan] | None = None

    def __getitem__(self, name: str) -> TableScan:
        if self._last is not None and self._last[0] == name:
            return self._last[1]
        tp = self._plan.table(name)
        if tp.name == LOB_TABLE and tp.source is None:  # written at the end, not read: no scan
            raise KeyError(name)
        path = self._work._scan(tp)
        try:  # checked when it was kept (``done``); read again here, so checked again
            scanned = load(TableScanned, json.loads(path.read_bytes()))
            if scanned.name != tp.name:
                raise ValueError(f"it is the scan of table {scanned.name!r}")
        except (OSError, ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            raise ExtractionError(f"{tp.name}: its scan in the work folder ({path.name}) cannot be read back: "
                                  f"{str(exc) or type(exc).__name__}. The work folder changed during the run; "
                                  "extract again.") from None
        self._last = (name, scanned.scan)
        return scanned.scan

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    if path.exists():
        with path.open("rb") as fh:
            os.fsync(fh.fileno())
