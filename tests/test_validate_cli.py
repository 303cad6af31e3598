"""``uttrekk validate``: exit codes 0/1/2, the terminal summary, --json and --html."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from extractor.validation.command import validate as validate_command
from tests.test_validate_support import copy_extract, edit_record, make_extract


@pytest.fixture(scope="module")
def extract(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_extract(example_db, tmp_path_factory.mktemp("vcli") / "x")


def run(*args: object) -> tuple[int, str]:
    res = CliRunner().invoke(validate_command, [str(a) for a in args])
    return res.exit_code, res.output


def test_is_a_click_command() -> None:
    assert isinstance(validate_command, click.Command) and validate_command.name == "validate"


def test_clean_extract_exits_0_and_writes_reports(extract: Path, tmp_path: Path) -> None:
    code, out = run(extract, "--json", tmp_path / "r.json", "--html", tmp_path / "r.html")
    assert code == 0, out
    assert "Result: no errors" in out and "AH.01" in out
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["exit_code"] == 0 and data["errors"] == 0 and data["addml_version"] == "8.3"
    ids = {c["id"] for c in data["checks"]}
    assert {"A.12", "A.15", "A.16", "AH.01", "AH.02", "AH.03", "U.01", "U.03"} <= ids
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert all(f"id='{i}'" in page for i in ids)
    assert "<script" not in page and "http" not in page.split("<body>")[0].replace("http-equiv", "")
    HTMLParser().feed(page)  # parses


def test_errors_exit_1_with_locations_in_every_report(extract: Path, tmp_path: Path) -> None:
    bad = copy_extract(extract, tmp_path / "bad") / "content"
    edit_record(bad, "SAK.txt", 4, lambda f: f.__setitem__(7, b"2019-13-01"))
    code, out = run(bad.parent, "--json", tmp_path / "r.json", "--html", tmp_path / "r.html", "--examples", "5")
    assert code == 1
    assert "ERROR A.19" in out and "SAK.txt, record 4, field mottatt" in out
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    a19 = next(c for c in data["checks"] if c["id"] == "A.19")
    assert a19["errors"] == 1 and a19["status"] == "error"
    assert a19["examples"][0] | {"message": None} == {"severity": "error", "file": "SAK.txt", "record": 4,
                                                      "field": "mottatt", "value": "2019-13-01", "message": None}
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "2019-13-01" in page and "A.19" in page


def test_hostile_values_are_escaped_in_html(extract: Path, tmp_path: Path) -> None:
    bad = copy_extract(extract, tmp_path / "bad") / "content"
    edit_record(bad, "SAK.txt", 2, lambda f: f.__setitem__(2, b"<script>alert(1)</script>"))
    code, _ = run(bad.parent, "--html", tmp_path / "r.html")
    assert code == 1
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    code, out = run(tmp_path / "missing")
    assert code == 2 and out.startswith("uttrekk: error:")
    (tmp_path / "empty").mkdir()
    code, out = run(tmp_path / "empty")
    assert code == 2 and "addml.xml" in out


def test_quiet_prints_only_the_result(extract: Path) -> None:
    code, out = run(extract, "-q")
    assert code == 0 and out.strip().startswith("Result: no errors") and "\n" not in out.strip()
