"""Pareto local search (Paquete, Chiarandini & Stützle 2004) over cell neighbourhoods."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import Proposal
from nasbench_sim.search.mo.base import DEFAULT_OBJECTIVES, MultiObjectiveStrategy
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.mo.pareto import dominates
from nasbench_sim.space import SearchSpace

__all__ = ["ParetoLocalSearch"]


class ParetoLocalSearch(MultiObjectiveStrategy):
    """Local search with Pareto acceptance.

    The strategy keeps an archive of the cells no evaluated cell dominates. It starts from
    ``n_init`` random cells; then it picks an archive member it has not explored yet (at
    random), proposes each of its unseen neighbours (one edge changed) in random order, and
    accepts a neighbour into the archive when no archive member dominates it (removing the
    members it dominates). A member is explored once all its neighbours have been proposed;
    when every member is explored (a Pareto local optimum), a random unseen cell restarts the
    search. With several workers, neighbours are handed out while earlier ones are still
    training.

    Args:
        n_init: random cells before the first neighbourhood.
        objectives: see :class:`MultiObjectiveStrategy`.
    """

    name = "mo_local_search"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        n_init: int = 10,
        objectives: ObjectiveSet | str = DEFAULT_OBJECTIVES,
    ) -> None:
        super().__init__(space, n_epochs, seed, objectives=objectives)
        if n_init < 1:
            raise StrategyConfigError(f"n_init must be >= 1, got {n_init}")
        self.n_init = n_init
        self.archive: dict[int, tuple[Any, np.ndarray]] = {}  # index -> (cell, losses)
        self._explored: set[int] = set()
        self._queue: deque[Any] = deque()
        self.n_restarts = 0

    def _next_neighbourhood(self) -> bool:
        """Queue the unseen neighbours of an unexplored archive member; False if none is left."""
        while True:
            open_ = sorted(i for i in self.archive if i not in self._explored)
            if not open_:
                return False
            pick = open_[int(self.rng.integers(len(open_)))]
            self._explored.add(pick)
            cells = self.space.neighbours(self.archive[pick][0])
            shuffled = [cells[int(k)] for k in self.rng.permutation(len(cells))]
            fresh = [c for c in shuffled if self.space.to_index(c) not in self.asked]
            if fresh:
                self._queue.extend(fresh)
                return True

    def ask(self) -> Proposal:
        if len(self.asked) < self.n_init:
            return Proposal(self.mark(self.unseen()), tag="init")
        while self._queue and self.space.to_index(self._queue[0]) in self.asked:
            self._queue.popleft()
        if self._queue or self._next_neighbourhood():
            return Proposal(self.mark(self._queue.popleft()), tag="neighbour")
        self.n_restarts += 1
        return Proposal(self.mark(self.unseen()), tag="restart")

    def tell(self, proposal: Proposal, result: Result) -> None:
        loss = self.record(result)
        if np.isnan(loss).any():
            return
        if any(dominates(other, loss) for _, other in self.archive.values()):
            return
        self.archive = {
            i: member for i, member in self.archive.items() if not dominates(loss, member[1])
        }
        self.archive[int(result.index)] = (proposal.arch, loss)

    def state(self) -> dict[str, Any]:
        """Archive size and restarts."""
        return {"archive": len(self.archive), "restarts": self.n_restarts}
