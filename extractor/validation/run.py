"""Validate one extract: read addml.xml, stream every flat file once through every check, report.

The order is Arkade's: for each flat file, the file-level processes see the file, then every
record goes to the file- and record-level processes and every value to the file- and field-level
processes; at the end of the file each process reports what it keeps per file; after the last
file come the checks that span files (foreign keys, extra or missing files). uttrekk's own checks
ride along in the same pass.
"""

from __future__ import annotations

import sqlite3
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OutputError, UnreadableInputError
from .addml_model import Addml, FieldDef, FlatFile, FlatFileDef, Problem, RecordDef, kid
from .arkade import PROCESSES
from .checksum import report_checksum
from .controls import ControlForeignKey
from .description import read_description
from .dias_checks import check_package
from .extra_files import check_extra_or_missing
from .findings import ERROR, INFO, WARNING, FileSummary, Findings, Report
from .flatfile_read import HASHES, BadRecord, FlatFileReader, Record
from .keystore import DEFAULT_MEMORY_KEYS, KeyStore, ValueSet
from .own_checks import Charset, ForeignKeys, KeyCollector, NullAndEmpty
from .processes import FileCtx, Process, RunState
from .profile_rules import check_profile
from .source import BEFORE_2017, Source, TarSource, open_source, siard_content
from .xml_data import check_xml_extract
from .xsd import check_dtd, check_schema

RecordCall = Callable[[Record], None]
BATCH = 1024
"""Records of one type gathered before their fields are checked column by column."""


@dataclass
class _RecordPlan:
    record_calls: list[RecordCall] = field(default_factory=list)
    columns: list[tuple[int, FieldDef, list[Process]]] = field(default_factory=list)
    records: int = 0
    """Records of this definition read in the file (for the report's summary, whatever processes run)."""

    def flush(self, recs: list[Record]) -> None:
        # One transposition in C: the records of one type all have the same number of fields.
        columns = list(zip(*[r.values for r in recs], strict=True))
        for i, fd, procs in self.columns:
            values = list(columns[i])
            for p in procs:
                p.on_column(fd, values, recs)
        recs.clear()


def _overrides(process: Process, method: str) -> bool:
    """Whether the process does anything with records (or values): calling a no-op per value costs."""
    return getattr(type(process), method) is not getattr(Process, method)


class Engine:
    """One validation run over a parsed addml.xml and its source."""

    def __init__(self, doc: Addml, source: Source, state: RunState) -> None:
        self.doc = doc
        self.source = source
        self.state = state
        self.findings = state.findings
        self.instances: dict[str, Process] = {}
        self.charset = Charset(state)
        self.null_empty = NullAndEmpty(state)
        self.foreign = ForeignKeys(state)
        self.collectors: dict[int, list[KeyCollector]] = {}
        self.summaries: list[FileSummary] = []
        for fdef in doc.definitions.values():
            for name in [*fdef.processes, *(p for r in fdef.records for p in r.processes),
                         *(p for r in fdef.records for f in r.fields for p in f.processes)]:
                if name not in self.instances:
                    self.instances[name] = PROCESSES[name](state)
        self._wire_keys()

    def _target(self, fdef: FlatFileDef, rdef: RecordDef, n: int) -> RecordDef | None:
        key = rdef.keys[n]
        target = next((d for d in self.doc.definitions.values() if d.name.lower() == (key.ref_file or "").lower()), None)
        trec = target.record(key.ref_record or "") if target else None
        if trec is None or any(trec.field(x) is None for x in key.ref_fields) or len(key.ref_fields) != len(key.fields):
            return None
        if any(rdef.field(x) is None for x in key.fields):
            return None
        return trec

    def _collector(self, rdef: RecordDef, fields: list[FieldDef], strip: bool = False) -> KeyCollector:
        idx = tuple(sorted(f.index for f in fields))
        for c in self.collectors.get(id(rdef), []):
            if tuple(f.index for f in c.fields) == idx and c.strip == strip:
                return c
        c = KeyCollector(self.state, rdef, fields, strip)
        self.collectors.setdefault(id(rdef), []).append(c)
        return c

    def _wire_keys(self) -> None:
        """Who collects which referenced values: AI.01 for A.16, and the referenced side of every U.05 key."""
        a16 = self.instances.get("Control_ForeignKey")
        for fdef in self.doc.definitions.values():
            for rdef in fdef.records:
                for n, key in enumerate(rdef.keys):
                    if key.kind != "foreign":
                        continue
                    target = self._target(fdef, rdef, n)
                    if target is None:
                        continue
                    refs = [f for f in (target.field(x) for x in key.ref_fields) if f is not None]
                    target_fixed = self._fixed(target)
                    self.foreign.watch(rdef, key, target, self._collector(target, refs, target_fixed), self._fixed(rdef))
                    if isinstance(a16, ControlForeignKey):
                        # Arkade collects primary keys (AI.01) only for records A.16 is named on.
                        collect = "Control_ForeignKey" in rdef.processes and bool(target.pk_fields)
                        a16.targets[(id(rdef), n)] = target if collect else None
                        if collect:
                            self._collector(target, target.pk_fields)

    def _fixed(self, rdef: RecordDef) -> bool:
        fdef = next((d for d in self.doc.definitions.values() if rdef in d.records), None)
        return bool(fdef and fdef.ftype and fdef.ftype.fixed)

    def _plan(self, fdef: FlatFileDef, fixed: bool, quoting: bool) -> tuple[dict[int, _RecordPlan], list[Process]]:
        file_procs = [self.instances[n] for n in fdef.processes]
        attached: list[Process] = list(dict.fromkeys(file_procs))
        plans: dict[int, _RecordPlan] = {}
        for rdef in fdef.records:
            plan = _RecordPlan()
            rec_procs = [self.instances[n] for n in rdef.processes]
            attached += rec_procs
            plan.record_calls = [p.on_record for p in file_procs + rec_procs if _overrides(p, "on_record")]
            plan.record_calls += [c.on_record for c in self.collectors.get(id(rdef), [])]
            if id(rdef) in self.foreign.by_record:
                plan.record_calls.append(self.foreign.on_record)
            for fd in rdef.fields:
                procs = [self.instances[n] for n in fd.processes]
                attached += procs
                column: list[Process] = [p for p in file_procs + procs
                                         if _overrides(p, "on_field") or _overrides(p, "on_column")]
                dt = fd.dtype.data_type if fd.dtype else "string"
                if fd.not_null or (quoting and not fixed and dt not in ("string", "link")):
                    column.append(self.null_empty)
                if column:
                    plan.columns.append((fd.index, fd, column))
            plans[id(rdef)] = plan
        return plans, list(dict.fromkeys(attached))

    def run(self) -> None:
        # In the input's order: a compressed tar is then read in one forward pass (the report keeps addml.xml's order).
        flats = sorted(self.doc.flat_files, key=lambda f: self.source.order(f.path) if f.path else 0)
        for flat in flats:
            if self.doc.kind != "addmml":
                self.findings.ran("AH.01")
            self.findings.ran("AH.03")
            fdef = flat.definition
            if fdef is None or not fdef.readable or flat.path is None or fdef.ftype is None:
                continue
            entry = self.source.entry(flat.path)
            if entry is None:
                continue  # AH.02 reports it
            if not entry.regular:
                self.findings.add("U.06", ERROR, "not a regular file (a link or device); not read", file=flat.path)
                continue
            self._read(flat, fdef)
        position = {f.path: n for n, f in enumerate(self.doc.flat_files)}
        self.summaries.sort(key=lambda s: position.get(s.file, 0))
        for p in self.instances.values():
            p.finish()
        self.foreign.finish()
        self._extra_or_missing()

    def _read(self, flat: FlatFile, fdef: FlatFileDef) -> None:
        ftype = fdef.ftype
        assert ftype is not None
        algorithm = (flat.checksum_algorithm or "").strip()
        hash_name = HASHES.get(algorithm.lower())
        fc = FileCtx(flat, fdef, flat.path or "", ftype.fixed)
        self.state.current = fc
        plans, attached = self._plan(fdef, ftype.fixed, ftype.quote is not None)
        for p in dict.fromkeys(self.instances[n] for n in fdef.processes):
            p.on_file(fc)
        self.charset.on_file(fc)
        self.null_empty.on_file(fc)
        try:
            records, reader = self._stream(flat, fdef, fc, plans, hash_name)
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise UnreadableInputError(f"{self.source.label}: content/{fc.name} cannot be read: {exc}") from None
        self.state.read_records.update(id(r) for r in fdef.records)
        for p in attached:
            p.end_of_file()
        self._checksum(flat, algorithm, hash_name, reader.digest)
        if "Control_NumberOfRecords" not in fdef.processes and flat.declared_records is not None:
            self.findings.ran("U.07")
            if flat.declared_records != records:
                self.findings.add("U.07", ERROR, f"numberOfOccurrences is {flat.declared_records}, the file has "
                                                 f"{records} records", file=fc.name)
        per_definition = [(r.name, plans[id(r)].records) for r in fdef.records]
        for r in fdef.records:
            if r.declared_records is not None:
                self.findings.ran("U.07")
                if r.declared_records != plans[id(r)].records:
                    self.findings.add("U.07", ERROR, f"{r.name}: the description declares {r.declared_records} "
                                                     f"records of this type, the file has {plans[id(r)].records}",
                                      file=fc.name)
        self.summaries.append(FileSummary(fc.name, "fixed" if ftype.fixed else "delimited", ftype.charset, records,
                                          reader.bytes, per_definition, records - sum(n for _, n in per_definition)))
        self.state.current = None

    def _stream(self, flat: FlatFile, fdef: FlatFileDef, fc: FileCtx, plans: dict[int, _RecordPlan],
                hash_name: str | None) -> tuple[int, FlatFileReader]:
        """The one pass over the file's bytes: every record through its calls, broken ones to AH.03."""
        assert fdef.ftype is not None
        records = 0
        pending: dict[int, list[Record]] = {}
        with self.source.open(flat.path or "") as stream:
            reader = FlatFileReader(stream, fdef, fdef.ftype, hash_name)
            bad_count = 0
            for item in reader:
                records += 1
                if isinstance(item, BadRecord):
                    bad_count += 1
                    self._bad(item)
                    continue
                plan = plans[id(item.rdef)]
                plan.records += 1
                for rcall in plan.record_calls:
                    rcall(item)
                if item.suspect:
                    self.charset.on_record(item)
                if plan.columns:
                    batch = pending.get(id(item.rdef))
                    if batch is None:
                        batch = pending[id(item.rdef)] = []
                    batch.append(item)
                    if len(batch) >= BATCH:
                        plan.flush(batch)
            for rid, batch in pending.items():
                plans[rid].flush(batch)
            for bad in reader.header_bad:
                self._bad(bad, header=True)
            if bad_count:
                self.findings.add("AH.03", INFO, f"Total: {bad_count} records with field or record delimiter errors",
                                  file=fc.name)
        return records, reader

    def _bad(self, bad: BadRecord, header: bool = False) -> None:
        where = "header line" if header else "record"
        self.findings.add("AH.03", ERROR, f"{bad.rdef + ': ' if bad.rdef else ''}{bad.message} ({where}: {bad.text!r})",
                          file=self.state.file, record=bad.number, value=bad.text)
        if bad.suspect:
            self.charset.on_text(bad.text, bad.number)

    def _checksum(self, flat: FlatFile, algorithm: str, hash_name: str | None, digest: str | None) -> None:
        if self.doc.kind == "addmml":
            return  # ADDMML 7 describes no checksums (docs/validate.md)
        report_checksum(self.findings, flat.path, algorithm, flat.checksum_value, hash_name, digest)

    def _fixed_id(self, rid: int) -> bool:
        return any(self._fixed(r) for d in self.doc.definitions.values() for r in d.records if id(r) == rid)

    def _extra_or_missing(self) -> None:
        described = {f.path for f in self.doc.flat_files if f.path}
        keyed: list[tuple[str, ValueSet]] = []
        for (rid, idx, strip), values in self.state.pk_sets.items():
            if len(idx) != 1 or (not strip and self._fixed_id(rid)):
                continue
            rdef = next((r for d in self.doc.definitions.values() for r in d.records if id(r) == rid), None)
            if rdef is not None:
                keyed.append((f"{rdef.file}/{rdef.fields[idx[0]].name}", values))
        check_extra_or_missing(self.source, described, keyed, self.findings, report_keyed=True)


def _definition_problems(problems: list[Problem], notes: list[str], findings: Findings, root_encoding: str | None,
                         name: str = "addml.xml", arkade_reads: bool = True) -> None:
    findings.ran("U.06")
    for note in notes:
        findings.add("U.06", WARNING, note, file=name)
    if arkade_reads and root_encoding and root_encoding.upper().replace("_", "-") not in ("UTF-8", "UTF8", "US-ASCII",
                                                                                         "ASCII"):
        findings.add("U.06", WARNING, f"addml.xml is encoded as {root_encoding}; Arkade 5 reads addml.xml as UTF-8 "
                                      "whatever it declares, so non-ASCII characters will be garbled", file=name)
    for p in problems:
        findings.add(p.check, p.severity, p.message, file=name)


def _layout(source: Source, findings: Findings) -> None:
    """Name an older layout (and a compressed tar) once, as a warning: read, but not what Arkade 5 opens."""
    check = "D.01" if isinstance(source, TarSource) else "U.06"
    findings.ran(check)
    if source.layout:
        findings.add(check, WARNING, f"{BEFORE_2017}: {'; '.join(source.layout)}; read and validated here")
    if isinstance(source, TarSource) and source.compressed_note:
        findings.add(check, WARNING, source.compressed_note)


def _siard_package(path: str | Path, source: Source, siard: str, findings: Findings) -> Report:
    """An extract or package whose content is a SIARD file (``--format siard``, as Arkade packs SIARD):
    the package checks run as for any package; the SIARD file's own tables are another validation's."""
    if isinstance(source, TarSource):
        check_package(source, findings)
    report = Report(str(path), source.kind, None, findings.sorted(), [])
    report.notes.append(f"content/ holds the SIARD file {siard} and no addml.xml: the package was checked, the "
                        "tables inside the SIARD file were not; validate the SIARD file itself for them")
    return report


def validate_path(path: str | Path, *, examples: int = 25, memory_keys: int = DEFAULT_MEMORY_KEYS,
                  tmpdir: str | None = None) -> Report:
    """Validate the extract at ``path`` (folder, content folder or DIAS .tar) or the SIARD file at
    ``path`` (``siard.py``) and return the report.

    Raises ``UnreadableInputError`` (exit code 2) when the input cannot be read safely.
    """
    from .siard import is_siard, validate_siard

    started = time.monotonic()
    with KeyStore(memory_keys, tmpdir) as keys:
        try:
            if Path(path).is_file() and is_siard(Path(path)):
                report = validate_siard(Path(path), keys, examples)
            else:
                report = _validate(path, keys, examples)
        except sqlite3.OperationalError as exc:  # only the temporary databases are SQLite
            raise OutputError(f"{keys.folder}: the temporary database of the validation cannot be written "
                              f"({exc}); give --tmpdir a folder on a disk with room; no report was written") from None
    report.seconds = time.monotonic() - started
    return report


def _validate(path: str | Path, keys: KeyStore, examples: int) -> Report:
    findings = Findings(limit=examples)
    memory_keys = keys.memory_keys
    with open_source(path, keys) as source:
        siard = siard_content(source)
        if siard is not None:
            return _siard_package(path, source, siard, findings)
        described = read_description(source)
        doc, tree, notes = described.doc, described.tree, described.notes
        name = described.label.rsplit("/", 1)[-1]
        if described.addmml_version:
            check_dtd(tree, findings, name)
            version = described.addmml_version
        else:
            version = check_schema(doc.root.getroottree(), doc, source, findings)  # the mended copy: each mend once
            check_profile(doc, findings)  # the Arkivverket profile is one of ADDML 8.3
        encoding = tree.docinfo.encoding
        _definition_problems(doc.problems, notes, findings, encoding, name, arkade_reads=doc.kind == "addml")
        for note in source.notes:
            findings.add("U.06", WARNING, note)
        summaries: list[FileSummary] = []
        if doc.has_flat_files:
            engine = Engine(doc, source, RunState(findings, keys))
            engine.run()
            summaries = engine.summaries
        elif kid(doc.dataset, "dataObjects") is not None:
            summaries = check_xml_extract(doc, source, RunState(findings, keys))
        if isinstance(source, TarSource):
            check_package(source, findings)
        _layout(source, findings)
        report = Report(str(path), source.kind, version, findings.sorted(), summaries)
        if source.layout:
            report.notes.append(f"{BEFORE_2017}: {'; '.join(source.layout)}")
        if keys.spilled:
            report.notes.append(f"{keys.spilled} key set(s) larger than {memory_keys:,} entries were kept on disk")
    return report

