"""SPOS's own architecture search on a trained super-network (Guo et al., 2020, Algorithm 1).

After the super-network is trained, SPOS searches it with an evolutionary algorithm whose
fitness is the one-shot validation accuracy (inherited weights): a population of ``P = 50``
candidates; each generation keeps the ``k = 10`` best candidates seen so far, then breeds
``P / 2`` children by crossover (each edge's op taken from one of two random top-k parents)
and ``P / 2`` by mutation (each edge of a random top-k parent redrawn with probability
``0.1``). Only new candidates are evaluated: a child already evaluated is bred again, and after
:data:`REDRAWS` tries a random unvisited cell is taken (Guo et al.'s code pools the tries, 10
per child, over each operator's 25 children before filling with random cells: the same in
effect). Guo et al. run 20 generations of 50, about 1,000 candidates; here the search runs
until ``n_candidates`` distinct cells are evaluated.

The fitness is looked up in a stored array (``score_of[cell index]``), so the search itself
costs nothing here; :class:`~nasbench_sim.oneshot.strategy.SposReplay` charges the measured
scoring time per candidate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.space import Cell, NB201Space
from nasbench_sim.space.nb201 import N_EDGES, N_OPS

__all__ = ["REDRAWS", "SposSearchSettings", "spos_search"]

REDRAWS = 10
"""Children bred for one slot before a random unvisited cell takes it."""


@dataclass(frozen=True, slots=True)
class SposSearchSettings:
    """Guo et al.'s settings: population 50, top-k 10, mutation probability 0.1."""

    population: int = 50
    top_k: int = 10
    mutation_prob: float = 0.1

    def validate(self) -> None:
        """Raise :class:`StrategyConfigError` naming the bad setting."""
        if not (isinstance(self.population, int) and self.population >= 2):
            raise StrategyConfigError(f"population must be an int >= 2, got {self.population!r}")
        if not (isinstance(self.top_k, int) and 2 <= self.top_k <= self.population):
            raise StrategyConfigError(
                f"top_k must be an int in 2..population={self.population}, got {self.top_k!r}"
            )
        if not 0.0 < self.mutation_prob <= 1.0:
            raise StrategyConfigError(
                f"mutation_prob must lie in (0, 1], got {self.mutation_prob!r}"
            )


def spos_search(
    score_of: np.ndarray,
    n_candidates: int,
    rng: np.random.Generator,
    settings: SposSearchSettings | None = None,
) -> dict[int, float]:
    """Evaluated cells (index -> one-shot score) in evaluation order, ``n_candidates`` of them
    (at most the size of the space).

    Args:
        score_of: one-shot score of every cell index (length 15,625, finite).
        n_candidates: distinct cells to evaluate.
        rng: the search's random numbers.
        settings: population, top-k and mutation probability.

    Example:
        >>> scores = np.arange(15625) / 15625.0    # a made-up fitness: higher index is better
        >>> got = spos_search(scores, 500, np.random.default_rng(0))
        >>> len(got), max(got) > 15000
        (500, True)
    """
    settings = settings or SposSearchSettings()
    settings.validate()
    if not np.isfinite(score_of).all():
        raise StrategyConfigError("every cell needs a finite one-shot score to search on")
    size = int(score_of.shape[0])
    want = min(int(n_candidates), size)
    seen: dict[int, float] = {}
    visited = np.zeros(size, dtype=bool)
    ops_of = NB201Space().ops_matrix()

    def evaluate(breed: Callable[[], np.ndarray]) -> int:
        """Evaluate a new cell bred by ``breed`` (op vectors), or a random unvisited one."""
        for _ in range(REDRAWS):
            index = Cell(tuple(int(o) for o in breed())).index
            if index not in seen:
                break
        else:
            unseen = np.flatnonzero(~visited)
            index = int(unseen[rng.integers(unseen.size)])
        seen[index] = float(score_of[index])
        visited[index] = True
        return index

    def ops(index: int) -> np.ndarray:
        return ops_of[index].astype(np.int64)

    def best(pool: list[int]) -> list[int]:  # ties: the smaller index, so order never matters
        return sorted(set(pool), key=lambda i: (-seen[i], i))[: settings.top_k]

    def crossover(parents: list[np.ndarray]) -> np.ndarray:
        a, b = rng.integers(len(parents), size=2)  # independently, as Guo et al.'s code does
        return np.where(rng.random(N_EDGES) < 0.5, parents[a], parents[b])

    def mutation(parents: list[np.ndarray]) -> np.ndarray:
        child = parents[rng.integers(len(parents))].copy()
        hit = rng.random(N_EDGES) < settings.mutation_prob
        child[hit] = rng.integers(N_OPS, size=int(hit.sum()))
        return child

    population: list[int] = []
    while len(population) < settings.population and len(seen) < want:
        population.append(evaluate(lambda: rng.integers(N_OPS, size=N_EDGES)))
    top = best(population)
    n_mutants = settings.population // 2
    while len(seen) < want:
        parents = [ops(i) for i in top]
        children: list[int] = []
        for k in range(settings.population):
            if len(seen) >= want:
                break
            breed = mutation if k < n_mutants else crossover  # mutants first, as Guo et al.
            children.append(evaluate(functools.partial(breed, parents)))
        top = best(top + children)
    return seen
