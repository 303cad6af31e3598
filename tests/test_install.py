"""The test environment is the one constraints.txt records: every installed distribution is pinned
there at the version installed, and the Makefile installs against it (build backend included), so
the suite runs with what it was tested with and an upstream release is an upgrade made on purpose."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line)
        assert m, f"constraints.txt: {line!r} is not NAME==VERSION"
        out[_norm(m.group(1))] = m.group(2)
    return out


EXTRAS = ("test", "postgresql", "mysql", "firebird")
"""The extras `make test` installs (Makefile)."""


def needed() -> set[str]:
    """Every distribution uttrekk with the test extras requires, directly or not, as installed."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [("uttrekk", EXTRAS)]
    while todo:
        name, extras = todo.pop()
        for text in metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (*extras, "")):
                continue
            dep = _norm(req.name)
            if dep == "uttrekk":
                todo.append((dep, tuple(req.extras)))
            elif dep not in seen:
                seen.add(dep)
                todo.append((dep, tuple(req.extras)))
    return seen


def test_every_distribution_the_suite_needs_is_pinned_at_its_installed_version() -> None:
    pinned = pins()
    wanted = needed()
    assert {"sqlalchemy", "lxml", "psycopg", "pymysql", "pytest"} <= wanted  # the closure is really walked
    wrong = [f"{name} {metadata.version(name)} (constraints.txt: {pinned.get(name, 'not pinned')})"
             for name in sorted(wanted) if pinned.get(name) != metadata.version(name)]
    assert not wrong, "installed but not as constraints.txt says: " + ", ".join(wrong)


def test_installers_and_build_backend_are_pinned() -> None:
    pinned = pins()
    assert {"pip", "setuptools"} <= set(pinned)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [ln for ln in makefile.replace("\\\n", " ").splitlines() if "pip install" in ln]
    assert installs and all("-c constraints.txt" in ln for ln in installs), installs
    assert any("--build-constraint constraints.txt" in ln and "-e " in ln for ln in installs), installs
