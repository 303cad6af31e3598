"""Code lists from the source's own declarations: enum types, domains, CHECK … IN, on real servers.

The code lists are read back from addml.xml with lxml (not through uttrekk), and values outside a
list (possible where the engine did not enforce it) are kept and reported.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from lxml import etree

import tests.readback as rb
from tests.conftest import make_db, run

NS = {"a": "http://www.arkivverket.no/standarder/addml"}
PG_ADMIN = os.environ.get("UTTREKK_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("UTTREKK_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")


def codes_of(content, table: str) -> dict[str, list[str]]:
    """Field name -> code values, for the fields of one table that have a code list."""
    doc = etree.parse(str(content / "addml.xml"))
    out = {}
    for fd in doc.iterfind(f".//a:flatFileDefinition[@name='{table}']//a:fieldDefinition", NS):
        codes = fd.findall("a:codes/a:code", NS)
        if codes:
            out[fd.get("name")] = [c.get("codeValue") for c in codes]
            assert all(c.get("explan") is None for c in codes)  # the source gives no explanations
    return out


def processes_of(content, table: str, field: str) -> list[str]:
    doc = etree.parse(str(content / "addml.xml"))
    fps = doc.iterfind(f".//a:flatFileProcesses[@flatFileReference='{table}']//a:fieldProcesses[@definitionReference='{field}']"
                       "/a:processes/a:process", NS)
    return [p.get("name") for p in fps]


def _fresh(admin_url: str, create: str):
    admin = sa.engine.make_url(admin_url)
    name = f"uttrekk_c_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql(create.format(name=name))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"test server not reachable ({exc.orig}); run scripts/test-services.sh")
    return eng, name, admin.set(database=name)


def test_postgresql_enum_domain_and_check_in_become_code_lists(tmp_path):
    eng, name, url = _fresh(PG_ADMIN, "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    try:
        src = sa.create_engine(url)
        with src.begin() as conn:
            conn.exec_driver_sql("CREATE TYPE status AS ENUM ('ny', 'åpen', 'lukket')")
            conn.exec_driver_sql("CREATE DOMAIN kjonn AS varchar(1) CHECK (VALUE IN ('M', 'K'))")
            conn.exec_driver_sql("CREATE DOMAIN postnr AS char(4) CHECK (VALUE ~ '^[0-9]{4}$')")
            conn.exec_driver_sql("""CREATE TABLE sak (id int PRIMARY KEY, status status NOT NULL, kjonn kjonn,
                                    postnr postnr, prioritet int CHECK (prioritet IN (1, 2, 3)),
                                    type varchar(2) CHECK (type IN ('A', 'B')), belop int CHECK (belop > 0))""")
            conn.exec_driver_sql("INSERT INTO sak VALUES (1, 'åpen', 'K', '0150', 2, 'A', 10), "
                                 "(2, 'ny', NULL, NULL, NULL, NULL, NULL)")
        src.dispose()
        out = tmp_path / "o"
        r = run("extract", url.render_as_string(hide_password=False), "--out", out, "-q")
        assert r.exit_code == 0, r.output
        content = out / "content"
        assert rb.validate_addml(content) == []
        assert codes_of(content, "sak") == {"status": ["ny", "åpen", "lukket"], "kjonn": ["M", "K"],
                                            "prioritet": ["1", "2", "3"], "type": ["A", "B"]}
        assert "Control_Codes" in processes_of(content, "sak", "status")
        addml = (content / "addml.xml").read_text(encoding="utf-8")
        assert "Kodelisten er hentet fra enum-typen status i kildedatabasen." in addml
        assert "Kodelisten er hentet fra domenet kjonn" in addml
        assert "CHECK-regelen sak_prioritet_check" in addml
        rows = rb.read_table(content, rb.read_addml(content / "addml.xml")["sak"], "delimited")
        assert [(r["status"], r["kjonn"], r["postnr"]) for r in rows] == [("åpen", "K", "0150"), ("ny", None, None)]
        assert "not in its code list" not in (out / "report" / "summary.txt").read_text(encoding="utf-8")
    finally:
        with eng.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        eng.dispose()


def test_mariadb_enum_set_and_check_in_and_values_outside_the_list(tmp_path):
    eng, name, url = _fresh(MARIADB_ADMIN, "CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        src = sa.create_engine(url)
        with src.begin() as conn:
            conn.exec_driver_sql("""CREATE TABLE sak (id int PRIMARY KEY, status ENUM('ny','åpen','lukket') NOT NULL,
                                    tilgang SET('les','skriv'), type varchar(2) CHECK (type IN ('A','B')))""")
            conn.exec_driver_sql("SET SESSION sql_mode = ''")  # a lax legacy server: a bad ENUM value is stored as ''
            conn.exec_driver_sql("INSERT INTO sak VALUES (1, 'åpen', 'les,skriv', 'A'), (2, 'feil', '', 'B'), "
                                 "(3, 'ny', NULL, NULL)")
        src.dispose()
        out = tmp_path / "o"
        r = run("extract", url.render_as_string(hide_password=False), "--out", out, "-q")
        assert r.exit_code == 0, r.output
        content = out / "content"
        assert codes_of(content, "sak") == {"status": ["ny", "åpen", "lukket"], "type": ["A", "B"]}  # SET: no list
        rows = rb.read_table(content, rb.read_addml(content / "addml.xml")["sak"], "delimited")
        assert [r["status"] for r in rows] == ["åpen", "", "ny"]  # kept as the source holds it
        assert [r["tilgang"] for r in rows] == ["les,skriv", "", None]
        devs = (out / "report" / "deviations.tsv").read_text(encoding="utf-8")
        assert "kolonne status: 1 verdi(er) finnes ikke i kodelisten (første: id=2: '')" in devs
        summary = (out / "report" / "summary.txt").read_text(encoding="utf-8")
        assert "A.22 (Control_Codes) will report 1 value(s) of sak.status" in summary
    finally:
        with eng.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        eng.dispose()


def test_sqlite_check_in_becomes_a_code_list(tmp_path):
    db = make_db(tmp_path / "c.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT CHECK (s IN ('J', 'N', 'U')), "
                                         "n INTEGER CHECK (n > 0))", {"t": [(1, "J", 3), (2, None, None)]})
    r = run("extract", db, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    assert codes_of(tmp_path / "o" / "content", "t") == {"s": ["J", "N", "U"]}


@pytest.mark.parametrize(("sqltext", "expected"), [
    ("n = ANY (ARRAY[1, 2, 3])", ("n", ("1", "2", "3"))),
    ("((v)::text = ANY ((ARRAY['A'::character varying, 'B'::character varying])::text[]))", ("v", ("A", "B"))),
    ("VALUE::text = ANY (ARRAY['M'::character varying, 'K'::character varying]::text[])", ("VALUE", ("M", "K"))),
    ("w = ANY (ARRAY['x'::text, 'y]'::text])", ("w", ("x", "y]"))),
    ("`v` in ('A','B')", ("v", ("A", "B"))),
    ("v IN ('A', 'it''s')", ("v", ("A", "it's"))),
    ("(STATUS IN ('A','B'))", ("STATUS", ("A", "B"))),  # Oracle keeps the text as written
    ("([type]='B' OR [type]=N'A')", ("type", ("B", "A"))),  # SQL Server's rewrite of IN
    ("status IN ('A','B') AND x > 1", None),
    ("n > 0", None),
    ("VALUE ~ '^[0-9]{4}$'::text", None),
    ("a IN (b, c)", None),
    ("(a IN ('x')) OR (b IN ('y'))", None),
    ("([a]='x' OR [b]='y')", None),
    ("([type]='B' OR [type] like 'A%')", None),
    ("v NOT IN ('A', 'B')", None),
])
def test_only_exact_single_column_in_lists_are_read(sqltext, expected):
    from dialects.checks import in_list

    assert in_list(sqltext) == expected
