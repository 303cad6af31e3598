"""The adapter on an Access file's SQLite copy (``access_file``): Access's types, keys and design.

Rows are read from the copy like any SQLite database (read-only, streaming). Reflection does not
ask SQLite: it is the file's own description, written by the load (``schema.json``): each column's
Access type (``Currency``, ``Number (Decimal 18,4)``, ``Text(50)``, ``Hyperlink``, ``OLE Object``…)
with the kind that renders its values exactly (Currency and Decimal are exact text, Date/Time ISO
text, Yes/No 0/1, Single a float of 24 bits), primary and unique keys from the indexes, foreign keys
from the relationships and lookups, descriptions, and value lists as code lists.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from extractor.errors import SourceError
from extractor.model import Column, ForeignKey, Schema, Table

from .copied_source import CopiedSource


class AccessSource(CopiedSource):
    name = "msaccess"
    engine_label = "MS Access"
    typed_values = True
    """Every value in the copy is of its column's type (the load wrote it so)."""

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        if schema is not None:
            raise SourceError(f"{self.label}: an Access file has no schemas; leave --schema out")
        self.schema_read = None
        tables = [self._described(t) for t in self.facts["tables"]]
        return Schema(tuple(sorted(tables, key=lambda t: t.name)), source_label=self.label, engine=self.engine_name)

    @staticmethod
    def _described(t: dict[str, Any]) -> Table:
        columns = tuple(Column(name=c["name"], native_type=c["native_type"], kind=c["kind"],
                               nullable=c.get("nullable", True), length=c.get("length"),
                               precision=c.get("precision"), scale=c.get("scale"), float_bits=c.get("float_bits"),
                               comment=c.get("comment"), codes=tuple(c.get("codes", ())),
                               codes_source=c.get("codes_source", "")) for c in t["columns"])
        fks = tuple(ForeignKey(tuple(f["columns"]), f["ref_table"], tuple(f["ref_columns"]), f.get("name"))
                    for f in t["foreign_keys"])
        return Table(name=t["name"], columns=columns, primary_key=tuple(t["primary_key"]),
                     unique_keys=tuple(tuple(u) for u in t["unique_keys"]), foreign_keys=fks, comment=t.get("comment"))
