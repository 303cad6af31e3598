"""MySQL and MariaDB dumps (mysqldump, mariadb-dump) as SOURCE: restored into a throwaway MariaDB.

Recognised by content: the header comment the dump tools write (``-- MySQL dump 10.13  Distrib
8.0.36`` / ``-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB``, ``-- Host: … Database: …``,
``-- Server version``), or, in a dump made with ``--skip-comments`` or ``--compact``, its first
statement: a ``/*!NNNNN … */`` version comment or a backtick-quoted ``CREATE TABLE`` / ``INSERT
INTO`` / ``DROP TABLE`` / ``CREATE DATABASE`` (no other engine writes those).

Restored once per dump content (``throwaway.entry_for``) into a MariaDB server of its own
(``mariadb_server``), fed through ``mysql_filter.DumpFilter`` (what the dump may do) into the
``mariadb`` client. A dump made with ``--databases`` or ``--all-databases`` restores into its own
databases (its ``CREATE DATABASE``/``USE``; the server's own ``mysql``/``sys`` databases are
skipped); one without them (the default) into a database named as in its header (``Database:``),
else ``restored``. ``OpenOptions.database`` chooses one of several.

Losses: the filter counts the tables each database gets and the rows every ``INSERT`` carries; the
restored server must hold each such table with exactly that many rows. A table or rows missing (a
refused statement, an error while restoring, a dump cut short) stop the run, naming them, unless
``accept_losses`` names the table (``table`` or ``database.table``) or, for a cut dump, ``dump-end``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import Found, OpenOptions, Probe

if TYPE_CHECKING:
    from dialects.base import Dialect

ENGINE = "mariadb1"
"""The cache entries' engine name (``throwaway.entry_for``), with the version of what the restore
does (the filter's rules, the loss check): a change to them gets new entries, not old restores."""

_HEADER = re.compile(rb"-- (MySQL|MariaDB) dump (\S+)\s+Distrib (\S+?),? ")
_HOST = re.compile(rb"^-- Host: (\S*)\s+Database: ([^\r\n]*)$", re.M)
_SERVER = re.compile(rb"^-- Server version\s+([^\r\n]+)$", re.M)
_FIRST = re.compile(
    rb"(?:/\*M!999999\\- enable the sandbox mode \*/[ \t\r]*\n)?(?:\s|--[^\n]*\n)*"
    rb"(?:/\*M?!\d{5,6} |(?:CREATE TABLE|INSERT INTO|DROP TABLE IF EXISTS|CREATE DATABASE [^\n]*?|LOCK TABLES) `)")
_DATABASES = re.compile(rb"^(?:CREATE DATABASE (?:/\*!32312 IF NOT EXISTS\*/ )?|USE )`((?:[^`]|``)+)`", re.M)
_NAMES = re.compile(rb"SET NAMES '?(\w+)", re.I)
_FIRST_USE = re.compile(rb"^(?:CREATE DATABASE|USE |CREATE TABLE|INSERT INTO|DROP TABLE)", re.M)
SHOWN_NOTES = 60
"""Restore notes listed one by one (the rest are counted)."""
DUMP_END = "dump-end"
"""The name ``accept_losses`` gives a dump that is cut short."""


def parse_header(head: bytes) -> dict[str, str] | None:
    """What a mysqldump/mariadb-dump file says about itself, or ``None`` when it is not one."""
    start = head[:4096]
    facts: dict[str, str] = {}
    m = _HEADER.search(start[:512])
    if m:
        maker = m.group(1).decode()
        distrib = m.group(3).decode("ascii", "replace")
        facts["tool"] = f"{'mariadb-dump' if maker == 'MariaDB' else 'mysqldump'} {m.group(2).decode('ascii', 'replace')}"
        facts["tool_distribution"] = distrib
        facts["format"] = f"{maker} dump (SQL)"
        host = _HOST.search(start)
        if host:
            facts["host"] = host.group(1).decode("utf-8", "replace")
            if host.group(2).strip():
                facts["header_database"] = host.group(2).strip().decode("utf-8", "replace")
        server = _SERVER.search(start)
        if server:
            facts["server_version"] = server.group(1).strip().decode("utf-8", "replace")
    elif _FIRST.match(start):
        facts["format"] = "MySQL/MariaDB dump (SQL) without header comments"
    else:
        return None
    names = [n.group(1).replace(b"``", b"`").decode("utf-8", "replace") for n in _DATABASES.finditer(head)]
    seen = list(dict.fromkeys(n for n in names if n.lower() not in ("mysql", "sys", "information_schema",
                                                                    "performance_schema")))
    if seen:
        facts["databases"] = ",".join(seen)
    charset = _NAMES.search(head)
    facts["charset"] = charset.group(1).decode("ascii").lower() if charset else "utf8mb4"
    first = _FIRST_USE.search(head)
    facts["own_databases"] = "yes" if first and first.group().startswith((b"CREATE DATABASE", b"USE")) else "no"
    return facts


class MySQLDump:
    def recognise(self, probe: Probe) -> Found | None:
        if probe.path is None or not probe.head:
            return None
        try:
            facts = parse_header(probe.head)
        except Exception:  # never for another kind's input
            return None
        if facts is None:
            return None
        return Found("mysql_dump", _what(facts), facts)

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        from .mysql_restore import open_restored

        return open_restored(probe, found, options)


def _what(facts: dict[str, str]) -> str:
    if "tool" in facts:
        bits = [facts["tool"], f"server {facts['server_version']}" if "server_version" in facts
                else facts["tool_distribution"]]
        if "databases" in facts and "," in facts["databases"]:
            bits.append(f"databases {facts['databases'].replace(',', ', ')}")
        elif "header_database" in facts:
            bits.append(f"database {facts['header_database']}")
        maker = "a MariaDB" if facts["tool"].startswith("mariadb") else "a MySQL"
        return f"{maker} dump ({', '.join(bits)})"
    return "a MySQL/MariaDB dump without header comments (made with --skip-comments or --compact)"

