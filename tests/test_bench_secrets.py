"""The bench scripts put no password on a command line (a process list shows it to every user):
it travels in the environment. SQLAlchemy's ``URL.set(password=None)`` leaves the password in place,
which is how it once reached the measured command lines."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_the_bench_url_on_a_command_line_has_no_password() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from extract_bench import make_target
    finally:
        sys.path.remove(str(BENCH))
    target = make_target("postgresql", "postgresql+psycopg://arkiv:Hemmelig-1@db.example/uttrekk_bench")
    for tenth in (False, True):
        assert "Hemmelig-1" not in target.url_text(tenth)
        assert target.url_text(tenth).startswith("postgresql+psycopg://arkiv@db.example/")
    assert target.password_env("uttrekk") == {"UTTREKK_PASSWORD": "Hemmelig-1"}


def test_no_bench_script_clears_a_password_with_url_set() -> None:
    for script in sorted(BENCH.glob("*.py")):
        code = [line for line in script.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
        assert not any(".set(password=None" in line or ", password=None)" in line and ".set(" in line
                       for line in code), script
