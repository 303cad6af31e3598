"""Plan: decide everything that needs no data — tables, files, fields, keys, archive types.

``make_plan`` turns the reflected schema and the profile into a provisional plan; ``finalize``
(after the pre-flight scan has looked at the data) widens nonconforming columns to text, adds
companion fields for long text, binary and fixed-width ambiguity, sets lengths, widths, formats,
code lists and the charset of each file. Both are pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .charset import UTF8, CharsetPolicy
from .errors import ProfileError
from .model import Column, ForeignKey, Schema, Table
from .profile import Profile

if TYPE_CHECKING:
    from .scan import ScanResult

LOB_TABLE = "LOBFILER"
"""Name of the flat file that lists every file written for binary values and long texts."""

LOB_DIR = "lob"
"""Folder under ``content/`` that holds those files."""

ADDML_TYPES: dict[str, tuple[str, str | None]] = {
    "integer": ("integer", None),
    "decimal": ("float", "nn,nn"),
    "float": ("float", "nn,nn"),
    "date": ("date", "yyyy-MM-dd"),
    "timestamp": ("date", "yyyy-MM-ddTHH:mm:ss"),
    "time": ("time", "HH:mm:ss"),
    "boolean": ("boolean", "J/N"),
    "string": ("string", None),
    "char": ("string", None),
    "unknown": ("string", None),
    "binary": ("string", None),
}
"""Archive kind -> ADDML dataType and base fieldFormat (only types and formats Arkade 5 accepts)."""

NUMERIC_KINDS = frozenset({"integer", "decimal", "float"})


@dataclass(frozen=True)
class FieldPlan:
    """One field of an output record."""

    name: str
    column: str | None
    kind: str
    role: str = "value"
    """``value`` (the column), ``lobpath`` (path of the file holding a binary value),
    ``textfile`` (path of the file holding a text too long for the field), ``length``
    (exact length of a fixed-width value), or ``manifest`` (a field of the LOB file list)."""
    not_null: bool = False
    unique: bool = False
    description: str = ""
    scale: int | None = None
    max_length: int | None = None
    width: int | None = None
    field_format: str | None = None
    codes: tuple[tuple[str, str], ...] = ()
    has_empty: bool = False
    widened_from: str | None = None

    @property
    def addml_type(self) -> str:
        return ADDML_TYPES[self.kind][0]

    @property
    def align(self) -> str:
        return "right" if self.kind in NUMERIC_KINDS else "left"


@dataclass(frozen=True)
class TablePlan:
    """One output file and the source table it comes from."""

    name: str
    file_name: str
    source: Table | None
    columns: tuple[str, ...]
    fields: tuple[FieldPlan, ...]
    description: str = ""
    primary_key: tuple[str, ...] = ()
    alternate_keys: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    order_by: tuple[str, ...] = ()
    charset: str = "ISO-8859-1"
    excluded_columns: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    def field(self, name: str) -> FieldPlan:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def record_length(self) -> int:
        return sum(f.width or 0 for f in self.fields)


@dataclass(frozen=True)
class Plan:
    """The whole extract, decided before and refined after the pre-flight scan."""

    tables: tuple[TablePlan, ...]
    profile: Profile
    format: str
    charset: CharsetPolicy
    long_text_limit: int
    source_label: str = ""
    engine: str = ""
    excluded_tables: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    finalized: bool = False
    addml_version: str = "8.3"
    addml_version_reason: str = ""

    def table(self, name: str) -> TablePlan:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def file_ext(self) -> str:
        return ".xml" if self.format == "xml" else ".txt"


def safe_file_stem(name: str) -> str:
    """An ASCII file-name stem for a table name (æ→ae, ø→o, å→a, anything odd → ``_``)."""
    text = name.replace("æ", "ae").replace("Æ", "AE").replace("ø", "o").replace("Ø", "O")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "tabell"
    return text


def make_plan(schema: Schema, profile: Profile, *, fmt: str | None = None,
              charset: str | None = None, tables: tuple[str, ...] = ()) -> Plan:
    """Provisional plan from the schema and the profile; ``ProfileError`` lists every mismatch."""
    problems: list[str] = []
    policy = profile.charset if charset is None else profile.charset.with_encoding(charset)
    fmt = fmt or profile.format
    known = set(schema.table_names)
    for tname, tprof in profile.tables.items():
        if tname not in known:
            problems.append(f"tables.{tname}: no such table in the source "
                            f"(tables: {', '.join(sorted(known)) or 'none'})")
            continue
        cols = set(schema.table(tname).column_names)
        for cname in tprof.columns:
            if cname not in cols:
                problems.append(f"tables.{tname}.columns.{cname}: no such column "
                                f"(columns: {', '.join(schema.table(tname).column_names)})")
        if tprof.code_table:
            for role in ("code", "explanation"):
                cname = getattr(tprof.code_table, role)
                if cname not in cols:
                    problems.append(f"tables.{tname}.code_table.{role}: no such column '{cname}'")
    for tname in tables:
        if tname not in known:
            problems.append(f"--table {tname}: no such table in the source")
    excluded: list[tuple[str, str]] = []
    chosen: list[Table] = []
    for table in schema.tables:
        tprof = profile.table(table.name)
        if tprof.exclude:
            excluded.append((table.name, tprof.exclude))
        elif tables and table.name not in tables:
            excluded.append((table.name, "not selected with --table"))
        else:
            chosen.append(table)
    kept_names = {t.name for t in chosen}
    plans: list[TablePlan] = []
    warnings: list[str] = []
    used_files: dict[str, str] = {}
    for table in chosen:
        tprof = profile.table(table.name)
        excluded_cols = tuple((c, p.exclude) for c, p in tprof.columns.items() if p.exclude)
        dropped = {c for c, _ in excluded_cols}
        for c in sorted(dropped & set(table.primary_key)):
            problems.append(f"tables.{table.name}.columns.{c}.exclude: the column is part of the "
                            "primary key and cannot be left out")
        columns = tuple(c for c in table.columns if c.name not in dropped)
        if not columns:
            problems.append(f"tables.{table.name}: every column is excluded; exclude the table instead")
            continue
        stem = safe_file_stem(table.name)
        while stem.lower() in used_files or stem.upper() == LOB_TABLE:
            stem += "_"
        used_files[stem.lower()] = table.name
        fields = _fields(table, columns, tprof, warnings)
        fks = []
        for fk in table.foreign_keys:
            if fk.ref_table not in kept_names:
                warnings.append(f"{table.name}: relation {', '.join(fk.columns)} -> {fk.ref_table} not "
                                f"described because table {fk.ref_table} is not extracted")
            elif set(fk.columns) & dropped:
                warnings.append(f"{table.name}: relation {', '.join(fk.columns)} -> {fk.ref_table} not "
                                "described because a column in it is excluded")
            else:
                fks.append(fk)
        alternates = tuple(u for u in dict.fromkeys(table.unique_keys)
                           if u != table.primary_key and not set(u) & dropped)
        plans.append(TablePlan(
            name=table.name, file_name=stem, source=table,
            columns=tuple(c.name for c in columns), fields=fields,
            description=tprof.description or (table.comment or ""),
            primary_key=table.primary_key, alternate_keys=alternates, foreign_keys=tuple(fks),
            order_by=_order_by(table, columns), charset=policy.encoding,
            excluded_columns=excluded_cols,
        ))
    if problems:
        raise ProfileError(profile.path or "profile", problems)
    return Plan(tuple(plans), profile, fmt, policy, profile.long_text_limit, schema.source_label,
                schema.engine, tuple(excluded), tuple(warnings))


def _fields(table: Table, columns: tuple[Column, ...], tprof, warnings: list[str]) -> tuple[FieldPlan, ...]:
    single_unique = {u[0] for u in table.unique_keys if len(u) == 1}
    if len(table.primary_key) == 1:
        single_unique.add(table.primary_key[0])
    seen: dict[str, str] = {}
    out = []
    for col in columns:
        name = col.name
        if name.lower() in seen:
            new = f"{name}_{len(seen) + 1}"
            warnings.append(f"{table.name}: columns '{seen[name.lower()]}' and '{name}' differ only in "
                            f"letter case; the second is written as field '{new}'")
            name = new
        seen[name.lower()] = col.name
        desc = tprof.columns.get(col.name).description if col.name in tprof.columns else ""
        out.append(FieldPlan(
            name=name, column=col.name, kind=col.kind,
            not_null=(not col.nullable) or col.name in table.primary_key,
            unique=col.name in single_unique,
            description=desc or (col.comment or ""),
            scale=col.scale, max_length=col.length,
        ))
    return tuple(out)


def _order_by(table: Table, columns: tuple[Column, ...]) -> tuple[str, ...]:
    """Primary key, else a unique key, else every orderable column: reruns give identical files."""
    if table.primary_key:
        return table.primary_key
    by_name = {c.name: c for c in columns}
    for u in table.unique_keys:
        if all(n in by_name and not by_name[n].nullable for n in u):
            return u
    return tuple(c.name for c in columns if c.kind != "binary")


# -- finalize ------------------------------------------------------------------------------------


def finalize(plan: Plan, scan: ScanResult) -> Plan:
    """Refine the plan with what the pre-flight scan found in the data."""
    tables = [_finalize_table(plan, tp, scan) for tp in plan.tables]
    code_lists = _code_lists(plan, scan)
    tables = [_attach_codes(tp, code_lists) for tp in tables]
    if scan.lob_count:
        tables.append(_lob_table_plan(plan, scan))
    tables = [_add_lob_keys(tp) for tp in tables]
    version, reason = addml_version(tables)
    return replace(plan, tables=tuple(tables), finalized=True, addml_version=version,
                   addml_version_reason=reason)


def _finalize_table(plan: Plan, tp: TablePlan, scan: ScanResult) -> TablePlan:
    ts = scan.tables[tp.name]
    fields: list[FieldPlan] = []
    notes = list(tp.notes)
    for f in tp.fields:
        st = ts.columns[f.column or ""]
        kind, widened = f.kind, None
        if st.nonconforming:
            kind, widened = "unknown", f.kind
            notes.append(f"column {f.column}: declared {f.kind} but {st.nonconforming} value(s) do not fit "
                         f"(first: {st.examples[0]}); archived as text")
        fmt = ADDML_TYPES[kind][1]
        if kind == "timestamp":
            fmt = "yyyy-MM-ddTHH:mm:ss" + (".FFFFFFF" if st.fraction else "") + ("zzz" if st.with_offset else "")
        elif kind == "time" and st.fraction:
            fmt = "HH:mm:ss.FFFFFFF"
        desc = f.description
        if kind == "char":
            desc = _join(desc, "Trailing blanks of the fixed-length CHAR value are removed.")
        if kind == "binary":
            fields.append(replace(
                f, kind="binary", role="lobpath", field_format=None, max_length=st.max_length or None,
                description=_join(desc, f"Binary value stored as a file; the field holds its path "
                                        f"relative to content/ (see {LOB_TABLE}). Empty when NULL."),
                width=max(st.max_length, 1)))
            continue
        limit_note = ""
        if st.long_values:
            limit_note = (f"Values longer than {plan.long_text_limit} characters are stored as text files "
                          f"and the field is then empty (NULL); see field {f.name}_fil.")
        max_length = f.max_length
        if kind in ("string", "char", "unknown"):
            max_length = max(max_length or 0, st.max_length) or None
            if st.long_values:
                max_length = min(max_length or plan.long_text_limit, plan.long_text_limit)
        else:
            max_length = None
        fields.append(replace(f, kind=kind, field_format=fmt, max_length=max_length,
                              description=_join(desc, limit_note), has_empty=st.empties > 0,
                              widened_from=widened, width=max(st.max_length, 1),
                              not_null=f.not_null and not st.long_values))
        if st.long_values:
            fields.append(FieldPlan(
                name=f"{f.name}_fil", column=f.column, kind="string", role="textfile",
                description=(f"Path, relative to content/, of the text file holding the value of "
                             f"{f.name} when it is longer than {plan.long_text_limit} characters "
                             f"(see {LOB_TABLE}); empty otherwise."),
                max_length=st.textfile_path_length, width=max(st.textfile_path_length, 1)))
        if plan.format == "fixed" and kind in ("string", "char", "unknown") and st.fixed_ambiguous:
            fields.append(FieldPlan(
                name=f"{f.name}_lengde", column=f.column, kind="integer", role="length",
                description=(f"Exact length in characters of {f.name}; empty when {f.name} is NULL. "
                             f"Needed because padding cannot show empty text, NULL or edge blanks."),
                width=max(len(str(st.max_length)), 1)))
    charset = UTF8 if ts.needs_utf8 else tp.charset
    if ts.needs_utf8:
        notes.append(f"written as UTF-8: {ts.unmappable_count} value(s) hold characters outside "
                     f"{tp.charset} that the profile does not map (utf8_fallback)")
    return replace(tp, fields=tuple(fields), charset=charset, notes=tuple(notes))


def _join(a: str, b: str) -> str:
    return f"{a} {b}".strip() if b else a


def _code_lists(plan: Plan, scan: ScanResult) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    out = {}
    for tp in plan.tables:
        ct = plan.profile.table(tp.name).code_table
        if ct and tp.name in scan.codes:
            out[(tp.name, ct.code)] = scan.codes[tp.name]
    return out


def _attach_codes(tp: TablePlan, code_lists: dict[tuple[str, str], tuple[tuple[str, str], ...]]) -> TablePlan:
    by_field = {}
    for fk in tp.foreign_keys:
        if len(fk.columns) == 1 and (fk.ref_table, fk.ref_columns[0]) in code_lists:
            by_field[fk.columns[0]] = code_lists[(fk.ref_table, fk.ref_columns[0])]
    if not by_field:
        return tp
    fields = tuple(replace(f, codes=by_field[f.column]) if f.role == "value" and f.column in by_field else f
                   for f in tp.fields)
    return replace(tp, fields=fields)


def _lob_table_plan(plan: Plan, scan: ScanResult) -> TablePlan:
    w = scan.lob_widths
    fields = (
        FieldPlan("fil", None, "string", "manifest", True, True,
                  "Path of the file relative to content/.", max_length=w["fil"], width=w["fil"]),
        FieldPlan("tabell", None, "string", "manifest", True, False,
                  "Table whose row refers to the file.", max_length=w["tabell"], width=w["tabell"]),
        FieldPlan("felt", None, "string", "manifest", True, False,
                  "Field of that table that holds the path.", max_length=w["felt"], width=w["felt"]),
        FieldPlan("post", None, "integer", "manifest", True, False,
                  "Record number (from 1) of the referring row in that table's file.", width=w["post"]),
        FieldPlan("bytes", None, "integer", "manifest", True, False,
                  "Size of the file in bytes.", width=w["bytes"]),
        FieldPlan("sha256", None, "string", "manifest", True, False,
                  "SHA-256 checksum of the file (hex).", max_length=64, width=64),
        FieldPlan("innhold", None, "string", "manifest", True, False,
                  "What the file holds: text (with its charset) or binary, with the format recognised "
                  "from its first bytes (pdf, png, jpeg, gif, tiff, zip, xml, ukjent).",
                  max_length=w["innhold"], width=w["innhold"]),
    )
    return TablePlan(
        name=LOB_TABLE, file_name=LOB_TABLE, source=None,
        columns=tuple(f.name for f in fields), fields=fields,
        description=("Files written by the extraction for binary values and texts longer than "
                     f"{plan.long_text_limit} characters, one record per file. Added by uttrekk."),
        primary_key=("fil",), charset=plan.charset.encoding,
    )


def _add_lob_keys(tp: TablePlan) -> TablePlan:
    extra = tuple(ForeignKey((f.name,), LOB_TABLE, ("fil",), f"FK_{tp.name}_{f.name}", declared=False)
                  for f in tp.fields if f.role in ("lobpath", "textfile"))
    return replace(tp, foreign_keys=tp.foreign_keys + extra) if extra else tp


def addml_version(tables: list[TablePlan]) -> tuple[str, str]:
    """8.3 unless a field sits in two keys of one record (8.3's uniqueFieldReferenceKeys rule)."""
    clashes = []
    for tp in tables:
        seen: set[str] = set()
        keys = [tp.primary_key, *tp.alternate_keys, *(fk.columns for fk in tp.foreign_keys)]
        for key in keys:
            for name in key:
                if name in seen:
                    clashes.append(f"{tp.name}.{name}")
                seen.add(name)
    if clashes:
        names = ", ".join(dict.fromkeys(clashes))
        return "8.2", (f"ADDML 8.2 is written because ADDML 8.3 forbids a field in more than one key of a "
                       f"record, and these fields are in two keys: {names}. No key was dropped.")
    return "8.3", ""
