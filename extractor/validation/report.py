"""The validation report as terminal text, JSON, and one self-contained HTML page.

Every value in a report comes from the extract, so the HTML escapes all of it and loads nothing
from outside (inline CSS, no scripts). A report file is written whole or not at all (a temporary
file beside it, synced and renamed), so a full disk or a killed run never leaves half a report.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import BinaryIO

from ..output import write_stream_atomically
from .findings import CheckResult, Finding, Report

STATUS_WORD = {"error": "ERROR", "warning": "WARN", "ok": "OK"}


def _example(f: Finding) -> str:
    where = f.location()
    value = f" value {f.value!r}" if f.value is not None and f.value != "" else ""
    return f"{where + ': ' if where else ''}{f.message}{value}"


def _line(c: CheckResult) -> str:
    word = "INFO" if c.status == "ok" and not c.deviations and c.info.kind == "Arkade analysis" else STATUS_WORD[c.status]
    if c.deviations:
        counts = ", ".join(p for p in (f"{c.errors} error(s)" if c.errors else "",
                                       f"{c.warnings} warning(s)" if c.warnings else "") if p)
    elif c.infos:
        counts = f"{c.infos} result(s)"
    else:
        counts = "no deviations"
    return f"  {word:<5} {c.id:<6} {c.info.name:<42} {counts}"


def _version(report: Report) -> str:
    """'ADDML 8.3', or 'ADDMML 7.3' for the older format; nothing for a SIARD file."""
    if report.kind.startswith("SIARD"):
        return ""
    version = report.addml_version or "?"
    return version if version.startswith("ADDMML") else f"ADDML {version}"


def format_summary(report: Report, examples: int = 3) -> str:
    """A few lines per check: status, counts, the first examples of what went wrong."""
    records = sum(f.records for f in report.files)
    version = f"{_version(report)}, " if _version(report) else ""
    lines = [f"uttrekk validate: {report.path} ({report.kind}, {version}"
             f"{len(report.files)} file(s), {records:,} record(s), {report.seconds:.1f} s)"]
    for c in report.checks:
        lines.append(_line(c))
        for f in sorted(c.examples, key=lambda f: f.severity != "error")[:examples]:
            lines.append(f"          {f.severity}: {_example(f)}")
        if c.deviations > examples:
            lines.append(f"          ... {c.deviations - min(examples, len(c.examples))} more (see --json/--html)")
    if report.files:
        lines.append("Records per file and record definition:")
        width = min(40, max(len(f.file) for f in report.files))
        lines += [f"  {f.file:<{width}} {f.records:>13,}  {f.breakdown()}" for f in report.files]
    lines += [f"note: {n}" for n in report.notes]
    verdict = "errors found" if report.errors else "no errors"
    lines.append(f"Result: {verdict}: {report.errors} error(s), {report.warnings} warning(s) "
                 f"in {len(report.checks)} check(s).")
    return "\n".join(lines) + "\n"


def write_json(report: Report, path: str | Path) -> None:
    """The report as JSON, written whole or not at all (``OutputError`` names the file otherwise)."""
    def write(fh: BinaryIO) -> None:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        json.dump(report.to_dict(), text, indent=2, ensure_ascii=False)
        text.flush()
        text.detach()
    write_stream_atomically(Path(path), write, what="the JSON report")


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}.error{color:#a00;font-weight:bold}.warning{color:#a60;font-weight:bold}
.ok{color:#070}.info{color:#555}code{white-space:pre-wrap;word-break:break-all}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _finding_rows(findings: list[Finding]) -> str:
    rows = []
    for f in findings:
        rows.append(f"<tr><td class='{_e(f.severity)}'>{_e(f.severity)}</td><td>{_e(f.file)}</td><td>{_e(f.record)}</td>"
                    f"<td>{_e(f.field)}</td><td><code>{_e(f.value)}</code></td><td>{_e(f.message)}</td></tr>")
    return ("<table><tr><th>severity</th><th>file</th><th>record</th><th>field</th><th>value</th><th>message</th></tr>"
            + "".join(rows) + "</table>")


def render_html(report: Report) -> str:
    """One HTML page: summary table, then each check with its examples."""
    status = "errors" if report.errors else "no errors"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>uttrekk validate: {_e(report.path)}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>uttrekk validate: {_e(report.path)}</h1>",
             f"<p>Input: {_e(report.kind)}; " + (f"{_e(_version(report))}; " if _version(report) else "")
             + f"{len(report.files)} file(s); "
             f"{report.seconds:.1f} s. Result: <span class='{'error' if report.errors else 'ok'}'>{status}</span>: "
             f"{report.errors} error(s), {report.warnings} warning(s). Exit code {report.exit_code}.</p>"]
    parts += [f"<p class='info'>{_e(n)}</p>" for n in report.notes]
    parts.append("<table><tr><th>id</th><th>check</th><th>kind</th><th>status</th><th>errors</th><th>warnings</th>"
                 "<th>results</th></tr>")
    for c in report.checks:
        parts.append(f"<tr><td><a href='#{_e(c.id)}'>{_e(c.id)}</a></td><td>{_e(c.info.name)}</td><td>{_e(c.info.kind)}</td>"
                     f"<td class='{_e(c.status)}'>{_e(c.status)}</td><td>{c.errors}</td><td>{c.warnings}</td>"
                     f"<td>{c.infos}</td></tr>")
    parts.append("</table>")
    if report.files:
        parts.append("<h2>Files</h2><table><tr><th>file</th><th>format</th><th>charset</th><th>records</th>"
                     "<th>records per record definition</th><th>bytes</th></tr>")
        parts += [f"<tr><td>{_e(f.file)}</td><td>{_e(f.format)}</td><td>{_e(f.charset)}</td><td>{f.records}</td>"
                  f"<td>{_e(f.breakdown())}</td><td>{f.bytes}</td></tr>" for f in report.files]
        parts.append("</table>")
    for c in report.checks:
        parts.append(f"<h2 id='{_e(c.id)}'>{_e(c.id)} {_e(c.info.name)} "
                     f"<span class='{_e(c.status)}'>({_e(c.status)})</span></h2><p>{_e(c.info.description)}</p>")
        if c.examples:
            shown = len(c.examples)
            parts.append(f"<p>{c.deviations} deviation(s); {'the first ' if shown < c.deviations else ''}{shown} shown.</p>")
            parts.append(_finding_rows(c.examples))
        if c.information:
            parts.append(f"<p>{c.infos} result(s){'' if len(c.information) == c.infos else f'; {len(c.information)} shown'}."
                         "</p>")
            parts.append(_finding_rows(c.information))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: Report, path: str | Path) -> None:
    """The report as one HTML page, written whole or not at all."""
    page = render_html(report).encode("utf-8")
    write_stream_atomically(Path(path), lambda fh: fh.write(page), what="the HTML report")
