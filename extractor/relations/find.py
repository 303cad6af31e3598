"""Relations the source does not declare, found in its data (``uttrekk inspect --keys``).

Old business systems rarely declare foreign keys, yet an archive extract should name them. The set
operations run on the server (one statistics query per table, one inclusion query per source
column), so millions of rows are checked in minutes and nothing here grows with the data. A wrong
relation costs a person's time, so a pair is reported only with evidence that shows it is no
accident, and always as a candidate for a person to confirm in the profile.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ProfileError, SourceError
from ..model import Column, Table
from ..profile import Profile
from ..source_dialect import SourceDialect
from .candidates import CONFIDENCES, Candidate, ColumnStats, Key, Progress, Relations, listed
from .names import NAME_KEY, NAME_KEYLIKE, NAME_NONE, NAME_TABLE, counter_like, key_like, name_evidence

MAX_TEXT_LENGTH = 255
"""Longest declared text a source column may have; longer text is prose, not a reference."""
MIN_COVERAGE_NAMED = 0.8
"""Share of its distinct values a column must find in a key it names, when some dangle."""
CHANCE_LIMIT = 1e-6
"""A column with no name evidence is reported only when its values fit a key this unlikely by chance."""
SPREAD_LIMIT = 1e-6
"""Without a name that ties it to the table, an integer column whose values crowd into a part of a
key's range this unlikely for references spread over the key (a counter from 1 in a large id range)
does not refer to that key."""
MIN_DISTINCT_UNNAMED_TEXT = 5
"""Fewest distinct values of a text column with no name evidence (a few letters fit any code list)."""
FIT_RATIO = 1000.0
"""How much likelier one key must make the values than another before the other is set aside."""
MAX_AMBIGUOUS = 3
"""Most keys a column may fit equally well and still be shown; values that fit more say nothing."""
JOINS_PER_QUERY = 12
"""Keys compared with one source column in one query."""
EXAMPLES = 5
"""Orphan values shown per relation."""

def _family(dialect: SourceDialect, col: Column, any_length: bool = False) -> str | None:
    """``integer`` or ``text`` for a column that can hold a reference, else None: what the dialect
    can compare (``comparable_as``), and text no longer than ``MAX_TEXT_LENGTH`` unless it is a key."""
    family = dialect.comparable_as(col)
    if family == "text" and not any_length and col.length is not None and col.length > MAX_TEXT_LENGTH:
        return None
    return family


def _numeric_text(s: ColumnStats) -> bool:
    return all(isinstance(v, str) and v.strip().lstrip("-").isdigit() for v in (s.low, s.high))


# -- inference ------------------------------------------------------------------------------------


@dataclass
class _Pair:
    key: Key
    level: int
    reason: str
    chance: float | None
    implied: bool
    """The statistics settle it: the key holds every integer of its range, and the column's values lie in it."""


def find_relations(dialect: SourceDialect, profile: Profile | None = None, schema: str | None = None, views: bool = False,
                   progress: Progress | None = None) -> Relations:
    """Candidate foreign keys of the source, each with its evidence, in one read snapshot."""
    started = time.monotonic()
    profile = profile or Profile()
    say = progress or (lambda _message: None)
    where = dialect.locate(schema, views)
    reflected = dialect.reflect(where.schema, views)
    engine = reflected.engine
    tables = [t for t in reflected.tables if not profile.table(t.name).exclude]
    if not reflected.tables:
        raise SourceError(where.nothing)
    if not tables:
        raise SourceError(f"{dialect.label}: the profile excludes every table; nothing to look at")
    by_name = {t.name: t for t in tables}
    profile_pks, known = _profile_facts(profile, {t.name: t for t in reflected.tables})
    for t in tables:
        for fk in t.foreign_keys:
            known.update((t.name, c) for c in fk.columns)

    def usable(t: Table, col: Column) -> bool:
        cp = profile.table(t.name).columns.get(col.name)
        return not (cp and cp.exclude)

    result = Relations(dialect.label, engine, len(tables), 0, 0, 0, 0, 0, 0, 0.0)
    if where.note:
        result.notes.append(where.note)
    with dialect.snapshot():
        stats: dict[tuple[str, str], ColumnStats] = {}
        declared: dict[tuple[str, str], str] = {}
        for i, t in enumerate(tables, 1):
            for names, origin in ((t.primary_key, "primary key"), *((u, "unique constraint") for u in t.unique_keys)):
                if len(names) == 1:
                    declared.setdefault((t.name, names[0]), origin)
            wanted: dict[str, tuple[Column, str]] = {}
            for col in t.columns:
                if not usable(t, col):
                    continue
                fam = _family(dialect, col, any_length=(t.name, col.name) in declared)
                if fam is not None:
                    wanted[col.name] = (col, fam)
            say(f"statistics {i}/{len(tables)}: {t.name}")
            total, found = dialect.column_statistics(t, list(wanted), [n for n in wanted if (t.name, n) in declared])
            result.queries += 1
            result.rows += total
            for name, (non_null, distinct, low, high) in found.items():
                col, fam = wanted[name]
                stats[t.name, name] = ColumnStats(t.name, name, fam, col.native_type, total, non_null, distinct, low, high)
        keys, identity = _keys(tables, stats, declared, profile_pks)
        result.keys = len(keys)
        plans: list[tuple[ColumnStats, list[_Pair]]] = []
        for t in tables:
            for col in t.columns:
                s = stats.get((t.name, col.name))
                if s is None or s.distinct == 0 or (t.name, col.name) in known:
                    continue
                pairs = _pairs(s, keys, own_key=(t.name, col.name) in identity)
                if pairs:
                    plans.append((s, pairs))
        result.columns = len(plans)
        found_all: list[Candidate] = []
        settle = dialect.typed_values  # else a column's type says nothing of its values: the server decides every pair
        for i, (s, pairs) in enumerate(plans, 1):
            say(f"comparing {i}/{len(plans)}: {s.name} with {len(pairs)} key(s)")
            table = by_name[s.table]
            results: list[tuple[_Pair, tuple[int, int, int, int]]] = []
            asked = [p for p in pairs if not (settle and p.implied)]
            results += [(p, (s.distinct, s.non_null, 0, 0)) for p in pairs if settle and p.implied]
            result.settled += len(pairs) - len(asked)
            for start in range(0, len(asked), JOINS_PER_QUERY):
                batch = asked[start:start + JOINS_PER_QUERY]
                counts = dialect.key_inclusion(table, s.column, [(by_name[p.key.stats.table], p.key.stats.column)
                                                                 for p in batch])
                result.queries += 1
                result.pairs += len(batch)
                results += zip(batch, counts, strict=True)
            for p, (distinct, rows, orphan_values, orphan_rows) in results:
                cand = Candidate(s.table, s.column, p.key.stats.table, p.key.stats.column, distinct, rows,
                                 orphan_values, orphan_rows, p.level, p.reason, p.key.origin,
                                 p.key.stats.distinct, s.native_type == p.key.stats.native_type, p.chance)
                if _reported(cand):
                    found_all.append(cand)
        result.candidates, dropped = _resolve(found_all)
        if dropped:
            result.notes.append(f"not reported: {len(dropped)} column(s) whose values fit more than {MAX_AMBIGUOUS} keys "
                                f"equally well, which says nothing: {listed(dropped)}")
        for c in result.candidates:
            if c.orphan_values:
                values = dialect.values_not_in(by_name[c.table], c.column, by_name[c.ref_table], c.ref_column, EXAMPLES)
                result.queries += 1
                c.examples = tuple(str(v).rstrip() if isinstance(v, str) else str(v) for v in values)
    result.seconds = time.monotonic() - started
    return result


def _profile_facts(profile: Profile, tables: dict[str, Table]) -> tuple[dict[str, tuple[str, ...]], set[tuple[str, str]]]:
    """The profile's primary keys, and the columns its foreign_keys already cover; a table or column it
    names that the source lacks is an error."""
    problems = list(profile.problems)
    pks: dict[str, tuple[str, ...]] = {}
    known: set[tuple[str, str]] = set()
    for name, tp in profile.tables.items():
        pk = tuple(getattr(tp, "primary_key", ()) or ())
        fks = tuple(getattr(tp, "foreign_keys", ()) or ())
        if name not in tables:
            if pk or fks:
                problems.append(f"tables.{name}: no table '{name}' in the source")
            continue
        cols = tables[name].column_names
        for c in pk:
            if c not in cols:
                problems.append(f"tables.{name}.primary_key: table {name} has no column '{c}'")
        if pk:
            pks[name] = pk
        for fk in fks:
            for c in fk.columns:
                if c not in cols:
                    problems.append(f"tables.{name}.foreign_keys: table {name} has no column '{c}'")
                known.add((name, c))
            if fk.references not in tables:
                problems.append(f"tables.{name}.foreign_keys: no table '{fk.references}' in the source")
    if problems:
        raise ProfileError(profile.path or "<profile>", problems)
    return pks, known


def _keys(tables: Sequence[Table], stats: dict[tuple[str, str], ColumnStats], declared: dict[tuple[str, str], str],
          profile_pks: dict[str, tuple[str, ...]]) -> tuple[list[Key], set[tuple[str, str]]]:
    """Single columns that identify their table's rows (declared, named in the profile, or proven in
    the data), and of those each table's own identity (its primary key, or the key found for it).

    Beside a declared primary key, a column unique in the data counts as a key only when that is
    hardly an accident: text with a key-like name, or a key-like name that names its own table
    (``sak.saksnr``); small integers are unique in small tables by chance.
    """
    keys: list[Key] = []
    identity: set[tuple[str, str]] = set()
    for t in tables:
        mine: list[Key] = []
        primary = t.primary_key if len(t.primary_key) == 1 else profile_pks.get(t.name, ())
        for col in t.columns:
            s = stats.get((t.name, col.name))
            if s is None or s.non_null == 0:
                continue
            unique = s.distinct == s.non_null
            proven = unique and s.non_null == s.rows and s.rows >= 2 and key_like(col.name)
            if (t.name, col.name) in declared:
                mine.append(Key(s, declared[(t.name, col.name)]))
            elif primary == (col.name,) and unique:
                mine.append(Key(s, "the profile's primary_key"))
            elif proven and (len(primary) != 1 or s.kind == "text"
                             or name_evidence(col.name, t.name, col.name)[0] == NAME_TABLE):
                mine.append(Key(s, "unique and never NULL in the data"))
        if not mine:  # a table without any key: its first column that is one in the data
            for col in t.columns:
                s = stats.get((t.name, col.name))
                if s is not None and s.rows >= 2 and s.distinct == s.non_null == s.rows:
                    mine.append(Key(s, "unique and never NULL in the data", weak=True))
                    break
        if len(primary) == 1:
            identity.add((t.name, primary[0]))
        elif mine:
            identity.add((t.name, mine[0].stats.column))
        keys += mine
    return keys, identity


def _pairs(s: ColumnStats, keys: Sequence[Key], own_key: bool) -> list[_Pair]:
    """The keys worth one server comparison with column ``s``, from names and statistics alone."""
    out = []
    for key in keys:
        k = key.stats
        if k.kind != s.kind or (k.table, k.column) == (s.table, s.column):
            continue
        level, reason = name_evidence(s.column, k.table, k.column)
        if own_key and level < NAME_TABLE:
            continue  # a table's own key refers elsewhere only in a 1:1 table that says so
        if level == NAME_NONE and k.table == s.table:
            continue  # a column that matches its own table's key unnamed is a copy (in another case...), not a reference
        if key.weak and level == NAME_NONE:
            continue
        chance = None
        if level >= NAME_KEY:
            if s.distinct * MIN_COVERAGE_NAMED > k.distinct:
                continue
            if s.kind == "integer" and None not in (s.low, s.high, k.low, k.high) and (s.low > k.high or s.high < k.low):
                continue
        else:
            if s.distinct > k.distinct:
                continue
            if s.kind == "integer" and None not in (s.low, s.high, k.low, k.high) and (s.low < k.low or s.high > k.high):
                continue
            bounds = None not in (s.low, s.high, k.low, k.high)
            if s.kind == "integer" and bounds and level <= NAME_KEYLIKE:
                run = s.high - s.low + 1
                if (run / (k.high - k.low + 1)) ** s.distinct < SPREAD_LIMIT:
                    continue  # the values crowd into a corner of the key's range
                if counter_like(s.column) and s.low == k.low and s.distinct == run:
                    continue  # 1, 2, 3 ... n of a number column: a counter, which any id range from 1 holds
            if level == NAME_NONE:
                if s.kind == "integer":
                    if None in (k.low, k.high):
                        continue
                    density = min(1.0, k.distinct / (k.high - k.low + 1))
                    chance = density ** s.distinct
                    if chance >= CHANCE_LIMIT:
                        continue  # small integers fit any dense key: no evidence without a name
                elif s.distinct < MIN_DISTINCT_UNNAMED_TEXT or _numeric_text(s):
                    continue
        implied = (s.kind == "integer" and None not in (s.low, s.high, k.low, k.high)
                   and k.distinct == k.high - k.low + 1 and k.low <= s.low and s.high <= k.high)
        out.append(_Pair(key, level, reason, chance, implied))
    return out


def _reported(c: Candidate) -> bool:
    if c.distinct == 0 or c.found == 0:
        return False
    if c.orphan_values == 0:
        return True
    return c.name_level >= NAME_KEY and c.coverage >= MIN_COVERAGE_NAMED


def _resolve(found: list[Candidate]) -> tuple[list[Candidate], list[str]]:
    """One relation per column where the evidence settles it; otherwise the equally likely ones,
    marked ambiguous (or none, when more than ``MAX_AMBIGUOUS`` keys fit). Confidence last.
    Returns the candidates and the columns left out for fitting too many keys."""
    by_column: dict[tuple[str, str], list[Candidate]] = {}
    for c in found:
        by_column.setdefault((c.table, c.column), []).append(c)
    out: list[Candidate] = []
    dropped: list[str] = []
    for (table, column), group in by_column.items():
        group.sort(key=lambda c: (-c.name_level, c.orphan_values > 0, -c.coverage, c.key_distinct, c.target))
        top = group[0]
        tied, less = [top], []
        for other in group[1:]:
            if (other.name_level, other.orphan_values == 0) < (top.name_level, top.orphan_values == 0):
                less.append(other)
            elif top.orphan_values:
                (less if other.coverage < top.coverage else tied).append(other)
            elif top.distinct * math.log(other.key_distinct / top.key_distinct) >= math.log(FIT_RATIO):
                less.append(other)  # the values crowd into the smaller key far more than chance allows
            else:
                tied.append(other)
        if len(tied) > MAX_AMBIGUOUS:
            dropped.append(f"{table}.{column} ({len(tied)} keys)")
            continue
        for c in tied:
            c.ambiguous = tuple(o.target for o in tied if o is not c)
            c.also_in = tuple(o.target for o in less)
            c.confidence = _confidence(c)
            out.append(c)
    out.sort(key=lambda c: (CONFIDENCES.index(c.confidence), bool(c.ambiguous), c.table, c.column, c.target))
    return out, dropped


def _confidence(c: Candidate) -> str:
    if c.ambiguous:
        return "low"
    if c.orphan_values == 0:
        if c.name_level >= NAME_KEY:
            return "high"
        return "medium" if c.name_level >= NAME_KEYLIKE else "low"
    return "medium" if c.coverage >= 0.95 else "low"
