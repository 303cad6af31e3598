"""dBase/Clipper/FoxPro .dbf tables as SOURCE: every value compared, field by field, with an
independent reader.

Tables written by the ``dbf`` package are read back with ``dbfread`` (another author's reader);
what ``dbf`` cannot write is built byte by byte (``tests/dbase_build.py``) from known values; real
files come from the ``dbfread`` sdist, fetched by name and version. The extract is read with
``tests/readback.py``, which imports nothing of uttrekk.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import struct
import subprocess
import sys
import tarfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import dbf
import dbfread
import pytest

from dialects import open_source
from extractor.source_dialect import SourceDialect
from tests import dbase_build as b
from tests import readback as rb
from tests.conftest import fails, run

META = ("--archive-creator", "Eksempel kommune", "--system-name", "Kundesystem", "--period", "1990..2024")
DBFREAD_SDIST = "dbfread==2.0.7"


def extracted(source: Path, out: Path, *args: Any, fmt: str = "delimited") -> dict[str, list[dict[str, Any]]]:
    """Extract SOURCE and read every table back independently: {table: records in file order}."""
    r = run("extract", source, "--out", out, "--format", fmt, "-q", *args)
    assert r.exit_code == 0, r.output
    content = out / "content"
    tables = rb.read_addml(content / "addml.xml")
    return {name: rb.read_table(content, td, fmt) for name, td in tables.items()}


def by_recno(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(r["uttrekk_recno"]): r for r in records}


def live_recnos(path: Path) -> list[int]:
    """Record numbers of the records not marked deleted, from the deletion flags (read here)."""
    data = path.read_bytes()
    count, header, length = struct.unpack_from("<IHH", data, 4)
    return [i + 1 for i in range(count) if data[header + i * length] != 0x2A]


def flat(value: Any, decimals: int | None = None) -> str | None:
    """What the extract holds for a value dbfread gives (flat style: decimal comma, J/N)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "J" if value else "N"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal(1).scaleb(-(decimals or 0))), "f").replace(".", ",")
    if isinstance(value, float):
        d = Decimal(repr(value))
        if decimals:
            d = d.quantize(Decimal(1).scaleb(-decimals))
        return format(d, "f").replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds").rstrip("0").rstrip(".")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def same_as_dbfread(path: Path, records: list[dict[str, Any]], encoding: str | None = None,
                    nulls: frozenset[tuple[int, str]] = frozenset()) -> int:
    """Every field of every live record equals what dbfread reads; returns the values compared.
    dbfread does not read Visual FoxPro's _NullFlags: ``nulls`` are the (record, field) whose null
    bit the test set, which uttrekk must give as NULL where dbfread gives a blank."""
    table = dbfread.DBF(str(path), encoding=encoding, char_decode_errors="strict")
    ours = by_recno(records)
    assert sorted(ours) == live_recnos(path)
    compared = 0
    for recno, theirs in zip(live_recnos(path), table, strict=True):
        for f in table.fields:
            if f.name.upper() == "_NULLFLAGS":
                continue
            want = flat(theirs[f.name], 4 if f.type == "Y" else f.decimal_count if f.type in "NF" else None)
            got = ours[recno][f.name]
            if (recno, f.name) in nulls:
                want = None
            elif f.type in "CM" and want is None:
                want = ""
            assert got == want, (path.name, recno, f.name, got, want)
            compared += 1
    return compared


# -- tables the dbf package writes, read back by dbfread ---------------------------------------------------


@pytest.fixture
def written(tmp_path: Path) -> Path:
    """A folder of tables as dBase III (cp865), FoxPro 2 (cp850) and Visual FoxPro (cp1252) write them."""
    folder = tmp_path / "kilde"
    folder.mkdir()
    k = dbf.Table(str(folder / "KUNDE.DBF"), "KUNDENR N(6,0); NAVN C(30); SALDO N(12,2); FODT D; AKTIV L; NOTAT M",
                  dbf_type="db3", codepage="cp865")
    k.open(dbf.READ_WRITE)
    k.append((1, "Åse Ødegård", 123.45, dt.date(1960, 5, 17), True, "Første linje\r\nandre: æøå ÆØÅ"))
    k.append((2, "Slettet Person", 1, dt.date(1999, 1, 1), False, "borte"))
    k.append((3, "Bjørn Ærlig", -0.5, None, False, ""))
    k.append((4, "Sámi Æsa", None, dt.date(2001, 2, 28), None, "x" * 700))
    k.append((5, "Per", 99999999.99, dt.date(1900, 1, 1), True, "kort"))
    dbf.delete(k[1])
    k.close()
    p = dbf.Table(str(folder / "prosjekt.dbf"), "PNR N(4,0); TITTEL C(40); BUDSJETT F(15,3); START D; MEMO M",
                  dbf_type="fp", codepage="cp850")
    p.open(dbf.READ_WRITE)
    p.append((10, "Veg Ålesund-Ørsta", 1500000.125, dt.date(1995, 3, 1), "Beskrivelse: Sámi giella Áá"))
    p.append((11, "Bru", None, None, ""))
    p.close()
    o = dbf.Table(str(folder / "ordre.dbf"), "ORDRENR I; KUNDE N(6,0); BELOP Y; TID T; VEKT B; TEKST M null; "
                  "KORT C(8) null; DATO D null", dbf_type="vfp", codepage="cp1252")
    o.open(dbf.READ_WRITE)
    o.append((100, 1, Decimal("12.3456"), dt.datetime(2020, 1, 2, 3, 4, 5), 1.5, "Šárka Žižková", "ab", dt.date(2020, 1, 2)))
    o.append((101, 3, Decimal("-922337203685.4775"), dt.datetime(1899, 12, 30, 23, 59, 59), 0.1, dbf.Null,
              dbf.Null, dbf.Null))
    o.append((102, 4, Decimal("0"), dbf.Null, -2.5e-300, "æøå", "", dt.date(1970, 1, 1)))
    o.close()
    return folder


def test_tables_the_dbf_package_writes_equal_dbfread_value_by_value(written: Path, tmp_path: Path, dump_cache) -> None:
    tables = extracted(written, tmp_path / "x", "--charset", "UTF-8")
    assert set(tables) == {"KUNDE", "prosjekt", "ordre"}
    n = same_as_dbfread(written / "KUNDE.DBF", tables["KUNDE"])
    n += same_as_dbfread(written / "prosjekt.dbf", tables["prosjekt"])
    n += same_as_dbfread(written / "ordre.dbf", tables["ordre"],
                         nulls=frozenset({(2, "TEKST"), (2, "KORT"), (2, "DATO"), (3, "TID")}))
    assert n == 4 * 6 + 2 * 5 + 3 * 8
    kunde = by_recno(tables["KUNDE"])
    assert kunde[1]["NAVN"] == "Åse Ødegård" and kunde[1]["NOTAT"] == "Første linje\r\nandre: æøå ÆØÅ"
    assert kunde[4]["NAVN"] == "Sámi Æsa" and kunde[4]["SALDO"] is None and kunde[3]["FODT"] is None
    assert kunde[5]["SALDO"] == "99999999,99"  # the digits, never through a float
    ordre = by_recno(tables["ordre"])
    assert ordre[2]["BELOP"] == "-922337203685,4775" and ordre[2]["TID"] == "1899-12-30T23:59:59"
    assert ordre[2]["TEKST"] is None and ordre[2]["KORT"] is None and ordre[2]["DATO"] is None  # _NullFlags
    assert ordre[3]["TEKST"] == "æøå" and ordre[3]["KORT"] == ""  # an empty text is not NULL
    assert ordre[3]["VEKT"] == "-0," + "0" * 299 + "25"
    summary = (tmp_path / "x" / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "KUNDE: 1 deleted record(s) (marked *) are left out" in summary


def test_types_in_addml_and_deleted_records_kept_with_a_marker(written: Path, tmp_path: Path, dump_cache) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('[source]\ndeleted = "keep"\n', encoding="utf-8")
    tables = extracted(written, tmp_path / "x", "--profile", profile, "--charset", "UTF-8")
    kunde = by_recno(tables["KUNDE"])
    assert sorted(kunde) == [1, 2, 3, 4, 5]
    assert kunde[2]["uttrekk_slettet"] == "J" and kunde[2]["NAVN"] == "Slettet Person"
    assert {kunde[i]["uttrekk_slettet"] for i in (1, 3, 4, 5)} == {"N"}
    addml = (tmp_path / "x" / "content" / "addml.xml").read_text(encoding="utf-8")
    assert "SHA-256" in addml and "KUNDE.DBF" in addml  # the files' provenance in the description
    r = run("inspect", written, "--json", "--no-scan", "--profile", profile)
    assert r.exit_code == 0, r.output
    shown = {(t["table"], c["name"]): c["native_type"] for t in json.loads(r.output)["tables"] for c in t["columns"]}
    assert shown[("KUNDE", "SALDO")] == "N(12,2)" and shown[("KUNDE", "NAVN")] == "C(30)"
    assert shown[("KUNDE", "NOTAT")] == "M (memo)" and shown[("ordre", "BELOP")] == "Y (currency)"
    assert shown[("ordre", "TID")] == "T (datetime)" and shown[("ordre", "VEKT")] == "B (double)"
    assert shown[("prosjekt", "BUDSJETT")] == "F(15,3)" and shown[("ordre", "ORDRENR")] == "I (integer)"
    assert shown[("KUNDE", "uttrekk_slettet")] == "deletion flag"
    summary = (tmp_path / "x" / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "are kept, with uttrekk_slettet = J" in summary


# -- what dbf cannot write: built byte by byte -----------------------------------------------------------------


def test_visual_foxpro_9_nullflags_varchar_varbinary_and_binary_memos(tmp_path: Path, dump_cache) -> None:
    """V/Q take their length from _NullFlags (the length bit before the null bit); G, P, W are LOB files."""
    fields = [b.F("ID", "I", 4), b.F("NAVN", "V", 10, flags=0x02), b.F("KODE", "Q", 6), b.F("BILDE", "G", 4),
              b.F("FOTO", "P", 4, flags=0x02), b.F("BLOB", "W", 4), b.F("BELOP", "Y", 8, flags=0x02),
              b.F("NOTAT", "M", 4), b.F("_NullFlags", "0", 1, flags=0x05)]
    memo, blocks = b.fpt([(2, b"OLE\x00\x01"), (0, b"\x89PNG\r\n"), (1, b"blob\x00bytes"), (1, "Æ memo".encode("cp1252"))])

    def nulls(*bits: int) -> bytes:
        return bytes([sum(1 << i for i in bits)])

    # bits: NAVN length 0, NAVN null 1, KODE length 2, FOTO null 3, BELOP null 4
    recs = [
        (False, [b.le4(1), "Ærlig".encode("cp1252") + b"\0" * 4 + bytes([5]), b"\x01\x02\x00" + b"\0\0" + bytes([3]),
                 struct.pack("<I", blocks[0]), struct.pack("<I", blocks[1]), struct.pack("<I", blocks[2]),
                 struct.pack("<q", 123456789), struct.pack("<I", blocks[3]), nulls(0, 2)]),
        (False, [b.le4(-2), b"fulle ti t", b"\xff" * 6, b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 8, b"\0" * 4,
                 nulls(1, 3, 4)]),
        (False, [b.le4(3), b"mellomrom " , b"\0" * 6, b"\0" * 4, b"\0" * 4, b"\0" * 4, struct.pack("<q", -1), b"\0" * 4,
                 nulls()]),
    ]
    folder = tmp_path / "vfp"
    b.write(folder, "t.dbf", b.dbf(0x32, fields, recs, lang=0x03, backlink=b"..\\data\\kommune.dbc"))
    b.write(folder, "T.FPT", memo)  # the memo file's name in another case
    out = tmp_path / "x"
    rows = by_recno(extracted(folder, out)["t"])
    summary = (out / "report" / "summary.txt").read_text(encoding="utf-8")
    assert "t: belongs to the Visual FoxPro database container ..\\data\\kommune.dbc, which is not read" in summary
    assert rows[1]["NAVN"] == "Ærlig" and rows[2]["NAVN"] is None and rows[3]["NAVN"] == "mellomrom "
    assert rows[1]["BELOP"] == "12345,6789" and rows[2]["BELOP"] is None and rows[3]["BELOP"] == "-0,0001"
    assert rows[1]["NOTAT"] == "Æ memo" and rows[2]["NOTAT"] == ""
    assert rows[2]["ID"] == "-2" and "_NullFlags" not in rows[1]
    lobs = {(r["felt"], r["post"]): r for r in rb.read_table(
        out / "content", rb.read_addml(out / "content" / "addml.xml")["LOBFILER"], "delimited")}
    by_field = {}
    for (field, _), r in lobs.items():
        by_field.setdefault(field, []).append((out / "content" / r["fil"]).read_bytes())
    assert by_field["BILDE"] == [b"OLE\x00\x01"] and by_field["FOTO"] == [b"\x89PNG\r\n"]
    assert by_field["BLOB"] == [b"blob\x00bytes"]
    with pytest.raises(ValueError, match="Unknown field type: 'Q'"):
        list(dbfread.DBF(str(folder / "t.dbf")))  # dbfread cannot read varbinary at all
    alone = b.write(tmp_path / "v", "v.dbf", b.dbf(0x32, fields[1:2] + fields[-1:], [(False, [recs[0][1][1], recs[0][1][-1]])],
                                                  lang=0x03))
    assert next(iter(dbfread.DBF(str(alone))))["NAVN"] == "Ærlig\x00\x00\x00\x00\x05"  # nor a varchar's length
    assert sorted(by_field["KODE"]) == [b"\x00" * 6, b"\x01\x02\x00", b"\xff" * 6]  # 3 bytes by its length bit, 6 whole


def test_dbase_iv_and_dbase_7_types(tmp_path: Path, dump_cache) -> None:
    """dBase IV memo blocks (FF FF 08 00 + length) and B binary memos; dBase 7's sort-preserving big-endian
    integers, doubles and timestamps, and its language driver name."""
    memo, blocks = b.dbt4(["Notat på norsk: æøå".encode("cp865"), b"\x00\x01binary"], block=1024)
    f4 = [b.F("NR", "N", 5), b.F("BELOP", "F", 12, 4), b.F("NOTAT", "M", 10), b.F("VEDLEGG", "B", 10), b.F("DATO", "D", 8),
          b.F("STOR", "N", 20, 4)]
    recs4 = [(False, [b.number("7", 5), b.number("-12.5000", 12), b.pointer10(blocks[0]), b.pointer10(blocks[1]),
                      b"20240229", b.number("123456789012345.1234", 20)]),
             (False, [b.number("", 5), b.number("", 12), b.pointer10(None), b.pointer10(None), b"        ",
                      b.number("-0.0001", 20)])]
    folder = tmp_path / "d4"
    b.write(folder, "DOK.DBF", b.dbf(0x8B, f4, recs4, lang=0x66))
    b.write(folder, "DOK.DBT", memo)
    moment = (2460000 * 86_400_000) + (13 * 3600 + 14 * 60 + 15) * 1000 + 16  # Julian day 2460000 = 2023-02-24
    f7 = [b.F("ID", "+", 4), b.F("ANTALL", "I", 4), b.F("VERDI", "O", 8), b.F("ENDRET", "@", 8), b.F("NAVN", "C", 12)]
    recs7 = [(False, [b.dbase7_long(1), b.dbase7_long(-5), b.dbase7_double(-1.25), b.dbase7_double(float(moment)),
                      b.text("Tromsø", 12, "cp1252")]),
             (False, [b.dbase7_long(2), b"\0" * 4, b.dbase7_double(3e10), b"\0" * 8, b.text("", 12)])]
    b.write(folder, "LOGG.DBF", b.dbf(0x04, f7, recs7, lang_name=b"DBWINUS0"))
    out = tmp_path / "x"
    tables = extracted(folder, out)
    dok, logg = by_recno(tables["DOK"]), by_recno(tables["LOGG"])
    assert dok[1] == {"NR": "7", "BELOP": "-12,5000", "NOTAT": "Notat på norsk: æøå", "VEDLEGG": dok[1]["VEDLEGG"],
                      "DATO": "2024-02-29", "STOR": "123456789012345,1234", "uttrekk_recno": "1"}
    assert dok[2]["NR"] is None and dok[2]["BELOP"] is None and dok[2]["DATO"] is None and dok[2]["NOTAT"] == ""
    assert dok[2]["STOR"] == "-0,0001"  # the digits, never through a float
    assert next(iter(dbfread.DBF(str(folder / "DOK.DBF"))))["STOR"] == 123456789012345.12  # dbfread's float
    assert logg[1]["ID"] == "1" and logg[1]["ANTALL"] == "-5" and logg[1]["VERDI"] == "-1,25"
    assert logg[1]["ENDRET"] == "2023-02-24T13:14:15.016" and logg[1]["NAVN"] == "Tromsø"
    assert logg[2]["ANTALL"] is None and logg[2]["VERDI"] == "30000000000" and logg[2]["ENDRET"] is None
    lob = rb.read_table(out / "content", rb.read_addml(out / "content" / "addml.xml")["LOBFILER"], "delimited")
    assert [(out / "content" / r["fil"]).read_bytes() for r in lob] == [b"\x00\x01binary"]


# -- code pages ----------------------------------------------------------------------------------------------------

NORDIC = {  # code page: (language driver byte, text with the letters it has)
    "cp865": (0x17, "æøå ÆØÅ á"),
    "cp850": (0x02, "æøå ÆØÅ Áá"),
    "cp437": (0x01, "æå ÆÅ á"),
    "cp1252": (0x03, "æøå ÆØÅ Áá Šš Žž"),
}


@pytest.mark.parametrize("codepage", [*NORDIC, "iso8859-1"])
def test_nordic_code_pages(codepage: str, tmp_path: Path, dump_cache) -> None:
    lang, words = NORDIC.get(codepage, (0, "æøå ÆØÅ Áá"))
    memo, blocks = b.dbt3([f"memo {words}".encode(codepage)])
    fields = [b.F("NAVN", "C", 30), b.F("NOTAT", "M", 10)]
    folder = tmp_path / codepage
    b.write(folder, "navn.dbf", b.dbf(0x83, fields, [(False, [b.text(words, 30, codepage), b.pointer10(blocks[0])])],
                                       lang=lang))
    b.write(folder, "navn.dbt", memo)
    args = ("--codepage", "ISO-8859-1") if codepage == "iso8859-1" else ()
    rows = extracted(folder, tmp_path / "x", "--charset", "UTF-8", *args)["navn"]
    assert rows[0]["NAVN"] == words and rows[0]["NOTAT"] == f"memo {words}"
    assert next(iter(dbfread.DBF(str(folder / "navn.dbf"), encoding=codepage if not lang else None)))["NAVN"] == words


def test_no_code_page_in_the_header_and_text_that_is_not_ascii_asks_for_one(tmp_path: Path, dump_cache) -> None:
    folder = tmp_path / "u"
    fields = [b.F("NAVN", "C", 12), b.F("BY", "C", 10)]
    b.write(folder, "person.dbf", b.dbf(0x03, fields, [(False, [b.text("Per", 12), b.text("Oslo", 10)]),
                                                       (False, [b.text("Kåre Bø", 12, "cp865"), b.text("Tromsø", 10, "cp865")])]))
    out = fails(run("inspect", folder), "names no code page", "--codepage", "table person record 2 field NAVN",
                "cp865 'åø'", "cp1252", "Nothing was read")
    assert "record 1" not in out  # plain ASCII is no question
    r = run("inspect", folder, "--codepage", "cp865", "--json")
    assert r.exit_code == 0, r.output
    r = run("profile", "init", folder, "--codepage", "865")
    assert r.exit_code == 0 and "[tables.person.columns.BY]" in r.output, r.output
    profile = tmp_path / "p.toml"
    profile.write_text('[source]\ncodepage = "cp865"\n', encoding="utf-8")
    rows = extracted(folder, tmp_path / "x", "--profile", profile, "--charset", "UTF-8")["person"]
    assert rows[1]["NAVN"] == "Kåre Bø" and rows[1]["BY"] == "Tromsø"


def test_the_header_code_page_wins_over_the_profile_unless_it_overrides(tmp_path: Path, dump_cache) -> None:
    folder = tmp_path / "h"
    b.write(folder, "t.dbf", b.dbf(0x03, [b.F("NAVN", "C", 6)], [(False, [b.text("Bø", 6, "cp865")])], lang=0x03))
    profile = tmp_path / "p.toml"
    profile.write_text('[source]\ncodepage = "cp865"\n', encoding="utf-8")
    r = run("extract", folder, "--out", tmp_path / "x", "--profile", profile, "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    assert "read as cp1252, as its header (language driver 0x03" in r.output and "codepage_override" in r.output
    assert ";B›;" in (tmp_path / "x" / "content" / "t.txt").read_text(encoding="utf-8")
    profile.write_text('[source]\ncodepage = "cp865"\ncodepage_override = true\n', encoding="utf-8")
    r = run("extract", folder, "--out", tmp_path / "y", "--profile", profile, "--charset", "UTF-8", "-q")
    assert r.exit_code == 0, r.output
    assert ";Bø;" in (tmp_path / "y" / "content" / "t.txt").read_text(encoding="utf-8")
    assert "as the profile says (codepage_override)" in r.output
    fails(run("inspect", folder, "--codepage", "klingon"), "--codepage 'klingon'", "not a code page")


# -- what cannot be read: kept as text or reported -------------------------------------------------------------------


def test_invalid_values_are_kept_as_text_and_reported(tmp_path: Path, dump_cache) -> None:
    fields = [b.F("DATO", "D", 8), b.F("OK", "L", 1), b.F("TALL", "N", 5, 1)]
    recs = [(False, [b"20010231", b"T", b.number("1.5", 5)]), (False, [b"00000000", b"X", b"*****"]),
            (False, [b"19991231", b"?", b.number("-2.0", 5)])]
    folder = tmp_path / "v"
    b.write(folder, "v.dbf", b.dbf(0x03, fields, recs))
    rows = by_recno(extracted(folder, tmp_path / "x")["v"])
    assert [rows[i]["DATO"] for i in (1, 2, 3)] == ["20010231", "00000000", "1999-12-31"]
    assert [rows[i]["OK"] for i in (1, 2, 3)] == ["1", "X", None]
    assert [rows[i]["TALL"] for i in (1, 2, 3)] == ["1.5", "*****", "-2.0"]
    deviations = (tmp_path / "x" / "report" / "deviations.tsv").read_text(encoding="utf-8")
    assert "kolonne DATO: deklarert som date, men 2 verdi(er) passer ikke" in deviations
    assert "kolonne OK: deklarert som boolean, men 1 verdi(er) passer ikke" in deviations
    assert "kolonne TALL: deklarert som decimal, men 1 verdi(er) passer ikke" in deviations


def test_memo_problems_are_reported_by_record_and_field(tmp_path: Path, dump_cache) -> None:
    good, blocks = b.fpt([(1, b"hel"), (1, b"kuttet memo som er lang")])
    cut = good[:-40]  # the second memo's block is cut short
    fields = [b.F("NR", "N", 3), b.F("NOTAT", "M", 4)]
    recs = [(False, [b.number("1", 3), struct.pack("<I", blocks[0])]),
            (False, [b.number("2", 3), struct.pack("<I", blocks[1])]),
            (False, [b.number("3", 3), struct.pack("<I", 10_000)]),  # past the end
            (False, [b.number("4", 3), struct.pack("<I", 0)]),
            (False, [b.number("5", 3), struct.pack("<I", 1)])]  # in the file header
    folder = tmp_path / "m"
    b.write(folder, "memo.dbf", b.dbf(0x30, fields, recs, lang=0x03))
    b.write(folder, "memo.fpt", cut)
    huge = bytearray(cut)
    struct.pack_into(">I", huge, blocks[0] * 64 + 4, 0xFFFFFFF0)  # a length no memo has
    b.write(folder / "stor", "memo.dbf", (folder / "memo.dbf").read_bytes())
    b.write(folder / "stor", "memo.fpt", bytes(huge))
    b.write(folder / "uten", "memo.dbf", (folder / "memo.dbf").read_bytes())
    r = run("extract", folder, "--out", tmp_path / "x", "-q")
    assert r.exit_code == 0, r.output
    rows = by_recno(rb.read_table(tmp_path / "x" / "content",
                                  rb.read_addml(tmp_path / "x" / "content" / "addml.xml")["memo"], "delimited"))
    assert rows[1]["NOTAT"] == "hel" and rows[2]["NOTAT"] is None and rows[3]["NOTAT"] is None and rows[4]["NOTAT"] == ""
    assert "memo record 2, field NOTAT: memo block" in r.output and "is cut short" in r.output
    assert "memo record 3, field NOTAT: memo block 10000" in r.output and "past the end" in r.output
    assert "memo record 5, field NOTAT: memo block 1 lies in the header of memo.fpt" in r.output and rows[5]["NOTAT"] is None
    assert "other files in the folder, not read: stor (a folder or link, not followed), uten" in r.output
    r = run("extract", folder / "stor", "--out", tmp_path / "y", "-q")
    assert r.exit_code == 0 and "claims 4294967280 bytes" in r.output, r.output
    r = run("extract", folder / "uten" / "memo.dbf", "--out", tmp_path / "z", "-q")
    assert r.exit_code == 0, r.output
    assert "the memo file (memo.fpt) is not beside memo.dbf" in r.output
    assert "memo record 1, field NOTAT: the memo file" in r.output


def test_hostile_and_damaged_files_get_one_clear_error(tmp_path: Path, dump_cache) -> None:
    whole = b.dbf(0x03, [b.F("A", "C", 10)], [(False, [b.text("x", 10)])] * 5)
    short = b.write(tmp_path, "kort.dbf", whole[:-25])
    fails(run("inspect", short), "kort.dbf", "cut short", "5 records", "nothing was read")
    liar = b.write(tmp_path, "lyver.dbf", b.dbf(0x03, [b.F("A", "C", 10)], [(False, [b.text("x", 10)])],
                                                  records_in_header=4_000_000_000))
    fails(run("inspect", liar), "cut short")
    garbage = b.write(tmp_path / "rot", "tabell.dbf", b"\x03garbage that is no header" * 3)
    fails(run("inspect", garbage.parent), "tabell.dbf", "no .dbf header")
    fails(run("inspect", garbage), "not something uttrekk reads", "a dBase/FoxPro file or folder")
    fails(run("inspect", tmp_path / "kort.dbf", "--database", "x"), "--database")


def test_original_files_are_never_written_and_the_cache_is_reused(written: Path, tmp_path: Path, dump_cache) -> None:
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in written.iterdir()}
    for p in written.iterdir():
        p.chmod(0o444)
    extracted(written, tmp_path / "x", "--charset", "UTF-8")
    r = run("cache", "list", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["entries"][0]["file"] == "kilde"
    extracted(written, tmp_path / "y", "--charset", "UTF-8")
    assert len(list((dump_cache / "restored").glob("dbase1-*[!k]"))) == 1  # read once
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in written.iterdir()} == before
    fails(run("extract", written, "--out", written / "ut"), "--out")
    source = open_source(str(written))
    try:
        assert isinstance(source, SourceDialect) and source.source_files() == (written,)
        assert source.source_details()["engine"] == "dbase"
    finally:
        source.close()


# -- record numbers as pointers, and everything downstream -------------------------------------------------------


@pytest.fixture
def system(tmp_path: Path) -> Path:
    """A small municipal system: customers (a deleted one among them), orders pointing to a customer
    by its record number, and a status code table referred to by code."""
    folder = tmp_path / "system"
    folder.mkdir()
    k = dbf.Table(str(folder / "KUNDE.DBF"), "KUNDENR N(6,0); NAVN C(20); STATUS C(1)", dbf_type="db3", codepage="cp865")
    k.open(dbf.READ_WRITE)
    for i, (name, status) in enumerate([("Åse", "A"), ("Borte", "A"), ("Kåre", "P"), ("Øyvind", "A")], 1):
        k.append((100 + i, name, status))
    dbf.delete(k[1])
    k.close()
    s = dbf.Table(str(folder / "STATUS.DBF"), "KODE C(1); NAVN C(20)", dbf_type="db3", codepage="cp865")
    s.open(dbf.READ_WRITE)
    s.append(("A", "Aktiv"))
    s.append(("P", "Passiv"))
    s.close()
    o = dbf.Table(str(folder / "ORDRE.DBF"), "ORDRENR N(6,0); KUNDEPOS N(6,0); KUNDENR N(6,0); DATO D; BELOP N(10,2)",
                  dbf_type="db3", codepage="cp865")
    o.open(dbf.READ_WRITE)
    for nr, pos, when, amount in [(1, 1, dt.date(2001, 1, 2), 10.5), (2, 3, dt.date(2002, 3, 4), 20),
                                  (3, 4, dt.date(2003, 5, 6), 30.25), (4, 3, dt.date(2004, 7, 8), 0)]:
        o.append((nr, pos, 100 + pos, when, amount))
    o.close()
    (folder / "KUNDE.NDX").write_bytes(b"\0" * 512)
    (folder / "LESMEG.TXT").write_text("notater", encoding="utf-8")
    return folder


def test_a_record_number_pointer_becomes_the_target_key(system: Path, tmp_path: Path, dump_cache) -> None:
    """KUNDEPOS holds KUNDE's physical record number (RECNO(), the deleted record 2 counted)."""
    profile = tmp_path / "p.toml"
    profile.write_text('[tables.ORDRE.pointers]\nKUNDEPOS = { references = "KUNDE", address = "recno", '
                       'keep_original = true }\n', encoding="utf-8")
    tables = extracted(system, tmp_path / "x", "--profile", profile)
    ordre = {r["ORDRENR"]: r for r in tables["ORDRE"]}
    assert {n: (r["KUNDEPOS"], r["KUNDEPOS_opprinnelig"]) for n, r in ordre.items()} == {
        "1": ("101", "1"), "2": ("103", "3"), "3": ("104", "4"), "4": ("103", "3")}
    assert all(r["KUNDEPOS"] == r["KUNDENR"] for r in ordre.values())
    keys = rb.read_addml(tmp_path / "x" / "content" / "addml.xml")["ORDRE"].keys
    assert any(k.kind == "foreignKey" and k.fields == ["KUNDEPOS"] and k.ref_table == "KUNDE" for k in keys)
    profile.write_text('[source]\ndeleted = "keep"\n[tables.ORDRE.pointers]\nKUNDEPOS = { references = "KUNDE", '
                       'address = "recno" }\n', encoding="utf-8")
    ordre = {r["ORDRENR"]: r for r in extracted(system, tmp_path / "y", "--profile", profile)["ORDRE"]}
    assert ordre["2"]["KUNDEPOS"] == "103"  # the same rows whether the deleted record is kept or not


def test_downstream_keys_relations_code_lists_profile_formats_validate_package(system: Path, tmp_path: Path,
                                                                              dump_cache) -> None:
    r = run("inspect", system, "--keys")
    assert r.exit_code == 0, r.output
    assert "ORDRE.KUNDENR" in r.output and "KUNDE.KUNDENR" in r.output
    assert "index files not read" in run("inspect", system, "--no-scan").output
    profile = tmp_path / "p.toml"
    r = run("profile", "init", system, "--keys", "-o", profile)
    assert r.exit_code == 0, r.output
    text = profile.read_text(encoding="utf-8")
    assert "[tables.KUNDE]" in text and "# uttrekk: N(6) -> integer" in text and 'references = "KUNDE"' in text
    text = text.replace("confirmed = false", "confirmed = true")
    profile.write_text(text, encoding="utf-8")
    for fmt in ("delimited", "fixed", "xml"):
        out = tmp_path / fmt
        tables = extracted(system, out, "--profile", profile, *META, fmt=fmt)
        assert {r["NAVN"] for r in tables["KUNDE"]} == {"Åse", "Kåre", "Øyvind"}
        addml = rb.read_addml(out / "content" / "addml.xml")
        assert addml["KUNDE"].keys[0].fields == ["KUNDENR"]  # proven in the data
        assert any(k.kind == "foreignKey" and k.ref_table == "KUNDE" for k in addml["ORDRE"].keys)
        v = run("validate", out, "-q")
        assert v.exit_code == 0, v.output
    log = (tmp_path / "delimited" / "documentation" / "uttrekkslogg.txt").read_text(encoding="latin-1")
    log = " ".join(log.split())
    assert "KUNDE.NDX (512 bytes, SHA-256 076a27c79e5ace2a" in log and "index files not read" in log
    pkg = tmp_path / "pkg"
    r = run("extract", system, "--profile", profile, "--out", tmp_path / "p", "--package", pkg, "-q", *META)
    assert r.exit_code == 0, r.output
    [tar] = pkg.glob("*.tar")
    with tarfile.open(tar) as tf:
        assert any(n.endswith("content/KUNDE.txt") for n in tf.getnames())


# -- real files from a public package ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dbfread_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test files the dbfread sdist ships (MIT), fetched by name and version."""
    where = tmp_path_factory.mktemp("dbfread-sdist")
    got = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                          "-d", str(where), DBFREAD_SDIST], capture_output=True, text=True)
    if got.returncode != 0:
        pytest.fail(f"pip download {DBFREAD_SDIST} failed (PyPI must be reachable): {got.stderr[-500:]}")
    [sdist] = where.glob("dbfread-*.tar.gz")
    with tarfile.open(sdist) as tf:
        tf.extractall(where, filter="data")
    return where / "dbfread-2.0.7"


def test_real_files_from_the_dbfread_sdist(dbfread_files: Path, tmp_path: Path, dump_cache) -> None:
    people = dbfread_files / "examples" / "files" / "people.dbf"
    rows = extracted(people, tmp_path / "a")["people"]
    assert same_as_dbfread(people, rows) == 4
    folder = tmp_path / "memo"
    folder.mkdir()
    for name in ("memotest.dbf", "memotest.FPT"):
        shutil.copy(dbfread_files / "testcases" / name, folder / name)
    rows = extracted(folder, tmp_path / "b")["memotest"]
    assert same_as_dbfread(folder / "memotest.dbf", rows) == 6
    r = run("extract", dbfread_files / "testcases" / "no_memofile.dbf", "--out", tmp_path / "c", "-q")
    assert r.exit_code == 0 and "the memo file (no_memofile.fpt) is not beside" in r.output, r.output
    invalid = dbfread_files / "examples" / "files" / "invalid_value.dbf"
    rows = extracted(invalid, tmp_path / "d")["invalid_value"]
    assert "NotAYear" in [r["BIRTHDATE"] for r in rows]  # dbfread raises here; uttrekk keeps it and reports it
    assert "BIRTHDATE" in (tmp_path / "d" / "report" / "deviations.tsv").read_text(encoding="utf-8")
