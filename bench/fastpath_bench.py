"""The fast path (the server renders each value, ``[output] rendering = "server"``, the default)
against the exact path (``rendering = "exact"``) and the engines' own export tools, in one run.

Run it from the repository root with the project's venv::

    .venv/bin/python bench/fastpath_bench.py                  # everything -> docs/performance.md
    .venv/bin/python bench/fastpath_bench.py --repeat 1 --skip shapes,10m --out -   # quick look

What it does:

1. Reuses (or makes) the bench databases of ``bench/extract_bench.py`` (table ``sak``, 2,000,000
   rows of 8 columns) on PostgreSQL and MariaDB, and copies PostgreSQL's rows into a SQLite file
   (``--sqlite``; dates and timestamps as text, the amount as REAL, as SQLite holds them).
2. Per engine: the native tool (``psql \\copy (SELECT …) TO … csv`` with a LATIN1 client encoding,
   ``mariadb --batch --quick``, ``sqlite3 -csv``), ``uttrekk extract`` (fast path where the engine
   has one) and ``uttrekk extract`` with ``rendering = "exact"``, ``--repeat`` times each in turn;
   medians, and the time of each against the native tool's median.
3. On PostgreSQL also (``shapes``, one database ``<bench>_shapes``): a 100-column table, a table of
   long texts (1,500 characters, below the long-text limit), a LOB-heavy table (texts over the
   limit, which go to files and so take the exact path), and two tables of 1,000,000 rows with
   ``--jobs 2``; and (``10m``) the 10,000,000-row table ``sak`` in ``<bench>_10m``.
4. Every run must write every row (its extraction.json or the native file's lines). Wall time, CPU
   and peak RSS come from ``os.wait4`` through the launcher of ``bench/extract_bench.py``; tree RSS is
   sampled over the process tree (``--jobs`` workers). The load average before and after is reported:
   the machine may be shared. The block goes into ``--out`` between ``<!-- fastpath:start -->`` and
   ``<!-- fastpath:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_bench import (  # noqa: E402
    COLUMNS,
    DEFAULT_URLS,
    SELECT_SQL,
    TABLE,
    Measurement,
    RunFailed,
    Target,
    _exec,
    commit_label,
    count_lines,
    ensure_database,
    load_average,
    make_target,
    pg_ddl,
    pg_fill,
    publish_section,
    run_measured,
    server_version,
)

MB = 1_000_000
EXACT_PROFILE = '[output]\nrendering = "exact"\n'


@dataclass
class Case:
    """One table (or pair of tables) and the tools run on it."""

    title: str
    rows: int
    tools: list[tuple[str, Callable[[Path], tuple[list[str], dict[str, str], Path | None]],
                      Callable[[Path], int]]] = field(default_factory=list)
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)


def uttrekk(source: str, tables: list[str], exact: bool, extra: list[str] = ()):  # type: ignore[assignment]
    def command(scratch: Path) -> tuple[list[str], dict[str, str], Path | None]:
        argv = [sys.executable, "-m", "extractor", "extract", source, "--out", str(scratch / "out"), "-q",
                "--date", "2026-01-31", *[a for t in tables for a in ("--table", t)], *extra]
        if exact:
            (scratch / "exact.toml").write_text(EXACT_PROFILE, encoding="utf-8")
            argv += ["--profile", str(scratch / "exact.toml")]
        return argv, {}, None

    return command


def uttrekk_rows(scratch: Path) -> int:
    report = json.loads((scratch / "out" / "report" / "extraction.json").read_text(encoding="utf-8"))
    paths = {t["table"]: t.get("rendering", "") for t in report["tables"] if "rendering" in t}
    (scratch / "paths.json").write_text(json.dumps(paths))
    return sum(int(t["records"]) for t in report["tables"] if "rendering" in t)


def psql(target: Target, database: str, sql: str):  # type: ignore[no-untyped-def]
    url = target.url

    def command(scratch: Path) -> tuple[list[str], dict[str, str], Path | None]:
        copy = f"\\copy ({sql}) TO '{scratch / 'out.csv'}' WITH (FORMAT csv)"
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                "-U", url.username or "postgres", "-d", database, "-c", copy], {"PGCLIENTENCODING": "LATIN1"}, None

    return command


def csv_rows(header: int = 0) -> Callable[[Path], int]:
    def count(scratch: Path) -> int:
        return count_lines(scratch / "out.csv") - header
    return count


def mariadb(target: Target):  # type: ignore[no-untyped-def]
    url = target.url

    def command(scratch: Path) -> tuple[list[str], dict[str, str], Path | None]:
        return ["mariadb", "--no-defaults", "--protocol=TCP", "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306),
                "-u", url.username or "root", "--default-character-set=latin1", "--batch", "--quick", "-e", SELECT_SQL,
                str(url.database)], {}, scratch / "out.csv"

    return command


def sqlite_native(path: Path):  # type: ignore[no-untyped-def]
    def command(scratch: Path) -> tuple[list[str], dict[str, str], Path | None]:
        return ["sqlite3", "-csv", str(path), SELECT_SQL], {}, scratch / "out.csv"
    return command


# -- databases ----------------------------------------------------------------------------------------


def ensure_sqlite(target: Target, path: Path, rows: int, log: Callable[[str], None]) -> None:
    """The bench rows in a SQLite file, as an application would have stored them there."""
    if path.exists():
        con = sqlite3.connect(path)
        try:
            if con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] == rows:
                log(f"sqlite: {path} has {rows:,} rows, reused")
                return
        except sqlite3.Error:
            pass
        finally:
            con.close()
        path.unlink()
    import psycopg

    log(f"sqlite: copying {rows:,} rows into {path} ...")
    url = target.url
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, tittel VARCHAR(100) NOT NULL, merknad TEXT, "
                "belop NUMERIC(12,2) NOT NULL, dato DATE NOT NULL, registrert TIMESTAMP NOT NULL, "
                "aktiv BOOLEAN NOT NULL, kode VARCHAR(4) NOT NULL)")
    with psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
                         dbname=url.database) as pg, pg.cursor(name="ux_copy") as cur:
        cur.itersize = 20000
        cur.execute(f"SELECT id, tittel, merknad, belop::float8, dato::text, registrert::text, aktiv::int, kode "
                    f"FROM {TABLE} ORDER BY id")
        while batch := cur.fetchmany(20000):
            con.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    con.commit()
    con.close()


SHAPES = {
    "wide": ("100 columns (integers, numeric(12,2), varchar(40), dates, timestamps), 200,000 rows", 200_000),
    "longtext": ("id + a text of 1,500 characters (below the long-text limit), 200,000 rows", 200_000),
    "lobheavy": ("id + a text of 3,000 characters (over the limit: files under lob/), 20,000 rows", 20_000),
    "sak_a": ("two tables of 1,000,000 rows (the bench columns), --jobs 2", 1_000_000),
}


def ensure_shapes(target: Target, log: Callable[[str], None]) -> str:
    import sqlalchemy as sa

    name = f"{target.url.database}_shapes"
    admin = sa.create_engine(target.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first() is None:
            conn.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    admin.dispose()
    engine = sa.create_engine(target.url.set(database=name), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        have = {r[0] for r in conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        if {"wide", "longtext", "lobheavy", "sak_a", "sak_b"} <= have:
            log(f"postgresql: {name} reused")
            engine.dispose()
            return name
        log(f"postgresql: building {name} ...")
        kinds = ["integer", "numeric(12,2)", "varchar(40)", "date", "timestamp(6)"]
        exprs = ["i * {k}", "((i::bigint * {k}) % 10000000) / 100.0", "'verdi ' || (i * {k}) || ' æøå'",
                 "DATE '2000-01-01' + ((i * {k}) % 9000)",
                 "TIMESTAMP '2000-01-01' + (i::bigint * {k} * 1000003) * INTERVAL '1 microsecond'"]
        cols = [f"c{k:02d} {kinds[k % 5]}" for k in range(1, 100)]
        vals = [exprs[k % 5].format(k=k) for k in range(1, 100)]
        for sql in [
            "DROP TABLE IF EXISTS wide, longtext, lobheavy, sak_a, sak_b",
            f"CREATE TABLE wide (id integer PRIMARY KEY, {', '.join(cols)})",
            f"INSERT INTO wide SELECT i, {', '.join(vals)} FROM generate_series(1, 200000) AS i",
            "CREATE TABLE longtext (id integer PRIMARY KEY, tekst text)",
            "INSERT INTO longtext SELECT i, left(repeat('Søknad om ' || i || ' gnr. ' || (i % 97) || '; ', 120), 1500) "
            "FROM generate_series(1, 200000) AS i",
            "CREATE TABLE lobheavy (id integer PRIMARY KEY, tekst text)",
            "INSERT INTO lobheavy SELECT i, left(repeat('Vedtak ' || i || ' æøå ', 400), 3000) "
            "FROM generate_series(1, 20000) AS i",
            *[*pg_ddl("sak_a"), *pg_fill("sak_a", 1_000_000), *pg_ddl("sak_b"), *pg_fill("sak_b", 1_000_000)],
            "VACUUM (FREEZE, ANALYZE)",
        ]:
            _exec(conn, sql)
    engine.dispose()
    return name


def ensure_10m(target: Target, log: Callable[[str], None]) -> str:
    import sqlalchemy as sa

    name = f"{target.url.database}_10m"
    ten = make_target("postgresql", str(target.url.set(database=name).render_as_string(hide_password=False)))
    ensure_database(ten, False, 10_000_000, log)
    sa.create_engine(ten.db_url()).dispose()
    return name


# -- running --------------------------------------------------------------------------------------


def run_case(case: Case, repeat: int, tmp_root: Path, log: Callable[[str], None]) -> None:
    for _ in range(repeat):
        for name, command, count in case.tools:
            if name in case.errors:
                continue
            scratch = Path(tempfile.mkdtemp(prefix="run-", dir=tmp_root))
            try:
                argv, env, stdout = command(scratch)
                m = run_measured(argv, env, stdout, scratch)
                m.out_rows = count(scratch)
                if m.out_rows != case.rows:
                    raise RunFailed(f"wrote {m.out_rows} rows, expected {case.rows}")
                if (scratch / "paths.json").exists():
                    case.paths[name] = ", ".join(sorted(set(json.loads((scratch / "paths.json").read_text()).values())))
                case.runs.setdefault(name, []).append(m)
                log(f"  {case.title[:40]:<40} {name:<28} {m.seconds:7.1f} s  cpu {m.cpu_seconds:6.1f} s  "
                    f"peak RSS {m.peak_rss / MB:6.1f} MB  tree {m.tree_rss / MB:6.1f} MB")
            except (RunFailed, OSError, KeyError, ValueError) as exc:
                case.errors[name] = str(exc)
                log(f"  {case.title[:40]:<40} {name:<28} FAILED: {exc}")
            finally:
                shutil.rmtree(scratch, ignore_errors=True)


def table(case: Case) -> list[str]:
    native = next((n for n, _, _ in case.tools if not n.startswith("uttrekk")), None)
    base = statistics.median(m.seconds for m in case.runs[native]) if native in case.runs else None
    lines = [f"**{case.title}**", "",
             "| tool | path | seconds (median, range) | rows/s | CPU s | peak RSS MB | tree RSS MB | vs native |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, _, _ in case.tools:
        runs = case.runs.get(name)
        if not runs:
            lines.append(f"| {name} | | failed: {case.errors.get(name, '?')} | | | | | |")
            continue
        secs = [m.seconds for m in runs]
        med = statistics.median(secs)
        span = f" ({min(secs):.1f}–{max(secs):.1f})" if len(secs) > 1 else ""
        ratio = f"{med / base:.2f}×" if base and name != native else ("1.00×" if name == native else "")
        lines.append(f"| {name} | {case.paths.get(name, '')} | {med:.1f}{span} | {case.rows / med:,.0f} | "
                     f"{statistics.median(m.cpu_seconds for m in runs):.1f} | "
                     f"{max(m.peak_rss for m in runs) / MB:.0f} | {max(m.tree_rss for m in runs) / MB:.0f} | {ratio} |")
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--engines", default="postgresql,mariadb,sqlite")
    p.add_argument("--skip", default="", help="comma-separated: main (the three 2M-row tables), shapes, 10m, exact")
    p.add_argument("--pg-url", default=DEFAULT_URLS["postgresql"])
    p.add_argument("--mariadb-url", default=DEFAULT_URLS["mariadb"])
    p.add_argument("--sqlite", default=str(Path(tempfile.gettempdir()) / "uttrekk_fastpath_bench.sqlite"))
    p.add_argument("--out", default="docs/performance.md")
    args = p.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    engines = args.engines.split(",")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = dt.datetime.now(dt.UTC)
    load_start = load_average()
    pg = make_target("postgresql", args.pg_url)
    cases: list[Case] = []
    versions = []
    if "main" in skip:
        engines = [e for e in engines if e == "postgresql"]
    if "postgresql" in engines or "sqlite" in engines:
        ensure_database(pg, False, args.rows, log)
        versions.append(("postgresql server", server_version(pg)))
    if "postgresql" in engines and "main" not in skip:
        case = Case(f"PostgreSQL, table sak, {args.rows:,} rows × 8 columns", args.rows)
        case.tools = [("psql \\copy csv (LATIN1)", psql(pg, str(pg.url.database), SELECT_SQL), csv_rows()),
                      ("uttrekk", uttrekk(pg.url_text(), [], False), uttrekk_rows)]
        if "exact" not in skip:
            case.tools.append(("uttrekk, rendering = exact", uttrekk(pg.url_text(), [], True), uttrekk_rows))
        cases.append(case)
    if "mariadb" in engines:
        md = make_target("mariadb", args.mariadb_url)
        ensure_database(md, False, args.rows, log)
        versions.append(("mariadb server", server_version(md)))
        case = Case(f"MariaDB, table sak, {args.rows:,} rows × 8 columns", args.rows)
        case.tools = [("mariadb --batch --quick", mariadb(md), csv_rows(1)),
                      ("uttrekk", uttrekk(md.url_text(), [], False), uttrekk_rows)]
        if "exact" not in skip:
            case.tools.append(("uttrekk, rendering = exact", uttrekk(md.url_text(), [], True), uttrekk_rows))
        cases.append(case)
    if "sqlite" in engines:
        path = Path(args.sqlite)
        ensure_sqlite(pg, path, args.rows, log)
        versions.append(("sqlite", sqlite3.sqlite_version))
        case = Case(f"SQLite, table sak, {args.rows:,} rows × 8 columns (sqlite3 -csv writes UTF-8)", args.rows)
        case.tools = [("sqlite3 -csv", sqlite_native(path), csv_rows()),
                      ("uttrekk", uttrekk(str(path), [], False), uttrekk_rows)]
        if "exact" not in skip:
            case.tools.append(("uttrekk, rendering = exact", uttrekk(str(path), [], True), uttrekk_rows))
        cases.append(case)
    if "postgresql" in engines and "shapes" not in skip:
        shapes = ensure_shapes(pg, log)
        src = pg.url_text().rsplit("/", 1)[0] + "/" + shapes
        for table_name in ("wide", "longtext", "lobheavy"):
            title, rows = SHAPES[table_name]
            case = Case(f"PostgreSQL, {title}", rows)
            case.tools = [("psql \\copy csv (LATIN1)", psql(pg, shapes, f"SELECT * FROM {table_name} ORDER BY id"),
                           csv_rows()),
                          ("uttrekk", uttrekk(src, [table_name], False), uttrekk_rows),
                          ("uttrekk, rendering = exact", uttrekk(src, [table_name], True), uttrekk_rows)]
            cases.append(case)
        title, rows = SHAPES["sak_a"]
        case = Case(f"PostgreSQL, {title}", 2 * rows)
        both = ["sak_a", "sak_b"]
        case.tools = [("uttrekk --jobs 1", uttrekk(src, both, False), uttrekk_rows),
                      ("uttrekk --jobs 2", uttrekk(src, both, False, ["--jobs", "2"]), uttrekk_rows),
                      ("uttrekk --jobs 2, exact", uttrekk(src, both, True, ["--jobs", "2"]), uttrekk_rows)]
        cases.append(case)
    if "postgresql" in engines and "10m" not in skip:
        ten = ensure_10m(pg, log)
        src = pg.url_text().rsplit("/", 1)[0] + "/" + ten
        case = Case("PostgreSQL, table sak, 10,000,000 rows × 8 columns (one run each)", 10_000_000)
        case.tools = [("psql \\copy csv (LATIN1)", psql(pg, ten, SELECT_SQL), csv_rows()),
                      ("uttrekk", uttrekk(src, [], False), uttrekk_rows)]
        cases.append(case)

    tmp_root = Path(tempfile.mkdtemp(prefix="uttrekk-fastpath-bench-"))
    try:
        for case in cases:
            log(case.title)
            run_case(case, 1 if "10,000,000" in case.title or "--jobs" in case.title or "100 columns" in case.title
                     or "long texts" in case.title or "LOB" in case.title or "1,500" in case.title
                     or "3,000" in case.title else args.repeat, tmp_root, log)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    load_end = load_average()
    lines = [f"Generated by `bench/fastpath_bench.py` on {started.date().isoformat()} "
             f"(`python bench/fastpath_bench.py {' '.join(argv if argv is not None else sys.argv[1:])}`); "
             "rerun it to refresh this block.", "",
             f"uttrekk {commit_label()}; {', '.join(f'{k} {v}' for k, v in versions)}; columns of `sak`: "
             f"{', '.join(COLUMNS)}. Load average (1 min): {load_start} at the start, {load_end} at the end "
             "(2 cores, shared with other work: compare within a table, as ratios). Runs: the main tables "
             f"{args.repeat} times each (median), the shapes once. Path: what extraction.json says the tables took.",
             ""]
    for case in cases:
        lines += table(case)
    publish_section(args.out, "fastpath", "\n".join(lines) + "\n", log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
