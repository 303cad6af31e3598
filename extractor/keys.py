"""Keys: every table gets a key, physical pointers become keys, repeating groups and array columns
become child tables, and every relation is checked in the data.

``settle`` runs after ``make_plan`` inside the run's snapshot, because choosing a key may need the
data (a column proven unique) and the profile's keys are verified against it. ``check_relations``
runs after the tables are written: references without a target are kept as the source holds them
and listed, never fixed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from .errors import ProfileError
from .model import Column, ForeignKey, Lookup, Table
from .plan import CODE_KINDS, FieldPlan, Plan, TablePlan, Unpivot, array_refusal, safe_file_stem
from .profile import ADDRESS_KINDS, RepeatingGroup
from .report import DeviationLog
from .scan import key_text
from .source_dialect import SourceDialect

SURROGATE = "uttrekk_lopenr"
"""Name of the key field added to a table that has no key."""

KEY_LIKE = re.compile(r"(^|_)(id|nr|no|num|kode|code|key|lopenr)$|(id|nr)$", re.IGNORECASE)
"""Column names that say 'I am a key'; such columns are tried first as a table's key."""

KEY_CANDIDATES = 12
"""Columns tried as a key of one table (one query counts them all)."""

SHOWN = 10
"""Offending key values named in an error."""


def settle(plan: Plan, dialect: SourceDialect) -> Plan:
    """Decide every table's key, rewrite pointers, split repeating groups (reads the data)."""
    if plan.keys_settled:
        return plan
    tables: list[TablePlan] = []
    for tp in plan.tables:
        if tp.source is not None and tp.key_note:
            _verify_key(plan, tp, dialect)
            tp = replace(tp, notes=(*tp.notes, tp.key_note))
        elif tp.source is not None and not tp.primary_key:
            tp = _choose_key(tp, dialect, plan.long_text_limit)
        tables.append(tp)
    by_name = {tp.name: tp for tp in tables}
    tables = [_rewrite_pointers(plan, tp, by_name, dialect) for tp in tables]
    tables = _find_code_tables(tables)
    files = {tp.file_name.lower() for tp in tables}
    out: list[TablePlan] = []
    refused = list(plan.refused)
    for tp in tables:
        moved = tuple(f"kolonnene {', '.join(c for o in g.occurrences for c in o)} (en gjentakende gruppe) er flyttet "
                      f"til tabellen {g.table}" for g in tp.groups)
        children = [_child(plan, tp, group, files) for group in tp.groups]
        arrays = []
        for column, name in tp.arrays:
            child = _array_child(plan, tp, column, name, files, dialect)
            if isinstance(child, str):
                refused.append(child)
                continue
            arrays.append((column, name))
            children.append(child)
            moved += (f"elementene i arraykolonnen {column} er flyttet til tabellen {name}, og feltet "
                      f"{_count_name(tp, column)} gir antallet",)
        changed = bool(moved) or tuple(arrays) != tp.arrays  # else the same TablePlan: not one copy a table
        out.append(replace(tp, notes=(*tp.notes, *moved), arrays=tuple(arrays)) if changed else tp)
        out += children
    return replace(plan, tables=tuple(out), keys_settled=True, warnings=(*plan.warnings, *_address_columns(plan)),
                   refused=tuple(refused))


ADDRESS_TYPES = re.compile(r"^(U?ROWID|TID)\b", re.IGNORECASE)
"""Native types that hold physical row addresses (Oracle ROWID/UROWID, PostgreSQL tid)."""


def _address_columns(plan: Plan) -> list[str]:
    """Columns typed as row addresses that the profile does not declare as pointers: say so, since
    an address means nothing outside the source database."""
    out = []
    for tp in plan.tables:
        if tp.source is None or tp.unpivot is not None:
            continue
        declared = plan.profile.table(tp.name).pointers
        for c in tp.source.columns:
            if c.name in tp.columns and c.name not in declared and ADDRESS_TYPES.match(c.native_type):
                out.append(f"{tp.name}.{c.name} ({c.native_type}) holds physical row addresses, which mean nothing "
                           f"outside the source; declare it under [tables.{tp.name}.pointers.{c.name}] with the table "
                           "it points to, so it is archived as that row's key")
    return out


# -- keys ------------------------------------------------------------------------------------------

def _verify_key(plan: Plan, tp: TablePlan, dialect: SourceDialect) -> None:
    """The profile's key must hold in the data: no NULL, no value held twice."""
    assert tp.source is not None
    nulls, dupes = dialect.key_violations(tp.source, tp.primary_key, SHOWN)
    if not nulls and not dupes:
        return
    problems = []
    if nulls:
        problems.append(f"{nulls} row(s) have no value in a key column")
    if dupes:
        shown = "; ".join(f"({', '.join(map(repr, d[:-1]))}) in {d[-1]} rows" for d in dupes)
        problems.append(f"values held by more than one row: {shown}" + (" …" if len(dupes) == SHOWN else ""))
    raise ProfileError(plan.profile.path or "profile", [
        f"tables.{tp.name}.primary_key: ({', '.join(tp.primary_key)}) is not a key in the data: "
        + "; ".join(problems) + ". Name other columns, or remove primary_key to let uttrekk add a surrogate key."])


def _choose_key(tp: TablePlan, dialect: SourceDialect, long_text_limit: int) -> TablePlan:
    """A declared unique NOT NULL key, else a column proven unique in the data, else a surrogate."""
    assert tp.source is not None
    cols = {c.name: c for c in tp.source.columns}
    for u in tp.alternate_keys:
        if all(not cols[c].nullable for c in u):
            return _as_key(tp, u, f"kildetabellen har ingen primærnøkkel; den unike nøkkelen ({', '.join(u)}) "
                                  "er brukt som primærnøkkel")
    pointers = {lk.column for lk in tp.source.lookups}
    candidates = [c for c in tp.columns if c in cols and c not in pointers and _keyable(cols[c])]
    candidates.sort(key=lambda c: (not KEY_LIKE.search(c), cols[c].kind != "integer", tp.columns.index(c)))
    candidates = candidates[:KEY_CANDIDATES]
    rows = 0
    if candidates:
        texts = [c for c in candidates if cols[c].kind in ("string", "char")]
        rows, facts = dialect.key_facts(tp.source, candidates, long_text_limit, texts)
        if rows:
            for c in candidates:
                # one row proves nothing, unless the name says it is a key
                if facts[c] == (rows, rows) and (rows >= 2 or KEY_LIKE.search(c)):
                    return _as_key(tp, (c,), f"kildetabellen har ingen deklarert nøkkel; kolonnen {c} er brukt som "
                                             f"primærnøkkel fordi verdiene var unike og aldri tomme i alle {rows} "
                                             "postene da uttrekket ble tatt")
    return _surrogate(tp)


def _keyable(col: Column) -> bool:
    if col.kind in ("integer", "char"):
        return True
    return col.kind == "string" and (col.length is None or col.length <= 255)


def _as_key(tp: TablePlan, key: tuple[str, ...], note: str) -> TablePlan:
    fields = tuple(replace(f, not_null=True, unique=f.unique or len(key) == 1)
                   if f.role == "value" and f.column in key else f for f in tp.fields)
    return replace(tp, fields=fields, primary_key=key, order_by=key, key_note=note,
                   alternate_keys=tuple(a for a in tp.alternate_keys if a != key), notes=(*tp.notes, note))


def _surrogate(tp: TablePlan) -> TablePlan:
    taken = {n.lower() for n in (*tp.columns, *(f.name for f in tp.fields))}
    name = SURROGATE
    while name.lower() in taken:
        name += "_"
    note = (f"kildetabellen har ingen nøkkel og ingen kolonne med unike verdier; feltet {name} er lagt til av "
            "uttrekket som primærnøkkel")
    field = FieldPlan(name, None, "integer", role="surrogate", not_null=True, unique=True, description=(
        "Løpenummer lagt til av uttrekket fordi kildetabellen ikke har noen nøkkel: postene er nummerert fra 1 i "
        "rekkefølgen etter alle kolonnene, så et nytt uttrekk av de samme dataene gir de samme numrene."))
    return replace(tp, fields=(field, *tp.fields), primary_key=(name,), surrogate=name, key_note=note,
                   notes=(*tp.notes, note))


# -- code tables -----------------------------------------------------------------------------------

EXPLANATION = re.compile(r"betegnelse|beskrivelse|forklaring|navn|tekst|name|descr|label|text", re.IGNORECASE)
"""Names of the column that explains a code, tried before the first text column."""

CODE_TABLE_COLUMNS = 4
"""Most columns a lookup table has (code, text, perhaps a sort order and a validity flag)."""


def _find_code_tables(tables: list[TablePlan]) -> list[TablePlan]:
    """Lookup tables: referenced by a relation on their single-column key of codes, with a text
    column and few columns. Whether the list is short enough to write inline is decided by the
    row count when the table is read (``code_list_limit``)."""
    referenced: dict[str, set[str]] = {}
    for tp in tables:
        for fk in tp.foreign_keys:
            if fk.origin in ("source", "profile") and len(fk.ref_columns) == 1:
                referenced.setdefault(fk.ref_table, set()).add(fk.ref_columns[0])
    out = []
    for tp in tables:
        if (tp.code_table is None and tp.source is not None and not tp.surrogate and len(tp.primary_key) == 1
                and tp.primary_key[0] in referenced.get(tp.name, ()) and len(tp.columns) <= CODE_TABLE_COLUMNS):
            key = tp.primary_key[0]
            texts = [c for c in tp.columns if c != key and tp.source.column(c).kind in ("string", "char")]
            if tp.source.column(key).kind in CODE_KINDS and texts:
                explanation = next((c for c in texts if EXPLANATION.search(c)), texts[0])
                tp = replace(tp, code_table=(key, explanation, None))
        out.append(tp)
    return out


# -- pointers --------------------------------------------------------------------------------------

ADDRESS_NAMES = {"rowid": "radadressen (ROWID)", "ctid": "radadressen (ctid)", "physloc": "radadressen (%%physloc%%)",
                 "recno": "postnummeret"}


def _rewrite_pointers(plan: Plan, tp: TablePlan, by_name: dict[str, TablePlan], dialect: SourceDialect) -> TablePlan:
    """Pointer columns read as the key of the row they address (a join on the server)."""
    pointers = plan.profile.table(tp.name).pointers
    if not pointers or tp.source is None:
        return tp
    where = f"tables.{tp.name}.pointers"
    source = tp.source
    columns, fields, fks = list(tp.columns), list(tp.fields), list(tp.foreign_keys)
    new_cols = list(source.columns)
    lookups = []
    taken = {c.lower() for c in columns} | {f.name.lower() for f in fields}
    for column, ptr in pointers.items():
        if column not in columns:
            raise ProfileError(plan.profile.path or "profile", [f"{where}.{column}: the column is excluded"])
        target = by_name.get(ptr.references)
        if target is None or target.source is None:
            raise ProfileError(plan.profile.path or "profile", [
                f"{where}.{column}: the target table {ptr.references} is not extracted, so the pointer cannot "
                "be turned into its key"])
        if target.surrogate:
            key, ref, key_col = None, target.surrogate, Column(target.surrogate, "(løpenummer)", "integer")
        elif len(target.primary_key) == 1:
            key = ref = target.primary_key[0]
            key_col = target.source.column(key)
        else:
            raise ProfileError(plan.profile.path or "profile", [
                f"{where}.{column}: {target.name}'s key has {len(target.primary_key)} columns; a pointer can only "
                "be turned into a single-column key"])
        plain_target = replace(target.source, lookups=())
        if ptr.address not in ADDRESS_KINDS:
            _, dupes = dialect.key_violations(plain_target, (ptr.address,), SHOWN)
            if dupes:
                raise ProfileError(plan.profile.path or "profile", [
                    f"{where}.{column}.address: {ptr.references}.{ptr.address} does not identify one row: "
                    + "; ".join(f"{d[0]!r} in {d[1]} rows" for d in dupes)])
        keep_as = f"{column}_opprinnelig"
        while keep_as.lower() in taken:
            keep_as += "_"
        taken.add(keep_as.lower())
        original = source.column(column)
        lookups.append(Lookup(column, original, plain_target, ptr.address, key,
                              ptr.recno_order or target.order_by, ptr.recno_start, keep_as))
        i = columns.index(column)
        new_cols[[c.name for c in new_cols].index(column)] = replace(
            original, native_type=f"{original.native_type} (peker til {target.name})", kind=key_col.kind,
            length=key_col.length, precision=key_col.precision, scale=key_col.scale, float_bits=key_col.float_bits,
            codes=(), codes_source="")
        new_cols.append(replace(original, name=keep_as, nullable=True))
        what = ADDRESS_NAMES.get(ptr.address, f"verdien i kolonnen {ptr.address}")
        j = next(n for n, f in enumerate(fields) if f.role == "value" and f.column == column)
        f = fields[j]
        fields[j] = replace(f, kind=key_col.kind, scale=key_col.scale, max_length=key_col.length, codes=(),
                            description=" ".join(x for x in (f.description, (
                                f"Kolonnen inneholdt i kilden {what} til en post i {target.name}; uttrekket har "
                                f"erstattet den med postens nøkkel ({ref}). Tomt når adressen ikke finnes.")) if x))
        columns.insert(i + 1, keep_as)
        if ptr.keep_original:
            fields.insert(j + 1, FieldPlan(keep_as, keep_as, original.kind, scale=original.scale,
                                           max_length=original.length, description=(
                                               f"Den opprinnelige verdien av {column} i kilden ({what} til en post i "
                                               f"{target.name}), bevart etter profilen.")))
        fks = [fk for fk in fks if column not in fk.columns]
        fks.append(ForeignKey((column,), target.name, (ref,), f"FK_{tp.name}_{column}", origin="pointer"))
    derived = replace(source, columns=tuple(new_cols), lookups=tuple(lookups))
    note = (f"pekerkolonne(r) {', '.join(pointers)} er skrevet om fra fysiske adresser til nøklene i tabellene de "
            "peker til")
    return replace(tp, source=derived, columns=tuple(columns), fields=tuple(fields), foreign_keys=tuple(fks),
                   notes=(*tp.notes, note))


# -- repeating groups ------------------------------------------------------------------------------

def _parent_key(parent: TablePlan) -> tuple[tuple[Column, ...], tuple[str, ...]]:
    """The key columns a child table takes from its parent, and the parent's columns read for them
    (none when the parent's key is its record number)."""
    assert parent.source is not None
    if parent.surrogate:
        return (Column(parent.surrogate, "(løpenummer)", "integer", nullable=False),), ()
    return (tuple(replace(parent.source.column(c), nullable=False, codes=(), codes_source="")
                  for c in parent.primary_key), parent.primary_key)


def _child_file(name: str, files: set[str]) -> str:
    stem = safe_file_stem(name)
    while stem.lower() in files:
        stem += "_"
    files.add(stem.lower())
    return stem


def _child(plan: Plan, parent: TablePlan, group: RepeatingGroup, files: set[str]) -> TablePlan:
    """The child table of a repeating group: the parent's key, ``nr`` and one record per occurrence."""
    assert parent.source is not None
    src = parent.source
    key_cols, read_key = _parent_key(parent)
    names = {c.name.lower() for c in key_cols} | {f.lower() for f in group.fields}
    nr = "nr"
    while nr.lower() in names:
        nr += "_"
    members = []
    for pos, name in enumerate(group.fields):
        at = [src.column(o[pos]) for o in group.occurrences]
        lengths = [c.length for c in at]
        members.append(replace(at[0], name=name, nullable=True, comment=None,
                               length=None if None in lengths else max(x or 0 for x in lengths)))
    nr_col = Column(nr, "(forekomst)", "integer", nullable=False)
    cols = (*key_cols, nr_col, *members)
    table = Table(group.table, cols, tuple(c.name for c in key_cols) + (nr,), schema=src.schema)
    tprof = plan.profile.table(group.table)
    listing = ", ".join(f"{i} for {'/'.join(o)}" for i, o in enumerate(group.occurrences, 1))
    desc = {c.name: f"Nøkkelen til posten i {parent.name} som forekomsten hører til." for c in key_cols}
    desc[nr] = f"Forekomstens nummer i gruppen: {listing}."
    for pos, name in enumerate(group.fields):
        desc[name] = f"Verdien fra kolonnene {', '.join(o[pos] for o in group.occurrences)} i {parent.name}."
    fields = tuple(FieldPlan(c.name, c.name, c.kind, not_null=not c.nullable, scale=c.scale, max_length=c.length,
                             description=" ".join(x for x in (
                                 tprof.columns[c.name].description if c.name in tprof.columns else "", desc[c.name])
                                 if x))
                   for c in cols)
    stem = _child_file(group.table, files)
    moved = ", ".join(c for o in group.occurrences for c in o)
    description = " ".join(x for x in (tprof.description, (
        f"Gjentakende gruppe flyttet ut av tabellen {parent.name} (kolonnene {moved}) av uttrekket: én post per "
        f"forekomst som ikke er helt tom, med nøkkelen til posten i {parent.name} og forekomstens nummer i {nr}. "
        "Mangler et nummer, var alle forekomstens kolonner tomme (NULL).")) if x)
    fk = ForeignKey(table.primary_key[:-1], parent.name, parent.primary_key, f"FK_{group.table}_{parent.name}",
                    origin="group")
    return TablePlan(
        name=group.table, file_name=stem, source=table, columns=tuple(c.name for c in cols), fields=fields,
        description=description, primary_key=table.primary_key, foreign_keys=(fk,), charset=parent.charset,
        unpivot=Unpivot(replace(src, lookups=()), parent.order_by, read_key, group.occurrences),
        notes=(f"tabellen er laget av uttrekket fra den gjentakende gruppen {moved} i {parent.name}",))


# -- arrays ----------------------------------------------------------------------------------------

def _count_name(parent: TablePlan, column: str) -> str:
    return next(f.name for f in parent.fields if f.role == "value" and f.column == column)


def _array_child(plan: Plan, parent: TablePlan, column: str, name: str, files: set[str],
                 dialect: SourceDialect) -> TablePlan | str:
    """The child table of an array column: the parent's key, one index per dimension and the
    element, one record per element (NULL elements too). A refusal (text) when the values do not
    all have the same number of dimensions, which no one set of index fields can hold."""
    assert parent.source is not None
    src = parent.source
    col = src.column(column)
    array = col.array
    assert array is not None
    found = dialect.array_dimensions(replace(src, lookups=()), column)
    if len(found) > 1:
        return array_refusal(src, col, f"its values have different numbers of dimensions "
                                               f"({', '.join(map(str, found))}), which one table cannot hold")
    dims = found[0] if found else max(len(array.bounds), 1)
    key_cols, read_key = _parent_key(parent)
    taken = {c.name.lower() for c in key_cols} | {column.lower()}
    index_names = []
    for d in range(1, dims + 1):
        index = "indeks" if dims == 1 else f"indeks{d}"
        while index.lower() in taken:
            index += "_"
        taken.add(index.lower())
        index_names.append(index)
    index_cols = tuple(Column(n, "(indeks)", "integer", nullable=False) for n in index_names)
    element = replace(array.element, name=column, comment=None)
    cols = (*key_cols, *index_cols, element)
    table = Table(name, cols, tuple(c.name for c in (*key_cols, *index_cols)), schema=src.schema)
    tprof = plan.profile.table(name)
    declared = plan.profile.table(parent.name).columns.get(column)
    about = (declared.description if declared else "") or (col.comment or "")
    where = " og ".join(index_names) if dims > 1 else index_names[0]
    if array.bounds:
        bounds = ", ".join(f"{lo}:{hi}" for lo, hi in array.bounds)
        numbering = f"kildens egne indekser innenfor de deklarerte grensene [{bounds}]"
    else:
        numbering = "kildens egne indekser; hver verdi har sine egne grenser, og den første indeksen er ikke alltid 1"
    desc = {c.name: f"Nøkkelen til posten i {parent.name} som elementet hører til." for c in key_cols}
    for d, index in enumerate(index_names, 1):
        dimension = f" i dimensjon {d}" if dims > 1 else ""
        desc[index] = f"Elementets indeks{dimension} i arrayen ({numbering})."
    coded = f"Kodelisten er hentet fra {element.codes_source} i kildedatabasen." if element.codes else ""
    desc[column] = " ".join(x for x in (about, (
        f"Elementets verdi fra arraykolonnen {column} ({col.native_type}) i {parent.name}; tomt når elementet "
        "er NULL."), coded) if x)
    fields = tuple(FieldPlan(c.name, c.name, c.kind, not_null=not c.nullable, scale=c.scale, max_length=c.length,
                             codes=tuple((v, "") for v in c.codes) if c.codes and c.kind in CODE_KINDS else (),
                             description=" ".join(x for x in (
                                 tprof.columns[c.name].description if c.name in tprof.columns else "", desc[c.name])
                                 if x))
                   for c in cols)
    count = _count_name(parent, column)
    description = " ".join(x for x in (tprof.description, (
        f"Elementene i arraykolonnen {column} ({col.native_type}) i tabellen {parent.name}, flyttet ut av uttrekket: "
        f"én post per element, med nøkkelen til posten i {parent.name} og elementets plass i arrayen i {where}. "
        f"Feltet {count} i {parent.name} gir antall elementer: tomt når kolonnen var NULL, 0 når arrayen var "
        "tom; da har posten ingen elementer her.")) if x)
    fk = ForeignKey(tuple(c.name for c in key_cols), parent.name, parent.primary_key, f"FK_{name}_{parent.name}",
                    origin="array")
    return TablePlan(
        name=name, file_name=_child_file(name, files), source=table, columns=tuple(c.name for c in cols),
        fields=fields, description=description, primary_key=table.primary_key, order_by=table.primary_key,
        foreign_keys=(fk,), charset=parent.charset,
        unpivot=Unpivot(replace(src, lookups=()), parent.order_by, read_key, array=column),
        notes=(f"tabellen er laget av uttrekket fra arraykolonnen {column} i {parent.name}",))


# -- relations in the data -------------------------------------------------------------------------

def check_relations(plan: Plan, dialect: SourceDialect, work: Path) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Every relation whose values come from the data, checked on the server: each reference
    without a target row is listed (table, columns, row key, values) in a work file per table.
    Returns the counts per table and the warnings for the summary."""
    counts: dict[str, dict[str, int]] = {}
    warnings: list[str] = []
    for tp in plan.tables:
        checked = [fk for fk in tp.foreign_keys if fk.checked_in_data]
        if not checked or tp.source is None or tp.unpivot is not None:
            continue
        path = work / f"{tp.file_name}.relations.tsv"
        found: Counter[str] = Counter()
        with DeviationLog(path, header=False) as log:
            for fk in checked:
                target = plan.table(fk.ref_table)
                assert target.source is not None
                pk = () if tp.surrogate else tp.primary_key
                n = 0
                for row in dialect.dangling(replace(tp.source, lookups=()), fk.columns, tp.order_by,
                                            replace(target.source, lookups=()), fk.ref_columns, pk):
                    n += 1
                    recno, key, values = row[0], row[1:1 + len(pk)], row[1 + len(pk):]
                    where = key_text(tp, tuple(key), recno)
                    shown = ", ".join(map(str, values))
                    log.add(tp.name, ", ".join(fk.columns), where, "dangling_reference",
                            f"{shown} has no row in {target.name}({', '.join(fk.ref_columns)}); kept as in the source")
                if n:
                    found["dangling_reference"] += n
                    coded = any(f.codes for f in tp.fields if f.role == "value" and f.column in fk.columns)
                    extra = " and A.22 (Control_Codes)" if coded else ""
                    warnings.append(
                        f"{n} value(s) of {tp.name}({', '.join(fk.columns)}) have no row in {target.name}: they are kept "
                        f"as the source holds them and listed in report/deviations.tsv; Arkade 5 A.16 (Control_ForeignKey)"
                        f"{extra} will report them.")
        if found:
            counts[tp.name] = dict(found)
        else:
            path.unlink()
    return counts, warnings
