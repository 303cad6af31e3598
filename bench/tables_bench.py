"""Many tables: time, peak memory and locks held by ``uttrekk extract`` as the table count grows.

Issue 15 ("Scale by table count"): one snapshot transaction over thousands of PostgreSQL tables
held a lock on each and ran the server's lock table out ("out of shared memory" at table 6,606
of 8,000), and memory grew some 40-60 KB per table. Run it from the repository root with the
project's venv::

    .venv/bin/python bench/tables_bench.py                                   # -> docs/performance.md
    .venv/bin/python bench/tables_bench.py --counts 1000 --before '' --out -  # quick look, print only

What it does:

1. Creates (once; reused while the marker matches) ``uttrekk_bench_tables_N`` on PostgreSQL with N
   small tables ``tNNNNN`` (integer key, varchar(40), numeric(10,2), date; 5 rows each, so each has
   a table and an index to lock), in batches of 200 per transaction; with ``--mariadb-counts`` the
   same on MariaDB (InnoDB).
2. Runs ``python -m extractor extract URL --out DIR -q`` for the working tree and, with
   ``--before REF`` (default ``main``, exported from git), for that code (``--after REF``: the
   code measured as after, exported the same way), through the bare launcher
   of ``bench/extract_bench.py`` (wall and CPU time, peak RSS from ``os.wait4``). Meanwhile a thread
   asks ``pg_locks`` every 0.2 s how many relation locks each session on the database holds (the
   largest per session and the largest sum); MariaDB has no such view without performance_schema.
3. Times reflection alone (``reflect`` of the working tree, in a process of its own) and counts
   the catalogue queries it sends, to show it does not make a round trip per table.
4. Writes a results block into ``--out`` (default docs/performance.md) between
   ``<!-- many-tables:start -->`` and ``<!-- many-tables:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_bench import RunFailed, export_ref, load_average, publish_section, run_measured  # noqa: E402
from validate_bench import machine_table  # noqa: E402

MB = 1_000_000
MARKER = "uttrekk tables bench v1"
PG_ADMIN = os.environ.get("UTTREKK_BENCH_PG_ADMIN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL = os.environ.get("UTTREKK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}")
MARIADB_URL = os.environ.get("UTTREKK_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/{db}?charset=utf8mb4")


def log(msg: str) -> None:
    print(f"tables-bench: {msg}", file=sys.stderr, flush=True)


def db_name(n: int) -> str:
    return f"uttrekk_bench_tables_{n}"


# -- the databases --------------------------------------------------------------------------------


def ensure_pg(n: int) -> None:
    import psycopg

    name = db_name(n)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        row = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                            (name,)).fetchone()
        if row is not None and row[0] == f"{MARKER} {n}":
            return
        log(f"creating {name} ({n} tables)")
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={name}"), autocommit=True) as conn:
        for start in range(1, n + 1, 200):  # each CREATE takes locks until its transaction ends
            conn.execute(f"""DO $$ BEGIN FOR i IN {start}..{min(n, start + 199)} LOOP
              EXECUTE format('CREATE TABLE t%s (id integer PRIMARY KEY, navn varchar(40) NOT NULL, '
                             'belop numeric(10,2), dato date)', lpad(i::text, 5, '0'));
              EXECUTE format('INSERT INTO t%s SELECT g, %L || g, g * 1.25, DATE %L + g FROM generate_series(1, 5) g',
                             lpad(i::text, 5, '0'), 'navn ', '2020-01-01');
              END LOOP; END $$""")
        conn.execute(f"COMMENT ON DATABASE {name} IS '{MARKER} {n}'")


def ensure_mariadb(n: int) -> None:
    import pymysql

    name = db_name(n)
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
        row = cur.fetchone()
        if row is not None and row[0] == f"{MARKER} {n}":
            return
        log(f"creating {name} on MariaDB ({n} tables)")
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        cur.execute(f"USE {name}")
        for i in range(1, n + 1):
            cur.execute(f"CREATE TABLE t{i:05d} (id int PRIMARY KEY, navn varchar(40) NOT NULL, belop decimal(10,2), "
                        "dato date) ENGINE=InnoDB")
            cur.execute(f"INSERT INTO t{i:05d} SELECT seq, CONCAT('navn ', seq), seq * 1.25, DATE '2020-01-01' + "
                        "INTERVAL seq DAY FROM seq_1_to_5")
        cur.execute(f"ALTER DATABASE {name} COMMENT '{MARKER} {n}'")  # last: a half-made database is made again
    finally:
        conn.close()


# -- measuring ------------------------------------------------------------------------------------


class LockSampler(threading.Thread):
    """Relation locks held by the sessions on one PostgreSQL database, sampled every ``interval`` s."""

    def __init__(self, database: str, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.database, self.interval = database, interval
        self.most_one = self.most_all = self.sessions = self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            while not self._stop_event.is_set():
                held = [r[0] for r in conn.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE a.datname = %s AND l.locktype = 'relation' GROUP BY l.pid", (self.database,))]
                self.most_one = max([self.most_one, *held])
                self.most_all = max(self.most_all, sum(held))
                self.sessions = max(self.sessions, len(held))
                self.samples += 1
                self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Row:
    engine: str
    code: str
    tables: int
    seconds: float = 0.0
    cpu: float = 0.0
    rss: int = 0
    locks_one: int | None = None
    locks_all: int | None = None
    error: str = ""
    session: str = ""
    snapshot: dict[str, object] = field(default_factory=dict)


def run_uttrekk(engine: str, n: int, code: str, src: Path, scratch: Path) -> Row:
    url = (PG_URL if engine == "postgresql" else MARIADB_URL).format(db=db_name(n))
    out = scratch / "out"
    argv = [sys.executable, "-m", "extractor", "extract", url, "--out", str(out), "-q", "--date", "2026-01-31"]
    sampler = LockSampler(db_name(n)) if engine == "postgresql" else None
    row = Row(engine, code, n)
    if sampler:
        sampler.start()
    try:
        m = run_measured(argv, {}, None, scratch, cwd=src)
        row.seconds, row.cpu, row.rss = m.seconds, m.cpu_seconds, m.peak_rss
        report = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))
        if len(report["tables"]) != n:
            raise RunFailed(f"{len(report['tables'])} tables in the report, not {n}")
        row.session, row.snapshot = report.get("session", ""), report.get("snapshot", {})
    except RunFailed as exc:
        row.error = str(exc)
    finally:
        if sampler:
            sampler.stop()
            row.locks_one, row.locks_all = sampler.most_one, sampler.most_all
        subprocess.run(["rm", "-rf", str(out)], check=False)
    log(f"{engine} {n} tables, {code}: {row.seconds:.1f} s, {row.rss / MB:.0f} MB, locks {row.locks_one}/"
        f"{row.locks_all} {row.error[:200]}")
    return row


REFLECT = """
import json, sys, time
import sqlalchemy as sa
from dialects import open_source
queries = []
d = open_source(sys.argv[1])
sa.event.listen(d.engine, "before_cursor_execute", lambda *a, **k: queries.append(1))
started = time.perf_counter()
schema = d.reflect()
print(json.dumps({"seconds": time.perf_counter() - started, "tables": len(schema.tables), "queries": len(queries)}))
d.close()
"""


def time_reflection(engine: str, n: int, src: Path) -> dict[str, float]:
    url = (PG_URL if engine == "postgresql" else MARIADB_URL).format(db=db_name(n))
    done = subprocess.run([sys.executable, "-c", REFLECT, url], cwd=src, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- the report -----------------------------------------------------------------------------------


def overhead(rows: list[Row], engine: str, code: str) -> str:
    ok = sorted((r for r in rows if r.engine == engine and r.code == code and not r.error), key=lambda r: r.tables)
    if len(ok) < 2:
        return ""
    lo, hi = ok[0], ok[-1]
    per_kb = (hi.rss - lo.rss) / (hi.tables - lo.tables) / 1000
    per_ms = (hi.seconds - lo.seconds) / (hi.tables - lo.tables) * 1000
    return (f"{engine}, {code}: {per_kb:.1f} KB and {per_ms:.1f} ms per table "
            f"(from {lo.tables:,} to {hi.tables:,} tables)")


def render(args: argparse.Namespace, rows: list[Row], reflections: list[tuple[str, int, dict[str, float]]],
           load: tuple[str, str], before: str) -> str:
    lines = [f"Generated by `bench/tables_bench.py` on {dt.date.today().isoformat()} "
             f"(`python bench/tables_bench.py {' '.join(shlex.quote(a) for a in args.raw)}`); rerun it to refresh "
             "this block.", "",
             "Input: N tables of 5 rows each (integer key, varchar(40), numeric(10,2), date), so every table "
             "is a table and an index to lock. Command: `python -m extractor extract URL --out DIR -q`, peak RSS "
             "from `os.wait4` through the bare launcher of `bench/extract_bench.py`. Locks: the most relation "
             "locks one session on the database held, and all of them together, asked of `pg_locks` every 0.2 s "
             "during the run. All rows come from this one run on this machine.", "",
             *machine_table(load, "after", getattr(args, "after_commit", "") or f"working tree ({_head()})"), ""]
    if before:
        lines += [f"before: `{args.before}` ({before}) exported from git.", ""]
    lines += ["| engine | code | tables | seconds | CPU s | peak RSS MB | locks, one session | locks, all | result |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        result = "failed: " + r.error.replace("|", "/")[:160] if r.error else (
            f"{r.snapshot.get('reading_transactions', 1)} reading transaction(s)" if r.snapshot.get(
                "reading_transactions") else ("one transaction" if r.snapshot else "ok"))
        locks = (str(r.locks_one), str(r.locks_all)) if r.locks_one is not None else ("n/a", "n/a")
        lines.append(f"| {r.engine} | {r.code} | {r.tables:,} | {r.seconds:.1f} | {r.cpu:.1f} | "
                     f"{r.rss / MB:.0f} | {locks[0]} | {locks[1]} | {result} |")
    lines.append("")
    slopes = [s for engine in ("postgresql", "mariadb") for code in ("before", "after") if (s := overhead(rows, engine, code))]
    if slopes:
        lines += ["Per-table overhead (slope between the smallest and the largest run that finished):", ""]
        lines += [f"- {s}" for s in slopes]
        lines.append("")
    if reflections:
        lines += ["Reflection alone (the after code, `Dialect.reflect()` in a process of its own, statements counted "
                  "with SQLAlchemy's `before_cursor_execute`):", "",
                  "| engine | tables | seconds | statements |", "| --- | ---: | ---: | ---: |"]
        lines += [f"| {e} | {n:,} | {r['seconds']:.1f} | {int(r['queries'])} |" for e, n, r in reflections]
        lines.append("")
    return "\n".join(lines)


def _head() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return head.strip() or "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,6000,20000", help="PostgreSQL table counts (comma-separated)")
    parser.add_argument("--mariadb-counts", default="1000", help="MariaDB table counts ('' for none)")
    parser.add_argument("--before", default="main", help="git ref measured as 'before' ('' for none)")
    parser.add_argument("--after", default="", help="git ref measured as 'after' (default: the working tree)")
    parser.add_argument("--before-counts", default="1000,6000", help="PostgreSQL counts run with --before")
    parser.add_argument("--out", default="docs/performance.md", help="file to write the block into; '-' prints only")
    args = parser.parse_args(argv)
    args.raw = argv if argv is not None else sys.argv[1:]
    counts = [int(x) for x in args.counts.split(",") if x]
    maria = [int(x) for x in args.mariadb_counts.split(",") if x]
    before_counts = {int(x) for x in args.before_counts.split(",") if x}
    load_start = load_average()
    rows: list[Row] = []
    reflections: list[tuple[str, int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="uttrekk-tables-bench-") as tmp:
        scratch = Path(tmp)
        before = export_ref(args.before, scratch / "before") if args.before else ""
        after_src = ROOT
        if args.after:  # edits made to the working tree while it runs do not mix into its numbers
            args.after_commit = export_ref(args.after, scratch / "after")
            after_src = scratch / "after"

        def publish() -> None:  # after every run, so that a long run's numbers are kept if a later one is stopped
            block = render(args, rows, reflections, (load_start, load_average()), before)
            publish_section(args.out, "many-tables", block + "\n", log)

        for n in maria:
            ensure_mariadb(n)
            reflections.append(("mariadb", n, time_reflection("mariadb", n, after_src)))
            rows.append(run_uttrekk("mariadb", n, "after", after_src, scratch))
            publish()
        for n in counts:
            ensure_pg(n)
            reflections.append(("postgresql", n, time_reflection("postgresql", n, after_src)))
            if before and n in before_counts:
                rows.append(run_uttrekk("postgresql", n, "before", scratch / "before", scratch))
                publish()
            rows.append(run_uttrekk("postgresql", n, "after", after_src, scratch))
            publish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
