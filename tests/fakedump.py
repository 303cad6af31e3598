"""A dump kind that exists only in the tests of the shared plumbing (wrapping, --database,
accept_losses, inspect, the cache, --jobs), so they do not depend on the engine kinds.

A fake dump is text: ``UTTREKK-FAKEDUMP 1`` on the first line, then for each database a line
``-- database NAME`` followed by SQL (SQLite's), and optionally ``-- lost TABLE`` lines: tables the
"restore" loses. The last line is ``-- sha256 HEX`` of everything before it, so a kind that read a
stream wrongly (a byte lost, added or changed in a layer) fails loudly. ``open`` reads the whole
content through ``Probe.open_content`` and restores each database into a SQLite file in a cache
entry (``throwaway.entry_for`` + ``Entry.record``), as a real kind does.

``UTTREKK-FAKEDUMP-PG URL`` instead "restores" into the PostgreSQL database the URL names and
sets ``worker_source`` to it, appending one line per open to ``$FAKEDUMP_OPENS``: the test of
``--jobs`` checks that its workers opened ``worker_source``, not the dump again.
"""

from __future__ import annotations

import hashlib
import os
import re

from dialects.kinds import Found, OpenOptions, Probe, throwaway
from extractor.errors import SourceError

MAGIC = b"UTTREKK-FAKEDUMP 1\n"
PG_MAGIC = b"UTTREKK-FAKEDUMP-PG "


def make(databases: dict[str, str], lost: dict[str, list[str]] | None = None) -> bytes:
    """A fake dump of SQL per database (with the tables the restore will lose)."""
    body = MAGIC
    for name, sql in databases.items():
        body += f"-- database {name}\n{sql}\n".encode()
        body += "".join(f"-- lost {t}\n" for t in (lost or {}).get(name, [])).encode()
    return body + f"-- sha256 {hashlib.sha256(body).hexdigest()}\n".encode()


class FakeDump:
    def recognise(self, probe: Probe) -> Found | None:
        if probe.head.startswith(PG_MAGIC):
            return Found("fake", "a fake PostgreSQL dump for tests", {"format": "fake-pg"})
        if not probe.head.startswith(MAGIC):
            return None
        names = [n.decode() for n in re.findall(rb"^-- database (\w+)$", probe.head, re.M)]
        facts = {"format": "fake", "tool": "fakedump 1"}
        if len(names) > 1:
            facts["databases"] = ",".join(names)
        return Found("fake", "a fake dump for tests (fakedump 1)", facts)

    def open(self, probe: Probe, found: Found, options: OpenOptions):
        if found.facts["format"] == "fake-pg":
            return self._pg(probe)
        import sqlite3

        from dialects.sqlite import SQLite

        assert probe.path is not None
        digest = throwaway.sha256_of(probe.path)
        with throwaway.entry_for("fake", digest) as entry:
            if not entry.complete:
                with probe.open_content() as fh:
                    data = b""
                    while chunk := fh.read(1 << 16):
                        data += chunk
                body, _, tail = data.rpartition(b"-- sha256 ")
                if tail.strip().decode() != hashlib.sha256(body).hexdigest():
                    raise AssertionError("the stream's bytes differ from the dump's")
                sections = re.split(rb"^-- database (\w+)\n", body[len(MAGIC):], flags=re.M)[1:]
                lost = {}
                for name, sql in zip(sections[::2], sections[1::2], strict=True):
                    con = sqlite3.connect(entry.path / f"{name.decode()}.sqlite")
                    con.executescript(sql.decode())
                    con.close()
                    lost[name.decode()] = [t.decode() for t in re.findall(rb"^-- lost (\S+)$", sql, re.M)]
                entry.record({"file": probe.path.name, "sha256": digest, "lost": lost})
            held = sorted(p.stem for p in entry.path.glob("*.sqlite"))
            lost = entry.facts()["lost"]
        name = options.database or (held[0] if len(held) == 1 else None)
        if name is not None and name not in held:
            raise SourceError(f"{probe.text} holds no database {name}; it holds {', '.join(held)}")
        if name is None:
            raise SourceError(f"{probe.text} holds {len(held)} databases: {', '.join(held)}; choose one with "
                              "--database NAME")
        refused = [t for t in lost.get(name, []) if t not in options.accept_losses]
        if refused:
            raise SourceError(f"{probe.text}: the restore lost table(s) {', '.join(refused)}; accept that in the "
                              "profile ([source] accept_losses) or ask for a whole dump")
        dialect = SQLite.from_path(entry.path / f"{name}.sqlite")
        dialect.label = probe.path.name
        dialect.provenance = (("file", probe.path.name), ("sha256", digest), ("wrapping", " > ".join(probe.wrapping)))
        dialect.provenance_text = f"Hentet fra dumpen {probe.path.name}."
        dialect.source_notes = tuple(f"table {t} was not restored (accepted by the profile)" for t in lost.get(name, []))
        return dialect

    def _pg(self, probe: Probe):
        import sqlalchemy as sa

        from dialects import dialect_class
        from dialects.drivers import with_driver

        with probe.open_content() as fh:
            url_text = fh.read(4096).decode().split("\n", 1)[0][len(PG_MAGIC):]
        with open(os.environ["FAKEDUMP_OPENS"], "a") as log:
            log.write(f"{os.getpid()}\n")
        url = with_driver(sa.engine.make_url(url_text))
        dialect = dialect_class(url.get_backend_name()).from_url(url)
        dialect.label = probe.text
        dialect.worker_source = os.environ.get("FAKEDUMP_WORKER_SOURCE", url_text)
        return dialect
