"""What an extract writes table by table equals what the whole would give, byte for byte.

extraction.json's table list, the documentation's tables and the tables' scans are not held for all
tables at once (a run of 20,000 tables, docs/performance.md "Many tables"); these tests compare the
pieces with the whole-object rendering they replace.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.pipeline import _write_json

ENTRIES = [
    {"table": "t1", "records": 5, "fields": ["id", "navn"], "excluded_columns": [], "notes": []},
    {"table": "æøå \"sitat\"\nlinje", "records": 0, "fields": [], "excluded_columns": [{"column": "c", "reason": "r"}],
     "notes": ["merknad med \\ og \t"], "exact_path_reasons": {"": "hele tabellen", "c": "grunn"}},
]


@pytest.mark.parametrize("entries", [ENTRIES, ENTRIES[:1], []])
def test_extraction_json_written_table_by_table_equals_json_dumps(tmp_path: Path, entries: list[dict]) -> None:
    data = {"tool": "uttrekk", "source": "kilde ☃", "snapshot": {}, "tables": None, "excluded_tables": [],
            "warnings": ["en\nadvarsel", "\x00uttrekk:tables\x00"], "deviations": {"t1:mapped": 2}}
    path = tmp_path / "extraction.json"
    _write_json(path, data, iter(entries))
    whole = json.dumps({**data, "tables": entries}, indent=2, ensure_ascii=False) + "\n"
    assert path.read_bytes() == whole.encode("utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["tables"] == entries


def test_kept_scans_read_back_are_checked_again(example_db: Path, tmp_path: Path) -> None:
    """The scans wait in the work folder until the final plan (``KeptScans``); one that changed or
    vanished there meanwhile (the folder is input like any other) is one clear error naming the
    table, never a traceback or another table's statistics."""
    import shutil

    from dialects import open_source
    from extractor.errors import ExtractionError
    from extractor.extract import extract_scanning, extracted_tables
    from extractor.keys import settle
    from extractor.large_objects import settle_large_objects
    from extractor.pipeline import Options, reflect_and_plan
    from extractor.profile import Profile
    from extractor.scan import rows_of
    from extractor.workdir import KeptScans, WorkDir

    content, work = tmp_path / "content", WorkDir(tmp_path / "work")
    content.mkdir()
    dialect = open_source(str(example_db))
    try:
        with dialect.snapshot():
            _, plan = reflect_and_plan(dialect, Profile(), Options())
            plan = settle_large_objects(settle(plan, dialect), dialect)
            first, second = [tp for tp in extracted_tables(plan) if tp.source is not None][:2]
            for tp in (first, second):
                scanned, done = extract_scanning(plan, tp, rows_of(dialect), content, work.path)
                work.mark_done(tp, done, scanned, content)
    finally:
        dialect.close()
    kept = KeptScans(work, plan)
    assert kept[first.name].rows > 0 and kept[second.name].rows > 0  # read back as written

    scan_of = {tp.name: work._scan(tp) for tp in (first, second)}
    shutil.copyfile(scan_of[second.name], scan_of[first.name])  # another table's scan in its place
    with pytest.raises(ExtractionError, match=f"{first.name}: its scan .* it is the scan of table"):
        KeptScans(work, plan)[first.name]
    scan_of[first.name].write_bytes(b'{"name": ')  # cut short
    with pytest.raises(ExtractionError, match=f"{first.name}: its scan .* cannot be read back"):
        KeptScans(work, plan)[first.name]
    scan_of[first.name].unlink()
    with pytest.raises(ExtractionError, match="extract again"):
        KeptScans(work, plan)[first.name]
