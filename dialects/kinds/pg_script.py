r"""A plain SQL dump restored statement by statement through libpq, in place of psql (see ``pg_plain``).

``ScriptRestore`` is the file object ``throwaway.pump`` writes the dump into: the splitter cuts it
into statements, COPY data and meta-commands, and each is dealt with as pg_dump meant it, as the
restoring role (not a superuser, on a server with no network: ``pg_server``):

- statements run one by one on the current database; an error is noted with its line and the
  restore goes on, as ``psql`` without ``ON_ERROR_STOP`` would;
- ``COPY … FROM stdin`` in pg_dump's form streams its data lines to the server; a COPY that fails
  has its data skipped (never read as commands); a COPY in any other form is refused with its data;
- owners (``ALTER … OWNER TO``, ``SET SESSION AUTHORIZATION``), privileges (``GRANT``/``REVOKE``)
  and cluster objects (roles, tablespaces) are skipped on purpose, as ``pg_restore -O -x`` does;
- ``COPY`` to or from files or programs and ``LOAD`` are refused before the server sees them;
- of psql's meta-commands only those pg_dump writes are done: ``\connect`` to a database by name
  (no host, user or other connection parameter), ``\encoding``, ``\restrict``/``\unrestrict`` (psql's
  own guard, nothing to do here) and ``\.``; every other one is refused and reported with its line;
- what the dump says it holds is counted on the way: each ``CREATE TABLE`` and the rows of each
  ``COPY`` block and ``INSERT … VALUES``, per database, for ``pg_losses`` to compare afterwards.
"""

from __future__ import annotations

import re
import select
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from extractor.errors import SourceError

from .pg_plain import REASONS, CopyData, CopyEnd, Cut, Meta, Splitter, Statement


@dataclass
class Expect:
    """What the dump says one table holds."""

    line: int = 0
    """Where it is created (0: the dump fills a table it does not create)."""
    rows: int = 0
    """Rows its COPY blocks and INSERT … VALUES statements carry."""
    why: str = ""
    """The first error that touched it (line and message)."""


@dataclass
class Outcome:
    """What a restore did, for ``pg_losses`` and the report."""

    expected: dict[tuple[str, str, str], Expect] = field(default_factory=dict)
    """(database, schema, table) -> what the dump holds."""
    databases: list[str] = field(default_factory=list)
    """Every database the dump filled, in order."""
    notes: list[str] = field(default_factory=list)
    failures: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, statement, server's message) of statements that failed."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Statements left out on purpose, by kind (``pg_plain.classify``)."""
    owners: set[str] = field(default_factory=set)
    """Roles the dump gives objects to."""
    cut: str = ""
    """How the dump is cut short, when it is."""


class _Session:
    """One libpq connection, driven without blocking signals (Ctrl-C stops a long statement)."""

    def __init__(self, pg: Any, notice: Callable[[str], None]) -> None:
        from psycopg import pq

        self.pg = pg
        self.pq = pq
        pg.notice_handler = lambda res: notice(_message(res, pq)) if _severity(res, pq) == "WARNING" else None

    def close(self) -> None:
        self.pg.finish()

    def _results(self) -> Any:
        pg = self.pg
        while True:
            while pg.is_busy():
                select.select([pg.socket], [], [], 1.0)
                pg.consume_input()
            res = pg.get_result()
            if res is None:
                return
            yield res

    def _send(self, sql: bytes) -> None:
        import psycopg

        try:
            self.pg.send_query(sql)
        except psycopg.OperationalError as exc:
            raise SourceError(f"the throwaway server stopped during the restore: {exc}") from None

    def run(self, sql: bytes) -> str:
        """Run one statement; its error message, or ``""``."""
        self._send(sql)
        return self._finish("")

    def _finish(self, error: str) -> str:
        S = self.pq.ExecStatus
        for res in self._results():
            if res.status == S.FATAL_ERROR:
                error = error or _message(res, self.pq)
            elif res.status == S.COPY_IN:  # a COPY the splitter did not see: end it, its data are not ours
                self.pg.put_copy_end(b"uttrekk: unexpected COPY")
                error = error or "a COPY from stdin hidden in another statement (refused)"
            elif res.status == S.COPY_OUT:
                while self.pg.get_copy_data(0)[0] >= 0:
                    pass
        return error

    def copy_start(self, sql: bytes) -> str:
        """Start ``COPY … FROM stdin``; an error message when the server does not."""
        self._send(sql)
        S = self.pq.ExecStatus
        for res in self._results():
            if res.status == S.COPY_IN:
                return ""
            if res.status == S.FATAL_ERROR:
                return self._finish(_message(res, self.pq))
        return "the server did not start the COPY"

    def copy_data(self, data: bytes) -> None:
        if self.pg.put_copy_data(data) != 1:
            raise SourceError(f"the throwaway server stopped during the restore: {self.pg.get_error_message()}")

    def copy_end(self) -> str:
        self.pg.put_copy_end()
        return self._finish("")


def _severity(res: Any, pq: Any) -> str:
    value = res.error_field(pq.DiagnosticField.SEVERITY_NONLOCALIZED)
    return value.decode() if value else ""


def _message(res: Any, pq: Any) -> str:
    value = res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or res.error_message or b"error"
    return " ".join(value.decode("utf-8", "replace").split())


_CONNECT_NAME = re.compile(r'^(?:"((?:[^"]|"")+)"|([^\s"\\-][^\s"\\]*))$')
_CONNECT_REUSE = re.compile(r'^-reuse-previous=on\s+"((?:[^"]|"")+)"$')
_CONNINFO_DBNAME = re.compile(r"^dbname=(?:'((?:[^'\\]|\\.)*)'|([A-Za-z0-9_.]+))$")
_ENCODING = re.compile(r"^[A-Za-z0-9_]+$")
_LOCALE = re.compile(rb"\s*\b(LOCALE_PROVIDER|LOCALE|LC_COLLATE|LC_CTYPE|ICU_LOCALE|ICU_RULES|COLLATION_VERSION)"
                     rb"\s*=?\s*('(?:[^']|'')*'|[A-Za-z0-9_.-]+)", re.IGNORECASE)


def connect_target(args: str) -> str | None:
    r"""The database a ``\connect`` names in one of the forms pg_dump writes (``\connect name``,
    ``\connect -reuse-previous=on "dbname='na''me'"``); None for anything else (a user, a host …)."""
    m = _CONNECT_NAME.match(args)
    if m:
        return m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2)
    m = _CONNECT_REUSE.match(args)
    if m:
        d = _CONNINFO_DBNAME.match(m.group(1).replace('""', '"'))
        if d:
            return re.sub(r"\\(.)", r"\1", d.group(1)) if d.group(1) is not None else d.group(2)
    return None


class ScriptRestore:
    """The sink ``throwaway.pump`` writes a plain dump into (see the module docstring)."""

    def __init__(self, connect: Callable[[str], Any], database: str) -> None:
        self.connect = connect
        self.splitter = Splitter()
        self.out = Outcome()
        self.db = database
        self.schema = "public"
        self.no_session = 0
        self._copy: tuple[tuple[str, str, str] | None, bool] | None = None
        self.broken = False
        self.session: _Session | None = _Session(connect(database), self._warning)
        self.out.databases.append(database)

    # -- the pump's side -----------------------------------------------------------------------------

    def write(self, data: bytes) -> int:
        try:
            for ev in self.splitter.feed(data):
                self._event(ev)
        except BaseException:
            self.broken = True
            raise
        return len(data)

    def close(self) -> None:
        if self.broken:  # the restore is abandoned (an error, Ctrl-C): nothing more is sent
            if self.session is not None:
                self.session.close()
                self.session = None
            return
        for ev in self.splitter.end():
            self._event(ev)
        if not self.splitter.complete and not self.out.cut:
            self.out.cut = (f"the dump ends at line {self.splitter.line} without pg_dump's closing line "
                            "('-- PostgreSQL database dump complete'): it is cut short, and whatever followed is missing")
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.no_session:
            self.out.notes.append(f"{self.no_session} statement(s) were not run because the \\connect before them "
                                  "failed (see above)")

    # -- events ------------------------------------------------------------------------------------------

    def _event(self, ev: Any) -> None:
        if isinstance(ev, CopyData):
            self._copy_data(ev)
        elif isinstance(ev, Statement):
            self._statement(ev)
        elif isinstance(ev, CopyEnd):
            self._copy_end(ev)
        elif isinstance(ev, Meta):
            self._meta(ev)
        elif isinstance(ev, Cut):
            self.out.cut = (f"the dump ends inside a statement (line {ev.line}): it is cut short, and whatever "
                            "followed is missing")

    def _key(self, schema: str, table: str) -> tuple[str, str, str]:
        return (self.db, schema or self.schema or "public", table)

    def _expect(self, schema: str, table: str) -> Expect:
        return self.out.expected.setdefault(self._key(schema, table), Expect())

    def _statement(self, st: Statement) -> None:
        kind = st.kind
        what = kind[0]
        if what in ("owner", "privileges", "cluster", "tablespace"):
            self.out.skipped[what] += 1
            if what == "owner" and kind[1]:
                self.out.owners.add(kind[1])
            return
        if what in ("refuse", "copy refused"):
            self.out.notes.append(f"line {st.line}: refused {_head(st)}: {kind[1]}")
            if what == "copy refused":
                self._copy = (None, False)
            return
        if what == "search_path":
            self.schema = kind[1]
        expect = None
        if what in ("copy", "create table", "insert"):
            expect = self._expect(kind[1], kind[2])
            if what == "create table":
                expect.line = st.line
            elif what == "insert":
                expect.rows += int(kind[3])
        if self.session is None:
            self.no_session += 1
            if expect is not None and not expect.why:
                expect.why = f"its database {self.db} could not be reached"
            if what == "copy":
                self._copy = (self._key(kind[1], kind[2]), False)
            return
        if what == "copy":
            error = self.session.copy_start(st.text)
            if error:
                self._failed(st, error, expect)
            self._copy = (self._key(kind[1], kind[2]), not error)
            return
        error = self.session.run(st.text)
        if what == "create database":
            if error and _LOCALE.search(st.text) and ("locale" in error or "collation" in error):
                if not self.session.run(_LOCALE.sub(b"", st.text)):
                    self.out.notes.append(f"line {st.line}: database {kind[1]} was created with this server's locale "
                                          f"instead of the dump's ({error}); values are the same, text may sort "
                                          "differently")
                    error = ""
            if not error and kind[1] not in self.out.databases:
                self.out.databases.append(kind[1])
        if error:
            self._failed(st, error, expect)

    def _failed(self, st: Statement, error: str, expect: Expect | None) -> None:
        self.out.failures.append((st.line, _head(st), error))
        if expect is not None and not expect.why:
            expect.why = f"line {st.line}: {error}"

    def _copy_data(self, ev: CopyData) -> None:
        if self._copy is None:
            return
        key, running = self._copy
        if key is not None:
            self.out.expected[key].rows += ev.rows
        if running and self.session is not None:
            self.session.copy_data(ev.data)

    def _copy_end(self, ev: CopyEnd) -> None:
        if self._copy is None:
            return
        key, running = self._copy
        self._copy = None
        expect = self.out.expected.get(key) if key is not None else None
        if not ev.terminated:
            inside = f"the data of table {key[1]}.{key[2]}" if key else "COPY data"
            self.out.cut = (f"the dump ends inside {inside} (line {ev.line}): it is cut short, and the rest of that "
                            "table and whatever followed are missing")
        if running and self.session is not None:
            error = self.session.copy_end()
            if error:
                self.out.failures.append((ev.line, f"COPY data of {key[1]}.{key[2]}" if key else "COPY data", error))
                if expect is not None and not expect.why:
                    expect.why = f"line {ev.line}: {error}"

    def _meta(self, ev: Meta) -> None:
        name = ev.name
        if name in ("restrict", "unrestrict"):
            return
        if name == "set" and ev.args.split()[:1] == ["ON_ERROR_STOP"]:
            return
        if name in ("connect", "c"):
            target = connect_target(ev.args)
            if target is not None:
                self.splitter.connected()
                self._open(target, ev.line)
                return
        if name == "encoding" and _ENCODING.match(ev.args):
            if self.session is not None:
                error = self.session.run(f"SET client_encoding = '{ev.args}'".encode())
                if error:
                    self.out.failures.append((ev.line, f"\\encoding {ev.args}", error))
            return
        shown = (ev.args[:60] + "…") if len(ev.args) > 60 else ev.args
        why = REASONS.get(name, "not a meta-command pg_dump writes")
        self.out.notes.append(f"line {ev.line}: refused the psql meta-command \\{name}{' ' + shown if shown else ''}: "
                              f"{why}")

    def _open(self, database: str, line: int) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        self.db, self.schema = database, "public"
        try:
            pg = self.connect(database)
        except SourceError as exc:
            self.out.failures.append((line, f"\\connect {database}", str(exc)))
            return
        self.session = _Session(pg, self._warning)
        if database not in self.out.databases:
            self.out.databases.append(database)


    def _warning(self, text: str) -> None:
        self.out.notes.append(f"line {self.splitter.line}: warning: {text}")


def _head(st: Statement) -> str:
    text = st.skeleton.decode("utf-8", "replace")
    return text if len(text) <= 70 else text[:70] + "…"
