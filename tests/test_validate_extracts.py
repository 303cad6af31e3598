"""Every extract uttrekk writes of the example database validates without errors.

Arkade 5 reads fixed-width values with their padding, so uttrekk's fixed-width addml.xml names
Control_DataFormat, Control_NotNull and Control_ForeignKey only where padding cannot break them;
the fixed-width tests pin that down.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from tests.test_validate_support import error_ids, findings, make_extract, validate


@pytest.fixture(scope="module")
def delimited(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("vx") / "delimited")


@pytest.fixture(scope="module")
def fixed(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("vx") / "fixed", "fixed")


def test_delimited_extract_has_no_errors(delimited: Path) -> None:
    report = validate(delimited)
    assert report.errors == 0, error_ids(report)
    assert report.exit_code == 0
    assert report.addml_version == "8.3"
    # The Arkade processes uttrekk names really ran, with the record counts of the source.
    for check in ("A.01", "A.12", "A.15", "A.16", "A.19", "A.20", "A.21", "A.22", "A.35", "A.36", "AH.01", "AH.02",
                  "AH.03", "U.01", "U.02", "U.03", "U.04", "U.05", "U.06"):
        assert report.check(check) is not None, check
    assert findings(report, "A.12", "info", file="SAK.txt")[0].message == "Number of records (200) matched"
    assert {f.file: f.records for f in report.files}["SAK.txt"] == 200


def test_known_arkade_findings_are_warnings(delimited: Path) -> None:
    """NULL foreign keys (A.16) and the documents under lob/ (AH.02) are what Arkade reports by design."""
    report = validate(delimited)
    a16 = report.check("A.16")
    assert a16 is not None and a16.errors == 0 and a16.warnings == 5
    hovedsak = findings(report, "A.16", "warning", file="SAK.txt", field="hovedsak_id")
    assert hovedsak and hovedsak[0].value == "" and hovedsak[0].record == 1
    ah02 = report.check("AH.02")
    assert ah02 is not None and ah02.errors == 0
    lob_files = {p.relative_to(delimited / "content").as_posix() for p in (delimited / "content" / "lob").rglob("*")
                 if p.is_file()}
    assert {f.file for f in ah02.examples} == lob_files


def test_tar_package_validates_like_the_folder(delimited: Path, tmp_path: Path) -> None:
    """A DIAS {uuid}.tar with a root folder is read in place, with the same result."""
    uuid = "0b1c6a3e-7f52-4d6b-9d35-5f1a2c3b4d5e"
    root = tmp_path / uuid
    shutil.copytree(delimited / "content", root / "content")
    (root / "administrative_metadata").mkdir()
    (root / "dias-mets.xml").write_text("<mets/>")
    tar = tmp_path / f"{uuid}.tar"
    with tarfile.open(tar, "w") as tf:
        tf.add(root, arcname=uuid)
    shutil.rmtree(root)
    report = validate(tar)
    assert report.kind == "tar"
    # The stub dias-mets.xml and the missing DIAS files are the DIAS checks' business (tests/test_validate_dias.py).
    assert set(error_ids(report)) == {"D.01", "D.02"}, error_ids(report)
    folder = validate(delimited)
    assert {c.id: (c.errors, c.warnings) for c in report.checks if not c.id.startswith("D.")} == \
        {c.id: (c.errors, c.warnings) for c in folder.checks}
    assert not list(tmp_path.glob(f"{uuid}/*")), "nothing may be unpacked"


def test_content_folder_is_accepted(delimited: Path) -> None:
    report = validate(delimited / "content")
    assert report.kind == "content folder" and report.errors == 0


def test_spilled_key_sets_give_the_same_report(delimited: Path, tmp_path: Path) -> None:
    """With room for one key in memory every key set goes to the temporary database; nothing changes."""
    small = validate(delimited, memory_keys=1, tmpdir=str(tmp_path))
    big = validate(delimited)
    assert any("kept on disk" in n for n in small.notes)
    assert {c.id: (c.errors, c.warnings, c.infos) for c in small.checks} == \
        {c.id: (c.errors, c.warnings, c.infos) for c in big.checks}
    assert list(tmp_path.iterdir()) == [], "the temporary key database is removed"


def test_fixed_extract_has_no_errors(fixed: Path) -> None:
    report = validate(fixed)
    assert report.errors == 0, error_ids(report)


def test_fixed_extract_names_only_padding_proof_checks(fixed: Path) -> None:
    """Arkade reads fixed-width values with their padding: the padded timestamps with fractions, the
    field holding empty text and the path fields narrower than LOBFILER.fil are not given the checks
    padding would break, and reading, counts, checksums, charset, keys and NULL handling are clean."""
    report = validate(fixed)
    assert not findings(report, "A.19") and not findings(report, "A.20") and not findings(report, "A.16")
    for check in ("AH.01", "AH.02", "AH.03", "A.11", "A.12", "A.15", "U.01", "U.03", "U.04", "U.05", "U.06"):
        result = report.check(check)
        assert result is not None and result.errors == 0, check
    assert {f.file: f.records for f in report.files}["SAK.txt"] == 200


def test_tar_without_a_folder_entry_is_read_with_a_warning(delimited: Path, tmp_path: Path) -> None:
    """Files only, no '{uuid}/' entry first: read, and U.06 says Arkade would not find content/."""
    tar = tmp_path / "pkg.tar"
    with tarfile.open(tar, "w") as tf:
        for path in sorted((delimited / "content").rglob("*")):
            if path.is_file():
                tf.add(path, arcname=f"pkg/content/{path.relative_to(delimited / 'content').as_posix()}")
    report = validate(tar)
    assert report.errors == 0, error_ids(report)
    assert any("not the first entry" in f.message for f in findings(report, "U.06", "warning"))
