"""``uttrekk package``: the click command over ``build_package``.

Registered by ``extractor/cli.py`` with ``cli.add_command(package)``.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..console import report_errors

_errors = report_errors("no package was published")


@click.command("package", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("extract_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for {uuid}.tar and its info file {uuid}.xml (created if missing).")
@click.option("--uuid", "package_uuid", help="Package UUID (names the tar, its root folder and the info file); "
              "default: a new random one.")
@click.option("--archive-creator", help="Archive creator (arkivskaper); default: addml.xml's recordCreator agent.")
@click.option("--submitter", help="Who delivers the package (avleverer); default: addml.xml's deliver agent, "
              "else the archive creator.")
@click.option("--recipient", help="The depot receiving the package (METS agent PRESERVATION).")
@click.option("--timestamp", help="Creation time written in the package and as every tar entry's mtime "
              "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC); default: when the extraction finished.")
@click.option("--overwrite", is_flag=True, help="Replace an existing {uuid}.tar and {uuid}.xml.")
@_errors
def package(extract_dir: Path, out: Path, package_uuid: str | None, archive_creator: str | None,
            submitter: str | None, recipient: str | None, timestamp: str | None, overwrite: bool) -> None:
    """Pack the extract in DIR as a DIAS submission package (SIP) for a Norwegian depot:
    OUT/{uuid}.tar and the info file OUT/{uuid}.xml with the tar's SHA-256."""
    from .metadata import parse_timestamp
    from .package import build_package

    when = parse_timestamp(timestamp) if timestamp else None
    result = build_package(extract_dir, out, package_uuid, archive_creator=archive_creator, submitter=submitter,
                           recipient=recipient, timestamp=when, overwrite=overwrite)
    click.echo(f"Package written to {result.tar_path} ({result.files} file(s), {result.size:,} bytes, "
               f"SHA-256 {result.sha256}) with its info file {result.info_path}.")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
