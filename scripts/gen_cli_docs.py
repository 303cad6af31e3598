"""Write docs/cli.md from the CLI's own --help texts (run after changing a command)."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from extractor.cli import cli


def render() -> str:
    runner = CliRunner()
    parts = ["# Command reference", "", "Generated from `--help` by `scripts/gen_cli_docs.py`; do not edit.", ""]
    for args, title in [([], "uttrekk"), *[([name], f"uttrekk {name}") for name in sorted(cli.commands)]]:
        text = runner.invoke(cli, [*args, "--help"], prog_name="uttrekk").output
        parts += [f"## {title}", "", "```", text.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
