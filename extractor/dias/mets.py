"""``dias-mets.xml``: the package's inventory, every file with size, SHA-256, MIME type and date.

Written in Arkivverket's DIAS METS namespace (``DIAS_METS.xsd``, as current Arkade 5 writes it) and
streamed to disk file by file, so its size does not limit the number of files a package can hold.
It lists every file in the package except itself (a file cannot hold its own checksum); the info
file beside the tar carries dias-mets.xml's checksum.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from . import schemas
from .inventory import Entry
from .metadata import Agent, PackageMetadata, alt_record_ids, header_agents
from .xmlout import XLINK, XSI, emit, validate_file

NS = "http://arkivverket.no/standarder/METS"
NSMAP = {"mets": NS, "xlink": XLINK, "xsi": XSI}
PROFILE = "http://xml.ra.se/METS/RA_METS_eARD.xml"
"""The METS profile attribute Arkade writes in every DIAS METS file."""

FILE_NAME = "dias-mets.xml"
XSD_NAME = "dias-mets.xsd"

DIAS_MIME_TYPES = {
    ".txt": "text/plain", ".csv": "text/plain", ".tsv": "text/plain", ".dat": "text/plain",
    ".json": "text/plain", ".log": "text/plain", ".md": "text/plain", ".html": "text/plain",
    ".xml": "application/xml", ".xsd": "application/xml",
    ".pdf": "image/pdf", ".jpg": "image/jpg", ".jpeg": "image/jpg", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".mp3": "audio/mp3", ".mpg": "video/mpg", ".mpeg": "video/mpg", ".tar": "application/x-tar",
}
"""File suffix -> MIME type from the closed list DIAS_METS.xsd allows (it has no image/png, no
application/octet-stream, no text/html: a web page, plain text with markup, is text/plain); DIAS's own
spellings (image/pdf, image/jpg) are kept."""

FALLBACK_MIME_TYPE = "text/plain"
"""For a format DIAS has no value for; the real format of a LOB file is in the extract's LOB list."""

M = ElementMaker(namespace=NS, nsmap={"mets": NS})


def mime_type(name: str) -> str | None:
    """The DIAS MIME type for a file name, or None when DIAS's list has none for it."""
    suffix = Path(name).suffix.lower()
    return DIAS_MIME_TYPES.get(suffix)


def agent_elements(maker: ElementMaker, agents: Sequence[Agent]) -> list[Any]:
    out = []
    for a in agents:
        attrs = {"ROLE": a.role}
        if a.other_role:
            attrs["OTHERROLE"] = a.other_role
        attrs["TYPE"] = a.type
        if a.other_type:
            attrs["OTHERTYPE"] = a.other_type
        out.append(maker.agent(maker.name(a.name), *(maker.note(n) for n in a.notes), attrs))
    return out


def header(maker: ElementMaker, md: PackageMetadata, document_id: str | None) -> Any:
    parts = agent_elements(maker, header_agents(md))
    parts += [maker.altRecordID(value, TYPE=kind) for kind, value in alt_record_ids(md)]
    if document_id:
        parts.append(maker.metsDocumentID(document_id))
    return maker.metsHdr(*parts, CREATEDATE=md.created)


def file_attributes(entry: Entry, file_id: str, mime: str, created: str) -> dict[str, str]:
    return {"ID": file_id, **_core(entry, mime, created), "USE": "Datafile"}


def locator(name: str) -> dict[str, str]:
    """FLocat/mdRef location as Arkade writes it: a 'file:' URL relative to the package root."""
    return {"LOCTYPE": "URL", f"{{{XLINK}}}type": "simple", f"{{{XLINK}}}href": f"file:{name}"}


def write_mets(path: Path, md: PackageMetadata, entries: Sequence[Entry], addml: Entry, premis: Entry) -> list[str]:
    """Write dias-mets.xml for ``entries`` (sorted); returns the names written with the fallback MIME type."""
    fallback: list[str] = []
    root_attrs = {"OBJID": md.objid, "LABEL": md.label, "TYPE": "SIP", "PROFILE": PROFILE,
                  f"{{{XSI}}}schemaLocation": f"{NS} {XSD_NAME}"}
    md_ref = {"MDTYPE": "OTHER", "OTHERMDTYPE": md.description_type, "MDTYPEVERSION": md.addml_version}
    # DIAS's closed list of metadata types has ADDML but not SIARD: a SIARD package's metadata.xml is
    # listed as a file (administrative_metadata/) with no techMD, as Arkade packs SIARD
    tech = ([M.techMD(M.mdRef({**locator(addml.name), **md_ref, **_core(addml, "application/xml", md.created)}),
                      ID="techMD001")] if md.description_type == "ADDML" else [])
    amd = M.amdSec(
        *tech,
        M.digiprovMD(M.mdRef({**locator(premis.name), "MDTYPE": "PREMIS", "MDTYPEVERSION": "2.0",
                              **_core(premis, "application/xml", md.created)}), ID="digiprovMD001"),
        ID="amdSec001")
    with open(path, "wb") as f:
        _write_document(f, md, entries, root_attrs, amd, fallback)
        f.write(b"\n")
    validate_file(path, schemas.METS, FILE_NAME)
    return fallback


def _write_document(f: Any, md: PackageMetadata, entries: Sequence[Entry], root_attrs: dict[str, str], amd: Any,
                    fallback: list[str]) -> None:
    with etree.xmlfile(f, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{NS}}}mets", root_attrs, nsmap=NSMAP):
            emit(xf, header(M, md, FILE_NAME), 1)
            emit(xf, amd, 1)
            xf.write("\n  ")
            with xf.element(f"{{{NS}}}fileSec"):
                xf.write("\n    ")
                with xf.element(f"{{{NS}}}fileGrp", {"ID": "fileGroup001", "USE": "FILES"}):
                    for number, entry in enumerate(entries, start=1):
                        mime = mime_type(entry.name)
                        if mime is None:
                            fallback.append(entry.name)
                        element = M.file(M.FLocat(locator(entry.name)),
                                         file_attributes(entry, f"fileId_{number}", mime or FALLBACK_MIME_TYPE,
                                                         md.created))
                        emit(xf, element, 3)
                    xf.write("\n    ")
                xf.write("\n  ")
            emit(xf, M.structMap(M.div()), 1)
            xf.write("\n")


def _core(entry: Entry, mime: str, created: str) -> dict[str, str]:
    return {"MIMETYPE": mime, "SIZE": str(entry.size), "CREATED": created, "CHECKSUM": entry.sha256,
            "CHECKSUMTYPE": "SHA-256"}
