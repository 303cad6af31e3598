"""Name evidence: how strongly a column's name points at a table's key (``sak_id`` -> ``sak.id``).

Norwegian and English naming habits: key-like endings (``id``, ``nr``, ``kode``), table prefixes
(``tbl_``), plurals and the genitive ``s`` (``saksnr``). Pure functions of names, no data.
"""

from __future__ import annotations

import re

NAME_TABLE, NAME_KEY, NAME_PART, NAME_KEYLIKE, NAME_NONE = 4, 3, 2, 1, 0
"""Strength of name evidence: the column names the table; has the key's own (specific) name; names
part of it; only looks like a key; nothing."""
_KEY_SUFFIXES = ("nummer", "kode", "code", "_ref", "_key", "_fk", "_num", "_no", "id", "nr")
"""Endings of key-like column names, longest first."""
_GENERIC = {"id", "nr", "no", "num", "nummer", "kode", "code", "key", "ref", "pk", "lopenr", "seq", "uuid",
            "guid", "oid", "rowid", "navn", "name", "type", "status", "verdi", "value", "tekst", "text"}
"""Key names too common to tie a column to one table."""
_COUNTER_SUFFIXES = ("nr", "nummer", "no", "num")
_TABLE_PREFIXES = ("tbl_", "tab_", "tb_", "t_")
_PLURALS = ("ene", "er", "es", "s", "e")

def _norm(name: str) -> str:
    return re.sub(r"\W+", "_", name.casefold()).strip("_")


def key_like(column: str) -> bool:
    """``id``, ``sak_id``, ``personid``, ``saksnr``, ``statuskode``, ``sak_ref``..."""
    n = _norm(column)
    return n in _GENERIC - {"navn", "name", "type", "status", "verdi", "value", "tekst", "text"} or \
        any(n.endswith(s) for s in _KEY_SUFFIXES) or n.endswith("ref")


def counter_like(column: str) -> bool:
    """``lopenr``, ``husnr``, ``versjonsnr``: a number, often counted from 1, rather than a reference."""
    return _norm(column).endswith(_COUNTER_SUFFIXES)


def _stem(column: str) -> str:
    """The column name without its key-like ending: ``sak`` of ``sak_id``, ``saks`` of ``saksnr``."""
    n = _norm(column)
    for suffix in _KEY_SUFFIXES:
        if n.endswith(suffix) and len(n) > len(suffix):
            return n[: -len(suffix)].rstrip("_")
    if n.endswith("ref") and len(n) > 3:
        return n[:-3].rstrip("_")
    return n


def _column_stems(column: str) -> set[str]:
    n = _stem(column)
    stems = {n} if len(n) >= 3 else set()
    if n.endswith("s") and len(n) > 3:  # Norwegian genitive: saksnr, personsnr
        stems.add(n[:-1])
    return stems


def _table_stems(table: str) -> set[str]:
    n = _norm(table)
    for prefix in _TABLE_PREFIXES:
        if n.startswith(prefix) and len(n) > len(prefix) + 2:
            n = n[len(prefix):]
            break
    stems = {n}
    for plural in _PLURALS:
        if n.endswith(plural) and len(n) - len(plural) >= 3:
            stems.add(n[: -len(plural)])
    return stems


def name_evidence(column: str, table: str, key: str) -> tuple[int, str]:
    """How strongly the name of ``column`` points at ``table.key``, and why."""
    stems, tstems, n, k = _column_stems(column), _table_stems(table), _norm(column), _norm(key)
    for s in stems:
        if s in tstems:
            return NAME_TABLE, f"'{column}' names the table {table}"
        tokens = s.split("_")
        if len(tokens) > 1 and any(tok in tstems for tok in tokens if len(tok) >= 3):
            return NAME_TABLE, f"'{column}' names the table {table}"
    if k not in _GENERIC and len(k) >= 3 and (n == k or n.endswith("_" + k)):
        return NAME_KEY, f"'{column}' has the name of the key {table}.{key}"
    for s in stems:
        if any(len(t) >= 3 and s.endswith(t) for t in tstems):
            return NAME_PART, f"'{column}' ends with the table name {table}"
    whole, stem = _norm(table), _stem(column)
    if len(stem) >= 4 and stem not in _GENERIC and whole.endswith(stem) and whole != stem:
        return NAME_PART, f"the table name {table} ends with '{stem}'"
    if key_like(column) and n not in _GENERIC:  # a bare 'id' or 'kode' names nothing it could refer to
        return NAME_KEYLIKE, f"'{column}' is a key-like name"
    return NAME_NONE, "no name evidence"
