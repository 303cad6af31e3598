"""Restoring a PostgreSQL dump: ``uttrekk extract customer.dump`` against restoring it by hand, then extracting.

Run it from the repository root with the project's venv::

    .venv/bin/python bench/dump_bench.py                               # 2 000 000 rows -> docs/performance.md
    .venv/bin/python bench/dump_bench.py --rows 200000 --out -         # quick look, print only

What it does:

1. Makes (or reuses) the bench database of ``bench/extract_bench.py`` (table ``sak``, ``--rows``
   rows) on the local PostgreSQL and dumps it with ``pg_dump -Fc`` (the custom format depots
   receive most often), timed for reference.
2. By hand, as docs/guide.md used to ask of a depot technician: ``createdb`` on the running server,
   ``pg_restore --no-owner --no-privileges -d`` into it (one job, as uttrekk restores), then
   ``uttrekk extract`` of that database.
3. ``uttrekk extract sak.dump`` with an empty cache (it makes a throwaway cluster, restores into it,
   extracts, stops the server), then again with the cache it left (starts the server, extracts).
   The first run's ``restored.json`` says how long the restore itself took.
4. Every extract must hold every row (checked in its ``extraction.json``). Wall time, CPU time
   and peak RSS come from ``os.wait4`` through the launcher of ``bench/extract_bench.py`` (the
   largest single process, and a sampled sum over its process tree, which includes the server).
   The results go into ``--out`` between ``<!-- pg-dump:start -->`` and ``<!-- pg-dump:end -->``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_bench import (  # noqa: E402
    Measurement,
    commit_label,
    ensure_database,
    load_average,
    make_target,
    measured_or_exit,
    pg_bench_parser,
    publish_section,
    server_version,
)
from validate_bench import machine_table, uttrekk_exe  # noqa: E402

MB = 1_000_000
BY_HAND_DB = "uttrekk_bench_restored"
DATE = "2026-01-31"


def log(msg: str) -> None:
    print(f"dump-bench: {msg}", file=sys.stderr, flush=True)


def records(out: Path) -> int:
    report = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))
    return sum(int(t["records"]) for t in report["tables"])


def measured(argv: list[str], env: dict[str, str], scratch: Path, what: str) -> Measurement:
    return measured_or_exit(argv, env, scratch, what, log)


def main(argv: list[str] | None = None) -> int:
    args = pg_bench_parser(__doc__, "the pg-dump block").parse_args(argv)
    target = make_target("postgresql", args.pg_url)
    ensure_database(target, False, args.rows, log)
    url = target.db_url()
    exe = uttrekk_exe()
    load_start = load_average()
    env_pg = {**target.password_env("psql")}
    conn = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    bindir = _pg_bin()
    rows: list[tuple[str, Measurement | None, str]] = []
    with tempfile.TemporaryDirectory(prefix="uttrekk-dump-bench-", dir="/tmp") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o711)  # the throwaway server's account passes through to the cache below
        cache = work / "cache"
        cache.mkdir(mode=0o711)
        dump = work / "sak.dump"
        m = measured([str(bindir / "pg_dump"), *conn, "-F", "c", "-f", str(dump), target.database()], env_pg,
                     work / "s0", "pg_dump -Fc")
        rows.append((f"pg_dump -Fc of the table (for reference; {dump.stat().st_size / MB:,.0f} MB)", m, ""))

        admin = [str(bindir / "psql"), *conn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c"]
        subprocess.run([*admin, f"DROP DATABASE IF EXISTS {BY_HAND_DB}"], check=True, env={**os.environ, **env_pg})
        try:
            m1 = measured([str(bindir / "createdb"), *conn, BY_HAND_DB], env_pg, work / "s1", "createdb")
            m2 = measured([str(bindir / "pg_restore"), *conn, "--no-owner", "--no-privileges", "-d", BY_HAND_DB,
                           str(dump)], env_pg, work / "s2", "pg_restore by hand")
            by_hand = url.set(database=BY_HAND_DB)._replace(password=None).render_as_string(hide_password=False)
            m3 = measured([exe, "extract", by_hand, "--out", str(work / "hand"), "--date", DATE, "-q"],
                          target.password_env("uttrekk"), work / "s3", "uttrekk extract of the restored database")
            _check(work / "hand", args.rows)
        finally:
            subprocess.run([*admin, f"DROP DATABASE IF EXISTS {BY_HAND_DB}"], check=False, env={**os.environ, **env_pg})
        shutil.rmtree(work / "hand", ignore_errors=True)
        total = Measurement(m1.seconds + m2.seconds + m3.seconds, m1.cpu_seconds + m2.cpu_seconds + m3.cpu_seconds,
                            max(m1.peak_rss, m2.peak_rss, m3.peak_rss), max(m1.tree_rss, m2.tree_rss, m3.tree_rss))
        rows += [("by hand: createdb + pg_restore into the running server", _sum(m1, m2), ""),
                 ("by hand: uttrekk extract of that database", m3, ""),
                 ("**by hand, in all**", total, "")]

        env = {"UTTREKK_CACHE": str(cache)}
        first = measured([exe, "extract", str(dump), "--out", str(work / "first"), "--date", DATE, "-q"], env,
                         work / "s4", "uttrekk extract sak.dump (empty cache)")
        _check(work / "first", args.rows)
        (marker,) = cache.glob("restored/*/restored.json")
        restore = json.loads(marker.read_text())["restore_seconds"]
        entry_mb = sum(f.stat().st_size for f in marker.parent.rglob("*") if f.is_file()) / MB
        shutil.rmtree(work / "first", ignore_errors=True)
        second = measured([exe, "extract", str(dump), "--out", str(work / "second"), "--date", DATE, "-q"], env,
                          work / "s5", "uttrekk extract sak.dump (cached)")
        _check(work / "second", args.rows)
        rows += [("**uttrekk extract sak.dump, first run**", first,
                  f"of which {restore:.1f} s restoring (initdb, pg_restore, a clean stop and sync: `restored.json`)"),
                 ("uttrekk extract sak.dump, second run (restored copy from the cache)", second,
                  f"cache entry {entry_mb:,.0f} MB")]
    raw = argv if argv is not None else sys.argv[1:]
    cmd = " ".join(["python bench/dump_bench.py", *[a for a in raw if not a.startswith("--pg-url")]])
    block = render(args.rows, rows, server_version(target), cmd, (load_start, load_average()))
    publish_section(args.out, "pg-dump", block, log)
    return 0


def _sum(a: Measurement, b: Measurement) -> Measurement:
    return Measurement(a.seconds + b.seconds, a.cpu_seconds + b.cpu_seconds, max(a.peak_rss, b.peak_rss),
                       max(a.tree_rss, b.tree_rss))


def _check(out: Path, rows: int) -> None:
    got = records(out)
    if got != rows:
        raise SystemExit(f"{out.name}: the extract holds {got} rows, expected {rows}")


def _pg_bin() -> Path:
    sys.path.insert(0, str(ROOT))
    from dialects.kinds.pg_server import binaries

    return binaries().folder


def render(n: int, rows: list[tuple[str, Measurement | None, str]], server: str, cmd: str,
           load: tuple[str, str]) -> str:
    today = dt.date.today().isoformat()
    lines = [f"Generated by `bench/dump_bench.py` on {today} (`{cmd}`); rerun it to refresh this block.", "",
             f"Input: `pg_dump -Fc` of the bench table `sak` of `bench/extract_bench.py` ({n:,} rows, 8 columns; "
             f"PostgreSQL {server}). By hand is what docs/guide.md asked of a depot technician before uttrekk read "
             "dumps: make a database on a running server, `pg_restore` into it, extract it. uttrekk does it in one "
             "command, into a throwaway server of its own (initdb, a role that is not a superuser, socket only), and "
             "keeps the restored copy in its cache, so `inspect`, `profile init` and `extract` of one dump restore it "
             "once. Every extract was checked to hold every row. Peak RSS is the largest single process (for uttrekk "
             "reading a dump that is its throwaway server, whose shared buffers count); tree RSS the sampled sum over "
             "the process tree. CPU seconds of uttrekk reading a dump include its throwaway server's work (the "
             "server's side of COPY); by hand, the running server's CPU is not counted.",
             "", *machine_table(load, "uttrekk commit", commit_label()), "",
             "| route | seconds | CPU s | peak RSS MB | tree RSS MB | |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, m, note in rows:
        if m is None:
            continue
        lines.append(f"| {name} | {m.seconds:,.1f} | {m.cpu_seconds:,.1f} | {m.peak_rss / MB:,.0f} | "
                     f"{m.tree_rss / MB:,.0f} | {note} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
