"""AH.02 (Control_ExtraOrMissingFiles): the files addml.xml describes against the files under content/.

The files under content/ come one at a time, sorted, from the source's index on disk, so a
content/ of a million documents is compared in flat memory; only the described names (a few per
table in addml.xml) are a set. A file whose path is a value of a one-field key that other records
refer to (uttrekk's ``lob/`` files, listed in ``LOBFILER``) is described by that table.
"""

from __future__ import annotations

from collections.abc import Collection

from .findings import ERROR, WARNING, Findings
from .keystore import ValueSet
from .source import ADDML, ADDML_XSD, DESCRIPTIONS, Source

KNOWN_FILES = (ADDML, ADDML_XSD, "NOARKIH.XML", *DESCRIPTIONS[1:], "addmml.dtd", "ADDMML.DTD")
"""Files under content/ that AH.02 never asks about (Arkade's list, and an ADDMML 7 description with its DTD)."""


def check_extra_or_missing(source: Source, described: Collection[str], keyed: list[tuple[str, ValueSet]],
                           findings: Findings, report_keyed: bool) -> None:
    """AH.02: described files missing (errors), files not described (errors).

    ``keyed`` gives (label, key values) of the one-field keys a file may be described by: such a file
    is a warning naming the label when ``report_keyed`` (Arkade 5 counts only flat files and reports
    it), else not reported.
    """
    findings.ran("AH.02")
    for name in sorted(described):
        if name in KNOWN_FILES or source.entry(name) is None:
            findings.add("AH.02", ERROR, "Present in ADDML but missing from archive", file=name)
    for name in source.content_files():
        if name in KNOWN_FILES or name in described:
            continue
        label = next((label for label, values in keyed if name in values), None)
        if label is None:
            findings.add("AH.02", ERROR, "Present in archive but missing from ADDML", file=name)
        elif report_keyed:
            findings.add("AH.02", WARNING, f"Present in archive but missing from ADDML: described as a value of "
                                           f"{label} (Arkade 5 counts only flat files and reports it)", file=name)
