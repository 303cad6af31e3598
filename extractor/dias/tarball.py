"""The package tar: deterministic, streamed, and hashed while it is written.

Same input, same bytes: entries sorted by path (a folder sorts before its contents, the root
folder first, as Arkade requires), one fixed mtime, uid/gid 0, empty owner names, mode 0755 for
folders and 0644 for files, POSIX pax format (ustar headers; a pax record only where ustar
cannot hold a name or size). Files are copied in 1 MiB chunks, the tar's SHA-256 is computed as
the bytes go out, and each file is hashed again on the way in so a file changed after it was
listed in dias-mets.xml stops the run instead of producing a package that lies.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from ..errors import ConfigError
from .inventory import CHUNK, Entry

TAR_LIMIT = 10**12
"""Arkivverket takes one tar of at most 1 TB (10^12 bytes, the stricter reading of 'TB')."""

BLOCK = tarfile.BLOCKSIZE


@dataclass(frozen=True)
class Member:
    """A tar entry: a folder (source None) or a file with its expected size and SHA-256."""

    name: str
    source: Path | None = None
    size: int = 0
    sha256: str = ""


def sort_key(name: str) -> tuple[bytes, ...]:
    """Path components as UTF-8 bytes: locale-free, and a folder sorts right before its contents."""
    return tuple(part.encode("utf-8") for part in name.split("/"))


def members(root: str, files: Iterable[Entry], folders: Iterable[str] = ()) -> list[Member]:
    """Every file under ``root/`` plus every folder that holds one (and ``folders``), sorted."""
    out: dict[str, Member] = {root: Member(root)}
    for folder in folders:
        out[f"{root}/{folder}"] = Member(f"{root}/{folder}")
    for entry in files:
        name = f"{root}/{entry.name}"
        parts = name.split("/")
        for i in range(1, len(parts)):
            out.setdefault("/".join(parts[:i]), Member("/".join(parts[:i])))
        out[name] = Member(name, entry.source, entry.size, entry.sha256)
    return [out[k] for k in sorted(out, key=sort_key)]


def predicted_size(items: Sequence[Member]) -> int:
    """An upper bound of the tar's size, known before a byte is written (for the 1 TB check)."""
    total = 2 * BLOCK
    for m in items:
        total += BLOCK + _padded(m.size)
        if not m.name.isascii() or len(m.name) >= 99 or m.size >= 8**11:
            total += BLOCK + _padded(len(m.name.encode("utf-8")) + 64)
    return _padded(total, tarfile.RECORDSIZE)


def check_limit(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise ConfigError(f"the package would be {size:,} bytes ({what}), above the limit of {limit:,} bytes a depot "
                          "takes in one tar (1 TB); split the extract (e.g. by period or with --table) and package "
                          "each part")


def write_tar(path: Path, items: Sequence[Member], mtime: int) -> tuple[str, int]:
    """Write the tar to ``path``; returns its SHA-256 and size."""
    with open(path, "wb") as raw:
        out = _HashingWriter(raw)
        with tarfile.TarFile(fileobj=cast(IO[bytes], out), mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8",
                             copybufsize=CHUNK) as tar:
            for m in items:
                info = tarfile.TarInfo(m.name)
                info.mtime = mtime
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if m.source is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                    continue
                info.type = tarfile.REGTYPE
                info.mode = 0o644
                info.size = m.size
                with open(m.source, "rb") as f:
                    src = _HashingReader(f)
                    try:
                        tar.addfile(info, cast(IO[bytes], src))
                    except OSError as exc:
                        if "unexpected end of data" in str(exc):
                            raise _changed(m.source) from None
                        raise
                    if src.digest.hexdigest() != m.sha256 or f.read(1):
                        raise _changed(m.source)
        raw.flush()
        return out.digest.hexdigest(), out.size


def _changed(source: Path) -> ConfigError:
    return ConfigError(f"{source}: changed while being packaged; stop whatever writes to the extract and run again")


def _padded(size: int, unit: int = BLOCK) -> int:
    return -(-size // unit) * unit


class _HashingWriter:
    """The file object tarfile writes to: counts and hashes every byte on its way to disk."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.raw.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size


class _HashingReader:
    """A source file seen through its SHA-256, to prove the tar holds what dias-mets.xml says."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size)
        self.digest.update(data)
        return data
