"""Profile features on real databases (SQLite, PostgreSQL, MariaDB): row filters (``where``,
``period_column``), queries and views extracted as tables, ``extends``, ``--strict``, and every
problem of a bad profile reported at once.

Expectations are computed here, in Python, from the rows the test inserts; the extract is read back
with the independent parser in ``tests/readback.py`` and lxml, never through uttrekk.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

import tests.readback as rb
from extractor.errors import ProfileError
from extractor.profile import load_profile
from tests.conftest import fails, fresh_database, run, run_sql, seeded_source

ENGINES = ["sqlite", "postgresql", "mysql"]

PERIOD = (dt.date(2019, 1, 1), dt.date(2023, 12, 31))
"""[metadata] period: sak is filtered on its date column in it."""
HENDELSE_PERIOD = (dt.date(2020, 6, 1), dt.date(2021, 5, 31))
"""hendelse's own period (period_start/period_end on the table), on a timestamp column."""


def _rows() -> dict[str, list[tuple]]:
    """The source rows: random but fixed, with rows on every edge of both periods."""
    rnd = random.Random(6)
    sak = []
    for i in range(1, 61):
        day = dt.date(2018, 6, 1) + dt.timedelta(days=rnd.randrange(0, 6 * 365))
        sak.append((i, f"Sak {i}" + (" 100%" if i % 7 == 0 else ""), day, rnd.choice("NNSA")))
    sak += [(61, "Første dag", PERIOD[0], "N"), (62, "Siste dag", PERIOD[1], "N"),
            (63, "Dagen før", PERIOD[0] - dt.timedelta(days=1), "N"), (64, "Dagen etter", PERIOD[1] + dt.timedelta(days=1), "N"),
            (65, "Uten dato", None, "N"), (66, "Uten status", dt.date(2020, 1, 1), None)]
    start = dt.datetime.combine(HENDELSE_PERIOD[0], dt.time())
    after = dt.datetime.combine(HENDELSE_PERIOD[1] + dt.timedelta(days=1), dt.time())
    hendelse = []
    for i in range(1, 121):
        when = start + dt.timedelta(minutes=rnd.randrange(-200 * 1440, 560 * 1440))
        hendelse.append((i, rnd.randrange(1, 67) if i % 9 else None, when, rnd.choice(["OPPRETTET", "ENDRET", "TEST"])))
    hendelse += [(121, 1, start, "KANT"), (122, 2, start - dt.timedelta(seconds=1), "KANT"),
                 (123, 3, after - dt.timedelta(seconds=1), "KANT"), (124, 4, after, "KANT"), (125, 5, None, "KANT")]
    merknad = [(i, rnd.randrange(1, 130), f"merknad {i}") for i in range(1, 31)]  # record numbers of hendelse
    return {"sak": sak, "hendelse": hendelse, "merknad": merknad}


ROWS = _rows()


def _sak_kept(r: tuple) -> bool:
    return r[2] is not None and PERIOD[0] <= r[2] <= PERIOD[1] and r[3] is not None and r[3] != "S"


def _hendelse_kept(r: tuple) -> bool:
    return r[2] is not None and HENDELSE_PERIOD[0] <= r[2].date() <= HENDELSE_PERIOD[1]


PROFILE = f"""
[metadata]
system_name = "Filtertest"
period_start = {PERIOD[0].isoformat()}
period_end = {PERIOD[1].isoformat()}
dataset_number = "1234/56/1"
responsible_person = "Kari Nordmann, arkivleder"

[tables.sak]
description = "Saker."
period_column = "dato"
where = "status <> 'S' AND tittel LIKE '%'"
filter_reason = "Sperrede saker (S) skal ikke avleveres."

[tables.hendelse]
period_column = "tid"
period_start = {HENDELSE_PERIOD[0].isoformat()}
period_end = "{HENDELSE_PERIOD[1].isoformat()}"

[tables.merknad.pointers.hendelse_rad]
references = "hendelse"
address = "recno"
keep_original = true

[tables.v_aktiv]
description = "Aktive saker (visning i kilden)."

[queries.q_antall]
sql = \"\"\"
SELECT s.id, s.tittel, COUNT(h.id) AS antall -- hendelser per sak, filtrene gjelder ikke her
FROM sak s LEFT JOIN hendelse h ON h.sak_id = s.id
GROUP BY s.id, s.tittel;
\"\"\"
description = "Antall hendelser per sak."
primary_key = ["id"]
foreign_keys = [{{ columns = ["id"], references = "sak", confirmed = true }}]

[queries.q_antall.columns.antall]
description = "Hvor mange hendelser saken har i kilden."
"""


def _ddl(engine: str) -> list[str]:
    ts = "DATETIME" if engine == "mysql" else "TIMESTAMP"
    return [
        "CREATE TABLE sak (id INTEGER NOT NULL PRIMARY KEY, tittel VARCHAR(60), dato DATE, status VARCHAR(1))",
        f"CREATE TABLE hendelse (id INTEGER NOT NULL PRIMARY KEY, sak_id INTEGER, tid {ts}, type VARCHAR(20), "
        "FOREIGN KEY (sak_id) REFERENCES sak (id))",
        "CREATE TABLE merknad (id INTEGER NOT NULL PRIMARY KEY, hendelse_rad INTEGER, tekst VARCHAR(40))",
        "CREATE VIEW v_aktiv AS SELECT id, tittel FROM sak WHERE status = 'N'",
    ]


def _param(v: Any, engine: str) -> Any:
    if engine == "sqlite" and isinstance(v, dt.datetime):
        return v.isoformat(" ")
    if engine == "sqlite" and isinstance(v, dt.date):
        return v.isoformat()
    return v


def _seed(url: Any, engine: str) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for stmt in _ddl(engine):
            conn.exec_driver_sql(stmt)
    with eng.begin() as conn:
        for table, rows in ROWS.items():
            marks = ", ".join(f":p{i}" for i in range(len(rows[0])))
            conn.execute(sa.text(f"INSERT INTO {table} VALUES ({marks})"),
                         [{f"p{i}": _param(v, engine) for i, v in enumerate(r)} for r in rows])
    eng.dispose()


@pytest.fixture(scope="module", params=ENGINES)
def source(request, tmp_path_factory):
    with seeded_source(request.param, _seed, tmp_path_factory, "uttrekk_f") as source:
        yield request.param, source


@pytest.fixture(scope="module")
def extracted(source, tmp_path_factory):
    engine, src = source
    tmp = tmp_path_factory.mktemp(f"feat-{engine}")
    prof = tmp / "p.toml"
    prof.write_text(PROFILE, encoding="utf-8")
    out = tmp / "ut"
    r = run("extract", src, "--out", out, "--profile", prof, "-q")
    assert r.exit_code == 0, r.output
    addml = rb.read_addml(out / "content" / "addml.xml")
    tables = {name: rb.read_table(out / "content", td, "delimited") for name, td in addml.items()}
    return engine, out, addml, tables


def _descriptions(out: Path) -> dict[str, str]:
    doc = etree.parse(str(out / "content" / "addml.xml"))
    return {d.get("name"): d.findtext("a:description", namespaces=rb.NS)
            for d in doc.iterfind(".//a:flatFileDefinition", rb.NS)}


def test_filters_keep_exactly_the_rows_the_conditions_select(extracted):
    _, out, _, tables = extracted
    want_sak = [r for r in ROWS["sak"] if _sak_kept(r)]
    assert [(int(r["id"]), r["tittel"], r["dato"], r["status"]) for r in tables["sak"]] == [
        (r[0], r[1], r[2].isoformat(), r[3]) for r in sorted(want_sak)]
    want_h = sorted(r for r in ROWS["hendelse"] if _hendelse_kept(r))
    assert [(int(r["id"]), r["tid"]) for r in tables["hendelse"]] == [(r[0], r[2].isoformat("T")) for r in want_h]
    ids = {int(r["id"]) for r in tables["hendelse"]}
    assert {121, 123} <= ids and not {122, 124, 125} & ids  # the period's edges, to the second
    assert {61, 62} <= {int(r["id"]) for r in tables["sak"]}
    assert 0 < len(want_sak) < len(ROWS["sak"]) and 0 < len(want_h) < len(ROWS["hendelse"])


def test_left_out_counts_in_description_report_and_summary(extracted):
    _, out, _, _ = extracted
    left = {"sak": sum(not _sak_kept(r) for r in ROWS["sak"]),
            "hendelse": sum(not _hendelse_kept(r) for r in ROWS["hendelse"])}
    report = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))
    by_table = {t["table"]: t for t in report["tables"]}
    for name, n in left.items():
        assert by_table[name]["rows_left_out"] == n
    assert "status <> 'S'" in by_table["sak"]["filter"] and "dato" in by_table["sak"]["filter"]
    assert by_table["sak"]["filter_reason"] == "Sperrede saker (S) skal ikke avleveres."
    assert "filter" not in by_table["merknad"] and "filter" not in by_table["q_antall"]
    assert report["dataset_number"] == "1234/56/1" and report["responsible_person"].startswith("Kari Nordmann")
    desc = _descriptions(out)
    assert f"{left['sak']} post(er) i kildetabellen er utelatt" in desc["sak"]
    assert "Begrunnelse: Sperrede saker (S) skal ikke avleveres." in desc["sak"]
    assert (f"tid er fra og med {HENDELSE_PERIOD[0]} til og med {HENDELSE_PERIOD[1]}" in desc["hendelse"]
            and f"{left['hendelse']} post(er)" in desc["hendelse"])
    summary = (out / "report" / "summary.txt").read_text(encoding="utf-8")
    assert f"{left['sak']} row(s) left out" in summary and f"{left['hendelse']} row(s) left out" in summary


def test_reference_to_a_filtered_out_parent_row_is_dangling(extracted):
    _, out, _, tables = extracted
    kept_sak = {r[0] for r in ROWS["sak"] if _sak_kept(r)}
    want = {f"id={r[0]}" for r in ROWS["hendelse"] if _hendelse_kept(r) and r[1] is not None and r[1] not in kept_sak}
    assert want  # the data do hold such references
    got = {d.row_key for d in rb.read_deviations(out / "report" / "deviations.tsv")
           if d.table == "hendelse" and d.action == "dangling_reference"}
    assert got == want
    sak_ids = {r["id"] for r in tables["sak"]}
    assert {f"id={r['id']}" for r in tables["hendelse"] if r["sak_id"] and r["sak_id"] not in sak_ids} == want


def test_pointer_into_a_filtered_table_resolves_only_kept_rows(extracted):
    _, out, _, tables = extracted
    by_recno = sorted(ROWS["hendelse"])  # recno counts every row of the source table, in key order
    for r in tables["merknad"]:
        recno = int(r["hendelse_rad_opprinnelig"])
        target = by_recno[recno - 1] if recno <= len(by_recno) else None
        want = str(target[0]) if target is not None and _hendelse_kept(target) else None
        assert r["hendelse_rad"] == want, r
    unresolved = {d.row_key for d in rb.read_deviations(out / "report" / "deviations.tsv")
                  if d.table == "merknad" and d.action == "pointer_unresolved"}
    assert unresolved == {f"id={r['id']}" for r in tables["merknad"] if r["hendelse_rad"] is None}
    assert unresolved


def test_query_extracts_its_rows_with_a_key_and_descriptions(extracted):
    _, out, addml, tables = extracted
    counts = {r[0]: 0 for r in ROWS["sak"]}
    for h in ROWS["hendelse"]:
        if h[1] is not None:
            counts[h[1]] += 1
    titles = {r[0]: r[1] for r in ROWS["sak"]}
    assert [(int(r["id"]), r["tittel"], int(r["antall"])) for r in tables["q_antall"]] == [
        (i, titles[i], counts[i]) for i in sorted(counts)]
    assert addml["q_antall"].field_names() == ["id", "tittel", "antall"]
    assert addml["q_antall"].field("antall").data_type == "integer"
    assert addml["q_antall"].field("antall").description == "Hvor mange hendelser saken har i kilden."
    assert [k.fields for k in addml["q_antall"].keys if k.kind == "primaryKey"] == [["id"]]
    assert ("id",) in {tuple(k.fields) for k in addml["q_antall"].keys if k.kind == "foreignKey" and k.ref_table == "sak"}
    desc = _descriptions(out)["q_antall"]
    assert desc.startswith("Antall hendelser per sak.") and "queries.q_antall" in desc


def test_view_named_in_the_profile_is_extracted(extracted):
    _, out, _, tables = extracted
    want = sorted((r[0], r[1]) for r in ROWS["sak"] if r[3] == "N")
    assert [(int(r["id"]), r["tittel"]) for r in tables["v_aktiv"]] == want
    assert _descriptions(out)["v_aktiv"].startswith("Aktive saker (visning i kilden).")


def test_dataset_number_and_responsible_person_in_addml(extracted):
    _, out, _, _ = extracted
    doc = etree.parse(str(out / "content" / "addml.xml"))
    ns = rb.NS
    number = doc.xpath("//a:additionalElement[@name='archivalDataset']//a:additionalElement[@name='number']/a:value",
                       namespaces=ns)
    assert [n.text for n in number] == ["1234/56/1"]
    person = doc.xpath("//a:additionalElement[@name='agent'][a:properties/a:property[@name='type']/a:value='individual']",
                       namespaces=ns)
    assert len(person) == 1
    assert person[0].xpath("a:additionalElements/a:additionalElement[@name='name']/a:value/text()",
                           namespaces=ns) == ["Kari Nordmann, arkivleder"]
    assert rb.validate_addml(out / "content") == []


# -- every problem of a bad profile at once --------------------------------------------------------


def test_every_mistake_of_a_profile_in_one_error(source, tmp_path):
    engine, src = source
    (tmp_path / "felles").mkdir()
    main = tmp_path / "main.toml"
    shared = tmp_path / "felles" / "system.toml"
    shared.write_text('extends = "../main.toml"\n[tables.merknad]\ndescripton = "Merknader."\n', encoding="utf-8")
    main.write_text("""
extends = "felles/system.toml"
[tables.sak]
exclude = ""
[tables.hendelse]
period_column = "finnes_ikke"
period_start = 2020-01-01
[tables.merknad]
where = "ukjent_kolonne = 1"
filter_reason = "prøve"
[tables.v_aktiv]
where = "id > 1"
[queries.q_feil]
sql = "SELECT nosuch FROM sak"
[queries.q_skriver]
sql = "DELETE FROM sak"
[queries.sak]
sql = "SELECT 1 AS x"
""", encoding="utf-8")
    r = run("extract", src, "--out", tmp_path / "o", "--profile", main, "-q")
    out = fails(r, f"tables.merknad.descripton (from {shared}): unknown key (did you mean 'description'?)",
                "tables.sak.exclude: give the reason",
                "tables.hendelse.period_column: no such column 'finnes_ikke'",
                "tables.merknad.where: the source refuses the condition",
                "tables.v_aktiv.filter_reason: missing",
                "queries.q_feil.sql: the source refuses the query",
                "queries.q_skriver.sql: must be one SELECT",
                "queries.sak: the name is also used by [tables.sak]",
                f"extends: cycle {main} -> {shared} -> {main}")
    assert "9 problem(s)" in out, out
    assert not (tmp_path / "o").exists()


def test_period_column_that_is_not_a_date_is_a_problem(tmp_path):
    db = tmp_path / "d.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, navn TEXT, dato DATE);"
                      "INSERT INTO t VALUES (1, 'a', '2020-01-01');")
    con.close()
    prof = tmp_path / "p.toml"
    prof.write_text('[tables.t]\nperiod_column = "navn"\nperiod_start = 2020-01-01\n', encoding="utf-8")
    fails(run("extract", db, "--out", tmp_path / "o", "--profile", prof, "-q"),
          "tables.t.period_column: navn is TEXT, not a date or timestamp column")
    prof.write_text('[tables.t]\nperiod_column = "dato"\n', encoding="utf-8")
    fails(run("extract", db, "--out", tmp_path / "o", "--profile", prof, "-q"),
          "tables.t.period_column: needs a period")
    prof.write_text('[tables.t]\nperiod_end = 2020-01-01\n[queries.q]\nsql = "SELECT 1; SELECT 2"\n', encoding="utf-8")
    fails(run("extract", db, "--out", tmp_path / "o", "--profile", prof, "-q"),
          "tables.t.period_start: period_start and period_end only apply with 'period_column'",
          "queries.q.sql: holds more than one statement")


# -- extends ---------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_merges_deeply_and_the_child_overrides(tmp_path):
    _write(tmp_path / "shared" / "system.toml", """
[metadata]
system_name = "Sak"
system_version = "1.0"
[charset.map]
"\\u2013" = "-"
[tables.sak]
description = "Saker (felles)."
foreign_keys = [{ columns = ["a"], references = "x", confirmed = true }]
[tables.sak.columns.a]
description = "A (felles)."
[tables.sak.columns.b]
description = "B (felles)."
[tables.logg]
exclude = "Teknisk logg."
[queries.q]
sql = "SELECT 1 AS en"
description = "Felles spørring."
""")
    _write(tmp_path / "shared" / "kommune.toml", """
[metadata]
system_version = "2.0"
archive_creator = "Eksempel kommune"
""")
    child = _write(tmp_path / "kommune" / "profil.toml", """
extends = ["../shared/system.toml", "../shared/kommune.toml"]
[metadata]
archive_creator = "Lokal kommune"
[charset.map]
"\\u201c" = "\\""
[tables.sak]
foreign_keys = [{ columns = ["b"], references = "y", confirmed = false }]
[tables.sak.columns.b]
exclude = "Personopplysninger."
[tables.sak.columns.c]
description = "C (lokal)."
[queries.q]
description = "Lokal beskrivelse."
""")
    p = load_profile(child)
    assert p.metadata.system_name == "Sak"
    assert p.metadata.system_version == "2.0"  # the later parent overrides the earlier
    assert p.metadata.archive_creator == "Lokal kommune"  # the child overrides both
    assert dict(p.charset.mapping) == {"\u2013": "-", "\u201c": '"'}
    sak = p.table("sak")
    assert sak.description == "Saker (felles)."
    assert sak.columns["a"].description == "A (felles)."
    assert (sak.columns["b"].description, sak.columns["b"].exclude) == ("B (felles).", "Personopplysninger.")
    assert sak.columns["c"].description == "C (lokal)."
    assert [(fk.columns, fk.references, fk.confirmed) for fk in sak.foreign_keys] == [(("b",), "y", False)]  # replaced
    assert p.table("logg").exclude == "Teknisk logg."
    assert (p.queries["q"].sql, p.queries["q"].table.description) == ("SELECT 1 AS en", "Lokal beskrivelse.")


def test_extends_problems_name_the_file_and_the_chain(tmp_path):
    a = _write(tmp_path / "a.toml", 'extends = "b.toml"\n[metadata]\nsystem_name = "A"\n')
    b = _write(tmp_path / "b.toml", 'extends = ["c.toml", "mangler.toml"]\n[tables.t]\nexclude = ""\n')
    c = _write(tmp_path / "c.toml", 'extends = "a.toml"\n[output]\nformatt = "xml"\n')
    with pytest.raises(ProfileError) as err:
        load_profile(a)
    problems = err.value.problems
    assert f"extends: cycle {a} -> {b} -> {c} -> {a}; remove one of these extends" in problems
    assert f"extends: {tmp_path / 'mangler.toml'} ({a} -> {b} -> {tmp_path / 'mangler.toml'}): file not found" in problems
    assert any(x.startswith(f"tables.t.exclude (from {b}): give the reason") for x in problems), problems
    assert any(x.startswith(f"output.formatt (from {c}): unknown key (did you mean 'format'?)") for x in problems)
    assert len(problems) == 4, problems


def test_extended_profile_drives_an_extract(tmp_path):
    db = tmp_path / "s.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, navn TEXT, skjult TEXT);"
                      "INSERT INTO t VALUES (1, 'a', 'x'), (2, 'b', 'y'), (3, 'c', 'z');")
    con.close()
    _write(tmp_path / "felles.toml", '[tables.t]\ndescription = "Felles."\nwhere = "id <> 2"\n'
                                     'filter_reason = "Prøverad."\n[tables.t.columns.navn]\ndescription = "Navn."\n')
    child = _write(tmp_path / "lokal" / "p.toml", 'extends = "../felles.toml"\n[tables.t.columns.skjult]\n'
                                                  'exclude = "Lokalt unntatt."\n')
    out = tmp_path / "o"
    r = run("extract", db, "--out", out, "--profile", child, "-q")
    assert r.exit_code == 0, r.output
    td = rb.read_addml(out / "content" / "addml.xml")["t"]
    assert td.field_names() == ["id", "navn"] and td.field("navn").description == "Navn."
    assert [r["navn"] for r in rb.read_table(out / "content", td, "delimited")] == ["a", "c"]
    assert _descriptions(out)["t"].startswith("Felles.")


# -- --strict --------------------------------------------------------------------------------------


STRICT = ("--strict", "--period", "2001..2020", "--archive-creator", "Kommune", "--system-name", "Sys")
"""--strict with the depot metadata given, for tests about descriptions."""


def test_strict_lists_every_missing_description_before_writing(tmp_path):
    db = tmp_path / "s.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT, y TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY, z TEXT);"
                      "CREATE TABLE c (id INTEGER PRIMARY KEY); INSERT INTO a VALUES (1, 'p', 'q');")
    con.close()
    prof = _write(tmp_path / "p.toml", '[tables.a]\ndescription = "A."\n[tables.a.columns.x]\ndescription = "X."\n'
                                       '[tables.a.columns.y]\nexclude = "Ikke arkivverdig."\n'
                                       '[tables.c]\nexclude = "Tom."\n'
                                       '[queries.q]\nsql = "SELECT id AS n FROM a"\n')
    out = tmp_path / "o"
    text = fails(run("extract", db, "--out", out, "--profile", prof, *STRICT, "-q"), "--strict", "profile init")
    listed = {line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")}
    assert listed == {"field a.id", "table b", "field b.id", "field b.z", "table q", "field q.n"}
    assert "6 kept table(s) and field(s)" in text
    assert not out.exists()
    assert run("extract", db, "--out", out, "--profile", prof, "-q").exit_code == 0  # without --strict: extracted
    full = _write(tmp_path / "full.toml", prof.read_text(encoding="utf-8").replace(
        '[queries.q]\n', '[queries.q]\ndescription = "Q."\n') + '[tables.b]\ndescription = "B."\n' + "".join(
        f'[{sec}.{t}.columns.{c}]\ndescription = "{c}."\n' for sec, t, c in
        (("tables", "a", "id"), ("tables", "b", "id"), ("tables", "b", "z"), ("queries", "q", "n"))))
    r = run("extract", db, "--out", tmp_path / "o2", "--profile", full, *STRICT, "-q")
    assert r.exit_code == 0, r.output


def test_strict_accepts_database_comments(tmp_path):
    with fresh_database("postgresql", "uttrekk_f") as url:
        run_sql(url, [
            "CREATE TABLE t (id integer PRIMARY KEY, navn text, annet text)",
            "COMMENT ON TABLE t IS 'Tabellen t.'",
            "COMMENT ON COLUMN t.id IS 'Nøkkel.'",
            "COMMENT ON COLUMN t.navn IS 'Navn.'",
        ])
        src = url.render_as_string(hide_password=False)
        text = fails(run("extract", src, "--out", tmp_path / "o", *STRICT, "-q"), "field t.annet")
        assert "1 kept table(s) and field(s)" in text
        prof = _write(tmp_path / "p.toml", '[tables.t.columns.annet]\ndescription = "Annet."\n')
        r = run("extract", src, "--out", tmp_path / "o", "--profile", prof, *STRICT, "-q")
    assert r.exit_code == 0, r.output


def test_filters_and_queries_with_parallel_workers_give_the_same_extract(source, extracted, tmp_path):
    engine, src = source
    if engine != "postgresql":
        pytest.skip("parallel workers share a snapshot on PostgreSQL")
    _, out, _, _ = extracted
    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE, encoding="utf-8")
    r = run("extract", src, "--out", tmp_path / "par", "--profile", prof, "--jobs", "2", "-q")
    assert r.exit_code == 0, r.output
    first = sorted(p.relative_to(out / "content") for p in (out / "content").rglob("*.txt"))
    assert first == sorted(p.relative_to(tmp_path / "par" / "content") for p in (tmp_path / "par" / "content").rglob("*.txt"))
    for rel in first:
        assert (out / "content" / rel).read_bytes() == (tmp_path / "par" / "content" / rel).read_bytes(), rel


def test_repeating_group_child_of_a_filtered_table_holds_only_kept_rows(tmp_path):
    db = tmp_path / "g.sqlite"
    rows = [(i, f"p{i}", f"{i}1" if i % 2 else None, f"{i}2", None if i % 3 else f"{i}3") for i in range(1, 13)]
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, navn TEXT, tlf1 TEXT, tlf2 TEXT, tlf3 TEXT)")
    con.executemany("INSERT INTO person VALUES (?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    prof = _write(tmp_path / "p.toml", '[tables.person]\nwhere = "id % 4 <> 0 AND navn <> \'p5\'"\n'
                                       'filter_reason = "Test."\n[[tables.person.repeating_groups]]\n'
                                       'table = "telefon"\ncolumns = ["tlf1", "tlf2", "tlf3"]\n')
    out = tmp_path / "o"
    r = run("extract", db, "--out", out, "--profile", prof, "-q")
    assert r.exit_code == 0, r.output
    addml = rb.read_addml(out / "content" / "addml.xml")
    kept = [row for row in rows if row[0] % 4 != 0 and row[1] != "p5"]
    want = [(str(row[0]), str(n), tlf) for row in kept for n, tlf in enumerate(row[2:], 1) if tlf is not None]
    got = [(r["id"], r["nr"], r["tlf1"]) for r in rb.read_table(out / "content", addml["telefon"], "delimited")]
    assert got == want
    assert [r["id"] for r in rb.read_table(out / "content", addml["person"], "delimited")] == [str(row[0]) for row in kept]


def test_inspect_counts_the_rows_a_filter_keeps(source, tmp_path):
    _, src = source
    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE, encoding="utf-8")
    r = run("inspect", src, "--profile", prof, "--json", "--no-scan")
    assert r.exit_code == 0, r.output
    tables = {t["table"]: t for t in json.loads(r.output)["tables"]}
    assert tables["sak"]["rows"] == len(ROWS["sak"])
    assert tables["sak"]["rows_kept"] == sum(_sak_kept(row) for row in ROWS["sak"])
    assert tables["hendelse"]["rows_kept"] == sum(_hendelse_kept(row) for row in ROWS["hendelse"])
    assert "rows_kept" not in tables["merknad"]
    text = run("inspect", src, "--profile", prof, "--no-scan").output
    assert f"sak: {len(ROWS['sak'])} rows ({tables['sak']['rows_kept']} kept by the profile's filter" in text


def test_a_views_origin_is_no_description_for_strict(tmp_path):
    """A view gets "(Hentet fra visningen V.)" in its description, but that note alone does not
    describe it: --strict still asks for a description."""
    db = tmp_path / "v.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE VIEW v AS SELECT id FROM a;"
                      "INSERT INTO a VALUES (1), (2);")
    con.close()
    columns = '[tables.a]\ndescription = "A."\n[tables.a.columns.id]\ndescription = "Id."\n' \
              '[tables.v.columns.id]\ndescription = "Id i visningen."\n'
    prof = _write(tmp_path / "p.toml", columns)
    text = fails(run("extract", db, "--out", tmp_path / "o", "--profile", prof, *STRICT, "-q"), "--strict")
    assert {line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")} == {"table v"}
    full = _write(tmp_path / "full.toml", columns + '[tables.v]\ndescription = "Visningen v."\n')
    r = run("extract", db, "--out", tmp_path / "o", "--profile", full, *STRICT, "-q")
    assert r.exit_code == 0, r.output
    assert _descriptions(tmp_path / "o")["v"].startswith("Visningen v. (Hentet fra visningen v.) ")
