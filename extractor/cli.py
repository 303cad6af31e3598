"""Command line: thin click commands over the library; errors become one clear message."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .console import report_errors
from .profile import FORMATS

if TYPE_CHECKING:
    from .source_dialect import SourceDialect

DATABASE_HELP = ("Which database of a dump holding several (pg_dumpall, mysqldump --all-databases); "
                 "inspect lists them.")

SCHEMA_DEFAULT = ("(default: the connection's default schema, or the only other schema that holds tables when it "
                  "holds none)")
CHARSET_CHOICE = click.Choice(["ISO-8859-1", "UTF-8"], case_sensitive=False)
CODEPAGE_HELP = ("The code page of dBase/FoxPro tables whose header names none (cp865, cp850, cp437, cp1252, "
                 "iso-8859-1), over the profile's [source] codepage.")


_errors = report_errors("nothing was published (tables already finished are kept for --resume)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="uttrekk")
def cli() -> None:
    """uttrekk: turn a relational database into an archival extract (ADDML) a depot accepts.

    SOURCE is a database URL (postgresql://user@host/db), a SQLite file, or a dump a depot
    received (pg_dump, pg_dumpall, mysqldump/mariadb-dump, Firebird gbak or database file;
    compressed or alone in a zip or tar), restored by uttrekk into a throwaway server.
    """


@cli.command()
@click.argument("source")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False), help="Profile (TOML) describing the system.")
@click.option("--charset", type=CHARSET_CHOICE, help="Output charset for the check (default: the profile's, else ISO-8859-1).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--no-scan", is_flag=True, help="Skip the pre-flight data scan (structure and counts only).")
@click.option("--keys", is_flag=True,
              help="Only look for relations the source does not declare: columns whose values are found in "
                   "another table's key, each with its evidence (no value scan).")
@click.option("--write-profile", "write_path", type=click.Path(dir_okay=False, path_type=Path),
              help="With --keys: add the relations found to this profile as foreign_keys with confirmed = false "
                   "(created if missing; comments and existing entries are kept).")
@click.option("--schema", help=f"Database schema to inspect {SCHEMA_DEFAULT}.")
@click.option("--views", is_flag=True, help="Include views (and materialized views).")
@click.option("--database", help=DATABASE_HELP)
@click.option("--codepage", help=CODEPAGE_HELP)
@click.option("--ask-password", is_flag=True, help="Prompt for the database password (else URL, $UTTREKK_PASSWORD, .pgpass).")
@_errors
def inspect(source: str, profile_path: str | None, charset: str | None, as_json: bool, no_scan: bool, keys: bool,
            write_path: Path | None, schema: str | None, views: bool, database: str | None, codepage: str | None,
            ask_password: bool) -> None:
    """Show tables, row counts, columns with native and archive types, keys, and every value
    that cannot be written in the chosen charset (table, column, row key, code point).

    First says what SOURCE is (a dump: its format and the tool that wrote it); a dump holding
    several databases lists them, and --database chooses one.

    With --keys: the relations (foreign keys) the source does not declare, found in the data on
    the server, each with coverage, orphan values and name evidence, for a person to confirm."""
    from dialects import open_recognised, recognise_source

    from .errors import ConfigError, SourceError
    from .pipeline import Options, open_profile

    if write_path is not None and not keys:
        raise ConfigError("--write-profile needs --keys (it writes the relations --keys finds)")
    profile = open_profile(profile_path)
    probe, found = recognise_source(source)
    what = _what(probe, found, database)
    try:
        dialect = open_recognised(probe, found, _password(ask_password), database=database,
                                  accept_losses=profile.accept_losses, **profile.file_source.options(codepage))
    except SourceError:
        if len(what["databases"]) > 1 and database is None:  # the dump's databases, then why none was chosen
            click.echo(json.dumps(what, indent=2, ensure_ascii=False) if as_json else _what_text(what), nl=as_json)
        raise
    what.update(provenance=dict(dialect.provenance), restore_notes=list(dialect.source_notes))
    if write_path is not None:
        try:
            _not_the_source(write_path, dialect, "--write-profile")
        except BaseException:
            dialect.close()
            raise
    if keys:
        from .relations import find_relations, format_relations, terminal_progress, write_profile

        progress = terminal_progress()
        try:
            relations = find_relations(dialect, profile, schema=schema, views=views, progress=progress)
        finally:
            dialect.close()
            if progress:
                progress("")
        added, present = (write_profile(write_path, relations.candidates, relations.source)
                          if write_path is not None else ([], []))
        if as_json:
            out = {"what": what, **relations.as_dict()}
            if write_path is not None:
                out["profile"] = {"file": str(write_path), "added": [c.arrow for c in added],
                                  "already_there": [c.arrow for c in present]}
            click.echo(json.dumps(out, indent=2, ensure_ascii=False))
            return
        click.echo(_what_text(what) + format_relations(relations), nl=False)
        if write_path is not None:
            click.echo(f"\n{write_path}: added {len(added)} relation(s) with confirmed = false"
                       + (f"; {len(present)} already there, left as they are" if present else ""))
            for c in added:
                click.echo(f"  + {c.arrow}  [{c.confidence}]")
        return

    from .inspect import format_inspection, inspect_source

    try:
        options = Options(charset=charset.upper() if charset else None, schema=schema, views=views)
        info = inspect_source(dialect, profile, options, run_scan=not no_scan)
    finally:
        dialect.close()
    if as_json:
        click.echo(json.dumps({"what": what, **info}, indent=2, ensure_ascii=False))
    else:
        click.echo(_what_text(what) + format_inspection(info), nl=False)


def _what(probe: Any, found: Any, database: str | None) -> dict[str, Any]:
    """What SOURCE is, for inspect: the kind's words, the layers around it, the databases it holds."""
    from dialects.kinds import databases_of

    return {"source": found.what if probe.is_url else probe.text, "what": found.what, "kind": found.kind,
            "wrapping": list(probe.wrapping), "facts": dict(found.facts), "databases": databases_of(found),
            "database": database}


def _what_text(what: dict[str, Any]) -> str:
    """The lines inspect begins with: what SOURCE is, the database chosen or how to choose one."""
    lines = [f"What: {what['what']}" + (f" (in {' > '.join(what['wrapping'])})" if what["wrapping"] else "")]
    held: list[str] = what["databases"]
    if len(held) > 1:
        lines.append(f"It holds {len(held)} databases: {', '.join(held)}.")
        if what["database"] is None:
            lines.append("Choose one with --database NAME (give the same to profile init and extract).")
            if "provenance" not in what:  # it could not be opened without the choice
                return "\n".join(lines) + "\n"
        else:
            lines.append(f"Database: {what['database']} (chosen with --database)")
    for key, value in (what.get("provenance") or {}).items():
        lines.append(f"  {key}: {value}")
    for note in what.get("restore_notes") or ():
        lines.append(f"  restore: {note}")
    return "\n".join(lines) + "\n\n"


@cli.command()
@click.argument("source")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to create for the extract (must be absent or empty).")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False), help="Profile (TOML) describing the system.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Table file format (default: delimited).")
@click.option("--charset", type=CHARSET_CHOICE, help="Charset of the table files (default: ISO-8859-1).")
@click.option("--lobs-outside", type=click.IntRange(1), metavar="BYTES",
              help="--format siard: store a large object of this many bytes or more beside the SIARD file "
                   "(content/lob/) instead of inside it (default: every one inside).")
@click.option("--table", "tables", multiple=True, help="Extract only this table (repeatable).")
@click.option("--schema", help=f"Database schema to extract {SCHEMA_DEFAULT}.")
@click.option("--database", help=DATABASE_HELP)
@click.option("--codepage", help=CODEPAGE_HELP)
@click.option("--views", is_flag=True, help="Also extract views (and materialized views) as tables.")
@click.option("--overwrite", is_flag=True, help="Replace an existing, non-empty --out directory.")
@click.option("--date", "extraction_date", help="Extraction date written to addml.xml (YYYY-MM-DD; default today).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Tables read in parallel, all in one shared snapshot (engines that can share one).")
@click.option("--resume", is_flag=True,
              help="Go on with an interrupted run into the same --out: redo only unfinished tables.")
@click.option("--package", "package_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Then validate the extract (report/validation.json and .html) and pack it as a DIAS package "
                   "({uuid}.tar and {uuid}.xml) in this folder; exit code 1 if validation found errors.")
@click.option("--ask-password", is_flag=True, help="Prompt for the database password (else URL, $UTTREKK_PASSWORD, .pgpass).")
@click.option("--archive-creator", help="Archive creator (arkivskaper), over the profile's [metadata] archive_creator.")
@click.option("--system-name", help="The system's name, over the profile's [metadata] system_name.")
@click.option("--period", help="Archival period START..END (dates YYYY-MM-DD, or years: 1998..2024), over the "
                               "profile's [metadata] period_start and period_end.")
@click.option("--strict", is_flag=True,
              help="Refuse to extract while a kept table or field has no description (in the profile or as a "
                   "comment in the source), or the depot metadata (archival period, archive creator, system "
                   "name) is missing; all of them are listed at once.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@_errors
def extract(source: str, out: Path, profile_path: str | None, fmt: str | None, charset: str | None,
            lobs_outside: int | None, tables: tuple[str, ...], schema: str | None, database: str | None,
            codepage: str | None, views: bool, overwrite: bool,
            extraction_date: str | None, jobs: int, resume: bool, package_dir: Path | None, ask_password: bool,
            archive_creator: str | None, system_name: str | None, period: str | None, strict: bool,
            quiet: bool) -> None:
    """Extract SOURCE into OUT: content/addml.xml and one file per table, plus report/
    (with --format siard: one SIARD 2.2 file, content/NAME.siard, instead).

    With --package: validate it as Arkade 5 would and pack it for the depot, in one go."""
    import datetime as dt

    from .deliverable import missing_block, parse_period
    from .errors import ConfigError
    from .pipeline import Options, run_extract

    if extraction_date:
        try:
            extraction_date = dt.date.fromisoformat(extraction_date).isoformat()
        except ValueError:
            raise ConfigError(f"--date {extraction_date!r} is not a date (YYYY-MM-DD)") from None
    metadata: dict[str, tuple[str, str]] = {}
    if archive_creator is not None:
        metadata["archive_creator"] = (archive_creator, "--archive-creator")
    if system_name is not None:
        metadata["system_name"] = (system_name, "--system-name")
    if period is not None:
        start, end = parse_period(period)
        metadata |= {"period_start": (start, "--period"), "period_end": (end, "--period")}
    options = Options(fmt=fmt, charset=charset.upper() if charset else None, tables=tables, quiet=quiet,
                      overwrite=overwrite, extraction_date=extraction_date, password=_password(ask_password),
                      schema=schema, views=views, jobs=jobs, resume=resume, strict=strict, package=package_dir,
                      metadata=metadata, database=database, codepage=codepage, lobs_outside=lobs_outside)
    summary = run_extract(source, out, profile_path, options)
    records = sum(f.records for f in summary.result.files.values())
    described = "SIARD 2.2" if summary.plan.format == "siard" else f"ADDML {summary.plan.addml_version}"
    click.echo(f"Extract written to {summary.out}: {len(summary.result.files)} table(s), {records} record(s), "
               f"{described}, {summary.deviations} value change(s) reported.")
    if summary.reused:
        click.echo(f"Resumed: {len(summary.reused)} table(s) reused from the interrupted run.")
    for w in summary.warnings:
        click.echo(f"note: {w}", err=True)
    if summary.missing:
        click.echo(missing_block(summary.missing), err=True)
    if package_dir is not None:
        sys.exit(_validate_and_package(summary.out, package_dir, overwrite, summary.sources))


def _validate_and_package(extract_dir: Path, package_dir: Path, overwrite: bool, sources: tuple[Path, ...]) -> int:
    """``extract --package``: the validation report goes into report/ (so into the package's
    descriptive metadata), then the package is built; authentic errors are packed as found."""
    from .dias.package import build_package
    from .validation.report import format_summary, write_html, write_json
    from .validation.run import validate_path

    report = validate_path(extract_dir)
    write_json(report, extract_dir / "report" / "validation.json")
    write_html(report, extract_dir / "report" / "validation.html")
    click.echo(f"Validation: {format_summary(report).splitlines()[-1]} (report/validation.html)")
    result = build_package(extract_dir, package_dir, overwrite=overwrite, protect=sources)
    click.echo(f"Package written to {result.tar_path} with its info file {result.info_path} "
               f"(SHA-256 {result.sha256}).")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if report.errors:
        click.echo(f"note: validation found {report.errors} error(s); they are in the package as the source holds "
                   "them and listed in report/validation.html. Check them before delivery.", err=True)
    return report.exit_code


@cli.group("profile", context_settings={"help_option_names": ["-h", "--help"]})
def profile_group() -> None:
    """Write and maintain profiles (the TOML file that describes a system)."""


@profile_group.command("init")
@click.argument("source")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A profile to bring up to date with the source instead of starting afresh "
                   "(everything written in it is kept).")
@click.option("-o", "--output", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the profile to FILE, atomically (default: standard output). An existing FILE is "
                   "brought up to date, never replaced.")
@click.option("--keys", is_flag=True,
              help="Also add the relations the data show (as inspect --keys finds them) as foreign_keys with "
                   "confirmed = false.")
@click.option("--schema", help=f"Database schema to read {SCHEMA_DEFAULT}.")
@click.option("--views", is_flag=True, help="Include views (and materialized views).")
@click.option("--database", help=DATABASE_HELP)
@click.option("--codepage", help=CODEPAGE_HELP)
@click.option("--ask-password", is_flag=True, help="Prompt for the database password (else URL, $UTTREKK_PASSWORD, .pgpass).")
@report_errors("nothing was written")
def profile_init(source: str, profile_path: Path | None, out_path: Path | None, keys: bool, schema: str | None,
                 views: bool, database: str | None, codepage: str | None, ask_password: bool) -> None:
    """Write a profile skeleton for SOURCE: [metadata], [charset], [output], and every table and
    column with its description (the database's comment, else empty) and, in lines beginning
    '# uttrekk:', the row count, the key the extract will use, a code table found, and each
    column's native and archive type, nullability and length.

    With --profile (or an -o FILE that exists) the profile is brought up to date with a changed
    source: what a person wrote stays byte for byte; new tables and columns are added and marked
    '# NY <date>'; tables and columns the source lost are commented out where they stand under
    '# BORTE <date>', with every entry naming them, so the profile still loads and extracts. The
    '# uttrekk:' lines are rewritten on every run; an unchanged source gives the same bytes."""
    from dialects import open_source

    from .errors import ConfigError, ProfileError
    from .output import write_atomically
    from .profile_init import init_profile

    if out_path is not None and out_path.exists() and profile_path is not None \
            and not (profile_path.exists() and profile_path.resolve() == out_path.resolve()):
        raise ConfigError(f"-o {out_path} exists and is not --profile {profile_path}: give -o {out_path} alone to "
                          "bring it up to date, or write to a new file")
    if out_path is not None and out_path.is_dir():
        raise ConfigError(f"-o {out_path}: is a directory; give a file name")
    existing = profile_path or (out_path if out_path is not None and out_path.exists() else None)
    dialect = open_source(source, _password(ask_password), database=database, **_source_options(existing, codepage))
    try:
        for path, option in ((out_path, "-o"), (profile_path, "--profile")):
            if path is not None:
                _not_the_source(path, dialect, option)
        text = None
        if existing is not None:
            try:
                text = existing.read_bytes().decode("utf-8")  # as it is: line ends too
            except FileNotFoundError:
                raise ProfileError(str(existing), ["file not found"]) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ProfileError(str(existing), [f"cannot be read: {exc}"]) from None
        result = init_profile(dialect, text, path=existing, schema=schema, views=views, keys=keys)
    finally:
        dialect.close()
    if out_path is None:
        click.echo(result.text, nl=False)
    else:
        write_atomically(out_path, result.text)
    done = "brought up to date" if result.updated else "written"
    click.echo(f"{out_path or existing or 'profile'}: {done}: {result.tables} table(s), {result.columns} column(s); "
               f"{len(result.added)} added, {len(result.gone)} marked gone, {len(result.relations)} relation(s) "
               "added with confirmed = false", err=True)
    for name in result.added if result.updated else ():
        click.echo(f"  + {name}", err=True)
    for gone in result.gone:
        click.echo(f"  - {gone}", err=True)
    for arrow in result.relations:
        click.echo(f"  + {arrow} (confirmed = false)", err=True)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


def _source_options(path: Path | None, codepage: str | None) -> dict[str, Any]:
    """What a profile being brought up to date says of reading the source: the restore losses it
    accepts and its dBase code page and deleted records (its problems are init's to report)."""
    from .errors import ProfileError
    from .profile import FileSource, load_profile

    if path is None or not path.is_file():
        return {"accept_losses": (), **FileSource().options(codepage)}
    try:
        profile = load_profile(path, defer=True)
    except (ProfileError, OSError, ValueError):
        return {"accept_losses": (), **FileSource().options(codepage)}
    return {"accept_losses": profile.accept_losses, **profile.file_source.options(codepage)}


def _not_the_source(path: Path, dialect: SourceDialect, option: str) -> None:
    """A profile written by this command must not be the source's own file."""
    from .output import refuse_source_inside

    refuse_source_inside(path, dialect.source_files(), option, holding_ok=True)


@cli.group("cache", context_settings={"help_option_names": ["-h", "--help"]})
def cache_group() -> None:
    """The dumps uttrekk restored and keeps, so that inspect, profile init and extract of one dump
    restore it once: in $UTTREKK_CACHE (default ~/.cache/uttrekk; for root /var/cache/uttrekk),
    at most $UTTREKK_CACHE_LIMIT (default 20G; least recently used go first)."""


@cache_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@report_errors("nothing was changed")
def cache_list(as_json: bool) -> None:
    """Each restored dump: engine, size, when a run last used it, the dump's SHA-256 and file name."""
    from dialects.kinds.cache import listing
    from dialects.kinds.throwaway import cache_limit, cache_root

    listed = listing()
    if as_json:
        click.echo(json.dumps({"cache": str(cache_root()), "limit_bytes": cache_limit(),
                               "entries": [c.as_dict() for c in listed]}, indent=2, ensure_ascii=False))
        return
    click.echo(f"Cache: {cache_root()} (limit {_bytes(cache_limit())})")
    if not listed:
        click.echo("No restored dumps are kept.")
        return
    for c in listed:
        used = c.used.strftime("%Y-%m-%d %H:%M") if c.used else "incomplete"
        state = "  (in use by a running uttrekk)" if c.in_use else ""
        click.echo(f"{c.engine:<12} {_bytes(c.size):>9}  {used:<16}  {c.sha256}  {c.file or '?'}{state}")
    click.echo(f"{len(listed)} restored dump(s), {_bytes(sum(c.size for c in listed))}.")


@cache_group.command("clear")
@click.argument("digests", nargs=-1, metavar="[SHA256]...")
@click.option("--all", "everything", is_flag=True, help="Remove every restored dump no run is using.")
@report_errors("nothing more was removed")
def cache_clear(digests: tuple[str, ...], everything: bool) -> None:
    """Remove restored dumps: those whose SHA-256 (or its first 6 or more characters) is given, or
    --all. A dump a running uttrekk is using is never removed; the next run restores a removed one again."""
    from dialects.kinds.cache import choose, clear, listing

    from .errors import ConfigError

    if everything == bool(digests):
        raise ConfigError("give --all, or the SHA-256 (or its first characters) of each restored dump to remove; "
                          "'uttrekk cache list' shows them")
    listed = listing()
    removed, kept = clear(listed if everything else choose(listed, digests))
    for c in removed:
        click.echo(f"removed {c.engine} {c.file or '?'} {c.sha256} ({_bytes(c.size)})")
    click.echo(f"{len(removed)} restored dump(s) removed, {_bytes(sum(c.size for c in removed))} freed.")
    for c in kept:
        click.echo(f"note: kept {c.engine} {c.file or '?'} {c.sha256}: a running uttrekk is using it", err=True)
    if kept and not everything:
        sys.exit(1)


def _bytes(n: int) -> str:
    for unit, scale in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _password(ask: bool) -> str | None:
    return click.prompt("Database password", hide_input=True, err=True) if ask else None


def _register() -> None:
    from .dias.command import package
    from .loading.command import load
    from .validation.command import validate

    cli.add_command(validate)
    cli.add_command(load)
    cli.add_command(package)


_register()


def main() -> None:
    cli(prog_name="uttrekk")
