"""The rows of a SIARD table, streamed from its table XML, every value typed and every LOB checked.

The table XML is parsed by ``lxml.etree.iterparse`` (entities unresolved, no DTD, no network; a
DOCTYPE refused), each ``<row>`` freed once read, so memory holds one row whatever the table's
size; with ``validate`` the same pass checks the file against its own XSD (``table<n>.xsd``
beside it, loaded with every import refused). A value is decoded by its SIARD type
(``types.decode``). A LOB kept in a file is read from the archive (its ``file`` a member path) or,
when a ``lobFolder`` applies, from outside it (``resolve_lob``), and checked against its
``length`` and ``digest``.

What does not match the metadata (a row count, a LOB missing, too long or with another digest, a
file not valid against its XSD, a cell for no column) is a ``Problem`` naming table, row and
column, given to ``on_problem``: the caller decides whether it stops the run or is reported.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

from lxml import etree

from . import metadata as md
from .archive import CHUNK, SiardError, SiardZip, _bad_name
from .layout import Leaf, leaves
from .types import decode, decoder

MAX_XSD_BYTES = 16 << 20
MAX_LOB_BYTES = 1 << 30
"""Largest LOB read into a value (SQLite holds at most 1 GB in one value)."""
DIGESTS = {"MD5": "md5", "SHA-1": "sha1", "SHA1": "sha1", "SHA-256": "sha256", "SHA256": "sha256"}


@dataclass(frozen=True)
class Problem:
    """Where a SIARD file does not match its metadata."""

    check: str
    """``rows``, ``xsd``, ``lob``, ``digest``, ``cell``."""
    table: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = ", ".join(p for p in (f"table {self.table}", f"row {self.row}" if self.row else "",
                                      f"column {self.column}" if self.column else "") if p)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class LobRef:
    file: str
    length: int | None
    digest: str | None
    digest_type: str | None


OnProblem = Callable[[Problem], None]


def table_member(schema: md.Schema, table: md.Table) -> str:
    return f"content/{schema.folder}/{table.folder}/{table.folder}.xml"


def xsd_member(schema: md.Schema, table: md.Table) -> str:
    return f"content/{schema.folder}/{table.folder}/{table.folder}.xsd"


class _NoFetch(etree.Resolver):
    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        raise SiardError(f"a schema in the SIARD file refers to {system_url!r}; uttrekk fetches nothing a SIARD file "
                         "names: refused as hostile")


def table_schema(archive: SiardZip, member: str) -> etree.XMLSchema:
    """A table's own XSD, parsed safely; one ``SiardError`` when it cannot be used."""
    from .metadata import parse_xml

    data = archive.read_small(member, MAX_XSD_BYTES)
    root = parse_xml(data, member)
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname in ("import", "include", "redefine", "override") \
                and el.get("schemaLocation"):
            raise SiardError(f"{member} imports {el.get('schemaLocation')!r}; uttrekk fetches nothing a SIARD file "
                             "names: refused as hostile")
    try:
        return etree.XMLSchema(root)
    except etree.XMLSchemaParseError as exc:
        raise SiardError(f"{member} is not a usable XML schema ({exc})") from None


class LobPlaces:
    """Where a LOB's ``file`` attribute points: a member of the archive, or a file outside it.

    A ``file`` with no ``lobFolder`` applying (neither the archive's nor the column's) is a path inside
    the ZIP. Otherwise it is a file: URI, resolved (RFC 3986) against the column's and then the archive's
    ``lobFolder``. SIARD says two things of what those are relative to, so both are tried, in this order:

    1. the SIARD file's own URI, as the Swiss Federal Archives' SIARD API reads it and as the 2.2
       specification's example of ``<lobFolder>./Northwind_lobs/</lobFolder>`` beside ``Northwind.siard``
       shows (``../lobs/`` is then the folder ``lobs`` beside the folder holding the SIARD file);
    2. the ZIP as a folder, as the 2.2 specification's note on ``lobFolder`` says ("the relative URI ``..``
       refers to the external folder, where the SIARD archive resides": ``../lobs/`` is then ``lobs``
       beside the SIARD file); a place that stays inside that folder is a member of the archive.

    The first that exists is read. Absolute URIs, other schemes and anything that resolves outside the
    folder above the SIARD file's are refused.
    """

    def __init__(self, siard: Path, archive_folder: str | None) -> None:
        self.file = siard.resolve()
        self.root = self.file.parent.parent
        self.archive_folder = archive_folder

    def places(self, ref: LobRef, folders: tuple[str, ...]) -> list[tuple[str, str | Path]]:
        """Where to look, in order: ``("member", name)`` or ``("file", path)``; ``SiardError`` for a
        reference refused."""
        if not folders and not self.archive_folder:
            name = unquote(ref.file.removeprefix("file:")).removeprefix("./")
            problem = _bad_name(name)
            if problem or "://" in ref.file:
                raise SiardError(f"the LOB file {ref.file!r} {problem or 'is not a path inside the archive'}")
            return [("member", name)]
        found: list[tuple[str, str | Path]] = []
        inside = self.file.as_uri() + "/"
        for base in (self.file.as_uri(), inside):
            for folder in (self.archive_folder, *folders):
                if folder:
                    base = self._join(base, folder if folder.endswith("/") else folder + "/")
            uri = self._join(base, ref.file)
            if uri.startswith(inside):
                name = unquote(uri[len(inside):])
                if not _bad_name(name):
                    found.append(("member", name))
                continue
            path = Path(unquote(urlparse(uri).path))
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(self.root):
                raise SiardError(f"the LOB file {ref.file!r} resolves to {path}, outside the folder above the SIARD "
                                 f"file ({self.root}); refused")
            if ("file", real) not in found:
                found.append(("file", real))
        return found

    @staticmethod
    def _join(base: str, ref: str) -> str:
        parsed = urlparse(ref)
        if parsed.scheme not in ("", "file") or (parsed.scheme == "file" and (parsed.netloc or ref.startswith(
                "file:/"))) or ref.startswith("/"):
            raise SiardError(f"the lobFolder or LOB file {ref!r} is an absolute URI; uttrekk reads LOBs only at "
                             "places relative to the SIARD file (make it relative)")
        return urljoin(base, ref.removeprefix("file:"))


class LobReader:
    """Reads and checks the LOBs a table's cells refer to."""

    def __init__(self, archive: SiardZip, places: LobPlaces) -> None:
        self.archive = archive
        self.places = places
        self.outside: dict[str, list[int] | None] = {}
        """Each LOB file looked for outside the archive: [size, mtime in ns], ``None`` when missing (so a
        copy of what was read can tell when those files changed)."""

    def read(self, leaf: Leaf, ref: LobRef, table: str, row: int, on_problem: OnProblem,
             keep: bool = True) -> bytes | str | None:
        """The LOB's value (bytes for binary, text for character LOBs); ``None`` and a problem when it
        is missing or does not match its length or digest. ``keep`` False: only checked."""
        col = leaf.name

        def bad(check: str, what: str) -> None:
            on_problem(Problem(check, table, what, row, col))

        try:
            candidates = self.places.places(ref, leaf.lob_folders)
        except SiardError as exc:
            bad("lob", str(exc))
            return None
        for where, place in candidates:
            if where == "file":
                self.outside[str(place)] = stamp(Path(place))
        where, place = next(((w, p) for w, p in candidates if (self.archive.has(str(p)) if w == "member"
                                                                 else Path(p).is_file())), candidates[0])
        algo = DIGESTS.get((ref.digest_type or "").upper()) if ref.digest else None
        if ref.digest and algo is None:
            bad("digest", f"digest type {ref.digest_type!r} is none uttrekk knows (MD5, SHA-1, SHA-256); not checked")
        h = hashlib.new(algo) if algo else None
        parts: list[bytes] = []
        size = 0
        try:
            if where == "member":
                assert isinstance(place, str)
                if not self.archive.has(place):
                    bad("lob", f"the LOB file {place} is not in the SIARD file")
                    return None
                opened: Any = self.archive.open(place)
            else:
                assert isinstance(place, Path)
                if not place.is_file():
                    looked = " or ".join(str(p) for _, p in candidates)
                    bad("lob", f"the LOB file {ref.file} is missing outside the SIARD file (looked for {looked})")
                    return None
                opened = open(place, "rb")  # noqa: SIM115 - closed by the with below
            with opened as fh:
                while data := fh.read(CHUNK):
                    size += len(data)
                    if h is not None:
                        h.update(data)
                    if keep:
                        if size > MAX_LOB_BYTES:
                            raise SiardError(f"table {table}, row {row}, column {col}: a LOB of more than "
                                             f"{MAX_LOB_BYTES:,} bytes, more than one value uttrekk holds")
                        parts.append(data)
        except OSError as exc:
            bad("lob", f"the LOB file {ref.file} cannot be read ({exc.strerror or exc})")
            return None
        if h is not None and ref.digest and h.hexdigest().upper() != ref.digest.strip().upper():
            bad("digest", f"the LOB file {ref.file} has {ref.digest_type} {h.hexdigest().upper()}; the table says "
                          f"{ref.digest.strip().upper()}")
            return None
        raw = b"".join(parts)
        if leaf.type.kind == "binary":
            if ref.length is not None and size != ref.length:
                bad("lob", f"the LOB file {ref.file} holds {size:,} bytes; the table says {ref.length:,}")
                return None
            return raw if keep else None
        if not keep:
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad("lob", f"the character LOB file {ref.file} is not UTF-8 (byte {exc.start})")
            return None
        if ref.length is not None and ref.length not in (len(text), size):
            bad("lob", f"the LOB file {ref.file} holds {len(text):,} characters ({size:,} bytes); the table says "
                       f"{ref.length:,}")
            return None
        return text


def stamp(path: Path) -> list[int] | None:
    """A file's size and modification time (ns), ``None`` when it is not a file: enough to tell that a LOB
    outside the archive changed since it was read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns] if path.is_file() else None


def _ref(el: Any) -> LobRef:
    length = el.get("length")
    try:
        n = int(length) if length is not None else None
    except ValueError:
        n = None
    return LobRef(el.get("file") or "", n, el.get("digest"), el.get("digestType"))


@dataclass(frozen=True)
class TableReading:
    schema: md.Schema
    table: md.Table
    leaves: tuple[Leaf, ...]
    member: str


def reading(meta: md.Archive, schema: md.Schema, table: md.Table) -> TableReading:
    return TableReading(schema, table, leaves(schema, table, f"schema {schema.name}, table {table.name}", meta),
                        table_member(schema, table))


def rows(archive: SiardZip, lobs: LobReader, tr: TableReading, on_problem: OnProblem, *, validate: bool = False,
         keep_lobs: bool = True) -> Iterator[list[object]]:
    """Each row's values in ``tr.leaves`` order (``None`` for NULL). At the end, a row count that
    differs from the metadata's is a problem. A file that is not well-formed is a ``SiardError``;
    with ``validate``, a file not valid against its XSD is a problem and reading goes on unvalidated."""
    name = tr.table.name
    if not archive.has(tr.member):
        on_problem(Problem("rows", name, f"the table file {tr.member} is not in the SIARD file"))
        return
    schema = None
    if validate:
        xsd = xsd_member(tr.schema, tr.table)
        if not archive.has(xsd):
            on_problem(Problem("xsd", name, f"the table's schema {xsd} is not in the SIARD file"))
        else:
            try:
                schema = table_schema(archive, xsd)
            except SiardError as exc:
                on_problem(Problem("xsd", name, str(exc)))
    by_path = {leaf.path: i for i, leaf in enumerate(tr.leaves)}
    count = 0
    try:
        for values in _parse(archive, tr, by_path, schema, lobs, on_problem, keep_lobs):
            count += 1
            yield values
    except _Invalid as exc:
        on_problem(Problem("xsd", name, f"{tr.member} is not valid against its schema: {exc.message}", exc.row or None))
        for values in _parse(archive, tr, by_path, None, lobs, on_problem, keep_lobs, skip=count):
            count += 1
            yield values
    if tr.table.rows is not None and count != tr.table.rows:
        on_problem(Problem("rows", name, f"{tr.member} holds {count:,} rows; metadata.xml says {tr.table.rows:,}"))


class _Invalid(Exception):
    def __init__(self, message: str, row: int) -> None:
        super().__init__(message)
        self.message, self.row = message, row


def _parse(archive: SiardZip, tr: TableReading, by_path: dict[tuple[str, ...], int], schema: Any, lobs: LobReader,
           on_problem: OnProblem, keep_lobs: bool, skip: int = 0) -> Iterator[list[object]]:
    name = tr.table.name
    width = len(tr.leaves)
    row_no = 0
    kwargs: dict[str, Any] = {"schema": schema} if schema is not None else {}
    decoders = [decoder(leaf.type) for leaf in tr.leaves]
    with archive.open(tr.member) as fh:
        events = etree.iterparse(fh, events=("end",), tag="{*}row", resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=False, remove_comments=True, **kwargs)
        try:
            for _, el in events:
                if row_no == 0:
                    _no_doctype(el, archive, tr)
                if el.getparent() is None or el.getparent().getparent() is not None:
                    continue  # a row element that is no row of the table (the XSD says what is wrong)
                row_no += 1
                values: list[object] = [None] * width
                if row_no > skip:
                    _cells(el, (), by_path, tr, values, row_no, lobs, on_problem, keep_lobs, decoders)
                el.clear(keep_tail=False)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
                if row_no > skip:
                    yield values
            if row_no == 0 and events.root is not None:
                _no_doctype(events.root, archive, tr)
        except etree.XMLSyntaxError as exc:
            if schema is not None and _validity(exc):
                raise _Invalid(str(exc), row_no + 1) from None
            raise SiardError(f"{archive.label}: {tr.member} (table {name}) is not well-formed XML after row "
                             f"{row_no:,} ({exc}); the SIARD file is damaged") from None


def _elements(cell: Any, leaf: Leaf, tr: TableReading, row: int, lobs: LobReader, on_problem: OnProblem,
              keep_lobs: bool) -> list[object]:
    """An array's elements ``a1``…``aN`` as a list up to the last one present (absent ones NULL)."""
    found: dict[int, object] = {}
    for a in cell:
        if not isinstance(a.tag, str):
            continue
        local = etree.QName(a).localname
        k = int(local[1:]) if local[:1] == "a" and local[1:].isdigit() else 0
        if not 1 <= k <= leaf.array:
            on_problem(Problem("cell", tr.table.name, f"element {local} is no element of the array (cardinality "
                                                      f"{leaf.array}); its value is not read", row, leaf.name))
            continue
        if leaf.refused:
            found[k] = None
        elif a.get("file") is not None:
            found[k] = lobs.read(leaf, _ref(a), tr.table.name, row, on_problem, keep_lobs)
        else:
            found[k] = decode(leaf.type, a.text or "")
    return [found.get(k) for k in range(1, max(found, default=0) + 1)]


def _no_doctype(el: Any, archive: SiardZip, tr: TableReading) -> None:
    info = el.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise SiardError(f"{archive.label}: {tr.member} carries a DOCTYPE (a DTD, where entity tricks come from): "
                         "refused as hostile")


def _validity(exc: Exception) -> bool:
    log = getattr(exc, "error_log", None)
    return any(e.domain_name in ("SCHEMASV", "SCHEMASP") for e in (log or ()))


def _cells(el: Any, prefix: tuple[str, ...], by_path: dict[tuple[str, ...], int], tr: TableReading,
           values: list[object], row: int, lobs: LobReader, on_problem: OnProblem, keep_lobs: bool,
           decoders: list[Any]) -> None:
    for cell in el:
        tag = cell.tag
        if not isinstance(tag, str):
            continue
        path = (*prefix, tag[tag.rfind("}") + 1:])
        i = by_path.get(path)
        if i is None:
            if len(cell) and any(p[:len(path)] == path for p in by_path):
                _cells(cell, path, by_path, tr, values, row, lobs, on_problem, keep_lobs, decoders)
            else:
                on_problem(Problem("cell", tr.table.name, f"element {'/'.join(path)} is no column metadata.xml "
                                                          "describes; its value is not read", row))
            continue
        leaf = tr.leaves[i]
        if leaf.array:
            values[i] = _elements(cell, leaf, tr, row, lobs, on_problem, keep_lobs)
        elif cell.get("file") is not None:
            values[i] = lobs.read(leaf, _ref(cell), tr.table.name, row, on_problem, keep_lobs)
        else:
            values[i] = decoders[i](cell.text or "")

