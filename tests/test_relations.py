"""``uttrekk inspect --keys``: relations the source does not declare, found in the data.

One fixture schema with no declared foreign keys but real relations (integer ids, text codes, a
self-reference, a relation with two dangling values, a composite-key table, a 1:1 table, a column
that only the spread of its values ties to a key, an ambiguous column) and traps that must not be
reported. It is built on SQLite (a file), PostgreSQL, MariaDB and Firebird; the servers are the
local test servers (tests/test_servers.py: $UTTREKK_TEST_<ENGINE>_URL or the default that
scripts/test-services.sh starts). The expected relations and every evidence number are computed
here in Python from the inserted rows, not through uttrekk.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import EXAMPLE_PROFILE, run
from tests.test_servers import ADMIN_URLS, _drop_firebird, _fresh

# -- the fixture ----------------------------------------------------------------------------------

DDL = [
    "CREATE TABLE person (id integer NOT NULL PRIMARY KEY, fnr varchar(11) NOT NULL, navn varchar(60),"
    " leder_id integer, postnr char(4))",
    "CREATE TABLE person_info (person_id integer NOT NULL PRIMARY KEY, hobby varchar(40))",
    "CREATE TABLE status (kode varchar(4) NOT NULL PRIMARY KEY, tekst varchar(40))",
    "CREATE TABLE dokumenttype (kode varchar(4) NOT NULL PRIMARY KEY, navn varchar(40))",
    "CREATE TABLE postnummer (postnr char(4) NOT NULL PRIMARY KEY, poststed varchar(40))",
    "CREATE TABLE bruker (brukernavn varchar(20) NOT NULL PRIMARY KEY, navn varchar(60))",
    "CREATE TABLE kunde (kundenr integer NOT NULL PRIMARY KEY, navn varchar(60), postnr integer)",
    # no primary key declared: saksnr is the key only the data shows
    "CREATE TABLE sak (saksnr integer NOT NULL, tittel varchar(100), status varchar(4), saksbehandler_id integer,"
    " forrige_saksnr integer, kundenr integer, betaler integer, behandlet_av varchar(20))",
    "CREATE TABLE dokument (id integer NOT NULL PRIMARY KEY, saksnr integer, dokumenttype varchar(4),"
    " person_id integer, antall integer, ekstern_id integer, sidetall varchar(10), tittel varchar(100))",
    "CREATE TABLE sak_part (saksnr integer NOT NULL, person_id integer NOT NULL, rolle varchar(20),"
    " PRIMARY KEY (saksnr, person_id))",
    "CREATE TABLE merknad (id integer NOT NULL PRIMARY KEY, objekt_id integer, linjenr integer, tekst varchar(100))",
]

POSTNR = ["0150", "0151", "0152", "0153", "0154", "0155"]
BRUKERE = ["kari", "ola", "per", "siri", "anne", "jon", "liv"]
KUNDER = [7001 + 13 * j for j in range(10)]


def fixture_rows() -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    rows["person"] = [(i, str(10000000000 + i * 1237), f"Person {i}", None if i <= 3 else (i - 1) % 3 + 1,
                       POSTNR[i % 6]) for i in range(1, 31)]
    rows["person_info"] = [(i, f"Hobby {i}") for i in range(2, 21, 2)]
    rows["status"] = [("A", "Åpen"), ("L", "Lukket"), ("U", "Under behandling"), ("K", "Kassert")]
    rows["dokumenttype"] = [("I", "Inngående"), ("U", "Utgående"), ("N", "Notat"), ("X", "Internt")]
    rows["postnummer"] = [(p, f"Sted {p}") for p in POSTNR] + [("9990", "Båtsfjord")]
    rows["bruker"] = [(b, b.capitalize()) for b in BRUKERE]
    rows["kunde"] = [(k, f"Kunde {j}", 150 + j % 6) for j, k in enumerate(KUNDER)]
    rows["sak"] = [(1001 + i, f"Sak {i}", "ALU"[i % 3], (i * 7) % 25 + 1, 1000 + i if i % 4 == 3 else None,
                    KUNDER[i % 10], KUNDER[(i * 7) % 9], BRUKERE[i % 6]) for i in range(40)]
    rows["dokument"] = [(5001 + i, 1001 + i % 40, "IUN"[i % 3],
                         {10: 98, 50: 98, 70: 99}.get(i, i % 25 + 1),  # two dangling values in three rows
                         1 + i % 5, 900001 + i % 50, str(1 + i % 30), f"Dokument {i}") for i in range(100)]
    rows["sak_part"] = [(1001 + i % 40, 1 + (i * 11) % 30, ("part", "kopi", "saksbehandler")[i % 3])
                        for i in range(60)]
    rows["merknad"] = [(8001 + i, (2, 4, 6)[i % 3], 1 + i, f"Merknad {i}") for i in range(6)]
    return rows


COLUMNS = {
    "person": ["id", "fnr", "navn", "leder_id", "postnr"], "person_info": ["person_id", "hobby"],
    "status": ["kode", "tekst"], "dokumenttype": ["kode", "navn"], "postnummer": ["postnr", "poststed"],
    "bruker": ["brukernavn", "navn"], "kunde": ["kundenr", "navn", "postnr"],
    "sak": ["saksnr", "tittel", "status", "saksbehandler_id", "forrige_saksnr", "kundenr", "betaler", "behandlet_av"],
    "dokument": ["id", "saksnr", "dokumenttype", "person_id", "antall", "ekstern_id", "sidetall", "tittel"],
    "sak_part": ["saksnr", "person_id", "rolle"], "merknad": ["id", "objekt_id", "linjenr", "tekst"],
}

EXPECTED = {  # (table, column, target table, target column): confidence
    ("sak", "status", "status", "kode"): "high",  # text code, the column names the table
    ("sak", "saksbehandler_id", "person", "id"): "medium",  # only key-like; no other key holds its values
    ("sak", "forrige_saksnr", "sak", "saksnr"): "high",  # self-reference to a key found in the data
    ("sak", "kundenr", "kunde", "kundenr"): "high",
    ("sak", "betaler", "kunde", "kundenr"): "low",  # no name: the spread of the values in a sparse key
    ("sak", "behandlet_av", "bruker", "brukernavn"): "low",  # no name: distinct text values all in the key
    ("dokument", "saksnr", "sak", "saksnr"): "high",
    ("dokument", "dokumenttype", "dokumenttype", "kode"): "high",
    ("dokument", "person_id", "person", "id"): "low",  # two dangling values: 25 of 27 found
    ("sak_part", "saksnr", "sak", "saksnr"): "high",  # out of a composite-key table
    ("sak_part", "person_id", "person", "id"): "high",
    ("person", "leder_id", "person", "id"): "medium",  # self-reference by a key-like name
    ("person", "postnr", "postnummer", "postnr"): "high",  # numeric text codes, same specific name
    ("person_info", "person_id", "person", "id"): "high",  # 1:1: its own primary key, named for the table
    ("merknad", "objekt_id", "person", "id"): "low",  # ambiguous: its values are in two keys
    ("merknad", "objekt_id", "person_info", "person_id"): "low",
}
AMBIGUOUS = {("merknad", "objekt_id")}
# Traps that must not be reported: dokument.antall (1..5, in every id range), dokument.ekstern_id
# (key-like, outside every key), dokument.sidetall (text of numbers, which an integer join would
# match with person.id), kunde.postnr (integer, same name as the text key postnummer.postnr; MariaDB
# compares 150 = '0150' as true), sak.status/dokument.dokumenttype in the other code table (one code
# in common), merknad.linjenr (1..6: a counter with a key-like name, inside person.id), and every
# table's own key.


def expected_numbers(rows: dict[str, list[tuple[Any, ...]]], table: str, column: str, ref: str,
                     ref_column: str) -> dict[str, Any]:
    values = [r[COLUMNS[table].index(column)] for r in rows[table]]
    values = [v for v in values if v is not None]
    keys = {r[COLUMNS[ref].index(ref_column)] for r in rows[ref]}
    orphans = sorted(set(values) - keys)
    return {"distinct": len(set(values)), "rows": len(values), "found": len(set(values)) - len(orphans),
            "orphan_values": len(orphans), "orphan_rows": sum(1 for v in values if v in set(orphans)),
            "orphan_examples": [str(v) for v in orphans[:5]]}


def build(url: Any) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for stmt in DDL:
            conn.exec_driver_sql(stmt)
    with eng.begin() as conn:
        for table, values in fixture_rows().items():
            cols = COLUMNS[table]
            conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
                         [dict(zip(cols, v, strict=True)) for v in values])
    eng.dispose()


def _drop(engine_name: str, name: str) -> None:
    if engine_name == "firebird":
        _drop_firebird(name)
        return
    admin = sa.create_engine(sa.engine.make_url(ADMIN_URLS[engine_name]), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        force = " WITH (FORCE)" if engine_name == "postgresql" else ""
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
    admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb", "firebird"])
def source(request, tmp_path_factory):
    """The fixture database on one engine: (engine name, SOURCE argument for the CLI)."""
    engine_name = request.param
    if engine_name == "sqlite":
        path = tmp_path_factory.mktemp("relations") / "relations.sqlite"
        build(f"sqlite:///{path}")
        yield engine_name, str(path)
        return
    name, url = _fresh(engine_name)
    try:
        build(url)
        yield engine_name, url.render_as_string(hide_password=False)
    finally:
        _drop(engine_name, name)


def keys_json(*args: Any) -> dict[str, Any]:
    r = run("inspect", "--keys", "--json", *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


# -- the tests ------------------------------------------------------------------------------------


def test_finds_exactly_the_relations_with_their_evidence(source):
    engine_name, src = source
    info = keys_json(src)
    found = {(c["table"], c["column"], c["references"], c["ref_column"]): c for c in info["relations"]}
    assert set(found) == set(EXPECTED), (f"missed: {sorted(set(EXPECTED) - set(found))}; "
                                         f"false: {sorted(set(found) - set(EXPECTED))}")
    rows = fixture_rows()
    for key, c in found.items():
        want = expected_numbers(rows, *key)
        got = {k: c[k] for k in want}
        assert got == want, (engine_name, key)
        assert c["confidence"] == EXPECTED[key], (key, c["confidence"], c["evidence"])
        assert c["coverage"] == pytest.approx(want["found"] / want["distinct"], abs=1e-6)
        assert bool(c["ambiguous_with"]) == ((key[0], key[1]) in AMBIGUOUS), key
        text = c["evidence"]
        assert f"of {want['distinct']:,} distinct value(s) found in {key[2]}.{key[3]} ({want['rows']:,} rows)" in text
    assert found[("merknad", "objekt_id", "person", "id")]["ambiguous_with"] == ["person_info.person_id"]
    dangling = found[("dokument", "person_id", "person", "id")]
    assert dangling["orphan_examples"] == ["98", "99"] and "2 orphan value(s) in 3 row(s) (e.g. 98, 99)" in \
        dangling["evidence"]
    assert found[("sak", "betaler", "kunde", "kundenr")]["chance"] < 1e-6
    assert info["tables"] == len(DDL) and info["rows"] == sum(len(v) for v in rows.values())


def test_text_report_shows_candidates_and_the_ambiguous_column(source):
    _, src = source
    r = run("inspect", "--keys", src)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "high   sak.status -> status(kode)" in out
    assert "medium sak.saksbehandler_id -> person(id)" in out
    assert "low    dokument.person_id -> person(id)" in out
    assert "Ambiguous" in out and "merknad.objekt_id -> person(id) | person_info(person_id)" in out
    password = sa.engine.make_url(src).password if "://" in src else None
    if password:  # the Firebird test URL carries one
        assert str(password) not in out and "***" in out


def test_write_profile_keeps_comments_and_confirmed_entries_and_never_duplicates(source, tmp_path):
    _, src = source
    prof = tmp_path / "system.toml"
    original = ('# Profil for saksbehandlingssystemet\n[metadata]\nsystem_name = "Sak"  # fagsystemets navn\n\n'
                '[tables.sak]\ndescription = "Saker"\n\n'
                '[[tables.sak.foreign_keys]]\ncolumns = ["status"]\nreferences = "status"\nref_columns = ["kode"]\n'
                'confirmed = true  # sjekket av arkivar\nevidence = "manuelt"\n\n'
                '[[tables.dokument.foreign_keys]]\ncolumns = ["saksnr"]\nreferences = "sak"\nconfirmed = false\n')
    prof.write_text(original)
    r = run("inspect", "--keys", src, "--write-profile", prof)
    assert r.exit_code == 0, r.output
    text = prof.read_text()
    assert text.startswith(original.rstrip("\n")), "existing content and comments must stay as they were"
    data = tomllib.loads(text)
    entries = [(t, tuple(fk["columns"]), fk["references"], fk.get("ref_columns", [None])[0], fk)
               for t, td in data["tables"].items() for fk in td.get("foreign_keys", [])]
    keys = [(t, c[0], ref, rc) for t, c, ref, rc, _ in entries]
    # the two that were there stay, once each; every other relation is added once, unconfirmed
    assert keys.count(("sak", "status", "status", "kode")) == 1
    assert keys.count(("dokument", "saksnr", "sak", None)) == 1
    assert sorted(k for k in keys if k[1:] != ("status", "status", "kode") and k[:2] != ("dokument", "saksnr")) == \
        sorted(k for k in EXPECTED if k[:2] not in {("sak", "status"), ("dokument", "saksnr")})
    for t, c, _ref, _rc, fk in entries:
        if (t, c[0]) in {("sak", "status"), ("dokument", "saksnr")}:
            continue
        assert fk["confirmed"] is False and "distinct value(s) found in" in fk["evidence"]
    assert data["tables"]["sak"]["foreign_keys"][0] == {"columns": ["status"], "references": "status",
                                                        "ref_columns": ["kode"], "confirmed": True,
                                                        "evidence": "manuelt"}
    assert "+ sak.saksbehandler_id -> person(id)" in r.output and "2 already there" in r.output
    # a second run adds nothing and leaves the file byte for byte
    r2 = run("inspect", "--keys", src, "--write-profile", prof)
    assert r2.exit_code == 0, r2.output
    assert prof.read_text() == text
    assert "added 0 relation(s)" in r2.output
    # the profile parser accepts what was written
    from extractor.profile import load_profile

    loaded = load_profile(prof)
    assert len(loaded.table("sak").foreign_keys) == 6


def test_write_profile_creates_the_file(source, tmp_path):
    _, src = source
    prof = tmp_path / "ny.toml"
    info = keys_json(src, "--write-profile", prof)
    assert len(info["profile"]["added"]) == len(EXPECTED)
    data = tomllib.loads(prof.read_text())
    written = {(t, fk["columns"][0], fk["references"], fk["ref_columns"][0])
               for t, td in data["tables"].items() for fk in td["foreign_keys"]}
    assert written == set(EXPECTED)


def test_profile_relations_and_exclusions_are_respected(source, tmp_path):
    _, src = source
    prof = tmp_path / "p.toml"
    prof.write_text('[[tables.sak.foreign_keys]]\ncolumns = ["saksbehandler_id"]\nreferences = "person"\n'
                    'confirmed = true\n\n[tables.merknad]\nexclude = "Interne merknader, kasseres"\n\n'
                    '[tables.dokument.columns.person_id]\nexclude = "Ikke bevaringsverdig"\n')
    info = keys_json(src, "--profile", prof)
    found = {(c["table"], c["column"], c["references"], c["ref_column"]) for c in info["relations"]}
    assert found == {k for k in EXPECTED if k[:2] not in {("sak", "saksbehandler_id"), ("dokument", "person_id")}
                     and k[0] != "merknad"}


def test_sqlite_keys_errors_are_one_clear_line(tmp_path):
    db = tmp_path / "r.sqlite"
    build(f"sqlite:///{db}")
    r = run("inspect", db, "--write-profile", tmp_path / "p.toml")
    assert r.exit_code != 0 and "--write-profile needs --keys" in r.output and "Traceback" not in r.output
    prof = tmp_path / "p.toml"
    prof.write_text('[tables.sak]\nprimary_key = ["nope"]\n\n[[tables.ingen.foreign_keys]]\ncolumns = ["x"]\n'
                    'references = "sak"\n')
    r = run("inspect", "--keys", db, "--profile", prof)
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "tables.sak.primary_key: table sak has no column 'nope'" in r.output
    assert "tables.ingen: no table 'ingen' in the source" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[tables\n")
    r = run("inspect", "--keys", db, "--write-profile", bad)
    assert r.exit_code != 0 and "is not valid TOML" in r.output and "Traceback" not in r.output
    assert bad.read_text() == "[tables\n"


def test_a_profile_primary_key_becomes_a_key(tmp_path):
    """sak declares no key; with the profile's primary_key it is the key even without a key-like name."""
    db = tmp_path / "r.sqlite"
    eng = sa.create_engine(f"sqlite:///{db}")
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE sak (a integer, tittel varchar(20))")
        conn.exec_driver_sql("CREATE TABLE logg (sak integer, tekst varchar(20))")
        conn.execute(sa.text("INSERT INTO sak VALUES (:a, :t)"), [{"a": 10 * i, "t": f"t{i}"} for i in range(1, 40)])
        conn.execute(sa.text("INSERT INTO logg VALUES (:s, :t)"), [{"s": 10 * (i % 7 + 1), "t": "x"} for i in range(50)])
    eng.dispose()
    prof = tmp_path / "p.toml"
    prof.write_text('[tables.sak]\nprimary_key = ["a"]\n')
    info = keys_json(db, "--profile", prof)
    rel = [(c["table"], c["column"], c["references"], c["ref_column"], c["key"], c["confidence"])
           for c in info["relations"]]
    assert rel == [("logg", "sak", "sak", "a", "the profile's primary_key", "high")]


def test_name_evidence_levels():
    from extractor.relations import NAME_KEY, NAME_KEYLIKE, NAME_NONE, NAME_PART, NAME_TABLE, name_evidence

    assert name_evidence("sak_id", "sak", "id")[0] == NAME_TABLE
    assert name_evidence("saksnr", "saker", "nr")[0] == NAME_TABLE
    assert name_evidence("forrige_saksnr", "sak", "saksnr")[0] == NAME_TABLE
    assert name_evidence("PersonId", "tbl_person", "id")[0] == NAME_TABLE
    assert name_evidence("ansvarlig_fnr", "person", "fnr")[0] == NAME_KEY
    assert name_evidence("hovedsak", "sak", "id")[0] == NAME_PART
    assert name_evidence("behandler_id", "saksbehandler", "id")[0] == NAME_PART
    assert name_evidence("type_id", "sakstype", "id")[0] == NAME_KEYLIKE  # 'type' ends too many table names
    assert name_evidence("saksbehandler_id", "sak", "id")[0] == NAME_KEYLIKE
    assert name_evidence("antall", "person", "id")[0] == NAME_NONE
    assert name_evidence("kode", "status", "kode")[0] == NAME_NONE  # a bare generic key name ties to nothing
    assert name_evidence("husnr", "person", "id")[0] == NAME_KEYLIKE


# -- golden: inspect --keys pinned byte for byte ----------------------------------------------------
# Made before relations.py was split and its SQL moved into dialects/ (issue 13), so that move is
# proven to change nothing a person sees: the JSON, the text report and the profile --write-profile
# writes (into a new file, a file with comments and [[...]] entries, and a file written inline).
# Only what differs per run is normalised: the source label (a temporary path or database name),
# the seconds, the date in the comment the profile gets. Regenerate deliberately with
# UTTREKK_UPDATE_GOLDEN=1 and read the diff before committing it.

GOLDEN = Path(__file__).parent / "golden" / "relations"

PROFILE_WITH_COMMENTS = ('# Profil for saksbehandlingssystemet\n[metadata]\nsystem_name = "Sak"  # fagsystemets navn\n\n'
                         '[tables.sak]\ndescription = "Saker"\n\n'
                         '[[tables.sak.foreign_keys]]\ncolumns = ["status"]\nreferences = "status"\n'
                         'ref_columns = ["kode"]\nconfirmed = true  # sjekket av arkivar\n')
PROFILE_INLINE = ('tables = { sak = { description = "Saker", foreign_keys = [{ columns = ["status"], '
                  'references = "status" }] }, person = { description = "Personer" } }\n')


def _normalised(text: str, label: str, given: str = "") -> str:
    text = text.replace(given, "SOURCE") if given else text
    text = text.replace(label, "SOURCE") if label else text
    text = re.sub(r"(\d+ queries), \d+\.\d s", r"\1, X s", text)
    return re.sub(r" on \d{4}-\d{2}-\d{2}: check each", " on DATE: check each", text)


def _keys_outputs(src: Any, folder: Path, starts: dict[str, str], *args: Any) -> dict[str, str]:
    """What inspect --keys shows and writes for ``src``: JSON, text, and each starting profile as written."""
    r = run("inspect", "--keys", "--json", src, *args)
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    label = info["source"]
    info["source"], info["seconds"] = "SOURCE", 0
    given = info.get("what", {}).get("source", "")  # SOURCE as given (a path, or the URL masked)
    if given:
        info["what"]["source"] = "SOURCE"
    out = {"keys.json": json.dumps(info, indent=2, ensure_ascii=False) + "\n"}
    r = run("inspect", "--keys", src, *args)
    assert r.exit_code == 0, r.output
    out["keys.txt"] = _normalised(r.output, label, given)
    for name, start in starts.items():
        prof = folder / f"{name}.toml"
        if start:
            prof.write_text(start, encoding="utf-8")
        r = run("inspect", "--keys", src, *args, "--write-profile", prof)
        assert r.exit_code == 0, r.output
        written = _normalised(prof.read_text(encoding="utf-8"), label, given)
        if start and written.startswith(_normalised(start, label, given)):  # appended: pin what was added
            written = "(the profile as it was)\n" + written[len(_normalised(start, label, given)):]
        out[f"{name}.toml"] = written
        said = _normalised(r.output, label, given).replace(str(prof), "PROFILE")
        assert said.startswith(out["keys.txt"])
        out[f"{name}.txt"] = said[len(out["keys.txt"]):]
    return out


def _compare(name: str, outputs: dict[str, str]) -> None:
    folder = GOLDEN / name
    if os.environ.get("UTTREKK_UPDATE_GOLDEN"):
        folder.mkdir(parents=True, exist_ok=True)
        for file, text in outputs.items():
            (folder / file).write_text(text, encoding="utf-8")
    for file, text in outputs.items():
        assert text == (folder / file).read_text(encoding="utf-8"), \
            f"{name}/{file} changed; if intended, regenerate with UTTREKK_UPDATE_GOLDEN=1"


def test_keys_output_is_pinned(source, tmp_path):
    engine_name, src = source
    starts = {"new": "", "comments": PROFILE_WITH_COMMENTS, "inline": PROFILE_INLINE}
    _compare(engine_name, _keys_outputs(src, tmp_path, starts))


def test_keys_output_of_the_example_is_pinned(example_db, tmp_path):
    starts = {"new": "", "example-profile": EXAMPLE_PROFILE.read_text(encoding="utf-8")}
    _compare("example", _keys_outputs(example_db, tmp_path, starts))
    _compare("example-with-profile", _keys_outputs(example_db, tmp_path, {}, "--profile", EXAMPLE_PROFILE))
    # profile init --keys adds the same relations through the same writer
    r = run("profile", "init", "--keys", example_db, "-o", tmp_path / "init.toml")
    assert r.exit_code == 0, r.output
    written = _normalised((tmp_path / "init.toml").read_text(encoding="utf-8"), "")
    _compare("example-init", {"init.toml": written[written.index("\n# Found in the data"):]})  # the skeleton is not ours
