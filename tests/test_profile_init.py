"""``uttrekk profile init``: a profile skeleton for every table and column of a source, and the same
profile, described by a person, brought up to date with a changed source without losing a byte.

Run on the example database (SQLite) and on real PostgreSQL and MariaDB databases with comments,
foreign keys, a lookup table and a table without a key. What the skeleton must hold is read from
the source with the engine's own catalog (sqlite3, SQL), the profile with tomllib and plain line
scanning, the extract's addml.xml with lxml: never through the code under test.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import build_example_db
import pytest
import sqlalchemy as sa
import tomlkit
from click.testing import CliRunner
from lxml import etree

from extractor.cli import cli
from extractor.profile import load_profile
from tests.conftest import fails, fresh_database, make_db

ADDML = "{http://www.arkivverket.no/standarder/addml}"
MACHINE = re.compile(r"^# uttrekk:")
HINT = re.compile(r"^# (exclude|where|filter_reason|period_column) = ")
HEADER = re.compile(r"^\[\[?([^\]]+)\]\]?")
TODAY = dt.date.today().isoformat()


def init(*args: Any) -> Any:
    """Run ``uttrekk profile init``; ``stdout`` is the profile, ``stderr`` the summary."""
    return CliRunner().invoke(cli, ["profile", "init", *map(str, args)], catch_exceptions=False)


def cli_run(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def sections(text: str) -> dict[str, list[str]]:
    """Header -> the lines under it (plain line scanning: the skeleton writes no multi-line values)."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.split("\n"):
        m = HEADER.match(line)
        if m:
            current = m.group(1)
            out.setdefault(current, [])
        elif current:
            out[current].append(line)
    return out


def facts(lines: list[str]) -> str:
    return "\n".join(line for line in lines if MACHINE.match(line))


def fill(text: str) -> str:
    """Describe every table and column still without a description, as a person would, with tomlkit."""
    doc = tomlkit.parse(text)
    for tname, td in doc["tables"].items():
        if "exclude" in td:
            continue
        if not td.get("description"):
            td["description"] = f"Tabellen {tname}: «beskrevet» av arkivaren, med \"anførsel\" og æøå."
        for cname, cd in td.get("columns", {}).items():
            if not cd.get("description"):
                cd["description"] = f"Kolonnen {tname}.{cname}, beskrevet av arkivaren."
    return tomlkit.dumps(doc)


def kept_described(text: str) -> list[str]:
    """Kept tables and columns without a description (read with tomllib)."""
    missing = []
    for tname, td in tomllib.loads(text).get("tables", {}).items():
        if td.get("exclude"):
            continue
        if not td.get("description", "").strip():
            missing.append(tname)
        missing += [f"{tname}.{c}" for c, cd in td.get("columns", {}).items()
                    if not cd.get("exclude") and not cd.get("description", "").strip()]
    return missing


def expected_after(filled: str, gone: set[str]) -> list[str]:
    """The person's lines of ``filled`` as they must come back: machine lines left out, the lines of
    vanished sections commented out."""
    out = []
    current = ""
    for line in filled.split("\n"):
        m = HEADER.match(line)
        if m:
            current = m.group(1)
        if MACHINE.match(line) or (HINT.match(line) and current.count(".") == 1):
            continue
        if any(current == g or current.startswith(g + ".") for g in gone) and line.strip() \
                and not line.startswith("#"):
            line = "# " + line
        out.append(line)
    return out


def assert_subsequence(expected: list[str], text: str) -> None:
    lines = iter(text.split("\n"))
    for want in expected:
        for got in lines:
            if got == want:
                break
        else:
            raise AssertionError(f"line not kept byte for byte (or out of order): {want!r}")


def strict_available() -> bool:
    return "--strict" in cli_run("extract", "--help").output


DEPOT = ("--period", "2001..2020", "--archive-creator", "Kommune", "--system-name", "Sys")
"""The depot metadata --strict also asks for (tests here are about descriptions)."""


def extract(source: str, profile: Path, out: Path, *extra: str) -> Any:
    return cli_run("extract", source, "--profile", profile, "--out", out, "--charset", "UTF-8", "-q", *DEPOT, *extra)


def addml_descriptions(out: Path) -> dict[str, str]:
    """flatFile/field name -> description in addml.xml (lxml)."""
    tree = etree.parse(str(out / "content" / "addml.xml"))
    found = {}
    for ff in tree.iter(f"{ADDML}flatFileDefinition"):
        d = ff.find(f"{ADDML}description")
        found[ff.get("name")] = d.text if d is not None else ""
        for fd in ff.iter(f"{ADDML}fieldDefinition"):
            d = fd.find(f"{ADDML}description")
            found[f"{ff.get('name')}.{fd.get('name')}"] = d.text if d is not None else ""
    return found


# -- the example database (SQLite) ----------------------------------------------------------------


def sqlite_catalog(path: Path) -> dict[str, list[tuple[str, str, bool, bool]]]:
    """table -> [(column, declared type, NOT NULL, in primary key)] from SQLite's own catalog."""
    con = sqlite3.connect(path)
    out = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        out[name] = [(r[1], r[2], bool(r[3]), bool(r[5])) for r in con.execute(f'PRAGMA table_info("{name}")')]
    con.close()
    return out


def sqlite_count(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    con.close()
    return n


def test_skeleton_lists_every_table_and_column_with_its_facts(example_db, tmp_path):
    r = init(example_db)
    assert r.exit_code == 0, r.output
    text = r.stdout
    data = tomllib.loads(text)
    catalog = sqlite_catalog(example_db)
    assert set(data["tables"]) == set(catalog)
    assert set(data["metadata"]) == {"archive_creator", "submitter", "system_name", "system_version", "system_type",
                                     "description", "period_start", "period_end", "extraction_date",
                                     "dataset_number", "responsible_person"}
    assert all(v == "" for v in data["metadata"].values())
    assert data["charset"] == {"encoding": "ISO-8859-1", "utf8_fallback": False, "map": {}}
    assert data["output"] == {}
    assert '# format = "delimited"' in sections(text)["output"][0]
    sect = sections(text)
    for table, columns in catalog.items():
        td = data["tables"][table]
        assert td["description"] == ""
        assert list(td["columns"]) == [c for c, *_ in columns]
        assert f"# uttrekk: {sqlite_count(example_db, table)} rader; nøkkel i uttrekket: " in facts(sect[f"tables.{table}"])
        assert '# exclude = "begrunnelse"' in "\n".join(sect[f"tables.{table}"])
        for column, declared, not_null, in_pk in columns:
            line = facts(sect[f"tables.{table}.columns.{column}"])
            native = line.removeprefix("# uttrekk: ").split(" -> ")[0]
            assert native.replace(" ", "") == declared.replace(" ", ""), line
            state = ("primærnøkkel" if in_pk else "aldri tom (NOT NULL)" if not_null else "kan være tom (NULL)")
            assert state in line, line
            if m := re.match(r"VARCHAR\((\d+)\)", declared):
                assert f"lengde {m.group(1)}" in line
    f = {t: facts(sect[f"tables.{t}"]) for t in catalog}
    assert "nøkkel i uttrekket: id (primærnøkkelen i kilden)" in f["SAK"]
    assert "nøkkel i uttrekket: aar, motenr (primærnøkkelen i kilden)" in f["MOTEPLAN"]
    assert "nøkkel i uttrekket: uttrekk_lopenr, et løpenummer" in f["HENDELSESLOGG"]  # no key, duplicate rows
    assert 'code_table = { code = "kode", explanation = "betegnelse" }' in f["SAKSTYPE"]
    assert "code_table" not in f["SAK"]
    assert "status -> STATUSKODE(kode)" in f["SAK"]
    assert "DECIMAL(12, 2) -> float; 12 sifre, 2 desimaler" in facts(sect["tables.SAK.columns.gebyr"])
    assert "BLOB -> fil" in facts(sect["tables.DOKUMENT.columns.innhold"])
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    assert load_profile(path).tables["SAK"].description == ""  # loads without a problem


def test_filled_profile_survives_a_changed_source_byte_for_byte(tmp_path):
    db = tmp_path / "kilde.sqlite"
    build_example_db.build(db)
    src = str(db)
    path = tmp_path / "system.toml"
    r = init(src, "-o", path)
    assert r.exit_code == 0 and r.stdout == "", r.output
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc["tables"]["HENDELSESLOGG"]["exclude"] = "Teknisk logg uten bevaringsverdi (bevaringsvurdering 2025)."
    doc["metadata"]["archive_creator"] = "Eksempel kommune"
    doc["metadata"]["period_start"] = "2019-01-01"
    filled = fill(tomlkit.dumps(doc)).replace(
        '[tables.SAK]\n', '[tables.SAK]\n# Arkivarens merknad: sjekket mot rutinene i 2025.\n')
    filled = filled.replace('[tables.STATUSKODE]\n', '# --- kodetabeller ---\n[tables.STATUSKODE]\n')
    path.write_text(filled, encoding="utf-8")
    assert not kept_described(filled)
    if strict_available():
        assert extract(src, path, tmp_path / "ut0", "--strict").exit_code == 0

    con = sqlite3.connect(db)
    con.executescript("""
        ALTER TABLE SAK ADD COLUMN arkivref VARCHAR(30);
        DROP TABLE SAK_MERKNAD;
        CREATE TABLE ARKIVDEL (id INTEGER PRIMARY KEY, navn VARCHAR(40) NOT NULL, opprettet DATE);
        INSERT INTO ARKIVDEL VALUES (1, 'Byggesaker', '2019-01-01'), (2, 'Oppmåling', '2020-05-01');
    """)
    con.close()
    r = init(src, "-o", path)
    assert r.exit_code == 0, r.output
    after = path.read_text(encoding="utf-8")
    assert_subsequence(expected_after(filled, {"tables.SAK_MERKNAD"}), after)
    assert "+ ARKIVDEL" in r.stderr and "+ SAK.arkivref" in r.stderr and "- tables.SAK_MERKNAD" in r.stderr

    data = tomllib.loads(after)
    assert "SAK_MERKNAD" not in data["tables"]
    lines = after.split("\n")
    gone = lines.index("# [tables.SAK_MERKNAD]")
    assert lines[gone - 1] == (f"# BORTE {TODAY}: tabellen SAK_MERKNAD finnes ikke lenger i kilden; teksten under er "
                               "beholdt som kommentar")
    assert after.count("# BORTE") == 1  # one mark for the table and its columns
    assert f"[tables.ARKIVDEL] # NY {TODAY}: dukket opp i kilden" in lines
    assert f"[tables.SAK.columns.arkivref] # NY {TODAY}: dukket opp i kilden" in lines
    assert lines.index("[tables.SAK.columns.arkivref] " f"# NY {TODAY}: dukket opp i kilden") == \
        lines.index("[tables.SAK.columns.vedtak_motenr]") + 4  # right after the table's last column
    assert "# uttrekk: 2 rader; nøkkel i uttrekket: id (primærnøkkelen i kilden)" in facts(sections(after)["tables.ARKIVDEL"])
    assert data["tables"]["HENDELSESLOGG"]["exclude"].startswith("Teknisk logg")
    assert '# exclude = "begrunnelse"' not in "\n".join(sections(after)["tables.HENDELSESLOGG"])
    assert sorted(kept_described(after)) == ["ARKIVDEL", "ARKIVDEL.id", "ARKIVDEL.navn", "ARKIVDEL.opprettet", "SAK.arkivref"]
    assert load_profile(path).metadata.archive_creator == "Eksempel kommune"

    r = extract(src, path, tmp_path / "ut1")
    assert r.exit_code == 0, r.output
    if strict_available():
        fails(extract(src, path, tmp_path / "ut2", "--strict"), "--strict", "ARKIVDEL")
    path.write_text(fill(after), encoding="utf-8")
    again = init(src, "-o", path)
    assert again.exit_code == 0 and "0 added, 0 marked gone" in again.stderr
    final = path.read_text(encoding="utf-8")
    assert final == fill(after)  # an unchanged source: the same bytes
    r = extract(src, path, tmp_path / "ut3", *(["--strict"] if strict_available() else []))
    assert r.exit_code == 0, r.output
    described = addml_descriptions(tmp_path / "ut3")
    assert described["SAK"].startswith("Tabellen SAK: «beskrevet» av arkivaren")
    assert described["SAK.arkivref"] == "Kolonnen SAK.arkivref, beskrevet av arkivaren."
    assert "HENDELSESLOGG" not in described and "SAK_MERKNAD" not in described


def test_unchanged_source_gives_the_same_bytes(example_db, tmp_path):
    first = init(example_db)
    assert first.exit_code == 0
    assert init(example_db).stdout == first.stdout
    path = tmp_path / "p.toml"
    path.write_text(first.stdout, encoding="utf-8")
    r = init(example_db, "--profile", path)
    assert r.exit_code == 0 and r.stdout == first.stdout
    assert init(example_db, "-o", path).exit_code == 0
    assert path.read_bytes() == first.stdout.encode("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["p.toml"]  # written atomically, nothing left beside it


RELATIONS_DDL = """
CREATE TABLE status (kode VARCHAR(4) NOT NULL PRIMARY KEY, tekst VARCHAR(40));
CREATE TABLE person (id INTEGER NOT NULL PRIMARY KEY, navn VARCHAR(60));
CREATE TABLE sak (id INTEGER NOT NULL PRIMARY KEY, tittel VARCHAR(100), status_kode VARCHAR(4), person_id INTEGER,
                  notat TEXT);
"""


def relations_db(path: Path) -> Path:
    return make_db(path, RELATIONS_DDL, {
        "status": [("A", "Åpen"), ("L", "Lukket"), ("U", "Under behandling")],
        "person": [(i, f"Person {i}") for i in range(1, 21)],
        "sak": [(100 + i, f"Sak {i}", "ALU"[i % 3], 1 + i % 20, None) for i in range(40)],
    })


def test_keys_adds_the_relations_the_data_show_unconfirmed(tmp_path):
    db = relations_db(tmp_path / "rel.sqlite")
    path = tmp_path / "p.toml"
    r = init(db, "--keys", "-o", path)
    assert r.exit_code == 0, r.output
    text = path.read_text(encoding="utf-8")
    fks = tomllib.loads(text)["tables"]["sak"]["foreign_keys"]
    assert {(tuple(f["columns"]), f["references"], f["confirmed"]) for f in fks} == {
        (("status_kode",), "status", False), (("person_id",), "person", False)}
    assert all(f["evidence"] for f in fks)
    assert load_profile(path).tables["sak"].foreign_keys[0].confirmed is False
    assert init(db, "--keys", "-o", path).exit_code == 0
    assert path.read_text(encoding="utf-8") == text  # nothing added twice
    # the source loses the column a relation names: the relation is commented out, the profile still extracts
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE sak DROP COLUMN person_id")
    con.commit()
    con.close()
    r = init(db, "--keys", "-o", path)
    assert r.exit_code == 0, r.output
    after = path.read_text(encoding="utf-8")
    assert [tuple(f["columns"]) for f in tomllib.loads(after)["tables"]["sak"]["foreign_keys"]] == [("status_kode",)]
    assert f"# BORTE {TODAY}: kolonnen sak.person_id finnes ikke lenger i kilden" in after
    assert '# references = "person"' in after
    assert extract(str(db), path, tmp_path / "ut").exit_code == 0


GONE_COLUMN = """[tables.sak.columns.gammel]
description = "En kolonne som er fjernet."
"""
GONE_TABLE = """[tables.arkiv]
description = "En tabell som er fjernet."
"""
GONE_RELATION = """[[tables.sak.foreign_keys]]
columns = ["person_id"]
references = "arkiv"
confirmed = true
"""
HANDWRITTEN = f'''# Profil for saksarkivet, skrevet for hånd.
[metadata]
archive_creator = "Kommunen"   # egen merknad

# --- statuskoder ---
[tables.status]
description = """Statuskoder.
[ikke en tabell]
# ikke en kommentar"""
code_table = {{ code = "kode", explanation = "tekst" }}

[tables.status.columns.kode]
description = "Koden."

[tables.sak]
primary_key = ["id"]
description = 'Saker'
# egen merknad om saker

[tables.sak.columns.notat]
exclude = "Fritekst med personopplysninger."

{GONE_COLUMN}
{GONE_TABLE}
[[tables.sak.foreign_keys]]
columns = ["status_kode"]
references = "status"
confirmed = true

{GONE_RELATION}'''


def commented(block: str) -> str:
    return "\n".join("# " + line if line else line for line in block.split("\n"))


def test_what_a_person_writes_anywhere_is_kept(tmp_path):
    """A hand-written profile: a multi-line description holding a header and a comment, banners,
    an inline code table, a literal string, an exclusion; a column, a table and a relation the
    source does not have."""
    db = relations_db(tmp_path / "rel.sqlite")
    path = tmp_path / "p.toml"
    path.write_text(HANDWRITTEN, encoding="utf-8")
    r = init(db, "-o", path)
    assert r.exit_code == 0, r.output
    after = path.read_text(encoding="utf-8")
    expected = HANDWRITTEN
    for block in (GONE_COLUMN, GONE_TABLE, GONE_RELATION):
        expected = expected.replace(block, commented(block))
    assert_subsequence(expected.split("\n"), after)
    assert after.count("# BORTE") == 3
    assert "- tables.sak.foreign_keys: tabellen arkiv finnes ikke lenger i kilden" in r.stderr
    data = tomllib.loads(after)
    assert data["tables"]["status"]["description"] == "Statuskoder.\n[ikke en tabell]\n# ikke en kommentar"
    assert set(data["tables"]) == {"status", "sak", "person"}
    assert list(data["tables"]["sak"]["columns"]) == ["notat", "id", "tittel", "status_kode", "person_id"]
    assert [f["references"] for f in data["tables"]["sak"]["foreign_keys"]] == ["status"]
    lines = after.split("\n")
    assert lines.index(f"[tables.sak.columns.id] # NY {TODAY}: dukket opp i kilden") < lines.index(
        "# [tables.sak.columns.gammel]")  # new columns go with the table's columns, before what was taken out
    assert load_profile(path).tables["sak"].columns["notat"].exclude == "Fritekst med personopplysninger."
    again = init(db, "-o", path)
    assert path.read_text(encoding="utf-8") == after, again.output
    assert extract(str(db), path, tmp_path / "ut").exit_code == 0


def test_a_view_the_profile_names_and_a_row_filter(tmp_path):
    """A view named in the profile is extracted without --views, so it is part of the source, not
    gone; a table with a row filter shows how many rows the filter keeps."""
    db = relations_db(tmp_path / "rel.sqlite")
    con = sqlite3.connect(db)
    con.execute("CREATE VIEW aapne_saker AS SELECT id, tittel FROM sak WHERE status_kode = 'A'")
    con.commit()
    con.close()
    path = tmp_path / "p.toml"
    path.write_text('[tables.aapne_saker]\ndescription = "Åpne saker."\n\n'
                    '[tables.sak]\ndescription = "Saker."\nwhere = "status_kode <> \'L\'"\n'
                    'filter_reason = "Lukkede saker er avlevert før."\n', encoding="utf-8")
    r = init(db, "-o", path)
    assert r.exit_code == 0, r.output
    after = path.read_text(encoding="utf-8")
    assert "BORTE" not in after and "note:" not in r.stderr, r.stderr
    data = tomllib.loads(after)
    assert list(data["tables"]["aapne_saker"]["columns"]) == ["id", "tittel"]
    assert "aapne_saker" not in [n.strip("+ ") for n in r.stderr.split("\n")]
    open_rows = sum(1 for i in range(40) if "ALU"[i % 3] == "A")
    kept_rows = sum(1 for i in range(40) if "ALU"[i % 3] != "L")
    assert f"# uttrekk: {open_rows} rader; nøkkel i uttrekket: id (" in facts(sections(after)["tables.aapne_saker"])
    assert f"# uttrekk: 40 rader, {kept_rows} av dem med radfilteret; nøkkel" in facts(sections(after)["tables.sak"])
    assert '# where = ' not in "\n".join(sections(after)["tables.sak"])
    assert extract(str(db), path, tmp_path / "ut").exit_code == 0


def test_windows_line_ends_are_kept(tmp_path):
    db = relations_db(tmp_path / "rel.sqlite")
    path = tmp_path / "p.toml"
    path.write_bytes(HANDWRITTEN.replace("\n", "\r\n").encode("utf-8"))
    assert init(db, "-o", path).exit_code == 0
    raw = path.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") and b"[tables.person] # NY" in raw
    assert init(db, "-o", path).exit_code == 0
    assert path.read_bytes() == raw


def test_bad_input_is_one_clear_error(tmp_path, example_db):
    fails(init(tmp_path / "finnes-ikke.sqlite"), "finnes-ikke.sqlite", "no such file")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all")
    fails(init(junk), "junk.sqlite", "not something uttrekk reads")  # what it looks like, and what SOURCE may be
    fails(init("nosuchdb://x/y"))
    fails(init(example_db, "--profile", tmp_path / "mangler.toml"), "mangler.toml", "file not found")
    broken = tmp_path / "broken.toml"
    broken.write_text("[tables.SAK\n", encoding="utf-8")
    fails(init(example_db, "--profile", broken), "broken.toml", "not valid TOML")
    other = tmp_path / "other.toml"
    other.write_text("", encoding="utf-8")
    target = tmp_path / "target.toml"
    target.write_text("", encoding="utf-8")
    fails(init(example_db, "--profile", other, "-o", target), "target.toml", "exists")
    assert target.read_text(encoding="utf-8") == ""


def test_unreachable_server_is_one_clear_error():
    with fresh_database("postgresql", "uttrekk_init") as url:
        missing = url.set(database=url.database + "_finnes_ikke").render_as_string(hide_password=False)
    fails(init(missing), "finnes_ikke")


# -- PostgreSQL and MariaDB -----------------------------------------------------------------------

SERVER_DDL = {
    "postgresql": [
        "CREATE TABLE status (kode varchar(4) PRIMARY KEY, tekst varchar(40) NOT NULL)",
        "COMMENT ON TABLE status IS 'Statuskoder for saker'",
        "COMMENT ON COLUMN status.kode IS 'Koden, ett tegn'",
        "CREATE TABLE person (id integer PRIMARY KEY, navn varchar(60) NOT NULL, fodt date)",
        "COMMENT ON TABLE person IS 'Personer som er part i saker'",
        "COMMENT ON COLUMN person.navn IS 'Fullt navn, «slik det står» i folkeregisteret'",
        "CREATE TABLE sak (id integer PRIMARY KEY, tittel varchar(100) NOT NULL,"
        " status varchar(4) NOT NULL REFERENCES status(kode), person_id integer REFERENCES person(id),"
        " mottatt date, gebyr numeric(12,2))",
        "COMMENT ON TABLE sak IS E'Saker\\nover to linjer'",
        "CREATE TABLE logg (tidspunkt timestamp NOT NULL, hendelse varchar(200))",
    ],
    "mariadb": [
        "CREATE TABLE status (kode varchar(4) NOT NULL PRIMARY KEY COMMENT 'Koden, ett tegn',"
        " tekst varchar(40) NOT NULL) COMMENT='Statuskoder for saker'",
        "CREATE TABLE person (id integer NOT NULL PRIMARY KEY,"
        " navn varchar(60) NOT NULL COMMENT 'Fullt navn, «slik det står» i folkeregisteret', fodt date)"
        " COMMENT='Personer som er part i saker'",
        "CREATE TABLE sak (id integer NOT NULL PRIMARY KEY, tittel varchar(100) NOT NULL, status varchar(4) NOT NULL,"
        " person_id integer, mottatt date, gebyr decimal(12,2),"
        " FOREIGN KEY (status) REFERENCES status(kode), FOREIGN KEY (person_id) REFERENCES person(id))"
        " COMMENT='Saker\\nover to linjer'",
        "CREATE TABLE logg (tidspunkt datetime NOT NULL, hendelse varchar(200))",
    ],
}
SERVER_CHANGE = {
    "postgresql": [
        "ALTER TABLE sak ADD COLUMN avsluttet date",
        "COMMENT ON COLUMN sak.avsluttet IS 'Dato saken ble avsluttet'",
        "DROP TABLE logg",
        "CREATE TABLE vedlegg (id integer PRIMARY KEY, sak_id integer REFERENCES sak(id), filnavn varchar(100))",
        "COMMENT ON TABLE vedlegg IS 'Vedlegg til saker'",
    ],
    "mariadb": [
        "ALTER TABLE sak ADD COLUMN avsluttet date COMMENT 'Dato saken ble avsluttet'",
        "DROP TABLE logg",
        "CREATE TABLE vedlegg (id integer NOT NULL PRIMARY KEY, sak_id integer, filnavn varchar(100),"
        " FOREIGN KEY (sak_id) REFERENCES sak(id)) COMMENT='Vedlegg til saker'",
    ],
}
ROWS = {
    "status": [("A", "Åpen"), ("L", "Lukket"), ("U", "Under behandling")],
    "person": [(i, f"Person {i}", dt.date(1950 + i, 1, 1)) for i in range(1, 5)],
    "sak": [(100 + i, f"Sak {i}", "ALU"[i % 3], 1 + i % 4, dt.date(2020, 1, 1 + i), i * 10) for i in range(6)],
    "logg": [(dt.datetime(2021, 1, 1, 12, 0), "start")] * 2 + [(dt.datetime(2021, 1, 2, 12, 0), "stopp")],
}
COLUMNS = {"status": ["kode", "tekst"], "person": ["id", "navn", "fodt"],
           "sak": ["id", "tittel", "status", "person_id", "mottatt", "gebyr"], "logg": ["tidspunkt", "hendelse"]}


def run_sql(url: Any, statements: list[str], rows: dict[str, list[tuple[Any, ...]]] | None = None) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)
        for table, values in (rows or {}).items():
            cols = COLUMNS[table]
            conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
                         [dict(zip(cols, v, strict=True)) for v in values])
    eng.dispose()


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_server_skeleton_and_update(engine, tmp_path):
    with fresh_database(engine, "uttrekk_init") as url:
        run_sql(url, SERVER_DDL[engine], ROWS)
        src = url.render_as_string(hide_password=False)
        path = tmp_path / "p.toml"
        r = init(src, "-o", path)
        assert r.exit_code == 0, r.output
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
        assert set(data["tables"]) == set(COLUMNS)
        for table, cols in COLUMNS.items():
            assert list(data["tables"][table]["columns"]) == cols
        assert data["tables"]["status"]["description"] == "Statuskoder for saker"
        assert data["tables"]["sak"]["description"] == "Saker\nover to linjer"
        assert data["tables"]["status"]["columns"]["kode"]["description"] == "Koden, ett tegn"
        assert data["tables"]["person"]["columns"]["navn"]["description"] == \
            "Fullt navn, «slik det står» i folkeregisteret"
        assert data["tables"]["logg"]["description"] == "" and data["tables"]["sak"]["columns"]["id"]["description"] == ""
        sect = sections(text)
        assert "# uttrekk: 3 rader; nøkkel i uttrekket: uttrekk_lopenr" in facts(sect["tables.logg"])
        assert "# uttrekk: 6 rader; nøkkel i uttrekket: id (primærnøkkelen i kilden)" in facts(sect["tables.sak"])
        assert 'code_table = { code = "kode", explanation = "tekst" }' in facts(sect["tables.status"])
        assert "status -> status(kode)" in facts(sect["tables.sak"])
        assert re.search(r"# uttrekk: (?i:varchar)\(60\) -> string; lengde 60; aldri tom \(NOT NULL\)",
                         facts(sect["tables.person.columns.navn"]))
        assert re.search(r"(?i:numeric|decimal)\(12, ?2\) -> float; 12 sifre, 2 desimaler; kan være tom",
                         facts(sect["tables.sak.columns.gebyr"]))
        load_profile(path)

        filled = fill(text)
        path.write_text(filled, encoding="utf-8")
        run_sql(url, SERVER_CHANGE[engine])
        r = init(src, "-o", path)
        assert r.exit_code == 0, r.output
        after = path.read_text(encoding="utf-8")
        assert_subsequence(expected_after(filled, {"tables.logg"}), after)
        data = tomllib.loads(after)
        assert "logg" not in data["tables"]
        assert f"# BORTE {TODAY}: tabellen logg finnes ikke lenger i kilden" in after
        assert data["tables"]["vedlegg"]["description"] == "Vedlegg til saker"
        assert data["tables"]["sak"]["columns"]["avsluttet"]["description"] == "Dato saken ble avsluttet"
        assert f"[tables.vedlegg] # NY {TODAY}: dukket opp i kilden" in after
        assert f"[tables.sak.columns.avsluttet] # NY {TODAY}: dukket opp i kilden" in after
        assert kept_described(after) == ["vedlegg.id", "vedlegg.sak_id", "vedlegg.filnavn"]
        path.write_text(fill(after), encoding="utf-8")
        assert init(src, "-o", path).exit_code == 0
        assert path.read_text(encoding="utf-8") == fill(after)
        r = extract(src, path, tmp_path / "ut", *(["--strict"] if strict_available() else []))
        assert r.exit_code == 0, r.output
        described = addml_descriptions(tmp_path / "ut")
        assert described["sak.avsluttet"] == "Dato saken ble avsluttet"
        assert described["person.navn"] == "Fullt navn, «slik det står» i folkeregisteret"
        assert described["vedlegg.id"] == "Kolonnen vedlegg.id, beskrevet av arkivaren."


def test_template_documents_every_profile_key():
    """profiles/template.toml names every key the parser knows (commented or set) and loads."""
    from extractor import profile as profile_module

    template = (Path(__file__).resolve().parent.parent / "profiles" / "template.toml").read_text(encoding="utf-8")
    keys = {k for name, v in vars(profile_module).items() if name.endswith("_KEYS") and isinstance(v, tuple) for k in v}
    missing = [k for k in sorted(keys) if not re.search(rf"(^|[\s#\[.{{]){re.escape(k)}(\s*=|\]|\.)", template, re.M)]
    assert not missing, f"not in profiles/template.toml: {missing}"
    load_profile(Path(__file__).resolve().parent.parent / "profiles" / "template.toml")


def test_cli_help_names_the_merge_rule():
    out = cli_run("profile", "init", "-h").output
    assert "# NY" in out and "# BORTE" in out and "byte for byte" in out
