"""What a Firebird file says about itself in its first bytes, read without running anything.

A **gbak backup** starts with the backup program's record (``rec_burp`` = 0 in Firebird's
``src/burp/burp.h``), a list of attributes ``type, length, value`` up to ``att_end`` (0): the backup
format (``att_backup_format`` = 2, a 4-byte little-endian number: 9 is Firebird 2.5, 10 Firebird
3.0, 11 Firebird 4.0 and 5.0), the date it was made (1, the text ``ctime`` writes), the database it
was made from (7), the volume number (8), and from Firebird 4 on a zip flag (10) and an encryption
plugin (12). The backup holds no Firebird version beyond its format.

A **database file** (``.fdb``, ``.gdb``) starts with its header page (``src/jrd/ods.h``): page type 1
at offset 0, the page size (16-bit) at 16, the on-disk structure (ODS) version at 18 with the
Firebird flag 0x8000, and the ODS minor version at 62 up to ODS 11 (Firebird 2.5), at 64 for ODS
12 and 13 (Firebird 3, 4 and 5), at 20 from ODS 14 (Firebird 6) on. For ODS 12 and 13 the header
also says whether the file continues in secondary files (the next header page at 24), is encrypted
(flag 0x40), locked by nbackup with its newest pages in a delta file (flags 0xC00), shut down
(flags 0x1080) or read-only (0x20). Every number is in the byte order of the machine that wrote
the file; only little-endian files (x86, ARM) are recognised.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

# -- gbak backups ---------------------------------------------------------------------------------

BACKUP_MAGIC = b"\x00\x02\x04"
"""``rec_burp``, then ``att_backup_format`` with its 4-byte length."""

_ATT_DATE, _ATT_FORMAT, _ATT_FILE, _ATT_VOLUME, _ATT_ZIP, _ATT_CRYPT, _ATT_KEYNAME = 1, 2, 7, 8, 10, 12, 9
_ATT_LAST = 16
"""Attributes of ``rec_burp`` beyond this are not gbak's (Firebird 6 defines 12)."""

BACKUP_FORMATS = {6: "InterBase 6 or Firebird 1.x", 7: "Firebird 2.0", 8: "Firebird 2.1", 9: "Firebird 2.5",
                  10: "Firebird 3.0", 11: "Firebird 4.0 or 5.0", 12: "Firebird 6.0"}
"""gbak backup format -> the Firebird that writes it (burp.h's history of ``ATT_BACKUP_FORMAT``)."""


@dataclass(frozen=True)
class Backup:
    """The header record of a gbak backup."""

    format: int
    made: str
    """When gbak wrote it, as gbak wrote it (``Sun Dec  6 22:43:31 2026``)."""
    database: str
    """The database it was made from, as gbak was given it (``host:/path/file.fdb``)."""
    volume: int = 1
    zipped: bool = False
    encrypted: bool = False

    @property
    def firebird(self) -> str:
        return BACKUP_FORMATS.get(self.format, "InterBase" if self.format < 6 else "a Firebird newer than 6.0")

    @property
    def what(self) -> str:
        return f"gbak backup format {self.format} ({self.firebird})"

    @property
    def made_iso(self) -> str:
        """``made`` as ``2026-12-06 22:43:31`` (as written when gbak wrote something else)."""
        try:
            return dt.datetime.strptime(" ".join(self.made.split()), "%a %b %d %H:%M:%S %Y").isoformat(sep=" ")
        except ValueError:
            return self.made


def backup_header(head: bytes) -> Backup | None:
    """The header of a gbak backup, or ``None`` when ``head`` does not start like one."""
    if not head.startswith(BACKUP_MAGIC):
        return None
    values: dict[int, bytes] = {}
    i = 1
    while i < len(head):
        att = head[i]
        if att == 0:  # att_end: the record is whole
            break
        if att > _ATT_LAST or i + 1 >= len(head):
            return None
        size = head[i + 1]
        if i + 2 + size > len(head):
            return None
        values[att] = head[i + 2:i + 2 + size]
        i += 2 + size
    else:
        return None
    number = values.get(_ATT_FORMAT, b"")
    if len(number) != 4 or _ATT_DATE not in values:
        return None
    fmt = int.from_bytes(number, "little")
    if not 1 <= fmt <= 99:
        return None
    volume = values.get(_ATT_VOLUME, b"")
    return Backup(fmt, _text(values[_ATT_DATE]), _text(values.get(_ATT_FILE, b"")),
                  int.from_bytes(volume, "little") if len(volume) == 4 else 1,
                  zipped=_ATT_ZIP in values and any(values[_ATT_ZIP]),
                  encrypted=_ATT_CRYPT in values or _ATT_KEYNAME in values)


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()


# -- database files -------------------------------------------------------------------------------

PAGE_SIZES = (1024, 2048, 4096, 8192, 16384, 32768)
FIREBIRD_FLAG = 0x8000

ODS_NAMES = {(10, 0): "Firebird 1.0", (10, 1): "Firebird 1.5", (11, 0): "Firebird 2.0", (11, 1): "Firebird 2.1",
             (11, 2): "Firebird 2.5", (12, 0): "Firebird 3.0", (13, 0): "Firebird 4.0", (13, 1): "Firebird 5.0",
             (14, 0): "Firebird 6.0"}
"""ODS version -> the Firebird that creates it (ods.h's history)."""

_READ_ONLY, _ENCRYPTED, _CRYPT_PROCESS = 0x20, 0x40, 0x4
_NBACKUP_MASK, _SHUTDOWN_MASK = 0xC00, 0x1080
NBACKUP_STATES = {0x400: "stalled", 0x800: "merge"}
SHUTDOWN_STATES = {0x80: "multi", 0x1000: "full", 0x1080: "single"}


@dataclass(frozen=True)
class DatabaseHeader:
    """The header page of a Firebird (or InterBase) database file."""

    ods_major: int
    ods_minor: int
    page_size: int
    firebird_flag: bool
    flags: int = 0
    next_header: int = 0
    """Page number of the next header page: not 0 when the database continues in secondary files."""

    @property
    def ods(self) -> str:
        return f"{self.ods_major}.{self.ods_minor}"

    @property
    def made_by(self) -> str:
        if not self.firebird_flag:
            return "InterBase 6 or Firebird 1.x" if self.ods_major <= 10 else "InterBase"
        if (self.ods_major, self.ods_minor) in ODS_NAMES:
            return ODS_NAMES[self.ods_major, self.ods_minor]
        newest = max(ODS_NAMES)
        return "a Firebird newer than 6.0" if (self.ods_major, self.ods_minor) > newest else "Firebird"

    @property
    def what(self) -> str:
        return f"ODS {self.ods} ({self.made_by})"

    @property
    def known_layout(self) -> bool:
        """The flags below are read only for ODS 12 and 13, whose header page this module knows."""
        return self.firebird_flag and self.ods_major in (12, 13)

    @property
    def read_only(self) -> bool:
        return self.known_layout and bool(self.flags & _READ_ONLY)

    @property
    def encrypted(self) -> bool:
        return self.known_layout and bool(self.flags & (_ENCRYPTED | _CRYPT_PROCESS))

    @property
    def nbackup_state(self) -> str:
        """``stalled`` or ``merge`` while nbackup holds the file (its newest pages are in a delta file)."""
        return NBACKUP_STATES.get(self.flags & _NBACKUP_MASK, "") if self.known_layout else ""

    @property
    def shutdown(self) -> str:
        """``multi``, ``full`` or ``single`` when the database was shut down (``gfix -shut``)."""
        return SHUTDOWN_STATES.get(self.flags & _SHUTDOWN_MASK, "") if self.known_layout else ""


def database_header(head: bytes) -> DatabaseHeader | None:
    """The header page of a database file, or ``None`` when ``head`` does not start like one."""
    if len(head) < 136 or head[0] != 1:
        return None
    page_size, ods = struct.unpack_from("<HH", head, 16)
    major = ods & ~FIREBIRD_FLAG
    if page_size not in PAGE_SIZES or not 8 <= major <= 30:
        return None
    if major >= 14:
        return DatabaseHeader(major, struct.unpack_from("<H", head, 20)[0], page_size, bool(ods & FIREBIRD_FLAG))
    next_header, = struct.unpack_from("<I", head, 24)
    sequence, flags = struct.unpack_from("<HH", head, 40)
    if sequence != 0:  # a secondary file of a multi-file database, not its first
        return None
    minor, = struct.unpack_from("<H", head, 62 if major <= 11 else 64)
    if minor > 15:
        return None
    return DatabaseHeader(major, minor, page_size, bool(ods & FIREBIRD_FLAG), flags, next_header)
