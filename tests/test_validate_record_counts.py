"""Records are counted per record definition for every file, in the terminal summary, --json and
--html, whether or not addml.xml names Arkade's counting processes (A.01, A.04).

The extracts are built here: a fixed-width file and a delimited file, each with two record types
told apart by a recordDefinitionFieldIdentifier, and no process named but the number check. The
reports are read back with json and lxml.html.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html
from click.testing import CliRunner

from extractor.cli import cli
from tests.test_validate_reading import FIELDS, delim_addml, make_fixed, record_types


def run_validate(extract: Path, tmp_path: Path) -> tuple[str, dict, lxml.html.HtmlElement]:
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["validate", str(extract), "--json", str(out_json), "--html", str(out_html)])
    assert res.exit_code in (0, 1), res.output
    return res.output, json.loads(out_json.read_text(encoding="utf-8")), lxml.html.parse(str(out_html)).getroot()


def html_files(page: lxml.html.HtmlElement) -> dict[str, str]:
    """file -> the 'records per record definition' cell of the Files table."""
    (table,) = page.xpath("//h2[.='Files']/following-sibling::table[1]")
    heads = [th.text_content() for th in table.xpath(".//tr[1]/th")]
    col = heads.index("records per record definition")
    return {tr[0].text_content(): tr[col].text_content() for tr in table.xpath(".//tr[td]")}


def test_fixed_width_file_with_two_record_types(tmp_path: Path) -> None:
    content = make_fixed(tmp_path / "x")
    addml = content / "addml.xml"
    text = addml.read_bytes().decode("iso-8859-1")
    text, n = re.subn(r"<flatFileProcesses.*</flatFileProcesses>", "", text, flags=re.S)
    assert n == 1
    addml.write_bytes(text.encode("iso-8859-1"))

    output, report, page = run_validate(content.parent, tmp_path)

    ids = {c["id"] for c in report["checks"]}
    assert "A.01" not in ids and "A.04" not in ids
    (f,) = report["files"]
    assert f["records"] == 5
    assert f["record_definitions"] == [{"name": "hode", "records": 2}, {"name": "linje", "records": 3}]
    assert f["records_with_delimiter_errors"] == 0
    assert re.search(r"^  ordre\.dat +5  hode 2, linje 3$", output, re.M), output
    assert html_files(page) == {"ordre.dat": "hode 2, linje 3"}


def test_delimited_file_with_two_record_types_an_unused_one_and_a_broken_record(tmp_path: Path) -> None:
    data = b"A;1;x\r\nB;2\r\nA;3;y\r\nC;4;z\r\n"  # C: no record definition has it (AH.03)
    content = tmp_path / "x" / "content"
    content.mkdir(parents=True)
    (content / "T.txt").write_bytes(data)
    xml = record_types(delim_addml(data, FIELDS, count=4).decode(), {"U": "B", "V": "D"})
    assert "Analyse_Count" not in xml
    (content / "addml.xml").write_text(xml, encoding="utf-8")

    output, report, page = run_validate(content.parent, tmp_path)

    (f,) = report["files"]
    assert f["records"] == 4
    assert f["record_definitions"] == [{"name": "T", "records": 2}, {"name": "U", "records": 1},
                                       {"name": "V", "records": 0}]
    assert f["records_with_delimiter_errors"] == 1
    assert {c["id"]: c["errors"] for c in report["checks"]}["AH.03"] == 1
    breakdown = "T 2, U 1, V 0, 1 with delimiter errors (AH.03)"
    assert re.search(rf"^  T\.txt +4  {re.escape(breakdown)}$", output, re.M), output
    assert html_files(page) == {"T.txt": breakdown}
