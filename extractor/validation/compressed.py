"""A compressed tar, told by its first bytes (never its name), and refused with what to do instead.

A depot takes the extract as one uncompressed tar ("plain text, uncrypted, uncompressed"; "one TAR
file of at most 1 TB" whose SHA-256 the info file carries), and Arkade 5 unpacks a package with a
plain tar reader. So a compressed tar cannot be delivered as it is, and the checksums a depot
compares are those of the plain tar: that is the file to validate. Reading it anyway would also
mean decompressing it (members are read in place, by offset). uttrekk therefore refuses it with
exit code 2 and one line naming the compression and the command that gives the plain tar.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from io import BufferedIOBase
from pathlib import Path
from shlex import quote
from typing import BinaryIO, NamedTuple

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


def refuse_compressed(path: Path) -> None:
    """Raise ``UnreadableInputError`` (exit code 2) for a compressed file, saying what it is and what to do."""
    found = what_it_is(path)
    if found is None:
        return
    what, kind = found
    if kind is None:
        raise UnreadableInputError(f"{path}: {what}; give validate an extract folder or a DIAS {{uuid}}.tar "
                                   "(uncompressed)")
    name = path.name
    if name.lower().endswith(kind.suffixes):
        command = f"{kind.tool} -k {quote(name)}"
    else:  # the tools want their suffix; the plain tar keeps the package's name
        renamed = quote(name + kind.suffixes[0])
        command = f"mv {quote(name)} {renamed} && {kind.tool} {renamed}"
    raise UnreadableInputError(f"{path}: {what}; a depot takes the DIAS package as an uncompressed tar (no "
                               f"compression), so decompress it ({command}) and validate and deliver the plain tar")
