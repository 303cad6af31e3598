"""D.01-D.06: a DIAS package (``{uuid}.tar``) checked as a depot receives it, read in place.

What ``uttrekk package`` writes (docs/package.md) and Arkade 5 expects: a first entry ``{uuid}/``
named like the tar and holding everything; ``dias-mets.xml`` listing every other file with its
size and checksum, valid against DIAS_METS.xsd; ``administrative_metadata/dias-premis.xml`` valid
against DIAS_PREMIS.xsd; and beside the tar the info file ``{uuid}.xml`` (submissionDescription.xsd)
with the tar's and dias-mets.xml's size and checksum.

Every XML file is parsed without DTDs, entities or network; dias-mets.xml is validated while it
is streamed (a package may list millions of files). The schemas are the bundled copies, with
their XLink import answered from the bundled xlink.xsd (the same arrangement as
extractor/dias/schemas.py, which this stage may not import). Checksums come from one sequential
pass over the tar, which hashes each listed member and, when the info file asks for it, the whole
tar at the same time. Nothing is unpacked.
"""

from __future__ import annotations

import hashlib
import os
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import unquote

from lxml import etree

from ..errors import UnreadableInputError
from ..schemas import schema as dias_schema
from .findings import ERROR, WARNING, Findings
from .flatfile_read import HASHES
from .safety import MAX_ADDML_BYTES, _xml_text_for_scan, parse_xml
from .source import TarMember, TarSource
from .xml_read import dtd_in_prolog

DIAS_METS = "http://arkivverket.no/standarder/METS"
LOC_METS = "http://www.loc.gov/METS/"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
METS_FILE = "dias-mets.xml"
PREMIS_FILE = "administrative_metadata/dias-premis.xml"
REQUIRED = (METS_FILE, "dias-mets.xsd", PREMIS_FILE, "administrative_metadata/dias-premis.xsd", "descriptive_metadata",
            "content")
"""What DIAS requires in every SIP (Arkade's DiasValidator)."""
CHUNK = 1 << 20
MAX_LINES_BYTES = 100 * 1024 * 1024
"""dias-mets.xml up to this size is parsed a second time, whole, to give its schema errors line numbers."""
SHOWN_ERRORS = 200


@dataclass
class _MetsState:
    namespace: str | None = None
    refused: bool = False
    ended: bool = False


@dataclass(frozen=True)
class Listing:
    """One file dias-mets.xml (or the info file) lists: where, and what it should be."""

    path: str
    size: str | None
    checksum: str | None
    checksum_type: str | None
    where: str


class PackageCheck:
    """One DIAS package: its members relative to the root folder, and the findings."""

    def __init__(self, source: TarSource, findings: Findings) -> None:
        self.source = source
        self.findings = findings
        self.stem = source.path.stem
        self.root = source.root
        self.files: dict[str, TarMember] = {}
        self.folders: set[str] = set()
        for m in source.tar_members:
            if self.root and not m.name.startswith(self.root):
                continue
            rel = m.name[len(self.root):]
            if m.folder:
                self.folders.add(rel)
            elif rel:
                self.files[rel] = m
            parts = rel.split("/")
            self.folders.update("/".join(parts[:i]) for i in range(1, len(parts)))

    # --- D.01 ---

    def structure(self) -> bool:
        """D.01; False when the tar is not a DIAS package at all (the other D checks are then not run)."""
        self.findings.ran("D.01")
        if METS_FILE not in self.files and PREMIS_FILE not in self.files:
            self.findings.add("D.01", WARNING, f"no {METS_FILE} or {PREMIS_FILE}: not a DIAS package, so its METS and "
                                               "PREMIS were not checked (a depot takes a DIAS package, see docs/package.md)")
            return False
        members = self.source.tar_members
        first = members[0] if members else None
        if first is None or not first.folder or first.name != self.stem:
            shown = f"{first.name}{'/' if first.folder else ''}" if first else "nothing"
            self.findings.add("D.01", ERROR, f"the first entry is {shown!r}, not the folder {self.stem + '/'!r}: Arkade "
                                             "takes the package UUID from the tar's name and strips a first-entry root "
                                             "folder of that name")
        outside = [m.name for m in members if first is not None and m is not first and
                   not m.name.startswith(first.name + "/")]
        if first is not None and first.folder and outside:
            self.findings.add("D.01", ERROR, f"{len(outside)} entries lie outside the root folder {first.name + '/'!r}, "
                                             f"e.g. {outside[0]!r}")
        try:
            uuidlib.UUID(self.stem)
        except ValueError:
            self.findings.add("D.01", WARNING, f"the tar's name {self.stem!r} is not a UUID; DIAS names the package, its "
                                               "root folder and its info file by the package UUID")
        for name in REQUIRED:
            if name not in self.files and name not in self.folders:
                self.findings.add("D.01", ERROR, f"{name} is missing; DIAS requires it in every package", file=name)
        return True

    # --- D.02: dias-mets.xml, streamed ---

    def mets(self) -> list[Listing] | None:
        """Validate dias-mets.xml while reading its inventory; None when it cannot be read to the end."""
        self.findings.ran("D.02")
        member = self.files.get(METS_FILE)
        if member is None:
            return None
        tags = [f"{{{ns}}}{n}" for ns in (DIAS_METS, LOC_METS) for n in ("mets", "file", "mdRef")]
        # "internal", not False: with a schema attached, lxml 6.1's pull parser with resolve_entities=False
        # accepts a document cut short without an error. External entities stay unresolved either way.
        parser = etree.XMLPullParser(events=("start", "end"), tag=tags, schema=dias_schema("DIAS_METS.xsd"),
                                     resolve_entities="internal", load_dtd=False, no_network=True, huge_tree=False)
        listings: list[Listing] = []
        state = _MetsState()
        try:
            with self.source.open_at(member.offset, member.size) as stream:
                first = True
                while chunk := stream.read(CHUNK):
                    if first and dtd_in_prolog(_xml_text_for_scan(chunk[:65536])):
                        state.refused = True
                    first = False
                    if state.refused:
                        break
                    parser.feed(chunk)
                    self._inventory(parser.read_events(), listings, state)
                if not state.refused:
                    schema_errors = [e for e in parser.feed_error_log if e.domain_name == "SCHEMASV"]
                    try:
                        parser.close()
                    except etree.XMLSyntaxError:
                        if not state.ended:
                            raise  # not schema errors (those leave the document whole): it is cut short or broken
                    self._inventory(parser.read_events(), listings, state)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (exc.lineno, 0)
            self.findings.add("D.02", ERROR, f"dias-mets.xml is not well-formed XML at line {line}, column {column}: "
                                             f"{exc.msg}; the files it lists were not compared with the tar",
                              file=METS_FILE)
            return None
        if state.refused:
            self.findings.add("D.02", ERROR, "dias-mets.xml has a document type declaration (DTD or entities); refused, "
                                             "not read", file=METS_FILE)
            return None
        root_ns = state.namespace
        if root_ns is None:
            self.findings.add("D.02", ERROR, "dias-mets.xml is not a METS document (its root element is not mets in "
                                             f"{DIAS_METS}); the files it lists were not compared with the tar",
                              file=METS_FILE)
            return None
        if root_ns == LOC_METS:
            self.findings.add("D.02", WARNING, "dias-mets.xml is in the loc.gov METS namespace (as Arkade wrote it until "
                                               f"about 2020), not DIAS's {DIAS_METS}; not validated against DIAS_METS.xsd",
                              file=METS_FILE)
        elif schema_errors:
            self._schema_errors(member, schema_errors)
        return listings

    def _inventory(self, events: Iterator[tuple[str, Any]], listings: list[Listing], state: _MetsState) -> None:
        for event, el in events:
            name = etree.QName(el).localname
            if name == "mets":
                if event == "start" and el.getparent() is None:
                    docinfo = el.getroottree().docinfo
                    state.refused = state.refused or docinfo.internalDTD is not None or bool(docinfo.doctype)
                    state.namespace = etree.QName(el).namespace
                elif el.getparent() is None:
                    state.ended = True
                continue
            if event == "start" or state.refused or state.namespace is None:
                continue
            if name == "file":
                locat = next((c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == "FLocat"), None)
                href = locat.get(XLINK_HREF) if locat is not None else None
                where = "fileSec"
            else:
                href = el.get(XLINK_HREF)
                where = "amdSec"
            if href is None:
                self.findings.add("D.04", ERROR, f"a {name} element ({where}, ID {el.get('ID')!r}) has no xlink:href; "
                                                 "its file cannot be found", file=METS_FILE)
            else:
                listings.append(Listing(href, el.get("SIZE"), el.get("CHECKSUM"), el.get("CHECKSUMTYPE"), where))
            if name == "file":
                el.clear(keep_tail=True)
                while el.getprevious() is not None:
                    del el.getparent()[0]

    def _schema_errors(self, member: TarMember, streamed: list[Any]) -> None:
        """Report schema errors, with line numbers from a whole-document parse when the file is small enough."""
        located: list[Any] = []
        if member.size <= MAX_LINES_BYTES:
            with self.source.open_at(member.offset, member.size) as fh:
                data = fh.read()
            try:
                tree, _ = parse_xml(data, METS_FILE)
            except UnreadableInputError:
                tree = None
            schema = dias_schema("DIAS_METS.xsd")
            if tree is not None and not schema.validate(tree):
                located = list(schema.error_log)
        for e in (located or streamed)[:SHOWN_ERRORS]:
            where = f"line {e.line}: " if e.line else ""
            self.findings.add("D.02", ERROR, f"{where}{e.message} (DIAS_METS.xsd)", file=METS_FILE)
        if len(located or streamed) > SHOWN_ERRORS:
            self.findings.add("D.02", ERROR, f"... and {len(located or streamed) - SHOWN_ERRORS} more schema errors",
                              file=METS_FILE, count=len(located or streamed) - SHOWN_ERRORS)

    # --- D.03 and D.06: small documents ---

    def _small_document(self, check: str, label: str, data: bytes, schema: str) -> etree._ElementTree | None:
        try:
            tree, _ = parse_xml(data, label)
        except UnreadableInputError as exc:
            self.findings.add(check, ERROR, str(exc), file=label)
            return None
        xsd = dias_schema(schema)
        if not xsd.validate(tree):
            for e in list(xsd.error_log)[:SHOWN_ERRORS]:
                self.findings.add(check, ERROR, f"line {e.line}: {e.message} ({schema})", file=label)
        return tree

    def premis(self) -> None:
        self.findings.ran("D.03")
        member = self.files.get(PREMIS_FILE)
        if member is None:
            return
        if member.size > MAX_ADDML_BYTES:
            self.findings.add("D.03", ERROR, f"{member.size:,} bytes, over the {MAX_ADDML_BYTES >> 20} MB limit; not read",
                              file=PREMIS_FILE)
            return
        with self.source.open_at(member.offset, member.size) as fh:
            data = fh.read()
        tree = self._small_document("D.03", PREMIS_FILE, data, "DIAS_PREMIS.xsd")
        if tree is not None and etree.QName(tree.getroot()).namespace != "http://arkivverket.no/standarder/PREMIS":
            self.findings.add("D.03", WARNING, "dias-premis.xml is not in DIAS's PREMIS namespace", file=PREMIS_FILE)

    def info_file(self) -> tuple[list[Listing], list[Listing]] | None:
        """D.06, first part: the info file's validity; what it lists for the tar and for members of it.

        None when there is no info file or it cannot be parsed. Member paths are made relative to
        the package root, like dias-mets.xml's (``file:{uuid}/dias-mets.xml`` -> ``dias-mets.xml``).
        """
        self.findings.ran("D.06")
        path = self.source.path.with_name(f"{self.stem}.xml")
        label = path.name
        if not path.is_file():
            self.findings.add("D.06", WARNING, f"no info file {label} beside the tar; the tar's size and checksum cannot "
                                               "be checked (a depot needs it with the tar)", file=label)
            return None
        if path.stat().st_size > MAX_ADDML_BYTES:
            self.findings.add("D.06", ERROR, f"{label} is over the {MAX_ADDML_BYTES >> 20} MB limit; not read", file=label)
            return None
        tree = self._small_document("D.06", label, path.read_bytes(), "submissionDescription.xsd")
        if tree is None:
            return None
        tar_rows: list[Listing] = []
        member_rows: list[Listing] = []
        for el in tree.getroot().iter(f"{{{LOC_METS}}}file"):
            locat = el.find(f"{{{LOC_METS}}}FLocat")
            href = (locat.get(XLINK_HREF) if locat is not None else None) or ""
            name = href.removeprefix("file:")
            row = Listing(name, el.get("SIZE"), el.get("CHECKSUM"), el.get("CHECKSUMTYPE"), "fileSec")
            if name == self.source.path.name:
                tar_rows.append(row)
            elif self.root and name.startswith(self.root):
                member_rows.append(Listing(name[len(self.root):], row.size, row.checksum, row.checksum_type, label))
            elif name:
                member_rows.append(row)
        if not tar_rows:
            self.findings.add("D.06", ERROR, f"{label} does not list the tar (file:{self.source.path.name}) with its "
                                             "size and checksum", file=label)
        return tar_rows, member_rows

    # --- checksums: one pass over the tar ---

    def _path(self, href: str) -> str | None:
        """The package-relative path of an href (``file:content/SAK.txt``), or None when it points outside."""
        name = href[5:] if href.startswith("file:") else href
        while name.startswith("./"):
            name = name[2:]
        if name.startswith("/") or ".." in name.split("/") or "://" in name:
            return None
        if name not in self.files and unquote(name) in self.files:
            name = unquote(name)
        return name

    def hash_members(self, wanted: dict[str, set[str]], whole: set[str]) -> tuple[dict[tuple[str, str], str],
                                                                                 dict[str, str]]:
        """Digest per (member, hashlib name) for ``wanted``, and of the whole tar for each algorithm in ``whole``."""
        jobs = sorted(((self.files[p], p, algs) for p, algs in wanted.items() if p in self.files),
                      key=lambda j: j[0].offset)
        digests: dict[tuple[str, str], str] = {}
        tar_hashers = [hashlib.new(a) for a in sorted(whole)]
        with open(self.source.path, "rb") as fh:
            pos = 0
            for member, path, algs in jobs:
                if tar_hashers:
                    _copy(fh, member.offset - pos, tar_hashers)
                else:
                    fh.seek(member.offset)
                hashers = {a: hashlib.new(a) for a in algs}
                _copy(fh, member.size, [*hashers.values(), *tar_hashers])
                pos = member.offset + member.size
                for a, h in hashers.items():
                    digests[(path, a)] = h.hexdigest()
            if tar_hashers:
                _copy(fh, -1, tar_hashers)
        return digests, {a: h.hexdigest() for a, h in zip(sorted(whole), tar_hashers, strict=True)}

    # --- D.04, D.05, D.06 ---

    def compare(self, check: str, listing: Listing, digests: dict[tuple[str, str], str], label: str) -> None:
        path = self._path(listing.path)
        if path is None:
            self.findings.add(check, ERROR, f"{label} lists {listing.path!r}, which is not a path inside the package",
                              file=listing.path)
            return
        member = self.files.get(path)
        if member is None:
            what = "a folder, not a file" if path in self.folders else "not in the tar"
            self.findings.add(check, ERROR, f"listed in {label} ({listing.where}) but {what}", file=path)
            return
        self._match(check, listing, path, member.size, digests.get((path, _algorithm(listing) or "")), label)

    def _match(self, check: str, listing: Listing, path: str, size: int, digest: str | None, label: str) -> None:
        if listing.size is None or listing.size.strip() != str(size):
            self.findings.add(check, ERROR, f"{label} ({listing.where}) gives SIZE {listing.size!r}, the file has {size:,} bytes",
                              file=path, value=listing.size)
        if _algorithm(listing) is None:
            self.findings.add(check, ERROR, f"{label} gives CHECKSUMTYPE {listing.checksum_type!r}, which is missing or "
                                            "unknown; the checksum was not compared", file=path)
        elif (listing.checksum or "").strip().lower() != digest:
            self.findings.add(check, ERROR, f"{label} ({listing.where}) gives {listing.checksum_type} {listing.checksum!r}, "
                                            f"the file's is {digest}", file=path, value=listing.checksum)

    def unlisted(self, listings: list[Listing]) -> None:
        self.findings.ran("D.05")
        listed = {p for p in (self._path(x.path) for x in listings) if p is not None}
        for path in sorted(self.files):
            if path != METS_FILE and path not in listed:
                self.findings.add("D.05", ERROR, f"in the tar but not listed in {METS_FILE}", file=path)

    def info_matches(self, tar_rows: list[Listing], member_rows: list[Listing], digests: dict[tuple[str, str], str],
                     tar_digests: dict[str, str]) -> None:
        label = f"{self.stem}.xml"
        size = os.stat(self.source.path).st_size
        for x in tar_rows:
            self._match("D.06", x, self.source.path.name, size, tar_digests.get(_algorithm(x) or ""), label)
        for x in member_rows:
            self.compare("D.06", x, digests, label)


def _algorithm(listing: Listing) -> str | None:
    return HASHES.get((listing.checksum_type or "").strip().lower())


def _copy(fh: BinaryIO, size: int, sinks: list[Any]) -> None:
    """Read ``size`` bytes (-1: to the end) and feed them to every hasher in ``sinks``."""
    left = size
    while left != 0:
        data = fh.read(CHUNK if left < 0 else min(CHUNK, left))
        if not data:
            if left > 0:
                raise UnreadableInputError("the tar ends inside a member")
            return
        for s in sinks:
            s.update(data)
        if left > 0:
            left -= len(data)


def check_package(source: TarSource, findings: Findings) -> None:
    """Run D.01-D.06 on the tar ``source`` reads; findings go into ``findings``."""
    pkg = PackageCheck(source, findings)
    if not pkg.structure():
        return
    listings = pkg.mets()
    findings.ran("D.04")
    pkg.premis()
    info = pkg.info_file()
    tar_rows, member_rows = info if info is not None else ([], [])
    wanted: dict[str, set[str]] = {}
    for x in [*(listings or []), *member_rows]:
        path, algorithm = pkg._path(x.path), _algorithm(x)
        if path is not None and algorithm is not None:
            wanted.setdefault(path, set()).add(algorithm)
    whole = {a for a in (_algorithm(x) for x in tar_rows) if a is not None}
    digests, tar_digests = pkg.hash_members(wanted, whole)
    if listings is not None:
        for x in listings:
            pkg.compare("D.04", x, digests, METS_FILE)
        pkg.unlisted(listings)
    if info is not None:
        pkg.info_matches(tar_rows, member_rows, digests, tar_digests)
