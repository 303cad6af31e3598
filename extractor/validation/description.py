"""The description of an extract, whatever its age: ADDML 8.x (mended where it breaks the schema) or ADDMML 7.x.

One entry point for everything that reads extracts (``validate``, and ``load``): where the
description is (``Source.read_description``: ``content/addml.xml``, an ADDMML 7 ``addmml.xml``,
or the older layout's ``administrative_metadata/addml.xml``), parsed safely, and read into the
definitions of ``addml_model``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .addml_model import Addml
from .addml_read import read_addml
from .addmml_read import VERSION as ADDMML_VERSION
from .addmml_read import read_addmml
from .safety import is_addmml, parse_addmml, parse_xml
from .source import Source


@dataclass
class Description:
    doc: Addml
    """The definitions (``doc.kind``: ``addml`` or ``addmml``; ``doc.root``: the mended copy, if mended)."""
    tree: etree._ElementTree
    """The document as parsed (not mended)."""
    notes: list[str]
    """Notes on its encoding."""
    label: str
    """Where it was found (``content/addml.xml``...)."""

    @property
    def addmml_version(self) -> str | None:
        return ADDMML_VERSION if self.doc.kind == "addmml" else None


def read_description(source: Source) -> Description:
    """Find, parse and read the description of the extract ``source`` reads (UnreadableInputError if it cannot)."""
    data = source.read_description()
    if is_addmml(data):
        tree, notes = parse_addmml(data, source.description)
        return Description(read_addmml(tree.getroot()), tree, notes, source.description)
    tree, notes = parse_xml(data, source.description)
    return Description(read_addml(tree.getroot()), tree, notes, source.description)
