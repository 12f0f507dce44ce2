"""Regularized (aging) evolution, Real et al. 2019."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.checks import is_int, require_int
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import Proposal, Strategy, score
from nasbench_sim.search.sampling import fresh_index
from nasbench_sim.space import SearchSpace

__all__ = ["RegularizedEvolution"]


class RegularizedEvolution(Strategy):
    """Aging evolution: tournament selection, one-edge mutation, the oldest member dies.

    Until ``population_size`` results have come back, proposals are uniform random samples.
    Afterwards each proposal mutates the best of ``sample_size`` members drawn without
    replacement from the population; each result joins the population and the oldest member
    leaves. With several workers, results join in the order they finish.

    A mutant that was already evaluated in this run is proposed again (a free re-read, as in
    Real et al.); after ``max_repeats`` such proposals in a row the population is stuck in a
    corner of the space it has exhausted (a small or partial table), and a fresh unseen cell
    is proposed instead.

    Args:
        population_size: members kept alive (NAS-Bench-201 used 10 on its spaces).
        sample_size: tournament size.
        max_repeats: already-evaluated mutants in a row before a fresh cell is proposed.

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
        max_repeats: int = 20,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        population_size = require_int("population_size", population_size, 2, StrategyConfigError)
        sample_size = require_int("sample_size", sample_size, 1, StrategyConfigError)
        if sample_size > population_size:
            raise StrategyConfigError(
                f"sample_size must lie in 1..population_size={population_size}, got {sample_size}"
            )
        if not is_int(max_repeats) or max_repeats < 0:
            raise StrategyConfigError(f"max_repeats must be an int >= 0, got {max_repeats!r}")
        self.population_size = population_size
        self.sample_size = sample_size
        self.max_repeats = int(max_repeats)
        self._asked: set[int] = set()
        self._repeats = 0  # already-evaluated mutants proposed in a row
        self.n_restarts = 0
        self.population: deque[tuple[Any, float]] = deque(maxlen=population_size)
        self._n_random_asked = 0

    def ask(self) -> Proposal:
        if not self.population or (
            len(self.population) < self.population_size
            and self._n_random_asked < self.population_size
        ):
            self._n_random_asked += 1
            return self._proposal(self.space.sample(self.rng), "random")
        members = list(self.population)
        pick = self.rng.choice(
            len(members), size=min(self.sample_size, len(members)), replace=False
        )
        parent = max((members[int(i)] for i in pick), key=lambda m: m[1])[0]
        child = self.space.mutate(parent, self.rng)
        if self.space.to_index(child) not in self._asked:
            self._repeats = 0
        elif self._repeats < self.max_repeats:
            self._repeats += 1
        else:  # stuck: every mutant it draws is known
            self._repeats = 0
            self.n_restarts += 1
            child = self.space.from_index(fresh_index(self.space, self.rng, self._asked))
            return self._proposal(child, "restart")
        return self._proposal(child, "mutant")

    def _proposal(self, arch: Any, tag: str) -> Proposal:
        self._asked.add(self.space.to_index(arch))
        return Proposal(arch, tag=tag)

    def diagnostics(self) -> dict[str, Any]:
        """Proposals drawn at random before the population filled."""
        return {"random_proposals": self._n_random_asked, "restarts": self.n_restarts}

    def tell(self, proposal: Proposal, result: Result) -> None:
        self.population.append((proposal.arch, score(result)))  # deque drops the oldest
