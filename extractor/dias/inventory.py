"""What goes into the package: every regular file of the extract, checked, sized and hashed.

A package must hold exactly the bytes uttrekk wrote, so anything that could make the tar differ
from the extract on disk (a symlink, a device, a folder the package would silently drop) stops
the run before anything is written. Hashing reads each file in chunks; memory stays flat.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..writers.hashing import sha256_file
from .siard_content import find_siard

CHUNK = 1 << 20
"""Read size for hashing and copying (1 MiB)."""

PACKAGED_DIRS = {"content": "content", "report": "descriptive_metadata",
                 "documentation": "descriptive_metadata/documentation"}
"""Extract folder -> folder in the package. The report and the documentation (description, ER overview,
extraction log) are the extract's human documentation."""


@dataclass(frozen=True)
class Entry:
    """One file of the package: where it goes, where it comes from, its size and SHA-256."""

    name: str
    """Path inside the package root, with '/' separators (e.g. ``content/SAK.txt``)."""
    source: Path
    size: int
    sha256: str = ""


def scan_extract(extract_dir: Path) -> list[Entry]:
    """Regular files under content/, report/ and documentation/, refusing anything the package cannot hold as-is."""
    if not extract_dir.is_dir():
        raise ConfigError(f"{extract_dir}: not a directory; give the folder 'uttrekk extract --out' wrote")
    if not (extract_dir / "content" / "addml.xml").is_file() and find_siard(extract_dir) is None:
        raise ConfigError(f"{extract_dir}: no content/addml.xml and no SIARD file in content/; give the folder "
                          "'uttrekk extract --out' wrote (it holds content/ and report/)")
    unexpected = sorted(p.name for p in extract_dir.iterdir() if p.name not in PACKAGED_DIRS)
    if unexpected:
        raise ConfigError(f"{extract_dir}: holds {', '.join(unexpected)} besides content/ and report/ (and "
                          "documentation/); the package would leave it out. Move it away (documentation belongs in "
                          "report/ or documentation/) and run again.")
    entries: list[Entry] = []
    problems: list[str] = []
    for folder, target in PACKAGED_DIRS.items():
        top = extract_dir / folder
        if os.path.lexists(top):
            _walk(top, target, entries, problems)
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = "" if len(problems) <= 20 else f"\n  ... and {len(problems) - 20} more"
        raise ConfigError(f"{extract_dir}: {len(problems)} entry(ies) that are not plain files or folders; a package "
                          f"holds only the extract's own files:\n{shown}{more}")
    return entries


def _walk(path: Path, name: str, entries: list[Entry], problems: list[str]) -> None:
    st = os.lstat(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"{path}: name is not valid UTF-8 (tar entry names are UTF-8)")
        return
    if stat.S_ISLNK(st.st_mode):
        problems.append(f"{path}: symbolic link")
    elif stat.S_ISDIR(st.st_mode):
        for child in sorted(os.listdir(path)):
            _walk(path / child, f"{name}/{child}", entries, problems)
    elif stat.S_ISREG(st.st_mode):
        entries.append(Entry(name, path, st.st_size))
    else:
        problems.append(f"{path}: special file (device, socket or pipe)")


def hashed(entries: list[Entry]) -> list[Entry]:
    """The same entries with their SHA-256; a file whose size changed since the scan is an error."""
    out = []
    for e in entries:
        size = os.stat(e.source).st_size
        if size != e.size:
            raise ConfigError(f"{e.source}: changed while being packaged; stop whatever writes to the extract and "
                              "run again")
        out.append(Entry(e.name, e.source, e.size, sha256_file(e.source)))
    return out
