"""Multi-objective random search and regularized evolution with Pareto selection."""

from __future__ import annotations

from collections import deque

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import Proposal
from nasbench_sim.search.mo.base import DEFAULT_OBJECTIVES, MultiObjectiveStrategy
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.mo.pareto import crowding_distance, nondominated_rank
from nasbench_sim.space import SearchSpace

__all__ = ["MORandomSearch", "MORegularizedEvolution"]


class MORandomSearch(MultiObjectiveStrategy):
    """Uniform random search without repeats: the baseline every multi-objective method must
    beat. Its proposals do not depend on the objectives.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = MORandomSearch(get_space("nb201"), 12, seed=0)
        >>> s.ask().tag
        'random'
    """

    name = "mo_random"

    def ask(self) -> Proposal:
        return Proposal(self.mark(self.unseen()), tag="random")

    def tell(self, proposal: Proposal, result: Result) -> None:
        self.record(result)


class MORegularizedEvolution(MultiObjectiveStrategy):
    """Regularized (aging) evolution whose tournament is won by Pareto rank, then crowding.

    Until ``population_size`` results are in, proposals are random unseen cells. Afterwards each
    proposal mutates the winner of a tournament of ``sample_size`` members drawn from the
    population: the member with the lowest non-dominated rank within the population, ties
    broken by the larger crowding distance within its front (Deb et al.'s NSGA-II order), so
    that selection spreads along the front. Each result joins the population and the oldest
    member leaves (Real et al. 2019).

    Args:
        population_size: members kept alive.
        sample_size: tournament size.
        objectives: see :class:`MultiObjectiveStrategy`.
    """

    name = "mo_evolution"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        population_size: int = 20,
        sample_size: int = 5,
        objectives: ObjectiveSet | str = DEFAULT_OBJECTIVES,
    ) -> None:
        super().__init__(space, n_epochs, seed, objectives=objectives)
        if population_size < 2:
            raise StrategyConfigError(f"population_size must be >= 2, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise StrategyConfigError(
                f"sample_size must lie in 1..population_size={population_size}, got {sample_size}"
            )
        self.population_size = population_size
        self.sample_size = sample_size
        self.population: deque[tuple[object, np.ndarray]] = deque(maxlen=population_size)

    def _winner(self) -> object:
        members = list(self.population)
        losses = np.array([m[1] for m in members])
        rank = nondominated_rank(losses)
        crowd = np.zeros(len(members))
        for r in np.unique(rank):
            on = rank == r
            crowd[on] = crowding_distance(losses[on])
        size = min(self.sample_size, len(members))
        pick = self.rng.choice(len(members), size=size, replace=False)
        best = min(pick, key=lambda i: (rank[i], -crowd[i], int(i)))
        return members[int(best)][0]

    def ask(self) -> Proposal:
        filling = len(self.asked) < self.population_size
        if not self.population or (len(self.population) < self.population_size and filling):
            return Proposal(self.mark(self.unseen()), tag="random")
        parent = self._winner()
        child = self.space.mutate(parent, self.rng)
        for _ in range(20):  # prefer a child not tried before
            if self.space.to_index(child) not in self.asked:
                break
            child = self.space.mutate(parent, self.rng)
        return Proposal(self.mark(child), tag="mutant")

    def tell(self, proposal: Proposal, result: Result) -> None:
        loss = self.record(result)
        if not np.isnan(loss).any():
            self.population.append((proposal.arch, loss))  # the deque drops the oldest
