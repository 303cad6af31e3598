"""The one-way flow: reflect -> plan -> scan and extract -> refine -> describe -> publish.

Each table is scanned while it is written, with the plan an empty scan gives; a table whose
data change how it must be written is written again (``extract.extract_scanning``). When every
table is done, the plan is refined with all the scans, checked against what was written, and
described.

Library functions the CLI calls; each returns plain data. Nothing is published unless every step
succeeded: the extract is built in a staging folder and moved into place at the very end.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__
from .addml import schema_bytes, validate_description, write_description
from .deliverable import Need, missing, missing_block
from .documentation import FOLDER, write_documentation
from .errors import (
    ConfigError,
    ExtractionError,
    ExtractorError,
    OutputError,
    SourceError,
    UnencodableError,
    UnwritableError,
    writing,
)
from .extract import ExtractResult, TableDone, extracted_tables, finish, layout
from .keys import check_relations, settle
from .large_objects import orphans, report_missing, settle_large_objects
from .model import RowFilter, Schema, Table
from .output import Staging, refuse_source_inside
from .parallel import Workers, process_tables, workers_for
from .plan import LOB_DIR, LOB_TABLE, Plan, filter_text, make_plan, missing_descriptions
from .profile import Profile, load_profile, parse_profile, with_metadata
from .progress import Progress
from .refine import finalize, refine_table
from .rendered import describe_reasons
from .scan import ScanResult, TableScanned, array_source, combine
from .siard_output import SiardWritten, remove_staged, write_siard_file
from .source_dialect import SourceDialect
from .workdir import KeptScans, WorkDir, fingerprint

SHOWN_FINDINGS = 50
"""Unencodable values listed in the error message; inspect lists them all."""


@dataclass
class Options:
    """Command-line choices that override the profile."""

    fmt: str | None = None
    charset: str | None = None
    tables: tuple[str, ...] = ()
    quiet: bool = False
    overwrite: bool = False
    extraction_date: str | None = None
    password: str | None = None
    schema: str | None = None
    views: bool = False
    jobs: int = 1
    resume: bool = False
    strict: bool = False
    """Refuse to extract while a kept table or field has no description."""
    package: Path | None = None
    """``--package``: where the DIAS package goes afterwards (checked against the source up front)."""
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)
    """``[metadata]`` values given as options: key -> (value, the option), over the profile's."""
    database: str | None = None
    """``--database``: which database of a dump holding several."""
    codepage: str | None = None
    """``--codepage``: the code page of dBase/FoxPro tables whose header names none."""
    lobs_outside: int | None = None
    """``--lobs-outside``: SIARD large objects from this size on go beside the SIARD file."""


@dataclass
class ExtractSummary:
    out: Path
    plan: Plan
    result: ExtractResult
    deviations: int
    warnings: list[str] = field(default_factory=list)
    reused: tuple[str, ...] = ()
    sources: tuple[Path, ...] = ()
    """The files the source was read from: nothing written afterwards may replace them."""
    missing: list[Need] = field(default_factory=list)
    """Depot metadata the extract lacks (``deliverable.NEEDS``), for the closing block."""


def open_profile(path: str | Path | None, metadata: dict[str, tuple[str, str]] | None = None) -> Profile:
    """The profile at ``path`` (none: the defaults) with the ``[metadata]`` values options give."""
    if path:
        return load_profile(path, defer=True, metadata=metadata)
    if metadata:
        origins: dict[str, str] = {}
        return parse_profile(with_metadata({}, origins, metadata), "<options>", defer=True, origins=origins)
    return Profile()


def reflect_and_plan(dialect: SourceDialect, profile: Profile, options: Options) -> tuple[Schema, Plan]:
    """The source's tables (views the profile names, too) and the profile's queries as tables,
    planned; a query or filter the source refuses is a profile problem, listed with the rest."""
    where = dialect.locate(options.schema, options.views)  # which schema holds the tables (dialects.locate)
    schema = dialect.reflect(where.schema, options.views)
    children = {g.table for tprof in profile.tables.values() for g in tprof.repeating_groups}
    views = set(profile.tables) - set(schema.table_names) - children
    if views and not options.views:
        schema = dialect.reflect(where.schema, frozenset(views))
    if not schema.tables and not profile.queries:
        raise SourceError(where.nothing)
    if where.note:
        schema = replace(schema, notes=(where.note, *schema.notes))
    problems: list[str] = []
    queries = []
    for name, query in profile.queries.items():
        if name not in schema.table_names:  # a name clash is reported by make_plan
            try:
                if not _side_effects(dialect, Table(name, (), query=query.sql), f"queries.{name}.sql", problems):
                    queries.append(dialect.reflect_query(name, query.sql))
            except SourceError as exc:
                problems.append(f"queries.{name}.sql: the source refuses the query: {exc}")
    for name, tprof in profile.tables.items():
        if tprof.where and name in schema.table_names and not tprof.exclude:
            filtered = replace(schema.table(name), row_filter=RowFilter(tprof.where))
            try:
                if not _side_effects(dialect, filtered, f"tables.{name}.where", problems):
                    dialect.check_filter(filtered)
            except SourceError as exc:
                problems.append(f"tables.{name}.where: the source refuses the condition: {exc}")
    schema = replace(schema, tables=(*schema.tables, *queries))
    plan = make_plan(schema, profile, fmt=options.fmt, charset=options.charset, tables=options.tables,
                     source_problems=problems)
    if options.lobs_outside is not None:
        if plan.format != "siard":
            raise ConfigError("--lobs-outside is for --format siard (a flat-file extract keeps every large object "
                              f"under content/{LOB_DIR}/)")
        plan = replace(plan, lobs_outside=options.lobs_outside)
    if not plan.tables:
        raise ExtractorError("every table is excluded; nothing to extract")
    return schema, plan


def _side_effects(dialect: SourceDialect, table: Table, where: str, problems: list[str]) -> bool:
    """Profile SQL is hostile input: refuse a query or filter that would do more than read (run a
    program, read a server file, lock, sleep, reach the network…), asked of the source before it
    runs; True when refused."""
    calls = dialect.refused_calls(table)
    if calls:
        problems.append(f"{where}: {'; '.join(calls)}; nothing was read (profile SQL may only read)")
    return bool(calls)


def check_descriptions(plan: Plan) -> None:
    """``--strict``: every kept table and field must be described, and the depot metadata given,
    before anything is read; everything missing is listed at once."""
    undescribed = missing_descriptions(plan)
    needs = missing(plan.profile.metadata)
    parts = []
    if undescribed:
        parts.append(
            f"{len(undescribed)} kept table(s) and field(s) have no description, neither in the profile nor as "
            "a comment in the source:\n" + "\n".join(f"  - {m}" for m in undescribed)
            + "\nDescribe each in the profile: [tables.T] description = \"…\" and [tables.T.columns.C] description = "
            "\"…\" ([queries.Q] for a query). 'uttrekk profile init SOURCE -o FILE' writes a profile with every "
            "table and column ready to fill in (and brings an existing one up to date with --profile).")
    if needs:
        parts.append("the depot metadata is missing:\n" + "\n".join(f"  - {n.what}: {n.fix}" for n in needs))
    if parts:
        raise ConfigError("--strict: nothing was written; " + "\n".join(parts))


def check_arrays(plan: Plan) -> None:
    """Refuse to extract while an array column cannot be archived faithfully (nothing is written)."""
    if plan.refused:
        raise UnwritableError(
            f"{len(plan.refused)} array column(s) cannot be archived faithfully; nothing was written:\n"
            + "\n".join(f"  - {r}" for r in plan.refused))


def check_scan(plan: Plan, result: ScanResult) -> None:
    """Raise if values cannot be written and nothing in the profile covers them (nothing is published)."""
    bad: list[str] = []
    invalid: list[str] = []
    total = 0
    for t in result.tables.values():  # once: an extract's scans are read back from disk as they are asked for
        if not t.needs_utf8:
            total += t.unmappable_count
            bad += [str(f) for f in t.findings if not f.mapped][:SHOWN_FINDINGS - len(bad)]
        invalid += t.xml_invalid
    if total:
        raise UnencodableError(plan.charset.encoding, bad, total)
    if invalid:
        raise UnwritableError(
            "these values hold control characters that XML 1.0 cannot carry; nothing was written:\n  "
            + "\n  ".join(invalid) + "\nUse --format delimited or fixed for this source.")


def run_extract(source: str, out: Path, profile_path: str | Path | None, options: Options) -> ExtractSummary:
    """Extract SOURCE into the directory OUT; see the module docstring for the steps.

    A run that fails after some table was finished keeps its staging folder, so that ``--resume``
    redoes only the tables that were not finished.
    """
    from dialects import open_source

    started = dt.datetime.now(dt.UTC)
    profile = open_profile(profile_path, options.metadata)
    dialect = open_source(source, options.password, database=options.database, quiet=options.quiet,
                          accept_losses=profile.accept_losses, **profile.file_source.options(options.codepage))
    try:
        _, plan = reflect_and_plan(dialect, profile, options)
        if options.strict:
            check_descriptions(plan)
        sources = dialect.source_files()
        if options.package is not None:
            refuse_source_inside(options.package, sources, "--package", holding_ok=True)
        with writing(f"--out {out}: cannot prepare the extract folder"):
            staging = Staging(out, options.overwrite, resume=options.resume, sources=sources)
        try:
            plans = [plan]  # _build takes the provisional plan out: the final one replaces it
            del plan
            with writing(f"cannot write the extract in {staging.path}"), dialect.snapshot():
                workers = workers_for(dialect, options.jobs, source, options.password)
                summary = _build(staging, plans, dialect, profile, options, started, workers)
            with writing(f"cannot move the finished extract into place as {out}"):
                summary.out = staging.publish()
            summary.sources = sources
            summary.missing = missing(summary.plan.profile.metadata, summary.plan.format)
        except BaseException as exc:
            if isinstance(exc, UnwritableError | ConfigError) or not WorkDir(staging.work).has_done:
                staging.discard()
                if isinstance(exc, OutputError):
                    raise OutputError(f"{exc}\nNothing was published.") from None
                raise
            if isinstance(exc, ExtractorError):
                raise ExtractionError(
                    f"{exc}\nNothing was published. The tables finished so far are kept in {staging.path}; "
                    "run the same command with --resume to redo only the rest.") from None
            raise
    finally:
        dialect.close()
    return summary


def _build(staging: Staging, plans: list[Plan], dialect: SourceDialect, profile: Profile, options: Options,
           started: dt.datetime, workers: Workers) -> ExtractSummary:
    """Scan, extract, describe and report into the staging folder, inside one read snapshot.

    ``plans`` holds the provisional plan, taken out here so that no caller keeps it: once the final
    plan is made, the provisional one (some 1 KB a table) is let go."""
    plan0 = settle_large_objects(settle(plans.pop(), dialect), dialect)
    check_arrays(plan0)
    counts = {tp.name: dialect.count_rows(tp.source) for tp in plan0.tables if tp.source is not None and tp.unpivot is None}
    left_out = {tp.name: dialect.count_rows(replace(tp.source, row_filter=None, lookups=())) - counts[tp.name]
                for tp in plan0.tables if tp.source is not None and tp.row_filter is not None and tp.name in counts}
    progress = Progress(counts, options.quiet)
    work = WorkDir(staging.work)
    print_ = fingerprint(plan0)
    warnings: list[str] = []
    reusable, earlier = work.earlier_run(print_) if staging.resumed else (False, "")
    if not reusable:
        if options.resume:
            warnings.append(f"--resume: nothing could be reused ({earlier}); the whole extract was made in this run.")
        work.reset()
        work.save_run(print_, started)
    found = combine((), KeptScans(work, plan0))  # the scans wait in the work folder (mark_done)
    done: dict[str, TableDone] = {}
    todo = []
    for tp in extracted_tables(plan0):
        kept = work.done(tp, staging.content) if reusable else None
        if kept is None:
            work.forget(tp)
            todo.append(tp)
        else:
            found.add(kept[0])
            done[tp.name] = kept[1]
    reused = tuple(done)
    if staging.distrusted:
        warnings.append(f"--resume: nothing was reused because {staging.distrusted}; whoever can write there could "
                        "change what the run reads and writes. The whole extract was made in this run.")
    warnings += [f"--resume: table {why}; the table was extracted again." for why in work.redone]
    try:
        for tp, scanned, td in process_tables(plan0, todo, dialect, workers, staging.content, work.path, progress):
            work.mark_done(tp, td, scanned, staging.content)
            found.add(scanned)
            done[tp.name] = td
    finally:
        progress.close()
    check_scan(plan0, found)
    plan = finalize(plan0, found)
    for tp in extracted_tables(plan):
        written = refine_table(plan0, plan0.table(tp.name), TableScanned(tp.name, found.tables[tp.name], 0, {}))
        if layout(plan, tp) != layout(plan, written):
            raise ExtractionError(f"{tp.name}: the file was written with another layout than the final plan (a bug)")
    del plan0, found, todo  # the provisional plan and what refers to it: only the final one is kept
    plan = replace(plan, tables=tuple(replace(tp, rows_left_out=left_out[tp.name]) if tp.name in left_out else tp
                                      for tp in plan.tables))
    relations, dangling = check_relations(plan, dialect, work.path)
    dangling += report_missing(plan, dialect, work.path, relations)
    unreferenced, orphan_report = orphans(dialect)
    warnings += unreferenced
    result = finish(plan, done, staging.content, work.path, staging.report / "deviations.tsv", relations)
    del done
    queries = _Queries(plan, dialect)
    files: Mapping[str, Any] = {**result.files, "__schemas__": result.schemas} if result.schemas else result.files
    date = options.extraction_date or profile.metadata.extraction_date or started.date().isoformat()
    siard = None
    if plan.format == "siard":  # the SIARD file describes itself: no addml.xml (as Arkade packs SIARD)
        siard = write_siard_file(plan, result, staging.content, work.path, date, dialect)
    else:
        with open(staging.content / "addml.xml", "wb", buffering=1 << 20) as description:
            write_description(description, plan, files, queries, date, dialect.provenance_text)
        validate_description(staging.content / "addml.xml", plan.addml_version)
        (staging.content / "addml.xsd").write_bytes(schema_bytes(plan.addml_version))
    session = dialect.snapshot_note
    snapshot: dict[str, Any] = {**dialect.snapshot_details(), "parallel_workers": workers.jobs if workers.jobs > 1 else 0,
                                "tables_from_an_earlier_run": list(reused)}
    if session.startswith("WARNING"):
        warnings.append(session)
    if workers.jobs > 1:
        session += f"; {workers.jobs} parallel workers joined its exported snapshot"
    if reused:
        session = (f"resumed: {len(reused)} table(s) ({', '.join(reused)}) were read in the earlier session started "
                   f"{earlier}; the other(s) in this one ({session})")
        warnings.append(
            f"This extract was resumed: {', '.join(reused)} were read in an earlier session (started {earlier}), "
            "the other tables in this one. Relations between them hold as long as the source did not change in "
            "between; run without --resume for one snapshot.")
    accepted = [profile.accepted_note()] if profile.accept_losses and dialect.provenance else []
    warnings = (accepted + list(dialect.source_notes) + list(plan.warnings) + warnings + dangling
                + expected_arkade_deviations(plan, result))
    _write_reports(staging, plan, result, warnings, dialect, started, date, session, orphan_report, siard, snapshot)
    if siard is not None:
        remove_staged(plan, staging.content)
    return ExtractSummary(staging.out, plan, result, result.deviation_total, warnings, reused)


class _Queries(Mapping[str, str]):
    """Table -> the SELECT that read it (``_query``), made when addml.xml asks for it, not kept."""

    def __init__(self, plan: Plan, dialect: SourceDialect) -> None:
        self._plan, self._dialect = plan, dialect

    def __getitem__(self, name: str) -> str:
        tp = self._plan.table(name)
        if tp.source is None:
            raise KeyError(name)
        return _query(self._dialect, tp)

    def __iter__(self) -> Iterator[str]:
        return (tp.name for tp in self._plan.tables if tp.source is not None)

    def __len__(self) -> int:
        return sum(tp.source is not None for tp in self._plan.tables)


def _query(dialect: SourceDialect, tp: Any) -> str:
    """The SELECT that read a table (for a repeating group's child: the parent's rows it came from;
    for an array column's child: the elements unnested from the parent)."""
    if tp.unpivot is not None and tp.unpivot.array:
        return dialect.select_text(array_source(dialect, tp), tp.columns, tp.order_by)
    if tp.unpivot is not None:
        u = tp.unpivot
        return dialect.select_text(u.parent, u.read, u.order_by)
    return dialect.select_text(tp.source, tp.columns, tp.order_by)


def expected_arkade_deviations(plan: Plan, result: ExtractResult) -> list[str]:
    """Findings Arkade 5 will report on this extract although nothing is wrong, explained up front."""
    notes = []
    if plan.format == "siard":
        return ["Arkade 5 does not test the data of a SIARD extract itself: it runs DBPTK's SIARD validator "
                "(a jar the user supplies) and adds its report."]
    if plan.format == "xml":
        return ["Arkade 5 tests ADDML flat files; an XML-format extract is described with dataObjects "
                "and is not tested by Arkade's ADDML engine."]
    if result.lob_files:
        notes.append(f"Arkade 5 AH.02 will list the {result.lob_files} file(s) under content/{LOB_DIR}/ as not "
                     f"described, because it only counts flat files; each is listed with size and SHA-256 "
                     f"in {LOB_TABLE}, which Arkade checks as a flat file.")
    for tp in plan.tables:
        for fk in tp.foreign_keys:
            fields = [f for f in tp.fields if f.name in fk.columns or (f.role == "value" and f.column in fk.columns)]
            if any(f.has_null for f in fields):
                notes.append(f"Arkade 5 A.16 (Control_ForeignKey) will report one empty value for "
                             f"{tp.name}({', '.join(fk.columns)}) -> {fk.ref_table}: the field is NULL in some "
                             "records, and Arkade checks empty values like any other.")
    if plan.addml_version == "8.2":
        notes.append(plan.addml_version_reason)
    return notes


def _filter_report(tp: Any) -> dict[str, Any]:
    """A filtered table's entry in extraction.json: the condition, why, and the rows it left out."""
    if tp.row_filter is None:
        return {}
    return {"filter": filter_text(tp.row_filter), "filter_reason": tp.filter_reason or _period_reason(tp),
            "rows_left_out": tp.rows_left_out}


def _rendering_report(result: ExtractResult, name: str) -> dict[str, Any]:
    """Which path wrote the table's file, and why not the fast path (column -> reason, "" the table)."""
    if name not in result.rendering:
        return {}
    path, reasons = result.rendering[name]
    return {"rendering": path, "exact_path_reasons": dict(reasons)} if reasons else {"rendering": path}


def _period_reason(tp: Any) -> str:
    return "outside the archival period" if tp.row_filter.period_column else ""


def _table_entry(plan: Plan, result: ExtractResult, tp: Any) -> dict[str, Any]:
    """One table's entry in extraction.json's ``tables`` (made when it is written, not kept)."""
    fr = result.files[tp.name]
    return {
        "table": tp.name, "file": fr.name, "records": fr.records, "bytes": fr.size,
        "sha256": fr.sha256, "charset": tp.charset,
        "fields": [f.name for f in tp.fields],
        "excluded_columns": [{"column": c, "reason": r} for c, r in tp.excluded_columns],
        "notes": list(tp.notes),
        **_filter_report(tp),
        **_rendering_report(result, tp.name),
    }


_TABLES_HOLE = "\x00uttrekk:tables\x00"
"""The ``tables`` value written in its place by ``_write_json`` (JSON escapes the NULs, so no text equals it)."""


def _write_json(path: Path, data: dict[str, Any], entries: Any) -> None:
    """``json.dumps(data, indent=2, ensure_ascii=False)`` with ``data["tables"]`` the list ``entries``
    yields, byte for byte, written one table's entry at a time (20,000 of them are some 8 MB of text)."""
    hole = f'\n  "tables": {json.dumps(_TABLES_HOLE)}'
    text = json.dumps({**data, "tables": _TABLES_HOLE}, indent=2, ensure_ascii=False)
    head, tail = text.split(hole)
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        out.write(head)
        out.write('\n  "tables": [')
        first = True
        for entry in entries:
            out.write(("\n" if first else ",\n") + "\n".join(
                "    " + line for line in json.dumps(entry, indent=2, ensure_ascii=False).split("\n")))
            first = False
        out.write("]" if first else "\n  ]")
        out.write(tail + "\n")


def _summary_lines(entry: dict[str, Any]) -> list[str]:
    """A table's lines in summary.txt."""
    lines = [f"{entry['table']}: {entry['records']} records -> {entry['file']} ({entry['charset']}, sha256 "
             f"{entry['sha256']})"]
    if entry.get("rendering"):
        lines.append(f"  rendered by {'the server (fast path)' if entry['rendering'] == 'server' else 'uttrekk (exact path)'}"
                     + (f": {describe_reasons(entry['exact_path_reasons'])}" if entry.get("exact_path_reasons") else ""))
    if entry.get("filter"):
        lines.append(f"  filter: {entry['filter']} ({entry['filter_reason']}); {entry['rows_left_out']} row(s) left out")
    return lines


def _write_reports(staging: Staging, plan: Plan, result: ExtractResult, warnings: list[str], dialect: SourceDialect,
                   started: dt.datetime, date: str, session: str, orphan_report: dict[str, Any] | None = None,
                   siard: SiardWritten | None = None, snapshot: dict[str, Any] | None = None) -> None:
    """extraction.json, summary.txt and the documentation; the tables' parts are written one table at a
    time, never held for all tables at once."""
    source = dialect.label
    finished = dt.datetime.now(dt.UTC)
    data = {
        "tool": "uttrekk", "version": __version__, "source": source, "engine": plan.engine,
        "source_details": dialect.source_details(), "session": session, "snapshot": snapshot or {},
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "extraction_date": date, "dataset_number": plan.profile.metadata.dataset_number,
        "responsible_person": plan.profile.metadata.responsible_person,
        "format": plan.format, "charset": plan.charset.encoding,
        "charset_map": {f"U+{ord(k):04X}": v for k, v in plan.charset.mapping},
        "utf8_fallback": plan.charset.utf8_fallback, "long_text_limit": plan.long_text_limit,
        "addml_version": plan.addml_version, "addml_version_reason": plan.addml_version_reason,
        "tables": _TABLES_HOLE,
        "excluded_tables": [{"table": t, "reason": r} for t, r in plan.excluded_tables],
        "lob_files": result.lob_files, "lob_bytes": result.lob_bytes,
        "deviations": {f"{t}:{a}": n for (t, a), n in sorted(result.deviations.items())},
        "warnings": warnings,
        "depot_needs": [{"item": n.what, "fix": n.fix, "why": n.why} for n in missing(plan.profile.metadata,
                                                                                            plan.format)],
    }
    if orphan_report is not None:
        data["orphan_large_objects"] = orphan_report
    if siard is not None:
        data["siard"] = siard.report()
        data["metadata"] = {k: v for k, v in asdict(plan.profile.metadata).items() if v}
    described = (f"SIARD {siard.version} in content/{siard.name} (SHA-256 {siard.sha256})" if siard is not None
                 else f"ADDML {plan.addml_version}")
    with open(staging.report / "summary.txt", "w", encoding="utf-8", buffering=1 << 20) as summary:
        summary.write("\n".join([f"uttrekk {__version__}: extract of {source}",
                                 f"started {data['started']}, finished {data['finished']}",
                                 f"format {plan.format}, {described}", ""]) + "\n")

        def entries() -> Any:
            for tp in plan.tables:
                entry = _table_entry(plan, result, tp)
                summary.write("\n".join(_summary_lines(entry)) + "\n")
                yield entry

        _write_json(staging.report / "extraction.json", data, entries())
        lines = [f"{name}: left out ({reason})" for name, reason in plan.excluded_tables]
        if siard is not None and result.lob_files:
            lines.append(f"{result.lob_files} file(s) for binary values and long texts: {siard.inside} inside "
                         f"{siard.name}, {siard.outside} beside it under content/{LOB_DIR}/")
        elif result.lob_files:
            lines.append(f"{result.lob_files} file(s) for binary values and long texts under content/{LOB_DIR}/")
        lines.append(f"{result.deviation_total} value-level change(s) listed in report/deviations.tsv")
        lines.append(f"Description and extraction log (Norwegian): {FOLDER}/beskrivelse.txt, oversikt.html, uttrekkslogg.txt")
        if warnings:
            lines += ["", "Warnings and expected Arkade 5 findings:"] + [f"- {w}" for w in warnings]
        block = missing_block(missing(plan.profile.metadata, plan.format))
        if block:
            lines += ["", block]
        summary.write("\n".join(lines) + "\n")
    del data["tables"]  # the documentation reads the run's facts, not the tables' entries
    write_documentation(staging.path / FOLDER, plan, result, data, staging.report / "deviations.tsv")
