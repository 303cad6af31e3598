"""Dumps uttrekk recognises but cannot restore: SQL Server backups and Oracle export files.

Restoring them needs the engine's own server (SQL Server's ``RESTORE DATABASE``, Oracle's
``impdp``/``imp``), which does not run on the machine uttrekk restores on. So they are named
exactly, with the version their header gives, and refused with one message saying how to restore
them on a server (``docker/compose.yaml`` has SQL Server and Oracle; docs/dumps.md shows the
commands) and to run uttrekk on that server's URL.

What is read of each (first bytes only, never the name):

- SQL Server backup (``.bak``): Microsoft Tape Format. The 52-byte common block header of the
  ``TAPE`` descriptor block (type ``TAPE`` at 0, string type at 48, and at 50 the header checksum,
  the XOR of the 25 little-endian 16-bit words before it), then the TAPE block's software name
  (``MTF_TAPE_ADDRESS`` size and offset at 80, from the block's start) and MTF major version (93).
  SQL Server's own ``MSCI`` block, at a 512-byte boundary, holds the database version at 0xAC.
- SQL Server database file (``.mdf``/``.ndf``/``.ldf``, detached): page 0 is the file header page,
  whose 96-byte page header has header version 1 (0), page type 15 (1), one slot (22) and page id
  0 with the file id (32 and 36).
- Oracle classic export (``exp``): byte 0 is 3, bytes 1-2 the character set id (big-endian), then
  ``EXPORT:Vnn.nn.nn`` and lines ``U<user>`` and ``R<mode>``.
- Oracle Data Pump (``expdp``): byte 0 is 3, then among the header's strings the job
  (``"OWNER"."JOB"``), platform, database name, character set, the version (``nn.nn.nn.nn.nn``)
  and the file marker ``nnn:nnn:nnnnnn:nnnnnn``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NoReturn

from extractor.errors import SourceError

from . import Found, OpenOptions, Probe

if TYPE_CHECKING:
    from dialects.base import Dialect

SQL_SERVER_RELEASES = {539: "2000", 611: "2005", 612: "2005", 655: "2008", 661: "2008 R2", 706: "2012",
                       782: "2014", 852: "2016", 869: "2017", 904: "2019", 957: "2022"}
"""SQL Server's database version (as in a backup's MSCI block) -> the release that writes it."""
ORACLE_CHARSETS = {1: "US7ASCII", 31: "WE8ISO8859P1", 46: "WE8ISO8859P15", 61: "NDK7DEC", 178: "WE8MSWIN1252",
                   871: "UTF8", 873: "AL32UTF8"}
"""Oracle character set ids seen in Norwegian systems' exports."""
HOW = ("docker/compose.yaml in uttrekk's source has one: docs/dumps.md, 'Files uttrekk refuses', shows the "
       "commands")


def _refuse(probe: Probe, found: Found, how: str) -> NoReturn:
    raise SourceError(f"{probe.text}: {found.what}. uttrekk cannot restore it here: {how}")


# -- SQL Server ---------------------------------------------------------------------------------


def _words_xor(data: bytes) -> int:
    value = 0
    for i in range(0, len(data), 2):
        value ^= int.from_bytes(data[i:i + 2], "little")
    return value


def _mtf_string(head: bytes, at: int) -> str:
    """An MTF string (``MTF_TAPE_ADDRESS``: size and offset from the block's start)."""
    size = int.from_bytes(head[at:at + 2], "little")
    offset = int.from_bytes(head[at + 2:at + 4], "little")
    raw = head[offset:offset + size] if 0 < size <= 512 and offset + size <= len(head) else b""
    text = raw.decode("utf-16-le" if head[48] == 2 else "latin-1", "replace")
    return "".join(c for c in text if c.isprintable()).strip()


def _database_version(head: bytes) -> int | None:
    for at in range(512, len(head) - 0xAE, 512):
        if head[at:at + 4] == b"MSCI":
            return int.from_bytes(head[at + 0xAC:at + 0xAE], "little")
    return None


class SqlServerBackup:
    """A SQL Server backup (``.bak``) or database file (``.mdf``): recognised, then refused."""

    def recognise(self, probe: Probe) -> Found | None:
        head = probe.head
        if head[:4] == b"TAPE" and len(head) >= 94 and _words_xor(head[:50]) == int.from_bytes(head[50:52], "little"):
            facts = {"format": "Microsoft Tape Format", "mtf_version": str(head[93])}
            software = _mtf_string(head, 80)
            if software:
                facts["software"] = software
            version = _database_version(head)
            said = [f"Microsoft Tape Format {head[93]}"] + ([f"written by {software}"] if software else [])
            if version is not None:
                facts["database_version"] = str(version)
                release = SQL_SERVER_RELEASES.get(version)
                if release:
                    facts["release"] = f"SQL Server {release}"
                said.append(f"database version {version}" + (f", SQL Server {release}" if release else ""))
            return Found("mssql_backup", f"a SQL Server backup ({', '.join(said)})", facts)
        if len(head) >= 96 and head[0] == 1 and head[1] == 15 and int.from_bytes(head[22:24], "little") == 1 \
                and head[32:36] == bytes(4) and 0 < int.from_bytes(head[36:38], "little") < 32768:
            file_id = int.from_bytes(head[36:38], "little")
            role = "the primary data file (.mdf)" if file_id == 1 else "the log file (.ldf)" if file_id == 2 \
                else "a secondary data file (.ndf)"
            return Found("mssql_backup", f"a SQL Server database file ({role}, file id {file_id})",
                         {"format": "SQL Server database file", "file_id": str(file_id)})
        return None

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        if found.facts.get("format") == "SQL Server database file":
            _refuse(probe, found, "attach it, with its other files, on a SQL Server (CREATE DATABASE … FOR ATTACH; "
                    f"{HOW}) and run uttrekk on the server's URL, mssql://USER@HOST/DATABASE")
        _refuse(probe, found, f"restore it on a SQL Server (RESTORE DATABASE … FROM DISK; {HOW}) and run uttrekk "
                "on the server's URL, mssql://USER@HOST/DATABASE")


# -- Oracle -------------------------------------------------------------------------------------

_RUNS = re.compile(rb"[\x20-\x7e]{4,}")
_VERSION = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{2}$")
_MARKER = re.compile(r"^\d{3}:\d{3}:\d{6}:\d{6}$")
_JOB = re.compile(r'^"([^"]+)"\."([^"]+)"$')


def _release(version: str) -> str:
    """``11.02.00.04.00`` -> ``11.2.0.4``."""
    parts = [str(int(p)) for p in version.split(".")]
    while len(parts) > 2 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


class OracleDump:
    """An Oracle export file, Data Pump (``expdp``) or classic (``exp``): recognised, then refused."""

    def recognise(self, probe: Probe) -> Found | None:
        head = probe.head
        if head[:1] != b"\x03":
            return None
        if head[3:11] == b"EXPORT:V":
            lines = head[3:1024].split(b"\n")
            version = lines[0][8:].decode("ascii", "replace")
            facts = {"format": "Oracle export (exp)", "version": version}
            charset = int.from_bytes(head[1:3], "big")
            facts["charset"] = ORACLE_CHARSETS.get(charset, f"id {charset}")
            for line in lines[1:3]:
                text = line.decode("ascii", "replace")
                if text[:1] == "U" and len(text) > 1:
                    facts["user"] = text[1:]
                elif text[:1] == "R" and len(text) > 1:
                    facts["mode"] = text[1:]
            said = [f"EXPORT:V{version}"] + [f"{k} {facts[k]}" for k in ("user", "mode") if k in facts]
            said.append(f"character set {facts['charset']}")
            return Found("oracle_dump", f"an Oracle export file made by the classic exp ({', '.join(said)})", facts)
        runs = [m.group().decode("ascii").strip() for m in _RUNS.finditer(head[:8192])]
        at = next((i for i, r in enumerate(runs) if _VERSION.match(r)), None)
        if at is None or not any(_MARKER.match(r) for r in runs[at + 1:at + 3]):
            return None
        version = runs[at]
        facts = {"format": "Oracle Data Pump (expdp)", "version": version}
        before = runs[max(0, at - 4):at]
        if before and re.fullmatch(r"[A-Z0-9_]+", before[-1]):
            facts["charset"] = before[-1]
        for run in runs[:at]:
            job = _JOB.match(run)
            if job:
                facts["job"] = f"{job.group(1)}.{job.group(2)}"
            elif "/" in run and "platform" not in facts:
                facts["platform"] = run
        said = [f"Oracle {_release(version)}"] + [f"{k} {facts[k]}" for k in ("job", "charset") if k in facts]
        return Found("oracle_dump", f"an Oracle Data Pump export file made by expdp ({', '.join(said)})", facts)

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        tool = "impdp" if "expdp" in found.facts.get("format", "") else "imp (the classic import)"
        _refuse(probe, found, f"import it with {tool} into an Oracle database ({HOW}) and run uttrekk on the "
                "server's URL, oracle://USER@HOST:1521/?service_name=SERVICE")
