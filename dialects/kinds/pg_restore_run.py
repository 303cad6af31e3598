"""An archive dump (custom, tar, directory) restored with ``pg_restore``, and what its log says was lost.

``pg_restore`` runs as the server's account and connects as the restoring role (``pg_server``), with
``--no-owner --no-privileges --no-tablespaces --no-subscriptions --no-security-labels``: owners,
grants and tablespaces are cluster matters, and a subscription would reach the network. Whatever
SQL the archive's TOC holds runs as that role, which can do no harm. A custom or tar archive is
fed through its standard input (``throwaway.pump``: a progress bar, and a compressed archive is
read as a stream); a directory archive is read where it is, or from a private copy in the cache
entry when the server's account cannot read the folder (uttrekk runs as root).

``--verbose`` makes the log say which TOC entry was being restored; each error is tied to the
entry named before it (``from TOC entry N;``), so a failed ``TABLE`` or ``TABLE DATA`` entry is a
lost table, any other failed entry a note. A ``pg_restore`` that stops (a cut or damaged archive)
loses the data it was restoring and everything after.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.errors import SourceError

from . import throwaway
from .pg_archive import Archive, Header, TocEntry, needs_major, readable_by
from .pg_losses import LARGE_OBJECTS, Loss, check_tables, grouped, skipped_note
from .pg_server import Cluster

OPTIONS = ("--no-owner", "--no-privileges", "--no-tablespaces", "--no-subscriptions", "--no-security-labels",
           "--verbose")
SKIPPED = {"ACL": "privilege entries", "DEFAULT ACL": "default privilege entries",
           "SUBSCRIPTION": "subscriptions (they reach the network)", "SECURITY LABEL": "security labels"}
SERVER_ENCODINGS = {"UTF8", "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6", "LATIN7", "LATIN8", "LATIN9",
                    "LATIN10", "WIN1250", "WIN1251", "WIN1252", "WIN1253", "WIN1254", "WIN1255", "WIN1256",
                    "WIN1257", "WIN1258", "WIN866", "WIN874", "KOI8R", "KOI8U", "ISO_8859_5", "ISO_8859_6",
                    "ISO_8859_7", "ISO_8859_8", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW", "EUC_JIS_2004",
                    "MULE_INTERNAL", "SQL_ASCII"}
_ENTRY = re.compile(r"^pg_restore: from TOC entry (\d+);")
_ERROR = re.compile(r"^pg_restore: error: (.*)$")
_SQL_ERROR = re.compile(r"^(could not execute query: |COPY failed for table |error returned by PQputCopy)")
_STEP = re.compile(r'^pg_restore: (creating|processing data for table|executing|processing) (.*)$')


@dataclass
class Log:
    errors: dict[int, list[str]] = field(default_factory=dict)
    """TOC entry -> the errors reported for it."""
    steps: list[tuple[str, str]] = field(default_factory=list)
    """(verb, what) in the order pg_restore did them."""
    fatal: str = ""
    """Why pg_restore stopped, when it did."""


def create_database(cluster: Cluster, name: str, encoding: str) -> None:
    """The database to restore into, owned by the restoring role, in the source's encoding."""
    from psycopg import sql

    encoding = encoding.upper() if encoding.upper() in SERVER_ENCODINGS else "UTF8"
    with cluster.connect("postgres") as conn:
        locale = sql.SQL("") if encoding == "UTF8" else sql.SQL(" LOCALE 'C'")
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING {}{}").format(
            sql.Identifier(name), sql.Literal(encoding), locale))


def restore(cluster: Cluster, probe: Any, fmt: str, archive: Archive, database: str, quiet: bool,
            scratch: Path) -> tuple[list[str], list[Loss]]:
    """Restore into ``database`` (made here); the notes and the losses."""
    create_database(cluster, database, archive.encoding)
    log_path = cluster.folder / "pg_restore.log"
    argv = [cluster.tools("pg_restore"), *OPTIONS, "--dbname", database]
    with log_path.open("wb") as log:
        if fmt == "directory":
            folder = _readable(probe.path, cluster, scratch)
            proc = cluster.run_tool([*argv, "--format=directory", str(folder)], stdin=subprocess.DEVNULL, log=log)
        else:
            proc = cluster.run_tool([*argv, f"--format={fmt}"], stdin=subprocess.PIPE, log=log)
        try:
            if proc.stdin is not None:
                with probe.open_content() as src:
                    throwaway.pump(src, proc.stdin, total=probe.progress_total,
                                   label=f"restoring {probe.path.name}", quiet=quiet)
            proc.wait()
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C, an unreadable dump): pg_restore goes too
                proc.kill()
                proc.wait()
            shutil.rmtree(scratch, ignore_errors=True)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    parsed = read_log(text, proc.returncode)
    return outcome(cluster, archive, parsed, database)


def _readable(folder: Path, cluster: Cluster, scratch: Path) -> Path:
    """The dump folder, or a copy the server's account can read (the original is never touched)."""
    if cluster.account.is_self:
        return folder
    throwaway.private_folder(scratch, cluster.account)
    for f in sorted(folder.iterdir()):
        if f.is_file() and not f.is_symlink():
            shutil.copyfile(f, scratch / f.name)
            shutil.chown(scratch / f.name, cluster.account.uid, cluster.account.gid)
    return scratch


def read_log(text: str, returncode: int) -> Log:
    log = Log()
    entry: int | None = None
    for line in text.splitlines():
        m = _ENTRY.match(line)
        if m:
            entry = int(m.group(1))
            continue
        m = _ERROR.match(line)
        if m:
            message = m.group(1)
            if _SQL_ERROR.match(message) and entry is not None:
                log.errors.setdefault(entry, []).append(_short(message))
            else:
                log.fatal = message
            continue
        m = _STEP.match(line)
        if m:
            log.steps.append((m.group(1), m.group(2)))
    if returncode != 0 and not log.fatal and "errors ignored on restore" not in text:
        log.fatal = f"pg_restore ended with status {returncode}"
    if returncode == 0:
        log.fatal = ""
    return log


def _short(message: str) -> str:
    """``could not execute query: ERROR:  relation "x" does not exist`` -> the server's words."""
    message = re.sub(r"^could not execute query: ", "", message)
    message = re.sub(r"^(ERROR|FATAL):\s+", "", message)
    return " ".join(message.split())


def _label(e: TocEntry) -> str:
    return f'"{e.namespace}.{e.tag}"' if e.namespace else f'"{e.tag}"'


def outcome(cluster: Cluster, archive: Archive, log: Log, database: str) -> tuple[list[str], list[Loss]]:
    by_id = {e.dump_id: e for e in archive.entries}
    data_entries = archive.of("TABLE DATA")
    started = {what.strip() for verb, what in log.steps if verb == "processing data for table"}
    in_progress = ""
    if log.fatal and log.steps and log.steps[-1][0] == "processing data for table":
        in_progress = log.steps[-1][1].strip()
    losses: list[Loss] = []
    why: dict[tuple[str, str], str] = {}
    notes: list[str] = []
    failures: list[tuple[int | str, str, str]] = []
    for dump_id, errors in log.errors.items():
        e = by_id.get(dump_id)
        if e is None:
            failures.extend((dump_id, "an unknown entry", m) for m in errors)
        elif e.desc in ("TABLE", "TABLE DATA"):
            why.setdefault((e.namespace, e.tag), f"{e.desc}: {errors[0]}")
            if e.desc == "TABLE DATA":
                losses.append(Loss(e.name, database, f"the rows of table {e.name} were not restored: {errors[0]}"))
        elif e.desc in ("BLOBS", "BLOB", "LARGE OBJECTS"):
            losses.append(Loss(LARGE_OBJECTS, database, f"large objects were not restored ({e.desc} {e.tag}): "
                                                        f"{errors[0]}"))
        else:
            failures.extend((dump_id, f"{e.desc} {e.name}", m) for m in errors)
    if log.fatal:
        notes.append(f"pg_restore stopped: {log.fatal}")
        for e in data_entries:
            if _label(e) not in started or _label(e) == in_progress:
                losses.append(Loss(e.name, database, f"the rows of table {e.name} were not restored: pg_restore "
                                                     f"stopped ({log.fatal})"))
        if archive.of("BLOBS") and ("processing", "BLOBS") not in log.steps:
                losses.append(Loss(LARGE_OBJECTS, database, f"large objects were not restored: pg_restore stopped "
                                                            f"({log.fatal})"))
    notes += grouped(failures, where="TOC entry")
    skipped = [f"{n} {SKIPPED[d]}" for d in SKIPPED if (n := len(archive.of(d)))]
    note = skipped_note(skipped, {e.owner for e in archive.entries if e.owner})
    if note:
        notes.append(note)
    tables = {(e.namespace, e.tag): (None, why.get((e.namespace, e.tag), "")) for e in archive.of("TABLE")}
    with cluster.connect(database) as conn:
        missing = check_tables(conn, database, tables)
    return notes, _unique(missing + losses)  # a missing table says more than the failed load of its rows


def _unique(losses: list[Loss]) -> list[Loss]:
    out: dict[tuple[str, str], Loss] = {}
    for loss in losses:
        out.setdefault((loss.database, loss.key), loss)
    return list(out.values())


def too_new(header: Header, pg_restore_version: str, major: int) -> SourceError | None:
    """One message when the local ``pg_restore`` cannot read this archive's format."""
    newest = readable_by(major)
    if header.version[:2] <= newest:
        return None
    need = needs_major(header)
    by = f", written by pg_dump {header.dump_version}" if header.dump_version else ""
    return SourceError(
        f"this pg_dump archive is format {header.archive_version}{by}; the local pg_restore {pg_restore_version} "
        f"reads formats up to {newest[0]}.{newest[1]}. Install the PostgreSQL {need or 'newer'} server tools "
        f"(initdb, postgres, pg_restore; Debian and Ubuntu: the package postgresql-{need or 'N'} from "
        "apt.postgresql.org) and run again: uttrekk uses the newest it finds under /usr/lib/postgresql, or the "
        "folder $UTTREKK_PG_BIN names")
