"""Where each value of a SIARD table sits in its table XML, and under which name uttrekk archives it.

A plain column is one cell ``c<i>``. A column of a distinct type is its base type. A structured
(UDT) column holds its attributes as ``u<j>`` inside ``c<i>`` (nested for nested types), and an
array column its elements as ``a<k>``: each becomes a field of its own, named
``COLUMN_ATTRIBUTE`` or ``COLUMN_k`` and described as part of the column, so no value is lost and
none is squeezed into text. A LOB folder is the nearest one given (column, then field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import metadata as md
from .archive import SiardError
from .types import SqlType, sql_type

MAX_DEPTH = 8
"""Deepest nesting of structured types read (a type that contains itself is refused before)."""


@dataclass(frozen=True)
class Leaf:
    """One value of a row: its path of elements in the table XML and what it is."""

    name: str
    """The field's name in the extract (the column's own name for a plain column)."""
    path: tuple[str, ...]
    """Element local names from the row down: ``("c3",)``, ``("c3", "u2")``, ``("c4", "a1")``."""
    type: SqlType
    column: md.Column
    lob_folders: tuple[str, ...] = ()
    """The lobFolder values that apply, outermost first (the column's, then its fields')."""
    part: str = ""
    """For a field of a structured column: what part of the column it is (in Norwegian)."""
    array: int = 0
    """An array column's (or attribute's) cardinality: its elements are ``a1``, ``a2``… inside the
    path, and its value is the list of them (``None`` for NULL); 0 for a scalar."""
    refused: str = ""
    """Why an array's elements cannot be archived (an array of structured values)."""

    @property
    def native_type(self) -> str:
        original = self.column.type_original
        base = self.column.type or (f"{self.column.type_schema}.{self.column.type_name}" if self.column.type_schema
                                    else self.column.type_name or "")
        if self.array:
            return f"ARRAY[{self.array}] OF {self.type.name}" + (f" ({self.part} av {base})" if self.part else "")
        if self.part:
            return f"{self.type.name} ({self.part} av {base})"
        return f"{self.type.name} (original {original})" if original and original != self.type.name else self.type.name


def _field_named(fields: tuple[md.Field, ...], name: str) -> md.Field | None:
    return next((f for f in fields if f.name == name), None)


def leaves(schema: md.Schema, table: md.Table, where: str, archive: md.Archive | None = None) -> tuple[Leaf, ...]:
    out: list[Leaf] = []
    taken = {c.name.casefold() for c in table.columns}

    def free(name: str) -> str:
        while name.casefold() in taken:
            name += "_"
        taken.add(name.casefold())
        return name

    for i, col in enumerate(table.columns, 1):
        folders = (col.lob_folder,) if col.lob_folder else ()
        out += _column_leaves(schema, archive, col, (f"c{i}",), col.name, col.type, col.type_schema, col.type_name,
                              col.cardinality, col.fields, folders, "", f"{where}, column {col.name}", free, 0)
    return tuple(out)


def _column_leaves(schema: md.Schema, archive: md.Archive | None, col: md.Column, path: tuple[str, ...], name: str,
                   type_text: str | None,
                   type_schema: str | None, type_name: str | None, cardinality: int | None,
                   fields: tuple[md.Field, ...], folders: tuple[str, ...], part: str, where: str,
                   free: Callable[[str], str], depth: int) -> list[Leaf]:
    if depth > MAX_DEPTH:
        raise SiardError(f"metadata.xml: {where}: structured types nested deeper than {MAX_DEPTH}")
    if cardinality:
        label = name if depth == 0 else free(name)
        if type_text is None and type_name is not None:
            udt = _user_type(schema, archive, type_schema, type_name, where)
            if udt.category == "distinct" and udt.base:
                type_text = udt.base
            else:
                return [Leaf(label, path, sql_type("VARCHAR"), col, folders, part, cardinality,
                             f"an array of the structured type {type_name}, which uttrekk does not read")]
        if type_text is None:
            raise SiardError(f"metadata.xml: {where}: neither <type> nor <typeName>")
        return [Leaf(label, path, sql_type(type_text), col, folders, part, cardinality)]
    if type_text is not None:
        t = sql_type(type_text)
        label = name if depth == 0 else free(name)
        return [Leaf(label, path, t, col, folders, part)]
    if type_name is None:
        raise SiardError(f"metadata.xml: {where}: neither <type> nor <typeName>")
    udt = _user_type(schema, archive, type_schema, type_name, where)
    if udt.category == "distinct":
        if not udt.base:
            raise SiardError(f"metadata.xml: {where}: distinct type {type_name} has no <base>")
        t = sql_type(udt.base)
        label = name if depth == 0 else free(name)
        return [Leaf(label, path, t, col, folders, _join(part, f"type {type_name}") if depth else "")]
    out = []
    for j, attr in enumerate(udt.attributes, 1):
        f = _field_named(fields, attr.name) or (fields[j - 1] if j - 1 < len(fields) else None)
        sub = (*folders, f.lob_folder) if f and f.lob_folder else folders
        out += _column_leaves(schema, archive, col, (*path, f"u{j}"), f"{name}_{attr.name}", attr.type, attr.type_schema,
                              attr.type_name, attr.cardinality, f.fields if f else (), sub,
                              _join(part, f"attributt {attr.name}"), f"{where}, attribute {attr.name}", free, depth + 1)
    return out


def _user_type(schema: md.Schema, archive: md.Archive | None, type_schema: str | None, type_name: str,
               where: str) -> md.UserType:
    owner = schema
    if type_schema and type_schema != schema.name:
        found = archive.schema(type_schema) if archive is not None else None
        if found is None:
            raise SiardError(f"metadata.xml: {where}: type {type_schema}.{type_name}: metadata.xml has no schema "
                             f"{type_schema}")
        owner = found
    udt = owner.type(type_name)
    if udt is None:
        raise SiardError(f"metadata.xml: {where}: type {type_name} is not defined in schema {owner.name}")
    return udt


def _join(a: str, b: str) -> str:
    return f"{a}, {b}" if a else b
