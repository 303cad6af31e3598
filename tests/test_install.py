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


def test_every_installed_distribution_is_pinned_at_its_version() -> None:
    pinned = pins()
    wrong = []
    for dist in metadata.distributions():
        name = _norm(dist.metadata["Name"])
        if name in ("uttrekk", "pip", "setuptools", "wheel"):
            continue  # the project itself; the installers are pinned for the build, checked below
        if pinned.get(name) != dist.version:
            wrong.append(f"{name} {dist.version} (constraints.txt: {pinned.get(name, 'not pinned')})")
    assert not wrong, "installed but not as constraints.txt says: " + ", ".join(sorted(wrong))


def test_installers_and_build_backend_are_pinned() -> None:
    pinned = pins()
    assert {"pip", "setuptools"} <= set(pinned)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [ln for ln in makefile.replace("\\\n", " ").splitlines() if "pip install" in ln]
    assert installs and all("-c constraints.txt" in ln for ln in installs), installs
    assert any("--build-constraint constraints.txt" in ln and "-e " in ln for ln in installs), installs
