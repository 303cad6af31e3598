"""Build a DIAS submission package from an extract: ``{uuid}.tar`` and its info file ``{uuid}.xml``.

Everything is written in a hidden staging folder inside the output folder and moved into place
by rename only when whole, so a failed or interrupted run never leaves a tar that looks finished.
The same extract, uuid and timestamp give byte-identical files (docs/package.md).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import ConfigError, OutputError, disk_problem
from ..output import refuse_source_inside, remove_tree
from . import info, mets, premis, schemas
from .inventory import Entry, hashed, scan_extract, sha256_file
from .metadata import PackageMetadata, read_metadata
from .siard_content import HEADER_MEMBERS, find_siard, header_member
from .tarball import TAR_LIMIT, check_limit, members, predicted_size, sort_key, write_tar

PACKAGE_FOLDERS = ("administrative_metadata", "content", "descriptive_metadata")
"""Folders DIAS requires in every package, even when empty."""


@dataclass(frozen=True)
class PackageResult:
    tar_path: Path
    info_path: Path
    sha256: str
    size: int
    uuid: str
    files: int
    """Files in the package (every file dias-mets.xml lists, plus dias-mets.xml)."""
    notes: list[str] = field(default_factory=list)


def build_package(extract_dir: Path, out_dir: Path, uuid: str | None = None, *, archive_creator: str | None = None,
                  submitter: str | None = None, recipient: str | None = None, timestamp: dt.datetime | None = None,
                  overwrite: bool = False, limit: int = TAR_LIMIT, protect: Iterable[Path] = ()) -> PackageResult:
    """Package the extract in ``extract_dir`` as ``out_dir/{uuid}.tar`` + ``out_dir/{uuid}.xml``.

    Neither the extract nor ``protect`` (the source of ``extract --package``) may be where the
    package is written or a file it replaces; a failed run removes the folders it created."""
    extract_dir = Path(extract_dir).expanduser().absolute()
    out_dir = Path(out_dir).expanduser().absolute()
    package_id = _uuid(uuid)
    tar_path, info_path = out_dir / f"{package_id}.tar", out_dir / f"{package_id}.xml"
    staging = out_dir / f".{package_id}.uttrekk-package"
    refuse_source_inside(out_dir, [extract_dir], "--out", also=(tar_path, info_path, staging), holding_ok=True,
                         what="the extract being packaged")
    refuse_source_inside(out_dir, protect, "--package", also=(tar_path, info_path, staging), holding_ok=True)
    created = _missing_folders(out_dir)
    try:
        _check_out_dir(out_dir, [tar_path, info_path], overwrite)
        try:
            entries = scan_extract(extract_dir)
            md = read_metadata(extract_dir, package_id, archive_creator=archive_creator, submitter=submitter,
                               recipient=recipient, timestamp=timestamp)
            check_limit(sum(e.size for e in entries), limit, "the extract's files alone")
            entries = hashed(entries)
            siard = find_siard(extract_dir)
            if siard is None:
                _check_addml_checksums(extract_dir, entries)
            else:
                _check_siard(extract_dir, siard, entries)
        except OSError as exc:
            raise ConfigError(f"{extract_dir}: cannot read the extract ({exc})") from None
        try:
            remove_tree(staging)
            staging.mkdir(parents=True)
            return _build(staging, entries, md, tar_path, info_path, limit, siard)
        except OSError as exc:
            raise OutputError(f"{out_dir}: could not write the package: {disk_problem(exc)}; nothing was "
                              "published") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        for folder in reversed(created):  # a failed run leaves no new empty folder behind
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _missing_folders(path: Path) -> list[Path]:
    """``path`` and its parents that do not exist yet, outermost first: the folders a run creates."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]


def _build(staging: Path, entries: list[Entry], md: PackageMetadata, tar_path: Path, info_path: Path,
           limit: int, siard: Path | None = None) -> PackageResult:
    notes = list(md.notes)
    extras = [_write(staging, premis.FILE_NAME, premis.premis_document(md)),
              _write(staging, premis.XSD_NAME, schemas.schema_bytes(schemas.PREMIS)),
              _write(staging, mets.XSD_NAME, schemas.schema_bytes(schemas.METS))]
    if siard is not None:  # as Arkade packs SIARD: its header's metadata.xml and .xsd as administrative metadata
        extras += [_write(staging, f"administrative_metadata/{Path(m).name}", header_member(siard, m))
                   for m in HEADER_MEMBERS]
    listed = sorted([*entries, *extras], key=lambda e: sort_key(e.name))
    described = "administrative_metadata/metadata.xml" if siard is not None else "content/addml.xml"
    addml = next(e for e in listed if e.name == described)
    mets_path = staging / mets.FILE_NAME
    fallback = mets.write_mets(mets_path, md, listed, addml, extras[0])
    if fallback:
        kinds = ", ".join(sorted({Path(n).suffix.lower() or "(no suffix)" for n in fallback}))
        real = ("The .siard file is a ZIP file (SIARD 2.2); the extract's report names the format of every file."
                if siard is not None else "The extract's LOB list names their real format.")
        notes.append(f"{len(fallback)} file(s) have a format with no MIME type in DIAS's closed list ({kinds}); "
                     f"dias-mets.xml gives them {mets.FALLBACK_MIME_TYPE}. {real}")
    dias_mets = Entry(mets.FILE_NAME, mets_path, mets_path.stat().st_size, sha256_file(mets_path))
    items = members(md.uuid, [*listed, dias_mets], PACKAGE_FOLDERS)
    check_limit(predicted_size(items), limit, "files plus tar headers")

    tmp_tar = staging / f"{md.uuid}.tar"
    sha, size = write_tar(tmp_tar, items, int(md.timestamp.timestamp()))
    check_limit(size, limit, "as written")
    tar_entry = Entry(tar_path.name, tmp_tar, size, sha)
    mets_in_tar = Entry(f"{md.uuid}/{mets.FILE_NAME}", mets_path, dias_mets.size, dias_mets.sha256)
    tmp_info = staging / info_path.name
    tmp_info.write_bytes(info.info_document(md, tar_entry, mets_in_tar))
    os.replace(tmp_tar, tar_path)
    os.replace(tmp_info, info_path)
    return PackageResult(tar_path, info_path, sha, size, md.uuid, len(listed) + 1, notes)


def _write(staging: Path, name: str, data: bytes) -> Entry:
    path = staging / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Entry(name, path, len(data), sha256_file(path))


def _uuid(value: str | None) -> str:
    if value is None:
        return str(uuidlib.uuid4())
    try:
        return str(uuidlib.UUID(value))
    except ValueError:
        raise ConfigError(f"--uuid {value!r} is not a UUID (e.g. 3f2b8c1e-6a4d-4f7e-9b1a-2c5d8e0f1a3b); Arkade "
                          "takes the tar's name as the package UUID") from None


def _check_out_dir(out_dir: Path, targets: list[Path], overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a directory; choose another --out")
    existing = [t.name for t in targets if os.path.lexists(t)]
    if existing and not overwrite:
        verb = "exists" if len(existing) == 1 else "exist"
        raise OutputError(f"{out_dir}: {' and '.join(existing)} already {verb}; choose another --uuid or --out, "
                          "or add --overwrite to replace")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder ({exc.strerror})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: no permission to write here")


def _check_siard(extract_dir: Path, siard: Path, entries: list[Entry]) -> None:
    """The SIARD file must still be the one the extract's report names, or the package would carry a changed one."""
    import json

    try:
        report = json.loads((extract_dir / "report" / "extraction.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {}
    written = report.get("siard") if isinstance(report, dict) else None
    name = f"content/{siard.name}"
    entry = next(e for e in entries if e.name == name)
    if not isinstance(written, dict) or written.get("file") != name:
        raise ConfigError(f"{extract_dir}: report/extraction.json does not name {name}; package the folder "
                          "'uttrekk extract --format siard' wrote")
    if written.get("sha256") != entry.sha256:
        raise ConfigError(f"{extract_dir}: {name} differs from the SIARD file the extract wrote (SHA-256 in "
                          "report/extraction.json); it was changed after 'uttrekk extract'; extract again rather "
                          "than package it.")


def _check_addml_checksums(extract_dir: Path, entries: list[Entry]) -> None:
    """Each file addml.xml gives a SHA-256 for must exist and still match, or the package would carry a broken extract."""
    by_name = {e.name: e for e in entries}
    root = etree.parse(str(extract_dir / "content" / "addml.xml"),
                       etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
    a = "{http://www.arkivverket.no/standarder/addml}"
    problems = []
    for props in root.iter(f"{a}properties"):
        values = {p.get("name"): p for p in props.iterchildren(f"{a}property")}
        if "fileName" not in values or "checksum" not in values:
            continue
        file_name = (values["fileName"].findtext(f"{a}value") or "").strip()
        expected = ""
        for p in values["checksum"].iter(f"{a}property"):
            if p.get("name") == "value":
                expected = (p.findtext(f"{a}value") or "").strip().lower()
        entry = by_name.get(f"content/{file_name}")
        if entry is None:
            problems.append(f"content/{file_name}: named in addml.xml but missing")
        elif expected and entry.sha256 != expected:
            problems.append(f"content/{file_name}: SHA-256 differs from addml.xml")
    if problems:
        shown = "\n".join(f"  {p}" for p in problems)
        raise ConfigError(f"{extract_dir}: the extract no longer matches its addml.xml:\n{shown}\n"
                          "It was changed after 'uttrekk extract' wrote it; extract again rather than package it.")

