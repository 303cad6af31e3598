"""A throwaway MariaDB server on a cached data folder, and the ``mariadb`` client that restores into it.

The server (``mariadbd``) runs as the unprivileged server account (``throwaway.run_as``), with no
option files (``--no-defaults``), on a Unix socket in a private folder and no TCP port, with
``secure_file_priv`` pointing at an empty folder nobody may write, ``LOAD DATA LOCAL`` off, the
event scheduler off (a dump's events never run), no symbolic links (no table files outside its
data folder), and a small buffer pool. Grant tables stay on: the accounts are

- ``root@localhost``, with a random password kept in the cache entry (mode 0600): uttrekk's own
  connection, which sets up the others and reads the restored database;
- the restoring account, named after the server's operating-system account and authenticated by
  the socket (``unix_socket``), so it needs no password: the ``mariadb`` client running as that
  account logs in as it. It may create and fill the dump's databases, one by one as the dump
  reaches them (``grant``), and nothing else: no FILE, SUPER or GRANT OPTION, no other database.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from extractor.errors import SourceError

from .throwaway import Account, Entry, private_folder, run_as, stop, wait_for

RESTORE_RIGHTS = ("SELECT, INSERT, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, CREATE TEMPORARY TABLES, "
                  "LOCK TABLES, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, TRIGGER, EVENT")
"""What the restoring account may do in each of the dump's databases (DELETE: for ``REPLACE``)."""
SOCKET_LIMIT = 100
"""Longest socket path used inside the cache entry (the kernel takes 107 bytes)."""
START_SECONDS = 120.0
SWEEP_AFTER = 60.0
HELD = "held"
"""Mark a run leaves in its socket folder once it holds the folder's lock."""
"""Seconds a socket folder must have existed before a sweep may call it left behind."""


def quote_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def grant_pattern(name: str) -> str:
    """A database name as GRANT reads it: ``_`` and ``%`` are wildcards there, so they are escaped."""
    return quote_name(name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%"))


class MariaDB:
    """The server of one cache entry: ``install`` once, ``start``/``stop`` per run."""

    def __init__(self, entry: Entry, account: Account) -> None:
        self.entry = entry
        self.account = account
        self.data = entry.path / "data"
        self.run = entry.path / "run"
        self.proc: subprocess.Popen[bytes] | None = None
        self.socket_dir: Path | None = None
        self._socket_lock: int | None = None
        self._admin: Any = None

    @property
    def socket(self) -> Path:
        assert self.socket_dir is not None
        return self.socket_dir / "sock"

    @property
    def restorer(self) -> str:
        return self.account.name

    def install(self) -> None:
        """A new data folder with the system tables (``mariadb-install-db``)."""
        private_folder(self.data, self.account)
        private_folder(self.run, self.account)
        files = self.entry.path / "files"  # secure_file_priv: empty, and nobody may write in it
        files.mkdir(exist_ok=True)
        os.chmod(files, 0o500)
        (self.entry.path / "admin.key").write_text(secrets.token_urlsafe(24), encoding="ascii")
        os.chmod(self.entry.path / "admin.key", 0o600)
        log = self.run / "install.log"
        with log.open("wb") as out:
            proc = run_as(self.account, ["mariadb-install-db", "--no-defaults", "--auth-root-authentication-method=normal",
                                         "--skip-test-db", f"--datadir={self.data}", f"--user={self.account.name}"],
                          stdout=out, stderr=subprocess.STDOUT, cwd=self.run)
            code = proc.wait()
        if code != 0:
            tail = " | ".join(log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:])
            raise SourceError(f"mariadb-install-db could not prepare the throwaway server: {tail}")

    def start(self, restoring: bool) -> None:
        """Start the server; the first start after ``install`` also sets up the accounts."""
        first = not (self.entry.path / "accounts.done").exists()
        old = self.run / "socket-dir"
        _sweep()  # what runs that were killed left behind
        if len(str(self.run / "sock")) <= SOCKET_LIMIT:
            self.socket_dir = self.run
        else:
            self.socket_dir = Path(tempfile.mkdtemp(prefix="uttrekk-mariadb-"))
            self._socket_lock = _hold(self.socket_dir)
            private_folder(self.socket_dir, self.account)
            old.write_text(str(self.socket_dir), encoding="utf-8")
        log = self.run / "server.log"
        argv = ["mariadbd", "--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}", "--skip-networking",
                f"--pid-file={self.run / 'mariadbd.pid'}", f"--log-error={log}",
                f"--secure-file-priv={self.entry.path / 'files'}", "--local-infile=0", "--event-scheduler=OFF",
                "--skip-symbolic-links", f"--tmpdir={self.run}", "--max-allowed-packet=1G", "--skip-name-resolve",
                "--innodb-buffer-pool-size=128M", "--skip-log-bin", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci", "--performance-schema=OFF", "--skip-slave-start",
                f"--innodb-flush-log-at-trx-commit={0 if restoring else 1}",
                *(["--innodb-doublewrite=0"] if restoring else [])]
        self.proc = run_as(self.account, argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.run)
        wait_for(lambda: self.socket.exists() and self._can_connect(first), self.proc, START_SECONDS,
                 "the MariaDB dump", log)
        if first:
            self._accounts()

    def _can_connect(self, first: bool) -> bool:
        try:
            self._admin = self._connect(None if first else self.password)
        except Exception:
            return False
        return True

    @property
    def password(self) -> str:
        return (self.entry.path / "admin.key").read_text(encoding="ascii").strip()

    def _connect(self, password: str | None, database: str | None = None) -> Any:
        import pymysql

        return pymysql.connect(unix_socket=str(self.socket), user="root", password=password or "",
                               database=database, charset="utf8mb4", autocommit=True)

    def _accounts(self) -> None:
        """root with a password and only on localhost; the restoring account by its socket."""
        with self.admin.cursor() as cur:
            cur.execute("SELECT User, Host FROM mysql.user WHERE NOT (User = 'root' AND Host = 'localhost') "
                        "AND User <> 'mariadb.sys'")
            for user, host in cur.fetchall():
                cur.execute("DROP USER %s@%s", (user, host))
            cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (self.password,))
            cur.execute("CREATE USER %s@'localhost' IDENTIFIED VIA unix_socket", (self.restorer,))
        (self.entry.path / "accounts.done").write_text("", encoding="ascii")

    @property
    def admin(self) -> Any:
        if self._admin is None:
            self._admin = self._connect(self.password)
        return self._admin

    def version(self) -> str:
        with self.admin.cursor() as cur:
            cur.execute("SELECT VERSION()")
            return str(cur.fetchone()[0])

    def grant(self, database: str) -> None:
        """Let the restoring account create and fill ``database`` (before the dump reaches it)."""
        with self.admin.cursor() as cur:
            cur.execute(f"GRANT {RESTORE_RIGHTS} ON {grant_pattern(database)}.* TO %s@'localhost'", (self.restorer,))

    def create_database(self, database: str) -> None:
        with self.admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {quote_name(database)}")

    def drop_database(self, database: str) -> None:
        with self.admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_name(database)}")

    def tables(self, database: str) -> dict[str, str]:
        """Table name -> ``TABLE_TYPE`` (``BASE TABLE``, ``VIEW``, ``SEQUENCE`` …) in one database."""
        with self.admin.cursor() as cur:
            cur.execute("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                        (database,))
            return {str(n): str(t) for n, t in cur.fetchall()}

    def count(self, database: str, table: str) -> int:
        with self.admin.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {quote_name(database)}.{quote_name(table)}")
            return int(cur.fetchone()[0])

    def databases(self) -> dict[str, int]:
        """The server's databases (not its own) with their number of tables."""
        with self.admin.cursor() as cur:
            cur.execute("SELECT s.SCHEMA_NAME, COUNT(t.TABLE_NAME) FROM information_schema.SCHEMATA s "
                        "LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME "
                        "WHERE s.SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
                        "GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME")
            return {str(n): int(c) for n, c in cur.fetchall()}

    def client(self, charset: str, database: str | None, errors: Path) -> subprocess.Popen[bytes]:
        """The ``mariadb`` client, as the restoring account, reading the (filtered) dump on stdin:
        ``--binary-mode`` (no client commands but DELIMITER, bytes as they are), ``--sandbox``,
        ``--force`` (every error is listed, the loss check decides), no ``LOAD DATA LOCAL``."""
        argv = ["mariadb", "--no-defaults", f"--socket={self.socket}", f"--user={self.restorer}", "--binary-mode",
                "--sandbox", "--force", "--batch", "--skip-column-names", "--skip-print-query-on-error",
                f"--default-character-set={charset}", "--max-allowed-packet=1G", "--local-infile=0",
                "--skip-reconnect", *([database] if database else [])]
        with errors.open("wb") as err:
            return run_as(self.account, argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                          cwd=self.run)

    def stop(self) -> None:
        """A clean shutdown (everything written), then the socket folder goes."""
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:
                pass
            self._admin = None
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
        if self.socket_dir is not None and self.socket_dir != self.run:
            _remove_socket_dir(self.socket_dir)
            (self.run / "socket-dir").unlink(missing_ok=True)
        if self._socket_lock is not None:
            os.close(self._socket_lock)
            self._socket_lock = None
        self.socket_dir = None


def _hold(folder: Path) -> int:
    """Lock a socket folder for as long as its run lives (the lock goes with the process, however
    it ends), so that another run's ``_sweep`` never takes the folder of a server still starting."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    (folder / HELD).touch()  # from here on, an unlocked folder is one whose run has ended
    return fd


def _sweep() -> None:
    """Remove socket folders that runs which were killed left behind: no run holds their lock.

    Whether the socket answers says nothing about a server another run is starting right now; a
    folder without the ``HELD`` mark is one just made, not locked yet, unless older than ``SWEEP_AFTER``."""
    for path in Path(tempfile.gettempdir()).glob("uttrekk-mariadb-*"):
        try:
            info = path.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (os.geteuid(), _nobody()):
                continue
            if not (path / HELD).exists() and time.time() - info.st_mtime < SWEEP_AFTER:
                continue  # just made, not locked yet
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a living run holds it
        else:
            _remove_socket_dir(path)
        finally:
            os.close(fd)


def _nobody() -> int:
    import pwd

    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return -1


def _remove_socket_dir(path: Path) -> None:
    """A socket folder of ours (``/tmp/uttrekk-mariadb-*``): its socket and pid files, then itself."""
    if not path.name.startswith("uttrekk-mariadb-") or path.is_symlink() or not path.is_dir():
        return
    for f in path.iterdir():
        if f.is_symlink() or not f.is_dir():
            f.unlink(missing_ok=True)
    try:
        path.rmdir()
    except OSError:
        pass
