"""The package's metadata, read from the extract and completed by options.

The extract already says who created the records, which system they come from and which period
they cover: the profile's ``[metadata]`` went into addml.xml's ``reference``. Reading it back
from addml.xml (not from the profile) keeps the package true to the extract it wraps, and lets a
package be made from any uttrekk extract without its profile. Options only fill in or override.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .. import __version__
from ..errors import ConfigError
from .siard_content import find_siard, siard_reference

ADDML_NS = "http://www.arkivverket.no/standarder/addml"
_A = f"{{{ADDML_NS}}}"

DEFAULT_SYSTEM_TYPE = "Fagsystem"


@dataclass(frozen=True)
class Agent:
    """One METS header agent; the same list goes into dias-mets.xml and the info file."""

    role: str
    type: str
    name: str
    other_role: str | None = None
    other_type: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageMetadata:
    uuid: str
    timestamp: dt.datetime
    """When the package counts as made: the extraction's end, or --timestamp. Fixed, so reruns match."""
    archive_creator: str
    submitter: str
    recipient: str
    system_name: str
    system_version: str
    system_type: str
    description: str
    period_start: str
    period_end: str
    extraction_date: str
    addml_version: str
    extract_tool_version: str
    engine: str
    notes: list[str] = field(default_factory=list)
    """Things the user should know (printed as 'note:'), e.g. an option that contradicts addml.xml."""
    description_type: str = "ADDML"
    """What describes the content: ADDML (addml.xml) or SIARD (the SIARD file's metadata.xml)."""

    @property
    def objid(self) -> str:
        return f"UUID:{self.uuid}"

    @property
    def label(self) -> str:
        """Arkade's standard label: system name and the years of the period."""
        years = [p[:4] for p in (self.period_start, self.period_end) if p]
        return f"{self.system_name} ({' - '.join(years)})" if len(years) == 2 else self.system_name

    @property
    def created(self) -> str:
        return self.timestamp.isoformat(timespec="seconds")


def read_metadata(extract_dir: Path, uuid: str, *, archive_creator: str | None = None, submitter: str | None = None,
                  recipient: str | None = None, timestamp: dt.datetime | None = None) -> PackageMetadata:
    """Metadata from content/addml.xml and report/extraction.json, completed by the options given."""
    report = _read_report(extract_dir / "report" / "extraction.json")
    siard = find_siard(extract_dir)
    ref = _siard_ref(siard, report) if siard is not None else _read_addml(extract_dir / "content" / "addml.xml")
    described = "addml.xml" if siard is None else "the extract"
    notes: list[str] = []

    creator = _choose("--archive-creator", archive_creator, ref["recordCreator"], "recordCreator", notes)
    if not creator:
        raise ConfigError("the package needs the archive creator (arkivskaper): give --archive-creator NAME, or set "
                          "[metadata] archive_creator in the profile and extract again")
    deliverer = _choose("--submitter", submitter, ref["deliver"], "deliver", notes) or creator
    system_name = ref["systemName"] or ref["datasetName"]
    if not system_name:
        raise ConfigError(f"{described} names no system; set [metadata] system_name in the profile and extract again")
    period_start, period_end = ref["startDate"], ref["endDate"]
    if not (period_start and period_end):
        notes.append(f"{described} gives no archival period (set [metadata] period_start and period_end in the "
                     "profile); the info file has no STARTDATE/ENDDATE")
    when = timestamp or _report_time(report.get("finished")) or _date_time(ref["extractionDate"])
    if when is None:
        raise ConfigError("no extraction time in report/extraction.json or addml.xml; give --timestamp")
    return PackageMetadata(
        uuid=uuid, timestamp=when, archive_creator=creator, submitter=deliverer, recipient=recipient or "",
        system_name=system_name, system_version=ref["systemVersion"],
        system_type=ref["systemType"] or DEFAULT_SYSTEM_TYPE, description=ref["description"],
        period_start=period_start, period_end=period_end,
        extraction_date=ref["extractionDate"] or str(report.get("extraction_date") or ""),
        addml_version=ref["addmlVersion"] if siard is not None else str(report.get("addml_version")
                                                                        or ref["addmlVersion"]),
        description_type="SIARD" if siard is not None else "ADDML",
        extract_tool_version=str(report.get("version") or ""), engine=str(report.get("engine") or ""), notes=notes)


def header_agents(md: PackageMetadata) -> list[Agent]:
    """The METS header agents, in Arkade's order; DIAS wants at least six in dias-mets.xml.

    The OTHER/PRODUCER/OTHER/SOFTWARE agent is the one Arkade 5 reads to tell the archive type of
    a tar (``ArchiveTypeIdentifier``): the first of its notes that contains "fagsystem" wins. The
    type note goes first so a version text can never be taken for a type.
    """
    org = "ORGANIZATION"
    system_notes = _notes(("Type", md.system_type), ("Version", md.system_version))
    agents = [
        Agent("ARCHIVIST", org, md.archive_creator),
        Agent("OTHER", org, md.submitter, other_role="SUBMITTER"),
        Agent("OTHER", org, md.submitter, other_role="PRODUCER"),
        Agent("IPOWNER", org, md.archive_creator),
        Agent("CREATOR", org, md.submitter),
        Agent("CREATOR", "OTHER", "uttrekk", other_type="SOFTWARE", notes=_notes(("Version", __version__))),
    ]
    if md.recipient:
        agents.append(Agent("PRESERVATION", org, md.recipient))
    agents.append(Agent("ARCHIVIST", "OTHER", md.system_name, other_type="SOFTWARE", notes=system_notes))
    agents.append(Agent("OTHER", "OTHER", md.system_name, other_role="PRODUCER", other_type="SOFTWARE",
                        notes=system_notes))
    return agents


def alt_record_ids(md: PackageMetadata) -> list[tuple[str, str]]:
    """(TYPE, value) pairs for metsHdr/altRecordID; at least three when the period is known."""
    ids = [("DELIVERYSPECIFICATION", md.description or md.label), ("SYSTEMTYPE", md.system_type)]
    if md.period_start:
        ids.append(("STARTDATE", md.period_start))
    if md.period_end:
        ids.append(("ENDDATE", md.period_end))
    return ids


def _notes(*fields: tuple[str, str]) -> tuple[str, ...]:
    """Arkade's agent notes: the values, then 'notescontent:' naming them (HdrAgentNotesWriter)."""
    present = [(k, v) for k, v in fields if v]
    if not present:
        return ()
    return (*(v for _, v in present), "notescontent:" + ",".join(k for k, _ in present))


def _choose(option: str, given: str | None, in_addml: str, addml_role: str, notes: list[str]) -> str:
    if given and in_addml and given != in_addml:
        notes.append(f"{option} {given!r} differs from addml.xml's {addml_role} agent {in_addml!r}; "
                     f"the package uses {given!r}")
    return given or in_addml


def _siard_ref(siard: Path, report: dict[str, Any]) -> dict[str, str]:
    """The same facts for a SIARD extract: the profile's metadata as extraction.json keeps it, and what
    the SIARD file's metadata.xml says (its database name, data owner, archival date)."""
    header = siard_reference(siard)
    given = report.get("metadata") if isinstance(report.get("metadata"), dict) else {}
    md = {k: str(v) for k, v in (given or {}).items() if isinstance(v, str)}
    return {"recordCreator": md.get("archive_creator", "") or header["dataOwner"],
            "deliver": md.get("submitter", ""), "systemName": md.get("system_name", "") or header["dbname"],
            "systemVersion": md.get("system_version", ""), "systemType": SIARD_SYSTEM_TYPE,
            "startDate": md.get("period_start", ""), "endDate": md.get("period_end", ""),
            "extractionDate": header["archivalDate"], "description": md.get("description", "") or header["description"],
            "datasetName": header["dbname"], "addmlVersion": header["version"]}


SIARD_SYSTEM_TYPE = "SIARD"
"""The producer agent's type note for a SIARD package: Arkade 5 reads "siard" there to know the tar's type
(a note with "fagsystem" would win, so the profile's system_type is not used)."""


def _read_addml(path: Path) -> dict[str, str]:
    try:
        root = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ConfigError(f"{path}: cannot be read as XML ({exc})") from None
    if root.tag != f"{_A}addml":
        raise ConfigError(f"{path}: not an ADDML document (root element {root.tag})")
    dataset = root.find(f"{_A}dataset")
    found: dict[str, str] = {k: "" for k in ("recordCreator", "deliver", "systemName", "systemVersion", "systemType",
                                             "startDate", "endDate", "extractionDate", "description",
                                             "datasetName", "addmlVersion")}
    location = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation", "")
    found["addmlVersion"] = "8.2" if "8.2" in location else "8.3"
    if dataset is None:
        return found
    found["datasetName"] = dataset.get("name", "")
    found["description"] = _text(dataset.find(f"{_A}description"))
    context = dataset.find(f"{_A}reference/{_A}context")
    content = dataset.find(f"{_A}reference/{_A}content")
    if context is not None:
        for agent in _elements(context, "agent"):
            role = _property(agent, "role")
            if role in ("recordCreator", "deliver") and not found[role]:
                found[role] = _value(_first(agent, "name"))
        system = _first(context, "system")
        if system is not None:
            found["systemName"] = _value(_first(system, "name"))
            found["systemVersion"] = _value(_first(system, "version"))
            found["systemType"] = _value(_first(system, "systemType"))
        found["systemType"] = found["systemType"] or _value(_first(context, "systemType"))
    if content is not None:
        period = _first(content, "archivalPeriod")
        if period is not None:
            found["startDate"] = _value(_first(period, "startDate")) or _property(period, "startDate")
            found["endDate"] = _value(_first(period, "endDate")) or _property(period, "endDate")
        dataset_info = _first(content, "archivalDataset")
        if dataset_info is not None:
            found["extractionDate"] = _value(_first(dataset_info, "date"))
    return found


def _elements(under: Any, name: str) -> list[Any]:
    return [e for e in under.iter(f"{_A}additionalElement") if e.get("name") == name]


def _first(under: Any, name: str) -> Any:
    found = _elements(under, name)
    return found[0] if found else None


def _value(element: Any) -> str:
    return _text(element.find(f"{_A}value")) if element is not None else ""


def _property(element: Any, name: str) -> str:
    for prop in element.iterchildren(f"{_A}properties"):
        for p in prop.iterchildren(f"{_A}property"):
            if p.get("name") == name:
                return _text(p.find(f"{_A}value"))
    return ""


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def _read_report(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read as JSON ({exc})") from None
    return data if isinstance(data, dict) else {}


def _report_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return _utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _date_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC) if value else None
    except ValueError:
        return None


def parse_timestamp(value: str) -> dt.datetime:
    """``--timestamp``: a date (midnight UTC) or an ISO date-time (UTC unless an offset is given)."""
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
        return _utc(dt.datetime.fromisoformat(value))
    except ValueError:
        raise ConfigError(f"--timestamp {value!r} is not a date (YYYY-MM-DD) or date-time "
                          "(YYYY-MM-DDTHH:MM:SS)") from None


def _utc(value: dt.datetime) -> dt.datetime:
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=0)
