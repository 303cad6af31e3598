"""SQL Server and Oracle adapters without a server: the exact SQL they send, their type mapping,
their session set-up and the conversions they do in Python.

The adapters are built on SQLAlchemy mock engines, which compile SQL for a dialect without importing
its driver, so these tests need neither pyodbc nor oracledb (nor unixODBC). The real-server tests are
in ``test_servers.py`` and run when ``UTTREKK_TEST_MSSQL_URL`` / ``UTTREKK_TEST_ORACLE_URL`` are set.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, oracle
from sqlalchemy.sql.elements import quoted_name

from dialects import dialect_class, open_source
from dialects.base import Dialect, with_vendor_types
from dialects.mssql import MSSQL
from dialects.mssql import _note as mssql_note
from dialects.oracle import Oracle, bfile_name, plain_value
from dialects.oracle import _note as oracle_note
from extractor.errors import ConfigError, SourceError
from extractor.model import Column, Schema, Table


def _mock(url: str) -> Any:
    return sa.create_mock_engine(url, lambda *a, **k: None)


@pytest.fixture
def ms() -> MSSQL:
    engine = _mock("mssql+pyodbc://u@h:1433/db?driver=ODBC+Driver+18+for+SQL+Server")
    engine.dialect.server_version_info = (16, 0)  # as after connecting to SQL Server 2022
    return MSSQL(engine, "mssql test")


@pytest.fixture
def ora() -> Oracle:
    return Oracle(_mock("oracle+oracledb://u@h:1521/?service_name=FREEPDB1"), "oracle test")


def sql(dialect: Dialect, table: Table, order_by: tuple[str, ...] = ()) -> str:
    query = dialect.select_sql(table, table.column_names, order_by)
    return str(query.compile(dialect=dialect.engine.dialect)).replace("\n", "")


def one_column(native: str, kind: str = "string", name: str = "c", **facts: Any) -> Table:
    return Table("t", (Column(name, native, kind, **facts),))  # type: ignore[arg-type]


# -- SQL Server: the SELECT ----------------------------------------------------------------------


@pytest.mark.parametrize("native,kind,facts,selected", [
    ("DATETIMEOFFSET", "timestamp", {"timezone": True}, "CONVERT(NVARCHAR(34), c, 126) AS c"),
    ("DATETIMEOFFSET(3)", "timestamp", {"timezone": True}, "CONVERT(NVARCHAR(34), c, 126) AS c"),
    ("DATETIME2", "timestamp", {}, "CONVERT(NVARCHAR(27), c, 126) AS c"),
    ("TIME", "time", {}, "CAST(c AS NVARCHAR(16)) AS c"),
    ("DATETIME", "timestamp", {}, "c"),
    ("SMALLDATETIME", "timestamp", {}, "c"),
    ("DATE", "date", {}, "c"),
    ("MONEY", "decimal", {"scale": 4}, "CAST(c AS DECIMAL(19, 4)) AS c"),
    ("SMALLMONEY", "decimal", {"scale": 4}, "CAST(c AS DECIMAL(10, 4)) AS c"),
    ("UNIQUEIDENTIFIER", "string", {"length": 36}, "CONVERT(CHAR(36), c) AS c"),
    ("TIMESTAMP", "string", {"length": 18}, "CONVERT(CHAR(18), c, 1) AS c"),
    ("ROWVERSION", "string", {"length": 18}, "CONVERT(CHAR(18), c, 1) AS c"),
    ("XML", "string", {}, "CAST(c AS NVARCHAR(max)) AS c"),
    ("NTEXT", "string", {}, "CAST(c AS NVARCHAR(max)) AS c"),
    ("TEXT COLLATE Danish_Norwegian_CI_AS", "string", {}, "CAST(c AS NVARCHAR(max)) AS c"),
    ("VARCHAR(20) COLLATE Danish_Norwegian_CI_AS", "string", {"length": 20}, "CAST(c AS NVARCHAR(20)) AS c"),
    ("VARCHAR(max)", "string", {}, "CAST(c AS NVARCHAR(max)) AS c"),
    ("VARCHAR(8000)", "string", {"length": 8000}, "CAST(c AS NVARCHAR(max)) AS c"),
    ("CHAR(4)", "char", {"length": 4}, "CAST(c AS NCHAR(4)) AS c"),
    ("NVARCHAR(20)", "string", {"length": 20}, "c"),
    ("NCHAR(4)", "char", {"length": 4}, "c"),
    ("HIERARCHYID", "string", {}, "c.ToString() AS c"),
    ("GEOGRAPHY", "string", {}, "'SRID=' + CAST(c.STSrid AS VARCHAR(11)) + ';' + c.ToString() AS c"),
    ("GEOMETRY", "string", {}, "'SRID=' + CAST(c.STSrid AS VARCHAR(11)) + ';' + c.ToString() AS c"),
    ("Postnummer (CLR)", "string", {}, "c.ToString() AS c"),
    ("IMAGE", "binary", {}, "c"),
    ("VARBINARY(max)", "binary", {}, "c"),
    ("BIT", "boolean", {}, "c"),
    ("TINYINT", "integer", {}, "c"),
    ("FLOAT", "float", {"float_bits": 53}, "c"),
    ("REAL", "float", {"float_bits": 24}, "c"),  # pyodbc reads it as a C double: its exact value
    ("(no type)", "unknown", {}, "c"),
])
def test_mssql_selects_each_type_exactly(ms, native, kind, facts, selected):
    assert sql(ms, one_column(native, kind, **facts)) == f"SELECT {selected} FROM t"


def test_mssql_sql_variant_is_text_by_its_base_type(ms):
    text = sql(ms, one_column("SQL_VARIANT"))
    assert text.startswith("SELECT CASE CAST(SQL_VARIANT_PROPERTY(c, 'BaseType') AS NVARCHAR(128)) ")
    assert "WHEN 'datetimeoffset' THEN CONVERT(NVARCHAR(34), CAST(c AS DATETIMEOFFSET(7)), 126)" in text
    assert "WHEN 'float' THEN CONVERT(NVARCHAR(30), CAST(c AS FLOAT), 3)" in text
    assert "WHEN 'money' THEN CONVERT(NVARCHAR(30), CAST(c AS MONEY), 2)" in text
    assert "WHEN 'varbinary' THEN CONVERT(NVARCHAR(max), CAST(c AS VARBINARY(8000)), 1)" in text
    assert text.endswith(" ELSE CAST(c AS NVARCHAR(max)) END AS c FROM t")


SAK_MSSQL = Table("Sak tabell", (
    Column("id", "INTEGER", "integer", nullable=False),
    Column("select", "NVARCHAR(20)", "string", length=20),
    Column("Æøå navn", "VARCHAR(30) COLLATE Danish_Norwegian_CI_AS", "string", length=30),
    Column("tidtz", "DATETIMEOFFSET", "timestamp", timezone=True),
    Column("bilde", "IMAGE", "binary"),
    Column("notat", "NTEXT", "string"),
), primary_key=("id",), schema="arkiv")


def test_mssql_full_select_quotes_odd_names_and_orders_by_sortable_terms(ms):
    assert sql(ms, SAK_MSSQL, ("id", "select", "Æøå navn", "tidtz", "bilde", "notat")) == (
        "SELECT id, [select], CAST([Æøå navn] AS NVARCHAR(30)) AS [Æøå navn], "
        "CONVERT(NVARCHAR(34), tidtz, 126) AS tidtz, bilde, CAST(notat AS NVARCHAR(max)) AS notat "
        "FROM arkiv.[Sak tabell] "
        # converted columns sort by their alias (the text); image by its bytes as varbinary(max)
        "ORDER BY id, [select], [Æøå navn], tidtz, CAST(bilde AS VARBINARY(max)), notat"
    )


def test_mssql_odd_name_without_order_by(ms):
    assert sql(ms, one_column("INTEGER", "integer", name="Ærlig id")) == "SELECT [Ærlig id] FROM t"


def test_mssql_unknown_type_is_left_out_of_order_by(ms):
    table = Table("t", (Column("id", "INTEGER", "integer"), Column("rar", "(no type)", "unknown")))
    assert sql(ms, table, ("id", "rar")) == "SELECT id, rar FROM t ORDER BY id"


# -- SQL Server: types -----------------------------------------------------------------------------


@pytest.mark.parametrize("satype,kind,facts", [
    (mssql.DATETIMEOFFSET(), "timestamp", {"timezone": True}),
    (mssql.DATETIMEOFFSET(7), "timestamp", {"timezone": True}),
    (mssql.UNIQUEIDENTIFIER(), "string", {"length": 36}),
    (mssql.MONEY(), "decimal", {"precision": 19, "scale": 4}),
    (mssql.SMALLMONEY(), "decimal", {"precision": 10, "scale": 4}),
    (mssql.SQL_VARIANT(), "string", {}),
    (mssql.XML(), "string", {}),
    (mssql.IMAGE(), "binary", {}),
    (mssql.NTEXT(), "string", {}),
    (mssql.TEXT(), "string", {}),
    (mssql.TIMESTAMP(), "string", {"length": 18}),
    (mssql.ROWVERSION(), "string", {"length": 18}),
    (mssql.BIT(), "boolean", {}),
    (mssql.TINYINT(), "integer", {}),
    (mssql.DATETIME2(), "timestamp", {}),
    (mssql.SMALLDATETIME(), "timestamp", {}),
    (mssql.DATETIME(), "timestamp", {}),
    (mssql.DATE(), "date", {}),
    (mssql.TIME(), "time", {}),
    (mssql.NCHAR(4), "char", {"length": 4}),
    (mssql.NVARCHAR(None), "string", {"length": None}),
    (mssql.VARBINARY(None), "binary", {}),
    (mssql.DECIMAL(12, 2), "decimal", {"precision": 12, "scale": 2}),
    (mssql.REAL(), "float", {"float_bits": 24}),  # real and float(n <= 24): single precision
    (mssql.FLOAT(precision=24), "float", {"float_bits": 24}),
    (mssql.FLOAT(precision=53), "float", {"float_bits": 53}),
    (mssql.FLOAT(), "float", {"float_bits": 53}),
    (mssql.DOUBLE_PRECISION(), "float", {"float_bits": 53}),
    (sa.types.NullType(), "unknown", {}),
])
def test_mssql_column_kind(ms, satype, kind, facts):
    got_kind, got_facts = ms.column_kind(satype)
    assert got_kind == kind
    assert {k: got_facts.get(k) for k in facts} == facts


def test_mssql_clr_types_get_their_names_from_the_catalogue():
    reflected = Schema((Table("sted", (
        Column("id", "INTEGER", "integer"),
        Column("sti", "(no type)", "unknown"),
        Column("punkt", "(no type)", "unknown"),
        Column("egen", "(no type)", "unknown"),
        Column("rar", "(no type)", "unknown"),
        Column("variant", "SQL_VARIANT", "string"),
    )),))
    found = {("sted", "sti"): ("HIERARCHYID", "string"), ("sted", "punkt"): ("GEOGRAPHY", "string"),
             ("sted", "egen"): ("Postnummer (CLR)", "string")}
    got = with_vendor_types(reflected, found, mssql_note).table("sted")
    assert [(c.native_type, c.kind) for c in got.columns] == [
        ("INTEGER", "integer"), ("HIERARCHYID", "string"), ("GEOGRAPHY", "string"),
        ("Postnummer (CLR)", "string"), ("(no type)", "unknown"), ("SQL_VARIANT", "string")]
    notes = with_vendor_types(reflected, found, mssql_note).notes
    assert len(notes) == 2
    assert notes[0].startswith("sted.rar: type (no type) is not known to uttrekk")
    assert notes[1] == "sted.variant: sql_variant: each value is written as its text; its base type is not kept"


def test_mssql_vendor_type_names():
    from dialects.mssql import vendor_type
    assert vendor_type("hierarchyid", True) == ("HIERARCHYID", "string")
    assert vendor_type("geometry", True) == ("GEOMETRY", "string")
    assert vendor_type("Postnummer", True) == ("Postnummer (CLR)", "string")
    assert vendor_type("noe_annet", False) == ("noe_annet", "unknown")


# -- SQL Server: the session -----------------------------------------------------------------------


class FakeConnection:
    """Records what an adapter does to its connection; answers one query with ``facts``."""

    def __init__(self, facts: tuple[Any, ...] = ()) -> None:
        self.facts = facts
        self.calls: list[tuple[str, Any]] = []

    def exec_driver_sql(self, statement: str) -> Any:
        self.calls.append(("sql", statement))
        return SimpleNamespace(one=lambda: self.facts)

    def execution_options(self, **options: Any) -> FakeConnection:
        self.calls.append(("options", options))
        return self

    def begin(self) -> None:
        self.calls.append(("begin", None))

    def rollback(self) -> None:
        self.calls.append(("rollback", None))


def test_mssql_snapshot_when_the_database_allows_it(ms):
    conn = FakeConnection((1, False, "READ_WRITE"))
    ms.begin_snapshot(conn)
    assert conn.calls[0][0] == "sql" and "snapshot_isolation_state" in conn.calls[0][1]
    assert conn.calls[1:] == [("rollback", None), ("options", {"isolation_level": "SNAPSHOT"}), ("begin", None)]
    assert ms.snapshot_note.startswith("one SNAPSHOT transaction")
    assert "no read-only session" in ms.snapshot_note


def test_mssql_without_snapshot_isolation_says_so_in_the_report(ms):
    conn = FakeConnection((0, True, "READ_ONLY"))
    ms.begin_snapshot(conn)
    assert ("options", {"isolation_level": "READ COMMITTED"}) in conn.calls
    assert conn.calls[-1] == ("begin", None)
    note = ms.snapshot_note
    assert note.startswith("WARNING: no snapshot") and "ALLOW_SNAPSHOT_ISOLATION" in note
    assert "row versioning" in note and "database is READ_ONLY" in note


# -- Oracle: the SELECT ------------------------------------------------------------------------------


TS = 'SYYYY-MM-DD"T"HH24:MI:SS'


@pytest.mark.parametrize("native,kind,facts,selected", [
    ("DATE", "timestamp", {}, f"LTRIM(TO_CHAR(c, '{TS}')) AS c"),
    ("TIMESTAMP", "timestamp", {}, f"LTRIM(TO_CHAR(c, '{TS}.FF9')) AS c"),
    ("TIMESTAMP WITH TIME ZONE", "timestamp", {"timezone": True}, f"LTRIM(TO_CHAR(c, '{TS}.FF9TZH:TZM')) AS c"),
    ("TIMESTAMP WITH LOCAL TIME ZONE", "timestamp", {"timezone": True},
     f"LTRIM(TO_CHAR(SYS_EXTRACT_UTC(c), '{TS}.FF9\"+00:00\"')) AS c"),
    ("NUMBER", "decimal", {}, "c"),
    ("NUMBER(10, 0)", "integer", {"precision": 10, "scale": 0}, "c"),
    ("NUMBER(12, 2)", "decimal", {"precision": 12, "scale": 2}, "c"),
    ("NUMBER(10, -2)", "integer", {"precision": 10, "scale": -2}, "CAST(c AS NUMBER) AS c"),
    ("NUMBER(*, 2)", "decimal", {"scale": 2}, "CAST(c AS NUMBER) AS c"),
    ("INTEGER", "integer", {}, "c"),
    ("FLOAT(50)", "float", {}, "CAST(c AS NUMBER) AS c"),
    ("DOUBLE PRECISION", "float", {}, "CAST(c AS NUMBER) AS c"),
    ("REAL", "float", {}, "CAST(c AS NUMBER) AS c"),
    ("BINARY_DOUBLE", "float", {"float_bits": 53}, "c"),
    ("BINARY_FLOAT", "float", {"float_bits": 24}, "c"),  # python-oracledb gives its exact value
    ("RAW(16)", "string", {"length": 32}, "RAWTOHEX(c) AS c"),
    ("ROWID", "string", {"length": 18}, "ROWIDTOCHAR(c) AS c"),
    ("UROWID", "string", {}, "CAST(c AS VARCHAR2(4000)) AS c"),
    ("XMLTYPE", "string", {}, "XMLSERIALIZE(CONTENT c AS CLOB) AS c"),
    ("JSON", "string", {}, "JSON_SERIALIZE(c RETURNING CLOB) AS c"),
    ("VECTOR(*,*,*)", "string", {}, "FROM_VECTOR(c RETURNING CLOB) AS c"),
    ("CLOB", "string", {}, "c"),
    ("NCLOB", "string", {}, "c"),
    ("BLOB", "binary", {}, "c"),
    ("LONG", "string", {}, "c"),
    ("LONG RAW", "binary", {}, "c"),
    ("BFILE", "string", {}, "c"),
    ("VARCHAR2(100 CHAR)", "string", {"length": 100}, "c"),
    ("NVARCHAR2(10)", "string", {"length": 10}, "c"),
    ("CHAR(4)", "char", {"length": 4}, "c"),
    ("BOOLEAN", "boolean", {}, "c"),
    ("MDSYS.SDO_GEOMETRY", "unknown", {}, "c"),
])
def test_oracle_selects_each_type_exactly(ora, native, kind, facts, selected):
    assert sql(ora, one_column(native, kind, **facts)) == f"SELECT {selected} FROM t"


def test_oracle_intervals_are_iso_8601_durations_built_on_the_server(ora):
    ds = sql(ora, one_column("INTERVAL DAY TO SECOND"))
    assert ds == (
        "SELECT CASE WHEN c = INTERVAL '0' SECOND THEN 'PT0S' WHEN c IS NOT NULL THEN"
        " CASE WHEN c < INTERVAL '0' SECOND THEN '-' END || 'P'"
        " || CASE WHEN EXTRACT(DAY FROM c) <> 0 THEN ABS(EXTRACT(DAY FROM c)) || 'D' END"
        " || CASE WHEN EXTRACT(HOUR FROM c) <> 0 OR EXTRACT(MINUTE FROM c) <> 0"
        " OR EXTRACT(SECOND FROM c) <> 0 THEN 'T' END"
        " || CASE WHEN EXTRACT(HOUR FROM c) <> 0 THEN ABS(EXTRACT(HOUR FROM c)) || 'H' END"
        " || CASE WHEN EXTRACT(MINUTE FROM c) <> 0 THEN ABS(EXTRACT(MINUTE FROM c)) || 'M' END"
        " || CASE WHEN EXTRACT(SECOND FROM c) <> 0"
        " THEN RTRIM(TO_CHAR(ABS(EXTRACT(SECOND FROM c)), 'FM90.999999999'), '.') || 'S' END"
        " END AS c FROM t"
    )
    ym = sql(ora, one_column("INTERVAL YEAR(2) TO MONTH"))
    assert ym == (
        "SELECT CASE WHEN c = INTERVAL '0' MONTH THEN 'P0M' WHEN c IS NOT NULL THEN"
        " CASE WHEN c < INTERVAL '0' MONTH THEN '-' END || 'P'"
        " || CASE WHEN EXTRACT(YEAR FROM c) <> 0 THEN ABS(EXTRACT(YEAR FROM c)) || 'Y' END"
        " || CASE WHEN EXTRACT(MONTH FROM c) <> 0 THEN ABS(EXTRACT(MONTH FROM c)) || 'M' END"
        " END AS c FROM t"
    )


SAK_ORACLE = Table("sak", (
    Column("id", "INTEGER", "integer", nullable=False),
    Column("select", "VARCHAR2(20 CHAR)", "string", length=20),  # reflected from a column named "select"
    Column("Æøå navn", "VARCHAR2(30 CHAR)", "string", length=30),
    Column(quoted_name("kode", quote=True), "VARCHAR2(4 CHAR)", "string", length=4),  # created as "kode"
    Column("dato", "DATE", "timestamp"),
    Column("notat", "CLOB", "string"),
    Column("data", "BLOB", "binary"),
    Column("vedlegg", "BFILE", "string"),
    Column("dok", "XMLTYPE", "string"),
    Column("punkt", "MDSYS.SDO_GEOMETRY", "unknown"),
), schema="arkiv")


def test_oracle_full_select_quotes_odd_names_and_leaves_unsortable_types_out_of_order_by(ora):
    assert sql(ora, SAK_ORACLE, SAK_ORACLE.column_names) == (
        "SELECT id, \"select\", \"Æøå navn\", \"kode\", LTRIM(TO_CHAR(dato, 'SYYYY-MM-DD\"T\"HH24:MI:SS')) AS dato, "
        "notat, data, vedlegg, XMLSERIALIZE(CONTENT dok AS CLOB) AS dok, punkt "
        "FROM arkiv.sak "
        "ORDER BY id, \"select\", \"Æøå navn\", \"kode\", dato, "
        "DBMS_LOB.GETLENGTH(notat), DBMS_LOB.SUBSTR(notat, 1000, 1), "
        "DBMS_LOB.GETLENGTH(data), DBMS_LOB.SUBSTR(data, 2000, 1)"
    )


def test_oracle_lower_case_names_are_unquoted_so_they_match_upper_case_storage(ora):
    # SQLAlchemy reflects KODE as "kode" (case-insensitive); it must render bare, i.e. as KODE
    table = Table("kode", (Column("kode", "VARCHAR2(4 CHAR)", "string"), Column("tekst", "CLOB", "string")))
    assert sql(ora, table, ("kode",)) == "SELECT kode, tekst FROM kode ORDER BY kode"


def test_oracle_table_of_unsortable_columns_only_has_no_order_by(ora):
    table = Table("filer", (Column("vedlegg", "BFILE", "string"), Column("tekst", "LONG", "string")))
    assert sql(ora, table, ("vedlegg", "tekst")) == "SELECT vedlegg, tekst FROM filer"


# -- Oracle: types -----------------------------------------------------------------------------------


@pytest.mark.parametrize("satype,kind,facts", [
    (oracle.NUMBER(), "decimal", {"precision": None, "scale": None}),
    (oracle.NUMBER(10, 0), "integer", {"precision": 10, "scale": 0}),
    (oracle.NUMBER(10, -2), "integer", {"precision": 10, "scale": -2}),
    (oracle.NUMBER(12, 2), "decimal", {"precision": 12, "scale": 2}),
    (oracle.NUMBER(None, 2), "decimal", {"scale": 2}),
    (sa.INTEGER(), "integer", {}),
    (oracle.FLOAT(binary_precision=126), "float", {"float_bits": None}),  # decimal NUMBERs: every digit
    (oracle.FLOAT(binary_precision=10), "float", {"float_bits": None}),
    (sa.REAL(), "float", {"float_bits": None}),
    (sa.DOUBLE_PRECISION(), "float", {"float_bits": None}),
    (oracle.BINARY_DOUBLE(), "float", {"float_bits": 53}),
    (oracle.BINARY_FLOAT(), "float", {"float_bits": 24}),
    (oracle.DATE(), "timestamp", {}),
    (oracle.TIMESTAMP(), "timestamp", {"timezone": False}),
    (oracle.TIMESTAMP(timezone=True), "timestamp", {"timezone": True}),
    (oracle.TIMESTAMP(local_timezone=True), "timestamp", {"timezone": True}),
    (oracle.CLOB(), "string", {}),
    (oracle.NCLOB(), "string", {}),
    (oracle.LONG(), "string", {}),
    (oracle.BLOB(), "binary", {}),
    (oracle.RAW(16), "string", {"length": 32}),
    (oracle.ROWID(), "string", {"length": 18}),
    (oracle.INTERVAL(), "string", {}),
    (oracle.INTERVAL(day_precision=2, second_precision=9), "string", {}),
    (oracle.BFILE(), "string", {}),
    (oracle.VARCHAR2(100), "string", {"length": 100}),
    (oracle.NVARCHAR2(10), "string", {"length": 10}),
    (sa.CHAR(4), "char", {"length": 4}),
    (sa.NCHAR(4), "char", {"length": 4}),
    (oracle.BOOLEAN(), "boolean", {}),
    (oracle.JSON(), "string", {}),
    (sa.types.NullType(), "unknown", {}),
])
def test_oracle_column_kind(ora, satype, kind, facts):
    got_kind, got_facts = ora.column_kind(satype)
    assert got_kind == kind
    assert {k: got_facts.get(k) for k in facts} == facts


def test_oracle_vector_is_text(ora):
    vector = getattr(oracle, "VECTOR", None)
    if vector is None:
        pytest.skip("this SQLAlchemy has no oracle.VECTOR (added in 2.0.41)")
    assert ora.column_kind(vector())[0] == "string"


def test_oracle_types_sqlalchemy_does_not_know_come_from_all_tab_cols():
    from dialects.oracle import vendor_type
    assert vendor_type("INTERVAL YEAR(2) TO MONTH", None) == ("INTERVAL YEAR(2) TO MONTH", "string")
    assert vendor_type("UROWID", None) == ("UROWID", "string")
    assert vendor_type("XMLTYPE", "SYS") == ("XMLTYPE", "string")
    assert vendor_type("LONG RAW", None) == ("LONG RAW", "binary")
    assert vendor_type("SDO_GEOMETRY", "MDSYS") == ("MDSYS.SDO_GEOMETRY", "unknown")
    assert vendor_type("ANYDATA", "SYS") == ("SYS.ANYDATA", "unknown")
    reflected = Schema((Table("sak", (
        Column("id", "INTEGER", "integer"),
        Column("varighet", "(no type)", "unknown"),
        Column("punkt", "(no type)", "unknown"),
        Column("rad", "ROWID", "string"),
        Column("vedlegg", "BFILE", "string"),
    )),))
    found = {("sak", "varighet"): vendor_type("INTERVAL YEAR(2) TO MONTH", None),
             ("sak", "punkt"): vendor_type("SDO_GEOMETRY", "MDSYS")}
    got = with_vendor_types(reflected, found, oracle_note)
    assert [(c.native_type, c.kind) for c in got.table("sak").columns] == [
        ("INTEGER", "integer"), ("INTERVAL YEAR(2) TO MONTH", "string"), ("MDSYS.SDO_GEOMETRY", "unknown"),
        ("ROWID", "string"), ("BFILE", "string")]
    notes = "\n".join(got.notes)
    assert "sak.punkt: object type MDSYS.SDO_GEOMETRY" in notes
    assert "sak.rad: ROWID: physical row addresses" in notes
    assert "sak.vedlegg: BFILE: only the directory alias and file name" in notes


# -- Oracle: the session and the values --------------------------------------------------------------


def test_oracle_session_is_one_read_only_transaction(ora):
    conn = FakeConnection()
    ora.begin_snapshot(conn)
    assert conn.calls == [("begin", None), ("sql", "SET TRANSACTION READ ONLY")]
    assert "READ ONLY" in ora.snapshot_note


class FakeLob:
    def __init__(self, data: Any, directory: str = "", name: str = "") -> None:
        self.data, self.directory, self.name = data, directory, name
        self.type = "DB_TYPE_CLOB"  # a DbType, not an object type

    def read(self) -> Any:
        return self.data

    def getfilename(self) -> tuple[str, str]:
        return self.directory, self.name


class FakeObject:
    """Shaped like oracledb.DbObject: ``type.attributes``/``type.iscollection``, ``aslist()``."""

    def __init__(self, attrs: dict[str, Any] | None = None, items: list[Any] | None = None) -> None:
        names = [SimpleNamespace(name=k) for k in (attrs or {})]
        self.type = SimpleNamespace(iscollection=items is not None, attributes=names)
        self._items = items
        for k, v in (attrs or {}).items():
            setattr(self, k, v)

    def aslist(self) -> list[Any]:
        return list(self._items or [])


def test_oracle_objects_lobs_and_bfiles_become_plain_values():
    point = FakeObject({"X": Decimal("10.5"), "Y": Decimal("59.9"), "Z": None})
    geometry = FakeObject({"SDO_GTYPE": 2001, "SDO_SRID": 4326, "SDO_POINT": point, "SDO_ELEM_INFO": None,
                           "SDO_ORDINATES": FakeObject(items=[Decimal(1), Decimal(2)])})
    assert plain_value(geometry) == {
        "SDO_GTYPE": 2001, "SDO_SRID": 4326, "SDO_POINT": {"X": Decimal("10.5"), "Y": Decimal("59.9"), "Z": None},
        "SDO_ELEM_INFO": None, "SDO_ORDINATES": [Decimal(1), Decimal(2)]}
    assert plain_value(FakeLob("lang tekst")) == "lang tekst"
    assert plain_value(FakeLob(b"%PDF")) == b"%PDF"
    for value in ("tekst", b"bytes", 12, dt.date(2020, 1, 1)):
        assert plain_value(value) == value
    assert bfile_name(FakeLob(None, "DOKUMENTER", "søknad 1.pdf")) == "DOKUMENTER/søknad 1.pdf"


def test_oracle_iter_rows_converts_only_the_columns_that_need_it(ora, monkeypatch):
    table = Table("sak", (Column("id", "INTEGER", "integer"), Column("vedlegg", "BFILE", "string"),
                          Column("notat", "CLOB", "string"), Column("punkt", "MDSYS.SDO_GEOMETRY", "unknown")))
    rows = [(1, FakeLob(None, "DOK", "a.pdf"), FakeLob("tekst"), FakeObject({"X": 1})), (2, None, None, None)]
    monkeypatch.setattr(Dialect, "iter_rows", lambda self, t, c, o: iter(rows))
    assert list(ora.iter_rows(table, table.column_names, ())) == [
        (1, "DOK/a.pdf", "tekst", {"X": 1}), (2, None, None, None)]
    plain = Table("t", (Column("id", "INTEGER", "integer"),))
    monkeypatch.setattr(Dialect, "iter_rows", lambda self, t, c, o: iter([(1,)]))
    assert list(ora.iter_rows(plain, ("id",), ())) == [(1,)]


# -- registry --------------------------------------------------------------------------------------


def test_registry_finds_mssql_and_oracle():
    assert dialect_class("mssql") is MSSQL
    assert dialect_class("oracle") is Oracle


def test_misspelled_engine_gets_a_suggestion():
    with pytest.raises(ConfigError, match="Did you mean 'oracle'\\?"):
        dialect_class("orcale")
    with pytest.raises(ConfigError, match="unknown database type 'orcale'.*Did you mean 'oracle'\\?"):
        open_source("orcale://scott@db.example:1521/?service_name=FREEPDB1")


def test_open_source_oracle():
    try:
        import oracledb  # noqa: F401
    except ImportError:
        with pytest.raises(SourceError, match=r"pip install 'uttrekk\[oracle\]'"):
            open_source("oracle+oracledb://scott@db.example:1521/?service_name=FREEPDB1")
        return
    d = open_source("oracle+oracledb://scott@db.example:1521/?service_name=FREEPDB1")  # no connection yet
    try:
        assert isinstance(d, Oracle) and d.engine_name == "oracle"
    finally:
        d.close()


def test_open_source_mssql_or_a_clear_message_when_the_odbc_library_is_missing():
    url = "mssql+pyodbc://sa@db.example:1433/arkiv?driver=ODBC+Driver+18+for+SQL+Server"
    try:
        import pyodbc  # noqa: F401
    except ImportError as exc:
        hint = "unixODBC" if "libodbc" in str(exc) else r"pip install 'uttrekk\[mssql\]'"
        with pytest.raises(SourceError, match=hint):
            open_source(url)
        return
    d = open_source(url)  # no connection yet
    try:
        assert isinstance(d, MSSQL) and d.engine_name == "mssql"
    finally:
        d.close()


# -- pointers and relations: the joins and anti-joins the keys stage sends -----------------------


def _pointer_tables(native: str) -> tuple[Table, Table]:
    from extractor.model import Lookup

    target = Table("sak", (Column("id", "INTEGER", "integer", nullable=False), Column("tittel", "VARCHAR(10)", "string")),
                   ("id",))
    ref = Column("sak_ref", native, "string")
    lk = Lookup("sak_ref", ref, target, "rowid" if native == "ROWID" else "physloc", "id", ("id",), 1, "sak_ref_o")
    table = Table("dok", (Column("id", "INTEGER", "integer", nullable=False),
                          Column("sak_ref", "INTEGER (peker til sak)", "integer"), Column("sak_ref_o", native, "string")),
                  ("id",), lookups=(lk,))
    return table, target


def test_oracle_pointer_joins_on_rowid_text(ora):
    table, _ = _pointer_tables("ROWID")
    got = sql(ora, table, ("id",))
    assert ("LEFT OUTER JOIN (SELECT ROWIDTOCHAR(ROWID) AS ux_a, id AS ux_k FROM sak) ux_l0 "
            "ON CAST(sak_ref AS VARCHAR2(18)) = ux_l0.ux_a") in got
    assert got.startswith("SELECT id, ux_l0.ux_k AS ux_v0, ROWIDTOCHAR(sak_ref) AS ux_o0 FROM dok ")  # original kept
    assert got.endswith("ORDER BY id")


def test_mssql_pointer_joins_on_physloc(ms):
    table, _ = _pointer_tables("BINARY(8)")
    got = sql(ms, table, ("id",))
    assert "LEFT OUTER JOIN (SELECT %%physloc%% AS ux_a, id AS ux_k FROM sak) AS ux_l0 ON sak_ref = ux_l0.ux_a" in got


@pytest.mark.parametrize("url", ["mssql+pyodbc://u@h/db?driver=x", "oracle+oracledb://u@h/?service_name=x"])
def test_dangling_references_are_one_anti_join_numbered_in_extract_order(url):
    engine = _mock(url)
    d = dialect_class(engine.dialect.name)(engine, "test")
    src = Table("sak", (Column("id", "INTEGER", "integer"), Column("status", "VARCHAR(2)", "string")))
    tgt = Table("status", (Column("kode", "VARCHAR(2)", "string"),), ("kode",))
    got = str(d.dangling_sql(src, ("status",), ("id", "status"), tgt, ("kode",), ()).compile(dialect=engine.dialect))
    got = " ".join(got.split())
    assert "ROW_NUMBER() OVER (ORDER BY id, status) AS ux_rn" in got
    assert "NOT (EXISTS (SELECT * FROM status ux_t WHERE ux_t.kode = ux_s.ux_c0))" in got.replace("AS ux_t", "ux_t")
    assert got.endswith("ORDER BY ux_s.ux_rn")
