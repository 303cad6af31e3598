"""What an unrecognised SOURCE looks like, in one line a person can act on.

A depot technician is handed all sorts of files: an Excel sheet, a CSV export, an Access file, a
SIARD archive, an extract someone else made. Each is named as exactly as its first bytes (or an
archive's member names, ``Probe.members``) allow, with what to do about it where there is something
to do, followed by the kinds of SOURCE uttrekk reads.
"""

from __future__ import annotations

import re

from . import HEAD_BYTES, Probe

ACCEPTED = ("a database URL (postgresql://, mysql://, mariadb://, firebird://, mssql://, oracle://, sqlite:///)",
            "a SQLite database file")
"""What uttrekk takes as SOURCE, said when it takes something else (kinds add theirs to ``ACCEPTED_BY``)."""

ACCEPTED_BY: dict[str, str] = {
    "pg_dump": "a PostgreSQL dump (pg_dump custom, tar or plain SQL file, a directory-format dump folder, pg_dumpall output)",
    "mysql_dump": "a MySQL or MariaDB dump (mysqldump or mariadb-dump SQL)",
    "firebird": "a Firebird backup (gbak, .fbk) or database file (.fdb, .gdb)",
    "access": "an MS Access file (.mdb, .accdb)",
    "dbase": "a dBase/FoxPro file or folder (.dbf tables with their .dbt/.fpt memo files)",
    "siard": "a SIARD file (.siard: SIARD 1.0, 2.0, 2.1, 2.2)",
}
"""Kind key -> what it accepts, in words (for kinds beyond ``ACCEPTED``)."""

WRAPPED = "any dump also compressed (gzip, bzip2, xz, zstd) or alone in a zip or tar"
"""Said after the kinds when a dump kind is among them."""

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"%PDF-", "a PDF document"),
    (b"SQLite format 3\x00", "a SQLite database file"),
    (b"\x00\x01\x00\x00Standard Jet DB", "an MS Access database (.mdb, Jet)"),
    (b"\x00\x01\x00\x00Standard ACE DB", "an MS Access database (.accdb, ACE)"),
    (b"<?xml", "an XML document"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The compound file of old Office documents (.xls, .doc, .ppt); its stream names tell them apart."""
_OLE2_STREAMS = (("Workbook", "an Excel workbook (.xls)"), ("Book", "an Excel workbook (.xls, Excel 5/95)"),
                 ("WordDocument", "a Word document (.doc)"), ("PowerPoint Document", "a PowerPoint file (.ppt)"))
_ODF = {"spreadsheet": "an OpenDocument spreadsheet (.ods)", "text": "an OpenDocument text (.odt)",
        "presentation": "an OpenDocument presentation (.odp)"}
_OOXML = (("xl/", "an Excel workbook (.xlsx)"), ("word/", "a Word document (.docx)"),
          ("ppt/", "a PowerPoint file (.pptx)"))


def looks_like(probe: Probe) -> str:
    """What the content looks like, from its first bytes (and an archive's or folder's names)."""
    if probe.path is not None and probe.path.is_dir():
        if (probe.path / "content" / "addml.xml").is_file() or "addml.xml" in probe.names:
            return "an archival extract (ADDML: addml.xml)"
        if probe.names:
            return f"a folder of {len(probe.names)} entries that no kind of SOURCE recognises"
        return "an empty folder"
    if probe.members or (probe.head.startswith(b"PK") and not probe.wrapping):
        what = _archive(probe)
    else:
        what = _content(probe.head)
    return what + "".join(f" in {_layer(w)}" for w in reversed(probe.wrapping))


def _layer(words: str) -> str:
    kind, _, member = words.partition(" member ")
    if member:
        return f"{'a ZIP' if kind == 'zip' else 'a tar'} archive (member {member})"
    return f"a{'n' if kind == 'xz' else ''} {kind}-compressed file"


def _archive(probe: Probe) -> str:
    """A zip or tar that is not a dump's wrapper, by its member names."""
    names = probe.members
    packed = "ZIP archive" if probe.head.startswith(b"PK") else "tar archive"
    if "[Content_Types].xml" in names:
        return next((what for folder, what in _OOXML if any(n.startswith(folder) for n in names)),
                    "an Office Open XML document")
    if "mimetype" in names and probe.head.startswith(b"PK"):
        kind = re.search(rb"application/vnd\.oasis\.opendocument\.([a-z]+)", probe.head[:200])
        return _ODF.get(kind.group(1).decode() if kind else "", "an OpenDocument file")
    if "header/metadata.xml" in names:
        return "a SIARD archive"
    if any(n == "dias-mets.xml" or n.endswith("/dias-mets.xml") for n in names):
        return f"a DIAS package (an archival extract) as a {packed}"
    if any(n in ("addml.xml", "content/addml.xml") or n.endswith("/content/addml.xml") for n in names):
        return f"an archival extract (ADDML: addml.xml) as a {packed}"
    if not names:
        return f"an empty {packed}" if packed != "ZIP archive" else "an empty ZIP archive"
    return f"a {packed} holding no file that could be a dump"


def _content(head: bytes) -> str:
    if not head:
        return "an empty file"
    if head.startswith(OLE2):
        return next((what for stream, what in _OLE2_STREAMS if (stream + "\0").encode("utf-16-le") in head),
                    "an OLE2 compound file (an old Office document or similar)")
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
    if not text.strip():
        return "a file of blank text"
    separated = _csv(text)
    if separated:
        return f"CSV text ({separated}-separated)"
    return "UTF-8 text that is not a database dump"


def _csv(text: str) -> str | None:
    """The separator when the first lines hold the same number of it, at least once each."""
    lines = text.splitlines()[:20]
    if len(text) == HEAD_BYTES and len(lines) > 2:
        lines = lines[:-1]  # the sample may end inside a line
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        return None
    for sep, name in ((";", "semicolon"), ("\t", "tab"), (",", "comma"), ("|", "bar")):
        counts = {line.count(sep) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return name
    return None


def advice(probe: Probe) -> str:
    """What to do about it, where there is something to do."""
    what = looks_like(probe)
    if probe.wrapping and what.startswith("a SQLite database file"):
        return "uttrekk reads a SQLite database in place, never from a stream: unpack it and give the database file"
    if "archival extract" in what:
        if probe.path is not None and (probe.path.is_dir() or not probe.head.startswith(b"PK")):
            return f"it is an extract, not a database: test it with `uttrekk validate {probe.text}`"
        return "it is an extract, not a database: unpack it and test the folder with `uttrekk validate FOLDER`"
    return ""


def unrecognised(probe: Probe, kinds: list[str]) -> str:
    shown = probe.text if probe.path is not None else "SOURCE"
    accepted = [*ACCEPTED, *(ACCEPTED_BY[k] for k in kinds if k in ACCEPTED_BY)]
    if any(k in ACCEPTED_BY for k in kinds):
        accepted.append(WRAPPED)
    todo = advice(probe)
    return (f"{shown}: {looks_like(probe)}, not something uttrekk reads as SOURCE{'; ' + todo if todo else ''}. "
            "SOURCE may be " + "; ".join(accepted) + ".")
