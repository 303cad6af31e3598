"""Extract: stream every planned table into its file, with LOB files and the LOBFILER list.

Rows come raw from the dialect in plan order; each value is rendered by its field's renderer,
charset substitutions are applied and logged, over-long texts and binary values go to files.
Counts, sizes and SHA-256 are taken while writing. Memory does not grow with table size.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .charset import CHARSETS, CharsetPolicy, apply_mapping, codepoints, foreign_chars
from .errors import ExtractionError, RenderingRefused, writing
from .lobs import as_bytes, describe_kind, lob_path, sniff
from .model import RenderedStatistics
from .plan import LOB_DIR, LOB_TABLE, Plan, TablePlan
from .refine import refine_table
from .rendered import EXACT, SERVER, render_request, scanned_from
from .report import DeviationLog
from .scan import (
    TEXT_KINDS,
    ColumnWatch,
    DialectRows,
    RowSource,
    TableScan,
    TableScanned,
    carry_widened,
    code_pairs,
    code_set,
    column_renderer,
    row_key,
    scan_table,
    style_for,
    widened_columns,
    xml_invalid,
)
from .source_dialect import PendingStatistics
from .values import Nonconforming, hex_text
from .writers.flatfile import delimited_record, fixed_record
from .writers.hashing import HashingFile, write_file
from .writers.siard_table import LOB_ROLES, LobCell, SiardTableWriter, external_folder, lob_member
from .writers.xmlfile import XmlTableWriter, xsd_document


@dataclass(slots=True)
class FileResult:
    """One file written into ``content/`` (kept for every table until the end: slots, no ``__dict__``)."""

    name: str
    records: int
    size: int
    sha256: str
    kind: str = "table"


@dataclass
class ExtractResult:
    files: dict[str, FileResult] = field(default_factory=dict)
    schemas: dict[str, FileResult] = field(default_factory=dict)
    lob_files: int = 0
    lob_bytes: int = 0
    deviations: Counter[tuple[str, str]] = field(default_factory=Counter)
    rendering: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    """Per table: ``server`` (the fast path) or ``exact``, and why not the fast path (column -> reason)."""

    @property
    def deviation_total(self) -> int:
        return sum(self.deviations.values())


@dataclass(slots=True)
class TableDone:
    """One finished table: its file and what it left in the work folder for ``finish``."""

    file: FileResult
    lob_files: int = 0
    lob_bytes: int = 0
    deviations: dict[str, int] = field(default_factory=dict)
    rendering: str = EXACT
    """``server``: the file as the server rendered it (``rendered``); ``exact``: every value rendered here."""
    exact_reasons: dict[str, str] = field(default_factory=dict)
    """Why the table took the exact path: column -> reason (``""``: the whole table)."""

    def to_json(self) -> dict[str, Any]:
        return {"file": asdict(self.file), "lob_files": self.lob_files, "lob_bytes": self.lob_bytes,
                "deviations": self.deviations, "rendering": self.rendering, "exact_reasons": self.exact_reasons}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableDone:
        return cls(FileResult(**data["file"]), data["lob_files"], data["lob_bytes"], data["deviations"],
                   str(data.get("rendering", EXACT)), dict(data.get("exact_reasons", {})))


Progress = Callable[[str, int | None], Any]


class _LobSpool:
    """LOB list entries of one table, spooled to disk until the LOBFILER file is written at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("w", encoding="utf-8")
        self.count = 0
        self.bytes = 0
        self.widths: Counter[str] = Counter()

    def add(self, entry: dict[str, str]) -> None:
        self._fh.write(json.dumps(entry, ensure_ascii=True) + "\n")
        self.count += 1
        self.bytes += int(entry["bytes"])
        for key, value in entry.items():
            if len(value) > self.widths[key]:
                self.widths[key] = len(value)

    def close(self) -> None:
        self._fh.close()


def _spooled(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def work_files(work: Path, tp: TablePlan) -> tuple[Path, Path]:
    """The LOB list and the deviation lines one table leaves in the work folder."""
    return work / f"{tp.file_name}.lobs.jsonl", work / f"{tp.file_name}.deviations.tsv"


def extracted_tables(plan: Plan) -> list[TablePlan]:
    """The tables read from the source (the LOB list is written by ``finish``)."""
    return [tp for tp in plan.tables if not (tp.name == LOB_TABLE and tp.source is None)]


def extract_table(plan: Plan, tp: TablePlan, rows: RowSource, content: Path, work: Path,
                  progress: Progress | None = None, watch: _Watch | None = None, index: int = 0) -> TableDone:
    """Write one table's file and LOB files; its LOB list and deviations go to the work folder.

    Whatever an earlier, interrupted attempt left of this table is removed first, so a redone
    table is exactly what an uninterrupted run writes. With ``watch`` the scan's statistics are
    gathered while writing.
    """
    assert plan.finalized, "extract needs a finalized plan"
    shutil.rmtree(content / LOB_DIR / tp.file_name, ignore_errors=True)
    lob_list, dev_path = work_files(work, tp)
    spool = _LobSpool(lob_list)
    log = DeviationLog(dev_path, header=False)
    try:
        fr = _write_table(plan, tp, rows, content, log, spool, progress, watch, index)
    finally:
        spool.close()
        log.close()
    if watch is not None:
        watch.settle(fr.records)
        watch.lob_count, watch.lob_widths = spool.count, dict(spool.widths)
    return TableDone(fr, spool.count, spool.bytes, {action: n for (_, action), n in sorted(log.counts.items())})


MAX_PASSES = 3


def extract_scanning(plan0: Plan, tp0: TablePlan, rows: RowSource, content: Path, work: Path,
                     progress: Progress | None = None) -> tuple[TableScanned, TableDone]:
    """Extract one table of the provisional plan, scanning it on the way; write it again only when
    the data change how it must be written (a column archived as text, long texts moved to files,
    a UTF-8 fallback), so clean data are read once. Fixed width needs the widths first: it is
    scanned, then written. A write the system refuses (a full disk) is one ``OutputError``.
    """
    with writing(f"table {tp0.name}: cannot write its files in {content.parent}"):
        return _extract_scanning(plan0, tp0, rows, content, work, progress)


def _extract_scanning(plan0: Plan, tp0: TablePlan, rows: RowSource, content: Path, work: Path,
                      progress: Progress | None) -> tuple[TableScanned, TableDone]:
    empty = TableScanned(tp0.name, TableScan.of(tp0), 0, {})
    tp = refine_table(plan0, tp0, empty)
    fast = _extract_rendered(plan0, tp0, tp, rows, content, work, progress)
    if isinstance(fast, tuple):
        return fast
    if plan0.format == "fixed":
        scanned = scan_table(plan0, tp0, rows, progress)
        tp = refine_table(plan0, tp0, scanned)
        done = extract_table(_one_table(plan0, tp), tp, rows, content, work, progress)
        done.exact_reasons = fast
        return scanned, done
    index = [t.name for t in extracted_tables(plan0)].index(tp0.name)  # the SIARD table's number
    scanned, done = _extract_exact(plan0, tp0, tp, rows, content, work, progress, index)
    done.exact_reasons = fast
    return scanned, done


def _extract_exact(plan0: Plan, tp0: TablePlan, tp: TablePlan, rows: RowSource, content: Path, work: Path,
                   progress: Progress | None, index: int) -> tuple[TableScanned, TableDone]:
    """The reference path: every value rendered and checked here, the scan gathered while writing."""
    widened: dict[str, tuple[int, list[str]]] = {}
    for attempt in range(MAX_PASSES):
        watch = _Watch(TableScan.of(tp0), tp0.charset, plan0.charset,
                       plan0.format == "xml")
        label = progress if attempt == 0 or progress is None else _relabel(progress, f"(pass {attempt + 1})")
        done = extract_table(_one_table(plan0, tp), tp, rows, content, work, label, watch, index)
        widened.update(widened_columns(watch.ts))
        carry_widened(watch.ts, widened)
        watch.ts.decide_fallback(tp0.charset, plan0.charset)
        scanned = TableScanned(tp0.name, watch.ts, watch.lob_count, watch.lob_widths, None)
        final = refine_table(plan0, tp0, scanned)
        if layout(plan0, final) == layout(plan0, tp):
            scanned.codes = code_pairs(plan0, tp0, rows, watch.ts.rows)
            return scanned, done
        tp = final
    raise ExtractionError(f"{tp0.name}: the table's layout still changed after {MAX_PASSES} passes (is the source "
                          "in use?); run the extract again.")


def _extract_rendered(plan0: Plan, tp0: TablePlan, tp: TablePlan, rows: RowSource, content: Path, work: Path,
                      progress: Progress | None) -> tuple[TableScanned, TableDone] | dict[str, str]:
    """The fast path: the table's statistics from one aggregate query, its file as the server renders it
    (``rendered``). Delimited: the statistics are counted beside the reading of the file (on a second
    connection in the same snapshot where the engine has one) and the file is dropped when they say the
    table must take the exact path; fixed width: counted first, for the widths. Returns why the
    table must take the exact path instead."""
    source = rows.source if isinstance(rows, DialectRows) else None
    if source is None:
        return {"": "rows without a source that renders"}
    request, reasons = render_request(plan0, tp)
    if request is None:
        return reasons
    table = tp.source
    assert table is not None
    reasons = source.server_rendering(table, request)
    if reasons:
        return reasons
    if plan0.format == "fixed":  # the widths (and _lengde fields) come from the statistics: count them first
        stats = source.rendered_statistics(table, request)
        reasons = _refusals(stats)
        if reasons:
            return reasons
        scanned = scanned_from(tp0, request, stats)
        tp = refine_table(plan0, tp0, scanned)
        request, reasons = render_request(plan0, tp)
        if request is None:
            return reasons
        pending: PendingStatistics | None = None
    else:  # counted beside the reading of the file; a refusal stops the reading
        pending = source.rendered_statistics_beside(table, request)
    shutil.rmtree(content / LOB_DIR / tp.file_name, ignore_errors=True)
    lob_list, dev_path = work_files(work, tp)
    _LobSpool(lob_list).close()
    DeviationLog(dev_path, header=False).close()
    path = content / f"{tp.file_name}{plan0.file_ext}"
    tick = progress(tp.name, None) if progress else None
    records = 0
    try:
        with HashingFile(path) as fh:
            for data, n in source.rendered_records(table, request):
                fh.write(data)
                records += n
                if tick is not None:
                    tick(n)
                if pending is not None and pending.done() and _refusals(pending.result()):
                    break  # the statistics send the table to the exact path: stop reading it
        if pending is not None:
            stats = pending.result()
    except RenderingRefused as exc:  # the exact path writes it, where the charset policy applies
        if pending is not None:
            pending.abandon()
        path.unlink(missing_ok=True)
        return {"": str(exc)}
    except BaseException:
        if pending is not None:
            pending.abandon()
        raise
    reasons = _refusals(stats)
    scanned = scanned_from(tp0, request, stats)
    if not reasons and layout(plan0, refine_table(plan0, tp0, scanned)) != layout(plan0, tp):
        reasons = {"": "the statistics change how the table is written"}
    if reasons:
        path.unlink(missing_ok=True)
        return reasons
    if records != stats.rows:
        raise ExtractionError(f"{tp.name}: {records} records were written where the statistics counted {stats.rows} "
                              "(is the source in use?); run the extract again.")
    scanned.codes = code_pairs(plan0, tp0, rows, records)
    return scanned, TableDone(FileResult(path.name, records, fh.size, fh.sha256), rendering=SERVER)


def _refusals(stats: RenderedStatistics) -> dict[str, str]:
    """The columns whose values send the table to the exact path, with why."""
    return {c: rc.refusal for c, rc in stats.columns.items() if rc.refusal}


def layout(plan: Plan, tp: TablePlan) -> tuple[Any, ...]:
    """What decides a table file's bytes: its charset and its fields (and widths in fixed format)."""
    fixed = plan.format == "fixed"
    return tp.charset, tuple((f.name, f.column, f.kind, f.role, f.scale, f.width if fixed else None)
                             for f in tp.fields)


def _one_table(plan0: Plan, tp: TablePlan) -> Plan:
    return replace(plan0, tables=(tp,), finalized=True)


def _relabel(progress: Progress, suffix: str) -> Progress:
    def relabelled(label: str, total: int | None = None) -> Any:
        return progress(f"{label} {suffix}", total)
    return relabelled


def finish(plan: Plan, done: dict[str, TableDone], content: Path, work: Path, deviations: Path,
           relations: dict[str, dict[str, int]] | None = None) -> ExtractResult:
    """Join the finished tables in plan order: the LOB list file, the deviation report (with the
    dangling references ``keys.check_relations`` left per table), XML schemas."""
    result = ExtractResult()
    plain: dict[str, tuple[str, dict[str, str]]] = {}
    """A path without reasons, one object for all the tables that took it (it is kept to the end)."""
    with DeviationLog(deviations) as log:
        for tp in plan.tables:
            for note in tp.notes:  # the final plan's notes: they come from the whole scan
                log.add(tp.name, "", "", "table_note", note)
            if tp.name in done:
                td = done[tp.name]
                result.files[tp.name] = td.file
                result.lob_files += td.lob_files
                result.lob_bytes += td.lob_bytes
                result.rendering[tp.name] = ((td.rendering, td.exact_reasons) if td.exact_reasons
                                             else plain.setdefault(td.rendering, (td.rendering, {})))
                log.append_file(work_files(work, tp)[1], tp.name, td.deviations)
            if relations and tp.name in relations:
                log.append_file(work / f"{tp.file_name}.relations.tsv", tp.name, relations[tp.name])
        result.deviations = log.counts
    if any(tp.name == LOB_TABLE and tp.source is None for tp in plan.tables):
        tp = plan.table(LOB_TABLE)
        entries = (e for t in extracted_tables(plan) for e in _spooled(work_files(work, t)[0]))
        records = ([e[f.name] for f in tp.fields] for e in entries)
        result.files[LOB_TABLE] = _write_records(plan, tp, records, content)
    if plan.format == "xml":
        for tp in plan.tables:
            size, digest = write_file(content / f"{tp.file_name}.xsd", xsd_document(tp))
            result.schemas[tp.name] = FileResult(f"{tp.file_name}.xsd", 0, size, digest, "schema")
    return result


def _open_writer(plan: Plan, tp: TablePlan, fh: HashingFile,
                 index: int = 0) -> tuple[Callable[[list[Any]], None], Callable[[], None]]:
    codec = CHARSETS[tp.charset]
    if plan.format == "siard":
        sw = SiardTableWriter(fh, index, len(tp.fields))
        return sw.write, sw.close
    if plan.format == "xml":
        xw = XmlTableWriter(fh, tp, tp.charset)
        return xw.write, xw.close
    if plan.format == "fixed":
        widths = [f.width or 1 for f in tp.fields]
        right = [f.align == "right" for f in tp.fields]
        return (lambda vals: fh.write(fixed_record(vals, widths, right).encode(codec))), (lambda: None)
    return (lambda vals: fh.write(delimited_record(vals).encode(codec))), (lambda: None)


def _write_records(plan: Plan, tp: TablePlan, records: Any, content: Path) -> FileResult:
    path = content / f"{tp.file_name}{plan.file_ext}"
    count = 0
    with HashingFile(path) as fh:
        write, close = _open_writer(plan, tp, fh)
        for rec in records:
            write(rec)
            count += 1
        close()
    return FileResult(path.name, count, fh.size, fh.sha256)


def _write_table(plan: Plan, tp: TablePlan, rows: RowSource, content: Path, log: DeviationLog,
                 spool: _LobSpool, progress: Progress | None, watch: _Watch | None = None, index: int = 0) -> FileResult:
    steps = _compile(plan, tp, content, log, spool, watch, index)
    path = content / f"{tp.file_name}{plan.file_ext}"
    tick = progress(tp.name, None) if progress else None
    recno = 0
    with HashingFile(path) as fh:
        write, close = _open_writer(plan, tp, fh, index)
        for row in rows(tp, tp.columns):
            recno += 1
            out: list[str | None] = []
            for step in steps:
                step(row, recno, out)
            try:
                write(out)
            except ValueError as exc:  # a value wider than the field the scan measured
                raise ExtractionError(
                    f"{tp.name} [{row_key(tp, row, recno)}]: {exc}. The value changed after it was scanned "
                    "(is the source in use, or did it change before --resume?); run the extract again without "
                    "--resume.") from None
            if tick is not None and recno % 1000 == 0:
                tick(1000)
        close()
    if tick is not None:
        tick(recno % 1000)
    return FileResult(path.name, recno, fh.size, fh.sha256)


Step = Callable[[tuple[Any, ...], int, list[Any]], None]


@dataclass
class _Watch:
    """Scan statistics gathered while writing (one pass instead of a scan pass and a write pass),
    counted by the scan's own ``ColumnWatch``."""

    ts: TableScan
    base: str
    """The charset findings are counted against (the plan's, also for a table written as UTF-8)."""
    policy: CharsetPolicy
    xml: bool
    lob_count: int = 0
    lob_widths: dict[str, int] = field(default_factory=dict)
    columns: list[ColumnWatch] = field(default_factory=list)

    def column(self, plan: Plan, tp: TablePlan, column: str, kind: str, codes: frozenset[str] | None) -> ColumnWatch:
        cw = ColumnWatch(self.ts, tp, column, kind, self.base, self.policy, self.xml, plan.long_text_limit, codes)
        self.columns.append(cw)
        return cw

    def settle(self, rows: int) -> None:
        """After the last row (``ColumnWatch.settle``)."""
        self.ts.rows = rows
        for cw in self.columns:
            cw.settle(rows)


def _compile(plan: Plan, tp: TablePlan, content: Path, log: DeviationLog, spool: _LobSpool,
             watch: _Watch | None, table_index: int = 0) -> list[Step]:
    """One step per source column, appending that column's field(s) to the record."""
    index = {c: i for i, c in enumerate(tp.columns)}
    style = style_for(plan)
    by_column: dict[str, list[Any]] = {}
    steps: list[Step] = []
    for f in tp.fields:
        if f.role == "surrogate":
            steps.append(_surrogate_step)
        else:
            by_column.setdefault(f.column or "", []).append(f)
    for column, fields in by_column.items():
        main = fields[0]
        companions = {f.role for f in fields[1:]}
        i = index[column]
        lob = (_SiardLobs(plan, tp, table_index, tp.fields.index(main) + 1, content) if plan.format == "siard"
               else None)
        if main.role == "lobpath":
            steps.append(_binary_step(plan, tp, column, main.name, i, content, log, spool, watch, lob))
        else:
            codes = code_set(main)
            render = column_renderer(tp, column, main.kind, style)
            steps.append(_value_step(plan, tp, column, main.kind, render, i,
                                     "textfile" in companions, "length" in companions, content, log, spool,
                                     watch, codes, lob if main.role in LOB_ROLES else None))
        if tp.source is not None:
            for lk in tp.source.lookups:
                if lk.column == column and lk.keep_as:
                    steps.append(_unresolved_step(tp, lk.column, lk.target.name, index[lk.column], index[lk.keep_as],
                                                  log))
    return steps


def _surrogate_step(row: tuple[Any, ...], recno: int, out: list[Any]) -> None:
    """The key the extraction adds to a table without one: the record number."""
    out.append(str(recno))


def _unresolved_step(tp: TablePlan, column: str, target: str, i: int, original: int, log: DeviationLog) -> Step:
    """Report a pointer whose address matches no row of the target (the field is left empty)."""
    def step(row: tuple[Any, ...], recno: int, out: list[Any]) -> None:
        if row[i] is None and row[original] is not None:
            log.add(tp.name, column, row_key(tp, row, recno), "pointer_unresolved",
                    f"address {row[original]!r} matches no row of {target}; the field is left empty")
    return step


def _binary_step(plan: Plan, tp: TablePlan, column: str, field_name: str, i: int, content: Path,
                 log: DeviationLog, spool: _LobSpool, watch: _Watch | None, lob: _SiardLobs | None = None) -> Step:
    cw = watch.column(plan, tp, column, "binary", None) if watch else None

    def step(row: tuple[Any, ...], recno: int, out: list[Any]) -> None:
        value = row[i]
        if value is None:
            out.append(None)
            if cw is not None:
                cw.null()
            return
        try:
            data = as_bytes(value)
        except TypeError:
            if cw is not None:  # archived as text instead: write the table again
                cw.nonconforming(row, recno, "text in a binary column")
                out.append(None)
                return
            data = str(value).encode("utf-8")
            log.add(tp.name, column, row_key(tp, row, recno), "text_in_binary_column",
                    "text value in a binary column; its UTF-8 bytes were written to the file")
        ext = sniff(data)
        if lob is not None:
            rel, cell = lob.store(data, recno, ext, len(data))
            out.append(cell)
        else:
            rel = lob_path(LOB_DIR, tp.file_name, tp.columns, column, recno, ext)
            out.append(rel)
        size, digest = write_file(content / rel, data)
        spool.add({"fil": rel, "tabell": tp.name, "felt": field_name, "post": str(recno),
                   "bytes": str(size), "sha256": digest, "innhold": describe_kind(ext, None)})
        if lob is not None:
            out[-1] = LobCell(out[-1].file, size, digest)
        if cw is not None:
            cw.binary(None if lob is not None else rel)  # a SIARD cell's length is not a path's

    return step


def _value_step(plan: Plan, tp: TablePlan, column: str, kind: str, render: Callable[[Any], str], i: int,
                textfile: bool, length: bool, content: Path, log: DeviationLog, spool: _LobSpool,
                watch: _Watch | None = None, codes: frozenset[str] | None = None,
                lob: _SiardLobs | None = None) -> Step:
    texty = kind in TEXT_KINDS
    encoding = tp.charset
    codec = CHARSETS[encoding]
    limit = plan.long_text_limit
    policy = plan.charset
    replacements = dict(policy.mapping)
    cw = watch.column(plan, tp, column, kind, codes) if watch else None
    count = cw.text if cw is not None else None
    note_null = cw.null if cw is not None else None
    same_base = watch is not None and watch.base == encoding
    stop_xml = watch is not None and watch.xml
    nones = (None,) * (1 + textfile + length)  # the record's fields for this column when it is empty

    def step(row: tuple[Any, ...], recno: int, out: list[Any]) -> None:
        value = row[i]
        if value is None:
            out.extend(nones)
            if note_null is not None:
                note_null()
            return
        try:
            text = render(value)
        except Nonconforming as exc:
            if kind == "unknown":
                text = hex_text(value)
                log.add(tp.name, column, row_key(tp, row, recno), "binary_as_hex",
                        "binary value in a text column written as upper-case hex digits")
            elif cw is not None:  # archived as text instead: write the table again
                cw.nonconforming(row, recno, str(exc))
                out.extend(nones)
                return
            else:
                raise ExtractionError(
                    f"{tp.name}.{column} [{row_key(tp, row, recno)}]: {exc}. The value changed after it "
                    "was scanned (is the source in use?); run the extract again.") from None
        if not texty:
            if count is not None:
                count(text, row, recno)
            out.append(text)
            if textfile:
                out.append(None)
            if length:
                out.append(str(len(text)))
            return
        if "\x00" in text:  # legal in the charset, but a trap for readers; say so
            log.add(tp.name, column, row_key(tp, row, recno), "nul_kept",
                    f"{text.count(chr(0))} NUL character(s) (U+0000) in the value, kept as they are")
        bad = foreign_chars(text, encoding)
        if count is not None:
            count(text, row, recno, bad if same_base else None)
        if bad:
            text, mapped = apply_mapping(text, policy, encoding)
            key = row_key(tp, row, recno)
            if mapped:
                detail = ", ".join(f"{codepoints(c)} -> {replacements[c]!r}" for c in mapped)
                log.add(tp.name, column, key, "mapped", detail)
            left = foreign_chars(text, encoding)
            if left:
                if cw is not None:  # counted: the run stops, or the table is written again as UTF-8
                    out.extend(nones)
                    return
                raise ExtractionError(
                    f"{tp.name}.{column} [{key}]: {codepoints(left)} cannot be written as {encoding} "
                    "and the value was not seen when it was scanned (is the source in use?); "
                    "run the extract again.")
        if stop_xml and xml_invalid(text):  # counted: the run stops after the scan
            out.extend(nones)
            return
        if len(text) > limit:
            if lob is not None:  # SIARD: a CLOB cell whose text is a file
                data = text.encode("utf-8")
                rel, cell = lob.store(data, recno, "txt", len(text))
                size, digest = write_file(content / rel, data)
                spool.add({"fil": rel, "tabell": tp.name, "felt": tp.fields[lob.column - 1].name,
                           "post": str(recno), "bytes": str(size), "sha256": digest,
                           "innhold": describe_kind("txt", "UTF-8")})
                out.append(LobCell(cell.file, cell.length, digest))
                return
            if textfile:
                rel = lob_path(LOB_DIR, tp.file_name, tp.columns, column, recno, "txt")
                size, digest = write_file(content / rel, text.encode(codec))
                spool.add({"fil": rel, "tabell": tp.name, "felt": tp.companion(column, "_fil"), "post": str(recno),
                           "bytes": str(size), "sha256": digest, "innhold": describe_kind("txt", encoding)})
                out.append(None)
                out.append(rel)
                if length:
                    out.append(None)  # the field itself is NULL; the file holds the value
                return
        out.append(text)
        if textfile:
            out.append(None)
        if length:
            out.append(str(len(text)))

    return step


class _SiardLobs:
    """Where one SIARD column's large objects go: into the SIARD file (staged under the table's LOB
    folder, ``siard/``), or, from ``plan.lobs_outside`` bytes on, beside it in ``content/lob/``,
    where they stay; the cell's ``file`` URI is final either way."""

    def __init__(self, plan: Plan, tp: TablePlan, index: int, column: int, content: Path) -> None:
        self.index, self.column, self.outside = index, column, plan.lobs_outside
        self.own = f"{LOB_DIR}/{tp.file_name}"
        self.folder = external_folder(tp)

    def store(self, data: bytes, recno: int, ext: str, length: int) -> tuple[str, LobCell]:
        """The staged path (from ``content/``) and the cell, its digest still to be filled in."""
        if self.outside is not None and len(data) >= self.outside:
            rel = f"{self.own}/lob{self.column}/record{recno}.{ext}"
            return rel, LobCell(f"../{LOB_DIR}/{self.folder}/lob{self.column}/record{recno}.{ext}", length, "")
        rel = f"{self.own}/siard/lob{self.column}/record{recno}.{ext}"
        return rel, LobCell(lob_member(self.index, self.column, recno, ext), length, "")
