"""Regularized (aging) evolution, Real et al. 2019."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import Proposal, Strategy, score
from nasbench_sim.space import SearchSpace

__all__ = ["RegularizedEvolution"]


class RegularizedEvolution(Strategy):
    """Aging evolution: tournament selection, one-edge mutation, the oldest member dies.

    Until ``population_size`` results have come back, proposals are uniform random samples.
    Afterwards each proposal mutates the best of ``sample_size`` members drawn without
    replacement from the population; each result joins the population and the oldest member
    leaves. With several workers, results join in the order they finish.

    Args:
        population_size: members kept alive (NAS-Bench-201 used 10 on its spaces).
        sample_size: tournament size.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = RegularizedEvolution(get_space("nb201"), 12, seed=0, population_size=5)
        >>> s.population_size, s.sample_size
        (5, 3)
    """

    name = "evolution"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        population_size: int = 10,
        sample_size: int = 3,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        if population_size < 2:
            raise StrategyConfigError(f"population_size must be >= 2, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise StrategyConfigError(
                f"sample_size must lie in 1..population_size={population_size}, got {sample_size}"
            )
        self.population_size = population_size
        self.sample_size = sample_size
        self.population: deque[tuple[Any, float]] = deque(maxlen=population_size)
        self._n_random_asked = 0

    def ask(self) -> Proposal:
        if not self.population or (
            len(self.population) < self.population_size
            and self._n_random_asked < self.population_size
        ):
            self._n_random_asked += 1
            return Proposal(self.space.sample(self.rng), tag="random")
        members = list(self.population)
        pick = self.rng.choice(
            len(members), size=min(self.sample_size, len(members)), replace=False
        )
        parent = max((members[int(i)] for i in pick), key=lambda m: m[1])[0]
        return Proposal(self.space.mutate(parent, self.rng), tag="mutant")

    def tell(self, proposal: Proposal, result: Result) -> None:
        self.population.append((proposal.arch, score(result)))  # deque drops the oldest
