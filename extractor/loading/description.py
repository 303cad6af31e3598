"""The description of an extract read exactly as ``uttrekk validate`` reads it, for the load.

Through ``validation.description.read_description``, the one entry point for descriptions of
every age (ADDML 8.x, mended where it breaks the schema; ADDMML 7.x; older layouts), so what the
validation package learns to read reaches the load too.
"""

from __future__ import annotations

from lxml import etree

from ..validation.addml_model import Addml
from ..validation.description import read_description as read_any
from ..validation.source import Source


def read_description(source: Source) -> tuple[Addml, etree._Element, list[str]]:
    """The definitions, the root the prose is read from (the mended copy where mended) and notes on
    the document's encoding."""
    described = read_any(source)
    return described.doc, described.doc.root, described.notes
