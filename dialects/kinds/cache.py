"""What ``uttrekk cache list`` and ``uttrekk cache clear`` show and remove: the restored dumps.

Each entry of ``throwaway``'s cache is named ``ENGINE-SHA256`` (the dump's SHA-256); its marker
(written last by a restore) says which dump file it came from (``file``, or ``file`` in its
``dump`` or ``provenance``). An entry a running
uttrekk holds (its lock is taken) is never removed, and is shown as in use.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from dataclasses import dataclass

from extractor.errors import ConfigError

from .throwaway import MARKER, Entry, entries, remove_entry


@dataclass(frozen=True)
class Cached:
    """One entry as the commands show it."""

    entry: Entry
    engine: str
    sha256: str
    file: str
    """The dump's file name, from the marker ('' when the restore did not finish)."""
    size: int
    used: dt.datetime | None
    """When a run last used it (the marker's time); ``None``: not complete."""
    in_use: bool

    def as_dict(self) -> dict[str, object]:
        return {"engine": self.engine, "sha256": self.sha256, "file": self.file, "bytes": self.size,
                "last_used": self.used.isoformat(timespec="seconds") if self.used else None,
                "complete": self.used is not None, "in_use": self.in_use, "path": str(self.entry.path)}


def _in_use(entry: Entry) -> bool:
    """Whether a run holds the entry's lock (tested without creating a lock file)."""
    lock = entry.path.with_name(entry.path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _file_of(facts: dict[str, object]) -> str:
    """The dump's file name as the restore recorded it (``file``, ``dump.file`` or ``provenance.file``)."""
    for holder in (facts, facts.get("dump"), facts.get("provenance")):
        if isinstance(holder, dict) and isinstance(holder.get("file"), str):
            return str(holder["file"])
    return ""


def listing() -> list[Cached]:
    """Every entry, least recently used first."""
    found = []
    for entry, size in entries():
        engine, _, digest = entry.path.name.rpartition("-")
        marker = entry.path / MARKER
        used = dt.datetime.fromtimestamp(marker.stat().st_mtime) if entry.complete else None
        found.append(Cached(entry, engine or "?", digest, _file_of(entry.facts()), size, used, _in_use(entry)))
    return found


def choose(listed: list[Cached], digests: tuple[str, ...]) -> list[Cached]:
    """The entries the SHA-256s (or their first characters, at least 6) name; ``ConfigError`` for
    one that names none or several."""
    chosen: list[Cached] = []
    for given in digests:
        text = given.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{6,64}", text):
            raise ConfigError(f"{given!r} is not a SHA-256 or its first characters (6 or more hexadecimal digits); "
                              "'uttrekk cache list' shows them")
        matches = [c for c in listed if c.sha256.startswith(text)]
        if not matches:
            raise ConfigError(f"no entry in the cache has SHA-256 {given}; 'uttrekk cache list' shows them")
        if len({c.sha256 for c in matches}) > 1:
            raise ConfigError(f"{given} begins {len(matches)} entries' SHA-256; give more of it")
        chosen += [c for c in matches if c not in chosen]
    return chosen


def clear(chosen: list[Cached]) -> tuple[list[Cached], list[Cached]]:
    """Remove the entries; those a running uttrekk holds are kept. Returns (removed, kept)."""
    removed: list[Cached] = []
    kept: list[Cached] = []
    for cached in chosen:
        (removed if remove_entry(cached.entry) else kept).append(cached)
    return removed, kept
