"""XML table files: ``<TABLE>.xml`` streamed row by row, and ``<TABLE>.xsd`` describing it.

Each row is a ``rad`` element with one child per field; NULL is ``xsi:nil="true"`` and empty
text is an empty element, so the two stay apart. Element names are the field names made into
valid XML names (the XSD documents the original name when it had to change).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lxml import etree
from lxml.builder import ElementMaker

if TYPE_CHECKING:
    from ..plan import TablePlan

XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ROW = "rad"

XSD_TYPES = {
    "integer": "xs:integer", "decimal": "xs:decimal", "float": "xs:decimal", "date": "xs:date",
    "timestamp": "xs:dateTime", "time": "xs:time", "boolean": "xs:boolean",
}
"""Archive kind -> XSD type; everything else is ``xs:string``."""


def xml_name(name: str) -> str:
    """A valid XML element name for a field name."""
    text = re.sub(r"[^\w.-]", "_", name)
    if not re.match(r"[^\W\d]", text):
        text = "_" + text
    if text.lower().startswith("xml"):
        text = "_" + text
    return text


def element_names(tp: TablePlan) -> list[str]:
    names: list[str] = []
    for f in tp.fields:
        base = n = xml_name(f.name)
        i = 2
        while n in names:
            n, i = f"{base}_{i}", i + 1
        names.append(n)
    return names


class XmlTableWriter:
    """Streams rows of one table into an open binary file-like object."""

    def __init__(self, fh: Any, tp: TablePlan, encoding: str) -> None:
        self._names = element_names(tp)
        self._root = xml_name(tp.name)
        self._ctx = etree.xmlfile(fh, encoding=encoding)
        self._xf = self._ctx.__enter__()
        self._xf.write_declaration()
        self._root_ctx = self._xf.element(
            self._root, nsmap={"xsi": XSI},
            attrib={f"{{{XSI}}}noNamespaceSchemaLocation": f"{tp.file_name}.xsd"})
        self._root_ctx.__enter__()
        self._nil = f"{{{XSI}}}nil"

    def write(self, values: Sequence[str | None]) -> None:
        row = etree.Element(ROW)
        for name, value in zip(self._names, values, strict=True):
            child = etree.SubElement(row, name)
            if value is None:
                child.set(self._nil, "true")
            else:
                child.text = value
        self._xf.write(row)

    def close(self) -> None:
        self._root_ctx.__exit__(None, None, None)
        self._ctx.__exit__(None, None, None)


def xsd_document(tp: TablePlan) -> bytes:
    """The XSD of one table file: field types, lengths, nillable for NULL, ``xs:key`` for the PK."""
    E = ElementMaker(namespace=XS, nsmap={"xs": XS})
    names = element_names(tp)
    fields = []
    for f, n in zip(tp.fields, names, strict=True):
        attrs = {"name": n}
        if not f.not_null:
            attrs["nillable"] = "true"
        children = []
        doc = f.description
        if n != f.name:
            doc = f"Felt '{f.name}'. {doc}".strip()
        if f.codes:
            doc = f"{doc} Koder: " + "; ".join(f"{c} = {e}" for c, e in f.codes)
        if doc:
            children.append(E.annotation(E.documentation(doc)))
        xs_type = XSD_TYPES.get(f.kind, "xs:string")
        if xs_type == "xs:string" and f.max_length:
            children.append(E.simpleType(E.restriction(E.maxLength(value=str(f.max_length)), base="xs:string")))
        else:
            attrs["type"] = xs_type
        fields.append(E.element(*children, **attrs))
    row = E.element(E.complexType(E.sequence(*fields)), name=ROW, minOccurs="0", maxOccurs="unbounded")
    body: list[Any] = []
    if tp.description:
        body.append(E.annotation(E.documentation(tp.description)))
    body.append(E.complexType(E.sequence(row)))
    if tp.primary_key:
        by_field = {f.name: n for f, n in zip(tp.fields, names, strict=True)}
        body.append(E.key(E.selector(xpath=ROW), *[E.field(xpath=by_field[c]) for c in tp.primary_key],
                          name=f"PK_{xml_name(tp.name)}"))
    schema = E.schema(E.element(*body, name=xml_name(tp.name)), elementFormDefault="unqualified")
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)
