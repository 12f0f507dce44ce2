"""The multi-objective strategies of ``nasbench_sim.search.mo``, in the one registry shape
(:class:`~nasbench_sim.registry.Registry`).

This registry holds only what this package defines; ParEGO (``mo_parego``, in ``predictors``)
joins them in :data:`nasbench_sim.strategies.MO_STRATEGIES`, above both layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.registry import Entry, Registry
from nasbench_sim.search.base import Strategy
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.space import SearchSpace

__all__ = ["CORE_MO_STRATEGIES", "DEFAULT_MO_STRATEGIES", "create_mo", "mo_strategy_class"]

CORE_MO_STRATEGIES = Registry(
    "multi-objective strategy",
    [
        Entry("mo_random", "nasbench_sim.search.mo.simple:MORandomSearch", "Random search (MO)"),
        Entry(
            "mo_evolution",
            "nasbench_sim.search.mo.simple:MORegularizedEvolution",
            "Reg. evolution (Pareto)",
        ),
        Entry(
            "mo_local_search",
            "nasbench_sim.search.mo.local_search:ParetoLocalSearch",
            "Pareto local search",
        ),
        Entry(
            "mo_nsga2",
            "nasbench_sim.search.mo.optuna_mo:OptunaNSGAII",
            "NSGA-II (Optuna)",
            requires=("optuna",),
            features=("decisions",),
        ),
        Entry(
            "mo_tpe",
            "nasbench_sim.search.mo.optuna_mo:OptunaMOTPE",
            "MOTPE (Optuna)",
            requires=("optuna",),
            features=("decisions",),
        ),
    ],
)
"""The multi-objective strategies defined in ``nasbench_sim.search.mo``."""

DEFAULT_MO_STRATEGIES: tuple[str, ...] = (
    "mo_random",
    "mo_evolution",
    "mo_local_search",
    "mo_nsga2",
    "mo_tpe",
)
"""What a multi-objective comparison runs when no strategies are given: five, sized so that 50
seeds of each replay within two minutes on two cores (``benchmarks/mo_compare_speed.py``).
ParEGO, which refits a model ensemble every ten results, runs by name (``mo_parego``)."""


def mo_strategy_class(name: str, registry: Registry | None = None) -> type[Strategy]:
    """The class registered under ``name`` (in ``registry``, default the core ones); a
    :class:`~nasbench_sim.errors.RegistryError` lists the valid names."""
    cls: type[Strategy] = (registry or CORE_MO_STRATEGIES).load(name)
    return cls


def create_mo(
    name: str,
    space: SearchSpace,
    n_epochs: int,
    seed: int | np.random.SeedSequence = 0,
    *,
    objectives: ObjectiveSet | str | None = None,
    registry: Registry | None = None,
    **kwargs: Any,
) -> Strategy:
    """Instantiate a multi-objective strategy for ``objectives`` (default: its own default).

    Example:
        >>> from nasbench_sim.space import get_space
        >>> create_mo("mo_evolution", get_space("nb201"), 12, 0, objectives="valid_acc,flops").name
        'mo_evolution'
    """
    if objectives is not None:
        kwargs["objectives"] = objectives
    strategy: Strategy = (registry or CORE_MO_STRATEGIES).create(
        name, space, n_epochs, seed, **kwargs
    )
    return strategy
