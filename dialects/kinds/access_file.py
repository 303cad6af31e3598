"""MS Access files (``.mdb`` Jet 3 and Jet 4, ``.accdb`` ACE) as SOURCE.

Recognised by the first page (``jet_header``), never by name; an encrypted or password-protected
file is refused in one line. Opening one:

1. hashes the file (SHA-256: the key of its cache entry and part of the provenance);
2. unless the cache holds it already, loads it into ``access.sqlite`` in the entry with uttrekk's own
   Jet reader (``jet_*`` modules) in a child process (``access_load``) that reads the file through a
   descriptor opened read-only here, with its memory capped (``MEMORY``) and a time limit that grows
   with the file (``seconds``): a damaged or crafted file ends in one line, never a hang or a crash;
3. stops, naming them, when fields could not be read (a complex field whose hidden table
   ``MSysComplexColumns`` does not name) and the profile does not accept their loss by name
   (``table.column``);
4. returns ``AccessSource`` (``access_source``), the SQLite adapter on that copy, which reports
   Access's own types, keys, relationships, descriptions and lookups.

Why a copy in SQLite rather than reading the file for each statement: the extract runs many
statements per table (counts, key checks, relations found from the data, dangling references), which
SQLite answers, streaming, from one faithful load; the file itself is read once per content.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.errors import SourceError

from . import Found, OpenOptions, Probe, refuse_stream
from .jet_header import JetHeader, jet_header, recognised, refusal

if TYPE_CHECKING:
    from dialects.base import Dialect

KIND = "access"
ENTRY = "access1"
"""The cache entries' engine name; raise the number when what the load writes changes."""
MEMORY = 1 << 30
"""Address space of the loading process beyond the largest value the file could hold."""


def seconds(size: int) -> float:
    """Time the load may take: two minutes, plus two seconds per MiB. The reader decodes some 20,000 to
    50,000 rows a second (measured on the test files' tables of 11 and 12 columns: 2 to 10 MiB/s), so a
    whole file is read well within it; a file that loops past the reader's own checks is not."""
    return 120.0 + 2 * size / (1 << 20)


class AccessFile:
    def recognise(self, probe: Probe) -> Found | None:
        if probe.path is None or not recognised(probe.head):
            return None
        header = jet_header(probe.head)
        if isinstance(header, str):
            return Found(KIND, f"an MS Access file ({header})")
        suffix = "; encrypted" if header.encrypted else "; protected by a password" if header.password else ""
        return Found(KIND, f"an MS Access database ({header.what}{suffix})", {"format": header.what})

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        assert probe.path is not None
        refuse_stream(probe, "an MS Access file", "an Access file in place, never from a stream: unpack it and give "
                      "the .mdb or .accdb file")
        header = jet_header(probe.head)
        if isinstance(header, str):
            raise SourceError(f"{probe.text}: {header}")
        refused = refusal(header)
        if refused:
            raise SourceError(f"{probe.text}: {refused}")
        if probe.size < 3 * header.page_size:
            raise SourceError(f"{probe.text}: an MS Access file cut short: {probe.size} bytes, less than the three "
                              f"pages of {header.page_size} bytes every Access database has")
        from .firebird_file import sha256

        digest = sha256(probe, options.quiet)
        stack = ExitStack()
        try:
            return _open(probe, header, options, digest, stack)
        except BaseException:
            stack.close()
            raise


def _open(probe: Probe, header: JetHeader, options: OpenOptions, digest: str, stack: ExitStack) -> Dialect:
    from . import throwaway
    from .access_source import AccessSource

    assert probe.path is not None

    def waiting() -> None:
        if not options.quiet:
            print(f"uttrekk: {probe.text}: another uttrekk run is reading this file; waiting for it", file=sys.stderr)

    entry = stack.enter_context(throwaway.entry_for(ENTRY, digest, waiting))
    if entry.complete:
        entry.touch()
    else:
        try:
            started = dt.datetime.now(dt.UTC)
            _load(probe, entry.path)
            entry.record({"file": probe.path.name, "size": probe.size, "sha256": digest, "format": header.what,
                          "loaded": started.isoformat(timespec="seconds")})
        except BaseException:
            entry.reset()
            raise
    throwaway.evict(keep=entry.path)
    schema = json.loads((entry.path / "schema.json").read_text(encoding="utf-8"))
    notes = [*schema.get("notes", ()), *accepted_losses(probe, schema.get("lost", {}), options.accept_losses)]
    if schema.get("system_tables"):
        notes.append(f"system tables left out: {', '.join(schema['system_tables'])}")
    source = AccessSource.open_copy(entry.path / "access.sqlite", probe, schema, stack)
    source.source_notes = tuple(notes)
    source.provenance, source.provenance_text = provenance(probe, schema, digest, entry.facts())
    return source


def _load(probe: Probe, folder: Path) -> None:
    """Run ``access_load`` on the file (opened read-only here, never for writing) into ``folder``."""
    from . import throwaway

    assert probe.path is not None
    me = throwaway.Account("uttrekk", os.geteuid(), os.getegid())
    limit = MEMORY + 2 * probe.size
    log = folder / "load.log"
    root = str(Path(__file__).resolve().parents[2])
    try:
        source = open(probe.path, "rb")  # noqa: SIM115 - closed below, after the child ends
    except OSError as exc:
        raise SourceError(f"{probe.text}: cannot be read ({exc.strerror})") from None
    with source, log.open("wb") as err:
        proc = throwaway.run_as(me, [sys.executable, "-m", "dialects.kinds.access_load", str(folder), str(limit)],
                                stdin=source, stderr=err, cwd=folder,
                                env={"PYTHONPATH": root, "PYTHONDONTWRITEBYTECODE": "1"})
        try:
            code = proc.wait(timeout=seconds(probe.size))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise SourceError(f"{probe.text}: reading the Access file took longer than {seconds(probe.size):.0f} s "
                              "and was stopped: the file is damaged (its pages may point in a circle)") from None
    said = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if code != 0:
        reason = said[-1] if said and code in (2, 3) else f"the reader failed (exit status {code})" + (
            f": {said[-1]}" if said else "")
        raise SourceError(f"{probe.text}: cannot be read as an MS Access file: {reason}")


def accepted_losses(probe: Probe, lost: dict[str, str], accept: Any) -> list[str]:
    """Notes for the unread fields the profile accepts by name; ``SourceError`` naming the others."""
    names = {a.casefold() for a in accept}
    refused = {k: v for k, v in lost.items() if k.casefold() not in names}
    if refused:
        raise SourceError(f"{probe.text}: fields uttrekk cannot read: "
                          + "; ".join(f"{k}: {v}" for k, v in refused.items())
                          + ". Nothing was extracted. To extract the rest, accept the loss by naming each field "
                          "(table.column) in the profile's [source] accept_losses (docs/dumps.md)")
    return [f"a field left out, as the profile accepts: {k}: {v}" for k, v in lost.items()]


def provenance(probe: Probe, schema: dict[str, Any], digest: str,
               facts: dict[str, Any]) -> tuple[tuple[tuple[str, str], ...], str]:
    assert probe.path is not None
    name, size = probe.path.name, probe.size
    pairs = [("dump_file", name), ("dump_size", f"{size} bytes"), ("dump_sha256", digest),
             ("dump_format", f"MS Access database, {schema.get('format', '')}"),
             ("read_with", f"{schema.get('reader', '')}, into a SQLite copy in uttrekk's cache"),
             ("restored_at", str(facts.get("loaded", "")))]
    text = (f"Kilden er MS Access-databasen {name} ({size} byte, SHA-256 {digest}), {schema.get('format', '')}; "
            f"den er lest med uttrekks egen Jet-leser ({schema.get('reader', '')}) til en SQLite-kopi.")
    return tuple((k, v) for k, v in pairs if v), text
