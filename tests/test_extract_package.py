"""``extract --package``: extract, validate and package in one go, and the package validates."""

from __future__ import annotations

import json
import sqlite3
import tarfile
from pathlib import Path

from click.testing import CliRunner

from extractor.cli import cli
from tests.conftest import EXAMPLE_PROFILE


def _run(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_extract_validate_and_package_in_one_go(example_db: Path, tmp_path: Path) -> None:
    r = _run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", tmp_path / "x", "--package", tmp_path / "pkg",
             "-q")
    assert r.exit_code == 0, r.output
    tars = list((tmp_path / "pkg").glob("*.tar"))
    assert len(tars) == 1 and tars[0].with_suffix(".xml").is_file()
    report = json.loads((tmp_path / "x" / "report" / "validation.json").read_text(encoding="utf-8"))
    assert report["errors"] == 0
    with tarfile.open(tars[0]) as tf:
        names = tf.getnames()
    root = tars[0].stem
    assert f"{root}/descriptive_metadata/validation.json" in names and f"{root}/content/addml.xml" in names
    again = _run("validate", tars[0], "-q")  # the tar it wrote, read in place
    assert again.exit_code == 0, again.output


def test_authentic_errors_are_packed_and_the_exit_code_says_so(tmp_path: Path) -> None:
    db = tmp_path / "k.sqlite"
    con = sqlite3.connect(db)
    con.executescript("PRAGMA foreign_keys = OFF;"
                      "CREATE TABLE status (kode TEXT PRIMARY KEY, navn TEXT);"
                      "CREATE TABLE sak (id INTEGER PRIMARY KEY, status TEXT REFERENCES status (kode));"
                      "INSERT INTO status VALUES ('N', 'Ny'); INSERT INTO sak VALUES (1, 'N'), (2, 'X');")
    con.close()
    profile = tmp_path / "p.toml"
    profile.write_text('[metadata]\narchive_creator = "Eksempel kommune"\nsystem_name = "Sak"\n'
                       'period_start = 2020-01-01\nperiod_end = 2020-12-31\n', encoding="utf-8")
    r = _run("extract", db, "--profile", profile, "--out", tmp_path / "x", "--package", tmp_path / "pkg", "-q")
    assert r.exit_code == 1, r.output
    assert "validation found" in r.output and "Traceback" not in r.output
    assert len(list((tmp_path / "pkg").glob("*.tar"))) == 1
    report = json.loads((tmp_path / "x" / "report" / "validation.json").read_text(encoding="utf-8"))
    failed = {c["id"] for c in report["checks"] if c["errors"]}
    assert "A.16" in failed  # the dangling 'X', which the extraction report lists too
    deviations = (tmp_path / "x" / "report" / "deviations.tsv").read_text(encoding="utf-8")
    assert "sak\tstatus\tid=2\tdangling_reference" in deviations


def test_package_without_archive_creator_is_a_clear_error_and_no_tar(example_db: Path, tmp_path: Path) -> None:
    r = _run("extract", example_db, "--charset", "UTF-8", "--out", tmp_path / "x", "--package", tmp_path / "pkg", "-q")
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "uttrekk: error:" in r.output and "--archive-creator" in r.output
    assert not list(tmp_path.glob("pkg/*.tar"))
