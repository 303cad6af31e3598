"""The extract to validate: a folder, a ``content/`` folder, or a DIAS ``{uuid}.tar`` read in place.

All three look the same to the checks: the files under ``content/`` by their path relative to it,
with a way to open one as a byte stream. A tar is never unpacked: its members are read straight
from the tar file, after every header has passed ``safety``.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import UnreadableInputError
from .safety import MAX_ADDML_BYTES, check_member, prescan_tar

ADDML = "addml.xml"
ADDML_XSD = "addml.xsd"


@dataclass(frozen=True)
class Entry:
    """A file under content/: its path relative to content/, its size, and whether it can be read."""

    name: str
    size: int
    regular: bool = True


class Source:
    """Files under content/ by relative path (``/``-separated)."""

    kind = ""
    label = ""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.notes: list[str] = []

    def open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def read_small(self, name: str, limit: int = MAX_ADDML_BYTES) -> bytes:
        entry = self.entries.get(name)
        if entry is None:
            raise UnreadableInputError(f"{self.label}: no content/{name}")
        if not entry.regular:
            raise UnreadableInputError(f"{self.label}: content/{name} is not a regular file; refusing to read it")
        if entry.size > limit:
            raise UnreadableInputError(f"{self.label}: content/{name} is {entry.size:,} bytes, over the "
                                       f"{limit // 2**20} MB limit; refusing to read it")
        with self.open(name) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise UnreadableInputError(f"{self.label}: content/{name} is over the {limit // 2**20} MB limit")
        return data

    def close(self) -> None:
        pass


class FolderSource(Source):
    kind = "directory"

    def __init__(self, content: Path, label: str, kind: str) -> None:
        super().__init__()
        self.content = content
        self.label = label
        self.kind = kind
        for root, dirs, files in os.walk(content, followlinks=False):
            rel_root = Path(root).relative_to(content)
            for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
                path = Path(root) / name
                st = path.lstat()
                rel = (rel_root / name).as_posix()
                self.entries[rel] = Entry(rel, st.st_size, stat.S_ISREG(st.st_mode))

    def open(self, name: str) -> BinaryIO:
        entry = self.entries[name]
        if not entry.regular:
            raise UnreadableInputError(f"{self.label}: content/{name} is not a regular file")
        path = self.content / name
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnreadableInputError(f"{self.label}: content/{name} is not a regular file")
        return os.fdopen(fd, "rb")


class _MemberReader(io.RawIOBase):
    """One tar member's bytes, read straight from the tar file (members are contiguous: no sparse files)."""

    def __init__(self, fh: BinaryIO, offset: int, size: int) -> None:
        super().__init__()
        self._fh = fh
        self._pos = offset
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0 or n > self._left:
            n = self._left
        if n == 0:
            return b""
        self._fh.seek(self._pos)
        data = self._fh.read(n)
        if len(data) < n:
            raise EOFError("the tar ends inside a member")
        self._pos += n
        self._left -= n
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


@dataclass(frozen=True, slots=True)
class TarMember:
    """Any member of the tar (for the DIAS checks): its name, whether it is a folder, where its bytes are."""

    name: str
    folder: bool
    offset: int
    size: int


class TarSource(Source):
    kind = "tar"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.label = path.name
        self.path = path
        self.members: dict[str, tuple[int, int]] = {}
        self.tar_members: list[TarMember] = []
        """Every member in tar order, names normalised (the DIAS checks need the whole package, not only content/)."""
        self.root = ""
        self._fh = path.open("rb")
        try:
            total = os.fstat(self._fh.fileno()).st_size
            prescan_tar(self._fh, total, self.label)
            try:
                self._tar = tarfile.open(fileobj=self._fh, mode="r:")
            except tarfile.TarError as exc:
                raise UnreadableInputError(f"{self.label} is not an uncompressed tar file: {exc}") from None
            self._list()
        except BaseException:
            self._fh.close()
            raise

    def _list(self) -> None:
        names: set[str] = set()
        files: list[tuple[str, int, int]] = []
        first: tuple[str, bool] | None = None
        while True:
            try:
                member = self._tar.next()
            except tarfile.TarError as exc:
                raise UnreadableInputError(f"{self.label}: unreadable tar header: {exc}") from None
            if member is None:
                break
            self._tar.members = []  # type: ignore[attr-defined]  # keep only what is needed, not every TarInfo
            name = check_member(member, self.label)
            if name in ("", "."):
                continue
            if name in names:
                raise UnreadableInputError(f"{self.label}: member {name!r} occurs twice; refusing to read the tar")
            names.add(name)
            self.tar_members.append(TarMember(name, member.isdir(), member.offset_data, member.size))
            if first is None:
                first = (name, member.isdir())
            parts = name.split("/", 2)
            if member.isfile() and "content" in parts[:2]:
                files.append((name, member.offset_data, member.size))
        root = ""
        top = {n.split("/", 1)[0] for n in names}
        if first and first[1] and all(n == first[0] or n.startswith(first[0] + "/") for n in names):
            root = first[0] + "/"  # Arkade strips a root folder that holds everything
        elif len(top) == 1 and f"{next(iter(top))}/content/{ADDML}" in names:
            root = next(iter(top)) + "/"
            self.notes.append(f"{self.label}: the root folder {root!r} is not the first entry of the tar; Arkade 5 "
                              "looks for content/ at the top of such a tar")
        self.root = root
        prefix = root + "content/"
        for name, offset, size in files:
            if name.startswith(prefix):
                rel = name[len(prefix):]
                self.members[rel] = (offset, size)
                self.entries[rel] = Entry(rel, size)
        if ADDML not in self.entries:
            raise UnreadableInputError(f"{self.label}: no {prefix}{ADDML} in the tar; not an ADDML extract package")

    def open(self, name: str) -> BinaryIO:
        offset, size = self.members[name]
        return self.open_at(offset, size)

    def open_at(self, offset: int, size: int) -> BinaryIO:
        """The bytes of any member, by its ``TarMember.offset`` and ``size``."""
        return io.BufferedReader(_MemberReader(self._fh, offset, size), 1 << 16)  # type: ignore[return-value]

    def close(self) -> None:
        self._tar.close()
        self._fh.close()


def _looks_like_tar(path: Path) -> bool:
    """A .tar name or a ustar header; decided without tarfile, which reads headers unchecked."""
    if path.suffix.lower() == ".tar":
        return True
    with path.open("rb") as fh:
        return fh.read(512)[257:262] == b"ustar"


@contextmanager
def open_source(path: str | Path) -> Iterator[Source]:
    """The extract at ``path``: a folder with content/addml.xml, a content folder, or a .tar."""
    p = Path(path)
    if not p.exists():
        raise UnreadableInputError(f"{p}: no such file or folder")
    source: Source
    if p.is_dir():
        if (p / "content" / ADDML).is_file() or (p / "content" / ADDML).is_symlink():
            source = FolderSource(p / "content", str(p), "directory")
        elif (p / ADDML).exists() or (p / ADDML).is_symlink():
            source = FolderSource(p, str(p), "content folder")
        else:
            raise UnreadableInputError(f"{p}: neither {p / 'content' / ADDML} nor {p / ADDML} exists; "
                                       "give an extract folder, its content folder or a .tar")
    elif p.is_file() and _looks_like_tar(p):
        source = TarSource(p)
    else:
        raise UnreadableInputError(f"{p}: not a folder or a tar file")
    try:
        yield source
    finally:
        source.close()
