"""uttrekk's own checks on the data, run on every file whatever processes addml.xml names.

- U.03: bytes the declared charset does not allow (C1 controls 0x80-0x9F in ISO 8859 text, which
  is usually Windows-1252 mislabelled; undecodable UTF-8), located by file, record and field.
- U.04: NULL and empty told apart the way the extract writes them: an unquoted empty field (or an
  all-blank fixed-width field) is NULL and breaks ``notNull``; a quoted ``""`` is empty text, which
  a number, date or boolean field cannot hold.
- U.05: foreign keys with SQL's meaning: a key with an empty (NULL) part refers to nothing and is
  not checked; every other value must exist among the referenced values. Arkade's A.16 instead
  counts empty values as unresolved.
- The key collector gathers the referenced values (Arkade's internal AI.01 does the same for A.16).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import repeat

from .addml_model import FieldDef, KeyDef, RecordDef
from .findings import ERROR, WARNING
from .flatfile_read import Record
from .keystore import ValueSet
from .processes import KEY_SEP, FileCtx, Process, RunState, key_value, shown_key

TEXT_TYPES = ("string", "link")
BATCH = 1024
"""Foreign-key values gathered before they go to their set in one call."""


def bad_char_message(c: str, charset: str) -> str:
    if "\udc80" <= c <= "\udcff":
        return f"byte 0x{ord(c) - 0xDC00:02X} is not valid {charset}"
    if c == "\ufffd":
        return f"bytes that are not valid {charset}"
    return (f"byte 0x{ord(c):02X} is a C1 control character, not text, in {charset} "
            "(Windows-1252 text declared as ISO-8859-1?)")


class Charset(Process):
    id = "U.03"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.charset = ""
        self.pattern: re.Pattern[str] | None = None

    def on_file(self, fc: FileCtx) -> None:
        from .flatfile_read import bad_char_pattern

        assert fc.fdef.ftype is not None and fc.fdef.ftype.codec is not None
        self.charset = fc.fdef.ftype.charset
        self.pattern = bad_char_pattern(fc.fdef.ftype.codec)

    def on_record(self, rec: Record) -> None:
        if not rec.suspect or self.pattern is None:
            return
        for fd in rec.rdef.fields:
            value = rec.values[fd.index]
            m = self.pattern.search(value)
            if m:
                self.add(ERROR, bad_char_message(m.group(), self.charset), record=rec.number, field=fd.name, value=value)

    def on_text(self, text: str, record: int | None) -> None:
        """A record that could not be cut into fields: report its first bad byte without a field."""
        if self.pattern is None:
            return
        m = self.pattern.search(text)
        if m:
            self.add(ERROR, bad_char_message(m.group(), self.charset), record=record, value=text)


class NullAndEmpty(Process):
    id = "U.04"

    def on_file(self, fc: FileCtx) -> None:
        self.fixed = fc.fixed
        self.companions: dict[int, dict[str, FieldDef]] = {}
        for r in fc.fdef.records:
            names = {f.name.lower(): f for f in r.fields}
            self.companions[id(r)] = {f.name: names[f.name.lower() + "_lengde"] for f in r.fields
                                      if f.name.lower() + "_lengde" in names}

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        if self.fixed:
            if not fd.not_null or all(map(str.strip, values, repeat(" "))):
                return []
            return [k for k, v in enumerate(values) if not v.strip(" ")]
        if all(values):
            return []
        return [k for k, v in enumerate(values) if not v]

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        if self.fixed:
            # All blanks is NULL or empty text; only uttrekk's <field>_lengde tells them apart (blank = NULL).
            companion = self.companions.get(id(rec.rdef), {}).get(fd.name)
            if fd.not_null and companion is not None and not value.strip(" ") \
                    and not rec.values[companion.index].strip(" "):
                self.add(ERROR, f"NULL (all blanks, and {companion.name} is empty) in a notNull field",
                         record=rec.number, field=fd.name, value=value)
            return
        if value != "":
            return
        quoted = rec.quoted is not None and rec.quoted[fd.index]
        if not quoted:
            if fd.not_null:
                self.add(ERROR, "NULL (an empty field without quotes) in a notNull field", record=rec.number,
                         field=fd.name, value=value)
        elif fd.dtype is not None and fd.dtype.data_type not in TEXT_TYPES:
            self.add(WARNING, f'empty text ("") in a {fd.dtype.data_type} field; NULL is an empty field without quotes',
                     record=rec.number, field=fd.name, value=value)


class KeyCollector:
    """Gathers the values of some fields of one record type (field order) into a shared set.

    ``strip`` takes fixed-width padding off each part (U.05 compares values, Arkade's A.16 the
    padded text).
    """

    def __init__(self, state: RunState, rdef: RecordDef, fields: list[FieldDef], strip: bool = False) -> None:
        self.fields = sorted(fields, key=lambda f: f.index)
        self.strip = strip
        key = (id(rdef), tuple(f.index for f in self.fields), strip)
        found = state.pk_sets.get(key)
        if found is None:
            found = state.pk_sets[key] = state.keys.values()
        self.values: ValueSet = found
        self.single = self.fields[0].index if len(self.fields) == 1 else -1
        self.add = self.values.add

    def on_record(self, rec: Record) -> None:
        values = rec.values
        if self.single >= 0:
            value = values[self.single]
            self.add(value.strip(" ") if self.strip else value, rec.number)
        elif self.strip:
            self.values.add(KEY_SEP.join(values[f.index].strip(" ") for f in self.fields), rec.number)
        else:
            self.values.add(key_value(values, self.fields), rec.number)


@dataclass
class _Watch:
    rdef: RecordDef
    key: KeyDef
    target: RecordDef
    fields: list[FieldDef]
    collector: KeyCollector
    values: ValueSet
    strip: bool
    file: str | None = None
    indexes: list[int] = field(default_factory=list)
    single: int = -1
    pending: list[str] = field(default_factory=list)
    records: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.indexes = [f.index for f in self.fields]
        self.single = self.indexes[0] if len(self.indexes) == 1 else -1

    def flush(self) -> None:
        """Hand the gathered values to the set in one call."""
        if self.records:
            self.values.add_many(self.pending, self.records)
            self.pending, self.records = [], []


class ForeignKeys(Process):
    id = "U.05"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.by_record: dict[int, list[_Watch]] = {}

    def watch(self, rdef: RecordDef, key: KeyDef, target: RecordDef, collector: KeyCollector, strip: bool) -> None:
        """Check ``key`` of ``rdef`` against ``target`` (whose values ``collector`` gathers); strip fixed-width padding."""
        pairs = [(rdef.field(a), target.field(b)) for a, b in zip(key.fields, key.ref_fields, strict=True)]
        ordered = [src for src, dst in sorted(pairs, key=lambda p: p[1].index if p[1] else 0) if src is not None]
        self.by_record.setdefault(id(rdef), []).append(
            _Watch(rdef, key, target, ordered, collector, self.state.keys.values(), strip))

    def on_record(self, rec: Record) -> None:
        watches = self.by_record.get(id(rec.rdef))
        if not watches:
            return
        values = rec.values
        quoted = rec.quoted
        for w in watches:
            i = w.single
            if i >= 0:
                value = values[i]
                if w.strip:
                    value = value.strip(" ")
                    if not value:
                        continue
                elif not value and (quoted is None or not quoted[i]):
                    continue
            else:
                if w.strip:
                    parts = [values[i].strip(" ") for i in w.indexes]
                    if not all(parts):
                        continue
                else:
                    parts = [values[i] for i in w.indexes]
                    if not all(parts) and any(p == "" and (quoted is None or not quoted[i])
                                              for p, i in zip(parts, w.indexes, strict=True)):
                        continue
                value = KEY_SEP.join(parts)
            if w.file is None:
                w.file = self.state.file
            w.pending.append(value)
            w.records.append(rec.number)
            if len(w.records) >= BATCH:
                w.flush()

    def finish(self) -> None:
        for watches in self.by_record.values():
            for w in watches:
                w.flush()
        for watches in self.by_record.values():
            for w in watches:
                names = ", ".join(f.name for f in w.fields)
                ref = f"{w.target.file}/{w.target.name} ({', '.join(w.key.ref_fields)})"
                if len(w.values) == 0:
                    pass
                elif id(w.target) not in self.state.read_records:
                    self.add(ERROR, f"{w.rdef.name} ({names}) refers to {ref}, which was not read; "
                                    f"{len(w.values)} value(s) could not be checked", file=w.file, field=names)
                else:
                    for value, record in w.values.missing_from(w.collector.values):
                        self.add(ERROR, f"{w.rdef.name} ({names}) = [{shown_key(value)}] does not exist in {ref}",
                                 file=w.file, record=record, field=names, value=shown_key(value))
                w.values.close()

