"""Memo files beside a .dbf: dBase .dbt (III and IV/7) and FoxPro .fpt, read block by block.

- dBase III (and Clipper) .dbt: 512-byte blocks; a memo starts at its block and ends at the first
  0x1A (two are usual).
- dBase IV and 7 .dbt: the block size is in the file header (bytes 20-21, 512 when 0); a memo's
  block starts with ``FF FF 08 00`` and its length including those 8 bytes (little-endian). A
  block without that mark is read as dBase III does.
- FoxPro .fpt: the block size is big-endian at bytes 6-7; a memo's block starts with its type
  (0 picture, 1 text, 2 object) and its length, both big-endian, then the data.

Memo blocks are not chained, so there is no loop to follow; every length is checked against the
file's size and ``MAX_MEMO`` before anything is read, and a memo that cannot be read whole is
returned as a ``Problem`` (the caller leaves the value empty and reports it by record and field).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

MAX_MEMO = 1 << 30
"""The longest memo read (1 GiB): a longer length in a block header is reported, not believed."""
DBT3_BLOCK = 512
CHUNK = 1 << 16


@dataclass(frozen=True)
class Problem:
    """Why a memo could not be read; the value is left empty and the report says so."""

    what: str


@dataclass(frozen=True)
class Memo:
    data: bytes
    binary: bool = False
    """FoxPro: the block says picture or object (type 0 or 2), not text."""


class MemoFile:
    """One memo file, opened read-only for the life of the reader."""

    def __init__(self, path: Path, kind: str, dbase3: bool) -> None:
        self.path = path
        self.kind = kind
        self.fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        self.size = os.fstat(self.fd).st_size
        head = os.pread(self.fd, 512, 0)
        self.dbase3 = dbase3
        if kind == "fpt":
            size = struct.unpack_from(">H", head, 6)[0] if len(head) >= 8 else 0
            self.block = size or 1  # FoxPro: SET BLOCKSIZE TO 0 allocates memos in bytes
        else:
            size = struct.unpack_from("<H", head, 20)[0] if len(head) >= 22 else 0
            self.block = DBT3_BLOCK if dbase3 or not size else size

    def close(self) -> None:
        os.close(self.fd)

    def read(self, block: int) -> Memo | Problem:
        start = block * self.block
        if block <= 0 or start < 512:
            return Problem(f"memo block {block} lies in the header of {self.path.name}")
        if start >= self.size:
            return Problem(f"memo block {block} (byte {start}) lies past the end of {self.path.name} "
                           f"({self.size} bytes)")
        if self.kind == "fpt":
            return self._fpt(start, block)
        mark = os.pread(self.fd, 8, start)
        if not self.dbase3 and mark[:4] == b"\xff\xff\x08\x00" and len(mark) == 8:
            length = struct.unpack_from("<I", mark, 4)[0] - 8
            return self._exact(start + 8, length, block)
        return self._until_eof_mark(start, block)

    def _fpt(self, start: int, block: int) -> Memo | Problem:
        head = os.pread(self.fd, 8, start)
        if len(head) < 8:
            return Problem(f"memo block {block} of {self.path.name} is cut short (no block header)")
        kind, length = struct.unpack(">II", head)
        memo = self._exact(start + 8, length, block)
        if isinstance(memo, Memo) and kind != 1:
            return Memo(memo.data, binary=True)
        return memo

    def _exact(self, start: int, length: int, block: int) -> Memo | Problem:
        if length < 0:
            return Problem(f"memo block {block} of {self.path.name} gives a negative length")
        if length > MAX_MEMO:
            return Problem(f"memo block {block} of {self.path.name} claims {length} bytes, more than uttrekk "
                           f"believes a memo holds ({MAX_MEMO})")
        if start + length > self.size:
            return Problem(f"memo block {block} of {self.path.name} is cut short: it claims {length} bytes, the file "
                           f"ends after {max(0, self.size - start)}")
        return Memo(os.pread(self.fd, length, start))

    def _until_eof_mark(self, start: int, block: int) -> Memo | Problem:
        parts: list[bytes] = []
        pos, total = start, 0
        while True:
            data = os.pread(self.fd, CHUNK, pos)
            if not data:
                return Problem(f"memo block {block} of {self.path.name} is cut short: no end mark (0x1A) before "
                               "the end of the file")
            end = data.find(b"\x1a")
            if end >= 0:
                parts.append(data[:end])
                return Memo(b"".join(parts))
            parts.append(data)
            pos += len(data)
            total += len(data)
            if total > MAX_MEMO:
                return Problem(f"memo block {block} of {self.path.name} has no end mark within {MAX_MEMO} bytes")
