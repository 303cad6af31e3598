"""From a record's field texts to a typed row: NULL as the extract says, each value converted or reported.

NULL: in a delimited file an empty field that was not quoted (``""`` is empty text; a file type
without a quoting character cannot tell them apart, and an empty field is NULL); in fixed width
a field of blanks (text loses its trailing blank padding, or is cut to its ``<field>_lengde``);
in XML ``xsi:nil``; anywhere a value the fieldType lists in ``nullValues``. A value that does not
convert is loaded as NULL and reported with its text, never guessed at.

LOB files are read from the extract through the validation package's ``Source`` (only files listed
under ``content/``, no link followed), each at most ``MAX_FILE_BYTES``.
"""

from __future__ import annotations

import codecs
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from ..validation.safety import _xml_text_for_scan
from ..validation.source import Source
from ..validation.xml_read import NIL, NO_ROWS_LIMIT, dtd_in_prolog
from .convert import Unconvertible
from .plan import Column, Table
from .report import Line

MAX_FILE_BYTES = 512 << 20
"""A LOB file larger than this is not loaded (reported): one value is held in memory while it is written."""
_SURROGATE = re.compile("[\udc80-\udcff]")
CHUNK = 1 << 20


@dataclass
class Limits:
    """What the target cannot hold: a NUL in text (PostgreSQL), fraction digits beyond its precision."""

    nul_in_text: bool


class RowMaker:
    def __init__(self, table: Table, source: Source, report: Callable[[Line], None], limits: Limits) -> None:
        self.t = table
        self.source = source
        self.report = report
        self.limits = limits
        self.key_index = [c.index for c in (table.column(n) for n in table.pk) if c is not None and c.index >= 0]
        self.decoder = table.codec or "utf-8"
        self.specs = [(k, c, c.index, c.kind == "text", c.convert, c.null_values) for k, c in enumerate(table.columns)
                      if c.index >= 0]
        self.extras = [(k, c) for k, c in enumerate(table.columns) if c.file_bytes_of is not None
                       or c.long_text_in is not None]
        self.checked_text = not limits.nul_in_text or codecs.lookup(self.decoder).name != "iso8859-1" \
            if _known(self.decoder) else True
        """Text may hold what the target cannot take (a NUL for PostgreSQL, undecodable bytes outside ISO 8859-1)."""

    def _key(self, values: list[str]) -> str | None:
        if not self.key_index:
            return None
        return ", ".join(values[i].strip() if i < len(values) else "" for i in self.key_index)

    def _bad(self, number: int | None, values: list[str], column: Column | None, value: str | None, what: str) -> None:
        self.report(Line(self.t.name, number, self._key(values), column.name if column else None, value, what))

    def row(self, values: list[str], quoted: list[bool] | None, number: int) -> tuple[object, ...]:
        out: list[object] = [None] * len(self.t.columns)
        fixed = self.t.fixed
        texts: dict[int, str | None] = {}
        for k, c, i, is_text, convert, nulls in self.specs:
            raw = values[i]
            if fixed:
                v = self._null_or_text(c, raw, False, values)
            elif raw == "" or (nulls and raw in nulls):
                v = raw if quoted is not None and quoted[i] else None
            else:
                v = raw
            if self.extras:
                texts[i] = v
            if v is None:
                continue
            if is_text:
                out[k] = self._text(c, v, number, values) if self.checked_text else v
                continue
            if v == "":
                self._bad(number, values, c, raw, f"empty text in {_a(c.kind)} field; loaded as NULL")
                continue
            try:
                out[k] = convert(v)
            except Unconvertible as exc:
                self._bad(number, values, c, raw, f"not {_a(c.kind)}: {exc}; loaded as NULL")
        for k, c in self.extras:
            if c.file_bytes_of is not None:
                path = texts.get(c.file_bytes_of)
                out[k] = self._file(c, path, number, values) if path else None
            elif c.long_text_in is not None and out[k] is None:
                path = texts.get(c.long_text_in)
                if path:
                    data = self._file(c, path, number, values)
                    out[k] = self._text(c, self._decode(c, data, number, values), number, values) \
                        if data is not None else None
        return tuple(out)

    def _null_or_text(self, c: Column, raw: str, quoted: bool, values: list[str]) -> str | None:
        if self.t.fixed:
            if c.kind != "text":
                v = raw.strip(" ")
            elif c.exact_length is not None:
                length = values[c.exact_length].strip(" ")
                if not length:
                    return None
                v = raw[:int(length)] if length.isdigit() else raw.rstrip(" ")
                return v
            else:
                v = raw.rstrip(" ")
            if v == "":
                # Blanks are NULL, except in a notNull text field: there they can only be empty text.
                return "" if c.kind == "text" and c.not_null else None
            return None if v in c.null_values else v
        if raw == "" and not quoted:
            return None
        if not quoted and raw in c.null_values:
            return None
        return raw

    def _text(self, c: Column, v: str, number: int, values: list[str]) -> str | None:
        if _SURROGATE.search(v):
            shown = v.encode("utf-8", "surrogateescape").hex(" ")
            self._bad(number, values, c, shown, f"bytes not valid in the charset {self.t.codec}; loaded with U+FFFD "
                                                 "in their place (the value's bytes in hex here)")
            v = _SURROGATE.sub("\ufffd", v)
        if "\x00" in v and not self.limits.nul_in_text:
            self._bad(number, values, c, v.replace("\x00", "\\0"), "a NUL character, which the target's text cannot "
                                                                   "hold; loaded as NULL")
            return None
        return v

    def _decode(self, c: Column, data: bytes, number: int, values: list[str]) -> str:
        try:
            return data.decode(self.decoder)
        except (UnicodeDecodeError, LookupError):
            return data.decode(self.decoder if _known(self.decoder) else "utf-8", "surrogateescape")

    def _file(self, c: Column, path: str, number: int, values: list[str]) -> bytes | None:
        name = path.replace("\\", "/")
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "" in parts:
            self._bad(number, values, c, path, "the path is not a file under content/; not loaded")
            return None
        entry = self.source.entry(name)
        if entry is None or not entry.regular:
            self._bad(number, values, c, path, "no such file in the extract (or not a regular file); not loaded")
            return None
        if entry.size > MAX_FILE_BYTES:
            self._bad(number, values, c, path, f"the file is {entry.size:,} bytes, over the "
                                               f"{MAX_FILE_BYTES >> 20} MiB a value may have here; not loaded")
            return None
        try:
            with self.source.open(name) as fh:
                data = fh.read(entry.size + 1)
        except (OSError, EOFError, tarfile.TarError) as exc:
            self._bad(number, values, c, path, f"the file cannot be read ({exc}); not loaded")
            return None
        if len(data) != entry.size:
            self._bad(number, values, c, path, "the file's size changed while it was read; not loaded")
            return None
        return data


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _known(codec: str) -> bool:
    try:
        codecs.lookup(codec)
        return True
    except LookupError:
        return False


# --- XML table files ---

@dataclass
class XmlProblem:
    record: int | None
    message: str


def xml_rows(stream: BinaryIO, t: Table) -> Iterator[tuple[list[str], list[bool], int] | XmlProblem]:
    """Each ``rad`` of an XML table file as (values, not-nil flags, record number), streamed.

    Values are taken by element name in the order of the schema's fields; an element missing from
    a row is NULL. Parsing stops at the first error (yielded), at a DTD, or when no row ends within
    ``NO_ROWS_LIMIT`` bytes.
    """
    assert t.layout is not None
    row_tag = t.layout.row_tag or "rad"
    index = {spec.element: i for i, spec in enumerate(t.layout.fields)}
    width = len(t.layout.fields)
    parser = etree.XMLPullParser(events=("end",), tag=row_tag, resolve_entities=False, load_dtd=False,
                                 no_network=True, huge_tree=False, remove_comments=True, remove_pis=True,
                                 collect_ids=False)
    number = 0
    since = 0
    first = True
    while True:
        chunk = stream.read(CHUNK)
        if first:
            first = False
            if dtd_in_prolog(_xml_text_for_scan(chunk[:65536])):
                yield XmlProblem(None, "the file has a document type declaration; refusing to read it")
                return
        try:
            if chunk:
                parser.feed(chunk)
                since += len(chunk)
            else:
                parser.close()
            events = list(parser.read_events())
        except etree.XMLSyntaxError as exc:
            yield XmlProblem(number + 1, f"not well-formed XML ({exc.msg}); the rest of the file is not loaded")
            return
        for _, row in events:
            root = row.getroottree().getroot()
            if root.getroottree().docinfo.doctype:
                yield XmlProblem(None, "the file has a document type declaration; refusing to read it")
                return
            if row.getparent() is not root:
                continue
            number += 1
            values = [""] * width
            present = [False] * width
            for child in row:
                j = index.get(child.tag) if isinstance(child.tag, str) else None
                if j is None or present[j]:
                    continue
                if child.get(NIL) not in ("true", "1"):
                    values[j] = child.text or ""
                    present[j] = True
            yield values, present, number
            row.clear()
            while row.getprevious() is not None:
                del root[0]
            since = 0
        if not chunk:
            return
        if since > NO_ROWS_LIMIT:
            yield XmlProblem(number + 1, f"no <{row_tag}> ends within {NO_ROWS_LIMIT >> 20} MiB; the rest of the "
                                         "file is not loaded")
            return
