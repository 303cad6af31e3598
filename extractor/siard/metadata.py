"""``header/metadata.xml`` of a SIARD file (1.0, 2.0, 2.1, 2.2) read into plain frozen dataclasses.

The XML is parsed with entities unresolved, no DTD loaded and no network; a document that carries
a DOCTYPE at all is refused (a SIARD metadata file never needs one, and a DTD is how entity tricks
come in). Elements are read by local name, so SIARD 1.0's and 2.x's namespaces read alike; what
differs (1.0's ``messageDigest`` as ``MD5hex``, its ``folder`` for a LOB column) is normalised here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from .archive import SiardError

MAX_METADATA_BYTES = 256 << 20
"""metadata.xml larger than this is refused (it describes; it holds no rows)."""
NAMESPACES = {"http://www.bar.admin.ch/xmlns/siard/1.0/metadata.xsd": "1.0",
              "http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd": "2"}


@dataclass(frozen=True)
class Field:
    """A field of a structured (UDT) or array column, as metadata.xml lists it (for LOB folders)."""

    name: str
    lob_folder: str | None = None
    mime_type: str | None = None
    description: str | None = None
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Column:
    name: str
    type: str | None
    type_original: str | None = None
    type_schema: str | None = None
    type_name: str | None = None
    nullable: bool = True
    default: str | None = None
    description: str | None = None
    lob_folder: str | None = None
    mime_type: str | None = None
    cardinality: int | None = None
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Key:
    name: str
    columns: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    name: str
    referenced_schema: str
    referenced_table: str
    columns: tuple[str, ...]
    referenced: tuple[str, ...]
    match_type: str | None = None
    delete_action: str | None = None
    update_action: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    condition: str
    description: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    folder: str
    columns: tuple[Column, ...]
    rows: int | None
    description: str | None = None
    primary_key: Key | None = None
    candidate_keys: tuple[Key, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class View:
    name: str
    columns: tuple[Column, ...]
    query: str | None = None
    query_original: str | None = None
    description: str | None = None
    rows: int | None = None


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str | None
    type_schema: str | None = None
    type_name: str | None = None
    cardinality: int | None = None
    description: str | None = None


@dataclass(frozen=True)
class UserType:
    name: str
    category: str
    base: str | None = None
    attributes: tuple[Attribute, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class Schema:
    name: str
    folder: str
    tables: tuple[Table, ...] = ()
    views: tuple[View, ...] = ()
    types: tuple[UserType, ...] = ()
    description: str | None = None

    def type(self, name: str) -> UserType | None:
        return next((t for t in self.types if t.name == name), None)


@dataclass(frozen=True)
class Archive:
    version: str
    dbname: str
    schemas: tuple[Schema, ...]
    description: str | None = None
    archiver: str | None = None
    archiver_contact: str | None = None
    data_owner: str | None = None
    data_origin_timespan: str | None = None
    lob_folder: str | None = None
    producer: str | None = None
    archival_date: str | None = None
    digests: tuple[tuple[str, str], ...] = ()
    """(digestType, digest) of the table files, as metadata.xml gives them."""
    client_machine: str | None = None
    database_product: str | None = None
    connection: str | None = None
    database_user: str | None = None

    def schema(self, name: str) -> Schema | None:
        return next((s for s in self.schemas if s.name == name), None)


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kids(el: Any, name: str) -> list[Any]:
    return [k for k in el if _local(k) == name]


def _kid(el: Any, name: str) -> Any:
    return next((k for k in el if _local(k) == name), None)


def _text(el: Any, name: str) -> str | None:
    k = _kid(el, name)
    if k is None:
        return None
    text = "".join(k.itertext())
    return text if text.strip() else None


def _int(el: Any, name: str, where: str) -> int | None:
    text = _text(el, name)
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise SiardError(f"metadata.xml: {where}: <{name}> is {text!r}, not a number") from None


def _list(el: Any, outer: str, inner: str) -> list[Any]:
    holder = _kid(el, outer)
    return [] if holder is None else _kids(holder, inner)


def parse_xml(data: bytes, what: str) -> Any:
    """A hostile XML document parsed safely: no DTD, no entities, no network; a DOCTYPE refused."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SiardError(f"{what} is not well-formed XML ({exc})") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise SiardError(f"{what} carries a DOCTYPE (a DTD, where entity tricks come from); a SIARD file needs "
                         "none: refused as hostile")
    return root


def parse_metadata(data: bytes) -> Archive:
    root = parse_xml(data, "header/metadata.xml")
    if _local(root) != "siardArchive":
        raise SiardError(f"header/metadata.xml: the root element is <{_local(root)}>, not <siardArchive>: not "
                         "SIARD metadata")
    ns = etree.QName(root).namespace or ""
    family = NAMESPACES.get(ns)
    if family is None:
        raise SiardError(f"header/metadata.xml: namespace {ns!r} is none of SIARD 1.0's or 2.x's")
    version = (root.get("version") or "").strip() or family
    if family == "1.0" and version != "1.0" or family == "2" and version not in ("2.0", "2.1", "2.2"):
        raise SiardError(f"header/metadata.xml: version {version!r} in the namespace of SIARD {family}; uttrekk "
                         "reads SIARD 1.0, 2.0, 2.1 and 2.2")
    digests = []
    for d in _kids(root, "messageDigest"):
        if _kid(d, "digest") is not None:
            digests.append(((_text(d, "digestType") or "").strip(), (_text(d, "digest") or "").strip()))
        else:
            text = "".join(d.itertext()).strip()
            kind = next((k for k in ("SHA-256", "SHA-1", "SHA1", "MD5") if text.upper().startswith(k)), "")
            if text:
                digests.append((kind, text[len(kind):]))
    schemas = tuple(_schema(s) for s in _list(root, "schemas", "schema"))
    return Archive(version=version, dbname=_text(root, "dbname") or "", schemas=schemas,
                   description=_text(root, "description"), archiver=_text(root, "archiver"),
                   archiver_contact=_text(root, "archiverContact"), data_owner=_text(root, "dataOwner"),
                   data_origin_timespan=_text(root, "dataOriginTimespan"), lob_folder=_text(root, "lobFolder"),
                   producer=_text(root, "producerApplication"), archival_date=_text(root, "archivalDate"),
                   digests=tuple(digests), client_machine=_text(root, "clientMachine"),
                   database_product=_text(root, "databaseProduct"), connection=_text(root, "connection"),
                   database_user=_text(root, "databaseUser"))


def _schema(el: Any) -> Schema:
    name = _text(el, "name") or ""
    folder = _text(el, "folder") or ""
    where = f"schema {name}"
    tables = tuple(_table(t, where) for t in _list(el, "tables", "table"))
    views = tuple(View(_text(v, "name") or "", tuple(_column(c) for c in _list(v, "columns", "column")),
                       _text(v, "query"), _text(v, "queryOriginal"), _text(v, "description"),
                       _int(v, "rows", f"{where} view {_text(v, 'name')}")) for v in _list(el, "views", "view"))
    types = tuple(UserType(_text(t, "name") or "", _text(t, "category") or "", _text(t, "base"),
                           tuple(Attribute(_text(a, "name") or "", _text(a, "type"), _text(a, "typeSchema"),
                                           _text(a, "typeName"), _int(a, "cardinality", where),
                                           _text(a, "description")) for a in _list(t, "attributes", "attribute")),
                           _text(t, "description")) for t in _list(el, "types", "type"))
    return Schema(name, folder, tables, views, types, _text(el, "description"))


def _field(el: Any) -> Field:
    return Field(_text(el, "name") or "", _text(el, "lobFolder"), _text(el, "mimeType"), _text(el, "description"),
                 tuple(_field(f) for f in _list(el, "fields", "field")))


def _column(el: Any) -> Column:
    nullable = (_text(el, "nullable") or "true").strip().lower() not in ("false", "0")
    card = _text(el, "cardinality")
    return Column(name=_text(el, "name") or "", type=_text(el, "type"), type_original=_text(el, "typeOriginal"),
                  type_schema=_text(el, "typeSchema"), type_name=_text(el, "typeName"), nullable=nullable,
                  default=_text(el, "defaultValue"), description=_text(el, "description"),
                  lob_folder=_text(el, "lobFolder"), mime_type=_text(el, "mimeType"),
                  cardinality=int(card) if card and card.strip().isdigit() else None,
                  fields=tuple(_field(f) for f in _list(el, "fields", "field")))


def _key(el: Any) -> Key:
    return Key(_text(el, "name") or "", tuple((c.text or "").strip() for c in _kids(el, "column")),
               _text(el, "description"))


def _table(el: Any, where: str) -> Table:
    name = _text(el, "name") or ""
    pk = _kid(el, "primaryKey")
    fks = []
    for f in _list(el, "foreignKeys", "foreignKey"):
        refs = _kids(f, "reference")
        fks.append(ForeignKey(_text(f, "name") or "", _text(f, "referencedSchema") or "",
                              _text(f, "referencedTable") or "", tuple((_text(r, "column") or "").strip() for r in refs),
                              tuple((_text(r, "referenced") or "").strip() for r in refs), _text(f, "matchType"),
                              _text(f, "deleteAction"), _text(f, "updateAction"), _text(f, "description")))
    checks = tuple(Check(_text(c, "name") or "", _text(c, "condition") or "", _text(c, "description"))
                   for c in _list(el, "checkConstraints", "checkConstraint"))
    return Table(name=name, folder=_text(el, "folder") or "",
                 columns=tuple(_column(c) for c in _list(el, "columns", "column")),
                 rows=_int(el, "rows", f"{where} table {name}"), description=_text(el, "description"),
                 primary_key=_key(pk) if pk is not None else None,
                 candidate_keys=tuple(_key(k) for k in _list(el, "candidateKeys", "candidateKey")),
                 foreign_keys=tuple(fks), checks=checks)
