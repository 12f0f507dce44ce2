"""NSGA-II and multi-objective TPE: Optuna's own samplers through the Optuna adapter.

The adapter (:class:`~nasbench_sim.search.optuna_adapter.OptunaStrategy`) maps a cell to one
categorical parameter per edge and runs Optuna's ask / tell; here the study gets one direction
per objective and each trial is told the result's objective values, so Optuna's
``NSGAIISampler`` (Deb et al. 2002) and ``TPESampler`` in its multi-objective form (MOTPE,
Ozaki et al. 2020) do the searching, unchanged. Optuna prunes no multi-objective study, so
these strategies train every cell to the full budget.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import optuna

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.mo.base import DEFAULT_OBJECTIVES
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.optuna_adapter import OptunaStrategy
from nasbench_sim.space import SearchSpace

__all__ = ["OptunaMOTPE", "OptunaNSGAII"]


class _OptunaMultiObjective(OptunaStrategy):
    """An :class:`OptunaStrategy` whose study optimises several objectives at once."""

    preset: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        objectives: ObjectiveSet | str = DEFAULT_OBJECTIVES,
        **kwargs: Any,
    ) -> None:
        self.objectives = ObjectiveSet.parse(objectives)
        fixed = [k for k in ("sampler", "pruner") if k in kwargs]
        if fixed:
            raise StrategyConfigError(
                f"{self.name} fixes {', '.join(fixed)} (Optuna prunes no multi-objective study)"
            )
        super().__init__(space, n_epochs, seed, **{**self.preset, **kwargs})

    def _directions(self) -> list[Literal["minimize", "maximize"]]:
        objectives = self.objectives.objectives
        return ["maximize" if o.direction == "max" else "minimize" for o in objectives]

    def _value(self, result: Result) -> np.ndarray:
        return self.objectives.search_values(result)


class OptunaNSGAII(_OptunaMultiObjective):
    """Optuna's ``NSGAIISampler``: non-dominated sorting and crowding-distance selection,
    uniform crossover of the edge choices and mutation.

    Args:
        population_size: individuals per generation (default 20, sized for budgets of about
            150 trainings: several generations).

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = OptunaNSGAII(get_space("nb201"), 12, seed=0, objectives="valid_acc,flops")
        >>> s.study.directions[1].name
        'MINIMIZE'
    """

    name = "mo_nsga2"
    preset: ClassVar[dict[str, Any]] = {
        "sampler": optuna.samplers.NSGAIISampler,
        "population_size": 20,
    }


class OptunaMOTPE(_OptunaMultiObjective):
    """Optuna's ``TPESampler`` on a multi-objective study (MOTPE): the good / bad split of the
    trials by non-dominated rank and hypervolume contribution, multivariate, with the constant
    liar when trials overlap."""

    name = "mo_tpe"
    preset: ClassVar[dict[str, Any]] = {
        "sampler": "tpe",
        "n_startup_trials": 10,
        "multivariate": True,
        "constant_liar": "auto",
    }
