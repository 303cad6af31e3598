"""Files for binary values and over-long texts: where they go and what they are.

Paths are derived from the table file, the field and the record number, so reruns write the same
files. The format guess reads only the first bytes, for the LOBFILER list; bytes are never changed.
"""

from __future__ import annotations

import re

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"PK\x03\x04", "zip"),
    (b"<?xml", "xml"),
)
"""Leading bytes of common document formats -> file extension."""


def sniff(data: bytes) -> str:
    """File extension for a binary value, from its first bytes (``bin`` when unknown)."""
    for magic, ext in _SIGNATURES:
        if data.startswith(magic):
            return ext
    return "bin"


def describe_kind(ext: str, charset: str | None) -> str:
    """Text for the ``innhold`` field of LOBFILER."""
    if charset:
        return f"tekst {charset}"
    return f"binaer {ext if ext != 'bin' else 'ukjent'}"


def path_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "felt"


def lob_path(lob_dir: str, file_stem: str, field: str, recno: int, ext: str) -> str:
    """Relative path (from ``content/``) of the file for one value."""
    return f"{lob_dir}/{file_stem}/{path_part(field)}/{recno}.{ext}"


def as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(type(value).__name__)
