"""A small SIARD writer for the tests: ZIP + header/metadata.xml + one table XML and XSD per table, by hand.

It imports nothing of uttrekk (so a bug in uttrekk's reader cannot hide in it) and writes what the
SIARD 2.2 specification and the real archives in shared/fixtures/siard show: ``c1``… cells, SIARD's
escapes (``\\u005C`` for a backslash, ``\\u00XX`` for control characters, a second space), hex for
binary, LOBs in the archive (``file`` a member path) or outside it (``lobFolder`` relative to the
SIARD file), with ``length`` and MD5 ``digest``. SIARD 1.0 uses 1.0's namespaces. Knobs make the
damaged files the tests need (a wrong row count, a bad digest, extra XML before the root…).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

NS2_META = "http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd"
NS2_TABLE = "http://www.bar.admin.ch/xmlns/siard/2/table.xsd"
NS1_META = "http://www.bar.admin.ch/xmlns/siard/1.0/metadata.xsd"


@dataclass
class Col:
    name: str
    type: str
    nullable: bool = True
    description: str = ""
    original: str = ""
    lob: str = ""
    """"" inline; "internal": each value a file in the archive; "external": a file in ``lob_folder``."""
    lob_folder: str = ""
    cardinality: int = 0


@dataclass
class Tab:
    name: str
    cols: list[Col]
    rows: list[list[Any]]
    pk: list[str] = field(default_factory=list)
    candidate: list[list[str]] = field(default_factory=list)
    fks: list[tuple[str, list[str], str, list[str]]] = field(default_factory=list)
    """(name, columns, referenced table, referenced columns)."""
    checks: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    declared_rows: int | None = None
    """What metadata.xml says (default: the number of rows)."""


def siard_escape(text: str) -> str:
    r"""SIARD's escapes, then XML's: ``\`` and control characters as ``\u00XX``, a second space too."""
    out = []
    prev = ""
    for ch in text:
        o = ord(ch)
        if ch == "\\" or o < 9 or 13 < o < 32 or o in (11, 12) or 127 <= o <= 159 or (ch == " " and prev == " "):
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
        prev = ch
    return escape("".join(out))


def _xsd_type(c: Col) -> str:
    t = c.type.upper()
    if c.lob:
        return "blobType" if "B" in t.split("(")[0] and "CLOB" not in t else "clobType"
    if t.startswith(("INTEGER", "SMALLINT", "BIGINT")):
        return "xs:integer"
    if t.startswith(("DECIMAL", "NUMERIC")):
        return "xs:decimal"
    if t.startswith(("DOUBLE", "REAL", "FLOAT")):
        return "xs:double"
    if t.startswith("BOOLEAN"):
        return "xs:boolean"
    if t.startswith("DATE"):
        return "xs:date"
    if t.startswith("TIMESTAMP"):
        return "xs:dateTime"
    if t.startswith(("BINARY", "VARBINARY", "BLOB")):
        return "xs:hexBinary"
    return "xs:string"


def table_xsd(t: Tab) -> str:
    cells = []
    for i, c in enumerate(t.cols, 1):
        occurs = ' minOccurs="0"' if c.nullable else ""
        if c.cardinality:
            items = "".join(f'<xs:element minOccurs="0" name="a{k}" type="{_xsd_type(c)}"/>'
                            for k in range(1, c.cardinality + 1))
            cells.append(f'<xs:element{occurs} name="c{i}"><xs:complexType><xs:sequence>{items}</xs:sequence>'
                         "</xs:complexType></xs:element>")
        else:
            cells.append(f'<xs:element{occurs} name="c{i}" type="{_xsd_type(c)}"/>')
    lob = ('<xs:attribute name="file" type="xs:anyURI"/><xs:attribute name="length" type="xs:integer"/>'
           '<xs:attribute name="digestType" type="xs:string"/><xs:attribute name="digest" type="xs:string"/>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'xmlns="{NS2_TABLE}" targetNamespace="{NS2_TABLE}" elementFormDefault="qualified">'
            '<xs:element name="table"><xs:complexType><xs:sequence><xs:element name="row" type="rowType" '
            'minOccurs="0" maxOccurs="unbounded"/></xs:sequence><xs:attribute name="version" type="xs:string"/>'
            f'</xs:complexType></xs:element><xs:complexType name="rowType"><xs:sequence>{"".join(cells)}'
            '</xs:sequence></xs:complexType>'
            f'<xs:complexType name="clobType"><xs:simpleContent><xs:extension base="xs:string">{lob}'
            '</xs:extension></xs:simpleContent></xs:complexType>'
            f'<xs:complexType name="blobType"><xs:simpleContent><xs:extension base="xs:hexBinary">{lob}'
            '</xs:extension></xs:simpleContent></xs:complexType></xs:schema>')


def _cell(value: Any, c: Col) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, list):
        return "".join(f"<a{k}>{_cell(v, c)}</a{k}>" for k, v in enumerate(value, 1) if v is not None)
    return siard_escape(str(value))


@dataclass
class Built:
    path: Path
    lob_dir: Path | None
    """Where external LOBs were written (``lobs`` beside the folder holding the SIARD file)."""


def build(path: Path, tables: list[Tab], *, version: str = "2.2", schema: str = "S1", dbname: str = "Testbase",
          description: str = "", producer: str = "tests/siard_build", data_owner: str = "Eksempel kommune",
          timespan: str = "2001-2020", compression: int = zipfile.ZIP_DEFLATED, zip64: bool = False,
          bad_digest: tuple[str, int, str] | None = None, skip_lob: tuple[str, int, str] | None = None,
          metadata_prefix: str = "", extra_members: dict[str, bytes] | None = None,
          schema_description: str = "", views: list[tuple[str, str, str]] = ()) -> Built:
    """Write a SIARD file; external LOBs go to ``path.parent.parent / "lobs"`` (``lobFolder`` ``../lobs/``)."""
    v1 = version == "1.0"
    meta_ns, table_ns = (NS1_META, None) if v1 else (NS2_META, NS2_TABLE)
    lob_dir = path.parent.parent / "lobs"
    used_external = False
    members: dict[str, bytes] = {}
    meta_tables = []
    for ti, t in enumerate(tables):
        folder = f"table{ti}"
        base = f"content/schema0/{folder}"
        rows_xml = []
        for r, row in enumerate(t.rows, 1):
            cells = []
            for i, (c, value) in enumerate(zip(t.cols, row, strict=True), 1):
                if value is None:
                    continue
                if c.lob:
                    data = value if isinstance(value, bytes) else value.encode("utf-8")
                    ext = "bin" if isinstance(value, bytes) else "txt"
                    digest = hashlib.md5(data).hexdigest().upper()
                    if bad_digest == (t.name, r, c.name):
                        digest = "0" * 32
                    length = len(data) if isinstance(value, bytes) else len(value)
                    if c.lob == "internal":
                        name = f"{base}/lob{i}/record{r}.{ext}"
                        if skip_lob != (t.name, r, c.name):
                            members[name] = data
                        ref = name
                    else:
                        used_external = True
                        ref = f"record{r}.{ext}"
                        target = lob_dir / c.lob_folder / ref
                        target.parent.mkdir(parents=True, exist_ok=True)
                        if skip_lob != (t.name, r, c.name):
                            target.write_bytes(data)
                    extra = "" if v1 else f' digestType="MD5" digest="{digest}"'
                    cells.append(f'<c{i} file="{ref}" length="{length}"{extra}/>')
                else:
                    cells.append(f"<c{i}>{_cell(value, c)}</c{i}>")
            rows_xml.append("<row>" + "".join(cells) + "</row>")
        ns = table_ns or f"http://www.admin.ch/xmlns/siard/1.0/schema0/{folder}.xsd"
        members[f"{base}/{folder}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<table xmlns="{ns}" version="{version}">'
            + "\n".join(rows_xml) + "</table>\n").encode("utf-8")
        xsd = table_xsd(t)
        if v1:
            xsd = xsd.replace(NS2_TABLE, ns)
        members[f"{base}/{folder}.xsd"] = xsd.encode("utf-8")
        meta_tables.append(_table_meta(t, folder, schema, v1))
    lob_folder = ""
    meta = [f'<?xml version="1.0" encoding="UTF-8"?>\n{metadata_prefix}<siardArchive xmlns="{meta_ns}" '
            f'version="{version}">',
            f"<dbname>{escape(dbname)}</dbname>"]
    if description:
        meta.append(f"<description>{escape(description)}</description>")
    meta += [f"<dataOwner>{escape(data_owner)}</dataOwner>",
             f"<dataOriginTimespan>{escape(timespan)}</dataOriginTimespan>", lob_folder,
             f"<producerApplication>{escape(producer)}</producerApplication>",
             "<archivalDate>2024-05-06</archivalDate>"]
    if v1:
        meta.append("<messageDigest>MD500000000000000000000000000000000</messageDigest>"
                    "<clientMachine>test</clientMachine><databaseProduct>test</databaseProduct>"
                    "<connection>test</connection><databaseUser>test</databaseUser>")
    view_xml = "".join(f"<view><name>{escape(n)}</name><query>{escape(q)}</query>"
                       f"<description>{escape(d)}</description><columns><column><name>X</name><type>INTEGER</type>"
                       "</column></columns></view>" for n, q, d in views)
    meta.append(f"<schemas><schema><name>{escape(schema)}</name><folder>schema0</folder>"
                + (f"<description>{escape(schema_description)}</description>" if schema_description else "")
                + f"<tables>{''.join(meta_tables)}</tables>" + (f"<views>{view_xml}</views>" if view_xml else "")
                + "</schema></schemas>")
    meta.append("<users><user><name>tester</name></user></users></siardArchive>\n")
    members["header/metadata.xml"] = "".join(meta).encode("utf-8")
    if not v1:
        members[f"header/siardversion/{version}/"] = b""
    members.update(extra_members or {})
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name in sorted(members, key=lambda n: (not n.startswith("header/"), n)):
            if name.endswith("/"):
                z.writestr(zipfile.ZipInfo(name), b"")
                continue
            with z.open(zipfile.ZipInfo(name) if compression == zipfile.ZIP_STORED else _info(name), "w",
                        force_zip64=zip64) as fh:
                fh.write(members[name])
    return Built(path, lob_dir if used_external else None)


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 12, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _table_meta(t: Tab, folder: str, schema: str, v1: bool) -> str:
    cols = []
    for c in t.cols:
        parts = [f"<name>{escape(c.name)}</name>"]
        if c.lob == "external":
            parts.append(f"<lobFolder>../lobs/{c.lob_folder}</lobFolder>")
        parts.append(f"<type>{escape(c.type)}</type>")
        if c.original:
            parts.append(f"<typeOriginal>{escape(c.original)}</typeOriginal>")
        parts.append(f"<nullable>{'true' if c.nullable else 'false'}</nullable>")
        if c.cardinality:
            parts.append(f"<cardinality>{c.cardinality}</cardinality>")
        if c.description:
            parts.append(f"<description>{escape(c.description)}</description>")
        cols.append("<column>" + "".join(parts) + "</column>")
    keys = ""
    if t.pk:
        keys += "<primaryKey><name>PK_" + t.name + "</name>" + "".join(f"<column>{c}</column>" for c in t.pk) \
            + "</primaryKey>"
    if t.fks:
        keys += "<foreignKeys>" + "".join(
            f"<foreignKey><name>{n}</name><referencedSchema>{schema}</referencedSchema><referencedTable>{rt}"
            "</referencedTable>" + "".join(f"<reference><column>{a}</column><referenced>{b}</referenced></reference>"
                                           for a, b in zip(cs, rcs, strict=True)) + "</foreignKey>"
            for n, cs, rt, rcs in t.fks) + "</foreignKeys>"
    if t.candidate:
        keys += "<candidateKeys>" + "".join(
            f"<candidateKey><name>UK_{t.name}_{i}</name>" + "".join(f"<column>{c}</column>" for c in k)
            + "</candidateKey>" for i, k in enumerate(t.candidate)) + "</candidateKeys>"
    if t.checks:
        keys += "<checkConstraints>" + "".join(
            f"<checkConstraint><name>{n}</name><condition>{escape(cond)}</condition></checkConstraint>"
            for n, cond in t.checks) + "</checkConstraints>"
    rows = t.declared_rows if t.declared_rows is not None else len(t.rows)
    desc = f"<description>{escape(t.description)}</description>" if t.description else ""
    return (f"<table><name>{escape(t.name)}</name><folder>{folder}</folder>{desc}<columns>{''.join(cols)}</columns>"
            f"{keys}<rows>{rows}</rows></table>")


def unescape(text: str) -> str:
    r"""SIARD's ``\uXXXX`` escapes decoded (the tests' own, for reading the table XML independently)."""
    return re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), text)
