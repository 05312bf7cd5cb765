"""The shape of the house, kept true by the suite.

The layers and the forbidden imports are import-linter contracts (`.importlinter` at the root:
integrations < orders < inventory < sync, the merchant pages and the sandbox on top, interface
modules free to import any layer). The rules below are the ones import-linter cannot state: no
private name is imported from another of our modules, nothing in the product imports the sandbox
even inside a function, and the graph is not dodged with `apps.get_model` or import strings.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
OURS = ("config", "integrations", "orders", "inventory", "sync", "portal", "sandbox")
PRODUCT = tuple(package for package in OURS if package != "sandbox")

# The admin's autocomplete finds the model of the field it completes from the request, as
# Django's own autocomplete view does.
DYNAMIC_LOOKUPS_ALLOWED = {("integrations.admin", "get_model")}
DYNAMIC_LOOKUPS = {"get_model", "import_module", "import_string", "__import__"}


def modules(packages: tuple[str, ...]) -> Iterator[tuple[str, Path, ast.Module]]:
    """(dotted name, path, syntax tree) of every module of `packages`, migrations aside."""
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path, ast.parse(path.read_text(), filename=str(path))


def imported_from(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an `ImportFrom` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def is_ours(module: str) -> bool:
    return module.split(".")[0] in OURS


def test_import_contracts_hold():
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True) == 0


def test_no_private_name_is_imported_from_another_module():
    found = set()
    for name, path, tree in modules(OURS):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and is_ours(source := imported_from(name, path, node)):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                found |= {(name, p) for p in private if source != name}
    assert found == set()


def test_no_product_module_imports_the_sandbox():
    found = []
    for name, path, tree in modules(PRODUCT):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(name, a.name) for a in node.names if a.name.split(".")[0] == "sandbox"]
            elif isinstance(node, ast.ImportFrom) and imported_from(name, path, node).split(".")[0] == "sandbox":
                found.append((name, node.module))
    assert not found, "\n".join(found)


def test_the_graph_is_not_dodged_with_dynamic_lookups():
    found = set()
    for name, _path, tree in modules(PRODUCT):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called in DYNAMIC_LOOKUPS:
                    found.add((name, called))
    assert found - DYNAMIC_LOOKUPS_ALLOWED == set()


# Functions and modules that fit in a head.
FUNCTION_SOFT, FUNCTION_HARD = 60, 80
MODULE_SOFT, MODULE_HARD = 400, 500
LONG_BECAUSE = re.compile(r"^\s*Long because \S", re.MULTILINE)


def functions(tree: ast.AST, prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) of every function and method in `tree`, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}.{node.name}", node
            yield from functions(node, f"{prefix}.{node.name}")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}.{node.name}")
        else:
            yield from functions(node, prefix)


def sizes() -> Iterator[tuple[str, int, int, int, str]]:
    """(qualified name, lines, soft limit, hard limit, docstring) of every module and function of ours.

    A function is measured from its `def` line (decorators aside) to its last line, docstring
    included; a module by its number of lines.
    """
    for name, path, tree in modules(OURS):
        lines = len(path.read_text().splitlines())
        yield name, lines, MODULE_SOFT, MODULE_HARD, ast.get_docstring(tree) or ""
        for qualified, node in functions(tree, name):
            length = node.end_lineno - node.lineno + 1
            yield qualified, length, FUNCTION_SOFT, FUNCTION_HARD, ast.get_docstring(node) or ""


def test_functions_and_modules_fit_in_a_head():
    """Functions over 60 lines and modules over 400 lines need a reason, and none goes over 80 or 500.

    The reason is a line of the function's (or module's) docstring that begins "Long because ",
    saying why a split would hurt reading (a table, a linear protocol).
    """
    found = []
    for name, lines, soft, hard, docstring in sizes():
        if lines > hard:
            found.append(f"{name}: {lines} lines, at most {hard}")
        elif lines > soft and not LONG_BECAUSE.search(docstring):
            found.append(f"{name}: {lines} lines, over {soft} with no 'Long because' in its docstring")
    assert not found, "\n".join(found)
