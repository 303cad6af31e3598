"""Small XML helpers shared by the METS, PREMIS and info writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from . import schemas

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XLINK = "http://www.w3.org/1999/xlink"


def emit(xf: Any, element: Any, depth: int) -> None:
    """Write a small element tree into an ``etree.xmlfile`` inside the open elements' namespaces.

    ``xmlfile.write(element)`` would repeat every namespace declaration on each element; nested
    ``xf.element`` contexts reuse the prefixes already declared, so a big file reads like a small one.
    """
    xf.write("\n" + "  " * depth)
    with xf.element(element.tag, dict(element.attrib)):
        if element.text:
            xf.write(element.text)
        children = list(element)
        for child in children:
            emit(xf, child, depth + 1)
        if children:
            xf.write("\n" + "  " * depth)


def validate_file(path: Path, name: str, what: str) -> None:
    """Validate a written file while streaming it, so a METS with a million files needs little memory."""
    try:
        for _, element in etree.iterparse(str(path), events=("end",), schema=schemas.schema(name),
                                          no_network=True, resolve_entities=False):
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"uttrekk wrote a {what} that does not validate against {name}: {exc}") from None


def serialize(doc: Any) -> bytes:
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8", pretty_print=True)
