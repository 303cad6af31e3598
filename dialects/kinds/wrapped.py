"""Compressed and packed dumps: the content inside gzip, bzip2, xz, zstd, a zip or a tar, streamed.

A customer's dump often comes as ``sak.sql.gz``, ``sak.dump.zst``, ``levering.zip`` or
``sak.tar.gz``. ``wrapped_probe`` peels the layers by their magic bytes (never the name) and builds
the ``Probe`` the kinds see: ``head`` is the first ``HEAD_BYTES`` of the *content*, ``wrapping``
names the layers and ``open_content`` streams the content through all of them. Nothing is unpacked
to disk: a zip member is read from the zip, a tar member from the tar (its headers checked by
``archives``), zstd through the
``zstd`` program running as the throwaway servers' unprivileged account and dying with uttrekk
(Python 3.11 has no zstd module, and the program is one Debian package away). A kind whose tool
must seek in a file gets a copy in its cache entry from ``materialise``.

A zip or tar is unwrapped only when it holds exactly one file (folders and the litter of macOS and
Windows aside); with several, one message lists them and says to unpack the one meant, so that
the archive's SHA-256 always names one dump in the cache. A pg_dump tar-format archive is itself a
tar and stays whole (the PostgreSQL kind reads it); a pg_dump directory-format dump inside a zip or
tar is refused with the command that unpacks it (``pg_restore`` reads that format only from a folder).
Office documents, SIARD archives and extracts packed as zip or tar stay whole too, so that the
"not something uttrekk reads" message can say what they are (``Probe.members``).

Every input is hostile: ``archives`` refuses absolute, ``..``, link, device and sparse members,
encrypted zip members, multi-volume archives and absurd headers, one line each; a stream whose content grows
more than ``RATIO_LIMIT`` times the bytes read from the file is refused as a decompression bomb; a
damaged or cut-short stream is a ``SourceError`` naming the file, never a traceback.
"""

from __future__ import annotations

import _compression  # the stdlib's reader behind gzip/bz2/lzma: lets xz get a memory limit
import bz2
import io
import lzma
import re
import subprocess
import threading
import zipfile
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from extractor.errors import SourceError

from . import HEAD_BYTES, Probe
from .archives import Member, checksum_ok, skip, split_zip_end, tar_members, zip_members

MAX_LAYERS = 4
"""Most layers peeled (``zip`` → ``tar`` → ``gzip`` is three); deeper nesting is refused."""
RATIO_LIMIT = 1000
"""Most bytes of content per byte read from the file, once past ``RATIO_FLOOR``."""
RATIO_FLOOR = 64 << 20
"""Content below this size is never a bomb, whatever its ratio."""
XZ_MEMORY = 512 << 20
"""Most memory the xz decoder may use (xz -9 needs 65 MiB; a header may ask for 4 GiB)."""
CHUNK = 1 << 20

COMPRESSIONS: dict[str, tuple[bytes, str]] = {
    "gzip": (b"\x1f\x8b\x08", "gunzip -k"),
    "bzip2": (b"BZh", "bunzip2 -k"),
    "xz": (b"\xfd7zXZ\x00", "unxz -k"),
    "zstd": (b"\x28\xb5\x2f\xfd", "unzstd"),
}
"""Compression -> (magic bytes, the command that decompresses a copy)."""
JUNK = re.compile(r"(^|/)(__MACOSX/.*|\.DS_Store|Thumbs\.db|desktop\.ini)$", re.IGNORECASE)
"""Members an archiver adds by itself, never a dump."""
PG_DIRECTORY_FILE = re.compile(r"^(blob_)?\d+\.dat(\.gz|\.lz4|\.zst)?$|^blobs(_\d+)?\.toc$")
"""Files of a pg_dump directory-format dump beside its ``toc.dat``."""


# -- recognising the layers ---------------------------------------------------------------------


def compression_of(head: bytes) -> str | None:
    for name, (magic, _) in COMPRESSIONS.items():
        if head.startswith(magic) and (name != "bzip2" or head[3:4] in b"123456789"):
            return name
    return None


def is_tar(head: bytes) -> bool:
    """A ustar/GNU header, or an old (v7) one whose checksum adds up."""
    block = head[:512]
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    return checksum_ok(block) and block[:1] not in (b"", b"\0")


def is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"))


# -- the layers as steps, and opening them ------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One layer: a compression, or a member of a zip or tar (by its place, so a name given twice
    cannot pick another member than the one that was checked)."""

    kind: str
    """``gzip``, ``bzip2``, ``xz``, ``zstd``, ``zip`` or ``tar``."""
    member: str = ""
    offset: int = 0
    """tar: where the member's data starts in the tar stream."""
    size: int = 0
    """zip, tar: the member's size."""

    @property
    def words(self) -> str:
        return f"{self.kind} member {self.member}" if self.member else self.kind


class _Counting(io.RawIOBase):
    """The file as given, counting the bytes read from it (for the bomb check)."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("rb", buffering=0)
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._fh.readinto(b) or 0
        self.count += n
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()


class _Bounded(io.RawIOBase):
    """``size`` bytes of a stream from where it stands (a tar member)."""

    def __init__(self, inner: IO[bytes], size: int) -> None:
        self._inner = inner
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(b)[:min(len(b), self._left)]
        data = self._inner.read(len(view))
        if not data:
            raise EOFError("the tar ends inside the member")
        view[:len(data)] = data
        self._left -= len(data)
        return len(data)


class _Zstd(io.RawIOBase):
    """zstd through the ``zstd`` program: fed from a thread, reading its output; killed on close."""

    def __init__(self, inner: IO[bytes]) -> None:
        from .throwaway import run_as, server_account

        self._inner = inner
        self._error: BaseException | None = None
        try:
            self._proc = run_as(server_account(), ["zstd", "-d", "-c", "-q"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise SourceError("the zstd program is not installed (Debian: apt install zstd); install it, or "
                              "decompress the file yourself (unzstd) and give the plain file") from None
        self._feeder = threading.Thread(target=self._feed, daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            while data := self._inner.read(CHUNK):
                stdin.write(data)
        except (BrokenPipeError, ValueError):
            pass  # zstd stopped reading (it failed, or the stream was closed early)
        except BaseException as exc:  # a layer below failed: said when the output ends
            self._error = exc
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        stdout = self._proc.stdout
        assert isinstance(stdout, io.BufferedReader)  # a PIPE with the default buffering (typed IO[bytes])
        n = stdout.readinto(b)
        if n:
            return n
        self._proc.wait()
        self._feeder.join()
        if self._error is not None:
            raise self._error
        if self._proc.returncode:
            assert self._proc.stderr is not None
            said = self._proc.stderr.read(4096).decode("utf-8", "replace").strip().splitlines()
            raise zlib.error(f"zstd: {said[-1] if said else f'exit status {self._proc.returncode}'}")
        return 0

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._feeder.join()
        for pipe in (self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()
        super().close()


def _decompressed(kind: str, inner: IO[bytes]) -> IO[bytes]:
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=inner, mode="rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(inner)  # type: ignore[return-value]
    if kind == "xz":
        reader = _compression.DecompressReader(inner, lzma.LZMADecompressor, trailing_error=lzma.LZMAError,
                                               memlimit=XZ_MEMORY)
        return io.BufferedReader(reader, CHUNK)  # type: ignore[return-value]
    return io.BufferedReader(_Zstd(inner), CHUNK)  # type: ignore[return-value]


class Content(io.RawIOBase):
    """The content at the end of the steps: errors of any layer become one ``SourceError``, and a
    content that outgrows ``RATIO_LIMIT`` times the file's bytes read is refused as a bomb."""

    def __init__(self, label: str, path: Path, steps: tuple[Step, ...]) -> None:
        self._label = label
        self._steps = steps
        self._stack = ExitStack()
        self.produced = 0
        try:
            self._raw = self._stack.enter_context(_Counting(path))
            stream: IO[bytes] = io.BufferedReader(self._raw, CHUNK)  # type: ignore[arg-type]
            seekable = True
            for step in steps:
                if step.kind == "zip":
                    archive = self._stack.enter_context(zipfile.ZipFile(stream))
                    stream = self._stack.enter_context(archive.open(step.member))  # type: ignore[assignment]
                    seekable = False
                elif step.kind == "tar":
                    skip(stream, step.offset, seekable)
                    stream = io.BufferedReader(_Bounded(stream, step.size), CHUNK)  # type: ignore[assignment]
                    seekable = False
                else:
                    stream = self._stack.enter_context(_decompressed(step.kind, stream))
                    seekable = False
            self._top = stream
        except BaseException as exc:
            self._stack.close()
            if isinstance(exc, SourceError | KeyboardInterrupt | SystemExit):
                raise
            raise self._failed(exc) from None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        try:
            data = self._top.read(len(b))
        except SourceError:
            raise
        except (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, NotImplementedError,
                ValueError, RuntimeError) as exc:
            raise self._failed(exc) from None
        n = len(data)
        b[:n] = data
        self.produced += n
        if self.produced > RATIO_FLOOR and self.produced > RATIO_LIMIT * max(self._raw.count, 1):
            raise SourceError(
                f"{self._label}: its content grows more than {RATIO_LIMIT} times the bytes read from the file "
                f"({self.produced:,} from {self._raw.count:,}): refused as a decompression bomb. If the dump is "
                "genuine, unpack it yourself and give the plain file")
        return n

    def _failed(self, exc: BaseException) -> SourceError:
        layers = " in ".join(s.words for s in reversed(self._steps))
        if isinstance(exc, EOFError):
            return SourceError(f"{self._label}: the {layers} ends early, after {self.produced:,} bytes of content: "
                               f"the file is cut short ({exc}); ask for it again")
        if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
            return SourceError(f"{self._label}: the {layers} is encrypted: unpack it with its password and give the dump")
        return SourceError(f"{self._label}: the {layers} cannot be read after {self.produced:,} bytes of content, "
                           f"it is damaged or cut short ({exc}); ask for it again")

    def close(self) -> None:
        self._stack.close()
        super().close()


def open_steps(label: str, path: Path, steps: tuple[Step, ...]) -> IO[bytes]:
    """The content through ``steps``, buffered, as a binary file object (closing it closes every layer)."""
    return io.BufferedReader(Content(label, path, steps), CHUNK)  # type: ignore[return-value]


def _head_of(label: str, path: Path, steps: tuple[Step, ...]) -> bytes:
    with open_steps(label, path, steps) as fh:
        parts = []
        left = HEAD_BYTES
        while left > 0 and (data := fh.read(left)):
            parts.append(data)
            left -= len(data)
        return b"".join(parts)


# -- the probe ----------------------------------------------------------------------------------


def _containers(names: list[str]) -> bool:
    """Archives that are documents or extracts, not a dump in a wrapper (``describe`` names them)."""
    wanted = ("[Content_Types].xml", "mimetype", "header/metadata.xml", "dias-mets.xml", "addml.xml")
    return any(n in wanted or n.endswith(("/content/addml.xml", "/dias-mets.xml")) or n == "content/addml.xml"
               for n in names)


def _pg_directory(label: str, what: str, files: list[Member]) -> None:
    """Refuse a pg_dump directory-format dump packed in a zip or tar (not a pg_dump tar archive)."""
    for m in files:
        folder, _, base = m.name.rpartition("/")
        if base != "toc.dat":
            continue
        siblings = [f.name.rpartition("/")[2] for f in files if f.name.rpartition("/")[0] == folder and f is not m]
        if siblings and all(PG_DIRECTORY_FILE.match(s) for s in siblings) and not (
                what == "tar" and files[0] is m and not folder and any(s == "restore.sql" for s in siblings)):
            where = f"{folder}/" if folder else "its top level"
            raise SourceError(
                f"{label}: a pg_dump directory-format dump ({where} holds toc.dat) inside a {what}: pg_restore reads "
                "that format only from a folder, so unpack it (mkdir d && "
                + ("unzip " + label + " -d d" if what == "zip" else "tar -xf " + label + " -C d")
                + f") and give the folder d/{folder} as SOURCE")


def _pg_tar(files: list[Member]) -> bool:
    """A pg_dump tar-format archive: ``toc.dat`` first, then numbered data files and ``restore.sql``."""
    return bool(files) and files[0].name == "toc.dat" and all(
        f.name == "restore.sql" or PG_DIRECTORY_FILE.match(f.name) for f in files[1:])


def _several(label: str, what: str, candidates: list[Member]) -> SourceError:
    shown = ", ".join(f"{m.name} ({_size(m.size)})" for m in candidates[:10])
    more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
    return SourceError(f"{label}: a {what} archive holding {len(candidates)} files: {shown}{more}. uttrekk reads a "
                       f"zip or tar holding one dump: unpack the one you mean and give it as SOURCE")


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    scaled, unit = next((n / 1000 ** i, u) for i, u in ((3, "GB"), (2, "MB"), (1, "kB")) if n >= 1000 ** i)
    return f"{scaled:.1f} {unit}"


def _the_dump(text: str, packed: str, files: list[Member]) -> Member | None:
    """The one file of a zip or tar that wraps a dump; ``None`` when the archive is a dump itself (a
    pg_dump tar), a document or an extract, or holds no file; ``SourceError`` for several."""
    if (packed == "tar" and _pg_tar(files)) or _containers([m.name for m in files]):
        return None
    _pg_directory(text, packed, files)
    candidates = [m for m in files if m.size and not JUNK.search(m.name)]
    if len(candidates) > 1:
        raise _several(text, "ZIP" if packed == "zip" else "tar", candidates)
    return candidates[0] if candidates else None


def _listed(text: str, path: Path, packed: str, head: bytes, steps: list[Step]) -> list[Member]:
    """The files of the zip or tar at the end of ``steps``, every member checked."""
    if packed == "zip":
        if head.startswith(b"PK\x07\x08"):
            raise SourceError(f"{text}: the first part of a multi-volume (split) ZIP archive: join the parts "
                              "(zip -s 0 … --out whole.zip) and give the whole archive")
        if steps:
            raise SourceError(f"{text}: a ZIP archive inside {' in '.join(s.words for s in reversed(steps))}: "
                              "unpack it yourself and give the dump")
        return zip_members(text, path, RATIO_FLOOR, RATIO_LIMIT)
    with open_steps(text, path, tuple(steps)) if steps else path.open("rb") as stream:
        try:
            return tar_members(text, stream, seekable=not steps)
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            raise SourceError(f"{text}: the tar cannot be read, it is damaged or cut short ({exc})") from None


def wrapped_probe(text: str, path: Path, head: bytes, size: int) -> Probe:
    """The probe of a file: its own head when it is not wrapped, else the content's (module docstring)."""
    steps: list[Step] = []
    content_size: int | None = size
    members: tuple[str, ...] = ()
    while True:
        compression = compression_of(head)
        packed = "zip" if is_zip(head) else "tar" if is_tar(head) else None
        if compression is None and packed is None:
            if not steps and split_zip_end(path):
                raise SourceError(f"{text}: the last part of a multi-volume (split) ZIP archive: join the parts "
                                  "(zip -s 0 … --out whole.zip) and give the whole archive")
            break
        if len(steps) >= MAX_LAYERS:
            raise SourceError(f"{text}: more than {MAX_LAYERS} layers of compression and packing "
                              f"({', '.join(s.words for s in steps)}, …): unpack it yourself and give the dump")
        if compression is not None:
            steps.append(Step(compression))
            content_size = None
        else:
            assert packed is not None
            files = _listed(text, path, packed, head, steps)
            dump = _the_dump(text, packed, files)
            if dump is None:
                members = () if packed == "tar" and _pg_tar(files) else tuple(m.name for m in files[:1000])
                break
            steps.append(Step(packed, dump.name, offset=dump.offset, size=dump.size))
            content_size = dump.size
        head = _head_of(text, path, tuple(steps))
    if not steps:
        return Probe(text, path, head=head, size=size, content_size=size, members=members)
    frozen = tuple(steps)
    return Probe(text, path, head=head, size=size, wrapping=tuple(s.words for s in frozen),
                 opener=lambda: open_steps(text, path, frozen), content_size=content_size, members=members)


# -- a copy for kinds that must seek ------------------------------------------------------------


def content_name(probe: Probe) -> str:
    """A safe file name for the content: the member's, or the file's without its compression suffix."""
    name = probe.path.name if probe.path is not None else "content"
    for layer in probe.wrapping:
        kind, _, member = layer.partition(" member ")
        if member:
            name = member.rpartition("/")[2]
        elif name.lower().endswith((".gz", ".bz2", ".xz", ".zst", ".tgz", ".tbz2", ".txz")):
            name = name.rpartition(".")[0] + (".tar" if name.lower().endswith(("tgz", "tbz2", "txz")) else "")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return name or "content"


def materialise(probe: Probe, folder: Path, *, quiet: bool = False,
                progress: Callable[[int], Any] | None = None) -> Path:
    """Copy the content into ``folder`` (a cache entry) for a tool that cannot read a stream;
    the copy appears under its name only when whole. A progress bar shows the bytes copied."""
    import sys

    from tqdm import tqdm

    target = folder / content_name(probe)
    partial = target.with_name(target.name + ".partial")
    with probe.open_content() as src, partial.open("wb") as dst, tqdm(
            total=probe.content_size, desc=f"copying {probe.path.name if probe.path else 'content'}", unit="B",
            unit_scale=True, leave=False, file=sys.stderr, disable=quiet or not sys.stderr.isatty()) as bar:
        while data := src.read(CHUNK):
            dst.write(data)
            bar.update(len(data))
            if progress is not None:
                progress(len(data))
    partial.chmod(0o600)
    partial.replace(target)
    return target

