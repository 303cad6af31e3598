"""An ER diagram of the extracted tables as inline SVG, laid out here (no graphviz, no script).

Tables are put in columns by how far they are from the tables they refer to: a table that refers
to no other stands in the first column, a table referring only to those in the second, and so on
(cycles are cut where a reference leads back to a table still being ranked). Within a column the
tables are ordered by the average place of the tables they are linked to, a few sweeps back and
forth, to keep lines short and crossings few. Each box lists the table's key fields; each
relation is a curve from the referring fields to the key it refers to, with crow's-foot ends:
at the referring table "zero or many" (or "zero or one" for a 1:1 relation), at the referred
table "exactly one" (or "zero or one" when the referring field may be empty).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .escaping import h as escape
from .model import RelationDoc, TableDoc

HEADER_FILL = "#1F4E79"
"""Box headers: a colour used nowhere else on the page (the tests look for it in a screenshot)."""
BODY_FILL = "#EAF2FB"
LINE = "#5A5A5A"
CHAR_W = 7.6
"""Width of one character of the 12 px monospace font, rounded up."""
HEAD_H, ROW_H, PAD = 24, 17, 8
COL_GAP, ROW_GAP, MARGIN = 110, 28, 20
MAX_ROWS = 12
"""Key fields listed in a box before the rest is counted ("+ n felt")."""


@dataclass(frozen=True, slots=True)
class _Head:
    """What a box shows of its table (not the whole ``TableDoc``: a diagram may hold 20,000 boxes)."""

    name: str
    anchor: str
    description: str
    records: int


@dataclass(slots=True)
class _Box:
    table: _Head
    rows: list[tuple[str, str]]
    """(marker, field name) shown in the box."""
    rank: int = 0
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0

    def row_y(self, field: str) -> float:
        for i, (_, name) in enumerate(self.rows):
            if name == field:
                return self.y + HEAD_H + ROW_H * i + ROW_H / 2 + 2
        return self.y + HEAD_H / 2


def _rows(t: TableDoc) -> list[tuple[str, str]]:
    keyed = [f for f in t.fields if f.keys]
    rows = [(" ".join(k for k in f.keys if k != "AK") or "AK", f.name) for f in keyed[:MAX_ROWS]]
    rest = len(t.fields) - len(rows)
    if rest:
        rows.append(("", f"+ {rest} {'felt' if len(keyed) <= MAX_ROWS else 'felt til'}"))
    return rows


def _ranks(tables: Sequence[TableDoc]) -> dict[str, int]:
    targets = {t.name: [r.target for r in t.foreign_keys if r.target != t.name] for t in tables}
    rank: dict[str, int] = {}
    for t in tables:  # depth-first, without recursion: a chain of references may be long
        if t.name in rank:
            continue
        stack = [(t.name, iter(targets[t.name]))]
        active = {t.name}
        while stack:
            name, todo = stack[-1]
            nxt = next((x for x in todo if x in targets and x not in rank and x not in active), None)
            if nxt is not None:
                active.add(nxt)
                stack.append((nxt, iter(targets[nxt])))
                continue
            stack.pop()
            active.discard(name)
            deps = [rank[x] for x in targets[name] if x in rank]  # a table still on the stack closes a cycle
            rank[name] = 1 + max(deps) if deps else 0
    # a referred table moves right, up to the column just before its nearest referrer: shorter lines
    sources: dict[str, list[str]] = {}
    for name, ts in targets.items():
        for x in ts:
            sources.setdefault(x, []).append(name)
    for name in sorted(rank, key=lambda n: -rank[n]):
        later = [rank[s] for s in sources.get(name, ()) if rank[s] > rank[name]]
        if later and len(later) == len(sources[name]):
            rank[name] = min(later) - 1
    return rank


def _order(columns: list[list[_Box]], links: list[tuple[str, str]]) -> None:
    """Barycentre sweeps: each column sorted by the mean place of its neighbours in the column before."""
    neighbours: dict[str, set[str]] = {}
    for a, b in links:
        if a != b:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)

    pos = {b.table.name: i / max(len(col) - 1, 1) for col in columns for i, b in enumerate(col)}
    for _ in range(3):
        for sweep in (range(1, len(columns)), range(len(columns) - 2, -1, -1)):
            for c in sweep:
                near = {b.table.name for b in (columns[c - 1] if sweep.step == 1 else columns[c + 1])}

                def key(b: _Box, near: set[str] = near) -> float:
                    ps = [pos[n] for n in neighbours.get(b.table.name, ()) if n in near]
                    return sum(ps) / len(ps) if ps else pos[b.table.name]

                columns[c].sort(key=key)
                pos.update((b.table.name, i / max(len(columns[c]) - 1, 1)) for i, b in enumerate(columns[c]))


def layout(tables: Sequence[TableDoc]) -> tuple[list[_Box], float, float]:
    """Boxes placed in columns; returns the boxes and the drawing's width and height."""
    ranks = _ranks(tables)
    linked = {n for t in tables for r in t.foreign_keys for n in (r.table, r.target)}
    boxes = []
    for t in tables:
        rows = _rows(t)
        longest = max([len(t.name) * 1.1 + len(f' {t.records} poster') * 0.85, *(6 + len(n) for _, n in rows)])
        boxes.append(_Box(_Head(t.name, t.anchor, t.description, t.records), rows, ranks[t.name],
                          w=max(130.0, longest * CHAR_W + 2 * PAD), h=HEAD_H + ROW_H * len(rows) + PAD))
    count = max(ranks.values(), default=0) + 1
    columns: list[list[_Box]] = [[] for _ in range(count)]
    for b in boxes:
        columns[b.rank].append(b)
    # tables with no relation at all go below the linked ones of the first column
    columns[0].sort(key=lambda b: b.table.name not in linked)
    _order(columns, [(r.table, r.target) for t in tables for r in t.foreign_keys])
    columns[0].sort(key=lambda b: b.table.name not in linked)
    heights = [sum(b.h for b in col) + ROW_GAP * (len(col) - 1) for col in columns]
    height = max(heights, default=0) + 2 * MARGIN
    x = float(MARGIN)
    for col, h in zip(columns, heights, strict=True):
        width = max((b.w for b in col), default=0)
        y = MARGIN + (height - 2 * MARGIN - h) / 2
        for b in col:
            b.x, b.y, b.w = x, y, width
            y += b.h + ROW_GAP
        x += width + COL_GAP
    return boxes, x - COL_GAP + MARGIN + 60, height


def _markers() -> str:
    common = 'markerUnits="userSpaceOnUse" markerWidth="26" markerHeight="18" viewBox="0 -9 26 18" refX="26" refY="0" ' \
             'orient="auto-start-reverse" overflow="visible"'
    stroke = f'fill="none" stroke="{LINE}" stroke-width="1.4"'
    circle = f'<circle cx="8" cy="0" r="4" fill="#FFFFFF" stroke="{LINE}" stroke-width="1.4"/>'
    return (
        "<defs>"
        f'<marker id="er-mange" {common}><path d="M26,-7 L14,0 L26,7 M14,0 H26" {stroke}/>{circle}</marker>'
        f'<marker id="er-hoyst-en" {common}><path d="M19,-7 V7" {stroke}/>{circle}</marker>'
        f'<marker id="er-en" {common}><path d="M19,-7 V7 M14,-7 V7" {stroke}/></marker>'
        "</defs>"
    )


def _edge(r: RelationDoc, src: _Box, dst: _Box) -> str:
    sy = src.row_y(r.fields[0]) if r.fields else src.y + HEAD_H / 2
    ty = dst.row_y(r.target_fields[0]) if r.target_fields else dst.y + HEAD_H / 2
    if dst.x + dst.w < src.x:  # the usual case: the referred table stands in a column to the left
        sx, tx = src.x, dst.x + dst.w
        d = max(40.0, (sx - tx) / 2)
        path = f"M{sx:.1f},{sy:.1f} C{sx - d:.1f},{sy:.1f} {tx + d:.1f},{ty:.1f} {tx:.1f},{ty:.1f}"
    elif src.x + src.w < dst.x:  # a reference back to the right (a cycle)
        sx, tx = src.x + src.w, dst.x
        d = max(40.0, (tx - sx) / 2)
        path = f"M{sx:.1f},{sy:.1f} C{sx + d:.1f},{sy:.1f} {tx - d:.1f},{ty:.1f} {tx:.1f},{ty:.1f}"
    else:  # the same column, or the table itself: a loop out to the right
        sx, tx = src.x + src.w, dst.x + dst.w
        if abs(sy - ty) < 4:
            ty += 8
        d = 50.0 + abs(sy - ty) / 4
        path = f"M{sx:.1f},{sy:.1f} C{sx + d:.1f},{sy:.1f} {tx + d:.1f},{ty:.1f} {tx:.1f},{ty:.1f}"
    start = "er-hoyst-en" if r.source_count == "0..1" else "er-mange"
    end = "er-en" if r.target_count == "1" else "er-hoyst-en"
    title = escape(f"{r.table} ({', '.join(r.fields)}) -> {r.target} ({', '.join(r.target_fields)}), {r.kind}")
    return (f'<path class="er-relasjon" d="{path}" fill="none" stroke="{LINE}" stroke-width="1.4" '
            f'marker-start="url(#{start})" marker-end="url(#{end})"><title>{title}</title></path>')


def _box(b: _Box) -> str:
    t = b.table
    name = escape(t.name)
    parts = [f'<g class="er-tabell" id="er-{t.anchor}" data-tabell="{name}">',
             f'<a href="#{t.anchor}" xlink:href="#{t.anchor}">',
             f"<title>{escape(t.name + (': ' + t.description if t.description else ''))}</title>",
             f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="4" fill="{BODY_FILL}" '
             f'stroke="{HEADER_FILL}" stroke-width="1.2"/>',
             f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{HEAD_H}" rx="4" fill="{HEADER_FILL}"/>',
             f'<text x="{b.x + PAD:.1f}" y="{b.y + 16:.1f}" fill="#FFFFFF" font-weight="bold" font-size="13">{name}'
             f'<tspan fill="#CFE0F1" font-weight="normal" font-size="11"> {t.records} poster</tspan></text>']
    for i, (marker, field) in enumerate(b.rows):
        y = b.y + HEAD_H + ROW_H * i + 14
        parts.append(f'<text x="{b.x + PAD:.1f}" y="{y:.1f}" font-size="12"><tspan fill="#8A2B0E" font-weight="bold">'
                     f'{escape(marker)}</tspan><tspan x="{b.x + PAD + 6 * CHAR_W:.1f}" fill="#1A1A1A">'
                     f'{escape(field)}</tspan></text>')
    parts.append("</a></g>")
    return "".join(parts)


def svg(tables: Sequence[TableDoc]) -> str:
    """The diagram as an ``<svg>`` element to put inline in an HTML page."""
    return "".join(svg_parts(tables))


def svg_parts(tables: Sequence[TableDoc]) -> Iterator[str]:
    """``svg`` in pieces, to be written one after the other (the diagram of 20,000 tables is some 16 MB of text)."""
    boxes, width, height = layout(tables)
    by_name = {b.table.name: b for b in boxes}
    yield (f'<svg class="er-diagram" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
           f'aria-label="Relasjonsdiagram over {len(tables)} tabeller" font-family="DejaVu Sans Mono, Consolas, '
           f'Menlo, monospace">{_markers()}<g class="er-relasjoner">')
    for t in tables:
        for r in t.foreign_keys:
            if r.target in by_name:
                yield _edge(r, by_name[r.table], by_name[r.target])
    yield "</g>"
    for b in boxes:
        yield _box(b)
    yield "</svg>"
