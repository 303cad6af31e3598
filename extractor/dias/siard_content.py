"""A SIARD extract as the content of a DIAS package, the way Arkade 5 packs one.

Arkade puts the ``.siard`` file (and any large objects stored beside it) in ``content/`` and copies
the SIARD file's ``header/metadata.xml`` and ``header/metadata.xsd`` into
``administrative_metadata/``; there is no addml.xml. The info file's producer agent says
``SIARD``, which is how Arkade tells a SIARD package from a tar (its ``ArchiveTypeIdentifier``).

The SIARD file is read as untrusted input even though uttrekk wrote it: only the two header
members are read, each up to a bound, through ``zipfile`` (no extraction to disk), and
metadata.xml is parsed without entities or network.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from ..errors import ConfigError

HEADER_MEMBERS = ("header/metadata.xml", "header/metadata.xsd")
MAX_HEADER_BYTES = 64 << 20
"""The most read of one header member; metadata.xml of a database with thousands of tables stays far below."""
NS = "{http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd}"
NOT_GIVEN = "(ikke oppgitt)"


def find_siard(extract_dir: Path) -> Path | None:
    """The extract's SIARD file, when its content is one (no addml.xml, one ``*.siard`` in content/)."""
    content = extract_dir / "content"
    if (content / "addml.xml").exists() or not content.is_dir():
        return None
    found = sorted(p for p in content.iterdir() if p.suffix.lower() == ".siard")
    if not found:
        return None
    if len(found) > 1:
        raise ConfigError(f"{content}: holds {len(found)} SIARD files ({', '.join(p.name for p in found)}); a "
                          "package carries one database")
    if found[0].is_symlink() or not found[0].is_file():
        raise ConfigError(f"{found[0]}: not a plain file")
    return found[0]


def header_member(siard: Path, name: str) -> bytes:
    """One header member of the SIARD file, read with a bound; a clear error when it is missing or broken."""
    try:
        with zipfile.ZipFile(siard) as zf:
            try:
                info = zf.getinfo(name)
            except KeyError:
                raise ConfigError(f"{siard}: has no {name}; not a SIARD file uttrekk wrote") from None
            if info.file_size > MAX_HEADER_BYTES:
                raise ConfigError(f"{siard}: {name} claims {info.file_size} bytes, more than the "
                                  f"{MAX_HEADER_BYTES >> 20} MiB a header may have")
            with zf.open(info) as fh:
                data = fh.read(MAX_HEADER_BYTES + 1)
    except (OSError, zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ConfigError(f"{siard}: cannot be read as a ZIP file ({exc})") from None
    if len(data) > MAX_HEADER_BYTES:
        raise ConfigError(f"{siard}: {name} is larger than the {MAX_HEADER_BYTES >> 20} MiB a header may have")
    return data


def siard_reference(siard: Path) -> dict[str, str]:
    """What metadata.xml says about the database (section 5.1), '' for what it leaves out."""
    try:
        root = etree.fromstring(header_member(siard, HEADER_MEMBERS[0]),
                                etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False))
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{siard}: header/metadata.xml is not well-formed XML ({exc})") from None
    if root.tag != f"{NS}siardArchive":
        raise ConfigError(f"{siard}: header/metadata.xml is not SIARD 2 metadata (root element {root.tag})")

    def text(tag: str) -> str:
        value = (root.findtext(f"{NS}{tag}") or "").strip()
        return "" if value == NOT_GIVEN else value

    return {"version": root.get("version", ""), "dbname": text("dbname"), "dataOwner": text("dataOwner"),
            "dataOriginTimespan": text("dataOriginTimespan"), "archivalDate": text("archivalDate"),
            "description": text("description")}
