"""Compressed and packed dumps (dialects/kinds/wrapped.py): the content streamed through every
layer, made by Python's modules and by the machine's real tools; hostile archives refused, one
line each. The dump inside is the tests' own fake kind (tests/fakedump.py), which reads the whole
stream and checks its SHA-256, so these tests do not depend on the engine kinds."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from dialects.kinds import KINDS, probe_of, recognise
from dialects.kinds.wrapped import materialise
from extractor.errors import SourceError
from tests import fakedump
from tests.conftest import fails, run

SQL = ("BEGIN;\nCREATE TABLE sak (id INTEGER PRIMARY KEY, tittel TEXT, data BLOB);\n"
       + "".join(f"INSERT INTO sak VALUES ({i}, 'Sámi čáhci – {i}', x'{i:08x}00ff');\n" for i in range(40_000))
       + "COMMIT;")
"""Over a megabyte: the stream is read well past the 64 KiB head and across many chunks."""


@pytest.fixture()
def fake_kind(monkeypatch, dump_cache):
    monkeypatch.setitem(KINDS, "fake", "tests.fakedump:FakeDump")
    return dump_cache


@pytest.fixture(scope="module")
def dump_bytes() -> bytes:
    return fakedump.make({"arkiv": SQL})


@pytest.fixture()
def plain(tmp_path, dump_bytes) -> Path:
    path = tmp_path / "kunde.dump"
    path.write_bytes(dump_bytes)
    return path


def _content(source: Path) -> tuple[tuple[str, ...], bytes]:
    probe = probe_of(str(source))
    with probe.open_content() as fh:
        return probe.wrapping, fh.read()


def _tool(tmp_path: Path, plain: Path, argv: list[str], made: str) -> Path:
    """A wrapped file made by a real tool, in a folder of its own."""
    work = tmp_path / f"{argv[0]}-{len(list(tmp_path.iterdir()))}"
    work.mkdir()
    shutil.copy(plain, work / plain.name)
    subprocess.run([*argv], cwd=work, check=True, capture_output=True)
    return work / made


def _python_wrapped(tmp_path: Path, data: bytes) -> dict[str, tuple[Path, tuple[str, ...]]]:
    made: dict[str, tuple[Path, tuple[str, ...]]] = {}

    def put(name: str, content: bytes, layers: tuple[str, ...]) -> None:
        path = tmp_path / name
        path.write_bytes(content)
        made[name] = (path, layers)

    put("a.gz", gzip.compress(data), ("gzip",))
    put("a.bz2", bz2.compress(data), ("bzip2",))
    put("a.xz", lzma.compress(data), ("xz",))
    put("a.gz.gz", gzip.compress(gzip.compress(data)), ("gzip", "gzip"))
    for method, name in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated"),
                         (zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", method) as z:
            z.writestr("levering/", b"")
            z.writestr("__MACOSX/levering/._kunde.dump", b"junk")  # what macOS adds; not a candidate
            z.writestr("levering/kunde.dump", data)
        put(f"a-{name}.zip", buf.getvalue(), ("zip member levering/kunde.dump",))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("kunde.dump.xz", lzma.compress(data))
    put("nested.zip", buf.getvalue(), ("zip member kunde.dump.xz", "xz"))
    for mode, layers in (("w", ()), ("w:gz", ("gzip",)), ("w:bz2", ("bzip2",)), ("w:xz", ("xz",))):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as t:
            folder = tarfile.TarInfo("levering")
            folder.type = tarfile.DIRTYPE
            t.addfile(folder)
            info = tarfile.TarInfo("levering/" + "lang-" * 30 + "kunde.dump")  # a pax long name
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        put(f"a.tar{mode[2:] and '.' + mode[2:]}", buf.getvalue(),
            (*layers, "tar member levering/" + "lang-" * 30 + "kunde.dump"))
    return made


def test_python_made_layers_stream_the_same_bytes(tmp_path, dump_bytes):
    for name, (path, layers) in _python_wrapped(tmp_path, dump_bytes).items():
        wrapping, content = _content(path)
        assert wrapping == layers, name
        assert content == dump_bytes, name
        probe = probe_of(str(path))
        assert probe.head == dump_bytes[:64 * 1024] and probe.size == path.stat().st_size, name


def test_tool_made_layers_stream_the_same_bytes(tmp_path, plain, dump_bytes):
    for argv, made, layers in (
            (["gzip", "-9", "kunde.dump"], "kunde.dump.gz", ("gzip",)),
            (["bzip2", "kunde.dump"], "kunde.dump.bz2", ("bzip2",)),
            (["xz", "-T2", "kunde.dump"], "kunde.dump.xz", ("xz",)),
            (["zstd", "-q", "--rm", "-19", "kunde.dump"], "kunde.dump.zst", ("zstd",)),
            (["zip", "-q", "k.zip", "kunde.dump"], "k.zip", ("zip member kunde.dump",)),
            (["tar", "czf", "k.tgz", "kunde.dump"], "k.tgz", ("gzip", "tar member kunde.dump")),
            (["tar", "--zstd", "-cf", "k.tar.zst", "kunde.dump"], "k.tar.zst", ("zstd", "tar member kunde.dump")),
    ):
        path = _tool(tmp_path, plain, argv, made)
        assert _content(path) == (layers, dump_bytes), argv


def test_extract_of_a_wrapped_dump_equals_the_plain_one(tmp_path, fake_kind, plain):
    """End to end through the CLI: the fake kind restores from the stream, the extract is the same."""
    wrapped = _tool(tmp_path, plain, ["tar", "--zstd", "-cf", "k.tar.zst", "kunde.dump"], "k.tar.zst")
    for source, out in ((plain, tmp_path / "o1"), (wrapped, tmp_path / "o2")):
        r = run("extract", source, "--out", out, "--date", "2024-01-02", "--charset", "UTF-8")
        assert r.exit_code == 0, r.output
    first, second = tmp_path / "o1" / "content", tmp_path / "o2" / "content"
    files = sorted(f.relative_to(first) for f in first.rglob("*") if f.is_file())
    assert files == sorted(f.relative_to(second) for f in second.rglob("*") if f.is_file())
    for f in files:
        if f.name != "addml.xml":  # it names the source file: kunde.dump, k.tar.zst
            assert (first / f).read_bytes() == (second / f).read_bytes(), f
    data = b"".join((second / f).read_bytes() for f in files if f.name != "addml.xml")
    assert "Sámi čáhci – 39999".encode() in data


def test_inspect_says_what_the_source_is_with_its_layers(tmp_path, fake_kind, plain):
    path = _tool(tmp_path, plain, ["gzip", "kunde.dump"], "kunde.dump.gz")
    r = run("inspect", path, "--no-scan")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == "What: a fake dump for tests (fakedump 1) (in gzip)"
    assert "  file: kunde.dump.gz" in r.output and "  wrapping: gzip" in r.output


def test_sqlite_is_read_in_place_never_from_a_stream(tmp_path, example_db):
    gz = tmp_path / "system.sqlite.gz"
    gz.write_bytes(gzip.compress(example_db.read_bytes()))
    fails(run("inspect", gz), "a SQLite database file in a gzip-compressed file",
          "reads a SQLite database in place, never from a stream")


def test_a_zip_with_several_files_lists_them(tmp_path):
    path = tmp_path / "levering.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.sql", "x" * 2000)
        z.writestr("les-meg.txt", "hei")
        z.writestr(".DS_Store", "junk")
    fails(run("inspect", path), "a ZIP archive holding 2 files: a.sql (2.0 kB), les-meg.txt (3 B)",
          "unpack the one you mean")


def test_hostile_members_are_refused_one_line_each(tmp_path):
    def tar_with(info: tarfile.TarInfo, data: bytes = b"") -> Path:
        path = tmp_path / f"{info.name.replace('/', '_')}-{info.type.decode() or '0'}.tar"
        with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
            info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data else None)
        return path

    def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        return info

    cases = [
        (tar_with(member("../../etc/cron.d/x"), b"x"), "points outside the archive (..)"),
        (tar_with(member("/etc/passwd"), b"x"), "has an absolute path"),
        (tar_with(member("dump.sql", tarfile.SYMTYPE, "/etc/shadow")), "is a symbolic link (to '/etc/shadow')"),
        (tar_with(member("dump.sql", tarfile.LNKTYPE, "/etc/shadow")), "is a hard link"),
        (tar_with(member("sda", tarfile.BLKTYPE)), "is a device or FIFO"),
        (tar_with(member("fifo", tarfile.FIFOTYPE)), "is a device or FIFO"),
    ]
    link_zip = tmp_path / "link.zip"
    with zipfile.ZipFile(link_zip, "w") as z:
        info = zipfile.ZipInfo("dump.sql")
        info.create_system = 3
        info.external_attr = 0o120777 << 16  # a symbolic link
        z.writestr(info, "/etc/shadow")
    cases.append((link_zip, "zip member 'dump.sql' is a symbolic link"))
    dotdot_zip = tmp_path / "dotdot.zip"
    with zipfile.ZipFile(dotdot_zip, "w") as z:
        z.writestr("..\\..\\windows\\x.sql", "x")
    cases.append((dotdot_zip, "points outside the archive (..)"))
    for path, said in cases:
        out = fails(run("inspect", path), said, "refused as hostile")
        assert out.count("\n") == 1, out


def test_encrypted_and_multi_volume_zips(tmp_path, plain):
    enc = tmp_path / "enc.zip"
    subprocess.run(["zip", "-q", "-P", "hemmelig", str(enc), plain.name], cwd=plain.parent, check=True)
    fails(run("inspect", enc), "zip member 'kunde.dump' is encrypted", "with its password")
    parts = tmp_path / "split"
    parts.mkdir()
    subprocess.run(["zip", "-q", "-s", "256k", str(parts / "k.zip"), plain.name], cwd=plain.parent, check=True)
    assert (parts / "k.z01").exists()
    fails(run("inspect", parts / "k.z01"), "the first part of a multi-volume (split) ZIP archive", "zip -s 0")
    fails(run("inspect", parts / "k.zip"), "multi-volume (split) ZIP archive", "zip -s 0")


def test_decompression_bombs_are_refused(tmp_path, fake_kind, monkeypatch):
    """A zip member declaring far more than it holds is refused from its directory; a stream that
    grows past RATIO_LIMIT times the file's bytes (gzip in gzip of zeros) stops while it is read.
    The floor below which no ratio counts is lowered from 64 MiB to 4 MiB to keep the test small."""
    from dialects.kinds import wrapped

    monkeypatch.setattr(wrapped, "RATIO_FLOOR", 4 << 20)
    zbomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(zbomb, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("dump.sql", bytes(8 << 20))
    fails(run("inspect", zbomb), "declares 8,388,608 bytes", "decompression bomb")
    gbomb = tmp_path / "bomb.gz.gz"
    gbomb.write_bytes(gzip.compress(gzip.compress(fakedump.MAGIC + bytes(16 << 20), 9), 9))
    assert gbomb.stat().st_size < 2_000
    probe = probe_of(str(gbomb))  # the head is read: 64 KiB is never a bomb
    assert probe.head.startswith(fakedump.MAGIC)
    fails(run("extract", gbomb, "--out", tmp_path / "o", "--charset", "UTF-8"), "grows more than 1000 times",
          "decompression bomb")
    assert not (tmp_path / "o").exists()


def test_damaged_and_cut_short_streams_are_one_clear_error(tmp_path, fake_kind, dump_bytes):
    whole = gzip.compress(dump_bytes)
    short = tmp_path / "kort.dump.gz"
    short.write_bytes(whole[:len(whole) // 2])
    out = fails(run("extract", short, "--out", tmp_path / "o"), "kort.dump.gz: the gzip ends early", "cut short")
    assert "Traceback" not in out
    tiny = tmp_path / "tiny.gz"
    tiny.write_bytes(whole[:100])  # cut inside the head: said when it is probed
    with pytest.raises(SourceError, match="ends early"):
        probe_of(str(tiny))
    bad = bytearray(whole)
    bad[len(bad) // 2] ^= 0xFF
    damaged = tmp_path / "skadet.dump.gz"
    damaged.write_bytes(bytes(bad))
    fails(run("extract", damaged, "--out", tmp_path / "o"), "skadet.dump.gz: the gzip")
    zshort = tmp_path / "kort.dump.zst"
    zshort.write_bytes(subprocess.run(["zstd", "-q", "-c"], input=dump_bytes, capture_output=True,
                                      check=True).stdout[:5000])
    fails(run("extract", zshort, "--out", tmp_path / "o"), "kort.dump.zst: the zstd", "zstd:")


def test_a_tar_cut_inside_a_member(tmp_path, dump_bytes):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("kunde.dump")
        info.size = len(dump_bytes)
        t.addfile(info, io.BytesIO(dump_bytes))
    cut = tmp_path / "kort.tar"
    cut.write_bytes(buf.getvalue()[:200_000])
    fails(run("inspect", cut), "the tar ends inside member 'kunde.dump'", "cut short")


def test_a_later_volume_of_a_multi_volume_tar(tmp_path, plain):
    work = tmp_path / "mv"
    work.mkdir()
    shutil.copy(plain, work)
    subprocess.run(["tar", "-c", "-M", "-L", "2048", "-f", "v1.tar", "-f", "v2.tar", "kunde.dump"], cwd=work,
                   check=True, capture_output=True)
    fails(run("inspect", work / "v2.tar"), "a part of a multi-volume tar archive", "join the parts")


def test_too_many_layers(tmp_path):
    data = b"x"
    for _ in range(5):
        data = gzip.compress(data)
    (tmp_path / "lag.gz").write_bytes(data)
    fails(run("inspect", tmp_path / "lag.gz"), "more than 4 layers")


def test_a_pg_dump_tar_stays_whole_and_a_directory_dump_in_a_tar_is_refused(tmp_path):
    """A pg_dump tar-format archive (made here by the real pg_dump) is the content itself; a
    directory-format dump packed in a tar must be unpacked (pg_restore reads it from a folder)."""
    from tests.conftest import fresh_database, run_sql

    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    with fresh_database("postgresql") as url:
        run_sql(url, ["CREATE TABLE t (id int PRIMARY KEY, navn text)", "INSERT INTO t VALUES (1, 'Áilu')"])
        conn = ["-h", url.host, "-p", str(url.port), "-U", url.username, url.database]
        subprocess.run([pg_dump, "-Ft", "-f", str(tmp_path / "db.tar"), *conn], check=True)
        subprocess.run([pg_dump, "-Fd", "-f", str(tmp_path / "dir"), *conn], check=True)
    (tmp_path / "db.tar.gz").write_bytes(gzip.compress((tmp_path / "db.tar").read_bytes()))
    probe = probe_of(str(tmp_path / "db.tar.gz"))
    assert probe.wrapping == ("gzip",) and probe.head[:7] == b"toc.dat" and probe.head[512:517] == b"PGDMP"
    assert probe_of(str(tmp_path / "db.tar")).wrapping == ()
    subprocess.run(["tar", "czf", "dir.tgz", "dir"], cwd=tmp_path, check=True)
    fails(run("inspect", tmp_path / "dir.tgz"), "a pg_dump directory-format dump (dir/ holds toc.dat)",
          "tar -xf", "give the folder d/dir")


def test_zstd_process_ends_with_the_stream(tmp_path, plain):
    """Closing the content mid-stream ends the zstd process; nothing is left running."""
    path = _tool(tmp_path, plain, ["zstd", "-q", "kunde.dump"], "kunde.dump.zst")
    probe = probe_of(str(path))
    fh = probe.open_content()
    fh.read(1000)
    children = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(os.getpid())], capture_output=True,
                              text=True).stdout
    assert "zstd" in children
    fh.close()
    children = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(os.getpid())], capture_output=True,
                              text=True).stdout
    assert "zstd" not in children


def test_materialise_copies_the_content_for_a_kind_that_must_seek(tmp_path, plain, dump_bytes):
    path = _tool(tmp_path, plain, ["tar", "cJf", "k.txz", "kunde.dump"], "k.txz")
    probe = probe_of(str(path))
    entry = tmp_path / "entry"
    entry.mkdir()
    copy = materialise(probe, entry, quiet=True)
    assert copy == entry / "kunde.dump" and copy.read_bytes() == dump_bytes
    assert [p.name for p in entry.iterdir()] == ["kunde.dump"]
    gz = _tool(tmp_path, plain, ["gzip", "kunde.dump"], "kunde.dump.gz")
    assert materialise(probe_of(str(gz)), entry, quiet=True).name == "kunde.dump"


def test_the_dump_is_recognised_by_content_not_name(tmp_path, fake_kind, plain):
    odd = tmp_path / "rapport.xlsx"
    odd.write_bytes(gzip.compress(plain.read_bytes()))
    probe, found = recognise(str(odd))
    assert found.kind == "fake" and probe.wrapping == ("gzip",)
