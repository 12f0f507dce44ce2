"""Random search: uniform samples from the space, without repeating a cell."""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.sampling import fresh_index
from nasbench_sim.space import SearchSpace

__all__ = ["RandomSearch"]


class RandomSearch(Strategy):
    """Uniform random search over the cells of the space (Li & Talwalkar 2019's baseline).

    Cells already proposed in this run are not proposed again until every cell of the space
    (every covered cell, on a partial table) has been proposed once; every proposal is
    trained for the full ``n_epochs``.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = RandomSearch(get_space("nb201"), n_epochs=12, seed=0)
        >>> str(s.ask().arch).startswith("|")
        True
    """

    name = "random"

    def __init__(
        self, space: SearchSpace, n_epochs: int, seed: int | np.random.SeedSequence = 0
    ) -> None:
        super().__init__(space, n_epochs, seed)
        self._seen: set[int] = set()

    def _fresh_index(self) -> int:
        if len(self._seen) >= self.space.n_candidates:
            self._seen.clear()
        i = fresh_index(self.space, self.rng, self._seen)
        self._seen.add(i)
        return i

    def ask(self) -> Proposal:
        return Proposal(self.space.from_index(self._fresh_index()))

    def tell(self, proposal: Proposal, result: Result) -> None:
        pass

    def diagnostics(self) -> dict[str, Any]:
        """How many distinct cells have been proposed."""
        return {"proposed": len(self._seen)}
