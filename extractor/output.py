"""The output directory: written in a hidden staging folder, published with one atomic rename.

A run that fails or is killed leaves only ``.NAME.uttrekk-partial`` beside the target, never a
directory that looks like a finished extract. The staging folder is the operator's alone (mode
0700); one that is not (another owner, writable by others, holding links or special files) is
never resumed from, since whoever could write there could steer what the run reads and writes.
The source is never inside anything a run may remove (``refuse_source_inside``).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from .errors import ConfigError, OutputError


def refuse_source_inside(out: Path, sources: Iterable[Path], option: str = "--out",
                         also: Iterable[Path] = (), holding_ok: bool = False, what: str = "the source") -> None:
    """``ConfigError`` when ``out`` (or a place beside it the run replaces, ``also``) is a source
    file or folder, holds one, or lies inside a source folder: replacing or filling it could
    remove or change the source. Links are followed, so another name for the same place counts.
    ``holding_ok``: the run only adds files to ``out`` (a package), so holding a source is safe."""
    target = _real(out)
    places = [_real(p) for p in also]
    for source in sources:
        src = _real(source)
        if src == target or (target in src.parents and not holding_ok):
            raise ConfigError(f"{option} {out}: {'is' if src == target else 'holds'} {what} {source}; the run "
                              "replaces what is there and would remove it. Choose another "
                              f"{option} that neither is nor holds {source}.")
        if src.is_dir() and src in target.parents:
            raise ConfigError(f"{option} {out}: lies inside {what} {source}; writing there would change "
                              f"it. Choose an {option} outside it.")
        for place, spot in zip(also, places, strict=True):
            if spot == src or spot in src.parents:
                raise ConfigError(f"{option} {out}: the run replaces {place}, which is or holds {what} "
                                  f"{source}; choose another {option}.")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path.expanduser().absolute()))


def untrusted(folder: Path) -> str:
    """Why a folder left by an earlier run must not be reused, or ``""``: it and everything in it
    must be plain folders and files of this user, the folder writable by nobody else."""
    uid = os.getuid()
    try:
        top = folder.lstat()
        if not stat.S_ISDIR(top.st_mode):
            return f"{folder} is not a plain folder"
        if top.st_uid != uid:
            return f"{folder} belongs to another user"
        if top.st_mode & 0o022:
            return f"{folder} can be written by other users"
        for root, dirs, files in os.walk(folder):
            for name in (*dirs, *files):
                path = os.path.join(root, name)
                st = os.lstat(path)
                if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
                    return f"{path} is a link or a special file"
                if st.st_uid != uid:
                    return f"{path} belongs to another user"
    except OSError as exc:
        return f"{folder} cannot be read ({exc.strerror})"
    return ""


def remove_tree(path: Path) -> None:
    """Remove a folder of ours, or a link or file planted in its place (never what a link points at)."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


class Staging:
    """Staging folder for one extract; ``publish`` moves it into place."""

    def __init__(self, out: Path, overwrite: bool = False, resume: bool = False,
                 sources: Iterable[Path] = ()) -> None:
        self.out = out.expanduser().absolute()
        self.overwrite = overwrite
        self.path = self.out.parent / f".{self.out.name}.uttrekk-partial"
        self.old = self.out.parent / f".{self.out.name}.uttrekk-old"
        refuse_source_inside(out, sources, also=(self.path, self.old))
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
        self.distrusted = untrusted(self.path) if resume and os.path.lexists(self.path) else ""
        """Why the earlier run's folder was not resumed from (``""``: it was, or there was none)."""
        self.resumed = resume and self.path.is_dir() and not self.distrusted
        if os.path.lexists(self.path) and not self.resumed:
            remove_tree(self.path)
        if not self.resumed:
            self.path.mkdir(mode=0o700)
            os.chmod(self.path, 0o700)  # whatever the umask: the folder is the operator's alone
        self.content = self.path / "content"
        self.content.mkdir(exist_ok=True)
        self.report = self.path / "report"
        self.report.mkdir(exist_ok=True)
        self.work = self.path / "work"

    def publish(self) -> Path:
        """Replace the target with the finished staging folder in one rename."""
        shutil.rmtree(self.work, ignore_errors=True)
        os.chmod(self.path, 0o755 & ~_umask())  # published: as any folder the operator makes
        old = None
        if self.out.exists():
            if any(self.out.iterdir()):
                old = self.old
                remove_tree(old)
                self.out.rename(old)
            else:
                self.out.rmdir()
        os.replace(self.path, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, text: str, label: str = "") -> None:
    """Write a text file the user keeps (a profile) whole or not at all: a temporary file beside
    it, renamed over it, keeping its permissions; the text is written exactly, line ends included."""
    write_stream_atomically(path, lambda fh: fh.write(text.encode("utf-8")), label, "the profile")


def write_stream_atomically(path: Path, write: Callable[[BinaryIO], object], label: str = "",
                            what: str = "the file") -> None:
    """Write ``path`` whole or not at all: ``write`` fills a temporary file beside it, which is synced
    and renamed over it (an existing file keeps its permissions). Any failure, a full disk included,
    removes the temporary file, leaves an old file untouched and raises ``OutputError``. A device or
    pipe (``/dev/null``) is written to directly; a link is followed."""
    shown = label or path
    try:
        if path.exists() and not path.is_file():  # a device or pipe (/dev/null, /dev/stdout): nothing to replace
            with open(path, "wb") as fh:
                write(fh)
            return
        path = path.resolve() if path.is_symlink() else path  # replace the file a link points at, not the link
        folder = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o777)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"{shown}: cannot write {what}: {exc.strerror or exc}; nothing was written (make room "
                          "there, or choose a place you can write to)") from None

