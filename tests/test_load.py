"""``uttrekk load``: round trips database -> extract -> load -> the loaded database equals the source, value by value.

The comparison here is the test's own: it reads the source with its own driver and the loaded
database with sqlite3 or psycopg, and compares each value by the type the loaded column was
declared with (no code of extractor.loading is used to compute what is expected).
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import struct
import tarfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import EXAMPLE_PROFILE, fails, fresh_database, run, run_sql

FORMATS = ["delimited", "fixed", "xml"]


# --- reading both sides ---

def source_rows(url: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    if "://" not in url:
        con = sqlite3.connect(f"file:{url}?mode=ro", uri=True)
        cur = con.execute(f'SELECT * FROM "{table}"')
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        con.close()
        return cols, rows
    eng = sa.create_engine(url)
    q = "`" if url.startswith("mysql") else '"'
    with eng.connect() as conn:
        res = conn.exec_driver_sql(f"SELECT * FROM {q}{table}{q}")
        cols = list(res.keys())
        rows = [tuple(r) for r in res]
    eng.dispose()
    return cols, rows


def loaded_table(target: str, table: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Declared type per column and every row, from the loaded SQLite file or PostgreSQL database."""
    if target.startswith("postgresql"):
        with psycopg.connect(target.replace("postgresql+psycopg", "postgresql")) as conn:
            types = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                                      "WHERE table_name = %s", (table,)).fetchall())
            cur = conn.execute(f'SELECT * FROM "{table}"')
            names = [d.name for d in cur.description]
            return types, [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    types = {r[1]: r[2] for r in con.execute(f'PRAGMA table_info("{table}")')}
    cur = con.execute(f'SELECT * FROM "{table}"')
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    con.close()
    return types, rows


def _float32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _temporal(value: Any, kind: type) -> Any:
    if isinstance(value, dt.timedelta):  # MySQL's TIME
        return (dt.datetime.min + value).time()
    if isinstance(value, str):
        return kind.fromisoformat(value.replace(" ", "T") if kind is dt.datetime else value)
    return value


def same(src: Any, got: Any, declared: str) -> bool:
    """Whether the loaded value is the source value, read by the type the column was loaded as."""
    if src is None or got is None:
        return src is None and got is None
    t = declared.lower()
    if t in ("integer", "bigint"):
        return isinstance(got, int) and not isinstance(src, float) and int(src) == got
    if t in ("decimal text", "numeric"):
        exact = Decimal(got) if isinstance(got, str) else got
        if isinstance(src, float):
            return float(exact) == src or _float32(float(exact)) == src
        return exact == Decimal(str(src))
    if t == "date":
        return _temporal(got, dt.date) == _temporal(src, dt.date)
    if t.startswith("timestamp"):
        return _temporal(got, dt.datetime) == _temporal(src, dt.datetime)
    if t.startswith("time"):
        return _temporal(got, dt.time) == _temporal(src, dt.time)
    if t == "boolean":
        return src in (0, 1) and bool(got) == bool(src) and (isinstance(got, bool) or got in (0, 1))
    if t in ("blob", "bytea"):
        return bytes(got) == bytes(src)
    if isinstance(src, float) and isinstance(got, str):  # the extract archived the column as text (docs/format.md)
        return float(got) == src or _float32(float(got)) == src
    return isinstance(got, str) and isinstance(src, str) and got == src


def compare(source: str, target: str, tables: list[str], keys: dict[str, list[str]] | None = None,
            char_columns: tuple[str, ...] = ()) -> int:
    """Every source value against the loaded one; rows matched by the source's key (``keys``, else the first
    column) or as a sorted multiset when the table has none. Returns the number of values compared.

    A binary column is compared with the ``<column>_innhold`` column the load adds (its field holds a path);
    a CHAR(n) column (``char_columns``, ``table.column``) without its blank padding, as the extract documents."""
    compared = 0
    for table in tables:
        cols, src_rows = source_rows(source, table)
        types, got_rows = loaded_table(target, table)
        assert len(got_rows) == len(src_rows), table
        mapped = {c: f"{c}_innhold" if f"{c}_innhold" in types else c for c in cols}
        for c in cols:
            assert mapped[c] in types, (table, c, sorted(types))
        if "uttrekk_lopenr" in types:  # no key in the source: compare as multisets in the same order
            key = lambda r: tuple("" if v is None else str(v) for v in r)  # noqa: E731
            src_sorted = sorted(src_rows, key=key)
            got_sorted = sorted(([r[mapped[c]] for c in cols] for r in got_rows), key=key)
            for s, g in zip(src_sorted, got_sorted, strict=True):
                for c, sv, gv in zip(cols, s, g, strict=True):
                    assert same(sv, gv, types[mapped[c]]), (table, c, sv, gv)
                    compared += 1
            continue
        key_cols = (keys or {}).get(table, [cols[0]])
        by_key = {tuple(r[c] for c in key_cols): r for r in got_rows}
        for s in src_rows:
            g = by_key[tuple(s[cols.index(c)] for c in key_cols)]
            for c, sv in zip(cols, s, strict=True):
                gv = g[mapped[c]]
                if f"{table}.{c}" in char_columns and isinstance(sv, str):
                    sv = sv.rstrip(" ")
                assert same(sv, gv, types[mapped[c]]), (table, c, s[0], sv, gv, types[mapped[c]])
                compared += 1
    return compared


def load(extract: Path, target: str, *extra: str) -> Any:
    return run("load", extract, "--into", target, *extra)


EXAMPLE_KEYS = {"MOTEPLAN": ["aar", "motenr"]}
EXAMPLE_TABLES = ["SAKSTYPE", "STATUSKODE", "TILTAKSHAVER", "MOTEPLAN", "SAK", "DOKUMENT", "HENDELSESLOGG", "SAK_MERKNAD"]


@pytest.fixture(scope="module")
def example_extracts(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for fmt in FORMATS:
        folder = tmp_path_factory.mktemp("load") / fmt
        result = run("extract", example_db, "--out", folder, "--format", fmt, "--profile", EXAMPLE_PROFILE, "-q",
                     "--charset", "utf-8")  # ISO 8859-1 maps a few characters (reported), UTF-8 none
        assert result.exit_code == 0, result.output
        out[fmt] = folder
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_example_round_trip_into_sqlite(example_db: Path, example_extracts: dict[str, Path], fmt: str,
                                        tmp_path: Path) -> None:
    target = tmp_path / "kopi.sqlite"
    result = load(example_extracts[fmt], str(target))
    assert result.exit_code == 0, result.output
    assert "Every value was loaded as the extract says" in result.output
    assert compare(str(example_db), str(target), EXAMPLE_TABLES, EXAMPLE_KEYS) > 2000
    con = sqlite3.connect(target)
    ddl = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    # Keys the data hold are declared, code lists are tables, descriptions are in the metadata table.
    assert 'PRIMARY KEY ("id")' in ddl["SAK"] and 'REFERENCES "MOTEPLAN" ("aar", "motenr")' in ddl["SAK"]
    assert 'UNIQUE ("saksnr")' in ddl["SAK"]
    assert con.execute('SELECT forklaring FROM "SAK_status_koder" WHERE kode = ?', ("IN",)).fetchone() == ("Innvilget",)
    assert con.execute("SELECT beskrivelse FROM uttrekk_beskrivelse WHERE tabell = 'SAK' AND felt = 'gebyr'"
                       ).fetchone() == ("Gebyr i kroner for behandlingen av saken.",)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("SELECT COUNT(*) FROM uttrekk_avvik").fetchone() == (0,)
    # Exact decimals stay exact: the digits as written, with the declared scale.
    assert con.execute('SELECT gebyr, typeof(gebyr) FROM "SAK" WHERE id = 3').fetchone() == ("845.10", "text")
    con.close()
    assert (tmp_path / "kopi.sqlite.load-report.tsv").read_text(encoding="utf-8").startswith("tabell\tpost")


def test_example_package_tar_into_postgresql(example_db: Path, tmp_path: Path) -> None:
    packages = tmp_path / "pakker"
    result = run("extract", example_db, "--out", tmp_path / "uttrekk", "--profile", EXAMPLE_PROFILE, "-q", "--charset", "utf-8",
                 "--package", packages)
    assert result.exit_code in (0, 1), result.output
    tar = next(packages.glob("*.tar"))
    with fresh_database("postgresql", "uttrekk_load") as url:
        target = url.render_as_string(hide_password=False)
        result = load(tar, target, "--report", tmp_path / "rapport.tsv")
        assert result.exit_code == 0, result.output
        assert compare(str(example_db), target, EXAMPLE_TABLES, EXAMPLE_KEYS) > 2000
        with psycopg.connect(target.replace("postgresql+psycopg", "postgresql")) as conn:
            assert conn.execute("SELECT obj_description('\"SAK\"'::regclass)").fetchone()[0].startswith("Byggesaker")
            assert conn.execute("SELECT col_description('\"SAK\"'::regclass, 10)").fetchone() == (
                "Gebyr i kroner for behandlingen av saken.",)
            assert conn.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'SAK' "
                                "AND column_name = 'gebyr'").fetchone() == ("numeric",)
            assert conn.execute('SELECT gebyr::text FROM "SAK" WHERE id = 3').fetchone() == ("845.10",)
            kinds = dict(conn.execute("SELECT conname, contype FROM pg_constraint WHERE conrelid = '\"SAK\"'::regclass"
                                      ).fetchall())
            assert kinds["SAK_pkey"] == "p" and kinds["SAK_saksnr_key"] == "u"
            assert kinds["SAK_vedtak_aar_vedtak_motenr_fkey"] == "f"
        # The target now holds tables: a second load is refused and leaves it as it was.
        again = load(tar, target, "--report", tmp_path / "rapport2.tsv")
        fails(again, "is not empty", "never replaces anything")
        with psycopg.connect(target.replace("postgresql+psycopg", "postgresql")) as conn:
            assert conn.execute('SELECT COUNT(*) FROM "SAK"').fetchone() == (200,)


# --- PostgreSQL and MariaDB sources with every kind of value ---

PG_SOURCE = [
    "CREATE TABLE forelder (id integer PRIMARY KEY, navn text NOT NULL)",
    "CREATE TABLE verdier (id bigint PRIMARY KEY, forelder_id integer REFERENCES forelder(id), liten smallint, "
    "stor bigint, belop numeric(14,4), enkel real, dobbel double precision, dag date, tid timestamp(6), "
    "tid_sone timestamptz, klokke time, flagg boolean, tekst text, kort varchar(10), fast char(4), bytes bytea)",
    "INSERT INTO forelder VALUES (1, 'en'), (2, 'to')",
    "SET TIME ZONE 'UTC'",
    "INSERT INTO verdier VALUES "
    "(1, 1, -32768, -9223372036854775808, 1234567890.1234, 0.1, 0.30000000000000004, '1899-12-31', "
    " '2024-02-29 23:59:59.123456', '2024-05-02 10:15:00+02', '18:00:00', true, '', 'a;b\"c', 'ab', "
    " '\\x00ff10'),"
    "(2, NULL, 32767, 9223372036854775807, -0.0001, -3.4e38, 1e-300, '2024-01-01', '2000-01-01 00:00:00', "
    " '1970-01-01 00:00:00+00', '00:00:00.5', false, NULL, NULL, NULL, NULL),"
    "(3, 2, 0, 0, 0, 0, 0, '9999-12-31', '1999-12-31 12:00:00', NULL, NULL, NULL, "
    " repeat('lang tekst æøå ', 300), '', 'x', '')",
    "INSERT INTO verdier (id, tekst) VALUES (4, E'linje1\\r\\nlinje2;\"sitat\"')",
]
PG_TABLES = ["forelder", "verdier"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_postgresql_round_trip(fmt: str, tmp_path: Path) -> None:
    with fresh_database("postgresql", "uttrekk_loadsrc") as src, fresh_database("postgresql", "uttrekk_load") as dst:
        run_sql(src, PG_SOURCE)
        source = src.render_as_string(hide_password=False)
        result = run("extract", source, "--out", tmp_path / "x", "--format", fmt, "--charset", "utf-8", "-q")
        assert result.exit_code == 0, result.output
        target = dst.render_as_string(hide_password=False)
        result = load(tmp_path / "x", target, "--report", tmp_path / "r.tsv")
        assert result.exit_code == 0, result.output
        assert compare(source, target, PG_TABLES, char_columns=("verdier.fast",)) == 2 * 2 + 4 * 16
        sqlite_target = tmp_path / "kopi.sqlite"
        result = load(tmp_path / "x", str(sqlite_target))
        assert result.exit_code == 0, result.output
        assert compare(source, str(sqlite_target), PG_TABLES, char_columns=("verdier.fast",)) == 2 * 2 + 4 * 16
        with psycopg.connect(target.replace("postgresql+psycopg", "postgresql")) as conn:
            # NULL and empty text stay apart; the long text came back from its LOB file.
            assert conn.execute("SELECT id FROM verdier WHERE tekst = '' ").fetchall() == [(1,)]
            assert conn.execute("SELECT length(tekst) FROM verdier WHERE id = 3").fetchone() == (4500,)
            assert conn.execute("SELECT contype FROM pg_constraint WHERE conname = 'verdier_forelder_id_fkey'"
                                ).fetchone() == ("f",)


MARIADB_SOURCE = [
    "CREATE TABLE status (kode VARCHAR(4) PRIMARY KEY, navn VARCHAR(40) NOT NULL)",
    "CREATE TABLE post (id INT PRIMARY KEY, status VARCHAR(4) REFERENCES status(kode), belop DECIMAL(12,2), "
    "vekt FLOAT, maal DOUBLE, dag DATE, tid DATETIME(6), klokke TIME, farge ENUM('rod','gronn','bla'), "
    "tekst TEXT, data BLOB)",
    "INSERT INTO status VALUES ('A', 'Aktiv'), ('P', 'Passiv')",
    "INSERT INTO post VALUES (1, 'A', 845.10, 0.1, 0.1, '2024-05-02', '2024-05-02 10:15:00.250000', '23:59:59', "
    "'rod', 'æøå', X'000102'), (2, NULL, -1.00, -2.5, 1e300, NULL, NULL, NULL, NULL, '', ''), "
    "(3, 'P', NULL, NULL, NULL, '1000-01-01', '1000-01-01 00:00:00', '00:00:00', 'bla', NULL, NULL)",
]


def test_mariadb_round_trip(tmp_path: Path) -> None:
    with fresh_database("mariadb", "uttrekk_loadsrc") as src:
        run_sql(src, MARIADB_SOURCE)
        source = src.render_as_string(hide_password=False)
        result = run("extract", source, "--out", tmp_path / "x", "--charset", "utf-8", "-q")
        assert result.exit_code == 0, result.output
        target = tmp_path / "kopi.sqlite"
        result = load(tmp_path / "x", str(target))
        assert result.exit_code == 0, result.output
        assert compare(source, str(target), ["status", "post"]) == 2 * 2 + 3 * 11
        con = sqlite3.connect(target)
        # The ENUM's code list is a table, and the field refers to it.
        assert [r[0] for r in con.execute('SELECT kode FROM "post_farge_koder" ORDER BY kode')] == ["bla", "gronn", "rod"]
        assert "REFERENCES \"post_farge_koder\"" in con.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'post'").fetchone()[0]
        con.close()


# --- extracts made by others ---

NOARK3_ADDML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<addml xmlns="http://www.arkivverket.no/standarder/addml" name="noark3">
  <dataset>
    <description>Noark-3-uttrekk bygd for testen.</description>
    <reference/>
    <flatFiles>
      <flatFile name="NOARKSAK" definitionReference="ffd_sak">
        <properties>
          <property name="fileName"><value>NOARKSAK.DAT</value></property>
          <property name="numberOfRecords"><value>6</value></property>
        </properties>
      </flatFile>
      <flatFileDefinitions>
        <flatFileDefinition name="ffd_sak" typeReference="fast">
          <recordDefinitionFieldIdentifier>RT</recordDefinitionFieldIdentifier>
          <recordDefinitions>
            <recordDefinition name="SAK">
              <description>Saker.</description>
              <fixedLength>30</fixedLength>
              <recordDefinitionFieldValue>S</recordDefinitionFieldValue>
              <keys>
                <key name="PK_SAK"><primaryKey/><fieldDefinitionReferences>
                  <fieldDefinitionReference name="SA.ID"/></fieldDefinitionReferences></key>
              </keys>
              <fieldDefinitions>
                <fieldDefinition name="RT" typeReference="tekst"><fixedLength>1</fixedLength></fieldDefinition>
                <fieldDefinition name="SA.ID" typeReference="heltall"><description>Saksnummer.</description>
                  <fixedLength>5</fixedLength></fieldDefinition>
                <fieldDefinition name="SA.DATO" typeReference="dato"><fixedLength>8</fixedLength></fieldDefinition>
                <fieldDefinition name="SA.TITTEL" typeReference="tekst"><fixedLength>16</fixedLength>
                  <codes><code codeValue="Byggesak" explan="Sak om bygg"/></codes></fieldDefinition>
              </fieldDefinitions>
            </recordDefinition>
            <recordDefinition name="JOURNPST">
              <fixedLength>30</fixedLength>
              <recordDefinitionFieldValue>J</recordDefinitionFieldValue>
              <keys>
                <key name="PK_JP"><primaryKey/><fieldDefinitionReferences>
                  <fieldDefinitionReference name="JP.ID"/></fieldDefinitionReferences></key>
                <key name="FK_JP_SAK"><foreignKey>
                  <flatFileDefinitionReference name="ffd_sak"><recordDefinitionReferences>
                    <recordDefinitionReference name="SAK"><fieldDefinitionReferences>
                      <fieldDefinitionReference name="SA.ID"/></fieldDefinitionReferences>
                    </recordDefinitionReference></recordDefinitionReferences></flatFileDefinitionReference>
                  <relationType>n:1</relationType></foreignKey>
                  <fieldDefinitionReferences><fieldDefinitionReference name="JP.SAID"/></fieldDefinitionReferences>
                </key>
              </keys>
              <fieldDefinitions>
                <fieldDefinition name="RT" typeReference="tekst"><fixedLength>1</fixedLength></fieldDefinition>
                <fieldDefinition name="JP.ID" typeReference="heltall"><fixedLength>5</fixedLength></fieldDefinition>
                <fieldDefinition name="JP.SAID" typeReference="heltall"><fixedLength>5</fixedLength></fieldDefinition>
                <fieldDefinition name="JP.BELOP" typeReference="belop"><fixedLength>10</fixedLength></fieldDefinition>
                <fieldDefinition name="JP.AVSKR" typeReference="janei"><fixedLength>1</fixedLength></fieldDefinition>
                <fieldDefinition name="JP.TID" typeReference="klokke"><fixedLength>8</fixedLength></fieldDefinition>
              </fieldDefinitions>
            </recordDefinition>
          </recordDefinitions>
        </flatFileDefinition>
      </flatFileDefinitions>
      <structureTypes>
        <fieldTypes>
          <fieldType name="tekst"><dataType>string</dataType></fieldType>
          <fieldType name="heltall"><dataType>integer</dataType></fieldType>
          <fieldType name="dato"><dataType>date</dataType><fieldFormat>yyyyMMdd</fieldFormat></fieldType>
          <fieldType name="belop"><dataType>float</dataType><fieldFormat>n.nnn,nn</fieldFormat></fieldType>
          <fieldType name="janei"><dataType>boolean</dataType><fieldFormat>J/N</fieldFormat></fieldType>
          <fieldType name="klokke"><dataType>time</dataType><fieldFormat>HH:mm:ss</fieldFormat></fieldType>
        </fieldTypes>
        <flatFileTypes>
          <flatFileType name="fast"><charset>ISO-8859-1</charset>
            <fixedFileFormat><recordSeparator>CRLF</recordSeparator></fixedFileFormat></flatFileType>
        </flatFileTypes>
      </structureTypes>
    </flatFiles>
  </dataset>
</addml>
"""

NOARK3_RECORDS = [
    "S    119890105Byggesak        ",
    "J    1    1  1.234,50J08:30:00",
    "S    219891340Søknad om løyve ",   # 13th month: breaks its type
    "J    2    2     -0,05N23:59:59",
    "J    3    9      0,00N00:00:00",   # points at no SAK: the foreign key is reported, not declared
    "S    319900228                ",   # blank text: NULL
]


def _noark3(folder: Path) -> Path:
    content = folder / "content"
    content.mkdir(parents=True)
    (content / "addml.xml").write_bytes(NOARK3_ADDML.encode("iso-8859-1"))
    (content / "NOARKSAK.DAT").write_bytes("".join(r + "\r\n" for r in NOARK3_RECORDS).encode("iso-8859-1"))
    return folder


def test_noark3_fixed_width_with_two_record_types(tmp_path: Path) -> None:
    extract = _noark3(tmp_path / "n3")
    assert all(len(r) == 30 for r in NOARK3_RECORDS)
    target = tmp_path / "n3.sqlite"
    result = load(extract, str(target))
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(target)
    assert con.execute('SELECT "SA.ID", "SA.DATO", "SA.TITTEL" FROM "SAK" ORDER BY 1').fetchall() == [
        (1, "1989-01-05", "Byggesak"), (2, None, "Søknad om løyve"), (3, "1990-02-28", None)]
    assert con.execute('SELECT "JP.ID", "JP.SAID", "JP.BELOP", "JP.AVSKR", "JP.TID" FROM "JOURNPST" ORDER BY 1'
                       ).fetchall() == [(1, 1, "1234.50", 1, "08:30:00"), (2, 2, "-0.05", 0, "23:59:59"),
                                        (3, 9, "0.00", 0, "00:00:00")]
    # The value that breaks its type is NULL in the table and kept, with its text, in uttrekk_avvik
    # (post: the record's number in the file, as validate counts it; nokkel: the row's key).
    # The keys the data break are listed there too (and in uttrekk_nokler, below).
    assert con.execute("SELECT tabell, post, nokkel, felt, verdi, substr(hva, 1, 30) FROM uttrekk_avvik").fetchall() == [
        ("SAK", 3, "2", "SA.DATO", "19891340", "not a date: no such date in th"),
        ("SAK", None, None, "SA.TITTEL", None, "foreign key SAK_SA.TITTEL_kode"),
        ("JOURNPST", None, None, "JP.SAID", None, "foreign key JOURNPST_JP.SAID_f")]
    assert "SA.DATO: 1 x not a date" in result.output
    ddl = con.execute("SELECT sql FROM sqlite_master WHERE name = 'JOURNPST'").fetchone()[0]
    assert 'PRIMARY KEY ("JP.ID")' in ddl and "FOREIGN KEY" not in ddl
    assert con.execute("SELECT erklaert, hvorfor FROM uttrekk_nokler WHERE navn = 'JOURNPST_JP.SAID_fkey'"
                       ).fetchone() == (0, "1 row(s) point at no row of SAK (e.g. 9)")
    assert "NOT declared: 1 row(s) point at no row of SAK" in result.output
    # The code list is a table; a value outside it keeps the foreign key from being declared.
    assert con.execute('SELECT kode, forklaring FROM "SAK_SA.TITTEL_koder"').fetchall() == [("Byggesak", "Sak om bygg")]
    assert con.execute("SELECT erklaert FROM uttrekk_nokler WHERE peker_pa = 'SAK_SA.TITTEL_koder'").fetchone() == (0,)
    assert con.execute("SELECT beskrivelse FROM uttrekk_beskrivelse WHERE felt = 'SA.ID'").fetchone() == ("Saksnummer.",)
    report = (tmp_path / "n3.sqlite.load-report.tsv").read_text(encoding="utf-8").splitlines()
    assert [r for r in report if "19891340" in r][0].startswith("SAK\t3\t2\tSA.DATO\t19891340\tnot a date")
    # the description breaks ADDML's order, the way real ones do: read anyway, and said
    assert any("note: addml.xml: line" in r and "read anyway" in r for r in report)
    con.close()


OTHER_ADDML = """<?xml version="1.0" encoding="UTF-8"?>
<addml xmlns="http://www.arkivverket.no/standarder/addml">
  <dataset>
    <reference/>
    <flatFiles>
      <flatFile name="kunde" definitionReference="kunde">
        <properties><property name="fileName"><value>kunde.csv</value></property></properties>
      </flatFile>
      <flatFileDefinitions>
        <flatFileDefinition name="kunde" typeReference="csv">
          <recordDefinitions>
            <recordDefinition name="kunde">
              <headerLevel>1</headerLevel>
              <keys><key name="pk"><primaryKey/><fieldDefinitionReferences>
                <fieldDefinitionReference name="nr"/></fieldDefinitionReferences></key></keys>
              <fieldDefinitions>
                <fieldDefinition name="nr" typeReference="int"/>
                <fieldDefinition name="født" typeReference="norsk_dato"/>
                <fieldDefinition name="saldo" typeReference="kroner"/>
                <fieldDefinition name="aktiv" typeReference="janei"/>
                <fieldDefinition name="notat" typeReference="tekst"/>
              </fieldDefinitions>
            </recordDefinition>
          </recordDefinitions>
        </flatFileDefinition>
      </flatFileDefinitions>
      <structureTypes>
        <fieldTypes>
          <fieldType name="int"><dataType>integer</dataType></fieldType>
          <fieldType name="norsk_dato"><dataType>date</dataType><fieldFormat>dd.MM.yyyy</fieldFormat></fieldType>
          <fieldType name="kroner"><dataType>float</dataType><fieldFormat>n nnn,nn</fieldFormat></fieldType>
          <fieldType name="janei"><dataType>boolean</dataType><fieldFormat>Ja/Nei</fieldFormat></fieldType>
          <fieldType name="tekst"><dataType>string</dataType>
            <nullValues><nullValue>-</nullValue></nullValues></fieldType>
        </fieldTypes>
        <flatFileTypes>
          <flatFileType name="csv"><charset>UTF-8</charset>
            <delimFileFormat><recordSeparator>LF</recordSeparator><fieldSeparatingChar>|</fieldSeparatingChar>
            </delimFileFormat></flatFileType>
        </flatFileTypes>
      </structureTypes>
    </flatFiles>
  </dataset>
</addml>
"""


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_another_tools_delimited_extract_in_a_tar(tmp_path: Path) -> None:
    data = ("nr|født|saldo|aktiv|notat\n1|05.01.1950|1 234,50|Ja|-\n2|29.02.1951|0,10|Nei|\n3||-7|Kanskje|tekst\n"
            "3|01.01.2000|5|Ja|igjen\n")
    tar = _tar(tmp_path / "pakke.tar", {"pakke/content/addml.xml": OTHER_ADDML.encode(),
                                        "pakke/content/kunde.csv": data.encode()})
    target = tmp_path / "kunde.sqlite"
    result = load(tar, str(target))
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(target)
    assert con.execute("SELECT nr, \"født\", saldo, aktiv, notat FROM kunde ORDER BY nr, notat").fetchall() == [
        (1, "1950-01-05", "1234.50", 1, None), (2, None, "0.10", 0, None), (3, "2000-01-01", "5", 1, "igjen"),
        (3, None, "-7", None, "tekst")]
    bad = con.execute("SELECT post, felt, verdi FROM uttrekk_avvik WHERE post IS NOT NULL ORDER BY post").fetchall()
    assert bad == [(2, "født", "29.02.1951"), (3, "aktiv", "Kanskje")]
    # The key the data break is reported and not declared; every row is loaded all the same.
    assert con.execute("SELECT erklaert, hvorfor FROM uttrekk_nokler WHERE type = 'primary'").fetchone() == (
        0, "1 value(s) occur more than once ([3] x 2)")
    assert "PRIMARY KEY" not in con.execute("SELECT sql FROM sqlite_master WHERE name = 'kunde'").fetchone()[0]
    assert "primary key kunde_pkey (nr) NOT declared: 1 value(s) occur more than once" in result.output
    con.close()


# --- refusals and hostile input ---

def test_target_that_holds_anything_is_refused_and_kept(example_extracts: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "brukt.sqlite"
    con = sqlite3.connect(target)
    con.execute("CREATE TABLE viktig (x)")
    con.execute("INSERT INTO viktig VALUES (42)")
    con.commit()
    con.close()
    fails(load(example_extracts["delimited"], str(target)), "is not empty", "viktig")
    con = sqlite3.connect(target)
    assert con.execute("SELECT x FROM viktig").fetchall() == [(42,)]
    con.close()
    other = tmp_path / "tekst.sqlite"
    other.write_text("ikke en database")
    fails(load(example_extracts["delimited"], str(other)), "is not a SQLite database")
    assert other.read_text() == "ikke en database"
    assert not list(tmp_path.glob(".*uttrekk-partial"))


def test_postgresql_password_never_printed(example_extracts: dict[str, Path]) -> None:
    with fresh_database("postgresql", "uttrekk_load") as url:
        run_sql(url, ["CREATE TABLE finnes (x int)"])
        target = url.set(password="hemmelig-passord").render_as_string(hide_password=False)
        out = fails(load(example_extracts["delimited"], target), "is not empty", "public.finnes")
        assert "hemmelig-passord" not in out and "***" in out


def test_lob_path_outside_the_extract_is_reported_not_read(example_extracts: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    extract = tmp_path / "x"
    shutil.copytree(example_extracts["delimited"], extract)
    secret = tmp_path / "hemmelig.bin"
    secret.write_bytes(b"hemmelig")
    doc = extract / "content" / "DOKUMENT.txt"
    text = doc.read_bytes().replace(b"lob/DOKUMENT/innhold/3.pdf", b"../../hemmelig.bin", 1)
    doc.write_bytes(text)
    target = tmp_path / "kopi.sqlite"
    result = load(extract, str(target))
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(target)
    assert con.execute('SELECT innhold, innhold_innhold FROM "DOKUMENT" WHERE id = 3').fetchone() == (
        "../../hemmelig.bin", None)
    assert con.execute("SELECT verdi, hva FROM uttrekk_avvik WHERE felt = 'innhold_innhold'").fetchone() == (
        "../../hemmelig.bin", "the path is not a file under content/; not loaded")
    con.close()


def test_tar_with_a_member_outside_is_refused(tmp_path: Path) -> None:
    tar = _tar(tmp_path / "ond.tar", {"pakke/content/addml.xml": OTHER_ADDML.encode(), "../utenfor.txt": b"x"})
    fails(load(tar, str(tmp_path / "x.sqlite")), "refusing to read the tar")
    assert not (tmp_path / "x.sqlite").exists()


def test_addml_with_a_dtd_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "dtd" / "content"
    folder.mkdir(parents=True)
    (folder / "addml.xml").write_text('<?xml version="1.0"?><!DOCTYPE addml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                      "<addml>&x;</addml>")
    fails(load(tmp_path / "dtd", str(tmp_path / "x.sqlite")), "document type declaration")
    assert not (tmp_path / "x.sqlite").exists()


def test_into_an_unsupported_url_is_one_clear_error(example_extracts: dict[str, Path]) -> None:
    fails(load(example_extracts["delimited"], "mysql://root@127.0.0.1/x"), "SQLite", "PostgreSQL")


def test_xml_table_file_with_a_dtd_is_not_read(example_extracts: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    extract = tmp_path / "x"
    shutil.copytree(example_extracts["xml"], extract)
    sak = extract / "content" / "STATUSKODE.xml"
    body = sak.read_bytes().split(b"?>", 1)[1]
    sak.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE STATUSKODE [<!ENTITY x SYSTEM '
                    b'"file:///etc/passwd">]>' + body)
    target = tmp_path / "kopi.sqlite"
    result = load(extract, str(target))
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(target)
    assert con.execute('SELECT COUNT(*) FROM "STATUSKODE"').fetchone() == (0,)
    assert con.execute("SELECT hva FROM uttrekk_avvik WHERE tabell = 'STATUSKODE'").fetchone() == (
        "the file has a document type declaration; refusing to read it",)
    # The cases that refer to the unread code table keep their values; the key is not declared.
    assert con.execute("SELECT erklaert FROM uttrekk_nokler WHERE navn = 'SAK_status_fkey'").fetchone() == (0,)
    con.close()


def test_content_folder_and_quiet(example_extracts: dict[str, Path], tmp_path: Path) -> None:
    result = load(example_extracts["fixed"] / "content", str(tmp_path / "k.sqlite"), "-q",
                  "--report", tmp_path / "r.tsv")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [f"Loaded 9 table(s), 509 row(s) into {tmp_path / 'k.sqlite'}."]
    assert (tmp_path / "r.tsv").exists()


def test_nothing_is_written_inside_the_extract_and_no_report_replaced(example_extracts: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    extract = example_extracts["delimited"]
    fails(load(extract, str(extract / "content" / "kopi.sqlite")), "inside the extract", "only reads")
    assert not (extract / "content" / "kopi.sqlite").exists()
    report = tmp_path / "gammel.tsv"
    report.write_text("en tidligere rapport")
    fails(load(extract, str(tmp_path / "ny.sqlite"), "--report", report), "does not replace it")
    assert report.read_text() == "en tidligere rapport" and not (tmp_path / "ny.sqlite").exists()


def test_postgresql_write_failure_is_one_error_and_nothing_is_left(example_extracts: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    import uuid

    role = f"uttrekk_t_{uuid.uuid4().hex[:8]}"
    with fresh_database("postgresql", "uttrekk_load") as url:
        run_sql(url, [f"CREATE ROLE {role} LOGIN"])  # PostgreSQL 15: no CREATE on schema public for others
        try:
            target = url.set(username=role, password="hemmelig-passord").render_as_string(hide_password=False)
            out = fails(load(example_extracts["delimited"], target, "--report", tmp_path / "r.tsv"),
                        "writing failed", "permission denied", "the target is left as it was")
            assert "hemmelig-passord" not in out
            assert not (tmp_path / "r.tsv").exists() and not (tmp_path / "r.tsv.partial").exists()
        finally:
            run_sql(url, [f"DROP ROLE {role}"])


# --- descriptions of every age, as validate reads them ---

def test_an_addmml7_noark3_extract_loads_by_record_type(tmp_path: Path) -> None:
    """ADDMML 7 (the Noark-3 era): the description validate reads is the one the load reads."""
    from tests.test_validate_addmml import KODE, N3, build

    extract = build(tmp_path / "n3")
    target = tmp_path / "n3.sqlite"
    result = load(extract, str(target))
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(target)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    # each record type its own table, every record of it loaded
    assert sorted(n for t, n in counts.items() if not t.startswith("uttrekk_") and not t.endswith("_koder")) == sorted(
        [sum(r.startswith("S") for r in N3), sum(r.startswith("J") for r in N3), len(KODE)])
    # the 13th month is not loaded as a date: it is in the deviations with its text
    assert con.execute("SELECT COUNT(*) FROM uttrekk_avvik WHERE verdi = '19951332'").fetchone() == (1,)
    # the journal entry of case 9, which does not exist, keeps its foreign key from being declared
    assert "NOT declared" in result.output and "e.g. 9" in result.output
    con.close()


def test_the_2016_layout_loads_as_the_extract_does(example_db: Path, tmp_path: Path) -> None:
    """A tar without a root folder whose addml.xml is in administrative_metadata/ loads like the extract."""
    from tests.test_validate_old_layouts import old_tar

    extract = tmp_path / "extract"
    result = run("extract", example_db, "--out", extract, "--profile", EXAMPLE_PROFILE, "-q", "--charset", "utf-8")
    assert result.exit_code == 0, result.output
    tar = old_tar(extract, tmp_path / "old.tar")
    target = tmp_path / "old.sqlite"
    result = load(tar, str(target))
    assert result.exit_code == 0, result.output
    assert compare(str(example_db), str(target), EXAMPLE_TABLES, EXAMPLE_KEYS) > 2000
