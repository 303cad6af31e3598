"""One table file of an XML extract, streamed: the pull parser, the checks on each row, the batch schema check.

The file is fed in 1 MiB chunks to an lxml pull parser that refuses DTDs, entities and network
access. Every finished row (``rad``) is checked at once: U.03 charset (C1 controls in ISO 8859
text), U.10 code lists, U.11 key uniqueness and the U.05 foreign-key values, both through the
bounded key store. Then the row moves, with the other finished children of the root, into a
small batch document that is validated against the shipped schema and emptied; libxml2's error
paths (``/TABLE/rad[5]/id``) give record and field, and its error type the check: nil where the
schema forbids it and empty text in a typed field are U.04, a bad value U.10, the rest U.09.
Memory holds one chunk's rows, never the document.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from lxml import etree

from ..writers.xmlfile import xml_name
from .addml_model import FieldDef, RecordDef, charset_codec
from .findings import ERROR, WARNING
from .flatfile_read import Record, bad_char_pattern
from .keystore import UniqueTracker
from .own_checks import ForeignKeys, KeyCollector, bad_char_message
from .processes import RunState, key_value, shown_key
from .safety import _DTD, _xml_text_for_scan
from .xml_describe import DataObject
from .xml_schema import TableSchema

XSI = "http://www.w3.org/2001/XMLSchema-instance"
NIL = f"{{{XSI}}}nil"
NO_SCHEMA_LOCATION = f"{{{XSI}}}noNamespaceSchemaLocation"
NO_ROWS_LIMIT = 64 << 20
"""Bytes read without one finished row before reading stops (rows named otherwise would pile up in memory)."""

_ENCODING_ERRORS = {etree.ErrorTypes.ERR_INVALID_ENCODING, etree.ErrorTypes.ERR_UNKNOWN_ENCODING,
                    etree.ErrorTypes.ERR_UNSUPPORTED_ENCODING}
_NIL_ERRORS = {"SCHEMAV_CVC_ELT_3_1", "SCHEMAV_CVC_ELT_3_2_1", "SCHEMAV_CVC_ELT_3_2_2"}
_VALUE_ERROR = re.compile(r"SCHEMAV_CVC_(DATATYPE_VALID|FACET_VALID|\w*LENGTH_VALID|PATTERN_VALID|ENUMERATION_VALID|"
                          r"M(AX|IN)(IN|EX)CLUSIVE_VALID|TOTALDIGITS_VALID|FRACTIONDIGITS_VALID)")
_STEP = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<n>\d+)\])?$")
_DECLARED = re.compile(r"^\ufeff?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_FIRST_ELEMENT = re.compile(r"<(?![?!])")
_C1_BYTES = re.compile(rb"[\x80-\x9f]")


def dtd_in_prolog(head: str) -> bool:
    """Whether a document's first characters declare a DTD or entities before the root element starts.

    Checked before the parser sees the bytes; the parser's own ``docinfo`` catches a prolog longer
    than the head.
    """
    first = _FIRST_ELEMENT.search(head)
    dtd = _DTD.search(head)
    return dtd is not None and (first is None or dtd.start() < first.start())


def codec_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(charset_codec(name)[0] or name).name
    except LookupError:
        return None


@dataclass
class TableKey:
    kind: str
    fields: list[FieldDef]
    tracker: UniqueTracker


@dataclass
class Table:
    obj: DataObject
    layout: TableSchema | None
    rdef: RecordDef
    row_tag: str
    tags: tuple[str, ...] | None
    elements: dict[str, str]
    """Column name (as addml.xml names it) -> element name."""
    nillable: set[str] = field(default_factory=set)
    codes: list[tuple[FieldDef, frozenset[str]]] = field(default_factory=list)
    collectors: list[KeyCollector] = field(default_factory=list)
    keys: list[TableKey] = field(default_factory=list)

    def element(self, column: str) -> str:
        return self.elements.get(column) or self.elements.get(column.lower()) or xml_name(column)


class TableReader:
    """The pull parser over one table file and the checks on each finished row."""

    def __init__(self, t: Table, state: RunState, foreign: ForeignKeys) -> None:
        self.t = t
        self.findings = state.findings
        self.state = state
        self.name = t.obj.path
        self.parser = etree.XMLPullParser(events=("end",), tag=t.row_tag, resolve_entities=False, load_dtd=False,
                                          no_network=True, huge_tree=False, remove_comments=True, remove_pis=True,
                                          collect_ids=False)
        self.active = True
        self.complete = False
        self.started = False
        self.records = 0
        self.since_row = 0
        self.root: etree._Element | None = None
        self.batch: etree._Element | None = None
        self.schema = t.layout.schema if t.layout is not None else None
        self.pattern: re.Pattern[str] | None = None
        self.charset = t.obj.charset or ""
        self.by_name = {n: i for i, n in enumerate(t.tags)} if t.tags else {f.name: f.index for f in t.rdef.fields}
        self.width = len(t.rdef.fields)
        self.calls = [c.on_record for c in t.collectors]
        needed = {f.index for c in t.collectors for f in c.fields} | {f.index for k in t.keys for f in k.fields} | \
            {fd.index for fd, _ in t.codes}
        if id(t.rdef) in foreign.by_record:
            self.calls.append(foreign.on_record)
            needed.update(i for w in foreign.by_record[id(t.rdef)] for i in w.indexes)
        self.needed = sorted(needed)
        """The fields any check reads; the others are left to the schema (and the charset scan)."""
        self.tag_list = list(t.tags) if t.tags is not None else None
        self.suspect = 0

    # --- bytes in ---

    def feed(self, chunk: bytes) -> None:
        if not self.active:
            return
        if not self.started:
            self.started = True
            if not self._prolog(chunk):
                return
        self.since_row += len(chunk)
        if self.pattern is not None and _C1_BYTES.search(chunk):
            self.suspect = 2  # rows ending in this chunk or the next may hold the byte
        try:
            self.parser.feed(chunk)
        except etree.XMLSyntaxError as exc:
            self._fatal(exc)
            return
        self._events()
        if self.active and self.since_row > NO_ROWS_LIMIT:
            self.findings.add("U.09", ERROR, f"no <{self.t.row_tag}> record in {NO_ROWS_LIMIT >> 20} MiB; the records "
                                             "are not named as described, and reading stopped", file=self.name,
                              record=self.records + 1)
            self.active = False

    def _prolog(self, chunk: bytes) -> bool:
        """Refuse a DTD before the parser sees it; compare the declared encoding with addml.xml's charset."""
        head = _xml_text_for_scan(chunk[:65536])
        if dtd_in_prolog(head):
            self._refuse_dtd()
            return False
        m = _DECLARED.match(head)
        declared = m.group(1) if m else ("UTF-16" if chunk[:2] in (b"\xff\xfe", b"\xfe\xff") else "UTF-8")
        codec = codec_name(declared)
        self.pattern = bad_char_pattern(codec) if codec and codec.startswith(("iso8859", "latin")) else None
        self.charset = declared
        wanted = codec_name(self.t.obj.charset)
        if self.t.obj.charset and codec != wanted:
            how = "its XML declaration" if m else "XML's default without an encoding declaration"
            self.findings.add("U.03", ERROR, f"the file is encoded as {declared} ({how}), but addml.xml gives charset "
                                             f"{self.t.obj.charset}", file=self.name)
        return True

    def _refuse_dtd(self) -> None:
        self.findings.add("U.08", ERROR, "the file has a document type declaration (DTD or entities); it was not read. "
                                         "Table files need none, and a DTD can pull in files or expand without bound",
                          file=self.name)
        self.active = False

    def _fatal(self, exc: etree.XMLSyntaxError, at_end: bool = False) -> None:
        """Stop reading at a syntax error. Rows finished before it are checked; at the end of
        the data (``at_end``) libxml2 2.14 and later close every open element and report a cut
        row as ended, older versions do not: rows reported only then are cut short, never counted."""
        try:
            if at_end:
                for _ in self.parser.read_events():  # drain: cut rows are not records
                    pass
            else:
                self._events()
        except etree.XMLSyntaxError:
            pass
        self._flush()
        line, column = exc.position if exc.position else (exc.lineno, 0)
        where = f"line {line}, column {column}"
        if exc.code in _ENCODING_ERRORS or (exc.code == etree.ErrorTypes.ERR_INVALID_CHAR and "not proper" in exc.msg):
            # (libxml2 before 2.13 reports bytes invalid in the encoding as an invalid character)
            self.findings.add("U.03", ERROR, f"bytes that are not valid {self.charset} at {where}: {exc.msg}; reading "
                                             "stopped here", file=self.name, record=self.records + 1)
        else:
            self.findings.add("U.08", ERROR, f"not well-formed XML at {where}: {exc.msg}; reading stopped here",
                              file=self.name, record=self.records + 1)
        self.active = False

    def close(self) -> None:
        if not self.active:
            return
        try:
            root = self.parser.close()
        except etree.XMLSyntaxError as exc:
            self._fatal(exc, at_end=True)
            return
        self._events()
        if not self.active:
            return
        if self.root is None:
            self._start(root)
            if not self.active:
                return
        assert self.root is not None
        self._move(None)
        self._flush(final=True)
        self.complete = True

    # --- rows ---

    def _start(self, root: etree._Element) -> None:
        docinfo = root.getroottree().docinfo
        if docinfo.internalDTD is not None or docinfo.doctype:
            self._refuse_dtd()
            return
        self.root = root
        layout = self.t.layout
        expected = layout.roots if layout is not None else frozenset([xml_name(self.t.obj.name)])
        if root.tag not in expected:
            self.findings.add("U.09", ERROR, f"the root element is <{root.tag}>, not <{'> or <'.join(sorted(expected))}> "
                                             "as the schema declares; the file is not validated against it",
                              file=self.name)
            self.schema = None
        hint = root.get(NO_SCHEMA_LOCATION)
        if hint and self.t.obj.schema_path and hint.strip() != self.t.obj.schema_path.rsplit("/", 1)[-1]:
            self.findings.add("U.09", WARNING, f"the file names the schema {hint!r}, addml.xml names "
                                               f"{self.t.obj.schema_path!r}; validated against the latter", file=self.name)
        self.batch = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)

    def _events(self) -> None:
        last = None
        for _, row in self.parser.read_events():
            if self.root is None:
                self._start(row.getroottree().getroot())
                if not self.active:
                    return
            if row.getparent() is not self.root:
                continue  # a row element nested deeper: the schema reports it
            self.records += 1
            self._row(row, self.records)
            last = row
        if self.suspect:
            self.suspect -= 1
        if last is not None:
            self.since_row = 0
            self._move(last)
            self._flush()

    def _move(self, upto: etree._Element | None) -> None:
        """Move the root's finished children into the batch document (all of them when ``upto`` is None)."""
        assert self.root is not None and self.batch is not None
        row_tag = self.t.row_tag
        for child in list(self.root):
            if self.schema is None and child.tag != row_tag and isinstance(child.tag, str):
                self.findings.add("U.09", ERROR, f"unexpected element <{child.tag}> among the records (after record "
                                                 f"{self.records})", file=self.name)
            self.batch.append(child)
            if child is upto:
                break

    def _row(self, row: etree._Element, number: int) -> None:
        t = self.t
        children = list(row)
        width = self.width
        values = [""] * width
        quoted = [False] * width
        if self.tag_list is not None and [c.tag for c in children] == self.tag_list:
            for i in self.needed:
                c = children[i]
                if c.get(NIL) not in ("true", "1"):
                    values[i] = c.text or ""
                    quoted[i] = True
        else:
            by_name = self.by_name
            seen: set[int] = set()
            for c in children:
                j = by_name.get(c.tag) if isinstance(c.tag, str) else None
                if j is None or j in seen:
                    continue
                seen.add(j)
                if c.get(NIL) not in ("true", "1"):
                    values[j] = c.text or ""
                    quoted[j] = True
        if self.suspect:
            self._charset(children, number)
        for fd, codes in t.codes:
            v = values[fd.index]
            if quoted[fd.index] and v not in codes:
                self.findings.add("U.10", ERROR, f"{v!r} is not in the code list of {fd.name} in addml.xml",
                                  file=self.name, record=number, field=fd.name, value=v)
        rec = Record(number=number, rdef=t.rdef, values=values, quoted=quoted, length=0, suspect=False)
        for call in self.calls:
            call(rec)
        for key in t.keys:
            self._unique(key, rec)

    def _charset(self, children: list[etree._Element], number: int) -> None:
        assert self.pattern is not None
        for c in children:
            text = c.text
            if text and self.pattern.search(text):
                m = self.pattern.search(text)
                assert m is not None
                self.findings.add("U.03", ERROR, bad_char_message(m.group(), self.charset), file=self.name,
                                  record=number, field=c.tag if isinstance(c.tag, str) else None, value=text)

    def _unique(self, key: TableKey, rec: Record) -> None:
        quoted = rec.quoted
        assert quoted is not None
        nulls = [f for f in key.fields if not quoted[f.index]]
        if nulls:
            if key.kind == "primary":
                unreported = [f.name for f in nulls if self.t.layout is None or f.name in self.t.nillable]
                if unreported:
                    self.findings.add("U.11", ERROR, f"NULL (xsi:nil) in the primary-key field(s) {', '.join(unreported)}",
                                      file=self.name, record=rec.number, field=", ".join(unreported))
            return
        value = key_value(rec.values, key.fields)
        first = key.tracker.add(value, rec.number)
        if first is not None:
            self.duplicate(key, value, first, [rec.number], 1)

    def duplicate(self, key: TableKey, value: str, first: int, later: list[int], count: int) -> None:
        names = ", ".join(f.name for f in key.fields)
        self.findings.add("U.11", ERROR, f"{self.t.obj.name}: the {key.kind} key value [{shown_key(value)}] is not "
                                         f"unique (records {first} and {', '.join(map(str, later))})",
                          file=self.name, record=later[0] if later else None, field=names, value=shown_key(value),
                          records=(first, *later), count=count)

    # --- schema validation of a batch ---

    def _flush(self, final: bool = False) -> None:
        batch = self.batch
        if batch is None:
            return
        if self.schema is not None and (len(batch) or final) and not self.schema.validate(batch):
            self._schema_errors(batch)
        del batch[:]

    def _schema_errors(self, batch: etree._Element) -> None:
        assert self.schema is not None
        rows = [c for c in batch if c.tag == self.t.row_tag]
        first = self.records - len(rows) + 1
        seen: set[tuple[str, str]] = set()
        for e in self.schema.error_log:
            record, element, fname = self._locate(e.path or "", rows, first)
            nil = element is not None and element.get(NIL) in ("true", "1")
            value = None if element is None or nil else (element.text or "")
            if e.type_name in _NIL_ERRORS:
                check = "U.04"
                message = ("NULL (xsi:nil) in a field the schema does not allow to be nil (notNull)"
                           if e.type_name == "SCHEMAV_CVC_ELT_3_1" else f"xsi:nil with a value: {e.message}")
            elif _VALUE_ERROR.match(e.type_name):
                if value == "":
                    check, message = "U.04", (f"empty text (not xsi:nil) in a field whose type allows no empty value; "
                                              f"NULL is written as xsi:nil=\"true\" ({e.message})")
                else:
                    check, message = "U.10", e.message
            else:
                check, message = "U.09", e.message
            if (check, e.path or "") in seen:
                continue
            seen.add((check, e.path or ""))
            self.findings.add(check, ERROR, message, file=self.name, record=record, field=fname, value=value)

    def _locate(self, path: str, rows: list[etree._Element], first: int) -> tuple[int | None, etree._Element | None,
                                                                                   str | None]:
        """Record number, field element and field name from a libxml2 error path such as ``/SAK/rad[5]/id``."""
        steps = path.split("/")[1:]
        if len(steps) < 2:
            return None, None, None
        m = _STEP.match(steps[1])
        if m is None or m.group("name") != self.t.row_tag:
            return None, None, None
        k = int(m.group("n") or 1) - 1
        if not 0 <= k < len(rows):
            return None, None, None
        row = rows[k]
        if len(steps) < 3:
            return first + k, None, None
        m = _STEP.match(steps[2])
        if m is None:
            return first + k, None, None
        name, n = m.group("name"), int(m.group("n") or 1)
        same = [c for c in row if c.tag == name]
        return first + k, same[n - 1] if 0 < n <= len(same) else None, name
