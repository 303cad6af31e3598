"""A Firebird file made into the database uttrekk reads: a gbak backup restored, a database file copied.

Both run as the server account with the cache entry's own engine (``firebird_engine``) and leave
``DATABASE`` in the entry's database folder, read-only.

A **backup** is fed through ``throwaway.pump`` into ``gbak -c … stdin`` (so a compressed or packed
backup is restored without unpacking it to disk, with a progress bar of the bytes gbak read), with
``-one_at_a_time`` (a table whose rows fail goes on without them instead of ending the restore),
``-kill`` (no shadow files: their paths come from the backup) and ``-mode read_only``. gbak's
verbose log says what was lost (``lost``): rows it could not store (``restore failed for record in
table T``, ``N records ignored``) and tables it could not create (``error committing metadata for
table T``), each with gbak's own error lines; anything else it complained about (an index it could
not activate, a view, a grant) loses no rows and becomes a note.

A **database file** is copied (never opened where it lies), validated (``gfix -validate -full
-no_update``: about as fast as reading the file; errors stop the run, warnings become notes),
brought online when it was shut down, and set read-only (``gfix -mode read_only``). gfix runs no
database triggers.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extractor.errors import SourceError

from .firebird_engine import Engine, Install, run_tool
from .throwaway import Account, pump

if TYPE_CHECKING:
    from . import Probe
    from .firebird_headers import DatabaseHeader

DATABASE = "database.fdb"
LOG = "restore.log"


@dataclass
class Restored:
    """What making the database had to say."""

    notes: list[str] = field(default_factory=list)
    lost: dict[str, str] = field(default_factory=dict)
    """Table (as the backup names it) -> what of it was lost, with gbak's errors."""
    tables: list[str] = field(default_factory=list)
    """The tables gbak restored the definition of, to check that each is there."""


def restore_backup(probe: Probe, engine: Engine, account: Account, tools: Install, quiet: bool) -> Restored:
    """``gbak -c`` of the backup into ``DATABASE``; ``SourceError`` when gbak fails."""
    assert probe.path is not None
    database = engine.databases / DATABASE
    log_path = engine.databases.parent / LOG
    argv = [tools.gbak, "-create_database", "-verbose", "-one_at_a_time", "-kill", "-mode", "read_only",
            "stdin", str(database)]
    with log_path.open("wb") as log:
        proc = run_tool(engine, account, argv, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert proc.stdin is not None
            with probe.open_content() as src:
                pump(src, proc.stdin, total=probe.progress_total, label=f"restoring {probe.path.name}", quiet=quiet)
            status = proc.wait()
        except (OSError, EOFError) as exc:
            raise SourceError(f"{probe.text}: cannot be read to the end ({exc})") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    if status != 0:
        raise SourceError(f"{probe.text}: gbak could not restore the backup: {_failure(text)}")
    return read_log(text)


def _failure(log: str) -> str:
    """gbak's own words for why it stopped (a cut backup ends with ``Backup incomplete``)."""
    errors = list(dict.fromkeys(line.split("ERROR:", 1)[1].strip() for line in log.splitlines() if "ERROR:" in line))
    if "Done with volume" in log or any("Backup incomplete" in e or "unexpected end of file" in e for e in errors):
        return ("the backup ends early: it was cut short (an incomplete copy or download), or it is the first "
                "volume of a multi-volume backup, whose other volumes are needed too")
    if any(errors):
        return "; ".join(e for e in errors if e)
    said = log.strip().splitlines()
    return said[-1] if said else "it said nothing"


_DATA = re.compile(r"restoring data for table (.+)$")
_RECORD_FAILED = re.compile(r"restore failed for record in table (.+)$")
_METADATA_FAILED = re.compile(r"error committing metadata for table (.+)$")
_NOT_DEFINED = re.compile(r"table (.+) is not defined$")
_IGNORED = re.compile(r"^\s*(\d+) records? ignored")
_TABLE = re.compile(r"restoring table (.+)$")


def read_log(log: str) -> Restored:
    """What gbak's verbose log says was restored and lost (see the module docstring)."""
    out = Restored()
    rows: dict[str, int] = defaultdict(int)
    gone: set[str] = set()
    errors: dict[str, list[str]] = defaultdict(list)
    table, last = "", ""
    for raw in log.splitlines():
        if not raw.startswith("gbak:"):
            continue  # the BLR gbak prints with some errors
        line = raw[5:]
        if line.lstrip().startswith("ERROR:"):
            message = line.split("ERROR:", 1)[1].strip()
            named = _NOT_DEFINED.search(message)
            if named:
                table = named.group(1)
            if table:
                errors[table].append(message)
            elif message:
                out.notes.append(f"gbak: {last.strip()}: {message}" if last else f"gbak: {message}")
            continue
        if line.lstrip().startswith("WARNING:"):
            out.notes.append("gbak: " + line.split("WARNING:", 1)[1].strip())
            continue
        last = line
        if found := _TABLE.search(line):
            out.tables.append(found.group(1))
            table = ""
        elif found := _DATA.search(line):
            table = found.group(1)
        elif found := _RECORD_FAILED.search(line):
            table = found.group(1)
            rows[table] += 1
        elif found := _METADATA_FAILED.search(line):
            table = found.group(1)
            gone.add(table)
        elif found := _IGNORED.search(line):
            if table:
                rows[table] += int(found.group(1))
        elif "records restored" not in line and not line.startswith("committing"):
            table = ""
    for name in sorted(gone | set(rows)):
        what = "table not restored" if name in gone else ""
        if rows.get(name):
            what = "; ".join(filter(None, (what, f"{rows[name]} record(s) not restored")))
        reasons = "; ".join(dict.fromkeys(errors.get(name, ())))
        out.lost[name] = f"{what} ({reasons})" if reasons else what
    for name, messages in errors.items():
        if name not in out.lost:
            out.notes.append(f"gbak: table {name}: " + "; ".join(dict.fromkeys(messages)))
    return out


def copy_database(probe: Probe, header: DatabaseHeader, engine: Engine, account: Account, tools: Install,
                  quiet: bool) -> Restored:
    """Copy the database file into ``DATABASE``, validate it, bring it online, set it read-only."""
    assert probe.path is not None
    database = engine.databases / DATABASE
    try:
        with probe.open_content() as src:
            pump(src, database.open("wb"), total=probe.progress_total, label=f"copying {probe.path.name}", quiet=quiet)
    except (OSError, EOFError) as exc:
        raise SourceError(f"{probe.text}: cannot be copied ({exc})") from None
    os.chmod(database, 0o600)
    if not account.is_self:
        os.chown(database, account.uid, account.gid)
    out = Restored()
    if header.shutdown:
        _gfix(probe, engine, account, tools, ["-online", "normal"], "bring the copy online")
        out.notes.append(f"the file was shut down ({header.shutdown} shutdown); its copy was brought online to be read")
    report = _gfix(probe, engine, account, tools, ["-validate", "-full", "-no_update"], "validate the copy")
    problems = dict((what.strip(), int(n)) for what, n in re.findall(r"Number of (.+?)\s*:\s*(\d+)", report))
    damaged = {what: n for what, n in problems.items() if "error" in what and n}
    if damaged:
        raise SourceError(f"{probe.text}: the database file is damaged (gfix -validate found "
                          + ", ".join(f"{n} {what}" for what, n in damaged.items())
                          + "); ask for a new copy, or a gbak backup made where the database lives")
    if problems:
        out.notes.append("gfix -validate found no errors, but " + ", ".join(f"{n} {w}" for w, n in problems.items() if n))
    if not header.read_only:
        _gfix(probe, engine, account, tools, ["-mode", "read_only"], "set the copy read-only")
    return out


def _gfix(probe: Probe, engine: Engine, account: Account, tools: Install, args: list[str], what: str) -> str:
    """Run gfix on the copy; its output, or ``SourceError`` with it when gfix fails."""
    proc = run_tool(engine, account, [tools.gfix, *args, str(engine.databases / DATABASE)],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = _communicate(proc).replace(str(engine.databases / DATABASE), "the copy")
    if proc.returncode != 0:
        said = " ".join(out.split()) or f"exit status {proc.returncode}"
        cut = " (the file is cut short)" if "less than expected" in out else ""
        raise SourceError(f"{probe.text}: gfix could not {what}{cut}: {said}")
    return out


def _communicate(proc: subprocess.Popen[bytes]) -> str:
    try:
        return proc.communicate()[0].decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def existing(tables: list[str], present: set[str]) -> dict[str, str]:
    """Tables gbak restored the definition of that are not in the database (a safety net under ``read_log``)."""
    return {t: "table not restored" for t in tables if t not in present}

