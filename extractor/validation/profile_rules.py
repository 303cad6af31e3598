"""U.02: the Arkivverket profile of ADDML 8.3 ("8.3.1", 2020), rule by rule.

The profile is what depots expect beyond the schema: one dataset; every flatFile with fileName,
numberOfOccurrences and a SHA-256 checksum; charsets ISO-8859-1, ISO-8859-4 or UTF-8; the data
types and formats it lists; alignment left/right/center; context with agents and system type,
content with archival period and dataset; CRLF (or nothing, for fixed width) between records;
numbering from 1. What the profile allows only "by agreement" is a warning, the rest an error.
Each message starts with the profile rule it comes from (§1.4.n in docs/validate.md). A finding
about missing depot metadata (creator, system, period, dataset) ends with its fix in uttrekk's
terms: the profile's ``[metadata]`` key and the ``extract`` option where there is one, since every
extract made without a profile lacks them.
"""

from __future__ import annotations

from lxml import etree

from .addml_model import Addml, charset_codec, kid, kids, local, text
from .findings import ERROR, WARNING, Findings

FIX_CREATOR = "fix: set [metadata] archive_creator in the profile, or extract with --archive-creator NAME"
FIX_SYSTEM_NAME = "fix: set [metadata] system_name in the profile, or extract with --system-name NAME"
FIX_SYSTEM_TYPE = ("fix: set [metadata] system_type in the profile to Noark-3, Noark-4, Noark 5 or Fagsystem (uttrekk's "
                   "default)")
FIX_PERIOD = ("fix: set [metadata] period_start and period_end in the profile, or extract with --period START..END "
              "(dates YYYY-MM-DD)")
FIX_DATE = "fix: set [metadata] extraction_date in the profile, or extract with --date YYYY-MM-DD"
FIX_REFERENCE = ("fix: extract with uttrekk, which writes context and content from the profile's "
                 "[metadata] archive_creator (--archive-creator NAME), [metadata] system_name (--system-name NAME), "
                 "[metadata] period_start and period_end (--period START..END, dates YYYY-MM-DD)")
FIX_AGENT_NAME = {
    ("recordCreator", "institution"): FIX_CREATOR,
    ("recordCreator", "individual"): "fix: set [metadata] responsible_person in the profile",
    ("deliver", "institution"): "fix: set [metadata] submitter in the profile",
}
"""How uttrekk names each agent it writes; the others (its own producer agent) always have a name."""

CHARSETS = ("ISO-8859-1", "ISO-8859-4", "UTF-8")
DATA_TYPES = ("string", "integer", "decimal", "float", "date", "boolean", "link")
ROLES = ("recordCreator", "deliver", "producer", "owner", "archive")
AGENT_TYPES = ("individual", "institution", "system")
SYSTEM_TYPES = ("Noark-3", "Noark-4", "Noark 5", "Fagsystem")


def _elements(parent: etree._Element | None) -> dict[str, etree._Element]:
    return {e.get("name", ""): e for e in kids(kid(parent, "additionalElements"), "additionalElement")}


def _value(el: etree._Element | None, name: str) -> str | None:
    """A named value under an additionalElement: a child additionalElement's value, or a property."""
    if el is None:
        return None
    child = _elements(el).get(name)
    if child is not None:
        return text(child, "value")
    for prop in kids(kid(el, "properties"), "property"):
        if prop.get("name") == name:
            return text(prop, "value")
    return None


def check_profile(doc: Addml, findings: Findings) -> None:
    findings.ran("U.02")

    def add(severity: str, rule: str, message: str, **kw: str | None) -> None:
        findings.add("U.02", severity, f"{rule} {message}", **kw)  # type: ignore[arg-type]

    datasets = kids(doc.root, "dataset")
    if len(datasets) != 1:
        add(ERROR, "§1.4.1", f"exactly one dataset per addml.xml; found {len(datasets)}")
    _reference(doc, add)
    flat = kid(doc.dataset, "flatFiles")
    for ff in kids(flat, "flatFile"):
        _flat_file(ff, add)
    structure = kid(flat, "structureTypes")
    for t in kids(kid(structure, "flatFileTypes"), "flatFileType"):
        _flat_file_type(t, add)
    for ft in kids(kid(structure, "fieldTypes"), "fieldType"):
        _field_type(ft, add)
    for fdef in doc.definitions.values():
        for r in fdef.records:
            for f in r.fields:
                if f.start is not None and f.start < 1:
                    add(ERROR, "§1.4.9", f"numbering starts at 1: startPos {f.start}", field=f"{fdef.name}/{r.name}/{f.name}")
            if r.fields and r.fields[0].start not in (None, 1):
                add(ERROR, "§1.4.9", f"numbering starts at 1: the first field starts at {r.fields[0].start}",
                    field=f"{fdef.name}/{r.name}/{r.fields[0].name}")


def _reference(doc: Addml, add) -> None:  # type: ignore[no-untyped-def]
    """§1.4.6 and §1.4.7: the depot metadata; each finding says which profile key (and option) gives it."""
    reference = kid(doc.dataset, "reference")
    if reference is None:
        add(ERROR, "§1.4.6", f"dataset has no reference (context and content are required); {FIX_REFERENCE}")
        return
    context = kid(reference, "context")
    elements = _elements(context)
    agents = [a for a in kids(kid(elements.get("agents"), "additionalElements"), "additionalElement")
              if a.get("name") == "agent"]
    if not agents:
        add(ERROR, "§1.4.6", f"context has no agents/agent; {FIX_CREATOR}")
    roles = []
    for agent in agents:
        props = {p.get("name"): text(p, "value") for p in kids(kid(agent, "properties"), "property")}
        role, kind = props.get("role"), props.get("type")
        roles.append(role)
        if role not in ROLES:
            add(ERROR, "§1.4.6", f"agent role {role!r} is not one of {', '.join(ROLES)}")
        if kind not in AGENT_TYPES:
            add(ERROR, "§1.4.6", f"agent type {kind!r} is not one of {', '.join(AGENT_TYPES)}")
        if not _value(agent, "name"):
            fix = FIX_AGENT_NAME.get((role or "", kind or ""))
            add(WARNING, "§1.4.6", f"agent ({role}) has no name" + (f"; {fix}" if fix else ""))
    if agents and "recordCreator" not in roles:
        add(WARNING, "§1.4.6", f"no agent with role recordCreator: the archive creator (arkivskaper) is not named, "
                               f"which a depot and Arkade's report need; {FIX_CREATOR}")
    system = elements.get("system")
    if system is None:
        add(ERROR, "§1.4.6", f"context has no system; {FIX_SYSTEM_NAME} (and, for another system type, "
                             f"{FIX_SYSTEM_TYPE.removeprefix('fix: ')})")
    else:
        system_type = _value(system, "systemType")
        if system_type not in SYSTEM_TYPES:
            add(ERROR, "§1.4.6", f"system/systemType {system_type!r} is not one of {', '.join(SYSTEM_TYPES)}; "
                                 f"{FIX_SYSTEM_TYPE}")
        if not _value(system, "name"):
            add(WARNING, "§1.4.6", f"system has no name; {FIX_SYSTEM_NAME}")
    content = _elements(kid(reference, "content"))
    period = content.get("archivalPeriod")
    if period is None or not _value(period, "startDate") or not _value(period, "endDate"):
        add(ERROR, "§1.4.7", f"content/archivalPeriod with startDate and endDate is required; {FIX_PERIOD}")
    ds = content.get("archivalDataset")
    if ds is None or not _value(ds, "date"):
        add(ERROR, "§1.4.7", f"content/archivalDataset with the extraction date is required; {FIX_DATE}")
    elif _value(ds, "type") not in SYSTEM_TYPES:
        add(ERROR, "§1.4.7", f"archivalDataset/type {_value(ds, 'type')!r} is not one of {', '.join(SYSTEM_TYPES)}; "
                             f"{FIX_SYSTEM_TYPE}")


def _flat_file(ff: etree._Element, add) -> None:  # type: ignore[no-untyped-def]
    name = ff.get("name", "")
    props = {p.get("name"): p for p in kids(kid(ff, "properties"), "property")}
    if "fileName" not in props and not ("name" in props and "path" in props):
        add(ERROR, "§1.4.2", "flatFile has no fileName property", file=name)
    if "numberOfOccurrences" not in props:
        if "numberOfRecords" in props:
            add(WARNING, "§1.4.2", "numberOfRecords instead of numberOfOccurrences (Arkade 5 reads both)", file=name)
        else:
            add(ERROR, "§1.4.2", "flatFile has no numberOfOccurrences property", file=name)
    checksum = props.get("checksum")
    sub = {p.get("name"): text(p, "value") for p in kids(kid(checksum, "properties"), "property")}
    if checksum is None or not sub.get("value"):
        add(ERROR, "§1.4.2", "flatFile has no checksum (algorithm and value)", file=name)
    elif sub.get("algorithm") != "SHA-256":
        add(ERROR, "§1.4.2", f"checksum algorithm {sub.get('algorithm')!r}; the profile requires SHA-256", file=name)


def _flat_file_type(t: etree._Element, add) -> None:  # type: ignore[no-untyped-def]
    name = t.get("name", "")
    charset = text(t, "charset") or ""
    if charset not in CHARSETS:
        codec, _ = charset_codec(charset)
        canonical = {"latin-1": "ISO-8859-1", "utf-8": "UTF-8", "iso8859-4": "ISO-8859-4"}.get(codec or "")
        if canonical:
            add(WARNING, "§1.4.3", f"charset spelled {charset!r}; the profile writes {canonical}", field=name)
        else:
            add(ERROR, "§1.4.3", f"charset {charset!r} is not one of {', '.join(CHARSETS)}", field=name)
    for fmt in (kid(t, "fixedFileFormat"), kid(t, "delimFileFormat")):
        if fmt is None:
            continue
        sep = text(fmt, "recordSeparator")
        if sep is None:
            if local(fmt) == "delimFileFormat":
                add(ERROR, "§1.4.8", "delimited files need recordSeparator CRLF", field=name)
        elif sep in ("LF", "CR"):
            add(WARNING, "§1.4.8", f"recordSeparator {sep} is allowed only by agreement (the profile wants CRLF)",
                field=name)
        elif sep != "CRLF":
            add(ERROR, "§1.4.8", f"recordSeparator {sep!r}; the profile allows CRLF (or none for fixed width)", field=name)


def _field_type(ft: etree._Element, add) -> None:  # type: ignore[no-untyped-def]
    name = ft.get("name", "")
    data_type = (text(ft, "dataType") or "").strip()
    fmt = text(ft, "fieldFormat")
    if data_type == "time":
        add(WARNING, "§1.4.4", "dataType time is not in the profile's list (Arkade 5 accepts it)", field=name)
    elif data_type not in DATA_TYPES:
        add(ERROR, "§1.4.4", f"dataType {data_type!r} is not one of {', '.join(DATA_TYPES)}", field=name)
    if data_type == "string" and fmt not in (None, "fnr", "org", "knr"):
        add(ERROR, "§1.4.4", f"string fieldFormat {fmt!r}; the profile allows fnr, org, knr", field=name)
    if data_type == "date" and not fmt:
        add(WARNING, "§1.4.4", "date without fieldFormat", field=name)
    if data_type == "boolean" and (not fmt or "/" not in fmt):
        add(ERROR, "§1.4.4", "boolean needs a fieldFormat pair such as J/N", field=name)
    alignment = text(ft, "alignment")
    if alignment is not None and alignment not in ("left", "right", "center"):
        add(ERROR, "§1.4.5", f"alignment {alignment!r} is not left, right or center", field=name)
