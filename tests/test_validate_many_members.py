"""A tar (or folder) with many members: every finding is still counted, and nothing per member is
kept in Python: the member list lives in a table on disk (extractor/validation/file_index.py).

Memory itself is measured by bench/validate_tar_bench.py (docs/performance.md); here the batch
sizes are made tiny so a few hundred members cross many batch boundaries, and the objects that
used to hold per-member lists and dicts are inspected for any container that grows with the
member count.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from extractor.validation import dias_checks, file_index, source
from tests.test_validate_dias import METS, edit_mets, package, reseal_info, rewrite
from tests.test_validate_hostile import GOOD, make_tar, member, run
from tests.test_validate_support import error_ids, make_extract, validate

EXTRA = 300
"""Extra members: far more than the tiny batches below, far more than any container may hold."""
SMALL = 40


@pytest.fixture()
def tiny_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_index, "_BATCH", 7)
    monkeypatch.setattr(dias_checks, "LISTING_BATCH", 5)


@pytest.fixture(scope="module")
def extract(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("many") / "extract")


def containers(obj: Any) -> Iterator[tuple[str, int]]:
    """(attribute, length) of every list, tuple, dict or set the object holds."""
    for name, value in vars(obj).items():
        if isinstance(value, (list, tuple, dict, set, frozenset)):
            yield name, len(value)


def _capture(monkeypatch: pytest.MonkeyPatch, cls: type, seen: list[Any]) -> None:
    init = cls.__init__

    def keep(self: Any, *args: Any, **kw: Any) -> None:
        init(self, *args, **kw)
        seen.append(self)
    monkeypatch.setattr(cls, "__init__", keep)


def test_a_tar_with_many_members_is_checked_in_full_without_a_list_of_them(
        extract: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_batches: None) -> None:
    tar = package(extract, tmp_path / "pkg")
    files = [(f"content/extra/{n:04d}.txt", f"extra {n}\n".encode()) for n in range(EXTRA)]
    listed = files[::2]

    def add_listings(root: etree._Element) -> None:
        group = root.find(".//m:fileGrp", METS)
        for n, (name, data) in enumerate([*listed, ("content/extra/gone.txt", b"")]):
            f = etree.SubElement(group, f"{{{METS['m']}}}file", ID=f"extra_{n}", MIMETYPE="text/plain",
                                 SIZE=str(len(data)), CREATED="2024-05-17T12:00:00+00:00",
                                 CHECKSUM=hashlib.sha256(data).hexdigest(), CHECKSUMTYPE="SHA-256")
            etree.SubElement(f, f"{{{METS['m']}}}FLocat", LOCTYPE="URL",
                             attrib={f"{{{METS['xlink']}}}href": f"file:{name}", f"{{{METS['xlink']}}}type": "simple"})
    rewrite(tar, edit_mets(add_listings), extra=tuple(files))
    reseal_info(tar)
    seen: list[Any] = []
    _capture(monkeypatch, dias_checks.PackageCheck, seen)

    report = validate(tar)

    assert error_ids(report) == {"AH.02": EXTRA, "D.04": 1, "D.05": EXTRA - len(listed)}
    d04 = report.check("D.04")
    assert d04 is not None and [f.file for f in d04.examples] == ["content/extra/gone.txt"]
    d05 = report.check("D.05")
    assert d05 is not None and [f.file for f in d05.examples][:3] == [n for n, _ in files[1::2][:3]]
    (pkg,) = seen
    tar_source = pkg.source
    assert tar_source._tar.members == []  # tarfile's own list of every TarInfo
    for obj in (tar_source, pkg):
        grown = {name: n for name, n in containers(obj) if n >= SMALL}
        assert not grown, f"{type(obj).__name__} holds per-member containers: {grown}"


def test_a_folder_with_many_files_is_checked_in_full_without_a_list_of_them(
        extract: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_batches: None) -> None:
    folder = shutil.copytree(extract, tmp_path / "x")
    (folder / "content" / "extra").mkdir()
    for n in range(EXTRA):
        (folder / "content" / "extra" / f"{n:04d}.txt").write_bytes(b"x")
    seen: list[Any] = []
    _capture(monkeypatch, source.FolderSource, seen)

    report = validate(folder)

    assert error_ids(report) == {"AH.02": EXTRA}
    ah02 = report.check("AH.02")
    assert ah02 is not None and [f.file for f in ah02.examples if f.severity == "error"][:2] == [
        "extra/0000.txt", "extra/0001.txt"]
    (folder_source,) = seen
    grown = {name: n for name, n in containers(folder_source) if n >= SMALL}
    assert not grown, f"FolderSource holds per-file containers: {grown}"


def test_a_name_repeated_batches_later_is_refused(tmp_path: Path, tiny_batches: None) -> None:
    members = [GOOD, *((member(f"pkg/content/f{n}.txt"), b"x") for n in range(30)), (member("pkg/content/f3.txt"), b"y")]
    code, out = run(make_tar(tmp_path / "dup.tar", members))
    assert code == 2 and "'pkg/content/f3.txt' occurs twice" in out, out
    assert "Traceback" not in out
