"""AH.01 for any described file: the checksum property is there, its algorithm known, and it matches.

Shared by flat files (run.py) and the files of an XML extract (xml_data.py), so both say the same
thing in the same words as Arkade 5's ``Control_Checksum``.
"""

from __future__ import annotations

from .findings import ERROR, Findings


def report_checksum(findings: Findings, name: str | None, algorithm: str | None, value: str | None,
                    hash_name: str | None, digest: str | None) -> None:
    """Compare the described checksum with ``digest`` (hex, computed with ``hash_name``) and report under AH.01."""
    algorithm = (algorithm or "").strip()
    if not value or not algorithm:
        findings.add("AH.01", ERROR, "No checksum found in the ADDML file", file=name)
    elif hash_name is None:
        findings.add("AH.01", ERROR, f"Unknown checksum algorithm: {algorithm}", file=name)
    elif (digest or "") != value.strip().lower():
        findings.add("AH.01", ERROR, f"Expected checksum: {value.strip()}; actual checksum: {digest}", file=name)
    elif value != value.strip():
        findings.add("AH.01", ERROR, "the checksum matches, but its value has blanks or line breaks around it; "
                                     "Arkade 5 compares the text as written and reports a mismatch", file=name)
