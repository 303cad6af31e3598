"""Read an ADDMML 7.x description (the Noark-3/Koark era, before ADDML 8) into the same definitions.

ADDMML 7 (``<addmml>``, described by a DTD, Arkivverket's ``ADDMML.DTD`` 7.3) says per dataset the
charset, the format (fixed or delimited) and the null value of each data type, and per ``file``
its record separator, record length, field separator and quote, the field that tells record types
apart (``rectypeid``), the number of records; per ``rectype`` its identifier value (``rt_id``),
keys (``primkey``, ``altkey`` and ``forkey`` as text: field names separated by commas or blanks,
the referenced record as ``FILE.RECTYPE``), its length and number of records; per ``fieldtype``
its position and length, ``datatype``, ``mask``, null value, ``nonull``, ``unique`` and codes.
That maps onto ADDML 8's model one to one, so every check runs on it as on an ADDML 8 extract:
each file as a flat file, each rectype as a record definition, each fieldtype as a field with a
type made from its datatype and mask (a date mask ``ÅÅÅÅMMDD`` or ``YYYYMMDD`` becomes the .NET
pattern ``yyyyMMdd``).

What does not map is reported under U.06 and not guessed: packed or repeated fields, ``chardef``
translations, checks (``fi_check``, ``rt_check``, ``ft_check``) that are not Arkade 5 process names.
ADDMML 7 has no checksums, so AH.01 does not run; ``nu_records`` and ``nu_recs`` (per record type)
are compared with the records read (U.07). Arkade 5 reads no ADDMML 7 at all.
"""

from __future__ import annotations

import re

from lxml import etree

from .addml_model import (
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
)
from .addml_read import _check_keys, _check_layout, _int, resolve_file_name
from .catalog import PROCESS_IDS
from .datatypes import DataType, FormatRejected, make_type
from .findings import ERROR, INFO, WARNING

VERSION = "ADDMML 7.3"

_TYPES = {"string": "string", "char": "string", "character": "string", "text": "string", "tekst": "string",
          "alfanumerisk": "string", "alphanumeric": "string", "varchar": "string",
          "integer": "integer", "int": "integer", "heltall": "integer", "number": "integer", "numeric": "integer",
          "num": "integer", "tall": "integer",
          "float": "float", "real": "float", "decimal": "float", "desimal": "float", "desimaltall": "float",
          "date": "date", "dato": "date", "time": "time", "tid": "time", "klokkeslett": "time",
          "boolean": "boolean", "bool": "boolean", "logisk": "boolean", "logical": "boolean"}
"""ADDMML 7 datatype words (English and Norwegian) -> Arkade 5 data types."""
_NULLS = {"string": "string_null", "integer": "integer_null", "float": "float_null", "date": "date_null"}
_MASK = re.compile(r"YYYY|ÅÅÅÅ|YY|ÅÅ|MM|DD|HH|TT|MI|SS|.", re.IGNORECASE)
_MASK_TOKENS = {"YYYY": "yyyy", "ÅÅÅÅ": "yyyy", "YY": "yy", "ÅÅ": "yy", "MM": "MM", "DD": "dd", "HH": "HH",
                "TT": "HH", "MI": "mm", "SS": "ss"}
_LIST = re.compile(r"[\s,;]+")


def _t(el: etree._Element | None, name: str) -> str | None:
    """The stripped text of child ``name`` (None when absent)."""
    k = kid(el, name)
    return None if k is None else (k.text or "").strip()


def dotnet_date_pattern(mask: str) -> str:
    """An ADDMML 7 date mask (``YYYYMMDD``, ``DD.MM.ÅÅÅÅ``, ``yyyy-mm-dd``) as a .NET pattern (``yyyyMMdd``)."""
    return "".join(_MASK_TOKENS.get(tok.upper(), tok) for tok in _MASK.findall(mask.strip()))


def separator7(raw: str | None) -> str | None:
    """recsep / fieldsep: ``CRLF``, ``CR LF``, ``LF``, ``CR``, ``TAB`` by name, ``none`` for none, else literally."""
    if raw is None:
        return None
    key = raw.strip().upper().replace(" ", "").replace("+", "")
    named = {"CRLF": "\r\n", "LF": "\n", "CR": "\r", "TAB": "\t", "NONE": "", "INGEN": "", "": ""}
    if key in named:
        return named[key] or None
    return raw


class _Reader:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.dataset = kid(kid(root, "structure"), "dataset")

    def warn(self, message: str, severity: str = WARNING) -> None:
        self.problems.append(Problem(severity, message))

    def read(self) -> Addml:
        doc = Addml(self.root, self.dataset, [], {}, {}, {}, self.problems, namespaced=True, has_header_level=False,
                    kind="addmml")
        ds = self.dataset
        if ds is None:
            self.warn("the ADDMML description has no structure/dataset; nothing to read", ERROR)
            return doc
        charset = _t(ds, "charset") or ""
        codec, note = charset_codec(charset) if charset else (None, "no charset")
        if codec is None:
            self.warn(f"dataset charset {charset!r}: {note}; its files are not read", ERROR)
        if kids(ds, "chardef"):
            self.warn(f"the dataset has {len(kids(ds, 'chardef'))} chardef translation(s) (local -> ISO characters); "
                      "they are not applied: values are checked as the bytes stand in the declared charset")
        nulls = {t: frozenset({v}) for t, tag in _NULLS.items() if (v := _t(ds, tag))}
        fmt = (_t(ds, "format") or "").lower()
        for fel in kids(ds, "file"):
            self._file(fel, doc, charset, codec, fmt, nulls)
        declared = _int(_t(ds, "nu_files"), "dataset nu_files", self.problems)
        if declared is not None and declared != len(doc.flat_files):
            self.warn(f"nu_files is {declared}, the description describes {len(doc.flat_files)} file(s)", ERROR)
        self._processes(doc)
        return doc

    def _file(self, fel: etree._Element, doc: Addml, charset: str, codec: str | None, ds_format: str,
              nulls: dict[str, frozenset[str]]) -> None:
        name = fel.get("name", "").strip()
        where = f"file {name}"
        fi_format = (_t(fel, "fi_format") or ds_format).lower()
        delim = kid(fel, "delimspec")
        fixed = "fix" in fi_format or (delim is None and "delim" not in fi_format and "sep" not in fi_format)
        recsep_text = _t(fel, "recsep")
        ftype = FileType(name, charset, codec, fixed, separator7(recsep_text),
                         separator7(_t(delim, "fieldsep")) if delim is not None else None,
                         (_t(delim, "quote") or None) if delim is not None else None, recsep_text)
        if not fixed and (not ftype.field_sep or not ftype.record_sep):
            self.warn(f"{where}: a delimited file needs recsep and delimspec/fieldsep; it is not read", ERROR)
            ftype.codec = None
        doc.file_types[name] = ftype
        reclength = _int(_t(fel, "reclength"), f"{where} reclength", self.problems)
        fdef = FlatFileDef(name, name, ftype, _t(fel, "rectypeid") or None, [])
        if name.lower() in {n.lower() for n in doc.definitions}:
            self.warn(f"{where} is described twice; the second is not read", ERROR)
            return
        for rt in kids(fel, "rectype"):
            fdef.records.append(self._rectype(rt, name, reclength if fixed else None, nulls))
        if not fdef.records:
            self.warn(f"{where} has no rectype; it is not read", ERROR)
            fdef.readable = False
        if ftype.codec is None:
            fdef.readable = False
        _check_layout(fdef, doc)
        doc.definitions[name] = fdef
        types = _int(_t(fel, "nu_rectypes"), f"{where} nu_rectypes", self.problems)
        if types is not None and types != len(fdef.records):
            self.warn(f"{where}: nu_rectypes is {types}, the file describes {len(fdef.records)} rectype(s)", ERROR)
        path_attr = (fel.get("path") or "").strip().replace("\\", "/").strip("/")
        raw = name
        if path_attr and path_attr != "." and not re.match(r"^[A-Za-z]:", path_attr):
            raw = f"{path_attr}/{name}"
        elif path_attr and path_attr != ".":
            self.warn(f"{where}: path {fel.get('path')!r} is a drive of the system that made the extract; the file "
                      "is looked for beside the description", INFO)
        doc.flat_files.append(FlatFile(name, fdef, raw, resolve_file_name(raw, self.problems, name),
                                       _int(_t(fel, "nu_records"), f"{where} nu_records", self.problems), None, None))

    def _rectype(self, rt: etree._Element, file: str, reclength: int | None,
                 nulls: dict[str, frozenset[str]]) -> RecordDef:
        rname = rt.get("name", "").strip()
        where = f"{file}/{rname}"
        keys: list[KeyDef] = []
        if (pk := _t(rt, "primkey")):
            keys.append(KeyDef("primkey", "primary", [x for x in _LIST.split(pk) if x]))
        for alt in kids(rt, "altkey"):
            keys.append(KeyDef("altkey", "alternate", [x for x in _LIST.split((alt.text or "").strip()) if x]))
        for fk in kids(rt, "forkey"):
            names = [x for x in _LIST.split(_t(fk, "fields") or "") if x]
            ref_fields = [x for x in _LIST.split(_t(fk, "reffields") or "") if x]
            keys.append(KeyDef("forkey", "foreign", names, _t(fk, "reffilerec") or "", None, ref_fields))
        fields: list[FieldDef] = []
        for i, ft in enumerate(kids(rt, "fieldtype")):
            fields.append(self._field(ft, i, where, nulls))
        pk_names = {n.lower() for k in keys if k.kind == "primary" for n in k.fields}
        for f in fields:
            f.in_pk = f.name.lower() in pk_names
        length = _int(_t(rt, "rt_fixlength"), f"{where} rt_fixlength", self.problems) or reclength
        rdef = RecordDef(rname, file, length, _t(rt, "rt_id"), fields, keys)
        rdef.declared_records = _int(_t(rt, "nu_recs"), f"{where} nu_recs", self.problems)
        return rdef

    def _field(self, ft: etree._Element, index: int, rec: str, nulls: dict[str, frozenset[str]]) -> FieldDef:
        fname = ft.get("name", "").strip()
        where = f"{rec}/{fname}"
        p = self.problems
        word = (_t(ft, "datatype") or "").strip()
        kind = _TYPES.get(word.lower())
        mask = _t(ft, "mask") or None
        own_null = _t(ft, "ft_nullvalue")
        null_values = frozenset({own_null}) if own_null else nulls.get(kind or "", frozenset())
        dtype: DataType | None = None
        packed = (_t(ft, "packed") or "").lower()
        if packed and packed not in ("no", "nei", "n", "0", "false"):
            self.warn(f"{where}: packed ({_t(ft, 'packed')!r}); packed numbers are bytes, not text, and are not "
                      "checked (a depot takes no packed numbers)", ERROR)
        elif kid(ft, "rep") is not None:
            self.warn(f"{where}: a repeated field (rep); read as one value and not checked by type")
        elif kind is None:
            self.warn(f"{where}: datatype {word!r} is not one ADDMML 7 names; its values are not checked by type", ERROR)
        else:
            fmt: str | None = None
            if kind in ("date", "time") and mask:
                fmt = dotnet_date_pattern(mask)
            elif kind == "float" and mask:
                fmt = "nn,nn" if "," in mask else "nn.nn" if "." in mask else None
            elif kind == "boolean":
                fmt = mask
            try:
                dtype = make_type(word, kind, fmt, null_values)
            except FormatRejected as exc:
                self.warn(f"{where}: datatype {word!r} with mask {mask!r}: {exc}; its values are not checked by type",
                          ERROR)
        codes = [(_t(c, "value") or "") for c in kids(ft, "code")]
        start = _int(_t(ft, "startpos"), f"{where} startpos", p)
        end = _int(_t(ft, "endpos"), f"{where} endpos", p)
        length = _int(_t(ft, "ft_fixlength"), f"{where} ft_fixlength", p)
        if length is None and start is not None and end is not None:
            length = end - start + 1
        return FieldDef(fname, index, word, dtype, start, end, length,
                        _int(_t(ft, "ft_minlength"), f"{where} ft_minlength", p),
                        _int(_t(ft, "ft_maxlength"), f"{where} ft_maxlength", p),
                        kid(ft, "unique") is not None, kid(ft, "nonull") is not None,
                        frozenset(codes) if codes else None)

    def _processes(self, doc: Addml) -> None:
        procs = kid(self.root, "processes")
        for el in kids(procs, "p_file") + kids(procs, "p_rectype") + kids(procs, "p_fieldtype"):
            fdef = next((d for d in doc.definitions.values() if d.name.lower() == el.get("file", "").strip().lower()),
                        None)
            if fdef is None:
                self.warn(f"<{local(el)}> for file {el.get('file')!r}: no such file is described; not run")
                continue
            target: list[str] = fdef.processes
            if local(el) != "p_file":
                rdef = fdef.record(el.get("rectype", "").strip())
                if rdef is None:
                    self.warn(f"<{local(el)}> for {fdef.name}/{el.get('rectype')!r}: no such rectype; not run")
                    continue
                target = rdef.processes
                if local(el) == "p_fieldtype":
                    field = rdef.field(el.get("fieldtype", "").strip())
                    if field is None:
                        self.warn(f"<p_fieldtype> for {fdef.name}/{rdef.name}/{el.get('fieldtype')!r}: no such "
                                  "fieldtype; not run")
                        continue
                    target = field.processes
            for check in el:
                if not isinstance(check.tag, str) or not local(check).endswith(("_check", "_analysis")):
                    continue
                name = (check.text or "").strip()
                if name in PROCESS_IDS:
                    if name not in target:
                        target.append(name)
                elif name:
                    self.warn(f"<{local(check)}>{name}</{local(check)}> ({local(el)} {el.get('file')}): not an "
                              "Arkade 5 process; not run (uttrekk's own checks run on every file)")


def read_addmml(root: etree._Element) -> Addml:
    """Definitions and flat files from a parsed ADDMML 7.x description (``<addmml>``); problems collected."""
    doc = _Reader(root).read()
    for fdef in doc.definitions.values():
        for rdef in fdef.records:
            for key in rdef.foreign_keys:
                _resolve_reference(key, fdef, doc)
    _check_keys(doc)
    return doc


def _resolve_reference(key: KeyDef, fdef: FlatFileDef, doc: Addml) -> None:
    """``reffilerec`` (``FILE.RECTYPE``, ``FILE/RECTYPE``, ``FILE RECTYPE``, or a rectype alone) -> file and record."""
    text = (key.ref_file or "").strip()
    files = sorted(doc.definitions.values(), key=lambda d: -len(d.name))
    for d in files:
        if text.lower() == d.name.lower():
            key.ref_file, key.ref_record = d.name, d.records[0].name if len(d.records) == 1 else None
            return
        if text.lower().startswith(d.name.lower()) and text[len(d.name):len(d.name) + 1] in "./ :":
            key.ref_file, key.ref_record = d.name, text[len(d.name) + 1:].strip()
            return
    owners = [(d, r) for d in doc.definitions.values() for r in d.records if r.name.lower() == text.lower()]
    if len(owners) == 1:
        key.ref_file, key.ref_record = owners[0][0].name, owners[0][1].name
