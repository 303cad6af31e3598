"""Profiles: a system described once in TOML, read into a frozen ``Profile``.

Every problem in a profile is collected and reported at once with the file and the key path;
an unknown key is an error that lists the keys that are known at that place.
"""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .charset import CharsetPolicy, canonical_charset, foreign_chars
from .errors import ProfileError

FORMATS = ("delimited", "fixed", "xml")
"""Output formats for the table files."""

DEFAULT_LONG_TEXT_LIMIT = 2047
"""Longest text kept inside a field; longer values go to their own file (the old depot rule)."""

_TOP_KEYS = ("metadata", "charset", "output", "tables")
_METADATA_KEYS = ("archive_creator", "submitter", "system_name", "system_version", "system_type",
                  "description", "period_start", "period_end", "extraction_date")
_CHARSET_KEYS = ("encoding", "utf8_fallback", "map")
_OUTPUT_KEYS = ("format", "long_text_limit")
_TABLE_KEYS = ("description", "exclude", "code_table", "columns")
_CODE_TABLE_KEYS = ("code", "explanation")
_COLUMN_KEYS = ("description", "exclude")


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


@dataclass(frozen=True)
class CodeTable:
    code: str
    explanation: str


@dataclass(frozen=True)
class ColumnProfile:
    description: str = ""
    exclude: str | None = None


@dataclass(frozen=True)
class TableProfile:
    description: str = ""
    exclude: str | None = None
    code_table: CodeTable | None = None
    columns: dict[str, ColumnProfile] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """A parsed, checked profile. ``Profile()`` is the empty profile used without ``--profile``."""

    path: str = ""
    metadata: Metadata = Metadata()
    charset: CharsetPolicy = CharsetPolicy()
    format: str = "delimited"
    long_text_limit: int = DEFAULT_LONG_TEXT_LIMIT
    tables: dict[str, TableProfile] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    """Problems found while reading, kept when the caller checks against the schema too."""

    def table(self, name: str) -> TableProfile:
        return self.tables.get(name, TableProfile())


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}" if where else message)

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


def load_profile(path: str | Path, defer: bool = False) -> Profile:
    """Read and check a profile file; raise ``ProfileError`` listing every problem.

    With ``defer`` the problems are kept on the profile instead, so that ``make_plan`` can report
    them together with those only the schema reveals (unknown tables and columns).
    """
    path = Path(path)
    shown = str(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(shown, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(shown, [f"cannot be read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(shown, [f"is not valid TOML: {exc}"]) from None
    return parse_profile(data, shown, defer)


def parse_profile(data: dict[str, Any], shown: str = "<profile>", defer: bool = False) -> Profile:
    """Check a profile already read from TOML (see ``load_profile``)."""
    p = _Problems()
    p.unknown_keys("", data, _TOP_KEYS)

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
    limit = out_data.get("long_text_limit", DEFAULT_LONG_TEXT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        p.add("output.long_text_limit", f"must be a positive whole number, not {limit!r}")
        limit = DEFAULT_LONG_TEXT_LIMIT

    tables: dict[str, TableProfile] = {}
    for tname, tdata in _table_section(p, "tables", data.get("tables", {})).items():
        where = f"tables.{tname}"
        tdata = _table_section(p, where, tdata)
        p.unknown_keys(where, tdata, _TABLE_KEYS)
        exclude = _reason(p, where, tdata, "table")
        code_table = None
        if "code_table" in tdata:
            ct = _table_section(p, f"{where}.code_table", tdata["code_table"])
            p.unknown_keys(f"{where}.code_table", ct, _CODE_TABLE_KEYS)
            for key in _CODE_TABLE_KEYS:
                if key not in ct:
                    p.add(f"{where}.code_table", f"missing '{key}' (the {key} column)")
            if all(isinstance(ct.get(k), str) for k in _CODE_TABLE_KEYS):
                code_table = CodeTable(ct["code"], ct["explanation"])
        columns: dict[str, ColumnProfile] = {}
        for cname, cdata in _table_section(p, f"{where}.columns", tdata.get("columns", {})).items():
            cwhere = f"{where}.columns.{cname}"
            cdata = _table_section(p, cwhere, cdata)
            p.unknown_keys(cwhere, cdata, _COLUMN_KEYS)
            columns[cname] = ColumnProfile(_text(p, f"{cwhere}.description", cdata.get("description", "")),
                                           _reason(p, cwhere, cdata, "column"))
        tables[tname] = TableProfile(_text(p, f"{where}.description", tdata.get("description", "")),
                                     exclude, code_table, columns)

    if p.items and not defer:
        raise ProfileError(shown, p.items)
    return Profile(shown, metadata, charset, fmt, limit, tables, tuple(p.items))
