"""The plain-text documentation: ``beskrivelse.txt`` and ``uttrekkslogg.txt``, in ISO 8859-1.

The depot rule asks for documentation as plain ISO 8859-1 text. A character that ISO 8859-1 does
not have (a Sami letter in a description, a typographic dash) is never dropped or replaced by a
look-alike: it is written as ``\\uXXXX`` (the code point in hex), and the top of the file says so
and counts them. Control characters get the same escape, and a backslash in the text is doubled,
so the escapes can be read back without doubt. Lines are wrapped at 100 columns so the files
read well in any viewer, on paper too, without software.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import textwrap
from typing import IO

from ..model import PROVENANCE_LABELS
from .escaping import latin1
from .model import FORMAT_NAMES, Doc, FieldDoc, LogDoc, TableDoc

WIDTH = 100
ENCODING = "ISO-8859-1"
COUNT_TEXT = {"0..n": "null eller flere (0..n)", "0..1": "høyst én (0..1)", "1": "nøyaktig én (1)"}
SOURCE_LABELS = {"engine": "databasemotor", "host": "vert", "port": "port", "database": "database", "user": "bruker",
                 "schema": "skjema", "file": "fil", "machine": "maskin", **PROVENANCE_LABELS}


class Page:
    """Lines of a text document: wrapped, indented, escaped as they are added. Past ``KEPT`` lines
    the older ones go to a temporary file, so a description of 20,000 tables is not held whole."""

    KEPT = 4096

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.escaped = 0
        self._spilled: IO[bytes] | None = None

    def _spill(self) -> None:
        """Move all but the last line (``blank`` looks at it) to the temporary file, as they will be written."""
        if self._spilled is None:
            self._spilled = tempfile.TemporaryFile()
        done, self.lines = self.lines[:-1], self.lines[-1:]
        self._spilled.write("".join(line.rstrip() + "\r\n" for line in done).encode(ENCODING))

    def _esc(self, text: str) -> str:
        text, n = latin1(text.replace("\r\n", "\n").replace("\r", "\n"))
        self.escaped += n
        return text

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def para(self, text: str, indent: int = 2, first: str = "", hang: int | None = None, raw: bool = False) -> None:
        """A wrapped paragraph; ``first`` starts the first line, later lines hang under its end."""
        if not raw:
            text, first = self._esc(text), self._esc(first)
        lead = " " * indent + first
        rest = " " * (indent + (len(first) if hang is None else hang))
        paragraphs = text.split("\n") or [""]
        for i, p in enumerate(paragraphs):
            wrapper = textwrap.TextWrapper(width=WIDTH, initial_indent=lead if i == 0 else rest, subsequent_indent=rest,
                                           break_long_words=True, break_on_hyphens=False)
            self.lines += wrapper.wrap(p) or [(lead if i == 0 else rest).rstrip()]
        if len(self.lines) > self.KEPT:
            self._spill()

    def field(self, label: str, value: str, indent: int = 2, width: int = 18) -> None:
        """``label ....: value`` with the value wrapped under itself."""
        if not value:
            return
        label = label + " " + "." * max(width - len(label) - 1, 1) + ": " if len(label) < width else label + ": "
        self.para(value, indent, label)

    def heading(self, text: str, char: str = "=") -> None:
        self.blank()
        text = self._esc(text)
        self.lines += [text, char * min(len(text), WIDTH)]
        self.blank()

    def rule(self, text: str) -> None:
        self.blank()
        text = self._esc(text)
        self.lines += ["-" * WIDTH, text, "-" * WIDTH]

    def render(self, title: str, about: str) -> bytes:
        """The document with its title and the charset statement on top, as ISO 8859-1 bytes."""
        out = io.BytesIO()
        self.write(out, title, about)
        return out.getvalue()

    def write(self, out: IO[bytes], title: str, about: str) -> None:
        """``render`` written to ``out``, the lines moved to the temporary file copied through."""
        body = self.lines
        top = Page()
        top.heading(title)
        about, in_about = latin1(about)
        escaped = self.escaped + top.escaped + in_about
        count = (f"Denne filen har {escaped} slike tegn." if escaped else "Denne filen har ingen slike tegn.")
        top.para(f"Tegnsett: ISO 8859-1 (Latin-1). Tegn som ISO 8859-1 ikke har, og kontrolltegn, er skrevet som "
                 f"\\uXXXX: en bakstrek, bokstaven u og tegnets Unicode-kodepunkt med fire heksadesimale sifre "
                 f"(over FFFF: \\U og åtte sifre). En bakstrek i selve teksten er skrevet som to bakstreker. {count}",
                 0, raw=True)
        top.blank()
        top.para(about, 0, raw=True)
        lines = [*top.lines, ""]
        out.write("".join(line.rstrip() + "\r\n" for line in lines).encode(ENCODING))
        if self._spilled is not None:
            self._spilled.seek(0)
            shutil.copyfileobj(self._spilled, out)
            self._spilled.close()
            self._spilled = None
        while body and body[-1] == "":
            body.pop()
        out.write("".join(line.rstrip() + "\r\n" for line in body).encode(ENCODING))


def _yes(flag: bool) -> str:
    return "ja" if flag else "nei"


def _field(page: Page, f: FieldDoc) -> None:
    keys = f"  [{', '.join(f.keys)}]" if f.keys else ""
    page.para(f"{f.name}{keys}", 4, f"{f.number:>3}. ", hang=5)
    kind = f"{f.type_text} ({f.type_scheme} {f.addml_type}" + (f", format {f.field_format})" if f.field_format else ")")
    facts = [kind]
    if f.length_text:
        facts.append(f.length_text)
    facts.append("påkrevd (aldri tom)" if f.not_null else "kan være tom (NULL)")
    if f.unique:
        facts.append("unik")
    page.para("Type: " + "; ".join(facts) + ".", 9, hang=6)
    if f.column and f.column != f.name:
        page.para(f"Kildekolonne: {f.column}", 9, hang=14)
    if f.description:
        page.para(f.description, 9, "Beskrivelse: ", hang=13)
    if f.codes:
        page.para(f"Kodeliste ({len(f.codes)} koder; kode = forklaring):", 9)
        width = min(max(len(c) for c, _ in f.codes), 20)
        for code, explanation in f.codes:
            page.para(explanation or "(ingen forklaring)", 11, f"{code:<{width}} = ", hang=width + 3)


def _keys(page: Page, t: TableDoc) -> None:
    page.field("Primærnøkkel", ", ".join(t.primary_key) or "(ingen)")
    for ak in t.alternate_keys:
        page.field("Alternativ nøkkel", ", ".join(ak) + " (unik)")
    if t.foreign_keys:
        page.para("Fremmednøkler (felt her -> tabell og felt de viser til):", 2)
        for r in t.foreign_keys:
            page.para(f"{', '.join(r.fields)} -> {r.target} ({', '.join(r.target_fields)})", 4, "- ", hang=2)
            page.para(f"{r.text} Navn: {r.name}; {r.origin_text}.", 6)
    if t.referenced_by:
        page.para("Blir vist til fra:", 2)
        for r in t.referenced_by:
            page.para(f"{r.table} ({', '.join(r.fields)}) -> {r.target} ({', '.join(r.target_fields)}), {r.kind}",
                      4, "- ", hang=2)


def _table(page: Page, t: TableDoc) -> None:
    page.rule(f"3.{t.number}  {t.name}")
    page.blank()
    page.field("Beskrivelse", t.description or "(ingen beskrivelse)")
    page.field("Fil", f"content/{t.file_name}")
    page.field("Antall poster", str(t.records))
    page.field("Filstørrelse", f"{t.size} byte")
    page.field("Tegnsett", t.charset)
    page.field("SHA-256", t.sha256)
    if t.query:
        page.field("SQL-spørring", t.query)
    else:
        page.field("Kildetabell", t.source_table or "(ingen: tabellen er laget av uttrekket)")
    if t.record_length is not None:
        page.field("Postlengde", f"{t.record_length} tegn pluss CR LF")
    page.field("Utvalg", t.row_filter.removeprefix("Utvalg: "))
    if t.code_table:
        page.field("Kodetabell", t.code_table)
    page.blank()
    page.para(f"Felt ({len(t.fields)}, i den rekkefølgen de står i hver post):", 2)
    for f in t.fields:
        page.blank()
        _field(page, f)
    page.blank()
    _keys(page, t)
    if t.excluded_columns:
        page.blank()
        page.para("Utelatte kolonner (ikke med i uttrekket):", 2)
        for c, why in t.excluded_columns:
            page.para(why, 4, f"- {c}: ", hang=2)
    if t.notes:
        page.blank()
        page.para("Merknader:", 2)
        for n in t.notes:
            page.para(n, 4, "- ", hang=2)


def beskrivelse(doc: Doc) -> bytes:
    """The structure and content description (``documentation/beskrivelse.txt``)."""
    out = io.BytesIO()
    write_beskrivelse(out, doc)
    return out.getvalue()


def write_beskrivelse(out: IO[bytes], doc: Doc) -> None:
    """``beskrivelse`` written to ``out`` (held in memory only a few thousand lines at a time)."""
    page = Page()
    page.heading("1  OM UTTREKKET", "-")
    for label, value in doc.metadata:
        page.field(label, value or "(ikke oppgitt)")
    page.blank()
    page.para(doc.description, 2, "Beskrivelse: ", hang=2)
    if doc.addml_version_reason:
        page.blank()
        page.para(doc.addml_version_reason, 2)

    page.heading("2  FILENE I content/", "-")
    page.para(doc.format_text, 2)
    page.blank()
    page.para("Tabellfiler (fil, tabell, antall poster, tegnsett):", 2)
    name_w = min(max(len(t.file_name) for t in doc.tables), 40)
    table_w = min(max(len(t.name) for t in doc.tables), 30)
    for t in doc.tables:
        page.para(f"{t.file_name:<{name_w}}  {t.name:<{table_w}}  {t.records:>10} poster  {t.charset}", 4)
    page.blank()
    page.para("Andre filer:", 2)
    for name, what in doc.extra_files:
        page.para(what, 4, f"{name}: ", hang=4)

    page.heading("3  TABELLER", "-")
    page.para("Hver tabell er beskrevet med fil, antall poster, felt (navn, type, lengde og format, beskrivelse, "
              "kodeliste), nøkler og relasjoner. [PK] betyr at feltet er en del av primærnøkkelen, [AK] en "
              "alternativ nøkkel og [FK] en fremmednøkkel.", 2)
    page.blank()
    for t in doc.tables:
        page.para(f"3.{t.number}  {t.name}", 4)
    for t in doc.tables:
        _table(page, t)

    page.heading("4  RELASJONER", "-")
    if doc.relations:
        for r in doc.relations:
            page.para(f"{r.table} ({', '.join(r.fields)}) -> {r.target} ({', '.join(r.target_fields)}): {r.kind}, "
                      f"{COUNT_TEXT[r.source_count]} til {COUNT_TEXT[r.target_count]}", 2, "- ", hang=2)
    else:
        page.para("Uttrekket har ingen relasjoner mellom tabellene.", 2)

    page.heading("5  UTELATTE TABELLER OG KOLONNER", "-")
    excluded_cols = [(t.name, c, why) for t in doc.tables for c, why in t.excluded_columns]
    if not doc.excluded_tables and not excluded_cols:
        page.para("Ingen tabeller eller kolonner i kilden er utelatt.", 2)
    for name, why in doc.excluded_tables:
        page.para(why, 2, f"- Tabellen {name}: ", hang=2)
    for table, c, why in excluded_cols:
        page.para(why, 2, f"- Kolonnen {table}.{c}: ", hang=2)
    page.write(out, f"BESKRIVELSE AV ARKIVUTTREKK: {doc.title}",
                       "Denne filen beskriver tabellene i mappen content/ med de samme opplysningene som "
                       f"{doc.described_in}, slik at uttrekket kan forstås og leses uten programvare. Linjene er "
                       f"høyst {WIDTH} tegn. Samme innhold, med et relasjonsdiagram, står i oversikt.html; "
                       "hvordan uttrekket ble laget, står i uttrekkslogg.txt.")


def uttrekkslogg(doc: Doc) -> bytes:
    """The extraction log (``documentation/uttrekkslogg.txt``): what, when, from where, and what happened."""
    out = io.BytesIO()
    write_uttrekkslogg(out, doc)
    return out.getvalue()


def write_uttrekkslogg(out: IO[bytes], doc: Doc) -> None:
    """``uttrekkslogg`` written to ``out`` (held in memory only a few thousand lines at a time)."""
    log: LogDoc = doc.log
    page = Page()
    page.heading("UTTREKKET", "-")
    page.field("Uttrekksverktøy", log.tool)
    page.field("Startet", f"{log.started} (UTC)")
    page.field("Ferdig", f"{log.finished} (UTC)")
    for label, value in doc.metadata:
        if label in ("Uttrekksdato", "Arkivskaper", "System", "Datasettnummer", "Ansvarlig"):
            page.field(label, value)
    page.field("Kilde", "; ".join(f"{SOURCE_LABELS.get(k, k)} {v}" for k, v in log.source)
               + ". Passord skrives aldri i uttrekket.")
    page.field("Lesing", log.session)
    page.field("Filformat", FORMAT_NAMES.get(doc.format, doc.format))
    if doc.format == "siard":
        page.field("SIARD-versjon", f"2.2 ({doc.described_in})")
    else:
        page.field("ADDML-versjon", doc.addml_version)
    page.field("Tegnsett", ", ".join(sorted({t.charset for t in doc.tables})))
    if log.charset_map:
        page.field("Erstatninger", "; ".join(f"U+{ord(a):04X} ({a}) -> \"{b}\"" for a, b in log.charset_map)
                   + " (etter [charset.map] i profilen; hver erstattet verdi er listet i report/deviations.tsv)")
    page.field("UTF-8 ved behov", _yes(log.utf8_fallback) + " (utf8_fallback: en tabell med tegn utenfor tegnsettet "
                                                             "skrives som UTF-8)")
    page.field("Lange tekster", f"over {log.long_text_limit} tegn skrives til egne filer")

    page.heading("TABELLER OG POSTER", "-")
    name_w = min(max(len(t.name) for t in doc.tables), 30)
    for t in doc.tables:
        page.para(f"{t.name:<{name_w}}  {t.records:>10} poster  content/{t.file_name}  ({t.charset}, {t.size} byte)", 2)
    if log.lob_files:
        page.blank()
        page.para(f"{log.lob_files} fil(er) ({log.lob_bytes} byte) for binærverdier og lange tekster under content/lob/.",
                  2)

    page.heading("UTELATT OG UTVALGT", "-")
    shown = False
    for name, why in doc.excluded_tables:
        page.para(why, 2, f"- Tabellen {name} er utelatt: ", hang=2)
        shown = True
    for t in doc.tables:
        for c, why in t.excluded_columns:
            page.para(why, 2, f"- Kolonnen {t.name}.{c} er utelatt: ", hang=2)
            shown = True
        if t.row_filter:
            page.para(t.row_filter, 2, f"- {t.name}: ", hang=2)
            shown = True
    if not shown:
        page.para("Ingen tabeller, kolonner eller rader i kilden er utelatt.", 2)

    page.heading("ENDRINGER AV VERDIER", "-")
    page.para(f"report/deviations.tsv (UTF-8, tabulatorseparert) har {log.deviation_total} linje(r): hver endring av "
              "en verdi og hver merknad, med tabell, kolonne, radnøkkel og detaljer.", 2)
    if log.deviations:
        page.blank()
        page.para("Antall per tabell og kolonne:", 2)
        for d in log.deviations:
            where = f"{d.table}.{d.column}" if d.column else d.table
            page.para(f"{d.action} - {d.action_text}", 4, f"{where}: {d.count} x ", hang=4)
    else:
        page.para("Ingen verdier er endret.", 2)
    noted = [t for t in doc.tables if t.notes]
    if noted:
        page.blank()
        page.para("Merknader om tabellene (table_note i report/deviations.tsv):", 2)
        for t in noted:
            for n in t.notes:
                page.para(n, 4, f"{t.name}: ", hang=4)

    page.heading("ADVARSLER OG FORVENTEDE FUNN I ARKADE 5", "-")
    if log.warnings:
        page.para("Verktøyets meldinger, som skrevet i report/summary.txt:", 2)
        for w in log.warnings:
            page.para(w, 2, "- ", hang=2)
    else:
        page.para("Ingen.", 2)
    page.write(out, f"UTTREKKSLOGG: {doc.title}",
                       "Denne filen sier hva som ble hentet ut, når, fra hvilken database og med hvilket verktøy, "
                       "hva som er utelatt og hvorfor, og hva som skjedde med verdier underveis. Strukturen er "
                       "beskrevet i beskrivelse.txt. Maskinlesbart står det samme i report/extraction.json.")

