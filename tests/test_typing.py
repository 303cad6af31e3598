"""mypy over all of ``extractor`` and ``dialects`` with the project's settings ([tool.mypy] in
pyproject.toml): the code stays free of type errors, so a new one is seen where it is made rather
than as a None reaching code that expects a value. A fresh cache each time, so nothing stale hides
an error (some 20 s on two cores)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors(tmp_path):
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--cache-dir", str(tmp_path),
                          "extractor", "dialects"], cwd=ROOT, capture_output=True, text=True, check=False)
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert not errors, f"mypy: {len(errors)} error(s):\n" + "\n".join(errors)
    assert run.returncode == 0, run.stdout + run.stderr
    checked = re.search(r"^Success: no issues found in (\d+) source files$", run.stdout, re.M)
    assert checked and int(checked.group(1)) > 100, run.stdout + run.stderr  # the packages, not an empty selection
