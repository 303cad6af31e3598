"""``uttrekk validate PATH``: the click command over ``validate_path`` (registered by cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..console import report_errors
from .keystore import DEFAULT_MEMORY_KEYS

_errors = report_errors("no report was written")


@click.command("validate", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full report as JSON to this file.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full report as one self-contained HTML file.")
@click.option("--examples", default=25, show_default=True, type=click.IntRange(1, 100000),
              help="Examples kept per check and severity (counts are always complete).")
@click.option("--memory-keys", default=DEFAULT_MEMORY_KEYS, show_default=True, type=click.IntRange(1),
              help="Key values kept in memory before key sets spill to a temporary database.")
@click.option("--tmpdir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the temporary key database (default: the system's temporary folder).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the result line.")
@_errors
def validate(path: Path, json_path: Path | None, html_path: Path | None, examples: int, memory_keys: int,
             tmpdir: Path | None, quiet: bool) -> None:
    """Validate an extract as Arkade 5 tests it, plus uttrekk's own checks; or a SIARD file.

    PATH is an extract folder (with content/addml.xml), a content folder, or a DIAS {uuid}.tar
    (read in place; a gzip, bzip2 or xz tar is read as a stream, with a warning). Older layouts
    are read and named: a tar without a root folder, addml.xml only in administrative_metadata/
    and the pre-METS info.xml (the DIAS layout before 2017), and ADDMML 7 descriptions (addmml.xml).
    Runs every process the description names (A.01-A.36), always AH.01-AH.03, the ADDML schema
    (a description that breaks it is read for what it says, each deviation reported with its
    line), the Arkivverket profile, charset, NULL/empty and foreign-key checks. The data files of
    an XML-format extract are checked against their schemas, types, keys and codes (U.08-U.11),
    and a tar is also checked as a DIAS package: layout, dias-mets.xml and PREMIS against the DIAS
    schemas, every listed size and checksum, and the info file {uuid}.xml beside it (D.01-D.06).

    PATH may also be a SIARD file (.siard, SIARD 1.0-2.2, recognised by content): metadata.xml
    against the SIARD metadata schema, each table file against its own XSD, row counts, LOB files
    (in the archive or outside it) with their lengths and digests, primary, candidate and foreign
    keys in the data (S.01-S.07). Exit code 0: no errors; 1: errors found; 2: the input cannot be read.
    """
    from .report import format_summary, write_html, write_json
    from .run import validate_path

    report = validate_path(path, examples=examples, memory_keys=memory_keys, tmpdir=str(tmpdir) if tmpdir else None)
    if json_path:
        write_json(report, json_path)
    if html_path:
        write_html(report, html_path)
    text = format_summary(report)
    click.echo(text.splitlines()[-1] if quiet else text, nl=quiet)
    sys.exit(report.exit_code)
