"""Refine: complete the plan with what the pre-flight scan found in the data (pure).

Nonconforming columns are widened to text, companion fields are added for long text, binary
values and fixed-width ambiguity, and lengths, widths, formats, code lists, the charset of each
file and the ADDML version are set.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .charset import UTF8
from .model import Column, ForeignKey
from .plan import ADDML_TYPES, LOB_TABLE, FieldPlan, Plan, TablePlan, share
from .scan import ScanResult, TableScanned
from .values import SINGLE


def finalize(plan: Plan, scan: ScanResult) -> Plan:
    """Refine the plan with what the pre-flight scan found in the data."""
    tables = []
    warnings = list(plan.warnings)
    shared: dict[Any, Any] = {}
    for tp in plan.tables:  # each table's scan once: an extract reads them back from disk as asked for
        tables.append(_finalize_table(plan, tp, scan, shared))
        for column, st in scan.tables[tp.name].columns.items():
            if st.outside_codes:
                warnings.append(f"Arkade 5 A.22 (Control_Codes) will report {st.outside_codes} value(s) of "
                                f"{tp.name}.{column} that are not in its code list; they are kept as the source holds "
                                "them (listed in report/deviations.tsv).")
    code_lists = _code_lists(plan, scan)
    tables = [_attach_codes(tp, code_lists) for tp in tables]
    users: dict[str, list[str]] = {}
    for tp in tables:
        for fk in tp.foreign_keys:
            users.setdefault(fk.ref_table, []).append(f"{tp.name}.{', '.join(fk.columns)}")
    tables = [_code_table_note(plan, tp, code_lists, scan, users) for tp in tables]
    if scan.lob_count and plan.format != "siard":  # a SIARD cell names its own file, length and digest
        tables.append(_lob_table_plan(plan, scan))
    if scan.lob_count and plan.format != "siard":  # path fields refer to LOBFILER only when it exists
        tables = [_add_lob_keys(tp) for tp in tables]
    version, reason = addml_version(tables)
    return replace(plan, tables=tuple(tables), finalized=True, addml_version=version,
                   addml_version_reason=reason, warnings=tuple(warnings))


def refine_table(plan: Plan, tp: TablePlan, scanned: TableScanned) -> TablePlan:
    """One table refined with its own scan (code lists and LOB keys come with ``finalize``)."""
    return _finalize_table(plan, tp, ScanResult(tables={tp.name: scanned.scan}))


def _finalize_table(plan: Plan, tp: TablePlan, scan: ScanResult, shared: dict[Any, Any] | None = None) -> TablePlan:
    """``shared``: fields (and tuples of them) already made for other tables, so that equal ones are
    one object (``plan.share``)."""
    ts = scan.tables[tp.name]
    fields: list[FieldPlan] = []
    notes = list(tp.notes)
    siard = plan.format == "siard"
    for f in tp.fields:
        if f.role == "surrogate":
            fields.append(replace(f, width=max(len(str(ts.rows)), 1)))
            continue
        column = f.column
        assert column is not None, f"{tp.name}.{f.name}: a field other than the record number names its column"
        st = ts.columns[column]
        kind, widened = f.kind, None
        if st.nonconforming:
            kind, widened = "unknown", f.kind
            notes.append(f"kolonne {column}: deklarert som {f.kind}, men {st.nonconforming} verdi(er) passer ikke "
                         f"(første: {st.examples[0]}); arkivert som tekst")
        fmt = ADDML_TYPES[kind][1]
        if kind == "timestamp":
            fmt = "yyyy-MM-ddTHH:mm:ss" + (".FFFFFFF" if st.fraction else "") + ("zzz" if st.with_offset else "")
        elif kind == "time" and st.fraction:
            fmt = "HH:mm:ss.FFFFFFF"
        if st.outside_codes:
            notes.append(f"kolonne {column}: {st.outside_codes} verdi(er) finnes ikke i kodelisten "
                         f"(første: {', '.join(st.outside_examples)}); verdiene er beholdt slik de står i kilden")
        desc = f.description
        if kind == "char":
            desc = _join(desc, "Blanke tegn som fylte ut CHAR-verdien bakerst, er fjernet.")
        if f.kind == "float" and tp.source is not None:
            desc = _join(desc, _float_note(tp.source.column(column)))
        if kind == "binary":
            where = ("Binærverdien er lagret som egen fil (BLOB) og cellen viser til filen med sti, lengde og "
                     "SHA-256." if siard else
                     f"Binærverdien er lagret som egen fil; feltet inneholder filens sti relativt til content/ "
                     f"(se {LOB_TABLE}). Tomt når verdien er NULL.")
            fields.append(replace(
                f, kind="binary", role="lobpath", field_format=None, max_length=st.max_length or None,
                description=_join(desc, where), width=max(st.max_length, 1), has_null=st.nulls > 0))
            continue
        if siard and st.long_values and kind in ("string", "char", "unknown"):
            fields.append(replace(
                f, kind=kind, role="clob", field_format=None, max_length=None, widened_from=widened,
                description=_join(desc, f"Verdier lengre enn {plan.long_text_limit} tegn er lagret som egne "
                                        "tekstfiler (UTF-8), og cellen viser til filen med sti, lengde i tegn og "
                                        "SHA-256."),
                has_empty=st.empties > 0, has_null=st.nulls > 0))
            continue
        limit_note = ""
        if st.long_values:
            limit_note = (f"Verdier lengre enn {plan.long_text_limit} tegn er lagret som tekstfiler, og feltet "
                          f"er da tomt (NULL); se feltet {tp.companion(column, '_fil')}.")
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
                              not_null=f.not_null and not st.long_values,
                              has_null=st.nulls > 0 or st.long_values > 0))
        if st.long_values:
            fields.append(FieldPlan(
                name=tp.companion(column, "_fil"), column=column, kind="string", role="textfile",
                description=(f"Sti relativt til content/ til tekstfilen som inneholder verdien av {f.name} "
                             f"når den er lengre enn {plan.long_text_limit} tegn (se {LOB_TABLE}); ellers tomt."),
                max_length=st.textfile_path_length, width=max(st.textfile_path_length, 1),
                has_null=st.nulls > 0 or st.values > st.long_values))
        if plan.format == "fixed" and kind in ("string", "char", "unknown") and st.fixed_ambiguous:
            fields.append(FieldPlan(
                name=tp.companion(column, "_lengde"), column=column, kind="integer", role="length",
                description=(f"Eksakt lengde i tegn av {f.name}; tomt når {f.name} er NULL. Lagt til fordi "
                             f"utfylling med blanke ikke skiller tom tekst, NULL og blanke tegn i kantene."),
                width=max(len(str(st.max_length)), 1), has_null=st.nulls > 0 or st.long_values > 0))
    charset = UTF8 if ts.needs_utf8 else tp.charset
    if ts.needs_utf8:
        notes.append(f"skrevet som UTF-8: {ts.unmappable_count} verdi(er) har tegn utenfor {tp.charset} "
                     f"som profilen ikke erstatter (utf8_fallback)")
    done = tuple(fields) if shared is None else share(fields, shared)
    return replace(tp, fields=done, charset=charset, notes=tuple(notes))


def _join(a: str, b: str) -> str:
    return f"{a} {b}".strip() if b else a


def _float_note(col: Column) -> str:
    """How a float is written where it is not the shortest text of a double: a reader needs to know."""
    if col.scale is not None:
        return f"Flyttall ({col.native_type}) skrevet med {col.scale} desimaler, slik kildedatabasen viser det."
    if col.float_bits == SINGLE:
        return ("Flyttall med enkel presisjon (32 bit) i kilden, skrevet med de færreste sifrene som leses "
                "tilbake som det samme 32-bits flyttallet.")
    return ""


def _code_lists(plan: Plan, scan: ScanResult) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """Code lists written inline: the profile's ``inline``, else those no longer than ``code_list_limit``."""
    out = {}
    for tp in plan.tables:
        if tp.code_table and scan.codes.get(tp.name) is not None:
            codes = scan.codes[tp.name]
            if tp.code_table[2] or len(codes) <= plan.profile.code_list_limit:
                out[(tp.name, tp.code_table[0])] = codes
    return out


def _code_table_note(plan: Plan, tp: TablePlan, lists: dict[tuple[str, str], Any], scan: ScanResult,
                     users: dict[str, list[str]]) -> TablePlan:
    """Say in the code table's description whether its codes are also written on the referring fields."""
    if tp.code_table is None or not users.get(tp.name):
        return tp
    where = ", ".join(users[tp.name])
    if (tp.name, tp.code_table[0]) in lists:
        note = f"kodene i tabellen er også skrevet som kodeliste på feltene som viser hit ({where})"
    elif tp.code_table[2] is False:
        note = (f"kodene er etter profilen ikke skrevet som kodeliste på feltene som viser hit ({where}); de har en "
                "fremmednøkkel til tabellen")
    elif plan.profile.table(tp.name).code_table is not None:
        note = (f"kodetabell med {scan.tables[tp.name].rows} koder, flere enn grensen på "
                f"{plan.profile.code_list_limit} for kodelister i feltbeskrivelsene; feltene som viser hit ({where}) "
                "har en fremmednøkkel til tabellen")
    else:
        return tp
    return replace(tp, notes=(*tp.notes, note))


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
                  "Filens sti relativt til content/.", max_length=w["fil"], width=w["fil"]),
        FieldPlan("tabell", None, "string", "manifest", True, False,
                  "Tabellen der en post viser til filen.", max_length=w["tabell"], width=w["tabell"]),
        FieldPlan("felt", None, "string", "manifest", True, False,
                  "Feltet i den tabellen som inneholder stien.", max_length=w["felt"], width=w["felt"]),
        FieldPlan("post", None, "integer", "manifest", True, False,
                  "Postnummer (fra 1) i den tabellens fil for posten som viser til filen.", width=w["post"]),
        FieldPlan("bytes", None, "integer", "manifest", True, False,
                  "Filens størrelse i byte.", width=w["bytes"]),
        FieldPlan("sha256", None, "string", "manifest", True, False,
                  "Filens SHA-256-sjekksum (heksadesimal).", max_length=64, width=64),
        FieldPlan("innhold", None, "string", "manifest", True, False,
                  "Hva filen inneholder: tekst (med tegnsett) eller binaer med formatet gjenkjent fra "
                  "de første bytene (pdf, png, jpeg, gif, tiff, zip, xml, ukjent).",
                  max_length=w["innhold"], width=w["innhold"]),
    )
    return TablePlan(
        name=LOB_TABLE, file_name=LOB_TABLE, source=None,
        columns=tuple(f.name for f in fields), fields=fields,
        description=("Filer skrevet av uttrekket for binærverdier og tekster lengre enn "
                     f"{plan.long_text_limit} tegn, én post per fil. Lagt til av uttrekksverktøyet uttrekk."),
        primary_key=("fil",), charset=plan.charset.encoding,
    )


def _add_lob_keys(tp: TablePlan) -> TablePlan:
    extra = tuple(ForeignKey((f.name,), LOB_TABLE, ("fil",), f"FK_{tp.name}_{f.name}", origin="lobs")
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
        return "8.2", (f"ADDML 8.2 er brukt fordi ADDML 8.3 ikke tillater at et felt inngår i mer enn én "
                       f"nøkkel i samme post, og disse feltene inngår i to nøkler: {names}. "
                       f"Ingen nøkkel er utelatt.")
    return "8.3", ""
