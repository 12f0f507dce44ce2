"""The project's structure, checked: imports run one way down the layers, and no library
function is longer than about 80 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("nasbench_sim", "predictors", "analysis")

LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "nasbench_sim.errors",
        "nasbench_sim.checks",
        "nasbench_sim.atomic",
        "nasbench_sim.registry",
        "nasbench_sim._version",
        "nasbench_sim.units",
    ),
    ("nasbench_sim.space",),
    ("nasbench_sim.table",),
    ("nasbench_sim.bench",),
    ("nasbench_sim.generate", "nasbench_sim.importers"),
    ("nasbench_sim.sources", "nasbench_sim"),  # nasbench_sim: the package's front (open...)
    ("nasbench_sim.search",),
    ("predictors", "nasbench_sim.oneshot"),
    ("nasbench_sim.strategies",),
    ("analysis",),
    ("nasbench_sim.cli", "nasbench_sim.__main__"),
)
"""Each module may import its own layer and the layers above it in this list, never one
below: space -> table -> bench -> generate / importers -> sources -> search -> predictors /
oneshot -> strategies -> analysis -> cli."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int | None:
    """The layer of ``module``: its longest matching prefix in :data:`LAYERS`."""
    best, depth = None, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > depth:
                best, depth = i, len(p)
    return best


def _library_files() -> list[Path]:
    return sorted(f for pkg in PACKAGES for f in (ROOT / pkg).rglob("*.py"))


_TARGET = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*):[A-Za-z_]\w*$")


def _imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """Every module ``module`` imports: import statements (also inside functions) and
    ``"module:attr"`` strings (a registry that imports by name imports all the same)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = _TARGET.match(node.value)
            if m and _layer(m.group(1)) is not None:
                out.append((node.lineno, m.group(1)))
    return out


def test_imports_run_one_way() -> None:
    upward = []
    for path in _library_files():
        module = _module_name(path)
        here = _layer(module)
        assert here is not None, f"{module} is in no layer of LAYERS"
        for line, target in _imports(ast.parse(path.read_text()), module):
            there = _layer(target)
            if there is not None and there > here:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)


MAX_LINES = 80
OWNED_ELSEWHERE = (
    # the build driver and trainers (and the build command's flags) are split by their owner
    "nasbench_sim/generate/",
    "nasbench_sim/cli/generate.py:register",
)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_is_longer_than_80_lines(package: str) -> None:
    long = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                key = f"{path.relative_to(ROOT)}:{node.name}"
                if n > MAX_LINES and not key.startswith(OWNED_ELSEWHERE):
                    long.append(f"{key} ({n} lines)")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_benchmarks_and_tests_use_the_library_not_the_cli_internals() -> None:
    """benchmarks/ never import from the CLI; tests import only its public entry points."""
    bad = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for line, target in _imports(ast.parse(path.read_text()), ""):
            if target.startswith("nasbench_sim.cli"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "nasbench_sim.cli"
            ):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {private}")
    assert not bad, "\n".join(bad)


def _draw_loops(tree: ast.AST) -> list[int]:
    """Lines of loops that call ``<...>space.sample(...)`` (a strategy retrying random draws
    until one is new: what :func:`nasbench_sim.search.sampling.fresh_index` is for)."""
    lines = []
    for loop in ast.walk(tree):
        if not isinstance(loop, ast.For | ast.While):
            continue
        for node in ast.walk(loop):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "sample"
                and "space" in ast.unparse(node.func.value)
            ):
                lines.append(loop.lineno)
                break
    return lines


def test_strategies_draw_unseen_cells_with_the_one_shared_sampler() -> None:
    files = [
        *(ROOT / "nasbench_sim" / "search").rglob("*.py"),
        *(ROOT / "predictors").rglob("*.py"),
    ]
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(files)
        if path.name != "sampling.py"
        for line in _draw_loops(ast.parse(path.read_text()))
    ]
    assert not found, f"retry loops of their own (use fresh_index): {found}"


def _hand_rolled_int_checks(tree: ast.AST) -> list[int]:
    """Lines of ``isinstance(x, bool)`` and ``isinstance(x, int...)`` tests joined in one
    ``and``/``or``: an integer check of its own instead of :func:`nasbench_sim.checks.is_int`."""
    lines = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.BoolOp):
            continue
        kinds = [
            ast.unparse(call.args[1])
            for call in ast.walk(node)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "isinstance"
            and len(call.args) == 2
        ]
        if "bool" in kinds and any(re.search(r"\b(int|np\.integer)\b", k) for k in kinds):
            lines.add(node.lineno)
    return sorted(lines)


def test_integer_arguments_are_checked_by_the_one_definition() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _library_files()
        if path.relative_to(ROOT).as_posix() != "nasbench_sim/checks.py"
        for line in _hand_rolled_int_checks(ast.parse(path.read_text()))
    ]
    assert not found, f"integer checks of their own (use nasbench_sim.checks.is_int): {found}"
