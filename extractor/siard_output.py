"""Publish a SIARD extract: join the staged tables into ``content/<name>.siard`` and tidy up.

The tables were written like any other format (one file each in staging, resumable, scanned on
the way); what is left is the archive: each table's XML with its XSD and the large objects stored
inside, in plan order, then the header with metadata.xml (``writers.siard_archive``). Large
objects past ``--lobs-outside`` stay beside the file under ``content/lob/``, where their cells
point. The report names every table by its place inside the SIARD file, with the SHA-256 of its
bytes there, so anyone can check it after unzipping.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .errors import writing
from .extract import ExtractResult, FileResult, work_files
from .lobs import ascii_stem
from .plan import LOB_DIR, Plan, TablePlan
from .source_dialect import SourceDialect
from .writers.hashing import sha256_file
from .writers.siard_archive import ArchiveInfo, Member, metadata_document, table_members, write_siard
from .writers.siard_table import VERSION, table_folder, xsd_document


@dataclass(frozen=True)
class SiardWritten:
    name: str
    size: int
    sha256: str
    message_digest: str
    inside: int
    outside: int
    version: str = VERSION

    def report(self) -> dict[str, Any]:
        return {"file": f"content/{self.name}", "version": self.version, "bytes": self.size, "sha256": self.sha256,
                "message_digest": {"type": "SHA-256", "value": self.message_digest,
                                   "over": "the bytes from the start of the file to the header/ entry"},
                "lobs_inside": self.inside, "lobs_outside": self.outside}


def siard_name(plan: Plan) -> str:
    """The SIARD file's name: the system's name made an ASCII file name (``database.siard`` without one)."""
    return ascii_stem(plan.profile.metadata.system_name, "database") + ".siard"


def schema_name(plan: Plan) -> str:
    return next((tp.source.schema for tp in plan.tables if tp.source is not None and tp.source.schema), "") or "main"


def write_siard_file(plan: Plan, result: ExtractResult, content: Path, work: Path, date: str,
                     dialect: SourceDialect) -> SiardWritten:
    """Write ``content/<name>.siard`` from the staged tables; ``result.files`` then names each table's
    place inside it."""
    name = siard_name(plan)
    md = plan.profile.metadata
    period = " - ".join(p for p in (md.period_start, md.period_end) if p)
    info = ArchiveInfo(
        dbname=md.system_name or dialect.label, data_owner=md.archive_creator, timespan=period,
        archival_date=date, producer=f"uttrekk {__version__}", schema_name=schema_name(plan),
        description=" ".join(x for x in (md.description, dialect.provenance_text) if x),
        archiver=md.responsible_person, database_product=plan.engine)
    counts = {"inside": 0, "outside": 0}

    def lobs(i: int, tp: TablePlan) -> Iterator[Member]:
        """The table's LOBs inside the SIARD file, read from its LOB list a line at a time."""
        own = f"{LOB_DIR}/{tp.file_name}/siard/"
        lob_list = work_files(work, tp)[0]
        if not lob_list.is_file():
            return
        with lob_list.open(encoding="utf-8") as fh:
            for line in fh:
                rel = str(json.loads(line)["fil"])
                if rel.startswith(own):
                    counts["inside"] += 1
                    yield Member(f"content/schema0/{table_folder(i)}/{rel[len(own):]}", content / rel)
                else:
                    counts["outside"] += 1

    tables = (table_members(i, content / result.files[tp.name].name, xsd_document(tp), lobs(i, tp))
              for i, tp in enumerate(plan.tables))
    rows = {tp.name: result.files[tp.name].records for tp in plan.tables}
    path = content / name
    with writing(f"cannot write {name} in {content}"):
        digest = write_siard(path, tables, lambda d: metadata_document(plan, info, rows, d))
    for i, tp in enumerate(plan.tables):
        fr = result.files[tp.name]
        result.files[tp.name] = FileResult(f"{name}/content/schema0/{table_folder(i)}/{table_folder(i)}.xml",
                                           fr.records, fr.size, fr.sha256, fr.kind)
    return SiardWritten(name, path.stat().st_size, sha256_file(path), digest, counts["inside"], counts["outside"])


def remove_staged(plan: Plan, content: Path) -> None:
    """Remove the staged table files and the large objects now inside the SIARD file; keep those beside it."""
    for tp in plan.tables:
        (content / f"{tp.file_name}{plan.file_ext}").unlink(missing_ok=True)
        shutil.rmtree(content / LOB_DIR / tp.file_name / "siard", ignore_errors=True)
    lobs = content / LOB_DIR
    if lobs.is_dir():
        for folder in sorted(lobs.iterdir()):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if not any(lobs.iterdir()):
            lobs.rmdir()
