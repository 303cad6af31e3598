"""uttrekk cache list / clear: the restored dumps kept in $UTTREKK_CACHE, on entries made the way
a kind makes them (throwaway.entry_for + Entry.record); an entry a run holds is never removed."""

from __future__ import annotations

import json
import os

from dialects.kinds import throwaway
from tests.conftest import fails, run

A = "a" * 63 + "1"
B = "b" * 64
C = "ab" * 32


def _entry(engine: str, digest: str, file: str | None, size: int = 1000) -> None:
    with throwaway.entry_for(engine, digest) as entry:
        (entry.path / "data").write_bytes(b"x" * size)
        if file is not None:  # the MySQL kind records the file under "dump"
            entry.record({"dump": {"file": file, "sha256": digest}} if engine == "mysql" else {"file": file})


def test_list_shows_each_restored_dump(dump_cache):
    r = run("cache", "list")
    assert r.exit_code == 0 and "No restored dumps are kept." in r.output and str(dump_cache) in r.output
    _entry("postgresql", A, "kunde.dump", 2048)
    _entry("mysql", B, "sak.sql.gz")
    _entry("firebird", C, None)  # an interrupted restore: no marker
    os.utime(dump_cache / "restored" / f"postgresql-{A}" / throwaway.MARKER, (1_700_000_000, 1_700_000_000))
    r = run("cache", "list")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith(f"Cache: {dump_cache} (limit 20.0 GB")
    assert lines[1].split() == ["firebird", "1000", "B", "incomplete", C, "?"]
    engine, size, unit, day, _, digest, file = lines[2].split()  # the marker counts too: a little over 2 kB
    assert (engine, unit, day, digest, file) == ("postgresql", "kB", "2023-11-14", A, "kunde.dump")
    assert 2.0 <= float(size) < 2.5
    assert lines[3].startswith("mysql") and lines[3].endswith(f"{B}  sak.sql.gz")
    assert lines[4].startswith("3 restored dump(s), 4.")
    info = json.loads(run("cache", "list", "--json").output)
    assert info["cache"] == str(dump_cache)
    assert {e["sha256"]: (e["engine"], e["file"], e["complete"], e["in_use"]) for e in info["entries"]} == {
        A: ("postgresql", "kunde.dump", True, False), B: ("mysql", "sak.sql.gz", True, False),
        C: ("firebird", "", False, False)}


def test_clear_by_sha256_or_all_and_never_an_entry_in_use(dump_cache):
    for engine, digest in (("postgresql", A), ("mysql", B), ("firebird", C)):
        _entry(engine, digest, f"{engine}.dump")
    fails(run("cache", "clear"), "give --all, or the SHA-256")
    fails(run("cache", "clear", "--all", A), "give --all, or the SHA-256")
    fails(run("cache", "clear", "a"), "not a SHA-256 or its first characters")
    fails(run("cache", "clear", "cccccc"), "no entry in the cache has SHA-256 cccccc")
    r = run("cache", "clear", B[:8])
    assert r.exit_code == 0, r.output
    assert f"removed mysql mysql.dump {B} (1.1 kB)" in r.output
    assert not (dump_cache / "restored" / f"mysql-{B}").exists()
    assert not (dump_cache / "restored" / f"mysql-{B}.lock").exists()
    with throwaway.entry_for("postgresql", A):  # a run holds it
        listed = json.loads(run("cache", "list", "--json").output)["entries"]
        assert [e["in_use"] for e in listed if e["sha256"] == A] == [True]
        r = run("cache", "clear", A)
        assert r.exit_code == 1
        assert f"note: kept postgresql postgresql.dump {A}: a running uttrekk is using it" in r.output
        r = run("cache", "clear", "--all")
        assert r.exit_code == 0 and "1 restored dump(s) removed" in r.output and "note: kept postgresql" in r.output
        assert (dump_cache / "restored" / f"postgresql-{A}" / throwaway.MARKER).exists()
        assert not (dump_cache / "restored" / f"firebird-{C}").exists()
    r = run("cache", "clear", "--all")
    assert r.exit_code == 0 and f"removed postgresql postgresql.dump {A}" in r.output
    assert run("cache", "list").output.endswith("No restored dumps are kept.\n")


def test_an_ambiguous_prefix_is_refused(dump_cache):
    _entry("postgresql", "abcdef" + "0" * 58, "x.dump")
    _entry("mysql", "abcdef" + "1" * 58, "y.dump")
    fails(run("cache", "clear", "abcdef"), "begins 2 entries' SHA-256; give more of it")
    assert len(json.loads(run("cache", "list", "--json").output)["entries"]) == 2
