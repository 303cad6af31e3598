"""Damage an uttrekk extract on purpose; the right check must report it at the right place.

Each test copies a fresh extract of the example database, changes one thing (as bytes, with
addml.xml resealed by hashlib/lxml when only the content change should show), and looks for the
finding by check id, file, record number, field and value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_validate_support import (
    copy_extract,
    edit_record,
    error_ids,
    field_value,
    findings,
    make_extract,
    reseal,
    set_property,
    validate,
)

SAK = "SAK.txt"
# SAK.txt fields: id;saksnr;sakstype;status;tiltakshaver_id;hovedsak_id;tittel;mottatt;registrert;gebyr;
#                 ferdigattest;vedtak_aar;vedtak_motenr
ID, SAKSTYPE, TITTEL, MOTTATT = 0, 2, 6, 7


@pytest.fixture(scope="module")
def pristine(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("vc") / "pristine")


@pytest.fixture()
def content(pristine: Path, tmp_path: Path) -> Path:
    return copy_extract(pristine, tmp_path / "x") / "content"


def test_pristine_copy_is_clean(content: Path) -> None:
    assert validate(content.parent).errors == 0


def test_changed_byte_is_ah01(content: Path) -> None:
    data = bytearray((content / SAK).read_bytes())
    data[data.index(b"garasje")] ^= 0x20  # 'g' -> 'G', no structure changes
    (content / SAK).write_bytes(bytes(data))
    report = validate(content.parent)
    assert error_ids(report) == {"AH.01": 1}
    (f,) = findings(report, "AH.01", file=SAK)
    assert "Expected checksum" in f.message


def test_missing_and_extra_files_are_ah02(content: Path) -> None:
    (content / "SAKSTYPE.txt").unlink()
    (content / "notater.txt").write_text("not described\n")
    report = validate(content.parent)
    (missing,) = findings(report, "AH.02", file="SAKSTYPE.txt")
    assert missing.message == "Present in ADDML but missing from archive"
    (extra,) = findings(report, "AH.02", file="notater.txt")
    assert extra.message == "Present in archive but missing from ADDML"
    assert report.check("AH.02").errors == 2  # type: ignore[union-attr]
    # The code table is gone, so the foreign keys into it cannot be checked; both key checks say so.
    assert findings(report, "A.16", field="sakstype")
    assert findings(report, "U.05", field="sakstype")


def test_wrong_number_of_occurrences_is_a12(content: Path) -> None:
    set_property(content, SAK, "numberOfOccurrences", "199")
    report = validate(content.parent)
    assert error_ids(report) == {"A.12": 1}
    (f,) = findings(report, "A.12", file=SAK)
    assert f.message == "Number of records did not match. Expected 199, found 200"


def test_duplicate_primary_key_is_a15(content: Path) -> None:
    six = field_value(content, SAK, 6, ID)
    assert six == b"6"
    # SAK 7 is referenced by nothing else, so only the key checks can fire.
    edit_record(content, SAK, 7, lambda f: f.__setitem__(ID, six))
    report = validate(content.parent)
    (f,) = findings(report, "A.15", file=SAK, record=7, field="id")
    assert f.value == "6" and f.records == (6, 7)
    (u,) = findings(report, "A.21", file=SAK, record=7, field="id")  # Control_Uniqueness is on id too
    assert u.value == "6"
    assert set(error_ids(report)) <= {"A.15", "A.21", "A.16", "U.05"}


def test_duplicate_key_found_after_spilling(content: Path, tmp_path: Path) -> None:
    edit_record(content, SAK, 9, lambda f: f.__setitem__(ID, b"3"))
    report = validate(content.parent, memory_keys=1, tmpdir=str(tmp_path))
    (f,) = findings(report, "A.15", file=SAK, field="id")
    assert f.value == "3" and f.records[0] == 3 and 9 in f.records


def test_broken_foreign_key_is_a16_and_u05(content: Path) -> None:
    edit_record(content, "DOKUMENT.txt", 2, lambda f: f.__setitem__(1, b"9999"))  # sak_id
    report = validate(content.parent)
    (a16,) = findings(report, "A.16", file="DOKUMENT.txt", field="sak_id")
    assert a16.record == 2 and a16.value == "9999"
    (u05,) = findings(report, "U.05", file="DOKUMENT.txt", field="sak_id")
    assert u05.record == 2 and u05.value == "9999"
    assert error_ids(report) == {"A.16": 1, "U.05": 1}


def test_null_foreign_key_is_only_an_arkade_warning(content: Path) -> None:
    """An empty (NULL) tiltakshaver_id: Arkade's A.16 counts it (warning here), U.05 does not."""
    edit_record(content, SAK, 2, lambda f: f.__setitem__(4, b""))
    report = validate(content.parent)
    assert report.errors == 0
    assert findings(report, "A.16", "warning", file=SAK, field="tiltakshaver_id")
    assert not findings(report, "U.05", None, field="tiltakshaver_id")


def test_unknown_code_is_a22(content: Path) -> None:
    assert field_value(content, SAK, 2, SAKSTYPE) == b"RS"
    edit_record(content, SAK, 2, lambda f: f.__setitem__(SAKSTYPE, b"XX"))
    report = validate(content.parent)
    (f,) = findings(report, "A.22", file=SAK, record=2, field="sakstype")
    assert f.value == "XX"
    assert set(error_ids(report)) == {"A.22", "A.16", "U.05"}  # sakstype is also a key into SAKSTYPE


def test_bad_date_is_a19_and_a35(content: Path) -> None:
    assert field_value(content, SAK, 4, MOTTATT) == b"2019-01-24"
    edit_record(content, SAK, 4, lambda f: f.__setitem__(MOTTATT, b"2019-02-30"))
    report = validate(content.parent)
    (fmt,) = findings(report, "A.19", file=SAK, record=4, field="mottatt")
    (val,) = findings(report, "A.35", file=SAK, record=4, field="mottatt")
    assert fmt.value == val.value == "2019-02-30"
    assert error_ids(report) == {"A.19": 1, "A.35": 1}


def test_wrong_field_count_is_ah03(content: Path) -> None:
    edit_record(content, SAK, 5, lambda f: f.__delitem__(TITTEL))
    report = validate(content.parent)
    (f,) = findings(report, "AH.03", file=SAK, record=5)
    assert "Unexpected number of fields: 12/13" in f.message
    # Arkade skips the broken record, so its count check finds one record fewer.
    assert findings(report, "A.12", file=SAK)[0].message.endswith("Expected 200, found 199")


def test_invalid_latin1_byte_is_u03(content: Path) -> None:
    title = field_value(content, SAK, 3, TITTEL)
    assert b"\xf8" in title  # 'ø' in ISO-8859-1
    edit_record(content, SAK, 3, lambda f: f.__setitem__(TITTEL, f[TITTEL].replace(b"\xf8", b"\x96")))
    report = validate(content.parent)
    (f,) = findings(report, "U.03", file=SAK, record=3, field="tittel")
    assert "0x96" in f.message and f.value and "\\u0096" in f.value
    assert error_ids(report) == {"U.03": 1}


def test_invalid_utf8_is_u03(content: Path) -> None:
    """TILTAKSHAVER is written as UTF-8 (Sami names); a lone continuation byte is not UTF-8."""
    path = content / "TILTAKSHAVER.txt"
    lines = path.read_bytes().split(b"\r\n")
    lines[3] = lines[3].replace(b";", b";\x80", 1)
    path.write_bytes(b"\r\n".join(lines))
    reseal(content, "TILTAKSHAVER.txt")
    report = validate(content.parent)
    (f,) = findings(report, "U.03", file="TILTAKSHAVER.txt", record=4)
    assert "0x80 is not valid UTF-8" in f.message and f.field == "navn"


def test_null_in_not_null_field_is_u04_and_a20(content: Path) -> None:
    edit_record(content, SAK, 8, lambda f: f.__setitem__(TITTEL, b""))
    report = validate(content.parent)
    assert findings(report, "U.04", file=SAK, record=8, field="tittel")
    assert findings(report, "A.20", file=SAK, record=8, field="tittel")


def test_empty_text_in_a_number_field_is_u04(content: Path) -> None:
    edit_record(content, SAK, 8, lambda f: f.__setitem__(9, b'""'))  # gebyr (float)
    report = validate(content.parent)
    (f,) = findings(report, "U.04", "warning", file=SAK, record=8, field="gebyr")
    assert "empty text" in f.message
