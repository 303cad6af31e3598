"""``documentation/oversikt.html``: the description as one self-contained web page, with the ER diagram.

Everything is inside the one file (inline CSS, inline SVG, no script, no font, no image, no
link outside the page) so it opens offline in any browser, now and later. Every text from the
source or the profile is escaped (``escaping.h``): a description holding ``<script>`` is shown
as text. The bytes are ASCII; other characters are HTML character references, which any
browser reads whatever charset it assumes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Any

from .erdiagram import svg_parts
from .escaping import h
from .model import FORMAT_NAMES, Doc, FieldDoc, TableDoc, anchor_of

CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 0 auto; max-width: 1400px;
       padding: 0 24px 48px; color: #1A1A1A; line-height: 1.4; }
h1 { font-size: 1.6em; margin: 24px 0 8px; }
h2 { font-size: 1.3em; border-bottom: 2px solid #888; padding-bottom: 2px; margin-top: 36px; }
h3 { font-size: 1.15em; background: #EEEEEE; padding: 4px 8px; margin-top: 32px; }
h4 { font-size: 1em; margin: 16px 0 4px; }
dl.fakta { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0; }
dl.fakta dt { font-weight: bold; }
dl.fakta dd { margin: 0; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid #BBBBBB; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #F0F0F0; }
td.tall { text-align: right; }
code, .mono { font-family: "DejaVu Sans Mono", Consolas, Menlo, monospace; font-size: 0.92em; }
.diagram { overflow: auto; border: 1px solid #CCCCCC; background: #FFFFFF; padding: 4px; }
.forklaring { font-size: 0.92em; color: #444444; }
.nokkel { font-weight: bold; color: #8A2B0E; white-space: nowrap; }
ul.smal li { margin: 2px 0; }
.sha { font-family: "DejaVu Sans Mono", Consolas, Menlo, monospace; font-size: 0.85em; word-break: break-all; }
"""


def _facts(rows: list[tuple[str, str]], raw: bool = False) -> str:
    items = "".join(f"<dt>{h(k)}</dt><dd>{v if raw else h(v)}</dd>" for k, v in rows if v)
    return f'<dl class="fakta">{items}</dl>'


def _link(doc: Doc, name: str) -> str:
    anchor = anchor_of(doc.tables, name)
    return h(name) if anchor is None else f'<a href="#{anchor}">{h(name)}</a>'


def _type(f: FieldDoc) -> str:
    text = f"{h(f.type_text)}<br><code>{h(f.addml_type)}</code>"
    return text + (f" <code>{h(f.field_format)}</code>" if f.field_format else "")


def _fields(t: TableDoc) -> str:
    rows = []
    for f in t.fields:
        cell = [h(f.description)] if f.description else []
        if f.column and f.column != f.name:
            cell.append(f"<i>Kildekolonne: {h(f.column)}</i>")
        if f.codes:
            cell.append(f'<a href="#{t.anchor}-koder-{f.number}">Kodeliste ({len(f.codes)} koder)</a>')
        desc = "<br>".join(cell)
        rows.append(f'<tr><td class="tall">{f.number}</td><td><code>{h(f.name)}</code></td>'
                    f'<td class="nokkel">{h(" ".join(f.keys))}</td><td>{_type(f)}</td><td>{h(f.length_text)}</td>'
                    f'<td>{"ja" if f.not_null else "nei"}</td><td>{"ja" if f.unique else "nei"}</td><td>{desc}</td></tr>')
    return ('<table class="felt"><thead><tr><th>Nr</th><th>Felt</th><th>Nøkkel</th><th>Type (ADDML)</th>'
            '<th>Lengde/posisjon</th><th>Påkrevd</th><th>Unik</th><th>Beskrivelse</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _codes(t: TableDoc) -> str:
    out = []
    for f in t.fields:
        if not f.codes:
            continue
        rows = "".join(f"<tr><td><code>{h(c)}</code></td><td>{h(e) if e else '<i>(ingen forklaring)</i>'}</td></tr>"
                       for c, e in f.codes)
        out.append(f'<h4 id="{t.anchor}-koder-{f.number}">Kodeliste for {h(f.name)} ({len(f.codes)} koder)</h4>'
                   f"<table><thead><tr><th>Kode</th><th>Forklaring</th></tr></thead><tbody>{rows}</tbody></table>")
    return "".join(out)


def _keys(doc: Doc, t: TableDoc) -> str:
    items = [f"<li>Primærnøkkel: <code>{h(', '.join(t.primary_key)) or '(ingen)'}</code></li>"]
    items += [f"<li>Alternativ nøkkel (unik): <code>{h(', '.join(ak))}</code></li>" for ak in t.alternate_keys]
    for r in t.foreign_keys:
        items.append(f"<li>Fremmednøkkel <code>{h(', '.join(r.fields))}</code> &rarr; {_link(doc, r.target)} "
                     f"(<code>{h(', '.join(r.target_fields))}</code>): <b>{h(r.kind)}</b>. {h(r.text)} "
                     f"<span class=\"forklaring\">Navn {h(r.name)}; {h(r.origin_text)}.</span></li>")
    for r in t.referenced_by:
        items.append(f"<li>Blir vist til fra {_link(doc, r.table)} (<code>{h(', '.join(r.fields))}</code>), "
                     f"{h(r.kind)}</li>")
    return '<h4>Nøkler og relasjoner</h4><ul class="smal">' + "".join(items) + "</ul>"


def _table(doc: Doc, t: TableDoc) -> str:
    facts = [("Beskrivelse", t.description or "(ingen beskrivelse)"), ("Fil", f"content/{t.file_name}"),
             ("Antall poster", str(t.records)), ("Filstørrelse", f"{t.size} byte"), ("Tegnsett", t.charset),
             ("SQL-spørring", t.query) if t.query else
             ("Kildetabell", t.source_table or "(ingen: tabellen er laget av uttrekket)")]
    if t.record_length is not None:
        facts.append(("Postlengde", f"{t.record_length} tegn pluss CR LF"))
    facts.append(("Utvalg", t.row_filter.removeprefix("Utvalg: ")))
    if t.code_table:
        facts.append(("Kodetabell", t.code_table))
    parts = [f'<section class="tabell" id="{t.anchor}"><h3>3.{t.number} {h(t.name)}</h3>',
             _facts(facts), f'<p>SHA-256: <span class="sha">{h(t.sha256)}</span></p>',
             f"<h4>Felt ({len(t.fields)}, i den rekkefølgen de står i hver post)</h4>", _fields(t), _keys(doc, t),
             _codes(t)]
    if t.excluded_columns:
        parts.append("<h4>Utelatte kolonner</h4><ul>" + "".join(
            f"<li><code>{h(c)}</code>: {h(why)}</li>" for c, why in t.excluded_columns) + "</ul>")
    if t.notes:
        parts.append("<h4>Merknader</h4><ul>" + "".join(f"<li>{h(n)}</li>" for n in t.notes) + "</ul>")
    parts.append('<p class="forklaring"><a href="#diagram">Til diagrammet</a> &middot; <a href="#innhold">Til innholdet</a></p>')
    parts.append("</section>")
    return "".join(parts)


def _log(doc: Doc) -> str:
    log = doc.log
    facts = [("Uttrekksverktøy", log.tool), ("Startet", f"{log.started} (UTC)"), ("Ferdig", f"{log.finished} (UTC)"),
             ("Kilde", "; ".join(f"{k} {v}" for k, v in log.source) + ". Passord skrives aldri i uttrekket."),
             ("Lesing", log.session)]
    if log.charset_map:
        facts.append(("Erstatninger", "; ".join(f"U+{ord(a):04X} ({a}) -> \"{b}\"" for a, b in log.charset_map)))
    parts = ['<section id="logg"><h2>6 Uttrekkslogg</h2>', _facts(facts)]
    if log.deviations:
        rows = "".join(f"<tr><td>{h(d.table)}</td><td><code>{h(d.column)}</code></td><td><code>{h(d.action)}</code> "
                       f"{h(d.action_text)}</td><td class=\"tall\">{d.count}</td></tr>" for d in log.deviations)
        parts.append(f"<p>{log.deviation_total} endring(er) og merknad(er) på verdinivå, hver listet med radnøkkel i "
                     "<code>report/deviations.tsv</code>:</p><table><thead><tr><th>Tabell</th><th>Kolonne</th>"
                     f"<th>Hva</th><th>Antall</th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        parts.append("<p>Ingen verdier er endret.</p>")
    if log.warnings:
        parts.append("<h4>Advarsler og forventede funn i Arkade 5</h4><ul>"
                     + "".join(f"<li>{h(w)}</li>" for w in log.warnings) + "</ul>")
    parts.append("<p>Hele loggen står i <code>uttrekkslogg.txt</code>.</p></section>")
    return "".join(parts)


LEGEND = ("Hver boks er en tabell med nøkkelfeltene sine (PK primærnøkkel, FK fremmednøkkel, AK alternativ "
          "nøkkel); klikk på en boks for tabellens beskrivelse. En linje går fra feltene som viser til en annen "
          "tabell, til nøkkelen de viser til. Kråkefot med ring ved tabellen som viser til: null, én eller flere "
          "poster; strek med ring: høyst én (1:1). To streker ved tabellen det vises til: nøyaktig én post; "
          "strek med ring: høyst én (feltet kan være tomt).")


def page(doc: Doc) -> bytes:
    """The whole page, as ASCII bytes (other characters as character references)."""
    out = io.BytesIO()
    write_page(out, doc)
    return out.getvalue()


class _Run:
    """Pieces of one part of the page, written back to back (``write_page`` puts a line break
    between parts): a list of 20,000 tables is written without being joined first."""

    def __init__(self, *pieces: Any) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[str]:
        for piece in self.pieces:
            if isinstance(piece, str):
                yield piece
            else:
                yield from piece


def write_page(out: IO[bytes], doc: Doc) -> None:
    """``page`` written to ``out`` one part at a time (a table's section is not kept once written)."""
    toc = (f'<li><a href="#{t.anchor}">{h(t.name)}</a> ({t.records} poster)</li>' for t in doc.tables)
    files = (f'<tr><td><code>content/{h(t.file_name)}</code></td><td><a href="#{t.anchor}">{h(t.name)}</a></td>'
             f'<td class="tall">{t.records}</td><td>{h(t.charset)}</td><td class="tall">{t.size}</td></tr>'
             for t in doc.tables)
    extra = "".join(f"<li><code>{h(n)}</code>: {h(w)}</li>" for n, w in doc.extra_files)
    relations = doc.relations
    relation_rows = (
        f"<tr><td>{_link(doc, r.table)}</td><td><code>{h(', '.join(r.fields))}</code></td><td>{_link(doc, r.target)}</td>"
        f"<td><code>{h(', '.join(r.target_fields))}</code></td><td>{h(r.kind)}</td><td>{h(r.source_count)} til "
        f"{h(r.target_count)}</td></tr>" for r in relations)
    excluded = [f"<li>Tabellen <code>{h(n)}</code>: {h(w)}</li>" for n, w in doc.excluded_tables]
    excluded_columns = (f"<li>Kolonnen <code>{h(t.name)}.{h(c)}</code>: {h(w)}</li>" for t in doc.tables
                        for c, w in t.excluded_columns)
    first_column = next(excluded_columns, None)
    if first_column is not None:
        excluded.append(first_column)
    about = [(k, v or "(ikke oppgitt)") for k, v in doc.metadata]
    body: list[Any] = [
        f"<header><h1>Beskrivelse av arkivuttrekk: {h(doc.title)}</h1>",
        f"<p>Tabellene i mappen <code>content/</code> med de samme opplysningene som <code>{h(doc.described_in)}</code>. "
        "Samme innhold som ren tekst står i <code>beskrivelse.txt</code>.</p></header>",
        f'<section id="om"><h2>1 Om uttrekket</h2>{_facts(about)}<p>{h(doc.description)}</p>',
        f"<p>{h(doc.addml_version_reason)}</p>" if doc.addml_version_reason else "", "</section>",
        _Run('<section id="diagram"><h2>Relasjonsdiagram</h2><div class="diagram">', svg_parts(doc.tables), "</div>"),
        f'<p class="forklaring">{h(LEGEND)}</p></section>',
        _Run('<nav id="innhold"><h2>Innhold</h2><ul><li><a href="#om">Om uttrekket</a></li><li><a href="#diagram">'
             'Relasjonsdiagram</a></li><li><a href="#filer">Filene</a></li><li><a href="#tabeller">Tabeller</a><ul>',
             toc, '</ul></li><li><a href="#relasjoner">Relasjoner</a></li><li><a href="#utelatt">Utelatt</a></li>'
             '<li><a href="#logg">Uttrekkslogg</a></li></ul></nav>'),
        f'<section id="filer"><h2>2 Filene i content/ ({h(FORMAT_NAMES.get(doc.format, doc.format))})</h2>',
        _Run(f"<p>{h(doc.format_text)}</p><table><thead><tr><th>Fil</th><th>Tabell</th><th>Poster</th><th>Tegnsett</th>"
             "<th>Byte</th></tr></thead><tbody>", files, f"</tbody></table><ul>{extra}</ul></section>"),
        '<section id="tabeller"><h2>3 Tabeller</h2>', (_table(doc, t) for t in doc.tables), "</section>",
        '<section id="relasjoner"><h2>4 Relasjoner</h2>',
        (_Run("<table><thead><tr><th>Tabell</th><th>Felt</th><th>Viser til</th><th>Nøkkel</th><th>Type</th>"
              "<th>Poster</th></tr></thead><tbody>", relation_rows, "</tbody></table>") if relations
         else "<p>Uttrekket har ingen relasjoner mellom tabellene.</p>"), "</section>",
        '<section id="utelatt"><h2>5 Utelatte tabeller og kolonner</h2>',
        _Run("<ul>", excluded, excluded_columns, "</ul>") if excluded
        else "<p>Ingen tabeller eller kolonner i kilden er utelatt.</p>",
        "</section>", _log(doc),
        f'<footer><p class="forklaring">Laget av {h(doc.log.tool)}.</p></footer>',
    ]
    out.write(('<!DOCTYPE html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
               '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
               f"<title>{h(doc.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n").encode("ascii", "xmlcharrefreplace"))
    first = True
    for part in body:
        if isinstance(part, _Run):
            out.write(b"" if first else b"\n")
            for piece in part:
                out.write(piece.encode("ascii", "xmlcharrefreplace"))
            first = False
            continue
        for text in ([part] if isinstance(part, str) else part):
            out.write((text if first else "\n" + text).encode("ascii", "xmlcharrefreplace"))
            first = False
    out.write("\n</body>\n</html>\n".encode("ascii"))
