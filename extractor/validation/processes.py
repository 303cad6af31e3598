"""What every Arkade process shares: the run state, the file being read, and the Process base.

As in Arkade 5 (``Base/Addml/Processes/AddmlProcess.cs``), one instance of each process serves the
whole dataset and is fed the file (``on_file``, file level only), each record (``on_record``) and
each field value (``on_field``, or ``on_column`` for a batch of one field's values) from every
level where it is named; what it keeps per file it reports and clears in ``end_of_file``, what
spans files in ``finish``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .addml_model import FieldDef, FlatFile, FlatFileDef
from .findings import ERROR, NULL_NOTE, WARNING, Findings
from .flatfile_read import Record
from .keystore import KeyStore, ValueSet

KEY_SEP = "\x1f"
"""Joins the parts of a composite key value (Arkade joins with '|'; a control character cannot clash with data)."""


@dataclass
class FileCtx:
    """The flat file being read."""

    flat: FlatFile
    fdef: FlatFileDef
    name: str
    fixed: bool


@dataclass
class RunState:
    """What every process shares: findings, key store, the current file."""

    findings: Findings
    keys: KeyStore
    current: FileCtx | None = None
    pk_sets: dict[tuple[int, tuple[int, ...], bool], ValueSet] = field(default_factory=dict)
    read_records: set[int] = field(default_factory=set)

    def is_null(self, rec: Record, fd: FieldDef) -> bool:
        """NULL as the extract writes it: an unquoted empty field, or an all-blank fixed-width field."""
        value = rec.values[fd.index]
        if self.current is not None and self.current.fixed:
            return not value.strip(" ")
        return value == "" and (rec.quoted is None or not rec.quoted[fd.index])

    def severity(self, rec: Record, fd: FieldDef) -> str:
        return WARNING if fd.nullable and self.is_null(rec, fd) else ERROR

    @property
    def file(self) -> str | None:
        return self.current.name if self.current else None


def key_value(values: list[str], fields: list[FieldDef]) -> str:
    if len(fields) == 1:
        return values[fields[0].index]
    return KEY_SEP.join([values[f.index] for f in fields])


def shown_key(value: str) -> str:
    return value.replace(KEY_SEP, ", ")


class Process:
    id = ""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.findings = state.findings
        self.findings.ran(self.id)

    def on_file(self, fc: FileCtx) -> None:
        pass

    def on_record(self, rec: Record) -> None:
        pass

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        pass

    def on_column(self, fd: FieldDef, values: list[str], recs: list[Record]) -> None:
        """A batch of one field's values, in record order: ``on_field`` for each (candidate) value."""
        found = self.candidates(fd, values)
        on_field = self.on_field
        if found is None:
            for value, rec in zip(values, recs, strict=True):
                on_field(fd, value, rec)
        else:
            for k in found:
                on_field(fd, values[k], recs[k])

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        """Positions of the values that may fail (a cheap superset), or None when every value must be seen."""
        return None

    def end_of_file(self) -> None:
        pass

    def finish(self) -> None:
        pass

    def add(self, severity: str, message: str, **kw: object) -> None:
        kw.setdefault("file", self.state.file)
        self.findings.add(self.id, severity, message, **kw)  # type: ignore[arg-type]

    def add_value(self, rec: Record, fd: FieldDef, value: str, message: str, severity: str | None = None) -> None:
        sev = severity or self.state.severity(rec, fd)
        text = message if sev == ERROR else f"{message} ({NULL_NOTE})"
        self.findings.add(self.id, sev, text, file=self.state.file, record=rec.number, field=fd.name, value=value)
