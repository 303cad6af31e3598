"""Key-inference benchmark: ``uttrekk inspect --keys`` on 100 tables and 10 000 000 rows.

Run it from the repository root with the project's venv::

    .venv/bin/python bench/keys_bench.py                 # build once (reused), measure, write docs/performance.md
    .venv/bin/python bench/keys_bench.py --out -         # print only
    .venv/bin/python bench/keys_bench.py --rebuild       # build the database again

What it does:

1. Creates (once; reused while the generator version matches, kept in the database's comment) the
   PostgreSQL database ``uttrekk_keys_bench``: a municipal case-management system of 100 tables and
   10 000 000 rows, none with a declared foreign key. Three big tables (4 M, 2.5 M, about 1.1 M rows),
   eight of 40 000 to 400 000, fourteen subject modules (a main table, a comments table and three
   code tables each), the core register and code tables. The rows are generated on the server
   (``INSERT ... SELECT ... FROM generate_series``), deterministic, in about a minute.
2. Knows every real relation it built (``RELATIONS``; about 140: integer ids, text codes, numeric text
   codes, self-references, a 1:1 table, a composite-key table, dangling values, a few with no name
   evidence) and the traps (small integers like ``antall_sider``, a text column of numbers, key-like
   names outside every key, an integer column named like a text key, a polymorphic ``objekt_id``).
3. Runs the installed ``uttrekk inspect --keys --json`` as a subprocess, measures wall time and peak
   RSS (``os.wait4`` through the bare launcher of ``bench/extract_bench.py``), and compares what it
   reports with the known relations: precision (reported pairs that are real) and recall (real
   relations reported). Each miss and false positive is listed with the tool's evidence.
4. Writes the results into ``--out`` (default ``docs/performance.md``) between ``<!-- keys:start -->``
   and ``<!-- keys:end -->`` (a section "## Key inference" is added at the end if absent); the rest of
   the file is left as it is.

The connection defaults to the local test server; ``--url`` or ``$UTTREKK_KEYS_BENCH_URL`` (a
SQLAlchemy URL whose database is the bench database) overrides it. A password is handed to uttrekk
through ``$UTTREKK_PASSWORD``, never on the command line, and never written into the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from extract_bench import commit_label, publish_section, run_measured  # noqa: E402  (the same launcher and rusage as the extraction bench)

GENERATOR_VERSION = 2
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/uttrekk_keys_bench"
URL_ENV = "UTTREKK_KEYS_BENCH_URL"
TOTAL_ROWS = 10_000_000
PRIMES = [1009, 1013, 1019, 1021, 1031, 1033, 1039, 1049, 1051, 1061, 1063, 1069, 1087, 1091, 1093, 1097,
          1103, 1109, 1117, 1123, 1129, 1151, 1153, 1163, 1171, 1181, 1187, 1193, 1201, 1213, 1217, 1223]


# -- the schema -----------------------------------------------------------------------------------


@dataclass
class Col:
    name: str
    sql_type: str
    expr: str
    """SQL over ``i`` (bigint, 1..rows) giving the value of row i."""
    ref: tuple[str, str] | None = None
    """The real relation (table, column) this column holds, if any."""
    note: str = ""
    """What makes the column interesting (a trap, dangling values, no name evidence...)."""


@dataclass
class Tab:
    name: str
    rows: int
    cols: list[Col]
    pk: tuple[str, ...] = ()


@dataclass
class _Primes:
    n: int = 0

    def __call__(self) -> int:
        self.n += 1
        return PRIMES[self.n % len(PRIMES)]


def _ref(n: int, p: int, nulls: int = 0, dangling: int = 0, every: int = 1000) -> str:
    """Dense ids 1..n spread over the rows; ``dangling`` values n+1.. in every ``every``-th row; NULL
    in every ``nulls``-th row."""
    expr = f"1 + (i * {p}) % {n}"
    if dangling:
        expr = f"CASE WHEN i % {every} = 0 THEN {n} + 1 + (i / {every}) % {dangling} ELSE {expr} END"
    if nulls:
        expr = f"CASE WHEN i % {nulls} = 0 THEN NULL ELSE {expr} END"
    return expr


def _code(prefix: str, k: int, p: int | None = None) -> str:
    """Code ``prefix01``..: row i's own code (``p`` None), or one of the k codes spread over the rows."""
    j = "i" if p is None else f"(1 + (i * {p}) % {k})"
    return f"'{prefix}' || lpad({j}::text, 2, '0')"


def _kommunenr(j: str) -> str:
    return f"lpad((100 + ({j}) * 13)::text, 4, '0')"


def _saksnr(j: str) -> str:
    return f"(2000 + ({j}) % 25)::text || '/' || lpad(({j})::text, 7, '0')"


def _code_table(name: str, k: int, prefix: str, key: str = "kode") -> Tab:
    return Tab(name, k, [Col(key, "varchar(6)", _code(prefix, k)), Col("navn", "varchar(60)", f"'{name} ' || i")],
               (key,))


def _id_code_table(name: str, k: int) -> Tab:
    return Tab(name, k, [Col("id", "integer", "i"), Col("navn", "varchar(60)", f"'{name} ' || i")], ("id",))


MODULES = ["byggesak", "tilskudd", "barnevern", "skjenkebevilling", "oppmaling", "renovasjon", "eiendomsskatt",
           "klage", "innsyn", "avtale", "kontrakt", "tilsyn", "dispensasjon", "startlan"]


def schema() -> list[Tab]:
    P = _Primes()
    n_person, n_sak, n_ansatt, n_bruker = 50_000, 300_000, 800, 2_000
    n_dok, n_jp, n_faktura, n_virk = 4_000_000, 2_500_000, 200_000, 20_000
    t: list[Tab] = [
        Tab("arkiv", 5, [Col("id", "integer", "i"), Col("navn", "varchar(60)", "'Arkiv ' || i")], ("id",)),
        Tab("arkivdel", 40, [Col("id", "integer", "i"), Col("arkiv_id", "integer", _ref(5, P()), ("arkiv", "id")),
                             Col("navn", "varchar(60)", "'Arkivdel ' || i")], ("id",)),
        Tab("fylke", 11, [Col("fylkesnr", "char(2)", "lpad((i * 3)::text, 2, '0')"),
                          Col("navn", "varchar(60)", "'Fylke ' || i")], ("fylkesnr",)),
        Tab("kommune", 356, [Col("kommunenr", "char(4)", _kommunenr("i")), Col("navn", "varchar(60)", "'Kommune ' || i"),
                             Col("fylkesnr", "char(2)", f"lpad(((1 + (i * {P()}) % 11) * 3)::text, 2, '0')",
                                 ("fylke", "fylkesnr"), "numeric text codes, the key's own name")], ("kommunenr",)),
        Tab("poststed", 5_000, [Col("postnr", "char(4)", "lpad((i * 2 - 1)::text, 4, '0')"),
                                Col("poststed", "varchar(50)", "'Sted ' || i"),
                                Col("kommunenr", "char(4)", _kommunenr(f"1 + (i * {P()}) % 356"), ("kommune", "kommunenr"))],
            ("postnr",)),
        Tab("enhet", 120, [Col("id", "integer", "i"),
                           Col("overordnet_enhet_id", "integer", f"CASE WHEN i <= 5 THEN NULL ELSE 1 + (i * {P()}) % 40 END",
                               ("enhet", "id"), "self-reference"),
                           Col("navn", "varchar(60)", "'Enhet ' || i"),
                           Col("kommunenr", "char(4)", _kommunenr(f"1 + (i * {P()}) % 356"), ("kommune", "kommunenr"))],
            ("id",)),
        _code_table("stilling", 25, "ST"),
        Tab("ansatt", n_ansatt, [Col("id", "integer", "i"),
                                 Col("person_id", "integer", _ref(n_person, P()), ("person", "id")),
                                 Col("enhet_id", "integer", _ref(120, P()), ("enhet", "id")),
                                 Col("stilling_kode", "varchar(6)", _code("ST", 25, P()), ("stilling", "kode"))], ("id",)),
        Tab("bruker", n_bruker, [Col("id", "integer", "i"), Col("brukernavn", "varchar(30)", "'bruker' || i"),
                                 Col("ansatt_id", "integer", f"CASE WHEN i > {n_ansatt} THEN NULL ELSE i END",
                                     ("ansatt", "id"))], ("id",)),
        Tab("person", n_person, [
            Col("id", "integer", "i"), Col("fnr", "char(11)", "lpad((10000000000 + i * 7919)::text, 11, '0')"),
            Col("navn", "varchar(100)", "'Person ' || i"),
            Col("postnr", "char(4)", f"lpad(((1 + (i * {P()}) % 5000) * 2 - 1)::text, 4, '0')", ("poststed", "postnr"),
                "numeric text codes, the key's own name"),
            Col("kommunenr", "char(4)", _kommunenr(f"1 + (i * {P()}) % 356"), ("kommune", "kommunenr")),
            Col("telefon", "varchar(12)", "(40000000 + i * 17)::text", note="trap: text of numbers"),
            Col("fodselsaar", "integer", "1920 + i % 100", note="trap: years, inside every dense id range")], ("id",)),
        Tab("person_detalj", 40_000, [Col("person_id", "integer", "i", ("person", "id"), "1:1: its own primary key"),
                                      Col("sivilstand_kode", "varchar(2)", f"chr((65 + (i * {P()}) % 6)::int)",
                                          ("sivilstand", "kode"), "letters also in rolle.kode")], ("person_id",)),
        Tab("adresse", 60_000, [
            Col("id", "integer", "i"), Col("person_id", "integer", _ref(n_person, P(), nulls=9), ("person", "id")),
            Col("gatenavn", "varchar(100)", "'Gate ' || (i % 900)"),
            Col("husnr", "integer", "1 + i % 200", note="trap: key-like, small integers"),
            Col("postnr", "char(4)", f"lpad(((1 + (i * {P()}) % 5000) * 2 - 1)::text, 4, '0')", ("poststed", "postnr"))],
            ("id",)),
        Tab("sivilstand", 6, [Col("kode", "varchar(2)", "chr(64 + i::int)"), Col("navn", "varchar(40)", "'Sivilstand ' || i")],
            ("kode",)),
        Tab("rolle", 8, [Col("kode", "varchar(2)", "chr(64 + i::int)"), Col("navn", "varchar(40)", "'Rolle ' || i")],
            ("kode",)),
        Tab("sak_part", 400_000, [
            Col("sak_id", "integer", f"1 + (i - 1) % {n_sak}", ("sak", "id"), "part of a composite key"),
            Col("person_id", "integer", f"1 + (i * 7919 + (i - 1) / {n_sak}) % {n_person}", ("person", "id"),
                "part of a composite key"),
            Col("rolle_kode", "varchar(2)", "chr(65 + (i % 8)::int)", ("rolle", "kode"))],
            ("sak_id", "person_id", "rolle_kode")),
        _id_code_table("sakstype", 12),
        _code_table("saksstatus", 6, "SS"),
        Tab("sak", n_sak, [
            Col("id", "integer", "i"), Col("saksnr", "varchar(12)", _saksnr("i")),
            Col("tittel", "varchar(200)", "'Sak om ' || i"),
            Col("saksbehandler_id", "integer", _ref(n_ansatt, P()), ("ansatt", "id"), "key-like name only"),
            Col("arkivdel_id", "integer", _ref(40, P()), ("arkivdel", "id")),
            Col("sakstype_id", "integer", _ref(12, P()), ("sakstype", "id")),
            Col("status", "varchar(4)", _code("SS", 6, P()), ("saksstatus", "kode"), "no name evidence (text)"),
            Col("forrige_sak_id", "integer", f"CASE WHEN i % 20 <> 0 THEN NULL ELSE 1 + (i * {P()}) % {n_sak} END",
                ("sak", "id"), "self-reference"),
            Col("kommunenr", "char(4)", _kommunenr(f"1 + (i * {P()}) % 356"), ("kommune", "kommunenr")),
            Col("belop", "integer", "(i * 7919) % 10000000", note="trap: amounts"),
            Col("opprettet", "date", "date '2000-01-01' + (i % 9000)::int")], ("id",)),
        _id_code_table("vedtakstype", 9),
        Tab("vedtak", 150_000, [
            Col("id", "integer", "i"),
            Col("sak_id", "integer", _ref(n_sak, P(), dangling=5), ("sak", "id"), "5 dangling values"),
            Col("vedtakstype_id", "integer", _ref(9, P()), ("vedtakstype", "id")),
            Col("fattet_av_id", "integer", _ref(n_ansatt, P()), ("ansatt", "id"), "key-like name only"),
            Col("dato", "date", "date '2001-01-01' + (i % 8000)::int")], ("id",)),
        _code_table("naering", 80, "NA"),
        Tab("virksomhet", n_virk, [
            Col("id", "integer", "i"), Col("orgnr", "varchar(9)", "(800000000 + i * 37)::text"),
            Col("navn", "varchar(100)", "'Virksomhet ' || i"),
            Col("postnr", "char(4)", f"lpad(((1 + (i * {P()}) % 5000) * 2 - 1)::text, 4, '0')", ("poststed", "postnr")),
            Col("naeringskode", "varchar(6)", _code("NA", 80, P()), ("naering", "kode"))], ("id",)),
        Tab("faktura", n_faktura, [
            Col("id", "integer", "i"), Col("fakturanr", "integer", "100000000 + i"),
            Col("virksomhet_id", "integer", _ref(n_virk, P()), ("virksomhet", "id")),
            Col("saksnr", "varchar(12)", _saksnr(f"1 + (i * {P()}) % {n_sak}"), ("sak", "saksnr"),
                "a natural text key beside the primary key"),
            Col("belop", "integer", "(i * 104729) % 5000000", note="trap: amounts"),
            Col("kid", "varchar(25)", "(i * 1000003)::text", note="trap: text of numbers")], ("id",)),
        Tab("betaling", 250_000, [
            Col("faktura_id", "integer", _ref(n_faktura, P()), ("faktura", "id")),
            Col("fakturanr", "integer", f"100000000 + 1 + (i * {P()}) % {n_faktura}", ("faktura", "fakturanr"),
                "a key only the data shows, beside the primary key"),
            Col("belop", "integer", "(i * 7919) % 5000000", note="trap: amounts"),
            Col("betalt", "date", "date '2010-01-01' + (i % 5000)::int")]),
        _code_table("dokumenttype", 10, "DT"),
        _code_table("journalstatus", 7, "JS"),
        _code_table("hendelsestype", 30, "HT"),
        Tab("dokument", n_dok, [
            Col("id", "integer", "i"),
            Col("sak_id", "integer", _ref(n_sak, P()), ("sak", "id")),
            Col("dokumenttype_kode", "varchar(4)", _code("DT", 10, P()), ("dokumenttype", "kode")),
            Col("journalstatus", "varchar(4)", _code("JS", 7, P()), ("journalstatus", "kode")),
            Col("opprettet_av_id", "integer", _ref(n_bruker, P()), ("bruker", "id"), "key-like name only"),
            Col("arkivdel_id", "integer", _ref(40, P(), dangling=3, every=5000), ("arkivdel", "id"), "3 dangling values"),
            Col("tittel", "varchar(200)", "'Dokument ' || i"),
            Col("dato", "date", "date '2000-01-01' + (i % 9000)::int"),
            Col("antall_sider", "integer", "1 + i % 300", note="trap: small integers, no name"),
            Col("sidetall", "varchar(5)", "(1 + i % 300)::text", note="trap: text of numbers"),
            Col("ekstern_ref_id", "integer", "900000000 + i % 1000", note="trap: key-like, outside every key"),
            Col("versjonsnr", "integer", "1 + i % 5", note="trap: key-like, small integers")], ("id",)),
        Tab("journalpost", n_jp, [
            Col("id", "integer", "i"),
            Col("dokument_id", "integer", _ref(n_dok, P()), ("dokument", "id")),
            Col("sak_id", "integer", _ref(n_sak, P()), ("sak", "id")),
            Col("mottaker_id", "integer", _ref(n_person, P(), dangling=3, every=20000), ("person", "id"),
                "key-like name only, 3 dangling values"),
            Col("avsender_orgnr", "varchar(9)",
                f"CASE WHEN i % 2000 = 0 THEN (700000000 + (i / 2000) % 40)::text "
                f"ELSE (800000000 + (1 + (i * {P()}) % {n_virk}) * 37)::text END",
                ("virksomhet", "orgnr"), "text key beside the primary key, 40 dangling values"),
            Col("journalaar", "integer", "1990 + i % 35", note="trap: years"),
            Col("kode", "integer", "1 + i % 9", note="trap: integer named like the text code keys"),
            Col("opprettet_av", "integer", _ref(n_bruker, P()), ("bruker", "id"), "no name evidence, dense key")],
            ("id",)),
    ]
    for m, name in enumerate(MODULES):
        rows = 10_000 + 2_000 * m
        k_type, k_status, k_kat = 5 + m % 10, 3 + m % 7, 4 + m % 5
        prefix = chr(65 + m) + "M"
        cols = [Col("id", "integer", "i"),
                Col("sak_id", "integer", _ref(n_sak, P(), dangling=2 if m % 4 == 0 else 0), ("sak", "id"),
                    "2 dangling values" if m % 4 == 0 else ""),
                Col(f"{name}type_kode", "varchar(6)", _code(prefix + "T", k_type, P()), (f"{name}type", "kode")),
                Col(f"{name}status_id", "integer", _ref(k_status, P()), (f"{name}status", "id")),
                Col("kategori_kode", "varchar(6)", _code(prefix + "K", k_kat, P()), (f"{name}_kategori", "kode"),
                    "the table name ends with the column's"),
                Col("beskrivelse", "varchar(200)", f"'{name} ' || i"),
                Col("registrert", "date", "date '2005-01-01' + (i % 7000)::int")]
        if m % 2 == 0:
            cols.insert(2, Col("person_id", "integer", _ref(n_person, P()), ("person", "id")))
        else:
            cols.insert(2, Col("virksomhet_id", "integer", _ref(n_virk, P()), ("virksomhet", "id")))
        if m % 3 == 0:
            cols.append(Col("antall", "integer", "1 + i % 5", note="trap: small integers, no name"))
        t += [
            Tab(name, rows, cols, ("id",)),
            Tab(f"{name}_merknad", 2 * rows, [
                Col("id", "integer", "i"),
                Col(f"{name}_id", "integer", _ref(rows, P()), (name, "id")),
                Col("registrert_av_id", "integer", _ref(n_ansatt, P()), ("ansatt", "id"), "key-like name only"),
                Col("lopenr", "integer", "1 + i % 10", note="trap: key-like, small integers"),
                Col("tekst", "varchar(200)", "'Merknad ' || i")], ("id",)),
            _code_table(f"{name}type", k_type, prefix + "T"),
            _id_code_table(f"{name}status", k_status),
            _code_table(f"{name}_kategori", k_kat, prefix + "K"),
        ]
    rest = TOTAL_ROWS - sum(x.rows for x in t)
    t.append(Tab("logg_hendelse", rest, [
        Col("lopenr", "integer", "i"),
        Col("bruker_id", "integer", _ref(n_bruker, P()), ("bruker", "id")),
        Col("hendelsestype", "varchar(6)", _code("HT", 30, P()), ("hendelsestype", "kode")),
        Col("objekt_id", "integer", f"CASE WHEN i % 2 = 0 THEN 1 + (i * {P()}) % {n_dok} ELSE 1 + (i * {P()}) % {n_jp} END",
            note="trap: polymorphic (dokument or journalpost ids)"),
        Col("tidspunkt", "timestamp", "timestamp '2015-01-01' + (i || ' seconds')::interval"),
        Col("melding", "varchar(200)", "'Hendelse ' || i")]))  # no primary key: lopenr is the key only the data shows
    return t


def relations(tables: list[Tab]) -> dict[tuple[str, str, str, str], str]:
    return {(t.name, c.name, *c.ref): c.note for t in tables for c in t.cols if c.ref}


# -- building -------------------------------------------------------------------------------------


def _engine(url: Any, **kw: Any) -> Any:
    import sqlalchemy as sa

    return sa.create_engine(url, **kw)


def build(url: Any, rebuild: bool, log: Any) -> None:
    import sqlalchemy as sa

    tag = f"uttrekk keys bench v{GENERATOR_VERSION}"
    admin = _engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        comment = conn.execute(sa.text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :d"),
                               {"d": url.database}).first()
        if comment is not None and comment[0] == tag and not rebuild:
            log(f"reusing database {url.database} ({tag})")
            admin.dispose()
            return
        if comment is not None:
            conn.exec_driver_sql(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{url.database}" ENCODING \'UTF8\' TEMPLATE template0')
    admin.dispose()
    started = time.perf_counter()
    eng = _engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        for t in schema():
            cols = ", ".join(f"{c.name} {c.sql_type}" for c in t.cols)
            pk = f", PRIMARY KEY ({', '.join(t.pk)})" if t.pk else ""
            conn.exec_driver_sql(f"CREATE TABLE {t.name} ({cols}{pk})")
            began = time.perf_counter()
            sql = (f"INSERT INTO {t.name} ({', '.join(c.name for c in t.cols)}) "
                   f"SELECT {', '.join(c.expr for c in t.cols)} FROM generate_series(1::bigint, {t.rows}) AS i")
            conn.exec_driver_sql(sql.replace("%", "%%"))  # no parameters: % is the modulo operator
            if t.rows >= 100_000:
                log(f"  {t.name}: {t.rows:,} rows in {time.perf_counter() - began:.1f} s")
        conn.exec_driver_sql("VACUUM ANALYZE")
    eng.dispose()
    admin = _engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"COMMENT ON DATABASE \"{url.database}\" IS '{tag}'")
    admin.dispose()
    log(f"built {url.database}: 100 tables, {TOTAL_ROWS:,} rows in {time.perf_counter() - started:.0f} s")


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    seconds: float
    cpu: float
    peak_rss: int
    report: dict[str, Any]
    known: dict[tuple[str, str, str, str], str]
    reported: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pairs(self) -> set[tuple[str, str, str, str]]:
        return {(c["table"], c["column"], c["references"], c["ref_column"]) for c in self.report["relations"]}

    @property
    def true_positives(self) -> set[tuple[str, str, str, str]]:
        return self.pairs & set(self.known)

    @property
    def precision(self) -> float:
        return len(self.true_positives) / len(self.pairs) if self.pairs else 1.0

    @property
    def recall(self) -> float:
        return len(self.true_positives) / len(self.known)


def measure(url: Any, log: Any) -> Outcome:
    uttrekk = ROOT / ".venv" / "bin" / "uttrekk"
    exe = str(uttrekk) if uttrekk.exists() else "uttrekk"
    env = {"UTTREKK_PASSWORD": url.password} if url.password else {}
    source = url._replace(password=None).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="uttrekk-keys-bench-") as tmp:
        out = Path(tmp) / "keys.json"
        log(f"running {Path(exe).name} inspect --keys --json {url._replace(password=None).render_as_string()}")
        m = run_measured([exe, "inspect", "--keys", "--json", source], env, out, Path(tmp))
        report = json.loads(out.read_text())
    return Outcome(m.seconds, m.cpu_seconds, m.peak_rss, report, relations(schema()))


def _server_version(url: Any) -> str:
    import sqlalchemy as sa

    eng = _engine(url)
    with eng.connect() as conn:
        version = str(conn.execute(sa.text("SHOW server_version")).scalar_one())
    eng.dispose()
    return version


def render(o: Outcome, url: Any, cmd: str) -> str:
    r = o.report
    by_pair = {(c["table"], c["column"], c["references"], c["ref_column"]): c for c in r["relations"]}
    false_pos = sorted(o.pairs - set(o.known))
    missed = sorted(set(o.known) - o.pairs)
    by_conf: dict[str, list[int]] = {}
    for pair, c in by_pair.items():
        counts = by_conf.setdefault(c["confidence"], [0, 0])
        counts[0] += 1
        counts[1] += pair in o.known
    dangling = [k for k, note in o.known.items() if "dangling" in note]
    lines = [
        f"Generated by `bench/keys_bench.py` on {dt.date.today().isoformat()} (`{cmd}`); rerun it to refresh this "
        "block (the database is built once and reused).", "",
        f"Database `{url.database}` on PostgreSQL {_server_version(url)}: {r['tables']} tables, {r['rows']:,} rows, "
        f"no declared foreign key; {len(o.known)} real relations built in (integer ids, text and numeric-text "
        f"codes, self-references, a 1:1 table, a composite key, {len(dangling)} with dangling values, a few with no "
        "name evidence) and traps (small integers, years, amounts, text of numbers, key-like names outside every "
        "key, an integer named like the text code keys, a polymorphic `objekt_id`). Machine: "
        f"{os.cpu_count()} cores, {platform.platform(terse=True)}, Python {platform.python_version()}; uttrekk "
        f"{commit_label()}.", "",
        "The traps and the rules were made together: the first run on this database reported 22 false "
        "positives (counters named `*nr` such as `lopenr` and `versjonsnr`, and small integers matched in a "
        "table's fallback key), and the counter, spread and fallback-key rules came from them. Read these "
        "numbers as a regression check of those rules, not as a promise for an unseen system.", "",
        "| measure | value |", "| --- | ---: |",
        f"| wall time | {o.seconds:.1f} s |",
        f"| CPU time of uttrekk (the server does the work) | {o.cpu:.1f} s |",
        f"| peak RSS of uttrekk | {o.peak_rss / 1e6:.0f} MB |",
        f"| server queries | {r['queries']:,} |",
        f"| columns compared / keys | {r['columns_compared']:,} / {r['keys']:,} |",
        f"| pairs checked on the server / settled by the statistics | {r['pairs_checked']:,} / "
        f"{r['pairs_settled_by_statistics']:,} |",
        f"| relations reported | {len(o.pairs)} |",
        f"| **precision** (reported pairs that are real) | **{o.precision:.1%}** ({len(o.true_positives)} of "
        f"{len(o.pairs)}) |",
        f"| **recall** (real relations reported) | **{o.recall:.1%}** ({len(o.true_positives)} of {len(o.known)}) |",
        "", "By confidence (reported / real):", "",
        "| confidence | reported | real |", "| --- | ---: | ---: |",
    ]
    lines += [f"| {conf} | {by_conf.get(conf, [0, 0])[0]} | {by_conf.get(conf, [0, 0])[1]} |"
              for conf in ("high", "medium", "low")]
    lines += ["", f"False positives ({len(false_pos)}):", ""]
    lines += [f"- `{t}.{c} -> {rt}({rc})` [{by_pair[(t, c, rt, rc)]['confidence']}]: "
              f"{by_pair[(t, c, rt, rc)]['evidence']}" for t, c, rt, rc in false_pos] or ["- none"]
    lines += ["", f"Missed ({len(missed)}), with what the built column is:", ""]
    lines += [f"- `{t}.{c} -> {rt}({rc})`: {o.known[(t, c, rt, rc)] or 'plain reference'}"
              for t, c, rt, rc in missed] or ["- none"]
    if r["notes"]:
        lines += ["", "Notes from the run:", ""] + [f"- {n}" for n in r["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--url", default=os.environ.get(URL_ENV, DEFAULT_URL),
                   help=f"SQLAlchemy URL of the bench database (${URL_ENV}; default: the local test server)")
    p.add_argument("--rebuild", action="store_true", help="drop and build the database again")
    p.add_argument("--build-only", action="store_true", help="build (or check) the database and stop")
    p.add_argument("--out", default="docs/performance.md", help="file to write the keys block into ('-' = print only)")
    args = p.parse_args(argv)
    import sqlalchemy as sa

    url = sa.engine.make_url(args.url)

    def log(msg: str) -> None:
        print(f"keys-bench: {msg}", file=sys.stderr, flush=True)

    build(url, args.rebuild, log)
    if args.build_only:
        return 0
    outcome = measure(url, log)
    cmd = "python bench/keys_bench.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    block = render(outcome, url, cmd.strip())
    publish_section(args.out, "keys", block, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
