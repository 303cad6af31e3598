"""The Firebird engine that restores and reads a Firebird file: the machine's own, embedded, configured by uttrekk.

Firebird 3 on Linux talks to a server only over TCP, so uttrekk starts no server: ``gbak`` and
``gfix`` run the embedded engine themselves, as the unprivileged account (``throwaway.run_as``), and
uttrekk reads the result through the same embedded engine in its own process (the client library
with the ``Engine12`` provider). Either way the engine's root folder is one uttrekk writes for the
cache entry (``make_root``), so the machine's ``firebird.conf`` does not decide what a hostile file
may do:

- ``Providers = Engine12``: no network provider is loaded, so ``EXECUTE STATEMENT … ON EXTERNAL``
  cannot reach another server;
- ``DatabaseAccess = Restrict`` the entry's database folder: the engine opens no other database
  file (``ON EXTERNAL`` to a local path, a second attachment), and no security database;
- ``UdfAccess = None`` and an empty ``plugins.conf``: no external function (UDF) library and no UDR
  engine is loaded, so ``EXTERNAL NAME 'lib!fn'`` runs nothing;
- ``ExternalFileAccess = None``: an external table's file is neither read nor written;
- its own lock and temporary folders, so it shares nothing with the system's Firebird server.

Reading adds ``isc_dpb_no_db_triggers`` (``ON CONNECT`` and transaction triggers do not run; the
embedded engine trusts the user name, and SYSDBA may skip them) and a database set read-only after
the restore. The client library reads its configuration once per process, from ``$FIREBIRD`` when it
is loaded (``configure_client``): a process that loaded it already for something else cannot read a
Firebird file (one source per uttrekk run, so only a test harness meets this).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.errors import SourceError

from .throwaway import Account, run_as

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .firebird_headers import DatabaseHeader

SYSDBA = "SYSDBA"

TOOLS_PACKAGE = "firebird3.0-utils"
"""The Debian package with gbak and gfix, for the message when they are missing."""

READS = {3: ((12, 0), 10), 4: ((13, 0), 11), 5: ((13, 1), 11), 6: ((14, 0), 12)}
"""Firebird major version -> (the newest ODS it opens, the newest gbak format it restores); a
Firebird opens only its own ODS major version."""

SYSTEM_ROOTS = ("/usr/lib/x86_64-linux-gnu/firebird/3.0", "/usr/lib/aarch64-linux-gnu/firebird/3.0", "/opt/firebird")
"""Where the machine's Firebird keeps firebird.msg, intl/ and plugins/ (Debian, the upstream installer)."""


@dataclass(frozen=True)
class Install:
    """The machine's Firebird tools and what they can read."""

    gbak: str
    gfix: str
    version: str
    """As gbak says it: ``LI-V3.0.11.33637 Firebird 3.0``."""

    @property
    def major(self) -> int:
        found = re.search(r"V(\d+)\.", self.version)
        return int(found.group(1)) if found else 3

    @property
    def name(self) -> str:
        found = re.search(r"V(\d+\.\d+)", self.version)
        return f"Firebird {found.group(1)}" if found else "Firebird"

    @property
    def ods(self) -> tuple[int, int]:
        return READS.get(self.major, READS[3])[0]

    @property
    def backup_format(self) -> int:
        return READS.get(self.major, READS[3])[1]

    def opens(self, header: DatabaseHeader) -> bool:
        major, minor = self.ods
        return header.firebird_flag and header.ods_major == major and header.ods_minor <= minor


def install(account: Account) -> Install:
    """The machine's gbak and gfix and their version; ``SourceError`` saying what to install."""
    gbak, gfix = shutil.which("gbak"), shutil.which("gfix")
    if gbak is None or gfix is None:
        raise SourceError(f"Firebird's gbak and gfix are not installed, and uttrekk reads a Firebird file with them: "
                          f"install Firebird's tools (Debian and Ubuntu: apt-get install {TOOLS_PACKAGE})")
    try:
        proc = run_as(account, [gbak, "-z"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.communicate(timeout=60)[0].decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"{gbak} -z (its version) failed: {exc}") from None
    found = re.search(r"gbak version (.+)", out)
    return Install(gbak, gfix, found.group(1).strip() if found else "unknown version")


# -- the engine's own root folder -----------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """A cache entry's engine: its root folder, and the folders its runs lock and sort in."""

    root: Path
    databases: Path
    """The only folder whose databases it opens (owned by the server account)."""

    @property
    def tool_env(self) -> dict[str, str]:
        """Environment of gbak and gfix (as the server account, in ``databases``)."""
        return {"FIREBIRD": str(self.root), "FIREBIRD_LOCK": str(self.databases / "lock"),
                "FIREBIRD_TMP": str(self.databases / "tmp"), "ISC_USER": SYSDBA}

    @property
    def reader_env(self) -> dict[str, str]:
        """Environment uttrekk's own process loads the client library with (``configure_client``)."""
        reader = self.root.parent / "reader"
        return {"FIREBIRD": str(self.root), "FIREBIRD_LOCK": str(reader / "lock"), "FIREBIRD_TMP": str(reader / "tmp")}


CONF = """\
# Written by uttrekk for one Firebird file it restores and reads (dialects/kinds/firebird_engine.py).
Providers = Engine12
DatabaseAccess = Restrict {databases}
SecurityDatabase = {databases}/no-security-database.fdb
UdfAccess = None
ExternalFileAccess = None
"""


def make_root(entry: Path, databases: Path, account: Account) -> Engine:
    """The engine's root folder in a cache entry: uttrekk's firebird.conf, an empty plugins.conf
    (no UDR), and the machine's message file, character sets and engine plugin."""
    root = entry / "engine"
    root.mkdir(mode=0o755)
    (root / "firebird.conf").write_text(CONF.format(databases=databases), encoding="utf-8")
    (root / "plugins.conf").write_text("", encoding="utf-8")
    (root / "databases.conf").write_text("", encoding="utf-8")
    system = system_root()
    for name in ("firebird.msg",):
        if (system / name).exists():
            (root / name).symlink_to(system / name)
    plugins = root / "plugins"
    plugins.mkdir()
    for plugin in system.glob("plugins/libEngine*.so"):
        (plugins / plugin.name).symlink_to(plugin)
    intl = root / "intl"
    intl.mkdir()
    # Character sets other than UTF8 and the ASCII family come from fbintl, which the engine loads as
    # $(root)/intl/fbintl and accepts only as a file in that folder (a symbolic link is not enough).
    library = next((p for p in (system / "intl" / "libfbintl.so", system / "intl" / "fbintl") if p.exists()), None)
    if library is not None:
        shutil.copyfile(library, intl / "fbintl")
    if (system / "intl" / "fbintl.conf").exists():
        shutil.copyfile(system / "intl" / "fbintl.conf", intl / "fbintl.conf")
    for folder in (databases / "lock", databases / "tmp"):
        folder.mkdir(mode=0o700)
        if not account.is_self:
            os.chown(folder, account.uid, account.gid)
    engine = Engine(root, databases)
    reader = Path(engine.reader_env["FIREBIRD_LOCK"]).parent
    reader.mkdir(mode=0o700)
    for folder in (Path(v) for k, v in engine.reader_env.items() if k != "FIREBIRD"):
        folder.mkdir(mode=0o700)
    return engine


def system_root() -> Path:
    """The machine's Firebird root folder (firebird.msg, intl/, plugins/)."""
    for candidate in (os.environ.get("FIREBIRD", ""), *SYSTEM_ROOTS):
        if candidate and (Path(candidate) / "firebird.msg").exists():
            return Path(candidate)
    gbak = shutil.which("gbak")
    if gbak is not None:
        above = Path(os.path.realpath(gbak)).parent.parent
        if (above / "firebird.msg").exists():
            return above
    raise SourceError("cannot find Firebird's root folder (firebird.msg, intl/, plugins/); set $FIREBIRD to it")


def run_tool(engine: Engine, account: Account, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """gbak or gfix as the server account, with the entry's engine."""
    return run_as(account, argv, env=engine.tool_env, cwd=engine.databases, **kwargs)


# -- reading in uttrekk's process -------------------------------------------------------------------


def configure_client(engine: Engine) -> None:
    """Make the client library load ``engine``'s configuration; ``SourceError`` when this process
    loaded it already with another one (it reads its configuration once)."""
    from firebird.driver import fbapi

    wanted = engine.reader_env
    if fbapi.has_api():
        if all(os.environ.get(k) == v for k, v in wanted.items()):
            return
        raise SourceError("this process has loaded Firebird's client library already with another configuration, "
                          "and a Firebird file is read only with uttrekk's own (dialects/kinds/firebird_engine.py): "
                          "run uttrekk once for this file, in a process of its own")
    os.environ.update(wanted)


def embedded_engine(engine: Engine, database: Path) -> sa.engine.Engine:
    """A SQLAlchemy engine on ``database`` through the embedded engine, database triggers off."""
    import sqlalchemy as sa

    from dialects.firebird import with_python_signals

    configure_client(engine)
    url = sa.engine.URL.create("firebird+firebird", username=SYSDBA, database=str(database),
                               query={"charset": "UTF8"})
    created = sa.create_engine(url, connect_args={"no_db_triggers": True})
    return with_python_signals(created)


def engine_version(conn: Any) -> str:
    return str(conn.exec_driver_sql("SELECT rdb$get_context('SYSTEM', 'ENGINE_VERSION') FROM rdb$database").scalar())


def tables(conn: Any) -> set[str]:
    """The database's tables (not views), as the catalogue names them."""
    return {r[0] for r in conn.exec_driver_sql(
        "SELECT TRIM(RDB$RELATION_NAME) FROM RDB$RELATIONS WHERE RDB$VIEW_BLR IS NULL").all()}


# -- what the file holds that uttrekk does not run ---------------------------------------------------

_EXTERNAL_FUNCTIONS = """
SELECT TRIM(RDB$FUNCTION_NAME), TRIM(COALESCE(RDB$MODULE_NAME, RDB$ENGINE_NAME)), TRIM(RDB$ENTRYPOINT)
FROM RDB$FUNCTIONS
WHERE COALESCE(RDB$SYSTEM_FLAG, 0) = 0 AND (RDB$MODULE_NAME IS NOT NULL OR RDB$ENGINE_NAME IS NOT NULL)
UNION ALL
SELECT TRIM(RDB$PROCEDURE_NAME), TRIM(RDB$ENGINE_NAME), TRIM(RDB$ENTRYPOINT)
FROM RDB$PROCEDURES WHERE COALESCE(RDB$SYSTEM_FLAG, 0) = 0 AND RDB$ENGINE_NAME IS NOT NULL
UNION ALL
SELECT TRIM(RDB$TRIGGER_NAME), TRIM(RDB$ENGINE_NAME), TRIM(RDB$ENTRYPOINT)
FROM RDB$TRIGGERS WHERE COALESCE(RDB$SYSTEM_FLAG, 0) = 0 AND RDB$ENGINE_NAME IS NOT NULL
ORDER BY 1
"""

_DATABASE_TRIGGERS = """
SELECT TRIM(RDB$TRIGGER_NAME), RDB$TRIGGER_TYPE FROM RDB$TRIGGERS
WHERE COALESCE(RDB$SYSTEM_FLAG, 0) = 0 AND COALESCE(RDB$TRIGGER_INACTIVE, 0) = 0
  AND BIN_AND(RDB$TRIGGER_TYPE, 8192) = 8192 AND BIN_AND(RDB$TRIGGER_TYPE, 16384) = 0
ORDER BY 1
"""

_EXTERNAL_TABLES = """
SELECT TRIM(RDB$RELATION_NAME), TRIM(RDB$EXTERNAL_FILE) FROM RDB$RELATIONS
WHERE RDB$EXTERNAL_FILE IS NOT NULL ORDER BY 1
"""

_REACHING_OUT = """
SELECT TRIM(RDB$PROCEDURE_NAME) FROM RDB$PROCEDURES WHERE RDB$PROCEDURE_SOURCE CONTAINING 'ON EXTERNAL'
UNION SELECT TRIM(RDB$FUNCTION_NAME) FROM RDB$FUNCTIONS WHERE RDB$FUNCTION_SOURCE CONTAINING 'ON EXTERNAL'
UNION SELECT TRIM(RDB$TRIGGER_NAME) FROM RDB$TRIGGERS WHERE RDB$TRIGGER_SOURCE CONTAINING 'ON EXTERNAL'
UNION SELECT TRIM(RDB$PACKAGE_NAME) FROM RDB$PACKAGES WHERE RDB$PACKAGE_BODY_SOURCE CONTAINING 'ON EXTERNAL'
"""

DATABASE_EVENTS = {0: "ON CONNECT", 1: "ON DISCONNECT", 2: "ON TRANSACTION START", 3: "ON TRANSACTION COMMIT",
                   4: "ON TRANSACTION ROLLBACK"}

DISABLED = ("Firebird file read from a read-only copy with uttrekk's own engine configuration: no external "
            "function (UDF) or UDR library loaded, no external table file read, no database trigger run "
            "(no_db_triggers), no other database and no network reachable (EXECUTE STATEMENT … ON EXTERNAL)")
"""The note every Firebird file's report carries: what was switched off."""


@dataclass(frozen=True)
class Held:
    """What the file holds that could run code or reach outside it, none of which uttrekk runs."""

    external_routines: tuple[str, ...] = ()
    database_triggers: tuple[str, ...] = ()
    external_tables: dict[str, str] | None = None
    reaching_out: tuple[str, ...] = ()

    def notes(self) -> list[str]:
        out = [DISABLED]
        if self.external_routines:
            out.append(f"the file declares {len(self.external_routines)} external routine(s), none of which ran: "
                       + ", ".join(self.external_routines))
        if self.database_triggers:
            out.append(f"the file has {len(self.database_triggers)} database trigger(s), which did not run: "
                       + ", ".join(self.database_triggers))
        if self.reaching_out:
            out.append("PSQL code that connects to other databases (EXECUTE STATEMENT … ON EXTERNAL) could not "
                       "reach them: " + ", ".join(self.reaching_out))
        if self.external_tables:
            out.append("external table(s) left out: their rows live in a file outside the database, which the "
                       "file does not hold and uttrekk does not read: "
                       + ", ".join(f"{t} ({f})" for t, f in self.external_tables.items()))
        return out


def held(conn: Any) -> Held:
    """Read from the catalogue what ``Held`` lists."""
    def rows(sql: str) -> list[Any]:
        return list(conn.exec_driver_sql(sql).all())

    routines = tuple(f"{name} ({module}{'!' + entry if entry else ''})" for name, module, entry in rows(_EXTERNAL_FUNCTIONS))
    triggers = tuple(f"{name} ({DATABASE_EVENTS.get(int(kind) - 8192, 'database event')})"
                     for name, kind in rows(_DATABASE_TRIGGERS))
    return Held(routines, triggers, dict(rows(_EXTERNAL_TABLES)), tuple(r[0] for r in rows(_REACHING_OUT)))
