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
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

from lxml import etree

from ..errors import UnreadableInputError
from ..schemas import schema as dias_schema
from .file_index import FILE, FOLDER, IndexedFile, blob, prefix_range, text
from .findings import ERROR, WARNING, Findings
from .flatfile_read import HASHES
from .safety import MAX_ADDML_BYTES, _xml_text_for_scan, parse_xml
from .source import TarSource
from .xml_read import dtd_in_prolog

OLD_INFO = "info.xml"
OLD_INFO_NS = "www.arkivverket.no/standarder/info"
"""The namespace of the info file before the METS one (2017); written without a scheme."""
OLD_INFO_PLACE = "sjekksummer"
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
LISTING_BATCH = 10_000
"""Listed files (and digests) gathered before they are written to the listings table."""


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
    """One DIAS package: its members relative to the root folder, and the findings.

    What dias-mets.xml and the info file list goes to a table beside the tar's member table
    (``listings``), with the digests the one pass over the tar computes (``digests``); the checks
    are joins of the three, so a package of a million files is checked in flat memory.
    """

    def __init__(self, source: TarSource, findings: Findings) -> None:
        self.source = source
        self.findings = findings
        self.stem = source.stem
        self.root = source.root
        self.index = source.index
        self.db = source.index.db
        self.info_label = f"{self.stem}.xml"
        self.db.execute("CREATE TABLE listings (seq INTEGER PRIMARY KEY, chk TEXT, label TEXT, place TEXT, href TEXT, "
                        "path BLOB, size TEXT, checksum TEXT, ctype TEXT, alg TEXT)")
        self.db.execute("CREATE TABLE digests (path BLOB, alg TEXT, hex TEXT, PRIMARY KEY (path, alg)) WITHOUT ROWID")
        self._rows: list[tuple[str, str, str, str, bytes | None, str | None, str | None, str | None, str | None]] = []

    def _file(self, rel: str) -> IndexedFile | None:
        """The member at ``rel`` (relative to the package root) when it is a file."""
        found = self.index.get(self.root + rel)
        return found if found is not None and found.kind == FILE else None

    def _exists(self, rel: str) -> bool:
        return self.index.get(self.root + rel) is not None or self.index.is_folder(self.root + rel)

    # --- D.01 ---

    def structure(self) -> bool:
        """D.01; False when the tar is not a DIAS package at all (the other D checks are then not run)."""
        self.findings.ran("D.01")
        if self._file(METS_FILE) is None and self._file(PREMIS_FILE) is None:
            self.findings.add("D.01", WARNING, f"no {METS_FILE} or {PREMIS_FILE}: not a DIAS package, so its METS and "
                                               "PREMIS were not checked (a depot takes a DIAS package, see docs/package.md)")
            return False
        first = self.source.first
        if first is None or not first.folder or first.name != self.stem:
            shown = f"{first.name}{'/' if first.folder else ''}" if first else "nothing"
            self.findings.add("D.01", ERROR, f"the first entry is {shown!r}, not the folder {self.stem + '/'!r}: Arkade "
                                             "takes the package UUID from the tar's name and strips a first-entry root "
                                             "folder of that name")
        if first is not None and first.folder and self.source.outside:
            self.findings.add("D.01", ERROR, f"{self.source.outside} entries lie outside the root folder "
                                             f"{first.name + '/'!r}, e.g. {self.source.outside_example!r}")
        try:
            uuidlib.UUID(self.stem)
        except ValueError:
            self.findings.add("D.01", WARNING, f"the tar's name {self.stem!r} is not a UUID; DIAS names the package, its "
                                               "root folder and its info file by the package UUID")
        for name in REQUIRED:
            if not self._exists(name):
                self.findings.add("D.01", ERROR, f"{name} is missing; DIAS requires it in every package", file=name)
        return True

    # --- what dias-mets.xml and the info file list ---

    def _list(self, check: str, label: str, listing: Listing) -> None:
        """Remember one listed file (in the listings table) for the checksum pass and the comparison."""
        path = self._path(listing.path)
        self._rows.append((check, label, listing.where, listing.path, None if path is None else blob(self.root + path),
                           listing.size, listing.checksum, listing.checksum_type, _algorithm(listing)))
        if len(self._rows) >= LISTING_BATCH:
            self._flush()

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        self.db.executemany("INSERT INTO listings (chk, label, place, href, path, size, checksum, ctype, alg) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    # --- D.02: dias-mets.xml, streamed ---

    def mets(self) -> bool:
        """Validate dias-mets.xml while listing its inventory; False when it cannot be read to the end
        (nothing it lists is then compared with the tar)."""
        self.findings.ran("D.02")
        member = self._file(METS_FILE)
        if member is None:
            return False
        listed = self._mets(member)
        if not listed:
            self._rows = []
            self.db.execute("DELETE FROM listings WHERE chk = 'D.04'")
        return listed

    def _mets(self, member: IndexedFile) -> bool:
        tags = [f"{{{ns}}}{n}" for ns in (DIAS_METS, LOC_METS) for n in ("mets", "file", "mdRef")]
        # "internal", not False: with a schema attached, lxml 6.1's pull parser with resolve_entities=False
        # accepts a document cut short without an error. External entities stay unresolved either way.
        parser = etree.XMLPullParser(events=("start", "end"), tag=tags, schema=dias_schema("DIAS_METS.xsd"),
                                     resolve_entities="internal", load_dtd=False, no_network=True, huge_tree=False)
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
                    self._inventory(parser.read_events(), state)
                if not state.refused:
                    schema_errors = [e for e in parser.feed_error_log if e.domain_name == "SCHEMASV"]
                    try:
                        parser.close()
                    except etree.XMLSyntaxError:
                        if not state.ended:
                            raise  # not schema errors (those leave the document whole): it is cut short or broken
                    self._inventory(parser.read_events(), state)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (exc.lineno, 0)
            self.findings.add("D.02", ERROR, f"dias-mets.xml is not well-formed XML at line {line}, column {column}: "
                                             f"{exc.msg}; the files it lists were not compared with the tar",
                              file=METS_FILE)
            return False
        if state.refused:
            self.findings.add("D.02", ERROR, "dias-mets.xml has a document type declaration (DTD or entities); refused, "
                                             "not read", file=METS_FILE)
            return False
        root_ns = state.namespace
        if root_ns is None:
            self.findings.add("D.02", ERROR, "dias-mets.xml is not a METS document (its root element is not mets in "
                                             f"{DIAS_METS}); the files it lists were not compared with the tar",
                              file=METS_FILE)
            return False
        if root_ns == LOC_METS:
            self.findings.add("D.02", WARNING, "dias-mets.xml is in the loc.gov METS namespace (as Arkade wrote it until "
                                               f"about 2020), not DIAS's {DIAS_METS}; not validated against DIAS_METS.xsd",
                              file=METS_FILE)
        elif schema_errors:
            self._schema_errors(member, schema_errors)
        return True

    def _inventory(self, events: Iterator[tuple[str, Any]], state: _MetsState) -> None:
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
                self._list("D.04", METS_FILE, Listing(href, el.get("SIZE"), el.get("CHECKSUM"), el.get("CHECKSUMTYPE"),
                                                      where))
            if name == "file":
                el.clear(keep_tail=True)
                while el.getprevious() is not None:
                    del el.getparent()[0]

    def _schema_errors(self, member: IndexedFile, streamed: list[Any]) -> None:
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
        member = self._file(PREMIS_FILE)
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

    def has_old_info_file(self) -> bool:
        """Whether the pre-METS info file (``info.xml``, or ``{uuid}.xml`` in its namespace) lies beside the tar."""
        for name in (f"{self.stem}.xml", OLD_INFO):
            path = self.source.path.with_name(name)
            if path.is_file():
                with path.open("rb") as fh:
                    return _is_old_info(fh.read(4096))
        return False

    def info_file(self) -> list[Listing] | None:
        """D.06, first part: the info file's validity; what it lists for the tar (returned) and for
        members of it (to the listings table, relative to the package root like dias-mets.xml's:
        ``file:{uuid}/dias-mets.xml`` -> ``dias-mets.xml``).

        None when there is no info file or it cannot be parsed.
        """
        self.findings.ran("D.06")
        path = self.source.path.with_name(f"{self.stem}.xml")
        old = self.source.path.with_name(OLD_INFO)
        if not path.is_file() and old.is_file():
            path = old  # the info file of the layout before 2017 was called info.xml
        label = path.name
        self.info_label = label
        if not path.is_file():
            self.findings.add("D.06", WARNING, f"no info file {label} beside the tar; the tar's size and checksum cannot "
                                               "be checked (a depot needs it with the tar)", file=label)
            return None
        if path.stat().st_size > MAX_ADDML_BYTES:
            self.findings.add("D.06", ERROR, f"{label} is over the {MAX_ADDML_BYTES >> 20} MB limit; not read", file=label)
            return None
        data = path.read_bytes()
        if _is_old_info(data):
            return self._old_info(label, data)
        tree = self._small_document("D.06", label, data, "submissionDescription.xsd")
        if tree is None:
            return None
        tar_rows: list[Listing] = []
        for el in tree.getroot().iter(f"{{{LOC_METS}}}file"):
            locat = el.find(f"{{{LOC_METS}}}FLocat")
            href = (locat.get(XLINK_HREF) if locat is not None else None) or ""
            name = href.removeprefix("file:")
            row = Listing(name, el.get("SIZE"), el.get("CHECKSUM"), el.get("CHECKSUMTYPE"), "fileSec")
            if name in (self.source.path.name, self.source.tar_name):
                tar_rows.append(row)
            elif self.root and name.startswith(self.root):
                self._list("D.06", label, Listing(name[len(self.root):], row.size, row.checksum, row.checksum_type,
                                                  label))
            elif name:
                self._list("D.06", label, row)
        if not tar_rows:
            self.findings.add("D.06", ERROR, f"{label} does not list the tar (file:{self.source.path.name}) with its "
                                             "size and checksum", file=label)
        return tar_rows

    def _old_info(self, label: str, data: bytes) -> list[Listing] | None:
        """The pre-METS info file (namespace ``www.arkivverket.no/standarder/info``): read for its checksums.

        No schema of it is published any more, so it is only parsed (safely); each ``sjekksummer/fil``
        (``filnavn``, ``sjekksum``, ``algoritme``) naming the tar is compared with the tar, the others
        with the member of that name. It gives no sizes.
        """
        try:
            tree, _ = parse_xml(data, label)
        except UnreadableInputError as exc:
            self.findings.add("D.06", ERROR, str(exc), file=label)
            return None
        self.source.layout.append(f"the pre-METS info file {label} (namespace {OLD_INFO_NS})")
        self.findings.add("D.06", WARNING, f"{label} is the info file of the DIAS layout before 2017 (namespace "
                                           f"{OLD_INFO_NS}), not a METS submissionDescription: Arkade 5 neither "
                                           "validates it nor tells the archive type from it; its checksums were "
                                           "compared", file=label)
        tar_rows: list[Listing] = []
        for fil in tree.getroot().iter(f"{{{OLD_INFO_NS}}}fil"):
            name = (fil.get("filnavn") or "").strip()
            row = Listing(name, None, fil.findtext(f"{{{OLD_INFO_NS}}}sjekksum"),
                          fil.findtext(f"{{{OLD_INFO_NS}}}algoritme"), OLD_INFO_PLACE)
            if name in (self.source.path.name, self.source.tar_name):
                tar_rows.append(row)
            elif name:
                rel = name[len(self.root):] if self.root and name.startswith(self.root) else name
                self._list("D.06", label, Listing(rel, None, row.checksum, row.checksum_type, OLD_INFO_PLACE))
        if not tar_rows:
            self.findings.add("D.06", WARNING, f"{label} gives no checksum for the tar ({self.source.tar_name})",
                              file=label)
        return tar_rows

    # --- checksums: one pass over the tar ---

    def _path(self, href: str) -> str | None:
        """The package-relative path of an href (``file:content/SAK.txt``), or None when it points outside."""
        name = href[5:] if href.startswith("file:") else href
        while name.startswith("./"):
            name = name[2:]
        if name.startswith("/") or ".." in name.split("/") or "://" in name:
            return None
        plain = unquote(name)
        if plain != name and self._file(name) is None and self._file(plain) is not None:
            name = plain
        return name

    def hash_members(self, whole: set[str]) -> dict[str, str]:
        """Hash every listed member with each algorithm it is listed with (into the digests table), and
        the whole tar with each algorithm in ``whole`` (returned), in one pass in tar order."""
        self._flush()
        self.db.execute("CREATE INDEX listings_path ON listings (path)")
        jobs = self.db.execute("SELECT m.name, m.offset, m.size, group_concat(DISTINCT l.alg) FROM listings l "
                               "JOIN members m ON m.name = l.path AND m.kind = ? WHERE l.alg IS NOT NULL "
                               "GROUP BY m.name ORDER BY m.offset", (FILE,))
        tar_hashers = [hashlib.new(a) for a in sorted(whole)]
        done: list[tuple[bytes, str, str]] = []
        with self.source.open_raw() as fh:
            pos = 0
            for name, offset, size, algs in jobs:
                if tar_hashers:
                    _copy(fh, offset - pos, tar_hashers)
                else:
                    fh.seek(offset)
                hashers = {a: hashlib.new(a) for a in algs.split(",")}
                _copy(fh, size, [*hashers.values(), *tar_hashers])
                pos = offset + size
                done += [(name, a, h.hexdigest()) for a, h in hashers.items()]
                if len(done) >= LISTING_BATCH:
                    self.db.executemany("INSERT INTO digests VALUES (?, ?, ?)", done)
                    done = []
            if tar_hashers:
                _copy(fh, -1, tar_hashers)
        self.db.executemany("INSERT INTO digests VALUES (?, ?, ?)", done)
        return {a: h.hexdigest() for a, h in zip(sorted(whole), tar_hashers, strict=True)}

    # --- D.04, D.05, D.06 ---

    def compare(self, check: str) -> None:
        """Every file listed for ``check`` against the member at its path, in the order they were listed."""
        rows = self.db.execute("SELECT l.label, l.place, l.href, l.path, l.size, l.checksum, l.ctype, m.kind, m.size, "
                               "d.hex FROM listings l LEFT JOIN members m ON m.name = l.path LEFT JOIN digests d "
                               "ON d.path = l.path AND d.alg = l.alg WHERE l.chk = ? ORDER BY l.seq", (check,))
        for label, place, href, full, size, checksum, ctype, kind, real_size, digest in rows:
            listing = Listing(href, size, checksum, ctype, place)
            if full is None:
                self.findings.add(check, ERROR, f"{label} lists {href!r}, which is not a path inside the package",
                                  file=href)
                continue
            path = text(full)[len(self.root):]
            if kind != FILE:
                what = "a folder, not a file" if kind == FOLDER or self.index.is_folder(self.root + path) else "not in the tar"
                self.findings.add(check, ERROR, f"listed in {label} ({place}) but {what}", file=path)
                continue
            self._match(check, listing, path, real_size, digest, label)

    def _match(self, check: str, listing: Listing, path: str, size: int, digest: str | None, label: str) -> None:
        if listing.where == OLD_INFO_PLACE:
            pass  # the pre-METS info file gives no sizes
        elif listing.size is None or listing.size.strip() != str(size):
            self.findings.add(check, ERROR, f"{label} ({listing.where}) gives SIZE {listing.size!r}, the file has {size:,} bytes",
                              file=path, value=listing.size)
        if _algorithm(listing) is None:
            self.findings.add(check, ERROR, f"{label} gives CHECKSUMTYPE {listing.checksum_type!r}, which is missing or "
                                            "unknown; the checksum was not compared", file=path)
        elif (listing.checksum or "").strip().lower() != digest:
            self.findings.add(check, ERROR, f"{label} ({listing.where}) gives {listing.checksum_type} {listing.checksum!r}, "
                                            f"the file's is {digest}", file=path, value=listing.checksum)

    def unlisted(self) -> None:
        """D.05: files under the package root that dias-mets.xml does not list, by name."""
        self.findings.ran("D.05")
        where, params = "", [FILE, blob(self.root + METS_FILE)]
        if self.root:
            where = "AND m.name >= ? AND m.name < ? "
            params += prefix_range(self.root)
        rows = self.db.execute("SELECT m.name FROM members m WHERE m.kind = ? AND m.name != ? " + where +
                               "AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.path = m.name AND l.chk = 'D.04') "
                               "ORDER BY m.name", params)
        for (name,) in rows:
            self.findings.add("D.05", ERROR, f"in the tar but not listed in {METS_FILE}", file=text(name)[len(self.root):])

    def info_matches(self, tar_rows: list[Listing], tar_digests: dict[str, str]) -> None:
        label = self.info_label
        for x in tar_rows:
            if self.source.compression is not None and x.path == self.source.path.name:
                # the info file names the compressed file itself: its own bytes are what it describes
                algorithm = _algorithm(x)
                digest = _file_digest(self.source.path, algorithm) if algorithm else None
                self._match("D.06", x, x.path, self.source.path.stat().st_size, digest, label)
                continue
            self._match("D.06", x, self.source.tar_name, self.source.size, tar_digests.get(_algorithm(x) or ""), label)
        self.compare("D.06")


def _is_old_info(data: bytes) -> bool:
    """Whether an info file is the pre-METS one, told by its root element's namespace (before parsing)."""
    head = _xml_text_for_scan(data[:4096])
    return f'"{OLD_INFO_NS}"' in head or f"'{OLD_INFO_NS}'" in head


def _file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as fh:
        _copy(fh, -1, [h])
    return h.hexdigest()


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
    dias = pkg.structure()
    if not dias and not pkg.has_old_info_file():
        return  # the 2016 layout had no METS, but its info file's checksum of the tar is still compared
    listed = False
    if dias:
        listed = pkg.mets()
        findings.ran("D.04")
        pkg.premis()
    tar_rows = pkg.info_file()
    whole = {a for a in (_algorithm(x) for x in tar_rows or [] if x.path != source.path.name or source.compression is None)
             if a is not None}
    tar_digests = pkg.hash_members(whole)
    if listed:
        pkg.compare("D.04")
        pkg.unlisted()
    if tar_rows is not None:
        pkg.info_matches(tar_rows, tar_digests)
