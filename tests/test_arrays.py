"""Arrays archived faithfully (issue 12, point 6): each array column is a child table, one record per
element with the parent's key and the source's own index per dimension; the parent keeps the number
of elements (empty for a NULL array, 0 for an empty one). Array columns uttrekk cannot archive are
refused by column, never written as something else.

The expected elements are read from the source by the drivers themselves (psycopg's lists with
``array_lower`` for the bounds; firebird-driver's own array reading, ``isc_array_get_slice``), not by
uttrekk's server-side unnesting, and the extract is read back with ``tests/readback.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tests.readback as rb
from tests.conftest import fails, fresh_database, run, run_sql
from tests.test_parallel_resume import same_tree

DATE = "2026-01-31"
METADATA = ('[metadata]\narchive_creator = "Eksempel kommune"\nsystem_name = "Måling"\n'
            'period_start = 2020-01-01\nperiod_end = 2020-12-31\n')
"""What the Arkivverket profile asks of every extract (``validate`` checks it)."""


def _metadata(tmp_path: Path) -> Path:
    path = tmp_path / "metadata.toml"
    path.write_text(METADATA, encoding="utf-8")
    return path

PG_DDL = [
    "CREATE TABLE maaling (id integer PRIMARY KEY, tall integer[], navn text[], belop numeric(9,2)[], datoer date[], "
    "matrise integer[][])",
    "COMMENT ON COLUMN maaling.navn IS 'Navn på de som målte'",
    """INSERT INTO maaling VALUES
       (1, '{1,2,3}', '{"Åse","Čuđežáš",NULL,""}', '{1.50,-0.25,NULL}', '{2020-02-29,NULL}', '{{1,2},{3,4}}'),
       (2, '[0:2]={10,NULL,30}', '{}', NULL, '[-1:0]={1999-12-31,2000-01-01}', '[2:3][0:1]={{5,6},{7,8}}'),
       (3, NULL, NULL, '{}', NULL, NULL),
       (4, '{NULL}', '{"semi;kolon","sitat \\"x\\""}', '[5:5]={12345.67}', '{}', '{{9}}')""",
    "CREATE TABLE logg (tekst text, tall integer[])",  # no key, no unique column
    """INSERT INTO logg VALUES ('a', '{1,2}'), ('a', '{2,1}'), ('a', '[0:1]={1,2}'), ('a', '{1,2}'), ('b', NULL),
       ('b', '{}'), (NULL, '{NULL}'), ('c', '{3}')""",
]
PG_ARRAYS = {"maaling": ("tall", "navn", "belop", "datoer", "matrise"), "logg": ("tall",)}


def _text(value: Any, fmt: str) -> str | None:
    """The archive's text of a driver value (written here, independently of uttrekk's renderers)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ("true" if value else "false") if fmt == "xml" else ("J" if value else "N")
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", "." if fmt == "xml" else ",")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def elements(value: Any, lowers: list[int]) -> dict[tuple[int, ...], Any]:
    """Index tuple (the source's own indices) -> element, from a driver's nested lists."""
    if value is None or not lowers:  # NULL, or an empty array (PostgreSQL's has no dimensions)
        return {}
    out: dict[tuple[int, ...], Any] = {}

    def walk(v: Any, at: tuple[int, ...]) -> None:
        if len(at) == len(lowers):
            out[at] = v
            return
        for pos, item in enumerate(v):
            walk(item, (*at, lowers[len(at)] + pos))
    walk(value, ())
    return out


def _same(got: Any, want: str | None) -> bool:
    """A fixed-width text of all blanks without a length field stands for NULL or ''."""
    return got == want or (got is rb.BLANK and want in (None, ""))


def _unnested(content: Path, tables: dict[str, rb.TableDesc], child: str, fmt: str) -> dict[tuple, list[Any]]:
    """The child table's records as (parent key, indices) -> element text, checking the key is unique."""
    td = tables[child]
    records = rb.read_table(content, td, fmt)
    value = child.split("__", 1)[1]  # the element's field is named like the array column
    names = td.field_names()
    key_fields = names[:names.index(value)]
    out: dict[tuple, Any] = {}
    for r in records:
        key = tuple(r[f] for f in key_fields)
        assert key not in out, (child, key)
        out[key] = r[value]
    return out


def _keys(td: rb.TableDesc) -> tuple[list[list[str]], list[tuple[list[str], str | None, list[str] | None]]]:
    pk = [k.fields for k in td.keys if k.kind == "primaryKey"]
    fks = [(k.fields, k.ref_table, k.ref_fields) for k in td.keys if k.kind == "foreignKey"]
    return pk, fks


Arrays = dict[str, tuple[int | None, dict[tuple[int, ...], Any]]]
"""Per array column of a source row: its number of elements (None: NULL) and {indices: element}."""


def _of(value: Any, lowers: list[int]) -> tuple[int | None, dict[tuple[int, ...], Any]]:
    found = elements(value, lowers)
    return (None if value is None else len(found)), found


def _extracted(source: str, tmp_path: Path, fmt: str) -> tuple[Path, dict[str, rb.TableDesc]]:
    out = tmp_path / "o"
    r = run("extract", source, "--out", out, "--format", fmt, "--charset", "UTF-8", "--date", DATE,
            "--profile", _metadata(tmp_path), "-q")
    assert r.exit_code == 0, r.output
    return out, rb.read_addml(out / "content" / "addml.xml")


def _compare_keyed(content: Path, tables: dict[str, rb.TableDesc], fmt: str, rows: list[tuple[Any, Arrays]]) -> int:
    """maaling has a key: each count field and each child record (id, index per dimension, element)
    against the source's rows; returns the number of elements compared."""
    parent = {row["id"]: row for row in rb.read_table(content, tables["maaling"], fmt)}
    checked = 0
    for key, arrays in rows:
        for column, (count, found) in arrays.items():
            assert parent[str(key)][f"{column}_antall"] == (None if count is None else str(count)), (key, column)
            child = _unnested(content, tables, f"maaling__{column}", fmt)
            got = {k[1:]: v for k, v in child.items() if k[0] == str(key)}
            want = {tuple(map(str, i)): _text(v, fmt) for i, v in found.items()}
            assert got.keys() == want.keys(), (key, column, got, want)
            for index, text in want.items():
                assert _same(got[index], text), (key, column, index, got[index], text)
                checked += 1
    return checked


def _compare_keyless(content: Path, tables: dict[str, rb.TableDesc], fmt: str, rows: list[tuple[Any, Arrays]]) -> None:
    """logg has no key: its children hang on uttrekk_lopenr, and each array must go back to its own
    row (the rows differ only in their arrays, so a wrong numbering shows)."""
    child = _unnested(content, tables, "logg__tall", fmt)
    rebuilt: Counter[tuple] = Counter()
    for row in rb.read_table(content, tables["logg"], fmt):
        found = tuple(sorted((k[1], v) for k, v in child.items() if k[0] == row["uttrekk_lopenr"]))
        tekst = None if row["tekst"] is rb.BLANK else row["tekst"]
        rebuilt[(tekst, row["tall_antall"], found)] += 1
    assert rebuilt == Counter((tekst, None if n is None else str(n),
                               tuple(sorted((str(i[0]), _text(v, fmt)) for i, v in found.items())))
                              for tekst, arrays in rows for n, found in [arrays["tall"]])


# -- PostgreSQL -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_arrays():
    with fresh_database("postgresql", "uttrekk_arr") as url:
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            for stmt in PG_DDL:
                conn.exec_driver_sql(stmt)
        eng.dispose()
        yield url


def _pg_source(url: Any) -> dict[str, list[tuple[Any, Arrays]]]:
    """Per table, per row: its plain values and, per array column, (number of elements or None,
    {indices: element}) as psycopg reads the array (lists) and ``array_lower`` its bounds."""
    import psycopg

    out: dict[str, list[Any]] = {}
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
        for table, arrays in PG_ARRAYS.items():
            plain = "id" if table == "maaling" else "tekst"
            lowers = ", ".join(f"array_lower({a}, {d})" for a in arrays for d in (1, 2))
            rows = []
            for row in conn.execute(f"SELECT {plain}, {', '.join(arrays)}, {lowers} FROM {table}").fetchall():
                values = {}
                for i, a in enumerate(arrays):
                    bounds = row[1 + len(arrays) + 2 * i: 3 + len(arrays) + 2 * i]
                    values[a] = _of(row[1 + i], [b for b in bounds if b is not None])
                rows.append((row[0], values))
            out[table] = rows
    return out


@pytest.mark.parametrize("fmt", ["delimited", "fixed", "xml"])
def test_postgresql_arrays_are_child_tables_read_back_element_by_element(pg_arrays, tmp_path, fmt):
    out, tables = _extracted(pg_arrays.render_as_string(hide_password=False), tmp_path, fmt)
    content = out / "content"
    source = _pg_source(pg_arrays)
    assert [f.name for f in tables["maaling"].fields] == ["id", "tall_antall", "navn_antall", "belop_antall",
                                                          "datoer_antall", "matrise_antall"]
    assert _compare_keyed(content, tables, fmt, source["maaling"]) == 30
    assert (rb.read_table(content, tables["maaling__datoer"], fmt)[:1]
            == [{"id": "1", "indeks": "1", "datoer": "2020-02-29"}])  # index 1; id 2 starts at -1
    types = {c: tables[f"maaling__{c}"].field(c).data_type for c in PG_ARRAYS["maaling"]}
    assert types == {"tall": "integer", "navn": "string", "belop": "float", "datoer": "date", "matrise": "integer"}
    assert [f.name for f in tables["maaling__matrise"].fields] == ["id", "indeks1", "indeks2", "matrise"]
    _compare_keyless(content, tables, fmt, source["logg"])

    if fmt == "delimited":  # descriptions and keys as addml.xml's flat files give them
        assert "Navn på de som målte" in tables["maaling__navn"].field("navn").description
        assert "fra arraykolonnen navn" in tables["maaling__navn"].field("navn").description
        assert _keys(tables["maaling__matrise"]) == ([["id", "indeks1", "indeks2"]],
                                                     [(["id"], "maaling", ["id"])])
        assert _keys(tables["logg__tall"]) == ([["uttrekk_lopenr", "indeks"]],
                                               [(["uttrekk_lopenr"], "logg", ["uttrekk_lopenr"])])
        documented = (out / "documentation" / "beskrivelse.txt").read_text(encoding="latin-1")
        assert "fra elementene i en arraykolonne flyttet til egen tabell" in documented
        described = (content / "addml.xml").read_text(encoding="utf-8")
        assert "Elementene i arraykolonnen tall (INTEGER[]) i tabellen logg" in described
        assert "cardinality(tall)" in described and "generate_subscripts" in described  # the queries that read them
    assert rb.validate_addml(content) == []
    r = run("validate", out, "-q")
    assert r.exit_code == 0, r.output


def test_postgresql_arrays_with_a_filter_parallel_workers_and_resume(pg_arrays, tmp_path, monkeypatch):
    """The filter keeps the same rows in the child as in the parent; --jobs 2 and a resumed run give
    the bytes of one plain run."""
    from dialects.postgresql import PostgreSQL

    prof = tmp_path / "p.toml"
    prof.write_text('[tables.logg]\nwhere = "tekst <> \'b\'"\nfilter_reason = "Test."\n'
                    '[tables.maaling]\nwhere = "id <> 3"\nfilter_reason = "Test."\n'
                    '[tables.maaling__navn]\ndescription = "Navnene, ett per post."\n'
                    '[tables.maaling__navn.columns.indeks]\ndescription = "Plassen i listen."\n', encoding="utf-8")
    url = pg_arrays.render_as_string(hide_password=False)
    base = ["extract", url, "--profile", prof, "--charset", "UTF-8", "--date", DATE, "-q"]
    r = run(*base, "--out", tmp_path / "one")
    assert r.exit_code == 0, r.output
    content = tmp_path / "one" / "content"
    tables = rb.read_addml(content / "addml.xml")
    assert tables["logg"].count == 5 and tables["logg__tall"].count == 9  # a's 8 elements, c's 1
    assert {r["id"] for r in rb.read_table(content, tables["maaling__belop"], "delimited")} == {"1", "4"}
    described = (content / "addml.xml").read_text(encoding="utf-8")  # a child is described like a table
    assert "<description>Navnene, ett per post. Elementene i arraykolonnen navn" in described
    assert tables["maaling__navn"].field("indeks").description.startswith("Plassen i listen. Elementets indeks")
    r = run(*base, "--out", tmp_path / "two", "--jobs", "2")
    assert r.exit_code == 0, r.output
    assert same_tree(tmp_path / "two" / "content", content) == []

    real = PostgreSQL.iter_rows
    admin = sa.create_engine(pg_arrays, isolation_level="AUTOCOMMIT")

    def dropping(self, table, columns, order_by):
        for n, row in enumerate(real(self, table, columns, order_by)):
            if table.name == "maaling__navn" and n == 1:
                pid = self._conn.connection.driver_connection.info.backend_pid
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            yield row

    monkeypatch.setattr(PostgreSQL, "iter_rows", dropping)
    r = run(*base, "--out", tmp_path / "resumed")
    admin.dispose()
    assert r.exit_code != 0 and "--resume" in r.output and "Traceback" not in r.output
    monkeypatch.setattr(PostgreSQL, "iter_rows", real)
    r = run(*base, "--out", tmp_path / "resumed", "--resume")
    assert r.exit_code == 0, r.output
    assert re.search(r"Resumed: \d+ table\(s\) reused", r.output), r.output
    assert same_tree(tmp_path / "resumed" / "content", content) == []


def test_postgresql_array_query_and_mixed_dimensions(tmp_path):
    """A profile query's array is a child table too; a column whose values have different numbers
    of dimensions is refused by column, with one clear message, until the profile excludes it."""
    with fresh_database("postgresql", "uttrekk_arr") as url:
        run_sql(url, [
            "CREATE TYPE farge AS ENUM ('rød', 'blå')",
            "CREATE TABLE blandet (id integer PRIMARY KEY, a integer[], f farge[])",
            "INSERT INTO blandet VALUES (1, '{1,2}', '{blå,rød}'), (2, '{{1,2},{3,4}}', NULL)",
        ])
        source = url.render_as_string(hide_password=False)
        r = run("extract", source, "--out", tmp_path / "refused", "-q")
        fails(r, "blandet.a (INTEGER[])", "different numbers of dimensions (1, 2)",
              '[tables.blandet.columns.a] exclude = "')
        assert not (tmp_path / "refused").exists() and not (tmp_path / ".refused.uttrekk-partial").exists()
        r = run("inspect", source, "--no-scan")
        assert r.exit_code == 0 and "refused (extract stops): blandet.a" in r.output, r.output
        assert "(elements in table blandet__f)" in r.output and "\nblandet__f: 2 rows\n" in r.output
        r = run("profile", "init", source, "-o", tmp_path / "init.toml")
        assert r.exit_code == 0, r.output
        init = (tmp_path / "init.toml").read_text(encoding="utf-8")
        assert "NEKTET av extract (its values have different numbers of dimensions (1, 2)" in init
        assert "-> egen tabell blandet__f (ett element per post, med indeks)" in init

        prof = tmp_path / "p.toml"
        prof.write_text('[tables.blandet.columns.a]\nexclude = "Blandede dimensjoner."\n'
                        '[queries.utvalg]\nsql = "SELECT id, f AS farger FROM blandet"\nprimary_key = ["id"]\n',
                        encoding="utf-8")
        out = tmp_path / "o"
        r = run("extract", source, "--profile", prof, "--out", out, "-q")
        assert r.exit_code == 0, r.output
        content = out / "content"
        tables = rb.read_addml(content / "addml.xml")
        assert (content / "blandet.txt").read_bytes() == b"1;2\r\n2;\r\n"
        assert (content / "blandet__f.txt").read_bytes() == "1;1;blå\r\n1;2;rød\r\n".encode("latin-1")
        assert (content / "utvalg__farger.txt").read_bytes() == (content / "blandet__f.txt").read_bytes()
        assert tables["blandet__f"].field("f").codes == {"rød": None, "blå": None}  # the enum's labels
        assert "a (Blandede dimensjoner.)" in (content / "addml.xml").read_text(encoding="utf-8")


# -- Firebird ---------------------------------------------------------------------------------------

FB_DDL = [
    "CREATE TABLE maaling (id integer NOT NULL PRIMARY KEY, tall integer[3], navn varchar(20)[0:2], "
    "belop numeric(9,2)[2], datoer date[-1:0], matrise smallint[2:3, 0:1], "
    "latin varchar(10)[2] CHARACTER SET ISO8859_1)",
    "CREATE TABLE logg (tekst varchar(10), tall integer[2])",  # no key, no unique column
]
FB_BOUNDS = {"tall": [(1, 3)], "navn": [(0, 2)], "belop": [(1, 2)], "datoer": [(-1, 0)], "matrise": [(2, 3), (0, 1)],
             "latin": [(1, 2)]}
FB_ROWS = [
    (1, [1, 2, 3], ["Åse", "Čuđežáš", ""], [Decimal("1.50"), Decimal("-0.25")], [dt.date(2020, 2, 29), dt.date(1999, 12, 31)],
     [[1, 2], [3, 4]], ["Æøå", "x"]),
    (2, None, None, None, None, None, None),
    (3, [7, 8, 9], ["semi;kolon", 'sitat "x"', "z"], None, [dt.date(2000, 1, 1), dt.date(2000, 1, 2)],
     [[-5, 6], [7, 8]], None),
]
FB_LOGG = [("a", [1, 2]), ("a", [2, 1]), ("a", [1, 2]), ("b", None), (None, [0, 0]), ("c", [3, 4])]


@pytest.fixture(scope="module")
def fb_arrays():
    from firebird.driver import connect

    from tests.test_servers import _drop_firebird, _fresh_firebird

    path, url = _fresh_firebird()
    dsn = f"{url.host}/{url.port}:{path}"
    with connect(dsn, user=url.username, password=url.password, charset="UTF8") as con:
        cur = con.cursor()
        for stmt in FB_DDL:
            cur.execute(stmt)
        con.commit()
        cur.executemany("INSERT INTO maaling (id, tall, navn, belop, datoer, matrise) VALUES (?, ?, ?, ?, ?, ?)",
                        [r[:6] for r in FB_ROWS])
        cur.executemany("INSERT INTO logg VALUES (?, ?)", FB_LOGG)
        con.commit()
    # the Latin-1 array through a Latin-1 connection (firebird-driver reads arrays only in the connection's charset)
    with connect(dsn, user=url.username, password=url.password, charset="ISO8859_1") as con:
        for r in FB_ROWS:
            con.cursor().execute("UPDATE maaling SET latin = ? WHERE id = ?", (r[6], r[0]))
        con.commit()
    yield path, url
    _drop_firebird(path)


def _fb_source(path: str, url: Any) -> dict[str, list[tuple[Any, Arrays]]]:
    """The arrays as firebird-driver reads them itself (nested lists), indexed by the declared bounds."""
    from firebird.driver import connect

    def lowers(column: str) -> list[int]:
        return [lo for lo, _ in FB_BOUNDS[column]]

    dsn = f"{url.host}/{url.port}:{path}"
    columns = ("tall", "navn", "belop", "datoer", "matrise")
    out: dict[str, list[Any]] = {}
    with connect(dsn, user=url.username, password=url.password, charset="UTF8") as con:
        cur = con.cursor()
        cur.execute(f"SELECT id, {', '.join(columns)} FROM maaling ORDER BY id")
        out["maaling"] = [(row[0], {c: _of(row[1 + i], lowers(c)) for i, c in enumerate(columns)})
                          for row in cur.fetchall()]
        cur.execute("SELECT tekst, tall FROM logg")
        out["logg"] = [(r[0], {"tall": _of(r[1], lowers("tall"))}) for r in cur.fetchall()]
    with connect(dsn, user=url.username, password=url.password, charset="ISO8859_1") as con:
        cur = con.cursor()
        cur.execute("SELECT id, latin FROM maaling ORDER BY id")
        for (key, values), (same, latin) in zip(out["maaling"], cur.fetchall(), strict=True):
            assert key == same
            values["latin"] = _of(latin, lowers("latin"))
    return out


@pytest.mark.parametrize("fmt", ["delimited", "fixed", "xml"])
def test_firebird_arrays_are_child_tables_read_back_element_by_element(fb_arrays, tmp_path, fmt):
    path, url = fb_arrays
    out, tables = _extracted(url.render_as_string(hide_password=False), tmp_path, fmt)
    content = out / "content"
    source = _fb_source(path, url)
    assert _compare_keyed(content, tables, fmt, source["maaling"]) == 2 * 3 + 2 * 3 + 2 + 2 * 2 + 2 * 4 + 2
    _compare_keyless(content, tables, fmt, source["logg"])
    matrise = tables["maaling__matrise"]
    assert [f.name for f in matrise.fields] == ["id", "indeks1", "indeks2", "matrise"]
    assert matrise.field("matrise").not_null  # an element of a Firebird array is never NULL
    assert {c: tables[f"maaling__{c}"].field(c).data_type for c in FB_BOUNDS} == {
        "tall": "integer", "navn": "string", "belop": "float", "datoer": "date", "matrise": "integer",
        "latin": "string"}
    if fmt == "delimited":
        assert "grensene [2:3, 0:1]" in matrise.field("indeks1").description
        assert _keys(matrise) == ([["id", "indeks1", "indeks2"]], [(["id"], "maaling", ["id"])])
        assert _keys(tables["logg__tall"]) == ([["uttrekk_lopenr", "indeks"]],
                                               [(["uttrekk_lopenr"], "logg", ["uttrekk_lopenr"])])
    assert rb.validate_addml(content) == []
    r = run("validate", out, "-q")
    assert r.exit_code == 0, r.output


def test_firebird_filtered_table_without_key_and_a_too_long_array(fb_arrays, tmp_path):
    """A filter on a table without a key: Firebird reads it from the table itself (its subscripts do
    not work through a derived table). An array too long to order by is refused with one message."""
    path, url = fb_arrays
    source = url.render_as_string(hide_password=False)
    prof = tmp_path / "p.toml"
    prof.write_text('[tables.logg]\nwhere = "tekst <> \'b\' OR tekst IS NULL"\nfilter_reason = "Test."\n',
                    encoding="utf-8")
    out = tmp_path / "o"
    r = run("extract", source, "--profile", prof, "--table", "logg", "--out", out, "-q", "--date", DATE)
    assert r.exit_code == 0, r.output
    content = out / "content"
    logg = content.joinpath("logg.txt").read_text(encoding="latin-1").splitlines()
    kept = [r for r in FB_LOGG if r[0] != "b"]
    assert len(logg) == len(kept)
    child = content.joinpath("logg__tall.txt").read_text(encoding="latin-1").splitlines()
    by_record = {}
    for line in child:
        recno, index, value = line.split(";")
        by_record.setdefault(recno, []).append((int(index), int(value)))
    got = Counter((line.split(";")[1] or None, tuple(v for _, v in sorted(by_record.get(line.split(";")[0], []))))
                  for line in logg)
    assert got == Counter((t, tuple(v)) for t, v in kept)

    from firebird.driver import connect

    dsn = f"{url.host}/{url.port}:{path}"
    with connect(dsn, user=url.username, password=url.password) as con:
        con.cursor().execute("CREATE TABLE stor (v integer[300])")
        con.commit()
    try:
        r = run("extract", source, "--table", "stor", "--out", tmp_path / "stor", "-q")
        fails(r, "stor.v", "300 elements", "primary_key", "[tables.stor.columns.v] exclude")
        assert not (tmp_path / "stor").exists()
    finally:
        with connect(dsn, user=url.username, password=url.password) as con:
            con.cursor().execute("DROP TABLE stor")
            con.commit()


# -- engines without array support: refused by column ----------------------------------------------


def test_arrays_elsewhere_are_refused_by_column_until_excluded(tmp_path):
    """A generic engine's ARRAY and an Oracle collection are refused by column; an excluded one is not."""
    from dialects.base import Dialect, with_vendor_types
    from dialects.oracle import collections_refused, vendor_type
    from extractor.errors import UnwritableError
    from extractor.model import Column, Schema, Table
    from extractor.pipeline import check_arrays
    from extractor.plan import make_plan
    from extractor.profile import Profile, load_profile

    generic = Dialect(sa.create_mock_engine("mssql+pyodbc://u@h/db", lambda *a, **k: None), "mssql test")
    table = generic._table("t", None, [{"name": "id", "type": sa.Integer(), "nullable": False},
                                       {"name": "a", "type": sa.ARRAY(sa.Integer()), "nullable": True}],
                           {"constrained_columns": ["id"]}, [], [], None)
    assert table.column("a").kind == "array" and "only from PostgreSQL and Firebird" in table.column("a").array.refused
    assert vendor_type("TALLISTE", "APP", "VARYING ARRAY") == ("APP.TALLISTE (VARYING ARRAY)", "array")
    sak = Table("sak", (Column("id", "INTEGER", "integer", nullable=False), Column("tall", "(no type)", "unknown")),
                primary_key=("id",))
    reflected = Schema((sak,))
    oracle = collections_refused(with_vendor_types(reflected, {("sak", "tall"): vendor_type("TALLISTE", "APP", "TABLE")},
                                                   lambda c: None))
    assert "VARRAY, nested tables" in oracle.table("sak").column("tall").array.refused

    plan = make_plan(Schema((table, *oracle.tables)), Profile())
    assert [f.name for f in plan.table("t").fields] == ["id"]  # no field pretends to hold the array
    with pytest.raises(UnwritableError) as refused:
        check_arrays(plan)
    message = str(refused.value)
    assert message.startswith("2 array column(s) cannot be archived faithfully; nothing was written")
    assert '[tables.t.columns.a] exclude = "' in message and "sak.tall (APP.TALLISTE (TABLE))" in message
    prof = tmp_path / "p.toml"
    prof.write_text('[tables.t.columns.a]\nexclude = "x"\n[tables.sak.columns.tall]\nexclude = "y"\n', encoding="utf-8")
    check_arrays(make_plan(Schema((table, *oracle.tables)), load_profile(prof)))
