"""Golden: addml.xml of the bundled example is pinned byte for byte (and with it, through the
SHA-256 checksums inside, every data file). Regenerate deliberately with UTTREKK_UPDATE_GOLDEN=1
and read the diff before committing it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import EXAMPLE_PROFILE, run

GOLDEN = Path(__file__).parent / "golden"


def test_example_addml_is_pinned(tmp_path, example_db):
    out = tmp_path / "o"
    r = run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", out, "--date", "2026-01-15", "-q")
    assert r.exit_code == 0, r.output
    got = (out / "content" / "addml.xml").read_bytes()
    golden = GOLDEN / "example-addml.xml"
    if os.environ.get("UTTREKK_UPDATE_GOLDEN"):
        golden.write_bytes(got)
    assert got == golden.read_bytes(), "addml.xml changed; if intended, regenerate with UTTREKK_UPDATE_GOLDEN=1"


def test_rerun_is_byte_identical(tmp_path, example_db):
    outs = []
    for name in ("a", "b"):
        r = run("extract", example_db, "--profile", EXAMPLE_PROFILE, "--out", tmp_path / name, "--date", "2026-01-15", "-q")
        assert r.exit_code == 0, r.output
        outs.append(tmp_path / name / "content")
    files_a = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (outs[0] / rel).read_bytes() == (outs[1] / rel).read_bytes(), rel
