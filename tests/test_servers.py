"""Real servers: PostgreSQL, MariaDB and Firebird extracts read back value by value against the source.

`make test` starts the servers (scripts/test-services.sh). Each run creates a fresh database and
drops it afterwards. The source values are read with the driver directly, not through uttrekk.

SQL Server and Oracle run the same tests where UTTREKK_TEST_MSSQL_URL / UTTREKK_TEST_ORACLE_URL
point at a server (docker/compose.yaml starts both; docs/test-servers.md); otherwise they are
skipped with that reason. SQL Server gets a fresh database per run, Oracle a fresh user (schema)
with a generated password; both are dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

import tests.readback as rb
from tests.conftest import run, run_sql

DEPOT = ("--period", "2001..2020", "--archive-creator", "Kommune", "--system-name", "Sys")
"""The depot metadata --strict asks for besides descriptions."""
FIREBIRD_DIR = os.environ.get("UTTREKK_TEST_FIREBIRD_DIR", "/tmp/uttrekk-firebird")

ADMIN_URLS = {
    "firebird": os.environ.get("UTTREKK_TEST_FIREBIRD_URL",
                               "firebird+firebird://SYSDBA:masterkey@127.0.0.1:3050/?charset=UTF8"),
    "postgresql": os.environ.get("UTTREKK_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    "mariadb": os.environ.get("UTTREKK_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4"),
}
for _engine in ("mssql", "oracle"):  # no server here: only where a URL is given
    if os.environ.get(f"UTTREKK_TEST_{_engine.upper()}_URL"):
        ADMIN_URLS[_engine] = os.environ[f"UTTREKK_TEST_{_engine.upper()}_URL"]

ENGINES = ["postgresql", "mariadb", "firebird", "mssql", "oracle"]

LONG = "Lang tekst om byggesaken; " * 100  # 2600 characters: goes to a file
BIG_BLOB = bytes(range(256)) * 800  # 200 KiB: larger than drivers' in-memory blob thresholds
BIG_TEXT = "Æ" + "lang merknad " * 7700  # about 100 000 characters

SEED = {
    "firebird": [
        "CREATE TABLE kode (kode varchar(4) NOT NULL PRIMARY KEY, tekst varchar(100) NOT NULL)",
        "COMMENT ON TABLE kode IS 'Statuskoder'",
        """CREATE TABLE sak (id integer NOT NULL PRIMARY KEY, kode varchar(4) REFERENCES kode, tittel varchar(500),
             belop numeric(12,2), presis numeric(18,9), flyt double precision, dato date, tid timestamp,
             tidtz timestamp, kl time, aktiv boolean, c char(4), penger numeric(18,4), data blob sub_type 0,
             notat blob sub_type 1)""",
        "COMMENT ON COLUMN sak.tittel IS 'Sakens tittel'",
        "CREATE TABLE logg (hendelse varchar(100) NOT NULL, sak_id integer)",
    ],
    "postgresql": [
        "CREATE TABLE kode (kode varchar(4) PRIMARY KEY, tekst text NOT NULL)",
        "COMMENT ON TABLE kode IS 'Statuskoder'",
        """CREATE TABLE sak (id integer PRIMARY KEY, kode varchar(4) REFERENCES kode, tittel text,
             belop numeric(12,2), presis numeric, flyt double precision, dato date, tid timestamp(6),
             tidtz timestamptz, kl time, aktiv boolean, c char(4), penger money, data bytea, notat text)""",
        "COMMENT ON COLUMN sak.tittel IS 'Sakens tittel'",
        "CREATE TABLE logg (hendelse text NOT NULL, sak_id integer)",
    ],
    "mariadb": [
        "CREATE TABLE kode (kode varchar(4) PRIMARY KEY, tekst text NOT NULL) COMMENT 'Statuskoder'",
        """CREATE TABLE sak (id integer PRIMARY KEY, kode varchar(4), tittel text COMMENT 'Sakens tittel',
             belop decimal(12,2), presis decimal(40,20), flyt double, dato date, tid datetime(6),
             tidtz timestamp(6) NULL, kl time, aktiv tinyint(1), c char(4), penger decimal(19,4), data mediumblob,
             notat mediumtext, FOREIGN KEY (kode) REFERENCES kode(kode)) CHARACTER SET utf8mb4""",
        "CREATE TABLE logg (hendelse text NOT NULL, sak_id integer) CHARACTER SET utf8mb4",
    ],
    "mssql": [
        "CREATE TABLE kode (kode nvarchar(4) NOT NULL PRIMARY KEY, tekst nvarchar(max) NOT NULL)",
        "EXEC sp_addextendedproperty N'MS_Description', N'Statuskoder', N'SCHEMA', N'dbo', N'TABLE', N'kode'",
        """CREATE TABLE sak (id int NOT NULL PRIMARY KEY, kode nvarchar(4) REFERENCES kode, tittel nvarchar(500),
             belop decimal(12,2), presis decimal(38,20), flyt float, dato date, tid datetime2(7),
             tidtz datetimeoffset(7), kl time(7), aktiv bit, c char(4), penger money, data varbinary(max),
             notat nvarchar(max))""",
        "EXEC sp_addextendedproperty N'MS_Description', N'Sakens tittel', N'SCHEMA', N'dbo', N'TABLE', N'sak', "
        "N'COLUMN', N'tittel'",
        "CREATE TABLE logg (hendelse nvarchar(100) NOT NULL, sak_id int)",
    ],
    "oracle": [
        "CREATE TABLE kode (kode varchar2(4) NOT NULL PRIMARY KEY, tekst varchar2(100 char) NOT NULL)",
        "COMMENT ON TABLE kode IS 'Statuskoder'",
        """CREATE TABLE sak (id integer NOT NULL PRIMARY KEY, kode varchar2(4) REFERENCES kode,
             tittel varchar2(500 char), belop number(12,2), presis number, flyt binary_double, dato date,
             tid timestamp(6), tidtz timestamp(6) with time zone, kl interval day(0) to second(6), aktiv number(1),
             c char(4 char), penger number(18,4), data blob, notat clob)""",
        "COMMENT ON COLUMN sak.tittel IS 'Sakens tittel'",
        "CREATE TABLE logg (hendelse varchar2(100 char) NOT NULL, sak_id integer)",
    ],
}

KODER = [("A", "Åpen"), ("L", "Lukket – ferdig")]
SAKER = [
    (1, "A", 'Søknad; "tilbygg"\r\nlinje 2', Decimal("1250.50"), Decimal("123456789012.12345678901234567890"),
     0.1, dt.date(2020, 2, 29), dt.datetime(2020, 1, 1, 10, 0, 0, 500000),
     dt.datetime(2020, 1, 1, 9, 0, tzinfo=dt.UTC), dt.time(18, 0), True, "ab", Decimal("12.50"),
     b"%PDF-1.4\x00\xff", LONG),
    (2, None, "", Decimal("0.00"), Decimal("-0.5"), -1e-10, None, None, None, None, False, None, None, b"", "kort"),
    (3, "L", "Máret Čuđežáš Ŋuolja", None, None, None, dt.date(1999, 12, 31), dt.datetime(1999, 12, 31, 23, 59, 59),
     None, dt.time(0, 0, 1), None, "abcd", None, BIG_BLOB, BIG_TEXT),
]
LOGG = [("opprettet", 1), ("opprettet", 1), ("slettet", None)]


SAK_COLUMNS = "id, kode, tittel, belop, presis, flyt, dato, tid, tidtz, kl, aktiv, c, penger, data, notat"
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))
ORACLE_KL = {1: "PT18H", 2: None, 3: "PT1S"}
"""The ``kl`` times of day as Oracle holds them (INTERVAL DAY TO SECOND), as ISO 8601 durations."""


def _rows(engine_name: str) -> list[tuple[Any, ...]]:
    """SAKER fitted to an engine's limits (Firebird 3: 18 digits, no time zones; Oracle: no TIME, no
    BOOLEAN before 23ai). SQL Server and Oracle keep a timestamp's offset: theirs is +01:00."""
    if engine_name not in ("firebird", "mssql", "oracle"):
        return SAKER
    rows = []
    for r in SAKER:
        r = list(r)
        if engine_name == "firebird":
            if r[4] is not None:
                r[4] = Decimal("123456789.123456789") if r[4] > 0 else r[4]
            if r[8] is not None:
                r[8] = r[8].replace(tzinfo=None)
        else:
            if r[8] is not None:
                r[8] = r[8].astimezone(PLUS_ONE)
            if engine_name == "oracle":
                if r[9] is not None:
                    r[9] = dt.timedelta(hours=r[9].hour, minutes=r[9].minute, seconds=r[9].second)
                if r[10] is not None:
                    r[10] = int(r[10])
        rows.append(tuple(r))
    return rows


def _sak_insert(engine_name: str) -> Any:
    """INSERT for SAKER; timestamps go to SQL Server and Oracle as text, so no driver decides their zone."""
    marks = [f":p{i}" for i in range(15)]
    if engine_name == "oracle":
        marks[7] = "TO_TIMESTAMP(:p7, 'YYYY-MM-DD HH24:MI:SS.FF6')"
        marks[8] = "TO_TIMESTAMP_TZ(:p8, 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM')"
    stmt = sa.text(f"INSERT INTO sak ({SAK_COLUMNS}) VALUES ({', '.join(marks)})")
    if engine_name == "oracle":  # typed LOB binds, so python-oracledb sends long values as LOBs
        stmt = stmt.bindparams(sa.bindparam("p13", type_=sa.LargeBinary), sa.bindparam("p14", type_=sa.Text))
    return stmt


def _sak_params(engine_name: str, row: tuple[Any, ...]) -> dict[str, Any]:
    values = list(row)
    if engine_name in ("mssql", "oracle") and values[8] is not None:
        values[8] = values[8].strftime("%Y-%m-%d %H:%M:%S.%f ") + values[8].isoformat()[-6:]  # ... +01:00
    if engine_name == "oracle" and values[7] is not None:
        values[7] = values[7].strftime("%Y-%m-%d %H:%M:%S.%f")
    return {f"p{i}": v for i, v in enumerate(values)}


def _fresh_firebird() -> tuple[str, Any]:
    from firebird.driver import create_database, driver_config

    base = sa.engine.make_url(ADMIN_URLS["firebird"])
    path = f"{FIREBIRD_DIR}/uttrekk_t_{uuid.uuid4().hex[:10]}.fdb"
    dsn = f"{base.host}/{base.port}:{path}"
    driver_config.db_defaults.db_charset.value = "UTF8"
    try:
        create_database(dsn, user=base.username, password=base.password, charset="UTF8").close()
    except Exception as exc:
        pytest.fail(f"firebird test server not reachable ({exc}); run scripts/test-services.sh")
    return path, base.set(database=path)


def _drop_firebird(path: str) -> None:
    from firebird.driver import connect

    base = sa.engine.make_url(ADMIN_URLS["firebird"])
    connect(f"{base.host}/{base.port}:{path}", user=base.username, password=base.password).drop_database()


def _fresh_mssql() -> tuple[str, Any]:
    """A new database with snapshot isolation allowed (the adapter's session needs it)."""
    admin = sa.engine.make_url(ADMIN_URLS["mssql"])
    name = f"uttrekk_t_{uuid.uuid4().hex[:10]}"
    try:
        eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE [{name}]")
            conn.exec_driver_sql(f"ALTER DATABASE [{name}] SET ALLOW_SNAPSHOT_ISOLATION ON")
        eng.dispose()
    except ImportError as exc:
        pytest.fail(f"mssql driver missing ({exc}): pip install -e '.[mssql]' and apt-get install unixodbc")
    except sa.exc.DBAPIError as exc:
        pytest.fail(f"mssql test server not usable ({exc.orig}); see docs/test-servers.md")
    return name, admin.set(database=name)


def _drop_mssql(name: str) -> None:
    admin = sa.create_engine(sa.engine.make_url(ADMIN_URLS["mssql"]), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE")
        conn.exec_driver_sql(f"DROP DATABASE [{name}]")
    admin.dispose()


def _fresh_oracle() -> tuple[str, Any]:
    """A new user (an Oracle schema) with a generated password, in the admin URL's database."""
    admin = sa.engine.make_url(ADMIN_URLS["oracle"])
    user = f"UTTREKK_T_{uuid.uuid4().hex[:10].upper()}"
    password = "Pw" + uuid.uuid4().hex[:20]
    try:
        run_sql(admin, [
            f'CREATE USER {user} IDENTIFIED BY "{password}"',
            f"GRANT CREATE SESSION, CREATE TABLE, UNLIMITED TABLESPACE TO {user}",
        ])
    except ImportError as exc:
        pytest.fail(f"oracle driver missing ({exc}): pip install -e '.[oracle]'")
    except sa.exc.DBAPIError as exc:
        pytest.fail(f"oracle test server not usable ({exc.orig}); see docs/test-servers.md")
    return user, admin.set(username=user, password=password)


def _drop_oracle(user: str) -> None:
    """Drop the test user; sessions still open (a pool somewhere) are killed first."""
    import time

    admin = sa.create_engine(sa.engine.make_url(ADMIN_URLS["oracle"]))
    try:
        for attempt in range(10):
            with admin.connect() as conn:
                for sid, serial in conn.exec_driver_sql(
                        "SELECT sid, serial# FROM v$session WHERE username = :u", {"u": user}).all():
                    conn.exec_driver_sql(f"ALTER SYSTEM KILL SESSION '{sid},{serial}' IMMEDIATE")
                try:
                    conn.exec_driver_sql(f"DROP USER {user} CASCADE")
                    return
                except sa.exc.DatabaseError:  # ORA-01940: a killed session is still going away
                    if attempt == 9:
                        raise
            time.sleep(1)
    finally:
        admin.dispose()


def _fresh(engine_name: str) -> tuple[str, Any]:
    if engine_name not in ADMIN_URLS:
        pytest.skip(f"UTTREKK_TEST_{engine_name.upper()}_URL is not set (no {engine_name} server here; "
                    "docker/compose.yaml starts one, see docs/test-servers.md)")
    if engine_name == "firebird":
        return _fresh_firebird()
    if engine_name == "mssql":
        return _fresh_mssql()
    if engine_name == "oracle":
        return _fresh_oracle()
    admin = sa.engine.make_url(ADMIN_URLS[engine_name])
    name = f"uttrekk_t_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            if engine_name == "postgresql":
                conn.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
            else:
                conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"{engine_name} test server not reachable ({exc.orig}); run scripts/test-services.sh")
    finally:
        eng.dispose()
    return name, admin.set(database=name)


@pytest.fixture(scope="module", params=ENGINES)
def server_db(request):
    engine_name = request.param
    name, url = _fresh(engine_name)
    eng = sa.create_engine(url)
    with eng.begin() as conn:  # DDL committed first: Firebird sees new tables only after commit
        for stmt in SEED[engine_name]:
            conn.exec_driver_sql(stmt)
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO kode VALUES (:a, :b)"), [dict(a=a, b=b) for a, b in KODER])
        conn.execute(_sak_insert(engine_name), [_sak_params(engine_name, r) for r in _rows(engine_name)])
        conn.execute(sa.text("INSERT INTO logg VALUES (:a, :b)"), [dict(a=a, b=b) for a, b in LOGG])
    eng.dispose()
    yield engine_name, url
    if engine_name == "firebird":
        _drop_firebird(name)
        return
    if engine_name == "mssql":
        _drop_mssql(name)
        return
    if engine_name == "oracle":
        _drop_oracle(name)
        return
    admin = sa.create_engine(sa.engine.make_url(ADMIN_URLS[engine_name]), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if engine_name == "postgresql":
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


def _url_text(url: Any) -> str:
    return url.render_as_string(hide_password=False)


def _expected(value: Any) -> str | None:
    """The spec's text for a driver value (independent of uttrekk's renderers)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "J" if value else "N"
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text.replace(".", ",")
    if isinstance(value, dt.datetime):
        text = value.replace(tzinfo=None).isoformat()
        if "." in text:
            text = text.rstrip("0")
        if value.tzinfo is not None:
            off = value.utcoffset()
            sign = "-" if off < dt.timedelta(0) else "+"
            mins = abs(int(off.total_seconds())) // 60
            text += f"{sign}{mins // 60:02d}:{mins % 60:02d}"
        return text
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # PyMySQL returns TIME as a duration since midnight
        secs = int(value.total_seconds())
        return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    return str(value)


def test_extract_reads_back_value_by_value(server_db, tmp_path):
    engine_name, url = server_db
    out = tmp_path / "o"
    r = run("extract", _url_text(url), "--out", out, "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    content = out / "content"
    assert rb.validate_addml(content) == []
    tables = rb.read_addml(content / "addml.xml")
    assert set(tables) >= {"kode", "sak", "logg", "LOBFILER"}
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        source = {t: [tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY {o}")]
                  for t, o in (("kode", "kode"), ("sak", "id"), ("logg", "hendelse, sak_id"))}
        names = {t: list(conn.exec_driver_sql(f"SELECT * FROM {t} WHERE 1=0").keys()) for t in source}
    eng.dispose()
    for table, rows in source.items():
        got = rb.read_table(content, tables[table], "delimited")
        assert len(got) == len(rows) == tables[table].count
        for recno, (want_row, got_row) in enumerate(zip(rows, got, strict=True), 1):
            for col, value in zip(names[table], want_row, strict=True):
                if isinstance(value, bytes):
                    path = got_row[col]
                    assert (content / path).read_bytes() == value, (table, col, recno)
                elif isinstance(value, str) and len(value) > 2047:
                    assert got_row[col] is None
                    assert (content / got_row[f"{col}_fil"]).read_text(encoding="utf-8") == value
                elif col == "c" and value is not None:
                    assert got_row[col] == value.rstrip(" "), (table, col, recno)
                elif col == "penger" and engine_name == "postgresql" and value is not None:
                    assert got_row[col] == "12,50"  # money is selected as numeric, not locale text
                elif col == "aktiv" and engine_name == "mariadb" and value is not None:
                    assert got_row[col] == ("J" if value else "N")  # TINYINT(1) is archived as boolean
                elif col == "tidtz" and engine_name == "mariadb":
                    continue  # MariaDB TIMESTAMP is converted to the session time zone by design
                elif col == "tidtz" and engine_name == "oracle" and table == "sak":
                    # python-oracledb drops a TIMESTAMP WITH TIME ZONE's offset; the extract keeps it
                    assert got_row[col] == _expected(_rows("oracle")[recno - 1][8]), (table, col, recno)
                elif col == "kl" and engine_name == "oracle" and table == "sak":
                    assert got_row[col] == ORACLE_KL[recno], (table, col, recno, value)  # INTERVAL as ISO 8601
                elif engine_name == "oracle" and isinstance(value, Decimal):
                    # Oracle NUMBER has no trailing zeros (1250.50 reads as 1250.5); the extract pads to the scale
                    assert Decimal(got_row[col].replace(",", ".")) == value, (table, col, recno, value)
                else:
                    assert got_row[col] == _expected(value), (table, col, recno, value)
    addml = (content / "addml.xml").read_text(encoding="utf-8")
    assert "Statuskoder" in addml and "Sakens tittel" in addml  # comments become descriptions
    report = (out / "report" / "extraction.json").read_text(encoding="utf-8")
    assert any(word in report for word in ("REPEATABLE READ", "SNAPSHOT", "READ ONLY")), report


def test_unencodable_values_are_listed_with_row_keys(server_db, tmp_path):
    _, url = server_db
    r = run("extract", _url_text(url), "--out", tmp_path / "o", "-q")
    assert r.exit_code != 0
    assert "sak.tittel [id=3]: U+010C" in r.output and "kode.tekst [kode=L]: U+2013" in r.output
    assert not (tmp_path / "o").exists()


def test_writes_through_uttrekk_are_refused(server_db, request):
    from dialects import open_source
    engine_name, url = server_db
    if engine_name == "mssql":  # a known gap: the test shows up as XPASS if SQL Server ever refuses
        request.applymarker(pytest.mark.xfail(
            reason="SQL Server has no read-only session; only a login without write permission (or "
                   "ApplicationIntent=ReadOnly to a read-only replica) makes the server refuse writes",
            raises=pytest.fail.Exception, strict=True))
    d = open_source(_url_text(url))
    try:
        with d.snapshot():
            with pytest.raises(sa.exc.DBAPIError, match="(?i)read.only"):
                d._conn.exec_driver_sql("DELETE FROM logg")
    finally:
        d.close()
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM logg").scalar_one() == len(LOGG)
    eng.dispose()


def test_snapshot_hides_concurrent_writes(server_db):
    from dialects import open_source
    _, url = server_db
    d = open_source(_url_text(url))
    writer = sa.create_engine(url)
    try:
        table = d.reflect().table("logg")
        with d.snapshot():
            before = list(d.iter_rows(table, ("hendelse", "sak_id"), ("hendelse", "sak_id")))
            with writer.begin() as conn:
                conn.exec_driver_sql("INSERT INTO logg VALUES ('midt i uttrekket', 2)")
            during = list(d.iter_rows(table, ("hendelse", "sak_id"), ("hendelse", "sak_id")))
            assert during == before and d.count_rows(table) == len(before)
        assert d.count_rows(table) == len(before) + 1
    finally:
        with writer.begin() as conn:
            conn.exec_driver_sql("DELETE FROM logg WHERE hendelse = 'midt i uttrekket'")
        writer.dispose()
        d.close()


def test_server_down_and_wrong_password_give_clear_errors(tmp_path):
    r = run("extract", "postgresql+psycopg://postgres@127.0.0.1:1/x", "--out", tmp_path / "o")
    assert r.exit_code != 0 and "127.0.0.1" in r.output and "Traceback" not in r.output
    assert r.output.count("uttrekk: error:") == 1
    r = run("inspect", "mysql+pymysql://nobody:hemmelig-passord@127.0.0.1:3306/x")
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "hemmelig-passord" not in r.output
    assert not (tmp_path / "o").exists()


def test_password_from_environment_never_reaches_any_output(server_db, tmp_path, monkeypatch):
    engine_name, url = server_db
    if engine_name != "mariadb":
        pytest.skip("needs an engine that checks passwords for the test user (MariaDB here)")
    secret = "Hemmelig-" + uuid.uuid4().hex[:8]
    user = f"u{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{secret}'")
        conn.exec_driver_sql(f"GRANT SELECT ON {url.database}.* TO '{user}'@'127.0.0.1'")
    try:
        plain = url.set(username=user)._replace(password=None).render_as_string(hide_password=False)
        r = run("inspect", plain, "--no-scan")
        assert r.exit_code != 0 and "Access denied" in r.output
        monkeypatch.setenv("UTTREKK_PASSWORD", secret)
        out = tmp_path / "o"
        r = run("extract", plain, "--out", out, "--charset", "UTF-8")
        assert r.exit_code == 0, r.output
        assert secret not in r.output
        files = [p for p in out.rglob("*") if p.is_file()]
        assert len(files) > 5
        for p in files:
            assert secret.encode() not in p.read_bytes(), p
        monkeypatch.setenv("UTTREKK_PASSWORD", secret + "x")
        r = run("inspect", plain, "--no-scan")
        assert r.exit_code != 0 and secret not in r.output and "***" in r.output
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP USER '{user}'@'127.0.0.1'")
        admin.dispose()


def test_schema_and_views_on_postgresql(server_db, tmp_path):
    engine_name, url = server_db
    if engine_name != "postgresql":
        pytest.skip("schemas and materialized views are exercised on PostgreSQL")
    run_sql(url, [
        "CREATE SCHEMA arkiv",
        "CREATE TABLE arkiv.vedtak (id integer PRIMARY KEY, tekst text)",
        "INSERT INTO arkiv.vedtak VALUES (1, 'Innvilget'), (2, NULL)",
        "CREATE VIEW arkiv.innvilget AS SELECT id, tekst FROM arkiv.vedtak WHERE tekst IS NOT NULL",
        "CREATE MATERIALIZED VIEW arkiv.antall AS SELECT count(*) AS n FROM arkiv.vedtak",
    ])
    r = run("extract", _url_text(url), "--schema", "arkiv", "--out", tmp_path / "t", "-q")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "t" / "content").glob("*.txt")) == ["vedtak.txt"]
    r = run("extract", _url_text(url), "--schema", "arkiv", "--views", "--out", tmp_path / "v", "-q")
    assert r.exit_code == 0, r.output
    content = tmp_path / "v" / "content"
    assert (content / "innvilget.txt").read_bytes() == b"1;Innvilget\r\n"
    assert (content / "antall.txt").read_bytes() == b"1;2\r\n"  # no key: uttrekk_lopenr added
    described = (content / "addml.xml").read_text(encoding="utf-8")
    assert "(Hentet fra visningen innvilget.)" in described and "(Hentet fra visningen antall.)" in described
    r = run("inspect", _url_text(url), "--schema", "nope", "--no-scan")
    assert r.exit_code != 0 and "no schema 'nope'" in r.output and "arkiv" in r.output


def test_profile_init_then_strict_extract(server_db, tmp_path):
    """Issue 6 on every server: the skeleton from ``profile init`` names every table and column of the
    source, keeps the database's comments, and once each empty description is filled in the
    profile extracts with --strict; before that --strict refuses and names what is missing."""
    import tomlkit

    engine_name, url = server_db
    prof = tmp_path / "p.toml"
    r = run("profile", "init", _url_text(url), "-o", prof)
    assert r.exit_code == 0, r.output
    doc = tomlkit.parse(prof.read_text(encoding="utf-8"))
    tables = {name.lower(): t for name, t in doc["tables"].items()}
    assert {"kode", "sak", "logg"} <= set(tables)
    assert tables["kode"]["description"] == "Statuskoder"
    sak_columns = {c.lower(): v for c, v in tables["sak"]["columns"].items()}
    assert {"id", "kode", "tittel", "belop", "dato", "tid", "notat"} <= set(sak_columns)
    assert sak_columns["tittel"]["description"] == "Sakens tittel"

    r = run("extract", _url_text(url), "--profile", prof, "--strict", *DEPOT, "--out", tmp_path / "refused", "-q")
    assert r.exit_code != 0 and "--strict" in r.output and "logg" in r.output.lower(), r.output
    assert not (tmp_path / "refused").exists()

    filled = 0
    for name, table in doc["tables"].items():
        if not table.get("description"):
            table["description"] = f"Tabellen {name}"
            filled += 1
        for column, entry in table.get("columns", {}).items():
            if not entry.get("description"):
                entry["description"] = f"Kolonnen {column}"
                filled += 1
    assert filled >= 10
    doc["charset"]["utf8_fallback"] = True  # the seed holds Sámi letters and an en dash
    prof.write_text(tomlkit.dumps(doc), encoding="utf-8")
    r = run("extract", _url_text(url), "--profile", prof, "--strict", *DEPOT, "--out", tmp_path / "x", "-q")
    assert r.exit_code == 0, r.output
    addml = (tmp_path / "x" / "content" / "addml.xml").read_text(encoding="utf-8")
    assert "Statuskoder" in addml and "Sakens tittel" in addml and "Tabellen" in addml
