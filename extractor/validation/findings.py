"""What a validation found: findings per check, counted in full, with the first examples kept.

Counts are exact however many deviations there are; only the examples are capped, so memory
stays bounded on a 100-million-row extract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .catalog import CHECKS, CheckInfo, order_key

ERROR = "error"
WARNING = "warning"
INFO = "info"

NULL_NOTE = "the value is NULL, which the field allows; Arkade 5 reports it as an error"
"""Why a finding Arkade 5 reports as an error is only a warning here (see docs/validate.md)."""

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def shown(value: str | None, limit: int = 200) -> str | None:
    """A value made safe to print: control characters and undecodable bytes as escapes, long text cut."""
    if value is None:
        return None
    cut = len(value) > limit
    text = value[:limit] if cut else value

    def esc(m: re.Match[str]) -> str:
        c = m.group()
        if "\udc80" <= c <= "\udcff":
            return f"\\x{ord(c) - 0xDC00:02X}"
        return {"\r": "\\r", "\n": "\\n", "\t": "\\t"}.get(c, f"\\u{ord(c):04X}")

    text = _UNSAFE.sub(esc, text)
    return text + f"… (+{len(value) - limit} chars)" if cut else text


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    file: str | None = None
    record: int | None = None
    field: str | None = None
    value: str | None = None
    records: tuple[int, ...] = ()

    def location(self) -> str:
        parts = [p for p in (self.file, f"record {self.record}" if self.record is not None else None,
                             f"field {self.field}" if self.field else None) if p]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"severity": self.severity, "message": self.message, "file": self.file,
                             "record": self.record, "field": self.field, "value": self.value}
        if self.records:
            d["records"] = list(self.records)
        return d


@dataclass
class CheckResult:
    info: CheckInfo
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    examples: list[Finding] = field(default_factory=list)
    information: list[Finding] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def deviations(self) -> int:
        return self.errors + self.warnings

    @property
    def status(self) -> str:
        return "error" if self.errors else "warning" if self.warnings else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.info.name, "kind": self.info.kind, "description": self.info.description,
                "status": self.status, "deviations": self.deviations, "errors": self.errors, "warnings": self.warnings,
                "examples": [f.to_dict() for f in self.examples],
                "information": [f.to_dict() for f in self.information], "information_total": self.infos}


class Findings:
    """Collects findings by check id; keeps at most ``limit`` examples of each severity per check."""

    def __init__(self, limit: int = 25, info_limit: int = 200) -> None:
        self.limit = limit
        self.info_limit = info_limit
        self.checks: dict[str, CheckResult] = {}
        self._shown: dict[str, list[int]] = {}

    def ran(self, check_id: str) -> CheckResult:
        """Mark a check as run (so it is listed even with nothing to report)."""
        result = self.checks.get(check_id)
        if result is None:
            result = self.checks[check_id] = CheckResult(CHECKS[check_id])
            self._shown[check_id] = [0, 0]
        return result

    def add(self, check_id: str, severity: str, message: str, *, file: str | None = None, record: int | None = None,
            field: str | None = None, value: str | None = None, records: tuple[int, ...] = (), count: int = 1) -> None:
        """Count ``count`` deviations (or one piece of information); keep the finding as an example if room."""
        result = self.ran(check_id)
        message = shown(message, 2000) or ""
        shown_counts = self._shown[check_id]
        if severity == INFO:
            result.infos += 1
            if len(result.information) < self.info_limit:
                result.information.append(Finding(check_id, severity, message, file, record, field, shown(value)))
            return
        slot = 0 if severity == ERROR else 1
        if severity == ERROR:
            result.errors += count
        else:
            result.warnings += count
        if shown_counts[slot] < self.limit:
            shown_counts[slot] += 1
            result.examples.append(Finding(check_id, severity, message, file, record, field, shown(value), records[:20]))

    def sorted(self) -> list[CheckResult]:
        return [self.checks[k] for k in sorted(self.checks, key=order_key)]


@dataclass
class FileSummary:
    """One data file read: its records in all, and per record definition (in addml.xml's order, unused
    ones with 0), whether or not addml.xml names Arkade's counting processes (A.01, A.04)."""

    file: str
    format: str
    charset: str
    records: int
    bytes: int
    record_definitions: list[tuple[str, int]] = field(default_factory=list)
    delimiter_errors: int = 0
    """Records cut wrongly (AH.03), counted in ``records`` but under no definition."""

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "format": self.format, "charset": self.charset, "records": self.records,
                "bytes": self.bytes, "record_definitions": [{"name": n, "records": c} for n, c in self.record_definitions],
                "records_with_delimiter_errors": self.delimiter_errors}

    def breakdown(self) -> str:
        """'SAK 200, JOURNAL 13' (and the records no definition took)."""
        parts = [f"{n} {c:,}" for n, c in self.record_definitions]
        if self.delimiter_errors:
            parts.append(f"{self.delimiter_errors:,} with delimiter errors (AH.03)")
        return ", ".join(parts)


@dataclass
class Report:
    """The outcome of one validation; ``exit_code`` is 1 when any check found an error."""

    path: str
    kind: str
    addml_version: str | None
    checks: list[CheckResult]
    files: list[FileSummary]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.checks)

    @property
    def warnings(self) -> int:
        return sum(c.warnings for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def check(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "input": self.kind, "addml_version": self.addml_version,
                "result": "errors" if self.errors else "ok", "errors": self.errors, "warnings": self.warnings,
                "exit_code": self.exit_code, "seconds": round(self.seconds, 3), "notes": self.notes,
                "files": [f.to_dict() for f in self.files], "checks": [c.to_dict() for c in self.checks]}
