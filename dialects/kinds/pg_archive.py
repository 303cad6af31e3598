"""pg_dump's archive formats (custom, tar, directory) read in Python: the header and the table of contents.

uttrekk reads these itself rather than asking ``pg_restore --list``: recognising a file must not
run anything, a too-new archive must be named before any tool refuses it, and the TOC's names are
exact here (``--list`` prints them with spaces unquoted). The layout is ``ReadHead`` and ``ReadToc``
in PostgreSQL's ``src/bin/pg_dump/pg_backup_archiver.c``: integers are a sign byte and ``int_size``
little-endian bytes, strings a length (``-1`` for NULL) and the bytes. A custom archive holds the
header and TOC at its start; a tar or directory archive holds them in its ``toc.dat`` (the tar's
first member). Everything read is bounded, so a hostile header cannot make uttrekk allocate much.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import IO

MAGIC = b"PGDMP"
CUSTOM = 1
"""The format byte of a custom archive; tar and directory archives' ``toc.dat`` carry another."""
TAR_BLOCK = 512
MAX_STRING = 256 << 20
"""Longest TOC string read (a function body or view definition); anything longer is damage."""
MAX_ENTRIES = 10_000_000

MAX_READABLE: dict[int, tuple[int, int]] = {12: (1, 14), 13: (1, 14), 14: (1, 14), 15: (1, 14), 16: (1, 15), 17: (1, 16)}
"""pg_restore's major version -> the newest archive format it reads (``K_VERS_MAX``); later
majors read at least 1.16."""
WRITTEN_BY: dict[tuple[int, int], int] = {(1, 14): 12, (1, 15): 16, (1, 16): 17}
"""Archive format -> the first pg_dump major that writes it."""


class Damaged(ValueError):
    """The archive's header or TOC cannot be read (cut short, or not what it claims to be)."""


@dataclass(frozen=True)
class Header:
    """What an archive's header says."""

    version: tuple[int, int, int]
    int_size: int
    off_size: int
    format_byte: int
    compression: str
    created: str = ""
    dbname: str = ""
    server_version: str = ""
    """``Dumped from database version``."""
    dump_version: str = ""
    """``Dumped by pg_dump version``."""

    @property
    def archive_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@dataclass(frozen=True)
class TocEntry:
    """One object of the archive, as ``pg_restore`` will restore it."""

    dump_id: int
    desc: str
    """``TABLE``, ``TABLE DATA``, ``BLOBS``, ``ACL``, ``COMMENT`` …"""
    namespace: str
    tag: str
    owner: str
    had_dumper: bool

    @property
    def name(self) -> str:
        return f"{self.namespace}.{self.tag}" if self.namespace else self.tag


@dataclass
class Archive:
    header: Header
    entries: list[TocEntry] = field(default_factory=list)
    encoding: str = ""
    """The source database's encoding (its ``ENCODING`` entry: ``SET client_encoding = 'UTF8';``)."""

    def of(self, *descs: str) -> list[TocEntry]:
        return [e for e in self.entries if e.desc in descs]


class _Reader:
    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.int_size = 4

    def bytes(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise Damaged("it ends inside its table of contents (cut short?)")
        return data

    def byte(self) -> int:
        return self.bytes(1)[0]

    def int(self) -> int:
        sign = self.byte()
        value = int.from_bytes(self.bytes(self.int_size), "little")
        return -value if sign else value

    def str(self) -> str | None:
        n = self.int()
        if n < 0:
            return None
        if n > MAX_STRING:
            raise Damaged(f"a string of {n} bytes in its table of contents")
        return self.bytes(n).decode("utf-8", "replace")


def read_header(fh: IO[bytes]) -> Header:
    """The header at the stream's position (``PGDMP`` …); ``Damaged`` when it is not one."""
    r = _Reader(fh)
    if r.bytes(5) != MAGIC:
        raise Damaged("it does not start with PGDMP")
    version = (r.byte(), r.byte(), r.byte())
    int_size = r.byte()
    if not 1 <= int_size <= 8:
        raise Damaged(f"integer size {int_size}")
    r.int_size = int_size
    off_size = r.byte() if version >= (1, 7, 0) else int_size
    fmt = r.byte()
    if version >= (1, 15, 0):
        compression = {0: "none", 1: "gzip", 2: "lz4", 3: "zstd"}.get(r.byte(), "unknown")
    elif version >= (1, 4, 0):
        level = r.int()
        compression = "none" if level == 0 else "gzip"
    else:
        compression = "gzip"
    created = dbname = server = dumper = ""
    if version >= (1, 4, 0):
        sec, minute, hour, day, month, year, _dst = (r.int() for _ in range(7))
        try:
            created = dt.datetime(year + 1900, month + 1, day, hour, minute, sec).isoformat(sep=" ")
        except ValueError:
            created = ""
        dbname = r.str() or ""
    if version >= (1, 10, 0):
        server = r.str() or ""
        dumper = r.str() or ""
    return Header(version, int_size, off_size, fmt, compression, created, dbname, server, dumper)


def read_archive(fh: IO[bytes]) -> Archive:
    """Header and TOC from the stream's position (a custom archive's start, or a ``toc.dat``)."""
    header = read_header(fh)
    r = _Reader(fh)
    r.int_size = header.int_size
    count = r.int()
    if not 0 <= count <= MAX_ENTRIES:
        raise Damaged(f"a table of contents of {count} entries")
    v = header.version
    archive = Archive(header)
    for _ in range(count):
        dump_id = r.int()
        had_dumper = bool(r.int())
        if v >= (1, 8, 0):
            r.str()  # table oid
        r.str()  # oid
        tag = r.str() or ""
        desc = r.str() or ""
        if v >= (1, 11, 0):
            r.int()  # section
        defn = r.str() or ""
        r.str()  # drop statement
        if v >= (1, 3, 0):
            r.str()  # copy statement
        namespace = (r.str() or "") if v >= (1, 6, 0) else ""
        if v >= (1, 10, 0):
            r.str()  # tablespace
        if v >= (1, 14, 0):
            r.str()  # table access method
        if v >= (1, 16, 0):
            r.int()  # relkind
        owner = r.str() or ""
        if v >= (1, 9, 0):
            r.str()  # with oids
        if v >= (1, 5, 0):
            while r.str() is not None:  # dependencies
                pass
        if header.format_byte == CUSTOM:
            r.bytes(1 + header.off_size)  # data offset
        else:
            r.str()  # the member or file holding the data
        if desc == "ENCODING":
            archive.encoding = _quoted(defn)
        archive.entries.append(TocEntry(dump_id, desc, namespace, tag, owner, had_dumper))
    return archive


def _quoted(defn: str) -> str:
    """``SET client_encoding = 'LATIN1';`` -> ``LATIN1``."""
    first, _, rest = defn.partition("'")
    return rest.partition("'")[0] if first else ""


def tar_member(head: bytes) -> tuple[str, int] | None:
    """The first member of a tar (name, size) when ``head`` starts with a ustar header."""
    if len(head) < TAR_BLOCK or head[257:262] != b"ustar":
        return None
    name = head[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
    try:
        size = int(head[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:
        return None
    return name, size


def readable_by(pg_restore_major: int) -> tuple[int, int]:
    """The newest archive format a ``pg_restore`` of this major reads."""
    if pg_restore_major in MAX_READABLE:
        return MAX_READABLE[pg_restore_major]
    return (1, 16) if pg_restore_major > max(MAX_READABLE) else (1, 12)


def needs_major(header: Header) -> int:
    """The PostgreSQL major whose tools read this archive (from its format, else its pg_dump version)."""
    major = WRITTEN_BY.get(header.version[:2], 0)
    try:
        major = max(major, int(header.dump_version.split(".")[0]))
    except ValueError:
        pass
    return major
