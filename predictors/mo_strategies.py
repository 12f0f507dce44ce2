"""ParEGO-style multi-objective Bayesian optimisation: the model-guided loop of
:mod:`predictors.strategies` on random Chebyshev scalarisations (Knowles 2006).

Before each model fit the strategy draws a weight vector ``λ`` uniformly from the simplex,
scales every objective's losses seen so far to ``[0, 1]`` by their observed minimum and
maximum, and fits the predictor (a bootstrap ensemble of XGBoost regressors, as ``bo_xgb``) to
the augmented Chebyshev scalarisation

    s_λ(x) = max_i λ_i f_i(x) + ρ Σ_i λ_i f_i(x),   ρ = 0.05,

negated (the loop maximises). The acquisition (independent Thompson sampling by default) then
picks the next batch among mutants of the cells best under ``s_λ`` and random cells. Each
batch thus aims at another part of the front.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.search.base import Proposal
from nasbench_sim.search.mo.base import DEFAULT_OBJECTIVES
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.space import SearchSpace
from predictors.strategies import XGBoostBO

__all__ = ["ParEGO", "chebyshev"]

RHO = 0.05
"""Weight of the linear term of the augmented Chebyshev scalarisation (Knowles 2006)."""


def chebyshev(losses: np.ndarray, weights: np.ndarray, rho: float = RHO) -> np.ndarray:
    """Augmented Chebyshev scalarisation of ``losses`` ``(n, m)`` (already scaled to [0, 1]).

    Example:
        >>> chebyshev(np.array([[0.0, 1.0], [0.5, 0.5]]), np.array([0.5, 0.5]), rho=0.0)
        array([0.5 , 0.25])
    """
    weighted = np.asarray(losses, dtype=np.float64) * np.asarray(weights, dtype=np.float64)
    return weighted.max(axis=1) + rho * weighted.sum(axis=1)


class ParEGO(XGBoostBO):
    """Model-guided search on random Chebyshev scalarisations of the objectives (see the
    module docstring).

    Args:
        objectives: see :class:`~nasbench_sim.search.mo.base.MultiObjectiveStrategy`.
        **kwargs: the arguments of :class:`~predictors.strategies.PredictorGuided`.
    """

    name = "mo_parego"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        objectives: ObjectiveSet | str = DEFAULT_OBJECTIVES,
        **kwargs: Any,
    ) -> None:
        super().__init__(space, n_epochs, seed, **kwargs)
        self.objectives = ObjectiveSet.parse(objectives)
        self._losses: list[np.ndarray] = []
        self.weights: np.ndarray | None = None  # of the latest fit

    def _plan(self) -> None:
        if len(self._losses) >= 2:
            losses = np.array(self._losses)
            low, high = losses.min(axis=0), losses.max(axis=0)
            scaled = (losses - low) / np.where(high > low, high - low, 1.0)
            self.weights = self.rng.dirichlet(np.ones(losses.shape[1]))
            self._observed_acc = list(-chebyshev(scaled, self.weights))
        super()._plan()

    def tell(self, proposal: Proposal, result: Result) -> None:
        loss = self.objectives.search_losses(result)
        if np.isnan(loss).any():
            return  # a failed training: nothing to learn from
        self._losses.append(loss)
        self._observed_idx.append(result.index)
        self._observed_acc.append(float(-loss.sum()))  # replaced by s_λ before each fit
