"""The header of a dBase III/IV/7, Clipper, FoxPro or Visual FoxPro table (.dbf), read strictly.

A .dbf file is a 32-byte header (version, date of last update, number of records, header length,
record length, language driver), one field descriptor per field (32 bytes; 48 in dBase 7, whose
header is 68 bytes), 0x0D, and the records, each a deletion flag (``*`` deleted, blank live) and
the fields side by side. Visual FoxPro adds 263 bytes after the terminator (the path of the
database container the table belongs to) and a hidden field ``_NullFlags``.

Everything here is hostile input: every length is checked against the header and the file's size
before it is used, and a header that does not add up is no .dbf (``parse`` returns ``None``, so
``recognise`` says what else the file looks like) or is refused with what is wrong (``Bad``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VERSIONS: dict[int, str] = {
    0x02: "FoxBASE",
    0x03: "dBase III / Clipper / FoxPro (no memo)",
    0x04: "dBase 7 (no memo)",
    0x30: "Visual FoxPro",
    0x31: "Visual FoxPro (with autoincrement)",
    0x32: "Visual FoxPro 9 (with varchar/varbinary)",
    0x43: "dBase IV SQL table (no memo)",
    0x63: "dBase IV SQL system table (no memo)",
    0x83: "dBase III / Clipper with memo (.dbt)",
    0x8B: "dBase IV with memo (.dbt)",
    0x8C: "dBase 7 with memo (.dbt)",
    0xCB: "dBase IV SQL table with memo (.dbt)",
    0xE5: "HiPer-Six / Clipper SMT with memo",
    0xF5: "FoxPro 2 with memo (.fpt)",
    0xFB: "FoxBASE with memo",
}
"""Version byte -> what wrote the table."""

VISUAL_FOXPRO = (0x30, 0x31, 0x32)
DBASE7 = (0x04, 0x8C)
FOXPRO_MEMO = (0x30, 0x31, 0x32, 0xF5, 0xFB)
"""Tables whose memo file is a FoxPro .fpt (the others use a dBase .dbt)."""

FIELD_TYPES = frozenset("CNFDLMIBYTGVPQW+@O0")
"""Field types uttrekk reads (``0`` is Visual FoxPro's ``_NullFlags``)."""

NULLABLE = 0x02
"""Visual FoxPro field flag: the field may be NULL (a bit in ``_NullFlags``)."""
BINARY = 0x04
"""Visual FoxPro field flag: binary (NOCPTRANS), never translated by a code page."""
SYSTEM = 0x01
"""Visual FoxPro field flag: a hidden system column (``_NullFlags``)."""


class Bad(ValueError):
    """A .dbf whose header is wrong in a way worth saying (it is recognisably a .dbf)."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    length: int
    decimals: int
    offset: int
    """Byte offset of the field in a record (the deletion flag is byte 0)."""
    flags: int = 0

    @property
    def hidden(self) -> bool:
        return self.type == "0" or bool(self.flags & SYSTEM)


@dataclass(frozen=True)
class Header:
    version: int
    updated: str
    """Date of the last update as the header says it (``YYYY-MM-DD``; the year is stored as YY)."""
    records: int
    header_length: int
    record_length: int
    language_driver: int
    language_name: str
    """dBase 7's language driver name (``DBWINUS0``), else ''."""
    fields: tuple[Field, ...]
    container: str = ""
    """Visual FoxPro: the database container (.dbc) the table belongs to, from the backlink."""

    @property
    def what(self) -> str:
        return VERSIONS.get(self.version, f"version byte 0x{self.version:02X}")

    @property
    def visual_foxpro(self) -> bool:
        return self.version in VISUAL_FOXPRO

    @property
    def dbase7(self) -> bool:
        return self.version in DBASE7

    @property
    def data_end(self) -> int:
        return self.header_length + self.records * self.record_length

    @property
    def memo_kind(self) -> str:
        """``fpt`` or ``dbt``: which memo file the table's memo fields point into."""
        return "fpt" if self.version in FOXPRO_MEMO else "dbt"

    @property
    def needs_memo(self) -> bool:
        return any(_memo_field(self, f) for f in self.fields)


def _memo_field(header: Header, f: Field) -> bool:
    if f.type in "MGPW":
        return True
    return f.type == "B" and not header.visual_foxpro


def is_memo(header: Header, f: Field) -> bool:
    """Whether the field holds a pointer into the memo file (B is a double in Visual FoxPro, a
    binary memo in dBase IV and 7)."""
    return _memo_field(header, f)


def parse(head: bytes, size: int) -> Header | None:
    """The header of a .dbf from its first bytes (``head`` holds at least the whole header: at most
    65,535 bytes), or ``None`` when they are no .dbf header. ``Bad`` when they are one that is wrong."""
    if len(head) < 33 or head[0] not in VERSIONS:
        return None
    version, yy, mm, dd, records, header_length, record_length = struct.unpack_from("<BBBBIHH", head)
    if mm > 12 or dd > 31 or header_length < 33 or record_length < 1:
        return None
    if header_length > len(head) or header_length > size:
        return None
    dbase7 = version in DBASE7
    start, width = (68, 48) if dbase7 else (32, 32)
    fields: list[Field] = []
    offset, pos = 1, start
    while pos < header_length and head[pos] != 0x0D:
        if pos + width > header_length:
            return None
        raw = head[pos:pos + width]
        if dbase7:
            name_bytes, ftype, length, decimals, flags = raw[:32], raw[32], raw[33], raw[34], 0
        else:
            name_bytes, ftype, length, decimals, flags = raw[:11], raw[11], raw[16], raw[17], raw[18]
        name = name_bytes.split(b"\0", 1)[0].decode("latin-1").strip()
        letter = chr(ftype)
        if not name or not letter.isprintable() or letter.isspace():
            return None
        if letter == "C" and not dbase7:
            length += decimals << 8  # Clipper and FoxPro keep a character field's high length byte in 'decimals'
            decimals = 0
        if length == 0 and letter != "0":
            return None
        fields.append(Field(name, letter, length, decimals, offset, flags))
        offset += length
        pos += width
    if pos >= header_length or head[pos] != 0x0D or not fields:
        return None
    if offset != record_length:
        return None
    container = ""
    if version in VISUAL_FOXPRO and header_length >= pos + 1 + 263:
        container = head[pos + 1:pos + 264].split(b"\0", 1)[0].decode("latin-1")
    language_name = head[32:64].split(b"\0", 1)[0].decode("latin-1").strip() if dbase7 else ""
    year = 1900 + yy if yy >= 80 else 2000 + yy
    updated = f"{year:04d}-{mm:02d}-{dd:02d}" if mm and dd else ""
    header = Header(version, updated, records, header_length, record_length, head[29], language_name,
                    tuple(fields), container)
    unknown = [f"{f.name} ({f.type})" for f in fields if f.type not in FIELD_TYPES]
    if len(unknown) == len(fields):
        return None  # no field uttrekk knows: more likely another file that happens to start so
    return header


def check_size(header: Header, size: int, name: str) -> str:
    """``Bad`` when the file is shorter than its header says; a note when it holds more (a crash
    mid-append leaves records the header does not count), else ''."""
    if size < header.data_end:
        whole = max(0, (size - header.header_length) // header.record_length)
        raise Bad(f"{name}: the file is cut short: its header counts {header.records} records of "
                  f"{header.record_length} bytes ({header.data_end} bytes with the header), but it holds "
                  f"{size} bytes ({whole} whole records); nothing was read. Ask for a whole copy")
    extra = size - header.data_end
    if extra > 1:  # the end-of-file marker 0x1A is the one byte expected
        more = extra // header.record_length
        return (f"{name}: {extra} bytes after the {header.records} records the header counts "
                f"(room for {more} more records) were not read: the header's count is what dBase reads")
    return ""
