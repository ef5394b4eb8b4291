"""The house in layers: the contract in pyproject.toml, no import circle, no private name
crossing modules, and imports inside functions only where they keep start-up light."""
from __future__ import annotations

import ast
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autograd_lab"

# The one place that says where an import may sit inside a function, and why: each keeps a
# start-up light that would otherwise load torch, SymPy or matplotlib for nothing.
LAZY_IMPORTS = {
    "autograd_lab/__init__.py": "`import autograd_lab` stays light: its names, and the "
                                "installed version, are found on first use",
    "autograd_lab/cli.py": "`--help` imports click alone, and `check` forks its drawing "
                           "processes before torch and SymPy load",
    "autograd_lab/plugin.py": "pytest starts in every project where autograd-lab is installed; "
                              "the checker loads when the first case runs",
    "autograd_lab/reports/_plots.py": "matplotlib loads only where a figure is drawn",
}


def test_the_layering_contract_holds():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_import_circle():
    graph = grimp.build_graph("autograd_lab", include_external_packages=False)
    modules = sorted(graph.modules)
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == 1:
                circles.append(path[path.index(imported):] + [imported])
            elif imported not in state:
                visit(imported, path + [imported])
        state[module] = 2
    for module in modules:
        if module not in state:
            visit(module, [module])
    # a package's __init__ importing its own modules is how names are re-exported
    circles = [c for c in circles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert circles == []


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_imports_another_modules_private_name():
    """`from x import _name` (but a package's own `from . import _module`), and `m._name`
    where m is a name imported from this project."""
    found = []
    for where, tree in _modules():
        ours = set()    # names bound by imports from this project
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "")
                                                     .startswith("autograd_lab")):
                for alias in node.names:
                    sibling = node.level == 1 and not node.module   # from . import _x
                    if _private(alias.name) and not sibling:
                        found.append(f"{where}:{node.lineno} imports {alias.name}")
                    ours.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and _private(node.attr)
                    and isinstance(node.value, ast.Name) and node.value.id in ours):
                found.append(f"{where}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert found == []


def test_imports_inside_functions_only_where_they_keep_start_up_light():
    found = []
    for where, tree in _modules():
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and where not in LAZY_IMPORTS:
                    found.append(f"{where}:{node.lineno} in {function.name}()")
    assert found == []
