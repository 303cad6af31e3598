"""Issue 12, point 4: PostgreSQL large objects are archived byte for byte, on the real server.

Objects are made server-side (``lo_from_bytea``): every byte value, an empty one, one of 3 MiB
(larger than any fetch or page), NULLs, numbers that name no object, and one no column refers to.
Each extract (COPY and cursor paths, delimited and XML, one and two workers) is read back with the
independent reader and compared with the bytes ``lo_get`` gives through psycopg directly.
"""

from __future__ import annotations

import json
import random

import psycopg
import pytest
import sqlalchemy as sa

import tests.readback as rb
from tests.conftest import fails, fresh_database, run, run_sql
from tests.test_parallel_resume import same_tree

DATE = "2026-01-31"
BIG = random.Random(12).randbytes(3 * 2**20 + 17)
EVERY_BYTE = bytes(range(256)) * 3
GONE = (4_000_000_001, 4_000_000_002, 4_000_000_003)
"""Numbers that name no large object (dangling)."""

SEED = [
    "CREATE EXTENSION lo",
    "CREATE TABLE dok (id integer PRIMARY KEY, tittel text, fil lo, vedlegg oid)",
    "CREATE TABLE tall (id integer PRIMARY KEY, nummer oid)",
    "CREATE TABLE blandet (id integer PRIMARY KEY, ref oid)",
    'CREATE TABLE uten_nokkel (navn text, "oid" lo)',  # the name of pg_largeobject_metadata's column
    "CREATE SCHEMA annet",
    "CREATE TABLE annet.henvisning (o oid)",
]

PROFILE = """
[tables.blandet.columns.ref]
large_object = true
"""


def _lo(conn, data: bytes) -> int:
    return int(conn.execute(sa.text("SELECT lo_from_bytea(0, :b)"), {"b": data}).scalar_one())


@pytest.fixture(scope="module")
def source():
    with fresh_database("postgresql", "uttrekk_lo") as url:
        run_sql(url, SEED)
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            high, low = _lo(conn, b"\xff high"), _lo(conn, b"\x00 low")  # the number order is not the byte order
            dok = [(1, "alle byteverdier", _lo(conn, EVERY_BYTE), _lo(conn, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")),
                   (2, "tom", _lo(conn, b""), None),
                   (3, "stor", _lo(conn, BIG), _lo(conn, b"x")),
                   (4, "ingen", None, None),
                   (5, "borte", GONE[0], _lo(conn, b"\r\n;\"")),
                   (6, "delt", high, high)]
            conn.execute(sa.text("INSERT INTO dok VALUES (:i, :t, :f, :v)"), [dict(zip("itfv", r, strict=True)) for r in dok])
            conn.execute(sa.text("INSERT INTO tall VALUES (1, 1), (2, 99), (3, NULL), (4, 3999999999)"))
            conn.execute(sa.text("INSERT INTO blandet VALUES (1, :a), (2, :b), (3, NULL)"),
                         {"a": _lo(conn, b"blandet"), "b": GONE[2]})
            conn.execute(sa.text("INSERT INTO uten_nokkel VALUES ('a', :h), ('a', :l), ('a', :g), ('b', NULL)"),
                         {"h": high, "l": low, "g": GONE[1]})
            conn.execute(sa.text("INSERT INTO annet.henvisning VALUES (:o)"), {"o": _lo(conn, b"annet sted")})
            orphan = _lo(conn, b"foreldrelos")
        eng.dispose()
        yield url, orphan


def _url(url) -> str:
    return url.render_as_string(hide_password=False)


def _extract(source, tmp_path_factory, name: str, *args: str):
    url, _ = source
    prof = tmp_path_factory.mktemp("lo") / "p.toml"
    prof.write_text(PROFILE, encoding="utf-8")
    out = tmp_path_factory.mktemp(name) / "o"
    r = run("extract", _url(url), "--out", out, "--profile", prof, "--date", DATE, "--charset", "UTF-8", "-q", *args)
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def delimited(source, tmp_path_factory):
    return _extract(source, tmp_path_factory, "delim")


@pytest.fixture(scope="module")
def xml(source, tmp_path_factory):
    return _extract(source, tmp_path_factory, "xml", "--format", "xml")


def _source_objects(url, table: str, column: str, order: str) -> list[bytes | None]:
    """The column's objects read straight through psycopg: bytes, or None (NULL or no such object)."""
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn:
        rows = conn.execute(f"SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_largeobject_metadata m WHERE m.oid = {table}.{column}) "
                            f"THEN lo_get({table}.{column}) END FROM {table} ORDER BY {order}").fetchall()
    return [None if r[0] is None else bytes(r[0]) for r in rows]


def _check_read_back(out, url, fmt: str) -> None:
    content = out / "content"
    assert rb.validate_addml(content) == []
    tables = rb.read_addml(content / "addml.xml")
    for table, column, order in (("dok", "fil", "id"), ("dok", "vedlegg", "id"), ("blandet", "ref", "id"),
                                 ("uten_nokkel", "oid", "navn, oid")):
        got = [row[column] for row in rb.read_table(content, tables[table], fmt)]
        want = _source_objects(url, table, column, order)
        assert len(got) == len(want), (table, column)
        for recno, (path, data) in enumerate(zip(got, want, strict=True), 1):
            if data is None:
                assert path is None, (table, column, recno)
            else:
                assert (content / path).read_bytes() == data, (table, column, recno)
    listed = rb.read_table(content, tables["LOBFILER"], fmt)
    assert len(listed) == 11
    for entry in listed:
        data = (content / entry["fil"]).read_bytes()
        assert int(entry["bytes"]) == len(data) and entry["sha256"] == rb.sha256_file(content / entry["fil"])
    numbers = [row["nummer"] for row in rb.read_table(content, tables["tall"], fmt)]
    assert numbers == ["1", "99", None, "3999999999"]  # oid numbers that name no object stay numbers


def test_objects_read_back_byte_for_byte(source, delimited):
    _check_read_back(delimited, source[0], "delimited")
    content = delimited / "content"
    assert (content / "lob" / "dok" / "fil" / "3.bin").read_bytes() == BIG
    assert (content / "lob" / "dok" / "fil" / "2.bin").read_bytes() == b""
    assert (content / "lob" / "dok" / "vedlegg" / "1.pdf").exists()
    # record 1 of the keyless table is the object with the lower number, not the lower bytes
    assert (content / "lob" / "uten_nokkel" / "oid" / "1.bin").read_bytes() == b"\xff high"


def test_xml_reads_back_too(source, xml):
    _check_read_back(xml, source[0], "xml")


def test_dangling_numbers_are_reported_with_row_key_and_number(delimited):
    devs = [(d.table, d.column, d.row_key, d.action, d.detail)
            for d in rb.read_deviations(delimited / "report" / "deviations.tsv") if d.action == "large_object_missing"]
    assert devs == [
        ("blandet", "ref", "id=2", "large_object_missing", f"large object {GONE[2]} does not exist; the field is left empty"),
        ("dok", "fil", "id=5", "large_object_missing", f"large object {GONE[0]} does not exist; the field is left empty"),
        ("uten_nokkel", "oid", "uttrekk_lopenr=3", "large_object_missing",
         f"large object {GONE[1]} does not exist; the field is left empty"),
    ]
    summary = (delimited / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "1 value(s) of dok.fil name large objects that do not exist" in summary
    described = (delimited / "content" / "addml.xml").read_text(encoding="utf-8")
    assert "viser til et stort objekt (PostgreSQL large object)" in described


def test_an_oid_column_of_objects_is_found_and_said_so(delimited):
    report = json.loads((delimited / "report" / "extraction.json").read_text(encoding="utf-8"))
    said = [w for w in report["warnings"] if w.startswith("dok.vedlegg (OID): all 4 non-NULL values name existing")]
    assert len(said) == 1 and "large_object = false under [tables.dok.columns.vedlegg]" in said[0]
    assert not any(w.startswith(("tall.nummer", "dok.fil")) for w in report["warnings"])


def test_unreferenced_objects_are_listed_with_number_and_size(source, delimited):
    _, orphan = source
    report = json.loads((delimited / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert report["orphan_large_objects"] == {"count": 1, "bytes": 11, "listed": [{"oid": orphan, "bytes": 11}],
                                              "unreadable_columns": []}
    summary = (delimited / "report" / "summary.txt").read_text(encoding="utf-8")
    assert f"1 large object(s), 11 bytes, are referred to by no oid or lo column of any table in the database and " \
           f"were not archived (usually left behind by deleted rows): {orphan} (11 bytes)." in summary


def test_cursor_path_writes_the_same_bytes_as_copy(source, delimited, tmp_path_factory, monkeypatch):
    from dialects.postgresql import PostgreSQL

    monkeypatch.setattr(PostgreSQL, "use_copy", False)
    monkeypatch.setattr(PostgreSQL, "lob_fetch_size", 2)  # several fetches per table
    out = _extract(source, tmp_path_factory, "cursor")
    assert same_tree(out / "content", delimited / "content") == []


@pytest.mark.parametrize("fmt", ["delimited", "xml"])
def test_two_workers_write_the_same_bytes(source, delimited, xml, tmp_path_factory, fmt):
    out = _extract(source, tmp_path_factory, f"jobs_{fmt}", "--jobs", "2", "--format", fmt)
    assert same_tree(out / "content", (delimited if fmt == "delimited" else xml) / "content") == []


def test_objects_are_read_in_the_runs_snapshot(source):
    """An object changed after the run's snapshot began is read as it was."""
    from dialects import open_source
    from extractor.keys import settle
    from extractor.large_objects import settle_large_objects
    from extractor.pipeline import Options, reflect_and_plan
    from extractor.profile import Profile

    url, _ = source
    d = open_source(_url(url))
    writer = sa.create_engine(url)
    try:
        _, plan = reflect_and_plan(d, Profile(), Options(tables=("dok",)))
        with d.snapshot():
            tp = settle_large_objects(settle(plan, d), d).table("dok")
            assert tp.source.large_objects == ("fil", "vedlegg")
            with writer.begin() as conn:
                conn.exec_driver_sql("SELECT lo_put(fil, 0, '\\x41') FROM dok WHERE id = 1")
            rows = list(d.iter_rows(tp.source, tp.columns, tp.order_by))
        assert bytes(rows[0][tp.columns.index("fil")]) == EVERY_BYTE
    finally:
        with writer.begin() as conn:
            conn.exec_driver_sql("SELECT lo_put(fil, 0, '\\x00') FROM dok WHERE id = 1")
        writer.dispose()
        d.close()


def test_an_oid_column_of_objects_and_numbers_stops_with_the_rows_and_the_key(source, tmp_path):
    url, _ = source
    r = run("extract", _url(url), "--out", tmp_path / "o", "--table", "blandet", "-q")
    fails(r, f"tables.blandet.columns.ref: 1 of the 2 values of this oid column name existing large objects and 1 do "
             f"not (first: [id=2] {GONE[2]})", "set large_object = true", "large_object = false")
    assert not (tmp_path / "o").exists()


def test_the_profile_decides_numbers_and_refuses_a_column_that_is_no_oid(source, tmp_path):
    url, _ = source
    prof = tmp_path / "p.toml"
    prof.write_text("[tables.blandet.columns.ref]\nlarge_object = false\n", encoding="utf-8")
    r = run("extract", _url(url), "--out", tmp_path / "o", "--table", "blandet", "--profile", prof, "-q")
    assert r.exit_code == 0, r.output
    lines = (tmp_path / "o" / "content" / "blandet.txt").read_text(encoding="iso-8859-1").splitlines()
    assert lines[1] == f"2;{GONE[2]}" and not (tmp_path / "o" / "content" / "lob").exists()
    prof.write_text("[tables.dok.columns.tittel]\nlarge_object = true\n", encoding="utf-8")
    r = run("extract", _url(url), "--out", tmp_path / "x", "--table", "dok", "--profile", prof, "-q")
    fails(r, "tables.dok.columns.tittel.large_object: tittel is TEXT, not oid or lo")


def test_an_object_too_large_to_read_in_one_piece_stops_the_run_naming_it(source, tmp_path, monkeypatch):
    import extractor.large_objects as lo

    url, _ = source
    monkeypatch.setattr(lo, "LARGEST", 2**20)
    r = run("extract", _url(url), "--out", tmp_path / "o", "--table", "dok", "-q")
    fails(r, "large objects larger than 1 MiB", "dok.fil [id=3]: large object", f"{len(BIG)} bytes",
          "Exclude the column")
    assert not (tmp_path / "o").exists()


def test_inspect_shows_large_object_columns_as_files(source, tmp_path):
    url, _ = source
    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE, encoding="utf-8")
    r = run("inspect", _url(url), "--json", "--no-scan", "--profile", prof)
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    dok = next(t for t in info["tables"] if t["table"] == "dok")
    kinds = {c["name"]: c["addml_type"] for c in dok["columns"]}
    assert kinds["fil"] == kinds["vedlegg"] == "file" and kinds["tittel"] == "string"


def test_a_role_that_may_not_read_the_objects_gets_one_clear_error(source, tmp_path):
    """The objects' own privileges apply: an unreadable one stops the run naming the column and the
    grant; an unreadable orphan is listed without its size."""
    import uuid

    url, orphan = source
    role = f"uttrekk_leser_{uuid.uuid4().hex[:8]}"
    run_sql(url, [f"CREATE ROLE {role} LOGIN", f"GRANT USAGE ON SCHEMA annet TO {role}",
                  f"GRANT SELECT ON ALL TABLES IN SCHEMA public, annet TO {role}"])
    try:
        limited = _url(url.set(username=role))
        r = run("extract", limited, "--out", tmp_path / "o", "--table", "dok", "-q")
        fails(r, "measuring the large objects of dok.fil failed: permission denied for large object",
              "GRANT SELECT ON LARGE OBJECT")
        r = run("extract", limited, "--out", tmp_path / "t", "--table", "tall", "-q")
        assert r.exit_code == 0, r.output
        report = json.loads((tmp_path / "t" / "report" / "extraction.json").read_text(encoding="utf-8"))
        assert report["orphan_large_objects"]["listed"] == [{"oid": orphan, "bytes": None}]
        assert "1 this role may not read (size unknown)" in r.output
    finally:
        run_sql(url, [f"DROP OWNED BY {role}", f"DROP ROLE {role}"])
