"""The fast path, as the plan sees it: which tables the server renders, and their statistics.

A table takes the fast path when every field of its file can be rendered by the server byte for byte
as ``values`` renders it (the dialect says which cannot: ``SourceDialect.server_rendering``) and
its data hold nothing that would change how it is written (a value that does not fit its type, a
character the charset cannot hold, a text for a file under ``lob/``, a value outside its code list:
``rendered_statistics`` counts them). Otherwise the table takes the exact path (``extract``), which
handles all of those and reports them. The statistics of a rendered table come from the same
aggregate query and fill the same ``scan.TableScan`` the exact path fills value by value.
"""

from __future__ import annotations

from .model import RenderedStatistics, RenderField, RenderRequest
from .plan import Plan, TablePlan
from .scan import TableScan, TableScanned, style_for

RENDERED_KINDS = frozenset({"integer", "decimal", "float", "date", "timestamp", "time", "boolean", "string", "char"})
"""Archive kinds a server may render (each engine says which of its types it renders identically)."""

SERVER, EXACT = "server", "exact"


def render_request(plan: Plan, tp: TablePlan) -> tuple[RenderRequest | None, dict[str, str]]:
    """What the server would render for ``tp`` (a plan refined with the empty scan), or why it
    cannot: column -> reason, ``""`` for the whole table."""
    if plan.profile.rendering == EXACT:
        return None, {"": '[output] rendering = "exact"'}
    if plan.format not in ("delimited", "fixed"):
        return None, {"": f"{plan.format} files are written by the exact path"}
    if tp.source is None or tp.unpivot is not None:
        return None, {"": "a child table (repeating group or array elements) is written by the exact path"}
    if tp.source.lookups:
        return None, {lk.column: "a pointer column" for lk in tp.source.lookups}
    reasons: dict[str, str] = {}
    fields: list[RenderField] = []
    fixed = plan.format == "fixed"
    for f in tp.fields:
        width, right = (f.width, f.align == "right") if fixed else (None, False)
        if f.role == "surrogate":
            fields.append(RenderField(None, "integer", width=width, right=right))
        elif f.role == "length" and fixed:
            fields.append(RenderField(f.column, "integer", width=width, right=right, length_of=True))
        elif f.role != "value" or f.kind not in RENDERED_KINDS:
            reasons[f.column or f.name] = (f"a {f.kind} field ({f.role})" if f.role != "value"
                                           else f"{f.kind} values are rendered by the exact path")
        else:
            col = tp.source.column(f.column or "")
            codes = None
            if f.codes:
                codes = tuple(sorted({c for c, _ in f.codes} | (set() if f.not_null else {""})))
            fields.append(RenderField(f.column, f.kind, col.scale, codes, width, right))
    written = [f.column for f in fields if f.column is not None and not f.length_of]
    if not reasons and sorted(written) != sorted(tp.columns):
        reasons[""] = "columns are read that are not written"
    if reasons:
        return None, reasons
    style = style_for(plan)
    return RenderRequest(tuple(fields), tuple(tp.order_by), tp.charset, plan.long_text_limit,
                         style.decimal_separator, style.true_text, style.false_text, fixed), {}


def scanned_from(tp0: TablePlan, request: RenderRequest, stats: RenderedStatistics) -> TableScanned:
    """The scan of a table the server rendered: what ``scan.ColumnWatch`` counts value by value (for the
    scan and for the exact path's writing pass alike), from the aggregate (no findings, long texts or
    LOBs: such a table is not rendered)."""
    ts = TableScan.of(tp0)
    ts.rows = stats.rows
    assert tp0.source is not None
    for f in request.fields:
        if f.column is None or f.length_of:
            continue
        rc = stats.columns[f.column]
        st = ts.columns[f.column]
        st.values = rc.values
        st.nulls = stats.rows - rc.values
        st.max_length = rc.max_length
        if f.kind in ("string", "char"):
            st.empties = rc.empties
            st.edge_blank = rc.edge_blank
        if f.kind in ("timestamp", "time"):
            st.fraction = rc.fraction
        if f.kind == "timestamp":
            if tp0.source.column(f.column).timezone:
                st.with_offset = rc.values
            else:
                st.without_offset = rc.values
    return TableScanned(tp0.name, ts, 0, {}, None)


def describe_reasons(reasons: dict[str, str]) -> str:
    """One line for the report: why a table took the exact path."""
    return "; ".join(f"{c}: {why}" if c else why for c, why in sorted(reasons.items()))
