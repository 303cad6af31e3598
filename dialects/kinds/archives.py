"""The members of a zip or tar, every header checked before anything is read from them.

A tar's headers are parsed here, not by ``tarfile``, which reads a pax header into memory whatever
size it declares; a zip's directory is counted before ``zipfile`` loads it. Absolute, ``..``, link,
device and sparse members, encrypted zip members and multi-volume archives are refused, one line
each (``SourceError``): nothing is ever unpacked, but an archive that tries such things is not a
customer's dump.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from extractor.errors import SourceError

MAX_MEMBERS = 100_000
"""Most members of a zip or tar (each is checked; a dump comes alone)."""
MAX_META_BYTES = 1 << 20
"""Largest pax or GNU long-name header read into memory."""
CHUNK = 1 << 20


def checksum_ok(block: bytes) -> bool:
    """A tar header's checksum adds up."""
    try:
        stored = int(block[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 8 * 32 + sum(block[156:512])


def skip(stream: IO[bytes], offset: int, seekable: bool) -> None:
    """Move ``offset`` bytes on: a seek, or reading them for a stream."""
    if seekable:
        stream.seek(offset)
        return
    left = offset
    while left > 0:
        data = stream.read(min(left, CHUNK))
        if not data:
            raise EOFError("the tar ends before the member")
        left -= len(data)


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    offset: int = 0


def _refuse(label: str, what: str, name: str, problem: str) -> SourceError:
    return SourceError(f"{label}: {what} member {name!r} {problem}; refused as hostile (uttrekk reads no such archive)")


def check_name(label: str, what: str, name: str) -> None:
    """Refuse a member name that points anywhere but inside the archive."""
    parts = re.split(r"[/\\]", name)
    if not name or "\0" in name:
        raise _refuse(label, what, name, "has an empty or NUL-holding name")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise _refuse(label, what, name, "has an absolute path")
    if ".." in parts:
        raise _refuse(label, what, name, "points outside the archive (..)")


def _tar_number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256
        n = field[0] & 0x7F
        for b in field[1:]:
            n = (n << 8) | b
        return n
    text = field.split(b"\0", 1)[0].strip()
    return int(text or b"0", 8)


def _pax(data: bytes) -> dict[str, str]:
    """The records of a pax header (``LEN key=value\\n``)."""
    found = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        if length <= 0:
            raise ValueError("a pax record of length 0")
        key, _, value = data[space + 1:pos + length - 1].partition(b"=")
        found[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return found


def tar_members(label: str, stream: IO[bytes], seekable: bool) -> list[Member]:
    """The tar's files (folders left out), every header checked; ``SourceError`` for a hostile one."""
    files: list[Member] = []
    offset = 0
    total = stream.seek(0, 2) if seekable else None
    if seekable:
        stream.seek(0)
    long_name: str | None = None
    pax: dict[str, str] = {}
    count = 0

    def read(n: int) -> bytes:
        data = stream.read(n)
        if len(data) != n:
            raise SourceError(f"{label}: the tar ends inside a header or its data: the file is cut short")
        return data

    while True:
        block = stream.read(512)
        if not block or block == bytes(512):
            break
        if len(block) < 512:
            raise SourceError(f"{label}: the tar ends inside a header: the file is cut short")
        if not checksum_ok(block):
            raise SourceError(f"{label}: the tar header at byte {offset:,} is damaged (its checksum does not add up)")
        try:
            size = _tar_number(block[124:136])
        except ValueError:
            raise SourceError(f"{label}: the tar header at byte {offset:,} has an unreadable size") from None
        kind = block[156:157]
        name = block[:100].split(b"\0", 1)[0]
        if block[257:262] == b"ustar" and block[345:346] != b"\0":
            name = block[345:500].split(b"\0", 1)[0] + b"/" + name
        text = long_name if long_name is not None else name.decode("utf-8", "surrogateescape")
        text = pax.get("path", text)
        if "size" in pax:
            size = int(pax["size"])
        data_at = offset + 512
        padded = (size + 511) // 512 * 512
        offset = data_at + padded
        count += 1
        if count > MAX_MEMBERS:
            raise SourceError(f"{label}: the tar holds more than {MAX_MEMBERS:,} members; a dump comes alone")
        if kind in (b"L", b"K", b"x", b"g"):
            if size > MAX_META_BYTES:
                raise SourceError(f"{label}: a tar pax or long-name header declares {size:,} bytes; refused as hostile")
            data = read(padded)[:size]
            if kind == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif kind == b"x":
                try:
                    pax = _pax(data)
                except ValueError:
                    raise SourceError(f"{label}: a tar pax header is damaged") from None
            continue
        long_name, pax = None, {}
        if kind == b"M":
            raise SourceError(f"{label}: a part of a multi-volume tar archive: join the parts into one archive "
                              "(or unpack them) and give the dump")
        if kind == b"V":  # a GNU volume label: no data
            continue
        check_name(label, "tar", text)
        if kind in (b"1", b"2"):
            link = pax.get("linkpath") or block[157:257].split(b"\0", 1)[0].decode("utf-8", "replace")
            raise _refuse(label, "tar", text, f"is a {'hard' if kind == b'1' else 'symbolic'} link (to {link!r})")
        if kind in (b"3", b"4", b"6"):
            raise _refuse(label, "tar", text, "is a device or FIFO")
        if kind == b"S":
            raise _refuse(label, "tar", text, "is a sparse file")
        if kind not in (b"0", b"\0", b"7", b"5"):
            raise _refuse(label, "tar", text, f"is of an unknown kind ({kind!r})")
        if kind != b"5" and not text.endswith("/"):
            files.append(Member(text.removeprefix("./"), size, data_at))
        if total is not None and data_at + size > total:
            raise SourceError(f"{label}: the tar ends inside member {text!r}: the file is cut short")
        if seekable:
            stream.seek(offset)
        else:
            skip(stream, padded, False)
    return files


def zip_members(label: str, path: Path, floor: int, ratio: int) -> list[Member]:
    """The zip's files, every entry checked; ``SourceError`` for a hostile or multi-volume zip, or a
    member declaring more than ``ratio`` times its compressed size (past ``floor`` bytes)."""
    _zip_count(label, path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        if "span multiple disks" in str(exc):
            raise SourceError(f"{label}: a part of a multi-volume (split) ZIP archive: join the parts "
                              "(zip -s 0 … --out whole.zip) and give the whole archive") from None
        raise SourceError(f"{label}: a damaged ZIP archive ({exc}); ask for it again") from None
    files = []
    seen = set()
    for info in infos:
        check_name(label, "zip", info.filename)
        if info.filename in seen:
            raise _refuse(label, "zip", info.filename, "occurs twice")
        seen.add(info.filename)
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise _refuse(label, "zip", info.filename, "is a symbolic link")
        if info.create_system == 3 and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise _refuse(label, "zip", info.filename, "is a device or FIFO")
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise SourceError(f"{label}: zip member {info.filename!r} is encrypted: unpack the archive with its "
                              "password and give the dump")
        if info.file_size > floor and info.file_size > ratio * max(info.compress_size, 1):
            raise SourceError(f"{label}: zip member {info.filename!r} declares {info.file_size:,} bytes from "
                              f"{info.compress_size:,}: refused as a decompression bomb")
        files.append(Member(info.filename, info.file_size))
    return files


def split_zip_end(path: Path) -> bool:
    """The last part of a split zip: it ends in a zip directory's end record naming another disk."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    return at >= 0 and len(tail) >= at + 22 and at + 22 + int.from_bytes(tail[at + 20:at + 22], "little") == len(tail) \
        and int.from_bytes(tail[at + 4:at + 6], "little") not in (0, 0xFFFF)


def _zip_count(label: str, path: Path) -> None:
    """Refuse a zip whose directory declares more than ``MAX_MEMBERS`` entries, before reading it."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return  # zipfile says what is wrong
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    disk = int.from_bytes(tail[at + 4:at + 6], "little")
    if disk not in (0, 0xFFFF):
        raise SourceError(f"{label}: the last part of a multi-volume (split) ZIP archive: join the parts "
                          "(zip -s 0 … --out whole.zip) and give the whole archive")
    if count == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
        record = int.from_bytes(tail[at - 12:at - 4], "little")
        fh2 = path.open("rb")
        with fh2:
            fh2.seek(record + 32)
            count = int.from_bytes(fh2.read(8), "little")
    if count > MAX_MEMBERS:
        raise SourceError(f"{label}: the ZIP archive declares {count:,} members; a dump comes alone")
