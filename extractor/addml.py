"""Describe: build ``addml.xml`` (ADDML 8.3, or 8.2 when 8.3's key rule cannot hold).

The document follows the Arkivverket 2020 profile and what Arkade 5 reads (see
``docs/addml.md``): bare file names, SHA-256 checksums, record counts, only the data types and
formats Arkade accepts, keys pointing at the target's primary-key fields, code lists, and the
Arkade processes at the levels where Arkade runs them. Every document is validated against the
bundled XSD before it is written.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree
from lxml.builder import ElementMaker

from .plan import LOB_DIR, LOB_TABLE, FieldPlan, Plan, TablePlan

NS = "http://www.arkivverket.no/standarder/addml"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
A = ElementMaker(namespace=NS, nsmap={None: NS, "xsi": XSI})

TYPE_NAMES = {
    ("integer", None): "heltall",
    ("float", "nn,nn"): "desimaltall",
    ("date", "yyyy-MM-dd"): "dato",
    ("boolean", "J/N"): "boolsk",
    ("string", None): "tekst",
}
"""Names of the field types written; other (type, format) pairs get a name built from these."""

VALUE_CHECKED = frozenset({"integer", "float", "date", "time", "boolean"})


@cache
def schema(version: str) -> etree.XMLSchema:
    data = resources.files("extractor.schemas").joinpath(f"addml-{version}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(data))


def schema_bytes(version: str) -> bytes:
    return resources.files("extractor.schemas").joinpath(f"addml-{version}.xsd").read_bytes()


def _prop(name: str, value: str | None = None, *children: Any) -> Any:
    parts: list[Any] = []
    if value is not None:
        parts.append(A.value(value))
    if children:
        parts.append(A.properties(*children))
    return A.property(*parts, name=name)


def _el(name: str, *children: Any, value: str | None = None, props: list[Any] | None = None) -> Any:
    parts: list[Any] = []
    if value is not None:
        parts.append(A.value(value))
    if props:
        parts.append(A.properties(*props))
    if children:
        parts.append(A.additionalElements(*children))
    return A.additionalElement(*parts, name=name)


def _reference(plan: Plan, extraction_date: str) -> Any:
    md = plan.profile.metadata
    context: list[Any] = []
    agents = []
    if md.archive_creator:
        agents.append(_el("agent", _el("name", value=md.archive_creator),
                          props=[_prop("role", "recordCreator"), _prop("type", "institution")]))
    if md.responsible_person:  # the person answering for the extract at the archive creator
        agents.append(_el("agent", _el("name", value=md.responsible_person),
                          props=[_prop("role", "recordCreator"), _prop("type", "individual")]))
    if md.submitter:
        agents.append(_el("agent", _el("name", value=md.submitter),
                          props=[_prop("role", "deliver"), _prop("type", "institution")]))
    agents.append(_el("agent", _el("name", value="uttrekk"),
                      props=[_prop("role", "producer"), _prop("type", "system")]))
    context.append(_el("agents", *agents))
    system = [_el("systemType", value=md.system_type or "Fagsystem")]
    if md.system_name:
        system.append(_el("name", value=md.system_name))
    if md.system_version:
        system.append(_el("version", value=md.system_version))
    context.append(_el("system", *system))
    content: list[Any] = []
    period = []
    if md.period_start:
        period.append(_el("startDate", value=md.period_start))
    if md.period_end:
        period.append(_el("endDate", value=md.period_end))
    if period:
        content.append(_el("archivalPeriod", *period))
    dataset = [_el("date", value=extraction_date), _el("type", value=md.system_type or "Fagsystem")]
    if md.dataset_number:
        dataset.append(_el("number", value=md.dataset_number))
    content.append(_el("archivalDataset", *dataset))
    comments = [_el("comment", value=plan.addml_version_reason)] if plan.addml_version_reason else []
    if comments:
        content.append(_el("comments", *comments))
    return A.reference(A.context(A.additionalElements(*context)), A.content(A.additionalElements(*content)))


def selection(tp: TablePlan) -> str:
    """Which rows of the source a filtered table holds, why, and how many were left out (Norwegian)."""
    f = tp.row_filter
    if f is None:
        return ""
    conditions = []
    if f.where:
        conditions.append(f"vilkåret {f.where} er oppfylt")
    if f.period_column:
        if f.start and f.end:
            conditions.append(f"{f.period_column} er fra og med {f.start} til og med {f.end}")
        elif f.start:
            conditions.append(f"{f.period_column} er fra og med {f.start}")
        else:
            conditions.append(f"{f.period_column} er til og med {f.end}")
    text = f"Utvalg: bare postene der {' og '.join(conditions)}, er tatt med"
    reason = tp.filter_reason or ("postene utenfor arkivperioden hører ikke til uttrekket" if f.period_column else "")
    text += f". Begrunnelse: {reason.rstrip('.')}." if reason else "."
    if tp.rows_left_out is not None:
        text += f" {tp.rows_left_out} post(er) i kildetabellen er utelatt."
    return text


def _checksum(sha256: str) -> Any:
    return _prop("checksum", None, _prop("algorithm", "SHA-256"), _prop("value", sha256))


class _Types:
    """Field types by (dataType, format, alignment), named once, in order of first use."""

    def __init__(self, fixed: bool) -> None:
        self.fixed = fixed
        self.names: dict[tuple[str, str | None, str], str] = {}

    def name(self, f: FieldPlan) -> str:
        align = f.align if self.fixed else ""
        key = (f.addml_type, f.field_format, align)
        if key not in self.names:
            base = TYPE_NAMES.get((f.addml_type, f.field_format))
            if base is None:
                base = {"date": "tidspunkt", "time": "klokkeslett"}.get(f.addml_type, f.addml_type)
                if f.field_format and ".F" in f.field_format:
                    base += "_brok"
                if f.field_format and f.field_format.endswith("zzz"):
                    base += "_sone"
            if align:
                base += "_h" if align == "right" else "_v"
            name, i = base, 2
            while name in self.names.values():
                name, i = f"{base}_{i}", i + 1
            self.names[key] = name
        return self.names[key]

    def elements(self) -> list[Any]:
        out = []
        for (dtype, fmt, align), name in self.names.items():
            parts = [A.dataType(dtype)]
            if fmt:
                parts.append(A.fieldFormat(fmt))
            if align:
                parts += [A.alignment(align), A.padChar(" ")]
            out.append(A.fieldType(*parts, name=name))
        return out


def _field_names(tp: TablePlan) -> dict[str, str]:
    """Source column -> field name, for keys (fields renamed for a letter-case clash)."""
    return {f.column: f.name for f in tp.fields if f.role == "value" and f.column} | {
        f.name: f.name for f in tp.fields if f.role in ("manifest", "lobpath", "textfile", "surrogate")}


def _refs(names: list[str]) -> Any:
    return A.fieldDefinitionReferences(*[A.fieldDefinitionReference(name=n) for n in names])


def _keys(plan: Plan, tp: TablePlan) -> list[Any]:
    names = _field_names(tp)
    keys = []
    if tp.primary_key:
        keys.append(A.key(A.primaryKey(), _refs([names[c] for c in tp.primary_key]), name=f"PK_{tp.name}"))
    for n, ak in enumerate(tp.alternate_keys, 1):
        keys.append(A.key(A.alternateKey(), _refs([names[c] for c in ak]), name=f"AK_{tp.name}_{n}"))
    for fk in tp.foreign_keys:
        target = plan.table(fk.ref_table)
        tnames = _field_names(target)
        pairs = plan.key_pairs(fk)
        name = fk.name or f"FK_{tp.name}_{'_'.join(fk.columns)}"
        keys.append(A.key(
            A.foreignKey(
                A.flatFileDefinitionReference(
                    A.recordDefinitionReferences(A.recordDefinitionReference(
                        _refs([tnames.get(r, r) for _, r in pairs]), name=target.name)),
                    name=target.name),
                A.relationType("n:1")),
            _refs([names.get(c, c) for c, _ in pairs]), name=name))
    return keys


def _field_def(f: FieldPlan, types: _Types, pos: int | None) -> Any:
    parts: list[Any] = []
    if f.description:
        parts.append(A.description(f.description))
    if pos is not None and f.width:
        parts += [A.startPos(str(pos)), A.endPos(str(pos + f.width - 1)), A.fixedLength(str(f.width))]
    if f.max_length and f.addml_type == "string":
        parts.append(A.maxLength(str(f.max_length)))
    if f.unique:
        parts.append(A.unique())
    if f.not_null:
        parts.append(A.notNull())
    if f.codes:
        parts.append(A.codes(*[A.code(codeValue=c, explan=e) if e else A.code(codeValue=c) for c, e in f.codes]))
    return A.fieldDefinition(*parts, name=f.name, typeReference=types.name(f))


def _flat_file_type(plan: Plan, charset: str) -> tuple[str, Any]:
    name = ("fastlengde_" if plan.format == "fixed" else "semikolon_") + ("latin1" if charset == "ISO-8859-1" else "utf8")
    if plan.format == "fixed":
        desc = ("Poster med faste feltlengder, hver avsluttet med CR LF. Tekst er venstrejustert og tall "
                "høyrejustert, fylt ut med blanke; NULL er bare blanke. Blanke bakerst i tekst er utfylling, "
                "unntatt der et _lengde-felt gir eksakt lengde.")
        fmt = A.fixedFileFormat(A.recordSeparator("CRLF"))
    else:
        desc = ("Felt skilt med ';', poster avsluttet med CR LF, ingen overskriftslinje. Et felt som "
                "inneholder ';', '\"', CR eller LF står i '\"', og anførselstegn inni er doblet (RFC 4180). "
                "NULL er et tomt felt uten anførselstegn; tom tekst skrives som \"\".")
        fmt = A.delimFileFormat(A.recordSeparator("CRLF"), A.fieldSeparatingChar(";"), A.quotingChar('"'))
    return name, A.flatFileType(A.description(desc), A.charset(charset), fmt, name=name)


def _processes(plan: Plan, tp: TablePlan) -> Any:
    fixed = plan.format == "fixed"
    file_procs = ["Analyse_CountRecords", "Control_NumberOfRecords"]
    if fixed:
        file_procs.append("Control_AllFixedLength")
    record_procs = []
    if tp.primary_key:
        record_procs.append("Control_Key")
    if tp.foreign_keys and (not fixed or _same_padding(plan, tp)):
        record_procs.append("Control_ForeignKey")
    field_blocks = []
    for f in tp.fields:
        procs = []
        if fixed:
            # Arkade passes padded values to field tests; only padding-proof tests are named: a
            # format of varying length (fractions) fails once padded, and empty text reads as NULL.
            if f.not_null and f.addml_type in VALUE_CHECKED and ".F" not in (f.field_format or ""):
                procs.append("Control_DataFormat")
            if f.not_null and not f.has_empty:
                procs.append("Control_NotNull")
            if f.unique:
                procs.append("Control_Uniqueness")
        else:
            if f.addml_type in VALUE_CHECKED:
                procs.append("Control_DataFormat")
            if f.not_null and not f.has_empty:
                procs.append("Control_NotNull")
            if f.unique:
                procs.append("Control_Uniqueness")
            if f.max_length and f.addml_type == "string":
                procs.append("Control_MaxLength")
            if f.codes:
                procs += ["Control_Codes", "Analyse_FrequenceList"]
            if f.addml_type == "date":
                procs.append("Control_Date_Value")
            if f.addml_type == "boolean":
                procs.append("Control_Boolean_Value")
            if not f.not_null:
                procs.append("Analyse_CountNULL")
        if procs:
            field_blocks.append(A.fieldProcesses(A.processes(*[A.process(name=p) for p in procs]),
                                                 definitionReference=f.name))
    record = A.recordProcesses(*([A.processes(*[A.process(name=p) for p in record_procs])] if record_procs else []),
                               *field_blocks, definitionReference=tp.name)
    return A.flatFileProcesses(A.processes(*[A.process(name=p) for p in file_procs]), record,
                               flatFileReference=tp.name)


def _same_padding(plan: Plan, tp: TablePlan) -> bool:
    """Whether every foreign key field has the width and alignment of the key field it refers to:
    Arkade compares fixed-width values with their padding, so only then do equal values match."""
    names = _field_names(tp)
    for fk in tp.foreign_keys:
        target = plan.table(fk.ref_table)
        tnames = _field_names(target)
        for c, r in zip(fk.columns, fk.ref_columns, strict=True):
            f, g = tp.field(names.get(c, c)), target.field(tnames.get(r, r))
            if (f.width, f.align) != (g.width, g.align):
                return False
    return True


def describe(plan: Plan, files: Mapping[str, Any], queries: Mapping[str, str] | None = None,
             extraction_date: str | None = None, provenance: str = "") -> bytes:
    """The addml.xml document for a finalized plan and the files written (``FileResult`` by table);
    ``provenance`` (a dump's origin, in Norwegian) ends the dataset's description."""
    out = io.BytesIO()
    write_description(out, plan, files, queries, extraction_date, provenance)
    validate_description(io.BytesIO(out.getvalue()), plan.addml_version)
    return out.getvalue()


def write_description(out: BinaryIO, plan: Plan, files: Mapping[str, Any], queries: Mapping[str, str] | None = None,
                      extraction_date: str | None = None, provenance: str = "") -> None:
    """``describe`` written to ``out`` one table's elements at a time, byte for byte what the whole
    tree would give: memory stays small with 20,000 tables (their tree would take some 25 KB each).
    Then read back and validated against the bundled XSD as a stream (``validate_description``)."""
    md = plan.profile.metadata
    date = extraction_date or md.extraction_date or dt.date.today().isoformat()
    title = f"{md.system_name or plan.source_label} - arkivuttrekk".strip(" -")
    desc = md.description or f"Uttrekk fra {md.system_name or plan.source_label}."
    desc = f"{desc} {provenance}".strip()
    section = "dataObjects" if plan.format == "xml" else "flatFiles"
    skeleton = A.addml(A.dataset(A.description(desc), _reference(plan, date), A(section, etree.Comment(_HOLE)),
                                 name=md.system_name or plan.source_label or "uttrekk"), name=title)
    skeleton.set(f"{{{XSI}}}schemaLocation", f"{NS} addml.xsd")
    text = etree.tostring(skeleton, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    head, tail = text.split(b"      <!--" + _HOLE.encode() + b"-->\n")
    out.write(head)
    parts = _data_objects(plan, files) if plan.format == "xml" else _flat_files(plan, files, queries or {})
    for element, inside in parts:
        out.write(element.data if isinstance(element, _Raw) else _at(element, (section, *inside)))
    out.write(tail)


_HOLE = "uttrekk:tables"
"""Where the tables' elements go in the document's skeleton."""
_ANCESTORS = ("addml", "dataset")


def _at(element: Any, inside: tuple[str, ...]) -> bytes:
    """``element`` pretty-printed as it stands in the whole document as a child of ``inside`` (the
    tags below ``dataset``): serialized inside empty ancestors of the same namespace, then cut out."""
    chain = [*_ANCESTORS, *inside]
    outer = inner = A(chain[0])
    for tag in chain[1:]:
        inner = etree.SubElement(inner, f"{{{NS}}}{tag}")
    inner.append(element)
    text = etree.tostring(outer, encoding="UTF-8", pretty_print=True)
    opening = f"<{chain[-1]}>\n".encode()
    closing = f"{'  ' * (len(chain) - 1)}</{chain[-1]}>\n".encode()
    return text[text.index(opening) + len(opening):text.rindex(closing)]


def _open(tag: str, depth: int) -> bytes:
    return f"{'  ' * depth}<{tag}>\n".encode()


def _close(tag: str, depth: int) -> bytes:
    return f"{'  ' * depth}</{tag}>\n".encode()


def validate_description(source: str | Path | BinaryIO, version: str) -> None:
    """Read addml.xml back and validate it against the bundled XSD as it streams (elements are
    dropped once read); an invalid document is uttrekk's bug, not the user's."""
    try:
        for _, element in etree.iterparse(str(source) if isinstance(source, Path) else source, events=("end",),
                                          schema=schema(version),
                                          resolve_entities=False, no_network=True, huge_tree=True):
            if element.getparent() is not None and element.getparent().getparent() is not None:
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"uttrekk wrote an addml.xml that is not valid ADDML {version}: {exc}") from None


def _flat_files(plan: Plan, files: Mapping[str, Any], queries: Mapping[str, str]) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """The children of ``flatFiles`` in document order, one table's element at a time."""
    fixed = plan.format == "fixed"
    types = _Types(fixed)
    file_types: dict[str, Any] = {}
    for tp in plan.tables:
        fr = files[tp.name]
        yield A.flatFile(A.properties(
            _prop("fileName", fr.name), _prop("numberOfOccurrences", str(fr.records)), _checksum(fr.sha256)),
            name=tp.name, definitionReference=tp.name), ()
    yield _Raw(_open("flatFileDefinitions", 3)), ()
    for tp in plan.tables:
        ftype, element = _flat_file_type(plan, tp.charset)
        file_types.setdefault(ftype, element)
        record: list[Any] = []
        desc = tp.description
        if tp.source is not None:
            origin = tp.unpivot.parent if tp.unpivot is not None else tp.source  # a child: the table it came from
            extra = [f"Kildetabell: {origin.name}."] if origin.query is None else []
            if tp.row_filter is not None:
                extra.append(selection(tp))
            if tp.excluded_columns:
                extra.append("Utelatte kolonner: " + "; ".join(f"{c} ({why})" for c, why in tp.excluded_columns) + ".")
            extra += [n[0].upper() + n[1:] + "." if not n.endswith(".") else n for n in tp.notes]
            desc = " ".join([desc, *extra]).strip() if desc else " ".join(extra)
        if fixed:
            record.append(A.fixedLength(str(tp.record_length)))
        keys = _keys(plan, tp)
        if keys:
            record.append(A.keys(*keys))
        pos = 1
        fdefs = []
        for f in tp.fields:
            fdefs.append(_field_def(f, types, pos if fixed else None))
            pos += f.width or 0
        record.append(A.fieldDefinitions(*fdefs))
        yield A.flatFileDefinition(
            A.description(desc or tp.name),
            A.recordDefinitions(A.recordDefinition(*record, name=tp.name)),
            name=tp.name, typeReference=ftype), ("flatFileDefinitions",)
    yield _Raw(_close("flatFileDefinitions", 3)), ()
    yield A.structureTypes(A.flatFileTypes(*file_types.values()), A.fieldTypes(*types.elements())), ()
    if queries:
        yield _Raw(_open("queries", 3)), ()
        for t, q in queries.items():
            yield A.query(A.description(f"SQL-spørringen som ga {t}"), A.statement(q), name=t), ("queries",)
        yield _Raw(_close("queries", 3)), ()
    for tp in plan.tables:
        yield _processes(plan, tp), ()


class _Raw:
    """Bytes written as they are (an inner level's open or close tag line)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def _data_objects(plan: Plan, files: Mapping[str, Any]) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """The children of ``dataObjects`` in document order, one table's element at a time."""
    yield A.description(
        f"Én XML-fil per tabell med tilhørende XML-skjema; filer for binærverdier og lange tekster ligger "
        f"under {LOB_DIR}/ og er listet i {LOB_TABLE}.xml."), ()
    for tp in plan.tables:
        fr = files[tp.name]
        props = [_prop("fileName", fr.name), _prop("schemaFileName", f"{tp.file_name}.xsd"),
                 _prop("numberOfOccurrences", str(fr.records)), _checksum(fr.sha256),
                 _prop("charset", tp.charset), _prop("format", "XML")]
        if tp.primary_key:
            props.append(_prop("primaryKey", ", ".join(tp.primary_key)))
        for ak in tp.alternate_keys:
            props.append(_prop("alternateKey", ", ".join(ak)))
        for f in tp.fields:
            if f.codes:
                codes = [_prop("code", c, *([_prop("explan", e)] if e else [])) for c, e in f.codes]
                props.append(_prop("codes", f.name, *codes))
        for fk in tp.foreign_keys:
            props.append(_prop("foreignKey", f"{', '.join(fk.columns)} -> {fk.ref_table}({', '.join(fk.ref_columns)})"))
        desc = " ".join(x for x in (tp.description, selection(tp)) if x)
        yield A.dataObject(A.description(desc or tp.name), A.properties(*props), name=tp.name), ()
    for name, fr in files.get("__schemas__", {}).items():
        yield A.dataObject(A.description(f"XML-skjema for {name}"), A.properties(
            _prop("fileName", fr.name), _checksum(fr.sha256), _prop("format", "XSD")), name=fr.name), ()
