"""Data flows one way: a stage imports only from earlier stages (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "extractor"

ORDER = ["errors", "model", "plaindata", "values", "charset", "profile_files", "profile", "deliverable", "lobs", "plan",
         "scan", "refine", "report", "keys", "large_objects",
         "writers", "extract", "addml", "documentation", "output", "workdir", "progress", "parallel", "pipeline", "relations",
         "inspect", "profile_init", "console", "validation", "dias", "cli"]
"""Modules in flow order; each may import only modules before it (``writers`` is one unit)."""


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level >= 1:
            found.update(a.name for a in node.names)
    return found


def test_each_stage_imports_only_earlier_stages():
    rank = {m: i for i, m in enumerate(ORDER)}
    files = [p for p in ROOT.glob("*.py") if p.stem not in ("__init__", "__main__")]
    for path in files:
        assert path.stem in rank, f"{path.name} is not placed in the layering ORDER"
        for imported in _imports(path):
            if imported in rank:
                assert rank[imported] < rank[path.stem], f"{path.stem} imports later stage {imported}"


def test_model_and_errors_import_nothing_from_the_project():
    for name in ("model", "errors"):
        assert not _imports(ROOT / f"{name}.py")
