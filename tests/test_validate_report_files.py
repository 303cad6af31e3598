"""``validate --json/--html`` write a report whole or not at all, and a write that fails is one line.

The failures are real: the CLI runs in a subprocess whose file size limit (RLIMIT_FSIZE, with
SIGXFSZ ignored so write() gets EFBIG) is below the report's size; /dev/full gives ENOSPC; a
missing folder gives ENOENT; the temporary key database meets the same size limit. In process, a
report whose JSON serialisation raises part-way shows the partial temporary file is removed. Every
report is read back with json, every folder listed with pathlib.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from extractor.errors import OutputError
from extractor.validation import report as report_module
from extractor.validation.findings import Report
from tests.test_validate_support import make_extract

ROOT = Path(__file__).resolve().parent.parent
LIMITED = """\
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["uttrekk", *sys.argv[2:]]
from extractor.cli import main
main()
"""
"""Runs the uttrekk CLI with no file larger than argv[1] bytes."""


@pytest.fixture(scope="module")
def extract(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("reports") / "extract")


def cli(*args: str | Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", LIMITED, str(limit or 2**40), *map(str, args)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def one_error_line(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("uttrekk: error: "), done.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("option", ["--json", "--html"])
def test_a_report_too_big_for_the_file_size_limit_leaves_the_old_file_untouched(extract: Path, tmp_path: Path,
                                                                                option: str) -> None:
    full = tmp_path / "full.out"
    done = cli("validate", extract, option, full, "-q", "--tmpdir", tmp_path)
    assert done.returncode == 0, done.stderr
    size = full.stat().st_size
    assert size > 8192
    target = tmp_path / "report.out"
    target.write_bytes(b"the report of yesterday\n")

    done = cli("validate", extract, option, target, "-q", "--tmpdir", tmp_path, limit=size // 2)

    kind = "JSON" if option == "--json" else "HTML"
    one_error_line(done, str(target), f"cannot write the {kind} report", "File too large", "nothing was written")
    assert target.read_bytes() == b"the report of yesterday\n"
    assert leftovers(tmp_path) == []


def test_a_new_report_that_cannot_be_written_leaves_no_file(extract: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    done = cli("validate", extract, "--json", target, "-q", "--tmpdir", tmp_path, limit=4096)
    one_error_line(done, str(target), "File too large", "nothing was written")
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_a_full_device_and_a_missing_folder_are_one_line_each(extract: Path, tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    one_error_line(cli("validate", extract, "--json", "/dev/full", "-q"), "/dev/full", "No space left on device",
                   "nothing was written")
    missing = tmp_path / "no-such-folder" / "r.html"
    one_error_line(cli("validate", extract, "--html", missing, "-q"), str(missing), "No such file or directory")
    assert not missing.parent.exists()


def test_a_report_written_whole_replaces_the_old_one(extract: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")
    done = cli("validate", extract, "--json", target, "-q")
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["path"] == str(extract)
    assert leftovers(tmp_path) == []


def test_a_full_temporary_disk_is_one_line(tmp_path: Path, example_db: Path) -> None:
    """The temporary databases (here a tar's member list, its page cache made tiny so that pages go to
    disk at once) meet the file size limit: one line naming the folder and --tmpdir."""
    from tests.test_validate_dias import package, rewrite

    tar = package(make_extract(example_db, tmp_path / "x"), tmp_path / "pkg")
    rewrite(tar, lambda m, data: [(m, data)], extra=tuple((f"content/extra/{n:04d}.txt", b"x") for n in range(500)))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    tiny_cache = LIMITED.replace("from extractor.cli import main", "from extractor.validation import keystore\n"
                                 "keystore.KeyStore.side_db.__defaults__ = (16,)\nfrom extractor.cli import main")
    argv = [sys.executable, "-c", tiny_cache, "2048", "validate", str(tar), "-q", "--tmpdir", str(scratch)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    one_error_line(done, str(scratch), "temporary database", "--tmpdir", "no report was written")
    assert list(scratch.iterdir()) == []  # the temporary folder is removed all the same


def test_a_report_whose_serialisation_fails_part_way_leaves_nothing(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")
    report = Report("x", "directory", "8.3", [], [])
    monkeypatch.setattr(Report, "to_dict", lambda self: {"long": "x" * 300_000, "bad": object()})
    removed: list[int] = []
    unlink = Path.unlink

    def spy(self: Path, *args: Any, **kw: Any) -> None:
        if self.name.endswith(".tmp"):
            removed.append(self.stat().st_size)
        unlink(self, *args, **kw)
    monkeypatch.setattr(Path, "unlink", spy)

    with pytest.raises(TypeError):
        report_module.write_json(report, target)

    assert removed and removed[0] > 200_000  # it was written part-way, then removed
    assert target.read_text(encoding="utf-8") == "old"
    assert leftovers(tmp_path) == []


def test_output_error_is_what_write_failures_raise(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="nothing was written"):
        report_module.write_html(Report("x", "directory", "8.3", [], []), tmp_path / "missing" / "r.html")
