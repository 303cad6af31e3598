"""Firebird backups (gbak, ``.fbk``) and database files (``.fdb``, ``.gdb``) as SOURCE.

Recognised by their first bytes (``firebird_headers``), never by name. Opening one:

1. refuses what this machine's Firebird cannot read, naming both versions and what to install (a
   backup format or ODS newer than its own; an ODS older than it opens; InterBase), and database
   files it must not read alone (encrypted, continued in secondary files, locked by nbackup with
   its newest pages in a delta file);
2. restores the backup, or copies the database file, into uttrekk's cache under the file's
   SHA-256 (``firebird_restore``: as the unprivileged account, with an engine configuration of
   uttrekk's own, ``firebird_engine``), once per file content: ``inspect``, ``profile init`` and
   ``extract`` of one file restore it once. The original is only read;
3. stops, naming them, when the restore lost rows or tables the profile does not accept by name
   (``OpenOptions.accept_losses``);
4. reads the copy read-only through Firebird's embedded engine in uttrekk's own process
   (``firebird_engine``: no UDF or UDR, no external files, no database triggers, no other
   database, no network), with the Firebird adapter (``dialects/firebird.py``), holding the cache
   entry's lock until ``close`` so no other run removes it meanwhile.

Firebird cannot share a snapshot between connections, so ``--jobs`` above 1 is refused (as for a
Firebird URL). External tables are left out (sqlalchemy-firebird does not list them, here as through a
server URL) with a note: their rows are in a file outside the database, which neither a backup nor
a database file holds, and which the engine is not let read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Collection
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from extractor.errors import SourceError

from . import Found, OpenOptions, Probe
from .firebird_headers import Backup, DatabaseHeader, backup_header, database_header

if TYPE_CHECKING:
    from dialects.base import Dialect

    from .firebird_engine import Install

KIND = "firebird"
ENTRY = "firebird1"
"""The cache entries' engine name (``throwaway.entry_for``), with the version of what the restore and the
engine configuration do: a change to them gets new entries, not old restores."""
INSTALL_NEWER = ("install Firebird {version} or newer (firebirdsql.org){restore}, and give uttrekk the database "
                 "through that server: uttrekk extract firebird://SYSDBA@localhost//path/to/{name}")


class FirebirdFile:
    def recognise(self, probe: Probe) -> Found | None:
        if probe.path is None or not probe.head:
            return None
        backup = backup_header(probe.head)
        if backup is not None:
            made = f"; made {backup.made_iso}" + (f" of {backup.database}" if backup.database else "")
            return Found(KIND, f"a Firebird gbak backup (format {backup.format}: {backup.firebird}{made})",
                         {"file": "gbak backup", "format": backup.what, "made": backup.made_iso,
                          "made from": backup.database})
        header = database_header(probe.head)
        if header is not None:
            return Found(KIND, f"a Firebird database file (ODS {header.ods}: {header.made_by}; page size "
                               f"{header.page_size})",
                         {"file": "database file", "format": header.what, "page size": str(header.page_size)})
        return None

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        from .firebird_engine import install
        from .throwaway import server_account

        assert probe.path is not None
        backup, header = backup_header(probe.head), database_header(probe.head)
        account = server_account()
        tools = install(account)
        if backup is not None:
            refuse_backup(probe, backup, tools)
        else:
            assert header is not None
            refuse_database(probe, header, tools)
        digest = sha256(probe, options.quiet)
        stack = ExitStack()
        try:
            return _open(probe, found, options, backup, header, tools, account, digest, stack)
        except BaseException:
            stack.close()
            raise


# -- what this machine cannot read -------------------------------------------------------------------


def refuse_backup(probe: Probe, backup: Backup, tools: Install) -> None:
    if backup.format > tools.backup_format:
        raise SourceError(
            f"{probe.text}: a gbak backup of format {backup.format} ({backup.firebird}), newer than this machine's "
            f"gbak restores ({tools.name}: format {tools.backup_format} and older); "
            + INSTALL_NEWER.format(version=_newest(backup.firebird), name=_fdb(probe),
                                   restore=f", restore the backup there (gbak -c {_name(probe)} {_fdb(probe)})"))
    if backup.volume > 1:
        raise SourceError(f"{probe.text}: volume {backup.volume} of a multi-volume gbak backup; give the first "
                          "volume (gbak asks for the others in order, which uttrekk cannot do: join them by "
                          "restoring with gbak -c where they were made, then back up to one file)")


def refuse_database(probe: Probe, header: DatabaseHeader, tools: Install) -> None:
    major, minor = tools.ods
    own = f"{tools.name}, which opens ODS {major}.{minor}" + (f" and {major}.0" if minor else "")
    if not header.firebird_flag:
        raise SourceError(f"{probe.text}: an InterBase database file ({header.what}), which {own} does not read; "
                          "back it up with InterBase's own gbak (gbak -b -t file.gdb file.gbk) and give uttrekk the "
                          "backup, or export it with InterBase")
    if not tools.opens(header):
        if (header.ods_major, header.ods_minor) > (major, minor):
            raise SourceError(f"{probe.text}: a Firebird database file of {header.what}, newer than this machine's "
                              f"{own} only; " + INSTALL_NEWER.format(version=_newest(header.made_by), restore="",
                                                                     name=_name(probe)))
        raise SourceError(
            f"{probe.text}: a Firebird database file of {header.what}, older than this machine's {own} only; "
            f"back it up with the gbak of {header.made_by} (gbak -b file.fdb file.fbk) and give uttrekk the .fbk, "
            f"which this machine's gbak restores (or install {header.made_by} and read it through its server)")
    if header.encrypted:
        raise SourceError(f"{probe.text}: the database file is encrypted (Firebird database encryption); uttrekk "
                          "has neither the key nor the plugin: ask for a gbak backup made where it is opened")
    if header.nbackup_state:
        raise SourceError(f"{probe.text}: the database file is locked by nbackup (state {header.nbackup_state}): its "
                          "newest pages are in a delta file beside it, so this file alone is not the database; end "
                          "the backup lock where it lives (nbackup -N) and copy the file again, or give a gbak backup")
    if header.next_header:
        raise SourceError(f"{probe.text}: the first file of a multi-file database, which continues in secondary "
                          "files at paths of the machine it came from; give a gbak backup of the whole database")


def _name(probe: Probe) -> str:
    assert probe.path is not None
    return probe.path.name


def _fdb(probe: Probe) -> str:
    assert probe.path is not None
    return probe.path.with_suffix(".fdb").name


def _newest(made_by: str) -> str:
    """``Firebird 4.0 or 5.0`` -> ``5.0``."""
    words = made_by.replace("Firebird", "").split()
    numbers = [w for w in words if w[:1].isdigit()]
    return numbers[-1] if numbers else "5.0"


# -- restoring and opening ---------------------------------------------------------------------------


class _Sha256Sink:
    """What ``pump`` writes into to hash a file with a progress bar."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)

    def close(self) -> None:
        pass


def sha256(probe: Probe, quiet: bool) -> str:
    """SHA-256 of the file as given (the key of its cache entry), with a progress bar."""
    from .throwaway import pump

    assert probe.path is not None
    sink = _Sha256Sink()
    try:
        with probe.path.open("rb") as src:
            pump(src, sink, total=probe.size, label=f"checking {probe.path.name}", quiet=quiet)
    except OSError as exc:
        raise SourceError(f"{probe.text}: cannot be read ({exc.strerror})") from None
    return sink.digest.hexdigest()


def _open(probe: Probe, found: Found, options: OpenOptions, backup: Backup | None, header: DatabaseHeader | None,
          tools: Install, account: Any, digest: str, stack: ExitStack) -> Dialect:
    import sqlalchemy as sa

    from dialects.base import _short

    from . import throwaway
    from .firebird_engine import Engine, embedded_engine, engine_version, held, make_root, tables
    from .firebird_restore import DATABASE, copy_database, existing, restore_backup
    from .firebird_source import FirebirdFileSource

    assert probe.path is not None  # a file: open has checked

    def waiting() -> None:
        if not options.quiet:
            print(f"uttrekk: {probe.text}: another uttrekk run is restoring this file; waiting for it",
                  file=sys.stderr)

    entry = stack.enter_context(throwaway.entry_for(ENTRY, digest, waiting))
    engine = Engine(entry.path / "engine", entry.path / "db")
    if entry.complete:
        entry.touch()
        facts = entry.facts()
    else:
        try:
            throwaway.private_folder(engine.databases, account)
            engine = make_root(entry.path, engine.databases, account)
            if backup is not None:
                made = restore_backup(probe, engine, account, tools, options.quiet)
            else:
                assert header is not None
                made = copy_database(probe, header, engine, account, tools, options.quiet)
        except BaseException:
            entry.reset()  # no half-restored database kept in the cache (kill -9 leaves one: the next run removes it)
            raise
        facts = {"what": found.what, "gbak": tools.version, "notes": made.notes, "lost": made.lost,
                 "tables": made.tables, "restored": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        entry.record(facts)
    throwaway.evict(keep=entry.path)
    sa_engine = embedded_engine(engine, engine.databases / DATABASE)
    stack.callback(sa_engine.dispose)
    try:
        with sa_engine.connect() as conn:
            version = engine_version(conn)
            holds = held(conn)
            present = tables(conn)
    except sa.exc.DBAPIError as exc:
        raise SourceError(f"{probe.text}: the restored copy cannot be opened ({_short(exc)}); remove it with "
                          "'uttrekk cache clear' and try again") from None
    lost = {**existing(list(facts.get("tables", ())), present), **dict(facts.get("lost", {}))}
    notes = [*holds.notes(), *facts.get("notes", ()), *accepted(probe, lost, options.accept_losses)]
    dialect = FirebirdFileSource(sa_engine, probe.text, probe.path, stack)
    dialect.source_notes = tuple(notes)
    dialect.provenance, dialect.provenance_text = provenance(probe, backup, header, digest,
                                                             str(facts.get("gbak", tools.version)), version)
    return dialect


def accepted(probe: Probe, lost: dict[str, str], accept: Collection[str]) -> list[str]:
    """Notes for the losses the profile accepts; ``SourceError`` naming the others."""
    names = {a.casefold() for a in accept}
    refused = {t: w for t, w in lost.items() if t.casefold() not in names}
    if refused:
        raise SourceError(
            f"{probe.text}: the restore lost data, so the database is not whole: "
            + "; ".join(f"table {t}: {w}" for t, w in refused.items())
            + ". Nothing was read. If the archive may be made without it, accept the loss by naming the table(s) "
            "in the profile's accepted restore losses (docs/dumps.md)")
    return [f"the restore lost data the profile accepts: table {t}: {w}" for t, w in lost.items()]


def provenance(probe: Probe, backup: Backup | None, header: DatabaseHeader | None, digest: str, gbak: str,
               engine: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The file's origin as (key, value) pairs and as one Norwegian sentence."""
    assert probe.path is not None
    name, size = probe.path.name, probe.size
    facts: list[tuple[str, str]] = [("dump_file", name), ("dump_size", f"{size} bytes"), ("dump_sha256", digest)]
    reader = f"Firebird {engine}"
    if backup is not None:
        facts += [("dump_format", backup.what), ("dump_created", backup.made_iso), ("dumped_from", backup.database),
                  ("restored_with", f"gbak {gbak}"), ("read_with", f"{reader}, embedded")]
        origin = f" av databasen {backup.database}" if backup.database else ""
        text = (f"Kilden er Firebird-sikkerhetskopien {name} ({size} byte, SHA-256 {digest}), gbak-format "
                f"{backup.format} ({backup.firebird}), laget {backup.made_iso}{origin}; den er lest inn med gbak {gbak} "
                f"og lest med {reader} (innebygd motor).")
    else:
        assert header is not None
        facts += [("dump_format", f"database file, {header.what}"),
                  ("read_with", f"{reader}, embedded, from a copy in uttrekk's cache")]
        text = (f"Kilden er Firebird-databasefilen {name} ({size} byte, SHA-256 {digest}), ODS {header.ods} "
                f"({header.made_by}); den er lest fra en kopi med {reader} (innebygd motor).")
    if probe.wrapping:
        facts.append(("packed_as", ", ".join(probe.wrapping)))
    return tuple((k, v) for k, v in facts if v), text
