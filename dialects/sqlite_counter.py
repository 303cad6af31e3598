"""Counts a SQLite table's fast-path statistics in a process of its own (``sqlite_rendering``).

SQLite takes one process-wide lock around every allocation (its memory statistics), so an aggregate
query in a thread of uttrekk's process and the records' query in another spend more time waiting for
each other than working (measured on the 2,000,000-row bench table: 40.6 s together, 15.2 s for the
records alone, 18.1 s with the statistics in another process). Here each runs in its own process.

Run by path (``python -I -S sqlite_counter.py PARENT_PID``), so it imports nothing but the standard
library. It reads one request a line on stdin, JSON ``{"uri": …, "setup": […], "sql": …}`` (the
read-only URI of the database file, the statements the adapter's connections run first, such as a
dBase source's views, and the statistics query, all made by uttrekk), and answers each with one line,
``{"row": […]}`` or ``{"error": "…"}``. It ends when stdin closes, and on Linux the kernel ends it
when the thread that started it ends (``PR_SET_PDEATHSIG``), so not even ``kill -9`` of uttrekk leaves
it counting.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys

PR_SET_PDEATHSIG = 1
SIGKILL = 9


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent ended before the line above
        sys.exit(1)


def main() -> None:
    _die_with_parent(int(sys.argv[1]))
    connections: dict[str, sqlite3.Connection] = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            key = json.dumps([request["uri"], request["setup"]])
            if key not in connections:
                conn = sqlite3.connect(request["uri"], uri=True)
                for statement in request["setup"]:
                    conn.execute(statement)
                conn.execute("PRAGMA query_only = ON")
                connections[key] = conn
            row = connections[key].execute(request["sql"]).fetchone()
            answer: dict[str, object] = {"row": list(row)}
        except sqlite3.Error as exc:
            answer = {"error": str(exc)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
