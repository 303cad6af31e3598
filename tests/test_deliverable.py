"""The depot's metadata is asked for up front, not at the last step.

An extract without an archival period fails the depot's ADDML profile test (U.02); one without an
archive creator cannot be packaged. ``extract`` ends with a block naming each missing item and how
to give it (option and profile key), ``--strict`` refuses to start without them, the options put
the values into addml.xml (read back with lxml) so ``validate`` finds no U.02 error, and
``profile init`` suggests the period from the date columns (checked against sqlite3 and psycopg).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from tests.conftest import EXAMPLE_PROFILE, fails, fresh_database, run

A = "{http://www.arkivverket.no/standarder/addml}"
DEPOT = ("--period", "2019..2023", "--archive-creator", "Eksempel kommune", "--system-name", "Byggesak")


def reference(out: Path) -> dict[str, str]:
    """Named values under addml.xml's reference (agent names by role, system name, period), with lxml."""
    root = etree.parse(str(out / "content" / "addml.xml")).getroot()
    found: dict[str, str] = {}
    for el in root.iter(f"{A}additionalElement"):
        name = el.get("name")
        value = el.findtext(f"{A}value")
        if name == "agent":
            role = next(p.findtext(f"{A}value") for p in el.iter(f"{A}property") if p.get("name") == "role")
            found.setdefault(f"agent:{role}", el.find(f"{A}additionalElements/{A}additionalElement").findtext(f"{A}value"))
        elif name in ("startDate", "endDate") or (name == "name" and el.getparent().getparent().get("name") == "system"):
            found[name if name != "name" else "system"] = value or ""
    return found


def u02(out: Path) -> int:
    """U.02's errors as validate's JSON report gives them."""
    r = run("validate", out, "--json", out.parent / f"{out.name}.json", "-q")
    assert r.exit_code in (0, 1), r.output
    report = json.loads((out.parent / f"{out.name}.json").read_text(encoding="utf-8"))
    (check,) = [c for c in report["checks"] if c["id"] == "U.02"]
    return int(check["errors"])


def test_extract_without_metadata_ends_with_what_the_depot_needs(example_db, tmp_path):
    out = tmp_path / "o"
    r = run("extract", example_db, "--out", out, "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    block = r.output[r.output.index("The depot needs 3 thing(s)"):]
    for option, key in (("--period START..END", "[metadata] period_start"), ("--archive-creator NAME",
                        "[metadata] archive_creator"), ("--system-name NAME", "[metadata] system_name")):
        line = next(ln for ln in block.splitlines() if option in ln)
        assert key in line, line
    assert "profile init" in block
    summary = (out / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "The depot needs 3 thing(s)" in summary and "--period START..END" in summary
    needs = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))["depot_needs"]
    assert [n["item"].split(" (")[0] for n in needs] == ["archival period", "archive creator", "system name"]
    assert u02(out), "an extract without a period must fail U.02, or this test proves nothing"


def test_options_put_the_metadata_into_addml_and_pass_u02(example_db, tmp_path):
    out = tmp_path / "o"
    r = run("extract", example_db, "--out", out, "--charset", "UTF-8", "-q", *DEPOT)
    assert r.exit_code == 0, r.output
    assert "The depot needs" not in r.output
    ref = reference(out)
    assert ref["startDate"] == "2019-01-01" and ref["endDate"] == "2023-12-31"
    assert ref["agent:recordCreator"] == "Eksempel kommune" and ref["system"] == "Byggesak"
    assert json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))["depot_needs"] == []
    assert u02(out) == 0


def test_options_override_the_profile_and_bound_its_period_filters(example_db, tmp_path):
    """A profile keeping SAK rows by period_column: --period narrows the kept rows."""
    con = sqlite3.connect(example_db)
    expected = con.execute("SELECT count(*) FROM SAK WHERE mottatt >= '2021-01-01' AND mottatt < '2022-01-01'").fetchone()[0]
    con.close()
    prof = tmp_path / "p.toml"
    prof.write_text('[metadata]\narchive_creator = "Eksempel kommune"\nsystem_name = "Byggesak"\n'
                    'period_start = "2019-01-01"\nperiod_end = "2023-12-31"\n[charset]\nencoding = "UTF-8"\n'
                    '[tables.SAK]\nperiod_column = "mottatt"\n', encoding="utf-8")
    out = tmp_path / "o"
    r = run("extract", example_db, "--out", out, "--profile", prof, "-q", "--period", "2021",
            "--system-name", "Annet navn")
    assert r.exit_code == 0, r.output
    ref = reference(out)
    assert (ref["startDate"], ref["endDate"], ref["system"]) == ("2021-01-01", "2021-12-31", "Annet navn")
    assert ref["agent:recordCreator"] == "Eksempel kommune"  # from the profile
    sak = next(f for f in json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))["tables"]
               if f["table"] == "SAK")
    assert sak["records"] == expected > 0


@pytest.mark.parametrize("bad", ["2019", "2019-01-01", "2024..2019", "2019-02-30..2020", "20190101..2020", "x..y"])
def test_bad_period_is_one_clear_error(example_db, tmp_path, bad):
    r = run("extract", example_db, "--out", tmp_path / "o", "--charset", "UTF-8", "-q", "--period", bad)
    if bad == "2019":  # a year alone is that year
        assert r.exit_code == 0, r.output
        assert reference(tmp_path / "o")["endDate"] == "2019-12-31"
        return
    fails(r, "period")
    assert not (tmp_path / "o").exists()


def test_strict_refuses_to_start_without_the_depot_metadata(example_db, tmp_path):
    prof = tmp_path / "p.toml"
    text = EXAMPLE_PROFILE.read_text(encoding="utf-8")
    for key in ("archive_creator", "period_start", "period_end"):
        text = "\n".join(ln for ln in text.splitlines() if not ln.startswith(f"{key} ="))
    prof.write_text(text, encoding="utf-8")
    out = tmp_path / "o"
    msg = fails(run("extract", example_db, "--out", out, "--profile", prof, "--strict", "-q"),
                "--strict", "archival period", "--period START..END", "archive creator", "--archive-creator NAME")
    assert "system name" not in msg  # the profile gives it
    assert not out.exists() and not any(tmp_path.glob(".o.*"))
    r = run("extract", example_db, "--out", out, "--profile", prof, "--strict", "-q", "--period", "2019..2023",
            "--archive-creator", "Eksempel kommune")
    assert r.exit_code == 0, r.output


def test_unknown_system_type_is_a_profile_error(example_db, tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text('[metadata]\nsystem_type = "Saksbehandling"\n', encoding="utf-8")
    fails(run("extract", example_db, "--out", tmp_path / "o", "--profile", prof, "-q"), "metadata.system_type",
          "Fagsystem", "Noark 5")


def _suggestion(text: str) -> tuple[str, str]:
    line = next(ln for ln in text.splitlines() if "forslag: period_start" in ln)
    start = line.split('period_start = "')[1].split('"')[0]
    end = line.split('period_end = "')[1].split('"')[0]
    return start, end


def test_profile_init_suggests_the_period_from_the_date_columns(example_db, tmp_path):
    r = run("profile", "init", example_db, "-o", tmp_path / "p.toml")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "p.toml").read_text(encoding="utf-8")
    con = sqlite3.connect(example_db)
    dates = [(t, c) for t, c in (("SAK", "mottatt"), ("SAK", "registrert"), ("HENDELSESLOGG", "tidspunkt"),
                                 ("MOTEPLAN", "dato"), ("DOKUMENT", "opprettet"))]
    lows = [con.execute(f"SELECT min({c}) FROM {t}").fetchone()[0][:10] for t, c in dates]
    highs = [con.execute(f"SELECT max({c}) FROM {t}").fetchone()[0][:10] for t, c in dates]
    birth = con.execute("SELECT min(fodselsdato) FROM TILTAKSHAVER").fetchone()[0][:10]
    con.close()
    assert _suggestion(text) == (min(lows), max(highs))
    assert birth < min(lows)  # a birth date would have pulled the suggestion back: it is listed, not used
    assert any("TILTAKSHAVER.fodselsdato" in ln and "ikke med i forslaget" in ln for ln in text.splitlines())
    filled = text.replace('period_start = ""', 'period_start = "2019-01-01"').replace(
        'period_end = ""', 'period_end = "2023-12-31"')
    (tmp_path / "p.toml").write_text(filled, encoding="utf-8")
    r = run("profile", "init", example_db, "-o", tmp_path / "p.toml")
    assert r.exit_code == 0, r.output
    again = (tmp_path / "p.toml").read_text(encoding="utf-8")
    assert "forslag: period_start" not in again and "spenner fra" in again  # set by a person: no suggestion


def test_profile_init_period_on_postgresql_ignores_placeholders(tmp_path):
    with fresh_database("postgresql", "uttrekk_dl") as url:
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE sak (id int PRIMARY KEY, opprettet timestamptz, avsluttet date, "
                                 "frist date)")
            conn.exec_driver_sql("INSERT INTO sak VALUES (1, '2004-05-06 07:08:09+02', '0001-01-01', '2099-01-01'), "
                                 "(2, '2012-11-30 23:59:00+00', '2013-02-03', NULL), (3, NULL, '9999-12-31', NULL)")
        eng.dispose()
        r = run("profile", "init", url.render_as_string(hide_password=False), "-o", tmp_path / "p.toml")
        assert r.exit_code == 0, r.output
    text = (tmp_path / "p.toml").read_text(encoding="utf-8")
    assert _suggestion(text) == ("2004-05-06", "2013-02-03")
    line = next(ln for ln in text.splitlines() if "sak.avsluttet" in ln)
    assert "0001-01-01" in line and "9999-12-31" in line and "plassholder" in line
    assert "ikke med i forslaget" in next(ln for ln in text.splitlines() if "sak.frist" in ln)


def test_a_profile_path_that_is_the_source_is_refused(example_db, tmp_path):
    db = tmp_path / "kilde.sqlite"
    db.write_bytes(example_db.read_bytes())
    before = db.read_bytes()
    fails(run("profile", "init", db, "-o", db), "-o", "is the source")
    fails(run("inspect", db, "--keys", "--write-profile", db), "--write-profile", "is the source")
    assert db.read_bytes() == before
