"""Validation benchmark: ``uttrekk validate`` against ``uttrekk extract`` of the same package.

Issue 5's target: validating an extract takes no longer than extracting it. Run it from the
repository root with the project's venv::

    .venv/bin/python bench/validate_bench.py                        # 1 000 000 rows, 1 run -> docs/performance.md
    .venv/bin/python bench/validate_bench.py --repeat 3
    .venv/bin/python bench/validate_bench.py --rows 100000 --out -  # quick look, print only

What it does:

1. Builds (once; reused while the row count and the generator version, kept in ``PRAGMA
   user_version``, match) the SQLite database ``--db`` (default ``$TMPDIR/uttrekk_validate_bench_ROWS.sqlite``): a
   table ``sak`` shaped like the one of ``bench/extract_bench.py`` (integer key, text with æøå, a
   nullable text, numeric(12,2), date, timestamp, boolean, a short code column) whose code column
   refers to a small code table ``sakstype`` by a declared foreign key, so the extract names
   ``Control_ForeignKey`` (A.16) and ``Control_Codes`` (A.22) and the validator runs them.
2. Runs the installed CLI as subprocesses, through the bare launcher of ``bench/extract_bench.py``
   (wall time, CPU time and peak RSS from ``os.wait4``): ``uttrekk extract DB --out X --profile P -q``
   (P holds only the metadata the Arkivverket profile rules require: creator, system, period) and then
   ``uttrekk validate X -q`` on that extract, ``--repeat`` times in turn; the report shows medians.
   A validation that exits non-zero (an error found, or unreadable input) fails the benchmark.
3. Writes a results block (machine facts, both commands, the ratio validate/extract) into ``--out``
   (default ``docs/performance.md``) between ``<!-- validate:start -->`` and ``<!-- validate:end -->``
   (a section "## Validation speed" is added at the end if absent); the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_bench import (  # noqa: E402
    CODES,
    NOTES,
    PLACES,
    TITLES,
    Measurement,
    RunFailed,
    commit_label,
    cpu_model,
    load_average,
    publish_section,
    ram_text,
    run_measured,
)

GENERATOR_VERSION = 1
DEFAULT_ROWS = 1_000_000
PROFILE = """\
[metadata]
archive_creator = "Eksempel kommune"
system_name = "Saksbehandling (benchmark)"
period_start = "2000-01-01"
period_end = "2024-12-31"
"""
"""The metadata the Arkivverket profile rules (U.02) require, so that a clean extract validates with exit code 0."""
CODE_NAMES = {"BYGG": "Byggesak", "DISP": "Dispensasjon", "KLAG": "Klage", "TILS": "Tilsyn", "MÅL": "Oppmåling"}


# -- the database ---------------------------------------------------------------------------------


def _rows(n: int) -> Iterator[tuple[object, ...]]:
    base_date = dt.date(2000, 1, 1)
    base_ts = dt.datetime(2000, 1, 1)
    for i in range(1, n + 1):
        title = f"{TITLES[i % 8]} {PLACES[(i // 8) % 7]} gnr. {1 + i % 997}/{1 + i % 89}"
        note = None if i % 3 == 0 else f"Merknad {i}: {NOTES[i % 5]}"
        amount = ((i * 7919) % 10_000_000) / 100.0
        day = (base_date + dt.timedelta(days=i % 9000)).isoformat()
        ts = (base_ts + dt.timedelta(microseconds=i * 157784631)).isoformat(sep=" ")
        yield i, title, note, amount, day, ts, int(i % 5 != 0), CODES[i % 5]


def ensure_database(path: Path, rows: int, log: Log) -> None:
    if path.exists():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            same = (conn.execute("PRAGMA user_version").fetchone()[0] == GENERATOR_VERSION
                    and conn.execute("SELECT count(*) FROM sak").fetchone()[0] == rows)
        except sqlite3.Error:
            same = False
        finally:
            conn.close()
        if same:
            log(f"{path}: {rows:,} rows, reused")
            return
        path.unlink()
    log(f"building {path} with {rows:,} rows ...")
    started = time.perf_counter()
    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;
            CREATE TABLE sakstype (kode varchar(4) NOT NULL PRIMARY KEY, navn varchar(40) NOT NULL);
            CREATE TABLE sak (
                id integer NOT NULL PRIMARY KEY, tittel varchar(100) NOT NULL, merknad text,
                belop numeric(12,2) NOT NULL, dato date NOT NULL, registrert timestamp NOT NULL,
                aktiv boolean NOT NULL, kode varchar(4) NOT NULL REFERENCES sakstype (kode));
        """)
        conn.executemany("INSERT INTO sakstype VALUES (?, ?)", list(CODE_NAMES.items()))
        conn.executemany("INSERT INTO sak VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _rows(rows))
        conn.execute(f"PRAGMA user_version = {GENERATOR_VERSION}")
        conn.commit()
        got = conn.execute("SELECT count(*) FROM sak").fetchone()[0]
    finally:
        conn.close()
    if got != rows:
        raise SystemExit(f"{tmp}: {got} rows after set-up, expected {rows}")
    tmp.replace(path)
    log(f"built in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")


# -- measuring ------------------------------------------------------------------------------------


class Log:
    def __call__(self, msg: str) -> None:
        print(f"validate-bench: {msg}", file=sys.stderr, flush=True)


def uttrekk_exe() -> str:
    venv = ROOT / ".venv" / "bin" / "uttrekk"
    found = str(venv) if venv.exists() else shutil.which("uttrekk")
    if not found:
        raise SystemExit("uttrekk is not installed: .venv/bin/pip install -e .")
    return found


def one_round(exe: str, db: Path, scratch: Path) -> tuple[Measurement, Measurement, int]:
    """Extract DB into SCRATCH/x, validate it; return both measurements and the extract's size in bytes."""
    out, profile = scratch / "x", scratch / "profile.toml"
    profile.write_text(PROFILE, encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    try:
        ext = run_measured([exe, "extract", str(db), "--out", str(out), "--profile", str(profile), "-q"], {}, None,
                           scratch)
        size = sum(p.stat().st_size for p in (out / "content").rglob("*") if p.is_file())
        val = run_measured([exe, "validate", str(out), "-q"], {}, None, scratch)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return ext, val, size


def _fmt_range(xs: list[float]) -> str:
    med = statistics.median(xs)
    return f"{med:.1f}" + (f" ({min(xs):.1f}–{max(xs):.1f})" if len(xs) > 1 else "")


def render(rows: int, runs: list[tuple[Measurement, Measurement, int]], cmd: str, load: tuple[str, str]) -> str:
    ext = [r[0] for r in runs]
    val = [r[1] for r in runs]
    size = runs[0][2]
    ratios = [v.seconds / e.seconds for e, v in zip(ext, val, strict=True)]
    med_e = statistics.median(m.seconds for m in ext)
    med_v = statistics.median(m.seconds for m in val)
    ratio = med_v / med_e
    verdict = "met" if ratio <= 1.0 else "**not met**"

    def row(name: str, ms: list[Measurement]) -> str:
        secs = [m.seconds for m in ms]
        med = statistics.median(secs)
        return (f"| {name} | {_fmt_range(secs)} | {rows / med:,.0f} | {size / MB / med:.1f} | "
                f"{statistics.median(m.cpu_seconds for m in ms):.1f} | "
                f"{statistics.median(m.peak_rss for m in ms) / MB:.0f} |")

    lines = [
        f"Generated by `bench/validate_bench.py` on {dt.date.today().isoformat()} (`{cmd}`); rerun it to refresh "
        "this block (the database is built once and reused).", "",
        f"SQLite database: table `sak` of {rows:,} rows (integer key, varchar(100) with æøå, nullable text, "
        "numeric(12,2), date, timestamp, boolean, varchar(4) code with a foreign key to the 5-row code table "
        "`sakstype`, so the extract names Control_ForeignKey and Control_Codes). Extract: delimited, ISO-8859-1, "
        f"{size / MB:.0f} MB in `content/`. Each round runs `uttrekk extract DB --out X --profile P -q` (P: only the metadata "
        "the Arkivverket profile rules ask for), then "
        f"`uttrekk validate X -q` on its result (exit code 0 required); runs: {len(runs)} (median, range in "
        "brackets). Wall time, CPU (user + system) and peak RSS from `os.wait4` through the bare launcher of "
        "`bench/extract_bench.py`.", "",
        *machine_table(load, "uttrekk commit", commit_label()), "",
        "| command | seconds | rows/s | MB/s | CPU s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        row("uttrekk extract", ext),
        row("uttrekk validate", val), "",
        f"**validate / extract: {ratio:.2f}×** (per round: {', '.join(f'{r:.2f}' for r in ratios)}). "
        f"Target (issue 5: validation at least as fast as extraction, ratio ≤ 1.00): {verdict}.",
    ]
    return "\n".join(lines) + "\n"


def machine_table(load: tuple[str, str], code_label: str, code: str) -> list[str]:
    """The machine facts of a benchmark block as markdown table lines, the code measured last."""
    return ["| | |", "| --- | --- |",
            f"| cores | {os.cpu_count()} |",
            f"| CPU | {cpu_model()} |",
            f"| RAM | {ram_text()} |",
            f"| OS | {platform.platform(terse=True)} |",
            f"| Python | {platform.python_version()} |",
            f"| load average (1 min) | {load[0]} at the start, {load[1]} at the end |",
            f"| {code_label} | {code} |"]


MB = 1_000_000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the bench table (default 1 000 000)")
    p.add_argument("--repeat", type=int, default=1, help="rounds of extract + validate; the report shows medians")
    p.add_argument("--db", default=None, help="SQLite file to build or reuse (default: in the system temp folder)")
    p.add_argument("--tmpdir", default=None, help="where the extract goes while a round lasts (default: system temp)")
    p.add_argument("--out", default="docs/performance.md", help="file to write the validate block into ('-' = print only)")
    args = p.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        raise SystemExit("--rows and --repeat must be at least 1")
    log = Log()
    db = Path(args.db) if args.db else Path(tempfile.gettempdir()) / f"uttrekk_validate_bench_{args.rows}.sqlite"
    ensure_database(db, args.rows, log)
    exe = uttrekk_exe()
    load_start = load_average()
    runs = []
    with tempfile.TemporaryDirectory(prefix="uttrekk-validate-bench-", dir=args.tmpdir) as tmp:
        for k in range(args.repeat):
            try:
                ext, val, size = one_round(exe, db, Path(tmp))
            except RunFailed as exc:
                log(f"round {k + 1}: failed: {exc}")
                return 1
            log(f"round {k + 1}/{args.repeat}: extract {ext.seconds:.1f} s, validate {val.seconds:.1f} s "
                f"(ratio {val.seconds / ext.seconds:.2f}), peak RSS {ext.peak_rss / MB:.0f} / {val.peak_rss / MB:.0f} MB")
            runs.append((ext, val, size))
    raw = argv if argv is not None else sys.argv[1:]
    shown: list[str] = []
    for a in raw:  # without file paths: they are this machine's
        if shown and shown[-1] in ("--db", "--tmpdir", "--out") and Path(a).is_absolute():
            shown[-1:] = [] if shown[-1] != "--out" else [shown[-1], "FILE"]
        elif not a.startswith(("--db=", "--tmpdir=")):
            shown.append(a)
    cmd = " ".join(["python bench/validate_bench.py", *shown])
    block = render(args.rows, runs, cmd, (load_start, load_average()))
    publish_section(args.out, "validate", block, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
