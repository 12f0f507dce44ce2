"""The multi-objective strategies by name, with the shape of the single-objective registry
(:mod:`nasbench_sim.search.registry`): ``"module:Class"`` paths imported when created."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from nasbench_sim.errors import RegistryError
from nasbench_sim.search.base import Strategy
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.space import SearchSpace

__all__ = ["DEFAULT_MO_STRATEGIES", "MO_STRATEGIES", "create_mo", "mo_strategy_class"]

MO_STRATEGIES: dict[str, str] = {
    "mo_random": "nasbench_sim.search.mo.simple:MORandomSearch",
    "mo_evolution": "nasbench_sim.search.mo.simple:MORegularizedEvolution",
    "mo_local_search": "nasbench_sim.search.mo.local_search:ParetoLocalSearch",
    "mo_nsga2": "nasbench_sim.search.mo.optuna_mo:OptunaNSGAII",
    "mo_tpe": "nasbench_sim.search.mo.optuna_mo:OptunaMOTPE",
    "mo_parego": "predictors.mo_strategies:ParEGO",
}
"""Every multi-objective strategy, by the name ``compare --objectives`` uses."""

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


def mo_strategy_class(name: str) -> type[Strategy]:
    """The class registered under ``name``; a :class:`RegistryError` lists the valid names."""
    try:
        target = MO_STRATEGIES[name]
    except KeyError:
        raise RegistryError(
            f"unknown multi-objective strategy {name!r}; known: {', '.join(MO_STRATEGIES)}"
        ) from None
    module_name, _, attr = target.partition(":")
    cls: type[Strategy] = getattr(importlib.import_module(module_name), attr)
    return cls


def create_mo(
    name: str,
    space: SearchSpace,
    n_epochs: int,
    seed: int | np.random.SeedSequence = 0,
    *,
    objectives: ObjectiveSet | str | None = None,
    **kwargs: Any,
) -> Strategy:
    """Instantiate a multi-objective strategy for ``objectives`` (default: its own default).

    Example:
        >>> from nasbench_sim.space import get_space
        >>> create_mo("mo_evolution", get_space("nb201"), 12, 0, objectives="valid_acc,flops").name
        'mo_evolution'
    """
    cls = mo_strategy_class(name)
    if objectives is not None:
        kwargs["objectives"] = objectives
    return cls(space, n_epochs, seed, **kwargs)
