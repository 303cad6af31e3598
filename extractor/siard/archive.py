"""A SIARD file opened read-only: its ZIP directory checked before anything is read, members streamed.

A SIARD file is hostile input. Before a byte of a member is read: the directory must be whole (a
cut or damaged ZIP is one ``SiardError``), no member may name an absolute path, ``..``, a link or
a device, appear twice or be encrypted, the member count is bounded (``MAX_MEMBERS``), and no
member may declare more than ``RATIO_LIMIT`` times its compressed size past ``RATIO_FLOOR`` (a zip
bomb). A member is read as a stream (``zipfile`` stops at its declared size and checks its CRC
at the end), so nothing is unpacked to disk and memory does not grow with a member's size.
ZIP64, stored and deflated members are what ``zipfile`` reads; any other method is refused.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import SourceError

MAX_MEMBERS = 1_000_000
"""Most members a SIARD file may hold (one per LOB: large, but bounded)."""
RATIO_LIMIT = 1000
RATIO_FLOOR = 64 << 20
"""A member declaring more than ``RATIO_LIMIT`` times its compressed size, past this, is a bomb."""
CHUNK = 1 << 20
METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


class SiardError(SourceError):
    """A SIARD file cannot be read safely, or does not hold what SIARD requires."""


def _bad_name(name: str) -> str:
    parts = re.split(r"[/\\]", name)
    if not name or "\0" in name:
        return "has an empty or NUL-holding name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in parts:
        return "points outside the archive (..)"
    return ""


class SiardZip:
    """The ZIP container of a SIARD file (open it with ``with``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        try:
            self._fh = path.open("rb")
        except OSError as exc:
            raise SiardError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        try:
            declared = declared_members(self._fh)
            if declared > MAX_MEMBERS:
                raise SiardError(f"{path}: the ZIP archive declares {declared:,} members, more than the "
                                 f"{MAX_MEMBERS:,} uttrekk reads; refused")
            self._zip = zipfile.ZipFile(self._fh)
            self.members = self._check(self._zip.infolist())
        except zipfile.BadZipFile as exc:
            self._fh.close()
            raise SiardError(f"{path}: not a whole ZIP archive ({exc}): the SIARD file is cut short or damaged; "
                             "ask for it again") from None
        except BaseException:
            self._fh.close()
            raise

    def _check(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        if len(infos) > MAX_MEMBERS:
            raise SiardError(f"{self.label}: the ZIP archive holds {len(infos):,} members, more than the "
                             f"{MAX_MEMBERS:,} uttrekk reads")
        found: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            problem = _bad_name(name)
            mode = info.external_attr >> 16
            if not problem and name in found:
                problem = "occurs twice"
            if not problem and info.create_system == 3 and stat.S_ISLNK(mode):
                problem = "is a symbolic link"
            if not problem and info.create_system == 3 and mode and stat.S_IFMT(mode) not in (
                    0, stat.S_IFREG, stat.S_IFDIR):
                problem = "is a device or FIFO"
            if problem:
                raise SiardError(f"{self.label}: ZIP member {name!r} {problem}; refused as hostile (a SIARD file "
                                 "holds no such member)")
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise SiardError(f"{self.label}: ZIP member {name!r} is encrypted; SIARD files are not")
            if info.compress_type not in METHODS:
                raise SiardError(f"{self.label}: ZIP member {name!r} is compressed with method {info.compress_type}; "
                                 "SIARD allows only stored and deflated members")
            if info.file_size > RATIO_FLOOR and info.file_size > RATIO_LIMIT * max(info.compress_size, 1):
                raise SiardError(f"{self.label}: ZIP member {name!r} declares {info.file_size:,} bytes from "
                                 f"{info.compress_size:,}: refused as a decompression bomb")
            found[name] = info
        return found

    def __enter__(self) -> SiardZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._fh.close()

    def has(self, name: str) -> bool:
        return name in self.members

    def size(self, name: str) -> int:
        return self.members[name].file_size

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """The member as a binary stream; a damaged or cut member raises ``SiardError`` naming it."""
        if name not in self.members:
            raise SiardError(f"{self.label}: the SIARD file has no member {name}")
        try:
            stream = self._zip.open(self.members[name])
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError, NotImplementedError) as exc:
            raise SiardError(f"{self.label}: member {name} cannot be read ({exc}): the SIARD file is damaged or "
                             "cut short; ask for it again") from None
        guarded = _Guarded(stream, self.label, name)
        try:
            yield guarded  # type: ignore[misc]
        finally:
            stream.close()

    def read_small(self, name: str, limit: int) -> bytes:
        """A member read whole, refused when larger than ``limit`` (metadata.xml, a table's XSD)."""
        if self.size(name) > limit:
            raise SiardError(f"{self.label}: {name} declares {self.size(name):,} bytes, more than the "
                             f"{limit:,} uttrekk reads into memory; refused")
        with self.open(name) as fh:
            return fh.read(limit + 1)

    def digest(self, name: str, algorithm: str) -> tuple[str, int]:
        """The member's digest (hex, upper case) and length in bytes, streamed."""
        h = hashlib.new(algorithm)
        n = 0
        with self.open(name) as fh:
            while data := fh.read(CHUNK):
                h.update(data)
                n += len(data)
        return h.hexdigest().upper(), n


class _Guarded:
    """A member stream whose errors (a CRC that does not match, a cut stream) become ``SiardError``."""

    def __init__(self, inner: IO[bytes], label: str, name: str) -> None:
        self._inner, self._label, self._name = inner, label, name

    def read(self, n: int = -1) -> bytes:
        try:
            return self._inner.read(n)
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as exc:
            raise SiardError(f"{self._label}: member {self._name} cannot be read ({exc}): the SIARD file is damaged "
                             "or cut short; ask for it again") from None

    def close(self) -> None:
        self._inner.close()


def declared_members(fh: IO[bytes]) -> int:
    """The member count the ZIP's end record declares (ZIP64's when it defers to it), read before
    ``zipfile`` loads the whole directory into memory; 0 when there is no end record (``zipfile``
    says what is wrong)."""
    size = fh.seek(0, 2)
    fh.seek(max(0, size - (1 << 16) - 22))
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return 0
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    if count == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
        record = int.from_bytes(tail[at - 12:at - 4], "little")
        if 0 <= record < size:
            fh.seek(record + 32)
            count = int.from_bytes(fh.read(8), "little")
    fh.seek(0)
    return count


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while data := fh.read(CHUNK):
            h.update(data)
    return h.hexdigest()
