"""Packages in the layouts depots hold from before 2017 are read, named in the report and validated.

The 2016 DIAS layout (Arkivverket's own test package ``Noark3-eksempel-1``): a tar without a root
folder whose description lies only in ``administrative_metadata/addml.xml``, and beside it a
pre-METS ``info.xml`` in the namespace ``www.arkivverket.no/standarder/info`` carrying the tar's
checksum. Arkade 5 would not open it (it looks for ``content/addml.xml``): that is one warning, not
a refusal, and every data check runs exactly as on the same extract in today's layout.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile
from pathlib import Path

import pytest

from extractor.errors import UnreadableInputError
from tests.test_validate_compressed import outcome
from tests.test_validate_support import error_ids, findings, make_extract, validate

UUID = "c3db9d4e-720c-4f75-bfb6-de90231dc44c"
OLD_NS = "www.arkivverket.no/standarder/info"


@pytest.fixture(scope="module")
def extract(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("old") / "extract")


def old_tar(extract: Path, tar: Path) -> Path:
    """The 2016 layout: no root folder, content/ without addml.xml, the description in administrative_metadata/."""
    with tarfile.open(tar, "w") as tf:
        for f in sorted((extract / "content").rglob("*")):
            rel = f.relative_to(extract / "content").as_posix()
            if rel not in ("addml.xml", "addml.xsd"):
                tf.add(f, arcname=f"content/{rel}", recursive=False)
        tf.add(extract / "content" / "addml.xml", arcname="administrative_metadata/addml.xml")
        tf.add(extract / "documentation", arcname="descriptive_metadata")
    return tar


def old_info(folder: Path, tar_name: str, digest: str, algorithm: str = "SHA256") -> Path:
    info = folder / "info.xml"
    info.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<info pakkeID="{UUID}" xmlns="{OLD_NS}">\n'
                    "  <uttrekk><type>Fagsystem</type></uttrekk>\n"
                    f'  <sjekksummer>\n    <fil filnavn="{tar_name}">\n      <sjekksum>{digest}</sjekksum>\n'
                    f"      <algoritme>{algorithm}</algoritme>\n    </fil>\n  </sjekksummer>\n</info>\n", "utf-8")
    return info


@pytest.fixture()
def package(extract: Path, tmp_path: Path) -> Path:
    tar = old_tar(extract, tmp_path / f"{UUID}.tar")
    old_info(tmp_path, tar.name, hashlib.sha256(tar.read_bytes()).hexdigest())
    return tar


def layout_warning(report: object, check: str) -> str:
    hits = [f.message for f in findings(report, check, "warning") if "DIAS layout before 2017" in f.message]  # type: ignore[arg-type]
    assert len(hits) == 1, hits
    return hits[0]


def data_outcome(report: object) -> list[tuple[str, int, int, list[str]]]:
    """The data checks' results (A.*, AH.*, U.*), which must not depend on the package layout."""
    return [o for o in outcome(report) if not o[0].startswith("D.") and o[0] != "U.06"]  # type: ignore[arg-type]


def test_the_2016_layout_is_read_named_and_validated_like_the_extract(package: Path, extract: Path) -> None:
    report = validate(package)

    assert error_ids(report) == {}
    line = layout_warning(report, "D.01")
    assert "no root folder" in line
    assert "addml.xml only in administrative_metadata/addml.xml" in line
    assert "Arkade 5 looks for content/addml.xml and would not open this package" in line
    assert f"the pre-METS info file info.xml (namespace {OLD_NS})" in line
    assert any(n.startswith("DIAS layout before 2017: no root folder") for n in report.notes)
    assert report.check("D.06") is not None and report.check("D.06").errors == 0  # the tar's checksum matched
    assert sum(f.records for f in report.files) == 509
    assert data_outcome(report) == data_outcome(validate(extract))


def test_the_old_info_file_s_checksum_is_compared(package: Path) -> None:
    old_info(package.parent, package.name, "0" * 64)
    report = validate(package)
    hits = findings(report, "D.06")
    assert len(hits) == 1 and "the file's is" in hits[0].message and hits[0].file == package.name


def test_an_old_info_file_with_an_unknown_algorithm_says_so(package: Path) -> None:
    old_info(package.parent, package.name, "abc", "algoritme1")
    assert any("unknown" in f.message for f in findings(validate(package), "D.06"))


def test_the_old_layout_compressed(package: Path) -> None:
    packed = package.parent / f"{UUID}.tar.gz"
    packed.write_bytes(gzip.compress(package.read_bytes()))
    package.unlink()  # the info file lists {uuid}.tar: the plain tar's checksum, compared on the stream
    report = validate(packed)
    assert error_ids(report) == {}
    layout_warning(report, "D.01")
    assert report.kind == "gzip-compressed tar"


def test_an_extract_folder_in_the_old_layout(extract: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(extract, folder)
    (folder / "administrative_metadata").mkdir()
    (folder / "content" / "addml.xml").rename(folder / "administrative_metadata" / "addml.xml")
    (folder / "content" / "addml.xsd").unlink()
    report = validate(folder)
    assert error_ids(report) == {}
    assert "addml.xml only in administrative_metadata/addml.xml" in layout_warning(report, "U.06")
    assert data_outcome(report) == data_outcome(validate(extract))


def test_a_link_as_the_old_description_is_refused(extract: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(extract, folder)
    (folder / "administrative_metadata").mkdir()
    (folder / "content" / "addml.xml").unlink()
    (folder / "administrative_metadata" / "addml.xml").symlink_to("/etc/passwd")
    with pytest.raises(UnreadableInputError, match="not a regular file|cannot be opened"):
        validate(folder)


@pytest.mark.parametrize("fmt", ["delimited", "fixed", "xml"])
def test_uttrekk_s_own_extracts_are_read_as_before(example_db: Path, tmp_path: Path, fmt: str) -> None:
    """No layout note, no mend, nothing from the old-format readers on what uttrekk writes itself."""
    extract = make_extract(example_db, tmp_path / fmt, fmt)
    report = validate(extract)
    assert error_ids(report) == {} and not report.notes
    said = [f.message for c in report.checks for f in c.examples]
    assert not [m for m in said if "before 2017" in m or m.startswith("line ") or "ADDMML" in m], said
    assert report.addml_version in ("8.2", "8.3")


def test_a_hostile_old_info_file_is_refused_not_read(package: Path) -> None:
    (package.parent / "info.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE info [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        f'<info xmlns="{OLD_NS}"><sjekksummer><fil filnavn="{package.name}"><sjekksum>&x;</sjekksum>'
        "<algoritme>SHA256</algoritme></fil></sjekksummer></info>\n", "utf-8")
    report = validate(package)
    hits = findings(report, "D.06")
    assert len(hits) == 1 and "document type declaration" in hits[0].message
    assert "root:" not in str(report.to_dict())


def test_a_truncated_compressed_tar_is_one_line(package: Path) -> None:
    data = gzip.compress(package.read_bytes())
    broken = package.parent / "broken.tar.gz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableInputError, match="broken|ends inside|unexpected end|not an uncompressed"):
        validate(broken)


def test_an_info_file_may_name_the_compressed_file_itself(package: Path) -> None:
    packed = package.parent / f"{UUID}.tar.gz"
    packed.write_bytes(gzip.compress(package.read_bytes()))
    package.unlink()
    old_info(package.parent, packed.name, hashlib.sha256(packed.read_bytes()).hexdigest())
    report = validate(packed)
    assert error_ids(report) == {}
    old_info(package.parent, packed.name, "f" * 64)
    hits = findings(validate(packed), "D.06")
    assert len(hits) == 1 and hits[0].file == packed.name
