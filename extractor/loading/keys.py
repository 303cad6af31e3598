"""Keys verified on the loaded data before they are declared; a key the data break is reported, not declared.

Each check is one SQL statement on the target (no key is held in memory): NULLs in a primary
key or a notNull field, duplicate values of a primary or alternate key, values of a foreign key
(all fields non-NULL) without a row in the table it points at, and values outside a field's code
list. A foreign key is declared only where it points at a key that was declared and its fields
have the same types. Every decision is a row of ``uttrekk_nokler`` and a line of the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .plan import Namer, Plan, Table
from .report import Line, LoadReport
from .target import Constraint, Target, quote

EXAMPLES = 3


@dataclass
class Decisions:
    not_null: list[str] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    keys: list[list[str]] = field(default_factory=list)
    """Column sets a foreign key may point at (declared primary and unique keys)."""


def _shown(rows: list[tuple[object, ...]]) -> str:
    return "; ".join(", ".join("NULL" if v is None else str(v) for v in r) for r in rows)


def _nulls(target: Target, t: Table, cols: list[str]) -> int:
    cond = " OR ".join(f"{quote(c)} IS NULL" for c in cols)
    return int(target.query(f"SELECT COUNT(*) FROM {quote(t.name)} WHERE {cond}")[0][0])  # type: ignore[call-overload]


def _duplicates(target: Target, t: Table, cols: list[str]) -> tuple[int, str]:
    names = ", ".join(map(quote, cols))
    present = " AND ".join(f"{quote(c)} IS NOT NULL" for c in cols)
    groups = f"SELECT {names}, COUNT(*) AS n FROM {quote(t.name)} WHERE {present} GROUP BY {names} HAVING COUNT(*) > 1"
    count = int(target.query(f"SELECT COUNT(*) FROM ({groups}) d")[0][0])  # type: ignore[call-overload]
    examples = target.query(f"{groups} ORDER BY {names} LIMIT {EXAMPLES}") if count else []
    return count, "; ".join(f"[{_shown([r[:-1]])}] x {r[-1]}" for r in examples)


def _orphans(target: Target, t: Table, cols: list[str], parent: str, pcols: list[str]) -> tuple[int, str]:
    present = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in cols)
    match = " AND ".join(f"p.{quote(p)} = c.{quote(c)}" for c, p in zip(cols, pcols, strict=True))
    base = (f"FROM {quote(t.name)} c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {quote(parent)} p WHERE {match})")
    count = int(target.query(f"SELECT COUNT(*) {base}")[0][0])  # type: ignore[call-overload]
    names = ", ".join(f"c.{quote(c)}" for c in cols)
    examples = target.query(f"SELECT DISTINCT {names} {base} ORDER BY {names} LIMIT {EXAMPLES}") if count else []
    return count, _shown(examples)


def settle_keys(plan: Plan, target: Target, report: LoadReport) -> list[tuple[object, ...]]:
    """Verify and declare every key; return the rows of ``uttrekk_nokler``."""
    names = Namer()
    decisions = {id(t): Decisions() for t in plan.tables}
    code_decisions: dict[str, Decisions] = {}
    rows: list[tuple[object, ...]] = []

    def decide(t: str, name: str, kind: str, cols: list[str], ok: bool, why: str, ref: str | None = None,
               ref_cols: list[str] | None = None) -> None:
        rows.append((t, name, kind, ", ".join(cols), ref, ", ".join(ref_cols) if ref_cols else None, ok, why))
        if not ok:
            report.add(Line(t, None, None, ", ".join(cols), None, f"{kind} key {name} not declared: {why}"))
        report.keys.append(f"{t}: {kind} key {name} ({', '.join(cols)})"
                           + (f" -> {ref} ({', '.join(ref_cols or [])})" if ref else "")
                           + (" declared" if ok else f" NOT declared: {why}"))

    for t in plan.tables:
        d = decisions[id(t)]
        for c in t.columns:
            if c.not_null and c.name not in t.pk:
                nulls = _nulls(target, t, [c.name])
                if nulls:
                    report.note(f"{t.name}.{c.name}: addml.xml says notNull, {nulls:,} row(s) are NULL; "
                                        "NOT NULL is not declared")
                else:
                    d.not_null.append(c.name)
        if t.pk:
            nulls = _nulls(target, t, t.pk)
            dups, shown = _duplicates(target, t, t.pk)
            name = names(f"{t.name}_pkey")
            if nulls or dups:
                broken = ", ".join(x for x in (f"{nulls:,} row(s) with NULL in it" if nulls else "",
                                               f"{dups:,} value(s) occur more than once ({shown})" if dups else "") if x)
                decide(t.name, name, "primary", t.pk, False, broken)
            else:
                d.constraints.append(Constraint("primary", name, t.pk))
                d.keys.append(t.pk)
                decide(t.name, name, "primary", t.pk, True, "no NULL, no value twice")
        for alt in t.alternates:
            dups, shown = _duplicates(target, t, alt)
            name = names(f"{t.name}_{'_'.join(alt)}_key")
            if dups:
                decide(t.name, name, "unique", alt, False, f"{dups:,} value(s) occur more than once ({shown})")
            else:
                d.constraints.append(Constraint("unique", name, alt))
                d.keys.append(alt)
                decide(t.name, name, "unique", alt, True, "no value twice")
    for ct in plan.code_tables:
        cd = code_decisions[ct.name] = Decisions()
        cd.constraints.append(Constraint("primary", names(f"{ct.name}_pkey"), ["kode"]))
    why: str | None
    for t in plan.tables:
        d = decisions[id(t)]
        for fk in t.fks:
            name = names(f"{t.name}_{'_'.join(fk.columns)}_fkey")
            why = _fk_obstacle(t, fk.columns, fk.target, fk.target_columns, decisions[id(fk.target)].keys)
            if why is None:
                count, shown = _orphans(target, t, fk.columns, fk.target.name, fk.target_columns)
                if count:
                    why = f"{count:,} row(s) point at no row of {fk.target.name} (e.g. {shown})"
            if why is None:
                d.constraints.append(Constraint("foreign", name, fk.columns, fk.target.name, fk.target_columns))
            decide(t.name, name, "foreign", fk.columns, why is None, why or "every value has its row",
                   fk.target.name, fk.target_columns)
        for ct in plan.code_tables:
            if ct.table is not t:
                continue
            name = names(f"{t.name}_{ct.column.name}_koder_fkey")
            why = None if ct.kind == ct.column.kind else f"the codes are not all {ct.column.kind} values"
            if why is None:
                count, shown = _orphans(target, t, [ct.column.name], ct.name, ["kode"])
                if count:
                    why = f"{count:,} row(s) hold a value outside the code list (e.g. {shown})"
            if why is None:
                d.constraints.append(Constraint("foreign", name, [ct.column.name], ct.name, ["kode"]))
            decide(t.name, name, "foreign", [ct.column.name], why is None, why or "every value is in the code list",
                   ct.name, ["kode"])
    work = [(ct.name, ["kode"], code_decisions[ct.name].constraints) for ct in plan.code_tables]
    work += [(t.name, decisions[id(t)].not_null, decisions[id(t)].constraints) for t in plan.tables
             if decisions[id(t)].not_null or decisions[id(t)].constraints]
    target.declare_all(work)
    return rows


def _fk_obstacle(t: Table, cols: list[str], parent: Table, pcols: list[str], keys: list[list[str]]) -> str | None:
    if not any(sorted(k) == sorted(pcols) for k in keys):
        return f"{', '.join(pcols)} is not a declared key of {parent.name}"
    for c, p in zip(cols, pcols, strict=True):
        a, b = t.column(c), parent.column(p)
        if a is None or b is None or a.kind != b.kind:
            return f"{c} and {parent.name}.{p} are not of the same type"
    return None

