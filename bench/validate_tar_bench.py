"""Memory of ``uttrekk validate`` on a DIAS tar with many members: flat, whatever the member count.

Issue 12: validating a ``{uuid}.tar`` with a million members used to take some 740 MB, because
the member list (and what the checks derived from it) was held in memory. Run it from the
repository root with the project's venv::

    .venv/bin/python bench/validate_tar_bench.py                          # 100k and 1M members -> docs/performance.md
    .venv/bin/python bench/validate_tar_bench.py --members 20000 --out -  # quick look, print only
    .venv/bin/python bench/validate_tar_bench.py --before ''              # the working tree only

What it does:

1. Makes a valid minimal DIAS package with the installed CLI: the example database of
   ``examples/build_example_db.py``, ``uttrekk extract`` with ``profiles/example-kommune.toml``,
   ``uttrekk package`` (fixed UUID and time).
2. For each ``--members`` count N, rewrites that tar member by member into a new ``{uuid}.tar``
   with N more small files ``content/dokumenter/NNNNNNN.txt`` (about 20 bytes each), streamed:
   each is listed in dias-mets.xml with its size and SHA-256 (so D.04 hashes every one of them
   and D.05 compares them all), and the info file ``{uuid}.xml`` is resealed with the new tar's and
   dias-mets.xml's size and SHA-256. addml.xml does not describe the N files, so AH.02 must report
   exactly N errors and nothing else may fail: the benchmark checks the ``--json`` report for
   that, so a run that skipped work would not pass.
3. Runs ``python -m extractor validate TAR --json R -q`` for the code of ``--before`` (exported from
   git, default ``main``) and for the working tree, through the bare launcher of
   ``bench/extract_bench.py`` (peak RSS from ``os.wait4``, wall and CPU time).
4. Writes a results block into ``--out`` (default docs/performance.md) between
   ``<!-- validate-tar:start -->`` and ``<!-- validate-tar:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "examples"))

import build_example_db  # noqa: E402
from extract_bench import (  # noqa: E402
    Measurement,
    RunFailed,
    commit_label,
    export_ref,
    load_average,
    publish_section,
    run_measured,
)
from validate_bench import Log, machine_table, uttrekk_exe  # noqa: E402

UUID = "6b0f5c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e"
STAMP = "2024-05-17T12:00:00"
MB = 1_000_000
INFO_NS = {"m": "http://www.loc.gov/METS/", "xlink": "http://www.w3.org/1999/xlink"}
EXTRA = "content/dokumenter"
OK_1 = '"$@"; rc=$?; [ "$rc" -le 1 ] || exit "$rc"'
"""The validation exits 1 (the extra files are AH.02 errors); the JSON report is checked instead."""


def base_package(exe: str, work: Path) -> Path:
    """A valid DIAS package of the example database; returns the tar (its info file is beside it)."""
    import subprocess

    work.mkdir(parents=True, exist_ok=True)
    db = work / "example.sqlite"
    build_example_db.build(db)
    extract, pkg = work / "extract", work / "pkg"
    for argv in ([exe, "extract", str(db), "--out", str(extract), "--profile",
                  str(ROOT / "profiles" / "example-kommune.toml"), "--date", STAMP[:10], "-q"],
                 [exe, "package", str(extract), "--out", str(pkg), "--uuid", UUID, "--timestamp", STAMP]):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[1:2])} failed: {done.stderr.strip()}")
    shutil.rmtree(extract)
    return pkg / f"{UUID}.tar"


def _mets_entry(n: int, size: int, digest: str) -> str:
    return (f'      <mets:file ID="benchFile_{n}" MIMETYPE="text/plain" SIZE="{size}" CREATED="{STAMP}+00:00" '
            f'CHECKSUM="{digest}" CHECKSUMTYPE="SHA-256" USE="Datafile">\n'
            f'        <mets:FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="file:{EXTRA}/{n:07d}.txt">'
            '</mets:FLocat>\n      </mets:file>\n')


def grow(base: Path, members: int, dest: Path) -> tuple[Path, int]:
    """``base`` with ``members`` more files in content/ (listed in dias-mets.xml), and its resealed info file.

    Streamed: tarfile's member list is emptied after every member, the METS entries go to a file.
    Returns the new tar and its number of members.
    """
    dest.mkdir(parents=True, exist_ok=True)
    tar_path = dest / base.name
    entries = dest / "mets-entries.part"
    mets_name = f"{UUID}/dias-mets.xml"
    count = 0
    with tarfile.open(base) as src, tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as dst, \
            open(entries, "w", encoding="ascii") as listing:
        mets_text = b""
        for m in src.getmembers():
            if m.name == mets_name:
                mets_text = src.extractfile(m).read()  # type: ignore[union-attr]
                continue
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
            count += 1
        folder = tarfile.TarInfo(f"{UUID}/{EXTRA}")
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, 1715947200
        dst.addfile(folder)
        count += 1
        for n in range(1, members + 1):
            data = f"dokument nummer {n}\n".encode()
            info = tarfile.TarInfo(f"{UUID}/{EXTRA}/{n:07d}.txt")
            info.size, info.mode, info.mtime = len(data), 0o644, 1715947200
            dst.addfile(info, io.BytesIO(data))
            dst.members.clear()  # type: ignore[attr-defined]  # tarfile keeps every TarInfo otherwise
            listing.write(_mets_entry(n, len(data), hashlib.sha256(data).hexdigest()))
        count += members
        close = b"    </mets:fileGrp>"
        head, sep, tail = mets_text.partition(close)
        if not sep:
            raise SystemExit("the base package's dias-mets.xml has no fileGrp to extend")
        listing.close()
        mets_file = dest / "dias-mets.xml"
        digest = hashlib.sha256()
        with open(mets_file, "wb") as out, open(entries, "rb") as part:
            for piece in (head, part, sep + tail):
                blocks = [piece] if isinstance(piece, bytes) else iter(lambda: part.read(1 << 20), b"")
                for block in blocks:
                    out.write(block)
                    digest.update(block)
        entries.unlink()
        info = tarfile.TarInfo(mets_name)
        info.size, info.mode, info.mtime = mets_file.stat().st_size, 0o644, 1715947200
        with open(mets_file, "rb") as fh:
            dst.addfile(info, fh)
        count += 1
    mets_size, mets_digest = mets_file.stat().st_size, digest.hexdigest()
    mets_file.unlink()
    _reseal_info(base.with_suffix(".xml"), tar_path, mets_size, mets_digest)
    return tar_path, count


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _reseal_info(base_info: Path, tar_path: Path, mets_size: int, mets_digest: str) -> None:
    doc = etree.parse(str(base_info))
    facts = {f"file:{tar_path.name}": (tar_path.stat().st_size, _sha256(tar_path)),
             f"file:{UUID}/dias-mets.xml": (mets_size, mets_digest)}
    for f in doc.iterfind(".//m:file", INFO_NS):
        href = f.find("m:FLocat", INFO_NS).get(f"{{{INFO_NS['xlink']}}}href")
        size, digest = facts[href]
        f.set("SIZE", str(size))
        f.set("CHECKSUM", digest)
    doc.write(str(tar_path.with_suffix(".xml")), xml_declaration=True, encoding="UTF-8")


@dataclass
class Row:
    code: str
    members: int
    tar_bytes: int
    m: Measurement


def check_report(path: Path, members: int) -> None:
    """The validation did its work: exactly ``members`` AH.02 errors, D.01-D.06 run, no other error."""
    report = json.loads(path.read_text(encoding="utf-8"))
    by_id = {c["id"]: c for c in report["checks"]}
    others = {k: c["errors"] for k, c in by_id.items() if c["errors"] and k != "AH.02"}
    missing = [k for k in ("D.01", "D.02", "D.03", "D.04", "D.05", "D.06") if k not in by_id]
    if by_id.get("AH.02", {}).get("errors") != members or others or missing:
        raise RunFailed(f"unexpected report: AH.02 errors {by_id.get('AH.02', {}).get('errors')} (want {members}), "
                        f"other errors {others}, checks not run {missing}")


def measure(src: Path, tar: Path, scratch: Path, members: int) -> Measurement:
    report = scratch / "report.json"
    report.unlink(missing_ok=True)
    argv = ["sh", "-c", OK_1, "sh", sys.executable, "-m", "extractor", "validate", str(tar), "--json", str(report), "-q"]
    m = run_measured(argv, {}, None, scratch, cwd=src)
    check_report(report, members)
    return m


def render(rows: list[Row], before: str | None, cmd: str, load: tuple[str, str]) -> str:
    lines = [
        f"Generated by `bench/validate_tar_bench.py` on {dt.date.today().isoformat()} (`{cmd}`); rerun it to refresh "
        "this block.", "",
        "Input: the example extract packaged by `uttrekk package` (a valid DIAS package), rewritten with N more "
        f"small files in `{EXTRA}/` (about 20 bytes each), every one listed in dias-mets.xml with its size and "
        "SHA-256 and the info file resealed; addml.xml does not describe them, so each run must report exactly N "
        "AH.02 errors and nothing else (checked in its `--json` report). Command: "
        "`python -m extractor validate TAR --json R -q`, peak RSS from `os.wait4` through the bare launcher of "
        "`bench/extract_bench.py`. All rows come from this one run on this machine.", "",
        *machine_table(load, "working tree", commit_label()),
        *([f"| before | `{before}` exported from git |"] if before else []), "",
        "| code | members | tar MB | seconds | CPU s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r.code} | {r.members:,} | {r.tar_bytes / MB:,.0f} | {r.m.seconds:.1f} | "
                     f"{r.m.cpu_seconds:.1f} | {r.m.peak_rss / MB:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", default="100000,1000000", help="extra member counts, comma-separated")
    p.add_argument("--before", default="main", help="git ref measured as 'before' ('' to skip)")
    p.add_argument("--tmpdir", default=None, help="where the tars are built (default: the system temp folder)")
    p.add_argument("--out", default="docs/performance.md", help="file to write the block into ('-' = print only)")
    args = p.parse_args(argv)
    counts = [int(x) for x in args.members.split(",") if x.strip()]
    log = Log()
    exe = uttrekk_exe()
    load_start = load_average()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="uttrekk-validate-tar-bench-", dir=args.tmpdir) as tmp:
        work = Path(tmp)
        codes: list[tuple[str, Path]] = []
        if args.before:
            commit = export_ref(args.before, work / "before")
            codes.append((f"before ({commit})", work / "before"))
        codes.append(("after (working tree)", ROOT))
        base = base_package(exe, work / "base")
        for n in counts:
            log(f"building a tar with {n:,} extra members ...")
            tar, total = grow(base, n, work / f"tar{n}")
            size = tar.stat().st_size
            log(f"{tar.name}: {total:,} members, {size / MB:,.0f} MB")
            for code, src in codes:
                try:
                    m = measure(src, tar, work, n)
                except RunFailed as exc:
                    log(f"{code}, {n:,} members: failed: {exc}")
                    return 1
                log(f"{code}, {n:,} members: {m.seconds:.1f} s, peak RSS {m.peak_rss / MB:.0f} MB")
                rows.append(Row(code, total, size, m))
            shutil.rmtree(work / f"tar{n}")
    raw = argv if argv is not None else sys.argv[1:]
    shown: list[str] = []
    for a in raw:  # without file paths: they are this machine's
        if shown and shown[-1] == "--tmpdir":
            shown.pop()
        elif not a.startswith("--tmpdir="):
            shown.append(a)
    cmd = " ".join(["python bench/validate_tar_bench.py", *shown])
    publish_section(args.out, "validate-tar", render(rows, args.before or None, cmd, (load_start, load_average())), log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
