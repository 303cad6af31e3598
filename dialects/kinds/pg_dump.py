"""PostgreSQL dumps as SOURCE: pg_dump's custom, tar, directory and plain formats, and pg_dumpall.

Recognised by content: a custom archive starts with ``PGDMP`` (its header gives the archive
format and the pg_dump and server versions, ``pg_archive``); a tar archive's first member is
``toc.dat``; a directory archive is a folder holding ``toc.dat``; a plain dump starts with
``-- PostgreSQL database dump`` (``-- PostgreSQL database cluster dump`` for pg_dumpall), with the
versions in its ``-- Dumped from/by`` lines (``pg_plain``).

Opening one restores it, once per dump content, into a throwaway server in uttrekk's cache
(``throwaway.entry_for``, keyed by the dump's SHA-256 and the PostgreSQL major that restores it):
``pg_server`` makes the cluster and its harmless role, ``pg_restore_run`` restores an archive with
``pg_restore``, ``pg_script`` a plain dump statement by statement (never through psql), and
``pg_losses`` compares what the dump holds with what was restored. The entry records what the
restore found (``restored.json``); every later run starts the server from it, read-only, and reads
the restored database with the ordinary PostgreSQL adapter (``RestoredPostgreSQL``), whose
``close`` stops the server. A dump holding several databases (pg_dumpall, or a plain dump that
creates and connects to its own) is read one database at a time: the only one with tables, or
the one ``--database`` names.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from extractor.errors import SourceError

from . import Found, OpenOptions, Probe, throwaway
from .pg_archive import CUSTOM, MAGIC, TAR_BLOCK, Archive, Damaged, Header, read_archive, read_header, tar_member
from .pg_plain import plain_header

if TYPE_CHECKING:
    from dialects.base import Dialect

    from .pg_server import Cluster

FORMAT_WORDS = {"custom": "custom-format archive", "tar": "tar-format archive", "directory": "directory-format archive",
                "plain": "plain SQL dump", "plain (pg_dumpall)": "plain SQL dump of a whole cluster (pg_dumpall)"}
FORMAT_NO = {"custom": "en pg_dump-arkivfil i custom-format", "tar": "en pg_dump-arkivfil i tar-format",
             "directory": "en pg_dump-arkivmappe i directory-format", "plain": "en SQL-dump i klartekst fra pg_dump",
             "plain (pg_dumpall)": "en SQL-dump i klartekst av en hel databaseklynge (pg_dumpall)"}
SAFE_NAME = re.compile(r"[A-Za-z0-9_]{1,63}")
RESERVED = {"postgres", "template0", "template1"}
HASH_BAR = 256 << 20
"""Dumps from this size get a progress bar while their SHA-256 is computed."""


class PgDump:
    def recognise(self, probe: Probe) -> Found | None:
        try:
            return _recognise(probe)
        except Exception:  # another kind's input, or a damaged header: not ours to judge here
            return None

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        from .pg_server import binaries

        fmt = found.facts.get("format", "")
        if fmt == "toc.dat":
            raise SourceError(f"{probe.text}: this is the toc.dat of a pg_dump directory-format archive; give the folder "
                              "that holds it (with its data files) as SOURCE")
        if found.facts.get("damaged"):
            raise SourceError(f"{probe.text}: a pg_dump {FORMAT_WORDS[fmt]}, but its header cannot be read "
                              f"({found.facts['damaged']}): the file is damaged or cut short at its start")
        tools = binaries()
        archive = None
        if fmt in ("custom", "tar", "directory"):
            from .pg_restore_run import too_new

            error = too_new(_header(probe, fmt), tools.version, tools.major)  # before the TOC, whose layout it sets
            if error is not None:
                raise SourceError(f"{probe.text}: {error}")
            archive = _archive(probe, fmt)
        digest = _digest(probe, options.quiet)
        stack = ExitStack()
        try:
            entry = stack.enter_context(throwaway.entry_for(f"postgresql{tools.major}", digest, wait=_waiting))
            cached = entry.complete
            if not cached:
                _restore(entry, probe, found, archive, tools, digest, options)
            from .pg_server import Cluster

            cluster = Cluster(entry.path / "server", tools)
            stack.callback(cluster.stop)
            try:
                cluster.start()
            except SourceError:
                if not cached:
                    raise
                cluster.stop()  # a cached copy that no longer starts (damaged on disk): restored again
                entry.reset()
                _restore(entry, probe, found, archive, tools, digest, options)
                cluster.start()
            entry.touch()
            return _dialect(probe, found, entry.facts(), cluster, options, stack)
        except BaseException:
            stack.close()
            raise


# -- recognising -------------------------------------------------------------------------------------


def _short_version(version: str) -> str:
    return version.split()[0] if version else "?"


def _recognise(probe: Probe) -> Found | None:
    if probe.path is not None and probe.path.is_dir():
        if "toc.dat" not in probe.names:
            return None
        try:
            with (probe.path / "toc.dat").open("rb") as fh:
                return _archive_found("directory", read_header(fh))
        except (OSError, Damaged) as exc:
            return _damaged("directory", exc)
    head = probe.head
    if head.startswith(MAGIC):
        try:
            header = read_header(io.BytesIO(head))
        except Damaged as exc:
            return _damaged("custom", exc)
        if header.format_byte != CUSTOM:
            return Found("pg_dump", "the toc.dat of a pg_dump directory-format archive (without its folder)",
                         {"format": "toc.dat"})
        return _archive_found("custom", header)
    member = tar_member(head)
    if member is not None and member[0] == "toc.dat" and head[TAR_BLOCK:TAR_BLOCK + 5] == MAGIC:
        try:
            return _archive_found("tar", read_header(io.BytesIO(head[TAR_BLOCK:])))
        except Damaged as exc:
            return _damaged("tar", exc)
    facts = plain_header(head)
    if facts is None:
        return None
    tool = f"{facts['tool']} {_short_version(facts.get('tool_version', ''))}".replace(" ?", "")
    what = f"a {FORMAT_WORDS[facts['format']]} ({tool}"
    if facts.get("server_version"):
        what += f", from PostgreSQL {_short_version(facts['server_version'])}"
    what += ")"
    if facts.get("databases"):
        what += f" holding the databases {facts['databases']}"
    return Found("pg_dump", what, facts)


def _damaged(fmt: str, exc: BaseException) -> Found:
    return Found("pg_dump", f"a pg_dump {FORMAT_WORDS[fmt]} whose header cannot be read ({exc})",
                 {"format": fmt, "damaged": str(exc)})


def _archive_found(fmt: str, header: Any) -> Found:
    facts = {"format": fmt, "archive_version": header.archive_version, "tool": "pg_dump",
             "tool_version": header.dump_version, "server_version": header.server_version,
             "database": header.dbname, "created": header.created, "compression": header.compression}
    what = (f"a pg_dump {FORMAT_WORDS[fmt]} (pg_dump {_short_version(header.dump_version)}, archive format "
            f"{header.archive_version})" + (f" of the database {header.dbname}" if header.dbname else ""))
    return Found("pg_dump", what, {k: v for k, v in facts.items() if v})


def _header(probe: Probe, fmt: str) -> Header:
    if fmt == "directory":
        assert probe.path is not None
        with (probe.path / "toc.dat").open("rb") as fh:
            return read_header(fh)
    return read_header(io.BytesIO(probe.head[TAR_BLOCK:] if fmt == "tar" else probe.head))


def _archive(probe: Probe, fmt: str) -> Archive:
    """The header and TOC, read before anything runs (a damaged one is one clear error)."""
    try:
        if fmt == "directory":
            assert probe.path is not None
            with (probe.path / "toc.dat").open("rb") as fh:
                return read_archive(fh)
        with probe.open_content() as fh:
            if fmt == "tar":
                fh.read(TAR_BLOCK)
            return read_archive(fh)
    except Damaged as exc:
        raise SourceError(f"{probe.text}: the pg_dump archive's table of contents cannot be read: {exc}") from None
    except OSError as exc:
        raise SourceError(f"{probe.text}: cannot be read ({exc.strerror or exc})") from None


def _digest(probe: Probe, quiet: bool) -> str:
    assert probe.path is not None
    if quiet or probe.size < HASH_BAR or not sys.stderr.isatty():
        return throwaway.sha256_of(probe.path)
    from tqdm import tqdm

    with tqdm(total=probe.size, desc=f"checking {probe.path.name}", unit="B", unit_scale=True, leave=False,
              file=sys.stderr) as bar:
        return throwaway.sha256_of(probe.path, bar.update)


def _waiting() -> None:
    print("uttrekk: another run is restoring this dump; waiting for it", file=sys.stderr)


# -- restoring --------------------------------------------------------------------------------------------


def _restore(entry: throwaway.Entry, probe: Probe, found: Found, archive: Archive | None, tools: Any, digest: str,
             options: OpenOptions) -> None:
    """Restore into the (empty) cache entry and record what the restore found; the entry is
    whole only when this returns (a run killed before leaves it to be removed by the next)."""
    from .pg_server import Cluster

    assert probe.path is not None
    cluster = Cluster(entry.path / "server", tools)
    started = time.monotonic()
    cluster.create()
    cluster.start(restoring=True)
    try:
        if archive is None:
            notes, losses, databases = _restore_plain(cluster, probe, options)
        else:
            from .pg_restore_run import restore

            name = archive.header.dbname if SAFE_NAME.fullmatch(archive.header.dbname or "") else "restored"
            if name in RESERVED:
                name = "restored"
            notes, losses = restore(cluster, probe, found.facts["format"], archive, name, options.quiet,
                                    entry.path / "input")
            databases = [name]
        counts = {db: _tables(cluster, db) for db in databases}
        for db, n in counts.items():
            if n > 0:
                _analyze(cluster, db)
    finally:
        cluster.stop()
    cluster.sync()
    entry.record({
        "format": found.facts.get("format", ""), "facts": found.facts, "sha256": digest, "size": probe.size,
        "file": probe.path.name, "wrapping": list(probe.wrapping),
        "restored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "restore_seconds": round(time.monotonic() - started, 1), "restored_with": tools.version,
        "databases": counts, "notes": notes, "losses": [loss.as_dict() for loss in losses],
    })
    throwaway.evict(keep=entry.path)


def _restore_plain(cluster: Cluster, probe: Probe, options: OpenOptions) -> tuple[list[str], list[Any], list[str]]:
    from .pg_losses import CUT_SHORT, Loss, check_tables, grouped, skipped_note
    from .pg_script import ScriptRestore

    assert probe.path is not None
    sink = ScriptRestore(cluster.pq_connect, "postgres")
    with probe.open_content() as src:
        throwaway.pump(src, sink, total=probe.progress_total, label=f"restoring {probe.path.name}",
                       quiet=options.quiet)
    out = sink.out
    notes = list(out.notes) + grouped(out.failures)
    kinds = {"owner": "owner statements (ALTER … OWNER TO, SET SESSION AUTHORIZATION)",
             "privileges": "privilege statements (GRANT, REVOKE)",
             "cluster": "role and tablespace statements (cluster objects, not data)", "tablespace": "tablespace settings"}
    skipped = skipped_note([f"{out.skipped[k]} {text}" for k, text in kinds.items() if out.skipped.get(k)], out.owners)
    if skipped:
        notes.append(skipped)
    losses: list[Any] = []
    if out.cut:
        losses.append(Loss(CUT_SHORT, "", out.cut))
    by_db: dict[str, dict[tuple[str, str], tuple[int | None, str]]] = {}
    for (db, schema, table), expect in out.expected.items():
        by_db.setdefault(db, {})[(schema, table)] = (expect.rows, expect.why)
    for db, tables in by_db.items():
        try:
            with cluster.connect(db) as conn:
                losses += check_tables(conn, db, tables)
        except Exception as exc:  # the database itself is missing (its CREATE DATABASE or \connect failed)
            for (schema, table), (_, why) in tables.items():
                losses.append(Loss(f"{schema}.{table}", db, f"table {schema}.{table} was not restored: its database "
                                                             f"{db} could not be reached ({_first_line(exc)})"
                                   + (f"; {why}" if why else "")))
    return notes, losses, list(out.databases)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[-1]


def _tables(cluster: Cluster, database: str) -> int:
    """Tables (not the catalogue's) in one restored database; -1 when it cannot be reached."""
    try:
        with cluster.connect(database) as conn:
            return int(conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
                "('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'").fetchone()[0])
    except Exception:
        return -1


def _analyze(cluster: Cluster, database: str) -> None:
    """Planner statistics for the restored tables (pg_restore makes none, and the throwaway server
    runs no autovacuum), so the key and relation checks get sensible plans."""
    try:
        with cluster.connect(database) as conn:
            conn.execute("SET client_min_messages = error")  # catalogues the role does not own are skipped
            conn.execute("ANALYZE")
    except Exception:  # statistics only make reading faster; a database that refuses them is read all the same
        pass


# -- opening the restored database ---------------------------------------------------------------------------


def _dialect(probe: Probe, found: Found, facts: dict[str, Any], cluster: Cluster, options: OpenOptions,
             stack: ExitStack) -> Dialect:
    import sqlalchemy as sa

    from .pg_losses import from_dict

    assert probe.path is not None
    databases: dict[str, int] = {k: int(v) for k, v in (facts.get("databases") or {}).items()}
    name = probe.path.name
    database = _choose(name, databases, options.database)
    several = len([d for d, n in databases.items() if n > 0]) > 1
    label = f"{name} (database {database})" if several else name
    losses = [from_dict(d) for d in facts.get("losses") or ()]
    here = [loss for loss in losses if loss.database in ("", database)]
    wanting = [loss for loss in here if not loss.accepted_by(options.accept_losses)]
    if wanting:
        raise SourceError(f"{label}: the restore lost data, so an extract would not be whole: "
                          + "; ".join(loss.what for loss in wanting)
                          + ". If the depot accepts this, name each loss in the profile's accept_losses "
                          f"({', '.join(repr(loss.key) for loss in wanting)})")
    notes = [f"restore: {n}" for n in facts.get("notes") or ()]
    notes += [f"restore: accepted loss (accept_losses names {loss.key!r}): {loss.what}"
              for loss in here if loss not in wanting]
    notes += [f"restore: database {loss.database} (not read): {loss.what}" for loss in losses if loss not in here]
    from .pg_restored import RestoredPostgreSQL

    url = cluster.url(database)
    provenance, text = _provenance(facts, database, len(notes))
    return RestoredPostgreSQL(sa.create_engine(url), label, dump=probe.path, stack=stack, notes=tuple(notes),
                              worker_source=url.render_as_string(hide_password=False), provenance=provenance,
                              provenance_text=text)


def _choose(name: str, databases: dict[str, int], wanted: str | None) -> str:
    from dialects.locate import counted

    filled = {d: n for d, n in databases.items() if n > 0}
    if wanted is not None:
        if wanted in databases:
            return wanted
        raise SourceError(f"{name} holds no database {wanted!r}; its databases: "
                          f"{counted(dict(filled or databases)) or 'none'}")
    if len(filled) == 1:
        return next(iter(filled))
    if len(filled) > 1:
        raise SourceError(f"{name} holds several databases: {counted(dict(filled))}; choose one with --database NAME")
    return next(iter(databases), "postgres")


def _provenance(facts: dict[str, Any], database: str, notes: int) -> tuple[tuple[tuple[str, str], ...], str]:
    header = facts.get("facts") or {}
    fmt = str(facts.get("format", ""))
    wrapping = [str(w) for w in facts.get("wrapping") or ()]
    tool = f"{header.get('tool', 'pg_dump')} {header.get('tool_version', '')}".strip()
    described = fmt + (f", archive format {header['archive_version']}" if header.get("archive_version") else "")
    if wrapping:
        described += " (inside " + ", ".join(wrapping) + ")"
    rows = [("dump_file", str(facts.get("file", ""))), ("dump_size", f"{facts.get('size', 0)} bytes"),
            ("dump_sha256", str(facts.get("sha256", ""))), ("dump_format", f"pg_dump {described}"),
            ("dumped_by", tool)]
    if header.get("server_version"):
        rows.append(("dumped_from", f"PostgreSQL {header['server_version']}"))
    if header.get("created"):
        rows.append(("dump_created", str(header["created"])))
    rows += [("dump_database", database), ("restored_with", f"PostgreSQL {facts.get('restored_with', '')}"),
             ("restored_at", str(facts.get("restored_at", ""))), ("restore_notes", str(notes))]
    size = f"{int(facts.get('size', 0)):,}".replace(",", " ")
    text = (f"Uttrekket er laget fra dumpfila {facts.get('file', '')} ({size} byte, SHA-256 {facts.get('sha256', '')}), "
            f"{FORMAT_NO.get(fmt, 'en PostgreSQL-dump')}"
            + (f" (arkivformat {header['archive_version']})" if header.get("archive_version") else "")
            + (" pakket som " + ", ".join(wrapping) if wrapping else "")
            + f", laget med {header.get('tool', 'pg_dump')} {_short_version(str(header.get('tool_version', '')))}".rstrip()
            + (f" fra PostgreSQL {_short_version(header['server_version'])}" if header.get("server_version") else "")
            + f"; databasen {database} ble lest inn av uttrekk i PostgreSQL {_short_version(str(facts.get('restored_with', '')))}"
            + (f" med {notes} merknader (se rapporten)" if notes else " uten merknader") + ".")
    return tuple(rows), text
