"""The one registry shape: errors from inside a strategy surface unchanged, and only a
genuinely missing optional dependency hides a strategy, named with how to install it."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from nasbench_sim.errors import (
    MissingDependencyError,
    RegistryError,
    StrategyConfigError,
    UnsupportedSpaceError,
)
from nasbench_sim.registry import Entry
from nasbench_sim.search import CORE_STRATEGIES, create
from nasbench_sim.space import NB201Space


def test_an_error_inside_a_constructor_surfaces_unchanged() -> None:
    """An UnsupportedSpaceError (a TypeError) is not 'rejected its arguments {}'."""
    with pytest.raises(UnsupportedSpaceError, match="space 'pairs' does not offer"):
        create("reinforce", SimpleNamespace(name="pairs"), 12)  # type: ignore[arg-type]
    with pytest.raises(StrategyConfigError, match="population_size"):
        create("evolution", NB201Space(), 12, population_size=1)


def test_arguments_the_signature_rejects_name_the_accepted_ones() -> None:
    with pytest.raises(RegistryError, match=r"valid arguments: .*population_size, sample_size"):
        create("evolution", NB201Space(), 12, populaton_size=3)


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_a_broken_import_inside_a_strategy_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in a strategy module's own imports is a bug: the strategy stays listed and
    creating it raises the ModuleNotFoundError itself."""
    mod = _module(
        tmp_path,
        monkeypatch,
        "typo_strategy_mod",
        "import nasbench_sim.search.no_such_module\n",
    )
    monkeypatch.setitem(CORE_STRATEGIES, "typo", Entry("typo", f"{mod}:Typo"))
    assert "typo" in CORE_STRATEGIES.available()
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        create("typo", NB201Space(), 12)


def test_a_missing_optional_dependency_hides_a_strategy_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = Entry("needs_x", "nowhere:Nothing", requires=("not_installed_dep_xyz",))
    monkeypatch.setitem(CORE_STRATEGIES, "needs_x", entry)
    assert "needs_x" not in CORE_STRATEGIES.available()
    why = CORE_STRATEGIES.unavailable()["needs_x"]
    assert why == (
        "strategy 'needs_x' needs not_installed_dep_xyz, which is not installed: "
        "pip install not_installed_dep_xyz"
    )
    torch = Entry("gcn_like", "nowhere:Nothing", requires=("torch",))
    text = CORE_STRATEGIES._missing_text(torch, ("torch",))
    assert text.count("torch") == 2 and text.count("(") <= 1, text  # said once, no nesting
    with pytest.raises(MissingDependencyError, match="not_installed_dep_xyz") as info:
        create("needs_x", NB201Space(), 12)
    assert info.value.module == "not_installed_dep_xyz"


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(RegistryError, match="known strategies: asha, evolution"):
        create("nope", NB201Space(), 12)
