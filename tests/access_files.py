"""Real MS Access files and the independent readers the Access tests compare uttrekk's reader with.

The files come from pinned registry packages, fetched once into a cache and checked by SHA-256:

- ``meza.mdb``: ``data/test/test.mdb`` of the PyPI sdist ``meza==0.47.0`` (Jet 4; dates from the
  1600s and 1700s, before Access's day 0; a Memo column; an AutoNumber primary key);
- ``fruit.mdb``: ``test/fruit.mdb`` of the npm package ``mdb@0.1.0`` (Jet 4; five tables, four
  relationships with referential integrity, saved queries).

Two ACE (``.accdb``) files from the Swiss Federal Archives' JdbcAccess tests (CDDL 1.0, whose section
3.1 asks for a copy of the licence with every copy, which this repository does not carry) are used
when ``ace_files`` finds them.

Readers: ``mdb_reader`` runs mdb-reader 3.2.0 (npm, pinned with its dependencies in
``tests/access_reader/package-lock.json``) under Node.js; ``mdbtools`` runs Debian's mdbtools as the
unprivileged account (``throwaway.run_as``) with a timeout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PINNED = {
    "meza.mdb": ("pypi", "meza==0.47.0", "meza-0.47.0/data/test/test.mdb",
                 "25e6ab494c34d61017f67e05c63b5e6685fe344f322297064e6993174ac17430"),
    "fruit.mdb": ("npm", "mdb@0.1.0", "package/test/fruit.mdb",
                  "e62eac8a7d29062328484aa0477ab897f3e9fb3abbd4de26d2e7748a8e0bce79"),
}
ACE_FILES = {"TestDataSource.accdb": "TestDataSource.accdb", "testdb.accdb": "testdb.accdb"}


def downloads() -> Path:
    root = Path(os.environ.get("UTTREKK_TEST_DOWNLOADS") or Path.home() / ".cache" / "uttrekk-tests")
    root.mkdir(parents=True, exist_ok=True)
    return root


def real_file(name: str) -> Path:
    """One pinned real Access file (fetched by package name and version the first time)."""
    registry, package, member, digest = PINNED[name]
    path = downloads() / name
    if not path.exists() or _sha256(path) != digest:
        with tempfile.TemporaryDirectory() as tmp:
            if registry == "pypi":
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                                "-d", tmp, package], check=True, timeout=300)
            else:
                subprocess.run(["npm", "pack", "--silent", package], cwd=tmp, check=True, timeout=300,
                               stdout=subprocess.DEVNULL)
            archive = next(Path(tmp).glob("*.t*gz"))
            with tarfile.open(archive) as tar:
                fh = tar.extractfile(member)
                assert fh is not None
                data = fh.read()
        assert hashlib.sha256(data).hexdigest() == digest, f"{package}: {member} is not the pinned file"
        path.write_bytes(data)
    return path


def ace_files() -> list[Path]:
    """The ACE files from ``$UTTREKK_TEST_ACCESS_DIR``, else from ``shared/fixtures/access`` in a folder
    above the repository (the project's shared folder lies beside its clones)."""
    given = os.environ.get("UTTREKK_TEST_ACCESS_DIR")
    folders = [Path(given)] if given else [p / "shared" / "fixtures" / "access" for p in HERE.parents]
    folder = next((f for f in folders if f.is_dir()), None)
    return [folder / n for n in ACE_FILES if (folder / n).is_file()] if folder else []


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mdb_reader(path: Path, *tables: str) -> dict:
    """Every user table (or ``tables``) as mdb-reader reads it (``{table: {"columns": [[name, type]],
    "rows": [dict]}}``)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the Access tests' independent reader")
    place = downloads() / "access_reader"
    lock = (HERE / "access_reader" / "package-lock.json").read_bytes()
    if not (place / "node_modules" / "mdb-reader").is_dir() or (place / "package-lock.json").read_bytes() != lock:
        place.mkdir(exist_ok=True)
        for name in ("package.json", "package-lock.json", "dump.mjs"):
            shutil.copy(HERE / "access_reader" / name, place / name)
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=place, check=True, timeout=600)
    shutil.copy(HERE / "access_reader" / "dump.mjs", place / "dump.mjs")
    out = subprocess.run(["node", str(place / "dump.mjs"), str(path), *tables], capture_output=True, check=True,
                         timeout=120)
    return json.loads(out.stdout)


def mdbtools(*argv: str, file: Path) -> str:
    """An mdbtools program on a copy of ``file`` (readable by the unprivileged account), as that
    account, with a timeout; its standard output."""
    from dialects.kinds.throwaway import run_as, server_account

    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} (Debian package mdbtools) is missing: run scripts/test-services.sh")
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        os.chmod(tmp, 0o755)
        copy = Path(tmp) / file.name
        shutil.copy(file, copy)
        os.chmod(copy, 0o644)
        proc = run_as(server_account(), [*argv, str(copy)] if "{}" not in argv else
                      [a.replace("{}", str(copy)) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode(errors="replace")
    return out.decode("utf-8")
