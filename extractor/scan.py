"""The scan: what the data hold, table by table.

It finds every value the chosen charset cannot hold (with table, column, row key and code
points), values that do not fit their declared type, lengths for fixed width and ``maxLength``,
texts over the field limit, and binary values. ``uttrekk inspect`` runs it alone; ``uttrekk
extract`` gathers the same statistics while writing (``extract.extract_scanning``) and runs it
first only for fixed width, which needs the widths before the first record. The statistics
types and the per-value bookkeeping both paths share live here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .charset import LATIN1, CharsetPolicy, apply_mapping, codepoints, foreign_chars
from .lobs import as_bytes, describe_kind, lob_path, sniff
from .model import Table
from .plan import LOB_DIR, FieldPlan, Plan, TablePlan
from .source_dialect import SourceDialect
from .values import FLAT_STYLE, SIARD_STYLE, XML_STYLE, Nonconforming, Renderer, Style, hex_text, render_any_as_text, renderer_for

FINDINGS_KEPT = 1000
"""Findings kept per table for display; counts are always complete."""

TEXT_KINDS = frozenset({"string", "char", "unknown"})
TIME_KINDS = frozenset({"timestamp", "time"})

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass
class ColumnStats:
    nulls: int = 0
    values: int = 0
    empties: int = 0
    max_length: int = 0
    long_values: int = 0
    textfile_path_length: int = 0
    nonconforming: int = 0
    examples: list[str] = field(default_factory=list)
    fraction: bool = False
    with_offset: int = 0
    without_offset: int = 0
    edge_blank: bool = False
    outside_codes: int = 0
    outside_examples: list[str] = field(default_factory=list)

    def note_time(self, kind: str, text: str) -> None:
        """Offsets and fraction digits of a rendered timestamp or time."""
        if kind == "timestamp":
            if len(text) > 19 and text[-6] in "+-":
                self.with_offset += 1
            else:
                self.without_offset += 1
            if "." in text:
                self.fraction = True
        elif kind == "time" and "." in text:
            self.fraction = True

    def note_nonconforming(self, example: str) -> None:
        self.nonconforming += 1
        if len(self.examples) < 3:
            self.examples.append(example)

    def note_outside_codes(self, example: str) -> None:
        self.outside_codes += 1
        if len(self.outside_examples) < 3:
            self.outside_examples.append(example)

    @property
    def fixed_ambiguous(self) -> bool:
        """Padding would hide the difference between NULL and empty text, or edge blanks."""
        return bool((self.nulls and self.empties) or self.edge_blank)


@dataclass(frozen=True)
class Finding:
    """A value holding characters the output charset cannot hold."""

    table: str
    column: str
    row_key: str
    chars: str
    mapped: bool

    def __str__(self) -> str:
        what = "mapped by profile" if self.mapped else "NOT mapped"
        return f"{self.table}.{self.column} [{self.row_key}]: {codepoints(self.chars)} ({self.chars}) - {what}"


@dataclass
class TableScan:
    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    finding_count: int = 0
    unmappable_count: int = 0
    char_counts: Counter[tuple[str, str, bool]] = field(default_factory=Counter)
    xml_invalid: list[str] = field(default_factory=list)
    needs_utf8: bool = False

    @classmethod
    def of(cls, tp: TablePlan) -> TableScan:
        """Empty statistics for every column of a table."""
        return cls(columns={c: ColumnStats() for c in tp.columns})

    def decide_fallback(self, encoding: str, policy: CharsetPolicy) -> None:
        """A Latin-1 table with unmappable values is written as UTF-8 where the profile allows it."""
        self.needs_utf8 = bool(self.unmappable_count and encoding == LATIN1 and policy.utf8_fallback)


@dataclass
class ScanResult:
    tables: Mapping[str, TableScan] = field(default_factory=dict)
    """Each table's statistics; an extract reads them back from its work folder one at a time
    (``workdir.KeptScans``) rather than hold them all."""
    codes: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    lob_count: int = 0
    lob_widths: dict[str, int] = field(default_factory=dict)

    @property
    def unmappable_total(self) -> int:
        return sum(t.unmappable_count for t in self.tables.values() if not t.needs_utf8)

    def add(self, part: TableScanned) -> None:
        """Count in what one table's scan adds to the whole: its LOB entries and code list (``combine``)."""
        self.lob_count += part.lob_count
        widths = self.lob_widths
        for key, width in part.lob_widths.items():
            widths[key] = max(widths.get(key, 0), width)
        if part.codes is not None:
            self.codes[part.name] = part.codes


RowSource = Callable[[TablePlan, tuple[str, ...]], Iterable[tuple[Any, ...]]]


def xml_invalid(text: str) -> str:
    """The first character XML 1.0 cannot carry, or ``""``."""
    m = _XML_INVALID.search(text)
    return m.group() if m else ""


class DialectRows:
    """The row source the scan and extract stages read through: a dialect's raw rows in plan order.
    ``source`` is the dialect, for the fast path (``extract._extract_rendered``)."""

    def __init__(self, source: SourceDialect) -> None:
        self.source = source

    def __call__(self, tp: TablePlan, columns: tuple[str, ...]) -> Iterable[tuple[Any, ...]]:
        if tp.unpivot is not None:
            return unpivoted(self.source, tp, columns)
        assert tp.source is not None  # a table with no source of its own is a child (unpivot)
        return self.source.iter_rows(tp.source, columns, tp.order_by)


def rows_of(dialect: SourceDialect) -> RowSource:
    """The row source of a dialect (``DialectRows``)."""
    return DialectRows(dialect)


def unpivoted(dialect: SourceDialect, tp: TablePlan, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """A child table's rows. An array column's: its elements, unnested on the server. A repeating
    group's: the parent's rows in the parent's order, one row per occurrence that is not wholly
    NULL (parent key, occurrence number, values)."""
    u = tp.unpivot
    assert u is not None
    if u.array:
        yield from dialect.iter_rows(array_source(dialect, tp), columns, tp.order_by)
        return
    width = len(u.occurrences[0])
    k = len(u.key)
    pick = [tp.columns.index(c) for c in columns]
    whole = list(columns) == list(tp.columns)
    for recno, row in enumerate(dialect.iter_rows(u.parent, u.read, u.order_by), 1):
        key = tuple(row[:k]) if k else (recno,)
        for j in range(len(u.occurrences)):
            values = tuple(row[k + j * width:k + (j + 1) * width])
            if any(v is not None for v in values):
                full = (*key, j + 1, *values)
                yield full if whole else tuple(full[i] for i in pick)


def array_source(dialect: SourceDialect, tp: TablePlan) -> Table:
    """What an array column's child table is read from: a query on its parent, made by the dialect."""
    u = tp.unpivot
    assert u is not None and tp.source is not None
    return dialect.array_elements(u.parent, u.key, u.order_by, u.array, tp.source)


def row_key(tp: TablePlan, row: tuple[Any, ...], recno: int) -> str:
    """How a person finds a row: its primary key values, else its record number in the file."""
    if tp.surrogate or not tp.primary_key or tp.source is None:
        return key_text(tp, (), recno)
    idx = {c: i for i, c in enumerate(tp.columns)}
    return ", ".join(f"{c}={row[idx[c]]}" for c in tp.primary_key if c in idx)


def key_text(tp: TablePlan, key: tuple[Any, ...], recno: int) -> str:
    """A row key from the primary key's values (in key order), or the record number where that is the key."""
    if tp.surrogate:
        return f"{tp.surrogate}={recno}"
    if tp.primary_key and key:
        return ", ".join(f"{c}={v}" for c, v in zip(tp.primary_key, key, strict=True))
    return f"record {recno}"


def style_for(plan: Plan):
    return SIARD_STYLE if plan.format == "siard" else XML_STYLE if plan.format == "xml" else FLAT_STYLE


def column_renderer(tp: TablePlan, name: str, kind: str, style: Style) -> Renderer:
    """The renderer of one column in its archive kind, with the source's declared scale and float precision."""
    col = tp.source.column(name) if tp.source else None
    return renderer_for(kind, style, col.scale if col else None, col.float_bits if col else None)


LOB_FIELDS = ("fil", "tabell", "felt", "post", "bytes", "innhold")


@dataclass
class TableScanned:
    """What scanning one table gives: its statistics, its LOB list widths, its code list."""

    name: str
    scan: TableScan
    lob_count: int
    lob_widths: dict[str, int]
    codes: tuple[tuple[str, str], ...] | None = None


def scan(plan: Plan, rows: RowSource, progress: Callable[[str, int | None], Any] | None = None) -> ScanResult:
    """Scan every planned table; ``rows(table_plan, columns)`` yields raw rows in plan order."""
    return combine([scan_table(plan, tp, rows, progress) for tp in plan.tables])


def combine(parts: Iterable[TableScanned], tables: Mapping[str, TableScan] | None = None) -> ScanResult:
    """One scan result from per-table scans (in plan order, however they were run). With ``tables``
    (the scans as the work folder keeps them) the parts' own statistics are not held."""
    result = ScanResult(lob_widths=dict.fromkeys(LOB_FIELDS, 1))
    for part in parts:
        if tables is None:
            result.tables[part.name] = part.scan  # type: ignore[index]
        result.add(part)
    if tables is not None:
        result.tables = tables
    return result


def scan_table(plan: Plan, tp: TablePlan, rows: RowSource,
               progress: Callable[[str, int | None], Any] | None = None) -> TableScanned:
    """Scan one table (twice when a column must be re-read as text)."""
    kinds = {f.column: f.kind for f in tp.fields if f.role == "value"}
    ts, lobs = _scan_table(plan, tp, kinds, rows, progress)
    widen = widened_columns(ts)
    if widen:
        ts, lobs = _scan_table(plan, tp, {**kinds, **dict.fromkeys(widen, "unknown")}, rows, progress)
        carry_widened(ts, widen)
    return TableScanned(tp.name, ts, lobs.count, dict(lobs.widths), code_pairs(plan, tp, rows, ts.rows))


def widened_columns(ts: TableScan) -> dict[str, tuple[int, list[str]]]:
    """Columns to archive as text, with the count and first examples of what did not fit."""
    out = {}
    for c, st in ts.columns.items():
        if st.nonconforming:
            out[c] = (st.nonconforming, st.examples)
        elif st.with_offset and st.without_offset:
            out[c] = (min(st.with_offset, st.without_offset),
                      ["some timestamps have a time-zone offset and others do not"])
    return out


def carry_widened(ts: TableScan, widened: dict[str, tuple[int, list[str]]]) -> None:
    """Keep what an earlier pass found in columns that a later pass read as text."""
    for c, (count, examples) in widened.items():
        ts.columns[c].nonconforming, ts.columns[c].examples = count, examples


def code_pairs(plan: Plan, tp: TablePlan, rows: RowSource, count: int) -> tuple[tuple[str, str], ...] | None:
    """The (code, explanation) pairs of a code table of ``count`` rows; None when it is too long
    to be written inline (only the profile's ``inline = true`` reads a long one)."""
    if tp.code_table is None:
        return None
    code_col, explan_col, inline = tp.code_table
    if inline is False or (inline is None and count > plan.profile.code_list_limit):
        return None
    kind = next(f.kind for f in tp.fields if f.column == code_col and f.role == "value")
    render = column_renderer(tp, code_col, kind, style_for(plan))
    pairs = []
    for code, explan in rows(tp, (code_col, explan_col)):
        if code is None:
            continue
        try:
            text = render(code)
        except Nonconforming:
            text = render_any_as_text(code)
        pairs.append((text, "" if explan is None else render_any_as_text(explan)))
    return tuple(pairs)


class _LobWidths:
    """Count and widest value per LOBFILER field of the LOB entries a table will produce."""

    def __init__(self) -> None:
        self.count = 0
        self.widths: Counter[str] = Counter()

    def add(self, entry: dict[str, str]) -> None:
        self.count += 1
        for key, value in entry.items():
            if len(value) > self.widths[key]:
                self.widths[key] = len(value)


def code_set(f: FieldPlan) -> frozenset[str] | None:
    """The texts a field's code list accepts; Arkade's code check accepts an empty value in a field that may be empty."""
    if not f.codes:
        return None
    return frozenset(c for c, _ in f.codes) | (frozenset() if f.not_null else {""})


class ColumnWatch:
    """What each value of one column adds to its statistics: the one place that counts them, for the
    scan run alone (``scan_table``) and for the statistics gathered while writing (``extract``), so
    both give the same ``ColumnStats``. The caller renders; this counts what was rendered."""

    __slots__ = ("st", "tp", "column", "texty", "limit", "text")

    def __init__(self, ts: TableScan, tp: TablePlan, column: str, kind: str, base: str, policy: CharsetPolicy,
                 xml: bool, limit: int, codes: frozenset[str] | None) -> None:
        """``base``: the charset findings are counted against (the plan's, also for a table written as
        UTF-8); ``codes``: the texts the field's code list accepts (``code_set``)."""
        self.st, self.tp, self.column = ts.columns[column], tp, column
        self.texty, self.limit = kind in TEXT_KINDS, limit
        self.text: Callable[..., str] = self._counter(ts, kind, base, policy, xml, codes)
        """``text(text, row, recno, bad=None)``: count one rendered value (``bad``: its characters the base
        charset cannot hold, when the caller knows them); returns it as the base charset has it (the
        profile's mapping applied), which is what is measured."""

    def null(self) -> None:
        self.st.nulls += 1

    def settle(self, rows: int) -> None:
        """After the last row: every row gave this column a NULL or a value (counted as one here, not per value)."""
        self.st.values = rows - self.st.nulls

    def nonconforming(self, row: tuple[Any, ...], recno: int, why: str) -> None:
        """A value that does not fit the column's kind (the column is archived as text)."""
        self.st.note_nonconforming(f"{row_key(self.tp, row, recno)}: {why}")

    def binary(self, path: str | None) -> None:
        """A binary value, written to the file ``path`` (its length is the field's)."""
        st = self.st
        if path is not None and len(path) > st.max_length:
            st.max_length = len(path)

    def _counter(self, ts: TableScan, kind: str, base: str, policy: CharsetPolicy, xml: bool,
                 codes: frozenset[str] | None) -> Callable[..., str]:
        """``text`` as a closure over this column's choices (it runs once per value: no attribute look-ups)."""
        st, tp, column, limit = self.st, self.tp, self.column, self.limit
        timed, texty = kind in TIME_KINDS, kind in TEXT_KINDS
        long_text_path = self.long_text_path

        def count(text: str, row: tuple[Any, ...], recno: int, bad: str | None = None) -> str:
            if timed:
                st.note_time(kind, text)
            if texty:
                if bad is None:
                    bad = foreign_chars(text, base)
                if bad:
                    text, mapped = apply_mapping(text, policy, base)
                    record_finding(ts, tp, column, row, recno, bad, mapped, foreign_chars(text, base))
                if xml and len(ts.xml_invalid) < 20:
                    ch = xml_invalid(text)
                    if ch:
                        ts.xml_invalid.append(f"{tp.name}.{column} [{row_key(tp, row, recno)}]: {codepoints(ch)}")
                if not text:
                    st.empties += 1
                elif text[0].isspace() or text[-1].isspace():
                    st.edge_blank = True
                if len(text) > limit:  # written to a file under lob/: the field holds no text
                    st.long_values += 1
                    path_len = len(long_text_path(recno))
                    if path_len > st.textfile_path_length:
                        st.textfile_path_length = path_len
                    return text
            if codes is not None and text not in codes:
                st.note_outside_codes(f"{row_key(tp, row, recno)}: {text!r}")
            if len(text) > st.max_length:
                st.max_length = len(text)
            return text

        return count

    def long_text_path(self, recno: int) -> str:
        """Where a text over the limit is written."""
        return lob_path(LOB_DIR, self.tp.file_name, self.tp.columns, self.column, recno, "txt")


def _scan_table(plan: Plan, tp: TablePlan, kinds: dict[str | None, str], rows: RowSource,
                progress: Callable[[str, int | None], Any] | None) -> tuple[TableScan, _LobWidths]:
    """Statistics of one table, and the widths of the LOBFILER entries its values will produce."""
    ts = TableScan.of(tp)
    style = style_for(plan)
    xml = plan.format == "xml"
    codes = {f.column: code_set(f) for f in tp.fields if f.role == "value"}
    cols: list[tuple[int, str, str, Renderer | None, ColumnWatch]] = []
    for i, name in enumerate(tp.columns):
        if name not in kinds:
            continue  # read but not written (a pointer's original address)
        kind = kinds[name]
        cols.append((i, name, kind, None if kind == "binary" else column_renderer(tp, name, kind, style),
                     ColumnWatch(ts, tp, name, kind, tp.charset, plan.charset, xml, plan.long_text_limit,
                                 codes.get(name))))
    lobs = _LobWidths()
    tick = progress(f"scan {tp.name}", None) if progress else None
    recno = 0
    for row in rows(tp, tp.columns):
        recno += 1
        for i, name, kind, render, watch in cols:
            value = row[i]
            if value is None:
                watch.null()
                continue
            if render is None:  # binary
                try:
                    data = as_bytes(value)
                except TypeError:
                    watch.nonconforming(row, recno, "text in a binary column")
                    continue
                ext = sniff(data)
                path = lob_path(LOB_DIR, tp.file_name, tp.columns, name, recno, ext)
                watch.binary(path)
                lobs.add({"fil": path, "tabell": tp.name, "felt": name, "post": str(recno),
                          "bytes": str(len(data)), "innhold": describe_kind(ext, None)})
                continue
            try:
                text = render(value)
            except Nonconforming as exc:
                if kind != "unknown":
                    watch.nonconforming(row, recno, str(exc))
                    continue
                text = hex_text(value)  # already text; binary values are written as hex (reported)
            seen = watch.text(text, row, recno)
            if watch.texty and len(seen) > watch.limit:
                lobs.add({"fil": watch.long_text_path(recno), "tabell": tp.name, "felt": tp.companion(name, "_fil"),
                          "post": str(recno), "bytes": str(len(seen.encode("utf-8"))),
                          "innhold": describe_kind("txt", LATIN1)})  # the longer label
        if tick is not None and recno % 1000 == 0:
            tick(1000)
    if tick is not None:
        tick(recno % 1000)
    ts.rows = recno
    for *_, watch in cols:
        watch.settle(recno)
    ts.decide_fallback(tp.charset, plan.charset)
    return ts, lobs


def record_finding(ts: TableScan, tp: TablePlan, column: str, row: tuple[Any, ...], recno: int,
            bad: str, mapped: str, left: str) -> None:
    ts.finding_count += 1
    for ch in bad:
        ts.char_counts[(column, ch, ch in mapped)] += 1
    if left:
        ts.unmappable_count += 1
    if len(ts.findings) < FINDINGS_KEPT:
        key = row_key(tp, row, recno)
        if mapped:
            ts.findings.append(Finding(tp.name, column, key, mapped, True))
        if left:
            ts.findings.append(Finding(tp.name, column, key, left, False))
