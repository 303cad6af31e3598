"""Which files make up a dBase/FoxPro source: one .dbf, or a folder of them (one database).

In a folder every file whose content is a .dbf header and whose name ends in ``.dbf`` (any case)
is a table named after the file; its memo file is the ``.dbt`` or ``.fpt`` of the same name beside
it, whatever the case of either name. Index files (``.ndx .mdx .cdx .ntx .idx .nsx``) are not read
(uttrekk reads every record in file order; an index only orders and finds them) and are listed;
a Visual FoxPro database container (``.dbc`` with its ``.dct``/``.dcx``) is listed as not read;
any other file is listed too. Entries that are symbolic links or folders are listed, never followed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from extractor.errors import SourceError

from . import HEAD_BYTES
from .dbase_header import Bad, Header, parse

INDEX_ENDINGS = (".ndx", ".mdx", ".cdx", ".ntx", ".idx", ".nsx")
CONTAINER_ENDINGS = (".dbc", ".dct", ".dcx")
MEMO_ENDINGS = (".dbt", ".fpt")


@dataclass(frozen=True)
class TableFile:
    name: str
    path: Path
    header: Header
    memo: Path | None
    """The memo file found beside it (``None``: none, or the table has no memo field)."""


@dataclass
class Layout:
    """What SOURCE holds, and every file of it with its size and SHA-256 (for the provenance)."""

    root: Path
    folder: bool
    tables: list[TableFile] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    container: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    """Files and entries not read (neither table, memo, index nor container)."""
    unused_memos: list[str] = field(default_factory=list)
    digests: dict[str, tuple[int, str]] = field(default_factory=dict)
    """File name -> (bytes, SHA-256), for every regular file of SOURCE."""

    @property
    def digest(self) -> str:
        """One SHA-256 for the whole source (every file's name and SHA-256): its cache entry's key."""
        h = hashlib.sha256()
        for name, (_, digest) in sorted(self.digests.items()):
            h.update(name.encode("utf-8", "surrogateescape") + b"\0" + digest.encode("ascii") + b"\n")
        return h.hexdigest()

    @property
    def files(self) -> tuple[Path, ...]:
        base = self.root if self.folder else self.root.parent
        return (self.root,) if self.folder else tuple(base / n for n in self.digests)


def head_of(path: Path) -> tuple[bytes, int] | None:
    """The first bytes and size of a regular file (no link followed), or ``None``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return os.pread(fd, HEAD_BYTES, 0), st.st_size
    finally:
        os.close(fd)


def table_header(path: Path) -> Header | None:
    found = head_of(path)
    if found is None:
        return None
    try:
        return parse(*found)
    except Bad:
        return None


def sha256(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        size = 0
        while data := os.read(fd, 1 << 20):
            h.update(data)
            size += len(data)
    finally:
        os.close(fd)
    return size, h.hexdigest()


def layout_of(path: Path, header: Header | None = None) -> Layout:
    """The tables, memo files and other files of SOURCE (a .dbf or a folder)."""
    try:
        if path.is_dir():
            return _folder(path)
        return _single(path, header)
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _memo_beside(names: dict[str, str], stem: str) -> str | None:
    for ending in MEMO_ENDINGS:
        found = names.get((stem + ending).casefold())
        if found is not None:
            return found
    return None


def _single(path: Path, header: Header | None) -> Layout:
    header = header or table_header(path)
    if header is None:
        raise SourceError(f"{path}: not a dBase/FoxPro table")
    out = Layout(path, folder=False)
    out.digests[path.name] = sha256(path)
    memo = None
    if header.needs_memo:
        names = {n.casefold(): n for n in os.listdir(path.parent)}
        found = _memo_beside(names, path.stem)
        if found is not None and head_of(path.parent / found) is not None:
            memo = path.parent / found
            out.digests[found] = sha256(memo)
    out.tables.append(TableFile(path.stem, path, header, memo))
    return out


def _folder(path: Path) -> Layout:
    out = Layout(path, folder=True)
    entries = sorted(os.listdir(path))
    names = {n.casefold(): n for n in entries}
    used: set[str] = set()
    taken: dict[str, str] = {}
    for name in entries:
        full = path / name
        if not name.casefold().endswith(".dbf"):
            continue
        header = table_header(full)
        if header is None:
            found = head_of(full)
            if found is None:
                continue  # a link or a folder: listed below
            try:
                parse(*found)
            except Bad as exc:
                raise SourceError(f"{full}: {exc}") from None
            raise SourceError(f"{full}: named like a dBase table, but its content is no .dbf header "
                              "(nothing was read); remove it from the folder or give the tables one by one")
        stem = name[:-4]
        if stem.casefold() in taken:
            raise SourceError(f"{path}: {taken[stem.casefold()]} and {name} are one table name in dBase, which "
                              "ignores case; give them in folders of their own")
        taken[stem.casefold()] = name
        memo = _memo_beside(names, stem) if header.needs_memo else None
        if memo is not None and head_of(path / memo) is None:
            memo = None
        if memo is not None:
            used.add(memo)
        out.tables.append(TableFile(stem, full, header, path / memo if memo else None))
        used.add(name)
    if not out.tables:
        raise SourceError(f"{path}: holds no dBase/FoxPro table (.dbf)")
    for name in entries:
        full = path / name
        regular = head_of(full) is not None
        if regular:
            out.digests[name] = sha256(full)
        if name in used:
            continue
        low = name.casefold()
        if not regular:
            out.others.append(f"{name} (a folder or link, not followed)")
        elif low.endswith(INDEX_ENDINGS):
            out.indexes.append(name)
        elif low.endswith(CONTAINER_ENDINGS):
            out.container.append(name)
        elif low.endswith(MEMO_ENDINGS):
            out.unused_memos.append(name)
        else:
            out.others.append(name)
    return out
