"""Hand-built extracts the validator must read correctly: fixed width with two record types and no
record separator, an ISO-8859-1 addml.xml, quoting, NULL versus empty, header lines, several
separators, and the real-world deviations it tolerates.

The expected values are computed here from the Python values the files are made of, never from
the validator's reader.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lxml import etree

from extractor.validation.addml_read import read_addml
from extractor.validation.flatfile_read import BadRecord, FlatFileReader, Record
from tests.test_validate_support import error_ids, findings, validate

NS = "http://www.arkivverket.no/standarder/addml"
REFERENCE = """<reference>
 <context><additionalElements>
  <additionalElement name="agents"><additionalElements><additionalElement name="agent">
   <properties><property name="role"><value>recordCreator</value></property>
    <property name="type"><value>institution</value></property></properties>
   <additionalElements><additionalElement name="name"><value>Testkommune</value></additionalElement></additionalElements>
  </additionalElement></additionalElements></additionalElement>
  <additionalElement name="system"><additionalElements>
   <additionalElement name="systemType"><value>Fagsystem</value></additionalElement>
   <additionalElement name="name"><value>Test</value></additionalElement>
  </additionalElements></additionalElement>
 </additionalElements></context>
 <content><additionalElements>
  <additionalElement name="archivalPeriod"><additionalElements>
   <additionalElement name="startDate"><value>2020-01-01</value></additionalElement>
   <additionalElement name="endDate"><value>2020-12-31</value></additionalElement>
  </additionalElements></additionalElement>
  <additionalElement name="archivalDataset"><additionalElements>
   <additionalElement name="date"><value>2024-05-17</value></additionalElement>
   <additionalElement name="type"><value>Fagsystem</value></additionalElement>
  </additionalElements></additionalElement>
 </additionalElements></content>
</reference>"""

# --- fixed width: two record types told apart by the first field, no record separator ---

HEAD = [("H", 1, "Åse Ødegård"), ("H", 2, "Bjørn Æsir")]
LINES = [("L", 1, "2021-03-04", 250), ("L", 1, "2021-03-05", 17), ("L", 2, "2022-12-31", 99999)]
ORDER = [HEAD[0], LINES[0], LINES[1], HEAD[1], LINES[2]]


def fixed_record(rec: tuple) -> str:
    if rec[0] == "H":
        return f"H{rec[1]:>4}{rec[2]:<15}"
    return f"L{rec[1]:>4}{rec[2]}{rec[3]:>5}"


def fixed_addml(data: bytes, count: int, separator: str | None = None) -> bytes:
    sep = f"<recordSeparator>{separator}</recordSeparator>" if separator else ""
    text = f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<addml xmlns="{NS}" name="Håndlaget fast bredde">
 <dataset name="Bøker">
  {REFERENCE}
  <flatFiles>
   <flatFile name="ordre" definitionReference="ordre">
    <properties>
     <property name="fileName"><value>ordre.dat</value></property>
     <property name="numberOfOccurrences"><value>{count}</value></property>
     <property name="checksum"><properties>
       <property name="algorithm"><value>SHA-256</value></property>
       <property name="value"><value>{hashlib.sha256(data).hexdigest()}</value></property>
     </properties></property>
    </properties>
   </flatFile>
   <flatFileDefinitions>
    <flatFileDefinition name="ordre" typeReference="fast">
     <recordDefinitionFieldIdentifier>posttype</recordDefinitionFieldIdentifier>
     <recordDefinitions>
      <recordDefinition name="hode">
       <recordDefinitionFieldValue>H</recordDefinitionFieldValue>
       <fixedLength>20</fixedLength>
       <keys><key name="pk"><primaryKey/><fieldDefinitionReferences>
         <fieldDefinitionReference name="nr"/></fieldDefinitionReferences></key></keys>
       <fieldDefinitions>
        <fieldDefinition name="posttype" typeReference="tekst"><startPos>1</startPos><endPos>1</endPos></fieldDefinition>
        <fieldDefinition name="nr" typeReference="heltall"><startPos>2</startPos><endPos>5</endPos><notNull/></fieldDefinition>
        <fieldDefinition name="navn" typeReference="tekst"><startPos>6</startPos><endPos>20</endPos></fieldDefinition>
       </fieldDefinitions>
      </recordDefinition>
      <recordDefinition name="linje">
       <recordDefinitionFieldValue>L</recordDefinitionFieldValue>
       <fixedLength>20</fixedLength>
       <fieldDefinitions>
        <fieldDefinition name="posttype" typeReference="tekst"><fixedLength>1</fixedLength></fieldDefinition>
        <fieldDefinition name="nr" typeReference="heltall"><fixedLength>4</fixedLength></fieldDefinition>
        <fieldDefinition name="dato" typeReference="dato"><fixedLength>10</fixedLength><notNull/></fieldDefinition>
        <fieldDefinition name="beløp" typeReference="heltall"><fixedLength>5</fixedLength></fieldDefinition>
       </fieldDefinitions>
      </recordDefinition>
     </recordDefinitions>
    </flatFileDefinition>
   </flatFileDefinitions>
   <structureTypes>
    <flatFileTypes>
     <flatFileType name="fast"><charset>ISO-8859-1</charset><fixedFileFormat>{sep}</fixedFileFormat></flatFileType>
    </flatFileTypes>
    <fieldTypes>
     <fieldType name="tekst"><dataType>string</dataType></fieldType>
     <fieldType name="heltall"><dataType>integer</dataType></fieldType>
     <fieldType name="dato"><dataType>date</dataType><fieldFormat>yyyy-MM-dd</fieldFormat></fieldType>
    </fieldTypes>
   </structureTypes>
   <flatFileProcesses flatFileReference="ordre">
    <processes><process name="Analyse_CountRecords"/><process name="Control_NumberOfRecords"/>
      <process name="Control_NotUsedRecordDef"/></processes>
    <recordProcesses definitionReference="hode">
     <processes><process name="Analyse_CountRecordDefinitionOccurrences"/><process name="Control_Key"/></processes>
    </recordProcesses>
    <recordProcesses definitionReference="linje">
     <processes><process name="Analyse_CountRecordDefinitionOccurrences"/><process name="Control_FixedLength"/></processes>
     <fieldProcesses definitionReference="dato">
      <processes><process name="Control_DataFormat"/><process name="Control_Date_Value"/></processes>
     </fieldProcesses>
     <fieldProcesses definitionReference="beløp"><processes><process name="Control_DataFormat"/></processes></fieldProcesses>
    </recordProcesses>
   </flatFileProcesses>
  </flatFiles>
 </dataset>
</addml>
"""
    return text.encode("iso-8859-1")


def make_fixed(tmp: Path, records: list[tuple] = ORDER, separator: str | None = None, tail: bytes = b"") -> Path:
    content = tmp / "content"
    content.mkdir(parents=True)
    sep = "\r\n" if separator == "CRLF" else ""
    data = "".join(fixed_record(r) + sep for r in records).encode("latin-1") + tail
    (content / "ordre.dat").write_bytes(data)
    (content / "addml.xml").write_bytes(fixed_addml(data, len(records), separator))
    return content


def read_all(content: Path, name: str) -> list[Record | BadRecord]:
    doc = read_addml(etree.fromstring((content / "addml.xml").read_bytes()))
    flat = next(f for f in doc.flat_files if f.path == name)
    assert flat.definition is not None and flat.definition.ftype is not None
    with (content / name).open("rb") as fh:
        return list(FlatFileReader(fh, flat.definition, flat.definition.ftype, "sha256", chunk_bytes=7))


def test_fixed_two_record_types_without_separator_are_read_exactly(tmp_path: Path) -> None:
    content = make_fixed(tmp_path)
    got = read_all(content, "ordre.dat")
    assert all(isinstance(r, Record) for r in got)
    records = [r for r in got if isinstance(r, Record)]
    assert [r.rdef.name for r in records] == ["hode" if r[0] == "H" else "linje" for r in ORDER]
    assert [r.number for r in records] == [1, 2, 3, 4, 5]
    for rec, src in zip(records, ORDER, strict=True):
        if src[0] == "H":
            assert rec.values == ["H", f"{src[1]:>4}", f"{src[2]:<15}"]
        else:
            assert rec.values == ["L", f"{src[1]:>4}", src[2], f"{src[3]:>5}"]
    assert records[0].values[2].rstrip() == "Åse Ødegård"


def test_fixed_extract_validates_and_counts_types(tmp_path: Path) -> None:
    report = validate(make_fixed(tmp_path).parent)
    assert report.errors == 0, error_ids(report)
    counts = {f.message for f in report.check("A.04").information}  # type: ignore[union-attr]
    assert counts == {"hode: 2 records", "linje: 3 records"}
    assert findings(report, "A.12", "info")[0].message == "Number of records (5) matched"
    # The ISO-8859-1 addml.xml is read correctly (field 'beløp' found) but Arkade reads it as UTF-8.
    assert any("ISO-8859-1" in f.message and "UTF-8" in f.message for f in findings(report, "U.06", "warning"))
    assert report.check("A.19") is not None and report.check("A.19").errors == 0  # type: ignore[union-attr]


def test_fixed_bad_date_found_in_the_right_record_type(tmp_path: Path) -> None:
    records = list(ORDER)
    records[2] = ("L", 1, "2021-02-30", 17)
    report = validate(make_fixed(tmp_path, records).parent)
    (f,) = findings(report, "A.19", file="ordre.dat", record=3, field="dato")
    assert f.value == "2021-02-30"
    assert findings(report, "A.35", file="ordre.dat", record=3, field="dato")
    assert set(error_ids(report)) == {"A.19", "A.35"}


def test_fixed_field_with_non_ascii_name_is_checked(tmp_path: Path) -> None:
    content = make_fixed(tmp_path)
    data = (content / "ordre.dat").read_bytes().replace(b"99999", b"9x999")
    (content / "ordre.dat").write_bytes(data)
    (content / "addml.xml").write_bytes(fixed_addml(data, 5))
    report = validate(content)
    (f,) = findings(report, "A.19", record=5)
    assert f.field == "beløp" and f.value == "9x999"


def test_fixed_incomplete_last_record_is_ah03(tmp_path: Path) -> None:
    report = validate(make_fixed(tmp_path, tail=b"H   9Kort").parent)
    (f,) = findings(report, "AH.03", file="ordre.dat", record=6)
    assert "incomplete last record: 9 characters, expected 20" in f.message


def test_fixed_unknown_record_type_is_ah03(tmp_path: Path) -> None:
    records = list(ORDER)
    content = make_fixed(tmp_path, records)
    data = (content / "ordre.dat").read_bytes()
    data = data[:40] + b"X" + data[41:]  # record 3 becomes type X
    (content / "ordre.dat").write_bytes(data)
    (content / "addml.xml").write_bytes(fixed_addml(data, 5))
    report = validate(content)
    (f,) = findings(report, "AH.03", record=3)
    assert "recordDefinitionFieldValue 'X'" in f.message


def test_fixed_with_separator_resynchronises_after_a_short_record(tmp_path: Path) -> None:
    content = make_fixed(tmp_path, separator="CRLF")
    data = (content / "ordre.dat").read_bytes().split(b"\r\n")
    data[1] = data[1][:-2]  # record 2 two characters short
    joined = b"\r\n".join(data)
    (content / "ordre.dat").write_bytes(joined)
    (content / "addml.xml").write_bytes(fixed_addml(joined, 5, "CRLF"))
    got = read_all(content, "ordre.dat")
    assert [type(r).__name__ for r in got] == ["Record", "BadRecord", "Record", "Record", "Record"]
    assert isinstance(got[1], BadRecord) and "record length 18, expected 20" in got[1].message
    assert isinstance(got[4], Record) and got[4].number == 5 and got[4].values[2] == "2022-12-31"


# --- delimited ---

def delim_addml(data: bytes, fields: list[tuple[str, str]], *, count: int, recsep: str = "CRLF", sep: str = ";",
                quote: str | None = '"', charset: str = "ISO-8859-1", header: int | None = None, ns: bool = True,
                count_prop: str = "numberOfOccurrences", processes: str = "", encoding: str = "UTF-8") -> bytes:
    types = {"tekst": "string", "heltall": "integer", "dato": "date", "boolsk": "boolean"}
    fmts = {"dato": "<fieldFormat>yyyy-MM-dd</fieldFormat>", "boolsk": "<fieldFormat>J/N</fieldFormat>"}
    fdefs = "".join(f'<fieldDefinition name="{n}" typeReference="{t}"/>' for n, t in fields)
    ftypes = "".join(f'<fieldType name="{t}"><dataType>{types[t]}</dataType>{fmts.get(t, "")}</fieldType>' for t in types)
    q = f"<quotingChar>{quote}</quotingChar>" if quote else ""
    head = f"<headerLevel>{header}</headerLevel>" if header is not None else ""
    xmlns = f' xmlns="{NS}"' if ns else ""
    text = f"""<?xml version="1.0" encoding="{encoding}"?>
<addml{xmlns}><dataset>{REFERENCE}<flatFiles>
 <flatFile name="T" definitionReference="T"><properties>
  <property name="fileName"><value>T.txt</value></property>
  <property name="{count_prop}"><value>{count}</value></property>
  <property name="checksum"><properties><property name="algorithm"><value>SHA-256</value></property>
   <property name="value"><value>{hashlib.sha256(data).hexdigest()}</value></property></properties></property>
 </properties></flatFile>
 <flatFileDefinitions><flatFileDefinition name="T" typeReference="ft"><recordDefinitions>
  <recordDefinition name="T"><fieldDefinitions>{fdefs}</fieldDefinitions>{head}</recordDefinition>
 </recordDefinitions></flatFileDefinition></flatFileDefinitions>
 <structureTypes><flatFileTypes><flatFileType name="ft"><charset>{charset}</charset><delimFileFormat>
  <recordSeparator>{recsep}</recordSeparator><fieldSeparatingChar>{sep}</fieldSeparatingChar>{q}
 </delimFileFormat></flatFileType></flatFileTypes><fieldTypes>{ftypes}</fieldTypes></structureTypes>
 <flatFileProcesses flatFileReference="T"><processes><process name="Control_NumberOfRecords"/></processes>
  {processes}</flatFileProcesses>
</flatFiles></dataset></addml>
"""
    return text.encode(encoding)


def make_delim(tmp: Path, data: bytes, fields: list[tuple[str, str]], **kw: object) -> Path:
    content = tmp / "content"
    content.mkdir(parents=True, exist_ok=True)
    (content / "T.txt").write_bytes(data)
    (content / "addml.xml").write_bytes(delim_addml(data, fields, **kw))  # type: ignore[arg-type]
    return content


FIELDS = [("a", "tekst"), ("b", "tekst"), ("c", "heltall")]


def records_of(content: Path) -> list[Record | BadRecord]:
    return read_all(content, "T.txt")


def test_quoting_null_and_empty(tmp_path: Path) -> None:
    data = ('x;"semi;colon";1\r\n'
            '"line\r\nbreak";"say ""hi""";2\r\n'
            ';"";\r\n'
            '"Æ";ø;-3').encode("latin-1")  # no separator after the last record
    got = records_of(make_delim(tmp_path, data, FIELDS, count=4))
    assert all(isinstance(r, Record) for r in got)
    recs = [r for r in got if isinstance(r, Record)]
    assert [r.values for r in recs] == [["x", "semi;colon", "1"], ["line\r\nbreak", 'say "hi"', "2"], ["", "", ""],
                                        ["Æ", "ø", "-3"]]
    assert recs[2].quoted == [False, True, False]  # NULL, empty text, NULL
    assert validate(tmp_path).errors == 0


def test_chunk_boundaries_do_not_change_records(tmp_path: Path) -> None:
    rows = [f'{i};"v{i};\r\n{i}";{i}' for i in range(300)]
    data = "\r\n".join(rows).encode("latin-1") + b"\r\n"
    content = make_delim(tmp_path, data, FIELDS, count=300)
    got = records_of(content)  # read in 7-byte chunks
    assert [r.values for r in got if isinstance(r, Record)] == [[str(i), f"v{i};\r\n{i}", str(i)] for i in range(300)]


def test_lf_separator_and_header_line(tmp_path: Path) -> None:
    data = b"a;b;c\n1;2;3\n4;5;6\n"
    content = make_delim(tmp_path, data, FIELDS, count=2, recsep="LF", header=1)
    recs = [r for r in records_of(content) if isinstance(r, Record)]
    assert [(r.number, r.values) for r in recs] == [(1, ["1", "2", "3"]), (2, ["4", "5", "6"])]
    report = validate(tmp_path)
    assert findings(report, "A.12", "info")[0].message == "Number of records (2) matched"
    assert findings(report, "U.02", "warning")  # LF only by agreement


def test_empty_line_is_a_record_with_the_wrong_field_count(tmp_path: Path) -> None:
    data = b"1;2;3\r\n\r\n4;5;6\r\n"
    report = validate(make_delim(tmp_path, data, FIELDS, count=3).parent)
    (f,) = findings(report, "AH.03", file="T.txt", record=2)
    assert "1/3" in f.message


def test_multi_character_separator_without_quoting(tmp_path: Path) -> None:
    data = b"a||b||1\r\nc||d||2\r\n"
    content = make_delim(tmp_path, data, FIELDS, count=2, sep="||", quote=None)
    assert [r.values for r in records_of(content) if isinstance(r, Record)] == [["a", "b", "1"], ["c", "d", "2"]]


def test_real_world_deviations_are_tolerated(tmp_path: Path) -> None:
    """No namespace, numberOfRecords, ISO_8859_1: read, counted, and reported for what they are."""
    data = "æ;ø;1\r\nå;Å;2\r\n".encode("latin-1")
    make_delim(tmp_path, data, FIELDS, count=2, ns=False, count_prop="numberOfRecords", charset="ISO_8859_1")
    report = validate(tmp_path)
    assert findings(report, "A.12", "info")[0].message == "Number of records (2) matched"
    assert {f.file: f.records for f in report.files} == {"T.txt": 2}
    assert findings(report, "U.06")  # Arkade cannot load a document without the namespace
    warnings = " ".join(f.message for f in findings(report, "U.02", "warning"))
    assert "numberOfRecords" in warnings and "ISO_8859_1" in warnings
    assert report.check("AH.01").errors == 0  # type: ignore[union-attr]


def test_iso_8859_1_addml_with_wrong_declaration_is_read(tmp_path: Path) -> None:
    """An addml.xml in ISO-8859-1 that claims UTF-8 (or nothing) is read as ISO-8859-1, with a warning."""
    data = b"1;2;3\r\n"
    content = make_delim(tmp_path, data, [("bø", "tekst"), ("b", "tekst"), ("c", "heltall")], count=1)
    raw = (content / "addml.xml").read_bytes().replace("bø".encode(), "bø".encode("latin-1"))
    (content / "addml.xml").write_bytes(raw)
    report = validate(tmp_path)
    assert report.errors == 0, error_ids(report)
    assert any("ISO-8859-1" in f.message for f in findings(report, "U.06", "warning"))


def record_types(xml: str, others: dict[str, str]) -> str:
    """delim_addml's text with record type T told apart by field a (value A), plus one type per
    ``others`` entry (name -> value of a) with the fields a, n."""
    xml = xml.replace('<flatFileDefinition name="T" typeReference="ft">',
                      '<flatFileDefinition name="T" typeReference="ft"><recordDefinitionFieldIdentifier>a'
                      '</recordDefinitionFieldIdentifier>')
    xml = xml.replace('<recordDefinition name="T">', '<recordDefinition name="T"><recordDefinitionFieldValue>A'
                      '</recordDefinitionFieldValue>')
    more = "".join(f'<recordDefinition name="{name}"><recordDefinitionFieldValue>{value}</recordDefinitionFieldValue>'
                   '<fieldDefinitions><fieldDefinition name="a" typeReference="tekst"/>'
                   '<fieldDefinition name="n" typeReference="heltall"/></fieldDefinitions></recordDefinition>'
                   for name, value in others.items())
    return xml.replace("</recordDefinitions>", more + "</recordDefinitions>")


def test_several_record_types_in_a_delimited_file(tmp_path: Path) -> None:
    data = b"A;1;x\r\nB;2\r\nA;3;y\r\n"
    content = tmp_path / "content"
    content.mkdir()
    (content / "T.txt").write_bytes(data)
    (content / "addml.xml").write_text(record_types(delim_addml(data, FIELDS, count=3).decode(), {"U": "B"}))
    recs = [r for r in records_of(content) if isinstance(r, Record)]
    assert [(r.rdef.name, r.values) for r in recs] == [("T", ["A", "1", "x"]), ("U", ["B", "2"]), ("T", ["A", "3", "y"])]
