"""Files for binary values and over-long texts: where they go and what they are.

Paths are derived from the table file, the field and the record number, so reruns write the same
files. The format guess reads only the first bytes, for the LOBFILER list; bytes are never changed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def ascii_stem(name: str, fallback: str) -> str:
    """An ASCII file or folder name for a source name (æ→ae, ø→o, å→a, accents dropped, anything
    else odd → ``_``); ``fallback`` when nothing is left."""
    text = name.replace("æ", "ae").replace("Æ", "AE").replace("ø", "o").replace("Ø", "O")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or fallback


@lru_cache(maxsize=256)
def lob_folders(columns: tuple[str, ...]) -> dict[str, str]:
    """The folder of each column's files: an ASCII name of its own. Names that would be the same
    (``a b`` and ``a_b``, ``Bilde`` and ``bilde`` on a file system that ignores case) are told
    apart by a number, in column order, so no file of one column can overwrite one of another."""
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        base = folder = ascii_stem(column, "felt")
        n = 2
        while folder.lower() in taken:
            folder, n = f"{base}_{n}", n + 1
        taken.add(folder.lower())
        folders[column] = folder
    return folders


def lob_path(lob_dir: str, file_stem: str, columns: tuple[str, ...], column: str, recno: int, ext: str) -> str:
    """Relative path (from ``content/``) of the file for one value of ``column`` (one of the table's
    ``columns``)."""
    return f"{lob_dir}/{file_stem}/{lob_folders(columns)[column]}/{recno}.{ext}"


def as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(type(value).__name__)
