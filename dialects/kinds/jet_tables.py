"""Table definitions (TDEF pages) and rows of an Access file: columns, indexes, values.

Layouts from mdbtools' HACKING.md ("TDEF Pages", "Row Definition") and Jackcess: a TDEF may span
several pages (``next_pg``); it holds the row count, the page map, the columns (type, number, the
position among fixed or variable columns, flags, size), their names, the physical indexes (up to
ten columns each, with the unique flag) and the logical ones (type 1 is the primary key). A row
holds its fixed columns at their offsets, its variable ones through a table of offsets at its end
(Jet 3: one byte each, plus a jump table for rows over 256 bytes), and a null mask whose bit also
*is* the value of a Yes/No column.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import jet_values as jv
from .jet_pages import TDEF_PAGE, JetError, JetFile

TYPES = {0x01: "Yes/No", 0x02: "Byte", 0x03: "Integer", 0x04: "Long Integer", 0x05: "Currency", 0x06: "Single",
         0x07: "Double", 0x08: "Date/Time", 0x09: "Binary", 0x0A: "Text", 0x0B: "OLE Object", 0x0C: "Memo",
         0x0F: "Replication ID", 0x10: "Decimal", 0x12: "Attachment or multi-valued", 0x13: "Large Number",
         0x14: "Date/Time Extended"}
"""Jet column type codes -> Access's own names."""
MAX_TDEF_PAGES = 64


@dataclass
class JetColumn:
    name: str
    type: int
    number: int
    """Column number (counts deleted columns): the null-mask bit and what indexes name."""
    var_index: int
    fixed_offset: int
    size: int
    flags: int
    ext_flags: int
    precision: int = 0
    scale: int = 0
    complex_id: int = 0

    @property
    def fixed(self) -> bool:
        return bool(self.flags & 0x01)

    @property
    def autonumber(self) -> bool:
        return bool(self.flags & 0x04)

    @property
    def auto_guid(self) -> bool:
        return bool(self.flags & 0x40)

    @property
    def hyperlink(self) -> bool:
        return self.type == 0x0C and bool(self.flags & 0x80)

    @property
    def calculated(self) -> bool:
        """ACE 14+ calculated fields (Jackcess: extended flags 0xC0); their value is wrapped (``_unwrap``)."""
        return bool(self.ext_flags & 0xC0)


@dataclass
class JetIndex:
    name: str
    columns: list[int]
    unique: bool
    primary: bool
    foreign: bool


@dataclass
class JetTable:
    name: str
    page: int
    rows: int
    columns: list[JetColumn]
    indexes: list[JetIndex]
    usage_pointer: int
    var_columns: int
    system: bool = False
    notes: list[str] = field(default_factory=list)


def _text(jet: JetFile, data: bytes) -> str:
    if jet.header.jet3:
        return jv.text_jet3(data, code_page(jet))
    return jv.text_jet4(data)


def code_page(jet: JetFile) -> str:
    """The Python codec of Jet 3 text (the header's code page; 1252 when it names none)."""
    import codecs

    name = f"cp{jet.header.code_page or 1252}"
    try:
        codecs.lookup(name)
    except LookupError:
        raise JetError(f"the file's text is in code page {jet.header.code_page}, which uttrekk does not know") from None
    return name


def read_tdef(jet: JetFile, page: int, name: str) -> JetTable:
    """The definition of the table whose TDEF starts at ``page``."""
    data = bytearray(jet.page(page, TDEF_PAGE, f"the definition of table {name}"))
    following = struct.unpack_from("<I", data, 4)[0]
    seen = {page}
    while following:
        if following in seen or len(seen) >= MAX_TDEF_PAGES:
            raise JetError(f"the definition pages of table {name} loop")
        seen.add(following)
        more = jet.page(following, TDEF_PAGE, f"the definition of table {name}")
        data += more[8:]
        following = struct.unpack_from("<I", more, 4)[0]
    try:
        return _parse_tdef(jet, bytes(data), page, name)
    except struct.error:
        raise JetError(f"the definition of table {name} is cut short: the file is damaged") from None


def _parse_tdef(jet: JetFile, d: bytes, page: int, name: str) -> JetTable:
    j3 = jet.header.jet3
    rows = struct.unpack_from("<I", d, 12 if j3 else 16)[0]
    system = d[20 if j3 else 40] == 0x53
    var_cols, ncols = struct.unpack_from("<HH", d, 23 if j3 else 43)
    nidx, nreal = struct.unpack_from("<II", d, 27 if j3 else 47)
    usage = struct.unpack_from("<I", d, 35 if j3 else 55)[0]
    if ncols > 255 or nreal > 100 or nidx > 100:
        raise JetError(f"the definition of table {name} declares {ncols} columns and {nidx} indexes, more than "
                       "Access allows: the file is damaged")
    pos = (43 if j3 else 63) + nreal * (8 if j3 else 12)
    entry = 18 if j3 else 25
    columns = []
    for _ in range(ncols):
        c = d[pos:pos + entry]
        if len(c) < entry:
            raise struct.error
        if j3:
            col = JetColumn("", c[0], struct.unpack_from("<H", c, 1)[0], struct.unpack_from("<H", c, 3)[0],
                            struct.unpack_from("<H", c, 14)[0], struct.unpack_from("<H", c, 16)[0], c[13], 0)
        else:
            col = JetColumn("", c[0], struct.unpack_from("<H", c, 5)[0], struct.unpack_from("<H", c, 7)[0],
                            struct.unpack_from("<H", c, 21)[0], struct.unpack_from("<H", c, 23)[0], c[15], c[16],
                            precision=c[11], scale=c[12], complex_id=struct.unpack_from("<I", c, 11)[0])
        columns.append(col)
        pos += entry
    for col in columns:
        length = d[pos] if j3 else struct.unpack_from("<H", d, pos)[0]
        pos += 1 if j3 else 2
        col.name = _text(jet, d[pos:pos + length])
        pos += length
    real = []
    for _ in range(nreal):
        base = pos + (0 if j3 else 4)
        cols = [struct.unpack_from("<H", d, base + 3 * k)[0] for k in range(10)]
        flags = d[base + 38]
        real.append(([c for c in cols if c != 0xFFFF], bool(flags & 0x01)))
        pos += 39 if j3 else 52
    logical = []
    for _ in range(nidx):
        base = pos + (0 if j3 else 4)
        real_number = struct.unpack_from("<I", d, base + 4)[0]
        kind = d[base + 19]
        logical.append((real_number, kind))
        pos += 20 if j3 else 28
    indexes = []
    for real_number, kind in logical:
        length = d[pos] if j3 else struct.unpack_from("<H", d, pos)[0]
        pos += 1 if j3 else 2
        index_name = _text(jet, d[pos:pos + length])
        pos += length
        if real_number >= len(real):
            raise JetError(f"index {index_name} of table {name} names a physical index that does not exist")
        cols, unique = real[real_number]
        indexes.append(JetIndex(index_name, cols, unique or kind == 1, kind == 1, kind == 2))
    columns.sort(key=lambda c: c.number)
    return JetTable(name, page, rows, columns, indexes, usage, var_cols, system)


# -- rows ----------------------------------------------------------------------------------------


def rows(jet: JetFile, table: JetTable) -> Iterator[list[Any]]:
    """Each row's values, decoded (``decode``), in the order of ``table.columns``."""
    pages = jet.used_pages(table.usage_pointer, f"table {table.name}")
    for n, (page, start, end) in enumerate(jet.table_rows(pages, table.page, f"table {table.name}"), start=1):
        yield crack(jet, table, page, start, end, n)


def fields(jet: JetFile, table: JetTable, page: bytes, start: int, end: int, n: int) -> list[bytes | bool | None]:
    """The raw bytes of each column in one row (a Yes/No column: its bit; NULL: ``None``)."""
    j3 = jet.header.jet3
    where = f"row {n} of table {table.name}"
    if end - start < (1 if j3 else 2):
        raise JetError(f"{where} is empty: the file is damaged")
    count = page[start] if j3 else struct.unpack_from("<H", page, start)[0]
    mask_size = (count + 7) // 8
    last = end - 1
    if mask_size > end - start:
        raise JetError(f"{where} declares {count} columns, more than its {end - start} bytes hold")
    mask = page[end - mask_size:end]
    offsets: list[int] = []
    var_count = 0
    if table.var_columns:
        if j3:
            var_count = page[last - mask_size]
            jumps = (end - start - 1) // 256
            pointer = last - mask_size - jumps - 1
            if pointer - var_count <= start:
                raise JetError(f"{where} declares {var_count} variable columns, more than it holds")
            if (pointer - start - var_count) // 256 < jumps:
                jumps -= 1
            used = 0
            for i in range(var_count + 1):
                while used < jumps and i == page[last - mask_size - used - 1]:
                    used += 1
                offsets.append(page[pointer - i] + used * 256)
        else:
            var_count = struct.unpack_from("<H", page, last - mask_size - 1)[0]
            if 2 * var_count + 4 + mask_size > end - start:
                raise JetError(f"{where} declares {var_count} variable columns, more than it holds")
            offsets = [struct.unpack_from("<H", page, last - mask_size - 3 - 2 * i)[0] for i in range(var_count + 1)]
    fixed_count = count - var_count
    fixed_seen = 0
    width = 1 if j3 else 2
    out: list[bytes | bool | None] = []
    for col in table.columns:
        byte, bit = divmod(col.number, 8)
        present = byte < len(mask) and bool(mask[byte] >> bit & 1)
        if col.type == 0x01:
            out.append(present)
            if col.fixed:
                fixed_seen += 1
            continue
        if col.fixed and fixed_seen < fixed_count:
            fixed_seen += 1
            a = start + width + col.fixed_offset
            b = a + col.size
        elif not col.fixed and col.var_index < var_count:
            a, b = start + offsets[col.var_index], start + offsets[col.var_index + 1]
        else:
            out.append(None)
            continue
        if not present:
            out.append(None)
            continue
        if not start <= a <= b <= end:
            raise JetError(f"{where}: column {col.name} lies outside the row: the file is damaged")
        out.append(page[a:b])
    return out


def crack(jet: JetFile, table: JetTable, page: bytes, start: int, end: int, n: int) -> list[Any]:
    values = fields(jet, table, page, start, end, n)
    return [decode(jet, table, col, raw, n) for col, raw in zip(table.columns, values, strict=True)]


def decode(jet: JetFile, table: JetTable, col: JetColumn, raw: bytes | bool | None, n: int) -> Any:
    """One column's value as the cache stores it (see ``jet_values``)."""
    if raw is None or isinstance(raw, bool):
        return None if raw is None else int(raw)
    where = f"row {n} of table {table.name}, column {col.name}"
    try:
        if col.calculated:
            raw = _unwrap(raw)
        t = col.type
        if t in (0x02, 0x03, 0x04, 0x12, 0x13):
            size = {0x02: 1, 0x03: 2, 0x04: 4, 0x12: 4, 0x13: 8}[t]
            if len(raw) < size:
                raise jv.JetValueError(f"{len(raw)} bytes for a value of {size}")
            return int.from_bytes(raw[:size], "little", signed=t != 0x02)
        if t == 0x05:
            return jv.currency(_at_least(raw, 8))
        if t == 0x06:
            return jv.single(_at_least(raw, 4))
        if t == 0x07:
            return jv.double(_at_least(raw, 8))
        if t == 0x08:
            return jv.date_time(_at_least(raw, 8))
        if t == 0x09:
            return bytes(raw)
        if t == 0x0A:
            return _text(jet, raw)
        if t == 0x0B:
            return jet.long_value(raw, where)
        if t == 0x0C:
            return _text(jet, jet.long_value(raw, where))
        if t == 0x0F:
            return jv.guid(raw)
        if t == 0x10:
            return jv.numeric(raw, col.scale)
        if t == 0x14:
            return jv.date_time_extended(_at_least(raw, 42))
    except (jv.JetValueError, struct.error) as exc:
        raise JetError(f"{where}: {exc}: the file is damaged") from None
    raise JetError(f"table {table.name}, column {col.name}: Access column type {col.type:#04x}, which uttrekk "
                   "does not know")


def _at_least(raw: bytes, size: int) -> bytes:
    if len(raw) < size:
        raise jv.JetValueError(f"{len(raw)} bytes for a value of {size}")
    return raw


def _unwrap(raw: bytes) -> bytes:
    """A calculated field's stored result: 16 bytes of Access's own, the length, the value (Jackcess's
    CalculatedColumnUtil)."""
    if len(raw) < 20:
        raise jv.JetValueError("a calculated value shorter than its wrapping")
    length = struct.unpack_from("<I", raw, 16)[0]
    if 20 + length > len(raw):
        raise jv.JetValueError(f"a calculated value of {length} bytes in a field of {len(raw) - 20}")
    return raw[20:20 + length]
