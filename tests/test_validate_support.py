"""Helpers for the validator tests: make an uttrekk extract, damage it on purpose, find findings.

Nothing here uses the validator to prepare its own input: checksums and counts are recomputed
with hashlib and lxml, records are edited as bytes.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from lxml import etree

from extractor.cli import cli
from extractor.validation import Report, validate_path
from extractor.validation.findings import Finding

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "profiles" / "example-kommune.toml"
NS = {"a": "http://www.arkivverket.no/standarder/addml"}
DATE = "2024-05-17"


def make_extract(db: Path, out: Path, fmt: str = "delimited") -> Path:
    """An uttrekk extract of ``db`` with the example profile, made through the CLI."""
    res = CliRunner().invoke(cli, ["extract", str(db), "--profile", str(PROFILE), "--out", str(out), "--format", fmt,
                                   "--date", DATE, "-q"])
    assert res.exit_code == 0, res.output
    return out


def copy_extract(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _flat_file(doc: Any, file_name: str) -> Any:
    hits = doc.xpath("//a:flatFile[a:properties/a:property[@name='fileName']/a:value = $f]", namespaces=NS, f=file_name)
    assert len(hits) == 1, file_name
    return hits[0]


def set_property(content: Path, file_name: str, prop: str, value: str) -> None:
    """Set a flatFile property (``numberOfOccurrences``, ``checksum/value``...) in addml.xml."""
    path = content / "addml.xml"
    doc = etree.parse(str(path))
    ff = _flat_file(doc, file_name)
    el = ff
    for part in prop.split("/"):
        el = el.xpath(f"a:properties/a:property[@name='{part}']", namespaces=NS)[0]
    el.xpath("a:value", namespaces=NS)[0].text = value
    doc.write(str(path), xml_declaration=True, encoding="UTF-8")


def reseal(content: Path, file_name: str) -> None:
    """Give addml.xml the real SHA-256 of the (edited) file, so only the intended check fires."""
    set_property(content, file_name, "checksum/value", hashlib.sha256((content / file_name).read_bytes()).hexdigest())


def edit_record(content: Path, file_name: str, number: int, edit: Callable[[list[bytes]], None],
                seal: bool = True) -> bytes:
    """Edit the fields (as bytes) of record ``number`` (1-based) of a delimited file without quoted fields."""
    path = content / file_name
    lines = path.read_bytes().split(b"\r\n")
    assert lines[-1] == b""
    line = lines[number - 1]
    assert b'"' not in line, "pick a record without quoted fields"
    fields = line.split(b";")
    edit(fields)
    lines[number - 1] = b";".join(fields)
    path.write_bytes(b"\r\n".join(lines))
    if seal:
        reseal(content, file_name)
    return lines[number - 1]


def field_value(content: Path, file_name: str, number: int, index: int) -> bytes:
    return (content / file_name).read_bytes().split(b"\r\n")[number - 1].split(b";")[index]


def findings(report: Report, check: str, severity: str | None = "error", **where: Any) -> list[Finding]:
    """Examples of ``check`` matching ``where`` (file=, record=, field=, value=)."""
    result = report.check(check)
    if result is None:
        return []
    found = [f for f in result.examples + result.information if severity is None or f.severity == severity]
    return [f for f in found if all(getattr(f, k) == v for k, v in where.items())]


def error_ids(report: Report) -> dict[str, int]:
    return {c.id: c.errors for c in report.checks if c.errors}


def validate(path: Path, **kw: Any) -> Report:
    return validate_path(path, **kw)


def write_file(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()
