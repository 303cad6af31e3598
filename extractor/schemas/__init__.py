"""Bundled schemas and their offline loader, shared by the validator and the packager.

``DIAS_METS.xsd``, ``DIAS_PREMIS.xsd`` and ``submissionDescription.xsd`` (Arkivverket,
``arkivverket/schemas``) and ``xlink.xsd`` (the copy Arkade 5 bundles) sit byte for byte in this
folder with their licence notes; docs/package.md gives their sources. The three import XLink
from loc.gov; the resolver below answers that import from the bundled copy, so validation works
offline and never depends on a remote server.
"""


from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

XLINK_URL = "http://www.loc.gov/standards/xlink/xlink.xsd"

METS = "DIAS_METS.xsd"
PREMIS = "DIAS_PREMIS.xsd"
INFO = "submissionDescription.xsd"


def schema_bytes(name: str) -> bytes:
    """The bundled schema file, unchanged (it is copied into the package as dias-*.xsd)."""
    return resources.files("extractor.schemas").joinpath(name).read_bytes()


class _LocalXlink(etree.Resolver):
    """Serve the XLink import from the bundled copy instead of loc.gov."""

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        if system_url and system_url.rstrip("/").endswith("xlink.xsd"):
            return self.resolve_string(schema_bytes("xlink.xsd"), context)
        return None


@cache
def schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalXlink())
    doc = etree.fromstring(schema_bytes(name), parser, base_url=f"file:///uttrekk-bundled/{name}")
    return etree.XMLSchema(doc)
