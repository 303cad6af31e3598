"""The extract to validate: a folder, a ``content/`` folder, or a DIAS ``{uuid}.tar`` read in place.

All three look the same to the checks: the files under ``content/`` by their path relative to it,
with a way to open one as a byte stream. A tar is never unpacked: its members are read straight
from the tar file, after every header has passed ``safety``. The list of files (a tar may hold
millions of members) is a table on disk (``file_index``), never a list in memory; a gzip, bzip2
or xz tar is read as a stream (``compressed``), never unpacked.

Older layouts are read too, and named in ``layout`` for the report: a tar without a root folder,
and the DIAS layout before 2017, which kept ``addml.xml`` only in ``administrative_metadata/``
(Arkade 5 looks for ``content/addml.xml`` and does not open such a package).
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
from .compressed import Compression, DecompressedTar, compressed_tar, decompress_command, plain_name
from .file_index import FILE, FOLDER, OTHER, DuplicateName, FileIndex
from .keystore import KeyStore
from .safety import MAX_ADDML_BYTES, check_member, prescan_tar

ADDML = "addml.xml"
ADDML_XSD = "addml.xsd"
OLD_ADDML = "administrative_metadata/addml.xml"
"""Where the DIAS layout before 2017 kept the description (beside the package's other metadata)."""
BEFORE_2017 = "DIAS layout before 2017"
DESCRIPTIONS = (ADDML, "addmml.xml", "ADDMML.XML", "ADDML.XML")
"""Names a description has in content/: addml.xml, and the names ADDMML 7 extracts gave theirs."""


@dataclass(frozen=True)
class Entry:
    """A file under content/: its path relative to content/, its size, and whether it can be read."""

    name: str
    size: int
    regular: bool = True


class Source:
    """Files under content/ by relative path (``/``-separated), looked up in a ``FileIndex`` on disk."""

    kind = ""
    label = ""

    def __init__(self, index: FileIndex, prefix: str = "") -> None:
        self.index = index
        self.prefix = prefix
        """Where content/ is in the index ('' when the index holds only content/)."""
        self.notes: list[str] = []
        self.layout: list[str] = []
        """What is old about the package's layout (for the report's 'DIAS layout before 2017: ...')."""
        self.description = f"content/{ADDML}"
        """Where the description was found, relative to the package (or extract folder)."""

    def read_description(self) -> bytes:
        """The bytes of the description (``content/addml.xml`` or where an older layout keeps it)."""
        return self.read_small(self.description_name)

    @property
    def description_name(self) -> str:
        """The description's name under content/ (``addml.xml``, or an ADDMML 7 extract's ``addmml.xml``)."""
        return next((n for n in DESCRIPTIONS if self.entry(n) is not None), ADDML)

    def order(self, name: str) -> int:
        """Where content/``name`` lies in the input: files read in this order are read in one pass."""
        return 0

    def entry(self, name: str) -> Entry | None:
        """The file content/``name``, or None when there is none (a folder is none)."""
        found = self.index.get(self.prefix + name)
        if found is None or found.kind == FOLDER:
            return None
        return Entry(name, found.size, found.kind == FILE)

    def content_files(self) -> Iterator[str]:
        """The path of every file under content/ (any depth), relative to it, sorted."""
        cut = len(self.prefix)
        return (f.name[cut:] for f in self.index.under(self.prefix) if f.kind != FOLDER)

    def open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def read_small(self, name: str, limit: int = MAX_ADDML_BYTES) -> bytes:
        entry = self.entry(name)
        if entry is None:
            raise UnreadableInputError(f"{self.label}: no content/{name}")
        if not entry.regular:
            raise UnreadableInputError(f"{self.label}: content/{name} is not a regular file; refusing to read it")
        if entry.size > limit:
            raise UnreadableInputError(f"{self.label}: content/{name} is {entry.size:,} bytes, over the "
                                       f"{limit // 2**20} MB limit; refusing to read it")
        with self.open(name) as fh:
            data = fh.read(min(entry.size, limit) + 1)
        if len(data) > limit:
            raise UnreadableInputError(f"{self.label}: content/{name} is over the {limit // 2**20} MB limit")
        return data

    def close(self) -> None:
        pass


def _walk(folder: Path) -> Iterator[tuple[str, int, bool]]:
    """(path relative to ``folder``, size, regular) of every non-folder under it; links are not followed.

    One folder's listing at a time (``os.scandir``), not every name of the tree as ``os.walk`` keeps it.
    """
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        try:
            with os.scandir(folder / rel_dir if rel_dir else folder) as it:
                for e in it:
                    rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
                    if e.is_dir(follow_symlinks=False):
                        pending.append(rel)
                    else:
                        st = e.stat(follow_symlinks=False)
                        yield rel, st.st_size, stat.S_ISREG(st.st_mode)
        except OSError:
            continue  # an unreadable sub-folder: its files are not there for the checks (AH.02 names the missing)


class FolderSource(Source):
    kind = "directory"

    def __init__(self, content: Path, label: str, kind: str, keys: KeyStore, description: Path | None = None) -> None:
        super().__init__(FileIndex(keys.side_db("files")))
        self.content = content
        self.label = label
        self.kind = kind
        self._description = description
        """A description outside content/ (the older layout's administrative_metadata/addml.xml)."""
        if description is not None:
            self.description = OLD_ADDML
            self.layout.append(f"addml.xml only in {OLD_ADDML}, none in content/ (Arkade 5 looks for "
                               "content/addml.xml and would not open this extract)")
        for rel, size, regular in _walk(content):
            self.index.add(rel, FILE if regular else OTHER, 0, size)
        self.index.done()

    def read_description(self) -> bytes:
        if self._description is None:
            self.description = f"content/{self.description_name}"
            return self.read_small(self.description_name)
        try:
            fd = os.open(self._description, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise UnreadableInputError(f"{self.label}: {OLD_ADDML} cannot be opened as a regular file ({exc.strerror}); "
                                       "refusing to read it") from None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise UnreadableInputError(f"{self.label}: {OLD_ADDML} is not a regular file; refusing to read it")
            if st.st_size > MAX_ADDML_BYTES:
                raise UnreadableInputError(f"{self.label}: {OLD_ADDML} is {st.st_size:,} bytes, over the "
                                           f"{MAX_ADDML_BYTES // 2**20} MB limit; refusing to read it")
            return fh.read(MAX_ADDML_BYTES + 1)

    def open(self, name: str) -> BinaryIO:
        entry = self.entry(name)
        if entry is None or not entry.regular:
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
    """A tar read in place: one pass over its headers fills the index (every member, names normalised);
    only what the checks need of the whole is kept in memory: the first member, how many lie outside it
    (with one example), and whether every member shares one top folder."""

    kind = "tar"

    def __init__(self, path: Path, keys: KeyStore, compression: Compression | None = None) -> None:
        super().__init__(FileIndex(keys.side_db("members"), "members"))
        self.label = path.name
        self.path = path
        self.compression = compression
        self.compressed_note = ""
        self.tar_name = plain_name(path, compression)
        """The plain tar's name (``x.tar`` for ``x.tar.gz``): the name a depot and the info file know."""
        self.stem = self.tar_name[:-4] if self.tar_name.lower().endswith(".tar") else Path(self.tar_name).stem
        """The package UUID the name gives (DIAS names the root folder and the info file by it)."""
        self.root = ""
        self.first: TarMember | None = None
        self.outside = 0
        """Members neither the first one nor under it."""
        self.outside_example = ""
        self._fh: BinaryIO
        if compression is not None:
            self.kind = f"{compression.name[2:].lstrip()}-compressed tar"
            self._fh = DecompressedTar(path, compression)  # type: ignore[assignment]
            self.compressed_note = (f"{compression.name}-compressed tar, read here as a stream: a depot takes the "
                                    "plain tar and Arkade 5 does not open a compressed one, so deliver the plain tar "
                                    f"(decompress it: {decompress_command(path, compression)})")
        else:
            self._fh = path.open("rb")
        try:
            if isinstance(self._fh, DecompressedTar):
                total = self._fh.size()
            else:
                total = os.fstat(self._fh.fileno()).st_size
            self.size = total
            """The plain tar's size in bytes."""
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
        top: str | None = None
        one_top = True
        try:
            while True:
                try:
                    member = self._tar.next()
                except tarfile.TarError as exc:
                    raise UnreadableInputError(f"{self.label}: unreadable tar header: {exc}") from None
                if member is None:
                    break
                self._tar.members = []  # type: ignore[attr-defined]  # tarfile would keep every TarInfo
                name = check_member(member, self.label)
                if name in ("", "."):
                    continue
                folder = member.isdir()
                self.index.add(name, FOLDER if folder else FILE, member.offset_data, member.size)
                first = self.first
                if first is None:
                    self.first = TarMember(name, folder, member.offset_data, member.size)
                elif not name.startswith(first.name + "/"):
                    self.outside += 1
                    self.outside_example = self.outside_example or name
                head = name.split("/", 1)[0]
                top = head if top is None else top
                one_top = one_top and head == top
            self.index.done()
        except DuplicateName as exc:
            raise UnreadableInputError(f"{self.label}: member {exc.name!r} occurs twice; refusing to read the tar") from None
        first = self.first
        if first and first.folder and not self.outside:
            self.root = first.name + "/"  # Arkade strips a root folder that holds everything
        elif top is not None and one_top and self._is_file(f"{top}/content/{ADDML}"):
            self.root = top + "/"
            self.notes.append(f"{self.label}: the root folder {self.root!r} is not the first entry of the tar; "
                              "Arkade 5 looks for content/ at the top of such a tar")
        if self.root == "content/" and not any(self._is_file(f"content/content/{n}") for n in DESCRIPTIONS) \
                and any(self._is_file(f"content/{n}") for n in DESCRIPTIONS):
            self.root = ""  # a tar of content/ alone: its one folder is content/ itself, not a package root
            self.notes.append(f"{self.label}: the tar holds only content/; Arkade 5 would take it for the package's "
                              "root folder and not find content/addml.xml in it")
        self.prefix = self.root + "content/"
        metadata = any(self.index.get(n) is not None or self.index.is_folder(n)
                       for n in ("administrative_metadata", "descriptive_metadata"))
        if not self.root and self.first is not None and metadata and not self._is_file("dias-mets.xml"):
            self.layout.append("no root folder (the tar's entries start with content/ and the metadata folders)")
        self._description_at = self.prefix + self.description_name
        self.description = f"content/{self.description_name}"
        if self.entry(self.description_name) is None:
            old = self.root + OLD_ADDML
            if not self._is_file(old):
                if siard_content(self) is not None:
                    return  # a SIARD file is the content (read by run._siard_package)
                raise UnreadableInputError(f"{self.label}: no {self.prefix}{ADDML} in the tar (nor {old}, nor a SIARD "
                                           "file in content/); not an ADDML extract package")
            self._description_at = old
            self.description = OLD_ADDML
            self.layout.append(f"addml.xml only in {OLD_ADDML}, none in content/ (Arkade 5 looks for "
                               "content/addml.xml and would not open this package)")

    def read_description(self) -> bytes:
        found = self.index.get(self._description_at)
        assert found is not None and found.kind == FILE
        if found.size > MAX_ADDML_BYTES:
            raise UnreadableInputError(f"{self.label}: {self._description_at} is {found.size:,} bytes, over the "
                                       f"{MAX_ADDML_BYTES // 2**20} MB limit; refusing to read it")
        with self.open_at(found.offset, found.size) as fh:
            return fh.read()

    def order(self, name: str) -> int:
        found = self.index.get(self.prefix + name)
        return found.offset if found is not None else 0

    def open_raw(self) -> BinaryIO:
        """The plain tar's bytes from the first, as a new stream (for one sequential pass)."""
        if self.compression is not None:
            return io.BufferedReader(DecompressedTar(self.path, self.compression), 1 << 20)  # type: ignore[return-value]
        return self.path.open("rb")

    def _is_file(self, name: str) -> bool:
        found = self.index.get(name)
        return found is not None and found.kind == FILE

    def open(self, name: str) -> BinaryIO:
        found = self.index.get(self.prefix + name)
        if found is None or found.kind != FILE:
            raise UnreadableInputError(f"{self.label}: no file content/{name} in the tar")
        return self.open_at(found.offset, found.size)

    def open_at(self, offset: int, size: int) -> BinaryIO:
        """The bytes of any member, by its ``TarMember.offset`` and ``size``."""
        return io.BufferedReader(_MemberReader(self._fh, offset, size), 1 << 16)  # type: ignore[return-value]

    def close(self) -> None:
        self._tar.close()
        self._fh.close()


def siard_content(source: Source) -> str | None:
    """The SIARD file directly in content/ when the content is one (no addml.xml), else None."""
    if source.entry(ADDML) is not None:
        return None
    found = [n for n in source.content_files() if "/" not in n and n.lower().endswith(".siard")]
    return found[0] if len(found) == 1 else None


def _looks_like_tar(path: Path) -> bool:
    """A .tar name or a ustar header; decided without tarfile, which reads headers unchecked."""
    if path.suffix.lower() == ".tar":
        return True
    with path.open("rb") as fh:
        return fh.read(512)[257:262] == b"ustar"


@contextmanager
def open_source(path: str | Path, keys: KeyStore) -> Iterator[Source]:
    """The extract at ``path``: a folder with content/addml.xml, a content folder, or a .tar.

    Its file list goes to a table in ``keys``' temporary folder.
    """
    p = Path(path)
    if not p.exists():
        raise UnreadableInputError(f"{p}: no such file or folder")
    source: Source
    if p.is_dir():
        if any((p / "content" / n).is_file() or (p / "content" / n).is_symlink() for n in DESCRIPTIONS):
            source = FolderSource(p / "content", str(p), "directory", keys)
        elif any((p / n).exists() or (p / n).is_symlink() for n in DESCRIPTIONS):
            source = FolderSource(p, str(p), "content folder", keys)
        elif (p / "content").is_dir() and not (p / "content").is_symlink() and (p / OLD_ADDML).is_file():
            source = FolderSource(p / "content", str(p), "directory", keys, p / OLD_ADDML)
        elif (p / "content").is_dir() and any(c.suffix.lower() == ".siard" for c in (p / "content").iterdir()):
            source = FolderSource(p / "content", str(p), "directory", keys)
        else:
            raise UnreadableInputError(f"{p}: neither {p / 'content' / ADDML} nor {p / ADDML} exists; "
                                       "give an extract folder, its content folder or a .tar")
    elif p.is_file():
        compression = compressed_tar(p)
        if compression is None and not _looks_like_tar(p):
            raise UnreadableInputError(f"{p}: not a folder or a tar file")
        source = TarSource(p, keys, compression)
    else:
        raise UnreadableInputError(f"{p}: not a folder or a tar file")
    try:
        yield source
    finally:
        source.close()
