"""Local search (White, Nolen, Ravi & Savani 2020, "Local search is state of the art for NAS")."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import Proposal, Strategy, score
from nasbench_sim.search.sampling import fresh_index
from nasbench_sim.space import SearchSpace

__all__ = ["LocalSearch"]


class LocalSearch(Strategy):
    """Hill climbing over the one-edge neighbourhood with random restarts.

    Starts from the best of ``n_init`` random cells. Evaluates the whole neighbourhood of the
    current cell (in random order, skipping cells already evaluated in this run), then moves to
    the best neighbour if it beats the current cell, else restarts from a fresh random cell
    (a local optimum). With several workers, a worker that would wait for the rest of a
    neighbourhood gets a random cell instead, which also seeds the next restart.

    Args:
        n_init: random cells evaluated before the first climb.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = LocalSearch(get_space("nb201"), 12, seed=0, n_init=4)
        >>> [s.ask().tag for _ in range(4)]
        ['init', 'init', 'init', 'init']
    """

    name = "local_search"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        n_init: int = 10,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        if n_init < 1:
            raise StrategyConfigError(f"n_init must be >= 1, got {n_init}")
        self.n_init = n_init
        self._seen: dict[int, float] = {}  # index -> score (nan while pending)
        self._asked_init = 0
        self._pending_init = 0
        self.current: tuple[Any, float] | None = None
        self._queue: deque[Any] = deque()  # neighbours still to propose
        self._outstanding = 0  # neighbours proposed, not yet told
        self._best_neighbour: tuple[Any, float] | None = None
        self.n_restarts = 0
        self._restart_pool: list[tuple[Any, float]] = []

    def _random_fresh(self) -> Any:
        return self.space.from_index(fresh_index(self.space, self.rng, self._seen))

    def _mark(self, arch: Any) -> None:
        self._seen.setdefault(self.space.to_index(arch), float("nan"))

    def _start_climb(self, arch: Any, acc: float) -> None:
        self.current = (arch, acc)
        nbrs = [a for a in self.space.neighbours(arch) if self.space.to_index(a) not in self._seen]
        order = self.rng.permutation(len(nbrs))
        self._queue = deque(nbrs[int(i)] for i in order)
        self._outstanding = 0
        self._best_neighbour = None
        if not self._queue:  # every neighbour already evaluated: a local optimum by exhaustion
            self.current = None
            self.n_restarts += 1

    def diagnostics(self) -> dict[str, Any]:
        """Restarts from a local optimum."""
        return {"restarts": self.n_restarts}

    def ask(self) -> Proposal:
        if self._asked_init < self.n_init:
            self._asked_init += 1
            self._pending_init += 1
            arch = self._random_fresh()
            self._mark(arch)
            return Proposal(arch, tag="init")
        if self.current is not None and self._queue:
            arch = self._queue.popleft()
            self._mark(arch)
            self._outstanding += 1
            return Proposal(arch, tag="neighbour")
        arch = self._random_fresh()  # waiting on results, or the climb has not started yet
        self._mark(arch)
        return Proposal(arch, tag="restart")

    def tell(self, proposal: Proposal, result: Result) -> None:
        acc = score(result)
        self._seen[result.index] = acc
        if proposal.tag == "init":
            self._pending_init -= 1
            self._restart_pool.append((proposal.arch, acc))
            if self._pending_init == 0 and self.current is None:
                self._start_climb(*max(self._restart_pool, key=lambda m: m[1]))
                self._restart_pool.clear()
            return
        if proposal.tag == "restart":
            self._restart_pool.append((proposal.arch, acc))
            if self.current is None and self._pending_init == 0:
                self._start_climb(*max(self._restart_pool, key=lambda m: m[1]))
                self._restart_pool.clear()
            return
        # a neighbour of the current cell
        self._outstanding -= 1
        if self._best_neighbour is None or acc > self._best_neighbour[1]:
            self._best_neighbour = (proposal.arch, acc)
        if self._queue or self._outstanding > 0:
            return
        assert self.current is not None
        if self._best_neighbour is not None and self._best_neighbour[1] > self.current[1]:
            self._start_climb(*self._best_neighbour)
        else:  # local optimum: restart from the best fresh random cell seen meanwhile, or anew
            self.n_restarts += 1
            if self._restart_pool:
                self._start_climb(*max(self._restart_pool, key=lambda m: m[1]))
                self._restart_pool.clear()
            else:
                self.current = None
