"""An addml.xml that breaks the schema the way real ones do is read for what it says.

The description the tests build has the shapes of a real 1989 description in Arkivverket's test
material (re-typed into ADDML 8 by hand): ``flatFileDefinitions`` and ``structureTypes`` beside
``flatFiles`` instead of in it, misspelled elements (``flatFileDefintion``, ``recordDfinition``,
``fielDefinitionReference``), ADDMML 7 names and leftovers (``rectype``, ``primkey``,
``delimspec``, ``nu_records``), a wrapper in the singular, text where the schema wants children,
a misspelled property (``numberOfOccurences``), an attribute ADDML does not have, and ISO-8859-1
encoding. Every deviation is reported once, with its line; every definition that is there is
read and its file checked; the one definition that really is missing is reported once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from extractor.errors import UnreadableInputError
from extractor.validation import Report
from extractor.validation.addml_repair import closest, distance
from tests.test_validate_support import make_extract, validate

SAK = "1;Byggesak Øvre gate med tilbygg;1989-01-02;A\r\n2;Klage på vedtak;1989-02-03;B\r\n2;Dobbel nøkkel;1989-03-04;A\r\n"
STATUS = "A;Åpen\r\nB;Avsluttet med en altfor lang tekst\r\n"
JOURNAL = "10;1;Brev\r\n11;2;Notat\r\n12;7;Svar\r\n"

# Each planted deviation is marked with a comment <!--D:name--> on its line; the tests find the lines.
DESCRIPTION = """<?xml version='1.0' encoding='ISO-8859-1'?>
<addml xmlns="http://www.arkivverket.no/standarder/addml" name="Byggesaker 1989">
  <dataset name="Byggesaker 1989">
    <flatFiles>
      <flatFile definitionReference="ffd_1" name="SAK">
        <properties>
          <property name="fileName"><value>SAK.dat</value></property>
          <property name="numberOfOccurences"><!--D:property--><value>3</value></property>
          <property name="checksum"><properties>
            <property name="algorithm"><value>SHA-256</value></property>
            <property name="value"><value>{sak}</value></property></properties></property>
        </properties>
      </flatFile>
      <flatFile definitionReference="ffd_2" name="STATUS">
        <properties>
          <property name="fileName">STATUS.dat<!--D:text--></property>
          <property name="numberOfOccurrences"><value>9</value></property>
          <property name="checksum"><properties>
            <property name="algorithm"><value>SHA-256</value></property>
            <property name="value"><value>{status}</value></property></properties></property>
        </properties>
      </flatFile>
      <flatFile definitionReference="ffd_3" name="JOURNAL">
        <properties>
          <property name="fileName"><value>JOURNAL.dat</value></property>
          <property name="numberOfOccurrences"><value>3</value></property>
          <property name="checksum"><properties>
            <property name="algorithm"><value>SHA-256</value></property>
            <property name="value"><value>{journal}</value></property></properties></property>
        </properties>
      </flatFile>
      <flatFile definitionReference="ffd_9" name="BORTE">
        <properties><property name="fileName"><value>BORTE.dat</value></property></properties>
      </flatFile>
    </flatFiles>
    <flatFileDefinitions><!--D:placement-->
      <description>Saker fra byggesaksregisteret, skrevet inn på nytt i 2009</description><!--D:description-->
      <flatFileDefinition name="ffd_1" typeReference="delim">
        <recordDefinition><!--D:wrapper-->
          <recordDfinition name="SAK"><!--D:misspelled-->
            <keys>
              <key name="pk_sak">
                <primkey/><!--D:addmml7-->
                <fieldDefinitionReferences>
                  <fielDefinitionReference name="id"/><!--D:misspelled2-->
                </fieldDefinitionReferences>
              </key>
            </keys>
            <fieldDefinitions>
              <fieldDefinition name="id" typeReference="heltall"/>
              <fieldDefinition name="tittel" typeReference="tekst"><maxLength>20</maxLength></fieldDefinition>
              <fieldDefinition name="dato" typeReference="dato" format="yyyy"/><!--D:attribute-->
              <fieldDefinition name="status" typeReference="tekst"/>
            </fieldDefinitions>
          </recordDfinition>
        </recordDefinition>
      </flatFileDefinition>
      <flatFileDefintion name="ffd_2" typeReference="delim"><!--D:misspelled3-->
        <recordDefinitions>
          <rectype name="STATUS"><!--D:addmml7b-->
            <fieldDefinitions>
              <fieldDefinition name="kode" typeReference="tekst">
                <codes><code codeValue="A" explan="Åpen"/></codes>
              </fieldDefinition>
              <fieldDefinition name="tekst" typeReference="tekst"><maxLength>20</maxLength></fieldDefinition>
            </fieldDefinitions>
          </rectype>
        </recordDefinitions>
      </flatFileDefintion>
      <flatFileDefinition name="ffd_3" typeReference="delim">
        <recordDefinitions>
          <recordDefinition name="JOURNAL">
            <keys>
              <key name="fk_sak">
                <foreignKey>
                  <flatFileDefinitionReference name="ffd_1">
                    <recordDefinitionReferences>
                      <recordDefinitionReference name="SAK">
                        <fieldDefinitionReferences><fieldDefinitionReference name="id"/></fieldDefinitionReferences>
                      </recordDefinitionReference>
                    </recordDefinitionReferences>
                  </flatFileDefinitionReference>
                  <relationType>n:1</relationType>
                </foreignKey>
                <fieldDefinitionReferences><fieldDefinitionReference name="sak_id"/></fieldDefinitionReferences>
              </key>
              <key name="fk_borte">
                <foreignKey>
                  <flatFileDefinitionReference name="ffd_9">
                    <recordDefinitionReferences>
                      <recordDefinitionReference name="BORTE">
                        <fieldDefinitionReferences><fieldDefinitionReference name="x"/></fieldDefinitionReferences>
                      </recordDefinitionReference>
                    </recordDefinitionReferences>
                  </flatFileDefinitionReference>
                  <relationType>n:1</relationType>
                </foreignKey>
                <fieldDefinitionReferences><fieldDefinitionReference name="id"/></fieldDefinitionReferences>
              </key>
            </keys>
            <fieldDefinitions>
              <fieldDefinition name="id" typeReference="heltall"/>
              <fieldDefinition name="sak_id" typeReference="heltall"/>
              <fieldDefinition name="tekst" typeReference="tekst"/>
            </fieldDefinitions>
          </recordDefinition>
        </recordDefinitions>
      </flatFileDefinition>
    </flatFileDefinitions>
    <structureTypes><!--D:placement2-->
      <flatFileTypes>
        <flatFileType name="delim">
          <charset>ISO-8859-1</charset>
          <delimFileFormat>
            <recordSeparator>CRLF</recordSeparator>
            <fieldSeparatingChar>;</fieldSeparatingChar>
          </delimFileFormat>
          <delimspec><fieldsep>;</fieldsep></delimspec><!--D:unknown-->
          <nu_records>3</nu_records><!--D:unknown2-->
        </flatFileType>
      </flatFileTypes>
      <fieldTypes>
        <fieldType name="tekst"><dataType>string</dataType></fieldType>
        <fieldType name="heltall"><dataType>integer</dataType><nullValues>9999</nullValues><!--D:text2--></fieldType>
        <fieldType name="dato"><dataType>date</dataType><fieldFormat>yyyy-MM-dd</fieldFormat></fieldType>
      </fieldTypes>
    </structureTypes>
    <flatFileProcesses flatFileReference="ffd_1"><!--D:placement3-->
      <processes><process name="Control_MaxLength"/></processes>
      <recordProcesses definitionReference="SAK"><processes><process name="Control_Key"/></processes></recordProcesses>
    </flatFileProcesses>
    <flatFileProcesses flatFileReference="ffd_9"><!--D:placement4-->
      <processes><process name="Control_MaxLength"/></processes>
    </flatFileProcesses>
  </dataset>
</addml>
"""


def marked_lines(text: str) -> dict[str, int]:
    return {m.group(1): text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<!--D:(\w+)-->", text)}


def build(folder: Path, description: str = DESCRIPTION) -> Path:
    content = folder / "content"
    content.mkdir(parents=True)
    digests = {}
    for name, data in (("sak", SAK), ("status", STATUS), ("journal", JOURNAL)):
        raw = data.encode("latin-1")
        (content / f"{name.upper()}.dat").write_bytes(raw)
        digests[name] = hashlib.sha256(raw).hexdigest()
    (content / "addml.xml").write_bytes(description.format(**digests).encode("latin-1"))
    return folder


def lines_reported(report: Report) -> list[int]:
    out = []
    for check in ("U.01", "U.06"):
        c = report.check(check)
        for f in c.examples if c else []:
            m = re.match(r"line (\d+): ", f.message)
            if m:
                out.append(int(m.group(1)))
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return validate(build(tmp_path_factory.mktemp("lenient")), examples=1000)


def messages(report: Report, check: str) -> list[str]:
    c = report.check(check)
    return [f.message for f in c.examples] if c else []


def test_every_deviation_is_reported_once_with_its_line(report: Report) -> None:
    expected = marked_lines(DESCRIPTION)
    got = lines_reported(report)
    for name, line in expected.items():
        assert got.count(line) == 1, (name, line, [m for m in messages(report, "U.01") + messages(report, "U.06")
                                                   if m.startswith(f"line {line}:")])
    assert sorted(got) == sorted(expected.values())  # and nothing else reported with a line


def test_what_each_deviation_was_read_as(report: Report) -> None:
    text = "\n".join(messages(report, "U.01") + messages(report, "U.06"))
    for part in ("<flatFileDefinitions> is inside <dataset>, not <flatFiles>; read as part of <flatFiles>",
                 "<structureTypes> is inside <dataset>, not <flatFiles>",
                 "<recordDfinition> is a misspelling of <recordDefinition>",
                 "<flatFileDefintion> is a misspelling of <flatFileDefinition>",
                 "<fielDefinitionReference> is a misspelling of <fieldDefinitionReference>",
                 "<rectype> is an ADDMML 7 name of <recordDefinition>", "<primkey> is an ADDMML 7 name of <primaryKey>",
                 "<recordDefinition> holds the recordDefinition elements; read as the wrapper <recordDefinitions>",
                 "<delimspec> in <flatFileType> is not an ADDML element; left out",
                 "<nullValues> holds the text '9999'", "holds the text 'STATUS.dat', not a <value>",
                 "property 'numberOfOccurences' is a misspelling of 'numberOfOccurrences'",
                 "<description> is not allowed inside <flatFileDefinitions>", "attribute 'format' is not allowed"):
        assert part in text, part


def test_a_definition_that_exists_is_never_reported_missing(report: Report) -> None:
    missing = [m for c in ("U.01", "U.06") for m in messages(report, c) if "does not exist" in m or "missing" in m]
    assert missing == ["flatFile 'BORTE' refers to flatFileDefinition 'ffd_9', which does not exist; its file is "
                       "not read"]  # the really missing one, once (not again for its processes or the key to it)
    assert not [m for m in messages(report, "U.06") if "ffd_9" in m and "flatFileProcesses" in m]


def test_the_data_checks_run_on_everything_understood(report: Report) -> None:
    assert {f.file: f.records for f in report.files} == {"SAK.dat": 3, "STATUS.dat": 2, "JOURNAL.dat": 3}
    # Control_MaxLength is named (in the misplaced flatFileProcesses) for SAK only, not for STATUS's long text
    assert [f.value for f in report.check("A.18").examples] == ["Byggesak Øvre gate med tilbygg"]
    a15 = report.check("A.15")
    assert a15 is not None and a15.errors == 1  # the duplicate key 2 (primkey read as primaryKey)
    u07 = messages(report, "U.07")
    assert u07 == ["numberOfOccurrences is 9, the file has 2 records"]  # the misspelled property was read too
    u05 = report.check("U.05")
    assert u05 is not None and u05.errors == 1 and u05.examples[0].value == "7"  # JOURNAL.sak_id 7 -> no SAK 7
    a22 = report.check("A.22")
    assert a22 is None  # no Control_Codes named
    assert report.check("AH.01") is not None and report.check("AH.01").errors == 0
    assert "Øvre" in SAK and report.check("U.03").errors == 0  # ISO-8859-1 data and description read as such


def test_a_strict_read_sees_what_arkade_sees(tmp_path: Path) -> None:
    from lxml import etree

    from extractor.validation.addml_read import read_addml
    root = etree.fromstring(DESCRIPTION.format(sak="", status="", journal="").encode("latin-1"))
    strict = read_addml(root, lenient=False)
    assert strict.definitions == {}  # flatFileDefinitions outside flatFiles: nothing for Arkade either
    lenient = read_addml(root)
    assert sorted(lenient.definitions) == ["ffd_1", "ffd_2", "ffd_3"]
    assert [r.name for d in lenient.definitions.values() for r in d.records] == ["SAK", "STATUS", "JOURNAL"]
    assert lenient.root is not root and root.find(".//{*}recordDfinition") is not None  # the input is not changed


def test_uttrekk_s_own_description_is_not_touched(example_db: Path, tmp_path: Path) -> None:
    from lxml import etree

    from extractor.validation.addml_read import read_addml
    extract = make_extract(example_db, tmp_path / "x")
    root = etree.parse(str(extract / "content" / "addml.xml")).getroot()
    doc = read_addml(root)
    assert doc.root is root and not [p for p in doc.problems if p.message.startswith("line ")]


def test_hostile_descriptions_are_still_refused(tmp_path: Path) -> None:
    bomb = DESCRIPTION.replace("<addml xmlns", '<!DOCTYPE addml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>\n<addml xmlns', 1)
    with pytest.raises(UnreadableInputError, match="document type declaration"):
        validate(build(tmp_path / "bomb", bomb))
    xxe = DESCRIPTION.replace("<addml xmlns", '<!DOCTYPE addml SYSTEM "http://127.0.0.1:9/x.dtd">\n<addml xmlns', 1)
    with pytest.raises(UnreadableInputError, match="document type declaration"):
        validate(build(tmp_path / "xxe", xxe))


def test_misspellings_are_told_from_other_words() -> None:
    assert distance("recordDfinition", "recordDefinition") == 1
    assert distance("flatFileDefintion", "flatFileDefinition") == 1
    assert distance("ab", "ba") == 1
    names = frozenset({"recordDefinition", "recordDefinitions", "fieldDefinition", "key", "keys"})
    assert closest("recordDfinition", names) == "recordDefinition"
    assert closest("nu_records", names) is None
    assert closest("kez", names) == "key"
    assert closest("delimspec", names) is None


def test_a_flood_of_deviations_is_counted_not_listed(tmp_path: Path) -> None:
    junk = "".join(f"<junk{i}x>a</junk{i}x>" for i in range(20_000))  # 20,000 different unknown names
    text = DESCRIPTION.replace("<nu_records>3</nu_records>", f"<nu_records>3</nu_records>{junk}")
    report = validate(build(tmp_path / "x", text), examples=5000)
    u01 = messages(report, "U.01")
    assert len([m for m in u01 if "junk" in m]) < 1000
    assert any(m.startswith("... and ") and "more deviations from the schema" in m for m in u01)
    assert {f.file: f.records for f in report.files} == {"SAK.dat": 3, "STATUS.dat": 2, "JOURNAL.dat": 3}


def test_misplaced_elements_find_their_one_place() -> None:
    from lxml import etree

    from extractor.validation.addml_read import read_addml
    doc = b"""<addml xmlns="http://www.arkivverket.no/standarder/addml"><dataset>
<flatFile name="A" definitionReference="d"><properties><property name="fileName"><value>A.txt</value></property>
</properties></flatFile>
<flatFiles>
<flatFileDefinitions><flatFileDefinition name="d" typeReference="t">
<recordDefinition name="R"><fieldDefinitions><fieldDefinition name="x" typeReference="s"/></fieldDefinitions>
</recordDefinition>
</flatFileDefinition></flatFileDefinitions>
<structureTypes><flatFileTypes><flatFileType name="t"><charset>UTF-8</charset><delimFileFormat>
<recordSeparator>CRLF</recordSeparator><fieldSeparatingChar>;</fieldSeparatingChar></delimFileFormat></flatFileType>
</flatFileTypes><fieldType name="s"><dataType>string</dataType></fieldType><fieldTypes/></structureTypes>
</flatFiles></dataset></addml>"""
    d = read_addml(etree.fromstring(doc))
    assert [p.message.split(":")[0] for p in d.problems] == ["line 2", "line 6", "line 11"]
    assert "read as part of <recordDefinitions> (made for it)" in d.problems[1].message
    assert d.flat_files[0].definition is d.definitions["d"] and [r.name for r in d.definitions["d"].records] == ["R"]
    assert list(d.field_types) == ["s"]
