"""XML-format extracts (``--format xml``): a clean one validates, damaged ones are reported where the damage is.

Each test copies a fresh XML extract of the example database, changes one thing as bytes (rows
found with lxml, an independent parser, or by byte search), reseals addml.xml's checksum for the
file with hashlib when only the intended check should fire, and looks for the finding by check
id, file, record number and field.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree

from tests.test_validate_support import copy_extract, error_ids, findings, make_extract, validate

NS = {"a": "http://www.arkivverket.no/standarder/addml"}
SAK = "SAK.xml"


@pytest.fixture(scope="module")
def pristine(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("vxml") / "pristine", "xml")


@pytest.fixture()
def content(pristine: Path, tmp_path: Path) -> Path:
    return copy_extract(pristine, tmp_path / "x") / "content"


def set_object_property(content: Path, file_name: str, prop: str, value: str) -> None:
    """Set a property (``numberOfOccurrences``, ``checksum/value``, ``charset``) of the dataObject describing a file."""
    path = content / "addml.xml"
    doc = etree.parse(str(path))
    (obj,) = doc.xpath("//a:dataObject[a:properties/a:property[@name='fileName']/a:value = $f]", namespaces=NS,
                       f=file_name)
    el = obj
    for part in prop.split("/"):
        el = el.xpath(f"a:properties/a:property[@name='{part}']", namespaces=NS)[0]
    el.xpath("a:value", namespaces=NS)[0].text = value
    doc.write(str(path), xml_declaration=True, encoding="UTF-8")


def reseal(content: Path, file_name: str) -> None:
    digest = hashlib.sha256((content / file_name).read_bytes()).hexdigest()
    set_object_property(content, file_name, "checksum/value", digest)


def row_span(data: bytes, number: int) -> tuple[int, int]:
    """Byte offsets of record ``number`` (1-based): from its ``<rad>`` to after its ``</rad>``."""
    start = -1
    for _ in range(number):
        start = data.index(b"<rad>", start + 1)
    return start, data.index(b"</rad>", start) + len(b"</rad>")


def edit_row(content: Path, file_name: str, number: int, old: bytes, new: bytes, seal: bool = True) -> None:
    path = content / file_name
    data = path.read_bytes()
    start, end = row_span(data, number)
    row = data[start:end]
    assert row.count(old) == 1, (old, row)
    path.write_bytes(data[:start] + row.replace(old, new) + data[end:])
    if seal:
        reseal(content, file_name)


def value_of(content: Path, file_name: str, number: int, field: str) -> str:
    """A field's text in record ``number``, read with lxml."""
    root = etree.parse(str(content / file_name)).getroot()
    return root[number - 1].findtext(field) or ""


# --- a clean extract ---

def test_xml_extract_validates_without_errors(pristine: Path) -> None:
    report = validate(pristine)
    assert report.errors == 0, error_ids(report)
    for check in ("AH.01", "AH.02", "U.03", "U.04", "U.05", "U.07", "U.08", "U.09", "U.10", "U.11"):
        assert report.check(check) is not None, check
    records = {f.file: f.records for f in report.files}
    assert records["SAK.xml"] == 200 == len(etree.parse(str(pristine / "content" / SAK)).getroot())
    assert {f.format for f in report.files} == {"xml"}
    (note,) = findings(report, "U.06", "warning")
    assert "Arkade 5 does not test it" in note.message


def test_spilled_key_sets_give_the_same_report(content: Path, tmp_path: Path) -> None:
    """A duplicate key and a broken foreign key are found the same way when every key set is on disk."""
    edit_row(content, SAK, 7, f"<id>{value_of(content, SAK, 7, 'id')}</id>".encode(),
             f"<id>{value_of(content, SAK, 3, 'id')}</id>".encode())
    small = validate(content.parent, memory_keys=1, tmpdir=str(tmp_path))
    big = validate(content.parent)
    assert any("kept on disk" in n for n in small.notes)
    assert error_ids(small) == error_ids(big)
    assert findings(small, "U.11", file=SAK, field="id")


# --- damaged data ---

def test_value_breaking_its_type_is_u10(content: Path) -> None:
    old = value_of(content, SAK, 12, "mottatt")
    edit_row(content, SAK, 12, f"<mottatt>{old}</mottatt>".encode(), b"<mottatt>2021-02-30</mottatt>")
    report = validate(content.parent)
    assert error_ids(report) == {"U.10": 1}
    (f,) = findings(report, "U.10", file=SAK, record=12, field="mottatt")
    assert f.value == "2021-02-30" and "xs:date" in f.message


def test_duplicate_primary_key_is_u11(content: Path) -> None:
    dup_id = value_of(content, SAK, 5, "id")
    own_id = value_of(content, SAK, 9, "id")
    edit_row(content, SAK, 9, f"<id>{own_id}</id>".encode(), f"<id>{dup_id}</id>".encode())
    report = validate(content.parent)
    (f,) = findings(report, "U.11", file=SAK, record=9, field="id")
    assert f.value == dup_id and f.records == (5, 9) and "primary key" in f.message
    assert error_ids(report)["U.11"] == 1
    # Whatever referred to the id that is gone now refers to nothing (U.05); nothing else is reported.
    assert set(error_ids(report)) <= {"U.11", "U.05"}
    assert all(x.value == own_id for x in findings(report, "U.05"))


def test_duplicate_alternate_key_is_u11(content: Path) -> None:
    saksnr = value_of(content, SAK, 2, "saksnr")
    edit_row(content, SAK, 4, f"<saksnr>{value_of(content, SAK, 4, 'saksnr')}</saksnr>".encode(),
             f"<saksnr>{saksnr}</saksnr>".encode())
    report = validate(content.parent)
    assert error_ids(report) == {"U.11": 1}
    (f,) = findings(report, "U.11", file=SAK, record=4, field="saksnr")
    assert "alternate key" in f.message and f.records == (2, 4)


def test_broken_foreign_key_is_u05(content: Path) -> None:
    old = value_of(content, "DOKUMENT.xml", 6, "sak_id")
    edit_row(content, "DOKUMENT.xml", 6, f"<sak_id>{old}</sak_id>".encode(), b"<sak_id>987654</sak_id>")
    report = validate(content.parent)
    assert error_ids(report) == {"U.05": 1}
    (f,) = findings(report, "U.05", file="DOKUMENT.xml", record=6, field="sak_id")
    assert f.value == "987654" and "SAK" in f.message


def test_nil_foreign_key_refers_to_nothing(content: Path) -> None:
    """xsi:nil is NULL: a nil foreign key is not checked (the clean extract has them: SAK.hovedsak_id)."""
    nil = b'xsi:nil="true"'
    data = (content / SAK).read_bytes()
    assert data.count(b"<hovedsak_id xmlns:xsi") > 0 and nil in data
    assert validate(content.parent).check("U.05").errors == 0  # type: ignore[union-attr]


def test_code_outside_its_list_is_u10_and_u05(content: Path) -> None:
    old = value_of(content, SAK, 3, "sakstype")
    edit_row(content, SAK, 3, f"<sakstype>{old}</sakstype>".encode(), b"<sakstype>XX</sakstype>")
    report = validate(content.parent)
    assert error_ids(report) == {"U.10": 1, "U.05": 1}  # sakstype is also a foreign key into SAKSTYPE
    (f,) = findings(report, "U.10", file=SAK, record=3, field="sakstype")
    assert "code list" in f.message and f.value == "XX"


def test_removed_record_is_u07(content: Path) -> None:
    path = content / "HENDELSESLOGG.xml"
    data = path.read_bytes()
    start, end = row_span(data, 20)
    path.write_bytes(data[:start] + data[end:])
    reseal(content, "HENDELSESLOGG.xml")
    report = validate(content.parent)
    assert error_ids(report) == {"U.07": 1}
    (f,) = findings(report, "U.07", file="HENDELSESLOGG.xml")
    assert f.message == "numberOfOccurrences is 150, the file has 149 records"


def test_changed_byte_without_reseal_is_ah01(content: Path) -> None:
    edit_row(content, SAK, 1, b"<rad>", b"<rad> ", seal=False)
    report = validate(content.parent)
    assert error_ids(report) == {"AH.01": 1}
    assert "Expected checksum" in findings(report, "AH.01", file=SAK)[0].message


def test_c1_byte_in_iso_8859_1_is_u03(content: Path) -> None:
    old = value_of(content, SAK, 15, "tittel").encode("latin-1")
    edit_row(content, SAK, 15, b"<tittel>" + old, b"<tittel>\x96" + old)
    report = validate(content.parent)
    assert error_ids(report) == {"U.03": 1}
    (f,) = findings(report, "U.03", file=SAK, record=15, field="tittel")
    assert "0x96" in f.message


def test_invalid_utf8_is_u03_with_its_record(content: Path) -> None:
    """A file declared UTF-8 (file and addml.xml agree) with an ISO-8859-1 byte in record 40: reading stops there."""
    path = content / SAK
    data = path.read_bytes().replace(b"encoding='ISO-8859-1'", b"encoding='UTF-8'", 1)
    start, end = row_span(data, 40)
    row = data[start:end]
    assert row.isascii()
    row = row.replace(b"<tittel>", b"<tittel>\xf8", 1)
    earlier = data[:start]
    path.write_bytes(earlier.decode("latin-1").encode("utf-8") + row + data[end:].decode("latin-1").encode("utf-8"))
    set_object_property(content, SAK, "charset", "UTF-8")
    reseal(content, SAK)
    report = validate(content.parent)
    (f,) = findings(report, "U.03", file=SAK)
    assert f.record == 40 and "not valid UTF-8" in f.message and "reading stopped" in f.message
    assert "U.07" not in error_ids(report)  # an unfinished file is not counted


def test_charset_that_differs_from_addml_is_u03(content: Path) -> None:
    set_object_property(content, SAK, "charset", "UTF-8")
    report = validate(content.parent)
    (f,) = findings(report, "U.03", file=SAK)
    assert "ISO-8859-1" in f.message and "UTF-8" in f.message and f.record is None


def test_malformed_xml_is_u08_with_its_record(content: Path) -> None:
    edit_row(content, SAK, 33, b"</tittel>", b"</titel>")
    report = validate(content.parent)
    (f,) = findings(report, "U.08", file=SAK)
    assert f.record == 33 and "not well-formed" in f.message and "line 2" in f.message
    # Referring files are checked against what was read; the rest of SAK counts as not read.
    assert set(error_ids(report)) <= {"U.08", "U.05"}
    assert all("was not read" in x.message for x in findings(report, "U.05"))


def test_file_cut_short_is_u08(content: Path) -> None:
    path = content / SAK
    data = path.read_bytes()
    start, end = row_span(data, 120)
    path.write_bytes(data[:start + 30])
    reseal(content, SAK)
    report = validate(content.parent)
    (f,) = findings(report, "U.08", file=SAK)
    assert f.record == 120 and "not well-formed" in f.message
    assert not findings(report, "U.07")


def test_doctype_is_refused_as_u08(content: Path) -> None:
    path = content / SAK
    data = path.read_bytes()
    decl_end = data.index(b"?>") + 2
    path.write_bytes(data[:decl_end] + b'\n<!DOCTYPE SAK [<!ENTITY x "yyyyyyyy">]>' + data[decl_end:])
    reseal(content, SAK)
    report = validate(content.parent)
    (f,) = findings(report, "U.08", file=SAK)
    assert "document type declaration" in f.message and f.record is None
    assert not findings(report, "U.07")  # not read, not counted


def test_nil_in_not_nillable_field_is_u04(content: Path) -> None:
    old = value_of(content, SAK, 21, "tittel").encode("latin-1")
    edit_row(content, SAK, 21, b"<tittel>" + old + b"</tittel>", b'<tittel xsi:nil="true"/>')
    report = validate(content.parent)
    assert error_ids(report) == {"U.04": 1}
    (f,) = findings(report, "U.04", file=SAK, record=21, field="tittel")
    assert "nil" in f.message and f.value is None


def test_empty_text_in_integer_field_is_u04(content: Path) -> None:
    old = value_of(content, SAK, 50, "tiltakshaver_id")
    edit_row(content, SAK, 50, f"<tiltakshaver_id>{old}</tiltakshaver_id>".encode(), b"<tiltakshaver_id></tiltakshaver_id>")
    report = validate(content.parent)
    (f,) = findings(report, "U.04", file=SAK, record=50, field="tiltakshaver_id")
    assert "empty text" in f.message and f.value == ""
    assert set(error_ids(report)) == {"U.04", "U.05"}  # "" is a value (not NULL) and refers to no TILTAKSHAVER


def test_missing_field_element_is_u09(content: Path) -> None:
    old = value_of(content, SAK, 60, "saksnr").encode()
    edit_row(content, SAK, 60, b"<saksnr>" + old + b"</saksnr>", b"")
    report = validate(content.parent)
    (f,) = findings(report, "U.09", file=SAK, record=60)
    assert "saksnr" in f.message


def test_schema_that_includes_another_document_is_not_loaded(content: Path) -> None:
    path = content / "SAKSTYPE.xsd"
    data = path.read_bytes()
    close = data.index(b">", data.index(b"<xs:schema")) + 1
    path.write_bytes(data[:close] + b'<xs:include schemaLocation="/etc/passwd"/>' + data[close:])
    reseal(content, "SAKSTYPE.xsd")
    report = validate(content.parent)
    assert error_ids(report) == {"U.09": 1}
    (f,) = findings(report, "U.09", file="SAKSTYPE.xsd")
    assert "xs:include" in f.message and "not used" in f.message


def test_extra_and_missing_files_are_ah02(content: Path) -> None:
    (content / "notater.txt").write_text("not described\n")
    (content / "STATUSKODE.xsd").unlink()
    report = validate(content.parent)
    assert findings(report, "AH.02", file="notater.txt")
    assert findings(report, "AH.02", file="STATUSKODE.xsd")
    # uttrekk's LOB files are listed in LOBFILER.xml (its primary key), so they are described.
    assert not [f for f in findings(report, "AH.02") if (f.file or "").startswith("lob/")]
