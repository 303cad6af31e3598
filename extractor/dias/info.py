"""``{uuid}.xml``: the info file (submission description) that travels beside the tar.

Standard METS namespace per ``submissionDescription.xsd``, in the form Arkade 5 writes and reads:
the same header agents as dias-mets.xml (Arkade tells a tar's archive type from the
OTHER/PRODUCER/OTHER/SOFTWARE agent's "Fagsystem" note in this file), the period, and the tar's
SHA-256, size and name, which is how a depot checks the delivery arrived whole.
"""

from __future__ import annotations

from lxml.builder import ElementMaker

from . import schemas
from .inventory import Entry
from .metadata import PackageMetadata
from .mets import PROFILE, file_attributes, header, locator
from .xmlout import XLINK, XSI, serialize

NS = "http://www.loc.gov/METS/"
SCHEMA_URL = "https://schema.arkivverket.no/INFOFIL/latest/submissionDescription.xsd"
"""Where Arkade's info files point (``MetsPartial.cs``)."""

I = ElementMaker(namespace=NS, nsmap={"mets": NS, "xlink": XLINK, "xsi": XSI})  # noqa: E741


def info_document(md: PackageMetadata, tar: Entry, dias_mets: Entry) -> bytes:
    files = [I.file(I.FLocat(locator(tar.name)), file_attributes(tar, "fileId_0", "application/x-tar", md.created)),
             I.file(I.FLocat(locator(dias_mets.name)),
                    file_attributes(dias_mets, "fileId_1", "application/xml", md.created))]
    doc = I.mets(header(I, md, None), I.fileSec(I.fileGrp(*files, ID="fileGroup001", USE="FILES")),
                 I.structMap(I.div()), OBJID=md.objid, LABEL=md.label, TYPE="SIP", PROFILE=PROFILE)
    doc.set(f"{{{XSI}}}schemaLocation", f"{NS} {SCHEMA_URL}")
    schemas.check(doc, schemas.INFO, "info file")
    return serialize(doc)
