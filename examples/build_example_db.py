#!/usr/bin/env python3
"""Build the example database for uttrekk: a small municipal building-permit
system ("Byggesak") for the fictional "Eksempel kommune", as an SQLite file.

Usage:
    python examples/build_example_db.py [--force] OUT.sqlite

Importable:
    from build_example_db import build
    build("example.sqlite")

The content is fully deterministic: fixed data plus ``random.Random(2026)`` for
the bulk rows, and no dependence on the clock, the locale or the environment.
A golden test pins the extract built from this database, so any change to the
data here changes the golden files.

Deliberate edge cases (used by the tests of the extractor):
  * STATUSKODE.kode is CHAR(2) but some codes are one character ('M', 'A', 'T').
  * TILTAKSHAVER.navn holds Sami letters outside Latin-1 (only that table);
    TILTAKSHAVER.epost mixes NULL, '' and addresses; TILTAKSHAVER.adresse holds
    LF and CRLF line breaks.
  * MOTEPLAN has a composite primary key; SAK has a composite foreign key to it,
    a self-reference (hovedsak_id) and a UNIQUE constraint on saksnr.
  * SAK.tittel holds en dashes (U+2013), ';', '"' and line breaks.
  * SAK.registrert is a timestamp, some values with fractional seconds.
  * SAK.gebyr is DECIMAL(12,2); SQLite's NUMERIC affinity stores '845.10' as
    REAL 845.1 and '0.00' as INTEGER 0, which is realistic for SQLite sources.
  * DOKUMENT.innhold holds a PDF header, a PNG signature, bytes with NUL, a
    zero-length blob and NULLs; DOKUMENT.notat has 2 values longer than 2047
    characters.
  * HENDELSESLOGG has no primary key and no unique constraint, and contains
    two rows that are exact duplicates.
  * SAK_MERKNAD.merknad holds an empty string and typographic quotes
    (U+201C/U+201D).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

__all__ = ["build", "main", "SEED"]

SEED = 2026

PERIOD_START = dt.date(2019, 1, 1)
PERIOD_END = dt.date(2023, 12, 31)

# ---------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------

SCHEMA = [
    """CREATE TABLE SAKSTYPE (
    kode VARCHAR(4) PRIMARY KEY,
    betegnelse VARCHAR(100) NOT NULL
)""",
    """CREATE TABLE STATUSKODE (
    kode CHAR(2) PRIMARY KEY,
    betegnelse VARCHAR(60) NOT NULL
)""",
    """CREATE TABLE TILTAKSHAVER (
    id INTEGER PRIMARY KEY,
    navn VARCHAR(120) NOT NULL,
    orgnr CHAR(9),
    fodselsdato DATE,
    epost VARCHAR(200),
    adresse TEXT
)""",
    """CREATE TABLE MOTEPLAN (
    aar INTEGER NOT NULL,
    motenr INTEGER NOT NULL,
    dato DATE NOT NULL,
    klokkeslett TIME,
    PRIMARY KEY (aar, motenr)
)""",
    # The UNIQUE on saksnr is a table-level constraint: SQLAlchemy's SQLite
    # dialect does not reflect an inline "VARCHAR(20) NOT NULL UNIQUE".
    """CREATE TABLE SAK (
    id INTEGER PRIMARY KEY,
    saksnr VARCHAR(20) NOT NULL,
    sakstype VARCHAR(4) NOT NULL REFERENCES SAKSTYPE(kode),
    status CHAR(2) NOT NULL REFERENCES STATUSKODE(kode),
    tiltakshaver_id INTEGER REFERENCES TILTAKSHAVER(id),
    hovedsak_id INTEGER REFERENCES SAK(id),
    tittel VARCHAR(250) NOT NULL,
    mottatt DATE NOT NULL,
    registrert TIMESTAMP NOT NULL,
    gebyr DECIMAL(12,2),
    ferdigattest BOOLEAN,
    vedtak_aar INTEGER,
    vedtak_motenr INTEGER,
    CONSTRAINT uq_sak_saksnr UNIQUE (saksnr),
    FOREIGN KEY (vedtak_aar, vedtak_motenr) REFERENCES MOTEPLAN(aar, motenr)
)""",
    """CREATE TABLE DOKUMENT (
    id INTEGER PRIMARY KEY,
    sak_id INTEGER NOT NULL REFERENCES SAK(id),
    tittel VARCHAR(250) NOT NULL,
    filnavn VARCHAR(255),
    innhold BLOB,
    notat TEXT,
    opprettet TIMESTAMP NOT NULL
)""",
    """CREATE TABLE HENDELSESLOGG (
    tidspunkt TIMESTAMP NOT NULL,
    bruker VARCHAR(30) NOT NULL,
    hendelse VARCHAR(200) NOT NULL,
    sak_id INTEGER
)""",
    """CREATE TABLE SAK_MERKNAD (
    id INTEGER PRIMARY KEY,
    sak_id INTEGER NOT NULL REFERENCES SAK(id),
    merknad TEXT NOT NULL,
    intern BOOLEAN NOT NULL
)""",
]

# ---------------------------------------------------------------------------
# Fixed data
# ---------------------------------------------------------------------------

SAKSTYPER = [
    ("RS", "Rammesøknad"),
    ("ET", "Ett-trinnssøknad"),
    ("IG", "Igangsettingstillatelse"),
    ("DP", "Dispensasjon"),
    ("RIV", "Riving"),
    ("TIL", "Tilbygg"),
]

STATUSKODER = [
    ("M", "Mottatt"),
    ("UB", "Under behandling"),
    ("IN", "Innvilget"),
    ("A", "Avslått"),
    ("T", "Trukket"),
]

# (aar, motenr, dato, klokkeslett) -- the planning committee's meetings.
MOTER = [
    (2019, 1, "2019-03-14", "18:00:00"),
    (2019, 2, "2019-10-17", "18:00:00"),
    (2020, 1, "2020-02-13", "18:00:00"),
    (2020, 2, "2020-09-10", "09:00:00"),
    (2021, 1, "2021-03-11", "18:00:00"),
    (2021, 2, "2021-06-17", "18:30:00"),
    (2021, 3, "2021-11-18", "18:00:00"),
    (2022, 1, "2022-02-10", "18:00:00"),
    (2022, 2, "2022-06-09", None),  # ekstraordinært møte, tid ikke registrert
    (2022, 3, "2022-11-17", "18:00:00"),
    (2023, 1, "2023-04-20", "18:00:00"),
    (2023, 2, "2023-10-19", "17:30:00"),
]

PERSONER = [
    "Kari Nordmann",
    "Ola Hansen",
    "Åse Bjørnstad",
    "Øystein Lærum",
    "Ingrid Sæther",
    "Per-Åge Østby",
    "Solveig Håkonsen",
    "Bjørn Ødegård",
    "Marit Aasen",
    "Lars Kristiansen",
    "Astrid Bråten",
    "Trond Ellingsen",
    "Guro Næss",
    "Håvard Tveitå",
    "Sigrid Løvås",
    "Erlend Strøm",
    "Ragnhild Vågen",
    "Jørgen Åmot",
    "Hilde Frøland",
    "Knut Ærøy",
    "Tone Brække",
    "Eirik Sørensen",
    "Ane Grønli",
    "Magnus Skjærvø",
    # Sami names with letters outside Latin-1 (Č č Đ đ Ŋ ŋ Š š Ŧ ŧ Ž ž).
    "Máret Čuđežáš Ŋuolja",
    "Ánde Šuoššaš",
    "Biret Žiiddar",
    "Niillas Ŧoađđi Čoavddáš",
]

ORGANISASJONER = [
    "Fjordbygg AS",
    "Nordlys Eiendom AS",
    "Bjørkås Borettslag",
    "Sjøsiden Utvikling AS",
    "Øvre Dal Gårdsdrift DA",
    "Tømrermester Ødegård AS",
    "Vestvik Sameie",
    "Elvebakken Næringspark AS",
    "Hålogaland Hytteutleie AS",
    "Eksempel kommune, Eiendomsavdelingen",
    "Sætervika Båtforening",
    "Grønnåsen Barnehage SA",
]

GATER = [
    "Storgata",
    "Kirkevegen",
    "Fjordvegen",
    "Skolegata",
    "Bjørkelia",
    "Åsvegen",
    "Møllebakken",
    "Sjøgata",
    "Løkkeveien",
    "Ørneveien",
    "Ærfuglvegen",
    "Prestegårdsvegen",
]

POSTSTEDER = [
    "8000 Bodø",
    "8006 Bodø",
    "8200 Fauske",
    "8250 Rognan",
    "9008 Tromsø",
    "7500 Stjørdal",
    "8300 Svolvær",
    "9520 Kautokeino",
]

OBJEKTER = [
    "enebolig",
    "tomannsbolig",
    "garasje",
    "carport",
    "bod",
    "veranda",
    "terrasse",
    "støttemur",
    "fritidsbolig",
    "naust",
    "brygge",
    "driftsbygning",
    "lagerhall",
    "verkstedbygg",
    "uthus",
    "anneks",
    "rekkehus med fire boenheter",
    "levegg mot nabo",
]

# Titles with the special characters the extractor must cope with; they are
# placed on fixed case numbers (index in the sorted case list, 0-based) and
# force the case type so title and type agree.
SPESIALTITLER = {
    4: ("TIL", "Tilbygg – bolig, gnr. 12/45"),
    17: ("RIV", "Garasje – riving og oppføring av ny"),
    33: ("ET", "Bruksendring – kjeller til hybel"),
    48: ("RS", "Rammesøknad; enebolig med sekundærleilighet"),
    61: ("DP", "Dispensasjon fra reguleringsplan; byggegrense mot veg"),
    75: ("RIV", 'Riving av "Gamle meieriet"'),
    90: ("ET", 'Oppføring av "Fjordgløtt" barnehage, gnr. 41/3'),
    104: ("TIL", "Tilbygg til fritidsbolig\nEndret søknad etter nabomerknad"),
    121: ("ET", "Oppføring av carport\r\nTilleggsopplysninger vedlagt"),
    140: ("DP", "Dispensasjon – oppføring av naust i 100-metersbeltet"),
}

DOKUMENTTITLER = [
    ("Søknad om tillatelse", "soknad.pdf"),
    ("Situasjonsplan", "situasjonsplan.pdf"),
    ("Fasadetegning sør", "fasade_sor.pdf"),
    ("Plantegning", "plantegning.pdf"),
    ("Nabovarsel", "nabovarsel.pdf"),
    ("Kvittering for nabovarsel", "kvittering_nabovarsel.pdf"),
    ("Erklæring om ansvarsrett", "ansvarsrett.pdf"),
    ("Vedtak", "vedtak.pdf"),
    ("Foto av eksisterende bygg", "foto.png"),
    ("Merknad fra nabo", None),
    ("Uttalelse fra Statens vegvesen", "uttalelse_svv.pdf"),
    ("Søknad om ferdigattest", "ferdigattest_soknad.pdf"),
]

KORTE_NOTATER = [
    "Mangler underskrift fra ansvarlig søker.",
    "Purret på manglende situasjonsplan.",
    "Skannet fra papir.",
    "Erstatter tidligere innsendt versjon.",
    "Mottatt via Fellestjenester BYGG.",
    "Gjelder også naboeiendommen gnr. 12/46.",
    "",
]

PROSA = (
    "Saken gjelder søknad om tillatelse til tiltak på eiendommen. Tiltaket "
    "ligger innenfor område regulert til boligformål, og søknaden er vurdert "
    "etter plan- og bygningsloven med tilhørende forskrifter. Naboene er "
    "varslet, og det er kommet inn merknader som gjelder utsikt, sol- og "
    "skyggeforhold og trafikk i anleggsperioden. Kommunen har vurdert "
    "merknadene og finner at ulempene ikke er større enn det man må regne "
    "med ved utbygging i et etablert boligområde. Avstand til nabogrense er "
    "i samsvar med kravene, og utnyttelsesgraden er innenfor det planen "
    "tillater. Ansvarlig søker må sørge for at overvann håndteres på egen "
    "grunn, og at atkomst til eiendommen holdes åpen for utrykningskjøretøy "
    "i hele byggeperioden. "
)

LANGE_NOTATER = {
    # dokument-id -> lengde i tegn (begge over 2047)
    15: 3000,
    42: 5000,
}

BLOBS = {
    # dokument-id -> innhold
    3: (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    ),
    7: (
        b"\x89PNG\r\n\x1a\n"
        b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
        b"\x1f\x15\xc4\x89"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    ),
    12: bytes(range(0, 32)) + b"\x00\xff\xfe\x00" + "æøå".encode("utf-8"),
    20: b"",
}

BRUKERE = [
    "kari.saksbehandler",
    "ola.byggesak",
    "aase.arkiv",
    "trond.leder",
    "system",
]

HENDELSER_SAK = [
    "Sak opprettet",
    "Sak åpnet",
    "Dokument registrert",
    "Status endret til Under behandling",
    "Gebyr beregnet",
    "Brev sendt til tiltakshaver",
    "Nabomerknad registrert",
    "Vedtak fattet",
    "Journalpost låst",
]

HENDELSER_UTEN_SAK = [
    "Innlogging",
    "Utlogging",
    "Nattlig eksport til sak/arkiv fullført",
]

MERKNADER = [
    "Tiltakshaver har ringt og spurt om status i saken.",
    "Saken er drøftet i byggesaksmøte; avventer uttalelse fra vegvesenet.",
    "Nabo har sendt inn bilder av eksisterende forhold.",
    "Gebyret er redusert etter avtale med enhetsleder.",
    "Manglende dokumentasjon etterlyst per e-post.",
    "Befaring gjennomført, ingen avvik funnet.",
    "Søker har bedt om utsatt frist for tilleggsdokumentasjon.",
    "Saken bør ses i sammenheng med reguleringsendringen for sentrum.",
    "Ansvarlig foretak har ikke sentral godkjenning.",
    "Vedtaket er påklaget av nabo; klagen sendes Statsforvalteren.",
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _ascii(text: str) -> str:
    """Lowercase ASCII-ish local part for an e-mail address."""
    table = str.maketrans(
        {
            "æ": "ae", "ø": "o", "å": "a", "á": "a", "č": "c", "đ": "d",
            "ŋ": "n", "š": "s", "ŧ": "t", "ž": "z", " ": ".", ",": "",
        }
    )
    return text.lower().translate(table)


def _orgnr(rng: random.Random) -> str:
    """A 9-digit organisation number with a valid modulus-11 check digit."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    while True:
        digits = [rng.choice((8, 9))] + [rng.randint(0, 9) for _ in range(7)]
        rest = sum(d * w for d, w in zip(digits, weights)) % 11
        check = 0 if rest == 0 else 11 - rest
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def _date(d: dt.date) -> str:
    return d.isoformat()


def _ts(t: dt.datetime, fractional: bool = False) -> str:
    if fractional:
        return t.strftime("%Y-%m-%d %H:%M:%S.%f")
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _clamp(t: dt.datetime) -> dt.datetime:
    last = dt.datetime.combine(PERIOD_END, dt.time(23, 59, 59))
    return min(t, last)


def _max_days(start: dt.datetime, limit: int) -> int:
    """At most ``limit`` days, and never past the day before the period ends."""
    return max(0, min(limit, (PERIOD_END - start.date()).days - 1))


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _office_time(rng: random.Random) -> dt.time:
    return dt.time(rng.randint(7, 15), rng.randint(0, 59), rng.randint(0, 59))


# ---------------------------------------------------------------------------
# Row generation
# ---------------------------------------------------------------------------


def _tiltakshavere(rng: random.Random) -> list[tuple]:
    rows = []
    names = [(n, False) for n in PERSONER] + [(n, True) for n in ORGANISASJONER]
    # Interleave persons and organisations deterministically.
    rng.shuffle(names)
    for i, (navn, is_org) in enumerate(names, start=1):
        orgnr = _orgnr(rng) if is_org else None
        fodselsdato = (
            None
            if is_org
            else _date(_random_date(rng, dt.date(1940, 1, 1), dt.date(2000, 12, 31)))
        )
        r = rng.random()
        if r < 0.2:
            epost = None
        elif r < 0.3:
            epost = ""
        elif is_org:
            epost = "post@" + _ascii(navn.split()[0]) + ".example.no"
        else:
            epost = _ascii(navn) + "@example.no"
        gate = f"{rng.choice(GATER)} {rng.randint(1, 120)}"
        poststed = rng.choice(POSTSTEDER)
        r = rng.random()
        if r < 0.05:
            adresse = None
        elif r < 0.45:
            adresse = f"{gate}\n{poststed}"
        elif r < 0.65:
            adresse = f"Postboks {rng.randint(1, 999)}\r\n{poststed}"
        else:
            adresse = f"{gate}, {poststed}"
        rows.append((i, navn, orgnr, fodselsdato, epost, adresse))
    # Guarantee the edge cases regardless of the draw.
    rows[0] = rows[0][:4] + ("",) + rows[0][5:]
    rows[1] = rows[1][:4] + (None,) + rows[1][5:]
    rows[2] = rows[2][:5] + ("Storgata 1\nLeil. H0201\n8000 Bodø",)
    rows[3] = rows[3][:5] + ("Postboks 12\r\n8200 Fauske",)
    return rows


def _tittel(rng: random.Random, sakstype: str) -> str:
    objekt = rng.choice(OBJEKTER)
    sted = f"gnr. {rng.randint(1, 140)}/{rng.randint(1, 300)}"
    if rng.random() < 0.5:
        sted += f", {rng.choice(GATER)} {rng.randint(1, 120)}"
    if sakstype == "RS":
        return f"Rammesøknad for {objekt}, {sted}"
    if sakstype == "ET":
        return f"Oppføring av {objekt}, {sted}"
    if sakstype == "IG":
        return f"Igangsettingstillatelse for {objekt}, {sted}"
    if sakstype == "DP":
        return f"Dispensasjon fra byggegrense for {objekt}, {sted}"
    if sakstype == "RIV":
        return f"Riving av {objekt}, {sted}"
    return f"Tilbygg til {objekt}, {sted}"


def _saker(rng: random.Random, n_tiltakshavere: int) -> list[tuple]:
    n = 200
    mottatt_datoer = sorted(
        _random_date(rng, PERIOD_START, dt.date(2023, 12, 15)) for _ in range(n)
    )
    moter = [(aar, nr, dt.date.fromisoformat(d)) for aar, nr, d, _ in MOTER]
    type_weights = [("RS", 20), ("ET", 35), ("IG", 15), ("DP", 12), ("RIV", 6), ("TIL", 12)]
    typer, vekter = zip(*type_weights)
    fixed_gebyr = {2: Decimal("845.10"), 5: Decimal("0.00"), 8: Decimal("12500.50")}

    rows = []
    per_aar: dict[int, int] = {}
    for idx, mottatt in enumerate(mottatt_datoer):
        sak_id = idx + 1
        per_aar[mottatt.year] = per_aar.get(mottatt.year, 0) + 1
        saksnr = f"{mottatt.year}/{per_aar[mottatt.year]:04d}"

        sakstype = rng.choices(typer, vekter)[0]
        tittel = _tittel(rng, sakstype)
        if idx in SPESIALTITLER:
            sakstype, tittel = SPESIALTITLER[idx]

        tiltakshaver_id = None if rng.random() < 0.05 else rng.randint(1, n_tiltakshavere)

        hovedsak_id = None
        if idx > 0 and sakstype in ("IG", "DP") and rng.random() < 0.45:
            earlier_rs = [r[0] for r in rows if r[2] == "RS"]
            if earlier_rs:
                hovedsak_id = rng.choice(earlier_rs[-15:])

        reg_dato = mottatt + dt.timedelta(days=rng.randint(0, 4))
        registrert_dt = dt.datetime.combine(reg_dato, _office_time(rng))
        fractional = rng.random() < 0.15
        if fractional:
            registrert_dt = registrert_dt.replace(microsecond=rng.randint(0, 999999))
        if idx == 10:  # trailing zeros in the fraction
            fractional = True
            registrert_dt = registrert_dt.replace(microsecond=120000)
        registrert = _ts(registrert_dt, fractional)

        # The first committee meeting at least three weeks after receipt.
        neste_mote = next(
            ((a, m) for a, m, d in moter if d >= mottatt + dt.timedelta(days=21)), None
        )
        if neste_mote is None:
            status = rng.choice(["M", "UB", "UB"])
        else:
            r = rng.random()
            status = "IN" if r < 0.66 else "A" if r < 0.80 else "T" if r < 0.88 else "UB"
        vedtak_aar = vedtak_motenr = None
        if status in ("IN", "A"):
            vedtak_aar, vedtak_motenr = neste_mote

        if status == "M":
            gebyr = None
        elif status == "T":
            gebyr = Decimal("0.00") if rng.random() < 0.5 else None
        else:
            kroner = rng.randint(8, 600) * 50
            ore = rng.choice([0, 0, 0, 10, 25, 50, 75, 90])
            gebyr = Decimal(kroner) + Decimal(ore) / 100
            gebyr = gebyr.quantize(Decimal("0.01"))
        if idx in fixed_gebyr:
            gebyr = fixed_gebyr[idx]

        if status == "IN":
            r = rng.random()
            ferdigattest = 1 if r < 0.6 else 0 if r < 0.85 else None
        else:
            ferdigattest = 0 if rng.random() < 0.1 else None

        rows.append(
            (
                sak_id,
                saksnr,
                sakstype,
                status,
                tiltakshaver_id,
                hovedsak_id,
                tittel,
                _date(mottatt),
                registrert,
                None if gebyr is None else str(gebyr),
                ferdigattest,
                vedtak_aar,
                vedtak_motenr,
            )
        )
    return rows


def _dokumenter(rng: random.Random, saker: list[tuple]) -> list[tuple]:
    rows = []
    for dok_id in range(1, 61):
        sak = rng.choice(saker)
        sak_id, saksnr, registrert = sak[0], sak[1], sak[8]
        tittel, filnavn = rng.choice(DOKUMENTTITLER)
        if filnavn is not None:
            if rng.random() < 0.15:
                filnavn = None
            else:
                stamme, ext = filnavn.rsplit(".", 1)
                filnavn = f"{saksnr.replace('/', '_')}_{stamme}.{ext}"
        innhold = BLOBS.get(dok_id)
        if dok_id == 3:
            tittel, filnavn = "Søknad om tillatelse", f"{saksnr.replace('/', '_')}_soknad.pdf"
        elif dok_id == 7:
            tittel, filnavn = "Foto av eksisterende bygg", f"{saksnr.replace('/', '_')}_foto.png"
        elif dok_id == 12:
            tittel, filnavn = "Vedlegg i ukjent format", "ukjent_format.bin"
        elif dok_id == 20:
            filnavn = "tom_fil.pdf"
        if dok_id in LANGE_NOTATER:
            lengde = LANGE_NOTATER[dok_id]
            notat = (PROSA * (lengde // len(PROSA) + 1))[:lengde].rstrip()
        elif rng.random() < 0.4:
            notat = rng.choice(KORTE_NOTATER)
        else:
            notat = None
        start = dt.datetime.fromisoformat(registrert).replace(microsecond=0)
        opprettet = _clamp(
            start
            + dt.timedelta(days=rng.randint(0, _max_days(start, 60)), minutes=rng.randint(1, 480))
        )
        rows.append((dok_id, sak_id, tittel, filnavn, innhold, notat, _ts(opprettet)))
    return rows


def _hendelser(rng: random.Random, saker: list[tuple]) -> list[tuple]:
    rows = []
    for _ in range(149):
        if rng.random() < 0.12:
            dag = _random_date(rng, PERIOD_START, PERIOD_END)
            t = dt.datetime.combine(dag, _office_time(rng))
            hendelse = rng.choice(HENDELSER_UTEN_SAK)
            bruker = "system" if hendelse.startswith("Nattlig") else rng.choice(BRUKERE[:4])
            sak_id = None
        else:
            sak = rng.choice(saker)
            start = dt.datetime.fromisoformat(sak[8]).replace(microsecond=0)
            t = _clamp(
                start
                + dt.timedelta(
                    days=rng.randint(0, _max_days(start, 120)), seconds=rng.randint(0, 28800)
                )
            )
            bruker = rng.choice(BRUKERE[:4])
            hendelse = rng.choice(HENDELSER_SAK)
            sak_id = sak[0]
        rows.append((_ts(t), bruker, hendelse, sak_id))
    rows.sort(key=lambda r: (r[0], r[1], r[2], -1 if r[3] is None else r[3]))
    # A double-logged event: an exact duplicate right after the original.
    dup_at = 77
    rows.insert(dup_at + 1, rows[dup_at])
    return rows


def _merknader(rng: random.Random, saker: list[tuple]) -> list[tuple]:
    rows = []
    for mid in range(1, 31):
        sak_id = rng.choice(saker)[0]
        merknad = rng.choice(MERKNADER)
        intern = 1 if rng.random() < 0.6 else 0
        rows.append((mid, sak_id, merknad, intern))
    rows[8] = rows[8][:2] + ("",) + rows[8][3:]
    rows[16] = rows[16][:2] + (
        "Nabo mener tilbygget er \u201cruvende og skjemmende\u201d og ber om befaring.",
    ) + rows[16][3:]
    return rows


# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------


def _populate(con: sqlite3.Connection) -> None:
    rng = random.Random(SEED)
    tiltakshavere = _tiltakshavere(rng)
    saker = _saker(rng, len(tiltakshavere))
    dokumenter = _dokumenter(rng, saker)
    hendelser = _hendelser(rng, saker)
    merknader = _merknader(rng, saker)

    con.execute("PRAGMA foreign_keys = ON")
    con.execute("BEGIN")
    for ddl in SCHEMA:
        con.execute(ddl)
    con.executemany("INSERT INTO SAKSTYPE VALUES (?, ?)", SAKSTYPER)
    con.executemany("INSERT INTO STATUSKODE VALUES (?, ?)", STATUSKODER)
    con.executemany("INSERT INTO TILTAKSHAVER VALUES (?, ?, ?, ?, ?, ?)", tiltakshavere)
    con.executemany("INSERT INTO MOTEPLAN VALUES (?, ?, ?, ?)", MOTER)
    con.executemany(
        "INSERT INTO SAK VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", saker
    )
    con.executemany("INSERT INTO DOKUMENT VALUES (?, ?, ?, ?, ?, ?, ?)", dokumenter)
    con.executemany("INSERT INTO HENDELSESLOGG VALUES (?, ?, ?, ?)", hendelser)
    con.executemany("INSERT INTO SAK_MERKNAD VALUES (?, ?, ?, ?)", merknader)
    con.execute("COMMIT")
    problems = con.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"foreign key violations: {problems[:5]}")


def build(path: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Build the example database at ``path``.

    Raises FileExistsError if ``path`` exists, unless ``overwrite`` is true.
    The database is written to a temporary file next to ``path`` and moved
    into place, so a failed build leaves no partial file behind.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            _populate(con)
        finally:
            con.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


USAGE = "usage: build_example_db.py [--force] OUT.sqlite"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    force = "--force" in args
    rest = [a for a in args if a != "--force"]
    if len(rest) != 1 or rest[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    out = Path(rest[0])
    if out.is_dir():
        print(f"error: {out} is a directory", file=sys.stderr)
        return 1
    if out.exists() and not force:
        print(f"error: {out} already exists (use --force to overwrite)", file=sys.stderr)
        return 1
    if not out.parent.is_dir():
        print(f"error: directory {out.parent} does not exist", file=sys.stderr)
        return 1
    try:
        build(out, overwrite=force)
    except (OSError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
