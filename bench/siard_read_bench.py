"""SIARD -> ADDML: time and peak memory of ``uttrekk extract FILE.siard`` and ``uttrekk validate FILE.siard``.

    .venv/bin/python bench/siard_read_bench.py [ROWS]

Writes a SIARD 2.2 file of ROWS rows (default 2,000,000; deflated) holding the bench table ``sak`` of
``bench/extract_bench.py`` (integer key, varchar(100) with æøå, nullable text, numeric(12,2), date,
timestamp(6), boolean, varchar(4) code), streamed into the ZIP so the writer's memory stays flat, and
times, each in a child process (peak RSS from ``wait4``):

- ``unzip -p`` of the table file to /dev/null: decompressing it, the least any reader does (the native
  baseline of the ratios);
- the standard library's ``xml.etree.ElementTree.iterparse`` counting the rows (a Python XML pass);
- ``uttrekk extract`` the first time (the SIARD file is read, validated against its XSDs and loaded into
  the SQLite copy in the cache, then extracted) and a second time (from the cache);
- ``uttrekk validate`` of the SIARD file.

Every extract is checked to hold every row. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UTTREKK = [sys.executable, "-m", "extractor"]
NS_T = "http://www.bar.admin.ch/xmlns/siard/2/table.xsd"
NS_M = "http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd"
COLUMNS = [("ID", "INTEGER", "xs:integer", False), ("TITTEL", "VARCHAR(100)", "xs:string", True),
           ("MERKNAD", "VARCHAR(4000)", "xs:string", True), ("BELOP", "DECIMAL(12, 2)", "xs:decimal", True),
           ("DATO", "DATE", "xs:date", True), ("ENDRET", "TIMESTAMP(6)", "xs:dateTime", True),
           ("AKTIV", "BOOLEAN", "xs:boolean", True), ("KODE", "VARCHAR(4)", "xs:string", True)]


def write_siard(path: Path, rows: int) -> None:
    optional = ' minOccurs="0"'
    cols = "".join(f'<xs:element name="c{i}" type="{x}"{optional if n else ""}/>'
                   for i, (_, _, x, n) in enumerate(COLUMNS, 1))
    xsd = (f'<?xml version="1.0" encoding="UTF-8"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
           f'xmlns="{NS_T}" targetNamespace="{NS_T}" elementFormDefault="qualified"><xs:element name="table">'
           '<xs:complexType><xs:sequence><xs:element name="row" type="rowType" minOccurs="0" maxOccurs="unbounded"/>'
           '</xs:sequence><xs:attribute name="version" type="xs:string"/></xs:complexType></xs:element>'
           f'<xs:complexType name="rowType"><xs:sequence>{cols}</xs:sequence></xs:complexType></xs:schema>')
    meta_cols = "".join(f"<column><name>{n}</name><type>{t}</type><nullable>{'true' if nn else 'false'}</nullable>"
                        "</column>" for n, t, _, nn in COLUMNS)
    meta = (f'<?xml version="1.0" encoding="UTF-8"?><siardArchive xmlns="{NS_M}" version="2.2"><dbname>bench</dbname>'
            "<dataOwner>bench</dataOwner><dataOriginTimespan>2000-2024</dataOriginTimespan>"
            "<producerApplication>bench/siard_read_bench.py</producerApplication><archivalDate>2024-01-01</archivalDate>"
            "<schemas><schema><name>BENCH</name><folder>schema0</folder><tables><table><name>SAK</name>"
            f"<folder>table0</folder><columns>{meta_cols}</columns><primaryKey><name>PK_SAK</name><column>ID</column>"
            f"</primaryKey><rows>{rows}</rows></table></tables></schema></schemas><users><user><name>u</name></user>"
            "</users></siardArchive>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("header/metadata.xml", meta)
        z.writestr("content/schema0/table0/table0.xsd", xsd)
        with z.open("content/schema0/table0/table0.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<table xmlns="{NS_T}" version="2.2">'.encode())
            for start in range(1, rows + 1, 10_000):
                part = []
                for i in range(start, min(start + 10_000, rows + 1)):
                    note = "" if i % 3 else f"<c3>Merknad {i} om saken, med æøå og ÆØÅ</c3>"
                    part.append(f"<row><c1>{i}</c1><c2>Sak nummer {i} – søknad om løyve {i * 7919 % 100003}</c2>{note}"
                                f"<c4>{i * 37 % 1000000}.{i % 100:02d}</c4><c5>{2000 + i % 25}-{1 + i % 12:02d}-"
                                f"{1 + i % 28:02d}</c5><c6>2020-01-01T{i % 24:02d}:{i % 60:02d}:{i * 7 % 60:02d}."
                                f"{i % 1000000:06d}</c6><c7>{'true' if i % 2 else 'false'}</c7>"
                                f"<c8>K{i % 50:03d}</c8></row>")
                fh.write("".join(part).encode())
            fh.write(b"</table>\n")


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Seconds, CPU seconds and peak RSS (MB) of a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {err[-2000:]}")
    return took, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


ITERPARSE = """
import sys, zipfile, xml.etree.ElementTree as ET
n = 0
with zipfile.ZipFile(sys.argv[1]) as z, z.open('content/schema0/table0/table0.xml') as fh:
    for ev, el in ET.iterparse(fh):
        if el.tag.endswith('}row'):
            n += 1
            el.clear()
print(n)
"""


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    with tempfile.TemporaryDirectory(prefix="siard-bench-", dir="/tmp") as tmp:
        work = Path(tmp)
        siard = work / "sak.siard"
        start = time.perf_counter()
        write_siard(siard, rows)
        wrote = time.perf_counter() - start
        with zipfile.ZipFile(siard) as z:
            xml_mb = z.getinfo("content/schema0/table0/table0.xml").file_size / 1e6
        env = {**os.environ, "UTTREKK_CACHE": str(work / "cache"), "PYTHONPATH": str(ROOT)}
        results = []
        results.append(("unzip -p of the table file (decompressing it; the baseline)",
                        *timed(["sh", "-c", f"unzip -p {siard} content/schema0/table0/table0.xml > /dev/null"])))
        results.append(("Python xml.etree iterparse, counting rows", *timed([sys.executable, "-c", ITERPARSE, str(siard)])))
        meta = ["--charset", "UTF-8", "-q", "--archive-creator", "bench", "--system-name", "bench", "--period",
                "2000..2024"]
        for label, out in (("uttrekk extract, first run (reads, validates and loads the SIARD file)", "out1"),
                           ("uttrekk extract, second run (the copy in the cache)", "out2")):
            results.append((label, *timed([*UTTREKK, "extract", str(siard), "--out", str(work / out), *meta], env)))
            with (work / out / "content" / "SAK.txt").open("rb") as fh:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda f=fh: f.read(1 << 20), b""))
            assert lines == rows, (out, lines)
        results.append(("uttrekk validate FILE.siard (S.01-S.07)", *timed([*UTTREKK, "validate", str(siard)], env)))
        base = results[0][1]
        print(f"Generated by `bench/siard_read_bench.py` on {time.strftime('%Y-%m-%d')} (`python bench/siard_read_bench.py "
              f"{rows}`); {platform.python_version()}, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.2f} at the end.\n")
        print(f"Input: `sak.siard`, SIARD 2.2, one table of {rows:,} rows and 8 columns, deflated: "
              f"{siard.stat().st_size / 1e6:.0f} MB, of which the table XML unpacks to {xml_mb:.0f} MB "
              f"(written in {wrote:.0f} s).\n")
        print("| route | seconds | rows/s | CPU s | peak RSS MB | time vs unzip |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, secs, cpu, rss in results:
            print(f"| {label} | {secs:.1f} | {rows / secs:,.0f} | {cpu:.1f} | {rss:.0f} | {secs / base:.1f}× |")


if __name__ == "__main__":
    main()
