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


def _commands(group, prefix: str = "uttrekk") -> list[str]:
    """Every command line a user can type, subcommands of groups included (``uttrekk profile init``)."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append(f"{prefix} {name}")
        if hasattr(command, "commands"):
            found.extend(_commands(command, f"{prefix} {name}"))
    return found


@pytest.mark.parametrize("command", _commands(cli))
def test_every_command_is_in_the_readme_and_the_reference(command):
    assert command in (ROOT / "README.md").read_text()
    assert command in (ROOT / "docs" / "cli.md").read_text()


def _profile_keys() -> list[str]:
    """Every key the profile parser accepts: all of its ``_…_KEYS`` tuples, so a new one is covered at once."""
    keys = set()
    for name, value in vars(profile_module).items():
        if name.endswith("_KEYS") and isinstance(value, tuple):
            keys.update(value)
    return sorted(keys)


@pytest.mark.parametrize("key", _profile_keys())
def test_every_profile_key_is_documented(key):
    doc = (ROOT / "docs" / "profile.md").read_text()
    shown = (f"`{key}`", f"`{key} =", f"\n{key} =", f"[{key}]", f"[{key}.", f"[charset.{key}]", f".{key}.")
    assert any(s in doc for s in shown), f"{key} is not in docs/profile.md"


def test_template_profile_is_valid():
    profile_module.load_profile(ROOT / "profiles" / "template.toml")


def _guide_command_lines() -> list[list[str]]:
    """The ``uttrekk …`` command lines in the user guide's code blocks, continuation lines joined."""
    import re
    import shlex

    text = (ROOT / "docs" / "guide.md").read_text()
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while "uttrekk" in words:
                words = words[words.index("uttrekk"):]
                end = words.index("&&") if "&&" in words else len(words)
                lines.append(words[:end])
                words = words[end:]
    return lines


def test_the_guide_uses_only_real_commands_and_options():
    lines = _guide_command_lines()
    assert len(lines) >= 8, "the guide should show its commands in ```sh blocks"
    for words in lines:
        command, rest = cli, words[1:]
        while hasattr(command, "commands"):
            assert rest and rest[0] in command.commands, f"unknown command in the guide: {' '.join(words)}"
            command, rest = command.commands[rest[0]], rest[1:]
        known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for word in rest:
            if word.startswith("-"):
                assert word.split("=")[0] in known, f"{word} is not an option of: {' '.join(words[:3])}"
