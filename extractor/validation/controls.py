"""Arkade 5's controls (A.11-A.36), with Arkade's semantics.

Each class follows ``Base/Addml/Processes/A_nn_Control*.cs``. Where Arkade reports an error only
because a value is NULL in a field that allows NULL (A.16, A.17, A.21, A.22, A.32-A.34), the
finding is counted under the same id as a warning; see docs/validate.md. Value checks have a
``candidates`` filter: a cheap pass over a column of values that finds the few worth checking.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from .addml_model import FieldDef, KeyDef, RecordDef
from .datatypes import (
    NET_WHITESPACE,
    account_number_ok,
    astral_free,
    birth_number_ok,
    blank,
    net_len,
    none_blank_start,
    organisation_number_ok,
)
from .findings import ERROR, INFO, NULL_NOTE, WARNING
from .flatfile_read import Record
from .keystore import UniqueTracker, ValueSet
from .processes import KEY_SEP, FileCtx, Process, RunState, key_value, shown_key

BATCH = 1024
"""Key values a record-level control gathers before it hands them to its key set in one call."""
_number = attrgetter("number")

# --- controls on records ---

class AllFixedLength(Process):
    id = "A.11"

    def on_record(self, rec: Record) -> None:
        want = rec.rdef.fixed_length
        if want is not None and rec.length != want:
            self.add(ERROR, f"{rec.rdef.name}: mismatch between given record length ({want}) and actual record "
                            f"length ({rec.length})", record=rec.number)


class FixedLength(AllFixedLength):
    id = "A.13"


class NumberOfRecords(Process):
    id = "A.12"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.n = 0
        self.fc: FileCtx | None = None

    def on_file(self, fc: FileCtx) -> None:
        self.n = 0
        self.fc = fc

    def on_record(self, rec: Record) -> None:
        self.n += 1

    def end_of_file(self) -> None:
        fc = self.fc
        if fc is None:
            return
        self.fc = None
        expected = fc.flat.declared_records
        if expected is None:
            self.add(ERROR, "Expected number of records not specified. Unable to control number of records")
        elif expected > 0:
            if expected == self.n:
                self.add(INFO, f"Number of records ({expected}) matched")
            else:
                self.add(ERROR, f"Number of records did not match. Expected {expected}, found {self.n}")
        elif self.n > 0:
            self.add(WARNING, f"numberOfOccurrences is 0 but the file has {self.n} records; Arkade 5 does not compare "
                              "when the expected number is 0")


class NotUsedRecordDef(Process):
    id = "A.14"

    def on_file(self, fc: FileCtx) -> None:
        self.used = {r.name: False for r in fc.fdef.records}

    def on_record(self, rec: Record) -> None:
        if hasattr(self, "used"):
            self.used[rec.rdef.name] = True

    def end_of_file(self) -> None:
        for name, used in getattr(self, "used", {}).items():
            if not used:
                self.add(ERROR, f"{name}: the record type is not in use")
        self.used = {}


class _Pending:
    """Key values of one record type waiting to go to their set in one call (``add_many``)."""

    __slots__ = ("rdef", "index", "fields", "values", "records")

    def __init__(self, rdef: RecordDef, fields: list[FieldDef]) -> None:
        self.rdef = rdef
        self.fields = fields
        self.index = fields[0].index if len(fields) == 1 else -1
        self.values: list[str] = []
        self.records: list[int] = []

    def take(self, rec: Record) -> int:
        self.values.append(rec.values[self.index] if self.index >= 0 else key_value(rec.values, self.fields))
        self.records.append(rec.number)
        return len(self.records)

    def drain(self) -> tuple[list[str], list[int]]:
        values, records = self.values, self.records
        self.values, self.records = [], []
        return values, records


class ControlKey(Process):
    id = "A.15"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.trackers: dict[str, tuple[RecordDef, UniqueTracker]] = {}
        self.pending: dict[str, _Pending] = {}

    def on_record(self, rec: Record) -> None:
        p = self.pending.get(rec.rdef.name)
        if p is None:
            p = self.pending[rec.rdef.name] = _Pending(rec.rdef, rec.rdef.pk_fields)
            self.trackers.setdefault(rec.rdef.name, (rec.rdef, self.state.keys.unique()))
        if p.take(rec) >= BATCH:
            self._flush(p)

    def _flush(self, p: _Pending) -> None:
        values, records = p.drain()
        if not values:
            return
        for k, first in self.trackers[p.rdef.name][1].add_many(values, records):
            self._report(p.rdef, values[k], first, [records[k]], 1)

    def _report(self, rdef: RecordDef, value: str, first: int, later: list[int], count: int) -> None:
        fields = ", ".join(f.name for f in rdef.pk_fields) or "(no primary key)"
        self.findings.add(self.id, ERROR, f"{rdef.name}: the following primary key values are not unique: "
                                          f"{shown_key(value)} (records {first} and {', '.join(map(str, later))})",
                          file=self.state.file, record=later[0] if later else None, field=fields, value=shown_key(value),
                          records=(first, *later), count=count)

    def end_of_file(self) -> None:
        for p in self.pending.values():
            self._flush(p)
        self.pending.clear()
        for rdef, tracker in self.trackers.values():
            for value, first, later, count in tracker.spilled_repeats():
                self._report(rdef, value, first, later, count)
            tracker.close()
        self.trackers.clear()


class ControlForeignKey(Process):
    """A.16: FK values (distinct, as Arkade keeps them) against the primary keys Arkade collects (AI.01)."""

    id = "A.16"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.keys: dict[tuple[int, int], tuple[str, RecordDef, KeyDef, list[FieldDef], ValueSet]] = {}
        self.targets: dict[tuple[int, int], RecordDef | None] = {}
        self.fixed: dict[tuple[int, int], bool] = {}
        self.by_record: dict[int, list[tuple[_Pending, ValueSet]]] = {}

    def _start(self, rdef: RecordDef) -> list[tuple[_Pending, ValueSet]]:
        found = []
        for n, key in enumerate(rdef.keys):
            if key.kind != "foreign":
                continue
            slot = (id(rdef), n)
            entry = self.keys.get(slot)
            if entry is None:
                fields = [f for f in rdef.fields if f.name.lower() in {k.lower() for k in key.fields}]
                entry = self.keys[slot] = (self.state.file or "", rdef, key, fields, self.state.keys.values())
                self.fixed[slot] = bool(self.state.current and self.state.current.fixed)
            found.append((_Pending(rdef, entry[3]), entry[4]))
        self.by_record[id(rdef)] = found
        return found

    def on_record(self, rec: Record) -> None:
        found = self.by_record.get(id(rec.rdef))
        if found is None:
            found = self._start(rec.rdef)
        for p, values in found:
            if p.take(rec) >= BATCH:
                values.add_many(*p.drain())

    def end_of_file(self) -> None:
        self._flush()

    def _flush(self) -> None:
        for found in self.by_record.values():
            for p, values in found:
                values.add_many(*p.drain())
        self.by_record.clear()

    def finish(self) -> None:
        self._flush()
        for slot, (file, _rdef, key, fields, values) in self.keys.items():
            names = ", ".join(f.name for f in fields)
            target = self.targets.get(slot)
            pk = self.state.pk_sets.get((id(target), tuple(f.index for f in target.pk_fields), False)) if target else None
            ref = f"{key.ref_file}/{key.ref_record}/{'|'.join(key.ref_fields)}"
            if target is None or pk is None or [n.lower() for n in key.ref_fields] != \
                    [f.name.lower() for f in target.pk_fields]:
                self.findings.add(self.id, ERROR, f"Invalid foreign key: Can not find any values for the field {ref}",
                                  file=file, field=names)
                values.close()
                continue
            for value, record in values.missing_from(pk):
                parts = value.split(KEY_SEP)
                null = any(not (p.strip(" ") if self.fixed[slot] else p) and f.nullable
                           for p, f in zip(parts, fields, strict=False))
                many = "s" if len(fields) > 1 else ""
                msg = (f"Invalid foreign key: The value{many} [{shown_key(value)}] does not exist in the referred "
                       f"field{many} {ref}")
                self.findings.add(self.id, WARNING if null else ERROR, f"{msg} ({NULL_NOTE})" if null else msg,
                                  file=file, record=record, field=names, value=shown_key(value))
            values.close()


# --- controls on values ---


class MinLength(Process):
    id = "A.17"

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        m = fd.min_length
        if m is None or not values or min(map(len, values)) >= m:  # net_len is never below len
            return []
        return [k for k, v in enumerate(values) if len(v) < m]

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        if fd.min_length is not None and net_len(value) < fd.min_length:
            self.add_value(rec, fd, value, f"Value shorter than the minimum length {fd.min_length}")


class MaxLength(Process):
    id = "A.18"

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        m = fd.max_length
        if m is None or not values:
            return []
        longest = max(map(len, values))
        if longest * 2 <= m or (longest <= m and astral_free(values)):  # net_len is len, or at most twice it
            return []
        return [k for k, v in enumerate(values) if len(v) > m or (2 * len(v) > m and not v.isascii())]

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        if fd.max_length is not None and net_len(value) > fd.max_length:
            self.add_value(rec, fd, value, f"Value longer than the maximum length {fd.max_length}", ERROR)


class DataFormat(Process):
    id = "A.19"

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        return [] if fd.dtype is None else fd.dtype.failures(values)

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        dt = fd.dtype
        if dt is not None and not dt.valid(value, fd.nullable):
            fmt = f" {dt.fmt!r}" if dt.fmt else ""
            self.add_value(rec, fd, value, f"Invalid data format: not a valid {dt.data_type}{fmt}", ERROR)


class NotNull(Process):
    id = "A.20"

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        if not fd.not_null or none_blank_start(values):
            return []
        return [k for k, v in enumerate(values) if not v or v[0] in NET_WHITESPACE]

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        if fd.not_null and blank(value) and not (fd.dtype is not None and fd.dtype.is_null_value(value)):
            self.add_value(rec, fd, value, "NULL values exists", ERROR)


class Uniqueness(Process):
    id = "A.21"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.trackers: dict[str, tuple[FieldDef, UniqueTracker]] = {}

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        entry = self.trackers.get(fd.name)
        if entry is None:
            entry = self.trackers[fd.name] = (fd, self.state.keys.unique())
        first = entry[1].add(value, rec.number)
        if first is not None:
            self._report(fd, value, first, [rec.number], 1, self.state.severity(rec, fd))

    def on_column(self, fd: FieldDef, values: list[str], recs: list[Record]) -> None:
        """``on_field`` for each value, with the tracker's dict work done in one loop."""
        entry = self.trackers.get(fd.name)
        if entry is None:
            entry = self.trackers[fd.name] = (fd, self.state.keys.unique())
        for k, first in entry[1].add_many(values, list(map(_number, recs))):
            rec = recs[k]
            self._report(fd, values[k], first, [rec.number], 1, self.state.severity(rec, fd))

    def _report(self, fd: FieldDef, value: str, first: int, later: list[int], count: int, severity: str) -> None:
        msg = f"{value!r} is not a unique value (records {first} and {', '.join(map(str, later))})"
        self.findings.add(self.id, severity, msg if severity == ERROR else f"{msg} ({NULL_NOTE})", file=self.state.file,
                          record=later[0] if later else None, field=fd.name, value=value, records=(first, *later),
                          count=count)

    def end_of_file(self) -> None:
        for fd, tracker in self.trackers.values():
            for value, first, later, count in tracker.spilled_repeats():
                null = fd.nullable and (value == "" if not (self.state.current and self.state.current.fixed)
                                        else not value.strip(" "))
                self._report(fd, value, first, later, count, WARNING if null else ERROR)
            tracker.close()
        self.trackers.clear()


class Codes(Process):
    id = "A.22"

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        codes = fd.codes
        if codes is None or codes.issuperset(values):
            return []
        return [k for k, v in enumerate(values) if v not in codes]

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        if fd.codes is not None and value not in fd.codes:
            self.add_value(rec, fd, value, "Used code not present in the codelist")


class _CheckDigits(Process):
    verify: Callable[[str], bool] = staticmethod(lambda s: True)  # type: ignore[assignment]
    what = ""

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        if not type(self).verify(value):
            self.add_value(rec, fd, value, f"Invalid {self.what}")


class BirthNumber(_CheckDigits):
    id = "A.32"
    verify = staticmethod(birth_number_ok)
    what = "birth number"


class OrganisationNumber(_CheckDigits):
    id = "A.33"
    verify = staticmethod(organisation_number_ok)
    what = "organisation number"


class AccountNumber(_CheckDigits):
    id = "A.34"
    verify = staticmethod(account_number_ok)
    what = "account number"


class DateValue(Process):
    id = "A.35"

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        dt = fd.dtype
        return [] if dt is None or dt.data_type != "date" else dt.failures(values)

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        dt = fd.dtype
        if dt is not None and dt.data_type == "date" and not dt.valid(value, fd.nullable):
            self.add_value(rec, fd, value, f"Value not validated as date with format {dt.fmt!r}", ERROR)


class BooleanValue(Process):
    id = "A.36"

    def candidates(self, fd: FieldDef, values: list[str]) -> list[int] | None:
        dt = fd.dtype
        return [] if dt is None or dt.data_type != "boolean" else dt.failures(values)

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        dt = fd.dtype
        if dt is not None and dt.data_type == "boolean" and not dt.valid(value, fd.nullable):
            self.add_value(rec, fd, value, f"Found non-boolean value (format {dt.fmt!r})", ERROR)
