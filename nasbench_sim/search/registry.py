"""The core strategies of ``nasbench_sim.search``, in the one registry shape
(:class:`~nasbench_sim.registry.Registry`).

This registry holds only what this package defines. The model-based strategies (``predictors``)
and the weight-sharing replays (``nasbench_sim.oneshot``) live above this layer; every strategy
by name is in :data:`nasbench_sim.strategies.STRATEGIES`, which extends this one. Classes are
imported only when created, so listing strategies costs nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.registry import Entry, Registry
from nasbench_sim.search.base import Strategy
from nasbench_sim.space import SearchSpace

__all__ = ["CORE_STRATEGIES", "available_strategies", "create", "strategy_class"]


CORE_STRATEGIES = Registry(
    "strategy",
    [
        Entry("random", "nasbench_sim.search.random_search:RandomSearch", "Random search"),
        Entry(
            "evolution",
            "nasbench_sim.search.evolution:RegularizedEvolution",
            "Regularized evolution",
        ),
        Entry("local_search", "nasbench_sim.search.local_search:LocalSearch", "Local search"),
        Entry("reinforce", "nasbench_sim.search.reinforce:Reinforce", "REINFORCE"),
        Entry("qlearning", "nasbench_sim.search.qlearning:QLearning", "Q-learning"),
        Entry(
            "successive_halving",
            "nasbench_sim.search.hyperband:SuccessiveHalving",
            "Successive halving",
        ),
        Entry("hyperband", "nasbench_sim.search.hyperband:Hyperband", "Hyperband"),
        Entry("asha", "nasbench_sim.search.hyperband:ASHA", "ASHA"),
        Entry(
            "optuna_tpe",
            "nasbench_sim.search.optuna_adapter:OptunaTPE",
            "TPE (Optuna)",
            requires=("optuna",),
        ),
        Entry(
            "optuna_random",
            "nasbench_sim.search.optuna_adapter:OptunaRandom",
            "Random (Optuna)",
            requires=("optuna",),
        ),
        Entry(
            "optuna_tpe_hyperband",
            "nasbench_sim.search.optuna_adapter:OptunaTPEHyperband",
            "TPE + Hyperband pruning (Optuna)",
            requires=("optuna",),
        ),
    ],
)
"""The strategies defined in ``nasbench_sim.search``."""


def strategy_class(name: str, registry: Registry | None = None) -> type[Strategy]:
    """The class registered under ``name`` (in ``registry``, default :data:`CORE_STRATEGIES`).

    Raises:
        RegistryError: an unknown name, listing the valid ones.
        MissingDependencyError: the strategy needs an optional module that is not installed.
    """
    cls: type[Strategy] = (registry or CORE_STRATEGIES).load(name)
    return cls


def available_strategies(registry: Registry | None = None) -> list[str]:
    """Names whose optional dependencies are installed (the others are listed, with the
    reason, by ``registry.unavailable()``)."""
    return (registry or CORE_STRATEGIES).available()


def create(
    name: str,
    space: SearchSpace,
    n_epochs: int,
    seed: int | np.random.SeedSequence = 0,
    *,
    registry: Registry | None = None,
    **kwargs: Any,
) -> Strategy:
    """Instantiate a registered strategy. Errors raised by its constructor (a bad
    hyper-parameter, an unsupported space) surface unchanged; arguments its signature does not
    take raise a :class:`~nasbench_sim.errors.RegistryError` naming the accepted ones.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = create("random", get_space("nb201"), n_epochs=12, seed=0)
        >>> s.name
        'random'
    """
    strategy: Strategy = (registry or CORE_STRATEGIES).create(name, space, n_epochs, seed, **kwargs)
    return strategy
