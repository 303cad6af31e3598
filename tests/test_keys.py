"""Logical keys on real databases (SQLite, PostgreSQL, MariaDB): surrogate and data-proven keys,
pointers rewritten to keys, repeating groups split into child files, code tables, dangling references.

Expectations are computed here from the rows the test inserts, and the extract is read back with
the independent parser in ``tests/readback.py``, never through uttrekk.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tests.readback as rb
from tests.conftest import fresh_database, run, seeded_source

DDL = [
    "CREATE TABLE status (kode VARCHAR(2) NOT NULL PRIMARY KEY, betegnelse VARCHAR(40))",
    "CREATE TABLE sakstype (kode VARCHAR(4) NOT NULL PRIMARY KEY, tekst VARCHAR(40))",
    "CREATE TABLE sak (id INTEGER NOT NULL PRIMARY KEY, tittel VARCHAR(100), type VARCHAR(4), status VARCHAR(2), "
    "FOREIGN KEY (type) REFERENCES sakstype (kode))",
    "CREATE TABLE logg (tid VARCHAR(20), hendelse VARCHAR(40))",
    "CREATE TABLE ansatt (ansattnr INTEGER, navn VARCHAR(40))",
    "CREATE TABLE person (pnr VARCHAR(11) NOT NULL, navn VARCHAR(40), tlf1 VARCHAR(12), tlf2 VARCHAR(12), "
    "tlf3 VARCHAR(12), UNIQUE (pnr))",
    "CREATE TABLE dokument (id INTEGER NOT NULL PRIMARY KEY, sak_rad INTEGER, tittel VARCHAR(100))",
]
STATUS = [("N", "Ny"), ("A", "Avsluttet")]
SAKSTYPE = [("BYGG", "Byggesak"), ("DELE", "Delesak")]
SAK = [(10, "Garasje", "BYGG", "N"), (20, "Tomt", "DELE", "A"), (30, "Bod", "BYGG", "X"), (40, "Uten", None, None)]
LOGG = [("02", "stopp"), ("01", "start"), ("02", "start"), ("01", "stopp")]  # no column unique, rows distinct
ANSATT = [(7, "Kari"), (3, "Per"), (5, "Kari")]  # ansattnr unique in the data, not declared
PERSON = [("01017012345", "Åse", "111", None, "333"), ("02028012345", "Ola", None, None, None),
          ("03039012345", "Kari", "444", "555", "666")]
DOKUMENT = [(1, 2, "a"), (2, 3, "b"), (3, 1, "c"), (4, None, "d"), (5, 99, "e")]  # sak_rad: record number of sak

PROFILE = """
[tables.sak]
foreign_keys = [
  { columns = ["status"], references = "status", confirmed = true },
  { columns = ["tittel"], references = "dokument", ref_columns = ["tittel"], confirmed = false },
]

[tables.dokument.pointers.sak_rad]
references = "sak"
address = "recno"
keep_original = true

[[tables.person.repeating_groups]]
table = "person_telefon"
columns = ["tlf1", "tlf2", "tlf3"]
fields = ["telefon"]
"""

ENGINES = ["sqlite", "postgresql", "mysql"]


def _insert(conn: Any, table: str, rows: list[tuple]) -> None:
    marks = ", ".join(f":p{i}" for i in range(len(rows[0])))
    conn.execute(sa.text(f"INSERT INTO {table} VALUES ({marks})"), [{f"p{i}": v for i, v in enumerate(r)} for r in rows])


def _seed(url: Any, engine: str) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for stmt in DDL:
            conn.exec_driver_sql(stmt)
        if engine == "sqlite":  # a pointer by rowid to a table without a key
            conn.exec_driver_sql("CREATE TABLE merknad (id INTEGER NOT NULL PRIMARY KEY, logg_ref INTEGER)")
        elif engine == "postgresql":  # a pointer by ctid, as text
            conn.exec_driver_sql("CREATE TABLE merknad (id INTEGER NOT NULL PRIMARY KEY, logg_ref VARCHAR(20))")
    with eng.begin() as conn:
        for table, rows in (("status", STATUS), ("sakstype", SAKSTYPE), ("sak", SAK), ("logg", LOGG),
                            ("ansatt", ANSATT), ("person", PERSON), ("dokument", DOKUMENT)):
            _insert(conn, table, rows)
        if engine == "sqlite":
            conn.exec_driver_sql("INSERT INTO merknad SELECT rowid, rowid FROM logg")
        elif engine == "postgresql":
            conn.exec_driver_sql("INSERT INTO merknad SELECT row_number() OVER (), ctid::text FROM logg")
    eng.dispose()


@pytest.fixture(scope="module", params=ENGINES)
def keys_db(request, tmp_path_factory):
    with seeded_source(request.param, _seed, tmp_path_factory, "uttrekk_k") as source:
        yield request.param, source


def _profile(tmp_path: Path, engine: str) -> Path:
    text = PROFILE
    if engine in ("sqlite", "postgresql"):
        text += ("\n[tables.merknad.pointers.logg_ref]\nreferences = \"logg\"\naddress = \""
                 + ("rowid" if engine == "sqlite" else "ctid") + "\"\n")
    path = tmp_path / "profil.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def extracted(keys_db, tmp_path_factory):
    engine, source = keys_db
    tmp = tmp_path_factory.mktemp(f"keys-{engine}")
    out = tmp / "ut"
    r = run("extract", source, "--out", out, "--profile", _profile(tmp, engine), "-q")
    assert r.exit_code == 0, r.output
    addml = rb.read_addml(out / "content" / "addml.xml")
    tables = {name: rb.read_table(out / "content", td, "delimited") for name, td in addml.items()}
    return engine, source, tmp, out, addml, tables, r.output


def _value(v: Any) -> Any:
    return None if v is None else ("" if v is rb.BLANK else v)


def _pk(addml: dict[str, rb.TableDesc], table: str) -> list[list[str]]:
    return [k.fields for k in addml[table].keys if k.kind == "primaryKey"]


def _fks(addml: dict[str, rb.TableDesc], table: str) -> set[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    return {(tuple(k.fields), k.ref_table or "", tuple(k.ref_fields or [])) for k in addml[table].keys
            if k.kind == "foreignKey"}


def test_table_without_key_gets_a_stable_surrogate_key(extracted):
    engine, source, tmp, out, addml, tables, _ = extracted
    assert _pk(addml, "logg") == [[rb.SURROGATE]]
    assert addml["logg"].field_names() == [rb.SURROGATE, "tid", "hendelse"]
    want = sorted(LOGG)  # numbered in the order of all columns
    got = [(r[rb.SURROGATE], r["tid"], r["hendelse"]) for r in tables["logg"]]
    assert got == [(str(i), t, h) for i, (t, h) in enumerate(want, 1)]
    assert "lagt til av uttrekket" in addml["logg"].field(rb.SURROGATE).description
    again = tmp / "igjen"
    r = run("extract", source, "--out", again, "--profile", tmp / "profil.toml", "-q")
    assert r.exit_code == 0, r.output
    assert (again / "content" / "logg.txt").read_bytes() == (out / "content" / "logg.txt").read_bytes()


def test_declared_unique_key_and_key_proven_in_the_data(extracted):
    _, _, _, _, addml, tables, _ = extracted
    assert _pk(addml, "person") == [["pnr"]]  # UNIQUE (pnr) on a NOT NULL column
    assert _pk(addml, "ansatt") == [["ansattnr"]]  # unique and complete in the data
    assert [r["ansattnr"] for r in tables["ansatt"]] == ["3", "5", "7"]  # ordered by the key
    assert rb.SURROGATE not in addml["ansatt"].field_names()


def test_pointer_is_rewritten_to_the_target_key_and_every_value_resolves(extracted):
    _, _, _, out, addml, tables, _ = extracted
    sak_by_recno = {i: sid for i, (sid, *_rest) in enumerate(sorted(SAK), 1)}
    got = {r["id"]: (_value(r["sak_rad"]), _value(r["sak_rad_opprinnelig"])) for r in tables["dokument"]}
    want = {str(d): (None if p is None or p not in sak_by_recno else str(sak_by_recno[p]), None if p is None else str(p))
            for d, p, _ in DOKUMENT}
    assert got == want
    assert (("sak_rad",), "sak", ("id",)) in _fks(addml, "dokument")
    sak_ids = {r["id"] for r in tables["sak"]}
    assert all(v in sak_ids for v, _ in got.values() if v is not None)
    devs = rb.read_deviations(out / "report" / "deviations.tsv")
    unresolved = [(d.table, d.column, d.row_key) for d in devs if d.action == "pointer_unresolved"]
    assert unresolved == [("dokument", "sak_rad", "id=5")]


def test_physical_row_address_pointer_to_a_table_with_a_surrogate_key(extracted):
    engine, source, _, _, addml, tables, _ = extracted
    if engine == "mysql":
        pytest.skip("MariaDB has no physical row address")
    # the address each merknad row holds, and the logg row at that address, read with the driver
    eng = sa.create_engine(source if "://" in source else f"sqlite:///{source}")
    addr = "rowid" if engine == "sqlite" else "ctid::text"
    with eng.connect() as conn:
        rows = {a: (t, h) for a, t, h in conn.exec_driver_sql(f"SELECT {addr}, tid, hendelse FROM logg")}
        refs = {i: a for i, a in conn.exec_driver_sql("SELECT id, logg_ref FROM merknad")}
    eng.dispose()
    position = {row: i for i, row in enumerate(sorted(LOGG), 1)}
    want = {str(i): str(position[rows[a]]) for i, a in refs.items()}
    assert {r["id"]: r["logg_ref"] for r in tables["merknad"]} == want
    assert (("logg_ref",), "logg", (rb.SURROGATE,)) in _fks(addml, "merknad")


def test_repeating_group_becomes_a_child_file_that_joins_back_exactly(extracted):
    _, _, _, _, addml, tables, _ = extracted
    assert addml["person"].field_names() == ["pnr", "navn"]
    assert addml["person_telefon"].field_names() == ["pnr", "nr", "telefon"]
    assert _pk(addml, "person_telefon") == [["pnr", "nr"]]
    assert (("pnr",), "person", ("pnr",)) in _fks(addml, "person_telefon")
    rebuilt: dict[str, list[Any]] = {r["pnr"]: [None, None, None] for r in tables["person"]}
    for r in tables["person_telefon"]:
        assert rebuilt[r["pnr"]][int(r["nr"]) - 1] is None
        rebuilt[r["pnr"]][int(r["nr"]) - 1] = r["telefon"]
    assert rebuilt == {p: [t1, t2, t3] for p, _, t1, t2, t3 in PERSON}
    assert {r["pnr"]: r["navn"] for r in tables["person"]} == {p: n for p, n, *_ in PERSON}


def test_code_tables_give_code_lists_and_unknown_codes_are_reported(extracted):
    _, _, _, out, addml, _, output = extracted
    assert addml["sak"].field("type").codes == dict(SAKSTYPE)  # declared relation, found as a lookup table
    assert addml["sak"].field("status").codes == dict(STATUS)  # relation confirmed in the profile
    assert (("status",), "status", ("kode",)) in _fks(addml, "sak")
    devs = rb.read_deviations(out / "report" / "deviations.tsv")
    dangling = [(d.table, d.column, d.row_key) for d in devs if d.action == "dangling_reference"]
    assert dangling == [("sak", "status", "id=30")]
    summary = (out / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "A.16" in summary and "A.22" in summary
    assert "not confirmed" in summary and "tittel -> dokument" in summary  # the unconfirmed candidate
    assert ("tittel",) not in {k[0] for k in _fks(addml, "sak")}


def test_every_relation_resolves_except_the_reported_dangling_ones(extracted):
    _, _, _, out, addml, tables, _ = extracted
    reported = {(d.table, d.row_key) for d in rb.read_deviations(out / "report" / "deviations.tsv")
                if d.action == "dangling_reference"}
    checked = 0
    for name, td in addml.items():
        pk = _pk(addml, name)
        for k in td.keys:
            if k.kind != "foreignKey":
                continue
            targets = {tuple(_value(r[f]) for f in k.ref_fields or []) for r in tables[k.ref_table or ""]}
            for recno, r in enumerate(tables[name], 1):
                values = tuple(_value(r[f]) for f in k.fields)
                if None in values:
                    continue
                checked += 1
                if values not in targets:
                    key = ", ".join(f"{c}={r[c]}" for c in pk[0]) if pk else f"record {recno}"
                    assert (name, key) in reported, (name, k.fields, values)
    assert checked > 10


def test_bad_key_declarations_are_clear_errors(tmp_path):
    db = tmp_path / "k.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (1, 'y'), (NULL, 'z');"
                      "CREATE TABLE u (id INTEGER PRIMARY KEY, t_ref INTEGER);")
    con.close()
    cases = {
        '[tables.t]\nprimary_key = ["a"]\n': "is not a key in the data: 1 row(s) have no value in a key column; "
                                              "values held by more than one row: (1) in 2 rows",
        '[tables.t]\nprimary_key = ["c"]\n': "tables.t.primary_key: no such column 'c'",
        '[tables.u.pointers.t_ref]\nreferences = "t"\naddress = "a"\n': "does not identify one row",
        '[tables.u.pointers.t_ref]\nreferences = "t"\naddress = "ctid"\n': "sqlite has no address 'ctid'",
        '[tables.u.pointers.t_ref]\nreferences = "v"\naddress = "rowid"\n': "pointers.t_ref.references: no such table 'v'",
        '[[tables.t.repeating_groups]]\ntable = "t_b"\ncolumns = ["b"]\n': "needs at least two occurrences",
        '[tables.u]\nforeign_keys = [{ columns = ["t_ref"], references = "t" }]\n': "t has no primary key",
        '[tables.u]\nforeign_keys = [{ column = ["t_ref"] }]\n': "unknown key (did you mean 'columns'?)",
    }
    for i, (text, message) in enumerate(cases.items()):
        prof = tmp_path / f"p{i}.toml"
        prof.write_text(text, encoding="utf-8")
        r = run("extract", db, "--out", tmp_path / f"o{i}", "--profile", prof, "-q")
        assert r.exit_code != 0 and message in r.output, (text, r.output)
        assert "Traceback" not in r.output
        assert not (tmp_path / f"o{i}").exists()


def test_undeclared_address_column_is_named_in_the_summary(tmp_path):
    with fresh_database("postgresql", "uttrekk_k") as url:
        src = sa.create_engine(url)
        with src.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id integer PRIMARY KEY, adr tid)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1, '(0,1)')")
        src.dispose()
        r = run("extract", url.render_as_string(hide_password=False), "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    summary = (tmp_path / "o" / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "t.adr (tid) holds physical row addresses" in summary and "[tables.t.pointers.adr]" in summary


def test_code_list_limit_and_inline_decide_where_codes_go(tmp_path):
    db = tmp_path / "c.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE farge (kode TEXT PRIMARY KEY, navn TEXT);"
                      "CREATE TABLE ting (id INTEGER PRIMARY KEY, farge TEXT REFERENCES farge (kode));"
                      "INSERT INTO farge VALUES ('R', 'Rød'), ('G', 'Grønn'), ('B', 'Blå');"
                      "INSERT INTO ting VALUES (1, 'R'), (2, 'B');")
    con.close()
    cases = {"": ({"R": "Rød", "G": "Grønn", "B": "Blå"}, "også skrevet som kodeliste"),  # found, short: inline
             "[output]\ncode_list_limit = 2\n": ({}, None),  # found, but longer than the limit: a relation only
             '[tables.farge]\ncode_table = { code = "kode", explanation = "navn", inline = false }\n':
                 ({}, "etter profilen ikke skrevet som kodeliste"),
             '[output]\ncode_list_limit = 2\n[tables.farge]\ncode_table = { code = "kode", explanation = "navn" }\n':
                 ({}, "kodetabell med 3 koder, flere enn grensen på 2")}
    for i, (text, (codes, note)) in enumerate(cases.items()):
        prof = tmp_path / f"p{i}.toml"
        prof.write_text(text, encoding="utf-8")
        out = tmp_path / f"o{i}"
        r = run("extract", db, "--out", out, "--profile", prof, "-q")
        assert r.exit_code == 0, r.output
        addml = rb.read_addml(out / "content" / "addml.xml")
        assert addml["ting"].field("farge").codes == codes, text
        assert (("farge",), "farge", ("kode",)) in _fks(addml, "ting")
        notes = [d.detail for d in rb.read_deviations(out / "report" / "deviations.tsv")
                 if d.table == "farge" and d.action == "table_note"]
        assert (note is None and not notes) or (note is not None and any(note in n for n in notes)), (text, notes)


def test_inspect_shows_the_key_each_table_gets(keys_db, tmp_path):
    engine, source = keys_db
    r = run("inspect", source, "--profile", _profile(tmp_path, engine), "--no-scan", "--json")
    assert r.exit_code == 0, r.output
    import json

    tables = {t["table"]: t for t in json.loads(r.output)["tables"]}
    assert tables["logg"]["extract_key"] == [rb.SURROGATE] and "lagt til av uttrekket" in tables["logg"]["extract_key_note"]
    assert tables["ansatt"]["extract_key"] == ["ansattnr"] and tables["ansatt"]["primary_key"] == []
    assert tables["sak"]["extract_key"] == ["id"] and tables["sak"]["extract_key_note"] == ""
    text = run("inspect", source, "--no-scan").output
    assert "key in the extract: uttrekk_lopenr" in text


@pytest.mark.parametrize("engine", ["sqlite", "postgresql", "mysql"])
def test_a_text_column_is_never_a_key_when_a_value_is_empty_or_leaves_the_field(tmp_path, engine):
    """An empty text cannot be told from NULL in a flat file, and a text longer than long_text_limit
    moves to a file of its own: neither column may become the key proven in the data."""
    ddl = ("CREATE TABLE t (tomt VARCHAR(40), lang VARCHAR(40), kort VARCHAR(40));"
           "INSERT INTO t VALUES ('', 'aaaaaaaaaaaaaaaaaaaaaaaa', 'x'), ('b', 'b', 'y'), ('c', 'c', 'z');")
    prof = tmp_path / "p.toml"
    prof.write_text("[output]\nlong_text_limit = 12\n", encoding="utf-8")

    def extract(source: str) -> rb.TableDesc:
        r = run("extract", source, "--out", tmp_path / "o", "--profile", prof, "-q")
        assert r.exit_code == 0, r.output
        return rb.read_addml(tmp_path / "o" / "content" / "addml.xml")["t"]

    if engine == "sqlite":
        con = sqlite3.connect(tmp_path / "k.sqlite")
        con.executescript(ddl)
        con.close()
        table = extract(str(tmp_path / "k.sqlite"))
    else:
        with fresh_database("postgresql" if engine == "postgresql" else "mariadb", "uttrekk_k") as url:
            src = sa.create_engine(url)
            with src.begin() as conn:
                for statement in filter(None, ddl.split(";")):
                    conn.exec_driver_sql(statement)
            src.dispose()
            table = extract(url.render_as_string(hide_password=False))
    assert [k.fields for k in table.keys if k.kind == "primaryKey"] == [["kort"]]
