"""Lists of allowed values read from CHECK constraints, as each engine prints them back.

Only a constraint that says exactly "this one column is one of these literals" becomes a code
list; anything else (ranges, patterns, several columns, expressions) is left alone, because a
code list that is only nearly right would make Arkade report good data as wrong.

Forms recognised (SQLAlchemy's ``get_check_constraints`` text):
  PostgreSQL  ``(v)::text = ANY ((ARRAY['A'::character varying, 'B'::character varying])::text[])``
              ``n = ANY (ARRAY[1, 2, 3])``, and for domains ``VALUE::text = ANY (...)``
  MySQL/MariaDB/SQLite/Oracle  ```v` in ('A','B')``, ``v IN ('A', 'B')``
  SQL Server  ``([v]='B' OR [v]='A')`` (it rewrites IN lists as OR chains)
Column names are returned as written; callers match them without regard to case.
"""

from __future__ import annotations

import re

_CAST = r"(?:::[a-z ]+(?:\[\])?)?"
_NAME = r"[`\"\[]?(?P<col>[^\s`\"\]():]+)[`\"\]]?"
_HEAD = re.compile(rf"^\(*\s*{_NAME}\s*\)?{_CAST}\s*", re.IGNORECASE)
_QUOTED_OR_PLAIN = r"(?:'(?:[^']|'')*'|[^\]'])*"
_ANY = re.compile(rf"^=\s*ANY\s*\(+\s*ARRAY\[(?P<body>{_QUOTED_OR_PLAIN})\]\s*\)?{_CAST}\s*\)+$", re.IGNORECASE | re.DOTALL)
_IN = re.compile(r"^IN\s*\((?P<body>.*)\)\s*\)*$", re.IGNORECASE | re.DOTALL)
_LITERAL = re.compile(rf"\s*(?:N?'(?P<text>(?:[^']|'')*)'{_CAST}|(?P<num>-?\d+))\s*(?:,|$)", re.IGNORECASE)


def in_list(sqltext: str) -> tuple[str, tuple[str, ...]] | None:
    """``(column, values)`` when the constraint allows one column a fixed list of literals."""
    text = sqltext.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    if re.search(r"\sOR\s", text, re.IGNORECASE):
        return _or_chain(text)
    head = _HEAD.match(text)
    if not head:
        return None
    rest = text[head.end():]
    body = _ANY.match(rest) or _IN.match(rest)
    if not body:
        return None
    values = _literals(body.group("body"))
    return (head.group("col"), values) if values else None


_EQUALS = re.compile(rf"^\(*\s*{_NAME}\s*\)?{_CAST}\s*=\s*\(*(?P<lit>N?'(?:[^']|'')*'{_CAST}|-?\d+)\)*\s*$",
                     re.IGNORECASE | re.DOTALL)


def _or_chain(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``(v = 'A' OR v = 'B')``: every part compares the same column with one literal."""
    column: str | None = None
    values: list[str] = []
    for part in re.split(r"\s+OR\s+", text, flags=re.IGNORECASE):
        m = _EQUALS.match(part.strip())
        if not m or (column is not None and m.group("col") != column):
            return None
        column = m.group("col")
        values.extend(_literals(m.group("lit")) or ())
    return (column, tuple(values)) if column and values else None


def _literals(body: str) -> tuple[str, ...] | None:
    values: list[str] = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        m = _LITERAL.match(body, pos)
        if not m or m.end() == pos:
            return None
        values.append(m.group("text").replace("''", "'") if m.group("text") is not None else m.group("num"))
        pos = m.end()
    return tuple(values) or None


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0
