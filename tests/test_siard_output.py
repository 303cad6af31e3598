"""--format siard on real sources: the SIARD file read back with an independent reader (zipfile and
lxml here, no uttrekk code) and compared value by value with the source; metadata.xml and every
table file valid against their schemas; the message digest; the same bytes on a rerun and after
an interrupted run is resumed; large objects inside the file and beside it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import urllib.parse
import zipfile
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from tests.conftest import EXAMPLE_PROFILE, fresh_database, run

SIARD_XSD = Path(__file__).resolve().parent.parent / "extractor" / "schemas" / "siard-2.2-metadata.xsd"
SHARED_XSD = Path("/work/shared/standards/siard/metadata-2.2.xsd")
M = "{http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd}"
T = "{http://www.bar.admin.ch/xmlns/siard/2/table.xsd}"
DATE = "2026-01-31"
SAFE = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=True)

LONG = "lang tekst æøå " * 300  # past the default inline limit of 2047 characters
TEXTS = ["Ærlig & <Ola> \"sitat\" 'x'", "", "  to  mellomrom  ", "linje1\r\nlinje2\rslutt\n", "back\\slash \\u0041",
         "kontroll\x01\x07\x0b\x0c\x1f\x7f\x85\x9f", "emoji 😀 og € – tegn", LONG, None]
BLOBS = [b"", b"\x00\x01\xff", b"%PDF-1.4 " + bytes(range(256)) * 20, None]


XSD_OF = {"INTEGER": "xs:integer", "BIGINT": "xs:integer", "SMALLINT": "xs:integer", "DECIMAL": "xs:decimal",
          "REAL": "xs:float", "DOUBLE PRECISION": "xs:double", "DATE": "dateType", "TIMESTAMP": "dateTimeType",
          "TIMESTAMP WITH TIME ZONE": "dateTimeType", "TIME": "timeType", "BOOLEAN": "xs:boolean",
          "VARCHAR": "xs:string", "CHARACTER": "xs:string", "CLOB": "clobType", "BLOB": "blobType"}
"""SQL:2008 type -> XML type, as the specification's table in P_4.3-3 maps them."""


# -- an independent reader ------------------------------------------------------------------------

def unescape(text: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), text)


class Siard:
    """A SIARD file read with zipfile and lxml only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path)
        self.metadata = etree.fromstring(self.zip.read("header/metadata.xml"), SAFE)

    def tables(self) -> list[etree._Element]:
        return list(self.metadata.iter(f"{M}table"))

    def table(self, name: str) -> etree._Element:
        return next(t for t in self.tables() if t.findtext(f"{M}name") == name)

    def columns(self, name: str) -> list[str]:
        return [c.findtext(f"{M}name") for c in self.table(name).iter(f"{M}column") if c.getparent().tag == f"{M}columns"]

    def member(self, name: str) -> str:
        return f"content/schema0/{self.table(name).findtext(f'{M}folder')}/{self.table(name).findtext(f'{M}folder')}"

    def rows(self, name: str) -> list[dict[str, Any]]:
        """Each row as {column: str | bytes | None}; LOB cells read from their files and checked."""
        cols = self.columns(name)
        types = [c.findtext(f"{M}type") for c in self.table(name).iter(f"{M}column")
                 if c.getparent().tag == f"{M}columns"]
        out = []
        root = etree.fromstring(self.zip.read(self.member(name) + ".xml"), SAFE)
        for row in root.iter(f"{T}row"):
            values: dict[str, Any] = dict.fromkeys(cols)
            for cell in row:
                i = int(cell.tag.split("}c")[1]) - 1
                values[cols[i]] = self.cell(cell, types[i])
            out.append(values)
        return out

    def cell(self, cell: etree._Element, sql_type: str) -> Any:
        if cell.get("file") is not None:
            data = self.lob(cell.get("file"))
            assert hashlib.sha256(data).hexdigest() == cell.get("digest") and cell.get("digestType") == "SHA-256"
            if sql_type == "BLOB":
                assert len(data) == int(cell.get("length"))
                return data
            text = data.decode("utf-8")
            assert len(text) == int(cell.get("length"))
            return text
        text = cell.text or ""
        if sql_type == "BLOB":
            return bytes.fromhex(text)
        return unescape(text)

    def lob(self, uri: str) -> bytes:
        path = urllib.parse.unquote(uri)
        if path.startswith("../"):  # beside the SIARD file: relative to the folder that holds it
            return (self.path.parent / PurePosixPath(path[3:])).read_bytes()
        return self.zip.read(path)


def check_valid(s: Siard) -> None:
    schema = etree.XMLSchema(etree.parse(str(SIARD_XSD), SAFE))
    assert schema.validate(s.metadata), schema.error_log
    names = s.zip.namelist()
    assert names[0] == "content/" and "header/siardversion/2.2/" in names
    assert all(n.startswith(("content/", "header/")) for n in names)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*(\.[a-z]+)?", part)  # P_4.2-6 (2.2/ is P_4.2-4's own)
               for n in names if not n.startswith("header/siardversion/") for part in n.rstrip("/").split("/"))
    for t in s.tables():
        folder = t.findtext(f"{M}folder")
        xsd = etree.XMLSchema(etree.fromstring(s.zip.read(f"content/schema0/{folder}/{folder}.xsd"), SAFE))
        doc = etree.fromstring(s.zip.read(f"content/schema0/{folder}/{folder}.xml"), SAFE)
        assert xsd.validate(doc), (folder, xsd.error_log)
        assert len(doc) == int(t.findtext(f"{M}rows"))
        # P_4.3-2/3/7/8: the XSD's cells are metadata.xml's columns, in order, typed and nullable alike
        XS = "{http://www.w3.org/2001/XMLSchema}"
        xsd_doc = etree.fromstring(s.zip.read(f"content/schema0/{folder}/{folder}.xsd"), SAFE)
        record = next(c for c in xsd_doc.iter(f"{XS}complexType") if c.get("name") == "recordType")
        cells = list(record.iter(f"{XS}element"))
        columns = [c for c in t.iter(f"{M}column") if c.getparent().tag == f"{M}columns"]
        assert [c.get("name") for c in cells] == [f"c{i}" for i in range(1, len(columns) + 1)]
        for cell, col in zip(cells, columns, strict=True):
            assert (cell.get("minOccurs") == "0") == (col.findtext(f"{M}nullable") == "true")
            sql = col.findtext(f"{M}type").split("(")[0]
            assert cell.get("type") == XSD_OF[sql], (sql, cell.get("type"))
    # the message digest: SHA-256 of the bytes before the header/ entry
    info = s.zip.getinfo("header/")
    with open(s.path, "rb") as fh:
        head = fh.read(info.header_offset)
    assert s.metadata.findtext(f"{M}messageDigest/{M}digest") == hashlib.sha256(head).hexdigest()


def extract(source: str | Path, out: Path, *extra: str) -> Siard:
    r = run("extract", source, "--out", out, "--format", "siard", "--date", DATE, "-q", *extra)
    assert r.exit_code == 0, r.output
    found = list((out / "content").glob("*.siard"))
    assert len(found) == 1 and not (out / "content" / "addml.xml").exists()
    s = Siard(found[0])
    check_valid(s)
    return s


# -- the sources ----------------------------------------------------------------------------------

def _seed(url: sa.engine.URL, engine: str) -> None:
    blob = {"sqlite": "BLOB", "postgresql": "BYTEA", "mariadb": "LONGBLOB"}[engine]
    text = "LONGTEXT" if engine == "mariadb" else "TEXT"
    ts = "TIMESTAMP(6)" if engine == "mariadb" else "TIMESTAMP"
    stmts = [
        f"CREATE TABLE kunde (id INTEGER PRIMARY KEY, navn VARCHAR(40), notat {text}, bilde {blob}, "
        f"belop NUMERIC(12,3), maal DOUBLE PRECISION, fodt DATE, tid {ts} NULL, aktiv BOOLEAN)",
        "CREATE TABLE ordre (nr INTEGER PRIMARY KEY, kunde_id INTEGER REFERENCES kunde(id), tekst VARCHAR(20))",
        'CREATE TABLE "rar tabell" ("kolonne med mellomrom" VARCHAR(30), "Æøå" INTEGER)' if engine != "mariadb" else
        "CREATE TABLE `rar tabell` (`kolonne med mellomrom` VARCHAR(30), `Æøå` INTEGER)",
    ]
    if engine == "postgresql":
        stmts.append("CREATE TABLE soner (id INTEGER PRIMARY KEY, t TIMESTAMPTZ, u UUID, j JSONB, k TIME, r REAL, "
                     "n NUMERIC, s SMALLINT, b BIGINT)")
    stmts.append("CREATE TABLE tom (id INTEGER PRIMARY KEY, x VARCHAR(5))")
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        for s in stmts:
            conn.exec_driver_sql(s)
        conv = str if engine == "sqlite" else (lambda d: d)
        ins = sa.text("INSERT INTO kunde VALUES (:id, :navn, :notat, :bilde, :belop, :maal, :fodt, :tid, :aktiv)")
        for i in range(12):
            conn.execute(ins, {"id": i + 1, "navn": ["Ola", "", None, "Kari Ærlig"][i % 4],
                               "notat": TEXTS[i % len(TEXTS)], "bilde": BLOBS[i % len(BLOBS)],
                               "belop": [conv(Decimal("12.500")), conv(Decimal("-0.001")), None][i % 3],
                               "maal": [0.1, -1e-7, 12345.678, None][i % 4],
                               "fodt": [dt.date(1901, 2, 3), dt.date(2024, 2, 29), None][i % 3],
                               "tid": [dt.datetime(2020, 1, 2, 3, 4, 5, 123456), dt.datetime(1999, 12, 31, 23, 59, 59),
                                       None][i % 3],
                               "aktiv": [True, False, None][i % 3]})
        conn.execute(sa.text("INSERT INTO ordre VALUES (10, 1, 'a'), (11, 3, NULL), (12, NULL, '')"))
        q = '"' if engine != "mariadb" else "`"
        conn.exec_driver_sql(f"INSERT INTO {q}rar tabell{q} VALUES ('  a  ', 1), ('b', 2)")
        if engine == "postgresql":
            conn.exec_driver_sql("SET TIME ZONE 'Europe/Oslo'")
            conn.exec_driver_sql("INSERT INTO soner VALUES (1, '2024-06-01 12:00:00.5+02', "
                                 "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '23:59:59.25', 0.1, "
                                 "123456789012345678901234567890.000000001, -32768, 9223372036854775807), "
                                 "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
    eng.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def source(request, tmp_path_factory):
    engine = request.param
    if engine == "sqlite":
        path = tmp_path_factory.mktemp("siard") / "kilde.sqlite"
        _seed(sa.engine.make_url(f"sqlite:///{path}"), engine)
        yield engine, str(path), sa.engine.make_url(f"sqlite:///{path}")
        return
    with fresh_database(engine, "uttrekk_siard") as url:
        _seed(url, engine)
        yield engine, url.render_as_string(hide_password=False), url


def _source_rows(url: sa.engine.URL, table: str, key: str | None) -> list[dict[str, Any]]:
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        t = sa.Table(table, sa.MetaData(), autoload_with=conn)
        query = sa.select(t).order_by(*(t.c[key],) if key else tuple(t.c))
        rows = [dict(r._mapping) for r in conn.execute(query)]
    eng.dispose()
    return rows


def same(archived: Any, value: Any) -> bool:
    """The archived text (or bytes) stands for exactly the source's value."""
    if value is None or archived is None:
        return value is None and archived is None
    if isinstance(value, bool):
        return archived == ("true" if value else "false")
    if isinstance(value, int):
        if archived in ("true", "false"):  # MariaDB's BOOLEAN is TINYINT(1): 0 and 1, archived as a boolean
            return value in (0, 1) and archived == ("true" if value else "false")
        return Decimal(archived) == value
    if isinstance(value, Decimal):
        return Decimal(archived) == value
    if isinstance(value, float):
        return float(archived) == value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return archived.endswith("Z") and dt.datetime.fromisoformat(archived[:-1] + "+00:00") == value
        return dt.datetime.fromisoformat(archived) == value
    if isinstance(value, dt.date):
        return dt.date.fromisoformat(archived) == value
    if isinstance(value, dt.time):
        return dt.time.fromisoformat(archived) == value
    if isinstance(value, bytes | memoryview | bytearray):
        return archived == bytes(value)
    if isinstance(value, dict | list):
        return json.loads(archived) == value
    return archived == str(value)


def test_every_value_read_back_equals_the_source(source, tmp_path):
    engine, given, url = source
    s = extract(given, tmp_path / "o")
    tables = {"kunde": "id", "ordre": "nr", "rar tabell": None, "tom": "id",
              **({"soner": "id"} if engine == "postgresql" else {})}
    assert {t.findtext(f"{M}name") for t in s.tables()} == set(tables)
    compared = 0
    for name, key in tables.items():
        archived = s.rows(name)
        expected = _source_rows(url, name, key)
        if key is None:  # no key: uttrekk proves one from the data and orders by it
            archived.sort(key=lambda r: tuple(str(v) for v in r.values()))
            expected.sort(key=lambda r: tuple(str(v) for v in r.values()))
        assert len(archived) == len(expected) == int(s.table(name).findtext(f"{M}rows"))
        for a, e in zip(archived, expected, strict=True):
            for column, value in e.items():
                assert same(a[column], value), (name, column, a[column], value)
                compared += 1
    assert compared > 100
    assert int(s.table("tom").findtext(f"{M}rows")) == 0
    # NULL and empty text stay apart; the long text and the big binary are files inside the archive
    notes = {int(r["id"]): r["notat"] for r in s.rows("kunde")}
    assert notes[2] == "" and notes[9] is None and notes[8] == LONG
    kunde = s.zip.read(s.member("kunde") + ".xml").decode("utf-8")
    assert 'file="content/schema0/' in kunde and "\\u005C" in kunde and "&#13;" in kunde
    assert any(n.endswith(".pdf") or n.endswith(".bin") for n in s.zip.namelist())
    assert not (tmp_path / "o" / "content" / "lob").exists()


def test_keys_relations_and_descriptions(source, tmp_path):
    engine, given, _ = source
    s = extract(given, tmp_path / "o")
    kunde = s.table("kunde")
    assert kunde.findtext(f"{M}primaryKey/{M}column") == "id"
    fk = s.table("ordre").find(f"{M}foreignKeys/{M}foreignKey")
    assert fk.findtext(f"{M}referencedTable") == "kunde" and fk.findtext(f"{M}reference/{M}column") == "kunde_id"
    assert "deklarert i kilden" in fk.findtext(f"{M}description")
    odd = s.table("rar tabell")  # no declared key: the one proven in the data is a candidate key, said so
    assert odd.find(f"{M}primaryKey") is None
    cand = odd.find(f"{M}candidateKeys/{M}candidateKey")
    assert "funnet av uttrekket" in cand.findtext(f"{M}description")
    types = dict(zip(s.columns("kunde"), [c.findtext(f"{M}type") for c in kunde.iter(f"{M}column")
                                          if c.getparent().tag == f"{M}columns"], strict=True))
    assert types["bilde"] == "BLOB" and types["notat"] == "CLOB" and types["fodt"] == "DATE"
    assert types["belop"] == "DECIMAL(12, 3)" and types["navn"] == "VARCHAR(40)"


def test_profile_relations_and_code_lists_in_the_metadata(example_db, lob_db, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text('[[tables.a_dok.foreign_keys]]\ncolumns = ["id"]\nreferences = "b_stor"\nconfirmed = true\n',
                       encoding="utf-8")
    s = extract(lob_db, tmp_path / "lob", "--profile", profile)
    fk = s.table("a_dok").find(f"{M}foreignKeys/{M}foreignKey")
    assert fk.findtext(f"{M}referencedTable") == "b_stor"
    assert "bekreftet av en person i uttrekksprofilen" in fk.findtext(f"{M}description")
    s = extract(example_db, tmp_path / "o", "--profile", EXAMPLE_PROFILE)
    assert any("Kodeliste:" in (c.findtext(f"{M}description") or "") for c in s.metadata.iter(f"{M}column"))
    report = json.loads((tmp_path / "o" / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert report["siard"]["sha256"] == hashlib.sha256(s.path.read_bytes()).hexdigest()
    for t in report["tables"]:
        member = t["file"].split("/", 1)[1]
        assert hashlib.sha256(s.zip.read(member)).hexdigest() == t["sha256"]


def test_the_same_bytes_on_a_rerun(example_db, tmp_path):
    a = extract(example_db, tmp_path / "a", "--profile", EXAMPLE_PROFILE)
    b = extract(example_db, tmp_path / "b", "--profile", EXAMPLE_PROFILE)
    assert a.path.read_bytes() == b.path.read_bytes()


@pytest.fixture(scope="module")
def lob_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("lobs") / "lobs.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE a_dok (id INTEGER PRIMARY KEY, navn TEXT, innhold BLOB, tekst TEXT)")
    con.executemany("INSERT INTO a_dok VALUES (?,?,?,?)",
                    [(i, f"dok {i}", bytes([i % 256]) * (i * 100), "t" * (i * 700) if i % 3 == 0 else "kort")
                     for i in range(1, 40)])
    con.execute("CREATE TABLE b_stor (id INTEGER PRIMARY KEY, tekst TEXT)")
    con.executemany("INSERT INTO b_stor VALUES (?,?)", ((i, f"rad {i}") for i in range(20000)))
    con.commit()
    con.close()
    return db


def test_large_objects_past_the_threshold_stay_beside_the_file(lob_db, tmp_path):
    s = extract(lob_db, tmp_path / "o", "--lobs-outside", "2000")
    rows = s.rows("a_dok")
    xml = s.zip.read(s.member("a_dok") + ".xml").decode("utf-8")
    assert 'file="../lob/a_dok/' in xml and 'file="content/schema0/' in xml
    beside = list((tmp_path / "o" / "content" / "lob").rglob("*"))
    assert beside and all(p.stat().st_size >= 2000 for p in beside if p.is_file())
    con = sqlite3.connect(lob_db)
    for row, (i, navn, innhold, tekst) in zip(rows, con.execute("SELECT * FROM a_dok ORDER BY id"), strict=True):
        assert (row["id"], row["navn"], row["innhold"], row["tekst"]) == (str(i), navn, innhold, tekst)
    report = json.loads((tmp_path / "o" / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert report["siard"]["lobs_outside"] == len([p for p in beside if p.is_file()])
    assert report["siard"]["lobs_inside"] > 0


def test_resume_after_an_interruption_gives_the_same_bytes(lob_db, tmp_path, monkeypatch):
    from dialects.sqlite import SQLite
    from extractor.errors import SourceError

    whole = extract(lob_db, tmp_path / "whole")
    real = SQLite.iter_rows

    def failing(self, table, columns, order_by):
        for n, row in enumerate(real(self, table, columns, order_by)):
            if table.name == "b_stor" and n == 5000:
                raise SourceError("reading table b_stor failed: connection lost")
            yield row

    monkeypatch.setattr(SQLite, "iter_rows", failing)
    out = tmp_path / "o"
    r = run("extract", lob_db, "--out", out, "--format", "siard", "--date", DATE, "-q")
    assert r.exit_code != 0 and "--resume" in r.output and not out.exists()
    monkeypatch.setattr(SQLite, "iter_rows", real)
    r = run("extract", lob_db, "--out", out, "--format", "siard", "--date", DATE, "-q", "--resume")
    assert r.exit_code == 0, r.output
    assert "Resumed: 1 table(s) reused" in r.output
    assert (out / "content" / "database.siard").read_bytes() == whole.path.read_bytes()


def test_siard_refuses_another_charset_and_lobs_outside_needs_siard(lob_db, tmp_path):
    r = run("extract", lob_db, "--out", tmp_path / "a", "--format", "siard", "--charset", "ISO-8859-1", "-q")
    assert r.exit_code != 0 and "always UTF-8" in r.output and "Traceback" not in r.output
    r = run("extract", lob_db, "--out", tmp_path / "b", "--lobs-outside", "10", "-q")
    assert r.exit_code != 0 and "--format siard" in r.output and "Traceback" not in r.output


def test_bundled_schema_is_the_published_one():
    if SHARED_XSD.exists():
        assert SIARD_XSD.read_bytes() == SHARED_XSD.read_bytes()
    assert hashlib.sha256(SIARD_XSD.read_bytes()).hexdigest() == (
        "b5eea6ce3cb0498fedeadbf78fcc8e91c6581201caa8afe319ea5db2c71a8f13")


UUID = "3f2b8c1e-6a4d-4f7e-9b1a-2c5d8e0f1a3b"


def test_package_carries_the_siard_file_as_arkade_does_and_validates(lob_db, tmp_path):
    import tarfile

    s = extract(lob_db, tmp_path / "o", "--lobs-outside", "2000", "--archive-creator", "Testkommune",
                "--system-name", "Dokumentsystem", "--period", "2001..2020")
    assert s.path.name == "Dokumentsystem.siard"
    r = run("package", tmp_path / "o", "--out", tmp_path / "pk", "--uuid", UUID)
    assert r.exit_code == 0, r.output
    tar_path = tmp_path / "pk" / f"{UUID}.tar"
    with tarfile.open(tar_path) as tar:
        names = tar.getnames()
        root = f"{UUID}/"
        assert tar.extractfile(root + "content/Dokumentsystem.siard").read() == s.path.read_bytes()
        assert tar.extractfile(root + "administrative_metadata/metadata.xml").read() == s.zip.read("header/metadata.xml")
        assert tar.extractfile(root + "administrative_metadata/metadata.xsd").read() == SIARD_XSD.read_bytes()
        assert not any(n.endswith("addml.xml") for n in names)
        beside = [n for n in names if n.startswith(root + "content/lob/") and tar.getmember(n).isfile()]
        assert beside and len(beside) == json.loads(
            (tmp_path / "o" / "report" / "extraction.json").read_text(encoding="utf-8"))["siard"]["lobs_outside"]
    info = etree.parse(str(tmp_path / "pk" / f"{UUID}.xml"), SAFE)
    producer = [a for a in info.iter("{http://www.loc.gov/METS/}agent")
                if a.get("OTHERROLE") == "PRODUCER" and a.get("OTHERTYPE") == "SOFTWARE"]
    notes = [n.text for n in producer[0].iter("{http://www.loc.gov/METS/}note")]
    assert "SIARD" in notes and not any("fagsystem" in n.lower() for n in notes)  # Arkade: the tar is SIARD
    r = run("validate", tar_path)
    assert r.exit_code == 0, r.output
    assert "D.04" in r.output and "SIARD file Dokumentsystem.siard" in r.output
    r = run("validate", tmp_path / "o")
    assert r.exit_code == 0, r.output


def test_package_refuses_a_siard_file_changed_after_the_extract(lob_db, tmp_path):
    s = extract(lob_db, tmp_path / "o", "--archive-creator", "Testkommune", "--system-name", "Dok")
    data = bytearray(s.path.read_bytes())
    data[100] ^= 1
    s.path.write_bytes(bytes(data))
    r = run("package", tmp_path / "o", "--out", tmp_path / "pk", "--uuid", UUID)
    assert r.exit_code != 0 and "changed after 'uttrekk extract'" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "pk" / f"{UUID}.tar").exists()


def test_parallel_workers_write_the_same_bytes(source, tmp_path):
    engine, given, _ = source
    if engine != "postgresql":
        pytest.skip("--jobs shares one snapshot on PostgreSQL")
    one = extract(given, tmp_path / "one")
    two = extract(given, tmp_path / "two", "--jobs", "2")
    assert one.path.read_bytes() == two.path.read_bytes()


def test_an_oversized_or_missing_header_member_is_refused(tmp_path):
    from extractor.dias.siard_content import MAX_HEADER_BYTES, header_member
    from extractor.errors import ConfigError

    bomb = tmp_path / "bomb.siard"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("header/metadata.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range((MAX_HEADER_BYTES >> 20) + 1):
                fh.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ConfigError, match="MiB a header may have"):
        header_member(bomb, "header/metadata.xml")
    with pytest.raises(ConfigError, match="has no header/metadata.xsd"):
        header_member(bomb, "header/metadata.xsd")
    cut = tmp_path / "cut.siard"
    cut.write_bytes(bomb.read_bytes()[:1000])
    with pytest.raises(ConfigError, match="cannot be read as a ZIP file"):
        header_member(cut, "header/metadata.xml")

