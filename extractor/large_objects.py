"""Large objects: a column that refers to objects stored apart from the rows is archived as their bytes.

PostgreSQL keeps a large object apart from its row, which holds only the object's number: in a
column of the ``lo`` extension's type (the type says what it is) or of type ``oid`` (a number that
may name a large object or anything else). Decided inside the run's snapshot, after the keys:

- a ``lo`` column, or one the profile declares ``large_object = true``, is read as the objects'
  bytes, each value into a file like any binary value;
- an ``oid`` column whose every non-NULL value names an existing large object is read so too, and
  the report says so; one where only some do stops the run, naming rows and the profile key that
  decides; one where none do keeps its numbers;
- a value naming an object that does not exist leaves its field empty and is reported
  (``large_object_missing``, with the number), after the tables are written;
- large objects no column of the database refers to are listed with number and size, not archived.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any

from .errors import ProfileError, SourceError
from .plan import Plan, TablePlan
from .report import DeviationLog
from .scan import key_text
from .source_dialect import LargeObjectSource, SourceDialect, large_objects_of

SHOWN = 5
"""Rows named in an error."""

LARGEST = 500 * 2**20
"""The largest object uttrekk reads: ``lo_get`` returns it as one ``bytea`` value, whose hex text
(twice the size) PostgreSQL must hold below 1 GB, with the rest of the row."""

ORPHANS_LISTED = 10_000
"""Unreferenced objects listed in report/extraction.json (all are counted)."""

ORPHANS_SHOWN = 20
"""Unreferenced objects named in the summary's warning."""


def settle_large_objects(plan: Plan, dialect: SourceDialect) -> Plan:
    """The plan with every column that refers to large objects read as their bytes (reads the data)."""
    declared: dict[tuple[str, str], bool | None] = {
        (t, c): p.large_object for t, tp in plan.profile.tables.items() for c, p in tp.columns.items()
        if p.large_object is not None}
    where = plan.profile.path or "profile"
    lobs = large_objects_of(dialect)
    if lobs is None:
        if declared:
            raise ProfileError(where, [f"tables.{t}.columns.{c}.large_object: {dialect.name} has no large objects; "
                                       "remove the key" for t, c in declared])
        return plan
    readable = [(tp, tp.source) for tp in plan.tables if tp.source is not None and tp.unpivot is None
                and tp.source.query is None]
    candidates = lobs.large_object_columns([src for _, src in readable]) if readable else {}
    candidates = {tp.name: candidates.get(tp.name, {}) for tp, _ in readable}
    problems: list[str] = []
    too_big: list[str] = []
    warnings: list[str] = []
    tables = []
    for tp in plan.tables:
        if tp.name in candidates:
            tp = _settle_table(tp, lobs, candidates[tp.name], declared, problems, too_big, warnings)
        tables.append(tp)
    if problems:
        raise ProfileError(where, problems)
    if too_big:
        raise SourceError(
            f"large objects larger than {LARGEST // 2**20} MiB, the most uttrekk reads in one piece (lo_get gives one "
            "bytea value, whose hex text PostgreSQL must hold below 1 GB); nothing was written:\n  "
            + "\n  ".join(too_big) + "\nExclude the column with the reason (exclude = \"…\") and deliver these objects "
            "another way.")
    return replace(plan, tables=tuple(tables), warnings=(*plan.warnings, *warnings))


def _settle_table(tp: TablePlan, dialect: LargeObjectSource, types: dict[str, bool], declared: dict[tuple[str, str], bool | None],
                  problems: list[str], too_big: list[str], warnings: list[str]) -> TablePlan:
    """One table: which of its columns are read as large objects, and how many values name none."""
    assert tp.source is not None
    src = tp.source
    pk = () if tp.surrogate else tp.primary_key
    for (t, c), flag in declared.items():
        if t == tp.name and flag and c in src.column_names and c not in types:
            problems.append(f"tables.{t}.columns.{c}.large_object: {c} is {src.column(c).native_type}, not oid or lo; "
                            "only such a column can refer to large objects")
    chosen: dict[str, int] = {}
    for c in tp.columns:
        flag = declared.get((tp.name, c))
        if c not in types or flag is False:
            continue
        values, objects = dialect.large_object_facts(src, c)
        name = f"{tp.name}.{c} ({src.column(c).native_type})"
        if c in tp.primary_key:
            if objects:
                warnings.append(f"{name} is the table's key and names {objects} large object(s): the numbers are "
                                "archived, not the objects")
            continue
        if not (flag or types[c]):  # an oid column: the data decide
            if not objects:
                continue
            if objects < values:
                rows = islice(dialect.missing_large_objects(src, c, tp.order_by, pk), SHOWN)
                shown = "; ".join(f"[{key_text(tp, tuple(r[1:-1]), r[0])}] {r[-1]}" for r in rows)
                problems.append(
                    f"tables.{tp.name}.columns.{c}: {objects} of the {values} values of this oid column name existing "
                    f"large objects and {values - objects} do not (first: {shown}), so uttrekk cannot tell whether it "
                    "refers to large objects; set large_object = true (archive the objects; the others are reported "
                    "as missing) or large_object = false (archive the numbers)")
                continue
            warnings.append(f"{name}: all {values} non-NULL values name existing large objects, so the column is read "
                            "as large objects: each object's bytes in a file under content/lob/ (set large_object = "
                            f"false under [tables.{tp.name}.columns.{c}] to archive the numbers instead)")
        for r in dialect.large_objects_over(src, c, tp.order_by, pk, LARGEST, SHOWN):
            too_big.append(f"{tp.name}.{c} [{key_text(tp, tuple(r[1:-2]), r[0])}]: large object {r[-2]}, {r[-1]} bytes")
        chosen[c] = values - objects
    return _as_large_objects(tp, chosen) if chosen else tp


def _as_large_objects(tp: TablePlan, missing: dict[str, int]) -> TablePlan:
    """The table with ``missing``'s columns read as the bytes of the objects they name."""
    assert tp.source is not None
    src = tp.source
    cols = tuple(replace(c, kind="binary", length=None, precision=None, scale=None, codes=(), codes_source="")
                 if c.name in missing else c for c in src.columns)
    fields = []
    for f in tp.fields:
        if f.role == "value" and f.column in missing:
            native = src.column(f.column).native_type
            note = (f"I kilden er kolonnen av typen {native} og viser til et stort objekt (PostgreSQL large object); "
                    "uttrekket har lagret objektets innhold. Tomt også når objektet ikke finnes i kilden (se "
                    "report/deviations.tsv).")
            f = replace(f, kind="binary", scale=None, max_length=None, codes=(), not_null=f.not_null and not missing[f.column],
                        description=f"{f.description} {note}".strip())
        fields.append(f)
    note = (f"kolonne(ne) {', '.join(missing)} viser til store objekter (PostgreSQL large objects); objektenes innhold "
            "er arkivert som filer")
    return replace(tp, source=replace(src, columns=cols, large_objects=tuple(missing)), fields=tuple(fields),
                   notes=(*tp.notes, note))


def report_missing(plan: Plan, dialect: SourceDialect, work: Path, counts: dict[str, dict[str, int]]) -> list[str]:
    """List every value naming a large object that does not exist, with its row key, among the
    deviations ``keys.check_relations`` left per table (``counts`` gets theirs); the warnings."""
    warnings: list[str] = []
    lobs = large_objects_of(dialect)
    if lobs is None:  # no column can have been settled as large objects
        return warnings
    for tp in plan.tables:
        src = tp.source
        if src is None or not src.large_objects or tp.unpivot is not None:
            continue
        pk = () if tp.surrogate else tp.primary_key
        found = 0
        with DeviationLog(work / f"{tp.file_name}.relations.tsv", header=False, append=True) as log:
            for column in src.large_objects:
                n = 0
                for row in lobs.missing_large_objects(replace(src, lookups=()), column, tp.order_by, pk):
                    n += 1
                    log.add(tp.name, column, key_text(tp, tuple(row[1:-1]), row[0]), "large_object_missing",
                            f"large object {row[-1]} does not exist; the field is left empty")
                if n:
                    warnings.append(f"{n} value(s) of {tp.name}.{column} name large objects that do not exist: their "
                                    "fields are left empty, and each is listed in report/deviations.tsv "
                                    "(large_object_missing) with the number")
                found += n
        if found:
            counts.setdefault(tp.name, {})["large_object_missing"] = found
        elif tp.name not in counts:
            (work / f"{tp.file_name}.relations.tsv").unlink()
    return warnings


def orphans(dialect: SourceDialect) -> tuple[list[str], dict[str, Any] | None]:
    """Large objects no column of the database refers to: the warnings, and their entry in
    report/extraction.json (``None`` for engines without large objects)."""
    lobs = large_objects_of(dialect)
    if lobs is None:
        return [], None
    count, total, listed, unreadable = lobs.orphan_large_objects(ORPHANS_LISTED)
    warnings = []
    if count:
        shown = ", ".join(f"{oid} ({'size unknown' if size is None else f'{size} bytes'})"
                          for oid, size in listed[:ORPHANS_SHOWN])
        unknown = sum(size is None for _, size in listed)
        size = f"{total} bytes" + (f" and {unknown} this role may not read (size unknown)" if unknown else "")
        warnings.append(
            f"{count} large object(s), {size}, are referred to by no oid or lo column of any table in the "
            f"database and were not archived (usually left behind by deleted rows): {shown}"
            f"{' …' if count > ORPHANS_SHOWN else ''}. report/extraction.json lists them (orphan_large_objects); a "
            "profile query can archive them: SELECT oid, lo_get(oid) AS innhold FROM pg_largeobject_metadata WHERE …")
    if unreadable:
        warnings.append(f"this role cannot read {', '.join(unreadable)}: large objects referred to only from there "
                        "are counted as referred to by no column")
    return warnings, {"count": count, "bytes": total, "listed": [{"oid": o, "bytes": s} for o, s in listed],
                      "unreadable_columns": unreadable}
