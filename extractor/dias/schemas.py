"""The DIAS schemas, bundled, and validation that never touches the network.

``DIAS_METS.xsd``, ``DIAS_PREMIS.xsd`` and ``submissionDescription.xsd`` (Arkivverket,
``arkivverket/schemas``) and ``xlink.xsd`` (the copy Arkade 5 bundles) sit byte for byte in
``extractor/schemas/`` with their licence notes; docs/package.md gives their sources. The three
import XLink from loc.gov; the resolver below answers that import from the bundled copy, so
validation works offline and never depends on a remote server.
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


def check(doc: Any, name: str, what: str) -> None:
    """Validate a document uttrekk wrote; a failure is a bug in uttrekk, not a user error."""
    xsd = schema(name)
    if not xsd.validate(doc):
        raise AssertionError(f"uttrekk wrote a {what} that does not validate against {name}: {xsd.error_log}")
