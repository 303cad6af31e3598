"""A compressed tar, told by its first bytes (never its name): read as a stream, or refused.

A depot takes the extract as one uncompressed tar ("plain text, uncrypted, uncompressed"; "one TAR
file of at most 1 TB" whose SHA-256 the info file carries), and Arkade 5 unpacks a package with a
plain tar reader, so a compressed tar cannot be delivered as it is. Depots nevertheless receive
old extracts as ``.tar.gz`` and must test them before anything else: a gzip, bzip2 or xz tar is
therefore read as a stream (``DecompressedTar``), never written to disk, and the report warns that
the delivery must be the plain tar (with the command that gives it). A zip archive, a zstd file
(no decompressor in Python's standard library) and compressed files that are not tars are refused
with exit code 2 and one line saying what they are.

Decompression is bounded: the plain tar may not exceed the depot limit (1 TiB), and once more
than 1 GiB has come out, more than 1,000 bytes out per byte in stops reading (a decompression
bomb; real tars of text compress about 5-50 to 1). Memory holds one chunk.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from io import BufferedIOBase
from pathlib import Path
from shlex import quote
from typing import Any, BinaryIO, NamedTuple

from ..errors import UnreadableInputError


class _Kind(NamedTuple):
    name: str
    """With its article: 'a gzip', 'an xz'."""
    magic: bytes
    opener: Callable[[BinaryIO], BufferedIOBase] | None
    """Opens the decompressed stream (None: not in Python's standard library)."""
    tool: str
    suffixes: tuple[str, ...]
    """Names the tool turns into the plain file by itself (``-k`` keeps the compressed one)."""


Compression = _Kind
"""The public name of a compression kind (gzip, bzip2, xz, zstd)."""

KINDS = (
    _Kind("a gzip", b"\x1f\x8b", lambda fh: gzip.GzipFile(fileobj=fh), "gunzip", (".gz", ".tgz")),
    _Kind("a bzip2", b"BZh", lambda fh: bz2.BZ2File(fh), "bunzip2", (".bz2", ".tbz2", ".tbz")),
    _Kind("an xz", b"\xfd7zXZ\x00", lambda fh: lzma.LZMAFile(fh), "unxz", (".xz", ".txz")),
    _Kind("a zstd", b"\x28\xb5\x2f\xfd", None, "unzstd", (".zst",)),
)
ZIP = b"PK\x03\x04"


def _is_tar_header(block: bytes) -> bool:
    """A ustar/GNU magic, or a v7 header whose checksum adds up."""
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    try:
        stored = int(block[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 8 * 32 + sum(block[156:512])


def what_it_is(path: Path) -> tuple[str, _Kind | None] | None:
    """What a compressed file is ('a gzip-compressed tar', 'a zip archive'...), with the compression
    when decompressing may give a tar; None when the file is not compressed.

    Only the first 512 decompressed bytes are read, so nothing in the file can make this expand
    without bound.
    """
    with path.open("rb") as fh:
        head = fh.read(8)
        if head.startswith(ZIP):
            return "a zip archive", None
        kind = next((k for k in KINDS if head.startswith(k.magic)), None)
        if kind is None:
            return None
        if kind.opener is None:
            return f"{kind.name}-compressed file", kind
        fh.seek(0)
        try:
            with kind.opener(fh) as inner:
                block = inner.read(512)
        except (OSError, EOFError, ValueError, lzma.LZMAError):
            return f"{kind.name}-compressed file that cannot be decompressed", None
    if _is_tar_header(block):
        return f"{kind.name}-compressed tar", kind
    return f"{kind.name}-compressed file, not a tar", None


def decompress_command(path: Path, kind: _Kind) -> str:
    """The shell command that turns ``path`` into the plain tar beside it."""
    name = path.name
    if name.lower().endswith(kind.suffixes):
        return f"{kind.tool} -k {quote(name)}"
    renamed = quote(name + kind.suffixes[0])  # the tools want their suffix; the plain tar keeps the package's name
    return f"mv {quote(name)} {renamed} && {kind.tool} {renamed}"


def plain_name(path: Path, kind: _Kind | None) -> str:
    """The name of the plain tar: ``x.tar.gz`` and ``x.tgz`` -> ``x.tar``; a name without the suffix stays."""
    name = path.name
    if kind is None:
        return name
    low = name.lower()
    for suffix in kind.suffixes:
        if low.endswith(suffix):
            stem = name[:-len(suffix)]
            return stem if stem.lower().endswith(".tar") else stem + ".tar"
    return name


def compressed_tar(path: Path) -> _Kind | None:
    """The compression of a compressed tar that can be read as a stream; None for a file that is not
    compressed. Raises ``UnreadableInputError`` (exit code 2) for what cannot be read: a zip archive,
    zstd, a compressed file that is not a tar or cannot be decompressed."""
    found = what_it_is(path)
    if found is None:
        return None
    what, kind = found
    if kind is None:
        raise UnreadableInputError(f"{path}: {what}; give validate an extract folder or a DIAS {{uuid}}.tar "
                                   "(uncompressed, or compressed with gzip, bzip2 or xz)")
    if kind.opener is None:
        raise UnreadableInputError(f"{path}: {what}; it cannot be read as a stream here, so decompress it "
                                   f"({decompress_command(path, kind)}) and validate the plain tar")
    return kind


MAX_TAR_BYTES = 1 << 40
"""The depot limit for one package: a compressed tar that gives more is refused."""
BOMB_GRACE = 1 << 30
BOMB_RATIO = 1000
"""Beyond BOMB_GRACE bytes out, more than this many bytes out per byte in is a decompression bomb."""
_SKIP = 1 << 20


class DecompressedTar(io.RawIOBase):
    """The plain tar inside a compressed file, read forward as a stream.

    Seeking forward reads and discards; seeking back starts decompressing again from the first byte
    (the validation reads members in tar order, so that happens a few times per run, not per
    record). Nothing is written to disk.
    """

    def __init__(self, path: Path, kind: _Kind) -> None:
        super().__init__()
        assert kind.opener is not None
        self.path = path
        self.kind = kind
        self.restarts = 0
        self._raw: BinaryIO | None = None
        self._inner: Any = None
        self._pos = 0
        self._open()

    def _open(self) -> None:
        self._close_streams()
        assert self.kind.opener is not None
        self._raw = self.path.open("rb")
        self._inner = self.kind.opener(self._raw)
        self._pos = 0

    def _close_streams(self) -> None:
        if self._inner is not None:
            self._inner.close()
        if self._raw is not None:
            self._raw.close()
        self._inner = self._raw = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _guard(self) -> None:
        if self._pos > MAX_TAR_BYTES:
            raise UnreadableInputError(f"{self.path.name}: decompresses to more than {MAX_TAR_BYTES >> 40} TiB, "
                                       "the depot limit for a package; refusing to read on")
        if self._pos > BOMB_GRACE and self._raw is not None:
            consumed = max(1, self._raw.tell())
            if self._pos > consumed * BOMB_RATIO:
                raise UnreadableInputError(f"{self.path.name}: {self._pos:,} bytes came out of {consumed:,} compressed "
                                           f"bytes (over {BOMB_RATIO}:1): a decompression bomb, not a tar of "
                                           "data; refusing to read on")

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while chunk := self.read(_SKIP):
                parts.append(chunk)
            return b"".join(parts)
        try:
            data = self._inner.read(n)
        except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
            raise UnreadableInputError(f"{self.path.name}: the {self.kind.name[2:].lstrip()} stream is broken at "
                                       f"byte {self._pos:,} of the tar: {exc}") from None
        self._pos += len(data)
        self._guard()
        return bytes(data)

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise OSError("a compressed tar cannot seek from its end")
        if offset < self._pos:
            self.restarts += 1
            self._open()
        while self._pos < offset:
            if not self.read(min(_SKIP, offset - self._pos)):
                break
        return self._pos

    def size(self) -> int:
        """The plain tar's size: one pass over the stream (where a bomb is stopped before anything else)."""
        self.seek(0)
        while self.read(_SKIP):
            pass
        total = self._pos
        self.seek(0)
        return total

    def close(self) -> None:
        self._close_streams()
        super().close()
