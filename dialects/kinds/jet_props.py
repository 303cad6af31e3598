"""Design properties of an Access table and its columns (the ``LvProp`` blob of ``MSysObjects``).

What a designer typed in Access's table design view lives here, not in the TDEF: each column's
``Description``, ``Required``, ``Format``, the lookup (``RowSourceType``, ``RowSource``,
``BoundColumn``, ``ColumnCount``), a calculated field's ``Expression``, and the table's own
``Description``. Layout (mdbtools' HACKING.md, "Properties"): ``KKD\\0`` (Jet 3) or ``MR2\\0``, then
chunks of (length, type): type 0x80 lists the property names; types 0 and 1 hold one object's
values each (0 the table, 1 a column, named), as (length, DDL flag, type, name index, value).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

Props = dict[str, dict[str, Any]]
"""Object name ('' for the table itself) -> property name -> value."""


def parse_props(blob: bytes, text: Callable[[bytes], str]) -> Props:
    """The properties in ``blob``; ``text`` decodes the file's text. A damaged blob gives what was
    read before the damage (properties are descriptions, never data)."""
    out: Props = {}
    if blob[:4] not in (b"KKD\x00", b"MR2\x00"):
        return out
    names: list[str] = []
    pos = 4
    try:
        while pos + 6 <= len(blob):
            length, kind = struct.unpack_from("<IH", blob, pos)
            if length < 6 or pos + length > len(blob):
                break
            chunk = blob[pos + 6:pos + length]
            if kind == 0x80:
                names = _names(chunk, text)
            elif kind in (0, 1):
                name, values = _values(chunk, names, text)
                out.setdefault(name if kind == 1 else "", {}).update(values)
            pos += length
    except (struct.error, UnicodeDecodeError, ValueError):
        pass
    return out


def _names(chunk: bytes, text: Callable[[bytes], str]) -> list[str]:
    names, pos = [], 0
    while pos + 2 <= len(chunk):
        length = struct.unpack_from("<H", chunk, pos)[0]
        names.append(text(chunk[pos + 2:pos + 2 + length]))
        pos += 2 + length
    return names


def _values(chunk: bytes, names: list[str], text: Callable[[bytes], str]) -> tuple[str, dict[str, Any]]:
    size, name_length = struct.unpack_from("<IH", chunk, 0)
    name = text(chunk[6:6 + name_length])
    pos, values = max(size, 6 + name_length), {}  # the header's length counts itself and the name
    while pos + 8 <= len(chunk):
        length, _ddl, kind, index, value_length = struct.unpack_from("<HBBHH", chunk, pos)
        if length < 8:
            break
        value = chunk[pos + 8:pos + 8 + value_length]
        if index < len(names):
            values[names[index]] = _value(kind, value, text)
        pos += length
    return name, values


def _value(kind: int, value: bytes, text: Callable[[bytes], str]) -> Any:
    if kind == 0x01:
        return bool(value[:1] != b"\x00")
    if kind in (0x02, 0x03, 0x04) and len(value) in (1, 2, 4):
        return int.from_bytes(value, "little", signed=kind != 0x02)
    if kind in (0x0A, 0x0C):
        return text(value)
    return bytes(value)
