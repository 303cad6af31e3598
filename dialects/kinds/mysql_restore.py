"""Restore a MySQL/MariaDB dump into its cache entry, check what it lost, and open it for reading.

A new entry: ``mariadb-install-db``, the server started for restoring (``innodb_flush_log_at_trx_commit
= 0``), the dump pumped through ``DumpFilter`` into the ``mariadb`` client (progress bar), every
table and row count the filter saw compared with the server's, a clean shutdown (everything on
disk), then the marker with what the restore found (``Entry.record``). Every run, new entry or
cached: the server started for reading, the database chosen, the losses judged against this run's
``accept_losses``, and the MySQL adapter connected through the socket as ``RestoredMySQL``, whose
``close`` stops the server and lets go of the entry.
"""

from __future__ import annotations

import re
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from dialects.mysql import MySQL
from extractor.errors import SourceError

from . import Found, OpenOptions, Probe
from .mariadb_server import MariaDB
from .mysql_dump import DUMP_END, ENGINE, SHOWN_NOTES
from .mysql_filter import SYSTEM_DATABASES, UNSAFE_CHARSETS, DumpFilter
from .throwaway import entry_for, evict, pump, server_account, sha256_of

_ERROR = re.compile(r"^ERROR(?: (\d+) \(\w+\))? at line (\d+): (.*)$")
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


class RestoredMySQL(MySQL):
    """The MySQL adapter on a restored dump: labelled by the dump, closing its server. Nobody but
    this run reads or writes that server, so the fast path's statistics may be counted on a second
    connection beside the records (``sole_reader``)."""

    sole_reader = True

    _stack: ExitStack | None = None
    _dump: Path | None = None

    def source_files(self) -> tuple[Path, ...]:
        return (self._dump,) if self._dump is not None else ()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._stack is not None:
                self._stack.close()
                self._stack = None


def open_restored(probe: Probe, found: Found, options: OpenOptions) -> RestoredMySQL:
    assert probe.path is not None
    charset = found.facts.get("charset", "utf8mb4")
    if charset in UNSAFE_CHARSETS:
        raise SourceError(f"{probe.text}: the dump is written in the character set {charset}, whose characters can "
                          "hide quotes and backslashes; uttrekk restores only dumps in other character sets "
                          "(make the dump with --default-character-set=utf8mb4)")
    account = server_account()
    digest = sha256_of(probe.path)
    stack = ExitStack()
    try:
        entry = stack.enter_context(entry_for(ENGINE, digest, wait=lambda: _say(
            options, f"{probe.text}: another uttrekk is restoring this dump; waiting for it")))
        server = MariaDB(entry, account)
        if entry.complete:
            facts = entry.facts()
            entry.touch()
        else:
            facts = _restore(server, probe, found, options, digest)
            entry.record(facts)
        server.start(restoring=False)
        stack.callback(server.stop)
        database = _choose(probe, facts, options)
        notes = _judge(probe, facts, database, options)
        dialect = _connect(server, database, probe, found, facts, notes)
        dialect._stack = stack
    except BaseException:
        stack.close()
        raise
    evict(keep=entry.path)
    return dialect


def _say(options: OpenOptions, text: str) -> None:
    if not options.quiet:
        print(text, file=sys.stderr)


def _restore(server: MariaDB, probe: Probe, found: Found, options: OpenOptions, digest: str) -> dict[str, Any]:
    """Restore into a new entry; the facts for its marker (the server is stopped afterwards)."""
    assert probe.path is not None  # a dump file: open_restored has checked
    server.install()
    server.start(restoring=True)
    try:
        version = server.version()
        numeric = _VERSION.search(version)
        level = tuple(int(g) for g in numeric.groups()) if numeric else (10, 0, 0)
        default = None
        if found.facts.get("own_databases") != "yes":
            default = found.facts.get("header_database") or "restored"
            if default.lower() in SYSTEM_DATABASES or "`" in default or len(default) > 64:
                default = "restored"
            server.grant(default)
            server.create_database(default)
        filt = DumpFilter(level, default, server.grant)  # type: ignore[arg-type]
        errors_log = server.run / "client-errors.log"
        client = server.client(found.facts.get("charset", "utf8mb4"), default, errors_log)
        assert client.stdin is not None
        with probe.open_content() as src:
            pump(src, client.stdin, total=probe.progress_total, label=f"restoring {probe.path.name}",
                 quiet=options.quiet, transform=filt.feed)
        code = client.wait()
        errors = _errors(errors_log)
        if not filt.ended:
            last = f": {errors[-1][1]}" if errors else ""
            raise SourceError(f"{probe.text}: the mariadb client stopped reading the dump at line {filt.line} "
                              f"(exit status {code}){last}")
        facts = _count(server, filt, errors, default)
        facts.update(restored_by=version, dump=_dump_facts(probe, found, digest))
    finally:
        server.stop()
    return facts


def _errors(path: Path) -> list[tuple[int, str]]:
    """The client's errors: (dump line, message)."""
    out: list[tuple[int, str]] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        m = _ERROR.match(line.strip())
        if m:
            out.append((int(m.group(2)), (f"ERROR {m.group(1)}: " if m.group(1) else "") + m.group(3)[:200]))
    return out


def _count(server: MariaDB, filt: DumpFilter, errors: list[tuple[int, str]], default: str | None) -> dict[str, Any]:
    """Compare what the dump carries with what the server holds: losses and notes."""
    by_line = {line: msg for line, msg in errors}
    reasons = {r.line: r.why for r in filt.refused}
    used: set[int] = set()
    losses: list[dict[str, str]] = []
    notes: list[str] = []
    held: dict[str, dict[str, str]] = {}

    def tables(db: str) -> dict[str, str]:
        if db not in held:
            held[db] = server.tables(db)
        return held[db]

    for (db, table), tf in sorted(filt.tables.items()):
        why = tf.refused or by_line.get(tf.line, "")
        if why:
            used.add(tf.line)
        if tables(db).get(table) not in ("BASE TABLE", "SYSTEM VERSIONED"):
            losses.append({"database": db, "table": table,
                           "what": f"table {db}.{table} (line {tf.line}) was not restored" + (f": {why}" if why else "")})
            continue
        n = server.count(db, table)
        if n != tf.rows:
            failed = [f"line {line}: {by_line[line]}" for line in tf.insert_lines if line in by_line]
            used.update(line for line in tf.insert_lines if line in by_line)
            failed += [f"line {line}: refused, {reasons.get(line, '')}" for line in tf.refused_rows]
            losses.append({"database": db, "table": table,
                           "what": f"{db}.{table}: the dump inserts {_rows(tf.rows)}, {n} were restored"
                                   + (f" ({'; '.join(failed[:3])}{' …' if len(failed) > 3 else ''})" if failed else "")})
    for (db, view), line in sorted(filt.views.items()):
        if tables(db).get(view) != "VIEW":
            used.add(line)
            notes.append(f"view {db}.{view} (line {line}) was not restored"
                         + (f": {by_line[line]}" if line in by_line else ""))
    if filt.cut is not None:
        losses.append({"database": "", "table": DUMP_END,
                       "what": f"the dump ends inside a statement at line {filt.cut}: it is cut short"})
    elif filt.completed is None and filt.preamble and filt.footer is None:
        losses.append({"database": "", "table": DUMP_END,
                       "what": f"the dump stops at line {filt.line - 1} without mysqldump's closing lines: "
                               "it is cut short"})
    elif filt.completed is None and not filt.preamble:
        notes.append("the dump has no closing line (-- Dump completed), so uttrekk cannot tell whether it is "
                      "complete; the tables and rows it holds were all restored")
    if default is not None:
        if not tables(default) and any(db != default for db, _ in filt.tables):
            server.drop_database(default)
            filt.databases.pop(default, None)
        else:
            notes.insert(0, f"the dump names no database of its own (made without --databases): restored as "
                            f"database {default}")
    notes += filt.skipped_notes()
    notes += [str(r) for r in filt.refused if r.line != filt.cut]
    if filt.definers:
        notes.append(f"{filt.definers} DEFINER clause(s) removed: the dump's views, triggers and routines belong to "
                     "the restoring account (the dump's accounts are not restored)")
    notes += [f"line {line}: {msg}" for line, msg in errors if line not in used]
    server_dbs = server.databases()
    databases = {db: server_dbs.get(db, 0) for db in filt.databases if db in server_dbs}
    return {"databases": databases, "losses": losses, "notes": notes, "default_database": default}


def _rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"


def _dump_facts(probe: Probe, found: Found, digest: str) -> dict[str, Any]:
    assert probe.path is not None
    return {"file": probe.path.name, "size": probe.size, "sha256": digest, **found.facts}


def _choose(probe: Probe, facts: dict[str, Any], options: OpenOptions) -> str:
    databases: dict[str, int] = facts.get("databases") or {}
    listed = ", ".join(f"{db} ({n} table{'s' if n != 1 else ''})" for db, n in databases.items())
    if options.database is not None:
        if options.database not in databases:
            raise SourceError(f"{probe.text}: the dump holds no database {options.database}; it holds "
                              f"{listed or 'none'}")
        return options.database
    if not databases:
        raise SourceError(f"{probe.text}: the restored dump holds no database (nothing in it was restored)")
    if len(databases) == 1:
        return next(iter(databases))
    return _several(probe, databases, listed)


def _several(probe: Probe, databases: dict[str, int], listed: str) -> str:
    with_tables = [db for db, n in databases.items() if n]
    if len(with_tables) == 1:
        return with_tables[0]
    raise SourceError(f"{probe.text}: the dump holds {len(databases)} databases: {listed}; give --database NAME "
                      "to choose one")


def _judge(probe: Probe, facts: dict[str, Any], database: str, options: OpenOptions) -> list[str]:
    """The notes for the report; ``SourceError`` naming the losses of ``database`` the profile
    does not accept (losses in the dump's other databases are notes)."""
    accepted = set(options.accept_losses)
    notes = []
    lost = []
    for loss in facts.get("losses", []):
        db, table, what = loss["database"], loss["table"], loss["what"]
        if db not in ("", database):
            notes.append(what)
        elif table in accepted or f"{db}.{table}" in accepted:
            notes.append(f"accepted by the profile: {what}")
        else:
            lost.append((table, what))
    if lost:
        names = ", ".join(f'"{t}"' for t, _ in lost[:5])
        raise SourceError(f"{probe.text}: restoring the dump lost data: " + "; ".join(w for _, w in lost[:5])
                          + (f"; and {len(lost) - 5} more" if len(lost) > 5 else "")
                          + f". Nothing was extracted. If that loss is known and accepted, name it in the profile's "
                          f"accepted losses ({names}).")
    notes += facts.get("notes", [])
    if len(notes) > SHOWN_NOTES:
        notes = notes[:SHOWN_NOTES] + [f"… and {len(notes) - SHOWN_NOTES} more restore notes (the cache entry's "
                                       "restored.json lists them all)"]
    return notes


def _connect(server: MariaDB, database: str, probe: Probe, found: Found, facts: dict[str, Any],
             notes: list[str]) -> RestoredMySQL:
    import sqlalchemy as sa

    url = sa.engine.URL.create("mysql+pymysql", username="root", password=server.password, database=database,
                               query={"unix_socket": str(server.socket), "charset": "utf8mb4"})
    dialect = RestoredMySQL.from_url(url)
    assert isinstance(dialect, RestoredMySQL)
    several = len(facts.get("databases") or {}) > 1
    dialect.label = f"{probe.text} (database {database})" if several else probe.text
    dialect._dump = probe.path
    dump = facts.get("dump", {})
    dialect.provenance = _provenance(dump, database, str(facts.get("restored_by", "")))
    dialect.provenance_text = _sentence(dump, database, str(facts.get("restored_by", "")))
    dialect.source_notes = tuple(notes)
    return dialect


def _provenance(dump: dict[str, Any], database: str, restored_by: str) -> tuple[tuple[str, str], ...]:
    pairs = [("dump_file", dump.get("file")), ("dump_size", f"{dump.get('size')} bytes"),
             ("dump_sha256", dump.get("sha256")), ("dump_format", dump.get("format")),
             ("dumped_by", " ".join(x for x in (dump.get("tool"), dump.get("tool_distribution")) if x)),
             ("dumped_from", dump.get("server_version")), ("dump_host", dump.get("host")),
             ("dump_database", database), ("restored_with", f"MariaDB {restored_by} (throwaway server run by uttrekk)")]
    return tuple((k, str(v)) for k, v in pairs if v)


def _sentence(dump: dict[str, Any], database: str, restored_by: str) -> str:
    made = f", laget med {dump['tool']} ({dump.get('tool_distribution', '')})" if dump.get("tool") else ""
    source = f" fra tjeneren {dump['server_version']}" if dump.get("server_version") else ""
    size = f"{int(dump.get('size') or 0):,}".replace(",", " ")
    return (f"Kilden er databasedumpen {dump.get('file')} ({size} byte, SHA-256 {dump.get('sha256')}){made}{source}, "
            f"databasen {database}, lest inn i MariaDB {restored_by} av uttrekk.")
