"""The staging folder's work area: what an interrupted run leaves so ``--resume`` can go on.

A record of the run holds a fingerprint of everything that shapes the output (tool version,
source structure, profile, options). Each finished table leaves its scan statistics and a
done marker, written last and atomically after its files are flushed to disk. ``--resume`` reuses
every table whose marker and files are intact, and redoes the rest; as every file is
written in a stable order, the result is byte-identical to an uninterrupted run when the source
has not changed in between. The folder is removed before the extract is published.

The scans are kept with ``pickle``: the files are written by uttrekk into the user's own staging
folder and read back only from there, by the same uttrekk version (checked).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from . import __version__
from .extract import TableDone, work_files
from .plan import Plan, TablePlan
from .scan import TableScanned

RUN_FILE = "run.json"


def fingerprint(plan: Plan) -> str:
    """What the output depends on before the data is read: the provisional plan (source structure,
    profile and options are all in it) and the tool version."""
    return hashlib.sha256(repr((__version__, plan)).encode("utf-8")).hexdigest()


class WorkDir:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

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
        _atomic_write(self.path / f"{tp.file_name}.scan.pickle", pickle.dumps(scanned, protocol=pickle.HIGHEST_PROTOCOL))
        _atomic_write(self._marker(tp), json.dumps(done.to_json(), sort_keys=True).encode("utf-8"))

    def done(self, tp: TablePlan, content: Path) -> tuple[TableScanned, TableDone] | None:
        """The finished table, if its marker and every file it wrote are intact."""
        try:
            td = TableDone.from_json(json.loads(self._marker(tp).read_text(encoding="utf-8")))
            scanned = pickle.loads((self.path / f"{tp.file_name}.scan.pickle").read_bytes())  # noqa: S301
        except Exception:  # any damage: redo the table
            return None
        path = content / td.file.name
        if not path.is_file() or path.stat().st_size != td.file.size:
            return None
        lob_list, devs = work_files(self.path, tp)
        if not devs.is_file() or not lob_list.is_file():
            return None
        with lob_list.open(encoding="utf-8") as fh:
            for line in fh:
                entry: dict[str, Any] = json.loads(line)
                lob = content / entry["fil"]
                if not lob.is_file() or lob.stat().st_size != int(entry["bytes"]):
                    return None
        return scanned, td

    def forget(self, tp: TablePlan) -> None:
        """Forget an unfinished attempt at this table (``extract_table`` clears its files)."""
        self._marker(tp).unlink(missing_ok=True)


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
