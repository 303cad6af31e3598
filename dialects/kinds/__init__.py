"""Kinds of SOURCE: what ``uttrekk extract SOURCE`` may be, recognised by content, never by name.

A database URL, a SQLite file, a dump file a depot technician received (pg_dump, mysqldump, gbak),
a file database: each is one *kind* with two steps, ``recognise`` (look at the first bytes or the
folder's listing and say what it is) and ``open`` (give a read-only ``Dialect``; a dump is restored
into a throwaway server first, which ``Dialect.close`` stops). Kinds are tried in ``KINDS`` order
and imported lazily, like ``dialects.REGISTRY``, so a missing tool or driver only matters for the
kind that needs it. Anything no kind recognises gets one message saying what the file looks like
(``describe.unrecognised``) and which kinds uttrekk accepts.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from extractor.errors import ConfigError, SourceError

if TYPE_CHECKING:
    from collections.abc import Callable

    from dialects.base import Dialect

HEAD_BYTES = 64 * 1024
"""How much of a file the kinds look at to recognise it."""


@dataclass(frozen=True)
class Probe:
    """What is known of SOURCE before any kind opens it."""

    text: str
    """SOURCE as given (a URL is never shown unmasked: use ``dialects.base.url_label``)."""
    path: Path | None = None
    """The file or folder SOURCE names; ``None`` for a URL."""
    head: bytes = b""
    """The first ``HEAD_BYTES`` of the file (of its content when it is compressed or packed: see
    ``wrapping``); empty for a folder or a URL."""
    names: tuple[str, ...] = ()
    """A folder's entries (top level, sorted), for kinds made of several files."""
    size: int = 0
    """Bytes of the file as given (of every file, for a folder)."""
    wrapping: tuple[str, ...] = ()
    """Layers around the content, outermost first: ``gzip``, ``bzip2``, ``xz``, ``zstd``,
    ``zip member NAME``, ``tar member NAME``; ``open_content`` reads through them."""
    opener: Callable[[], Any] | None = field(default=None, compare=False, repr=False)
    """Opens the content as a binary stream (through ``wrapping``); ``None``: open ``path``."""
    content_size: int | None = None
    """Bytes of the content when known (the file's, a zip or tar member's; ``None`` inside a
    compressed stream): the total of a progress bar over ``open_content``."""
    members: tuple[str, ...] = ()
    """The members of a zip or tar that is not a dump's wrapper (an Office document, a SIARD
    archive, an extract), for ``describe``; empty otherwise."""

    @property
    def is_url(self) -> bool:
        return self.path is None

    @property
    def progress_total(self) -> int | None:
        """Bytes ``open_content`` will give, when known: the total of a restore's progress bar."""
        return self.content_size if self.wrapping else self.size

    def open_content(self) -> Any:
        """The content as a binary file object (decompressed, unpacked), to be closed by the caller.
        Not seekable when wrapped (``wrapped.materialise`` copies it for a tool that must seek); a
        damaged or cut-short stream raises ``SourceError`` from ``read``."""
        if self.opener is not None:
            return self.opener()
        assert self.path is not None
        return self.path.open("rb")


@dataclass(frozen=True)
class Found:
    """A kind's verdict on a probe."""

    kind: str
    """The key of the kind in ``KINDS``."""
    what: str
    """For people: ``a pg_dump custom-format archive (pg_dump 15.8, archive format 1.14)``."""
    facts: dict[str, str] = field(default_factory=dict)
    """What the kind read from the header (format, tool version, databases …), for provenance."""


@dataclass(frozen=True)
class OpenOptions:
    """What the command line adds to SOURCE."""

    password: str | None = None
    database: str | None = None
    """Which database of a dump holding several (pg_dumpall, mysqldump --all-databases)."""
    quiet: bool = False
    """No progress bar (for the restore)."""
    accept_losses: tuple[str, ...] = ()
    """Restore errors that lose data which the profile accepts, by name."""
    codepage: str | None = None
    """A .dbf's code page when its header names none (``--codepage``, ``[source] codepage``)."""
    codepage_override: bool = False
    """``codepage`` wins over the header's (``[source] codepage_override``)."""
    deleted: str = "skip"
    """A .dbf's deleted records: ``skip`` (counted in the report) or ``keep`` (``[source] deleted``)."""


class SourceKind(Protocol):
    """One kind of SOURCE (see the module docstring)."""

    def recognise(self, probe: Probe) -> Found | None:
        """This kind's ``Found`` when the probe is of this kind, else ``None``; never raises for
        another kind's input. Must not run programs or write anything."""

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        """A read-only ``Dialect`` on the source; ``SourceError`` (one line, what to do) when it
        cannot be opened. Whatever it starts, its ``close`` stops."""


KINDS: dict[str, str] = {
    "url": "dialects.kinds.url:DatabaseUrl",
    "sqlite": "dialects.kinds.sqlite_file:SQLiteFile",
    "pg_dump": "dialects.kinds.pg_dump:PgDump",
    "mysql_dump": "dialects.kinds.mysql_dump:MySQLDump",
    "firebird": "dialects.kinds.firebird_file:FirebirdFile",
    "access": "dialects.kinds.access_file:AccessFile",
    "dbase": "dialects.kinds.dbase_file:DbaseFile",
    "siard": "dialects.kinds.siard_file:SiardFile",
    "mssql_backup": "dialects.kinds.refused:SqlServerBackup",
    "oracle_dump": "dialects.kinds.refused:OracleDump",
}
"""Kind key -> ``module:Class``, tried in this order."""
ONE_DATABASE = ("url", "sqlite", "firebird", "access", "dbase", "siard")
"""Kinds where ``--database`` has nothing to choose."""


def load_kind(key: str) -> SourceKind:
    module, _, cls = KINDS[key].partition(":")
    return getattr(importlib.import_module(module), cls)()  # type: ignore[no-any-return]


def probe_of(source: str) -> Probe:
    """What SOURCE is before any kind looks at it: a URL, or a file or folder read-only (a
    compressed or packed file: its content, see ``wrapped``)."""
    if "://" in source:
        return Probe(source)
    from .wrapped import wrapped_probe

    path = Path(source).expanduser()
    try:
        if path.is_dir():
            names = tuple(sorted(os.listdir(path)))
            size = sum(e.stat().st_size for e in os.scandir(path) if e.is_file(follow_symlinks=False))
            return Probe(source, path, names=names, size=size)
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        return wrapped_probe(source, path, head, path.stat().st_size)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file or folder. Give a database URL, a dump file, a database file "
                          "or a folder of them.") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def recognise(source: str) -> tuple[Probe, Found]:
    """The kind of SOURCE, or ``SourceError`` saying what it looks like and what uttrekk accepts."""
    probe = probe_of(source)
    for key in KINDS:
        found = load_kind(key).recognise(probe)
        if found is not None:
            return probe, found
    from .describe import unrecognised

    raise SourceError(unrecognised(probe, list(KINDS)))


def open_source(source: str, password: str | None = None, **options: Any) -> Dialect:
    """Open SOURCE read-only, whatever kind it is (see the module docstring)."""
    probe, found = recognise(source)
    return open_found(probe, found, OpenOptions(password=password, **options))


def databases_of(found: Found) -> list[str]:
    """The databases a dump holds, when it holds several (``Found.facts["databases"]``)."""
    return [n.strip() for n in found.facts.get("databases", "").split(",") if n.strip()]


def refuse_stream(probe: Probe, what: str, how: str) -> None:
    """A kind that reads its file in place (it must seek, or find files beside it): one line when
    the content came through compression or an archive, saying to unpack it."""
    if probe.wrapping:
        raise SourceError(f"{probe.text}: {what} inside {', '.join(probe.wrapping)}; uttrekk reads {how}")


def open_found(probe: Probe, found: Found, options: OpenOptions) -> Dialect:
    """Open what ``recognise`` found. ``--database`` is the kind's to check against what the dump
    holds (a dump's head may not name them all); a database URL or a SQLite file refuses it here."""
    if options.database is not None and found.kind in ONE_DATABASE:
        hint = " (name the database in the URL)" if probe.is_url else ""
        raise ConfigError(f"--database {options.database}: {probe.text if probe.path else 'SOURCE'} is {found.what}, "
                          f"which holds one database{hint}; leave --database out")
    return load_kind(found.kind).open(probe, found, options)
