"""Read addml.xml (8.2 or 8.3) into the definitions the checks run on, the way Arkade 5 reads it.

Tolerant where real extracts deviate (no namespace, ``numberOfRecords`` for
``numberOfOccurrences``, ``ISO_8859_1``, an ISO-8859-1 encoded document, and the schema breaks
``addml_repair`` mends: elements misspelled or in the wrong place...), and strict where Arkade
is strict: whatever would stop Arkade from loading the document (an unknown dataType, a rejected
fieldFormat, a missing flatFileType, two fields whose names differ only by case...) is a U.06
error, and every oddity that makes Arkade skip or misplace a test is a U.06 warning.
"""

from __future__ import annotations

import re

from lxml import etree

from ..errors import UnreadableInputError
from .addml_model import (
    NS,
    Addml,
    FieldDef,
    FileType,
    FlatFile,
    FlatFileDef,
    KeyDef,
    Problem,
    RecordDef,
    charset_codec,
    kid,
    kids,
    local,
    separator,
    text,
)
from .addml_repair import repair
from .catalog import PROCESS_IDS
from .datatypes import FormatRejected, make_type
from .findings import ERROR, WARNING

FILE_LEVEL_ONLY = ("Analyse_CountRecords", "Analyse_CountChars", "Control_NumberOfRecords", "Control_NotUsedRecordDef")


def _int(value: str | None, what: str, problems: list[Problem]) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        problems.append(Problem(ERROR, f"{what} is {value!r}, not a whole number (Arkade 5 cannot load addml.xml)"))
        return None


_DRIVE = re.compile(r"^[A-Za-z]:")


def resolve_file_name(raw: str, problems: list[Problem], flat: str) -> str | None:
    """The path under content/ Arkade reads for a fileName; None for a path outside content/."""
    s = raw.strip().replace("\\", "/")
    parts = [p for p in s.split("/") if p not in ("", ".")]
    if not parts or s.startswith("/") or _DRIVE.match(s) or ".." in parts:
        problems.append(Problem(ERROR, f"flatFile {flat}: fileName {raw!r} is not a path under content/; "
                                       "the file is not read"))
        return None
    if len(parts) > 1:
        if "content" in parts[:-1]:
            cut = len(parts) - 1 - parts[:-1][::-1].index("content")
            parts = parts[cut:]
            problems.append(Problem(WARNING, f"flatFile {flat}: fileName {raw!r} has a path; Arkade 5 resolves it only "
                                             "when the folder holding addml.xml is named 'content' (use the bare name)"))
        else:
            problems.append(Problem(WARNING, f"flatFile {flat}: fileName {raw!r} is in a sub-folder; Arkade 5 cannot "
                                             "resolve it and its existence check skips sub-folders (use the bare name)"))
    return "/".join(parts)


# --- the reader ---

def read_addml(root: etree._Element, lenient: bool = True) -> Addml:
    """Definitions, flat files and processes from a parsed addml.xml; problems are collected, not raised.

    With ``lenient`` (the default) the document is first mended where it breaks the schema the way
    real ones do (``addml_repair``): ``Addml.root`` is then the mended copy, and each mend is a problem
    with its line.
    """
    problems: list[Problem] = []
    if local(root) == "addml" and lenient:
        root, problems = repair(root)
    if local(root) != "addml":
        raise UnreadableInputError(f"the root element is <{local(root)}>, not <addml>: not an ADDML document")
    namespaced = etree.QName(root).namespace == NS
    if not namespaced:
        problems.append(Problem(ERROR, f"the root element is in namespace {etree.QName(root).namespace!r}, not {NS}; "
                                       "Arkade 5 cannot load addml.xml (read here anyway)"))
    datasets = kids(root, "dataset")
    if len(datasets) != 1:
        problems.append(Problem(ERROR, f"addml.xml has {len(datasets)} dataset elements; Arkade 5 needs exactly one"))
    dataset = datasets[0] if datasets else None
    flat = kid(dataset, "flatFiles")
    doc = Addml(root, dataset, [], {}, {}, {}, problems, namespaced,
                has_header_level=any(local(e) == "headerLevel" for e in root.iter()))
    if flat is None:
        problems.append(Problem(WARNING, "addml.xml describes no flatFiles (dataObjects only, as in an XML extract); "
                                         "Arkade 5 does not test it as a Fagsystem extract. Its files are checked by "
                                         "uttrekk's own checks only (U.08-U.11 and the shared ones; docs/validate.md)"))
        return doc
    _read_types(flat, doc)
    _read_definitions(flat, doc)
    _read_flat_files(flat, doc)
    _read_processes(flat, doc)
    _check_keys(doc)
    return doc


def _read_types(flat: etree._Element, doc: Addml) -> None:
    structure = kid(flat, "structureTypes")
    for ft in kids(kid(structure, "fieldTypes"), "fieldType"):
        name = ft.get("name", "")
        data_type = text(ft, "dataType")
        fmt = text(ft, "fieldFormat")
        nulls = frozenset(n.text or "" for n in kids(kid(ft, "nullValues"), "nullValue"))
        if name in doc.field_types:
            doc.problems.append(Problem(ERROR, f"fieldType {name!r} is defined twice (Arkade 5 cannot load addml.xml)"))
            continue
        if data_type is None:
            doc.problems.append(Problem(ERROR, f"fieldType {name!r} has no dataType"))
            continue
        try:
            doc.field_types[name] = make_type(name, data_type, fmt, nulls)
        except FormatRejected as exc:
            doc.problems.append(Problem(ERROR, f"fieldType {name!r}: {exc}; Arkade 5 cannot load addml.xml "
                                               "(values of this type are not checked here)"))
    for t in kids(kid(structure, "flatFileTypes"), "flatFileType"):
        name = t.get("name", "")
        charset = text(t, "charset") or ""
        codec, note = charset_codec(charset)
        if codec is None:
            doc.problems.append(Problem(ERROR, f"flatFileType {name!r}: {note}; files of this type are not read"))
        elif note:
            doc.problems.append(Problem(WARNING, f"flatFileType {name!r}: {note}"))
        fixed = kid(t, "fixedFileFormat")
        delim = kid(t, "delimFileFormat")
        fmt_el = fixed if fixed is not None else delim
        rs_text = text(fmt_el, "recordSeparator")
        ftype = FileType(name, charset, codec, fixed is not None, separator(rs_text) if rs_text else None,
                         separator(text(delim, "fieldSeparatingChar")), text(delim, "quotingChar") or None, rs_text)
        if name in doc.file_types:
            doc.problems.append(Problem(ERROR, f"flatFileType {name!r} is defined twice (Arkade 5 cannot load addml.xml)"))
            continue
        if fmt_el is None:
            doc.problems.append(Problem(ERROR, f"flatFileType {name!r} has neither fixedFileFormat nor delimFileFormat"))
            ftype.codec = None
        elif not ftype.fixed:
            if not ftype.field_sep:
                doc.problems.append(Problem(ERROR, f"flatFileType {name!r} has no fieldSeparatingChar; its files are not read"))
                ftype.codec = None
            if not ftype.record_sep:
                doc.problems.append(Problem(ERROR, f"flatFileType {name!r} has no recordSeparator; its files are not read"))
                ftype.codec = None
            if ftype.quote is not None and ftype.quote == ftype.field_sep:
                doc.problems.append(Problem(ERROR, f"flatFileType {name!r}: quotingChar equals fieldSeparatingChar "
                                                   "(Arkade 5 refuses to read its files)"))
                ftype.codec = None
        doc.file_types[name] = ftype


def _read_definitions(flat: etree._Element, doc: Addml) -> None:
    for fd in kids(kid(flat, "flatFileDefinitions"), "flatFileDefinition"):
        name = fd.get("name", "")
        type_ref = fd.get("typeReference", "")
        ftype = doc.file_types.get(type_ref)
        fdef = FlatFileDef(name, type_ref, ftype, text(fd, "recordDefinitionFieldIdentifier"), [])
        if name.lower() in {n.lower() for n in doc.definitions}:
            doc.problems.append(Problem(ERROR, f"flatFileDefinition {name!r} is defined twice"))
            continue
        if ftype is None:
            doc.problems.append(Problem(ERROR, f"flatFileDefinition {name!r} refers to flatFileType {type_ref!r}, which "
                                               "does not exist (Arkade 5 cannot load addml.xml); its file is not read"))
            fdef.readable = False
        elif ftype.codec is None:
            fdef.readable = False
        for rd in kids(kid(fd, "recordDefinitions"), "recordDefinition"):
            fdef.records.append(_read_record(rd, name, doc))
        if not fdef.records:
            doc.problems.append(Problem(ERROR, f"flatFileDefinition {name!r} has no recordDefinition; its file is not read"))
            fdef.readable = False
        _check_layout(fdef, doc)
        doc.definitions[name] = fdef


def _read_record(rd: etree._Element, file: str, doc: Addml) -> RecordDef:
    p = doc.problems
    rname = rd.get("name", "")
    keys: list[KeyDef] = []
    for key in kids(kid(rd, "keys"), "key"):
        refs = [r.get("name", "") for r in kids(kid(key, "fieldDefinitionReferences"), "fieldDefinitionReference")]
        fk = kid(key, "foreignKey")
        if kid(key, "primaryKey") is not None:
            keys.append(KeyDef(key.get("name"), "primary", refs))
        elif kid(key, "alternateKey") is not None:
            keys.append(KeyDef(key.get("name"), "alternate", refs))
        elif fk is not None:
            target = kid(fk, "flatFileDefinitionReference")
            rrefs = kids(kid(target, "recordDefinitionReferences"), "recordDefinitionReference")
            ref_fields = [f.get("name", "") for r in rrefs
                          for f in kids(kid(r, "fieldDefinitionReferences"), "fieldDefinitionReference")]
            keys.append(KeyDef(key.get("name"), "foreign", refs, target.get("name") if target is not None else None,
                               rrefs[0].get("name") if rrefs else None, ref_fields))
    pk_names = {n for k in keys if k.kind == "primary" for n in k.fields}
    fields: list[FieldDef] = []
    seen: set[str] = set()
    for i, fel in enumerate(kids(kid(rd, "fieldDefinitions"), "fieldDefinition")):
        fname = fel.get("name", "")
        tref = fel.get("typeReference", "")
        if fname.lower() in seen:
            p.append(Problem(ERROR, f"{file}/{rname}: two fields named {fname!r} (names are compared without case); "
                                    "Arkade 5 cannot load addml.xml"))
        seen.add(fname.lower())
        dtype = doc.field_types.get(tref)
        if dtype is None and not any(pr.message.startswith(f"fieldType {tref!r}") for pr in p):
            p.append(Problem(ERROR, f"{file}/{rname}/{fname}: fieldType {tref!r} does not exist "
                                    "(Arkade 5 cannot load addml.xml); its values are not checked"))
        what = f"{file}/{rname}/{fname}"
        start = _int(text(fel, "startPos"), f"{what} startPos", p)
        end = _int(text(fel, "endPos"), f"{what} endPos", p)
        length = _int(text(fel, "fixedLength"), f"{what} fixedLength", p)
        if length is None and start is not None and end is not None:
            length = end - start + 1
        codes_el = kid(fel, "codes")
        codes = frozenset(c.get("codeValue", "") for c in kids(codes_el, "code")) if codes_el is not None else None
        fields.append(FieldDef(fname, i, tref, dtype, start, end, length,
                               _int(text(fel, "minLength"), f"{what} minLength", p),
                               _int(text(fel, "maxLength"), f"{what} maxLength", p),
                               kid(fel, "unique") is not None, kid(fel, "notNull") is not None, codes,
                               in_pk=fname in pk_names))
    header = _int(text(rd, "headerLevel"), f"{file}/{rname} headerLevel", p) or 0
    return RecordDef(rname, file, _int(text(rd, "fixedLength"), f"{file}/{rname} fixedLength", p),
                     text(rd, "recordDefinitionFieldValue"), fields, keys, header_level=header)


def _check_layout(fdef: FlatFileDef, doc: Addml) -> None:
    p = doc.problems
    if len(fdef.records) > 1:
        if not fdef.identifier:
            p.append(Problem(ERROR, f"flatFileDefinition {fdef.name!r} has {len(fdef.records)} record definitions but no "
                                    "recordDefinitionFieldIdentifier; every record is read as the first"))
        elif not any(r.field(fdef.identifier) for r in fdef.records):
            p.append(Problem(ERROR, f"flatFileDefinition {fdef.name!r}: recordDefinitionFieldIdentifier "
                                    f"{fdef.identifier!r} names no field; its file is not read"))
            fdef.readable = False
        for r in fdef.records:
            if fdef.identifier and r.field_value is None:
                p.append(Problem(ERROR, f"{fdef.name}/{r.name} has no recordDefinitionFieldValue; its records cannot "
                                        "be recognised"))
    if fdef.ftype is None or not fdef.ftype.fixed:
        return
    lengths = set()
    for r in fdef.records:
        missing = [f.name for f in r.fields if f.length is None]
        if missing:
            p.append(Problem(ERROR, f"{fdef.name}/{r.name}: fields {', '.join(missing)} have neither fixedLength nor "
                                    "startPos/endPos; the fixed-width file is not read"))
            fdef.readable = False
            continue
        total = sum(f.length or 0 for f in r.fields)
        pos = 1
        for f in r.fields:
            if f.start is not None and f.start != pos:
                p.append(Problem(WARNING, f"{fdef.name}/{r.name}/{f.name}: startPos {f.start}, but the fields before it "
                                          f"end at {pos - 1}; Arkade 5 (and this check) cut fields by length only"))
                break
            pos += f.length or 0
        if r.fixed_length is None:
            p.append(Problem(ERROR, f"{fdef.name}/{r.name} has no fixedLength (Arkade 5 needs the record length); "
                                    f"the sum of the field lengths ({total}) is used"))
            r.fixed_length = total
        elif r.fixed_length != total:
            p.append(Problem(ERROR, f"{fdef.name}/{r.name}: fixedLength {r.fixed_length}, but the fields add up to "
                                    f"{total} (Arkade 5 refuses to read the file); {total} is used"))
            r.fixed_length = total
        lengths.add(r.fixed_length)
    if len(lengths) > 1:
        p.append(Problem(WARNING, f"flatFileDefinition {fdef.name!r}: record types of different lengths "
                                  f"({', '.join(map(str, sorted(lengths)))}); Arkade 5 cannot read such a file"))


def _read_processes(flat: etree._Element, doc: Addml) -> None:
    p = doc.problems
    taken: set[str] = set()
    for ffp in kids(flat, "flatFileProcesses"):
        ref = ffp.get("flatFileReference", "")
        fdef = doc.definitions.get(ref)
        if fdef is None:
            if ref not in doc.missing:  # a missing definition is reported once, where it is first referred to
                doc.missing.add(ref)
                p.append(Problem(WARNING, f"flatFileProcesses for {ref!r}: no flatFileDefinition has that name "
                                          "(names are compared exactly); Arkade 5 ignores these processes"))
            continue
        if ref in taken:
            p.append(Problem(WARNING, f"a second flatFileProcesses for {ref!r}; Arkade 5 uses only the first"))
            continue
        taken.add(ref)
        fdef.processes = _names(kid(ffp, "processes"), doc)
        seen_records: set[str] = set()
        for rp in kids(ffp, "recordProcesses"):
            rref = rp.get("definitionReference", "")
            rdef = next((r for r in fdef.records if r.name == rref), None)
            if rdef is None or rref in seen_records:
                p.append(Problem(WARNING, f"recordProcesses {ref}/{rref}: no such record definition, or named twice; "
                                          "Arkade 5 ignores these processes"))
                continue
            seen_records.add(rref)
            rdef.processes = _names(kid(rp, "processes"), doc)
            seen_fields: set[str] = set()
            for fp in kids(rp, "fieldProcesses"):
                fref = fp.get("definitionReference", "")
                fdef_field = next((f for f in rdef.fields if f.name == fref), None)
                if fdef_field is None or fref in seen_fields:
                    p.append(Problem(WARNING, f"fieldProcesses {ref}/{rref}/{fref}: no such field, or named twice; "
                                              "Arkade 5 ignores these processes"))
                    continue
                seen_fields.add(fref)
                fdef_field.processes = _names(kid(fp, "processes"), doc)
        _check_placement(fdef, doc)


def _names(processes: etree._Element | None, doc: Addml) -> list[str]:
    names = []
    for proc in kids(processes, "process"):
        name = proc.get("name", "")
        if name not in PROCESS_IDS:
            hint = ""
            if name.lower() in {n.lower() for n in PROCESS_IDS}:
                hint = " (process names are case-sensitive)"
            elif name == "Analyse_CountRecordDefinitionOccurences":
                hint = " (Arkade 5 spells it Analyse_CountRecordDefinitionOccurrences)"
            doc.problems.append(Problem(WARNING, f"No process with name {name!r} in Arkade 5{hint}; it is not run"))
            continue
        names.append(name)
    return names


def _check_placement(fdef: FlatFileDef, doc: Addml) -> None:
    p = doc.problems
    at_file = set(fdef.processes)
    for r in fdef.records:
        for name in r.processes:
            if name in FILE_LEVEL_ONLY:
                p.append(Problem(WARNING, f"{fdef.name}/{r.name}: {name} works only at file level in Arkade 5"))
            if name in at_file:
                p.append(Problem(WARNING, f"{fdef.name}/{r.name}: {name} is named at file and record level; Arkade 5 "
                                          "runs it twice on the same records"))
        for f in r.fields:
            for name in f.processes:
                if name in FILE_LEVEL_ONLY or name == "Control_ForeignKey" or name == "Control_Key":
                    p.append(Problem(WARNING, f"{fdef.name}/{r.name}/{f.name}: {name} does nothing at field level "
                                              "in Arkade 5"))
                if name in at_file:
                    p.append(Problem(WARNING, f"{fdef.name}/{r.name}/{f.name}: {name} is also named at file level; "
                                              "Arkade 5 runs it twice on these values"))
    if "Control_Uniqueness" in at_file:
        p.append(Problem(WARNING, f"{fdef.name}: Control_Uniqueness at file level tests every field of the file"))
    if "Control_ForeignKey" in at_file and not any("Control_ForeignKey" in r.processes for r in fdef.records):
        p.append(Problem(WARNING, f"{fdef.name}: Control_ForeignKey at file level only; Arkade 5 then collects no "
                                  "primary keys and reports every foreign key as unresolvable"))


def _read_flat_files(flat: etree._Element, doc: Addml) -> None:
    used: set[str] = set()
    missing: dict[str, list[str]] = {}
    for ff in kids(flat, "flatFile"):
        name = ff.get("name", "")
        ref = ff.get("definitionReference", "")
        fdef = doc.definitions.get(ref)
        if fdef is None:
            missing.setdefault(ref, []).append(name)
        elif ref in used:
            doc.problems.append(Problem(ERROR, f"flatFile {name!r}: a second flatFile for definition {ref!r}; Arkade 5 "
                                               "finds properties through the definition and cannot load addml.xml"))
        used.add(ref)
        props: dict[tuple[str, ...], str] = {}
        _properties(kid(ff, "properties"), (), props, doc, name)
        raw_name = props.get(("fileName",))
        if raw_name is None and ("name",) in props:
            raw_name = "/".join(x for x in (props.get(("path",)), props[("name",)]) if x)
        declared_text = props.get(("numberOfOccurrences",))
        if declared_text is None:
            declared_text = props.get(("numberOfRecords",))
        declared = _int(declared_text, f"flatFile {name}: numberOfOccurrences", doc.problems)
        if raw_name is None:
            doc.problems.append(Problem(ERROR, f"flatFile {name!r} has no fileName property; its file is not read"))
        doc.flat_files.append(FlatFile(
            name, fdef, raw_name, resolve_file_name(raw_name, doc.problems, name) if raw_name else None, declared,
            props.get(("checksum", "algorithm")), props.get(("checksum", "value"))))
    for ref, names in missing.items():  # each missing definition once, with every flatFile that refers to it
        doc.missing.add(ref)
        doc.problems.append(Problem(ERROR, f"flatFile{'s' if len(names) > 1 else ''} {', '.join(map(repr, names))} "
                                           f"refer{'' if len(names) > 1 else 's'} to flatFileDefinition {ref!r}, which "
                                           f"does not exist; {'their files are' if len(names) > 1 else 'its file is'} "
                                           "not read"))
    for name in doc.definitions:
        if name not in used:
            doc.problems.append(Problem(WARNING, f"flatFileDefinition {name!r} has no flatFile; Arkade 5 finds no file "
                                                 "name for it"))


def _properties(el: etree._Element | None, prefix: tuple[str, ...], out: dict[tuple[str, ...], str], doc: Addml,
                flat: str) -> None:
    for prop in kids(el, "property"):
        key = (*prefix, prop.get("name", ""))
        value = text(prop, "value")
        if value is not None:
            if key in out:
                doc.problems.append(Problem(ERROR, f"flatFile {flat!r}: property {'/'.join(key)} given twice "
                                                   "(Arkade 5 cannot load addml.xml)"))
            else:
                out[key] = value
        _properties(kid(prop, "properties"), key, out, doc, flat)


def _check_keys(doc: Addml) -> None:
    """Every key names existing fields; a foreign key should point at the target's primary key, as Arkade needs."""
    p = doc.problems
    for fdef in doc.definitions.values():
        for r in fdef.records:
            for k in r.keys:
                for name in k.fields:
                    if r.field(name) is None:
                        p.append(Problem(ERROR, f"{fdef.name}/{r.name}: key {k.name or ''} names field {name!r}, "
                                                "which does not exist"))
                if k.kind != "foreign":
                    continue
                target = next((d for d in doc.definitions.values() if d.name.lower() == (k.ref_file or "").lower()), None)
                trec = target.record(k.ref_record or "") if target else None
                where = f"{fdef.name}/{r.name}: foreign key {k.name or ''}"
                if trec is None:
                    if target is None and (k.ref_file or "") in doc.missing:
                        continue  # the missing definition is reported already (once)
                    if target is None:
                        doc.missing.add(k.ref_file or "")
                    p.append(Problem(ERROR, f"{where} points at {k.ref_file}/{k.ref_record}, which does not exist"))
                    continue
                missing = [n for n in k.ref_fields if trec.field(n) is None]
                if missing or len(k.ref_fields) != len(k.fields):
                    p.append(Problem(ERROR, f"{where}: the referenced fields {k.ref_fields} do not exist in "
                                            f"{trec.file}/{trec.name} or do not match the key's {len(k.fields)} field(s)"))
                    continue
                pk = [f.name.lower() for f in trec.pk_fields]
                if [n.lower() for n in k.ref_fields] != pk:
                    p.append(Problem(WARNING, f"{where} points at {k.ref_fields} of {trec.file}/{trec.name}, not at its "
                                              f"primary-key fields in field order ({[f.name for f in trec.pk_fields]}); "
                                              "Arkade 5 A.16 finds no values for it"))
