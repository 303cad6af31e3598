"""MS Access files as SOURCE: real files read value by value against two independent readers,
decoders against hand-computed encodings, hostile files, and everything downstream.

Real files (tests/access_files.py): two Jet 4 ``.mdb`` from pinned registry packages, and two ACE
``.accdb`` where the shared fixtures are present. No writer of Access files runs here, so Currency,
Decimal, GUID, Single, time-only and negative fractional dates, compressed text, Jet 3 text,
calculated fields and lookups are proven on bytes built from the format's documentation
(``test_decoders_*``), and Jet 3 row layout by a row built by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from dialects.kinds import jet_values as jv
from dialects.kinds.jet_catalog import _lookup
from dialects.kinds.jet_header import HEADER_KEY, SCRAMBLED_FROM, jet_header, rc4
from dialects.kinds.jet_pages import JetFile
from dialects.kinds.jet_tables import JetColumn, JetTable, crack, read_tdef, rows
from extractor.model import PROVENANCE_LABELS
from extractor.source_dialect import SourceDialect
from tests.access_files import ace_files, mdb_reader, mdbtools, real_file
from tests.conftest import fails, run

PERIOD = ("--period", "1600-01-01..2014-12-31", "--archive-creator", "Testkommune", "--system-name", "Frukt")


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return [real_file("meza.mdb"), real_file("fruit.mdb"), *ace_files()]


def copy_of(path: Path) -> tuple[dict, list[tuple[str, list[tuple]]]]:
    """What uttrekk loads from ``path``: its schema.json and each table's rows in file order."""
    from dialects.kinds import open_source

    source = open_source(str(path), quiet=True)
    assert isinstance(source, SourceDialect)  # the whole protocol extractor may ask of a source
    try:
        schema = source.facts
        con = sqlite3.connect(f"file:{source.path}?mode=ro", uri=True)
        tables = [(t["name"], con.execute(f'SELECT * FROM "{t["name"]}" ORDER BY rowid').fetchall())
                  for t in schema["tables"]]
        con.close()
    finally:
        source.close()
    return schema, tables


# -- values, against mdb-reader and mdbtools ---------------------------------------------------------


def same_as_mdb_reader(kind: str, ours: object, theirs: object) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if kind == "boolean":
        return bool(ours) == theirs
    if kind == "timestamp":
        moment = dt.datetime.fromisoformat(str(ours))
        return moment.isoformat(timespec="milliseconds") + "Z" == theirs["date"]  # type: ignore[index]
    if kind == "decimal":
        return Decimal(str(ours)) == Decimal(str(theirs))
    if kind == "binary":
        return bytes(ours).hex() == theirs["hex"]  # type: ignore[arg-type,index]
    if kind == "char":  # Replication ID
        return str(ours).strip("{}").upper() == str(theirs).upper()
    return ours == theirs


def test_every_value_equals_what_mdb_reader_reads(files, dump_cache):
    """Each user table, row by row in the file's order, value by value, as mdb-reader reads it."""
    for path in files:
        schema, tables = copy_of(path)
        theirs = mdb_reader(path)
        assert sorted(t["name"] for t in schema["tables"]) == sorted(theirs)
        compared = 0
        for (name, ours), spec in zip(tables, schema["tables"], strict=True):
            their_rows = theirs[name]["rows"]
            assert len(ours) == len(their_rows) == schema["rows"][name], (path.name, name)
            for n, (row, their) in enumerate(zip(ours, their_rows, strict=True), start=1):
                assert len(row) == len(their), (path.name, name, n)
                for col, value in zip(spec["columns"], row, strict=True):
                    assert same_as_mdb_reader(col["kind"], value, their[col["name"]]), \
                        (path.name, name, n, col["name"], value, their[col["name"]])
                    compared += 1
        # every value mdb-reader reads was compared, and the file is not empty
        assert compared == sum(len(r) for t in theirs.values() for r in t["rows"]) > 0, path.name


def test_mdbtools_agrees_except_where_it_is_wrong(files, dump_cache):
    """mdbtools (mdb-count, mdb-export) gives the same rows and values, but for dates before
    1899-12-30, which it prints as day 0 of January 1900: the meza file's 1760-06-05 (mdb-reader reads
    it too) comes out as "1900-01-00"."""
    wrong_dates = 0
    for path in files:
        schema, tables = copy_of(path)
        for (name, ours), spec in zip(tables, schema["tables"], strict=True):
            assert int(mdbtools("mdb-count", "{}", name, file=path)) == len(ours)
            text = mdbtools("mdb-export", "-H", "-T", "%Y-%m-%dT%H:%M:%S", "-b", "hex", "-B", "{}", name, file=path)
            theirs = list(csv.reader(io.StringIO(text)))
            assert len(theirs) == len(ours)
            for row, their in zip(ours, theirs, strict=True):
                for col, mine, value in zip(spec["columns"], row, their, strict=True):
                    if mine is None:
                        assert value == "", (name, col["name"], value)
                    elif col["kind"] == "timestamp" and mine < "1899-12-30":
                        assert value.startswith("1900-01-00"), value
                        wrong_dates += 1
                    elif col["kind"] == "timestamp":
                        assert value == mine[:19], (name, col["name"], value, mine)
                    elif col["kind"] in ("integer", "string"):
                        assert value == str(mine), (name, col["name"], value, mine)
    assert wrong_dates >= 20


def test_keys_and_relationships_are_the_files_own(dump_cache):
    """Primary keys as mdb-schema reads the indexes; foreign keys as MSysRelationships holds them
    (read with mdb-export; mdb-schema 1.0 prints one of the four and stops with "No MSysRelationships")."""
    fruit = real_file("fruit.mdb")
    schema, _ = copy_of(fruit)
    ddl = mdbtools("mdb-schema", "--indexes", "--relations", "{}", "postgres", file=fruit)
    for t in schema["tables"]:
        key = ", ".join(f'"{c.lower()}"' for c in t["primary_key"])
        assert f'ALTER TABLE "{t["name"].lower()}" ADD CONSTRAINT "{t["name"].lower()}_pkey" PRIMARY KEY ({key})' in ddl
    rels = list(csv.DictReader(io.StringIO(mdbtools("mdb-export", "{}", "MSysRelationships", file=fruit))))
    ours = {(fk["name"], t["name"], fk["columns"][0], fk["ref_table"], fk["ref_columns"][0])
            for t in schema["tables"] for fk in t["foreign_keys"]}
    assert ours == {(r["szRelationship"], r["szObject"], r["szColumn"], r["szReferencedObject"],
                     r["szReferencedColumn"]) for r in rels}
    assert len(ours) == 4
    assert "MSysRelationships" in schema["system_tables"] and "MSysObjects" in schema["system_tables"]


# -- decoders, against encodings computed by hand from the format's documentation --------------------


def test_decoders_currency_decimal_guid_floats():
    assert jv.currency(struct.pack("<q", 123456789)) == "12345.6789"
    assert jv.currency(struct.pack("<q", -1)) == "-0.0001"
    assert jv.currency(struct.pack("<q", -(2**63))) == "-922337203685477.5808"
    # Decimal: sign byte, then four little-endian words, most significant first: 2**64 + 5 at scale 3
    raw = bytes([0x80]) + struct.pack("<IIII", 0, 1, 0, 5)
    assert jv.numeric(raw, 3) == "-18446744073709551.621"
    assert jv.numeric(bytes([0]) + struct.pack("<IIII", 0, 0, 0, 5), 4) == "0.0005"  # access-parser: "5"
    # GUID {00112233-4455-6677-8899-AABBCCDDEEFF} as Windows stores it (first three fields little-endian)
    raw = bytes.fromhex("33221100" "5544" "7766" "8899" "AABBCCDDEEFF")
    assert jv.guid(raw) == "{00112233-4455-6677-8899-AABBCCDDEEFF}"
    assert jv.single(struct.pack("<f", 0.1)) == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert jv.double(struct.pack("<d", float("nan"))) == "nan"  # kept as text, never NULL


@pytest.mark.parametrize("days, text", [
    (0.0, "1899-12-30T00:00:00"),
    (1.0, "1899-12-31T00:00:00"),  # mdbtools: 1900-01-00
    (0.4375, "1899-12-30T10:30:00"),  # a time-only value
    (-1.25, "1899-12-29T06:00:00"),  # the fraction counts forward: mdb-reader and access-parser say 18:00 on the 28th
    (-0.5, "1899-12-30T12:00:00"),
    (45000.5 + 0.123 / 86400, "2023-03-15T12:00:00.123"),
    (2958465.0, "9999-12-31T00:00:00"),
    (-657434.0, "0100-01-01T00:00:00"),
])
def test_decoders_dates(days, text):
    assert jv.date_time(struct.pack("<d", days)) == text


def test_time_of_day_columns():
    """A Date/Time column formatted as a time is archived as times; a value off day 0 keeps its date
    (and the extract reports it as no time of day)."""
    from dialects.kinds.jet_catalog import time_of_day, type_note
    from extractor.values import Nonconforming, render_time

    assert render_time(time_of_day(jv.date_time(struct.pack("<d", 0.4375)))) == "10:30:00"
    kept = time_of_day(jv.date_time(struct.pack("<d", 1.5)))
    assert kept == "1899-12-31T12:00:00"
    with pytest.raises(Nonconforming):
        render_time(kept)
    assert "klokkeslett" in type_note("Date/Time (Format: Short Time)")


def test_decoders_dates_keep_every_double():
    """Whatever the double, the text encodes back to it; outside Access's range the double is kept."""
    for days in (36526.999999, -12345.6789, 0.1, 1e-9, 45000.000011574):
        text = jv.date_time(struct.pack("<d", days))
        day, _, clock = text.partition("T")
        whole = (dt.date.fromisoformat(day) - dt.date(1899, 12, 30)).days
        h, m, s = clock.split(":")
        secs = Fraction(int(h) * 3600 + int(m) * 60) + Fraction(s)
        back = float(whole - secs / 86400 if whole < 0 else whole + secs / 86400)
        assert back == days, (days, text)
    assert jv.date_time(struct.pack("<d", 3e6)) == "3000000.0"


def test_decoders_text():
    assert jv.text_jet4("Blåbær".encode("utf-16-le")) == "Blåbær"
    # compressed: FF FE, one-byte characters, 00 switches to two-byte characters and back
    assert jv.text_jet4(b"\xff\xfeAb\x00" + "Ŋ".encode("utf-16-le") + b"\x00c") == "AbŊc"
    assert jv.text_jet3("Søknad".encode("cp1252"), "cp1252") == "Søknad"
    assert jv.text_jet3(b"a\x81\x80", "cp1252") == "a\x81€"  # as Windows reads 1252's undefined bytes
    with pytest.raises(jv.JetValueError):
        jv.text_jet3(b"\xff", "cp874")


def test_a_jet3_row_with_a_calculated_field_is_cracked_by_hand():
    """A Jet 3 row (one-byte counts and offsets): a Long, a Yes/No, a Text and a calculated Double
    (16 bytes of Access's own, its length, the value)."""
    header = jet_header(_jet3_page0())
    assert not isinstance(header, str) and header.jet3

    class Jet:
        pass

    jet = Jet()
    jet.header = header  # type: ignore[attr-defined]
    cols = [JetColumn("n", 0x04, 0, 0, 0, 4, 0x01, 0), JetColumn("ok", 0x01, 1, 0, 0, 0, 0x01, 0),
            JetColumn("name", 0x0A, 2, 0, 0, 50, 0x02, 0), JetColumn("calc", 0x07, 3, 1, 0, 0, 0x02, 0xC0)]
    table = JetTable("t", 0, 1, cols, [], 0, 2)
    calc = bytes(16) + struct.pack("<I", 8) + struct.pack("<d", 2.5)
    fixed = struct.pack("<i", -7)
    var = "Øl".encode("cp1252") + calc
    start_var = 1 + len(fixed)
    offsets = [start_var, start_var + 2, start_var + 2 + len(calc)]  # name, calc, eod
    row = bytes([4]) + fixed + var + bytes([offsets[2], offsets[1], offsets[0]]) + bytes([2]) + bytes([0b1111])
    assert crack(jet, table, row, 0, len(row), 1) == [-7, 1, "Øl", 2.5]  # type: ignore[arg-type]


def _jet3_page0() -> bytes:
    page = bytearray(b"\x00\x01\x00\x00Standard Jet DB\x00" + bytes(2048 - 20))
    clear = bytearray(126)
    clear[0x3C - SCRAMBLED_FROM:0x3E - SCRAMBLED_FROM] = struct.pack("<H", 1252)
    page[SCRAMBLED_FROM:SCRAMBLED_FROM + 126] = rc4(HEADER_KEY, bytes(clear))
    return bytes(page)


def test_lookups_become_code_lists_and_relations():
    col = JetColumn("status", 0x0A, 0, 0, 0, 20, 0x02, 0)
    target = JetTable("Status", 2, 0, [JetColumn("Kode", 0x0A, 0, 0, 0, 4, 0x02, 0),
                                       JetColumn("Navn", 0x0A, 1, 1, 0, 4, 0x02, 0)], [], 0, 2)
    assert _lookup(col, {"RowSourceType": "Value List", "RowSource": '"A";"Aktiv";"P";"Passiv"',
                         "ColumnCount": 2, "BoundColumn": 1}, {}) == (["A", "P"], None)
    assert _lookup(col, {"RowSourceType": "Table/Query", "RowSource": "SELECT [Status].[Navn], [Status].[Kode] "
                         "FROM Status ORDER BY [Navn];", "BoundColumn": 2}, {"Status": target}) == ([], ("Status", "Kode"))
    assert _lookup(col, {"RowSourceType": "Table/Query", "RowSource": "Status"}, {"Status": target}) == \
        ([], ("Status", "Kode"))
    from dialects.kinds.access_source import AccessSource

    described = AccessSource._described({"name": "Sak", "primary_key": [], "unique_keys": [], "foreign_keys": [],
                                         "columns": [{"name": "status", "native_type": "Text(1)", "kind": "string",
                                                      "length": 1, "codes": ["A", "P"],
                                                      "codes_source": "oppslagslisten (Value List) i Access"}]})
    assert described.column("status").codes == ("A", "P")


# -- recognised, refused, hostile --------------------------------------------------------------------


def patched(source: Path, out: Path, at: int, value: bytes) -> Path:
    data = bytearray(source.read_bytes())
    data[at:at + len(value)] = value
    out.write_bytes(bytes(data))
    return out


def rescrambled(source: Path, out: Path, at: int, value: bytes) -> Path:
    """A copy whose page-0 header has ``value`` at ``at`` (inside the RC4-scrambled part)."""
    data = bytearray(source.read_bytes())
    clear = bytearray(rc4(HEADER_KEY, bytes(data[SCRAMBLED_FROM:SCRAMBLED_FROM + 128])))
    clear[at - SCRAMBLED_FROM:at - SCRAMBLED_FROM + len(value)] = value
    data[SCRAMBLED_FROM:SCRAMBLED_FROM + 128] = rc4(HEADER_KEY, bytes(clear))
    out.write_bytes(bytes(data))
    return out


def test_encrypted_and_password_protected_files_are_refused(dump_cache, tmp_path):
    fruit = real_file("fruit.mdb")
    r = run("inspect", rescrambled(fruit, tmp_path / "kryptert.mdb", 0x3E, b"\x01\x02\x03\x04"))
    fails(r, "kryptert.mdb: the file is encrypted (Jet 4)", "uttrekk neither decrypts")
    r = run("inspect", rescrambled(fruit, tmp_path / "passord.mdb", 0x42, b"x\x00"))
    fails(r, "passord.mdb: the file is protected by a database password (Jet 4)", "never reads or tries passwords")
    assert not list(dump_cache.rglob("*.sqlite"))


@contextmanager
def opened(path: Path) -> Iterator[JetFile]:
    """uttrekk's Jet reader on ``path``, read-only."""
    fd = os.open(path, os.O_RDONLY)
    try:
        header = jet_header(os.pread(fd, 4096, 0))
        assert not isinstance(header, str)
        yield JetFile(fd, header)
    finally:
        os.close(fd)


def catalogue(jet: JetFile) -> list[dict]:
    """Every row of MSysObjects."""
    table = read_tdef(jet, 2, "MSysObjects")
    return [dict(zip([c.name for c in table.columns], values, strict=True)) for values in rows(jet, table)]


def _tdef_page(path: Path, table: str) -> int:
    with opened(path) as jet:
        return next(int(r["Id"]) & 0xFFFFFF for r in catalogue(jet) if r["Name"] == table and r["Type"] == 1)


def test_hostile_files_get_one_line(dump_cache, tmp_path):
    """Cut short, a definition whose pages point at themselves, a Memo declaring a gigabyte: one
    line each, from a reader whose memory and time are capped; nothing is left in the cache."""
    fruit, meza = real_file("fruit.mdb"), real_file("meza.mdb")
    cut = tmp_path / "cut.mdb"
    cut.write_bytes(fruit.read_bytes()[:4096 * 40])
    fails(run("inspect", cut), "cut.mdb: cannot be read as an MS Access file", "beyond the end of the file")
    page = _tdef_page(fruit, "Fruit Salad")
    loop = patched(fruit, tmp_path / "loop.mdb", page * 4096 + 4, struct.pack("<I", page))
    fails(run("inspect", loop), "the definition pages of table Fruit Salad loop")
    at = _first_long_value_header(meza, "MSysObjects", "LvProp")
    huge = patched(meza, tmp_path / "huge.mdb", at, struct.pack("<I", 0x3FFFFFFF | 0x40000000))
    fails(run("inspect", huge), "declares 1073741823 bytes, more than the whole file")
    assert not list(dump_cache.rglob("*.sqlite"))


def _first_long_value_header(path: Path, name: str, column: str) -> int:
    """The file offset of the 12-byte header of the first non-NULL long value of ``name.column``."""
    from dialects.kinds.jet_pages import JetFile
    from dialects.kinds.jet_tables import fields, read_tdef

    fd = os.open(path, os.O_RDONLY)
    try:
        header = jet_header(os.pread(fd, 4096, 0))
        assert not isinstance(header, str)
        jet = JetFile(fd, header)
        table = read_tdef(jet, 2 if name == "MSysObjects" else _tdef_page(path, name), name)
        memo = [c.name for c in table.columns].index(column)
        for number in jet.used_pages(table.usage_pointer, "t"):
            page = jet.page(number)
            for n, (flags, start, end) in enumerate(jet.slots(page, number)):
                raw = fields(jet, table, page, start, end, n)[memo] if not flags else None
                if isinstance(raw, bytes):
                    return number * 4096 + page.index(raw, start)
    finally:
        os.close(fd)
    raise AssertionError("no long value")


def test_recognised_by_content_and_never_written(dump_cache, tmp_path):
    fruit = tmp_path / "frukt.dat"
    fruit.write_bytes(real_file("fruit.mdb").read_bytes())
    os.chmod(fruit, 0o444)
    before = (fruit.stat().st_mtime_ns, hashlib.sha256(fruit.read_bytes()).hexdigest())
    r = run("inspect", fruit)
    assert r.exit_code == 0, r.output
    assert "What: an MS Access database (Jet 4 (Access 2000-2003), page size 4096)" in r.output
    assert "system tables left out: MSysACEs" in r.output and "6 saved queries left out" in r.output
    assert (fruit.stat().st_mtime_ns, hashlib.sha256(fruit.read_bytes()).hexdigest()) == before
    entry, = [p for p in (dump_cache / "restored").iterdir() if p.is_dir()]
    assert entry.name == f"access1-{before[1]}"
    r = run("extract", fruit, "--out", fruit.parent, "--overwrite")
    fails(r, "frukt.dat")


# -- downstream: extract in every format, validate, package, keys, profiles ----------------------------


@pytest.mark.parametrize("fmt", ["delimited", "fixed", "xml"])
def test_extract_validate_and_package(dump_cache, tmp_path, fmt):
    meza = real_file("meza.mdb")
    out = tmp_path / "x"
    r = run("extract", meza, "--out", out, "--format", fmt, *PERIOD, "--package", tmp_path / "pkg", "-q")
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "pkg").glob("*.tar"))
    validation = json.loads((out / "report" / "validation.json").read_text(encoding="utf-8"))
    assert validation["errors"] == 0 and validation["result"] == "ok", validation
    content = (out / "content" / ("merchant_taylors.xml" if fmt == "xml" else "merchant_taylors.txt")).read_text(
        encoding="iso-8859-1")
    assert "1760-06-05T00:00:00" in content  # a date mdbtools gets wrong
    addml = (out / "content" / "addml.xml").read_text(encoding="utf-8")
    digest = hashlib.sha256(meza.read_bytes()).hexdigest()
    assert f"Kilden er MS Access-databasen meza.mdb (188416 byte, SHA-256 {digest}), Jet 4" in addml
    described = (out / "content" / ("merchant_taylors.xsd" if fmt == "xml" else "addml.xml")).read_text(encoding="utf-8")
    assert "Access-type: Date/Time" in described and "Access-type: AutoNumber (Long Integer)" in described
    details = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))["source_details"]
    assert details["dump_sha256"] == digest and details["dump_format"].startswith("MS Access database, Jet 4")
    assert set(details) - {"engine", "file", "machine"} <= set(PROVENANCE_LABELS)


def test_keys_proven_in_the_data_and_profiles(dump_cache, tmp_path):
    """Without its primary key (the logical index's type byte set to 0) the Fruit table gets the key
    the data prove; inspect --keys and profile init work on the file; relationships are foreign keys."""
    fruit = real_file("fruit.mdb")
    keyless = patched(fruit, tmp_path / "keyless.mdb", _primary_key_type_byte(fruit, "Fruit"), b"\x00")
    r = run("inspect", keyless)
    assert r.exit_code == 0, r.output
    block = r.output.split("\nFruit: ")[1].split("\n\n")[0]
    assert "primary key: none" in block, block
    r = run("inspect", keyless, "--keys")
    assert r.exit_code == 0, r.output
    r = run("profile", "init", keyless, "-o", tmp_path / "p.toml", "--keys")
    assert r.exit_code == 0, r.output
    profile = (tmp_path / "p.toml").read_text(encoding="utf-8")
    assert "[tables.Fruit]" in profile or '[tables."Fruit"]' in profile
    out = tmp_path / "x"
    r = run("extract", keyless, "--out", out, *PERIOD, "-q")
    assert r.exit_code == 0, r.output
    addml = (out / "content" / "addml.xml").read_text(encoding="utf-8")
    assert "foreignKey" in addml
    summary = (out / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "Fruit" in summary
    r = run("validate", out, "-q")
    assert r.exit_code == 0, r.output


def _primary_key_type_byte(path: Path, table: str) -> int:
    """The file offset of the index-type byte of ``table``'s primary key (Jet 4 TDEF layout)."""
    page = _tdef_page(path, table)
    d = path.read_bytes()[page * 4096:(page + 1) * 4096]
    assert struct.unpack_from("<I", d, 4)[0] == 0, "a one-page definition"
    ncols, nidx, nreal = struct.unpack_from("<H", d, 45)[0], *struct.unpack_from("<II", d, 47)
    pos = 63 + nreal * 12 + ncols * 25
    for _ in range(ncols):
        pos += 2 + struct.unpack_from("<H", d, pos)[0]
    pos += nreal * 52
    for i in range(nidx):
        if d[pos + 28 * i + 4 + 19] == 1:
            return page * 4096 + pos + 28 * i + 4 + 19
    raise AssertionError("no primary key")


def _jet4_file(path: Path, pages: list[bytes]) -> int:
    """A file of a Jet 4 header page and ``pages``; a read-only descriptor on it."""
    page0 = bytearray(b"\x00\x01\x00\x00Standard Jet DB\x00" + bytes(4096 - 20))
    page0[0x14] = 1
    page0[SCRAMBLED_FROM:SCRAMBLED_FROM + 128] = rc4(HEADER_KEY, bytes(128))
    path.write_bytes(bytes(page0) + b"".join(pages))
    return os.open(path, os.O_RDONLY)


def _lval_page(next_pointer: int, data: bytes) -> bytes:
    """A Jet 4 long-value page holding one row: the pointer to the next link, then ``data``."""
    page = bytearray(4096)
    page[0:2] = b"\x01\x01"
    page[4:8] = b"LVAL"
    start = 4096 - 4 - len(data)
    page[12:16] = struct.pack("<HH", 1, start)
    page[start:] = struct.pack("<I", next_pointer) + data
    return bytes(page)


def test_a_long_value_over_many_pages_and_one_that_loops(tmp_path):
    """A Memo of 70,000 bytes over 18 chained pages reads whole; a chain pointing back at itself and a
    pointer past the end of the file are one error each (never a loop)."""
    from dialects.kinds.jet_pages import JetError, JetFile

    text = ("Søknad om byggeløyve " * 4000)[:35000]
    data = text.encode("utf-16-le")
    chunks = [data[i:i + 4072] for i in range(0, len(data), 4072)]
    pages = [_lval_page(((n + 2) << 8) if n + 1 < len(chunks) else 0, c) for n, c in enumerate(chunks)]
    fd = _jet4_file(tmp_path / "lang.mdb", pages)
    try:
        header = jet_header(os.pread(fd, 4096, 0))
        assert not isinstance(header, str)
        jet = JetFile(fd, header)
        field = struct.pack("<II", len(data), 1 << 8) + bytes(4)
        assert jv.text_jet4(jet.long_value(field, "memo")) == text and len(data) > 65536
        loop = _jet4_file(tmp_path / "loop.mdb", [_lval_page(2 << 8, chunks[0]), _lval_page(1 << 8, chunks[1]),
                                                  *[bytes(4096)] * 20])
        with pytest.raises(JetError, match="its chain of pages loops after 8144 of 70000 bytes"):
            JetFile(loop, header).long_value(field, "memo")
        with pytest.raises(JetError, match="points at page 99, beyond the end of the file"):
            jet.long_value(struct.pack("<II", 10, 99 << 8) + bytes(4), "memo")
        os.close(loop)
    finally:
        os.close(fd)


def test_an_attachment_field_becomes_a_child_table_of_its_files(dump_cache):
    """The only Attachment field in the real files is in a system table of the ACE files
    (``MSysResources.Data``, an Office theme): read as a child table, each file equals, byte for
    byte, what mdb-reader unpacks, and it is a zip (a .thmx) as its name says."""
    from dialects.kinds.jet_catalog import _complex_columns, attachment_file, complex_child
    from dialects.kinds.jet_pages import JetFile
    from dialects.kinds.jet_tables import read_tdef, rows

    found = [p for p in ace_files() if p.name == "testdb.accdb"]
    if not found:
        pytest.skip("the ACE test files (CDDL) are not present here")
    path, = found
    fd = os.open(path, os.O_RDONLY)
    try:
        header = jet_header(os.pread(fd, 4096, 0))
        assert not isinstance(header, str)
        jet = JetFile(fd, header)
        system = {"MSysComplexColumns": _tdef_page(path, "MSysComplexColumns")}
        for name in ("MSysComplexType_Attachment", "MSysResources"):
            system[name] = _tdef_page(path, name)
        parent = read_tdef(jet, system["MSysResources"], "MSysResources")
        col = next(c for c in parent.columns if c.type == 0x12)
        what, page = _complex_columns(jet, system)[col.complex_id]
        assert what == "an Attachment field"
        table, spec = complex_child(jet, parent, col, what, page, "f_…_Data", set())
        assert spec["foreign_keys"][0]["ref_columns"] == [col.name] and spec["primary_key"]
        names = [c["name"] for c in spec["columns"]]
        ours = [dict(zip(names, values, strict=True)) for values in rows(jet, table)]
        links = dict(zip([c.name for c in parent.columns], next(iter(rows(jet, parent))), strict=True))
    finally:
        os.close(fd)
    theirs = mdb_reader(path, "MSysResources")["MSysResources"]["rows"]
    their_files = [a for r in theirs for a in r[col.name]]
    assert len(ours) == len(their_files) == 1
    file = attachment_file(ours[0]["FileData"], 1 << 30)
    assert file.hex() == their_files[0]["data"]["hex"] and file[:4] == b"PK\x03\x04"
    assert ours[0]["FileName"] == their_files[0]["name"] == "Larissa.thmx"
    link = next(c["name"] for c in spec["columns"] if c["name"] == spec["foreign_keys"][0]["columns"][0])
    assert ours[0][link] == links[col.name]


def test_design_properties_equal_what_mdb_prop_reads(dump_cache):
    """Every design property of every user table (the source of descriptions, Required, lookups,
    expressions) as mdb-prop reads it (but GUIDs, which mdb-prop prints with a dash missing)."""
    from dialects.kinds.jet_props import parse_props
    from dialects.kinds.jet_tables import _text

    checked = 0
    for path in (real_file("meza.mdb"), real_file("fruit.mdb")):
        with opened(path) as jet:
            found = {r["Name"]: parse_props(r["LvProp"], lambda b, j=jet: _text(j, b)) for r in catalogue(jet)
                     if r["Type"] == 1 and not r["Flags"] and r["LvProp"]}
        for table, props in found.items():
            theirs: dict[str, dict[str, str]] = {}
            current = None
            for line in mdbtools("mdb-prop", "{}", table, file=path).splitlines():
                if line.startswith("name: "):
                    current = theirs.setdefault("" if line == "name: (none)" else line[6:], {})
                elif line.startswith("\t") and current is not None:
                    key, _, value = line[1:].partition(": ")
                    current[key] = value
            assert set(props) == set(theirs), (table, set(props), set(theirs))
            for obj, values in props.items():
                assert set(values) == set(theirs[obj]), (table, obj)
                for key, value in values.items():
                    shown = ("yes" if value else "no") if isinstance(value, bool) else (
                        f"(binary data of length {len(value)})" if isinstance(value, bytes) else str(value))
                    if not theirs[obj][key].startswith("{"):
                        assert shown == theirs[obj][key], (table, obj, key, value, theirs[obj][key])
                        checked += 1
    assert checked > 100
