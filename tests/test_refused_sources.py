"""Files uttrekk recognises and refuses (SQL Server backups, Oracle exports), and the exact words for
other files a technician may be handed (dialects/kinds/refused.py, describe.py).

The headers are built here from the documented layouts (the fields each test sets are named in
refused.py's docstring): the Microsoft Tape Format TAPE block (type, string type, checksum,
software name, MTF version) with SQL Server's MSCI block (database version at 0xAC); a SQL Server
file header page (header version, page type 15, slot count, page and file id); Oracle's classic
export (0x03, character set id, EXPORT:V, U<user>, R<mode>) and Data Pump header strings."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

from dialects.kinds import recognise
from tests.conftest import fails, run


def mtf_backup(database_version: int = 957, checksum_ok: bool = True) -> bytes:
    head = bytearray(64 * 1024)
    head[0:4] = b"TAPE"
    head[8:10] = (0x5C).to_bytes(2, "little")  # offset to the first event
    head[48] = 2  # strings are UTF-16
    name = "Microsoft SQL Server".encode("utf-16-le")
    head[80:82] = len(name).to_bytes(2, "little")
    head[82:84] = (0x60).to_bytes(2, "little")
    head[0x60:0x60 + len(name)] = name
    head[93] = 1  # MTF major version
    checksum = 0
    for i in range(0, 50, 2):
        checksum ^= int.from_bytes(head[i:i + 2], "little")
    head[50:52] = (checksum ^ (0 if checksum_ok else 1)).to_bytes(2, "little")
    head[0x400:0x404] = b"SSET"
    head[0xE00:0xE04] = b"MSCI"
    head[0xE00 + 0xAC:0xE00 + 0xAE] = database_version.to_bytes(2, "little")
    return bytes(head)


def mdf_page(file_id: int = 1) -> bytes:
    page = bytearray(8192 * 2)
    page[0], page[1] = 1, 15  # header version 1, page type 15: the file header page
    page[22:24] = (1).to_bytes(2, "little")  # one slot
    page[32:36] = bytes(4)  # page 0
    page[36:38] = file_id.to_bytes(2, "little")
    return bytes(page)


def oracle_exp() -> bytes:
    return b"\x03\x03\x69EXPORT:V11.02.00\nUSCOTT\nRTABLES\n8192\n0\n64\n0\n" + bytes(600)


def oracle_datapump() -> bytes:
    head = bytearray(16 * 1024)
    head[0:2] = b"\x03\x01"
    strings = [b'"SYSTEM"."SYS_EXPORT_SCHEMA_01"', b"x86_64/Linux 2.4.xx", b"SAKDB", b"AL32UTF8",
               b"19.00.00.00.00", b"001:001:000001:000001"]
    at = 0x30
    for s in strings:
        head[at:at + len(s)] = s
        at += len(s) + 7  # binary fields between the strings
        head[at - 3] = 0x01
    return bytes(head)


def test_sql_server_backup_is_named_and_refused_with_how_to_restore(tmp_path):
    bak = tmp_path / "sak.bak"
    bak.write_bytes(mtf_backup())
    out = fails(run("extract", bak, "--out", tmp_path / "o"),
                "sak.bak: a SQL Server backup (Microsoft Tape Format 1, written by Microsoft SQL Server, "
                "database version 957, SQL Server 2022)",
                "RESTORE DATABASE", "docker/compose.yaml", "mssql://USER@HOST/DATABASE")
    assert "SOURCE may be" not in out
    assert not (tmp_path / "o").exists()
    (tmp_path / "gammel.bak").write_bytes(mtf_backup(611))
    fails(run("inspect", tmp_path / "gammel.bak"), "database version 611, SQL Server 2005")
    (tmp_path / "ukjent.bak").write_bytes(mtf_backup(999))
    fails(run("inspect", tmp_path / "ukjent.bak"), "database version 999)")


def test_a_tape_header_with_a_wrong_checksum_is_not_a_backup(tmp_path):
    (tmp_path / "x.bak").write_bytes(mtf_backup(checksum_ok=False))
    fails(run("inspect", tmp_path / "x.bak"), "binary data, not something uttrekk reads")


def test_sql_server_database_files(tmp_path):
    (tmp_path / "sak.mdf").write_bytes(mdf_page(1))
    fails(run("inspect", tmp_path / "sak.mdf"),
          "a SQL Server database file (the primary data file (.mdf), file id 1)", "FOR ATTACH", "docker/compose.yaml")
    (tmp_path / "sak_log.ldf").write_bytes(mdf_page(2))
    fails(run("inspect", tmp_path / "sak_log.ldf"), "the log file (.ldf), file id 2")


def test_oracle_exports_are_named_and_refused(tmp_path):
    (tmp_path / "expdat.dmp").write_bytes(oracle_exp())
    fails(run("inspect", tmp_path / "expdat.dmp"),
          "an Oracle export file made by the classic exp (EXPORT:V11.02.00, user SCOTT, mode TABLES, "
          "character set AL32UTF8)", "import it with imp", "oracle://USER@HOST:1521/?service_name=SERVICE")
    (tmp_path / "sak.dmp").write_bytes(oracle_datapump())
    fails(run("inspect", tmp_path / "sak.dmp"),
          "an Oracle Data Pump export file made by expdp (Oracle 19.0, job SYSTEM.SYS_EXPORT_SCHEMA_01, "
          "charset AL32UTF8)", "import it with impdp", "docker/compose.yaml")


def test_refused_kinds_are_recognised_inside_a_wrapper(tmp_path):
    path = tmp_path / "sak.bak.gz"
    path.write_bytes(gzip.compress(mtf_backup()))
    probe, found = recognise(str(path))
    assert found.kind == "mssql_backup" and probe.wrapping == ("gzip",)
    assert found.facts["release"] == "SQL Server 2022"


def test_what_other_files_look_like(tmp_path):
    def zipped(name: str, members: dict[str, bytes]) -> str:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as z:
            for member, data in members.items():
                z.writestr(member, data)
        return str(path)

    xlsx = zipped("a.xlsx", {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<w/>", "xl/sheet1.xml": b"<s/>"})
    docx = zipped("a.docx", {"[Content_Types].xml": b"<x/>", "word/document.xml": b"<d/>"})
    ods = zipped("a.ods", {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<c/>"})
    siard = zipped("a.siard", {"header/metadata.xml": b"<m/>", "content/schema0/table0/table0.xml": b"<t/>"})
    ole = bytearray(8192)
    ole[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    ole[1024:1024 + 18] = "Workbook\0".encode("utf-16-le")
    (tmp_path / "a.xls").write_bytes(bytes(ole))
    (tmp_path / "a.mdb").write_bytes(b"\x00\x01\x00\x00Standard Jet DB\x00" + bytes(2000))
    (tmp_path / "a.csv").write_text("id;navn;dato\n1;Áilu;2020-01-01\n2;Ánde;2021-02-03\n", encoding="utf-8")
    extract = tmp_path / "uttrekk"
    (extract / "content").mkdir(parents=True)
    (extract / "content" / "addml.xml").write_text("<addml/>")
    tar = tmp_path / "pakke.tar"
    with tarfile.open(tar, "w") as t:
        for name in ("pakke/dias-mets.xml", "pakke/content/addml.xml"):
            info = tarfile.TarInfo(name)
            info.size = 3
            t.addfile(info, io.BytesIO(b"<x>"))
    for path, said in (
            (xlsx, "an Excel workbook (.xlsx)"), (docx, "a Word document (.docx)"),
            (ods, "an OpenDocument spreadsheet (.ods)"),
            (tmp_path / "a.xls", "an Excel workbook (.xls)"),
            (tmp_path / "a.csv", "CSV text (semicolon-separated)"),
            (extract, f"an archival extract (ADDML: addml.xml), not something uttrekk reads as SOURCE; it is an "
                      f"extract, not a database: test it with `uttrekk validate {extract}`"),
            (tar, "a DIAS package (an archival extract) as a tar archive"),
    ):
        fails(run("inspect", path), said, "SOURCE may be")
    fails(run("inspect", tmp_path / "a.mdb"), "a.mdb: a damaged MS Access file: its header holds zeros")
    fails(run("inspect", siard), "header/metadata.xml: the root element is <m>, not <siardArchive>")
