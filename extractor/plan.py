"""Plan: decide everything that needs no data — tables, files, fields, keys, archive types.

``make_plan`` turns the reflected schema and the profile into a provisional plan, a pure
function; ``refine.finalize`` completes it with what the pre-flight scan found in the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .charset import UTF8, CharsetPolicy
from .errors import ProfileError
from .lobs import ascii_stem
from .model import Column, ForeignKey, RowFilter, Schema, Table, first_named
from .profile import ADDRESS_KINDS, Profile, RepeatingGroup, TableProfile

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


CODE_KINDS = frozenset({"string", "char", "integer"})
"""Kinds whose values are written exactly as declared in a code list (no decimal comma, no format)."""


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field of an output record."""

    name: str
    column: str | None
    kind: str
    role: str = "value"
    """``value`` (the column), ``surrogate`` (a key the extraction adds: the record number),
    ``lobpath`` (path of the file holding a binary value),
    ``textfile`` (path of the file holding a text too long for the field), ``clob`` (SIARD: a text
    column some of whose values are longer than the inline limit, those written as files), ``length``
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
    has_null: bool = False
    """Some records leave the field empty (NULL, or the value moved to a file)."""
    widened_from: str | None = None

    @property
    def addml_type(self) -> str:
        return ADDML_TYPES[self.kind][0]

    @property
    def align(self) -> str:
        return "right" if self.kind in NUMERIC_KINDS else "left"


@dataclass(frozen=True, slots=True)
class Unpivot:
    """How a child table is read from its parent's rows: a repeating group (one record per
    occurrence) or an array column (one record per element)."""

    parent: Table
    order_by: tuple[str, ...]
    """The parent's record order (its surrogate numbers follow it)."""
    key: tuple[str, ...]
    """The parent's key columns read; empty when the parent's key is its record number."""
    occurrences: tuple[tuple[str, ...], ...] = ()
    array: str = ""
    """The parent's array column whose elements are the records (the dialect unnests it on the
    server); empty for a repeating group."""

    @property
    def read(self) -> tuple[str, ...]:
        """The parent's columns read: its key, then every occurrence's columns in order."""
        return (*self.key, *(c for o in self.occurrences for c in o))


@dataclass(frozen=True, slots=True)
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
    surrogate: str | None = None
    """Name of the key field the extraction adds (the record number), when the table has no key."""
    key_note: str = ""
    """How the key was chosen when the source declares none (for the description)."""
    groups: tuple[RepeatingGroup, ...] = ()
    """Repeating groups moved out of this table into child tables (by the keys stage)."""
    arrays: tuple[tuple[str, str], ...] = ()
    """(array column, child table): array columns whose elements go to child tables (made by the
    keys stage); the table's own field for the column holds the number of elements."""
    unpivot: Unpivot | None = None
    """Set on the child table of a repeating group."""
    code_table: tuple[str, str, bool | None] | None = None
    """(code column, explanation column, inline) when the table is a code table: named in the
    profile, or found by the keys stage (``inline`` None: inline when the list is short)."""
    row_filter: RowFilter | None = None
    """The rows extracted, when the profile leaves some out (also on ``source``, which reads them)."""
    filter_reason: str = ""
    rows_left_out: int | None = None
    """Rows the filter left out, counted on the server in the run's snapshot (set after reading)."""

    def field(self, name: str) -> FieldPlan:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def record_length(self) -> int:
        return sum(f.width or 0 for f in self.fields)

    def companion(self, column: str, suffix: str) -> str:
        """The name of a field the extract adds beside ``column``'s (``_fil``, ``_lengde``): its
        field's name and the suffix, with ``_`` added while another field has that name (a source
        column ``x_fil`` beside a long text ``x``). The same whether or not companions were added."""
        own = [f for f in self.fields if f.role not in ("textfile", "length")]
        name = next((f.name for f in own if f.column == column), column) + suffix
        taken = {f.name.lower() for f in own}
        while name.lower() in taken:
            name += "_"
        return name


@dataclass(frozen=True, slots=True)
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
    keys_settled: bool = False
    """Keys, pointers and repeating groups decided (``keys.settle``, which reads the data)."""
    refused: tuple[str, ...] = ()
    """Array columns that cannot be archived faithfully, each with why and what to do: ``extract``
    refuses to run while there are any (``inspect`` and ``profile init`` show them)."""
    finalized: bool = False
    addml_version: str = "8.3"
    addml_version_reason: str = ""
    lobs_outside: int | None = None
    """SIARD: a large object of this many bytes or more is stored beside the SIARD file, not in it."""

    _by_name: dict[str, TablePlan] | None = field(default=None, init=False, repr=False, compare=False)
    """``table``'s index, made on first use (a plan of 20,000 tables is asked for each of them)."""

    def table(self, name: str) -> TablePlan:
        plan: TablePlan = first_named(self, name)
        return plan

    @property
    def file_ext(self) -> str:
        return ".xml" if self.format in ("xml", "siard") else ".txt"

    def key_pairs(self, fk: ForeignKey) -> list[tuple[str, str]]:
        """The (column, referenced column) pairs of ``fk``, in the order of the target's primary key
        when it references that key: ADDML matches a foreign key to the key field by field."""
        pairs = list(zip(fk.columns, fk.ref_columns, strict=True))
        target = self.table(fk.ref_table)
        if set(fk.ref_columns) == set(target.primary_key):
            order = {c: i for i, c in enumerate(target.primary_key)}
            pairs.sort(key=lambda p: order[p[1]])
        return pairs


def array_children(schema: Schema, profile: Profile) -> dict[tuple[str, str], str]:
    """(table, array column) -> the name of the column's child table: ``TABLE__COLUMN``, with ``_``
    added while a table of the source or a repeating group's child has the name. Computed over
    the whole source, so a name does not depend on which tables are extracted."""
    taken = {t.name.lower() for t in schema.tables}
    taken |= {g.table.lower() for tprof in profile.tables.values() for g in tprof.repeating_groups}
    out = {}
    for table in schema.tables:
        for col in table.columns:
            if col.array is not None:
                name = f"{table.name}__{col.name}"
                while name.lower() in taken:
                    name += "_"
                taken.add(name.lower())
                out[(table.name, col.name)] = name
    return out


def child_names(schema: Schema, profile: Profile) -> set[str]:
    """Tables the extract makes from other tables: repeating groups' and array columns' children
    (a profile may describe them like tables of the source)."""
    groups = {g.table for tprof in profile.tables.values() for g in tprof.repeating_groups}
    return groups | set(array_children(schema, profile).values())


def safe_file_stem(name: str) -> str:
    """An ASCII file-name stem for a table name (æ→ae, ø→o, å→a, anything odd → ``_``)."""
    return ascii_stem(name, "tabell")


def make_plan(schema: Schema, profile: Profile, *, fmt: str | None = None,
              charset: str | None = None, tables: tuple[str, ...] = (), source_problems: Sequence[str] = ()) -> Plan:
    """Provisional plan from the schema and the profile; ``ProfileError`` lists every mismatch.

    The schema holds the profile's queries as tables (``Table.query``) when they could be read;
    ``source_problems`` are those the source already gave (a query or a filter it refused),
    reported together with the rest.
    """
    found: list[str] = []
    policy = profile.charset if charset is None else profile.charset.with_encoding(charset)
    fmt = fmt or profile.format
    if fmt == "siard":  # SIARD holds every text as Unicode in UTF-8 XML (G_3.3-1)
        if charset is not None and charset != UTF8:
            found.append(f"--charset {charset}: a SIARD file is always UTF-8; leave --charset out")
        policy = profile.charset.with_encoding(UTF8)
    known = set(schema.table_names)
    in_source = {t.name for t in schema.tables if t.query is None}
    unnested = array_children(schema, profile)
    children = child_names(schema, profile)
    described = [(f"tables.{n}", n, t) for n, t in profile.tables.items()]
    described += [(f"queries.{n}", n, q.table) for n, q in profile.queries.items() if n in known and n not in in_source]
    for where, tname, tprof in described:
        if tname in children and tname not in known:
            if tprof.filtered:
                parent = next((n for n, t in profile.tables.items() for g in t.repeating_groups if g.table == tname),
                              None) or next(t for (t, _), child in unnested.items() if child == tname)
                found.append(f"{where}: the rows of a child table come from {parent}; filter that table instead")
            continue  # described in the profile, made by the keys stage
        if tname not in known:
            found.append(f"{where}: no such table in the source (tables: {', '.join(sorted(known)) or 'none'})")
            continue
        cols = set(schema.table(tname).column_names)
        for cname in tprof.columns:
            if cname not in cols:
                found.append(f"{where}.columns.{cname}: no such column "
                             f"(columns: {', '.join(schema.table(tname).column_names)})")
        if tprof.code_table:
            for role in ("code", "explanation"):
                cname = getattr(tprof.code_table, role)
                if cname not in cols:
                    found.append(f"{where}.code_table.{role}: no such column '{cname}'")
        found += _filter_problems(schema.table(tname), tprof, where)
        found += _key_problems(schema, profile, tname, where)
    for qname in profile.queries:
        if qname in in_source and qname not in profile.tables:  # else reported with the profile
            found.append(f"queries.{qname}: the source has a table named {qname}; give the query another name")
        elif qname in children:
            found.append(f"queries.{qname}: a child table the extract makes is named {qname}; give the query "
                         "another name")
    for tname in tables:
        if tname not in known:
            found.append(f"--table {tname}: no such table in the source")
    problems = list(profile.problems) + list(source_problems) + found
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
    warnings: list[str] = list(schema.notes)
    refused: list[str] = []
    used_files: dict[str, str] = {}
    shared: dict[Any, Any] = {}
    for table in chosen:
        tprof = profile.table(table.name)
        excluded_cols = tuple((c, p.exclude) for c, p in tprof.columns.items() if p.exclude)
        dropped = {c for c, _ in excluded_cols}
        if tprof.primary_key and not table.primary_key:
            table = _with_key(table, tprof.primary_key)
        row_filter = None
        if tprof.filtered:
            row_filter = RowFilter(tprof.where, tprof.period_column, tprof.period_start, tprof.period_end)
            table = replace(table, row_filter=row_filter)
        for c in sorted(dropped & set(table.primary_key)):
            problems.append(f"tables.{table.name}.columns.{c}.exclude: the column is part of the "
                            "primary key and cannot be left out")
        grouped = {c for g in tprof.repeating_groups for o in g.occurrences for c in o}
        for c in sorted(grouped & (dropped | set(table.primary_key))):
            problems.append(f"tables.{table.name}.repeating_groups: column {c} is excluded or part of the key")
        for c in sorted(grouped & set(tprof.pointers)):
            problems.append(f"tables.{table.name}.repeating_groups: column {c} is also a pointer")
        arrays = {c.name: c for c in table.columns if c.array is not None and c.name not in dropped}
        problems += _array_problems(table, tprof, arrays)
        for col in arrays.values():
            if col.array and col.array.refused:
                refused.append(array_refusal(table, col, col.array.refused))
            elif col.name in table.primary_key:
                refused.append(array_refusal(table, col, "the column is part of the table's primary key, and a key "
                                                             "of array values cannot be written"))
        rejected = {n for n, c in arrays.items() if c.array and c.array.refused or n in table.primary_key}
        kept_cols = tuple(c for c in table.columns if c.name not in dropped | rejected)
        columns = tuple(c for c in kept_cols if c.name not in grouped)
        unnest = tuple((n, unnested[(table.name, n)]) for n in arrays if n not in rejected)
        if not columns:
            problems.append(f"tables.{table.name}: every column is excluded; exclude the table instead")
            continue
        stem = safe_file_stem(table.name)
        while stem.lower() in used_files or stem.upper() == LOB_TABLE:
            stem += "_"
        used_files[stem.lower()] = table.name
        fields = share(_fields(table, columns, tprof, warnings, dict(unnest)), shared)
        fks = []
        declared = [ForeignKey(d.columns, d.references, d.ref_columns or _target_key(schema, profile, d.references),
                               f"FK_{table.name}_{'_'.join(d.columns)}", origin="profile")
                    for d in tprof.foreign_keys if d.confirmed]
        unconfirmed = [d for d in tprof.foreign_keys if not d.confirmed]
        if unconfirmed:
            warnings.append(f"{table.name}: {len(unconfirmed)} relation(s) in the profile are not confirmed and were "
                            "left out of addml.xml: " + "; ".join(f"{', '.join(d.columns)} -> {d.references}"
                                                                 for d in unconfirmed)
                            + " (set confirmed = true once checked)")
        for fk in (*table.foreign_keys, *declared):
            if fk.ref_table not in kept_names:
                warnings.append(f"{table.name}: relation {', '.join(fk.columns)} -> {fk.ref_table} not "
                                f"described because table {fk.ref_table} is not extracted")
            elif set(fk.columns) & (dropped | grouped):
                warnings.append(f"{table.name}: relation {', '.join(fk.columns)} -> {fk.ref_table} not "
                                "described because a column in it is excluded")
            elif set(fk.columns) & set(arrays):
                warnings.append(f"{table.name}: relation {', '.join(fk.columns)} -> {fk.ref_table} not "
                                "described because a column in it is an array (its elements are a table of their own)")
            else:
                fks.append(fk)
        alternates = tuple(u for u in dict.fromkeys(table.unique_keys)
                           if u != table.primary_key and not set(u) & (dropped | grouped | set(arrays)))
        key_note = ""
        if tprof.primary_key and table.primary_key == tprof.primary_key and not schema.table(table.name).primary_key:
            key_note = (f"Kildetabellen har ingen deklarert primærnøkkel; {', '.join(tprof.primary_key)} er brukt som "
                        "nøkkel etter profilen, og er kontrollert som unik og aldri tom i dataene.")
        notes: tuple[str, ...] = ()
        if table.query is not None:
            notes = (f"tabellen er ikke en tabell i kilden, men resultatet av SQL-spørringen queries.{table.name} i "
                     "profilen, lest i samme øyeblikksbilde som tabellene",)
        plans.append(TablePlan(
            name=table.name, file_name=stem, source=table,
            columns=tuple(c.name for c in columns), fields=fields,
            description=" ".join(x for x in (tprof.description or (table.comment or ""),
                                             f"(Hentet fra visningen {table.name}.)" if table.view else "") if x),
            primary_key=table.primary_key, alternate_keys=alternates, foreign_keys=tuple(fks),
            order_by=_order_by(table, kept_cols), charset=policy.encoding,
            excluded_columns=excluded_cols, key_note=key_note, groups=tprof.repeating_groups, arrays=unnest,
            code_table=(tprof.code_table.code, tprof.code_table.explanation, tprof.code_table.inline)
            if tprof.code_table else None, notes=notes,
            row_filter=row_filter, filter_reason=tprof.filter_reason,
        ))
    if problems:
        raise ProfileError(profile.path or "profile", profile.placed(problems))
    return Plan(tuple(plans), profile, fmt, policy, profile.long_text_limit, schema.source_label,
                schema.engine, tuple(excluded), tuple(warnings), refused=tuple(refused))


def array_refusal(table: Table, col: Column, why: str) -> str:
    """One refused array column: where, why, and what to do."""
    if table.query is not None:
        todo = f"Leave the column out of the query's SELECT (queries.{table.name}.sql)"
    else:
        todo = (f"Exclude the column in the profile: [tables.{table.name}.columns.{col.name}] "
                "exclude = \"<why it is left out>\"")
    return f"{table.name}.{col.name} ({col.native_type}): {why}. {todo}"


def _array_problems(table: Table, tprof: TableProfile, arrays: dict[str, Column]) -> list[str]:
    """An array column cannot be a profile key, a pointer or a repeating group's member."""
    where = f"tables.{table.name}"
    found = [f"{where}.primary_key: {c} is an array column; its elements become a table of their own"
             for c in tprof.primary_key if c in arrays]
    found += [f"{where}.pointers.{c}: {c} is an array column, not an address" for c in tprof.pointers if c in arrays]
    found += [f"{where}.repeating_groups: {c} is an array column; its elements become a table of their own"
              for g in tprof.repeating_groups for o in g.occurrences for c in o if c in arrays]
    return found


def _with_key(table: Table, key: tuple[str, ...]) -> Table:
    """The table with the profile's key as its primary key (its columns are then NOT NULL)."""
    cols = tuple(replace(c, nullable=False) if c.name in key else c for c in table.columns)
    return replace(table, columns=cols, primary_key=key)


def _target_key(schema: Schema, profile: Profile, name: str) -> tuple[str, ...]:
    if name not in schema.table_names:
        return ()
    return schema.table(name).primary_key or profile.table(name).primary_key


DATE_KINDS = frozenset({"date", "timestamp"})


def _filter_problems(table: Table, tprof: TableProfile, where: str) -> list[str]:
    """A ``period_column`` must be a date or timestamp column of the table (a ``where`` is
    checked on the server, which knows its SQL)."""
    column = tprof.period_column
    if not column:
        return []
    if column not in table.column_names:
        return [f"{where}.period_column: no such column '{column}' (columns: {', '.join(table.column_names)})"]
    col = table.column(column)
    if col.kind not in DATE_KINDS:
        return [f"{where}.period_column: {column} is {col.native_type}, not a date or timestamp column; "
                "use 'where' with a condition of your own"]
    return []


def filter_text(row_filter: RowFilter) -> str:
    """The filter as one condition a person reads (reports and messages)."""
    parts = [f"({row_filter.where})"] if row_filter.where else []
    if row_filter.period_column:
        if row_filter.start:
            parts.append(f"{row_filter.period_column} >= {row_filter.start}")
        if row_filter.end:
            parts.append(f"{row_filter.period_column} <= {row_filter.end} (the whole day)")
    return " AND ".join(parts)


def missing_descriptions(plan: Plan) -> list[str]:
    """Kept tables and fields with neither a description in the profile nor a comment in the source."""
    missing = []
    for tp in plan.tables:
        if tp.source is None or tp.unpivot is not None:
            continue
        tprof = plan.profile.table(tp.name)
        if not (tprof.description or tp.source.comment):
            missing.append(f"table {tp.name}")
        for f in tp.fields:
            if f.role != "value" or f.column is None:
                continue
            col = tp.source.column(f.column)
            prof = tprof.columns.get(f.column)
            if not ((prof and prof.description) or col.comment):
                missing.append(f"field {tp.name}.{f.name}")
    return missing


def _key_problems(schema: Schema, profile: Profile, tname: str, where: str = "") -> list[str]:
    """Profile keys, relations, pointers and groups that name what the source does not have."""
    problems: list[str] = []
    tprof = profile.table(tname)
    table = schema.table(tname)
    cols = set(table.column_names)
    where = where or f"tables.{tname}"

    def missing(place: str, names: tuple[str, ...], in_table: Table) -> None:
        for c in names:
            if c not in in_table.column_names:
                problems.append(f"{place}: no such column '{c}' in {in_table.name} "
                                f"(columns: {', '.join(in_table.column_names)})")

    if tprof.primary_key:
        missing(f"{where}.primary_key", tprof.primary_key, table)
        if table.primary_key and table.primary_key != tprof.primary_key:
            problems.append(f"{where}.primary_key: the source declares the primary key "
                            f"({', '.join(table.primary_key)}); remove primary_key from the profile")
    for i, fk in enumerate(tprof.foreign_keys, 1):
        here = f"{where}.foreign_keys[{i}]"
        missing(f"{here}.columns", fk.columns, table)
        if fk.references not in schema.table_names:
            problems.append(f"{here}.references: no such table '{fk.references}'")
            continue
        target = schema.table(fk.references)
        key = _target_key(schema, profile, fk.references)
        if fk.ref_columns:
            missing(f"{here}.ref_columns", fk.ref_columns, target)
        elif not key:
            problems.append(f"{here}: {fk.references} has no primary key in the source or the profile; "
                            "give ref_columns")
        elif len(key) != len(fk.columns):
            problems.append(f"{here}: {fk.references}'s key has {len(key)} column(s), 'columns' has {len(fk.columns)}")
    for column, ptr in tprof.pointers.items():
        here = f"{where}.pointers.{column}"
        if column not in cols:
            problems.append(f"{here}: no such column '{column}' (columns: {', '.join(table.column_names)})")
        if ptr.references not in schema.table_names:
            problems.append(f"{here}.references: no such table '{ptr.references}'")
            continue
        target = schema.table(ptr.references)
        if ptr.address not in ADDRESS_KINDS and ptr.address not in target.column_names:
            problems.append(f"{here}.address: '{ptr.address}' is neither a physical address "
                            f"({', '.join(ADDRESS_KINDS)}) nor a column of {ptr.references}")
        missing(f"{here}.recno_order", ptr.recno_order, target)
    for i, g in enumerate(tprof.repeating_groups, 1):
        here = f"{where}.repeating_groups[{i}]"
        flat = tuple(c for o in g.occurrences for c in o)
        missing(f"{here}.columns", flat, table)
        if g.table in schema.table_names:
            problems.append(f"{here}.table: '{g.table}' is already a table in the source; choose another name")
        if all(c in cols for c in flat):
            for pos in range(len(g.fields)):
                kinds = {table.column(o[pos]).kind for o in g.occurrences}
                if len(kinds) > 1:
                    problems.append(f"{here}.columns: the occurrences of {g.fields[pos]} have different types "
                                    f"({', '.join(sorted(kinds))})")
    return problems


def _fields(table: Table, columns: tuple[Column, ...], tprof, warnings: list[str],
            unnest: dict[str, str]) -> tuple[FieldPlan, ...]:
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
        desc = desc or (col.comment or "")
        if col.name in unnest:
            out.append(_count_field(table, col, desc, unnest[col.name], seen))
            continue
        codes: tuple[tuple[str, str], ...] = ()
        if col.codes and col.kind in CODE_KINDS:
            codes = tuple((v, "") for v in col.codes)
            desc = " ".join(x for x in (desc, f"Kodelisten er hentet fra {col.codes_source} i kildedatabasen.") if x)
        out.append(FieldPlan(
            name=name, column=col.name, kind=col.kind,
            not_null=(not col.nullable) or col.name in table.primary_key,
            unique=col.name in single_unique,
            description=desc,
            scale=col.scale, max_length=col.length, codes=codes,
        ))
    return tuple(out)


def share(fields: Sequence[FieldPlan], shared: dict[Any, Any]) -> tuple[FieldPlan, ...]:
    """``fields`` as a tuple, each field (and the tuple) the object ``shared`` already holds when an
    equal one was made for another table: they are frozen, and a plan of 20,000 tables whose
    columns repeat (``id``, ``navn``…) keeps each once (some 150 bytes a field). ``shared`` lives
    as long as the plan is being made."""
    done = tuple(shared.setdefault(f, f) for f in fields)
    return shared.setdefault(done, done)  # type: ignore[no-any-return]


def _count_field(table: Table, col: Column, desc: str, child: str, seen: dict[str, str]) -> FieldPlan:
    """The parent's field for an array column: its number of elements, which keeps a NULL array
    (empty field) apart from an empty one (0); the elements are in ``child``."""
    name = f"{col.name}_antall"
    taken = {c.name.lower() for c in table.columns} | set(seen)
    while name.lower() in taken:
        name += "_"
    seen[name.lower()] = col.name
    return FieldPlan(
        name=name, column=col.name, kind="integer", not_null=not col.nullable,
        description=" ".join(x for x in (desc, (
            f"Antall elementer i arrayen i kolonnen {col.name} ({col.native_type}); elementene står i tabellen "
            f"{child}, én post per element. Tomt når kolonnen er NULL (ingen array), 0 når arrayen er tom.")) if x))


def _order_by(table: Table, columns: tuple[Column, ...]) -> tuple[str, ...]:
    """Primary key, else a not-null unique key, else every column: reruns give identical files.

    Binary columns are part of the order too; an engine that cannot sort them says so in its adapter.
    """
    if table.primary_key:
        return table.primary_key
    by_name = {c.name: c for c in columns}
    for u in table.unique_keys:
        if all(n in by_name and not by_name[n].nullable for n in u):
            return u
    return tuple(c.name for c in columns)
