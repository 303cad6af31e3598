"""What an unrecognised SOURCE looks like, in one line a person can act on."""

from __future__ import annotations

from . import HEAD_BYTES, Probe

ACCEPTED = ("a database URL (postgresql://, mysql://, mariadb://, firebird://, mssql://, oracle://, sqlite:///)",
            "a SQLite database file")
"""What uttrekk takes as SOURCE, said when it takes something else (kinds add theirs to ``ACCEPTED_BY``)."""

ACCEPTED_BY: dict[str, str] = {
    "pg_dump": "a PostgreSQL dump (pg_dump custom, tar or plain SQL file, a directory-format dump folder, pg_dumpall output)",
    "mysql_dump": "a MySQL or MariaDB dump (mysqldump or mariadb-dump SQL)",
    "firebird": "a Firebird backup (gbak, .fbk) or database file (.fdb, .gdb)",
}
"""Kind key -> what it accepts, in words (for kinds beyond ``ACCEPTED``)."""

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 compound file (old Office document or similar)"),
    (b"\x00\x01\x00\x00Standard Jet DB", "an MS Access database (Jet)"),
    (b"\x00\x01\x00\x00Standard ACE DB", "an MS Access database (ACE)"),
    (b"<?xml", "an XML document"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)


def looks_like(probe: Probe) -> str:
    """What the content looks like, from its first bytes."""
    if probe.path is not None and not probe.head and probe.names:
        return f"a folder of {len(probe.names)} entries that no kind of SOURCE recognises"
    if probe.path is not None and probe.path.is_dir():
        return "an empty folder"
    head = probe.head
    if not head:
        return "an empty file"
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    if len(head) > 262 and head[257:262] == b"ustar":
        return "a tar archive"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(head) == HEAD_BYTES and exc.start >= len(head) - 4:  # the sample ends inside a character
            text = head[:exc.start].decode("utf-8")
        else:
            return "binary data" if b"\x00" in head[:4096] else "text that is not UTF-8"
    return "UTF-8 text that is not a database dump" if text.strip() else "a file of blank text"


def unrecognised(probe: Probe, kinds: list[str]) -> str:
    shown = probe.text if probe.path is not None else "SOURCE"
    accepted = [*ACCEPTED, *(ACCEPTED_BY[k] for k in kinds if k in ACCEPTED_BY)]
    return (f"{shown}: {looks_like(probe)}, not something uttrekk reads. SOURCE may be "
            + "; ".join(accepted) + ".")
