"""The output directory: written in a hidden staging folder, published with one atomic rename.

A run that fails or is killed leaves only ``.NAME.uttrekk-partial`` beside the target, never a
directory that looks like a finished extract.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import OutputError


class Staging:
    """Staging folder for one extract; ``publish`` moves it into place."""

    def __init__(self, out: Path, overwrite: bool = False, resume: bool = False) -> None:
        self.out = out.expanduser().absolute()
        self.overwrite = overwrite
        if self.out.exists():
            if not self.out.is_dir():
                raise OutputError(f"{out}: exists and is not a directory; choose another --out")
            if any(self.out.iterdir()) and not overwrite:
                raise OutputError(f"{out}: exists and is not empty; choose another --out or add --overwrite")
        parent = self.out.parent
        if not parent.is_dir():
            raise OutputError(f"{parent}: the parent folder of --out does not exist")
        if not os.access(parent, os.W_OK):
            raise OutputError(f"{parent}: no permission to write here")
        self.path = parent / f".{self.out.name}.uttrekk-partial"
        self.resumed = resume and self.path.is_dir()
        if self.path.exists() and not self.resumed:
            shutil.rmtree(self.path)
        self.content = self.path / "content"
        self.content.mkdir(parents=True, exist_ok=True)
        self.report = self.path / "report"
        self.report.mkdir(exist_ok=True)
        self.work = self.path / "work"

    def publish(self) -> Path:
        """Replace the target with the finished staging folder in one rename."""
        shutil.rmtree(self.work, ignore_errors=True)
        old = None
        if self.out.exists():
            if any(self.out.iterdir()):
                old = self.out.parent / f".{self.out.name}.uttrekk-old"
                if old.exists():
                    shutil.rmtree(old)
                self.out.rename(old)
            else:
                self.out.rmdir()
        os.replace(self.path, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def write_atomically(path: Path, text: str, label: str = "") -> None:
    """Write a text file the user keeps (a profile) whole or not at all: a temporary file beside
    it, renamed over it, keeping its permissions; the text is written exactly, line ends included."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o777)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"{label or path}: cannot write the profile: {exc}") from None
