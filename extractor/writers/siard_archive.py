"""The SIARD 2.2 file: ``header/metadata.xml`` and the ZIP that holds it with the table files.

The tables were written one by one into the staging folder (so they resume like any other
format); this joins them, in plan order, into one ZIP64 file with ``zipfile``'s streaming writes,
a chunk at a time (memory stays flat whatever the size). Members come in a fixed order with a
fixed time stamp and fixed attributes, so the same tables give the same bytes on a rerun.

The message digest (SHA-256 of the bytes from offset 0 up to the ``header/`` entry, as the
specification's recommendation for ``messageDigest`` says) needs the content part finished; it is
read back from the file once the ``header/`` entry is placed, then metadata.xml is written with it.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from lxml import etree
from lxml.builder import ElementMaker

from .. import schemas
from ..errors import ExtractionError
from .siard_table import VERSION, sql_type, table_folder

if TYPE_CHECKING:
    from ..plan import Plan, TablePlan

METADATA_NS = "http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
METADATA_XSD = "siard-2.2-metadata.xsd"
"""The bundled SIARD 2.2 metadata schema (byte for byte the DILCIS Board's), copied in as header/metadata.xsd."""

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every member's time stamp: fixed, so a rerun gives the same bytes (the archival date is in metadata.xml)."""
CHUNK = 1 << 20
NOT_GIVEN = "(ikke oppgitt)"


@dataclass(frozen=True)
class Member:
    """A staged file that goes into the SIARD file under ``name``."""

    name: str
    path: Path


@dataclass(frozen=True)
class ArchiveInfo:
    """The database-level metadata (section 5.1)."""

    dbname: str
    data_owner: str
    timespan: str
    archival_date: str
    producer: str
    schema_name: str
    description: str = ""
    archiver: str = ""
    database_product: str = ""


def _text(value: str) -> str:
    return value if value.strip() else NOT_GIVEN


def metadata_document(plan: Plan, info: ArchiveInfo, rows: dict[str, int], digest: str) -> bytes:
    """metadata.xml, validated against the bundled SIARD 2.2 schema (a failure is a bug, never published)."""
    E = ElementMaker(namespace=METADATA_NS, nsmap={None: METADATA_NS, "xsi": XSI})
    top = [E.dbname(_text(info.dbname))]
    if info.description:
        top.append(E.description(info.description))
    if info.archiver:
        top.append(E.archiver(info.archiver))
    top += [E.dataOwner(_text(info.data_owner)), E.dataOriginTimespan(_text(info.timespan)),
            E.producerApplication(info.producer), E.archivalDate(info.archival_date),
            E.messageDigest(E.digestType("SHA-256"), E.digest(digest))]
    if info.database_product:
        top.append(E.databaseProduct(info.database_product))
    tables = [_table(E, plan, tp, i, rows[tp.name], info.schema_name) for i, tp in enumerate(plan.tables)]
    schema = [E.name(info.schema_name), E.folder("schema0")]
    if tables:
        schema.append(E.tables(*tables))
    root = E.siardArchive(*top, E.schemas(E.schema(*schema)), E.users(), version=VERSION)
    root.set(f"{{{XSI}}}schemaLocation", f"{METADATA_NS} metadata.xsd")
    etree.indent(root, space="  ")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    check = schemas.schema(METADATA_XSD)
    doc = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))
    if not check.validate(doc):
        raise ExtractionError(f"metadata.xml is not valid SIARD 2.2 (a bug): {check.error_log.last_error}")
    return data


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _names(tp: TablePlan) -> dict[str, str]:
    """Source column -> its column's name in the SIARD table (a field renamed for a letter-case clash keeps its column)."""
    return {f.column: f.name for f in tp.fields if f.role in ("value", "clob", "lobpath") and f.column} | {
        f.name: f.name for f in tp.fields if f.role == "surrogate"}


def _table(E: ElementMaker, plan: Plan, tp: TablePlan, index: int, rows: int, schema_name: str) -> etree._Element:
    names = _names(tp)
    columns = []
    for f in tp.fields:
        col = tp.source.column(f.column) if tp.source is not None and f.column and f.role != "surrogate" else None
        parts = [E.name(f.name), E.type(sql_type(tp, f))]
        if col is not None and col.native_type:
            parts.append(E.typeOriginal(col.native_type))
        parts.append(E.nullable("false" if f.not_null else "true"))
        desc = f.description
        if f.codes:
            desc = _join(desc, "Kodeliste: " + "; ".join(f"{c} = {e}" for c, e in f.codes) + ".")
        if desc:
            parts.append(E.description(desc))
        columns.append(E.column(*parts))
    body = [E.name(tp.name), E.folder(table_folder(index))]
    desc = _join(tp.description, *(n[:1].upper() + n[1:] + "." for n in tp.notes))
    if desc:
        body.append(E.description(desc))
    body.append(E.columns(*columns))
    declared = tp.source is not None and tuple(tp.source.primary_key) == tuple(tp.primary_key) and not tp.key_note
    candidates: list[tuple[tuple[str, ...], str]] = []
    if tp.primary_key and (declared or tp.surrogate):
        pk = [E.name(f"PK_{tp.name}")]
        if tp.surrogate:
            pk.append(E.description(f"Nøkkel lagt til av uttrekket: {tp.key_note}."))
        body.append(E.primaryKey(*pk, *(E.column(names.get(c, c)) for c in tp.primary_key)))
    elif tp.primary_key:
        candidates.append((tp.primary_key, f"Kandidatnøkkel funnet av uttrekket: {tp.key_note}"))
    fks = []
    for n, fk in enumerate(tp.foreign_keys, 1):
        if fk.origin == "lobs":
            continue
        target = _names(plan.table(fk.ref_table))
        refs = [E.reference(E.column(names.get(c, c)), E.referenced(target.get(r, r))) for c, r in plan.key_pairs(fk)]
        fks.append(E.foreignKey(E.name(fk.name or f"FK_{tp.name}_{n}"), E.referencedSchema(schema_name),
                                E.referencedTable(fk.ref_table), *refs, E.description(_FK_ORIGIN[fk.origin])))
    if fks:
        body.append(E.foreignKeys(*fks))
    candidates += [(key, "Unik nøkkel deklarert i kilden.") for key in tp.alternate_keys]
    if candidates:
        body.append(E.candidateKeys(*(E.candidateKey(E.name(f"UK_{tp.name}_{i}"), E.description(d),
                                                     *(E.column(names.get(c, c)) for c in key))
                                      for i, (key, d) in enumerate(candidates, 1))))
    body.append(E.rows(str(rows)))
    return E.table(*body)


_FK_ORIGIN = {
    "source": "Fremmednøkkel deklarert i kilden; kontrollert mot dataene ved uttrekket.",
    "profile": ("Relasjonen er ikke deklarert i kilden, men bekreftet av en person i uttrekksprofilen og "
                "kontrollert mot dataene ved uttrekket (verdier uten mål står i uttrekksrapporten)."),
    "pointer": "Fysisk peker i kilden, skrevet om av uttrekket til nøkkelen i posten den peker på.",
    "group": "Repeterende gruppe flyttet av uttrekket til egen tabell; viser til posten gruppen kom fra.",
    "array": "Array-kolonne flyttet av uttrekket til egen tabell; viser til posten elementene kom fra.",
}


# -- the ZIP file -----------------------------------------------------------------------------------

def table_members(index: int, table_file: Path, xsd: bytes,
                  lobs: Iterable[Member]) -> Iterator[Member | tuple[str, bytes]]:
    """One table's members in their order: its folder, XML, XSD, then its LOB folders and files, as
    ``lobs`` yields them (a generator: a table of a million LOBs is never a list in memory)."""
    folder = f"content/schema0/{table_folder(index)}/"
    yield (folder, b"")
    yield Member(f"{folder}{table_folder(index)}.xml", table_file)
    yield (f"{folder}{table_folder(index)}.xsd", xsd)
    seen: set[str] = set()  # one per LOB column
    for lob in lobs:
        parent = lob.name.rsplit("/", 1)[0] + "/"
        if parent not in seen:
            seen.add(parent)
            yield (parent, b"")
        yield lob


def _info(name: str) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, ZIP_TIME)
    zi.create_system = 3
    if name.endswith("/"):
        zi.external_attr = (0o40755 << 16) | 0x10
        zi.compress_type = zipfile.ZIP_STORED
    else:
        zi.external_attr = 0o644 << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def _put(zf: zipfile.ZipFile, item: Member | tuple[str, bytes]) -> None:
    if isinstance(item, Member):
        zi = _info(item.name)
        zi.file_size = item.path.stat().st_size
        with item.path.open("rb") as src, zf.open(zi, "w", force_zip64=zi.file_size > 0x7FFFFFFF) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
    else:
        name, data = item
        zf.writestr(_info(name), data)


def write_siard(path: Path, tables: Iterable[Iterable[Member | tuple[str, bytes]]],
                metadata: Callable[[str], bytes]) -> str:
    """Write the SIARD file; ``metadata(digest)`` gives metadata.xml. Returns the message digest."""
    with path.open("w+b") as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            _put(zf, ("content/", b""))
            _put(zf, ("content/schema0/", b""))
            for members in tables:
                for item in members:
                    _put(zf, item)
            header_offset = fh.tell()
            _put(zf, ("header/", b""))
            digest = _digest(fh, header_offset)
            _put(zf, ("header/siardversion/", b""))
            _put(zf, (f"header/siardversion/{VERSION}/", b""))
            _put(zf, ("header/metadata.xml", metadata(digest)))
            _put(zf, ("header/metadata.xsd", schemas.schema_bytes(METADATA_XSD)))
    return digest


def _digest(fh: BinaryIO, end: int) -> str:
    """SHA-256 of the file's bytes before ``end``, read back in chunks; the position is kept."""
    here = fh.tell()
    h = hashlib.sha256()
    fh.seek(0)
    left = end
    while left:
        chunk = fh.read(min(CHUNK, left))
        if not chunk:
            break
        h.update(chunk)
        left -= len(chunk)
    fh.seek(here)
    return h.hexdigest()
