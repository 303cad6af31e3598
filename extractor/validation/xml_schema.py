"""The XSD an XML extract ships for a table file: loaded safely, and read for the table's layout.

A schema from the input is data, not code: it is parsed like addml.xml (no DTD, no entities, no
network), and refused when it includes or imports other documents (that would let the input make
the validator read files or URLs) or declares occurrence bounds large enough to blow up libxml2's
content automaton. Identity constraints (``xs:key``, ``xs:unique``, ``xs:keyref``) are taken out
before it is compiled: libxml2 keeps every key value of a document in memory to check them, while
U.11 and U.05 check the keys addml.xml names through the bounded key store.

From the schema come the table's layout: the root element, the repeated row element (``rad`` in
uttrekk's files) and its fields in order, each with its original column name (uttrekk documents
it as ``Felt 'navn'.`` when the element name had to change) and whether it may be ``xsi:nil``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..errors import UnreadableInputError
from .safety import parse_xml

XS = "http://www.w3.org/2001/XMLSchema"
MAX_XSD_BYTES = 10 * 1024 * 1024
MAX_OCCURS = 100_000
"""Occurrence bounds above this (other than ``unbounded``) are refused: libxml2 may unroll them."""

_FOREIGN = ("include", "import", "redefine", "override")
_CONSTRAINTS = ("key", "unique", "keyref")
_ORIGINAL = re.compile(r"^Felt '(.*?)'\.")


class SchemaRefused(Exception):
    """The shipped XSD cannot or may not be used; the message says why."""


@dataclass(frozen=True)
class FieldSpec:
    element: str
    """The element name in the file (uttrekk's valid XML name of the column)."""
    column: str
    """The column name addml.xml uses (the element name unless the schema documents another)."""
    nillable: bool
    xsd_type: str | None = None
    """The field's built-in type (``xs:date``; a simple type's restriction base), for ``uttrekk load``."""
    documentation: str | None = None


@dataclass
class TableSchema:
    """One table's compiled schema and what the checks need to know of its layout."""

    schema: etree.XMLSchema
    roots: frozenset[str]
    """Clark names of the global elements a document may start with."""
    row_tag: str | None
    fields: list[FieldSpec]
    constraints: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """Identity constraints taken out: (kind, name, field elements)."""


def _q(name: str) -> str:
    return f"{{{XS}}}{name}"


def _clark(name: str, namespace: str | None) -> str:
    return f"{{{namespace}}}{name}" if namespace else name


def _check_safe(root: etree._Element) -> None:
    for el in root.iter(*(_q(n) for n in _FOREIGN)):
        if el.get("schemaLocation") is not None or etree.QName(el).localname != "import":
            raise SchemaRefused(f"it uses xs:{etree.QName(el).localname} of {el.get('schemaLocation')!r}; a schema from "
                                "the extract may not make the validator read other files, so it was not used")
    for el in root.iter(_q("element"), _q("any"), _q("group"), _q("sequence"), _q("choice"), _q("all")):
        for attr in ("minOccurs", "maxOccurs"):
            value = el.get(attr)
            if value is not None and value != "unbounded" and value.strip().isdigit() and int(value) > MAX_OCCURS:
                raise SchemaRefused(f"{attr}={value} is above {MAX_OCCURS:,}; such bounds can make schema compilation "
                                    "exhaust memory, so it was not used")


def _strip_constraints(root: etree._Element) -> list[tuple[str, str, list[str]]]:
    taken = []
    for el in list(root.iter(*(_q(n) for n in _CONSTRAINTS))):
        fields = [f.get("xpath", "").strip() for f in el.iterchildren(_q("field"))]
        taken.append((etree.QName(el).localname, el.get("name", ""), fields))
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
    return taken


def _local_elements(decl: etree._Element) -> list[etree._Element]:
    """Element declarations in ``decl``'s content model, not those nested inside them."""
    found: list[etree._Element] = []

    def walk(el: etree._Element) -> None:
        for child in el:
            if child.tag == _q("element"):
                found.append(child)
            elif child.tag in (_q("complexType"), _q("sequence"), _q("choice"), _q("all"), _q("complexContent"),
                               _q("extension"), _q("restriction")):
                walk(child)
    walk(decl)
    return found


def _content(decl: etree._Element, named_types: dict[str, etree._Element]) -> etree._Element:
    """The element's own declaration, or the named complex type it refers to."""
    type_name = decl.get("type")
    if type_name:
        return named_types.get(type_name.split(":")[-1], decl)
    return decl


def _builtin_type(decl: etree._Element) -> str | None:
    """The element's type name, or the base of its anonymous simple type's restriction."""
    if decl.get("type"):
        return decl.get("type")
    restriction = decl.find(f"{_q('simpleType')}/{_q('restriction')}")
    return restriction.get("base") if restriction is not None else None


def _layout(root: etree._Element) -> tuple[frozenset[str], str | None, list[FieldSpec]]:
    namespace = root.get("targetNamespace")
    qualified = root.get("elementFormDefault") == "qualified"
    named_types = {t.get("name", ""): t for t in root.iterchildren(_q("complexType"))}
    globals_ = {e.get("name", ""): e for e in root.iterchildren(_q("element"))}
    roots = frozenset(_clark(n, namespace) for n in globals_)
    for decl in globals_.values():
        rows = [e for e in _local_elements(_content(decl, named_types))
                if e.get("maxOccurs", "1") not in ("0", "1")]
        if len(rows) != 1:
            continue
        row = rows[0]
        if row.get("ref"):
            name = row.get("ref", "").split(":")[-1]
            row = globals_.get(name, row)
            row_tag = _clark(name, namespace)
        else:
            name = row.get("name", "")
            row_tag = _clark(name, namespace if qualified or row.get("form") == "qualified" else None)
        fields = []
        for f in _local_elements(_content(row, named_types)):
            element = f.get("name") or f.get("ref", "").split(":")[-1]
            doc = f.findtext(f"{_q('annotation')}/{_q('documentation')}") or ""
            m = _ORIGINAL.match(doc.strip())
            fields.append(FieldSpec(element, m.group(1) if m else element, f.get("nillable") in ("true", "1"),
                                    _builtin_type(f), doc.strip() or None))
        return roots, row_tag, fields
    return roots, None, []


def load_table_schema(data: bytes, label: str) -> TableSchema:
    """Parse, vet, strip and compile a shipped table schema; ``SchemaRefused`` says why it cannot be used."""
    if len(data) > MAX_XSD_BYTES:
        raise SchemaRefused(f"it is {len(data):,} bytes, over the {MAX_XSD_BYTES // 2**20} MB limit for a schema")
    try:
        tree, _ = parse_xml(data, label)
    except UnreadableInputError as exc:
        raise SchemaRefused(str(exc)) from None
    root = tree.getroot()
    if root.tag != _q("schema"):
        raise SchemaRefused(f"its root element is {root.tag!r}, not xs:schema")
    _check_safe(root)
    constraints = _strip_constraints(root)
    try:
        schema = etree.XMLSchema(root)
    except etree.XMLSchemaParseError as exc:
        raise SchemaRefused(f"it is not a usable XML schema: {exc}") from None
    roots, row_tag, fields = _layout(root)
    return TableSchema(schema, roots, row_tag, fields, constraints)
