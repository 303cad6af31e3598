"""documentation/ in every extract: beskrivelse.txt, oversikt.html and uttrekkslogg.txt.

What the text must say is taken from content/addml.xml, read here with lxml on its own: every
table, field, key and code of addml.xml is looked up in beskrivelse.txt. The HTML page is
rendered by a real headless Chromium (Debian's package, installed by scripts/test-services.sh):
a screenshot must show the ER diagram's colours over a real area, and the DOM Chromium built
must hold one box per table and one line per relation.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import tarfile
import unicodedata
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa
from lxml import etree
from PIL import Image

from tests.conftest import EXAMPLE_PROFILE, fresh_database, make_db, run

A = "{http://www.arkivverket.no/standarder/addml}"
HEADER_RGB = (0x1F, 0x4E, 0x79)
"""The fill of the diagram's box headers (erdiagram.HEADER_FILL), used nowhere else on the page."""
BODY_RGB = (0xEA, 0xF2, 0xFB)
PASSWORD = "Hemmelig-Pw-9731"


# -- reading addml.xml on its own ---------------------------------------------------------------

def addml_tables(extract: Path) -> list[dict]:
    """Every flat file of addml.xml: name, file, records, description, fields (with codes) and keys."""
    root = etree.parse(str(extract / "content" / "addml.xml")).getroot()
    files = {}
    for ff in root.iter(f"{A}flatFile"):
        props = {p.get("name"): p.findtext(f"{A}value") for p in ff.iter(f"{A}property")}
        files[ff.get("name")] = (props["fileName"], int(props["numberOfOccurrences"]))
    out = []
    for fd in root.iter(f"{A}flatFileDefinition"):
        rd = fd.find(f".//{A}recordDefinition")
        fields = [{"name": f.get("name"), "description": f.findtext(f"{A}description") or "",
                   "codes": [(c.get("codeValue"), c.get("explan") or "") for c in f.iter(f"{A}code")]}
                  for f in rd.iter(f"{A}fieldDefinition")]
        keys = []
        for key in rd.iter(f"{A}key"):
            own = [r.get("name") for r in key.find(f"{A}fieldDefinitionReferences")]
            fk = key.find(f"{A}foreignKey")
            kind = "fk" if fk is not None else ("pk" if key.find(f"{A}primaryKey") is not None else "ak")
            target = fk.find(f"{A}flatFileDefinitionReference").get("name") if fk is not None else None
            target_fields = [r.get("name") for r in fk.iter(f"{A}fieldDefinitionReference")] if fk is not None else []
            keys.append({"name": key.get("name"), "kind": kind, "fields": own, "target": target,
                         "target_fields": target_fields})
        name = fd.get("name")
        out.append({"name": name, "file": files[name][0], "records": files[name][1],
                    "description": fd.findtext(f"{A}description") or "", "fields": fields, "keys": keys})
    return out


def as_text(s: str) -> str:
    """A text as the depot rule has it written in ISO 8859-1 (the rule stated at the top of the file)."""
    out = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif ord(c) > 0xFF or (unicodedata.category(c) == "Cc" and c != "\n"):
            out.append(f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}")
        else:
            out.append(c)
    return "".join(out)


def flat(s: str) -> str:
    return " ".join(s.split())


def read_latin1(path: Path) -> str:
    """The file's text, after checking it is ISO 8859-1 plain text with CR LF lines of at most 100 columns."""
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # its Norwegian letters are single Latin-1 bytes, not UTF-8
    text = raw.decode("iso-8859-1", errors="strict")
    assert "Ã" not in text, "UTF-8 bytes read as Latin-1: the file is not ISO 8859-1"
    assert not re.search(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]", text), "control characters in the text"
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = text.split("\r\n")
    assert max(len(line) for line in lines) <= 100
    assert "\\uXXXX" in text[:600], "the charset rule must be stated at the top"
    return text


def sections(text: str) -> dict[str, str]:
    """beskrivelse.txt cut into its table sections, by the table names in their headings."""
    heads = list(re.finditer(r"^-{100}\r\n3\.\d+  (.+)\r\n-{100}\r$", text, re.M))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else text.index("4  RELASJONER")
        out[m.group(1)] = text[m.end():end]
    return out


def check_covers_addml(extract: Path) -> str:
    """beskrivelse.txt names every table, field, key and code of addml.xml; returns the text."""
    text = read_latin1(extract / "documentation" / "beskrivelse.txt")
    tables = addml_tables(extract)
    parts = sections(text)
    assert list(parts) == [as_text(t["name"]) for t in tables]
    for t in tables:
        sec = parts[as_text(t["name"])]
        words = flat(sec)
        assert f"content/{as_text(t['file'])}" in words
        assert int(re.search(r"Antall poster \.*: (\d+)", sec).group(1)) == t["records"]
        own_desc = t["description"].split(" Kildetabell:")[0]
        if not own_desc.startswith("Kildetabell:"):
            assert flat(as_text(own_desc)) in words, (t["name"], own_desc)
        names = re.findall(r"^ {4,6}\d+\. (\S+)", sec, re.M)
        assert names == [as_text(f["name"]) for f in t["fields"]], t["name"]
        for f in t["fields"]:
            if f["description"]:
                assert flat(as_text(f["description"])) in words, (t["name"], f["name"])
            for code, explanation in f["codes"]:
                assert flat(f"{as_text(code)} = {as_text(explanation) or '(ingen forklaring)'}") in words, (f, code)
        for k in t["keys"]:
            fields = ", ".join(as_text(n) for n in k["fields"])
            if k["kind"] == "pk":
                assert re.search(rf"^  Primærnøkkel \.*: {re.escape(fields)}\r$", sec, re.M), (t["name"], k)
            elif k["kind"] == "ak":
                assert re.search(rf"Alternativ nøkkel \.*: {re.escape(fields)} \(unik\)", words), (t["name"], k)
            else:
                target = f"{as_text(k['target'])} ({', '.join(as_text(n) for n in k['target_fields'])})"
                assert f"{fields} -> {target}" in words, (t["name"], k)
                assert f"Navn: {as_text(k['name'])};" in words
                assert re.search(r"Kardinalitet (n:1|1:1): hver post i", words)
    return text


# -- Chromium ------------------------------------------------------------------------------------

def chromium(page: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium is not installed; run scripts/test-services.sh (it installs Debian's chromium package)")
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                        f"--user-data-dir={tmp / 'chromium-profile'}", *args, page.as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def dom(page: Path, tmp: Path) -> lxml.html.HtmlElement:
    """The document Chromium built from the page (``--dump-dom``), parsed with lxml."""
    return lxml.html.fromstring(chromium(page, tmp, "--dump-dom").stdout)


def check_diagram_dom(tree: lxml.html.HtmlElement, tables: list[dict]) -> None:
    diagrams = tree.xpath('//svg[@class="er-diagram"]')
    assert len(diagrams) == 1
    boxes = diagrams[0].xpath('.//g[@class="er-tabell"]')
    assert sorted(b.get("data-tabell") for b in boxes) == sorted(t["name"] for t in tables)
    relations = sum(1 for t in tables for k in t["keys"] if k["kind"] == "fk")
    assert len(diagrams[0].xpath('.//path[@class="er-relasjon"]')) == relations
    for b in boxes:  # each box links to its table's section of the page
        href = b.xpath(".//a/@href")[0]
        assert tree.xpath(f'//section[@id="{href[1:]}"]/h3')[0].text_content().endswith(b.get("data-tabell"))
    assert not tree.xpath("//script")


# -- the example extract ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example_extract(example_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("doc") / "x"
    r = run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", out, "--date", "2026-01-15", "-q")
    assert r.exit_code == 0, r.output
    return out


def test_example_description_covers_addml(example_extract: Path) -> None:
    text = check_covers_addml(example_extract)
    assert "Arkivskaper ......: Eksempel kommune" in text and "Arkivperiode .....: 2019-01-01 - 2023-12-31" in text
    assert "Systemversjon ....: 3.4" in text and "Uttrekksdato .....: 2026-01-15" in text
    assert "TILTAKSHAVER.txt" in text and "UTF-8" in text  # the charset of each file
    words = flat(text)
    # SAK.hovedsak_id may be empty: at most one SAK; SAK.status may not: exactly one STATUSKODE
    assert "hovedsak_id -> SAK (id) Kardinalitet n:1: hver post i SAK viser til høyst én post" in words
    assert "status -> STATUSKODE (kode) Kardinalitet n:1: hver post i SAK viser til nøyaktig én post" in words
    assert "Ingen tabeller eller kolonner i kilden er utelatt." in words


def test_example_log_says_what_when_where(example_extract: Path) -> None:
    log = read_latin1(example_extract / "documentation" / "uttrekkslogg.txt")
    report = json.loads((example_extract / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert f"Startet ..........: {report['started']}" in log and report["finished"] in log
    assert "uttrekk " + report["version"] in log
    assert report["source_details"]["engine"] == "sqlite" and report["source_details"]["file"] in flat(log)
    for t in report["tables"]:
        assert re.search(rf"^  {re.escape(t['table'])} +{t['records']} poster  content/{t['file']}", log, re.M)
    # substitutions counted per table and column, pointing to deviations.tsv
    lines = (example_extract / "report" / "deviations.tsv").read_text(encoding="utf-8").splitlines()[1:]
    mapped = sum(1 for line in lines if line.split("\t")[:2] == ["SAK", "tittel"] and line.split("\t")[3] == "mapped")
    assert mapped and f"SAK.tittel: {mapped} x mapped" in log
    assert "report/deviations.tsv" in log and f"har {len(lines)} linje(r)" in log
    for w in report["warnings"]:
        assert flat(as_text(w)) in flat(log)


def test_example_description_is_the_same_on_a_rerun(example_db: Path, example_extract: Path, tmp_path: Path) -> None:
    r = run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", tmp_path / "y", "--date", "2026-01-15", "-q")
    assert r.exit_code == 0, r.output
    for name in ("beskrivelse.txt",):
        assert (tmp_path / "y" / "documentation" / name).read_bytes() == \
            (example_extract / "documentation" / name).read_bytes()


def test_example_overview_renders_with_a_visible_diagram(example_extract: Path, tmp_path: Path) -> None:
    page = example_extract / "documentation" / "oversikt.html"
    raw = page.read_bytes()
    assert raw.isascii()
    assert not re.search(rb"""(src|href)\s*=\s*["']?(https?:|//|file:)""", raw), "the page must need nothing outside"
    assert b"<link" not in raw and b"@import" not in raw and b"url(http" not in raw
    tables = addml_tables(example_extract)
    shot = tmp_path / "oversikt.png"
    chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1400,2200")
    with Image.open(shot) as img:
        colours = dict((c, n) for n, c in img.convert("RGB").getcolors(maxcolors=1 << 24))
    assert colours.get(HEADER_RGB, 0) >= 1500 * len(tables), "the diagram's box headers are not visible"
    assert colours.get(BODY_RGB, 0) >= 2000 * len(tables), "the diagram's boxes are not visible"
    check_diagram_dom(dom(page, tmp_path), tables)


def test_package_carries_the_documentation(example_extract: Path, tmp_path: Path) -> None:
    uuid = "0c4d3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
    r = run("package", example_extract, "--out", tmp_path / "p", "--uuid", uuid)
    assert r.exit_code == 0, r.output
    with tarfile.open(tmp_path / "p" / f"{uuid}.tar") as tf:
        for name in ("beskrivelse.txt", "oversikt.html", "uttrekkslogg.txt"):
            member = tf.extractfile(f"{uuid}/descriptive_metadata/documentation/{name}")
            assert member is not None and member.read() == (example_extract / "documentation" / name).read_bytes()
    mets = etree.parse(tarfile.open(tmp_path / "p" / f"{uuid}.tar").extractfile(f"{uuid}/dias-mets.xml")).getroot()
    hrefs = [e.get("{http://www.w3.org/1999/xlink}href") for e in mets.iter("{http://arkivverket.no/standarder/METS}FLocat")]
    assert "file:descriptive_metadata/documentation/beskrivelse.txt" in hrefs
    # the package validates, and AH.02 (extra or missing files) does not count the documentation
    run("validate", tmp_path / "p" / f"{uuid}.tar", "--json", tmp_path / "v.json", "-q")
    report = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    assert report["errors"] == 0
    assert "documentation" not in json.dumps(report) and "beskrivelse" not in json.dumps(report)


# -- an extract from the PostgreSQL server ------------------------------------------------------

PG_SCHEMA = [
    "CREATE TYPE farge AS ENUM ('rod', 'gronn')",
    "CREATE TABLE status (kode varchar(2) PRIMARY KEY, navn text NOT NULL)",
    "CREATE TABLE person (id integer PRIMARY KEY, navn text NOT NULL, fodt date)",
    "CREATE TABLE kort (id integer PRIMARY KEY, person_id integer UNIQUE REFERENCES person (id), farge farge)",
    """CREATE TABLE sak (id integer PRIMARY KEY, status varchar(2) NOT NULL REFERENCES status (kode),
         person_id integer NOT NULL REFERENCES person (id), hemmelig text, tittel text NOT NULL)""",
    "CREATE TABLE tmp_import (x integer)",
    "COMMENT ON TABLE sak IS 'Saker <script>alert(1)</script> for Čáhppes kontor, arkivert fra C:\\mappe'",
    "COMMENT ON COLUMN sak.tittel IS 'Sakens tittel </td><b>fet</b>'",
    "INSERT INTO status VALUES ('N', 'Ny'), ('A', 'Avsluttet & arkivert')",
    "INSERT INTO person VALUES (1, 'Åse', '1970-01-02'), (2, 'Ola', NULL), (3, 'Kari', '1980-05-06')",
    "INSERT INTO kort VALUES (1, 1, 'rod'), (2, NULL, 'gronn'), (3, 3, NULL)",
    "INSERT INTO sak VALUES (1, 'N', 1, 'x', 'Første'), (2, 'A', 2, 'y', 'Andre'), (3, 'A', 1, NULL, 'Tredje')",
    "INSERT INTO tmp_import VALUES (1)",
]

PG_PROFILE = """
[metadata]
archive_creator = "Testkommune"
submitter = "Testkommune IKT"
system_name = "Saksys"
system_version = "2.1"
period_start = "2020-01-01"
period_end = "2020-12-31"
dataset_number = "1234/56/1"
responsible_person = "Kari Arkivar, arkivleder"

[tables.status]
code_table = { code = "kode", explanation = "navn" }

[tables.kort]
where = "id <> 3"
filter_reason = "Kort 3 er et testkort"

[tables.tmp_import]
exclude = "Midlertidig importtabell uten arkivverdi"

[tables.sak.columns.hemmelig]
exclude = "Passordhash; skal ikke avleveres"
"""


@pytest.fixture(scope="module")
def pg_extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, sa.engine.URL]:
    tmp = tmp_path_factory.mktemp("pgdoc")
    profile = tmp / "p.toml"
    profile.write_text(PG_PROFILE, encoding="utf-8")
    with fresh_database("postgresql", "uttrekk_doc") as url:
        eng = sa.create_engine(url)
        with eng.begin() as conn:
            for stmt in PG_SCHEMA:
                conn.exec_driver_sql(stmt.replace("%", "%%"))
        eng.dispose()
        # trust authentication ignores the password, but the URL carries one as a real run's would, and
        # a secret as a query parameter too (libpq's sslpassword: unused without a client key)
        source = url.set(password=PASSWORD).update_query_dict({"sslpassword": PASSWORD}).render_as_string(
            hide_password=False)
        assert PASSWORD in source
        r = run("extract", source, "--profile", profile, "--out", tmp / "x", "--date", "2026-02-01", "-q")
        assert r.exit_code == 0, r.output
        assert PASSWORD not in r.output
        yield tmp / "x", url


def test_pg_description_covers_addml(pg_extract: tuple[Path, sa.engine.URL]) -> None:
    out, _ = pg_extract
    text = check_covers_addml(out)
    words = flat(text)
    for label, value in (("Datasettnummer", "1234/56/1"), ("Ansvarlig", "Kari Arkivar, arkivleder"),
                         ("Avleverer", "Testkommune IKT"), ("Systemversjon", "2.1")):
        assert re.search(rf"^  {label} \.+: {re.escape(value)}\r$", text, re.M), label
    # a unique referring field makes a 1:1 relation; it may be empty, so at most one person
    assert ("person_id -> person (id) Kardinalitet 1:1: hver post i kort viser til høyst én post (ingen når feltet "
            "er tomt) i person; en post i person kan ha høyst én post i kort") in words
    assert "person_id -> person (id) Kardinalitet n:1: hver post i sak viser til nøyaktig én post i person" in words
    assert "rod = (ingen forklaring)" in words and "A = Avsluttet & arkivert" in words
    # outside Latin-1: escaped and counted at the top, never dropped; a backslash doubled
    assert "\\u010C\u00e1hppes" in text and "C:\\\\mappe" in text
    count = int(re.search(r"Denne filen har (\d+) slike tegn", flat(text)).group(1))
    assert count == text.count("\\u010C")


def test_excluded_tables_and_columns_show_their_reason(pg_extract: tuple[Path, sa.engine.URL]) -> None:
    out, _ = pg_extract
    text = flat(read_latin1(out / "documentation" / "beskrivelse.txt"))
    log = flat(read_latin1(out / "documentation" / "uttrekkslogg.txt"))
    assert "Tabellen tmp_import: Midlertidig importtabell uten arkivverdi" in text
    assert "Kolonnen sak.hemmelig: Passordhash; skal ikke avleveres" in text
    assert "hemmelig: Passordhash; skal ikke avleveres" in flat(sections(read_latin1(
        out / "documentation" / "beskrivelse.txt"))["sak"])
    assert "Tabellen tmp_import er utelatt: Midlertidig importtabell uten arkivverdi" in log
    assert "Kolonnen sak.hemmelig er utelatt: Passordhash; skal ikke avleveres" in log
    # rows left out by a filter: which, why and how many
    for words in (text, log):
        assert "bare postene der vilkåret id <> 3 er oppfylt, er tatt med. Begrunnelse: Kort 3 er et testkort." in words
        assert "1 post(er) i kildetabellen er utelatt." in words
    page = lxml.html.fromstring((out / "documentation" / "oversikt.html").read_bytes())
    assert "Tabellen tmp_import: Midlertidig importtabell uten arkivverdi" in flat(page.text_content())


def test_pg_log_names_host_and_database_never_the_password(pg_extract: tuple[Path, sa.engine.URL],
                                                           tmp_path: Path) -> None:
    out, url = pg_extract
    log = flat(read_latin1(out / "documentation" / "uttrekkslogg.txt"))
    assert f"vert {url.host}; port {url.port}; database {url.database}; bruker {url.username}" in log
    for table, records in (("sak", 3), ("person", 3), ("kort", 2), ("status", 2)):
        assert f"{table} {records} poster content/{table}.txt" in log
    report = json.loads((out / "report" / "extraction.json").read_text(encoding="utf-8"))
    assert report["source_details"]["database"] == url.database
    packed = tmp_path / "p"
    r = run("package", out, "--out", packed, "--uuid", "5b0f7c3e-2a1d-4e8f-9c6b-7a5d4e3f2c1b")
    assert r.exit_code == 0, r.output
    files = [p for p in [*out.rglob("*"), *packed.rglob("*")] if p.is_file()]
    assert len(files) >= 14  # 6 in content/, 3 in report/, 3 in documentation/, the tar and its info file
    for p in files:
        assert PASSWORD.encode() not in p.read_bytes(), p


def test_html_shows_markup_from_the_database_as_text(pg_extract: tuple[Path, sa.engine.URL], tmp_path: Path) -> None:
    out, _ = pg_extract
    page = out / "documentation" / "oversikt.html"
    raw = page.read_bytes()
    assert b"<script" not in raw and b"<b>fet" not in raw
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    tree = dom(page, tmp_path)  # as a browser reads it
    check_diagram_dom(tree, addml_tables(out))
    text = tree.text_content()
    assert "Saker <script>alert(1)</script> for Čáhppes kontor" in text
    assert "Sakens tittel </td><b>fet</b>" in text and not tree.xpath("//td//b")


# -- the diagram's layout -------------------------------------------------------------------------

def boxes_of(page: Path) -> dict[str, tuple[float, float, float, float]]:
    """Each table box of the page's diagram: (x, y, width, height) of its outline."""
    svg = lxml.html.fromstring(page.read_bytes()).xpath('//svg[@class="er-diagram"]')[0]
    out = {}
    for g in svg.xpath('.//g[@class="er-tabell"]'):
        r = g.xpath(".//rect")[0]
        out[g.get("data-tabell")] = tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
    return out


def test_diagram_draws_cycles_and_self_references_without_overlap(tmp_path: Path, example_extract: Path) -> None:
    db = make_db(tmp_path / "c.sqlite", """
        CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));
        CREATE TABLE b (id INTEGER PRIMARY KEY, c_id INTEGER REFERENCES c (id));
        CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id), forelder INTEGER REFERENCES c (id));
        CREATE TABLE d (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL UNIQUE REFERENCES a (id));
    """, {"a": [(1, 1)], "b": [(1, 1)], "c": [(1, 1, None)], "d": [(1, 1)]})
    r = run("extract", db, "--out", tmp_path / "x", "-q")
    assert r.exit_code == 0, r.output
    for extract in (tmp_path / "x", example_extract):
        page = extract / "documentation" / "oversikt.html"
        boxes = boxes_of(page)
        assert sorted(boxes) == sorted(t["name"] for t in addml_tables(extract))
        for (n1, (x1, y1, w1, h1)), (n2, (x2, y2, w2, h2)) in itertools.combinations(boxes.items(), 2):
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, (n1, n2)
        svg = lxml.html.fromstring(page.read_bytes()).xpath('//svg[@class="er-diagram"]')[0]
        width, height = float(svg.get("width")), float(svg.get("height"))
        assert all(x >= 0 and y >= 0 and x + w <= width and y + h <= height for x, y, w, h in boxes.values())
        for p in svg.xpath('.//path[@class="er-relasjon"]'):  # every line starts and ends on a box's side
            nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", p.get("d"))]
            for px, py in ((nums[0], nums[1]), (nums[-2], nums[-1])):
                assert any((abs(px - x) < 0.2 or abs(px - (x + w)) < 0.2) and y <= py <= y + h
                           for x, y, w, h in boxes.values())
    text = flat(read_latin1(tmp_path / "x" / "documentation" / "beskrivelse.txt"))
    assert "forelder -> c (id) Kardinalitet n:1" in text
    assert "a_id -> a (id) Kardinalitet 1:1: hver post i d viser til nøyaktig én post i a" in text


def test_diagram_layout_of_a_long_chain() -> None:
    """2 000 tables each referring to the next: ranked without recursion, one column each."""
    from extractor.documentation.erdiagram import layout
    from extractor.documentation.model import RelationDoc, TableDoc

    def table(i: int, refs: list[int]) -> TableDoc:
        rels = tuple(RelationDoc(f"FK_{i}_{j}", f"t{i}", ("ref",), f"t{j}", ("id",), "n:1", "1", "0..n", "source")
                     for j in refs)
        return TableDoc(i + 1, f"tabell-{i + 1}", f"t{i}", f"t{i}.txt", 1, 1, "0" * 64, "ISO-8859-1", "", f"t{i}", (),
                        ("id",), (), rels, (), "", "", (), "", (), None)

    n = 2000
    boxes, width, _ = layout(tuple(table(i, [i + 1] if i + 1 < n else []) for i in range(n)))
    xs = {b.table.name: b.x for b in boxes}
    assert all(xs[f"t{i + 1}"] < xs[f"t{i}"] for i in range(n - 1))  # each referred table left of its referrer
    assert len(set(xs.values())) == n and width > xs["t0"]


def test_fixed_width_positions_are_those_of_addml(example_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "f"
    r = run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", out, "--format", "fixed", "-q")
    assert r.exit_code == 0, r.output
    check_covers_addml(out)
    parts = sections(read_latin1(out / "documentation" / "beskrivelse.txt"))
    root = etree.parse(str(out / "content" / "addml.xml")).getroot()
    checked = 0
    for fd in root.iter(f"{A}flatFileDefinition"):
        sec = flat(parts[as_text(fd.get("name"))])
        for f in fd.iter(f"{A}fieldDefinition"):
            start, end = f.findtext(f"{A}startPos"), f.findtext(f"{A}endPos")
            assert f"{as_text(f.get('name'))} " in sec and f"posisjon {start}-{end} (" in sec
            checked += 1
        length = fd.find(f".//{A}recordDefinition/{A}fixedLength").text
        assert re.search(rf"Postlengde \.+: {length} tegn pluss CR LF", sec)
    assert checked > 40
