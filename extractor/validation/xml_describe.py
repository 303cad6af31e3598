"""What addml.xml's ``dataObjects`` say about an XML extract: its files, their tables and keys.

uttrekk's XML format (``--format xml``) describes each table file as a ``dataObject`` with
properties (extractor/addml.py): ``fileName``, ``schemaFileName``, ``numberOfOccurrences``,
``checksum`` (``algorithm``, ``value``), ``charset``, ``format`` (``XML``), ``primaryKey`` and
``alternateKey`` (column names joined by ``, ``), ``codes`` (a column with its ``code`` values)
and ``foreignKey`` (``a, b -> TABLE(c, d)``); each schema is a ``dataObject`` of its own with
format ``XSD``. Anything that cannot be read is a U.06 problem, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .addml_model import Problem, kid, kids, local
from .addml_read import resolve_file_name
from .findings import ERROR, WARNING

_FK = re.compile(r"^\s*(?P<cols>.+?)\s*->\s*(?P<table>[^()]+?)\s*\((?P<refs>.*)\)\s*$")


@dataclass
class Prop:
    name: str
    value: str | None
    children: list[Prop]

    def child(self, name: str) -> Prop | None:
        return next((c for c in self.children if c.name == name), None)


@dataclass
class ForeignKeySpec:
    columns: list[str]
    table: str
    ref_columns: list[str]
    text: str


@dataclass
class DataObject:
    """A described file: a table file (format XML) or another file such as its schema."""

    name: str
    path: str | None
    file_format: str
    declared_records: int | None = None
    checksum_algorithm: str | None = None
    checksum_value: str | None = None
    charset: str | None = None
    schema_path: str | None = None
    primary_key: list[str] = field(default_factory=list)
    alternate_keys: list[list[str]] = field(default_factory=list)
    foreign_keys: list[ForeignKeySpec] = field(default_factory=list)
    codes: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def is_table(self) -> bool:
        return self.file_format.upper() == "XML"


def _props(el: etree._Element | None) -> list[Prop]:
    out = []
    for p in kids(kid(el, "properties"), "property"):
        value_el = kid(p, "value")
        out.append(Prop(p.get("name", ""), (value_el.text or "") if value_el is not None else None, _props(p)))
    return out


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def read_data_objects(dataset: etree._Element | None) -> tuple[list[DataObject], list[Problem]]:
    """Every dataObject with a fileName, in document order (nested dataObjects included)."""
    problems: list[Problem] = []
    objects: list[DataObject] = []
    container = kid(dataset, "dataObjects")
    if container is None:
        return objects, problems
    for el in container.iter():
        if not isinstance(el.tag, str) or local(el) != "dataObject":
            continue
        name = el.get("name", "")
        props = _props(el)
        by_name: dict[str, list[Prop]] = {}
        for p in props:
            by_name.setdefault(p.name, []).append(p)
        file_name = by_name.get("fileName", [None])[0]
        if file_name is None or not file_name.value:
            if kid(el, "dataObjects") is None:
                problems.append(Problem(WARNING, f"dataObject {name!r} has no fileName property; it describes no file"))
            continue
        path = resolve_file_name(file_name.value, problems, name)
        fmt = (by_name.get("format", [None])[0] or Prop("", "", [])).value or ""
        if not fmt and file_name.value.lower().endswith(".xml") and "schemaFileName" in by_name:
            fmt = "XML"
        obj = DataObject(name, path, fmt)
        objects.append(obj)
        _read_properties(obj, by_name, problems)
    return objects, problems


def _read_properties(obj: DataObject, by_name: dict[str, list[Prop]], problems: list[Problem]) -> None:
    def one(key: str) -> Prop | None:
        found = by_name.get(key, [])
        if len(found) > 1:
            problems.append(Problem(ERROR, f"dataObject {obj.name!r}: property {key} given {len(found)} times"))
        return found[0] if found else None

    occurrences = one("numberOfOccurrences")
    if occurrences is not None:
        try:
            obj.declared_records = int((occurrences.value or "").strip())
        except ValueError:
            problems.append(Problem(ERROR, f"dataObject {obj.name!r}: numberOfOccurrences {occurrences.value!r} is not "
                                           "a whole number"))
    checksum = one("checksum")
    if checksum is not None:
        algorithm, value = checksum.child("algorithm"), checksum.child("value")
        obj.checksum_algorithm = algorithm.value if algorithm else None
        obj.checksum_value = value.value if value else None
    charset = one("charset")
    obj.charset = charset.value if charset else None
    schema = one("schemaFileName")
    if schema is not None and schema.value:
        obj.schema_path = resolve_file_name(schema.value, problems, obj.name)
    pk = one("primaryKey")
    obj.primary_key = _columns(pk.value or "") if pk else []
    obj.alternate_keys = [_columns(p.value or "") for p in by_name.get("alternateKey", [])]
    for p in by_name.get("codes", []):
        obj.codes[(p.value or "").strip()] = frozenset(c.value or "" for c in p.children if c.name == "code")
    for p in by_name.get("foreignKey", []):
        m = _FK.match(p.value or "")
        if m is None:
            problems.append(Problem(WARNING, f"dataObject {obj.name!r}: foreignKey {p.value!r} is not of the form "
                                             "'a, b -> TABLE(c, d)'; it is not checked"))
            continue
        cols, refs = _columns(m.group("cols")), _columns(m.group("refs"))
        if len(cols) != len(refs):
            problems.append(Problem(WARNING, f"dataObject {obj.name!r}: foreignKey {p.value!r} pairs {len(cols)} "
                                             f"column(s) with {len(refs)}; it is not checked"))
            continue
        obj.foreign_keys.append(ForeignKeySpec(cols, m.group("table").strip(), refs, (p.value or "").strip()))
