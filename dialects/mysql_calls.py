"""What a MySQL or MariaDB statement would do besides reading, told from its tokens.

MySQL keeps no catalogue of which functions have side effects, so a profile's query or filter is
read token by token and what the engine cannot tell is refused: functions that read server files,
sleep, lock, wait or advance sequences, ``SELECT … INTO`` (a file or variables), user-variable
assignment (``:=``), locking reads and a second statement. The tokenizer follows the server's
lexer where it matters: quotes (``'…'``, ``"…"``, backticks, doubled quotes, backslash escapes),
comments (``#``, ``/* */``, ``--`` only before a blank, as the server reads it; ``1 --SLEEP(1)`` is
arithmetic) and the executable comments ``/*! … */`` and ``/*M! … */``, whose text is code.
Strings are read both with and without backslash escapes (``NO_BACKSLASH_ESCAPES``), and a quoted
name before ``(`` counts as a call (``\\`sleep\\`(1)`` calls SLEEP), so neither the session's
``sql_mode`` nor quoting nor case can hide a call. A name inside a string literal is text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

FUNCTIONS: dict[str, str] = {
    **dict.fromkeys(("load_file",), "reads a file on the database server"),
    **dict.fromkeys(("sleep", "benchmark"), "keeps the server busy or waiting"),
    **dict.fromkeys(("get_lock", "release_lock", "release_all_locks", "is_free_lock", "is_used_lock"),
                    "takes or inspects a named lock"),
    **dict.fromkeys(("master_pos_wait", "source_pos_wait", "master_gtid_wait", "wait_for_executed_gtid_set",
                     "wait_until_sql_thread_after_gtids"), "waits for replication"),
    **dict.fromkeys(("nextval", "setval"), "advances a sequence"),
    **dict.fromkeys(("last_insert_id",), "changes the session's last insert id"),
}
"""Functions refused in profile SQL, with why."""

_TOKEN = re.compile(r"""
    (?P<blank>\s+)
  | (?P<exec>/\*M?!\d*)                      # executable comment: its text is code
  | (?P<comment>/\*.*?(\*/|\Z)|\#[^\n]*|--(?=[\s\x00-\x1f]|\Z)[^\n]*)
  | (?P<end>\*/)
  | (?P<name>[A-Za-z0-9_$\x80-\U0010ffff]+)
  | (?P<var>@@?)
  | (?P<assign>:=)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


def tokens(sql: str, backslash: bool) -> Iterator[tuple[str, str]]:
    """(kind, text) of every token outside comments; kinds: name, quoted (a ``"…"`` or backtick
    name, without its quotes), string, var, assign, other. ``backslash``: ``\\`` escapes in strings."""
    pos = 0
    while pos < len(sql):
        ch = sql[pos]
        if ch in "'\"`":
            end, closed = _closing(sql, pos, backslash and ch != "`")
            body = sql[pos + 1:end - 1 if closed else end]
            yield ("string" if ch == "'" else "quoted"), body.replace(ch * 2, ch)
            pos = end
            continue
        m = _TOKEN.match(sql, pos)
        assert m is not None  # ``other`` matches any character
        kind = m.lastgroup or "other"
        pos = m.end()
        if kind in ("blank", "comment", "exec", "end"):
            continue
        yield kind, m.group()


def _closing(sql: str, start: int, backslash: bool) -> tuple[int, bool]:
    """The index after the quote closing the one at ``start``, and whether there is one (else the
    string runs to the end of the text)."""
    quote, pos = sql[start], start + 1
    while pos < len(sql):
        ch = sql[pos]
        if backslash and ch == "\\":
            pos += 2
        elif ch == quote and sql[pos + 1:pos + 2] == quote:
            pos += 2
        elif ch == quote:
            return pos + 1, True
        else:
            pos += 1
    return len(sql), False


def called(sql: str) -> set[str]:
    """Lower-case names written before ``(`` (function calls), in either reading of strings."""
    names = set()
    for backslash in (True, False):
        seen = list(tokens(sql, backslash))
        for (kind, text), (_, after) in zip(seen, seen[1:], strict=False):
            if kind in ("name", "quoted") and after == "(":
                names.add(text.lower())
    return names


def refused(sql: str) -> list[str]:
    """What the statement would do besides reading, each as ``calls SLEEP(), which …``."""
    found: dict[str, None] = {}
    for name in sorted(called(sql)):
        if name in FUNCTIONS:
            found[f"calls {name.upper()}(), which {FUNCTIONS[name]}"] = None
    for backslash in (True, False):
        seen = list(tokens(sql, backslash))
        words = [t.lower() if k == "name" else (t if k in ("assign", "other") else "") for k, t in seen]
        text = " " + " ".join(words) + " "
        if ":=" in words:
            found["assigns a user variable (:=), which changes the session"] = None
        if " into " in text:
            found["writes with SELECT … INTO (a file on the server, or variables)"] = None
        if any(lock in text for lock in (" for update ", " for share ", " lock in share mode ")):
            found["locks the rows it reads (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE)"] = None
        if " next value for " in text:
            found["advances a sequence (NEXT VALUE FOR)"] = None
        if ";" in words:
            found["holds more than one statement (;)"] = None
    return list(found)
