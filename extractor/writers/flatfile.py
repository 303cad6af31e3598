"""Flat-file records: delimited (RFC 4180 quoting) and fixed width, both CRLF-terminated.

Delimited: ``;`` between fields, ``"`` around a field that holds ``;``, ``"``, CR or LF (inner
quotes doubled). NULL is an empty unquoted field; empty text is ``""``; so the two stay apart.
Fixed width: text left-aligned and numbers right-aligned, padded with blanks to the field width;
a NULL is all blanks (a ``_lengde`` field is added where padding would hide a difference).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FIELD_SEPARATOR = ";"
QUOTE = '"'
RECORD_SEPARATOR = "\r\n"

_NEEDS_QUOTES = re.compile(r'[;"\r\n]')


def delimited_record(values: Sequence[str | None]) -> str:
    """One record as text, record separator included."""
    out = []
    for v in values:
        if v is None:
            out.append("")
        elif v == "":
            out.append('""')
        elif _NEEDS_QUOTES.search(v):
            out.append('"' + v.replace('"', '""') + '"')
        else:
            out.append(v)
    return FIELD_SEPARATOR.join(out) + RECORD_SEPARATOR


def fixed_record(values: Sequence[str | None], widths: Sequence[int], right: Sequence[bool]) -> str:
    """One fixed-width record; raises ValueError if a value is wider than its field (a bug)."""
    out = []
    for v, w, r in zip(values, widths, right, strict=True):
        if v is None:
            out.append(" " * w)
            continue
        if len(v) > w:
            raise ValueError(f"value of {len(v)} characters does not fit a field of width {w}")
        out.append(v.rjust(w) if r else v.ljust(w))
    return "".join(out) + RECORD_SEPARATOR
