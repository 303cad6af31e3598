"""Throwaway database servers for dumps: restored once into uttrekk's cache, run only while a run reads.

A dump is hostile input and the server that reads it is a program uttrekk starts, so:

- the server runs as an unprivileged account (the caller's own; ``nobody`` when uttrekk runs as
  root), in a folder only that account and uttrekk can enter, listening on a Unix socket in that
  folder and on no TCP port;
- it dies with uttrekk: the kernel sends it SIGKILL when the process that started it ends, however
  it ends (``PR_SET_PDEATHSIG``), so not even ``kill -9`` of uttrekk leaves a server behind; ``stop``
  ends it cleanly at the end of a run;
- a restore is kept in the cache under the dump's SHA-256 (``Entry``), so ``inspect``, ``profile
  init`` and ``extract`` of one dump restore it once. An entry is complete only when its marker
  (``restored.json``, written last) is there; anything else found there is what an interrupted
  restore left, and is removed. One lock per entry keeps two runs from restoring into it at once.
  The cache stays under a size limit (``UTTREKK_CACHE_LIMIT``, least recently used entries go
  first) and ``uttrekk cache clear`` empties it.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from extractor.errors import ConfigError, SourceError

CACHE_ENV = "UTTREKK_CACHE"
"""Folder of uttrekk's cache (default: ``$XDG_CACHE_HOME/uttrekk``, else ``~/.cache/uttrekk``; for
root ``/var/cache/uttrekk``, as the server's account must be able to pass through every folder above it)."""
LIMIT_ENV = "UTTREKK_CACHE_LIMIT"
"""Largest size of the restored dumps kept, e.g. ``50G`` (default ``DEFAULT_LIMIT``)."""
DEFAULT_LIMIT = 20 << 30
MARKER = "restored.json"
CHUNK = 1 << 20
PR_SET_PDEATHSIG = 1


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if os.geteuid() == 0:
        return Path("/var/cache/uttrekk")
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "uttrekk")


def cache_limit() -> int:
    text = os.environ.get(LIMIT_ENV, "").strip().upper()
    if not text:
        return DEFAULT_LIMIT
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:], 1)
    try:
        return int(float(text.rstrip("KMGTB") or "x") * scale)
    except ValueError:
        raise ConfigError(f"${LIMIT_ENV}={text!r}: give a size such as 20G or 500M") from None


# -- the dump's identity ------------------------------------------------------------------------


def sha256_of(path: Path, progress: Callable[[int], Any] | None = None) -> str:
    """SHA-256 of a dump file, or of a dump folder (every file's relative name and bytes, sorted)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(f.relative_to(path).as_posix().encode("utf-8") + b"\0")
        with f.open("rb") as fh:
            while data := fh.read(CHUNK):
                digest.update(data)
                if progress is not None:
                    progress(len(data))
    return digest.hexdigest()


# -- cache entries ------------------------------------------------------------------------------


@dataclass
class Entry:
    """One restored dump in the cache: ``path`` holds the server's files, ``MARKER`` says it is whole."""

    path: Path

    @property
    def complete(self) -> bool:
        return (self.path / MARKER).is_file()

    def facts(self) -> dict[str, Any]:
        """What the restore recorded (provenance, warnings); ``{}`` when there is none."""
        try:
            data = json.loads((self.path / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, facts: dict[str, Any]) -> None:
        """Mark the restore whole (last step of a restore). ``facts`` should hold ``file``, the
        dump's file name, which ``uttrekk cache list`` shows beside the engine and SHA-256."""
        tmp = self.path / (MARKER + ".tmp")
        tmp.write_text(json.dumps(facts, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path / MARKER)

    def touch(self) -> None:
        os.utime(self.path / MARKER)

    def reset(self) -> None:
        """Remove what an interrupted restore left; an empty folder for a new one."""
        if self.path.is_symlink() or self.path.is_file():
            self.path.unlink()
        elif self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        os.chmod(self.path, 0o711)


@contextmanager
def entry_for(engine: str, digest: str, wait: Callable[[], Any] | None = None) -> Iterator[Entry]:
    """The cache entry of one dump, locked for this run (another run of the same dump waits)."""
    root = cache_root() / "restored"
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o711)  # the server's account passes through to its own folder; nobody lists the cache
    lock_path = root / f"{engine}-{digest}.lock"
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait is not None:
                wait()
            fcntl.flock(lock, fcntl.LOCK_EX)
        entry = Entry(root / f"{engine}-{digest}")
        if not entry.complete:
            entry.reset()
        try:
            yield entry
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def entries() -> list[tuple[Entry, int]]:
    """Every entry in the cache with its size in bytes, least recently used first."""
    root = cache_root() / "restored"
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        if path.is_dir() and not path.is_symlink():
            entry = Entry(path)
            marker = path / MARKER
            used = marker.stat().st_mtime if marker.exists() else 0.0
            found.append((used, entry, _size(path)))
    return [(e, size) for _, e, size in sorted(found, key=lambda x: x[0])]


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def evict(keep: Path | None = None, limit: int | None = None) -> list[Path]:
    """Remove least recently used entries (never ``keep``, never one in use) until the cache fits."""
    limit = cache_limit() if limit is None else limit
    listed = entries()
    total = sum(size for _, size in listed)
    removed = []
    for entry, size in listed:
        if total <= limit:
            break
        if keep is not None and entry.path == keep:
            continue
        if remove_entry(entry):
            total -= size
            removed.append(entry.path)
    return removed


def remove_entry(entry: Entry) -> bool:
    """Remove one entry unless a run holds its lock; whether it was removed."""
    lock_path = entry.path.with_name(entry.path.name + ".lock")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        shutil.rmtree(entry.path, ignore_errors=True)
        lock_path.unlink(missing_ok=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return True


# -- the server's account and process -------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """The operating-system account a throwaway server runs as."""

    name: str
    uid: int
    gid: int

    @property
    def is_self(self) -> bool:
        return self.uid == os.geteuid()


def server_account() -> Account:
    """The caller, or ``nobody`` when uttrekk runs as root (database servers refuse root, and a
    server reading a hostile dump should own nothing)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return Account(me.pw_name, me.pw_uid, me.pw_gid)
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise SourceError("uttrekk runs as root and the system has no 'nobody' account to run the throwaway "
                          "database server as; run uttrekk as an ordinary user") from None
    return Account(nobody.pw_name, nobody.pw_uid, nobody.pw_gid)


def private_folder(path: Path, account: Account) -> Path:
    """A folder only ``account`` (and root) may enter, for the server's files and socket;
    ``SourceError`` when the account cannot pass through the folders above it."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    if not account.is_self:
        os.chown(path, account.uid, account.gid)
        for above in path.resolve().parents:
            if not os.stat(above).st_mode & 0o001:
                raise SourceError(f"{above}: the throwaway server runs as '{account.name}', which cannot pass "
                                  f"through this folder to {path}; point ${CACHE_ENV} at a folder it can reach "
                                  "(the default for root is /var/cache/uttrekk)")
    return path


def _as(account: Account) -> Callable[[], None]:
    """What the child does before exec: become ``account``, then die with its parent."""
    libc = ctypes.CDLL(None, use_errno=True)

    def become() -> None:
        os.setsid()  # Ctrl-C in the terminal goes to uttrekk, which stops the server in order
        if not account.is_self:
            os.setgroups([])
            os.setgid(account.gid)
            os.setuid(account.uid)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid, which clears it
        if os.getppid() == 1:  # the parent is already gone
            os._exit(1)
    return become


def run_as(account: Account, argv: Sequence[str], *, env: dict[str, str] | None = None,
           stdin: IO[bytes] | int | None = subprocess.DEVNULL, stdout: IO[bytes] | int | None = None,
           stderr: IO[bytes] | int | None = None, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` as ``account``, dying with uttrekk (a restore tool or the server itself)."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
             "HOME": str(cwd or "/")}
    return subprocess.Popen(list(argv), env={**clean, **(env or {})}, stdin=stdin, stdout=stdout, stderr=stderr,
                            cwd=cwd, preexec_fn=_as(account), close_fds=True)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """End a server: ``sig`` (the engine's clean shutdown), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Sink(Protocol):
    """What ``pump`` writes into: a tool's stdin, a file, or an object taking the bytes itself
    (a plain PostgreSQL script's restorer, a digest)."""

    def write(self, data: bytes, /) -> object: ...

    def close(self) -> None: ...


def pump(src: IO[bytes], dst: Sink, *, total: int | None, label: str, quiet: bool,
         transform: Callable[[bytes], bytes] | None = None, chunk: int = CHUNK) -> int:
    """Copy a dump into a restore tool's stdin with a progress bar of bytes read (of ``total``);
    ``transform`` sees every chunk first (a filter for what a dump may not do). Returns bytes read.
    A tool that stops reading (it failed) ends the copy; its exit status says why."""
    import sys

    from tqdm import tqdm

    done = 0
    with tqdm(total=total, desc=label, unit="B", unit_scale=True, disable=quiet or not sys.stderr.isatty(),
              leave=False, file=sys.stderr) as bar:
        try:
            while data := src.read(chunk):
                done += len(data)
                dst.write(transform(data) if transform is not None else data)
                bar.update(len(data))
            if transform is not None:
                tail = transform(b"")  # a filter holding back a partial line gives it now
                if tail:
                    dst.write(tail)
        except BrokenPipeError:
            pass
        finally:
            try:
                dst.close()
            except BrokenPipeError:
                pass
    return done


def wait_for(test: Callable[[], bool], proc: subprocess.Popen[bytes], seconds: float, what: str,
             log: Path | None = None) -> None:
    """Poll ``test`` until it holds; ``SourceError`` (with the log's last lines) if ``proc`` ends or time runs out."""
    deadline = time.monotonic() + seconds
    while not test():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = ""
            if log is not None and log.exists():
                lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
                tail = ": " + " | ".join(lines)
            stop(proc)
            raise SourceError(f"the throwaway server for {what} did not start{tail}")
        time.sleep(0.05)
