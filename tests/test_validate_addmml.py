"""ADDMML 7.x (the Noark-3/Koark era's description) is read into the same definitions and checked.

The extract the tests build is a Noark-3-style one: ``N3.DAT``, a fixed-width file holding two
record types (``S`` case records and ``J`` journal records, told apart by the first character)
with a foreign key from journal to case, and ``KODE.DAT``, a delimited code table, described by
an ``addmml.xml`` valid against the ADDMML 7.3 DTD and naming that DTD in its DOCTYPE, as such
files do. The DOCTYPE is never followed (a listening socket proves no fetch), and the hostile
variants (an internal subset, entities) are refused.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from extractor.errors import UnreadableInputError
from extractor.validation import Report
from extractor.validation.addmml_read import dotnet_date_pattern
from tests.test_validate_support import validate

W = 49


def sak(nr: int, aar: int, status: str, tittel: str, dato: str) -> str:
    rec = f"S{nr:06d}{aar:04d}{status}{tittel:<29}{dato}"
    assert len(rec) == W, rec
    return rec


def journal(jnr: int, saknr: int, dato: str, tekst: str) -> str:
    rec = f"J{jnr:06d}{saknr:06d}{dato}{tekst:<28}"
    assert len(rec) == W, rec
    return rec


N3 = [sak(1, 1995, "A", "Byggesak Øvre gate", "19950102"), journal(1, 1, "19950103", "Søknad"),
      sak(2, 1996, "B", "Klage på vedtak", "19960201"), journal(2, 2, "19951332", "Brev"),  # a 13th month
      journal(3, 9, "19960305", "Svar til sak som mangler")]  # case 9 does not exist
KODE = ["A;Åpen", "B;Avsluttet"]

FIELD = "<fieldtype name=\"{n}\"><startpos>{s}</startpos><endpos>{e}</endpos><datatype>{t}</datatype>{x}</fieldtype>"


def fields(spec: list[tuple[str, int, str, str]]) -> str:
    out, pos = [], 1
    for name, length, dtype, extra in spec:
        out.append(FIELD.format(n=name, s=pos, e=pos + length - 1, t=dtype, x=extra))
        pos += length
    assert pos - 1 == W
    return "\n        ".join(out)


SAK_FIELDS = fields([("rtype", 1, "char", ""), ("saknr", 6, "integer", "<nonull/>"), ("aar", 4, "integer", ""),
                     ("status", 1, "char", ""), ("tittel", 29, "char", ""),
                     ("dato", 8, "date", "<mask>ÅÅÅÅMMDD</mask>")])
J_FIELDS = fields([("rtype", 1, "char", ""), ("jnr", 6, "integer", ""), ("saknr", 6, "integer", ""),
                   ("dato", 8, "date", "<mask>YYYYMMDD</mask>"), ("tekst", 28, "char", "")])

DESCRIPTION = f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE addmml SYSTEM "{{dtd}}">
<addmml>
  <reference>
    <archives ar_id="A1"><ar_name>Testkommune</ar_name></archives>
    <series se_id="S1"><se_name>Sakarkiv (Noark-3)</se_name><startdate>19950101</startdate><enddate>19961231</enddate></series>
  </reference>
  <structure>
    <dataset ds_id="D1">
      <ds_descr>Noark-3-uttrekk</ds_descr>
      <charset>ISO-8859-1</charset>
      <format>fixed</format>
      <date_null>00000000</date_null>
      <nu_files>{{nu_files}}</nu_files>
      <file name="N3.DAT" path="A:\\">
        <fi_descr>Saker og journalposter i én fil</fi_descr>
        <recsep>CRLF</recsep>
        <fi_format>fixed</fi_format>
        <reclength>{W}</reclength>
        <nu_rectypes>2</nu_rectypes>
        <rectypeid>rtype</rectypeid>
        <nu_records>5</nu_records>
        <rectype name="SAK">
          <rt_id>S</rt_id>
          <primkey>saknr</primkey>
          <forkey><fields>status</fields><reffilerec>KODE.DAT.KODE</reffilerec><reffields>kode</reffields></forkey>
          <rt_fixlength>{W}</rt_fixlength>
          <nu_recs>2</nu_recs>
          {SAK_FIELDS}
        </rectype>
        <rectype name="JOURNAL">
          <rt_id>J</rt_id>
          <primkey>jnr</primkey>
          <forkey><fields>saknr</fields><reffilerec>N3.DAT.SAK</reffilerec><reffields>saknr</reffields></forkey>
          <rt_fixlength>{W}</rt_fixlength>
          <nu_recs>4</nu_recs>
          {J_FIELDS}
        </rectype>
      </file>
      <file name="KODE.DAT" path=".">
        <recsep>CRLF</recsep>
        <fi_format>delimited</fi_format>
        <delimspec><fieldsep>;</fieldsep></delimspec>
        <nu_rectypes>1</nu_rectypes>
        <nu_records>2</nu_records>
        <rectype name="KODE">
          <primkey>kode</primkey>
          <fieldtype name="kode"><datatype>char</datatype><nonull/>
            <code><value>A</value><explan>Åpen</explan></code><code><value>B</value><explan>Avsluttet</explan></code>
          </fieldtype>
          <fieldtype name="tekst"><ft_maxlength>20</ft_maxlength><datatype>char</datatype></fieldtype>
        </rectype>
      </file>
    </dataset>
  </structure>
  <processes>
    <p_file file="N3.DAT"><fi_check>Control_NumberOfRecords</fi_check><fi_check>sjekk_postlengde</fi_check></p_file>
    <p_fieldtype file="N3.DAT" rectype="JOURNAL" fieldtype="dato"><ft_check>Control_DataFormat</ft_check></p_fieldtype>
    <p_fieldtype file="KODE.DAT" rectype="KODE" fieldtype="kode"><ft_check>Control_Codes</ft_check></p_fieldtype>
  </processes>
</addmml>
"""


def build(folder: Path, dtd: str = "ADDMML.DTD", nu_files: str = "2", description: str | None = None) -> Path:
    content = folder / "content"
    content.mkdir(parents=True)
    (content / "N3.DAT").write_bytes("".join(r + "\r\n" for r in N3).encode("latin-1"))
    (content / "KODE.DAT").write_bytes("".join(r + "\r\n" for r in KODE).encode("latin-1"))
    text = description if description is not None else DESCRIPTION.format(dtd=dtd, nu_files=nu_files)
    (content / "addmml.xml").write_bytes(text.encode("latin-1"))
    return folder


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return validate(build(tmp_path_factory.mktemp("addmml")), examples=1000)


def messages(report: Report, check: str, severity: str | None = None) -> list[str]:
    c = report.check(check)
    return [f.message for f in c.examples if severity is None or f.severity == severity] if c else []


def test_the_noark3_file_is_read_by_record_type(report: Report) -> None:
    assert report.addml_version == "ADDMML 7.3"
    files = {f.file: (f.records, f.record_definitions) for f in report.files}
    assert files == {"N3.DAT": (5, [("SAK", 2), ("JOURNAL", 3)]), "KODE.DAT": (2, [("KODE", 2)])}
    assert not messages(report, "AH.03") and not messages(report, "AH.02")


def test_the_same_checks_run_on_it(report: Report) -> None:
    assert messages(report, "U.01") == []  # valid against the bundled ADDMML 7.3 DTD
    a19 = report.check("A.19")
    assert a19 is not None and [f.value for f in a19.examples] == ["19951332"]  # the mask ÅÅÅÅMMDD/YYYYMMDD read
    assert [f.value for f in report.check("U.05").examples] == ["000009"]  # journal -> missing case, across record types
    assert messages(report, "U.07") == ["JOURNAL: the description declares 4 records of this type, the file has 3"]
    a12 = report.check("A.12")
    assert a12 is not None and a12.errors == 0  # fi_check Control_NumberOfRecords against nu_records
    assert report.check("A.22") is not None and report.check("A.22").errors == 0
    assert report.check("AH.01") is None  # ADDMML 7 carries no checksums
    assert report.check("U.02") is None  # the Arkivverket profile is one of ADDML 8.3
    u06 = " ".join(messages(report, "U.06"))
    assert "sjekk_postlengde" in u06 and "not an Arkade 5 process" in u06
    assert report.errors == 3


def test_the_dtd_named_by_the_file_is_never_fetched(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    hits: list[object] = []

    def accept() -> None:
        try:
            hits.append(server.accept())
        except OSError:
            pass
    t = threading.Thread(target=accept)
    t.start()
    port = server.getsockname()[1]
    report = validate(build(tmp_path / "x", dtd=f"http://127.0.0.1:{port}/ADDMML.DTD"))
    t.join()
    server.close()
    assert hits == [] and report.errors == 3
    local = validate(build(tmp_path / "y", dtd="/etc/passwd"))  # a local path is not read either: same outcome
    assert local.errors == 3 and not messages(local, "U.01")


def test_a_description_the_dtd_rejects_is_reported_with_its_line_and_read(tmp_path: Path) -> None:
    text = DESCRIPTION.format(dtd="ADDMML.DTD", nu_files="2").replace("      <nu_files>2</nu_files>\n", "")
    report = validate(build(tmp_path / "x", description=text))
    u01 = messages(report, "U.01")
    line = text[:text.index("<dataset")].count("\n") + 1
    assert len(u01) == 1 and u01[0].startswith(f"line {line}: Element dataset") and "nu_files" in u01[0], u01
    assert sum(f.records for f in report.files) == 7


@pytest.mark.parametrize("doctype, refusal", [
    ('<!DOCTYPE addmml SYSTEM "ADDMML.DTD" [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', "its own declarations"),
    ('<!DOCTYPE addmml [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "its own declarations"),
    ('<!DOCTYPE addmml SYSTEM "ADDMML.DTD">\n<!ENTITY y "z">', "its own declarations"),
])
def test_hostile_doctypes_are_refused(tmp_path: Path, doctype: str, refusal: str) -> None:
    text = DESCRIPTION.format(dtd="ADDMML.DTD", nu_files="2").replace('<!DOCTYPE addmml SYSTEM "ADDMML.DTD">', doctype)
    with pytest.raises(UnreadableInputError, match=refusal):
        validate(build(tmp_path / "x", description=text))


def test_an_entity_only_the_dtd_could_define_is_refused(tmp_path: Path) -> None:
    text = DESCRIPTION.format(dtd="ADDMML.DTD", nu_files="2").replace("<ds_descr>Noark-3-uttrekk", "<ds_descr>&ext;")
    with pytest.raises(UnreadableInputError, match="entity &ext;"):
        validate(build(tmp_path / "x", description=text))


def test_masks_become_dotnet_patterns() -> None:
    assert dotnet_date_pattern("ÅÅÅÅMMDD") == "yyyyMMdd"
    assert dotnet_date_pattern("DD.MM.YYYY") == "dd.MM.yyyy"
    assert dotnet_date_pattern("yyyy-mm-dd") == "yyyy-MM-dd"
    assert dotnet_date_pattern("HHMI") == "HHmm"


def test_the_same_extract_as_a_tar_and_compressed(tmp_path: Path, report: Report) -> None:
    import gzip
    import tarfile
    folder = build(tmp_path / "x")
    tar = tmp_path / "n3.tar"
    with tarfile.open(tar, "w") as tf:
        tf.add(folder / "content", arcname="content")  # no root folder, as such extracts were packed
    packed = tmp_path / "n3.tar.gz"
    packed.write_bytes(gzip.compress(tar.read_bytes()))
    for path in (tar, packed):
        got = validate(path, examples=1000)
        assert got.addml_version == "ADDMML 7.3" and got.errors == report.errors
        assert [(f.file, f.records, f.record_definitions) for f in got.files] == \
            [(f.file, f.records, f.record_definitions) for f in report.files]
