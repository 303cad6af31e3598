"""What the loaded database will hold: one table per record definition, typed columns, keys, code lists.

Made from what the validation reader understood of addml.xml (``validation.addml_read``) or, for
an XML extract, of its ``dataObjects`` and shipped schemas (``validation.xml_describe``,
``xml_schema``); nothing here parses ADDML again. Names become SQL names (at most 63 bytes, unique
without regard to case, the load's own tables reserved); every rename is noted.

uttrekk's own conventions are read as they are documented (docs/format.md): a LOB list
(``LOBFILER``: a one-field key ``fil`` with ``tabell`` and ``felt``) makes each field referring to
it a path whose file is loaded (``<field>_innhold``, BLOB/BYTEA), a ``<field>_fil`` path after a
text field ``<field>`` holds that field's long text, and in fixed width ``<field>_lengde`` gives
a text's exact length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..validation.addml_model import Addml, FlatFile, FlatFileDef, RecordDef
from ..validation.xml_describe import DataObject
from ..validation.xml_schema import TableSchema
from .convert import ColumnType, Converter, column_type, xsd_column_type
from .describe import Descriptions

NAME_BYTES = 63
"""PostgreSQL's identifier limit; SQLite gets the same names."""
META_TABLES = ("uttrekk_beskrivelse", "uttrekk_avvik", "uttrekk_nokler")
"""The load's own tables: descriptions, what could not be loaded, keys and why each was (not) declared."""


@dataclass
class Column:
    name: str
    """SQL name."""
    field: str
    """The field's name in the extract ('' for a column the load adds)."""
    index: int
    """Position of the field's value in a record (-1 for an added column)."""
    ctype: ColumnType
    data_type: str = ""
    fmt: str | None = None
    not_null: bool = False
    null_values: frozenset[str] = frozenset()
    description: str | None = None
    codes: list[tuple[str, str | None]] | None = None
    file_bytes_of: int | None = None
    """An added column: the bytes of the file whose path is the value at this index."""
    long_text_in: int | None = None
    """A text field whose long values are in the file whose path is the value at this index."""
    exact_length: int | None = None
    """Fixed width: the index of the field that gives this text's exact length."""

    @property
    def kind(self) -> str:
        return "blob" if self.file_bytes_of is not None else self.ctype.kind

    @property
    def convert(self) -> Converter:
        return self.ctype.convert


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    target: Table
    target_columns: list[str]


@dataclass
class Table:
    name: str
    origin: str
    """The record definition (``file/record``) or data object it comes from, for messages."""
    path: str | None
    columns: list[Column]
    description: str | None = None
    fixed: bool = False
    codec: str | None = None
    declared_records: int | None = None
    pk: list[str] = field(default_factory=list)
    alternates: list[list[str]] = field(default_factory=list)
    fks: list[ForeignKey] = field(default_factory=list)
    rdef: RecordDef | None = None
    obj: DataObject | None = None
    layout: TableSchema | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class CodeTable:
    name: str
    table: Table
    column: Column
    codes: list[tuple[str, str | None]]
    kind: str = "text"
    """The kind of the ``kode`` column: the field's, when every code converts to it."""


@dataclass
class Plan:
    tables: list[Table] = field(default_factory=list)
    code_tables: list[CodeTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the plan could not take as the extract says (a renamed table, a file not read)."""
    dataset: str | None = None


class Namer:
    """SQL names: unique without regard to case, at most ``NAME_BYTES`` bytes of UTF-8, no NUL."""

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self.taken = {n.lower() for n in reserved}

    def __call__(self, wanted: str) -> str:
        base = "".join(c for c in wanted if c >= " ") or "felt"
        base = _cut(base, NAME_BYTES)
        name, n = base, 1
        while name.lower() in self.taken:
            n += 1
            suffix = f"_{n}"
            name = _cut(base, NAME_BYTES - len(suffix)) + suffix
        self.taken.add(name.lower())
        return name


def _cut(text: str, limit: int) -> str:
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def plan_flat_files(doc: Addml, texts: Descriptions, fraction_limit: int | None) -> Plan:
    plan = Plan(dataset=texts.dataset)
    tables = Namer(META_TABLES)
    by_record: dict[int, Table] = {}
    definitions = {d.name.lower(): d for d in doc.definitions.values()}
    for flat in doc.flat_files:
        fdef = flat.definition
        if fdef is None or not fdef.readable or flat.path is None or fdef.ftype is None:
            plan.notes.append(f"flatFile {flat.name}: not loaded, addml.xml does not say how to read it "
                              "(uttrekk validate names the problem)")
            continue
        for rdef in fdef.records:
            wanted = rdef.name if len(fdef.records) > 1 else (flat.name or fdef.name)
            name = tables(wanted)
            if name != wanted:
                plan.notes.append(f"{fdef.name}/{rdef.name}: loaded as table {name!r} (the name {wanted!r} is taken "
                                  "or too long)")
            t = _flat_table(name, flat, fdef, rdef, texts, fraction_limit, plan)
            by_record[id(rdef)] = t
            plan.tables.append(t)
    for t in plan.tables:
        assert t.rdef is not None
        _keys(t, t.rdef, by_record, definitions, plan)
    _files(plan)
    _code_tables(plan, tables)
    return plan


def _flat_table(name: str, flat: FlatFile, fdef: FlatFileDef, rdef: RecordDef, texts: Descriptions,
                fraction_limit: int | None, plan: Plan) -> Table:
    assert fdef.ftype is not None
    cols = Namer()
    columns = []
    for f in rdef.fields:
        if f.dtype is None:
            ctype = column_type("string", None, None)
            ctype = ColumnType("text", ctype.convert, f"fieldType {f.type_name!r} is not defined; loaded as text")
        else:
            ctype = column_type(f.dtype.data_type, f.dtype.fmt, fraction_limit)
        text = texts.field(fdef.name, rdef.name, f.name)
        sql = cols(f.name)
        if sql != f.name:
            plan.notes.append(f"{name}.{f.name}: loaded as column {sql!r}")
        codes = sorted(f.codes) if f.codes is not None else None
        columns.append(Column(sql, f.name, f.index, ctype, f.dtype.data_type if f.dtype else "", f.dtype.fmt if f.dtype
                              else None, f.not_null, f.dtype.null_values if f.dtype else frozenset(), text.description,
                              [(c, text.explanations.get(c)) for c in codes] if codes is not None else None))
        if ctype.note:
            plan.notes.append(f"{name}.{sql}: {ctype.note}")
    if fdef.ftype.fixed:
        by_name = {c.field.lower(): c for c in columns}
        for c in columns:
            companion = by_name.get(f"{c.field.lower()}_lengde")
            if c.kind == "text" and companion is not None and companion.kind == "integer":
                c.exact_length = companion.index
    description = texts.record(fdef.name, rdef.name) if len(fdef.records) > 1 else None
    description = description or (texts.definitions.get(fdef.name).description  # type: ignore[union-attr]
                                  if fdef.name in texts.definitions else None) or texts.flat_files.get(flat.name)
    return Table(name, f"{fdef.name}/{rdef.name}", flat.path, columns, description, fdef.ftype.fixed, fdef.ftype.codec,
                 flat.declared_records if len(fdef.records) == 1 else None, rdef=rdef)


def _sql_names(t: Table, fields: list[str]) -> list[str] | None:
    out = []
    for f in fields:
        c = next((c for c in t.columns if c.field.lower() == f.lower() and c.index >= 0), None)
        if c is None:
            return None
        out.append(c.name)
    return out


def _keys(t: Table, rdef: RecordDef, by_record: dict[int, Table], definitions: dict[str, FlatFileDef],
          plan: Plan) -> None:
    for n, key in enumerate(rdef.keys):
        cols = _sql_names(t, key.fields)
        label = key.name or f"key {n + 1}"
        if cols is None or not cols:
            plan.notes.append(f"{t.name}: {label} names fields the record does not have; not declared")
            continue
        if key.kind == "primary":
            t.pk = cols
        elif key.kind == "alternate":
            t.alternates.append(cols)
        else:
            target_def = definitions.get((key.ref_file or "").lower())
            target_rec = target_def.record(key.ref_record or "") if target_def else None
            target = by_record.get(id(target_rec)) if target_rec is not None else None
            refs = _sql_names(target, key.ref_fields) if target is not None else None
            if target is None or refs is None or len(refs) != len(cols):
                plan.notes.append(f"{t.name}: foreign key {label} points at {key.ref_file}/{key.ref_record} "
                                  f"({', '.join(key.ref_fields)}), which is not a loaded table with those fields; "
                                  "not declared")
                continue
            t.fks.append(ForeignKey(label, cols, target, refs))


def _is_file_list(t: Table) -> bool:
    """uttrekk's LOB list: its key is the one field ``fil``, and it has ``tabell`` and ``felt``."""
    key = [t.column(n) for n in t.pk]
    names = {c.field.lower() for c in t.columns}
    return len(key) == 1 and key[0] is not None and key[0].field.lower() == "fil" and {"tabell", "felt"} <= names


def _files(plan: Plan) -> None:
    """Fields that hold the path of a LOB file: the file's bytes (or long text) are loaded with them."""
    lists = {id(t) for t in plan.tables if _is_file_list(t)}
    for t in plan.tables:
        for fk in t.fks:
            if id(fk.target) not in lists or len(fk.columns) != 1:
                continue
            path = t.column(fk.columns[0])
            if path is None or path.kind != "text":
                continue
            owner = next((c for c in t.columns if c.field.lower() == path.field.lower()[:-4]), None) \
                if path.field.lower().endswith("_fil") else None
            if owner is not None and owner.kind == "text" and owner.index == path.index - 1:
                owner.long_text_in = path.index
                continue
            names = Namer(tuple(c.name for c in t.columns))
            added = Column(names(f"{path.name}_innhold"), "", -1, ColumnType("blob", lambda v: v),
                           description=f"Innholdet i filen som feltet {path.name} peker på (lagt til ved innlasting).",
                           file_bytes_of=path.index)
            t.columns.insert(t.columns.index(path) + 1, added)


def _code_tables(plan: Plan, namer: Namer) -> None:
    for t in plan.tables:
        for c in t.columns:
            if c.codes is None or not c.codes:
                continue
            name = namer(f"{t.name}_{c.name}_koder")
            plan.code_tables.append(CodeTable(name, t, c, c.codes))


# --- XML extracts ---

def plan_xml(objects: list[tuple[DataObject, TableSchema | None]], texts: Descriptions,
             fraction_limit: int | None) -> Plan:
    plan = Plan(dataset=texts.dataset)
    namer = Namer(META_TABLES)
    by_name: dict[str, Table] = {}
    for obj, layout in objects:
        if layout is None or not layout.fields:
            plan.notes.append(f"{obj.name}: not loaded, its schema {obj.schema_path} cannot be used "
                              "(uttrekk validate names the problem)")
            continue
        name = namer(obj.name)
        cols = Namer()
        columns = []
        for i, spec in enumerate(layout.fields):
            ctype = xsd_column_type(spec.xsd_type, fraction_limit)
            columns.append(Column(cols(spec.column), spec.column, i, ctype, (spec.xsd_type or "").split(":")[-1],
                                  None, not spec.nillable, frozenset(), spec.documentation))
        t = Table(name, obj.name, obj.path, columns, texts.data_objects.get(obj.name), False, obj.charset,
                  obj.declared_records, obj=obj, layout=layout)
        for c in t.columns:
            if c.field in obj.codes:
                explained = texts.object_codes.get((obj.name, c.field), {})
                c.codes = [(v, explained.get(v)) for v in sorted(obj.codes[c.field])]
        t.pk = _xml_names(t, obj.primary_key) or []
        t.alternates = [n for k in obj.alternate_keys if (n := _xml_names(t, k))]
        by_name[obj.name.lower()] = t
        plan.tables.append(t)
    for t in plan.tables:
        assert t.obj is not None
        for fk_spec in t.obj.foreign_keys:
            target = by_name.get(fk_spec.table.lower())
            fk_cols = _xml_names(t, fk_spec.columns)
            refs = _xml_names(target, fk_spec.ref_columns) if target is not None else None
            if target is None or fk_cols is None or refs is None:
                plan.notes.append(f"{t.name}: foreign key {fk_spec.text} does not name loaded columns; not declared")
                continue
            t.fks.append(ForeignKey(fk_spec.text, fk_cols, target, refs))
    _files(plan)
    _code_tables(plan, namer)
    return plan


def _xml_names(t: Table | None, columns: list[str]) -> list[str] | None:
    if t is None or not columns:
        return None
    out = []
    for name in columns:
        c = next((c for c in t.columns if c.field == name or c.field.lower() == name.lower()), None)
        if c is None:
            return None
        out.append(c.name)
    return out
