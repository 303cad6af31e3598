"""Profiles: every problem reported at once, with file and key; unknown keys are errors."""

from __future__ import annotations

import pytest

from extractor.errors import ProfileError
from extractor.profile import load_profile, parse_profile
from tests.conftest import EXAMPLE_PROFILE


def test_example_profile_loads():
    p = load_profile(EXAMPLE_PROFILE)
    assert p.metadata.archive_creator
    assert p.charset.utf8_fallback
    assert ("\u2013", "-") in p.charset.mapping
    assert p.table("SAKSTYPE").code_table is not None


def test_all_problems_at_once_with_key_paths(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('[metadata]\narchive_creatr = "x"\nperiod_start = "2020-13-01"\n'
                 '[charset]\nencoding = "latin9"\n[charset.map]\n"ab" = "x"\n"\u010c" = "\u0160"\n'
                 '[tables.T]\nexclude = ""\nwhat = 1\n[tables.U.columns.c]\nexclude = "  "\n'
                 '[output]\nlong_text_limit = 0\nformat = "csv"\n', encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_profile(f)
    text = str(err.value)
    assert str(f) in text
    for fragment in ["metadata.archive_creatr: unknown key (did you mean 'archive_creator'?)",
                     "metadata.period_start", "charset.encoding", "exactly one character",
                     "cannot itself be written", "tables.T.exclude", "tables.T.what: unknown key",
                     "tables.U.columns.c.exclude", "output.long_text_limit", "output.format"]:
        assert fragment in text, fragment
    assert len(err.value.problems) == 10


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[metadata\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="file not found"):
        load_profile(tmp_path / "none.toml")


def test_dates_accept_toml_dates():
    import datetime as dt
    p = parse_profile({"metadata": {"period_start": dt.date(2019, 1, 1), "period_end": "2023-12-31"}})
    assert p.metadata.period_start == "2019-01-01"
    with pytest.raises(ProfileError, match="comes after"):
        parse_profile({"metadata": {"period_start": "2024-01-01", "period_end": "2023-12-31"}})
