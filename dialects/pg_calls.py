"""What a PostgreSQL statement would do besides reading: the functions it calls, asked of the server.

A profile's query or filter is hostile input, and a read-only transaction still runs functions that
read server files, create large objects, change the session, sleep or connect elsewhere. The
statement is parsed and analysed by the server itself, never planned or run: it is sent as an
extended-protocol Parse (one statement only, so a ``;`` cannot smuggle in a second one) while
``debug_print_rewritten`` hands the analysed, rewritten tree back as a LOG notice. That tree names
every function by its oid after name resolution and overload choice, with views expanded, so
schema qualification, quoting, case, subqueries, CTEs, lateral and set-returning FROM items,
``VALUES``, operators and view bodies cannot hide a call. The oids are matched against
``pg_proc`` (operators through ``pg_operator``, aggregates' support functions through
``pg_aggregate``), the argument defaults of every function found are followed the same way (the
planner adds them to a call that leaves arguments out), and foreign tables are found in
``pg_class``.

Refused: every VOLATILE function but the harmless ones in ``ALLOWED``; every function in an
untrusted procedural language (it can run programs, whatever volatility it declares); the STABLE
functions ``DENIED`` matches (they assign a transaction id, or run queries of their own on whole
tables and views); foreign tables (they read files or reach other servers); row locks. The check
leaves one LOG entry per statement (the tree) in the server's log, which takes LOG messages by
default.

Trusted: a function of the source declared STABLE or IMMUTABLE in a trusted language is taken at
its word, as PostgreSQL takes it; so are type input functions of literals (they run while parsing).
"""

from __future__ import annotations

import re
from typing import Any

ALLOWED = frozenset({
    "random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid",
    "lo_get",  # reads a large object in the transaction's snapshot; nothing else
})
"""VOLATILE functions of ``pg_catalog`` that only read (the time, random numbers, a large object)."""

DENIED = re.compile(r"^(txid_current|pg_current_xact_id|(table|schema|database)_to_xml(_and_xmlschema)?)$")
"""STABLE functions of ``pg_catalog`` that still do more than read what the statement names: assign
a transaction id, or run queries of their own on whole tables, views included."""

WHY: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), w) for p, w in (
    (r"^lo_(import|export)$", "reads or writes a file on the database server"),
    (r"^pg_(read_file|read_binary_file|ls_\w+|stat_file|current_logfile)$", "reads the database server's files"),
    (r"^(lo_\w+|loread|lowrite)$", "opens, creates or changes large objects"),
    (r"^(set_config|setseed)$", "changes the session's settings"),
    (r"^dblink", "connects to another database"),
    (r"^pg_sleep", "sleeps"),
    (r"^(nextval|setval)$", "advances a sequence"),
    (r"advisory", "takes a lock"),
    (r"^pg_notify$", "sends a notification"),
    (r"^(query_to_xml\w*|cursor_to_xml\w*|ts_stat|ts_rewrite)$", "runs SQL given as text (that SQL cannot be checked)"),
    (r"^(table|schema|database)_to_xml", "runs queries of its own on whole tables and views (they cannot be checked)"),
    (r"^(txid_current|pg_current_xact_id)$", "assigns a transaction id"),
    (r"^pg_(cancel|terminate)_backend$", "ends other sessions"),
))
"""Why a well-known function is refused; any other VOLATILE one gets the general reason."""

_FUNCTIONS = re.compile(r":(?:funcid|opfuncid|aggfnoid|winfnoid|hashfuncid|negfuncid|tsmhandler)\s+(\d+)")
_OPERATORS = re.compile(r":(?:opno|eqop|sortop)\s+(\d+)")
_OPERATOR_LISTS = re.compile(r":opnos\s+\(o((?:\s+\d+)+)\)")
_RELATIONS = re.compile(r":relid\s+(\d+)")
"""Oids in the tree's text, which the server wraps at about 80 characters (a newline for a blank)."""

_CATALOGUE = """
WITH called AS (
    SELECT unnest(CAST(%(functions)s AS oid[])) AS fn, '' AS via
    UNION SELECT CAST(o.oprcode AS oid), o.oprname FROM pg_catalog.pg_operator o
        WHERE o.oid = ANY(CAST(%(operators)s AS oid[]))
    UNION SELECT CAST(x.fn AS oid), '' FROM pg_catalog.pg_aggregate a CROSS JOIN LATERAL unnest(ARRAY[
        a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn,
        a.aggminvtransfn, a.aggmfinalfn]) AS x(fn)
        WHERE a.aggfnoid = ANY(CAST(%(functions)s AS oid[]))
)
SELECT n.nspname, p.proname, p.provolatile, l.lanname, l.lanispl AND NOT l.lanpltrusted, max(c.via),
    CAST(p.proargdefaults AS text)
FROM called c JOIN pg_catalog.pg_proc p ON p.oid = c.fn
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace JOIN pg_catalog.pg_language l ON l.oid = p.prolang
GROUP BY 1, 2, 3, 4, 5, 7 ORDER BY 1, 2
"""
"""The functions called (their own, an operator's, an aggregate's support functions), and each
one's argument defaults: the planner adds those to a call that leaves arguments out."""

_FOREIGN = ("SELECT CAST(CAST(c.oid AS regclass) AS text) FROM pg_catalog.pg_class c "
            "WHERE c.oid = ANY(CAST(%(relations)s AS oid[])) AND c.relkind = 'f' ORDER BY 1")


class Unparsable(Exception):
    """The server refuses the statement (its message), or did not show what it calls."""


def refused_calls(raw: Any, statement: str) -> list[str]:
    """Each refused function (or foreign table) ``statement`` would use, with the reason:
    ``calls lo_import(), which reads or writes a file on the database server``. ``raw`` is a psycopg connection
    inside a transaction; the check runs in a savepoint and leaves the session as it found it.
    ``Unparsable`` when the server cannot parse the statement (one statement, no more)."""
    tree = _analysed_tree(raw, statement)
    relations = sorted({int(x) for x in _RELATIONS.findall(tree)})
    found: dict[str, None] = {}
    if re.search(r":hasForUpdate\s+true", tree):
        found["locks the rows it reads (FOR UPDATE, FOR SHARE)"] = None
    seen: set[str] = set()
    while tree:  # the statement, then the argument defaults of the functions it calls, and theirs
        functions = sorted({int(x) for x in _FUNCTIONS.findall(tree)})
        operators = {int(x) for x in _OPERATORS.findall(tree)}
        operators |= {int(x) for group in _OPERATOR_LISTS.findall(tree) for x in group.split()}
        rows = raw.execute(_CATALOGUE, {"functions": functions, "operators": sorted(operators)}).fetchall()
        tree = ""
        for schema, name, volatility, language, untrusted, via, defaults in rows:
            reason = _reason(schema, name, volatility, language, untrusted)
            if reason:
                shown = name if schema == "pg_catalog" else f"{schema}.{name}"
                through = f" (behind the operator {via})" if via else ""
                found[f"calls {shown}(){through}, which {reason}"] = None
            if defaults and defaults not in seen:
                seen.add(defaults)
                tree += defaults
    for (table,) in raw.execute(_FOREIGN, {"relations": relations}).fetchall():
        found[f"reads the foreign table {table}, which reaches outside the database (a file or another server)"] = None
    return list(found)


def _reason(schema: str, name: str, volatility: str, language: str, untrusted: bool) -> str:
    if untrusted:
        return f"is written in the untrusted language {language} and can run programs on the database server"
    system = schema == "pg_catalog"
    if system and DENIED.match(name):
        return _known(name) or "changes the transaction"
    if volatility != "v" or (system and name in ALLOWED):
        return ""
    return _known(name) or (
        "PostgreSQL marks VOLATILE: it may change the database or the session, read server files or reach the "
        "network (if it only reads, its owner can declare it STABLE)")


def _known(name: str) -> str:
    return next((why for pattern, why in WHY if pattern.search(name)), "")


def _analysed_tree(raw: Any, statement: str) -> str:
    """The server's analysed and rewritten tree of one statement, parsed but never planned or run."""
    trees: list[str] = []

    def keep(diag: Any) -> None:
        if diag.severity_nonlocalized == "LOG" and (diag.message_primary or "").startswith("rewritten parse tree"):
            trees.append(diag.message_detail or "")

    raw.execute("SAVEPOINT ux_calls")
    raw.add_notice_handler(keep)
    try:
        raw.execute("SET LOCAL debug_pretty_print = off")
        raw.execute("SET LOCAL debug_print_rewritten = on")
        raw.execute("SET LOCAL client_min_messages = log")
        encoding = raw.info.encoding
        result = raw.pgconn.prepare(b"", statement.encode(encoding))
        error = result.error_message.decode(encoding, "replace").strip()
    finally:
        raw.remove_notice_handler(keep)
        raw.execute("ROLLBACK TO SAVEPOINT ux_calls")  # undoes the SET LOCALs, and any error
        raw.execute("RELEASE SAVEPOINT ux_calls")
    if error:
        raise Unparsable(error.removeprefix("ERROR:").strip().splitlines()[0])
    if len(trees) != 1 or not re.search(r":commandType\s+1\s", trees[0]):
        raise Unparsable("the server did not show what the statement calls (debug_print_rewritten), so it "
                         "cannot be checked")
    return trees[0]
