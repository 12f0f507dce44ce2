"""The one sampler of cells a strategy has not seen yet, shared by every strategy.

Strategies draw fresh cells in many places (random search, a bracket's new members, a
restart, a policy that keeps sampling known cells); they all call :func:`fresh_index`, so a
draw means the same everywhere: uniform over the cells the space lets a search propose
(:meth:`~nasbench_sim.space.SearchSpace.candidates`; fewer than the whole space when the
benchmark covers only part of it), excluding what the caller has seen.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection

import numpy as np

from nasbench_sim.space import SearchSpace

__all__ = ["MAX_TRIES", "fresh_index"]

MAX_TRIES = 1000
"""Uniform draws tried before the exact fallback (drawing among the unseen cells directly)."""


def fresh_index(
    space: SearchSpace, rng: np.random.Generator, *seen: Collection[int], tries: int = MAX_TRIES
) -> int:
    """A uniformly drawn candidate cell index not in any of ``seen``.

    Draws uniformly among the space's candidates up to ``tries`` times (the draws a strategy
    makes on a large, mostly unseen space); after that, draws uniformly among the unseen
    candidates exactly. When every candidate has been seen it returns a uniform draw (a
    repeat); a strategy that wants to cycle clears its ``seen`` before that.

    Args:
        space: the space (or a restricted view) to draw from.
        rng: the strategy's generator.
        seen: indices to avoid (sets, dict keys...).
        tries: uniform draws before the exact fallback.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> space = get_space("nb201").restrict(np.arange(4))
        >>> fresh_index(space, np.random.default_rng(0), {0, 1}, {2})
        3
    """
    cells = space.candidates()
    n = int(cells.size)
    for _ in range(tries):
        i = int(cells[rng.integers(n)])
        if not any(i in s for s in seen):
            return i
    blocked = np.fromiter(itertools.chain.from_iterable(seen), dtype=np.int64)
    unseen = cells[~np.isin(cells, blocked)]
    pool = unseen if unseen.size else cells
    return int(pool[rng.integers(pool.size)])
