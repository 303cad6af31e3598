"""A gzip, bzip2 or xz tar is recognised by its bytes, not its name, and read as a stream: validated
as the plain tar would be, with one warning that says what it is, that a depot and Arkade 5 take the
plain tar, and the command that gives it (the command really works). A zip archive, zstd and
compressed files that are not tars are refused (exit 2) in one line. A decompression bomb stops.

Compressed files are made three ways: Python's gzip/bz2/lzma modules over a package ``uttrekk
package`` wrote, Python's tarfile (``w:gz``...) over an extract folder, and the ``tar`` command.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.validation import Report, compressed
from extractor.validation.command import validate as validate_command
from tests.test_validate_dias import UUID, package
from tests.test_validate_support import error_ids, findings, make_extract, validate

COMPRESSORS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}
TOOLS = {"gzip": "gunzip", "bzip2": "bunzip2", "xz": "unxz"}
ARTICLE = {"gzip": "a", "bzip2": "a", "xz": "an"}


@pytest.fixture(scope="module")
def extract(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("compressed") / "extract")


@pytest.fixture(scope="module")
def built(extract: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package(extract, tmp_path_factory.mktemp("compressed-pkg"))


def refused(path: Path) -> str:
    """The one line validate prints for ``path``; exit code 2, no traceback."""
    res = CliRunner().invoke(validate_command, [str(path)])
    out = res.output
    assert res.exit_code == 2, out
    assert "Traceback" not in out
    assert out.startswith("uttrekk: error: ") and out.count("\n") == 1, out
    return out.strip()


def compression_warning(report: Report) -> str:
    """The one warning that names the compression (D.01 for a tar)."""
    hits = [f.message for f in findings(report, "D.01", "warning") if "-compressed tar" in f.message]
    assert len(hits) == 1, hits
    return hits[0]


def follow_advice(line: str, folder: Path) -> None:
    """Run the command the warning gives, in the file's folder."""
    command = re.search(r"decompress it: (.+)\)$", line)
    assert command, line
    subprocess.run(["sh", "-c", command.group(1)], cwd=folder, check=True)


def outcome(report: Report) -> list[tuple[str, int, int, list[str]]]:
    """Every check's counts and example messages, but the compression warning."""
    return [(c.id, c.errors, c.warnings - sum("-compressed tar" in f.message for f in c.examples),
             [f.message for f in c.examples if "-compressed tar" not in f.message]) for c in report.checks]


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_a_compressed_package_is_read_as_the_plain_tar_with_a_warning(built: Path, tmp_path: Path, kind: str) -> None:
    suffix = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz"}[kind]
    packed = tmp_path / f"{UUID}.tar{suffix}"
    packed.write_bytes(COMPRESSORS[kind](built.read_bytes()))
    shutil.copy(built.with_suffix(".xml"), tmp_path)  # lists {uuid}.tar: its checksum is the plain tar's

    report = validate(packed)

    assert report.kind == f"{kind}-compressed tar"
    assert error_ids(report) == {}  # D.04 and D.06 checksums compared on the decompressed bytes
    assert report.check("D.06") is not None and report.check("D.06").status == "ok"
    line = compression_warning(report)
    assert f"{ARTICLE[kind]} {kind}-compressed tar, read here as a stream" in line
    assert "Arkade 5 does not open a compressed one" in line and f"{TOOLS[kind]} -k" in line
    assert outcome(report) == outcome(validate(built))
    follow_advice(line, tmp_path)
    plain = tmp_path / f"{UUID}.tar"
    assert plain.read_bytes() == built.read_bytes()


@pytest.mark.parametrize("mode, name", [("w:gz", "x.tgz"), ("w:bz2", "x.tbz2"), ("w:xz", "x.txz")])
def test_a_tar_python_compressed_is_named_for_what_it_is(extract: Path, tmp_path: Path, mode: str, name: str) -> None:
    packed = tmp_path / name
    with tarfile.open(packed, mode) as tf:
        tf.add(extract, arcname="x")
    kind = {"gz": "gzip", "bz2": "bzip2", "xz": "xz"}[mode[2:]]
    report = validate(packed)
    assert report.errors == 0
    line = compression_warning(report)
    assert f"{ARTICLE[kind]} {kind}-compressed tar," in line
    follow_advice(line, tmp_path)
    assert (tmp_path / "x.tar").is_file() and validate(tmp_path / "x.tar").errors == 0


@pytest.mark.parametrize("flag, kind", [("-z", "gzip"), ("-j", "bzip2"), ("-J", "xz")])
def test_a_tar_made_by_the_tar_command_is_told_by_content_not_by_its_name(extract: Path, tmp_path: Path, flag: str,
                                                                          kind: str) -> None:
    packed = tmp_path / "pakke.tar"  # the name says plain tar; the bytes do not
    subprocess.run(["tar", "-c", flag, "-f", str(packed), "-C", str(extract.parent), extract.name], check=True)
    report = validate(packed)
    assert report.errors == 0 and report.kind == f"{kind}-compressed tar"
    line = compression_warning(report)
    follow_advice(line, tmp_path)  # the tools want their suffix: the advice renames first
    with tarfile.open(tmp_path / "pakke.tar", "r:") as tf:  # plain now: "r:" refuses compressed input
        assert any(n.endswith("content/addml.xml") for n in tf.getnames())
    assert validate(tmp_path / "pakke.tar").errors == 0


def test_a_decompression_bomb_stops_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compressed, "BOMB_GRACE", 1 << 20)  # the real grace is 1 GiB; the rule is the same
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        info = tarfile.TarInfo("x/content/addml.xml")
        info.size = 64 << 20
        tf.addfile(info, io.BytesIO(bytes(info.size)))
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip.compress(raw.getvalue(), 9))
    assert bomb.stat().st_size < (64 << 20) // 500
    line = refused(bomb)
    assert "a decompression bomb" in line


def test_a_hostile_member_in_a_compressed_tar_is_refused(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"evil"))
    packed = tmp_path / "evil.tar.xz"
    packed.write_bytes(lzma.compress(raw.getvalue()))
    assert "points outside the package" in refused(packed)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_a_zstd_tar_is_refused_with_the_command(tmp_path: Path) -> None:
    packed = tmp_path / "x.tar.zst"
    packed.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(64))
    line = refused(packed)
    assert "a zstd-compressed file" in line and "unzstd -k x.tar.zst" in line


def test_compressed_files_that_are_not_tars(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt.gz"
    text.write_bytes(gzip.compress(b"just some text\n" * 100))
    assert "a gzip-compressed file, not a tar;" in refused(text)
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"\x1f\x8b" + b"not deflate data at all" * 10)
    assert "a gzip-compressed file that cannot be decompressed;" in refused(broken)
    archive = tmp_path / "pakke.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("content/addml.xml", "<addml/>")
    assert "a zip archive;" in refused(archive)


def test_a_plain_tar_is_still_read(built: Path) -> None:
    assert validate(built).errors == 0
