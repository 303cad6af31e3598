"""Inspect: what a source holds and what an extract of it would run into, without writing."""

from __future__ import annotations

from typing import Any

from .keys import settle
from .large_objects import settle_large_objects
from .pipeline import Options, reflect_and_plan
from .plan import ADDML_TYPES, filter_text
from .profile import Profile
from .scan import array_source, rows_of, scan
from .source_dialect import SourceDialect


def inspect_source(dialect: SourceDialect, profile: Profile, options: Options, run_scan: bool = True) -> dict[str, Any]:
    """Tables, counts, columns with native and archive types, keys, and the pre-flight findings."""
    schema, plan = reflect_and_plan(dialect, profile, options)
    plan = settle_large_objects(settle(plan, dialect), dialect)
    planned = {tp.name: tp for tp in plan.tables}
    found = None
    if run_scan:
        found = scan(plan, rows_of(dialect))
    tables = []
    unnested = [array_source(dialect, tp) for tp in plan.tables if tp.unpivot is not None and tp.unpivot.array]
    for table in (*schema.tables, *unnested):  # an array column's child: the query that reads its elements
        entry: dict[str, Any] = {
            "table": table.name, "rows": dialect.count_rows(table), "extracted": table.name in planned,
            "primary_key": list(table.primary_key),
            "extract_key": list(planned[table.name].primary_key) if table.name in planned else [],
            "extract_key_note": planned[table.name].key_note if table.name in planned else "",
            "unique_keys": [list(u) for u in table.unique_keys],
            "foreign_keys": [{"columns": list(fk.columns), "references": fk.ref_table,
                              "ref_columns": list(fk.ref_columns)} for fk in table.foreign_keys],
            "columns": [],
        }
        tp = planned.get(table.name)
        if tp is not None and tp.source is not None and tp.source.row_filter is not None:
            entry["rows_kept"] = dialect.count_rows(tp.source)  # what the profile's filter keeps
            entry["filter"] = filter_text(tp.source.row_filter)
        ts = found.tables.get(table.name) if found else None
        children = dict(tp.arrays) if tp is not None else {}
        read_as_bytes = tp.source.large_objects if tp is not None and tp.source is not None else ()
        for col in table.columns:
            kind = "binary" if col.name in read_as_bytes else col.kind
            c: dict[str, Any] = {"name": col.name, "native_type": col.native_type, "kind": kind,
                                 "addml_type": "file" if kind == "binary" else "table" if kind == "array"
                                 else ADDML_TYPES[kind][0],
                                 "nullable": col.nullable and col.name not in table.primary_key}
            if col.name in children:
                c["child_table"] = children[col.name]
            if ts is not None and col.name in ts.columns:
                st = ts.columns[col.name]
                c.update(nulls=st.nulls, max_length=st.max_length, long_values=st.long_values)
                if st.nonconforming:
                    c.update(nonconforming=st.nonconforming, examples=st.examples, archived_as="string")
            entry["columns"].append(c)
        if ts is not None:
            entry["unencodable_values"] = ts.finding_count
            entry["characters"] = [
                {"column": col, "char": ch, "code_point": f"U+{ord(ch):04X}", "count": n,
                 "mapped_by_profile": mapped}
                for (col, ch, mapped), n in sorted(ts.char_counts.items())]
            entry["findings"] = [
                {"column": f.column, "row_key": f.row_key, "chars": f.chars,
                 "code_points": [f"U+{ord(x):04X}" for x in f.chars], "mapped_by_profile": f.mapped}
                for f in ts.findings]
            entry["written_as"] = "UTF-8" if ts.needs_utf8 else plan.charset.encoding
        tables.append(entry)
    return {
        "source": dialect.label, "engine": schema.engine, "charset": plan.charset.encoding,
        "tables": tables,
        "excluded": [{"table": t, "reason": r} for t, r in plan.excluded_tables],
        "warnings": list(plan.warnings),
        "refused": list(plan.refused),
        "unencodable_without_policy": found.unmappable_total if found else None,
    }


def format_inspection(info: dict[str, Any]) -> str:
    """Plain-text rendering of ``inspect_source``'s result."""
    lines = [f"Source: {info['source']} ({info['engine']}); output charset {info['charset']}", ""]
    for t in info["tables"]:
        flag = "" if t["extracted"] else "  [left out]"
        kept = f" ({t['rows_kept']} kept by the profile's filter {t['filter']})" if "rows_kept" in t else ""
        lines.append(f"{t['table']}: {t['rows']} rows{kept}{flag}")
        if t["primary_key"]:
            lines.append(f"  primary key: {', '.join(t['primary_key'])}")
        else:
            lines.append("  primary key: none")
        if t["extract_key_note"]:
            lines.append(f"  key in the extract: {', '.join(t['extract_key'])} ({t['extract_key_note']})")
        for u in t["unique_keys"]:
            lines.append(f"  unique: {', '.join(u)}")
        for fk in t["foreign_keys"]:
            lines.append(f"  foreign key: {', '.join(fk['columns'])} -> {fk['references']}({', '.join(fk['ref_columns'])})")
        for c in t["columns"]:
            null = "" if c["nullable"] else " NOT NULL"
            extra = ""
            if c.get("nonconforming"):
                extra = f"  !! {c['nonconforming']} value(s) not {c['kind']}; archived as string ({c['examples'][0]})"
            elif c.get("child_table"):
                extra = f"  (elements in table {c['child_table']})"
            lines.append(f"  {c['name']:<24} {c['native_type']:<16} -> {c['addml_type']:<8}{null}{extra}")
        if t.get("characters"):
            lines.append(f"  characters outside {info['charset']} ({t['unencodable_values']} value(s); "
                         f"table written as {t['written_as']}):")
            for ch in t["characters"]:
                state = "mapped by profile" if ch["mapped_by_profile"] else "NOT mapped"
                lines.append(f"    {ch['column']}: {ch['code_point']} {ch['char']!r} x{ch['count']} ({state})")
            for f in t["findings"]:
                state = "mapped" if f["mapped_by_profile"] else "NOT mapped"
                lines.append(f"    {f['column']} [{f['row_key']}]: {' '.join(f['code_points'])} ({state})")
        lines.append("")
    for e in info["excluded"]:
        lines.append(f"left out: {e['table']} ({e['reason']})")
    for w in info["warnings"]:
        lines.append(f"warning: {w}")
    for r in info["refused"]:
        lines.append(f"refused (extract stops): {r}")
    n = info["unencodable_without_policy"]
    if n:
        lines.append(f"{n} value(s) cannot be written as {info['charset']} and no policy covers them: "
                     "extract would stop. Map them in [charset.map], set utf8_fallback, or use --charset UTF-8.")
    elif n == 0:
        lines.append("Every value can be written as planned.")
    return "\n".join(lines).rstrip() + "\n"
