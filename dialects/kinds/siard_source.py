"""The adapter on a SIARD file's SQLite copy (``siard_file``): SIARD's types, keys and descriptions.

Rows are read from the copy like any SQLite database (read-only, streaming). Reflection does not ask
SQLite: it is the archive's own description, written by the load (``schema.json``): each column's
SQL:2008 type (with the source engine's original type when SIARD gives it) and the kind that renders
its values exactly, primary keys, candidate keys as unique keys, foreign keys, descriptions, and
check constraints and views in the table's and the dataset's description.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from extractor.errors import SourceError
from extractor.model import ArrayType, Column, ForeignKey, Schema, Table

from ..checks import in_list
from .copied_source import CopiedSource
from .siard_load import ROW


def _column(c: dict[str, Any], codes: dict[str, tuple[str, ...]]) -> Column:
    coded = codes.get(c["name"].casefold(), ())
    scalar = Column(name=c["name"], native_type=c["native_type"], kind=c["kind"], nullable=c.get("nullable", True),
                    length=c.get("length"), precision=c.get("precision"), scale=c.get("scale"),
                    float_bits=c.get("float_bits"), timezone=bool(c.get("timezone")), comment=c.get("comment"),
                    codes=coded, codes_source="kontrollregelen i SIARD-filen" if coded else "")
    if not c.get("array"):
        return scalar
    element = replace(scalar, nullable=True, comment=None)
    return replace(scalar, kind="array", length=None, precision=None, scale=None, float_bits=None, codes=(),
                   codes_source="", array=ArrayType(element, ((1, int(c["array"])),), c.get("refused", "")))


class SiardSource(CopiedSource):
    name = "siard"
    engine_label = "SIARD"

    def reflect(self, schema: str | None = None, views: bool | Collection[str] = False) -> Schema:
        tables = self.facts["tables"]
        if schema is not None:
            named = [s["name"] for s in self.facts["schemas"]]
            if schema not in named:
                raise SourceError(f"{self.label}: the SIARD file has no schema {schema!r}; it holds "
                                  + ", ".join(f"{s['name']} ({s['tables']} tables)" for s in self.facts["schemas"]))
            tables = [t for t in tables if t["schema"] == schema]
        self.schema_read = schema
        kept = {t["name"] for t in tables}
        out = [self._described(t, kept) for t in tables]
        return Schema(tuple(sorted(out, key=lambda t: t.name)), source_label=self.label, engine=self.engine_name)

    @staticmethod
    def _described(t: dict[str, Any], kept: set[str]) -> Table:
        codes: dict[str, tuple[str, ...]] = {}
        for check in t.get("checks", ()):
            found = in_list(check["condition"])
            if found is not None:
                codes[found[0].casefold()] = found[1]
        columns = tuple(_column(c, codes) for c in t["columns"])
        fks = tuple(ForeignKey(tuple(f["columns"]), f["ref_table"], tuple(f["ref_columns"]), f.get("name") or None)
                    for f in t["foreign_keys"] if f.get("found") and f["ref_table"] in kept)
        return Table(name=t["name"], columns=columns, primary_key=tuple(t["primary_key"]),
                     unique_keys=tuple(tuple(u) for u in t["unique_keys"]), foreign_keys=fks, comment=t.get("comment"))

    # -- arrays: the elements are in a side table per column (``siard_load.array_table``) ----------

    def _facts(self, table: str, column: str) -> dict[str, Any]:
        t = next(t for t in self.facts["tables"] if t["name"] == table)
        return next(c for c in t["columns"] if c["name"] == column)

    def element_count(self, table: Table, name: str) -> Any:
        """The parent's column holds the number of elements (NULL for a NULL array)."""
        return sa.column(name)

    def array_dimensions(self, table: Table, name: str) -> tuple[int, ...]:
        return (1,)

    def array_elements(self, parent: Table, key: Sequence[str], order_by: Sequence[str], name: str,
                       child: Table) -> Table:
        """The elements joined to their parent row by its number in the table file, with their index
        (``a1`` is 1) and value; a NULL or empty array gives no rows."""
        side = self._facts(parent.name, name)["array_table"]
        heads = list(key) or [child.columns[0].name]
        inner: list[Any] = [sa.column(k) for k in key] or [self.record_number(parent, order_by).label(heads[0])]
        parents = self.sql_text(sa.select(*inner, sa.column(ROW).label("ux_r")).select_from(self._selectable(parent)))
        names = [self._quote(c.name) for c in child.columns]
        selected = [f"ux_p.{self._quote(h)} AS {n}" for h, n in zip(heads, names, strict=False)]
        selected += [f"ux_e.idx AS {names[-2]}", f"ux_e.value AS {names[-1]}"]
        return replace(child, query=f"SELECT {', '.join(selected)} FROM ({parents}) AS ux_p JOIN "
                                    f"{self._quote(side)} AS ux_e ON ux_e.parent = ux_p.ux_r")
