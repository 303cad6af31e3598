"""DIAS packages: a tar built by ``uttrekk package`` passes D.01-D.06; damaged ones are reported.

Damaged tars are rebuilt member by member with Python's tarfile; dias-mets.xml and the info file
are edited with lxml, and the info file is resealed with hashlib (the tar's and dias-mets.xml's
size and SHA-256) whenever only the intended check should fire.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from extractor.cli import cli
from tests.test_validate_support import error_ids, findings, make_extract, validate

UUID = "4a1f0c2e-9b7d-4e3a-8c5f-1d2e3f4a5b6c"
METS = {"m": "http://arkivverket.no/standarder/METS", "xlink": "http://www.w3.org/1999/xlink"}
INFO = {"m": "http://www.loc.gov/METS/", "xlink": "http://www.w3.org/1999/xlink"}
D_CHECKS = ("D.01", "D.02", "D.03", "D.04", "D.05", "D.06")

Edit = Callable[[tarfile.TarInfo, bytes | None], list[tuple[tarfile.TarInfo, bytes | None]]]


def package(extract: Path, out: Path) -> Path:
    res = CliRunner().invoke(cli, ["package", str(extract), "--out", str(out), "--uuid", UUID,
                                   "--timestamp", "2024-05-17T12:00:00"])
    assert res.exit_code == 0, res.output
    return out / f"{UUID}.tar"


@pytest.fixture(scope="module")
def built(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("vdias")
    return package(make_extract(example_db, base / "extract"), base / "pkg")


@pytest.fixture()
def pkg(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the package (tar and info file) to damage."""
    for p in built.parent.iterdir():
        shutil.copy(p, tmp_path / p.name)
    return tmp_path / built.name


def rewrite(tar: Path, edit: Edit, extra: tuple[tuple[str, bytes], ...] = ()) -> None:
    """Rebuild ``tar`` in place: ``edit`` maps each member (and its bytes) to what replaces it; ``extra`` is appended."""
    out = io.BytesIO()
    with tarfile.open(tar) as src, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None  # type: ignore[union-attr]
            for info, payload in edit(m, data):
                if payload is not None:
                    info.size = len(payload)
                dst.addfile(info, io.BytesIO(payload) if payload is not None else None)
        for name, payload in extra:
            info = tarfile.TarInfo(f"{UUID}/{name}")
            info.size = len(payload)
            dst.addfile(info, io.BytesIO(payload))
    tar.write_bytes(out.getvalue())


def change(name: str, fn: Callable[[bytes], bytes | None]) -> Edit:
    """An edit that changes (or, when ``fn`` returns None, drops) the member ``{uuid}/name``."""
    def edit(m: tarfile.TarInfo, data: bytes | None) -> list[tuple[tarfile.TarInfo, bytes | None]]:
        if m.name != f"{UUID}/{name}":
            return [(m, data)]
        assert data is not None
        new = fn(data)
        return [] if new is None else [(m, new)]
    return edit


def edit_mets(fn: Callable[[etree._Element], None]) -> Edit:
    def apply(data: bytes) -> bytes:
        root = etree.fromstring(data)
        fn(root)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return change("dias-mets.xml", apply)


def member_bytes(tar: Path, name: str) -> bytes:
    with tarfile.open(tar) as tf:
        return tf.extractfile(f"{UUID}/{name}").read()  # type: ignore[union-attr]


def reseal_info(tar: Path) -> None:
    """Give the info file the tar's and dias-mets.xml's real size and SHA-256."""
    info = tar.with_suffix(".xml")
    doc = etree.parse(str(info))
    mets = member_bytes(tar, "dias-mets.xml")
    facts = {f"file:{tar.name}": tar.read_bytes(), f"file:{UUID}/dias-mets.xml": mets}
    for f in doc.iterfind(".//m:file", INFO):
        href = f.find("m:FLocat", INFO).get(f"{{{INFO['xlink']}}}href")
        f.set("SIZE", str(len(facts[href])))
        f.set("CHECKSUM", hashlib.sha256(facts[href]).hexdigest())
    doc.write(str(info), xml_declaration=True, encoding="UTF-8")


def mets_file(root: etree._Element, href: str) -> etree._Element:
    (f,) = root.xpath("//m:file[m:FLocat/@xlink:href = $h]", namespaces=METS, h=href)
    return f


def d_errors(report) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in error_ids(report).items() if k.startswith("D.")}


# --- a package as uttrekk writes it ---

def test_package_passes(built: Path) -> None:
    before = sorted(built.parent.iterdir())
    report = validate(built)
    assert report.errors == 0, error_ids(report)
    for check in D_CHECKS:
        result = report.check(check)
        assert result is not None and result.deviations == 0, check
    assert sorted(built.parent.iterdir()) == before, "nothing may be unpacked"


def test_xml_extract_package_passes(example_db: Path, tmp_path: Path) -> None:
    tar = package(make_extract(example_db, tmp_path / "x", "xml"), tmp_path / "pkg")
    report = validate(tar)
    assert report.errors == 0, error_ids(report)
    assert report.check("U.09") is not None and report.check("D.04") is not None


# --- dias-mets.xml against the tar ---

def test_mets_size_mismatch_is_d04(pkg: Path) -> None:
    rewrite(pkg, edit_mets(lambda root: mets_file(root, "file:content/SAK.txt").set("SIZE", "12")))
    reseal_info(pkg)
    report = validate(pkg)
    assert error_ids(report) == {"D.04": 1}
    (f,) = findings(report, "D.04", file="content/SAK.txt")
    assert "SIZE '12'" in f.message


def test_mets_checksum_mismatch_is_d04(pkg: Path) -> None:
    """A changed byte in a file the extract's addml.xml does not cover: only dias-mets.xml's checksum catches it."""
    def flip(data: bytes) -> bytes:
        return data.replace(b"e", b"E", 1)
    rewrite(pkg, change("descriptive_metadata/summary.txt", flip))
    reseal_info(pkg)
    report = validate(pkg)
    assert error_ids(report) == {"D.04": 1}
    (f,) = findings(report, "D.04", file="descriptive_metadata/summary.txt")
    assert "SHA-256" in f.message and "SIZE" not in f.message


def test_unlisted_file_is_d05(pkg: Path) -> None:
    rewrite(pkg, lambda m, d: [(m, d)], extra=(("descriptive_metadata/extra.txt", b"not listed\n"),))
    reseal_info(pkg)
    report = validate(pkg)
    assert error_ids(report) == {"D.05": 1}
    (f,) = findings(report, "D.05", file="descriptive_metadata/extra.txt")
    assert "not listed" in f.message


def test_listed_file_missing_from_the_tar_is_d04(pkg: Path) -> None:
    rewrite(pkg, change("descriptive_metadata/deviations.tsv", lambda data: None))
    reseal_info(pkg)
    report = validate(pkg)
    assert error_ids(report) == {"D.04": 1}
    (f,) = findings(report, "D.04", file="descriptive_metadata/deviations.tsv")
    assert "not in the tar" in f.message


def test_mets_invalid_against_dias_mets_xsd_is_d02(pkg: Path) -> None:
    rewrite(pkg, edit_mets(lambda root: mets_file(root, "file:content/SAK.txt").set("MIMETYPE", "text/bogus")))
    reseal_info(pkg)
    report = validate(pkg)
    assert d_errors(report) == {"D.02": 1}
    (f,) = findings(report, "D.02", file="dias-mets.xml")
    assert "MIMETYPE" in f.message and f.message.startswith("line ")


def test_mets_not_well_formed_is_d02(pkg: Path) -> None:
    rewrite(pkg, change("dias-mets.xml", lambda data: data[: len(data) // 2]))
    reseal_info(pkg)
    report = validate(pkg)
    assert d_errors(report) == {"D.02": 1}  # the listing could not be read, so nothing is compared
    assert "not well-formed" in findings(report, "D.02")[0].message


def test_mets_with_a_doctype_is_refused(pkg: Path) -> None:
    def doctype(data: bytes) -> bytes:
        end = data.index(b"?>") + 2
        return data[:end] + b'\n<!DOCTYPE mets [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + data[end:]
    rewrite(pkg, change("dias-mets.xml", doctype))
    reseal_info(pkg)
    report = validate(pkg)
    assert d_errors(report) == {"D.02": 1}
    assert "document type declaration" in findings(report, "D.02")[0].message


def test_premis_invalid_is_d03(pkg: Path) -> None:
    def break_premis(data: bytes) -> bytes:
        return data.replace(b"<premis:eventType>Creation</premis:eventType>", b"", 1)
    rewrite(pkg, change("administrative_metadata/dias-premis.xml", break_premis))
    report = validate(pkg)
    assert findings(report, "D.03", file="administrative_metadata/dias-premis.xml")
    # dias-mets.xml still gives the old size and checksum of dias-premis.xml
    assert findings(report, "D.04", file="administrative_metadata/dias-premis.xml")


# --- the tar itself and its info file ---

def test_info_file_with_a_wrong_checksum_is_d06(pkg: Path) -> None:
    info = pkg.with_suffix(".xml")
    doc = etree.parse(str(info))
    (f,) = doc.xpath("//m:file[m:FLocat/@xlink:href = $h]", namespaces=INFO, h=f"file:{pkg.name}")
    f.set("CHECKSUM", "0" * 64)
    doc.write(str(info), xml_declaration=True, encoding="UTF-8")
    report = validate(pkg)
    assert error_ids(report) == {"D.06": 1}
    (x,) = findings(report, "D.06", file=pkg.name)
    assert "0" * 64 in x.message and hashlib.sha256(pkg.read_bytes()).hexdigest() in x.message


def test_tar_changed_after_its_info_file_is_d06(pkg: Path) -> None:
    """A file slipped into the tar afterwards: unlisted (D.05), and the tar is no longer the one the info file names."""
    rewrite(pkg, lambda m, d: [(m, d)], extra=(("descriptive_metadata/later.txt", b"added later\n"),))
    report = validate(pkg)
    assert d_errors(report) == {"D.05": 1, "D.06": d_errors(report)["D.06"]}
    messages = " ".join(f.message for f in findings(report, "D.06", file=pkg.name))
    assert "SHA-256" in messages and hashlib.sha256(pkg.read_bytes()).hexdigest() in messages


def test_missing_info_file_is_a_warning(pkg: Path) -> None:
    pkg.with_suffix(".xml").unlink()
    report = validate(pkg)
    assert report.errors == 0, error_ids(report)
    assert findings(report, "D.06", "warning")


def test_tar_not_named_like_its_root_folder_is_d01(pkg: Path) -> None:
    other = pkg.with_name("pakke.tar")
    pkg.rename(other)
    report = validate(other)
    assert d_errors(report) == {"D.01": 1}
    assert "not the folder 'pakke/'" in findings(report, "D.01")[0].message
    assert findings(report, "D.01", "warning")  # not a UUID
    assert findings(report, "D.06", "warning")  # no pakke.xml beside it


def test_tar_without_dias_files_is_only_a_warning(pkg: Path) -> None:
    drop = ("dias-mets.xml", "dias-mets.xsd", "administrative_metadata/dias-premis.xml")

    def edit(m: tarfile.TarInfo, data: bytes | None) -> list[tuple[tarfile.TarInfo, bytes | None]]:
        return [] if m.name.removeprefix(f"{UUID}/") in drop else [(m, data)]
    rewrite(pkg, edit)
    report = validate(pkg)
    assert not d_errors(report)
    assert "not a DIAS package" in findings(report, "D.01", "warning")[0].message
