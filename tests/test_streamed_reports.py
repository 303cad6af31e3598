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
