"""``inspect --keys`` for people: the text report, and the progress line while it runs."""

from __future__ import annotations

import sys

from .candidates import Progress, Relations


def terminal_progress() -> Progress | None:
    """Progress on one rewritten stderr line, only when stderr is a terminal; "" clears the line."""
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message[:150]}")
        sys.stderr.flush()

    return show


def format_relations(rel: Relations) -> str:
    """Plain-text report: every candidate with its evidence, the ambiguous ones together at the end."""
    lines = [f"Relations found in the data of {rel.source} ({rel.engine})",
             f"{rel.tables} table(s), {rel.rows:,} row(s); {rel.columns} column(s) compared with {rel.keys} key(s): "
             f"{rel.pairs} pair(s) checked on the server, {rel.settled} settled by the statistics (a key that holds "
             f"every integer of its range); {rel.queries} queries, {rel.seconds:.1f} s", ""]
    sure = [c for c in rel.candidates if not c.ambiguous]
    unsure = [c for c in rel.candidates if c.ambiguous]
    if not rel.candidates:
        lines.append("No undeclared relation found.")
    for c in sure:
        lines += [f"{c.confidence:<7}{c.arrow}", f"       {c.evidence()}"]
    if unsure:
        lines += ["", "Ambiguous: these columns' values are all in more than one key; the relation is one of them or none:"]
        shown: set[tuple[str, str]] = set()
        for c in unsure:
            if (c.table, c.column) in shown:
                continue
            shown.add((c.table, c.column))
            group = [o for o in unsure if (o.table, o.column) == (c.table, c.column)]
            lines.append(f"  {c.table}.{c.column} -> " + " | ".join(f"{o.ref_table}({o.ref_column})" for o in group))
            lines += [f"       {o.target}: {o.evidence()}" for o in group]
    for note in rel.notes:
        lines.append(f"note: {note}")
    if rel.candidates:
        lines += ["", "Candidates only: confirm each in the profile (uttrekk inspect --keys SOURCE --write-profile FILE "
                      "adds them with confirmed = false)."]
    return "\n".join(lines).rstrip() + "\n"
