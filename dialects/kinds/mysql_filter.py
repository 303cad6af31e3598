"""The front line between a MySQL/MariaDB dump and the ``mariadb`` client that restores it.

A dump is hostile input and the ``mariadb`` client runs what it reads, so every byte goes through
``DumpFilter`` first. The filter cuts the stream into statements exactly as the client does (the
current ``DELIMITER``; ``'…'`` and ``"…"`` strings with backslash escapes, backtick names;
``#``, ``-- `` and ``/* */`` comments; the executable comments ``/*!NNNNN … */`` and
``/*M!NNNNNN … */``, whose text is code; a client command at the start of a line outside a
statement) and lets through only what mysqldump and mariadb-dump write, each checked:

- ``SET`` of session variables (``SET GLOBAL`` and friends are refused); a ``sql_mode`` that would
  change how statements are read (``ANSI_QUOTES``, ``NO_BACKSLASH_ESCAPES``, ``ORACLE`` …) or a
  client character set whose multi-byte characters hold ASCII bytes (``sjis``, ``gbk`` …) is
  refused, so the client, the server and this filter always read a statement the same way;
- ``CREATE``/``DROP``/``ALTER`` of databases, tables, views, triggers, routines, events, sequences
  and indexes (not of users, roles, servers or loadable functions: ``SONAME``; not tables on the
  network or in files: ``ENGINE=FEDERATED``/``CONNECT``/``SPIDER``/``S3``, ``DATA DIRECTORY``);
  ``DEFINER=`` clauses are removed, so views and routines belong to the restoring account
  (the dump's accounts are not restored);
- ``INSERT``/``REPLACE … VALUES`` with literal values only (no calls, no sub-selects), refused into
  a table the dump gave a trigger before (the trigger would change the rows while restoring);
- ``USE``, ``LOCK``/``UNLOCK TABLES``, ``START TRANSACTION``/``COMMIT``, MariaDB's
  ``SELECT``/``DO SETVAL(…)`` for sequences; the ``DELIMITER`` client command.

Everything else is refused (client commands such as ``system``, ``\\!``, ``source``, ``tee``,
``connect``; ``SELECT … INTO OUTFILE``, ``LOAD DATA``, ``LOAD_FILE()``, ``GRANT``, ``CREATE USER``,
``INSTALL PLUGIN``, ``FLUSH``, ``CHANGE MASTER`` …) and named in ``refused`` with its line.
Statements in a server's own databases (``mysql``, ``sys`` …, which ``--all-databases`` dumps
hold) are skipped on purpose. A refused statement is replaced by as many newlines as it held, so
the client's line numbers (in its error messages) are the dump's.

The filter also counts what the dump creates: tables, views, and the rows each ``INSERT`` carries
(value tuples, counted outside strings), per database, for the loss check after the restore.
The ``mariadb`` client's own ``--binary-mode`` (no client commands but ``DELIMITER``),
``--sandbox``, the restoring account's rights and the server's ``secure_file_priv`` are the
backstops behind it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dialects.mysql_calls import called, tokens

SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
MAX_STATEMENT = 1 << 30
"""The longest statement the filter holds (the server's own ``max_allowed_packet`` limit)."""

SQL_MODES = frozenset("""REAL_AS_FLOAT PIPES_AS_CONCAT IGNORE_SPACE IGNORE_BAD_TABLE_OPTIONS ONLY_FULL_GROUP_BY
    NO_UNSIGNED_SUBTRACTION NO_DIR_IN_CREATE NO_KEY_OPTIONS NO_TABLE_OPTIONS NO_FIELD_OPTIONS MYSQL323 MYSQL40
    NO_AUTO_VALUE_ON_ZERO STRICT_TRANS_TABLES STRICT_ALL_TABLES NO_ZERO_IN_DATE NO_ZERO_DATE ALLOW_INVALID_DATES
    ERROR_FOR_DIVISION_BY_ZERO TRADITIONAL NO_AUTO_CREATE_USER HIGH_NOT_PRECEDENCE NO_ENGINE_SUBSTITUTION
    PAD_CHAR_TO_FULL_LENGTH SIMULTANEOUS_ASSIGNMENT TIME_ROUND_FRACTIONAL""".split())
"""``sql_mode`` flags that leave the reading of statements and the values stored as they are
(``ANSI_QUOTES``, ``NO_BACKSLASH_ESCAPES``, ``ANSI``, ``ORACLE`` … change how a statement is read;
``EMPTY_STRING_IS_NULL`` changes values)."""

UNSAFE_CHARSETS = frozenset({"big5", "cp932", "gbk", "sjis", "gb18030", "ucs2", "utf16", "utf16le", "utf32"})
"""Client character sets whose characters may hold the bytes of ``\\`` or a quote: the client and
the server would read a string's end differently from this filter."""

NETWORK_ENGINES = frozenset({"federated", "federatedx", "connect", "spider", "s3"})
"""Storage engines whose tables live on another server or in files outside the database."""

CLIENT_COMMANDS = frozenset("""? help clear connect delimiter edit ego exit go nopager notee nowarning pager print
    prompt quit rehash source status system tee use charset warnings sandbox""".split())
"""The ``mariadb`` client's named commands, recognised at the start of a line outside a statement."""

_OBJECTS = frozenset({"table", "view", "trigger", "procedure", "function", "event", "database", "schema",
                      "sequence", "index"})
_ROUTINES = frozenset({"view", "trigger", "procedure", "function", "event"})
_FORBIDDEN_CALLS = {"load_file": "reads a file on the server", "sys_exec": "runs a program (a UDF)",
                    "sys_eval": "runs a program (a UDF)", "sleep": "keeps the server waiting",
                    "benchmark": "keeps the server busy"}
_FORBIDDEN_PHRASES = {" into outfile ": "SELECT … INTO OUTFILE writes a file on the server",
                      " into dumpfile ": "SELECT … INTO DUMPFILE writes a file on the server",
                      " load data ": "LOAD DATA reads a file", " load xml ": "LOAD XML reads a file",
                      " data directory ": "DATA DIRECTORY puts table files outside the database",
                      " index directory ": "INDEX DIRECTORY puts index files outside the database"}

_SANDBOX_LINE = re.compile(rb"[ \t]*/\*M!999999\\- enable the sandbox mode \*/[ \t\r]*(?:\n|\Z)")
"""mariadb-dump's first line: the client command ``\\-`` (sandbox mode), which uttrekk gives anyway."""
_LINE_WORD = re.compile(rb"[ \t]*(\\.|\?|[A-Za-z]+)")
_DELIMITER_LINE = re.compile(rb"[ \t]*delimiter[ \t]+(\S+)[ \t\r]*$", re.I)
_GOOD_DELIMITER = re.compile(rb"[;$/|@!%&~:.,^*+=?<>]{1,8}")
_SPACE = re.compile(rb"[ \t\r\f\v]*")
_CTRL = b"\x00-\x08\x0b\x0c\x0e-\x1f"
_STRING = {39: re.compile(rb"'(?:[^'\\]++|\\.)*+'", re.S), 34: re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S),
           96: re.compile(rb"`[^`]*+`")}
_STRINGS = re.compile(rb"'(?:[^'\\]++|\\.)*+'|\"(?:[^\"\\]++|\\.)*+\"", re.S)
_NAME = rb"(?:`(?:[^`]|``)+`|[A-Za-z0-9_$\x80-\xff]+)"
_INSERT_HEAD = re.compile(
    rb"\s*(?:INSERT|REPLACE)(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*\s+(?:INTO\s+)?(" + _NAME
    + rb")(?:\s*\.\s*(" + _NAME + rb"))?\s*(?:\((?:\s*" + _NAME + rb"\s*,?)*\)\s*)?VALUES?\s*(?=\()", re.I)
_TUPLE = (rb"\((?:[^'\"()`\\#/\-;" + _CTRL + rb"]++|'(?:[^'\\]++|\\.)*+'|\"(?:[^\"\\]++|\\.)*+\"|-(?!-)|/(?!\*))*+\)")
_TUPLES = re.compile(_TUPLE + rb"(?:\s*+,\s*+" + _TUPLE + rb")*+\s*+", re.S)
_DEFINER = re.compile(r"DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.)*'|[\w.$%-]+|CURRENT_USER(?:\s*\(\s*\))?)"
                      r"(?:\s*@\s*(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.)*'|[\w.$%-]+))?", re.I)
_OBJECT_WORD = re.compile(r"\b(?:VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT)\b", re.I)


@dataclass
class Refusal:
    line: int
    statement: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: refused {self.statement} ({self.why})"


@dataclass
class TableFacts:
    """What the dump does to one table, for the loss check."""

    line: int
    rows: int = 0
    """Rows the dump's INSERTs carry (refused ones included: they are lost if not restored)."""
    refused: str = ""
    """Why its CREATE TABLE was refused (then it is lost)."""
    refused_rows: list[int] = field(default_factory=list)
    """Lines of INSERTs into it that were refused."""
    insert_lines: list[int] = field(default_factory=list)
    """Lines of the INSERTs sent (to name the errors that lost rows)."""


@dataclass
class _Statement:
    start: int
    end: int
    line: int
    problem: str = ""
    tuples: int | None = None
    """Value tuples counted by the fast path (an INSERT it could read)."""
    table: tuple[str | None, str] | None = None


class DumpFilter:
    """Feed it the dump in chunks (``feed``), ``feed(b"")`` at the end; it returns what the
    client may read. ``on_database(name)`` runs before the first statement that creates or uses a
    database reaches the client (the restore grants the restoring account that database)."""

    def __init__(self, server_version: tuple[int, int, int], database: str | None,
                 on_database: Callable[[str], None] | None = None) -> None:
        self.server_version = server_version
        self.db = database
        self.on_database = on_database or (lambda name: None)
        self.buf = bytearray()
        self.line = 1
        self.delim = b";"
        self.at_line_start = True
        self.need = 0
        self.skipping: tuple[str, int] | None = None
        self.refused: list[Refusal] = []
        self.tables: dict[tuple[str, str], TableFacts] = {}
        self.views: dict[tuple[str, str], int] = {}
        self.triggers: dict[tuple[str, str], tuple[str, int]] = {}
        self.databases: dict[str, int] = {}
        self.skipped: list[tuple[str, int, int]] = []
        self.definers = 0
        self.uservars: dict[str, tuple[str, str] | None] = {}
        self.cut: int | None = None
        """The line of a statement (or comment) the dump ends inside of."""
        self.completed: int | None = None
        """The line of mysqldump's closing comment (``-- Dump completed``)."""
        self.footer: int | None = None
        """The line of mysqldump's closing ``SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT``."""
        self.statements = 0
        self.ended = False
        """Whether the whole dump went through (``feed(b"")``): else the client stopped reading."""
        self.preamble = False
        """Whether the dump starts as mysqldump does (``SET @OLD_CHARACTER_SET_CLIENT=…``)."""
        self._fast: dict[bytes, re.Pattern[bytes]] = {}
        self._special: dict[bytes, re.Pattern[bytes]] = {}
        if database is not None:
            self.databases[database] = 0

    # -- the stream ----------------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        final = not data
        if data:
            self.buf += data
            if len(self.buf) < self.need:
                return b""
        out: list[bytes] = []
        pos = 0
        while True:
            pos, ready = self._between(pos, final, out)
            if not ready:
                break
            got = self._statement(pos, final)
            if got is None:
                break
            out.append(self._decide(got))
            self.line += self.buf.count(b"\n", got.start, got.end)
            pos = got.end
        del self.buf[:pos]
        if final:
            self._finish()
        elif self.buf:
            if len(self.buf) > MAX_STATEMENT:
                from extractor.errors import SourceError

                raise SourceError(f"the dump holds a statement longer than {MAX_STATEMENT >> 20} MiB at line "
                                  f"{self.line}; no MySQL server takes one that long")
            self.need = len(self.buf) * 2
        else:
            self.need = 0
        return b"".join(out)

    def _finish(self) -> None:
        self.ended = True
        if self.buf.strip():
            self.cut = self.line
            text = bytes(self.buf).decode("latin-1")
            self.refused.append(Refusal(self.line, _shown(text), "the dump ends inside this statement: it is cut short"))
            self._lost_rows([(k, t.lower() if k == "name" else t) for k, t in tokens(text, True)], text, self.line)
        self.buf.clear()
        self._end_skip(self.line)

    def _between(self, pos: int, final: bool, out: list[bytes]) -> tuple[int, bool]:
        """Past blanks, comments and client commands outside statements (each kept as its
        newlines only): the position reached, and whether a statement starts there (else more
        input is needed, or the dump has ended)."""
        b = self.buf
        while pos < len(b):
            if self.at_line_start:
                step = self._line_start(pos, final, out)
                if step is None:
                    return pos, False
                if step != pos:
                    pos = step
                    continue
            pos = _SPACE.match(b, pos).end()  # type: ignore[union-attr]
            if pos >= len(b):
                break
            c = b[pos]
            if c == 10:
                out.append(b"\n")
                self.line += 1
                self.at_line_start = True
                pos += 1
                continue
            self.at_line_start = False
            if c == 35 or b.startswith(b"--", pos):  # a comment to the end of the line
                if b.startswith(b"-- Dump completed", pos):
                    self.completed = self.line
                eol = b.find(b"\n", pos)
                if eol < 0:
                    return (pos, False) if not final else (len(b), False)
                pos = eol
                continue
            if len(b) < pos + 4 and not final and c in b"-/":  # "--", "/*", "/*!" or "/*M!" may be coming
                return pos, False
            if b.startswith(b"/*", pos) and not (b.startswith(b"/*!", pos) or b.startswith(b"/*M!", pos)):
                end = b.find(b"*/", pos + 2)
                if end < 0:
                    return (pos, False) if not final else (self._cut_comment(pos), False)
                n = b.count(b"\n", pos, end)
                out.append(b"\n" * n)
                self.line += n
                pos = end + 2
                continue
            return pos, True
        return pos, False

    def _cut_comment(self, pos: int) -> int:
        self.refused.append(Refusal(self.line, "a comment", "the dump ends inside it: it is cut short"))
        self.cut = self.line
        return len(self.buf)

    def _line_start(self, pos: int, final: bool, out: list[bytes]) -> int | None:
        """A client command at the start of a line outside a statement: the whole line, as the
        client reads it (``DELIMITER`` is followed, every other command refused)."""
        b = self.buf
        if not final and len(b) - pos < 64 and b.find(b"\n", pos) < 0:
            return None  # too little of the line to tell
        m = _SANDBOX_LINE.match(b, pos)
        if m:
            out.append(b"\n" * b.count(b"\n", pos, m.end()))
            self.line += b.count(b"\n", pos, m.end())
            return m.end()
        m = _LINE_WORD.match(b, pos)
        if m is None:
            return pos
        word = m.group(1).decode("latin-1").lower()
        if not (word.startswith("\\") or word in CLIENT_COMMANDS):
            return pos
        eol = b.find(b"\n", pos)
        if eol < 0 and not final:
            return None
        end = len(b) if eol < 0 else eol
        text = bytes(b[pos:end])
        if word == "delimiter":
            d = _DELIMITER_LINE.match(text)
            if d and _GOOD_DELIMITER.fullmatch(d.group(1)):
                self.delim = d.group(1)
                out.append(b"DELIMITER " + self.delim)
            else:
                self.refused.append(Refusal(self.line, _shown(text), "a DELIMITER uttrekk does not follow"))
            return end
        if not word.startswith("\\") and self.delim in text:
            return pos  # the client sends such a line to the server as SQL
        self.refused.append(Refusal(self.line, _shown(text), "a client command: the dump may only hold SQL"))
        return end

    # -- one statement --------------------------------------------------------------------------

    def _statement(self, pos: int, final: bool) -> _Statement | None:
        """The statement starting at ``pos`` up to and with its delimiter, or ``None``: more
        input is needed (at the end of the dump: the rest is a cut statement)."""
        b, delim = self.buf, self.delim
        fast = self._fast.get(delim)
        if fast is None:
            fast = self._fast[delim] = re.compile(
                rb"(?:[^'\"`#/\\\-" + _CTRL + re.escape(delim[:1]) + rb"]++|'(?:[^'\\]++|\\.)*+'"
                rb"|\"(?:[^\"\\]++|\\.)*+\"|`[^`]*+`|/(?!\*)|-(?!-))*+", re.S)
        e = fast.match(b, pos).end()  # type: ignore[union-attr]
        if b.startswith(delim, e):
            return self._counted(_Statement(pos, e + len(delim), self.line))
        if e >= len(b) or b[e] in _STRING and _STRING[b[e]].match(b, e) is None:
            if final:
                self._cut()
            return None
        return self._slow(pos, final)

    def _cut(self) -> None:
        """The dump ends inside a statement: ``_finish`` refuses what is left; ``cut`` says where."""
        self.cut = self.line

    def _slow(self, pos: int, final: bool) -> _Statement | None:
        """The client's reading of a statement holding comments, executable comments or anything
        else the fast expression stops at; ``problem`` says what makes it ambiguous or a command."""
        b, delim = self.buf, self.delim
        special = self._special.get(delim)
        if special is None:
            special = self._special[delim] = re.compile(
                rb"['\"`#/\\\-*" + _CTRL + re.escape(delim[:1]) + rb"]")
        i, in_exec, exec_runs, problem = pos, False, True, ""
        n = len(b)
        while True:
            m = special.search(b, i)
            if m is None:
                if final:
                    self._cut()
                return None
            j = m.start()
            c = b[j]
            if j + 4 > n and not final and c in b"-/*":
                return None
            if b.startswith(delim, j):
                return self._counted(_Statement(pos, j + len(delim), self.line, problem))
            if c in _STRING:
                s = _STRING[c].match(b, j)
                if s is None:
                    if final:
                        self._cut()
                    return None
                if in_exec and not exec_runs:
                    problem = problem or "a quote inside a version comment the server skips"
                i = s.end()
            elif c == 35 or c == 45 and b[j + 1:j + 2] == b"-" and (j + 2 >= n or b[j + 2] in b" \t\n\r\x0b\x0c"):
                if in_exec:
                    problem = problem or "a comment inside a version comment"
                eol = b.find(b"\n", j)
                if eol < 0:
                    if final:
                        self._cut()
                    return None
                i = eol
            elif c == 47 and b[j + 1:j + 2] == b"*":
                marker = 3 if b[j + 2:j + 3] == b"!" else 4 if b[j + 2:j + 4] == b"M!" else 0
                if in_exec:
                    problem = problem or "a comment inside a version comment"
                if marker:
                    digits = re.match(rb"\d{0,6}", b[j + marker:j + marker + 7]).group()  # type: ignore[union-attr]
                    width = 5 if marker == 3 else 6
                    if len(digits) > width:
                        problem = problem or "an unclear version number in a version comment"
                        digits = digits[:width]
                    in_exec, exec_runs = True, not digits or _version(digits) <= self.server_version
                    i = j + marker + len(digits)
                else:
                    end = b.find(b"*/", j + 2)
                    if end < 0:
                        if final:
                            self._cut()
                        return None
                    i = end + 2
            elif c == 42 and in_exec and b[j + 1:j + 2] == b"/":
                in_exec = False
                i = j + 2
            elif c == 92:
                problem = problem or f"the client command \\{chr(b[j + 1]) if j + 1 < n else ''}"
                i = j + 2
            elif c < 32 and c not in (9, 10, 13):
                problem = problem or "a control character outside a string"
                i = j + 1
            else:
                i = j + 1

    def _counted(self, st: _Statement) -> _Statement:
        """An INSERT the fast expressions can read: its table and value tuples, without tokens."""
        if st.problem:
            return st
        body = self.buf[st.start:st.end - len(self.delim)]
        head = _INSERT_HEAD.match(body)
        if head is None:
            return st
        values = _TUPLES.fullmatch(body, head.end())
        if values is None:
            return st
        first, second = (_unquote(g.decode("latin-1")) if g else None for g in head.groups())
        st.table = (first, second) if second is not None else (None, first)  # type: ignore[assignment]
        st.tuples = _STRINGS.sub(b"", body[head.end():]).count(b"(")
        return st

    # -- what to do with it ---------------------------------------------------------------------

    def _decide(self, st: _Statement) -> bytes:
        raw = bytes(self.buf[st.start:st.end])
        lines = raw.count(b"\n")
        blank = b"\n" * lines
        line = st.line
        self.statements += 1
        if st.tuples is not None:
            return self._insert(st, raw, st.table, st.tuples, line) or blank
        text = raw[:len(raw) - len(self.delim)].decode("latin-1")
        words = [(k, t.lower() if k == "name" else t) for k, t in tokens(text, True)]
        if not words:
            return blank
        if st.problem:
            self._refuse(line, text, st.problem, words)
            return blank
        verdict = self._verdict(words, text, line)
        if isinstance(verdict, Refusal):
            self.refused.append(verdict)
            self._lost_rows(words, text, line)
            return blank
        if verdict is None:
            return blank
        return verdict + b"\n" * (lines - verdict.count(b"\n")) if verdict.count(b"\n") < lines else verdict

    def _refuse(self, line: int, text: str, why: str, words: list[tuple[str, str]]) -> None:
        if self.skipping is None:
            self.refused.append(Refusal(line, _shown(text), why))
            self._lost_rows(words, text, line)

    def _lost_rows(self, words: list[tuple[str, str]], text: str, line: int) -> None:
        """A refused INSERT's rows and a refused CREATE TABLE are lost: expect them anyway."""
        if self.skipping is not None or not words or words[0][0] != "name":
            return
        if words[0][1] in ("insert", "replace"):
            table = _target(words)
            if table is not None and self._key(table)[0].lower() not in SYSTEM_DATABASES:
                facts = self.tables.setdefault(self._key(table), TableFacts(line))
                facts.rows += _tuples(words)
                facts.refused_rows.append(line)
        elif words[0][1] == "create" and _object(words)[0] == "table":
            name = _object(words)[1]
            if name is not None:
                self.tables.setdefault(self._key(name), TableFacts(line)).refused = self.refused[-1].why

    def _key(self, name: tuple[str | None, str]) -> tuple[str, str]:
        return (name[0] or self.db or "", name[1])

    def _insert(self, st: _Statement, raw: bytes, table: tuple[str | None, str] | None, rows: int,
                line: int) -> bytes | None:
        if self.skipping is not None:
            return None
        assert table is not None
        key = self._key(table)
        if key[0].lower() in SYSTEM_DATABASES:
            self.refused.append(Refusal(line, _shown(raw.decode("latin-1")),
                                        f"writes into the server's own database {key[0]}"))
            return None
        facts = self.tables.setdefault(key, TableFacts(line))
        facts.rows += rows
        why = ""
        if key in self.triggers:
            trigger, at = self.triggers[key]
            why = f"the dump gave {key[1]} the trigger {trigger} before (line {at}), which would change the rows"
        if why:
            facts.refused_rows.append(line)
            self.refused.append(Refusal(line, _shown(raw.decode("latin-1")), why))
            return None
        facts.insert_lines.append(line)
        return raw

    def _verdict(self, words: list[tuple[str, str]], text: str, line: int) -> bytes | Refusal | None:
        """The bytes to send for an allowed statement, a ``Refusal``, or ``None`` (skipped quietly)."""
        kind, first = words[0]
        verb = first if kind == "name" else ""
        if self.skipping is not None and verb not in ("use", "set", "create", "drop"):
            return None
        if verb == "use":
            return self._use(words, line)
        if verb in ("create", "drop", "alter") and _object(words)[0] in ("database", "schema"):
            name = _object(words)[1]
            if name is None:
                return Refusal(line, _shown(text), "a database statement uttrekk cannot read")
            if name[1].lower() in SYSTEM_DATABASES:
                if verb == "create":
                    self._start_skip(name[1], line)
                return None
            self._database(name[1], line)
            return self._checked(words, text, line, verb)
        if self.skipping is not None and verb != "set":
            return None
        why = _forbidden(words, text)
        if why:
            return Refusal(line, _shown(text), why)
        if verb == "set":
            return self._set(words, text, line)
        if verb in ("insert", "replace"):
            return self._slow_insert(words, text, line)
        if verb in ("create", "drop", "alter"):
            return self._checked(words, text, line, verb)
        if verb in ("lock", "unlock") and len(words) > 1 and words[1][1] in ("table", "tables"):
            return self._checked(words, text, line, verb)
        if verb in ("commit", "rollback") or verb == "start" and words[1:2] == [("name", "transaction")] \
                or verb == "begin" and len(words) == 1:
            return _raw(text, self.delim)
        if verb in ("select", "do") and called(text) == {"setval"} and not any(w in (("name", "from"), ("name", "into"))
                                                                        for w in words):
            return _raw(text, self.delim)
        return Refusal(line, _shown(text), _why_not(words))

    def _use(self, words: list[tuple[str, str]], line: int) -> bytes | None:
        if len(words) != 2 or words[1][0] not in ("name", "quoted", "string"):
            return Refusal(line, _shown(" ".join(t for _, t in words)), "a USE uttrekk cannot read")  # type: ignore[return-value]
        name = words[1][1]
        if name.lower() in SYSTEM_DATABASES:
            self._start_skip(name, line)
            return None
        self._end_skip(line - 1)
        self._database(name, line)
        self.db = name
        return b"USE `" + name.replace("`", "``").encode("latin-1") + b"`" + self.delim

    def _database(self, name: str, line: int) -> None:
        if name not in self.databases:
            self.databases[name] = line
            self.on_database(name)

    def _start_skip(self, name: str, line: int) -> None:
        if self.skipping is None:
            self.skipping = (name.lower(), line)

    def _end_skip(self, line: int) -> None:
        if self.skipping is not None:
            self.skipped.append((self.skipping[0], self.skipping[1], line))
            self.skipping = None

    def _checked(self, words: list[tuple[str, str]], text: str, line: int, verb: str) -> bytes | Refusal:
        """CREATE/DROP/ALTER/LOCK: the object kinds a dump writes, without network engines, files
        outside the database, loadable functions or the server's own databases; definers removed."""
        obj, name, names = _object(words)
        if verb in ("create", "drop", "alter") and obj not in _OBJECTS:
            return Refusal(line, _shown(text), _why_not(words))
        why = _forbidden(words, text)
        if why:
            return Refusal(line, _shown(text), why)
        if verb == "create" and obj == "table" and any(w == ("name", "select") for w in words):
            return Refusal(line, _shown(text), "CREATE TABLE … SELECT copies rows the dump does not hold")
        if verb == "create" and obj == "function" and any(w == ("name", "soname") for w in words):
            return Refusal(line, _shown(text), "a loadable function (SONAME) runs a library on the server")
        for db in _qualifiers(words):
            if db.lower() in SYSTEM_DATABASES:
                return Refusal(line, _shown(text), f"touches the server's own database {db}")
        out = text
        if verb in ("create", "alter") and obj in _ROUTINES:
            head = _OBJECT_WORD.search(text)
            cut = _DEFINER.search(text, 0, head.end() if head else len(text))
            if cut:
                out = text[:cut.start()] + text[cut.end():]
                self.definers += 1
        if verb == "create" and obj == "table" and name is not None:
            self.tables[self._key(name)] = TableFacts(line)
        elif verb == "create" and obj == "view" and name is not None:
            self.views[self._key(name)] = line
            self.tables.pop(self._key(name), None)
        elif verb == "create" and obj == "trigger":
            table = _trigger_table(words)
            if table is not None and name is not None:
                self.triggers[self._key(table)] = (name[1], line)
        elif verb == "drop" and obj in ("table", "view"):
            for n in names:
                self.tables.pop(self._key(n), None)
                self.views.pop(self._key(n), None)
        elif verb == "drop" and obj == "trigger" and name is not None:
            self.triggers = {k: v for k, v in self.triggers.items() if v[0] != name[1]}
        return _raw(out, self.delim)

    def _slow_insert(self, words: list[tuple[str, str]], text: str, line: int) -> bytes | Refusal:
        """An INSERT the fast expressions could not read: its tokens decide."""
        table = _target(words)
        if table is None or not any(w in (("name", "values"), ("name", "value")) for w in words):
            return Refusal(line, _shown(text), "an INSERT that is not INSERT … VALUES (a dump writes no other)")
        calls = called(text)
        why = _forbidden(words, text)
        if not why and calls:
            why = f"calls {', '.join(sorted(calls))}() in its values (a dump writes literal values only)"
        if not why and any(w == ("name", "select") for w in words):
            why = "holds a SELECT (a dump writes literal values only)"
        if not why and any(w == ("name", "duplicate") for w in words):
            why = "ON DUPLICATE KEY UPDATE changes rows (a dump writes none)"
        if not why and any(db.lower() in SYSTEM_DATABASES for db in _qualifiers(words)):
            why = "writes into the server's own databases"
        key = self._key(table)
        if not why and key in self.triggers:
            trigger, at = self.triggers[key]
            why = f"the dump gave {key[1]} the trigger {trigger} before (line {at}), which would change the rows"
        if why:
            return Refusal(line, _shown(text), why)
        facts = self.tables.setdefault(key, TableFacts(line))
        facts.rows += _tuples(words)
        facts.insert_lines.append(line)
        return _raw(text, self.delim)

    def _set(self, words: list[tuple[str, str]], text: str, line: int) -> bytes | Refusal:
        """SET of session variables; guarded ones (``sql_mode``, the client character set) only to
        values that keep statements read as this filter reads them."""
        why = _forbidden(words, text)
        if why:
            return Refusal(line, _shown(text), why)
        if any(w == ("name", "select") for w in words):
            return Refusal(line, _shown(text), "a SELECT inside SET (a dump writes none)")
        parts: list[list[tuple[str, str]]] = [[]]
        depth = 0
        for w in words[1:]:
            if w[0] == "other" and w[1] in "()":
                depth += 1 if w[1] == "(" else -1
            if w == ("other", ",") and depth == 0:
                parts.append([])
            else:
                parts[-1].append(w)
        updates: dict[str, tuple[str, str] | None] = {}
        for part in parts:
            why = self._assignment(part, updates)
            if why:
                return Refusal(line, _shown(text), why)
        self.uservars.update(updates)
        if any(words[i:i + 3] == [("other", "="), ("var", "@"), ("name", "old_character_set_client")]
               for i in range(len(words))):
            self.footer = line
        if "old_character_set_client" in updates:
            self.preamble = True
        return _raw(text, self.delim)

    def _assignment(self, part: list[tuple[str, str]], updates: dict[str, tuple[str, str] | None]) -> str:
        if not part:
            return "an empty assignment"
        kind, word = part[0]
        if kind == "name" and word in ("global", "persist", "persist_only"):
            return f"SET {word.upper()} changes the server for every session"
        if kind == "name" and word in ("password", "role", "default", "statement"):
            return f"SET {word.upper()} (a dump writes none)"
        if kind == "name" and word == "transaction":
            return ""
        if kind == "name" and word in ("session", "local"):
            part = part[1:]
        if part[:1] == [("var", "@")]:
            name = part[1][1].lower() if len(part) > 1 else ""
            value = part[3:] if len(part) > 2 and part[2][1] in ("=", ":=") else []
            updates[name] = _tracked(value, self.uservars)
            return ""
        if part[:1] == [("var", "@@")]:
            part = part[1:]
            if len(part) > 2 and part[1] == ("other", ".") and part[0][0] == "name":
                if part[0][1] == "global":
                    return "SET @@GLOBAL changes the server for every session"
                part = part[2:]
        if not part or part[0][0] != "name":
            return "an assignment uttrekk cannot read"
        var = part[0][1]
        if var in ("names", "charset") or var == "character" and part[1:2] == [("name", "set")]:
            value = part[2:3] if var == "character" else part[1:2]
            return _charset_ok(value, self.uservars)
        value = part[2:] if len(part) > 1 and part[1][1] in ("=", ":=") else []
        if var == "sql_mode":
            return _mode_ok(value, self.uservars)
        if var == "character_set_client":
            return _charset_ok(value, self.uservars)
        return ""

    # -- the result -----------------------------------------------------------------------------

    def skipped_notes(self) -> list[str]:
        return [f"lines {first}-{last}: the dump's {db} database (the server's own: accounts, privileges, "
                "time zones, help) is not restored, on purpose" for db, first, last in self.skipped]


# -- helpers ------------------------------------------------------------------------------------


def _version(digits: bytes) -> tuple[int, int, int]:
    d = digits.decode()
    if len(d) == 5:
        return int(d[0]), int(d[1:3]), int(d[3:5])
    if len(d) == 6:
        return int(d[0:2]), int(d[2:4]), int(d[4:6])
    return (99, 99, 99) if d else (0, 0, 0)


def _unquote(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def _raw(text: str, delim: bytes) -> bytes:
    return text.encode("latin-1") + delim


def _shown(text: str | bytes) -> str:
    """A statement as a report line shows it: its start, on one line, printable."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    text = re.sub(r"\s+", " ", text).strip()
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text[:80] + ("…" if len(text) > 80 else "")


def _why_not(words: list[tuple[str, str]]) -> str:
    verb = " ".join(t.upper() for k, t in words[:2] if k == "name")
    return f"{verb or 'this statement'} is not something a dump may do"


def _forbidden(words: list[tuple[str, str]], text: str) -> str:
    calls = called(text)
    for name, why in _FORBIDDEN_CALLS.items():
        if name in calls:
            return f"calls {name.upper()}(), which {why}"
    flat = " " + " ".join(t for k, t in words if k == "name") + " "
    for phrase, why in _FORBIDDEN_PHRASES.items():
        if phrase in flat:
            return why
    for i, (k, t) in enumerate(words):
        if k == "name" and t == "engine":
            rest = [w for w in words[i + 1:i + 3] if w != ("other", "=")]
            if rest and rest[0][1].lower() in NETWORK_ENGINES:
                return f"ENGINE={rest[0][1].upper()} keeps the table on another server or in outside files"
    return ""


def _object(words: list[tuple[str, str]]) -> tuple[str, tuple[str | None, str] | None, list[tuple[str | None, str]]]:
    """The object kind of a CREATE/DROP/ALTER, its (first) name and every name (DROP TABLE a, b)."""
    i = 1
    while i < len(words):
        kind, word = words[i]
        if kind == "name" and word in _OBJECTS | {"user", "role", "server", "tablespace", "logfile", "package",
                                                   "instance", "resource"}:
            break
        if kind == "name" and word == "definer" and words[i + 1:i + 2] == [("other", "=")]:
            i += 3  # DEFINER = user@host, or CURRENT_USER[()]
            if words[i:i + 1] == [("var", "@")]:
                i += 2
            while words[i:i + 1] in ([("other", "(")], [("other", ")")]):
                i += 1
            continue
        i += 1
    if i >= len(words):
        return "", None, []
    obj = words[i][1]
    rest = words[i + 1:]
    while rest and rest[0][0] == "name" and rest[0][1] in ("if", "not", "exists"):
        rest = rest[1:]
    names: list[tuple[str | None, str]] = []
    j = 0
    while j < len(rest) and rest[j][0] in ("name", "quoted"):
        first = rest[j][1]
        if j + 2 < len(rest) and rest[j + 1] == ("other", ".") and rest[j + 2][0] in ("name", "quoted"):
            names.append((first, rest[j + 2][1]))
            j += 3
        else:
            names.append((None, first))
            j += 1
        if obj not in ("table", "view") or j >= len(rest) or rest[j] != ("other", ","):
            break
        j += 1
    return obj, (names[0] if names else None), names


def _target(words: list[tuple[str, str]]) -> tuple[str | None, str] | None:
    """The table an INSERT or REPLACE writes into."""
    i = 1
    while i < len(words) and words[i][0] == "name" and words[i][1] in ("low_priority", "delayed", "high_priority",
                                                                        "ignore", "into"):
        i += 1
    if i >= len(words) or words[i][0] not in ("name", "quoted"):
        return None
    if i + 2 < len(words) and words[i + 1] == ("other", ".") and words[i + 2][0] in ("name", "quoted"):
        return words[i][1], words[i + 2][1]
    return None, words[i][1]


def _tuples(words: list[tuple[str, str]]) -> int:
    """Value tuples after VALUES: parentheses opened at depth 0."""
    count, depth, seen = 0, 0, False
    for w in words:
        if not seen:
            seen = w in (("name", "values"), ("name", "value"))
            continue
        if w == ("other", "("):
            count += depth == 0
            depth += 1
        elif w == ("other", ")"):
            depth -= 1
    return count


def _trigger_table(words: list[tuple[str, str]]) -> tuple[str | None, str] | None:
    for i, w in enumerate(words):
        if w == ("name", "on") and i + 1 < len(words) and words[i + 1][0] in ("name", "quoted"):
            if i + 3 < len(words) and words[i + 2] == ("other", "."):
                return words[i + 1][1], words[i + 3][1]
            return None, words[i + 1][1]
    return None


def _qualifiers(words: list[tuple[str, str]]) -> list[str]:
    """The database parts of qualified names (``db.table``) in a statement."""
    out = []
    for a, b, c in zip(words, words[1:], words[2:], strict=False):
        if a[0] in ("name", "quoted") and b == ("other", ".") and c[0] in ("name", "quoted"):
            out.append(a[1])
    return out


def _tracked(value: list[tuple[str, str]], uservars: dict[str, tuple[str, str] | None]) -> tuple[str, str] | None:
    """What a user variable holds, as far as the guarded settings need to know."""
    if len(value) == 1 and value[0][0] == "string":
        return ("literal", value[0][1])
    if value[:1] == [("var", "@@")]:
        rest = [t for k, t in value[1:] if k == "name"]
        if rest and rest[0] in ("session", "local"):
            rest = rest[1:]
        if len(rest) == 1:
            return ("variable", rest[0])
    if len(value) == 2 and value[0] == ("var", "@"):
        return uservars.get(value[1][1].lower())
    return None


def _mode_ok(value: list[tuple[str, str]], uservars: dict[str, tuple[str, str] | None]) -> str:
    if len(value) == 1 and value[0] in (("name", "default"),):
        return ""
    held = _tracked(value, uservars)
    if held == ("variable", "sql_mode"):
        return ""
    if held is not None and held[0] == "literal":
        flags = [f.strip().upper() for f in held[1].split(",") if f.strip()]
        bad = [f for f in flags if f not in SQL_MODES]
        if bad:
            return f"sql_mode {', '.join(bad)} would change how the dump's statements or values are read"
        return ""
    return "a sql_mode uttrekk cannot tell from the dump"


def _charset_ok(value: list[tuple[str, str]], uservars: dict[str, tuple[str, str] | None]) -> str:
    if len(value) == 1 and value[0][0] in ("name", "string", "quoted"):
        name = value[0][1].lower()
        if name == "default" or name not in UNSAFE_CHARSETS:
            return ""
        return f"the client character set {name} can hide quotes and backslashes inside characters"
    held = _tracked(value, uservars)
    if held is not None and held[0] == "variable" and held[1] in ("character_set_client", "character_set_connection"):
        return ""
    if held is not None and held[0] == "literal" and held[1].lower() not in UNSAFE_CHARSETS:
        return ""
    return "a client character set uttrekk cannot tell from the dump"
