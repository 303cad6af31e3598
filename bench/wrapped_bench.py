"""Reading a dump through its layers (dialects/kinds/wrapped.py): MB/s of content per wrapper.

    .venv/bin/python bench/wrapped_bench.py [MB]

Makes a SQL-like dump of MB megabytes (default 200) in a temporary folder, wraps it with the
machine's gzip, bzip2, xz, zstd, zip and tar, and times ``Probe.open_content`` reading all of it
(what a dump kind does while it restores), against reading the plain file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dialects.kinds import probe_of


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plain = work / "d.sql"
        with plain.open("w", encoding="utf-8") as fh:
            i = 0
            while fh.tell() < size << 20:
                fh.write("".join(f"INSERT INTO sak VALUES ({j}, 'Sámi čáhci – {j * 7919 % 100003}', "
                                 f"'{j:08x}');\n" for j in range(i, i + 10_000)))
                i += 10_000
        made = {"plain": plain}
        for name, argv, out in (("gzip", ["gzip", "-k", "-6"], "d.sql.gz"), ("bzip2", ["bzip2", "-k"], "d.sql.bz2"),
                                ("xz", ["xz", "-k", "-T2", "-3"], "d.sql.xz"), ("zstd", ["zstd", "-q", "-k"], "d.sql.zst"),
                                ("zip", ["zip", "-q", "d.zip"], "d.zip"), ("tar.gz", ["tar", "czf", "d.tgz"], "d.tgz")):
            subprocess.run([*argv, "d.sql"], cwd=work, check=True)
            made[name] = work / out
        total = plain.stat().st_size
        print(f"content {total / 1e6:.0f} MB")
        for name, path in made.items():
            start = time.perf_counter()
            probe = probe_of(str(path))
            with probe.open_content() as fh:
                read = 0
                while data := fh.read(1 << 20):
                    read += len(data)
            took = time.perf_counter() - start
            assert read == total, (name, read, total)
            print(f"{name:<7} file {path.stat().st_size / 1e6:7.1f} MB  {took:6.2f} s  {total / 1e6 / took:7.0f} MB/s")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
