"""SIARD files (``.siard``: SIARD 1.0, 2.0, 2.1, 2.2, as SIARD Suite, DBPTK and others write them) as SOURCE.

Recognised by content: a ZIP archive (never by name) whose members include ``header/metadata.xml``
(the probe lists a zip's members, checking each, ``wrapped``). Opening one:

1. reads the ZIP directory with every member checked and ``header/metadata.xml`` parsed safely
   (``extractor.siard``, the format knowledge ``uttrekk validate`` shares), and hashes the file
   (SHA-256: the key of its cache entry and part of the provenance);
2. unless the cache holds it already, loads every table into ``siard.sqlite`` in the entry
   (``siard_load``), each table file streamed and validated against its own XSD, each LOB read
   from the archive or from outside it and checked against its length and digest;
3. stops, listing them by table, row and column, when the file does not match its own metadata
   (row counts, a LOB missing or damaged, a table file not valid against its XSD, a cell no column
   describes) and the profile's ``[source] accept_losses`` does not name each (``TABLE`` or
   ``TABLE.COLUMN``): a SIARD file is never read silently wrong;
4. returns ``SiardSource`` (``siard_source``), the SQLite adapter on that copy.

The provenance (SIARD version, producerApplication, dbname, dataOwner, dataOriginTimespan,
archivalDate, the file's SHA-256) goes to the report, the extraction log and the dataset's
description, with the archive's and each schema's description and the views it describes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from extractor.errors import SourceError

from . import Found, OpenOptions, Probe, refuse_stream

if TYPE_CHECKING:
    from pathlib import Path

    from dialects.base import Dialect
    from extractor.siard.archive import SiardZip
    from extractor.siard.metadata import Archive

KIND = "siard"
ENTRY = "siard3"
"""The cache entries' engine name; raise the number when what the load writes changes."""
DB_FILE = "siard.sqlite"
SHOWN = 25
"""Problems listed in the error that stops the run."""


class SiardFile:
    def recognise(self, probe: Probe) -> Found | None:
        if probe.path is None or "header/metadata.xml" not in probe.members or not probe.head.startswith(b"PK"):
            return None
        return Found(KIND, "a SIARD archive", {"format": "SIARD"})

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        from extractor.siard.archive import SiardZip
        from extractor.siard.metadata import MAX_METADATA_BYTES, parse_metadata

        from .firebird_file import sha256

        assert probe.path is not None
        refuse_stream(probe, "a SIARD file", "a SIARD file in place, with its LOB folders beside it: unpack the outer "
                      "archive and give the .siard file")
        stack = ExitStack()
        try:
            archive = stack.enter_context(SiardZip(probe.path))
            archive.label = probe.text
            if not archive.has("header/metadata.xml"):
                raise SourceError(f"{probe.text}: a ZIP archive without header/metadata.xml: not a SIARD file")
            meta = parse_metadata(archive.read_small("header/metadata.xml", MAX_METADATA_BYTES))
            digest = sha256(probe, options.quiet)
            return _open(probe, archive, meta, digest, options, stack)
        except BaseException:
            stack.close()
            raise


def _open(probe: Probe, archive: SiardZip, meta: Archive, digest: str, options: OpenOptions,
          stack: ExitStack) -> Dialect:
    from . import throwaway
    from .siard_load import load
    from .siard_source import SiardSource

    assert probe.path is not None

    def waiting() -> None:
        if not options.quiet:
            print(f"uttrekk: {probe.text}: another uttrekk run is reading this file; waiting for it", file=sys.stderr)

    entry = stack.enter_context(throwaway.entry_for(ENTRY, digest, waiting))
    if entry.complete and changed_outside(entry.path, probe.path):
        entry.reset()  # a LOB file outside the SIARD file changed, appeared or went: read it all again
    if entry.complete:
        entry.touch()
    else:
        try:
            started = dt.datetime.now(dt.UTC)
            facts = load(probe.path, archive, meta, entry.path / DB_FILE, options.quiet)
            facts["located"] = str(probe.path.resolve().parent)
            (entry.path / "schema.json").write_text(json.dumps(facts, indent=1, ensure_ascii=False), encoding="utf-8")
            entry.record({"file": probe.path.name, "size": probe.size, "sha256": digest, "format": f"SIARD {meta.version}",
                          "loaded": started.isoformat(timespec="seconds")})
        except BaseException:
            entry.reset()
            raise
    archive.close()
    throwaway.evict(keep=entry.path)
    facts = json.loads((entry.path / "schema.json").read_text(encoding="utf-8"))
    notes = [*accepted(probe, facts, options.accept_losses), *view_notes(facts)]
    notes += [f"column {t['name']}.{c['name']}: SIARD type {c['native_type']} is none uttrekk knows; its values are "
              "archived as text" for t in facts["tables"] for c in t["columns"] if c.get("unknown_type")]
    notes += [f"table {t['name']}: foreign key {f['name']} refers to {f['ref_schema']}.{f['ref_table']}, which the "
              "SIARD file does not hold; it is not carried over" for t in facts["tables"] for f in t["foreign_keys"]
              if not f.get("found")]
    source = SiardSource.open_copy(entry.path / DB_FILE, probe, facts, stack)
    source.source_notes = tuple(notes)
    source.provenance, source.provenance_text = provenance(probe, facts, digest, entry.facts())
    return source


def changed_outside(folder: Path, siard: Path) -> bool:
    """Whether a LOB file outside the SIARD file is not as the cached copy read it: the copy's key is the
    SIARD file's SHA-256, which says nothing of files beside it, nor of where the file now lies (a copy of
    it elsewhere finds its LOB files elsewhere)."""
    from pathlib import Path

    from extractor.siard.rows import stamp

    try:
        facts = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    outside = facts.get("outside", {})
    if outside and facts.get("located") != str(siard.resolve().parent):
        return True
    return any(stamp(Path(p)) != seen for p, seen in outside.items())


def accepted(probe: Probe, facts: dict[str, Any], accept: Any) -> list[str]:
    """Notes for the problems the profile accepts by name; ``SourceError`` listing the others."""
    counts: dict[str, int] = facts.get("problem_counts", {})
    if not counts:
        return []
    names = {a.casefold() for a in accept}

    def ok(key: str) -> bool:
        return key.casefold() in names or key.partition(".")[0].casefold() in names

    refused = {k: n for k, n in counts.items() if not ok(k)}
    listed = [p["text"] for p in facts.get("problems", ())]
    if refused:
        shown = [t for p, t in zip(facts["problems"], listed, strict=True)
                 if not ok(f"{p['table']}.{p['column']}" if p["column"] else p["table"])][:SHOWN]
        total = sum(refused.values())
        raise SourceError(f"{probe.text}: the SIARD file does not match its own metadata in {total} place(s) ("
                          + ", ".join(f"{k}: {n}" for k, n in sorted(refused.items())) + "):\n"
                          + "\n".join(f"  - {t}" for t in shown)
                          + ("\n  - …" if total > len(shown) else "")
                          + "\nNothing was extracted. Ask the depositor for a whole SIARD file (`uttrekk validate "
                          f"{probe.text}` lists every place), or accept what is lost by naming each table or "
                          "TABLE.COLUMN in the profile's [source] accept_losses (docs/siard.md)")
    return [f"the SIARD file does not match its metadata, as the profile accepts: {t}" for t in listed] + [
        f"{k}: {n} such place(s) in all" for k, n in sorted(counts.items()) if n > 1]


def view_notes(facts: dict[str, Any]) -> list[str]:
    views = [f"{v['schema']}.{v['name']}" for v in facts.get("views", ())]
    if not views:
        return []
    return [f"{len(views)} view(s) described in the SIARD file, which holds no rows of a view, are not extracted (their "
            f"descriptions and queries are in the dataset's description): {', '.join(views)}"]


def provenance(probe: Probe, facts: dict[str, Any], digest: str,
               entry: dict[str, Any]) -> tuple[tuple[tuple[str, str], ...], str]:
    assert probe.path is not None
    name, size = probe.path.name, probe.size
    version = facts.get("version", "")
    pairs = [("dump_file", name), ("dump_size", f"{size} bytes"), ("dump_sha256", digest),
             ("dump_format", f"SIARD {version}"), ("dumped_by", facts.get("producer", "")),
             ("dump_database", facts.get("dbname", "")), ("data_owner", facts.get("data_owner", "")),
             ("data_origin_timespan", facts.get("data_origin_timespan", "")),
             ("dump_created", facts.get("archival_date", "")),
             ("read_with", f"{facts.get('reader', '')}, into a SQLite copy in uttrekk's cache"),
             ("restored_at", str(entry.get("loaded", "")))]
    parts = [f"Kilden er SIARD-filen {name} (SIARD {version}, {size} byte, SHA-256 {digest})"]
    if facts.get("producer"):
        parts.append(f"laget med {facts['producer']}")
    if facts.get("archival_date"):
        parts.append(f"arkivert {facts['archival_date']}")
    text = ", ".join(parts) + "."
    if facts.get("dbname"):
        text += f" Databasen: {facts['dbname']}."
    if facts.get("data_owner"):
        text += f" Dataeier: {facts['data_owner']}."
    if facts.get("data_origin_timespan"):
        text += f" Dataenes tidsrom: {facts['data_origin_timespan']}."
    if facts.get("description"):
        text += f" Beskrivelse i SIARD-filen: {facts['description'].strip()}"
        text += "" if text.endswith(".") else "."
    for s in facts.get("schemas", ()):
        if s.get("description"):
            text += f" Skjemaet {s['name']}: {s['description'].strip()}"
            text += "" if text.endswith(".") else "."
    for v in facts.get("views", ()):
        text += f" Visningen {v['schema']}.{v['name']} (ikke tatt med)"
        text += f": {v['description'].strip()}" if v.get("description") else ""
        text += f"; spørring: {v['query'].strip()}" if v.get("query") else ""
        text += "" if text.endswith(".") else "."
    text += " Filen er lest med uttrekks egen SIARD-leser til en SQLite-kopi."
    return tuple((k, v) for k, v in pairs if v), text
