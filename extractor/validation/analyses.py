"""Arkade 5's analyses (A.01-A.10): information about the data, never errors.

Each class follows ``Base/Addml/Processes/A_nn_Analyse*.cs``. Frequency lists keep their counts in
the key store (they can hold every distinct value) and report the most frequent values.
"""

from __future__ import annotations

from .addml_model import FieldDef
from .datatypes import astral_free, blank, joined, net_len, none_blank_start, parse_big_integer
from .findings import INFO
from .flatfile_read import Record
from .keystore import Counter
from .processes import FileCtx, Process, RunState

TOP_VALUES = 20
"""Values listed per field by the frequency analyses (with the number of distinct values)."""


class CountRecords(Process):
    id = "A.01"

    def on_file(self, fc: FileCtx) -> None:
        self.n = 0
        self.fc: FileCtx | None = fc

    def on_record(self, rec: Record) -> None:
        self.n += 1

    def end_of_file(self) -> None:
        if getattr(self, "fc", None) is not None:
            self.add(INFO, f"Total: {self.n} records")
            self.fc = None


class CountChars(Process):
    id = "A.02"

    def on_file(self, fc: FileCtx) -> None:
        self.n = 0
        self.fc: FileCtx | None = fc

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        self.n += net_len(value)

    def on_column(self, fd: FieldDef, values: list[str], recs: list[Record]) -> None:
        if values and astral_free(values):
            self.n += len(joined(values)) - (len(values) - 1)  # the text less its separators
        else:
            self.n += sum(map(net_len, values))

    def end_of_file(self) -> None:
        if getattr(self, "fc", None) is not None:
            self.add(INFO, f"{self.n} characters")
            self.fc = None


class _PerKey(Process):
    """Per record definition or per field state, reported and cleared at the end of each file."""

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.per: dict[tuple[str, str], list[int]] = {}


class FindExtremeRecords(_PerKey):
    id = "A.03"

    def on_record(self, rec: Record) -> None:
        mm = self.per.setdefault((rec.rdef.file, rec.rdef.name), [rec.length, rec.length])
        mm[0] = min(mm[0], rec.length)
        mm[1] = max(mm[1], rec.length)

    def end_of_file(self) -> None:
        for (_f, r), (lo, hi) in self.per.items():
            self.findings.add(self.id, INFO, f"{r}: longest/shortest record: {hi}/{lo}", file=self.state.file)
        self.per.clear()


class CountRecordDefinitionOccurrences(_PerKey):
    id = "A.04"

    def on_record(self, rec: Record) -> None:
        self.per.setdefault((rec.rdef.file, rec.rdef.name), [0])[0] += 1

    def end_of_file(self) -> None:
        for (_f, r), (n,) in self.per.items():
            self.findings.add(self.id, INFO, f"{r}: {n} records", file=self.state.file)
        self.per.clear()


class _Frequencies(Process):
    only_with_codes = False

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.counters: dict[str, Counter] = {}

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        if self.only_with_codes and not fd.codes:
            return
        c = self.counters.get(fd.name)
        if c is None:
            c = self.counters[fd.name] = self.state.keys.counter()
        c.add(value)

    def on_column(self, fd: FieldDef, values: list[str], recs: list[Record]) -> None:
        if self.only_with_codes and not fd.codes:
            return
        c = self.counters.get(fd.name)
        if c is None:
            c = self.counters[fd.name] = self.state.keys.counter()
        c.add_many(values)

    def end_of_file(self) -> None:
        for name, c in self.counters.items():
            distinct, top = c.top(TOP_VALUES)
            self.findings.add(self.id, INFO, f"{distinct} distinct values; the {len(top)} most frequent follow",
                              file=self.state.file, field=name)
            for value, count in top:
                self.findings.add(self.id, INFO, f"{count} occurrences of {value!r}", file=self.state.file, field=name,
                                  value=value)
            c.close()
        self.counters.clear()


class AllFrequenceList(_Frequencies):
    id = "A.05"
    only_with_codes = True


class FrequenceList(_Frequencies):
    id = "A.10"


class CountNull(Process):
    id = "A.07"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.per: dict[str, list[int]] = {}

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        counts = self.per.setdefault(fd.name, [0, 0])
        if fd.dtype is not None and fd.dtype.is_null_value(value):
            counts[0] += 1
        elif blank(value):
            counts[1] += 1

    def on_column(self, fd: FieldDef, values: list[str], recs: list[Record]) -> None:
        nulls = fd.dtype.null_values if fd.dtype is not None else frozenset()
        if nulls:
            super().on_column(fd, values, recs)
            return
        counts = self.per.setdefault(fd.name, [0, 0])
        empty = values.count("")
        if empty == len(values):
            counts[1] += empty
        elif none_blank_start([v for v in values if v] if empty else values):
            counts[1] += empty  # the only blank values are the empty ones
        else:
            counts[1] += sum(map(blank, values))

    def end_of_file(self) -> None:
        for name, (listed, empty) in self.per.items():
            self.findings.add(self.id, INFO, f"{listed + empty} occurrences of null ({listed} listed in nullValues, "
                                             f"{empty} empty or blank)", file=self.state.file, field=name)
        self.per.clear()


def _widen(per: dict[str, list[int]], name: str, lo: int, hi: int) -> None:
    """Widen the field's [lowest, highest] to take in ``lo`` and ``hi`` (A.08 lengths, A.09 values)."""
    mm = per.get(name)
    if mm is None:
        per[name] = [lo, hi]
    else:
        mm[0] = min(mm[0], lo)
        mm[1] = max(mm[1], hi)


class FindExtremeValues(Process):
    id = "A.08"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.per: dict[str, list[int]] = {}

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        n = net_len(value)
        _widen(self.per, fd.name, n, n)

    def on_column(self, fd: FieldDef, values: list[str], recs: list[Record]) -> None:
        if not values:
            return
        lengths = list(map(len if astral_free(values) else net_len, values))
        _widen(self.per, fd.name, min(lengths), max(lengths))

    def end_of_file(self) -> None:
        for name, (lo, hi) in self.per.items():
            self.findings.add(self.id, INFO, f"Longest/shortest value: {hi}/{lo}", file=self.state.file, field=name)
        self.per.clear()


class FindMinMaxValue(Process):
    id = "A.09"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self.per: dict[str, list[int]] = {}

    def on_field(self, fd: FieldDef, value: str, rec: Record) -> None:
        n = parse_big_integer(value)
        if n is None:
            return
        _widen(self.per, fd.name, n, n)

    def end_of_file(self) -> None:
        for name, (lo, hi) in self.per.items():
            self.findings.add(self.id, INFO, f"Lowest/highest value: {lo}/{hi}", file=self.state.file, field=name)
        self.per.clear()
