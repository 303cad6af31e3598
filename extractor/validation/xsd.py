"""U.01: addml.xml against the ADDML schema of its version, always the bundled copy (an ADDMML 7
description against the bundled ADDMML 7.3 DTD, never the DTD its DOCTYPE names).

The version comes from the document: the ``content/addml.xsd`` shipped beside it (Arkade 5
validates against that file when present; it is recognised by content, never loaded, since a
schema from the input could import anything), else 8.3 when the document uses 8.3's
``headerLevel``, else 8.3 unless only 8.2 accepts it (8.3 forbids a field in two keys, which
relational extracts often need; uttrekk then writes 8.2).
"""

from __future__ import annotations

from importlib import resources

from lxml import etree

from ..addml import schema, schema_bytes
from .addml_model import Addml
from .findings import ERROR, INFO, WARNING, Findings
from .source import ADDML_XSD, Source

MAX_XSD_BYTES = 10 * 1024 * 1024


def _errors(tree: etree._ElementTree, version: str) -> list[etree._LogEntry]:
    xsd = schema(version)
    if xsd.validate(tree):
        return []
    return list(xsd.error_log)


def check_schema(tree: etree._ElementTree, doc: Addml, source: Source, findings: Findings) -> str:
    """Validate; report each schema error under U.01; return the version used."""
    findings.ran("U.01")
    version = None
    entry = source.entry(ADDML_XSD)
    if entry is not None and entry.regular and entry.size <= MAX_XSD_BYTES:
        shipped = source.read_small(ADDML_XSD, MAX_XSD_BYTES)
        for v in ("8.3", "8.2"):
            if shipped == schema_bytes(v):
                version = v
        if version is None:
            version = "8.3" if b"headerLevel" in shipped else "8.2"
            findings.add("U.01", WARNING, f"content/addml.xsd is not Arkivverket's ADDML {version} schema byte for byte; "
                                          f"Arkade 5 validates against it, this check against the published {version}")
    if version is None:
        version = "8.3"
        if not doc.has_header_level and _errors(tree, "8.3") and not _errors(tree, "8.2"):
            version = "8.2"
            findings.add("U.01", INFO, "valid against ADDML 8.2, not 8.3 (8.3 allows a field in only one key); "
                                       "checked as 8.2")
    for err in _errors(tree, version):
        findings.add("U.01", ERROR, f"line {err.line}: {err.message}", file="addml.xml")
    return version


def check_dtd(tree: etree._ElementTree, findings: Findings, name: str = "addmml.xml") -> None:
    """U.01 for ADDMML 7: the description against the bundled ``addmml-7.3.dtd``; each error with its line."""
    findings.ran("U.01")
    with resources.files("extractor.schemas").joinpath("addmml-7.3.dtd").open("rb") as fh:
        dtd = etree.DTD(fh)
    if not dtd.validate(tree):
        for err in dtd.error_log:
            findings.add("U.01", ERROR, f"line {err.line}: {err.message} (ADDMML 7.3 DTD)", file=name)
