r"""How a plain PostgreSQL dump is cut into statements, COPY data and meta-commands (dialects/kinds/pg_plain.py).

psql decides what is a meta-command by lexing SQL: a backslash inside a literal, a comment, a
dollar-quoted body or COPY data is text; one outside is a command. These tests feed scripts a
byte at a time and whole, and check that no text inside data or quotes is ever taken for a
command, and no command is ever hidden as data.
"""

from __future__ import annotations

import pytest

from dialects.kinds.pg_plain import CopyData, CopyEnd, Cut, Meta, Splitter, Statement, plain_header
from dialects.kinds.pg_script import connect_target


def split(script: bytes, step: int = 0) -> tuple[list, Splitter]:
    sp = Splitter()
    events = []
    if step:
        for i in range(0, len(script), step):
            events += sp.feed(script[i:i + step])
    else:
        events += sp.feed(script)
    events += sp.end()
    return events, sp


def shapes(events: list) -> list[tuple]:
    out = []
    for e in events:
        if isinstance(e, Statement):
            out.append(("sql", e.line, e.kind[0]))
        elif isinstance(e, Meta):
            out.append(("meta", e.line, e.name, e.args))
        elif isinstance(e, CopyData):
            out.append(("data", e.rows))
        elif isinstance(e, CopyEnd):
            out.append(("end", e.line, e.terminated))
        elif isinstance(e, Cut):
            out.append(("cut", e.line))
    return out


def joined(events: list) -> list[tuple]:
    """Consecutive CopyData joined (how a stream is cut into chunks is not the splitter's answer)."""
    out: list[tuple] = []
    for s in shapes(events):
        if s[0] == "data" and out and out[-1][0] == "data":
            out[-1] = ("data", out[-1][1] + s[1])
        else:
            out.append(s)
    return out


HOSTILE = b"""SET standard_conforming_strings = on;
COMMENT ON TABLE t IS 'one \\
\\! touch /tmp/in-literal
';
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$
\\! touch /tmp/in-dollar $notend$ $$
SELECT 'x'
$body$;
/* outer /* nested \\! touch /tmp/in-comment */ still comment; */
SELECT E'it\\'s \\\\'; SELECT 'plain \\' AS p;
COPY public.t (a, b) FROM stdin;
\\! touch /tmp/in-data
\\.x not the end
2\t\\N
\\.
\\! touch /tmp/after-data
SELECT 1 \\g /tmp/out
"""


@pytest.mark.parametrize("step", [0, 1, 7])
def test_backslashes_inside_quotes_comments_and_data_are_text(step):
    events, sp = split(HOSTILE, step)
    assert joined(events) == [
        ("sql", 1, "scs"),
        ("sql", 2, "run"),
        ("sql", 5, "run"),
        ("sql", 10, "run"),
        ("sql", 10, "run"),
        ("sql", 11, "copy"),
        ("data", 3),
        ("end", 15, True),
        ("meta", 16, "!", "touch /tmp/after-data"),
        ("meta", 17, "g", "/tmp/out"),  # "SELECT 1" goes with the refused \g: never run, not left over
    ]
    data = b"".join(e.data for e in events if isinstance(e, CopyData))
    assert data == b"\\! touch /tmp/in-data\n\\.x not the end\n2\t\\N\n"
    assert sp.line == HOSTILE.count(b"\n")


def test_copy_data_ends_only_at_a_line_that_is_backslash_dot():
    script = b"COPY t FROM stdin;\na\\.\n\\.\\.\n \\.\n\\.\r\nSELECT 1;\n"
    events, _ = split(script, 1)
    assert joined(events) == [("sql", 1, "copy"), ("data", 3), ("end", 5, True), ("sql", 6, "run")]


def test_a_dump_cut_inside_copy_data_keeps_the_whole_rows():
    events, _ = split(b"COPY t FROM stdin;\n1\tx\n2\ty\n3\tpart")
    data = b"".join(e.data for e in events if isinstance(e, CopyData))
    assert data == b"1\tx\n2\ty\n"
    assert joined(events)[-1] == ("end", 3, False)


def test_begin_atomic_bodies_hold_their_semicolons():
    script = (b"CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;"
              b"\n SELECT 2;\nEND;\nCREATE TABLE t (begin int);\n")
    events, _ = split(script)
    assert shapes(events) == [("sql", 1, "run"), ("sql", 6, "create table")]


def test_what_statements_are():
    script = (b'CREATE TABLE public."Mixed ""Q""" (a int);\nCOPY "S".T (a) FROM stdin;\n\\.\n'
              b"INSERT INTO public.t (a, b) VALUES (1, '(x)'), (2, 'y'),\n(3, 'z');\n"
              b"INSERT INTO public.t VALUES (1) ON CONFLICT DO NOTHING;\n"
              b"ALTER TABLE public.t OWNER TO kari;\nGRANT SELECT ON public.t TO kari;\nCREATE ROLE kari;\n"
              b"CREATE USER MAPPING FOR kari SERVER s;\nSET default_tablespace = 'fast';\nSET default_tablespace = '';\n"
              b"COPY t TO PROGRAM 'touch x';\nCOPY t FROM '/etc/passwd';\nCOPY t FROM stdin WITH (FORMAT csv);\nx\n\\.\n"
              b"LOAD 'plugin';\nSET standard_conforming_strings = 'off';\nCREATE DATABASE \"Kunde\" WITH TEMPLATE = template0;\n")
    events, sp = split(script)
    kinds = [e.kind for e in events if isinstance(e, Statement)]
    assert kinds == [
        ("create table", "public", 'Mixed "Q"'), ("copy", "S", "t"), ("insert", "public", "t", "3"),
        ("insert", "public", "t", "1"), ("owner", "kari"), ("privileges",), ("cluster",), ("run",), ("tablespace",), ("run",),
        ("refuse", "COPY … PROGRAM runs a program on the server's machine"),
        ("refuse", "COPY to or from a file on the server's machine"),
        ("copy refused", "COPY … FROM stdin in a form pg_dump does not write (its data are skipped)"),
        ("refuse", "LOAD loads a shared library into the server"), ("scs", "off"), ("create database", "Kunde")]
    assert not sp.scs


def test_standard_conforming_strings_off_makes_backslash_escape_quotes():
    events, _ = split(b"SET standard_conforming_strings = off;\nSELECT 'a\\';\\! touch x\n';\n")
    assert shapes(events) == [("sql", 1, "scs"), ("sql", 2, "run")]
    events, _ = split(b"SELECT 'a\\';\\! touch x\n';\n")
    assert shapes(events)[:2] == [("sql", 1, "run"), ("meta", 1, "!", "touch x")]


def test_closing_comment_marks_a_whole_dump():
    whole = b"SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n"
    _, sp = split(whole)
    assert sp.complete
    _, sp = split(whole.replace(b"\\unrestrict abc\n", b"SELECT 2;\n"))
    assert not sp.complete


def test_plain_header_facts():
    head = (b"--\n-- PostgreSQL database cluster dump\n--\n\n\\restrict k\n--\n-- Database \"template1\" dump\n--\n"
            b"-- Dumped from database version 15.20 (Debian)\n-- Dumped by pg_dump version 15.20 (Debian)\n"
            b"--\n-- Database \"alfa\" dump\n--\n--\n-- Database \"beta\" dump\n--\n")
    assert plain_header(head) == {"format": "plain (pg_dumpall)", "tool": "pg_dump", "tool_version": "15.20 (Debian)",
                                  "server_version": "15.20 (Debian)", "databases": "alfa, beta"}
    assert plain_header(b"-- just a script\nSELECT 1;\n") is None


@pytest.mark.parametrize(("args", "target"), [
    ("kunde", "kunde"), ('"Kunde db"', "Kunde db"),
    ('-reuse-previous=on "dbname=\'we\\\'ird db\'"', "we'ird db"),
    ('-reuse-previous=on "dbname=simple"', "simple"),
    ('"host=evil.example dbname=x"', "host=evil.example dbname=x"),  # a database name, never parameters
    ('-reuse-previous=on "dbname=x host=evil.example"', None), ("- kari", None), ("kunde kari", None),
    ('-reuse-previous=off "dbname=x"', None), ("", None),
])
def test_connect_accepts_only_a_database_name(args, target):
    assert connect_target(args) == target
