"""Hostile input is refused with exit code 2 and a clear message, before anything is read or written.

Tars with ``..``, absolute names, links, devices or absurd header sizes; addml.xml with a DTD, an
external entity or exponential entities; an addml.xml over the size limit.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.validation import safety
from extractor.validation.command import validate as validate_command

ADDML = b'<?xml version="1.0"?><addml xmlns="http://www.arkivverket.no/standarder/addml"><dataset/></addml>'


def run(path: Path) -> tuple[int, str]:
    res = CliRunner().invoke(validate_command, [str(path)])
    return res.exit_code, res.output


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        for info, data in members:
            if data is None:
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


GOOD = (member("pkg/content/addml.xml"), ADDML)


@pytest.mark.parametrize("name, members, expected", [
    ("dotdot", [GOOD, (member("pkg/content/../../../tmp/evil.txt"), b"x")], "points outside the package"),
    ("absolute", [GOOD, (member("/etc/cron.d/evil"), b"x")], "absolute"),
    ("symlink", [GOOD, (member("pkg/content/data.txt", tarfile.SYMTYPE, "/etc/passwd"), None)], "symbolic link"),
    ("hardlink", [GOOD, (member("pkg/content/data.txt", tarfile.LNKTYPE, "/etc/passwd"), None)], "hard link"),
    ("chardev", [GOOD, (member("pkg/content/zero", tarfile.CHRTYPE), None)], "device or FIFO"),
    ("blockdev", [GOOD, (member("pkg/content/disk", tarfile.BLKTYPE), None)], "device or FIFO"),
    ("fifo", [GOOD, (member("pkg/content/pipe", tarfile.FIFOTYPE), None)], "device or FIFO"),
    ("duplicate", [GOOD, GOOD], "occurs twice"),
])
def test_hostile_tar_members_are_refused(tmp_path: Path, name: str, members: list, expected: str) -> None:
    code, out = run(make_tar(tmp_path / f"{name}.tar", members))
    assert code == 2
    assert "uttrekk: error:" in out and expected in out
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_member_declaring_more_than_the_tar_holds_is_refused(tmp_path: Path) -> None:
    tar = make_tar(tmp_path / "big.tar", [GOOD])
    raw = bytearray(tar.read_bytes())
    raw[124:136] = b"%011o\0" % (8**11 - 1)  # the first member now claims 8 GB
    assert len(raw) % 512 == 0
    header = raw[:512]
    header[148:156] = b" " * 8
    raw[148:156] = b"%06o\0 " % sum(header)
    tar.write_bytes(bytes(raw))
    code, out = run(tar)
    assert code == 2 and "more than the tar holds" in out


def test_tar_without_addml_is_refused(tmp_path: Path) -> None:
    code, out = run(make_tar(tmp_path / "plain.tar", [(member("pkg/readme.txt"), b"hello")]))
    assert code == 2 and "content/addml.xml in the tar" in out


def test_compressed_or_garbage_tar_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.tar"
    bad.write_bytes(os.urandom(2048))
    code, out = run(bad)
    assert code == 2 and "uttrekk: error:" in out


def content_with(tmp_path: Path, addml: bytes) -> Path:
    (tmp_path / "content").mkdir(parents=True)
    (tmp_path / "content" / "addml.xml").write_bytes(addml)
    return tmp_path


SECRET = "a secret value that must never appear"


def test_dtd_is_refused(tmp_path: Path) -> None:
    doc = b'<?xml version="1.0"?><!DOCTYPE addml SYSTEM "http://example.invalid/addml.dtd">' + ADDML[21:]
    code, out = run(content_with(tmp_path, doc))
    assert code == 2 and "document type declaration" in out


def test_external_entity_is_refused_and_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    doc = (f'<?xml version="1.0"?><!DOCTYPE addml [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<addml xmlns="http://www.arkivverket.no/standarder/addml"><dataset name="&x;"/></addml>').encode()
    code, out = run(content_with(tmp_path, doc))
    assert code == 2 and "document type declaration" in out and SECRET not in out


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doc = f'<?xml version="1.0"?><!DOCTYPE addml [{entities}]><addml>&l9;</addml>'.encode()
    code, out = run(content_with(tmp_path, doc))
    assert code == 2 and "document type declaration" in out


def test_dtd_in_utf16_is_refused(tmp_path: Path) -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE addml [<!ENTITY x "y">]><addml>&x;</addml>'
    code, out = run(content_with(tmp_path, doc.encode("utf-16")))
    assert code == 2 and "document type declaration" in out


def test_oversized_addml_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_ADDML_BYTES", 1000)
    import extractor.validation.source as source
    monkeypatch.setattr(source, "MAX_ADDML_BYTES", 1000)
    doc = ADDML.replace(b"<dataset/>", b"<dataset>" + b" " * 2000 + b"</dataset>")
    code, out = run(content_with(tmp_path, doc))
    assert code == 2 and "limit" in out


def test_not_xml_and_not_addml_are_refused(tmp_path: Path) -> None:
    code, out = run(content_with(tmp_path / "a", b"<addml><dataset>"))
    assert code == 2 and "not well-formed" in out
    code, out = run(content_with(tmp_path / "b", b"<html/>"))
    assert code == 2 and "not an ADDML document" in out


def test_fifo_in_a_folder_is_not_opened(tmp_path: Path) -> None:
    from tests.test_validate_reading import delim_addml

    addml = delim_addml(b"", [("a", "tekst")], count=0).replace(b"<value>T.txt</value>", b"<value>pipe.txt</value>")
    content = content_with(tmp_path, addml) / "content"
    os.mkfifo(content / "pipe.txt")
    code, out = run(tmp_path)  # would hang if the FIFO were opened
    assert code == 1 and "pipe.txt" in out and "not a regular file" in out


def test_missing_path_is_exit_2(tmp_path: Path) -> None:
    code, out = run(tmp_path / "nothing-here")
    assert code == 2 and "no such file or folder" in out
