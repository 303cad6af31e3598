"""One load: read the extract as ``validate`` reads it, stream every file into the target, settle keys, report.

The extract is opened by the validation package (``open_source``: a folder, a content folder or
a tar read in place, every member vetted; ``parse_xml`` and ``read_addml`` for addml.xml), so
``load`` reads what ``validate`` reads and nothing else. Each flat file is read once, record by
record (``FlatFileReader``); several record types in one file go to their own tables. Rows are
written in batches; memory holds one batch per table of the file being read.
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

from ..errors import OutputError, UnreadableInputError
from ..validation.addml_model import kid
from ..validation.description import read_description
from ..validation.flatfile_read import BadRecord, FlatFileReader
from ..validation.keystore import DEFAULT_MEMORY_KEYS, KeyStore
from ..validation.source import Source, open_source
from ..validation.xml_describe import read_data_objects
from ..validation.xml_schema import SchemaRefused, TableSchema, load_table_schema
from .convert import Unconvertible, xsd_column_type
from .describe import Descriptions, read_descriptions
from .keys import settle_keys
from .plan import Plan, Table, plan_flat_files, plan_xml
from .report import Line, LoadReport, TableResult
from .rows import Limits, RowMaker, XmlProblem, xml_rows
from .target import Target, open_target

BATCH_ROWS = 1000
BATCH_BYTES = 64 << 20
"""A batch is written when it holds this many rows or (with LOB files) bytes."""


class _Batches:
    """Rows waiting to be written, per table, and the report lines waiting for ``uttrekk_avvik``."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.rows: dict[str, list[tuple[object, ...]]] = {}
        self.bytes: dict[str, int] = {}
        self.columns: dict[str, list[str]] = {}
        self.blobs: dict[str, list[int]] = {}
        self.lines: list[tuple[object, ...]] = []

    def add(self, t: Table, row: tuple[object, ...]) -> None:
        rows = self.rows.setdefault(t.name, [])
        rows.append(row)
        if t.name not in self.columns:
            self.columns[t.name] = [c.name for c in t.columns]
            self.blobs[t.name] = [k for k, c in enumerate(t.columns) if c.kind == "blob" or c.long_text_in is not None]
        blobs = self.blobs[t.name]
        if blobs:
            size = sum(len(v) for k in blobs if isinstance(v := row[k], (bytes, str)))
            self.bytes[t.name] = self.bytes.get(t.name, 0) + size
        if len(rows) >= BATCH_ROWS or self.bytes.get(t.name, 0) >= BATCH_BYTES:
            self.flush_table(t.name)

    def line(self, line: Line) -> None:
        self.lines.append((line.table, line.record, line.key, line.column, line.value, line.what))
        if len(self.lines) >= BATCH_ROWS:
            self.flush_lines()

    def flush_table(self, name: str) -> None:
        rows = self.rows.pop(name, [])
        self.bytes.pop(name, None)
        if rows:
            self.target.insert(name, self.columns[name], rows)

    def flush_lines(self) -> None:
        if self.lines:
            self.target.insert("uttrekk_avvik", AVVIK_COLUMNS, self.lines)
            self.lines = []

    def flush(self) -> None:
        for name in list(self.rows):
            self.flush_table(name)
        self.flush_lines()


AVVIK_COLUMNS = ["tabell", "post", "nokkel", "felt", "verdi", "hva"]
META = {
    "uttrekk_avvik": [("tabell", "text"), ("post", "integer"), ("nokkel", "text"), ("felt", "text"), ("verdi", "text"),
                      ("hva", "text")],
    "uttrekk_beskrivelse": [("tabell", "text"), ("felt", "text"), ("beskrivelse", "text"), ("datatype", "text"),
                            ("format", "text"), ("lastet_som", "text"), ("opphav", "text")],
    "uttrekk_nokler": [("tabell", "text"), ("navn", "text"), ("type", "text"), ("kolonner", "text"),
                       ("peker_pa", "text"), ("peker_pa_kolonner", "text"), ("erklaert", "boolean"),
                       ("hvorfor", "text")],
}


def default_report_path(into: str) -> Path:
    low = into.lower()
    if low.startswith(("postgresql", "postgres:")):
        db = into.rsplit("/", 1)[-1].split("?", 1)[0] or "postgresql"
        return Path(f"{db}.load-report.tsv")
    path = Path(into.split(":///", 1)[1] if low.startswith("sqlite:///") else into)
    return path.with_name(path.name + ".load-report.tsv")


def load_path(path: str | Path, into: str, report_path: Path | None = None, tmpdir: str | None = None,
              progress: Callable[[str], None] | None = None) -> str:
    """Load the extract at ``path`` into ``into``; return the summary (the report is written to ``report_path``).

    ``progress`` hears one line per file loaded and per step after the data."""
    say = progress or (lambda _: None)
    report_path = report_path or default_report_path(into)
    _refuse_writing_into(Path(path), into, report_path)
    with KeyStore(DEFAULT_MEMORY_KEYS, tmpdir) as keys, open_source(path, keys) as source:
        described = read_description(source)  # as validate reads it: every age and layout, mended where broken
        doc, xml_notes = described.doc, described.notes
        texts = read_descriptions(doc.root)
        target = open_target(into)
        partial = report_path.with_name(report_path.name + ".partial")
        try:
            plan = _plan(doc, texts, source, target)
            if not plan.tables:
                raise UnreadableInputError(f"{path}: addml.xml describes no file that can be loaded"
                                           + (f" ({'; '.join(plan.notes)})" if plan.notes else ""))
            try:
                out = partial.open("w", encoding="utf-8", newline="")
            except OSError as exc:
                raise OutputError(f"{report_path}: the report cannot be written ({exc})") from None
            with out:
                batches = _Batches(target)
                report = LoadReport(out, batches.line)
                for note in [*xml_notes, *(f"addml.xml: {p.message}" for p in doc.problems if p.severity == "error"),
                             *plan.notes, *source.notes]:
                    report.note(note)
                _create(plan, target)
                for t in plan.tables:
                    report.tables[t.name] = TableResult(t.name, t.origin, declared=t.declared_records)
                if plan.tables[0].obj is not None:
                    for t in plan.tables:
                        _load_xml(t, source, target, batches, report)
                        say(f"{t.path}: {report.tables[t.name].loaded:,} row(s) into {t.name}")
                else:
                    _load_flat(plan, doc, source, target, batches, report, say)
                batches.flush()
                _code_tables(plan, target)
                say("verifying and declaring keys")
                key_rows = settle_keys(plan, target, report)
                target.insert("uttrekk_nokler", [n for n, _ in META["uttrekk_nokler"]], key_rows)
                _describe(plan, target)
                batches.flush()
                summary = report.summary(target.label, str(report_path))
            target.finish()
        except BaseException as exc:
            partial.unlink(missing_ok=True)
            try:
                target.abort()
            except Exception:  # noqa: BLE001 - the first error is the one to show
                pass
            if isinstance(exc, target.errors):
                raise OutputError(f"{target.label}: writing failed ({target.clean(exc)}); {target.left}") from None
            raise
    os.replace(partial, report_path)
    return summary


def _refuse_writing_into(extract: Path, into: str, report_path: Path) -> None:
    """The extract is only read: nothing is written inside its folder, and an earlier report is not replaced."""
    places = [report_path]
    if not into.lower().startswith(("postgresql", "postgres:")):
        places.append(Path(into.split(":///", 1)[1] if into.lower().startswith("sqlite:///") else into))
    if extract.is_dir():
        root = extract.resolve()
        for place in places:
            if place.resolve().is_relative_to(root):
                raise OutputError(f"{place} is inside the extract {extract}, which load only reads; write elsewhere")
    if report_path.exists() or report_path.is_symlink():
        raise OutputError(f"{report_path} exists; uttrekk load does not replace it: give --report another file "
                          "(nothing was loaded)")


def _plan(doc, texts: Descriptions, source: Source, target: Target) -> Plan:  # type: ignore[no-untyped-def]
    if doc.has_flat_files:
        return plan_flat_files(doc, texts, target.fraction_limit)
    if kid(doc.dataset, "dataObjects") is None:
        raise UnreadableInputError("addml.xml describes neither flat files nor data objects; nothing to load")
    objects, _problems = read_data_objects(doc.dataset)
    tables: list[tuple] = []  # type: ignore[type-arg]
    for obj in objects:
        if not obj.is_table:
            continue
        layout: TableSchema | None = None
        if obj.schema_path is not None:
            entry = source.entry(obj.schema_path)
            if entry is not None and entry.regular:
                try:
                    layout = load_table_schema(source.read_small(obj.schema_path), f"content/{obj.schema_path}")
                except SchemaRefused:
                    layout = None
        tables.append((obj, layout))
    plan = plan_xml(tables, texts, target.fraction_limit)
    for t in plan.tables:
        _zones(t, source, target, plan)
    return plan


_OFFSET = re.compile(r"(Z|[+-][0-9]{2}:[0-9]{2})\s*$")


def _zones(t: Table, source: Source, target: Target, plan: Plan) -> None:
    """xs:dateTime says nothing of time zones: one streamed pass over the file looks at the values.

    Every value with an offset: TIMESTAMPTZ; none: TIMESTAMP; both kinds: text (a note says why).
    """
    stamps = [c for c in t.columns if c.kind == "timestamp"]
    if not stamps or t.path is None:
        return
    entry = source.entry(t.path)
    if entry is None or not entry.regular:
        return
    seen = {c.index: set() for c in stamps}  # type: dict[int, set[bool]]
    try:
        with source.open(t.path) as stream:
            for item in xml_rows(stream, t):
                if isinstance(item, XmlProblem):
                    break
                values, present, _ = item
                for i, found in seen.items():
                    if present[i] and len(found) < 2:
                        found.add(_OFFSET.search(values[i]) is not None)
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise _read_error(source, t.path, exc) from None
    for c in stamps:
        found = seen[c.index]
        if found == {True}:
            c.ctype = xsd_column_type(None, target.fraction_limit, "timestamptz")
        elif found == {True, False}:
            c.ctype = xsd_column_type(None, target.fraction_limit, "text")
            plan.notes.append(f"{t.name}.{c.name}: loaded as text, some of its timestamps have a time zone offset "
                              "and some do not")


def _create(plan: Plan, target: Target) -> None:
    for name, cols in META.items():
        target.create_table(name, [(n, target.sql_type(k)) for n, k in cols])
    for t in plan.tables:
        target.create_table(t.name, [(c.name, target.sql_type(c.kind)) for c in t.columns])


def _read_error(source: Source, path: str, exc: BaseException) -> UnreadableInputError:
    return UnreadableInputError(f"{source.label}: content/{path} cannot be read: {exc}; nothing was loaded")


def _load_flat(plan: Plan, doc, source: Source, target: Target, batches: _Batches,  # type: ignore[no-untyped-def]
               report: LoadReport, say: Callable[[str], None]) -> None:
    limits = Limits(target.nul_in_text)
    by_record = {id(t.rdef): t for t in plan.tables}
    for flat in doc.flat_files:
        fdef = flat.definition
        tables = [by_record[id(r)] for r in (fdef.records if fdef else []) if id(r) in by_record]
        if not tables or flat.path is None or fdef is None or fdef.ftype is None:
            continue
        entry = source.entry(flat.path)
        if entry is None or not entry.regular:
            for t in tables:
                report.add(Line(t.name, None, None, None, flat.path, "the file is not in the extract (or not a regular "
                                                                     "file); the table is empty"))
            continue
        makers = {id(t.rdef): RowMaker(t, source, report.add, limits) for t in tables}
        results = {id(t.rdef): report.tables[t.name] for t in tables}
        try:
            with source.open(flat.path) as stream:
                reader = FlatFileReader(stream, fdef, fdef.ftype, None)
                for item in reader:
                    if isinstance(item, BadRecord):
                        rdef = next((r for r in fdef.records if r.name == item.rdef), None)
                        owner = by_record.get(id(rdef)) if rdef is not None else None
                        if owner is not None:
                            results[id(rdef)].records += 1
                        report.add(Line(owner.name if owner else flat.path, item.number, None, None, item.text,
                                        f"a record that cannot be cut into its fields: {item.message}; not loaded "
                                        "(the value shown is its first 40 characters)"))
                        continue
                    maker = makers[id(item.rdef)]
                    results[id(item.rdef)].records += 1
                    batches.add(maker.t, maker.row(item.values, item.quoted, item.number))
                    results[id(item.rdef)].loaded += 1
                for bad in reader.header_bad:
                    report.add(Line(tables[0].name, None, None, None, bad.text, f"a header line: {bad.message}"))
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise _read_error(source, flat.path, exc) from None
        say(f"{flat.path}: " + ", ".join(f"{results[id(t.rdef)].loaded:,} row(s) into {t.name}" for t in tables))
        if len(tables) > 1 and flat.declared_records is not None:
            total = sum(r.records for r in results.values())
            if total != flat.declared_records:
                report.note(f"{flat.path}: addml.xml declares {flat.declared_records:,} records, the file "
                                    f"has {total:,}")


def _load_xml(t: Table, source: Source, target: Target, batches: _Batches, report: LoadReport) -> None:
    assert t.path is not None
    entry = source.entry(t.path)
    result = report.tables[t.name]
    if entry is None or not entry.regular:
        report.add(Line(t.name, None, None, None, t.path, "the file is not in the extract; the table is empty"))
        return
    maker = RowMaker(t, source, report.add, Limits(target.nul_in_text))
    try:
        with source.open(t.path) as stream:
            for item in xml_rows(stream, t):
                if isinstance(item, XmlProblem):
                    report.add(Line(t.name, item.record, None, None, None, item.message))
                    continue
                values, present, number = item
                result.records += 1
                batches.add(t, maker.row(values, present, number))
                result.loaded += 1
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise _read_error(source, t.path, exc) from None


def _code_tables(plan: Plan, target: Target) -> None:
    for ct in plan.code_tables:
        values: list[object] = []
        kind = ct.column.kind
        for code, _ in ct.codes:
            try:
                values.append(ct.column.convert(code.strip()) if kind != "text" else code)
            except Unconvertible:
                kind = "text"
                break
        if kind == "text" or len(set(values)) != len(values):  # '01' and '1' are one integer: kept as text
            kind = "text"
            values = [code for code, _ in ct.codes]
        ct.kind = kind
        target.create_table(ct.name, [("kode", target.sql_type(kind)), ("forklaring", target.sql_type("text"))])
        target.insert(ct.name, ["kode", "forklaring"], [(v, e) for v, (_, e) in zip(values, ct.codes, strict=True)])


def _describe(plan: Plan, target: Target) -> None:
    rows: list[tuple[object, ...]] = []
    if plan.dataset:
        rows.append((None, None, plan.dataset, None, None, None, "addml.xml dataset"))
    for t in plan.tables:
        rows.append((t.name, None, t.description, None, None, None, t.origin))
        if t.description:
            target.comment(t.name, None, t.description)
        for c in t.columns:
            rows.append((t.name, c.name, c.description, c.data_type or None, c.fmt, target.sql_type(c.kind),
                         c.field or None))
            if c.description:
                target.comment(t.name, c.name, c.description)
    for ct in plan.code_tables:
        text = f"Kodeliste for {ct.table.name}.{ct.column.name} fra addml.xml."
        rows.append((ct.name, None, text, None, None, None, f"{ct.table.origin}/{ct.column.field}"))
        target.comment(ct.name, None, text)
    target.insert("uttrekk_beskrivelse", [n for n, _ in META["uttrekk_beskrivelse"]], rows)

