"""The core strategies of ``nasbench_sim.search``, in the one registry shape
(:class:`~nasbench_sim.registry.Registry`).

This registry holds only what this package defines. The model-based strategies (``predictors``)
and the weight-sharing replays (``nasbench_sim.oneshot``) live above this layer; every strategy
by name is in :data:`nasbench_sim.strategies.STRATEGIES`, which extends this one. Classes are
imported only when created, so listing strategies costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_sim.bench.base import Benchmark
from nasbench_sim.registry import Entry, Registry
from nasbench_sim.search.base import Strategy
from nasbench_sim.space import SearchSpace

__all__ = [
    "CORE_STRATEGIES",
    "FEATURE_NEEDS",
    "available_strategies",
    "create",
    "lacking_features",
    "strategy_class",
]


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
        Entry(
            "reinforce",
            "nasbench_sim.search.reinforce:Reinforce",
            "REINFORCE",
            features=("decisions",),
        ),
        Entry(
            "qlearning",
            "nasbench_sim.search.qlearning:QLearning",
            "Q-learning",
            features=("edge_ops",),
        ),
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
            features=("decisions",),
        ),
        Entry(
            "optuna_random",
            "nasbench_sim.search.optuna_adapter:OptunaRandom",
            "Random (Optuna)",
            requires=("optuna",),
            features=("decisions",),
        ),
        Entry(
            "optuna_tpe_hyperband",
            "nasbench_sim.search.optuna_adapter:OptunaTPEHyperband",
            "TPE + Hyperband pruning (Optuna)",
            requires=("optuna",),
            features=("decisions",),
        ),
    ],
)
"""The strategies defined in ``nasbench_sim.search``."""


FEATURE_NEEDS: dict[str, str] = {
    "curves": "per-epoch learning curves (a lower budget the first epochs of the same run)",
    "decisions": "a space whose cells are written as categorical choices",
    "edge_ops": "NAS-Bench-201's cell layout (one op chosen on each of 6 fixed edges)",
}


def lacking_features(entry: Entry, bench: Benchmark) -> str | None:
    """Why the strategy of ``entry`` cannot run on ``bench`` for what it needs of the
    benchmark (its :attr:`~nasbench_sim.registry.Entry.features`), or ``None`` when it can.

    Example:
        >>> import nasbench_sim
        >>> lacking_features(CORE_STRATEGIES["qlearning"], nasbench_sim.open("synthetic")) is None
        True
    """
    missing = [f for f in entry.features if f not in bench.features]
    if not missing:
        return None
    space = bench.space.name
    parts = []
    for f in missing:
        text = FEATURE_NEEDS.get(f, f)
        if f == "curves":
            runs = ", ".join(map(str, bench.budgets))
            why = (
                f"its budgets {runs} epochs are separate training runs"
                if not bench.nested_budgets
                else f"it answers the budgets {runs} only"
            )
            parts.append(f"{text}, which this {space} benchmark does not offer ({why})")
        else:
            parts.append(f"{text}, which the {space!r} space does not offer")
    return "needs " + "; and ".join(parts)


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
    budgets: Sequence[int] | None = None,
    **kwargs: Any,
) -> Strategy:
    """Instantiate a registered strategy. Errors raised by its constructor (a bad
    hyper-parameter, an unsupported space) surface unchanged; arguments its signature does not
    take raise a :class:`~nasbench_sim.errors.RegistryError` naming the accepted ones.

    ``budgets`` (the benchmark's :attr:`~nasbench_sim.bench.Benchmark.budgets`) goes to the
    strategies that take it (:attr:`Strategy.accepts_budgets`), unless ``kwargs`` sets it.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = create("random", get_space("nb201"), n_epochs=12, seed=0)
        >>> s.name
        'random'
    """
    reg = registry or CORE_STRATEGIES
    if budgets is not None and "budgets" not in kwargs:
        cls = reg.load(name)
        if getattr(cls, "accepts_budgets", False):
            kwargs["budgets"] = tuple(int(b) for b in budgets)
    strategy: Strategy = reg.create(name, space, n_epochs, seed, **kwargs)
    return strategy
