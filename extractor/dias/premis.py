"""``administrative_metadata/dias-premis.xml``: the package as a preservation object.

PREMIS 2.0 in Arkivverket's DIAS namespace, as Arkade writes it: one object (the tar, identified
by the package UUID), plus what Arkade leaves out and a depot asks about first: the event that
made it (the extraction and packaging, with its time) and the agents behind it, linked by
identifier. The tar's own checksum cannot be inside the tar; it is in the info file.
"""

from __future__ import annotations

from lxml.builder import ElementMaker

from .. import __version__
from . import schemas
from .metadata import PackageMetadata
from .xmlout import XSI, serialize

NS = "http://arkivverket.no/standarder/PREMIS"
P = ElementMaker(namespace=NS, nsmap={"premis": NS, "xsi": XSI})

FILE_NAME = "administrative_metadata/dias-premis.xml"
XSD_NAME = "administrative_metadata/dias-premis.xsd"

ID_TYPE = "NO/RA"
"""Identifier type Arkade uses for the package object."""
LOCAL = "local"


def premis_document(md: PackageMetadata) -> bytes:
    agents = _agents(md)
    event_id = f"{md.uuid}-creation"
    obj = P.object(
        P.objectIdentifier(P.objectIdentifierType(ID_TYPE), P.objectIdentifierValue(md.uuid)),
        P.preservationLevel(P.preservationLevelValue("full")),
        P.objectCharacteristics(
            P.compositionLevel("0"),
            P.format(P.formatDesignation(P.formatName("tar"))),
            P.creatingApplication(P.creatingApplicationName("uttrekk"), P.creatingApplicationVersion(__version__),
                                  P.dateCreatedByApplication(md.created))),
        P.originalName(f"{md.uuid}.tar"),
        P.linkingEventIdentifier(P.linkingEventIdentifierType(LOCAL), P.linkingEventIdentifierValue(event_id)))
    obj.set(f"{{{XSI}}}type", "premis:file")
    event = P.event(
        P.eventIdentifier(P.eventIdentifierType(LOCAL), P.eventIdentifierValue(event_id)),
        P.eventType("Creation"),
        P.eventDateTime(md.created),
        P.eventDetail(_detail(md)),
        P.eventOutcomeInformation(P.eventOutcome("success")),
        *(P.linkingAgentIdentifier(P.linkingAgentIdentifierType(LOCAL), P.linkingAgentIdentifierValue(ident),
                                   P.linkingAgentRole(role)) for ident, role, _, _ in agents),
        P.linkingObjectIdentifier(P.linkingObjectIdentifierType(ID_TYPE), P.linkingObjectIdentifierValue(md.uuid)))
    agent_elements = [P.agent(P.agentIdentifier(P.agentIdentifierType(LOCAL), P.agentIdentifierValue(ident)),
                              P.agentName(name), P.agentType(kind)) for ident, _, name, kind in agents]
    doc = P.premis(obj, event, *agent_elements, version="2.0")
    doc.set(f"{{{XSI}}}schemaLocation", f"{NS} dias-premis.xsd")
    schemas.check(doc, schemas.PREMIS, "dias-premis.xml")
    return serialize(doc)


def _agents(md: PackageMetadata) -> list[tuple[str, str, str, str]]:
    """(identifier, role in the event, name, PREMIS agent type)."""
    agents = [("archive-creator", "archive creator", md.archive_creator, "organization"),
              ("submitter", "submitter", md.submitter, "organization"),
              ("system", "source system", _system(md), "software"),
              ("uttrekk", "extraction and packaging software", f"uttrekk {__version__}", "software")]
    return agents


def _system(md: PackageMetadata) -> str:
    return f"{md.system_name} {md.system_version}".strip()


def _detail(md: PackageMetadata) -> str:
    source = f"{_system(md)}" + (f" ({md.engine} database)" if md.engine else "")
    made_by = f"uttrekk {md.extract_tool_version}" if md.extract_tool_version else "uttrekk"
    return (f"Archival extract of {source} made by {made_by} (ADDML {md.addml_version} flat files), "
            f"packaged as a DIAS submission information package by uttrekk {__version__}.")
