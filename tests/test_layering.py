"""Data flows one way (docs/architecture.md, "Layering").

- ``extractor``: a stage imports only stages before it in ``ORDER``; a subpackage (``writers``,
  ``relations``, ``documentation``, ``validation``, ``dias``, ``loading``, ``schemas``) is one stage, whose
  modules import each other and earlier stages, never a later one.
- ``dialects`` (the adapters and the kinds of SOURCE) uses of ``extractor`` only what describes
  data (``DIALECTS_MAY_USE``), never a pipeline stage.
- ``extractor`` reaches ``dialects`` only where a command opens a source (``OPENS_A_SOURCE``);
  everywhere else it works through ``extractor.source_dialect``.
- No import cycle among the imports a module runs when it is loaded, in either package. An
  import deferred into a function or under ``TYPE_CHECKING`` runs later (or never) and may close
  a loop, but only inside one package (today ``dialects.base`` asks ``dialects.locate`` inside a
  method; ``dialects.kinds`` words a refusal with ``dialects.kinds.describe``).

Every import counts, deferred or not, wherever it stands in the file; relative imports are
resolved, and ``from package import name`` counts as importing the submodule ``name`` when it is one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("extractor", "dialects")

ORDER = ["errors", "model", "source_dialect", "schemas", "plaindata", "values", "siard", "charset", "profile_files", "profile",
         "deliverable", "lobs", "plan", "scan", "rendered", "refine", "report", "keys", "large_objects",
         "writers", "extract", "siard_output", "addml", "documentation", "output", "workdir", "progress", "parallel",
         "pipeline", "relations", "inspect", "profile_init", "console", "validation", "dias", "loading", "cli"]
"""Stages of ``extractor`` in flow order: a module, or a subpackage as one unit."""

DIALECTS_MAY_USE = {"extractor.errors", "extractor.model", "extractor.values", "extractor.siard",
                    *(f"extractor.siard.{m}" for m in ("archive", "metadata", "types", "layout", "rows"))}
"""What ``dialects`` may import from ``extractor``: errors, the data model, the value kinds, and the
SIARD format (read by the SIARD kind of SOURCE and by ``uttrekk validate`` alike)."""

OPENS_A_SOURCE = {"extractor.cli", "extractor.pipeline", "extractor.parallel", "extractor.inspect",
                  "extractor.profile_init"}
"""The command-level modules of ``extractor`` that may open a source through ``dialects``
(today cli, pipeline and parallel do: ``dialects.open_source``)."""

@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    deferred: bool
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


def _known(name: str) -> str | None:
    """The project module ``name`` is, or is inside (``extractor.relations.find.x`` -> its module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _deferred(parents: list[ast.AST]) -> bool:
    return any(isinstance(p, ast.FunctionDef | ast.AsyncFunctionDef) or
               (isinstance(p, ast.If) and "TYPE_CHECKING" in ast.unparse(p.test)) for p in parents)


def _imports_of(module: str, path: Path) -> list[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(ast.parse(path.read_text(encoding="utf-8")), [])]
    while stack:
        node, parents = stack.pop()
        stack += [(child, [*parents, node]) for child in ast.iter_child_nodes(node)]
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[:len(up) - (node.level - 1)]
                base = ".".join([*up, node.module] if node.module else up)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            known = _known(target)
            if known is not None and known != module:
                found.append(Import(module, known, _deferred(parents), node.lineno))
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports_of(module, path)]


def _stage(module: str) -> str:
    """``extractor.relations.find`` -> ``relations``; ``extractor.keys`` -> ``keys``."""
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_each_stage_imports_only_earlier_stages():
    rank = {m: i for i, m in enumerate(ORDER)}
    for module in MODULES:
        if module.startswith("extractor.") and module != "extractor.__main__":
            assert _stage(module) in rank, f"{module} is not placed in the layering ORDER"
    wrong = [f"{i.importer} imports the later stage {i.imported} (line {i.line})" for i in IMPORTS
             if i.importer.startswith("extractor.") and i.importer != "extractor.__main__"
             and i.imported.startswith("extractor.") and _stage(i.imported) != _stage(i.importer)
             and rank[_stage(i.imported)] > rank[_stage(i.importer)]]
    assert not wrong, "\n".join(wrong)


def test_the_extractor_package_itself_imports_nothing_from_the_project():
    """Any module may read ``extractor.__version__``: so the package's own file stands before every stage."""
    assert not [i for i in IMPORTS if i.importer == "extractor"]


def test_model_and_errors_import_nothing_from_the_project():
    for name in ("extractor.model", "extractor.errors"):
        assert not [i for i in IMPORTS if i.importer == name], name


def test_the_source_boundary_uses_only_the_model():
    assert {i.imported for i in IMPORTS if i.importer == "extractor.source_dialect"} <= {"extractor.model"}


def test_dialects_use_only_what_describes_data():
    wrong = [f"{i.importer} imports {i.imported} (line {i.line})" for i in IMPORTS
             if i.importer.split(".")[0] == "dialects" and i.imported.split(".")[0] == "extractor"
             and i.imported not in DIALECTS_MAY_USE | {"extractor"}]
    assert not wrong, "dialects may use only " + ", ".join(sorted(DIALECTS_MAY_USE)) + ":\n" + "\n".join(wrong)


def test_extractor_reaches_dialects_only_where_a_source_is_opened():
    users = {i.importer for i in IMPORTS if i.importer.split(".")[0] == "extractor" and i.imported.split(".")[0] == "dialects"}
    assert users, "no module opens a source: the test no longer sees the imports"
    assert users <= OPENS_A_SOURCE, f"{sorted(users - OPENS_A_SOURCE)} import dialects; use extractor.source_dialect"


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    every: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        every[i.importer].add(i.imported)
        if not i.deferred:
            graph[i.importer].add(i.imported)
    assert not _loops(graph), f"import cycles among imports run at load time: {_loops(graph)}"
    across = [loop for loop in _loops(every) if len({_package(m) for m in loop}) > 1]
    assert not across, f"loops through deferred imports that cross a package: {across}"


def _package(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out
