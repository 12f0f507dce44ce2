"""The strategy registry: one explicit dict of names to ``"module:Class"`` paths.

Classes are imported only when created, so listing strategies costs nothing and a strategy whose
optional dependency is missing (e.g. torch for a GCN-guided search) does not break the others.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from nasbench_sim.errors import RegistryError
from nasbench_sim.search.base import Strategy
from nasbench_sim.space import SearchSpace

__all__ = [
    "DEFAULT_STRATEGIES",
    "STRATEGIES",
    "WEIGHT_SHARING_STRATEGIES",
    "available_strategies",
    "create",
    "strategy_class",
]

STRATEGIES: dict[str, str] = {
    "random": "nasbench_sim.search.random_search:RandomSearch",
    "evolution": "nasbench_sim.search.evolution:RegularizedEvolution",
    "local_search": "nasbench_sim.search.local_search:LocalSearch",
    "reinforce": "nasbench_sim.search.reinforce:Reinforce",
    "qlearning": "nasbench_sim.search.qlearning:QLearning",
    "successive_halving": "nasbench_sim.search.hyperband:SuccessiveHalving",
    "hyperband": "nasbench_sim.search.hyperband:Hyperband",
    "asha": "nasbench_sim.search.hyperband:ASHA",
    "optuna_tpe": "nasbench_sim.search.optuna_adapter:OptunaTPE",
    "optuna_random": "nasbench_sim.search.optuna_adapter:OptunaRandom",
    "optuna_tpe_hyperband": "nasbench_sim.search.optuna_adapter:OptunaTPEHyperband",
    "bananas": "predictors.strategies:Bananas",
    "bo_xgb": "predictors.strategies:XGBoostBO",
    "bo_gcn": "predictors.strategies:GCNBO",
    "pnas": "predictors.strategies:ProgressiveSearch",
    "random_es": "predictors.early_stopping:RandomSearchES",
    "evolution_es": "predictors.early_stopping:EvolutionES",
    "hyperband_es": "predictors.early_stopping:HyperbandES",
    "spos": "nasbench_sim.oneshot.strategy:SposReplay",
    "darts": "nasbench_sim.oneshot.strategy:DartsReplay",
    "gdas": "nasbench_sim.oneshot.strategy:GdasReplay",
}
"""Every strategy nasbench-sim knows, by the name the CLI and ``create`` use."""

WEIGHT_SHARING_STRATEGIES: tuple[str, ...] = ("spos", "darts", "gdas")
"""Replays of super-networks stored in a table file (``nasbench-sim oneshot``): they need the
stored runs as ``records=`` and are charged their super-network cost before the first query."""

DEFAULT_STRATEGIES: tuple[str, ...] = (
    "random",
    "evolution",
    "local_search",
    "reinforce",
    "hyperband",
    "optuna_tpe",
    "bo_xgb",
)
"""What ``nasbench-sim compare`` runs when no strategies are given: one of each family, sized so
that 100 seeds of all of them replay in well under a minute on two cores. The slower
model-based strategies (``bananas``, ``bo_gcn``, ``pnas``, the ``*_es`` variants) and the
rest run with ``--strategies all`` or by name."""


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under ``name``; a :class:`RegistryError` lists the valid names."""
    try:
        target = STRATEGIES[name]
    except KeyError:
        raise RegistryError(
            f"unknown strategy {name!r}; known strategies: {', '.join(sorted(STRATEGIES))}"
        ) from None
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise RegistryError(
            f"strategy {name!r} needs the module {exc.name!r}, which is not installed or not "
            "built yet"
        ) from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise RegistryError(f"strategy {name!r}: {module_name} defines no {attr}")
    return cls


def available_strategies(weight_sharing: bool = True) -> list[str]:
    """Names of the registered strategies that can be created in this installation
    (without the weight-sharing replays when ``weight_sharing`` is false)."""
    out = []
    for name in STRATEGIES:
        if not weight_sharing and name in WEIGHT_SHARING_STRATEGIES:
            continue
        try:
            strategy_class(name)
        except RegistryError:
            continue
        out.append(name)
    return out


def create(
    name: str,
    space: SearchSpace,
    n_epochs: int,
    seed: int | np.random.SeedSequence = 0,
    **kwargs: Any,
) -> Strategy:
    """Instantiate a registered strategy.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = create("random", get_space("nb201"), n_epochs=12, seed=0)
        >>> s.name
        'random'
    """
    cls = strategy_class(name)
    try:
        return cls(space, n_epochs, seed, **kwargs)
    except TypeError as exc:
        raise RegistryError(f"strategy {name!r} rejected its arguments {kwargs}: {exc}") from exc
