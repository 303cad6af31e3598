"""SIARD 2.2 table files: ``tableN.xml`` streamed row by row, and ``tableN.xsd`` describing it.

Each row is a ``row`` element with one ``cN`` element per field, in field order (N from 1). NULL
is a missing cell and empty text an empty one (T_6.4-3). Text is escaped the SIARD way (G_3.3-4):
characters XML 1.0 cannot carry, C1 controls and the escape character ``\\`` itself become
``\\uXXXX``; ``&``, ``<``, ``>`` and CR are XML character references, so a reader gets every
character back. A large object stored as a file is a cell with ``file``, ``length`` and a SHA-256
``digest`` (T_6.4-5). The rows are written as text, not built as elements: SIARD's shape is fixed
and simple, and this is several times faster than a tree per row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree
from lxml.builder import ElementMaker

from ..lobs import ascii_stem
from ..model import Column

if TYPE_CHECKING:
    from ..plan import FieldPlan, TablePlan

VERSION = "2.2"
TABLE_NS = "http://www.bar.admin.ch/xmlns/siard/2/table.xsd"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

LOB_ROLES = frozenset({"lobpath", "clob"})
"""Field roles whose values may be files: binary values, and texts longer than the inline limit."""


@dataclass(frozen=True, slots=True)
class LobCell:
    """A large object stored as a file: its ``file:`` URI (relative), length and SHA-256."""

    file: str
    length: int
    sha256: str


_SIARD_ESCAPE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\\\\\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPE = re.compile("[&<>\r]")
_XML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def siard_escape(text: str) -> str:
    """Text as it stands in a SIARD cell (before XML escaping): ``\\uXXXX`` for what XML cannot hold."""
    return _SIARD_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04X}", text)


_ANY_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\\\\\ud800-\udfff\ufffe\uffff]")
"""Any character that needs one or the other escape: most values have none and are written as they are."""


def cell_text(text: str) -> str:
    """Text as it stands in the XML file: SIARD escapes, then XML references for ``& < >`` and CR."""
    if _ANY_ESCAPE.search(text) is None:
        return text
    text = siard_escape(text)
    return _XML_ESCAPE.sub(lambda m: _XML_ENTITIES[m.group()], text)


def table_folder(index: int) -> str:
    """The folder (and file stem) of the table with this index in plan order (P_4.2-2 recommends ``tableN``)."""
    return f"table{index}"


def lob_member(table_index: int, column_index: int, recno: int, ext: str) -> str:
    """Path inside the SIARD file of one large object (P_4.2-3: ``lobN/recordN.ext``)."""
    return f"content/schema0/{table_folder(table_index)}/lob{column_index}/record{recno}.{ext}"


class SiardTableWriter:
    """Streams rows of one table into an open binary file-like object."""

    def __init__(self, fh: Any, index: int, field_count: int) -> None:
        self._fh = fh
        self._tags = [(f"<c{i}>", f"</c{i}>", f"<c{i}") for i in range(1, field_count + 1)]
        stem = table_folder(index)
        fh.write(('<?xml version="1.0" encoding="UTF-8"?>\n'
                  f'<table xmlns="{TABLE_NS}" xmlns:xsi="{XSI}" '
                  f'xsi:schemaLocation="{TABLE_NS} {stem}.xsd" version="{VERSION}">\n').encode())

    def write(self, values: Sequence[Any]) -> None:
        parts = ["<row>"]
        add = parts.append
        for (start, end, open_), value in zip(self._tags, values, strict=True):
            if value is None:
                continue
            if value.__class__ is str:
                add(start)
                add(value if _ANY_ESCAPE.search(value) is None else cell_text(value))
                add(end)
            else:  # a LobCell
                add(f'{open_} file="{value.file}" length="{value.length}" digestType="SHA-256" '
                    f'digest="{value.sha256}"/>')
        add("</row>\n")
        self._fh.write("".join(parts).encode("utf-8"))

    def close(self) -> None:
        self._fh.write(b"</table>\n")


# -- types --------------------------------------------------------------------------------------

def _source_column(tp: TablePlan, f: FieldPlan) -> Column | None:
    if tp.source is None or f.column is None or f.role == "surrogate":
        return None
    try:
        return tp.source.column(f.column)
    except KeyError:
        return None


def sql_type(tp: TablePlan, f: FieldPlan) -> str:
    """The SQL:2008 type of a field as written (P_4.3-3), from its archive kind and the source's declaration."""
    col = _source_column(tp, f)
    native = (col.native_type if col else "").lower()
    if f.role == "lobpath" or f.kind == "binary":
        return "BLOB"
    if f.role == "clob":
        return "CLOB"
    kind = f.kind
    if kind == "integer":
        if "big" in native or "int8" in native or "long" in native:
            return "BIGINT"
        if "small" in native or "tiny" in native or "int2" in native:
            return "SMALLINT"
        if col is not None and col.precision and ("num" in native or "dec" in native):
            return f"DECIMAL({col.precision})"
        return "BIGINT" if f.role == "surrogate" else "INTEGER"
    if kind == "decimal":
        if col is not None and col.precision:
            return f"DECIMAL({col.precision}, {col.scale or 0})"
        return "DECIMAL"
    if kind == "float":
        return "REAL" if col is not None and col.float_bits == 24 else "DOUBLE PRECISION"
    if kind == "date":
        return "DATE"
    if kind == "timestamp":
        return "TIMESTAMP WITH TIME ZONE" if col is not None and col.timezone else "TIMESTAMP"
    if kind == "time":
        return "TIME"
    if kind == "boolean":
        return "BOOLEAN"
    if kind in ("string", "char") and col is not None and col.length and f.widened_from is None:
        return f"CHARACTER({col.length})" if kind == "char" else f"VARCHAR({col.length})"
    return "CLOB"


_XSD_TYPES = {"INTEGER": "xs:integer", "BIGINT": "xs:integer", "SMALLINT": "xs:integer", "DECIMAL": "xs:decimal",
              "REAL": "xs:float", "DOUBLE PRECISION": "xs:double", "DATE": "dateType", "TIMESTAMP": "dateTimeType",
              "TIMESTAMP WITH TIME ZONE": "dateTimeType", "TIME": "timeType", "BOOLEAN": "xs:boolean",
              "CLOB": "clobType", "BLOB": "blobType", "VARCHAR": "xs:string", "CHARACTER": "xs:string"}


def xsd_type(sql: str) -> str:
    """The XML type of a SQL:2008 type in the table's XSD (P_4.3-3)."""
    return _XSD_TYPES[sql.split("(")[0]]


_LOB_TYPE = """
  <xs:complexType name="{name}">
    <xs:simpleContent>
      <xs:extension base="{base}">
        <xs:attribute name="file" type="xs:anyURI"/>
        <xs:attribute name="length" type="xs:integer"/>
        <xs:attribute name="digestType" type="digestTypeType"/>
        <xs:attribute name="digest" type="xs:string"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>"""
"""The type of a large object's cell (CLOB and BLOB alike): its value inline, or the ``file`` holding it."""

_SIMPLE_TYPES = (_LOB_TYPE.format(name="clobType", base="xs:string")
                 + _LOB_TYPE.format(name="blobType", base="xs:hexBinary") + """
  <xs:simpleType name="digestTypeType">
    <xs:restriction base="xs:string">
      <xs:whiteSpace value="collapse"/>
      <xs:enumeration value="MD5"/>
      <xs:enumeration value="SHA-1"/>
      <xs:enumeration value="SHA-256"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="dateType">
    <xs:restriction base="xs:date">
      <xs:minInclusive value="0001-01-01Z"/>
      <xs:maxExclusive value="10000-01-01Z"/>
      <xs:pattern value="\\d{4}-\\d{2}-\\d{2}Z?"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="timeType">
    <xs:restriction base="xs:time">
      <xs:pattern value="\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z?"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="dateTimeType">
    <xs:restriction base="xs:dateTime">
      <xs:minInclusive value="0001-01-01T00:00:00.000000000Z"/>
      <xs:maxExclusive value="10000-01-01T00:00:00.000000000Z"/>
      <xs:pattern value="\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z?"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="versionType">
    <xs:restriction base="xs:string">
      <xs:whiteSpace value="collapse"/>
      <xs:enumeration value="2.2"/>
    </xs:restriction>
  </xs:simpleType>
""")


def xsd_document(tp: TablePlan) -> bytes:
    """The XSD of one table file (appendix D.3): ``table`` of ``row``s of ``c1``, ``c2``, … in field order;
    a field that may be NULL has ``minOccurs="0"`` (P_4.3-7)."""
    E = ElementMaker(namespace=XS, nsmap={"xs": XS, None: TABLE_NS})
    cells = []
    for i, f in enumerate(tp.fields, 1):
        attrs = {"name": f"c{i}", "type": xsd_type(sql_type(tp, f))}
        if not f.not_null:
            attrs["minOccurs"] = "0"
        cells.append(E.element(**attrs))
    table = E.element(
        E.complexType(E.sequence(E.element(name="row", type="recordType", minOccurs="0", maxOccurs="unbounded")),
                      E.attribute(name="version", type="versionType", use="required")),
        name="table")
    schema = E.schema(table, E.complexType(E.sequence(*cells), name="recordType"),
                      targetNamespace=TABLE_NS, elementFormDefault="qualified", attributeFormDefault="unqualified",
                      version=VERSION)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, remove_blank_text=True)
    for node in etree.fromstring(f'<xs:schema xmlns:xs="{XS}">{_SIMPLE_TYPES}</xs:schema>', parser):
        schema.append(node)
    etree.indent(schema, space="  ")
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8")


def external_folder(tp: TablePlan) -> str:
    """The table's folder among the large objects stored beside the SIARD file (ASCII, URI-safe)."""
    return ascii_stem(tp.file_name, "tabell")
