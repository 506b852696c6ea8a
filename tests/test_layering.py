"""The layering written in rcu_harness/__init__.py (LAYERS) is the real one.

Every import of a harness or model module, at module level or inside a
function, outside ``if TYPE_CHECKING:``, must go to the importer's own unit
or to a unit of a lower layer.  Module-level imports must not form a cycle.
And function-level imports of harness modules are kept to the few places
that load something heavy on demand for start-up time (the CLI's
subcommands, the report's renderers) and to optional dependencies imported
under ``try: ... except ImportError`` (a cluster's dask): everywhere else a
function-level import would be a cycle dodged, which the layering forbids.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rcu_harness
from rcu_harness import LAYERS

ROOT = Path(rcu_harness.__file__).resolve().parents[1]
PACKAGES = ("rcu_harness", "maple")
LAZY_IMPORTS_ALLOWED = ("rcu_harness.cli", "rcu_harness.report", "rcu_harness.oracle")
"""Units whose function-level imports load a command's code when it runs, for
start-up time: the CLI's commands and the report's renderers (each module
says so in its docstring), and the kernel oracle's, which load the model
and the builder only when a comparison runs."""


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _unit(module: str) -> tuple[int, str]:
    best: tuple[int, str] | None = None
    for rank, layer in enumerate(LAYERS):
        for unit in layer:
            if (module == unit or module.startswith(unit + ".")) and (
                    best is None or len(unit) > len(best[1])):
                best = (rank, unit)
    assert best is not None, f"{module} is in no layer of rcu_harness.LAYERS"
    return best


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                out.update(id(n) for n in ast.walk(child))
    return out


def _optional_nodes(tree: ast.AST) -> set[int]:
    """Nodes inside a ``try:`` whose handler catches ImportError: an optional
    dependency (dask for a cluster) imported where it is needed."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                h.type is not None and "ImportError" in ast.unparse(h.type)
                for h in node.handlers):
            for child in node.body:
                out.update(id(n) for n in ast.walk(child))
    return out


def _function_nodes(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.update(id(n) for n in ast.walk(node) if n is not node)
    return out


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            pkg = module.split(".") if path.name == "__init__.py" else \
                module.split(".")[:-1]
            pkg = pkg[:len(pkg) - node.level + 1]
            base = ".".join([*pkg, base] if base else pkg)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                 for a in node.names]
    return [n for n in names if n.split(".")[0] in PACKAGES]


def _imports_in(module: str, path: Path, text: str
                ) -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, at module level) outside TYPE_CHECKING."""
    tree = ast.parse(text, str(path))
    typing_only = _type_checking_nodes(tree)
    in_function = _function_nodes(tree) - _optional_nodes(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and \
                id(node) not in typing_only:
            for target in _targets(module, path, node):
                out.append((module, target, node.lineno, id(node) not in in_function))
    return out


def _imports() -> list[tuple[str, str, int, bool]]:
    return [i for module, path in MODULES.items()
            for i in _imports_in(module, path, path.read_text())]


def _upward(imports: list[tuple[str, str, int, bool]]) -> list[str]:
    wrong = []
    for importer, imported, line, _top in imports:
        (rank, unit), (their_rank, their_unit) = _unit(importer), _unit(imported)
        if unit != their_unit and their_rank >= rank:
            where = "above" if their_rank > rank else "beside"
            wrong.append(f"{importer}:{line} imports {imported} ({their_unit}, "
                         f"{where} {unit})")
    return wrong


IMPORTS = _imports()


def test_every_module_is_in_a_layer():
    for module in MODULES:
        _unit(module)


def test_no_module_imports_from_a_layer_above_its_own():
    wrong = _upward(IMPORTS)
    assert not wrong, "\n".join(wrong)


def test_module_level_imports_have_no_cycle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for importer, imported, _line, top in IMPORTS:
        if top and imported in MODULES and imported != importer:
            graph[importer].add(imported)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n):], n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m)
            assert cycle is None, " -> ".join(cycle)


def test_function_level_imports_only_where_they_load_on_demand():
    lazy = [f"{MODULES[importer].relative_to(ROOT)}:{line} imports {imported}"
            for importer, imported, line, top in IMPORTS
            if not top and not importer.startswith(LAZY_IMPORTS_ALLOWED)]
    assert not lazy, "\n".join(lazy)


def test_the_check_sees_an_upward_import_and_ignores_type_hints():
    text = ("from typing import TYPE_CHECKING\n"
            "from rcu_harness.sched.seeds import derive\n"
            "if TYPE_CHECKING:\n"
            "    from rcu_harness.cli import main\n"
            "def f():\n"
            "    from rcu_harness.runner.run import run_execution\n")
    found = _imports_in("rcu_harness.sched.bad", ROOT / "rcu_harness" / "sched" /
                        "bad.py", text)
    assert [(i[1], i[3]) for i in found] == [("rcu_harness.sched.seeds", True),
                                             ("rcu_harness.runner.run", False)]
    assert _upward(found) == ["rcu_harness.sched.bad:6 imports rcu_harness.runner.run"
                              " (rcu_harness.runner, above rcu_harness.sched)"]
