"""Extraction benchmark: uttrekk against the engines' native export tools and a pandas script.

Run it from the repository root with the project's venv (the ``bench`` extra adds pandas and py-spy)::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/extract_bench.py                      # 2 000 000 rows, both engines -> docs/performance.md
    .venv/bin/python bench/extract_bench.py --rows 200000 --engines postgresql --out -   # quick look, print only
    .venv/bin/python bench/extract_bench.py --ref HEAD --repeat 3 --variant "postgresql:jobs2=--jobs 2"

``--ref COMMIT`` measures uttrekk as of that commit (exported from git into the temp folder), so
edits made to the working tree while the benchmark runs do not mix into its numbers; without it
the working tree is measured and the report says whether its source changed during the run.
``--help`` lists the rest (``--skip``, ``--chunksize``, ``--profiler``, ``--setup-only`` ...).

What it does:

1. Creates (once; reused while the row count and generator version match) the database
   ``uttrekk_bench`` with one table ``sak`` of ``--rows`` rows, and ``uttrekk_bench_tenth`` with the
   same table at a tenth of the rows, on PostgreSQL and on MariaDB. The rows are generated on the
   server (``generate_series``; MariaDB's SEQUENCE engine ``seq_1_to_N``), deterministic, and the
   same on both engines: integer key, varchar(100) with Norwegian letters (all Latin-1), a nullable
   text, numeric(12,2), date, timestamp with microseconds, boolean and a varchar(4) code.
2. Runs each tool as its own subprocess and measures its wall time, CPU time and peak RSS (from
   ``os.wait4``: the largest single process; a sampled sum over the process tree is reported too, for
   tools that fork workers). Every tool writes Latin-1 into a temporary folder that is deleted
   after each run; the output's rows are counted to make sure every tool wrote the whole table.
   Tools: ``uttrekk extract`` (plus ``--variant`` runs), ``psql \\copy (SELECT ... ORDER BY id) TO
   ... csv``, ``mariadb --batch --quick -e "SELECT ... ORDER BY id" > file``, and pandas
   ``read_sql(chunksize=...)`` + ``to_csv`` per chunk, as a consultant would script it. uttrekk
   also runs against the tenth-size database, to show its memory does not grow with table size.
3. Profiles one uttrekk run with py-spy (cProfile if py-spy is missing) and writes a top-10 of hot
   functions, prints the tables, and writes ``--out`` (default ``docs/performance.md``). Text
   between ``<!-- notes:start -->`` and ``<!-- notes:end -->`` in an existing file is kept.

Connections default to the local test servers and are overridden by ``--pg-url`` / ``--mariadb-url``
or ``$UTTREKK_BENCH_PG_URL`` / ``$UTTREKK_BENCH_MARIADB_URL`` (SQLAlchemy URLs; the database name in
the URL is the bench database). A password in a URL is handed to the tools through their
environment variables, never on a command line, and never written into the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROWS = 2_000_000
MEMORY_TARGET_MB = 150.0
GENERATOR_VERSION = 1
TABLE = "sak"
COLUMNS = ("id", "tittel", "merknad", "belop", "dato", "registrert", "aktiv", "kode")
SELECT_SQL = f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY id"
DEFAULT_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/uttrekk_bench",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/uttrekk_bench?charset=utf8mb4",
}
URL_ENV = {"postgresql": "UTTREKK_BENCH_PG_URL", "mariadb": "UTTREKK_BENCH_MARIADB_URL"}
NATIVE_NAME = {"postgresql": "psql \\copy csv", "mariadb": "mariadb --batch --quick"}
WORKER_URL_ENV = "UTTREKK_BENCH_WORKER_URL"
NOTES_START, NOTES_END = "<!-- notes:start -->", "<!-- notes:end -->"
SECTIONS = {"keys": "Key inference", "validate": "Validation speed", "validate-tar": "Validating a tar with many members",
            "pg-dump": "Restoring a PostgreSQL dump", "validate-compressed": "Validating a compressed package",
            "load": "Loading an extract into a database", "siard": "Reading a SIARD file",
            "siard-out": "Writing SIARD",
            "fastpath": "The fast path: the server renders, the client moves bytes", "many-tables": "Many tables",
            "firebird-fastpath": "Firebird's fast path"}
"""Sections other benchmarks own in performance.md (bench/keys_bench.py, bench/validate_bench.py,
bench/validate_tar_bench.py, bench/dump_bench.py, bench/validate_compressed_bench.py, bench/load_bench.py,
bench/siard_read_bench.py, bench/siard_write_bench.py, bench/fastpath_bench.py,
bench/tables_bench.py, bench/firebird_fastpath_bench.py):
marker name -> heading; this script keeps them, with their heading, when it rewrites the file."""
MB = 1_000_000

# -- the data -------------------------------------------------------------------------------------
# The same words and formulas on both engines, so both tables hold the same values. All Latin-1.

TITLES = ("Byggesøknad, enebolig", "Søknad om dispensasjon", "Klage på vedtak", "Ærekrenkelse, henvendelse",
          "Tilsyn med økonomi", "Oppmåling av tomt", "Ferdigattest for tilbygg", 'Søknad om "riving" av garasje')
PLACES = ("Øvre Ærøy", "Ålesund", "Bærum", "Tromsø", "Hønefoss", "Sør-Fron", "Lærdalsøyri")
NOTES = ("Mangler situasjonsplan og nabovarsel.", "Tiltakshaver er gjort kjent med fristen; svar innen tre uker.",
         "«Anmodning» om utsatt frist, innvilget.", "Vedlegg: tegninger, snitt og fasader (målestokk 1:100).",
         "Gebyr fakturert; kvittering mottatt. Åpen for innsyn.")
CODES = ("BYGG", "DISP", "KLAG", "TILS", "MÅL")


def _sql_list(items: Sequence[str]) -> str:
    return ", ".join("'" + s.replace("'", "''") + "'" for s in items)


def pg_ddl(table: str) -> list[str]:
    return [
        f"DROP TABLE IF EXISTS {table}",
        f"""CREATE TABLE {table} (
            id integer NOT NULL, tittel varchar(100) NOT NULL, merknad text, belop numeric(12,2) NOT NULL,
            dato date NOT NULL, registrert timestamp(6) NOT NULL, aktiv boolean NOT NULL, kode varchar(4) NOT NULL)""",
    ]


def pg_fill(table: str, rows: int) -> list[str]:
    return [
        f"""INSERT INTO {table} SELECT i,
            (ARRAY[{_sql_list(TITLES)}])[1 + i % 8] || ' ' || (ARRAY[{_sql_list(PLACES)}])[1 + (i / 8) % 7]
                || ' gnr. ' || (1 + i % 997) || '/' || (1 + i % 89),
            CASE WHEN i % 3 = 0 THEN NULL ELSE 'Merknad ' || i || ': ' || (ARRAY[{_sql_list(NOTES)}])[1 + i % 5] END,
            ((i::bigint * 7919) % 10000000) / 100.0,
            DATE '2000-01-01' + (i % 9000),
            TIMESTAMP '2000-01-01 00:00:00' + (i::bigint * 157784631) * INTERVAL '1 microsecond',
            i % 5 <> 0,
            (ARRAY[{_sql_list(CODES)}])[1 + i % 5]
          FROM generate_series(1, {rows}) AS i""",
        f"ALTER TABLE {table} ADD PRIMARY KEY (id)",
    ]


def mariadb_ddl(table: str) -> list[str]:
    return [
        f"DROP TABLE IF EXISTS {table}",
        f"""CREATE TABLE {table} (
            id int NOT NULL PRIMARY KEY, tittel varchar(100) NOT NULL, merknad text, belop decimal(12,2) NOT NULL,
            dato date NOT NULL, registrert datetime(6) NOT NULL, aktiv boolean NOT NULL, kode varchar(4) NOT NULL
          ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    ]


def mariadb_fill(table: str, rows: int) -> list[str]:
    return [
        f"""INSERT INTO {table} SELECT seq,
            CONCAT(ELT(1 + seq % 8, {_sql_list(TITLES)}), ' ', ELT(1 + (seq DIV 8) % 7, {_sql_list(PLACES)}),
                   ' gnr. ', 1 + seq % 997, '/', 1 + seq % 89),
            IF(seq % 3 = 0, NULL, CONCAT('Merknad ', seq, ': ', ELT(1 + seq % 5, {_sql_list(NOTES)}))),
            ((seq * 7919) % 10000000) / 100,
            DATE_ADD(DATE '2000-01-01', INTERVAL (seq % 9000) DAY),
            TIMESTAMP '2000-01-01 00:00:00' + INTERVAL (seq * 157784631) MICROSECOND,
            seq % 5 <> 0,
            ELT(1 + seq % 5, {_sql_list(CODES)})
          FROM seq_1_to_{rows}""",
    ]


def fingerprint(rows: int) -> str:
    return f"Benchmark table (uttrekk bench generator v{GENERATOR_VERSION}, {rows} rows)."


# -- connections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One engine's bench database (and its tenth-size twin)."""

    engine: str  # "postgresql" | "mariadb"
    url: Any  # sqlalchemy.engine.URL

    def db_url(self, tenth: bool = False) -> Any:
        name = self.url.database + ("_tenth" if tenth else "")
        return self.url.set(database=name)

    def database(self, tenth: bool = False) -> str:
        return str(self.db_url(tenth).database)

    def url_text(self, tenth: bool = False) -> str:
        """The URL without its password (the password travels in the environment)."""
        return str(self.db_url(tenth)._replace(password=None).render_as_string(hide_password=False))

    def password_env(self, kind: str) -> dict[str, str]:
        pw = self.url.password
        if not pw:
            return {}
        return {"uttrekk": {"UTTREKK_PASSWORD": pw}, "psql": {"PGPASSWORD": pw},
                "mariadb": {"MYSQL_PWD": pw}}.get(kind, {})


def make_target(engine: str, url: str) -> Target:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if not parsed.database:
        raise SystemExit(f"{engine}: the URL must name the bench database")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", parsed.database):
        raise SystemExit(f"{engine}: bench database name must be a plain identifier")
    return Target(engine, parsed)


def server_version(target: Target) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(target.db_url())
    try:
        with engine.connect() as conn:
            sql = "SHOW server_version" if target.engine == "postgresql" else "SELECT VERSION()"
            return str(conn.exec_driver_sql(sql).scalar_one())
    finally:
        engine.dispose()


# -- set-up ---------------------------------------------------------------------------------------


def ensure_database(target: Target, tenth: bool, rows: int, log: Callable[[str], None]) -> None:
    """Create the bench database and fill ``sak`` unless it already holds exactly this data."""
    import sqlalchemy as sa

    name = target.database(tenth)
    if target.engine == "postgresql":
        admin = sa.create_engine(target.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first() is None:
                conn.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        admin.dispose()
    else:
        u = target.url
        admin = sa.create_engine(sa.engine.URL.create(u.drivername, u.username, u.password, u.host, u.port, None, u.query))
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        admin.dispose()

    engine = sa.create_engine(target.db_url(tenth), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if _current_fingerprint(conn, target.engine) == fingerprint(rows) and _count(conn) == rows:
                log(f"{target.engine}: {name}.{TABLE} has {rows:,} rows, reused")
                return
            log(f"{target.engine}: building {name}.{TABLE} with {rows:,} rows ...")
            started = time.perf_counter()
            if target.engine == "postgresql":
                for sql in [*pg_ddl(TABLE), *pg_fill(TABLE, rows), f"COMMENT ON TABLE {TABLE} IS '{fingerprint(rows)}'",
                            f"VACUUM (FREEZE, ANALYZE) {TABLE}"]:  # hint bits set now, not in the first measured run
                    _exec(conn, sql)
            else:
                for sql in [*mariadb_ddl(TABLE), "START TRANSACTION", *mariadb_fill(TABLE, rows), "COMMIT",
                            f"ALTER TABLE {TABLE} COMMENT = '{fingerprint(rows)}'", f"ANALYZE TABLE {TABLE}"]:
                    _exec(conn, sql)
            got = _count(conn)
            if got != rows:
                raise SystemExit(f"{target.engine}: {name}.{TABLE} has {got} rows after set-up, expected {rows}")
            log(f"{target.engine}: {name}.{TABLE} built in {time.perf_counter() - started:.1f} s")
    finally:
        engine.dispose()


def _exec(conn: Any, sql: str) -> None:
    """Run SQL on the DBAPI cursor without parameters, so that ``%`` is the modulo operator."""
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(sql)
        if cur.description is not None:
            cur.fetchall()
    finally:
        cur.close()


def _current_fingerprint(conn: Any, engine: str) -> str | None:
    if engine == "postgresql":
        sql = f"SELECT obj_description(to_regclass('{TABLE}'), 'pg_class')"
    else:
        sql = ("SELECT table_comment FROM information_schema.tables "
               f"WHERE table_schema = DATABASE() AND table_name = '{TABLE}'")
    row = conn.exec_driver_sql(sql).first()
    return None if row is None else row[0]


def _count(conn: Any) -> int:
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar_one())


# -- measuring one subprocess ---------------------------------------------------------------------


@dataclass
class Measurement:
    seconds: float
    cpu_seconds: float  # user + system of the measured process and its waited-for children
    peak_rss: int  # bytes; ru_maxrss of the measured process (the largest single process of its tree)
    tree_rss: int  # bytes; largest sampled sum of RSS over the process and all its descendants
    tree_pss: int = 0  # bytes; the same for PSS (shared pages divided among the processes sharing them)
    out_bytes: int = 0
    out_rows: int = 0


class TreeRssSampler(threading.Thread):
    """Samples the summed RSS of the descendants of a process (the launcher) every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self._stop_event = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        while not self._stop_event.is_set():
            tree = [p for p in self._tree() if p != self.pid]
            self.peak = max(self.peak, sum(self._rss(p) for p in tree))
            self.peak_pss = max(self.peak_pss, sum(self._pss(p) for p in tree))
            self._stop_event.wait(self.interval)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                data = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(data[data.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            pass
        return 0

    def _rss(self, pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page
        except (OSError, IndexError, ValueError):
            return 0


class RunFailed(Exception):
    pass


LAUNCHER = """\
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as fh:
    json.dump({"seconds": seconds, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kib": ru.ru_maxrss}, fh)
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Starts the measured command from a bare interpreter (``python -I -S``, about 7 MB) and reports its rusage.

Linux carries the RSS of the process that called exec over into the new program's ``ru_maxrss``;
forked straight from this script, every tool would report at least this script's own RSS
(SQLAlchemy and all, about 60 MB). Forked from the small launcher, the floor is about 7 MB."""


def run_measured(argv: Sequence[str], env: dict[str, str], stdout_path: Path | None, scratch: Path,
                 cwd: Path = ROOT) -> Measurement:
    """Run ARGV through the launcher; return its wall time, CPU time and peak RSS (``os.wait4`` of ARGV)."""
    full_env = {**os.environ, **env}
    err_path, report = scratch / "stderr.txt", scratch / "rusage.json"
    with open(err_path, "wb") as err, open(stdout_path or os.devnull, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *argv], stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL, env=full_env, cwd=cwd)
        sampler = TreeRssSampler(proc.pid)
        sampler.start()
        proc.wait()
        sampler.stop()
    if proc.returncode != 0:
        tail = err_path.read_text(errors="replace").strip().splitlines()[-3:]
        raise RunFailed(f"exit {proc.returncode}: " + " | ".join(tail))
    usage = json.loads(report.read_text())
    peak = int(usage["maxrss_kib"]) * 1024
    return Measurement(seconds=float(usage["seconds"]), cpu_seconds=float(usage["cpu"]), peak_rss=peak,
                       tree_rss=max(sampler.peak, peak), tree_pss=sampler.peak_pss)


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- the tools --------------------------------------------------------------------------------------


@dataclass
class Tool:
    """One way of getting the table out: a command, where it writes, how to count what it wrote."""

    name: str
    kind: str  # "uttrekk" | "native" | "pandas"
    engine: str
    tenth: bool
    command: Callable[[Path], tuple[list[str], dict[str, str], Path | None]]
    """scratch dir -> (argv, extra environment, file that receives stdout or None)"""
    count: Callable[[Path], tuple[int, int]]
    """scratch dir -> (bytes written, rows written)"""
    uttrekk_args: list[str] = field(default_factory=list)
    cwd: Path = ROOT
    """Working directory; for uttrekk the folder its ``extractor`` and ``dialects`` packages are imported from."""

    @property
    def label(self) -> str:
        return self.name + (" (N/10)" if self.tenth else "")


def uttrekk_tool(target: Target, name: str, args: list[str], tenth: bool, src: Path) -> Tool:
    def command(scratch: Path) -> tuple[list[str], dict[str, str], Path | None]:
        argv = [sys.executable, "-m", "extractor", "extract", target.url_text(tenth), "--out", str(scratch / "out"),
                "-q", *args]
        return argv, target.password_env("uttrekk"), None

    def count(scratch: Path) -> tuple[int, int]:
        report = json.loads((scratch / "out" / "report" / "extraction.json").read_text(encoding="utf-8"))
        return tree_size(scratch / "out"), sum(int(t["records"]) for t in report["tables"])

    return Tool(name, "uttrekk", target.engine, tenth, command, count, args, src)


def native_tool(target: Target, client: str) -> Tool:
    url = target.db_url()

    def command(scratch: Path) -> tuple[list[str], dict[str, str], Path | None]:
        dest = scratch / "sak.csv"
        if target.engine == "postgresql":
            copy = f"\\copy ({SELECT_SQL}) TO '{str(dest).replace(chr(39), chr(39) * 2)}' WITH (FORMAT csv)"
            argv = [client, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1",
                    "-p", str(url.port or 5432), "-U", url.username or "postgres", "-d", str(url.database), "-c", copy]
            return argv, {**target.password_env("psql"), "PGCLIENTENCODING": "LATIN1"}, None
        argv = [client, "--no-defaults", "--protocol=TCP", "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306),
                "-u", url.username or "root", "--default-character-set=latin1", "--batch", "--quick",
                "-e", SELECT_SQL, str(url.database)]
        return argv, target.password_env("mariadb"), dest

    def count(scratch: Path) -> tuple[int, int]:
        dest = scratch / "sak.csv"
        header = 1 if target.engine == "mariadb" else 0
        return dest.stat().st_size, count_lines(dest) - header

    return Tool(NATIVE_NAME[target.engine], "native", target.engine, False, command, count)


def pandas_tool(target: Target, chunksize: int) -> Tool:
    def command(scratch: Path) -> tuple[list[str], dict[str, str], Path | None]:
        argv = [sys.executable, str(Path(__file__).resolve()), "--pandas-worker", str(scratch / "sak.csv"),
                "--chunksize", str(chunksize)]
        url = str(target.db_url().render_as_string(hide_password=False))
        return argv, {WORKER_URL_ENV: url}, None

    def count(scratch: Path) -> tuple[int, int]:
        dest = scratch / "sak.csv"
        return dest.stat().st_size, count_lines(dest) - 1

    return Tool(f"pandas read_sql+to_csv ({chunksize:,}/chunk)", "pandas", target.engine, False, command, count)


def pandas_worker(dest: str, chunksize: int) -> None:
    """What a consultant would write: read_sql in chunks, append each chunk to one CSV file."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(os.environ[WORKER_URL_ENV])
    with open(dest, "w", encoding="iso-8859-1", newline="") as fh:
        for i, chunk in enumerate(pd.read_sql(sa.text(SELECT_SQL), engine, chunksize=chunksize)):
            chunk.to_csv(fh, index=False, header=(i == 0))
    engine.dispose()


# -- running --------------------------------------------------------------------------------------


@dataclass
class Result:
    tool: Tool
    expected_rows: int
    runs: list[Measurement] = field(default_factory=list)
    error: str | None = None

    def median(self, attr: str) -> float:
        return statistics.median(getattr(m, attr) for m in self.runs)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and self.error is None


def run_tool(tool: Tool, result: Result, tmp_root: Path, log: Callable[[str], None]) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=tmp_root))
    try:
        argv, env, stdout_path = tool.command(scratch)
        m = run_measured(argv, env, stdout_path, scratch, tool.cwd)
        m.out_bytes, m.out_rows = tool.count(scratch)
        if m.out_rows != result.expected_rows:
            raise RunFailed(f"wrote {m.out_rows} rows, expected {result.expected_rows}")
        result.runs.append(m)
        log(f"  {tool.engine:<10} {tool.label:<34} {m.seconds:7.1f} s  {m.out_rows / m.seconds:>9,.0f} rows/s  "
            f"cpu {m.cpu_seconds:6.1f} s  peak RSS {m.peak_rss / MB:7.1f} MB  tree {m.tree_rss / MB:7.1f} MB "
            f"(PSS {m.tree_pss / MB:.1f})")
    except (RunFailed, OSError, KeyError, ValueError) as exc:
        result.error = str(exc)
        log(f"  {tool.engine:<10} {tool.label:<34} FAILED: {exc}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class Profile:
    engine: str
    tool: str
    method: str
    seconds: float
    samples: int
    expected_samples: int
    top_self: list[tuple[str, int]]
    stages: list[tuple[str, int]]


WORK_KINDS = (
    ("read rows: driver and SQLAlchemy (dialects/)", re.compile(r"\((.*/)?dialects/")),
    ("render values, charset checks (values.py, charset.py)", re.compile(r"\((.*/)?extractor/(values|charset)\.py:")),
    ("scan bookkeeping (scan.py)", re.compile(r"\((.*/)?extractor/scan\.py:")),
    ("write records, SHA-256 (extract.py, writers/)", re.compile(r"\((.*/)?extractor/(extract\.py|writers/)")),
    ("describe: ADDML, XSD validation (addml.py)", re.compile(r"\((.*/)?extractor/addml\.py:")),
    ("rest of uttrekk (pipeline, plan, reports, publish)", re.compile(r"\((.*/)?(extractor|dialects)/")),
)
"""Kind of work of a sample: decided by its innermost frame in uttrekk's own code (a driver call made by
a dialect counts as reading rows; a renderer called by the scan counts as rendering)."""
IMPORTS = "imports (start-up)"
NO_UTTREKK = "no uttrekk frame (interpreter, idle threads)"
_PROCESS_FRAME = re.compile(r'^process \d+:".*?";?')
_FRAME = re.compile(r'^process \d+:".*?";?')
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::\d+)?\)$")


def _clean_frame(frame: str) -> str:
    """``func (file:line)`` -> ``file: func`` with no machine path in it."""
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    root = str(ROOT) + "/"
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif path.startswith(root):
        path = path[len(root):]
    elif re.search(r"/lib/python3\.\d+/", path):
        path = "stdlib/" + re.split(r"/lib/python3\.\d+/", path, maxsplit=1)[1]
    elif path.startswith("/"):
        path = Path(path).name
    return f"{path}: {m['func']}"


def profile_uttrekk(tool: Tool, tmp_root: Path, rate: int, log: Callable[[str], None],
                    profiler: str = "auto") -> Profile | None:
    """Sample one uttrekk run with py-spy (on-CPU samples of every thread); cProfile if py-spy is missing."""
    scratch = Path(tempfile.mkdtemp(prefix="profile-", dir=tmp_root))
    try:
        argv, env, _ = tool.command(scratch)
        spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        if profiler == "cprofile":
            spy = None
        elif profiler == "py-spy" and not spy:
            log("py-spy not found (pip install py-spy); no profile")
            return None
        raw = scratch / "profile.txt"
        if spy:
            cmd = [spy, "record", "--format", "raw", "--rate", str(rate), "--subprocesses", "-o", str(raw), "--", *argv]
            method = f"py-spy {rate} Hz, on-CPU samples"
        else:
            cmd = [sys.executable, "-m", "cProfile", "-o", str(raw), *argv[1:]]
            method = "cProfile (deterministic, inflates per-call cost)"
        log(f"profiling {tool.engine} {tool.label} with {method.split(',')[0]} ...")
        started = time.perf_counter()
        proc = subprocess.run(cmd, env={**os.environ, **env}, cwd=tool.cwd, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            log(f"  profile run failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
            return None
        if spy:
            return _read_pyspy(raw, tool, method, seconds, rate)
        return _read_cprofile(raw, tool, method, seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _work_kind(frames: list[str]) -> str:
    if any(f.startswith("_find_and_load ") for f in frames):
        return IMPORTS
    for frame in reversed(frames):
        for label, pattern in WORK_KINDS:
            if pattern.search(frame):
                return label
    return NO_UTTREKK


def _read_pyspy(raw: Path, tool: Tool, method: str, seconds: float, rate: int) -> Profile:
    own: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        stack = _PROCESS_FRAME.sub("", stack)  # py-spy --subprocesses: the command line (may hold a URL)
        frames = [f for f in stack.split(";") if f.strip()]
        if not frames:
            own["(no Python frame)"] += count
            continue
        own[_clean_frame(frames[-1])] += count
        stages[_work_kind(frames)] += count
    labels = [IMPORTS, *(label for label, _ in WORK_KINDS), NO_UTTREKK]
    stage_rows = [(label, stages[label]) for label in labels if stages[label]]
    return Profile(tool.engine, tool.label, method, seconds, total, int(seconds * rate), own.most_common(10), stage_rows)


def _read_cprofile(raw: Path, tool: Tool, method: str, seconds: float) -> Profile:
    import pstats

    stats = pstats.Stats(str(raw))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(((v[2], f"{_clean_frame(f'{k[2]} ({k[0]}:{k[1]})')}") for k, v in table.items()), reverse=True)
    ms = [(name, int(t * 1000)) for t, name in rows[:10]]
    return Profile(tool.engine, tool.label, method, seconds, int(seconds * 1000), int(seconds * 1000), ms, [])


# -- the report -----------------------------------------------------------------------------------


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def cpu_model() -> str:
    try:
        return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name")), "") or platform.processor() or "unknown"
    except OSError:
        return platform.processor() or "unknown"


def ram_text() -> str:
    try:
        kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        return "unknown"


def commit_label() -> str:
    """HEAD, and whether uttrekk's code had uncommitted changes when a benchmark ran."""
    head = _git("rev-parse", "--short", "HEAD") or "?"
    dirty = _git("status", "--porcelain", "--", "extractor", "dialects")
    return head + (" with uncommitted changes in extractor/ or dialects/" if dirty else "")


def machine_facts(targets: list[Target], commit: str, digest: str) -> list[tuple[str, str]]:
    cpu, ram = cpu_model(), ram_text()
    os_name = platform.system()
    try:
        os_name = next(line.split("=", 1)[1].strip('"') for line in Path("/etc/os-release").read_text().splitlines()
                       if line.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    facts = [("cores", str(os.cpu_count())), ("CPU", cpu), ("RAM", ram),
             ("OS", os_name), ("Python", platform.python_version())]
    for t in targets:
        try:
            facts.append((f"{t.engine} server", server_version(t)))
        except Exception as exc:  # the report still gets written
            facts.append((f"{t.engine} server", f"unknown ({type(exc).__name__})"))
    facts.append(("uttrekk commit", commit))
    facts.append(("uttrekk source digest", digest))
    facts.append(("drivers", _versions("SQLAlchemy", "psycopg", "PyMySQL", "pandas")))
    return facts


def source_digest(src: Path) -> str:
    """SHA-256 over uttrekk's own source, to tell whether the code changed while the benchmark ran."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted([*src.glob("extractor/**/*.py"), *src.glob("dialects/**/*.py")]):
        h.update(str(path.relative_to(src)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def export_ref(ref: str, dest: Path) -> str:
    """Write the ``extractor`` and ``dialects`` packages of git REF into DEST; return the short commit."""
    import io
    import tarfile

    commit = _git("rev-parse", "--short", f"{ref}^{{commit}}")
    if not commit:
        raise SystemExit(f"--ref {ref!r}: not a commit of this repository")
    data = subprocess.run(["git", "archive", "--format=tar", commit, "extractor", "dialects"], cwd=ROOT,
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return commit


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def _versions(*names: str) -> str:
    from importlib import metadata

    out = []
    for n in names:
        try:
            out.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def results_table(results: list[Result], engine: str) -> list[str]:
    native = next((r for r in results if r.tool.engine == engine and r.tool.kind == "native" and r.ok), None)
    lines = ["| tool | rows | seconds | rows/s | output MB | MB/s | CPU s | peak RSS MB | tree RSS MB | tree PSS MB "
             "| time vs native |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if r.tool.engine != engine:
            continue
        name = r.tool.label.replace("|", "\\|")
        if not r.ok:
            lines.append(f"| {name} | {r.expected_rows:,} | failed: {(r.error or '').replace('|', '/')[:200]} ||||||||")
            continue
        secs = r.median("seconds")
        spread = ""
        if len(r.runs) > 1:
            spread = f" ({min(m.seconds for m in r.runs):.1f}–{max(m.seconds for m in r.runs):.1f})"
        ratio = "" if native is None or r.tool.tenth else f"{secs / native.median('seconds'):.1f}×"
        out_mb = r.median("out_bytes") / MB
        lines.append(f"| {name} | {r.expected_rows:,} | {secs:.1f}{spread} | {_fmt(r.expected_rows / secs, 0)} | "
                     f"{out_mb:.0f} | {out_mb / secs:.1f} | {r.median('cpu_seconds'):.1f} | "
                     f"{r.median('peak_rss') / MB:.0f} | {r.median('tree_rss') / MB:.0f} | "
                     f"{r.median('tree_pss') / MB:.0f} | {ratio} |")
    return lines


def memory_table(results: list[Result], rows: int) -> tuple[list[str], list[str]]:
    lines = [f"| engine | uttrekk run | peak RSS at {rows // 10:,} rows | peak RSS at {rows:,} rows | growth | "
             f"PSS at {rows:,} rows | ≤ {MEMORY_TARGET_MB:.0f} MB at {rows:,} rows |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    verdicts = []
    for big in results:
        if big.tool.kind != "uttrekk" or big.tool.tenth:
            continue
        small = next((r for r in results if r.tool.kind == "uttrekk" and r.tool.tenth
                      and r.tool.engine == big.tool.engine and r.tool.name == big.tool.name), None)
        b = big.median("tree_rss") / MB if big.ok else None
        s = small.median("tree_rss") / MB if small is not None and small.ok else None
        growth = f"{round(b - s):+d} MB" if b is not None and s is not None else ""
        met = "" if b is None else ("met" if b <= MEMORY_TARGET_MB else "**not met**")
        pss = f"{big.median('tree_pss') / MB:.0f} MB" if big.ok else ""
        lines.append(f"| {big.tool.engine} | {big.tool.name} | {'' if s is None else f'{s:.0f} MB'} | "
                     f"{'' if b is None else f'{b:.0f} MB'} | {growth} | {pss} | {met} |")
        if b is not None:
            verdicts.append(f"{big.tool.engine} {big.tool.name}: {b:.0f} MB ({met.strip('*')})")
    return lines, verdicts


STATIC_DISCUSSION = """\
## What uttrekk does that the native tools do not

The native tools copy text the server has already formatted. uttrekk makes an archival extract,
and the time ratio above is the price of that:

- **Every value is checked** for the archive: each character against the output charset (with
  table, column and row key for every one that does not fit), each value against its declared type,
  lengths for `maxLength` and fixed width, long texts and binary values, code lists. Whether this
  costs a second pass over the data depends on the version measured: older versions scanned every
  table in a separate pre-flight pass before writing (the server sorted and sent each table twice);
  newer ones scan while writing and write a table again only when its data change how it must be
  written (fixed width is always scanned first). The profile below shows which one ran.
- **Values are rendered in Python**, one by one, by strict renderers (`extractor/values.py`) that
  refuse rather than coerce, instead of the server's own text output.
- **SHA-256 and counts** of every file while it is written, `addml.xml` (validated against the
  bundled XSD), `addml.xsd` and the reports; the extract is built in a staging folder and renamed
  into place, so a failed run leaves nothing that looks finished.

The native routes check nothing. Tried on a value holding `Č` and an en dash: `psql` with a Latin-1
client encoding stops at the first such character ("has no equivalent in encoding LATIN1");
`mariadb --default-character-set=latin1` writes `?` for `Č` and byte 0x96 for the en dash (MariaDB's
`latin1` is Windows-1252; in ISO-8859-1 that byte is a control character), exit code 0 and no word
about it; pandas `to_csv(encoding="iso-8859-1")` raises `UnicodeEncodeError` after writing the
chunks before it. The bench table holds only Latin-1 letters, so all of them succeed here.
"""

HOW_MEASURED = """\
## How it is measured

- Each tool runs as its own subprocess, started by a bare launcher (`python -I -S`, about 7 MB)
  that forks it, waits with `os.wait4` and reports: wall time from start to exit, CPU = user +
  system time of that process (and any children it waited for), and **peak RSS** = its
  `ru_maxrss`, i.e. the largest single process of the tool: the `psql` / `mariadb` client, the
  Python process of uttrekk or of the pandas script. (Linux keeps the RSS of the process that
  called exec in `ru_maxrss`; hence the small launcher, and a floor of about 7 MB.) **tree RSS** is
  the largest sum of RSS over the tool's process and all its descendants, sampled every 0.1 s; it
  differs from peak RSS only for tools that start worker processes, and it is an upper bound
  there, since every process counts the shared libraries again. **tree PSS** is the same sum of
  proportional set sizes (`/proc/PID/smaps_rollup`), which splits shared pages among the processes
  (sampled, so it can miss a short peak). The database server's own work is in the wall time but
  not in CPU or RSS; it runs on the same 2 cores.
- Everything writes ISO-8859-1: uttrekk by default; `psql` with `PGCLIENTENCODING=LATIN1` (the
  server converts); `mariadb --default-character-set=latin1`; pandas with `encoding="iso-8859-1"`.
  Every tool reads `SELECT id, tittel, merknad, belop, dato, registrert, aktiv, kode FROM sak ORDER
  BY id` (uttrekk builds the same query from the primary key). Each output is deleted after its
  run, and its rows are counted to check that the whole table was written.
- The pandas script is `pd.read_sql(sql, engine, chunksize=...)` with a plain SQLAlchemy engine
  and `chunk.to_csv(fh, header=first)`: the usual way it is written. `read_sql` does not ask for a
  server-side cursor, so the driver holds the whole result in the client; that is where its
  memory goes, not in the chunks.
- One warm-up run of the native tool per engine precedes the measured runs, so the table is in
  the server's cache for all tools. MB = 10^6 bytes. With `--repeat K` every figure is the
  median of K runs (the seconds column shows the range); the tools take turns in each round.
"""


IMPORTS_ONLY = {
    "postgresql": "import extractor.cli, extractor.pipeline, dialects.postgresql, psycopg, "
                  "sqlalchemy.dialects.postgresql.psycopg, lxml.etree",
    "mariadb": "import extractor.cli, extractor.pipeline, dialects.mysql, pymysql, sqlalchemy.dialects.mysql.pymysql, lxml.etree",
}
"""What an uttrekk run on each engine loads before it reads a row: uttrekk's memory floor."""


def render_report(args: argparse.Namespace, targets: list[Target], results: list[Result],
                  profiles: list[Profile], facts: list[tuple[str, str]], notes: str,
                  baselines: dict[str, Measurement] | None = None) -> str:
    today = dt.date.today().isoformat()
    cmd = "python bench/extract_bench.py " + " ".join(shlex.quote(a) for a in args.argv_for_doc)
    out = ["# Performance", "",
           f"Generated by `bench/extract_bench.py` on {today} (`{cmd.strip()}`). Rerun it to refresh the numbers;",
           "text between the notes markers below is kept. Machines are shared and noisy: compare the tools",
           "within one run, as ratios.", "",
           "## Machine", "", "| | |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in facts]
    out += ["", f"Table `sak`: {args.rows:,} rows of 8 columns (integer key, varchar(100) with æøå, nullable text, "
            "numeric(12,2), date, timestamp(6), boolean, varchar(4) code); the same values on both engines. "
            f"Runs per tool: {args.repeat} (median).", ""]
    for t in targets:
        out += [f"## {t.engine}", ""] + results_table(results, t.engine) + [""]
    mem_lines, verdicts = memory_table(results, args.rows)
    out += ["## Memory: uttrekk does not grow with the table", "",
            f"Peak RSS (tree RSS: summed over uttrekk's processes) at a tenth of the rows and at all rows. Target: "
            f"≤ {MEMORY_TARGET_MB:.0f} MB at {DEFAULT_ROWS:,} rows, judged on tree RSS, which counts pages that "
            "processes share (libraries) once per process; PSS divides them among the sharers.", ""] + mem_lines + [""]
    if verdicts:
        out += ["Memory target: " + "; ".join(verdicts) + ".", ""]
    if baselines:
        floors = ", ".join(f"{e} {m.peak_rss / MB:.0f} MB" for e, m in baselines.items())
        out += ["For scale, a Python process that only imports what uttrekk loads for the engine (its own modules, "
                f"SQLAlchemy, the driver, lxml) and reads no row peaks at: {floors}.", ""]
    if args.rows != DEFAULT_ROWS:
        out += [f"(This run used {args.rows:,} rows, not the target's {DEFAULT_ROWS:,}.)", ""]
    out += ["## Where uttrekk's time goes", ""]
    if not profiles:
        out += ["No profile in this run (`--no-profile`, or the profiled run failed).", ""]
    for p in profiles:
        if p.method.startswith("cProfile"):
            out += [f"### {p.engine}: {p.tool}", "",
                    f"{p.method}; the run took {p.seconds:.1f} s under the profiler. Top 10 functions by own time "
                    "(milliseconds, in the table's 'own samples' column):", "",
                    "| function | own samples | share |", "| --- | ---: | ---: |"]
            out += [f"| `{name}` | {n:,} | {100 * n / max(p.samples, 1):.1f}% |" for name, n in p.top_self]
            out += [""]
            continue
        share = f"{100 * p.samples / p.expected_samples:.0f}%" if p.expected_samples else "?"
        out += [f"### {p.engine}: {p.tool}", "",
                f"{p.method}; the run took {p.seconds:.1f} s under the profiler. {p.samples:,} on-CPU samples "
                f"(all threads and processes of the run) against {p.expected_samples:,} for one core busy all the "
                f"time: {share}. Below 100%, uttrekk waits for the server or the disk; above, it uses more than "
                "one core.", ""]
        if p.stages:
            out += ["Samples by kind of work (the innermost frame in uttrekk's own code decides):", "",
                    "| work | samples | share |", "| --- | ---: | ---: |"]
            out += [f"| {name} | {n:,} | {100 * n / max(p.samples, 1):.0f}% |" for name, n in p.stages]
            out += [""]
        out += ["Top 10 functions by own time (samples whose innermost frame is the function):", "",
                "| function | own samples | share |", "| --- | ---: | ---: |"]
        out += [f"| `{name}` | {n:,} | {100 * n / max(p.samples, 1):.1f}% |" for name, n in p.top_self]
        out += [""]
    out += [HOW_MEASURED, STATIC_DISCUSSION, "## Notes", "", NOTES_START, notes.strip("\n"), NOTES_END, ""]
    return "\n".join(out)


def existing_notes(path: Path | None) -> str:
    default = "(Hand-written observations about a run go here; the script keeps this block when it rewrites the file.)"
    if path is None or not path.exists():
        return default
    text = path.read_text(encoding="utf-8")
    if NOTES_START in text and NOTES_END in text:
        return text.split(NOTES_START, 1)[1].split(NOTES_END, 1)[0]
    return default


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def with_kept_sections(text: str, path: Path | None) -> str:
    """``text`` with the existing file's sections owned by other benchmarks added at the end."""
    if path is None or not path.exists():
        return text
    old = path.read_text(encoding="utf-8")
    for name, title in SECTIONS.items():
        start, end = markers(name)
        if start in old and end in old:
            block = old.split(start, 1)[1].split(end, 1)[0]
            text = text.rstrip("\n") + f"\n\n## {title}\n\n{start}{block}{end}\n"
    return text


def measured_or_exit(argv: list[str], env: dict[str, str], scratch: Path, what: str,
                     log: Callable[[str], None]) -> Measurement:
    """One measured run of a command (``run_measured``, output discarded) that stops the benchmark
    when the command fails, and logs its time and peak memory."""
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        m = run_measured(argv, env, None, scratch)
    except RunFailed as exc:
        raise SystemExit(f"{what} failed: {exc}") from None
    log(f"{what}: {m.seconds:.1f} s, peak RSS {m.peak_rss / MB:.0f} MB")
    return m


def pg_bench_parser(doc: str, block: str) -> argparse.ArgumentParser:
    """The options of a benchmark on the PostgreSQL bench table alone: ``--rows``, ``--pg-url``, ``--out``
    (``block``: what it writes, in the ``--out`` help)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n", 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the bench table (default 2 000 000)")
    p.add_argument("--pg-url", default=os.environ.get(URL_ENV["postgresql"], DEFAULT_URLS["postgresql"]),
                   help="the bench database (SQLAlchemy URL; default the local test server's uttrekk_bench)")
    p.add_argument("--out", default="docs/performance.md", help=f"file to write {block} into ('-' = print only)")
    return p


def publish_section(out: str, name: str, block: str, log: Callable[[str], None]) -> None:
    """Print a benchmark's section and, unless ``out`` is '-', write it into that file (relative to the repo)."""
    print(block)
    if out in ("-", ""):
        return
    path = Path(out) if Path(out).is_absolute() else ROOT / out
    write_section(path, name, block)
    log(f"wrote the {name} block of {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def write_section(path: Path, name: str, block: str) -> None:
    """Replace the text between one section's markers in performance.md (added at the end if absent)."""
    start, end = markers(name)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + start + "\n" + block + end + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {SECTIONS[name]}\n\n{start}\n{block}{end}\n"
    path.write_text(text, encoding="utf-8")


# -- main -----------------------------------------------------------------------------------------


def parse_variant(spec: str, engines: list[str]) -> tuple[list[str], str, list[str]]:
    """``[ENGINE:]NAME=ARGS`` -> (engines, name, args)."""
    left, sep, argtext = spec.partition("=")
    if not sep or not left:
        raise SystemExit(f"--variant {spec!r}: expected [ENGINE:]NAME=ARGS, e.g. 'postgresql:jobs2=--jobs 2'")
    engine, colon, name = left.partition(":")
    if not colon:
        engine, name = "", left
    if engine and engine not in DEFAULT_URLS:
        raise SystemExit(f"--variant {spec!r}: unknown engine {engine!r}")
    return ([engine] if engine else engines), name, shlex.split(argtext)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the bench table (default 2 000 000)")
    p.add_argument("--engines", default="postgresql,mariadb", help="comma-separated: postgresql, mariadb")
    p.add_argument("--uttrekk-args", default="", help="extra arguments for every uttrekk run, e.g. '--jobs 2'")
    p.add_argument("--variant", action="append", default=[], metavar="[ENGINE:]NAME=ARGS",
                   help="another uttrekk run with these arguments added (repeatable), e.g. 'postgresql:jobs2=--jobs 2'")
    p.add_argument("--repeat", type=int, default=1, help="runs per tool; the report shows medians")
    p.add_argument("--out", default="docs/performance.md", help="report to write ('-' = print only)")
    p.add_argument("--pg-url", default=os.environ.get(URL_ENV["postgresql"], DEFAULT_URLS["postgresql"]),
                   help=f"SQLAlchemy URL of the PostgreSQL bench database (${URL_ENV['postgresql']}; "
                        "default: the local test server)")
    p.add_argument("--mariadb-url", default=os.environ.get(URL_ENV["mariadb"], DEFAULT_URLS["mariadb"]),
                   help=f"SQLAlchemy URL of the MariaDB bench database (${URL_ENV['mariadb']}; "
                        "default: the local test server)")
    p.add_argument("--chunksize", type=int, default=50_000, help="pandas read_sql chunk size")
    p.add_argument("--skip", default="", help="comma-separated parts to leave out: native, pandas, tenth, profile")
    p.add_argument("--profiler", choices=("auto", "py-spy", "cprofile"), default="auto",
                   help="how to profile one uttrekk run (auto: py-spy if installed, else cProfile)")
    p.add_argument("--profile-rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--tmpdir", default=None, help="where the outputs go while a run lasts (default: system temp)")
    p.add_argument("--ref", default=None,
                   help="run uttrekk as of this git commit (exported to the temp folder) instead of the working tree")
    p.add_argument("--setup-only", action="store_true", help="create or check the bench databases, run nothing")
    p.add_argument("--pandas-worker", metavar="FILE", help=argparse.SUPPRESS)
    return p


def doc_argv(raw: list[str]) -> list[str]:
    """The command line as the report shows it: without URLs (they may carry passwords) or temp paths."""
    hidden = ("--pg-url", "--mariadb-url", "--tmpdir")
    out: list[str] = []
    skip_next = False
    for a in raw:
        if skip_next:
            skip_next = False
        elif a in hidden:
            skip_next = True
        elif out and out[-1] == "--out" and Path(a).is_absolute():
            out.append("FILE")
        elif not a.startswith(tuple(h + "=" for h in hidden)) and "://" not in a:
            out.append(a)
    return out


def main(argv: list[str] | None = None) -> int:
    raw_args = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(raw_args)
    if args.pandas_worker:
        pandas_worker(args.pandas_worker, args.chunksize)
        return 0
    args.argv_for_doc = doc_argv(raw_args)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in DEFAULT_URLS:
            raise SystemExit(f"unknown engine {e!r} (postgresql, mariadb)")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    urls = {"postgresql": args.pg_url, "mariadb": args.mariadb_url}
    targets = [make_target(e, urls[e]) for e in engines]
    base_args = shlex.split(args.uttrekk_args)
    variants = [parse_variant(v, engines) for v in args.variant]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    clients = {"postgresql": shutil.which("psql"), "mariadb": shutil.which("mariadb") or shutil.which("mysql")}
    with tempfile.TemporaryDirectory(prefix="uttrekk-bench-", dir=args.tmpdir) as tmp:
        tmp_root = Path(tmp)
        if args.ref:
            src = tmp_root / "src"
            commit = export_ref(args.ref, src)
            commit_fact = f"{commit} (`--ref {args.ref}`: exported from git, independent of the working tree)"
            log(f"uttrekk from commit {commit}")
        else:
            src = ROOT
            commit = _git("rev-parse", "--short", "HEAD") or "unknown"
            dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "extractor", "dialects")
            commit_fact = commit + (" + uncommitted changes in extractor/ or dialects/ (working tree)" if dirty else "")

        tools: list[Tool] = []
        for t in targets:
            ensure_database(t, False, args.rows, log)
            if "tenth" not in skip:
                ensure_database(t, True, args.rows // 10, log)
            client = clients[t.engine]
            if "native" not in skip:
                if client:
                    tools.append(native_tool(t, client))
                else:
                    log(f"{t.engine}: no native client on PATH, skipped")
            uttrekk_runs = [("uttrekk", base_args)]
            uttrekk_runs += [(f"uttrekk {name}", base_args + vargs) for ves, name, vargs in variants if t.engine in ves]
            for name, uargs in uttrekk_runs:
                tools.append(uttrekk_tool(t, name, uargs, False, src))
            if "pandas" not in skip:
                tools.append(pandas_tool(t, args.chunksize))
            if "tenth" not in skip:
                for name, uargs in uttrekk_runs:
                    tools.append(uttrekk_tool(t, name, uargs, True, src))
        if args.setup_only:
            return 0

        load_start, digest_start = load_average(), source_digest(src)
        results = [Result(tool, args.rows // 10 if tool.tenth else args.rows) for tool in tools]
        baselines: dict[str, Measurement] = {}
        profiles: list[Profile] = []
        for t in targets:
            native = next((x for x in tools if x.engine == t.engine and x.kind == "native"), None)
            if native is not None:
                log(f"{t.engine}: warm-up run of {native.name}")
                run_tool(native, Result(native, args.rows), tmp_root, lambda _msg: None)
        for round_no in range(args.repeat):
            log(f"round {round_no + 1} of {args.repeat}")
            for r in results:
                if r.error is None:
                    run_tool(r.tool, r, tmp_root, log)
        for t in targets:
            try:
                scratch = Path(tempfile.mkdtemp(prefix="imports-", dir=tmp_root))
                baselines[t.engine] = run_measured([sys.executable, "-c", IMPORTS_ONLY[t.engine]], {}, None, scratch, src)
                log(f"{t.engine}: imports only: peak RSS {baselines[t.engine].peak_rss / MB:.1f} MB")
            except RunFailed as exc:
                log(f"{t.engine}: imports only: failed: {exc}")
        if "profile" not in skip:
            for t in targets:
                first = next((r for r in results if r.tool.engine == t.engine and r.tool.kind == "uttrekk"
                              and not r.tool.tenth and r.ok), None)
                if first is not None:
                    prof = profile_uttrekk(first.tool, tmp_root, args.profile_rate, log, args.profiler)
                    if prof is not None:
                        profiles.append(prof)
        digest_end = source_digest(src)

    out_path = None if args.out in ("-", "") else (ROOT / args.out if not Path(args.out).is_absolute() else Path(args.out))
    same = "unchanged during the run" if digest_end == digest_start else \
        f"**changed during the run** ({digest_start} at the start): the runs may not all measure the same code"
    facts = machine_facts(targets, commit_fact, f"{digest_end}, {same}")
    facts.insert(5, ("load average (1 min)", f"{load_start} at the start, {load_average()} at the end "
                     "(the benchmark itself keeps one or two cores busy)"))
    text = with_kept_sections(
        render_report(args, targets, results, profiles, facts, existing_notes(out_path), baselines), out_path)
    print(text)
    if out_path is not None:
        out_path.write_text(text, encoding="utf-8")
        log(f"wrote {out_path.relative_to(ROOT) if out_path.is_relative_to(ROOT) else out_path}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
