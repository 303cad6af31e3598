"""The source is untouchable and the work folder of an earlier run is hostile input.

- ``--out`` (and ``--package``, ``package --out``) that is, holds, or would replace the source is
  refused before anything is written, whatever name (link, ``..``, URL) points there;
- an interrupted run's partial folder is the operator's alone (mode 0700); one that is not, or that
  holds links, is never resumed from; every kept table is checked (JSON only, its file's SHA-256,
  its LOB files inside its own folder) and redone with a report line when it fails;
- a full disk, SIGTERM and a failed package end in one line and leave no new empty folder.

Interrupted runs are made for real: the CLI in a subprocess whose largest file may not grow past
a limit (``RLIMIT_FSIZE``), so the second table's write fails with EFBIG the way a full disk fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import fails, run
from tests.test_parallel_resume import same_tree

ROOT = Path(__file__).resolve().parent.parent
UTTREKK = [sys.executable, "-m", "extractor"]
DATE = "2026-01-31"
LIMIT = 256 * 1024
"""Largest file the interrupted run may write: a_liten fits, b_stor does not."""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("src") / "kilde.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE a_liten (id INTEGER PRIMARY KEY, navn TEXT, vedlegg BLOB)")
    con.execute("CREATE TABLE b_stor (id INTEGER PRIMARY KEY, tekst TEXT)")
    con.executemany("INSERT INTO a_liten VALUES (?,?,?)",
                    [(i, f"Ærlig {i}", bytes([i]) * 50 if i % 10 == 0 else None) for i in range(1, 60)])
    con.executemany("INSERT INTO b_stor VALUES (?,?)", [(i, f"rad {i} " + "x" * 40) for i in range(20_000)])
    con.commit()
    con.close()
    return db


@pytest.fixture(scope="module")
def whole(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "o"
    r = run("extract", source, "--out", out, "--date", DATE, "-q")
    assert r.exit_code == 0, r.output
    return out


def cli(*args: object, limit: int | None = None, **kw) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([*UTTREKK, *map(str, args)], capture_output=True, text=True, preexec_fn=cap,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, **kw)


def one_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("uttrekk: error:") == 1, proc.stderr
    for f in fragments:
        assert f in proc.stderr, (f, proc.stderr)
    return proc.stderr


@pytest.fixture(scope="module")
def interrupted_template(source, tmp_path_factory) -> Path:
    """A real interrupted run: a_liten finished, b_stor's file hit the size limit."""
    base = tmp_path_factory.mktemp("interrupted")
    proc = cli("extract", source, "--out", base / "o", "--date", DATE, "-q", limit=LIMIT)
    one_error(proc, "table b_stor", "larger than this system allows", "Nothing was published", "--resume")
    partial = base / ".o.uttrekk-partial"
    assert (partial / "work" / "a_liten.done.json").is_file()
    assert not (partial / "work" / "b_stor.done.json").exists()
    assert not (base / "o").exists()
    return base


@pytest.fixture()
def interrupted(interrupted_template, tmp_path) -> Path:
    """A private copy of the interrupted run's folder (owner, modes and all); returns the partial folder."""
    shutil.copytree(interrupted_template / ".o.uttrekk-partial", tmp_path / ".o.uttrekk-partial", symlinks=True)
    os.chmod(tmp_path / ".o.uttrekk-partial", 0o700)
    return tmp_path / ".o.uttrekk-partial"


def resume(source: Path, partial: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = partial.parent / "o"
    proc = cli("extract", source, "--out", out, "--date", DATE, "-q", "--resume")
    assert proc.returncode == 0, proc.stderr
    return proc, out


# --- 1. the source is untouchable -------------------------------------------------------------------

def _unchanged(db: Path, before: tuple[str, int]) -> None:
    assert db.exists() and (digest(db), db.stat().st_mtime_ns) == before


@pytest.mark.parametrize("how", ["folder", "parent", "link", "dotdot", "url"])
def test_out_that_holds_the_source_is_refused_even_with_overwrite(tmp_path, source, how):
    home = tmp_path / "data"
    home.mkdir()
    db = home / "kilde.sqlite"
    shutil.copy2(source, db)
    (home / "notes.txt").write_text("the customer's own file")
    before = (digest(db), db.stat().st_mtime_ns)
    src: str | Path = db
    if how == "folder":
        out = home
    elif how == "parent":
        out = tmp_path
    elif how == "link":
        (tmp_path / "alias").symlink_to(home, target_is_directory=True)
        out = tmp_path / "alias"
    elif how == "dotdot":
        (tmp_path / "x").mkdir()
        out = tmp_path / "x" / ".." / "data"
    else:
        src, out = f"sqlite:///{db}", home
    fails(run("extract", src, "--out", out, "--overwrite", "-q"), "holds the source", str(db))
    _unchanged(db, before)
    assert (home / "notes.txt").read_text() == "the customer's own file"
    assert not any(p.name.endswith((".uttrekk-partial", ".uttrekk-old")) for p in tmp_path.rglob(".*"))


def test_out_beside_the_source_is_fine(tmp_path, source):
    db = tmp_path / "kilde.sqlite"
    shutil.copy2(source, db)
    before = (digest(db), db.stat().st_mtime_ns)
    r = run("extract", db, "--out", tmp_path / "ut", "-q")
    assert r.exit_code == 0, r.output
    r = run("extract", db, "--out", tmp_path / "ut", "--overwrite", "-q")
    assert r.exit_code == 0, r.output
    _unchanged(db, before)


def test_a_source_where_the_run_keeps_its_partial_or_old_folder_is_refused(tmp_path, source):
    for hidden in (".o.uttrekk-partial", ".o.uttrekk-old"):
        folder = tmp_path / hidden
        folder.mkdir()
        db = folder / "kilde.sqlite"
        shutil.copy2(source, db)
        before = (digest(db), db.stat().st_mtime_ns)
        fails(run("extract", db, "--out", tmp_path / "o", "-q"), hidden, "holds the source")
        fails(run("extract", db, "--out", tmp_path / "o", "--resume", "-q"), hidden)
        _unchanged(db, before)
        shutil.rmtree(folder)


def test_package_that_is_the_source_is_refused_before_extracting(tmp_path, source):
    db = tmp_path / "kilde.sqlite"
    shutil.copy2(source, db)
    before = (digest(db), db.stat().st_mtime_ns)
    r = run("extract", db, "--out", tmp_path / "o", "--package", db, "-q")
    assert r.exit_code != 0 and "--package" in r.output
    (tmp_path / "alias").symlink_to(db)
    r = run("extract", db, "--out", tmp_path / "o", "--package", tmp_path / "alias", "-q")
    assert r.exit_code != 0 and "--package" in r.output
    assert not (tmp_path / "o").exists()
    _unchanged(db, before)


def test_package_out_never_replaces_the_extract(tmp_path, whole):
    ex = tmp_path / "ex"
    shutil.copytree(whole, ex)
    uuid = "3f2b8c1e-6a4d-4f7e-9b1a-2c5d8e0f1a3b"
    fails(run("package", ex, "--out", ex, "--uuid", uuid, "--overwrite"), "is the extract")
    fails(run("package", ex, "--out", ex / "content", "--uuid", uuid), "inside the extract")
    tar_named = tmp_path / "pk" / f"{uuid}.tar"
    shutil.copytree(whole, tar_named)
    fails(run("package", tar_named, "--out", tmp_path / "pk", "--uuid", uuid, "--overwrite"), f"{uuid}.tar")
    assert (tar_named / "content" / "addml.xml").is_file()
    assert same_tree(ex, whole) == []


# --- 2. the partial folder is the operator's, and nothing in it runs -----------------------------------

def test_partial_folder_is_owner_only(interrupted_template):
    mode = stat.S_IMODE((interrupted_template / ".o.uttrekk-partial").stat().st_mode)
    assert mode == 0o700, oct(mode)


def test_published_extract_is_an_ordinary_folder(whole):
    mode = stat.S_IMODE(whole.stat().st_mode)
    assert mode & 0o700 == 0o700 and not mode & 0o022, oct(mode)


def test_clean_resume_reuses_the_finished_table_byte_identically(source, whole, interrupted):
    proc, out = resume(source, interrupted)
    assert "Resumed: 1 table(s) reused" in proc.stdout
    assert same_tree(out / "content", whole / "content") == []
    assert "extracted again" not in proc.stderr


def test_no_pickle_is_ever_read(source, whole, interrupted, tmp_path):
    """A pickle planted in the work folder would run code when loaded; it is not even opened."""
    canary = tmp_path / "pwned"
    evil = b"cos\nsystem\n(S'touch " + str(canary).encode() + b"'\ntR."
    for name in ("a_liten.scan.pickle", "b_stor.scan.pickle", "run.pickle"):
        (interrupted / "work" / name).write_bytes(evil)
    proc, out = resume(source, interrupted)
    assert not canary.exists()
    assert same_tree(out / "content", whole / "content") == []
    assert "Resumed: 1 table(s) reused" in proc.stdout


@pytest.mark.parametrize("damage, reason", [
    ("scan_garbage", "a_liten"),
    ("scan_pickle_bytes", "a_liten"),
    ("scan_wrong_type", "TableScanned.scan.rows"),
    ("scan_unknown_key", "unknown keys"),
    ("marker_garbage", "a_liten"),
    ("marker_foreign_file", "not this table's"),
    ("file_changed", "SHA-256 differs"),
    ("file_cut", "not the size recorded"),
    ("lob_outside", "outside lob/a_liten/"),
    ("lob_missing", "missing or not the size listed"),
])
def test_damaged_or_foreign_entry_makes_the_table_be_redone(source, whole, interrupted, damage, reason):
    work, content = interrupted / "work", interrupted / "content"
    scan, marker = work / "a_liten.scan.json", work / "a_liten.done.json"
    table_file = next(content.glob("a_liten.*"))
    if damage == "scan_garbage":
        scan.write_bytes(b"{not json")
    elif damage == "scan_pickle_bytes":
        scan.write_bytes(b"\x80\x05\x95\x00")
    elif damage == "scan_wrong_type":
        data = json.loads(scan.read_text())
        data["scan"]["rows"] = "59"
        scan.write_text(json.dumps(data))
    elif damage == "scan_unknown_key":
        data = json.loads(scan.read_text())
        data["scan"]["__class__"] = "os.system"
        scan.write_text(json.dumps(data))
    elif damage == "marker_garbage":
        marker.write_text("[]")
    elif damage == "marker_foreign_file":
        data = json.loads(marker.read_text())
        data["file"]["name"] = "../../../etc/passwd"
        marker.write_text(json.dumps(data))
    elif damage == "file_changed":
        raw = bytearray(table_file.read_bytes())
        raw[10] ^= 1
        table_file.write_bytes(bytes(raw))
    elif damage == "file_cut":
        table_file.write_bytes(table_file.read_bytes()[:-5])
    else:
        lobs = work / "a_liten.lobs.jsonl"
        lines = [json.loads(x) for x in lobs.read_text().splitlines()]
        assert lines, "the fixture must give a_liten LOB files"
        if damage == "lob_outside":
            lines[0]["fil"] = "../../../etc/passwd"
        else:
            (content / lines[0]["fil"]).unlink()
        lobs.write_text("".join(json.dumps(x) + "\n" for x in lines))
    proc, out = resume(source, interrupted)
    assert "Resumed:" not in proc.stdout
    notes = [ln for ln in proc.stderr.splitlines() if "extracted again" in ln]
    assert len(notes) == 1 and "a_liten" in notes[0] and reason in notes[0], proc.stderr
    assert same_tree(out / "content", whole / "content") == []
    report = json.loads((out / "report" / "extraction.json").read_text())
    assert any("a_liten" in w and "extracted again" in w for w in report["warnings"])


@pytest.mark.parametrize("plant", ["group_writable", "link_to_outside", "link_as_folder", "fifo"])
def test_untrusted_partial_folder_is_never_resumed_from(source, whole, interrupted, tmp_path, plant):
    victim = tmp_path / "victim.txt"
    victim.write_text("must stay")
    content = interrupted / "content"
    if plant == "group_writable":
        os.chmod(interrupted, 0o770)
        why = "can be written by other users"
    elif plant == "link_to_outside":
        (content / "b_stor.txt").unlink(missing_ok=True)
        (content / "b_stor.txt").symlink_to(victim)  # the table the resume writes
        why = "is a link"
    elif plant == "link_as_folder":
        shutil.rmtree(interrupted)
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "keep.txt").write_text("keep")
        interrupted.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
        why = "not a plain folder"
    else:
        os.mkfifo(content / "pipe")
        why = "special file"
    proc, out = resume(source, interrupted)
    assert "Resumed:" not in proc.stdout
    assert why in proc.stderr and "nothing was reused" in proc.stderr, proc.stderr
    assert victim.read_text() == "must stay"
    if plant == "link_as_folder":
        assert (tmp_path / "elsewhere" / "keep.txt").read_text() == "keep"
    assert same_tree(out / "content", whole / "content") == []


# --- full disk, SIGTERM, package leftovers -------------------------------------------------------

def test_full_disk_without_a_finished_table_publishes_nothing(source, tmp_path):
    proc = cli("extract", source, "--out", tmp_path / "o", "-q", limit=200)
    one_error(proc, "table a_liten", "larger than this system allows", "Nothing was published")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sigterm_is_said_like_ctrl_c_and_keeps_what_is_finished(source, tmp_path):
    big = tmp_path / "stor.sqlite"
    con = sqlite3.connect(big)
    con.execute("CREATE TABLE a_liten (id INTEGER PRIMARY KEY, navn TEXT)")
    con.execute("CREATE TABLE b_stor (id INTEGER PRIMARY KEY, tekst TEXT)")
    con.executemany("INSERT INTO a_liten VALUES (?,?)", [(i, f"n{i}") for i in range(50)])
    con.executemany("INSERT INTO b_stor VALUES (?,?)", ((i, f"rad {i}") for i in range(600_000)))
    con.commit()
    con.close()
    proc = subprocess.Popen([*UTTREKK, "extract", str(big), "--out", str(tmp_path / "o"), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    marker = tmp_path / ".o.uttrekk-partial" / "work" / "a_liten.done.json"
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "finished before SIGTERM; make b_stor bigger"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        "uttrekk: terminated (SIGTERM); nothing was published (tables already finished are kept for --resume)"]
    assert marker.exists() and not (tmp_path / "o").exists()


def test_failed_package_leaves_no_new_folder(whole, tmp_path):
    ex = tmp_path / "ex"
    shutil.copytree(whole, ex)
    (ex / "content" / "addml.xml").write_bytes(b"<broken")
    r = run("package", ex, "--out", tmp_path / "new" / "deeper", "--archive-creator", "Kommune")
    assert r.exit_code != 0
    assert not (tmp_path / "new").exists()


def test_full_disk_while_packaging_is_one_line_and_leaves_nothing(whole, tmp_path):
    proc = cli("package", whole, "--out", tmp_path / "pk", "--archive-creator", "Kommune", limit=64 * 1024)
    one_error(proc, "could not write the package", "larger than this system allows", "nothing was published")
    assert not (tmp_path / "pk").exists()
