"""Hand-built .dbf tables and memo files, byte by byte, from the published layouts, for what the
``dbf`` package cannot write (dBase IV/7 types, Visual FoxPro 9 varchar/varbinary/blob and
``_NullFlags``, odd language drivers, damaged memo files). Nothing here imports uttrekk.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class F:
    name: str
    type: str
    length: int
    decimals: int = 0
    flags: int = 0


def dbf(version: int, fields: list[F], records: list[tuple[bool, list[bytes]]], lang: int = 0,
        lang_name: bytes = b"", records_in_header: int | None = None, backlink: bytes = b"") -> bytes:
    """A whole .dbf: ``records`` as (deleted, each field's raw bytes)."""
    dbase7 = version in (0x04, 0x8C)
    vfp = version in (0x30, 0x31, 0x32)
    width = 48 if dbase7 else 32
    start = 68 if dbase7 else 32
    header_length = start + width * len(fields) + 1 + (263 if vfp else 0)
    record_length = 1 + sum(f.length for f in fields)
    head = bytearray(start)
    count = len(records) if records_in_header is None else records_in_header
    struct.pack_into("<BBBBIHH", head, 0, version, 124, 5, 17, count, header_length, record_length)
    head[29] = lang
    if dbase7:
        head[32:32 + len(lang_name)] = lang_name
    out = bytes(head)
    for f in fields:
        d = bytearray(width)
        if dbase7:
            d[:len(f.name.encode("latin-1"))] = f.name.encode("latin-1")
            d[32], d[33], d[34] = ord(f.type), f.length, f.decimals
        else:
            d[:len(f.name.encode("latin-1"))] = f.name.encode("latin-1")
            d[11], d[16], d[17], d[18] = ord(f.type), f.length, f.decimals, f.flags
        out += bytes(d)
    out += b"\x0d" + (backlink.ljust(263, b"\0") if vfp else b"")
    assert len(out) == header_length
    for deleted, values in records:
        rec = (b"*" if deleted else b" ") + b"".join(values)
        assert len(rec) == record_length, (rec, record_length)
        out += rec
    return out + b"\x1a"


def dbt3(memos: list[bytes]) -> tuple[bytes, list[int]]:
    """A dBase III .dbt: 512-byte blocks, each memo ended by 0x1A 0x1A."""
    out, blocks = bytearray(512), []
    for m in memos:
        blocks.append(len(out) // 512)
        body = m + b"\x1a\x1a"
        out += body + b"\0" * (-len(body) % 512)
    struct.pack_into("<I", out, 0, len(out) // 512)
    return bytes(out), blocks


def dbt4(memos: list[bytes], block: int = 512) -> tuple[bytes, list[int]]:
    """A dBase IV .dbt: block size at bytes 20-21; each memo FF FF 08 00, length + 8 (LE), data."""
    out, blocks = bytearray(block if block >= 512 else 512), []
    struct.pack_into("<H", out, 20, block)
    for m in memos:
        blocks.append(len(out) // block)
        body = b"\xff\xff\x08\x00" + struct.pack("<I", len(m) + 8) + m
        out += body + b"\0" * (-len(body) % block)
    struct.pack_into("<I", out, 0, len(out) // block)
    return bytes(out), blocks


def fpt(memos: list[tuple[int, bytes]], block: int = 64) -> tuple[bytes, list[int]]:
    """A FoxPro .fpt: block size big-endian at bytes 6-7; each memo type and length (BE), data."""
    out, blocks = bytearray(512), []
    struct.pack_into(">H", out, 6, block)
    for kind, m in memos:
        blocks.append(len(out) // block)
        body = struct.pack(">II", kind, len(m)) + m
        out += body + b"\0" * (-len(body) % block)
    struct.pack_into(">I", out, 0, len(out) // block)
    return bytes(out), blocks


def text(value: str, length: int, codec: str = "ascii") -> bytes:
    raw = value.encode(codec)
    assert len(raw) <= length
    return raw + b" " * (length - len(raw))


def number(value: str, length: int) -> bytes:
    assert len(value) <= length
    return value.rjust(length).encode("ascii")


def pointer10(block: int | None) -> bytes:
    return b" " * 10 if block is None else str(block).rjust(10).encode("ascii")


def le4(n: int) -> bytes:
    return struct.pack("<i", n)


def dbase7_long(n: int) -> bytes:
    return struct.pack(">I", (n + 0x80000000) & 0xFFFFFFFF)


def dbase7_double(x: float) -> bytes:
    raw = bytearray(struct.pack(">d", x))
    if raw[0] & 0x80:
        return bytes(b ^ 0xFF for b in raw)
    raw[0] |= 0x80
    return bytes(raw)


def julian(day: int, ms: int) -> bytes:
    return struct.pack("<ii", day, ms)


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path
