"""Firebird's fast path (``dialects/firebird_rendering.py``) against its exact path and ``isql-fb``.

Run it from the repository root with the project's venv (the test server of
``scripts/test-services.sh``; the password comes from ``$UTTREKK_TEST_FIREBIRD_URL`` and travels
in the environment, never in a command line)::

    .venv/bin/python bench/firebird_fastpath_bench.py                    # 1,000,000 rows, 3 runs each
    .venv/bin/python bench/firebird_fastpath_bench.py --rows 100000 --repeat 1

What it does:

1. Makes (once; a table comment holds the fingerprint) the database ``uttrekk_bench_fb.fdb`` in the
   server's test folder with one table ``sak`` of ``--rows`` rows, the 8 columns of
   ``bench/extract_bench.py``'s table in Firebird's types (``merknad`` a VARCHAR, not a BLOB: a BLOB
   takes the exact path; time stamps to the millisecond), filled by one EXECUTE BLOCK.
2. Times, ``--repeat`` times each in turn: ``isql-fb`` printing the same SELECT to a file (the
   native reference: its own column layout, not the archive's format), ``uttrekk extract`` (fast
   path) and ``uttrekk extract`` with ``[output] rendering = "exact"``. Wall and CPU seconds (the
   launcher's ``os.wait4``, so CPU is that of the client process only: the server's work is not in
   it) and peak RSS, medians; the load average before and after (the machine may be shared, so
   compare CPU seconds). Checks that both extracts wrote every row and identical files. The block goes
   into ``--out`` between ``<!-- firebird-fastpath:start -->`` and ``<!-- firebird-fastpath:end -->``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_bench import (  # noqa: E402
    CODES,
    NOTES,
    PLACES,
    TITLES,
    commit_label,
    count_lines,
    load_average,
    publish_section,
    run_measured,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "firebird+firebird://SYSDBA@127.0.0.1:3050/?charset=UTF8"
FOLDER = os.environ.get("UTTREKK_TEST_FIREBIRD_DIR", "/tmp/uttrekk-firebird")
GENERATOR_VERSION = 1
SELECT_SQL = "SELECT id, tittel, merknad, belop, dato, registrert, aktiv, kode FROM sak ORDER BY id"


def _decode(expr: str, items: tuple[str, ...]) -> str:
    pairs = ", ".join(f"{i}, '{s.replace(chr(39), chr(39) * 2)}'" for i, s in enumerate(items))
    return f"DECODE({expr}, {pairs})"


DDL = ("CREATE TABLE sak (id INTEGER NOT NULL PRIMARY KEY, tittel VARCHAR(100) NOT NULL, merknad VARCHAR(200), "
       "belop NUMERIC(12,2) NOT NULL, dato DATE NOT NULL, registrert TIMESTAMP NOT NULL, aktiv BOOLEAN NOT NULL, "
       "kode VARCHAR(4) NOT NULL)")


def fill_sql(rows: int) -> str:
    """The rows of ``extract_bench.pg_fill`` (the same words and formulas), in one EXECUTE BLOCK."""
    micro = "CAST(:i AS BIGINT) * 157784631"
    return f"""EXECUTE BLOCK AS DECLARE i INTEGER = 1; BEGIN
  WHILE (i <= {rows}) DO BEGIN
    INSERT INTO sak VALUES (:i,
      {_decode("MOD(:i, 8)", TITLES)} || ' ' || {_decode("MOD(:i / 8, 7)", PLACES)}
        || ' gnr. ' || (1 + MOD(:i, 997)) || '/' || (1 + MOD(:i, 89)),
      CASE WHEN MOD(:i, 3) = 0 THEN NULL ELSE 'Merknad ' || :i || ': ' || {_decode("MOD(:i, 5)", NOTES)} END,
      CAST(MOD(CAST(:i AS BIGINT) * 7919, 10000000) AS NUMERIC(18,2)) / 100,
      DATEADD(DAY, MOD(:i, 9000), DATE '2000-01-01'),
      DATEADD(MILLISECOND, MOD({micro} / 1000, 1000), DATEADD(SECOND, {micro} / 1000000, TIMESTAMP '2000-01-01 00:00:00')),
      MOD(:i, 5) <> 0,
      {_decode("MOD(:i, 5)", CODES)});
    i = i + 1;
  END
END"""


def fingerprint(rows: int) -> str:
    return f"Benchmark table (uttrekk Firebird bench generator v{GENERATOR_VERSION}, {rows} rows)."


def ensure_database(url, rows: int) -> str:
    """The bench database's path on the server, made and filled unless it holds this data already."""
    from firebird.driver import connect, create_database, driver_config

    path = f"{FOLDER}/uttrekk_bench_fb.fdb"
    dsn = f"{url.host}/{url.port or 3050}:{path}"
    login = {"user": url.username, "password": url.password}
    try:
        with connect(dsn, charset="UTF8", **login) as con:
            cur = con.cursor()
            cur.execute("SELECT RDB$DESCRIPTION FROM RDB$RELATIONS WHERE RDB$RELATION_NAME = 'SAK'")
            found = cur.fetchone()
            if found and found[0] == fingerprint(rows):
                return path
            con.drop_database()
    except Exception as exc:  # noqa: BLE001 - no such database yet
        if "I/O error" not in str(exc) and "No such file" not in str(exc):
            raise
    print(f"making {path} with {rows} rows", file=sys.stderr)
    driver_config.db_defaults.db_charset.value = "UTF8"
    with create_database(dsn, charset="UTF8", **login) as con:
        cur = con.cursor()
        cur.execute(DDL)
        con.commit()
        cur.execute(fill_sql(rows))
        cur.execute(f"COMMENT ON TABLE sak IS '{fingerprint(rows)}'")
        con.commit()
    return path


def digest(folder: Path) -> str:
    return hashlib.sha256((folder / "content" / "sak.txt").read_bytes()).hexdigest()


def main() -> None:
    import sqlalchemy as sa

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="docs/performance.md", help="file to write the block into ('-' = print only)")
    args = ap.parse_args()
    url = sa.engine.make_url(os.environ.get("UTTREKK_TEST_FIREBIRD_URL", DEFAULT_URL))
    if url.password is None:
        raise SystemExit("give the password in UTTREKK_TEST_FIREBIRD_URL (bash scripts/test-services.sh prints it)")
    path = ensure_database(url, args.rows)
    # no password in the command line (``URL.set(password=None)`` keeps it): it travels in UTTREKK_PASSWORD
    source = sa.engine.URL.create(url.drivername, url.username, None, url.host, url.port, path,
                                  url.query).render_as_string(hide_password=False)
    assert sa.engine.make_url(source).password is None
    secret = {"UTTREKK_PASSWORD": str(url.password), "ISC_USER": str(url.username), "ISC_PASSWORD": str(url.password)}
    results: dict[str, list] = {"isql-fb": [], "uttrekk (fast path)": [], "uttrekk (exact path)": []}
    digests: dict[str, set[str]] = {"fast": set(), "exact": set()}
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="uttrekk_fbbench_") as tmp:
        root = Path(tmp)
        exact_profile = root / "exact.toml"
        exact_profile.write_text('[output]\nrendering = "exact"\n', encoding="utf-8")
        script = root / "select.sql"
        script.write_text(f"SET HEADING OFF;\n{SELECT_SQL};\n", encoding="utf-8")
        for n in range(args.repeat):
            for name, argv, out in (
                ("isql-fb", ["isql-fb", "-q", "-ch", "UTF8", "-i", str(script), f"{url.host}/{url.port or 3050}:{path}"],
                 root / "isql.txt"),
                ("uttrekk (fast path)", [sys.executable, "-m", "extractor", "extract", source, "--out",
                                         str(root / f"fast{n}"), "-q"], None),
                ("uttrekk (exact path)", [sys.executable, "-m", "extractor", "extract", source, "--out",
                                          str(root / f"exact{n}"), "-q", "--profile", str(exact_profile)], None),
            ):
                m = run_measured(argv, secret, out, root)
                results[name].append(m)
                if out is not None:
                    m.out_rows = count_lines(out)
                else:
                    folder = root / (f"fast{n}" if "fast" in name else f"exact{n}")
                    report = json.loads((folder / "report" / "extraction.json").read_text(encoding="utf-8"))
                    rendering = {t["table"]: t.get("rendering") for t in report["tables"]}
                    records = sum(int(t["records"]) for t in report["tables"] if t["table"] == "sak")
                    assert records == args.rows, (name, records)
                    assert rendering["sak"] == ("server" if "fast" in name else "exact"), (name, rendering)
                    digests["fast" if "fast" in name else "exact"].add(digest(folder))
                    shutil.rmtree(folder)
                print(f"{name} run {n + 1}: {m.seconds:.2f} s wall, {m.cpu_seconds:.2f} s CPU, "
                      f"{m.peak_rss / 1e6:.0f} MB", file=sys.stderr)
    assert len(digests["fast"] | digests["exact"]) == 1, digests
    lines = [f"Firebird 3, table `sak` ({args.rows:,} rows, 8 columns), median of {args.repeat}, commit "
             f"{commit_label()}; load average {load_before} before, {load_average()} after (2 shared cores: "
             "compare CPU seconds). CPU is the client process's (`os.wait4`), not the server's. Both extracts "
             "wrote the same bytes; `isql-fb` prints the same SELECT in its own column layout.", "",
             "| tool | wall s | CPU s (client) | peak RSS MB |", "|---|---:|---:|---:|"]
    for name, ms in results.items():
        lines.append(f"| {name} | {statistics.median(m.seconds for m in ms):.2f} | "
                     f"{statistics.median(m.cpu_seconds for m in ms):.2f} | {max(m.peak_rss for m in ms) / 1e6:.0f} |")
    publish_section(args.out, "firebird-fastpath", "\n".join(lines) + "\n", lambda s: print(s, file=sys.stderr))


if __name__ == "__main__":
    main()
