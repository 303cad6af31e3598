"""A throwaway PostgreSQL server for one restored dump, with a role that can do no harm.

The cluster lives in the dump's cache entry (``throwaway.Entry``), made with the machine's own
``initdb`` as the server's account (``throwaway.server_account``). What keeps a hostile dump in:

- the only role that can log in is ``uttrekk``: not a superuser, no CREATEROLE, member of nothing,
  so it cannot run programs (``COPY … PROGRAM``), read or write server files (``pg_read_file``,
  ``lo_import``/``lo_export``, ``COPY`` to a file), create untrusted languages or extensions
  (plpython3u, dblink, postgres_fdw: superuser only), ``ALTER SYSTEM``, ``CREATE SUBSCRIPTION`` or
  ``SET ROLE``/``SESSION AUTHORIZATION`` to anyone else. It may create databases (for pg_dumpall and
  ``pg_dump -C`` dumps), owns the databases it restores into (and ``postgres`` and ``template1``, so
  a pg_dumpall can fill them), and bypasses row-level security, so a policy in the dump can never
  hide rows from the extract. The bootstrap superuser exists only for ``postgres --single``, which
  creates that role before the server first starts: ``pg_hba.conf`` lets no other role in;
- the server listens on a Unix socket only (``listen_addresses`` empty) in a folder only its
  account may enter; that folder is short-lived under ``/tmp`` because a socket path must be short
  (the cache entry's is too long), and one an earlier run left is removed once its server is gone;
- the server runs while a run reads and dies with uttrekk (``throwaway.run_as``); its time zone is
  UTC whatever the machine's, so ``timestamptz`` values are written alike everywhere; it is started
  read-only by default (``default_transaction_read_only``) except while restoring, when ``fsync``
  is off for speed: the cache entry is marked whole only after a clean shutdown and ``sync``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

from extractor.errors import SourceError

from . import throwaway

ROLE = "uttrekk"
"""The role that restores and reads."""
ADMIN = "uttrekk_bootstrap"
"""initdb's superuser: never allowed to log in."""
PORT = "5432"
BIN_ENV = "UTTREKK_PG_BIN"
"""A folder holding initdb, postgres and pg_restore, used before the machine's own."""
TOOLS = ("initdb", "postgres", "pg_restore")
SOCKET_BASE = "/tmp"
SOCKET_PREFIX = "uttrekk-pg-"


@dataclass(frozen=True)
class Binaries:
    folder: Path
    version: str
    """``15.20 (Debian 15.20-0+deb12u1)``."""

    @property
    def major(self) -> int:
        return int(re.match(r"\d+", self.version).group())  # type: ignore[union-attr]

    def __call__(self, tool: str) -> str:
        return str(self.folder / tool)


@cache
def binaries() -> Binaries:
    """The PostgreSQL server tools: ``$UTTREKK_PG_BIN``, else the newest ``/usr/lib/postgresql/N/bin``,
    else ``PATH``; ``SourceError`` saying what to install when none has them all."""
    candidates = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    candidates += [Path(p) for p in reversed(found)]
    on_path = shutil.which("pg_restore")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / t).is_file() and os.access(folder / t, os.X_OK) for t in TOOLS):
            out = subprocess.run([str(folder / "pg_restore"), "--version"], capture_output=True, text=True,
                                 check=False).stdout
            m = re.search(r"\(PostgreSQL\)\s+(\S.*)$", out.strip())
            if m:
                return Binaries(folder, m.group(1))
    where = f" (${BIN_ENV} names {os.environ[BIN_ENV]})" if os.environ.get(BIN_ENV) else ""
    raise SourceError("restoring a PostgreSQL dump needs the PostgreSQL server tools (initdb, postgres, pg_restore), "
                      f"and none were found{where}: install them (Debian: apt-get install postgresql) or set "
                      f"${BIN_ENV} to the folder holding them")


def _remove_stale_sockets() -> None:
    """Socket folders whose server is gone (a run killed with -9 cannot remove its own)."""
    for folder in glob.glob(os.path.join(SOCKET_BASE, SOCKET_PREFIX + "*")):
        try:
            pid = int(Path(folder, f".s.PGSQL.{PORT}.lock").read_text().split("\n", 1)[0])
        except FileNotFoundError:
            pid = 0
        except (OSError, ValueError):
            continue
        try:
            if (pid and _alive(pid)) or (not pid and os.stat(folder).st_mtime > time.time() - 60):
                continue  # in use, or being set up right now
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Cluster:
    """The server's files in ``folder`` (a cache entry's), and the server while it runs."""

    def __init__(self, folder: Path, tools: Binaries) -> None:
        self.folder = folder
        self.tools = tools
        self.account = throwaway.server_account()
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.socket: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    # -- making it -----------------------------------------------------------------------------------

    def create(self) -> None:
        """initdb, the access rules, and the restoring role (``postgres --single``, before any start)."""
        throwaway.private_folder(self.folder, self.account)
        with self.log.open("ab") as log:
            for locale in ("C.UTF-8", "C"):
                shutil.rmtree(self.data, ignore_errors=True)
                done = throwaway.run_as(self.account, [self.tools("initdb"), "-D", str(self.data), "-U", ADMIN,
                                                       "-E", "UTF8", f"--locale={locale}", "--auth=trust",
                                                       "--wal-segsize=1", "--no-sync", "--no-instructions"],
                                        stdout=log, stderr=subprocess.STDOUT, cwd=self.folder).wait()
                if done == 0:
                    break
            else:
                raise SourceError(f"initdb could not make the throwaway cluster: {self._tail(self.log)}")
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"# uttrekk: only the restoring role, only through the socket\nlocal all {ROLE} trust\n",
                       encoding="utf-8")
        self._own(hba)
        setup = (f"CREATE ROLE {ROLE} LOGIN CREATEDB BYPASSRLS NOSUPERUSER NOCREATEROLE NOREPLICATION\n"
                 f"ALTER DATABASE postgres OWNER TO {ROLE}\n"
                 f"ALTER DATABASE template1 OWNER TO {ROLE}\n").encode()
        with self.log.open("ab") as log:
            proc = throwaway.run_as(self.account, [self.tools("postgres"), "--single", "-D", str(self.data),
                                                   "-c", "exit_on_error=on", "-c", "lc_messages=C", "postgres"],
                                    stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
            proc.communicate(setup)
        if proc.returncode != 0:
            raise SourceError(f"could not set up the throwaway cluster: {self._tail(self.log)}")

    def _own(self, path: Path) -> None:
        if not self.account.is_self:
            os.chown(path, self.account.uid, self.account.gid)
        os.chmod(path, 0o600)

    # -- running it ----------------------------------------------------------------------------------

    def start(self, restoring: bool = False) -> None:
        """Start the server (``restoring``: writable, fsync off; else read-only) and wait until it accepts."""
        _remove_stale_sockets()
        pid_file = self.data / "postmaster.pid"
        stale = pid_file.exists()
        if stale:  # left by a run killed with -9 (we hold the entry's lock: that server is gone)
            pid_file.unlink()
        try:
            self._start(restoring)
        except SourceError:
            if not stale:
                raise
            self.stop()  # its last backends may still hold the shared memory for a moment
            time.sleep(2)
            self._start(restoring)

    def _start(self, restoring: bool) -> None:
        self.socket = Path(tempfile.mkdtemp(prefix=SOCKET_PREFIX, dir=SOCKET_BASE))
        throwaway.private_folder(self.socket, self.account)
        settings = {
            "listen_addresses": "", "unix_socket_directories": str(self.socket), "unix_socket_permissions": "0700",
            "port": PORT, "max_connections": "50", "lc_messages": "C", "jit": "off", "autovacuum": "off",
            "wal_level": "minimal", "max_wal_senders": "0", "archive_mode": "off", "max_locks_per_transaction": "1024",
            "logging_collector": "off", "shared_preload_libraries": "", "session_preload_libraries": "",
            "local_preload_libraries": "", "timezone": "UTC", "log_timezone": "UTC",
            "min_wal_size": "2MB",  # with 1 MB segments: the cache keeps no WAL it does not need
        }
        if restoring:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                         "max_wal_size": "2GB", "checkpoint_timeout": "30min"}
        else:
            settings["default_transaction_read_only"] = "on"
        argv = [self.tools("postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        log: IO[bytes]
        with self.log.open("ab") as log:
            self.proc = throwaway.run_as(self.account, argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        throwaway.wait_for(self._ready, self.proc, 120, "the restored dump", self.log)

    def _ready(self) -> bool:
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def stop(self) -> None:
        """Fast shutdown (a checkpoint, then exit); the socket folder goes with it."""
        if self.proc is not None:
            throwaway.stop(self.proc, signal.SIGINT)
            self.proc = None
        if self.socket is not None:
            shutil.rmtree(self.socket, ignore_errors=True)
            self.socket = None

    def sync(self) -> None:
        """Write the stopped cluster's files to disk (``initdb --sync-only``): it was restored with
        fsync off, and the cache entry may say it is whole only once it is."""
        with self.log.open("ab") as log:
            done = throwaway.run_as(self.account, [self.tools("initdb"), "--sync-only", "-D", str(self.data)],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=self.folder).wait()
        if done != 0:
            raise SourceError(f"could not write the restored dump to disk: {self._tail(self.log)}")

    # -- reaching it -----------------------------------------------------------------------------------

    def conninfo(self, database: str) -> str:
        from psycopg.conninfo import make_conninfo

        assert self.socket is not None
        return make_conninfo(host=str(self.socket), port=PORT, user=ROLE, dbname=database,
                             application_name="uttrekk")

    def pq_connect(self, database: str) -> Any:
        """A libpq connection (``psycopg.pq``) as the restoring role; ``SourceError`` when refused."""
        from psycopg import pq

        pg = pq.PGconn.connect(self.conninfo(database).encode())
        if pg.status != pq.ConnStatus.OK:
            message = pg.get_error_message().strip().splitlines()
            pg.finish()
            raise SourceError(" ".join(message[-1:]) or "cannot connect")
        return pg

    def connect(self, database: str) -> Any:
        """A psycopg connection (autocommit) as the restoring role."""
        import psycopg

        return psycopg.connect(self.conninfo(database), autocommit=True)

    def url(self, database: str) -> Any:
        """The SQLAlchemy URL of one database (through the socket, as the restoring role)."""
        import sqlalchemy as sa

        assert self.socket is not None
        return sa.engine.URL.create("postgresql+psycopg", username=ROLE, database=database,
                                    query={"host": str(self.socket), "port": PORT})

    def server_version(self) -> str:
        return self.tools.version

    def run_tool(self, argv: list[str], *, stdin: int | IO[bytes] | None, log: IO[bytes]) -> subprocess.Popen[bytes]:
        """A client tool (pg_restore) as the server's account, reaching the server through the socket."""
        assert self.socket is not None
        env = {"PGHOST": str(self.socket), "PGPORT": PORT, "PGUSER": ROLE, "PGCLIENTENCODING": "UTF8"}
        return throwaway.run_as(self.account, argv, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=log,
                                cwd=self.folder)

    @staticmethod
    def _tail(log: Path) -> str:
        try:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-4:])
