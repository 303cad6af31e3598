"""What the documentation shows, gathered once from the run's plan, files and report.

Both renderings (plain text and HTML) read only this model, so they cannot disagree with each
other; and the model reads the same ``Plan`` and file results ``addml.describe`` reads, so they
say what addml.xml says. Texts shown to people are Norwegian (bokmål), like addml.xml's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from ..addml import selection
from ..plan import LOB_DIR, LOB_TABLE, FieldPlan, Plan, TablePlan
from ..report import unescape
from ..writers.siard_table import sql_type

FORMAT_NAMES = {"delimited": "semikolonseparerte tekstfiler", "fixed": "tekstfiler med faste feltlengder",
                "xml": "XML-filer med XML-skjema", "siard": "én SIARD 2.2-fil"}

FORMAT_TEXT = {
    "delimited": ("Hver tabell er én tekstfil. Felt er skilt med semikolon (;), og hver post avsluttes med CR LF "
                  "(tegnkodene 13 og 10). Filene har ingen overskriftslinje: feltene kommer i den rekkefølgen de "
                  "er beskrevet her. Et felt som inneholder ';', '\"', CR eller LF står i anførselstegn (\"), og "
                  "anførselstegn inni feltet er doblet (RFC 4180). NULL (ingen verdi) er et tomt felt uten "
                  "anførselstegn; tom tekst er skrevet som \"\"."),
    "fixed": ("Hver tabell er én tekstfil med faste feltlengder: hvert felt står på de posisjonene som er oppgitt "
              "her (første tegn i posten er posisjon 1), og hver post avsluttes med CR LF (tegnkodene 13 og "
              "10). Tekst er venstrejustert og tall høyrejustert, fylt ut med blanke; NULL (ingen verdi) er "
              "bare blanke. Blanke bakerst i tekst er utfylling, unntatt der et felt <navn>_lengde gir eksakt "
              "lengde."),
    "xml": ("Hver tabell er én XML-fil med et XML-skjema (.xsd) ved siden av. Rotelementet har tabellens navn, "
            "hver post er et element <rad>, og hvert felt er et element med feltets navn. NULL er "
            "xsi:nil=\"true\"; tom tekst er et tomt element. Desimaltegnet er punktum."),
    "siard": ("Uttrekket er én SIARD 2.2-fil (en ZIP-fil, eCH-0165), der header/metadata.xml beskriver skjemaet, "
              "tabellene, kolonnene, nøklene og relasjonene, og hver tabell er én XML-fil med XML-skjema under "
              "content/schema0/. Hver post er et element <row>, og feltene er <c1>, <c2> … i den rekkefølgen de er "
              "beskrevet her. NULL er et felt som mangler; tom tekst er et tomt element. Tegn som XML ikke kan "
              "inneholde, og skråstreken \\, er skrevet som \\uXXXX. Binærverdier og lange tekster er egne filer "
              "som cellen viser til med sti, lengde og SHA-256."),
}

TYPE_TEXT = {
    "integer": "heltall",
    "float": "desimaltall",
    "date": "dato",
    "time": "klokkeslett",
    "boolean": "boolsk",
    "string": "tekst",
}

ACTION_TEXT = {
    "mapped": "tegn erstattet etter [charset.map] i profilen",
    "binary_as_hex": "binære byte i en tekstkolonne skrevet som heksadesimal tekst",
    "nul_kept": "NUL-tegn (U+0000) i tekst beholdt",
    "dangling_reference": "referanse uten post i tabellen den viser til (verdien er beholdt)",
    "pointer_unresolved": "peker (fysisk adresse) uten mål; feltet er tomt, adressen står i report/deviations.tsv",
    "text_in_binary_column": "tekst i en binærkolonne; tekstens UTF-8-byte er skrevet til filen",
}
"""The ``action`` column of report/deviations.tsv, explained."""


@dataclass(frozen=True)
class FieldDoc:
    number: int
    name: str
    column: str | None
    addml_type: str
    type_text: str
    field_format: str | None
    length_text: str
    not_null: bool
    unique: bool
    description: str
    codes: tuple[tuple[str, str], ...]
    keys: tuple[str, ...]
    """``PK``, ``AK``, ``FK``: the keys the field is part of."""
    type_scheme: str = "ADDML"
    """Whose type ``addml_type`` is: ADDML's, or (a SIARD extract) the SQL:2008 type in metadata.xml."""


@dataclass(frozen=True)
class RelationDoc:
    name: str
    table: str
    fields: tuple[str, ...]
    target: str
    target_fields: tuple[str, ...]
    kind: str
    """``n:1``, or ``1:1`` when the referring fields are unique (a key of their table)."""
    target_count: str
    """How many records of ``target`` each record points at: ``1``, or ``0..1`` when a field may be empty."""
    source_count: str
    """How many records of ``table`` may point at one record of ``target``: ``0..n`` or ``0..1``."""
    origin: str

    @property
    def text(self) -> str:
        """The relation in words (the same sentence in every rendering)."""
        many = "høyst én post" if self.source_count == "0..1" else "null, én eller flere poster"
        one = "nøyaktig én post" if self.target_count == "1" else "høyst én post (ingen når feltet er tomt)"
        return (f"Kardinalitet {self.kind}: hver post i {self.table} viser til {one} i {self.target}; "
                f"en post i {self.target} kan ha {many} i {self.table}.")

    @property
    def origin_text(self) -> str:
        return {"source": "deklarert i kildedatabasen", "profile": "bekreftet i profilen",
                "pointer": "fra en peker (fysisk adresse) omskrevet til nøkkelen",
                "group": "fra en gjentakende gruppe flyttet til egen tabell",
                "array": "fra elementene i en arraykolonne flyttet til egen tabell",
                "lobs": f"sti til en fil listet i {LOB_TABLE}"}.get(self.origin, self.origin)


@dataclass(frozen=True)
class TableDoc:
    number: int
    anchor: str
    name: str
    file_name: str
    records: int
    size: int
    sha256: str
    charset: str
    description: str
    source_table: str
    fields: tuple[FieldDoc, ...]
    primary_key: tuple[str, ...]
    alternate_keys: tuple[tuple[str, ...], ...]
    foreign_keys: tuple[RelationDoc, ...]
    referenced_by: tuple[RelationDoc, ...]
    code_table: str
    """How the table serves as a code table (empty when it does not)."""
    query: str
    """The SQL from the profile whose result the table is (empty for a table of the source)."""
    excluded_columns: tuple[tuple[str, str], ...]
    row_filter: str
    """Which rows are kept and why, as addml.xml says it (empty: every row)."""
    notes: tuple[str, ...]
    record_length: int | None


@dataclass(frozen=True)
class Deviation:
    table: str
    column: str
    action: str
    count: int

    @property
    def action_text(self) -> str:
        return ACTION_TEXT.get(self.action, self.action)


@dataclass(frozen=True)
class LogDoc:
    """The extraction log: what was extracted, when, from where, by what, and what happened to values."""

    tool: str
    source: tuple[tuple[str, str], ...]
    session: str
    started: str
    finished: str
    charset_map: tuple[tuple[str, str], ...]
    utf8_fallback: bool
    long_text_limit: int
    lob_files: int
    lob_bytes: int
    deviations: tuple[Deviation, ...]
    deviation_total: int
    """Every line of deviations.tsv, the tables' notes (``table_note``) included."""
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Doc:
    title: str
    metadata: tuple[tuple[str, str], ...]
    description: str
    format: str
    format_text: str
    addml_version: str
    addml_version_reason: str
    tables: Sequence[TableDoc]
    """In plan order; made one table at a time as they are read (``TableDocs``)."""
    excluded_tables: tuple[tuple[str, str], ...]
    log: LogDoc
    extra_files: tuple[tuple[str, str], ...] = field(default=())
    """Files of the extract that are not tables (addml.xml, the XSDs, the LOB folder) and what they are."""
    described_in: str = "content/addml.xml"
    """The machine-readable description this documentation repeats."""

    @property
    def relations(self) -> tuple[RelationDoc, ...]:
        return tuple(r for t in self.tables for r in t.foreign_keys)


def field_names(tp: TablePlan) -> dict[str, str]:
    """Source column -> field name (a field renamed for a letter-case clash keeps its column)."""
    return {f.column: f.name for f in tp.fields if f.role == "value" and f.column} | {
        f.name: f.name for f in tp.fields if f.role in ("manifest", "lobpath", "textfile", "surrogate")}


def _type_text(f: FieldPlan) -> str:
    base = TYPE_TEXT.get(f.addml_type, f.addml_type)
    if f.addml_type == "date" and f.field_format and "HH" in f.field_format:
        base = "tidspunkt"
    if f.addml_type == "float":
        base += " med desimalkomma" if f.field_format == "nn,nn" else ""
    if f.addml_type == "boolean":
        base += ": J = ja (sann), N = nei (usann)"
    return base


def _length_text(f: FieldPlan, fixed: bool, start: int) -> str:
    parts = []
    if fixed and f.width:
        parts.append(f"posisjon {start}-{start + f.width - 1} ({f.width} tegn)")
    if f.max_length and f.addml_type == "string":
        parts.append(f"høyst {f.max_length} tegn")
    return ", ".join(parts)


def _relation(plan: Plan, tp: TablePlan, fk: Any) -> RelationDoc:
    names = field_names(tp)
    target = plan.table(fk.ref_table)
    tnames = field_names(target)
    pairs = plan.key_pairs(fk)
    fields = tuple(names.get(c, c) for c, _ in pairs)
    cols = {c for c, _ in pairs}
    by_name = {f.name: f for f in tp.fields}
    unique = (bool(tp.primary_key) and set(tp.primary_key) <= cols) or any(set(k) <= cols for k in tp.alternate_keys) \
        or any(by_name[n].unique for n in fields if n in by_name)
    required = all(by_name[n].not_null for n in fields if n in by_name)
    return RelationDoc(
        name=fk.name or f"FK_{tp.name}_{'_'.join(fk.columns)}", table=tp.name, fields=fields, target=target.name,
        target_fields=tuple(tnames.get(r, r) for _, r in pairs), kind="1:1" if unique else "n:1",
        target_count="1" if required else "0..1", source_count="0..1" if unique else "0..n", origin=fk.origin)


def _code_table_text(tp: TablePlan) -> str:
    if tp.code_table is None:
        return ""
    code, explanation, _ = tp.code_table
    names = field_names(tp)
    return f"feltet {names.get(code, code)} er koden og feltet {names.get(explanation, explanation)} forklaringen."


def _origin(tp: TablePlan) -> Any:
    """The source table a table's records come from (a child table's: its parent's)."""
    return tp.unpivot.parent if tp.unpivot is not None else tp.source


def _table_doc(plan: Plan, tp: TablePlan, number: int, fr: Any, referenced_by: tuple[RelationDoc, ...]) -> TableDoc:
    fixed = plan.format == "fixed"
    names = field_names(tp)
    pk = tuple(names.get(c, c) for c in tp.primary_key)
    aks = tuple(tuple(names.get(c, c) for c in ak) for ak in tp.alternate_keys)
    fks = tuple(_relation(plan, tp, fk) for fk in tp.foreign_keys)
    fk_fields = {n for r in fks for n in r.fields}
    ak_fields = {n for ak in aks for n in ak}
    fields = []
    pos = 1
    for i, f in enumerate(tp.fields, 1):
        keys = tuple(k for k, inside in (("PK", f.name in pk), ("AK", f.name in ak_fields), ("FK", f.name in fk_fields))
                     if inside)
        if plan.format == "siard":
            fields.append(FieldDoc(i, f.name, f.column, sql_type(tp, f), _type_text(f), None, _length_text(f, fixed, pos),
                                   f.not_null, f.unique, f.description, f.codes, keys, "SIARD"))
        else:
            fields.append(FieldDoc(i, f.name, f.column, f.addml_type, _type_text(f), f.field_format,
                                   _length_text(f, fixed, pos), f.not_null, f.unique, f.description, f.codes, keys))
        pos += f.width or 0
    notes = tuple(n[0].upper() + n[1:] + ("" if n.endswith(".") else ".") for n in tp.notes if n)
    return TableDoc(
        number=number, anchor=f"tabell-{number}", name=tp.name, file_name=fr.name, records=fr.records, size=fr.size,
        sha256=fr.sha256, charset=tp.charset, description=tp.description,
        source_table=_origin(tp).name if tp.source is not None and _origin(tp).query is None else "",
        query=(tp.source.query or "") if tp.source is not None else "",
        fields=tuple(fields), primary_key=pk, alternate_keys=aks, foreign_keys=fks, referenced_by=referenced_by,
        code_table=_code_table_text(tp), excluded_columns=tp.excluded_columns, row_filter=selection(tp),
        notes=notes, record_length=tp.record_length if fixed else None)


class TableDocs(Sequence[TableDoc]):
    """The tables' documentation, each made from the plan and its file when it is read and not kept:
    20,000 tables' held together took some 4 KB a table. Each reading makes them again, so the
    renderings go over them a few times rather than keep them."""

    def __init__(self, plan: Plan, files: Any) -> None:
        self._plan, self._files = plan, files
        self._incoming: dict[str, list[tuple[int, int]]] = {}
        """Target table -> (table, foreign key) that refer to it, in plan order."""
        for i, tp in enumerate(plan.tables):
            for j, fk in enumerate(tp.foreign_keys):
                self._incoming.setdefault(plan.table(fk.ref_table).name, []).append((i, j))
        self._numbers: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self._plan.tables)

    @overload
    def __getitem__(self, index: int) -> TableDoc: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[TableDoc, ...]: ...

    def __getitem__(self, index: int | slice) -> TableDoc | tuple[TableDoc, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        n = len(self)
        if not -n <= index < n:
            raise IndexError(index)
        index %= n
        plan = self._plan
        tp = plan.tables[index]
        incoming = tuple(_relation(plan, plan.tables[i], plan.tables[i].foreign_keys[j])
                         for i, j in self._incoming.get(tp.name, ()))
        return _table_doc(plan, tp, index + 1, self._files[tp.name], incoming)

    def __iter__(self) -> Iterator[TableDoc]:
        return (self[i] for i in range(len(self)))

    def anchor(self, name: str) -> str | None:
        """The anchor of the first table named ``name`` (``None``: no such table), by an index made on first use."""
        if self._numbers is None:
            self._numbers = {}
            for i, tp in enumerate(self._plan.tables, 1):
                self._numbers.setdefault(tp.name, i)
        number = self._numbers.get(name)
        return None if number is None else f"tabell-{number}"


def anchor_of(tables: Sequence[TableDoc], name: str) -> str | None:
    """The anchor of the first of ``tables`` named ``name``, or ``None``."""
    if isinstance(tables, TableDocs):
        return tables.anchor(name)
    return next((t.anchor for t in tables if t.name == name), None)


def count_deviations(path: Path) -> Counter[tuple[str, str, str]]:
    """(table, column, action) -> lines in deviations.tsv, read as a stream (it may hold millions).

    ``table_note`` lines are left out: they are the tables' notes (``TablePlan.notes``), shown in full.
    """
    counts: Counter[tuple[str, str, str]] = Counter()
    if not path.is_file():
        return counts
    with path.open(encoding="utf-8", newline="") as fh:
        next(fh, None)  # header
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4 and parts[3] != "table_note":  # those are the tables' notes, shown with them
                counts[(unescape(parts[0]), unescape(parts[1]), parts[3])] += 1
    return counts


def build(plan: Plan, result: Any, report: dict[str, Any], deviations: Path) -> Doc:
    """The documentation of a finished extract.

    ``result`` is the run's ``ExtractResult``; ``report`` the data of report/extraction.json (times,
    source, session, warnings); ``deviations`` the path of report/deviations.tsv.
    """
    md = plan.profile.metadata
    tables = TableDocs(plan, result.files)
    period = " - ".join(x for x in (md.period_start, md.period_end) if x)
    if md.period_start and not md.period_end:
        period = f"fra {md.period_start}"
    elif md.period_end and not md.period_start:
        period = f"til {md.period_end}"
    system = md.system_name or plan.source_label
    siard = report.get("siard") or {}
    siard_in = f"header/metadata.xml i {siard['file']}" if siard else ""
    charsets = sorted({tp.charset for tp in plan.tables})
    metadata = (
        ("Arkivskaper", md.archive_creator),
        ("Avleverer", md.submitter),
        ("System", system),
        ("Systemversjon", md.system_version),
        ("Systemtype", md.system_type),
        ("Arkivperiode", period),
        ("Datasettnummer", md.dataset_number),
        ("Ansvarlig", md.responsible_person),
        ("Uttrekksdato", str(report.get("extraction_date", ""))),
        ("Uttrekksverktøy", f"uttrekk {report.get('version', '')}".strip()),
        (("SIARD-versjon", f"2.2 ({siard_in})") if siard_in else ("ADDML-versjon", f"{plan.addml_version} (content/addml.xml)")),
        ("Filformat", FORMAT_NAMES.get(plan.format, plan.format)),
        ("Tegnsett", ", ".join(charsets) + (" (se tegnsett per fil under Filer)" if len(charsets) > 1 else "")),
    )
    counts = count_deviations(deviations)
    log = LogDoc(
        tool=f"uttrekk {report.get('version', '')}".strip(),
        source=tuple((k, str(v)) for k, v in (report.get("source_details") or {}).items() if v not in (None, "")),
        session=str(report.get("session", "")), started=str(report.get("started", "")),
        finished=str(report.get("finished", "")),
        charset_map=tuple(plan.charset.mapping), utf8_fallback=plan.charset.utf8_fallback,
        long_text_limit=plan.long_text_limit, lob_files=result.lob_files, lob_bytes=result.lob_bytes,
        deviations=tuple(Deviation(t, c, a, n) for (t, c, a), n in sorted(counts.items())),
        deviation_total=result.deviation_total, warnings=tuple(report.get("warnings", ())))
    extra = [("addml.xml", f"beskrivelse av uttrekket i ADDML {plan.addml_version} (UTF-8), den maskinlesbare "
                           "utgaven av det denne filen sier"),
             ("addml.xsd", f"XML-skjemaet for ADDML {plan.addml_version}")]
    if plan.format == "xml":
        extra.append(("<tabell>.xsd", "XML-skjema for hver tabells XML-fil"))
    if siard_in:
        extra = [(str(siard["file"]).removeprefix("content/"),
                  "SIARD 2.2-filen: header/metadata.xml (den maskinlesbare utgaven av det denne filen sier) og hver "
                  "tabell med XML-skjema, binærverdier og lange tekster under content/schema0/")]
        if siard.get("lobs_outside"):
            extra.append((f"{LOB_DIR}/", f"{siard['lobs_outside']} binærverdi(er) og lange tekster lagret ved siden "
                                         "av SIARD-filen; cellene viser hit med sti, lengde og SHA-256"))
    elif result.lob_files:
        extra.append((f"{LOB_DIR}/", f"{result.lob_files} fil(er) for binærverdier og lange tekster, listet i "
                                     f"tabellen {LOB_TABLE}"))
    title = f"{system} - arkivuttrekk".strip(" -") or "Arkivuttrekk"
    return Doc(
        title=title, metadata=metadata,
        description=md.description or f"Uttrekk fra {system}.", format=plan.format,
        format_text=FORMAT_TEXT.get(plan.format, ""), addml_version=plan.addml_version,
        addml_version_reason=plan.addml_version_reason, tables=tables,
        excluded_tables=plan.excluded_tables, log=log, extra_files=tuple(extra),
        described_in=siard_in or "content/addml.xml")
