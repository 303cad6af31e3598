"""Names with any character: every engine quotes them, and no two names become one in the extract.

A table and columns whose names hold a backtick, a double and a single quote, a space, ``;``,
``%``, ``:``, Norwegian and Sámi letters, mixed case, reserved words and something that looks like
SQL, with a primary key, a foreign key to another such table, a period filter on one of them and a
pointer into it: inspect, inspect --keys, profile init and extract (delimited and XML) on SQLite,
PostgreSQL, MariaDB and Firebird, read back with the independent reader and compared with the
source values read with our own quoting; the source is the same afterwards.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tomllib
import warnings
from typing import Any

import pytest
import sqlalchemy as sa
import tomlkit

import tests.readback as rb
from tests.conftest import fails, fresh_database, make_db, run
from tests.test_servers import _drop_firebird, _expected, _fresh_firebird

PARENT = "Kode `a` \"b\" 'c' ;%: Æøå Č"  # 30 bytes in UTF-8: inside Firebird 3's 31
CHILD = 'a"; DROP TABLE x; --'
PARENT_COLUMNS = ["select", "order", "MixedCase", "dato: periode"]
CHILD_COLUMNS = ["id`k", "Æøå Čáđ", 'si "hei"', "it's", "a;b", "100%s", "kl :tid", "select", "peker", CHILD, "order",
                 "MixedCase"]
PARENT_ROWS = [("A'1", 'først; "x"', 10, dt.date(2020, 5, 1)), ("B`2", None, 20, dt.date(2021, 1, 1)),
               ("C:3", "utenfor perioden", 30, dt.date(1990, 1, 1))]
CHILD_ROWS = [(1, 1, 'si "hei"', "it's", "a;b", "100%s", ":tid", "A'1", 20, "; DROP TABLE x; --", "o", "Mc"),
              (1, 2, None, "", None, "%(x)s", None, "B`2", 10, None, None, None),
              (2, 1, "Čáđ", None, None, None, None, None, None, None, None, None)]
PERIOD = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
"""The parent's period: its 1990 row is left out."""


def q(engine: str, name: str) -> str:
    """Our own quoting (not uttrekk's, not SQLAlchemy's)."""
    if engine == "mariadb":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def ddl(engine: str) -> list[str]:
    def Q(name: str) -> str:
        return q(engine, name)

    text = "varchar(60)"
    child = ", ".join(f"{Q(c)} {'integer NOT NULL' if c in ('id`k', 'Æøå Čáđ') else 'integer' if c == 'peker' else text}"
                      for c in CHILD_COLUMNS)
    return [
        f"CREATE TABLE {Q(PARENT)} ({Q('select')} varchar(10) NOT NULL PRIMARY KEY, {Q('order')} {text}, "
        f"{Q('MixedCase')} integer NOT NULL UNIQUE, {Q('dato: periode')} date)",
        f"CREATE TABLE {Q(CHILD)} ({child}, PRIMARY KEY ({Q('id`k')}, {Q('Æøå Čáđ')}), "
        f"FOREIGN KEY ({Q('select')}) REFERENCES {Q(PARENT)} ({Q('select')}))",
    ]


def seed(engine: str, url: Any) -> None:
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:  # DDL committed first: Firebird sees new tables only after commit
            for stmt in ddl(engine):
                # exec_driver_sql passes an empty parameter list: psycopg and PyMySQL then read % as a placeholder
                conn.exec_driver_sql(stmt.replace("%", "%%") if engine in ("postgresql", "mariadb") else stmt)
        with eng.begin() as conn:
            for table, rows in ((PARENT, PARENT_ROWS), (CHILD, CHILD_ROWS)):
                marks = ", ".join(f":p{i}" for i in range(len(rows[0])))
                conn.execute(sa.text(f"INSERT INTO {q(engine, table)} VALUES ({marks})"),
                             [{f"p{i}": v for i, v in enumerate(r)} for r in rows])
    finally:
        eng.dispose()


def source_state(engine: str, url: Any) -> dict[str, Any]:
    """Every table's name and rows, read with our own SQL."""
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            rows = {t: [tuple(r) for r in conn.exec_driver_sql(
                f"SELECT * FROM {q(engine, t)} ORDER BY 1, 2".replace("%", "%%") if engine in ("postgresql", "mariadb")
                else f"SELECT * FROM {q(engine, t)} ORDER BY 1, 2")] for t in (PARENT, CHILD)}
            tables = sorted(sa.inspect(conn).get_table_names())
    finally:
        eng.dispose()
    return {"tables": tables, "rows": rows}


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb", "firebird"])
def odd_source(request, tmp_path_factory):
    engine = request.param
    if engine == "sqlite":
        path = tmp_path_factory.mktemp("odd") / "odd.sqlite"
        url = sa.engine.make_url(f"sqlite:///{path}")
        seed(engine, url)
        yield engine, url, str(path)
        return
    if engine == "firebird":
        fdb, url = _fresh_firebird()
        try:
            seed(engine, url)
            yield engine, url, url.render_as_string(hide_password=False)
        finally:
            _drop_firebird(fdb)
        return
    with fresh_database(engine, "uttrekk_odd") as url:
        seed(engine, url)
        yield engine, url, url.render_as_string(hide_password=False)


def _profile(path: Any) -> None:
    doc = tomlkit.document()
    doc["metadata"] = {"period_start": PERIOD[0], "period_end": PERIOD[1]}
    doc["tables"] = {PARENT: {"period_column": "dato: periode"},
                     CHILD: {"pointers": {"peker": {"references": PARENT, "address": "MixedCase"}}}}
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def _wanted(state: dict[str, Any]) -> dict[str, list[list[str | None]]]:
    """What the extract must hold, from the source rows: the parent's rows inside the period, the
    child's pointer replaced by the key (``select``) of the parent row whose MixedCase it holds."""
    parents = [r for r in state["rows"][PARENT] if PERIOD[0] <= _day(r[3]) <= PERIOD[1]]
    by_mixed = {r[2]: r[0] for r in parents}
    peker = CHILD_COLUMNS.index("peker")
    children = [[*r[:peker], by_mixed.get(r[peker]), *r[peker + 1:]] for r in state["rows"][CHILD]]
    return {PARENT: [[_expected(_day(v) if i == 3 else v) for i, v in enumerate(r)] for r in parents],
            CHILD: [[_expected(v) for v in r] for r in children]}


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)  # SQLite stores text


def test_odd_names_are_quoted_on_every_engine(odd_source, tmp_path):
    engine, url, source = odd_source
    before = source_state(engine, url)
    prof = tmp_path / "p.toml"
    _profile(prof)

    with warnings.catch_warnings(record=True) as caught:  # SQLAlchemy's warnings would reach the user
        warnings.simplefilter("always")
        r = run("inspect", source, "--charset", "UTF-8")
        assert r.exit_code == 0, r.output
        assert "primary key: id`k, Æøå Čáđ" in r.output and f"{CHILD}: 3 rows" in r.output, r.output
        assert f"foreign key: select -> {PARENT}(select)" in r.output, r.output
        for name in CHILD_COLUMNS:
            assert f"\n  {name} " in r.output, name
        r = run("inspect", source, "--keys")
        assert r.exit_code == 0, r.output
    assert [str(w.message) for w in caught if issubclass(w.category, sa.exc.SAWarning)] == []

    r = run("profile", "init", source, "-o", tmp_path / "init.toml")
    assert r.exit_code == 0, r.output
    written = tomllib.loads((tmp_path / "init.toml").read_text(encoding="utf-8"))["tables"]
    assert list(written[PARENT]["columns"]) == PARENT_COLUMNS
    assert list(written[CHILD]["columns"]) == CHILD_COLUMNS

    want = _wanted(before)
    got = {}
    for fmt in ("delimited", "xml"):
        out = tmp_path / fmt
        r = run("extract", source, "--profile", prof, "--format", fmt, "--charset", "UTF-8", "--out", out, "-q")
        assert r.exit_code == 0, r.output
        content = out / "content"
        assert rb.validate_addml(content) == []
        tables = rb.read_addml(content / "addml.xml")
        for table in (PARENT, CHILD):
            records = rb.read_table(content, tables[table], fmt)
            got[fmt, table] = [list(rec.values()) for rec in records]
            assert got[fmt, table] == want[table], (fmt, table)
        if fmt == "delimited":
            assert tables[PARENT].field_names() == PARENT_COLUMNS
            assert tables[CHILD].field_names() == CHILD_COLUMNS
            keys = {(k.kind, tuple(k.fields), k.ref_table) for k in tables[CHILD].keys}
            assert {("primaryKey", ("id`k", "Æøå Čáđ"), None), ("foreignKey", ("select",), PARENT),
                    ("foreignKey", ("peker",), PARENT)} <= keys, keys
        else:
            assert rb.validate_xml_tables(content, tables) == []
        report = (out / "report" / "extraction.json").read_text(encoding="utf-8")
        assert '"rows_left_out": 1' in report
    assert source_state(engine, url) == before


def test_generated_names_never_take_a_source_name(tmp_path):
    """Columns whose folder or companion names would be the same get names of their own: binary
    columns ``a b``/``a_b`` and ``æ``/``Æ``-like letters share no folder, and a long text ``x`` beside
    a column ``x_fil`` gets ``x_fil_``, in every format."""
    long = "lang " * 700
    db = make_db(tmp_path / "c.sqlite",
                 'CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT, x_fil TEXT, "a b" BLOB, a_b BLOB, "æ" BLOB, "ae" BLOB)',
                 {"t": [(1, long, "kort", b"1", b"2", b"3", b"4")]})
    for fmt in ("delimited", "fixed", "xml"):
        out = tmp_path / fmt
        r = run("extract", db, "--format", fmt, "--out", out, "-q")
        assert r.exit_code == 0, r.output
        content = out / "content"
        tables = rb.read_addml(content / "addml.xml")
        names = tables["t"].field_names()
        assert len(set(names)) == len(names), names
        if fmt != "xml":  # (fixed width adds x_lengde: the text ends in a blank)
            assert [n for n in names if n != "x_lengde"] == ["id", "x", "x_fil_", "x_fil", "a b", "a_b", "æ", "ae"]
        lobs = rb.read_table(content, tables["LOBFILER"], fmt)
        files = {rec["felt"]: (content / rec["fil"].strip()).read_bytes() for rec in lobs}
        assert len({rec["fil"] for rec in lobs}) == len(lobs) == 5
        assert files == {"x_fil_": long.encode("latin-1"), "a b": b"1", "a_b": b"2", "æ": b"3", "ae": b"4"}
    con = sqlite3.connect(db)
    assert con.execute('SELECT "a b", a_b FROM t').fetchone() == (b"1", b"2")
    con.close()


def test_the_servers_reason_is_in_the_message(odd_source, tmp_path):
    """A filter the source refuses names the reason; Firebird gives it on lines after 'Dynamic SQL Error'."""
    engine, _, source = odd_source
    prof = tmp_path / "p.toml"
    prof.write_text(tomlkit.dumps({"tables": {CHILD: {"where": "nope = 1", "filter_reason": "prøve"}}}), encoding="utf-8")
    out = fails(run("inspect", source, "--profile", prof, "--no-scan"), "the source refuses the condition")
    assert "nope" in out.lower()
    if engine == "firebird":
        assert "Column unknown; NOPE" in out, out
