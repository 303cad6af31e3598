"""The adapter on an Access file's SQLite copy (``access_file``): Access's types, keys and design.

Rows are read from the copy like any SQLite database (read-only, streaming). Reflection does not
ask SQLite: it is the file's own description, written by the load (``schema.json``): each column's
Access type (``Currency``, ``Number (Decimal 18,4)``, ``Text(50)``, ``Hyperlink``, ``OLE Object``…)
with the kind that renders its values exactly (Currency and Decimal are exact text, Date/Time ISO
text, Yes/No 0/1, Single a float of 24 bits), primary and unique keys from the indexes, foreign keys
from the relationships and lookups, descriptions, and value lists as code lists.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from extractor.errors import SourceError
from extractor.model import Column, ForeignKey, Schema, Table

from ..sqlite import SQLite
from . import Probe


class AccessSource(SQLite):
    name = "msaccess"
    typed_values = True
    """Every value in the copy is of its column's type (the load wrote it so)."""
    file: Path
    schema_facts: dict[str, Any]
    _stack: ExitStack

    @classmethod
    def open_copy(cls, copy: Path, probe: Probe, schema: dict[str, Any], stack: ExitStack) -> AccessSource:
        assert probe.path is not None
        source = cls.from_path(copy)
        assert isinstance(source, AccessSource)
        source.label = probe.text
        source.file = probe.path
        source.schema_facts = schema
        source._stack = stack
        return source

    @property
    def engine_name(self) -> str:
        return "msaccess"

    def source_files(self) -> tuple[Path, ...]:
        return (self.file,)

    def source_details(self) -> dict[str, str]:
        return {"engine": "MS Access", "file": str(self.file.expanduser().resolve()), "machine": os.uname().nodename,
                **dict(self.provenance)}

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        if schema is not None:
            raise SourceError(f"{self.label}: an Access file has no schemas; leave --schema out")
        self.schema_read = None
        tables = [self._described(t) for t in self.schema_facts["tables"]]
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

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._stack.close()
