"""What every multi-objective strategy shares: its objectives and the archive of results.

A multi-objective strategy is an ordinary ask / tell :class:`~nasbench_sim.search.base.Strategy`
(same run loop, simulated clock, seeds and common random numbers as single-objective ones)
that reads the objective values of each result through an
:class:`~nasbench_sim.search.mo.objectives.ObjectiveSet` and compares cells by Pareto
dominance. The objectives are a constructor argument (default ``valid_acc`` against
``params``, which every benchmark reports).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.search.base import Strategy
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.sampling import fresh_index
from nasbench_sim.space import SearchSpace

__all__ = ["DEFAULT_OBJECTIVES", "MultiObjectiveStrategy"]

DEFAULT_OBJECTIVES = "valid_acc,params"
"""Objectives of a strategy created without any: accuracy against parameter count."""


class MultiObjectiveStrategy(Strategy):
    """Base of the multi-objective strategies.

    Args:
        objectives: an :class:`ObjectiveSet` (bound to the benchmark when it uses costs a
            result does not carry) or its text form, e.g. ``"valid_acc,latency_s"``.

    Attributes:
        evaluated: indices of the cells told so far, in the order told.
        losses: their objective losses ``(n, m)`` (lower is better; NaN rows for failed runs).
    """

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        objectives: ObjectiveSet | str = DEFAULT_OBJECTIVES,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        self.objectives = ObjectiveSet.parse(objectives)
        self.evaluated: list[int] = []
        self._losses: list[np.ndarray] = []
        self.asked: set[int] = set()

    @property
    def losses(self) -> np.ndarray:
        m = len(self.objectives.objectives)
        return np.array(self._losses, dtype=np.float64).reshape(-1, m)

    def record(self, result: Result) -> np.ndarray:
        """Add ``result`` to the archive and return its losses."""
        loss = self.objectives.search_losses(result)
        self.evaluated.append(int(result.index))
        self._losses.append(loss)
        return loss

    def unseen(self) -> Any:
        """A uniformly random cell not asked before (a repeat once every candidate was
        asked), drawn by the shared sampler (:func:`~nasbench_sim.search.sampling.fresh_index`)."""
        return self.space.from_index(fresh_index(self.space, self.rng, self.asked))

    def mark(self, arch: Any) -> Any:
        """Remember ``arch`` as asked and return it."""
        self.asked.add(int(self.space.to_index(arch)))
        return arch
