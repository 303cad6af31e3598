"""Profile skeletons: ``uttrekk profile init`` lists every table and column of a source in a profile
for a person to describe, and brings a described profile up to date with a changed source without
touching a byte of what the person wrote.

Describing a system is weeks of work by people who know it; the source changes under them. So an
update never rewrites their text, it only adds and marks:

- Lines beginning ``# uttrekk:`` (the facts: row count, the key the extract uses, types) and the
  commented-out options under a table's description are written by init and rewritten on every
  run. Everything else in the file is kept as it stands, in its place.
- A table or column the profile does not have yet is added (a new table at the end, a new column
  after the table's last column), its header marked ``# NY <date>: dukket opp i kilden``.
- A table or column the source no longer has is commented out where it stands, under a line
  ``# BORTE <date>: …``, and so is every entry that names it (a relation, a pointer, a key, a code
  table, a period column): the text stays for the person to move or delete, and the profile still
  loads and extracts, since a profile naming a missing table or column is refused.

Run twice on an unchanged source, init gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomlkit

from .errors import ConfigError, ExtractorError, OutputError, ProfileError
from .keys import settle
from .model import Column, Schema, Table
from .pipeline import Options, reflect_and_plan
from .plan import ADDML_TYPES, Plan, make_plan
from .profile import (
    ADDRESS_KINDS,
    DEFAULT_CODE_LIST_LIMIT,
    DEFAULT_LONG_TEXT_LIMIT,
    Metadata,
    Profile,
    load_profile,
    parse_profile,
)
from .source_dialect import SourceDialect

MACHINE = "# uttrekk:"
"""Start of a line init writes and rewrites on every run."""

HEADER = (
    f"{MACHINE} profil laget av «uttrekk profile init». Linjer som begynner med «{MACHINE}» skrives på nytt",
    f"{MACHINE} ved hver kjøring; skriv egne merknader på andre linjer. Fyll inn hver description (docs/profile.md).",
)

TABLE_HINTS = {
    "exclude": '# exclude = "begrunnelse"  # hold tabellen utenfor uttrekket; begrunnelsen (bevaringsvurderingen) kreves',
    "where": '# where = "SQL-vilkår"  # ta bare med radene som oppfyller vilkåret; krever filter_reason',
    "filter_reason": '# filter_reason = "hvorfor de andre radene holdes utenfor"',
    "period_column": '# period_column = "kolonne"  # dato-/tidskolonne: bare rader innenfor arkivperioden tas med',
}
"""Options a table may set, shown commented out under its description until the table sets them."""

METADATA_NOTES = {
    "archive_creator": "arkivskaper: organet som skapte arkivet, f.eks. «Eksempel kommune»",
    "submitter": "avleverer: hvem som leverer uttrekket",
    "system_name": "fagsystemets navn",
    "system_version": "fagsystemets versjon",
    "system_type": "systemtype; tomt gir «Fagsystem»",
    "description": "hva uttrekket som helhet inneholder",
    "period_start": "arkivperiodens første dag, ÅÅÅÅ-MM-DD",
    "period_end": "arkivperiodens siste dag, ÅÅÅÅ-MM-DD",
    "extraction_date": "uttrekksdato ÅÅÅÅ-MM-DD; tomt: dagen uttrekket tas (--date overstyrer)",
    "dataset_number": "depotets nummer for datasettet, f.eks. 1234/56/1 (ar_id/sy_id/løpenummer)",
    "responsible_person": "hvem hos arkivskaperen som svarer for uttrekket (navn, rolle eller kontakt)",
}


@dataclass
class InitResult:
    """The profile text, and what changed against the profile it started from."""

    text: str
    tables: int
    columns: int
    added: list[str] = field(default_factory=list)
    """Tables (``T``) and columns (``T.C``) added."""
    gone: list[str] = field(default_factory=list)
    """What was commented out, each with the reason."""
    relations: list[str] = field(default_factory=list)
    """Relations ``--keys`` added with ``confirmed = false``."""
    notes: list[str] = field(default_factory=list)
    updated: bool = False
    """An existing profile was brought up to date (else a new one was written)."""


def init_profile(dialect: SourceDialect, existing: str | None = None, *, path: Path | None = None, schema: str | None = None,
                 views: bool = False, keys: bool = False, today: str | None = None) -> InitResult:
    """The skeleton for the source ``dialect`` reads, or ``existing`` (the text of the profile file
    ``path``) brought up to date with it. Reads the source (row counts, keys proven in the data),
    never writes to it."""
    shown = str(path) if path is not None else "<profile>"
    today = today or dt.date.today().isoformat()
    options = Options(schema=schema, views=views)
    merging = existing is not None and existing.strip() != ""  # an empty file is started afresh
    text = existing if existing is not None and merging else _base()
    crlf = "\r\n" in text
    text = text.replace("\r\n", "\n")
    data = _parse(text, shown)
    source = _source(dialect, data, options)
    result = InitResult("", len(source.tables), sum(len(t.columns) for t in source.tables), updated=merging)
    located = dialect.locate(schema, views)  # said when another schema than the default is read
    if located.note:
        result.notes.append(located.note)
    text = _strip_and_retire(text, data, source, today, result)
    data = _parse(text, shown)
    inherited = _load(text, data, shown, path) if path is not None else Profile()
    text, data = _add_new(text, data, source, today if merging else None, result, shown, inherited)
    profile, plan = _plan(dialect, source, _load(text, data, shown, path), options, result)
    counts = {t.name: dialect.count_rows(t) for t in source.tables}
    kept = {tp.name: dialect.count_rows(tp.source) for tp in plan.tables
            if tp.source is not None and getattr(tp.source, "row_filter", None) is not None and tp.unpivot is None}
    spans = _date_spans(dialect, source, plan, dt.date.fromisoformat(today))
    text = _with_facts(text, data, source, plan, profile, counts, kept, _period_lines(spans, profile, today))
    if keys:
        text = _with_relations(dialect, text, profile, schema, views, result, today)
        _parse(text, shown)
    result.text = text.replace("\n", "\r\n") if crlf else text
    return result


def _source(dialect: SourceDialect, data: dict[str, Any], options: Options) -> Schema:
    """The source's tables, and the views the profile names (they are extracted without --views)."""
    source, _ = reflect_and_plan(dialect, Profile(), options)
    children = {g.get("table") for td in data.get("tables", {}).values() for g in _list(td.get("repeating_groups"))
                if isinstance(g, dict)}
    named = set(data.get("tables", {})) - set(source.table_names) - children
    if named and not options.views:
        source = dialect.reflect(dialect.locate(options.schema, options.views).schema, frozenset(named))
    return source


# -- the skeleton's fixed part --------------------------------------------------------------------


def _base() -> str:
    """[metadata] with every key empty and explained, [charset], [output] with its options shown."""
    doc = tomlkit.document()
    meta = tomlkit.table()
    for f in fields(Metadata):
        meta.add(f.name, _noted("", METADATA_NOTES.get(f.name, "")))
    doc.add("metadata", meta)
    charset = tomlkit.table()
    charset.add("encoding", _noted("ISO-8859-1", "tegnsettet for tabellfilene: ISO-8859-1 eller UTF-8"))
    charset.add("utf8_fallback", _noted(False, "true: en tabell med tegn utenfor tegnsettet skrives som UTF-8"))
    mapping = tomlkit.table()
    mapping.add(tomlkit.comment('"\\u2013" = "-"  # erstatt et tegn med en tekst; hver erstatning rapporteres'))
    charset.add("map", mapping)
    doc.add("charset", charset)
    output = tomlkit.table()
    output.add(tomlkit.comment('format = "delimited"  # delimited, fixed eller xml'))
    output.add(tomlkit.comment(f"long_text_limit = {DEFAULT_LONG_TEXT_LIMIT}  # lengre tekster legges i egne filer"))
    output.add(tomlkit.comment(f"code_list_limit = {DEFAULT_CODE_LIST_LIMIT}  # flest rader i en kodetabell "
                               "og flest koder skrevet som kodeliste"))
    doc.add("output", output)
    return tomlkit.dumps(doc)


def _noted(value: Any, note: str) -> Any:
    item = tomlkit.item(value)
    if note:
        item.comment(note)
        item.trivia.comment_ws = "  "
    return item


def _table_block(table: Table, columns: Sequence[Column], main: str | bool | None, marker: str | None) -> list[str]:
    """``[tables.T]`` (unless ``main`` is False; a text is its header's marker) and
    ``[tables.T.columns.C]`` for ``columns`` (headers marked ``marker``), as lines; the source's
    comments become the descriptions."""
    entry = tomlkit.table(is_super_table=main is False)
    if main is not False:
        entry.add("description", table.comment or "")
        if isinstance(main, str):
            entry.comment(main)
    if columns:
        cols = tomlkit.table(is_super_table=True)
        for col in columns:
            ct = tomlkit.table()
            ct.add("description", col.comment or "")
            if marker:
                ct.comment(marker)
            cols.add(col.name, ct)
        entry.add("columns", cols)
    tables = tomlkit.table(is_super_table=True)
    tables.add(table.name, entry)
    doc = tomlkit.document()
    doc.add("tables", tables)
    return tomlkit.dumps(doc).rstrip("\n").split("\n")


# -- reading the text: lines, statements, sections ------------------------------------------------


def _parse(text: str, shown: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(shown, [f"is not valid TOML: {exc}"]) from None
    tables = data.get("tables", {})
    if not isinstance(tables, dict) or not all(isinstance(v, dict) for v in tables.values()):
        raise ProfileError(shown, ["tables: must hold one table per source table ([tables.NAME])"])
    return data


_TOKEN = re.compile(r"""\n|#[^\n]*|\"\"\"|'''|"|'|[\[\]{}]""")
"""What the scan of a profile's text stops at: line ends, comments, string quotes, brackets."""


def _free_lines(text: str) -> list[bool]:
    """For each line: does it start outside any string and any [ ] or { } (a statement, header,
    comment or blank line may start there)? Multi-line strings and arrays make the others.
    The text is valid TOML (read with tomllib first)."""
    free = [True]
    depth = 0
    i = 0
    while (m := _TOKEN.search(text, i)) is not None:
        token, i = m.group(), m.end()
        if token == "\n":
            free.append(depth == 0)
        elif token in ("[", "{"):
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
        elif token[0] in "\"'":
            end = _closing(text, i, token)
            free += [False] * text.count("\n", i, end)
            i = end
        # else a comment, skipped to the end of its line
    return free


def _closing(text: str, start: int, quote: str) -> int:
    """Just after the quote that ends a string opened before ``start`` (escaped quotes skipped)."""
    at = start
    while True:
        k = text.index(quote, at)
        slashes = 0
        while quote[0] == '"' and text[k - 1 - slashes] == "\\":
            slashes += 1
        if slashes % 2 == 0:
            break
        at = k + 1
    end = k + len(quote)
    if len(quote) == 3:  # a closing run may hold one or two quotes of the text before the delimiter
        while end < len(text) and text[end] == quote[0]:
            end += 1
    return end


@dataclass
class _Section:
    path: tuple[str, ...]
    aot: bool
    lead: int
    """First line of the comments directly above the header (they belong to it)."""
    header: int
    end: int
    """First line of the next section's lead (or the end of the file)."""


class _Text:
    """A profile's lines with their statements and sections, read once, for edits by line number."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.free = _free_lines(text)
        self.sections: list[_Section] = []
        for i, line in enumerate(self.lines):
            if self.free[i] and line.lstrip().startswith("["):
                path, aot = _header_path(line)
                lead = i
                while lead > 0 and self.free[lead - 1] and self.lines[lead - 1].lstrip().startswith("#"):
                    lead -= 1
                if self.sections:
                    self.sections[-1].end = lead
                self.sections.append(_Section(path, aot, lead, i, len(self.lines)))
        self.preamble_end = self.sections[0].lead if self.sections else len(self.lines)

    def is_comment(self, i: int) -> bool:
        return self.free[i] and self.lines[i].lstrip().startswith("#")

    def statements(self, start: int, end: int) -> list[tuple[int, int]]:
        """(first line, first line after) of each key = value between ``start`` and ``end``."""
        out = []
        for i in range(start, end):
            if self.free[i] and self.lines[i].strip() and not self.lines[i].lstrip().startswith(("#", "[")):
                j = i + 1
                while j < end and not self.free[j]:
                    j += 1
                out.append((i, j))
        return out

    def value(self, start: int, end: int) -> dict[str, Any]:
        return tomllib.loads("\n".join(self.lines[start:end]))


_BARE = r"[A-Za-z0-9_-]+"
_PLAIN_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_BARE}(?:\.{_BARE})*)\s*\]\]?\s*(?:#.*)?$")
_PLAIN_KEY = re.compile(rf"^\s*({_BARE})\s*=")

SAFE_KEYS = frozenset({"description", "exclude", "where", "filter_reason", "period_start", "period_end", "sql"})
"""Keys whose values name no table or column, so they never go stale."""


def _key(line: str) -> str | None:
    """The key a statement line sets, when it is a bare one (else ``None``: read it with tomllib)."""
    m = _PLAIN_KEY.match(line)
    return m.group(1) if m else None


def _header_path(line: str) -> tuple[tuple[str, ...], bool]:
    m = _PLAIN_HEADER.match(line)  # most headers: bare keys, no need for a parser
    if m:
        return tuple(m.group(2).split(".")), m.group(1) == "[["
    data: Any = tomllib.loads(line)
    path: list[str] = []
    aot = False
    while isinstance(data, dict) and data:
        key, data = next(iter(data.items()))
        path.append(key)
        if isinstance(data, list):
            aot, data = True, data[-1]
    return tuple(path), aot


def _nest(path: Sequence[str], value: Any, aot: bool = False) -> dict[str, Any]:
    for i, key in enumerate(reversed(path)):
        value = {key: [value] if aot and i == 0 else value}
    return value


class _Edits:
    """Line edits by original line number, applied in one pass (insertions before/after a line)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.drop: set[int] = set()
        self.commented: set[int] = set()
        self.before: dict[int, list[str]] = {}
        self.after: dict[int, list[str]] = {}

    def insert(self, at: int, block: Iterable[str]) -> None:
        self.before.setdefault(at, []).extend(block)

    def apply(self, free: list[bool]) -> str:
        out: list[str] = []
        for i, line in enumerate([*self.lines, None]):
            out += self.before.get(i, [])
            if line is None:
                break
            if i in self.drop:
                continue
            if i in self.commented and not (free[i] and (not line.strip() or line.lstrip().startswith("#"))):
                line = "# " + line if line.strip() else "#"
            out.append(line)
            out += self.after.get(i, [])
        return "\n".join(out)


def _block_at(edits: _Edits, at: int, block: list[str]) -> None:
    """Insert a block of sections before line ``at``, with a blank line on either side."""
    lines = edits.lines
    tail = [""]
    if at >= len(lines) - 1 and lines[-1] == "":  # at the end of a text that ends with a newline: before it
        at, tail = len(lines) - 1, []
    elif at >= len(lines):
        tail = []
    before = edits.before.get(at, [])
    prev = before[-1] if before else (lines[at - 1] if at > 0 else "")
    edits.insert(at, [*([""] if prev.strip() else []), *block, *tail])


# -- pass 1: the machine's lines out, what the source lost commented out -----------------------------


def _strip_and_retire(text: str, data: dict[str, Any], source: Schema, today: str, result: InitResult) -> str:
    """Init's own lines taken out (they are written anew), and every section or statement that
    names what the source lost commented out under one ``# BORTE`` line per run of them."""
    t = _Text(text)
    edits = _Edits(t.lines)
    hints = set(TABLE_HINTS.values())
    for i, line in enumerate(t.lines):
        if t.is_comment(i) and line.strip().startswith(MACHINE):
            edits.drop.add(i)
    headers = [s.header for s in t.sections[1:]] + [len(t.lines)]
    for s, stop in zip(t.sections, headers, strict=True):
        if len(s.path) == 2 and s.path[0] == "tables":  # the hints may sit right above the next header
            edits.drop.update(i for i in range(s.header, stop) if t.is_comment(i) and t.lines[i].strip() in hints)
    gone = _Gone(source, data)
    last = None
    for s in t.sections:
        reason = gone.reason(_nest(s.path, {}, s.aot))
        if reason is None and (s.aot or s.path[:1] == ("tables",) and s.path[2:3] in (("code_table",), ("pointers",))):
            reason = gone.reason(_nest(s.path, t.value(s.header + 1, s.end), s.aot))  # a relation, a pointer: whole
        if reason is not None:
            _retire(edits, range(s.lead, s.end), None if reason == last else reason, today, s.lead)
            if reason != last:
                result.gone.append(f"{'.'.join(s.path)}: {reason}")
            last = reason
            continue
        last = None
        for start, end in t.statements(s.header + 1, s.end):
            if _key(t.lines[start]) in SAFE_KEYS or (len(s.path) == 4 and s.path[2] == "columns"):
                continue  # a description, a reason, a filter: nothing that could vanish
            value = t.value(start, end)
            reason = gone.reason(_nest(s.path, value, s.aot))
            if reason is not None:
                _retire(edits, range(start, end), reason, today, start)
                result.gone.append(f"{'.'.join((*s.path, *_first_path(value)))}: {reason}")
    for start, end in t.statements(0, t.preamble_end):
        value = t.value(start, end)
        reason = gone.reason(value)
        if reason is not None:
            _retire(edits, range(start, end), reason, today, start)
            result.gone.append(f"{'.'.join(_first_path(value))}: {reason}")
    return edits.apply(t.free)


def _first_path(value: Any) -> tuple[str, ...]:
    path = []
    while isinstance(value, dict) and len(value) == 1:
        key, value = next(iter(value.items()))
        path.append(key)
    return tuple(path)


def _retire(edits: _Edits, lines: range, reason: str | None, today: str, at: int) -> None:
    edits.commented.update(i for i in lines if i not in edits.drop)
    if reason is not None:
        edits.insert(at, [f"# BORTE {today}: {reason}; teksten under er beholdt som kommentar"])


class _Gone:
    """Decides whether a piece of the profile names a table or column the source no longer has."""

    def __init__(self, source: Schema, data: dict[str, Any]) -> None:
        self.columns = {t.name: set(t.column_names) for t in source.tables}
        self.children = {g.get("table") for td in data.get("tables", {}).values() if isinstance(td, dict)
                         for g in _list(td.get("repeating_groups")) if isinstance(g, dict)}

    def reason(self, piece: dict[str, Any]) -> str | None:
        tables = piece.get("tables")
        if not isinstance(tables, dict):
            return None
        for name, td in tables.items():
            if name in self.children:
                continue
            if name not in self.columns:
                return f"tabellen {name} finnes ikke lenger i kilden"
            if isinstance(td, dict):
                found = self._table(name, td)
                if found:
                    return found
        return None

    def _missing(self, table: str, names: Any) -> str | None:
        for c in _names(names):
            if c not in self.columns.get(table, set()):
                return f"kolonnen {table}.{c} finnes ikke lenger i kilden"
        return None

    def _target(self, ref: Any) -> str | None:
        if isinstance(ref, str) and ref not in self.columns and ref not in self.children:
            return f"tabellen {ref} finnes ikke lenger i kilden"
        return None

    def _table(self, name: str, td: dict[str, Any]) -> str | None:
        found = self._missing(name, list(td.get("columns", {}) or {}) if isinstance(td.get("columns"), dict) else [])
        found = found or self._missing(name, td.get("primary_key"))
        found = found or self._missing(name, td.get("period_column"))
        ct = td.get("code_table")
        if isinstance(ct, dict):
            found = found or self._missing(name, [ct.get("code"), ct.get("explanation")])
        for fk in _list(td.get("foreign_keys")):
            if isinstance(fk, dict):
                ref = fk.get("references")
                found = found or self._missing(name, fk.get("columns")) or self._target(ref)
                if isinstance(ref, str) and ref in self.columns:
                    found = found or self._missing(ref, fk.get("ref_columns"))
        pointers = td.get("pointers")
        for column, ptr in (pointers.items() if isinstance(pointers, dict) else ()):
            found = found or self._missing(name, column)
            if isinstance(ptr, dict):
                ref = ptr.get("references")
                found = found or self._target(ref)
                if isinstance(ref, str) and ref in self.columns:
                    address = ptr.get("address")
                    if address not in ADDRESS_KINDS:
                        found = found or self._missing(ref, address)
                    found = found or self._missing(ref, ptr.get("recno_order"))
        for g in _list(td.get("repeating_groups")):
            if isinstance(g, dict):
                cols = g.get("columns")
                flat = [c for o in _list(cols) for c in _names(o)]
                found = found or self._missing(name, flat)
        return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in _list(value) if isinstance(v, str)]


# -- pass 2: what the profile lacks, added -----------------------------------------------------------


def _add_new(text: str, data: dict[str, Any], source: Schema, today: str | None, result: InitResult, shown: str,
             inherited: Profile) -> tuple[str, dict[str, Any]]:
    """Sections for the tables and columns neither the profile nor a profile it extends has; the
    new text, and what it holds."""
    t = _Text(text)
    tables = data.get("tables", {})
    edits = _Edits(t.lines)
    marker = f"NY {today}: dukket opp i kilden" if today else None
    at_end: list[str] = []
    by_table: dict[str, list[_Section]] = {}
    for s in t.sections:
        if len(s.path) >= 2 and s.path[0] == "tables":
            by_table.setdefault(s.path[1], []).append(s)
    for table in source.tables:
        also = inherited.table(table.name).columns
        if table.name not in tables and table.name in inherited.tables:  # described in a profile this one extends
            missing = [c for c in table.columns if c.name not in also]
            if missing:
                at_end += ([""] if at_end else []) + _table_block(table, missing, False, marker)
                result.added += [f"{table.name}.{c.name}" for c in missing]
            continue
        if table.name not in tables:
            at_end += ([""] if at_end else []) + _table_block(table, table.columns, marker, None)
            result.added.append(table.name)
            continue
        have = tables[table.name].get("columns", {})
        missing = [c for c in table.columns if (not isinstance(have, dict) or c.name not in have) and c.name not in also]
        mine = by_table.get(table.name, [])
        if not mine:
            if missing:
                result.notes.append(f"tables.{table.name} is written inline; init cannot add its columns "
                                    f"{', '.join(c.name for c in missing)} there (write it as [tables.{table.name}])")
            continue
        main = next((s for s in mine if len(s.path) == 2), None)
        cols = [s for s in mine if s.path[2:3] == ("columns",)]
        if main is None:  # the profile has only, say, its relations: the table's own section goes first
            _block_at(edits, mine[0].lead, _table_block(table, [] if cols else missing, None, marker))
        last = cols[-1] if cols else main
        if missing and last is not None:
            _block_at(edits, _end_of_own(t, last), _table_block(table, missing, False, marker))
        result.added += [f"{table.name}.{c.name}" for c in missing]
    if at_end:
        _block_at(edits, len(t.lines), at_end)
    out = edits.apply(t.free)
    try:
        return out, _parse(out, shown)
    except ProfileError as exc:
        raise ProfileError(shown, [f"new tables or columns cannot be added ({'; '.join(exc.problems)}): a table or "
                                   "its columns are probably written inline ({ … }); write them as [tables.T] and "
                                   "[tables.T.columns.C] sections and run again"]) from None


def _end_of_own(t: _Text, s: _Section) -> int:
    """Where what follows a section goes: before what init commented out after it, if anything."""
    return next((i for i in range(s.header + 1, s.end) if t.is_comment(i) and t.lines[i].startswith("# BORTE ")), s.end)


# -- the facts: plan the extract with the profile, as extract would ----------------------------------


def _plan(dialect: SourceDialect, source: Schema, profile: Profile, options: Options, result: InitResult) -> tuple[Profile, Plan]:
    """The plan ``extract`` would make with this profile, keys settled in the data. A profile that
    cannot be used as it stands is reported, and the facts are those without it."""
    kept = [t for t in source.tables if not profile.table(t.name).exclude]
    try:
        if kept or profile.queries:
            return profile, settle(reflect_and_plan(dialect, profile, options)[1], dialect)
        result.notes.append("the profile excludes every table; the facts in it are those without the profile")
    except ProfileError as exc:
        result.notes.append(f"the profile cannot be used for an extract until these are fixed (the facts in it are "
                            f"those without the profile): {'; '.join(exc.problems)}")
    empty = Profile()
    return empty, settle(make_plan(source, empty), dialect)


def _load(text: str, data: dict[str, Any], shown: str, path: Path | None) -> Profile:
    """The profile as ``extract`` reads it; one that ``extends`` others is read from a file beside
    ``path``, so that its relative paths resolve."""
    if "extends" not in data or path is None:
        return parse_profile(data, shown, defer=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".init.toml", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: extends other profiles, which init reads from a file beside it; cannot write "
                          f"there: {exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        profile = load_profile(tmp, defer=True)
    finally:
        Path(tmp).unlink(missing_ok=True)
    problems = tuple(x.replace(tmp, shown).replace(Path(tmp).name, path.name) for x in profile.problems)
    return replace(profile, path=shown, problems=problems)


def _with_facts(text: str, data: dict[str, Any], source: Schema, plan: Plan, profile: Profile, counts: dict[str, int],
                kept: dict[str, int], period: list[str]) -> str:
    """The ``# uttrekk:`` lines under each table and column header and under ``[metadata]`` (the
    dates the source spans, for the archival period), and the option hints under a table's
    description (only for the options it does not set)."""
    t = _Text(text)
    edits = _Edits(t.lines)
    edits.insert(0, [*HEADER, *([""] if t.lines[0].strip() else [])])
    by_name = {table.name: table for table in source.tables}
    planned = {tp.name: tp for tp in plan.tables}
    for s in t.sections:
        if s.path == ("metadata",) and not s.aot:
            edits.after.setdefault(s.header, []).extend(f"{MACHINE} {line}" for line in period)
            continue
        if s.path[:1] != ("tables",) or len(s.path) < 2 or s.path[1] not in by_name or s.aot:
            continue
        table = by_name[s.path[1]]
        if len(s.path) == 2:
            facts = _table_facts(table, planned.get(table.name), profile, counts[table.name], kept.get(table.name))
            edits.after.setdefault(s.header, []).extend(f"{MACHINE} {f}" for f in facts)
            td = data["tables"][table.name]
            dated = any(c.kind in ("date", "timestamp") for c in table.columns)
            hints = [h for k, h in TABLE_HINTS.items() if k not in td and (k != "period_column" or dated)]
            where = next((end for start, end in t.statements(s.header + 1, s.end)
                          if (_key(t.lines[start]) or next(iter(t.value(start, end)))) == "description"), None)
            if where is None:
                edits.after.setdefault(s.header, []).extend(hints)
            else:
                edits.insert(where, hints)
        elif len(s.path) == 4 and s.path[2] == "columns" and s.path[3] in table.column_names:
            col = table.column(s.path[3])
            refused = next((r for r in plan.refused if r.startswith(f"{table.name}.{col.name} (")), "")
            line = _column_facts(table, col, planned.get(table.name), refused)
            edits.after.setdefault(s.header, []).append(f"{MACHINE} {line}")
    return edits.apply(t.free)


EARLIEST = dt.date(1800, 1, 1)
"""Dates before this are taken for placeholders (0001-01-01, 1753-01-01) when suggesting a period."""
SHOWN_SPANS = 12
"""Date columns listed under [metadata]; the rest are counted."""
NOT_RECORD_DATES = re.compile(r"f[oø]d|birth|frist|deadline|utl[oø]p|expir|planl|gyldig|valid", re.IGNORECASE)
"""Column names of dates that are not when records were made (births, deadlines, plans): listed,
but left out of the suggested period."""


def _date_spans(dialect: SourceDialect, source: Schema, plan: Plan, today: dt.date) -> list[tuple[str, str, str, str, str]]:
    """``(table.column, earliest, latest, earliest plausible, latest plausible)`` of every date and
    timestamp column of the kept tables, as dates; plausible is 1800 up to a year from today."""
    kept = {tp.name for tp in plan.tables}
    out = []
    for table in source.tables:
        names = [c.name for c in table.columns if c.kind in ("date", "timestamp")]
        if not names or table.name not in kept or table.query is not None:
            continue
        spans = dialect.date_spans(table, names, EARLIEST, today.replace(year=today.year + 1)
                                   if not (today.month == 2 and today.day == 29) else today + dt.timedelta(days=365))
        for name, values in spans.items():
            days = [_day(v) for v in values]
            if days[0] and days[1]:
                out.append((f"{table.name}.{name}", days[0], days[1], days[2] or "", days[3] or ""))
    return out


def _day(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None


def _period_lines(spans: list[tuple[str, str, str, str, str]], profile: Profile, today: str) -> list[str]:
    """What the source's dates say about the archival period (Norwegian, like the other facts)."""
    if not spans:
        return ["ingen dato-/tidskolonner med verdier: arkivperioden må settes ut fra annen kunnskap om systemet"]
    inside = [s for s in spans if s[3] and s[4] and not NOT_RECORD_DATES.search(s[0].rpartition(".")[2])]
    lines = []
    if inside:
        first, last = min(s[3] for s in inside), max(s[4] for s in inside)
        told = profile.metadata.period_start and profile.metadata.period_end
        lines.append(f"datoene i kilden (fødsels-, frist- og plandatoer ikke medregnet) spenner fra {first} til {last}"
                     + ("" if told else f"; forslag: period_start = \"{first}\", period_end = \"{last}\"")
                     + " (sjekk: fødselsdatoer, frister og planlagte datoer hører ikke til arkivperioden)")
    for name, lo, hi, lo_in, hi_in in sorted(spans, key=lambda s: (s[3] or s[1], s[0]))[:SHOWN_SPANS]:
        odd = [d for d, d_in in ((lo, lo_in), (hi, hi_in)) if d != d_in]
        lines.append(f"  {name}: {lo_in or '?'} – {hi_in or '?'}"
                     + (f" (også {', '.join(odd)}, utenfor 1800–{int(today[:4]) + 1}: plassholder?)" if odd else "")
                     + (" (ikke med i forslaget)" if NOT_RECORD_DATES.search(name.rpartition(".")[2]) else ""))
    if len(spans) > SHOWN_SPANS:
        lines.append(f"  … og {len(spans) - SHOWN_SPANS} dato-/tidskolonne(r) til")
    return lines


def _key_text(table: Table, tp: Any, profile: Profile) -> str:
    key = ", ".join(tp.primary_key)
    if tp.surrogate:
        return (f"{tp.surrogate}, et løpenummer uttrekket legger til (ingen nøkkel i kilden og ingen kolonne med "
                "unike verdier)")
    if table.primary_key and tuple(tp.primary_key) == table.primary_key:
        return f"{key} (primærnøkkelen i kilden)"
    if profile.table(table.name).primary_key:
        return f"{key} (primary_key i profilen, kontrollert i dataene)"
    if tuple(tp.primary_key) in table.unique_keys:
        return f"{key} (en unik nøkkel i kilden som aldri er tom)"
    return (f"{key} (unik og aldri tom i dataene nå, men ikke deklarert i kilden; sett primary_key for å "
            "låse valget)")


def _table_facts(table: Table, tp: Any, profile: Profile, rows: int, kept: int | None) -> list[str]:
    facts = []
    counted = f"{rows} rader" + (f", {kept} av dem med radfilteret" if kept is not None else "")
    if tp is None:
        facts.append(f"{counted}; holdes utenfor uttrekket")
    else:
        facts.append(f"{counted}; nøkkel i uttrekket: {_key_text(table, tp, profile)}")
    if table.foreign_keys:
        facts.append("fremmednøkler i kilden: " + "; ".join(
            f"{', '.join(fk.columns)} -> {fk.ref_table}({', '.join(fk.ref_columns)})" for fk in table.foreign_keys))
    if tp is not None and tp.code_table and profile.table(table.name).code_table is None \
            and rows <= profile.code_list_limit:
        code, explanation, _ = tp.code_table
        facts.append(f'funnet som kodetabell (uttrekket bruker den slik også uten profilen): code_table = '
                     f'{{ code = "{code}", explanation = "{explanation}" }}')
    dates = [c.name for c in table.columns if c.kind in ("date", "timestamp")]
    if dates:
        facts.append(f"dato-/tidskolonner (til period_column): {', '.join(dates)}")
    return facts


def _column_facts(table: Table, col: Column, tp: Any = None, refused: str = "") -> str:
    """One line of facts on a column; ``refused``: why ``extract`` refuses it (an array column)."""
    if col.array is not None:
        child = dict(tp.arrays).get(col.name) if tp is not None else None
        why = refused.split("): ", 1)[-1].split(". ", 1)[0] if refused else "se uttrekk inspect"
        archive = (f"egen tabell {child} (ett element per post, med indeks); her antall elementer" if child else
                   f"NEKTET av extract ({why}); sett exclude med en grunn")
    else:
        archive = "fil (binær verdi, egen fil under lob/)" if col.kind == "binary" else ADDML_TYPES[col.kind][0]
    parts = [f"{col.native_type} -> {archive}"]
    if col.kind in ("string", "char") and col.length:
        parts.append(f"lengde {col.length}")
    if col.kind == "decimal" and col.precision:
        parts.append(f"{col.precision} sifre, {col.scale or 0} desimaler")
    key = col.name in table.primary_key
    parts.append("del av primærnøkkelen" if key and len(table.primary_key) > 1 else "primærnøkkel" if key
                 else "kan være tom (NULL)" if col.nullable else "aldri tom (NOT NULL)")
    if col.codes:
        shown = ", ".join(col.codes[:10]) + (" …" if len(col.codes) > 10 else "")
        parts.append(f"kodeliste fra {col.codes_source or 'kilden'}: {shown}")
    return "; ".join(parts)


# -- --keys: the relations the data show, added by inspect --keys' own writer -----------------------


def _with_relations(dialect: SourceDialect, text: str, profile: Profile, schema: str | None, views: bool,
                    result: InitResult, today: str) -> str:
    from .relations import add_relations, find_relations

    found = find_relations(dialect, profile, schema=schema, views=views)
    try:
        text, added, _ = add_relations(text, found.candidates, "the profile", today)
    except ExtractorError as exc:
        raise ConfigError(f"--keys: {exc}") from None
    result.relations = [c.arrow for c in added]
    return text
