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


# Services: typed and keyword-only, so that every call names what it passes.
SERVICE_MODULES = (
    "orders/services/**/*.py",
    "orders/selectors.py",
    "inventory/services.py",
    "integrations/services.py",
    "sync/*.py",
)
# Fast paths shaped like Django's own helpers (a model, then rows), called in tight loops.
POSITIONAL_MODULES_ALLOWED = {"orders.services.bulk", "orders.services.lookups"}
POSITIONAL_ALLOWED = {
    # Pure value helpers, not services: one or two values in, one value out.
    "orders.services.delivery.claims.retry_delay",
    "orders.services.records.health.doubling_delay",
    "orders.services.records.health.backoff",
    "orders.services.tracking.outcomes.push_retry_delay",
    "orders.services.records.health.failure_kind",
    "orders.services.records.locks.lock_key",
    "sync.schedules.schedule_name",
    "orders.services.translation.cust_ref.clean",
    "orders.services.translation.cust_ref.allowed_pattern",
    "orders.services.translation.cart_fields.fit",
    "orders.services.translation.cart_fields.jsonable",
    "orders.services.translation.addresses.country_code",
    "orders.services.translation.addresses.subdivision_code",
    "orders.services.delivery.reference_check.order_differences",
    "orders.services.records.sync_runs.counting_into",
    # Builders of a message, a hold or an error from the values they describe.
    "orders.services.delivery.claims.delivered_message",
    "orders.services.delivery.reference_check.already_there_message",
    "orders.services.delivery.reference_check.reference_taken_reason",
    "orders.services.delivery.reference_check.reference_unreadable",
    "orders.services.translation.translate.unknown_sku_hold",
    "sync.alerts.digest_text",
    "sync.cycle.summary",
    # Signal receivers: Django calls them with the sender as the first positional argument.
    "sync.signals.connection_changed",
    "sync.signals.worker_started",
    "sync.signals.worker_takes_task",
}


def service_functions() -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(dotted name, node) of every public module-level function of the service modules."""
    paths = sorted({path for pattern in SERVICE_MODULES for path in ROOT.glob(pattern)})
    for path in paths:
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
                yield f"{module}.{node.name}", node


def test_services_are_keyword_only_and_typed():
    """Public service functions take typed keyword-only arguments and say what they return; the
    allowance names the few that stay positional, and an entry that no longer applies fails too."""
    found, positional = [], set()
    for name, node in service_functions():
        if node.returns is None:
            found.append(f"{name}: no return annotation")
        arguments = node.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
        untyped = [argument.arg for argument in every if argument is not None and argument.annotation is None]
        if untyped:
            found.append(f"{name}: no annotation on {', '.join(untyped)}")
        if node.args.posonlyargs or node.args.args or node.args.vararg:
            positional.add(name)
            if name not in POSITIONAL_ALLOWED and name.rsplit(".", 1)[0] not in POSITIONAL_MODULES_ALLOWED:
                found.append(f"{name}: positional parameters (make them keyword-only: `def f(*, a: A)`)")
    found += [
        f"{name}: allowed positional but is not (drop it from the allowance)"
        for name in POSITIONAL_ALLOWED - positional
    ]
    stale_modules = POSITIONAL_MODULES_ALLOWED - {name.rsplit(".", 1)[0] for name in positional}
    found += [f"{module}: allowed positional but has no positional function" for module in stale_modules]
    assert not found, "\n".join(found)
