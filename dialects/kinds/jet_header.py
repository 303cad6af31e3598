"""The first page of an MS Access file (Jet 3, Jet 4, ACE): which format, and whether it is locked.

Page 0 starts with ``00 01 00 00`` and ``Standard Jet DB`` (``.mdb``) or ``Standard ACE DB``
(``.accdb``) at offset 4; the byte at 0x14 names the format (0 Jet 3, 1 Jet 4, 2 ACE 12, 3 ACE 14,
4 ACE 15, 5 ACE 16, 6 ACE 17). From 0x18, 126 (Jet 3) or 128 bytes are RC4-scrambled with the fixed
key ``c7 da 39 6b`` (mdbtools' HACKING.md, "Database Definition Page"); unscrambled they hold the
code page of Jet 3 text (0x3c), the page encryption key (0x3e: non-zero when the pages are
encrypted, RC4 per page in Jet, Office encryption in ACE), the database password (0x42: 20 bytes in
Jet 3, 40 in Jet 4 and later, the latter masked with the creation date at 0x72).

uttrekk never decrypts pages and never reads a password: an encrypted or password-protected file
is refused with one line saying how to get an open copy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\x00\x01\x00\x00"
ENGINES = {b"Standard Jet DB\x00": "Jet", b"Standard ACE DB\x00": "ACE"}
VERSIONS = {0: ("Jet 3", "Access 97"), 1: ("Jet 4", "Access 2000-2003"), 2: ("ACE 12", "Access 2007"),
            3: ("ACE 14", "Access 2010"), 4: ("ACE 15", "Access 2013"), 5: ("ACE 16", "Access 2016"),
            6: ("ACE 17", "Access 2019 or later")}
"""The format byte at 0x14 -> (engine format, the Access that writes it)."""
HEADER_KEY = bytes([0xC7, 0xDA, 0x39, 0x6B])
SCRAMBLED_FROM = 0x18


def rc4(key: bytes, data: bytes) -> bytes:
    """RC4, which Jet uses to scramble the header (a fixed key, so no secret)."""
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray(len(data))
    i = j = 0
    for n, byte in enumerate(data):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out[n] = byte ^ s[(s[i] + s[j]) & 0xFF]
    return bytes(out)


@dataclass(frozen=True)
class JetHeader:
    engine: str
    """``Jet`` or ``ACE``."""
    version: int
    """The format byte at 0x14."""
    code_page: int
    """The code page of Jet 3 text (Jet 4 and later store UCS-2)."""
    encrypted: bool
    password: bool

    @property
    def jet3(self) -> bool:
        return self.version == 0

    @property
    def page_size(self) -> int:
        return 2048 if self.jet3 else 4096

    @property
    def format(self) -> str:
        return VERSIONS[self.version][0]

    @property
    def what(self) -> str:
        """``Jet 4 (Access 2000-2003), page size 4096``."""
        name, access = VERSIONS[self.version]
        return f"{name} ({access}), page size {self.page_size}"


def recognised(head: bytes) -> bool:
    """An Access file by its first 20 bytes (whatever its version)."""
    return head[:4] == MAGIC and head[4:20] in ENGINES


def jet_header(head: bytes) -> JetHeader | str:
    """The header of an Access file, or why it cannot be read (an unknown version, a short file)."""
    if not recognised(head):
        return "not an MS Access file"
    if len(head) < 0x80 + SCRAMBLED_FROM:
        return "the file ends inside its first page"
    version = head[0x14]
    if version not in VERSIONS or struct.unpack_from("<I", head, 0x14)[0] & 0xFFFF0000:
        return f"an MS Access file of an unknown format (version byte {version:#04x} at offset 0x14)"
    size = 126 if version == 0 else 128
    if not any(head[SCRAMBLED_FROM:SCRAMBLED_FROM + size]):
        return "a damaged MS Access file: its header holds zeros where Access writes its scrambled settings"
    clear = head[:SCRAMBLED_FROM] + rc4(HEADER_KEY, head[SCRAMBLED_FROM:SCRAMBLED_FROM + size])
    code_page = struct.unpack_from("<H", clear, 0x3C)[0]
    encrypted = clear[0x3E:0x42] != b"\x00\x00\x00\x00"
    if version == 0:
        password = clear[0x42:0x42 + 20]
    else:
        created = struct.unpack_from("<d", clear, 0x72)[0]
        mask = struct.pack("<i", int(created) if abs(created) < 2**31 else 0) * 10
        password = bytes(a ^ b for a, b in zip(clear[0x42:0x42 + 40], mask, strict=True))
    return JetHeader(ENGINES[head[4:20]], version, code_page, encrypted, any(password))


def refusal(header: JetHeader) -> str | None:
    """Why uttrekk will not read this file (encrypted, a password), as the end of one sentence."""
    if header.encrypted:
        how = ("open it in Access with its password, remove the encryption (File > Info > Decrypt Database) and "
               "give uttrekk that copy" if header.engine == "ACE" else
               "open it in Access, decrypt it (Tools > Security > Encode/Decode Database) and give uttrekk that copy")
        return f"the file is encrypted ({header.format}); uttrekk neither decrypts files nor tries passwords: {how}"
    if header.password:
        return (f"the file is protected by a database password ({header.format}); uttrekk never reads or tries "
                "passwords: open it in Access with the password, remove it (Tools > Security > Unset Database "
                "Password) and give uttrekk that copy")
    return None
