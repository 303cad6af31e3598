"""Write docs/cli.md from the CLI's own --help texts (run after changing a command)."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from extractor.cli import cli


def render() -> str:
    runner = CliRunner()
    parts = ["# Command reference", "", "Generated from `--help` by `scripts/gen_cli_docs.py`; do not edit.", ""]
    for args, title in [([], "uttrekk"), *_commands(cli, [])]:
        text = runner.invoke(cli, [*args, "--help"], prog_name="uttrekk").output
        parts += [f"## {title}", "", "```", text.rstrip(), "```", ""]
    return "\n".join(parts)


def _commands(group, prefix: list[str]) -> list[tuple[list[str], str]]:
    """Every command, the subcommands of a group (``uttrekk profile init``) right after it."""
    found = []
    for name in sorted(group.commands):
        args = [*prefix, name]
        found.append((args, " ".join(["uttrekk", *args])))
        if hasattr(group.commands[name], "commands"):
            found += _commands(group.commands[name], args)
    return found


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
