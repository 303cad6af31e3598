"""addml.xml follows the ADDML schema, the Arkivverket profile and what Arkade 5 reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from extractor.addml import NS, schema
from tests.conftest import EXAMPLE_PROFILE, make_db, run

N = {"a": NS}
ARKADE_FORMATS = {
    "string": {None, "fnr", "org", "knr"}, "integer": {None, "n.nnn", "n,nnn", "n nnn", "nnE+exp"},
    "float": {None, "nn,nn", "nn.nn", "n.nnn,nn", "n nnn,nn", "n,nnn.nn", "n nnn.nn"},
}
ARKADE_PROCESSES = {
    "Analyse_CountRecords": "file", "Control_NumberOfRecords": "file", "Control_AllFixedLength": "file",
    "Control_Key": "record", "Control_ForeignKey": "record",
    "Control_DataFormat": "field", "Control_NotNull": "field", "Control_Uniqueness": "field",
    "Control_MaxLength": "field", "Control_Codes": "field", "Analyse_FrequenceList": "field",
    "Control_Date_Value": "field", "Control_Boolean_Value": "field", "Analyse_CountNULL": "field",
}


def _extract(db: Path, out: Path, *args: str) -> etree._Element:
    r = run("extract", db, "--out", out, "-q", *args)
    assert r.exit_code == 0, r.output
    return etree.parse(str(out / "content" / "addml.xml")).getroot()


@pytest.fixture(scope="module")
def example_addml(tmp_path_factory, example_db):
    out = tmp_path_factory.mktemp("addml") / "o"
    return _extract(example_db, out, "--profile", str(EXAMPLE_PROFILE)), out


def test_valid_8_3_and_only_arkade_types(example_addml):
    doc, out = example_addml
    assert schema("8.3").validate(doc), schema("8.3").error_log
    assert (out / "content" / "addml.xsd").read_bytes().find(b'version="8.3"') > 0
    for ft in doc.iterfind(".//a:fieldType", N):
        dtype = ft.findtext("a:dataType", namespaces=N)
        fmt = ft.findtext("a:fieldFormat", namespaces=N)
        assert dtype in {"string", "integer", "float", "date", "time", "boolean"}
        if dtype in ARKADE_FORMATS:
            assert fmt in ARKADE_FORMATS[dtype]
        if dtype in {"date", "boolean"}:
            assert fmt
    assert doc.findtext(".//a:charset", namespaces=N) in {"ISO-8859-1", "UTF-8"}


def test_files_counts_checksums_and_bare_names(example_addml):
    import hashlib
    doc, out = example_addml
    described = set()
    for ff in doc.iterfind(".//a:flatFile", N):
        props = {p.get("name"): p for p in ff.iterfind("a:properties/a:property", N)}
        name = props["fileName"].findtext("a:value", namespaces=N)
        assert "/" not in name and "\\" not in name
        data = (out / "content" / name).read_bytes()
        assert int(props["numberOfOccurrences"].findtext("a:value", namespaces=N)) > 0
        algo = props["checksum"].find("a:properties/a:property[@name='algorithm']/a:value", N).text
        value = props["checksum"].find("a:properties/a:property[@name='value']/a:value", N).text
        assert algo == "SHA-256" and value == hashlib.sha256(data).hexdigest()
        described.add(name)
    top = {p.name for p in (out / "content").iterdir() if p.is_file()} - {"addml.xml", "addml.xsd"}
    assert top == described


def test_processes_named_at_arkade_levels(example_addml):
    doc, _ = example_addml
    for proc in doc.iterfind(".//a:process", N):
        name = proc.get("name")
        parent = proc.getparent().getparent()
        level = {"flatFileProcesses": "file", "recordProcesses": "record",
                 "fieldProcesses": "field"}[etree.QName(parent).localname]
        assert ARKADE_PROCESSES[name] == level, (name, level)
    refs = {d.get("name") for d in doc.iterfind(".//a:flatFileDefinition", N)}
    assert {p.get("flatFileReference") for p in doc.iterfind(".//a:flatFileProcesses", N)} == refs


def test_foreign_keys_point_at_target_primary_key_in_order(example_addml):
    doc, _ = example_addml
    pks = {}
    for rd in doc.iterfind(".//a:recordDefinition", N):
        pk = rd.find("a:keys/a:key[a:primaryKey]", N)
        if pk is not None:
            refs = pk.iterfind("a:fieldDefinitionReferences/a:fieldDefinitionReference", N)
            pks[rd.get("name")] = [r.get("name") for r in refs]
    fks = list(doc.iterfind(".//a:foreignKey", N))
    assert len(fks) >= 7
    for fk in fks:
        target = fk.find("a:flatFileDefinitionReference", N).get("name")
        refs = [r.get("name") for r in fk.iterfind(".//a:fieldDefinitionReference", N)]
        assert refs == pks[target]


def test_code_lists_from_profile(example_addml):
    doc, _ = example_addml
    status = doc.find(".//a:recordDefinition[@name='SAK']/a:fieldDefinitions/a:fieldDefinition[@name='status']", N)
    codes = {c.get("codeValue"): c.get("explan") for c in status.iterfind("a:codes/a:code", N)}
    assert len(codes) == 5 and all(codes.values())


def test_key_overlap_writes_8_2_and_says_why(tmp_path):
    db = make_db(tmp_path / "k.sqlite", """
        CREATE TABLE person (id INTEGER PRIMARY KEY, navn TEXT);
        CREATE TABLE rolle (person_id INTEGER NOT NULL REFERENCES person(id), rolle TEXT NOT NULL,
                            PRIMARY KEY (person_id, rolle));
    """, {"person": [(1, "Kari")], "rolle": [(1, "leder")]})
    doc = _extract(db, tmp_path / "o")
    assert schema("8.2").validate(doc), schema("8.2").error_log
    assert not schema("8.3").validate(doc)
    assert b'version="8.2"' in (tmp_path / "o" / "content" / "addml.xsd").read_bytes()
    comment = doc.findtext(".//a:additionalElement[@name='comments']//a:value", namespaces=N)
    assert "rolle.person_id" in comment and "Ingen nøkkel er utelatt" in comment
    rolle = doc.find(".//a:recordDefinition[@name='rolle']", N)
    assert rolle.find("a:keys/a:key[a:primaryKey]", N) is not None
    assert rolle.find("a:keys/a:key[a:foreignKey]", N) is not None


def test_fixed_width_positions_add_up(tmp_path, example_db):
    doc = _extract(example_db, tmp_path / "o", "--profile", str(EXAMPLE_PROFILE), "--format", "fixed")
    assert schema("8.3").validate(doc)
    for rd in doc.iterfind(".//a:recordDefinition", N):
        length = int(rd.findtext("a:fixedLength", namespaces=N))
        pos = 1
        for fd in rd.iterfind("a:fieldDefinitions/a:fieldDefinition", N):
            assert int(fd.findtext("a:startPos", namespaces=N)) == pos
            w = int(fd.findtext("a:fixedLength", namespaces=N))
            assert int(fd.findtext("a:endPos", namespaces=N)) == pos + w - 1
            pos += w
        assert pos - 1 == length
        name = rd.get("name")
        ff = doc.find(f".//a:flatFile[@name='{name}']", N)
        fname = ff.find("a:properties/a:property[@name='fileName']/a:value", N).text
        data = (tmp_path / "o" / "content" / fname).read_bytes()
        count = int(ff.find("a:properties/a:property[@name='numberOfOccurrences']/a:value", N).text)
        assert data.endswith(b"\r\n") and count > 0


def test_xml_format_describes_every_file(tmp_path, example_db):
    doc = _extract(example_db, tmp_path / "o", "--profile", str(EXAMPLE_PROFILE), "--format", "xml")
    assert schema("8.3").validate(doc)
    names = {p.text for p in doc.iterfind(".//a:dataObject/a:properties/a:property[@name='fileName']/a:value", N)}
    top = {p.name for p in (tmp_path / "o" / "content").iterdir() if p.is_file()} - {"addml.xml", "addml.xsd"}
    assert top == names
