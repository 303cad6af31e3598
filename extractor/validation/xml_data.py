"""Validate the data files of an XML extract (``uttrekk extract --format xml``), one streaming pass each.

Arkade 5 does not test these files: it tests an ADDML extract only through ``flatFiles``, and an
XML extract is described with ``dataObjects`` (see docs/validate.md). Everything here is uttrekk's
own, under the ids flat files use where the check is the same (AH.01 checksum, AH.02 extra or
missing files, U.03 charset, U.04 NULL and empty, U.05 foreign keys, U.07 number of records) and
U.08-U.11 where it is XML's own.

Here the description becomes tables (dataObjects with their shipped schemas, xml_schema.py), the
keys are wired (U.05 through own_checks' ForeignKeys and KeyCollector, as for flat files), each
table file is streamed once (xml_read.py), the other described files are hashed, and the checks
that span files run at the end.
"""

from __future__ import annotations

import hashlib
import tarfile

from ..errors import UnreadableInputError
from ..writers.xmlfile import ROW, xml_name
from .addml_model import Addml, FieldDef, FileType, FlatFile, FlatFileDef, KeyDef, Problem, RecordDef
from .checksum import report_checksum
from .extra_files import check_extra_or_missing
from .findings import ERROR, WARNING, FileSummary, Findings
from .flatfile_read import HASHES
from .own_checks import ForeignKeys, KeyCollector
from .processes import FileCtx, RunState
from .source import Source
from .xml_describe import DataObject, read_data_objects
from .xml_read import Table, TableKey, TableReader, codec_name
from .xml_schema import SchemaRefused, TableSchema, load_table_schema

CHUNK = 1 << 20
XML_CHECKS = ("AH.01", "AH.02", "U.03", "U.04", "U.07", "U.08", "U.09", "U.10", "U.11")


class XmlExtract:
    """One validation run over the dataObjects of an XML extract."""

    def __init__(self, doc: Addml, source: Source, state: RunState) -> None:
        self.source = source
        self.state = state
        self.findings: Findings = state.findings
        for check in XML_CHECKS:
            self.findings.ran(check)
        self.foreign = ForeignKeys(state)
        self.summaries: list[FileSummary] = []
        objects, problems = read_data_objects(doc.dataset)
        self.objects = objects
        self.problems = problems
        self.schemas: dict[str, TableSchema | None] = {}
        self.tables = [self._table(o) for o in objects if o.is_table]
        self._wire_keys()
        for p in self.problems:
            self.findings.add(p.check, p.severity, p.message, file="addml.xml")

    # --- description -> tables ---

    def _schema(self, path: str | None, table: str) -> TableSchema | None:
        if path is None:
            return None
        if path in self.schemas:
            return self.schemas[path]
        found: TableSchema | None = None
        entry = self.source.entry(path)
        if entry is None or not entry.regular:
            self.findings.add("U.09", ERROR, f"the schema {path} named for {table} is not in the extract; the file's "
                                             "structure and types are not checked", file=path)
        else:
            try:
                found = load_table_schema(self.source.read_small(path), f"content/{path}")
            except SchemaRefused as exc:
                self.findings.add("U.09", ERROR, f"the schema for {table} cannot be used: {exc}", file=path)
        self.schemas[path] = found
        return found

    def _note_constraints(self, t: Table, pk: list[str]) -> None:
        """Say which of the schema's identity constraints no check covers (U.11 and U.05 check addml.xml's keys)."""
        if t.layout is None:
            return
        keys = [set(pk), *({t.element(c) for c in ak} for ak in t.obj.alternate_keys)]
        for kind, name, fields in t.layout.constraints:
            names = {f.rsplit("/", 1)[-1].split(":")[-1] for f in fields}
            if kind == "keyref":
                self.findings.add("U.09", WARNING, f"xs:keyref {name!r} is not checked from the schema; U.05 checks the "
                                                   "foreign keys addml.xml names", file=t.obj.schema_path)
            elif names not in keys:
                self.findings.add("U.09", WARNING, f"xs:{kind} {name!r} ({', '.join(fields)}) is not checked: addml.xml "
                                                   f"names no such key for {t.obj.name}, and U.11 checks those it names",
                                  file=t.obj.schema_path)

    def _table(self, obj: DataObject) -> Table:
        layout = self._schema(obj.schema_path, obj.name)
        elements: dict[str, str] = {}
        if layout is not None and layout.fields:
            for spec in layout.fields:
                elements.setdefault(spec.column, spec.element)
                elements.setdefault(spec.column.lower(), spec.element)
            names = [spec.element for spec in layout.fields]
            nillable = {spec.element for spec in layout.fields if spec.nillable}
            tags: tuple[str, ...] | None = tuple(names)
        else:
            tags, nillable = None, set()
            named = [*obj.primary_key, *(c for k in obj.alternate_keys for c in k),
                     *(c for fk in obj.foreign_keys for c in fk.columns), *obj.codes]
            names = list(dict.fromkeys(xml_name(c) for c in named))
        fields = [FieldDef(n, i, "", None, not_null=layout is not None and n not in nillable) for i, n in enumerate(names)]
        rdef = RecordDef(obj.name, obj.name, None, None, fields, [])
        row_tag = layout.row_tag if layout is not None and layout.row_tag else ROW
        t = Table(obj, layout, rdef, row_tag, tags, elements, nillable)
        pk = [t.element(c) for c in obj.primary_key]
        if self._known(t, pk, "primaryKey"):
            rdef.keys.append(KeyDef(None, "primary", pk))
            for f in fields:
                f.in_pk = f.name in pk
        for column, codes in obj.codes.items():
            fd = rdef.field(t.element(column))
            if fd is not None:
                t.codes.append((fd, codes))
        self._note_constraints(t, pk)
        return t

    def _known(self, t: Table, elements: list[str], what: str) -> bool:
        missing = [e for e in elements if t.rdef.field(e) is None]
        if missing:
            self.problems.append(Problem(WARNING, f"dataObject {t.obj.name!r}: {what} names {', '.join(missing)}, which "
                                                  "the table's schema does not have; it is not checked"))
        return bool(elements) and not missing

    def _wire_keys(self) -> None:
        by_name = {t.obj.name.lower(): t for t in self.tables}
        for t in self.tables:
            unique = [("primary", [f for f in t.rdef.fields if f.in_pk])]
            for ak in t.obj.alternate_keys:
                elements = [t.element(c) for c in ak]
                if self._known(t, elements, "alternateKey"):
                    unique.append(("alternate", [f for e in elements for f in [t.rdef.field(e)] if f is not None]))
            t.keys = [TableKey(kind, fields, self.state.keys.unique()) for kind, fields in unique if fields]
            for fk in t.obj.foreign_keys:
                target = by_name.get(fk.table.lower())
                if target is None:
                    self.problems.append(Problem(WARNING, f"dataObject {t.obj.name!r}: foreignKey {fk.text!r} points at "
                                                          f"{fk.table}, which is not a described table; it is not checked"))
                    continue
                cols = [t.element(c) for c in fk.columns]
                refs = [target.element(c) for c in fk.ref_columns]
                if not self._known(t, cols, f"foreignKey {fk.text!r}") or \
                        not self._known(target, refs, f"foreignKey {fk.text!r} (referenced side)"):
                    continue
                key = KeyDef(fk.text, "foreign", cols, target.obj.name, target.obj.name, refs)
                t.rdef.keys.append(key)
                ref_fields = [f for r in refs for f in [target.rdef.field(r)] if f is not None]
                collector = KeyCollector(self.state, target.rdef, ref_fields)
                if not any(c.values is collector.values for c in target.collectors):
                    target.collectors.append(collector)
                self.foreign.watch(t.rdef, key, target.rdef, collector, False)

    # --- the run ---

    def run(self) -> None:
        for t in self.tables:
            self._read(t)
        for obj in self.objects:
            if not obj.is_table:
                self._checksum_only(obj)
        self.foreign.finish()
        self._extra_or_missing()

    def _open_entry(self, path: str | None) -> bool:
        if path is None:
            return False
        entry = self.source.entry(path)
        if entry is None:
            return False  # AH.02 reports it
        if not entry.regular:
            self.findings.add("U.08", ERROR, "not a regular file (a link or device); not read", file=path)
            return False
        return True

    def _checksum_only(self, obj: DataObject) -> None:
        if not self._open_entry(obj.path):
            return
        assert obj.path is not None
        hash_name = HASHES.get((obj.checksum_algorithm or "").strip().lower())
        hasher = hashlib.new(hash_name) if hash_name else None
        try:
            with self.source.open(obj.path) as stream:
                while chunk := stream.read(CHUNK):
                    if hasher is not None:
                        hasher.update(chunk)
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise UnreadableInputError(f"{self.source.label}: content/{obj.path} cannot be read: {exc}") from None
        report_checksum(self.findings, obj.path, obj.checksum_algorithm, obj.checksum_value, hash_name,
                        hasher.hexdigest() if hasher else None)

    def _read(self, t: Table) -> None:
        obj = t.obj
        if not self._open_entry(obj.path):
            return
        assert obj.path is not None
        hash_name = HASHES.get((obj.checksum_algorithm or "").strip().lower())
        hasher = hashlib.new(hash_name) if hash_name else None
        ftype = FileType("xml", obj.charset or "", codec_name(obj.charset), False, None, None, None)
        fdef = FlatFileDef(obj.name, "xml", ftype, None, [t.rdef])
        flat = FlatFile(obj.name, fdef, obj.path, obj.path, obj.declared_records, obj.checksum_algorithm,
                        obj.checksum_value)
        self.state.current = FileCtx(flat, fdef, obj.path, False)
        reader = TableReader(t, self.state, self.foreign)
        size = 0
        try:
            with self.source.open(obj.path) as stream:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    reader.feed(chunk)
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise UnreadableInputError(f"{self.source.label}: content/{obj.path} cannot be read: {exc}") from None
        reader.close()
        for key in t.keys:
            for value, first, later, count in key.tracker.spilled_repeats():
                reader.duplicate(key, value, first, later, count)
            key.tracker.close()
        report_checksum(self.findings, obj.path, obj.checksum_algorithm, obj.checksum_value, hash_name,
                        hasher.hexdigest() if hasher else None)
        if reader.complete:
            self.state.read_records.add(id(t.rdef))
            if obj.declared_records is None:
                self.findings.add("U.07", WARNING, "no numberOfOccurrences property; the number of records is not "
                                                   "checked", file=obj.path)
            elif obj.declared_records != reader.records:
                self.findings.add("U.07", ERROR, f"numberOfOccurrences is {obj.declared_records}, the file has "
                                                 f"{reader.records} records", file=obj.path)
        self.summaries.append(FileSummary(obj.path, "xml", obj.charset or "", reader.records, size,
                                          [(t.rdef.name, reader.records)]))
        self.state.current = None

    def _extra_or_missing(self) -> None:
        """AH.02 for an XML extract: described files (tables, schemas, other dataObjects) against content/.

        A file whose path is a value of a one-field key other tables refer to (uttrekk's LOB files:
        ``LOBFILER.fil``) is described by that table and not reported.
        """
        described = {o.path for o in self.objects if o.path} | {o.schema_path for o in self.objects if o.schema_path}
        keyed = [("", values) for (_rid, idx, _strip), values in self.state.pk_sets.items() if len(idx) == 1]
        check_extra_or_missing(self.source, described, keyed, self.findings, report_keyed=False)


def check_xml_extract(doc: Addml, source: Source, state: RunState) -> list[FileSummary]:
    """Run every check on the XML data files the dataObjects of ``doc`` describe; return the file summaries."""
    run = XmlExtract(doc, source, state)
    run.run()
    return run.summaries
