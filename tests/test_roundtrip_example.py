"""Round trip of the bundled example database: extract it in every format, read the output back
with our own parsers (tests/readback.py) and compare every value with the source.

The expected values come from the source database (sqlite3) and the output spec, never from
uttrekk's own writers.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import build_example_db
import pytest
from click.testing import CliRunner
from lxml import etree

from extractor.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parent))
import readback as rb  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "profiles" / "example-kommune.toml"
SCHEMAS = ROOT / "extractor" / "schemas"
DATE = "2024-05-17"

# (format, long_text_limit override or None). The last one is the fixed format with long texts
# kept inline, so the rest of the fixed-width path is checked even where long texts are broken.
VARIANTS = [("delimited", None), ("fixed", None), ("xml", None), ("fixed", 100000)]
VARIANT_IDS = ["delimited", "fixed", "xml", "fixed-inline-long"]


@dataclass
class Run:
    fmt: str
    out: Path
    exit_code: int
    output: str
    policy: rb.Policy

    @property
    def content(self) -> Path:
        return self.out / "content"

    def ok(self) -> None:
        if self.exit_code != 0:
            pytest.fail(f"uttrekk extract --format {self.fmt} exited {self.exit_code}:\n{self.output[-3000:]}")


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def result_text(res: Any) -> str:
    text = res.output
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback
        text += "".join(traceback.format_exception(res.exception))
    return text


@pytest.fixture(scope="module")
def profile_data() -> dict:
    with PROFILE.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def example_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rt_example") / "example.sqlite"
    build_example_db.build(path)
    return path


@pytest.fixture(scope="module")
def source_tables(example_source: Path) -> dict[str, rb.SourceTable]:
    return rb.read_source(example_source)


def _policy(profile_data: dict, fmt: str, limit: int | None) -> rb.Policy:
    cs = profile_data.get("charset", {})
    return rb.Policy(fmt=fmt, charset=cs.get("encoding", "ISO-8859-1").upper(), charmap=dict(cs.get("map", {})),
                     utf8_fallback=bool(cs.get("utf8_fallback", False)),
                     long_text_limit=limit or profile_data.get("output", {}).get("long_text_limit", 2047),
                     allow_fallback=False)


def _extract(tmp: Path, source: Path, fmt: str, limit: int | None, name: str = "out") -> tuple[Path, Any]:
    profile = PROFILE
    if limit is not None:
        text = PROFILE.read_text(encoding="utf-8")
        assert "[output]" not in text
        profile = tmp / "profile.toml"
        profile.write_text(f"[output]\nlong_text_limit = {limit}\n\n" + text, encoding="utf-8")
    out = tmp / name
    res = invoke("extract", source, "--out", out, "--profile", profile, "--format", fmt, "--date", DATE, "-q")
    return out, res


@pytest.fixture(scope="module", params=VARIANTS, ids=VARIANT_IDS)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, example_source: Path,
        profile_data: dict) -> Run:
    fmt, limit = request.param
    tmp = tmp_path_factory.mktemp(f"rt_{fmt}")
    out, res = _extract(tmp, example_source, fmt, limit)
    return Run(fmt, out, res.exit_code, result_text(res), _policy(profile_data, fmt, limit))


@pytest.fixture(scope="module")
def checked(run: Run, example_source: Path, source_tables: dict) -> rb.Checked:
    run.ok()
    return rb.compare_extract(example_source, run.out, run.policy, source_tables)


def _show(problems: list[str], n: int = 40) -> str:
    more = f"\n... and {len(problems) - n} more" if len(problems) > n else ""
    return "\n".join(problems[:n]) + more


# ---------------------------------------------------------------------------


def test_extract_exits_zero(run: Run) -> None:
    run.ok()
    assert (run.content / "addml.xml").is_file()


def test_every_value_round_trips(checked: rb.Checked) -> None:
    """Every value of every row of every table, compared with the source."""
    assert checked.problems == [], _show(checked.problems)


def test_every_table_and_row_is_there(checked: rb.Checked, source_tables: dict) -> None:
    for name, st in source_tables.items():
        assert name in checked.records, f"{name} not read back"
        assert len(checked.records[name]) == len(st.rows), name
    # the data really is non-trivial (guards against comparing two empty sets)
    assert sum(len(st.rows) for st in source_tables.values()) > 400


def test_null_and_empty_string_stay_apart(run: Run, checked: rb.Checked, source_tables: dict) -> None:
    for table, column in [("TILTAKSHAVER", "epost"), ("SAK_MERKNAD", "merknad")]:
        st = source_tables[table]
        recs = checked.records[table]
        kinds = {"null": 0, "empty": 0}
        for row, rec in zip(st.rows, recs, strict=True):
            if row[column] is None:
                kinds["null"] += 1
                assert rec[column] is None, f"{table}.{column} {row} NULL read back as {rec[column]!r}"
            elif row[column] == "":
                kinds["empty"] += 1
                # all blanks without a _lengde field is only allowed when the column has no NULL
                blank_ok = rec[column] is rb.BLANK and all(r[column] is not None for r in st.rows)
                assert rec[column] == "" or blank_ok, f"{table}.{column} {row} '' read back as {rec[column]!r}"
        assert kinds["empty"] >= 1
    assert any(r["epost"] is None for r in source_tables["TILTAKSHAVER"].rows)


def test_mapped_characters_are_reported(run: Run, checked: rb.Checked, source_tables: dict,
                                        profile_data: dict) -> None:
    charmap = profile_data["charset"]["map"]
    expected = set()
    for name, st in source_tables.items():
        for recno, row in enumerate(st.rows, 1):
            for c in st.columns:
                v = row[c]
                if isinstance(v, str) and any(ch in charmap for ch in v):
                    expected.add((name, c, rb.row_key_text(st.pk, row, recno), v))
    assert len(expected) >= 5  # SAK.tittel en dashes, SAK_MERKNAD typographic quotes
    lines = {(d.table, d.column, d.row_key) for d in checked.deviations if d.action == "mapped"}
    for table, column, key, value in sorted(expected):
        assert (table, column, key) in lines, f"no 'mapped' line for {table}.{column} {key}"
        pk = dict(kv.split("=") for kv in key.split(", "))
        st = source_tables[table]
        idx = next(i for i, r in enumerate(st.rows) if all(str(r[k]) == v for k, v in pk.items()))
        assert checked.records[table][idx][column] == rb.apply_map(value, charmap)
    for d in checked.deviations:
        if d.action == "mapped":
            assert d.detail.strip(), d


def test_unmapped_table_is_utf8_with_exact_sami_letters(run: Run, checked: rb.Checked, source_tables: dict) -> None:
    td = checked.addml["TILTAKSHAVER"]
    path = run.content / td.file_name
    if run.fmt == "xml":
        assert (rb.xml_encoding(path) or "").upper() == "UTF-8"
    else:
        assert (td.charset or "").upper() == "UTF-8"
    raw = path.read_bytes()
    sami = [r["navn"] for r in source_tables["TILTAKSHAVER"].rows if not rb.latin1_ok(r["navn"])]
    assert len(sami) == 4
    for name in sami:
        assert name.encode("utf-8") in raw, f"{name!r} not in the file as UTF-8"
    got = {r["navn"] for r in checked.records["TILTAKSHAVER"]}
    assert set(sami) <= got
    # every other table is Latin-1
    for name in source_tables:
        if name != "TILTAKSHAVER":
            t = checked.addml[name]
            cs = rb.xml_encoding(run.content / t.file_name) if run.fmt == "xml" else t.charset
            assert (cs or "").upper() == "ISO-8859-1", (name, cs)


def test_blobs_exact_bytes(run: Run, checked: rb.Checked, source_tables: dict) -> None:
    st = source_tables["DOKUMENT"]
    seen_zero = seen_null = 0
    for recno, (row, rec) in enumerate(zip(st.rows, checked.records["DOKUMENT"], strict=True), 1):
        v = row["innhold"]
        got = rec["innhold"]
        if v is None:
            seen_null += 1
            assert got is None or got is rb.BLANK
            continue
        assert isinstance(got, str) and got.startswith(f"lob/DOKUMENT/innhold/{recno}."), got
        data = (run.content / got).read_bytes()
        assert data == v
        if len(v) == 0:
            seen_zero += 1
            assert (run.content / got).stat().st_size == 0
    assert seen_zero == 1 and seen_null > 10


def test_long_texts_go_to_files(run: Run, checked: rb.Checked, source_tables: dict) -> None:
    st = source_tables["DOKUMENT"]
    limit = run.policy.long_text_limit
    longs = 0
    names = checked.addml["DOKUMENT"].field_names()
    for row, rec in zip(st.rows, checked.records["DOKUMENT"], strict=True):
        v = row["notat"]
        if isinstance(v, str) and len(v) > limit:
            longs += 1
            assert "notat_fil" in names
            assert names.index("notat_fil") == names.index("notat") + 1
            assert rec["notat"] in (None, rb.BLANK)
            fil = rec["notat_fil"]
            assert (run.content / fil).read_bytes().decode("latin-1") == v
        elif "notat_fil" in names:
            assert rec["notat_fil"] in (None, rb.BLANK), (row["id"], rec["notat_fil"])
    if limit == 2047:
        assert longs == 2


def test_counts_and_checksums_match_files(run: Run, checked: rb.Checked) -> None:
    for name, td in checked.addml.items():
        path = run.content / td.file_name
        assert td.checksum == hashlib.sha256(path.read_bytes()).hexdigest(), name
        assert td.checksum_algorithm == "SHA-256"
        if name in checked.records:
            assert td.count == len(checked.records[name]), name


def test_lobfiler_lists_every_lob_file(run: Run, checked: rb.Checked) -> None:
    on_disk = {p for p in rb.content_inventory(run.content) if p.startswith("lob/")}
    listed = {r["fil"]: r for r in checked.records.get("LOBFILER", [])}
    assert set(listed) == on_disk
    expected_n = 4 + (2 if run.policy.long_text_limit == 2047 else 0)
    assert len(on_disk) == expected_n
    for fil, r in listed.items():
        data = (run.content / fil).read_bytes()
        assert r["bytes"] == str(len(data))
        assert r["sha256"] == hashlib.sha256(data).hexdigest()


def test_content_holds_only_described_files(run: Run, checked: rb.Checked) -> None:
    run.ok()
    described = {"addml.xml", "addml.xsd"}
    for td in checked.addml.values():
        described.add(td.file_name)
        if run.fmt == "xml":
            described.add(td.file_name[: -len(".xml")] + ".xsd")
    described |= {r["fil"] for r in checked.records.get("LOBFILER", [])}
    assert rb.content_inventory(run.content) == described
    assert {p.name for p in run.content.iterdir() if p.is_dir()} <= {"lob"}


def test_addml_valid_against_its_schema(run: Run) -> None:
    run.ok()
    copied = run.content / "addml.xsd"
    version = etree.parse(str(copied)).getroot().get("version")
    assert version in ("8.2", "8.3"), version
    assert copied.read_bytes() == (SCHEMAS / f"addml-{version}.xsd").read_bytes()
    problems = rb.validate_addml(run.content)
    assert problems == [], _show(problems)
    doc = etree.parse(str(run.content / "addml.xml"))
    assert doc.docinfo.encoding.upper() == "UTF-8"
    assert doc.getroot().tag == f"{{{rb.ADDML_NS}}}addml"


def test_keys_in_addml_match_source(run: Run, checked: rb.Checked, example_source: Path, source_tables: dict) -> None:
    con = sqlite3.connect(example_source)
    try:
        for name, st in source_tables.items():
            keys = checked.addml[name].keys
            pks = [k.fields for k in keys if k.kind == "primaryKey"]
            if st.pk:
                assert pks == [st.pk], (name, pks)
            elif pks != [[rb.SURROGATE]]:  # else a single column that must be unique and complete in the source
                assert len(pks) == 1 and len(pks[0]) == 1, (name, pks)
                values = [row[pks[0][0]] for row in st.rows]
                assert None not in values and len(set(values)) == len(values), (name, pks)
            fks = {(tuple(k.fields), k.ref_table, tuple(k.ref_fields or [])) for k in keys if k.kind == "foreignKey"}
            groups: dict[int, list] = {}
            for r in con.execute(f'PRAGMA foreign_key_list("{name}")'):
                groups.setdefault(r[0], []).append(r)
            for rows in groups.values():
                rows.sort(key=lambda r: r[1])
                want = (tuple(r[3] for r in rows), rows[0][2], tuple(r[4] for r in rows))
                assert want in fks, (name, want, fks)
    finally:
        con.close()


def test_alternate_key_described(checked: rb.Checked) -> None:
    """SAK has UNIQUE (saksnr): addml.xml must carry it as an alternateKey."""
    ak = [k.fields for k in checked.addml["SAK"].keys if k.kind == "alternateKey"]
    assert ["saksnr"] in ak, f"alternate keys of SAK: {ak}"


def test_code_tables_listed(checked: rb.Checked, source_tables: dict, profile_data: dict) -> None:
    for table, tprof in profile_data["tables"].items():
        ct = tprof.get("code_table")
        if not ct:
            continue
        want = {r[ct["code"]].rstrip(" "): r[ct["explanation"]] for r in source_tables[table].rows}
        lists = [f.codes for td in checked.addml.values() for f in td.fields if f.codes]
        assert want in lists, f"codes of {table} not listed on any fieldDefinition: {lists}"


@pytest.mark.parametrize("run", [("xml", None)], indirect=True, ids=["xml"])
def test_xml_files_valid_against_their_xsd(run: Run, checked: rb.Checked) -> None:
    problems = rb.validate_xml_tables(run.content, checked.addml)
    assert problems == [], _show(problems)
    for name, td in checked.addml.items():
        assert etree.parse(str(run.content / td.file_name)).getroot().tag == name


@pytest.mark.parametrize("run", [("delimited", None)], indirect=True, ids=["delimited"])
def test_csv_module_agrees(run: Run, checked: rb.Checked) -> None:
    """A second, independent reader: Python's csv module agrees on every non-NULL value."""
    assert set(checked.records) == set(checked.addml)
    problems = rb.csv_cross_check(run.content, checked.addml, checked.records)
    assert problems == [], _show(problems)


@pytest.mark.parametrize("run", [("delimited", None), ("fixed", None)], indirect=True, ids=["delimited", "fixed"])
def test_flat_files_end_with_crlf(run: Run, checked: rb.Checked) -> None:
    """The parser is strict; here also: the raw bytes end with CRLF and hold no bare LF
    outside what the parser accepted as quoted content."""
    for td in checked.addml.values():
        raw = (run.content / td.file_name).read_bytes()
        if raw:
            assert raw.endswith(b"\r\n"), td.file_name


def _masked(path: Path, outs: list[Path]) -> str:
    text = path.read_text(encoding="utf-8")
    for o in outs:
        text = text.replace(str(o), "<OUT>")
    return re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?", "<TS>", text)


def test_rerun_is_byte_identical(run: Run, tmp_path: Path, example_source: Path) -> None:
    run.ok()
    limit = run.policy.long_text_limit if run.policy.long_text_limit != 2047 else None
    out2, res = _extract(tmp_path, example_source, run.fmt, limit, name=run.out.name)
    assert res.exit_code == 0, result_text(res)
    files1 = rb.content_inventory(run.content)
    files2 = rb.content_inventory(out2 / "content")
    assert files1 == files2
    for f in sorted(files1):
        assert (run.content / f).read_bytes() == (out2 / "content" / f).read_bytes(), f
    rep1 = sorted(p.name for p in (run.out / "report").iterdir())
    rep2 = sorted(p.name for p in (out2 / "report").iterdir())
    assert rep1 == rep2
    assert (run.out / "report" / "deviations.tsv").read_bytes() == (out2 / "report" / "deviations.tsv").read_bytes()
    for name in rep1:
        if name != "deviations.tsv":
            assert _masked(run.out / "report" / name, [run.out]) == _masked(out2 / "report" / name, [out2]), name


# ---------------------------------------------------------------------------
# Without a charset policy the example cannot be written as ISO-8859-1.


def test_without_policy_extract_refuses_and_writes_nothing(tmp_path: Path, example_source: Path,
                                                            source_tables: dict) -> None:
    out = tmp_path / "out"
    res = invoke("extract", example_source, "--out", out, "--date", DATE, "-q")
    text = result_text(res)
    assert res.exit_code != 0, text
    assert not out.exists(), "an output directory was created although the extract failed"
    assert "Traceback" not in text, text
    offenders = []
    for name, st in source_tables.items():
        for recno, row in enumerate(st.rows, 1):
            for c in st.columns:
                v = row[c]
                if isinstance(v, str):
                    for ch in v:
                        if ord(ch) > 255:
                            offenders.append((name, c, rb.row_key_text(st.pk, row, recno), ord(ch)))
    assert offenders
    lines = text.splitlines()

    def named(o: tuple) -> bool:
        table, col, key, cp = o
        return any(table in ln and col in ln and key in ln and f"{cp:04X}" in ln.upper() for ln in lines) or (
            table in text and col in text and key in text and f"{cp:04X}" in text.upper())

    assert any(named(o) for o in offenders), f"no offending table/column/row key/code point named in:\n{text}"


@pytest.mark.parametrize("with_profile", [False, True], ids=["no-profile", "with-profile-map"])
def test_charset_utf8_writes_everything_unchanged(tmp_path: Path, example_source: Path, source_tables: dict,
                                                  with_profile: bool) -> None:
    """--charset UTF-8 writes every value as it is, even when the profile has a [charset.map]."""
    out = tmp_path / "out"
    extra = ["--profile", PROFILE] if with_profile else []
    res = invoke("extract", example_source, "--out", out, "--charset", "UTF-8", "--date", DATE, "-q", *extra)
    assert res.exit_code == 0, result_text(res)
    checked = rb.compare_extract(example_source, out, rb.Policy(fmt="delimited", charset="UTF-8",
                                                               allow_fallback=False), source_tables)
    assert checked.problems == [], _show(checked.problems)
    assert not [d for d in checked.deviations if d.action == "mapped"]
    for name in source_tables:
        assert checked.addml[name].charset.upper() == "UTF-8"
