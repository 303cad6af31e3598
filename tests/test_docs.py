"""Documentation stays true: the CLI reference matches --help, every command and profile key is documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from extractor import profile as profile_module
from extractor.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "cli.md").read_text() == mod.render(), "run scripts/gen_cli_docs.py"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_in_the_readme(command):
    assert f"uttrekk {command}" in (ROOT / "README.md").read_text()


def test_every_profile_key_is_documented():
    doc = (ROOT / "docs" / "profile.md").read_text()
    keys = [*profile_module._METADATA_KEYS, *profile_module._CHARSET_KEYS, *profile_module._OUTPUT_KEYS,
            *profile_module._TABLE_KEYS, *profile_module._CODE_TABLE_KEYS, *profile_module._COLUMN_KEYS]
    for key in keys:
        assert f"`{key}`" in doc or f"[charset.{key}]" in doc or f"{key} =" in doc or f".{key.upper()}" in doc \
            or (key == "columns" and "[tables.NAME.columns.COLUMN]" in doc), key


def test_template_profile_is_valid():
    profile_module.load_profile(ROOT / "profiles" / "template.toml")
