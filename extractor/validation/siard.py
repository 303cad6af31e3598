"""``uttrekk validate FILE.siard``: a SIARD file checked against its own metadata (S.01-S.07).

The reading is ``extractor.siard``'s, the same the SIARD kind of SOURCE loads with: the ZIP's
members checked before anything is read, metadata.xml parsed without DTD or entities, each table
file streamed once (validated against its own XSD in the same pass), every LOB looked up in the
archive or in its ``lobFolder`` outside it and checked against its length and digest. Keys are
checked in the data: primary and candidate keys unique (a primary key never NULL), every foreign key
without a NULL part found among the referenced key's values; the key sets spill to SQLite like an
extract's (``keystore``), so memory stays flat. Findings name table, row and column; the report
formats and exit codes are those of an extract (0 clean, 1 errors, 2 unreadable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import UnreadableInputError
from ..schemas import schema_bytes
from ..siard import metadata as md
from ..siard.archive import MAX_MEMBERS, SiardError, SiardZip, declared_members
from ..siard.rows import LobPlaces, LobReader, Problem, reading, rows, table_schema
from .findings import ERROR, INFO, WARNING, FileSummary, Findings, Report
from .keystore import KeyStore, UniqueTracker, ValueSet

METADATA = "header/metadata.xml"
PROBLEM_CHECKS = {"xsd": "S.02", "cell": "S.02", "rows": "S.03", "lob": "S.04", "digest": "S.05"}
SIARD_2_2 = "siard-2.2-metadata.xsd"


def is_siard(path: Path) -> bool:
    """A ZIP archive holding ``header/metadata.xml``. One whose directory cannot be read (cut short) is
    taken for a SIARD file when its first MiB names SIARD's folders or its name ends in ``.siard``, so
    that the report says what is wrong with it; any other ZIP is left to ``compressed.py``."""
    import zipfile

    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 20)
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return False
        try:
            with path.open("rb") as fh:
                if declared_members(fh) > MAX_MEMBERS:
                    return True  # SiardZip refuses it, in one line
            with zipfile.ZipFile(path) as z:
                return METADATA in z.namelist()
        except zipfile.BadZipFile:
            return b"header/metadata.xml" in head or b"content/schema" in head or path.suffix.lower() == ".siard"
    except OSError:
        return False


def _key_text(values: list[object]) -> str | None:
    """A key's values as one comparable text; ``None`` when a part is NULL."""
    if any(v is None for v in values):
        return None
    if len(values) == 1 and isinstance(values[0], int):
        return str(values[0])
    parts = [v.hex() if isinstance(v, bytes) else str(v) for v in values]
    return parts[0] if len(parts) == 1 else json.dumps(parts, ensure_ascii=False)


@dataclass
class _KeyCheck:
    table: str
    name: str
    columns: list[int]
    column_names: tuple[str, ...]
    primary: bool
    tracker: UniqueTracker
    values: ValueSet | None = None
    """The key's values, when a foreign key refers to them."""


@dataclass
class _ForeignCheck:
    table: str
    name: str
    columns: list[int]
    column_names: tuple[str, ...]
    target: tuple[str, str, tuple[str, ...]]
    values: ValueSet


@dataclass
class _Run:
    findings: Findings
    keys: KeyStore
    referenced: dict[tuple[str, str, tuple[str, ...]], ValueSet] = field(default_factory=dict)
    foreign: list[_ForeignCheck] = field(default_factory=list)


def validate_siard(path: Path, keys: KeyStore, examples: int) -> Report:
    findings = Findings(limit=examples)
    try:
        archive = SiardZip(path)
    except SiardError as exc:
        raise UnreadableInputError(str(exc)) from None
    with archive:
        if not archive.has(METADATA):
            raise UnreadableInputError(f"{path}: a ZIP archive without {METADATA}: not a SIARD file; uttrekk "
                                       "validates a SIARD file, or an extract as a folder or a {uuid}.tar (unpack a "
                                       "zipped extract and give the folder)")
        try:
            data = archive.read_small(METADATA, md.MAX_METADATA_BYTES)
            meta = md.parse_metadata(data)
        except SiardError as exc:
            findings.add("S.01", ERROR, str(exc), file=METADATA)
            return Report(str(path), "SIARD file", None, findings.sorted(), [],
                          notes=["metadata.xml cannot be read, so no table was checked"])
        _check_metadata(archive, data, meta, findings)
        run = _Run(findings, keys)
        summaries = _check_tables(path, archive, meta, run)
    notes = [f"SIARD {meta.version}" + (f", written by {meta.producer}" if meta.producer else "")
             + f"; database {meta.dbname}" + (f", data owner {meta.data_owner}" if meta.data_owner else "")
             + (f", archived {meta.archival_date}" if meta.archival_date else "")]
    if meta.digests:
        notes.append("metadata.xml's messageDigest (" + ", ".join(f"{k} {v}" for k, v in meta.digests) + ") is not "
                     "checked: SIARD does not say over which bytes it is computed")
    return Report(str(path), f"SIARD {meta.version} file", None, findings.sorted(), summaries, notes=notes)


def _check_metadata(archive: SiardZip, data: bytes, meta: md.Archive, findings: Findings) -> None:
    """S.01: metadata.xml against the SIARD 2.2 schema (2.0 and 2.1 differ from it only in the version
    they name, so they are checked with it as 2.2), or a 1.0 file against the schema it carries."""
    findings.ran("S.01")
    root = md.parse_xml(data, METADATA)
    if meta.version.startswith("2"):
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        xsd = etree.XMLSchema(etree.fromstring(schema_bytes(SIARD_2_2), parser))
        if meta.version != "2.2":
            root.set("version", "2.2")
        what = "the SIARD 2.2 metadata schema" + (f" (as SIARD {meta.version})" if meta.version != "2.2" else "")
    elif archive.has("header/metadata.xsd"):
        try:
            xsd = table_schema(archive, "header/metadata.xsd")
        except SiardError as exc:
            findings.add("S.01", WARNING, f"not validated: {exc}", file=METADATA)
            return
        what = "the SIARD 1.0 schema the file carries (header/metadata.xsd)"
    else:
        findings.add("S.01", WARNING, "not validated: a SIARD 1.0 file without header/metadata.xsd", file=METADATA)
        return
    if xsd.validate(root):
        findings.add("S.01", INFO, f"valid against {what}", file=METADATA)
        return
    for err in xsd.error_log:
        findings.add("S.01", ERROR, f"not valid against {what}: line {err.line}: {err.message}", file=METADATA)


def _index(leaves: Any, names: tuple[str, ...]) -> list[int] | None:
    at = {leaf.name: i for i, leaf in enumerate(leaves)}
    found = [at.get(n) for n in names]
    return None if any(i is None for i in found) else [i for i in found if i is not None]


def _check_tables(path: Path, archive: SiardZip, meta: md.Archive, run: _Run) -> list[FileSummary]:
    findings = run.findings
    for check in ("S.02", "S.03", "S.04", "S.05", "S.06", "S.07"):
        findings.ran(check)
    wanted = {(f.referenced_schema or s.name, f.referenced_table, f.referenced)
              for s in meta.schemas for t in s.tables for f in t.foreign_keys}
    run.referenced = {w: run.keys.values() for w in wanted}
    lobs = LobReader(archive, LobPlaces(path, meta.lob_folder))
    summaries = []
    for s in meta.schemas:
        for t in s.tables:
            try:
                tr = reading(meta, s, t)
            except SiardError as exc:
                findings.add("S.02", ERROR, str(exc), file=f"{s.name}.{t.name}")
                continue
            summaries.append(_check_table(archive, lobs, s, t, tr, run))
    held = {(s.name, t.name): {c.name for c in t.columns} for s in meta.schemas for t in s.tables}
    for fk in run.foreign:
        target = run.referenced.get(fk.target)
        columns = held.get(fk.target[:2])
        if columns is None or not set(fk.target[2]) <= columns:
            findings.add("S.07", ERROR, f"foreign key {fk.name} ({', '.join(fk.column_names)}) refers to "
                                        f"{fk.target[0]}.{fk.target[1]} ({', '.join(fk.target[2])}), which "
                                        "metadata.xml does not describe; its values are not checked", file=fk.table,
                         field=", ".join(fk.column_names))
            continue
        if target is None:
            continue
        for value, record in fk.values.missing_from(target):
            findings.add("S.07", ERROR, f"foreign key {fk.name} ({', '.join(fk.column_names)}) -> "
                                        f"{fk.target[0]}.{fk.target[1]} ({', '.join(fk.target[2])}): no such key "
                                        "value there", file=fk.table, record=record, field=", ".join(fk.column_names),
                         value=value)
    return summaries


def _check_table(archive: SiardZip, lobs: LobReader, s: md.Schema, t: md.Table, tr: Any, run: _Run) -> FileSummary:
    findings = run.findings
    where = f"{s.name}.{t.name}"

    def problem(p: Problem) -> None:
        findings.add(PROBLEM_CHECKS.get(p.check, "S.02"), ERROR, p.message, file=where, record=p.row,
                     field=p.column)

    keys: list[_KeyCheck] = []
    large = {leaf.name for leaf in tr.leaves if leaf.type.large}
    declared = ([(t.primary_key, True)] if t.primary_key else []) + [(c, False) for c in t.candidate_keys]
    for key, primary in declared:
        cols = _index(tr.leaves, key.columns)
        if cols is None:
            findings.add("S.06", ERROR, f"key {key.name} names columns the table does not have: "
                                        f"{', '.join(key.columns)}", file=where)
            continue
        if large & set(key.columns):
            findings.add("S.06", INFO, f"key {key.name} is not checked: it holds a large object column "
                                       f"({', '.join(sorted(large & set(key.columns)))})", file=where)
            continue
        check = _KeyCheck(where, key.name or ("primary key" if primary else "candidate key"), cols, key.columns,
                          primary, run.keys.unique())
        check.values = run.referenced.get((s.name, t.name, key.columns))
        keys.append(check)
    for (sch, tab, cols_), vset in run.referenced.items():
        if (sch, tab) == (s.name, t.name) and not any(k.values is vset for k in keys):
            at = _index(tr.leaves, cols_)
            if at is not None:
                keys.append(_KeyCheck(where, "referenced columns", at, cols_, False, run.keys.unique(), vset))
    for f in t.foreign_keys:
        cols = _index(tr.leaves, f.columns)
        if cols is None:
            findings.add("S.07", ERROR, f"foreign key {f.name} names columns the table does not have: "
                                        f"{', '.join(f.columns)}", file=where)
            continue
        run.foreign.append(_ForeignCheck(where, f.name, cols, f.columns,
                                         (f.referenced_schema or s.name, f.referenced_table, f.referenced),
                                         run.keys.values()))
    fks = [fk for fk in run.foreign if fk.table == where]
    count = 0
    try:
        for values in rows(archive, lobs, tr, problem, validate=True, keep_lobs=False):
            count += 1
            for k in keys:
                text = _key_text([values[i] for i in k.columns])
                if text is None:
                    if k.primary:
                        findings.add("S.06", ERROR, f"primary key {k.name} ({', '.join(k.column_names)}) is NULL",
                                     file=where, record=count, field=", ".join(k.column_names))
                    continue
                if k.name != "referenced columns":
                    first = k.tracker.add(text, count)
                    if first is not None:
                        findings.add("S.06", ERROR, f"{'primary' if k.primary else 'candidate'} key {k.name} "
                                                    f"({', '.join(k.column_names)}) repeats the value of row {first}",
                                     file=where, record=count, field=", ".join(k.column_names), value=text)
                if k.values is not None:
                    k.values.add(text, count)
            for fk in fks:
                text = _key_text([values[i] for i in fk.columns])
                if text is not None:
                    fk.values.add(text, count)
    except SiardError as exc:
        findings.add("S.02", ERROR, str(exc), file=where, record=count + 1)
    for k in keys:
        for value, first, later, n in k.tracker.spilled_repeats():
            findings.add("S.06", ERROR, f"key {k.name} ({', '.join(k.column_names)}): {n} later row(s) repeat the "
                                        f"value of row {first}", file=where, record=later[0] if later else None,
                         field=", ".join(k.column_names), value=value, count=n)
    member = tr.member
    return FileSummary(member, "SIARD table XML", "UTF-8", count, archive.size(member) if archive.has(member) else 0,
                       [(where, count)])
