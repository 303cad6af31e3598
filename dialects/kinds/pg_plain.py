r"""Plain SQL dumps (``pg_dump -Fp``, ``pg_dumpall``) read as psql would read them, without psql.

A plain dump is meant for ``psql``, and psql runs meta-commands on the machine that reads the dump
(``\!``, ``\o``, ``\copy``, backticks in arguments …). What psql takes for a meta-command depends
on state the dump itself can change while it runs (``standard_conforming_strings``,
``client_encoding``) and on whether each ``COPY`` succeeded (after a failed COPY, psql reads its
data lines as commands). A filter in front of psql would have to predict all of that exactly, so
uttrekk does not use psql: ``Splitter`` reads the script the way psql's lexer (``psqlscan.l``) does,
``pg_script`` sends each statement to the server itself and does only the meta-commands pg_dump
writes (``\connect``, ``\encoding``, ``\restrict``, ``\unrestrict``, and ``\.`` ending COPY data).

The splitter follows comments (nested ``/* */``), string literals (``'…'``, ``E'…'``, ``B''``,
``X''``, ``U&''``, continued across lines), quoted identifiers, dollar quotes, parentheses and
``BEGIN ATOMIC`` bodies, so a ``;`` or a backslash inside any of them is text. After a
``COPY … FROM stdin`` statement every line up to ``\.`` is data, whatever it looks like, and is
never lexed; outside such a block no line is ever taken for data. Statement boundaries only decide
what is sent together: the server parses each statement itself, as the restoring role, which can do
no harm (``pg_server``), so a hostile dump that confuses the splitter only gets errors, reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER = re.compile(rb"\A(?:\xef\xbb\xbf)?--\r?\n-- PostgreSQL database (cluster )?dump\r?\n--\r?\n")
FROM_VERSION = re.compile(rb"^-- Dumped from database version (.+?)\r?$", re.MULTILINE)
BY_VERSION = re.compile(rb"^-- Dumped by (pg_dump(?:all)?) version (.+?)\r?$", re.MULTILINE)
DATABASE_SECTION = re.compile(rb'^-- Database "(.+)" dump\r?$', re.MULTILINE)
COMPLETE = re.compile(rb"^-- PostgreSQL database (cluster )?dump complete\s*$")

SENDS_QUERY = frozenset({"g", "gx", "gset", "gexec", "gdesc", "crosstabview", "watch"})
"""Meta-commands that send the query typed before them (refused, so that query is never run)."""
LITERAL_KEPT = 200
"""String literals up to this length keep their text in a statement's skeleton (for ``SET`` values)."""


def plain_header(head: bytes) -> dict[str, str] | None:
    """What a plain dump's first lines say (tool, versions, the databases of a pg_dumpall), or None."""
    m = HEADER.match(head)
    if m is None:
        return None
    facts = {"format": "plain (pg_dumpall)" if m.group(1) else "plain"}
    tool = BY_VERSION.search(head)
    if tool:
        facts["tool"] = tool.group(1).decode()
        facts["tool_version"] = tool.group(2).decode("utf-8", "replace")
    else:
        facts["tool"] = "pg_dumpall" if m.group(1) else "pg_dump"
    source = FROM_VERSION.search(head)
    if source:
        facts["server_version"] = source.group(1).decode("utf-8", "replace")
    if m.group(1):
        names = [n.decode("utf-8", "replace") for n in DATABASE_SECTION.findall(head)]
        names = [n for n in names if n not in ("template1", "postgres")] or names
        if names:
            facts["databases"] = ", ".join(dict.fromkeys(names))
    return facts


# -- events -------------------------------------------------------------------------------------


@dataclass
class Statement:
    text: bytes
    """As it is sent: comments left out, literals whole."""
    skeleton: bytes
    """For classifying: whitespace collapsed, comments left out, literal contents replaced by ``?``."""
    literal: bytes
    """The first string literal's text when it is short (``SET x = 'value'``)."""
    line: int
    end_line: int
    value_rows: int
    """``(…)`` groups of a top-level ``VALUES`` list (the rows an INSERT adds)."""
    kind: tuple[str, ...] = ()
    """What it is (``classify``)."""


@dataclass
class Meta:
    """A psql meta-command (a backslash outside quotes): the rest of its line."""

    name: str
    args: str
    line: int


@dataclass
class CopyData:
    data: bytes
    rows: int


@dataclass
class CopyEnd:
    line: int
    terminated: bool
    """False: the dump ended inside the data (cut short)."""


@dataclass
class Cut:
    """The dump ended inside a statement (or a comment or literal)."""

    line: int


Event = Statement | Meta | CopyData | CopyEnd | Cut

_INITIAL = re.compile(rb"""[-/'"$;()\\]""")
_XE = re.compile(rb"[\\']")
_QUOTE = re.compile(rb"'")
_XC = re.compile(rb"/\*|\*/")
_DOLLAR = re.compile(rb"\$([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$")
_VALUES = re.compile(rb"(?<![A-Za-z0-9_$\x80-\xff])values(?![A-Za-z0-9_$\x80-\xff])", re.IGNORECASE)
_IDENT_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$") | frozenset(range(0x80, 0x100))
_SPACE = re.compile(rb"\s+")


def _ident_before(line: bytes, k: int) -> bool:
    return k >= 0 and line[k] in _IDENT_BYTES


class Splitter:
    """Bytes of a plain dump in, ``Event``s out (``feed`` as the dump is read, ``end`` at its end)."""

    def __init__(self) -> None:
        self.line = 0
        self.scs = True
        """``standard_conforming_strings`` as the dump set it (on unless a ``SET`` says off)."""
        self.complete = False
        """pg_dump's closing comment was the last thing read."""
        self.copying = False
        self._pending: list[bytes] = []
        self._state: str | None = None
        self._depth = 0
        self._tag = b""
        self._paren = 0
        self._continue: str | None = None
        self._new_statement()

    def _new_statement(self) -> None:
        self._started = False
        self._raw = bytearray()
        self._skel = bytearray()
        self._literal: bytes | None = None
        self._lit_start = 0
        self._start = 0
        self._paren = 0
        self._values = 0
        self._expect_group = False
        self._in_values = False
        self._await_comma = False

    # -- input ------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Event]:
        if b"\n" not in data:  # a long line arriving in pieces: joined once, when it ends
            self._pending.append(data)
            return []
        buf = b"".join([*self._pending, data]) if self._pending else data
        self._pending = []
        events: list[Event] = []
        pos = 0
        while pos < len(buf):
            if self.copying:
                pos = self._copy(buf, pos, events, final=False)
                if self.copying:
                    break
                continue
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            self._line(buf[pos:nl + 1], events)
            pos = nl + 1
        if pos < len(buf):
            self._pending.append(buf[pos:])
        return events

    def end(self) -> list[Event]:
        """What the end of the dump means: the last line without a newline, a COPY or statement cut off."""
        events: list[Event] = []
        buf, self._pending = b"".join(self._pending), []
        pos = 0
        while pos < len(buf) or self.copying:
            if self.copying:
                pos = self._copy(buf, pos, events, final=True)
                continue
            nl = buf.find(b"\n", pos)
            end = len(buf) if nl < 0 else nl + 1
            self._line(buf[pos:end] + (b"" if nl >= 0 else b"\n"), events)
            pos = end
        if self._started or self._state is not None:
            events.append(Cut(self.line))
            self._new_statement()
            self._state = None
        return events

    # -- COPY data ----------------------------------------------------------------------------------

    def _copy(self, buf: bytes, pos: int, events: list[Event], final: bool) -> int:
        """Data lines from ``pos`` (a line start) up to ``\\.``; returns where reading stopped."""
        for end in (b"\\.\n", b"\\.\r\n"):
            if buf.startswith(end, pos):
                self.line += 1
                self.copying = False
                events.append(CopyEnd(self.line, True))
                return pos + len(end)
        if final and buf[pos:] in (b"\\.", b"\\.\r"):  # the last line, without its newline
            self.line += 1
            self.copying = False
            events.append(CopyEnd(self.line, True))
            return len(buf)
        found = [i for i in (buf.find(b"\n\\.\n", pos), buf.find(b"\n\\.\r\n", pos)) if i >= 0]
        last = min(found) if found else buf.rfind(b"\n", pos)
        if last >= pos:
            data = buf[pos:last + 1]
            rows = data.count(b"\n")
            self.line += rows
            events.append(CopyData(data, rows))
            return last + 1
        if final:  # a partial line at the end: the dump was cut inside this row
            self.copying = False
            events.append(CopyEnd(self.line, False))
            return len(buf)
        return pos

    # -- SQL lines ------------------------------------------------------------------------------------

    def _line(self, line: bytes, events: list[Event]) -> None:
        self.line += 1
        n = len(line)
        i = 0
        if self._continue is not None:
            stripped = len(line) - len(line.lstrip())
            if stripped == n:
                self._raw += line
                return
            if line[stripped:stripped + 1] == b"'":
                self._raw += line[:stripped + 1]
                self._state, self._continue = self._continue, None
                i = stripped + 1
            else:
                self._continue = None
        while i < n:
            state = self._state
            if state is None:
                i = self._initial(line, i, events)
            elif state in ("xq", "xb", "xe"):
                m = (_XE if state == "xe" else _QUOTE).search(line, i)
                if m is None:
                    self._raw += line[i:]
                    return
                k = m.start()
                if line[k] == 0x5C or line[k + 1:k + 2] == b"'":  # an escaped byte (E'' only), a doubled quote
                    self._raw += line[i:k + 2]
                    i = k + 2
                else:
                    i = self._close_literal(line, i, k)
            elif state == "xd":
                k = line.find(b'"', i)
                if k < 0:
                    self._raw += line[i:]
                    self._skel += line[i:]
                    return
                if line[k + 1:k + 2] == b'"':
                    k += 1
                else:
                    self._state = None
                self._raw += line[i:k + 1]
                self._skel += line[i:k + 1]
                i = k + 1
            elif state == "xc":
                m = _XC.search(line, i)
                if m is None:
                    return
                self._depth += 1 if m.group() == b"/*" else -1
                if self._depth == 0:
                    self._state = None
                    self._raw += b" "
                i = m.end()
            else:  # dollar quote
                close = b"$" + self._tag + b"$"
                k = line.find(close, i)
                if k < 0:
                    self._raw += line[i:]
                    return
                self._raw += line[i:k + len(close)]
                self._state = None
                i = k + len(close)

    def _close_literal(self, line: bytes, i: int, k: int) -> int:
        """The closing quote of a literal at ``k``; a literal continued on the next line after only
        white space is one literal (``'a'`` newline ``'b'``), so that state is remembered."""
        self._raw += line[i:k + 1]
        if self._literal is None:
            text = bytes(self._raw[self._lit_start:-1])
            self._literal = text if len(text) <= LITERAL_KEPT else b""
        self._skel += b"?'"
        if not line[k + 1:].strip():
            self._continue = self._state
        self._state = None
        return k + 1

    def _initial(self, line: bytes, i: int, events: list[Event]) -> int:
        m = _INITIAL.search(line, i)
        end = m.start() if m else len(line)
        if end > i:
            chunk = line[i:end]
            if self._started:
                self._plain(chunk)
            elif chunk.strip():
                self._start, self._started = self.line, True
                self._plain(chunk.lstrip())
        if m is None:
            return len(line)
        c = line[end]
        nxt = line[end + 1:end + 2]
        if c == 0x2D:  # '-'
            if nxt == b"-":
                if not self._started and COMPLETE.match(line[end:]):
                    self.complete = True
                if self._started:
                    self._raw += b"\n"
                return len(line)
            self._sig(b"-")
            return end + 1
        if c == 0x2F:  # '/'
            if nxt == b"*":
                self._state, self._depth = "xc", 1
                return end + 2
            self._sig(b"/")
            return end + 1
        if c == 0x27:  # quote
            self._open_literal(line, end)
            return end + 1
        if c == 0x22:  # double quote
            self._sig(b'"')
            self._state = "xd"
            return end + 1
        if c == 0x24:  # '$'
            if not _ident_before(line, end - 1):
                d = _DOLLAR.match(line, end)
                if d is not None:
                    self._sig(b"")
                    self._raw += d.group()
                    self._skel += b"$?$"
                    self._tag = d.group(1) or b""
                    self._state = "dolq"
                    return d.end()
            self._sig(b"$")
            return end + 1
        if c == 0x28:  # '('
            if self._paren == 0 and self._expect_group:
                self._values += 1
                self._expect_group = False
            self._paren += 1
            self._sig(b"(")
            return end + 1
        if c == 0x29:  # ')'
            if self._paren > 0:
                self._paren -= 1
                if self._paren == 0 and self._in_values:
                    self._await_comma = True
            self._sig(b")")
            return end + 1
        if c == 0x3B:  # ';'
            self._sig(b";")
            if self._paren == 0 and not self._in_atomic_body():
                events.append(self._statement())
                self.complete = False
            return end + 1
        # a backslash outside quotes: a meta-command, to the end of the line
        rest = line[end + 1:].rstrip(b"\r\n").decode("utf-8", "replace")
        name = re.match(r"[A-Za-z0-9_+]+|.?", rest)
        assert name is not None
        events.append(Meta(name.group(), rest[name.end():].strip(), self.line))
        if name.group() in SENDS_QUERY:  # psql would have sent the query so far with it: it goes with the command
            self._new_statement()
        if name.group() != "unrestrict":
            self.complete = False
        return len(line)

    def _sig(self, data: bytes) -> None:
        if not self._started:
            self._start, self._started = self.line, True
        self._raw += data
        self._skel += data

    def _plain(self, chunk: bytes) -> None:
        """Text between special characters at the top level: words, numbers, operators, white space."""
        if self._paren == 0:
            if self._await_comma and chunk.strip():
                self._await_comma = False
                self._expect_group = chunk.strip() == b","
                self._in_values = self._expect_group
            elif not self._in_values and _VALUES.search(chunk):
                self._in_values = self._expect_group = True
        self._raw += chunk
        self._skel += chunk

    def _open_literal(self, line: bytes, k: int) -> None:
        prev = line[k - 1:k] if k > 0 else b""
        if prev and prev in b"EeBbXxNn" and not _ident_before(line, k - 2):
            state = {b"e": "xe", b"b": "xb", b"x": "xb"}.get(prev.lower(), "xq" if self.scs else "xe")
        elif k >= 2 and line[k - 2:k] in (b"U&", b"u&") and not _ident_before(line, k - 3):
            state = "xb"  # U&'…': no backslash escapes whatever standard_conforming_strings says
        else:
            state = "xq" if self.scs else "xe"
        self._sig(b"'")
        self._lit_start = len(self._raw)
        self._state = state

    def _in_atomic_body(self) -> bool:
        """psql's rule: in ``CREATE [OR REPLACE] FUNCTION|PROCEDURE`` a ``;`` between ``BEGIN`` (of
        ``BEGIN ATOMIC``) and its ``END`` does not end the statement; ``CASE`` … ``END`` nests."""
        skel = bytes(self._skel)
        if not _ROUTINE.match(skel):
            return False
        depth = paren = 0
        for m in _WORD_OR_PAREN.finditer(skel):
            word = m.group().lower()
            if word == b"(":
                paren += 1
            elif word == b")":
                paren = max(0, paren - 1)
            elif paren == 0:
                if word == b"begin":
                    depth += 1
                elif word == b"case" and depth >= 1:
                    depth += 1
                elif word == b"end" and depth > 0:
                    depth -= 1
        return depth > 0

    def _statement(self) -> Statement:
        skel = _SPACE.sub(b" ", bytes(self._skel)).strip()
        st = Statement(bytes(self._raw).strip(), skel, self._literal or b"", self._start or self.line, self.line,
                       self._values)
        self._new_statement()
        st.kind = kind = classify(st)
        if kind[0] in ("copy", "copy refused"):
            self.copying = True
        elif kind[0] == "scs":
            self.scs = kind[1] == "on"
        return st

    def connected(self) -> None:
        """A new session (``\\connect``): settings are the server's defaults again."""
        self.scs = True


_ROUTINE = re.compile(rb"\s*create\s+(or\s+replace\s+)?(function|procedure)\b", re.IGNORECASE)
_WORD_OR_PAREN = re.compile(rb"[A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*|[()]|'[^']*'|\"(?:[^\"]|\"\")*\"")


# -- what a statement is ------------------------------------------------------------------------------

_ID = rb'(?:"(?:[^"]|"")*"|[A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*)'
_QNAME = rb"(" + _ID + rb"(?:\s?\.\s?" + _ID + rb"){0,2})"
_I = re.IGNORECASE


def _rx(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(pattern, _I)


_COPY_DUMP = _rx(rb"^COPY " + _QNAME + rb" ?(\([^()]*\))? ?FROM STDIN ?;$")
_COPY = _rx(rb"^COPY\b")
_FROM_STDIN = _rx(rb"\bFROM STDIN\b")
_PROGRAM = _rx(rb"\bPROGRAM\b")
_TO_STDOUT = _rx(rb"\bTO STDOUT\b")
_OWNER = _rx(rb"^ALTER\b.*\bOWNER TO (" + _ID + rb") ?;$")
_PRIVILEGES = _rx(rb"^(GRANT|REVOKE)\b|^ALTER DEFAULT PRIVILEGES\b")
_SESSION_AUTH = _rx(rb"^(SET|RESET)( SESSION| LOCAL)? SESSION AUTHORIZATION\b")
_CLUSTER = _rx(rb"^(CREATE|ALTER|DROP) (ROLE|GROUP|TABLESPACE|USER(?! MAPPING))\b|^COMMENT ON (ROLE|TABLESPACE)\b"
               rb"|^SECURITY LABEL\b.*\bON (ROLE|TABLESPACE)\b")
_DEFAULT_TABLESPACE = _rx(rb"^SET default_tablespace ?(=|TO) ?'\?' ?;$")
_SCS = _rx(rb"^SET (SESSION |LOCAL )?standard_conforming_strings ?(?:=|TO) ?('\?'|(?:on|off|true|false)(?!\w))")
_CREATE_DATABASE = _rx(rb"^CREATE DATABASE (" + _ID + rb")")
_CREATE_TABLE = _rx(rb"^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?" + _QNAME)
_INSERT = _rx(rb"^INSERT INTO " + _QNAME)
_INSERT_VALUES = _rx(rb"^INSERT INTO " + _QNAME + rb" ?(\([^()]*\))? ?(OVERRIDING (SYSTEM|USER) VALUE )?VALUES\b")
_LOAD = _rx(rb"^LOAD\b")
_SEARCH_PATH = _rx(rb"^SET (SESSION |LOCAL )?search_path ?(?:=|TO) ?(" + _ID + rb"|'\?')")
_SET_CONFIG_PATH = _rx(rb"^SELECT (pg_catalog ?\. ?)?set_config ?\( ?'\?' ?, ?'\?'")


def classify(st: Statement) -> tuple[str, ...]:
    """What a statement is, for ``pg_script``: ``("copy", schema, table)``, ``("copy refused", why)``,
    ``("refuse", why)``, ``("owner", role)``, ``("privileges",)``, ``("cluster",)``, ``("tablespace",)``,
    ``("scs", on|off)``, ``("search_path", schema)``, ``("create database", name)``,
    ``("create table", schema, table)``, ``("insert", schema, table, rows)`` or ``("run",)``; a
    schema is ``""`` when the statement names none."""
    s = st.skeleton
    if _COPY.match(s):
        m = _COPY_DUMP.match(s)
        if m:
            return ("copy", *_name(m.group(1)))
        if _FROM_STDIN.search(s):
            return ("copy refused", "COPY … FROM stdin in a form pg_dump does not write (its data are skipped)")
        if _PROGRAM.search(s):
            return ("refuse", "COPY … PROGRAM runs a program on the server's machine")
        if _TO_STDOUT.search(s):
            return ("refuse", "COPY … TO STDOUT sends data out, which a dump never does")
        return ("refuse", "COPY to or from a file on the server's machine")
    m = _OWNER.match(s)
    if m:
        return ("owner", _name(m.group(1))[1])
    if _SESSION_AUTH.match(s):
        return ("owner", "")
    if _PRIVILEGES.match(s):
        return ("privileges",)
    if _CLUSTER.match(s):
        return ("cluster",)
    if _DEFAULT_TABLESPACE.match(s) and st.literal:
        return ("tablespace",)
    m = _SCS.match(s)
    if m:
        value = (st.literal if m.group(2) == b"'?'" else m.group(2)).lower()
        return ("scs", "off" if value in (b"off", b"false") else "on")
    m = _SEARCH_PATH.match(s)
    if m:
        first = st.literal.split(b",")[0].strip() if m.group(2) == b"'?'" else m.group(2)
        return ("search_path", _name(first)[1] if first else "")
    if _SET_CONFIG_PATH.match(s) and st.literal == b"search_path":
        return ("search_path", "")  # pg_dump's own: an empty path, every name qualified
    m = _CREATE_DATABASE.match(s)
    if m:
        return ("create database", _name(m.group(1))[1])
    m = _CREATE_TABLE.match(s)
    if m:
        return ("create table", *_name(m.group(1)))
    m = _INSERT_VALUES.match(s)
    if m:
        return ("insert", *_name(m.group(1)), str(st.value_rows))
    if _LOAD.match(s):
        return ("refuse", "LOAD loads a shared library into the server")
    return ("run",)


def _name(qualified: bytes) -> tuple[str, str]:
    """``public."Mixed Case"`` -> (``public``, ``Mixed Case``); the schema is ``""`` when the name
    has none. Unquoted names are folded to lower case as the server folds them."""
    out = []
    for p in re.findall(_ID, qualified):
        if p.startswith(b'"'):
            out.append(p[1:-1].replace(b'""', b'"').decode("utf-8", "replace"))
        else:
            out.append(p.decode("utf-8", "replace").translate(_ASCII_LOWER))
    return (out[-2] if len(out) > 1 else "", out[-1])


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

REASONS: dict[str, str] = {
    "!": "runs a shell command", "o": "writes query output to a file or a program",
    "out": "writes query output to a file or a program", "copy": "reads or writes a file or program on this machine",
    "i": "reads another file", "include": "reads another file", "ir": "reads another file",
    "include_relative": "reads another file", "setenv": "changes the environment of programs",
    "gexec": "runs query results as SQL", "g": "sends the query, possibly to a file or a program",
    "gx": "sends the query, possibly to a file or a program", "gset": "sets variables from query results",
    "w": "writes to a file or a program", "write": "writes to a file or a program", "e": "starts an editor",
    "edit": "starts an editor", "ef": "starts an editor", "ev": "starts an editor",
    "lo_import": "reads a file on this machine", "lo_export": "writes a file on this machine",
    "cd": "changes the working folder", "s": "writes the command history to a file",
    "set": "sets psql variables", "password": "changes a password", "prompt": "waits for input",
    "c": "connects with other parameters than a database name",
    "connect": "connects with other parameters than a database name",
}
"""Why a refused meta-command is dangerous, for the report (others: not something pg_dump writes)."""
