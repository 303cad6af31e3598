"""dBase III/IV/7, Clipper, FoxPro and Visual FoxPro tables (.dbf, with .dbt/.fpt memo files) as SOURCE.

Recognised by content (``dbase_header.parse``: a known version byte, a header and record length
that agree with the field descriptors, the 0x0D terminator), a single .dbf or a folder holding
them (``dbase_files``: one database, each .dbf a table). Opening one:

1. finds the tables, memo files, index and other files, and every file's SHA-256 (the original
   files are only ever opened ``O_RDONLY``);
2. decides each table's code page (``dbase_load.code_page``: the language driver byte, else the
   profile's ``[source] codepage`` or ``--codepage``; a table whose header names none and whose
   text is not plain ASCII stops the run, asking for it with samples of the bytes);
3. loads every record, exactly typed, into a SQLite file in uttrekk's cache (``dbase_load``),
   keyed by the SHA-256 of all the files (and the code page given, when one is), so ``inspect``,
   ``profile init`` and ``extract`` read the files once;
4. returns ``dbase_source.DbaseSource``, which shows each table with its dBase field types, the
   record number as the field ``uttrekk_recno`` and, with ``[source] deleted = "keep"``, deleted
   records marked in ``uttrekk_slettet``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from extractor.errors import SourceError

from . import Found, OpenOptions, Probe, refuse_stream
from .dbase_header import Bad, Header, check_size, parse

if TYPE_CHECKING:
    from dialects.base import Dialect

    from .dbase_files import Layout

KIND = "dbase"
ENTRY = "dbase1"
"""The cache entries' engine name, with the version of what the load does."""
DB_FILE = "tables.sqlite"


def _header(probe: Probe) -> Header | None:
    size = probe.size if not probe.wrapping else (probe.content_size or 1 << 62)
    try:
        return parse(probe.head, size)
    except Bad:
        return None


class DbaseFile:
    def recognise(self, probe: Probe) -> Found | None:
        if probe.path is None:
            return None
        if probe.path.is_dir():
            from .dbase_files import table_header

            tables = [n for n in probe.names if n.casefold().endswith(".dbf") and table_header(probe.path / n)]
            named = [n for n in probe.names if n.casefold().endswith(".dbf") and (probe.path / n).is_file()]
            if not named:
                return None
            if not tables:  # named so, but no table: opening it says which file is not one
                return Found(KIND, f"a folder of files named like dBase tables ({', '.join(named[:5])})",
                             {"file": "folder"})
            return Found(KIND, f"a folder of {len(tables)} dBase/FoxPro table(s) ({', '.join(tables[:5])}"
                               f"{', …' if len(tables) > 5 else ''})", {"file": "folder", "tables": str(len(tables))})
        header = _header(probe)
        if header is None:
            return None
        return Found(KIND, f"a dBase/FoxPro table ({header.what}; {header.records} records, "
                           f"{sum(not f.hidden for f in header.fields)} fields)", {"file": "table", "format": header.what})

    def open(self, probe: Probe, found: Found, options: OpenOptions) -> Dialect:
        from .dbase_files import layout_of

        assert probe.path is not None
        refuse_stream(probe, "a dBase/FoxPro table", "a .dbf in place with its memo file beside it: unpack it and give "
                      "the file or the folder")
        given = None
        if options.codepage:
            from .dbase_codepages import codec_name

            given = codec_name(options.codepage)
        if options.deleted not in ("skip", "keep"):
            raise SourceError(f"[source] deleted = {options.deleted!r}: give \"skip\" or \"keep\"")
        layout = layout_of(probe.path, None if probe.path.is_dir() else _header(probe))
        notes = []
        for table in layout.tables:
            try:
                note = check_size(table.header, layout.digests[table.path.name][0], table.path.name)
            except Bad as exc:
                raise SourceError(str(exc)) from None
            if note:
                notes.append(note)
        stack = ExitStack()
        try:
            return _open(probe, layout, given, options, notes, stack)
        except BaseException:
            stack.close()
            raise


def _key(layout: Layout, given: str | None, override: bool) -> str:
    if given is None:
        return layout.digest
    return hashlib.sha256(f"{layout.digest}|codepage={given}|override={override}".encode()).hexdigest()


def _open(probe: Probe, layout: Layout, given: str | None, options: OpenOptions, notes: list[str],
          stack: ExitStack) -> Dialect:
    from . import throwaway
    from .dbase_load import load
    from .dbase_source import DbaseSource

    def waiting() -> None:
        if not options.quiet:
            print(f"uttrekk: {probe.text}: another uttrekk run is reading these tables; waiting for it", file=sys.stderr)

    entry = stack.enter_context(throwaway.entry_for(ENTRY, _key(layout, given, options.codepage_override), waiting))
    if entry.complete:
        entry.touch()
        facts = entry.facts()
    else:
        try:
            loaded = load(layout, entry.path / DB_FILE, given, options.codepage_override, options.quiet)
        except BaseException:
            entry.reset()
            raise
        facts = {"file": layout.root.name, "tables": loaded.tables, "notes": loaded.notes,
                 "read": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        entry.record(facts)
    throwaway.evict(keep=entry.path)
    tables: list[dict[str, Any]] = list(facts.get("tables", ()))
    notes = [*notes, *facts.get("notes", ()), *_layout_notes(layout), *_deleted_notes(tables, options.deleted),
             *(f"{t['name']}: belongs to the Visual FoxPro database container {t['container']}, which is not read (long "
               "names, comments and relations kept there are not carried over)" for t in tables if t.get("container"))]
    dialect = DbaseSource.open(entry.path / DB_FILE, probe.text, tables, options.deleted, layout.files, stack)
    dialect.source_notes = tuple(notes)
    dialect.provenance, dialect.provenance_text = provenance(probe, layout, tables)
    return dialect


def _layout_notes(layout: Layout) -> list[str]:
    out = []
    if layout.indexes:
        out.append(f"index files not read (uttrekk reads every record in file order; an index only orders and finds "
                   f"them): {', '.join(layout.indexes)}")
    if layout.container:
        out.append(f"the Visual FoxPro database container is not read ({', '.join(layout.container)}): long table "
                   "and field names, field comments and relations kept there are not carried over; give them in "
                   "the profile (descriptions, foreign_keys)")
    if layout.unused_memos:
        out.append(f"memo files no table of the folder uses, not read: {', '.join(layout.unused_memos)}")
    if layout.others:
        out.append(f"other files in the folder, not read: {', '.join(layout.others)}")
    return out


def _deleted_notes(tables: list[dict[str, Any]], mode: str) -> list[str]:
    out = []
    for t in tables:
        n = int(t.get("deleted", 0))
        if not n:
            continue
        if mode == "keep":
            out.append(f"{t['name']}: {n} deleted record(s) (marked *) are kept, with uttrekk_slettet = J "
                       "([source] deleted = \"keep\")")
        else:
            out.append(f"{t['name']}: {n} deleted record(s) (marked *) are left out; [source] deleted = \"keep\" in "
                       "the profile keeps them, marked in the field uttrekk_slettet")
    return out


def provenance(probe: Probe, layout: Layout, tables: list[dict[str, Any]]) -> tuple[tuple[tuple[str, str], ...], str]:
    """The files' origin as (key, value) pairs and as one Norwegian sentence."""
    name = layout.root.name
    size = sum(s for s, _ in layout.digests.values())
    one = len(layout.digests) == 1
    digest = next(iter(layout.digests.values()))[1] if one else layout.digest
    formats = sorted({str(t.get("what", "")) for t in tables})
    pages = sorted({f"{t['name']}: {t.get('codepage') or 'ASCII'} ({t.get('codepage_source', '')})" for t in tables})
    files = "; ".join(f"{n} ({s} bytes, SHA-256 {d})" for n, (s, d) in sorted(layout.digests.items()))
    deleted = sum(int(t.get("deleted", 0)) for t in tables)
    facts = [("dump_file", name), ("dump_size", f"{size} bytes"),
             ("dump_sha256", digest if one else f"{digest} (of every file's name and SHA-256)"),
             ("dump_format", "; ".join(formats)), ("source_files", files), ("code_page", "; ".join(pages)),
             ("deleted_records", str(deleted)),
             ("read_with", "uttrekk's own .dbf reader, loaded into SQLite in uttrekk's cache")]
    what = "dBase/FoxPro-tabellen" if not layout.folder else "mappen med dBase/FoxPro-tabeller"
    text = (f"Kilden er {what} {name} ({len(tables)} tabell(er), {len(layout.digests)} fil(er), {size} byte, SHA-256 "
            f"{digest}{'' if one else ' av alle filenes navn og SHA-256'}), {'; '.join(formats)}; filene er lest med "
            f"uttrekks egen .dbf-leser. Filer: {files}.")
    return tuple((k, v) for k, v in facts if v), text

