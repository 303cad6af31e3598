"""One .dbf table read record by record: its values exact (``dbase_fields``), its memos from the
memo file beside it, its text in its code page, and everything that could not be read as a
``Finding`` naming the table, record number and field.

The file is opened read-only (``O_RDONLY``, no symlink followed) and read in chunks of whole
records, so memory does not grow with the table.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import dbase_fields as fv
from .dbase_header import BINARY, Header, is_memo
from .dbase_memo import Memo, MemoFile, Problem

CHUNK_RECORDS = 1 << 20
"""Bytes of records read at a time (rounded down to whole records)."""


@dataclass(frozen=True)
class Finding:
    table: str
    recno: int
    field: str
    what: str


@dataclass(frozen=True)
class Undecodable:
    """Text bytes the table's code page cannot decode (or, with no code page named, not ASCII)."""

    table: str
    recno: int
    field: str
    data: bytes


def open_readonly(path: Path, follow: bool) -> int:
    return os.open(path, os.O_RDONLY | (0 if follow else os.O_NOFOLLOW))


class TableReader:
    """Records of one .dbf: ``rows()`` gives (record number, deleted, values of the visible fields)."""

    def __init__(self, name: str, path: Path, header: Header, codec: str | None, memo: MemoFile | None,
                 memo_missing: str, finding: Callable[[Finding], None],
                 undecodable: Callable[[Undecodable], None], follow: bool = True) -> None:
        self.name, self.path, self.header = name, path, header
        self.codec = codec
        """``None``: the header names no code page and none was given; non-ASCII text is ``Undecodable``."""
        self.memo, self.memo_missing = memo, memo_missing
        self.finding, self.undecodable = finding, undecodable
        self.slots, self.nullflags = fv.slots(header)
        self.columns = [fv.column(header, s) for s in self.slots]
        self.follow = follow

    def rows(self) -> Iterator[tuple[int, bool, list[Any]]]:
        h = self.header
        per = max(1, CHUNK_RECORDS // h.record_length)
        fd = open_readonly(self.path, self.follow)
        try:
            recno = 0
            while recno < h.records:
                n = min(per, h.records - recno)
                start = h.header_length + recno * h.record_length
                data = os.pread(fd, n * h.record_length, start)
                if len(data) < n * h.record_length:  # the file shrank while it was read
                    raise OSError(f"{self.path.name} ended while it was read (record {recno + len(data) // h.record_length + 1})")
                for i in range(n):
                    recno += 1
                    rec = data[i * h.record_length:(i + 1) * h.record_length]
                    yield recno, rec[0] == 0x2A, self.values(rec, recno)
        finally:
            os.close(fd)

    def values(self, rec: bytes, recno: int) -> list[Any]:
        nulls = 0
        if self.nullflags is not None:
            f = self.nullflags
            nulls = int.from_bytes(rec[f.offset:f.offset + f.length], "little")
        return [self.value(s, rec, recno, nulls) for s in self.slots]

    def value(self, slot: fv.Slot, rec: bytes, recno: int, nulls: int) -> Any:
        f, h = slot.field, self.header
        if slot.null_bit >= 0 and nulls >> slot.null_bit & 1:
            return None
        raw = rec[f.offset:f.offset + f.length]
        t = f.type
        if t in "NF":
            return fv.number(raw, f.decimals == 0 and f.length <= 18)
        if t == "C":
            if f.flags & BINARY:
                return raw
            return self.text(raw.rstrip(b" \x00"), recno, f.name)
        if t in "VQ":
            if slot.length_bit >= 0 and nulls >> slot.length_bit & 1:
                raw = raw[:min(raw[-1], len(raw) - 1)]
            if t == "Q" or f.flags & BINARY:
                return raw
            return self.text(raw, recno, f.name)
        if t == "D":
            return fv.date(raw)
        if t == "L":
            return fv.logical(raw)
        if t == "I" or t == "+":
            return fv.integer(raw, h.dbase7)
        if t == "Y":
            return fv.currency(raw)
        if t == "T":
            return fv.vfp_datetime(raw)
        if t == "@":
            return fv.dbase7_timestamp(raw)
        if t == "O" or t == "B" and h.visual_foxpro:
            return fv.dbase7_double(raw) if t == "O" else float(struct.unpack("<d", raw)[0])
        if is_memo(h, f):
            return self.memo_value(f, raw, recno)
        return raw  # a type uttrekk does not know: its bytes, archived as binary

    def memo_value(self, f: Any, raw: bytes, recno: int) -> Any:
        text_field = f.type == "M" and not f.flags & BINARY
        block = fv.memo_block(raw)
        if block is None:
            return "" if text_field else None
        if isinstance(block, str):
            self.finding(Finding(self.name, recno, f.name, f"the memo pointer {block!r} is no block number; the "
                                                          "value is left empty"))
            return None
        if self.memo is None:
            self.finding(Finding(self.name, recno, f.name, f"{self.memo_missing}; the memo (block {block}) is left "
                                                          "empty"))
            return None
        memo = self.memo.read(block)
        if isinstance(memo, Problem):
            self.finding(Finding(self.name, recno, f.name, f"{memo.what}; the value is left empty"))
            return None
        assert isinstance(memo, Memo)
        if not text_field or memo.binary:
            return memo.data
        return self.text(memo.data, recno, f.name)

    def text(self, raw: bytes, recno: int, field: str) -> str:
        if self.codec is None:
            if raw.isascii():
                return raw.decode("ascii")
            self.undecodable(Undecodable(self.name, recno, field, raw))
            return raw.decode("latin-1")
        try:
            return raw.decode(self.codec)
        except UnicodeDecodeError:
            self.undecodable(Undecodable(self.name, recno, field, raw))
            return raw.decode(self.codec, errors="replace")

