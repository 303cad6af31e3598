"""``uttrekk load PATH --into TARGET``: the click command over ``load_path`` (registered by cli.py)."""

from __future__ import annotations

from pathlib import Path

import click

from ..console import report_errors

_errors = report_errors("nothing was loaded (the target is left as it was)")


@click.command("load", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--into", "into", required=True, metavar="TARGET",
              help="A new (or empty) SQLite file, or postgresql://user@host/database (created when missing, "
                   "refused unless empty).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the report of what could not be loaded as the extract says (tab-separated; "
                   "default: beside the SQLite file, or DATABASE.load-report.tsv here).")
@click.option("--tmpdir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the temporary list of a tar's members (default: the system's temporary folder).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines; print only the first line of the summary.")
@_errors
def load(path: Path, into: str, report_path: Path | None, tmpdir: Path | None, quiet: bool) -> None:
    """Load an extract into SQLite or PostgreSQL as an access copy for browsing and search.

    PATH is what validate reads: an extract folder, a content folder or a DIAS {uuid}.tar (read in
    place). Every record definition becomes a table with typed columns (ADDML types and formats:
    integers, exact decimals, dates, timestamps, times, booleans), NULL and empty text kept apart as
    the extract writes them; keys are declared where the data hold them, code lists become tables,
    LOB files BLOB columns, and descriptions comments (PostgreSQL) and the table uttrekk_beskrivelse.
    A value that does not fit its type is loaded as NULL and listed, with its text, in the report
    and in the table uttrekk_avvik. The extract is only read; the target is written whole or not at all.
    """
    from .run import load_path

    summary = load_path(path, into, report_path, str(tmpdir) if tmpdir else None,
                        None if quiet else lambda line: click.echo(line, err=True))
    click.echo(summary.splitlines()[0] if quiet else summary)
