"""Refuse hostile input before anything is read: tar tricks, XML entity tricks, absurd sizes.

An extract to validate comes from someone else. A tar may carry ``..`` or absolute names, links,
devices or headers that declare impossible sizes; an XML file may carry a DTD with external or
exponential entities. Each is refused with a clear message and exit code 2; nothing is ever
written to disk from the input.
"""

from __future__ import annotations

import re
import tarfile
from typing import BinaryIO

from lxml import etree

from ..errors import UnreadableInputError

MAX_ADDML_BYTES = 100 * 1024 * 1024
"""addml.xml larger than this is refused (real ones are a few MB)."""
MAX_MEMBER_BYTES = 1 << 40
"""No member may declare more than 1 TiB (the depot limit for a whole package)."""
MAX_META_BYTES = 1 << 20
"""pax and GNU long-name headers are read into memory; larger ones are refused."""

_DRIVE = re.compile(r"^[A-Za-z]:")
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


def _octal_size(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        n = field[0] & 0x7F
        for b in field[1:]:
            n = (n << 8) | b
        return n
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise UnreadableInputError(f"the tar has a header with an unreadable size field {text!r}") from None


def prescan_tar(fh: BinaryIO, total: int, label: str) -> int:
    """Walk the raw 512-byte headers (seeking over data) and refuse absurd ones; return the member count.

    Done before ``tarfile`` sees the file, because tarfile reads pax and long-name headers into
    memory whatever size they declare.
    """
    offset = 0
    count = 0
    while offset + 512 <= total:
        fh.seek(offset)
        header = fh.read(512)
        if len(header) < 512 or header == bytes(512):
            break
        size = _octal_size(header[124:136])
        kind = header[156:157]
        count += 1
        if kind == b"S":
            raise UnreadableInputError(f"{label}: contains a sparse member; refusing to read it")
        if kind in (b"x", b"g", b"L", b"K") and size > MAX_META_BYTES:
            raise UnreadableInputError(f"{label}: a pax or long-name header declares {size:,} bytes; refusing to read it")
        if size > MAX_MEMBER_BYTES or offset + 512 + size > total:
            raise UnreadableInputError(f"{label}: a member declares {size:,} bytes, more than the tar holds; "
                                       "refusing to read it")
        offset += 512 + (size + 511) // 512 * 512
    fh.seek(0)
    return count


def check_member(member: tarfile.TarInfo, label: str) -> str:
    """The member's name, normalised; refuse anything but plain files and folders at safe paths."""
    name = member.name
    if name.startswith("/") or _DRIVE.match(name) or "\\" in name:
        raise UnreadableInputError(f"{label}: member {name!r} has an absolute or Windows path; refusing to read the tar")
    while name.startswith("./"):
        name = name[2:]
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        raise UnreadableInputError(f"{label}: member {name!r} points outside the package (..); refusing to read the tar")
    if member.issym() or member.islnk():
        raise UnreadableInputError(f"{label}: member {name!r} is a {'symbolic' if member.issym() else 'hard'} link "
                                   f"(to {member.linkname!r}); refusing to read the tar")
    if member.ischr() or member.isblk() or member.isfifo():
        raise UnreadableInputError(f"{label}: member {name!r} is a device or FIFO; refusing to read the tar")
    if member.issparse() or not (member.isfile() or member.isdir()):
        raise UnreadableInputError(f"{label}: member {name!r} is not a plain file or folder; refusing to read the tar")
    if member.size > MAX_MEMBER_BYTES:
        raise UnreadableInputError(f"{label}: member {name!r} declares {member.size:,} bytes; refusing to read the tar")
    return name.rstrip("/")


def _xml_text_for_scan(data: bytes) -> str:
    """The document as text, well enough to look for markup declarations in any encoding."""
    head = data[:4]
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                       (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return data.decode(codec, errors="replace")
    if head[:2] == b"<\x00":
        return data.decode("utf-16-le", errors="replace")
    if head[:2] == b"\x00<":
        return data.decode("utf-16-be", errors="replace")
    return data.decode("latin-1")


def _check_size(data: bytes, label: str) -> None:
    if len(data) > MAX_ADDML_BYTES:
        raise UnreadableInputError(f"{label} is {len(data):,} bytes, over the {MAX_ADDML_BYTES // 2**20} MB limit; "
                                   "refusing to read it")


def _parse_tolerant(data: bytes, label: str) -> tuple[etree._ElementTree, list[str]]:
    """Parse with no entity resolved, no DTD loaded, no network and no attribute defaults; a document
    not valid in its declared encoding is read as ISO-8859-1, and a note says so."""
    notes: list[str] = []

    def parser(encoding: str | None = None) -> etree.XMLParser:
        return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                               huge_tree=False, encoding=encoding, attribute_defaults=False)

    try:
        tree = etree.ElementTree(etree.fromstring(data, parser()))
    except etree.XMLSyntaxError as exc:
        if "encod" not in str(exc).lower() and "utf-8" not in str(exc).lower():
            raise UnreadableInputError(f"{label} is not well-formed XML: {exc}") from None
        try:
            tree = etree.ElementTree(etree.fromstring(data, parser("iso-8859-1")))
        except etree.XMLSyntaxError as exc2:
            raise UnreadableInputError(f"{label} is not well-formed XML: {exc2}") from None
        notes.append(f"{label} is not valid in its declared encoding ({exc}); it was read as ISO-8859-1")
    return tree, notes


def parse_xml(data: bytes, label: str) -> tuple[etree._ElementTree, list[str]]:
    """Parse untrusted XML: no DTD, no entities, no network; return the tree and notes on its encoding."""
    _check_size(data, label)
    if _DTD.search(_xml_text_for_scan(data)):
        raise UnreadableInputError(f"{label} has a document type declaration (DTD or entities); refusing to read it. "
                                   "ADDML needs none, and a DTD can pull in files or expand without bound")
    tree, notes = _parse_tolerant(data, label)
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnreadableInputError(f"{label} has a document type declaration; refusing to read it")
    return tree, notes


_ADDMML_DOCTYPE = re.compile(r"""<!DOCTYPE\s+addmml\s+(?:SYSTEM\s+(?:"[^"<>\[\]]*"|'[^'<>\[\]]*')|PUBLIC\s+"""
                             r"""(?:"[^"<>\[\]]*"|'[^'<>\[\]]*')\s+(?:"[^"<>\[\]]*"|'[^'<>\[\]]*'))\s*>""")
_ROOT_ADDMML = re.compile(r"<addmml[\s>/]")


def is_addmml(data: bytes) -> bool:
    """Whether a description is ADDMML 7 (root ``addmml``), told from its first bytes before parsing."""
    head = _xml_text_for_scan(data[:65536])
    body = re.sub(r"<!--.*?-->|<\?.*?\?>", "", head, flags=re.DOTALL)
    first = re.search(r"<(?![!?])", body)
    return bool(first and _ROOT_ADDMML.match(body, first.start()))


def parse_addmml(data: bytes, label: str) -> tuple[etree._ElementTree, list[str]]:
    """Parse an ADDMML 7 description: like ``parse_xml``, but the one DOCTYPE ADDMML 7 files carry, naming the
    DTD by an external identifier only (``<!DOCTYPE addmml SYSTEM "addmml.dtd">``), is allowed and never
    followed: no DTD is loaded from the file's path or URL, no entity is defined or expanded, and an entity
    reference (which only that DTD could define) is refused."""
    _check_size(data, label)
    text = _xml_text_for_scan(data)
    declarations = list(_DTD.finditer(text))
    allowed = _ADDMML_DOCTYPE.search(text)
    if declarations and (len(declarations) > 1 or allowed is None or declarations[0].start() != allowed.start()):
        raise UnreadableInputError(f"{label} has a document type declaration with its own declarations (an internal "
                                   "DTD subset or entities); refusing to read it. An ADDMML 7 description may name its "
                                   "DTD (<!DOCTYPE addmml SYSTEM \"...\">), which is never read")
    tree, notes = _parse_tolerant(data, label)
    internal = tree.docinfo.internalDTD
    if internal is not None and (any(True for _ in internal.iterelements()) or any(True for _ in internal.iterentities())):
        raise UnreadableInputError(f"{label} has an internal DTD subset; refusing to read it")
    entity = next(tree.getroot().iter(etree.Entity), None)
    if entity is not None:
        raise UnreadableInputError(f"{label} refers to the entity {entity.text} (line {entity.sourceline}), which only "
                                   "a DTD could define; DTDs named by the input are never read, so it is refused")
    return tree, notes
