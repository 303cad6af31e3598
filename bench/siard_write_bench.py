"""Writing SIARD: ``uttrekk extract --format siard`` of the 2M-row bench table, against flat files and psql.

Run it from the repository root with the project's venv::

    .venv/bin/python bench/siard_write_bench.py                              # 2 000 000 rows -> docs/performance.md
    .venv/bin/python bench/siard_write_bench.py --rows 200000 --out -        # quick look, print only

What it does:

1. Makes (or reuses) the bench databases of ``bench/extract_bench.py`` (table ``sak``, ``--rows``
   rows, and its tenth-size twin) on the local PostgreSQL.
2. Runs, each as its own process: ``psql \\copy (SELECT ... ORDER BY id) TO ... csv`` (the native
   export, for the ratio), ``uttrekk extract`` as flat files (delimited, the default), and
   ``uttrekk extract --format siard`` of the table and of its tenth (memory must not grow with
   the table). Every extract must hold every row (its ``extraction.json``), and the SIARD file
   must be a ZIP whose table member holds every row.
3. Wall time, CPU time and peak RSS come from ``os.wait4`` through the launcher of
   ``bench/extract_bench.py``. The results go into ``--out`` between ``<!-- siard-out:start -->``
   and ``<!-- siard-out:end -->``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_bench import (  # noqa: E402
    SELECT_SQL,
    Measurement,
    commit_label,
    count_lines,
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
DATE = "2026-01-31"
SECTION = "siard-out"


def log(msg: str) -> None:
    print(f"siard-bench: {msg}", file=sys.stderr, flush=True)


def measured(argv: list[str], env: dict[str, str], scratch: Path, what: str) -> Measurement:
    return measured_or_exit(argv, env, scratch, what, log)


def records(out: Path) -> int:
    report = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))
    return sum(int(t["records"]) for t in report["tables"])


def siard_rows(out: Path) -> tuple[int, int]:
    """(rows in the SIARD file's one table member, the file's size): read back, not taken from the report."""
    (path,) = (out / "content").glob("*.siard")
    with zipfile.ZipFile(path) as zf, zf.open("content/schema0/table0/table0.xml") as fh:
        rows, tail = 0, b""
        while chunk := fh.read(1 << 20):
            data = tail + chunk  # a <row> may straddle two chunks
            rows += data.count(b"<row>")
            tail = data[-4:]  # shorter than "<row>": never counted twice
    return rows, path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    args = pg_bench_parser(__doc__, "the block").parse_args(argv)
    target = make_target("postgresql", args.pg_url)
    ensure_database(target, False, args.rows, log)
    ensure_database(target, True, args.rows // 10, log)
    exe = uttrekk_exe()
    load_start = load_average()
    url = target.db_url()
    env = target.password_env("uttrekk")
    rows: list[tuple[str, Measurement, str]] = []
    with tempfile.TemporaryDirectory(prefix="uttrekk-siard-bench-", dir="/tmp") as tmp:
        work = Path(tmp)
        dest = work / "sak.csv"
        copy = f"\\copy ({SELECT_SQL}) TO '{dest}' WITH (FORMAT csv)"
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                "-U", url.username or "postgres", "-d", str(url.database), "-c", copy]
        native = measured(psql, {**target.password_env("psql"), "PGCLIENTENCODING": "UTF8"}, work / "s0",
                          "psql \\copy csv")
        if count_lines(dest) != args.rows:
            raise SystemExit("psql wrote another number of rows")
        rows.append(("psql `\\copy (SELECT … ORDER BY id) TO … csv` (UTF-8)", native,
                     f"{dest.stat().st_size / MB:,.0f} MB"))
        dest.unlink()
        for label, extra, tenth in (("uttrekk extract (delimited, ISO 8859-1)", [], False),
                                    ("**uttrekk extract --format siard**", ["--format", "siard"], False),
                                    ("uttrekk extract --format siard, the tenth-size table", ["--format", "siard"], True)):
            out = work / "out"
            m = measured([exe, "extract", target.url_text(tenth), "--out", str(out), "--date", DATE, "-q", *extra],
                         env, work / f"s{len(rows)}", label)
            expected = args.rows // 10 if tenth else args.rows
            if records(out) != expected:
                raise SystemExit(f"{label}: the extract holds {records(out)} rows, expected {expected}")
            if "siard" in extra:
                got, size = siard_rows(out)
                if got != expected:
                    raise SystemExit(f"{label}: the SIARD table holds {got} rows, expected {expected}")
                note = f"{size / MB:,.0f} MB .siard (deflated); {m.seconds / native.seconds:.1f} × psql"
            else:
                size = sum(f.stat().st_size for f in (out / "content").rglob("*") if f.is_file())
                note = f"{size / MB:,.0f} MB content/; {m.seconds / native.seconds:.1f} × psql"
            rows.append((label, m, note))
            shutil.rmtree(out)
    raw = argv if argv is not None else sys.argv[1:]
    cmd = " ".join(["python bench/siard_write_bench.py", *[a for a in raw if not a.startswith("--pg-url")]])
    block = render(args.rows, rows, server_version(target), cmd, (load_start, load_average()))
    publish_section(args.out, SECTION, block, log)
    return 0


def render(n: int, rows: list[tuple[str, Measurement, str]], server: str, cmd: str, load: tuple[str, str]) -> str:
    today = dt.date.today().isoformat()
    lines = [f"Generated by `bench/siard_write_bench.py` on {today} (`{cmd}`); rerun it to refresh this block.", "",
             f"Input: the bench table `sak` of `bench/extract_bench.py` ({n:,} rows, 8 columns; PostgreSQL {server}). "
             "`--format siard` writes each table's XML into the staging folder while it reads (resumable like every "
             "format), then joins the tables into one ZIP64 file, deflated, a chunk at a time, and reads the "
             "content part back once for the message digest in metadata.xml. Every run was checked to hold every "
             "row (the SIARD file's table member read back). Peak RSS is the largest single process, tree RSS the "
             "sampled sum over its process tree.", "",
             *machine_table(load, "uttrekk commit", commit_label()), "",
             "| run | seconds | CPU s | peak RSS MB | tree RSS MB | |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, m, note in rows:
        lines.append(f"| {name} | {m.seconds:,.1f} | {m.cpu_seconds:,.1f} | {m.peak_rss / MB:,.0f} | "
                     f"{m.tree_rss / MB:,.0f} | {note} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
