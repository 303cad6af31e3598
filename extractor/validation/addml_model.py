"""The ADDML definitions the checks run on, and namespace-tolerant helpers to read them from XML.

Names follow Arkade 5's model (``Base/Addml/Definitions``): a flat file with its properties, its
definition with record definitions, fields, keys and processes, and the types of both.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from .datatypes import DataType

NS = "http://www.arkivverket.no/standarder/addml"


@dataclass(frozen=True)
class Problem:
    """Something wrong or odd in addml.xml itself, reported under ``check`` (U.06 unless said)."""

    severity: str
    message: str
    check: str = "U.06"


@dataclass
class FieldDef:
    name: str
    index: int
    type_name: str
    dtype: DataType | None
    start: int | None = None
    end: int | None = None
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    unique: bool = False
    not_null: bool = False
    codes: frozenset[str] | None = None
    processes: list[str] = field(default_factory=list)
    in_pk: bool = False

    @property
    def nullable(self) -> bool:
        return not self.not_null


@dataclass
class KeyDef:
    name: str | None
    kind: str
    fields: list[str]
    ref_file: str | None = None
    ref_record: str | None = None
    ref_fields: list[str] = field(default_factory=list)


@dataclass
class RecordDef:
    name: str
    file: str
    fixed_length: int | None
    field_value: str | None
    fields: list[FieldDef]
    keys: list[KeyDef]
    processes: list[str] = field(default_factory=list)
    header_level: int = 0
    declared_records: int | None = None
    """Records of this type the description declares (ADDMML 7's ``nu_recs``); None when it does not say."""

    def field(self, name: str) -> FieldDef | None:
        low = name.lower()
        return next((f for f in self.fields if f.name.lower() == low), None)

    @cached_property
    def pk_fields(self) -> list[FieldDef]:
        return [f for f in self.fields if f.in_pk]

    @property
    def foreign_keys(self) -> list[KeyDef]:
        return [k for k in self.keys if k.kind == "foreign"]


@dataclass
class FileType:
    name: str
    charset: str
    codec: str | None
    fixed: bool
    record_sep: str | None
    field_sep: str | None
    quote: str | None
    record_sep_text: str | None = None


@dataclass
class FlatFileDef:
    name: str
    type_ref: str
    ftype: FileType | None
    identifier: str | None
    records: list[RecordDef]
    processes: list[str] = field(default_factory=list)
    readable: bool = True

    def record(self, name: str) -> RecordDef | None:
        low = name.lower()
        return next((r for r in self.records if r.name.lower() == low), None)


@dataclass
class FlatFile:
    name: str
    definition: FlatFileDef | None
    file_name: str | None
    path: str | None
    declared_records: int | None
    checksum_algorithm: str | None
    checksum_value: str | None


@dataclass
class Addml:
    root: etree._Element
    dataset: etree._Element | None
    flat_files: list[FlatFile]
    definitions: dict[str, FlatFileDef]
    file_types: dict[str, FileType]
    field_types: dict[str, DataType]
    problems: list[Problem]
    namespaced: bool
    has_header_level: bool
    missing: set[str] = field(default_factory=set)
    """Names of flatFileDefinitions referred to but not defined (each reported once)."""
    kind: str = "addml"
    """``addml`` (ADDML 8.x) or ``addmml`` (ADDMML 7.x, read by ``addmml_read``)."""

    @property
    def has_flat_files(self) -> bool:
        if self.kind == "addmml":
            return bool(self.flat_files)
        return kid(self.dataset, "flatFiles") is not None


# --- namespace-tolerant navigation ---

def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def kids(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and local(c) == name]


def kid(el: etree._Element | None, name: str) -> etree._Element | None:
    found = kids(el, name)
    return found[0] if found else None


def text(el: etree._Element | None, name: str) -> str | None:
    k = kid(el, name)
    if k is None:
        return None
    return k.text or ""


# --- charsets and separators ---

def charset_codec(charset: str) -> tuple[str | None, str | None]:
    """Python codec for an ADDML charset name as Arkade normalises it; and a note when Arkade likely cannot read it."""
    key = charset.strip().replace("_", "-").lower()
    if key in ("iso-8859-1", "latin1", "latin-1", "iso8859-1"):
        return "latin-1", None
    if key in ("utf-8", "utf8"):
        return "utf-8", None
    if key in ("us-ascii", "ascii"):
        return "ascii", None
    try:
        codec = codecs.lookup(key).name
    except LookupError:
        return None, f"charset {charset!r} is unknown"
    return codec, (f"charset {charset!r}: .NET 8 as used by Arkade 5 decodes only UTF-8, ISO-8859-1, ASCII and "
                   "UTF-16/32 without extra code pages, so Arkade very likely cannot read this file")


def separator(raw: str | None) -> str | None:
    """Arkade's Separator: the text with ``CRLF`` -> CR LF and ``LF`` -> LF, else taken literally."""
    if raw is None:
        return None
    return raw.replace("CRLF", "\r\n").replace("LF", "\n")
