"""Pages, rows and long values of an Access file, read through one read-only descriptor.

Everything the file says is checked before it is used: a page number beyond the end of the file, a
row offset outside its page, a chain of long-value pages that loops or runs past the length it
declared, a declared length larger than the whole file: each stops the reading with one
``JetError`` naming what was wrong, so a damaged or crafted file can neither loop nor make uttrekk
allocate more than the file holds. Pages are read with ``os.pread``; a few are kept (``CACHED``).

Row slots (mdbtools' HACKING.md, "Data Pages"; flags as Jackcess reads them): the top bits of a
slot's offset say 0x8000 *deleted* (also the moved copy of a row, reachable only through its
pointer) and 0x4000 *overflow* (the slot holds a 4-byte pointer, page << 8 | row, to where the row
now lives).
"""

from __future__ import annotations

import os
import struct
from collections import OrderedDict
from collections.abc import Iterator

from .jet_header import JetHeader

CACHED = 64
DELETED, OVERFLOW, OFFSET_MASK = 0x8000, 0x4000, 0x1FFF
DATA_PAGE, TDEF_PAGE, USAGE_PAGE = 0x01, 0x02, 0x05
MAX_HOPS = 8
"""Overflow pointers followed from one slot before it counts as a loop."""


class JetError(Exception):
    """The file is damaged or not what it says (one line, for ``SourceError``)."""


class JetFile:
    """The pages of one Access file (``fd`` is open read-only and stays the caller's)."""

    def __init__(self, fd: int, header: JetHeader) -> None:
        self.fd = fd
        self.header = header
        self.page_size = header.page_size
        self.size = os.fstat(fd).st_size
        self.pages = self.size // self.page_size
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self.row_count_at = 8 if header.jet3 else 12

    def page(self, number: int, kind: int | None = None, what: str = "") -> bytes:
        if not 0 <= number < self.pages:
            raise JetError(f"{what or 'a pointer'} points at page {number}, beyond the end of the file "
                           f"({self.pages} pages of {self.page_size} bytes): the file is cut short or damaged")
        data = self._cache.get(number)
        if data is None:
            data = os.pread(self.fd, self.page_size, number * self.page_size)
            if len(data) < self.page_size:
                raise JetError(f"page {number} is cut short: the file is truncated")
            self._cache[number] = data
            if len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(number)
        if kind is not None and data[0] != kind:
            raise JetError(f"{what or 'a pointer'} points at page {number}, which is of type {data[0]:#04x}, "
                           f"not {kind:#04x}: the file is damaged")
        return data

    # -- rows ------------------------------------------------------------------------------------

    def slots(self, page: bytes, number: int) -> list[tuple[int, int, int]]:
        """Every row slot of a data page: (flags, start, end) with ``end`` exclusive."""
        count = struct.unpack_from("<H", page, self.row_count_at)[0]
        first = self.row_count_at + 2
        if first + 2 * count > self.page_size:
            raise JetError(f"data page {number} declares {count} rows, more than the page holds")
        out = []
        end = self.page_size
        for i in range(count):
            raw = struct.unpack_from("<H", page, first + 2 * i)[0]
            start = raw & OFFSET_MASK
            if not first + 2 * count <= start <= end:
                raise JetError(f"row {i} of data page {number} lies outside the page (offset {start})")
            out.append((raw & (DELETED | OVERFLOW), start, end))
            end = start
        return out

    def row_at(self, pointer: int, what: str) -> tuple[bytes, int, int]:
        """The page, start and end of the row a pointer (page << 8 | row) names, following overflow
        pointers (at most ``MAX_HOPS``)."""
        for _ in range(MAX_HOPS):
            number, row = pointer >> 8, pointer & 0xFF
            page = self.page(number, DATA_PAGE, what)
            slots = self.slots(page, number)
            if row >= len(slots):
                raise JetError(f"{what} points at row {row} of page {number}, which has {len(slots)} rows")
            flags, start, end = slots[row]
            if flags & OVERFLOW and not flags & DELETED:
                if end - start < 4:
                    raise JetError(f"the overflow pointer in row {row} of page {number} is cut short")
                pointer = struct.unpack_from("<I", page, start)[0]
                continue
            return page, start, end
        raise JetError(f"{what}: overflow pointers from page {pointer >> 8} loop")

    def table_rows(self, pages: list[int], owner: int, what: str) -> Iterator[tuple[bytes, int, int]]:
        """Each live row of a table (page, start, end), in page and slot order."""
        for number in pages:
            page = self.page(number, DATA_PAGE, f"the page map of {what}")
            if struct.unpack_from("<I", page, 4)[0] != owner:
                raise JetError(f"data page {number} listed for {what} belongs to another table: the file is damaged")
            for i, (flags, start, end) in enumerate(self.slots(page, number)):
                if flags & DELETED:
                    continue
                if flags & OVERFLOW:
                    if end - start < 4:
                        raise JetError(f"the overflow pointer in row {i} of page {number} is cut short")
                    yield self.row_at(struct.unpack_from("<I", page, start)[0], f"row {i} of page {number} of {what}")
                else:
                    yield page, start, end

    # -- usage maps: which pages a table owns ----------------------------------------------------

    def used_pages(self, pointer: int, what: str) -> list[int]:
        page, start, end = self.row_at(pointer, f"the page map of {what}")
        kind = page[start] if end > start else -1
        if kind == 0 and end - start >= 5:
            first = struct.unpack_from("<I", page, start + 1)[0]
            return self._bits(page[start + 5:end], first)
        if kind == 1:
            out: list[int] = []
            span = (self.page_size - 4) * 8
            for i in range((end - start - 1) // 4):
                number = struct.unpack_from("<I", page, start + 1 + 4 * i)[0]
                if number:
                    out += self._bits(self.page(number, USAGE_PAGE, f"the page map of {what}")[4:], i * span)
            return out
        raise JetError(f"the page map of {what} is of an unknown kind ({kind}): the file is damaged")

    @staticmethod
    def _bits(bitmap: bytes, first: int) -> list[int]:
        """The pages a usage bitmap marks (a page past the end of the file is refused when it is read)."""
        return [first + 8 * i + b for i, byte in enumerate(bitmap) if byte for b in range(8) if byte >> b & 1]

    # -- long values (Memo, OLE Object, Attachment data) -----------------------------------------

    def long_value(self, field: bytes, what: str) -> bytes:
        """The bytes of a Memo or OLE field from its 12-byte header: inline, in one row elsewhere, or
        in a chain of rows each starting with the pointer to the next."""
        if len(field) < 12:
            raise JetError(f"{what}: a long-value header of {len(field)} bytes (12 expected)")
        word, pointer = struct.unpack_from("<II", field)
        length, kind = word & 0x3FFFFFFF, word & 0xC0000000
        if length > self.size:
            raise JetError(f"{what} declares {length} bytes, more than the whole file ({self.size} bytes)")
        if kind == 0x80000000:
            if 12 + length > len(field):
                raise JetError(f"{what}: an inline value of {length} bytes in a field of {len(field) - 12}")
            return field[12:12 + length]
        if kind == 0x40000000:
            page, start, end = self.row_at(pointer, what)
            if end - start < length:
                raise JetError(f"{what} declares {length} bytes, but its row holds {end - start}")
            return page[start:start + length]
        if kind:
            raise JetError(f"{what}: a long-value header of an unknown kind")
        out = bytearray()
        seen: set[int] = set()
        while len(out) < length:
            if pointer in seen or not pointer:
                raise JetError(f"{what}: its chain of pages {'loops' if pointer else 'ends'} after {len(out)} "
                               f"of {length} bytes: the file is damaged")
            seen.add(pointer)
            page, start, end = self.row_at(pointer, what)
            if end - start < 4:
                raise JetError(f"{what}: a link of its chain of pages is cut short")
            pointer = struct.unpack_from("<I", page, start)[0]
            out += page[start + 4:end]
        return bytes(out[:length])
