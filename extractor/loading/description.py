"""addml.xml read exactly as ``uttrekk validate`` reads it, for the load.

One function, so that what the validation package learns to read (older layouts, other
description formats) reaches the load through one place: it must do what
``validation.run._validate`` does before its checks.
"""

from __future__ import annotations

from lxml import etree

from ..validation.addml_model import Addml
from ..validation.addml_read import read_addml
from ..validation.safety import parse_xml
from ..validation.source import ADDML, Source


def read_description(source: Source) -> tuple[Addml, etree._Element, list[str]]:
    """The definitions, the parsed root (for the descriptions' prose) and notes on the document's encoding."""
    tree, notes = parse_xml(source.read_small(ADDML), "content/addml.xml")
    doc = read_addml(tree.getroot())
    return doc, doc.root, notes
