"""What an Access file holds, from its system tables: user tables, their keys, relations and design.

``MSysObjects`` (its TDEF is always page 2) lists every object: tables (type 1; a system table has
flag 0x80000000 or 0x2), linked tables (4, 6), queries (5) and the rest. ``MSysRelationships``
holds the relationships drawn in Access (one row per column pair), which become foreign keys;
``MSysComplexColumns`` names the hidden tables of Attachment and multi-valued fields. A column's
design properties (``jet_props``) give its description, whether it is required, its lookup (a
value list becomes a code list, a row source on a table a relation) and a calculated field's
expression. Everything is returned as plain data (``Described``) for the cache's ``schema.json``.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

from .jet_pages import JetError, JetFile
from .jet_props import Props, parse_props
from .jet_tables import TYPES, JetColumn, JetTable, _text, read_tdef, rows

SYSTEM_FLAGS = 0x80000002


@dataclass
class Described:
    tables: list[tuple[JetTable, dict[str, Any]]] = field(default_factory=list)
    """Each user table with its description for ``schema.json`` (columns with types and kinds)."""
    system: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lost: dict[str, str] = field(default_factory=dict)
    """``table.column`` -> why its values are not read (Attachment and multi-valued fields)."""


def describe(jet: JetFile) -> Described:
    catalog = read_tdef(jet, 2, "MSysObjects")
    names = [c.name for c in catalog.columns]
    out = Described()
    user: list[tuple[str, int, Props]] = []
    system: dict[str, int] = {}
    linked, queries = [], 0
    for values in rows(jet, catalog):
        row = dict(zip(names, values, strict=True))
        kind, name, flags = row.get("Type"), row.get("Name") or "", (row.get("Flags") or 0) & 0xFFFFFFFF
        if kind == 1:
            page = (row.get("Id") or 0) & 0x00FFFFFF
            if flags & SYSTEM_FLAGS or name.startswith("MSys"):
                system[name] = page
            else:
                blob = row.get("LvProp")
                user.append((name, page, parse_props(blob, lambda b: _text(jet, b)) if blob else {}))
        elif kind in (4, 6):
            linked.append(f"{name} ({row.get('Database') or row.get('Connect') or 'elsewhere'})")
        elif kind == 5:
            queries += 1
    out.system = sorted(system)
    if linked:
        out.notes.append(f"linked tables left out (their rows are in another file or database, not in this one): "
                         f"{', '.join(sorted(linked))}")
    if queries:
        out.notes.append(f"{queries} saved queries left out (they are definitions, not data)")
    tables = {name: read_tdef(jet, page, name) for name, page, _ in user}
    complex_fields = _complex_columns(jet, system)
    hidden = {page: name for name, page in system.items()}
    taken = {n.casefold() for n in tables}
    for name, _page, props in user:
        table = tables[name]
        spec = _table(table, props, tables, out, jet)
        out.tables.append((table, spec))
        for col in table.columns:
            if col.type != 0x12:
                continue
            if col.complex_id not in complex_fields:
                out.lost[f"{name}.{col.name}"] = ("an Attachment or multi-valued field that MSysComplexColumns does not "
                                                  "list, so its values cannot be found")
                continue
            what, flat_page = complex_fields[col.complex_id]
            child = complex_child(jet, table, col, what, flat_page, hidden.get(flat_page, "?"), taken)
            spec["unique_keys"].append([col.name])
            out.tables.append(child)
            out.system = [n for n in out.system if n != hidden.get(flat_page)]
            out.notes.append(f"{table.name}.{col.name} ({what}): its values are in the table {child[0].name}, "
                             f"one record per value (Access's hidden table {hidden.get(flat_page, '?')})")
    _relationships(jet, system, tables, out)
    return out


ATTACHMENT_COLUMNS = {"FileName", "FileType", "FileData", "FileURL", "FileTimeStamp", "FileFlags"}


def complex_child(jet: JetFile, parent: JetTable, col: JetColumn, what: str, page: int, hidden: str,
                  taken: set[str]) -> tuple[JetTable, dict[str, Any]]:
    """The hidden table of an Attachment or multi-valued field as a child table of its own: every
    column of it (an attachment's file unwrapped, ``decode``), keyed by its own AutoNumber, with a
    foreign key from its link column to the parent's field (whose value names the row's values)."""
    flat = read_tdef(jet, page, hidden)
    name = f"{parent.name}_{col.name}"
    while name.casefold() in taken:
        name += "_"
    taken.add(name.casefold())
    link = next((c for c in flat.columns if c.name == f"{parent.name}_{col.name}"), None) or next(
        (c for c in flat.columns if c.type == 0x04 and not c.autonumber and c.name not in ATTACHMENT_COLUMNS), None)
    if link is None:
        raise JetError(f"the hidden table {hidden} of {parent.name}.{col.name} has no column linking it to its rows")
    attachment = what == "an Attachment field"
    columns = []
    for c in flat.columns:
        spec = column_spec(c, jet.header.jet3, jet.header.engine == "ACE")
        spec.update(name=c.name, nullable=c is not link, comment=None)
        if attachment and c.name == "FileData":
            spec.update(decode="attachment", native_type="Attachment (file)",
                        comment="Vedlegget: filen slik den ble lagt inn i Access, pakket ut av Access' innpakning")
        elif c is link:
            spec["comment"] = f"Verdien i {parent.name}.{col.name} for raden verdien hører til"
        else:
            spec["comment"] = type_note(spec["native_type"]) or None
        columns.append(spec)
    key = [c.name for c in flat.columns if c.autonumber][:1]
    spec = {"name": name, "columns": columns, "primary_key": key, "unique_keys": [], "rows_declared": flat.rows,
            "comment": f"Verdiene i feltet {col.name} i tabellen {parent.name} ({what}), én post per verdi",
            "foreign_keys": [{"columns": [link.name], "ref_table": parent.name, "ref_columns": [col.name],
                              "name": name, "enforced": True}]}
    return replace(flat, name=name), spec


def attachment_file(data: bytes, limit: int) -> bytes:
    """An attachment's file from Access's wrapping (Jackcess, mdb-reader): a type (0 stored, 1
    deflated), a length, then a header whose first word is its own length, then the file."""
    if len(data) < 8:
        raise JetError("an attachment shorter than its wrapping")
    kind, length = struct.unpack_from("<Ii", data)
    content = data[8:]
    if kind == 1:
        if not 0 <= length <= limit:
            raise JetError(f"an attachment declaring {length} bytes, more than uttrekk unpacks ({limit})")
        try:
            content = zlib.decompressobj().decompress(content, max(length, 1))
        except zlib.error as exc:
            raise JetError(f"an attachment whose compressed data is damaged ({exc})") from None
    elif kind != 0:
        raise JetError(f"an attachment of an unknown kind ({kind})")
    if len(content) < 4:
        raise JetError("an attachment without its header")
    header = struct.unpack_from("<i", content)[0]
    end = min(length, len(content))
    if not 4 <= header <= end:
        raise JetError("an attachment whose header is longer than the attachment")
    return content[header:end]


def _table(table: JetTable, props: Props, tables: dict[str, JetTable], out: Described, jet: JetFile) -> dict[str, Any]:
    by_number = {c.number: c.name for c in table.columns}
    columns = []
    for col in table.columns:
        p = props.get(col.name, {})
        spec = column_spec(col, jet.header.jet3, jet.header.engine == "ACE")
        comment = str(p.get("Description") or "") or None
        if col.calculated and p.get("Expression"):
            spec["native_type"] = f"Calculated ({spec['native_type']})"
            comment = "; ".join(filter(None, [comment, f"beregnet felt: {p['Expression']}"]))
        if col.type == 0x08 and str(p.get("Format") or "") in TIME_FORMATS:
            spec.update(kind="time", decode="time_of_day", native_type=f"Date/Time (Format: {p['Format']})")
        comment = "; ".join(filter(None, [comment, type_note(spec["native_type"])])) or None
        spec.update(name=col.name, nullable=not p.get("Required", False), comment=comment)
        codes, relation = _lookup(col, p, tables)
        if codes:
            spec.update(codes=codes, codes_source="oppslagslisten (Value List) i Access")
        if relation:
            spec["lookup"] = relation
        columns.append(spec)
    primary = next((i for i in table.indexes if i.primary), None)
    key = [by_number[n] for n in primary.columns if n in by_number] if primary else []
    uniques: list[list[str]] = []
    for index in table.indexes:
        cols = [by_number[n] for n in index.columns if n in by_number]
        if index.unique and cols and cols != key and cols not in uniques:
            uniques.append(cols)
    return {"name": table.name, "comment": str(props.get("", {}).get("Description") or "") or None,
            "columns": columns, "primary_key": key, "unique_keys": uniques, "foreign_keys": [],
            "rows_declared": table.rows}


TIME_FORMATS = ("Short Time", "Medium Time", "Long Time")
"""A Date/Time column shown as a time of day: archived as a time when its values lie on day 0."""


PLAIN = re.compile(r"Text\(\d+\)|Number \((Byte|Integer|Long Integer)\)")
NOTES = {"Hyperlink": "verdien er visningstekst#adresse#underadresse#skjermtips, med alle deler beholdt",
         "OLE Object": "verdien er hele feltet slik Access lagret det (et dokument lagt inn med Access ligger i en "
                       "OLE 1.0-innpakning med programmets navn foran selve dokumentet)",
         "Date/Time": "et rent klokkeslett er lagret med datoen 1899-12-30"}
NOTES.update({f"Date/Time (Format: {f})": "vist som klokkeslett i Access; verdien er klokkeslettet når datoen er "
              "Access' dag 0 (1899-12-30)" for f in TIME_FORMATS})


def time_of_day(value: str) -> str:
    """A time-of-day column's value: the time alone when it lies on 1899-12-30 (Access's day 0), else
    the whole moment, which the extract then reports as no time of day."""
    return value[11:] if value.startswith("1899-12-30T") else value


def type_note(native: str) -> str:
    """What addml.xml's field description says of an Access type that the archive type does not name."""
    if PLAIN.fullmatch(native):
        return ""
    return f"Access-type: {native}" + (f" ({NOTES[native]})" if native in NOTES else "")


def column_spec(col: JetColumn, jet3: bool, ace: bool) -> dict[str, Any]:
    """SQLite's declared type, uttrekk's kind and facts, and Access's own type name for one column."""
    t = col.type
    ints = {0x02: "Number (Byte)", 0x03: "Number (Integer)", 0x04: "Number (Long Integer)", 0x13: "Large Number"}
    if t == 0x01:
        return {"sqlite": "INTEGER", "kind": "boolean", "native_type": "Yes/No"}
    if t in ints:
        native = "AutoNumber (Long Integer)" if t == 0x04 and col.autonumber else ints[t]
        return {"sqlite": "INTEGER", "kind": "integer", "native_type": native}
    if t == 0x05:
        return {"sqlite": "TEXT", "kind": "decimal", "native_type": "Currency", "precision": 19, "scale": 4}
    if t in (0x06, 0x07):
        return {"sqlite": "REAL", "kind": "float", "native_type": "Number (Single)" if t == 0x06 else "Number (Double)",
                "float_bits": 24 if t == 0x06 else 53}
    if t in (0x08, 0x14):
        return {"sqlite": "TEXT", "kind": "timestamp", "native_type": TYPES[t]}
    if t == 0x09:
        return {"sqlite": "BLOB", "kind": "binary", "native_type": f"Binary({col.size})", "length": col.size}
    if t == 0x0A:
        length = col.size if jet3 else col.size // 2
        return {"sqlite": "TEXT", "kind": "string", "native_type": f"Text({length})", "length": length}
    if t == 0x0B:
        return {"sqlite": "BLOB", "kind": "binary", "native_type": "OLE Object"}
    if t == 0x0C:
        native = "Hyperlink" if col.hyperlink else ("Long Text" if ace else "Memo")
        return {"sqlite": "TEXT", "kind": "string", "native_type": native}
    if t == 0x0F:
        native = "AutoNumber (Replication ID)" if col.auto_guid else "Number (Replication ID)"
        return {"sqlite": "TEXT", "kind": "char", "native_type": native, "length": 38}
    if t == 0x10:
        return {"sqlite": "TEXT", "kind": "decimal", "precision": col.precision, "scale": col.scale,
                "native_type": f"Number (Decimal {col.precision},{col.scale})"}
    if t == 0x12:
        return {"sqlite": "INTEGER", "kind": "integer", "native_type": "Attachment or multi-valued (link)"}
    raise JetError(f"column {col.name}: Access column type {t:#04x}, which uttrekk does not know")


def _complex_columns(jet: JetFile, system: dict[str, int]) -> dict[int, tuple[str, int]]:
    """Complex id -> what kind of field it is and the first page of its hidden table (from
    ``MSysComplexColumns`` and the complex type tables)."""
    if "MSysComplexColumns" not in system:
        return {}
    types = {page: name for name, page in system.items() if name.startswith("MSysComplexType_")}
    table = read_tdef(jet, system["MSysComplexColumns"], "MSysComplexColumns")
    names = [c.name for c in table.columns]
    out = {}
    for values in rows(jet, table):
        row = dict(zip(names, values, strict=True))
        kind = types.get((row.get("ComplexTypeObjectID") or 0) & 0x00FFFFFF, "")
        what = ("an Attachment field" if kind.endswith("Attachment")
                else f"a multi-valued field ({kind.removeprefix('MSysComplexType_') or 'values'})")
        out[int(row.get("ComplexID") or 0)] = (what, (row.get("FlatTableID") or 0) & 0x00FFFFFF)
    return out


def _relationships(jet: JetFile, system: dict[str, int], tables: dict[str, JetTable], out: Described) -> None:
    """Foreign keys from ``MSysRelationships`` (grouped by relationship, columns in order)."""
    if "MSysRelationships" not in system:
        return
    table = read_tdef(jet, system["MSysRelationships"], "MSysRelationships")
    names = [c.name for c in table.columns]
    found: dict[str, list[tuple[int, str, str, str, str, int]]] = {}
    for values in rows(jet, table):
        r = dict(zip(names, values, strict=True))
        found.setdefault(str(r.get("szRelationship")), []).append(
            (int(r.get("icolumn") or 0), str(r.get("szObject")), str(r.get("szColumn")),
             str(r.get("szReferencedObject")), str(r.get("szReferencedColumn")), int(r.get("grbit") or 0)))
    specs = {t.name: spec for t, spec in out.tables}
    for name, parts in sorted(found.items()):
        parts.sort()
        child, parent = parts[0][1], parts[0][3]
        if child not in specs or parent not in specs:
            out.notes.append(f"relationship {name} ({child} -> {parent}) names a table that is not extracted")
            continue
        enforced = not parts[0][5] & 0x2
        specs[child]["foreign_keys"].append({"columns": [p[2] for p in parts], "ref_table": parent,
                                             "ref_columns": [p[4] for p in parts], "name": name,
                                             "enforced": enforced})
    for spec in specs.values():
        declared = {tuple(fk["columns"]) for fk in spec["foreign_keys"]}
        for col in spec["columns"]:
            lookup = col.pop("lookup", None)
            if lookup and (col["name"],) not in declared and lookup[0] in specs:
                spec["foreign_keys"].append({"columns": [col["name"]], "ref_table": lookup[0],
                                             "ref_columns": [lookup[1]], "name": f"oppslag {col['name']}",
                                             "enforced": False})


_SELECT = re.compile(r"^\s*SELECT\s+(?:DISTINCTROW\s+|DISTINCT\s+)?(?P<cols>.+?)\s+FROM\s+(?P<from>\[[^\]]+\]|[\w]+)"
                     r"\s*(?:;|$|ORDER\s|WHERE\s|GROUP\s)", re.IGNORECASE | re.DOTALL)


def _lookup(col: JetColumn, p: dict[str, Any], tables: dict[str, JetTable]) -> tuple[list[str], tuple[str, str] | None]:
    """A lookup field's code list (a value list) or relation (a row source on one table)."""
    kind, source = str(p.get("RowSourceType") or ""), str(p.get("RowSource") or "").strip()
    bound = max(int(p.get("BoundColumn") or 1), 1)
    if not source:
        return [], None
    if kind == "Value List":
        items = [v.strip().strip('"') for v in re.findall(r'"[^"]*"|[^;]+', source)]
        width = max(int(p.get("ColumnCount") or 1), 1)
        return [v for i, v in enumerate(items) if i % width == bound - 1], None
    if kind != "Table/Query":
        return [], None
    if source.strip("[]") in tables:
        target = tables[source.strip("[]")]
        return [], (target.name, target.columns[bound - 1].name) if bound <= len(target.columns) else None
    m = _SELECT.match(source)
    if not m:
        return [], None
    target_name = m["from"].strip("[]")
    selected = [c.strip() for c in m["cols"].split(",")]
    if target_name not in tables or bound > len(selected):
        return [], None
    column = selected[bound - 1].split(".")[-1].strip("[]")
    if column not in [c.name for c in tables[target_name].columns]:
        return [], None
    return [], (target_name, column)
