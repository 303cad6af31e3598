"""Profiles: a system described once in TOML, read into a frozen ``Profile``.

Every problem in a profile is collected and reported at once with the file and the key path;
an unknown key is an error that lists the keys that are known at that place. A profile may
``extends`` others (shared descriptions of a system used by many archive creators): they are
merged key by key before checking, and a problem in an inherited key names the file it came from.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .charset import CharsetPolicy, canonical_charset, foreign_chars
from .errors import ProfileError
from .profile_files import origin_of, placed, read_with_parents

FORMATS = ("delimited", "fixed", "xml", "siard")
"""Output formats for the table files."""

DEFAULT_LONG_TEXT_LIMIT = 2047
"""Longest text kept inside a field; longer values go to their own file (the old depot rule)."""

DEFAULT_CODE_LIST_LIMIT = 50
"""Most rows of a table found as a code table, and most codes written inline as an ADDML code list."""

ADDRESS_KINDS = ("rowid", "ctid", "physloc", "recno")
"""Physical addresses a pointer column may hold (any other ``address`` names a target column)."""

_TOP_KEYS = ("extends", "metadata", "charset", "output", "source", "tables", "queries")
_SOURCE_KEYS = ("accept_losses", "accept_reason", "codepage", "codepage_override", "deleted")
_METADATA_KEYS = ("archive_creator", "submitter", "system_name", "system_version", "system_type",
                  "description", "period_start", "period_end", "extraction_date", "dataset_number",
                  "responsible_person")
_CHARSET_KEYS = ("encoding", "utf8_fallback", "map")
_OUTPUT_KEYS = ("format", "long_text_limit", "code_list_limit", "rendering")
RENDERINGS = ("server", "exact")
"""``[output] rendering``: values rendered by the server where it can do so identically, or all by uttrekk."""
_TABLE_KEYS = ("description", "exclude", "primary_key", "foreign_keys", "code_table", "pointers",
               "repeating_groups", "columns", "where", "period_column", "period_start", "period_end",
               "filter_reason")
_QUERY_KEYS = ("sql", "description", "primary_key", "foreign_keys", "code_table", "columns")
_QUERY_COLUMN_KEYS = ("description",)
_CODE_TABLE_KEYS = ("code", "explanation", "inline")
_FOREIGN_KEY_KEYS = ("columns", "references", "ref_columns", "confirmed", "evidence")
_POINTER_KEYS = ("references", "address", "keep_original", "recno_order", "recno_start")
_GROUP_KEYS = ("table", "columns", "fields")
_COLUMN_KEYS = ("description", "exclude", "large_object")


@dataclass(frozen=True)
class Metadata:
    """Context for the ``reference`` part of addml.xml and the reports."""

    archive_creator: str = ""
    submitter: str = ""
    system_name: str = ""
    system_version: str = ""
    system_type: str = "Fagsystem"
    description: str = ""
    period_start: str = ""
    period_end: str = ""
    extraction_date: str = ""
    dataset_number: str = ""
    """The depot's number for the dataset, e.g. ``ar_id/sy_id/løpenummer`` (``1234/56/1``)."""
    responsible_person: str = ""
    """Who answers for the extract at the archive creator (name, and role or contact)."""


SYSTEM_TYPES = ("Fagsystem", "Noark-3", "Noark-4", "Noark 5")
"""``[metadata] system_type`` values Arkivverket's ADDML profile accepts (§1.4.6)."""


@dataclass(frozen=True)
class CodeTable:
    code: str
    explanation: str
    inline: bool | None = None
    """Codes written on the referring fields; ``None``: when the list is short (``code_list_limit``)."""


@dataclass(frozen=True)
class DeclaredForeignKey:
    """A relation the source does not declare, named in the profile (confirmed or a candidate)."""

    columns: tuple[str, ...]
    references: str
    ref_columns: tuple[str, ...] = ()
    confirmed: bool = False
    evidence: str = ""


@dataclass(frozen=True)
class Pointer:
    """A column holding a physical address of a row of ``references``, rewritten to its key."""

    references: str
    address: str
    keep_original: bool = False
    recno_order: tuple[str, ...] = ()
    recno_start: int = 1


@dataclass(frozen=True)
class RepeatingGroup:
    """Columns repeating one item (``tlf1, tlf2, tlf3``), moved to the child table ``table``."""

    table: str
    occurrences: tuple[tuple[str, ...], ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ColumnProfile:
    description: str = ""
    exclude: str | None = None
    large_object: bool | None = None
    """The column refers to large objects (PostgreSQL ``oid``): archive the objects (True) or the
    numbers (False); ``None``: the type and the data decide."""


@dataclass(frozen=True)
class TableProfile:
    description: str = ""
    exclude: str | None = None
    code_table: CodeTable | None = None
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[DeclaredForeignKey, ...] = ()
    pointers: dict[str, Pointer] = field(default_factory=dict)
    repeating_groups: tuple[RepeatingGroup, ...] = ()
    where: str = ""
    """SQL condition selecting the rows to extract."""
    period_column: str = ""
    """Date or timestamp column whose value must fall in the period below."""
    period_start: str = ""
    """The period for ``period_column``: the table's own, else the archival period ([metadata])."""
    period_end: str = ""
    filter_reason: str = ""
    """Why rows are left out (bevaringsvurdering); required with ``where``."""

    @property
    def filtered(self) -> bool:
        return bool(self.where or self.period_column)


@dataclass(frozen=True)
class QueryProfile:
    """A custom SELECT extracted as a table: its SQL and its descriptions, keys and code table."""

    sql: str
    table: TableProfile = TableProfile()


@dataclass(frozen=True)
class FileSource:
    """``[source]`` keys for tables uttrekk reads from files itself (dBase/FoxPro .dbf)."""

    codepage: str = ""
    """The code page of tables whose header names none (``--codepage`` is taken over it)."""
    codepage_override: bool = False
    """``codepage`` also over a code page the header names."""
    deleted: str = "skip"
    """Records marked deleted: ``skip`` (counted in the report) or ``keep`` (marked in ``uttrekk_slettet``)."""

    def options(self, codepage: str | None = None) -> dict[str, Any]:
        """As ``dialects.kinds.OpenOptions`` fields, with ``--codepage`` over the profile's."""
        return {"codepage": codepage or self.codepage or None, "codepage_override": self.codepage_override,
                "deleted": self.deleted}


@dataclass(frozen=True)
class Profile:
    """A parsed, checked profile. ``Profile()`` is the empty profile used without ``--profile``."""

    path: str = ""
    metadata: Metadata = Metadata()
    charset: CharsetPolicy = CharsetPolicy()
    format: str = "delimited"
    long_text_limit: int = DEFAULT_LONG_TEXT_LIMIT
    code_list_limit: int = DEFAULT_CODE_LIST_LIMIT
    tables: dict[str, TableProfile] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    """Problems found while reading, kept when the caller checks against the schema too."""
    queries: dict[str, QueryProfile] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict, repr=False)
    """Key path -> the file it was inherited from (``extends``), for messages; own keys are absent."""
    accept_losses: tuple[str, ...] = ()
    """``[source] accept_losses``: what a dump's restore may lose (each as the restore's error names
    it) without stopping the run; ``accept_reason`` says why, and the report carries both."""
    accept_reason: str = ""
    file_source: FileSource = FileSource()
    rendering: str = "server"
    """``[output] rendering``: ``server`` (the fast path where the server renders identically) or
    ``exact`` (every value rendered by uttrekk, the reference path)."""

    def accepted_note(self) -> str:
        """The report's line on the losses the profile accepts ('' when it accepts none)."""
        if not self.accept_losses:
            return ""
        return (f"the profile accepts these losses in restoring the dump ([source] accept_losses): "
                f"{', '.join(self.accept_losses)}; reason: {self.accept_reason}")

    def table(self, name: str) -> TableProfile:
        if name in self.tables:
            return self.tables[name]
        if name in self.queries:
            return self.queries[name].table
        return TableProfile()

    def placed(self, problems: list[str]) -> list[str]:
        """Problems (``key.path: message``) with the file an inherited key came from."""
        return [placed(x, self.origins) for x in problems]


class _Problems:
    def __init__(self, origins: dict[str, str] | None = None) -> None:
        self.items: list[str] = []
        self.origins = origins or {}

    def add(self, where: str, message: str) -> None:
        origin = origin_of(where, self.origins) if where else None
        where = f"{where} (from {origin})" if origin else where
        self.items.append(f"{where}: {message}" if where else message)

    def checked(self, where: str, data: dict[str, Any], known: tuple[str, ...], required: tuple[str, ...],
                hint: str) -> bool:
        """Unknown keys reported; False (and a problem) when a required key is missing."""
        self.unknown_keys(where, data, known)
        if all(k in data for k in required):
            return True
        self.add(where, f"needs {' and '.join(repr(k) for k in required)} {hint}")
        return False

    def unknown_keys(self, where: str, data: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in data:
            if key not in known:
                near = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                self.add(f"{where}.{key}" if where else key,
                         f"unknown key{hint}; known keys here: {', '.join(known)}")


def _text(p: _Problems, where: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    p.add(where, f"must be text, not {type(value).__name__}")
    return ""


def _date_text(p: _Problems, where: str, value: Any) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat() if value else ""
        except ValueError:
            pass
    p.add(where, f"must be a date written YYYY-MM-DD, not {value!r}")
    return ""


def _reason(p: _Problems, where: str, data: dict[str, Any], what: str) -> str | None:
    """The ``exclude`` reason of a table or column; an exclusion without a reason is a problem."""
    if "exclude" not in data:
        return None
    reason = _text(p, f"{where}.exclude", data["exclude"]).strip()
    if not reason:
        p.add(f"{where}.exclude", f"give the reason the {what} is left out (bevaringsvurdering)")
    return reason or None


def _table_section(p: _Problems, where: str, data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    p.add(where, f"must be a table ([{where}]), not {type(data).__name__}")
    return {}


def load_profile(path: str | Path, defer: bool = False, metadata: dict[str, tuple[str, str]] | None = None) -> Profile:
    """Read and check a profile file and every file it ``extends``; raise ``ProfileError``
    listing every problem.

    With ``defer`` the problems are kept on the profile instead, so that ``make_plan`` can report
    them together with those only the schema reveals (unknown tables and columns). ``metadata``
    (key -> (value, the option that gave it)) overrides ``[metadata]`` before it is checked, so a
    period given on the command line also bounds the tables filtered by ``period_column``.
    """
    path = Path(path)
    merged, inherited, problems = read_with_parents(path)
    return parse_profile(with_metadata(merged, inherited, metadata), str(path), defer, origins=inherited,
                         problems=problems)


def with_metadata(data: dict[str, Any], origins: dict[str, str],
                  metadata: dict[str, tuple[str, str]] | None) -> dict[str, Any]:
    """``data`` with command-line ``[metadata]`` values over the profile's; ``origins`` learns
    which option gave each, for the problems' messages."""
    if not metadata:
        return data
    section = data.get("metadata", {})
    section = {**section, **{k: v for k, (v, _) in metadata.items()}} if isinstance(section, dict) else section
    origins.update({f"metadata.{k}": option for k, (_, option) in metadata.items()})
    return {**data, "metadata": section}


def parse_profile(data: dict[str, Any], shown: str = "<profile>", defer: bool = False, *,
                  origins: dict[str, str] | None = None, problems: list[str] | None = None) -> Profile:
    """Check a profile already read from TOML (see ``load_profile``, which resolves ``extends``
    and passes the origin of inherited keys and the problems found on the way)."""
    p = _Problems(origins)
    p.items += problems or []
    p.unknown_keys("", data, _TOP_KEYS)
    if "extends" in data:
        p.add("extends", "only works in a profile file (its paths are relative to that file)")

    meta_data = _table_section(p, "metadata", data.get("metadata", {}))
    p.unknown_keys("metadata", meta_data, _METADATA_KEYS)
    meta_values: dict[str, str] = {}
    for key in _METADATA_KEYS:
        if key in meta_data:
            where = f"metadata.{key}"
            if key.startswith("period_") or key == "extraction_date":
                meta_values[key] = _date_text(p, where, meta_data[key])
            else:
                meta_values[key] = _text(p, where, meta_data[key])
    metadata = Metadata(**meta_values)
    if metadata.period_start and metadata.period_end and metadata.period_start > metadata.period_end:
        p.add("metadata.period_start", "comes after metadata.period_end")
    if metadata.system_type and metadata.system_type not in SYSTEM_TYPES:
        p.add("metadata.system_type", f"{metadata.system_type!r} is not a system type the depot's ADDML profile "
                                      f"knows; use one of {', '.join(SYSTEM_TYPES)} (empty: Fagsystem)")

    cs_data = _table_section(p, "charset", data.get("charset", {}))
    p.unknown_keys("charset", cs_data, _CHARSET_KEYS)
    encoding = "ISO-8859-1"
    if "encoding" in cs_data:
        try:
            encoding = canonical_charset(_text(p, "charset.encoding", cs_data["encoding"]) or "?")
        except ValueError as exc:
            p.add("charset.encoding", str(exc))
    fallback = cs_data.get("utf8_fallback", False)
    if not isinstance(fallback, bool):
        p.add("charset.utf8_fallback", "must be true or false")
        fallback = False
    mapping: list[tuple[str, str]] = []
    for src, dst in _table_section(p, "charset.map", cs_data.get("map", {})).items():
        where = f"charset.map.{src!r}"
        if len(src) != 1:
            p.add(where, "each key must be exactly one character")
            continue
        if not isinstance(dst, str):
            p.add(where, "the replacement must be text")
            continue
        if foreign_chars(dst, encoding):
            p.add(where, f"the replacement {dst!r} cannot itself be written as {encoding}")
            continue
        mapping.append((src, dst))
    charset = CharsetPolicy(encoding, tuple(mapping), fallback)

    out_data = _table_section(p, "output", data.get("output", {}))
    p.unknown_keys("output", out_data, _OUTPUT_KEYS)
    fmt = out_data.get("format", "delimited")
    if fmt not in FORMATS:
        p.add("output.format", f"must be one of {', '.join(FORMATS)}, not {fmt!r}")
        fmt = "delimited"
    limit = _positive(p, "output.long_text_limit", out_data.get("long_text_limit", DEFAULT_LONG_TEXT_LIMIT),
                      DEFAULT_LONG_TEXT_LIMIT)
    code_limit = _positive(p, "output.code_list_limit", out_data.get("code_list_limit", DEFAULT_CODE_LIST_LIMIT),
                           DEFAULT_CODE_LIST_LIMIT)
    rendering = out_data.get("rendering", "server")
    if rendering not in RENDERINGS:
        p.add("output.rendering", f"must be one of {', '.join(RENDERINGS)}, not {rendering!r}")
        rendering = "server"

    source_data = _table_section(p, "source", data.get("source", {}))
    accept_losses, accept_reason = _source_section(p, source_data)

    tables: dict[str, TableProfile] = {}
    for tname, tdata in _table_section(p, "tables", data.get("tables", {})).items():
        where = f"tables.{tname}"
        tdata = _table_section(p, where, tdata)
        p.unknown_keys(where, tdata, _TABLE_KEYS)
        exclude = _reason(p, where, tdata, "table")
        code_table = _code_table(p, where, tdata)
        columns: dict[str, ColumnProfile] = {}
        for cname, cdata in _table_section(p, f"{where}.columns", tdata.get("columns", {})).items():
            cwhere = f"{where}.columns.{cname}"
            cdata = _table_section(p, cwhere, cdata)
            p.unknown_keys(cwhere, cdata, _COLUMN_KEYS)
            columns[cname] = ColumnProfile(_text(p, f"{cwhere}.description", cdata.get("description", "")),
                                           _reason(p, cwhere, cdata, "column"),
                                           _flag(p, f"{cwhere}.large_object", cdata.get("large_object"), None))
        primary_key = _names(p, f"{where}.primary_key", tdata["primary_key"]) if "primary_key" in tdata else ()
        tables[tname] = TableProfile(_text(p, f"{where}.description", tdata.get("description", "")),
                                     exclude, code_table, columns, primary_key,
                                     _foreign_keys(p, where, tdata.get("foreign_keys", [])),
                                     _pointers(p, where, tdata.get("pointers", {})),
                                     _groups(p, where, tdata.get("repeating_groups", [])),
                                     **_row_filter(p, where, tdata, metadata, exclude))
    _check_group_tables(p, tables)
    queries = {name: q for name, q in ((n, _query(p, n, q, tables))
                                       for n, q in _table_section(p, "queries", data.get("queries", {})).items())
               if q is not None}

    if p.items and not defer:
        raise ProfileError(shown, p.items)
    return Profile(shown, metadata, charset, fmt, limit, code_limit, tables, tuple(p.items), queries, dict(p.origins),
                   accept_losses, accept_reason, _file_source(p, source_data), rendering)


def _file_source(p: _Problems, data: dict[str, Any]) -> FileSource:
    """``[source] codepage``, ``codepage_override`` and ``deleted`` (dBase/FoxPro tables)."""
    import codecs

    page = _text(p, "source.codepage", data.get("codepage", "")).strip()
    if page:
        try:
            codecs.lookup(f"cp{page}" if page.isdigit() else page)
        except LookupError:
            p.add("source.codepage", f"{page!r} is not a code page Python knows (e.g. cp865, cp850, cp437, cp1252, "
                                     "iso-8859-1)")
    override = bool(_flag(p, "source.codepage_override", data.get("codepage_override"), False))
    if override and not page:
        p.add("source.codepage_override", "only applies with codepage")
    deleted = data.get("deleted", "skip")
    if deleted not in ("skip", "keep"):
        p.add("source.deleted", f"must be \"skip\" (leave deleted records out) or \"keep\", not {deleted!r}")
        deleted = "skip"
    return FileSource(page, override, deleted)


def _source_section(p: _Problems, data: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    """``[source]``: the restore losses accepted, each by name, and the reason (required, as for ``exclude``)."""
    p.unknown_keys("source", data, _SOURCE_KEYS)
    losses: tuple[str, ...] = ()
    if "accept_losses" in data:
        value = data["accept_losses"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            p.add("source.accept_losses", f"must be a list of names as the restore's error gives them, not {value!r}")
        elif len(set(value)) != len(value):
            p.add("source.accept_losses", "names one loss twice")
        else:
            losses = tuple(v.strip() for v in value)
    reason = _text(p, "source.accept_reason", data.get("accept_reason", "")).strip()
    if losses and not reason:
        p.add("source.accept_reason", "missing: say why the archive may lack what the restore lost "
                                      "(bevaringsvurdering)")
    if reason and "accept_losses" not in data:
        p.add("source.accept_reason", "only applies with accept_losses")
    return losses, reason


def _row_filter(p: _Problems, where: str, tdata: dict[str, Any], metadata: Metadata,
                exclude: str | None) -> dict[str, str]:
    """The rows to keep (``where``, ``period_column`` in a period) and why the others are left out."""
    cond = _text(p, f"{where}.where", tdata.get("where", "")).strip()
    column = _text(p, f"{where}.period_column", tdata.get("period_column", "")).strip()
    own = {k: _date_text(p, f"{where}.{k}", tdata[k]) for k in ("period_start", "period_end") if k in tdata}
    reason = _text(p, f"{where}.filter_reason", tdata.get("filter_reason", "")).strip()
    if "where" in tdata and not cond:
        p.add(f"{where}.where", "is empty; give an SQL condition selecting the rows to keep, or remove it")
    if cond and not reason:
        p.add(f"{where}.filter_reason", "missing: say why the rows outside 'where' are left out (bevaringsvurdering)")
    if reason and not (cond or column):
        p.add(f"{where}.filter_reason", "only applies with 'where' or 'period_column'")
    if own and not column:
        p.add(f"{where}.period_start", "period_start and period_end only apply with 'period_column' (the date column)")
    start = own.get("period_start") or metadata.period_start
    end = own.get("period_end") or metadata.period_end
    if column and not (start or end):
        p.add(f"{where}.period_column", "needs a period: set [metadata] period_start and period_end, or "
                                        "period_start and period_end here")
    if column and start and end and start > end:
        p.add(f"{where}.period_start", f"{start} comes after the period's end {end}")
    if exclude and (cond or column):
        p.add(where, "the table is excluded, so a row filter does not apply; remove one of them")
    if not column:
        start = end = ""
    return {"where": cond, "period_column": column, "period_start": start, "period_end": end,
            "filter_reason": reason}


_SQL_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/|;|\w+""", re.DOTALL)
WRITE_WORDS = frozenset({"insert", "update", "delete", "merge", "upsert", "create", "drop", "alter", "truncate",
                         "grant", "revoke", "call", "exec", "execute", "copy", "into", "commit", "rollback",
                         "savepoint", "vacuum", "attach", "detach", "pragma"})
"""Words that make a statement more than a query (``SELECT … INTO`` creates a table, ``FOR UPDATE`` locks)."""


def select_problem(sql: str) -> str | None:
    """Why ``sql`` is not one plain SELECT (``None`` when it is): uttrekk only reads."""
    words = []
    for token in _SQL_TOKENS.findall(sql):
        if token == ";":
            words.append(";")
        elif token[0].isalnum() or token[0] == "_":
            words.append(token.lower())
    while words and words[-1] == ";":
        words.pop()
    if not words or words[0] not in ("select", "with"):
        return "must be one SELECT (or WITH … SELECT) statement"
    if ";" in words:
        return "holds more than one statement; give one SELECT"
    bad = sorted(set(words) & WRITE_WORDS)
    if bad:
        return f"must only read, but uses {', '.join(w.upper() for w in bad)}"
    return None


def _query(p: _Problems, name: str, data: Any, tables: dict[str, TableProfile]) -> QueryProfile | None:
    """A custom query extracted as a table named ``name``."""
    where = f"queries.{name}"
    data = _table_section(p, where, data)
    if not p.checked(where, data, _QUERY_KEYS, ("sql",), "(one SELECT statement)"):
        return None
    if name in tables:
        p.add(where, f"the name is also used by [tables.{name}]; give the query another name")
    sql = _text(p, f"{where}.sql", data["sql"]).strip().rstrip(";").rstrip()
    why = select_problem(sql) if sql else "is empty; give one SELECT statement"
    if why:
        p.add(f"{where}.sql", why)
    code_table = _code_table(p, where, data)
    columns = {}
    for cname, cdata in _table_section(p, f"{where}.columns", data.get("columns", {})).items():
        cwhere = f"{where}.columns.{cname}"
        cdata = _table_section(p, cwhere, cdata)
        p.unknown_keys(cwhere, cdata, _QUERY_COLUMN_KEYS)
        columns[cname] = ColumnProfile(_text(p, f"{cwhere}.description", cdata.get("description", "")))
    primary_key = _names(p, f"{where}.primary_key", data["primary_key"]) if "primary_key" in data else ()
    table = TableProfile(_text(p, f"{where}.description", data.get("description", "")), None, code_table, columns,
                         primary_key, _foreign_keys(p, where, data.get("foreign_keys", [])))
    return None if why else QueryProfile(sql, table)


def _code_table(p: _Problems, where: str, data: dict[str, Any]) -> CodeTable | None:
    if "code_table" not in data:
        return None
    ct = _table_section(p, f"{where}.code_table", data["code_table"])
    p.unknown_keys(f"{where}.code_table", ct, _CODE_TABLE_KEYS)
    for key in ("code", "explanation"):
        if key not in ct:
            p.add(f"{where}.code_table", f"missing '{key}' (the {key} column)")
    inline = _flag(p, f"{where}.code_table.inline", ct.get("inline"), None)
    if all(isinstance(ct.get(k), str) for k in ("code", "explanation")):
        return CodeTable(ct["code"], ct["explanation"], inline)
    return None


def _positive(p: _Problems, where: str, value: Any, default: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        p.add(where, f"must be a positive whole number, not {value!r}")
        return default
    return value


def _flag(p: _Problems, where: str, value: Any, default: bool | None) -> bool | None:
    if value is None:
        return default
    if not isinstance(value, bool):
        p.add(where, f"must be true or false, not {value!r}")
        return default
    return value


def _names(p: _Problems, where: str, value: Any) -> tuple[str, ...]:
    """A non-empty list of distinct column names (a single name is accepted too)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        p.add(where, f"must be a list of column names, not {value!r}")
        return ()
    if len(set(value)) != len(value):
        p.add(where, "names a column twice")
        return ()
    return tuple(value)


def _entries(p: _Problems, where: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """The entries of an array of tables (``[[…]]``), each with its place for messages."""
    if not isinstance(value, list):
        p.add(where, f"must be a list of tables ([[{where}]]), not {type(value).__name__}")
        return []
    out = []
    for i, item in enumerate(value, 1):
        if isinstance(item, dict):
            out.append((f"{where}[{i}]", item))
        else:
            p.add(f"{where}[{i}]", f"must be a table, not {type(item).__name__}")
    return out


def _foreign_keys(p: _Problems, where: str, value: Any) -> tuple[DeclaredForeignKey, ...]:
    out = []
    for here, fk in _entries(p, f"{where}.foreign_keys", value):
        if not p.checked(here, fk, _FOREIGN_KEY_KEYS, ("columns", "references"), "(the target table)"):
            continue
        columns = _names(p, f"{here}.columns", fk["columns"])
        ref_columns = _names(p, f"{here}.ref_columns", fk["ref_columns"]) if "ref_columns" in fk else ()
        if columns and ref_columns and len(columns) != len(ref_columns):
            p.add(here, f"'columns' has {len(columns)} name(s) but 'ref_columns' has {len(ref_columns)}")
            continue
        confirmed = _flag(p, f"{here}.confirmed", fk.get("confirmed"), False)
        out.append(DeclaredForeignKey(columns, _text(p, f"{here}.references", fk["references"]), ref_columns,
                                      bool(confirmed), _text(p, f"{here}.evidence", fk.get("evidence", ""))))
    return tuple(out)


def _pointers(p: _Problems, where: str, value: Any) -> dict[str, Pointer]:
    out = {}
    for column, data in _table_section(p, f"{where}.pointers", value).items():
        here = f"{where}.pointers.{column}"
        data = _table_section(p, here, data)
        if not p.checked(here, data, _POINTER_KEYS, ("references", "address"),
                         f"(the target table, and {', '.join(ADDRESS_KINDS)} or a column of the target)"):
            continue
        address = _text(p, f"{here}.address", data["address"])
        order = _names(p, f"{here}.recno_order", data["recno_order"]) if "recno_order" in data else ()
        if order and address != "recno":
            p.add(f"{here}.recno_order", "only applies with address = \"recno\"")
        start = data.get("recno_start", 1)
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            p.add(f"{here}.recno_start", f"must be 0 or a positive whole number, not {start!r}")
            start = 1
        out[column] = Pointer(_text(p, f"{here}.references", data["references"]), address,
                              bool(_flag(p, f"{here}.keep_original", data.get("keep_original"), False)), order, start)
    return out


def _groups(p: _Problems, where: str, value: Any) -> tuple[RepeatingGroup, ...]:
    out = []
    for here, g in _entries(p, f"{where}.repeating_groups", value):
        if not p.checked(here, g, _GROUP_KEYS, ("table", "columns"), "(the child table's name, the columns)"):
            continue
        raw = g["columns"]
        if isinstance(raw, list) and raw and all(isinstance(x, list) for x in raw):
            occurrences = tuple(_names(p, f"{here}.columns[{i}]", x) for i, x in enumerate(raw, 1))
        else:
            occurrences = tuple((c,) for c in _names(p, f"{here}.columns", raw))
        if len(occurrences) < 2 or not all(occurrences):
            p.add(f"{here}.columns", "a repeating group needs at least two occurrences")
            continue
        if len({len(o) for o in occurrences}) != 1:
            p.add(f"{here}.columns", "every occurrence must have the same number of columns")
            continue
        flat = [c for o in occurrences for c in o]
        if len(set(flat)) != len(flat):
            p.add(f"{here}.columns", "names a column twice")
            continue
        fields = _names(p, f"{here}.fields", g["fields"]) if "fields" in g else occurrences[0]
        if len(fields) != len(occurrences[0]):
            p.add(f"{here}.fields", f"gives {len(fields)} name(s) for occurrences of {len(occurrences[0])} column(s)")
            continue
        out.append(RepeatingGroup(_text(p, f"{here}.table", g["table"]), occurrences, fields))
    return tuple(out)


def _check_group_tables(p: _Problems, tables: dict[str, TableProfile]) -> None:
    seen: dict[str, str] = {}
    for tname, tprof in tables.items():
        for g in tprof.repeating_groups:
            if g.table in seen:
                p.add(f"tables.{tname}.repeating_groups", f"child table name '{g.table}' is used twice")
            seen[g.table] = tname
