"""The descriptions addml.xml gives its files, records and fields, and the explanations of codes.

The validation reader keeps what the checks need and no prose; the prose is looked up here in
the same parsed tree, by name, wherever the definitions stand in it (a lenient reading may have
found them outside ``flatFiles``). XML extracts describe a table in its ``dataObject`` and each
field in its schema (``xs:documentation``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..validation.addml_model import kid, kids, local, text


@dataclass
class FieldText:
    description: str | None = None
    explanations: dict[str, str] = field(default_factory=dict)
    """Code value -> its ``explan``."""


@dataclass
class RecordText:
    description: str | None = None
    fields: dict[str, FieldText] = field(default_factory=dict)


@dataclass
class DefinitionText:
    description: str | None = None
    records: dict[str, RecordText] = field(default_factory=dict)


@dataclass
class Descriptions:
    dataset: str | None = None
    definitions: dict[str, DefinitionText] = field(default_factory=dict)
    flat_files: dict[str, str] = field(default_factory=dict)
    data_objects: dict[str, str] = field(default_factory=dict)
    object_codes: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(dataObject, column) -> code value -> its ``explan`` property."""

    def field(self, definition: str, record: str, name: str) -> FieldText:
        d = self.definitions.get(definition)
        r = d.records.get(record) if d else None
        return (r.fields.get(name) if r else None) or FieldText()

    def record(self, definition: str, record: str) -> str | None:
        d = self.definitions.get(definition)
        r = d.records.get(record) if d else None
        return r.description if r else None


def _description(el: etree._Element) -> str | None:
    d = kid(el, "description")
    text = (d.text or "").strip() if d is not None else ""
    return text or None


def read_descriptions(root: etree._Element) -> Descriptions:
    out = Descriptions(_description(kid(root, "dataset")) if kid(root, "dataset") is not None else None)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = local(el)
        if name == "flatFileDefinition":
            d = out.definitions.setdefault(el.get("name", ""), DefinitionText(_description(el)))
            for rd in el.iter():
                if not isinstance(rd.tag, str) or local(rd) != "recordDefinition":
                    continue
                r = d.records.setdefault(rd.get("name", ""), RecordText(_description(rd)))
                for fd in rd.iter():
                    if not isinstance(fd.tag, str) or local(fd) != "fieldDefinition":
                        continue
                    codes = {c.get("codeValue", ""): c.get("explan", "") for c in kids(kid(fd, "codes"), "code")
                             if c.get("explan")}
                    r.fields.setdefault(fd.get("name", ""), FieldText(_description(fd), codes))
        elif name == "flatFile" and _description(el):
            out.flat_files[el.get("name", "")] = _description(el) or ""
        elif name == "dataObject":
            if _description(el):
                out.data_objects[el.get("name", "")] = _description(el) or ""
            for prop in kids(kid(el, "properties"), "property"):
                if prop.get("name") == "codes":
                    column = (text(prop, "value") or "").strip()
                    out.object_codes[(el.get("name", ""), column)] = {
                        text(code, "value") or "": text(explan, "value") or ""
                        for code in kids(kid(prop, "properties"), "property") if code.get("name") == "code"
                        for explan in kids(kid(code, "properties"), "property") if explan.get("name") == "explan"}
    return out
