"""``uttrekk package``: the DIAS package of the example extract, checked from the outside.

Expectations come from the DIAS schemas (validated here with a resolver of the test's own), from
what Arkade 5 reads (its ``ArchiveTypeIdentifier`` logic is re-stated below) and from the tar
members themselves (sizes and SHA-256 computed here, never taken from uttrekk's own bookkeeping).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tarfile
import uuid as uuidlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from extractor.dias import build_package
from extractor.dias import package as package_module
from extractor.dias.command import package
from extractor.errors import ConfigError, OutputError
from tests.conftest import EXAMPLE_PROFILE, ROOT, fails, run

UUID = "3f2b8c1e-6a4d-4f7e-9b1a-2c5d8e0f1a3b"
SCHEMAS = ROOT / "extractor" / "schemas"
METS_NS = "http://arkivverket.no/standarder/METS"
INFO_NS = "http://www.loc.gov/METS/"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

BUNDLED = {  # sha256 of the originals (shared/standards/dias/README.md): the copies must be verbatim
    "DIAS_METS.xsd": "6d2a718014c8cde1c44e82f884cb66fe4c7c01b296f17c3b91c5e7036015233a",
    "DIAS_PREMIS.xsd": "5131975b732ca285dbb4dfdafd85dde122eb384db3984e9aec2598057671e017",
    "submissionDescription.xsd": "55f36c2d16628b225c4782dd6129da227cc9dad436ec2ce27243b476ebaa71b8",
    "xlink.xsd": "f1f5bb6003165cdd8f6c1fcc32f8fd1f965e1681010f3b9806d9460bcffa8a3c",
}


def pack(*args: str | Path):
    return CliRunner().invoke(package, [str(a) for a in args], catch_exceptions=False)


def _no_package_left(out: Path) -> None:
    leftovers = [p.name for p in out.iterdir()] if out.exists() else []
    assert not [n for n in leftovers if n.endswith(".tar") or n.endswith(".xml") or n.startswith(".")], leftovers


class _LocalXlink(etree.Resolver):
    def resolve(self, url, public_id, context):
        if url and url.endswith("xlink.xsd"):
            return self.resolve_filename(str(SCHEMAS / "xlink.xsd"), context)
        if url and "://" in url and not url.startswith("file:"):
            raise AssertionError(f"schema wants {url}; validation must stay offline")
        return None


def xsd(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalXlink())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), parser))


def assert_valid(doc, name: str) -> None:
    schema = xsd(name)
    assert schema.validate(doc), schema.error_log


@pytest.fixture(scope="module")
def extract_dir(example_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("extract") / "ex"
    result = run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", out, "-q")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def built(extract_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg")
    result = pack(extract_dir, "--out", out, "--uuid", UUID)
    assert result.exit_code == 0, result.output
    tar_path = out / f"{UUID}.tar"
    with tarfile.open(tar_path) as tar:
        members = tar.getmembers()
        data = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
    return {"out": out, "tar": tar_path, "info": out / f"{UUID}.xml", "members": members, "data": data,
            "output": result.output}


def test_bundled_schemas_are_verbatim_copies():
    for name, digest in BUNDLED.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest, name


def test_tar_layout(built, extract_dir):
    members, names = built["members"], [m.name for m in built["members"]]
    raw = built["tar"].read_bytes()
    assert raw[:100].rstrip(b"\0") == f"{UUID}/".encode()  # first header, as Arkade reads it
    assert members[0].isdir() and members[0].name == UUID
    for m in members:
        assert m.isfile() or m.isdir(), m.name  # no links, devices or fifos
        assert not m.name.startswith("/") and ".." not in m.name.split("/")
        assert m.name == UUID or m.name.startswith(f"{UUID}/")
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "")
        assert m.mode == (0o755 if m.isdir() else 0o644), m.name
        assert m.mtime == members[0].mtime
    assert names == sorted(names, key=lambda n: n.split("/")), "entries are not sorted by path"
    for m in members[1:]:  # every folder comes before its contents
        parent = m.name.rsplit("/", 1)[0]
        assert parent in names[: names.index(m.name)], m.name
    for required in ("dias-mets.xml", "dias-mets.xsd", "administrative_metadata/dias-premis.xml",
                     "administrative_metadata/dias-premis.xsd", "content/addml.xml", "content/addml.xsd"):
        assert f"{UUID}/{required}" in built["data"], required
    assert f"{UUID}/descriptive_metadata" in names
    # content/ unchanged, byte for byte; report/ travels as descriptive_metadata/
    expected = {f"{UUID}/content/{p.relative_to(extract_dir / 'content').as_posix()}": p.read_bytes()
                for p in (extract_dir / "content").rglob("*") if p.is_file()}
    expected |= {f"{UUID}/descriptive_metadata/{p.name}": p.read_bytes() for p in (extract_dir / "report").iterdir()}
    expected |= {f"{UUID}/descriptive_metadata/documentation/{p.name}": p.read_bytes()
                 for p in (extract_dir / "documentation").iterdir()}
    got = {n: b for n, b in built["data"].items() if "/content/" in n or "/descriptive_metadata/" in n}
    assert got == expected
    assert any("/content/lob/" in n for n in got)
    assert f"{UUID}/descriptive_metadata/documentation/beskrivelse.txt" in got
    assert len(raw) % tarfile.RECORDSIZE == 0


def test_metadata_files_validate(built):
    data = built["data"]
    assert_valid(etree.fromstring(data[f"{UUID}/dias-mets.xml"]), "DIAS_METS.xsd")
    assert_valid(etree.fromstring(data[f"{UUID}/administrative_metadata/dias-premis.xml"]), "DIAS_PREMIS.xsd")
    assert_valid(etree.parse(str(built["info"])), "submissionDescription.xsd")
    assert data[f"{UUID}/dias-mets.xsd"] == (SCHEMAS / "DIAS_METS.xsd").read_bytes()
    assert data[f"{UUID}/administrative_metadata/dias-premis.xsd"] == (SCHEMAS / "DIAS_PREMIS.xsd").read_bytes()


def test_dias_mets_lists_every_file_with_size_and_checksum(built):
    data = built["data"]
    mets = etree.fromstring(data[f"{UUID}/dias-mets.xml"])
    assert mets.get("OBJID") == f"UUID:{UUID}"
    listed = {}
    for f in mets.iter(f"{{{METS_NS}}}file"):
        href = f.find(f"{{{METS_NS}}}FLocat").get(XLINK_HREF)
        assert href.startswith("file:")
        assert f.get("CHECKSUMTYPE") == "SHA-256"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", f.get("CREATED"))
        listed[href[len("file:"):]] = (int(f.get("SIZE")), f.get("CHECKSUM"), f.get("MIMETYPE"))
    in_tar = {n[len(UUID) + 1:]: (len(b), hashlib.sha256(b).hexdigest()) for n, b in data.items()}
    assert set(listed) == set(in_tar) - {"dias-mets.xml"}  # it cannot list its own checksum
    for name, (size, digest, _) in listed.items():
        assert (size, digest) == in_tar[name], name
    assert listed["content/SAK.txt"][2] == "text/plain"
    assert listed["content/addml.xml"][2] == "application/xml"
    assert listed["content/lob/DOKUMENT/innhold/3.pdf"][2] == "image/pdf"
    refs = {r.get(XLINK_HREF): r.get("CHECKSUM") for r in mets.iter(f"{{{METS_NS}}}mdRef")}
    assert refs["file:content/addml.xml"] == in_tar["content/addml.xml"][1]
    assert refs["file:administrative_metadata/dias-premis.xml"] == in_tar["administrative_metadata/dias-premis.xml"][1]
    assert len(mets.findall(f"{{{METS_NS}}}metsHdr/{{{METS_NS}}}agent")) >= 6


def test_info_file_describes_the_tar(built):
    info = etree.parse(str(built["info"])).getroot()
    tar_bytes = built["tar"].read_bytes()
    files = {f.find(f"{{{INFO_NS}}}FLocat").get(XLINK_HREF): f for f in info.iter(f"{{{INFO_NS}}}file")}
    tar_file = files[f"file:{UUID}.tar"]
    assert tar_file.get("CHECKSUM") == hashlib.sha256(tar_bytes).hexdigest()
    assert int(tar_file.get("SIZE")) == len(tar_bytes) == built["tar"].stat().st_size
    assert tar_file.get("CHECKSUMTYPE") == "SHA-256"
    mets_file = files[f"file:{UUID}/dias-mets.xml"]
    mets_bytes = built["data"][f"{UUID}/dias-mets.xml"]
    assert (mets_file.get("CHECKSUM"), int(mets_file.get("SIZE"))) == (hashlib.sha256(mets_bytes).hexdigest(),
                                                                        len(mets_bytes))
    assert info.get("OBJID") == f"UUID:{UUID}" and info.get("TYPE") == "SIP"
    ids = {a.get("TYPE"): a.text for a in info.iter(f"{{{INFO_NS}}}altRecordID")}
    assert (ids["STARTDATE"], ids["ENDDATE"]) == ("2019-01-01", "2023-12-31")  # from the profile via addml.xml
    agents = [(a.get("ROLE"), a.get("OTHERROLE"), a.get("TYPE"), a.get("OTHERTYPE"), a.findtext(f"{{{INFO_NS}}}name"))
              for a in info.iter(f"{{{INFO_NS}}}agent")]
    assert ("ARCHIVIST", None, "ORGANIZATION", None, "Eksempel kommune") in agents
    assert ("OTHER", "SUBMITTER", "ORGANIZATION", None, "Eksempel kommune") in agents
    assert ("CREATOR", None, "OTHER", "SOFTWARE", "uttrekk") in agents
    assert ("ARCHIVIST", None, "OTHER", "SOFTWARE", "Byggesak") in agents


def arkade_archive_type(info_path: Path) -> str | None:
    """Arkade 5's ``ArchiveTypeIdentifier.IdentifyTypeOfChosenArchiveFile``, restated."""
    root = etree.parse(str(info_path)).getroot()
    for agent in root.iterfind(f"{{{INFO_NS}}}metsHdr/{{{INFO_NS}}}agent"):
        if (agent.get("ROLE"), agent.get("OTHERROLE"), agent.get("TYPE"), agent.get("OTHERTYPE")) == \
                ("OTHER", "PRODUCER", "OTHER", "SOFTWARE"):
            for note in agent.findall(f"{{{INFO_NS}}}note"):
                text = (note.text or "").lower()
                if "fagsystem" in text:
                    return "Fagsystem"
                if "noark" in text and ("3" in text or "5" in text):
                    return "Noark"
            return None
    return None


def test_arkade_detects_fagsystem_from_the_info_file(built):
    assert arkade_archive_type(built["info"]) == "Fagsystem"
    root = etree.parse(str(built["info"])).getroot()
    producer = [a for a in root.iter(f"{{{INFO_NS}}}agent") if a.get("OTHERTYPE") == "SOFTWARE"
                and a.get("OTHERROLE") == "PRODUCER"]
    assert [n.text for n in producer[0].findall(f"{{{INFO_NS}}}note")] == ["Fagsystem", "3.4",
                                                                             "notescontent:Type,Version"]
    assert producer[0].findtext(f"{{{INFO_NS}}}name") == "Byggesak"


def test_same_uuid_same_bytes(built, extract_dir, tmp_path):
    result = pack(extract_dir, "--out", tmp_path, "--uuid", UUID)
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{UUID}.tar").read_bytes() == built["tar"].read_bytes()
    assert (tmp_path / f"{UUID}.xml").read_bytes() == built["info"].read_bytes()
    other = build_package(extract_dir, tmp_path / "other", str(uuidlib.UUID(int=1)))
    assert other.tar_path.read_bytes() != built["tar"].read_bytes()


def test_default_uuid_names_everything(extract_dir, tmp_path):
    result = build_package(extract_dir, tmp_path)
    assert uuidlib.UUID(result.uuid).version == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{result.uuid}.tar", f"{result.uuid}.xml"]
    with tarfile.open(result.tar_path) as tar:
        assert tar.getmembers()[0].name == result.uuid
    assert result.sha256 == hashlib.sha256(result.tar_path.read_bytes()).hexdigest()
    assert result.size == result.tar_path.stat().st_size


def test_options_fill_in_and_override_metadata(extract_dir, tmp_path):
    result = pack(extract_dir, "--out", tmp_path, "--uuid", UUID, "--archive-creator", "Annen kommune",
                  "--submitter", "IKA Eksempel", "--recipient", "Arkivverket", "--timestamp", "2027-01-02T03:04:05")
    assert result.exit_code == 0, result.output
    assert "differs from addml.xml" in result.output
    info = etree.parse(str(tmp_path / f"{UUID}.xml")).getroot()
    agents = {(a.get("ROLE"), a.get("OTHERROLE"), a.get("TYPE")): a.findtext(f"{{{INFO_NS}}}name")
              for a in info.iter(f"{{{INFO_NS}}}agent")}
    assert agents[("ARCHIVIST", None, "ORGANIZATION")] == "Annen kommune"
    assert agents[("OTHER", "SUBMITTER", "ORGANIZATION")] == "IKA Eksempel"
    assert agents[("PRESERVATION", None, "ORGANIZATION")] == "Arkivverket"
    assert info.find(f"{{{INFO_NS}}}metsHdr").get("CREATEDATE") == "2027-01-02T03:04:05+00:00"
    with tarfile.open(tmp_path / f"{UUID}.tar") as tar:
        assert {m.mtime for m in tar.getmembers()} == {int(dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp())}


def _copy(extract_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ex"
    shutil.copytree(extract_dir, copy)
    return copy


def test_missing_addml_is_a_clear_error(extract_dir, tmp_path):
    bad = _copy(extract_dir, tmp_path)
    (bad / "content" / "addml.xml").unlink()
    fails(pack(bad, "--out", tmp_path / "out", "--uuid", UUID), "no content/addml.xml")
    _no_package_left(tmp_path / "out")
    fails(pack(tmp_path / "nowhere", "--out", tmp_path / "out"), "not a directory")


def test_symlink_inside_is_refused(extract_dir, tmp_path):
    bad = _copy(extract_dir, tmp_path)
    (bad / "content" / "lob" / "link.txt").symlink_to(bad / "content" / "SAK.txt")
    fails(pack(bad, "--out", tmp_path / "out", "--uuid", UUID), "symbolic link", "link.txt")
    _no_package_left(tmp_path / "out")


def test_fifo_and_stray_folders_are_refused(extract_dir, tmp_path):
    bad = _copy(extract_dir, tmp_path)
    os.mkfifo(bad / "report" / "pipe")
    fails(pack(bad, "--out", tmp_path / "out", "--uuid", UUID), "special file", "pipe")
    (bad / "report" / "pipe").unlink()
    (bad / "extra").mkdir()
    fails(pack(bad, "--out", tmp_path / "out", "--uuid", UUID), "extra", "besides content/ and report/")
    fails(pack(extract_dir, "--out", extract_dir / "report" / "pkg", "--uuid", UUID), "inside the extract")
    assert not (extract_dir / "report" / "pkg").exists()
    _no_package_left(tmp_path / "out")


def test_existing_tar_needs_overwrite(extract_dir, tmp_path):
    assert pack(extract_dir, "--out", tmp_path, "--uuid", UUID).exit_code == 0
    tar = tmp_path / f"{UUID}.tar"
    tar.write_bytes(b"old")
    fails(pack(extract_dir, "--out", tmp_path, "--uuid", UUID), f"{UUID}.tar", "--overwrite")
    assert tar.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{UUID}.tar", f"{UUID}.xml"]
    result = pack(extract_dir, "--out", tmp_path, "--uuid", UUID, "--overwrite")
    assert result.exit_code == 0, result.output
    assert tarfile.is_tarfile(tar)


def test_bad_uuid_and_timestamp(extract_dir, tmp_path):
    fails(pack(extract_dir, "--out", tmp_path, "--uuid", "not-a-uuid"), "not a UUID")
    fails(pack(extract_dir, "--out", tmp_path, "--timestamp", "yesterday"), "--timestamp")
    _no_package_left(tmp_path)


def test_changed_extract_is_refused(extract_dir, tmp_path):
    bad = _copy(extract_dir, tmp_path)
    with open(bad / "content" / "SAK.txt", "ab") as f:
        f.write(b"x")
    fails(pack(bad, "--out", tmp_path / "out", "--uuid", UUID), "content/SAK.txt", "differs from addml.xml")
    _no_package_left(tmp_path / "out")


def test_no_archive_creator_anywhere(extract_dir, tmp_path):
    bad = _copy(extract_dir, tmp_path)
    addml = bad / "content" / "addml.xml"
    addml.write_text(addml.read_text(encoding="utf-8").replace("recordCreator", "someoneElse"), encoding="utf-8")
    fails(pack(bad, "--out", tmp_path / "out", "--uuid", UUID), "--archive-creator")
    _no_package_left(tmp_path / "out")
    assert pack(bad, "--out", tmp_path / "out", "--uuid", UUID, "--archive-creator", "Eksempel kommune").exit_code == 0


def test_size_limit_is_checked_before_writing(extract_dir, tmp_path):
    with pytest.raises(ConfigError, match="1 TB"):
        build_package(extract_dir, tmp_path, UUID, limit=1000)
    _no_package_left(tmp_path)
    with pytest.raises(ConfigError, match="files plus tar headers"):  # files fit, the tar would not
        build_package(extract_dir, tmp_path, UUID, limit=sum(p.stat().st_size for p in extract_dir.rglob("*")
                                                              if p.is_file()) + 1)
    _no_package_left(tmp_path)


def test_failure_while_writing_leaves_no_tar(extract_dir, tmp_path, monkeypatch):
    def broken(path, items, mtime):
        path.write_bytes(b"half a tar")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(package_module, "write_tar", broken)
    with pytest.raises(OutputError, match="No space left"):
        build_package(extract_dir, tmp_path, UUID)
    _no_package_left(tmp_path)


def test_file_changed_after_listing_is_caught(extract_dir, tmp_path, monkeypatch):
    real = package_module.hashed

    def stale(entries):
        out = real(entries)
        return [e if e.name != "content/lob/DOKUMENT/notat/15.txt" else type(e)(e.name, e.source, e.size, "0" * 64)
                for e in out]
    monkeypatch.setattr(package_module, "hashed", stale)
    monkeypatch.setattr(package_module, "_check_addml_checksums", lambda *a: None)
    with pytest.raises(ConfigError, match="15.txt: changed while being packaged"):
        build_package(extract_dir, tmp_path, UUID)
    _no_package_left(tmp_path)


def test_tar_names_beyond_ustar(tmp_path):
    """Non-ASCII and long names survive (pax records), and the size check is an upper bound."""
    from extractor.dias.inventory import Entry
    from extractor.dias.tarball import members, predicted_size, write_tar

    files = {"content/SØKNAD.txt": b"s\xf8knad\n", f"content/{'a' * 120}.txt": b"x" * 700, "content/lob/B/1.bin": b""}
    entries = []
    for i, (name, data) in enumerate(files.items()):
        src = tmp_path / f"src{i}"
        src.write_bytes(data)
        entries.append(Entry(name, src, len(data), hashlib.sha256(data).hexdigest()))
    items = members(UUID, entries, ["administrative_metadata"])
    sha, size = write_tar(tmp_path / "t.tar", items, 0)
    raw = (tmp_path / "t.tar").read_bytes()
    assert (sha, size) == (hashlib.sha256(raw).hexdigest(), len(raw))
    assert size <= predicted_size(items)
    with tarfile.open(tmp_path / "t.tar") as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        names = tar.getnames()
    assert got == {f"{UUID}/{n}": d for n, d in files.items()}
    assert names[:2] == [UUID, f"{UUID}/administrative_metadata"]
    assert f"{UUID}/content/lob/B" in names
