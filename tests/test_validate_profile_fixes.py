"""U.02 findings about missing depot metadata name their fix: the profile's [metadata] key and the
``uttrekk extract`` option (--archive-creator NAME, --system-name NAME, --period START..END).

An extract made without a profile lacks the archive creator, the system name and the archival
period; hand-made addml.xml files lack the rest. Reports are read back from --json with json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import cli
from tests.test_validate_reading import FIELDS, REFERENCE, make_delim
from tests.test_validate_support import DATE, make_extract

PERIOD = ("[metadata] period_start", "period_end", "--period START..END", "YYYY-MM-DD")
CREATOR = ("[metadata] archive_creator", "--archive-creator NAME")
SYSTEM_NAME = ("[metadata] system_name", "--system-name NAME")


def u02(extract: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "r.json"
    res = CliRunner().invoke(cli, ["validate", str(extract), "--json", str(out), "--examples", "100"])
    assert res.exit_code in (0, 1), res.output
    (check,) = [c for c in json.loads(out.read_text(encoding="utf-8"))["checks"] if c["id"] == "U.02"]
    return check["examples"]


def one(found: list[dict], start: str) -> dict:
    (hit,) = [f for f in found if f["message"].startswith(start)]
    return hit


def test_an_extract_made_without_a_profile_says_how_to_fix_each_finding(example_db: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["extract", str(example_db), "--out", str(tmp_path / "x"), "--charset", "UTF-8",
                                   "--date", DATE, "-q"])
    assert res.exit_code == 0, res.output
    found = u02(tmp_path / "x", tmp_path)

    period = one(found, "§1.4.7 content/archivalPeriod")
    creator = one(found, "§1.4.6 no agent with role recordCreator")
    system = one(found, "§1.4.6 system has no name")
    assert (period["severity"], creator["severity"], system["severity"]) == ("error", "warning", "warning")
    for finding, needed in ((period, PERIOD), (creator, CREATOR), (system, SYSTEM_NAME)):
        for fragment in needed:
            assert fragment in finding["message"], (fragment, finding["message"])
    metadata = [f for f in found if f["message"].startswith(("§1.4.6", "§1.4.7"))]
    assert all("fix: set [metadata] " in f["message"] for f in metadata), metadata


def test_an_extract_with_the_metadata_has_none_of_these_findings(example_db: Path, tmp_path: Path) -> None:
    found = u02(make_extract(example_db, tmp_path / "x"), tmp_path)
    assert not [f for f in found if f["message"].startswith(("§1.4.6", "§1.4.7"))], found


def _reference(old: str, new: str) -> str:
    assert old in REFERENCE
    return REFERENCE.replace(old, new)


@pytest.mark.parametrize("reference, start, severity, needed", [
    ("", "§1.4.6 dataset has no reference", "error", (*CREATOR, *SYSTEM_NAME, "--period START..END")),
    (_reference('<additionalElement name="agent">', '<additionalElement name="agentX">'),
     "§1.4.6 context has no agents/agent", "error", CREATOR),
    (_reference("<value>Testkommune</value>", "<value></value>"), "§1.4.6 agent (recordCreator) has no name", "warning",
     CREATOR),
    (_reference("<value>recordCreator</value>", "<value>owner</value>"), "§1.4.6 no agent with role recordCreator",
     "warning", CREATOR),
    (_reference('<additionalElement name="system">', '<additionalElement name="systemX">'),
     "§1.4.6 context has no system", "error", (*SYSTEM_NAME, "[metadata] system_type")),
    (_reference("<value>Fagsystem</value></additionalElement>\n   <additionalElement name=\"name\">",
                "<value>Fag</value></additionalElement>\n   <additionalElement name=\"name\">"),
     "§1.4.6 system/systemType 'Fag'", "error", ("[metadata] system_type",)),
    (_reference("<value>2020-12-31</value>", "<value></value>"), "§1.4.7 content/archivalPeriod", "error", PERIOD),
    (_reference("<value>2024-05-17</value>", "<value></value>"), "§1.4.7 content/archivalDataset", "error",
     ("[metadata] extraction_date", "--date YYYY-MM-DD")),
])
def test_each_missing_piece_of_hand_made_metadata_names_its_profile_key(tmp_path: Path, reference: str, start: str,
                                                                       severity: str, needed: tuple[str, ...]) -> None:
    content = make_delim(tmp_path / "x", b"a;b;1\r\n", FIELDS, count=1)
    addml = content / "addml.xml"
    addml.write_text(addml.read_text(encoding="utf-8").replace(REFERENCE, reference), encoding="utf-8")
    finding = one(u02(content.parent, tmp_path), start)
    assert finding["severity"] == severity
    for fragment in needed:
        assert fragment in finding["message"], (fragment, finding["message"])
