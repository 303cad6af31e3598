"""Independent read-back of an uttrekk extract, written from the output spec only.

Nothing here imports ``extractor``: the parsers, the addml.xml reader and the converters from
source values to expected text are our own, so a bug in uttrekk's writers cannot hide itself by
being used to compute the expected values.

Pieces:
  * ``parse_delimited``  - state machine over decoded text; NULL (empty unquoted) -> None,
                           ``""`` -> ''.
  * ``read_fixed``       - slices records by the startPos/endPos/fixedLength in addml.xml.
  * ``read_addml``       - per flat file: name, count, checksum, charset, fields, keys, codes.
  * ``ColType`` + ``expected_text`` - what a source value must look like in the extract.
  * ``compare_extract``  - the whole value-by-value comparison of a SQLite source with an extract,
                           returning a list of human-readable problems (empty = all good).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import sqlite3
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

ADDML_NS = "http://www.arkivverket.no/standarder/addml"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"a": ADDML_NS}

LOB_TABLE = "LOBFILER"
LOB_FIELDS = ["fil", "tabell", "felt", "post", "bytes", "sha256", "innhold"]


class Blank:
    """A fixed-width text field that is all blanks and has no ``_lengde`` companion: it stands for
    NULL or '' (the spec only allows this when the column never holds both)."""

    def __repr__(self) -> str:
        return "<BLANK>"


BLANK = Blank()


# ---------------------------------------------------------------------------
# Delimited parser
# ---------------------------------------------------------------------------


class ReadbackError(ValueError):
    """The file does not follow the format the spec describes."""


_START, _UNQUOTED, _QUOTED, _QUOTE_SEEN = range(4)


def parse_delimited(text: str, sep: str = ";", quote: str = '"') -> list[list[str | None]]:
    """Parse delimited text whose every record ends with CRLF.

    An empty unquoted field is NULL (None); a quoted field is text ('' for ``""``). Anything the
    spec does not allow raises ``ReadbackError``: a bare CR or LF outside quotes, a quote inside an
    unquoted field, text after a closing quote, an unterminated quote, a missing final CRLF.
    """
    records: list[list[str | None]] = []
    rec: list[str | None] = []
    buf: list[str] = []
    state = _START
    i, n = 0, len(text)

    def where() -> str:
        return f"record {len(records) + 1}, field {len(rec) + 1}, offset {i}"

    def end_of_record() -> None:
        nonlocal rec
        if i + 1 >= n or text[i + 1] != "\n":
            raise ReadbackError(f"CR not followed by LF outside quotes at {where()}")
        records.append(rec)
        rec = []

    while i < n:
        c = text[i]
        if state == _START:
            if c == quote:
                buf = []
                state = _QUOTED
            elif c == sep:
                rec.append(None)
            elif c == "\r":
                rec.append(None)
                end_of_record()
                i += 1  # skip the LF
            elif c == "\n":
                raise ReadbackError(f"bare LF outside quotes at {where()}")
            else:
                buf = [c]
                state = _UNQUOTED
        elif state == _UNQUOTED:
            if c == sep:
                rec.append("".join(buf))
                state = _START
            elif c == "\r":
                rec.append("".join(buf))
                end_of_record()
                i += 1
                state = _START
            elif c == "\n":
                raise ReadbackError(f"bare LF in unquoted field at {where()}")
            elif c == quote:
                raise ReadbackError(f"quote inside unquoted field at {where()}")
            else:
                buf.append(c)
        elif state == _QUOTED:
            if c == quote:
                state = _QUOTE_SEEN
            else:
                buf.append(c)
        else:  # _QUOTE_SEEN
            if c == quote:
                buf.append(quote)
                state = _QUOTED
            elif c == sep:
                rec.append("".join(buf))
                state = _START
            elif c == "\r":
                rec.append("".join(buf))
                end_of_record()
                i += 1
                state = _START
            else:
                raise ReadbackError(f"{c!r} after a closing quote at {where()}")
        i += 1
    if state == _QUOTED:
        raise ReadbackError(f"file ends inside a quoted field ({where()})")
    if state != _START or rec:
        raise ReadbackError(f"last record is not ended by CRLF ({where()})")
    return records


# ---------------------------------------------------------------------------
# addml.xml reader
# ---------------------------------------------------------------------------


@dataclass
class FieldDesc:
    name: str
    type_name: str
    data_type: str
    field_format: str | None
    alignment: str | None
    start: int | None
    end: int | None
    fixed_length: int | None
    max_length: int | None
    not_null: bool
    unique: bool
    codes: dict[str, str] = field(default_factory=dict)
    xsd_type: str | None = None  # xml format: the field's type in the table's XSD
    description: str = ""


@dataclass
class KeyDesc:
    name: str
    kind: str  # primaryKey | alternateKey | foreignKey
    fields: list[str]
    ref_table: str | None = None
    ref_fields: list[str] | None = None


@dataclass
class TableDesc:
    name: str
    definition: str
    file_name: str
    count: int
    checksum_algorithm: str | None
    checksum: str | None
    type_name: str
    charset: str | None
    file_format: str  # delimited | fixed | other
    field_sep: str | None
    quote: str | None
    record_sep: str | None
    record_length: int | None
    fields: list[FieldDesc]
    keys: list[KeyDesc]

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldDesc:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _text(el: Any, path: str) -> str | None:
    found = el.find(path, NS)
    return None if found is None else (found.text or "")


def _int(el: Any, path: str) -> int | None:
    t = _text(el, path)
    return None if t is None else int(t)


def _prop(el: Any, name: str) -> Any:
    return el.find(f"a:properties/a:property[@name='{name}']", NS)


def read_addml(path: str | Path) -> dict[str, TableDesc]:
    """Every flatFile of an addml.xml with its definition, type and fields, keyed by flatFile name."""
    doc = etree.parse(str(path))
    root = doc.getroot()
    assert root.tag == f"{{{ADDML_NS}}}addml", f"root element is {root.tag}"
    defs = {d.get("name"): d for d in root.iterfind(".//a:flatFileDefinition", NS)}
    ftypes = {t.get("name"): t for t in root.iterfind(".//a:flatFileType", NS)}
    fieldtypes = {t.get("name"): t for t in root.iterfind(".//a:fieldType", NS)}
    tables: dict[str, TableDesc] = {}
    for ff in root.iterfind(".//a:flatFile", NS):
        name = ff.get("name")
        defname = ff.get("definitionReference")
        fname_prop = _prop(ff, "fileName")
        count_prop = _prop(ff, "numberOfOccurrences")
        cs_prop = _prop(ff, "checksum")
        algorithm = value = None
        if cs_prop is not None:
            algorithm = _text(cs_prop, "a:properties/a:property[@name='algorithm']/a:value")
            value = _text(cs_prop, "a:properties/a:property[@name='value']/a:value")
        d = defs[defname]
        tname = d.get("typeReference")
        ft = ftypes[tname]
        charset = _text(ft, "a:charset")
        if ft.find("a:delimFileFormat", NS) is not None:
            fmt = "delimited"
            sep = _text(ft, "a:delimFileFormat/a:fieldSeparatingChar")
            quote = _text(ft, "a:delimFileFormat/a:quotingChar")
            rsep = _text(ft, "a:delimFileFormat/a:recordSeparator")
        elif ft.find("a:fixedFileFormat", NS) is not None:
            fmt = "fixed"
            sep = quote = None
            rsep = _text(ft, "a:fixedFileFormat/a:recordSeparator")
        else:
            fmt, sep, quote, rsep = "other", None, None, None
        recdefs = d.findall("a:recordDefinitions/a:recordDefinition", NS)
        assert len(recdefs) == 1, f"{name}: {len(recdefs)} recordDefinitions"
        rd = recdefs[0]
        fields = []
        for fd in rd.iterfind("a:fieldDefinitions/a:fieldDefinition", NS):
            ftn = fd.get("typeReference")
            fty = fieldtypes[ftn]
            codes = {c.get("codeValue"): c.get("explan") for c in fd.iterfind("a:codes/a:code", NS)}
            fields.append(FieldDesc(
                name=fd.get("name"), type_name=ftn, data_type=_text(fty, "a:dataType") or "",
                field_format=_text(fty, "a:fieldFormat"), alignment=_text(fty, "a:alignment"),
                start=_int(fd, "a:startPos"), end=_int(fd, "a:endPos"),
                fixed_length=_int(fd, "a:fixedLength"), max_length=_int(fd, "a:maxLength"),
                not_null=fd.find("a:notNull", NS) is not None, unique=fd.find("a:unique", NS) is not None,
                codes=codes, description=_text(fd, "a:description") or ""))
        keys = []
        for k in rd.iterfind("a:keys/a:key", NS):
            kfields = [r.get("name") for r in k.iterfind("a:fieldDefinitionReferences/a:fieldDefinitionReference", NS)]
            if k.find("a:primaryKey", NS) is not None:
                keys.append(KeyDesc(k.get("name"), "primaryKey", kfields))
            elif k.find("a:alternateKey", NS) is not None:
                keys.append(KeyDesc(k.get("name"), "alternateKey", kfields))
            else:
                fk = k.find("a:foreignKey", NS)
                ref = fk.find("a:flatFileDefinitionReference", NS)
                rfields = [r.get("name") for r in ref.iterfind(".//a:fieldDefinitionReference", NS)]
                keys.append(KeyDesc(k.get("name"), "foreignKey", kfields, ref.get("name"), rfields))
        tables[name] = TableDesc(
            name=name, definition=defname,
            file_name=fname_prop.find("a:value", NS).text if fname_prop is not None else "",
            count=int(count_prop.find("a:value", NS).text) if count_prop is not None else -1,
            checksum_algorithm=algorithm, checksum=value, type_name=tname, charset=charset,
            file_format=fmt, field_sep=sep, quote=quote, record_sep=rsep,
            record_length=_int(rd, "a:fixedLength"), fields=fields, keys=keys)
    for do in root.iterfind(".//a:dataObject", NS):
        fmt_prop = _prop(do, "format")
        if fmt_prop is None or (fmt_prop.findtext("a:value", namespaces=NS) or "").upper() != "XML":
            continue
        tables[do.get("name")] = _xml_table(Path(path).parent, do)
    return tables


XSD_DATATYPE = {"xs:integer": "integer", "xs:decimal": "float", "xs:double": "float", "xs:date": "date",
                "xs:dateTime": "date", "xs:time": "time", "xs:boolean": "boolean"}


def _values(do: Any, name: str) -> list[str]:
    return [p.findtext("a:value", namespaces=NS) or "" for p in
            do.iterfind(f"a:properties/a:property[@name='{name}']", NS)]


def _xml_table(content: Path, do: Any) -> TableDesc:
    """A table described as an ADDML dataObject (xml format): fields come from its XSD."""
    name = do.get("name")
    file_name = (_values(do, "fileName") or [""])[0]
    schema_name = (_values(do, "schemaFileName") or [""])[0]
    count = int((_values(do, "numberOfOccurrences") or ["-1"])[0])
    cs = _prop(do, "checksum")
    algorithm = value = None
    if cs is not None:
        algorithm = _text(cs, "a:properties/a:property[@name='algorithm']/a:value")
        value = _text(cs, "a:properties/a:property[@name='value']/a:value")
    charset: str | None = (_values(do, "charset") or [""])[0] or None
    fields: list[FieldDesc] = []
    xsd_path = content / schema_name
    if schema_name and xsd_path.is_file():
        xs = "{http://www.w3.org/2001/XMLSchema}"
        xsd = etree.parse(str(xsd_path)).getroot()
        rad = next((e for e in xsd.iter(f"{xs}element") if e.get("name") == "rad"), None)
        seq = rad.find(f"{xs}complexType/{xs}sequence") if rad is not None else None
        for el in (seq if seq is not None else []):
            if el.tag != f"{xs}element":
                continue
            t = el.get("type")
            ml = None
            if t is None:
                r = el.find(f"{xs}simpleType/{xs}restriction")
                t = r.get("base") if r is not None else "xs:string"
                m = r.find(f"{xs}maxLength") if r is not None else None
                ml = int(m.get("value")) if m is not None else None
            fields.append(FieldDesc(
                name=el.get("name"), type_name=t, data_type=XSD_DATATYPE.get(t, "string"), field_format=None,
                alignment=None, start=None, end=None, fixed_length=None, max_length=ml,
                not_null=el.get("nillable") != "true", unique=False, xsd_type=t))
    for cp in do.iterfind("a:properties/a:property[@name='codes']", NS):
        target = cp.findtext("a:value", namespaces=NS)
        codes = {c.findtext("a:value", namespaces=NS) or "":
                 c.findtext("a:properties/a:property[@name='explan']/a:value", namespaces=NS) or ""
                 for c in cp.iterfind("a:properties/a:property[@name='code']", NS)}
        for f in fields:
            if f.name == target:
                f.codes.update(codes)
    keys: list[KeyDesc] = []

    def cols(text: str) -> list[str]:
        return [c.strip() for c in text.split(",") if c.strip()]

    for v in _values(do, "primaryKey"):
        keys.append(KeyDesc("primaryKey", "primaryKey", cols(v)))
    for v in _values(do, "alternateKey"):
        keys.append(KeyDesc("alternateKey", "alternateKey", cols(v)))
    for v in _values(do, "foreignKey"):
        m = re.fullmatch(r"(.+?)\s*->\s*([^(]+)\((.*)\)", v.strip())
        if m:
            keys.append(KeyDesc("foreignKey", "foreignKey", cols(m.group(1)), m.group(2).strip(), cols(m.group(3))))
    return TableDesc(name=name, definition=name, file_name=file_name, count=count, checksum_algorithm=algorithm,
                     checksum=value, type_name="", charset=charset, file_format="xml", field_sep=None, quote=None,
                     record_sep=None, record_length=None, fields=fields, keys=keys)


def python_codec(charset: str | None) -> str:
    c = (charset or "").upper().replace("_", "-")
    if c in ("ISO-8859-1", "LATIN-1", "LATIN1"):
        return "latin-1"
    if c in ("UTF-8", "UTF8"):
        return "utf-8"
    raise ReadbackError(f"unexpected charset {charset!r}")


# ---------------------------------------------------------------------------
# Fixed width
# ---------------------------------------------------------------------------

NUMERIC_TYPES = ("integer", "float")


def check_fixed_layout(td: TableDesc) -> list[str]:
    """Positions are 1-based, contiguous, agree with fixedLength and the record's fixedLength."""
    problems = []
    pos = 1
    for f in td.fields:
        if f.start is None or f.end is None or f.fixed_length is None:
            problems.append(f"{td.name}.{f.name}: missing startPos/endPos/fixedLength")
            continue
        if f.start != pos:
            problems.append(f"{td.name}.{f.name}: startPos {f.start}, expected {pos}")
        if f.end - f.start + 1 != f.fixed_length:
            problems.append(f"{td.name}.{f.name}: startPos {f.start}..endPos {f.end} != fixedLength {f.fixed_length}")
        pos = f.start + f.fixed_length
    if td.record_length != pos - 1:
        problems.append(f"{td.name}: record fixedLength {td.record_length}, fields end at {pos - 1}")
    return problems


def read_fixed(text: str, td: TableDesc) -> list[list[str]]:
    """Slice fixed-width text into raw (still padded) fields, using the positions in addml.xml.

    Records are read by length, not by splitting on CRLF, since a text value may hold line breaks.
    """
    spans = [((f.start or 1) - 1, f.end or 0) for f in td.fields]
    length: int = td.record_length if td.record_length is not None else (spans[-1][1] if spans else 0)
    records: list[list[str]] = []
    pos = 0
    while pos < len(text):
        rec = text[pos:pos + length]
        if len(rec) < length:
            raise ReadbackError(f"record {len(records) + 1} is short: {len(rec)} of {length} characters")
        if text[pos + length:pos + length + 2] != "\r\n":
            raise ReadbackError(f"record {len(records) + 1} not ended by CRLF at character {pos + length}: "
                                f"{text[pos + length:pos + length + 10]!r}")
        records.append([rec[a:b] for a, b in spans])
        pos += length + 2
    return records


def decode_fixed(raw: list[str], td: TableDesc) -> dict[str, Any]:
    """Raw fixed fields -> values by field name. ``_lengde`` companions are applied and dropped.

    Numbers (integer/float dataType) are right-aligned: blanks -> None. Other fields are
    left-aligned: trailing blanks are padding; all blanks -> None for non-text types and
    ``BLANK`` for text without a ``_lengde`` companion. Raises ReadbackError on bad padding.
    """
    names = td.field_names()
    out: dict[str, Any] = {}
    for i, f in enumerate(td.fields):
        v = raw[i]
        companion = f"{f.name}_lengde"
        if f.name.endswith("_lengde") and f.name[: -len("_lengde")] in names:
            continue
        if companion in names:
            ln = raw[names.index(companion)].strip(" ")
            if ln == "":
                if v.strip(" ") != "":
                    raise ReadbackError(f"{f.name}: {companion} blank but field holds {v!r}")
                out[f.name] = None
            else:
                k = int(ln)
                if k > len(v) or v[k:].strip(" ") != "":
                    raise ReadbackError(f"{f.name}: {companion}={k} but field is {v!r}")
                out[f.name] = v[:k]
            continue
        if f.data_type in NUMERIC_TYPES:
            s = v.lstrip(" ")
            if s != s.rstrip(" "):
                raise ReadbackError(f"{f.name}: number not right-aligned: {v!r}")
            out[f.name] = s if s else None
        else:
            s = v.rstrip(" ")
            if s == "":
                out[f.name] = BLANK if f.data_type == "string" else None
            else:
                out[f.name] = s
    return out


# ---------------------------------------------------------------------------
# Reading any table file into logical records
# ---------------------------------------------------------------------------


def read_table(content: Path, td: TableDesc, fmt: str) -> list[dict[str, Any]]:
    """Records of one table file as {field name: str | None | BLANK}, in file order."""
    path = content / td.file_name
    data = path.read_bytes()
    if fmt == "xml":
        return read_xml_table(path, td)
    text = data.decode(python_codec(td.charset))  # strict: a wrong charset raises
    if fmt == "fixed":
        return [decode_fixed(r, td) for r in read_fixed(text, td)]
    recs = parse_delimited(text, td.field_sep or ";", td.quote or '"')
    names = td.field_names()
    out = []
    for k, r in enumerate(recs, 1):
        if len(r) != len(names):
            raise ReadbackError(f"{td.name} record {k}: {len(r)} fields, addml.xml describes {len(names)}")
        out.append(dict(zip(names, r, strict=True)))
    return out


def read_xml_table(path: Path, td: TableDesc) -> list[dict[str, Any]]:
    """One ``rad`` per record, children in field order; xsi:nil -> None; empty element -> ''."""
    doc = etree.parse(str(path))
    root = doc.getroot()
    names = td.field_names()
    if root.tag != td.name and _plain_xml_name(td.name):
        raise ReadbackError(f"{path.name}: root element <{root.tag}>, expected <{td.name}>")
    out = []
    for k, rad in enumerate(root, 1):
        if not isinstance(rad.tag, str):
            continue
        if rad.tag != "rad":
            raise ReadbackError(f"{path.name}: child {k} of the root is <{rad.tag}>, not <rad>")
        kids = [c for c in rad if isinstance(c.tag, str)]
        if len(kids) != len(names):
            raise ReadbackError(f"{path.name} record {k}: {len(kids)} elements, addml.xml describes {len(names)}")
        rec: dict[str, Any] = {}
        for name, el in zip(names, kids, strict=True):
            if el.tag != name and _plain_xml_name(name):
                raise ReadbackError(f"{path.name} record {k}: element <{el.tag}> where field {name} belongs")
            if el.get(f"{{{XSI_NS}}}nil") == "true":
                if (el.text or "") != "" or len(el):
                    raise ReadbackError(f"{path.name} record {k}: nil element {el.tag} has content")
                rec[name] = None
            else:
                if len(el):
                    raise ReadbackError(f"{path.name} record {k}: element {el.tag} has child elements")
                rec[name] = el.text or ""
        out.append(rec)
    return out


def _plain_xml_name(name: str) -> bool:
    """A name that can be an XML element name as is (so the element must carry it)."""
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name) is not None and not name.lower().startswith("xml")


def xml_encoding(path: Path) -> str | None:
    return etree.parse(str(path)).docinfo.encoding


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# Source columns and expected text
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ColType:
    kind: str  # integer decimal float date timestamp time boolean text char blob
    length: int | None = None
    scale: int | None = None


def col_type(declared: str) -> ColType:
    """Archive kind of a declared SQLite column type (the names the tests use)."""
    d = declared.strip().upper()
    m = re.fullmatch(r"(\w+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?", d)
    if not m:
        return ColType("text")
    base, a, b = m.group(1), m.group(2), m.group(3)
    if base in ("INTEGER", "INT", "BIGINT", "SMALLINT"):
        return ColType("integer")
    if base in ("DECIMAL", "NUMERIC"):
        return ColType("decimal", int(a) if a else None, int(b) if b else 0)
    if base in ("REAL", "DOUBLE", "FLOAT"):
        return ColType("float")
    if base == "DATE":
        return ColType("date")
    if base in ("TIMESTAMP", "DATETIME"):
        return ColType("timestamp")
    if base == "TIME":
        return ColType("time")
    if base in ("BOOLEAN", "BOOL"):
        return ColType("boolean")
    if base == "CHAR":
        return ColType("char", int(a) if a else 1)
    if base == "BLOB":
        return ColType("blob")
    return ColType("text", int(a) if a else None)


# The ADDML dataType each kind must be described with (spec: integer/float are the numeric ones).
ADDML_DATATYPE = {
    "integer": {"integer"},
    "decimal": {"float"},
    "float": {"float"},
    "date": {"date"},
    "timestamp": {"date"},
    "time": {"time"},
    "boolean": {"boolean"},
    "text": {"string"},
    "char": {"string"},
    "blob": {"string"},
}


XSD_TYPE = {
    "integer": {"xs:integer", "xs:long"},
    "decimal": {"xs:decimal"},
    "float": {"xs:decimal", "xs:double"},
    "date": {"xs:date"},
    "timestamp": {"xs:dateTime"},
    "time": {"xs:time"},
    "boolean": {"xs:boolean"},
    "text": {"xs:string"},
    "char": {"xs:string"},
    "blob": {"xs:string"},
}


def decimal_plain(d: Decimal) -> str:
    """Plain notation (never an exponent) of a Decimal, keeping its exponent's digits."""
    return format(d, "f")


def float_shortest(x: float) -> str:
    """Shortest decimal that round-trips the double, plain notation, with '.'; no '.0'; -0 keeps its sign."""
    s = decimal_plain(Decimal(repr(x)))
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


ARKADE_FLOAT_MAX = 79228162514264337593543950335
"""Arkade 5 reads a float field as .NET decimal: no whole part beyond this fits ADDML float."""


_TS = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?")


def timestamp_text(s: str) -> str:
    """Source timestamp text -> YYYY-MM-DDTHH:MM:SS[.fraction without trailing zeros][+HH:MM]."""
    m = _TS.fullmatch(s)
    if not m:
        raise ValueError(f"not a timestamp: {s!r}")
    date, time, frac, off = m.groups()
    out = f"{date}T{time}"
    if frac and frac.strip("0"):
        out += "." + frac.rstrip("0")
    if off:
        out += "+00:00" if off == "Z" else off
    return out


def fits(value: Any, ct: ColType) -> bool:
    """Whether a SQLite value (as sqlite3 returns it) fits the column's declared kind."""
    if value is None:
        return True
    k = ct.kind
    if k == "integer":
        return isinstance(value, int)
    if k == "decimal":
        return isinstance(value, (int, float))
    if k == "float":
        return isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < ARKADE_FLOAT_MAX + 1
    if k == "date":
        return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None \
            and _valid(lambda: dt.date.fromisoformat(value))
    if k == "timestamp":
        m = _TS.fullmatch(value) if isinstance(value, str) else None
        return m is not None and _valid(lambda: (dt.date.fromisoformat(m.group(1)),
                                                  dt.time.fromisoformat(m.group(2))))
    if k == "time":
        return isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}:\d{2}(\.\d+)?", value) is not None \
            and _valid(lambda: dt.time.fromisoformat(value[:8]))
    if k == "boolean":
        return isinstance(value, int) and value in (0, 1)
    if k == "blob":
        return isinstance(value, bytes)
    return isinstance(value, str)


def _valid(fn: Any) -> bool:
    try:
        fn()
        return True
    except ValueError:
        return False


def expected_text(value: Any, ct: ColType, style: str = "flat") -> str | None:
    """The text a source value must have in the extract (style 'flat' or 'xml').

    Not used for BLOBs (the field holds a path) or long texts (they go to a file).
    """
    if value is None:
        return None
    k = ct.kind
    comma = "," if style == "flat" else "."
    if k == "integer":
        return str(value)
    if k == "decimal":
        d = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
        scale = ct.scale or 0
        if int(d.as_tuple().exponent) > -scale:  # pad to the declared scale (never drop digits)
            d = d.quantize(Decimal(1).scaleb(-scale))
        return decimal_plain(d).replace(".", comma)
    if k == "float":
        return float_shortest(float(value)).replace(".", comma)
    if k == "date":
        return value
    if k == "timestamp":
        return timestamp_text(value)
    if k == "time":
        return value
    if k == "boolean":
        if style == "flat":
            return "J" if value else "N"
        return "true" if value else "false"
    if k == "char":
        return value.rstrip(" ")
    return value


def fallback_text(value: Any) -> str | None:
    """A value of a column archived as string because some values did not fit its type."""
    if value is None:
        return None
    if isinstance(value, float):
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN" if math.isnan(value)
                                                                   else float_shortest(value))
    if isinstance(value, bytes):
        raise ValueError("blob in a string fallback")
    return str(value)


def float_text_ok(actual: str, value: float, style: str) -> bool:
    """The written float is the exact double, in plain notation, with no surplus digits.

    The canonical form is ``float_shortest``; a single trailing ``,0`` on an integral value
    (Python's repr convention) is tolerated since it is not an extra significant digit.
    """
    comma = "," if style == "flat" else "."
    want = float_shortest(float(value)).replace(".", comma)
    return actual == want or ("." not in want and "," not in want and actual == want + comma + "0")


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    table: str
    column: str
    row_key: str
    action: str
    detail: str


def read_deviations(path: Path) -> list[Deviation]:
    text = path.read_bytes().decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    assert lines, "deviations.tsv is empty (no header)"
    assert lines[0].split("\t") == ["table", "column", "row_key", "action", "detail"], lines[0]
    out = []
    for ln in lines[1:]:
        parts = ln.split("\t")
        assert len(parts) == 5, f"deviations.tsv line with {len(parts)} fields: {ln!r}"
        out.append(Deviation(*(_tsv_field(p) for p in parts)))
    return out


_TSV_ESCAPE = re.compile(r"\\(.?)")
_TSV_CHARS = {"\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


def _tsv_field(text: str) -> str:
    """docs/format.md: a backslash, tab, CR and LF in a field are written \\\\, \\t, \\r, \\n."""
    def one(m: re.Match[str]) -> str:
        assert m.group(1) in _TSV_CHARS, f"deviations.tsv: unknown escape {m.group(0)!r} in {text!r}"
        return _TSV_CHARS[m.group(1)]
    return _TSV_ESCAPE.sub(one, text)


def row_key_text(pk: list[str], row: dict[str, Any], recno: int) -> str:
    if not pk:
        return f"record {recno}"
    return ", ".join(f"{c}={row[c]}" for c in pk)


# ---------------------------------------------------------------------------
# Source access
# ---------------------------------------------------------------------------


@dataclass
class SourceTable:
    name: str
    columns: list[str]
    types: dict[str, ColType]
    declared: dict[str, str]
    pk: list[str]
    rows: list[dict[str, Any]]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_source(db: Path) -> dict[str, SourceTable]:
    """Every user table with its rows ordered by the primary key, else by all columns."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = {}
        for t in names:
            info = con.execute(f"PRAGMA table_info({q(t)})").fetchall()
            cols = [r[1] for r in info]
            declared = {r[1]: r[2] for r in info}
            pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
            order = ", ".join(q(c) for c in (pk or cols))
            rows = [dict(zip(cols, r, strict=True)) for r in
                    con.execute(f"SELECT {', '.join(q(c) for c in cols)} FROM {q(t)} ORDER BY {order}")]
            out[t] = SourceTable(t, cols, {c: col_type(declared[c]) for c in cols}, declared, pk, rows)
        return out
    finally:
        con.close()


def reordered(db: Path, st: SourceTable, key: list[str]) -> SourceTable:
    """The table's rows in the order of ``key`` (SQLite's own ORDER BY, as the extract used)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = [dict(zip(st.columns, r, strict=True)) for r in con.execute(
            f"SELECT {', '.join(q(c) for c in st.columns)} FROM {q(st.name)} ORDER BY {', '.join(q(c) for c in key)}")]
    finally:
        con.close()
    return replace(st, rows=rows)


# ---------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------


@dataclass
class Policy:
    """What the run was asked to do, so the comparison knows which changes are allowed."""

    fmt: str = "delimited"  # delimited | fixed | xml
    charset: str = "ISO-8859-1"  # the requested default charset
    charmap: dict[str, str] = field(default_factory=dict)
    utf8_fallback: bool = False
    long_text_limit: int = 2047
    allow_fallback: bool = True  # may a typed column be archived as string (with a table_note)?


def latin1_ok(s: str) -> bool:
    return all(ord(ch) < 256 for ch in s)


def apply_map(s: str, charmap: dict[str, str]) -> str:
    return "".join(charmap.get(ch, ch) for ch in s)


@dataclass
class Checked:
    """What compare_extract found, for extra assertions in the tests."""

    addml: dict[str, TableDesc]
    records: dict[str, list[dict[str, Any]]]
    deviations: list[Deviation]
    lob_paths: dict[str, bytes]  # path -> expected bytes (blobs) or expected encoded text
    problems: list[str]


SURROGATE = "uttrekk_lopenr"
"""The field uttrekk adds as the key of a table without one (docs/profile.md)."""


def compare_extract(db: Path, out: Path, policy: Policy, source: dict[str, SourceTable] | None = None) -> Checked:
    """Compare every value of every source table with the extract in ``out``."""
    problems: list[str] = []
    P = problems.append
    content = out / "content"
    src = source if source is not None else read_source(db)
    addml = read_addml(content / "addml.xml")
    deviations = read_deviations(out / "report" / "deviations.tsv")
    records: dict[str, list[dict[str, Any]]] = {}
    lob_expect: dict[str, bytes] = {}
    lob_rows_expected: dict[str, tuple[str, str, int]] = {}
    used_mapped: set[tuple[str, str, str]] = set()
    style = "xml" if policy.fmt == "xml" else "flat"

    for tname, st in src.items():
        if tname not in addml:
            P(f"table {tname}: not described in addml.xml")
            continue
        td = addml[tname]
        if td.definition != tname:
            P(f"{tname}: flatFileDefinition name {td.definition!r}")
        ext = ".xml" if policy.fmt == "xml" else ".txt"
        if td.file_name != tname + ext:
            P(f"{tname}: fileName {td.file_name!r}, expected {tname + ext!r}")
        if policy.fmt == "delimited" and (td.file_format, td.field_sep, td.quote) != ("delimited", ";", '"'):
            P(f"{tname}: flatFileType {td.type_name} is {td.file_format} sep={td.field_sep!r} quote={td.quote!r}")
        if policy.fmt == "fixed":
            if td.file_format != "fixed":
                P(f"{tname}: flatFileType {td.type_name} is {td.file_format}, not fixed")
            P_fixed = check_fixed_layout(td)
            problems.extend(P_fixed)
            if P_fixed:
                continue
        # -- field layout: every source column in order; only _fil / _lengde companions added
        names = td.field_names()
        surrogate = None
        if not st.pk and names and names[0].startswith(SURROGATE) and names[0] not in st.columns:
            # a table without a key gets the record number as its first field and its primary key
            surrogate, names = names[0], names[1:]
            if [k.fields for k in td.keys if k.kind == "primaryKey"] != [[surrogate]]:
                P(f"{tname}: surrogate field {surrogate} is not the primary key")
        pks = [k.fields for k in td.keys if k.kind == "primaryKey"]
        if not st.pk and surrogate is None and len(pks) == 1 and pks[0][0] in st.columns:
            # a key proven in the data: unique and complete in the source, and the file's order
            values = [row[pks[0][0]] for row in st.rows]
            if None in values or len(set(values)) != len(values):
                P(f"{tname}: primary key {pks[0]} is not unique and complete in the source")
            st = replace(reordered(db, st, pks[0]), pk=pks[0])
        pos_of = {n: i for i, n in enumerate(names)}
        missing = [c for c in st.columns if c not in pos_of]
        if missing:
            P(f"{tname}: columns missing from addml.xml: {missing}")
            continue
        idx = [pos_of[c] for c in st.columns]
        if idx != sorted(idx):
            P(f"{tname}: fields out of source order: {names}")
        for j, c in enumerate(st.columns):
            nxt = idx[j + 1] if j + 1 < len(idx) else len(names)
            extras = names[idx[j] + 1:nxt]
            allowed = {f"{c}_fil", f"{c}_lengde"}
            if set(extras) - allowed or len(extras) != len(set(extras)):
                P(f"{tname}: unexpected fields after {c}: {extras}")
            if f"{c}_lengde" in extras and policy.fmt != "fixed":
                P(f"{tname}: {c}_lengde in {policy.fmt} format")
        if len(names) != len(st.columns) + sum(
                1 for c in st.columns for e in (f"{c}_fil", f"{c}_lengde") if e in pos_of):
            P(f"{tname}: field list {names}")
        # -- charset of the table: does it need UTF-8?
        needs_utf8 = False
        for row in st.rows:
            for c in st.columns:
                v = row[c]
                if isinstance(v, str) and not latin1_ok(apply_map(v, policy.charmap)):
                    needs_utf8 = True
        want_charset = "UTF-8" if (policy.charset == "UTF-8" or needs_utf8) else "ISO-8859-1"
        if needs_utf8 and policy.charset != "UTF-8" and not policy.utf8_fallback:
            P(f"{tname}: source needs UTF-8 but the run had no fallback (extract should have failed)")
        if policy.fmt != "xml" and (td.charset or "").upper() != want_charset:
            P(f"{tname}: charset {td.charset}, expected {want_charset}")
        if policy.fmt == "xml" and (content / td.file_name).is_file():
            enc = (xml_encoding(content / td.file_name) or "").upper()
            if enc != want_charset:
                P(f"{tname}: XML declaration says encoding {enc!r}, expected {want_charset}")
            if td.charset is not None and td.charset.upper() != enc:
                P(f"{tname}: addml.xml charset {td.charset} but the XML file is {enc}")
        # -- records
        try:
            recs = read_table(content, td, policy.fmt)
        except (ReadbackError, UnicodeDecodeError, etree.XMLSyntaxError) as exc:
            P(f"{tname}: cannot read {td.file_name}: {exc}")
            continue
        records[tname] = recs
        if len(recs) != len(st.rows):
            P(f"{tname}: {len(recs)} records in file, {len(st.rows)} rows in source")
        if td.count != len(recs):
            P(f"{tname}: numberOfOccurrences {td.count}, file holds {len(recs)} records")
        if policy.fmt == "xml":
            for c in st.columns:
                t = td.field(c).xsd_type
                want_t = XSD_TYPE[st.types[c].kind]
                if t not in want_t and not (t == "xs:string" and st.types[c].kind not in ("text", "char", "blob")):
                    P(f"{tname}.{c}: XSD type {t}, expected {sorted(want_t)}")
        # which typed columns were archived as string, and are they reported?
        fallback_cols = set()
        for c in st.columns:
            ct = st.types[c]
            dtype = td.field(c).data_type
            if dtype not in ADDML_DATATYPE[ct.kind]:
                if dtype == "string" and ct.kind not in ("text", "char", "blob"):
                    fallback_cols.add(c)
                    noted = any(d.table == tname and d.action == "table_note"
                                and (d.column == c or re.search(rf"(?<!\w){re.escape(c)}(?!\w)", d.detail))
                                for d in deviations)
                    if not noted:
                        P(f"{tname}.{c}: archived as string without a table_note naming the column")
                    if not policy.allow_fallback and all(fits(row[c], ct) for row in st.rows):
                        P(f"{tname}.{c}: declared {st.declared[c]}, values fit, yet archived as string")
                else:
                    P(f"{tname}.{c}: dataType {dtype}, expected one of {sorted(ADDML_DATATYPE[ct.kind])}")
        # fixed format: where padding is ambiguous, _lengde must exist
        if policy.fmt == "fixed":
            for c in st.columns:
                if td.field(c).data_type != "string" or st.types[c].kind == "blob":
                    continue
                vals = [r[c] for r in st.rows]
                if st.types[c].kind == "char":
                    vals = [None if v is None else (v.rstrip(" ") if isinstance(v, str) else v) for v in vals]
                svals = [v for v in vals if isinstance(v, str) and len(v) <= policy.long_text_limit]
                ambiguous = (None in vals and "" in svals) or any(v != v.rstrip(" ") for v in svals)
                if ambiguous and f"{c}_lengde" not in pos_of:
                    P(f"{tname}.{c}: padding is ambiguous (NULL and '' or trailing blanks) but no {c}_lengde field")
        pk = st.pk
        for recno, (row, rec) in enumerate(zip(st.rows, recs, strict=False), 1):
            key = f"{surrogate}={recno}" if surrogate else row_key_text(pk, row, recno)
            if surrogate is not None and rec.get(surrogate) != str(recno):
                P(f"{tname}[{key}]: surrogate {surrogate} is {rec.get(surrogate)!r}, not the record number {recno}")
            for c in st.columns:
                v = row[c]
                ct = st.types[c]
                got = rec.get(c)
                where = f"{tname}[{key}].{c}"
                fil = rec.get(f"{c}_fil") if f"{c}_fil" in pos_of else None
                if c in fallback_cols:  # the value as text; a long one in a file like any long text
                    v, ct = fallback_text(v), ColType("text")
                    if v is None or len(v) <= policy.long_text_limit:
                        if not _same(got, v):
                            P(f"{where}: {got!r} != {v!r} (column archived as string)")
                        continue
                if ct.kind == "blob":
                    if v is None:
                        if got is not None and got is not BLANK:
                            P(f"{where}: NULL blob written as {got!r}")
                        continue
                    if not isinstance(got, str) or got is BLANK:
                        P(f"{where}: blob field is {got!r}")
                        continue
                    m = re.fullmatch(rf"lob/{re.escape(tname)}/{re.escape(c)}/{recno}\.\w+", got)
                    if not m:
                        P(f"{where}: blob path {got!r} not lob/{tname}/{c}/{recno}.<ext>")
                    p = content / got
                    if not p.is_file():
                        P(f"{where}: blob file {got} missing")
                        continue
                    data = p.read_bytes()
                    if data != bytes(v):
                        P(f"{where}: blob bytes differ ({len(data)} in file, {len(v)} in source)")
                    lob_expect[got] = bytes(v)
                    lob_rows_expected[got] = (tname, c, recno)
                    continue
                if isinstance(v, str) and ct.kind in ("text", "char") \
                        and len(v.rstrip(" ") if ct.kind == "char" else v) > policy.long_text_limit:
                    # a long text: NULL here, the value in the file named by <col>_fil
                    if f"{c}_fil" not in pos_of:
                        P(f"{where}: value of {len(v)} chars > {policy.long_text_limit} but no {c}_fil field")
                        continue
                    if got not in (None, BLANK):
                        P(f"{where}: long value not NULL in the field but {str(got)[:30]!r}...")
                    if not isinstance(fil, str) or fil is BLANK:
                        P(f"{where}: {c}_fil is {fil!r}")
                        continue
                    p = content / fil
                    if not p.is_file():
                        P(f"{where}: {c}_fil file {fil} missing")
                        continue
                    codec = python_codec(td.charset) if policy.fmt != "xml" else python_codec(want_charset)
                    written = _check_text_value(v, p.read_bytes(), codec, policy, tname, c, key,
                                                deviations, used_mapped, where, P)
                    if written is not None:
                        lob_expect[fil] = written
                        lob_rows_expected[fil] = (tname, f"{c}_fil", recno)
                    continue
                if f"{c}_fil" in pos_of and fil is not None and fil is not BLANK:
                    P(f"{where}: short value but {c}_fil = {fil!r}")
                if ct.kind in ("text", "char") and isinstance(v, str):
                    want = v.rstrip(" ") if ct.kind == "char" else v
                    if want != apply_map(want, policy.charmap) or not latin1_ok(want):
                        mapped = apply_map(want, policy.charmap)
                        charset_is_utf8 = (td.charset or "").upper() == "UTF-8" if policy.fmt != "xml" \
                            else want_charset == "UTF-8"
                        ok_values = []
                        if charset_is_utf8:
                            ok_values.append(("orig", want))
                        if mapped != want:
                            ok_values.append(("mapped", mapped))
                        match = [k for k, w in ok_values if _same(got, w)]
                        if not match:
                            P(f"{where}: {got!r} is neither the source {want!r} nor the mapped {mapped!r}")
                        elif "mapped" in match:
                            lines = [d for d in deviations if (d.table, d.column, d.row_key, d.action)
                                     == (tname, c, key, "mapped")]
                            if not lines:
                                P(f"{where}: value mapped ({want!r} -> {mapped!r}) but no 'mapped' line "
                                  f"'{tname}\t{c}\t{key}\tmapped' in deviations.tsv")
                            elif not all(d.detail.strip() for d in lines):
                                P(f"{where}: 'mapped' line without detail")
                            used_mapped.add((tname, c, key))
                        continue
                    if not _same(got, want):
                        P(f"{where}: {got!r} != {want!r}")
                    continue
                if not fits(v, ct):
                    P(f"{where}: source value {v!r} does not fit {st.declared[c]} but the column is not "
                      f"archived as string")
                    continue
                if ct.kind == "float" and v is not None:
                    if not isinstance(got, str) or got is BLANK or not float_text_ok(got, v, style):
                        P(f"{where}: {got!r} is not the shortest plain text of {v!r} "
                          f"({expected_text(v, ct, style)!r})")
                    continue
                want = expected_text(v, ct, style)
                if not _same(got, want):
                    P(f"{where}: {got!r} != {want!r} (source {v!r}, {st.declared[c]})")
    # -- deviations: every 'mapped' line must belong to a value we saw being mapped
    for d in deviations:
        if d.action == "mapped" and (d.table, d.column, d.row_key) not in used_mapped:
            P(f"deviations.tsv: 'mapped' line for {d.table}.{d.column} {d.row_key} but that value was "
              f"written unchanged or does not exist")
    # -- LOBFILER
    if lob_expect:
        if LOB_TABLE not in addml:
            P("LOBFILER not described in addml.xml although lob files exist")
        else:
            td = addml[LOB_TABLE]
            if td.field_names() != LOB_FIELDS:
                P(f"LOBFILER fields {td.field_names()} != {LOB_FIELDS}")
            try:
                lrecs = read_table(content, td, policy.fmt)
            except (ReadbackError, UnicodeDecodeError, etree.XMLSyntaxError) as exc:
                P(f"LOBFILER: cannot read: {exc}")
                lrecs = []
            records[LOB_TABLE] = lrecs
            if td.count != len(lrecs):
                P(f"LOBFILER: numberOfOccurrences {td.count}, file holds {len(lrecs)}")
            listed: dict[str, dict[str, Any]] = {}
            for r in lrecs:
                fil = str(r.get("fil"))
                if fil in listed:
                    P(f"LOBFILER lists {fil} twice")
                listed[fil] = r
            if set(listed) != set(lob_expect):
                P(f"LOBFILER lists {sorted(set(listed) - set(lob_expect))} extra and "
                  f"misses {sorted(set(lob_expect) - set(listed))}")
            for fil, r in listed.items():
                p = content / str(fil)
                if not p.is_file():
                    P(f"LOBFILER: {fil} does not exist")
                    continue
                data = p.read_bytes()
                if r.get("bytes") != str(len(data)):
                    P(f"LOBFILER {fil}: bytes {r.get('bytes')!r}, file has {len(data)}")
                if r.get("sha256") != hashlib.sha256(data).hexdigest():
                    P(f"LOBFILER {fil}: sha256 {r.get('sha256')!r} is not the file's")
                if fil in lob_rows_expected:
                    t, col, recno = lob_rows_expected[fil]
                    if (r.get("tabell"), r.get("felt"), r.get("post")) != (t, col, str(recno)):
                        P(f"LOBFILER {fil}: tabell/felt/post {(r.get('tabell'), r.get('felt'), r.get('post'))} "
                          f"!= {(t, col, str(recno))}")
    # -- flat file counts and checksums against the real files
    for name, td in addml.items():
        p = content / td.file_name
        if not p.is_file():
            P(f"{name}: file {td.file_name} does not exist")
            continue
        if (td.checksum_algorithm or "").upper() != "SHA-256":
            P(f"{name}: checksum algorithm {td.checksum_algorithm!r}")
        if td.checksum != sha256_file(p):
            P(f"{name}: checksum in addml.xml is not the SHA-256 of {td.file_name}")
    return Checked(addml, records, deviations, lob_expect, problems)


def _same(got: Any, want: str | None) -> bool:
    if got is BLANK:
        return want in (None, "")
    return got == want


def _check_text_value(v: str, data: bytes, codec: str, policy: Policy, tname: str, c: str, key: str,
                      deviations: list[Deviation], used_mapped: set, where: str, P: Any) -> bytes | None:
    """A long text in its own file: identical, or mapped with a report line."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        P(f"{where}: long-text file is not {codec}: {exc}")
        return None
    mapped = apply_map(v, policy.charmap)
    if text == v:
        return data
    if text == mapped:
        if not any((d.table, d.column, d.row_key, d.action) == (tname, c, key, "mapped") for d in deviations):
            P(f"{where}: long text mapped without a 'mapped' line in deviations.tsv")
        used_mapped.add((tname, c, key))
        return data
    P(f"{where}: long-text file holds {len(text)} chars that differ from the source's {len(v)}")
    return None


def content_inventory(content: Path) -> set[str]:
    """Every file under content/, as paths relative to it with '/'."""
    return {p.relative_to(content).as_posix() for p in content.rglob("*") if p.is_file()}


__all__ = [
    "BLANK", "Blank", "ColType", "Checked", "Deviation", "FieldDesc", "KeyDesc", "Policy", "ReadbackError",
    "SourceTable", "TableDesc", "apply_map", "check_fixed_layout", "col_type", "compare_extract",
    "content_inventory", "decode_fixed", "expected_text", "fallback_text", "float_shortest",
    "float_text_ok", "latin1_ok", "parse_delimited", "python_codec", "read_addml", "read_deviations",
    "read_fixed", "read_source", "read_table", "read_xml_table", "row_key_text", "sha256_file",
    "timestamp_text",
]


# ---------------------------------------------------------------------------
# Second opinions: schemas and Python's csv module
# ---------------------------------------------------------------------------

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "extractor" / "schemas"
_schemas: dict[str, Any] = {}


def validate_addml(content: Path) -> list[str]:
    """addml.xml is valid against the ADDML schema whose version content/addml.xsd declares, and
    content/addml.xsd is that bundled schema byte for byte."""
    copied = content / "addml.xsd"
    if not copied.is_file():
        return ["content/addml.xsd missing"]
    version = etree.parse(str(copied)).getroot().get("version")
    bundled = SCHEMA_DIR / f"addml-{version}.xsd"
    if not bundled.is_file():
        return [f"content/addml.xsd has version {version!r}; no bundled schema for it"]
    problems = []
    if copied.read_bytes() != bundled.read_bytes():
        problems.append(f"content/addml.xsd differs from {bundled.name}")
    if version not in _schemas:
        _schemas[version] = etree.XMLSchema(etree.parse(str(bundled)))
    schema = _schemas[version]
    doc = etree.parse(str(content / "addml.xml"))
    if not schema.validate(doc):
        problems += [f"addml.xml invalid: {e}" for e in list(schema.error_log)[:20]]
    return problems


def validate_xml_tables(content: Path, tables: dict[str, TableDesc]) -> list[str]:
    """Every table .xml validates against the .xsd next to it."""
    problems = []
    for name, td in tables.items():
        xml = content / td.file_name
        xsd = xml.with_suffix(".xsd")
        if not xsd.is_file():
            problems.append(f"{name}: {xsd.name} missing")
            continue
        try:
            schema = etree.XMLSchema(etree.parse(str(xsd)))
            doc = etree.parse(str(xml))
        except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not schema.validate(doc):
            problems += [f"{name}.xml invalid: {e}" for e in list(schema.error_log)[:10]]
    return problems


def csv_cross_check(content: Path, tables: dict[str, TableDesc], records: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Python's csv module reads every delimited file to the same records; it cannot tell NULL
    from '', so our None must be its ''."""
    import csv
    import io

    problems = []
    for name, td in tables.items():
        if name not in records:
            continue
        text = (content / td.file_name).read_bytes().decode(python_codec(td.charset))
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True))
        except csv.Error as exc:
            problems.append(f"{name}: csv module: {exc}")
            continue
        mine = records[name]
        if len(rows) != len(mine):
            problems.append(f"{name}: csv module reads {len(rows)} records, our parser {len(mine)}")
            continue
        names = td.field_names()
        for k, (a, b) in enumerate(zip(rows, mine, strict=True), 1):
            if a == [] and len(names) == 1:
                a = [""]  # the csv module reads an empty line as no fields at all
            if len(a) != len(names):
                problems.append(f"{name} record {k}: csv module reads {len(a)} fields")
                continue
            for n, v in zip(names, a, strict=True):
                ours = b[n]
                if (ours if ours is not None else "") != v:
                    problems.append(f"{name} record {k}.{n}: csv {v!r}, ours {ours!r}")
    return problems
